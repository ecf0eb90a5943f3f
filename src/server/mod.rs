//! The engine: the one thread that owns the keyspace, and its connections.
//!
//! # Overview
//!
//! [`Engine`] is all server state. It lives on a tokio `current_thread`
//! runtime, shared by the connection tasks as `Rc<RefCell<Engine>>`: a task
//! borrows it for one batch of parsed requests and never across an `.await`,
//! so commands are atomic without locks. Work that must not stall the
//! engine (fsync, snapshot writing, uploads) belongs on other threads.
//!
//! # Shutdown
//!
//! SHUTDOWN (or a signal, or [`crate::ServerHandle::shutdown`]) sets a request
//! on the engine and wakes the accept loop, which stops accepting, lets the
//! engine finish, and returns from [`run`].

pub mod blocking;
pub mod client;
pub mod conn;
pub mod evict;
pub mod latency;
pub mod log;
pub mod main;
pub mod persist;
pub mod propagate;
pub mod pubsub;
pub mod scripting;
pub mod snapshot;
pub mod tracking;

use bytes::Bytes;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify};

use crate::config::{notify, Config};
use crate::dispatch::{CmdStat, CommandTable};
use crate::keyspace::{now_ms, now_us, ExpireMode, KeyEvent, Keyspace};
use crate::Inbox;
use client::Client;

/// The command table, built once.
pub fn command_table() -> &'static CommandTable {
    static TABLE: OnceLock<CommandTable> = OnceLock::new();
    TABLE.get_or_init(|| CommandTable::new(crate::commands::FAMILIES))
}

/// Counters for INFO stats.
#[derive(Default, Debug, Clone)]
pub struct Stats {
    pub commands: u64,
    pub connections: u64,
    pub rejected_connections: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub expired_keys: u64,
    pub expired_stale_perc: f64,
    pub expired_time_cap_reached: u64,
    pub evicted_keys: u64,
    pub evicted_clients: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub error_replies: u64,
    pub reads_processed: u64,
    pub writes_processed: u64,
    pub client_qbuf_limit_disconnections: u64,
    /// Clients closed for passing client-output-buffer-limit.
    pub client_obuf_limit_disconnections: u64,
    /// Bytes of snapshots and streams sent to / received from replication peers.
    pub net_repl_output_bytes: u64,
    pub net_repl_input_bytes: u64,
    /// Samples for instantaneous_ops_per_sec: (time ms, commands).
    pub ops_samples: VecDeque<(i64, u64)>,
    pub net_in_samples: VecDeque<(i64, u64)>,
    pub net_out_samples: VecDeque<(i64, u64)>,
}

/// One SLOWLOG entry.
#[derive(Clone, Debug)]
pub struct SlowEntry {
    pub id: u64,
    pub time: i64,
    pub usec: u64,
    pub args: Vec<Bytes>,
    pub addr: String,
    pub name: Bytes,
}

/// A pending SHUTDOWN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShutdownSave {
    Default,
    Save,
    NoSave,
}

/// One client's WATCH of one key.
#[derive(Clone, Copy, Debug)]
pub struct Watcher {
    pub client: u64,
    /// The key existed but had expired when WATCH was called.
    pub expired: bool,
}

/// CLIENT PAUSE state.
#[derive(Clone, Copy, Debug)]
pub struct Pause {
    pub until: Instant,
    /// True for ALL, false for WRITE.
    pub all: bool,
}

