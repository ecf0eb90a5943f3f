//! Bitmap commands through the in-process API, with exact replies. Several
//! cases are the examples of Redis's command documentation.

mod common;
use bytes::Bytes;
use common::*;
use snapcache::{Frame, ServerHandle};

/// Runs a command whose arguments may not be UTF-8.
fn runb(s: &ServerHandle, args: &[&[u8]]) -> Frame {
    s.execute(args).expect("engine running")
}

fn bulkb(b: &[u8]) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(b))
}

const BIT_OFFSET: &str = "ERR bit offset is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";
const NOT_INT: &str = "ERR value is not an integer or out of range";

#[test]
fn setbit_and_getbit() {
    let s = start();
    assert_eq!(run(&s, &["SETBIT", "k", "7", "1"]), int(0));
    assert_eq!(run(&s, &["GET", "k"]), bulkb(b"\x01"));
    assert_eq!(run(&s, &["SETBIT", "k", "7", "1"]), int(1));
    assert_eq!(run(&s, &["SETBIT", "k", "7", "0"]), int(1));
    assert_eq!(run(&s, &["SETBIT", "k", "0", "1"]), int(0));
    assert_eq!(run(&s, &["SETBIT", "k", "17", "1"]), int(0));
    assert_eq!(run(&s, &["GET", "k"]), bulkb(b"\x80\x00\x40"));
    assert_eq!(run(&s, &["GETBIT", "k", "0"]), int(1));
    assert_eq!(run(&s, &["GETBIT", "k", "1"]), int(0));
    assert_eq!(run(&s, &["GETBIT", "k", "17"]), int(1));
    assert_eq!(run(&s, &["GETBIT", "k", "1000000"]), int(0));
    assert_eq!(run(&s, &["GETBIT", "missing", "3"]), int(0));
    assert_eq!(run(&s, &["EXISTS", "missing"]), int(0));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "k"]), bulk("raw"));
}

#[test]
fn setbit_errors() {
    let s = start();
    assert_eq!(run(&s, &["SETBIT", "k", "-1", "1"]), err(BIT_OFFSET));
    assert_eq!(run(&s, &["SETBIT", "k", "abc", "1"]), err(BIT_OFFSET));
    // Byte 512 MiB would exceed proto-max-bulk-len.
    assert_eq!(
        run(&s, &["SETBIT", "k", "4294967296", "1"]),
        err(BIT_OFFSET)
    );
    assert_eq!(run(&s, &["GETBIT", "k", "4294967296"]), err(BIT_OFFSET));
    assert_eq!(
        run(&s, &["SETBIT", "k", "0", "2"]),
        err("ERR bit is not an integer or out of range")
    );
    assert_eq!(
        run(&s, &["SETBIT", "k", "0", "-1"]),
        err("ERR bit is not an integer or out of range")
    );
    assert_eq!(
        run(&s, &["SETBIT", "k", "0", "on"]),
        err("ERR bit is not an integer or out of range")
    );
    assert_eq!(run(&s, &["EXISTS", "k"]), int(0));
    assert_eq!(
        run(&s, &["SETBIT", "k", "0"]),
        err("ERR wrong number of arguments for 'setbit' command")
    );
}

#[test]
fn bits_of_integer_encoded_strings() {
    let s = start();
    // "1" is 0x31 = 0b0011_0001.
    run(&s, &["SET", "i", "1"]);
    let bits: Vec<Frame> = (0..8)
        .map(|b| run(&s, &["GETBIT", "i", &b.to_string()]))
        .collect();
    assert_eq!(bits, [0, 0, 1, 1, 0, 0, 0, 1].map(int).to_vec());
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "i"]), bulk("int"));
    assert_eq!(run(&s, &["BITCOUNT", "i"]), int(3));
    // Writing a bit makes it a raw string.
    assert_eq!(run(&s, &["SETBIT", "i", "6", "1"]), int(0));
    assert_eq!(run(&s, &["GET", "i"]), bulk("3"));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "i"]), bulk("raw"));
}

