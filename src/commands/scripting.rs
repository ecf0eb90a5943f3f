//! Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT.
//!
//! The interpreter and the script cache are the engine's
//! (`server::scripting`); these handlers parse and reply as Redis's
//! `eval.c` does.

use bytes::Bytes;

use super::introspection::reply_help;
use super::is;
use crate::dispatch::{acl, flags as f, numkeys_keys, CommandSpec, Keys};
use crate::server::client::Client;
use crate::server::scripting::NOSCRIPT;
use crate::server::Engine;

/// The keys of EVAL-family requests: numkeys at 2, keys after it.
fn eval_keys(args: &[Bytes]) -> Vec<usize> {
    numkeys_keys(args, 2, None)
}

/// EVAL / EVALSHA / EVAL_RO / EVALSHA_RO script numkeys [key ...] [arg ...]
fn eval_generic(e: &mut Engine, c: &mut Client, args: &[Bytes], evalsha: bool, ro: bool) {
    if evalsha && args[1].len() != 40 {
        c.reply().error(NOSCRIPT);
        return;
    }
    let Some(numkeys) = super::arg_i64(c, &args[2]) else {
        return;
    };
    let room = (args.len() - 3) as i64;
    if numkeys > room {
        c.reply()
            .error("ERR Number of keys can't be greater than number of args");
        return;
    }
    if numkeys < 0 {
        c.reply().error("ERR Number of keys can't be negative");
        return;
    }
    let sha = if evalsha {
        let sha = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
        if !e.script_exists(sha.as_bytes()) {
            c.reply().error(NOSCRIPT);
            return;
        }
        sha
    } else {
        match e.script_create(&args[1]) {
            Ok(sha) => sha,
            Err(msg) => {
                c.reply().error(&msg);
                return;
            }
        }
    };
    e.script_run(c, &sha, args, numkeys as usize, ro);
}

fn eval(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    eval_generic(e, c, args, false, false);
}

fn evalsha(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    eval_generic(e, c, args, true, false);
}

fn eval_ro(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    eval_generic(e, c, args, false, true);
}

fn evalsha_ro(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    eval_generic(e, c, args, true, true);
}

/// SCRIPT LOAD script
fn script_load(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    match e.script_create(&args[2]) {
        Ok(sha) => c.reply().bulk(sha.as_bytes()),
        Err(msg) => c.reply().error(&msg),
    }
}

/// SCRIPT EXISTS sha1 [sha1 ...]
fn script_exists(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let found: Vec<bool> = args[2..].iter().map(|s| e.script_exists(s)).collect();
    let mut out = c.reply();
    out.array(found.len());
    for x in found {
        out.int(x as i64);
    }
}

/// SCRIPT FLUSH [ASYNC | SYNC]
fn script_flush(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let ok =
        args.len() == 2 || (args.len() == 3 && (is(&args[2], "sync") || is(&args[2], "async")));
    if !ok {
        c.reply()
            .error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
        return;
    }
    e.script_flush();
    c.reply().ok();
}

/// SCRIPT KILL
fn script_kill(e: &mut Engine, c: &mut Client, _args: &[Bytes]) {
    match e.script_kill() {
        Ok(()) => c.reply().ok(),
        Err(msg) => c.reply().error(&msg),
    }
}

/// SCRIPT DEBUG YES | SYNC | NO: there is no debugger.
fn script_debug(_e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    if is(&args[2], "no") {
        c.reply().ok();
    } else if is(&args[2], "yes") || is(&args[2], "sync") {
        c.reply()
            .error("ERR SCRIPT DEBUG is not supported by this server");
    } else {
        c.reply().error("ERR Use SCRIPT DEBUG YES/SYNC/NO");
    }
}

