//! The wire protocol over real sockets: pipelining, inline commands,
//! RESP3, and protocol errors that close the connection.

mod common;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

fn connect(s: &snapcache::ServerHandle) -> TcpStream {
    let c = TcpStream::connect(s.addr()).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c
}

/// Reads until `want` bytes arrived (or the peer closed).
fn read_n(c: &mut TcpStream, want: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while got.len() < want {
        let n = c.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    got
}

#[test]
fn pipelined_requests_get_replies_in_order() {
    let s = common::start();
    let mut c = connect(&s);
    c.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n")
        .unwrap();
    let expected = b"+OK\r\n$1\r\nv\r\n+PONG\r\n";
    assert_eq!(read_n(&mut c, expected.len()), expected);
}

#[test]
fn request_split_across_writes() {
    let s = common::start();
    let mut c = connect(&s);
    for chunk in [&b"*2\r\n$4\r\nEC"[..], b"HO\r\n$5\r\nhel", b"lo\r\n"] {
        c.write_all(chunk).unwrap();
        c.flush().unwrap();
    }
    assert_eq!(read_n(&mut c, 11), b"$5\r\nhello\r\n");
}

#[test]
fn inline_commands_with_quotes() {
    let s = common::start();
    let mut c = connect(&s);
    c.write_all(b"SET k \"a b\\x41\"\r\nGET k\r\n").unwrap();
    let expected = b"+OK\r\n$4\r\na bA\r\n";
    assert_eq!(read_n(&mut c, expected.len()), expected);
}

#[test]
fn resp3_after_hello() {
    let s = common::start();
    let mut c = connect(&s);
    c.write_all(b"HELLO 3\r\nGET missing\r\n").unwrap();
    let mut all = Vec::new();
    while !all.ends_with(b"*0\r\n_\r\n") {
        let more = read_n(&mut c, 1);
        assert!(!more.is_empty(), "connection closed early: {all:?}");
        all.extend_from_slice(&more);
    }
    assert!(all.starts_with(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n"));
}

#[test]
fn protocol_error_replies_and_closes() {
    let s = common::start();
    let mut c = connect(&s);
    c.write_all(b"*1\r\nfoo\r\n").unwrap();
    let mut got = Vec::new();
    c.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"-ERR Protocol error: expected '$', got 'f'\r\n");

    let mut c = connect(&s);
    c.write_all(b"*2000000\r\n").unwrap();
    let mut got = Vec::new();
    c.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"-ERR Protocol error: invalid multibulk length\r\n");

    let mut c = connect(&s);
    c.write_all(b"*1\r\n$-5\r\n").unwrap();
    let mut got = Vec::new();
    c.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"-ERR Protocol error: invalid bulk length\r\n");
}

#[test]
fn unknown_command_and_arity_errors() {
    let s = common::start();
    let mut c = connect(&s);
    c.write_all(b"FOO a b\r\nGET\r\n").unwrap();
    let expected = b"-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n-ERR wrong number of arguments for 'get' command\r\n";
    assert_eq!(read_n(&mut c, expected.len()), &expected[..]);
}

#[test]
fn quit_closes_after_ok() {
    let s = common::start();
    let mut c = connect(&s);
    c.write_all(b"QUIT\r\n").unwrap();
    let mut got = Vec::new();
    c.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"+OK\r\n");
}
