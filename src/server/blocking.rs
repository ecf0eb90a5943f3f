//! Clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN, ...).
//!
//! # Overview
//!
//! A blocking command that finds nothing to pop calls [`Engine::block`]:
//! the client is queued, first come first served, on each of its keys, and
//! its connection runs nothing more until it is served, times out or is
//! unblocked. Every write marks its key ready (through
//! [`Engine::signal_ready`], which costs one emptiness check while nobody
//! blocks); after each top-level command the dispatcher re-runs the blocked
//! commands of the clients queued on ready keys, oldest first, so their
//! replies and side effects are exactly those of the non-blocking path.

use bytes::Bytes;
use std::time::{Duration, Instant};

use super::client::Client;
use super::Engine;
use crate::keyspace::Kind;

/// What a blocked client replies when its timeout passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutReply {
    /// `*-1` in RESP2 (BLPOP, BLMPOP, BZPOPMIN, ...).
    NullArray,
    /// `$-1` in RESP2 (BLMOVE, BRPOPLPUSH).
    Null,
    /// WAIT: the number of replicas that acknowledged this stream offset.
    Acks(u64),
}

/// Why and how a client is blocked.
#[derive(Debug)]
pub struct Blocked {
    pub db: usize,
    pub keys: Vec<Bytes>,
    pub deadline: Option<Instant>,
    /// The command to run again when a key is ready: table row and arguments.
    pub cmd: usize,
    pub args: Vec<Bytes>,
    /// The type a key must hold for the command to be served.
    pub want: Kind,
    pub on_timeout: TimeoutReply,
}

/// Parses a blocking timeout in seconds (fractions allowed; 0 = forever),
/// replying with Redis's errors.
pub fn parse_timeout(c: &mut Client, a: &[u8]) -> Option<Option<Duration>> {
    let Some(secs) = crate::util::num::parse_long_double(a).filter(|x| x.is_finite()) else {
        c.reply()
            .error("ERR timeout is not a float or out of range");
        return None;
    };
    if secs < 0.0 {
        c.reply().error("ERR timeout is negative");
        return None;
    }
    if secs * 1000.0 > i64::MAX as f64 / 2.0 {
        c.reply().error("ERR timeout is out of range");
        return None;
    }
    let ms = (secs * 1000.0).ceil() as u64;
    Some((ms > 0).then(|| Duration::from_millis(ms)))
}

impl Engine {
    /// Blocks `c` on `keys` of its current database, unless it may not
    /// block (inside EXEC, or the AOF load's client): then it replies at
    /// once what a timeout would.
    pub fn block(
        &mut self,
        c: &mut Client,
        keys: Vec<Bytes>,
        timeout: Option<Duration>,
        want: Kind,
        on_timeout: TimeoutReply,
        args: &[Bytes],
    ) {
        if c.deny_blocking {
            self.reply_unserved(c, on_timeout);
            return;
        }
        let db = c.db;
        for k in &keys {
            let q = self.blocking.entry((db, k.clone())).or_default();
            if !q.contains(&c.id) {
                q.push_back(c.id);
            }
        }
        c.blocked = Some(Blocked {
            db,
            keys,
            deadline: c
                .reblock_deadline
                .take()
                .unwrap_or_else(|| timeout.map(|t| Instant::now() + t)),
            cmd: c.cmd_index.unwrap_or(0),
            args: args.to_vec(),
            want,
            on_timeout,
        });
        self.blocked_clients += 1;
    }

    /// The reply of a wait that ends without the client being served.
    fn reply_unserved(&mut self, c: &mut Client, on_timeout: TimeoutReply) {
        match on_timeout {
            TimeoutReply::NullArray => c.reply().null_array(),
            TimeoutReply::Null => c.reply().null(),
            TimeoutReply::Acks(offset) => {
                let n = self.count_acks(offset);
                c.reply().int(n as i64);
            }
        }
    }

    /// Takes `c` off every key it waits on.
    pub fn unblock(&mut self, c: &mut Client) -> Option<Blocked> {
        let b = c.blocked.take()?;
        for k in &b.keys {
            let key = (b.db, k.clone());
            if let Some(q) = self.blocking.get_mut(&key) {
                q.retain(|&id| id != c.id);
                if q.is_empty() {
                    self.blocking.remove(&key);
                }
            }
        }
        self.blocked_clients -= 1;
        Some(b)
    }

    /// Unblocks `c` with its timeout reply.
    pub fn unblock_timed_out(&mut self, c: &mut Client) {
        if let Some(b) = self.unblock(c) {
            if let Some(stat) = self.cmd_stats.get_mut(b.cmd) {
                stat.calls += 1;
            }
            if let TimeoutReply::Acks(_) = b.on_timeout {
                self.repl.waiting.retain(|&(id, _, _)| id != c.id);
            }
            self.reply_unserved(c, b.on_timeout);
        }
    }

    /// Ends `c`'s wait with the error `msg`: the blocked command counts as
    /// a failed call (CLIENT UNBLOCK ERROR, a primary turned replica).
    pub fn unblock_with_error(&mut self, c: &mut Client, msg: &str) {
        let Some(b) = self.unblock(c) else {
            return;
        };
        if let Some(stat) = self.cmd_stats.get_mut(b.cmd) {
            stat.failed += 1;
            stat.calls += 1;
        }
        if let TimeoutReply::Acks(_) = b.on_timeout {
            self.repl.waiting.retain(|&(id, _, _)| id != c.id);
        }
        c.reply().error(msg);
        self.count_error(msg);
        c.wake.notify_one();
    }

    /// Marks `key` ready when some client waits on it.
    #[inline]
    pub fn signal_ready(&mut self, db: usize, key: &[u8]) {
        if self.blocking.is_empty() {
            return;
        }
        let k = (db, Bytes::copy_from_slice(key));
        if self.blocking.contains_key(&k) && !self.ready.contains(&k) {
            self.ready.push(k);
        }
    }

    /// Marks every waited-on key of `db` ready (SWAPDB, FLUSHDB).
    pub fn signal_db_ready(&mut self, db: usize) {
        let keys: Vec<(usize, Bytes)> = self
            .blocking
            .keys()
            .filter(|(d, _)| *d == db)
            .cloned()
            .collect();
        for k in keys {
            if !self.ready.contains(&k) {
                self.ready.push(k);
            }
        }
    }

    /// Whether a client queued on `key` can be served now.
    pub fn key_serves(&mut self, db: usize, key: &[u8], want: Kind) -> bool {
        let mode = self.expire_mode();
        self.ks.dbs[db]
            .peek(key, crate::keyspace::now_ms(), mode)
            .is_some_and(|e| e.value.kind() == want)
    }

    /// Whether clients of kind `want` are served on every signal of their
    /// key, whatever it holds: stream readers decide themselves (a deleted
    /// key or group unblocks XREADGROUP with an error).
    pub fn serves_any(want: Kind) -> bool {
        want == Kind::Stream
    }
}
