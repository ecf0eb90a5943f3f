//! INFO: the server's state as Redis 7.0's `genRedisInfoString` reports it,
//! section by section, with the same field names and order.

use bytes::Bytes;
use std::fmt::Write as _;

use crate::dispatch::{acl, flags as f, CommandSpec, Keys};
use crate::keyspace::{lru_clock, now_us};
use crate::persistence::memory;
use crate::replication::replica::LinkState;
use crate::server::client::Client;
use crate::server::evict::client_memory;
use crate::server::Engine;

/// The sections INFO and `INFO default` print (Redis's `module_list` is our
/// `modules`).
const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "module_list",
    "errorstats",
    "cluster",
    "keyspace",
];

/// Which sections a call asked for.
pub struct Sections {
    names: Vec<String>,
    all: bool,
}

impl Sections {
    /// Parses INFO's arguments (Redis `genInfoSectionDict`): none means
    /// `default`; `all` and `everything` select every section; names are
    /// case-insensitive; unknown names select nothing.
    pub fn parse(args: &[Bytes]) -> Sections {
        let mut s = Sections {
            names: Vec::new(),
            all: false,
        };
        if args.is_empty() {
            s.names = DEFAULT_SECTIONS.iter().map(|n| n.to_string()).collect();
            return s;
        }
        for a in args {
            let name = String::from_utf8_lossy(a).to_ascii_lowercase();
            match name.as_str() {
                "default" => s
                    .names
                    .extend(DEFAULT_SECTIONS.iter().map(|n| n.to_string())),
                "all" | "everything" => s.all = true,
                _ => s.names.push(name),
            }
        }
        s
    }

    fn wants(&self, name: &str) -> bool {
        self.all || self.names.iter().any(|n| n == name)
    }
}

/// INFO [section [section ...]]
fn info(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let sections = Sections::parse(&args[1..]);
    let text = info_string(e, c, &sections);
    c.reply().verbatim("txt", text.as_bytes());
}

/// The INFO text for `sections`; `c` is the calling client (it is not in
/// the engine's client map while its command runs).
pub fn info_string(e: &mut Engine, c: &Client, sections: &Sections) -> String {
    // used_memory as the command found it, not counting the text built here.
    let used = e.track_peak_memory();
    let mut out = String::with_capacity(4096);
    let section = |out: &mut String, title: &str| {
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        let _ = write!(out, "# {title}\r\n");
    };
    if sections.wants("server") {
        section(&mut out, "Server");
        server_section(e, &mut out);
    }
    if sections.wants("clients") {
        section(&mut out, "Clients");
        clients_section(e, c, &mut out);
    }
    if sections.wants("memory") {
        section(&mut out, "Memory");
        memory_section(e, c, used, &mut out);
    }
    if sections.wants("persistence") {
        section(&mut out, "Persistence");
        persistence_section(e, &mut out);
    }
    if sections.wants("stats") {
        section(&mut out, "Stats");
        stats_section(e, &mut out);
    }
    if sections.wants("replication") {
        section(&mut out, "Replication");
        replication_section(e, &mut out);
    }
    if sections.wants("cpu") {
        section(&mut out, "CPU");
        cpu_section(&mut out);
    }
    if sections.wants("module_list") || sections.wants("modules") {
        section(&mut out, "Modules");
    }
    if sections.wants("commandstats") {
        section(&mut out, "Commandstats");
        commandstats_section(e, &mut out);
    }
    if sections.wants("errorstats") {
        section(&mut out, "Errorstats");
        for (code, count) in &e.error_stats {
            let _ = write!(
                out,
                "errorstat_{}:count={count}\r\n",
                safe_info_string(code)
            );
        }
    }
    if sections.wants("latencystats") {
        section(&mut out, "Latencystats");
        if e.config.latency_tracking {
            latencystats_section(e, &mut out);
        }
    }
    if sections.wants("cluster") {
        section(&mut out, "Cluster");
        let _ = write!(
            out,
            "cluster_enabled:{}\r\n",
            u8::from(e.config.cluster_enabled)
        );
    }
    if sections.wants("keyspace") {
        section(&mut out, "Keyspace");
        for db in &e.ks.dbs {
            let (keys, expires) = (db.len(), db.expires_len());
            if keys > 0 || expires > 0 {
                let _ = write!(
                    out,
                    "db{}:keys={keys},expires={expires},avg_ttl={}\r\n",
                    db.id, db.avg_ttl
                );
            }
        }
    }
    out
}

