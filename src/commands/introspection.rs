//! Introspection: COMMAND (from the command table), SLOWLOG, LATENCY and
//! MEMORY.

use bytes::Bytes;
use std::fmt::Write as _;

use super::info::{allocator_name, MemoryFigures};
use super::is;
use crate::dispatch::{acl, errors, flags as f, CommandSpec, CommandTable, Keys, Resolved};
use crate::keyspace::{now_ms, Entry};
use crate::protocol::encode::Out;
use crate::server::client::Client;
use crate::server::Engine;
use crate::util::glob::string_match;

/// `<CMD> <subcommand> ...` help reply (Redis's addReplyHelp).
pub fn reply_help(c: &mut Client, cmd: &[u8], lines: &[&str]) {
    let mut out = c.reply();
    out.array(lines.len() + 3);
    out.simple(&format!(
        "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        String::from_utf8_lossy(cmd).to_uppercase()
    ));
    for l in lines {
        out.simple(l);
    }
    out.simple("HELP");
    out.simple("    Prints this help.");
}

// ---------------------------------------------------------------- COMMAND

/// A command's ACL categories with the implicit ones Redis adds from its
/// flags (setImplicitACLCategories): write → @write, readonly → @read,
/// admin → @admin @dangerous, pubsub, fast, blocking, and @slow when not
/// @fast.
pub fn acl_categories(spec: &CommandSpec) -> u64 {
    let mut cats = spec.acl;
    if spec.has(f::WRITE) {
        cats |= acl::WRITE;
    }
    if spec.has(f::READONLY) && cats & acl::SCRIPTING == 0 {
        cats |= acl::READ;
    }
    if spec.has(f::ADMIN) {
        cats |= acl::ADMIN | acl::DANGEROUS;
    }
    if spec.has(f::PUBSUB) {
        cats |= acl::PUBSUB;
    }
    if spec.has(f::FAST) {
        cats |= acl::FAST;
    }
    if spec.has(f::BLOCKING) {
        cats |= acl::BLOCKING;
    }
    if cats & acl::FAST == 0 {
        cats |= acl::SLOW;
    }
    cats
}

/// Flag names COMMAND INFO shows (may_replicate and protected are hidden,
/// as in Redis; movablekeys is derived).
fn flag_names(spec: &CommandSpec) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = f::NAMES
        .iter()
        .filter(|(bit, name)| {
            spec.flags & bit != 0 && *name != "may_replicate" && *name != "movablekeys"
        })
        .map(|&(_, name)| name)
        .collect();
    if spec.get_keys.is_some() || spec.has(f::MOVABLE_KEYS) {
        // Keep Redis's order: movablekeys comes just before allow_busy.
        let at = names
            .iter()
            .position(|n| *n == "allow_busy")
            .unwrap_or(names.len());
        names.insert(at, "movablekeys");
    }
    names
}

/// Key-argument flags of a command's keys. The table has no per-key-spec
/// flags yet, so they come from the command's flags: a write command's keys
/// are `RW update`, a read-only command's `RO access`.
fn key_flags(spec: &CommandSpec) -> &'static [&'static str] {
    if spec.has(f::WRITE) {
        &["RW", "update"]
    } else {
        &["RO", "access"]
    }
}

fn has_keys(spec: &CommandSpec) -> bool {
    spec.get_keys.is_some() || spec.keys.first > 0
}

/// Redis's legacy (first, last, step) triple.
fn legacy_keys(spec: &CommandSpec) -> (i64, i64, i64) {
    let k = spec.keys;
    (i64::from(k.first), i64::from(k.last), i64::from(k.step))
}

fn reply_command_info(out: &mut Out, t: &CommandTable, row: &Resolved) {
    let spec = row.spec;
    out.array(10);
    out.bulk_str(&row.fullname);
    out.int(i64::from(spec.arity));
    let flags = flag_names(spec);
    out.set(flags.len());
    for name in flags {
        out.simple(name);
    }
    let (first, last, step) = legacy_keys(spec);
    out.int(first);
    out.int(last);
    out.int(step);
    let cats = acl_categories(spec);
    let names: Vec<&str> = acl::NAMES
        .iter()
        .filter(|(b, _)| cats & b != 0)
        .map(|&(_, n)| n)
        .collect();
    out.set(names.len());
    for n in names {
        out.simple(&format!("@{n}"));
    }
    // Tips: none recorded in the table.
    out.set(0);
    reply_key_specs(out, spec);
    let mut subs: Vec<usize> = row.subs.values().copied().collect();
    subs.sort_unstable();
    if subs.is_empty() {
        out.set(0);
    } else {
        out.array(subs.len());
        for i in subs {
            reply_command_info(out, t, &t.rows[i]);
        }
    }
}

