//! DUMP and RESTORE through the in-process API.

mod common;
use common::*;
use snapcache::Frame;

fn payload(f: Frame) -> Vec<u8> {
    match f {
        Frame::Bulk(b) => b.to_vec(),
        other => panic!("not a bulk: {other:?}"),
    }
}

/// DEBUG SET-SKIP-CHECKSUM-VALIDATION is process-wide: tests that use it
/// take turns.
static CHECKSUM_FLAG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn start_debug() -> snapcache::ServerHandle {
    snapcache::Server::builder()
        .port(0)
        .config("enable-debug-command", "yes")
        .start()
        .expect("server starts")
}

fn exec(s: &snapcache::ServerHandle, args: &[&[u8]]) -> Frame {
    s.execute(args).expect("engine running")
}

#[test]
fn dump_restore_every_type() {
    let s = start_debug();
    run(&s, &["SET", "str", "hello"]);
    run(&s, &["SET", "int", "12345"]);
    run(&s, &["RPUSH", "list", "a", "b", "c"]);
    run(&s, &["HSET", "hash", "f", "v", "g", "w"]);
    run(&s, &["SADD", "ints", "1", "2", "3"]);
    run(&s, &["SADD", "strs", "a", "b"]);
    run(&s, &["ZADD", "z", "1", "a", "-inf", "b", "2.5", "c"]);
    for key in ["str", "int", "list", "hash", "ints", "strs", "z"] {
        let before = run(&s, &["DEBUG", "DIGEST-VALUE", key]);
        let enc = run(&s, &["OBJECT", "ENCODING", key]);
        let p = payload(run(&s, &["DUMP", key]));
        run(&s, &["DEL", key]);
        assert_eq!(exec(&s, &[b"RESTORE", key.as_bytes(), b"0", &p]), ok());
        assert_eq!(run(&s, &["DEBUG", "DIGEST-VALUE", key]), before, "{key}");
        assert_eq!(run(&s, &["OBJECT", "ENCODING", key]), enc, "{key}");
        assert_eq!(run(&s, &["TTL", key]), int(-1));
    }
    assert_eq!(run(&s, &["DUMP", "missing"]), Frame::Null);
}

#[test]
fn restore_options_and_errors() {
    let _turn = CHECKSUM_FLAG.lock().unwrap_or_else(|e| e.into_inner());
    let s = start_debug();
    run(&s, &["SET", "foo", "bar"]);
    let p = payload(run(&s, &["DUMP", "foo"]));
    let r = |args: &[&[u8]]| exec(&s, args);
    assert_eq!(
        r(&[b"RESTORE", b"foo", b"0", &p]),
        err("BUSYKEY Target key name already exists.")
    );
    assert_eq!(
        r(&[b"RESTORE", b"foo", b"0", &p, b"bogus"]),
        err("ERR syntax error")
    );
    assert_eq!(
        r(&[b"RESTORE", b"new", b"-1", &p]),
        err("ERR Invalid TTL value, must be >= 0")
    );
    assert_eq!(
        r(&[b"RESTORE", b"new", b"x", &p]),
        err("ERR value is not an integer or out of range")
    );
    let mut bad = p.clone();
    let n = bad.len();
    bad[n - 1] ^= 0xff;
    assert_eq!(
        r(&[b"RESTORE", b"new", b"0", &bad]),
        err("ERR DUMP payload version or checksum are wrong")
    );
    assert_eq!(
        r(&[b"RESTORE", b"new", b"0", b"short"]),
        err("ERR DUMP payload version or checksum are wrong")
    );
    run(&s, &["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1"]);
    assert_eq!(
        r(&[b"RESTORE", b"new", b"0", b"\x0e\x01\x00\x0a\x00xxxxxxxx"]),
        err("ERR Bad data format")
    );
    run(&s, &["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0"]);
    assert_eq!(r(&[b"RESTORE", b"foo", b"5000", &p, b"REPLACE"]), ok());
    match run(&s, &["PTTL", "foo"]) {
        Frame::Integer(t) => assert!((4000..=5000).contains(&t), "{t}"),
        other => panic!("{other:?}"),
    }
    // An absolute deadline in the past deletes the replaced key.
    assert_eq!(
        r(&[b"RESTORE", b"foo", b"1", &p, b"REPLACE", b"ABSTTL"]),
        ok()
    );
    assert_eq!(run(&s, &["EXISTS", "foo"]), int(0));
    assert_eq!(
        r(&[b"RESTORE", b"foo", b"0", &p, b"IDLETIME", b"-1"]),
        err("ERR Invalid IDLETIME value, must be >= 0")
    );
    assert_eq!(
        r(&[b"RESTORE", b"foo", b"0", &p, b"FREQ", b"256"]),
        err("ERR Invalid FREQ value, must be >= 0 and <= 255")
    );
    assert_eq!(
        r(&[
            b"RESTORE",
            b"foo",
            b"0",
            &p,
            b"FREQ",
            b"1",
            b"IDLETIME",
            b"1"
        ]),
        err("ERR syntax error")
    );
    assert_eq!(
        r(&[b"RESTORE", b"foo", b"0", &p, b"IDLETIME", b"1000"]),
        ok()
    );
    match run(&s, &["OBJECT", "IDLETIME", "foo"]) {
        Frame::Integer(t) => assert!((1000..=1002).contains(&t), "{t}"),
        other => panic!("{other:?}"),
    }
    run(&s, &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
    assert_eq!(
        r(&[b"RESTORE", b"foo", b"0", &p, b"FREQ", b"100", b"REPLACE"]),
        ok()
    );
    assert_eq!(run(&s, &["OBJECT", "FREQ", "foo"]), int(100));
}

#[test]
fn restore_converts_to_configured_encodings() {
    let s = start_debug();
    let vals: Vec<String> = (0..10).map(|i| format!("f{i}")).collect();
    let mut args = vec!["HSET", "h"];
    for v in &vals {
        args.push(v);
        args.push(v);
    }
    run(&s, &args);
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "h"]), bulk("listpack"));
    let p = payload(run(&s, &["DUMP", "h"]));
    run(&s, &["CONFIG", "SET", "hash-max-listpack-entries", "4"]);
    assert_eq!(exec(&s, &[b"RESTORE", b"h2", b"0", &p]), ok());
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "h2"]), bulk("hashtable"));
    assert_eq!(run(&s, &["HLEN", "h2"]), int(10));
    assert_eq!(run(&s, &["HGET", "h2", "f7"]), bulk("f7"));
}

