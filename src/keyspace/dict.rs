//! A chained hash table with incremental rehashing, shaped like Redis's
//! `dict`: the `hashtable` encoding of sets uses it, so that what Redis's
//! tests observe of its hash tables (DEBUG HTSTATS-KEY, SSCAN order, when a
//! table grows, shrinks and rehashes) holds here too.
//!
//! # Overview
//!
//! Entries live in one dense vector (`entries`), each with its chain link
//! beside it (`next`, a parallel vector of `u32` indices, so an entry costs
//! its own size plus 4 bytes). A table is a power-of-two array of chain
//! heads; an element's bucket is `hash & (size - 1)`. While a resize is in
//! progress there are two tables: `ht[0]` (main) and `ht[1]` (rehashing
//! target), and buckets of `ht[0]` below `rehash_idx` have moved. Each
//! lookup, insertion or removal moves one bucket (Redis's
//! `_dictRehashStep`), so no single command pays for a whole resize.
//!
//! Rehashing relinks chains and never moves an entry: an index into
//! `entries` stays valid across rehash steps and changes only when a
//! removal swaps the last entry into the hole. The forkless snapshot's
//! chunked encoding of a big set walks `entries` by index (a set being
//! encoded is never written, but reads may still step its rehash).
//!
//! # Resizing
//!
//! As Redis 7.0: a table grows to the next power of two above its element
//! count when it reaches one element per bucket, and shrinks (after a
//! removal, see [`Dict::remove`]) to the smallest power of two holding its
//! elements when it is less than 10% full. While a snapshot keeps a
//! point-in-time image ([`ResizePolicy::Avoid`], set by the engine) resizes
//! are refused unless the table is five times over- or under-sized, and
//! rehash steps only run for such extreme resizes.
//!
//! # Limits
//!
//! Indices are `u32`: a dict holds at most [`MAX_LEN`] entries (an insert
//! beyond that is refused), and a table has at most 2^31 buckets.

use std::cell::Cell;
use std::fmt::Write as _;
use std::hash::BuildHasher;

use super::table::Keyed;

/// No entry (an empty bucket or the end of a chain).
const NIL: u32 = u32::MAX;
/// The first table's size (Redis's DICT_HT_INITIAL_SIZE).
pub const INITIAL_SIZE: usize = 4;
/// Under [`ResizePolicy::Avoid`], resizes whose ratio reaches this still
/// happen (Redis's dict_force_resize_ratio).
const FORCE_RESIZE_RATIO: usize = 5;
/// A table less full than this percentage shrinks (HASHTABLE_MIN_FILL).
const MIN_FILL: usize = 10;
/// Most entries a dict holds.
pub const MAX_LEN: usize = (u32::MAX - 1) as usize;
/// Largest table exponent.
const MAX_EXP: u32 = 31;
/// Most entries [`Dict::with_capacity`] prepares for (beyond, the dict
/// grows as it fills).
const PRESIZE_CAP: usize = 1 << 20;
/// Chain lengths HTSTATS counts one by one (DICT_STATS_VECTLEN).
const STATS_VECTLEN: usize = 50;

/// Whether tables may resize now (Redis's `dict_can_resize`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResizePolicy {
    Enable,
    /// A snapshot is in progress: only extreme resizes.
    Avoid,
    /// Never (a fork child).
    Forbid,
}

thread_local! {
    /// The policy of the engine running on this thread. It is per thread
    /// rather than per process so that several servers embedded in one
    /// process (tests, the library) each follow their own snapshots.
    static POLICY: Cell<ResizePolicy> = const { Cell::new(ResizePolicy::Enable) };
}

/// Sets this thread's resize policy (Redis's updateDictResizePolicy).
pub fn set_resize_policy(p: ResizePolicy) {
    POLICY.with(|c| c.set(p));
}

pub fn resize_policy() -> ResizePolicy {
    POLICY.with(|c| c.get())
}

/// A chained hash table of entries that know their own key.
pub struct Dict<E> {
    entries: Vec<E>,
    /// `next[i]`: the entry after `entries[i]` in its chain.
    next: Vec<u32>,
    /// Chain heads of the main table and of the rehashing target (empty
    /// when not rehashing).
    ht: [Box<[u32]>; 2],
    used: [usize; 2],
    /// The next bucket of `ht[0]` to move while rehashing.
    rehash_idx: usize,
    hasher: foldhash::fast::FixedState,
}

