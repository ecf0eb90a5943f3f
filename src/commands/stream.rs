//! Stream commands: XADD, XRANGE, XREAD, consumer groups, XINFO, ...
//! (Redis's t_stream.c). The data operations live in
//! `keyspace::stream`.

use bytes::Bytes;

use super::introspection::reply_help;
use super::{is, lookup_write, modified, notify, typed, Access};
use crate::config::notify as class;
use crate::dispatch::{acl, errors, flags as f, CommandSpec, Keys};
use crate::keyspace::listpack::LpElem;
use crate::keyspace::stream::{
    AddError, Consumer, EntryRef, Group, Nack, Stream, StreamId, Trim, TrimStrategy,
    ENTRIES_READ_INVALID,
};
use crate::keyspace::{now_ms, Kind, SBytes, Value};
use crate::protocol::encode::Out;
use crate::server::blocking::TimeoutReply;
use crate::server::client::{Client, ClientKind};
use crate::server::propagate;
use crate::server::Engine;
use crate::util::num;

const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

fn pick_stream(v: &mut Value) -> Option<&mut Stream> {
    match v {
        Value::Stream(s) => Some(s),
        _ => None,
    }
}

fn stream_write<'a>(
    e: &'a mut Engine,
    c: &mut Client,
    key: &[u8],
) -> Result<Option<&'a mut Stream>, ()> {
    typed(e, c, key, Access::Write, pick_stream)
}

fn stream_read<'a>(
    e: &'a mut Engine,
    c: &mut Client,
    key: &[u8],
) -> Result<Option<&'a mut Stream>, ()> {
    typed(e, c, key, Access::Read, pick_stream)
}

/// The stream at `key` without counting a hit or a miss.
fn stream_peek<'a>(e: &'a mut Engine, dbi: usize, key: &[u8]) -> Option<&'a mut Stream> {
    lookup_write(e, dbi, key).and_then(|en| pick_stream(&mut en.value))
}

fn id_bytes(id: StreamId) -> Bytes {
    Bytes::from(id.to_bytes())
}

