//! Hash commands through the in-process API, with exact replies.

mod common;
use common::*;
use snapcache::Frame;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

#[test]
fn listpack_converts_to_hashtable_and_never_back() {
    let s = start();
    assert_eq!(
        run(&s, &["HSET", "h", "a", "1", "b", "2", "a", "3"]),
        int(2)
    );
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "h"]), bulk("listpack"));
    assert_eq!(
        run(&s, &["HGETALL", "h"]),
        arr(vec![bulk("a"), bulk("3"), bulk("b"), bulk("2")])
    );
    // A value longer than hash-max-listpack-value converts.
    let long = "x".repeat(65);
    assert_eq!(run(&s, &["HSET", "h", "c", &long]), int(1));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "h"]), bulk("hashtable"));
    assert_eq!(run(&s, &["HDEL", "h", "c"]), int(1));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "h"]), bulk("hashtable"));
    assert_eq!(run(&s, &["HGET", "h", "a"]), bulk("3"));

    // So does a field count above hash-max-listpack-entries.
    assert_eq!(
        run(&s, &["CONFIG", "SET", "hash-max-listpack-entries", "2"]),
        ok()
    );
    assert_eq!(run(&s, &["HSET", "k", "a", "1", "b", "2"]), int(2));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "k"]), bulk("listpack"));
    assert_eq!(run(&s, &["HSETNX", "k", "c", "3"]), int(1));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "k"]), bulk("hashtable"));
    assert_eq!(run(&s, &["HLEN", "k"]), int(3));
    // A long field name converts even through HINCRBY.
    assert_eq!(
        run(&s, &["CONFIG", "SET", "hash-max-listpack-value", "4"]),
        ok()
    );
    assert_eq!(run(&s, &["HINCRBY", "n", "abcd", "1"]), int(1));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "n"]), bulk("listpack"));
    assert_eq!(run(&s, &["HINCRBY", "n", "abcde", "1"]), int(1));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "n"]), bulk("hashtable"));
}

#[test]
fn values_and_fields_are_distinct_in_a_listpack() {
    let s = start();
    run(&s, &["HSET", "h", "f", "v", "v", "w"]);
    assert_eq!(run(&s, &["HGET", "h", "v"]), bulk("w"));
    assert_eq!(run(&s, &["HEXISTS", "h", "w"]), int(0));
    assert_eq!(run(&s, &["HSTRLEN", "h", "f"]), int(1));
    run(&s, &["HSET", "h", "n", "-123"]);
    assert_eq!(run(&s, &["HSTRLEN", "h", "n"]), int(4));
    assert_eq!(
        run(&s, &["HMGET", "h", "f", "nope", "n"]),
        arr(vec![bulk("v"), Frame::Null, bulk("-123")])
    );
    assert_eq!(
        run(&s, &["HMGET", "nokey", "a", "b"]),
        arr(vec![Frame::Null, Frame::Null])
    );
    assert_eq!(run(&s, &["HDEL", "h", "f", "f", "v", "n"]), int(3));
    assert_eq!(run(&s, &["EXISTS", "h"]), int(0));
}

