//! Client-side caching: CLIENT TRACKING's key table, the BCAST prefix
//! table, and the invalidation messages (Redis 7.0's tracking.c).
//!
//! # Overview
//!
//! A client in the default mode has the keys its read-only commands touch
//! remembered in [`Tracking`]'s table (key → client ids); the first change
//! of such a key sends every remembered client one invalidation and
//! forgets the key. A client in BCAST mode subscribes to key prefixes
//! instead: every changed key matching a prefix is collected, and the
//! collected keys are sent once per prefix after the command that changed
//! them (Redis does it in beforeSleep). Keys are not per database, as in
//! Redis: a change in any database invalidates the name.
//!
//! Invalidations travel as RESP3 pushes `>2 invalidate [keys]` on the
//! tracking connection, or to the REDIRECT client: a push when it speaks
//! RESP3, a `message` on `__redis__:invalidate` when it is a RESP2
//! subscriber. A flush (FLUSHDB, FLUSHALL, SWAPDB) sends a null instead of
//! a key list. When the redirect client is gone, a RESP3 tracking client
//! gets `>2 tracking-redir-broken <id>` and the `R` flag.
//!
//! # Ordering
//!
//! Invalidations for the client whose command caused them are held until
//! that top-level command (EXEC included) has replied, so they never land
//! inside a reply; other clients get theirs at once. Table evictions
//! (`tracking-table-max-keys`) run before a command and in cron and are
//! sent at once, before the reply of the command that triggered them.
//!
//! # Cost
//!
//! With no tracking client, writes pay one comparison (`clients != 0`) and
//! each command one more after it runs.

use bytes::Bytes;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::client::Client;
use super::pubsub::{enforce_limit, push_to_current};
use super::{Engine, Stats};
use crate::config::Config;
use crate::dispatch::{flags, CommandSpec};
use crate::protocol::encode::{Out, Proto};

/// The Pub/Sub channel RESP2 redirect clients receive invalidations on.
pub const INVALIDATE_CHANNEL: &[u8] = b"__redis__:invalidate";

/// One client's CLIENT TRACKING state.
#[derive(Default, Debug)]
pub struct ClientTracking {
    pub on: bool,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    /// CLIENT CACHING was given (yes under OPTIN, no under OPTOUT): it
    /// applies to the next command or transaction.
    pub caching: bool,
    pub noloop: bool,
    /// The redirect client disconnected (CLIENT LIST flag `R`).
    pub broken_redirect: bool,
    /// The client receiving this one's invalidations; 0 for itself.
    pub redirect: u64,
    /// BCAST prefixes, in the order Redis lists them.
    pub prefixes: BTreeSet<Bytes>,
}

/// The options of one CLIENT TRACKING ON.
#[derive(Default, Debug)]
pub struct TrackingOptions {
    pub redirect: u64,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    pub prefixes: Vec<Bytes>,
}

/// One BCAST prefix: its subscribers and the keys changed since the last
/// broadcast, each with the client that changed it last (for NOLOOP).
#[derive(Default, Debug)]
struct Prefix {
    clients: BTreeSet<u64>,
    keys: BTreeMap<Bytes, Option<u64>>,
}

/// The server side of client-side caching.
#[derive(Default, Debug)]
pub struct Tracking {
    /// Clients with tracking on (INFO tracking_clients).
    pub clients: usize,
    /// Key → ids of the clients that may cache it, ascending.
    table: HashMap<Bytes, Vec<u64>>,
    /// Ids across the table (INFO tracking_total_items).
    items: u64,
    prefixes: BTreeMap<Bytes, Prefix>,
    /// Some prefix has collected keys to broadcast.
    bcast_due: bool,
    /// Something waits for the end of the current command (a broadcast,
    /// pending invalidations, a flush announcement): the one flag the
    /// dispatcher reads after each command.
    pub due: bool,
    /// Invalidations held until the command that caused them has replied:
    /// (receiving tracking client, key or None for "everything").
    pending: Vec<(u64, Option<Bytes>)>,
    /// A flush was announced during this command (FLUSHALL empties every
    /// database but sends one null).
    flush_announced: bool,
    /// Consecutive table evictions that stayed over the limit: each one
    /// tries harder, as Redis's trackingLimitUsedSlots.
    limit_rounds: usize,
}

