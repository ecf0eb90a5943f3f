//! maxmemory, eviction policies and reserved memory, through the library
//! API. Each test sets the limit a little below the memory in use, so that
//! exactly the keys it expects must go; `used_memory` is process-wide, so
//! the tests of this file run one at a time.

mod common;

use common::{bulk, err, int, ok, run};
use snapcache::{Frame, Server, ServerHandle};
use std::sync::{Mutex, MutexGuard};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

fn start(policy: &str) -> ServerHandle {
    Server::builder()
        .port(0)
        .config("maxmemory-policy", policy)
        // Every sample sees every key: the choice is exact, not sampled.
        .config("maxmemory-samples", "64")
        .start()
        .expect("server starts")
}

fn info(s: &ServerHandle, field: &str) -> String {
    let Frame::Bulk(text) = run(s, &["INFO", "all"]) else {
        panic!("INFO replies with a bulk string");
    };
    let text = String::from_utf8_lossy(&text).into_owned();
    text.split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
        .unwrap_or_else(|| panic!("INFO has {field}"))
}

fn info_u64(s: &ServerHandle, field: &str) -> u64 {
    info(s, field).parse().expect("a number")
}

/// A 10 kB value: each key is worth more than the margins used below.
fn big() -> String {
    "v".repeat(10_000)
}

/// Sets the limit `below` bytes under the memory in use, then runs a
/// command so that eviction happens (before it, as Redis does).
fn squeeze(s: &ServerHandle, below: u64) {
    let used = info_u64(s, "used_memory");
    assert_eq!(
        run(
            s,
            &["CONFIG", "SET", "maxmemory", &(used - below).to_string()]
        ),
        ok()
    );
    run(s, &["PING"]);
}

fn exists(s: &ServerHandle, key: &str) -> bool {
    run(s, &["EXISTS", key]) == int(1)
}

#[test]
fn noeviction_refuses_denyoom_commands_only() {
    let _g = serial();
    let s = start("noeviction");
    assert_eq!(run(&s, &["SET", "k", "v"]), ok());
    assert_eq!(run(&s, &["CONFIG", "SET", "maxmemory", "1"]), ok());
    assert_eq!(run(&s, &["SET", "k2", "v"]), err(OOM));
    assert_eq!(run(&s, &["GET", "k"]), bulk("v"));
    assert_eq!(run(&s, &["DEL", "k"]), int(1));
    assert_eq!(info_u64(&s, "evicted_keys"), 0);
    // Queued commands are refused too, then EXEC aborts.
    assert_eq!(run(&s, &["MULTI"]), ok());
    assert_eq!(run(&s, &["GET", "k"]), err(OOM));
    assert_eq!(
        run(&s, &["EXEC"]),
        err("EXECABORT Transaction discarded because of previous errors.")
    );
    s.shutdown().expect("stops");
}

#[test]
fn volatile_policies_never_evict_persistent_keys() {
    let _g = serial();
    let s = start("volatile-lru");
    assert_eq!(run(&s, &["SET", "p", &big()]), ok());
    assert_eq!(run(&s, &["SET", "v", &big(), "EX", "1000"]), ok());
    assert_eq!(run(&s, &["CONFIG", "SET", "maxmemory", "1"]), ok());
    assert_eq!(run(&s, &["SET", "x", "1"]), err(OOM));
    assert!(exists(&s, "p"));
    assert!(!exists(&s, "v"));
    assert_eq!(info_u64(&s, "evicted_keys"), 1);
    s.shutdown().expect("stops");
}

#[test]
fn volatile_ttl_evicts_the_nearest_deadline_first() {
    let _g = serial();
    let s = start("volatile-ttl");
    assert_eq!(run(&s, &["SET", "persistent", &big()]), ok());
    for (k, ttl) in [("late", "3000"), ("soon", "1000"), ("middle", "2000")] {
        assert_eq!(run(&s, &["SET", k, &big(), "EX", ttl]), ok());
    }
    squeeze(&s, 5_000);
    assert!(!exists(&s, "soon"));
    assert!(exists(&s, "middle") && exists(&s, "late") && exists(&s, "persistent"));
    squeeze(&s, 5_000);
    assert!(!exists(&s, "middle"));
    assert!(exists(&s, "late"));
    assert_eq!(info_u64(&s, "evicted_keys"), 2);
    s.shutdown().expect("stops");
}

