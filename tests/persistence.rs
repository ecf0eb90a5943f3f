//! RDB snapshots end to end: SAVE / BGSAVE / SHUTDOWN write the dump, a
//! new server on the same directory loads it, failures keep the previous
//! dump and refuse writes, DEBUG RELOAD round-trips the dataset.

mod common;

use common::{bulk, digest, err, int, ok, run, server_in, wait_within, Conn, TempDir};
use snapcache::{Frame, ServerHandle};
use std::process::Command;
use std::time::{Duration, Instant};

/// One field of INFO (persistence and stats fields alike).
fn info_field(s: &ServerHandle, field: &str) -> String {
    common::info_field(s, "everything", field)
}

fn wait_for(what: &str, f: impl FnMut() -> bool) {
    wait_within(what, Duration::from_secs(10), f)
}

fn wait_loaded(s: &ServerHandle) {
    wait_for("the dump to load", || info_field(s, "loading") == "0");
}

fn wait_bgsave(s: &ServerHandle) {
    wait_for("the background save", || {
        info_field(s, "rdb_bgsave_in_progress") == "0"
    });
}

/// Keys of every type, some with a deadline, in two databases.
fn fill(s: &ServerHandle) {
    assert_eq!(run(s, &["SET", "str", "hello"]), ok());
    assert_eq!(run(s, &["SET", "num", "12345"]), ok());
    assert_eq!(run(s, &["SET", "ttl", "x", "EX", "1000"]), ok());
    assert_eq!(run(s, &["RPUSH", "list", "a", "b", "1", "2"]), int(4));
    assert_eq!(run(s, &["SADD", "ints", "1", "2", "3"]), int(3));
    assert_eq!(run(s, &["SADD", "words", "x", "y"]), int(2));
    assert_eq!(run(s, &["HSET", "h", "f", "v", "g", "w"]), int(2));
    assert_eq!(run(s, &["ZADD", "z", "1.5", "a", "2", "b"]), int(2));
    let big = "v".repeat(100);
    assert_eq!(run(s, &["SET", "compressible", &big]), ok());
    assert_eq!(run(s, &["SELECT", "3"]), ok());
    assert_eq!(run(s, &["SET", "in3", "yes"]), ok());
    assert_eq!(run(s, &["SELECT", "0"]), ok());
}

#[test]
fn save_then_restart_loads_the_dataset() {
    let dir = TempDir::new("save");
    let s = server_in(&dir, &[]);
    fill(&s);
    let before = digest(&s);
    assert_eq!(run(&s, &["SAVE"]), ok());
    assert_eq!(info_field(&s, "rdb_changes_since_last_save"), "0");
    assert_eq!(info_field(&s, "rdb_saves"), "1");
    assert!(dir.dump().is_file());
    assert!(dir.temp_files().is_empty());
    s.shutdown().expect("stops");

    let s = server_in(&dir, &[]);
    wait_loaded(&s);
    assert_eq!(digest(&s), before);
    assert_eq!(run(&s, &["GET", "str"]), bulk("hello"));
    assert_eq!(run(&s, &["LRANGE", "list", "0", "-1"]), {
        common::arr(vec![bulk("a"), bulk("b"), bulk("1"), bulk("2")])
    });
    assert_eq!(info_field(&s, "rdb_last_load_keys_loaded"), "10");
    assert_eq!(info_field(&s, "rdb_last_load_keys_expired"), "0");
    s.shutdown().expect("stops");
}

#[test]
fn expired_keys_are_skipped_on_load() {
    let dir = TempDir::new("expired");
    let s = server_in(&dir, &[]);
    assert_eq!(run(&s, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), ok());
    assert_eq!(run(&s, &["SET", "keep", "1"]), ok());
    assert_eq!(run(&s, &["SET", "gone", "1", "PX", "1"]), ok());
    let deadline = Instant::now() + Duration::from_millis(5);
    wait_for("the deadline to pass", || Instant::now() > deadline);
    assert_eq!(run(&s, &["SAVE"]), ok());
    s.shutdown().expect("stops");

    let s = server_in(&dir, &[]);
    wait_loaded(&s);
    assert_eq!(run(&s, &["DBSIZE"]), int(1));
    assert_eq!(info_field(&s, "rdb_last_load_keys_loaded"), "1");
    assert_eq!(info_field(&s, "rdb_last_load_keys_expired"), "1");
    s.shutdown().expect("stops");
}

