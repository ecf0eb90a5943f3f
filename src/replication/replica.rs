//! The replica's side of replication: REPLICAOF, the link to the primary
//! (handshake, full synchronization, the command stream), acknowledgements.
//!
//! The link is a task on the engine's runtime. It connects, performs the
//! handshake Redis 7.0's replicas do (PING, AUTH, REPLCONF, PSYNC), receives
//! the snapshot (`$<len>` then the RDB bytes), loads it, and then hands the
//! socket to the ordinary connection loop as the *primary client*, whose
//! commands are applied without replies. When the link breaks it reconnects
//! every second until REPLICAOF NO ONE or another REPLICAOF.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::dispatch::CommandSpec;
use crate::keyspace::Keyspace;
use crate::persistence::rdb::{self, Encodings, LoadOptions};
use crate::server::client::{Client, ClientKind, ReplyMode};
use crate::server::propagate::encode_command;
use crate::server::Engine;

/// Where the link to the primary stands (INFO's master_link_status and
/// master_sync_in_progress).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Waiting to (re)connect.
    Connect,
    /// TCP connection under way.
    Connecting,
    /// PING, AUTH, REPLCONF and PSYNC exchanged with the primary.
    Handshake,
    /// Snapshot transfer under way.
    Syncing,
    /// Streaming commands.
    Connected,
}

impl LinkState {
    /// The state as ROLE names it (Redis's repl_state names).
    pub fn role_name(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Syncing => "sync",
            LinkState::Connected => "connected",
        }
    }
}

/// Moves the link of `generation` to `state`, unless a newer REPLICAOF
/// replaced it.
fn set_link_state(engine: &Rc<RefCell<Engine>>, generation: u64, state: LinkState) {
    if let Some(p) = &mut engine.borrow_mut().repl.primary {
        if p.generation == generation {
            p.state = state;
        }
    }
}

/// This server's primary, while it is a replica.
pub struct Primary {
    pub host: String,
    pub port: u16,
    pub state: LinkState,
    /// Bumped by every REPLICAOF: an older link task sees it and ends.
    pub generation: u64,
    /// The primary client's id once the stream runs.
    pub client: Option<u64>,
    /// Bytes of the stream applied (`slave_repl_offset`).
    pub offset: u64,
    pub last_io: Instant,
    pub down_since: Instant,
    pub last_ack: Instant,
    /// The database the primary's stream is in (kept across a broken link
    /// for the partial resync that continues it).
    pub stream_db: usize,
    /// The snapshot being received: its size (-1 for the EOF form, 0 when
    /// none is) and the bytes read so far (INFO's master_sync_*).
    pub sync_total: i64,
    pub sync_read: u64,
}

/// Length of the mark that ends a diskless snapshot (`$EOF:<mark>`).
pub const EOF_MARK_LEN: usize = 40;

/// Longest handshake line accepted from a primary.
const MAX_LINE: usize = 64 * 1024;
/// Largest snapshot accepted over the link.
const MAX_PAYLOAD: u64 = 64 << 30;

impl Engine {
    /// True while this server replicates another.
    #[inline]
    pub fn is_replica(&self) -> bool {
        self.repl.primary.is_some()
    }

    /// Applies one command of the primary's stream.
    pub fn execute_from_primary(&mut self, c: &mut Client, args: Vec<Bytes>) {
        let mut len = Vec::new();
        encode_command(&args, &mut len);
        if let Some(p) = &mut self.repl.primary {
            p.last_io = Instant::now();
        }
        self.repl.from_primary = true;
        crate::dispatch::execute(self, c, args);
        self.repl.from_primary = false;
        if let Some(p) = &mut self.repl.primary {
            p.offset += len.len() as u64;
            p.stream_db = c.db;
        }
        // A replica's own replicas get the primary's stream as it came
        // (SELECTs, PINGs and GETACKs included), not commands of its own:
        // the stream and its offsets stay identical down the chain.
        self.feed_replicas(&len);
    }