#[test]
fn hostile_arguments() {
    let s = start();
    assert_eq!(
        run(&s, &["HSET", "h", "a", "1", "b"]),
        err("ERR wrong number of arguments for 'hset' command")
    );
    assert_eq!(
        run(&s, &["HMSET", "h", "a", "1", "b"]),
        err("ERR wrong number of arguments for 'hmset' command")
    );
    assert_eq!(run(&s, &["EXISTS", "h"]), int(0));
    run(
        &s,
        &[
            "HSET",
            "h",
            "i",
            "9223372036854775807",
            "s",
            " 1",
            "f",
            "1.5",
        ],
    );
    assert_eq!(
        run(&s, &["HINCRBY", "h", "i", "1"]),
        err("ERR increment or decrement would overflow")
    );
    assert_eq!(
        run(&s, &["HINCRBY", "h", "s", "1"]),
        err("ERR hash value is not an integer")
    );
    assert_eq!(
        run(&s, &["HINCRBY", "h", "i", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        run(&s, &["HINCRBYFLOAT", "h", "s", "1"]),
        err("ERR hash value is not a float")
    );
    assert_eq!(run(&s, &["HINCRBYFLOAT", "h", "f", "0.25"]), bulk("1.75"));
    assert_eq!(
        run(&s, &["HINCRBYFLOAT", "nokey", "f", "inf"]),
        err("ERR value is NaN or Infinity")
    );
    assert_eq!(run(&s, &["EXISTS", "nokey"]), int(0));
    assert_eq!(
        run(&s, &["HINCRBYFLOAT", "h", "f", "x"]),
        err("ERR value is not a valid float")
    );
    assert_eq!(
        run(&s, &["HRANDFIELD", "h", "-9223372036854775808"]),
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
    assert_eq!(
        run(
            &s,
            &["HRANDFIELD", "h", "-9223372036854775807", "WITHVALUES"]
        ),
        err("ERR value is out of range")
    );
    assert_eq!(
        run(&s, &["HRANDFIELD", "h", "1", "WITHSCORES"]),
        err("ERR syntax error")
    );
    assert_eq!(run(&s, &["HRANDFIELD", "h", "0"]), arr(vec![]));
    assert_eq!(run(&s, &["HRANDFIELD", "nokey", "3"]), arr(vec![]));
    assert_eq!(run(&s, &["HRANDFIELD", "nokey"]), Frame::Null);
    let Frame::Array(all) = run(
        &s,
        &["HRANDFIELD", "h", "4611686018427387903", "WITHVALUES"],
    ) else {
        panic!()
    };
    assert_eq!(all.len(), 6);
    let Frame::Array(rep) = run(&s, &["HRANDFIELD", "h", "-5", "WITHVALUES"]) else {
        panic!()
    };
    assert_eq!(rep.len(), 10);
    assert_eq!(
        run(&s, &["HSCAN", "h", "0", "COUNT", "-1"]),
        err("ERR syntax error")
    );
    assert_eq!(
        run(&s, &["HSCAN", "h", "0", "MATCH", "i"]),
        arr(vec![
            bulk("0"),
            arr(vec![bulk("i"), bulk("9223372036854775807")])
        ])
    );
    run(&s, &["SET", "str", "x"]);
    for cmd in [
        &["HGET", "str", "a"][..],
        &["HSET", "str", "a", "b"],
        &["HINCRBY", "str", "a", "1"],
        &["HRANDFIELD", "str", "2"],
        &["HSCAN", "str", "0"],
    ] {
        assert_eq!(run(&s, cmd), err(WRONGTYPE), "{cmd:?}");
    }
}

#[test]
fn hrandfield_unique_counts() {
    let s = start();
    for i in 0..30 {
        run(&s, &["HSET", "h", &format!("f{i}"), &format!("{i}")]);
    }
    for count in ["5", "25"] {
        let Frame::Array(rep) = run(&s, &["HRANDFIELD", "h", count]) else {
            panic!()
        };
        let n: usize = count.parse().unwrap();
        let uniq: std::collections::HashSet<_> = rep.iter().map(|f| format!("{f:?}")).collect();
        assert_eq!(uniq.len(), n);
    }
}

/// DEBUG DIGEST-VALUE of sets and hashes in both encodings equals what
/// redis-server 7.0.15 computes for the same data.
#[test]
fn digests_match_redis() {
    let s = snapcache::Server::builder()
        .port(0)
        .config("enable-debug-command", "yes")
        .start()
        .expect("server starts");
    run(&s, &["SADD", "si", "1", "2", "3", "-5", "100000"]);
    run(&s, &["SADD", "sh", "a", "b", "1"]);
    run(&s, &["HSET", "hl", "a", "1", "b", "xyz", "c", "-7"]);
    run(&s, &["CONFIG", "SET", "hash-max-listpack-entries", "1"]);
    run(&s, &["HSET", "ht", "a", "1", "b", "xyz"]);
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "ht"]), bulk("hashtable"));
    assert_eq!(
        run(&s, &["DEBUG", "DIGEST-VALUE", "si", "sh", "hl", "ht"]),
        arr(vec![
            Frame::Simple("1ed7e76f32098645c31d43488139d4a78cbebd28".into()),
            Frame::Simple("e8f32bbb1ad9bf537c8867de4f19fec9e001296d".into()),
            Frame::Simple("47e05dc692c718b4207de444d8b9fa7dbc9780b0".into()),
            Frame::Simple("b0c26a847b4176e35c0b9cce40f68a6f0b77aba4".into()),
        ])
    );
    assert_eq!(
        run(&s, &["DEBUG", "DIGEST"]),
        Frame::Simple("ebd0cb93462f7d3e66144a059c3f7410c27594d0".into())
    );
}
