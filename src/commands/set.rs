//! Set commands.

use bytes::Bytes;

use super::keys::{parse_cursor, parse_scan_opts, ScanOpts, Type};
use super::{arg_i64, is, lookup_write, modified, notify, typed, Access};
use crate::config::notify as class;
use crate::dispatch::{acl, errors, flags as f, numkeys_keys, CommandSpec, Keys};
use crate::keyspace::set::{Elem, Set};
use crate::keyspace::{SBytes, Value};
use crate::server::client::Client;
use crate::server::propagate;
use crate::server::Engine;
use crate::util::glob::string_match;

/// SPOP with a count below `remaining * SPOP_MOVE_STRATEGY_MUL` pops members
/// one by one; above it, it keeps the few that remain and returns the rest.
const SPOP_MOVE_STRATEGY_MUL: usize = 5;
/// SRANDMEMBER with a count above `size / SRANDMEMBER_SUB_STRATEGY_MUL`
/// copies the set and removes random members instead of sampling.
const SRANDMEMBER_SUB_STRATEGY_MUL: usize = 3;
/// Output a repeating-sample reply (negative counts) may build before the
/// client is dropped, standing in for Redis's output buffer limit.
const MAX_SAMPLE_REPLY: usize = 1 << 30;
/// Rehash steps a random pick takes (Redis's dictGetSomeKeys steps once per
/// wanted entry, and SRANDMEMBER asks it for 20).
const RANDOM_REHASH_STEPS: usize = 20;

/// The set at `key`: Ok(None) when absent, Err after replying WRONGTYPE.
fn set_at<'a>(
    e: &'a mut Engine,
    c: &mut Client,
    key: &[u8],
    write: bool,
) -> Result<Option<&'a mut Set>, ()> {
    let access = if write { Access::Write } else { Access::Read };
    typed(e, c, key, access, |v| match v {
        Value::Set(x) => Some(&mut **x),
        _ => None,
    })
}

/// Looks every key up (expiry, hit counting, type check) for a multi-key
/// read; false after replying WRONGTYPE.
fn check_sets(e: &mut Engine, c: &mut Client, keys: &[Bytes]) -> bool {
    for k in keys {
        if set_at(e, c, k, false).is_err() {
            return false;
        }
    }
    true
}

/// The sets at `keys` (None for absent keys), after [`check_sets`].
fn gather<'a>(e: &'a Engine, dbi: usize, keys: &[Bytes]) -> Vec<Option<&'a Set>> {
    keys.iter()
        .map(|k| match e.ks.dbs[dbi].get_raw(k).map(|en| &en.value) {
            Some(Value::Set(s)) => Some(&**s),
            _ => None,
        })
        .collect()
}

fn put_elem(c: &mut Client, m: Elem<'_>) {
    let mut out = c.reply();
    match m {
        Elem::Int(n) => out.bulk_int(n),
        Elem::Str(s) => out.bulk(s),
    }
}

/// Replies with every member of `s` as a set.
fn reply_members(c: &mut Client, s: &Set) {
    c.reply().set(s.len());
    for m in s.iter() {
        put_elem(c, m);
    }
}

/// Stores `result` at `dst` (deleting `dst` when empty) and replies with
/// its size, as the *STORE variants do.
fn store(e: &mut Engine, c: &mut Client, dst: &[u8], result: Set, event: &str) {
    let dbi = c.db;
    let n = result.len();
    if n > 0 {
        e.ks.dbs[dbi].set(dst, Value::from_set(result), false);
        modified(e, c, dbi, dst);
        notify(e, c, class::SET, event, dbi, dst);
    } else if e.ks.dbs[dbi].remove(dst).is_some() {
        modified(e, c, dbi, dst);
        notify(e, c, class::GENERIC, "del", dbi, dst);
    }
    c.reply().int(n as i64);
}

/// Deletes `key` when its set became empty; true when it did.
fn drop_if_empty(e: &mut Engine, dbi: usize, key: &[u8]) -> bool {
    if matches!(e.ks.dbs[dbi].get_raw(key).map(|en| &en.value), Some(Value::Set(s)) if s.is_empty())
    {
        e.ks.dbs[dbi].remove(key);
        return true;
    }
    false
}