/// Key specs in Redis's form, derived from the legacy triple: one
/// index/range spec, or one unknown/unknown spec for commands whose keys
/// a function finds.
fn reply_key_specs(out: &mut Out, spec: &CommandSpec) {
    if !has_keys(spec) {
        out.array(0);
        return;
    }
    out.array(1);
    out.map(3);
    out.bulk_str("flags");
    let flags = key_flags(spec);
    out.set(flags.len());
    for fl in flags {
        out.simple(fl);
    }
    let (first, last, step) = legacy_keys(spec);
    if spec.get_keys.is_some() || first <= 0 {
        for what in ["begin_search", "find_keys"] {
            out.bulk_str(what);
            out.map(2);
            out.bulk_str("type");
            out.bulk_str("unknown");
            out.bulk_str("spec");
            out.map(0);
        }
        return;
    }
    out.bulk_str("begin_search");
    out.map(2);
    out.bulk_str("type");
    out.bulk_str("index");
    out.bulk_str("spec");
    out.map(1);
    out.bulk_str("index");
    out.int(first);
    out.bulk_str("find_keys");
    out.map(2);
    out.bulk_str("type");
    out.bulk_str("range");
    out.bulk_str("spec");
    out.map(3);
    out.bulk_str("lastkey");
    out.int(if last < 0 { last } else { last - first });
    out.bulk_str("keystep");
    out.int(step);
    out.bulk_str("limit");
    out.int(0);
}

fn reply_command_docs(out: &mut Out, t: &CommandTable, row: &Resolved) {
    let spec = row.spec;
    let mut n = 2; // since, group
    if !spec.summary.is_empty() {
        n += 1;
    }
    if !spec.complexity.is_empty() {
        n += 1;
    }
    if !row.subs.is_empty() {
        n += 1;
    }
    out.map(n);
    if !spec.summary.is_empty() {
        out.bulk_str("summary");
        out.bulk_str(spec.summary);
    }
    out.bulk_str("since");
    out.bulk_str(spec.since);
    out.bulk_str("group");
    out.bulk_str(spec.group);
    if !spec.complexity.is_empty() {
        out.bulk_str("complexity");
        out.bulk_str(spec.complexity);
    }
    if !row.subs.is_empty() {
        let mut subs: Vec<usize> = row.subs.values().copied().collect();
        subs.sort_unstable();
        out.bulk_str("subcommands");
        out.map(subs.len());
        for i in subs {
            out.bulk_str(&t.rows[i].fullname);
            reply_command_docs(out, t, &t.rows[i]);
        }
    }
}

/// A row by full name, `get` or `config|get` (Redis lookupCommandBySds).
fn lookup_fullname(t: &CommandTable, name: &[u8]) -> Option<usize> {
    let mut parts = name.split(|&b| b == b'|');
    let base = t.lookup(parts.next()?)?;
    match (parts.next(), parts.next()) {
        (None, _) => Some(base),
        (Some(sub), None) => t.sub(base, sub),
        _ => None,
    }
}

/// COMMAND
fn command(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    let t = e.commands;
    let top: Vec<&Resolved> = t.top().collect();
    let mut out = c.reply();
    out.array(top.len());
    for row in top {
        reply_command_info(&mut out, t, row);
    }
}

/// COMMAND COUNT
fn command_count(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    c.reply().int(e.commands.top().count() as i64);
}

/// COMMAND INFO [command-name ...]
fn command_info(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if args.len() == 2 {
        return command(e, c, args);
    }
    let t = e.commands;
    let mut out = c.reply();
    out.array(args.len() - 2);
    for name in &args[2..] {
        match lookup_fullname(t, name) {
            Some(i) => reply_command_info(&mut out, t, &t.rows[i]),
            None => out.null_array(),
        }
    }
}

