//! Streams over the socket: exact replies, blocking reads, and DUMP
//! payloads byte for byte equal to real redis-server 7.0.15's.

mod common;

use common::{start, Conn};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn xadd_xrange_xlen_xdel() {
    let s = start();
    let mut c = Conn::open(&s);
    c.call(&["XADD", "s", "1-1", "a", "1", "b", "x"], "$3\r\n1-1\r\n");
    c.call(&["XADD", "s", "1-*", "a", "2", "b", "y"], "$3\r\n1-2\r\n");
    c.call(&["XADD", "s", "2", "c", "3"], "$3\r\n2-0\r\n");
    c.call(
        &["XADD", "s", "1-5", "a", "1"],
        "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n",
    );
    c.call(
        &["XADD", "s", "0-0", "a", "1"],
        "-ERR The ID specified in XADD must be greater than 0-0\r\n",
    );
    c.call(&["XLEN", "s"], ":3\r\n");
    c.call(
        &["XRANGE", "s", "-", "+", "COUNT", "2"],
        "*2\r\n*2\r\n$3\r\n1-1\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\nx\r\n\
         *2\r\n$3\r\n1-2\r\n*4\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nb\r\n$1\r\ny\r\n",
    );
    c.call(
        &["XREVRANGE", "s", "+", "(1-2"],
        "*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n",
    );
    c.call(&["XDEL", "s", "1-2", "9-9"], ":1\r\n");
    c.call(&["XLEN", "s"], ":2\r\n");
    c.call(&["XTRIM", "s", "MAXLEN", "1"], ":1\r\n");
    c.call(
        &["XRANGE", "s", "-", "+"],
        "*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n",
    );
    c.call(&["TYPE", "s"], "+stream\r\n");
    c.call(&["OBJECT", "ENCODING", "s"], "$6\r\nstream\r\n");
    c.call(
        &["XADD", "s", "NOMKSTREAM", "*", "a"],
        "-ERR wrong number of arguments for 'xadd' command\r\n",
    );
    c.call(&["XADD", "missing", "NOMKSTREAM", "*", "a", "1"], "$-1\r\n");
    c.call(
        &["XRANGE", "s", "x", "+"],
        "-ERR Invalid stream ID specified as stream command argument\r\n",
    );
}

#[test]
fn consumer_groups() {
    let s = start();
    let mut c = Conn::open(&s);
    c.call(&["XADD", "s", "1-0", "f", "v"], "$3\r\n1-0\r\n");
    c.call(&["XADD", "s", "2-0", "f", "w"], "$3\r\n2-0\r\n");
    c.call(&["XGROUP", "CREATE", "s", "g", "0"], "+OK\r\n");
    c.call(
        &["XGROUP", "CREATE", "s", "g", "0"],
        "-BUSYGROUP Consumer Group name already exists\r\n",
    );
    c.call(
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "1",
            "STREAMS",
            "s",
            ">",
        ],
        "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n",
    );
    c.call(
        &["XPENDING", "s", "g"],
        "*4\r\n:1\r\n$3\r\n1-0\r\n$3\r\n1-0\r\n*1\r\n*2\r\n$5\r\nalice\r\n$1\r\n1\r\n",
    );
    c.call(&["XACK", "s", "g", "1-0", "1-0"], ":1\r\n");
    c.call(&["XPENDING", "s", "g"], "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n");
    c.call(
        &["XREADGROUP", "GROUP", "nope", "alice", "STREAMS", "s", ">"],
        "-NOGROUP No such key 's' or consumer group 'nope' in XREADGROUP with GROUP option\r\n",
    );
    c.call(&["XGROUP", "CREATECONSUMER", "s", "g", "bob"], ":1\r\n");
    c.call(&["XGROUP", "DELCONSUMER", "s", "g", "bob"], ":0\r\n");
    c.call(&["XGROUP", "DESTROY", "s", "g"], ":1\r\n");
    c.call(&["XINFO", "GROUPS", "s"], "*0\r\n");
    c.call(
        &["XGROUP", "SETID", "s", "g", "0"],
        "-NOGROUP No such consumer group 'g' for key name 's'\r\n",
    );
}

#[test]
fn blocked_xread_is_served_by_xadd() {
    let s = start();
    let mut r = Conn::open(&s);
    let mut w = Conn::open(&s);
    w.call(&["XADD", "s", "1-0", "f", "v"], "$3\r\n1-0\r\n");
    r.send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    // Wait until the reader is blocked before writing.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info = common::run(&s, &["INFO", "clients"]);
        if format!("{info:?}").contains("blocked_clients:1") {
            break;
        }
        assert!(Instant::now() < deadline, "reader never blocked");
        std::thread::sleep(Duration::from_millis(5));
    }
    w.call(&["XADD", "s", "2-0", "g", "w"], "$3\r\n2-0\r\n");
    r.expect("*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\ng\r\n$1\r\nw\r\n");
}