/// Notifies `event` on `key`, then `del` when the change emptied it.
fn notify_change(e: &mut Engine, c: &mut Client, dbi: usize, key: &[u8], event: &str, gone: bool) {
    notify(e, c, class::SET, event, dbi, key);
    if gone {
        notify(e, c, class::GENERIC, "del", dbi, key);
    }
}

/// SADD key member [member ...]
fn sadd(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let max = e.config.set_max_intset_entries;
    let dbi = c.db;
    let added = match set_at(e, c, &args[1], true) {
        Err(()) => return,
        Ok(Some(s)) => args[2..].iter().filter(|m| s.add(m, max)).count(),
        Ok(None) => {
            let mut s = Set::for_member(&args[2]);
            let n = args[2..].iter().filter(|m| s.add(m, max)).count();
            e.ks.dbs[dbi].add(SBytes::new(&args[1]), Value::from_set(s));
            n
        }
    };
    if added > 0 {
        e.touch_key(c, dbi, &args[1]);
        e.dirty += added as u64;
        notify(e, c, class::SET, "sadd", dbi, &args[1]);
    }
    c.reply().int(added as i64);
}

/// SREM key member [member ...]
fn srem(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let dbi = c.db;
    let removed = match set_at(e, c, &args[1], true) {
        Err(()) => return,
        Ok(None) => 0,
        Ok(Some(s)) => {
            let mut n = 0;
            for m in &args[2..] {
                if s.remove(m) {
                    n += 1;
                    if s.is_empty() {
                        break;
                    }
                }
            }
            n
        }
    };
    if removed > 0 {
        let gone = drop_if_empty(e, dbi, &args[1]);
        e.touch_key(c, dbi, &args[1]);
        e.dirty += removed as u64;
        notify_change(e, c, dbi, &args[1], "srem", gone);
    }
    c.reply().int(removed as i64);
}

/// SMEMBERS key
fn smembers(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    match set_at(e, c, &args[1], false) {
        Err(()) => {}
        Ok(None) => c.reply().set(0),
        Ok(Some(s)) => reply_members(c, s),
    }
}

/// SISMEMBER key member
fn sismember(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    match set_at(e, c, &args[1], false) {
        Err(()) => {}
        Ok(s) => {
            let yes = s.is_some_and(|s| {
                s.rehash_steps(1);
                s.contains(&args[2])
            });
            c.reply().int(yes as i64);
        }
    }
}

/// SMISMEMBER key member [member ...]
fn smismember(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Ok(mut s) = set_at(e, c, &args[1], false) else {
        return;
    };
    if let Some(s) = s.as_mut() {
        s.rehash_steps(args.len() - 2);
    }
    let mut out = c.reply();
    out.array(args.len() - 2);
    for m in &args[2..] {
        out.int(s.as_ref().is_some_and(|s| s.contains(m)) as i64);
    }
}

/// SCARD key
fn scard(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    match set_at(e, c, &args[1], false) {
        Err(()) => {}
        Ok(s) => {
            let n = s.map_or(0, |s| s.len());
            c.reply().int(n as i64);
        }
    }
}

/// SPOP key [count]
fn spop(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if args.len() > 3 {
        c.reply().error(errors::SYNTAX);
        return;
    }
    let dbi = c.db;
    if args.len() == 3 {
        spop_count(e, c, args);
        return;
    }
    let mut rng = rand::thread_rng();
    let popped = match set_at(e, c, &args[1], true) {
        Err(()) => None,
        Ok(None) => {
            c.reply().null();
            None
        }
        Ok(Some(s)) => s.pop_random(&mut rng),
    };
    if let Some(m) = popped {
        c.reply().bulk(&m);
        if e.propagating() {
            // Replays as SREM key member.
            e.propagate_as(propagate::argv(&[b"SREM", &args[1], &m]));
        }
        let gone = drop_if_empty(e, dbi, &args[1]);
        modified(e, c, dbi, &args[1]);
        notify_change(e, c, dbi, &args[1], "spop", gone);
    }
}

