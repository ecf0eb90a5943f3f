//! Keys' access clocks: LRU idle time or LFU frequency, in the 24 bits
//! each [`Entry`](super::Entry) keeps for it (Redis's `robj.lru`).
//!
//! Under an LRU policy (and noeviction, random, ttl) the clock is the LRU
//! clock in seconds at the last access. Under an LFU policy it is split as
//! Redis splits it: the high 16 bits hold the minute of the last decrement,
//! the low 8 bits a logarithmic access counter that starts at
//! [`LFU_INIT_VAL`], grows with probability `1 / ((c - 5) * lfu-log-factor
//! + 1)` on each access, and loses one per `lfu-decay-time` minutes idle.

use super::{now_ms, Entry, SBytes};

/// The counter of a new key, so that it survives a few evictions before
/// its accesses are known.
pub const LFU_INIT_VAL: u8 = 5;

/// How lookups update the clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Access {
    /// Seconds of the last access.
    #[default]
    Lru,
    /// Frequency counter and decrement time.
    Lfu {
        /// `lfu-log-factor`.
        log_factor: u32,
        /// `lfu-decay-time` (minutes; 0 never decays).
        decay_time: u32,
    },
}

/// The LFU time field: minutes, 16 bits (Redis's LFUGetTimeInMinutes).
#[inline]
pub fn lfu_minutes() -> u32 {
    lfu_minutes_at(now_ms())
}

/// The LFU minute clock at `now` (ms since the epoch).
#[inline]
pub fn lfu_minutes_at(now: i64) -> u32 {
    ((now / 60_000) & 0xFFFF) as u32
}

/// The clock of a key created now.
#[inline]
pub fn new_clock(access: Access) -> u32 {
    match access {
        Access::Lru => super::lru_clock(),
        Access::Lfu { .. } => (lfu_minutes() << 8) | u32::from(LFU_INIT_VAL),
    }
}

/// Minutes since `ldt`, counting one wrap of the 16-bit minute clock.
fn minutes_since(ldt: u32, now: u32) -> u32 {
    if now >= ldt {
        now - ldt
    } else {
        65535 - ldt + now
    }
}

/// The LFU counter of `clock` after decay to now (Redis's
/// LFUDecrAndReturn), without storing it.
#[inline]
pub fn lfu_counter(clock: u32, decay_time: u32) -> u8 {
    lfu_counter_at(clock, decay_time, lfu_minutes())
}

fn lfu_counter_at(clock: u32, decay_time: u32, now_minutes: u32) -> u8 {
    let counter = (clock & 0xFF) as u8;
    if decay_time == 0 {
        return counter;
    }
    let periods = minutes_since(clock >> 8, now_minutes) / decay_time;
    counter.saturating_sub(periods.min(255) as u8)
}

/// One logarithmic increment of `counter`, `r` a uniform draw in [0, 1).
#[inline]
pub fn lfu_log_incr(counter: u8, log_factor: u32, r: f64) -> u8 {
    if counter == 255 {
        return 255;
    }
    let base = f64::from(counter.saturating_sub(LFU_INIT_VAL));
    let p = 1.0 / (base * f64::from(log_factor) + 1.0);
    if r < p {
        counter + 1
    } else {
        counter
    }
}

impl Entry {
    /// Records an access under `access` (Redis's updateLFU or LRU touch);
    /// `r` is a uniform draw in [0, 1) for the LFU increment.
    #[inline]
    /// `now_ms` is the command's clock reading (no extra clock read).
    pub fn touch(&mut self, access: Access, now_ms: i64, r: impl FnOnce() -> f64) {
        match access {
            Access::Lru => self.set_clock(super::lru_clock_at(now_ms)),
            Access::Lfu {
                log_factor,
                decay_time,
            } => {
                let now = lfu_minutes_at(now_ms);
                let c = lfu_counter_at(self.clock(), decay_time, now);
                let c = lfu_log_incr(c, log_factor, r());
                self.set_clock((now << 8) | u32::from(c));
            }
        }
    }

    /// The key's decayed LFU counter (OBJECT FREQ).
    pub fn lfu_freq(&self, decay_time: u32) -> u8 {
        lfu_counter(self.clock(), decay_time)
    }
}