fn empty_table() -> Box<[u32]> {
    Box::new([])
}

/// The smallest power-of-two size (at least [`INITIAL_SIZE`]) for `n`.
fn next_size(n: usize) -> usize {
    let cap = 1usize << MAX_EXP;
    if n >= cap {
        return cap;
    }
    n.max(INITIAL_SIZE).next_power_of_two()
}

/// Reverses a cursor's bits (scan cursors count in reversed binary).
#[inline]
fn rev(v: u64) -> u64 {
    v.reverse_bits()
}

impl<E: Keyed> Dict<E> {
    pub fn new(seed: u64) -> Self {
        Dict {
            entries: Vec::new(),
            next: Vec::new(),
            ht: [empty_table(), empty_table()],
            used: [0, 0],
            rehash_idx: 0,
            hasher: foldhash::fast::FixedState::with_seed(seed),
        }
    }

    /// A dict whose table is sized for `n` entries (Redis's dictExpand on
    /// an intset conversion or an RDB length); `n` is capped by the caller.
    pub fn with_capacity(seed: u64, n: usize) -> Self {
        let n = n.min(PRESIZE_CAP);
        let mut d = Dict::new(seed);
        d.expand(n);
        d.entries.reserve_exact(n);
        d.next.reserve_exact(n);
        d
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    #[inline]
    pub fn is_rehashing(&self) -> bool {
        !self.ht[1].is_empty()
    }

    /// Bucket count of table `t`.
    pub fn table_size(&self, t: usize) -> usize {
        self.ht[t].len()
    }

    #[inline]
    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The buckets where an element of hash `h` may live: its bucket of
    /// `ht[0]`, and while rehashing its bucket of `ht[1]` (moved buckets
    /// and entries added during the rehash are there).
    #[inline]
    fn buckets(&self, h: u64) -> [Option<usize>; 2] {
        let b = |t: usize| (h as usize) & (self.ht[t].len().wrapping_sub(1));
        if self.ht[0].is_empty() {
            [None, None]
        } else if self.is_rehashing() {
            let b0 = b(0);
            [(b0 >= self.rehash_idx).then_some(b0), Some(b(1))]
        } else {
            [Some(b(0)), None]
        }
    }

    /// Finds the first entry whose key is `key` (by `pred` on entries)
    /// and the link that names it: (table, bucket, previous entry or NIL,
    /// entry).
    fn locate(&self, h: u64, pred: impl Fn(u32, &E) -> bool) -> Option<(usize, usize, u32, u32)> {
        for (t, b) in self.buckets(h).into_iter().enumerate() {
            let Some(b) = b else { continue };
            let mut prev = NIL;
            let mut i = self.ht[t][b];
            while i != NIL {
                if pred(i, &self.entries[i as usize]) {
                    return Some((t, b, prev, i));
                }
                prev = i;
                i = self.next[i as usize];
            }
        }
        None
    }

    /// The index of `key`'s entry.
    fn find(&self, key: &[u8]) -> Option<usize> {
        self.locate(self.hash(key), |_, e| e.key() == key)
            .map(|(_, _, _, i)| i as usize)
    }

    /// Unlinks a located entry.
    fn unlink_at(&mut self, (t, b, prev, i): (usize, usize, u32, u32)) {
        let after = self.next[i as usize];
        if prev == NIL {
            self.ht[t][b] = after;
        } else {
            self.next[prev as usize] = after;
        }
        self.used[t] -= 1;
    }

    pub fn get(&self, key: &[u8]) -> Option<&E> {
        self.find(key).map(|i| &self.entries[i])
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut E> {
        self.step();
        self.find(key).map(|i| &mut self.entries[i])
    }

    /// One rehash step, as Redis takes on each lookup or update.
    #[inline]
    pub fn step(&mut self) {
        if self.is_rehashing() {
            self.rehash(1);
        }
    }

    /// Inserts `e` unless its key is present (or the dict is full); gives
    /// `e` back when it is not inserted.
    pub fn insert_new(&mut self, e: E) -> Result<(), E> {
        self.step();
        let h = self.hash(e.key());
        if self.len() >= MAX_LEN || self.locate(h, |_, x| x.key() == e.key()).is_some() {
            return Err(e);
        }
        self.link_new(h, e);
        Ok(())
    }

    /// Inserts `make()` unless `key` is present (or the dict is full);
    /// true when it inserted. One hash, and no entry built for a key that
    /// is there.
    pub fn insert_with(&mut self, key: &[u8], make: impl FnOnce() -> E) -> bool {
        self.step();
        let h = self.hash(key);
        if self.len() >= MAX_LEN || self.locate(h, |_, x| x.key() == key).is_some() {
            return false;
        }
        self.link_new(h, make());
        true
    }

    /// Adds a new entry of hash `h` at the head of its chain.
    fn link_new(&mut self, h: u64, e: E) {
        self.expand_if_needed();
        // New entries go to the rehashing target (Redis's dictAddRaw).
        let t = usize::from(self.is_rehashing());
        let b = (h as usize) & (self.ht[t].len() - 1);
        let i = self.entries.len() as u32;
        if self.entries.len() == self.entries.capacity() {
            // Grow by half rather than double: a big set's entry vector is
            // most of its memory, and this bounds its slack to a third.
            let extra = (self.entries.len() / 2).max(INITIAL_SIZE);
            self.entries.reserve_exact(extra);
            self.next.reserve_exact(extra);
        }
        self.entries.push(e);
        self.next.push(self.ht[t][b]);
        self.ht[t][b] = i;
        self.used[t] += 1;
    }

    /// Removes `key`'s entry, then shrinks the table when it is less than
    /// 10% full (as Redis's set and hash removals do).
    pub fn remove(&mut self, key: &[u8]) -> Option<E> {
        self.step();
        let at = self.locate(self.hash(key), |_, e| e.key() == key)?;
        self.unlink_at(at);
        let e = self.take_entry(at.3 as usize);
        self.shrink_if_needed();
        Some(e)
    }

    /// Takes the unlinked entry `i` out of the vector; the last entry moves
    /// into its place and the link that named it is repointed.
    fn take_entry(&mut self, i: usize) -> E {
        let last = self.entries.len() - 1;
        if i != last {
            let moved = last as u32;
            let h = self.hash(self.entries[last].key());
            if let Some((t, b, prev, _)) = self.locate(h, |j, _| j == moved) {
                if prev == NIL {
                    self.ht[t][b] = i as u32;
                } else {
                    self.next[prev as usize] = i as u32;
                }
            }
        }
        self.next.swap_remove(i);
        let e = self.entries.swap_remove(i);
        // Give back memory after mass removals (amortized: a quarter full).
        let cap = self.entries.capacity();
        if cap > 64 && self.entries.len() < cap / 4 {
            self.entries.shrink_to(self.entries.len() * 2);
            self.next.shrink_to(self.entries.len() * 2);
        }
        e
    }

    /// Grows when there is one element per bucket (Redis's
    /// _dictExpandIfNeeded).
    fn expand_if_needed(&mut self) {
        if self.is_rehashing() {
            return;
        }
        let size = self.ht[0].len();
        if size == 0 {
            self.expand(INITIAL_SIZE);
            return;
        }
        let used = self.used[0];
        let policy = resize_policy();
        if (policy == ResizePolicy::Enable && used >= size)
            || (policy != ResizePolicy::Forbid && used / size > FORCE_RESIZE_RATIO)
        {
            self.expand(used + 1);
        }
    }

    /// Shrinks a table under 10% full (Redis's htNeedsResize + dictResize:
    /// only when resizing is enabled and no rehash is running).
    fn shrink_if_needed(&mut self) {
        let size = self.ht[0].len() + self.ht[1].len();
        let used = self.len();
        if size > INITIAL_SIZE
            && used * 100 / size < MIN_FILL
            && resize_policy() == ResizePolicy::Enable
            && !self.is_rehashing()
        {
            self.expand(used);
        }
    }

    /// Starts a resize to the power of two for `n` (Redis's _dictExpand);
    /// false when refused: rehashing, too small, or the same size.
    pub fn expand(&mut self, n: usize) -> bool {
        if self.is_rehashing() || self.used[0] > n {
            return false;
        }
        let size = next_size(n);
        if size == self.ht[0].len() {
            return false;
        }
        let table = vec![NIL; size].into_boxed_slice();
        if self.ht[0].is_empty() {
            self.ht[0] = table;
        } else {
            self.ht[1] = table;
            self.rehash_idx = 0;
        }
        true
    }

    /// Moves up to `n` buckets of `ht[0]` to `ht[1]`, visiting at most
    /// `10 n` empty ones (Redis's dictRehash); true while more remain.
    pub fn rehash(&mut self, n: usize) -> bool {
        if !self.is_rehashing() {
            return false;
        }
        let (s0, s1) = (self.ht[0].len(), self.ht[1].len());
        match resize_policy() {
            ResizePolicy::Forbid => return false,
            ResizePolicy::Avoid
                if (s1 > s0 && s1 / s0 < FORCE_RESIZE_RATIO)
                    || (s1 < s0 && s0 / s1 < FORCE_RESIZE_RATIO) =>
            {
                return false
            }
            _ => {}
        }
        let mut empty_visits = n * 10;
        let mask1 = s1 - 1;
        for _ in 0..n {
            if self.used[0] == 0 {
                break;
            }
            while self.ht[0][self.rehash_idx] == NIL {
                self.rehash_idx += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    return true;
                }
            }
            let mut i = std::mem::replace(&mut self.ht[0][self.rehash_idx], NIL);
            while i != NIL {
                let after = self.next[i as usize];
                let b = (self.hash(self.entries[i as usize].key()) as usize) & mask1;
                self.next[i as usize] = self.ht[1][b];
                self.ht[1][b] = i;
                self.used[0] -= 1;
                self.used[1] += 1;
                i = after;
            }
            self.rehash_idx += 1;
        }
        if self.used[0] == 0 {
            self.ht[0] = std::mem::replace(&mut self.ht[1], empty_table());
            self.used = [self.used[1], 0];
            self.rehash_idx = 0;
            return false;
        }
        true
    }

    pub fn iter(&self) -> std::slice::Iter<'_, E> {
        self.entries.iter()
    }

