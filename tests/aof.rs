//! The AOF end to end: writes survive a restart, `appendfsync` policies,
//! BGREWRITEAOF compacts and switches the manifest, a truncated tail is
//! recovered, DEBUG LOADAOF round-trips the dataset, and the files are
//! interchangeable with real Redis 7.0.15 (`/usr/bin/redis-server`).

mod common;

use common::{arr, bulk, digest, int, ok, run, wait_for, TempDir};
use snapcache::{Frame, ServerHandle};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One field of INFO persistence.
fn info_field(s: &ServerHandle, field: &str) -> String {
    common::info_field(s, "persistence", field)
}

/// A server on `dir` with the AOF on (`extra` may turn it off).
fn server_in(dir: &TempDir, extra: &[(&str, &str)]) -> ServerHandle {
    common::server_in(dir, &[&[("appendonly", "yes")], extra].concat())
}

fn wait_loaded(s: &ServerHandle) {
    wait_for("the AOF to load", || info_field(s, "loading") == "0");
}

fn wait_rewrite(s: &ServerHandle) {
    wait_for("the AOF rewrite", || {
        info_field(s, "aof_rewrite_in_progress") == "0"
            && info_field(s, "aof_rewrite_scheduled") == "0"
    });
}

/// Keys of every type, some with a deadline, in two databases.
fn fill(s: &ServerHandle) {
    assert_eq!(run(s, &["SET", "str", "hello"]), ok());
    assert_eq!(run(s, &["SET", "ttl", "x", "EX", "1000"]), ok());
    assert_eq!(run(s, &["RPUSH", "list", "a", "b", "1", "2"]), int(4));
    assert_eq!(run(s, &["SADD", "ints", "1", "2", "3"]), int(3));
    assert_eq!(run(s, &["HSET", "h", "f", "v", "g", "w"]), int(2));
    assert_eq!(run(s, &["ZADD", "z", "1.5", "a", "2", "b"]), int(2));
    for i in 0..100 {
        assert_eq!(run(s, &["RPUSH", "long", &i.to_string()]), int(i + 1));
    }
    assert_eq!(run(s, &["INCRBYFLOAT", "f", "1.5"]), bulk("1.5"));
    assert_eq!(run(s, &["SELECT", "3"]), ok());
    assert_eq!(run(s, &["SET", "in3", "yes"]), ok());
    assert_eq!(run(s, &["SELECT", "0"]), ok());
}