/// Redis's getSafeInfoString: `#`, `:`, CR and LF become `_`.
fn safe_info_string(s: &str) -> String {
    s.chars()
        .map(|ch| {
            if matches!(ch, '#' | ':' | '\r' | '\n') {
                '_'
            } else {
                ch
            }
        })
        .collect()
}

/// Redis's bytesToHuman: `1.00K`, `2.50M`, ... (`B` below 1 KiB).
pub fn bytes_to_human(n: u64) -> String {
    const UNITS: [(u32, &str); 5] = [(1, "K"), (2, "M"), (3, "G"), (4, "T"), (5, "P")];
    if n < 1024 {
        return format!("{n}B");
    }
    for (pow, unit) in UNITS {
        let next = 1024u128.pow(pow + 1);
        if u128::from(n) < next {
            return format!("{:.2}{unit}", n as f64 / 1024f64.powi(pow as i32));
        }
    }
    format!("{n}B")
}

fn server_section(e: &Engine, out: &mut String) {
    let uname = nix::sys::utsname::uname().ok();
    let os = uname.as_ref().map_or_else(String::new, |u| {
        format!(
            "{} {} {}",
            u.sysname().to_string_lossy(),
            u.release().to_string_lossy(),
            u.machine().to_string_lossy()
        )
    });
    let mode = if e.config.cluster_enabled {
        "cluster"
    } else {
        "standalone"
    };
    let supervised = match e.config.supervised {
        crate::config::SupervisedMode::Upstart => "upstart",
        crate::config::SupervisedMode::Systemd => "systemd",
        crate::config::SupervisedMode::No => "no",
        crate::config::SupervisedMode::Auto => "unknown",
    };
    let uptime = e.started.elapsed().as_secs();
    let port = e.bound.first().map_or(e.config.port, |a| a.port());
    let executable = std::env::current_exe()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let config_file = e
        .config_file
        .as_ref()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let _ = write!(
        out,
        "redis_version:{}\r\n\
         redis_git_sha1:00000000\r\n\
         redis_git_dirty:0\r\n\
         redis_build_id:0\r\n\
         redis_mode:{mode}\r\n\
         os:{os}\r\n\
         arch_bits:64\r\n\
         monotonic_clock:POSIX clock_gettime\r\n\
         multiplexing_api:epoll\r\n\
         atomicvar_api:c11-builtin\r\n\
         gcc_version:0.0.0\r\n\
         process_id:{}\r\n\
         process_supervised:{supervised}\r\n\
         run_id:{}\r\n\
         tcp_port:{port}\r\n\
         server_time_usec:{}\r\n\
         uptime_in_seconds:{uptime}\r\n\
         uptime_in_days:{}\r\n\
         hz:{}\r\n\
         configured_hz:{}\r\n\
         lru_clock:{}\r\n\
         executable:{executable}\r\n\
         config_file:{config_file}\r\n\
         io_threads_active:0\r\n\
         snapcache_version:{}\r\n",
        crate::REDIS_VERSION,
        std::process::id(),
        e.run_id,
        now_us(),
        uptime / (3600 * 24),
        e.config.hz,
        e.config.hz,
        lru_clock(),
        crate::VERSION,
    );
    if e.shutdown.is_some() {
        out.push_str("shutdown_in_milliseconds:0\r\n");
    }
}

