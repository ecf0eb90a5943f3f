//! Set commands through the in-process API, with exact replies.

mod common;
use common::*;
use snapcache::Frame;

/// The members of an array reply, sorted.
fn sorted(f: Frame) -> Vec<String> {
    let Frame::Array(items) = f else {
        panic!("not an array: {f:?}");
    };
    let mut v: Vec<String> = items
        .into_iter()
        .map(|i| match i {
            Frame::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
            other => panic!("not a bulk: {other:?}"),
        })
        .collect();
    v.sort();
    v
}

fn strs(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn intset_converts_to_hashtable_and_never_back() {
    let s = start();
    assert_eq!(run(&s, &["SADD", "s", "3", "1", "2", "1"]), int(3));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "s"]), bulk("intset"));
    assert_eq!(
        run(&s, &["SMEMBERS", "s"]),
        arr(vec![bulk("1"), bulk("2"), bulk("3")])
    );
    // A non-canonical integer is a string member.
    assert_eq!(run(&s, &["SADD", "s", "01"]), int(1));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "s"]), bulk("hashtable"));
    assert_eq!(run(&s, &["SREM", "s", "01"]), int(1));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "s"]), bulk("hashtable"));
    assert_eq!(run(&s, &["SISMEMBER", "s", "2"]), int(1));

    // Past set-max-intset-entries.
    assert_eq!(
        run(&s, &["CONFIG", "SET", "set-max-intset-entries", "3"]),
        ok()
    );
    assert_eq!(run(&s, &["SADD", "t", "1", "2", "3"]), int(3));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "t"]), bulk("intset"));
    assert_eq!(run(&s, &["SADD", "t", "4"]), int(1));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "t"]), bulk("hashtable"));
    // Wide integers upgrade the intset without converting it.
    assert_eq!(run(&s, &["SADD", "w", "1", "-9223372036854775808"]), int(2));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "w"]), bulk("intset"));
    assert_eq!(run(&s, &["SISMEMBER", "w", "-9223372036854775808"]), int(1));
    assert_eq!(run(&s, &["SISMEMBER", "w", "9223372036854775808"]), int(0));
}

#[test]
fn srem_deletes_empty_sets_and_wrongtype() {
    let s = start();
    run(&s, &["SADD", "s", "a", "b"]);
    assert_eq!(run(&s, &["SREM", "s", "a", "a", "b", "c"]), int(2));
    assert_eq!(run(&s, &["EXISTS", "s"]), int(0));
    assert_eq!(run(&s, &["SREM", "s", "a"]), int(0));
    run(&s, &["SET", "str", "x"]);
    let wt = err("WRONGTYPE Operation against a key holding the wrong kind of value");
    assert_eq!(run(&s, &["SADD", "str", "a"]), wt);
    assert_eq!(run(&s, &["SMISMEMBER", "str", "a"]), wt);
    assert_eq!(run(&s, &["SINTER", "nokey", "str"]), wt);
    assert_eq!(
        run(&s, &["SMISMEMBER", "nokey", "a", "b"]),
        arr(vec![int(0), int(0)])
    );
}

