//! String commands.

use bytes::Bytes;

use super::{arg_f64, arg_i64, is, lookup_read, lookup_write, modified, notify};
use crate::config::notify as class;
use crate::dispatch::{acl, errors, flags as f, CommandSpec, Keys};
use crate::keyspace::{now_ms, Value};
use crate::protocol::encode::format_double_human;
use crate::server::client::Client;
use crate::server::propagate::{self, del_argv};
use crate::server::Engine;
use crate::util::num;

const SET_NX: u32 = 1 << 0;
const SET_XX: u32 = 1 << 1;
const SET_GET: u32 = 1 << 2;
const KEEPTTL: u32 = 1 << 3;
const PERSIST: u32 = 1 << 4;
const EX: u32 = 1 << 5;
const PX: u32 = 1 << 6;
const EXAT: u32 = 1 << 7;
const PXAT: u32 = 1 << 8;
const ANY_EXPIRE: u32 = EX | PX | EXAT | PXAT;

#[derive(PartialEq, Eq, Clone, Copy)]
enum Which {
    Set,
    GetEx,
}

/// Parses SET / GETEX options as Redis's parseExtendedStringArgumentsOrReply.
fn parse_opts<'a>(
    c: &mut Client,
    args: &'a [Bytes],
    which: Which,
) -> Option<(u32, Option<&'a [u8]>)> {
    let mut fl = 0u32;
    let mut expire = None;
    let mut j = if which == Which::GetEx { 2 } else { 3 };
    let set = which == Which::Set;
    while j < args.len() {
        let opt = &args[j][..];
        let has_next = j + 1 < args.len();
        if is(opt, "nx") && fl & SET_XX == 0 && set {
            fl |= SET_NX;
        } else if is(opt, "xx") && fl & SET_NX == 0 && set {
            fl |= SET_XX;
        } else if is(opt, "get") && set {
            fl |= SET_GET;
        } else if is(opt, "keepttl") && fl & (PERSIST | ANY_EXPIRE) == 0 && set {
            fl |= KEEPTTL;
        } else if is(opt, "persist") && !set && fl & (ANY_EXPIRE | KEEPTTL) == 0 {
            fl |= PERSIST;
        } else if is(opt, "ex") && fl & (KEEPTTL | PERSIST | EXAT | PX | PXAT) == 0 && has_next {
            fl |= EX;
            expire = Some(&args[j + 1][..]);
            j += 1;
        } else if is(opt, "px") && fl & (KEEPTTL | PERSIST | EX | EXAT | PXAT) == 0 && has_next {
            fl |= PX;
            expire = Some(&args[j + 1][..]);
            j += 1;
        } else if is(opt, "exat") && fl & (KEEPTTL | PERSIST | EX | PX | PXAT) == 0 && has_next {
            fl |= EXAT;
            expire = Some(&args[j + 1][..]);
            j += 1;
        } else if is(opt, "pxat") && fl & (KEEPTTL | PERSIST | EX | EXAT | PX) == 0 && has_next {
            fl |= PXAT;
            expire = Some(&args[j + 1][..]);
            j += 1;
        } else {
            c.reply().error(errors::SYNTAX);
            return None;
        }
        j += 1;
    }
    Some((fl, expire))
}

/// The absolute deadline (ms) for an expire argument, as Redis's
/// getExpireMillisecondsOrReply.
fn deadline(c: &mut Client, raw: &[u8], fl: u32, cmd: &str) -> Option<i64> {
    let n = arg_i64(c, raw)?;
    let seconds = fl & (EX | EXAT) != 0;
    if n <= 0 || (seconds && n > i64::MAX / 1000) {
        c.reply().error(&errors::invalid_expire(cmd));
        return None;
    }
    let mut ms = if seconds { n * 1000 } else { n };
    if fl & (EX | PX) != 0 {
        ms = ms.wrapping_add(now_ms());
    }
    if ms <= 0 {
        c.reply().error(&errors::invalid_expire(cmd));
        return None;
    }
    Some(ms)
}