fn clients_section(e: &Engine, c: &Client, out: &mut String) {
    // The caller is out of the client map while its command runs.
    let others = e.clients.values().filter(|o| o.id != c.id);
    let (mut connected, mut max_in, mut max_out) = (1usize, c.qbuf, c.out.len());
    for o in others {
        connected += 1;
        max_in = max_in.max(o.qbuf);
        max_out = max_out.max(o.out.len());
    }
    let _ = write!(
        out,
        "connected_clients:{connected}\r\n\
         cluster_connections:0\r\n\
         maxclients:{}\r\n\
         client_recent_max_input_buffer:{max_in}\r\n\
         client_recent_max_output_buffer:{max_out}\r\n\
         blocked_clients:{}\r\n\
         tracking_clients:{}\r\n\
         clients_in_timeout_table:0\r\n",
        e.config.maxclients,
        e.blocked_clients + e.postponed_clients,
        e.tracking.clients
    );
}

/// Memory figures shared by INFO memory and MEMORY STATS.
pub struct MemoryFigures {
    pub used: u64,
    pub peak: u64,
    pub rss: u64,
    pub startup: u64,
    pub allocated: u64,
    pub active: u64,
    pub resident: u64,
    /// Memory that is not the dataset: start-up memory, clients, tables.
    pub overhead: u64,
    pub clients_normal: u64,
    pub clients_replicas: u64,
    /// Main and expires tables' own structure, per database with keys:
    /// (db, main, expires).
    pub tables: Vec<(usize, u64, u64)>,
    pub not_counted_for_evict: u64,
    pub dataset: u64,
}

impl MemoryFigures {
    /// `cur` is the client running the command, out of the client map;
    /// `used` the used memory the command started with.
    pub fn collect(e: &mut Engine, cur: Option<&Client>, used: u64) -> MemoryFigures {
        let (mut clients_normal, mut clients_replicas) = e.clients_memory();
        if let Some(c) = cur {
            if c.kind == crate::server::client::ClientKind::Replica {
                clients_replicas += client_memory(c);
            } else {
                clients_normal += client_memory(c);
            }
        }
        let tables: Vec<(usize, u64, u64)> =
            e.ks.dbs
                .iter()
                .filter(|d| !d.is_empty() || d.expires_len() > 0)
                .map(|d| {
                    let (main, expires) = d.table_overheads();
                    (d.id, main as u64, expires as u64)
                })
                .collect();
        let table_total: u64 = tables.iter().map(|t| t.1 + t.2).sum();
        let startup = e.startup_memory.min(used);
        let aof = e.aof_buffer_memory();
        let overhead = (startup + clients_normal + clients_replicas + table_total + aof).min(used);
        MemoryFigures {
            used,
            peak: e.peak_memory,
            rss: memory::rss(),
            startup,
            allocated: memory::allocated(),
            active: memory::active(),
            resident: memory::resident(),
            overhead,
            clients_normal,
            clients_replicas,
            tables,
            not_counted_for_evict: e.mem_not_counted_for_evict(),
            dataset: used - overhead,
        }
    }

    pub fn peak_perc(&self) -> f64 {
        if self.peak == 0 {
            0.0
        } else {
            self.used as f64 * 100.0 / self.peak as f64
        }
    }

    pub fn dataset_perc(&self) -> f64 {
        let net = self.used.saturating_sub(self.startup);
        if net == 0 {
            0.0
        } else {
            self.dataset as f64 * 100.0 / net as f64
        }
    }

    pub fn allocator_frag(&self) -> (f64, i64) {
        ratio(self.active, self.allocated)
    }

    pub fn allocator_rss(&self) -> (f64, i64) {
        ratio(self.resident, self.active)
    }

    pub fn rss_overhead(&self) -> (f64, i64) {
        ratio(self.rss, self.resident)
    }