impl Tracking {
    /// INFO tracking_total_keys.
    pub fn total_keys(&self) -> usize {
        self.table.len()
    }

    /// INFO tracking_total_items.
    pub fn total_items(&self) -> u64 {
        self.items
    }

    /// INFO tracking_total_prefixes.
    pub fn total_prefixes(&self) -> usize {
        self.prefixes.len()
    }
}

/// When a change's invalidation may reach the client running the command.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Deliver {
    /// The client is running the command that caused it: after its reply.
    AfterReply,
    /// Now (before the command runs, or from cron).
    Now,
}

/// What an invalidation says: some keys, or all of them (a flush).
enum Payload<'a> {
    /// An encoded array of keys (the same bytes in RESP2 and RESP3).
    Keys(&'a [u8]),
    All,
}

/// `*1 $len key` for one key.
fn one_key(key: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(key.len() + 16);
    let mut out = Out::new(&mut v, Proto::Resp2);
    out.array(1);
    out.bulk(key);
    v
}

/// An array of the keys `exclude` did not change last (all keys for
/// None); None when that leaves no key.
fn encode_keys(keys: &BTreeMap<Bytes, Option<u64>>, exclude: Option<u64>) -> Option<Vec<u8>> {
    let kept = |m: &Option<u64>| exclude.is_none() || *m != exclude;
    let n = keys.values().filter(|m| kept(m)).count();
    if n == 0 {
        return None;
    }
    let mut v = Vec::with_capacity(n * 16);
    let mut out = Out::new(&mut v, Proto::Resp2);
    out.array(n);
    for (k, m) in keys {
        if kept(m) {
            out.bulk(k);
        }
    }
    Some(v)
}

/// The message `receiver` gets for `payload`; None when it can receive
/// none (RESP2 without a Pub/Sub redirect).
fn encode_for(receiver: &Client, redirected: bool, payload: &Payload<'_>) -> Option<Vec<u8>> {
    let mut v = Vec::new();
    let mut out = Out::new(&mut v, receiver.proto);
    if receiver.proto == Proto::Resp3 {
        out.push(2);
        out.bulk(b"invalidate");
    } else if redirected && receiver.subscriptions > 0 {
        out.push(3);
        out.bulk(b"message");
        out.bulk(INVALIDATE_CHANNEL);
    } else {
        return None;
    }
    match payload {
        Payload::Keys(k) => out.raw(k),
        Payload::All => out.null(),
    }
    Some(v)
}

/// The client `id`: the one running a command, or a registered one.
fn find<'a>(
    clients: &'a mut HashMap<u64, Box<Client>, foldhash::fast::RandomState>,
    cur: &'a mut Option<&mut Client>,
    id: u64,
) -> Option<(&'a mut Client, bool)> {
    match cur {
        Some(c) if c.id == id => Some((&mut **c, true)),
        _ => clients.get_mut(&id).map(|b| (&mut **b, false)),
    }
}

/// Appends `bytes` to a client's output. The running client keeps it
/// through CLIENT REPLY OFF/SKIP while its reply is being built (`span`);
/// another client is woken, and closed if over its output limit.
fn append(
    config: &Config,
    stats: &mut Stats,
    c: &mut Client,
    is_current: bool,
    span: bool,
    bytes: &[u8],
) {
    if is_current {
        if span {
            push_to_current(c, |out| out.raw(bytes));
        } else {
            c.out.extend_from_slice(bytes);
        }
        return;
    }
    c.out.extend_from_slice(bytes);
    enforce_limit(config, stats, c);
    c.wake.notify_one();
}

