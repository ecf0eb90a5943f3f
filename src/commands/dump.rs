//! DUMP and RESTORE: a value in the RDB encoding, with the RDB version and
//! a CRC-64 after it (see `persistence::rdb::dump_value`).

use bytes::Bytes;

use super::{arg_i64, is, lookup_read, lookup_write, modified, notify};
use crate::config::notify as class;
use crate::config::SanitizeDumpPayload;
use crate::dispatch::{acl, errors, flags as f, CommandSpec, Keys};
use crate::keyspace::{now_ms, Entry, SBytes};
use crate::persistence::rdb::{self, Encodings, RdbError};
use crate::server::client::{Client, ClientKind};
use crate::server::Engine;

/// DUMP key
fn dump(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let compress = e.config.rdbcompression;
    match lookup_read(e, c.db, &args[1]) {
        Some(entry) => {
            let payload = rdb::dump_value(&entry.value, compress);
            c.reply().bulk(&payload);
        }
        None => c.reply().null(),
    }
}

/// Whether RESTORE validates compact encodings entry by entry
/// (`sanitize-dump-payload`; `clients` spares the primary's stream).
fn deep_sanitize(e: &Engine, c: &Client) -> bool {
    match e.config.sanitize_dump_payload {
        SanitizeDumpPayload::No => false,
        SanitizeDumpPayload::Yes => true,
        SanitizeDumpPayload::Clients => c.kind != ClientKind::Primary,
    }
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
fn restore(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let mut replace = false;
    let mut absttl = false;
    let mut idle: Option<u64> = None;
    let mut freq: Option<u8> = None;
    let mut j = 4;
    while j < args.len() {
        let more = j + 1 < args.len();
        if is(&args[j], "replace") {
            replace = true;
        } else if is(&args[j], "absttl") {
            absttl = true;
        } else if is(&args[j], "idletime") && more && freq.is_none() {
            let Some(v) = arg_i64(c, &args[j + 1]) else {
                return;
            };
            if v < 0 {
                c.reply().error("ERR Invalid IDLETIME value, must be >= 0");
                return;
            }
            idle = Some(v as u64);
            j += 1;
        } else if is(&args[j], "freq") && more && idle.is_none() {
            let Some(v) = arg_i64(c, &args[j + 1]) else {
                return;
            };
            if !(0..=255).contains(&v) {
                c.reply()
                    .error("ERR Invalid FREQ value, must be >= 0 and <= 255");
                return;
            }
            freq = Some(v as u8);
            j += 1;
        } else {
            c.reply().error(errors::SYNTAX);
            return;
        }
        j += 1;
    }

    let dbi = c.db;
    let key = &args[1];
    if !replace && lookup_write(e, dbi, key).is_some() {
        c.reply().error(errors::BUSYKEY);
        return;
    }
    let Some(mut ttl) = arg_i64(c, &args[2]) else {
        return;
    };
    if ttl < 0 {
        c.reply().error("ERR Invalid TTL value, must be >= 0");
        return;
    }

    let enc = Encodings::from_config(&e.config);
    let value = match rdb::restore_value(&args[3], &enc, deep_sanitize(e, c)) {
        Ok(v) => v,
        Err(err @ (RdbError::Format(_) | RdbError::Checksum { .. })) => {
            tracing::debug!("RESTORE refused: {err}");
            c.reply().error(errors::DUMP_PAYLOAD);
            return;
        }
        Err(err) => {
            // Redis logs the reason at verbose level and answers generically.
            tracing::debug!("{err}");
            c.reply().error(errors::BAD_DATA_FORMAT);
            return;
        }
    };

    let mut deleted = false;
    if replace {
        if let Some(old) = e.ks.dbs[dbi].remove(key) {
            let effort = old.value.free_effort();
            e.free_later(old, effort);
            deleted = true;
        }
    }
    let now = now_ms();
    if ttl != 0 && !absttl {
        ttl = ttl.saturating_add(now);
    }
    if ttl != 0 && ttl <= now && !e.loading {
        // Already expired: the key is not created (an old one was deleted).
        if deleted {
            e.propagate_as(vec![Bytes::from_static(b"DEL"), key.clone()]);
            modified(e, c, dbi, key);
            notify(e, c, class::GENERIC, "del", dbi, key);
        }
        c.reply().ok();
        return;
    }

    let mut entry = Entry::new(SBytes::new(key), value);
    let lfu = e.config.maxmemory_policy.is_lfu();
    let (fq, id) = if lfu { (freq, None) } else { (None, idle) };
    rdb::set_access(&mut entry, fq, id);
    e.ks.dbs[dbi].insert_entry(entry, (ttl != 0).then_some(ttl));
    if ttl != 0 && !absttl && e.propagating() {
        // Replays with the absolute deadline and ABSTTL.
        let mut a = args.to_vec();
        a[2] = Bytes::copy_from_slice(itoa::Buffer::new().format(ttl).as_bytes());
        a.push(Bytes::from_static(b"ABSTTL"));
        e.propagate_as(a);
    }
    modified(e, c, dbi, key);
    notify(e, c, class::GENERIC, "restore", dbi, key);
    c.reply().ok();
}

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "dump",
        2,
        f::READONLY,
        acl::KEYSPACE | acl::READ | acl::SLOW,
        Keys {
            first: 1,
            last: 1,
            step: 1,
        },
        dump,
    ),
    CommandSpec::new(
        "restore",
        -4,
        f::WRITE | f::DENYOOM,
        acl::KEYSPACE | acl::WRITE | acl::SLOW | acl::DANGEROUS,
        Keys {
            first: 1,
            last: 1,
            step: 1,
        },
        restore,
    ),
];
