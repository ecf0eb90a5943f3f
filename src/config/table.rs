//! The static parameter table shared by the loader, CONFIG GET/SET and
//! CONFIG REWRITE, plus the generic and special per-kind logic.
//!
//! Entries follow Redis 7.0's `static_configs[]` (same names, aliases,
//! flags, bounds and defaults); TLS parameters are omitted (snapcache has
//! no TLS), and snapcache's own parameters are appended.

use std::borrow::Cow;
use std::path::PathBuf;

use super::rewrite::{repr, RewriteState};
use super::{
    notify, shutdown_flags, strerror, AclPubsubDefault, AppendFsync, ClientBufferLimit,
    ClusterEndpointType, Config, LogLevel, MaxmemoryPolicy, OomScoreAdj, PropagationErrorBehavior,
    ProtectedAction, ReplDisklessLoad, SanitizeDumpPayload, SnapshotMethod, SupervisedMode,
    SyslogFacility, CONFIG_BINDADDR_MAX, DEFAULT_BIND, DEFAULT_CLIENT_OUTPUT_BUFFER_LIMITS,
    DEFAULT_OOM_SCORE_ADJ_VALUES,
};
use crate::util::num::{
    format_memory, memtoull, parse_f64, string2ll, strtoll_full, strtoll_full_checked,
};

/// Only settable at startup (CONFIG SET refuses).
pub const IMMUTABLE: u32 = 1 << 0;
/// Value is secret: redact CONFIG SET arguments.
pub const SENSITIVE: u32 = 1 << 1;
/// Useful for debugging (informational).
pub const DEBUG: u32 = 1 << 2;
/// Takes several arguments (`save`, `bind`, ...).
pub const MULTI_ARG: u32 = 1 << 3;
/// Not matched by CONFIG GET patterns (exact name only).
pub const HIDDEN: u32 = 1 << 4;
/// Settable only when `enable-protected-configs` allows it.
pub const PROTECTED: u32 = 1 << 5;
/// CONFIG SET refused while loading a dataset.
pub const DENY_LOADING: u32 = 1 << 6;

/// Syntax of a numeric parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumFmt {
    /// Plain integer (`string2ll`).
    Int,
    /// Memory amount (`memtoull`: `1gb`, `100mb`, `64k`, bytes).
    Memory,
    /// Memory amount or `N%` (stored as `-N`).
    MemoryPercent,
    /// Octal integer (`strtoll(.., 8)`).
    Octal,
}

/// Setter of a special parameter: `(config, args, from_config_file)`.
pub type SpecialSet = fn(&mut Config, &[Vec<u8>], bool) -> Result<(), String>;

/// Extra validation of a string value, returning Redis's error text.
pub type StrValidator = fn(&[u8]) -> Result<(), &'static str>;
/// Extra validation of an enum / flag-set value.
pub type EnumValidator = fn(i32) -> Result<(), &'static str>;

/// How a parameter is parsed, stored, printed and rewritten.
#[derive(Clone, Copy)]
pub enum Kind {
    /// `yes` / `no`.
    Bool {
        /// Default value.
        default: bool,
        /// Read the field.
        get: fn(&Config) -> bool,
        /// Write the field.
        set: fn(&mut Config, bool),
    },
    /// Integer stored in some integer field; values travel as `i128`.
    Num {
        /// Lower bound (inclusive).
        min: i128,
        /// Upper bound (inclusive).
        max: i128,
        /// Default value.
        default: i128,
        /// Accepted syntax.
        fmt: NumFmt,
        /// Read the field.
        get: fn(&Config) -> i128,
        /// Write the field (value within bounds).
        set: fn(&mut Config, i128),
    },
    /// String; `None` means unset (only when `empty_is_null`).
    Str {
        /// Default value (`None` = unset).
        default: Option<&'static str>,
        /// Setting `""` stores `None`.
        empty_is_null: bool,
        /// Extra validation with Redis's error text.
        validate: Option<StrValidator>,
        /// Read the field.
        get: fn(&Config) -> Option<Cow<'_, [u8]>>,
        /// Write the field.
        set: fn(&mut Config, Option<&[u8]>),
    },
    /// One name out of a list (or a set of flags when MULTI_ARG).
    Enum {
        /// `(name, value)` in Redis's order.
        names: &'static [(&'static str, i32)],
        /// Default value.
        default: i32,
        /// Extra validation with Redis's error text.
        validate: Option<EnumValidator>,
        /// Read the field.
        get: fn(&Config) -> i32,
        /// Write the field.
        set: fn(&mut Config, i32),
    },
    /// Custom parsing/formatting (`save`, `bind`, `dir`, ...).
    Special {
        /// Parse and store.
        set: SpecialSet,
        /// CONFIG GET formatting.
        get: fn(&Config) -> String,
        /// CONFIG REWRITE.
        rewrite: fn(&Config, &'static str, &mut RewriteState),
    },
}

/// One configuration parameter.
pub struct ConfigDesc {
    /// Canonical name.
    pub name: &'static str,
    /// Deprecated alias, if any.
    pub alias: Option<&'static str>,
    /// Bit set of [`IMMUTABLE`], [`SENSITIVE`], ... flags.
    pub flags: u32,
    /// Type and accessors.
    pub kind: Kind,
}

