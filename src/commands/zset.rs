//! Sorted set commands (blocking BZPOPMIN / BZPOPMAX / BZMPOP come with the
//! blocking machinery).

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use rand::Rng;
use std::time::Duration;

use super::keys::{parse_cursor, parse_scan_opts, ScanOpts, Type};
use super::{arg_i64, is, lookup_read, lookup_write, modified, notify, typed, Access};
use crate::config::notify as class;
use crate::dispatch::{acl, errors, flags as f, numkeys_keys, CommandSpec, Keys};
use crate::keyspace::set::Set;
use crate::keyspace::zset::{AddFlags, AddOutcome, LexBound, LexRange, Limits, ScoreRange, ZSet};
use crate::keyspace::{Kind, SBytes, Value};
use crate::protocol::encode::format_double;
use crate::server::blocking::{parse_timeout, TimeoutReply};
use crate::server::client::Client;
use crate::server::propagate;
use crate::server::Engine;
use crate::util::glob::string_match;
use crate::util::num;

const NAN_ERR: &str = "ERR resulting score is not a number (NaN)";
const NOT_FLOAT_RANGE: &str = "ERR min or max is not a float";
const NOT_LEX_RANGE: &str = "ERR min or max not valid string range item";

fn limits(e: &Engine) -> Limits {
    Limits {
        max_entries: e.config.zset_max_listpack_entries,
        max_value: e.config.zset_max_listpack_value,
    }
}

/// The sorted set at `key` for reading: `Ok(None)` when missing, `Err(())`
/// after replying WRONGTYPE.
fn pick_zset(v: &mut Value) -> Option<&mut ZSet> {
    match v {
        Value::ZSet(z) => Some(z),
        _ => None,
    }
}

fn zread<'a>(e: &'a mut Engine, c: &mut Client, key: &[u8]) -> Result<Option<&'a mut ZSet>, ()> {
    typed(e, c, key, Access::Read, pick_zset)
}

/// As [`zread`], for writing.
fn zwrite<'a>(e: &'a mut Engine, c: &mut Client, key: &[u8]) -> Result<Option<&'a mut ZSet>, ()> {
    typed(e, c, key, Access::Write, pick_zset)
}

/// Parses a long like getLongFromObjectOrReply, replying `msg` (or the
/// generic error) when it is not one.
fn arg_long_msg(c: &mut Client, a: &[u8], msg: Option<&str>) -> Option<i64> {
    match num::string2ll(a) {
        Some(n) => Some(n),
        None => {
            c.reply().error(msg.unwrap_or(errors::NOT_INT));
            None
        }
    }
}

/// A double as strtod reads it for ranges: overflow becomes ±inf (Redis
/// checks only for trailing bytes and NaN there).
fn parse_range_f64(a: &[u8]) -> Option<f64> {
    num::parse_f64(a).or_else(|| {
        let s = std::str::from_utf8(a).ok()?;
        let v: f64 = s.parse().ok()?;
        (!v.is_nan()
            && !s
                .trim_start_matches(['+', '-'])
                .starts_with(|ch: char| ch.is_alphabetic()))
        .then_some(v)
    })
}

/// Parses `min max` of a score range (`(` for exclusive, `-inf`, `+inf`).
fn parse_score_range(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
    fn bound(a: &[u8]) -> Option<(f64, bool)> {
        match a.split_first() {
            Some((b'(', rest)) => Some((parse_range_f64(rest)?, true)),
            _ => Some((parse_range_f64(a)?, false)),
        }
    }
    let (min, minex) = bound(min)?;
    let (max, maxex) = bound(max)?;
    Some(ScoreRange {
        min,
        max,
        minex,
        maxex,
    })
}

/// Parses `min max` of a lexicographic range (`[x`, `(x`, `-`, `+`).
fn parse_lex_range(min: &[u8], max: &[u8]) -> Option<LexRange> {
    fn bound(a: &[u8]) -> Option<LexBound> {
        match a.split_first()? {
            (b'+', []) => Some(LexBound::Max),
            (b'-', []) => Some(LexBound::Min),
            (b'(', rest) => Some(LexBound::Excl(rest.to_vec())),
            (b'[', rest) => Some(LexBound::Incl(rest.to_vec())),
            _ => None,
        }
    }
    Some(LexRange {
        min: bound(min)?,
        max: bound(max)?,
    })
}

/// Normalizes a rank range as Redis does (negative from the end); None when
/// empty. Returns inclusive `(start, end)`.
fn rank_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let llen = len as i64;
    let mut start = if start < 0 { start + llen } else { start };
    let mut end = if end < 0 { end + llen } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return None;
    }
    if end >= llen {
        end = llen - 1;
    }
    Some((start as usize, end as usize))
}

/// Writes one member (and score) of a range reply.
fn emit(out: &mut crate::protocol::Out<'_>, m: &[u8], s: f64, withscores: bool) {
    if withscores && out.is_resp3() {
        out.array(2);
    }
    out.bulk(m);
    if withscores {
        out.double(s);
    }
}

fn array_header(out: &mut crate::protocol::Out<'_>, n: usize, withscores: bool) {
    if withscores && !out.is_resp3() {
        out.array(n * 2);
    } else {
        out.array(n);
    }
}

/// Removes the key when its set became empty; true when it did.
fn drop_if_empty(e: &mut Engine, dbi: usize, key: &[u8]) -> bool {
    let empty = matches!(
        e.ks.dbs[dbi].get_raw(key).map(|en| &en.value),
        Some(Value::ZSet(z)) if z.is_empty()
    );
    if empty {
        e.ks.dbs[dbi].remove(key);
    }
    empty
}

/// After removing members from `key` by `event`: deletes the key when
/// empty, records the change, notifies `event` (and `del` when it went).
fn removed(e: &mut Engine, c: &mut Client, dbi: usize, key: &[u8], event: &str) {
    let gone = drop_if_empty(e, dbi, key);
    modified(e, c, dbi, key);
    notify(e, c, class::ZSET, event, dbi, key);
    if gone {
        notify(e, c, class::GENERIC, "del", dbi, key);
    }
}