    /// REPLICAOF host port: starts (or restarts) replicating. Our own
    /// replicas stay: they continue from us with PSYNC once we are in sync
    /// with the new primary (or resync when our history changes).
    pub fn start_replication(&mut self, host: String, port: u16) {
        let was_primary = self.repl.primary.is_none();
        let generation = self.repl.primary.as_ref().map_or(0, |p| p.generation) + 1;
        let stream_db = self.repl.primary.as_ref().map_or(0, |p| p.stream_db);
        self.drop_primary_client();
        self.unblock_all_for_role_change();
        if was_primary {
            tracing::info!("Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.");
        }
        let now = Instant::now();
        self.repl.primary = Some(Primary {
            host: host.clone(),
            port,
            state: LinkState::Connect,
            generation,
            client: None,
            offset: self.repl.offset,
            last_io: now,
            down_since: now,
            last_ack: now,
            stream_db: if was_primary {
                self.repl.seldb.unwrap_or(0)
            } else {
                stream_db
            },
            sync_total: 0,
            sync_read: 0,
        });
        self.config.replicaof = Some((host.clone(), port));
        tracing::info!("Connecting to MASTER {host}:{port}");
        self.repl.spawn_link = Some(generation);
    }

    /// REPLICAOF NO ONE: back to being a primary, data kept, with a new
    /// replication ID (the old one stays valid as the secondary, so our
    /// replicas continue with a partial resync).
    pub fn stop_replication(&mut self) {
        if self.repl.primary.is_none() {
            return;
        }
        self.drop_primary_client();
        self.repl.primary = None;
        self.config.replicaof = None;
        self.repl.local_expires.clear();
        self.shift_replid();
        self.disconnect_replicas();
        // The next command of the new history SELECTs.
        self.repl.seldb = None;
        self.repl.no_replicas_since = Some(Instant::now());
        self.repl.psync_ok = true;
        tracing::info!("MASTER MODE enabled (user request from 'id=...')");
    }

    /// Closes the links of this server's own replicas: after a full sync
    /// from a new primary their data and offsets no longer follow ours
    /// (Redis's disconnectSlaves); they reconnect and sync again.
    pub(crate) fn disconnect_replicas(&mut self) {
        for id in std::mem::take(&mut self.repl.replicas) {
            if let Some(c) = self.clients.get_mut(&id) {
                c.close_asap = true;
                c.wake.notify_one();
            }
        }
    }

    /// Clients blocked on keys (or in WAIT) of what was a primary get an
    /// error and are closed after it, as Redis's disconnectAllBlockedClients:
    /// their keys now change only by the new primary's stream.
    fn unblock_all_for_role_change(&mut self) {
        let ids: Vec<u64> = self
            .clients
            .iter()
            .filter(|(_, c)| c.blocked.is_some())
            .map(|(&id, _)| id)
            .collect();
        for id in ids {
            let Some(mut c) = self.clients.remove(&id) else {
                continue;
            };
            self.unblock_with_error(
                &mut c,
                "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)",
            );
            c.close_after_reply = true;
            self.clients.insert(id, c);
        }
    }

    fn drop_primary_client(&mut self) {
        let id = self.repl.primary.as_mut().and_then(|p| p.client.take());
        if let Some(id) = id {
            if let Some(c) = self.clients.get_mut(&id) {
                c.close_asap = true;
                c.wake.notify_one();
            }
        }
    }

    /// A write by one of this (writable) replica's own clients: its keys
    /// that now have a deadline are remembered, as only this server can
    /// expire them (Redis's rememberSlaveKeyWithExpire).
    pub fn note_local_write(&mut self, db: usize, spec: &CommandSpec, args: &[Bytes]) {
        for i in spec.key_positions(args) {
            let Some(key) = args.get(i) else {
                continue;
            };
            if self.ks.dbs[db].expire_of(key).is_some() {
                self.repl.local_expires.insert((db, key.clone()));
            }
        }
    }

    /// Deletes the remembered keys of a writable replica whose deadline
    /// passed (Redis's expireSlaveKeys).
    fn expire_local_keys(&mut self) {
        if self.repl.local_expires.is_empty() {
            return;
        }
        let now = crate::keyspace::now_ms();
        let keys: Vec<(usize, Bytes)> = self.repl.local_expires.iter().cloned().collect();
        for (db, key) in keys {
            match self.ks.dbs[db].expire_of(&key) {
                Some(at) if at <= now => {
                    if let Some(old) = self.ks.dbs[db].remove(&key) {
                        self.stats.expired_keys += 1;
                        self.free_later(old, 1);
                    }
                    self.repl.local_expires.remove(&(db, key));
                }
                Some(_) => {}
                None => {
                    self.repl.local_expires.remove(&(db, key));
                }
            }
        }
    }

