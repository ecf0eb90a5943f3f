//! Server configuration: the Redis 7.0 parameter set plus snapcache's own.
//!
//! # Overview
//!
//! [`Config`] holds one typed public field per Redis 7.0 configuration
//! parameter (every entry of Redis's `static_configs[]` table except the
//! TLS ones, which only exist in TLS builds), a few snapcache parameters
//! (`reserved-memory`, `reserved-memory-percent`, `snapshot-method`) and
//! some bookkeeping (the config file path, `rename-command`/`user` lines).
//! `Config::default()` yields Redis 7.0's defaults.
//!
//! Everything that reads or writes parameters by *name* goes through one
//! static descriptor table ([`table::CONFIGS`]): each [`table::ConfigDesc`]
//! has the canonical name, an optional deprecated alias
//! (`hash-max-ziplist-entries`, `slaveof`, ...), flags (immutable,
//! sensitive, hidden, multi-arg, protected, deny-loading), a kind (bool,
//! numeric with bounds and memory/percent/octal syntax, string, enum,
//! special) with its default, and getter/setter function pointers over
//! `Config`. The file loader ([`Config::load_str`]), the command line
//! ([`Config::from_args`]), `CONFIG SET` ([`Config::set`]), `CONFIG GET`
//! ([`Config::get`]) and `CONFIG REWRITE` ([`Config::rewrite`]) all use it,
//! so they agree on names, parsing, formatting and error strings, which
//! follow Redis 7.0.15's `config.c` exactly.
//!
//! Side effects are left to the server: this module never changes the
//! working directory (`dir` is validated and stored as an absolute path;
//! the server should `chdir` to [`Config::dir`] at startup and after a
//! `CONFIG SET dir`), never binds sockets, and does not know the command
//! table (`rename-command` lines are stored in [`Config::rename_commands`]).
//! [`Config::set`] reports which parameters changed so the caller can apply
//! them (re-listen on a new port, start eviction on a lower `maxmemory`, ...);
//! if applying fails the caller restores a clone taken before the call.

pub mod rewrite;
pub mod table;

use std::io;
use std::path::{Path, PathBuf};

use crate::util::glob::{has_glob_chars, string_match};
use crate::util::splitargs::split_args;
use table::{ConfigDesc, CONFIGS};

/// The Redis version we report in fatal configuration errors and INFO.
pub const REDIS_VERSION: &str = "7.0.15";

/// Minimum effective `hz` (Redis `CONFIG_MIN_HZ`).
pub const CONFIG_MIN_HZ: u32 = 1;
/// Maximum effective `hz` (Redis `CONFIG_MAX_HZ`).
pub const CONFIG_MAX_HZ: u32 = 500;
/// Maximum number of `bind` addresses (Redis `CONFIG_BINDADDR_MAX`).
pub const CONFIG_BINDADDR_MAX: usize = 16;
/// Default `bind` addresses.
pub const DEFAULT_BIND: [&str; 2] = ["*", "-::*"];

/// Flag bits of `notify-keyspace-events`, identical to Redis's `server.h`.
pub mod notify {
    /// `K`: keyspace events (`__keyspace@<db>__` channels).
    pub const KEYSPACE: u32 = 1 << 0;
    /// `E`: keyevent events (`__keyevent@<db>__` channels).
    pub const KEYEVENT: u32 = 1 << 1;
    /// `g`: generic commands (DEL, EXPIRE, RENAME, ...).
    pub const GENERIC: u32 = 1 << 2;
    /// `$`: string commands.
    pub const STRING: u32 = 1 << 3;
    /// `l`: list commands.
    pub const LIST: u32 = 1 << 4;
    /// `s`: set commands.
    pub const SET: u32 = 1 << 5;
    /// `h`: hash commands.
    pub const HASH: u32 = 1 << 6;
    /// `z`: sorted set commands.
    pub const ZSET: u32 = 1 << 7;
    /// `x`: expired events.
    pub const EXPIRED: u32 = 1 << 8;
    /// `e`: evicted events.
    pub const EVICTED: u32 = 1 << 9;
    /// `t`: stream commands.
    pub const STREAM: u32 = 1 << 10;
    /// `m`: key-miss events (not part of `A`).
    pub const KEY_MISS: u32 = 1 << 11;
    /// Module-only "key loaded" notifications.
    pub const LOADED: u32 = 1 << 12;
    /// `d`: module key type events.
    pub const MODULE: u32 = 1 << 13;
    /// `n`: new key events (not part of `A`).
    pub const NEW: u32 = 1 << 14;
    /// `A`: alias for `g$lshzxetd`.
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

    /// Parse a class string like `"KEA"` (Redis
    /// `keyspaceEventsStringToFlags`); `None` on an unknown character.
    pub fn from_str(classes: &[u8]) -> Option<u32> {
        let mut flags = 0;
        for &c in classes {
            flags |= match c {
                b'A' => ALL,
                b'g' => GENERIC,
                b'$' => STRING,
                b'l' => LIST,
                b's' => SET,
                b'h' => HASH,
                b'z' => ZSET,
                b'x' => EXPIRED,
                b'e' => EVICTED,
                b'K' => KEYSPACE,
                b'E' => KEYEVENT,
                b't' => STREAM,
                b'm' => KEY_MISS,
                b'd' => MODULE,
                b'n' => NEW,
                _ => return None,
            };
        }
        Some(flags)
    }

    /// Render flags the way `CONFIG GET notify-keyspace-events` does
    /// (Redis `keyspaceEventsFlagsToString`).
    pub fn to_string(flags: u32) -> String {
        let mut s = String::new();
        if flags & ALL == ALL {
            s.push('A');
        } else {
            for (bit, ch) in [
                (GENERIC, 'g'),
                (STRING, '$'),
                (LIST, 'l'),
                (SET, 's'),
                (HASH, 'h'),
                (ZSET, 'z'),
                (EXPIRED, 'x'),
                (EVICTED, 'e'),
                (STREAM, 't'),
                (MODULE, 'd'),
                (NEW, 'n'),
            ] {
                if flags & bit != 0 {
                    s.push(ch);
                }
            }
        }
        for (bit, ch) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
            if flags & bit != 0 {
                s.push(ch);
            }
        }
        s
    }
}

/// Bits of `shutdown-on-sigint` / `shutdown-on-sigterm` (Redis
/// `SHUTDOWN_*`).
pub mod shutdown_flags {
    /// `save`: force a save even without save points.
    pub const SAVE: u32 = 1;
    /// `nosave`: skip saving.
    pub const NOSAVE: u32 = 2;
    /// `now`: don't wait for lagging replicas.
    pub const NOW: u32 = 4;
    /// `force`: ignore errors while shutting down.
    pub const FORCE: u32 = 8;
}

macro_rules! config_enum {
    (
        $(#[$meta:meta])*
        $name:ident default $def:ident {
            $( $(#[$vmeta:meta])* $variant:ident ),+ $(,)?
        }
        names [ $( $s:literal => $v:ident ),+ $(,)? ]
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Accepted names in Redis's table order (several names may map
            /// to one variant; the first one is used for output).
            pub const NAMES: &'static [(&'static str, i32)] = &[ $( ($s, $name::$v as i32) ),+ ];
            /// Redis's default for this parameter.
            pub const DEFAULT: $name = $name::$def;

            /// The variant whose discriminant is `v`.
            pub fn from_i32(v: i32) -> Option<Self> {
                $( if v == $name::$variant as i32 { return Some($name::$variant); } )+
                None
            }

            /// The name `CONFIG GET` reports.
            pub fn name(self) -> &'static str {
                table::enum_name(Self::NAMES, self as i32)
            }

            /// Parse a name case-insensitively.
            pub fn parse(s: &str) -> Option<Self> {
                Self::NAMES
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(s))
                    .and_then(|&(_, v)| Self::from_i32(v))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::$def
            }
        }
    };
}

config_enum! {
    /// `loglevel`.
    LogLevel default Notice { Debug, Verbose, Notice, Warning }
    names ["debug" => Debug, "verbose" => Verbose, "notice" => Notice, "warning" => Warning]
}

