//! The primary's side of replication: SYNC, PSYNC and REPLCONF.
//!
//! A full synchronization sends a snapshot of the whole dataset as an RDB
//! payload (`$<len>\r\n<bytes>`), then the stream of propagated writes
//! (src/server/propagate.rs). For now the payload is encoded in memory on the
//! engine thread; the snapshot pipeline (fork / forkless) takes this over
//! with the replication issue, as does partial resynchronization: PSYNC
//! always answers FULLRESYNC.

use bytes::Bytes;

use std::time::Duration;

use super::{arg_i64, is};
use crate::dispatch::{acl, errors, flags as f, CommandSpec, Keys};
use crate::keyspace::Kind;
use crate::persistence::rdb;
use crate::server::blocking::TimeoutReply;
use crate::server::client::{Client, ClientKind, ReplyMode};
use crate::server::replica::ack_frame;
use crate::server::Engine;
use crate::util::num;

/// The RDB image a full sync sends, with the replication aux fields.
fn snapshot_payload(e: &Engine) -> Result<Vec<u8>, String> {
    let mut opts = e.save_options();
    // A replica's stream continues in its primary client's database; a
    // primary SELECTs before the next command (attach_replica).
    let stream_db = e
        .repl
        .primary
        .as_ref()
        .and_then(|p| p.client)
        .and_then(|id| e.clients.get(&id))
        .map_or(0, |pc| pc.db);
    opts.extra_aux = vec![
        ("repl-stream-db".into(), stream_db.to_string().into_bytes()),
        ("repl-id".into(), e.repl.replid.as_bytes().to_vec()),
        ("repl-offset".into(), e.repl.offset.to_string().into_bytes()),
    ];
    rdb::write_keyspace(&e.ks, opts, Vec::new(), &mut |_| {}).map_err(|err| err.to_string())
}

/// Sends the snapshot and turns `c` into a replica. With a diskless sync
/// and `repl-diskless-sync-delay`, the transfer waits for more replicas
/// first, as Redis's does (start_delayed_syncs).
fn full_sync(e: &mut Engine, c: &mut Client, psync: bool) {
    if c.kind == ClientKind::Replica {
        // Redis ignores SYNC from a client that already is a replica.
        return;
    }
    c.kind = ClientKind::Replica;
    if e.config.repl_diskless_sync && e.config.repl_diskless_sync_delay > 0 {
        // Its commands until the transfer (REPLCONF ACK, PING) get no
        // replies; the +FULLRESYNC line comes when the transfer starts.
        c.reply_mode = ReplyMode::ReplicaStarting;
        e.repl.sync_waiting.push((c.id, psync));
        e.repl
            .sync_wait_since
            .get_or_insert_with(std::time::Instant::now);
        tracing::info!(
            "Replica {} asks for synchronization; delaying the transfer {} s for more replicas",
            c.addr,
            e.config.repl_diskless_sync_delay
        );
        return;
    }
    let payload = match snapshot_payload(e) {
        Ok(p) => p,
        Err(err) => {
            tracing::warn!("Can't produce the snapshot for a replica: {err}");
            c.kind = ClientKind::Normal;
            c.reply().error("ERR Unable to perform background save");
            return;
        }
    };
    send_full_sync(e, c, psync, &payload);
}

impl Engine {
    /// Starts the full syncs `repl-diskless-sync-delay` held back, once the
    /// first waited that long or `repl-diskless-sync-max-replicas` are
    /// waiting: one snapshot for all of them.
    pub fn start_delayed_syncs(&mut self) {
        let Some(since) = self.repl.sync_wait_since else {
            return;
        };
        let delay = Duration::from_secs(self.config.repl_diskless_sync_delay.into());
        let max = self.config.repl_diskless_sync_max_replicas as usize;
        let enough = max > 0 && self.repl.sync_waiting.len() >= max;
        if since.elapsed() < delay && !enough {
            return;
        }
        self.repl.sync_wait_since = None;
        let waiting = std::mem::take(&mut self.repl.sync_waiting);
        let payload = snapshot_payload(self);
        for (id, psync) in waiting {
            let Some(mut c) = self.clients.remove(&id) else {
                continue;
            };
            match &payload {
                Ok(p) => send_full_sync(self, &mut c, psync, p),
                Err(err) => {
                    tracing::warn!("Can't produce the snapshot for a replica: {err}");
                    c.close_asap = true;
                }
            }
            c.wake.notify_one();
            self.clients.insert(id, c);
        }
    }
}

