//! DEBUG: the subcommands Redis's own test suite relies on.
//!
//! DEBUG is one command whose handler dispatches on its first argument, as
//! in Redis (so an unknown subcommand gets Redis's "unknown subcommand or
//! wrong number of arguments" error, not the container one). The dispatcher
//! refuses it unless `enable-debug-command` allows the client.
//!
//! # Digests
//!
//! DEBUG DIGEST and DIGEST-VALUE are computed exactly as Redis 7.0 does, so a
//! dataset can be compared with one held by real Redis:
//!
//! * `xor(d, data)`: `d ^= SHA1(data)`, for unordered things;
//! * `mix(d, data)`: `d = SHA1(d ^ SHA1(data))`, for ordered things;
//! * per key: `k = 0; mix(k, key); mix(k, be32(type)); <value>;
//!   if it has a TTL, xor(k, "!!expire!!")` (the deadline itself is not
//!   hashed);
//! * dataset: for every non-empty db, `mix(final, be32(db index))`, then
//!   `xor(final, k)` for each key, logically expired keys included.
//!
//! `<value>` per type (see [`mix_value`]): string `mix(k, bytes)`; list
//! `mix(k, elem)` in order; set `xor(k, member)`; hash and zset, per element
//! `x = 0; mix(x, field); mix(x, value-or-score-%.17g); xor(k, x)`; stream
//! `mix(k, "ms.seq")` then `mix` of each field and value.

use bytes::Bytes;
use sha1::{Digest, Sha1};
use std::time::Duration;

use super::client::subcommand_syntax_error;
use super::is;
use super::keys::reply_help;
use crate::dispatch::{acl, errors, flags as f, CommandSpec, Keys};
use crate::keyspace::{now_ms, Entry, SBytes, Value};
use crate::server::client::Client;
use crate::server::Engine;
use crate::util::num;

/// A 20-byte SHA1-based digest accumulator.
type Sum = [u8; 20];

fn sha1(data: &[u8]) -> Sum {
    Sha1::digest(data).into()
}

/// `d ^= SHA1(data)`: order-independent accumulation.
fn xor_digest(d: &mut Sum, data: &[u8]) {
    for (a, b) in d.iter_mut().zip(sha1(data)) {
        *a ^= b;
    }
}

/// `d = SHA1(d ^ SHA1(data))`: order-dependent accumulation.
fn mix_digest(d: &mut Sum, data: &[u8]) {
    xor_digest(d, data);
    *d = sha1(d);
}

fn hex(d: &Sum) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Redis's object type codes (OBJ_STRING, OBJ_LIST, ...) as hashed.
fn type_code(v: &Value) -> u32 {
    use crate::keyspace::Kind;
    match v.kind() {
        Kind::String => 0,
        Kind::List => 1,
        Kind::Set => 2,
        Kind::ZSet => 3,
        Kind::Hash => 4,
        Kind::Stream => 6,
    }
}

/// Mixes a value's contents into `d` (Redis's xorObjectDigest body).
/// Each new type adds its arm here following the rules in the module docs.
fn mix_value(d: &mut Sum, v: &Value) {
    match v {
        Value::Int(_) | Value::Str(_) | Value::Raw(_) => {
            if let Some(mut s) = v.str_ref() {
                s.with(|b| mix_digest(d, b));
            }
        }
        Value::List(l) => {
            for el in l.iter() {
                el.with_bytes(|b| mix_digest(d, b));
            }
        }
        Value::Set(s) => {
            for m in s.iter() {
                m.with(|b| xor_digest(d, b));
            }
        }
        Value::Hash(h) => {
            for (k, v) in h.iter() {
                let mut x: Sum = [0; 20];
                k.with_bytes(|b| mix_digest(&mut x, b));
                v.with_bytes(|b| mix_digest(&mut x, b));
                xor_digest(d, &x);
            }
        }
        Value::ZSet(z) => z.for_each(|m, score| {
            let mut x: Sum = [0; 20];
            mix_digest(&mut x, m);
            mix_digest(&mut x, crate::protocol::format_double(score).as_bytes());
            xor_digest(d, &x);
        }),
        // Entries only, as Redis: consumer groups are not hashed.
        Value::Stream(s) => s.walk(
            crate::keyspace::stream::StreamId::MIN,
            crate::keyspace::stream::StreamId::MAX,
            false,
            false,
            |en| {
                mix_digest(d, format!("{}.{}", en.id.ms, en.id.seq).as_bytes());
                for (f, v) in &en.fields {
                    f.with_bytes(|b| mix_digest(d, b));
                    v.with_bytes(|b| mix_digest(d, b));
                }
                true
            },
        ),
    }
}

