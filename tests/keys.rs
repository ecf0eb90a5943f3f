//! Generic key commands and expiry through the in-process API.

mod common;
use common::*;
use snapcache::Frame;

#[test]
fn del_exists_type_rename() {
    let s = start();
    run(&s, &["MSET", "a", "1", "b", "2"]);
    assert_eq!(run(&s, &["EXISTS", "a", "a", "zz"]), int(2));
    assert_eq!(run(&s, &["TYPE", "a"]), Frame::Simple("string".into()));
    assert_eq!(run(&s, &["TYPE", "zz"]), Frame::Simple("none".into()));
    assert_eq!(run(&s, &["RENAME", "zz", "q"]), err("ERR no such key"));
    assert_eq!(run(&s, &["RENAMENX", "a", "b"]), int(0));
    assert_eq!(run(&s, &["RENAME", "a", "c"]), ok());
    assert_eq!(run(&s, &["GET", "c"]), bulk("1"));
    assert_eq!(run(&s, &["DEL", "b", "c", "zz"]), int(2));
    assert_eq!(run(&s, &["DBSIZE"]), int(0));
}

#[test]
fn expire_family_and_options() {
    let s = start();
    run(&s, &["SET", "k", "v"]);
    assert_eq!(run(&s, &["TTL", "k"]), int(-1));
    assert_eq!(run(&s, &["TTL", "nokey"]), int(-2));
    assert_eq!(run(&s, &["EXPIRE", "k", "100", "XX"]), int(0));
    assert_eq!(run(&s, &["EXPIRE", "k", "100", "NX"]), int(1));
    assert_eq!(run(&s, &["EXPIRE", "k", "50", "GT"]), int(0));
    assert_eq!(run(&s, &["EXPIRE", "k", "200", "GT"]), int(1));
    assert_eq!(run(&s, &["TTL", "k"]), int(200));
    assert_eq!(
        run(&s, &["EXPIRE", "k", "10", "NX", "XX"]),
        err("ERR NX and XX, GT or LT options at the same time are not compatible")
    );
    assert_eq!(
        run(&s, &["EXPIRE", "k", "10", "GT", "LT"]),
        err("ERR GT and LT options at the same time are not compatible")
    );
    assert_eq!(
        run(&s, &["EXPIRE", "k", "10", "FOO"]),
        err("ERR Unsupported option FOO")
    );
    assert_eq!(
        run(&s, &["EXPIRE", "k", "9223372036854775807"]),
        err("ERR invalid expire time in 'expire' command")
    );
    assert_eq!(run(&s, &["PEXPIREAT", "k", "4102444800000"]), int(1));
    assert_eq!(run(&s, &["PEXPIRETIME", "k"]), int(4102444800000));
    assert_eq!(run(&s, &["EXPIRETIME", "k"]), int(4102444800));
    assert_eq!(run(&s, &["PERSIST", "k"]), int(1));
    assert_eq!(run(&s, &["PERSIST", "k"]), int(0));
    // A deadline in the past deletes the key at once.
    assert_eq!(run(&s, &["EXPIRE", "k", "-1"]), int(1));
    assert_eq!(run(&s, &["EXISTS", "k"]), int(0));
}