#[test]
fn bitcount() {
    let s = start();
    run(&s, &["SET", "mykey", "foobar"]);
    assert_eq!(run(&s, &["BITCOUNT", "mykey"]), int(26));
    assert_eq!(run(&s, &["BITCOUNT", "mykey", "0", "0"]), int(4));
    assert_eq!(run(&s, &["BITCOUNT", "mykey", "1", "1"]), int(6));
    assert_eq!(run(&s, &["BITCOUNT", "mykey", "1", "1", "BYTE"]), int(6));
    assert_eq!(run(&s, &["BITCOUNT", "mykey", "5", "30", "BIT"]), int(17));
    assert_eq!(run(&s, &["BITCOUNT", "mykey", "-2", "-1"]), int(7));
    assert_eq!(run(&s, &["BITCOUNT", "mykey", "-1", "-2"]), int(0));
    assert_eq!(run(&s, &["BITCOUNT", "mykey", "6", "100"]), int(0));
    assert_eq!(run(&s, &["BITCOUNT", "mykey", "48", "100", "bit"]), int(0));
    assert_eq!(run(&s, &["BITCOUNT", "mykey", "-100", "100"]), int(26));
    assert_eq!(run(&s, &["BITCOUNT", "nokey"]), int(0));
    assert_eq!(run(&s, &["BITCOUNT", "nokey", "0", "1000", "bit"]), int(0));
    assert_eq!(run(&s, &["BITCOUNT", "mykey", "0"]), err(SYNTAX));
    assert_eq!(
        run(&s, &["BITCOUNT", "mykey", "0", "1", "hello"]),
        err(SYNTAX)
    );
    assert_eq!(
        run(&s, &["BITCOUNT", "mykey", "0", "1", "bit", "x"]),
        err(SYNTAX)
    );
    assert_eq!(run(&s, &["BITCOUNT", "mykey", "a", "1"]), err(NOT_INT));
    // As Redis 7.0, a missing key answers 0 before the arguments are checked.
    assert_eq!(run(&s, &["BITCOUNT", "nokey", "0", "1", "hello"]), int(0));
}

#[test]
fn bitcount_long_strings_by_word() {
    let s = start();
    let v = vec![0xa5u8; 1000]; // four bits per byte
    runb(&s, &[b"SET", b"long", &v]);
    assert_eq!(run(&s, &["BITCOUNT", "long"]), int(4000));
    assert_eq!(run(&s, &["BITCOUNT", "long", "3", "996"]), int(3976));
    // Bits 5..=7990: byte 0 from bit 5 (0xa5 & 0x07 -> 2 bits), bytes 1..998,
    // byte 998 up to bit 6 (0xa5 & 0xfe -> 3 bits).
    assert_eq!(
        run(&s, &["BITCOUNT", "long", "5", "7990", "BIT"]),
        int(2 + 997 * 4 + 3)
    );
}

#[test]
fn bitpos() {
    let s = start();
    runb(&s, &[b"SET", b"mykey", b"\xff\xf0\x00"]);
    assert_eq!(run(&s, &["BITPOS", "mykey", "0"]), int(12));
    runb(&s, &[b"SET", b"mykey", b"\x00\xff\xf0"]);
    assert_eq!(run(&s, &["BITPOS", "mykey", "1", "0"]), int(8));
    assert_eq!(run(&s, &["BITPOS", "mykey", "1", "2"]), int(16));
    assert_eq!(
        run(&s, &["BITPOS", "mykey", "1", "2", "-1", "BYTE"]),
        int(16)
    );
    assert_eq!(run(&s, &["BITPOS", "mykey", "1", "7", "15", "BIT"]), int(8));
    assert_eq!(run(&s, &["BITPOS", "mykey", "1", "7", "-3", "BIT"]), int(8));
    assert_eq!(
        run(&s, &["BITPOS", "mykey", "0", "8", "11", "BIT"]),
        int(-1)
    );
    assert_eq!(
        run(&s, &["BITPOS", "mykey", "0", "8", "20", "BIT"]),
        int(20)
    );
    assert_eq!(run(&s, &["BITPOS", "nokey", "0"]), int(0));
    assert_eq!(run(&s, &["BITPOS", "nokey", "1"]), int(-1));

    runb(&s, &[b"SET", b"ones", b"\xff\xff\xff"]);
    assert_eq!(run(&s, &["BITPOS", "ones", "0"]), int(24));
    assert_eq!(run(&s, &["BITPOS", "ones", "0", "1"]), int(24));
    assert_eq!(run(&s, &["BITPOS", "ones", "0", "0", "-1"]), int(-1));
    assert_eq!(run(&s, &["BITPOS", "ones", "0", "0", "-1", "bit"]), int(-1));
    assert_eq!(run(&s, &["BITPOS", "ones", "1", "3", "1"]), int(-1));

    runb(&s, &[b"SET", b"zeros", &[0u8; 100]]);
    assert_eq!(run(&s, &["BITPOS", "zeros", "1"]), int(-1));
    assert_eq!(run(&s, &["BITPOS", "zeros", "0", "37"]), int(296));
    assert_eq!(run(&s, &["SETBIT", "zeros", "701", "1"]), int(0));
    assert_eq!(run(&s, &["BITPOS", "zeros", "1"]), int(701));
    assert_eq!(run(&s, &["BITPOS", "zeros", "1", "87"]), int(701));
    assert_eq!(run(&s, &["BITPOS", "zeros", "1", "88"]), int(-1));
    assert_eq!(
        run(&s, &["BITPOS", "zeros", "1", "702", "-1", "BIT"]),
        int(-1)
    );

    assert_eq!(
        run(&s, &["BITPOS", "mykey", "2"]),
        err("ERR The bit argument must be 1 or 0.")
    );
    assert_eq!(run(&s, &["BITPOS", "mykey", "x"]), err(NOT_INT));
    assert_eq!(
        run(&s, &["BITPOS", "mykey", "1", "0", "1", "bits"]),
        err(SYNTAX)
    );
    assert_eq!(
        run(&s, &["BITPOS", "mykey", "1", "0", "1", "bit", "x"]),
        err(SYNTAX)
    );
    assert_eq!(run(&s, &["BITPOS", "mykey", "1", "z"]), err(NOT_INT));
}

