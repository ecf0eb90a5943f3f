//! Streams, in Redis 7.0's layout.
//!
//! # Overview
//!
//! A stream is an ordered map from a node's *master ID* to a listpack
//! node in Redis's exact format, so that the RDB encoding is the nodes'
//! bytes. Each node starts with a master entry:
//!
//! ```text
//! count | deleted | num-fields | field_1 ... field_N | 0
//! ```
//!
//! followed by entries whose IDs are deltas from the master ID:
//!
//! ```text
//! flags | ms-delta | seq-delta | [num-fields | field_1 value_1 ...] | lp-count
//! flags | ms-delta | seq-delta | value_1 ... value_N | lp-count     (SAMEFIELDS)
//! ```
//!
//! `lp-count` is the number of listpack elements of the entry before it.
//! Deleted entries stay in their node with the DELETED flag until the
//! whole node is gone, as in Redis.
//!
//! Beside the entries: length, last ID, first ID, the largest deleted ID,
//! the count of entries ever added, and the consumer groups (each with its
//! last delivered ID, entries read, pending entries list and consumers).
//!
//! # Trust
//!
//! A node restored without deep sanitization may have a broken layout
//! (Redis would assert on it later). Every walk here parses a node into
//! [`EntryRef`]s first and treats a node that does not parse as empty,
//! reporting it once through [`report_corrupt`]: no input panics.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::listpack::{Listpack, LpElem};
use crate::util::num::string2ll;

/// The entry flags.
pub const FLAG_DELETED: i64 = 1;
pub const FLAG_SAMEFIELDS: i64 = 2;

/// `entries_read` of a group whose position is unknown.
pub const ENTRIES_READ_INVALID: i64 = -1;

/// Largest total size of an entry's fields and values (Redis's
/// STREAM_LISTPACK_MAX_SIZE).
pub const LISTPACK_MAX_SIZE: usize = 1 << 30;

/// A stream entry ID.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    pub fn is_zero(self) -> bool {
        self.ms == 0 && self.seq == 0
    }

    /// The successor, or None past the largest ID.
    pub fn incr(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                return None;
            }
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// The predecessor, or None before 0-0.
    pub fn decr(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                return None;
            }
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }

    /// The 128-bit big-endian form Redis uses as a radix tree key.
    pub fn encode(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    pub fn decode(b: &[u8]) -> Option<StreamId> {
        if b.len() != 16 {
            return None;
        }
        let mut ms = [0u8; 8];
        let mut seq = [0u8; 8];
        ms.copy_from_slice(&b[..8]);
        seq.copy_from_slice(&b[8..]);
        Some(StreamId::new(
            u64::from_be_bytes(ms),
            u64::from_be_bytes(seq),
        ))
    }

    pub fn to_bytes(self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// A pending entry: delivered to a consumer, not yet acknowledged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nack {
    pub delivery_time: i64,
    pub delivery_count: u64,
    /// The owner; None only in an unsanitized restored payload.
    pub consumer: Option<Vec<u8>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Consumer {
    pub seen_time: i64,
    pub pel: BTreeSet<StreamId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub last_id: StreamId,
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, Nack>,
    pub consumers: BTreeMap<Vec<u8>, Consumer>,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// Removes a pending entry from the group and its owner.
    pub fn ack(&mut self, id: StreamId) -> bool {
        match self.pel.remove(&id) {
            Some(n) => {
                if let Some(c) = n.consumer.and_then(|name| self.consumers.get_mut(&name)) {
                    c.pel.remove(&id);
                }
                true
            }
            None => false,
        }
    }

    /// Deletes a consumer and its pending entries; returns how many it had.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        let n = c.pel.len();
        for id in c.pel {
            self.pel.remove(&id);
        }
        Some(n)
    }
}

/// One entry of a node.
#[derive(Debug)]
pub struct EntryRef<'a> {
    pub id: StreamId,
    pub flags: i64,
    /// Byte offset of the flags element.
    flags_off: usize,
    pub fields: Vec<(LpElem<'a>, LpElem<'a>)>,
}

