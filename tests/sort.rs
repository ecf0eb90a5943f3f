//! SORT and SORT_RO through the in-process API, with the exact replies
//! Redis 7.0.15 gives.

mod common;
use common::*;
use snapcache::Frame;

fn bulks(items: &[&str]) -> Frame {
    arr(items.iter().map(|s| bulk(s)).collect())
}

const NOT_DOUBLE: &str = "ERR One or more scores can't be converted into double";

#[test]
fn numeric_alpha_and_limit() {
    let s = start();
    assert_eq!(
        run(&s, &["RPUSH", "l", "3", "1", "2", "10", "-5", "1.5"]),
        int(6)
    );
    assert_eq!(
        run(&s, &["SORT", "l"]),
        bulks(&["-5", "1", "1.5", "2", "3", "10"])
    );
    assert_eq!(
        run(&s, &["SORT", "l", "DESC", "LIMIT", "1", "2"]),
        bulks(&["3", "2"])
    );
    assert_eq!(
        run(&s, &["SORT", "l", "ALPHA"]),
        bulks(&["-5", "1", "1.5", "10", "2", "3"])
    );
    assert_eq!(
        run(&s, &["SORT", "l", "alpha", "desc", "limit", "0", "2"]),
        bulks(&["3", "2"])
    );
    // LIMIT is clamped to the length: negative offsets, huge or negative
    // counts, offsets past the end.
    assert_eq!(
        run(&s, &["SORT", "l", "LIMIT", "-5", "9223372036854775807"]),
        bulks(&["-5", "1", "1.5", "2", "3", "10"])
    );
    assert_eq!(
        run(&s, &["SORT", "l", "LIMIT", "0", "-7"]),
        bulks(&["-5", "1", "1.5", "2", "3", "10"])
    );
    assert_eq!(run(&s, &["SORT", "l", "LIMIT", "5", "-1"]), bulks(&["10"]));
    assert_eq!(run(&s, &["SORT", "l", "LIMIT", "2", "0"]), arr(vec![]));
    assert_eq!(run(&s, &["SORT", "l", "LIMIT", "6", "1"]), arr(vec![]));
    assert_eq!(
        run(
            &s,
            &[
                "SORT",
                "l",
                "LIMIT",
                "9223372036854775807",
                "9223372036854775807"
            ]
        ),
        arr(vec![])
    );
    // Equal scores sort by bytes, so the order is deterministic.
    assert_eq!(
        run(&s, &["RPUSH", "same", "1", "01", "1.0", "+1", " 1"]),
        int(5)
    );
    assert_eq!(
        run(&s, &["SORT", "same"]),
        bulks(&[" 1", "+1", "01", "1", "1.0"])
    );
    assert_eq!(
        run(&s, &["SORT", "same", "DESC"]),
        bulks(&["1.0", "1", "01", "+1", " 1"])
    );
    assert_eq!(run(&s, &["SORT", "missing"]), arr(vec![]));
}

