//! The command table and the gates every command passes.
//!
//! # Overview
//!
//! Each command is declared once, as a static [`CommandSpec`] row in the file
//! of its family (`commands/*.rs` end with their `COMMANDS` slice). The
//! [`CommandTable`] indexes those rows by name; [`execute`] looks a request up
//! and applies, from the row's flags alone, the checks Redis makes in
//! `processCommand`: arity, authentication, out-of-memory, MISCONF, the
//! read-only replica, loading, subscribed context, and MULTI queueing. Only
//! then does it [`call`] the handler, timing it for INFO commandstats and
//! SLOWLOG and feeding MONITOR.

pub mod errors;

use bytes::Bytes;
use std::collections::HashMap;

use crate::server::client::{Client, ClientKind, ReplyMode};
use crate::server::Engine;

/// A command handler: parses arguments, runs the data operation, replies.
pub type Handler = fn(&mut Engine, &mut Client, &[Bytes]);

/// Finds the key positions of a command the legacy triple cannot describe.
pub type KeysFn = fn(&[Bytes]) -> Vec<usize>;

/// Key positions of the `numkeys key [key ...]` commands (LMPOP, ZUNION,
/// SINTERCARD, ...): numkeys at `at`, the keys right after it, and the
/// destination key first when there is one. A bad or negative numkeys
/// gives no keys; the count never reaches past the arguments.
pub fn numkeys_keys(args: &[Bytes], at: usize, dst: Option<usize>) -> Vec<usize> {
    let mut v: Vec<usize> = dst.into_iter().collect();
    let n = args
        .get(at)
        .and_then(|a| crate::util::num::string2ll(a))
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0);
    v.extend((at + 1..args.len()).take(n));
    v
}

/// Command flags, as Redis's `CMD_*` (and their names in COMMAND INFO).
pub mod flags {
    pub const WRITE: u64 = 1 << 0;
    pub const READONLY: u64 = 1 << 1;
    pub const DENYOOM: u64 = 1 << 2;
    pub const ADMIN: u64 = 1 << 4;
    pub const PUBSUB: u64 = 1 << 5;
    pub const NOSCRIPT: u64 = 1 << 6;
    pub const BLOCKING: u64 = 1 << 8;
    pub const LOADING: u64 = 1 << 9;
    pub const STALE: u64 = 1 << 10;
    pub const SKIP_MONITOR: u64 = 1 << 11;
    pub const SKIP_SLOWLOG: u64 = 1 << 12;
    pub const ASKING: u64 = 1 << 13;
    pub const FAST: u64 = 1 << 14;
    pub const NO_AUTH: u64 = 1 << 15;
    pub const MAY_REPLICATE: u64 = 1 << 16;
    pub const NO_MANDATORY_KEYS: u64 = 1 << 19;
    pub const PROTECTED: u64 = 1 << 20;
    pub const NO_ASYNC_LOADING: u64 = 1 << 23;
    pub const NO_MULTI: u64 = 1 << 24;
    pub const MOVABLE_KEYS: u64 = 1 << 25;
    pub const ALLOW_BUSY: u64 = 1 << 26;
    /// RANDOMKEY, SCAN: keys they expire are not wrapped in MULTI/EXEC
    /// (Redis's CMD_TOUCHES_ARBITRARY_KEYS; COMMAND INFO doesn't list it).
    pub const TOUCHES_ARBITRARY_KEYS: u64 = 1 << 27;