#[test]
fn bgsave_completes_and_lastsave_moves() {
    let dir = TempDir::new("bgsave");
    let s = server_in(&dir, &[]);
    fill(&s);
    let Frame::Integer(t0) = run(&s, &["LASTSAVE"]) else {
        panic!("LASTSAVE is an integer");
    };
    // LASTSAVE has a one-second resolution: let a second pass first.
    wait_for("the next second", || {
        let Frame::Array(t) = run(&s, &["TIME"]) else {
            return false;
        };
        matches!(&t[0], Frame::Bulk(b) if std::str::from_utf8(b).ok().and_then(|v| v.parse::<i64>().ok()).is_some_and(|v| v > t0))
    });
    assert_eq!(
        run(&s, &["BGSAVE"]),
        Frame::Simple("Background saving started".into())
    );
    wait_bgsave(&s);
    assert_eq!(info_field(&s, "rdb_last_bgsave_status"), "ok");
    assert_eq!(info_field(&s, "rdb_changes_since_last_save"), "0");
    assert_eq!(info_field(&s, "total_forks"), "1");
    assert_eq!(info_field(&s, "rdb_saves"), "1");
    let Frame::Integer(t1) = run(&s, &["LASTSAVE"]) else {
        panic!("LASTSAVE is an integer");
    };
    assert!(t1 > t0, "LASTSAVE moved: {t0} -> {t1}");
    assert!(dir.temp_files().is_empty());
    let before = digest(&s);
    s.shutdown().expect("stops");

    let s = server_in(&dir, &[]);
    wait_loaded(&s);
    assert_eq!(digest(&s), before);
    s.shutdown().expect("stops");
}

#[test]
fn a_second_bgsave_is_refused_and_save_too() {
    let dir = TempDir::new("busy");
    let s = server_in(&dir, &[("rdb-key-save-delay", "100000")]);
    fill(&s);
    assert_eq!(
        run(&s, &["BGSAVE"]),
        Frame::Simple("Background saving started".into())
    );
    assert_eq!(info_field(&s, "rdb_bgsave_in_progress"), "1");
    assert_eq!(
        run(&s, &["BGSAVE"]),
        err("ERR Background save already in progress")
    );
    assert_eq!(
        run(&s, &["SAVE"]),
        err("ERR Background save already in progress")
    );
    assert_eq!(run(&s, &["BGSAVE", "NOW"]), err("ERR syntax error"));
    // FLUSHALL cancels the child: not a failure.
    assert_eq!(run(&s, &["FLUSHALL"]), ok());
    wait_bgsave(&s);
    assert_eq!(info_field(&s, "rdb_last_bgsave_status"), "ok");
    assert_eq!(run(&s, &["SET", "k", "v"]), ok());
    wait_for("the temp file to go", || dir.temp_files().is_empty());
    s.shutdown().expect("stops");
}

/// The pid in a `temp-<pid>.rdb` name.
fn child_pid(dir: &TempDir) -> Option<i32> {
    dir.temp_files()
        .first()
        .and_then(|n| n.strip_prefix("temp-")?.strip_suffix(".rdb")?.parse().ok())
}

#[test]
fn a_killed_child_keeps_the_old_dump_and_refuses_writes() {
    let dir = TempDir::new("killed");
    let s = server_in(&dir, &[("save", "900 1")]);
    fill(&s);
    assert_eq!(run(&s, &["SAVE"]), ok());
    let old = std::fs::read(dir.dump()).expect("dump");
    assert_eq!(run(&s, &["SET", "str", "changed"]), ok());
    assert_eq!(
        run(&s, &["CONFIG", "SET", "rdb-key-save-delay", "10000000"]),
        ok()
    );
    assert_eq!(
        run(&s, &["BGSAVE"]),
        Frame::Simple("Background saving started".into())
    );
    let mut pid = None;
    wait_for("the child's temp file", || {
        pid = child_pid(&dir);
        pid.is_some()
    });
    let pid = pid.expect("found");
    let status = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    wait_bgsave(&s);
    assert_eq!(info_field(&s, "rdb_last_bgsave_status"), "err");
    assert_eq!(std::fs::read(dir.dump()).expect("dump"), old);
    assert!(dir.temp_files().is_empty());
    // Reads work, writes and PING get MISCONF.
    assert_eq!(run(&s, &["GET", "str"]), bulk("changed"));
    let Frame::Error(e) = run(&s, &["SET", "str", "again"]) else {
        panic!("SET is refused");
    };
    assert!(e.starts_with("MISCONF "), "{e}");
    assert!(matches!(run(&s, &["PING"]), Frame::Error(e) if e.starts_with("MISCONF ")));
    // A successful save lifts it.
    assert_eq!(run(&s, &["CONFIG", "SET", "rdb-key-save-delay", "0"]), ok());
    assert_eq!(
        run(&s, &["BGSAVE"]),
        Frame::Simple("Background saving started".into())
    );
    wait_bgsave(&s);
    assert_eq!(info_field(&s, "rdb_last_bgsave_status"), "ok");
    assert_eq!(run(&s, &["SET", "str", "again"]), ok());
    assert_ne!(std::fs::read(dir.dump()).expect("dump"), old);
    s.shutdown().expect("stops");
}