impl EntryRef<'_> {
    pub fn deleted(&self) -> bool {
        self.flags & FLAG_DELETED != 0
    }
}

/// A parsed node: master entry counts and every entry, deleted or not.
#[derive(Debug)]
pub struct NodeView<'a> {
    pub count: i64,
    pub deleted: i64,
    pub master_fields: Vec<LpElem<'a>>,
    pub entries: Vec<EntryRef<'a>>,
}

/// An element as an integer, as lpGetIntegerIfValid reads it.
pub fn elem_int(e: LpElem<'_>) -> Option<i64> {
    match e {
        LpElem::Int(n) => Some(n),
        LpElem::Str(s) => string2ll(s),
    }
}

/// Parses a node's layout. None when it is not a valid stream node.
pub fn parse_node(master: StreamId, lp: &Listpack) -> Option<NodeView<'_>> {
    let mut elems = Vec::with_capacity(lp.len());
    let mut off = lp.first();
    while let Some(o) = off {
        elems.push((o, lp.at(o)));
        off = lp.next(o);
    }
    let mut it = elems.into_iter();
    let int = |it: &mut std::vec::IntoIter<(usize, LpElem<'_>)>| -> Option<(usize, i64)> {
        let (o, e) = it.next()?;
        Some((o, elem_int(e)?))
    };
    let (_, count) = int(&mut it)?;
    let (_, deleted) = int(&mut it)?;
    let (_, nfields) = int(&mut it)?;
    if nfields < 0 || nfields as usize > lp.len() {
        return None;
    }
    let mut master_fields = Vec::with_capacity(nfields as usize);
    for _ in 0..nfields {
        master_fields.push(it.next()?.1);
    }
    if int(&mut it)?.1 != 0 {
        return None;
    }
    let mut entries = Vec::new();
    while let Some((flags_off, flags)) = it.next() {
        let flags = elem_int(flags)?;
        let (_, msd) = int(&mut it)?;
        let (_, seqd) = int(&mut it)?;
        let id = StreamId::new(
            master.ms.wrapping_add(msd as u64),
            master.seq.wrapping_add(seqd as u64),
        );
        let mut fields = Vec::new();
        let extra = if flags & FLAG_SAMEFIELDS != 0 {
            for f in &master_fields {
                fields.push((*f, it.next()?.1));
            }
            3
        } else {
            let (_, n) = int(&mut it)?;
            if n < 0 || n as usize > lp.len() {
                return None;
            }
            for _ in 0..n {
                let f = it.next()?.1;
                let v = it.next()?.1;
                fields.push((f, v));
            }
            4 + n
        };
        let (_, lp_count) = int(&mut it)?;
        if lp_count != fields.len() as i64 + extra {
            return None;
        }
        entries.push(EntryRef {
            id,
            flags,
            flags_off,
            fields,
        });
    }
    Some(NodeView {
        count,
        deleted,
        master_fields,
        entries,
    })
}

/// Deep validation of a node from outside (streamValidateListpackIntegrity):
/// the layout parses and holds exactly `count + deleted` entries.
pub fn validate_node(lp: &Listpack) -> bool {
    match parse_node(StreamId::MIN, lp) {
        Some(v) => {
            v.count >= 0
                && v.deleted >= 0
                && (v.count as i128 + v.deleted as i128) == v.entries.len() as i128
        }
        None => false,
    }
}

static REPORTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Logs corrupt stream data where Redis would fail an assertion (and
/// exit): once per process, and the command goes on without the broken
/// part.
pub fn assertion_failed(what: &str) {
    if !REPORTED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!("=== ASSERTION FAILED === {what}");
    }
}

/// Logs a node that does not parse.
pub fn report_corrupt(master: StreamId) {
    assertion_failed(&format!(
        "corrupt stream node {master}: its entries are skipped"
    ));
}

