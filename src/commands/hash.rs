//! Hash commands.

use bytes::Bytes;

use super::keys::parse_cursor;
use super::keys::{parse_scan_opts, ScanOpts, Type};
use super::{arg_i64, is, modified, notify, typed, Access};
use crate::config::notify as class;
use crate::dispatch::{acl, errors, flags as f, CommandSpec, Keys};
use crate::keyspace::hash::{Hash, Limits};
use crate::keyspace::listpack::LpElem;
use crate::keyspace::{SBytes, Value};
use crate::protocol::encode::{format_double_human, Out, Proto};
use crate::server::client::Client;
use crate::server::propagate;
use crate::server::Engine;
use crate::util::glob::string_match;
use crate::util::num;

/// HRANDFIELD with a count above `size / HRANDFIELD_SUB_STRATEGY_MUL`
/// copies the hash and removes random fields instead of sampling.
const HRANDFIELD_SUB_STRATEGY_MUL: usize = 3;
/// Output a repeating-sample reply (negative counts) may build before the
/// client is dropped, standing in for Redis's output buffer limit.
const MAX_SAMPLE_REPLY: usize = 1 << 30;

fn limits(e: &Engine) -> Limits {
    Limits {
        max_entries: e.config.hash_max_listpack_entries,
        max_value: e.config.hash_max_listpack_value,
    }
}

/// The hash at `key`: Ok(None) when absent, Err after replying WRONGTYPE.
fn hash_at<'a>(
    e: &'a mut Engine,
    c: &mut Client,
    key: &[u8],
    write: bool,
) -> Result<Option<&'a mut Hash>, ()> {
    let access = if write { Access::Write } else { Access::Read };
    typed(e, c, key, access, |v| match v {
        Value::Hash(x) => Some(x),
        _ => None,
    })
}

/// The hash at `key` for a write, created empty when absent; None after
/// replying WRONGTYPE.
fn hash_or_create<'a>(e: &'a mut Engine, c: &mut Client, key: &[u8]) -> Option<&'a mut Hash> {
    let dbi = c.db;
    match hash_at(e, c, key, true) {
        Err(()) => return None,
        Ok(Some(_)) => {}
        Ok(None) => e.ks.dbs[dbi].add(SBytes::new(key), Value::from_hash(Hash::default())),
    }
    match hash_at(e, c, key, true) {
        Ok(Some(h)) => Some(h),
        _ => None,
    }
}

fn put(out: &mut Out<'_>, v: LpElem<'_>) {
    match v {
        LpElem::Int(n) => out.bulk_int(n),
        LpElem::Str(s) => out.bulk(s),
    }
}

/// Sets field/value pairs from `args[2..]`; the number of new fields.
fn set_pairs(e: &mut Engine, c: &mut Client, args: &[Bytes]) -> Option<usize> {
    if args.len() % 2 == 1 {
        let name = String::from_utf8_lossy(&args[0]).to_lowercase();
        c.reply().error(&format!(
            "ERR wrong number of arguments for '{name}' command"
        ));
        return None;
    }
    let lim = limits(e);
    let dbi = c.db;
    let h = hash_or_create(e, c, &args[1])?;
    h.prepare_write(args[2..].iter().map(|a| &a[..]), lim);
    let mut created = 0;
    for pair in args[2..].chunks_exact(2) {
        if h.set(&pair[0], &pair[1], lim) {
            created += 1;
        }
    }
    h.compact();
    modified(e, c, dbi, &args[1]);
    notify(e, c, class::HASH, "hset", dbi, &args[1]);
    Some(created)
}

/// HSET key field value [field value ...]
fn hset(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if let Some(n) = set_pairs(e, c, args) {
        c.reply().int(n as i64);
    }
}

/// HMSET key field value [field value ...]
fn hmset(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if set_pairs(e, c, args).is_some() {
        c.reply().ok();
    }
}

/// HSETNX key field value
fn hsetnx(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let lim = limits(e);
    let dbi = c.db;
    let Some(h) = hash_or_create(e, c, &args[1]) else {
        return;
    };
    if h.contains(&args[2]) {
        c.reply().int(0);
        return;
    }
    h.prepare_write([&args[2][..], &args[3][..]], lim);
    h.set(&args[2], &args[3], lim);
    h.compact();
    modified(e, c, dbi, &args[1]);
    notify(e, c, class::HASH, "hset", dbi, &args[1]);
    c.reply().int(1);
}

