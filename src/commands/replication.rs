//! The replication commands: SYNC, PSYNC, REPLCONF, REPLICAOF, WAIT, ROLE.
//! What they do lives in `crate::replication` (the primary's side, the
//! full-sync transfer and the replica's link).

use bytes::Bytes;

use std::time::Duration;

use super::{arg_i64, is};
use crate::dispatch::{acl, errors, flags as f, CommandSpec, Keys};
use crate::keyspace::Kind;
use crate::replication::replica::ack_frame;
use crate::server::blocking::TimeoutReply;
use crate::server::client::{Client, ClientKind};
use crate::server::Engine;
use crate::util::num;

/// SYNC: a full sync without the `+FULLRESYNC` line.
fn sync(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    if refuse_sync(e, c) {
        return;
    }
    e.request_full_sync(c, true);
}

/// PSYNC replicationid offset [FAILOVER]
fn psync(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if args.len() > 3 && is(&args[3], "failover") && c.kind != ClientKind::Replica {
        // Our primary hands its role over (its FAILOVER): we take it,
        // and it continues from us with the ID we share.
        if args[1].as_ref() != e.repl.replid.as_bytes() {
            c.reply()
                .error("ERR PSYNC FAILOVER replid must match my replid.");
            return;
        }
        e.stop_replication();
        tracing::info!(
            "MASTER MODE enabled (failover request from 'id={} addr={}')",
            c.id,
            c.addr
        );
    }
    if refuse_sync(e, c) {
        return;
    }
    let from = num::string2ll(&args[2]).and_then(|o| u64::try_from(o).ok());
    if let Some(from) = from {
        if e.try_partial_resync(c, &args[1], from) {
            return;
        }
    }
    if args[1].as_ref() != b"?" {
        e.repl.sync_partial_err += 1;
    }
    e.request_full_sync(c, false);
}

/// Whether SYNC/PSYNC must be refused: a replica already, or a replica
/// server whose own link is down (its data may be behind).
fn refuse_sync(e: &mut Engine, c: &mut Client) -> bool {
    if c.kind == ClientKind::Replica {
        // Redis ignores SYNC from a client that already is a replica.
        return true;
    }
    if e.is_replica() && e.replica_link_down() {
        c.reply()
            .error("NOMASTERLINK Can't SYNC while not connected with my master");
        return true;
    }
    false
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
                e.replica_ack_online(c);
                if let Some(off) = num::string2ll(&pair[1]).and_then(|o| u64::try_from(o).ok()) {
                    e.replica_acked(c.id, off);
                }
            }
            return;
        }
        if is(opt, "capa") {
            crate::replication::primary::note_capa(e.repl.links.entry(c.id).or_default(), &pair[1]);
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
        if is(opt, "ip-address") {
            let ip = String::from_utf8_lossy(&pair[1]).into_owned();
            e.repl.replica_ips.insert(c.id, ip);
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
    if e.repl.failover.is_some() {
        c.reply()
            .error("ERR REPLICAOF not allowed while failing over.");
        return;
    }
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

/// FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds]
fn failover(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if args.len() == 2 && is(&args[1], "abort") {
        if e.repl.failover.is_none() {
            c.reply().error("ERR No failover in progress.");
            return;
        }
        e.failover_abort("Failover manually aborted");
        c.reply().ok();
        return;
    }
    let mut target: Option<(String, u16)> = None;
    let mut timeout_ms: i64 = 0;
    let mut force = false;
    let mut j = 1;
    while j < args.len() {
        if is(&args[j], "to") && j + 2 < args.len() && target.is_none() {
            let Some(port) = arg_i64(c, &args[j + 2]) else {
                return;
            };
            let host = String::from_utf8_lossy(&args[j + 1]).into_owned();
            target = Some((host, u16::try_from(port).unwrap_or(0)));
            j += 3;
        } else if is(&args[j], "timeout") && j + 1 < args.len() && timeout_ms == 0 {
            let Some(ms) = arg_i64(c, &args[j + 1]) else {
                return;
            };
            if ms <= 0 {
                c.reply()
                    .error("ERR FAILOVER timeout must be greater than 0");
                return;
            }
            timeout_ms = ms;
            j += 2;
        } else if is(&args[j], "force") && !force {
            force = true;
            j += 1;
        } else {
            c.reply().error(errors::SYNTAX);
            return;
        }
    }
    if e.repl.failover.is_some() {
        c.reply().error("ERR FAILOVER already in progress.");
        return;
    }
    if e.is_replica() {
        c.reply()
            .error("ERR FAILOVER is not valid when server is a replica.");
        return;
    }
    if e.repl.replicas.is_empty() {
        c.reply().error("ERR FAILOVER requires connected replicas.");
        return;
    }
    if force && (timeout_ms == 0 || target.is_none()) {
        c.reply().error(
            "ERR FAILOVER with force option requires both a timeout and target HOST and IP.",
        );
        return;
    }
    if let Some((h, p)) = &target {
        let Some(id) = e.find_replica(h, *p) else {
            c.reply()
                .error("ERR FAILOVER target HOST and PORT is not a replica.");
            return;
        };
        if e.replica_state(id) != crate::replication::primary::SyncState::Online {
            c.reply()
                .error("ERR FAILOVER target replica is not online.");
            return;
        }
    }
    let timeout = (timeout_ms > 0).then(|| Duration::from_millis(timeout_ms as u64));
    e.failover_start(target, force, timeout);
    c.reply().ok();
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
        "failover",
        -1,
        f::ADMIN | f::NOSCRIPT | f::STALE,
        acl::ADMIN | acl::SLOW | acl::DANGEROUS,
        Keys::NONE,
        failover,
    )
    .group("server"),
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