/// Replies with the string at `key` (or null); false on WRONGTYPE.
fn reply_get(e: &mut Engine, c: &mut Client, key: &[u8]) -> bool {
    let dbi = c.db;
    match lookup_read(e, dbi, key) {
        None => {
            c.reply().null();
            true
        }
        Some(entry) => match entry.value.str_ref() {
            Some(mut s) => {
                let mut out = c.reply();
                s.with(|b| out.bulk(b));
                true
            }
            None => {
                c.reply().error(errors::WRONGTYPE);
                false
            }
        },
    }
}

/// GET key
fn get(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    reply_get(e, c, &args[1]);
}

/// SET key value [NX | XX] [GET] [EX seconds | PX milliseconds |
/// EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]
fn set(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some((fl, expire)) = parse_opts(c, args, Which::Set) else {
        return;
    };
    if fl & SET_GET != 0 && expire.is_none() && e.propagating() {
        // Replays without GET (an expire rewrites the whole command).
        let kept = args
            .iter()
            .enumerate()
            .filter(|(j, a)| *j < 3 || !is(a, "get"))
            .map(|(_, a)| a.clone())
            .collect();
        e.propagate_as(kept);
    }
    set_generic(e, c, &args[1], &args[2], fl, expire, "set");
}

fn set_generic(
    e: &mut Engine,
    c: &mut Client,
    key: &[u8],
    val: &[u8],
    fl: u32,
    expire: Option<&[u8]>,
    cmd: &str,
) {
    let at = match expire {
        Some(raw) => match deadline(c, raw, fl, cmd) {
            Some(ms) => Some(ms),
            None => return,
        },
        None => None,
    };
    if fl & SET_GET != 0 && !reply_get(e, c, key) {
        return;
    }
    let dbi = c.db;
    let found = lookup_write(e, dbi, key).is_some();
    if (fl & SET_NX != 0 && found) || (fl & SET_XX != 0 && !found) {
        if fl & SET_GET == 0 {
            c.reply().null();
        }
        return;
    }
    let db = &mut e.ks.dbs[dbi];
    db.set(key, Value::string(val), fl & KEEPTTL != 0);
    if let Some(ms) = at {
        db.set_expire(key, ms);
    }
    if e.propagating() {
        if let Some(ms) = at {
            // Replays as SET key value PXAT <absolute ms>.
            let ms = itoa::Buffer::new().format(ms).as_bytes().to_vec();
            e.propagate_as(propagate::argv(&[b"SET", key, val, b"PXAT", &ms]));
        }
    }
    modified(e, c, dbi, key);
    notify(e, c, class::STRING, "set", dbi, key);
    if at.is_some() {
        notify(e, c, class::GENERIC, "expire", dbi, key);
    }
    if fl & SET_GET == 0 {
        c.reply().ok();
    }
}

/// SETNX key value
fn setnx(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let dbi = c.db;
    if lookup_write(e, dbi, &args[1]).is_some() {
        c.reply().int(0);
        return;
    }
    e.ks.dbs[dbi].set(&args[1], Value::string(&args[2]), false);
    modified(e, c, dbi, &args[1]);
    notify(e, c, class::STRING, "set", dbi, &args[1]);
    c.reply().int(1);
}

/// SETEX key seconds value
fn setex(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    set_generic(e, c, &args[1], &args[3], EX, Some(&args[2]), "setex");
}

/// PSETEX key milliseconds value
fn psetex(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    set_generic(e, c, &args[1], &args[3], PX, Some(&args[2]), "psetex");
}

/// GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
/// PXAT unix-time-milliseconds | PERSIST]
fn getex(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some((fl, expire)) = parse_opts(c, args, Which::GetEx) else {
        return;
    };
    let key = &args[1];
    let dbi = c.db;
    let Some(entry) = lookup_read(e, dbi, key) else {
        c.reply().null();
        return;
    };
    if entry.value.str_ref().is_none() {
        c.reply().error(errors::WRONGTYPE);
        return;
    }
    let at = match expire {
        Some(raw) => match deadline(c, raw, fl, "getex") {
            Some(ms) => Some(ms),
            None => return,
        },
        None => None,
    };
    reply_get(e, c, key);
    let db = &mut e.ks.dbs[dbi];
    match at {
        Some(ms) if fl & (EXAT | PXAT) != 0 && ms <= now_ms() => {
            db.remove(key);
            let lazy = e.config.lazyfree_lazy_expire;
            e.propagate_as(del_argv(lazy, key));
            modified(e, c, dbi, key);
            notify(e, c, class::GENERIC, "del", dbi, key);
        }
        Some(ms) => {
            db.set_expire(key, ms);
            let ms = itoa::Buffer::new().format(ms).as_bytes().to_vec();
            e.propagate_as(propagate::argv(&[b"PEXPIREAT", key, &ms]));
            modified(e, c, dbi, key);
            notify(e, c, class::GENERIC, "expire", dbi, key);
        }
        None if fl & PERSIST != 0 && db.persist(key) => {
            e.propagate_as(propagate::argv(&[b"PERSIST", key]));
            modified(e, c, dbi, key);
            notify(e, c, class::GENERIC, "persist", dbi, key);
        }
        None => {}
    }
}

/// GETDEL key
fn getdel(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if reply_get(e, c, &args[1]) {
        let dbi = c.db;
        if e.ks.dbs[dbi].remove(&args[1]).is_some() {
            let lazy = e.config.lazyfree_lazy_user_del;
            e.propagate_as(del_argv(lazy, &args[1]));
            modified(e, c, dbi, &args[1]);
            notify(e, c, class::GENERIC, "del", dbi, &args[1]);
        }
    }
}

/// GETSET key value
fn getset(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if !reply_get(e, c, &args[1]) {
        return;
    }
    let dbi = c.db;
    e.ks.dbs[dbi].set(&args[1], Value::string(&args[2]), false);
    if e.propagating() {
        e.propagate_as(propagate::argv(&[b"SET", &args[1], &args[2]]));
    }
    modified(e, c, dbi, &args[1]);
    notify(e, c, class::STRING, "set", dbi, &args[1]);
}

/// MGET key [key ...]
fn mget(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    c.reply().array(args.len() - 1);
    let dbi = c.db;
    for key in &args[1..] {
        let v = lookup_read(e, dbi, key).and_then(|en| en.value.to_bytes());
        match v {
            Some(b) => c.reply().bulk(&b),
            None => c.reply().null(),
        }
    }
}

/// MSET key value [key value ...]
fn mset(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if args.len().is_multiple_of(2) {
        c.reply().error(&errors::wrong_arity("mset"));
        return;
    }
    let dbi = c.db;
    for kv in args[1..].chunks(2) {
        e.ks.dbs[dbi].set(&kv[0], Value::string(&kv[1]), false);
        modified(e, c, dbi, &kv[0]);
        notify(e, c, class::STRING, "set", dbi, &kv[0]);
    }
    c.reply().ok();
}

/// MSETNX key value [key value ...]
fn msetnx(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if args.len().is_multiple_of(2) {
        c.reply().error(&errors::wrong_arity("msetnx"));
        return;
    }
    let dbi = c.db;
    for kv in args[1..].chunks(2) {
        if lookup_write(e, dbi, &kv[0]).is_some() {
            c.reply().int(0);
            return;
        }
    }
    for kv in args[1..].chunks(2) {
        e.ks.dbs[dbi].set(&kv[0], Value::string(&kv[1]), false);
        modified(e, c, dbi, &kv[0]);
        notify(e, c, class::STRING, "set", dbi, &kv[0]);
    }
    c.reply().int(1);
}

