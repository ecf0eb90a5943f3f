//! CLIENT: connection introspection and control (ID, LIST, INFO, KILL,
//! SETNAME, PAUSE, REPLY, ...).
//!
//! The client running a command is out of `Engine::clients` while it runs,
//! so every walk over "all clients" here adds the caller by hand.

use bytes::Bytes;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use super::connection::set_client_name;
use super::is;
use super::keys::reply_help;
use crate::dispatch::{acl, errors, flags as f, CommandSpec, Keys};
use crate::protocol::encode::Proto;
use crate::server::client::{Client, ClientKind, ReplyMode};
use crate::server::tracking::TrackingOptions;
use crate::server::{Engine, Pause};
use crate::util::num;

/// A client's type as CLIENT LIST TYPE and CLIENT KILL TYPE name it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ClientType {
    Normal,
    Replica,
    Primary,
    PubSub,
}

impl ClientType {
    fn from_name(name: &[u8]) -> Option<ClientType> {
        Some(match name.to_ascii_lowercase().as_slice() {
            b"normal" => ClientType::Normal,
            b"slave" | b"replica" => ClientType::Replica,
            b"master" => ClientType::Primary,
            b"pubsub" => ClientType::PubSub,
            _ => return None,
        })
    }

    /// Redis's getClientType: a MONITOR client counts as normal.
    fn of(c: &Client) -> ClientType {
        match c.kind {
            ClientKind::Primary => ClientType::Primary,
            ClientKind::Replica if !c.monitor => ClientType::Replica,
            _ if c.subscriptions > 0 || c.kind == ClientKind::PubSub => ClientType::PubSub,
            _ => ClientType::Normal,
        }
    }
}

fn unknown_type(name: &[u8]) -> String {
    format!(
        "ERR Unknown client type '{}'",
        String::from_utf8_lossy(name)
    )
}

/// `ERR unknown subcommand or wrong number of arguments for 'x'. Try CLIENT HELP.`
pub fn subcommand_syntax_error(args: &[Bytes]) -> String {
    let sub = String::from_utf8_lossy(&args[1]);
    let sub: String = sub.chars().take(128).collect();
    format!(
        "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {} HELP.",
        String::from_utf8_lossy(&args[0]).to_uppercase()
    )
}

/// The flags whose condition holds, in the table's order.
fn flags_on<T: Copy>(table: &[(bool, T)]) -> impl Iterator<Item = T> + '_ {
    table.iter().filter(|(on, _)| *on).map(|&(_, flag)| flag)
}

/// The flags letters of CLIENT LIST, in Redis's order.
fn flag_letters(c: &Client) -> String {
    let t = &c.tracking;
    let mut s: String = flags_on(&[
        (c.monitor, 'O'),
        (!c.monitor && c.kind == ClientKind::Replica, 'S'),
        (c.kind == ClientKind::Primary, 'M'),
        (c.subscriptions > 0 || c.kind == ClientKind::PubSub, 'P'),
        (c.multi.is_some(), 'x'),
        (c.blocked.is_some(), 'b'),
        (t.on, 't'),
        (t.broken_redirect, 'R'),
        (t.bcast, 'B'),
        (c.dirty_cas, 'd'),
        (c.close_after_reply, 'c'),
        (c.close_asap, 'A'),
        (c.no_evict, 'e'),
    ])
    .collect();
    if s.is_empty() {
        s.push('N');
    }
    s
}