fn spop_count(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(count) = arg_i64(c, &args[2]) else {
        return;
    };
    if count < 0 {
        c.reply()
            .error("ERR value is out of range, must be positive");
        return;
    }
    let dbi = c.db;
    let max = e.config.set_max_intset_entries;
    let mut rng = rand::thread_rng();
    let mut popped = e.propagating().then(Vec::new);
    let done = spop_count_inner(e, c, &args[1], count as u64, max, &mut rng, &mut popped);
    if let Some(n) = done {
        // Replays as DEL when the whole set went, else as one SREM per
        // member (wrapped in MULTI/EXEC by the dispatcher).
        if let Some(members) = popped {
            if members.is_empty() {
                e.propagate_as(propagate::argv(&[b"DEL", &args[1]]));
            } else {
                e.prevent_propagation();
                for m in members {
                    e.also_propagate(dbi, propagate::argv(&[b"SREM", &args[1], &m]));
                }
            }
        }
        let gone = drop_if_empty(e, dbi, &args[1]);
        e.touch_key(c, dbi, &args[1]);
        e.dirty += n as u64;
        notify_change(e, c, dbi, &args[1], "spop", gone);
    }
}

/// Pops `count` members, replying; Some(number popped) when the set changed.
fn spop_count_inner(
    e: &mut Engine,
    c: &mut Client,
    key: &[u8],
    count: u64,
    max_intset: usize,
    rng: &mut impl rand::Rng,
    popped: &mut Option<Vec<Vec<u8>>>,
) -> Option<usize> {
    let s = match set_at(e, c, key, true) {
        Err(()) => return None,
        Ok(None) => {
            c.reply().set(0);
            return None;
        }
        Ok(Some(s)) => s,
    };
    if count == 0 {
        c.reply().set(0);
        return None;
    }
    let size = s.len();
    if count >= size as u64 {
        // Everything goes: the caller deletes the now empty key.
        reply_members(c, s);
        let taken = std::mem::take(s);
        drop(taken);
        return Some(size);
    }
    let count = count as usize;
    let remaining = size - count;
    c.reply().set(count);
    if remaining * SPOP_MOVE_STRATEGY_MUL > count {
        for _ in 0..count {
            let m = s.pop_random(rng).expect("count < size");
            c.reply().bulk(&m);
            if let Some(p) = popped {
                p.push(m);
            }
        }
    } else {
        // Few remain: move those to a new set and return the old one.
        let mut keep = Set::default();
        for _ in 0..remaining {
            let m = s.pop_random(rng).expect("remaining < size");
            if keep.is_empty() {
                keep = Set::for_member(&m);
            }
            keep.add(&m, max_intset);
        }
        for m in s.iter() {
            if let Some(p) = popped {
                p.push(m.to_vec());
            }
            put_elem(c, m);
        }
        *s = keep;
    }
    Some(count)
}

/// SRANDMEMBER key [count]
fn srandmember(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if args.len() > 3 {
        c.reply().error(errors::SYNTAX);
        return;
    }
    let mut rng = rand::thread_rng();
    if args.len() == 3 {
        srandmember_count(e, c, args, &mut rng);
    } else {
        match set_at(e, c, &args[1], false) {
            Err(()) => {}
            Ok(None) => c.reply().null(),
            Ok(Some(s)) => {
                s.rehash_steps(RANDOM_REHASH_STEPS);
                match s.random(&mut rng) {
                    Some(m) => put_elem(c, m),
                    None => c.reply().null(),
                }
            }
        }
    }
}