/// All server state, owned by the engine thread.
pub struct Engine {
    pub config: Config,
    pub config_file: Option<std::path::PathBuf>,
    pub ks: Keyspace,
    pub commands: &'static CommandTable,
    pub cmd_stats: Vec<CmdStat>,
    pub error_stats: BTreeMap<String, u64>,
    pub clients: HashMap<u64, Box<Client>, foldhash::fast::RandomState>,
    pub next_client_id: u64,
    pub stats: Stats,
    /// WATCHed keys: (db, key) → watchers.
    pub watched: HashMap<(usize, Bytes), Vec<Watcher>>,
    pub monitors: Vec<u64>,
    pub pubsub: pubsub::PubSub,
    /// Client-side caching: the tracking and BCAST prefix tables.
    pub tracking: tracking::Tracking,
    pub slowlog: VecDeque<SlowEntry>,
    pub slowlog_next_id: u64,
    /// Changes since the last save (rdb_changes_since_last_save).
    pub dirty: u64,
    pub loading: bool,
    pub started: Instant,
    pub run_id: String,
    pub replid2: String,
    pub rng: SmallRng,
    pub shutdown: Option<ShutdownSave>,
    pub shutdown_notify: Rc<Notify>,
    pub pause: Option<Pause>,
    pub unpause_notify: Rc<Notify>,
    /// Wakes the forkless walk when a save starts.
    pub snapshot_kick: Rc<Notify>,
    /// Wakes the full-sync loop (replication::transfer).
    pub repl_kick: Rc<Notify>,
    /// A replica loads a snapshot while serving its old data
    /// (`repl-diskless-load swapdb`; INFO's async_loading).
    pub async_loading: bool,
    pub active_expire: bool,
    /// The time a running command started (ms), so every key lookup in
    /// one command, or in one EXEC, sees the same clock (Redis's
    /// fixed_time_expire); None between commands.
    pub cmd_time_ms: Option<i64>,
    /// Clients whose next command waits for CLIENT PAUSE to end (INFO
    /// blocked_clients counts them, as Redis does).
    pub postponed_clients: usize,
    /// Clients blocked on keys, FIFO per (db, key).
    pub blocking: HashMap<(usize, Bytes), VecDeque<u64>>,
    /// Keys written since the last serve that blocked clients wait on.
    pub ready: Vec<(usize, Bytes)>,
    pub blocked_clients: usize,
    /// DEBUG PAUSE-CRON: the periodic tasks are suspended.
    pub pause_cron: bool,
    /// DEBUG QUICKLIST-PACKED-THRESHOLD: list elements at least this long
    /// are stored as plain quicklist nodes (bytes; Redis's default 1 GB).
    pub quicklist_packed_threshold: u64,
    pub bound: Vec<SocketAddr>,
    pub last_save_ms: i64,
    pub lazyfreed_objects: u64,
    /// Latency monitor events (LATENCY LATEST / HISTORY), by event name.
    pub latency: BTreeMap<String, latency::Series>,
    /// Highest `used_memory` seen (INFO used_memory_peak), updated in cron.
    pub peak_memory: u64,
    /// `used_memory` right after start-up (INFO used_memory_startup).
    pub startup_memory: u64,
    /// Propagation of writes to replicas (and later the AOF).
    pub repl: propagate::Repl,
    /// MIGRATE's cached connections.
    pub migrate: crate::commands::migrate::MigrateCache,
    /// RDB snapshots: the background save, save points, loading.
    pub persist: persist::Persist,
    /// The append-only file.
    pub aof: crate::persistence::aof::Aof,
    /// Eviction state (maxmemory).
    pub evict: evict::Evictor,
    /// Lua scripting: the interpreter and the script cache (made on first use).
    pub scripting: Option<Box<scripting::Scripting>>,
    /// The running command found the server out of memory before it ran
    /// (Redis's pre_command_oom_state).
    pub pre_command_oom: bool,
    /// The running command's error reply was already counted in the error
    /// statistics (a script returning the error of a command it ran).
    pub error_stats_skip: bool,
    /// A script ran past busy-reply-threshold and is suspended: other
    /// commands get -BUSY until it ends.
    pub script_busy: bool,
    /// Wakes the task that runs a busy script on.
    pub script_kick: Rc<Notify>,
}

impl Engine {
    pub fn new(config: Config) -> Engine {
        let commands = command_table();
        let now = now_ms();
        let mut e = Engine {
            ks: Keyspace::new(config.databases.max(1)),
            config,
            config_file: None,
            commands,
            cmd_stats: vec![CmdStat::default(); commands.rows.len()],
            error_stats: BTreeMap::new(),
            clients: HashMap::default(),
            next_client_id: 1,
            stats: Stats::default(),
            watched: HashMap::new(),
            monitors: Vec::new(),
            pubsub: Default::default(),
            tracking: Default::default(),
            slowlog: VecDeque::new(),
            slowlog_next_id: 0,
            dirty: 0,
            loading: false,
            started: Instant::now(),
            run_id: random_hex(40),
            replid2: "0".repeat(40),
            rng: SmallRng::from_entropy(),
            shutdown: None,
            shutdown_notify: Rc::new(Notify::new()),
            pause: None,
            unpause_notify: Rc::new(Notify::new()),
            snapshot_kick: Rc::new(Notify::new()),
            repl_kick: Rc::new(Notify::new()),
            async_loading: false,
            active_expire: true,
            cmd_time_ms: None,
            postponed_clients: 0,
            blocking: HashMap::new(),
            ready: Vec::new(),
            blocked_clients: 0,
            pause_cron: false,
            quicklist_packed_threshold: 1 << 30,
            bound: Vec::new(),
            last_save_ms: now,
            lazyfreed_objects: 0,
            latency: BTreeMap::new(),
            peak_memory: 0,
            startup_memory: crate::persistence::memory::used(),
            repl: propagate::Repl::new(random_hex(40)),
            migrate: Default::default(),
            persist: Default::default(),
            aof: crate::persistence::aof::Aof::new(false),
            evict: Default::default(),
            scripting: None,
            pre_command_oom: false,
            error_stats_skip: false,
            script_busy: false,
            script_kick: Rc::new(Notify::new()),
        };
        e.aof = crate::persistence::aof::Aof::new(e.config.appendonly);
        e.aof_sync_flag();
        e.sync_notify_flags();
        e.sync_access_policy();
        e
    }