/// The digest of one value (DEBUG DIGEST-VALUE), into `d`.
fn object_digest(d: &mut Sum, e: &Entry) {
    mix_digest(d, &type_code(&e.value).to_be_bytes());
    mix_value(d, &e.value);
    if e.has_ttl() {
        xor_digest(d, b"!!expire!!");
    }
}

/// The digest of every key in every database (DEBUG DIGEST).
pub fn dataset_digest(e: &Engine) -> String {
    keyspace_digest(&e.ks)
}

/// DEBUG DIGEST of a keyspace (also [`crate::keyspace::Keyspace::digest`]).
pub fn keyspace_digest(ks: &crate::keyspace::Keyspace) -> String {
    let mut total: Sum = [0; 20];
    for (i, db) in ks.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        mix_digest(&mut total, &(i as u32).to_be_bytes());
        for entry in db.iter() {
            let mut k: Sum = [0; 20];
            mix_digest(&mut k, &entry.key);
            object_digest(&mut k, entry);
            xor_digest(&mut total, &k);
        }
    }
    hex(&total)
}

/// serializedlength of DEBUG OBJECT: the value's RDB encoding without the
/// type byte (Redis's rdbSavedObjectLen), compressed as `rdbcompression`.
fn serialized_len(v: &Value, compress: bool) -> usize {
    crate::persistence::rdb::serialized_len(v, compress)
}

/// DEBUG OBJECT key
/// DEBUG HTSTATS-KEY key: the hash table statistics of a set's
/// `hashtable` encoding (Redis's dictGetStats text). Other values are not
/// kept in a chained dict here, so they get Redis's error for a value
/// without a hash table.
fn debug_htstats_key(e: &mut Engine, c: &mut Client, key: &[u8]) {
    let Some(entry) = e.ks.dbs[c.db].get_raw(key) else {
        c.reply().error(errors::NO_SUCH_KEY);
        return;
    };
    match entry.value.as_set().and_then(|s| s.htstats()) {
        Some(text) => c.reply().verbatim("txt", text.as_bytes()),
        None => c.reply().error(
            "ERR The value stored at the specified key is not represented using an hash table",
        ),
    }
}

fn debug_object(e: &mut Engine, c: &mut Client, key: &[u8]) {
    let shared_ok = !(e.config.maxmemory_policy.is_lfu() || e.config.maxmemory_policy.is_lru());
    let Some(entry) = e.ks.dbs[c.db].get_raw(key) else {
        c.reply().error(errors::NO_SUCH_KEY);
        return;
    };
    let shared = matches!(entry.value, Value::Int(n) if (0..10_000).contains(&n)) && shared_ok;
    let line = format!(
        "Value at:{:p} refcount:{} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
        &entry.value,
        if shared { i32::MAX } else { 1 },
        entry.value.encoding(),
        serialized_len(&entry.value, e.config.rdbcompression),
        entry.clock(),
        entry.idle_secs(),
    );
    c.reply().simple(&line);
}