config_enum! {
    /// `maxmemory-policy`.
    MaxmemoryPolicy default NoEviction {
        VolatileLru, VolatileLfu, VolatileRandom, VolatileTtl,
        AllkeysLru, AllkeysLfu, AllkeysRandom, NoEviction,
    }
    names [
        "volatile-lru" => VolatileLru, "volatile-lfu" => VolatileLfu,
        "volatile-random" => VolatileRandom, "volatile-ttl" => VolatileTtl,
        "allkeys-lru" => AllkeysLru, "allkeys-lfu" => AllkeysLfu,
        "allkeys-random" => AllkeysRandom, "noeviction" => NoEviction,
    ]
}

impl MaxmemoryPolicy {
    /// Policies that only consider keys with an expire.
    pub fn is_volatile(self) -> bool {
        matches!(
            self,
            Self::VolatileLru | Self::VolatileLfu | Self::VolatileRandom | Self::VolatileTtl
        )
    }
    /// LFU-based policies (OBJECT FREQ is only allowed with these).
    pub fn is_lfu(self) -> bool {
        matches!(self, Self::VolatileLfu | Self::AllkeysLfu)
    }
    /// LRU-based policies.
    pub fn is_lru(self) -> bool {
        matches!(self, Self::VolatileLru | Self::AllkeysLru)
    }
}

config_enum! {
    /// `appendfsync`.
    AppendFsync default EverySec { EverySec, Always, No }
    names ["everysec" => EverySec, "always" => Always, "no" => No]
}

config_enum! {
    /// `enable-protected-configs`, `enable-debug-command`,
    /// `enable-module-command`.
    ProtectedAction default No { No, Yes, Local }
    names ["no" => No, "yes" => Yes, "local" => Local]
}

impl ProtectedAction {
    /// Redis `allowProtectedAction`: allowed for `yes`, or `local` when the
    /// client connects from loopback / a unix socket.
    pub fn allows(self, is_local_client: bool) -> bool {
        self == Self::Yes || (self == Self::Local && is_local_client)
    }
}

config_enum! {
    /// `supervised`.
    SupervisedMode default No { Upstart, Systemd, Auto, No }
    names ["upstart" => Upstart, "systemd" => Systemd, "auto" => Auto, "no" => No]
}

config_enum! {
    /// `syslog-facility`.
    SyslogFacility default Local0 { User, Local0, Local1, Local2, Local3, Local4, Local5, Local6, Local7 }
    names [
        "user" => User, "local0" => Local0, "local1" => Local1, "local2" => Local2,
        "local3" => Local3, "local4" => Local4, "local5" => Local5, "local6" => Local6,
        "local7" => Local7,
    ]
}

config_enum! {
    /// `repl-diskless-load`.
    ReplDisklessLoad default Disabled { Disabled, OnEmptyDb, Swapdb }
    names ["disabled" => Disabled, "on-empty-db" => OnEmptyDb, "swapdb" => Swapdb]
}

config_enum! {
    /// `oom-score-adj` (`yes` is a synonym of `relative`; GET says `yes`).
    OomScoreAdj default No { No, Relative, Absolute }
    names ["no" => No, "yes" => Relative, "relative" => Relative, "absolute" => Absolute]
}

config_enum! {
    /// `acl-pubsub-default`.
    AclPubsubDefault default ResetChannels { AllChannels, ResetChannels }
    names ["allchannels" => AllChannels, "resetchannels" => ResetChannels]
}

config_enum! {
    /// `sanitize-dump-payload`.
    SanitizeDumpPayload default No { No, Yes, Clients }
    names ["no" => No, "yes" => Yes, "clients" => Clients]
}

config_enum! {
    /// `cluster-preferred-endpoint-type`.
    ClusterEndpointType default Ip { Ip, Hostname, UnknownEndpoint }
    names ["ip" => Ip, "hostname" => Hostname, "unknown-endpoint" => UnknownEndpoint]
}

config_enum! {
    /// `propagation-error-behavior`.
    PropagationErrorBehavior default Ignore { Ignore, Panic, PanicOnReplicas }
    names ["ignore" => Ignore, "panic" => Panic, "panic-on-replicas" => PanicOnReplicas]
}

config_enum! {
    /// `snapshot-method` (snapcache): how BGSAVE/BGREWRITEAOF snapshot the
    /// dataset.
    SnapshotMethod default Auto {
        /// Pick per platform / memory situation.
        Auto,
        /// Classic `fork()` copy-on-write child.
        Fork,
        /// In-process snapshot without forking.
        Forkless,
    }
    names ["auto" => Auto, "fork" => Fork, "forkless" => Forkless]
}

/// One `client-output-buffer-limit` class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientBufferLimit {
    /// Hard limit in bytes (0 = none).
    pub hard_limit_bytes: u64,
    /// Soft limit in bytes (0 = none).
    pub soft_limit_bytes: u64,
    /// Seconds the soft limit may be exceeded.
    pub soft_limit_seconds: u64,
}

/// Index of the `normal` class in [`Config::client_output_buffer_limit`].
pub const CLIENT_TYPE_NORMAL: usize = 0;
/// Index of the `replica` (`slave`) class.
pub const CLIENT_TYPE_REPLICA: usize = 1;
/// Index of the `pubsub` class.
pub const CLIENT_TYPE_PUBSUB: usize = 2;

/// Redis's default output buffer limits: normal, replica, pubsub.
pub const DEFAULT_CLIENT_OUTPUT_BUFFER_LIMITS: [ClientBufferLimit; 3] = [
    ClientBufferLimit {
        hard_limit_bytes: 0,
        soft_limit_bytes: 0,
        soft_limit_seconds: 0,
    },
    ClientBufferLimit {
        hard_limit_bytes: 256 << 20,
        soft_limit_bytes: 64 << 20,
        soft_limit_seconds: 60,
    },
    ClientBufferLimit {
        hard_limit_bytes: 32 << 20,
        soft_limit_bytes: 8 << 20,
        soft_limit_seconds: 60,
    },
];

/// Default `save` points: `3600 1 300 100 60 10000`.
pub const DEFAULT_SAVE_POINTS: [(u64, u64); 3] = [(3600, 1), (300, 100), (60, 10000)];
/// Default `oom-score-adj-values`: master, replica, background child.
pub const DEFAULT_OOM_SCORE_ADJ_VALUES: [i32; 3] = [0, 200, 800];
/// Default `latency-tracking-info-percentiles`.
pub const DEFAULT_LATENCY_PERCENTILES: [f64; 3] = [50.0, 99.0, 99.9];

