//! Full synchronization: the snapshot pipeline's replica sinks.
//!
//! A replica that needs a full sync waits in `sync_waiting` until a
//! snapshot can start (one runs at a time, as Redis has one RDB child).
//! [`sync_loop`] starts it:
//!
//! * **Disk-based** (`repl-diskless-sync no`, or a replica without `capa
//!   eof`): an ordinary background save ([`Engine::bgsave_start`], fork or
//!   forkless as `snapshot-method` decides); when it has succeeded each
//!   replica's task reads the dump in chunks and sends `$<len>` and the
//!   bytes.
//! * **Diskless** (`repl-diskless-sync yes`): after
//!   `repl-diskless-sync-delay` (or once `repl-diskless-sync-max-replicas`
//!   wait) one snapshot serves them all: a fork child or the forkless
//!   writer thread writes the RDB into a pipe, and [`relay`] sends
//!   `$EOF:<mark>`, the bytes and the mark to every replica of the sync.
//!   The stream starts once the replica acknowledges (REPLCONF ACK), so the
//!   mark ends what it reads.
//!
//! The stream written from the snapshot's offset on goes to a spool file
//! ([`super::spool`]) started in the turn the snapshot is taken; once a
//! replica has its snapshot it gets the spool, then joins the live stream.
//! Snapshot and spool go through a window of [`WINDOW`] bytes per replica;
//! a replica that takes nothing for `repl-timeout` is dropped, and the
//! others go on.

use std::cell::RefCell;
use std::os::fd::OwnedFd;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

use super::primary::SyncState;
use crate::server::client::{Client, ClientKind, ReplyMode};
use crate::server::snapshot::Method;
use crate::server::Engine;

/// Snapshot bytes queued per replica beyond what its socket took.
pub const WINDOW: usize = 1 << 20;
/// Bytes read from the pipe or the file at a time.
pub(crate) const CHUNK: usize = 64 << 10;

/// The running full-sync snapshot.
pub struct SyncRun {
    /// The replicas it serves.
    pub replicas: Vec<u64>,
    pub diskless: bool,
    /// How the snapshot ended: None while it runs.
    pub outcome: Option<bool>,
    /// A diskless run's mark and the pipe's read end, until its relay
    /// task takes them.
    pub relay: Option<(String, OwnedFd)>,
}

/// Work [`sync_loop`] starts as tasks.
enum Job {
    Relay(String, OwnedFd),
    SendFile(u64, std::path::PathBuf),
}

impl Engine {
    /// Queues `c` for a full sync; the sync loop starts the snapshot.
    pub(crate) fn request_full_sync(&mut self, c: &mut Client, old_sync: bool) {
        c.kind = ClientKind::Replica;
        c.reply_mode = ReplyMode::ReplicaStarting;
        c.hold_out = true;
        let link = self.repl.links.entry(c.id).or_default();
        link.state = SyncState::WaitBgsave;
        link.old_sync = old_sync;
        self.repl.sync_full += 1;
        self.ensure_backlog();
        self.repl.sync_waiting.push(c.id);
        self.repl.sync_wait_since.get_or_insert_with(Instant::now);
        if self.config.repl_diskless_sync && self.config.repl_diskless_sync_delay > 0 {
            tracing::info!(
                "Replica {} asks for synchronization; delaying the transfer {} s for more replicas",
                c.addr,
                self.config.repl_diskless_sync_delay
            );
        }
        self.repl_kick.notify_one();
    }

    /// Whether a replica gets the diskless form.
    fn wants_diskless(&self, id: u64) -> bool {
        self.config.repl_diskless_sync
            && self
                .repl
                .links
                .get(&id)
                .is_some_and(|l| l.capa_eof && !l.old_sync)
    }

    /// Starts what waits: a finished disk snapshot's transfers, or a new
    /// snapshot for the waiting replicas.
    fn next_sync_jobs(&mut self) -> Vec<Job> {
        if let Some(run) = &mut self.repl.sync {
            if let Some((mark, fd)) = run.relay.take() {
                return vec![Job::Relay(mark, fd)];
            }
            if run.diskless || run.outcome.is_none() {
                return Vec::new();
            }
            let run = self.repl.sync.take().expect("checked above");
            if run.outcome != Some(true) {
                self.drop_sync_replicas(&run.replicas, "the snapshot for it failed");
                return Vec::new();
            }
            let path = self.config.dir.join(&self.config.dbfilename);
            return run
                .replicas
                .into_iter()
                .map(|id| Job::SendFile(id, path.clone()))
                .collect();
        }
        self.repl
            .sync_waiting
            .retain(|id| self.clients.contains_key(id));
        if self.repl.sync_waiting.is_empty() {
            self.repl.sync_wait_since = None;
            return Vec::new();
        }
        if self.bgsave_running() || self.child_active() || self.persist.loading.is_some() {
            return Vec::new();
        }
        // As Redis's replicationCron: with diskless sync on, the snapshot
        // waits for more replicas; it goes to the sockets when every
        // waiting replica reads the EOF form, else to disk.
        let delay = Duration::from_secs(self.config.repl_diskless_sync_delay.into());
        let max = self.config.repl_diskless_sync_max_replicas as usize;
        let waited = self
            .repl
            .sync_wait_since
            .is_some_and(|t| t.elapsed() >= delay);
        let waiting = self.repl.sync_waiting.len();
        if self.config.repl_diskless_sync && !waited && !(max > 0 && waiting >= max) {
            return Vec::new();
        }
        let ids = std::mem::take(&mut self.repl.sync_waiting);
        self.repl.sync_wait_since = None;
        if !ids.iter().all(|&id| self.wants_diskless(id)) {
            self.start_disk_sync(ids);
            return Vec::new();
        }
        match self.start_diskless_sync(ids) {
            Some((mark, fd)) => vec![Job::Relay(mark, fd)],
            None => Vec::new(),
        }
    }