#[test]
fn bitop() {
    let s = start();
    run(&s, &["SET", "key1", "foobar"]);
    run(&s, &["SET", "key2", "abcdef"]);
    assert_eq!(run(&s, &["BITOP", "AND", "dest", "key1", "key2"]), int(6));
    assert_eq!(run(&s, &["GET", "dest"]), bulk("`bc`ab"));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "dest"]), bulk("raw"));
    assert_eq!(run(&s, &["BITOP", "or", "dest", "key1", "nokey"]), int(6));
    assert_eq!(run(&s, &["GET", "dest"]), bulk("foobar"));
    assert_eq!(run(&s, &["BITOP", "NOT", "dest", "key1"]), int(6));
    let inverted: Vec<u8> = b"foobar".iter().map(|b| !b).collect();
    assert_eq!(run(&s, &["GET", "dest"]), bulkb(&inverted));

    runb(&s, &[b"SET", b"x", b"\xff\xff"]);
    runb(&s, &[b"SET", b"y", b"\x0f"]);
    assert_eq!(run(&s, &["BITOP", "AND", "r", "x", "y"]), int(2));
    assert_eq!(run(&s, &["GET", "r"]), bulkb(b"\x0f\x00"));
    assert_eq!(run(&s, &["BITOP", "XOR", "r", "y", "x"]), int(2));
    assert_eq!(run(&s, &["GET", "r"]), bulkb(b"\xf0\xff"));
    assert_eq!(run(&s, &["BITOP", "OR", "r", "y", "x"]), int(2));
    assert_eq!(run(&s, &["GET", "r"]), bulkb(b"\xff\xff"));

    // Integer-encoded sources are their decimal text.
    run(&s, &["SET", "n", "123"]);
    assert_eq!(run(&s, &["BITOP", "OR", "r", "n"]), int(3));
    assert_eq!(run(&s, &["GET", "r"]), bulk("123"));

    // The destination is replaced, TTL included.
    run(&s, &["SET", "t", "v", "EX", "100"]);
    assert_eq!(run(&s, &["BITOP", "AND", "t", "key1"]), int(6));
    assert_eq!(run(&s, &["TTL", "t"]), int(-1));

    // An empty result deletes the destination.
    assert_eq!(run(&s, &["BITOP", "AND", "t", "nokey", "nokey2"]), int(0));
    assert_eq!(run(&s, &["EXISTS", "t"]), int(0));

    assert_eq!(
        run(&s, &["BITOP", "NOT", "dest", "key1", "key2"]),
        err("ERR BITOP NOT must be called with a single source key.")
    );
    assert_eq!(run(&s, &["BITOP", "NAND", "dest", "key1"]), err(SYNTAX));
    assert_eq!(
        run(&s, &["BITOP", "AND", "dest"]),
        err("ERR wrong number of arguments for 'bitop' command")
    );
}