/// HGET key field
fn hget(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    match hash_at(e, c, &args[1], false) {
        Err(()) => {}
        Ok(h) => {
            let mut out = c.reply();
            match h.and_then(|h| h.get(&args[2])) {
                Some(v) => put(&mut out, v),
                None => out.null(),
            }
        }
    }
}

/// HMGET key field [field ...]
fn hmget(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Ok(h) = hash_at(e, c, &args[1], false) else {
        return;
    };
    let mut out = c.reply();
    out.array(args.len() - 2);
    for f in &args[2..] {
        match h.as_ref().and_then(|h| h.get(f)) {
            Some(v) => put(&mut out, v),
            None => out.null(),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Fields,
    Values,
    Both,
}

fn get_all(e: &mut Engine, c: &mut Client, key: &[u8], part: Part) {
    let Ok(h) = hash_at(e, c, key, false) else {
        return;
    };
    let mut out = c.reply();
    let n = h.as_ref().map_or(0, |h| h.len());
    if part == Part::Both {
        out.map(n);
    } else {
        out.array(n);
    }
    if let Some(h) = h {
        for (k, v) in h.iter() {
            if part != Part::Values {
                put(&mut out, k);
            }
            if part != Part::Fields {
                put(&mut out, v);
            }
        }
    }
}

/// HGETALL key
fn hgetall(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    get_all(e, c, &args[1], Part::Both);
}

/// HKEYS key
fn hkeys(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    get_all(e, c, &args[1], Part::Fields);
}

/// HVALS key
fn hvals(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    get_all(e, c, &args[1], Part::Values);
}

/// HLEN key
fn hlen(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if let Ok(h) = hash_at(e, c, &args[1], false) {
        let n = h.map_or(0, |h| h.len());
        c.reply().int(n as i64);
    }
}

/// HEXISTS key field
fn hexists(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if let Ok(h) = hash_at(e, c, &args[1], false) {
        let yes = h.is_some_and(|h| h.contains(&args[2]));
        c.reply().int(yes as i64);
    }
}

/// HSTRLEN key field
fn hstrlen(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if let Ok(h) = hash_at(e, c, &args[1], false) {
        let n = h.and_then(|h| h.get(&args[2])).map_or(0, |v| v.str_len());
        c.reply().int(n as i64);
    }
}

/// HDEL key field [field ...]
fn hdel(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let dbi = c.db;
    let (deleted, empty) = match hash_at(e, c, &args[1], true) {
        Err(()) => return,
        Ok(None) => (0, false),
        Ok(Some(h)) => {
            let mut n = 0;
            for f in &args[2..] {
                if h.remove(f) {
                    n += 1;
                    if h.is_empty() {
                        break;
                    }
                }
            }
            h.compact();
            (n, h.is_empty())
        }
    };
    if deleted > 0 {
        if empty {
            e.ks.dbs[dbi].remove(&args[1]);
        }
        e.touch_key(c, dbi, &args[1]);
        e.dirty += deleted as u64;
        notify(e, c, class::HASH, "hdel", dbi, &args[1]);
        if empty {
            notify(e, c, class::GENERIC, "del", dbi, &args[1]);
        }
    }
    c.reply().int(deleted as i64);
}

/// HINCRBY key field increment
fn hincrby(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(by) = arg_i64(c, &args[3]) else {
        return;
    };
    let lim = limits(e);
    let dbi = c.db;
    let Some(h) = hash_or_create(e, c, &args[1]) else {
        return;
    };
    let cur = match h.get(&args[2]) {
        None => 0,
        Some(LpElem::Int(n)) => n,
        Some(LpElem::Str(s)) => match num::string2ll(s) {
            Some(n) => n,
            None => {
                c.reply().error("ERR hash value is not an integer");
                return;
            }
        },
    };
    let Some(new) = cur.checked_add(by) else {
        c.reply().error("ERR increment or decrement would overflow");
        return;
    };
    h.prepare_write([&args[2][..]], lim);
    h.set(&args[2], itoa::Buffer::new().format(new).as_bytes(), lim);
    h.compact();
    modified(e, c, dbi, &args[1]);
    notify(e, c, class::HASH, "hincrby", dbi, &args[1]);
    c.reply().int(new);
}

/// HINCRBYFLOAT key field increment
fn hincrbyfloat(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(by) = num::parse_long_double(&args[3]) else {
        c.reply().error(errors::NOT_FLOAT);
        return;
    };
    if !by.is_finite() {
        c.reply().error("ERR value is NaN or Infinity");
        return;
    }
    let lim = limits(e);
    let dbi = c.db;
    let Some(h) = hash_or_create(e, c, &args[1]) else {
        return;
    };
    let cur = match h.get(&args[2]) {
        None => 0.0,
        Some(LpElem::Int(n)) => n as f64,
        Some(LpElem::Str(s)) => match num::parse_long_double(s) {
            Some(x) => x,
            None => {
                c.reply().error("ERR hash value is not a float");
                return;
            }
        },
    };
    let new = cur + by;
    if !new.is_finite() {
        c.reply()
            .error("ERR increment would produce NaN or Infinity");
        return;
    }
    let text = format_double_human(new);
    h.prepare_write([&args[2][..]], lim);
    h.set(&args[2], text.as_bytes(), lim);
    h.compact();
    if e.propagating() {
        // Replays as HSET key field <result>.
        e.propagate_as(propagate::argv(&[
            b"HSET",
            &args[1],
            &args[2],
            text.as_bytes(),
        ]));
    }
    modified(e, c, dbi, &args[1]);
    notify(e, c, class::HASH, "hincrbyfloat", dbi, &args[1]);
    c.reply().bulk(text.as_bytes());
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]
fn hscan(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(cursor) = parse_cursor(c, &args[2]) else {
        return;
    };
    let h = match hash_at(e, c, &args[1], false) {
        Err(()) => return,
        Ok(None) => {
            c.reply().raw(b"*2\r\n$1\r\n0\r\n*0\r\n");
            return;
        }
        Ok(Some(h)) => &*h,
    };
    let Some(ScanOpts { count, pattern, .. }) = parse_scan_opts(c, args, 3, Type::No) else {
        return;
    };
    let mut found: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let next = h.scan(cursor, count, |k, v| {
        k.with_bytes(|b| {
            if pattern.is_none_or(|p| string_match(p, b, false)) {
                found.push((b.to_vec(), v.to_vec()));
            }
        })
    });
    let mut out = c.reply();
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next).as_bytes());
    out.array(found.len() * 2);
    for (k, v) in &found {
        out.bulk(k);
        out.bulk(v);
    }
}