fn send_full_sync(e: &mut Engine, c: &mut Client, psync: bool, payload: &[u8]) {
    if psync {
        let line = format!("+FULLRESYNC {} {}\r\n", e.repl.replid, e.repl.offset);
        c.out.extend_from_slice(line.as_bytes());
    }
    c.out.push(b'$');
    c.out
        .extend_from_slice(itoa::Buffer::new().format(payload.len()).as_bytes());
    c.out.extend_from_slice(b"\r\n");
    c.out.extend_from_slice(payload);
    tracing::info!(
        "Replica {} asks for synchronization; full sync of {} bytes sent",
        c.addr,
        payload.len()
    );
    // This command's output is the payload; the replica's later commands
    // (REPLCONF ACK, PING) get no replies.
    c.reply_mode = ReplyMode::ReplicaStarting;
    e.attach_replica(c);
}

/// SYNC
fn sync(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    full_sync(e, c, false);
}

/// PSYNC replicationid offset
fn psync(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    full_sync(e, c, true);
}

/// REPLCONF option value [option value ...]
fn replconf(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if args.len().is_multiple_of(2) {
        c.reply().error(errors::SYNTAX);
        return;
    }
    for pair in args[1..].chunks(2) {
        let opt = &pair[0];
        if is(opt, "ack") || is(opt, "fack") {
            // Acknowledgements get no reply.
            if c.kind == ClientKind::Replica && is(opt, "ack") {
                if let Some(off) = num::string2ll(&pair[1]).and_then(|o| u64::try_from(o).ok()) {
                    e.replica_acked(c.id, off);
                }
            }
            return;
        }
        if is(opt, "getack") && c.kind == ClientKind::Primary {
            // Our primary asks how far we applied its stream: the answer
            // goes out although replies to the primary are off.
            let off = e.repl.primary.as_ref().map_or(0, |p| p.offset);
            let start = c.out.len();
            c.out.extend_from_slice(&ack_frame(off));
            let end = c.out.len();
            c.push_spans.push((start, end));
            return;
        }
        if is(opt, "listening-port") {
            if let Some(port) = num::string2ll(&pair[1]).and_then(|p| u16::try_from(p).ok()) {
                e.repl.replica_ports.insert(c.id, port);
            }
        }
        if !(is(opt, "listening-port")
            || is(opt, "ip-address")
            || is(opt, "capa")
            || is(opt, "getack")
            || is(opt, "rdb-only")
            || is(opt, "rdb-filter-only"))
        {
            let msg = format!(
                "ERR Unrecognized REPLCONF option: {}",
                String::from_utf8_lossy(opt)
            );
            c.reply().error(&msg);
            return;
        }
    }
    c.reply().ok();
}