impl Engine {
    /// CLIENT TRACKING ON with checked options (Redis's enableTracking):
    /// a second ON keeps the mode, changes the redirect and flags, and
    /// adds prefixes.
    pub fn tracking_enable(&mut self, c: &mut Client, opts: TrackingOptions) {
        let t = &mut c.tracking;
        if !t.on {
            self.tracking.clients += 1;
        }
        t.on = true;
        t.broken_redirect = false;
        t.redirect = opts.redirect;
        t.bcast = opts.bcast;
        t.optin = opts.optin;
        t.optout = opts.optout;
        t.noloop = opts.noloop;
        if opts.bcast {
            let empty = [Bytes::new()];
            let prefixes = if opts.prefixes.is_empty() {
                &empty[..]
            } else {
                &opts.prefixes[..]
            };
            for p in prefixes {
                let entry = self.tracking.prefixes.entry(p.clone()).or_default();
                if entry.clients.insert(c.id) {
                    c.tracking.prefixes.insert(p.clone());
                }
            }
        }
    }

    /// CLIENT TRACKING OFF, RESET and disconnection (Redis's
    /// disableTracking). Table entries of the client are left to be
    /// dropped lazily, as Redis does, unless nobody tracks any more.
    pub fn tracking_disable(&mut self, c: &mut Client) {
        for p in std::mem::take(&mut c.tracking.prefixes) {
            if let Some(entry) = self.tracking.prefixes.get_mut(&p) {
                entry.clients.remove(&c.id);
                if entry.clients.is_empty() {
                    self.tracking.prefixes.remove(&p);
                }
            }
        }
        if c.tracking.on {
            self.tracking.clients -= 1;
            if self.tracking.clients == 0 {
                // Nobody can receive an invalidation: the table is dead weight.
                let table = std::mem::take(&mut self.tracking.table);
                let n = table.len();
                self.free_later(table, n);
                self.tracking.items = 0;
            }
        }
        c.tracking = ClientTracking::default();
    }

    /// After a read-only command of a tracking client in the default mode:
    /// remembers the keys it read (Redis's trackingRememberKeys).
    pub fn tracking_remember_keys(&mut self, c: &Client, spec: &CommandSpec, args: &[Bytes]) {
        let t = &c.tracking;
        if t.bcast || (t.optin && !t.caching) || (t.optout && t.caching) {
            return;
        }
        // Shard channels count as keys for cluster routing, not for caching.
        if spec.has(flags::PUBSUB) {
            return;
        }
        for pos in spec.key_positions(args) {
            let Some(key) = args.get(pos) else {
                continue;
            };
            let ids = match self.tracking.table.get_mut(&key[..]) {
                Some(ids) => ids,
                None => self
                    .tracking
                    .table
                    .entry(Bytes::copy_from_slice(key))
                    .or_default(),
            };
            if let Err(at) = ids.binary_search(&c.id) {
                ids.insert(at, c.id);
                self.tracking.items += 1;
            }
        }
    }

    /// A key changed (Redis's trackingInvalidateKey): queues it for the
    /// BCAST prefixes it matches when `bcast`, and invalidates it for the
    /// clients that may cache it. `modifier` is the client that changed it
    /// (None for expiry and table eviction), `cur` the client running a
    /// command, if any.
    pub fn tracking_invalidate(
        &mut self,
        mut cur: Option<&mut Client>,
        modifier: Option<u64>,
        key: &[u8],
        bcast: bool,
        deliver: Deliver,
    ) {
        if bcast && !self.tracking.prefixes.is_empty() {
            for (p, entry) in self.tracking.prefixes.iter_mut() {
                if key.starts_with(p) {
                    match entry.keys.get_mut(key) {
                        Some(m) => *m = modifier,
                        None => {
                            entry.keys.insert(Bytes::copy_from_slice(key), modifier);
                        }
                    }
                    self.tracking.bcast_due = true;
                    self.tracking.due = true;
                }
            }
        }
        let Some(ids) = self.tracking.table.remove(key) else {
            return;
        };
        self.tracking.items -= ids.len() as u64;
        let cur_id = cur.as_ref().map(|c| c.id);
        let mut payload: Option<Vec<u8>> = None;
        for id in ids {
            let Some((target, _)) = find(&mut self.clients, &mut cur, id) else {
                continue;
            };
            // A client that moved to BCAST since reading the key gets no
            // stale default-mode invalidations.
            if !target.tracking.on || target.tracking.bcast {
                continue;
            }
            let is_current = cur_id == Some(id);
            if target.tracking.noloop && is_current {
                continue;
            }
            if is_current && deliver == Deliver::AfterReply {
                self.tracking
                    .pending
                    .push((id, Some(Bytes::copy_from_slice(key))));
                self.tracking.due = true;
                continue;
            }
            let p = payload.get_or_insert_with(|| one_key(key));
            self.tracking_send(&mut cur, id, &Payload::Keys(p), true);
        }
    }

