//! The Pub/Sub registry: who listens to which channel, pattern or shard
//! channel, and the delivery of messages to their output buffers.
//!
//! # Overview
//!
//! Both directions are kept, as Redis does: the engine's [`PubSub`] maps a
//! channel (pattern, shard channel) to the ids of its subscribers in
//! subscription order, and each client's [`ClientSubs`] holds what it
//! listens to, so that a disconnect or RESET can undo its subscriptions
//! without scanning every channel. `Client::subscriptions` mirrors the total
//! of a client's three kinds: dispatch's RESP2 subscribed-mode gate reads it.
//!
//! Delivering to another client appends to its output buffer and wakes its
//! connection task, as MONITOR does. The publishing client itself is out of
//! `Engine::clients` while its command runs, so it is passed separately.
//! A subscriber whose pending output passes `client-output-buffer-limit
//! pubsub` is marked to close.

use bytes::Bytes;
use std::collections::{HashMap, HashSet};
use std::time::Instant;

use super::client::{Client, ClientKind};
use super::{Engine, Stats};
use crate::config::{
    ClientBufferLimit, Config, CLIENT_TYPE_NORMAL, CLIENT_TYPE_PUBSUB, CLIENT_TYPE_REPLICA,
};
use crate::protocol::encode::{Out, Proto};
use crate::util::glob::string_match;

/// Channel name → subscriber client ids, in subscription order.
type Registry = HashMap<Bytes, Vec<u64>>;

/// The server side of Pub/Sub.
#[derive(Default, Debug)]
pub struct PubSub {
    pub channels: Registry,
    pub patterns: Registry,
    pub shard_channels: Registry,
}

/// What one client is subscribed to.
#[derive(Default, Debug)]
pub struct ClientSubs {
    pub channels: HashSet<Bytes>,
    /// Patterns in subscription order (Redis keeps a list).
    pub patterns: Vec<Bytes>,
    pub shard_channels: HashSet<Bytes>,
}

impl ClientSubs {
    /// Channels plus patterns: the count SUBSCRIBE and PSUBSCRIBE report.
    pub fn classic(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    pub fn total(&self) -> usize {
        self.classic() + self.shard_channels.len()
    }
}

/// Which kind of channel a (un)subscription is about.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    fn subscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::Shard => b"ssubscribe",
        }
    }

    fn unsubscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::Shard => b"sunsubscribe",
        }
    }

    /// The count a confirmation reports: shard channels count apart.
    fn count(self, c: &Client) -> usize {
        match self {
            Kind::Channel | Kind::Pattern => c.pubsub.classic(),
            Kind::Shard => c.pubsub.shard_channels.len(),
        }
    }
}

