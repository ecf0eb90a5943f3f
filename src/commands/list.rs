//! List commands. Blocking variants (BLPOP and friends) arrive with the
//! blocking machinery.

use bytes::Bytes;
use std::time::Duration;

use super::{is, modified, notify, typed, Access};
use crate::config::notify as class;
use crate::dispatch::{acl, errors, flags as f, numkeys_keys, CommandSpec, Keys};
use crate::keyspace::list::{End, Fill, List, Where};
use crate::keyspace::listpack::LpElem;
use crate::keyspace::{Kind, SBytes, Value};
use crate::protocol::encode::Out;
use crate::server::blocking::{parse_timeout, TimeoutReply};
use crate::server::client::Client;
use crate::server::propagate;
use crate::server::Engine;
use crate::util::num;

const OUT_OF_RANGE: &str = "ERR index out of range";

fn fill(e: &Engine) -> Fill {
    Fill::new(e.config.list_max_listpack_size)
}

fn reply_elem(out: &mut Out, el: LpElem<'_>) {
    match el {
        LpElem::Int(n) => out.bulk_int(n),
        LpElem::Str(s) => out.bulk(s),
    }
}

fn pick_list(v: &mut Value) -> Option<&mut List> {
    match v {
        Value::List(l) => Some(l),
        _ => None,
    }
}

/// The list at `key` for writing: `Err` after replying WRONGTYPE.
fn list_write<'a>(
    e: &'a mut Engine,
    c: &mut Client,
    key: &[u8],
) -> Result<Option<&'a mut List>, ()> {
    typed(e, c, key, Access::Write, pick_list)
}

/// The list at `key` for reading: `Err` after replying WRONGTYPE.
fn list_read<'a>(e: &'a mut Engine, c: &mut Client, key: &[u8]) -> Result<Option<&'a List>, ()> {
    typed(e, c, key, Access::Read, pick_list).map(|l| l.map(|l| &*l))
}

/// Deletes `key` when its list became empty; true when it did.
fn remove_if_empty(e: &mut Engine, dbi: usize, key: &[u8]) -> bool {
    let empty = matches!(
        e.ks.dbs[dbi].get_raw(key).map(|en| &en.value),
        Some(Value::List(l)) if l.is_empty()
    );
    if empty {
        e.ks.dbs[dbi].remove(key);
    }
    empty
}

/// The keyspace event of a push at `end`.
fn push_event(end: End) -> &'static str {
    if end == End::Head {
        "lpush"
    } else {
        "rpush"
    }
}

/// The keyspace event of a pop at `end`.
fn pop_event(end: End) -> &'static str {
    if end == End::Head {
        "lpop"
    } else {
        "rpop"
    }
}

/// After a change to `key` by `event`: deletes it when empty, records the
/// change, and notifies `event` (and `del` when it went).
fn changed(e: &mut Engine, c: &mut Client, dbi: usize, key: &[u8], event: &str) {
    let gone = remove_if_empty(e, dbi, key);
    modified(e, c, dbi, key);
    notify(e, c, class::LIST, event, dbi, key);
    if gone {
        notify(e, c, class::GENERIC, "del", dbi, key);
    }
}

/// A long argument as getLongFromObjectOrReply, with `msg` replacing the
/// default error.
fn arg_long(c: &mut Client, a: &[u8], msg: Option<&str>) -> Option<i64> {
    match num::string2ll(a) {
        Some(n) => Some(n),
        None => {
            c.reply().error(msg.unwrap_or(errors::NOT_INT));
            None
        }
    }
}

/// A long argument within `min..=max` (getRangeLongFromObjectOrReply).
fn arg_range(c: &mut Client, a: &[u8], min: i64, msg: &str) -> Option<i64> {
    let n = arg_long(c, a, Some(msg))?;
    if n < min {
        c.reply().error(msg);
        return None;
    }
    Some(n)
}

fn arg_end(c: &mut Client, a: &[u8]) -> Option<End> {
    if is(a, "left") {
        Some(End::Head)
    } else if is(a, "right") {
        Some(End::Tail)
    } else {
        c.reply().error(errors::SYNTAX);
        None
    }
}