fn lossy(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

macro_rules! bool_cfg {
    ($name:literal, $alias:expr, $flags:expr, $field:ident, $def:expr) => {
        ConfigDesc {
            name: $name,
            alias: $alias,
            flags: $flags,
            kind: Kind::Bool {
                default: $def,
                get: |c| c.$field,
                set: |c, v| c.$field = v,
            },
        }
    };
}

macro_rules! num_cfg {
    ($name:literal, $alias:expr, $flags:expr, $field:ident, $min:expr, $max:expr, $def:expr, $fmt:ident) => {
        ConfigDesc {
            name: $name,
            alias: $alias,
            flags: $flags,
            kind: Kind::Num {
                min: $min as i128,
                max: $max as i128,
                default: $def as i128,
                fmt: NumFmt::$fmt,
                get: |c| c.$field as i128,
                set: |c, v| c.$field = v as _,
            },
        }
    };
}

macro_rules! str_cfg {
    ($name:literal, $alias:expr, $flags:expr, $field:ident, $def:literal, $valid:expr) => {
        ConfigDesc {
            name: $name,
            alias: $alias,
            flags: $flags,
            kind: Kind::Str {
                default: Some($def),
                empty_is_null: false,
                validate: $valid,
                get: |c| Some(Cow::Borrowed(c.$field.as_bytes())),
                set: |c, v| c.$field = lossy(v.unwrap_or_default()),
            },
        }
    };
}

macro_rules! opt_cfg {
    ($name:literal, $alias:expr, $flags:expr, $field:ident, $valid:expr) => {
        ConfigDesc {
            name: $name,
            alias: $alias,
            flags: $flags,
            kind: Kind::Str {
                default: None,
                empty_is_null: true,
                validate: $valid,
                get: |c| c.$field.as_deref().map(|s| Cow::Borrowed(s.as_bytes())),
                set: |c, v| c.$field = v.map(lossy),
            },
        }
    };
}

macro_rules! bytes_cfg {
    ($name:literal, $alias:expr, $flags:expr, $field:ident) => {
        ConfigDesc {
            name: $name,
            alias: $alias,
            flags: $flags,
            kind: Kind::Str {
                default: None,
                empty_is_null: true,
                validate: None,
                get: |c| c.$field.as_deref().map(Cow::Borrowed),
                set: |c, v| c.$field = v.map(<[u8]>::to_vec),
            },
        }
    };
}

macro_rules! enum_cfg {
    ($name:literal, $alias:expr, $flags:expr, $field:ident, $ty:ident) => {
        ConfigDesc {
            name: $name,
            alias: $alias,
            flags: $flags,
            kind: Kind::Enum {
                names: $ty::NAMES,
                default: $ty::DEFAULT as i32,
                validate: None,
                get: |c| c.$field as i32,
                set: |c, v| c.$field = $ty::from_i32(v).unwrap_or($ty::DEFAULT),
            },
        }
    };
}

macro_rules! flags_cfg {
    ($name:literal, $alias:expr, $flags:expr, $field:ident) => {
        ConfigDesc {
            name: $name,
            alias: $alias,
            flags: $flags,
            kind: Kind::Enum {
                names: SHUTDOWN_NAMES,
                default: 0,
                validate: Some(valid_shutdown_flags),
                get: |c| c.$field as i32,
                set: |c, v| c.$field = v as u32,
            },
        }
    };
}

const SHUTDOWN_NAMES: &[(&str, i32)] = &[
    ("default", 0),
    ("save", shutdown_flags::SAVE as i32),
    ("nosave", shutdown_flags::NOSAVE as i32),
    ("now", shutdown_flags::NOW as i32),
    ("force", shutdown_flags::FORCE as i32),
];

macro_rules! special_cfg {
    ($name:literal, $alias:expr, $flags:expr, $set:expr, $get:expr, $rw:expr) => {
        ConfigDesc {
            name: $name,
            alias: $alias,
            flags: $flags,
            kind: Kind::Special {
                set: $set,
                get: $get,
                rewrite: $rw,
            },
        }
    };
}

/// Every parameter, in Redis's table order (snapcache's own at the end of
/// their kind's group).
pub static CONFIGS: &[ConfigDesc] = &[
    bool_cfg!("rdbchecksum", None, IMMUTABLE, rdbchecksum, true),
    bool_cfg!("daemonize", None, IMMUTABLE, daemonize, false),
    bool_cfg!(
        "io-threads-do-reads",
        None,
        DEBUG | IMMUTABLE,
        io_threads_do_reads,
        false
    ),
    bool_cfg!("always-show-logo", None, IMMUTABLE, always_show_logo, false),
    bool_cfg!("protected-mode", None, 0, protected_mode, true),
    bool_cfg!("rdbcompression", None, 0, rdbcompression, true),
    bool_cfg!("rdb-del-sync-files", None, 0, rdb_del_sync_files, false),
    bool_cfg!("activerehashing", None, 0, activerehashing, true),
    bool_cfg!(
        "stop-writes-on-bgsave-error",
        None,
        0,
        stop_writes_on_bgsave_error,
        true
    ),
    bool_cfg!("set-proc-title", None, IMMUTABLE, set_proc_title, true),
    bool_cfg!("dynamic-hz", None, 0, dynamic_hz, true),
    bool_cfg!(
        "lazyfree-lazy-eviction",
        None,
        DEBUG,
        lazyfree_lazy_eviction,
        false
    ),
    bool_cfg!(
        "lazyfree-lazy-expire",
        None,
        DEBUG,
        lazyfree_lazy_expire,
        false
    ),
    bool_cfg!(
        "lazyfree-lazy-server-del",
        None,
        DEBUG,
        lazyfree_lazy_server_del,
        false
    ),
    bool_cfg!(
        "lazyfree-lazy-user-del",
        None,
        DEBUG,
        lazyfree_lazy_user_del,
        false
    ),
    bool_cfg!(
        "lazyfree-lazy-user-flush",
        None,
        DEBUG,
        lazyfree_lazy_user_flush,
        false
    ),
    bool_cfg!(
        "repl-disable-tcp-nodelay",
        None,
        0,
        repl_disable_tcp_nodelay,
        false
    ),
    bool_cfg!("repl-diskless-sync", None, DEBUG, repl_diskless_sync, true),
    bool_cfg!(
        "aof-rewrite-incremental-fsync",
        None,
        0,
        aof_rewrite_incremental_fsync,
        true
    ),
    bool_cfg!(
        "no-appendfsync-on-rewrite",
        None,
        0,
        no_appendfsync_on_rewrite,
        false
    ),
    bool_cfg!(
        "cluster-require-full-coverage",
        None,
        0,
        cluster_require_full_coverage,
        true
    ),
    bool_cfg!(
        "rdb-save-incremental-fsync",
        None,
        0,
        rdb_save_incremental_fsync,
        true
    ),
    bool_cfg!("aof-load-truncated", None, 0, aof_load_truncated, true),
    bool_cfg!("aof-use-rdb-preamble", None, 0, aof_use_rdb_preamble, true),
    bool_cfg!(
        "aof-timestamp-enabled",
        None,
        0,
        aof_timestamp_enabled,
        false
    ),
    bool_cfg!(
        "cluster-replica-no-failover",
        Some("cluster-slave-no-failover"),
        0,
        cluster_replica_no_failover,
        false
    ),
    bool_cfg!(
        "replica-lazy-flush",
        Some("slave-lazy-flush"),
        0,
        replica_lazy_flush,
        false
    ),
    bool_cfg!(
        "replica-serve-stale-data",
        Some("slave-serve-stale-data"),
        0,
        replica_serve_stale_data,
        true
    ),
    bool_cfg!(
        "replica-read-only",
        Some("slave-read-only"),
        DEBUG,
        replica_read_only,
        true
    ),
    bool_cfg!(
        "replica-ignore-maxmemory",
        Some("slave-ignore-maxmemory"),
        0,
        replica_ignore_maxmemory,
        true
    ),
    bool_cfg!("jemalloc-bg-thread", None, 0, jemalloc_bg_thread, true),
    bool_cfg!("activedefrag", None, DEBUG, activedefrag, false),
    bool_cfg!("syslog-enabled", None, IMMUTABLE, syslog_enabled, false),
    bool_cfg!("cluster-enabled", None, IMMUTABLE, cluster_enabled, false),
    bool_cfg!("appendonly", None, DENY_LOADING, appendonly, false),
    bool_cfg!(
        "cluster-allow-reads-when-down",
        None,
        0,
        cluster_allow_reads_when_down,
        false
    ),
    bool_cfg!(
        "cluster-allow-pubsubshard-when-down",
        None,
        0,
        cluster_allow_pubsubshard_when_down,
        true
    ),
    bool_cfg!("crash-log-enabled", None, 0, crash_log_enabled, true),
    bool_cfg!(
        "crash-memcheck-enabled",
        None,
        0,
        crash_memcheck_enabled,
        true
    ),
    bool_cfg!("use-exit-on-panic", None, HIDDEN, use_exit_on_panic, false),
    bool_cfg!("disable-thp", None, IMMUTABLE, disable_thp, true),
    bool_cfg!(
        "cluster-allow-replica-migration",
        None,
        0,
        cluster_allow_replica_migration,
        true
    ),
    bool_cfg!("replica-announced", None, 0, replica_announced, true),
    bool_cfg!("latency-tracking", None, 0, latency_tracking, true),
    bool_cfg!("aof-disable-auto-gc", None, 0, aof_disable_auto_gc, false),
    bool_cfg!(
        "replica-ignore-disk-write-errors",
        None,
        0,
        replica_ignore_disk_write_errors,
        false
    ),
    bool_cfg!(
        "lua-enable-deprecated-api",
        None,
        IMMUTABLE | HIDDEN,
        lua_enable_deprecated_api,
        false
    ),
    str_cfg!("aclfile", None, IMMUTABLE, aclfile, "", None),
    opt_cfg!("unixsocket", None, IMMUTABLE, unixsocket, None),
    opt_cfg!("pidfile", None, IMMUTABLE, pidfile, None),
    opt_cfg!(
        "replica-announce-ip",
        Some("slave-announce-ip"),
        0,
        replica_announce_ip,
        None
    ),
    opt_cfg!("masteruser", None, SENSITIVE, masteruser, None),
    opt_cfg!("cluster-announce-ip", None, 0, cluster_announce_ip, None),
    str_cfg!(
        "cluster-config-file",
        None,
        IMMUTABLE,
        cluster_config_file,
        "nodes.conf",
        None
    ),
    opt_cfg!(
        "cluster-announce-hostname",
        None,
        0,
        cluster_announce_hostname,
        Some(valid_hostname)
    ),
    str_cfg!("syslog-ident", None, IMMUTABLE, syslog_ident, "redis", None),
    str_cfg!(
        "dbfilename",
        None,
        PROTECTED,
        dbfilename,
        "dump.rdb",
        Some(valid_dbfilename)
    ),
    str_cfg!(
        "appendfilename",
        None,
        IMMUTABLE,
        appendfilename,
        "appendonly.aof",
        Some(valid_aof_filename)
    ),
    str_cfg!(
        "appenddirname",
        None,
        IMMUTABLE,
        appenddirname,
        "appendonlydir",
        Some(valid_aof_dirname)
    ),
    opt_cfg!("server_cpulist", None, IMMUTABLE, server_cpulist, None),
    opt_cfg!("bio_cpulist", None, IMMUTABLE, bio_cpulist, None),
    opt_cfg!(
        "aof_rewrite_cpulist",
        None,
        IMMUTABLE,
        aof_rewrite_cpulist,
        None
    ),
    opt_cfg!("bgsave_cpulist", None, IMMUTABLE, bgsave_cpulist, None),
    str_cfg!("ignore-warnings", None, 0, ignore_warnings, "", None),
    str_cfg!(
        "proc-title-template",
        None,
        0,
        proc_title_template,
        "{title} {listen-addr} {server-mode}",
        Some(valid_proc_title)
    ),
    opt_cfg!("bind-source-addr", None, 0, bind_source_addr, None),
    str_cfg!("logfile", None, IMMUTABLE, logfile, "", None),
    bytes_cfg!("masterauth", None, SENSITIVE, masterauth),
    bytes_cfg!("requirepass", None, SENSITIVE, requirepass),
    enum_cfg!("supervised", None, IMMUTABLE, supervised, SupervisedMode),
    enum_cfg!(
        "syslog-facility",
        None,
        IMMUTABLE,
        syslog_facility,
        SyslogFacility
    ),
    enum_cfg!(
        "repl-diskless-load",
        None,
        DEBUG | DENY_LOADING,
        repl_diskless_load,
        ReplDisklessLoad
    ),
    enum_cfg!("loglevel", None, 0, loglevel, LogLevel),
    enum_cfg!(
        "maxmemory-policy",
        None,
        0,
        maxmemory_policy,
        MaxmemoryPolicy
    ),
    enum_cfg!("appendfsync", None, 0, appendfsync, AppendFsync),
    enum_cfg!("oom-score-adj", None, 0, oom_score_adj, OomScoreAdj),
    enum_cfg!(
        "acl-pubsub-default",
        None,
        0,
        acl_pubsub_default,
        AclPubsubDefault
    ),
    enum_cfg!(
        "sanitize-dump-payload",
        None,
        DEBUG,
        sanitize_dump_payload,
        SanitizeDumpPayload
    ),
    enum_cfg!(
        "enable-protected-configs",
        None,
        IMMUTABLE,
        enable_protected_configs,
        ProtectedAction
    ),
    enum_cfg!(
        "enable-debug-command",
        None,
        IMMUTABLE,
        enable_debug_command,
        ProtectedAction
    ),
    enum_cfg!(
        "enable-module-command",
        None,
        IMMUTABLE,
        enable_module_command,
        ProtectedAction
    ),
    enum_cfg!(
        "cluster-preferred-endpoint-type",
        None,
        0,
        cluster_preferred_endpoint_type,
        ClusterEndpointType
    ),
    enum_cfg!(
        "propagation-error-behavior",
        None,
        0,
        propagation_error_behavior,
        PropagationErrorBehavior
    ),
    flags_cfg!("shutdown-on-sigint", None, MULTI_ARG, shutdown_on_sigint),
    flags_cfg!("shutdown-on-sigterm", None, MULTI_ARG, shutdown_on_sigterm),
    enum_cfg!("snapshot-method", None, 0, snapshot_method, SnapshotMethod),
    num_cfg!(
        "databases",
        None,
        IMMUTABLE,
        databases,
        1,
        i32::MAX,
        16,
        Int
    ),
    num_cfg!("port", None, 0, port, 0, 65535, 6379, Int),
    num_cfg!(
        "io-threads",
        None,
        DEBUG | IMMUTABLE,
        io_threads,
        1,
        128,
        1,
        Int
    ),
    num_cfg!(
        "auto-aof-rewrite-percentage",
        None,
        0,
        auto_aof_rewrite_percentage,
        0,
        i32::MAX,
        100,
        Int
    ),
    num_cfg!(
        "cluster-replica-validity-factor",
        Some("cluster-slave-validity-factor"),
        0,
        cluster_replica_validity_factor,
        0,
        i32::MAX,
        10,
        Int
    ),
    num_cfg!(
        "list-max-listpack-size",
        Some("list-max-ziplist-size"),
        0,
        list_max_listpack_size,
        i32::MIN,
        i32::MAX,
        -2,
        Int
    ),
    num_cfg!(
        "tcp-keepalive",
        None,
        0,
        tcp_keepalive,
        0,
        i32::MAX,
        300,
        Int
    ),
    num_cfg!(
        "cluster-migration-barrier",
        None,
        0,
        cluster_migration_barrier,
        0,
        i32::MAX,
        1,
        Int
    ),
    num_cfg!(
        "active-defrag-cycle-min",
        None,
        0,
        active_defrag_cycle_min,
        1,
        99,
        1,
        Int
    ),
    num_cfg!(
        "active-defrag-cycle-max",
        None,
        0,
        active_defrag_cycle_max,
        1,
        99,
        25,
        Int
    ),
    num_cfg!(
        "active-defrag-threshold-lower",
        None,
        0,
        active_defrag_threshold_lower,
        0,
        1000,
        10,
        Int
    ),
    num_cfg!(
        "active-defrag-threshold-upper",
        None,
        0,
        active_defrag_threshold_upper,
        0,
        1000,
        100,
        Int
    ),
    num_cfg!(
        "lfu-log-factor",
        None,
        0,
        lfu_log_factor,
        0,
        i32::MAX,
        10,
        Int
    ),
    num_cfg!(
        "lfu-decay-time",
        None,
        0,
        lfu_decay_time,
        0,
        i32::MAX,
        1,
        Int
    ),
    num_cfg!(
        "replica-priority",
        Some("slave-priority"),
        0,
        replica_priority,
        0,
        i32::MAX,
        100,
        Int
    ),
    num_cfg!(
        "repl-diskless-sync-delay",
        None,
        0,
        repl_diskless_sync_delay,
        0,
        i32::MAX,
        5,
        Int
    ),
    num_cfg!(
        "maxmemory-samples",
        None,
        0,
        maxmemory_samples,
        1,
        i32::MAX,
        5,
        Int
    ),
    num_cfg!(
        "maxmemory-eviction-tenacity",
        None,
        0,
        maxmemory_eviction_tenacity,
        0,
        100,
        10,
        Int
    ),
    num_cfg!("timeout", None, 0, timeout, 0, i32::MAX, 0, Int),
    num_cfg!(
        "replica-announce-port",
        Some("slave-announce-port"),
        0,
        replica_announce_port,
        0,
        65535,
        0,
        Int
    ),
    num_cfg!(
        "tcp-backlog",
        None,
        IMMUTABLE,
        tcp_backlog,
        0,
        i32::MAX,
        511,
        Int
    ),
    num_cfg!(
        "cluster-port",
        None,
        IMMUTABLE,
        cluster_port,
        0,
        65535,
        0,
        Int
    ),
    num_cfg!(
        "cluster-announce-bus-port",
        None,
        0,
        cluster_announce_bus_port,
        0,
        65535,
        0,
        Int
    ),
    num_cfg!(
        "cluster-announce-port",
        None,
        0,
        cluster_announce_port,
        0,
        65535,
        0,
        Int
    ),
    num_cfg!(
        "cluster-announce-tls-port",
        None,
        0,
        cluster_announce_tls_port,
        0,
        65535,
        0,
        Int
    ),
    num_cfg!("repl-timeout", None, 0, repl_timeout, 1, i32::MAX, 60, Int),
    num_cfg!(
        "repl-ping-replica-period",
        Some("repl-ping-slave-period"),
        0,
        repl_ping_replica_period,
        1,
        i32::MAX,
        10,
        Int
    ),
    num_cfg!(
        "list-compress-depth",
        None,
        DEBUG,
        list_compress_depth,
        0,
        i32::MAX,
        0,
        Int
    ),
    num_cfg!(
        "rdb-key-save-delay",
        None,
        HIDDEN,
        rdb_key_save_delay,
        i32::MIN,
        i32::MAX,
        0,
        Int
    ),
    num_cfg!(
        "key-load-delay",
        None,
        HIDDEN,
        key_load_delay,
        i32::MIN,
        i32::MAX,
        0,
        Int
    ),
    num_cfg!(
        "active-expire-effort",
        None,
        0,
        active_expire_effort,
        1,
        10,
        1,
        Int
    ),
    num_cfg!("hz", None, 0, hz, 0, i32::MAX, 10, Int),
    num_cfg!(
        "min-replicas-to-write",
        Some("min-slaves-to-write"),
        0,
        min_replicas_to_write,
        0,
        i32::MAX,
        0,
        Int
    ),
    num_cfg!(
        "min-replicas-max-lag",
        Some("min-slaves-max-lag"),
        0,
        min_replicas_max_lag,
        0,
        i32::MAX,
        10,
        Int
    ),
    num_cfg!(
        "watchdog-period",
        None,
        HIDDEN,
        watchdog_period,
        0,
        i32::MAX,
        0,
        Int
    ),
    num_cfg!(
        "shutdown-timeout",
        None,
        0,
        shutdown_timeout,
        0,
        i32::MAX,
        10,
        Int
    ),
    num_cfg!(
        "repl-diskless-sync-max-replicas",
        None,
        0,
        repl_diskless_sync_max_replicas,
        0,
        i32::MAX,
        0,
        Int
    ),
    num_cfg!("maxclients", None, 0, maxclients, 1, u32::MAX, 10000, Int),
    num_cfg!(
        "unixsocketperm",
        None,
        IMMUTABLE,
        unixsocketperm,
        0,
        0o777,
        0,
        Octal
    ),
    num_cfg!(
        "socket-mark-id",
        None,
        IMMUTABLE,
        socket_mark_id,
        0,
        u32::MAX,
        0,
        Int
    ),
    num_cfg!(
        "active-defrag-max-scan-fields",
        None,
        0,
        active_defrag_max_scan_fields,
        1,
        i64::MAX,
        1000,
        Int
    ),
    num_cfg!(
        "slowlog-max-len",
        None,
        0,
        slowlog_max_len,
        0,
        i64::MAX,
        128,
        Int
    ),
    num_cfg!(
        "acllog-max-len",
        None,
        0,
        acllog_max_len,
        0,
        i64::MAX,
        128,
        Int
    ),
    num_cfg!(
        "busy-reply-threshold",
        Some("lua-time-limit"),
        0,
        busy_reply_threshold,
        0,
        i64::MAX,
        5000,
        Int
    ),
    num_cfg!(
        "cluster-node-timeout",
        None,
        0,
        cluster_node_timeout,
        0,
        i64::MAX,
        15000,
        Int
    ),
    num_cfg!(
        "slowlog-log-slower-than",
        None,
        0,
        slowlog_log_slower_than,
        -1,
        i64::MAX,
        10000,
        Int
    ),
    num_cfg!(
        "latency-monitor-threshold",
        None,
        0,
        latency_monitor_threshold,
        0,
        i64::MAX,
        0,
        Int
    ),
    num_cfg!(
        "proto-max-bulk-len",
        None,
        DEBUG,
        proto_max_bulk_len,
        1048576,
        i64::MAX,
        536870912,
        Memory
    ),
    num_cfg!(
        "stream-node-max-entries",
        None,
        0,
        stream_node_max_entries,
        0,
        i64::MAX,
        100,
        Int
    ),
    num_cfg!(
        "repl-backlog-size",
        None,
        0,
        repl_backlog_size,
        1,
        i64::MAX,
        1048576,
        Memory
    ),
    num_cfg!("maxmemory", None, 0, maxmemory, 0, u64::MAX, 0, Memory),
    num_cfg!(
        "cluster-link-sendbuf-limit",
        None,
        0,
        cluster_link_sendbuf_limit,
        0,
        u64::MAX,
        0,
        Memory
    ),
    num_cfg!(
        "hash-max-listpack-entries",
        Some("hash-max-ziplist-entries"),
        0,
        hash_max_listpack_entries,
        0,
        i64::MAX,
        512,
        Int
    ),
    num_cfg!(
        "set-max-intset-entries",
        None,
        0,
        set_max_intset_entries,
        0,
        i64::MAX,
        512,
        Int
    ),
    num_cfg!(
        "zset-max-listpack-entries",
        Some("zset-max-ziplist-entries"),
        0,
        zset_max_listpack_entries,
        0,
        i64::MAX,
        128,
        Int
    ),
    num_cfg!(
        "active-defrag-ignore-bytes",
        None,
        0,
        active_defrag_ignore_bytes,
        1,
        i64::MAX,
        104857600,
        Memory
    ),
    num_cfg!(
        "hash-max-listpack-value",
        Some("hash-max-ziplist-value"),
        0,
        hash_max_listpack_value,
        0,
        i64::MAX,
        64,
        Memory
    ),
    num_cfg!(
        "stream-node-max-bytes",
        None,
        0,
        stream_node_max_bytes,
        0,
        i64::MAX,
        4096,
        Memory
    ),
    num_cfg!(
        "zset-max-listpack-value",
        Some("zset-max-ziplist-value"),
        0,
        zset_max_listpack_value,
        0,
        i64::MAX,
        64,
        Memory
    ),
    num_cfg!(
        "hll-sparse-max-bytes",
        None,
        0,
        hll_sparse_max_bytes,
        0,
        i64::MAX,
        3000,
        Memory
    ),
    num_cfg!(
        "tracking-table-max-keys",
        None,
        0,
        tracking_table_max_keys,
        0,
        i64::MAX,
        1000000,
        Int
    ),
    num_cfg!(
        "client-query-buffer-limit",
        None,
        DEBUG,
        client_query_buffer_limit,
        1048576,
        i64::MAX,
        1073741824,
        Memory
    ),
    num_cfg!(
        "maxmemory-clients",
        None,
        0,
        maxmemory_clients,
        -100,
        i64::MAX,
        0,
        MemoryPercent
    ),
    num_cfg!(
        "repl-backlog-ttl",
        None,
        0,
        repl_backlog_ttl,
        0,
        i64::MAX,
        3600,
        Int
    ),
    num_cfg!(
        "auto-aof-rewrite-min-size",
        None,
        0,
        auto_aof_rewrite_min_size,
        0,
        i64::MAX,
        67108864,
        Memory
    ),
    num_cfg!(
        "loading-process-events-interval-bytes",
        None,
        HIDDEN,
        loading_process_events_interval_bytes,
        1024,
        i32::MAX,
        2097152,
        Int
    ),
    num_cfg!(
        "reserved-memory",
        None,
        0,
        reserved_memory,
        0,
        u64::MAX,
        0,
        Memory
    ),
    num_cfg!(
        "snapshot-writer-delay",
        None,
        HIDDEN,
        snapshot_writer_delay,
        0,
        i32::MAX,
        0,
        Int
    ),
    num_cfg!(
        "snapshot-busy-share",
        None,
        0,
        snapshot_busy_share,
        1,
        100,
        10,
        Int
    ),
    num_cfg!(
        "snapshot-buffer-high-water",
        None,
        0,
        snapshot_buffer_high_water,
        1,
        u64::MAX,
        16777216,
        Memory
    ),
    num_cfg!(
        "reserved-memory-percent",
        None,
        0,
        reserved_memory_percent,
        0,
        100,
        25,
        Int
    ),
    special_cfg!(
        "dir",
        None,
        PROTECTED | DENY_LOADING,
        set_dir,
        get_dir,
        rewrite_dir
    ),
    special_cfg!("save", None, MULTI_ARG, set_save, get_save, rewrite_save),
    special_cfg!(
        "client-output-buffer-limit",
        None,
        MULTI_ARG,
        set_cobl,
        get_cobl,
        rewrite_cobl
    ),
    special_cfg!(
        "oom-score-adj-values",
        None,
        MULTI_ARG,
        set_oom_values,
        get_oom_values,
        rewrite_oom_values
    ),
    special_cfg!(
        "notify-keyspace-events",
        None,
        0,
        set_notify,
        get_notify,
        rewrite_notify
    ),
    special_cfg!("bind", None, MULTI_ARG, set_bind, get_bind, rewrite_bind),
    special_cfg!(
        "replicaof",
        Some("slaveof"),
        IMMUTABLE | MULTI_ARG,
        set_replicaof,
        get_replicaof,
        rewrite_replicaof
    ),
    special_cfg!(
        "latency-tracking-info-percentiles",
        None,
        MULTI_ARG,
        set_percentiles,
        get_percentiles,
        rewrite_percentiles
    ),
];

/// Find a parameter by name or alias (ASCII case-insensitive).
pub fn lookup(name: &[u8]) -> Option<&'static ConfigDesc> {
    lookup_with_name(name).map(|(d, _)| d)
}

