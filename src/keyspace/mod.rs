//! Databases, keys, values and expiry.
//!
//! # Overview
//!
//! The keyspace is owned by the engine thread: nothing here locks. A
//! [`Db`] is a [`table::Table`] of boxed [`Entry`]s (key, value, access
//! clock) plus a second table of deadlines for the keys that have one. An
//! entry flags whether it has a deadline, so reads of keys without a TTL
//! never touch the deadline table.
//!
//! # Expiry
//!
//! A key is never visible after its deadline: every lookup checks it
//! (lazy expiry), and [`Db::active_expire_step`] walks the deadline table
//! with a scan cursor to reclaim keys nobody reads. A replica does not delete
//! on its own; it hides expired keys and waits for the primary's DEL.

pub mod access;
pub mod bits;
pub mod dict;
pub mod hash;
pub mod intset;
pub mod list;
pub mod listpack;
pub mod sbytes;
pub mod set;
pub mod stream;
pub mod table;
pub mod value;
pub mod zset;

use std::time::{SystemTime, UNIX_EPOCH};

use crate::persistence::forkless::{self, DbCut, Retired};
pub use sbytes::SBytes;
use table::{Keyed, Table};
pub use value::{Kind, Value};

/// Milliseconds since the Unix epoch.
#[inline]
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Microseconds since the Unix epoch.
#[inline]
pub fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

const HAS_TTL: u32 = 1 << 31;
/// A running forkless snapshot has this entry already (see
/// [`crate::persistence::forkless`]); trusted only in a segment whose
/// `early` stamp is the snapshot's version.
const EARLY: u32 = 1 << 30;
const CLOCK_MASK: u32 = (1 << 24) - 1;

/// The LRU clock: seconds, 24 bits, as Redis's LRU_CLOCK with 1 s resolution.
#[inline]
pub fn lru_clock() -> u32 {
    lru_clock_at(now_ms())
}

/// The LRU clock at `now` (ms since the epoch).
#[inline]
pub fn lru_clock_at(now: i64) -> u32 {
    ((now / 1000) as u32) & CLOCK_MASK
}

/// One key and its value.
#[derive(Debug)]
pub struct Entry {
    pub key: SBytes,
    pub value: Value,
    /// Low 24 bits: access clock (LRU seconds or LFU time+counter);
    /// bit 31: the key has a deadline in the expires table.
    meta: u32,
}

impl Keyed for Box<Entry> {
    #[inline]
    fn key(&self) -> &[u8] {
        self.key.as_bytes()
    }
}

impl Entry {
    pub fn new(key: SBytes, value: Value) -> Box<Entry> {
        Box::new(Entry {
            key,
            value,
            meta: lru_clock(),
        })
    }

    #[inline]
    pub fn has_ttl(&self) -> bool {
        self.meta & HAS_TTL != 0
    }

    #[inline]
    fn set_has_ttl(&mut self, on: bool) {
        if on {
            self.meta |= HAS_TTL;
        } else {
            self.meta &= !HAS_TTL;
        }
    }

    #[inline]
    pub fn is_early(&self) -> bool {
        self.meta & EARLY != 0
    }

    #[inline]
    pub fn set_early(&mut self, on: bool) {
        if on {
            self.meta |= EARLY;
        } else {
            self.meta &= !EARLY;
        }
    }

    #[inline]
    pub fn clock(&self) -> u32 {
        self.meta & CLOCK_MASK
    }

    #[inline]
    pub fn set_clock(&mut self, c: u32) {
        self.meta = (self.meta & !CLOCK_MASK) | (c & CLOCK_MASK);
    }

    /// Seconds since last access by the LRU clock.
    pub fn idle_secs(&self) -> u64 {
        let now = lru_clock();
        let c = self.clock();
        if now >= c {
            (now - c) as u64
        } else {
            (now + (CLOCK_MASK + 1) - c) as u64
        }
    }
}

