//! Eviction: holding the dataset within `maxmemory` (Redis's evict.c).
//!
//! # Overview
//!
//! Before each command (and from cron while over the limit) the engine
//! runs [`Engine::perform_evictions`]: when `used_memory`, less what is not
//! counted for eviction (replicas' output buffers), exceeds the data limit
//! (`maxmemory`, less the reserve when one was configured, see
//! [`crate::persistence::memory::Reserve`]), keys are deleted by
//! `maxmemory-policy` until the excess measured at the start has been
//! freed. The LRU, LFU and TTL policies use Redis's approximation: each
//! round samples `maxmemory-samples` keys per database into a pool of the
//! 16 best candidates kept across calls, and evicts the best live one.
//! The random policies pick a random key of the next database.
//!
//! An evicted key is deleted as a DEL would be: WATCHers fail, tracking
//! clients are told before the reply of the command that triggered it,
//! the `evicted` notification is published, and a DEL (UNLINK with
//! `lazyfree-lazy-eviction`) is propagated outside any transaction. Big
//! values are freed on the lazyfree thread.
//!
//! A round stops after `maxmemory-eviction-tenacity`'s time budget; cron
//! then continues it (Redis's evictionTimeProc), so the engine never stalls
//! on a large excess.

use std::time::{Duration, Instant};

use super::client::{Client, ClientKind};
use super::tracking::Deliver;
use super::Engine;
use crate::config::{notify, MaxmemoryPolicy};
use crate::keyspace::access::{Candidates, Rank};
use crate::persistence::memory::{self, Reserve};

/// Entries of the eviction pool (Redis's EVPOOL_SIZE).
const POOL_SIZE: usize = 16;

/// What [`Engine::perform_evictions`] achieved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvictResult {
    /// Within the limit, or eviction is not allowed now.
    Ok,
    /// Over the limit; cron keeps evicting.
    Running,
    /// Over the limit with nothing left to evict: DENYOOM commands fail.
    Fail,
}

#[derive(Default, Clone)]
struct PoolEntry {
    score: u64,
    /// Reused between entries to spare allocations.
    key: Vec<u8>,
    db: usize,
    used: bool,
}

/// Eviction state kept across calls.
pub struct Evictor {
    /// Best candidates, ascending by score (the best on the right).
    pool: Vec<PoolEntry>,
    /// Next database for the random policies.
    next_db: usize,
    /// An eviction round ran out of time: cron continues it.
    pub running: bool,
    /// Since when memory has been over the limit (INFO
    /// current_eviction_exceeded_time).
    exceeded_since: Option<Instant>,
    /// Time spent over the limit before the current stretch (INFO
    /// total_eviction_exceeded_time).
    pub exceeded_total: Duration,
    /// Memory the running snapshot costs beyond the dataset (its buffers,
    /// a fork's copy-on-write); the snapshot code keeps it current.
    pub snapshot_overhead: u64,
    /// Evicted clients whose connection has not ended yet, with the bytes
    /// it will free: key eviction does not count them.
    closing: Vec<(u64, u64)>,
}

impl Default for Evictor {
    fn default() -> Self {
        Evictor {
            pool: vec![PoolEntry::default(); POOL_SIZE],
            next_db: 0,
            running: false,
            exceeded_since: None,
            exceeded_total: Duration::ZERO,
            snapshot_overhead: 0,
            closing: Vec::new(),
        }
    }
}

impl Evictor {
    /// INFO current_eviction_exceeded_time (ms).
    pub fn current_exceeded_ms(&self) -> u64 {
        self.exceeded_since
            .map_or(0, |t| t.elapsed().as_millis() as u64)
    }

    /// INFO total_eviction_exceeded_time (ms), the current stretch included.
    pub fn total_exceeded_ms(&self) -> u64 {
        self.exceeded_total.as_millis() as u64 + self.current_exceeded_ms()
    }

    /// A client's connection ended: its buffers are freed.
    pub fn client_closed(&mut self, id: u64) {
        if !self.closing.is_empty() {
            self.closing.retain(|&(c, _)| c != id);
        }
    }