/// Like [`lookup`], also returning which spelling matched (the canonical
/// name or the alias), as Redis reports it in CONFIG SET errors.
pub fn lookup_with_name(name: &[u8]) -> Option<(&'static ConfigDesc, &'static str)> {
    CONFIGS.iter().find_map(|d| {
        if d.name.as_bytes().eq_ignore_ascii_case(name) {
            Some((d, d.name))
        } else {
            d.alias
                .filter(|a| a.as_bytes().eq_ignore_ascii_case(name))
                .map(|a| (d, a))
        }
    })
}

/// Name of a (non-flag) enum value: the first table entry with that value,
/// or `unknown`.
pub fn enum_name(names: &'static [(&'static str, i32)], value: i32) -> &'static str {
    names
        .iter()
        .find(|&&(_, v)| v == value)
        .map_or("unknown", |&(n, _)| n)
}

/// Redis `configEnumGetName`: exact match first; for flag sets, the names
/// of the matched bits in table order; `unknown` when bits are left over.
fn enum_names_string(names: &'static [(&'static str, i32)], value: i32, bitflags: bool) -> String {
    if let Some(&(n, _)) = names.iter().find(|&&(_, v)| v == value) {
        return n.to_string();
    }
    if !bitflags {
        return "unknown".into();
    }
    let mut unmatched = value;
    let mut out: Vec<&str> = Vec::new();
    for &(n, v) in names {
        if v != 0 && v == (unmatched & v) {
            out.push(n);
            unmatched &= !v;
        }
    }
    if out.is_empty() || unmatched != 0 {
        return "unknown".into();
    }
    out.join(" ")
}