    /// Once a second: tells the primary how far the stream was applied;
    /// the primary's side: keepalives for syncs, the backlog's TTL.
    pub fn replica_cron(&mut self) {
        self.expire_local_keys();
        if self.repl.cron_at.elapsed() >= Duration::from_secs(1) {
            self.repl.cron_at = Instant::now();
            self.sync_keepalive();
            self.backlog_cron();
            self.ping_replicas();
            self.drop_timed_out_links();
        }
        let Some(p) = &mut self.repl.primary else {
            return;
        };
        if p.state != LinkState::Connected || p.last_ack.elapsed() < Duration::from_secs(1) {
            return;
        }
        p.last_ack = Instant::now();
        let (id, offset) = (p.client, p.offset);
        if let Some(c) = id.and_then(|id| self.clients.get_mut(&id)) {
            c.out.extend_from_slice(&ack_frame(offset));
            c.wake.notify_one();
        }
    }

    /// `repl-timeout` on both sides (Redis's replicationCron): a primary
    /// silent that long (it PINGs every `repl-ping-replica-period`) is
    /// dropped and reconnected; an online replica that has not
    /// acknowledged that long is disconnected (SYNC replicas never ack).
    fn drop_timed_out_links(&mut self) {
        let timeout = Duration::from_secs(self.config.repl_timeout.max(1) as u64);
        if let Some(p) = &self.repl.primary {
            if p.state == LinkState::Connected && p.last_io.elapsed() > timeout {
                tracing::warn!("MASTER timeout: no data nor PING received...");
                self.drop_primary_client();
            }
        }
        let stale: Vec<u64> = self
            .repl
            .replicas
            .iter()
            .copied()
            .filter(|id| {
                self.repl.links.get(id).is_some_and(|l| {
                    l.state == super::primary::SyncState::Online && !l.old_sync && !l.wait_ack
                }) && self
                    .repl
                    .ack_times
                    .get(id)
                    .is_some_and(|t| t.elapsed() > timeout)
            })
            .collect();
        for id in stale {
            if let Some(c) = self.clients.get_mut(&id) {
                tracing::warn!(
                    "Disconnecting timedout replica (streaming sync): {}",
                    c.addr
                );
                c.close_asap = true;
                c.wake.notify_one();
            }
        }
    }

    /// The primary client went away: the link is down.
    pub fn primary_gone(&mut self, id: u64) {
        if let Some(p) = &mut self.repl.primary {
            if p.client == Some(id) {
                p.client = None;
                p.state = LinkState::Connect;
                p.down_since = Instant::now();
                tracing::info!("Connection with master lost.");
            }
        }
    }
}

/// Why a synchronization attempt failed.
type SyncResult<T> = Result<T, String>;

async fn read_line(sock: &mut TcpStream, buf: &mut BytesMut) -> SyncResult<String> {
    loop {
        // A bare newline is a primary's keepalive while it prepares the
        // sync: an empty line.
        if buf.first() == Some(&b'\n') {
            let _ = buf.split_to(1);
            return Ok(String::new());
        }
        if let Some(pos) = buf.windows(2).position(|w| w == b"\r\n") {
            let line = buf.split_to(pos + 2);
            return Ok(String::from_utf8_lossy(&line[..pos]).into_owned());
        }
        if buf.len() > MAX_LINE {
            return Err("line from MASTER too long".into());
        }
        let n = sock.read_buf(buf).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed by MASTER".into());
        }
    }
}

/// One handshake exchange, bounded by `limit` (repl-timeout).
async fn handshake<F>(limit: Duration, reply: F) -> SyncResult<String>
where
    F: std::future::Future<Output = SyncResult<String>>,
{
    tokio::time::timeout(limit, reply)
        .await
        .map_err(|_| "Timeout connecting to the MASTER...".to_string())?
}

async fn command(sock: &mut TcpStream, buf: &mut BytesMut, parts: &[&[u8]]) -> SyncResult<String> {
    let mut out = Vec::new();
    let argv: Vec<Bytes> = parts.iter().map(|p| Bytes::copy_from_slice(p)).collect();
    encode_command(&argv, &mut out);
    sock.write_all(&out).await.map_err(|e| e.to_string())?;
    read_line(sock, buf).await
}