#[test]
fn a_save_into_an_unwritable_dir_fails_cleanly() {
    let dir = TempDir::new("unwritable");
    let s = server_in(&dir, &[("save", "900 1")]);
    fill(&s);
    assert_eq!(run(&s, &["SAVE"]), ok());
    let old = std::fs::read(dir.dump()).expect("dump");
    // Not even root can create files in /proc.
    assert_eq!(run(&s, &["CONFIG", "SET", "dir", "/proc"]), ok());
    assert_eq!(run(&s, &["SAVE"]), err("ERR"));
    assert_eq!(
        run(&s, &["BGSAVE"]),
        Frame::Simple("Background saving started".into())
    );
    wait_bgsave(&s);
    assert_eq!(info_field(&s, "rdb_last_bgsave_status"), "err");
    assert!(matches!(run(&s, &["SET", "a", "b"]), Frame::Error(e) if e.starts_with("MISCONF ")));
    // Without save points (or with stop-writes-on-bgsave-error off) writes go on.
    assert_eq!(
        run(&s, &["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"]),
        ok()
    );
    assert_eq!(run(&s, &["SET", "a", "b"]), ok());
    assert_eq!(std::fs::read(dir.dump()).expect("dump"), old);
    assert!(dir.temp_files().is_empty());
    // SHUTDOWN cannot save there: it refuses, unless FORCE.
    let mut c = Conn::open(&s);
    c.call(
        &["SHUTDOWN", "SAVE"],
        "-ERR Errors trying to SHUTDOWN. Check logs.\r\n",
    );
    c.call(&["PING"], "+PONG\r\n");
    s.shutdown().expect("stops");
}

#[test]
fn shutdown_saves_unless_nosave() {
    let dir = TempDir::new("shutdown");
    let s = server_in(&dir, &[]);
    fill(&s);
    let before = digest(&s);
    let mut c = Conn::open(&s);
    // No save points (an embedded server's default): NOSAVE is implied.
    c.send(&["SHUTDOWN"]);
    wait_for("the server to stop", || s.execute(&["PING"]).is_err());
    assert!(!dir.dump().exists());
    drop(s);

    let s = server_in(&dir, &[]);
    fill(&s);
    let mut c = Conn::open(&s);
    c.send(&["SHUTDOWN", "SAVE"]);
    wait_for("the server to stop", || s.execute(&["PING"]).is_err());
    assert!(dir.dump().is_file());
    drop(s);

    let s = server_in(&dir, &[("save", "900 1")]);
    wait_loaded(&s);
    assert_eq!(digest(&s), before);
    assert_eq!(run(&s, &["SET", "str", "after"]), ok());
    let mut c = Conn::open(&s);
    c.send(&["SHUTDOWN", "NOSAVE"]);
    wait_for("the server to stop", || s.execute(&["PING"]).is_err());
    drop(s);

    // NOSAVE kept the previous dump; save points make SHUTDOWN save.
    let s = server_in(&dir, &[("save", "900 1")]);
    wait_loaded(&s);
    assert_eq!(run(&s, &["GET", "str"]), bulk("hello"));
    assert_eq!(run(&s, &["SET", "str", "after"]), ok());
    let mut c = Conn::open(&s);
    c.send(&["SHUTDOWN"]);
    wait_for("the server to stop", || s.execute(&["PING"]).is_err());
    drop(s);

    let s = server_in(&dir, &[]);
    wait_loaded(&s);
    assert_eq!(run(&s, &["GET", "str"]), bulk("after"));
    s.shutdown().expect("stops");
}

#[test]
fn debug_reload_keeps_the_digest() {
    let dir = TempDir::new("reload");
    let s = server_in(&dir, &[]);
    fill(&s);
    let before = digest(&s);
    assert_eq!(run(&s, &["DEBUG", "RELOAD"]), ok());
    assert_eq!(digest(&s), before);
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "ints"]), bulk("intset"));
    assert_eq!(run(&s, &["OBJECT", "ENCODING", "h"]), bulk("listpack"));
    assert_eq!(
        run(&s, &["DEBUG", "RELOAD", "FAST"]),
        err("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
    );

    // NOSAVE: back to the dump, dropping what changed since.
    assert_eq!(run(&s, &["SET", "extra", "1"]), ok());
    assert_eq!(run(&s, &["DEBUG", "RELOAD", "NOSAVE"]), ok());
    assert_eq!(digest(&s), before);

    // NOFLUSH: a key in both is an error unless MERGE.
    assert_eq!(run(&s, &["SET", "extra", "1"]), ok());
    assert_eq!(
        run(&s, &["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH"]),
        err("ERR Error trying to load the RDB dump, check server logs.")
    );
    assert_eq!(run(&s, &["SET", "str", "mine"]), ok());
    assert_eq!(
        run(&s, &["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"]),
        ok()
    );
    assert_eq!(run(&s, &["GET", "str"]), bulk("hello"));
    assert_eq!(run(&s, &["GET", "extra"]), bulk("1"));
    s.shutdown().expect("stops");
}