fn parse_yes_no(v: &[u8]) -> Option<bool> {
    if v.eq_ignore_ascii_case(b"yes") {
        Some(true)
    } else if v.eq_ignore_ascii_case(b"no") {
        Some(false)
    } else {
        None
    }
}

fn parse_num(fmt: NumFmt, v: &[u8]) -> Result<i128, &'static str> {
    if matches!(fmt, NumFmt::Memory | NumFmt::MemoryPercent) {
        if let Some(x) = memtoull(v) {
            return Ok(i128::from(x));
        }
    }
    if fmt == NumFmt::MemoryPercent && v.len() > 1 && v.last() == Some(&b'%') {
        if let Some(x) = string2ll(&v[..v.len() - 1]).filter(|x| *x >= 0) {
            return Ok(-i128::from(x));
        }
    }
    if fmt == NumFmt::Octal {
        if let Some(x) = strtoll_full_checked(v, 8) {
            return Ok(i128::from(x));
        }
    }
    if fmt == NumFmt::Int {
        if let Some(x) = string2ll(v) {
            return Ok(i128::from(x));
        }
    }
    Err(match fmt {
        NumFmt::MemoryPercent => "argument must be a memory or percent value",
        NumFmt::Memory => "argument must be a memory value",
        NumFmt::Octal => "argument couldn't be parsed as an octal number",
        NumFmt::Int => "argument couldn't be parsed into an integer",
    })
}