/// A key's deadline.
#[derive(Debug)]
pub struct Deadline {
    pub key: SBytes,
    pub at: i64,
}

impl Keyed for Deadline {
    #[inline]
    fn key(&self) -> &[u8] {
        self.key.as_bytes()
    }
}

/// Whether lookups may delete expired keys (a primary) or only hide them (a replica).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ExpireMode {
    Delete,
    Hide,
    /// Expired keys stay visible (a replica applying its primary's stream).
    Keep,
}

/// A change to a key that the engine turns into notifications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyEvent {
    /// Deleted by lazy or active expiry.
    Expired(SBytes),
    /// Created (Redis `dbAdd`).
    New(SBytes),
    /// Looked up for reading and absent.
    Miss(SBytes),
}

/// One database.
pub struct Db {
    pub id: usize,
    table: Table<Box<Entry>>,
    expires: Table<Deadline>,
    expire_cursor: u64,
    /// Keys deleted by expiry since the counter was last drained.
    pub expired_count: u64,
    /// What happened to keys since the engine last drained it, in order:
    /// expiry deletions always; creations when `track_new`, read misses when
    /// `track_miss` (for keyspace notifications and WATCH).
    pub events: Vec<KeyEvent>,
    /// Record key creations in `events` (`notify-keyspace-events` has `n`).
    pub track_new: bool,
    /// Record read misses in `events` (`notify-keyspace-events` has `m`).
    pub track_miss: bool,
    /// Running estimate of the average remaining TTL (ms), as INFO keyspace's avg_ttl.
    pub avg_ttl: i64,
    /// This table's part of a running forkless snapshot: every mutation
    /// below serializes what it touches first (see
    /// [`crate::persistence::forkless`]).
    pub cut: Option<Box<DbCut>>,
    /// Tables flushed during a forkless snapshot, still to be walked.
    pub retired: Vec<Retired>,
    /// How lookups update access clocks (LRU, or LFU under an LFU policy).
    pub access: access::Access,
    /// Draws for the LFU counter's increments.
    draw: access::Draw,
}

impl Db {
    pub fn new(id: usize, seed: u64) -> Db {
        Db {
            id,
            table: Table::new(seed),
            expires: Table::new(seed ^ 0x9e37_79b9_7f4a_7c15),
            expire_cursor: 0,
            expired_count: 0,
            events: Vec::new(),
            track_new: false,
            track_miss: false,
            avg_ttl: 0,
            cut: None,
            retired: Vec::new(),
            access: access::Access::Lru,
            draw: access::Draw::new(seed ^ (id as u64).wrapping_mul(0x9e37_79b9)),
        }
    }

    /// Serialize-before-write: every method that changes the table, or
    /// hands out a `&mut` to an entry for a write, calls this first.
    #[inline]
    fn before_write(&mut self, key: &[u8]) {
        if let Some(cut) = self.cut.as_deref_mut() {
            forkless::before_write(&mut self.table, &self.expires, cut, key);
        }
    }

    /// A key just inserted during a snapshot: the walk must skip it.
    #[inline]
    fn after_insert(&mut self, key: &[u8]) {
        if let Some(cut) = self.cut.as_deref() {
            forkless::after_insert(&mut self.table, cut, key);
        }
    }

    /// Serializes `key`'s segment for a running snapshot without finishing
    /// a big value's encoding (the dispatcher's look-ahead for a write).
    pub fn precut(&mut self, key: &[u8]) {
        if let Some(cut) = self.cut.as_deref_mut() {
            forkless::precut(&mut self.table, &self.expires, cut, key);
        }
    }

    /// True while a running snapshot is encoding `key`'s big value.
    pub fn pinned(&self, key: &[u8]) -> bool {
        self.cut.as_deref().is_some_and(|c| c.pinned(key))
    }

    /// True while a running snapshot encodes a big value of this table.
    pub fn has_pins(&self) -> bool {
        self.cut.as_deref().is_some_and(|c| c.has_jobs())
    }