    pub fn fragmentation(&self) -> (f64, i64) {
        ratio(self.rss, self.used)
    }
}

fn ratio(a: u64, b: u64) -> (f64, i64) {
    if b == 0 {
        (0.0, 0)
    } else {
        (a as f64 / b as f64, a as i64 - b as i64)
    }
}

fn memory_section(e: &mut Engine, c: &Client, used: u64, out: &mut String) {
    let backlog_mem = e.repl.backlog.as_ref().map_or(0, |b| b.allocated());
    let m = MemoryFigures::collect(e, Some(c), used);
    let budget = e.memory_budget();
    let total_system = memory::total_system_memory();
    let (afrag, afrag_bytes) = m.allocator_frag();
    let (arss, arss_bytes) = m.allocator_rss();
    let (rss_extra, rss_extra_bytes) = m.rss_overhead();
    let (frag, frag_bytes) = m.fragmentation();
    let (lua_mem, scripts_mem) = e.scripts_memory();
    let n_scripts = e.scripts_cached();
    let lua_mem_h = bytes_to_human(lua_mem as u64);
    let scripts_mem_h = bytes_to_human(scripts_mem as u64);
    let _ = write!(
        out,
        "used_memory:{}\r\n\
         used_memory_human:{}\r\n\
         used_memory_rss:{}\r\n\
         used_memory_rss_human:{}\r\n\
         used_memory_peak:{}\r\n\
         used_memory_peak_human:{}\r\n\
         used_memory_peak_perc:{:.2}%\r\n\
         used_memory_overhead:{}\r\n\
         used_memory_startup:{}\r\n\
         used_memory_dataset:{}\r\n\
         used_memory_dataset_perc:{:.2}%\r\n\
         allocator_allocated:{}\r\n\
         allocator_active:{}\r\n\
         allocator_resident:{}\r\n\
         total_system_memory:{total_system}\r\n\
         total_system_memory_human:{}\r\n\
         used_memory_lua:{lua_mem}\r\n\
         used_memory_vm_eval:{lua_mem}\r\n\
         used_memory_lua_human:{lua_mem_h}\r\n\
         used_memory_scripts_eval:{scripts_mem}\r\n\
         number_of_cached_scripts:{n_scripts}\r\n\
         number_of_functions:0\r\n\
         number_of_libraries:0\r\n\
         used_memory_vm_functions:0\r\n\
         used_memory_vm_total:{lua_mem}\r\n\
         used_memory_vm_total_human:{lua_mem_h}\r\n\
         used_memory_functions:0\r\n\
         used_memory_scripts:{scripts_mem}\r\n\
         used_memory_scripts_human:{scripts_mem_h}\r\n\
         maxmemory:{}\r\n\
         maxmemory_human:{}\r\n\
         maxmemory_policy:{}\r\n\
         maxmemory_data:{}\r\n\
         maxmemory_data_human:{}\r\n\
         reserved_memory:{}\r\n\
         reserved_memory_human:{}\r\n\
         reserved_memory_percent:{:.2}\r\n\
         reserved_memory_applied:{}\r\n\
         reserved_memory_headroom:{}\r\n\
         allocator_frag_ratio:{afrag:.2}\r\n\
         allocator_frag_bytes:{afrag_bytes}\r\n\
         allocator_rss_ratio:{arss:.2}\r\n\
         allocator_rss_bytes:{arss_bytes}\r\n\
         rss_overhead_ratio:{rss_extra:.2}\r\n\
         rss_overhead_bytes:{rss_extra_bytes}\r\n\
         mem_fragmentation_ratio:{frag:.2}\r\n\
         mem_fragmentation_bytes:{frag_bytes}\r\n\
         mem_not_counted_for_evict:{}\r\n\
         mem_replication_backlog:{backlog_mem}\r\n\
         mem_total_replication_buffers:{}\r\n\
         mem_clients_slaves:{}\r\n\
         mem_clients_normal:{}\r\n\
         mem_cluster_links:0\r\n\
         mem_aof_buffer:{}\r\n\
         mem_allocator:{}\r\n\
         active_defrag_running:0\r\n\
         lazyfree_pending_objects:{}\r\n\
         lazyfreed_objects:{}\r\n",
        m.used,
        bytes_to_human(m.used),
        m.rss,
        bytes_to_human(m.rss),
        m.peak,
        bytes_to_human(m.peak),
        m.peak_perc(),
        m.overhead,
        m.startup,
        m.dataset,
        m.dataset_perc(),
        m.allocated,
        m.active,
        m.resident,
        bytes_to_human(total_system),
        e.config.maxmemory,
        bytes_to_human(e.config.maxmemory),
        e.config.maxmemory_policy.name(),
        budget.data_limit,
        bytes_to_human(budget.data_limit),
        budget.reserve.bytes,
        bytes_to_human(budget.reserve.bytes),
        budget.reserve.percent(),
        u8::from(budget.reserve.applied),
        budget.headroom,
        m.not_counted_for_evict,
        m.clients_replicas,
        m.clients_replicas,
        m.clients_normal,
        e.aof_buffer_memory(),
        allocator_name(),
        crate::server::lazyfree_pending(),
        e.lazyfreed_objects,
    );
}