#[test]
fn hostile_counts() {
    let s = start();
    run(&s, &["SADD", "s", "a", "b", "c"]);
    assert_eq!(
        run(&s, &["SPOP", "s", "-1"]),
        err("ERR value is out of range, must be positive")
    );
    assert_eq!(
        run(&s, &["SPOP", "s", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(run(&s, &["SPOP", "s", "1", "2"]), err("ERR syntax error"));
    assert_eq!(
        run(&s, &["SRANDMEMBER", "s", "-9223372036854775808"]),
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
    // A huge positive count returns the whole set, allocating nothing big.
    assert_eq!(
        sorted(run(&s, &["SRANDMEMBER", "s", "9223372036854775807"])),
        strs(&["a", "b", "c"])
    );
    assert_eq!(run(&s, &["SRANDMEMBER", "s", "0"]), arr(vec![]));
    assert_eq!(run(&s, &["SRANDMEMBER", "nokey", "5"]), arr(vec![]));
    let Frame::Array(rep) = run(&s, &["SRANDMEMBER", "s", "-7"]) else {
        panic!()
    };
    assert_eq!(rep.len(), 7);
    assert_eq!(
        sorted(run(&s, &["SPOP", "s", "9999999999"])),
        strs(&["a", "b", "c"])
    );
    assert_eq!(run(&s, &["EXISTS", "s"]), int(0));
    assert_eq!(run(&s, &["SPOP", "s", "3"]), arr(vec![]));
    assert_eq!(run(&s, &["SPOP", "s"]), Frame::Null);
    assert_eq!(
        run(&s, &["SSCAN", "s", "0", "COUNT", "0"]),
        arr(vec![bulk("0"), arr(vec![])])
    );
    run(&s, &["SADD", "s", "a"]);
    assert_eq!(
        run(&s, &["SSCAN", "s", "0", "COUNT", "0"]),
        err("ERR syntax error")
    );
    assert_eq!(run(&s, &["SSCAN", "s", "x"]), err("ERR invalid cursor"));
    assert_eq!(
        run(&s, &["SSCAN", "s", "0", "COUNT", "99999999999"]),
        arr(vec![bulk("0"), arr(vec![bulk("a")])])
    );
}

#[test]
fn spop_strategies_keep_every_member_once() {
    let s = start();
    for (count, left) in [(2, 18), (18, 2)] {
        run(&s, &["DEL", "s"]);
        let members: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
        let mut cmd = vec!["SADD", "s"];
        cmd.extend(members.iter().map(|m| m.as_str()));
        run(&s, &cmd);
        let popped = sorted(run(&s, &["SPOP", "s", &count.to_string()]));
        assert_eq!(popped.len(), count);
        assert_eq!(run(&s, &["SCARD", "s"]), int(left));
        let mut all = popped;
        all.extend(sorted(run(&s, &["SMEMBERS", "s"])));
        all.sort();
        let mut want = members.clone();
        want.sort();
        assert_eq!(all, want);
    }
}

#[test]
fn algebra_and_store() {
    let s = start();
    run(&s, &["SADD", "a", "1", "2", "3", "x"]);
    run(&s, &["SADD", "b", "2", "3", "4"]);
    run(&s, &["SADD", "c", "3", "4"]);
    assert_eq!(sorted(run(&s, &["SINTER", "a", "b"])), strs(&["2", "3"]));
    assert_eq!(run(&s, &["SINTER", "a", "nokey"]), arr(vec![]));
    assert_eq!(
        sorted(run(&s, &["SUNION", "a", "b", "nokey"])),
        strs(&["1", "2", "3", "4", "x"])
    );
    assert_eq!(
        sorted(run(&s, &["SDIFF", "a", "b", "c"])),
        strs(&["1", "x"])
    );
    assert_eq!(run(&s, &["SDIFF", "a", "a"]), arr(vec![]));
    assert_eq!(run(&s, &["SINTERSTORE", "d", "b", "c"]), int(2));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "d"]), bulk("intset"));
    assert_eq!(run(&s, &["SUNIONSTORE", "d", "a", "b"]), int(5));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "d"]), bulk("hashtable"));
    assert_eq!(run(&s, &["SDIFFSTORE", "d", "c", "b"]), int(0));
    assert_eq!(run(&s, &["EXISTS", "d"]), int(0));
    assert_eq!(run(&s, &["SINTERCARD", "2", "a", "b"]), int(2));
    assert_eq!(
        run(&s, &["SINTERCARD", "2", "a", "b", "LIMIT", "1"]),
        int(1)
    );
    assert_eq!(
        run(&s, &["SINTERCARD", "0", "a"]),
        err("ERR numkeys should be greater than 0")
    );
    assert_eq!(
        run(&s, &["SINTERCARD", "3", "a", "b"]),
        err("ERR Number of keys can't be greater than number of args")
    );
    assert_eq!(
        run(&s, &["SINTERCARD", "2", "a", "b", "LIMIT", "-1"]),
        err("ERR LIMIT can't be negative")
    );
    assert_eq!(
        run(&s, &["SINTERCARD", "2", "a", "b", "FOO"]),
        err("ERR syntax error")
    );
}