    /// Sends `+FULLRESYNC` to the replicas of a new snapshot and attaches
    /// them to the stream: this turn's offset is the snapshot's.
    fn begin_full_sync(&mut self, ids: &[u64], state: SyncState) {
        let line = format!("+FULLRESYNC {} {}\r\n", self.repl.replid, self.repl.offset);
        // The stream from this offset on waits in a spool file until each
        // replica has its snapshot.
        if !self.spool_start(ids) {
            self.drop_sync_replicas(ids, "no spool for the stream");
            return;
        }
        for &id in ids {
            let old_sync = self.repl.links.get(&id).is_some_and(|l| l.old_sync);
            if let Some(link) = self.repl.links.get_mut(&id) {
                link.state = state;
            }
            let Some(mut c) = self.clients.remove(&id) else {
                continue;
            };
            if !old_sync {
                c.sync_out.extend_from_slice(line.as_bytes());
            }
            c.wake.notify_one();
            self.clients.insert(id, c);
        }
    }

    fn start_disk_sync(&mut self, ids: Vec<u64>) {
        let (method, reason) = self.choose_snapshot_method();
        self.begin_full_sync(&ids, SyncState::WaitBgsave);
        if self.bgsave_start().is_err() {
            self.drop_sync_replicas(&ids, "the background save could not start");
            return;
        }
        tracing::info!(
            "Starting BGSAVE for SYNC with target: disk ({} replicas; {reason})",
            ids.len()
        );
        self.repl.last_sync = Some((method, "disk".into(), reason));
        self.repl.sync = Some(SyncRun {
            replicas: ids,
            diskless: false,
            outcome: None,
            relay: None,
        });
    }

