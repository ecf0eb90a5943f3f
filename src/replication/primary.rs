//! The primary's side: the stream fed to replicas and the backlog, PSYNC's
//! choice between a partial and a full resynchronization, acknowledgements
//! and WAIT, `min-replicas-to-write`, the backlog's time to live.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::backlog::Backlog;
use crate::server::client::{Client, ClientKind, ReplyMode};
use crate::server::propagate::{argv, encode_command};
use crate::server::Engine;

/// Where a replica's synchronization stands (INFO's `state=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncState {
    /// Waiting for a snapshot to start (another one runs, or
    /// `repl-diskless-sync-delay`).
    WaitBgsave,
    /// The snapshot is being produced and sent.
    SendBulk,
    /// Streaming.
    Online,
}

impl SyncState {
    pub fn name(self) -> &'static str {
        match self {
            SyncState::WaitBgsave => "wait_bgsave",
            SyncState::SendBulk => "send_bulk",
            SyncState::Online => "online",
        }
    }
}

/// What the primary knows of one replica's link.
#[derive(Clone, Copy, Debug)]
pub struct Link {
    pub state: SyncState,
    /// REPLCONF capa eof: it reads a diskless `$EOF:<mark>` payload.
    pub capa_eof: bool,
    /// REPLCONF capa psync2: `+CONTINUE` carries the replication ID.
    pub capa_psync2: bool,
    /// SYNC (no `+FULLRESYNC` line) rather than PSYNC.
    pub old_sync: bool,
    /// A diskless snapshot was sent: the stream starts at its first ACK.
    pub wait_ack: bool,
}

impl Default for Link {
    fn default() -> Link {
        Link {
            state: SyncState::Online,
            capa_eof: false,
            capa_psync2: false,
            old_sync: false,
            wait_ack: false,
        }
    }
}

impl Engine {
    /// Feeds stream bytes to the backlog and every attached replica.
    pub(crate) fn feed_replicas(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.repl.offset += bytes.len() as u64;
        if let Some(b) = &mut self.repl.backlog {
            b.feed(bytes);
        }
        if !self.repl.spools.is_empty() {
            self.spool_feed(bytes);
        }
        let Engine {
            repl,
            clients,
            config,
            stats,
            ..
        } = self;
        for &id in &repl.replicas {
            if let Some(r) = clients.get_mut(&id) {
                r.out.extend_from_slice(bytes);
                crate::server::pubsub::enforce_limit(config, stats, r);
                r.wake.notify_one();
            }
        }
    }

    /// Forgets a disconnected client's stream.
    pub fn detach_replica(&mut self, c: &Client) {
        let was = self.repl.replicas.len();
        self.repl.replicas.retain(|&id| id != c.id);
        if was > 0 && self.repl.replicas.is_empty() {
            self.repl.no_replicas_since = Some(Instant::now());
        }
        self.repl.links.remove(&c.id);
        self.repl.drain_ready.retain(|&id| id != c.id);
        self.spool_leave(c.id);
        self.repl.acks.remove(&c.id);
        self.repl.replica_ports.remove(&c.id);
        self.repl.replica_ips.remove(&c.id);
        self.repl.ack_times.remove(&c.id);
        self.repl.waiting.retain(|&(id, _, _)| id != c.id);
        self.repl.sync_waiting.retain(|&id| id != c.id);
        if self.repl.sync_waiting.is_empty() {
            self.repl.sync_wait_since = None;
        }
        if c.kind == ClientKind::Replica {
            tracing::info!("Connection with replica {} lost.", c.addr);
        }
    }

    /// The backlog, created on the first replica's full sync. A new
    /// backlog has no history, so the replication ID changes and the old
    /// one is forgotten (Redis's syncCommand).
    pub(crate) fn ensure_backlog(&mut self) {
        if self.repl.backlog.is_some() {
            return;
        }
        if !self.is_replica() {
            self.repl.replid = crate::server::random_hex(40);
            self.clear_replid2();
        }
        self.repl.backlog = Some(Backlog::new(
            self.config.repl_backlog_size.max(1) as usize,
            self.repl.offset,
        ));
        tracing::info!(
            "Replication backlog created, my new replication IDs are '{}' and '{}'",
            self.repl.replid,
            self.replid2
        );
    }

    pub(crate) fn clear_replid2(&mut self) {
        self.replid2 = "0".repeat(40);
        self.repl.second_offset = -1;
    }

    /// The current ID becomes the secondary, valid up to this offset, and a
    /// new one is drawn (a promotion: REPLICAOF NO ONE, FAILOVER).
    pub(crate) fn shift_replid(&mut self) {
        self.replid2 = std::mem::replace(&mut self.repl.replid, crate::server::random_hex(40));
        self.repl.second_offset = self.repl.offset as i64 + 1;
        tracing::info!(
            "Setting secondary replication ID to {}, valid up to offset: {}. New replication ID is {}",
            self.replid2,
            self.repl.second_offset,
            self.repl.replid
        );
    }