#[test]
fn allkeys_lru_evicts_the_longest_idle() {
    let _g = serial();
    let s = start("allkeys-lru");
    assert_eq!(run(&s, &["SET", "src", &big()]), ok());
    let Frame::Bulk(payload) = run(&s, &["DUMP", "src"]) else {
        panic!("DUMP replies with a bulk string");
    };
    assert_eq!(run(&s, &["DEL", "src"]), int(1));
    // RESTORE IDLETIME sets the access clock back: no need to wait.
    for (k, idle) in [("recent", "10"), ("oldest", "5000"), ("old", "1000")] {
        let args: [&[u8]; 6] = [
            b"RESTORE",
            k.as_bytes(),
            b"0",
            &payload,
            b"IDLETIME",
            idle.as_bytes(),
        ];
        assert_eq!(s.execute(&args).expect("engine running"), ok());
    }
    assert_eq!(run(&s, &["SET", "fresh", &big()]), ok());
    squeeze(&s, 5_000);
    assert!(!exists(&s, "oldest"));
    squeeze(&s, 5_000);
    assert!(!exists(&s, "old"));
    assert!(exists(&s, "recent") && exists(&s, "fresh"));
    s.shutdown().expect("stops");
}

#[test]
fn allkeys_lfu_keeps_the_hot_key() {
    let _g = serial();
    let s = start("allkeys-lfu");
    // Every access counts, nothing decays: the counters are exact.
    assert_eq!(run(&s, &["CONFIG", "SET", "lfu-log-factor", "0"]), ok());
    assert_eq!(run(&s, &["CONFIG", "SET", "lfu-decay-time", "0"]), ok());
    for i in 0..10 {
        assert_eq!(run(&s, &["SET", &format!("k{i}"), &big()]), ok());
    }
    for _ in 0..50 {
        run(&s, &["GET", "k3"]);
    }
    assert_eq!(run(&s, &["OBJECT", "FREQ", "k3"]), int(55));
    assert_eq!(run(&s, &["OBJECT", "FREQ", "k4"]), int(5));
    // Frees at least 9 keys' worth but not all ten.
    squeeze(&s, 85_000);
    assert_eq!(run(&s, &["DBSIZE"]), int(1));
    assert!(exists(&s, "k3"));
    assert_eq!(info_u64(&s, "evicted_keys"), 9);
    s.shutdown().expect("stops");
}

#[test]
fn random_policies_evict_until_within_the_limit() {
    let _g = serial();
    let s = start("allkeys-random");
    for i in 0..20 {
        assert_eq!(run(&s, &["SET", &format!("k{i}"), &big()]), ok());
    }
    squeeze(&s, 45_000);
    let evicted = info_u64(&s, "evicted_keys");
    assert!((5..=6).contains(&evicted), "{evicted}");
    assert_eq!(run(&s, &["DBSIZE"]), int(20 - evicted as i64));
    assert!(info_u64(&s, "used_memory") <= info_u64(&s, "maxmemory"));
    s.shutdown().expect("stops");
}