    fn closing_bytes(&self) -> u64 {
        self.closing.iter().map(|&(_, b)| b).sum()
    }

    fn note(&mut self, result: EvictResult) {
        match result {
            EvictResult::Ok => {
                if let Some(t) = self.exceeded_since.take() {
                    self.exceeded_total += t.elapsed();
                }
            }
            _ => {
                self.exceeded_since.get_or_insert_with(Instant::now);
            }
        }
    }

    /// Inserts a sampled key (Redis's evictionPoolPopulate insertion):
    /// kept in ascending score order; when full, a key worse than every
    /// entry is dropped, else the worst entry makes room.
    fn insert(&mut self, db: usize, key: &[u8], score: u64) {
        let pool = &mut self.pool;
        let mut k = 0;
        while k < POOL_SIZE && pool[k].used && pool[k].score < score {
            k += 1;
        }
        if k == 0 && pool[POOL_SIZE - 1].used {
            return;
        }
        if k < POOL_SIZE && !pool[k].used {
            // An empty slot.
        } else if !pool[POOL_SIZE - 1].used {
            // Room on the right: shift k.. right (the unused last slot
            // comes to k).
            pool[k..].rotate_right(1);
        } else {
            // Full: drop the worst (leftmost), shifting ..k left.
            k -= 1;
            pool[..=k].rotate_left(1);
        }
        let e = &mut pool[k];
        e.key.clear();
        e.key.extend_from_slice(key);
        e.score = score;
        e.db = db;
        e.used = true;
    }
}

/// `maxmemory-eviction-tenacity` as a time budget per round (Redis's
/// evictionTimeLimitUs): linear to 500 µs at 10, then 15% more per step,
/// unlimited at 100.
pub fn time_limit(tenacity: u32) -> Option<Duration> {
    match tenacity {
        0..=10 => Some(Duration::from_micros(50 * u64::from(tenacity))),
        11..=99 => Some(Duration::from_micros(
            (500.0 * 1.15f64.powi(tenacity as i32 - 10)) as u64,
        )),
        _ => None,
    }
}

/// The memory figures the reserve adds to INFO and the snapshot code uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryBudget {
    pub reserve: Reserve,
    /// The limit eviction enforces (0: none).
    pub data_limit: u64,
    /// The reserve less what the running snapshot already costs: what a
    /// snapshot may still spend.
    pub headroom: u64,
}

/// Bytes a client's buffers take, as Redis's getClientMemoryUsage counts
/// them: the query buffer, the reply buffers (those the connection task
/// holds included) and the client itself.
pub fn client_memory(c: &Client) -> u64 {
    (std::mem::size_of::<Client>() + c.qbuf + c.qbuf_free + c.out.capacity() + c.out_alloc) as u64
}

impl Engine {
    /// The reserve, the data limit and the snapshot headroom.
    pub fn memory_budget(&self) -> MemoryBudget {
        let reserve = Reserve::compute(&self.config, memory::machine_memory);
        MemoryBudget {
            reserve,
            data_limit: reserve.data_limit(self.config.maxmemory),
            headroom: reserve.bytes.saturating_sub(self.evict.snapshot_overhead),
        }
    }

    /// The limit eviction enforces: 0 without `maxmemory`.
    #[inline]
    pub fn data_limit(&self) -> u64 {
        if self.config.maxmemory == 0 {
            return 0;
        }
        // maxmemory > 0: the machine's memory is never read.
        Reserve::compute(&self.config, || 0).data_limit(self.config.maxmemory)
    }

    /// Client buffers (normal, replicas) in bytes (INFO mem_clients_*). The
    /// running client, out of the map, is added by the caller.
    pub fn clients_memory(&self) -> (u64, u64) {
        let (mut normal, mut replicas) = (0, 0);
        for c in self.clients.values() {
            if c.kind == ClientKind::Replica {
                replicas += client_memory(c);
            } else {
                normal += client_memory(c);
            }
        }
        (normal, replicas)
    }

