//! Propagation: what a write command replays elsewhere (replicas and the
//! AOF), as Redis 7.0's `call()` / `alsoPropagate()` /
//! `propagatePendingCommands()` do it.
//!
//! Every top-level command collects its operations in `pending`: the DELs of
//! keys it found expired, then the command itself (its arguments, or the
//! deterministic form its handler chose with [`Engine::propagate_as`]).
//! When the top-level call ends they are fed out, wrapped in MULTI/EXEC when
//! there is more than one (EXEC of a transaction with several writes, a
//! command that expired keys). Nothing is collected while nobody consumes the
//! stream, so the hot path costs one branch.

use bytes::Bytes;

use super::Engine;

/// What the running command asked for its own propagation.
#[derive(Default)]
pub struct CallProp {
    /// Replay these arguments instead of the command's.
    pub rewrite: Option<Vec<Bytes>>,
    /// Don't replay the command (it propagated what it wanted itself).
    pub prevent: bool,
    /// Replay it even though it changed nothing (FLUSHALL on an empty
    /// server, PUBLISH).
    pub force: bool,
}

/// The propagation state of the server.
pub struct Repl {
    /// Operations of the running top-level command: (db, arguments).
    pub pending: Vec<(usize, Vec<Bytes>)>,
    /// The innermost running command's own choice.
    pub cur: CallProp,
    /// Nesting of `dispatch::call` (EXEC runs its commands inside).
    pub depth: u32,
    /// Clients receiving the stream (replicas and SYNC attachments).
    pub replicas: Vec<u64>,
    /// The database the stream last SELECTed.
    pub seldb: Option<usize>,
    /// Bytes fed into the stream (`master_repl_offset`).
    pub offset: u64,
    /// This server's replication ID (`master_replid`).
    pub replid: String,
    /// Set while this server replicates another.
    pub primary: Option<crate::replication::replica::Primary>,
    /// Whether `replid` / `offset` describe this server's data, so that a
    /// replica may offer them to a primary with PSYNC (Redis's cached
    /// master): false after a failed load emptied it.
    pub psync_ok: bool,
    /// The backlog for partial resynchronization, once a replica came.
    pub backlog: Option<crate::replication::backlog::Backlog>,
    /// The offset up to which `replid2` is valid (`second_repl_offset`).
    pub second_offset: i64,
    /// Since when no replica is attached (`repl-backlog-ttl`).
    pub no_replicas_since: Option<std::time::Instant>,
    /// Each replica's sync state and capabilities.
    pub links: std::collections::HashMap<u64, crate::replication::primary::Link>,
    /// The running full-sync snapshot.
    pub sync: Option<crate::replication::transfer::SyncRun>,
    /// INFO stats.
    pub sync_full: u64,
    pub sync_partial_ok: u64,
    pub sync_partial_err: u64,
    /// The stream full syncs' replicas miss meanwhile (replication::spool).
    pub spools: Vec<crate::replication::spool::Spool>,
    pub spool_seq: u64,
    /// Replicas whose snapshot is sent: their spool drain is to start.
    pub drain_ready: Vec<u64>,
    /// A FAILOVER under way.
    pub failover: Option<crate::replication::failover::Failover>,
    /// The IPs replicas announced (REPLCONF ip-address).
    pub replica_ips: std::collections::HashMap<u64, String>,
    /// The last full sync's snapshot method, target and reason (INFO).
    pub last_sync: Option<(crate::server::snapshot::Method, String, String)>,
    /// When the once-a-second replication cron last ran.
    pub cron_at: std::time::Instant,
    /// Runs of the once-a-second replication cron.
    pub cron_loops: u64,
    /// A link task to start (by the cron loop, which owns the engine handle).
    pub spawn_link: Option<u64>,
    /// True while a command of the primary's stream runs.
    pub from_primary: bool,
    /// Stream offsets the replicas acknowledged (REPLCONF ACK), by client.
    pub acks: std::collections::HashMap<u64, u64>,
    /// Clients blocked in WAIT: (client, offset, replicas wanted).
    pub waiting: Vec<(u64, u64, u64)>,
    /// Keys a writable replica's own clients gave a deadline.
    pub local_expires: std::collections::HashSet<(usize, Bytes)>,
    /// When each replica last acknowledged.
    pub ack_times: std::collections::HashMap<u64, std::time::Instant>,
    /// Replicas whose full sync waits for a snapshot (the running one to
    /// end, or `repl-diskless-sync-delay`), and when the first of them asked.
    pub sync_waiting: Vec<u64>,
    pub sync_wait_since: Option<std::time::Instant>,
    /// The ports replicas announced (REPLCONF listening-port).
    pub replica_ports: std::collections::HashMap<u64, u16>,
    /// The AOF takes the stream (see `persistence::aof`).
    pub aof: bool,
}

impl Repl {
    pub fn new(replid: String) -> Repl {
        Repl {
            pending: Vec::new(),
            cur: CallProp::default(),
            depth: 0,
            replicas: Vec::new(),
            seldb: None,
            offset: 0,
            replid,
            primary: None,
            psync_ok: true,
            backlog: None,
            second_offset: -1,
            no_replicas_since: None,
            links: Default::default(),
            sync: None,
            sync_full: 0,
            sync_partial_ok: 0,
            sync_partial_err: 0,
            spools: Vec::new(),
            spool_seq: 0,
            drain_ready: Vec::new(),
            failover: None,
            replica_ips: Default::default(),
            last_sync: None,
            cron_at: std::time::Instant::now(),
            cron_loops: 0,
            spawn_link: None,
            from_primary: false,
            acks: Default::default(),
            waiting: Vec::new(),
            sync_waiting: Vec::new(),
            sync_wait_since: None,
            replica_ports: Default::default(),
            ack_times: Default::default(),
            local_expires: Default::default(),
            aof: false,
        }
    }