    /// Forks (or starts the forkless writer) into a pipe for `ids`.
    fn start_diskless_sync(&mut self, ids: Vec<u64>) -> Option<(String, OwnedFd)> {
        use nix::fcntl::OFlag;
        let (rd, wr) = match nix::unistd::pipe2(OFlag::O_CLOEXEC) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("Can't create the pipe for a diskless sync: {}", e.desc());
                self.drop_sync_replicas(&ids, "no pipe for the snapshot");
                return None;
            }
        };
        if let Err(e) = nix::fcntl::fcntl(
            std::os::fd::AsRawFd::as_raw_fd(&rd),
            nix::fcntl::FcntlArg::F_SETFL(OFlag::O_NONBLOCK),
        ) {
            tracing::warn!("Can't set up the pipe for a diskless sync: {}", e.desc());
            self.drop_sync_replicas(&ids, "no pipe for the snapshot");
            return None;
        }
        let (method, reason) = if std::mem::take(&mut self.persist.snap.next_sync_forkless) {
            (
                Method::Forkless,
                "forkless: the fork guard stopped the last sync's fork".to_string(),
            )
        } else {
            self.choose_snapshot_method()
        };
        self.begin_full_sync(&ids, SyncState::SendBulk);
        let started = match method {
            Method::Fork => match self.fork_for_sync(&wr, &reason) {
                Ok(()) => Ok(Method::Fork),
                Err(err) => {
                    tracing::warn!("Can't fork for a diskless sync: {err}; syncing forkless");
                    self.forkless_for_sync(wr, format!("forkless: fork failed: {err}"))
                        .map(|()| Method::Forkless)
                }
            },
            Method::Forkless => self
                .forkless_for_sync(wr, reason.clone())
                .map(|()| Method::Forkless),
        };
        let method = match started {
            Ok(m) => m,
            Err(err) => {
                tracing::warn!("Can't start the snapshot for a diskless sync: {err}");
                self.drop_sync_replicas(&ids, "the snapshot could not start");
                return None;
            }
        };
        tracing::info!(
            "Starting BGSAVE for SYNC with target: replicas sockets ({} replicas; {reason})",
            ids.len()
        );
        self.repl.last_sync = Some((method, "socket".into(), reason));
        self.repl.sync = Some(SyncRun {
            replicas: ids,
            diskless: true,
            outcome: None,
            relay: None,
        });
        Some((crate::server::random_hex(super::replica::EOF_MARK_LEN), rd))
    }

    /// Ends the syncs of `ids` by closing their links.
    fn drop_sync_replicas(&mut self, ids: &[u64], why: &str) {
        for id in ids {
            if let Some(c) = self.clients.get_mut(id) {
                tracing::warn!("Closing replica {} in full sync: {why}", c.addr);
                c.close_asap = true;
                c.wake.notify_one();
            }
        }
    }

    /// The snapshot of the running sync ended (its child was reaped, or
    /// its forkless writer finished).
    pub(crate) fn sync_snapshot_done(&mut self, ok: bool) {
        if let Some(run) = &mut self.repl.sync {
            run.outcome.get_or_insert(ok);
        }
        self.repl_kick.notify_one();
    }

    /// A disk-based save ended: the sync waiting for it may send it.
    pub(crate) fn disk_save_done(&mut self, ok: bool) {
        if self.repl.sync.as_ref().is_some_and(|r| !r.diskless) {
            self.sync_snapshot_done(ok);
        }
    }

    /// Once a second: replicas waiting for a disk snapshot get a newline,
    /// which keeps their link from timing out (Redis's replicationCron).
    pub(crate) fn sync_keepalive(&mut self) {
        let mut ids = self.repl.sync_waiting.clone();
        if let Some(run) = self.repl.sync.as_ref().filter(|r| !r.diskless) {
            ids.extend_from_slice(&run.replicas);
        }
        for id in &ids {
            if let Some(c) = self.clients.get_mut(id) {
                c.sync_out.push(b'\n');
                c.wake.notify_one();
            }
        }
    }

    /// A replica's snapshot is wholly queued: the stream follows it.
    fn sync_payload_sent(&mut self, id: u64, wait_ack: bool) {
        if !self.clients.contains_key(&id) {
            return;
        }
        if let Some(link) = self.repl.links.get_mut(&id) {
            if wait_ack {
                // The stream starts at its first REPLCONF ACK (see
                // replica_ack_online).
                link.wait_ack = true;
                return;
            }
        }
        self.repl.drain_ready.push(id);
        self.repl_kick.notify_one();
    }

    /// REPLCONF ACK from a replica that got a diskless snapshot: it has
    /// loaded it, and the stream may follow.
    pub(crate) fn replica_ack_online(&mut self, c: &mut Client) {
        let Some(link) = self.repl.links.get_mut(&c.id) else {
            return;
        };
        if !link.wait_ack {
            return;
        }
        link.wait_ack = false;
        self.repl.drain_ready.push(c.id);
        self.repl_kick.notify_one();
    }
}

/// Drives full syncs: starts snapshots for waiting replicas and the tasks
/// that send them.
pub async fn sync_loop(engine: Rc<RefCell<Engine>>) {
    let kick = engine.borrow().repl_kick.clone();
    loop {
        let _ = tokio::time::timeout(Duration::from_millis(100), kick.notified()).await;
        let drains = std::mem::take(&mut engine.borrow_mut().repl.drain_ready);
        for id in drains {
            tokio::task::spawn_local(super::spool::drain(engine.clone(), id));
        }
        let jobs = engine.borrow_mut().next_sync_jobs();
        for job in jobs {
            match job {
                Job::Relay(mark, fd) => {
                    tokio::task::spawn_local(relay(engine.clone(), mark, fd));
                }
                Job::SendFile(id, path) => {
                    tokio::task::spawn_local(send_file(engine.clone(), id, path));
                }
            }
        }
    }
}