/// The allocator's name as INFO mem_allocator reports it.
pub fn allocator_name() -> &'static str {
    if cfg!(feature = "jemalloc") {
        "jemalloc-5.3.0"
    } else {
        "libc"
    }
}

fn persistence_section(e: &Engine, out: &mut String) {
    let p = &e.persist;
    let async_loading = u8::from(e.async_loading);
    let _ = write!(
        out,
        "loading:{}\r\n\
         async_loading:{async_loading}\r\n\
         current_cow_peak:{}\r\n\
         current_cow_size:{}\r\n\
         current_cow_size_age:{}\r\n\
         current_fork_perc:{:.2}\r\n\
         current_save_keys_processed:{}\r\n\
         current_save_keys_total:{}\r\n\
         rdb_changes_since_last_save:{}\r\n\
         rdb_bgsave_in_progress:{}\r\n\
         rdb_last_save_time:{}\r\n\
         rdb_last_bgsave_status:{}\r\n\
         rdb_last_bgsave_time_sec:{}\r\n\
         rdb_current_bgsave_time_sec:{}\r\n\
         rdb_saves:{}\r\n\
         rdb_last_cow_size:{}\r\n\
         rdb_last_load_keys_expired:{}\r\n\
         rdb_last_load_keys_loaded:{}\r\n",
        u8::from(e.loading),
        p.cur_cow_peak,
        p.cur_cow,
        p.cur_cow_updated.map_or(0, |t| t.elapsed().as_secs()),
        p.fork_perc(),
        p.cur_keys_processed,
        p.cur_keys_total,
        e.dirty,
        u8::from(e.bgsave_running()),
        e.last_save_ms / 1000,
        if p.last_bgsave_ok { "ok" } else { "err" },
        p.last_bgsave_secs,
        p.current_bgsave_secs(),
        p.saves,
        p.last_cow,
        p.last_load_keys_expired,
        p.last_load_keys_loaded,
    );
    e.snapshot_info(out);
    e.aof_info(out);
    if let Some(l) = &p.loading {
        let (perc, eta) = l.perc_and_eta();
        let _ = write!(
            out,
            "loading_start_time:{}\r\n\
             loading_total_bytes:{}\r\n\
             loading_rdb_used_mem:0\r\n\
             loading_loaded_bytes:{}\r\n\
             loading_loaded_perc:{perc:.2}\r\n\
             loading_eta_seconds:{eta}\r\n",
            l.start_time,
            l.total_bytes,
            l.loaded_bytes.load(std::sync::atomic::Ordering::Relaxed),
        );
    }
}