    /// Memory eviction does not count (Redis's
    /// freeMemoryGetNotCountedMemory): the replicas' output buffers and the
    /// AOF buffer, which the DELs of evicted keys would otherwise grow into
    /// a feedback loop.
    pub fn mem_not_counted_for_evict(&self) -> u64 {
        let replicas: u64 = self
            .repl
            .replicas
            .iter()
            .filter_map(|id| self.clients.get(id))
            .map(|c| (c.out.capacity() + c.out_alloc) as u64)
            .sum();
        replicas + self.aof_buffer_memory()
    }

    /// The AOF buffer's allocation (INFO mem_aof_buffer), 0 with the AOF off.
    pub fn aof_buffer_memory(&self) -> u64 {
        if self.aof.state == crate::persistence::aof::State::Off {
            0
        } else {
            memory::size_class(self.aof.buf.capacity()) as u64
        }
    }

    /// Output queued for other clients during this engine turn and not yet
    /// handed to their connections: Redis writes such replies before it
    /// reads the next command (beforeSleep), so they never weigh on its
    /// eviction; here the connection tasks may not have run yet.
    fn queued_output(&self) -> u64 {
        self.clients
            .values()
            .filter(|c| c.kind != ClientKind::Replica && !c.out.is_empty())
            .map(|c| c.out.capacity() as u64)
            .sum()
    }

    /// Bytes to free to be within the data limit; 0 when within it.
    fn memory_to_free(&self, limit: u64) -> u64 {
        let used = memory::used();
        if limit == 0 || used <= limit {
            return 0;
        }
        used.saturating_sub(self.mem_not_counted_for_evict())
            .saturating_sub(self.queued_output())
            .saturating_sub(self.evict.closing_bytes())
            .saturating_sub(limit)
    }

    /// True when used memory (less what is not counted) is over the limit.
    pub fn over_maxmemory(&self) -> bool {
        self.memory_to_free(self.data_limit()) > 0
    }

    /// Eviction may not run: while loading, on a replica that ignores
    /// maxmemory (it waits for its primary's DELs), during CLIENT PAUSE.
    fn eviction_allowed(&self) -> bool {
        let replica_waits = self.is_replica() && self.config.replica_ignore_maxmemory;
        !(self.loading || replica_waits || self.paused())
    }

    /// Evicts keys until memory is within the data limit or the round's
    /// time budget is spent (Redis's performEvictions). `cur` is the client
    /// whose command is about to run: its invalidations arrive before
    /// its reply.
    pub fn perform_evictions(&mut self, mut cur: Option<&mut Client>) -> EvictResult {
        if !self.eviction_allowed() {
            return EvictResult::Ok;
        }
        let tofree = self.memory_to_free(self.data_limit());
        if tofree == 0 {
            self.evict.running = false;
            self.evict.note(EvictResult::Ok);
            return EvictResult::Ok;
        }
        let policy = self.config.maxmemory_policy;
        if policy == MaxmemoryPolicy::NoEviction {
            self.evict.running = false;
            self.evict.note(EvictResult::Fail);
            return EvictResult::Fail;
        }
        let budget = time_limit(self.config.maxmemory_eviction_tenacity);
        let lazy = self.config.lazyfree_lazy_eviction;
        let start = Instant::now();
        let mut freed: i64 = 0;
        let mut keys = 0u64;
        let mut result = EvictResult::Ok;
        self.evict.running = false;
        while freed < tofree as i64 {
            let Some((dbi, key)) = self.pick_victim(policy) else {
                result = EvictResult::Fail;
                break;
            };
            freed += self.evict_key(cur.as_deref_mut(), dbi, &key, lazy);
            keys += 1;
            if keys.is_multiple_of(16) {
                // Lazily freed memory returns on its own: look again.
                if lazy && !self.over_maxmemory() {
                    break;
                }
                if budget.is_some_and(|b| start.elapsed() > b) {
                    self.evict.running = true;
                    result = EvictResult::Running;
                    break;
                }
            }
        }
        if result == EvictResult::Fail {
            // The lazyfree thread may still be returning memory: wait for
            // it within the budget (Redis waits on its bio jobs likewise).
            let wait = budget.unwrap_or(Duration::from_millis(1));
            while super::lazyfree_pending() > 0 && start.elapsed() < wait {
                if !self.over_maxmemory() {
                    result = EvictResult::Ok;
                    break;
                }
                std::thread::sleep(Duration::from_micros(100));
            }
        }
        // Outside a command the DELs go out now, each on its own.
        self.propagate_pending(false);
        let ms = start.elapsed().as_millis() as u64;
        self.latency_sample("eviction-cycle", ms);
        self.evict.note(result);
        result
    }

