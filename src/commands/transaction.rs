//! MULTI / EXEC / DISCARD / WATCH / UNWATCH.

use bytes::Bytes;

use crate::dispatch::{self, acl, errors, flags as f, CommandSpec, Keys};
use crate::server::client::Client;
use crate::server::Engine;

/// MULTI
fn multi(_e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    if c.multi.is_some() {
        c.reply().error("ERR MULTI calls can not be nested");
        return;
    }
    c.multi = Some(Vec::new());
    c.multi_error = false;
    c.reply().ok();
}

fn discard_transaction(e: &mut Engine, c: &mut Client) {
    c.multi = None;
    c.multi_error = false;
    e.unwatch_all(c);
}

/// DISCARD
fn discard(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    if c.multi.is_none() {
        c.reply().error("ERR DISCARD without MULTI");
        return;
    }
    discard_transaction(e, c);
    c.reply().ok();
}

/// EXEC
fn exec(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    if c.multi.is_none() {
        c.reply().error("ERR EXEC without MULTI");
        return;
    }
    if e.watched_key_expired(c) {
        c.dirty_cas = true;
    }
    if c.multi_error {
        c.reply().error(errors::EXECABORT);
        discard_transaction(e, c);
        return;
    }
    if c.dirty_cas {
        c.reply().null_array();
        discard_transaction(e, c);
        return;
    }
    let queued = c.multi.take().unwrap_or_default();
    e.unwatch_all(c);
    c.reply().array(queued.len());
    c.deny_blocking = true;
    for (idx, args) in queued {
        // The gates that can change between queueing and EXEC. As in
        // Redis, OOM is judged once, before EXEC runs (from the flags of
        // the queued commands): memory a queued command frees or uses does
        // not change the fate of the next.
        let spec = e.commands.rows[idx].spec;
        if spec.has(f::WRITE) && e.persistence_error() {
            c.reply().error(errors::MISCONF);
            continue;
        }
        dispatch::call(e, c, idx, &args);
    }
    c.deny_blocking = false;
    c.multi_error = false;
}

/// WATCH key [key ...]
fn watch(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if c.multi.is_some() {
        c.reply().error("ERR WATCH inside MULTI is not allowed");
        return;
    }
    // A client already flagged dirty need not watch more keys.
    if !c.dirty_cas {
        let dbi = c.db;
        for key in &args[1..] {
            e.watch(c, dbi, key);
        }
    }
    c.reply().ok();
}

/// UNWATCH
fn unwatch(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    e.unwatch_all(c);
    c.reply().ok();
}

const T: u64 = acl::TRANSACTION;

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "multi",
        1,
        f::NOSCRIPT | f::LOADING | f::STALE | f::FAST | f::ALLOW_BUSY,
        T | acl::FAST,
        Keys::NONE,
        multi,
    )
    .group("transactions"),
    CommandSpec::new(
        "exec",
        1,
        f::NOSCRIPT | f::LOADING | f::STALE | f::SKIP_SLOWLOG,
        T | acl::SLOW,
        Keys::NONE,
        exec,
    )
    .group("transactions"),
    CommandSpec::new(
        "discard",
        1,
        f::NOSCRIPT | f::LOADING | f::STALE | f::FAST | f::ALLOW_BUSY,
        T | acl::FAST,
        Keys::NONE,
        discard,
    )
    .group("transactions"),
    CommandSpec::new(
        "watch",
        -2,
        f::NOSCRIPT | f::LOADING | f::STALE | f::FAST | f::ALLOW_BUSY,
        T | acl::FAST,
        Keys::ALL,
        watch,
    )
    .group("transactions"),
    CommandSpec::new(
        "unwatch",
        1,
        f::NOSCRIPT | f::LOADING | f::STALE | f::FAST | f::ALLOW_BUSY,
        T | acl::FAST,
        Keys::NONE,
        unwatch,
    )
    .group("transactions"),
];