/// A small fast generator for LFU draws (xorshift64*), so that an access
/// costs no thread-local lookup.
#[derive(Clone, Debug)]
pub struct Draw(u64);

impl Draw {
    pub fn new(seed: u64) -> Draw {
        Draw(seed | 1)
    }

    /// A uniform draw in [0, 1).
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn increments_get_rarer() {
        assert_eq!(lfu_log_incr(5, 10, 0.99), 6);
        assert_eq!(lfu_log_incr(255, 10, 0.0), 255);
        // At 15 with factor 10 the chance is 1/101.
        assert_eq!(lfu_log_incr(15, 10, 0.0098), 16);
        assert_eq!(lfu_log_incr(15, 10, 0.0100), 15);
        // Factor 0: every access counts.
        assert_eq!(lfu_log_incr(200, 0, 0.999), 201);
    }

    #[test]
    fn counters_decay_per_period() {
        let clock = (100 << 8) | 20;
        assert_eq!(lfu_counter_at(clock, 1, 100), 20);
        assert_eq!(lfu_counter_at(clock, 1, 107), 13);
        assert_eq!(lfu_counter_at(clock, 2, 107), 17);
        assert_eq!(lfu_counter_at(clock, 1, 1000), 0);
        assert_eq!(lfu_counter_at(clock, 0, 1000), 20);
        // The minute clock wrapped once.
        assert_eq!(lfu_counter_at((65530 << 8) | 20, 1, 4), 11);
    }

    #[test]
    fn draws_are_uniform_enough() {
        let mut d = Draw::new(7);
        let n = 10_000;
        let below_half = (0..n).filter(|_| d.next_f64() < 0.5).count();
        assert!((4500..5500).contains(&below_half), "{below_half}");
    }
}

/// What eviction ranks candidates by (a higher score is evicted first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rank {
    /// Idle milliseconds.
    Lru,
    /// 255 minus the decayed LFU counter.
    Lfu { decay_time: u32 },
    /// The nearer the deadline the higher.
    Ttl,
}

/// The keys eviction may choose from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Candidates {
    AllKeys,
    /// Keys with a deadline.
    Volatile,
}

impl super::Db {
    /// Keys that `candidates` allows.
    pub fn candidate_count(&self, candidates: Candidates) -> usize {
        match candidates {
            Candidates::AllKeys => self.table.len(),
            Candidates::Volatile => self.expires.len(),
        }
    }

    /// Samples up to `n` candidates (Redis's evictionPoolPopulate
    /// sampling) and calls `f(key, score)` for each.
    pub fn eviction_sample(
        &self,
        candidates: Candidates,
        rank: Rank,
        n: usize,
        rng: &mut impl rand::Rng,
        mut f: impl FnMut(&[u8], u64),
    ) {
        let score = |e: &Entry| match rank {
            Rank::Lru => e.idle_secs() * 1000,
            Rank::Lfu { decay_time } => 255 - u64::from(e.lfu_freq(decay_time)),
            Rank::Ttl => 0,
        };
        match candidates {
            Candidates::AllKeys => self.table.sample(rng, n, |e| f(e.key.as_bytes(), score(e))),
            Candidates::Volatile => self.expires.sample(rng, n, |d| {
                if rank == Rank::Ttl {
                    f(d.key.as_bytes(), u64::MAX - d.at.max(0) as u64);
                } else if let Some(e) = self.table.get(d.key.as_bytes()) {
                    f(d.key.as_bytes(), score(e));
                }
            }),
        }
    }

    /// A random candidate (the random policies).
    pub fn random_candidate(
        &self,
        candidates: Candidates,
        rng: &mut impl rand::Rng,
    ) -> Option<SBytes> {
        match candidates {
            Candidates::AllKeys => self.table.random(rng).map(|e| e.key.clone()),
            Candidates::Volatile => self.expires.random(rng).map(|d| d.key.clone()),
        }
    }

    /// Whether `key` is still a candidate (a pool entry may be a ghost).
    pub fn is_candidate(&self, key: &[u8], candidates: Candidates) -> bool {
        self.table
            .get(key)
            .is_some_and(|e| candidates == Candidates::AllKeys || e.has_ttl())
    }
}