fn srandmember_count(e: &mut Engine, c: &mut Client, args: &[Bytes], rng: &mut impl rand::Rng) {
    let Some(l) = arg_i64(c, &args[2]) else {
        return;
    };
    if l == i64::MIN {
        c.reply().error(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        );
        return;
    }
    let uniq = l >= 0;
    let count = l.unsigned_abs();
    let s = match set_at(e, c, &args[1], false) {
        Err(()) => return,
        Ok(None) => {
            c.reply().array(0);
            return;
        }
        Ok(Some(s)) => {
            s.rehash_steps(RANDOM_REHASH_STEPS);
            &*s
        }
    };
    if count == 0 {
        c.reply().array(0);
        return;
    }
    let size = s.len();
    if !uniq || count == 1 {
        // Sampling with repetition; the header is written first, so a
        // hostile count ends the connection once the reply grows too big.
        c.reply().array(count as usize);
        for _ in 0..count {
            let m = s.random(rng).expect("non-empty set");
            put_elem(c, m);
            if c.out.len() > MAX_SAMPLE_REPLY {
                c.close_asap = true;
                break;
            }
        }
        return;
    }
    if count >= size as u64 {
        c.reply().array(size);
        for m in s.iter() {
            put_elem(c, m);
        }
        return;
    }
    let count = count as usize;
    let picked: Vec<Vec<u8>> = if count * SRANDMEMBER_SUB_STRATEGY_MUL > size {
        // Copy everything, then remove random members down to `count`.
        let mut all: Vec<Vec<u8>> = s.iter().map(|m| m.to_vec()).collect();
        while all.len() > count {
            let i = rng.gen_range(0..all.len());
            all.swap_remove(i);
        }
        all
    } else {
        let mut seen = std::collections::HashSet::with_capacity(count);
        let mut order = Vec::with_capacity(count);
        while order.len() < count {
            let m = s.random(rng).expect("non-empty set").to_vec();
            if seen.insert(m.clone()) {
                order.push(m);
            }
        }
        order
    };
    let mut out = c.reply();
    out.array(picked.len());
    for m in &picked {
        out.bulk(m);
    }
}

/// SMOVE source destination member
fn smove(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let (src, dst, m) = (&args[1], &args[2], &args[3]);
    let dbi = c.db;
    let max = e.config.set_max_intset_entries;
    let src_exists = match set_at(e, c, src, true) {
        Err(()) => return,
        Ok(s) => s.is_some(),
    };
    // Redis checks the destination's type only when the source exists.
    let dst_exists = match lookup_write(e, dbi, dst) {
        None => false,
        Some(en) if matches!(en.value, Value::Set(_)) => true,
        Some(_) if src_exists => {
            c.reply().error(errors::WRONGTYPE);
            return;
        }
        Some(_) => false,
    };
    if !src_exists {
        c.reply().int(0);
        return;
    }
    if src == dst {
        let yes = matches!(set_at(e, c, src, true), Ok(Some(s)) if s.contains(m));
        c.reply().int(yes as i64);
        return;
    }
    let removed = set_at(e, c, src, true).is_ok_and(|s| s.is_some_and(|s| s.remove(m)));
    if !removed {
        c.reply().int(0);
        return;
    }
    let gone = drop_if_empty(e, dbi, src);
    modified(e, c, dbi, src);
    notify_change(e, c, dbi, src, "srem", gone);
    let added = if dst_exists {
        set_at(e, c, dst, true).is_ok_and(|s| s.is_some_and(|s| s.add(m, max)))
    } else {
        let mut s = Set::for_member(m);
        s.add(m, max);
        e.ks.dbs[dbi].add(SBytes::new(dst), Value::from_set(s));
        true
    };
    if added {
        modified(e, c, dbi, dst);
        notify(e, c, class::SET, "sadd", dbi, dst);
    }
    c.reply().int(1);
}

/// What a multi-set intersection produces.
enum InterOut<'a> {
    Reply,
    Card(usize),
    Store(&'a [u8]),
}

fn inter_generic(e: &mut Engine, c: &mut Client, keys: &[Bytes], mode: InterOut<'_>) {
    if !check_sets(e, c, keys) {
        return;
    }
    let dbi = c.db;
    let max = e.config.set_max_intset_entries;
    let mut sets = gather(e, dbi, keys);
    if sets.iter().any(|s| s.is_none()) {
        match mode {
            InterOut::Reply => c.reply().set(0),
            InterOut::Card(_) => c.reply().int(0),
            InterOut::Store(dst) => {
                if e.ks.dbs[dbi].remove(dst).is_some() {
                    modified(e, c, dbi, dst);
                    notify(e, c, class::GENERIC, "del", dbi, dst);
                }
                c.reply().int(0);
            }
        }
        return;
    }
    let mut sets: Vec<&Set> = sets.drain(..).flatten().collect();
    sets.sort_by_key(|s| s.len());
    let (first, rest) = sets.split_first().expect("at least one key");
    let in_all = |m: Elem<'_>| {
        rest.iter()
            .all(|s| std::ptr::eq(*s, *first) || s.contains_elem(m))
    };
    match mode {
        InterOut::Reply => {
            let mut out = c.reply();
            let d = out.deferred();
            let mut n = 0;
            for m in first.iter().filter(|m| in_all(*m)) {
                match m {
                    Elem::Int(v) => out.bulk_int(v),
                    Elem::Str(s) => out.bulk(s),
                }
                n += 1;
            }
            out.finish_set(d, n);
        }
        InterOut::Card(limit) => {
            let mut n = 0;
            for m in first.iter() {
                if in_all(m) {
                    n += 1;
                    if limit > 0 && n >= limit {
                        break;
                    }
                }
            }
            c.reply().int(n as i64);
        }
        InterOut::Store(dst) => {
            let mut result = Set::new_intset();
            for m in first.iter().filter(|m| in_all(*m)) {
                result.add_elem(m, max);
            }
            store(e, c, dst, result, "sinterstore");
        }
    }
}

