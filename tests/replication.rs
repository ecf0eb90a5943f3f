//! Replication: the propagated stream as a SYNC client reads it, and a
//! replica following a primary (both snapcache, and with real redis-server
//! on either side when it is installed).

mod common;

use common::*;
use snapcache::{Frame, ServerHandle};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A server in a directory of its own (a replica keeps the snapshot it
/// received as its dump, as Redis does), removed after it.
struct Node {
    s: ServerHandle,
    _dir: TempDir,
}

impl std::ops::Deref for Node {
    type Target = ServerHandle;
    fn deref(&self) -> &ServerHandle {
        &self.s
    }
}

impl Node {
    fn shutdown(self) -> Result<(), snapcache::Error> {
        self.s.shutdown()
    }
}

/// A server whose full syncs start at once (Redis's test suite runs with
/// `repl-diskless-sync-delay 0` too; the default is 5 s).
fn start() -> Node {
    let dir = TempDir::new("repl");
    let s = snapcache::Server::builder()
        .port(0)
        .config("dir", dir.path().to_str().expect("utf-8 path"))
        .config("repl-diskless-sync-delay", "0")
        .start()
        .expect("server starts");
    Node { s, _dir: dir }
}

/// A SYNC attachment: reads the snapshot, then commands of the stream.
struct Stream {
    r: BufReader<TcpStream>,
}

impl Stream {
    fn attach(s: &ServerHandle) -> Stream {
        let mut c = Conn::open(s);
        c.send(&["SYNC"]);
        let mut r = BufReader::new(c.sock);
        let mut line = String::new();
        // Newlines keep a waiting replica's link alive; Redis's replicas
        // skip them.
        while line.trim_end().is_empty() {
            line.clear();
            r.read_line(&mut line).expect("payload header");
        }
        let len: usize = line
            .trim_end()
            .strip_prefix('$')
            .expect("$len")
            .parse()
            .expect("len");
        let mut payload = vec![0u8; len];
        r.read_exact(&mut payload).expect("payload");
        assert!(payload.starts_with(b"REDIS0010"), "an RDB v10 snapshot");
        Stream { r }
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        self.r.read_line(&mut l).expect("line");
        l.trim_end().to_string()
    }

    /// The next command of the stream, as strings.
    fn next(&mut self) -> Vec<String> {
        let n: usize = self
            .line()
            .strip_prefix('*')
            .expect("array")
            .parse()
            .expect("n");
        (0..n)
            .map(|_| {
                let len: usize = self
                    .line()
                    .strip_prefix('$')
                    .expect("bulk")
                    .parse()
                    .expect("len");
                let mut b = vec![0u8; len + 2];
                self.r.read_exact(&mut b).expect("arg");
                String::from_utf8_lossy(&b[..len]).into_owned()
            })
            .collect()
    }

    fn expect(&mut self, want: &[&str]) {
        assert_eq!(self.next(), want);
    }
}

#[test]
fn writes_replay_in_their_deterministic_form() {
    let s = start();
    let mut st = Stream::attach(&s);
    let mut c = Conn::open(&s);
    c.call(&["SET", "plain", "v"], "+OK\r\n");
    st.expect(&["SELECT", "0"]);
    st.expect(&["SET", "plain", "v"]);

    // SET EX replays with an absolute deadline.
    c.call(&["SET", "k", "v", "EX", "100"], "+OK\r\n");
    let cmd = st.next();
    assert_eq!(&cmd[..4], &["SET", "k", "v", "PXAT"]);
    let run_pexpiretime = run(&s, &["PEXPIRETIME", "k"]);
    assert_eq!(run_pexpiretime, int(cmd[4].parse().unwrap()));

    // EXPIRE replays as PEXPIREAT with the same absolute time.
    c.call(&["EXPIRE", "plain", "50"], ":1\r\n");
    let cmd = st.next();
    assert_eq!(&cmd[..2], &["PEXPIREAT", "plain"]);
    assert_eq!(
        run(&s, &["PEXPIRETIME", "plain"]),
        int(cmd[2].parse().unwrap())
    );

    // INCRBYFLOAT replays as SET ... KEEPTTL with the result.
    c.call(&["INCRBYFLOAT", "f", "1.5"], "$3\r\n1.5\r\n");
    st.expect(&["SET", "f", "1.5", "KEEPTTL"]);

    // SET ... GET drops GET; GETDEL becomes DEL; a read changes nothing.
    c.call(&["SET", "g", "1", "GET"], "$-1\r\n");
    st.expect(&["SET", "g", "1"]);
    c.call(&["GET", "g"], "$1\r\n1\r\n");
    c.call(&["GETDEL", "g"], "$1\r\n1\r\n");
    st.expect(&["DEL", "g"]);

    // A transaction with several writes is wrapped; SELECT follows the db.
    c.send(&["MULTI"]);
    c.send(&["SET", "a", "1"]);
    c.send(&["SELECT", "3"]);
    c.send(&["SET", "b", "2"]);
    c.send(&["EXEC"]);
    c.expect("+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n+OK\r\n+OK\r\n");
    st.expect(&["MULTI"]);
    st.expect(&["SET", "a", "1"]);
    st.expect(&["SELECT", "3"]);
    st.expect(&["SET", "b", "2"]);
    st.expect(&["EXEC"]);

    // A blocking pop served at once replays as a plain pop; SPOP as SREM.
    c.call(&["RPUSH", "l", "x", "y"], ":2\r\n");
    st.expect(&["RPUSH", "l", "x", "y"]);
    c.call(&["BLPOP", "l", "0"], "*2\r\n$1\r\nl\r\n$1\r\nx\r\n");
    st.expect(&["lpop", "l"]);
    c.call(&["SADD", "s", "m"], ":1\r\n");
    st.expect(&["SADD", "s", "m"]);
    c.call(&["SPOP", "s"], "$1\r\nm\r\n");
    st.expect(&["SREM", "s", "m"]);

    // FLUSHALL replays even on an empty server, PUBLISH always.
    c.call(&["FLUSHALL"], "+OK\r\n");
    st.expect(&["FLUSHALL"]);
    c.call(&["FLUSHALL"], "+OK\r\n");
    st.expect(&["FLUSHALL"]);
    c.call(&["PUBLISH", "ch", "hi"], ":0\r\n");
    st.expect(&["PUBLISH", "ch", "hi"]);
    s.shutdown().unwrap();
}

#[test]
fn a_replica_follows_its_primary() {
    let p = start();
    run(&p, &["SET", "before", "1"]);
    run(&p, &["RPUSH", "list", "a", "b", "c"]);
    let r = start();
    let port = p.addr().port().to_string();
    assert_eq!(run(&r, &["REPLICAOF", "127.0.0.1", &port]), ok());
    wait_for("the link", || {
        info_field(&r, "replication", "master_link_status") == "up"
    });
    assert_eq!(info_field(&r, "replication", "role"), "slave");
    assert_eq!(run(&r, &["GET", "before"]), bulk("1"));
    assert_eq!(
        run(&r, &["LRANGE", "list", "0", "-1"]),
        arr(vec![bulk("a"), bulk("b"), bulk("c")])
    );

    run(&p, &["SET", "after", "2", "EX", "100"]);
    // WAIT blocks until the replica acknowledged the write.
    let mut c = Conn::open(&p);
    c.call(&["WAIT", "1", "5000"], ":1\r\n");
    assert_eq!(run(&r, &["GET", "after"]), bulk("2"));
    assert_eq!(
        run(&r, &["PEXPIRETIME", "after"]),
        run(&p, &["PEXPIRETIME", "after"])
    );
    assert_eq!(info_field(&p, "replication", "connected_slaves"), "1");

    // A read-only replica refuses writes; WAIT is refused on replicas.
    assert_eq!(
        run(&r, &["SET", "x", "1"]),
        err("READONLY You can't write against a read only replica.")
    );
    assert!(
        matches!(run(&r, &["WAIT", "1", "0"]), Frame::Error(e) if e.starts_with("ERR WAIT cannot be used with replica instances"))
    );

    // Promoted, it keeps its data and takes writes.
    assert_eq!(run(&r, &["REPLICAOF", "NO", "ONE"]), ok());
    assert_eq!(info_field(&r, "replication", "role"), "master");
    assert_eq!(run(&r, &["SET", "x", "1"]), ok());
    assert_eq!(run(&r, &["GET", "after"]), bulk("2"));
    r.shutdown().unwrap();
    p.shutdown().unwrap();
}

#[test]
fn a_replica_proxies_its_primarys_stream_and_role_reports_both_sides() {
    let p = start();
    let r = start();
    let pport = p.addr().port().to_string();
    assert_eq!(
        run(&p, &["ROLE"]),
        arr(vec![bulk("master"), int(0), arr(vec![])])
    );
    assert_eq!(run(&r, &["REPLICAOF", "127.0.0.1", &pport]), ok());
    wait_for("the link", || {
        info_field(&r, "replication", "master_link_status") == "up"
    });
    // The primary's stream is in db 9 when the sub-replica attaches.
    let mut c = Conn::open(&p);
    c.call(&["SELECT", "9"], "+OK\r\n");
    c.call(&["SET", "k", "1"], "+OK\r\n");
    c.call(&["WAIT", "1", "5000"], ":1\r\n");
    let mut st = Stream::attach(&r);
    // No SELECT of the replica's own: the stream goes on in db 9 as the
    // primary sent it, and the snapshot said so (repl-stream-db).
    c.call(&["SET", "k", "2"], "+OK\r\n");
    c.call(&["FLUSHDB"], "+OK\r\n");
    st.expect(&["SET", "k", "2"]);
    st.expect(&["FLUSHDB"]);
    c.call(&["WAIT", "1", "5000"], ":1\r\n");
    st.expect(&["REPLCONF", "GETACK", "*"]);

    // Both sides agree on the offset once the replica has acknowledged it.
    let Frame::Array(role) = run(&p, &["ROLE"]) else {
        panic!("ROLE is an array");
    };
    let Frame::Integer(offset) = role[1] else {
        panic!("the offset is an integer");
    };
    let rport = r.addr().port().to_string();
    wait_for("the replica's ack", || {
        run(&p, &["ROLE"])
            == arr(vec![
                bulk("master"),
                int(offset),
                arr(vec![arr(vec![
                    bulk("127.0.0.1"),
                    bulk(&rport),
                    bulk(&offset.to_string()),
                ])]),
            ])
    });
    assert_eq!(
        run(&r, &["ROLE"]),
        arr(vec![
            bulk("slave"),
            bulk("127.0.0.1"),
            int(p.addr().port().into()),
            bulk("connected"),
            int(offset),
        ])
    );
    r.shutdown().unwrap();
    p.shutdown().unwrap();
}

#[test]
fn clients_blocked_on_a_primary_turned_replica_get_an_error_and_are_closed() {
    let p = start();
    let r = start();
    let mut blocked = Conn::open(&r);
    blocked.send(&["BLPOP", "foo", "0"]);
    wait_for("the client to block", || {
        info_field(&r, "clients", "blocked_clients") == "1"
    });
    let port = p.addr().port().to_string();
    assert_eq!(run(&r, &["REPLICAOF", "127.0.0.1", &port]), ok());
    blocked.expect(
        "-UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)\r\n",
    );
    let mut rest = Vec::new();
    blocked.sock.read_to_end(&mut rest).expect("closed");
    assert!(rest.is_empty());
    assert_eq!(info_field(&r, "clients", "blocked_clients"), "0");
    r.shutdown().unwrap();
    p.shutdown().unwrap();
}

#[test]
fn a_diskless_sync_waits_for_more_replicas_up_to_max_replicas() {
    let dir = TempDir::new("repl");
    let s = snapcache::Server::builder()
        .port(0)
        .config("dir", dir.path().to_str().expect("utf-8 path"))
        .config("repl-diskless-sync-delay", "3600")
        .config("repl-diskless-sync-max-replicas", "2")
        .start()
        .expect("server starts");
    run(&s, &["SET", "k", "v"]);
    let first = {
        let addr = s.addr();
        std::thread::spawn(move || {
            let mut c = TcpStream::connect(addr).expect("connect");
            c.write_all(b"SYNC\r\n").expect("send");
            let mut r = BufReader::new(c);
            let mut line = String::new();
            r.read_line(&mut line).expect("header");
            (line, r)
        })
    };
    let mut c = Conn::open(&s);
    // The first replica waits: counted (as Redis does), in wait_bgsave, no
    // payload sent yet.
    wait_for("the first SYNC to be taken", || {
        matches!(run(&s, &["INFO", "commandstats"]),
            Frame::Bulk(t) if String::from_utf8_lossy(&t).contains("cmdstat_sync:calls=1,"))
    });
    assert_eq!(info_field(&s, "replication", "connected_slaves"), "1");
    assert_eq!(info_field(&s, "stats", "sync_full"), "1");
    assert!(!first.is_finished());
    // The second makes two: both transfers start, from one snapshot.
    c.send(&["SYNC"]);
    let mut r = BufReader::new(c.sock);
    let mut line = String::new();
    r.read_line(&mut line).expect("header");
    let (header, _still_attached) = first.join().expect("first replica");
    assert_eq!(header, line);
    assert!(line.starts_with('$'));
    assert_eq!(info_field(&s, "replication", "connected_slaves"), "2");
    s.shutdown().unwrap();
}

#[test]
fn min_replicas_to_write_refuses_writes_without_replicas() {
    let s = start();
    assert_eq!(
        run(&s, &["CONFIG", "SET", "min-replicas-to-write", "1"]),
        ok()
    );
    assert_eq!(
        run(&s, &["SET", "k", "v"]),
        err("NOREPLICAS Not enough good replicas to write.")
    );
    let mut c = Conn::open(&s);
    c.call(&["MULTI"], "+OK\r\n");
    c.call(&["GET", "k"], "+QUEUED\r\n");
    c.call(
        &["SET", "k", "v"],
        "-NOREPLICAS Not enough good replicas to write.\r\n",
    );
    c.call(
        &["EXEC"],
        "-EXECABORT Transaction discarded because of previous errors.\r\n",
    );
    assert_eq!(run(&s, &["GET", "k"]), Frame::Null);
    s.shutdown().unwrap();
}

/// Real redis-server 7.0, when installed (scripts/setup.sh installs it),
/// or the snapcache-server binary: a server process on a port of its own.
struct Redis {
    child: Child,
    port: u16,
    _dir: TempDir,
    bin: String,
    extra: Vec<String>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Redis {
    fn start(extra: &[&str]) -> Option<Redis> {
        let bin = "/usr/bin/redis-server";
        if !Path::new(bin).exists() {
            eprintln!("skipping: {bin} is not installed (scripts/setup.sh installs it)");
            return None;
        }
        Some(Redis::spawn(bin, extra))
    }

    /// Our own server binary as a process.
    fn snapcache(extra: &[&str]) -> Redis {
        Redis::spawn(env!("CARGO_BIN_EXE_snapcache-server"), extra)
    }

    fn spawn(bin: &str, extra: &[&str]) -> Redis {
        let dir = TempDir::new("redis");
        let mut r = Redis {
            child: Command::new("true").spawn().expect("spawn true"),
            port: free_port(),
            _dir: dir,
            bin: bin.to_string(),
            extra: extra.iter().map(|a| a.to_string()).collect(),
        };
        let _ = r.child.wait();
        r.child = r.launch();
        wait_for("the server process", || r.cmd(&["PING"]) == "+PONG");
        r
    }

    fn launch(&self) -> Child {
        Command::new(&self.bin)
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--enable-debug-command",
                "yes",
                "--repl-diskless-sync-delay",
                "0",
            ])
            .arg("--dir")
            .arg(&self._dir.0)
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the server")
    }

    /// SHUTDOWN SAVE, then the same server again on the same port and
    /// directory.
    fn restart(&mut self) {
        let _ = self.cmd(&["SHUTDOWN", "SAVE"]);
        let _ = self.child.wait();
        self.child = self.launch();
        wait_for("the restarted server", || self.cmd(&["PING"]) == "+PONG");
    }

    /// One field of `INFO section`.
    fn field(&self, section: &str, field: &str) -> String {
        let Ok(sock) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return String::new();
        };
        use std::io::Write;
        let mut w = &sock;
        let _ = w.write_all(format!("INFO {section}\r\n").as_bytes());
        let mut r = BufReader::new(&sock);
        let mut header = String::new();
        let _ = r.read_line(&mut header);
        let len: usize = header
            .trim_end()
            .trim_start_matches('$')
            .parse()
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        let _ = r.read_exact(&mut body);
        String::from_utf8_lossy(&body)
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
            .unwrap_or_default()
    }

    /// (sync_full, sync_partial_ok) of INFO stats.
    fn syncs(&self) -> (String, String) {
        (
            self.field("stats", "sync_full"),
            self.field("stats", "sync_partial_ok"),
        )
    }

    /// One command over a fresh connection; the reply's first line.
    fn cmd(&self, args: &[&str]) -> String {
        let Ok(sock) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return String::new();
        };
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut req = format!("*{}\r\n", args.len());
        for a in args {
            req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        use std::io::Write;
        let mut w = &sock;
        if w.write_all(req.as_bytes()).is_err() {
            return String::new();
        }
        let mut r = BufReader::new(&sock);
        let mut line = String::new();
        let _ = r.read_line(&mut line);
        if line.starts_with('$') && line.trim_end() != "$-1" {
            let mut v = String::new();
            let _ = r.read_line(&mut v);
            return v.trim_end().to_string();
        }
        line.trim_end().to_string()
    }

    fn info(&self, field: &str) -> String {
        self.field("replication", field)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn real_redis_replicates_from_snapcache() {
    let dir = TempDir::new("repl");
    let p = server_in(&dir, &[]);
    run(&p, &["SET", "k", "v"]);
    run(&p, &["HSET", "h", "f", "1", "g", "2"]);
    run(&p, &["ZADD", "z", "1.5", "m"]);
    let port = p.addr().port().to_string();
    let Some(redis) = Redis::start(&["--replicaof", "127.0.0.1", &port]) else {
        return;
    };
    wait_for("redis-server's link", || {
        redis.info("master_link_status") == "up"
    });
    assert_eq!(redis.cmd(&["GET", "k"]), "v");
    assert_eq!(redis.cmd(&["HGET", "h", "g"]), "2");
    run(&p, &["SET", "later", "x", "PX", "100000"]);
    run(&p, &["INCRBYFLOAT", "n", "2.5"]);
    wait_for("the stream", || redis.cmd(&["GET", "n"]) == "2.5");
    assert_eq!(redis.cmd(&["GET", "later"]), "x");
    assert_eq!(redis.cmd(&["ZSCORE", "z", "m"]), "1.5");
    assert_eq!(redis.cmd(&["DEBUG", "DIGEST"]), format!("+{}", digest(&p)));
    p.shutdown().unwrap();
}

#[test]
fn snapcache_replicates_from_real_redis() {
    let Some(redis) = Redis::start(&[]) else {
        return;
    };
    redis.cmd(&["SET", "k", "v"]);
    redis.cmd(&["RPUSH", "l", "1", "2", "3"]);
    redis.cmd(&["SADD", "s", "1", "2"]);
    let dir = TempDir::new("repl");
    let r = server_in(&dir, &[]);
    assert_eq!(
        run(&r, &["REPLICAOF", "127.0.0.1", &redis.port.to_string()]),
        ok()
    );
    wait_for("the link", || {
        info_field(&r, "replication", "master_link_status") == "up"
    });
    assert_eq!(run(&r, &["GET", "k"]), bulk("v"));
    assert_eq!(run(&r, &["SCARD", "s"]), int(2));
    redis.cmd(&["SET", "later", "x"]);
    redis.cmd(&["LPUSH", "l", "0"]);
    wait_for("the stream", || run(&r, &["GET", "later"]) == bulk("x"));
    assert_eq!(run(&r, &["LLEN", "l"]), int(4));
    assert_eq!(redis.cmd(&["DEBUG", "DIGEST"]), format!("+{}", digest(&r)));
    r.shutdown().unwrap();
}

/// Waits until `replica` has applied everything `primary` wrote: equal
/// replication offsets, then equal digests.
fn wait_caught_up(primary: &Redis, replica: &Redis) {
    wait_for("the replica to catch up", || {
        let off = primary.field("replication", "master_repl_offset");
        replica.info("master_link_status") == "up" && replica.info("slave_repl_offset") == off
    });
    assert_eq!(
        primary.cmd(&["DEBUG", "DIGEST"]),
        replica.cmd(&["DEBUG", "DIGEST"])
    );
}

/// Item 6 of the replication issue, one direction: `primary` and
/// `replica` (one of them real redis-server, the other snapcache) go
/// through a full sync, a cut link, a replica restart and a primary
/// restart; every reconnection after the first sync is a `+CONTINUE`.
fn interop_partial_resyncs(primary: &mut Redis, replica: &mut Redis) {
    primary.cmd(&["SET", "k", "v"]);
    primary.cmd(&["DEBUG", "POPULATE", "2000", "key", "100"]);
    primary.cmd(&["HSET", "h", "f", "1"]);
    let port = primary.port.to_string();
    assert_eq!(replica.cmd(&["REPLICAOF", "127.0.0.1", &port]), "+OK");
    wait_caught_up(primary, replica);
    assert_eq!(primary.syncs(), ("1".into(), "0".into()));

    // The link is cut: the replica continues from the backlog.
    assert_eq!(replica.cmd(&["CLIENT", "KILL", "TYPE", "master"]), ":1");
    primary.cmd(&["SET", "after-cut", "1"]);
    primary.cmd(&["INCR", "n"]);
    wait_caught_up(primary, replica);
    assert_eq!(replica.cmd(&["GET", "after-cut"]), "1");
    assert_eq!(primary.syncs(), ("1".into(), "1".into()));

    // The same from the primary's side.
    assert_eq!(primary.cmd(&["CLIENT", "KILL", "TYPE", "replica"]), ":1");
    primary.cmd(&["INCR", "n"]);
    wait_caught_up(primary, replica);
    assert_eq!(primary.syncs(), ("1".into(), "2".into()));

    // The replica restarts from its own dump (repl-id / repl-offset).
    replica
        .extra
        .extend(["--replicaof".to_string(), "127.0.0.1".into(), port.clone()]);
    replica.restart();
    primary.cmd(&["SET", "after-replica-restart", "1"]);
    wait_caught_up(primary, replica);
    assert_eq!(primary.syncs(), ("1".into(), "3".into()));

    // The primary restarts: it keeps its old ID as replid2, and the
    // replica continues (the counters start again with the process).
    primary.restart();
    primary.cmd(&["SET", "after-primary-restart", "1"]);
    wait_caught_up(primary, replica);
    assert_eq!(replica.cmd(&["GET", "after-primary-restart"]), "1");
    assert_eq!(primary.syncs(), ("0".into(), "1".into()));
}

#[test]
fn real_redis_replica_of_snapcache_resyncs_partially_after_cuts_and_restarts() {
    if !Path::new("/usr/bin/redis-server").exists() {
        eprintln!("skipping: redis-server is not installed (scripts/setup.sh installs it)");
        return;
    }
    let mut primary = Redis::snapcache(&[]);
    let Some(mut replica) = Redis::start(&[]) else {
        return;
    };
    interop_partial_resyncs(&mut primary, &mut replica);
}

#[test]
fn snapcache_replica_of_real_redis_resyncs_partially_after_cuts_and_restarts() {
    let Some(mut primary) = Redis::start(&["--repl-diskless-sync-delay", "0"]) else {
        return;
    };
    let mut replica = Redis::snapcache(&[]);
    interop_partial_resyncs(&mut primary, &mut replica);
}

#[test]
fn snapcache_replica_of_snapcache_resyncs_partially_after_cuts_and_restarts() {
    let mut primary = Redis::snapcache(&[]);
    let mut replica = Redis::snapcache(&[]);
    interop_partial_resyncs(&mut primary, &mut replica);
}