#[test]
fn smove_between_encodings() {
    let s = start();
    run(&s, &["SADD", "src", "1", "a"]);
    run(&s, &["SADD", "dst", "2"]);
    assert_eq!(run(&s, &["SMOVE", "src", "dst", "1"]), int(1));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "dst"]), bulk("intset"));
    assert_eq!(run(&s, &["SMOVE", "src", "dst", "a"]), int(1));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "dst"]), bulk("hashtable"));
    assert_eq!(run(&s, &["EXISTS", "src"]), int(0));
    assert_eq!(run(&s, &["SMOVE", "src", "dst", "a"]), int(0));
    assert_eq!(run(&s, &["SMOVE", "dst", "dst", "a"]), int(1));
    assert_eq!(run(&s, &["SMOVE", "dst", "new", "2"]), int(1));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "new"]), bulk("intset"));
    run(&s, &["SET", "str", "x"]);
    assert_eq!(
        run(&s, &["SMOVE", "dst", "str", "a"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(run(&s, &["SMOVE", "nokey", "str", "a"]), int(0));
}

#[test]
fn sscan_covers_a_hashtable() {
    let s = start();
    let members: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
    let mut cmd = vec!["SADD", "s"];
    cmd.extend(members.iter().map(|m| m.as_str()));
    run(&s, &cmd);
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let Frame::Array(rep) = run(&s, &["SSCAN", "s", &cursor, "COUNT", "7"]) else {
            panic!()
        };
        let Frame::Bulk(c) = &rep[0] else { panic!() };
        cursor = String::from_utf8(c.to_vec()).unwrap();
        let Frame::Array(items) = &rep[1] else {
            panic!()
        };
        for i in items {
            let Frame::Bulk(b) = i else { panic!() };
            seen.insert(b.clone());
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 1000);
    assert_eq!(
        run(&s, &["SSCAN", "s", "0", "MATCH", "m99", "COUNT", "2000"]),
        arr(vec![bulk("0"), arr(vec![bulk("m99")])])
    );
}

fn htstats(s: &snapcache::ServerHandle, key: &str) -> String {
    match run(s, &["DEBUG", "HTSTATS-KEY", key]) {
        Frame::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
        other => panic!("not a bulk: {other:?}"),
    }
}

#[test]
fn htstats_key_follows_growth_rehash_and_shrink() {
    let s = snapcache::Server::builder()
        .port(0)
        .config("enable-debug-command", "yes")
        .start()
        .expect("server starts");
    assert_eq!(run(&s, &["SADD", "s", "a", "b", "c"]), int(3));
    let t = htstats(&s, "s");
    assert!(
        t.starts_with(
            "Hash table 0 stats (main hash table):\n table size: 4\n number of elements: 3\n"
        ),
        "{t}"
    );
    assert!(!t.contains("rehashing target"), "{t}");
    // The fifth member finds one per bucket: a rehash to 8 starts, and
    // the new member goes to the target table.
    assert_eq!(run(&s, &["SADD", "s", "d", "e"]), int(2));
    let t = htstats(&s, "s");
    assert!(
        t.contains("Hash table 1 stats (rehashing target):\n table size: 8\n"),
        "{t}"
    );
    // Under 10% full after removals, the table shrinks (lookups step the
    // rehash).
    let members: Vec<String> = (0..100).map(|i| format!("m{i}")).collect();
    let mut sadd = vec!["SADD", "big"];
    sadd.extend(members.iter().map(String::as_str));
    assert_eq!(run(&s, &sadd), int(100));
    let mut srem = vec!["SREM", "big"];
    srem.extend(members[5..].iter().map(String::as_str));
    assert_eq!(run(&s, &srem), int(95));
    for _ in 0..100 {
        if !htstats(&s, "big").contains("rehashing target") {
            break;
        }
        run(&s, &["SISMEMBER", "big", "m0"]);
    }
    let t = htstats(&s, "big");
    assert!(
        t.starts_with(
            "Hash table 0 stats (main hash table):\n table size: 16\n number of elements: 5\n"
        ),
        "{t}"
    );
    assert_eq!(run(&s, &["SADD", "ints", "1", "2"]), int(2));
    assert_eq!(
        run(&s, &["DEBUG", "HTSTATS-KEY", "ints"]),
        err("ERR The value stored at the specified key is not represented using an hash table")
    );
    assert_eq!(
        run(&s, &["DEBUG", "HTSTATS-KEY", "nokey"]),
        err("ERR no such key")
    );
}
