//! Command handlers, one file per family; each file ends with its
//! `COMMANDS` table. Handlers parse arguments and build replies; the data
//! operations they call live in `keyspace`.

mod bitops;
mod client;
mod config_cmd;
mod connection;
mod debug;
mod dump;
mod hash;
mod info;
mod introspection;
mod keys;
mod list;
pub mod migrate;
mod pubsub;
mod replication;
mod scripting;
mod server;
mod set;
mod sort;
mod stream;
mod string;
mod transaction;
mod zset;

use crate::dispatch::errors;
use crate::dispatch::CommandSpec;
use crate::keyspace::{Entry, Value};
use crate::server::client::Client;
use crate::server::Engine;
use crate::util::num;
pub(crate) use debug::keyspace_digest;
pub(crate) use introspection::entry_memory;

/// Every family's table, in the order COMMAND lists them.
pub const FAMILIES: &[&[CommandSpec]] = &[
    string::COMMANDS,
    bitops::COMMANDS,
    keys::COMMANDS,
    list::COMMANDS,
    connection::COMMANDS,
    transaction::COMMANDS,
    server::COMMANDS,
    client::COMMANDS,
    debug::COMMANDS,
    info::COMMANDS,
    config_cmd::COMMANDS,
    introspection::COMMANDS,
    set::COMMANDS,
    hash::COMMANDS,
    zset::COMMANDS,
    pubsub::COMMANDS,
    sort::COMMANDS,
    replication::COMMANDS,
    dump::COMMANDS,
    migrate::COMMANDS,
    stream::COMMANDS,
    scripting::COMMANDS,
];

/// Parses an integer argument or replies with Redis's error.
pub fn arg_i64(c: &mut Client, a: &[u8]) -> Option<i64> {
    match num::string2ll(a) {
        Some(n) => Some(n),
        None => {
            c.reply().error(errors::NOT_INT);
            None
        }
    }
}

/// Parses a float argument or replies with Redis's error.
pub fn arg_f64(c: &mut Client, a: &[u8]) -> Option<f64> {
    match num::parse_f64(a) {
        Some(n) => Some(n),
        None => {
            c.reply().error(errors::NOT_FLOAT);
            None
        }
    }
}

/// Case-insensitive comparison of an argument with an ASCII keyword.
#[inline]
pub fn is(a: &[u8], kw: &str) -> bool {
    a.eq_ignore_ascii_case(kw.as_bytes())
}

/// Looks a key up for reading, counting hits and misses.
pub fn lookup_read<'a>(e: &'a mut Engine, dbi: usize, key: &[u8]) -> Option<&'a mut Entry> {
    let mode = e.expire_mode();
    let now = e.lookup_now();
    let found = e.ks.dbs[dbi].lookup_read(key, now, mode);
    if found.is_some() {
        e.stats.keyspace_hits += 1;
    } else {
        e.stats.keyspace_misses += 1;
    }
    found
}

/// Records a read miss of a lookup that bypassed [`lookup_read`] (EXISTS,
/// TYPE, TTL: Redis's lookupKeyReadWithFlags sends `keymiss` there too).
pub fn note_miss(e: &mut Engine, dbi: usize, key: &[u8]) {
    let db = &mut e.ks.dbs[dbi];
    if db.track_miss {
        db.events.push(crate::keyspace::KeyEvent::Miss(
            crate::keyspace::SBytes::new(key),
        ));
    }
}

/// How a command looks a key up: as a read (counting keyspace hits and
/// misses) or as a write.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// The value at `key` when `pick` accepts its type: Ok(None) when the key
/// is absent, Err after replying WRONGTYPE. Every family's typed lookup
/// (list, hash, set, sorted set) goes through here.
pub fn typed<'a, T: ?Sized>(
    e: &'a mut Engine,
    c: &mut Client,
    key: &[u8],
    access: Access,
    pick: fn(&mut Value) -> Option<&mut T>,
) -> Result<Option<&'a mut T>, ()> {
    let dbi = c.db;
    let found = match access {
        Access::Read => lookup_read(e, dbi, key),
        Access::Write => lookup_write(e, dbi, key),
    };
    match found {
        None => Ok(None),
        Some(entry) => match pick(&mut entry.value) {
            Some(v) => Ok(Some(v)),
            None => {
                c.reply().error(errors::WRONGTYPE);
                Err(())
            }
        },
    }
}

/// Looks a key up for writing (no hit/miss counting).
pub fn lookup_write<'a>(e: &'a mut Engine, dbi: usize, key: &[u8]) -> Option<&'a mut Entry> {
    let mode = e.expire_mode();
    let now = e.lookup_now();
    e.ks.dbs[dbi].lookup(key, now, mode)
}

/// A keyspace notification for `key` (see [`Engine::notify`]): free when
/// `notify-keyspace-events` leaves `class` out.
#[inline]
pub fn notify(e: &mut Engine, c: &mut Client, class: u32, event: &str, dbi: usize, key: &[u8]) {
    if e.config.notify_keyspace_events & class != 0 {
        e.notify(Some(c), class, event, dbi, key);
    }
}

/// Records that `key` changed: dirty counter and WATCH.
pub fn modified(e: &mut Engine, c: &mut Client, dbi: usize, key: &[u8]) {
    e.dirty += 1;
    e.touch_key(c, dbi, key);
    e.signal_ready(dbi, key);
}
