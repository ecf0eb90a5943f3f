//! The decoding half: a bounds-checked reader over the bytes of a file or
//! payload, and the value decoder for every type Redis 7.2 writes except
//! modules and streams.
//!
//! Nothing is allocated from a length before the bytes it describes are
//! known to be there: strings are borrowed from the input, collections
//! reserve at most one slot per remaining input byte, and an LZF string's
//! announced size is checked against what its compressed size can expand
//! to. Values get the encodings the [`Encodings`] thresholds call for, as
//! Redis converts on load.

use std::borrow::Cow;
use std::collections::HashSet;

use super::{legacy, lzf, rtype, Encodings, RdbError};
use crate::keyspace::hash::Hash;
use crate::keyspace::intset::IntSet;
use crate::keyspace::list::{End, List};
use crate::keyspace::listpack::{Listpack, ListpackError as ListpackErr, LpElem};
use crate::keyspace::set::{Elem, Set};
use crate::keyspace::stream::{self as kstream, Consumer, Group, Nack, Stream, StreamId};
use crate::keyspace::value::Value;
use crate::keyspace::zset::ZSet;

type R<T> = Result<T, RdbError>;

fn corrupt(msg: impl Into<String>) -> RdbError {
    RdbError::Corrupt(msg.into())
}

/// LZF writes at most 264 bytes per three input bytes.
const LZF_MAX_RATIO: u64 = 89;

/// A string as stored: an integer encoding or bytes.
pub enum Str<'a> {
    Int(i64),
    Bytes(Cow<'a, [u8]>),
}

impl<'a> Str<'a> {
    /// The bytes (integers in decimal).
    pub fn into_bytes(self) -> Cow<'a, [u8]> {
        match self {
            Str::Int(n) => Cow::Owned(itoa::Buffer::new().format(n).as_bytes().to_vec()),
            Str::Bytes(b) => b,
        }
    }
}

/// A cursor over untrusted bytes.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn u8(&mut self) -> R<u8> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| corrupt("Unexpected EOF reading RDB file"))?;
        self.pos += 1;
        Ok(b)
    }

    pub fn take(&mut self, n: u64) -> R<&'a [u8]> {
        if n > self.remaining() as u64 {
            return Err(corrupt("Unexpected EOF reading RDB file"));
        }
        let s = &self.buf[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> R<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N as u64)?);
        Ok(a)
    }

    pub fn i32_le(&mut self) -> R<i32> {
        Ok(i32::from_le_bytes(self.array()?))
    }

    pub fn i64_le(&mut self) -> R<i64> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    pub fn u64_le(&mut self) -> R<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// `rdbLoadLenByRef`: (value, is an encoding rather than a length).
    fn len_or_enc(&mut self) -> R<(u64, bool)> {
        let b = self.u8()?;
        match b >> 6 {
            0 => Ok(((b & 0x3F) as u64, false)),
            1 => Ok(((((b & 0x3F) as u64) << 8) | self.u8()? as u64, false)),
            3 => Ok(((b & 0x3F) as u64, true)),
            _ => match b {
                0x80 => Ok((u32::from_be_bytes(self.array()?) as u64, false)),
                0x81 => Ok((u64::from_be_bytes(self.array()?), false)),
                _ => Err(corrupt(format!(
                    "Unknown length encoding {} in rdbLoadLen()",
                    b >> 6
                ))),
            },
        }
    }

    /// `rdbLoadLen`: a length (an encoding byte reads as its low 6 bits, as
    /// in Redis).
    pub fn len(&mut self) -> R<u64> {
        Ok(self.len_or_enc()?.0)
    }

    /// A collection's length, refused when it cannot fit in the bytes that
    /// remain (every element takes at least `min_bytes`).
    fn count(&mut self, min_bytes: u64) -> R<u64> {
        let n = self.len()?;
        if n.saturating_mul(min_bytes) > self.remaining() as u64 {
            return Err(corrupt(format!(
                "Collection length {n} exceeds the payload"
            )));
        }
        Ok(n)
    }

    /// `rdbGenericLoadStringObject`.
    pub fn string(&mut self) -> R<Str<'a>> {
        let (n, encoded) = self.len_or_enc()?;
        if !encoded {
            return Ok(Str::Bytes(Cow::Borrowed(self.take(n)?)));
        }
        match n {
            0 => Ok(Str::Int(self.u8()? as i8 as i64)),
            1 => Ok(Str::Int(i16::from_le_bytes(self.array()?) as i64)),
            2 => Ok(Str::Int(i32::from_le_bytes(self.array()?) as i64)),
            3 => {
                let clen = self.len()?;
                let ulen = self.len()?;
                let data = self.take(clen)?;
                if ulen > clen.saturating_mul(LZF_MAX_RATIO) {
                    return Err(corrupt("Invalid LZF compressed string"));
                }
                lzf::decompress(data, ulen as usize)
                    .map(|v| Str::Bytes(Cow::Owned(v)))
                    .ok_or_else(|| corrupt("Invalid LZF compressed string"))
            }
            _ => Err(corrupt(format!("Unknown RDB string encoding type {n}"))),
        }
    }

    /// A string's bytes.
    pub fn bytes(&mut self) -> R<Cow<'a, [u8]>> {
        Ok(self.string()?.into_bytes())
    }

    /// `rdbLoadDoubleValue`: the text form of old sorted sets.
    fn text_double(&mut self) -> R<f64> {
        let n = self.u8()?;
        match n {
            255 => Ok(f64::NEG_INFINITY),
            254 => Ok(f64::INFINITY),
            253 => Ok(f64::NAN),
            _ => {
                let t = self.take(n as u64)?;
                parse_score(t).ok_or_else(|| corrupt("Invalid double value"))
            }
        }
    }

    fn binary_double(&mut self) -> R<f64> {
        Ok(f64::from_le_bytes(self.array()?))
    }
}

