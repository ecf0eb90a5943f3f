//! The memory accountant: what the process uses, and how much of it the
//! dataset may use.
//!
//! # Overview
//!
//! `used_memory` is counted as Redis's zmalloc counts it: the global
//! allocator ([`Counting`], jemalloc underneath when the `jemalloc`
//! feature is on) adds every allocation's size class to one atomic counter
//! and subtracts it on free, so [`used`] is exact and costs one load. The
//! allocator's own statistics ([`allocated`], [`active`], [`resident`]) and
//! the process's RSS feed INFO's fragmentation figures.
//!
//! # Reserved memory
//!
//! ElastiCache's `reserved-memory` / `reserved-memory-percent` set aside
//! memory for snapshot overhead (a fork's copy-on-write, a forkless save's
//! buffers). [`Reserve::compute`] turns the configuration into bytes: the
//! reserve is `reserved-memory` when set, else the percentage of
//! `maxmemory`, or of the machine's (or cgroup's) memory when `maxmemory`
//! is 0. It lowers the limit eviction enforces only when the user chose a
//! reserve explicitly (see [`Reserve::data_limit`]), so a plain Redis
//! configuration keeps Redis's meaning of `maxmemory`.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::config::Config;

#[cfg(not(feature = "jemalloc"))]
use std::alloc::System as Inner;
#[cfg(feature = "jemalloc")]
use tikv_jemallocator::Jemalloc as Inner;

/// Bytes allocated through [`Counting`] and not freed, by size class.
static USED: AtomicUsize = AtomicUsize::new(0);

/// The global allocator: the platform's (jemalloc) plus a counter of
/// allocated bytes, as Redis's zmalloc keeps `used_memory`.
pub struct Counting;

/// What an allocation of `layout` really takes: jemalloc's size class of
/// its size (alignments above 16 round up to the alignment first).
#[inline]
fn charged(layout: Layout) -> usize {
    size_class(layout.size().max(layout.align()))
}

