//! CONFIG GET / SET / RESETSTAT / REWRITE / HELP over [`crate::config`],
//! plus the side effects a changed parameter has on the running server.

use bytes::Bytes;

use super::introspection::reply_help;
use crate::config::SetOptions;
use crate::dispatch::{acl, errors, flags as f, CommandSpec, Keys};
use crate::server::client::Client;
use crate::server::Engine;

/// CONFIG GET parameter [parameter ...]
fn config_get(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let patterns: Vec<&[u8]> = args[2..].iter().map(|a| &a[..]).collect();
    let pairs = e.config.get(&patterns);
    let mut out = c.reply();
    out.map(pairs.len());
    for (name, value) in &pairs {
        out.bulk_str(name);
        out.bulk_str(value);
    }
}

/// CONFIG SET parameter value [parameter value ...]
fn config_set(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if !args.len().is_multiple_of(2) {
        c.reply().error(&errors::wrong_arity("config|set"));
        return;
    }
    let pairs: Vec<(&[u8], &[u8])> = args[2..]
        .chunks(2)
        .map(|p| (&p[0][..], &p[1][..]))
        .collect();
    let opts = SetOptions {
        is_local_client: is_local(&c.addr),
        loading: e.loading,
    };
    let backup = e.config.clone();
    let changed = match e.config.set_with(&pairs, opts) {
        Ok(changed) => changed,
        Err(msg) => {
            c.reply().error(&msg);
            return;
        }
    };
    for name in changed {
        // Inside EXEC (deny_blocking) a fork would split the transaction.
        if let Err(reason) = apply(e, name, c.deny_blocking) {
            e.config = backup;
            // Undo what was already applied (only `dir` has an effect to undo).
            let _ = std::env::set_current_dir(&e.config.dir);
            c.reply().error(&format!(
                "ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}"
            ));
            return;
        }
    }
    c.reply().ok();
}

/// Applies a changed parameter to the running server (Redis's `apply`
/// functions). Parameters the engine reads on each use (hz, slowlog-*,
/// latency-*, maxmemory, ...) need nothing here.
fn apply(e: &mut Engine, name: &str, in_exec: bool) -> Result<(), String> {
    match name {
        "dir" => std::env::set_current_dir(&e.config.dir).map_err(|err| err.to_string()),
        "maxmemory" => {
            let used = e
                .used_memory()
                .saturating_sub(e.mem_not_counted_for_evict());
            if e.config.maxmemory > 0 && used > e.config.maxmemory {
                tracing::warn!(
                    "WARNING: the new maxmemory value set via CONFIG SET ({}) is smaller than the current memory usage ({}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.",
                    e.config.maxmemory,
                    used
                );
            }
            // Evicted from cron and before the next command, outside this
            // one, so the DELs are not propagated as part of CONFIG SET.
            e.evict.running = e.config.maxmemory > 0;
            Ok(())
        }
        "maxmemory-policy" | "lfu-log-factor" | "lfu-decay-time" => {
            e.sync_access_policy();
            Ok(())
        }
        "notify-keyspace-events" => {
            e.sync_notify_flags();
            Ok(())
        }
        "appendonly" => {
            if !e.config.appendonly {
                e.aof_stop();
                Ok(())
            } else {
                e.aof_start(in_exec)
                    .map_err(|()| "Unable to turn on AOF. Check server logs.".to_string())
            }
        }
        "repl-backlog-size" => {
            let size = e.config.repl_backlog_size.max(1) as usize;
            if let Some(b) = &mut e.repl.backlog {
                b.resize(size);
            }
            Ok(())
        }
        "aof-disable-auto-gc" => {
            if !e.config.aof_disable_auto_gc {
                let _ = e.aof_del_history_files();
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Whether a client address is a loopback or unix-socket peer (Redis's
/// `islocalClient`), for `enable-protected-configs local`.
pub fn is_local(addr: &str) -> bool {
    let host = match addr.rsplit_once(':') {
        Some((h, _)) => h.trim_start_matches('[').trim_end_matches(']'),
        None => addr,
    };
    host.starts_with("127.")
        || host == "::1"
        || host.is_empty()
        || addr.starts_with('/')
        || addr.starts_with("in-process")
}

/// CONFIG RESETSTAT
fn config_resetstat(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    e.reset_stats();
    e.repl.sync_full = 0;
    e.repl.sync_partial_ok = 0;
    e.repl.sync_partial_err = 0;
    c.reply().ok();
}

/// CONFIG REWRITE
fn config_rewrite(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    let Some(path) = e.config_file.clone() else {
        c.reply()
            .error("ERR The server is running without a config file");
        return;
    };
    match e.config.rewrite(&path) {
        Ok(()) => {
            tracing::warn!("CONFIG REWRITE executed with success.");
            c.reply().ok();
        }
        Err(err) => {
            let reason = crate::config::strerror(&err);
            tracing::warn!("CONFIG REWRITE failed: {reason}");
            c.reply()
                .error(&format!("ERR Rewriting config file: {reason}"));
        }
    }
}

/// CONFIG HELP
fn config_help(_e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    reply_help(
        c,
        &args[0],
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    );
}

const ADMIN: u64 = f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE;
const A: u64 = acl::ADMIN | acl::SLOW | acl::DANGEROUS;

const CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", -3, ADMIN, A, Keys::NONE, config_get)
        .group("server")
        .since("2.0.0")
        .summary("Get the values of configuration parameters"),
    CommandSpec::new("set", -4, ADMIN, A, Keys::NONE, config_set)
        .group("server")
        .since("2.0.0")
        .summary("Set configuration parameters to the given values"),
    CommandSpec::new("resetstat", 2, ADMIN, A, Keys::NONE, config_resetstat)
        .group("server")
        .since("2.0.0")
        .summary("Reset the stats returned by INFO"),
    CommandSpec::new("rewrite", 2, ADMIN, A, Keys::NONE, config_rewrite)
        .group("server")
        .since("2.8.0")
        .summary("Rewrite the configuration file with the in memory configuration"),
    CommandSpec::new(
        "help",
        2,
        f::LOADING | f::STALE,
        acl::SLOW,
        Keys::NONE,
        config_help,
    )
    .group("server")
    .since("5.0.0")
    .summary("Show helpful text about the different subcommands"),
];

pub const COMMANDS: &[CommandSpec] = &[CommandSpec::container("config", -2, CONFIG_SUBCOMMANDS)
    .since("2.0.0")
    .summary("A container for server configuration commands")];

#[cfg(test)]
mod tests {
    use super::is_local;

    #[test]
    fn local_clients() {
        assert!(is_local("127.0.0.1:5000"));
        assert!(is_local("[::1]:5000"));
        assert!(is_local("::1:5000"));
        assert!(is_local("/tmp/redis.sock:0"));
        assert!(!is_local("10.1.2.3:5000"));
    }
}