fn push_generic(e: &mut Engine, c: &mut Client, args: &[Bytes], end: End, only_existing: bool) {
    let dbi = c.db;
    let key = &args[1];
    let fill = fill(e);
    let len = match list_write(e, c, key) {
        Err(()) => return,
        Ok(Some(l)) => {
            for a in &args[2..] {
                l.push(end, a, fill);
            }
            l.len()
        }
        Ok(None) if only_existing => {
            c.reply().int(0);
            return;
        }
        Ok(None) => {
            let mut l = List::new();
            for a in &args[2..] {
                l.push(end, a, fill);
            }
            let n = l.len();
            e.ks.dbs[dbi].add(SBytes::new(key), Value::from_list(l));
            n
        }
    };
    modified(e, c, dbi, key);
    notify(e, c, class::LIST, push_event(end), dbi, key);
    c.reply().int(len as i64);
}

/// LPUSH key element [element ...]
fn lpush(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    push_generic(e, c, args, End::Head, false);
}

/// RPUSH key element [element ...]
fn rpush(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    push_generic(e, c, args, End::Tail, false);
}

/// LPUSHX key element [element ...]
fn lpushx(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    push_generic(e, c, args, End::Head, true);
}

/// RPUSHX key element [element ...]
fn rpushx(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    push_generic(e, c, args, End::Tail, true);
}

/// Pops up to `count` elements from `end` of the list at `key` into the
/// reply as an array; deletes the key if it empties.
fn pop_range_reply(e: &mut Engine, c: &mut Client, key: &[u8], end: End, count: usize) {
    let dbi = c.db;
    let Ok(Some(l)) = list_write(e, c, key) else {
        return;
    };
    let n = count.min(l.len());
    let mut out = c.reply();
    out.array(n);
    for _ in 0..n {
        match l.pop(end) {
            Some(v) => out.bulk(&v),
            None => break,
        }
    }
    changed(e, c, dbi, key, pop_event(end));
}

fn pop_generic(e: &mut Engine, c: &mut Client, args: &[Bytes], end: End) {
    if args.len() > 3 {
        let name = if end == End::Head { "lpop" } else { "rpop" };
        c.reply().error(&errors::wrong_arity(name));
        return;
    }
    let count = match args.get(2) {
        None => None,
        Some(a) => match arg_range(c, a, 0, "ERR value is out of range, must be positive") {
            Some(n) => Some(n as usize),
            None => return,
        },
    };
    let dbi = c.db;
    let key = &args[1];
    let l = match list_write(e, c, key) {
        Err(()) => return,
        Ok(None) => {
            match count {
                Some(_) => c.reply().null_array(),
                None => c.reply().null(),
            }
            return;
        }
        Ok(Some(l)) => l,
    };
    match count {
        Some(0) => c.reply().array(0),
        Some(n) => pop_range_reply(e, c, key, end, n),
        None => {
            let v = l.pop(end).expect("stored lists are not empty");
            c.reply().bulk(&v);
            changed(e, c, dbi, key, pop_event(end));
        }
    }
}

/// LPOP key [count]
fn lpop(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    pop_generic(e, c, args, End::Head);
}

/// RPOP key [count]
fn rpop(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    pop_generic(e, c, args, End::Tail);
}

/// LLEN key
fn llen(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if let Ok(l) = list_read(e, c, &args[1]) {
        let n = l.map_or(0, |l| l.len());
        c.reply().int(n as i64);
    }
}

/// LINDEX key index
fn lindex(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let l = match list_read(e, c, &args[1]) {
        Err(()) => return,
        Ok(None) => {
            c.reply().null();
            return;
        }
        Ok(Some(l)) => l,
    };
    let Some(i) = num::string2ll(&args[2]) else {
        c.reply().error(errors::NOT_INT);
        return;
    };
    let mut out = c.reply();
    match l.index(i).and_then(|i| l.get(i)) {
        Some(el) => reply_elem(&mut out, el),
        None => out.null(),
    }
}

/// LSET key index element
fn lset(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let dbi = c.db;
    let fill = fill(e);
    let l = match list_write(e, c, &args[1]) {
        Err(()) => return,
        Ok(None) => {
            c.reply().error(errors::NO_SUCH_KEY);
            return;
        }
        Ok(Some(l)) => l,
    };
    let Some(i) = num::string2ll(&args[2]) else {
        c.reply().error(errors::NOT_INT);
        return;
    };
    match l.index(i) {
        Some(i) => {
            l.set(i, &args[3], fill);
            modified(e, c, dbi, &args[1]);
            notify(e, c, class::LIST, "lset", dbi, &args[1]);
            c.reply().ok();
        }
        None => c.reply().error(OUT_OF_RANGE),
    }
}