/// COMMAND DOCS [command-name ...]
fn command_docs(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let t = e.commands;
    let rows: Vec<&Resolved> = if args.len() == 2 {
        t.top().collect()
    } else {
        args[2..]
            .iter()
            .filter_map(|n| lookup_fullname(t, n))
            .map(|i| &t.rows[i])
            .collect()
    };
    let mut out = c.reply();
    out.map(rows.len());
    for row in rows {
        out.bulk_str(&row.fullname);
        reply_command_docs(&mut out, t, row);
    }
}

/// COMMAND LIST [FILTERBY MODULE module-name | ACLCAT category | PATTERN pattern]
fn command_list(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    enum Filter<'a> {
        All,
        Module,
        AclCat(Option<u64>),
        Pattern(&'a [u8]),
    }
    let filter = match args.len() {
        2 => Filter::All,
        5 if is(&args[2], "filterby") => {
            if is(&args[3], "module") {
                Filter::Module
            } else if is(&args[3], "aclcat") {
                let cat = acl::NAMES
                    .iter()
                    .find(|(_, n)| is(&args[4], n))
                    .map(|&(b, _)| b);
                Filter::AclCat(cat)
            } else if is(&args[3], "pattern") {
                Filter::Pattern(&args[4])
            } else {
                c.reply().error(errors::SYNTAX);
                return;
            }
        }
        _ => {
            c.reply().error(errors::SYNTAX);
            return;
        }
    };
    let names: Vec<&str> = e
        .commands
        .rows
        .iter()
        .filter(|row| match &filter {
            Filter::All => true,
            Filter::Module => false,
            Filter::AclCat(None) => false,
            Filter::AclCat(Some(bit)) => acl_categories(row.spec) & bit != 0,
            Filter::Pattern(p) => string_match(p, row.fullname.as_bytes(), true),
        })
        .map(|row| row.fullname.as_str())
        .collect();
    let mut out = c.reply();
    out.array(names.len());
    for n in names {
        out.bulk_str(n);
    }
}

/// COMMAND GETKEYS command [arg ...] and COMMAND GETKEYSANDFLAGS
fn getkeys_impl(e: &mut Engine, c: &mut Client, args: &[Bytes], with_flags: bool) {
    let t = e.commands;
    let cmd = &args[2..];
    let row = t.lookup(&cmd[0]).and_then(|i| {
        if t.rows[i].subs.is_empty() {
            Some(i)
        } else {
            cmd.get(1).and_then(|s| t.sub(i, s))
        }
    });
    let Some(row) = row else {
        c.reply().error("ERR Invalid command specified");
        return;
    };
    let spec = t.rows[row].spec;
    if !has_keys(spec) {
        c.reply().error("ERR The command has no key arguments");
        return;
    }
    let n = cmd.len() as i32;
    if (spec.arity > 0 && spec.arity != n) || n < -spec.arity {
        c.reply()
            .error("ERR Invalid number of arguments specified for command");
        return;
    }
    let keys = spec.key_positions(cmd);
    if keys.is_empty() && !spec.has(f::NO_MANDATORY_KEYS) {
        c.reply()
            .error("ERR Invalid arguments specified for command");
        return;
    }
    let flags = key_flags(spec);
    let mut out = c.reply();
    out.array(keys.len());
    for k in keys {
        if with_flags {
            out.array(2);
            out.bulk(&cmd[k]);
            out.set(flags.len());
            for fl in flags {
                out.simple(fl);
            }
        } else {
            out.bulk(&cmd[k]);
        }
    }
}

fn command_getkeys(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    getkeys_impl(e, c, args, false);
}

fn command_getkeysandflags(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    getkeys_impl(e, c, args, true);
}

/// COMMAND HELP
fn command_help(_e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    reply_help(
        c,
        &args[0],
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    );
}

// ---------------------------------------------------------------- SLOWLOG

/// SLOWLOG GET [count]
fn slowlog_get(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let mut count: i64 = 10;
    if let Some(a) = args.get(2) {
        match crate::util::num::string2ll(a) {
            Some(n) if n >= -1 => count = n,
            _ => {
                c.reply()
                    .error("ERR count should be greater than or equal to -1");
                return;
            }
        }
    }
    let n = if count < 0 {
        e.slowlog.len()
    } else {
        e.slowlog.len().min(count as usize)
    };
    let mut out = c.reply();
    out.array(n);
    for entry in e.slowlog.iter().take(n) {
        out.array(6);
        out.int(entry.id as i64);
        out.int(entry.time);
        out.int(entry.usec as i64);
        out.array(entry.args.len());
        for a in &entry.args {
            out.bulk(a);
        }
        out.bulk_str(&entry.addr);
        out.bulk(&entry.name);
    }
}