/// Appends a push frame to the client running a command, remembering where
/// it is so that CLIENT REPLY OFF/SKIP keeps it (Redis's CLIENT_PUSHING).
pub(super) fn push_to_current(c: &mut Client, write: impl FnOnce(&mut Out<'_>)) {
    let start = c.out.len();
    write(&mut c.reply());
    let end = c.out.len();
    c.push_spans.push((start, end));
}

fn confirm(c: &mut Client, word: &[u8], name: Option<&[u8]>, kind: Kind) {
    let n = kind.count(c) as i64;
    push_to_current(c, |out| {
        out.push(3);
        out.bulk(word);
        out.bulk_opt(name);
        out.int(n);
    });
}

fn registry(ps: &mut PubSub, kind: Kind) -> &mut Registry {
    match kind {
        Kind::Channel => &mut ps.channels,
        Kind::Pattern => &mut ps.patterns,
        Kind::Shard => &mut ps.shard_channels,
    }
}

fn sync_count(c: &mut Client) {
    c.subscriptions = c.pubsub.total();
}

/// A message encoded once per protocol, for every receiver.
struct Encoded {
    parts: Vec<Bytes>,
    resp2: Option<Vec<u8>>,
    resp3: Option<Vec<u8>>,
}

impl Encoded {
    fn new(parts: Vec<Bytes>) -> Encoded {
        Encoded {
            parts,
            resp2: None,
            resp3: None,
        }
    }

    fn bytes(&mut self, proto: Proto) -> &[u8] {
        let slot = match proto {
            Proto::Resp2 => &mut self.resp2,
            Proto::Resp3 => &mut self.resp3,
        };
        let parts = &self.parts;
        slot.get_or_insert_with(|| {
            let mut buf = Vec::new();
            let mut out = Out::new(&mut buf, proto);
            out.push(parts.len());
            for p in parts {
                out.bulk(p);
            }
            buf
        })
    }
}

/// The output-buffer-limit class of a client (Redis's getClientType).
fn limit_class(c: &Client) -> usize {
    match c.kind {
        ClientKind::Replica => CLIENT_TYPE_REPLICA,
        _ if c.subscriptions > 0 || c.kind == ClientKind::PubSub => CLIENT_TYPE_PUBSUB,
        _ => CLIENT_TYPE_NORMAL,
    }
}

/// Size of Redis's fixed reply buffer: output beyond it goes to the reply
/// list, which is what output buffer limits and CLIENT LIST omem measure.
const REPLY_CHUNK: usize = 16 * 1024;

/// CLIENT LIST's obl, oll and omem for the output `c` has not written yet,
/// laid out as Redis would hold it: the fixed buffer first, then a list
/// of 16 KB nodes.
pub fn output_usage(c: &Client) -> (usize, usize, usize) {
    let pending = c.out.len() + c.out_inflight;
    let obl = pending.min(REPLY_CHUNK);
    let omem = pending - obl;
    (obl, omem.div_ceil(REPLY_CHUNK), omem)
}

/// The output buffer memory limits measure (Redis's reply_bytes).
fn pending_output(c: &Client) -> usize {
    output_usage(c).2
}

/// Checks `c` against its class's output buffer limits, updating the
/// soft-limit clock; true when it must be disconnected.
fn over_limit(limit: &ClientBufferLimit, c: &mut Client, now: Instant) -> bool {
    let used = pending_output(c) as u64;
    let hard = limit.hard_limit_bytes > 0 && used >= limit.hard_limit_bytes;
    let mut soft = limit.soft_limit_bytes > 0 && used >= limit.soft_limit_bytes;
    if soft {
        match c.obuf_soft_since {
            None => {
                c.obuf_soft_since = Some(now);
                soft = false;
            }
            Some(since) => {
                // Redis compares whole seconds of unixtime; elapsed time must
                // pass the limit, not just reach it.
                soft = now.saturating_duration_since(since).as_secs() > limit.soft_limit_seconds;
            }
        }
    } else {
        c.obuf_soft_since = None;
    }
    hard || soft
}

/// Marks `c` for disconnection when its pending output is over its class's
/// limits (Redis's closeClientOnOutputBufferLimitReached); true when it did.
pub(crate) fn enforce_limit(config: &Config, stats: &mut Stats, c: &mut Client) -> bool {
    if c.fd < 0 || c.close_asap || pending_output(c) == 0 {
        return false;
    }
    let limit = config.client_output_buffer_limit[limit_class(c)];
    if !over_limit(&limit, c, Instant::now()) {
        return false;
    }
    tracing::warn!(
        "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
        c.id,
        c.addr
    );
    c.close_asap = true;
    stats.client_obuf_limit_disconnections += 1;
    true
}

impl Engine {
    /// Cron: subscribers over their soft limit for too long are closed even
    /// when no new message arrives.
    pub fn pubsub_cron(&mut self) {
        let Engine {
            clients,
            config,
            stats,
            ..
        } = self;
        for c in clients.values_mut() {
            if c.subscriptions > 0 && enforce_limit(config, stats, c) {
                c.wake.notify_one();
            }
        }
    }

    /// Appends an encoded message to one receiver.
    fn deliver(&mut self, cur: &mut Option<&mut Client>, id: u64, msg: &mut Encoded) {
        if let Some(c) = cur.as_deref_mut().filter(|c| c.id == id) {
            let bytes = msg.bytes(c.proto);
            push_to_current(c, |out| out.raw(bytes));
            enforce_limit(&self.config, &mut self.stats, c);
            return;
        }
        let Some(o) = self.clients.get_mut(&id) else {
            return;
        };
        o.out.extend_from_slice(msg.bytes(o.proto));
        enforce_limit(&self.config, &mut self.stats, o);
        o.wake.notify_one();
    }

    /// PUBLISH: sends `msg` to the subscribers of `channel` and of every
    /// pattern matching it; returns how many received it. `cur` is the
    /// client running a command, if any (it may be a subscriber itself).
    pub fn publish(&mut self, cur: Option<&mut Client>, channel: &[u8], msg: &[u8]) -> usize {
        let mut cur = cur;
        let mut receivers = 0;
        let chan = Bytes::copy_from_slice(channel);
        let payload = Bytes::copy_from_slice(msg);
        if let Some(ids) = self.pubsub.channels.get(channel).cloned() {
            let mut m = Encoded::new(vec![
                Bytes::from_static(b"message"),
                chan.clone(),
                payload.clone(),
            ]);
            for id in ids {
                self.deliver(&mut cur, id, &mut m);
                receivers += 1;
            }
        }
        if self.pubsub.patterns.is_empty() {
            return receivers;
        }
        let matching: Vec<(Bytes, Vec<u64>)> = self
            .pubsub
            .patterns
            .iter()
            .filter(|(p, _)| string_match(p, channel, false))
            .map(|(p, ids)| (p.clone(), ids.clone()))
            .collect();
        for (pattern, ids) in matching {
            let mut m = Encoded::new(vec![
                Bytes::from_static(b"pmessage"),
                pattern,
                chan.clone(),
                payload.clone(),
            ]);
            for id in ids {
                self.deliver(&mut cur, id, &mut m);
                receivers += 1;
            }
        }
        receivers
    }

    /// SPUBLISH: sends `msg` to the subscribers of shard channel `channel`
    /// (patterns do not apply); returns how many received it.
    pub fn publish_shard(&mut self, cur: Option<&mut Client>, channel: &[u8], msg: &[u8]) -> usize {
        let mut cur = cur;
        let Some(ids) = self.pubsub.shard_channels.get(channel).cloned() else {
            return 0;
        };
        let mut m = Encoded::new(vec![
            Bytes::from_static(b"smessage"),
            Bytes::copy_from_slice(channel),
            Bytes::copy_from_slice(msg),
        ]);
        for &id in &ids {
            self.deliver(&mut cur, id, &mut m);
        }
        ids.len()
    }

    /// Subscribes `c` to `name` and confirms it; subscribing twice is a
    /// no-op that still confirms.
    pub fn subscribe(&mut self, c: &mut Client, kind: Kind, name: &Bytes) {
        let added = match kind {
            Kind::Channel => c.pubsub.channels.insert(name.clone()),
            Kind::Shard => c.pubsub.shard_channels.insert(name.clone()),
            Kind::Pattern => {
                let new = !c.pubsub.patterns.contains(name);
                if new {
                    c.pubsub.patterns.push(name.clone());
                }
                new
            }
        };
        if added {
            registry(&mut self.pubsub, kind)
                .entry(name.clone())
                .or_default()
                .push(c.id);
            sync_count(c);
        }
        confirm(c, kind.subscribe_word(), Some(name), kind);
    }

    /// Unsubscribes `c` from `name`, confirming it when `notify`.
    pub fn unsubscribe(&mut self, c: &mut Client, kind: Kind, name: &Bytes, notify: bool) -> bool {
        let removed = match kind {
            Kind::Channel => c.pubsub.channels.remove(name),
            Kind::Shard => c.pubsub.shard_channels.remove(name),
            Kind::Pattern => match c.pubsub.patterns.iter().position(|p| p == name) {
                Some(i) => {
                    c.pubsub.patterns.remove(i);
                    true
                }
                None => false,
            },
        };
        if removed {
            let reg = registry(&mut self.pubsub, kind);
            if let Some(ids) = reg.get_mut(name) {
                ids.retain(|&i| i != c.id);
                if ids.is_empty() {
                    // Forget channels nobody listens to, so that PUBSUB
                    // CHANNELS and memory stay bounded by live subscriptions.
                    reg.remove(name);
                }
            }
            sync_count(c);
        }
        if notify {
            confirm(c, kind.unsubscribe_word(), Some(name), kind);
        }
        removed
    }

    /// Unsubscribes `c` from everything of one kind; with `notify`, confirms
    /// each, or once with a null name when there was nothing.
    pub fn unsubscribe_all(&mut self, c: &mut Client, kind: Kind, notify: bool) -> usize {
        let names: Vec<Bytes> = match kind {
            Kind::Channel => c.pubsub.channels.iter().cloned().collect(),
            Kind::Pattern => c.pubsub.patterns.clone(),
            Kind::Shard => c.pubsub.shard_channels.iter().cloned().collect(),
        };
        let mut count = 0;
        for name in &names {
            if self.unsubscribe(c, kind, name, notify) {
                count += 1;
            }
        }
        if notify && count == 0 {
            confirm(c, kind.unsubscribe_word(), None, kind);
        }
        count
    }

    /// Drops every subscription of `c` silently (disconnect, RESET).
    pub fn pubsub_forget(&mut self, c: &mut Client) {
        if c.pubsub.total() == 0 {
            return;
        }
        for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
            self.unsubscribe_all(c, kind, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(hard: u64, soft: u64, secs: u64) -> ClientBufferLimit {
        ClientBufferLimit {
            hard_limit_bytes: hard,
            soft_limit_bytes: soft,
            soft_limit_seconds: secs,
        }
    }

    fn client_with_output(n: usize) -> Client {
        let mut c = Client::new(1, "a:1".into(), "b:2".into(), 7, true);
        c.out.resize(REPLY_CHUNK + n, b'x');
        c
    }

    #[test]
    fn hard_limit_is_reached_at_the_limit() {
        let now = Instant::now();
        assert!(!over_limit(
            &limit(100, 0, 0),
            &mut client_with_output(99),
            now
        ));
        assert!(over_limit(
            &limit(100, 0, 0),
            &mut client_with_output(100),
            now
        ));
    }

    #[test]
    fn soft_limit_needs_its_seconds_to_pass() {
        let t0 = Instant::now();
        let l = limit(0, 10, 2);
        let mut c = client_with_output(20);
        assert!(!over_limit(&l, &mut c, t0));
        assert_eq!(c.obuf_soft_since, Some(t0));
        assert!(!over_limit(
            &l,
            &mut c,
            t0 + std::time::Duration::from_secs(2)
        ));
        assert!(over_limit(
            &l,
            &mut c,
            t0 + std::time::Duration::from_secs(3)
        ));
        // Dropping under the soft limit resets the clock.
        c.out.clear();
        assert!(!over_limit(
            &l,
            &mut c,
            t0 + std::time::Duration::from_secs(4)
        ));
        assert_eq!(c.obuf_soft_since, None);
    }

    #[test]
    fn messages_encode_per_protocol() {
        let mut m = Encoded::new(vec![
            Bytes::from_static(b"message"),
            Bytes::from_static(b"ch"),
            Bytes::from_static(b"hi"),
        ]);
        assert_eq!(
            m.bytes(Proto::Resp2),
            b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
        );
        assert_eq!(
            m.bytes(Proto::Resp3),
            b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
        );
    }
}