/// REPLICAOF host port | REPLICAOF NO ONE (and SLAVEOF)
fn replicaof(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if is(&args[1], "no") && is(&args[2], "one") {
        e.stop_replication();
        c.reply().ok();
        return;
    }
    if c.kind == ClientKind::Replica {
        c.reply()
            .error("ERR Command is not valid when client is a replica.");
        return;
    }
    let Some(port) = num::string2ll(&args[2]).filter(|p| (0..=65535).contains(p)) else {
        c.reply().error("ERR Invalid master port");
        return;
    };
    let host = String::from_utf8_lossy(&args[1]).into_owned();
    if e.repl
        .primary
        .as_ref()
        .is_some_and(|p| p.host.eq_ignore_ascii_case(&host) && p.port == port as u16)
    {
        tracing::info!("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
        c.reply().simple("OK Already connected to specified master");
        return;
    }
    // Our own replicas must resynchronize with the data we are about to get.
    for id in std::mem::take(&mut e.repl.replicas) {
        if let Some(r) = e.clients.get_mut(&id) {
            r.close_asap = true;
            r.wake.notify_one();
        }
    }
    e.start_replication(host.clone(), port as u16);
    tracing::info!(
        "REPLICAOF {host}:{port} enabled (user request from 'id={} addr={}')",
        c.id,
        c.addr
    );
    c.reply().ok();
}

/// WAIT numreplicas timeout
fn wait(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if e.is_replica() {
        c.reply().error("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.");
        return;
    }
    let Some(want) = arg_i64(c, &args[1]) else {
        return;
    };
    let Some(ms) = num::string2ll(&args[2]) else {
        c.reply()
            .error("ERR timeout is not an integer or out of range");
        return;
    };
    if ms < 0 {
        c.reply().error("ERR timeout is negative");
        return;
    }
    let target = e.repl.offset;
    let acked = e.count_acks(target);
    if acked as i64 >= want || c.multi.is_some() || c.deny_blocking {
        c.reply().int(acked as i64);
        return;
    }
    let timeout = (ms > 0).then(|| Duration::from_millis(ms as u64));
    e.block(
        c,
        Vec::new(),
        timeout,
        Kind::String,
        TimeoutReply::Acks(target),
        args,
    );
    e.repl.waiting.push((c.id, target, want.max(0) as u64));
    e.request_acks();
}

/// ROLE
fn role(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    let mut r = c.reply();
    match &e.repl.primary {
        Some(p) => {
            r.array(5);
            r.bulk_str("slave");
            r.bulk_str(&p.host);
            r.int(i64::from(p.port));
            r.bulk_str(p.state.role_name());
            // Redis gives the primary client's offset, -1 without one.
            r.int(if p.client.is_some() {
                p.offset as i64
            } else {
                -1
            });
        }
        None => {
            r.array(3);
            r.bulk_str("master");
            r.int(e.repl.offset as i64);
            let online: Vec<_> = e
                .repl
                .replicas
                .iter()
                .filter_map(|id| e.clients.get(id).map(|cl| (id, cl)))
                .collect();
            r.array(online.len());
            for (id, cl) in online {
                let ip = cl.addr.rsplit_once(':').map_or("", |(h, _)| h);
                r.array(3);
                r.bulk_str(ip);
                r.bulk_int(i64::from(
                    e.repl.replica_ports.get(id).copied().unwrap_or(0),
                ));
                r.bulk_int(e.repl.acks.get(id).copied().unwrap_or(0) as i64);
            }
        }
    }
}

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "role",
        1,
        f::NOSCRIPT | f::LOADING | f::STALE | f::FAST,
        acl::ADMIN | acl::FAST | acl::DANGEROUS,
        Keys::NONE,
        role,
    )
    .group("server"),
    CommandSpec::new(
        "replicaof",
        3,
        f::NO_ASYNC_LOADING | f::ADMIN | f::NOSCRIPT | f::STALE,
        acl::ADMIN | acl::SLOW | acl::DANGEROUS,
        Keys::NONE,
        replicaof,
    )
    .group("server"),
    CommandSpec::new(
        "slaveof",
        3,
        f::NO_ASYNC_LOADING | f::ADMIN | f::NOSCRIPT | f::STALE,
        acl::ADMIN | acl::SLOW | acl::DANGEROUS,
        Keys::NONE,
        replicaof,
    )
    .group("server"),
    CommandSpec::new(
        "wait",
        3,
        f::NOSCRIPT,
        acl::CONNECTION | acl::SLOW,
        Keys::NONE,
        wait,
    )
    .group("generic"),
    CommandSpec::new(
        "sync",
        1,
        f::NO_ASYNC_LOADING | f::ADMIN | f::NO_MULTI | f::NOSCRIPT,
        acl::ADMIN | acl::SLOW | acl::DANGEROUS,
        Keys::NONE,
        sync,
    )
    .group("server"),
    CommandSpec::new(
        "psync",
        -3,
        f::NO_ASYNC_LOADING | f::ADMIN | f::NO_MULTI | f::NOSCRIPT,
        acl::ADMIN | acl::SLOW | acl::DANGEROUS,
        Keys::NONE,
        psync,
    )
    .group("server"),
    CommandSpec::new(
        "replconf",
        -1,
        f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE | f::ALLOW_BUSY,
        acl::ADMIN | acl::SLOW | acl::DANGEROUS,
        Keys::NONE,
        replconf,
    )
    .group("server"),
];
