//! The segmented hash table behind every database.
//!
//! # Overview
//!
//! A directory of `2^global_depth` slots points at segments (extendible
//! hashing). A key's 64-bit hash picks its slot by its low bits; a segment of
//! local depth `d` owns every slot that shares its low `d` bits. A segment is a
//! small open-addressing table; when it reaches [`SEGMENT_MAX`] entries it
//! splits in two by the next hash bit, so growth never rehashes the whole
//! keyspace at once and no single step costs more than one segment.
//!
//! Each segment carries a `version`, used by the forkless snapshot to know
//! which segments it has already serialized.
//!
//! # Scan order
//!
//! Cursors live in *reversed-hash space*: `rev = hash.reverse_bits()`. The low
//! hash bits that choose a segment become the high bits of `rev`, so each
//! segment owns one contiguous range of that space, and a split cuts a range
//! in two halves. A key's position never changes, so a scan that walks
//! `rev` upwards returns every key that lives through the whole scan, however
//! the table grows or shrinks meanwhile.

use hashbrown::HashTable;
use std::hash::BuildHasher;

/// Entries per segment before it splits.
pub const SEGMENT_MAX: usize = 896;

/// Bytes of a hashbrown table of `capacity` with entries of `entry` bytes:
/// its buckets (capacity is 7/8 of them from 8 buckets up), one control
/// byte per bucket and a group's worth more.
fn buckets_bytes(capacity: usize, entry: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = if capacity < 8 {
        (capacity + 1).next_power_of_two()
    } else {
        (capacity * 8 / 7).next_power_of_two()
    };
    buckets * entry + buckets + 16
}

/// What the table needs from what it stores.
pub trait Keyed {
    fn key(&self) -> &[u8];
}

struct Segment<E> {
    map: HashTable<E>,
    depth: u8,
    version: u64,
    /// The snapshot version whose per-entry marks this segment's entries
    /// carry (see [`Table::early_at`]).
    early: u64,
}

impl<E> Segment<E> {
    fn new(depth: u8, version: u64) -> Self {
        Segment {
            map: HashTable::new(),
            depth,
            version,
            early: 0,
        }
    }
}

/// A segmented hash table of entries that know their own key.
pub struct Table<E> {
    dir: Vec<u32>,
    segs: Vec<Segment<E>>,
    global_depth: u8,
    len: usize,
    hasher: foldhash::fast::FixedState,
}

/// The hash a segment's inner table uses: the directory consumes the low bits,
/// so the inner table must look at other ones.
#[inline]
fn inner(h: u64) -> u64 {
    h.rotate_left(32)
}

impl<E: Keyed> Table<E> {
    pub fn new(seed: u64) -> Self {
        Table {
            dir: vec![0],
            segs: vec![Segment::new(0, 0)],
            global_depth: 0,
            len: 0,
            hasher: foldhash::fast::FixedState::with_seed(seed),
        }
    }

    #[inline]
    pub fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn seg_index(&self, h: u64) -> usize {
        let mask = (1u64 << self.global_depth) - 1;
        self.dir[(h & mask) as usize] as usize
    }

    #[inline]
    pub fn get(&self, key: &[u8]) -> Option<&E> {
        let h = self.hash(key);
        let s = &self.segs[self.seg_index(h)];
        s.map.find(inner(h), |e| e.key() == key)
    }

    #[inline]
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut E> {
        let h = self.hash(key);
        let i = self.seg_index(h);
        self.segs[i].map.find_mut(inner(h), |e| e.key() == key)
    }

    /// The version of the segment that holds (or would hold) `key`.
    pub fn segment_version(&self, key: &[u8]) -> u64 {
        let h = self.hash(key);
        self.segs[self.seg_index(h)].version
    }

    /// The index of the segment that holds (or would hold) `key`; valid
    /// until the next insert (which may split it).
    pub fn segment_of(&self, key: &[u8]) -> usize {
        self.seg_index(self.hash(key))
    }

    /// The version stamped on segment `i` (the forkless snapshot's mark).
    pub fn version_at(&self, i: usize) -> u64 {
        self.segs[i].version
    }

    /// Stamps segment `i` with `version`.
    pub fn stamp(&mut self, i: usize, version: u64) {
        self.segs[i].version = version;
    }