/// SLOWLOG LEN
fn slowlog_len(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    c.reply().int(e.slowlog.len() as i64);
}

/// SLOWLOG RESET
fn slowlog_reset(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    e.slowlog.clear();
    c.reply().ok();
}

/// SLOWLOG HELP
fn slowlog_help(_e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    reply_help(
        c,
        &args[0],
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    );
}

// ---------------------------------------------------------------- LATENCY

/// LATENCY LATEST
fn latency_latest(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    let mut out = c.reply();
    out.array(e.latency.len());
    for (event, series) in &e.latency {
        let (time, ms) = series.samples.back().copied().unwrap_or((0, 0));
        out.array(4);
        out.bulk_str(event);
        out.int(time);
        out.int(ms as i64);
        out.int(series.max as i64);
    }
}

/// LATENCY HISTORY event
fn latency_history(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let event = String::from_utf8_lossy(&args[2]);
    let samples: Vec<(i64, u64)> = e
        .latency
        .get(event.as_ref())
        .map(|s| s.samples.iter().copied().collect())
        .unwrap_or_default();
    let mut out = c.reply();
    out.array(samples.len());
    for (time, ms) in samples {
        out.array(2);
        out.int(time);
        out.int(ms as i64);
    }
}

/// LATENCY RESET [event ...]
fn latency_reset(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let n = if args.len() == 2 {
        let n = e.latency.len();
        e.latency.clear();
        n
    } else {
        args[2..]
            .iter()
            .filter(|a| {
                let name = String::from_utf8_lossy(a);
                let key = e
                    .latency
                    .keys()
                    .find(|k| k.eq_ignore_ascii_case(&name))
                    .cloned();
                key.is_some_and(|k| e.latency.remove(&k).is_some())
            })
            .count()
    };
    c.reply().int(n as i64);
}

/// LATENCY GRAPH event
fn latency_graph(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let event = String::from_utf8_lossy(&args[2]).into_owned();
    let Some(series) = e.latency.get(&event) else {
        c.reply()
            .error(&format!("ERR No samples available for event '{event}'"));
        return;
    };
    let graph = sparkline(&event, series, now_ms() / 1000);
    c.reply().verbatim("txt", graph.as_bytes());
}

/// A small ASCII chart of an event's samples, newest last: one column per
/// sample, height proportional to the latency, with its age below.
fn sparkline(event: &str, series: &crate::server::latency::Series, now: i64) -> String {
    let (min, max) = series
        .samples
        .iter()
        .fold((u64::MAX, 0), |(lo, hi), &(_, ms)| (lo.min(ms), hi.max(ms)));
    let mut s = format!(
        "{event} - high {max} ms, low {min} ms (all time high {} ms)\n",
        series.max
    );
    s.push_str(&"-".repeat(80));
    s.push('\n');
    const ROWS: u64 = 4;
    for row in (1..=ROWS).rev() {
        for &(_, ms) in &series.samples {
            let level = if max == 0 {
                0
            } else {
                (ms * ROWS).div_ceil(max)
            };
            s.push(if level >= row { '#' } else { ' ' });
        }
        s.push('\n');
    }
    let ages: Vec<String> = series
        .samples
        .iter()
        .map(|&(t, _)| format!("{}s", (now - t).max(0)))
        .collect();
    s.push_str(&ages.join(" "));
    s.push('\n');
    s
}

/// LATENCY DOCTOR
fn latency_doctor(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    let mut s = String::new();
    if e.latency.is_empty() {
        s.push_str("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep tonight.\n");
    } else {
        s.push_str("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        for (i, (event, series)) in e.latency.iter().enumerate() {
            let n = series.samples.len().max(1) as u64;
            let avg = series.samples.iter().map(|&(_, ms)| ms).sum::<u64>() / n;
            let _ = writeln!(
                s,
                "{}. {event}: {} latency spikes (average {avg}ms). Worst all time event {}ms.",
                i + 1,
                series.samples.len(),
                series.max
            );
        }
        s.push_str("\nI have a few advices for you:\n\n- Check your system for processes competing for the CPU, and use SLOWLOG GET to find slow commands.\n");
    }
    c.reply().verbatim("txt", s.as_bytes());
}