#[test]
fn writes_survive_a_restart() {
    let dir = TempDir::new("restart");
    let s = server_in(&dir, &[]);
    wait_loaded(&s);
    assert_eq!(
        dir.manifest(),
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
    fill(&s);
    assert!(matches!(run(&s, &["SPOP", "ints"]), Frame::Bulk(_)));
    let d = digest(&s);
    s.shutdown().expect("stops");
    let incr = std::fs::read(dir.aof("appendonly.aof.1.incr.aof")).expect("incr");
    // TTLs are absolute; INCRBYFLOAT replays as SET KEEPTTL; SPOP as SREM.
    let text = String::from_utf8_lossy(&incr);
    assert!(text.contains("$4\r\nPXAT\r\n"), "{text}");
    assert!(
        text.contains("*4\r\n$3\r\nSET\r\n$1\r\nf\r\n$3\r\n1.5\r\n$7\r\nKEEPTTL\r\n"),
        "{text}"
    );
    assert!(text.contains("$4\r\nSREM\r\n"), "{text}");
    assert!(text.contains("*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n"), "{text}");

    let s = server_in(&dir, &[]);
    wait_loaded(&s);
    assert_eq!(digest(&s), d);
    assert_eq!(run(&s, &["GET", "str"]), bulk("hello"));
    let Frame::Integer(ttl) = run(&s, &["TTL", "ttl"]) else {
        panic!("TTL is an integer")
    };
    assert!((990..=1000).contains(&ttl), "{ttl}");
    assert_eq!(info_field(&s, "aof_enabled"), "1");
    assert_eq!(info_field(&s, "aof_last_write_status"), "ok");
    s.shutdown().expect("stops");
}

#[test]
fn every_policy_writes_before_replying() {
    for policy in ["always", "everysec", "no"] {
        let dir = TempDir::new(policy);
        let s = server_in(&dir, &[("appendfsync", policy)]);
        wait_loaded(&s);
        let incr = dir.aof("appendonly.aof.1.incr.aof");
        let before = std::fs::metadata(&incr).expect("incr").len();
        assert_eq!(run(&s, &["SET", "k", policy]), ok());
        // The reply came after the write: the file already holds it.
        let after = std::fs::metadata(&incr).expect("incr").len();
        let want = format!(
            "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${}\r\n{policy}\r\n",
            policy.len()
        );
        assert_eq!(after - before, want.len() as u64, "{policy}");
        assert_eq!(info_field(&s, "aof_current_size"), after.to_string());
        if policy == "everysec" {
            wait_for("the background fsync", || {
                info_field(&s, "aof_pending_bio_fsync") == "0"
            });
        }
        // A read does not grow the file.
        assert_eq!(run(&s, &["GET", "k"]), bulk(policy));
        assert_eq!(std::fs::metadata(&incr).expect("incr").len(), after);
        s.shutdown().expect("stops");
        let s = server_in(&dir, &[("appendfsync", policy)]);
        wait_loaded(&s);
        assert_eq!(run(&s, &["GET", "k"]), bulk(policy));
        s.shutdown().expect("stops");
    }
}

#[test]
fn bgrewriteaof_compacts_and_switches_the_manifest() {
    for preamble in ["yes", "no"] {
        let dir = TempDir::new("rewrite");
        let s = server_in(&dir, &[("aof-use-rdb-preamble", preamble)]);
        wait_loaded(&s);
        fill(&s);
        for _ in 0..500 {
            run(&s, &["INCR", "counter"]);
        }
        let d = digest(&s);
        let old_incr = dir.aof("appendonly.aof.1.incr.aof");
        // In-process commands reach the file when the engine flushes the
        // AOF buffer: wait until the 500 INCRs (27 bytes each) are there.
        let incr_len = || std::fs::metadata(&old_incr).map_or(0, |m| m.len());
        wait_for("the INCRs in the incr file", || incr_len() >= 500 * 27);
        let old_size = incr_len();
        assert_eq!(
            run(&s, &["BGREWRITEAOF"]),
            Frame::Simple("Background append only file rewriting started".into())
        );
        wait_rewrite(&s);
        let ext = if preamble == "yes" { "rdb" } else { "aof" };
        assert_eq!(
            dir.manifest(),
            format!("file appendonly.aof.2.base.{ext} seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n")
        );
        let base = dir.aof(&format!("appendonly.aof.2.base.{ext}"));
        let base_size = std::fs::metadata(&base).expect("base").len();
        assert!(base_size < old_size, "{base_size} >= {old_size}");
        assert!(!old_incr.exists(), "history files are deleted");
        if preamble == "no" {
            let text = std::fs::read_to_string(&base).expect("base");
            assert!(text.starts_with("*2\r\n$6\r\nSELECT\r\n"), "{text}");
            assert!(text.contains("$9\r\nPEXPIREAT\r\n"), "{text}");
        }
        assert_eq!(info_field(&s, "aof_rewrites"), "1");
        assert_eq!(info_field(&s, "aof_last_bgrewrite_status"), "ok");
        assert_eq!(info_field(&s, "aof_base_size"), base_size.to_string());
        assert_eq!(run(&s, &["SET", "after", "rewrite"]), ok());
        let d2 = digest(&s);
        assert_ne!(d, d2);
        assert_eq!(run(&s, &["DEBUG", "LOADAOF"]), ok());
        assert_eq!(digest(&s), d2);
        s.shutdown().expect("stops");
        let s = server_in(&dir, &[("aof-use-rdb-preamble", preamble)]);
        wait_loaded(&s);
        assert_eq!(digest(&s), d2);
        s.shutdown().expect("stops");
    }
}

#[test]
fn bgrewriteaof_during_bgsave_is_scheduled() {
    let dir = TempDir::new("sched");
    let s = server_in(&dir, &[("rdb-key-save-delay", "100000")]);
    wait_loaded(&s);
    assert_eq!(run(&s, &["SET", "a", "1"]), ok());
    assert_eq!(run(&s, &["SET", "b", "2"]), ok());
    assert_eq!(
        run(&s, &["BGSAVE"]),
        Frame::Simple("Background saving started".into())
    );
    assert_eq!(
        run(&s, &["BGREWRITEAOF"]),
        Frame::Simple("Background append only file rewriting scheduled".into())
    );
    assert_eq!(info_field(&s, "aof_rewrite_scheduled"), "1");
    assert_eq!(run(&s, &["CONFIG", "SET", "rdb-key-save-delay", "0"]), ok());
    wait_rewrite(&s);
    assert_eq!(info_field(&s, "aof_rewrites"), "1");
    s.shutdown().expect("stops");
}

/// Writes a manifest naming one incr file with `body`.
fn write_incr_only(dir: &TempDir, body: &[u8]) {
    std::fs::create_dir_all(dir.path().join("appendonlydir")).expect("aof dir");
    std::fs::write(
        dir.aof("appendonly.aof.manifest"),
        "file appendonly.aof.1.incr.aof seq 1 type i\n",
    )
    .expect("manifest");
    std::fs::write(dir.aof("appendonly.aof.1.incr.aof"), body).expect("incr");
}

fn cmd(args: &[&str]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    v
}

/// The server binary on `dir` until it exits or `wait` passes; returns the
/// exit code (None if still running, then stopped) and the log.
fn run_binary(dir: &TempDir, extra: &[&str], wait: Duration) -> (Option<i32>, String) {
    let log = dir.path().join("stdout.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_snapcache-server"))
        .args(["--port", "0", "--appendonly", "yes", "--dir"])
        .arg(dir.path())
        .args(extra)
        .stdout(std::fs::File::create(&log).expect("log"))
        .stderr(Stdio::null())
        .spawn()
        .expect("server runs");
    let deadline = Instant::now() + wait;
    let code = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st.code();
        }
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if Instant::now() > deadline || text.contains("Ready to accept") {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (code, std::fs::read_to_string(&log).unwrap_or_default())
}