/// DEBUG POPULATE count [prefix] [size]: adds `prefix:N` = `value:N` (or
/// that text zero-padded/cut to `size` bytes) for N in 0..count, skipping
/// keys that exist. Used to fill millions of keys, so it formats in place.
fn debug_populate(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let Some(count) = positive(c, &args[2]) else {
        return;
    };
    let size = match args.get(4) {
        Some(a) => match positive(c, a) {
            Some(n) => n as usize,
            None => return,
        },
        None => 0,
    };
    let prefix: &[u8] = args.get(3).map_or(b"key", |a| &a[..]);
    let dbi = c.db;
    let now = now_ms();
    let mode = e.expire_mode();
    let mut key = Vec::with_capacity(prefix.len() + 21);
    let mut val = Vec::with_capacity(size.max(32));
    let mut num = itoa::Buffer::new();
    for j in 0..count as u64 {
        let digits = num.format(j).as_bytes();
        key.clear();
        key.extend_from_slice(prefix);
        key.push(b':');
        key.extend_from_slice(digits);
        let db = &mut e.ks.dbs[dbi];
        if db.exists(&key, now, mode) {
            continue;
        }
        val.clear();
        val.extend_from_slice(b"value:");
        val.extend_from_slice(digits);
        if size > 0 {
            val.resize(size, 0);
        }
        let value = Value::Str(SBytes::new(&val));
        if db.get_raw(&key).is_some() {
            // An expired key hidden during CLIENT PAUSE: replace it.
            db.set(&key, value, false);
        } else {
            db.add(SBytes::new(&key), value);
        }
        if !e.watched.is_empty() || e.tracking.clients != 0 {
            e.touch_key(c, dbi, &key);
        }
    }
    c.reply().ok();
}

/// Redis's getPositiveLongFromObjectOrReply (zero included): one error
/// for a negative number and for a non-number alike.
fn positive(c: &mut Client, a: &[u8]) -> Option<i64> {
    match num::string2ll(a) {
        Some(n) if n >= 0 => Some(n),
        _ => {
            c.reply()
                .error("ERR value is out of range, must be positive");
            None
        }
    }
}

/// C's atoi: the leading integer, 0 when there is none.
fn atoi(a: &[u8]) -> i64 {
    let s = std::str::from_utf8(a).unwrap_or("").trim_start();
    let end = s
        .char_indices()
        .find(|&(i, ch)| !(ch.is_ascii_digit() || (i == 0 && (ch == '-' || ch == '+'))))
        .map_or(s.len(), |(i, _)| i);
    s[..end].parse().unwrap_or(0)
}

/// DEBUG PROTOCOL type: one test value of each RESP3 type.
// 3.141 is Redis's test value, not an approximation of pi.
#[allow(clippy::approx_constant)]
fn debug_protocol(c: &mut Client, name: &[u8]) {
    let resp3 = c.reply().is_resp3();
    let mut out = c.reply();
    if is(name, "string") {
        out.bulk(b"Hello World");
    } else if is(name, "integer") {
        out.int(12345);
    } else if is(name, "double") {
        out.double(3.141);
    } else if is(name, "bignum") {
        out.big_number("1234567999999999999999999999999999999");
    } else if is(name, "null") {
        out.null();
    } else if is(name, "array") {
        out.array(3);
        (0..3).for_each(|j| out.int(j));
    } else if is(name, "set") {
        out.set(3);
        (0..3).for_each(|j| out.int(j));
    } else if is(name, "map") {
        out.map(3);
        for j in 0..3 {
            out.int(j);
            out.boolean(j == 1);
        }
    } else if is(name, "attrib") {
        // An attribute is not a reply of its own: a normal reply follows it.
        if resp3 {
            out.raw(b"|1\r\n");
            out.bulk(b"key-popularity");
            out.array(2);
            out.bulk(b"key:123");
            out.int(90);
        }
        out.bulk(b"Some real reply following the attribute");
    } else if is(name, "push") {
        if !resp3 {
            out.error("ERR RESP2 is not supported by this command");
            return;
        }
        out.push(2);
        out.bulk(b"server-cpu-usage");
        out.int(42);
        out.bulk(b"Some real reply following the push reply");
    } else if is(name, "true") {
        out.boolean(true);
    } else if is(name, "false") {
        out.boolean(false);
    } else if is(name, "verbatim") {
        out.verbatim("txt", b"This is a verbatim\nstring");
    } else {
        out.error("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false");
    }
}