    /// PSYNC replid offset: `+CONTINUE` and the missed bytes when the
    /// backlog holds them for this history (Redis's
    /// masterTryPartialResynchronization); false means a full sync.
    pub(crate) fn try_partial_resync(&mut self, c: &mut Client, replid: &[u8], from: u64) -> bool {
        let replid = String::from_utf8_lossy(replid);
        let ours = replid == self.repl.replid;
        let previous = replid == self.replid2 && (from as i64) <= self.repl.second_offset;
        if !ours && !previous {
            if replid != "?" {
                if replid == self.replid2 {
                    tracing::info!(
                        "Partial resynchronization not accepted: Requested offset for second ID was {from}, but I can reply up to {}",
                        self.repl.second_offset
                    );
                } else {
                    tracing::info!(
                        "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{replid}', my replication IDs are '{}' and '{}')",
                        self.repl.replid,
                        self.replid2
                    );
                }
            } else {
                tracing::info!("Full resync requested by replica {}", c.addr);
            }
            return false;
        }
        let Some(backlog) = &self.repl.backlog else {
            tracing::info!(
                "Unable to partial resync with replica {} for lack of backlog (Replica request was: {from}).",
                c.addr
            );
            return false;
        };
        let Some((a, b)) = backlog.since(from) else {
            tracing::info!(
                "Unable to partial resync with replica {} for lack of backlog (Replica request was: {from}).",
                c.addr
            );
            if from > self.repl.offset {
                tracing::warn!(
                    "Warning: replica {} tried to PSYNC with an offset that is greater than the master replication offset.",
                    c.addr
                );
            }
            return false;
        };
        let link = self.repl.links.entry(c.id).or_default();
        link.state = SyncState::Online;
        let line = if link.capa_psync2 {
            format!("+CONTINUE {}\r\n", self.repl.replid)
        } else {
            "+CONTINUE\r\n".to_string()
        };
        let sent = a.len() + b.len();
        c.out.extend_from_slice(line.as_bytes());
        c.out.extend_from_slice(a);
        c.out.extend_from_slice(b);
        c.kind = ClientKind::Replica;
        c.reply_mode = ReplyMode::ReplicaStarting;
        if !self.repl.replicas.contains(&c.id) {
            self.repl.replicas.push(c.id);
        }
        self.repl.no_replicas_since = None;
        self.repl.ack_times.insert(c.id, Instant::now());
        self.repl.sync_partial_ok += 1;
        tracing::info!(
            "Partial resynchronization request from {} accepted. Sending {sent} bytes of backlog starting from offset {from}.",
            c.addr
        );
        true
    }

    /// Once a second: a primary that has had no replica for
    /// `repl-backlog-ttl` seconds frees its backlog (and changes its ID,
    /// as the history it could continue is gone).
    pub(crate) fn backlog_cron(&mut self) {
        let ttl = self.config.repl_backlog_ttl;
        if self.is_replica() || ttl <= 0 || !self.repl.replicas.is_empty() {
            return;
        }
        let Some(since) = self.repl.no_replicas_since else {
            return;
        };
        if self.repl.backlog.is_none() || since.elapsed() < Duration::from_secs(ttl as u64) {
            return;
        }
        self.repl.replid = crate::server::random_hex(40);
        self.clear_replid2();
        self.repl.backlog = None;
        tracing::info!("Replication backlog freed after {ttl} seconds without connected replicas.");
    }

    /// Once a second: every `repl-ping-replica-period` seconds a primary
    /// with replicas puts a PING in the stream (without a SELECT), so that
    /// replicas see it alive and offsets move (Redis's replicationCron).
    pub(crate) fn ping_replicas(&mut self) {
        let period = self.config.repl_ping_replica_period.max(1) as u64;
        self.repl.cron_loops += 1;
        if self.is_replica() || self.repl.replicas.is_empty() || self.paused() {
            return;
        }
        if self.repl.cron_loops.is_multiple_of(period) {
            let mut buf = Vec::new();
            encode_command(&argv(&[b"PING"]), &mut buf);
            self.feed_replicas(&buf);
        }
    }

    /// `min-replicas-to-write`: enough replicas acknowledged within
    /// `min-replicas-max-lag` seconds (always true when it is 0).
    pub fn enough_good_replicas(&self) -> bool {
        let need = self.config.min_replicas_to_write as usize;
        if need == 0 || self.is_replica() {
            return true;
        }
        self.good_replicas() >= need
    }