/// Apply `args` to the parameter (Redis `interface.set`). `from_file` is
/// true while loading configuration text (affects `save`).
pub fn set_value(
    desc: &ConfigDesc,
    c: &mut Config,
    args: &[Vec<u8>],
    from_file: bool,
) -> Result<(), String> {
    let first = || args.first().map(Vec::as_slice).unwrap_or_default();
    // Whether a reserve was chosen explicitly decides if it lowers the
    // eviction limit (persistence::memory::Reserve).
    match desc.name {
        "reserved-memory" => c.reserved_memory_set = true,
        "reserved-memory-percent" => c.reserved_memory_percent_set = true,
        _ => {}
    }
    match desc.kind {
        Kind::Bool { set, .. } => {
            let v = parse_yes_no(first()).ok_or("argument must be 'yes' or 'no'")?;
            set(c, v);
        }
        Kind::Num {
            min, max, fmt, set, ..
        } => {
            let v = parse_num(fmt, first())?;
            if fmt == NumFmt::MemoryPercent && v < 0 {
                if v < min {
                    return Err(format!(
                        "percentage argument must be less or equal to {}",
                        -min
                    ));
                }
            } else if v < min || v > max {
                return Err(if fmt == NumFmt::Octal {
                    format!("argument must be between {min:o} and {max:o} inclusive")
                } else {
                    format!("argument must be between {min} and {max} inclusive")
                });
            }
            set(c, v);
        }
        Kind::Str {
            empty_is_null,
            validate,
            set,
            ..
        } => {
            let v = first();
            if let Some(f) = validate {
                f(v)?;
            }
            set(
                c,
                if empty_is_null && v.is_empty() {
                    None
                } else {
                    Some(v)
                },
            );
        }
        Kind::Enum {
            names,
            validate,
            set,
            ..
        } => {
            let bitflags = desc.flags & MULTI_ARG != 0;
            let mut value = 0i32;
            let ok = !args.is_empty()
                && (bitflags || args.len() == 1)
                && args.iter().all(|a| {
                    let mut matched = false;
                    for &(n, v) in names {
                        if n.as_bytes().eq_ignore_ascii_case(a) {
                            value |= v;
                            matched = true;
                            if !bitflags {
                                break;
                            }
                        }
                    }
                    matched
                });
            if !ok {
                let list: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
                let mut msg = format!(
                    "argument(s) must be one of the following: {}",
                    list.join(", ")
                );
                msg.truncate(255);
                return Err(msg);
            }
            if let Some(f) = validate {
                f(value)?;
            }
            set(c, value);
        }
        Kind::Special { set, .. } => set(c, args, from_file)?,
    }
    Ok(())
}