    /// The next key to evict under `policy`, or None when there is none.
    fn pick_victim(&mut self, policy: MaxmemoryPolicy) -> Option<(usize, Vec<u8>)> {
        use MaxmemoryPolicy as P;
        let candidates = if policy.is_volatile() {
            Candidates::Volatile
        } else {
            Candidates::AllKeys
        };
        let rank = match policy {
            P::AllkeysLru | P::VolatileLru => Rank::Lru,
            P::AllkeysLfu | P::VolatileLfu => Rank::Lfu {
                decay_time: self.config.lfu_decay_time,
            },
            P::VolatileTtl => Rank::Ttl,
            P::AllkeysRandom | P::VolatileRandom => {
                let n = self.ks.dbs.len();
                for _ in 0..n {
                    self.evict.next_db = (self.evict.next_db + 1) % n;
                    let db = &self.ks.dbs[self.evict.next_db];
                    if db.candidate_count(candidates) > 0 {
                        let key = db.random_candidate(candidates, &mut self.rng)?;
                        return Some((self.evict.next_db, key.as_bytes().to_vec()));
                    }
                }
                return None;
            }
            P::NoEviction => return None,
        };
        let samples = self.config.maxmemory_samples.max(1) as usize;
        // Each round refills the pool from every database; a round whose
        // entries all turned out deleted (ghosts) is followed by another.
        for _ in 0..64 {
            let mut total = 0;
            for (i, db) in self.ks.dbs.iter().enumerate() {
                if db.candidate_count(candidates) == 0 {
                    continue;
                }
                total += 1;
                let pool = &mut self.evict;
                db.eviction_sample(candidates, rank, samples, &mut self.rng, |key, score| {
                    pool.insert(i, key, score);
                });
            }
            if total == 0 {
                return None;
            }
            for k in (0..POOL_SIZE).rev() {
                let e = &mut self.evict.pool[k];
                if !e.used {
                    continue;
                }
                e.used = false;
                let db = e.db;
                if self.ks.dbs[db].is_candidate(&e.key, candidates) {
                    return Some((db, e.key.clone()));
                }
            }
        }
        None
    }

    /// Deletes one evicted key with everything a deletion entails; returns
    /// the bytes it freed.
    fn evict_key(
        &mut self,
        mut cur: Option<&mut Client>,
        dbi: usize,
        key: &[u8],
        lazy: bool,
    ) -> i64 {
        let before = memory::used() as i64;
        let del_start = Instant::now();
        let Some(entry) = self.ks.dbs[dbi].remove(key) else {
            return 0;
        };
        let effort = entry.value.free_effort();
        // What the lazyfree thread will return, counted now as Redis counts
        // its own lazily freed objects at the next check.
        let offloaded = if lazy || effort > 64 {
            crate::commands::entry_memory(&entry) as i64
        } else {
            0
        };
        self.free_later(entry, if lazy { effort.max(65) } else { effort });
        let freed = (before - memory::used() as i64).max(offloaded);
        self.latency_sample("eviction-del", del_start.elapsed().as_millis() as u64);
        self.stats.evicted_keys += 1;
        // Redis's signalModifiedKey: WATCHers fail, tracking clients hear
        // of it before the reply of the command about to run.
        self.expired_unwatch(cur.as_deref_mut(), dbi, key);
        if self.tracking.clients != 0 {
            self.tracking_invalidate(cur.as_deref_mut(), None, key, true, Deliver::Now);
        }
        self.notify(cur, notify::EVICTED, "evicted", dbi, key);
        self.propagate_deletion(dbi, key, lazy);
        freed
    }

