//! Forkless snapshots end to end: the dump is the dataset as of BGSAVE
//! while writes go on, writes wait (and are not refused) while the writer
//! is behind, BGSAVE CANCEL, the method choice and its reasons, the fork
//! guard's switch to forkless, and point-in-time images under concurrent
//! MULTI/EXEC transfers.

mod common;

use common::{bulk, digest, int, ok, run, wait_for, TempDir};
use snapcache::persistence::rdb::{self, Encodings, LoadOptions};
use snapcache::{Config, Frame, ServerHandle};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One field of INFO (persistence and stats fields alike).
fn info_field(s: &ServerHandle, field: &str) -> String {
    common::info_field(s, "everything", field)
}

/// A server on `dir` that saves only when told to.
fn server_in(dir: &TempDir, extra: &[(&str, &str)]) -> ServerHandle {
    common::server_in(dir, &[&[("save", "")], extra].concat())
}

fn in_progress(s: &ServerHandle) -> bool {
    info_field(s, "rdb_bgsave_in_progress") == "1"
}

fn wait_bgsave(s: &ServerHandle) {
    wait_for("the background save", || !in_progress(s));
}

fn started() -> Frame {
    Frame::Simple("Background saving started".into())
}

/// Loads a dump with the codec (every key kept, expired or not).
fn load(path: &Path) -> snapcache::keyspace::Keyspace {
    let bytes = std::fs::read(path).expect("dump exists");
    let opts = LoadOptions {
        enc: Encodings::from_config(&Config::default()),
        deep_sanitize: true,
        databases: 16,
        drop_expired_before: None,
    };
    rdb::load(&bytes, &opts, &mut |_| {})
        .expect("the dump loads")
        .keyspace
}

/// Small keys in dbs 0 and 1 (some with deadlines) and one big value of
/// every chunked kind.
fn fill(s: &ServerHandle, n: usize) {
    for db in ["0", "1"] {
        assert_eq!(run(s, &["SELECT", db]), ok());
        assert_eq!(
            run(
                s,
                &["DEBUG", "POPULATE", &n.to_string(), &format!("k{db}"), "20"]
            ),
            ok()
        );
    }
    assert_eq!(run(s, &["SELECT", "0"]), ok());
    for i in (0..n).step_by(5) {
        run(s, &["PEXPIRE", &format!("k0:{i}"), "100000000"]);
    }
    let mut z = vec!["ZADD".to_string(), "bigz".into()];
    let mut st = vec!["SADD".to_string(), "bigs".into()];
    let mut h = vec!["HSET".to_string(), "bigh".into()];
    let mut l = vec!["RPUSH".to_string(), "bigl".into()];
    for i in 0..10_000 {
        z.extend([format!("{}", i as f64 / 7.0), format!("m{i}")]);
        st.push(format!("m{i}"));
        h.extend([format!("f{i}"), format!("v{i}")]);
        l.push(format!("e{i}"));
    }
    for cmd in [z, st, h, l] {
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        assert_eq!(run(s, &args), int(10_000));
    }
    for i in 1..=50 {
        let id = format!("{i}-1");
        assert_eq!(
            run(s, &["XADD", "stream", &id, "f", "v"]),
            common::bulk(&id)
        );
    }
    assert_eq!(run(s, &["XGROUP", "CREATE", "stream", "g", "0"]), ok());
}