#[test]
fn select_move_copy_swapdb() {
    let s = start();
    run(&s, &["SET", "k", "v"]);
    assert_eq!(run(&s, &["MOVE", "k", "1"]), int(1));
    assert_eq!(run(&s, &["MOVE", "k", "1"]), int(0));
    assert_eq!(
        run(&s, &["MOVE", "k", "99"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(run(&s, &["SELECT", "1"]), ok());
    assert_eq!(run(&s, &["GET", "k"]), bulk("v"));
    assert_eq!(
        run(&s, &["COPY", "k", "k"]),
        err("ERR source and destination objects are the same")
    );
    assert_eq!(run(&s, &["COPY", "k", "k", "DB", "0"]), int(1));
    assert_eq!(run(&s, &["SWAPDB", "0", "1"]), ok());
    assert_eq!(run(&s, &["DBSIZE"]), int(1));
    assert_eq!(run(&s, &["SELECT", "0"]), ok());
    assert_eq!(run(&s, &["DBSIZE"]), int(1));
    assert_eq!(run(&s, &["SELECT", "x"]), err("ERR invalid DB index"));
    assert_eq!(
        run(&s, &["SWAPDB", "a", "1"]),
        err("ERR invalid first DB index")
    );
    assert_eq!(run(&s, &["FLUSHALL", "ASYNC"]), ok());
    assert_eq!(run(&s, &["FLUSHALL", "BAD"]), err("ERR syntax error"));
    assert_eq!(run(&s, &["DBSIZE"]), int(0));
}

#[test]
fn scan_visits_every_key_exactly_once() {
    let s = start();
    for i in 0..2000 {
        run(&s, &["SET", &format!("key:{i}"), "v"]);
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let Frame::Array(parts) = run(&s, &["SCAN", &cursor, "COUNT", "37"]) else {
            panic!("scan reply is an array");
        };
        let Frame::Bulk(next) = &parts[0] else {
            panic!("cursor is a bulk")
        };
        let Frame::Array(keys) = &parts[1] else {
            panic!("keys are an array")
        };
        for k in keys {
            let Frame::Bulk(k) = k else {
                panic!("key is a bulk")
            };
            assert!(seen.insert(k.clone()), "key returned twice");
        }
        cursor = String::from_utf8(next.to_vec()).unwrap();
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 2000);
    assert_eq!(run(&s, &["SCAN", "x"]), err("ERR invalid cursor"));
    assert_eq!(
        run(&s, &["SCAN", "0", "COUNT", "0"]),
        err("ERR syntax error")
    );
    let Frame::Array(parts) = run(&s, &["SCAN", "0", "MATCH", "key:1999", "COUNT", "100000"])
    else {
        panic!()
    };
    assert_eq!(parts[1], arr(vec![bulk("key:1999")]));
}

#[test]
fn keys_and_randomkey() {
    let s = start();
    assert_eq!(run(&s, &["RANDOMKEY"]), Frame::Null);
    run(&s, &["MSET", "foo_a", "1", "foo_b", "2", "bar", "3"]);
    let Frame::Array(mut keys) = run(&s, &["KEYS", "foo*"]) else {
        panic!()
    };
    keys.sort_by_key(|k| format!("{k:?}"));
    assert_eq!(keys, vec![bulk("foo_a"), bulk("foo_b")]);
    assert_eq!(run(&s, &["KEYS", "b?r"]), arr(vec![bulk("bar")]));
}

#[test]
fn multi_exec_watch() {
    let s = start();
    assert_eq!(run(&s, &["MULTI"]), ok());
    assert_eq!(
        run(&s, &["MULTI"]),
        err("ERR MULTI calls can not be nested")
    );
    assert_eq!(run(&s, &["SET", "a", "1"]), Frame::Simple("QUEUED".into()));
    assert_eq!(run(&s, &["INCR", "a"]), Frame::Simple("QUEUED".into()));
    assert_eq!(run(&s, &["EXEC"]), arr(vec![ok(), int(2)]));
    assert_eq!(run(&s, &["EXEC"]), err("ERR EXEC without MULTI"));
    // A queueing error aborts the transaction.
    run(&s, &["MULTI"]);
    assert_eq!(
        run(&s, &["NOSUCHCMD"]),
        err("ERR unknown command 'NOSUCHCMD', with args beginning with: ")
    );
    assert_eq!(
        run(&s, &["EXEC"]),
        err("EXECABORT Transaction discarded because of previous errors.")
    );
    // WATCH then a change by the same client fails EXEC.
    assert_eq!(run(&s, &["WATCH", "a"]), ok());
    run(&s, &["SET", "a", "5"]);
    run(&s, &["MULTI"]);
    run(&s, &["GET", "a"]);
    assert_eq!(run(&s, &["EXEC"]), Frame::NullArray);
    // After EXEC nothing is watched any more.
    run(&s, &["MULTI"]);
    run(&s, &["GET", "a"]);
    assert_eq!(run(&s, &["EXEC"]), arr(vec![bulk("5")]));
}