fn stats_section(e: &Engine, out: &mut String) {
    let s = &e.stats;
    let ops = Engine::instantaneous(&s.ops_samples);
    let in_kbps = Engine::instantaneous(&s.net_in_samples) / 1024.0;
    let out_kbps = Engine::instantaneous(&s.net_out_samples) / 1024.0;
    let (sync_full, sync_partial_ok, sync_partial_err) = (
        e.repl.sync_full,
        e.repl.sync_partial_ok,
        e.repl.sync_partial_err,
    );
    let (repl_in, repl_out) = (s.net_repl_input_bytes, s.net_repl_output_bytes);
    let _ = write!(
        out,
        "total_connections_received:{}\r\n\
         total_commands_processed:{}\r\n\
         instantaneous_ops_per_sec:{}\r\n\
         total_net_input_bytes:{}\r\n\
         total_net_output_bytes:{}\r\n\
         total_net_repl_input_bytes:{repl_in}\r\n\
         total_net_repl_output_bytes:{repl_out}\r\n\
         instantaneous_input_kbps:{in_kbps:.2}\r\n\
         instantaneous_output_kbps:{out_kbps:.2}\r\n\
         instantaneous_input_repl_kbps:0.00\r\n\
         instantaneous_output_repl_kbps:0.00\r\n\
         rejected_connections:{}\r\n\
         sync_full:{sync_full}\r\n\
         sync_partial_ok:{sync_partial_ok}\r\n\
         sync_partial_err:{sync_partial_err}\r\n\
         expired_keys:{}\r\n\
         expired_stale_perc:{:.2}\r\n\
         expired_time_cap_reached_count:{}\r\n\
         expire_cycle_cpu_milliseconds:0\r\n\
         evicted_keys:{}\r\n\
         evicted_clients:{}\r\n\
         total_eviction_exceeded_time:{}\r\n\
         current_eviction_exceeded_time:{}\r\n\
         keyspace_hits:{}\r\n\
         keyspace_misses:{}\r\n\
         pubsub_channels:{}\r\n\
         pubsub_patterns:{}\r\n\
         pubsubshard_channels:{}\r\n\
         latest_fork_usec:{}\r\n\
         total_forks:{}\r\n\
         migrate_cached_sockets:{}\r\n\
         slave_expires_tracked_keys:{}\r\n\
         active_defrag_hits:0\r\n\
         active_defrag_misses:0\r\n\
         active_defrag_key_hits:0\r\n\
         active_defrag_key_misses:0\r\n\
         total_active_defrag_time:0\r\n\
         current_active_defrag_time:0\r\n\
         tracking_total_keys:{}\r\n\
         tracking_total_items:{}\r\n\
         tracking_total_prefixes:{}\r\n\
         unexpected_error_replies:0\r\n\
         total_error_replies:{}\r\n\
         dump_payload_sanitizations:0\r\n\
         total_reads_processed:{}\r\n\
         total_writes_processed:{}\r\n\
         io_threaded_reads_processed:0\r\n\
         io_threaded_writes_processed:0\r\n\
         reply_buffer_shrinks:0\r\n\
         reply_buffer_expands:0\r\n",
        s.connections,
        s.commands,
        ops.round() as u64,
        s.net_input_bytes,
        s.net_output_bytes,
        s.rejected_connections,
        s.expired_keys,
        s.expired_stale_perc * 100.0,
        s.expired_time_cap_reached,
        s.evicted_keys,
        s.evicted_clients,
        e.evict.total_exceeded_ms(),
        e.evict.current_exceeded_ms(),
        s.keyspace_hits,
        s.keyspace_misses,
        e.pubsub.channels.len(),
        e.pubsub.patterns.len(),
        e.pubsub.shard_channels.len(),
        e.persist.latest_fork_usec,
        e.persist.total_forks,
        e.migrate.len(),
        e.repl.local_expires.len(),
        e.tracking.total_keys(),
        e.tracking.total_items(),
        e.tracking.total_prefixes(),
        s.error_replies,
        s.reads_processed,
        s.writes_processed,
    );
}