/// Appends one CLIENT LIST line (without the newline) for `c`, in Redis
/// 7.0's catClientInfoString format. `current` is the argument vector when
/// `c` is the client running this command (its argv-mem and command).
fn cat_client_info(out: &mut String, e: &Engine, c: &Client, current: Option<&[Bytes]>) {
    let now = Instant::now();
    let age = now.saturating_duration_since(c.created).as_secs();
    let idle = now.saturating_duration_since(c.last_interaction).as_secs();
    let name = c
        .name
        .as_ref()
        .map(|n| String::from_utf8_lossy(n))
        .unwrap_or_default();
    let multi = c.multi.as_ref().map_or(-1, |q| q.len() as i64);
    let argv_mem: usize = current.map_or(0, |a| a.iter().map(|x| x.len()).sum());
    let multi_mem: usize = c.multi.as_ref().map_or(0, |q| {
        q.iter()
            .map(|(_, a)| {
                a.iter().map(|x| x.len()).sum::<usize>() + a.len() * std::mem::size_of::<usize>()
            })
            .sum()
    });
    let rbs = c.out.capacity();
    let tot_mem = std::mem::size_of::<Client>() + c.qbuf + c.qbuf_free + rbs + argv_mem + multi_mem;
    let cmd = c
        .cmd_index
        .map_or("NULL", |i| e.commands.rows[i].fullname.as_str());
    let resp = if c.proto == Proto::Resp3 { 3 } else { 2 };
    let (obl, oll, omem) = crate::server::pubsub::output_usage(c);
    let _ = write!(
        out,
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} \
         qbuf={} qbuf-free={} argv-mem={} multi-mem={} rbs={} rbp={} obl={} oll={} omem={} tot-mem={} \
         events=r cmd={} user={} redir={} resp={}",
        c.id,
        c.addr,
        c.laddr,
        c.fd,
        name,
        age,
        idle,
        flag_letters(c),
        c.db,
        c.pubsub.channels.len(),
        c.pubsub.patterns.len(),
        c.pubsub.shard_channels.len(),
        multi,
        c.qbuf,
        c.qbuf_free,
        argv_mem,
        multi_mem,
        rbs,
        c.out.len(),
        obl,
        oll,
        omem,
        tot_mem,
        cmd,
        c.user,
        redirect_id(c),
        resp,
    );
}