/// LINSERT key BEFORE|AFTER pivot element
fn linsert(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let w = if is(&args[2], "after") {
        Where::After
    } else if is(&args[2], "before") {
        Where::Before
    } else {
        c.reply().error(errors::SYNTAX);
        return;
    };
    let dbi = c.db;
    let fill = fill(e);
    let l = match list_write(e, c, &args[1]) {
        Err(()) => return,
        Ok(None) => {
            c.reply().int(0);
            return;
        }
        Ok(Some(l)) => l,
    };
    if l.insert_at_pivot(&args[3], w, &args[4], fill) {
        let n = l.len();
        modified(e, c, dbi, &args[1]);
        notify(e, c, class::LIST, "linsert", dbi, &args[1]);
        c.reply().int(n as i64);
    } else {
        c.reply().int(-1);
    }
}

/// Clamps LRANGE/LTRIM bounds: `Some((start, end))` inclusive, or None
/// when the range is empty.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 {
        len.saturating_add(start)
    } else {
        start
    };
    let end = if end < 0 {
        len.saturating_add(end)
    } else {
        end
    };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

/// LRANGE key start stop
fn lrange(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let (Some(start), Some(end)) = (num::string2ll(&args[2]), num::string2ll(&args[3])) else {
        c.reply().error(errors::NOT_INT);
        return;
    };
    let l = match list_read(e, c, &args[1]) {
        Err(()) => return,
        Ok(None) => {
            c.reply().array(0);
            return;
        }
        Ok(Some(l)) => l,
    };
    let mut out = c.reply();
    match clamp_range(start, end, l.len()) {
        None => out.array(0),
        Some((s, t)) => {
            out.array(t - s + 1);
            for el in l.iter_from(s).take(t - s + 1) {
                reply_elem(&mut out, el);
            }
        }
    }
}

/// LTRIM key start stop
fn ltrim(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let (Some(start), Some(end)) = (num::string2ll(&args[2]), num::string2ll(&args[3])) else {
        c.reply().error(errors::NOT_INT);
        return;
    };
    let dbi = c.db;
    let l = match list_write(e, c, &args[1]) {
        Err(()) => return,
        Ok(None) => {
            c.reply().ok();
            return;
        }
        Ok(Some(l)) => l,
    };
    match clamp_range(start, end, l.len()) {
        None => l.keep_range(0, None),
        Some((s, t)) => l.keep_range(s, Some(t)),
    }
    changed(e, c, dbi, &args[1], "ltrim");
    c.reply().ok();
}

/// LREM key count element
fn lrem(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(count) = num::string2ll(&args[2]) else {
        c.reply().error(errors::NOT_INT);
        return;
    };
    let dbi = c.db;
    let removed = match list_write(e, c, &args[1]) {
        Err(()) => return,
        Ok(None) => 0,
        Ok(Some(l)) => l.remove_matching(&args[3], count),
    };
    if removed > 0 {
        changed(e, c, dbi, &args[1], "lrem");
    }
    c.reply().int(removed as i64);
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
fn lpos(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let mut rank: i64 = 1;
    let mut count: Option<u64> = None;
    let mut maxlen: u64 = 0;
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        if is(&args[j], "rank") && more {
            j += 1;
            let Some(r) = arg_long(c, &args[j], None) else {
                return;
            };
            if r == 0 {
                c.reply().error(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                );
                return;
            }
            rank = r;
        } else if is(&args[j], "count") && more {
            j += 1;
            let Some(n) = arg_range(c, &args[j], 0, "ERR COUNT can't be negative") else {
                return;
            };
            count = Some(n as u64);
        } else if is(&args[j], "maxlen") && more {
            j += 1;
            let Some(n) = arg_range(c, &args[j], 0, "ERR MAXLEN can't be negative") else {
                return;
            };
            maxlen = n as u64;
        } else {
            c.reply().error(errors::SYNTAX);
            return;
        }
        j += 1;
    }
    let l = match list_read(e, c, &args[1]) {
        Err(()) => return,
        Ok(None) => {
            match count {
                Some(_) => c.reply().array(0),
                None => c.reply().null(),
            }
            return;
        }
        Ok(Some(l)) => l,
    };
    let from_tail = rank < 0;
    // Redis negates LONG_MIN into itself, which then counts every match
    // as past the rank: the first match from the tail.
    let rank = if rank == i64::MIN {
        1
    } else {
        rank.unsigned_abs()
    };
    let len = l.len();
    let limit = if maxlen == 0 {
        usize::MAX
    } else {
        maxlen.min(usize::MAX as u64) as usize
    };
    let ele = &args[2][..];
    let elems: Box<dyn Iterator<Item = LpElem<'_>>> = if from_tail {
        Box::new(l.iter_rev())
    } else {
        Box::new(l.iter())
    };
    let mut matches = 0u64;
    let mut found: Vec<i64> = Vec::new();
    for (idx, el) in elems.take(limit).enumerate() {
        if el != ele {
            continue;
        }
        matches += 1;
        if matches < rank {
            continue;
        }
        let pos = if from_tail { len - idx - 1 } else { idx };
        found.push(pos as i64);
        match count {
            None => break,
            Some(0) => {}
            Some(n) if matches - rank + 1 >= n => break,
            Some(_) => {}
        }
    }
    let mut out = c.reply();
    match count {
        Some(_) => {
            out.array(found.len());
            for p in found {
                out.int(p);
            }
        }
        None => match found.first() {
            Some(&p) => out.int(p),
            None => out.null(),
        },
    }
}