/// The complete server configuration. Field docs name the parameter and
/// give Redis 7.0's default; numeric ranges are those `CONFIG SET`
/// enforces. Memory parameters are plain byte counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    // ---- table-driven parameters (see table.rs) ----
    /// `rdbchecksum`. Default: `yes`.
    pub rdbchecksum: bool,
    /// `daemonize`. Default: `no`.
    pub daemonize: bool,
    /// `io-threads-do-reads`. Default: `no`.
    pub io_threads_do_reads: bool,
    /// `always-show-logo`. Default: `no`.
    pub always_show_logo: bool,
    /// `protected-mode`. Default: `yes`.
    pub protected_mode: bool,
    /// `rdbcompression`. Default: `yes`.
    pub rdbcompression: bool,
    /// `rdb-del-sync-files`. Default: `no`.
    pub rdb_del_sync_files: bool,
    /// `activerehashing`. Default: `yes`.
    pub activerehashing: bool,
    /// `stop-writes-on-bgsave-error`. Default: `yes`.
    pub stop_writes_on_bgsave_error: bool,
    /// `set-proc-title`. Default: `yes`.
    pub set_proc_title: bool,
    /// `dynamic-hz`. Default: `yes`.
    pub dynamic_hz: bool,
    /// `lazyfree-lazy-eviction`. Default: `no`.
    pub lazyfree_lazy_eviction: bool,
    /// `lazyfree-lazy-expire`. Default: `no`.
    pub lazyfree_lazy_expire: bool,
    /// `lazyfree-lazy-server-del`. Default: `no`.
    pub lazyfree_lazy_server_del: bool,
    /// `lazyfree-lazy-user-del`. Default: `no`.
    pub lazyfree_lazy_user_del: bool,
    /// `lazyfree-lazy-user-flush`. Default: `no`.
    pub lazyfree_lazy_user_flush: bool,
    /// `repl-disable-tcp-nodelay`. Default: `no`.
    pub repl_disable_tcp_nodelay: bool,
    /// `repl-diskless-sync`. Default: `yes`.
    pub repl_diskless_sync: bool,
    /// `aof-rewrite-incremental-fsync`. Default: `yes`.
    pub aof_rewrite_incremental_fsync: bool,
    /// `no-appendfsync-on-rewrite`. Default: `no`.
    pub no_appendfsync_on_rewrite: bool,
    /// `cluster-require-full-coverage`. Default: `yes`.
    pub cluster_require_full_coverage: bool,
    /// `rdb-save-incremental-fsync`. Default: `yes`.
    pub rdb_save_incremental_fsync: bool,
    /// `aof-load-truncated`. Default: `yes`.
    pub aof_load_truncated: bool,
    /// `aof-use-rdb-preamble`. Default: `yes`.
    pub aof_use_rdb_preamble: bool,
    /// `aof-timestamp-enabled`. Default: `no`.
    pub aof_timestamp_enabled: bool,
    /// `cluster-replica-no-failover` (alias `cluster-slave-no-failover`). Default: `no`.
    pub cluster_replica_no_failover: bool,
    /// `replica-lazy-flush` (alias `slave-lazy-flush`). Default: `no`.
    pub replica_lazy_flush: bool,
    /// `replica-serve-stale-data` (alias `slave-serve-stale-data`). Default: `yes`.
    pub replica_serve_stale_data: bool,
    /// `replica-read-only` (alias `slave-read-only`). Default: `yes`.
    pub replica_read_only: bool,
    /// `replica-ignore-maxmemory` (alias `slave-ignore-maxmemory`). Default: `yes`.
    pub replica_ignore_maxmemory: bool,
    /// `jemalloc-bg-thread`. Default: `yes`.
    pub jemalloc_bg_thread: bool,
    /// `activedefrag`. Default: `no`.
    pub activedefrag: bool,
    /// `syslog-enabled`. Default: `no`.
    pub syslog_enabled: bool,
    /// `cluster-enabled`. Default: `no`.
    pub cluster_enabled: bool,
    /// `appendonly`. Default: `no`.
    pub appendonly: bool,
    /// `cluster-allow-reads-when-down`. Default: `no`.
    pub cluster_allow_reads_when_down: bool,
    /// `cluster-allow-pubsubshard-when-down`. Default: `yes`.
    pub cluster_allow_pubsubshard_when_down: bool,
    /// `crash-log-enabled`. Default: `yes`.
    pub crash_log_enabled: bool,
    /// `crash-memcheck-enabled`. Default: `yes`.
    pub crash_memcheck_enabled: bool,
    /// `use-exit-on-panic`. Default: `no`.
    pub use_exit_on_panic: bool,
    /// `disable-thp`. Default: `yes`.
    pub disable_thp: bool,
    /// `cluster-allow-replica-migration`. Default: `yes`.
    pub cluster_allow_replica_migration: bool,
    /// `replica-announced`. Default: `yes`.
    pub replica_announced: bool,
    /// `latency-tracking`. Default: `yes`.
    pub latency_tracking: bool,
    /// `aof-disable-auto-gc`. Default: `no`.
    pub aof_disable_auto_gc: bool,
    /// `replica-ignore-disk-write-errors`. Default: `no`.
    pub replica_ignore_disk_write_errors: bool,
    /// `lua-enable-deprecated-api`. Default: `no`.
    pub lua_enable_deprecated_api: bool,
    /// `aclfile`. Default: `""`.
    pub aclfile: String,
    /// `unixsocket`. Default: unset (`None`; setting `""` unsets).
    pub unixsocket: Option<String>,
    /// `pidfile`. Default: unset (`None`; setting `""` unsets).
    pub pidfile: Option<String>,
    /// `replica-announce-ip` (alias `slave-announce-ip`). Default: unset (`None`; setting `""` unsets).
    pub replica_announce_ip: Option<String>,
    /// `masteruser`. Default: unset (`None`; setting `""` unsets).
    pub masteruser: Option<String>,
    /// `cluster-announce-ip`. Default: unset (`None`; setting `""` unsets).
    pub cluster_announce_ip: Option<String>,
    /// `cluster-config-file`. Default: `nodes.conf`.
    pub cluster_config_file: String,
    /// `cluster-announce-hostname`. Default: unset (`None`; setting `""` unsets).
    pub cluster_announce_hostname: Option<String>,
    /// `syslog-ident`. Default: `redis`.
    pub syslog_ident: String,
    /// `dbfilename`. Default: `dump.rdb`.
    pub dbfilename: String,
    /// `appendfilename`. Default: `appendonly.aof`.
    pub appendfilename: String,
    /// `appenddirname`. Default: `appendonlydir`.
    pub appenddirname: String,
    /// `server_cpulist`. Default: unset (`None`; setting `""` unsets).
    pub server_cpulist: Option<String>,
    /// `bio_cpulist`. Default: unset (`None`; setting `""` unsets).
    pub bio_cpulist: Option<String>,
    /// `aof_rewrite_cpulist`. Default: unset (`None`; setting `""` unsets).
    pub aof_rewrite_cpulist: Option<String>,
    /// `bgsave_cpulist`. Default: unset (`None`; setting `""` unsets).
    pub bgsave_cpulist: Option<String>,
    /// `ignore-warnings`. Default: `""`.
    pub ignore_warnings: String,
    /// `proc-title-template`. Default: `{title} {listen-addr} {server-mode}`.
    pub proc_title_template: String,
    /// `bind-source-addr`. Default: unset (`None`; setting `""` unsets).
    pub bind_source_addr: Option<String>,
    /// `logfile`. Default: `""`.
    pub logfile: String,
    /// `masterauth` (binary safe). Default: unset (`None`; setting `""` unsets).
    pub masterauth: Option<Vec<u8>>,
    /// `requirepass` (binary safe). Default: unset (`None`; setting `""` unsets).
    pub requirepass: Option<Vec<u8>>,
    /// `supervised`. Default: `SupervisedMode::No`.
    pub supervised: SupervisedMode,
    /// `syslog-facility`. Default: `SyslogFacility::Local0`.
    pub syslog_facility: SyslogFacility,
    /// `repl-diskless-load`. Default: `ReplDisklessLoad::Disabled`.
    pub repl_diskless_load: ReplDisklessLoad,
    /// `loglevel`. Default: `LogLevel::Notice`.
    pub loglevel: LogLevel,
    /// `maxmemory-policy`. Default: `MaxmemoryPolicy::NoEviction`.
    pub maxmemory_policy: MaxmemoryPolicy,
    /// `appendfsync`. Default: `AppendFsync::EverySec`.
    pub appendfsync: AppendFsync,
    /// `oom-score-adj`. Default: `OomScoreAdj::No`.
    pub oom_score_adj: OomScoreAdj,
    /// `acl-pubsub-default`. Default: `AclPubsubDefault::ResetChannels`.
    pub acl_pubsub_default: AclPubsubDefault,
    /// `sanitize-dump-payload`. Default: `SanitizeDumpPayload::No`.
    pub sanitize_dump_payload: SanitizeDumpPayload,
    /// `enable-protected-configs`. Default: `ProtectedAction::No`.
    pub enable_protected_configs: ProtectedAction,
    /// `enable-debug-command`. Default: `ProtectedAction::No`.
    pub enable_debug_command: ProtectedAction,
    /// `enable-module-command`. Default: `ProtectedAction::No`.
    pub enable_module_command: ProtectedAction,
    /// `cluster-preferred-endpoint-type`. Default: `ClusterEndpointType::Ip`.
    pub cluster_preferred_endpoint_type: ClusterEndpointType,
    /// `propagation-error-behavior`. Default: `PropagationErrorBehavior::Ignore`.
    pub propagation_error_behavior: PropagationErrorBehavior,
    /// `shutdown-on-sigint`: bit set of [`shutdown_flags`] (`default` = 0). Default: `0`.
    pub shutdown_on_sigint: u32,
    /// `shutdown-on-sigterm`: bit set of [`shutdown_flags`] (`default` = 0). Default: `0`.
    pub shutdown_on_sigterm: u32,
    /// `snapshot-method`. Default: `SnapshotMethod::Auto`.
    pub snapshot_method: SnapshotMethod,
    /// `databases`. Range 1..=INT_MAX. Default: `16`.
    pub databases: usize,
    /// `port`. Range 0..=65535. Default: `6379`.
    pub port: u16,
    /// `io-threads`. Range 1..=128. Default: `1`.
    pub io_threads: u32,
    /// `auto-aof-rewrite-percentage`. Range 0..=INT_MAX. Default: `100`.
    pub auto_aof_rewrite_percentage: u32,
    /// `cluster-replica-validity-factor` (alias `cluster-slave-validity-factor`). Range 0..=INT_MAX. Default: `10`.
    pub cluster_replica_validity_factor: u32,
    /// `list-max-listpack-size` (alias `list-max-ziplist-size`). Range INT_MIN..=INT_MAX. Default: `-2`.
    pub list_max_listpack_size: i64,
    /// `tcp-keepalive`. Range 0..=INT_MAX. Default: `300`.
    pub tcp_keepalive: u32,
    /// `cluster-migration-barrier`. Range 0..=INT_MAX. Default: `1`.
    pub cluster_migration_barrier: u32,
    /// `active-defrag-cycle-min`. Range 1..=99. Default: `1`.
    pub active_defrag_cycle_min: u32,
    /// `active-defrag-cycle-max`. Range 1..=99. Default: `25`.
    pub active_defrag_cycle_max: u32,
    /// `active-defrag-threshold-lower`. Range 0..=1000. Default: `10`.
    pub active_defrag_threshold_lower: u32,
    /// `active-defrag-threshold-upper`. Range 0..=1000. Default: `100`.
    pub active_defrag_threshold_upper: u32,
    /// `lfu-log-factor`. Range 0..=INT_MAX. Default: `10`.
    pub lfu_log_factor: u32,
    /// `lfu-decay-time`. Range 0..=INT_MAX. Default: `1`.
    pub lfu_decay_time: u32,
    /// `replica-priority` (alias `slave-priority`). Range 0..=INT_MAX. Default: `100`.
    pub replica_priority: u32,
    /// `repl-diskless-sync-delay`. Range 0..=INT_MAX. Default: `5`.
    pub repl_diskless_sync_delay: u32,
    /// `maxmemory-samples`. Range 1..=INT_MAX. Default: `5`.
    pub maxmemory_samples: u32,
    /// `maxmemory-eviction-tenacity`. Range 0..=100. Default: `10`.
    pub maxmemory_eviction_tenacity: u32,
    /// `timeout`. Range 0..=INT_MAX. Default: `0`.
    pub timeout: u64,
    /// `replica-announce-port` (alias `slave-announce-port`). Range 0..=65535. Default: `0`.
    pub replica_announce_port: u16,
    /// `tcp-backlog`. Range 0..=INT_MAX. Default: `511`.
    pub tcp_backlog: u32,
    /// `cluster-port`. Range 0..=65535. Default: `0`.
    pub cluster_port: u16,
    /// `cluster-announce-bus-port`. Range 0..=65535. Default: `0`.
    pub cluster_announce_bus_port: u16,
    /// `cluster-announce-port`. Range 0..=65535. Default: `0`.
    pub cluster_announce_port: u16,
    /// `cluster-announce-tls-port`. Range 0..=65535. Default: `0`.
    pub cluster_announce_tls_port: u16,
    /// `repl-timeout`. Range 1..=INT_MAX. Default: `60`.
    pub repl_timeout: u32,
    /// `repl-ping-replica-period` (alias `repl-ping-slave-period`). Range 1..=INT_MAX. Default: `10`.
    pub repl_ping_replica_period: u32,
    /// `list-compress-depth`. Range 0..=INT_MAX. Default: `0`.
    pub list_compress_depth: u32,
    /// `rdb-key-save-delay`. Range INT_MIN..=INT_MAX. Default: `0`.
    pub rdb_key_save_delay: i32,
    /// `key-load-delay`. Range INT_MIN..=INT_MAX. Default: `0`.
    pub key_load_delay: i32,
    /// `active-expire-effort`. Range 1..=10. Default: `1`.
    pub active_expire_effort: u32,
    /// `hz`. Range 0..=INT_MAX. Default: `10`.
    pub hz: u32,
    /// `min-replicas-to-write` (alias `min-slaves-to-write`). Range 0..=INT_MAX. Default: `0`.
    pub min_replicas_to_write: u32,
    /// `min-replicas-max-lag` (alias `min-slaves-max-lag`). Range 0..=INT_MAX. Default: `10`.
    pub min_replicas_max_lag: u32,
    /// `watchdog-period`. Range 0..=INT_MAX. Default: `0`.
    pub watchdog_period: u32,
    /// `shutdown-timeout`. Range 0..=INT_MAX. Default: `10`.
    pub shutdown_timeout: u32,
    /// `repl-diskless-sync-max-replicas`. Range 0..=INT_MAX. Default: `0`.
    pub repl_diskless_sync_max_replicas: u32,
    /// `maxclients`. Range 1..=UINT_MAX. Default: `10000`.
    pub maxclients: u32,
    /// `unixsocketperm`. Range 0..=0o777. Default: `0`.
    pub unixsocketperm: u32,
    /// `socket-mark-id`. Range 0..=UINT_MAX. Default: `0`.
    pub socket_mark_id: u32,
    /// `active-defrag-max-scan-fields`. Range 1..=LONG_MAX. Default: `1000`.
    pub active_defrag_max_scan_fields: u64,
    /// `slowlog-max-len`. Range 0..=LONG_MAX. Default: `128`.
    pub slowlog_max_len: u64,
    /// `acllog-max-len`. Range 0..=LONG_MAX. Default: `128`.
    pub acllog_max_len: u64,
    /// `busy-reply-threshold` (alias `lua-time-limit`). Range 0..=LONG_MAX. Default: `5000`.
    pub busy_reply_threshold: i64,
    /// `cluster-node-timeout`. Range 0..=LLONG_MAX. Default: `15000`.
    pub cluster_node_timeout: i64,
    /// `slowlog-log-slower-than`. Range -1..=LLONG_MAX. Default: `10000`.
    pub slowlog_log_slower_than: i64,
    /// `latency-monitor-threshold`. Range 0..=LLONG_MAX. Default: `0`.
    pub latency_monitor_threshold: i64,
    /// `proto-max-bulk-len`. Range 1048576..=LONG_MAX. Default: `536870912`.
    pub proto_max_bulk_len: u64,
    /// `stream-node-max-entries`. Range 0..=LLONG_MAX. Default: `100`.
    pub stream_node_max_entries: i64,
    /// `repl-backlog-size`. Range 1..=LLONG_MAX. Default: `1048576`.
    pub repl_backlog_size: i64,
    /// `maxmemory`. Range 0..=ULLONG_MAX. Default: `0`.
    pub maxmemory: u64,
    /// `cluster-link-sendbuf-limit`. Range 0..=ULLONG_MAX. Default: `0`.
    pub cluster_link_sendbuf_limit: u64,
    /// `hash-max-listpack-entries` (alias `hash-max-ziplist-entries`). Range 0..=LONG_MAX. Default: `512`.
    pub hash_max_listpack_entries: usize,
    /// `set-max-intset-entries`. Range 0..=LONG_MAX. Default: `512`.
    pub set_max_intset_entries: usize,
    /// `zset-max-listpack-entries` (alias `zset-max-ziplist-entries`). Range 0..=LONG_MAX. Default: `128`.
    pub zset_max_listpack_entries: usize,
    /// `active-defrag-ignore-bytes`. Range 1..=LLONG_MAX. Default: `104857600`.
    pub active_defrag_ignore_bytes: u64,
    /// `hash-max-listpack-value` (alias `hash-max-ziplist-value`). Range 0..=LONG_MAX. Default: `64`.
    pub hash_max_listpack_value: usize,
    /// `stream-node-max-bytes`. Range 0..=LONG_MAX. Default: `4096`.
    pub stream_node_max_bytes: usize,
    /// `zset-max-listpack-value` (alias `zset-max-ziplist-value`). Range 0..=LONG_MAX. Default: `64`.
    pub zset_max_listpack_value: usize,
    /// `hll-sparse-max-bytes`. Range 0..=LONG_MAX. Default: `3000`.
    pub hll_sparse_max_bytes: usize,
    /// `tracking-table-max-keys`. Range 0..=LONG_MAX. Default: `1000000`.
    pub tracking_table_max_keys: usize,
    /// `client-query-buffer-limit`. Range 1048576..=LONG_MAX. Default: `1073741824`.
    pub client_query_buffer_limit: usize,
    /// `maxmemory-clients`. Range -100..=LLONG_MAX. Default: `0`.
    pub maxmemory_clients: i64,
    /// `repl-backlog-ttl`. Range 0..=LONG_MAX. Default: `3600`.
    pub repl_backlog_ttl: i64,
    /// `auto-aof-rewrite-min-size`. Range 0..=LLONG_MAX. Default: `67108864`.
    pub auto_aof_rewrite_min_size: i64,
    /// `loading-process-events-interval-bytes`. Range 1024..=INT_MAX. Default: `2097152`.
    pub loading_process_events_interval_bytes: i64,
    /// `reserved-memory`. Range 0..=ULLONG_MAX. Default: `0`.
    pub reserved_memory: u64,
    /// `snapshot-buffer-high-water` (snapcache): bytes a forkless save may
    /// hold for its writer before write commands wait. Range 1..=ULLONG_MAX.
    /// Default: `16mb`.
    pub snapshot_buffer_high_water: u64,
    /// `snapshot-writer-delay` (snapcache, hidden, for tests): microseconds
    /// the forkless writer sleeps per chunk. Range 0..=INT_MAX. Default: `0`.
    pub snapshot_writer_delay: i32,
    /// `snapshot-busy-share` (snapcache): while clients keep the server
    /// busy, the percentage of the engine thread's time and of the writer
    /// thread's that a forkless save may take (it runs at full speed when
    /// they are idle, or when its buffer fills). Range 1..=100. Default: `10`.
    pub snapshot_busy_share: u32,
    /// `reserved-memory-percent`. Range 0..=100. Default: `25`.
    pub reserved_memory_percent: u32,

    // ---- special parameters ----
    /// `dir`: working directory, stored absolute. Default: the process's
    /// current directory at startup.
    pub dir: PathBuf,
    /// `save`: RDB save points as `(seconds, changes)`; empty disables
    /// automatic snapshots. Default: `3600 1 300 100 60 10000`.
    pub save: Vec<(u64, u64)>,
    /// `client-output-buffer-limit`, indexed by [`CLIENT_TYPE_NORMAL`],
    /// [`CLIENT_TYPE_REPLICA`], [`CLIENT_TYPE_PUBSUB`]. Default: `normal 0 0 0
    /// slave 268435456 67108864 60 pubsub 33554432 8388608 60`.
    pub client_output_buffer_limit: [ClientBufferLimit; 3],
    /// `oom-score-adj-values` (master, replica, bgchild). Default: `0 200 800`.
    pub oom_score_adj_values: [i32; 3],
    /// `notify-keyspace-events` as [`notify`] flag bits. Default: `0`
    /// (GET renders it with [`notify::to_string`]: `""`).
    pub notify_keyspace_events: u32,
    /// `bind`: listen addresses (`-` prefix = optional). Default: `* -::*`.
    pub bind: Vec<String>,
    /// `replicaof` (alias `slaveof`): `(host, port)` of the master. Default:
    /// none.
    pub replicaof: Option<(String, u16)>,
    /// `latency-tracking-info-percentiles`. Default: `50 99 99.9`.
    pub latency_tracking_info_percentiles: Vec<f64>,

    // ---- runtime state / bookkeeping (not CONFIG parameters) ----
    /// Absolute path of the configuration file given on the command line,
    /// used by `CONFIG REWRITE`. Default: none.
    pub config_file: Option<PathBuf>,
    /// `rename-command <from> <to>` directives in load order; an empty
    /// `to` removes the command. Applied by the command table.
    pub rename_commands: Vec<(String, String)>,
    /// `user ...` directives (arguments after `user`), for the ACL module.
    pub users: Vec<Vec<String>>,
    /// `loadmodule <path> [args]` directives (unsupported by snapcache; the
    /// server should refuse to start when non-empty).
    pub loadmodules: Vec<Vec<String>>,
    /// Module configuration lines (`name.option value`), kept for error
    /// reporting.
    pub module_configs: Vec<(String, String)>,
    /// Active expire cycle switch (`DEBUG SET-ACTIVE-EXPIRE`). Default: on.
    pub active_expire_enabled: bool,
    /// `reserved-memory` was given (file, command line or CONFIG SET): the
    /// reserve then lowers the limit eviction enforces. Default: no.
    pub reserved_memory_set: bool,
    /// `reserved-memory-percent` was given, as `reserved_memory_set`.
    pub reserved_memory_percent_set: bool,
    /// Redis's "first `save` line of a config file resets the defaults".
    save_loaded: bool,
}

