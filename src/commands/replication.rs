//! The primary's side of replication: SYNC, PSYNC and REPLCONF.
//!
//! A full synchronization sends a snapshot of the whole dataset as an RDB
//! payload (`$<len>\r\n<bytes>`), then the stream of propagated writes
//! (src/server/propagate.rs). For now the payload is encoded in memory on the
//! engine thread; the snapshot pipeline (fork / forkless) takes this over
//! with the replication issue, as does partial resynchronization: PSYNC
//! always answers FULLRESYNC.

use bytes::Bytes;

use super::is;
use crate::dispatch::{acl, errors, flags as f, CommandSpec, Keys};
use crate::persistence::rdb::{self, AccessInfo, SaveOptions};
use crate::server::client::{Client, ClientKind, ReplyMode};
use crate::server::Engine;

/// The RDB image a full sync sends.
fn snapshot_payload(e: &Engine) -> Result<Vec<u8>, String> {
    let policy = e.config.maxmemory_policy;
    let opts = SaveOptions {
        compress: e.config.rdbcompression,
        checksum: e.config.rdbchecksum,
        access: if policy.is_lfu() {
            AccessInfo::Lfu
        } else if policy.is_lru() {
            AccessInfo::Lru
        } else {
            AccessInfo::None
        },
        extra_aux: vec![
            ("repl-stream-db".into(), b"0".to_vec()),
            ("repl-id".into(), e.repl.replid.as_bytes().to_vec()),
            ("repl-offset".into(), e.repl.offset.to_string().into_bytes()),
        ],
        aof_base: false,
        used_mem: e.used_memory(),
    };
    rdb::write_keyspace(&e.ks, opts, Vec::new(), &mut |_| {}).map_err(|err| err.to_string())
}

/// Sends the snapshot and turns `c` into a replica.
fn full_sync(e: &mut Engine, c: &mut Client, psync: bool) {
    if c.kind == ClientKind::Replica {
        // Redis ignores SYNC from a client that already is a replica.
        return;
    }
    let payload = match snapshot_payload(e) {
        Ok(p) => p,
        Err(err) => {
            tracing::warn!("Can't produce the snapshot for a replica: {err}");
            c.reply().error("ERR Unable to perform background save");
            return;
        }
    };
    if psync {
        let line = format!("+FULLRESYNC {} {}\r\n", e.repl.replid, e.repl.offset);
        c.out.extend_from_slice(line.as_bytes());
    }
    c.out.push(b'$');
    c.out
        .extend_from_slice(itoa::Buffer::new().format(payload.len()).as_bytes());
    c.out.extend_from_slice(b"\r\n");
    c.out.extend_from_slice(&payload);
    tracing::info!(
        "Replica {} asks for synchronization; full sync of {} bytes sent",
        c.addr,
        payload.len()
    );
    c.kind = ClientKind::Replica;
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
fn replconf(_e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if args.len().is_multiple_of(2) {
        c.reply().error(errors::SYNTAX);
        return;
    }
    for pair in args[1..].chunks(2) {
        let opt = &pair[0];
        if is(opt, "ack") || is(opt, "fack") {
            // Acknowledgements get no reply.
            return;
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

pub const COMMANDS: &[CommandSpec] = &[
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