/// Moves one element from `src`'s `from` end to `dst`'s `to` end and
/// replies with it (null when `src` is missing).
fn move_generic(e: &mut Engine, c: &mut Client, src: &[u8], dst: &[u8], from: End, to: End) {
    let dbi = c.db;
    let fill = fill(e);
    match list_write(e, c, src) {
        Err(()) => return,
        Ok(None) => {
            c.reply().null();
            return;
        }
        Ok(Some(_)) => {}
    }
    if src != dst && list_write(e, c, dst).is_err() {
        return;
    }
    let Ok(Some(l)) = list_write(e, c, src) else {
        return;
    };
    let v = l.pop(from).expect("stored lists are not empty");
    match list_write(e, c, dst) {
        Ok(Some(d)) => d.push(to, &v, fill),
        Ok(None) => {
            let mut d = List::new();
            d.push(to, &v, fill);
            e.ks.dbs[dbi].add(SBytes::new(dst), Value::from_list(d));
        }
        Err(()) => return,
    }
    // Redis notifies the push to the destination before the pop.
    notify(e, c, class::LIST, push_event(to), dbi, dst);
    c.reply().bulk(&v);
    changed(e, c, dbi, src, pop_event(from));
    if src != dst {
        modified(e, c, dbi, dst);
    }
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
fn lmove(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(from) = arg_end(c, &args[3]) else {
        return;
    };
    let Some(to) = arg_end(c, &args[4]) else {
        return;
    };
    move_generic(e, c, &args[1], &args[2], from, to);
}

/// RPOPLPUSH source destination
fn rpoplpush(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    move_generic(e, c, &args[1], &args[2], End::Tail, End::Head);
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
fn lmpop(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    mpop_generic(e, c, args, 1, None);
}

/// LMPOP and BLMPOP: `at` is the index of numkeys; `timeout` is Some for
/// the blocking form.
fn mpop_generic(
    e: &mut Engine,
    c: &mut Client,
    args: &[Bytes],
    at: usize,
    timeout: Option<Option<Duration>>,
) {
    let Some(numkeys) = arg_range(c, &args[at], 1, "ERR numkeys should be greater than 0") else {
        return;
    };
    let where_idx = match usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(at + 1))
    {
        Some(i) if i < args.len() => i,
        _ => {
            c.reply().error(errors::SYNTAX);
            return;
        }
    };
    let Some(end) = arg_end(c, &args[where_idx]) else {
        return;
    };
    let mut count: Option<i64> = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        if count.is_none() && is(&args[j], "count") && j + 1 < args.len() {
            j += 1;
            match arg_range(c, &args[j], 1, "ERR count should be greater than 0") {
                Some(n) => count = Some(n),
                None => return,
            }
        } else {
            c.reply().error(errors::SYNTAX);
            return;
        }
        j += 1;
    }
    let count = count.unwrap_or(1) as u64;
    let keys = &args[at + 1..where_idx];
    for key in keys {
        match list_write(e, c, key) {
            Err(()) => return,
            Ok(None) => continue,
            Ok(Some(l)) if l.is_empty() => continue,
            Ok(Some(l)) => {
                let n = count.min(usize::MAX as u64) as usize;
                let popped = n.min(l.len());
                c.reply().array(2);
                c.reply().bulk(key);
                if e.propagating() {
                    // Replays as [LR]POP key count.
                    let n = itoa::Buffer::new().format(popped).as_bytes().to_vec();
                    e.propagate_as(propagate::argv(&[pop_event(end).as_bytes(), key, &n]));
                }
                pop_range_reply(e, c, key, end, n);
                return;
            }
        }
    }
    match timeout {
        Some(t) => e.block(
            c,
            keys.to_vec(),
            t,
            Kind::List,
            TimeoutReply::NullArray,
            args,
        ),
        None => c.reply().null_array(),
    }
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
fn blmpop(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(timeout) = parse_timeout(c, &args[1]) else {
        return;
    };
    mpop_generic(e, c, args, 2, Some(timeout));
}

/// BLPOP key [key ...] timeout / BRPOP key [key ...] timeout
fn bpop_generic(e: &mut Engine, c: &mut Client, args: &[Bytes], end: End) {
    let Some(timeout) = parse_timeout(c, &args[args.len() - 1]) else {
        return;
    };
    let keys = &args[1..args.len() - 1];
    for key in keys {
        match list_write(e, c, key) {
            Err(()) => return,
            Ok(None) => continue,
            Ok(Some(l)) if l.is_empty() => continue,
            Ok(Some(l)) => {
                let dbi = c.db;
                let v = l.pop(end).expect("checked not empty");
                let mut out = c.reply();
                out.array(2);
                out.bulk(key);
                out.bulk(&v);
                if e.propagating() {
                    // Replays as [LR]POP key.
                    e.propagate_as(propagate::argv(&[pop_event(end).as_bytes(), key]));
                }
                changed(e, c, dbi, key, pop_event(end));
                return;
            }
        }
    }
    e.block(
        c,
        keys.to_vec(),
        timeout,
        Kind::List,
        TimeoutReply::NullArray,
        args,
    );
}

/// BLPOP key [key ...] timeout
fn blpop(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    bpop_generic(e, c, args, End::Head);
}

/// BRPOP key [key ...] timeout
fn brpop(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    bpop_generic(e, c, args, End::Tail);
}

/// BLMOVE and BRPOPLPUSH once their arguments are parsed.
#[allow(clippy::too_many_arguments)]
fn bmove_generic(
    e: &mut Engine,
    c: &mut Client,
    args: &[Bytes],
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
    timeout: Option<Duration>,
) {
    match list_write(e, c, src) {
        Err(()) => {}
        Ok(Some(_)) => {
            if e.propagating() {
                // Replays as LMOVE / RPOPLPUSH.
                let a = if args.len() == 6 {
                    let mut a = args[..5].to_vec();
                    a[0] = Bytes::from_static(b"LMOVE");
                    a
                } else {
                    propagate::argv(&[b"RPOPLPUSH", src, dst])
                };
                e.propagate_as(a);
            }
            move_generic(e, c, src, dst, from, to)
        }
        Ok(None) => {
            let key = Bytes::copy_from_slice(src);
            e.block(c, vec![key], timeout, Kind::List, TimeoutReply::Null, args);
        }
    }
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
fn blmove(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(from) = arg_end(c, &args[3]) else {
        return;
    };
    let Some(to) = arg_end(c, &args[4]) else {
        return;
    };
    let Some(timeout) = parse_timeout(c, &args[5]) else {
        return;
    };
    bmove_generic(e, c, args, &args[1], &args[2], from, to, timeout);
}

/// BRPOPLPUSH source destination timeout
fn brpoplpush(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(timeout) = parse_timeout(c, &args[3]) else {
        return;
    };
    bmove_generic(
        e,
        c,
        args,
        &args[1],
        &args[2],
        End::Tail,
        End::Head,
        timeout,
    );
}

fn blmpop_keys(args: &[Bytes]) -> Vec<usize> {
    numkeys_keys(args, 2, None)
}

fn lmpop_keys(args: &[Bytes]) -> Vec<usize> {
    numkeys_keys(args, 1, None)
}

const R: u64 = acl::READ | acl::LIST;
const W: u64 = acl::WRITE | acl::LIST;

const fn spec(
    name: &'static str,
    arity: i32,
    flags: u64,
    acl: u64,
    keys: Keys,
    handler: crate::dispatch::Handler,
    since: &'static str,
) -> CommandSpec {
    CommandSpec::new(name, arity, flags, acl, keys, handler)
        .group("list")
        .since(since)
}

const TWO_KEYS: Keys = Keys {
    first: 1,
    last: 2,
    step: 1,
};

pub const COMMANDS: &[CommandSpec] = &[
    spec(
        "lpush",
        -3,
        f::WRITE | f::DENYOOM | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        lpush,
        "1.0.0",
    ),
    spec(
        "rpush",
        -3,
        f::WRITE | f::DENYOOM | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        rpush,
        "1.0.0",
    ),
    spec(
        "lpushx",
        -3,
        f::WRITE | f::DENYOOM | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        lpushx,
        "2.2.0",
    ),
    spec(
        "rpushx",
        -3,
        f::WRITE | f::DENYOOM | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        rpushx,
        "2.2.0",
    ),
    spec(
        "lpop",
        -2,
        f::WRITE | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        lpop,
        "1.0.0",
    ),
    spec(
        "rpop",
        -2,
        f::WRITE | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        rpop,
        "1.0.0",
    ),
    spec(
        "llen",
        2,
        f::READONLY | f::FAST,
        R | acl::FAST,
        Keys::ONE,
        llen,
        "1.0.0",
    ),
    spec(
        "lindex",
        3,
        f::READONLY,
        R | acl::SLOW,
        Keys::ONE,
        lindex,
        "1.0.0",
    ),
    spec(
        "lset",
        4,
        f::WRITE | f::DENYOOM,
        W | acl::SLOW,
        Keys::ONE,
        lset,
        "1.0.0",
    ),
    spec(
        "linsert",
        5,
        f::WRITE | f::DENYOOM,
        W | acl::SLOW,
        Keys::ONE,
        linsert,
        "2.2.0",
    ),
    spec(
        "lrange",
        4,
        f::READONLY,
        R | acl::SLOW,
        Keys::ONE,
        lrange,
        "1.0.0",
    ),
    spec(
        "ltrim",
        4,
        f::WRITE,
        W | acl::SLOW,
        Keys::ONE,
        ltrim,
        "1.0.0",
    ),
    spec("lrem", 4, f::WRITE, W | acl::SLOW, Keys::ONE, lrem, "1.0.0"),
    spec(
        "lpos",
        -3,
        f::READONLY,
        R | acl::SLOW,
        Keys::ONE,
        lpos,
        "6.0.6",
    ),
    spec(
        "lmove",
        5,
        f::WRITE | f::DENYOOM,
        W | acl::SLOW,
        TWO_KEYS,
        lmove,
        "6.2.0",
    ),
    spec(
        "rpoplpush",
        3,
        f::WRITE | f::DENYOOM,
        W | acl::SLOW,
        TWO_KEYS,
        rpoplpush,
        "1.2.0",
    ),
    spec(
        "lmpop",
        -4,
        f::WRITE | f::MOVABLE_KEYS,
        W | acl::SLOW,
        Keys::NONE,
        lmpop,
        "7.0.0",
    )
    .keys_fn(lmpop_keys),
    spec(
        "blpop",
        -3,
        f::WRITE | f::NOSCRIPT | f::BLOCKING,
        W | acl::SLOW | acl::BLOCKING,
        Keys {
            first: 1,
            last: -2,
            step: 1,
        },
        blpop,
        "2.0.0",
    ),
    spec(
        "brpop",
        -3,
        f::WRITE | f::NOSCRIPT | f::BLOCKING,
        W | acl::SLOW | acl::BLOCKING,
        Keys {
            first: 1,
            last: -2,
            step: 1,
        },
        brpop,
        "2.0.0",
    ),
    spec(
        "brpoplpush",
        4,
        f::WRITE | f::DENYOOM | f::NOSCRIPT | f::BLOCKING,
        W | acl::SLOW | acl::BLOCKING,
        TWO_KEYS,
        brpoplpush,
        "2.2.0",
    ),
    spec(
        "blmove",
        6,
        f::WRITE | f::DENYOOM | f::NOSCRIPT | f::BLOCKING,
        W | acl::SLOW | acl::BLOCKING,
        TWO_KEYS,
        blmove,
        "6.2.0",
    ),
    spec(
        "blmpop",
        -5,
        f::WRITE | f::BLOCKING | f::MOVABLE_KEYS,
        W | acl::SLOW | acl::BLOCKING,
        Keys::NONE,
        blmpop,
        "7.0.0",
    )
    .keys_fn(blmpop_keys),
];