    /// Online replicas that acknowledged within `min-replicas-max-lag`.
    pub fn good_replicas(&self) -> usize {
        let lag = Duration::from_secs(self.config.min_replicas_max_lag as u64);
        self.repl
            .replicas
            .iter()
            .filter(|id| {
                self.replica_state(**id) == SyncState::Online
                    && self
                        .repl
                        .ack_times
                        .get(id)
                        .is_some_and(|t| t.elapsed() <= lag)
            })
            .count()
    }

    /// A replica's sync state (online for a client without a record).
    pub fn replica_state(&self, id: u64) -> SyncState {
        self.repl
            .links
            .get(&id)
            .map_or(SyncState::Online, |l| l.state)
    }

    /// A replica whose link to its primary is not streaming.
    pub fn replica_link_down(&self) -> bool {
        self.repl
            .primary
            .as_ref()
            .is_some_and(|p| p.state != super::replica::LinkState::Connected)
    }

    /// Replicas whose acknowledged offset reached `offset`.
    pub fn count_acks(&self, offset: u64) -> usize {
        self.repl.acks.values().filter(|&&a| a >= offset).count()
    }

    /// Asks every replica for its offset (REPLCONF GETACK *), in the
    /// stream without a SELECT.
    pub fn request_acks(&mut self) {
        let mut buf = Vec::new();
        encode_command(&argv(&[b"REPLCONF", b"GETACK", b"*"]), &mut buf);
        self.feed_replicas(&buf);
    }

    /// A replica acknowledged `offset`: WAITs it satisfies return.
    pub fn replica_acked(&mut self, id: u64, offset: u64) {
        self.repl.ack_times.insert(id, Instant::now());
        let a = self.repl.acks.entry(id).or_insert(0);
        *a = (*a).max(offset);
        let waiting = std::mem::take(&mut self.repl.waiting);
        for (cid, target, want) in waiting {
            let n = self.count_acks(target);
            if (n as u64) < want {
                self.repl.waiting.push((cid, target, want));
                continue;
            }
            if let Some(mut w) = self.clients.remove(&cid) {
                if self.unblock(&mut w).is_some() {
                    w.reply().int(n as i64);
                }
                w.wake.notify_one();
                self.clients.insert(cid, w);
            }
        }
    }

    /// The replication aux fields of a dump (Redis's rdbPopulateSaveInfo):
    /// a primary with a backlog, or a replica, records its ID, offset and
    /// the stream's database so that a restart can continue with PSYNC.
    pub(crate) fn repl_aux(&self) -> Vec<(String, Vec<u8>)> {
        let stream_db = match &self.repl.primary {
            Some(p) => match p.client.and_then(|id| self.clients.get(&id)) {
                Some(pc) => pc.db,
                None => p.stream_db,
            },
            None if self.repl.backlog.is_some() => self.repl.seldb.unwrap_or(0),
            None => return Vec::new(),
        };
        vec![
            ("repl-stream-db".into(), stream_db.to_string().into_bytes()),
            ("repl-id".into(), self.repl.replid.as_bytes().to_vec()),
            (
                "repl-offset".into(),
                self.repl.offset.to_string().into_bytes(),
            ),
        ]
    }

    /// After a dump with replication aux fields loaded at startup (Redis's
    /// loadDataFromDisk): a replica takes the ID and offset as its own, to
    /// PSYNC with them; a primary keeps them as its secondary ID, so that
    /// its old replicas continue.
    pub(crate) fn restore_repl_info(&mut self, aux: &[(Vec<u8>, Vec<u8>)]) -> bool {
        let field = |name: &[u8]| {
            aux.iter()
                .find(|(k, _)| k.as_slice() == name)
                .and_then(|(_, v)| std::str::from_utf8(v).ok())
        };
        let (Some(id), Some(offset), Some(db)) = (
            field(b"repl-id"),
            field(b"repl-offset").and_then(|o| o.parse::<u64>().ok()),
            field(b"repl-stream-db").and_then(|d| d.parse::<i64>().ok()),
        ) else {
            return false;
        };
        if id.len() != 40 || db < 0 {
            return false;
        }
        if let Some(p) = &mut self.repl.primary {
            p.stream_db = (db as usize).min(self.ks.dbs.len().saturating_sub(1));
            self.repl.replid = id.to_string();
            self.repl.offset = offset;
            self.repl.psync_ok = true;
        } else {
            self.replid2 = id.to_string();
            self.repl.second_offset = offset as i64 + 1;
            self.repl.offset = offset;
            self.repl.backlog = Some(Backlog::new(
                self.config.repl_backlog_size.max(1) as usize,
                offset,
            ));
            self.repl.no_replicas_since = Some(Instant::now());
        }
        true
    }
}

/// `REPLCONF capa` values a replica announced.
pub(crate) fn note_capa(link: &mut Link, value: &Bytes) {
    if value.eq_ignore_ascii_case(b"eof") {
        link.capa_eof = true;
    } else if value.eq_ignore_ascii_case(b"psync2") {
        link.capa_psync2 = true;
    }
}
