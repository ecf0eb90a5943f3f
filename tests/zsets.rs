//! Sorted set commands through the in-process API, with exact replies.

mod common;
use common::*;
use snapcache::Frame;

fn enc(s: &snapcache::ServerHandle, key: &str) -> Frame {
    run(s, &["OBJECT", "ENCODING", key])
}

#[test]
fn encodings_convert_both_ways() {
    let s = start();
    assert_eq!(
        run(&s, &["CONFIG", "SET", "zset-max-listpack-entries", "4"]),
        ok()
    );
    assert_eq!(
        run(&s, &["CONFIG", "SET", "zset-max-listpack-value", "8"]),
        ok()
    );
    assert_eq!(
        run(&s, &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]),
        int(4)
    );
    assert_eq!(enc(&s, "z"), bulk("listpack"));
    assert_eq!(run(&s, &["ZADD", "z", "5", "e"]), int(1));
    assert_eq!(enc(&s, "z"), bulk("skiplist"));
    assert_eq!(run(&s, &["ZADD", "long", "1", "123456789"]), int(1));
    assert_eq!(enc(&s, "long"), bulk("skiplist"));
    assert_eq!(run(&s, &["ZADD", "short", "1", "x"]), int(1));
    assert_eq!(run(&s, &["ZADD", "short", "2", "123456789"]), int(1));
    assert_eq!(enc(&s, "short"), bulk("skiplist"));
    // A store result small enough goes back to listpack.
    assert_eq!(run(&s, &["ZRANGESTORE", "dst", "z", "0", "1"]), int(2));
    assert_eq!(enc(&s, "dst"), bulk("listpack"));
    assert_eq!(run(&s, &["ZUNIONSTORE", "u", "1", "z"]), int(5));
    assert_eq!(enc(&s, "u"), bulk("skiplist"));
    assert_eq!(run(&s, &["ZREMRANGEBYRANK", "z", "0", "1"]), int(2));
    assert_eq!(enc(&s, "z"), bulk("skiplist"));
    assert_eq!(run(&s, &["ZUNIONSTORE", "u", "1", "z"]), int(3));
    assert_eq!(enc(&s, "u"), bulk("listpack"));
    assert_eq!(
        run(&s, &["ZRANGE", "u", "0", "-1", "WITHSCORES"]),
        arr(vec![
            bulk("c"),
            bulk("3"),
            bulk("d"),
            bulk("4"),
            bulk("e"),
            bulk("5")
        ])
    );
}