#[test]
fn errors() {
    let s = start();
    run(&s, &["RPUSH", "l", "1", "2"]);
    for args in [
        &["SORT", "l", "LIMIT", "1"][..],
        &["SORT", "l", "GET"],
        &["SORT", "l", "BY"],
        &["SORT", "l", "STORE"],
        &["SORT", "l", "foo"],
        &["SORT_RO", "l", "STORE", "x"],
    ] {
        assert_eq!(run(&s, args), err("ERR syntax error"), "{args:?}");
    }
    assert_eq!(
        run(&s, &["SORT", "l", "LIMIT", "1", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        run(&s, &["SORT", "l", "LIMIT", "1.5", "1"]),
        err("ERR value is not an integer or out of range")
    );
    // Options are checked before the key.
    run(&s, &["SET", "str", "v"]);
    assert_eq!(run(&s, &["SORT", "str", "bad"]), err("ERR syntax error"));
    assert_eq!(
        run(&s, &["SORT", "str"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    run(&s, &["HSET", "h", "f", "v"]);
    assert_eq!(
        run(&s, &["SORT_RO", "h"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    run(&s, &["SADD", "set", "1", "2", "not-a-double"]);
    assert_eq!(run(&s, &["SORT", "set"]), err(NOT_DOUBLE));
    assert_eq!(run(&s, &["SORT", "set", "STORE", "dst"]), err(NOT_DOUBLE));
    assert_eq!(run(&s, &["EXISTS", "dst"]), int(0));
}

#[test]
fn weights_read_as_strtod_does() {
    let s = start();
    run(&s, &["RPUSH", "l", "3", "1", "2", "10", "-5", "1.5"]);
    // Missing and empty weights are 0, leading blanks and hex are accepted.
    run(
        &s,
        &[
            "MSET", "w_3", "", "w_1", " 12", "w_2", "0x10", "w_10", "inf",
        ],
    );
    assert_eq!(
        run(&s, &["SORT", "l", "BY", "w_*"]),
        bulks(&["-5", "1.5", "3", "1", "2", "10"])
    );
    run(&s, &["SET", "w_-5", "-inf"]);
    assert_eq!(
        run(&s, &["SORT", "l", "BY", "w_*"]),
        bulks(&["-5", "1.5", "3", "1", "2", "10"])
    );
    for bad in ["1e999", "1e-400", "  ", "12abc", "nan"] {
        run(&s, &["SET", "w_-5", bad]);
        assert_eq!(
            run(&s, &["SORT", "l", "BY", "w_*"]),
            err(NOT_DOUBLE),
            "{bad}"
        );
    }
    // ALPHA compares the weights' bytes; missing weights come first.
    assert_eq!(
        run(&s, &["SORT", "l", "BY", "w_*", "ALPHA"]),
        bulks(&["1.5", "3", "1", "2", "10", "-5"])
    );
    assert_eq!(
        run(&s, &["SORT", "l", "BY", "w_*", "ALPHA", "DESC"]),
        bulks(&["-5", "10", "2", "1", "3", "1.5"])
    );
}

#[test]
fn hash_fields_and_get() {
    let s = start();
    run(&s, &["RPUSH", "l", "1", "2", "3"]);
    run(&s, &["HSET", "h_1", "f", "5"]);
    run(&s, &["HSET", "h_2", "f", "4"]);
    run(&s, &["HSET", "h_3", "g", "4"]);
    run(&s, &["SET", "k_1", "one"]);
    assert_eq!(
        run(
            &s,
            &["SORT", "l", "BY", "h_*->f", "GET", "h_*->f", "GET", "#"]
        ),
        arr(vec![
            Frame::Null,
            bulk("3"),
            bulk("4"),
            bulk("2"),
            bulk("5"),
            bulk("1")
        ])
    );
    // GET of a missing key, a key of another type, or a pattern without `*`.
    assert_eq!(
        run(
            &s,
            &["SORT", "l", "GET", "k_*", "GET", "h_*", "GET", "const"]
        ),
        arr(vec![
            bulk("one"),
            Frame::Null,
            Frame::Null,
            Frame::Null,
            Frame::Null,
            Frame::Null,
            Frame::Null,
            Frame::Null,
            Frame::Null,
        ])
    );
    // A pattern ending in `->` names a string key.
    run(&s, &["RPUSH", "nl", "a"]);
    run(&s, &["SET", "x:a->", "100"]);
    assert_eq!(
        run(&s, &["SORT", "nl", "BY", "num", "GET", "x:*->"]),
        bulks(&["100"])
    );
    assert_eq!(
        run(&s, &["SORT_RO", "nl", "BY", "nosort", "GET", "x:*->"]),
        bulks(&["100"])
    );
    // Stored GETs of missing values are empty strings.
    assert_eq!(
        run(
            &s,
            &["SORT", "l", "BY", "h_*->f", "GET", "h_*->f", "STORE", "dst"]
        ),
        int(3)
    );
    assert_eq!(
        run(&s, &["LRANGE", "dst", "0", "-1"]),
        bulks(&["", "4", "5"])
    );
}

#[test]
fn nosort_keeps_native_order() {
    let s = start();
    run(&s, &["RPUSH", "l", "3", "1", "2", "10", "-5", "1.5"]);
    assert_eq!(
        run(&s, &["SORT", "l", "BY", "nosort"]),
        bulks(&["3", "1", "2", "10", "-5", "1.5"])
    );
    assert_eq!(
        run(&s, &["SORT", "l", "BY", "nosort", "DESC"]),
        bulks(&["1.5", "-5", "10", "2", "1", "3"])
    );
    assert_eq!(
        run(
            &s,
            &["SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "3"]
        ),
        bulks(&["-5", "10", "2"])
    );
    assert_eq!(
        run(&s, &["SORT", "l", "BY", "nosort", "LIMIT", "4", "10"]),
        bulks(&["-5", "1.5"])
    );
    assert_eq!(
        run(
            &s,
            &["SORT", "l", "BY", "nosort", "DESC", "LIMIT", "6", "10"]
        ),
        arr(vec![])
    );
    // A BY without `*` anywhere wins over a later pattern.
    run(&s, &["SET", "w_3", "-1"]);
    assert_eq!(
        run(
            &s,
            &["SORT", "l", "BY", "nosort", "BY", "w_*", "LIMIT", "0", "2"]
        ),
        bulks(&["3", "1"])
    );

    run(
        &s,
        &[
            "ZADD", "z", "1", "a", "5", "b", "2", "c", "10", "d", "3", "e",
        ],
    );
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "z"]), bulk("listpack"));
    assert_eq!(
        run(&s, &["SORT", "z", "BY", "nosort"]),
        bulks(&["a", "c", "e", "b", "d"])
    );
    // Redis 7.0 converts a sorted set it sorts to a skiplist.
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
    assert_eq!(
        run(
            &s,
            &["SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "2"]
        ),
        bulks(&["b", "e"])
    );
    assert_eq!(
        run(
            &s,
            &["SORT", "z", "BY", "nosort", "DESC", "LIMIT", "4", "2"]
        ),
        bulks(&["a"])
    );
    assert_eq!(
        run(&s, &["SORT", "z", "BY", "nosort", "LIMIT", "-10", "100"]),
        bulks(&["a", "c", "e", "b", "d"])
    );
    assert_eq!(
        run(&s, &["SORT", "z", "ALPHA", "DESC"]),
        bulks(&["e", "d", "c", "b", "a"])
    );
    assert_eq!(run(&s, &["SORT", "z"]), err(NOT_DOUBLE));
    run(&s, &["ZADD", "z2", "1", "x"]);
    assert_eq!(run(&s, &["SORT_RO", "z2", "ALPHA"]), bulks(&["x"]));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "z2"]), bulk("skiplist"));

    // A set has no order: stored, it is sorted by its members.
    run(&s, &["SADD", "set", "b", "a", "c", "10", "2"]);
    assert_eq!(
        run(&s, &["SORT", "set", "BY", "nosort", "STORE", "dst"]),
        int(5)
    );
    assert_eq!(
        run(&s, &["LRANGE", "dst", "0", "-1"]),
        bulks(&["10", "2", "a", "b", "c"])
    );
    run(&s, &["SADD", "iset", "5", "3", "9", "1"]);
    assert_eq!(
        run(&s, &["SORT", "iset", "BY", "nosort", "DESC"]),
        bulks(&["1", "3", "5", "9"])
    );
}

#[test]
fn store_replaces_or_deletes_the_destination() {
    let s = start();
    run(&s, &["RPUSH", "l", "b", "a"]);
    run(&s, &["SET", "dst", "string"]);
    run(&s, &["EXPIRE", "dst", "100"]);
    assert_eq!(run(&s, &["SORT", "l", "ALPHA", "STORE", "dst"]), int(2));
    assert_eq!(run(&s, &["TTL", "dst"]), int(-1));
    assert_eq!(run(&s, &["TYPE", "dst"]), Frame::Simple("list".into()));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "dst"]), bulk("quicklist"));
    assert_eq!(run(&s, &["LRANGE", "dst", "0", "-1"]), bulks(&["a", "b"]));
    // The source may be the destination.
    assert_eq!(
        run(&s, &["SORT", "l", "ALPHA", "DESC", "STORE", "l"]),
        int(2)
    );
    assert_eq!(run(&s, &["LRANGE", "l", "0", "-1"]), bulks(&["b", "a"]));
    // An empty result deletes the destination and creates nothing.
    assert_eq!(
        run(
            &s,
            &["SORT", "l", "ALPHA", "LIMIT", "10", "10", "STORE", "dst"]
        ),
        int(0)
    );
    assert_eq!(run(&s, &["EXISTS", "dst"]), int(0));
    assert_eq!(run(&s, &["SORT", "missing", "STORE", "dst"]), int(0));
    assert_eq!(run(&s, &["EXISTS", "dst"]), int(0));
    // The last STORE wins.
    assert_eq!(
        run(&s, &["SORT", "l", "ALPHA", "STORE", "x", "STORE", "y"]),
        int(2)
    );
    assert_eq!(run(&s, &["EXISTS", "x", "y"]), int(1));
    assert_eq!(run(&s, &["LRANGE", "y", "0", "-1"]), bulks(&["a", "b"]));
    // GETs multiply the stored length.
    assert_eq!(
        run(
            &s,
            &["SORT", "l", "ALPHA", "GET", "#", "GET", "#", "STORE", "d2"]
        ),
        int(4)
    );
    assert_eq!(
        run(&s, &["LRANGE", "d2", "0", "-1"]),
        bulks(&["a", "a", "b", "b"])
    );
}

#[test]
fn command_getkeys() {
    let s = start();
    assert_eq!(
        run(&s, &["COMMAND", "GETKEYS", "SORT", "abc", "STORE", "def"]),
        bulks(&["abc", "def"])
    );
    assert_eq!(
        run(
            &s,
            &[
                "COMMAND", "GETKEYS", "SORT", "abc", "STORE", "invalid", "STORE", "stillbad",
                "STORE", "def"
            ]
        ),
        bulks(&["abc", "def"])
    );
    // LIMIT takes two arguments, GET and BY one each.
    assert_eq!(
        run(
            &s,
            &["COMMAND", "GETKEYS", "SORT", "abc", "LIMIT", "STORE", "x", "STORE"]
        ),
        bulks(&["abc"])
    );
    assert_eq!(
        run(
            &s,
            &["COMMAND", "GETKEYS", "SORT", "abc", "GET", "STORE", "STORE", "y"]
        ),
        bulks(&["abc", "y"])
    );
    assert_eq!(
        run(&s, &["COMMAND", "GETKEYS", "SORT_RO", "abc", "BY", "x"]),
        bulks(&["abc"])
    );
}
