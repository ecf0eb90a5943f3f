//! Generic keyspace commands: existence, deletion, renaming, expiry,
//! iteration and database management.

use bytes::Bytes;

use super::{arg_i64, is, lookup_read, lookup_write, modified, note_miss, notify};
use crate::config::notify as class;
use crate::dispatch::{acl, errors, flags as f, CommandSpec, Keys};
use crate::keyspace::{now_ms, Kind};
use crate::server::client::Client;
use crate::server::propagate;
use crate::server::Engine;
use crate::util::glob::string_match;
use crate::util::num;

/// DEL key [key ...]
fn del(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let dbi = c.db;
    let mut n = 0;
    for key in &args[1..] {
        let mode = e.expire_mode();
        let db = &mut e.ks.dbs[dbi];
        if !db.exists(key, now_ms(), mode) {
            continue;
        }
        if let Some(entry) = db.remove(key) {
            let effort = entry.value.free_effort();
            e.free_later(entry, effort);
            modified(e, c, dbi, key);
            notify(e, c, class::GENERIC, "del", dbi, key);
            n += 1;
        }
    }
    c.reply().int(n);
}

/// EXISTS key [key ...]
fn exists(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let dbi = c.db;
    let mode = e.expire_mode();
    let now = now_ms();
    let mut n = 0;
    for k in &args[1..] {
        if e.ks.dbs[dbi].exists(k, now, mode) {
            n += 1;
        } else {
            note_miss(e, dbi, k);
        }
    }
    c.reply().int(n as i64);
}

/// TOUCH key [key ...]
fn touch(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let dbi = c.db;
    let n = args[1..]
        .iter()
        .filter(|k| lookup_read(e, dbi, k).is_some())
        .count();
    c.reply().int(n as i64);
}

/// TYPE key
fn type_(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let dbi = c.db;
    let mode = e.expire_mode();
    let name = match e.ks.dbs[dbi].peek(&args[1], now_ms(), mode) {
        Some(entry) => entry.value.kind().name(),
        None => {
            note_miss(e, dbi, &args[1]);
            "none"
        }
    };
    c.reply().simple(name);
}

/// RENAME key newkey / RENAMENX key newkey
fn rename_generic(e: &mut Engine, c: &mut Client, args: &[Bytes], nx: bool) {
    let dbi = c.db;
    let (src, dst) = (&args[1], &args[2]);
    if lookup_write(e, dbi, src).is_none() {
        c.reply().error(errors::NO_SUCH_KEY);
        return;
    }
    if src == dst {
        if nx {
            c.reply().int(0);
        } else {
            c.reply().ok();
        }
        return;
    }
    if lookup_write(e, dbi, dst).is_some() {
        if nx {
            c.reply().int(0);
            return;
        }
        if let Some(old) = e.ks.dbs[dbi].remove(dst) {
            let effort = old.value.free_effort();
            e.free_later(old, effort);
        }
    }
    let db = &mut e.ks.dbs[dbi];
    let deadline = db.expire_of(src);
    let mut entry = db.remove(src).expect("source exists");
    entry.key = crate::keyspace::SBytes::new(dst);
    db.insert_entry(entry, deadline);
    modified(e, c, dbi, src);
    modified(e, c, dbi, dst);
    e.dirty -= 1;
    notify(e, c, class::GENERIC, "rename_from", dbi, src);
    notify(e, c, class::GENERIC, "rename_to", dbi, dst);
    if nx {
        c.reply().int(1);
    } else {
        c.reply().ok();
    }
}

fn rename(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    rename_generic(e, c, args, false);
}

fn renamenx(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    rename_generic(e, c, args, true);
}

/// Parses a database index argument as getIntFromObjectOrReply does.
fn db_index(e: &Engine, c: &mut Client, a: &[u8], not_int: &str) -> Option<usize> {
    match num::string2ll(a) {
        Some(n) if n >= i32::MIN as i64 && n <= i32::MAX as i64 => {
            if n < 0 || n as usize >= e.ks.dbs.len() {
                c.reply().error(errors::DB_INDEX);
                None
            } else {
                Some(n as usize)
            }
        }
        _ => {
            c.reply().error(not_int);
            None
        }
    }
}