/// Checks a would-be string length against proto-max-bulk-len.
fn check_len(e: &Engine, c: &mut Client, size: u64, append: u64) -> bool {
    match size.checked_add(append) {
        Some(t) if t <= e.config.proto_max_bulk_len => true,
        _ => {
            c.reply().error(errors::STRING_TOO_LONG);
            false
        }
    }
}

/// APPEND key value
fn append(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let dbi = c.db;
    let (key, val) = (&args[1], &args[2]);
    let cur_len = match lookup_write(e, dbi, key) {
        None => None,
        Some(entry) => match entry.value.str_len() {
            Some(n) => Some(n),
            None => {
                c.reply().error(errors::WRONGTYPE);
                return;
            }
        },
    };
    let new_len = match cur_len {
        None => {
            e.ks.dbs[dbi].set(key, Value::string(val), false);
            val.len()
        }
        Some(n) => {
            if !check_len(e, c, n as u64, val.len() as u64) {
                return;
            }
            let entry = lookup_write(e, dbi, key).expect("looked up above");
            let buf = entry.value.make_raw().expect("checked string type");
            buf.extend_from_slice(val);
            buf.len()
        }
    };
    modified(e, c, dbi, key);
    notify(e, c, class::STRING, "append", dbi, key);
    c.reply().int(new_len as i64);
}

/// STRLEN key
fn strlen(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let dbi = c.db;
    match lookup_read(e, dbi, &args[1]) {
        None => c.reply().int(0),
        Some(entry) => match entry.value.str_len() {
            Some(n) => c.reply().int(n as i64),
            None => c.reply().error(errors::WRONGTYPE),
        },
    }
}

/// GETRANGE key start end
fn getrange(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(mut start) = arg_i64(c, &args[2]) else {
        return;
    };
    let Some(mut end) = arg_i64(c, &args[3]) else {
        return;
    };
    let dbi = c.db;
    let Some(entry) = lookup_read(e, dbi, &args[1]) else {
        c.reply().bulk(b"");
        return;
    };
    let Some(mut s) = entry.value.str_ref() else {
        c.reply().error(errors::WRONGTYPE);
        return;
    };
    let mut out = c.reply();
    s.with(|b| {
        let len = b.len() as i64;
        // Redis: a negative start after an end that is also negative and smaller is empty.
        if start < 0 && end < 0 && start > end {
            out.bulk(b"");
            return;
        }
        if start < 0 {
            start += len;
        }
        if end < 0 {
            end += len;
        }
        start = start.max(0);
        end = end.max(0);
        if end >= len {
            end = len - 1;
        }
        if len == 0 || start > end {
            out.bulk(b"");
        } else {
            out.bulk(&b[start as usize..=end as usize]);
        }
    });
}

/// SETRANGE key offset value
fn setrange(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(offset) = arg_i64(c, &args[2]) else {
        return;
    };
    if offset < 0 {
        c.reply().error(errors::OFFSET_OUT_OF_RANGE);
        return;
    }
    let (key, val) = (&args[1], &args[2 + 1]);
    let dbi = c.db;
    let exists = match lookup_write(e, dbi, key) {
        None => false,
        Some(entry) => {
            if entry.value.str_ref().is_none() {
                c.reply().error(errors::WRONGTYPE);
                return;
            }
            true
        }
    };
    if !exists {
        if val.is_empty() {
            c.reply().int(0);
            return;
        }
        if !check_len(e, c, offset as u64, val.len() as u64) {
            return;
        }
        let mut v = vec![0u8; offset as usize + val.len()];
        v[offset as usize..].copy_from_slice(val);
        e.ks.dbs[dbi].set(key, Value::Raw(Box::new(v)), false);
        modified(e, c, dbi, key);
        notify(e, c, class::STRING, "setrange", dbi, key);
        c.reply().int((offset as usize + val.len()) as i64);
        return;
    }
    let cur = lookup_write(e, dbi, key)
        .and_then(|en| en.value.str_len())
        .unwrap_or(0);
    if val.is_empty() {
        c.reply().int(cur as i64);
        return;
    }
    if !check_len(e, c, offset as u64, val.len() as u64) {
        return;
    }
    let entry = lookup_write(e, dbi, key).expect("exists");
    let buf = entry.value.make_raw().expect("string");
    let end = offset as usize + val.len();
    if buf.len() < end {
        buf.resize(end, 0);
    }
    buf[offset as usize..end].copy_from_slice(val);
    let n = buf.len();
    modified(e, c, dbi, key);
    notify(e, c, class::STRING, "setrange", dbi, key);
    c.reply().int(n as i64);
}