/// Writes one HRANDFIELD pick: the field, or field and value (a pair in
/// RESP3).
fn put_pick(out: &mut Out<'_>, k: LpElem<'_>, v: LpElem<'_>, withvalues: bool) {
    if withvalues && out.proto == Proto::Resp3 {
        out.array(2);
    }
    put(out, k);
    if withvalues {
        put(out, v);
    }
}

/// HRANDFIELD key [count [WITHVALUES]]
fn hrandfield(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let mut rng = rand::thread_rng();
    if args.len() == 2 {
        match hash_at(e, c, &args[1], false) {
            Err(()) => {}
            Ok(h) => {
                let mut out = c.reply();
                match h.and_then(|h| h.random(&mut rng)) {
                    Some((k, _)) => put(&mut out, k),
                    None => out.null(),
                }
            }
        }
        return;
    }
    let Some(l) = arg_i64(c, &args[2]) else {
        return;
    };
    if l == i64::MIN {
        c.reply().error(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        );
        return;
    }
    if args.len() > 4 || (args.len() == 4 && !is(&args[3], "withvalues")) {
        c.reply().error(errors::SYNTAX);
        return;
    }
    let withvalues = args.len() == 4;
    if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        c.reply().error("ERR value is out of range");
        return;
    }
    let h = match hash_at(e, c, &args[1], false) {
        Err(()) => return,
        Ok(None) => {
            c.reply().array(0);
            return;
        }
        Ok(Some(h)) => &*h,
    };
    let uniq = l >= 0;
    let count = l.unsigned_abs() as usize;
    if count == 0 {
        c.reply().array(0);
        return;
    }
    let flat = withvalues && c.proto == Proto::Resp2;
    let size = h.len();
    if !uniq || count == 1 {
        c.reply().array(if flat { count * 2 } else { count });
        for _ in 0..count {
            let (k, v) = h.random(&mut rng).expect("non-empty hash");
            put_pick(&mut c.reply(), k, v, withvalues);
            if c.out.len() > MAX_SAMPLE_REPLY {
                c.close_asap = true;
                break;
            }
        }
        return;
    }
    let n = count.min(size);
    let mut out = c.reply();
    out.array(if flat { n * 2 } else { n });
    if count >= size {
        for (k, v) in h.iter() {
            put_pick(&mut out, k, v, withvalues);
        }
        return;
    }
    if count * HRANDFIELD_SUB_STRATEGY_MUL > size {
        // Copy everything, then remove random picks down to `count`.
        let mut all: Vec<(LpElem<'_>, LpElem<'_>)> = h.iter().collect();
        while all.len() > count {
            let i = rand::Rng::gen_range(&mut rng, 0..all.len());
            all.swap_remove(i);
        }
        for (k, v) in all {
            put_pick(&mut out, k, v, withvalues);
        }
    } else {
        let mut seen = std::collections::HashSet::with_capacity(count);
        while seen.len() < count {
            let (k, v) = h.random(&mut rng).expect("non-empty hash");
            if seen.insert(k.to_vec()) {
                put_pick(&mut out, k, v, withvalues);
            }
        }
    }
}