/// Logs what Redis's serverPanic would (a stream whose length says it has
/// entries but has none).
pub fn report_panic(what: &str) {
    static PANICKED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !PANICKED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!("------------------------------------------------");
        tracing::warn!("!!! Software Failure. Press left mouse button to continue");
        tracing::warn!("Guru Meditation: {what}");
    }
}

/// An entry copied out of its node: ID and (field, value) pairs.
pub type OwnedEntry = (StreamId, Vec<(Vec<u8>, Vec<u8>)>);

/// How XADD / XTRIM trims.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrimStrategy {
    None,
    MaxLen(u64),
    MinId(StreamId),
}

#[derive(Clone, Copy, Debug)]
pub struct Trim {
    pub strategy: TrimStrategy,
    pub approx: bool,
    /// Most entries to remove; 0 is no limit.
    pub limit: i64,
}

/// Why an append failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddError {
    /// The ID is not above the top item (EDOM).
    IdTooSmall,
    /// The entry is too big (ERANGE).
    TooBig,
}

#[derive(Clone, Debug, Default)]
pub struct Stream {
    pub nodes: BTreeMap<StreamId, Listpack>,
    pub length: u64,
    pub last_id: StreamId,
    pub first_id: StreamId,
    pub max_deleted_id: StreamId,
    pub entries_added: u64,
    pub groups: BTreeMap<Vec<u8>, Group>,
    /// Restored without sanitization from a payload with a broken node,
    /// which was left out: every walk reports it.
    pub poisoned: bool,
}