/// DEBUG LISTPACK key / DEBUG QUICKLIST key [0|1]
fn debug_encoding_dump(e: &mut Engine, c: &mut Client, key: &[u8], want: &str) {
    let dbi = c.db;
    let mode = e.expire_mode();
    let Some(entry) = e.ks.dbs[dbi].peek(key, now_ms(), mode) else {
        c.reply().error(errors::NO_SUCH_KEY);
        return;
    };
    let enc = entry.value.encoding();
    if enc != want {
        c.reply()
            .error(&format!("ERR Not a {want} encoded object."));
        return;
    }
    // Redis prints the structure on stdout; ours goes to the log.
    tracing::info!("DEBUG {}: {:?}", want.to_uppercase(), entry.value);
    let what = if want == "listpack" {
        "Listpack"
    } else {
        "Quicklist"
    };
    c.reply()
        .simple(&format!("{what} structure printed on stdout"));
}

/// A quick fuzz run of the glob matcher, as Redis's stringmatchlen test.
fn stringmatch_fuzz(e: &mut Engine) {
    use rand::Rng;
    const CHARS: &[u8] = b"ab*?[]\\^-";
    for _ in 0..100_000 {
        let plen = e.rng.gen_range(0..32);
        let slen = e.rng.gen_range(0..32);
        let pat: Vec<u8> = (0..plen)
            .map(|_| CHARS[e.rng.gen_range(0..CHARS.len())])
            .collect();
        let s: Vec<u8> = (0..slen)
            .map(|_| CHARS[e.rng.gen_range(0..CHARS.len())])
            .collect();
        let _ = crate::util::glob::string_match(&pat, &s, false);
    }
}

/// Subcommands Redis has that cannot or need not run here.
const UNSUPPORTED: &[&str] = &[
    "segfault",
    "panic",
    "assert",
    "oom",
    "leak",
    "restart",
    "crash-and-recover",
];