    /// The cut state, split from the table (the walk's pump).
    pub(crate) fn cut_parts(&mut self) -> (Option<&mut DbCut>, &mut Vec<Retired>) {
        (self.cut.as_deref_mut(), &mut self.retired)
    }

    /// One unit of the walk in this table; None when its cut is complete.
    pub(crate) fn cut_unit(&mut self, opts: &crate::persistence::rdb::SaveOptions) -> Option<u64> {
        let cut = self.cut.as_deref_mut()?;
        forkless::Forkless::unit_in(&mut self.table, &self.expires, cut, opts)
    }

    /// Continues this table's big value in the stream; true when it had one.
    pub(crate) fn cut_continue_open(
        &mut self,
        opts: &crate::persistence::rdb::SaveOptions,
    ) -> bool {
        match self.cut.as_deref_mut() {
            Some(cut) => forkless::continue_in(&self.table, cut, opts),
            None => false,
        }
    }

    /// Hands the table and its cut to the snapshot (the keyspace is being
    /// replaced as a whole), leaving this database empty.
    pub(crate) fn retire_for_cut(&mut self) -> Option<Retired> {
        let cut = self.cut.take()?;
        Some(Retired {
            table: self.table.take(),
            expires: self.expires.take(),
            cut,
        })
    }

    /// A new entry with the clock the access policy gives new keys.
    #[inline]
    fn new_entry(&self, key: SBytes, value: Value) -> Box<Entry> {
        let mut e = Entry::new(key, value);
        if self.access != access::Access::Lru {
            e.set_clock(access::new_clock(self.access));
        }
        e
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub fn expires_len(&self) -> usize {
        self.expires.len()
    }

    pub fn table(&self) -> &Table<Box<Entry>> {
        &self.table
    }

    /// Bytes of the main and expires tables' own structure (MEMORY STATS
    /// overhead.hashtable.main / .expires).
    pub fn table_overheads(&self) -> (usize, usize) {
        (self.table.overhead_bytes(), self.expires.overhead_bytes())
    }

    /// True when `key` has a deadline that has passed.
    fn is_expired(&self, e: &Entry, now: i64) -> bool {
        e.has_ttl()
            && self
                .expires
                .get(e.key.as_bytes())
                .is_some_and(|d| d.at <= now)
    }

    /// Checks `key`'s deadline; deletes it (primary) when passed. Returns true
    /// when the key must be treated as absent.
    #[inline]
    fn expire_if_needed(&mut self, key: &[u8], now: i64, mode: ExpireMode) -> bool {
        // No deadlines in this database: no key can be expired, and the
        // lookup that follows is the only one. A replica applying its
        // primary's stream sees expired keys as live.
        if mode == ExpireMode::Keep || self.expires.is_empty() {
            return false;
        }
        let expired = match self.table.get(key) {
            Some(e) => self.is_expired(e, now),
            None => return false,
        };
        if expired && mode == ExpireMode::Delete {
            if let Some(e) = self.remove(key) {
                self.expired_count += 1;
                self.events.push(KeyEvent::Expired(e.key));
            }
        }
        expired
    }

    /// The live entry for `key` (expiry applied), without touching its clock.
    pub fn peek(&mut self, key: &[u8], now: i64, mode: ExpireMode) -> Option<&mut Entry> {
        if self.expire_if_needed(key, now, mode) {
            return None;
        }
        self.before_write(key);
        self.table.get_mut(key).map(|b| &mut **b)
    }

    /// The live entry for `key`, touching its access clock.
    #[inline]
    pub fn lookup(&mut self, key: &[u8], now: i64, mode: ExpireMode) -> Option<&mut Entry> {
        if self.expire_if_needed(key, now, mode) {
            return None;
        }
        self.before_write(key);
        let (access, draw) = (self.access, &mut self.draw);
        let e = self.table.get_mut(key)?;
        e.touch(access, now, || draw.next_f64());
        Some(&mut **e)
    }

    /// [`Db::lookup`] for a read: a miss is recorded when `track_miss`.
    /// The caller must not change the value (only its access clock
    /// moves): a running forkless snapshot is not told about reads.
    #[inline]
    pub fn lookup_read(&mut self, key: &[u8], now: i64, mode: ExpireMode) -> Option<&mut Entry> {
        if self.expire_if_needed(key, now, mode) {
            if self.track_miss {
                self.events.push(KeyEvent::Miss(SBytes::new(key)));
            }
            return None;
        }
        let (access, draw) = (self.access, &mut self.draw);
        match self.table.get_mut(key) {
            Some(e) => {
                e.touch(access, now, || draw.next_f64());
                Some(&mut **e)
            }
            None => {
                if self.track_miss {
                    self.events.push(KeyEvent::Miss(SBytes::new(key)));
                }
                None
            }
        }
    }

    /// Whether `key` exists (live), without touching its clock.
    pub fn exists(&mut self, key: &[u8], now: i64, mode: ExpireMode) -> bool {
        self.peek(key, now, mode).is_some()
    }

    /// Read-only view of an entry, ignoring expiry (for snapshots and DEBUG).
    pub fn get_raw(&self, key: &[u8]) -> Option<&Entry> {
        self.table.get(key).map(|b| &**b)
    }

    /// Sets `key` to `value`. Any deadline is removed unless `keep_ttl`.
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool) {
        self.before_write(key);
        if let Some(e) = self.table.get_mut(key) {
            e.value = value;
            // An overwritten key keeps its LFU counter (Redis's dbSetValue).
            if self.access == access::Access::Lru {
                e.set_clock(lru_clock());
            }
            if !keep_ttl && e.has_ttl() {
                e.set_has_ttl(false);
                self.expires.remove(key);
            }
            return;
        }
        if self.track_new {
            self.events.push(KeyEvent::New(SBytes::new(key)));
        }
        let e = self.new_entry(SBytes::new(key), value);
        self.table.insert(e);
        self.after_insert(key);
    }