impl PartialEq for Stream {
    fn eq(&self, o: &Stream) -> bool {
        self.length == o.length
            && self.last_id == o.last_id
            && self.first_id == o.first_id
            && self.max_deleted_id == o.max_deleted_id
            && self.entries_added == o.entries_added
            && self.groups == o.groups
            && self.nodes.len() == o.nodes.len()
            && self
                .nodes
                .iter()
                .zip(o.nodes.iter())
                .all(|(a, b)| a.0 == b.0 && a.1.as_bytes() == b.1.as_bytes())
    }
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    pub fn len(&self) -> u64 {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    pub fn heap_size(&self) -> usize {
        let nodes: usize = self.nodes.values().map(|lp| lp.heap_size() + 16 + 32).sum();
        let groups: usize = self
            .groups
            .iter()
            .map(|(n, g)| {
                n.len()
                    + 64
                    + g.pel.len() * 64
                    + g.consumers
                        .iter()
                        .map(|(cn, c)| cn.len() + 48 + c.pel.len() * 24)
                        .sum::<usize>()
            })
            .sum();
        std::mem::size_of::<Stream>() + nodes + groups
    }

    /// The ID a new entry gets: `given` with `seq_given` false is `<ms>-*`.
    pub fn next_id(
        &self,
        now_ms: u64,
        given: Option<(StreamId, bool)>,
    ) -> Result<StreamId, AddError> {
        let id = match given {
            Some((id, true)) => id,
            Some((id, false)) => {
                if self.last_id.ms == id.ms {
                    if self.last_id.seq == u64::MAX {
                        return Err(AddError::IdTooSmall);
                    }
                    StreamId::new(id.ms, self.last_id.seq + 1)
                } else {
                    id
                }
            }
            None => {
                if now_ms > self.last_id.ms {
                    StreamId::new(now_ms, 0)
                } else {
                    self.last_id.incr().unwrap_or(StreamId::MIN)
                }
            }
        };
        if id <= self.last_id {
            return Err(AddError::IdTooSmall);
        }
        Ok(id)
    }

    /// Appends an entry (`fv` holds field, value, field, value, ...) with
    /// an ID from [`Self::next_id`].
    pub fn append(
        &mut self,
        id: StreamId,
        fv: &[&[u8]],
        node_max_bytes: usize,
        node_max_entries: i64,
    ) -> Result<(), AddError> {
        let total: usize = fv.iter().map(|x| x.len()).sum();
        if total > LISTPACK_MAX_SIZE {
            return Err(AddError::TooBig);
        }
        let numfields = fv.len() / 2;
        let max_bytes = if node_max_bytes == 0 || node_max_bytes > LISTPACK_MAX_SIZE {
            LISTPACK_MAX_SIZE
        } else {
            node_max_bytes
        };
        // The tail node, if it can take one more entry.
        let mut tail: Option<StreamId> = None;
        if let Some((&k, lp)) = self.nodes.iter().next_back() {
            let mut full = lp.byte_len() + total >= max_bytes;
            let counts = lp
                .first()
                .and_then(|o| Some((elem_int(lp.at(o))?, elem_int(lp.at(lp.next(o)?))?)));
            match counts {
                None => full = true,
                Some((c, d)) => {
                    if !full && node_max_entries > 0 && c.saturating_add(d) >= node_max_entries {
                        full = true;
                    }
                }
            }
            if !full && parse_master(lp).is_none() {
                full = true;
            }
            if !full {
                tail = Some(k);
            }
        }
        let mut flags = 0i64;
        let master = match tail {
            None => {
                let mut lp = Listpack::new();
                push_int(&mut lp, 1);
                push_int(&mut lp, 0);
                push_int(&mut lp, numfields as i64);
                for i in 0..numfields {
                    lp.push_back(fv[i * 2]);
                }
                push_int(&mut lp, 0);
                self.nodes.insert(id, lp);
                flags |= FLAG_SAMEFIELDS;
                id
            }
            Some(k) => {
                let lp = self.nodes.get_mut(&k).expect("tail node exists");
                let (count, _, _) = parse_master(lp).expect("checked above");
                let first = lp.first().expect("checked above");
                replace_int(lp, first, count.wrapping_add(1));
                let (_, _, mf) = parse_master(lp).expect("checked above");
                if mf.len() == numfields
                    && mf.iter().enumerate().all(|(i, f)| f.eq_bytes(fv[i * 2]))
                {
                    flags |= FLAG_SAMEFIELDS;
                }
                k
            }
        };
        let lp = self.nodes.get_mut(&master).expect("node exists");
        push_int(lp, flags);
        push_int(lp, id.ms.wrapping_sub(master.ms) as i64);
        push_int(lp, id.seq.wrapping_sub(master.seq) as i64);
        if flags & FLAG_SAMEFIELDS == 0 {
            push_int(lp, numfields as i64);
        }
        for i in 0..numfields {
            if flags & FLAG_SAMEFIELDS == 0 {
                lp.push_back(fv[i * 2]);
            }
            lp.push_back(fv[i * 2 + 1]);
        }
        let mut lp_count = numfields as i64 + 3;
        if flags & FLAG_SAMEFIELDS == 0 {
            lp_count += numfields as i64 + 1;
        }
        push_int(lp, lp_count);
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(())
    }

    /// Calls `f` for each entry in `[start, end]` (live entries only unless
    /// `tombstones`), forward or in reverse, until it returns false.
    /// Walks nodes as Redis's iterator: from the node at or before the
    /// starting ID, stopping at the first entry past the range.
    pub fn walk(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        tombstones: bool,
        mut f: impl FnMut(&EntryRef<'_>) -> bool,
    ) {
        if self.poisoned {
            assertion_failed("stream restored with an invalid listpack node");
        }
        if !rev {
            let from = if start.is_zero() {
                None
            } else {
                self.nodes.range(..=start).next_back().map(|(k, _)| *k)
            };
            let iter: Box<dyn Iterator<Item = (&StreamId, &Listpack)>> = match from {
                Some(k) => Box::new(self.nodes.range(k..)),
                None => Box::new(self.nodes.iter()),
            };
            for (k, lp) in iter {
                let Some(view) = parse_node(*k, lp) else {
                    report_corrupt(*k);
                    continue;
                };
                for e in &view.entries {
                    if e.id >= start && (tombstones || !e.deleted()) {
                        if e.id > end {
                            return;
                        }
                        if !f(e) {
                            return;
                        }
                    }
                }
            }
        } else {
            let from = if end.is_zero() {
                None
            } else {
                self.nodes.range(..=end).next_back().map(|(k, _)| *k)
            };
            let iter: Box<dyn Iterator<Item = (&StreamId, &Listpack)>> = match from {
                Some(k) => Box::new(self.nodes.range(..=k).rev()),
                None => Box::new(self.nodes.iter().rev()),
            };
            for (k, lp) in iter {
                let Some(view) = parse_node(*k, lp) else {
                    report_corrupt(*k);
                    continue;
                };
                for e in view.entries.iter().rev() {
                    if e.id <= end && (tombstones || !e.deleted()) {
                        if e.id < start {
                            return;
                        }
                        if !f(e) {
                            return;
                        }
                    }
                }
            }
        }
    }

    /// The entries in range as owned (id, fields) pairs, at most `count`
    /// (0 = all).
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        count: usize,
    ) -> Vec<OwnedEntry> {
        let mut out = Vec::new();
        self.walk(start, end, rev, false, |e| {
            out.push((
                e.id,
                e.fields
                    .iter()
                    .map(|(f, v)| (f.to_vec(), v.to_vec()))
                    .collect(),
            ));
            count == 0 || out.len() < count
        });
        out
    }

    /// The first or last ID (Redis's streamGetEdgeID): MAX / MIN when there
    /// is no such entry.
    pub fn edge_id(&self, first: bool, skip_tombstones: bool) -> Option<StreamId> {
        let mut found = None;
        self.walk(
            StreamId::MIN,
            StreamId::MAX,
            !first,
            !skip_tombstones,
            |e| {
                found = Some(e.id);
                false
            },
        );
        found
    }

    pub fn exists(&self, id: StreamId) -> bool {
        let mut found = false;
        self.walk(id, id, false, false, |e| {
            found = e.id == id;
            false
        });
        found
    }

    /// Marks the live entry `id` deleted (streamDeleteItem); true if it was
    /// there. Does not touch `max_deleted_id` or `first_id`.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&k, lp)) = self.nodes.range(..=id).next_back() else {
            return false;
        };
        let Some(view) = parse_node(k, lp) else {
            report_corrupt(k);
            return false;
        };
        let Some(e) = view.entries.iter().find(|e| e.id == id && !e.deleted()) else {
            return false;
        };
        let (off, flags, count) = (e.flags_off, e.flags, view.count);
        let deleted = view.deleted;
        drop(view);
        if count == 1 {
            self.nodes.remove(&k);
        } else {
            let lp = self.nodes.get_mut(&k).expect("node exists");
            replace_int(lp, off, flags | FLAG_DELETED);
            set_counts(lp, count.wrapping_sub(1), deleted.wrapping_add(1));
        }
        self.length = self.length.saturating_sub(1);
        true
    }

    /// Trims as XADD / XTRIM ask; returns the number of entries removed.
    pub fn trim(&mut self, t: Trim) -> i64 {
        if t.strategy == TrimStrategy::None {
            return 0;
        }
        let mut deleted: i64 = 0;
        let keys: Vec<StreamId> = self.nodes.keys().copied().collect();
        for k in keys {
            if let TrimStrategy::MaxLen(max) = t.strategy {
                if self.length <= max {
                    break;
                }
            }
            let lp = self.nodes.get(&k).expect("listed key");
            let Some(view) = parse_node(k, lp) else {
                report_corrupt(k);
                break;
            };
            let entries = view.count;
            if t.limit != 0 && deleted.saturating_add(entries) > t.limit {
                break;
            }
            let remove_node = match t.strategy {
                TrimStrategy::MaxLen(max) => self.length as i128 - entries as i128 >= max as i128,
                TrimStrategy::MinId(min) => {
                    // The node's last entry, deleted or not.
                    view.entries.last().map_or(k, |e| e.id) < min
                }
                TrimStrategy::None => false,
            };
            if remove_node {
                drop(view);
                self.nodes.remove(&k);
                self.length = (self.length as i128 - entries as i128).max(0) as u64;
                deleted = deleted.saturating_add(entries);
                continue;
            }
            if t.approx {
                break;
            }
            let mut marks = Vec::new();
            let mut length = self.length;
            for e in &view.entries {
                let stop = match t.strategy {
                    TrimStrategy::MaxLen(max) => length <= max,
                    TrimStrategy::MinId(min) => e.id >= min,
                    TrimStrategy::None => true,
                };
                if stop {
                    break;
                }
                if !e.deleted() {
                    marks.push((e.flags_off, e.flags | FLAG_DELETED));
                    length = length.saturating_sub(1);
                }
            }
            let n = marks.len() as i64;
            let (count, del) = (view.count, view.deleted);
            drop(view);
            let lp = self.nodes.get_mut(&k).expect("listed key");
            for (off, flags) in marks.into_iter().rev() {
                replace_int(lp, off, flags);
            }
            set_counts(lp, count.wrapping_sub(n), del.wrapping_add(n));
            self.length = length;
            deleted = deleted.saturating_add(n);
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted != 0 {
            self.first_id = self.edge_id(true, true).unwrap_or(StreamId::MAX);
        }
        deleted
    }

    /// Whether a deleted entry may lie in `[start, end]`
    /// (streamRangeHasTombstones).
    pub fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        if self.length == 0 || self.max_deleted_id.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted_id {
            return false;
        }
        start <= self.max_deleted_id && self.max_deleted_id <= end
    }

    /// streamEstimateDistanceFromFirstEverEntry.
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return self.entries_added as i64;
        }
        if id == self.last_id {
            return self.entries_added as i64;
        } else if id > self.last_id {
            return ENTRIES_READ_INVALID;
        }
        if self.max_deleted_id.is_zero() || self.max_deleted_id < self.first_id {
            if id < self.first_id {
                return self.entries_added.wrapping_sub(self.length) as i64;
            } else if id == self.first_id {
                return self.entries_added.wrapping_sub(self.length).wrapping_add(1) as i64;
            }
        }
        ENTRIES_READ_INVALID
    }

    /// A group's lag, None when it cannot be known.
    pub fn group_lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != ENTRIES_READ_INVALID
            && !self.range_has_tombstones(g.last_id, StreamId::MAX)
        {
            return Some((self.entries_added as i64).wrapping_sub(g.entries_read));
        }
        let read = self.estimate_distance(g.last_id);
        (read != ENTRIES_READ_INVALID).then(|| (self.entries_added as i64).wrapping_sub(read))
    }

    /// Moves a group past `id` as XREADGROUP delivers it.
    pub fn group_advance(&self, g: &mut Group, id: StreamId) {
        if id > g.last_id {
            if g.entries_read != ENTRIES_READ_INVALID
                && !self.range_has_tombstones(id, StreamId::MAX)
            {
                g.entries_read += 1;
            } else if self.entries_added != 0 {
                g.entries_read = self.estimate_distance(id);
            }
            g.last_id = id;
        }
    }

    /// The last live entry's ID (streamLastValidID); a stream whose length
    /// says it has entries but has none is reported as Redis panics on it.
    pub fn last_valid_id(&self) -> Option<StreamId> {
        let id = self.edge_id(false, true);
        if id.is_none() && self.length > 0 {
            report_panic(&format!(
                "Corrupt stream, length is {}, but no max id",
                self.length
            ));
        }
        id
    }

    /// Number of listpack nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
}