impl Default for Config {
    fn default() -> Self {
        let dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        Config {
            rdbchecksum: true,
            daemonize: false,
            io_threads_do_reads: false,
            always_show_logo: false,
            protected_mode: true,
            rdbcompression: true,
            rdb_del_sync_files: false,
            activerehashing: true,
            stop_writes_on_bgsave_error: true,
            set_proc_title: true,
            dynamic_hz: true,
            lazyfree_lazy_eviction: false,
            lazyfree_lazy_expire: false,
            lazyfree_lazy_server_del: false,
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            repl_disable_tcp_nodelay: false,
            repl_diskless_sync: true,
            aof_rewrite_incremental_fsync: true,
            no_appendfsync_on_rewrite: false,
            cluster_require_full_coverage: true,
            rdb_save_incremental_fsync: true,
            aof_load_truncated: true,
            aof_use_rdb_preamble: true,
            aof_timestamp_enabled: false,
            cluster_replica_no_failover: false,
            replica_lazy_flush: false,
            replica_serve_stale_data: true,
            replica_read_only: true,
            replica_ignore_maxmemory: true,
            jemalloc_bg_thread: true,
            activedefrag: false,
            syslog_enabled: false,
            cluster_enabled: false,
            appendonly: false,
            cluster_allow_reads_when_down: false,
            cluster_allow_pubsubshard_when_down: true,
            crash_log_enabled: true,
            crash_memcheck_enabled: true,
            use_exit_on_panic: false,
            disable_thp: true,
            cluster_allow_replica_migration: true,
            replica_announced: true,
            latency_tracking: true,
            aof_disable_auto_gc: false,
            replica_ignore_disk_write_errors: false,
            lua_enable_deprecated_api: false,
            aclfile: String::from(""),
            unixsocket: None,
            pidfile: None,
            replica_announce_ip: None,
            masteruser: None,
            cluster_announce_ip: None,
            cluster_config_file: String::from("nodes.conf"),
            cluster_announce_hostname: None,
            syslog_ident: String::from("redis"),
            dbfilename: String::from("dump.rdb"),
            appendfilename: String::from("appendonly.aof"),
            appenddirname: String::from("appendonlydir"),
            server_cpulist: None,
            bio_cpulist: None,
            aof_rewrite_cpulist: None,
            bgsave_cpulist: None,
            ignore_warnings: String::from(""),
            proc_title_template: String::from("{title} {listen-addr} {server-mode}"),
            bind_source_addr: None,
            logfile: String::from(""),
            masterauth: None,
            requirepass: None,
            supervised: SupervisedMode::No,
            syslog_facility: SyslogFacility::Local0,
            repl_diskless_load: ReplDisklessLoad::Disabled,
            loglevel: LogLevel::Notice,
            maxmemory_policy: MaxmemoryPolicy::NoEviction,
            appendfsync: AppendFsync::EverySec,
            oom_score_adj: OomScoreAdj::No,
            acl_pubsub_default: AclPubsubDefault::ResetChannels,
            sanitize_dump_payload: SanitizeDumpPayload::No,
            enable_protected_configs: ProtectedAction::No,
            enable_debug_command: ProtectedAction::No,
            enable_module_command: ProtectedAction::No,
            cluster_preferred_endpoint_type: ClusterEndpointType::Ip,
            propagation_error_behavior: PropagationErrorBehavior::Ignore,
            shutdown_on_sigint: 0,
            shutdown_on_sigterm: 0,
            snapshot_method: SnapshotMethod::Auto,
            databases: 16,
            port: 6379,
            io_threads: 1,
            auto_aof_rewrite_percentage: 100,
            cluster_replica_validity_factor: 10,
            list_max_listpack_size: -2,
            tcp_keepalive: 300,
            cluster_migration_barrier: 1,
            active_defrag_cycle_min: 1,
            active_defrag_cycle_max: 25,
            active_defrag_threshold_lower: 10,
            active_defrag_threshold_upper: 100,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            replica_priority: 100,
            repl_diskless_sync_delay: 5,
            maxmemory_samples: 5,
            maxmemory_eviction_tenacity: 10,
            timeout: 0,
            replica_announce_port: 0,
            tcp_backlog: 511,
            cluster_port: 0,
            cluster_announce_bus_port: 0,
            cluster_announce_port: 0,
            cluster_announce_tls_port: 0,
            repl_timeout: 60,
            repl_ping_replica_period: 10,
            list_compress_depth: 0,
            rdb_key_save_delay: 0,
            key_load_delay: 0,
            active_expire_effort: 1,
            hz: 10,
            min_replicas_to_write: 0,
            min_replicas_max_lag: 10,
            watchdog_period: 0,
            shutdown_timeout: 10,
            repl_diskless_sync_max_replicas: 0,
            maxclients: 10000,
            unixsocketperm: 0,
            socket_mark_id: 0,
            active_defrag_max_scan_fields: 1000,
            slowlog_max_len: 128,
            acllog_max_len: 128,
            busy_reply_threshold: 5000,
            cluster_node_timeout: 15000,
            slowlog_log_slower_than: 10000,
            latency_monitor_threshold: 0,
            proto_max_bulk_len: 536870912,
            stream_node_max_entries: 100,
            repl_backlog_size: 1048576,
            maxmemory: 0,
            cluster_link_sendbuf_limit: 0,
            hash_max_listpack_entries: 512,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            active_defrag_ignore_bytes: 104857600,
            hash_max_listpack_value: 64,
            stream_node_max_bytes: 4096,
            zset_max_listpack_value: 64,
            hll_sparse_max_bytes: 3000,
            tracking_table_max_keys: 1000000,
            client_query_buffer_limit: 1073741824,
            maxmemory_clients: 0,
            repl_backlog_ttl: 3600,
            auto_aof_rewrite_min_size: 67108864,
            loading_process_events_interval_bytes: 2097152,
            reserved_memory: 0,
            snapshot_busy_share: 10,
            reserved_memory_percent: 25,
            snapshot_buffer_high_water: 16 << 20,
            snapshot_writer_delay: 0,
            dir,
            save: DEFAULT_SAVE_POINTS.to_vec(),
            client_output_buffer_limit: DEFAULT_CLIENT_OUTPUT_BUFFER_LIMITS,
            oom_score_adj_values: DEFAULT_OOM_SCORE_ADJ_VALUES,
            notify_keyspace_events: 0,
            bind: DEFAULT_BIND.iter().map(|s| s.to_string()).collect(),
            replicaof: None,
            latency_tracking_info_percentiles: DEFAULT_LATENCY_PERCENTILES.to_vec(),
            config_file: None,
            rename_commands: Vec::new(),
            users: Vec::new(),
            loadmodules: Vec::new(),
            module_configs: Vec::new(),
            active_expire_enabled: true,
            reserved_memory_set: false,
            reserved_memory_percent_set: false,
            save_loaded: false,
        }
    }
}

