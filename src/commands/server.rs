//! Server commands: SHUTDOWN, MONITOR, TIME, LASTSAVE.

use bytes::Bytes;

use super::is;
use crate::dispatch::{acl, errors, flags as f, CommandSpec, Keys};
use crate::keyspace::now_us;
use crate::server::client::Client;
use crate::server::{Engine, ShutdownSave};

/// SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]
fn shutdown(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let mut save = ShutdownSave::Default;
    let mut abort = false;
    for a in &args[1..] {
        if is(a, "nosave") {
            save = ShutdownSave::NoSave;
        } else if is(a, "save") {
            save = ShutdownSave::Save;
        } else if is(a, "now") || is(a, "force") {
        } else if is(a, "abort") {
            abort = true;
        } else {
            c.reply().error(errors::SYNTAX);
            return;
        }
    }
    if abort {
        if args.len() != 2 {
            c.reply().error(errors::SYNTAX);
        } else {
            c.reply().error("ERR No shutdown in progress.");
        }
        return;
    }
    tracing::info!("User requested shutdown...");
    e.shutdown = Some(save);
    c.close_asap = true;
}

/// MONITOR
fn monitor(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    if c.monitor {
        return;
    }
    c.monitor = true;
    e.monitors.push(c.id);
    c.reply().ok();
}

/// TIME
fn time(_e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    let us = now_us();
    let mut out = c.reply();
    out.array(2);
    out.bulk((us / 1_000_000).to_string().as_bytes());
    out.bulk((us % 1_000_000).to_string().as_bytes());
}

/// LASTSAVE
fn lastsave(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    c.reply().int(e.last_save_ms / 1000);
}

const A: u64 = acl::ADMIN | acl::SLOW | acl::DANGEROUS;

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "shutdown",
        -1,
        f::ADMIN
            | f::NOSCRIPT
            | f::LOADING
            | f::STALE
            | f::NO_MULTI
            | f::SKIP_SLOWLOG
            | f::ALLOW_BUSY,
        A,
        Keys::NONE,
        shutdown,
    )
    .group("server"),
    CommandSpec::new(
        "monitor",
        1,
        f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
        A,
        Keys::NONE,
        monitor,
    )
    .group("server"),
    CommandSpec::new(
        "time",
        1,
        f::LOADING | f::STALE | f::FAST,
        acl::FAST,
        Keys::NONE,
        time,
    )
    .group("server"),
    CommandSpec::new(
        "lastsave",
        1,
        f::LOADING | f::STALE | f::FAST,
        acl::ADMIN | acl::FAST | acl::DANGEROUS,
        Keys::NONE,
        lastsave,
    )
    .group("server"),
];