    /// The entries in their storage order, which only writes change
    /// (see the module docs).
    pub fn as_slice(&self) -> &[E] {
        &self.entries
    }

    /// A uniformly chosen entry. Entries are dense, so this is exact and
    /// O(1), unlike a bucket-then-chain pick (which favours short chains).
    pub fn random(&self, rng: &mut impl rand::Rng) -> Option<&E> {
        if self.entries.is_empty() {
            return None;
        }
        Some(&self.entries[rng.gen_range(0..self.entries.len())])
    }

    /// Removes and returns a uniformly chosen entry.
    pub fn pop_random(&mut self, rng: &mut impl rand::Rng) -> Option<E> {
        self.step();
        if self.entries.is_empty() {
            return None;
        }
        let i = rng.gen_range(0..self.entries.len());
        let target = i as u32;
        let at = self.locate(self.hash(self.entries[i].key()), |j, _| j == target)?;
        self.unlink_at(at);
        let e = self.take_entry(i);
        self.shrink_if_needed();
        Some(e)
    }

    /// Calls `f` for each entry of chain `(t, b)`.
    fn chain(&self, t: usize, b: usize, f: &mut impl FnMut(&E)) {
        let mut i = self.ht[t][b];
        while i != NIL {
            f(&self.entries[i as usize]);
            i = self.next[i as usize];
        }
    }