fn reply_id(out: &mut Out, id: StreamId) {
    out.bulk(id.to_string().as_bytes());
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn subcommand_syntax(c: &mut Client, cmd: &str, sub: &[u8]) {
    let sub: String = lossy(sub).chars().take(128).collect();
    c.reply().error(&format!(
        "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {} HELP.",
        cmd.to_uppercase()
    ));
}

/// streamGenericParseIDOrReply without the reply: `-` and `+` (unless
/// `strict`), `<ms>`, `<ms>-<seq>`, and `<ms>-*` when `allow_star`. The
/// flag says whether the sequence was given.
fn parse_id(
    a: &[u8],
    missing_seq: u64,
    strict: bool,
    allow_star: bool,
) -> Option<(StreamId, bool)> {
    if a.len() > 127 {
        return None;
    }
    if a == b"-" || a == b"+" {
        if strict {
            return None;
        }
        return Some(if a == b"-" {
            (StreamId::MIN, true)
        } else {
            (StreamId::MAX, true)
        });
    }
    let (ms, seq) = match a.iter().position(|&b| b == b'-') {
        Some(p) => (&a[..p], Some(&a[p + 1..])),
        None => (a, None),
    };
    let ms = num::string2ull(ms)?;
    match seq {
        Some(b"*") if allow_star => Some((StreamId::new(ms, 0), false)),
        Some(s) => Some((StreamId::new(ms, num::string2ull(s)?), true)),
        None => Some((StreamId::new(ms, missing_seq), true)),
    }
}

fn arg_id(c: &mut Client, a: &[u8], missing_seq: u64, strict: bool) -> Option<StreamId> {
    match parse_id(a, missing_seq, strict, false) {
        Some((id, _)) => Some(id),
        None => {
            c.reply().error(INVALID_ID);
            None
        }
    }
}

/// An interval bound, `(` excluding (streamParseIntervalIDOrReply).
fn arg_interval(c: &mut Client, a: &[u8], missing_seq: u64) -> Option<(StreamId, bool)> {
    if a.len() > 1 && a[0] == b'(' {
        arg_id(c, &a[1..], missing_seq, true).map(|id| (id, true))
    } else {
        arg_id(c, a, missing_seq, false).map(|id| (id, false))
    }
}

/// Which end of an XRANGE-style interval an argument gives.
#[derive(Clone, Copy)]
enum Bound {
    /// `-`, `<ms>` (meaning `<ms>-0`), an ID, or `(id` for the one after.
    Start,
    /// `+`, `<ms>` (meaning its last sequence), an ID, or `(id` for the one
    /// before.
    End,
}

/// An interval's first or last ID, an exclusive bound made inclusive.
fn arg_bound(c: &mut Client, a: &[u8], bound: Bound) -> Option<StreamId> {
    let (missing_seq, step, error): (_, fn(StreamId) -> Option<StreamId>, _) = match bound {
        Bound::Start => (0, StreamId::incr, "ERR invalid start ID for the interval"),
        Bound::End => (
            u64::MAX,
            StreamId::decr,
            "ERR invalid end ID for the interval",
        ),
    };
    let (id, exclusive) = arg_interval(c, a, missing_seq)?;
    if !exclusive {
        return Some(id);
    }
    let inclusive = step(id);
    if inclusive.is_none() {
        c.reply().error(error);
    }
    inclusive
}

/// Strict IDs (no `-`, `+` or `*`), one an argument.
fn arg_ids(c: &mut Client, args: &[Bytes]) -> Option<Vec<StreamId>> {
    let mut ids = Vec::with_capacity(args.len());
    for a in args {
        ids.push(arg_id(c, a, 0, true)?);
    }
    Some(ids)
}

/// What a lookup found, or None once the client has its reply: the
/// lookup's own (WRONGTYPE) or, when nothing was found, `missing`'s.
fn found_or<T>(
    found: Result<Option<T>, ()>,
    c: &mut Client,
    missing: impl FnOnce(&mut Out),
) -> Option<T> {
    match found {
        Err(()) => None,
        Ok(None) => {
            missing(&mut c.reply());
            None
        }
        Ok(Some(v)) => Some(v),
    }
}

fn arg_ll(c: &mut Client, a: &[u8], msg: Option<&str>) -> Option<i64> {
    match num::string2ll(a) {
        Some(n) => Some(n),
        None => {
            c.reply().error(msg.unwrap_or(errors::NOT_INT));
            None
        }
    }
}

/// Writes an entry as `[id, [field, value, ...]]`.
fn reply_entry(out: &mut Out, e: &EntryRef<'_>) {
    out.array(2);
    reply_id(out, e.id);
    out.array(e.fields.len() * 2);
    for (k, v) in &e.fields {
        elem(out, *k);
        elem(out, *v);
    }
}

fn elem(out: &mut Out, el: LpElem<'_>) {
    match el {
        LpElem::Int(n) => out.bulk_int(n),
        LpElem::Str(s) => out.bulk(s),
    }
}

/// Replies with the entries in `[start, end]`, at most `count` (0 = all).
fn reply_range(
    c: &mut Client,
    s: &Stream,
    start: StreamId,
    end: StreamId,
    count: usize,
    rev: bool,
) {
    let mut out = c.reply();
    let d = out.deferred();
    let mut n = 0;
    s.walk(start, end, rev, false, |e| {
        reply_entry(&mut out, e);
        n += 1;
        count == 0 || n < count
    });
    out.finish_array(d, n);
}

/// Replies with the one entry `id` (no array around it); false if absent.
fn reply_one(out: &mut Out, s: &Stream, id: StreamId) -> bool {
    let mut found = false;
    s.walk(id, id, false, false, |e| {
        reply_entry(out, e);
        found = true;
        false
    });
    found
}

// ---------------------------------------------------------------- XADD / XTRIM

struct AddTrimArgs {
    id: Option<(StreamId, bool)>,
    no_mkstream: bool,
    trim: Trim,
    /// Index of the MAXLEN/MINID value, for the replayed command.
    trim_arg: usize,
}

/// streamParseAddOrTrimArgsOrReply: returns the args and the ID's index
/// (XADD) or the end of the arguments (XTRIM).
fn parse_add_trim(
    e: &Engine,
    c: &mut Client,
    args: &[Bytes],
    xadd: bool,
) -> Option<(AddTrimArgs, usize)> {
    let mut a = AddTrimArgs {
        id: None,
        no_mkstream: false,
        trim: Trim {
            strategy: TrimStrategy::None,
            approx: false,
            limit: 0,
        },
        trim_arg: 0,
    };
    let mut limit_given = false;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = &args[i][..];
        if xadd && opt == b"*" {
            break;
        } else if (is(opt, "maxlen") || is(opt, "minid")) && more > 0 {
            if a.trim.strategy != TrimStrategy::None {
                c.reply().error(
                    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
                );
                return None;
            }
            a.trim.approx = false;
            let next = &args[i + 1][..];
            if more >= 2 && next == b"~" {
                a.trim.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            if is(opt, "maxlen") {
                let n = arg_ll(c, &args[i + 1], None)?;
                if n < 0 {
                    c.reply().error("ERR The MAXLEN argument must be >= 0.");
                    return None;
                }
                a.trim.strategy = TrimStrategy::MaxLen(n as u64);
            } else {
                let id = arg_id(c, &args[i + 1], 0, true)?;
                a.trim.strategy = TrimStrategy::MinId(id);
            }
            i += 1;
            a.trim_arg = i;
        } else if is(opt, "limit") && more > 0 {
            let n = arg_ll(c, &args[i + 1], None)?;
            if n < 0 {
                c.reply().error("ERR The LIMIT argument must be >= 0.");
                return None;
            }
            a.trim.limit = n;
            limit_given = true;
            i += 1;
        } else if xadd && is(opt, "nomkstream") {
            a.no_mkstream = true;
        } else if xadd {
            match parse_id(opt, 0, true, true) {
                Some(id) => a.id = Some(id),
                None => {
                    c.reply().error(INVALID_ID);
                    return None;
                }
            }
            break;
        } else {
            c.reply().error(errors::SYNTAX);
            return None;
        }
        i += 1;
    }
    if a.trim.limit != 0 && a.trim.strategy == TrimStrategy::None {
        c.reply()
            .error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
        return None;
    }
    if !xadd && a.trim.strategy == TrimStrategy::None {
        c.reply()
            .error("ERR syntax error, XTRIM must be called with a trimming strategy");
        return None;
    }
    // The primary's and the AOF's commands are obeyed (mustObeyClient).
    if c.kind == ClientKind::Primary || e.loading {
        a.trim.limit = 0;
    } else if limit_given {
        if !a.trim.approx {
            c.reply()
                .error("ERR syntax error, LIMIT cannot be used without the special ~ option");
            return None;
        }
    } else if a.trim.approx {
        let mut l = e.config.stream_node_max_entries.saturating_mul(100);
        if l <= 0 {
            l = 10000;
        }
        a.trim.limit = l.min(1_000_000);
    } else {
        a.trim.limit = 0;
    }
    Some((a, i))
}

/// The replayed trim: `~` becomes `=` and the value the length or first
/// ID reached (streamRewriteTrimArgument).
fn rewrite_trim(argv: &mut [Bytes], s: &Stream, a: &AddTrimArgs) {
    argv[a.trim_arg - 1] = Bytes::from_static(b"=");
    argv[a.trim_arg] = match a.trim.strategy {
        TrimStrategy::MaxLen(_) => Bytes::from(s.length.to_string()),
        _ => id_bytes(s.edge_id(true, false).unwrap_or(StreamId::MAX)),
    };
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
fn xadd(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some((a, idpos)) = parse_add_trim(e, c, args, true) else {
        return;
    };
    let field_pos = idpos + 1;
    if args.len() < field_pos + 2 || !(args.len() - field_pos).is_multiple_of(2) {
        c.reply().error(&errors::wrong_arity("xadd"));
        return;
    }
    if let Some((id, true)) = a.id {
        if id.is_zero() {
            c.reply()
                .error("ERR The ID specified in XADD must be greater than 0-0");
            return;
        }
    }
    let dbi = c.db;
    let key = &args[1];
    match stream_write(e, c, key) {
        Err(()) => return,
        Ok(None) if a.no_mkstream => {
            c.reply().null();
            return;
        }
        Ok(None) => {
            e.ks.dbs[dbi].add(SBytes::new(key), Value::from_stream(Stream::new()));
        }
        Ok(Some(_)) => {}
    }
    let (max_bytes, max_entries) = (
        e.config.stream_node_max_bytes,
        e.config.stream_node_max_entries,
    );
    let s = stream_peek(e, dbi, key).expect("just looked up");
    if s.last_id == StreamId::MAX {
        c.reply()
            .error("ERR The stream has exhausted the last possible ID, unable to add more items");
        return;
    }
    let fv: Vec<&[u8]> = args[field_pos..].iter().map(|b| &b[..]).collect();
    let res = s
        .next_id(now_ms() as u64, a.id)
        .and_then(|id| s.append(id, &fv, max_bytes, max_entries).map(|_| id));
    let id = match res {
        Ok(id) => id,
        Err(AddError::IdTooSmall) => {
            c.reply().error(
                "ERR The ID specified in XADD is equal or smaller than the target stream top item",
            );
            return;
        }
        Err(AddError::TooBig) => {
            c.reply().error("ERR Elements are too large to be stored");
            return;
        }
    };
    reply_id(&mut c.reply(), id);
    modified(e, c, dbi, key);
    notify(e, c, class::STREAM, "xadd", dbi, key);
    let s = stream_peek(e, dbi, key).expect("just added to");
    let trimmed = s.trim(a.trim);
    let mut argv: Option<Vec<Bytes>> = None;
    if a.trim.strategy != TrimStrategy::None && a.trim.approx {
        let mut v = args.to_vec();
        rewrite_trim(&mut v, s, &a);
        argv = Some(v);
    }
    if !matches!(a.id, Some((_, true))) {
        let v = argv.get_or_insert_with(|| args.to_vec());
        v[idpos] = id_bytes(id);
    }
    if trimmed > 0 {
        notify(e, c, class::STREAM, "xtrim", dbi, key);
    }
    if let Some(v) = argv {
        e.propagate_as(v);
    }
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
fn xtrim(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some((a, _)) = parse_add_trim(e, c, args, false) else {
        return;
    };
    let dbi = c.db;
    let key = &args[1];
    let Some(s) = found_or(stream_write(e, c, key), c, |o| o.int(0)) else {
        return;
    };
    let deleted = s.trim(a.trim);
    if deleted > 0 {
        if a.trim.approx {
            let mut v = args.to_vec();
            rewrite_trim(&mut v, s, &a);
            e.propagate_as(v);
        }
        notify(e, c, class::STREAM, "xtrim", dbi, key);
        modified(e, c, dbi, key);
        e.dirty += deleted as u64 - 1;
    }
    c.reply().int(deleted);
}

// ---------------------------------------------------------------- reading

/// XRANGE / XREVRANGE.
fn range_generic(e: &mut Engine, c: &mut Client, args: &[Bytes], rev: bool) {
    let (sa, ea) = if rev {
        (&args[3], &args[2])
    } else {
        (&args[2], &args[3])
    };
    let Some(start) = arg_bound(c, sa, Bound::Start) else {
        return;
    };
    let Some(end) = arg_bound(c, ea, Bound::End) else {
        return;
    };
    let mut count: i64 = -1;
    let mut j = 4;
    while j < args.len() {
        if is(&args[j], "count") && j + 1 < args.len() {
            let Some(n) = arg_ll(c, &args[j + 1], None) else {
                return;
            };
            count = n.max(0);
            j += 1;
        } else {
            c.reply().error(errors::SYNTAX);
            return;
        }
        j += 1;
    }
    let Some(s) = found_or(stream_read(e, c, &args[1]), c, |o| o.array(0)) else {
        return;
    };
    if count == 0 {
        c.reply().null_array();
        return;
    }
    let count = if count < 0 { 0 } else { count as usize };
    reply_range(c, s, start, end, count, rev);
}

/// XRANGE key start end [COUNT count]
fn xrange(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    range_generic(e, c, args, false);
}

/// XREVRANGE key end start [COUNT count]
fn xrevrange(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    range_generic(e, c, args, true);
}

/// XLEN key
fn xlen(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if let Ok(s) = stream_read(e, c, &args[1]) {
        let n = s.map_or(0, |s| s.length);
        c.reply().int(n as i64);
    }
}

/// XDEL key id [id ...]
fn xdel(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let dbi = c.db;
    let key = &args[1];
    if found_or(stream_write(e, c, key), c, |o| o.int(0)).is_none() {
        return;
    }
    let Some(ids) = arg_ids(c, &args[2..]) else {
        return;
    };
    let s = stream_peek(e, dbi, key).expect("looked up");
    let mut deleted = 0u64;
    let mut first_entry = false;
    for id in ids {
        if s.delete(id) {
            if id == s.first_id {
                first_entry = true;
            }
            if id > s.max_deleted_id {
                s.max_deleted_id = id;
            }
            deleted += 1;
        }
    }
    if deleted > 0 {
        if s.length == 0 {
            s.first_id = StreamId::MIN;
        } else if first_entry {
            s.first_id = s.edge_id(true, true).unwrap_or(StreamId::MAX);
        }
        modified(e, c, dbi, key);
        notify(e, c, class::STREAM, "xdel", dbi, key);
        e.dirty += deleted - 1;
    }
    c.reply().int(deleted as i64);
}

/// The keys of XREAD / XREADGROUP: after STREAMS, the first half.
fn xread_keys(args: &[Bytes]) -> Vec<usize> {
    for i in 1..args.len() {
        if is(&args[i], "streams") {
            let n = (args.len() - i - 1) / 2;
            return (i + 1..i + 1 + n).collect();
        }
    }
    Vec::new()
}

/// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
fn xread(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    read_generic(e, c, args, false);
}

/// XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]
fn xreadgroup(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    read_generic(e, c, args, true);
}

/// Parses a BLOCK timeout in milliseconds (getTimeoutFromObjectOrReply).
fn arg_block_ms(c: &mut Client, a: &[u8]) -> Option<u64> {
    let Some(ms) = num::string2ll(a) else {
        c.reply()
            .error("ERR timeout is not an integer or out of range");
        return None;
    };
    if ms < 0 {
        c.reply().error(errors::TIMEOUT_NEGATIVE);
        return None;
    }
    Some(ms as u64)
}

fn read_generic(e: &mut Engine, c: &mut Client, args: &[Bytes], group_mode: bool) {
    e.prevent_propagation();
    // A blocked client being served again: the key woke it.
    let rerun = c.reblock_deadline.is_some();
    let mut timeout: Option<u64> = None;
    let mut count: i64 = 0;
    let mut streams_arg = 0;
    let mut nstreams = 0;
    let mut noack = false;
    let mut group: Option<(Bytes, Bytes)> = None;
    let mut count_idx = None;
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        let o = &args[i][..];
        if is(o, "block") && more > 0 {
            if c.script {
                c.reply().error(&format!(
                    "ERR {} command is not allowed with BLOCK option from scripts",
                    String::from_utf8_lossy(&args[0])
                ));
                return;
            }
            i += 1;
            match arg_block_ms(c, &args[i]) {
                Some(t) => timeout = Some(t),
                None => return,
            }
        } else if is(o, "count") && more > 0 {
            i += 1;
            let Some(n) = arg_ll(c, &args[i], None) else {
                return;
            };
            count = n.max(0);
            count_idx = Some(i);
        } else if is(o, "streams") && more > 0 {
            streams_arg = i + 1;
            let n = args.len() - streams_arg;
            if !n.is_multiple_of(2) {
                c.reply().error("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
                return;
            }
            nstreams = n / 2;
            break;
        } else if is(o, "group") && more >= 2 {
            if !group_mode {
                c.reply().error(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                );
                return;
            }
            group = Some((args[i + 1].clone(), args[i + 2].clone()));
            i += 2;
        } else if is(o, "noack") {
            if !group_mode {
                c.reply().error(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                );
                return;
            }
            noack = true;
        } else {
            c.reply().error(errors::SYNTAX);
            return;
        }
        i += 1;
    }
    let _ = count_idx;
    if streams_arg == 0 {
        c.reply().error(errors::SYNTAX);
        return;
    }
    if group_mode && group.is_none() {
        c.reply().error("ERR Missing GROUP option for XREADGROUP");
        return;
    }
    let dbi = c.db;
    let mut ids: Vec<StreamId> = Vec::with_capacity(nstreams);
    for k in 0..nstreams {
        let key = &args[streams_arg + k];
        let ida = &args[streams_arg + nstreams + k];
        if rerun {
            let kind = lookup_write(e, dbi, key).map(|en| en.value.kind());
            if kind.is_some_and(|k| k != Kind::Stream) || (kind.is_none() && group_mode) {
                if group_mode {
                    c.reply().error("UNBLOCKED the stream key no longer exists");
                    return;
                }
                // Redis keeps XREAD blocked on a key that is not a stream.
                return reblock(e, c, args, timeout);
            }
        }
        let Ok(s) = stream_read(e, c, key) else {
            return;
        };
        if let Some((g, _)) = &group {
            let has = s.as_ref().is_some_and(|s| s.groups.contains_key(&g[..]));
            if !has {
                if rerun {
                    c.reply().error(
                        "NOGROUP the consumer group this client was blocked on no longer exists",
                    );
                    return;
                }
                c.reply().error(&format!(
                    "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                    lossy(key),
                    lossy(g)
                ));
                return;
            }
        }
        if &ida[..] == b"$" {
            if group_mode {
                c.reply().error("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.");
                return;
            }
            ids.push(s.map_or(StreamId::MIN, |s| s.last_id));
            continue;
        } else if &ida[..] == b">" {
            if !group_mode {
                c.reply().error("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
                return;
            }
            ids.push(StreamId::MAX);
            continue;
        }
        let Some(id) = arg_id(c, ida, 0, true) else {
            return;
        };
        ids.push(id);
    }

    let resp3 = c.reply().is_resp3();
    let mut served = 0usize;
    let mut d = None;
    for k in 0..nstreams {
        let key = args[streams_arg + k].clone();
        let Some(s) = stream_peek(e, dbi, &key) else {
            continue;
        };
        let gt = ids[k];
        let mut history = false;
        let serve = if let Some((g, _)) = &group {
            let gr = s.groups.get(&g[..]).expect("checked above");
            if gt != StreamId::MAX {
                history = true;
                true
            } else if rerun {
                s.last_id > gr.last_id
            } else {
                s.length > 0 && s.last_valid_id().is_some_and(|max| max > gr.last_id)
            }
        } else if rerun {
            s.last_id > gt
        } else {
            s.length > 0 && s.last_valid_id().is_some_and(|max| max > gt)
        };
        if !serve {
            continue;
        }
        served += 1;
        if served == 1 {
            d = Some(c.reply().deferred());
        }
        if !resp3 {
            c.reply().array(2);
        }
        c.reply().bulk(&key);
        match &group {
            None => {
                let start = gt.incr().unwrap_or(StreamId::MAX);
                let s = stream_peek(e, dbi, &key).expect("stream");
                let mut out = c.reply();
                let dd = out.deferred();
                let mut n = 0usize;
                s.walk(start, StreamId::MAX, false, false, |en| {
                    reply_entry(&mut out, en);
                    n += 1;
                    count == 0 || n < count as usize
                });
                out.finish_array(dd, n);
            }
            Some((g, cname)) => {
                read_group(
                    e,
                    c,
                    dbi,
                    &key,
                    g,
                    cname,
                    gt,
                    count as usize,
                    noack,
                    history,
                );
                e.dirty += 1;
            }
        }
    }
    if served > 0 {
        let d = d.expect("set with the first");
        if resp3 {
            c.reply().finish_map(d, served);
        } else {
            c.reply().finish_array(d, served);
        }
        return;
    }
    if timeout.is_some() || rerun {
        // A client served again blocked before, so it may block (a client
        // that may not, inside EXEC, gets the timeout's reply at once).
        let argv = rewrite_ids(args, streams_arg, nstreams, &ids, group_mode);
        return reblock(e, c, &argv, timeout);
    }
    c.reply().null_array();
}

/// The arguments a blocked XREAD runs again with: `$` resolved.
fn rewrite_ids(
    args: &[Bytes],
    streams_arg: usize,
    nstreams: usize,
    ids: &[StreamId],
    group_mode: bool,
) -> Vec<Bytes> {
    let mut v = args.to_vec();
    if !group_mode {
        for k in 0..nstreams {
            v[streams_arg + nstreams + k] = id_bytes(ids[k]);
        }
    }
    v
}

fn reblock(e: &mut Engine, c: &mut Client, args: &[Bytes], timeout: Option<u64>) {
    let keys: Vec<Bytes> = xread_keys(args)
        .into_iter()
        .map(|i| args[i].clone())
        .collect();
    let t = timeout
        .filter(|&ms| ms > 0)
        .map(std::time::Duration::from_millis);
    e.block(c, keys, t, Kind::Stream, TimeoutReply::NullArray, args);
}

/// The group part of XREADGROUP for one stream: new entries (`>`) or the
/// consumer's history.
#[allow(clippy::too_many_arguments)]
fn read_group(
    e: &mut Engine,
    c: &mut Client,
    dbi: usize,
    key: &Bytes,
    gname: &Bytes,
    cname: &Bytes,
    gt: StreamId,
    count: usize,
    noack: bool,
    history: bool,
) {
    let now = now_ms();
    let propagating = e.propagating();
    let notify_created;
    let mut props: Vec<Vec<Bytes>> = Vec::new();
    {
        let s = stream_peek(e, dbi, key).expect("stream");
        let g = s.groups.get_mut(&gname[..]).expect("group");
        notify_created = match g.consumers.get_mut(&cname[..]) {
            Some(cons) => {
                cons.seen_time = now;
                false
            }
            None => {
                g.consumers.insert(
                    cname.to_vec(),
                    Consumer {
                        seen_time: now,
                        pel: Default::default(),
                    },
                );
                if noack && propagating {
                    props.push(propagate::argv(&[
                        b"XGROUP",
                        b"CREATECONSUMER",
                        key,
                        gname,
                        cname,
                    ]));
                }
                true
            }
        };
    }
    if notify_created {
        e.dirty += 1;
    }
    let s = stream_peek(e, dbi, key).expect("stream");
    if history {
        // The consumer's own pending entries from `gt` on.
        let start = gt.incr().unwrap_or(StreamId::MAX);
        let g = s.groups.get(&gname[..]).expect("group");
        let ids: Vec<StreamId> = g.consumers[&cname[..]]
            .pel
            .range(start..)
            .take(if count == 0 { usize::MAX } else { count })
            .copied()
            .collect();
        let mut out = c.reply();
        out.array(ids.len());
        let mut delivered = Vec::new();
        for id in ids {
            if reply_one(&mut out, s, id) {
                delivered.push(id);
            } else {
                out.array(2);
                reply_id(&mut out, id);
                out.null_array();
            }
        }
        let g = s.groups.get_mut(&gname[..]).expect("group");
        for id in delivered {
            if let Some(n) = g.pel.get_mut(&id) {
                n.delivery_time = now;
                n.delivery_count += 1;
            }
        }
    } else {
        let start = s
            .groups
            .get(&gname[..])
            .expect("group")
            .last_id
            .incr()
            .unwrap_or(StreamId::MAX);
        let entries = s.range(start, StreamId::MAX, false, count);
        let mut out = c.reply();
        out.array(entries.len());
        let mut g = s.groups.remove(&gname[..]).expect("group");
        let mut advanced = false;
        for (id, fields) in &entries {
            if *id > g.last_id {
                s.group_advance(&mut g, *id);
                advanced = true;
            }
            out.array(2);
            reply_id(&mut out, *id);
            out.array(fields.len() * 2);
            for (k, v) in fields {
                out.bulk(k);
                out.bulk(v);
            }
            if !noack {
                if let Some(old) = g.pel.get(id).and_then(|n| n.consumer.clone()) {
                    if let Some(oc) = g.consumers.get_mut(&old) {
                        oc.pel.remove(id);
                    }
                }
                g.pel.insert(
                    *id,
                    Nack {
                        delivery_time: now,
                        delivery_count: 1,
                        consumer: Some(cname.to_vec()),
                    },
                );
                g.consumers
                    .get_mut(&cname[..])
                    .expect("created above")
                    .pel
                    .insert(*id);
                if propagating {
                    props.push(xclaim_argv(key, gname, cname, *id, now, 1, g.last_id));
                }
            }
        }
        if noack && advanced && propagating {
            props.push(setid_argv(key, gname, &g));
        }
        s.groups.insert(gname.to_vec(), g);
    }
    if notify_created {
        let c2 = c;
        notify(e, c2, class::STREAM, "xgroup-createconsumer", dbi, key);
    }
    for p in props {
        e.also_propagate(dbi, p);
    }
}

/// streamPropagateXCLAIM's command.
fn xclaim_argv(
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    id: StreamId,
    time: i64,
    count: u64,
    last: StreamId,
) -> Vec<Bytes> {
    propagate::argv(&[
        b"XCLAIM",
        key,
        group,
        consumer,
        b"0",
        id.to_string().as_bytes(),
        b"TIME",
        time.to_string().as_bytes(),
        b"RETRYCOUNT",
        count.to_string().as_bytes(),
        b"FORCE",
        b"JUSTID",
        b"LASTID",
        last.to_string().as_bytes(),
    ])
}

/// streamPropagateGroupID's command.
fn setid_argv(key: &[u8], group: &[u8], g: &Group) -> Vec<Bytes> {
    propagate::argv(&[
        b"XGROUP",
        b"SETID",
        key,
        group,
        g.last_id.to_string().as_bytes(),
        b"ENTRIESREAD",
        g.entries_read.to_string().as_bytes(),
    ])
}

// ---------------------------------------------------------------- XGROUP

const XGROUP_HELP: &[&str] = &[
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
];

/// XGROUP HELP
fn xgroup_help(_e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    reply_help(c, b"XGROUP", XGROUP_HELP);
}

/// XGROUP CREATE / SETID / DESTROY / CREATECONSUMER / DELCONSUMER
fn xgroup(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let sub = &args[1][..];
    let dbi = c.db;
    let key = &args[2];
    let gname = &args[3];
    let create = is(sub, "create");
    let setid = is(sub, "setid");
    let mut mkstream = false;
    let mut entries_read = ENTRIES_READ_INVALID;
    let mut i = 5;
    while i < args.len() {
        if create && is(&args[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if (create || setid) && is(&args[i], "entriesread") && i + 1 < args.len() {
            let Some(n) = arg_ll(c, &args[i + 1], None) else {
                return;
            };
            if n < 0 && n != ENTRIES_READ_INVALID {
                c.reply()
                    .error("ERR value for ENTRIESREAD must be positive or -1");
                return;
            }
            entries_read = n;
            i += 2;
        } else {
            subcommand_syntax(c, "xgroup", sub);
            return;
        }
    }
    let exists = match stream_write(e, c, key) {
        Err(()) => return,
        Ok(s) => s.map(|s| s.groups.contains_key(&gname[..])),
    };
    if !mkstream {
        let Some(has_group) = exists else {
            c.reply().error("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.");
            return;
        };
        if !has_group && !create && !is(sub, "destroy") {
            c.reply().error(&format!(
                "NOGROUP No such consumer group '{}' for key name '{}'",
                lossy(gname),
                lossy(key)
            ));
            return;
        }
    }
    if create && args.len() <= 8 {
        let id = if &args[4][..] == b"$" {
            stream_peek(e, dbi, key).map_or(StreamId::MIN, |s| s.last_id)
        } else {
            let Some(id) = arg_id(c, &args[4], 0, true) else {
                return;
            };
            id
        };
        if exists.is_none() {
            e.ks.dbs[dbi].add(SBytes::new(key), Value::from_stream(Stream::new()));
            e.touch_key(c, dbi, key);
        }
        let s = stream_peek(e, dbi, key).expect("exists");
        if s.groups.contains_key(&gname[..]) {
            c.reply()
                .error("BUSYGROUP Consumer Group name already exists");
            return;
        }
        s.groups
            .insert(gname.to_vec(), Group::new(id, entries_read));
        c.reply().ok();
        e.dirty += 1;
        notify(e, c, class::STREAM, "xgroup-create", dbi, key);
    } else if setid && (args.len() == 5 || args.len() == 7) {
        let s = stream_peek(e, dbi, key).expect("exists");
        let id = if &args[4][..] == b"$" {
            s.last_id
        } else {
            match parse_id(&args[4], 0, false, false) {
                Some((id, _)) => id,
                None => {
                    c.reply().error(INVALID_ID);
                    return;
                }
            }
        };
        let g = s.groups.get_mut(&gname[..]).expect("checked");
        g.last_id = id;
        g.entries_read = entries_read;
        c.reply().ok();
        e.dirty += 1;
        notify(e, c, class::STREAM, "xgroup-setid", dbi, key);
    } else if is(sub, "destroy") && args.len() == 4 {
        let s = stream_peek(e, dbi, key).expect("exists");
        if s.groups.remove(&gname[..]).is_some() {
            c.reply().int(1);
            e.dirty += 1;
            notify(e, c, class::STREAM, "xgroup-destroy", dbi, key);
            e.signal_ready(dbi, key);
        } else {
            c.reply().int(0);
        }
    } else if is(sub, "createconsumer") && args.len() == 5 {
        let s = stream_peek(e, dbi, key).expect("exists");
        let g = s.groups.get_mut(&gname[..]).expect("checked");
        if g.consumers.contains_key(&args[4][..]) {
            c.reply().int(0);
        } else {
            g.consumers.insert(
                args[4].to_vec(),
                Consumer {
                    seen_time: now_ms(),
                    pel: Default::default(),
                },
            );
            e.dirty += 1;
            notify(e, c, class::STREAM, "xgroup-createconsumer", dbi, key);
            c.reply().int(1);
        }
    } else if is(sub, "delconsumer") && args.len() == 5 {
        let s = stream_peek(e, dbi, key).expect("exists");
        let g = s.groups.get_mut(&gname[..]).expect("checked");
        match g.delete_consumer(&args[4]) {
            Some(n) => {
                e.dirty += 1;
                notify(e, c, class::STREAM, "xgroup-delconsumer", dbi, key);
                c.reply().int(n as i64);
            }
            None => c.reply().int(0),
        }
    } else {
        subcommand_syntax(c, "xgroup", sub);
    }
}

/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
fn xsetid(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(id) = arg_id(c, &args[2], 0, true) else {
        return;
    };
    let mut entries_added: i64 = -1;
    let mut max_xdel = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if is(&args[i], "entriesadded") && more > 0 {
            let Some(n) = arg_ll(c, &args[i + 1], None) else {
                return;
            };
            if n < 0 {
                c.reply().error("ERR entries_added must be positive");
                return;
            }
            entries_added = n;
            i += 2;
        } else if is(&args[i], "maxdeletedid") && more > 0 {
            let Some(m) = arg_id(c, &args[i + 1], 0, true) else {
                return;
            };
            if id < m {
                c.reply().error("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
                return;
            }
            max_xdel = m;
            i += 2;
        } else {
            c.reply().error(errors::SYNTAX);
            return;
        }
    }
    let dbi = c.db;
    let key = &args[1];
    let Some(s) = found_or(stream_write(e, c, key), c, no_such_key) else {
        return;
    };
    if s.length > 0 {
        let max = s.last_valid_id().unwrap_or(StreamId::MIN);
        if id < max {
            c.reply()
                .error("ERR The ID specified in XSETID is smaller than the target stream top item");
            return;
        }
        if entries_added != -1 && s.length > entries_added as u64 {
            c.reply().error("ERR The entries_added specified in XSETID is smaller than the target stream length");
            return;
        }
    }
    s.last_id = id;
    if entries_added != -1 {
        s.entries_added = entries_added as u64;
    }
    if !max_xdel.is_zero() {
        s.max_deleted_id = max_xdel;
    }
    c.reply().ok();
    e.dirty += 1;
    notify(e, c, class::STREAM, "xsetid", dbi, key);
}

// ---------------------------------------------------------------- groups' PEL

/// The group `g` of the stream at `key`, or None after replying with the
/// NOGROUP error `nogroup` (or WRONGTYPE).
fn group_of<'a>(
    e: &'a mut Engine,
    c: &mut Client,
    key: &[u8],
    g: &[u8],
    access: Access,
) -> Result<Option<&'a mut Stream>, ()> {
    let s = typed(e, c, key, access, pick_stream)?;
    Ok(s.filter(|s| s.groups.contains_key(g)))
}

/// [`group_of`] replying with the NOGROUP error when there is no such
/// key or group.
fn existing_group<'a>(
    e: &'a mut Engine,
    c: &mut Client,
    key: &[u8],
    g: &[u8],
) -> Option<&'a mut Stream> {
    let found = group_of(e, c, key, g, Access::Read);
    found_or(found, c, |o| {
        o.error(&format!(
            "NOGROUP No such key '{}' or consumer group '{}'",
            lossy(key),
            lossy(g)
        ))
    })
}

fn no_such_key(out: &mut Out) {
    out.error(errors::NO_SUCH_KEY);
}

/// XACK key group id [id ...]
fn xack(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let key = &args[1];
    let group = group_of(e, c, key, &args[2], Access::Read);
    if found_or(group, c, |o| o.int(0)).is_none() {
        return;
    }
    let Some(ids) = arg_ids(c, &args[3..]) else {
        return;
    };
    let s = stream_peek(e, c.db, key).expect("looked up");
    let g = s.groups.get_mut(&args[2][..]).expect("checked");
    let mut n = 0;
    for id in ids {
        if g.ack(id) {
            n += 1;
        }
    }
    e.dirty += n as u64;
    c.reply().int(n);
}

/// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
fn xpending(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let argc = args.len();
    let justinfo = argc == 3;
    if argc != 3 && !(6..=9).contains(&argc) {
        c.reply().error(errors::SYNTAX);
        return;
    }
    let mut start = StreamId::MIN;
    let mut end = StreamId::MAX;
    let mut count: i64 = 0;
    let mut minidle: i64 = 0;
    let mut consumer: Option<&Bytes> = None;
    if argc >= 6 {
        let mut si = 3;
        if is(&args[3], "idle") {
            let Some(n) = arg_ll(c, &args[4], None) else {
                return;
            };
            minidle = n;
            if argc < 8 {
                c.reply().error(errors::SYNTAX);
                return;
            }
            si += 2;
        }
        let Some(n) = arg_ll(c, &args[si + 2], None) else {
            return;
        };
        count = n.max(0);
        let Some(s0) = arg_bound(c, &args[si], Bound::Start) else {
            return;
        };
        start = s0;
        let Some(e0) = arg_bound(c, &args[si + 1], Bound::End) else {
            return;
        };
        end = e0;
        if si + 3 < argc {
            consumer = Some(&args[si + 3]);
        }
    }
    let key = &args[1];
    let gname = &args[2];
    let Some(s) = existing_group(e, c, key, gname) else {
        return;
    };
    let g = &s.groups[&gname[..]];
    let mut out = c.reply();
    if justinfo {
        out.array(4);
        out.int(g.pel.len() as i64);
        match (g.pel.keys().next(), g.pel.keys().next_back()) {
            (Some(first), Some(last)) => {
                reply_id(&mut out, *first);
                reply_id(&mut out, *last);
                let d = out.deferred();
                let mut n = 0;
                for (name, cons) in &g.consumers {
                    if cons.pel.is_empty() {
                        continue;
                    }
                    out.array(2);
                    out.bulk(name);
                    out.bulk_int(cons.pel.len() as i64);
                    n += 1;
                }
                out.finish_array(d, n);
            }
            _ => {
                out.null();
                out.null();
                out.null_array();
            }
        }
        return;
    }
    let now = now_ms();
    let ids: Vec<StreamId> = match consumer {
        Some(name) => match g.consumers.get(&name[..]) {
            None => {
                out.array(0);
                return;
            }
            Some(cons) => {
                if start > end {
                    Vec::new()
                } else {
                    cons.pel.range(start..=end).copied().collect()
                }
            }
        },
        None => {
            if start > end {
                Vec::new()
            } else {
                g.pel.range(start..=end).map(|(k, _)| *k).collect()
            }
        }
    };
    let d = out.deferred();
    let mut n = 0usize;
    for id in ids {
        if count as usize <= n {
            break;
        }
        let Some(nack) = g.pel.get(&id) else {
            continue;
        };
        if minidle != 0 && now.saturating_sub(nack.delivery_time) < minidle {
            continue;
        }
        n += 1;
        out.array(4);
        reply_id(&mut out, id);
        out.bulk(nack.consumer.as_deref().unwrap_or(b""));
        out.int(now.saturating_sub(nack.delivery_time).max(0));
        out.int(nack.delivery_count as i64);
    }
    out.finish_array(d, n);
}

/// Moves pending entry `id` to consumer `name` (creating it), as XCLAIM
/// and XAUTOCLAIM do.
fn claim_to(g: &mut Group, id: StreamId, name: &[u8], now: i64, created: &mut bool) {
    if !g.consumers.contains_key(name) {
        g.consumers.insert(
            name.to_vec(),
            Consumer {
                seen_time: now,
                pel: Default::default(),
            },
        );
        *created = true;
    }
    let nack = g.pel.get_mut(&id).expect("pending");
    if nack.consumer.as_deref() != Some(name) {
        if let Some(old) = nack.consumer.take() {
            if let Some(oc) = g.consumers.get_mut(&old) {
                oc.pel.remove(&id);
            }
        }
        nack.consumer = Some(name.to_vec());
        g.consumers.get_mut(name).expect("created").pel.insert(id);
    }
}

/// What XCLAIM and XAUTOCLAIM do to the pending entries of a group taken
/// out of its stream, counted and replicated (as XCLAIMs) when done.
struct Claims<'a> {
    key: &'a [u8],
    gname: &'a [u8],
    /// The claiming consumer.
    name: &'a [u8],
    now: i64,
    propagating: bool,
    props: Vec<Vec<Bytes>>,
    /// Whether the claiming consumer was created.
    created: bool,
    dirty: u64,
}

impl<'a> Claims<'a> {
    fn new(e: &Engine, key: &'a [u8], gname: &'a [u8], name: &'a [u8], now: i64) -> Self {
        Claims {
            key,
            gname,
            name,
            now,
            propagating: e.propagating(),
            props: Vec::new(),
            created: false,
            dirty: 0,
        }
    }

    /// Drops the pending entry of `id`, gone from the stream; replicas
    /// drop it on an XCLAIM of it to its owner.
    fn drop_deleted(&mut self, g: &mut Group, id: StreamId) {
        if self.propagating {
            let nack = g.pel.get(&id).expect("pending");
            self.props.push(xclaim_argv(
                self.key,
                self.gname,
                nack.consumer.as_deref().unwrap_or(b""),
                id,
                nack.delivery_time,
                nack.delivery_count,
                g.last_id,
            ));
        }
        self.dirty += 1;
        g.ack(id);
    }

    /// Moves pending entry `id` to the claiming consumer, delivered at
    /// `delivery_time`; its delivery count becomes `retrycount` when
    /// given, else one more unless JUSTID.
    fn claim(
        &mut self,
        g: &mut Group,
        id: StreamId,
        delivery_time: i64,
        retrycount: Option<u64>,
        justid: bool,
    ) {
        claim_to(g, id, self.name, self.now, &mut self.created);
        let nack = g.pel.get_mut(&id).expect("pending");
        nack.delivery_time = delivery_time;
        if let Some(n) = retrycount {
            nack.delivery_count = n;
        } else if !justid {
            nack.delivery_count += 1;
        }
        if self.propagating {
            let (dt, dc) = (nack.delivery_time, nack.delivery_count);
            let argv = xclaim_argv(self.key, self.gname, self.name, id, dt, dc, g.last_id);
            self.props.push(argv);
        }
        self.dirty += 1;
    }

    /// The claiming consumer was active now.
    fn seen(&self, g: &mut Group) {
        if let Some(cons) = g.consumers.get_mut(self.name) {
            cons.seen_time = self.now;
        }
    }

    /// Counts and replicates the claims, the group back in its stream.
    fn finish(self, e: &mut Engine, c: &mut Client, dbi: usize) {
        e.dirty += self.dirty + self.created as u64;
        if self.created {
            notify(e, c, class::STREAM, "xgroup-createconsumer", dbi, self.key);
        }
        for p in self.props {
            e.also_propagate(dbi, p);
        }
    }
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
fn xclaim(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let key = &args[1];
    let gname = &args[2];
    if existing_group(e, c, key, gname).is_none() {
        return;
    }
    let Some(minidle) = arg_ll(
        c,
        &args[4],
        Some("ERR Invalid min-idle-time argument for XCLAIM"),
    ) else {
        return;
    };
    let minidle = minidle.max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < args.len() {
        match parse_id(&args[j], 0, true, false) {
            Some((id, _)) => ids.push((id, j)),
            None => break,
        }
        j += 1;
    }
    let now = now_ms();
    let mut deliverytime: i64 = -1;
    let mut retrycount: i64 = -1;
    let mut force = false;
    let mut justid = false;
    let mut last_id = StreamId::MIN;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = &args[j][..];
        if is(opt, "force") {
            force = true;
        } else if is(opt, "justid") {
            justid = true;
        } else if let Some(what) = ["IDLE", "TIME", "RETRYCOUNT"]
            .into_iter()
            .find(|w| more > 0 && is(opt, w))
        {
            j += 1;
            let Some(n) = num::string2ll(&args[j]) else {
                c.reply()
                    .error(&format!("ERR Invalid {what} option argument for XCLAIM"));
                return;
            };
            match what {
                "IDLE" => deliverytime = now.wrapping_sub(n),
                "TIME" => deliverytime = n,
                _ => retrycount = n,
            }
        } else if is(opt, "lastid") && more > 0 {
            j += 1;
            let Some(id) = arg_id(c, &args[j], 0, true) else {
                return;
            };
            last_id = id;
        } else {
            c.reply()
                .error(&format!("ERR Unrecognized XCLAIM option '{}'", lossy(opt)));
            return;
        }
        j += 1;
    }
    e.prevent_propagation();
    let dbi = c.db;
    let mut claims = Claims::new(e, key, gname, &args[3], now);
    let s = stream_peek(e, dbi, key).expect("looked up");
    let mut g = s.groups.remove(&gname[..]).expect("checked");
    let mut propagate_last = false;
    if last_id > g.last_id {
        g.last_id = last_id;
        propagate_last = true;
    }
    if deliverytime != -1 {
        if deliverytime < 0 || deliverytime > now {
            deliverytime = now;
        }
    } else {
        deliverytime = now;
    }
    let mut out = c.reply();
    let d = out.deferred();
    let mut n = 0usize;
    for (id, _) in ids {
        let has_nack = g.pel.contains_key(&id);
        if !s.exists(id) {
            if has_nack {
                claims.drop_deleted(&mut g, id);
                propagate_last = false;
            }
            continue;
        }
        if force && !has_nack {
            g.pel.insert(
                id,
                Nack {
                    delivery_time: now,
                    delivery_count: 1,
                    consumer: None,
                },
            );
        }
        let Some(nack) = g.pel.get(&id) else {
            continue;
        };
        if nack.consumer.is_some()
            && minidle != 0
            && now.saturating_sub(nack.delivery_time) < minidle
        {
            continue;
        }
        let retrycount = u64::try_from(retrycount).ok();
        claims.claim(&mut g, id, deliverytime, retrycount, justid);
        if justid {
            reply_id(&mut out, id);
        } else if !reply_one(&mut out, s, id) {
            out.null_array();
        }
        n += 1;
        propagate_last = false;
    }
    claims.seen(&mut g);
    if propagate_last {
        if claims.propagating {
            claims.props.push(setid_argv(key, gname, &g));
        }
        claims.dirty += 1;
    }
    out.finish_array(d, n);
    s.groups.insert(gname.to_vec(), g);
    claims.finish(e, c, dbi);
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
fn xautoclaim(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(minidle) = arg_ll(
        c,
        &args[4],
        Some("ERR Invalid min-idle-time argument for XAUTOCLAIM"),
    ) else {
        return;
    };
    let minidle = minidle.max(0);
    let Some(start) = arg_bound(c, &args[5], Bound::Start) else {
        return;
    };
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if is(&args[j], "count") && more > 0 {
            let max = i64::MAX / 16;
            match num::string2ll(&args[j + 1]) {
                Some(n) if (1..=max).contains(&n) => count = n,
                _ => {
                    c.reply().error("ERR COUNT must be > 0");
                    return;
                }
            }
            j += 1;
        } else if is(&args[j], "justid") {
            justid = true;
        } else {
            c.reply().error(errors::SYNTAX);
            return;
        }
        j += 1;
    }
    let key = &args[1];
    let gname = &args[2];
    if existing_group(e, c, key, gname).is_none() {
        return;
    }
    e.prevent_propagation();
    let dbi = c.db;
    let now = now_ms();
    let mut claims = Claims::new(e, key, gname, &args[3], now);
    let s = stream_peek(e, dbi, key).expect("looked up");
    let mut g = s.groups.remove(&gname[..]).expect("checked");
    let mut attempts = count.saturating_mul(10);
    let mut deleted = Vec::new();
    let mut claimed = Vec::new();
    let mut cursor = start;
    let next: Option<StreamId>;
    loop {
        let Some((&id, nack)) = g.pel.range(cursor..).next() else {
            next = None;
            break;
        };
        if attempts == 0 || count == 0 {
            next = Some(id);
            break;
        }
        attempts -= 1;
        let following = id.incr();
        if !s.exists(id) {
            claims.drop_deleted(&mut g, id);
            deleted.push(id);
            count -= 1;
        } else if minidle == 0 || now.saturating_sub(nack.delivery_time) >= minidle {
            claims.claim(&mut g, id, now, None, justid);
            claimed.push(id);
            count -= 1;
        }
        match following {
            Some(x) => cursor = x,
            None => {
                next = None;
                break;
            }
        }
    }
    let mut out = c.reply();
    out.array(3);
    reply_id(&mut out, next.unwrap_or(StreamId::MIN));
    out.array(claimed.len());
    for id in claimed {
        if justid {
            reply_id(&mut out, id);
        } else if !reply_one(&mut out, s, id) {
            out.null_array();
        }
    }
    out.array(deleted.len());
    for id in &deleted {
        reply_id(&mut out, *id);
    }
    claims.seen(&mut g);
    s.groups.insert(gname.to_vec(), g);
    claims.finish(e, c, dbi);
}

// ---------------------------------------------------------------- XINFO

const XINFO_HELP: &[&str] = &[
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
];

/// XINFO HELP
fn xinfo_help(_e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    reply_help(c, b"XINFO", XINFO_HELP);
}

fn reply_lag(out: &mut Out, s: &Stream, g: &Group) {
    match s.group_lag(g) {
        Some(l) => out.int(l),
        None => out.null(),
    }
}

fn reply_entries_read(out: &mut Out, g: &Group) {
    if g.entries_read != ENTRIES_READ_INVALID {
        out.int(g.entries_read);
    } else {
        out.null();
    }
}

/// XINFO CONSUMERS key group
fn xinfo_consumers(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(s) = found_or(stream_read(e, c, &args[2]), c, no_such_key) else {
        return;
    };
    let Some(g) = s.groups.get(&args[3][..]) else {
        c.reply().error(&format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            lossy(&args[3]),
            lossy(&args[2])
        ));
        return;
    };
    let now = now_ms();
    let mut out = c.reply();
    out.array(g.consumers.len());
    for (name, cons) in &g.consumers {
        out.map(3);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"pending");
        out.int(cons.pel.len() as i64);
        out.bulk(b"idle");
        out.int(now.saturating_sub(cons.seen_time).max(0));
    }
}