    /// Adds a key known to be absent.
    pub fn add(&mut self, key: SBytes, value: Value) {
        self.before_write(key.as_bytes());
        if self.track_new {
            self.events.push(KeyEvent::New(key.clone()));
        }
        let cut = self.cut.is_some().then(|| key.clone());
        let e = self.new_entry(key, value);
        self.table.insert(e);
        if let Some(k) = cut {
            self.after_insert(&k);
        }
    }

    /// Removes `key` and its deadline.
    pub fn remove(&mut self, key: &[u8]) -> Option<Box<Entry>> {
        self.before_write(key);
        let e = self.table.remove(key)?;
        if e.has_ttl() {
            self.expires.remove(key);
        }
        Some(e)
    }

    /// Inserts a whole entry (MOVE, RENAME, COPY), keeping its clock.
    /// Sizes an empty database for `keys` keys, `expires` with deadlines
    /// (RESIZEDB while loading).
    pub fn reserve(&mut self, keys: usize, expires: usize) {
        self.table.reserve_empty(keys);
        self.expires.reserve_empty(expires);
    }

    /// Adds a loaded key that must not exist yet; gives it back when it does.
    pub fn insert_loaded(
        &mut self,
        mut e: Box<Entry>,
        deadline: Option<i64>,
    ) -> Result<(), Box<Entry>> {
        self.before_write(e.key.as_bytes());
        e.set_has_ttl(false);
        let key = deadline.map(|_| e.key.clone());
        let cut = self.cut.is_some().then(|| e.key.clone());
        self.table.insert_new(e)?;
        if let Some(k) = cut {
            self.after_insert(&k);
        }
        if let (Some(at), Some(key)) = (deadline, key) {
            self.set_expire(key.as_bytes(), at);
        }
        Ok(())
    }