/// RESTOREs corrupted payloads without deep sanitization, then runs
/// commands of every family on whatever was accepted: the server must
/// answer them all (values accepted by the shallow checks stay usable).
#[test]
fn corrupted_restores_leave_usable_keys() {
    let _turn = CHECKSUM_FLAG.lock().unwrap_or_else(|e| e.into_inner());
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};
    let s = start_debug();
    run(&s, &["CONFIG", "SET", "sanitize-dump-payload", "no"]);
    run(&s, &["CONFIG", "SET", "hash-max-listpack-entries", "6"]);
    run(&s, &["CONFIG", "SET", "zset-max-listpack-entries", "6"]);
    run(&s, &["CONFIG", "SET", "set-max-intset-entries", "6"]);
    run(&s, &["CONFIG", "SET", "list-max-listpack-size", "4"]);
    run(&s, &["RPUSH", "l", "a", "b", "1", "2", "ccc", "-7"]);
    run(&s, &["HSET", "h", "f1", "v1", "f2", "2", "f3", "x"]);
    run(&s, &["SADD", "si", "1", "2", "3", "-100000"]);
    run(&s, &["SADD", "ss", "a", "b", "c"]);
    run(
        &s,
        &["ZADD", "z", "1", "a", "2.5", "b", "-inf", "c", "7", "d"],
    );
    let mut sources = Vec::new();
    for k in ["l", "h", "si", "ss", "z"] {
        sources.push(payload(run(&s, &["DUMP", k])));
    }
    run(&s, &["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1"]);
    let mut rng = SmallRng::seed_from_u64(42);
    let mut accepted = 0;
    let rounds: usize = std::env::var("RDB_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    for n in 0..1500 * rounds {
        let mut p = sources[n % sources.len()].clone();
        let body = p.len() - 10;
        for _ in 0..rng.gen_range(1..3) {
            let i = rng.gen_range(0..body);
            p[i] = rng.gen();
        }
        if exec(&s, &[b"RESTORE", b"k", b"0", &p, b"REPLACE"]) != ok() {
            continue;
        }
        accepted += 1;
        let cmds: &[&[&str]] = &[
            &["TYPE", "k"],
            &["OBJECT", "ENCODING", "k"],
            &["DEBUG", "DIGEST-VALUE", "k"],
            &["DUMP", "k"],
            &["LRANGE", "k", "0", "-1"],
            &["LINSERT", "k", "BEFORE", "b", "new"],
            &["LSET", "k", "1", "set"],
            &["RPUSH", "k", "x", "y", "z"],
            &["LPOP", "k", "2"],
            &["LREM", "k", "0", "a"],
            &["HGETALL", "k"],
            &["HSET", "k", "f9", "v9", "f1", "new"],
            &["HDEL", "k", "f2", "1"],
            &["HRANDFIELD", "k", "-5", "WITHVALUES"],
            &["SMEMBERS", "k"],
            &["SADD", "k", "5", "six", "7"],
            &["SREM", "k", "1", "a"],
            &["SPOP", "k", "2"],
            &["SRANDMEMBER", "k", "-5"],
            &["ZRANGE", "k", "0", "-1", "WITHSCORES"],
            &["ZRANGEBYSCORE", "k", "-inf", "+inf"],
            &["ZRANGEBYLEX", "k", "-", "+"],
            &["ZADD", "k", "3", "e", "0", "f", "1", "a"],
            &["ZREM", "k", "b"],
            &["ZRANK", "k", "c"],
            &["ZPOPMIN", "k"],
            &["ZREMRANGEBYRANK", "k", "0", "0"],
            &["SORT", "k", "ALPHA"],
            &["SCAN", "0"],
            &["DEL", "k"],
        ];
        for c in cmds {
            assert!(
                s.execute(c).is_ok(),
                "engine died on {c:?} after payload {p:?}"
            );
        }
    }
    run(&s, &["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0"]);
    assert!(accepted > 100, "{accepted} payloads accepted");
}