/// A score as text (`%lg`-style: decimal, `inf`, `-inf`, `nan`).
fn parse_score(t: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(t).ok()?.trim_start();
    let lower = s.to_ascii_lowercase();
    match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        "nan" | "+nan" | "-nan" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

/// A listpack or ziplist element's score.
fn elem_score(e: LpElem<'_>) -> Option<f64> {
    match e {
        LpElem::Int(n) => Some(n as f64),
        LpElem::Str(s) => parse_score(s).filter(|x| !x.is_nan()),
    }
}

/// How values are decoded.
pub struct Ctx<'e> {
    pub enc: &'e Encodings,
    pub deep: bool,
}

/// A decoded value, or `Empty` for an empty collection (skipped when
/// loading a file, an error for RESTORE).
pub enum Decoded {
    Value(Value),
    Empty,
}

/// Whether `t` is a type byte a value can have (not an opcode).
pub fn is_value_type(t: u8) -> bool {
    t <= 7 || (9..=21).contains(&t)
}

/// Reads one value of type `t` (`rdbLoadObject`).
pub fn value(r: &mut Reader<'_>, t: u8, ctx: &Ctx<'_>) -> R<Decoded> {
    use Decoded::Empty;
    let v = match t {
        rtype::STRING => match r.string()? {
            Str::Int(n) => Value::Int(n),
            Str::Bytes(b) => Value::string_from_vec(b.into_owned()),
        },
        rtype::LIST => {
            let n = r.count(1)?;
            if n == 0 {
                return Ok(Empty);
            }
            let mut l = List::new();
            for _ in 0..n {
                l.push(End::Tail, &r.bytes()?, ctx.enc.list_fill);
            }
            Value::from_list(l)
        }
        rtype::LIST_ZIPLIST => {
            let blob = r.bytes()?;
            let items = legacy::ziplist_entries(&blob)
                .ok_or_else(|| corrupt("List ziplist integrity check failed."))?;
            if items.is_empty() {
                return Ok(Empty);
            }
            let mut l = List::new();
            for e in items {
                e.with_bytes(|b| l.push(End::Tail, b, ctx.enc.list_fill));
            }
            Value::from_list(l)
        }
        rtype::LIST_QUICKLIST | rtype::LIST_QUICKLIST_2 => match quicklist(r, t, ctx.deep)? {
            Some(l) => Value::from_list(l),
            None => return Ok(Empty),
        },
        rtype::SET => {
            let n = r.count(1)?;
            if n == 0 {
                return Ok(Empty);
            }
            let max = ctx.enc.set_max_intset.min(1 << 30);
            let mut s = if n as usize > max {
                Set::new_table()
            } else {
                Set::new_intset()
            };
            for _ in 0..n {
                let added = match r.string()? {
                    Str::Int(v) => s.add_elem(Elem::Int(v), max),
                    Str::Bytes(b) => s.add(&b, max),
                };
                if !added {
                    return Err(corrupt("Duplicate set members detected"));
                }
            }
            Value::from_set(s)
        }
        rtype::SET_INTSET => {
            let blob = r.bytes()?;
            let is = IntSet::from_blob(&blob, ctx.deep)
                .ok_or_else(|| corrupt("Intset integrity check failed."))?;
            let mut s = Set::from_intset(is);
            if s.len() > ctx.enc.set_max_intset {
                s.convert_to_table();
            }
            Value::from_set(s)
        }
        rtype::SET_LISTPACK => {
            let lp = listpack(r, "Set listpack integrity check failed.")?;
            if lp.is_empty() {
                return Ok(Empty);
            }
            let max = ctx.enc.set_max_intset;
            let all_ints = lp.iter().all(|e| matches!(e, LpElem::Int(_)));
            let mut s = if all_ints && lp.len() <= max {
                Set::new_intset()
            } else {
                Set::new_table()
            };
            for e in lp.iter() {
                let added = match e {
                    LpElem::Int(v) => s.add_elem(Elem::Int(v), max),
                    LpElem::Str(b) => s.add(b, max),
                };
                if !added {
                    return Err(corrupt("Set listpack with dup elements"));
                }
            }
            Value::from_set(s)
        }
        rtype::ZSET | rtype::ZSET_2 => {
            let n = r.count(if t == rtype::ZSET { 2 } else { 9 })?;
            if n == 0 {
                return Ok(Empty);
            }
            let mut pairs = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let m = r.bytes()?.into_owned();
                let score = if t == rtype::ZSET_2 {
                    r.binary_double()?
                } else {
                    r.text_double()?
                };
                if score.is_nan() {
                    return Err(corrupt("Zset with NAN score detected"));
                }
                pairs.push((m, score));
            }
            Value::from_zset(zset_from_pairs(
                pairs,
                ctx,
                "Duplicate zset fields detected",
            )?)
        }
        rtype::ZSET_ZIPLIST => {
            let blob = r.bytes()?;
            let msg = "Zset ziplist integrity check failed.";
            let items = legacy::ziplist_entries(&blob).ok_or_else(|| corrupt(msg))?;
            check_pairs(&items, true, msg)?;
            if items.is_empty() {
                return Ok(Empty);
            }
            let mut lp = Listpack::new();
            for e in &items {
                lp.push_back_elem(*e);
            }
            Value::from_zset(zset_from_listpack(lp, ctx, msg)?)
        }
        rtype::ZSET_LISTPACK => {
            let msg = "Zset listpack integrity check failed.";
            let lp = listpack(r, msg)?;
            let items: Vec<LpElem<'_>> = lp.iter().collect();
            check_pairs(&items, ctx.deep, msg)?;
            if lp.is_empty() {
                return Ok(Empty);
            }
            Value::from_zset(zset_from_listpack(lp, ctx, msg)?)
        }
        rtype::HASH => {
            let n = r.count(2)?;
            if n == 0 {
                return Ok(Empty);
            }
            let mut pairs = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let f = r.bytes()?;
                let v = r.bytes()?;
                pairs.push((f, v));
            }
            let lim = ctx.enc.hash;
            let small = pairs.len() <= lim.max_entries
                && pairs
                    .iter()
                    .all(|(f, v)| f.len() <= lim.max_value && v.len() <= lim.max_value);
            let msg = "Duplicate hash fields detected";
            if small {
                let mut seen = HashSet::with_capacity(pairs.len());
                if !pairs.iter().all(|(f, _)| seen.insert(&f[..])) {
                    return Err(corrupt(msg));
                }
                let mut lp = Listpack::new();
                for (f, v) in &pairs {
                    lp.push_back(f);
                    lp.push_back(v);
                }
                Value::from_hash(Hash::from_listpack(lp))
            } else {
                let mut h = Hash::new_table();
                for (f, v) in &pairs {
                    if !h.set(f, v, lim) {
                        return Err(corrupt(msg));
                    }
                }
                Value::from_hash(h)
            }
        }
        rtype::HASH_ZIPMAP => {
            let blob = r.bytes()?;
            let pairs = legacy::zipmap_pairs(&blob)
                .ok_or_else(|| corrupt("Zipmap integrity check failed."))?;
            let mut seen = HashSet::with_capacity(pairs.len());
            if !pairs.iter().all(|(f, _)| seen.insert(*f)) {
                return Err(corrupt("Hash zipmap with dup elements, or big length"));
            }
            let lim = ctx.enc.hash;
            let maxlen = pairs
                .iter()
                .map(|(f, v)| f.len().max(v.len()))
                .max()
                .unwrap_or(0);
            let mut lp = Listpack::new();
            for (f, v) in &pairs {
                lp.push_back(f);
                lp.push_back(v);
            }
            let mut h = Hash::from_listpack(lp);
            if pairs.len() > lim.max_entries || maxlen > lim.max_value {
                h.convert_to_table();
            }
            Value::from_hash(h)
        }
        rtype::HASH_ZIPLIST => {
            let blob = r.bytes()?;
            let msg = "Hash ziplist integrity check failed.";
            let items = legacy::ziplist_entries(&blob).ok_or_else(|| corrupt(msg))?;
            check_pairs(&items, true, msg)?;
            if items.is_empty() {
                return Ok(Empty);
            }
            let mut lp = Listpack::new();
            for e in &items {
                lp.push_back_elem(*e);
            }
            let mut h = Hash::from_listpack(lp);
            if h.len() > ctx.enc.hash.max_entries {
                h.convert_to_table();
            }
            Value::from_hash(h)
        }
        rtype::HASH_LISTPACK => {
            let msg = "Hash listpack integrity check failed.";
            let lp = if ctx.deep {
                listpack(r, msg)?
            } else {
                listpack_unsanitized(r, msg)?
            };
            let items: Vec<LpElem<'_>> = lp.iter().collect();
            check_pairs(&items, ctx.deep, msg)?;
            if lp.is_empty() {
                return Ok(Empty);
            }
            if lp.len() / 2 > ctx.enc.hash.max_entries {
                // Converting meets every field: a duplicate is caught here
                // even without deep sanitization (Redis panics on it).
                let mut h = Hash::new_table();
                let mut it = items.iter();
                while let (Some(f), Some(v)) = (it.next(), it.next()) {
                    let new = f.with_bytes(|fb| v.with_bytes(|vb| h.set(fb, vb, ctx.enc.hash)));
                    if !new {
                        return Err(corrupt("Hash listpack with dup elements"));
                    }
                }
                Value::from_hash(h)
            } else {
                drop(items);
                Value::from_hash(Hash::from_listpack(lp))
            }
        }
        rtype::MODULE | rtype::MODULE_2 => {
            return Err(RdbError::Unsupported(
                "Module values (RDB type 6/7) are not supported".into(),
            ))
        }
        rtype::STREAM_LISTPACKS | rtype::STREAM_LISTPACKS_2 | rtype::STREAM_LISTPACKS_3 => {
            Value::from_stream(stream(r, t, ctx)?)
        }
        _ => return Err(corrupt(format!("Unknown RDB encoding type {t}"))),
    };
    Ok(Decoded::Value(v))
}