/// The keyspace event of a pop at `end`.
fn pop_event(end: End) -> &'static str {
    match end {
        End::Min => "zpopmin",
        End::Max => "zpopmax",
    }
}

/// Stores `z` at `dst` (replacing any value and TTL) or deletes `dst` when
/// `z` is empty; replies with the stored length, as the *STORE commands do.
fn store_result(e: &mut Engine, c: &mut Client, dst: &[u8], z: ZSet, event: &str) {
    let dbi = c.db;
    let n = z.len();
    if n > 0 {
        e.ks.dbs[dbi].set(dst, Value::from_zset(z), false);
        modified(e, c, dbi, dst);
        notify(e, c, class::ZSET, event, dbi, dst);
    } else if lookup_write(e, dbi, dst).is_some() {
        e.ks.dbs[dbi].remove(dst);
        modified(e, c, dbi, dst);
        notify(e, c, class::GENERIC, "del", dbi, dst);
    }
    c.reply().int(n as i64);
}

/// ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]
fn zadd(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    zadd_generic(e, c, args, false);
}

/// ZINCRBY key increment member
fn zincrby(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    zadd_generic(e, c, args, true);
}

fn zadd_generic(e: &mut Engine, c: &mut Client, args: &[Bytes], incr_cmd: bool) {
    let mut fl = AddFlags {
        incr: incr_cmd,
        ..AddFlags::default()
    };
    let mut ch = false;
    let mut i = 2;
    while i < args.len() {
        let o = &args[i][..];
        if is(o, "nx") {
            fl.nx = true;
        } else if is(o, "xx") {
            fl.xx = true;
        } else if is(o, "ch") {
            ch = true;
        } else if is(o, "incr") {
            fl.incr = true;
        } else if is(o, "gt") {
            fl.gt = true;
        } else if is(o, "lt") {
            fl.lt = true;
        } else {
            break;
        }
        i += 1;
    }
    let rest = &args[i..];
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        c.reply().error(errors::SYNTAX);
        return;
    }
    if fl.nx && fl.xx {
        c.reply()
            .error("ERR XX and NX options at the same time are not compatible");
        return;
    }
    if (fl.nx && (fl.gt || fl.lt)) || (fl.gt && fl.lt) {
        c.reply()
            .error("ERR GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if fl.incr && rest.len() > 2 {
        c.reply()
            .error("ERR INCR option supports a single increment-element pair");
        return;
    }
    let mut scores = Vec::with_capacity(rest.len() / 2);
    for pair in rest.chunks(2) {
        match num::parse_f64(&pair[0]) {
            Some(s) => scores.push(s),
            None => {
                c.reply().error(errors::NOT_FLOAT);
                return;
            }
        }
    }
    let key = &args[1];
    let dbi = c.db;
    let lim = limits(e);
    let Ok(found) = zwrite(e, c, key) else {
        return;
    };
    let mut fresh = None;
    let z = match found {
        Some(z) => z,
        None => {
            if fl.xx {
                if fl.incr {
                    c.reply().null();
                } else {
                    c.reply().int(0);
                }
                return;
            }
            fresh.insert(ZSet::for_new_key(rest[1].len(), lim))
        }
    };
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut last = 0.0;
    let mut nan = false;
    for (pair, &score) in rest.chunks(2).zip(&scores) {
        let (outcome, newscore) = z.add(&pair[1], score, fl, lim);
        match outcome {
            AddOutcome::Nan => {
                nan = true;
                break;
            }
            AddOutcome::Added => added += 1,
            AddOutcome::Updated => updated += 1,
            AddOutcome::Same | AddOutcome::Nop => {}
        }
        if outcome != AddOutcome::Nop {
            processed += 1;
        }
        last = newscore;
    }
    if let Some(z) = fresh {
        if !z.is_empty() {
            e.ks.dbs[dbi].add(SBytes::new(key), Value::from_zset(z));
        }
    }
    if added + updated > 0 {
        modified(e, c, dbi, key);
        let event = if fl.incr { "zincr" } else { "zadd" };
        notify(e, c, class::ZSET, event, dbi, key);
    }
    if nan {
        c.reply().error(NAN_ERR);
        return;
    }
    let mut out = c.reply();
    if fl.incr {
        if processed > 0 {
            out.double(last);
        } else {
            out.null();
        }
    } else {
        out.int(if ch { added + updated } else { added });
    }
}

/// ZREM key member [member ...]
fn zrem(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let key = &args[1];
    let dbi = c.db;
    let Ok(found) = zwrite(e, c, key) else {
        return;
    };
    let Some(z) = found else {
        c.reply().int(0);
        return;
    };
    let mut n = 0;
    for m in &args[2..] {
        if z.remove(m) {
            n += 1;
            if z.is_empty() {
                break;
            }
        }
    }
    if n > 0 {
        removed(e, c, dbi, key, "zrem");
    }
    c.reply().int(n);
}

/// ZCARD key
fn zcard(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if let Ok(z) = zread(e, c, &args[1]) {
        let n = z.map_or(0, |z| z.len());
        c.reply().int(n as i64);
    }
}

/// ZCOUNT key min max
fn zcount(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(r) = parse_score_range(&args[2], &args[3]) else {
        c.reply().error(NOT_FLOAT_RANGE);
        return;
    };
    if let Ok(z) = zread(e, c, &args[1]) {
        let n = z.map_or(0, |z| {
            let (lo, hi) = z.score_bounds(&r);
            hi - lo
        });
        c.reply().int(n as i64);
    }
}