    /// `maxmemory-clients` in bytes (a negative setting is a percentage of
    /// `maxmemory`); 0 when client eviction is off.
    pub fn client_memory_limit(&self) -> u64 {
        let v = self.config.maxmemory_clients;
        if v >= 0 {
            v as u64
        } else {
            (self.config.maxmemory as u128 * u128::from(v.unsigned_abs()) / 100) as u64
        }
    }

    /// Closes the clients with the biggest buffers while the evictable
    /// clients together use more than `maxmemory-clients` (Redis's
    /// evictClients). Replicas, the primary, `CLIENT NO-EVICT` clients and
    /// the running client `cur` are never evicted.
    pub fn evict_clients(&mut self, cur: Option<&Client>) {
        let limit = self.client_memory_limit();
        // Clients cannot use more than the whole process: most calls end
        // here without visiting every client.
        if limit == 0 || memory::used() <= limit {
            return;
        }
        let evictable = |c: &Client| {
            c.kind != ClientKind::Replica
                && c.kind != ClientKind::Primary
                && !c.no_evict
                && c.fd >= 0
        };
        let mut total: u64 = cur.filter(|c| evictable(c)).map_or(0, client_memory);
        let mut sizes: Vec<(u64, u64)> = Vec::new();
        for c in self.clients.values() {
            if evictable(c) {
                let m = client_memory(c);
                total += m;
                sizes.push((m, c.id));
            }
        }
        if total <= limit {
            return;
        }
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        for (m, id) in sizes {
            if total <= limit {
                break;
            }
            if let Some(mut victim) = self.clients.remove(&id) {
                tracing::debug!("evicting client {} using {m} bytes", victim.addr);
                victim.close_asap = true;
                victim.wake.notify_one();
                self.client_gone(&mut victim);
                self.evict.closing.push((id, m));
                self.stats.evicted_clients += 1;
                total -= m;
            }
        }
    }

    /// Brings the databases' access clocks in line with the policy and the
    /// LFU parameters (after startup and CONFIG SET).
    pub fn sync_access_policy(&mut self) {
        use crate::keyspace::access::Access;
        let access = if self.config.maxmemory_policy.is_lfu() {
            Access::Lfu {
                log_factor: self.config.lfu_log_factor,
                decay_time: self.config.lfu_decay_time,
            }
        } else {
            Access::Lru
        };
        for db in &mut self.ks.dbs {
            db.access = access;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(ev: &Evictor) -> Vec<(u64, String)> {
        ev.pool
            .iter()
            .filter(|e| e.used)
            .map(|e| (e.score, String::from_utf8_lossy(&e.key).into_owned()))
            .collect()
    }

    #[test]
    fn pool_keeps_the_best_sixteen_in_order() {
        let mut ev = Evictor::default();
        for s in [5u64, 1, 9, 3] {
            ev.insert(0, format!("k{s}").as_bytes(), s);
        }
        assert_eq!(
            keys(&ev),
            vec![
                (1, "k1".into()),
                (3, "k3".into()),
                (5, "k5".into()),
                (9, "k9".into())
            ]
        );
        for s in 10..30u64 {
            ev.insert(0, format!("k{s}").as_bytes(), s);
        }
        let got = keys(&ev);
        assert_eq!(got.len(), POOL_SIZE);
        assert_eq!(got.first().map(|e| e.0), Some(14));
        assert_eq!(got.last().map(|e| e.0), Some(29));
        // Worse than everything in a full pool: not taken.
        ev.insert(0, b"low", 0);
        assert!(!keys(&ev).iter().any(|e| e.1 == "low"));
        // Better than the worst: the worst leaves.
        ev.insert(0, b"mid", 20);
        let got = keys(&ev);
        assert_eq!(got.first().map(|e| e.0), Some(15));
        assert!(got.iter().any(|e| e.1 == "mid"));
    }

    #[test]
    fn tenacity_budgets() {
        assert_eq!(time_limit(0), Some(Duration::ZERO));
        assert_eq!(time_limit(10), Some(Duration::from_micros(500)));
        assert_eq!(time_limit(11), Some(Duration::from_micros(575)));
        assert_eq!(time_limit(100), None);
    }
}