    /// True when something consumes the stream.
    #[inline]
    pub fn wanted(&self) -> bool {
        !self.replicas.is_empty() || self.aof || self.backlog.is_some()
    }
}

/// A command in RESP, as the stream carries it.
pub fn encode_command(argv: &[Bytes], out: &mut Vec<u8>) {
    let mut n = itoa::Buffer::new();
    out.push(b'*');
    out.extend_from_slice(n.format(argv.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in argv {
        out.push(b'$');
        out.extend_from_slice(n.format(a.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Arguments from string pieces (for rewritten commands).
pub fn argv(parts: &[&[u8]]) -> Vec<Bytes> {
    parts.iter().map(|p| Bytes::copy_from_slice(p)).collect()
}

impl Engine {
    /// True when writes are propagated: handlers skip building rewritten
    /// forms otherwise.
    #[inline]
    pub fn propagating(&self) -> bool {
        self.repl.wanted()
    }

    /// The running command replays as `argv` instead of its own arguments.
    pub fn propagate_as(&mut self, argv: Vec<Bytes>) {
        self.repl.cur.rewrite = Some(argv);
    }

    /// The running command is not replayed by itself.
    pub fn prevent_propagation(&mut self) {
        self.repl.cur.prevent = true;
    }

    /// The running command is replayed even if it changed nothing.
    pub fn force_propagation(&mut self) {
        self.repl.cur.force = true;
    }

    /// Adds an operation to replay (after what is already pending).
    pub fn also_propagate(&mut self, db: usize, argv: Vec<Bytes>) {
        if self.repl.wanted() {
            self.repl.pending.push((db, argv));
        }
    }

    /// A deleted key (expired, evicted) replays as DEL, or UNLINK when the
    /// deletion was lazy.
    pub fn propagate_deletion(&mut self, db: usize, key: &[u8], lazy: bool) {
        if self.repl.wanted() {
            self.repl.pending.push((db, del_argv(lazy, key)));
        }
    }

    /// Called by `dispatch::call` before a handler runs: a fresh choice
    /// for this command, the enclosing one's kept.
    pub fn prop_enter(&mut self) -> CallProp {
        self.repl.depth += 1;
        std::mem::take(&mut self.repl.cur)
    }

    /// Called by `dispatch::call` after the handler: queues the command as
    /// it chose (when it changed data or forced it) and restores the
    /// enclosing command's choice.
    pub fn prop_leave(
        &mut self,
        saved: CallProp,
        db: usize,
        args: &[Bytes],
        dirty: bool,
        is_exec: bool,
    ) {
        self.repl.depth -= 1;
        let mine = std::mem::replace(&mut self.repl.cur, saved);
        if !self.repl.wanted() || is_exec || mine.prevent || !(dirty || mine.force) {
            return;
        }
        let argv = mine.rewrite.unwrap_or_else(|| args.to_vec());
        self.repl.pending.push((db, argv));
    }

    /// Feeds out what the finished top-level command collected; `wrap`
    /// allows a MULTI/EXEC around several operations.
    pub fn propagate_pending(&mut self, wrap: bool) {
        if self.repl.pending.is_empty() || self.repl.depth > 0 {
            return;
        }
        let ops = std::mem::take(&mut self.repl.pending);
        let transaction = wrap && ops.len() > 1;
        if self.repl.aof {
            self.aof_feed_ops(&ops, transaction);
        }
        // A replica proxies its primary's stream to its own replicas
        // (execute_from_primary) and adds nothing to it, as Redis's
        // replicationFeedSlaves does.
        if self.is_replica() || self.repl.backlog.is_none() && self.repl.replicas.is_empty() {
            return;
        }
        let mut buf = Vec::new();
        if transaction {
            self.stream_command(ops[0].0, &argv(&[b"MULTI"]), &mut buf);
        }
        for (db, a) in &ops {
            self.stream_command(*db, a, &mut buf);
        }
        if transaction {
            let last = ops[ops.len() - 1].0;
            self.stream_command(last, &argv(&[b"EXEC"]), &mut buf);
        }
        self.feed_replicas(&buf);
    }

    /// Appends one command to `buf`, preceded by a SELECT when the stream
    /// is in another database.
    pub(crate) fn stream_command(&mut self, db: usize, a: &[Bytes], buf: &mut Vec<u8>) {
        if self.repl.seldb != Some(db) {
            let d = itoa::Buffer::new().format(db).as_bytes().to_vec();
            encode_command(&argv(&[b"SELECT", &d]), buf);
            self.repl.seldb = Some(db);
        }
        encode_command(a, buf);
    }
}

/// DEL key, or UNLINK key when the deletion is lazy.
pub fn del_argv(lazy: bool, key: &[u8]) -> Vec<Bytes> {
    let cmd: &[u8] = if lazy { b"UNLINK" } else { b"DEL" };
    argv(&[cmd, key])
}