    pub fn next_id(&mut self) -> u64 {
        let id = self.next_client_id;
        self.next_client_id += 1;
        id
    }

    /// The clock key lookups use: the running command's start time, or
    /// the current time outside a command.
    #[inline]
    pub fn lookup_now(&self) -> i64 {
        self.cmd_time_ms.unwrap_or_else(now_ms)
    }

    /// How lookups treat expired keys: a replica hides them, a primary deletes.
    #[inline]
    pub fn expire_mode(&self) -> ExpireMode {
        // During CLIENT PAUSE nothing may change the dataset, expiry
        // included: expired keys are hidden, deleted after the pause.
        if self.paused() {
            return ExpireMode::Hide;
        }
        // Nothing expires while a dataset is loaded (Redis's keyIsExpired):
        // an AOF's DELs and PEXPIREATs replay as written.
        if self.loading {
            return ExpireMode::Keep;
        }
        // A replica hides expired keys from its clients and leaves their
        // deletion to the primary, whose own commands still see them.
        if self.is_replica() {
            return if self.repl.from_primary {
                ExpireMode::Keep
            } else {
                ExpireMode::Hide
            };
        }
        ExpireMode::Delete
    }

    /// True while a CLIENT PAUSE is in effect.
    pub fn paused(&self) -> bool {
        self.pause.is_some_and(|p| Instant::now() < p.until) || self.repl.failover.is_some()
    }

    /// `used_memory`: what the counting allocator holds.
    pub fn used_memory(&self) -> u64 {
        crate::persistence::memory::used()
    }

    /// Counts an error reply for INFO errorstats (by its first word).
    pub fn count_error(&mut self, msg: &str) {
        self.stats.error_replies += 1;
        let code = msg.split(' ').next().unwrap_or("ERR");
        // Redis counts at most 128 distinct codes; beyond that, only ERR-like totals.
        if self.error_stats.len() >= 128 && !self.error_stats.contains_key(code) {
            return;
        }
        *self.error_stats.entry(code.to_string()).or_insert(0) += 1;
    }

    pub fn slowlog_push(&mut self, c: &Client, args: &[Bytes], usec: u64) {
        let threshold = self.config.slowlog_log_slower_than;
        if threshold < 0 || (usec as i64) < threshold {
            return;
        }
        let max = self.config.slowlog_max_len as usize;
        // Redis keeps at most 32 arguments, the last one saying how many more,
        // and truncates long strings to 128 bytes.
        let mut kept: Vec<Bytes> = Vec::new();
        let n = args.len().min(32);
        for (i, a) in args.iter().take(n).enumerate() {
            if i == 31 && args.len() > 32 {
                kept.push(Bytes::from(format!(
                    "... ({} more arguments)",
                    args.len() - 31
                )));
                break;
            }
            if a.len() > 128 {
                let mut v = a[..128].to_vec();
                v.extend_from_slice(format!("... ({} more bytes)", a.len() - 128).as_bytes());
                kept.push(Bytes::from(v));
            } else {
                kept.push(a.clone());
            }
        }
        self.slowlog.push_front(SlowEntry {
            id: self.slowlog_next_id,
            time: now_ms() / 1000,
            usec,
            args: kept,
            addr: c.addr.clone(),
            name: c.name.clone().unwrap_or_default(),
        });
        self.slowlog_next_id += 1;
        while self.slowlog.len() > max {
            self.slowlog.pop_back();
        }
    }

    /// Sends a command to every MONITOR client, as Redis formats it.
    pub fn feed_monitors(&mut self, c: &Client, args: &[Bytes]) {
        let us = now_us();
        let mut line = format!(
            "{}.{:06} [{} {}]",
            us / 1_000_000,
            us % 1_000_000,
            c.db,
            c.addr
        );
        for a in args {
            line.push(' ');
            line.push_str(&crate::util::repr(a));
        }
        let ids: Vec<u64> = self.monitors.clone();
        for id in ids {
            if let Some(m) = self.clients.get_mut(&id) {
                m.reply().simple(&line);
                m.wake.notify_one();
            }
        }
    }

    /// Called after a command changed the dataset.
    pub fn after_write(&mut self, _c: &mut Client, _args: &[Bytes]) {}