/// `REPLCONF ACK <offset>` as a replica sends it to its primary: once a
/// second, and in answer to REPLCONF GETACK.
pub fn ack_frame(offset: u64) -> Vec<u8> {
    let mut out = Vec::new();
    encode_command(
        &[
            Bytes::from_static(b"REPLCONF"),
            Bytes::from_static(b"ACK"),
            Bytes::from(offset.to_string()),
        ],
        &mut out,
    );
    out
}

/// Is `generation` still the wanted link? Returns the primary's address.
fn wanted(engine: &Rc<RefCell<Engine>>, generation: u64) -> Option<(String, u16)> {
    let e = engine.borrow();
    e.repl
        .primary
        .as_ref()
        .filter(|p| p.generation == generation)
        .map(|p| (p.host.clone(), p.port))
}

pub async fn link_task(engine: Rc<RefCell<Engine>>, generation: u64) {
    loop {
        let Some((host, port)) = wanted(&engine, generation) else {
            return;
        };
        // The startup load comes first: its replication ID and offset are
        // what PSYNC offers.
        if engine.borrow().loading {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        match sync_once(&engine, generation, &host, port).await {
            Ok(Some((sock, buf, id))) => {
                crate::server::conn::serve_client(engine.clone(), sock, id, buf).await;
                engine.borrow_mut().primary_gone(id);
            }
            Ok(None) => return,
            Err(err) => {
                tracing::warn!("MASTER <-> REPLICA sync failed: {err}");
                set_link_state(&engine, generation, LinkState::Connect);
                let mut e = engine.borrow_mut();
                if e.failover_in_progress() {
                    e.failover_abort("Failover target unreachable");
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// What the primary answered to PSYNC.
enum PsyncReply {
    Full { replid: String, offset: u64 },
    Continue { replid: Option<String> },
}

/// One connection attempt: handshake, then a partial resync or a snapshot
/// received and installed. Ok(None) when the link is no longer wanted.
async fn sync_once(
    engine: &Rc<RefCell<Engine>>,
    generation: u64,
    host: &str,
    port: u16,
) -> SyncResult<Option<(TcpStream, BytesMut, u64)>> {
    let (auth, user, my_port, timeout, cached) = {
        let e = engine.borrow();
        let port = e.config.replica_announce_port;
        let port = if port > 0 {
            port
        } else {
            e.bound.first().map_or(e.config.port, |a| a.port())
        };
        (
            e.config.masterauth.clone(),
            e.config.masteruser.clone(),
            port,
            Duration::from_secs(e.config.repl_timeout.max(1) as u64),
            e.repl
                .psync_ok
                .then(|| (e.repl.replid.clone(), e.repl.offset)),
        )
    };
    set_link_state(engine, generation, LinkState::Connecting);
    let mut sock = tokio::time::timeout(timeout, TcpStream::connect((host, port)))
        .await
        .map_err(|_| "timeout connecting to the MASTER".to_string())?
        .map_err(|e| format!("Error condition on socket for SYNC: {e}"))?;
    let _ = sock.set_nodelay(true);
    tracing::info!("MASTER <-> REPLICA sync started");
    set_link_state(engine, generation, LinkState::Handshake);
    let mut buf = BytesMut::with_capacity(16 * 1024);
    // Every reply of the handshake must come within repl-timeout (Redis's
    // replicationCron drops a handshake that takes longer).
    let pong = handshake(timeout, command(&mut sock, &mut buf, &[b"PING"])).await?;
    if pong.starts_with('-') && !pong.starts_with("-NOAUTH") && !pong.starts_with("-NOPERM") {
        return Err(format!("Error reply to PING from master: '{pong}'"));
    }
    if let Some(pass) = &auth {
        let reply = match &user {
            Some(u) => {
                let auth = [&b"AUTH"[..], u.as_bytes(), pass];
                handshake(timeout, command(&mut sock, &mut buf, &auth)).await?
            }
            None => handshake(timeout, command(&mut sock, &mut buf, &[b"AUTH", pass])).await?,
        };
        if reply.starts_with('-') {
            return Err(format!("Unable to AUTH to MASTER: {reply}"));
        }
    }
    let port_s = my_port.to_string();
    let listening = [&b"REPLCONF"[..], b"listening-port", port_s.as_bytes()];
    let _ = handshake(timeout, command(&mut sock, &mut buf, &listening)).await?;
    let announce_ip = engine.borrow().config.replica_announce_ip.clone();
    if let Some(ip) = announce_ip.filter(|ip| !ip.is_empty()) {
        let ipconf = [&b"REPLCONF"[..], b"ip-address", ip.as_bytes()];
        let _ = handshake(timeout, command(&mut sock, &mut buf, &ipconf)).await?;
    }
    let capa = [&b"REPLCONF"[..], b"capa", b"eof", b"capa", b"psync2"];
    let _ = handshake(timeout, command(&mut sock, &mut buf, &capa)).await?;
    let (ask_id, ask_off) = match &cached {
        Some((id, off)) => {
            tracing::info!(
                "Trying a partial resynchronization (request {id}:{}).",
                off + 1
            );
            (id.clone(), (off + 1).to_string())
        }
        None => {
            tracing::info!("Partial resynchronization not possible (no cached master)");
            ("?".to_string(), "-1".to_string())
        }
    };
    let failover = engine.borrow().failover_in_progress();
    let mut psync = vec![&b"PSYNC"[..], ask_id.as_bytes(), ask_off.as_bytes()];
    if failover {
        psync.push(b"FAILOVER");
    }
    let mut reply = handshake(timeout, command(&mut sock, &mut buf, &psync)).await?;
    // A primary that delays the sync (repl-diskless-sync-delay, a save
    // running) sends newlines meanwhile to keep the link alive.
    while reply.is_empty() {
        reply = handshake(timeout, read_line(&mut sock, &mut buf)).await?;
    }
    if failover {
        let mut e = engine.borrow_mut();
        if reply.starts_with('+') {
            e.failover_done();
        } else {
            e.failover_abort("Failover target rejected psync request");
            return Err(format!("PSYNC FAILOVER refused: {reply}"));
        }
    }
    let answer = if let Some(rest) = reply.strip_prefix("+FULLRESYNC ") {
        let mut it = rest.split(' ');
        let replid = it.next().unwrap_or_default().to_string();
        let offset: u64 = it.next().and_then(|o| o.parse().ok()).unwrap_or(0);
        tracing::info!("Full resync from master: {replid}:{offset}");
        PsyncReply::Full { replid, offset }
    } else if let Some(rest) = reply.strip_prefix("+CONTINUE") {
        let id = rest.trim();
        PsyncReply::Continue {
            replid: (id.len() == 40).then(|| id.to_string()),
        }
    } else if reply.starts_with("-NOMASTERLINK") || reply.starts_with("-LOADING") {
        return Err(format!(
            "Master is currently unable to PSYNC but should be in the future: {reply}"
        ));
    } else {
        return Err(format!("Unexpected reply to PSYNC from master: {reply}"));
    };
    match answer {
        PsyncReply::Continue { replid } => {
            let mut e = engine.borrow_mut();
            if e.repl
                .primary
                .as_ref()
                .is_none_or(|p| p.generation != generation)
            {
                return Ok(None);
            }
            tracing::info!("Successful partial resynchronization with master.");
            if let Some(new) = replid.filter(|n| *n != e.repl.replid) {
                // The primary's history goes on under a new ID (it was
                // promoted): ours becomes the secondary, and our own
                // replicas must learn the new one.
                e.replid2 = std::mem::replace(&mut e.repl.replid, new);
                e.repl.second_offset = e.repl.offset as i64 + 1;
                tracing::info!("Master replication ID changed to {}", e.repl.replid);
                e.disconnect_replicas();
            }
            tracing::info!("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
            e.ensure_backlog();
            let db = e.repl.primary.as_ref().map_or(0, |p| p.stream_db);
            let offset = e.repl.offset;
            let id = install_primary_client(&mut e, &sock, host, port, db, offset);
            Ok(Some((sock, buf, id)))
        }
        PsyncReply::Full { replid, offset } => {
            set_link_state(engine, generation, LinkState::Syncing);
            let mode = {
                use crate::config::ReplDisklessLoad as L;
                let e = engine.borrow();
                match e.config.repl_diskless_load {
                    L::Swapdb if replid == e.repl.replid => LoadMode::Async,
                    L::Swapdb => LoadMode::Loading,
                    L::OnEmptyDb if e.ks.total_keys() == 0 => LoadMode::Loading,
                    _ => LoadMode::Disk,
                }
            };
            mode.set_flags(&mut engine.borrow_mut(), true);
            let received = receive_snapshot(engine, &mut sock, &mut buf, timeout).await;
            let (path, total) = match received {
                Ok(r) => r,
                Err(err) => {
                    mode.set_flags(&mut engine.borrow_mut(), false);
                    return Err(err);
                }
            };
            let got = load_snapshot(engine, generation, &path, total, mode).await;
            let _ = std::fs::remove_file(&path);
            let Some(loaded) = got? else {
                return Ok(None);
            };
            let mut e = engine.borrow_mut();
            // The database the stream is in at the snapshot's offset:
            // commands that follow without a SELECT apply there.
            let stream_db = loaded
                .aux
                .iter()
                .find(|(k, _)| k.as_slice() == b"repl-stream-db")
                .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse::<usize>().ok())
                .filter(|&db| db < e.ks.dbs.len())
                .unwrap_or(0);
            let mut ks = loaded.keyspace;
            crate::server::persist::fit_databases(&mut ks, e.ks.dbs.len());
            let old = e.swap_keyspace(ks);
            install_keyspace_done(&mut e, old);
            e.repl.replid = replid;
            e.repl.offset = offset;
            e.repl.psync_ok = true;
            e.clear_replid2();
            // A fresh history: nothing before this offset can be served.
            e.repl.backlog = None;
            e.ensure_backlog();
            let id = install_primary_client(&mut e, &sock, host, port, stream_db, offset);
            tracing::info!("MASTER <-> REPLICA sync: Finished with success");
            Ok(Some((sock, buf, id)))
        }
    }
}

/// The primary client: the stream from `offset` on, applied without
/// replies, starting in database `db`. Acknowledges at once, which also
/// tells a primary that sent a diskless snapshot to start the stream.
fn install_primary_client(
    e: &mut Engine,
    sock: &TcpStream,
    host: &str,
    port: u16,
    db: usize,
    offset: u64,
) -> u64 {
    let id = e.next_id();
    let peer = format!("{host}:{port}");
    let fd = std::os::fd::AsRawFd::as_raw_fd(sock) as i64;
    let laddr = sock.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let mut c = Client::new(id, peer, laddr, fd, true);
    c.kind = ClientKind::Primary;
    c.reply_mode = ReplyMode::Off;
    c.db = db;
    c.out.extend_from_slice(&ack_frame(offset));
    e.clients.insert(id, Box::new(c));
    if let Some(p) = &mut e.repl.primary {
        p.client = Some(id);
        p.state = LinkState::Connected;
        p.offset = offset;
        p.stream_db = db;
        p.last_io = Instant::now();
        p.last_ack = Instant::now();
    }
    id
}

/// Receives the snapshot into `temp-<unixtime>.<pid>.rdb` in `dir`, in
/// either form a primary sends it: `$<len>` then the bytes, or (diskless)
/// `$EOF:<40-byte mark>` then the bytes and the mark. Returns the file and
/// its size. Nothing of it is held in memory beyond one read.
async fn receive_snapshot(
    engine: &Rc<RefCell<Engine>>,
    sock: &mut TcpStream,
    buf: &mut BytesMut,
    timeout: Duration,
) -> SyncResult<(std::path::PathBuf, u64)> {
    // Newlines keep the link alive while the primary prepares the snapshot;
    // silence for repl-timeout ends it.
    let header = loop {
        let line = tokio::time::timeout(timeout, read_line(sock, buf))
            .await
            .map_err(|_| "Timeout receiving bulk data from MASTER...".to_string())??;
        if let Some(p) = &mut engine.borrow_mut().repl.primary {
            p.last_io = Instant::now();
        }
        if !line.is_empty() {
            break line;
        }
    };
    let mark: Option<Vec<u8>> = header
        .strip_prefix("$EOF:")
        .filter(|m| m.len() == EOF_MARK_LEN)
        .map(|m| m.as_bytes().to_vec());
    let len: Option<u64> = match &mark {
        Some(_) => None,
        None => Some(
            header
                .strip_prefix('$')
                .and_then(|l| l.parse().ok())
                .filter(|&l| l <= MAX_PAYLOAD)
                .ok_or_else(|| {
                    format!("Bad protocol from MASTER, the first byte is not '$': {header}")
                })?,
        ),
    };
    let path = {
        let e = engine.borrow();
        e.config.dir.join(format!(
            "temp-{}.{}.rdb",
            crate::keyspace::now_ms() / 1000,
            std::process::id()
        ))
    };
    match len {
        Some(n) => {
            tracing::info!("MASTER <-> REPLICA sync: receiving {n} bytes from master to disk")
        }
        None => tracing::info!(
            "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk"
        ),
    }
    if let Some(p) = &mut engine.borrow_mut().repl.primary {
        p.sync_total = len.map_or(-1, |n| n as i64);
        p.sync_read = 0;
    }
    let result = receive_into(engine, sock, buf, timeout, &path, len, mark.as_deref()).await;
    if let Some(p) = &mut engine.borrow_mut().repl.primary {
        p.sync_total = 0;
    }
    match result {
        Ok(n) => Ok((path, n)),
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            Err(e)
        }
    }
}

async fn receive_into(
    engine: &Rc<RefCell<Engine>>,
    sock: &mut TcpStream,
    buf: &mut BytesMut,
    timeout: Duration,
    path: &std::path::Path,
    len: Option<u64>,
    mark: Option<&[u8]>,
) -> SyncResult<u64> {
    use tokio::io::AsyncWriteExt as _;
    let io = |e: std::io::Error| format!("Failed trying to write the temp DB to disk: {e}");
    let mut file = tokio::fs::File::create(path).await.map_err(io)?;
    let mut written = 0u64;
    // EOF form: the last EOF_MARK_LEN bytes read are held back until more
    // come, since they may be the mark.
    let mut tail: Vec<u8> = Vec::new();
    loop {
        if buf.is_empty() {
            if len.is_some_and(|n| written >= n) {
                break;
            }
            let n = tokio::time::timeout(timeout, sock.read_buf(buf))
                .await
                .map_err(|_| "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.".to_string())?
                .map_err(|e| format!("I/O error trying to sync with MASTER: {e}"))?;
            if n == 0 {
                return Err("I/O error trying to sync with MASTER: connection lost".into());
            }
            let mut e = engine.borrow_mut();
            if let Some(p) = &mut e.repl.primary {
                p.last_io = Instant::now();
                p.sync_read += n as u64;
            }
        }
        match (len, mark) {
            (Some(total), _) => {
                let take = ((total - written) as usize).min(buf.len());
                let chunk = buf.split_to(take);
                file.write_all(&chunk).await.map_err(io)?;
                written += take as u64;
                if written >= total {
                    break;
                }
            }
            (None, Some(mark)) => {
                // Everything read so far in one piece: the mark ends a read
                // (a primary starts the stream only after our first ACK).
                tail.extend_from_slice(&buf.split_to(buf.len()));
                if tail.ends_with(mark) {
                    let data = tail.len() - mark.len();
                    file.write_all(&tail[..data]).await.map_err(io)?;
                    written += data as u64;
                    break;
                }
                if tail.len() > EOF_MARK_LEN {
                    let cut = tail.len() - EOF_MARK_LEN;
                    file.write_all(&tail[..cut]).await.map_err(io)?;
                    written += cut as u64;
                    tail.drain(..cut);
                }
                if written > MAX_PAYLOAD {
                    return Err("the snapshot from MASTER is over its size limit".into());
                }
            }
            (None, None) => unreachable!("a snapshot has a length or a mark"),
        }
    }
    file.flush().await.map_err(io)?;
    file.sync_all().await.map_err(io)?;
    Ok(written)
}

/// How a replica loads a full sync (Redis's `repl-diskless-load`, whose
/// three modes snapcache keeps from the client's point of view; the
/// snapshot itself always goes through a file, never memory).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LoadMode {
    /// `disabled`, or `on-empty-db` with data: received first, then the old
    /// data is flushed and the file loaded while clients get `-LOADING`.
    Disk,
    /// `swapdb` for the same history (our replication ID is the
    /// primary's): the old data is served until the new set replaces it
    /// (`async_loading:1`).
    Async,
    /// `swapdb` for a new history, or `on-empty-db` on an empty server:
    /// `-LOADING` from the start of the transfer; the old data, kept aside,
    /// comes back if the sync fails.
    Loading,
}

impl LoadMode {
    fn set_flags(self, e: &mut Engine, on: bool) {
        match self {
            LoadMode::Disk => {}
            LoadMode::Async => e.async_loading = on,
            LoadMode::Loading => e.loading = on,
        }
    }
}

/// Loads the received file on a thread of its own. With
/// [`LoadMode::Disk`] the old data is flushed first; otherwise it stays
/// until the new set replaces it. Ok(None) when a newer REPLICAOF replaced
/// the link meanwhile.
async fn load_snapshot(
    engine: &Rc<RefCell<Engine>>,
    generation: u64,
    path: &std::path::Path,
    total: u64,
    mode: LoadMode,
) -> SyncResult<Option<rdb::Loaded>> {
    let (map, _) = match crate::persistence::file::open(path) {
        Ok(Some(m)) => m,
        Ok(None) => {
            mode.set_flags(&mut engine.borrow_mut(), false);
            return Err("the received snapshot file is gone".into());
        }
        Err(e) => {
            mode.set_flags(&mut engine.borrow_mut(), false);
            return Err(format!(
                "Failed trying to load the MASTER synchronization DB from disk: {e}"
            ));
        }
    };
    let (opts, progress, cancel) = {
        let mut e = engine.borrow_mut();
        e.disconnect_replicas();
        let mut opts = LoadOptions {
            enc: Encodings::from_config(&e.config),
            deep_sanitize: false,
            databases: e.ks.dbs.len(),
            drop_expired_before: None,
        };
        opts.deep_sanitize =
            e.config.sanitize_dump_payload == crate::config::SanitizeDumpPayload::Yes;
        let progress = Arc::new(AtomicU64::new(0));
        let cancel = Arc::new(AtomicBool::new(false));
        if mode == LoadMode::Disk {
            tracing::info!("MASTER <-> REPLICA sync: Flushing old data");
            let n = e.ks.dbs.len();
            let old = e.swap_keyspace(Keyspace::new(n));
            install_keyspace_done(&mut e, old);
            // The data no longer matches any replication ID.
            e.repl.psync_ok = false;
            e.loading = true;
        }
        if mode != LoadMode::Async {
            e.persist.loading = Some(crate::server::persist::LoadProgress {
                start_time: crate::keyspace::now_ms() / 1000,
                total_bytes: total,
                loaded_bytes: progress.clone(),
                cancel: cancel.clone(),
            });
        }
        tracing::info!("MASTER <-> REPLICA sync: Loading DB in memory");
        (opts, progress, cancel)
    };
    let key_delay = engine.borrow().config.key_load_delay;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("snapcache-replica-load".into())
        .spawn(move || {
            let r = crate::server::persist::load_mapped(&map, &opts, key_delay, &progress, &cancel)
                .map_err(|err| err.to_string());
            let _ = tx.send(r);
        });
    let result = match spawned {
        Ok(_) => rx
            .await
            .unwrap_or_else(|_| Err("the loading thread ended without a result".into())),
        Err(e) => Err(e.to_string()),
    };
    let mut e = engine.borrow_mut();
    e.async_loading = false;
    e.loading = false;
    e.persist.loading = None;
    let wanted = e
        .repl
        .primary
        .as_ref()
        .is_some_and(|p| p.generation == generation);
    match result {
        Ok(loaded) if wanted => {
            if e.config.repl_diskless_load == crate::config::ReplDisklessLoad::Disabled {
                // As Redis does with a disk-based load, the received
                // snapshot becomes this server's dump.
                let dump = e.config.dir.join(&e.config.dbfilename);
                if std::fs::hard_link(path, &dump).is_err() {
                    let _ = std::fs::remove_file(&dump);
                    let _ = std::fs::hard_link(path, &dump);
                }
            }
            Ok(Some(loaded))
        }
        Ok(_) => Ok(None),
        Err(err) => {
            tracing::warn!(
                "Failed trying to load the MASTER synchronization DB from disk, check server logs."
            );
            Err(format!(
                "Failed trying to load the MASTER synchronization DB from disk: {err}"
            ))
        }
    }
}

/// After the keyspace was replaced by a snapshot: the old data is freed
/// off the engine thread and every client's view is invalidated.
fn install_keyspace_done(e: &mut Engine, old: Keyspace) {
    // Every cached key may have changed.
    e.tracking_flushed(None);
    let n = old.total_keys();
    e.dirty += 1;
    e.free_later(old, n);
}

#[cfg(test)]
mod tests {
    use super::ack_frame;

    #[test]
    fn ack_frame_is_a_replconf_ack_command() {
        assert_eq!(
            ack_frame(1234),
            b"*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$4\r\n1234\r\n".to_vec()
        );
    }
}