/// INCR / DECR / INCRBY / DECRBY share this.
fn incr_by(e: &mut Engine, c: &mut Client, key: &[u8], by: i64) {
    let dbi = c.db;
    let cur = match lookup_write(e, dbi, key) {
        None => 0,
        Some(entry) => match &entry.value {
            Value::Int(n) => *n,
            v => match v.to_bytes() {
                None => {
                    c.reply().error(errors::WRONGTYPE);
                    return;
                }
                Some(b) => match num::string2ll(&b) {
                    Some(n) => n,
                    None => {
                        c.reply().error(errors::NOT_INT);
                        return;
                    }
                },
            },
        },
    };
    let Some(new) = cur.checked_add(by) else {
        c.reply().error(errors::OVERFLOW);
        return;
    };
    match lookup_write(e, dbi, key) {
        Some(entry) => entry.value = Value::Int(new),
        None => e.ks.dbs[dbi].set(key, Value::Int(new), false),
    }
    modified(e, c, dbi, key);
    notify(e, c, class::STRING, "incrby", dbi, key);
    c.reply().int(new);
}

/// INCR key
fn incr(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    incr_by(e, c, &args[1], 1);
}

/// DECR key
fn decr(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    incr_by(e, c, &args[1], -1);
}

/// INCRBY key increment
fn incrby(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if let Some(by) = arg_i64(c, &args[2]) {
        incr_by(e, c, &args[1], by);
    }
}

/// DECRBY key decrement
fn decrby(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(by) = arg_i64(c, &args[2]) else {
        return;
    };
    if by == i64::MIN {
        c.reply().error("ERR decrement would overflow");
        return;
    }
    incr_by(e, c, &args[1], -by);
}