    /// Marks `key` modified (Redis's signalModifiedKey): WATCHers of it
    /// will fail their EXEC, tracking clients get it invalidated.
    pub fn touch_key(&mut self, cur: &mut Client, db: usize, key: &[u8]) {
        if self.tracking.clients != 0 {
            let id = cur.id;
            self.tracking_invalidate(
                Some(cur),
                Some(id),
                key,
                true,
                tracking::Deliver::AfterReply,
            );
        }
        if self.watched.is_empty() {
            return;
        }
        let k = (db, Bytes::copy_from_slice(key));
        let exists = self.ks.dbs[db].get_raw(key).is_some();
        let Some(ws) = self.watched.get_mut(&k) else {
            return;
        };
        let mut dirty = Vec::new();
        for w in ws.iter_mut() {
            if w.expired {
                if !exists {
                    // The stale key was deleted: logically nothing changed.
                    w.expired = false;
                    continue;
                }
                w.expired = false;
            }
            dirty.push(w.client);
        }
        for id in dirty {
            self.flag_dirty(cur, id);
        }
    }

    fn flag_dirty(&mut self, cur: &mut Client, id: u64) {
        if id == cur.id {
            cur.dirty_cas = true;
        } else if let Some(o) = self.clients.get_mut(&id) {
            o.dirty_cas = true;
        }
    }

    /// True when `key` exists in `db` but its deadline has passed.
    pub fn key_is_stale(&self, db: usize, key: &[u8]) -> bool {
        let d = &self.ks.dbs[db];
        d.get_raw(key).is_some_and(|e| e.has_ttl())
            && d.expire_of(key).is_some_and(|at| at <= now_ms())
    }

    /// Before database `emptied` is flushed (`replaced_with` None) or
    /// swapped with `replaced_with`: flags WATCHers whose keys logically change.
    pub fn touch_db(&mut self, cur: &mut Client, emptied: usize, replaced_with: Option<usize>) {
        self.tracking_flushed(Some(cur));
        if self.watched.is_empty() {
            return;
        }
        let keys: Vec<(usize, Bytes)> = self
            .watched
            .keys()
            .filter(|(d, _)| *d == emptied)
            .cloned()
            .collect();
        let mut dirty = Vec::new();
        for k in keys {
            let in_emptied = self.ks.dbs[emptied].get_raw(&k.1).is_some();
            let in_other = replaced_with.is_some_and(|r| self.ks.dbs[r].get_raw(&k.1).is_some());
            if !in_emptied && !in_other {
                continue;
            }
            let other_stale = replaced_with.is_some_and(|r| self.key_is_stale(r, &k.1));
            let Some(ws) = self.watched.get_mut(&k) else {
                continue;
            };
            for w in ws.iter_mut() {
                if w.expired {
                    if !in_other {
                        w.expired = false;
                        continue;
                    } else if other_stale {
                        continue;
                    }
                } else if !in_emptied && other_stale {
                    w.expired = true;
                    continue;
                }
                dirty.push(w.client);
            }
        }
        for id in dirty {
            self.flag_dirty(cur, id);
        }
    }

    /// Adds a WATCH of `key` in `db` for client `c`.
    pub fn watch(&mut self, c: &mut Client, db: usize, key: &Bytes) {
        if c.watched.iter().any(|(d, k)| *d == db && k == key) {
            return;
        }
        let expired = self.key_is_stale(db, key);
        self.watched
            .entry((db, key.clone()))
            .or_default()
            .push(Watcher {
                client: c.id,
                expired,
            });
        c.watched.push((db, key.clone()));
    }

    /// True when a key this client watched (live at WATCH time) has expired since.
    pub fn watched_key_expired(&self, c: &Client) -> bool {
        c.watched.iter().any(|(db, key)| {
            let was_stale = self
                .watched
                .get(&(*db, key.clone()))
                .and_then(|ws| ws.iter().find(|w| w.client == c.id))
                .is_some_and(|w| w.expired);
            !was_stale && self.key_is_stale(*db, key)
        })
    }

    /// Removes a client's WATCHes.
    pub fn unwatch_all(&mut self, c: &mut Client) {
        for (db, key) in c.watched.drain(..) {
            let k = (db, key);
            if let Some(ws) = self.watched.get_mut(&k) {
                ws.retain(|w| w.client != c.id);
                if ws.is_empty() {
                    self.watched.remove(&k);
                }
            }
        }
        c.dirty_cas = false;
    }

    /// Forgets a client that disconnected.
    pub fn client_gone(&mut self, c: &mut Client) {
        self.unblock(c);
        self.unwatch_all(c);
        if c.monitor {
            self.monitors.retain(|&i| i != c.id);
        }
        self.pubsub_forget(c);
        self.tracking_disable(c);
        self.detach_replica(c);
    }

    /// Adds a latency monitor sample for `event` when it reaches
    /// `latency-monitor-threshold` (0 disables the monitor).
    pub fn latency_sample(&mut self, event: &str, ms: u64) {
        let threshold = self.config.latency_monitor_threshold;
        if threshold <= 0 || (ms as i64) < threshold {
            return;
        }
        let now = now_ms() / 1000;
        match self.latency.get_mut(event) {
            Some(series) => series.add(now, ms),
            None => {
                let mut series = latency::Series::default();
                series.add(now, ms);
                self.latency.insert(event.to_string(), series);
            }
        }
    }