/// The CONFIG GET value as bytes.
pub fn get_value(desc: &ConfigDesc, c: &Config) -> Vec<u8> {
    match desc.kind {
        Kind::Bool { get, .. } => if get(c) { "yes" } else { "no" }.into(),
        Kind::Num { fmt, get, .. } => {
            let v = get(c);
            if fmt == NumFmt::MemoryPercent && v < 0 {
                format!("{}%", -v).into_bytes()
            } else if fmt == NumFmt::Octal {
                format!("{v:o}").into_bytes()
            } else {
                v.to_string().into_bytes()
            }
        }
        Kind::Str { get, .. } => get(c).map(Cow::into_owned).unwrap_or_default(),
        Kind::Enum { names, get, .. } => {
            enum_names_string(names, get(c), desc.flags & MULTI_ARG != 0).into_bytes()
        }
        Kind::Special { get, .. } => get(c).into_bytes(),
    }
}

/// The CONFIG GET value as a (lossy) string.
pub fn get_string(desc: &ConfigDesc, c: &Config) -> String {
    String::from_utf8_lossy(&get_value(desc, c)).into_owned()
}

/// CONFIG REWRITE for one parameter.
pub fn rewrite_desc(desc: &ConfigDesc, c: &Config, st: &mut RewriteState) {
    let name = desc.name;
    match desc.kind {
        Kind::Bool { default, get, .. } => {
            let v = get(c);
            st.rewrite_line(
                name,
                format!("{name} {}", if v { "yes" } else { "no" }),
                v != default,
            );
        }
        Kind::Num {
            default, fmt, get, ..
        } => {
            let v = get(c);
            let text = if fmt == NumFmt::MemoryPercent && v < 0 {
                format!("{}%", -v)
            } else {
                match fmt {
                    NumFmt::Memory | NumFmt::MemoryPercent => format_memory(v),
                    NumFmt::Octal => format!("{v:o}"),
                    NumFmt::Int => v.to_string(),
                }
            };
            // An explicit reserve is kept even at its default value: it
            // is what makes the reserve lower the eviction limit.
            let explicit = match name {
                "reserved-memory" => c.reserved_memory_set,
                "reserved-memory-percent" => c.reserved_memory_percent_set,
                _ => false,
            };
            st.rewrite_line(name, format!("{name} {text}"), v != default || explicit);
        }
        Kind::Str { default, get, .. } => match get(c) {
            None => st.mark_processed(name),
            Some(v) => {
                let force = default.is_none_or(|d| d.as_bytes() != &*v);
                st.rewrite_line(name, format!("{name} {}", repr(&v)), force);
            }
        },
        Kind::Enum {
            names,
            default,
            get,
            ..
        } => {
            let v = get(c);
            let text = enum_names_string(names, v, desc.flags & MULTI_ARG != 0);
            st.rewrite_line(name, format!("{name} {text}"), v != default);
        }
        Kind::Special { rewrite, .. } => rewrite(c, name, st),
    }
}