/// COPY source destination [DB destination-db] [REPLACE]
fn copy(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let mut dst_db = c.db;
    let mut replace = false;
    let mut j = 3;
    while j < args.len() {
        if is(&args[j], "replace") {
            replace = true;
        } else if is(&args[j], "db") && j + 1 < args.len() {
            let Some(d) = db_index(e, c, &args[j + 1], errors::NOT_INT) else {
                return;
            };
            dst_db = d;
            j += 1;
        } else {
            c.reply().error(errors::SYNTAX);
            return;
        }
        j += 1;
    }
    let (src, dst) = (&args[1], &args[2]);
    if dst_db == c.db && src == dst {
        c.reply()
            .error("ERR source and destination objects are the same");
        return;
    }
    let dbi = c.db;
    let Some(entry) = lookup_read(e, dbi, src) else {
        c.reply().int(0);
        return;
    };
    let value = entry.value.clone();
    let deadline = e.ks.dbs[dbi].expire_of(src);
    if lookup_write(e, dst_db, dst).is_some() {
        if !replace {
            c.reply().int(0);
            return;
        }
        e.ks.dbs[dst_db].remove(dst);
    }
    let ddb = &mut e.ks.dbs[dst_db];
    ddb.add(crate::keyspace::SBytes::new(dst), value);
    if let Some(at) = deadline {
        ddb.set_expire(dst, at);
    }
    modified(e, c, dst_db, dst);
    notify(e, c, class::GENERIC, "copy_to", dst_db, dst);
    c.reply().int(1);
}

/// MOVE key db
fn move_(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(to) = db_index(e, c, &args[2], errors::NOT_INT) else {
        return;
    };
    let from = c.db;
    if to == from {
        c.reply()
            .error("ERR source and destination objects are the same");
        return;
    }
    let key = &args[1];
    if lookup_write(e, from, key).is_none() {
        c.reply().int(0);
        return;
    }
    if lookup_write(e, to, key).is_some() {
        c.reply().int(0);
        return;
    }
    let deadline = e.ks.dbs[from].expire_of(key);
    let entry = e.ks.dbs[from].remove(key).expect("exists");
    e.ks.dbs[to].insert_entry(entry, deadline);
    modified(e, c, from, key);
    modified(e, c, to, key);
    e.dirty -= 1;
    notify(e, c, class::GENERIC, "move_from", from, key);
    notify(e, c, class::GENERIC, "move_to", to, key);
    c.reply().int(1);
}

/// SWAPDB index1 index2
fn swapdb(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let a = match num::string2ll(&args[1]) {
        Some(n) if n >= i32::MIN as i64 && n <= i32::MAX as i64 => n,
        _ => {
            c.reply().error("ERR invalid first DB index");
            return;
        }
    };
    let b = match num::string2ll(&args[2]) {
        Some(n) if n >= i32::MIN as i64 && n <= i32::MAX as i64 => n,
        _ => {
            c.reply().error("ERR invalid second DB index");
            return;
        }
    };
    let n = e.ks.dbs.len() as i64;
    if a < 0 || a >= n || b < 0 || b >= n {
        c.reply().error(errors::DB_INDEX);
        return;
    }
    let (a, b) = (a as usize, b as usize);
    if a != b {
        // WATCHers of keys in either database see them change.
        e.touch_db(c, a, Some(b));
        e.touch_db(c, b, Some(a));
        let (lo, hi) = (a.min(b), a.max(b));
        let (left, right) = e.ks.dbs.split_at_mut(hi);
        left[lo].swap_contents(&mut right[0]);
        e.signal_db_ready(a);
        e.signal_db_ready(b);
        e.dirty += 1;
    }
    c.reply().ok();
}

/// Parses FLUSHDB / FLUSHALL's optional ASYNC | SYNC.
fn flush_async(e: &Engine, c: &mut Client, args: &[Bytes]) -> Option<bool> {
    match args.len() {
        1 => Some(e.config.lazyfree_lazy_user_flush),
        2 if is(&args[1], "async") => Some(true),
        2 if is(&args[1], "sync") => Some(false),
        _ => {
            c.reply().error(errors::SYNTAX);
            None
        }
    }
}