/// A listpack string, validated entry by entry.
fn listpack(r: &mut Reader<'_>, msg: &str) -> R<Listpack> {
    let blob = r.bytes()?;
    Listpack::from_bytes(blob.into_owned()).map_err(|_| corrupt(msg))
}

/// A hash listpack without deep sanitization: Redis checks only the
/// header and asserts when a command reaches a broken entry. Here the
/// entries before the first broken one are kept (whole pairs only) and the
/// assertion is logged, so the key exists and nothing reads past its end.
fn listpack_unsanitized(r: &mut Reader<'_>, msg: &str) -> R<Listpack> {
    let blob = r.bytes()?.into_owned();
    let n = blob.len();
    let header_ok = n >= 7
        && u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize == n
        && blob[n - 1] == 0xFF;
    match Listpack::from_bytes(blob.clone()) {
        Ok(lp) => Ok(lp),
        Err(ListpackErr::Entry { offset }) if header_ok && offset > 6 && offset < n => {
            let mut prefix = blob[..offset].to_vec();
            prefix.push(0xFF);
            let total = prefix.len() as u32;
            prefix[..4].copy_from_slice(&total.to_le_bytes());
            prefix[4..6].copy_from_slice(&u16::MAX.to_le_bytes());
            let mut lp = Listpack::from_bytes(prefix).map_err(|_| corrupt(msg))?;
            if lp.len() % 2 == 1 {
                lp.remove_at(lp.len() - 1);
            }
            kstream::assertion_failed(
                "hash listpack entry is invalid: the pairs after it are dropped",
            );
            Ok(lp)
        }
        Err(_) => Err(corrupt(msg)),
    }
}