    /// The snapshot version for which segment `i`'s entries carry
    /// per-entry marks (a forkless snapshot serializes single entries of a
    /// segment it has not walked yet, and marks them).
    pub fn early_at(&self, i: usize) -> u64 {
        self.segs[i].early
    }

    /// Sets segment `i`'s mark version; `clear` runs on every entry first.
    pub fn set_early(&mut self, i: usize, version: u64, clear: impl FnMut(&mut E)) {
        self.segs[i].map.iter_mut().for_each(clear);
        self.segs[i].early = version;
    }

    /// The entry for `key` in segment `i`, to mark it.
    pub fn get_mut_in(&mut self, i: usize, key: &[u8]) -> Option<&mut E> {
        let h = self.hash(key);
        self.segs[i].map.find_mut(inner(h), |e| e.key() == key)
    }

    /// The entries of segment `i`, mutably (their marks).
    pub fn segment_entries_mut(&mut self, i: usize) -> impl Iterator<Item = &mut E> {
        self.segs[i].map.iter_mut()
    }

    /// The entries of segment `i`.
    pub fn segment_entries(&self, i: usize) -> impl Iterator<Item = &E> {
        self.segs[i].map.iter()
    }

    /// Entries in segment `i`.
    pub fn segment_len(&self, i: usize) -> usize {
        self.segs[i].map.len()
    }

    /// Prepares an empty table for `n` entries (RESIZEDB on load): the
    /// directory and segments are created at the size the entries will need,
    /// so loading them splits and regrows nothing. No effect on a table that
    /// holds entries.
    pub fn reserve_empty(&mut self, n: usize) {
        if self.len != 0 || self.segs.len() != 1 || n == 0 {
            return;
        }
        // Segments about two-thirds full, as after organic growth.
        let per_seg = SEGMENT_MAX * 2 / 3;
        let mut depth = 0u8;
        while (per_seg << depth) < n && depth < 24 {
            depth += 1;
        }
        let count = 1usize << depth;
        let version = self.segs[0].version;
        let cap = n / count + n / count / 8 + 1;
        self.segs = (0..count)
            .map(|_| Segment {
                map: HashTable::with_capacity(cap.min(SEGMENT_MAX)),
                depth,
                version,
                early: 0,
            })
            .collect();
        self.dir = (0..count as u32).collect();
        self.global_depth = depth;
    }

    /// Inserts `e` unless its key is present, in one lookup; gives `e` back
    /// when it is.
    pub fn insert_new(&mut self, e: E) -> Result<(), E> {
        let h = self.hash(e.key());
        let i = self.seg_index(h);
        if self.segs[i]
            .map
            .find(inner(h), |x| x.key() == e.key())
            .is_some()
        {
            return Err(e);
        }
        self.add_absent(i, h, e);
        Ok(())
    }

    /// Inserts `e`, replacing and returning an entry with the same key.
    pub fn insert(&mut self, e: E) -> Option<E> {
        let h = self.hash(e.key());
        let i = self.seg_index(h);
        if let Some(slot) = self.segs[i].map.find_mut(inner(h), |x| x.key() == e.key()) {
            return Some(std::mem::replace(slot, e));
        }
        self.add_absent(i, h, e);
        None
    }