/// SCRIPT HELP
fn script_help(_e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    reply_help(
        c,
        &args[0],
        &[
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    );
}

const S: u64 = acl::SCRIPTING;
const EVAL_FLAGS: u64 = f::NOSCRIPT
    | f::SKIP_MONITOR
    | f::MAY_REPLICATE
    | f::NO_MANDATORY_KEYS
    | f::STALE
    | f::MOVABLE_KEYS;
const EVAL_RO_FLAGS: u64 =
    f::NOSCRIPT | f::SKIP_MONITOR | f::NO_MANDATORY_KEYS | f::STALE | f::READONLY | f::MOVABLE_KEYS;

const SCRIPT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "debug",
        3,
        f::NOSCRIPT,
        S | acl::SLOW,
        Keys::NONE,
        script_debug,
    )
    .group("scripting")
    .since("3.2.0")
    .summary("Set the debug mode for executed scripts."),
    CommandSpec::new(
        "exists",
        -3,
        f::NOSCRIPT,
        S | acl::SLOW,
        Keys::NONE,
        script_exists,
    )
    .group("scripting")
    .since("2.6.0")
    .summary("Check existence of scripts in the script cache."),
    CommandSpec::new(
        "flush",
        -2,
        f::NOSCRIPT,
        S | acl::SLOW,
        Keys::NONE,
        script_flush,
    )
    .group("scripting")
    .since("2.6.0")
    .summary("Remove all the scripts from the script cache."),
    CommandSpec::new(
        "help",
        2,
        f::LOADING | f::STALE,
        S | acl::SLOW,
        Keys::NONE,
        script_help,
    )
    .group("scripting")
    .since("5.0.0")
    .summary("Show helpful text about the different subcommands"),
    CommandSpec::new(
        "kill",
        2,
        f::NOSCRIPT | f::ALLOW_BUSY,
        S | acl::SLOW,
        Keys::NONE,
        script_kill,
    )
    .group("scripting")
    .since("2.6.0")
    .summary("Kill the script currently in execution."),
    CommandSpec::new(
        "load",
        3,
        f::NOSCRIPT | f::STALE,
        S | acl::SLOW,
        Keys::NONE,
        script_load,
    )
    .group("scripting")
    .since("2.6.0")
    .summary("Load the specified Lua script into the script cache."),
];

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("eval", -3, EVAL_FLAGS, S | acl::SLOW, Keys::NONE, eval)
        .group("scripting")
        .since("2.6.0")
        .summary("Execute a Lua script server side")
        .keys_fn(eval_keys),
    CommandSpec::new(
        "evalsha",
        -3,
        EVAL_FLAGS,
        S | acl::SLOW,
        Keys::NONE,
        evalsha,
    )
    .group("scripting")
    .since("2.6.0")
    .summary("Execute a Lua script server side")
    .keys_fn(eval_keys),
    CommandSpec::new(
        "eval_ro",
        -3,
        EVAL_RO_FLAGS,
        S | acl::SLOW,
        Keys::NONE,
        eval_ro,
    )
    .group("scripting")
    .since("7.0.0")
    .summary("Execute a read-only Lua script server side")
    .keys_fn(eval_keys),
    CommandSpec::new(
        "evalsha_ro",
        -3,
        EVAL_RO_FLAGS,
        S | acl::SLOW,
        Keys::NONE,
        evalsha_ro,
    )
    .group("scripting")
    .since("7.0.0")
    .summary("Execute a read-only Lua script server side")
    .keys_fn(eval_keys),
    CommandSpec::container("script", -2, SCRIPT_SUBCOMMANDS)
        .group("scripting")
        .since("2.6.0")
        .summary("A container for Lua scripts management commands"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eval_keys_follow_numkeys() {
        let a: Vec<Bytes> = ["eval", "s", "2", "k1", "k2", "a"]
            .iter()
            .map(|s| Bytes::from(*s))
            .collect();
        assert_eq!(eval_keys(&a), vec![3, 4]);
        let bad: Vec<Bytes> = ["eval", "s", "-1", "k1"]
            .iter()
            .map(|s| Bytes::from(*s))
            .collect();
        assert_eq!(eval_keys(&bad), Vec::<usize>::new());
    }
}