    /// Raises the memory peak to the current usage and returns the usage.
    pub fn track_peak_memory(&mut self) -> u64 {
        let used = self.used_memory();
        self.peak_memory = self.peak_memory.max(used);
        used
    }

    /// CONFIG RESETSTAT: Redis's resetServerStats, resetCommandTableStats
    /// and resetErrorTableStats.
    pub fn reset_stats(&mut self) {
        self.stats = Stats::default();
        for s in &mut self.cmd_stats {
            *s = CmdStat::default();
        }
        self.error_stats.clear();
        self.lazyfreed_objects = 0;
    }

    /// Per-cron work: active expiry, stats samples.
    pub fn cron(&mut self) {
        if self.pause_cron {
            return;
        }
        self.track_peak_memory();
        let now = now_ms();
        // A replica waits for its primary's DELs (Redis's activeExpireCycle
        // runs on primaries only).
        if self.active_expire && !self.paused() && !self.is_replica() && !self.loading {
            self.active_expire_cycle(now);
        }
        self.replica_cron();
        self.failover_cron();
        // Eviction a round left unfinished, or an excess no command met
        // (Redis's evictionTimeProc).
        if self.config.maxmemory_clients != 0 {
            self.evict_clients(None);
        }
        if self.config.maxmemory > 0 {
            self.perform_evictions(None);
        }
        self.migrate.expire();
        self.drain_expired(None);
        self.tracking_cron();
        self.pubsub_cron();
        self.snapshot_cron();
        self.persist_cron();
        self.aof_cron();
        sample(&mut self.stats.ops_samples, now, self.stats.commands);
        sample(
            &mut self.stats.net_in_samples,
            now,
            self.stats.net_input_bytes,
        );
        sample(
            &mut self.stats.net_out_samples,
            now,
            self.stats.net_output_bytes,
        );
        if let Some(p) = self.pause {
            if Instant::now() >= p.until {
                self.pause = None;
                self.unpause_notify.notify_waiters();
            }
        }
    }

    /// Redis's slow active-expire cycle: per database, sample keys with a
    /// deadline, repeat while more than 10% of a sample had expired, within a
    /// time budget of 25% of a cron period.
    fn active_expire_cycle(&mut self, now: i64) {
        let hz = self.config.hz.max(1) as u64;
        let budget = Duration::from_micros(1_000_000 / hz / 4);
        let start = Instant::now();
        for db in &mut self.ks.dbs {
            loop {
                let (looked, expired) = db.active_expire_step(now, 20);
                if looked == 0 || expired * 10 <= looked {
                    break;
                }
                if start.elapsed() > budget {
                    self.stats.expired_time_cap_reached += 1;
                    return;
                }
            }
        }
    }

    /// Collects what the keyspace recorded since the last call (expiry
    /// deletions, and with notifications on, creations and read misses):
    /// counts expiries for INFO, makes WATCHers of expired keys fail their
    /// EXEC as Redis's signalModifiedKey does, and publishes the `expired`,
    /// `new` and `keymiss` notifications in the order things happened
    /// (`cur` is the client running a command, if any).
    pub fn drain_expired(&mut self, mut cur: Option<&mut Client>) {
        // Runs after every command: the common case must be one tight scan.
        if self.ks.dbs.iter().all(|d| d.events.is_empty()) {
            return;
        }
        for dbi in 0..self.ks.dbs.len() {
            let db = &mut self.ks.dbs[dbi];
            if db.events.is_empty() {
                continue;
            }
            self.stats.expired_keys += db.expired_count;
            db.expired_count = 0;
            let events = std::mem::take(&mut db.events);
            for ev in events {
                let (class, name, key) = match &ev {
                    KeyEvent::Expired(k) => {
                        self.expired_unwatch(cur.as_deref_mut(), dbi, k);
                        if self.tracking.clients != 0 {
                            let deliver = tracking::Deliver::AfterReply;
                            self.tracking_invalidate(cur.as_deref_mut(), None, k, true, deliver);
                        }
                        let lazy = self.config.lazyfree_lazy_expire;
                        self.propagate_deletion(dbi, k, lazy);
                        (notify::EXPIRED, "expired", k)
                    }
                    KeyEvent::New(k) => (notify::NEW, "new", k),
                    KeyEvent::Miss(k) => (notify::KEY_MISS, "keymiss", k),
                };
                let flags = self.config.notify_keyspace_events;
                if flags & class != 0 {
                    self.publish_event(cur.as_deref_mut(), flags, name, dbi, key);
                }
            }
        }
        // Outside a command (active expiry) each batch is fed out now,
        // unwrapped; inside one, call() feeds it with the command.
        self.propagate_pending(false);
    }