#[test]
fn bitfield_set_get_incrby() {
    let s = start();
    assert_eq!(
        run(&s, &["BITFIELD", "bits", "SET", "i8", "0", "-100"]),
        arr(vec![int(0)])
    );
    assert_eq!(
        run(&s, &["BITFIELD", "bits", "SET", "i8", "0", "101"]),
        arr(vec![int(-100)])
    );
    assert_eq!(
        run(&s, &["BITFIELD", "bits", "GET", "i8", "0"]),
        arr(vec![int(101)])
    );
    assert_eq!(
        run(
            &s,
            &[
                "BITFIELD", "bits", "set", "i8", "0", "255", "set", "i8", "0", "100", "get", "i8",
                "0"
            ]
        ),
        arr(vec![int(101), int(-1), int(100)])
    );
    run(&s, &["DEL", "bits"]);
    assert_eq!(
        run(
            &s,
            &[
                "BITFIELD", "bits", "set", "u8", "0", "255", "incrby", "u8", "0", "100", "get",
                "u8", "0"
            ]
        ),
        arr(vec![int(0), int(99), int(99)])
    );
    assert_eq!(run(&s, &["BITFIELD", "bits"]), arr(vec![]));
    assert_eq!(
        run(
            &s,
            &["BITFIELD", "mykey", "INCRBY", "i5", "100", "1", "GET", "u4", "0"]
        ),
        arr(vec![int(1), int(0)])
    );

    run(&s, &["DEL", "abc"]);
    for (i, ch) in ["65", "66", "67"].iter().enumerate() {
        run(&s, &["BITFIELD", "abc", "SET", "u8", &format!("#{i}"), ch]);
    }
    assert_eq!(run(&s, &["GET", "abc"]), bulk("ABC"));
    assert_eq!(
        run(
            &s,
            &["BITFIELD", "abc", "GET", "u8", "#1", "GET", "i4", "#3"]
        ),
        arr(vec![int(66), int(2)])
    );
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "abc"]), bulk("raw"));

    // Widest types, across byte boundaries.
    assert_eq!(
        run(
            &s,
            &["BITFIELD", "w", "SET", "i64", "3", "-2", "GET", "i64", "3", "GET", "u63", "3"]
        ),
        arr(vec![int(0), int(-2), int(i64::MAX)])
    );
    assert_eq!(
        run(
            &s,
            &[
                "BITFIELD",
                "w",
                "SET",
                "u63",
                "3",
                "9223372036854775807",
                "GET",
                "u63",
                "3"
            ]
        ),
        arr(vec![int(i64::MAX), int(i64::MAX)])
    );
    assert_eq!(run(&s, &["STRLEN", "w"]), int(9));

    // GETs alone read zeros from a missing key and do not create it.
    assert_eq!(
        run(
            &s,
            &["BITFIELD", "none", "GET", "u8", "0", "GET", "i64", "#9"]
        ),
        arr(vec![int(0), int(0)])
    );
    assert_eq!(run(&s, &["EXISTS", "none"]), int(0));
}