    /// FLUSHDB, FLUSHALL, SWAPDB, a replica's full sync: every tracking
    /// client is told that all its keys are invalid, and the table is
    /// emptied (Redis's trackingInvalidateKeysOnFlush). `cur`, the client
    /// running a command, hears it after its reply, once per command
    /// however many databases the command empties.
    pub fn tracking_flushed(&mut self, cur: Option<&mut Client>) {
        if self.tracking.clients == 0 {
            return;
        }
        if let Some(c) = &cur {
            if self.tracking.flush_announced {
                return;
            }
            self.tracking.flush_announced = true;
            self.tracking.due = true;
            if c.tracking.on {
                self.tracking.pending.push((c.id, None));
            }
        }
        let mut ids: Vec<u64> = self
            .clients
            .values()
            .filter(|o| o.tracking.on)
            .map(|o| o.id)
            .collect();
        ids.sort_unstable();
        let mut cur = cur;
        for id in ids {
            self.tracking_send(&mut cur, id, &Payload::All, true);
        }
        let table = std::mem::take(&mut self.tracking.table);
        let n = table.len();
        self.free_later(table, n);
        self.tracking.items = 0;
    }

    /// After a top-level command has replied (and after each command of a
    /// client served from a blocking wait): the invalidations held for the
    /// client that ran it, then the BCAST broadcasts.
    pub fn tracking_after_command(&mut self, c: &mut Client) {
        self.tracking.due = false;
        self.tracking.flush_announced = false;
        self.tracking_flush_pending(c);
        self.tracking_broadcast(Some(c));
    }