/// INCRBYFLOAT key increment
fn incrbyfloat(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let key = &args[1];
    let dbi = c.db;
    let cur = match lookup_write(e, dbi, key) {
        None => 0.0,
        Some(entry) => match entry.value.to_bytes() {
            None => {
                c.reply().error(errors::WRONGTYPE);
                return;
            }
            Some(b) => match num::parse_f64(&b) {
                Some(x) => x,
                None => {
                    c.reply().error(errors::NOT_FLOAT);
                    return;
                }
            },
        },
    };
    let Some(by) = arg_f64(c, &args[2]) else {
        return;
    };
    let new = cur + by;
    if new.is_nan() || new.is_infinite() {
        c.reply()
            .error("ERR increment would produce NaN or Infinity");
        return;
    }
    let text = format_double_human(new);
    e.ks.dbs[dbi].set(key, Value::string(text.as_bytes()), true);
    if e.propagating() {
        // Replays as SET key <result> KEEPTTL: float formatting must not
        // differ between primary and replica.
        e.propagate_as(propagate::argv(&[b"SET", key, text.as_bytes(), b"KEEPTTL"]));
    }
    modified(e, c, dbi, key);
    notify(e, c, class::STRING, "incrbyfloat", dbi, key);
    c.reply().bulk(text.as_bytes());
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]
fn lcs(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let dbi = c.db;
    let mut strings: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    for (i, key) in args[1..3].iter().enumerate() {
        if let Some(entry) = lookup_read(e, dbi, key) {
            match entry.value.to_bytes() {
                Some(b) => strings[i] = b,
                None => {
                    c.reply()
                        .error("ERR The specified keys must contain string values");
                    return;
                }
            }
        }
    }
    let (mut getlen, mut getidx, mut withmatchlen) = (false, false, false);
    let mut minmatchlen: i64 = 0;
    let mut j = 3;
    while j < args.len() {
        let opt = &args[j];
        if is(opt, "idx") {
            getidx = true;
        } else if is(opt, "len") {
            getlen = true;
        } else if is(opt, "withmatchlen") {
            withmatchlen = true;
        } else if is(opt, "minmatchlen") && j + 1 < args.len() {
            let Some(n) = arg_i64(c, &args[j + 1]) else {
                return;
            };
            minmatchlen = n.max(0);
            j += 1;
        } else {
            c.reply().error(errors::SYNTAX);
            return;
        }
        j += 1;
    }
    if getlen && getidx {
        c.reply()
            .error("ERR If you want both the length and indexes, please just use IDX.");
        return;
    }
    let (a, b) = (&strings[0], &strings[1]);
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells.saturating_mul(4) > e.config.proto_max_bulk_len {
        c.reply()
            .error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
        return;
    }
    let w = blen + 1;
    let mut t = vec![0u32; cells as usize];
    for i in 1..=alen {
        for jj in 1..=blen {
            t[i * w + jj] = if a[i - 1] == b[jj - 1] {
                t[(i - 1) * w + jj - 1] + 1
            } else {
                t[(i - 1) * w + jj].max(t[i * w + jj - 1])
            };
        }
    }
    let total = t[alen * w + blen];
    if getlen {
        c.reply().int(total as i64);
        return;
    }
    // Walk back from the end, collecting the LCS string and the ranges.
    let mut result = vec![0u8; total as usize];
    let mut idx = total as usize;
    let mut ranges: Vec<[usize; 4]> = Vec::new();
    let (mut i, mut jj) = (alen, blen);
    let mut cur: Option<[usize; 4]> = None; // a_start, a_end, b_start, b_end
    while i > 0 && jj > 0 {
        let mut emit = false;
        if a[i - 1] == b[jj - 1] {
            result[idx - 1] = a[i - 1];
            match &mut cur {
                None => cur = Some([i - 1, i - 1, jj - 1, jj - 1]),
                Some(r) => {
                    if r[0] == i && r[2] == jj {
                        r[0] -= 1;
                        r[2] -= 1;
                    } else {
                        emit = true;
                    }
                }
            }
            if let Some(r) = &cur {
                if r[0] == 0 || r[2] == 0 {
                    emit = true;
                }
            }
            idx -= 1;
            i -= 1;
            jj -= 1;
        } else {
            if t[(i - 1) * w + jj] > t[i * w + jj - 1] {
                i -= 1;
            } else {
                jj -= 1;
            }
            if cur.is_some() {
                emit = true;
            }
        }
        if emit {
            if let Some(r) = cur.take() {
                let len = r[1] - r[0] + 1;
                if minmatchlen == 0 || len as i64 >= minmatchlen {
                    ranges.push(r);
                }
            }
        }
    }
    if !getidx {
        c.reply().bulk(&result);
        return;
    }
    let mut out = c.reply();
    out.map(2);
    out.bulk(b"matches");
    out.array(ranges.len());
    for r in &ranges {
        out.array(if withmatchlen { 3 } else { 2 });
        out.array(2);
        out.int(r[0] as i64);
        out.int(r[1] as i64);
        out.array(2);
        out.int(r[2] as i64);
        out.int(r[3] as i64);
        if withmatchlen {
            out.int((r[1] - r[0] + 1) as i64);
        }
    }
    out.bulk(b"len");
    out.int(total as i64);
}