/// FLUSHDB [ASYNC | SYNC]
fn flushdb(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(lazy) = flush_async(e, c, args) else {
        return;
    };
    let dbi = c.db;
    e.touch_db(c, dbi, None);
    let old = e.ks.dbs[dbi].clear();
    let n = old.len();
    e.dirty += n as u64;
    e.free_later(old, if lazy { usize::MAX } else { n });
    // XREADGROUP clients blocked on a key that is gone are unblocked.
    e.signal_db_ready(dbi);
    // Replayed even when the database was already empty.
    e.force_propagation();
    c.reply().ok();
}

/// FLUSHALL [ASYNC | SYNC]
fn flushall(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(lazy) = flush_async(e, c, args) else {
        return;
    };
    for dbi in 0..e.ks.dbs.len() {
        e.touch_db(c, dbi, None);
    }
    let mut total = 0;
    let mut garbage = Vec::new();
    for db in &mut e.ks.dbs {
        let old = db.clear();
        total += old.len();
        garbage.push(old);
    }
    // Always a change, even of empty databases (Redis forces its
    // propagation); with save points the save that follows resets it.
    e.dirty += total as u64 + 1;
    e.flushall_reset_rdb();
    e.free_later(garbage, if lazy { usize::MAX } else { total });
    for dbi in 0..e.ks.dbs.len() {
        e.signal_db_ready(dbi);
    }
    e.force_propagation();
    c.reply().ok();
}

/// DBSIZE
fn dbsize(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    let n = e.ks.dbs[c.db].len();
    c.reply().int(n as i64);
}

/// RANDOMKEY
fn randomkey(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    let mode = e.expire_mode();
    let dbi = c.db;
    let key = e.ks.dbs[dbi].random_key(now_ms(), mode, &mut e.rng);
    match key {
        Some(k) => c.reply().bulk(&k),
        None => c.reply().null(),
    }
}

/// KEYS pattern
fn keys(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let pat = &args[1][..];
    let all = pat == b"*";
    let now = now_ms();
    let dbi = c.db;
    let mut out = c.reply();
    let d = out.deferred();
    let mut n = 0;
    e.ks.dbs[dbi].for_each_live(now, |entry| {
        if all || string_match(pat, &entry.key, false) {
            out.bulk(&entry.key);
            n += 1;
        }
    });
    out.finish_array(d, n);
}

/// Parses a SCAN cursor as Redis does (an unsigned 64-bit decimal).
pub fn parse_cursor(c: &mut Client, a: &[u8]) -> Option<u64> {
    let ok = !a.is_empty() && a.iter().all(|b| b.is_ascii_digit());
    match std::str::from_utf8(a)
        .ok()
        .filter(|_| ok)
        .and_then(|s| s.parse::<u64>().ok())
    {
        Some(n) => Some(n),
        None => {
            c.reply().error("ERR invalid cursor");
            None
        }
    }
}

/// Whether a SCAN-family command takes a TYPE option (only SCAN does).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Type {
    No,
    Yes,
}

/// The options of SCAN, SSCAN, HSCAN and ZSCAN.
pub struct ScanOpts<'a> {
    /// COUNT, capped so that no step is unbounded (it is only a hint).
    pub count: usize,
    /// MATCH, None when absent or `*`.
    pub pattern: Option<&'a [u8]>,
    /// TYPE (SCAN only).
    pub typ: Option<&'a [u8]>,
}