    /// Sends the invalidations held for the client that ran a command
    /// (Redis's trackingHandlePendingKeyInvalidations).
    pub fn tracking_flush_pending(&mut self, c: &mut Client) {
        if self.tracking.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.tracking.pending);
        let mut cur = Some(c);
        for (id, key) in pending {
            match key {
                Some(k) => {
                    let p = one_key(&k);
                    self.tracking_send(&mut cur, id, &Payload::Keys(&p), false);
                }
                None => self.tracking_send(&mut cur, id, &Payload::All, false),
            }
        }
    }

    /// Sends each BCAST prefix's collected keys to its subscribers, one
    /// message per prefix (Redis's trackingBroadcastInvalidationMessages).
    pub fn tracking_broadcast(&mut self, mut cur: Option<&mut Client>) {
        if !self.tracking.bcast_due {
            return;
        }
        self.tracking.bcast_due = false;
        let mut batches = Vec::new();
        for entry in self.tracking.prefixes.values_mut() {
            if !entry.keys.is_empty() {
                let keys = std::mem::take(&mut entry.keys);
                batches.push((entry.clients.iter().copied().collect::<Vec<u64>>(), keys));
            }
        }
        for (ids, keys) in batches {
            let all = encode_keys(&keys, None).unwrap_or_default();
            for id in ids {
                let noloop =
                    find(&mut self.clients, &mut cur, id).is_some_and(|(o, _)| o.tracking.noloop);
                if noloop {
                    if let Some(own) = encode_keys(&keys, Some(id)) {
                        self.tracking_send(&mut cur, id, &Payload::Keys(&own), false);
                    }
                } else {
                    self.tracking_send(&mut cur, id, &Payload::Keys(&all), false);
                }
            }
        }
    }

    /// Keeps the table within `tracking-table-max-keys` by invalidating
    /// keys as if they changed, trying harder each time it stays over
    /// (Redis's trackingLimitUsedSlots). Runs before commands and in cron.
    pub fn tracking_limit(&mut self, mut cur: Option<&mut Client>) {
        let max = self.config.tracking_table_max_keys;
        if max == 0 || self.tracking.table.len() <= max {
            self.tracking.limit_rounds = 0;
            return;
        }
        let effort = 100 * (self.tracking.limit_rounds + 1);
        let victims: Vec<Bytes> = self.tracking.table.keys().take(effort).cloned().collect();
        for key in victims {
            self.tracking_invalidate(cur.as_deref_mut(), None, &key, false, Deliver::Now);
            if self.tracking.table.len() <= max {
                self.tracking.limit_rounds = 0;
                return;
            }
        }
        self.tracking.limit_rounds += 1;
    }

    /// Cron: the table limit (a CONFIG SET may have lowered it while the
    /// server is idle) and the broadcasts of keys expired by the cycle.
    pub fn tracking_cron(&mut self) {
        if self.tracking.clients != 0 {
            self.tracking_limit(None);
        }
        self.tracking_broadcast(None);
    }

    /// Sends an invalidation for tracking client `id`, to it or to its
    /// redirect (Redis's sendTrackingMessage). `span`: the running client's
    /// reply is still being built.
    fn tracking_send(
        &mut self,
        cur: &mut Option<&mut Client>,
        id: u64,
        payload: &Payload<'_>,
        span: bool,
    ) {
        let Engine {
            clients,
            config,
            stats,
            ..
        } = self;
        let Some((target, target_is_cur)) = find(clients, cur, id) else {
            return;
        };
        let redirect = target.tracking.redirect;
        if redirect == 0 {
            if let Some(bytes) = encode_for(target, false, payload) {
                append(config, stats, target, target_is_cur, span, &bytes);
            }
            return;
        }
        if find(clients, cur, redirect).is_none() {
            let (t, is_cur) = find(clients, cur, id).expect("found above");
            t.tracking.broken_redirect = true;
            if t.proto == Proto::Resp3 {
                let mut v = Vec::new();
                let mut out = Out::new(&mut v, Proto::Resp3);
                out.push(2);
                out.bulk(b"tracking-redir-broken");
                out.int(redirect as i64);
                append(config, stats, t, is_cur, span, &v);
            }
            return;
        }
        let (r, is_cur) = find(clients, cur, redirect).expect("checked above");
        if let Some(bytes) = encode_for(r, true, payload) {
            append(config, stats, r, is_cur, span, &bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(pairs: &[(&str, Option<u64>)]) -> BTreeMap<Bytes, Option<u64>> {
        pairs
            .iter()
            .map(|(k, m)| (Bytes::copy_from_slice(k.as_bytes()), *m))
            .collect()
    }

    #[test]
    fn broadcast_payload_lists_keys_in_order_and_honours_noloop() {
        let k = keys(&[("b", Some(7)), ("a", None), ("c", Some(8))]);
        let all = encode_keys(&k, None).expect("keys");
        assert_eq!(all, b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
        let not7 = encode_keys(&k, Some(7)).expect("keys");
        assert_eq!(not7, b"*2\r\n$1\r\na\r\n$1\r\nc\r\n");
        let only7 = keys(&[("x", Some(7))]);
        assert_eq!(encode_keys(&only7, Some(7)), None);
    }

    #[test]
    fn messages_follow_the_receivers_protocol() {
        let mut c = Client::new(1, "a:1".into(), "b:2".into(), 7, true);
        let key = one_key(b"k");
        // RESP2 on its own connection: nothing can carry it.
        assert_eq!(encode_for(&c, false, &Payload::Keys(&key)), None);
        assert_eq!(encode_for(&c, true, &Payload::Keys(&key)), None);
        c.subscriptions = 1;
        assert_eq!(
            encode_for(&c, true, &Payload::All).expect("a message"),
            b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n"
        );
        c.proto = Proto::Resp3;
        assert_eq!(
            encode_for(&c, false, &Payload::Keys(&key)).expect("a push"),
            b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"
        );
        assert_eq!(
            encode_for(&c, true, &Payload::All).expect("a push"),
            b">2\r\n$10\r\ninvalidate\r\n_\r\n"
        );
    }
}