fn replication_section(e: &Engine, out: &mut String) {
    match &e.repl.primary {
        None => out.push_str("role:master\r\n"),
        Some(p) => {
            let up = p.state == LinkState::Connected;
            let syncing = p.state == LinkState::Syncing;
            let _ = write!(
                out,
                "role:slave\r\n\
                 master_host:{}\r\n\
                 master_port:{}\r\n\
                 master_link_status:{}\r\n\
                 master_last_io_seconds_ago:{}\r\n\
                 master_sync_in_progress:{}\r\n\
                 slave_read_repl_offset:{}\r\n\
                 slave_repl_offset:{}\r\n",
                p.host,
                p.port,
                if up { "up" } else { "down" },
                if up {
                    p.last_io.elapsed().as_secs() as i64
                } else {
                    -1
                },
                u8::from(syncing),
                p.offset,
                p.offset,
            );
            if syncing && p.sync_total != 0 {
                let total = p.sync_total;
                let read = p.sync_read as i64;
                let (left, perc) = if total > 0 {
                    (total - read, read as f64 * 100.0 / total as f64)
                } else {
                    (0, 0.0)
                };
                let _ = write!(
                    out,
                    "master_sync_total_bytes:{total}\r\n\
                     master_sync_read_bytes:{read}\r\n\
                     master_sync_left_bytes:{left}\r\n\
                     master_sync_perc:{perc:.2}\r\n\
                     master_sync_last_io_seconds_ago:{}\r\n",
                    p.last_io.elapsed().as_secs()
                );
            }
            if !up {
                let _ = write!(
                    out,
                    "master_link_down_since_seconds:{}\r\n",
                    p.down_since.elapsed().as_secs()
                );
            }
            let _ = write!(
                out,
                "slave_priority:{}\r\nslave_read_only:{}\r\nreplica_announced:{}\r\n",
                e.config.replica_priority,
                u8::from(e.config.replica_read_only),
                u8::from(e.config.replica_announced)
            );
        }
    }
    // Replicas waiting for their snapshot count too, as in Redis.
    let _ = write!(
        out,
        "connected_slaves:{}\r\n",
        e.repl.replicas.len() + e.repl.sync_waiting.len() + e.spooled_replicas()
    );
    if e.config.min_replicas_to_write > 0 && e.config.min_replicas_max_lag > 0 {
        let _ = write!(out, "min_slaves_good_slaves:{}\r\n", e.good_replicas());
    }
    for (i, id) in e.repl.replicas.iter().enumerate() {
        let Some(r) = e.clients.get(id) else {
            continue;
        };
        let ip = r.addr.rsplit_once(':').map_or("", |(h, _)| h);
        let port = e.repl.replica_ports.get(id).copied().unwrap_or(0);
        let ack = e.repl.acks.get(id).copied().unwrap_or(0);
        let lag = e
            .repl
            .ack_times
            .get(id)
            .map_or(0, |t| t.elapsed().as_secs());
        let state = e.replica_state(*id).name();
        let _ = write!(
            out,
            "slave{i}:ip={ip},port={port},state={state},offset={ack},lag={lag}\r\n"
        );
    }
    let (active, size, first, histlen) = match &e.repl.backlog {
        Some(b) => (1, b.size(), b.first_offset(), b.histlen()),
        None => (0, e.config.repl_backlog_size.max(1) as usize, 0, 0),
    };
    let (sync_method, sync_target, sync_reason) = match &e.repl.last_sync {
        Some((m, t, r)) => (m.name(), t.as_str(), r.as_str()),
        None => ("none", "", ""),
    };
    let _ = write!(
        out,
        "\
         master_failover_state:{}\r\n\
         master_replid:{}\r\n\
         master_replid2:{}\r\n\
         master_repl_offset:{}\r\n\
         second_repl_offset:{}\r\n\
         repl_backlog_active:{active}\r\n\
         repl_backlog_size:{size}\r\n\
         repl_backlog_first_byte_offset:{first}\r\n\
         repl_backlog_histlen:{histlen}\r\n\
         repl_last_sync_method:{sync_method}\r\n\
         repl_last_sync_target:{sync_target}\r\n\
         repl_last_sync_reason:{sync_reason}\r\n",
        e.failover_state_name(),
        e.repl.replid,
        e.replid2,
        e.repl.offset,
        e.repl.second_offset,
    );
}