/// SINTER key [key ...]
fn sinter(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    inter_generic(e, c, &args[1..], InterOut::Reply);
}

/// SINTERSTORE destination key [key ...]
fn sinterstore(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    inter_generic(e, c, &args[2..], InterOut::Store(&args[1]));
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
fn sintercard(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    const NUMKEYS: &str = "ERR numkeys should be greater than 0";
    let numkeys = match crate::util::num::string2ll(&args[1]) {
        Some(n) if n >= 1 => n as u64,
        _ => {
            c.reply().error(NUMKEYS);
            return;
        }
    };
    if numkeys > (args.len() - 2) as u64 {
        c.reply()
            .error("ERR Number of keys can't be greater than number of args");
        return;
    }
    let numkeys = numkeys as usize;
    let mut limit = 0usize;
    let mut j = 2 + numkeys;
    while j < args.len() {
        if is(&args[j], "limit") && j + 1 < args.len() {
            j += 1;
            match crate::util::num::string2ll(&args[j]) {
                Some(n) if n >= 0 => limit = usize::try_from(n).unwrap_or(usize::MAX),
                _ => {
                    c.reply().error("ERR LIMIT can't be negative");
                    return;
                }
            }
        } else {
            c.reply().error(errors::SYNTAX);
            return;
        }
        j += 1;
    }
    inter_generic(e, c, &args[2..2 + numkeys], InterOut::Card(limit));
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Diff,
}

/// Computes the union or difference of the sets at `keys` (Redis starts
/// from an empty intset, so small integer results stay `intset`).
fn union_diff(e: &mut Engine, c: &mut Client, keys: &[Bytes], op: Op) -> Option<Set> {
    if !check_sets(e, c, keys) {
        return None;
    }
    let dbi = c.db;
    let max = e.config.set_max_intset_entries;
    let sets = gather(e, dbi, keys);
    let mut result = Set::new_intset();
    match op {
        Op::Union => {
            for s in sets.iter().flatten() {
                for m in s.iter() {
                    result.add_elem(m, max);
                }
            }
        }
        Op::Diff => {
            let Some(first) = sets[0] else {
                return Some(result);
            };
            let same = sets[1..].iter().flatten().any(|s| std::ptr::eq(*s, first));
            if same {
                return Some(result);
            }
            let others: Vec<&Set> = sets[1..].iter().flatten().copied().collect();
            for m in first.iter() {
                if !others.iter().any(|s| s.contains_elem(m)) {
                    result.add_elem(m, max);
                }
            }
        }
    }
    Some(result)
}

/// SUNION key [key ...]
fn sunion(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if let Some(r) = union_diff(e, c, &args[1..], Op::Union) {
        reply_members(c, &r);
    }
}

/// SUNIONSTORE destination key [key ...]
fn sunionstore(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if let Some(r) = union_diff(e, c, &args[2..], Op::Union) {
        store(e, c, &args[1], r, "sunionstore");
    }
}

/// SDIFF key [key ...]
fn sdiff(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if let Some(r) = union_diff(e, c, &args[1..], Op::Diff) {
        reply_members(c, &r);
    }
}

/// SDIFFSTORE destination key [key ...]
fn sdiffstore(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if let Some(r) = union_diff(e, c, &args[2..], Op::Diff) {
        store(e, c, &args[1], r, "sdiffstore");
    }
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
fn sscan(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(cursor) = parse_cursor(c, &args[2]) else {
        return;
    };
    let s = match set_at(e, c, &args[1], false) {
        Err(()) => return,
        Ok(None) => {
            c.reply().raw(b"*2\r\n$1\r\n0\r\n*0\r\n");
            return;
        }
        Ok(Some(s)) => &*s,
    };
    let Some(ScanOpts { count, pattern, .. }) = parse_scan_opts(c, args, 3, Type::No) else {
        return;
    };
    let mut found: Vec<Vec<u8>> = Vec::new();
    let next = s.scan(cursor, count, |m| {
        m.with(|b| {
            if pattern.is_none_or(|p| string_match(p, b, false)) {
                found.push(b.to_vec());
            }
        })
    });
    let mut out = c.reply();
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next).as_bytes());
    out.array(found.len());
    for m in &found {
        out.bulk(m);
    }
}

