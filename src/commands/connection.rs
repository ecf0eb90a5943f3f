//! Connection commands: PING ECHO QUIT RESET AUTH SELECT HELLO.

use bytes::Bytes;

use super::is;
use crate::dispatch::{acl, errors, flags as f, CommandSpec, Keys};
use crate::protocol::encode::Proto;
use crate::server::client::{Client, ReplyMode};
use crate::server::Engine;
use crate::util::num;

/// PING [message]
fn ping(_e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if args.len() > 2 {
        c.reply().error(&errors::wrong_arity("ping"));
        return;
    }
    if c.in_resp2_pubsub() {
        let mut out = c.reply();
        out.array(2);
        out.bulk(b"pong");
        out.bulk(args.get(1).map_or(&b""[..], |a| &a[..]));
        return;
    }
    match args.get(1) {
        Some(m) => c.reply().bulk(m),
        None => c.reply().simple("PONG"),
    }
}

/// ECHO message
fn echo(_e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    c.reply().bulk(&args[1]);
}

/// QUIT
fn quit(_e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    c.reply().ok();
    c.close_after_reply = true;
}

/// RESET
fn reset(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    c.multi = None;
    c.multi_error = false;
    e.unwatch_all(c);
    if c.monitor {
        c.monitor = false;
        e.monitors.retain(|&i| i != c.id);
    }
    e.pubsub_forget(c);
    e.tracking_disable(c);
    c.db = 0;
    c.proto = Proto::Resp2;
    c.name = None;
    c.reply_mode = ReplyMode::On;
    c.no_evict = false;
    c.authenticated = e.config.requirepass.is_none();
    c.reply().simple("RESET");
}

/// Checks a password for the default user (ACL users arrive later).
fn check_password(e: &Engine, user: &[u8], pass: &[u8]) -> bool {
    if user != b"default" {
        return false;
    }
    match &e.config.requirepass {
        None => true,
        Some(p) => p.as_slice() == pass,
    }
}

const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

/// AUTH [username] password
fn auth(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if args.len() > 3 {
        c.reply().error(errors::SYNTAX);
        return;
    }
    if args.len() == 2 && e.config.requirepass.is_none() {
        c.reply().error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
        return;
    }
    let (user, pass) = if args.len() == 3 {
        (&args[1][..], &args[2][..])
    } else {
        (&b"default"[..], &args[1][..])
    };
    if check_password(e, user, pass) {
        c.authenticated = true;
        c.reply().ok();
    } else {
        c.reply().error(WRONGPASS);
    }
}

/// SELECT index
fn select(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    match num::string2ll(&args[1]) {
        Some(n) if n >= i32::MIN as i64 && n <= i32::MAX as i64 => {
            if n < 0 || n as usize >= e.ks.dbs.len() {
                c.reply().error(errors::DB_INDEX);
            } else {
                c.db = n as usize;
                c.reply().ok();
            }
        }
        _ => c.reply().error(errors::INVALID_DB),
    }
}

/// Names the client as CLIENT SETNAME and HELLO SETNAME do (an empty name
/// removes it), or returns the error for a name with spaces, newlines or
/// special characters.
pub fn set_client_name(c: &mut Client, name: &Bytes) -> Result<(), &'static str> {
    if !name.iter().all(|&b| (b'!'..=b'~').contains(&b)) {
        return Err(BAD_CLIENT_NAME);
    }
    c.name = if name.is_empty() {
        None
    } else {
        Some(name.clone())
    };
    Ok(())
}

const BAD_CLIENT_NAME: &str =
    "ERR Client names cannot contain spaces, newlines or special characters.";

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
fn hello(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let mut ver = None;
    let mut next = 1;
    if args.len() >= 2 {
        match num::string2ll(&args[1]) {
            Some(v) => ver = Some(v),
            None => {
                c.reply()
                    .error("ERR Protocol version is not an integer or out of range");
                return;
            }
        }
        next = 2;
        if let Some(v) = ver {
            if !(2..=3).contains(&v) {
                c.reply().error("NOPROTO unsupported protocol version");
                return;
            }
        }
    }
    let mut auth: Option<(&[u8], &[u8])> = None;
    let mut setname: Option<&Bytes> = None;
    let mut j = next;
    while j < args.len() {
        let more = args.len() - j - 1;
        if is(&args[j], "auth") && more >= 2 {
            auth = Some((&args[j + 1], &args[j + 2]));
            j += 3;
        } else if is(&args[j], "setname") && more >= 1 {
            setname = Some(&args[j + 1]);
            j += 2;
        } else {
            c.reply().error(&format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(&args[j])
            ));
            return;
        }
    }
    if let Some((user, pass)) = auth {
        if !check_password(e, user, pass) {
            c.reply().error(WRONGPASS);
            return;
        }
        c.authenticated = true;
    }
    if !c.authenticated {
        c.reply().error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
        return;
    }
    if let Some(name) = setname {
        if let Err(msg) = set_client_name(c, name) {
            c.reply().error(msg);
            return;
        }
    }
    if let Some(v) = ver {
        c.proto = if v == 3 { Proto::Resp3 } else { Proto::Resp2 };
    }
    let id = c.id;
    let proto = if c.proto == Proto::Resp3 { 3 } else { 2 };
    let mut out = c.reply();
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(crate::REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(proto);
    out.bulk(b"id");
    out.int(id as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
}

const C: u64 = acl::CONNECTION;

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("ping", -1, f::FAST, C | acl::FAST, Keys::NONE, ping).group("connection"),
    CommandSpec::new("echo", 2, f::FAST, C | acl::FAST, Keys::NONE, echo).group("connection"),
    CommandSpec::new(
        "quit",
        -1,
        f::ALLOW_BUSY | f::NOSCRIPT | f::LOADING | f::STALE | f::FAST | f::NO_AUTH,
        C | acl::FAST,
        Keys::NONE,
        quit,
    )
    .group("connection"),
    CommandSpec::new(
        "reset",
        1,
        f::NOSCRIPT | f::LOADING | f::STALE | f::FAST | f::NO_AUTH | f::ALLOW_BUSY,
        C | acl::FAST,
        Keys::NONE,
        reset,
    )
    .group("connection"),
    CommandSpec::new(
        "auth",
        -2,
        f::NOSCRIPT | f::LOADING | f::STALE | f::FAST | f::NO_AUTH | f::ALLOW_BUSY,
        C | acl::FAST,
        Keys::NONE,
        auth,
    )
    .group("connection"),
    CommandSpec::new(
        "select",
        2,
        f::LOADING | f::STALE | f::FAST,
        C | acl::FAST,
        Keys::NONE,
        select,
    )
    .group("connection"),
    CommandSpec::new(
        "hello",
        -1,
        f::NOSCRIPT | f::LOADING | f::STALE | f::FAST | f::NO_AUTH | f::ALLOW_BUSY,
        C | acl::FAST,
        Keys::NONE,
        hello,
    )
    .group("connection"),
];