/// Queues `chunk` for every replica of `ids` once each has room in its
/// window; replicas gone, closing or stuck for `repl-timeout` leave `ids`.
pub(crate) async fn push_all(
    engine: &Rc<RefCell<Engine>>,
    ids: &mut Vec<u64>,
    progress: &mut std::collections::HashMap<u64, (u64, Instant)>,
    chunk: &[u8],
) {
    loop {
        {
            let mut e = engine.borrow_mut();
            let timeout = Duration::from_secs(e.config.repl_timeout.max(1) as u64);
            let mut full = false;
            ids.retain(|id| {
                let Some(c) = e.clients.get_mut(id) else {
                    return false;
                };
                if c.close_asap {
                    return false;
                }
                if c.sync_out.len() + c.out_inflight <= WINDOW {
                    return true;
                }
                // `out_inflight` is what the connection task saw at its
                // last round: let it run one to write and recount.
                c.wake.notify_one();
                let p = progress.entry(*id).or_insert((c.net_out, Instant::now()));
                if p.0 != c.net_out {
                    *p = (c.net_out, Instant::now());
                } else if p.1.elapsed() >= timeout {
                    tracing::warn!("Disconnecting timedout replica (full sync): {}", c.addr);
                    c.close_asap = true;
                    c.wake.notify_one();
                    return false;
                }
                full = true;
                true
            });
            if !full {
                for id in ids.iter() {
                    if let Some(c) = e.clients.get_mut(id) {
                        c.sync_out.extend_from_slice(chunk);
                        c.wake.notify_one();
                    }
                }
                e.stats.net_repl_output_bytes += (chunk.len() * ids.len()) as u64;
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Relays a diskless snapshot from the pipe to the replicas of the sync.
async fn relay(engine: Rc<RefCell<Engine>>, mark: String, fd: OwnedFd) {
    let mut ids = engine
        .borrow()
        .repl
        .sync
        .as_ref()
        .map(|r| r.replicas.clone())
        .unwrap_or_default();
    let mut progress = Default::default();
    let mut ok = match tokio::net::unix::pipe::Receiver::from_owned_fd(fd) {
        Ok(mut rx) => {
            let header = format!("$EOF:{mark}\r\n");
            push_all(&engine, &mut ids, &mut progress, header.as_bytes()).await;
            let mut buf = vec![0u8; CHUNK];
            loop {
                if ids.is_empty() {
                    break false;
                }
                match rx.read(&mut buf).await {
                    Ok(0) => break true,
                    Ok(n) => push_all(&engine, &mut ids, &mut progress, &buf[..n]).await,
                    Err(e) => {
                        tracing::warn!("Diskless sync: reading the snapshot pipe: {e}");
                        break false;
                    }
                }
            }
            // Dropping the receiver closes the pipe: a snapshot still
            // writing gets EPIPE and ends.
        }
        Err(e) => {
            tracing::warn!("Diskless sync: the snapshot pipe: {e}");
            false
        }
    };
    if !ok {
        // Nobody left to send to, or the pipe failed: stop the snapshot.
        let mut e = engine.borrow_mut();
        e.cancel_sync_snapshot();
    }
    // The pipe's end does not say whether the snapshot succeeded: its
    // child's exit status (or the writer's end) does.
    let outcome = loop {
        let got = engine.borrow().repl.sync.as_ref().map(|r| r.outcome);
        match got {
            Some(Some(o)) => break o,
            Some(None) => tokio::time::sleep(Duration::from_millis(5)).await,
            None => break false,
        }
    };
    ok &= outcome;
    if ok {
        push_all(&engine, &mut ids, &mut progress, mark.as_bytes()).await;
    }
    let mut e = engine.borrow_mut();
    let run = e.repl.sync.take();
    let all = run.map(|r| r.replicas).unwrap_or_default();
    if ok {
        for id in &ids {
            e.sync_payload_sent(*id, true);
        }
        tracing::info!("Diskless sync: snapshot sent to {} replicas", ids.len());
    }
    let failed: Vec<u64> = all
        .into_iter()
        .filter(|id| !ok || !ids.contains(id))
        .collect();
    e.drop_sync_replicas(&failed, "the diskless transfer failed");
    e.repl_kick.notify_one();
}

/// Sends the dump file to one replica: `$<len>` and the bytes.
async fn send_file(engine: Rc<RefCell<Engine>>, id: u64, path: std::path::PathBuf) {
    let fail = |engine: &Rc<RefCell<Engine>>, why: String| {
        engine.borrow_mut().drop_sync_replicas(&[id], &why);
    };
    let mut file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(e) => {
            return fail(
                &engine,
                format!("can't open the dump {}: {e}", path.display()),
            )
        }
    };
    let len = match file.metadata().await {
        Ok(m) => m.len(),
        Err(e) => return fail(&engine, format!("can't stat the dump: {e}")),
    };
    if let Some(link) = engine.borrow_mut().repl.links.get_mut(&id) {
        link.state = SyncState::SendBulk;
    }
    let mut ids = vec![id];
    let mut progress = Default::default();
    let header = format!("${len}\r\n");
    push_all(&engine, &mut ids, &mut progress, header.as_bytes()).await;
    let mut buf = vec![0u8; CHUNK];
    let mut left = len;
    while left > 0 && !ids.is_empty() {
        let want = (left as usize).min(CHUNK);
        match file.read(&mut buf[..want]).await {
            Ok(0) => return fail(&engine, "the dump is shorter than its size".into()),
            Ok(n) => {
                left -= n as u64;
                push_all(&engine, &mut ids, &mut progress, &buf[..n]).await;
            }
            Err(e) => return fail(&engine, format!("reading the dump: {e}")),
        }
    }
    if !ids.is_empty() {
        engine.borrow_mut().sync_payload_sent(id, false);
    }
}