/// Where configuration text came from (for diagnostics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin<'a> {
    /// A configuration file (or an `include`d one).
    File(&'a Path),
    /// The command line merged with file/stdin content, as redis-server
    /// does.
    CommandLine,
    /// Any other text (tests, embedding).
    Text,
}

/// Errors from loading configuration. `Display` reproduces what
/// redis-server prints to stderr before exiting with status 1.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A bad line: printed in Redis's fatal format.
    #[error("\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\nReading the configuration file, at line {line}\n>>> '{text}'\n{reason}")]
    Line {
        /// 1-based line number in the text being parsed.
        line: usize,
        /// The offending line, trimmed.
        text: String,
        /// Redis's reason text, e.g. "Bad directive or wrong number of arguments".
        reason: String,
        /// Path of the file being parsed, when known.
        file: Option<PathBuf>,
    },
    /// A fatal error not tied to a line (e.g. "Can't open the log file: ...").
    #[error("\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n{reason}")]
    Fatal {
        /// Redis's reason text.
        reason: String,
    },
    /// The configuration file (or an include) could not be read.
    #[error("Fatal error, can't open config file '{path}': {reason}")]
    Open {
        /// The path as given.
        path: String,
        /// `strerror` text.
        reason: String,
    },
    /// `-v` / `--version` was given: print [`version_string`] to stdout and
    /// exit 0.
    #[error("{}", version_string())]
    VersionRequested,
    /// `-h` / `--help` was given: print this (usage) to stderr, exit 1.
    #[error("{}", usage())]
    HelpRequested,
}