#[test]
fn bitfield_overflow() {
    let s = start();
    let sequence = [(1, 1), (2, 2), (3, 3), (0, 3)];
    for (wrap, sat) in sequence {
        assert_eq!(
            run(
                &s,
                &[
                    "BITFIELD", "mykey", "incrby", "u2", "100", "1", "OVERFLOW", "SAT", "incrby",
                    "u2", "102", "1"
                ]
            ),
            arr(vec![int(wrap), int(sat)])
        );
    }
    run(&s, &["BITFIELD", "u", "SET", "u8", "0", "250"]);
    assert_eq!(
        run(
            &s,
            &[
                "BITFIELD", "u", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "10", "OVERFLOW", "SAT",
                "INCRBY", "u8", "0", "10"
            ]
        ),
        arr(vec![Frame::Null, int(255)])
    );
    assert_eq!(
        run(&s, &["BITFIELD", "u", "INCRBY", "u8", "0", "10"]),
        arr(vec![int(9)])
    );
    assert_eq!(
        run(&s, &["BITFIELD", "u", "INCRBY", "u8", "0", "-10"]),
        arr(vec![int(255)])
    );
    assert_eq!(
        run(
            &s,
            &["BITFIELD", "u", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "-300"]
        ),
        arr(vec![int(0)])
    );
    assert_eq!(
        run(
            &s,
            &["BITFIELD", "u", "OVERFLOW", "SAT", "SET", "u8", "0", "-1"]
        ),
        arr(vec![int(0)])
    );
    assert_eq!(
        run(&s, &["BITFIELD", "u", "GET", "u8", "0"]),
        arr(vec![int(255)])
    );

    assert_eq!(
        run(
            &s,
            &["BITFIELD", "i", "SET", "i8", "0", "127", "INCRBY", "i8", "0", "1"]
        ),
        arr(vec![int(0), int(-128)])
    );
    assert_eq!(
        run(
            &s,
            &["BITFIELD", "i", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-1"]
        ),
        arr(vec![int(-128)])
    );
    assert_eq!(
        run(
            &s,
            &["BITFIELD", "i", "OVERFLOW", "FAIL", "SET", "i8", "0", "128"]
        ),
        arr(vec![Frame::Null])
    );
    assert_eq!(
        run(
            &s,
            &[
                "BITFIELD",
                "i",
                "SET",
                "i64",
                "0",
                "9223372036854775807",
                "INCRBY",
                "i64",
                "0",
                "1"
            ]
        ),
        arr(vec![int(i64::MIN), int(i64::MIN)])
    );
    assert_eq!(
        run(
            &s,
            &[
                "BITFIELD",
                "i",
                "OVERFLOW",
                "SAT",
                "INCRBY",
                "i64",
                "0",
                "-1",
                "INCRBY",
                "i64",
                "0",
                "9223372036854775807"
            ]
        ),
        arr(vec![int(i64::MIN), int(-1)])
    );

    // A failed write still creates the key, as Redis sizes the string first.
    assert_eq!(
        run(
            &s,
            &["BITFIELD", "z", "OVERFLOW", "FAIL", "SET", "u2", "0", "7"]
        ),
        arr(vec![Frame::Null])
    );
    assert_eq!(run(&s, &["GET", "z"]), bulkb(b"\x00"));
}

#[test]
fn bitfield_errors_and_ro() {
    let s = start();
    const TYPE: &str = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
    assert_eq!(run(&s, &["BITFIELD", "k", "GET", "u64", "0"]), err(TYPE));
    assert_eq!(run(&s, &["BITFIELD", "k", "GET", "i65", "0"]), err(TYPE));
    assert_eq!(run(&s, &["BITFIELD", "k", "GET", "u0", "0"]), err(TYPE));
    assert_eq!(run(&s, &["BITFIELD", "k", "GET", "s8", "0"]), err(TYPE));
    assert_eq!(
        run(&s, &["BITFIELD", "k", "GET", "u8", "-1"]),
        err(BIT_OFFSET)
    );
    assert_eq!(
        run(&s, &["BITFIELD", "k", "GET", "u8", "#-1"]),
        err(BIT_OFFSET)
    );
    assert_eq!(
        run(&s, &["BITFIELD", "k", "GET", "u8", "4294967296"]),
        err(BIT_OFFSET)
    );
    assert_eq!(
        run(&s, &["BITFIELD", "k", "SET", "u8", "#536870912", "1"]),
        err(BIT_OFFSET)
    );
    assert_eq!(
        run(&s, &["BITFIELD", "k", "OVERFLOW", "MAYBE"]),
        err("ERR Invalid OVERFLOW type specified")
    );
    assert_eq!(run(&s, &["BITFIELD", "k", "GET", "u8"]), err(SYNTAX));
    assert_eq!(run(&s, &["BITFIELD", "k", "FROB", "u8", "0"]), err(SYNTAX));
    assert_eq!(
        run(&s, &["BITFIELD", "k", "SET", "u8", "0", "x"]),
        err(NOT_INT)
    );
    // Nothing runs when any subcommand is bad.
    assert_eq!(
        run(
            &s,
            &["BITFIELD", "k", "SET", "u8", "0", "1", "GET", "u99", "0"]
        ),
        err(TYPE)
    );
    assert_eq!(run(&s, &["EXISTS", "k"]), int(0));

    run(&s, &["BITFIELD", "k", "SET", "u8", "0", "100"]);
    assert_eq!(
        run(&s, &["BITFIELD_RO", "k", "GET", "u8", "0"]),
        arr(vec![int(100)])
    );
    assert_eq!(run(&s, &["BITFIELD_RO", "k"]), arr(vec![]));
    assert_eq!(
        run(
            &s,
            &["BITFIELD_RO", "k", "SET", "u8", "0", "1", "GET", "u8", "0"]
        ),
        err("ERR BITFIELD_RO only supports the GET subcommand")
    );
    assert_eq!(
        run(&s, &["BITFIELD_RO", "k", "GET", "u8", "0"]),
        arr(vec![int(100)])
    );
}
