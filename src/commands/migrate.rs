//! MIGRATE: moves keys to another instance with DUMP payloads and RESTORE.
//!
//! As in Redis, the transfer is synchronous on the engine thread, bounded by
//! the command's timeout, over connections cached per target for 10 seconds
//! (`migrate_cached_sockets` in INFO).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{is, lookup_read, modified, notify};
use crate::config::notify as class;
use crate::dispatch::{acl, errors, flags as f, CommandSpec, Keys};
use crate::keyspace::now_ms;
use crate::persistence::rdb;
use crate::server::client::Client;
use crate::server::propagate::encode_command;
use crate::server::Engine;
use crate::util::num;

/// Seconds a cached connection may stay idle (Redis's MIGRATE_SOCKET_CACHE_TTL).
const CACHE_TTL: Duration = Duration::from_secs(10);
/// Most connections kept (MIGRATE_SOCKET_CACHE_ITEMS).
const CACHE_ITEMS: usize = 64;
/// Longest reply line read from the target.
const MAX_LINE: u64 = 1024;

struct Cached {
    reader: BufReader<TcpStream>,
    last_db: Option<i64>,
    last_use: Instant,
}

/// Connections to MIGRATE targets, by "host:port".
#[derive(Default)]
pub struct MigrateCache {
    socks: HashMap<String, Cached>,
}

impl MigrateCache {
    /// Open connections (INFO's migrate_cached_sockets).
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.socks.len()
    }

    /// Closes connections idle for longer than the TTL (from the cron).
    pub fn expire(&mut self) {
        self.socks.retain(|_, s| s.last_use.elapsed() <= CACHE_TTL);
    }
}

/// Why a transfer failed on the wire.
enum Wire {
    Writing,
    Reading,
    /// The target did not answer within the timeout: no retry.
    TimedOut,
}

fn read_line(r: &mut BufReader<TcpStream>) -> Result<String, Wire> {
    let mut line = String::new();
    match std::io::Read::take(&mut *r, MAX_LINE).read_line(&mut line) {
        Ok(n) if n > 0 && line.ends_with('\n') => Ok(line.trim_end().to_string()),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Err(Wire::TimedOut)
        }
        _ => Err(Wire::Reading),
    }
}

/// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
/// [AUTH password | AUTH2 username password] [KEYS key [key ...]]
fn migrate(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let (mut copy, mut replace) = (false, false);
    let mut auth: Option<(Option<Bytes>, Bytes)> = None;
    let mut first_key = 3;
    let mut num_keys = 1;
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if is(&args[j], "copy") {
            copy = true;
        } else if is(&args[j], "replace") {
            replace = true;
        } else if is(&args[j], "auth") && more >= 1 {
            auth = Some((None, args[j + 1].clone()));
            j += 1;
        } else if is(&args[j], "auth2") && more >= 2 {
            auth = Some((Some(args[j + 1].clone()), args[j + 2].clone()));
            j += 2;
        } else if is(&args[j], "keys") {
            if !args[3].is_empty() {
                c.reply().error("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string");
                return;
            }
            first_key = j + 1;
            num_keys = args.len() - j - 1;
            break;
        } else {
            c.reply().error(errors::SYNTAX);
            return;
        }
        j += 1;
    }
    let Some(timeout) = num::string2ll(&args[5]) else {
        c.reply().error(errors::NOT_INT);
        return;
    };
    let Some(dbid) = num::string2ll(&args[4]) else {
        c.reply().error(errors::NOT_INT);
        return;
    };
    let timeout = Duration::from_millis(if timeout <= 0 { 1000 } else { timeout as u64 });

    // The keys that exist, with their payloads and remaining TTLs.
    let dbi = c.db;
    let compress = e.config.rdbcompression;
    let mut keys: Vec<(Bytes, Vec<u8>, i64)> = Vec::new();
    for key in &args[first_key..first_key + num_keys] {
        let Some(entry) = lookup_read(e, dbi, key) else {
            continue;
        };
        let payload = rdb::dump_value(&entry.value, compress);
        let ttl = match e.ks.dbs[dbi].expire_of(key) {
            None => 0,
            Some(at) => {
                let left = at - now_ms();
                if left < 0 {
                    continue;
                }
                left.max(1)
            }
        };
        keys.push((key.clone(), payload, ttl));
    }
    if keys.is_empty() {
        c.reply().simple("NOKEY");
        return;
    }

    let target = format!(
        "{}:{}",
        String::from_utf8_lossy(&args[1]),
        String::from_utf8_lossy(&args[2])
    );
    let mut may_retry = true;
    loop {
        let outcome = transfer(e, &target, timeout, dbid, &auth, &keys, replace);
        match outcome {
            Transfer::Refused(msg) => {
                c.reply().error(&msg);
                return;
            }
            Transfer::Wire(w, replied) => {
                // A cached connection may have been closed by the target:
                // reconnect once, unless the target timed out.
                e.migrate.socks.remove(&target);
                if replied == 0 && may_retry && !matches!(w, Wire::TimedOut) {
                    may_retry = false;
                    continue;
                }
                let what = if matches!(w, Wire::Writing) {
                    "writing"
                } else {
                    "reading"
                };
                // Keys whose RESTORE was answered before the failure moved.
                finish_moved(e, c, dbi, copy, &keys[..replied]);
                c.reply()
                    .error(&format!("IOERR error or timeout {what} to target instance"));
                return;
            }
            Transfer::Done { error } => {
                finish_moved(e, c, dbi, copy, &keys_ok(&keys, &error));
                match error {
                    Some((msg, _)) => c
                        .reply()
                        .error(&format!("ERR Target instance replied with error: {msg}")),
                    None => c.reply().ok(),
                }
                return;
            }
        }
    }
}