/// ZLEXCOUNT key min max
fn zlexcount(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(r) = parse_lex_range(&args[2], &args[3]) else {
        c.reply().error(NOT_LEX_RANGE);
        return;
    };
    if let Ok(z) = zread(e, c, &args[1]) {
        let n = z.map_or(0, |z| {
            let (lo, hi) = z.lex_bounds(&r);
            hi - lo
        });
        c.reply().int(n as i64);
    }
}

/// ZSCORE key member
fn zscore(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if let Ok(z) = zread(e, c, &args[1]) {
        match z.and_then(|z| z.score(&args[2])) {
            Some(s) => c.reply().double(s),
            None => c.reply().null(),
        }
    }
}

/// ZMSCORE key member [member ...]
fn zmscore(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if let Ok(z) = zread(e, c, &args[1]) {
        let scores: Vec<Option<f64>> = args[2..]
            .iter()
            .map(|m| z.as_ref().and_then(|z| z.score(m)))
            .collect();
        let mut out = c.reply();
        out.array(scores.len());
        for s in scores {
            match s {
                Some(s) => out.double(s),
                None => out.null(),
            }
        }
    }
}

fn zrank_generic(e: &mut Engine, c: &mut Client, args: &[Bytes], rev: bool) {
    if let Ok(z) = zread(e, c, &args[1]) {
        let r = z.and_then(|z| {
            let len = z.len();
            z.rank(&args[2])
                .map(|(r, _)| if rev { len - 1 - r } else { r })
        });
        match r {
            Some(r) => c.reply().int(r as i64),
            None => c.reply().null(),
        }
    }
}

/// ZRANK key member
fn zrank(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    zrank_generic(e, c, args, false);
}