fn push_int(lp: &mut Listpack, n: i64) {
    lp.push_back_elem(LpElem::Int(n));
}

fn replace_int(lp: &mut Listpack, off: usize, n: i64) {
    lp.replace_at_offset(off, itoa::Buffer::new().format(n).as_bytes());
}

/// Rewrites a node's live and deleted counts.
fn set_counts(lp: &mut Listpack, count: i64, deleted: i64) {
    let Some(first) = lp.first() else {
        return;
    };
    replace_int(lp, first, count);
    if let Some(second) = lp.next(first) {
        replace_int(lp, second, deleted);
    }
}

/// The master entry: live count, deleted count, fields.
fn parse_master(lp: &Listpack) -> Option<(i64, i64, Vec<LpElem<'_>>)> {
    let mut off = lp.first()?;
    let count = elem_int(lp.at(off))?;
    off = lp.next(off)?;
    let deleted = elem_int(lp.at(off))?;
    off = lp.next(off)?;
    let n = elem_int(lp.at(off))?;
    if n < 0 || n as usize > lp.len() {
        return None;
    }
    let mut fields = Vec::with_capacity(n as usize);
    for _ in 0..n {
        off = lp.next(off)?;
        fields.push(lp.at(off));
    }
    off = lp.next(off)?;
    if elem_int(lp.at(off))? != 0 {
        return None;
    }
    Some((count, deleted, fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(s: &mut Stream, ms: u64, seq: u64, fv: &[&[u8]]) {
        s.append(StreamId::new(ms, seq), fv, 4096, 100).unwrap();
    }

    #[test]
    fn append_and_walk() {
        let mut s = Stream::new();
        add(&mut s, 1, 0, &[b"a", b"1", b"b", b"x"]);
        add(&mut s, 1, 1, &[b"a", b"2", b"b", b"y"]);
        add(&mut s, 2, 0, &[b"c", b"3"]);
        assert_eq!(s.len(), 3);
        assert_eq!(s.node_count(), 1);
        let r = s.range(StreamId::MIN, StreamId::MAX, false, 0);
        assert_eq!(r.len(), 3);
        assert_eq!(r[2].0, StreamId::new(2, 0));
        assert_eq!(r[2].1, vec![(b"c".to_vec(), b"3".to_vec())]);
        let r = s.range(StreamId::MIN, StreamId::MAX, true, 2);
        assert_eq!(r[0].0, StreamId::new(2, 0));
        assert_eq!(r[1].0, StreamId::new(1, 1));
        assert!(validate_node(s.nodes.values().next().unwrap()));
    }

    #[test]
    fn node_limits_split() {
        let mut s = Stream::new();
        for i in 0..250 {
            s.append(StreamId::new(i + 1, 0), &[b"f", b"v"], 4096, 100)
                .unwrap();
        }
        assert_eq!(s.node_count(), 3);
        assert_eq!(s.range(StreamId::MIN, StreamId::MAX, false, 0).len(), 250);
    }

    #[test]
    fn delete_and_trim() {
        let mut s = Stream::new();
        for i in 0..10 {
            s.append(StreamId::new(i + 1, 0), &[b"f", b"v"], 4096, 4)
                .unwrap();
        }
        assert!(s.delete(StreamId::new(2, 0)));
        assert!(!s.delete(StreamId::new(2, 0)));
        assert_eq!(s.len(), 9);
        let t = Trim {
            strategy: TrimStrategy::MaxLen(5),
            approx: false,
            limit: 0,
        };
        assert_eq!(s.trim(t), 4);
        assert_eq!(s.len(), 5);
        assert_eq!(s.first_id, StreamId::new(6, 0));
        let ids: Vec<_> = s
            .range(StreamId::MIN, StreamId::MAX, false, 0)
            .into_iter()
            .map(|e| e.0.ms)
            .collect();
        assert_eq!(ids, vec![6, 7, 8, 9, 10]);
    }

    #[test]
    fn ids() {
        assert_eq!(StreamId::new(1, u64::MAX).incr(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MAX.incr(), None);
        assert_eq!(StreamId::MIN.decr(), None);
        let id = StreamId::new(5, 7);
        assert_eq!(StreamId::decode(&id.encode()), Some(id));
    }
}