/// The keys RESTOREd by the target (those before the first refused one are
/// not the only ones: Redis deletes every key whose RESTORE succeeded).
fn keys_ok(
    keys: &[(Bytes, Vec<u8>, i64)],
    error: &Option<(String, Vec<bool>)>,
) -> Vec<(Bytes, Vec<u8>, i64)> {
    match error {
        None => keys.to_vec(),
        Some((_, ok)) => keys
            .iter()
            .zip(ok)
            .filter(|(_, &ok)| ok)
            .map(|(k, _)| k.clone())
            .collect(),
    }
}

/// Deletes the moved keys locally (unless COPY) and replays MIGRATE as DEL.
fn finish_moved(
    e: &mut Engine,
    c: &mut Client,
    dbi: usize,
    copy: bool,
    moved: &[(Bytes, Vec<u8>, i64)],
) {
    if copy || moved.is_empty() {
        e.prevent_propagation();
        return;
    }
    let mut del = vec![Bytes::from_static(b"DEL")];
    for (key, _, _) in moved {
        if let Some(old) = e.ks.dbs[dbi].remove(key) {
            let effort = old.value.free_effort();
            e.free_later(old, effort);
        }
        modified(e, c, dbi, key);
        notify(e, c, class::GENERIC, "del", dbi, key);
        del.push(key.clone());
    }
    e.propagate_as(del);
}

enum Transfer {
    /// Could not connect: the reply is this error.
    Refused(String),
    /// The connection failed after `usize` RESTORE replies were read.
    Wire(Wire, usize),
    /// All replies read; the first error from the target, with which
    /// RESTOREs succeeded.
    Done { error: Option<(String, Vec<bool>)> },
}