#[test]
fn the_dump_is_the_dataset_at_bgsave_while_writes_continue() {
    let dir = TempDir::new("exact");
    // One key per walk step, 0.1 s apart, while the writes run: the walk
    // cannot finish before them however slow the machine is. The delay is
    // lifted afterwards so that the walk ends.
    let s = server_in(&dir, &[("snapshot-method", "forkless")]);
    fill(&s, 5000);
    let want = digest(&s);
    assert_eq!(
        run(&s, &["CONFIG", "SET", "rdb-key-save-delay", "100000"]),
        ok()
    );
    assert_eq!(run(&s, &["BGSAVE"]), started());
    // Writes of every kind while the walk runs.
    for i in 0..300 {
        let k = format!("k0:{i}");
        run(&s, &["SET", &k, "changed"]);
        run(&s, &["DEL", &format!("k0:{}", i + 1000)]);
        run(
            &s,
            &[
                "RENAME",
                &format!("k0:{}", i + 2000),
                &format!("renamed:{i}"),
            ],
        );
        run(&s, &["PEXPIRE", &format!("k0:{}", i + 3000), "1"]);
        run(&s, &["ZADD", "bigz", "-1", &format!("new{i}")]);
        run(&s, &["SREM", "bigs", &format!("m{i}")]);
        run(&s, &["HDEL", "bigh", &format!("f{i}")]);
        run(&s, &["LPOP", "bigl"]);
        run(&s, &["MOVE", &format!("k0:{}", i + 4000), "2"]);
        run(&s, &["XADD", "stream", "*", "new", &i.to_string()]);
        run(
            &s,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "c",
                "COUNT",
                "1",
                "STREAMS",
                "stream",
                ">",
            ],
        );
    }
    assert_eq!(run(&s, &["SWAPDB", "0", "1"]), ok());
    assert_eq!(run(&s, &["SELECT", "1"]), ok());
    assert_eq!(run(&s, &["FLUSHDB"]), ok());
    assert_eq!(run(&s, &["SELECT", "0"]), ok());
    // Keys given 1 ms to live expire (actively) meanwhile.
    std::thread::sleep(Duration::from_millis(20));
    assert!(
        in_progress(&s),
        "the walk must outlast the writes for this test to mean anything"
    );
    assert_eq!(info_field(&s, "rdb_current_snapshot_method"), "forkless");
    assert_eq!(run(&s, &["CONFIG", "SET", "rdb-key-save-delay", "0"]), ok());
    wait_bgsave(&s);
    assert_eq!(info_field(&s, "rdb_last_bgsave_status"), "ok");
    assert_eq!(info_field(&s, "rdb_last_snapshot_method"), "forkless");
    assert_eq!(
        info_field(&s, "rdb_last_snapshot_reason"),
        "forkless: snapshot-method forkless"
    );
    assert_eq!(load(&dir.dump()).digest(), want);
    assert!(dir.temp_files().is_empty());
}

#[test]
fn debug_reload_during_the_walk_keeps_the_image() {
    let dir = TempDir::new("reload");
    let s = server_in(
        &dir,
        &[
            ("snapshot-method", "forkless"),
            ("rdb-key-save-delay", "20"),
        ],
    );
    fill(&s, 3000);
    let want = digest(&s);
    assert_eq!(run(&s, &["BGSAVE"]), started());
    run(&s, &["SET", "k0:1", "before reload"]);
    assert_eq!(run(&s, &["DEBUG", "RELOAD"]), ok());
    run(&s, &["SET", "k0:2", "after reload"]);
    assert!(in_progress(&s));
    wait_bgsave(&s);
    assert_eq!(info_field(&s, "rdb_last_bgsave_status"), "ok");
    assert_eq!(load(&dir.dump()).digest(), want);
    assert!(dir.temp_files().is_empty());
}

#[test]
fn a_failed_forkless_save_stops_writes_as_a_failed_child_does() {
    let dir = TempDir::new("misconf");
    let gone = dir.path().join("gone");
    std::fs::create_dir(&gone).expect("mkdir");
    let s = server_in(&dir, &[("snapshot-method", "forkless")]);
    assert_eq!(
        run(&s, &["CONFIG", "SET", "dir", gone.to_str().expect("utf-8")]),
        ok()
    );
    assert_eq!(run(&s, &["CONFIG", "SET", "save", "900 1"]), ok());
    assert_eq!(run(&s, &["SET", "x", "x"]), ok());
    std::fs::remove_dir(&gone).expect("rmdir");
    assert_eq!(run(&s, &["BGSAVE"]), started());
    wait_bgsave(&s);
    assert_eq!(info_field(&s, "rdb_last_bgsave_status"), "err");
    assert_eq!(info_field(&s, "rdb_last_snapshot_method"), "forkless");
    assert!(
        matches!(run(&s, &["SET", "x", "y"]), Frame::Error(e) if e.starts_with("MISCONF ")),
        "writes are refused"
    );
    assert_eq!(run(&s, &["GET", "x"]), bulk("x"));
    s.shutdown().unwrap();
}

#[test]
fn flushall_aborts_a_forkless_save_as_redis_aborts_a_child() {
    let dir = TempDir::new("flushall");
    let s = server_in(
        &dir,
        &[
            ("snapshot-method", "forkless"),
            ("rdb-key-save-delay", "1000"),
        ],
    );
    fill(&s, 2000);
    assert_eq!(run(&s, &["BGSAVE"]), started());
    assert_eq!(run(&s, &["FLUSHALL"]), ok());
    assert!(!in_progress(&s));
    assert!(dir.temp_files().is_empty());
    assert!(!dir.dump().exists());
}