    /// An expired key changed under its WATCHers.
    fn expired_unwatch(&mut self, mut cur: Option<&mut Client>, dbi: usize, key: &[u8]) {
        if self.watched.is_empty() {
            return;
        }
        let Some(ws) = self.watched.get_mut(&(dbi, Bytes::copy_from_slice(key))) else {
            return;
        };
        let mut ids = Vec::new();
        for w in ws.iter_mut() {
            if w.expired {
                // Watched while already stale: its deletion changes nothing.
                w.expired = false;
            } else {
                ids.push(w.client);
            }
        }
        for id in ids {
            match cur.as_deref_mut() {
                Some(c) if c.id == id => c.dirty_cas = true,
                _ => {
                    if let Some(o) = self.clients.get_mut(&id) {
                        o.dirty_cas = true;
                    }
                }
            }
        }
    }

    /// A keyspace notification (Redis `notifyKeyspaceEvent`): nothing unless
    /// `notify-keyspace-events` enables `class`, so that a write path pays
    /// one AND when notifications are off. Events the keyspace recorded
    /// earlier (expiries, creations, misses) are published first.
    #[inline]
    pub fn notify(
        &mut self,
        mut cur: Option<&mut Client>,
        class: u32,
        event: &str,
        dbi: usize,
        key: &[u8],
    ) {
        let flags = self.config.notify_keyspace_events;
        if flags & class == 0 {
            return;
        }
        self.drain_expired(cur.as_deref_mut());
        self.publish_event(cur, flags, event, dbi, key);
    }

    /// Publishes `__keyspace@<db>__:<key>` → event (K) and
    /// `__keyevent@<db>__:<event>` → key (E).
    fn publish_event(
        &mut self,
        mut cur: Option<&mut Client>,
        flags: u32,
        event: &str,
        dbi: usize,
        key: &[u8],
    ) {
        if flags & notify::KEYSPACE != 0 {
            let mut ch = format!("__keyspace@{dbi}__:").into_bytes();
            ch.extend_from_slice(key);
            self.publish(cur.as_deref_mut(), &ch, event.as_bytes());
        }
        if flags & notify::KEYEVENT != 0 {
            let ch = format!("__keyevent@{dbi}__:{event}");
            self.publish(cur, ch.as_bytes(), key);
        }
    }

    /// Brings the keyspace's recording of creations and misses in line with
    /// `notify-keyspace-events` (after startup and CONFIG SET).
    pub fn sync_notify_flags(&mut self) {
        let flags = self.config.notify_keyspace_events;
        let out = flags & (notify::KEYSPACE | notify::KEYEVENT) != 0;
        for db in &mut self.ks.dbs {
            db.track_new = out && flags & notify::NEW != 0;
            db.track_miss = out && flags & notify::KEY_MISS != 0;
        }
    }

    /// instantaneous_ops_per_sec and friends: average over the samples.
    pub fn instantaneous(samples: &VecDeque<(i64, u64)>) -> f64 {
        match (samples.front(), samples.back()) {
            (Some(a), Some(b)) if b.0 > a.0 => (b.1 - a.1) as f64 * 1000.0 / (b.0 - a.0) as f64,
            _ => 0.0,
        }
    }

    /// Drops `garbage` (a deleted value, a flushed database) on the lazyfree
    /// thread when freeing it would take more than 64 allocations, as
    /// Redis's LAZYFREE_THRESHOLD; small values are freed here at once.
    pub fn free_later<T: Send + 'static>(&mut self, garbage: T, effort: usize) {
        if effort > 64 {
            self.lazyfreed_objects = self.lazyfreed_objects.saturating_add(effort as u64);
            lazyfree(Box::new(garbage));
        } else {
            drop(garbage);
        }
    }
}