// ---------------------------------------------------------------------------
// Validators
// ---------------------------------------------------------------------------

fn is_base_name(v: &[u8]) -> bool {
    !v.contains(&b'/') && !v.contains(&b'\\')
}

fn valid_dbfilename(v: &[u8]) -> Result<(), &'static str> {
    if is_base_name(v) {
        Ok(())
    } else {
        Err("dbfilename can't be a path, just a filename")
    }
}

fn valid_aof_filename(v: &[u8]) -> Result<(), &'static str> {
    if v.is_empty() {
        Err("appendfilename can't be empty")
    } else if !is_base_name(v) {
        Err("appendfilename can't be a path, just a filename")
    } else {
        Ok(())
    }
}

fn valid_aof_dirname(v: &[u8]) -> Result<(), &'static str> {
    if v.is_empty() {
        Err("appenddirname can't be empty")
    } else if !is_base_name(v) {
        Err("appenddirname can't be a path, just a dirname")
    } else {
        Ok(())
    }
}

fn valid_hostname(v: &[u8]) -> Result<(), &'static str> {
    if v.len() >= 256 {
        return Err("Hostnames must be less than 256 characters");
    }
    if v.iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        Ok(())
    } else {
        Err("Hostnames may only contain alphanumeric characters, hyphens or dots")
    }
}

/// Redis `validateProcTitleTemplate`: `{var}` must be a known variable,
/// braces must balance (`{{`/`}}` escape) and the expansion with an empty
/// title must not be blank.
fn valid_proc_title(v: &[u8]) -> Result<(), &'static str> {
    const ERR: &str = "template format is invalid or contains unknown variables";
    const VARS: [&[u8]; 7] = [
        b"title",
        b"listen-addr",
        b"server-mode",
        b"port",
        b"tls-port",
        b"unixsocket",
        b"config-file",
    ];
    let mut nonblank = false;
    let mut i = 0;
    while i < v.len() {
        match v[i] {
            b'{' if v.get(i + 1) == Some(&b'{') => {
                nonblank = true;
                i += 2;
            }
            b'}' if v.get(i + 1) == Some(&b'}') => {
                nonblank = true;
                i += 2;
            }
            b'{' => {
                let end = v[i + 1..].iter().position(|&b| b == b'}').ok_or(ERR)? + i + 1;
                let var = &v[i + 1..end];
                if !VARS.contains(&var) {
                    return Err(ERR);
                }
                if matches!(var, b"listen-addr" | b"port" | b"tls-port") {
                    nonblank = true;
                }
                i = end + 1;
            }
            b'}' => return Err(ERR),
            b => {
                if b != b' ' {
                    nonblank = true;
                }
                i += 1;
            }
        }
    }
    if nonblank {
        Ok(())
    } else {
        Err(ERR)
    }
}