/// XINFO GROUPS key
fn xinfo_groups(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(s) = found_or(stream_read(e, c, &args[2]), c, no_such_key) else {
        return;
    };
    let mut out = c.reply();
    out.array(s.groups.len());
    for (name, g) in &s.groups {
        out.map(6);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"consumers");
        out.int(g.consumers.len() as i64);
        out.bulk(b"pending");
        out.int(g.pel.len() as i64);
        out.bulk(b"last-delivered-id");
        reply_id(&mut out, g.last_id);
        out.bulk(b"entries-read");
        reply_entries_read(&mut out, g);
        out.bulk(b"lag");
        reply_lag(&mut out, s, g);
    }
}

/// An estimate of the radix tree's node count for XINFO STREAM: Redis's
/// rax compresses the common prefixes of the 16-byte keys.
fn rax_nodes(s: &Stream) -> usize {
    let keys: Vec<[u8; 16]> = s.nodes.keys().map(|k| k.encode()).collect();
    if keys.is_empty() {
        return 1;
    }
    let mut n = 1 + keys.len();
    for w in keys.windows(2) {
        let common = w[0]
            .iter()
            .zip(w[1].iter())
            .take_while(|(a, b)| a == b)
            .count();
        if common < 16 {
            n += 1;
        }
    }
    n
}