/// Values handed to the lazyfree thread and not freed yet.
static LAZYFREE_PENDING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Values the lazyfree thread has still to free (INFO
/// lazyfree_pending_objects).
pub fn lazyfree_pending() -> usize {
    LAZYFREE_PENDING.load(std::sync::atomic::Ordering::Relaxed)
}

/// Hands big values to the one lazyfree thread, started on first use, so
/// freeing never stalls the engine and never costs a thread per value.
fn lazyfree(garbage: Box<dyn Send>) {
    use std::sync::mpsc::{channel, Sender};
    use std::sync::Mutex;
    static TX: OnceLock<Mutex<Sender<Box<dyn Send>>>> = OnceLock::new();
    let tx = TX.get_or_init(|| {
        let (tx, rx) = channel::<Box<dyn Send>>();
        let spawned = std::thread::Builder::new()
            .name("snapcache-lazyfree".into())
            .spawn(move || {
                for g in rx {
                    drop(g);
                    LAZYFREE_PENDING.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("could not start the lazyfree thread ({e}); freeing inline");
        }
        Mutex::new(tx)
    });
    let sender = tx.lock().unwrap_or_else(|p| p.into_inner()).clone();
    LAZYFREE_PENDING.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let Err(std::sync::mpsc::SendError(g)) = sender.send(garbage) {
        // No lazyfree thread: free here rather than leak.
        drop(g);
        LAZYFREE_PENDING.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

fn sample(q: &mut VecDeque<(i64, u64)>, now: i64, v: u64) {
    q.push_back((now, v));
    while q.len() > 16 {
        q.pop_front();
    }
}

/// A random lowercase hex string.
pub fn random_hex(n: usize) -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).expect("digit < 16"))
        .collect()
}

/// Runs a server until SHUTDOWN on the current thread: binds, accepts and
/// serves; `ready` is called with the bound addresses. `inbox` carries
/// in-process requests from a [`crate::ServerHandle`].
pub fn run_with_inbox(
    engine: Engine,
    inbox: Option<mpsc::UnboundedReceiver<Inbox>>,
    ready: impl FnOnce(&[SocketAddr]),
) -> std::io::Result<Option<ShutdownSave>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, serve(engine, inbox, ready))
}

async fn serve(
    mut engine: Engine,
    inbox: Option<mpsc::UnboundedReceiver<Inbox>>,
    ready: impl FnOnce(&[SocketAddr]),
) -> std::io::Result<Option<ShutdownSave>> {
    let addrs: Vec<String> = if engine.config.bind.is_empty() {
        vec!["0.0.0.0".to_string()]
    } else {
        engine.config.bind.clone()
    };
    let mut listeners = Vec::new();
    if engine.config.port != 0 || inbox.is_some() {
        for a in &addrs {
            // A leading '-' marks an optional address: failure to bind it is not fatal.
            let optional = a.starts_with('-');
            let host = match a.trim_start_matches('-') {
                "*" => "0.0.0.0",
                "::*" => "::",
                h => h,
            };
            match bind_listener(host, engine.config.port) {
                Ok(l) => listeners.push(l),
                Err(e) if optional || (addrs.len() > 1 && host.contains(':')) => {
                    tracing::warn!(
                        "Warning: Could not create server TCP listening socket {host}:{}: bind: {e}",
                        engine.config.port
                    );
                }
                Err(e) => return Err(e),
            }
        }
    }
    engine.bound = listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .collect();
    let unix = match engine.config.unixsocket.clone().filter(|p| !p.is_empty()) {
        Some(path) => Some(bind_unix(&path, engine.config.unixsocketperm)?),
        None => None,
    };
    ready(&engine.bound);
    // The AOF (with appendonly yes the whole dataset, as Redis's
    // loadDataFromDisk) loads before the first connection is served;
    // otherwise the RDB dump loads on a thread while clients get -LOADING.
    crate::replication::spool::remove_stale(&engine.config.dir);
    let load_rdb = engine.aof_startup();
    // `replicaof` in the configuration: the link starts once the dump is
    // loaded (its replication ID and offset are what PSYNC offers). The
    // AOF, loaded above, replays as a primary's would: its writes are not
    // a replica's clients'.
    if let Some((host, port)) = engine.config.replicaof.clone() {
        engine.start_replication(host, port);
        // Without a dump that says otherwise, a fresh replica has no
        // history to continue: PSYNC ? -1.
        engine.repl.psync_ok = false;
    }
    let shutdown = engine.shutdown_notify.clone();
    let engine = Rc::new(RefCell::new(engine));

    let accepting: Vec<_> = listeners
        .into_iter()
        .map(|l| tokio::task::spawn_local(conn::accept_loop(engine.clone(), l)))
        .collect();
    if let Some(l) = unix {
        tokio::task::spawn_local(conn::accept_unix_loop(engine.clone(), l));
    }
    tokio::task::spawn_local(cron_loop(engine.clone()));
    tokio::task::spawn_local(snapshot::walk_loop(engine.clone()));
    tokio::task::spawn_local(crate::replication::transfer::sync_loop(engine.clone()));
    tokio::task::spawn_local(scripting::busy_loop(engine.clone()));
    if load_rdb {
        tokio::task::spawn_local(persist::load_at_startup(engine.clone()));
    }
    match inbox {
        Some(rx) => {
            tokio::task::spawn_local(inbox_loop(engine.clone(), rx));
        }
        None => {
            tokio::task::spawn_local(signal_loop(engine.clone()));
        }
    }
    shutdown.notified().await;
    // Listeners close first, then (when the runtime goes) the clients.
    for a in &accepting {
        a.abort();
    }
    for a in accepting {
        let _ = a.await;
    }
    let e = engine.borrow();
    if e.persist.fatal {
        return Err(std::io::Error::other(persist::LoadFailed));
    }
    Ok(e.shutdown)
}