    /// Adds `e` (hash `h`, key known absent) to segment `i`, splitting the
    /// segment first when it is full.
    #[inline]
    fn add_absent(&mut self, mut i: usize, h: u64, e: E) {
        if self.segs[i].map.len() >= SEGMENT_MAX {
            self.split(i);
            i = self.seg_index(h);
        }
        let hasher = self.hasher;
        self.segs[i]
            .map
            .insert_unique(inner(h), e, |x| inner(hasher.hash_one(x.key())));
        self.len += 1;
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<E> {
        let h = self.hash(key);
        let i = self.seg_index(h);
        match self.segs[i].map.find_entry(inner(h), |e| e.key() == key) {
            Ok(occ) => {
                let (e, _) = occ.remove();
                self.len -= 1;
                Some(e)
            }
            Err(_) => None,
        }
    }

    fn split(&mut self, i: usize) {
        let depth = self.segs[i].depth;
        if depth == self.global_depth {
            // Double the directory: slot j and j + old_len point at the same segment.
            let old = self.dir.len();
            self.dir.extend_from_within(0..old);
            self.global_depth += 1;
        }
        let bit = 1u64 << depth;
        let version = self.segs[i].version;
        let new_idx = self.segs.len() as u32;
        let mut hi = Segment::new(depth + 1, version);
        hi.early = self.segs[i].early;
        let hasher = self.hasher;
        let old = std::mem::take(&mut self.segs[i].map);
        let mut lo_map = HashTable::with_capacity(old.len() / 2 + 1);
        hi.map = HashTable::with_capacity(old.len() / 2 + 1);
        for e in old {
            let h = hasher.hash_one(e.key());
            let target = if h & bit != 0 {
                &mut hi.map
            } else {
                &mut lo_map
            };
            target.insert_unique(inner(h), e, |x| inner(hasher.hash_one(x.key())));
        }
        self.segs[i].map = lo_map;
        self.segs[i].depth = depth + 1;
        self.segs.push(hi);
        // Repoint the directory slots whose bit `depth` is set.
        let low_mask = bit - 1;
        let low = self.low_bits_of(i, low_mask);
        for (slot, target) in self.dir.iter_mut().enumerate() {
            let s = slot as u64;
            if s & low_mask == low && s & bit != 0 {
                *target = new_idx;
            }
        }
    }

    fn low_bits_of(&self, seg: usize, mask: u64) -> u64 {
        let slot = self
            .dir
            .iter()
            .position(|&s| s as usize == seg)
            .expect("every segment has a directory slot");
        slot as u64 & mask
    }

    /// Removes everything, returning the old contents as a table.
    pub fn take(&mut self) -> Table<E> {
        let seed_state = self.hasher;
        std::mem::replace(
            self,
            Table {
                dir: vec![0],
                segs: vec![Segment::new(0, 0)],
                global_depth: 0,
                len: 0,
                hasher: seed_state,
            },
        )
    }

    pub fn iter(&self) -> impl Iterator<Item = &E> {
        self.segs.iter().flat_map(|s| s.map.iter())
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut E> {
        self.segs.iter_mut().flat_map(|s| s.map.iter_mut())
    }

    /// Keeps only the entries for which `f` returns true.
    pub fn retain(&mut self, mut f: impl FnMut(&mut E) -> bool) {
        let mut removed = 0;
        for s in &mut self.segs {
            let before = s.map.len();
            s.map.retain(&mut f);
            removed += before - s.map.len();
        }
        self.len -= removed;
    }

    /// One step of a scan: calls `f` for up to `count` entries (more when
    /// several share one hash) from `cursor` onwards in reversed-hash order,
    /// and returns the next cursor (0 when the scan is complete).
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&E)) -> u64 {
        let count = count.max(1);
        let mut cursor = cursor;
        let mut emitted = 0;
        loop {
            let h = cursor.reverse_bits();
            let seg = &self.segs[self.seg_index(h)];
            let d = seg.depth as u32;
            // The segment's range in reversed space: top `d` bits fixed.
            let span_bits = 64 - d;
            let start = if span_bits == 64 {
                0
            } else {
                (cursor >> span_bits) << span_bits
            };
            let end = if span_bits == 64 {
                None
            } else {
                start.checked_add(1u64 << span_bits)
            };
            let mut found: Vec<(u64, &E)> = seg
                .map
                .iter()
                .filter_map(|e| {
                    let r = self.hash(e.key()).reverse_bits();
                    (r >= cursor).then_some((r, e))
                })
                .collect();
            found.sort_unstable_by_key(|(r, _)| *r);
            let want = count - emitted;
            let mut taken = 0;
            let mut last = None;
            for (r, e) in &found {
                if taken >= want && Some(*r) != last {
                    return *r;
                }
                f(e);
                taken += 1;
                last = Some(*r);
            }
            emitted += taken;
            match end {
                None => return 0,
                Some(next) => {
                    cursor = next;
                    if emitted >= count {
                        return cursor;
                    }
                }
            }
        }
    }

