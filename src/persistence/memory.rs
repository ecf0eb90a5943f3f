//! Memory figures from the allocator (jemalloc, as Redis uses).

/// Bytes the program has allocated and not freed.
pub fn allocated() -> u64 {
    #[cfg(feature = "jemalloc")]
    {
        let _ = tikv_jemalloc_ctl::epoch::advance();
        tikv_jemalloc_ctl::stats::allocated::read().unwrap_or(0) as u64
    }
    #[cfg(not(feature = "jemalloc"))]
    {
        0
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
        0
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
        0
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
    s.lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}