/// Pairs (hash fields and values, zset members and scores) must come in an
/// even number; with `dups`, the first of each pair must be unique.
fn check_pairs(items: &[LpElem<'_>], dups: bool, msg: &str) -> R<()> {
    if !items.len().is_multiple_of(2) {
        return Err(corrupt(msg));
    }
    if dups {
        let mut seen = HashSet::with_capacity(items.len() / 2);
        for e in items.iter().step_by(2) {
            if !seen.insert(e.to_vec()) {
                return Err(corrupt(msg));
            }
        }
    }
    Ok(())
}

/// The `quicklist` list types: 14 (ziplist nodes) and 18 (listpack or
/// plain nodes). None when every node is empty.
fn quicklist(r: &mut Reader<'_>, t: u8, deep: bool) -> R<Option<List>> {
    let nodes = r.count(2)?;
    if nodes == 0 {
        return Ok(None);
    }
    let mut l = List::new();
    for _ in 0..nodes {
        let mut container = 2;
        if t == rtype::LIST_QUICKLIST_2 {
            container = r.len()?;
            if container != 1 && container != 2 {
                return Err(corrupt("Quicklist integrity check failed."));
            }
        }
        let data = r.bytes()?;
        if data.is_empty() {
            return Err(corrupt("Quicklist node is empty"));
        }
        if container == 1 {
            l.push_plain_node(data.into_owned());
            continue;
        }
        let lp = if t == rtype::LIST_QUICKLIST_2 {
            Listpack::from_bytes(data.into_owned()).map_err(|_| {
                if !deep {
                    // Unsanitized, Redis takes the node and asserts on first
                    // use; it is refused here, with the same log line.
                    kstream::assertion_failed("quicklist node listpack is invalid");
                }
                corrupt("Listpack integrity check failed.")
            })?
        } else {
            let items = legacy::ziplist_entries(&data)
                .ok_or_else(|| corrupt("Ziplist integrity check failed."))?;
            let mut lp = Listpack::new();
            for e in items {
                lp.push_back_elem(e);
            }
            lp
        };
        // Empty nodes are skipped; an all-empty list is an empty key.
        l.push_listpack_node(lp);
    }
    Ok((!l.is_empty()).then_some(l))
}

/// A sorted set from (member, score) pairs in any order, in the encoding
/// their count and sizes call for.
fn zset_from_pairs(mut pairs: Vec<(Vec<u8>, f64)>, ctx: &Ctx<'_>, dup: &str) -> R<ZSet> {
    pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    if pairs.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(corrupt(dup));
    }
    // No NaN here; -0 and 0 are equal scores, ordered by member.
    pairs.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
    Ok(ZSet::from_sorted(&pairs, ctx.enc.zset))
}