fn transfer(
    e: &mut Engine,
    target: &str,
    timeout: Duration,
    dbid: i64,
    auth: &Option<(Option<Bytes>, Bytes)>,
    keys: &[(Bytes, Vec<u8>, i64)],
    replace: bool,
) -> Transfer {
    if !e.migrate.socks.contains_key(target) {
        if e.migrate.socks.len() >= CACHE_ITEMS {
            // Evict one at random, as Redis does.
            if let Some(k) = e.migrate.socks.keys().next().cloned() {
                e.migrate.socks.remove(&k);
            }
        }
        let addr = std::net::ToSocketAddrs::to_socket_addrs(target)
            .ok()
            .and_then(|mut a| a.next());
        let sock = addr.and_then(|a| TcpStream::connect_timeout(&a, timeout).ok());
        let Some(sock) = sock else {
            return Transfer::Refused("IOERR error or timeout connecting to the client".into());
        };
        let _ = sock.set_nodelay(true);
        e.migrate.socks.insert(
            target.to_string(),
            Cached {
                reader: BufReader::new(sock),
                last_db: None,
                last_use: Instant::now(),
            },
        );
    }
    let cs = e.migrate.socks.get_mut(target).expect("inserted above");
    cs.last_use = Instant::now();
    let sock = cs.reader.get_ref();
    let _ = sock.set_read_timeout(Some(timeout));
    let _ = sock.set_write_timeout(Some(timeout));

    let mut cmd = Vec::new();
    if let Some((user, pass)) = auth {
        let mut a = vec![Bytes::from_static(b"AUTH")];
        a.extend(user.iter().cloned());
        a.push(pass.clone());
        encode_command(&a, &mut cmd);
    }
    let select = cs.last_db != Some(dbid);
    if select {
        let db = Bytes::copy_from_slice(itoa::Buffer::new().format(dbid).as_bytes());
        encode_command(&[Bytes::from_static(b"SELECT"), db], &mut cmd);
    }
    for (key, payload, ttl) in keys {
        let mut a = vec![
            Bytes::from_static(b"RESTORE"),
            key.clone(),
            Bytes::copy_from_slice(itoa::Buffer::new().format(*ttl).as_bytes()),
            Bytes::copy_from_slice(payload),
        ];
        if replace {
            a.push(Bytes::from_static(b"REPLACE"));
        }
        encode_command(&a, &mut cmd);
    }
    if cs.reader.get_ref().write_all(&cmd).is_err() {
        return Transfer::Wire(Wire::Writing, 0);
    }
    let auth_reply = match auth {
        Some(_) => match read_line(&mut cs.reader) {
            Ok(l) => Some(l),
            Err(w) => return Transfer::Wire(w, 0),
        },
        None => None,
    };
    let select_reply = if select {
        match read_line(&mut cs.reader) {
            Ok(l) => Some(l),
            Err(w) => return Transfer::Wire(w, 0),
        }
    } else {
        None
    };
    let mut first_error: Option<String> = None;
    let mut ok = Vec::with_capacity(keys.len());
    for i in 0..keys.len() {
        let line = match read_line(&mut cs.reader) {
            Ok(l) => l,
            Err(w) => {
                let _ = i;
                return Transfer::Wire(w, ok.len());
            }
        };
        let err = [
            auth_reply.as_deref(),
            select_reply.as_deref(),
            Some(line.as_str()),
        ]
        .into_iter()
        .flatten()
        .find(|l| l.starts_with('-'));
        match err {
            Some(msg) => {
                if first_error.is_none() {
                    first_error = Some(msg[1..].to_string());
                }
                ok.push(false);
            }
            None => ok.push(true),
        }
    }
    if first_error.is_some() {
        cs.last_db = None;
        return Transfer::Done {
            error: first_error.map(|m| (m, ok)),
        };
    }
    cs.last_db = Some(dbid);
    Transfer::Done { error: None }
}

fn migrate_keys(args: &[Bytes]) -> Vec<usize> {
    // The KEYS option lists the keys at the end; otherwise argument 3.
    for (i, a) in args.iter().enumerate().skip(6) {
        if is(a, "keys") {
            return (i + 1..args.len()).collect();
        }
    }
    if args.len() > 3 && !args[3].is_empty() {
        vec![3]
    } else {
        Vec::new()
    }
}

pub const COMMANDS: &[CommandSpec] = &[CommandSpec::new(
    "migrate",
    -6,
    f::WRITE,
    acl::KEYSPACE | acl::WRITE | acl::SLOW | acl::DANGEROUS,
    Keys {
        first: 3,
        last: 3,
        step: 1,
    },
    migrate,
)
.keys_fn(migrate_keys)];