const R: u64 = acl::READ | acl::STRING;
const W: u64 = acl::WRITE | acl::STRING;

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "get",
        2,
        f::READONLY | f::FAST,
        R | acl::FAST,
        Keys::ONE,
        get,
    )
    .group("string"),
    CommandSpec::new(
        "set",
        -3,
        f::WRITE | f::DENYOOM,
        W | acl::SLOW,
        Keys::ONE,
        set,
    )
    .group("string"),
    CommandSpec::new(
        "setnx",
        3,
        f::WRITE | f::DENYOOM | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        setnx,
    )
    .group("string"),
    CommandSpec::new(
        "setex",
        4,
        f::WRITE | f::DENYOOM,
        W | acl::SLOW,
        Keys::ONE,
        setex,
    )
    .group("string"),
    CommandSpec::new(
        "psetex",
        4,
        f::WRITE | f::DENYOOM,
        W | acl::SLOW,
        Keys::ONE,
        psetex,
    )
    .group("string"),
    CommandSpec::new(
        "getex",
        -2,
        f::WRITE | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        getex,
    )
    .group("string"),
    CommandSpec::new(
        "getdel",
        2,
        f::WRITE | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        getdel,
    )
    .group("string"),
    CommandSpec::new(
        "getset",
        3,
        f::WRITE | f::DENYOOM | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        getset,
    )
    .group("string"),
    CommandSpec::new(
        "mget",
        -2,
        f::READONLY | f::FAST,
        R | acl::FAST,
        Keys::ALL,
        mget,
    )
    .group("string"),
    CommandSpec::new(
        "mset",
        -3,
        f::WRITE | f::DENYOOM,
        W | acl::SLOW,
        Keys {
            first: 1,
            last: -1,
            step: 2,
        },
        mset,
    )
    .group("string"),
    CommandSpec::new(
        "msetnx",
        -3,
        f::WRITE | f::DENYOOM,
        W | acl::SLOW,
        Keys {
            first: 1,
            last: -1,
            step: 2,
        },
        msetnx,
    )
    .group("string"),
    CommandSpec::new(
        "append",
        3,
        f::WRITE | f::DENYOOM | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        append,
    )
    .group("string"),
    CommandSpec::new(
        "strlen",
        2,
        f::READONLY | f::FAST,
        R | acl::FAST,
        Keys::ONE,
        strlen,
    )
    .group("string"),
    CommandSpec::new(
        "getrange",
        4,
        f::READONLY,
        R | acl::SLOW,
        Keys::ONE,
        getrange,
    )
    .group("string"),
    CommandSpec::new("substr", 4, f::READONLY, R | acl::SLOW, Keys::ONE, getrange).group("string"),
    CommandSpec::new(
        "setrange",
        4,
        f::WRITE | f::DENYOOM,
        W | acl::SLOW,
        Keys::ONE,
        setrange,
    )
    .group("string"),
    CommandSpec::new(
        "incr",
        2,
        f::WRITE | f::DENYOOM | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        incr,
    )
    .group("string"),
    CommandSpec::new(
        "decr",
        2,
        f::WRITE | f::DENYOOM | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        decr,
    )
    .group("string"),
    CommandSpec::new(
        "incrby",
        3,
        f::WRITE | f::DENYOOM | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        incrby,
    )
    .group("string"),
    CommandSpec::new(
        "decrby",
        3,
        f::WRITE | f::DENYOOM | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        decrby,
    )
    .group("string"),
    CommandSpec::new(
        "incrbyfloat",
        3,
        f::WRITE | f::DENYOOM | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        incrbyfloat,
    )
    .group("string"),
    CommandSpec::new(
        "lcs",
        -3,
        f::READONLY,
        R | acl::SLOW,
        Keys {
            first: 1,
            last: 2,
            step: 1,
        },
        lcs,
    )
    .group("string"),
];