/// A sorted set from a listpack of pairs: kept when small enough by count
/// (as Redis, which does not look at element sizes here), else converted.
fn zset_from_listpack(lp: Listpack, ctx: &Ctx<'_>, msg: &str) -> R<ZSet> {
    if lp.len() / 2 <= ctx.enc.zset.max_entries {
        return Ok(ZSet::from_listpack(lp));
    }
    let mut pairs = Vec::with_capacity(lp.len() / 2);
    let mut it = lp.iter();
    while let (Some(m), Some(s)) = (it.next(), it.next()) {
        let score = elem_score(s).ok_or_else(|| corrupt(msg))?;
        pairs.push((m.to_vec(), score));
    }
    zset_from_pairs(pairs, ctx, msg)
}

/// The stream types 15, 19 and 21 (rdbLoadObject's stream branch), with
/// Redis's checks and messages. Without deep sanitization only the
/// listpack headers are checked, as Redis; a node whose entries are broken
/// is then refused here (Redis would accept it and assert on first use).
fn stream(r: &mut Reader<'_>, t: u8, ctx: &Ctx<'_>) -> R<Stream> {
    let mut s = Stream::new();
    let nodes = r.count(2)?;
    for _ in 0..nodes {
        let key = r.bytes()?;
        let Some(master) = StreamId::decode(&key) else {
            return Err(corrupt(
                "Stream node key entry is not the size of a stream ID",
            ));
        };
        let blob = r.bytes()?.into_owned();
        let msg = "Stream listpack integrity check failed.";
        let n = blob.len();
        let header_ok = n >= 7
            && u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize == n
            && blob[n - 1] == 0xFF;
        if !header_ok {
            return Err(corrupt(msg));
        }
        let lp = match Listpack::from_bytes(blob) {
            Ok(lp) => lp,
            Err(_) if ctx.deep => return Err(corrupt(msg)),
            Err(ListpackErr::Entry { offset: 6 }) => {
                // Redis reads the first entry at once (lpFirst) and
                // asserts on it.
                kstream::assertion_failed("stream listpack's first entry is invalid");
                return Err(corrupt(msg));
            }
            Err(_) => {
                // Redis would take the node and assert when a command
                // walks into the broken entry: the node is left out and
                // the first walk reports it.
                s.poisoned = true;
                continue;
            }
        };
        if ctx.deep && !kstream::validate_node(&lp) {
            return Err(corrupt(msg));
        }
        if lp.is_empty() {
            return Err(corrupt("Empty listpack inside stream"));
        }
        if s.nodes.insert(master, lp).is_some() {
            return Err(corrupt("Listpack re-added with existing key"));
        }
    }
    s.length = r.len()?;
    s.last_id = StreamId::new(r.len()?, r.len()?);
    if t == rtype::STREAM_LISTPACKS {
        s.entries_added = s.length;
        s.first_id = s.edge_id(true, true).unwrap_or(StreamId::MAX);
    } else {
        s.first_id = StreamId::new(r.len()?, r.len()?);
        s.max_deleted_id = StreamId::new(r.len()?, r.len()?);
        s.entries_added = r.len()?;
    }
    if s.length != 0 && s.nodes.is_empty() && !s.poisoned {
        return Err(corrupt("Stream length inconsistent with rax entries"));
    }
    let groups = r.count(3)?;
    for _ in 0..groups {
        let name = r.bytes()?.into_owned();
        let last_id = StreamId::new(r.len()?, r.len()?);
        let entries_read = if t == rtype::STREAM_LISTPACKS {
            s.estimate_distance(last_id)
        } else {
            r.len()? as i64
        };
        if s.groups.contains_key(&name) {
            return Err(corrupt(format!(
                "Duplicated consumer group name {}",
                String::from_utf8_lossy(&name)
            )));
        }
        let mut g = Group::new(last_id, entries_read);
        let pel = r.count(17)?;
        for _ in 0..pel {
            let id = StreamId::decode(r.take(16)?).expect("16 bytes");
            let delivery_time = r.i64_le()?;
            let delivery_count = r.len()?;
            let nack = Nack {
                delivery_time,
                delivery_count,
                consumer: None,
            };
            if g.pel.insert(id, nack).is_some() {
                return Err(corrupt(
                    "Duplicated global PEL entry loading stream consumer group",
                ));
            }
        }
        let consumers = r.count(10)?;
        for _ in 0..consumers {
            let cname = r.bytes()?.into_owned();
            if g.consumers.contains_key(&cname) {
                return Err(corrupt("Duplicate stream consumer detected."));
            }
            let mut c = Consumer {
                seen_time: r.i64_le()?,
                pel: Default::default(),
            };
            if t == rtype::STREAM_LISTPACKS_3 {
                // active-time (Redis 7.2): 7.0 keeps only seen-time.
                r.i64_le()?;
            }
            let n = r.count(16)?;
            for _ in 0..n {
                let id = StreamId::decode(r.take(16)?).expect("16 bytes");
                let Some(nack) = g.pel.get_mut(&id) else {
                    return Err(corrupt("Consumer entry not found in group global PEL"));
                };
                if nack.consumer.is_some() {
                    return Err(corrupt(
                        "Stream consumer PEL entry already has a consumer assigned",
                    ));
                }
                nack.consumer = Some(cname.clone());
                if !c.pel.insert(id) {
                    return Err(corrupt(
                        "Duplicated consumer PEL entry  loading a stream consumer group",
                    ));
                }
            }
            g.consumers.insert(cname, c);
        }
        if ctx.deep && g.pel.values().any(|n| n.consumer.is_none()) {
            return Err(corrupt("Stream CG PEL entry without consumer"));
        }
        s.groups.insert(name, g);
    }
    Ok(s)
}