#[test]
fn bgsave_cancel_stops_either_kind() {
    for method in ["forkless", "fork"] {
        let dir = TempDir::new("cancel");
        let s = server_in(
            &dir,
            &[("snapshot-method", method), ("rdb-key-save-delay", "1000")],
        );
        assert_eq!(
            run(&s, &["BGSAVE", "CANCEL"]),
            Frame::Error("ERR Background saving is currently not in progress or scheduled".into())
        );
        fill(&s, 2000);
        assert_eq!(run(&s, &["BGSAVE"]), started());
        assert!(in_progress(&s));
        assert_eq!(info_field(&s, "rdb_current_snapshot_method"), method);
        assert_eq!(
            run(&s, &["BGSAVE", "CANCEL"]),
            Frame::Simple("Background saving cancelled".into())
        );
        wait_bgsave(&s);
        wait_for("the temp file to go", || dir.temp_files().is_empty());
        assert!(!dir.dump().exists(), "{method}: no dump after a cancel");
        // Not a failure: writes are accepted, the next save works.
        assert_eq!(info_field(&s, "rdb_last_bgsave_status"), "ok");
        assert_eq!(run(&s, &["CONFIG", "SET", "rdb-key-save-delay", "0"]), ok());
        let want = digest(&s);
        assert_eq!(run(&s, &["BGSAVE"]), started());
        wait_bgsave(&s);
        assert_eq!(load(&dir.dump()).digest(), want, "{method}");
    }
}

#[test]
fn writes_wait_while_the_writer_is_behind_and_reads_do_not() {
    let dir = TempDir::new("delay");
    // A one-byte high-water mark and a slow writer: every write waits.
    let s = server_in(
        &dir,
        &[
            ("snapshot-method", "forkless"),
            ("snapshot-buffer-high-water", "1"),
            ("snapshot-writer-delay", "5000"),
        ],
    );
    fill(&s, 3000);
    let want = digest(&s);
    let mut writer = common::Conn::open(&s);
    let mut reader = common::Conn::open(&s);
    assert_eq!(run(&s, &["BGSAVE"]), started());
    let t0 = Instant::now();
    writer.send(&["SET", "k0:7", "new"]);
    wait_for("the write to be delayed", || {
        info_field(&s, "forkless_delayed_writes") == "1"
    });
    // Reads are served while the write waits.
    reader.call(&["EXISTS", "k0:3"], ":1\r\n");
    assert!(in_progress(&s));
    writer.expect("+OK\r\n");
    assert!(t0.elapsed() >= Duration::from_millis(5));
    wait_bgsave(&s);
    let delay: u64 = info_field(&s, "forkless_delay_total_ms")
        .parse()
        .expect("ms");
    assert!(delay >= 1, "delay {delay} ms");
    assert_eq!(load(&dir.dump()).digest(), want);
    assert_eq!(run(&s, &["GET", "k0:7"]), common::bulk("new"));
}

/// Waits until the cron has measured a write rate.
fn wait_write_rate(s: &ServerHandle) {
    let mut i = 0;
    wait_for("a write rate", || {
        i += 1;
        run(s, &["SET", &format!("rate:{i}"), "x"]);
        info_field(s, "snapshot_write_rate")
            .parse::<f64>()
            .is_ok_and(|r| r > 0.0)
    });
}

#[test]
fn auto_forks_when_the_reserve_covers_the_estimate_else_goes_forkless() {
    let dir = TempDir::new("auto");
    let s = server_in(&dir, &[("hz", "100"), ("reserved-memory", "1gb")]);
    fill(&s, 1000);
    wait_write_rate(&s);
    let est = info_field(&s, "snapshot_fork_cow_estimate");
    assert_eq!(run(&s, &["BGSAVE"]), started());
    wait_bgsave(&s);
    assert_eq!(info_field(&s, "rdb_last_snapshot_method"), "fork");
    let reason = info_field(&s, "rdb_last_snapshot_reason");
    assert!(reason.starts_with("fork: estimate "), "{reason} ({est})");
    assert!(reason.ends_with(" <= reserve 1gb"), "{reason}");
    let forked = load(&dir.dump()).digest();

    // A one-byte reserve cannot cover any write rate.
    assert_eq!(run(&s, &["CONFIG", "SET", "reserved-memory", "1"]), ok());
    assert_eq!(run(&s, &["SET", "phase", "2"]), ok());
    wait_write_rate(&s);
    let want = digest(&s);
    assert_eq!(run(&s, &["BGSAVE"]), started());
    wait_bgsave(&s);
    assert_eq!(info_field(&s, "rdb_last_snapshot_method"), "forkless");
    let reason = info_field(&s, "rdb_last_snapshot_reason");
    assert!(reason.starts_with("forkless: estimate "), "{reason}");
    assert!(reason.ends_with(" > reserve 1b"), "{reason}");
    assert_eq!(load(&dir.dump()).digest(), want);
    assert_ne!(forked, want, "the rate-measuring writes changed the data");
}