// SAFETY: every method forwards to the inner allocator with the caller's
// arguments unchanged, so the inner allocator's guarantees hold; the
// counter is only bookkeeping (relaxed: no memory is published through it).
unsafe impl GlobalAlloc for Counting {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout (non-zero size per the
        // GlobalAlloc contract).
        let p = unsafe { Inner.alloc(layout) };
        if !p.is_null() {
            USED.fetch_add(charged(layout), Ordering::Relaxed);
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        let p = unsafe { Inner.alloc_zeroed(layout) };
        if !p.is_null() {
            USED.fetch_add(charged(layout), Ordering::Relaxed);
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        USED.fetch_sub(charged(layout), Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by this allocator (hence by `Inner`)
        // with `layout`, per the caller's contract.
        unsafe { Inner.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller guarantees `ptr` came from
        // this allocator with `layout` and that `new_size` is valid.
        let p = unsafe { Inner.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            let new = size_class(new_size.max(layout.align()));
            let old = charged(layout);
            if new >= old {
                USED.fetch_add(new - old, Ordering::Relaxed);
            } else {
                USED.fetch_sub(old - new, Ordering::Relaxed);
            }
        }
        p
    }
}

/// `used_memory`: bytes allocated and not freed, counted in size classes.
#[inline]
pub fn used() -> u64 {
    USED.load(Ordering::Relaxed) as u64
}

/// The allocation size jemalloc uses for a request of `n` bytes (its size
/// classes: 8, multiples of 16 up to 128, then four classes per doubling).
#[inline]
pub fn size_class(n: usize) -> usize {
    match n {
        0 => 0,
        1..=8 => 8,
        9..=128 => n.div_ceil(16) * 16,
        _ => {
            let spacing = n.next_power_of_two() / 8;
            n.div_ceil(spacing) * spacing
        }
    }
}

/// Bytes the program has allocated and not freed, by the allocator's count.
pub fn allocated() -> u64 {
    #[cfg(feature = "jemalloc")]
    {
        let _ = tikv_jemalloc_ctl::epoch::advance();
        tikv_jemalloc_ctl::stats::allocated::read().unwrap_or(0) as u64
    }
    #[cfg(not(feature = "jemalloc"))]
    {
        used()
    }
}

/// Bytes in active pages (allocator view of what is really used).
pub fn active() -> u64 {
    #[cfg(feature = "jemalloc")]
    {
        let _ = tikv_jemalloc_ctl::epoch::advance();
        tikv_jemalloc_ctl::stats::active::read().unwrap_or(0) as u64
    }
    #[cfg(not(feature = "jemalloc"))]
    {
        used()
    }
}

/// Bytes the allocator holds from the OS.
pub fn resident() -> u64 {
    #[cfg(feature = "jemalloc")]
    {
        let _ = tikv_jemalloc_ctl::epoch::advance();
        tikv_jemalloc_ctl::stats::resident::read().unwrap_or(0) as u64
    }
    #[cfg(not(feature = "jemalloc"))]
    {
        rss()
    }
}

/// The process's resident set size from /proc (0 where unavailable).
pub fn rss() -> u64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = s
        .split_whitespace()
        .nth(1)
        .and_then(|x| x.parse().ok())
        .unwrap_or(0);
    pages * page_size()
}

pub fn page_size() -> u64 {
    match nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE) {
        Ok(Some(p)) if p > 0 => p as u64,
        _ => 4096,
    }
}

/// Total memory of the machine (or 0).
pub fn total_system_memory() -> u64 {
    let Ok(s) = std::fs::read_to_string("/proc/meminfo") else {
        return 0;
    };
    parse_meminfo_total(&s)
}

fn parse_meminfo_total(s: &str) -> u64 {
    s.lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// The memory limit of this process's cgroup (v2 `memory.max`, else v1
/// `memory.limit_in_bytes`), None when unlimited or unknown.
pub fn cgroup_memory_limit() -> Option<u64> {
    let v2 = std::fs::read_to_string("/sys/fs/cgroup/memory.max").ok();
    let v1 = || std::fs::read_to_string("/sys/fs/cgroup/memory/memory.limit_in_bytes").ok();
    parse_cgroup_limit(v2.or_else(v1)?.trim())
}

fn parse_cgroup_limit(s: &str) -> Option<u64> {
    // v1 reports "no limit" as a huge page-aligned number.
    s.parse::<u64>().ok().filter(|&n| n > 0 && n < (1 << 62))
}

/// The memory this server may count on: its cgroup's limit when it has
/// one below the machine's memory, else the machine's memory.
pub fn machine_memory() -> u64 {
    let total = total_system_memory();
    match cgroup_memory_limit() {
        Some(c) if total == 0 || c < total => c,
        _ => total,
    }
}

/// Where the reserve comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReserveSource {
    /// `reserved-memory` bytes.
    Bytes,
    /// `reserved-memory-percent` of the base.
    Percent,
}

/// The reserve as the configuration defines it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reserve {
    /// Reserved bytes.
    pub bytes: u64,
    /// What the percentage applies to: `maxmemory`, or the machine's (or
    /// cgroup's) memory when `maxmemory` is 0.
    pub base: u64,
    pub source: ReserveSource,
    /// The reserve lowers the data limit: the user set `reserved-memory`
    /// or `reserved-memory-percent` explicitly.
    pub applied: bool,
}

impl Reserve {
    /// The reserve for `config`; `machine` is called for the base only
    /// when `maxmemory` is 0.
    pub fn compute(config: &Config, machine: impl FnOnce() -> u64) -> Reserve {
        let base = if config.maxmemory > 0 {
            config.maxmemory
        } else {
            machine()
        };
        let explicit = config.reserved_memory_set || config.reserved_memory_percent_set;
        if config.reserved_memory > 0
            || (config.reserved_memory_set && !config.reserved_memory_percent_set)
        {
            return Reserve {
                bytes: config.reserved_memory,
                base,
                source: ReserveSource::Bytes,
                applied: explicit,
            };
        }
        let pct = u64::from(config.reserved_memory_percent.min(100));
        Reserve {
            bytes: (base as u128 * pct as u128 / 100) as u64,
            base,
            source: ReserveSource::Percent,
            applied: explicit,
        }
    }