    pub fn insert_entry(&mut self, mut e: Box<Entry>, deadline: Option<i64>) {
        let key = e.key.clone();
        self.before_write(key.as_bytes());
        e.set_has_ttl(false);
        if self.track_new {
            // Redis deletes a replaced destination first: always a new key.
            self.events.push(KeyEvent::New(key.clone()));
        }
        if let Some(old) = self.table.insert(e) {
            if old.has_ttl() {
                self.expires.remove(key.as_bytes());
            }
        }
        self.after_insert(key.as_bytes());
        if let Some(at) = deadline {
            self.set_expire(key.as_bytes(), at);
        }
    }

    /// The deadline of `key` (ms), if it has one.
    pub fn expire_of(&self, key: &[u8]) -> Option<i64> {
        let e = self.table.get(key)?;
        if !e.has_ttl() {
            return None;
        }
        self.expires.get(key).map(|d| d.at)
    }

    /// Sets the deadline of an existing key; false when the key is absent.
    pub fn set_expire(&mut self, key: &[u8], at: i64) -> bool {
        self.before_write(key);
        let Some(e) = self.table.get_mut(key) else {
            return false;
        };
        e.set_has_ttl(true);
        let k = e.key.clone();
        match self.expires.get_mut(key) {
            Some(d) => d.at = at,
            None => {
                self.expires.insert(Deadline { key: k, at });
            }
        }
        true
    }

    /// Removes the deadline of `key`; true when it had one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        self.before_write(key);
        match self.table.get_mut(key) {
            Some(e) if e.has_ttl() => {
                e.set_has_ttl(false);
                self.expires.remove(key);
                true
            }
            _ => false,
        }
    }

    /// Empties the database, returning the old contents (to free elsewhere).
    pub fn clear(&mut self) -> Table<Box<Entry>> {
        let expires = self.expires.take();
        self.expire_cursor = 0;
        self.avg_ttl = 0;
        let table = self.table.take();
        match self.cut.take() {
            // A running snapshot still needs the old contents: it frees
            // them once walked. The new, empty table is not part of it.
            Some(cut) => {
                self.retired.push(Retired {
                    table,
                    expires,
                    cut,
                });
                self.table.take()
            }
            None => table,
        }
    }

    /// Swaps the contents of two databases (SWAPDB).
    pub fn swap_contents(&mut self, other: &mut Db) {
        std::mem::swap(&mut self.table, &mut other.table);
        std::mem::swap(&mut self.expires, &mut other.expires);
        std::mem::swap(&mut self.avg_ttl, &mut other.avg_ttl);
        // A snapshot's cut travels with its table.
        std::mem::swap(&mut self.cut, &mut other.cut);
        self.expire_cursor = 0;
        other.expire_cursor = 0;
    }

    /// One SCAN step over the keys.
    pub fn scan(&self, cursor: u64, count: usize, f: impl FnMut(&Box<Entry>)) -> u64 {
        self.table.scan(cursor, count, f)
    }

    /// All live keys (KEYS): expired keys are skipped, not deleted.
    pub fn for_each_live(&self, now: i64, mut f: impl FnMut(&Entry)) {
        for e in self.table.iter() {
            if !self.is_expired(e, now) {
                f(e);
            }
        }
    }

    /// A random live key, deleting (primary) expired ones met on the way.
    pub fn random_key(
        &mut self,
        now: i64,
        mode: ExpireMode,
        rng: &mut impl rand::Rng,
    ) -> Option<SBytes> {
        let all_volatile = self.table.len() == self.expires.len();
        for attempt in 0..100 {
            let key = self.table.random(rng)?.key.clone();
            if self.expire_if_needed(&key, now, mode) {
                // With every key volatile and all expired, a replica could loop forever.
                if mode == ExpireMode::Hide && all_volatile && attempt >= 99 {
                    return Some(key);
                }
                continue;
            }
            return Some(key);
        }
        None
    }

    /// One step of the active expire cycle: looks at up to `sample` keys with
    /// a deadline and deletes the expired ones. Returns (looked, expired).
    pub fn active_expire_step(&mut self, now: i64, sample: usize) -> (usize, usize) {
        if self.expires.is_empty() {
            return (0, 0);
        }
        let mut due = Vec::new();
        let mut looked = 0;
        let mut ttl_sum = 0i128;
        let mut ttl_n = 0i128;
        self.expire_cursor = self.expires.scan(self.expire_cursor, sample, |d| {
            looked += 1;
            if d.at <= now {
                due.push(d.key.clone());
            } else {
                ttl_sum += (d.at - now) as i128;
                ttl_n += 1;
            }
        });
        if ttl_n > 0 {
            let avg = (ttl_sum / ttl_n).min(i64::MAX as i128) as i64;
            self.avg_ttl = if self.avg_ttl == 0 {
                avg
            } else {
                (self.avg_ttl / 50) * 49 + avg / 50
            };
        }
        let n = due.len();
        for k in due {
            if let Some(e) = self.remove(&k) {
                self.expired_count += 1;
                self.events.push(KeyEvent::Expired(e.key));
            }
        }
        (looked, n)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.table.iter().map(|b| &**b)
    }
}