/// The ids of every client, the caller included, in creation order.
fn all_ids(e: &Engine, me: &Client) -> Vec<u64> {
    let mut ids: Vec<u64> = e
        .clients
        .keys()
        .copied()
        .chain(std::iter::once(me.id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// CLIENT ID
fn client_id(_e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    let id = c.id as i64;
    c.reply().int(id);
}

/// CLIENT INFO
fn client_info(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let mut s = String::new();
    cat_client_info(&mut s, e, c, Some(args));
    s.push('\n');
    c.reply().verbatim("txt", s.as_bytes());
}

/// CLIENT LIST [TYPE normal|master|replica|pubsub] [ID client-id [client-id ...]]
fn client_list(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let mut want_type = None;
    let mut want_ids: Option<Vec<u64>> = None;
    if args.len() == 4 && is(&args[2], "type") {
        match ClientType::from_name(&args[3]) {
            Some(t) => want_type = Some(t),
            None => {
                c.reply().error(&unknown_type(&args[3]));
                return;
            }
        }
    } else if args.len() > 3 && is(&args[2], "id") {
        let mut ids = Vec::with_capacity(args.len() - 3);
        for a in &args[3..] {
            match num::string2ll(a) {
                Some(n) => ids.push(n as u64),
                None => {
                    c.reply().error("ERR Invalid client ID");
                    return;
                }
            }
        }
        want_ids = Some(ids);
    } else if args.len() != 2 {
        c.reply().error(errors::SYNTAX);
        return;
    }
    let ids = want_ids.unwrap_or_else(|| all_ids(e, c));
    let mut s = String::with_capacity(256 * ids.len());
    for id in ids {
        let (other, current) = if id == c.id {
            (&*c, Some(args))
        } else {
            match e.clients.get(&id) {
                Some(o) => (&**o, None),
                None => continue,
            }
        };
        if want_type.is_some_and(|t| ClientType::of(other) != t) {
            continue;
        }
        cat_client_info(&mut s, e, other, current);
        s.push('\n');
    }
    c.reply().verbatim("txt", s.as_bytes());
}

/// Filters of CLIENT KILL's new form.
#[derive(Default)]
struct KillFilter<'a> {
    addr: Option<&'a [u8]>,
    laddr: Option<&'a [u8]>,
    kind: Option<ClientType>,
    id: Option<u64>,
    user: Option<&'a [u8]>,
}

impl KillFilter<'_> {
    fn matches(&self, c: &Client) -> bool {
        self.addr.is_none_or(|a| a == c.addr.as_bytes())
            && self.laddr.is_none_or(|a| a == c.laddr.as_bytes())
            && self.kind.is_none_or(|t| ClientType::of(c) == t)
            && self.id.is_none_or(|id| id == c.id)
            && self.user.is_none_or(|u| u == c.user.as_bytes())
    }
}

/// CLIENT KILL ip:port
/// CLIENT KILL [ID client-id] [TYPE normal|master|replica|pubsub] [USER username]
///             [ADDR ip:port] [LADDR ip:port] [SKIPME yes|no]
fn client_kill(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let old_form = args.len() == 3;
    let mut filter = KillFilter::default();
    // The old form may kill the caller; the new form skips it by default.
    let mut skipme = !old_form;
    if old_form {
        filter.addr = Some(&args[2]);
    } else {
        let mut i = 2;
        while i < args.len() {
            let Some(value) = args.get(i + 1) else {
                c.reply().error(errors::SYNTAX);
                return;
            };
            let opt = &args[i];
            if is(opt, "id") {
                match num::string2ll(value) {
                    Some(n) if n > 0 => filter.id = Some(n as u64),
                    _ => {
                        c.reply().error("ERR client-id should be greater than 0");
                        return;
                    }
                }
            } else if is(opt, "type") {
                match ClientType::from_name(value) {
                    Some(t) => filter.kind = Some(t),
                    None => {
                        c.reply().error(&unknown_type(value));
                        return;
                    }
                }
            } else if is(opt, "addr") {
                filter.addr = Some(value);
            } else if is(opt, "laddr") {
                filter.laddr = Some(value);
            } else if is(opt, "user") {
                // Only the default user exists until ACL users arrive.
                if &value[..] != b"default" {
                    c.reply().error(&format!(
                        "ERR No such user '{}'",
                        String::from_utf8_lossy(value)
                    ));
                    return;
                }
                filter.user = Some(value);
            } else if is(opt, "skipme") {
                if is(value, "yes") {
                    skipme = true;
                } else if is(value, "no") {
                    skipme = false;
                } else {
                    c.reply().error(errors::SYNTAX);
                    return;
                }
            } else {
                c.reply().error(errors::SYNTAX);
                return;
            }
            i += 2;
        }
    }

    let mut killed = 0i64;
    let mut close_me = false;
    for id in all_ids(e, c) {
        if id == c.id {
            if !skipme && filter.matches(c) {
                close_me = true;
                killed += 1;
            }
            continue;
        }
        let hit = e
            .clients
            .get(&id)
            .is_some_and(|o| is_killable(o) && filter.matches(o));
        if hit {
            if let Some(mut victim) = e.clients.remove(&id) {
                kill_client(e, &mut victim);
                killed += 1;
            }
        }
    }
    if old_form {
        if killed == 0 {
            c.reply().error("ERR No such client");
        } else {
            c.reply().ok();
        }
    } else {
        c.reply().int(killed);
    }
    // Flagged only after the reply is queued, so the caller still gets it.
    if close_me {
        c.close_after_reply = true;
    }
}

/// The in-process caller of the library API has no connection to close.
fn is_killable(c: &Client) -> bool {
    c.fd >= 0
}

/// Disconnects a client already taken out of `Engine::clients`: its
/// connection task finds it gone, drops the socket and exits.
fn kill_client(e: &mut Engine, victim: &mut Client) {
    victim.close_asap = true;
    victim.wake.notify_one();
    e.client_gone(victim);
}

/// CLIENT SETNAME connection-name
fn client_setname(_e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    match set_client_name(c, &args[2]) {
        Ok(()) => c.reply().ok(),
        Err(msg) => c.reply().error(msg),
    }
}

/// CLIENT GETNAME
fn client_getname(_e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    let name = c.name.clone();
    c.reply().bulk_opt(name.as_deref());
}

/// CLIENT PAUSE timeout [WRITE | ALL]
fn client_pause(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if args.len() > 4 {
        c.reply().error(&subcommand_syntax_error(args));
        return;
    }
    let mut all = true;
    if let Some(mode) = args.get(3) {
        if is(mode, "write") {
            all = false;
        } else if !is(mode, "all") {
            c.reply()
                .error("ERR CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    }
    let ms = match num::string2ll(&args[2]) {
        Some(n) if n < 0 => {
            c.reply().error(errors::TIMEOUT_NEGATIVE);
            return;
        }
        Some(n) => n as u64,
        None => {
            c.reply()
                .error("ERR timeout is not an integer or out of range");
            return;
        }
    };
    // Far-future deadlines are capped so Instant arithmetic cannot overflow.
    let ms = ms.min(100 * 365 * 24 * 3600 * 1000);
    let until = Instant::now() + Duration::from_millis(ms);
    // As Redis, a second pause never shortens or weakens the current one.
    e.pause = Some(match e.pause {
        Some(p) => Pause {
            until: p.until.max(until),
            all: p.all || all,
        },
        None => Pause { until, all },
    });
    c.reply().ok();
}

/// CLIENT UNPAUSE
fn client_unpause(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    e.pause = None;
    e.unpause_notify.notify_waiters();
    c.reply().ok();
}

/// CLIENT REPLY ON | OFF | SKIP
fn client_reply(_e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let mode = &args[2];
    if is(mode, "on") {
        c.reply_mode = ReplyMode::On;
        c.reply().ok();
    } else if is(mode, "off") {
        c.reply_mode = ReplyMode::Off;
    } else if is(mode, "skip") {
        if c.reply_mode != ReplyMode::Off {
            c.reply_mode = ReplyMode::SkipNext;
        }
    } else {
        c.reply().error(errors::SYNTAX);
    }
}

/// CLIENT NO-EVICT ON | OFF
fn client_no_evict(_e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if is(&args[2], "on") {
        c.no_evict = true;
    } else if is(&args[2], "off") {
        c.no_evict = false;
    } else {
        c.reply().error(errors::SYNTAX);
        return;
    }
    c.reply().ok();
}

/// CLIENT TRACKING ON|OFF [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]]
///                        [BCAST] [OPTIN] [OPTOUT] [NOLOOP]
fn client_tracking(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let mut opts = TrackingOptions::default();
    let mut j = 3;
    while j < args.len() {
        let a = &args[j];
        let more = j + 1 < args.len();
        if is(a, "redirect") && more {
            j += 1;
            if opts.redirect != 0 {
                c.reply()
                    .error("ERR A client can only redirect to a single other client");
                return;
            }
            let Some(id) = super::arg_i64(c, &args[j]) else {
                return;
            };
            // The target must exist now, even if it may leave later.
            let exists = u64::try_from(id)
                .is_ok_and(|id| id != 0 && (id == c.id || e.clients.contains_key(&id)));
            if !exists {
                c.reply()
                    .error("ERR The client ID you want redirect to does not exist");
                return;
            }
            opts.redirect = id as u64;
        } else if is(a, "bcast") {
            opts.bcast = true;
        } else if is(a, "optin") {
            opts.optin = true;
        } else if is(a, "optout") {
            opts.optout = true;
        } else if is(a, "noloop") {
            opts.noloop = true;
        } else if is(a, "prefix") && more {
            j += 1;
            opts.prefixes.push(args[j].clone());
        } else {
            c.reply().error(errors::SYNTAX);
            return;
        }
        j += 1;
    }
    if is(&args[2], "on") {
        if let Err(msg) = check_tracking_on(c, &opts) {
            c.reply().error(&msg);
            return;
        }
        e.tracking_enable(c, opts);
    } else if is(&args[2], "off") {
        e.tracking_disable(c);
    } else {
        c.reply().error(errors::SYNTAX);
        return;
    }
    c.reply().ok();
}

/// The checks of CLIENT TRACKING ON against its options and the client's
/// current mode, with Redis's messages.
fn check_tracking_on(c: &Client, opts: &TrackingOptions) -> Result<(), String> {
    let t = &c.tracking;
    if !opts.bcast && !opts.prefixes.is_empty() {
        return Err("ERR PREFIX option requires BCAST mode to be enabled".into());
    }
    if t.on && t.bcast != opts.bcast {
        return Err("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.".into());
    }
    if opts.bcast && (opts.optin || opts.optout) {
        return Err("ERR OPTIN and OPTOUT are not compatible with BCAST".into());
    }
    if opts.optin && opts.optout {
        return Err("ERR You can't specify both OPTIN mode and OPTOUT mode".into());
    }
    if (opts.optin && t.optout) || (opts.optout && t.optin) {
        return Err("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.".into());
    }
    if opts.bcast {
        check_prefix_collisions(&t.prefixes, &opts.prefixes)?;
    }
    Ok(())
}

/// Two prefixes of one client overlap when one starts the other: a key
/// would be announced twice.
fn check_prefix_collisions(
    existing: &std::collections::BTreeSet<Bytes>,
    new: &[Bytes],
) -> Result<(), String> {
    let overlap = |a: &[u8], b: &[u8]| {
        let n = a.len().min(b.len());
        a[..n] == b[..n]
    };
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    for (i, p) in new.iter().enumerate() {
        if let Some(old) = existing.iter().find(|old| overlap(old, p)) {
            return Err(format!(
                "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                text(p),
                text(old)
            ));
        }
        if let Some(other) = new[i + 1..].iter().find(|q| overlap(p, q)) {
            return Err(format!(
                "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                text(p),
                text(other)
            ));
        }
    }
    Ok(())
}

/// CLIENT CACHING YES | NO
fn client_caching(_e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if !c.tracking.on {
        c.reply().error(
            "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
        );
        return;
    }
    let opt = &args[2];
    if is(opt, "yes") {
        if !c.tracking.optin {
            c.reply().error(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            );
            return;
        }
    } else if is(opt, "no") {
        if !c.tracking.optout {
            c.reply().error(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            );
            return;
        }
    } else {
        c.reply().error(errors::SYNTAX);
        return;
    }
    c.tracking.caching = true;
    c.reply().ok();
}

/// The id invalidations go to (0: this connection), -1 with tracking off.
fn redirect_id(c: &Client) -> i64 {
    if c.tracking.on {
        c.tracking.redirect as i64
    } else {
        -1
    }
}

/// CLIENT GETREDIR
fn client_getredir(_e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    let id = redirect_id(c);
    c.reply().int(id);
}

/// CLIENT TRACKINGINFO
fn client_trackinginfo(_e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    let t = &c.tracking;
    let flags: Vec<&str> = flags_on(&[
        (t.on, "on"),
        (!t.on, "off"),
        (t.bcast, "bcast"),
        (t.optin, "optin"),
        (t.optin && t.caching, "caching-yes"),
        (t.optout, "optout"),
        (t.optout && t.caching, "caching-no"),
        (t.noloop, "noloop"),
        (t.broken_redirect, "broken_redirect"),
    ])
    .collect();
    let redirect = redirect_id(c);
    let prefixes: Vec<Bytes> = c.tracking.prefixes.iter().cloned().collect();
    let mut out = c.reply();
    out.map(3);
    out.bulk(b"flags");
    out.set(flags.len());
    for f in flags {
        out.bulk(f.as_bytes());
    }
    out.bulk(b"redirect");
    out.int(redirect);
    out.bulk(b"prefixes");
    out.array(prefixes.len());
    for p in &prefixes {
        out.bulk(p);
    }
}

/// CLIENT UNBLOCK client-id [TIMEOUT | ERROR]
fn client_unblock(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if args.len() > 4 {
        c.reply().error(&subcommand_syntax_error(args));
        return;
    }
    if let Some(reason) = args.get(3) {
        if !is(reason, "timeout") && !is(reason, "error") {
            c.reply()
                .error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    }
    let Some(id) = num::string2ll(&args[2]) else {
        c.reply().error(errors::NOT_INT);
        return;
    };
    let with_error = args.get(3).is_some_and(|r| is(r, "error"));
    let Some(mut target) = u64::try_from(id).ok().and_then(|id| e.clients.remove(&id)) else {
        c.reply().int(0);
        return;
    };
    let unblocked = if target.blocked.is_some() {
        if with_error {
            e.unblock_with_error(&mut target, "UNBLOCKED client unblocked via CLIENT UNBLOCK");
        } else {
            e.unblock_timed_out(&mut target);
            target.wake.notify_one();
        }
        1
    } else {
        0
    };
    e.clients.insert(target.id, target);
    c.reply().int(unblocked);
}

/// CLIENT HELP
fn client_help(_e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    reply_help(
        c,
        "client",
        &[
            "CACHING (YES|NO)",
            "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
            "GETREDIR",
            "    Return the client ID we are redirecting to when tracking is enabled.",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
            "         [OPTIN] [OPTOUT] [NOLOOP]",
            "    Control server assisted client side caching.",
            "TRACKINGINFO",
            "    Report tracking status for the current connection.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
        ],
    );
}

const BASE: u64 = f::NOSCRIPT | f::LOADING | f::STALE;
const ADMIN: u64 = f::ADMIN | BASE;
const C: u64 = acl::CONNECTION | acl::SLOW;
const CA: u64 = C | acl::ADMIN | acl::DANGEROUS;

const fn sub(
    name: &'static str,
    arity: i32,
    flags: u64,
    acl: u64,
    handler: crate::dispatch::Handler,
    since: &'static str,
) -> CommandSpec {
    CommandSpec::new(name, arity, flags, acl, Keys::NONE, handler)
        .group("connection")
        .since(since)
}

const CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    sub("caching", 3, BASE, C, client_caching, "6.0.0"),
    sub("getname", 2, BASE, C, client_getname, "2.6.9"),
    sub("getredir", 2, BASE, C, client_getredir, "6.0.0"),
    sub("help", 2, f::LOADING | f::STALE, C, client_help, "5.0.0"),
    sub("id", 2, BASE, C, client_id, "5.0.0"),
    sub("info", 2, BASE, C, client_info, "6.2.0"),
    sub("kill", -3, ADMIN, CA, client_kill, "2.4.0"),
    sub("list", -2, ADMIN, CA, client_list, "2.4.0"),
    sub("no-evict", 3, ADMIN, CA, client_no_evict, "7.0.0"),
    sub("pause", -3, ADMIN, CA, client_pause, "2.9.50"),
    sub("reply", 3, BASE, C, client_reply, "3.2.0"),
    sub("setname", 3, BASE, C, client_setname, "2.6.9"),
    sub("tracking", -3, BASE, C, client_tracking, "6.0.0"),
    sub("trackinginfo", 2, BASE, C, client_trackinginfo, "6.2.0"),
    sub("unblock", -3, ADMIN, CA, client_unblock, "5.0.0"),
    sub("unpause", 2, ADMIN, CA, client_unpause, "6.2.0"),
];

pub const COMMANDS: &[CommandSpec] = &[CommandSpec::container("client", -2, CLIENT_SUBCOMMANDS)
    .group("connection")
    .since("2.4.0")
    .summary("A container for client connection commands")];