/// ZREVRANK key member
fn zrevrank(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    zrank_generic(e, c, args, true);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum By {
    Auto,
    Rank,
    Score,
    Lex,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Auto,
    Fwd,
    Rev,
}

/// A parsed range request.
enum Spec {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// The ascending rank window `[lo, hi)` a range request selects.
fn window(z: &ZSet, spec: &Spec, rev: bool, offset: i64, limit: i64) -> (usize, usize) {
    let (lo, hi) = match spec {
        Spec::Rank(start, end) => {
            return match rank_range(*start, *end, z.len()) {
                None => (0, 0),
                Some((s, e)) if rev => (z.len() - 1 - e, z.len() - s),
                Some((s, e)) => (s, e + 1),
            };
        }
        Spec::Score(r) => z.score_bounds(r),
        Spec::Lex(r) => z.lex_bounds(r),
    };
    // A negative offset skips everything, as Redis's `while (offset--)`.
    if offset < 0 {
        return (0, 0);
    }
    let n = hi - lo;
    let skip = usize::try_from(offset).unwrap_or(usize::MAX);
    if skip >= n {
        return (0, 0);
    }
    let mut take = n - skip;
    if limit >= 0 {
        take = take.min(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    if rev {
        (hi - skip - take, hi - skip)
    } else {
        (lo + skip, lo + skip + take)
    }
}

/// ZRANGE and friends (Redis's zrangeGenericCommand): `first` is the index
/// of the source key; `dst` is ZRANGESTORE's destination.
fn zrange_generic(
    e: &mut Engine,
    c: &mut Client,
    args: &[Bytes],
    first: usize,
    dst: Option<&[u8]>,
    mut by: By,
    mut dir: Dir,
) {
    let mut withscores = false;
    let mut offset = 0i64;
    let mut limit = -1i64;
    let mut limited = false;
    let mut j = first + 3;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = &args[j][..];
        if dst.is_none() && is(a, "withscores") {
            withscores = true;
        } else if is(a, "limit") && left >= 2 {
            let Some(o) = arg_i64(c, &args[j + 1]) else {
                return;
            };
            let Some(l) = arg_i64(c, &args[j + 2]) else {
                return;
            };
            offset = o;
            limit = l;
            limited = true;
            j += 2;
        } else if dir == Dir::Auto && is(a, "rev") {
            dir = Dir::Rev;
        } else if by == By::Auto && is(a, "bylex") {
            by = By::Lex;
        } else if by == By::Auto && is(a, "byscore") {
            by = By::Score;
        } else {
            c.reply().error(errors::SYNTAX);
            return;
        }
        j += 1;
    }
    let rev = dir == Dir::Rev;
    if by == By::Auto {
        by = By::Rank;
    }
    if limited && limit != -1 && by == By::Rank {
        c.reply().error(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        );
        return;
    }
    if withscores && by == By::Lex {
        c.reply()
            .error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return;
    }
    let (mut a1, mut a2) = (&args[first + 1][..], &args[first + 2][..]);
    if rev && by != By::Rank {
        std::mem::swap(&mut a1, &mut a2);
    }
    let spec = match by {
        By::Rank | By::Auto => {
            let Some(s) = arg_i64(c, a1) else { return };
            let Some(t) = arg_i64(c, a2) else { return };
            Spec::Rank(s, t)
        }
        By::Score => match parse_score_range(a1, a2) {
            Some(r) => Spec::Score(r),
            None => {
                c.reply().error(NOT_FLOAT_RANGE);
                return;
            }
        },
        By::Lex => match parse_lex_range(a1, a2) {
            Some(r) => Spec::Lex(r),
            None => {
                c.reply().error(NOT_LEX_RANGE);
                return;
            }
        },
    };
    let lim = limits(e);
    let Ok(found) = zread(e, c, &args[first]) else {
        return;
    };
    match dst {
        None => {
            let Some(z) = found else {
                c.reply().array(0);
                return;
            };
            let (lo, hi) = window(z, &spec, rev, offset, limit);
            let mut out = c.reply();
            array_header(&mut out, hi - lo, withscores);
            z.visit(lo, hi, rev, |m, s| emit(&mut out, m, s, withscores));
        }
        Some(dst) => {
            let result = match found {
                None => ZSet::for_store(0, lim),
                Some(z) => {
                    let (lo, hi) = window(z, &spec, rev, offset, limit);
                    let mut r = ZSet::for_store(hi - lo, lim);
                    z.visit(lo, hi, rev, |m, s| r.insert_new(m, s, lim));
                    r
                }
            };
            store_result(e, c, dst, result, "zrangestore");
        }
    }
}

/// ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
fn zrange(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    zrange_generic(e, c, args, 1, None, By::Auto, Dir::Auto);
}

/// ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]
fn zrangestore(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let dst = args[1].clone();
    zrange_generic(e, c, args, 2, Some(&dst), By::Auto, Dir::Auto);
}

/// ZREVRANGE key start stop [WITHSCORES]
fn zrevrange(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    zrange_generic(e, c, args, 1, None, By::Rank, Dir::Rev);
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
fn zrangebyscore(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    zrange_generic(e, c, args, 1, None, By::Score, Dir::Fwd);
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
fn zrevrangebyscore(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    zrange_generic(e, c, args, 1, None, By::Score, Dir::Rev);
}

/// ZRANGEBYLEX key min max [LIMIT offset count]
fn zrangebylex(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    zrange_generic(e, c, args, 1, None, By::Lex, Dir::Fwd);
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count]
fn zrevrangebylex(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    zrange_generic(e, c, args, 1, None, By::Lex, Dir::Rev);
}

fn zremrange_generic(e: &mut Engine, c: &mut Client, args: &[Bytes], by: By) {
    let spec = match by {
        By::Score => match parse_score_range(&args[2], &args[3]) {
            Some(r) => Spec::Score(r),
            None => {
                c.reply().error(NOT_FLOAT_RANGE);
                return;
            }
        },
        By::Lex => match parse_lex_range(&args[2], &args[3]) {
            Some(r) => Spec::Lex(r),
            None => {
                c.reply().error(NOT_LEX_RANGE);
                return;
            }
        },
        By::Rank | By::Auto => {
            let Some(s) = arg_i64(c, &args[2]) else {
                return;
            };
            let Some(t) = arg_i64(c, &args[3]) else {
                return;
            };
            Spec::Rank(s, t)
        }
    };
    let key = &args[1];
    let dbi = c.db;
    let Ok(found) = zwrite(e, c, key) else {
        return;
    };
    let Some(z) = found else {
        c.reply().int(0);
        return;
    };
    let (lo, hi) = window(z, &spec, false, 0, -1);
    let n = z.remove_ranks(lo, hi);
    if n > 0 {
        let event = match by {
            By::Score => "zremrangebyscore",
            By::Lex => "zremrangebylex",
            By::Rank | By::Auto => "zremrangebyrank",
        };
        removed(e, c, dbi, key, event);
    }
    c.reply().int(n as i64);
}

/// ZREMRANGEBYRANK key start stop
fn zremrangebyrank(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    zremrange_generic(e, c, args, By::Rank);
}

/// ZREMRANGEBYSCORE key min max
fn zremrangebyscore(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    zremrange_generic(e, c, args, By::Score);
}

/// ZREMRANGEBYLEX key min max
fn zremrangebylex(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    zremrange_generic(e, c, args, By::Lex);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Min,
    Max,
}

/// How a pop replies (Redis's genericZpopCommand variants).
#[derive(Clone, Copy, PartialEq, Eq)]
enum PopReply {
    /// ZPOPMIN/ZPOPMAX: flat pairs, nested in RESP3 when a count was given.
    Plain { nested: bool },
    /// ZMPOP: `[key, [[member, score] ...]]`, null when nothing to pop.
    WithKey,
}

fn zpop_generic(
    e: &mut Engine,
    c: &mut Client,
    keys: &[Bytes],
    end: End,
    count: i64,
    how: PopReply,
) {
    let dbi = c.db;
    let mut chosen = None;
    for key in keys {
        match zwrite(e, c, key) {
            Err(()) => return,
            Ok(None) => continue,
            Ok(Some(z)) => {
                chosen = Some((key, z.len()));
                break;
            }
        }
    }
    let Some((key, len)) = chosen else {
        match how {
            PopReply::WithKey => c.reply().null_array(),
            PopReply::Plain { .. } => c.reply().array(0),
        }
        return;
    };
    if count == 0 {
        c.reply().array(0);
        return;
    }
    if matches!(how, PopReply::WithKey) && e.propagating() {
        // ZMPOP / BZMPOP replay as ZPOPMIN / ZPOPMAX key count.
        let n = (count.max(1) as u64).min(len as u64);
        let n = itoa::Buffer::new().format(n).as_bytes().to_vec();
        e.propagate_as(propagate::argv(&[pop_event(end).as_bytes(), key, &n]));
    }
    let Ok(Some(z)) = zwrite(e, c, key) else {
        return;
    };
    let n = z.len().min(usize::try_from(count).unwrap_or(usize::MAX));
    let (lo, hi) = match end {
        End::Min => (0, n),
        End::Max => (z.len() - n, z.len()),
    };
    let mut out = c.reply();
    let nested = match how {
        PopReply::Plain { nested } => {
            out.array(if nested { n } else { n * 2 });
            nested
        }
        PopReply::WithKey => {
            out.array(2);
            out.bulk(key);
            out.array(n);
            true
        }
    };
    z.visit(lo, hi, end == End::Max, |m, s| {
        if nested {
            out.array(2);
        }
        out.bulk(m);
        out.double(s);
    });
    z.remove_ranks(lo, hi);
    removed(e, c, dbi, key, pop_event(end));
}

fn zpop_cmd(e: &mut Engine, c: &mut Client, args: &[Bytes], end: End) {
    let mut count = -1;
    if args.len() == 3 {
        let Some(n) = arg_i64(c, &args[2]) else {
            return;
        };
        if n < 0 {
            c.reply()
                .error("ERR value is out of range, must be positive");
            return;
        }
        count = n;
    } else if args.len() > 3 {
        c.reply().error(errors::SYNTAX);
        return;
    }
    let nested = c.reply().is_resp3() && count != -1;
    zpop_generic(
        e,
        c,
        &args[1..2],
        end,
        if count == -1 { 1 } else { count },
        PopReply::Plain { nested },
    );
}

/// ZPOPMIN key [count]
fn zpopmin(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    zpop_cmd(e, c, args, End::Min);
}

/// ZPOPMAX key [count]
fn zpopmax(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    zpop_cmd(e, c, args, End::Max);
}

/// ZMPOP numkeys key [key ...] MIN | MAX [COUNT count]
fn zmpop(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    zmpop_generic(e, c, args, 1, None);
}

/// BZMPOP timeout numkeys key [key ...] MIN | MAX [COUNT count]
fn bzmpop(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(timeout) = parse_timeout(c, &args[1]) else {
        return;
    };
    zmpop_generic(e, c, args, 2, Some(timeout));
}

/// ZMPOP and BZMPOP: numkeys is at `at`; `timeout` is Some when blocking.
fn zmpop_generic(
    e: &mut Engine,
    c: &mut Client,
    args: &[Bytes],
    at: usize,
    timeout: Option<Option<Duration>>,
) {
    let numkeys_msg = "ERR numkeys should be greater than 0";
    let Some(numkeys) = arg_long_msg(c, &args[at], Some(numkeys_msg)) else {
        return;
    };
    if numkeys < 1 {
        c.reply().error(numkeys_msg);
        return;
    }
    let where_idx = match usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(at + 1))
    {
        Some(w) if w < args.len() => w,
        _ => {
            c.reply().error(errors::SYNTAX);
            return;
        }
    };
    let end = if is(&args[where_idx], "min") {
        End::Min
    } else if is(&args[where_idx], "max") {
        End::Max
    } else {
        c.reply().error(errors::SYNTAX);
        return;
    };
    let mut count = -1;
    let mut j = where_idx + 1;
    while j < args.len() {
        if count == -1 && is(&args[j], "count") && j + 1 < args.len() {
            let msg = "ERR count should be greater than 0";
            let Some(n) = arg_long_msg(c, &args[j + 1], Some(msg)) else {
                return;
            };
            if n < 1 {
                c.reply().error(msg);
                return;
            }
            count = n;
            j += 2;
        } else {
            c.reply().error(errors::SYNTAX);
            return;
        }
    }
    let count = if count == -1 { 1 } else { count };
    let keys = &args[at + 1..where_idx];
    if let Some(t) = timeout {
        let mut found = false;
        for key in keys {
            match zwrite(e, c, key) {
                Err(()) => return,
                Ok(Some(_)) => {
                    found = true;
                    break;
                }
                Ok(None) => {}
            }
        }
        if !found && !c.deny_blocking {
            e.block(
                c,
                keys.to_vec(),
                t,
                Kind::ZSet,
                TimeoutReply::NullArray,
                args,
            );
            return;
        }
    }
    zpop_generic(e, c, keys, end, count, PopReply::WithKey);
}

/// BZPOPMIN / BZPOPMAX key [key ...] timeout
fn bzpop_generic(e: &mut Engine, c: &mut Client, args: &[Bytes], end: End) {
    let Some(timeout) = parse_timeout(c, &args[args.len() - 1]) else {
        return;
    };
    let keys = &args[1..args.len() - 1];
    let dbi = c.db;
    for key in keys {
        match zwrite(e, c, key) {
            Err(()) => return,
            Ok(None) => continue,
            Ok(Some(z)) => {
                let (lo, hi) = match end {
                    End::Min => (0, 1),
                    End::Max => (z.len() - 1, z.len()),
                };
                let mut out = c.reply();
                out.array(3);
                out.bulk(key);
                z.visit(lo, hi, end == End::Max, |m, s| {
                    out.bulk(m);
                    out.double(s);
                });
                z.remove_ranks(lo, hi);
                if e.propagating() {
                    // Replays as ZPOPMIN / ZPOPMAX key.
                    e.propagate_as(propagate::argv(&[pop_event(end).as_bytes(), key]));
                }
                removed(e, c, dbi, key, pop_event(end));
                return;
            }
        }
    }
    e.block(
        c,
        keys.to_vec(),
        timeout,
        Kind::ZSet,
        TimeoutReply::NullArray,
        args,
    );
}

/// BZPOPMIN key [key ...] timeout
fn bzpopmin(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    bzpop_generic(e, c, args, End::Min);
}

/// BZPOPMAX key [key ...] timeout
fn bzpopmax(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    bzpop_generic(e, c, args, End::Max);
}

fn keys_numkeys_at_2(args: &[Bytes]) -> Vec<usize> {
    numkeys_keys(args, 2, None)
}

/// ZRANDMEMBER key [count [WITHSCORES]]
fn zrandmember(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if args.len() == 2 {
        let Ok(found) = zread(e, c, &args[1]) else {
            return;
        };
        let Some(z) = found else {
            c.reply().null();
            return;
        };
        let r = rand::thread_rng().gen_range(0..z.len());
        let mut out = c.reply();
        z.visit(r, r + 1, false, |m, _| out.bulk(m));
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
    let mut withscores = false;
    if args.len() > 4 || (args.len() == 4 && !is(&args[3], "withscores")) {
        c.reply().error(errors::SYNTAX);
        return;
    } else if args.len() == 4 {
        withscores = true;
        if !(-i64::MAX / 2..=i64::MAX / 2).contains(&l) {
            c.reply().error("ERR value is out of range");
            return;
        }
    }
    let Ok(found) = zread(e, c, &args[1]) else {
        return;
    };
    let Some(z) = found else {
        c.reply().array(0);
        return;
    };
    let mut out = c.reply();
    if l == 0 {
        out.array(0);
        return;
    }
    let size = z.len();
    let mut rng = rand::thread_rng();
    if l < 0 {
        // Repetitions allowed: one random rank per element, written as we go.
        let count = l.unsigned_abs();
        if withscores && !out.is_resp3() {
            out.array((count * 2) as usize);
        } else {
            out.array(count as usize);
        }
        for _ in 0..count {
            let r = rng.gen_range(0..size);
            z.visit(r, r + 1, false, |m, s| emit(&mut out, m, s, withscores));
        }
        return;
    }
    let count = usize::try_from(l).unwrap_or(usize::MAX);
    if count >= size {
        array_header(&mut out, size, withscores);
        z.for_each(|m, s| emit(&mut out, m, s, withscores));
        return;
    }
    let ranks: Vec<usize> = if count * 3 > size {
        // Most of the set: shuffle a prefix of all ranks.
        let mut all: Vec<usize> = (0..size).collect();
        for i in 0..count {
            let j = rng.gen_range(i..size);
            all.swap(i, j);
        }
        all.truncate(count);
        all
    } else {
        let mut seen = HashSet::with_capacity(count);
        let mut v = Vec::with_capacity(count);
        while v.len() < count {
            let r = rng.gen_range(0..size);
            if seen.insert(r) {
                v.push(r);
            }
        }
        v
    };
    array_header(&mut out, count, withscores);
    for r in ranks {
        z.visit(r, r + 1, false, |m, s| emit(&mut out, m, s, withscores));
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

fn aggregate(target: &mut f64, v: f64, agg: Aggregate) {
    match agg {
        Aggregate::Sum => {
            *target += v;
            // inf + -inf: Redis keeps the sum a number.
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if v < *target {
                *target = v;
            }
        }
        Aggregate::Max => {
            if v > *target {
                *target = v;
            }
        }
    }
}

/// One input of ZUNION / ZINTER / ZDIFF: a sorted set or a plain set (whose
/// members weigh 1).
enum Src<'a> {
    Missing,
    Z(&'a ZSet),
    S(&'a Set),
}

impl Src<'_> {
    fn len(&self) -> usize {
        match self {
            Src::Missing => 0,
            Src::Z(z) => z.len(),
            Src::S(s) => s.len(),
        }
    }

    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            Src::Missing => {}
            Src::Z(z) => z.for_each(f),
            Src::S(s) => set_members(s, |m| f(m, 1.0)),
        }
    }

    fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Src::Missing => None,
            Src::Z(z) => z.score(m),
            Src::S(s) => set_contains(s, m).then_some(1.0),
        }
    }
}

/// Plain sets as ZUNION/ZINTER inputs: every member with score 1.
fn set_members(s: &Set, mut f: impl FnMut(&[u8])) {
    for m in s.iter() {
        m.with(&mut f);
    }
}

fn set_contains(s: &Set, m: &[u8]) -> bool {
    s.contains(m)
}

/// ZUNION/ZINTER/ZDIFF and their STORE and ZINTERCARD forms (Redis's
/// zunionInterDiffGenericCommand). `numkeys_idx` is where numkeys is.
fn zsetop(
    e: &mut Engine,
    c: &mut Client,
    args: &[Bytes],
    numkeys_idx: usize,
    dst: Option<&[u8]>,
    op: SetOp,
    card_only: bool,
) {
    let Some(setnum) = arg_i64(c, &args[numkeys_idx]) else {
        return;
    };
    if setnum < 1 {
        let name = String::from_utf8_lossy(&args[0]).to_lowercase();
        c.reply().error(&format!(
            "ERR at least 1 input key is needed for '{name}' command"
        ));
        return;
    }
    let avail = args.len() - numkeys_idx - 1;
    if setnum as u64 > avail as u64 {
        c.reply().error(errors::SYNTAX);
        return;
    }
    let setnum = setnum as usize;
    let keys = &args[numkeys_idx + 1..numkeys_idx + 1 + setnum];
    let dbi = c.db;
    // Expire and type-check every input first; then borrow them all.
    for k in keys {
        if let Some(en) = lookup_read(e, dbi, k) {
            if !matches!(en.value, Value::ZSet(_) | Value::Set(_)) {
                c.reply().error(errors::WRONGTYPE);
                return;
            }
        }
    }
    let mut weights = vec![1.0f64; setnum];
    let mut agg = Aggregate::Sum;
    let mut withscores = false;
    let mut limit = 0usize;
    let mut j = numkeys_idx + 1 + setnum;
    while j < args.len() {
        let remaining = args.len() - j;
        let a = &args[j][..];
        if op != SetOp::Diff && !card_only && remaining > setnum && is(a, "weights") {
            j += 1;
            for w in weights.iter_mut() {
                match num::parse_f64(&args[j]) {
                    Some(v) => *w = v,
                    None => {
                        c.reply().error("ERR weight value is not a float");
                        return;
                    }
                }
                j += 1;
            }
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && is(a, "aggregate") {
            let v = &args[j + 1][..];
            agg = if is(v, "sum") {
                Aggregate::Sum
            } else if is(v, "min") {
                Aggregate::Min
            } else if is(v, "max") {
                Aggregate::Max
            } else {
                c.reply().error(errors::SYNTAX);
                return;
            };
            j += 2;
        } else if dst.is_none() && !card_only && is(a, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && is(a, "limit") {
            let msg = "ERR LIMIT can't be negative";
            let Some(n) = arg_long_msg(c, &args[j + 1], Some(msg)) else {
                return;
            };
            if n < 0 {
                c.reply().error(msg);
                return;
            }
            limit = usize::try_from(n).unwrap_or(usize::MAX);
            j += 2;
        } else {
            c.reply().error(errors::SYNTAX);
            return;
        }
    }
    let db = &e.ks.dbs[dbi];
    let mut srcs: Vec<(Src, f64)> = keys
        .iter()
        .zip(&weights)
        .map(|(k, &w)| {
            let s = match db.get_raw(k).map(|en| &en.value) {
                Some(Value::ZSet(z)) => Src::Z(z),
                Some(Value::Set(s)) => Src::S(s),
                _ => Src::Missing,
            };
            (s, w)
        })
        .collect();
    if op != SetOp::Diff {
        srcs.sort_by_key(|(s, _)| s.len());
    }
    let mut result: Vec<(Vec<u8>, f64)> = Vec::new();
    let mut cardinality = 0usize;
    match op {
        SetOp::Inter => {
            if srcs[0].0.len() > 0 {
                let (first, w0) = (&srcs[0].0, srcs[0].1);
                let mut done = false;
                first.for_each(|m, s| {
                    if done {
                        return;
                    }
                    let mut score = w0 * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    for (other, w) in &srcs[1..] {
                        match other.score(m) {
                            Some(v) => aggregate(&mut score, v * w, agg),
                            None => return,
                        }
                    }
                    if card_only {
                        cardinality += 1;
                        if limit > 0 && cardinality >= limit {
                            done = true;
                        }
                    } else {
                        result.push((m.to_vec(), score));
                    }
                });
            }
        }
        SetOp::Union => {
            let mut acc: HashMap<Vec<u8>, f64> = HashMap::new();
            for (src, w) in &srcs {
                src.for_each(|m, s| {
                    let mut score = w * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(m) {
                        Some(t) => aggregate(t, score, agg),
                        None => {
                            acc.insert(m.to_vec(), score);
                        }
                    }
                });
            }
            result = acc.into_iter().collect();
        }
        SetOp::Diff => {
            let (first, rest) = srcs.split_first().expect("setnum >= 1");
            first.0.for_each(|m, s| {
                if rest.iter().all(|(o, _)| o.score(m).is_none()) {
                    result.push((m.to_vec(), s));
                }
            });
        }
    }
    drop(srcs);
    if card_only {
        c.reply().int(cardinality as i64);
        return;
    }
    result.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    match dst {
        Some(dst) => {
            let lim = limits(e);
            let z = ZSet::from_sorted(&result, lim);
            let event = match op {
                SetOp::Union => "zunionstore",
                SetOp::Inter => "zinterstore",
                SetOp::Diff => "zdiffstore",
            };
            store_result(e, c, dst, z, event);
        }
        None => {
            let mut out = c.reply();
            array_header(&mut out, result.len(), withscores);
            for (m, s) in &result {
                emit(&mut out, m, *s, withscores);
            }
        }
    }
}

/// ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM | MIN | MAX] [WITHSCORES]
fn zunion(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    zsetop(e, c, args, 1, None, SetOp::Union, false);
}

/// ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM | MIN | MAX] [WITHSCORES]
fn zinter(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    zsetop(e, c, args, 1, None, SetOp::Inter, false);
}

/// ZDIFF numkeys key [key ...] [WITHSCORES]
fn zdiff(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    zsetop(e, c, args, 1, None, SetOp::Diff, false);
}

/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM | MIN | MAX]
fn zunionstore(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let dst = args[1].clone();
    zsetop(e, c, args, 2, Some(&dst), SetOp::Union, false);
}

/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM | MIN | MAX]
fn zinterstore(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let dst = args[1].clone();
    zsetop(e, c, args, 2, Some(&dst), SetOp::Inter, false);
}

/// ZDIFFSTORE destination numkeys key [key ...]
fn zdiffstore(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let dst = args[1].clone();
    zsetop(e, c, args, 2, Some(&dst), SetOp::Diff, false);
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
fn zintercard(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    zsetop(e, c, args, 1, None, SetOp::Inter, true);
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]
fn zscan(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(cursor) = parse_cursor(c, &args[2]) else {
        return;
    };
    let Some(ScanOpts { count, pattern, .. }) = parse_scan_opts(c, args, 3, Type::No) else {
        return;
    };
    let Ok(found) = zread(e, c, &args[1]) else {
        return;
    };
    let mut items: Vec<(Vec<u8>, f64)> = Vec::new();
    let next = match found {
        None => 0,
        Some(z) => z.scan(cursor, count, |m, s| {
            if pattern.is_none_or(|p| string_match(p, m, false)) {
                items.push((m.to_vec(), s));
            }
        }),
    };
    let mut out = c.reply();
    out.array(2);
    out.bulk(next.to_string().as_bytes());
    out.array(items.len() * 2);
    for (m, s) in &items {
        out.bulk(m);
        out.bulk(format_double(*s).as_bytes());
    }
}

/// Keys of ZUNION/ZINTER/ZDIFF/ZINTERCARD/ZMPOP: numkeys at 1, keys after.
fn keys_numkeys_at_1(args: &[Bytes]) -> Vec<usize> {
    numkeys_keys(args, 1, None)
}

/// Keys of the *STORE forms: the destination, then numkeys at 2.
fn keys_store(args: &[Bytes]) -> Vec<usize> {
    numkeys_keys(args, 2, Some(1))
}

const Z: u64 = acl::SORTEDSET;
const RD: u64 = f::READONLY;
const WR: u64 = f::WRITE;

const fn spec(
    name: &'static str,
    arity: i32,
    flags: u64,
    cats: u64,
    keys: Keys,
    h: super::super::dispatch::Handler,
) -> CommandSpec {
    let mut s = CommandSpec::new(name, arity, flags, cats | Z, keys, h);
    s.group = "sorted_set";
    s
}

const DST_SRC: Keys = Keys {
    first: 1,
    last: 2,
    step: 1,
};

pub const COMMANDS: &[CommandSpec] = &[
    spec(
        "zadd",
        -4,
        WR | f::DENYOOM | f::FAST,
        acl::WRITE | acl::FAST,
        Keys::ONE,
        zadd,
    ),
    spec(
        "zincrby",
        4,
        WR | f::DENYOOM | f::FAST,
        acl::WRITE | acl::FAST,
        Keys::ONE,
        zincrby,
    ),
    spec(
        "zrem",
        -3,
        WR | f::FAST,
        acl::WRITE | acl::FAST,
        Keys::ONE,
        zrem,
    ),
    spec(
        "zcard",
        2,
        RD | f::FAST,
        acl::READ | acl::FAST,
        Keys::ONE,
        zcard,
    ),
    spec(
        "zcount",
        4,
        RD | f::FAST,
        acl::READ | acl::FAST,
        Keys::ONE,
        zcount,
    ),
    spec(
        "zlexcount",
        4,
        RD | f::FAST,
        acl::READ | acl::FAST,
        Keys::ONE,
        zlexcount,
    ),
    spec(
        "zscore",
        3,
        RD | f::FAST,
        acl::READ | acl::FAST,
        Keys::ONE,
        zscore,
    ),
    spec(
        "zmscore",
        -3,
        RD | f::FAST,
        acl::READ | acl::FAST,
        Keys::ONE,
        zmscore,
    ),
    spec(
        "zrank",
        3,
        RD | f::FAST,
        acl::READ | acl::FAST,
        Keys::ONE,
        zrank,
    ),
    spec(
        "zrevrank",
        3,
        RD | f::FAST,
        acl::READ | acl::FAST,
        Keys::ONE,
        zrevrank,
    ),
    spec("zrange", -4, RD, acl::READ | acl::SLOW, Keys::ONE, zrange),
    spec(
        "zrangestore",
        -5,
        WR | f::DENYOOM,
        acl::WRITE | acl::SLOW,
        DST_SRC,
        zrangestore,
    ),
    spec(
        "zrevrange",
        -4,
        RD,
        acl::READ | acl::SLOW,
        Keys::ONE,
        zrevrange,
    ),
    spec(
        "zrangebyscore",
        -4,
        RD,
        acl::READ | acl::SLOW,
        Keys::ONE,
        zrangebyscore,
    ),
    spec(
        "zrevrangebyscore",
        -4,
        RD,
        acl::READ | acl::SLOW,
        Keys::ONE,
        zrevrangebyscore,
    ),
    spec(
        "zrangebylex",
        -4,
        RD,
        acl::READ | acl::SLOW,
        Keys::ONE,
        zrangebylex,
    ),
    spec(
        "zrevrangebylex",
        -4,
        RD,
        acl::READ | acl::SLOW,
        Keys::ONE,
        zrevrangebylex,
    ),
    spec(
        "zremrangebyrank",
        4,
        WR,
        acl::WRITE | acl::SLOW,
        Keys::ONE,
        zremrangebyrank,
    ),
    spec(
        "zremrangebyscore",
        4,
        WR,
        acl::WRITE | acl::SLOW,
        Keys::ONE,
        zremrangebyscore,
    ),
    spec(
        "zremrangebylex",
        4,
        WR,
        acl::WRITE | acl::SLOW,
        Keys::ONE,
        zremrangebylex,
    ),
    spec(
        "zpopmin",
        -2,
        WR | f::FAST,
        acl::WRITE | acl::FAST,
        Keys::ONE,
        zpopmin,
    ),
    spec(
        "zpopmax",
        -2,
        WR | f::FAST,
        acl::WRITE | acl::FAST,
        Keys::ONE,
        zpopmax,
    ),
    spec("zmpop", -4, WR, acl::WRITE | acl::SLOW, Keys::NONE, zmpop).keys_fn(keys_numkeys_at_1),
    spec(
        "bzpopmin",
        -3,
        f::WRITE | f::NOSCRIPT | f::FAST | f::BLOCKING,
        acl::WRITE | acl::FAST | acl::BLOCKING,
        Keys {
            first: 1,
            last: -2,
            step: 1,
        },
        bzpopmin,
    ),
    spec(
        "bzpopmax",
        -3,
        f::WRITE | f::NOSCRIPT | f::FAST | f::BLOCKING,
        acl::WRITE | acl::FAST | acl::BLOCKING,
        Keys {
            first: 1,
            last: -2,
            step: 1,
        },
        bzpopmax,
    ),
    spec(
        "bzmpop",
        -5,
        f::WRITE | f::BLOCKING | f::MOVABLE_KEYS,
        acl::WRITE | acl::SLOW | acl::BLOCKING,
        Keys::NONE,
        bzmpop,
    )
    .keys_fn(keys_numkeys_at_2),
    spec(
        "zrandmember",
        -2,
        RD,
        acl::READ | acl::SLOW,
        Keys::ONE,
        zrandmember,
    ),
    spec("zunion", -3, RD, acl::READ | acl::SLOW, Keys::NONE, zunion).keys_fn(keys_numkeys_at_1),
    spec("zinter", -3, RD, acl::READ | acl::SLOW, Keys::NONE, zinter).keys_fn(keys_numkeys_at_1),
    spec("zdiff", -3, RD, acl::READ | acl::SLOW, Keys::NONE, zdiff).keys_fn(keys_numkeys_at_1),
    spec(
        "zunionstore",
        -4,
        WR | f::DENYOOM,
        acl::WRITE | acl::SLOW,
        Keys::ONE,
        zunionstore,
    )
    .keys_fn(keys_store),
    spec(
        "zinterstore",
        -4,
        WR | f::DENYOOM,
        acl::WRITE | acl::SLOW,
        Keys::ONE,
        zinterstore,
    )
    .keys_fn(keys_store),
    spec(
        "zdiffstore",
        -4,
        WR | f::DENYOOM,
        acl::WRITE | acl::SLOW,
        Keys::ONE,
        zdiffstore,
    )
    .keys_fn(keys_store),
    spec(
        "zintercard",
        -3,
        RD,
        acl::READ | acl::SLOW,
        Keys::NONE,
        zintercard,
    )
    .keys_fn(keys_numkeys_at_1),
    spec("zscan", -3, RD, acl::READ | acl::SLOW, Keys::ONE, zscan),
];