    /// Names in the order COMMAND INFO lists them.
    pub const NAMES: &[(u64, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// ACL categories (Redis's `ACL_CATEGORY_*`).
pub mod acl {
    pub const KEYSPACE: u64 = 1 << 0;
    pub const READ: u64 = 1 << 1;
    pub const WRITE: u64 = 1 << 2;
    pub const SET: u64 = 1 << 3;
    pub const SORTEDSET: u64 = 1 << 4;
    pub const LIST: u64 = 1 << 5;
    pub const HASH: u64 = 1 << 6;
    pub const STRING: u64 = 1 << 7;
    pub const BITMAP: u64 = 1 << 8;
    pub const HYPERLOGLOG: u64 = 1 << 9;
    pub const GEO: u64 = 1 << 10;
    pub const STREAM: u64 = 1 << 11;
    pub const PUBSUB: u64 = 1 << 12;
    pub const ADMIN: u64 = 1 << 13;
    pub const FAST: u64 = 1 << 14;
    pub const SLOW: u64 = 1 << 15;
    pub const BLOCKING: u64 = 1 << 16;
    pub const DANGEROUS: u64 = 1 << 17;
    pub const CONNECTION: u64 = 1 << 18;
    pub const TRANSACTION: u64 = 1 << 19;
    pub const SCRIPTING: u64 = 1 << 20;

    pub const NAMES: &[(u64, &str)] = &[
        (KEYSPACE, "keyspace"),
        (READ, "read"),
        (WRITE, "write"),
        (SET, "set"),
        (SORTEDSET, "sortedset"),
        (LIST, "list"),
        (HASH, "hash"),
        (STRING, "string"),
        (BITMAP, "bitmap"),
        (HYPERLOGLOG, "hyperloglog"),
        (GEO, "geo"),
        (STREAM, "stream"),
        (PUBSUB, "pubsub"),
        (ADMIN, "admin"),
        (FAST, "fast"),
        (SLOW, "slow"),
        (BLOCKING, "blocking"),
        (DANGEROUS, "dangerous"),
        (CONNECTION, "connection"),
        (TRANSACTION, "transaction"),
        (SCRIPTING, "scripting"),
    ];
}

/// Where a command's keys are among its arguments (Redis's legacy triple).
#[derive(Clone, Copy, Debug)]
pub struct Keys {
    pub first: i32,
    pub last: i32,
    pub step: i32,
}

impl Keys {
    pub const NONE: Keys = Keys {
        first: 0,
        last: 0,
        step: 0,
    };
    pub const ONE: Keys = Keys {
        first: 1,
        last: 1,
        step: 1,
    };
    pub const ALL: Keys = Keys {
        first: 1,
        last: -1,
        step: 1,
    };
}

/// One command or subcommand, declared once.
pub struct CommandSpec {
    pub name: &'static str,
    /// Redis arity: `n` exact, `-n` at least n (the name counts).
    pub arity: i32,
    pub flags: u64,
    pub acl: u64,
    pub keys: Keys,
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    /// None for a container whose subcommands do the work.
    pub handler: Option<Handler>,
    pub subcommands: &'static [CommandSpec],
    /// For commands whose keys the legacy triple cannot describe.
    pub get_keys: Option<KeysFn>,
}

impl CommandSpec {
    /// A row with the common defaults; families fill in the rest with struct
    /// update syntax.
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: u64,
        acl: u64,
        keys: Keys,
        handler: Handler,
    ) -> Self {
        CommandSpec {
            name,
            arity,
            flags,
            acl,
            keys,
            group: "generic",
            since: "1.0.0",
            summary: "",
            complexity: "",
            handler: Some(handler),
            subcommands: &[],
            get_keys: None,
        }
    }

    pub const fn container(
        name: &'static str,
        arity: i32,
        subcommands: &'static [CommandSpec],
    ) -> Self {
        CommandSpec {
            name,
            arity,
            flags: 0,
            acl: 0,
            keys: Keys::NONE,
            group: "server",
            since: "1.0.0",
            summary: "",
            complexity: "",
            handler: None,
            subcommands,
            get_keys: None,
        }
    }

    pub const fn group(mut self, g: &'static str) -> Self {
        self.group = g;
        self
    }

    pub const fn since(mut self, s: &'static str) -> Self {
        self.since = s;
        self
    }

    pub const fn summary(mut self, s: &'static str) -> Self {
        self.summary = s;
        self
    }

    #[allow(dead_code)] // for the movable-key commands of issue 3 (ZUNIONSTORE, SORT, ...)
    pub const fn keys_fn(mut self, f: KeysFn) -> Self {
        self.get_keys = Some(f);
        self
    }

    pub fn has(&self, flag: u64) -> bool {
        self.flags & flag != 0
    }

    /// Argument positions of the keys in `args`.
    pub fn key_positions(&self, args: &[Bytes]) -> Vec<usize> {
        if let Some(f) = self.get_keys {
            return f(args);
        }
        let k = self.keys;
        if k.first <= 0 || k.step <= 0 {
            return Vec::new();
        }
        let argc = args.len() as i32;
        let last = if k.last < 0 {
            argc + k.last
        } else {
            k.last.min(argc - 1)
        };
        let mut v = Vec::new();
        let mut i = k.first;
        while i <= last {
            v.push(i as usize);
            i += k.step;
        }
        v
    }
}

/// Per-command counters for INFO commandstats.
#[derive(Default, Clone, Debug)]
pub struct CmdStat {
    pub calls: u64,
    pub usec: u64,
    pub rejected: u64,
    pub failed: u64,
    /// Latency distribution (INFO latencystats), while latency-tracking is on.
    pub hist: Option<Box<crate::server::latency::Histogram>>,
}

/// A resolved table row: the spec, its full name and its subcommands.
pub struct Resolved {
    pub spec: &'static CommandSpec,
    /// `get`, or `config|get` for a subcommand.
    pub fullname: String,
    pub index: usize,
    pub subs: HashMap<Vec<u8>, usize>,
    pub parent: Option<usize>,
}

/// Every command, by name.
pub struct CommandTable {
    pub rows: Vec<Resolved>,
    by_name: HashMap<Vec<u8>, usize, foldhash::fast::RandomState>,
}

impl CommandTable {
    pub fn new(families: &[&'static [CommandSpec]]) -> CommandTable {
        let mut t = CommandTable {
            rows: Vec::new(),
            by_name: HashMap::default(),
        };
        for fam in families {
            for spec in fam.iter() {
                let idx = t.add(spec, None);
                t.by_name.insert(spec.name.as_bytes().to_vec(), idx);
            }
        }
        t
    }

    fn add(&mut self, spec: &'static CommandSpec, parent: Option<usize>) -> usize {
        let idx = self.rows.len();
        let fullname = match parent {
            Some(p) => format!("{}|{}", self.rows[p].fullname, spec.name),
            None => spec.name.to_string(),
        };
        self.rows.push(Resolved {
            spec,
            fullname,
            index: idx,
            subs: HashMap::new(),
            parent,
        });
        for sub in spec.subcommands {
            let si = self.add(sub, Some(idx));
            self.rows[idx].subs.insert(sub.name.as_bytes().to_vec(), si);
        }
        idx
    }

    /// The top-level command named `name` (any case).
    pub fn lookup(&self, name: &[u8]) -> Option<usize> {
        let mut buf = [0u8; 32];
        if name.len() <= buf.len() {
            let b = &mut buf[..name.len()];
            b.copy_from_slice(name);
            b.make_ascii_lowercase();
            self.by_name.get(&b[..]).copied()
        } else {
            self.by_name.get(&name.to_ascii_lowercase()).copied()
        }
    }

    pub fn sub(&self, parent: usize, name: &[u8]) -> Option<usize> {
        self.rows[parent]
            .subs
            .get(&name.to_ascii_lowercase())
            .copied()
    }

    /// Top-level rows.
    pub fn top(&self) -> impl Iterator<Item = &Resolved> {
        self.rows.iter().filter(|r| r.parent.is_none())
    }

    /// Resolves a request to its row: Ok(index) or the error to reply.
    pub fn resolve(&self, args: &[Bytes]) -> Result<usize, String> {
        let Some(idx) = self.lookup(&args[0]) else {
            return Err(errors::unknown_command(args));
        };
        let row = &self.rows[idx];
        if row.spec.subcommands.is_empty() {
            return check_arity(row, args).map(|_| idx);
        }
        if args.len() < 2 {
            // A container with a handler of its own (COMMAND) runs bare.
            if row.spec.handler.is_some() {
                return check_arity(row, args).map(|_| idx);
            }
            return Err(errors::wrong_arity(&row.fullname));
        }
        match self.sub(idx, &args[1]) {
            Some(si) => check_arity(&self.rows[si], args).map(|_| si),
            None => Err(errors::unknown_subcommand(&args[1], &args[0])),
        }
    }
}

fn check_arity(row: &Resolved, args: &[Bytes]) -> Result<(), String> {
    let a = row.spec.arity;
    let n = args.len() as i32;
    if (a > 0 && n != a) || (a < 0 && n < -a) {
        Err(errors::wrong_arity(&row.fullname))
    } else {
        Ok(())
    }
}

/// Runs one request from a client, with every gate.
pub fn execute(e: &mut Engine, c: &mut Client, args: Vec<Bytes>) {
    if args.is_empty() {
        return;
    }
    // CLIENT CACHING covers the next command, or transaction, that is not
    // itself a CLIENT command (Redis's resetClient).
    let caching_ends = c.tracking.caching && !args[0].eq_ignore_ascii_case(b"client");
    run(e, c, args);
    if caching_ends && c.multi.is_none() {
        c.tracking.caching = false;
    }
    if e.tracking.due {
        e.tracking_after_command(c);
    }
}

fn run(e: &mut Engine, c: &mut Client, args: Vec<Bytes>) {
    let reply_start = c.out.len();
    let idx = match e.commands.resolve(&args) {
        Ok(i) => i,
        Err(msg) => {
            // An arity error still names a command: Redis counts it in that
            // command's rejected_calls. Unknown (sub)commands count nowhere.
            let row = e.commands.lookup(&args[0]).and_then(|i| {
                if args.len() >= 2 && !e.commands.rows[i].subs.is_empty() {
                    e.commands.sub(i, &args[1])
                } else {
                    Some(i)
                }
            });
            reject(e, c, row, &msg);
            finish_reply(c, reply_start);
            return;
        }
    };
    let spec = e.commands.rows[idx].spec;
    // A script that declares flags runs with them (Redis's
    // evalGetCommandFlags).
    let fl = if spec.group == "scripting" && spec.name.starts_with("eval") {
        crate::server::scripting::eval_command_flags(e, spec.name, &args, spec.flags)
    } else {
        spec.flags
    };

    if let Err(msg) = gates(e, c, spec, fl) {
        if spec.name == "exec" && c.multi.is_some() {
            // Redis's execCommandAbort: the whole transaction is discarded.
            let msg = format!("EXECABORT Transaction discarded because of: {msg}");
            c.multi = None;
            c.multi_error = false;
            e.unwatch_all(c);
            reject(e, c, Some(idx), &msg);
        } else {
            reject(e, c, Some(idx), &msg);
        }
        finish_reply(c, reply_start);
        return;
    }

    // Client-side caching's table stays within tracking-table-max-keys.
    if e.tracking.clients != 0 {
        e.tracking_limit(Some(c));
    }

    if c.multi.is_some() && !is_multi_control(spec) {
        if spec.has(flags::NO_MULTI) {
            let msg = "ERR Command not allowed inside a transaction".to_string();
            reject(e, c, Some(idx), &msg);
        } else {
            c.queue(idx, args);
            c.reply().simple("QUEUED");
        }
        finish_reply(c, reply_start);
        return;
    }

    call(e, c, idx, &args);
    finish_reply(c, reply_start);
    // Invalidations this command caused for its own client follow its
    // reply, before anything a served blocked client causes.
    if e.tracking.due {
        e.tracking_after_command(c);
    }
    if !e.ready.is_empty() {
        serve_blocked_around(e, c);
    }
}

/// [`serve_blocked`] while `c`, whose command made keys ready, is parked
/// among the registered clients, so that what the served commands send it
/// (invalidations, notifications) reaches it.
fn serve_blocked_around(e: &mut Engine, c: &mut Client) {
    let id = c.id;
    let parked = std::mem::replace(c, Client::new(id, String::new(), String::new(), -1, true));
    e.clients.insert(id, Box::new(parked));
    serve_blocked(e);
    if let Some(back) = e.clients.remove(&id) {
        *c = *back;
    }
}

/// Runs again the commands of clients blocked on keys that became ready,
/// oldest waiter first; serving one may make other keys ready (BLMOVE).
pub fn serve_blocked(e: &mut Engine) {
    let mut rounds = 0usize;
    while !e.ready.is_empty() {
        rounds += 1;
        let ready = std::mem::take(&mut e.ready);
        for (db, key) in ready {
            // Stream readers may block again when served: each queued one
            // is tried once, in queue order.
            let snapshot: Vec<u64> = e
                .blocking
                .get(&(db, key.clone()))
                .map(|q| q.iter().copied().collect())
                .unwrap_or_default();
            for id in snapshot {
                let Some(mut c) = e.clients.remove(&id) else {
                    continue;
                };
                let stream_reader = c.blocked.as_ref().is_some_and(|b| {
                    crate::server::Engine::serves_any(b.want) && b.db == db && b.keys.contains(&key)
                });
                if !stream_reader {
                    e.clients.insert(id, c);
                    continue;
                }
                let b = e.unblock(&mut c).expect("checked blocked");
                let saved_db = c.db;
                c.db = b.db;
                c.reblock_deadline = Some(b.deadline);
                call(e, &mut c, b.cmd, &b.args);
                c.reblock_deadline = None;
                if e.tracking.due {
                    e.tracking_after_command(&mut c);
                }
                if c.blocked.is_none() {
                    c.db = saved_db;
                    c.wake.notify_one();
                }
                e.clients.insert(id, c);
            }
            loop {
                let Some(&id) = e.blocking.get(&(db, key.clone())).and_then(|q| q.front()) else {
                    break;
                };
                let Some(mut c) = e.clients.remove(&id) else {
                    // Not registered (running now): cannot be served here.
                    break;
                };
                let want = c.blocked.as_ref().map(|b| b.want);
                if !want.is_some_and(|w| {
                    !crate::server::Engine::serves_any(w) && e.key_serves(db, &key, w)
                }) {
                    e.clients.insert(id, c);
                    break;
                }
                let b = e.unblock(&mut c).expect("queued clients are blocked");
                let saved_db = c.db;
                c.db = b.db;
                call(e, &mut c, b.cmd, &b.args);
                if e.tracking.due {
                    e.tracking_after_command(&mut c);
                }
                if c.blocked.is_none() {
                    c.db = saved_db;
                }
                c.wake.notify_one();
                e.clients.insert(id, c);
            }
        }
        // A pathological chain of BLMOVEs cannot spin the engine forever.
        if rounds > 1_000_000 {
            e.ready.clear();
        }
    }
}

fn is_multi_control(spec: &CommandSpec) -> bool {
    matches!(
        spec.name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// Replies with a rejection (`msg` holds the full error text) and counts it.
fn reject(e: &mut Engine, c: &mut Client, idx: Option<usize>, msg: &str) {
    if let Some(i) = idx {
        e.cmd_stats[i].rejected += 1;
    }
    if c.multi.is_some() {
        c.multi_error = true;
    }
    c.reply().error(msg);
    e.count_error(msg);
}

/// Applies CLIENT REPLY OFF/SKIP to what the last command wrote.
/// Push frames (pub/sub) are delivered whatever the mode, as Redis's
/// CLIENT_PUSHING flag does.
fn finish_reply(c: &mut Client, start: usize) {
    match c.reply_mode {
        ReplyMode::On => {}
        ReplyMode::Off => drop_replies_since(c, start),
        ReplyMode::SkipNext => c.reply_mode = ReplyMode::Skip,
        ReplyMode::Skip => {
            drop_replies_since(c, start);
            c.reply_mode = ReplyMode::On;
        }
        ReplyMode::ReplicaStarting => c.reply_mode = ReplyMode::Off,
    }
    c.push_spans.clear();
}

/// Drops the output written since `start`, except push frames.
fn drop_replies_since(c: &mut Client, start: usize) {
    let mut kept = start;
    for &(from, to) in &c.push_spans {
        if from >= kept && to <= c.out.len() {
            c.out.copy_within(from..to, kept);
            kept += to - from;
        }
    }
    c.out.truncate(kept);
}

/// The checks of Redis's processCommand, from the command's flags.
fn gates(e: &mut Engine, c: &mut Client, spec: &CommandSpec, fl: u64) -> Result<(), String> {
    if spec.has(flags::PROTECTED) {
        protected_gate(e, c, spec)?;
    }
    if !c.authenticated && !spec.has(flags::NO_AUTH) {
        return Err(errors::NOAUTH.to_string());
    }
    // EXEC carries the flags of the commands it queued (Redis's
    // mstate.cmd_flags / cmd_inv_flags).
    let queued = if spec.name == "exec" {
        c.multi.as_deref()
    } else {
        None
    };
    let any = |flag: u64| {
        queued.is_some_and(|q| q.iter().any(|(i, _)| e.commands.rows[*i].spec.has(flag)))
    };
    let not_all = |flag: u64| {
        queued.is_some_and(|q| q.iter().any(|(i, _)| !e.commands.rows[*i].spec.has(flag)))
    };
    let is_write = fl & flags::WRITE != 0 || any(flags::WRITE);
    let deny_stale = fl & flags::STALE == 0 || not_all(flags::STALE);
    let deny_loading = !spec.has(flags::LOADING) || not_all(flags::LOADING);
    // The primary's stream is applied whatever the local state.
    let from_primary = c.kind == ClientKind::Primary;
    // Redis's processCommand: with maxmemory set, evict before every
    // command; refuse DENYOOM commands (and anything queued in MULTI but
    // the transaction's own controls) when nothing could be freed.
    if e.config.maxmemory_clients != 0 {
        e.evict_clients(Some(c));
    }
    e.pre_command_oom = false;
    if e.config.maxmemory > 0 {
        let reject = fl & flags::DENYOOM != 0
            || any(flags::DENYOOM)
            || (c.multi.is_some() && !matches!(spec.name, "exec" | "discard" | "quit" | "reset"));
        let oom = e.perform_evictions(Some(c)) == crate::server::evict::EvictResult::Fail;
        e.pre_command_oom = oom;
        if oom && reject && !from_primary {
            return Err(errors::OOM.to_string());
        }
    }
    // PING too, so that a health check notices the failing disk (Redis).
    if (is_write || spec.name == "ping") && !from_primary && !e.is_replica() {
        if e.persistence_error() {
            return Err(errors::MISCONF.to_string());
        }
        if let Some(msg) = e.aof_disk_error() {
            return Err(msg);
        }
    }
    if is_write && !from_primary && !e.enough_good_replicas() {
        return Err(errors::NOREPLICAS.to_string());
    }
    if is_write && !from_primary && e.is_replica() && e.config.replica_read_only {
        return Err(errors::READONLY.to_string());
    }
    if c.in_resp2_pubsub() && !allowed_in_pubsub(spec) {
        return Err(format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            spec.name
        ));
    }
    if deny_stale && e.replica_link_down() && !e.config.replica_serve_stale_data {
        return Err(errors::MASTERDOWN.to_string());
    }
    if e.loading && deny_loading {
        return Err(errors::LOADING.to_string());
    }
    if e.script_busy && fl & flags::ALLOW_BUSY == 0 {
        return Err(errors::BUSY.to_string());
    }
    Ok(())
}

/// DEBUG and MODULE run only where `enable-debug-command` /
/// `enable-module-command` allow them (`local`: loopback clients only).
fn protected_gate(e: &Engine, c: &Client, spec: &CommandSpec) -> Result<(), String> {
    let (setting, cmd, option) = match spec.name {
        "module" => (
            e.config.enable_module_command,
            "MODULE",
            "enable-module-command",
        ),
        _ => (
            e.config.enable_debug_command,
            "DEBUG",
            "enable-debug-command",
        ),
    };
    if setting.allows(c.is_local()) {
        return Ok(());
    }
    Err(format!(
        "ERR {cmd} command not allowed. If the {option} option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."
    ))
}

fn allowed_in_pubsub(spec: &CommandSpec) -> bool {
    matches!(
        spec.name,
        "ping"
            | "subscribe"
            | "ssubscribe"
            | "unsubscribe"
            | "sunsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "quit"
            | "reset"
    )
}

/// Calls a resolved command: the handler, its stats, SLOWLOG and MONITOR.
pub fn call(e: &mut Engine, c: &mut Client, idx: usize, args: &[Bytes]) {
    let spec = e.commands.rows[idx].spec;
    let handler = spec.handler.expect("resolved rows have handlers");
    let before = c.out.len();
    let dirty_before = e.dirty;
    // One clock read before and one after, as Redis's call(): lookups in
    // the handler (and in the commands of an EXEC) use the start time.
    let start = crate::keyspace::now_us();
    let outer = e.cmd_time_ms.is_none();
    if outer {
        e.cmd_time_ms = Some(start.div_euclid(1000));
    }
    c.cmd_index = Some(idx);
    let prop = e.prop_enter();
    crate::keyspace::dict::set_resize_policy(e.dict_resize_policy());
    handler(e, c, args);
    if outer {
        e.cmd_time_ms = None;
    }
    let ns = (crate::keyspace::now_us().saturating_sub(start)).max(0) as u64 * 1000;
    let usec = ns / 1000;
    let counted = std::mem::take(&mut e.error_stats_skip);
    let stat = &mut e.cmd_stats[idx];
    // A command that blocked is counted once, when it is served or times
    // out (Redis's updateStatsOnUnblock).
    if c.blocked.is_none() {
        stat.calls += 1;
    }
    stat.usec += usec;
    if e.config.latency_tracking {
        stat.hist.get_or_insert_with(Default::default).record(ns);
    }
    if c.out.len() > before && c.out[before] == b'-' && !counted {
        stat.failed += 1;
        let end = c.out[before..]
            .iter()
            .position(|&b| b == b'\r')
            .map_or(c.out.len(), |p| before + p);
        let msg = String::from_utf8_lossy(&c.out[before + 1..end]).into_owned();
        e.count_error(&msg);
    }
    e.stats.commands += 1;
    e.drain_expired(Some(c));
    let is_exec = spec.name == "exec";
    if e.is_replica() && !e.repl.from_primary && spec.has(flags::WRITE) {
        e.note_local_write(c.db, spec, args);
    }
    // A save resets `dirty`: only an increase is a change to replay.
    e.prop_leave(prop, c.db, args, e.dirty > dirty_before, is_exec);
    e.propagate_pending(!spec.has(flags::TOUCHES_ARBITRARY_KEYS));
    if c.tracking.on && spec.has(flags::READONLY) && !matches!(spec.name, "eval_ro" | "evalsha_ro")
    {
        if c.script {
            // A script that reads tracks the keys its EVAL declared.
            crate::server::scripting::remember_script_keys(e, c);
        } else {
            e.tracking_remember_keys(c, spec, args);
        }
    }
    c.last_cmd = idx;
    if !spec.has(flags::SKIP_SLOWLOG) {
        e.slowlog_push(c, args, usec);
        let event = if spec.has(flags::FAST) {
            "fast-command"
        } else {
            "command"
        };
        e.latency_sample(event, usec / 1000);
    }
    if !e.monitors.is_empty() && !spec.has(flags::SKIP_MONITOR) && !spec.has(flags::ADMIN) {
        e.feed_monitors(c, args);
    }
    if e.dirty != dirty_before {
        e.after_write(c, args);
    }
}