    /// A uniformly chosen segment's random entry, or None when empty.
    pub fn random(&self, rng: &mut impl rand::Rng) -> Option<&E> {
        if self.len == 0 {
            return None;
        }
        for _ in 0..64 {
            let slot = rng.gen_range(0..self.dir.len());
            let s = &self.segs[self.dir[slot] as usize];
            if s.map.is_empty() {
                continue;
            }
            let n = rng.gen_range(0..s.map.len());
            return s.map.iter().nth(n);
        }
        // Sparse table: pick among non-empty segments directly.
        let nonempty: Vec<&Segment<E>> = self.segs.iter().filter(|s| !s.map.is_empty()).collect();
        let s = nonempty[rng.gen_range(0..nonempty.len())];
        let n = rng.gen_range(0..s.map.len());
        s.map.iter().nth(n)
    }

    /// Up to `n` entries near a random position (Redis's dictGetSomeKeys,
    /// for eviction sampling): a run of entries of random segments, each
    /// run starting at a random place. Cheaper than `n` [`Table::random`]
    /// calls; may repeat an entry in a sparse table.
    pub fn sample(&self, rng: &mut impl rand::Rng, n: usize, mut f: impl FnMut(&E)) {
        if self.len == 0 || n == 0 {
            return;
        }
        let mut got = 0;
        for _ in 0..n.max(8) {
            let slot = rng.gen_range(0..self.dir.len());
            let s = &self.segs[self.dir[slot] as usize];
            let len = s.map.len();
            if len == 0 {
                continue;
            }
            let start = rng.gen_range(0..len);
            let take = (n - got).min(len);
            for e in s.map.iter().skip(start).chain(s.map.iter()).take(take) {
                f(e);
            }
            got += take;
            if got >= n {
                return;
            }
        }
    }

    /// Heap bytes the table structure itself uses (directory, segments and
    /// their buckets, each allocation in its allocator size class), not
    /// counting what entries point to.
    pub fn overhead_bytes(&self) -> usize {
        use crate::persistence::memory::size_class;
        let entry = std::mem::size_of::<E>();
        size_class(self.dir.capacity() * 4)
            + size_class(self.segs.capacity() * std::mem::size_of::<Segment<E>>())
            + self
                .segs
                .iter()
                .map(|s| size_class(buckets_bytes(s.map.capacity(), entry)))
                .sum::<usize>()
    }

    pub fn segment_count(&self) -> usize {
        self.segs.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    struct K(Vec<u8>);
    impl Keyed for K {
        fn key(&self) -> &[u8] {
            &self.0
        }
    }

    fn k(i: usize) -> K {
        K(format!("key:{i}").into_bytes())
    }

    #[test]
    fn insert_get_remove_across_splits() {
        let mut t = Table::new(7);
        for i in 0..20_000 {
            assert!(t.insert(k(i)).is_none());
        }
        assert_eq!(t.len(), 20_000);
        assert!(t.segment_count() > 16);
        for i in 0..20_000 {
            assert!(t.get(format!("key:{i}").as_bytes()).is_some());
        }
        assert!(t.insert(k(5)).is_some());
        assert_eq!(t.len(), 20_000);
        for i in 0..10_000 {
            assert!(t.remove(format!("key:{i}").as_bytes()).is_some());
        }
        assert_eq!(t.len(), 10_000);
        assert!(t.get(b"key:3").is_none());
        assert!(t.get(b"key:10003").is_some());
    }

    #[test]
    fn scan_returns_every_key_once_without_changes() {
        let mut t = Table::new(1);
        for i in 0..5000 {
            t.insert(k(i));
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = t.scan(cursor, 10, |e| {
                assert!(seen.insert(e.0.clone()), "duplicate");
            });
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 5000);
    }

    #[test]
    fn scan_never_misses_a_key_that_survives_growth() {
        let mut t = Table::new(3);
        for i in 0..1000 {
            t.insert(k(i));
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut next = 1000;
        loop {
            cursor = t.scan(cursor, 7, |e| {
                seen.insert(e.0.clone());
            });
            // Grow the table heavily between steps.
            for _ in 0..50 {
                t.insert(k(next));
                next += 1;
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..1000 {
            assert!(
                seen.contains(format!("key:{i}").as_bytes()),
                "missed key:{i}"
            );
        }
    }

    #[test]
    fn random_finds_entries() {
        let mut t = Table::new(9);
        let mut rng = rand::thread_rng();
        assert!(t.random(&mut rng).is_none());
        t.insert(k(1));
        assert_eq!(
            t.random(&mut rng).map(|e| e.0.clone()),
            Some(b"key:1".to_vec())
        );
    }
}