/// Parses `[MATCH pattern] [COUNT count] [TYPE type]` from `args[from..]`,
/// as Redis's scanGenericCommand; None after replying with the error.
pub fn parse_scan_opts<'a>(
    c: &mut Client,
    args: &'a [Bytes],
    from: usize,
    with_type: Type,
) -> Option<ScanOpts<'a>> {
    let mut opts = ScanOpts {
        count: 10,
        pattern: None,
        typ: None,
    };
    let mut i = from;
    while i < args.len() {
        let left = args.len() - i;
        if is(&args[i], "count") && left >= 2 {
            let n = arg_i64(c, &args[i + 1])?;
            if n < 1 {
                c.reply().error(errors::SYNTAX);
                return None;
            }
            opts.count = n.min(1 << 20) as usize;
        } else if is(&args[i], "match") && left >= 2 {
            let p = &args[i + 1][..];
            opts.pattern = if p == b"*" { None } else { Some(p) };
        } else if with_type == Type::Yes && is(&args[i], "type") && left >= 2 {
            opts.typ = Some(&args[i + 1][..]);
        } else {
            c.reply().error(errors::SYNTAX);
            return None;
        }
        i += 2;
    }
    Some(opts)
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
fn scan(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(cursor) = parse_cursor(c, &args[1]) else {
        return;
    };
    let Some(ScanOpts {
        count,
        pattern,
        typ,
    }) = parse_scan_opts(c, args, 2, Type::Yes)
    else {
        return;
    };
    let dbi = c.db;
    let mut found: Vec<Bytes> = Vec::new();
    let want_kind = typ.map(Kind::from_name);
    let next = e.ks.dbs[dbi].scan(cursor, count, |entry| {
        if let Some(p) = pattern {
            if !string_match(p, &entry.key, false) {
                return;
            }
        }
        if let Some(k) = want_kind {
            if k != Some(entry.value.kind()) {
                return;
            }
        }
        found.push(Bytes::copy_from_slice(&entry.key));
    });
    // Keys that expired are dropped (and deleted, on a primary) as Redis does.
    let mode = e.expire_mode();
    let now = now_ms();
    found.retain(|k| e.ks.dbs[dbi].exists(k, now, mode));
    let mut out = c.reply();
    out.array(2);
    out.bulk(next.to_string().as_bytes());
    out.array(found.len());
    for k in &found {
        out.bulk(k);
    }
}

/// Parses the NX | XX | GT | LT options of EXPIRE and friends.
fn expire_flags(c: &mut Client, args: &[Bytes]) -> Option<u8> {
    const NX: u8 = 1;
    const XX: u8 = 2;
    const GT: u8 = 4;
    const LT: u8 = 8;
    let mut fl = 0;
    for a in &args[3..] {
        if is(a, "nx") {
            fl |= NX;
        } else if is(a, "xx") {
            fl |= XX;
        } else if is(a, "gt") {
            fl |= GT;
        } else if is(a, "lt") {
            fl |= LT;
        } else {
            c.reply().error(&format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(a)
            ));
            return None;
        }
    }
    if fl & NX != 0 && fl & (XX | GT | LT) != 0 {
        c.reply()
            .error("ERR NX and XX, GT or LT options at the same time are not compatible");
        return None;
    }
    if fl & GT != 0 && fl & LT != 0 {
        c.reply()
            .error("ERR GT and LT options at the same time are not compatible");
        return None;
    }
    Some(fl)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Seconds,
    Millis,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Base {
    Now,
    Epoch,
}

/// EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT key time [NX | XX | GT | LT]
fn expire_generic(e: &mut Engine, c: &mut Client, args: &[Bytes], unit: Unit, base: Base) {
    let Some(fl) = expire_flags(c, args) else {
        return;
    };
    let Some(mut when) = arg_i64(c, &args[2]) else {
        return;
    };
    let cmd = e.commands.rows[c.cmd_index.unwrap_or(0)].fullname.clone();
    if unit == Unit::Seconds {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            c.reply().error(&errors::invalid_expire(&cmd));
            return;
        }
        when *= 1000;
    }
    let basetime = if base == Base::Now { now_ms() } else { 0 };
    if when > i64::MAX - basetime {
        c.reply().error(&errors::invalid_expire(&cmd));
        return;
    }
    when += basetime;
    let dbi = c.db;
    let key = &args[1];
    if lookup_write(e, dbi, key).is_none() {
        c.reply().int(0);
        return;
    }
    if fl != 0 {
        let cur = e.ks.dbs[dbi].expire_of(key);
        let refuse = (fl & 1 != 0 && cur.is_some())
            || (fl & 2 != 0 && cur.is_none())
            || (fl & 4 != 0 && cur.is_none_or(|x| when <= x))
            || (fl & 8 != 0 && cur.is_some_and(|x| when >= x));
        if refuse {
            c.reply().int(0);
            return;
        }
    }
    let event = if when <= now_ms() && !e.loading {
        if let Some(old) = e.ks.dbs[dbi].remove(key) {
            let effort = old.value.free_effort();
            e.free_later(old, effort);
        }
        if e.propagating() {
            let lazy = e.config.lazyfree_lazy_expire;
            e.propagate_as(propagate::del_argv(lazy, key));
        }
        "del"
    } else {
        e.ks.dbs[dbi].set_expire(key, when);
        if e.propagating() {
            // Replays as PEXPIREAT key <absolute ms> [options].
            let mut a = args.to_vec();
            a[0] = Bytes::from_static(b"PEXPIREAT");
            a[2] = Bytes::copy_from_slice(itoa::Buffer::new().format(when).as_bytes());
            e.propagate_as(a);
        }
        "expire"
    };
    modified(e, c, dbi, key);
    notify(e, c, class::GENERIC, event, dbi, key);
    c.reply().int(1);
}

fn expire(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    expire_generic(e, c, args, Unit::Seconds, Base::Now);
}
fn pexpire(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    expire_generic(e, c, args, Unit::Millis, Base::Now);
}
fn expireat(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    expire_generic(e, c, args, Unit::Seconds, Base::Epoch);
}
fn pexpireat(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    expire_generic(e, c, args, Unit::Millis, Base::Epoch);
}

/// TTL / PTTL / EXPIRETIME / PEXPIRETIME key
fn ttl_generic(e: &mut Engine, c: &mut Client, key: &[u8], unit: Unit, base: Base) {
    let dbi = c.db;
    let mode = e.expire_mode();
    let now = now_ms();
    if e.ks.dbs[dbi].peek(key, now, mode).is_none() {
        note_miss(e, dbi, key);
        c.reply().int(-2);
        return;
    }
    let Some(at) = e.ks.dbs[dbi].expire_of(key) else {
        c.reply().int(-1);
        return;
    };
    let t = if base == Base::Epoch {
        at
    } else {
        (at - now).max(0)
    };
    let v = if unit == Unit::Millis {
        t
    } else {
        (t + 500) / 1000
    };
    c.reply().int(v);
}

fn ttl(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    ttl_generic(e, c, &args[1], Unit::Seconds, Base::Now);
}
fn pttl(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    ttl_generic(e, c, &args[1], Unit::Millis, Base::Now);
}
fn expiretime(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    ttl_generic(e, c, &args[1], Unit::Seconds, Base::Epoch);
}
fn pexpiretime(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    ttl_generic(e, c, &args[1], Unit::Millis, Base::Epoch);
}

/// PERSIST key
fn persist(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let dbi = c.db;
    if lookup_write(e, dbi, &args[1]).is_none() {
        c.reply().int(0);
        return;
    }
    if e.ks.dbs[dbi].persist(&args[1]) {
        modified(e, c, dbi, &args[1]);
        notify(e, c, class::GENERIC, "persist", dbi, &args[1]);
        c.reply().int(1);
    } else {
        c.reply().int(0);
    }
}

/// Replies with a subcommand's HELP text, framed as Redis's addReplyHelp.
pub fn reply_help(c: &mut Client, cmd: &str, lines: &[&str]) {
    let mut out = c.reply();
    out.array(lines.len() + 3);
    out.simple(&format!(
        "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        cmd.to_uppercase()
    ));
    for l in lines {
        out.simple(l);
    }
    out.simple("HELP");
    out.simple("    Prints this help.");
}

/// OBJECT HELP
fn object_help(_e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    reply_help(
        c,
        "object",
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    );
}

fn object_lookup<'a>(
    e: &'a mut Engine,
    c: &Client,
    key: &[u8],
) -> Option<&'a mut crate::keyspace::Entry> {
    let mode = e.expire_mode();
    e.ks.dbs[c.db].peek(key, now_ms(), mode)
}