    /// The effective percentage of the base the reserve is.
    pub fn percent(&self) -> f64 {
        if self.base == 0 {
            0.0
        } else {
            self.bytes as f64 * 100.0 / self.base as f64
        }
    }

    /// The limit eviction holds the dataset to for `maxmemory`: 0 when
    /// there is none (`maxmemory` 0), `maxmemory` minus the reserve when the
    /// reserve applies (at least 1 byte), else `maxmemory` itself.
    pub fn data_limit(&self, maxmemory: u64) -> u64 {
        if maxmemory == 0 {
            0
        } else if self.applied {
            maxmemory.saturating_sub(self.bytes).max(1)
        } else {
            maxmemory
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(maxmemory: u64) -> Config {
        let mut c = Config::default();
        c.maxmemory = maxmemory;
        c
    }

    #[test]
    fn size_classes_follow_jemalloc() {
        let cases = [
            (1, 8),
            (8, 8),
            (9, 16),
            (100, 112),
            (128, 128),
            (129, 160),
            (200, 224),
            (257, 320),
            (4097, 5120),
        ];
        for (n, class) in cases {
            assert_eq!(size_class(n), class, "size {n}");
        }
    }

    #[test]
    fn counter_follows_allocations() {
        // Other test threads allocate too: measure a big, distinctive block.
        let before = used();
        let v: Vec<u8> = Vec::with_capacity(64 << 20);
        let during = used();
        drop(v);
        assert!(during >= before + (60 << 20), "{before} -> {during}");
    }

    #[test]
    fn default_reserve_is_reported_not_applied() {
        let r = Reserve::compute(&cfg(1000), || unreachable!());
        assert_eq!(r.bytes, 250);
        assert!(!r.applied);
        assert_eq!(r.data_limit(1000), 1000);
        assert_eq!(r.percent(), 25.0);
    }

    #[test]
    fn explicit_reserve_lowers_the_limit() {
        let mut c = cfg(1000);
        c.reserved_memory_percent = 10;
        c.reserved_memory_percent_set = true;
        let r = Reserve::compute(&c, || 0);
        assert_eq!((r.bytes, r.applied, r.data_limit(1000)), (100, true, 900));
        c.reserved_memory = 300;
        c.reserved_memory_set = true;
        let r = Reserve::compute(&c, || 0);
        assert_eq!(
            (r.bytes, r.source, r.data_limit(1000)),
            (300, ReserveSource::Bytes, 700)
        );
        // An explicit `reserved-memory 0` alone means no reserve.
        let mut c = cfg(1000);
        c.reserved_memory_set = true;
        let r = Reserve::compute(&c, || 0);
        assert_eq!((r.bytes, r.data_limit(1000)), (0, 1000));
        // A reserve above maxmemory leaves one byte.
        let mut c = cfg(1000);
        c.reserved_memory = 5000;
        c.reserved_memory_set = true;
        assert_eq!(Reserve::compute(&c, || 0).data_limit(1000), 1);
    }

    #[test]
    fn without_maxmemory_the_machine_is_the_base() {
        let r = Reserve::compute(&cfg(0), || 8 << 30);
        assert_eq!((r.base, r.bytes, r.data_limit(0)), (8 << 30, 2 << 30, 0));
    }

    #[test]
    fn parses_system_files() {
        assert_eq!(
            parse_meminfo_total("MemTotal:       16384 kB\nMemFree: 1 kB\n"),
            16 << 20
        );
        assert_eq!(parse_cgroup_limit("max"), None);
        assert_eq!(parse_cgroup_limit("1073741824"), Some(1 << 30));
        assert_eq!(parse_cgroup_limit("9223372036854771712"), None);
    }
}