/// XINFO STREAM key [FULL [COUNT count]]
fn xinfo_stream(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let opts = &args[3..];
    let mut full = false;
    let mut count: i64 = 10;
    if !opts.is_empty() {
        if (opts.len() != 1 && opts.len() != 3) || !is(&opts[0], "full") {
            subcommand_syntax(c, "xinfo", &args[1]);
            return;
        }
        full = true;
        if opts.len() == 3 {
            if !is(&opts[1], "count") {
                subcommand_syntax(c, "xinfo", &args[1]);
                return;
            }
            let Some(n) = arg_ll(c, &opts[2], None) else {
                return;
            };
            count = if n < 0 { 10 } else { n };
        }
    }
    let Some(s) = found_or(stream_read(e, c, &args[2]), c, no_such_key) else {
        return;
    };
    let count = count as usize;
    let mut out = c.reply();
    out.map(if full { 9 } else { 10 });
    out.bulk(b"length");
    out.int(s.length as i64);
    out.bulk(b"radix-tree-keys");
    out.int(s.nodes.len() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(rax_nodes(s) as i64);
    out.bulk(b"last-generated-id");
    reply_id(&mut out, s.last_id);
    out.bulk(b"max-deleted-entry-id");
    reply_id(&mut out, s.max_deleted_id);
    out.bulk(b"entries-added");
    out.int(s.entries_added as i64);
    out.bulk(b"recorded-first-entry-id");
    reply_id(&mut out, s.first_id);
    if !full {
        out.bulk(b"groups");
        out.int(s.groups.len() as i64);
        for (label, rev) in [(&b"first-entry"[..], false), (&b"last-entry"[..], true)] {
            out.bulk(label);
            let mut found = false;
            s.walk(StreamId::MIN, StreamId::MAX, rev, false, |en| {
                reply_entry(&mut out, en);
                found = true;
                false
            });
            if !found {
                out.null();
            }
        }
        return;
    }
    out.bulk(b"entries");
    let d = out.deferred();
    let mut n = 0;
    s.walk(StreamId::MIN, StreamId::MAX, false, false, |en| {
        reply_entry(&mut out, en);
        n += 1;
        count == 0 || n < count
    });
    out.finish_array(d, n);
    out.bulk(b"groups");
    out.array(s.groups.len());
    for (name, g) in &s.groups {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        reply_id(&mut out, g.last_id);
        out.bulk(b"entries-read");
        reply_entries_read(&mut out, g);
        out.bulk(b"lag");
        reply_lag(&mut out, s, g);
        out.bulk(b"pel-count");
        out.int(g.pel.len() as i64);
        out.bulk(b"pending");
        let take = if count == 0 { usize::MAX } else { count };
        let pel: Vec<_> = g.pel.iter().take(take).collect();
        out.array(pel.len());
        for (id, nack) in pel {
            out.array(4);
            reply_id(&mut out, *id);
            out.bulk(nack.consumer.as_deref().unwrap_or(b""));
            out.int(nack.delivery_time);
            out.int(nack.delivery_count as i64);
        }
        out.bulk(b"consumers");
        out.array(g.consumers.len());
        for (cname, cons) in &g.consumers {
            out.map(4);
            out.bulk(b"name");
            out.bulk(cname);
            out.bulk(b"seen-time");
            out.int(cons.seen_time);
            out.bulk(b"pel-count");
            out.int(cons.pel.len() as i64);
            out.bulk(b"pending");
            let ids: Vec<_> = cons.pel.iter().take(take).collect();
            out.array(ids.len());
            for id in ids {
                out.array(3);
                reply_id(&mut out, *id);
                match g.pel.get(id) {
                    Some(nack) => {
                        out.int(nack.delivery_time);
                        out.int(nack.delivery_count as i64);
                    }
                    None => {
                        out.int(0);
                        out.int(0);
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------- table

const R: u64 = acl::READ | acl::STREAM;
const W: u64 = acl::WRITE | acl::STREAM;

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
        .group("stream")
        .since(since)
}

const KEY2: Keys = Keys {
    first: 2,
    last: 2,
    step: 1,
};

const XGROUP_SUBCOMMANDS: &[CommandSpec] = &[
    spec(
        "create",
        -5,
        f::WRITE | f::DENYOOM,
        W | acl::SLOW,
        KEY2,
        xgroup,
        "5.0.0",
    ),
    spec(
        "createconsumer",
        5,
        f::WRITE | f::DENYOOM,
        W | acl::SLOW,
        KEY2,
        xgroup,
        "6.2.0",
    ),
    spec(
        "delconsumer",
        5,
        f::WRITE,
        W | acl::SLOW,
        KEY2,
        xgroup,
        "5.0.0",
    ),
    spec("destroy", 4, f::WRITE, W | acl::SLOW, KEY2, xgroup, "5.0.0"),
    spec(
        "help",
        2,
        f::LOADING | f::STALE,
        acl::STREAM | acl::SLOW,
        Keys::NONE,
        xgroup_help,
        "5.0.0",
    ),
    spec("setid", -5, f::WRITE, W | acl::SLOW, KEY2, xgroup, "5.0.0"),
];

const XINFO_SUBCOMMANDS: &[CommandSpec] = &[
    spec(
        "consumers",
        4,
        f::READONLY,
        R | acl::SLOW,
        KEY2,
        xinfo_consumers,
        "5.0.0",
    ),
    spec(
        "groups",
        3,
        f::READONLY,
        R | acl::SLOW,
        KEY2,
        xinfo_groups,
        "5.0.0",
    ),
    spec(
        "help",
        2,
        f::LOADING | f::STALE,
        acl::STREAM | acl::SLOW,
        Keys::NONE,
        xinfo_help,
        "5.0.0",
    ),
    spec(
        "stream",
        -3,
        f::READONLY,
        R | acl::SLOW,
        KEY2,
        xinfo_stream,
        "5.0.0",
    ),
];

pub const COMMANDS: &[CommandSpec] = &[
    spec(
        "xadd",
        -5,
        f::WRITE | f::DENYOOM | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        xadd,
        "5.0.0",
    ),
    spec(
        "xrange",
        -4,
        f::READONLY,
        R | acl::SLOW,
        Keys::ONE,
        xrange,
        "5.0.0",
    ),
    spec(
        "xrevrange",
        -4,
        f::READONLY,
        R | acl::SLOW,
        Keys::ONE,
        xrevrange,
        "5.0.0",
    ),
    spec(
        "xlen",
        2,
        f::READONLY | f::FAST,
        R | acl::FAST,
        Keys::ONE,
        xlen,
        "5.0.0",
    ),
    spec(
        "xdel",
        -3,
        f::WRITE | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        xdel,
        "5.0.0",
    ),
    spec(
        "xtrim",
        -4,
        f::WRITE,
        W | acl::SLOW,
        Keys::ONE,
        xtrim,
        "5.0.0",
    ),
    spec(
        "xread",
        -4,
        f::READONLY | f::BLOCKING | f::MOVABLE_KEYS,
        R | acl::SLOW | acl::BLOCKING,
        Keys::NONE,
        xread,
        "5.0.0",
    )
    .keys_fn(xread_keys),
    spec(
        "xreadgroup",
        -7,
        f::WRITE | f::BLOCKING | f::MOVABLE_KEYS,
        W | acl::SLOW | acl::BLOCKING,
        Keys::NONE,
        xreadgroup,
        "5.0.0",
    )
    .keys_fn(xread_keys),
    spec(
        "xsetid",
        -3,
        f::WRITE | f::DENYOOM | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        xsetid,
        "5.0.0",
    ),
    spec(
        "xack",
        -4,
        f::WRITE | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        xack,
        "5.0.0",
    ),
    spec(
        "xpending",
        -3,
        f::READONLY,
        R | acl::SLOW,
        Keys::ONE,
        xpending,
        "5.0.0",
    ),
    spec(
        "xclaim",
        -6,
        f::WRITE | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        xclaim,
        "5.0.0",
    ),
    spec(
        "xautoclaim",
        -6,
        f::WRITE | f::FAST,
        W | acl::FAST,
        Keys::ONE,
        xautoclaim,
        "6.2.0",
    ),
    CommandSpec::container("xgroup", -2, XGROUP_SUBCOMMANDS)
        .group("stream")
        .since("5.0.0")
        .summary("A container for consumer groups commands"),
    CommandSpec::container("xinfo", -2, XINFO_SUBCOMMANDS)
        .group("stream")
        .since("5.0.0")
        .summary("A container for stream introspection commands"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_as_redis() {
        assert_eq!(
            parse_id(b"5", 0, true, false),
            Some((StreamId::new(5, 0), true))
        );
        assert_eq!(
            parse_id(b"5", u64::MAX, true, false),
            Some((StreamId::new(5, u64::MAX), true))
        );
        assert_eq!(
            parse_id(b"5-3", 0, true, false),
            Some((StreamId::new(5, 3), true))
        );
        assert_eq!(
            parse_id(b"5-*", 0, true, true),
            Some((StreamId::new(5, 0), false))
        );
        assert_eq!(parse_id(b"5-*", 0, true, false), None);
        assert_eq!(parse_id(b"-", 0, true, false), None);
        assert_eq!(parse_id(b"+", 0, false, false), Some((StreamId::MAX, true)));
        assert_eq!(parse_id(b"a-1", 0, false, false), None);
        assert_eq!(parse_id(b"-1", 0, false, false), None);
    }

    #[test]
    fn xread_keys_are_the_first_half() {
        let a: Vec<Bytes> = ["xread", "count", "1", "streams", "a", "b", "0", "0"]
            .iter()
            .map(|s| Bytes::from(s.to_string()))
            .collect();
        assert_eq!(xread_keys(&a), vec![4, 5]);
    }
}