#[test]
fn a_truncated_tail_is_cut_and_loaded() {
    let dir = TempDir::new("trunc");
    let mut body = Vec::new();
    for _ in 0..5 {
        body.extend(cmd(&["INCR", "foo"]));
    }
    let good = body.len();
    let last = cmd(&["INCR", "foo"]);
    body.extend_from_slice(&last[..last.len() - 1]);
    write_incr_only(&dir, &body);
    let s = server_in(&dir, &[]);
    wait_loaded(&s);
    assert_eq!(run(&s, &["GET", "foo"]), bulk("5"));
    assert_eq!(run(&s, &["INCR", "foo"]), int(6));
    s.shutdown().expect("stops");
    let len = std::fs::metadata(dir.aof("appendonly.aof.1.incr.aof"))
        .expect("incr")
        .len();
    // The new INCR follows the cut, after the SELECT the AOF starts with.
    let select = cmd(&["SELECT", "0"]);
    assert_eq!(len as usize, good + select.len() + last.len());
    let s = server_in(&dir, &[]);
    wait_loaded(&s);
    assert_eq!(run(&s, &["GET", "foo"]), bulk("6"));
    s.shutdown().expect("stops");
}

#[test]
fn an_incomplete_multi_is_reverted_and_bad_files_stop_the_server() {
    let dir = TempDir::new("multi");
    let mut body = cmd(&["SET", "foo", "hello"]);
    body.extend(cmd(&["MULTI"]));
    body.extend(cmd(&["SET", "bar", "world"]));
    write_incr_only(&dir, &body);
    let (code, log) = run_binary(
        &dir,
        &["--aof-load-truncated", "no"],
        Duration::from_secs(10),
    );
    assert_eq!(code, Some(1), "{log}");
    let last = log.lines().last().unwrap_or_default();
    assert!(
        last.contains(
            "Unexpected end of file reading the append only file appendonly.aof.1.incr.aof"
        ),
        "{log}"
    );
    let s = server_in(&dir, &[]);
    wait_loaded(&s);
    assert_eq!(run(&s, &["GET", "foo"]), bulk("hello"));
    assert_eq!(run(&s, &["EXISTS", "bar"]), int(0));
    s.shutdown().expect("stops");

    let mut body = cmd(&["SET", "foo", "hello"]);
    body.extend_from_slice(b"!!!");
    body.extend(cmd(&["SET", "foo", "hello"]));
    write_incr_only(&dir, &body);
    let (code, log) = run_binary(&dir, &[], Duration::from_secs(10));
    assert_eq!(code, Some(1), "{log}");
    assert!(
        log.lines()
            .last()
            .unwrap_or_default()
            .contains("Bad file format reading the append only file"),
        "{log}"
    );

    write_incr_only(&dir, &cmd(&["BLA", "foo"]));
    let (code, log) = run_binary(&dir, &[], Duration::from_secs(10));
    assert_eq!(code, Some(1), "{log}");
    assert!(
        log.contains("Unknown command 'BLA' reading the append only file"),
        "{log}"
    );
}

