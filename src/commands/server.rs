//! Server commands: SHUTDOWN, SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE, MONITOR,
//! TIME.
//!
//! The persistence work itself is the engine's (`server::persist`); these
//! handlers parse and reply as Redis's `rdb.c` / `server.c` commands do.

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
    let mut force = false;
    for a in &args[1..] {
        if is(a, "nosave") {
            save = ShutdownSave::NoSave;
        } else if is(a, "save") {
            save = ShutdownSave::Save;
        } else if is(a, "now") {
        } else if is(a, "force") {
            force = true;
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
        } else if e.abort_shutdown() {
            c.reply().ok();
        } else {
            c.reply().error("ERR No shutdown in progress.");
        }
        return;
    }
    tracing::info!("User requested shutdown...");
    // While loading, the dump on disk is the only complete copy: never
    // overwrite it with the partial dataset.
    if e.loading {
        save = ShutdownSave::NoSave;
    }
    if !e.prepare_shutdown(save, force) {
        c.reply()
            .error("ERR Errors trying to SHUTDOWN. Check logs.");
        return;
    }
    e.shutdown = Some(save);
    c.close_asap = true;
}

/// SAVE
fn save(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    if e.bgsave_running() {
        c.reply().error("ERR Background save already in progress");
        return;
    }
    e.persist.saves += 1;
    match e.rdb_save() {
        Ok(()) => c.reply().ok(),
        Err(()) => c.reply().error("ERR"),
    }
}

/// BGSAVE [SCHEDULE | CANCEL]
fn bgsave(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    // SCHEDULE only changes the answer while another kind of child (an
    // AOF rewrite) runs; until one exists it is just accepted.
    let schedule = args.len() == 2 && is(&args[1], "schedule");
    let cancel = args.len() == 2 && is(&args[1], "cancel");
    if args.len() > 2 || (args.len() == 2 && !schedule && !cancel) {
        c.reply().error(errors::SYNTAX);
        return;
    }
    if cancel {
        // Valkey's BGSAVE CANCEL: a running save stops, a scheduled one
        // is forgotten.
        if e.bgsave_running() {
            e.bgsave_cancel();
            c.reply().simple("Background saving cancelled");
        } else if e.persist.bgsave_scheduled {
            e.persist.bgsave_scheduled = false;
            c.reply().simple("Scheduled background saving cancelled");
        } else {
            c.reply()
                .error("ERR Background saving is currently not in progress or scheduled");
        }
        return;
    }
    // Inside EXEC the fork would split the transaction: run it afterwards.
    let in_exec = c.deny_blocking;
    if e.bgsave_running() {
        c.reply().error("ERR Background save already in progress");
    } else if e.child_active() && !schedule && !in_exec {
        c.reply().error("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
    } else if e.child_active() || in_exec {
        e.persist.bgsave_scheduled = true;
        c.reply().simple("Background saving scheduled");
    } else if e.bgsave_start().is_ok() {
        c.reply().simple("Background saving started");
    } else {
        c.reply().error("ERR");
    }
}

/// BGREWRITEAOF
fn bgrewriteaof(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    // Inside EXEC the fork would split the transaction: run it afterwards.
    match e.bgrewriteaof(c.deny_blocking) {
        Ok(status) => c.reply().simple(status),
        Err(msg) => c.reply().error(msg),
    }
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
        "save",
        1,
        f::ADMIN | f::NOSCRIPT | f::NO_ASYNC_LOADING | f::NO_MULTI,
        A,
        Keys::NONE,
        save,
    )
    .group("server"),
    CommandSpec::new(
        "bgsave",
        -1,
        f::ADMIN | f::NOSCRIPT | f::NO_ASYNC_LOADING,
        A,
        Keys::NONE,
        bgsave,
    )
    .group("server"),
    CommandSpec::new(
        "bgrewriteaof",
        1,
        f::ADMIN | f::NOSCRIPT | f::NO_ASYNC_LOADING,
        A,
        Keys::NONE,
        bgrewriteaof,
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
