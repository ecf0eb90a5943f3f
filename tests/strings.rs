//! String commands through the in-process API, with exact replies.

mod common;
use common::*;
use snapcache::Frame;

#[test]
fn set_get_and_options() {
    let s = start();
    assert_eq!(run(&s, &["SET", "k", "v"]), ok());
    assert_eq!(run(&s, &["GET", "k"]), bulk("v"));
    assert_eq!(run(&s, &["SET", "k", "w", "NX"]), Frame::Null);
    assert_eq!(run(&s, &["SET", "k", "w", "XX", "GET"]), bulk("v"));
    assert_eq!(run(&s, &["SET", "missing", "w", "XX"]), Frame::Null);
    assert_eq!(
        run(&s, &["SET", "k", "w", "NX", "XX"]),
        err("ERR syntax error")
    );
    assert_eq!(
        run(&s, &["SET", "k", "w", "EX", "0"]),
        err("ERR invalid expire time in 'set' command")
    );
    assert_eq!(
        run(&s, &["SET", "k", "w", "EX", "abc"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(run(&s, &["SET", "k", "w", "EX", "100"]), ok());
    assert_eq!(run(&s, &["TTL", "k"]), int(100));
    assert_eq!(run(&s, &["SET", "k", "x", "KEEPTTL"]), ok());
    assert_eq!(run(&s, &["TTL", "k"]), int(100));
    assert_eq!(run(&s, &["SET", "k", "y"]), ok());
    assert_eq!(run(&s, &["TTL", "k"]), int(-1));
    assert_eq!(
        run(&s, &["GET"]),
        err("ERR wrong number of arguments for 'get' command")
    );
}

#[test]
fn encodings_as_redis_reports_them() {
    let s = start();
    run(&s, &["SET", "i", "12345"]);
    run(&s, &["SET", "e", "hello"]);
    run(&s, &["SET", "r", &"x".repeat(45)]);
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "i"]), bulk("int"));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "e"]), bulk("embstr"));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "r"]), bulk("raw"));
    assert_eq!(run(&s, &["APPEND", "i", "6"]), int(6));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "i"]), bulk("raw"));
    assert_eq!(run(&s, &["GET", "i"]), bulk("123456"));
}

#[test]
fn incr_family() {
    let s = start();
    assert_eq!(run(&s, &["INCR", "n"]), int(1));
    assert_eq!(run(&s, &["INCRBY", "n", "10"]), int(11));
    assert_eq!(run(&s, &["DECRBY", "n", "20"]), int(-9));
    run(&s, &["SET", "big", "9223372036854775807"]);
    assert_eq!(
        run(&s, &["INCR", "big"]),
        err("ERR increment or decrement would overflow")
    );
    assert_eq!(
        run(&s, &["DECRBY", "n", "-9223372036854775808"]),
        err("ERR decrement would overflow")
    );
    run(&s, &["SET", "s", "abc"]);
    assert_eq!(
        run(&s, &["INCR", "s"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(run(&s, &["INCRBYFLOAT", "f", "10.5"]), bulk("10.5"));
    assert_eq!(run(&s, &["INCRBYFLOAT", "f", "0.25"]), bulk("10.75"));
    assert_eq!(
        run(&s, &["INCRBYFLOAT", "f", "inf"]),
        err("ERR increment would produce NaN or Infinity")
    );
}

#[test]
fn ranges_and_lcs() {
    let s = start();
    run(&s, &["SET", "k", "Hello World"]);
    assert_eq!(run(&s, &["GETRANGE", "k", "0", "4"]), bulk("Hello"));
    assert_eq!(run(&s, &["GETRANGE", "k", "-5", "-1"]), bulk("World"));
    assert_eq!(run(&s, &["GETRANGE", "k", "5", "3"]), bulk(""));
    assert_eq!(run(&s, &["SETRANGE", "k", "6", "Redis"]), int(11));
    assert_eq!(run(&s, &["GET", "k"]), bulk("Hello Redis"));
    assert_eq!(run(&s, &["SETRANGE", "n", "3", "x"]), int(4));
    assert_eq!(run(&s, &["GET", "n"]), bulk("\0\0\0x"));
    assert_eq!(
        run(&s, &["SETRANGE", "k", "-1", "x"]),
        err("ERR offset is out of range")
    );
    run(&s, &["MSET", "a", "ohmytext", "b", "mynewtext"]);
    assert_eq!(run(&s, &["LCS", "a", "b"]), bulk("mytext"));
    assert_eq!(run(&s, &["LCS", "a", "b", "LEN"]), int(6));
}

#[test]
fn mset_mget_msetnx() {
    let s = start();
    assert_eq!(run(&s, &["MSET", "a", "1", "b", "2"]), ok());
    assert_eq!(
        run(&s, &["MGET", "a", "b", "c"]),
        arr(vec![bulk("1"), bulk("2"), Frame::Null])
    );
    assert_eq!(run(&s, &["MSETNX", "c", "3", "a", "9"]), int(0));
    assert_eq!(run(&s, &["MSETNX", "c", "3", "d", "4"]), int(1));
    assert_eq!(
        run(&s, &["MSET", "a"]),
        err("ERR wrong number of arguments for 'mset' command")
    );
    assert_eq!(
        run(&s, &["MSET", "a", "1", "b"]),
        err("ERR wrong number of arguments for 'mset' command")
    );
}
