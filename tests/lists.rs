//! List commands through the in-process API, with exact replies (checked
//! against redis-server 7.0.15).

mod common;
use common::*;
use snapcache::Frame;

fn bulks(items: &[&str]) -> Frame {
    arr(items.iter().map(|s| bulk(s)).collect())
}

fn ints(items: &[i64]) -> Frame {
    arr(items.iter().map(|&n| int(n)).collect())
}

fn setup(s: &snapcache::ServerHandle) {
    run(s, &["DEL", "l"]);
    assert_eq!(
        run(s, &["RPUSH", "l", "a", "b", "c", "a", "b", "1", "2", "3"]),
        int(8)
    );
}

#[test]
fn push_pop_range_and_index() {
    let s = start();
    setup(&s);
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "l"]), bulk("quicklist"));
    assert_eq!(run(&s, &["LLEN", "l"]), int(8));
    assert_eq!(run(&s, &["LINDEX", "l", "-1"]), bulk("3"));
    assert_eq!(run(&s, &["LINDEX", "l", "8"]), Frame::Null);
    assert_eq!(run(&s, &["LINDEX", "nokey", "abc"]), Frame::Null);
    assert_eq!(
        run(&s, &["LINDEX", "l", "abc"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        run(&s, &["LRANGE", "l", "-100", "100"]),
        bulks(&["a", "b", "c", "a", "b", "1", "2", "3"])
    );
    assert_eq!(run(&s, &["LRANGE", "l", "-3", "-2"]), bulks(&["1", "2"]));
    assert_eq!(
        run(
            &s,
            &["LRANGE", "l", "9223372036854775807", "-9223372036854775808"]
        ),
        arr(vec![])
    );
    assert_eq!(run(&s, &["LPOP", "l", "0"]), arr(vec![]));
    assert_eq!(run(&s, &["LPOP", "nokey", "5"]), Frame::NullArray);
    assert_eq!(run(&s, &["LPOP", "nokey"]), Frame::Null);
    assert_eq!(
        run(&s, &["LPOP", "l", "-1"]),
        err("ERR value is out of range, must be positive")
    );
    assert_eq!(
        run(&s, &["LPOP", "l", "abc"]),
        err("ERR value is out of range, must be positive")
    );
    assert_eq!(
        run(&s, &["LPOP", "l", "1", "2"]),
        err("ERR wrong number of arguments for 'lpop' command")
    );
    assert_eq!(run(&s, &["RPOP", "l", "2"]), bulks(&["3", "2"]));
    assert_eq!(run(&s, &["LPOP", "l"]), bulk("a"));
    // A huge count pops what there is and deletes the key.
    assert_eq!(
        run(&s, &["RPOP", "l", "9223372036854775807"]),
        bulks(&["1", "b", "a", "c", "b"])
    );
    assert_eq!(run(&s, &["EXISTS", "l"]), int(0));
    assert_eq!(run(&s, &["LPUSHX", "l", "x"]), int(0));
    assert_eq!(run(&s, &["LPUSH", "l", "x", "y"]), int(2));
    assert_eq!(run(&s, &["RPUSHX", "l", "z"]), int(3));
    assert_eq!(
        run(&s, &["LRANGE", "l", "0", "-1"]),
        bulks(&["y", "x", "z"])
    );
}

#[test]
fn lpos_options() {
    let s = start();
    setup(&s);
    assert_eq!(run(&s, &["LPOS", "l", "a"]), int(0));
    assert_eq!(run(&s, &["LPOS", "l", "a", "RANK", "-1"]), int(3));
    assert_eq!(
        run(&s, &["LPOS", "l", "a", "RANK", "-9223372036854775808"]),
        int(3)
    );
    assert_eq!(
        run(&s, &["LPOS", "l", "a", "COUNT", "0", "RANK", "-1"]),
        ints(&[3, 0])
    );
    assert_eq!(run(&s, &["LPOS", "l", "b", "RANK", "2"]), int(4));
    assert_eq!(run(&s, &["LPOS", "l", "b", "RANK", "3"]), Frame::Null);
    assert_eq!(run(&s, &["LPOS", "l", "b", "MAXLEN", "2"]), int(1));
    assert_eq!(run(&s, &["LPOS", "l", "c", "MAXLEN", "2"]), Frame::Null);
    assert_eq!(run(&s, &["LPOS", "l", "1", "COUNT", "5"]), ints(&[5]));
    assert_eq!(run(&s, &["LPOS", "nokey", "a", "COUNT", "1"]), arr(vec![]));
    assert_eq!(run(&s, &["LPOS", "nokey", "a"]), Frame::Null);
    assert_eq!(
        run(&s, &["LPOS", "l", "a", "RANK", "0"]),
        err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
    );
    assert_eq!(
        run(&s, &["LPOS", "l", "a", "COUNT", "-1"]),
        err("ERR COUNT can't be negative")
    );
    assert_eq!(
        run(&s, &["LPOS", "l", "a", "COUNT", "x"]),
        err("ERR COUNT can't be negative")
    );
    assert_eq!(
        run(&s, &["LPOS", "l", "a", "MAXLEN", "-1"]),
        err("ERR MAXLEN can't be negative")
    );
    assert_eq!(
        run(&s, &["LPOS", "l", "a", "RANK", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(run(&s, &["LPOS", "l", "a", "foo"]), err("ERR syntax error"));
}

#[test]
fn lmpop_arguments() {
    let s = start();
    setup(&s);
    assert_eq!(
        run(&s, &["LMPOP", "0", "l", "LEFT"]),
        err("ERR numkeys should be greater than 0")
    );
    assert_eq!(
        run(&s, &["LMPOP", "9223372036854775807", "l", "LEFT"]),
        err("ERR syntax error")
    );
    assert_eq!(run(&s, &["LMPOP", "1", "l", "up"]), err("ERR syntax error"));
    assert_eq!(
        run(&s, &["LMPOP", "1", "l", "LEFT", "COUNT", "0"]),
        err("ERR count should be greater than 0")
    );
    assert_eq!(
        run(&s, &["LMPOP", "1", "l", "LEFT", "COUNT", "2", "COUNT", "3"]),
        err("ERR syntax error")
    );
    assert_eq!(run(&s, &["LMPOP", "1", "nokey", "LEFT"]), Frame::NullArray);
    assert_eq!(
        run(&s, &["LMPOP", "2", "nokey", "l", "RIGHT", "COUNT", "3"]),
        arr(vec![bulk("l"), bulks(&["3", "2", "1"])])
    );
    assert_eq!(
        run(
            &s,
            &["LMPOP", "2", "nokey", "l", "LEFT", "COUNT", "9999999999"]
        ),
        arr(vec![bulk("l"), bulks(&["a", "b", "c", "a", "b"])])
    );
    assert_eq!(run(&s, &["EXISTS", "l"]), int(0));
    run(&s, &["SET", "str", "v"]);
    assert_eq!(
        run(&s, &["LMPOP", "2", "nokey", "str", "LEFT"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
}

#[test]
fn set_insert_trim_rem() {
    let s = start();
    setup(&s);
    assert_eq!(
        run(&s, &["LSET", "l", "100", "x"]),
        err("ERR index out of range")
    );
    assert_eq!(
        run(&s, &["LSET", "nokey", "0", "x"]),
        err("ERR no such key")
    );
    assert_eq!(run(&s, &["LSET", "l", "-1", "last"]), ok());
    assert_eq!(
        run(&s, &["LINSERT", "l", "middle", "a", "x"]),
        err("ERR syntax error")
    );
    assert_eq!(run(&s, &["LINSERT", "nokey", "BEFORE", "a", "x"]), int(0));
    assert_eq!(run(&s, &["LINSERT", "l", "BEFORE", "zz", "x"]), int(-1));
    assert_eq!(run(&s, &["LINSERT", "l", "AFTER", "1", "1.5"]), int(9));
    assert_eq!(
        run(&s, &["LREM", "l", "x", "a"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(run(&s, &["LREM", "l", "-1", "b"]), int(1));
    assert_eq!(run(&s, &["LREM", "l", "0", "a"]), int(2));
    assert_eq!(
        run(&s, &["LRANGE", "l", "0", "-1"]),
        bulks(&["b", "c", "1", "1.5", "2", "last"])
    );
    assert_eq!(
        run(&s, &["LTRIM", "nokey", "0", "abc"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(run(&s, &["LTRIM", "l", "1", "-2"]), ok());
    assert_eq!(
        run(&s, &["LRANGE", "l", "0", "-1"]),
        bulks(&["c", "1", "1.5", "2"])
    );
    assert_eq!(run(&s, &["LTRIM", "l", "5", "1"]), ok());
    assert_eq!(run(&s, &["EXISTS", "l"]), int(0));
}

#[test]
fn lmove_and_types() {
    let s = start();
    setup(&s);
    run(&s, &["SET", "str", "v"]);
    assert_eq!(
        run(&s, &["LPUSH", "str", "x"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(
        run(&s, &["LMOVE", "l", "l2", "up", "LEFT"]),
        err("ERR syntax error")
    );
    assert_eq!(
        run(&s, &["LMOVE", "l", "str", "LEFT", "LEFT"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(run(&s, &["LLEN", "l"]), int(8));
    assert_eq!(
        run(&s, &["LMOVE", "nokey", "str", "LEFT", "LEFT"]),
        Frame::Null
    );
    assert_eq!(run(&s, &["LMOVE", "l", "l", "LEFT", "RIGHT"]), bulk("a"));
    assert_eq!(run(&s, &["LINDEX", "l", "-1"]), bulk("a"));
    assert_eq!(run(&s, &["RPOPLPUSH", "l", "dst"]), bulk("a"));
    assert_eq!(run(&s, &["LMOVE", "l", "dst", "RIGHT", "RIGHT"]), bulk("3"));
    assert_eq!(run(&s, &["LRANGE", "dst", "0", "-1"]), bulks(&["a", "3"]));
    // A one-element list moved onto itself survives.
    run(&s, &["RPUSH", "one", "x"]);
    assert_eq!(run(&s, &["RPOPLPUSH", "one", "one"]), bulk("x"));
    assert_eq!(run(&s, &["LRANGE", "one", "0", "-1"]), bulks(&["x"]));
    assert_eq!(run(&s, &["RPOPLPUSH", "one", "two"]), bulk("x"));
    assert_eq!(run(&s, &["EXISTS", "one"]), int(0));
}

#[test]
fn many_nodes_with_small_fill() {
    let s = start();
    assert_eq!(
        run(&s, &["CONFIG", "SET", "list-max-listpack-size", "4"]),
        ok()
    );
    for i in 0..100 {
        run(&s, &["RPUSH", "big", &i.to_string()]);
    }
    assert_eq!(run(&s, &["LINDEX", "big", "57"]), bulk("57"));
    assert_eq!(
        run(&s, &["LRANGE", "big", "48", "51"]),
        bulks(&["48", "49", "50", "51"])
    );
    assert_eq!(run(&s, &["LINSERT", "big", "BEFORE", "50", "x"]), int(101));
    assert_eq!(run(&s, &["LPOS", "big", "x"]), int(50));
    assert_eq!(run(&s, &["LTRIM", "big", "49", "51"]), ok());
    assert_eq!(
        run(&s, &["LRANGE", "big", "0", "-1"]),
        bulks(&["49", "x", "50"])
    );
}