const ACCOUNTS: usize = 3000;
const BALANCE: i64 = 1000;

/// Clients moving amounts between random accounts inside MULTI/EXEC
/// until told to stop; returns how many transfers they made.
fn transfer_clients(s: &ServerHandle, stop: &Arc<AtomicBool>) -> Vec<std::thread::JoinHandle<u64>> {
    (0..3)
        .map(|t| {
            let url = format!("redis://{}/", s.addr());
            let stop = stop.clone();
            std::thread::spawn(move || {
                let client = redis::Client::open(url).expect("url");
                let mut con = client.get_connection().expect("connect");
                let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ t;
                let mut next = || {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed
                };
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let a = next() as usize % ACCOUNTS;
                    let b = next() as usize % ACCOUNTS;
                    let amount = (next() % 50) as i64;
                    let _: (i64, i64) = redis::pipe()
                        .atomic()
                        .cmd("DECRBY")
                        .arg(format!("acct:{a}"))
                        .arg(amount)
                        .cmd("INCRBY")
                        .arg(format!("acct:{b}"))
                        .arg(amount)
                        .query(&mut con)
                        .expect("transfer");
                    n += 1;
                }
                n
            })
        })
        .collect()
}

fn total(ks: &snapcache::keyspace::Keyspace) -> (usize, i64) {
    let db = &ks.dbs[0];
    let sum = db
        .iter()
        .map(|e| {
            let v = e.value.to_bytes().expect("a string");
            String::from_utf8_lossy(&v)
                .parse::<i64>()
                .expect("a number")
        })
        .sum();
    (db.len(), sum)
}