/// Every database of a server.
pub struct Keyspace {
    pub dbs: Vec<Db>,
}

impl Keyspace {
    pub fn new(databases: usize) -> Keyspace {
        let seed: u64 = rand::random();
        Keyspace {
            dbs: (0..databases).map(|i| Db::new(i, seed)).collect(),
        }
    }

    pub fn total_keys(&self) -> usize {
        self.dbs.iter().map(|d| d.len()).sum()
    }

    /// What DEBUG DIGEST answers for this keyspace (Redis's algorithm, so
    /// it can be compared with a real Redis holding the same data).
    pub fn digest(&self) -> String {
        crate::commands::keyspace_digest(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_fits_64_byte_class() {
        assert!(std::mem::size_of::<Entry>() <= 56);
    }

    #[test]
    fn expiry_hides_and_deletes() {
        let mut db = Db::new(0, 1);
        db.set(b"a", Value::string(b"1"), false);
        assert!(db.set_expire(b"a", 1000));
        assert_eq!(db.expire_of(b"a"), Some(1000));
        assert!(db.peek(b"a", 999, ExpireMode::Delete).is_some());
        assert!(db.peek(b"a", 1000, ExpireMode::Hide).is_none());
        assert_eq!(db.len(), 1);
        assert!(db.peek(b"a", 1000, ExpireMode::Delete).is_none());
        assert_eq!(db.len(), 0);
        assert_eq!(db.expires_len(), 0);
        assert_eq!(db.expired_count, 1);
    }

    #[test]
    fn set_clears_ttl_unless_kept() {
        let mut db = Db::new(0, 1);
        db.set(b"a", Value::string(b"1"), false);
        db.set_expire(b"a", i64::MAX);
        db.set(b"a", Value::string(b"2"), true);
        assert_eq!(db.expire_of(b"a"), Some(i64::MAX));
        db.set(b"a", Value::string(b"3"), false);
        assert_eq!(db.expire_of(b"a"), None);
        assert_eq!(db.expires_len(), 0);
    }

    #[test]
    fn active_expire_reclaims() {
        let mut db = Db::new(0, 1);
        for i in 0..100 {
            let k = format!("k{i}");
            db.set(k.as_bytes(), Value::string(b"v"), false);
            db.set_expire(k.as_bytes(), if i % 2 == 0 { 10 } else { i64::MAX });
        }
        let mut total = 0;
        for _ in 0..50 {
            total += db.active_expire_step(20, 20).1;
        }
        assert_eq!(total, 50);
        assert_eq!(db.len(), 50);
    }
}