/// DEBUG subcommand [argument ...]
fn debug(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let sub = &args[1];
    let argc = args.len();
    if argc == 2 && is(sub, "help") {
        debug_help(c);
    } else if let Some(name) = UNSUPPORTED.iter().find(|n| is(sub, n)) {
        c.reply().error(&format!(
            "ERR DEBUG {} is not supported by this server",
            name.to_uppercase()
        ));
    } else if is(sub, "reload") {
        debug_reload(e, c, args);
    } else if is(sub, "loadaof") {
        e.debug_loadaof(c);
        c.reply().ok();
    } else if is(sub, "log") && argc == 3 {
        tracing::warn!("DEBUG LOG: {}", String::from_utf8_lossy(&args[2]));
        c.reply().ok();
    } else if is(sub, "object") && argc == 3 {
        debug_object(e, c, &args[2]);
    } else if is(sub, "htstats-key") && argc == 3 {
        debug_htstats_key(e, c, &args[2]);
    } else if is(sub, "listpack") && argc == 3 {
        debug_encoding_dump(e, c, &args[2], "listpack");
    } else if is(sub, "quicklist") && (argc == 3 || argc == 4) {
        debug_encoding_dump(e, c, &args[2], "quicklist");
    } else if is(sub, "populate") && (3..=5).contains(&argc) {
        debug_populate(e, c, args);
    } else if is(sub, "digest") && argc == 2 {
        let d = dataset_digest(e);
        c.reply().simple(&d);
    } else if is(sub, "digest-value") {
        let digests: Vec<String> = args[2..]
            .iter()
            .map(|k| {
                // Logically expired keys count too, as in Redis.
                let mut d: Sum = [0; 20];
                if let Some(entry) = e.ks.dbs[c.db].get_raw(k) {
                    object_digest(&mut d, entry);
                }
                hex(&d)
            })
            .collect();
        let mut out = c.reply();
        out.array(digests.len());
        for d in &digests {
            out.simple(d);
        }
    } else if is(sub, "protocol") && argc == 3 {
        debug_protocol(c, &args[2]);
    } else if is(sub, "sleep") && argc == 3 {
        // Blocks the engine thread on purpose: that is what tests use it for.
        let secs = num::parse_f64(&args[2]).unwrap_or(0.0);
        if secs > 0.0 && secs.is_finite() {
            std::thread::sleep(Duration::from_secs_f64(secs));
        }
        c.reply().ok();
    } else if is(sub, "set-active-expire") && argc == 3 {
        e.active_expire = atoi(&args[2]) != 0;
        c.reply().ok();
    } else if is(sub, "quicklist-packed-threshold") && argc == 3 {
        match num::memtoull(&args[2]) {
            Some(n) if n <= (1u64 << 32) - (1 << 20) => {
                e.quicklist_packed_threshold = if n == 0 { 1 << 30 } else { n };
                crate::keyspace::list::set_packed_threshold(n);
                c.reply().ok();
            }
            _ => c
                .reply()
                .error("ERR argument must be a memory value bigger than 1 and smaller than 4gb"),
        }
    } else if is(sub, "set-skip-checksum-validation") && argc == 3 {
        crate::persistence::rdb::set_skip_checksum_validation(atoi(&args[2]) != 0);
        c.reply().ok();
    } else if is(sub, "aof-flush-sleep") && argc == 3 {
        e.aof.flush_sleep_us = u64::try_from(atoi(&args[2])).unwrap_or(0);
        c.reply().ok();
    } else if (is(sub, "set-disable-deny-scripts") || is(sub, "dict-resizing")) && argc == 3 {
        // Knobs of subsystems that do not exist yet (RDB loading, AOF,
        // scripting): accepted so test setups run.
        c.reply().ok();
    } else if is(sub, "pause-cron") && argc == 3 {
        e.pause_cron = atoi(&args[2]) != 0;
        c.reply().ok();
    } else if is(sub, "replybuffer") && argc == 4 {
        // Reply buffers are plain vectors that shrink after big replies: no
        // peak tracking or resizing job to tune.
        if is(&args[2], "peak-reset-time") {
            if !is(&args[3], "never")
                && !is(&args[3], "reset")
                && num::string2ll(&args[3]).is_none()
            {
                c.reply().error(errors::NOT_INT);
                return;
            }
        } else if !is(&args[2], "resizing") {
            c.reply().error(&subcommand_syntax_error(args));
            return;
        }
        c.reply().ok();
    } else if is(sub, "error") && argc == 3 {
        let msg = String::from_utf8_lossy(&args[2]).into_owned();
        c.reply().error(&msg);
    } else if is(sub, "change-repl-id") && argc == 2 {
        tracing::warn!("Changing replication IDs after receiving DEBUG change-repl-id");
        // Redis's changeReplicationId + clearReplicationId2.
        e.repl.replid = crate::server::random_hex(40);
        e.clear_replid2();
        c.reply().ok();
    } else if is(sub, "stringmatch-test") && argc == 2 {
        stringmatch_fuzz(e);
        c.reply()
            .simple("Apparently Redis did not crash: test passed");
    } else {
        c.reply().error(&subcommand_syntax_error(args));
    }
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]
fn debug_reload(e: &mut Engine, c: &mut Client, args: &[Bytes]) {
    let (mut save, mut flush, mut merge) = (true, true, false);
    for opt in &args[2..] {
        if is(opt, "merge") {
            merge = true;
        } else if is(opt, "noflush") {
            flush = false;
        } else if is(opt, "nosave") {
            save = false;
        } else {
            c.reply()
                .error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
            return;
        }
    }
    match e.debug_reload(c, save, flush, merge) {
        Ok(()) => c.reply().ok(),
        Err(msg) => c.reply().error(&msg),
    }
}