fn point_in_time_runs(extra: &[(&str, &str)], runs: usize, expect_method: &str, guard: bool) {
    let dir = TempDir::new("pit");
    let s = server_in(&dir, extra);
    for i in 0..ACCOUNTS {
        run(&s, &["SET", &format!("acct:{i}"), &BALANCE.to_string()]);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let clients = transfer_clients(&s, &stop);
    let mut overlapped = 0;
    for r in 0..runs {
        let before: u64 = info_field(&s, "total_commands_processed")
            .parse()
            .expect("n");
        assert_eq!(run(&s, &["BGSAVE"]), started(), "run {r}");
        wait_bgsave(&s);
        let after: u64 = info_field(&s, "total_commands_processed")
            .parse()
            .expect("n");
        if after > before + 3 {
            overlapped += 1;
        }
        assert_eq!(info_field(&s, "rdb_last_bgsave_status"), "ok", "run {r}");
        assert_eq!(
            info_field(&s, "rdb_last_snapshot_method"),
            expect_method,
            "run {r}"
        );
        assert_eq!(
            total(&load(&dir.dump())),
            (ACCOUNTS, ACCOUNTS as i64 * BALANCE),
            "run {r}: the image is not a point in time"
        );
    }
    stop.store(true, Ordering::Relaxed);
    let transfers: u64 = clients.into_iter().map(|c| c.join().expect("client")).sum();
    assert!(transfers > runs as u64, "transfers {transfers}");
    assert!(
        overlapped > runs / 2,
        "only {overlapped} runs overlapped writes"
    );
    if guard {
        let stops: usize = info_field(&s, "snapshot_fork_guard_stops")
            .parse()
            .expect("n");
        assert_eq!(stops, runs);
        let reason = info_field(&s, "rdb_last_snapshot_reason");
        assert!(
            reason.starts_with("forkless: fork stopped by the guard at copy-on-write "),
            "{reason}"
        );
    }
    let (n, sum) = total(&load(&{
        assert_eq!(run(&s, &["SAVE"]), ok());
        dir.dump()
    }));
    assert_eq!((n, sum), (ACCOUNTS, ACCOUNTS as i64 * BALANCE));
}

#[test]
fn forkless_images_are_points_in_time_under_transfers() {
    point_in_time_runs(
        &[("snapshot-method", "forkless"), ("rdb-key-save-delay", "5")],
        100,
        "forkless",
        false,
    );
}

/// The governor at its tightest (the writer rests 99% of the time while
/// the transfer clients keep the server busy) changes when bytes reach the
/// file, never which.
#[test]
fn paced_forkless_images_are_points_in_time_under_transfers() {
    point_in_time_runs(
        &[
            ("snapshot-method", "forkless"),
            ("rdb-key-save-delay", "5"),
            ("snapshot-busy-share", "1"),
        ],
        20,
        "forkless",
        false,
    );
}

#[test]
fn the_fork_guard_switches_to_forkless_and_keeps_the_point_in_time() {
    // A one-byte reserve: the guard stops every fork at its first report.
    point_in_time_runs(
        &[
            ("snapshot-method", "fork"),
            ("reserved-memory", "1"),
            ("rdb-key-save-delay", "20"),
            ("hz", "100"),
        ],
        100,
        "forkless",
        true,
    );
}

const REDIS: &str = "/usr/bin/redis-server";

/// Starts real redis-server 7.0.15 on `dir`'s dump and returns its DEBUG
/// DIGEST (None when it is not installed).
fn real_redis_digest(dir: &TempDir) -> Option<String> {
    use std::process::{Command, Stdio};
    if !Path::new(REDIS).exists() {
        println!("skipped: {REDIS} is not installed (scripts/setup.sh installs it)");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
        .to_string();
    let mut child = Command::new(REDIS)
        .args(["--port", &port, "--bind", "127.0.0.1", "--save", ""])
        .args(["--enable-debug-command", "yes", "--dir"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server runs");
    let cli = |args: &[&str]| {
        let out = Command::new("redis-cli")
            .args(["-p", &port])
            .args(args)
            .output()
            .expect("redis-cli runs");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    wait_for("redis-server to load", || cli(&["PING"]) == "PONG");
    let d = cli(&["DEBUG", "DIGEST"]);
    cli(&["SHUTDOWN", "NOSAVE"]);
    let _ = child.wait();
    Some(d)
}

#[test]
fn real_redis_loads_forkless_and_fork_dumps_with_equal_digests() {
    for method in ["forkless", "fork"] {
        let dir = TempDir::new("toredis");
        let s = server_in(
            &dir,
            &[("snapshot-method", method), ("rdb-key-save-delay", "20")],
        );
        fill(&s, 2000);
        let want = digest(&s);
        assert_eq!(run(&s, &["BGSAVE"]), started());
        for i in 0..200 {
            run(&s, &["SET", &format!("k0:{i}"), "changed"]);
            run(&s, &["ZADD", "bigz", "-1", &format!("new{i}")]);
        }
        wait_bgsave(&s);
        assert_eq!(info_field(&s, "rdb_last_snapshot_method"), method);
        drop(s);
        if let Some(got) = real_redis_digest(&dir) {
            assert_eq!(got, want, "{method}");
        }
    }
}

/// A second SIGINT while the shutdown's forkless save waits for its writer
/// exits at once with status 1 ("You insist"), removing the writer's temp
/// file; the dump on disk stays as it was.
#[test]
fn a_second_sigint_during_a_forkless_shutdown_save_removes_its_temp_file() {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    use std::process::{Command, Stdio};

    let dir = TempDir::new("insist");
    let fixture = std::fs::read("tests/fixtures/rdb/redis-7.0.15.rdb").expect("fixture");
    std::fs::write(dir.dump(), &fixture).expect("dump");
    let log = dir.path().join("stdout.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_snapcache-server"))
        .args(["--port", "0", "--bind", "127.0.0.1", "--save", "900 1"])
        .args(["--snapshot-method", "forkless"])
        // Two seconds per chunk: the writer is still busy when the second
        // signal comes.
        .args(["--snapshot-writer-delay", "2000000", "--dir"])
        .arg(dir.path())
        .stdout(std::fs::File::create(&log).expect("log"))
        .stderr(Stdio::null())
        .spawn()
        .expect("server runs");
    let pid = Pid::from_raw(child.id() as i32);
    let logged = |s: &str| {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains(s)
    };
    wait_for("startup", || logged("Ready to accept connections"));
    assert!(logged("DB loaded from disk"));
    kill(pid, Signal::SIGINT).expect("signal");
    let temp = dir.path().join(format!("temp-{}-forkless.rdb", child.id()));
    wait_for("the forkless temp file", || temp.exists());
    kill(pid, Signal::SIGINT).expect("signal");
    let mut status = None;
    wait_for("the exit", || {
        status = child.try_wait().expect("wait");
        status.is_some()
    });
    assert_eq!(status.and_then(|s| s.code()), Some(1));
    assert!(!temp.exists(), "the temp file is left");
    assert_eq!(std::fs::read(dir.dump()).expect("dump"), fixture);
}