/// OBJECT ENCODING key
fn object_encoding(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    match object_lookup(e, c, &args[2]).map(|en| en.value.encoding()) {
        Some(enc) => c.reply().bulk(enc.as_bytes()),
        None => c.reply().null(),
    }
}

/// OBJECT REFCOUNT key
fn object_refcount(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let shared_ok = !(e.config.maxmemory_policy.is_lfu() || e.config.maxmemory_policy.is_lru());
    match object_lookup(e, c, &args[2]) {
        Some(en) => {
            // Redis shares the integers 0..9999 (refcount INT_MAX) unless an
            // LRU/LFU policy needs per-key access clocks.
            let shared = matches!(en.value, crate::keyspace::Value::Int(n) if (0..10_000).contains(&n))
                && shared_ok;
            c.reply().int(if shared { i32::MAX as i64 } else { 1 })
        }
        None => c.reply().null(),
    }
}

/// OBJECT IDLETIME key
fn object_idletime(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let lfu = e.config.maxmemory_policy.is_lfu();
    match object_lookup(e, c, &args[2]) {
        Some(_) if lfu => c.reply().error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."),
        Some(en) => {
            let idle = en.idle_secs();
            c.reply().int(idle as i64)
        }
        None => c.reply().null(),
    }
}

/// OBJECT FREQ key
fn object_freq(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let lfu = e.config.maxmemory_policy.is_lfu();
    let decay = e.config.lfu_decay_time;
    match object_lookup(e, c, &args[2]) {
        Some(_) if !lfu => c.reply().error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."),
        Some(en) => {
            // The counter as decayed to now (Redis's LFUDecrAndReturn).
            c.reply().int(i64::from(en.lfu_freq(decay)))
        }
        None => c.reply().null(),
    }
}

const KS: u64 = acl::KEYSPACE;

const OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "encoding",
        3,
        f::READONLY,
        KS | acl::READ | acl::SLOW,
        Keys {
            first: 2,
            last: 2,
            step: 1,
        },
        object_encoding,
    ),
    CommandSpec::new(
        "freq",
        3,
        f::READONLY,
        KS | acl::READ | acl::SLOW,
        Keys {
            first: 2,
            last: 2,
            step: 1,
        },
        object_freq,
    ),
    CommandSpec::new(
        "idletime",
        3,
        f::READONLY,
        KS | acl::READ | acl::SLOW,
        Keys {
            first: 2,
            last: 2,
            step: 1,
        },
        object_idletime,
    ),
    CommandSpec::new(
        "refcount",
        3,
        f::READONLY,
        KS | acl::READ | acl::SLOW,
        Keys {
            first: 2,
            last: 2,
            step: 1,
        },
        object_refcount,
    ),
    CommandSpec::new(
        "help",
        2,
        f::LOADING | f::STALE,
        KS | acl::SLOW,
        Keys::NONE,
        object_help,
    ),
];

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "del",
        -2,
        f::WRITE,
        KS | acl::WRITE | acl::SLOW,
        Keys::ALL,
        del,
    ),
    CommandSpec::new(
        "unlink",
        -2,
        f::WRITE | f::FAST,
        KS | acl::WRITE | acl::FAST,
        Keys::ALL,
        del,
    ),
    CommandSpec::new(
        "exists",
        -2,
        f::READONLY | f::FAST,
        KS | acl::READ | acl::FAST,
        Keys::ALL,
        exists,
    ),
    CommandSpec::new(
        "touch",
        -2,
        f::READONLY | f::FAST,
        KS | acl::READ | acl::FAST,
        Keys::ALL,
        touch,
    ),
    CommandSpec::new(
        "type",
        2,
        f::READONLY | f::FAST,
        KS | acl::READ | acl::FAST,
        Keys::ONE,
        type_,
    ),
    CommandSpec::new(
        "rename",
        3,
        f::WRITE,
        KS | acl::WRITE | acl::SLOW,
        Keys {
            first: 1,
            last: 2,
            step: 1,
        },
        rename,
    ),
    CommandSpec::new(
        "renamenx",
        3,
        f::WRITE | f::FAST,
        KS | acl::WRITE | acl::FAST,
        Keys {
            first: 1,
            last: 2,
            step: 1,
        },
        renamenx,
    ),
    CommandSpec::new(
        "copy",
        -3,
        f::WRITE | f::DENYOOM,
        KS | acl::WRITE | acl::SLOW,
        Keys {
            first: 1,
            last: 2,
            step: 1,
        },
        copy,
    ),
    CommandSpec::new(
        "move",
        3,
        f::WRITE | f::FAST,
        KS | acl::WRITE | acl::FAST,
        Keys::ONE,
        move_,
    ),
    CommandSpec::new(
        "swapdb",
        3,
        f::WRITE | f::FAST,
        KS | acl::WRITE | acl::FAST | acl::DANGEROUS,
        Keys::NONE,
        swapdb,
    ),
    CommandSpec::new(
        "flushdb",
        -1,
        f::WRITE,
        KS | acl::WRITE | acl::SLOW | acl::DANGEROUS,
        Keys::NONE,
        flushdb,
    ),
    CommandSpec::new(
        "flushall",
        -1,
        f::WRITE,
        KS | acl::WRITE | acl::SLOW | acl::DANGEROUS,
        Keys::NONE,
        flushall,
    ),
    CommandSpec::new(
        "dbsize",
        1,
        f::READONLY | f::FAST,
        KS | acl::READ | acl::FAST,
        Keys::NONE,
        dbsize,
    ),
    CommandSpec::new(
        "randomkey",
        1,
        f::READONLY | f::TOUCHES_ARBITRARY_KEYS,
        KS | acl::READ | acl::SLOW,
        Keys::NONE,
        randomkey,
    ),
    CommandSpec::new(
        "keys",
        2,
        f::READONLY,
        KS | acl::READ | acl::SLOW | acl::DANGEROUS,
        Keys::NONE,
        keys,
    ),
    CommandSpec::new(
        "scan",
        -2,
        f::READONLY | f::TOUCHES_ARBITRARY_KEYS,
        KS | acl::READ | acl::SLOW,
        Keys::NONE,
        scan,
    ),
    CommandSpec::new(
        "expire",
        -3,
        f::WRITE | f::FAST,
        KS | acl::WRITE | acl::FAST,
        Keys::ONE,
        expire,
    ),
    CommandSpec::new(
        "pexpire",
        -3,
        f::WRITE | f::FAST,
        KS | acl::WRITE | acl::FAST,
        Keys::ONE,
        pexpire,
    ),
    CommandSpec::new(
        "expireat",
        -3,
        f::WRITE | f::FAST,
        KS | acl::WRITE | acl::FAST,
        Keys::ONE,
        expireat,
    ),
    CommandSpec::new(
        "pexpireat",
        -3,
        f::WRITE | f::FAST,
        KS | acl::WRITE | acl::FAST,
        Keys::ONE,
        pexpireat,
    ),
    CommandSpec::new(
        "ttl",
        2,
        f::READONLY | f::FAST,
        KS | acl::READ | acl::FAST,
        Keys::ONE,
        ttl,
    ),
    CommandSpec::new(
        "pttl",
        2,
        f::READONLY | f::FAST,
        KS | acl::READ | acl::FAST,
        Keys::ONE,
        pttl,
    ),
    CommandSpec::new(
        "expiretime",
        2,
        f::READONLY | f::FAST,
        KS | acl::READ | acl::FAST,
        Keys::ONE,
        expiretime,
    ),
    CommandSpec::new(
        "pexpiretime",
        2,
        f::READONLY | f::FAST,
        KS | acl::READ | acl::FAST,
        Keys::ONE,
        pexpiretime,
    ),
    CommandSpec::new(
        "persist",
        2,
        f::WRITE | f::FAST,
        KS | acl::WRITE | acl::FAST,
        Keys::ONE,
        persist,
    ),
    CommandSpec::container("object", -2, OBJECT_SUBCOMMANDS),
];