/// LATENCY HISTOGRAM [command ...]
fn latency_histogram(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let t = e.commands;
    let mut rows: Vec<usize> = Vec::new();
    if args.len() == 2 {
        rows.extend(t.rows.iter().map(|r| r.index));
    } else {
        for name in &args[2..] {
            let Some(i) = lookup_fullname(t, name) else {
                continue;
            };
            rows.push(i);
            let mut subs: Vec<usize> = t.rows[i].subs.values().copied().collect();
            subs.sort_unstable();
            rows.extend(subs);
        }
    }
    let with_data: Vec<usize> = rows
        .into_iter()
        .filter(|&i| e.cmd_stats[i].hist.is_some())
        .collect();
    let mut out = c.reply();
    out.map(with_data.len());
    for i in with_data {
        let Some(h) = &e.cmd_stats[i].hist else {
            continue;
        };
        out.bulk_str(&t.rows[i].fullname);
        out.map(2);
        out.bulk_str("calls");
        out.int(h.total() as i64);
        out.bulk_str("histogram_usec");
        let points = h.cumulative_usec();
        out.map(points.len());
        for (us, n) in points {
            out.int(us as i64);
            out.int(n as i64);
        }
    }
}

/// LATENCY HELP
fn latency_help(_e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    reply_help(
        c,
        &args[0],
        &[
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    );
}

// ---------------------------------------------------------------- MEMORY

pub use crate::persistence::memory::size_class;

/// Bytes a key costs: its entry box, the key's and the value's heap bytes
/// (each rounded to the allocator's size class), and its slot in the table.
pub fn entry_memory(entry: &Entry) -> usize {
    let heap = |n: usize| size_class(n);
    size_class(std::mem::size_of::<Entry>())
        + heap(entry.key.heap_size())
        + heap(entry.value.heap_size())
        + std::mem::size_of::<usize>()
}

/// MEMORY USAGE key [SAMPLES count]
fn memory_usage(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let mut i = 3;
    while i < args.len() {
        if is(&args[i], "samples") && i + 1 < args.len() {
            match crate::util::num::string2ll(&args[i + 1]) {
                Some(n) if n >= 0 => {}
                Some(_) => {
                    c.reply()
                        .error("ERR value is out of range, must be positive");
                    return;
                }
                None => {
                    c.reply().error(errors::NOT_INT);
                    return;
                }
            }
            i += 2;
        } else {
            c.reply().error(errors::SYNTAX);
            return;
        }
    }
    let mode = e.expire_mode();
    let size = e.ks.dbs[c.db]
        .peek(&args[2], now_ms(), mode)
        .map(|en| entry_memory(en));
    match size {
        Some(n) => c.reply().int(n as i64),
        None => c.reply().null(),
    }
}

/// MEMORY STATS
fn memory_stats(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    let used = e.track_peak_memory();
    let m = MemoryFigures::collect(e, Some(c), used);
    let keys = e.ks.total_keys() as u64;
    let net = m.used.saturating_sub(m.startup);
    let mut out = c.reply();
    out.map(26 + m.tables.len());
    let int = |out: &mut Out, k: &str, v: i64| {
        out.bulk_str(k);
        out.int(v);
    };
    let dbl = |out: &mut Out, k: &str, v: f64| {
        out.bulk_str(k);
        out.double(v);
    };
    int(&mut out, "peak.allocated", m.peak as i64);
    int(&mut out, "total.allocated", m.used as i64);
    int(&mut out, "startup.allocated", m.startup as i64);
    int(&mut out, "replication.backlog", 0);
    int(&mut out, "clients.slaves", m.clients_replicas as i64);
    int(&mut out, "clients.normal", m.clients_normal as i64);
    int(&mut out, "cluster.links", 0);
    int(&mut out, "aof.buffer", e.aof_buffer_memory() as i64);
    int(&mut out, "lua.caches", 0);
    int(&mut out, "functions.caches", 0);
    for &(id, main, expires) in &m.tables {
        out.bulk_str(&format!("db.{id}"));
        out.map(2);
        int(&mut out, "overhead.hashtable.main", main as i64);
        int(&mut out, "overhead.hashtable.expires", expires as i64);
    }
    int(&mut out, "overhead.total", m.overhead as i64);
    int(&mut out, "keys.count", keys as i64);
    int(
        &mut out,
        "keys.bytes-per-key",
        net.checked_div(keys).unwrap_or(0) as i64,
    );
    int(&mut out, "dataset.bytes", m.dataset as i64);
    dbl(&mut out, "dataset.percentage", m.dataset_perc());
    dbl(&mut out, "peak.percentage", m.peak_perc());
    int(&mut out, "allocator.allocated", m.allocated as i64);
    int(&mut out, "allocator.active", m.active as i64);
    int(&mut out, "allocator.resident", m.resident as i64);
    let (r, b) = m.allocator_frag();
    dbl(&mut out, "allocator-fragmentation.ratio", r);
    int(&mut out, "allocator-fragmentation.bytes", b);
    let (r, b) = m.allocator_rss();
    dbl(&mut out, "allocator.rss-ratio", r);
    int(&mut out, "allocator.rss-bytes", b);
    let (r, b) = m.rss_overhead();
    dbl(&mut out, "rss-overhead.ratio", r);
    int(&mut out, "rss-overhead.bytes", b);
    let (r, b) = m.fragmentation();
    dbl(&mut out, "fragmentation", r);
    int(&mut out, "fragmentation.bytes", b);
}

/// MEMORY DOCTOR
fn memory_doctor(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    let used = e.track_peak_memory();
    let m = MemoryFigures::collect(e, Some(c), used);
    let text = if m.used < 5 * 1024 * 1024 {
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.".to_string()
    } else {
        let (frag, _) = m.fragmentation();
        let mut s = String::new();
        if m.peak > 0 && (m.peak as f64) > m.used as f64 * 1.5 {
            s.push_str(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n");
        }
        if frag > 1.4 {
            let _ = write!(s, " * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"{}\".\n\n", allocator_name());
        }
        if s.is_empty() {
            "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.".to_string()
        } else {
            format!("Sam, I detected a few issues in this Redis instance memory implants:\n\n{s}I'm here to keep you safe, Sam. I want to help you.\n")
        }
    };
    c.reply().verbatim("txt", text.as_bytes());
}

/// MEMORY MALLOC-STATS
fn memory_malloc_stats(_e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    let text = format!(
        "allocator: {}\nallocated: {}\nactive: {}\nresident: {}\n",
        allocator_name(),
        crate::persistence::memory::allocated(),
        crate::persistence::memory::active(),
        crate::persistence::memory::resident()
    );
    c.reply().verbatim("txt", text.as_bytes());
}

/// MEMORY PURGE
fn memory_purge(_e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    // jemalloc returns dirty pages on its own decay schedule; there is no
    // arena purge call in tikv-jemalloc-ctl, so this is Redis's libc answer.
    c.reply().ok();
}

/// MEMORY HELP
fn memory_help(_e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    reply_help(
        c,
        &args[0],
        &[
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    );
}

// ---------------------------------------------------------------- tables

const CMD: u64 = f::LOADING | f::STALE;
const LAT: u64 = f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE;
const SLOW: u64 = f::ADMIN | f::LOADING | f::STALE;

const fn sub(
    name: &'static str,
    arity: i32,
    flags: u64,
    acl: u64,
    h: crate::dispatch::Handler,
) -> CommandSpec {
    CommandSpec::new(name, arity, flags, acl, Keys::NONE, h).group("server")
}

const COMMAND_SUBCOMMANDS: &[CommandSpec] = &[
    sub("count", 2, CMD, acl::CONNECTION, command_count)
        .since("2.8.13")
        .summary("Get total number of Redis commands"),
    sub("docs", -2, CMD, acl::CONNECTION, command_docs)
        .since("7.0.0")
        .summary("Get array of specific Redis command documentation"),
    sub("getkeys", -4, CMD, acl::CONNECTION, command_getkeys)
        .since("2.8.13")
        .summary("Extract keys given a full Redis command"),
    sub(
        "getkeysandflags",
        -4,
        CMD,
        acl::CONNECTION,
        command_getkeysandflags,
    )
    .since("7.0.0")
    .summary("Extract keys and access flags given a full Redis command"),
    sub("help", 2, CMD, acl::CONNECTION, command_help)
        .since("5.0.0")
        .summary("Show helpful text about the different subcommands"),
    sub("info", -2, CMD, acl::CONNECTION, command_info)
        .since("2.8.13")
        .summary("Get array of specific Redis command details, or all when no argument is given."),
    sub("list", -2, CMD, acl::CONNECTION, command_list)
        .since("7.0.0")
        .summary("Get an array of Redis command names"),
];

const SLOWLOG_SUBCOMMANDS: &[CommandSpec] = &[
    sub("get", -2, SLOW, 0, slowlog_get)
        .since("2.2.12")
        .summary("Get the slow log's entries"),
    sub("help", 2, CMD, 0, slowlog_help)
        .since("6.2.0")
        .summary("Show helpful text about the different subcommands"),
    sub("len", 2, SLOW, 0, slowlog_len)
        .since("2.2.12")
        .summary("Get the slow log's length"),
    sub("reset", 2, SLOW, 0, slowlog_reset)
        .since("2.2.12")
        .summary("Clear all entries from the slow log"),
];

const LATENCY_SUBCOMMANDS: &[CommandSpec] = &[
    sub("doctor", 2, LAT, 0, latency_doctor)
        .since("2.8.13")
        .summary("Return a human readable latency analysis report."),
    sub("graph", 3, LAT, 0, latency_graph)
        .since("2.8.13")
        .summary("Return a latency graph for the event."),
    sub("help", 2, CMD, 0, latency_help)
        .since("2.8.13")
        .summary("Show helpful text about the different subcommands."),
    sub("histogram", -2, LAT, 0, latency_histogram)
        .since("7.0.0")
        .summary("Return the cumulative distribution of latencies of a subset of commands or all."),
    sub("history", 3, LAT, 0, latency_history)
        .since("2.8.13")
        .summary("Return timestamp-latency samples for the event."),
    sub("latest", 2, LAT, 0, latency_latest)
        .since("2.8.13")
        .summary("Return the latest latency samples for all events."),
    sub("reset", -2, LAT, 0, latency_reset)
        .since("2.8.13")
        .summary("Reset latency data for one or more events."),
];

const MEMORY_SUBCOMMANDS: &[CommandSpec] = &[
    sub("doctor", 2, 0, 0, memory_doctor)
        .since("4.0.0")
        .summary("Outputs memory problems report"),
    sub("help", 2, CMD, 0, memory_help)
        .since("4.0.0")
        .summary("Show helpful text about the different subcommands"),
    sub("malloc-stats", 2, 0, 0, memory_malloc_stats)
        .since("4.0.0")
        .summary("Show allocator internal stats"),
    sub("purge", 2, 0, 0, memory_purge)
        .since("4.0.0")
        .summary("Ask the allocator to release memory"),
    sub("stats", 2, 0, 0, memory_stats)
        .since("4.0.0")
        .summary("Show memory usage details"),
    CommandSpec::new(
        "usage",
        -3,
        f::READONLY,
        acl::KEYSPACE,
        Keys {
            first: 2,
            last: 2,
            step: 1,
        },
        memory_usage,
    )
    .group("server")
    .since("4.0.0")
    .summary("Estimate the memory usage of a key"),
];

/// COMMAND runs its own handler without a subcommand and is a container
/// with one.
const COMMAND_ROW: CommandSpec = CommandSpec {
    subcommands: COMMAND_SUBCOMMANDS,
    ..CommandSpec::new("command", -1, CMD, acl::CONNECTION, Keys::NONE, command)
        .group("server")
        .since("2.8.13")
        .summary("Get array of Redis command details")
};

pub const COMMANDS: &[CommandSpec] = &[
    COMMAND_ROW,
    CommandSpec::container("slowlog", -2, SLOWLOG_SUBCOMMANDS)
        .since("2.2.12")
        .summary("A container for slow log commands"),
    CommandSpec::container("latency", -2, LATENCY_SUBCOMMANDS)
        .since("2.8.13")
        .summary("A container for latency diagnostics commands"),
    CommandSpec::container("memory", -2, MEMORY_SUBCOMMANDS)
        .since("4.0.0")
        .summary("A container for memory diagnostics commands"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jemalloc_size_classes() {
        let cases = [
            (1, 8),
            (8, 8),
            (9, 16),
            (17, 32),
            (33, 48),
            (100, 112),
            (128, 128),
            (129, 160),
            (200, 224),
            (257, 320),
            (1000, 1024),
            (1025, 1280),
        ];
        for (n, class) in cases {
            assert_eq!(size_class(n), class, "{n}");
        }
    }
}