impl ConfigError {
    /// The process exit status redis-server uses for this outcome.
    pub fn exit_code(&self) -> i32 {
        match self {
            ConfigError::VersionRequested => 0,
            _ => 1,
        }
    }
}

/// The `--version` line.
pub fn version_string() -> String {
    format!(
        "Redis server v={REDIS_VERSION} sha=00000000:0 malloc=jemalloc bits=64 build=0 (snapcache {})",
        env!("CARGO_PKG_VERSION")
    )
}

/// The `--help` text (redis-server's `usage()`).
pub fn usage() -> String {
    let n = "./snapcache-server";
    format!(
        "Usage: {n} [/path/to/redis.conf] [options] [-]\n       {n} - (read config from stdin)\n       {n} -v or --version\n       {n} -h or --help\n\nExamples:\n       {n} (run the server with default conf)\n       echo 'maxmemory 128mb' | {n} -\n       {n} /etc/redis/6379.conf\n       {n} --port 7777\n       {n} --port 7777 --replicaof 127.0.0.1 8888\n       {n} /etc/myredis.conf --loglevel verbose -\n       {n} /etc/myredis.conf --loglevel verbose\n"
    )
}

/// Options for [`Config::set_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetOptions {
    /// The client is local (loopback / unix socket), for
    /// `enable-protected-configs local`.
    pub is_local_client: bool,
    /// The server is loading a dataset (DENY_LOADING parameters refuse).
    pub loading: bool,
}

