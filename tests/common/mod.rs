//! Helpers shared by the integration tests.
#![allow(dead_code)]

use snapcache::{Frame, Server, ServerHandle};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A server on 127.0.0.1 with a free port.
pub fn start() -> ServerHandle {
    Server::builder().port(0).start().expect("server starts")
}

/// Runs a command in-process and returns its reply.
pub fn run(s: &ServerHandle, args: &[&str]) -> Frame {
    s.execute(args).expect("engine running")
}

/// A server on 127.0.0.1 with a free port that accepts DEBUG.
pub fn debug_server() -> ServerHandle {
    Server::builder()
        .port(0)
        .config("enable-debug-command", "yes")
        .start()
        .expect("server starts")
}

/// A server whose `dir` is `dir`, with DEBUG and protected configs
/// enabled; `extra` is applied last, so it can override those.
pub fn server_in(dir: &TempDir, extra: &[(&str, &str)]) -> ServerHandle {
    let mut b = Server::builder()
        .port(0)
        .config("dir", dir.path().to_str().expect("utf-8 path"))
        .config("enable-debug-command", "yes")
        .config("enable-protected-configs", "yes");
    for (k, v) in extra {
        b = b.config(k, v);
    }
    b.start().expect("server starts")
}

/// One field of `INFO section`; fails the test when it is missing.
pub fn info_field(s: &ServerHandle, section: &str, field: &str) -> String {
    let Frame::Bulk(text) = run(s, &["INFO", section]) else {
        panic!("INFO replies with a bulk string");
    };
    let text = String::from_utf8_lossy(&text).into_owned();
    let prefix = format!("{field}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix).map(str::to_string))
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
}

/// The server's DEBUG DIGEST (the hex text of its simple-string reply).
pub fn digest(s: &ServerHandle) -> String {
    match run(s, &["DEBUG", "DIGEST"]) {
        Frame::Simple(d) => d,
        other => panic!("DEBUG DIGEST replied {other:?}"),
    }
}

pub fn ok() -> Frame {
    Frame::Simple("OK".into())
}

pub fn bulk(s: &str) -> Frame {
    Frame::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

pub fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

pub fn err(s: &str) -> Frame {
    Frame::Error(s.into())
}

pub fn arr(items: Vec<Frame>) -> Frame {
    Frame::Array(items)
}

/// A client over a real socket that checks replies byte for byte.
pub struct Conn {
    pub sock: TcpStream,
}

impl Conn {
    pub fn open(s: &ServerHandle) -> Conn {
        let sock = TcpStream::connect(s.addr()).expect("connect");
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        Conn { sock }
    }

    pub fn send(&mut self, args: &[&str]) {
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
        self.sock.write_all(&req).expect("write");
    }

    /// Reads exactly `want.len()` bytes and compares them with `want`.
    pub fn expect(&mut self, want: &str) {
        let mut got = vec![0u8; want.len()];
        self.sock.read_exact(&mut got).expect("read");
        assert_eq!(String::from_utf8_lossy(&got), want);
    }

    pub fn call(&mut self, args: &[&str], want: &str) {
        self.send(args);
        self.expect(want);
    }

    /// Switches to RESP3, discarding the HELLO reply (a map whose last
    /// entry is `modules`, an empty array).
    pub fn resp3(&mut self) {
        self.send(&["HELLO", "3"]);
        let mut seen = Vec::new();
        let mut b = [0u8; 1];
        while !seen.ends_with(b"$7\r\nmodules\r\n*0\r\n") {
            self.sock.read_exact(&mut b).expect("read");
            seen.push(b[0]);
        }
    }
}

/// Polls `f` until it holds, failing the test after `limit`.
pub fn wait_within(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while !f() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Polls `f` until it holds, for at most 20 seconds.
pub fn wait_for(what: &str, f: impl FnMut() -> bool) {
    wait_within(what, Duration::from_secs(20), f)
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "snapcache-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn dump(&self) -> PathBuf {
        self.0.join("dump.rdb")
    }

    /// A file of the AOF directory.
    pub fn aof(&self, name: &str) -> PathBuf {
        self.0.join("appendonlydir").join(name)
    }

    pub fn manifest(&self) -> String {
        std::fs::read_to_string(self.aof("appendonly.aof.manifest")).expect("manifest")
    }

    /// Names of `temp-*.rdb` files in the directory.
    pub fn temp_files(&self) -> Vec<String> {
        std::fs::read_dir(&self.0)
            .expect("read dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("temp-"))
            .collect()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
