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
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::client::{Client, ClientKind, ReplyMode};
use super::propagate::encode_command;
use super::Engine;
use crate::dispatch::CommandSpec;
use crate::keyspace::Keyspace;
use crate::persistence::rdb::{self, Encodings, LoadOptions};

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
}

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
        }
        // A replica's own replicas get the primary's stream as it came
        // (SELECTs, PINGs and GETACKs included), not commands of its own:
        // the stream and its offsets stay identical down the chain.
        self.feed_replicas(&len);
    }

    /// REPLICAOF host port: starts (or restarts) replicating.
    pub fn start_replication(&mut self, host: String, port: u16) {
        let generation = self.repl.primary.as_ref().map_or(0, |p| p.generation) + 1;
        self.drop_primary_client();
        self.unblock_all_for_role_change();
        let now = Instant::now();
        self.repl.primary = Some(Primary {
            host: host.clone(),
            port,
            state: LinkState::Connect,
            generation,
            client: None,
            offset: 0,
            last_io: now,
            down_since: now,
            last_ack: now,
        });
        tracing::info!("Connecting to MASTER {host}:{port}");
        self.repl.spawn_link = Some(generation);
    }

    /// REPLICAOF NO ONE: back to being a primary, data kept, with a new
    /// replication ID (the old one stays valid as the secondary).
    pub fn stop_replication(&mut self) {
        if self.repl.primary.is_none() {
            return;
        }
        self.drop_primary_client();
        self.repl.primary = None;
        self.repl.local_expires.clear();
        self.replid2 = std::mem::replace(&mut self.repl.replid, super::random_hex(40));
        tracing::info!("MASTER MODE enabled (user request from 'id=...')");
    }

    /// Closes the links of this server's own replicas: after a full sync
    /// from a new primary their data and offsets no longer follow ours
    /// (Redis's disconnectSlaves); they reconnect and sync again.
    fn disconnect_replicas(&mut self) {
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

    /// Once a second: tells the primary how far the stream was applied.
    pub fn replica_cron(&mut self) {
        self.start_delayed_syncs();
        self.expire_local_keys();
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
        match sync_once(&engine, generation, &host, port).await {
            Ok(Some((sock, buf, id))) => {
                super::conn::serve_client(engine.clone(), sock, id, buf).await;
                engine.borrow_mut().primary_gone(id);
            }
            Ok(None) => return,
            Err(err) => {
                tracing::warn!("MASTER <-> REPLICA sync failed: {err}");
                set_link_state(&engine, generation, LinkState::Connect);
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// One connection attempt: handshake, snapshot, install. Ok(None) when the
/// link is no longer wanted.
async fn sync_once(
    engine: &Rc<RefCell<Engine>>,
    generation: u64,
    host: &str,
    port: u16,
) -> SyncResult<Option<(TcpStream, BytesMut, u64)>> {
    let (auth, user, my_port, timeout) = {
        let e = engine.borrow();
        (
            e.config.masterauth.clone(),
            e.config.masteruser.clone(),
            e.bound.first().map_or(e.config.port, |a| a.port()),
            Duration::from_secs(e.config.repl_timeout.max(1) as u64),
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
    let capa = [&b"REPLCONF"[..], b"capa", b"psync2"];
    let _ = handshake(timeout, command(&mut sock, &mut buf, &capa)).await?;
    let psync = [&b"PSYNC"[..], b"?", b"-1"];
    let reply = handshake(timeout, command(&mut sock, &mut buf, &psync)).await?;
    let Some(rest) = reply.strip_prefix("+FULLRESYNC ") else {
        return Err(format!("Unexpected reply to PSYNC from master: {reply}"));
    };
    let mut it = rest.split(' ');
    let replid = it.next().unwrap_or_default().to_string();
    let offset: u64 = it.next().and_then(|o| o.parse().ok()).unwrap_or(0);
    tracing::info!("Full resync from master: {replid}:{offset}");
    set_link_state(engine, generation, LinkState::Syncing);
    // Newlines keep the link alive while the primary prepares the snapshot;
    // silence for repl-timeout ends it.
    let header = loop {
        let line = tokio::time::timeout(timeout, read_line(&mut sock, &mut buf))
            .await
            .map_err(|_| "Timeout receiving bulk data from MASTER...".to_string())??;
        if !line.is_empty() {
            break line;
        }
    };
    let len: u64 = header
        .strip_prefix('$')
        .and_then(|l| l.parse().ok())
        .filter(|&l| l <= MAX_PAYLOAD)
        .ok_or_else(|| format!("Bad protocol from MASTER, the first byte is not '$': {header}"))?;
    let len = len as usize;
    let mut payload = Vec::with_capacity(len.min(64 << 20));
    while payload.len() < len {
        if buf.is_empty() {
            let n = sock.read_buf(&mut buf).await.map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("I/O error trying to sync with MASTER: connection lost".into());
            }
        }
        let take = (len - payload.len()).min(buf.len());
        payload.extend_from_slice(&buf.split_to(take));
    }
    tracing::info!("MASTER <-> REPLICA sync: receiving {len} bytes from master to disk");
    let mut e = engine.borrow_mut();
    if e.repl
        .primary
        .as_ref()
        .is_none_or(|p| p.generation != generation)
    {
        return Ok(None);
    }
    let opts = LoadOptions {
        enc: Encodings::from_config(&e.config),
        deep_sanitize: false,
        databases: e.ks.dbs.len(),
        drop_expired_before: None,
    };
    let loaded = rdb::load(&payload, &opts, &mut |_| {}).map_err(|err| {
        format!("Failed trying to load the MASTER synchronization DB from disk: {err}")
    })?;
    // The database the stream is in at the snapshot's offset: commands
    // that follow without a SELECT apply there.
    let stream_db = loaded
        .aux
        .iter()
        .find(|(k, _)| k.as_slice() == b"repl-stream-db")
        .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse::<usize>().ok())
        .filter(|&db| db < e.ks.dbs.len())
        .unwrap_or(0);
    e.disconnect_replicas();
    tracing::info!("MASTER <-> REPLICA sync: Flushing old data");
    let old = e.swap_keyspace(loaded.keyspace);
    install_keyspace_done(&mut e, old);
    tracing::info!("MASTER <-> REPLICA sync: Loading DB in memory");
    e.repl.replid = replid;
    e.repl.offset = offset;
    let id = e.next_id();
    let peer = format!("{host}:{port}");
    let mut c = Client::new(id, peer, String::new(), -1, true);
    c.kind = ClientKind::Primary;
    c.reply_mode = ReplyMode::Off;
    c.db = stream_db;
    e.clients.insert(id, Box::new(c));
    if let Some(p) = &mut e.repl.primary {
        p.client = Some(id);
        p.state = LinkState::Connected;
        p.offset = offset;
        p.last_io = Instant::now();
    }
    tracing::info!("MASTER <-> REPLICA sync: Finished with success");
    Ok(Some((sock, buf, id)))
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