/// `strerror`-like text of an I/O error (without Rust's "(os error N)").
pub(crate) fn strerror(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Maximum `include` nesting (Redis has none and would recurse forever).
const MAX_INCLUDE_DEPTH: usize = 32;

/// Directives Redis's loader ignores for backward compatibility, with
/// their accepted argc range.
const DEPRECATED: [(&str, usize, usize); 3] = [
    ("list-max-ziplist-entries", 2, 2),
    ("list-max-ziplist-value", 2, 2),
    ("lua-replicate-commands", 2, 2),
];

impl Config {
    /// Build the configuration from redis-server style arguments
    /// (`args` excludes the program name): `[configfile] [--name value ...]
    /// [-]`. The first argument is a config file unless it starts with `-`;
    /// `-` as the first or last argument reads stdin; each `--name` starts
    /// a config line whose value is every following argument up to the next
    /// `--` option (quoted, as redis-server does); `--save` with no value
    /// means `save ""`. Precedence: file, then stdin, then options.
    /// `-v`/`--version` and `-h`/`--help` as the first argument return
    /// [`ConfigError::VersionRequested`] / [`ConfigError::HelpRequested`].
    pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
        Self::from_args_with_stdin(args, &mut || {
            let mut s = String::new();
            io::Read::read_to_string(&mut io::stdin(), &mut s).map(|_| s)
        })
    }

    /// [`Config::from_args`] with an injectable stdin reader.
    pub fn from_args_with_stdin(
        args: &[String],
        read_stdin: &mut dyn FnMut() -> io::Result<String>,
    ) -> Result<Config, ConfigError> {
        let mut cfg = Config::default();
        if args.is_empty() {
            return Ok(cfg);
        }
        let first = args[0].as_str();
        if first == "-v" || first == "--version" {
            return Err(ConfigError::VersionRequested);
        }
        if first == "-h" || first == "--help" {
            return Err(ConfigError::HelpRequested);
        }
        let mut j = 0;
        if !first.starts_with('-') {
            let p = Path::new(first);
            cfg.config_file = Some(std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()));
            j = 1;
        }
        let mut from_stdin = false;
        let mut options = String::new();
        let mut handled_last = true;
        let last = args.len() - 1;
        while j < args.len() {
            let a = args[j].as_str();
            if a == "-" && (j == 0 || j == last) {
                from_stdin = true;
            } else if handled_last && a.starts_with("--") {
                if !options.is_empty() {
                    options.push('\n');
                }
                options.push_str(&a[2..]);
                options.push(' ');
                let words = split_args(a.as_bytes()).map_or(0, |v| v.len());
                if words == 1 {
                    handled_last = false;
                    let next_is_opt = j != last && args[j + 1].starts_with("--");
                    if a.eq_ignore_ascii_case("--save") && (next_is_opt || j == last) {
                        options.push_str("\"\"");
                        handled_last = true;
                    } else if a.eq_ignore_ascii_case("--sentinel") && (next_is_opt || j == last) {
                        handled_last = true;
                    }
                } else {
                    handled_last = true;
                }
            } else {
                options.push_str(&rewrite::repr(a.as_bytes()));
                options.push(' ');
                handled_last = true;
            }
            j += 1;
        }
        let mut text = String::new();
        if let Some(path) = cfg.config_file.clone() {
            text.push_str(&read_config_source(&path.to_string_lossy())?);
        }
        if from_stdin {
            let s = read_stdin().map_err(|e| ConfigError::Open {
                path: "-".to_string(),
                reason: strerror(&e),
            })?;
            text.push_str(&s);
        }
        text.push('\n');
        text.push_str(&options);
        cfg.load_str(&text, Origin::CommandLine)?;
        Ok(cfg)
    }

    /// Load a configuration file (wildcards expand like `include`).
    pub fn load_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = read_config_source(&path.to_string_lossy())?;
        self.load_str(&text, Origin::File(path))
    }

    /// Parse redis.conf text (Redis `loadServerConfigFromString`): one
    /// directive per line, arguments split like `sdssplitargs` (quotes and
    /// escapes), `#` comments, `include <path-or-glob>`, repeated `save`
    /// lines accumulate (the first one replaces the defaults), the last
    /// `bind` wins, deprecated directives are ignored. Stops at the first
    /// error, which carries Redis's message.
    pub fn load_str(&mut self, text: &str, origin: Origin<'_>) -> Result<(), ConfigError> {
        self.load_str_depth(text, origin, 0)
    }

    fn load_str_depth(
        &mut self,
        text: &str,
        origin: Origin<'_>,
        depth: usize,
    ) -> Result<(), ConfigError> {
        let file = match origin {
            Origin::File(p) => Some(p.to_path_buf()),
            _ => None,
        };
        for (i, raw) in text.split('\n').enumerate() {
            let line = raw.trim_matches([' ', '\t', '\r', '\n']);
            let fail = |reason: String| ConfigError::Line {
                line: i + 1,
                text: line.to_string(),
                reason,
                file: file.clone(),
            };
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some(argv) = split_args(line.as_bytes()) else {
                return Err(fail("Unbalanced quotes in configuration line".into()));
            };
            if argv.is_empty() {
                continue;
            }
            let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
            if let Some(desc) = table::lookup(name.as_bytes()) {
                let multi = desc.flags & table::MULTI_ARG != 0;
                if !multi && argv.len() != 2 {
                    return Err(fail("wrong number of arguments".into()));
                }
                let res = if multi && argv.len() == 2 && !argv[1].is_empty() {
                    match split_args(&argv[1]) {
                        Some(sub) => table::set_value(desc, self, &sub, true),
                        None => Err("Unbalanced quotes in configuration line".into()),
                    }
                } else {
                    table::set_value(desc, self, &argv[1..], true)
                };
                res.map_err(fail)?;
                continue;
            }
            let argc = argv.len();
            if DEPRECATED
                .iter()
                .any(|&(n, lo, hi)| n == name && (lo..=hi).contains(&argc))
            {
                continue;
            }
            let strs: Vec<String> = argv
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            if name == "include" && argc == 2 {
                if depth >= MAX_INCLUDE_DEPTH {
                    return Err(fail("Too many nested include directives".into()));
                }
                for path in expand_include(&strs[1])? {
                    let content = read_file(&path)?;
                    self.load_str_depth(&content, Origin::File(Path::new(&path)), depth + 1)?;
                }
            } else if name == "rename-command" && argc == 3 {
                self.rename_commands
                    .push((strs[1].clone(), strs[2].clone()));
            } else if name == "user" && argc >= 2 {
                self.users.push(strs[1..].to_vec());
            } else if name == "loadmodule" && argc >= 2 {
                self.loadmodules.push(strs[1..].to_vec());
            } else if name.contains('.') {
                if argc < 2 {
                    return Err(fail("Module config specified without value".into()));
                }
                let name = strs[0].clone();
                let val = strs[1..].join(" ");
                match self.module_configs.iter_mut().find(|(n, _)| *n == name) {
                    Some(entry) => entry.1 = val,
                    None => self.module_configs.push((name, val)),
                }
            } else if name == "sentinel" {
                if argc != 1 {
                    return Err(fail("sentinel directive while not in sentinel mode".into()));
                }
            } else {
                return Err(fail("Bad directive or wrong number of arguments".into()));
            }
        }
        if !self.logfile.is_empty() {
            if let Err(e) = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&self.logfile)
            {
                return Err(ConfigError::Fatal {
                    reason: format!("Can't open the log file: {}", strerror(&e)),
                });
            }
        }
        if self.cluster_enabled && self.replicaof.is_some() {
            return Err(ConfigError::Fatal {
                reason: "replicaof directive not allowed in cluster mode".into(),
            });
        }
        self.clamp_hz();
        Ok(())
    }

    /// `hz` is a hint: Redis silently caps it to 1..=500.
    fn clamp_hz(&mut self) {
        self.hz = self.hz.clamp(CONFIG_MIN_HZ, CONFIG_MAX_HZ);
    }

    /// `CONFIG SET name value [name value ...]` with default
    /// [`SetOptions`] (non-local client, not loading).
    pub fn set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<Vec<&'static str>, String> {
        self.set_with(pairs, SetOptions::default())
    }

    /// `CONFIG SET` (Redis `configSetCommand`): all pairs are validated and
    /// applied atomically — on any error nothing changes. Returns the
    /// canonical names whose value changed, in argument order. Errors are
    /// full reply strings, e.g. `ERR Unknown option or number of arguments
    /// for CONFIG SET - 'foo'` or `ERR CONFIG SET failed (possibly related
    /// to argument 'maxmemory') - argument must be a memory value`.
    pub fn set_with(
        &mut self,
        pairs: &[(&[u8], &[u8])],
        opts: SetOptions,
    ) -> Result<Vec<&'static str>, String> {
        let mut found: Vec<(&'static ConfigDesc, &'static str)> = Vec::with_capacity(pairs.len());
        let mut invalid_arg: Option<String> = None;
        let mut err: Option<(String, &'static str)> = None;
        let mut invalid = false;
        let mut deny_loading = false;
        for &(name, _) in pairs {
            let Some((desc, used)) = table::lookup_with_name(name) else {
                if !invalid {
                    invalid_arg = Some(String::from_utf8_lossy(name).into_owned());
                    invalid = true;
                }
                continue;
            };
            if invalid {
                continue;
            }
            let shown = String::from_utf8_lossy(name).into_owned();
            if desc.flags & table::IMMUTABLE != 0 {
                err = Some((shown, "can't set immutable config"));
                invalid = true;
                continue;
            }
            if desc.flags & table::PROTECTED != 0
                && !self.enable_protected_configs.allows(opts.is_local_client)
            {
                err = Some((shown, "can't set protected config"));
                invalid = true;
                continue;
            }
            if opts.loading && desc.flags & table::DENY_LOADING != 0 {
                deny_loading = true;
                invalid = true;
                continue;
            }
            if found.iter().any(|(d, _)| std::ptr::eq(*d, desc)) {
                err = Some((shown, "duplicate parameter"));
                invalid = true;
            }
            found.push((desc, used));
        }
        if deny_loading {
            return Err("LOADING Redis is loading the dataset in memory".into());
        }
        if let Some(name) = invalid_arg {
            return Err(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
            ));
        }
        if let Some((name, e)) = err {
            return Err(format!(
                "ERR CONFIG SET failed (possibly related to argument '{name}') - {e}"
            ));
        }
        let backup = self.clone();
        let mut changed: Vec<&'static str> = Vec::new();
        for (&(_, value), &(desc, used)) in pairs.iter().zip(found.iter()) {
            let before = table::get_value(desc, self);
            let argv: Vec<Vec<u8>> = if desc.flags & table::MULTI_ARG != 0 {
                if value.is_empty() {
                    Vec::new()
                } else {
                    value.split(|&b| b == b' ').map(<[u8]>::to_vec).collect()
                }
            } else {
                vec![value.to_vec()]
            };
            if let Err(e) = table::set_value(desc, self, &argv, false) {
                *self = backup;
                return Err(format!(
                    "ERR CONFIG SET failed (possibly related to argument '{used}') - {e}"
                ));
            }
            if desc.name == "hz" {
                self.clamp_hz();
            }
            if table::get_value(desc, self) != before && !changed.contains(&desc.name) {
                changed.push(desc.name);
            }
        }
        Ok(changed)
    }

    /// `CONFIG GET pattern [pattern ...]` (Redis 7.0 semantics): a pattern
    /// without `*?[` is an exact, case-insensitive lookup of a name or alias
    /// (hidden parameters included) and is echoed as given; a glob pattern
    /// is matched case-insensitively against every non-hidden name *and*
    /// alias. No name appears twice. Values are formatted as Redis does.
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for &pat in patterns {
            if !has_glob_chars(pat) {
                let key = String::from_utf8_lossy(pat).into_owned();
                if out.iter().any(|(k, _)| k.eq_ignore_ascii_case(&key)) {
                    continue;
                }
                if let Some(desc) = table::lookup(pat) {
                    out.push((key, table::get_string(desc, self)));
                }
                continue;
            }
            for desc in CONFIGS {
                if desc.flags & table::HIDDEN != 0 {
                    continue;
                }
                for name in std::iter::once(desc.name).chain(desc.alias) {
                    if out.iter().any(|(k, _)| k.eq_ignore_ascii_case(name)) {
                        continue;
                    }
                    if string_match(pat, name.as_bytes(), true) {
                        out.push((name.to_string(), table::get_string(desc, self)));
                    }
                }
            }
        }
        out
    }

    /// The `CONFIG GET` value of one parameter (name or alias).
    pub fn get_value(&self, name: &str) -> Option<String> {
        table::lookup(name.as_bytes()).map(|d| table::get_string(d, self))
    }

    /// Whether `name` (or alias) is a sensitive parameter whose CONFIG SET
    /// value must be redacted from slowlog/MONITOR.
    pub fn is_sensitive(name: &[u8]) -> bool {
        table::lookup(name).is_some_and(|d| d.flags & table::SENSITIVE != 0)
    }

    /// `CONFIG REWRITE` into `path`: keeps comments, unknown-but-supported
    /// directives (`include`, `rename-command`, `user`, ...) and line order;
    /// replaces existing directives in place, blanks stale duplicates,
    /// drops directives for parameters at their default that were not in
    /// the file, appends the rest after a `# Generated by CONFIG REWRITE`
    /// line, and writes atomically (temp file + fsync + rename).
    pub fn rewrite(&self, path: &Path) -> io::Result<()> {
        rewrite::rewrite_file(self, path)
    }

    /// The text [`Config::rewrite`] would write given the old file content.
    pub fn rewrite_to_string(&self, old: &str) -> String {
        rewrite::rewrite_content(self, old)
    }

    /// Absolute path of the config file given on the command line.
    pub fn config_file(&self) -> Option<&Path> {
        self.config_file.as_deref()
    }

    /// `loglevel` as its name (`debug`, `verbose`, `notice`, `warning`).
    pub fn loglevel_name(&self) -> &'static str {
        self.loglevel.name()
    }

    /// The eviction policy is LFU-based (OBJECT FREQ allowed, LFU counters
    /// maintained instead of LRU clocks).
    pub fn maxmemory_policy_is_lfu(&self) -> bool {
        self.maxmemory_policy.is_lfu()
    }

    /// The eviction policy uses per-object LRU/LFU metadata (Redis refuses
    /// shared integer objects then).
    pub fn maxmemory_policy_uses_lru_lfu(&self) -> bool {
        self.maxmemory_policy.is_lru() || self.maxmemory_policy.is_lfu()
    }

    /// `notify-keyspace-events` in its string form (`CONFIG GET` value).
    pub fn notify_keyspace_events_string(&self) -> String {
        notify::to_string(self.notify_keyspace_events)
    }
}