/// Key positions of SINTERCARD-style commands: `numkeys` then the keys.
fn numkeys_at_1(args: &[Bytes]) -> Vec<usize> {
    numkeys_keys(args, 1, None)
}

const R: u64 = acl::READ | acl::SET;
const W: u64 = acl::WRITE | acl::SET;
const STORE: Keys = Keys {
    first: 1,
    last: -1,
    step: 1,
};

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "sadd",
        -3,
        f::WRITE | f::DENYOOM | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        sadd,
    )
    .group("set"),
    CommandSpec::new(
        "srem",
        -3,
        f::WRITE | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        srem,
    )
    .group("set"),
    CommandSpec::new(
        "smembers",
        2,
        f::READONLY,
        R | acl::SLOW,
        Keys::ONE,
        smembers,
    )
    .group("set"),
    CommandSpec::new(
        "sismember",
        3,
        f::READONLY | f::FAST,
        R | acl::FAST,
        Keys::ONE,
        sismember,
    )
    .group("set"),
    CommandSpec::new(
        "smismember",
        -3,
        f::READONLY | f::FAST,
        R | acl::FAST,
        Keys::ONE,
        smismember,
    )
    .group("set"),
    CommandSpec::new(
        "scard",
        2,
        f::READONLY | f::FAST,
        R | acl::FAST,
        Keys::ONE,
        scard,
    )
    .group("set"),
    CommandSpec::new(
        "spop",
        -2,
        f::WRITE | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        spop,
    )
    .group("set"),
    CommandSpec::new(
        "srandmember",
        -2,
        f::READONLY,
        R | acl::SLOW,
        Keys::ONE,
        srandmember,
    )
    .group("set"),
    CommandSpec::new(
        "smove",
        4,
        f::WRITE | f::FAST,
        W | acl::FAST,
        Keys {
            first: 1,
            last: 2,
            step: 1,
        },
        smove,
    )
    .group("set"),
    CommandSpec::new("sinter", -2, f::READONLY, R | acl::SLOW, Keys::ALL, sinter).group("set"),
    CommandSpec::new(
        "sintercard",
        -3,
        f::READONLY | f::MOVABLE_KEYS,
        R | acl::SLOW,
        Keys::NONE,
        sintercard,
    )
    .keys_fn(numkeys_at_1)
    .group("set"),
    CommandSpec::new(
        "sinterstore",
        -3,
        f::WRITE | f::DENYOOM,
        W | acl::SLOW,
        STORE,
        sinterstore,
    )
    .group("set"),
    CommandSpec::new("sunion", -2, f::READONLY, R | acl::SLOW, Keys::ALL, sunion).group("set"),
    CommandSpec::new(
        "sunionstore",
        -3,
        f::WRITE | f::DENYOOM,
        W | acl::SLOW,
        STORE,
        sunionstore,
    )
    .group("set"),
    CommandSpec::new("sdiff", -2, f::READONLY, R | acl::SLOW, Keys::ALL, sdiff).group("set"),
    CommandSpec::new(
        "sdiffstore",
        -3,
        f::WRITE | f::DENYOOM,
        W | acl::SLOW,
        STORE,
        sdiffstore,
    )
    .group("set"),
    CommandSpec::new("sscan", -3, f::READONLY, R | acl::SLOW, Keys::ONE, sscan).group("set"),
];