/// SIGTERM and SIGINT shut the server down as SHUTDOWN does (the server
/// binary only: an embedding program keeps its own signal handling).
async fn signal_loop(engine: Rc<RefCell<Engine>>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("could not install signal handlers");
        return;
    };
    persist::install_insist_handler();
    loop {
        let sig = tokio::select! {
            _ = term.recv() => persist::Signal::Term,
            _ = int.recv() => persist::Signal::Int,
        };
        // The cron runs the shutdown (Redis's serverCron), so SHUTDOWN
        // ABORT can still cancel it.
        engine.borrow_mut().signal_shutdown(sig);
    }
}

/// Serves in-process requests, each from one pseudo client.
async fn inbox_loop(engine: Rc<RefCell<Engine>>, mut rx: mpsc::UnboundedReceiver<Inbox>) {
    let id = {
        let mut e = engine.borrow_mut();
        let id = e.next_id();
        let c = Client::new(id, "in-process:0".into(), "in-process:0".into(), -1, true);
        e.clients.insert(id, Box::new(c));
        id
    };
    while let Some(msg) = rx.recv().await {
        match msg {
            Inbox::Execute(args, reply) => {
                let mut guard = engine.borrow_mut();
                let e = &mut *guard;
                let Some(mut c) = e.clients.remove(&id) else {
                    break;
                };
                crate::dispatch::execute(e, &mut c, args);
                e.aof_before_reply();
                let out = std::mem::take(&mut c.out);
                e.clients.insert(id, c);
                let frame = match crate::protocol::reply::parse_frame(&out) {
                    Ok(Some((f, _))) => f,
                    _ => crate::protocol::reply::Frame::Null,
                };
                let _ = reply.send(frame);
                if e.shutdown.is_some() {
                    e.shutdown_notify.notify_one();
                }
            }
            Inbox::Shutdown => {
                let mut e = engine.borrow_mut();
                e.prepare_shutdown(ShutdownSave::NoSave, true);
                e.shutdown = Some(ShutdownSave::NoSave);
                e.shutdown_notify.notify_one();
                break;
            }
        }
    }
}

/// Binds the `unixsocket` path (a stale socket file is replaced, as Redis
/// does) with `unixsocketperm` when it is set.
fn bind_unix(path: &str, perm: u32) -> std::io::Result<tokio::net::UnixListener> {
    let _ = std::fs::remove_file(path);
    let l = tokio::net::UnixListener::bind(path)?;
    if perm != 0 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm))?;
    }
    tracing::info!("The server is now ready to accept connections at {path}");
    Ok(l)
}

/// Binds a listening socket. IPv6 sockets are IPv6-only, so `0.0.0.0` and
/// `::` can share a port as they do in Redis.
fn bind_listener(host: &str, port: u16) -> std::io::Result<TcpListener> {
    use nix::sys::socket::{
        bind, listen, setsockopt, socket, sockopt, AddressFamily, Backlog, SockFlag, SockType,
        SockaddrIn6,
    };
    let ip: std::net::IpAddr = host.parse().map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("bad address {host}"),
        )
    })?;
    if let std::net::IpAddr::V6(v6) = ip {
        let fd = socket(
            AddressFamily::Inet6,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        )?;
        setsockopt(&fd, sockopt::Ipv6V6Only, &true)?;
        setsockopt(&fd, sockopt::ReuseAddr, &true)?;
        let addr = SockaddrIn6::from(std::net::SocketAddrV6::new(v6, port, 0, 0));
        bind(std::os::fd::AsRawFd::as_raw_fd(&fd), &addr)?;
        listen(&fd, Backlog::new(511).unwrap_or(Backlog::MAXCONN))?;
        let std_listener = std::net::TcpListener::from(fd);
        std_listener.set_nonblocking(true)?;
        return TcpListener::from_std(std_listener);
    }
    let sock = tokio::net::TcpSocket::new_v4()?;
    sock.set_reuseaddr(true)?;
    sock.bind(std::net::SocketAddr::new(ip, port))?;
    sock.listen(511)
}

async fn cron_loop(engine: Rc<RefCell<Engine>>) {
    loop {
        let hz = engine.borrow().config.hz.clamp(1, 500) as u64;
        tokio::time::sleep(Duration::from_millis(1000 / hz)).await;
        let link = {
            let mut e = engine.borrow_mut();
            e.cron();
            e.repl.spawn_link.take()
        };
        if let Some(generation) = link {
            tokio::task::spawn_local(crate::replication::replica::link_task(
                engine.clone(),
                generation,
            ));
        }
    }
}