#[test]
fn config_set_appendonly_creates_the_aof_and_off_stops_it() {
    let dir = TempDir::new("toggle");
    let s = server_in(&dir, &[("appendonly", "no")]);
    wait_loaded(&s);
    assert_eq!(run(&s, &["SET", "before", "1"]), ok());
    assert_eq!(info_field(&s, "aof_enabled"), "0");
    assert_eq!(run(&s, &["CONFIG", "SET", "appendonly", "yes"]), ok());
    wait_rewrite(&s);
    assert_eq!(
        dir.manifest(),
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
    assert_eq!(run(&s, &["SET", "after", "2"]), ok());
    let d = digest(&s);
    assert_eq!(run(&s, &["DEBUG", "LOADAOF"]), ok());
    assert_eq!(digest(&s), d);
    assert_eq!(run(&s, &["CONFIG", "SET", "appendonly", "no"]), ok());
    let incr = dir.aof("appendonly.aof.1.incr.aof");
    let size = std::fs::metadata(&incr).expect("incr").len();
    assert_eq!(run(&s, &["SET", "off", "3"]), ok());
    assert_eq!(std::fs::metadata(&incr).expect("incr").len(), size);
    s.shutdown().expect("stops");
}

// ---- interchange with real Redis 7.0.15 ----

const REDIS: &str = "/usr/bin/redis-server";

fn have_redis() -> bool {
    if Path::new(REDIS).exists() {
        true
    } else {
        println!("skipped: {REDIS} is not installed (scripts/setup.sh installs it)");
        false
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start(dir: &TempDir) -> Redis {
        let port = free_port();
        let child = Command::new(REDIS)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--appendonly",
                "yes",
                "--enable-debug-command",
                "yes",
                "--save",
                "",
                "--dir",
            ])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs");
        let r = Redis { child, port };
        wait_for("redis-server to answer", || r.cli(&["PING"]) == "PONG");
        r
    }

    fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli runs");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn stop(mut self) {
        self.cli(&["SHUTDOWN", "NOSAVE"]);
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn real_redis_loads_our_aof() {
    if !have_redis() {
        return;
    }
    for preamble in ["yes", "no"] {
        let dir = TempDir::new("toredis");
        let s = server_in(&dir, &[("aof-use-rdb-preamble", preamble)]);
        wait_loaded(&s);
        fill(&s);
        assert_eq!(
            run(&s, &["BGREWRITEAOF"]),
            Frame::Simple("Background append only file rewriting started".into())
        );
        wait_rewrite(&s);
        assert_eq!(run(&s, &["SET", "tail", "1"]), ok());
        assert_eq!(run(&s, &["LPOP", "list"]), bulk("a"));
        let d = digest(&s);
        s.shutdown().expect("stops");
        let check = Command::new("redis-check-aof")
            .arg(dir.aof("appendonly.aof.manifest"))
            .output();
        if let Ok(out) = check {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains("All AOF files and manifest are valid"),
                "{text}"
            );
        }
        let r = Redis::start(&dir);
        assert_eq!(r.cli(&["DEBUG", "DIGEST"]), d, "preamble {preamble}");
        r.stop();
    }
}

#[test]
fn we_load_an_aof_real_redis_wrote() {
    if !have_redis() {
        return;
    }
    let dir = TempDir::new("fromredis");
    let r = Redis::start(&dir);
    r.cli(&["SET", "str", "hello"]);
    r.cli(&["RPUSH", "list", "a", "b", "c"]);
    r.cli(&["HSET", "h", "f", "v"]);
    r.cli(&["BGREWRITEAOF"]);
    wait_for("redis's rewrite", || {
        r.cli(&["INFO", "persistence"])
            .contains("aof_rewrite_in_progress:0")
    });
    r.cli(&["ZADD", "z", "1", "one"]);
    r.cli(&["SET", "ttl", "v", "EX", "500"]);
    r.cli(&["SADD", "s", "x", "y"]);
    r.cli(&["SPOP", "s"]);
    let d = r.cli(&["DEBUG", "DIGEST"]);
    r.stop();
    let s = server_in(&dir, &[]);
    wait_loaded(&s);
    assert_eq!(digest(&s), d);
    assert_eq!(
        run(&s, &["LRANGE", "list", "0", "-1"]),
        arr(vec![bulk("a"), bulk("b"), bulk("c")])
    );
    s.shutdown().expect("stops");
}