#[test]
fn reserved_memory_lowers_the_limit_only_when_set() {
    let _g = serial();
    let s = start("allkeys-random");
    for i in 0..20 {
        assert_eq!(run(&s, &["SET", &format!("k{i}"), &big()]), ok());
    }
    let used = info_u64(&s, "used_memory");
    let max = used + 100_000;
    assert_eq!(
        run(&s, &["CONFIG", "SET", "maxmemory", &max.to_string()]),
        ok()
    );
    // Default: ElastiCache's 25% is reported, Redis's limit applies.
    run(&s, &["PING"]);
    assert_eq!(info_u64(&s, "evicted_keys"), 0);
    assert_eq!(info_u64(&s, "reserved_memory"), max / 4);
    assert_eq!(info(&s, "reserved_memory_percent"), "25.00");
    assert_eq!(info(&s, "reserved_memory_applied"), "0");
    assert_eq!(info_u64(&s, "maxmemory_data"), max);
    // An explicit reserve of 145 kB puts the limit ~45 kB below use.
    assert_eq!(
        run(&s, &["CONFIG", "SET", "reserved-memory", "145000"]),
        ok()
    );
    run(&s, &["PING"]);
    assert_eq!(info(&s, "reserved_memory_applied"), "1");
    assert_eq!(info_u64(&s, "maxmemory_data"), max - 145_000);
    assert_eq!(info_u64(&s, "reserved_memory_headroom"), 145_000);
    let evicted = info_u64(&s, "evicted_keys");
    assert!((5..=6).contains(&evicted), "{evicted}");
    assert!(info_u64(&s, "used_memory") <= max - 145_000);
    s.shutdown().expect("stops");
}

#[test]
fn reserve_without_maxmemory_is_a_share_of_the_machine() {
    let _g = serial();
    let s = start("noeviction");
    assert_eq!(info_u64(&s, "maxmemory_data"), 0);
    assert_eq!(info(&s, "reserved_memory_percent"), "25.00");
    assert!(info_u64(&s, "reserved_memory") > 0);
    assert_eq!(
        run(&s, &["CONFIG", "SET", "reserved-memory-percent", "10"]),
        ok()
    );
    assert_eq!(info(&s, "reserved_memory_percent"), "10.00");
    // No maxmemory, no eviction, whatever the reserve.
    assert_eq!(run(&s, &["SET", "k", &big()]), ok());
    assert_eq!(info_u64(&s, "evicted_keys"), 0);
    s.shutdown().expect("stops");
}

#[test]
fn eviction_fails_watchers() {
    let _g = serial();
    let s = start("allkeys-lru");
    assert_eq!(run(&s, &["SET", "k", &big()]), ok());
    assert_eq!(run(&s, &["WATCH", "k"]), ok());
    assert_eq!(run(&s, &["CONFIG", "SET", "maxmemory", "1"]), ok());
    run(&s, &["PING"]);
    assert_eq!(run(&s, &["CONFIG", "SET", "maxmemory", "0"]), ok());
    assert_eq!(run(&s, &["MULTI"]), ok());
    assert_eq!(run(&s, &["SET", "x", "1"]), Frame::Simple("QUEUED".into()));
    assert_eq!(run(&s, &["EXEC"]), Frame::NullArray);
    assert_eq!(info_u64(&s, "evicted_keys"), 1);
    s.shutdown().expect("stops");
}

#[test]
fn maxmemory_clients_closes_the_biggest_client() {
    use std::io::{Read, Write};
    let _g = serial();
    let s = start("noeviction");
    assert_eq!(
        run(&s, &["CONFIG", "SET", "maxmemory-clients", "100000"]),
        ok()
    );
    let mut small = common::Conn::open(&s);
    small.call(&["PING"], "+PONG\r\n");
    let mut big = common::Conn::open(&s);
    // A command that never completes: its argument waits in the query buffer.
    let mut req = b"*2\r\n$3\r\nGET\r\n$300000\r\n".to_vec();
    req.extend(std::iter::repeat_n(b'x', 200_000));
    big.sock.write_all(&req).expect("write");
    // Any command (INFO here) evicts it once the server has read enough.
    let mut waited = 0;
    while info_u64(&s, "evicted_clients") == 0 {
        waited += 1;
        assert!(waited < 1_000_000, "the client was never evicted");
        std::thread::yield_now();
    }
    assert_eq!(info_u64(&s, "evicted_clients"), 1);
    // Closed: an orderly end of stream, or a reset because the server
    // dropped the connection with unread input in its buffer.
    let mut rest = Vec::new();
    match big.sock.read_to_end(&mut rest) {
        Ok(n) => assert_eq!(n, 0),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
    }
    assert!(rest.is_empty());
    small.call(&["PING"], "+PONG\r\n");
    s.shutdown().expect("stops");
}