#[test]
fn both_encodings_answer_alike() {
    for entries in ["128", "0"] {
        let s = start();
        run(&s, &["CONFIG", "SET", "zset-max-listpack-entries", entries]);
        assert_eq!(
            run(
                &s,
                &["ZADD", "z", "1.5", "a", "-inf", "b", "+inf", "c", "0", "10", "-0", "d"]
            ),
            int(5)
        );
        assert_eq!(
            run(&s, &["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
            arr(vec![
                bulk("b"),
                bulk("-inf"),
                bulk("10"),
                bulk("0"),
                bulk("d"),
                bulk(if entries == "0" { "-0" } else { "0" }),
                bulk("a"),
                bulk("1.5"),
                bulk("c"),
                bulk("inf")
            ])
        );
        assert_eq!(run(&s, &["ZRANK", "z", "a"]), int(3));
        assert_eq!(run(&s, &["ZREVRANK", "z", "a"]), int(1));
        assert_eq!(run(&s, &["ZCOUNT", "z", "(0", "+inf"]), int(2));
        assert_eq!(
            run(
                &s,
                &["ZRANGEBYSCORE", "z", "(-inf", "(inf", "LIMIT", "1", "2"]
            ),
            arr(vec![bulk("d"), bulk("a")])
        );
        assert_eq!(
            run(
                &s,
                &["ZRANGE", "z", "(inf", "-inf", "BYSCORE", "REV", "LIMIT", "0", "1"]
            ),
            arr(vec![bulk("a")])
        );
        assert_eq!(run(&s, &["ZSCORE", "z", "a"]), bulk("1.5"));
        assert_eq!(
            run(&s, &["ZINCRBY", "z", "0.1", "a"]),
            bulk("1.6000000000000001")
        );
        assert_eq!(
            run(&s, &["ZINCRBY", "z", "-inf", "c"]),
            err("ERR resulting score is not a number (NaN)")
        );
        assert_eq!(
            run(&s, &["ZPOPMAX", "z"]),
            arr(vec![bulk("c"), bulk("inf")])
        );
        assert_eq!(
            run(&s, &["ZMPOP", "2", "nokey", "z", "MIN", "COUNT", "2"]),
            arr(vec![
                bulk("z"),
                arr(vec![
                    arr(vec![bulk("b"), bulk("-inf")]),
                    arr(vec![bulk("10"), bulk("0")])
                ])
            ])
        );
        assert_eq!(run(&s, &["ZREM", "z", "a", "d", "x"]), int(2));
        assert_eq!(run(&s, &["EXISTS", "z"]), int(0));
    }
}

#[test]
fn lex_ranges() {
    let s = start();
    run(&s, &["ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "d"]);
    assert_eq!(run(&s, &["ZLEXCOUNT", "z", "(a", "[c"]), int(2));
    assert_eq!(run(&s, &["ZLEXCOUNT", "z", "+", "-"]), int(0));
    assert_eq!(
        run(&s, &["ZRANGEBYLEX", "z", "-", "+", "LIMIT", "1", "2"]),
        arr(vec![bulk("b"), bulk("c")])
    );
    assert_eq!(
        run(&s, &["ZREVRANGEBYLEX", "z", "[c", "-"]),
        arr(vec![bulk("c"), bulk("b"), bulk("a")])
    );
    assert_eq!(
        run(&s, &["ZRANGEBYLEX", "z", "a", "+"]),
        err("ERR min or max not valid string range item")
    );
    assert_eq!(run(&s, &["ZREMRANGEBYLEX", "z", "[b", "(d"]), int(2));
    assert_eq!(
        run(&s, &["ZRANGE", "z", "0", "-1"]),
        arr(vec![bulk("a"), bulk("d")])
    );
}

#[test]
fn hostile_arguments() {
    let s = start();
    run(&s, &["ZADD", "z", "1", "a", "2", "b"]);
    assert_eq!(
        run(&s, &["ZADD", "z", "nan", "a"]),
        err("ERR value is not a valid float")
    );
    assert_eq!(
        run(&s, &["ZADD", "z", "1", "a", "2"]),
        err("ERR syntax error")
    );
    assert_eq!(
        run(&s, &["ZADD", "z", "NX", "XX", "1", "a"]),
        err("ERR XX and NX options at the same time are not compatible")
    );
    assert_eq!(
        run(&s, &["ZADD", "z", "GT", "LT", "1", "a"]),
        err("ERR GT, LT, and/or NX options at the same time are not compatible")
    );
    assert_eq!(
        run(&s, &["ZADD", "z", "INCR", "1", "a", "2", "b"]),
        err("ERR INCR option supports a single increment-element pair")
    );
    // Duplicates in one call: the last score wins, counted once.
    assert_eq!(
        run(&s, &["ZADD", "d", "1", "x", "2", "x", "3", "x"]),
        int(1)
    );
    assert_eq!(run(&s, &["ZSCORE", "d", "x"]), bulk("3"));
    assert_eq!(
        run(&s, &["ZRANGEBYSCORE", "z", "x", "1"]),
        err("ERR min or max is not a float")
    );
    assert_eq!(
        run(&s, &["ZRANGEBYSCORE", "z", "nan", "1"]),
        err("ERR min or max is not a float")
    );
    assert_eq!(
        run(&s, &["ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"]),
        err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
        )
    );
    assert_eq!(
        run(&s, &["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"]),
        err("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    );
    assert_eq!(
        run(&s, &["ZRANGE", "z", "-9999999999", "9999999999"]),
        arr(vec![bulk("a"), bulk("b")])
    );
    assert_eq!(run(&s, &["ZRANGE", "z", "5", "-9999999999"]), arr(vec![]));
    assert_eq!(
        run(
            &s,
            &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "5"]
        ),
        arr(vec![])
    );
    assert_eq!(
        run(
            &s,
            &[
                "ZRANGEBYSCORE",
                "z",
                "-inf",
                "+inf",
                "LIMIT",
                "1",
                "9999999999"
            ]
        ),
        arr(vec![bulk("b")])
    );
    assert_eq!(
        run(&s, &["ZPOPMIN", "z", "-1"]),
        err("ERR value is out of range, must be positive")
    );
    assert_eq!(
        run(&s, &["ZPOPMIN", "z", "9999999999"]),
        arr(vec![bulk("a"), bulk("1"), bulk("b"), bulk("2")])
    );
    run(&s, &["ZADD", "z", "1", "a", "2", "b"]);
    assert_eq!(
        run(&s, &["ZRANDMEMBER", "z", "9999999999"]),
        arr(vec![bulk("a"), bulk("b")])
    );
    assert_eq!(
        run(&s, &["ZRANDMEMBER", "z", "-9223372036854775808"]),
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
    assert_eq!(
        run(
            &s,
            &["ZRANDMEMBER", "z", "-9223372036854775807", "WITHSCORES"]
        ),
        err("ERR value is out of range")
    );
    assert_eq!(
        run(&s, &["ZMPOP", "0", "z", "MIN"]),
        err("ERR numkeys should be greater than 0")
    );
    assert_eq!(
        run(&s, &["ZMPOP", "9999999999", "z", "MIN"]),
        err("ERR syntax error")
    );
    assert_eq!(
        run(&s, &["ZMPOP", "1", "z", "MIN", "COUNT", "0"]),
        err("ERR count should be greater than 0")
    );
    assert_eq!(
        run(&s, &["ZUNIONSTORE", "o", "0", "z"]),
        err("ERR at least 1 input key is needed for 'zunionstore' command")
    );
    assert_eq!(
        run(&s, &["ZUNION", "9999999999", "z"]),
        err("ERR syntax error")
    );
    assert_eq!(
        run(&s, &["ZINTERCARD", "1", "z", "LIMIT", "-1"]),
        err("ERR LIMIT can't be negative")
    );
    assert_eq!(
        run(&s, &["ZUNION", "1", "z", "WEIGHTS", "x"]),
        err("ERR weight value is not a float")
    );
    run(&s, &["SET", "str", "x"]);
    assert_eq!(
        run(&s, &["ZADD", "str", "1", "a"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(
        run(&s, &["ZUNION", "2", "z", "str"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
}

#[test]
fn set_operations_and_aggregates() {
    let s = start();
    run(&s, &["ZADD", "a", "1", "x", "2", "y", "inf", "z"]);
    run(&s, &["ZADD", "b", "10", "y", "-inf", "z", "3", "w"]);
    assert_eq!(
        run(&s, &["ZUNION", "2", "a", "b", "WITHSCORES"]),
        arr(vec![
            bulk("z"),
            bulk("0"),
            bulk("x"),
            bulk("1"),
            bulk("w"),
            bulk("3"),
            bulk("y"),
            bulk("12")
        ])
    );
    assert_eq!(
        run(
            &s,
            &[
                "ZINTER",
                "2",
                "a",
                "b",
                "AGGREGATE",
                "MAX",
                "WEIGHTS",
                "1",
                "2",
                "WITHSCORES"
            ]
        ),
        arr(vec![bulk("y"), bulk("20"), bulk("z"), bulk("inf")])
    );
    assert_eq!(run(&s, &["ZDIFF", "2", "a", "b"]), arr(vec![bulk("x")]));
    assert_eq!(
        run(&s, &["ZINTERCARD", "2", "a", "b", "LIMIT", "1"]),
        int(1)
    );
    assert_eq!(run(&s, &["ZDIFFSTORE", "out", "2", "a", "a"]), int(0));
    assert_eq!(run(&s, &["EXISTS", "out"]), int(0));
}