/// DEBUG HELP: the subcommands this server supports.
fn debug_help(c: &mut Client) {
    reply_help(
        c,
        "debug",
        &[
            "CHANGE-REPL-ID",
            "    Change the replication IDs of the instance.",
            "    Dangerous: should be used only for testing the replication subsystem.",
            "DIGEST",
            "    Output a hex signature representing the current DB content.",
            "DIGEST-VALUE <key> [<key> ...]",
            "    Output a hex signature of the values of all the specified keys.",
            "ERROR <string>",
            "    Return a Redis protocol error with <string> as message. Useful for clients",
            "    unit tests to simulate Redis errors.",
            "HTSTATS-KEY <key>",
            "    Like HTSTATS but for the hash table stored at <key>'s value.",
            "LOG <message>",
            "    Write <message> to the server log.",
            "OBJECT <key>",
            "    Show low level info about `key` and associated value.",
            "POPULATE <count> [<prefix>] [<size>]",
            "    Create <count> string keys named key:<num>. If <prefix> is specified then",
            "    it is used instead of the 'key' prefix. These are not propagated to",
            "    replicas. Cluster slots are not respected so keys not belonging to the",
            "    current node can be created in cluster mode.",
            "PROTOCOL <type>",
            "    Reply with a test value of the specified type. <type> can be: string,",
            "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
            "    true, false.",
            "RELOAD [option ...]",
            "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
            "    * MERGE: conflicting keys will be loaded from RDB.",
            "    * NOFLUSH: the existing database will not be removed before load;",
            "      without MERGE, a conflicting key makes the command fail.",
            "    * NOSAVE: the database will be loaded from an existing RDB file.",
            "    Examples:",
            "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
            "      the database.",
            "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
            "      existing RDB file.",
            "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
            "      file to the database.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background when they are not",
            "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
            "    default.",
            "QUICKLIST-PACKED-THRESHOLD <size>",
            "    Sets the threshold for elements to be inserted as plain vs packed nodes",
            "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
            "STRINGMATCH-TEST",
            "    Run a fuzz tester against the stringmatchlen() function.",
            "LISTPACK <key>",
            "    Show low level info about the listpack encoding of <key>.",
            "QUICKLIST <key> [<0|1>]",
            "    Show low level info about the quicklist encoding of <key>.",
            "    The optional argument (0 by default) sets the level of detail",
            "PAUSE-CRON <0|1>",
            "    Stop periodic cron job processing.",
            "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
            "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
            "    In case NEVER is provided the last observed peak will never be reset",
            "    In case RESET is provided the peak reset time will be restored to the default value",
            "REPLYBUFFER RESIZING <0|1>",
            "    Enable or disable the reply buffer resize cron job",
        ],
    );
}

pub const COMMANDS: &[CommandSpec] = &[CommandSpec::new(
    "debug",
    -2,
    f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE | f::PROTECTED,
    acl::ADMIN | acl::SLOW | acl::DANGEROUS,
    Keys::NONE,
    debug,
)
.group("server")
.summary("A container for debugging commands")];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_digest_is_zero() {
        assert_eq!(hex(&[0; 20]), "0".repeat(40));
    }

    #[test]
    fn atoi_reads_leading_integer() {
        assert_eq!(atoi(b"1"), 1);
        assert_eq!(atoi(b"0"), 0);
        assert_eq!(atoi(b"12abc"), 12);
        assert_eq!(atoi(b"-3"), -3);
        assert_eq!(atoi(b"yes"), 0);
    }

    #[test]
    fn serialized_len_follows_rdb_string_encoding() {
        assert_eq!(serialized_len(&Value::string(b"1"), true), 2);
        assert_eq!(serialized_len(&Value::string(b"1000"), true), 3);
        assert_eq!(serialized_len(&Value::string(b"100000"), true), 5);
        assert_eq!(serialized_len(&Value::string(b"12345678901"), true), 12);
        assert_eq!(serialized_len(&Value::string(b"hello"), true), 6);
        // 100 'a's compress: LZF marker, two lengths, 9 bytes of data.
        assert_eq!(serialized_len(&Value::string(&[b'a'; 100]), true), 13);
        assert_eq!(serialized_len(&Value::string(&[b'a'; 100]), false), 102);
    }
}