    /// One step of Redis's dictScan: the entries of one bucket of the
    /// smaller table and of its expansions in the larger one; returns the
    /// next cursor (0 when the scan is complete). The cursor counts in
    /// reversed binary, so every element present for a whole scan is
    /// returned at least once, whatever resizes happen in between.
    pub fn scan_bucket(&self, cursor: u64, mut f: impl FnMut(&E)) -> u64 {
        if self.ht[0].is_empty() {
            return 0;
        }
        let mut v = cursor;
        if !self.is_rehashing() {
            let m0 = (self.ht[0].len() - 1) as u64;
            self.chain(0, (v & m0) as usize, &mut f);
            v |= !m0;
            v = rev(rev(v).wrapping_add(1));
        } else {
            let (small, large) = if self.ht[0].len() > self.ht[1].len() {
                (1, 0)
            } else {
                (0, 1)
            };
            let m0 = (self.ht[small].len() - 1) as u64;
            let m1 = (self.ht[large].len() - 1) as u64;
            self.chain(small, (v & m0) as usize, &mut f);
            // Every bucket of the larger table that expands this one.
            loop {
                self.chain(large, (v & m1) as usize, &mut f);
                v |= !m1;
                v = rev(rev(v).wrapping_add(1));
                if v & (m0 ^ m1) == 0 {
                    break;
                }
            }
        }
        v
    }