#[test]
fn commands_get_loading_while_the_dump_loads() {
    let dir = TempDir::new("loading");
    let s = server_in(&dir, &[]);
    assert_eq!(run(&s, &["DEBUG", "POPULATE", "2000"]), ok());
    assert_eq!(run(&s, &["SAVE"]), ok());
    s.shutdown().expect("stops");

    // 2000 keys at 1 ms each: the load takes at least two seconds.
    let s = server_in(&dir, &[("key-load-delay", "1000")]);
    wait_for("loading to start", || info_field(&s, "loading") == "1");
    assert_eq!(
        run(&s, &["GET", "key:1"]),
        err("LOADING Redis is loading the dataset in memory")
    );
    assert_eq!(info_field(&s, "loading_total_bytes"), {
        std::fs::metadata(dir.dump())
            .expect("dump")
            .len()
            .to_string()
    });
    assert_eq!(
        run(&s, &["DEBUG", "RELOAD"]),
        err("LOADING Redis is loading the dataset in memory")
    );
    wait_loaded(&s);
    assert_eq!(run(&s, &["DBSIZE"]), int(2000));
    assert_eq!(run(&s, &["GET", "key:1"]), bulk("value:1"));
    s.shutdown().expect("stops");
}

/// The server binary, as the Redis test suite runs it.
fn run_binary(dir: &TempDir) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_snapcache-server"))
        .args(["--port", "0", "--dir"])
        .arg(dir.path())
        .output()
        .expect("server runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_corrupt_dump_stops_the_server() {
    let dir = TempDir::new("corrupt");
    let s = server_in(&dir, &[]);
    fill(&s);
    assert_eq!(run(&s, &["SAVE"]), ok());
    s.shutdown().expect("stops");
    let mut bytes = std::fs::read(dir.dump()).expect("dump");
    let n = bytes.len();
    bytes[n - 8..].copy_from_slice(b"foobar00");
    std::fs::write(dir.dump(), &bytes).expect("write");
    let (code, log) = run_binary(&dir);
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("CRC error"), "{log}");
    assert!(!log.contains("Ready to accept"), "{log}");
}

#[test]
fn save_points_start_a_background_save() {
    let dir = TempDir::new("savepoint");
    let s = server_in(&dir, &[("save", "1 2")]);
    assert_eq!(run(&s, &["SET", "a", "1"]), ok());
    assert_eq!(run(&s, &["SET", "b", "2"]), ok());
    // More than one second after the last save, two changes: the cron forks.
    wait_for("the save point to fire", || {
        info_field(&s, "total_forks") == "1" && info_field(&s, "rdb_bgsave_in_progress") == "0"
    });
    assert_eq!(info_field(&s, "rdb_last_bgsave_status"), "ok");
    assert_eq!(info_field(&s, "rdb_changes_since_last_save"), "0");
    assert!(dir.dump().is_file());
    s.shutdown().expect("stops");
}

#[test]
fn bgsave_inside_exec_is_scheduled() {
    let dir = TempDir::new("scheduled");
    let s = server_in(&dir, &[]);
    let mut c = Conn::open(&s);
    c.call(&["MULTI"], "+OK\r\n");
    c.call(&["SET", "k", "v"], "+QUEUED\r\n");
    c.call(&["BGSAVE"], "+QUEUED\r\n");
    c.call(&["EXEC"], "*2\r\n+OK\r\n+Background saving scheduled\r\n");
    wait_for("the scheduled save", || {
        info_field(&s, "total_forks") == "1" && info_field(&s, "rdb_bgsave_in_progress") == "0"
    });
    assert_eq!(info_field(&s, "rdb_changes_since_last_save"), "0");
    assert!(dir.dump().is_file());
    c.call(
        &["SAVE", "x"],
        "-ERR wrong number of arguments for 'save' command\r\n",
    );
    c.call(&["MULTI"], "+OK\r\n");
    c.call(
        &["SAVE"],
        "-ERR Command not allowed inside a transaction\r\n",
    );
    c.call(&["DISCARD"], "+OK\r\n");
    s.shutdown().expect("stops");
}