const R: u64 = acl::READ | acl::HASH;
const W: u64 = acl::WRITE | acl::HASH;

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "hset",
        -4,
        f::WRITE | f::DENYOOM | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        hset,
    )
    .group("hash"),
    CommandSpec::new(
        "hsetnx",
        4,
        f::WRITE | f::DENYOOM | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        hsetnx,
    )
    .group("hash"),
    CommandSpec::new(
        "hmset",
        -4,
        f::WRITE | f::DENYOOM | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        hmset,
    )
    .group("hash"),
    CommandSpec::new(
        "hget",
        3,
        f::READONLY | f::FAST,
        R | acl::FAST,
        Keys::ONE,
        hget,
    )
    .group("hash"),
    CommandSpec::new(
        "hmget",
        -3,
        f::READONLY | f::FAST,
        R | acl::FAST,
        Keys::ONE,
        hmget,
    )
    .group("hash"),
    CommandSpec::new("hgetall", 2, f::READONLY, R | acl::SLOW, Keys::ONE, hgetall).group("hash"),
    CommandSpec::new("hkeys", 2, f::READONLY, R | acl::SLOW, Keys::ONE, hkeys).group("hash"),
    CommandSpec::new("hvals", 2, f::READONLY, R | acl::SLOW, Keys::ONE, hvals).group("hash"),
    CommandSpec::new(
        "hlen",
        2,
        f::READONLY | f::FAST,
        R | acl::FAST,
        Keys::ONE,
        hlen,
    )
    .group("hash"),
    CommandSpec::new(
        "hexists",
        3,
        f::READONLY | f::FAST,
        R | acl::FAST,
        Keys::ONE,
        hexists,
    )
    .group("hash"),
    CommandSpec::new(
        "hstrlen",
        3,
        f::READONLY | f::FAST,
        R | acl::FAST,
        Keys::ONE,
        hstrlen,
    )
    .group("hash"),
    CommandSpec::new(
        "hdel",
        -3,
        f::WRITE | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        hdel,
    )
    .group("hash"),
    CommandSpec::new(
        "hincrby",
        4,
        f::WRITE | f::DENYOOM | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        hincrby,
    )
    .group("hash"),
    CommandSpec::new(
        "hincrbyfloat",
        4,
        f::WRITE | f::DENYOOM | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        hincrbyfloat,
    )
    .group("hash"),
    CommandSpec::new("hscan", -3, f::READONLY, R | acl::SLOW, Keys::ONE, hscan).group("hash"),
    CommandSpec::new(
        "hrandfield",
        -2,
        f::READONLY,
        R | acl::SLOW,
        Keys::ONE,
        hrandfield,
    )
    .group("hash"),
];