fn cpu_section(out: &mut String) {
    use nix::sys::resource::{getrusage, UsageWho};
    let tv = |t: nix::sys::time::TimeVal| format!("{}.{:06}", t.tv_sec(), t.tv_usec());
    for (who, suffix) in [
        (UsageWho::RUSAGE_SELF, ""),
        (UsageWho::RUSAGE_CHILDREN, "_children"),
        (UsageWho::RUSAGE_THREAD, "_main_thread"),
    ] {
        if let Ok(ru) = getrusage(who) {
            let _ = write!(
                out,
                "used_cpu_sys{suffix}:{}\r\nused_cpu_user{suffix}:{}\r\n",
                tv(ru.system_time()),
                tv(ru.user_time())
            );
        }
    }
}

fn commandstats_section(e: &Engine, out: &mut String) {
    for row in &e.commands.rows {
        let s = &e.cmd_stats[row.index];
        if s.calls == 0 && s.failed == 0 && s.rejected == 0 {
            continue;
        }
        let per_call = if s.calls == 0 {
            0.0
        } else {
            s.usec as f32 / s.calls as f32
        };
        let _ = write!(
            out,
            "cmdstat_{}:calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}\r\n",
            safe_info_string(&row.fullname),
            s.calls,
            s.usec,
            s.rejected,
            s.failed
        );
    }
}

fn latencystats_section(e: &Engine, out: &mut String) {
    for row in &e.commands.rows {
        let Some(h) = &e.cmd_stats[row.index].hist else {
            continue;
        };
        let _ = write!(
            out,
            "latency_percentiles_usec_{}:",
            safe_info_string(&row.fullname)
        );
        let ps = &e.config.latency_tracking_info_percentiles;
        for (i, p) in ps.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                "p{}={:.3}",
                trim_double(*p),
                h.value_at_percentile(*p) as f64 / 1000.0
            );
        }
        out.push_str("\r\n");
    }
}

/// `%f` then trailing zeros (and a trailing point) removed, as Redis's
/// trimDoubleString: 50 → `50`, 99.9 → `99.9`.
fn trim_double(p: f64) -> String {
    let s = format!("{p:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

pub const COMMANDS: &[CommandSpec] = &[CommandSpec::new(
    "info",
    -1,
    f::LOADING | f::STALE,
    acl::SLOW | acl::DANGEROUS,
    Keys::NONE,
    info,
)
.group("server")
.summary("Get information and statistics about the server")];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_as_redis() {
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(1024), "1.00K");
        assert_eq!(bytes_to_human(1536), "1.50K");
        assert_eq!(bytes_to_human(3 * 1024 * 1024), "3.00M");
        assert_eq!(bytes_to_human(5 << 30), "5.00G");
    }

    #[test]
    fn percentiles_print_trimmed() {
        assert_eq!(trim_double(50.0), "50");
        assert_eq!(trim_double(99.9), "99.9");
        assert_eq!(trim_double(0.0), "0");
        assert_eq!(trim_double(100.0), "100");
    }

    #[test]
    fn info_strings_are_sanitized() {
        assert_eq!(safe_info_string("a:b#c\r\n"), "a_b_c__");
    }
}