fn valid_shutdown_flags(v: i32) -> Result<(), &'static str> {
    let v = v as u32;
    if v & shutdown_flags::SAVE != 0 && v & shutdown_flags::NOSAVE != 0 {
        Err("shutdown options SAVE and NOSAVE can't be used simultaneously")
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Special parameters
// ---------------------------------------------------------------------------

fn set_dir(c: &mut Config, args: &[Vec<u8>], _from_file: bool) -> Result<(), String> {
    if args.len() != 1 {
        return Err("wrong number of arguments".into());
    }
    let p = PathBuf::from(lossy(&args[0]));
    let abs = std::fs::canonicalize(&p).map_err(|e| strerror(&e))?;
    if !abs.is_dir() {
        return Err("Not a directory".into());
    }
    c.dir = abs;
    Ok(())
}

fn get_dir(c: &Config) -> String {
    c.dir.to_string_lossy().into_owned()
}

fn rewrite_dir(c: &Config, name: &'static str, st: &mut RewriteState) {
    let line = format!("{name} {}", repr(c.dir.to_string_lossy().as_bytes()));
    st.rewrite_line(name, line, true);
}

fn set_save(c: &mut Config, args: &[Vec<u8>], from_file: bool) -> Result<(), String> {
    let args: &[Vec<u8>] = if args.len() == 1 && args[0].is_empty() {
        c.save.clear();
        &[]
    } else {
        args
    };
    if !args.len().is_multiple_of(2) {
        return Err("Invalid save parameters".into());
    }
    let mut points = Vec::with_capacity(args.len() / 2);
    for pair in args.chunks(2) {
        let secs = strtoll_full(&pair[0], 10).filter(|v| *v >= 1);
        let changes = strtoll_full(&pair[1], 10).filter(|v| *v >= 0);
        match (secs, changes) {
            (Some(s), Some(ch)) => points.push((s as u64, ch as u64)),
            _ => return Err("Invalid save parameters".into()),
        }
    }
    if !from_file || !c.save_loaded {
        c.save.clear();
        if from_file {
            c.save_loaded = true;
        }
    }
    c.save.extend(points);
    Ok(())
}

fn get_save(c: &Config) -> String {
    c.save
        .iter()
        .map(|(s, ch)| format!("{s} {ch}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn rewrite_save(c: &Config, name: &'static str, st: &mut RewriteState) {
    if c.save.is_empty() {
        st.rewrite_line(name, format!("{name} \"\""), true);
    } else {
        for (s, ch) in &c.save {
            st.rewrite_line(name, format!("{name} {s} {ch}"), true);
        }
    }
    st.mark_processed(name);
}

fn client_class(name: &[u8]) -> Option<usize> {
    let n = name.to_ascii_lowercase();
    match n.as_slice() {
        b"normal" => Some(0),
        b"slave" | b"replica" => Some(1),
        b"pubsub" => Some(2),
        _ => None,
    }
}

fn set_cobl(c: &mut Config, args: &[Vec<u8>], _from_file: bool) -> Result<(), String> {
    if !args.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut updates = Vec::new();
    for chunk in args.chunks(4) {
        let class = client_class(&chunk[0])
            .ok_or("Invalid client class specified in buffer limit configuration.")?;
        let hard = memtoull(&chunk[1]);
        let soft = memtoull(&chunk[2]);
        let secs = strtoll_full(&chunk[3], 10).filter(|v| *v >= 0);
        match (hard, soft, secs) {
            (Some(h), Some(s), Some(sec)) => updates.push((
                class,
                ClientBufferLimit {
                    hard_limit_bytes: h,
                    soft_limit_bytes: s,
                    soft_limit_seconds: sec as u64,
                },
            )),
            _ => {
                return Err(
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration."
                        .into(),
                )
            }
        }
    }
    for (class, lim) in updates {
        c.client_output_buffer_limit[class] = lim;
    }
    Ok(())
}

const CLASS_NAMES: [&str; 3] = ["normal", "slave", "pubsub"];

fn get_cobl(c: &Config) -> String {
    c.client_output_buffer_limit
        .iter()
        .zip(CLASS_NAMES)
        .map(|(l, n)| {
            format!(
                "{n} {} {} {}",
                l.hard_limit_bytes, l.soft_limit_bytes, l.soft_limit_seconds
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn rewrite_cobl(c: &Config, name: &'static str, st: &mut RewriteState) {
    for (j, lim) in c.client_output_buffer_limit.iter().enumerate() {
        let force = *lim != DEFAULT_CLIENT_OUTPUT_BUFFER_LIMITS[j];
        let class = if j == 1 { "replica" } else { CLASS_NAMES[j] };
        let line = format!(
            "{name} {class} {} {} {}",
            format_memory(i128::from(lim.hard_limit_bytes)),
            format_memory(i128::from(lim.soft_limit_bytes)),
            lim.soft_limit_seconds
        );
        st.rewrite_line(name, line, force);
    }
}

fn set_oom_values(c: &mut Config, args: &[Vec<u8>], _from_file: bool) -> Result<(), String> {
    if args.len() != 3 {
        return Err("wrong number of arguments".into());
    }
    let mut vals = [0i32; 3];
    for (slot, a) in vals.iter_mut().zip(args) {
        match strtoll_full(a, 10).filter(|v| (-2000..=2000).contains(v)) {
            Some(v) => *slot = v as i32,
            None => {
                return Err(
                    "Invalid oom-score-adj-values, elements must be between -2000 and 2000.".into(),
                )
            }
        }
    }
    c.oom_score_adj_values = vals;
    Ok(())
}

fn get_oom_values(c: &Config) -> String {
    c.oom_score_adj_values
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

fn rewrite_oom_values(c: &Config, name: &'static str, st: &mut RewriteState) {
    let force = c.oom_score_adj_values != DEFAULT_OOM_SCORE_ADJ_VALUES;
    st.rewrite_line(name, format!("{name} {}", get_oom_values(c)), force);
}

fn set_notify(c: &mut Config, args: &[Vec<u8>], _from_file: bool) -> Result<(), String> {
    if args.len() != 1 {
        return Err("wrong number of arguments".into());
    }
    c.notify_keyspace_events = notify::from_str(&args[0])
        .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
    Ok(())
}

fn get_notify(c: &Config) -> String {
    notify::to_string(c.notify_keyspace_events)
}

fn rewrite_notify(c: &Config, name: &'static str, st: &mut RewriteState) {
    let line = format!("{name} {}", repr(get_notify(c).as_bytes()));
    st.rewrite_line(name, line, c.notify_keyspace_events != 0);
}

fn set_bind(c: &mut Config, args: &[Vec<u8>], _from_file: bool) -> Result<(), String> {
    if args.len() > CONFIG_BINDADDR_MAX {
        return Err("Too many bind addresses specified.".into());
    }
    c.bind = if args.len() == 1 && args[0].is_empty() {
        Vec::new()
    } else {
        args.iter().map(|a| lossy(a)).collect()
    };
    Ok(())
}

fn get_bind(c: &Config) -> String {
    c.bind.join(" ")
}

fn rewrite_bind(c: &Config, name: &'static str, st: &mut RewriteState) {
    if c.bind.iter().map(String::as_str).eq(DEFAULT_BIND) {
        st.mark_processed(name);
        return;
    }
    let addrs = if c.bind.is_empty() {
        "\"\"".to_string()
    } else {
        c.bind.join(" ")
    };
    st.rewrite_line(name, format!("{name} {addrs}"), true);
}

fn set_replicaof(c: &mut Config, args: &[Vec<u8>], _from_file: bool) -> Result<(), String> {
    if args.len() != 2 {
        return Err("wrong number of arguments".into());
    }
    c.replicaof = None;
    if args[0].eq_ignore_ascii_case(b"no") && args[1].eq_ignore_ascii_case(b"one") {
        return Ok(());
    }
    let port = strtoll_full(&args[1], 10)
        .filter(|p| (0..=65535).contains(p))
        .ok_or("Invalid master port")?;
    c.replicaof = Some((lossy(&args[0]), port as u16));
    Ok(())
}

fn get_replicaof(c: &Config) -> String {
    c.replicaof
        .as_ref()
        .map(|(h, p)| format!("{h} {p}"))
        .unwrap_or_default()
}

fn rewrite_replicaof(c: &Config, name: &'static str, st: &mut RewriteState) {
    match &c.replicaof {
        Some((h, p)) if !c.cluster_enabled => {
            st.rewrite_line(name, format!("{name} {h} {p}"), true)
        }
        _ => st.mark_processed(name),
    }
}

fn set_percentiles(c: &mut Config, args: &[Vec<u8>], _from_file: bool) -> Result<(), String> {
    c.latency_tracking_info_percentiles.clear();
    if args.len() == 1 && args[0].is_empty() {
        return Ok(());
    }
    let mut vals = Vec::with_capacity(args.len());
    for a in args {
        let v = parse_f64(a).ok_or("Invalid latency-tracking-info-percentiles parameters")?;
        if !(0.0..=100.0).contains(&v) {
            return Err(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                    .into(),
            );
        }
        vals.push(v);
    }
    c.latency_tracking_info_percentiles = vals;
    Ok(())
}

/// `%f` followed by Redis `trimDoubleString`.
fn fmt_percentile(v: f64) -> String {
    let s = format!("{v:.6}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn get_percentiles(c: &Config) -> String {
    c.latency_tracking_info_percentiles
        .iter()
        .map(|v| fmt_percentile(*v))
        .collect::<Vec<_>>()
        .join(" ")
}

fn rewrite_percentiles(c: &Config, name: &'static str, st: &mut RewriteState) {
    let line = if c.latency_tracking_info_percentiles.is_empty() {
        format!("{name} \"\"")
    } else {
        format!("{name} {}", get_percentiles(c))
    };
    st.rewrite_line(name, line, true);
}