/// Read a config source that may contain wildcards (Redis
/// `loadServerConfig`): each matching file is read in order and
/// concatenated; no match is not an error when wildcards are used.
fn read_config_source(path: &str) -> Result<String, ConfigError> {
    let mut text = String::new();
    for p in expand_include(path)? {
        text.push_str(&read_file(&p)?);
    }
    Ok(text)
}

fn read_file(path: &str) -> Result<String, ConfigError> {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| ConfigError::Open {
            path: path.to_string(),
            reason: strerror(&e),
        })
}

/// Expand a path with `*?[` like glob(3) (sorted, no hidden files unless
/// the pattern component starts with `.`); a plain path is returned as is.
fn expand_include(path: &str) -> Result<Vec<String>, ConfigError> {
    if !has_glob_chars(path.as_bytes()) {
        return Ok(vec![path.to_string()]);
    }
    let absolute = path.starts_with('/');
    let mut current: Vec<PathBuf> = vec![if absolute {
        PathBuf::from("/")
    } else {
        PathBuf::new()
    }];
    for comp in path.split('/').filter(|c| !c.is_empty()) {
        let mut next = Vec::new();
        for base in &current {
            if !has_glob_chars(comp.as_bytes()) {
                next.push(base.join(comp));
                continue;
            }
            let dir = if base.as_os_str().is_empty() {
                Path::new(".")
            } else {
                base.as_path()
            };
            let Ok(rd) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut names: Vec<String> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.') || comp.starts_with('.'))
                .filter(|n| string_match(comp.as_bytes(), n.as_bytes(), false))
                .collect();
            names.sort();
            next.extend(names.into_iter().map(|n| base.join(n)));
        }
        current = next;
    }
    Ok(current
        .into_iter()
        .filter(|p| p.exists())
        .map(|p| p.to_string_lossy().into_owned())
        .collect())
}

#[cfg(test)]
mod tests;