    /// An SSCAN call: buckets until `count` entries were seen or
    /// `10 count` buckets visited (Redis's scanGenericCommand).
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&E)) -> u64 {
        let mut seen = 0usize;
        let mut left = count.max(1).saturating_mul(10);
        let mut cursor = cursor;
        loop {
            cursor = self.scan_bucket(cursor, |e| {
                seen += 1;
                f(e)
            });
            if cursor == 0 || left == 0 || seen >= count {
                return cursor;
            }
            left -= 1;
        }
    }

    /// DEBUG HTSTATS text (Redis's dictGetStats).
    pub fn stats(&self) -> String {
        let mut s = String::new();
        self.table_stats(&mut s, 0);
        if self.is_rehashing() {
            self.table_stats(&mut s, 1);
        }
        s
    }

    fn table_stats(&self, s: &mut String, t: usize) {
        let name = if t == 0 {
            "main hash table"
        } else {
            "rehashing target"
        };
        if self.used[t] == 0 {
            let _ = write!(
                s,
                "Hash table {t} stats ({name}):\nNo stats available for empty dictionaries\n"
            );
            return;
        }
        let mut lens = [0usize; STATS_VECTLEN];
        let (mut slots, mut max_chain, mut total) = (0usize, 0usize, 0usize);
        for b in 0..self.ht[t].len() {
            let mut n = 0;
            self.chain(t, b, &mut |_| n += 1);
            lens[n.min(STATS_VECTLEN - 1)] += 1;
            if n > 0 {
                slots += 1;
                max_chain = max_chain.max(n);
                total += n;
            }
        }
        let size = self.ht[t].len();
        // C computes these in float and prints them as double.
        let counted = f64::from(total as f32 / slots as f32);
        let computed = f64::from(self.used[t] as f32 / slots as f32);
        let _ = write!(
            s,
            "Hash table {t} stats ({name}):\n table size: {size}\n number of elements: {}\n \
             different slots: {slots}\n max chain length: {max_chain}\n \
             avg chain length (counted): {counted:.2}\n avg chain length (computed): {computed:.2}\n \
             Chain length distribution:\n",
            self.used[t]
        );
        for (i, &n) in lens.iter().enumerate().take(STATS_VECTLEN - 1) {
            if n == 0 {
                continue;
            }
            let pct = f64::from((n as f32 / size as f32) * 100.0);
            let _ = writeln!(s, "   {i}: {n} ({pct:.2}%)");
        }
    }

    /// Heap bytes of the structure (entries' own heap not counted), each
    /// allocation in its allocator size class.
    pub fn overhead_bytes(&self) -> usize {
        use crate::persistence::memory::size_class;
        let cls = |n: usize| if n == 0 { 0 } else { size_class(n) };
        cls(self.entries.capacity() * std::mem::size_of::<E>())
            + cls(self.next.capacity() * 4)
            + cls(self.ht[0].len() * 4)
            + cls(self.ht[1].len() * 4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[derive(Debug)]
    struct K(Vec<u8>);
    impl Keyed for K {
        fn key(&self) -> &[u8] {
            &self.0
        }
    }

    fn k(i: usize) -> K {
        K(format!("m:{i}").into_bytes())
    }

    /// Checks every structural invariant: each entry reachable exactly
    /// once from its home bucket, per-table counts right.
    fn check(d: &Dict<K>) {
        let mut seen = vec![false; d.len()];
        let mut used = [0usize; 2];
        for (t, used) in used.iter_mut().enumerate() {
            for b in 0..d.ht[t].len() {
                let mut i = d.ht[t][b];
                while i != NIL {
                    let e = &d.entries[i as usize];
                    assert_eq!(
                        d.buckets(d.hash(e.key()))[t],
                        Some(b),
                        "entry in the wrong bucket"
                    );
                    assert!(!seen[i as usize], "entry linked twice");
                    seen[i as usize] = true;
                    *used += 1;
                    i = d.next[i as usize];
                }
            }
        }
        assert!(seen.iter().all(|&s| s), "unreachable entry");
        assert_eq!(used, d.used);
        assert_eq!(d.next.len(), d.entries.len());
    }

    fn full_scan(d: &Dict<K>) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut cursor = 0;
        loop {
            cursor = d.scan_bucket(cursor, |e| out.push(e.0.clone()));
            if cursor == 0 {
                return out;
            }
        }
    }

    #[test]
    fn insert_find_remove_through_growth_and_shrink() {
        let mut d = Dict::new(1);
        for i in 0..5000 {
            assert!(d.insert_new(k(i)).is_ok());
        }
        assert!(d.insert_new(k(7)).is_err());
        assert_eq!(d.len(), 5000);
        check(&d);
        for i in 0..5000 {
            assert!(d.get(format!("m:{i}").as_bytes()).is_some(), "m:{i}");
        }
        for i in 0..4990 {
            assert_eq!(
                d.remove(format!("m:{i}").as_bytes()).map(|e| e.0),
                Some(k(i).0)
            );
            if i % 97 == 0 {
                check(&d);
            }
        }
        assert!(d.remove(b"m:3").is_none());
        while d.rehash(100) {}
        check(&d);
        assert_eq!(d.len(), 10);
        // A shrink waits for the running rehash; the next removal starts
        // one to the smallest power of two for the elements left.
        assert!(d.table_size(0) > 16);
        d.remove(b"m:4990").unwrap();
        assert!(d.is_rehashing());
        while d.rehash(100) {}
        assert_eq!(d.table_size(0), 16);
        for i in 4991..5000 {
            assert!(d.get(format!("m:{i}").as_bytes()).is_some());
        }
    }

    #[test]
    fn grows_at_one_per_bucket_and_rehashes_on_access() {
        let mut d = Dict::new(2);
        for i in 0..4 {
            d.insert_new(k(i)).unwrap();
        }
        assert_eq!(d.table_size(0), 4);
        assert!(!d.is_rehashing());
        d.insert_new(k(4)).unwrap();
        assert!(d.is_rehashing());
        assert_eq!(d.table_size(1), 8);
        let mut steps = 0;
        while d.is_rehashing() {
            d.get_mut(b"m:0");
            steps += 1;
            check(&d);
        }
        assert!(steps <= 4);
        assert_eq!(d.table_size(0), 8);
        assert_eq!(d.len(), 5);
    }

    #[test]
    fn avoid_refuses_mild_resizes_but_not_extreme_ones() {
        let mut d = Dict::new(3);
        for i in 0..1000 {
            d.insert_new(k(i)).unwrap();
        }
        while d.rehash(100) {}
        assert_eq!(d.table_size(0), 1024);
        set_resize_policy(ResizePolicy::Avoid);
        for i in 0..990 {
            d.remove(format!("m:{i}").as_bytes()).unwrap();
        }
        // No shrink while a snapshot runs.
        assert!(!d.is_rehashing());
        assert_eq!(d.table_size(0), 1024);
        set_resize_policy(ResizePolicy::Enable);
        d.remove(b"m:990").unwrap();
        // 9 elements: a shrink from 1024 to 16 started.
        assert!(d.is_rehashing());
        assert_eq!(d.table_size(1), 16);
        // A ratio of 64 is extreme: it goes on under Avoid, not Forbid.
        set_resize_policy(ResizePolicy::Forbid);
        assert!(!d.rehash(1000) && d.is_rehashing());
        set_resize_policy(ResizePolicy::Avoid);
        while d.rehash(10) {}
        assert!(!d.is_rehashing());
        assert_eq!(d.table_size(0), 16);
        check(&d);
        // Growth past one per bucket waits for a ratio above 5.
        for i in 2000..2087 {
            d.insert_new(k(i)).unwrap();
        }
        assert_eq!(d.len(), 96);
        assert!(!d.is_rehashing());
        d.insert_new(k(3000)).unwrap();
        assert!(d.is_rehashing());
        assert_eq!(d.table_size(1), 128);
        while d.rehash(10) {}
        assert_eq!(d.table_size(0), 128);
        // A mild rehash (16 -> 32 under Enable) pauses under Avoid.
        let mut m = Dict::new(9);
        set_resize_policy(ResizePolicy::Enable);
        for i in 0..17 {
            m.insert_new(k(i)).unwrap();
        }
        assert!(m.is_rehashing());
        set_resize_policy(ResizePolicy::Avoid);
        assert!(!m.rehash(100) && m.is_rehashing());
        set_resize_policy(ResizePolicy::Enable);
        while m.rehash(100) {}
        assert_eq!(m.table_size(0), 32);
        check(&d);
        check(&m);
    }

    #[test]
    fn scan_returns_every_element_once_when_stable() {
        let mut d = Dict::new(4);
        for i in 0..3000 {
            d.insert_new(k(i)).unwrap();
        }
        // Both while rehashing and after.
        for _ in 0..2 {
            let got = full_scan(&d);
            assert_eq!(got.len(), 3000);
            assert_eq!(got.iter().collect::<HashSet<_>>().len(), 3000);
            while d.rehash(100) {}
        }
    }

    #[test]
    fn scan_never_misses_an_element_across_growth_shrink_and_rehash() {
        for seed in 0..6u64 {
            let mut d = Dict::new(seed);
            for i in 0..2000 {
                d.insert_new(k(i)).unwrap();
            }
            // Elements 0..500 stay for the whole scan; the rest churn.
            let mut seen = HashSet::new();
            let mut cursor = 0;
            let mut next = 10_000;
            let mut round = 0;
            loop {
                cursor = d.scan(cursor, 10, |e| {
                    seen.insert(e.0.clone());
                });
                round += 1;
                if seed % 2 == 0 || round % 3 == 0 {
                    // Growth: many inserts between calls.
                    for _ in 0..40 {
                        d.insert_new(k(next)).unwrap();
                        next += 1;
                    }
                } else {
                    // Shrink: remove churn elements.
                    for i in (500..2000).chain(10_000..next).take(60) {
                        d.remove(format!("m:{i}").as_bytes());
                    }
                }
                d.rehash(1);
                if cursor == 0 {
                    break;
                }
            }
            check(&d);
            for i in 0..500 {
                assert!(
                    seen.contains(k(i).0.as_slice()),
                    "seed {seed}: missed m:{i}"
                );
            }
        }
    }

    #[test]
    fn pop_random_and_random_are_uniform_enough() {
        let mut d = Dict::new(5);
        for i in 0..10 {
            d.insert_new(k(i)).unwrap();
        }
        let mut rng = rand::thread_rng();
        let mut hits = std::collections::HashMap::new();
        for _ in 0..10_000 {
            *hits
                .entry(d.random(&mut rng).unwrap().0.clone())
                .or_insert(0) += 1;
        }
        assert_eq!(hits.len(), 10);
        assert!(hits.values().all(|&n| (800..1200).contains(&n)), "{hits:?}");
        let mut popped = HashSet::new();
        while let Some(e) = d.pop_random(&mut rng) {
            assert!(popped.insert(e.0));
            check(&d);
        }
        assert_eq!(popped.len(), 10);
    }

    #[test]
    fn htstats_text_of_a_small_table() {
        let mut d = Dict::new(6);
        assert_eq!(
            d.stats(),
            "Hash table 0 stats (main hash table):\nNo stats available for empty dictionaries\n"
        );
        for i in 0..3 {
            d.insert_new(k(i)).unwrap();
        }
        // Fix the layout: all three in bucket 1 of a 4-bucket table.
        d.ht[0] = vec![NIL, 2, NIL, NIL].into_boxed_slice();
        d.next = vec![NIL, 0, 1];
        d.used = [3, 0];
        assert_eq!(
            d.stats(),
            "Hash table 0 stats (main hash table):\n table size: 4\n number of elements: 3\n \
             different slots: 1\n max chain length: 3\n avg chain length (counted): 3.00\n \
             avg chain length (computed): 3.00\n Chain length distribution:\n   \
             0: 3 (75.00%)\n   3: 1 (25.00%)\n"
        );
        let mut d = Dict::new(7);
        for i in 0..5 {
            d.insert_new(k(i)).unwrap();
        }
        assert!(d.is_rehashing());
        let s = d.stats();
        assert!(s.starts_with("Hash table 0 stats (main hash table):\n table size: 4\n"));
        assert!(s.contains("Hash table 1 stats (rehashing target):\n table size: 8\n"));
    }

    #[test]
    fn removal_repoints_the_moved_entry_in_both_tables() {
        let mut d = Dict::new(8);
        for i in 0..65 {
            d.insert_new(k(i)).unwrap();
        }
        // Mid-rehash, remove from the front so the last entry moves.
        assert!(d.is_rehashing());
        for i in 0..65 {
            d.remove(format!("m:{i}").as_bytes()).unwrap();
            check(&d);
            for j in i + 1..65 {
                assert!(d.get(format!("m:{j}").as_bytes()).is_some());
            }
        }
        assert!(d.is_empty());
    }
}