// ------------------------------------------------------------ real Redis

struct Redis {
    child: Child,
    port: u16,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends one command and returns the raw reply (a bulk string's payload
/// for bulk replies).
fn raw(sock: &mut TcpStream, args: &[&[u8]]) -> Vec<u8> {
    let mut req = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        req.extend_from_slice(a);
        req.extend_from_slice(b"\r\n");
    }
    sock.write_all(&req).unwrap();
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        sock.read_exact(&mut b).unwrap();
        line.push(b[0]);
    }
    if line[0] != b'$' {
        return line;
    }
    let n: usize = String::from_utf8_lossy(&line[1..line.len() - 2])
        .parse()
        .unwrap();
    let mut body = vec![0u8; n + 2];
    sock.read_exact(&mut body).unwrap();
    body.truncate(n);
    body
}

fn start_redis() -> Option<Redis> {
    if !Path::new("/usr/bin/redis-server").exists() {
        eprintln!("skipped: /usr/bin/redis-server is missing (scripts/setup.sh installs it)");
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("/usr/bin/redis-server")
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--save", "", "--appendonly", "no"])
        .args(["--enable-debug-command", "yes"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not answer");
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(Redis { child, port })
}

/// The same operations on both servers give the same DUMP bytes: nodes
/// split by stream-node-max-entries, same-fields compression, deleted
/// entries, trimming, and consumer groups without deliveries.
#[test]
fn dump_matches_real_redis() {
    let Some(redis) = start_redis() else {
        return;
    };
    let ours = snapcache::Server::builder()
        .port(0)
        .config("enable-debug-command", "yes")
        .start()
        .expect("server starts");
    let mut a = TcpStream::connect(("127.0.0.1", redis.port)).unwrap();
    let mut b = TcpStream::connect(ours.addr()).unwrap();
    let mut ops: Vec<Vec<Vec<u8>>> = vec![vec![
        b"CONFIG".to_vec(),
        b"SET".to_vec(),
        b"stream-node-max-entries".to_vec(),
        b"7".to_vec(),
    ]];
    for i in 1..40u64 {
        let id = format!("{}-{}", 1000 + i / 3, i % 3);
        let mut op = vec![b"XADD".to_vec(), b"s".to_vec(), id.into_bytes()];
        if i % 5 == 0 {
            op.extend([b"other".to_vec(), format!("{}", i * 1000).into_bytes()]);
        } else {
            op.extend([
                b"name".to_vec(),
                format!("item-{i}").into_bytes(),
                b"n".to_vec(),
                format!("{}", i as i64 - 20).into_bytes(),
            ]);
        }
        ops.push(op);
    }
    for op in [
        &["XDEL", "s", "1002-0", "1005-1", "1013-0"][..],
        &["XTRIM", "s", "MAXLEN", "30"],
        &["XTRIM", "s", "MINID", "~", "1004"],
        &["XGROUP", "CREATE", "s", "g1", "1003-1"],
        &["XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "5"],
        &["XADD", "e", "MAXLEN", "0", "5-5", "x", "y"],
        &[
            "XSETID",
            "e",
            "9-9",
            "ENTRIESADDED",
            "12",
            "MAXDELETEDID",
            "7-0",
        ],
    ] {
        ops.push(op.iter().map(|s| s.as_bytes().to_vec()).collect());
    }
    for op in &ops {
        let args: Vec<&[u8]> = op.iter().map(|v| &v[..]).collect();
        assert_eq!(raw(&mut a, &args), raw(&mut b, &args), "reply to {op:?}");
    }
    assert_eq!(
        raw(&mut b, &[b"DEBUG", b"DIGEST"]),
        raw(&mut a, &[b"DEBUG", b"DIGEST"])
    );
    for key in ["s", "e"] {
        let want = raw(&mut a, &[b"DUMP", key.as_bytes()]);
        let got = raw(&mut b, &[b"DUMP", key.as_bytes()]);
        assert_eq!(got, want, "DUMP {key}");
        // Real Redis takes ours back.
        let restored = format!("{key}-back");
        assert_eq!(
            raw(&mut a, &[b"RESTORE", restored.as_bytes(), b"0", &got]),
            b"+OK\r\n"
        );
    }
}
