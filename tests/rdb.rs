//! The RDB codec against files real Redis wrote (tests/fixtures/rdb, made
//! by scripts/make-rdb-fixtures.sh), against itself, and against real
//! redis-server loading what we write.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use snapcache::keyspace::list::Fill;
use snapcache::keyspace::{hash, zset, Keyspace};
use snapcache::persistence::rdb::{self, AccessInfo, Encodings, LoadOptions, SaveOptions};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rdb")
}

fn enc() -> Encodings {
    Encodings {
        hash: hash::Limits {
            max_entries: 512,
            max_value: 64,
        },
        zset: zset::Limits {
            max_entries: 128,
            max_value: 64,
        },
        set_max_intset: 512,
        list_fill: Fill::new(-2),
    }
}

fn load_opts(deep: bool) -> LoadOptions {
    LoadOptions {
        enc: enc(),
        deep_sanitize: deep,
        databases: 16,
        drop_expired_before: Some(snapcache::keyspace::now_ms()),
    }
}

fn save_opts(compress: bool) -> SaveOptions {
    SaveOptions {
        compress,
        checksum: true,
        access: AccessInfo::None,
        extra_aux: Vec::new(),
        aof_base: false,
        used_mem: 1 << 20,
    }
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn text(name: &str) -> String {
    String::from_utf8(read(name)).unwrap()
}

/// "db keys expires" lines, as INFO keyspace gives them.
fn key_counts(ks: &Keyspace) -> String {
    let mut s = String::new();
    for (i, db) in ks.dbs.iter().enumerate() {
        if !db.is_empty() {
            s.push_str(&format!("{i} {} {}\n", db.len(), db.expires_len()));
        }
    }
    s
}

fn load(bytes: &[u8]) -> rdb::Loaded {
    rdb::load(bytes, &load_opts(true), &mut |_| {}).expect("loads")
}

#[test]
fn loads_redis_7_fixture() {
    let bytes = read("redis-7.0.15.rdb");
    let mut calls = 0;
    let l = rdb::load(&bytes, &load_opts(false), &mut |_| calls += 1).unwrap();
    assert_eq!(l.version, 10);
    assert_eq!(l.keyspace.digest(), text("redis-7.0.15.digest").trim());
    assert_eq!(key_counts(&l.keyspace), text("redis-7.0.15.keys"));
    assert_eq!(calls, l.keys_loaded);
    assert_eq!(l.aux[0], (b"redis-ver".to_vec(), b"7.0.15".to_vec()));
    // The function library is kept aside (FUNCTION2), not loaded.
    assert_eq!(l.functions.len(), 1);
    assert!(l.functions[0].starts_with(b"#!lua name=fixturelib"));
    let db = &l.keyspace.dbs[0];
    let enc_of = |k: &str| db.get_raw(k.as_bytes()).unwrap().value.encoding();
    for (k, want) in [
        ("int8", "int"),
        ("embstr", "embstr"),
        ("raw", "raw"),
        ("list_plain", "quicklist"),
        ("hash_small", "listpack"),
        ("hash_big", "hashtable"),
        ("hash_longval", "hashtable"),
        ("set_int64", "intset"),
        ("set_bigint", "hashtable"),
        ("zset_small", "listpack"),
        ("zset_big", "skiplist"),
    ] {
        assert_eq!(enc_of(k), want, "{k}");
    }
    // Deep sanitization accepts what Redis wrote.
    assert_eq!(load(&bytes).keyspace.digest(), l.keyspace.digest());
}

/// Our DUMP of each value Redis loaded is byte for byte Redis's DUMP
/// (encodings, integer strings, LZF, skiplist order, listpack blobs).
#[test]
fn writer_matches_redis_bytes() {
    let l = load(&read("redis-7.0.15.rdb"));
    let dumps = text("redis-7.0.15.dumps");
    let mut n = 0;
    for line in dumps.lines() {
        let (key, hex) = line.split_once(' ').unwrap();
        let want: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let e = l.keyspace.dbs[0].get_raw(key.as_bytes()).unwrap();
        assert_eq!(rdb::dump_value(&e.value, true), want, "DUMP {key}");
        n += 1;
    }
    assert!(n >= 20, "{n} dumps compared");
}

#[test]
fn loads_legacy_encodings() {
    for f in [
        "encodings",
        "hash-zipmap",
        "hash-ziplist",
        "list-quicklist",
        "zset-ziplist",
    ] {
        let bytes = read(&format!("legacy/{f}.rdb"));
        for deep in [false, true] {
            let l = rdb::load(&bytes, &load_opts(deep), &mut |_| {})
                .unwrap_or_else(|e| panic!("{f}: {e}"));
            assert_eq!(
                l.keyspace.digest(),
                text(&format!("legacy/{f}.digest")).trim(),
                "{f}"
            );
            assert_eq!(
                key_counts(&l.keyspace),
                text(&format!("legacy/{f}.keys")),
                "{f}"
            );
        }
    }
}

#[test]
fn round_trip_keeps_digest() {
    let l = load(&read("redis-7.0.15.rdb"));
    for compress in [true, false] {
        let ours =
            rdb::write_keyspace(&l.keyspace, save_opts(compress), Vec::new(), &mut |_| {}).unwrap();
        let back = load(&ours);
        assert_eq!(back.keyspace.digest(), l.keyspace.digest());
        assert_eq!(key_counts(&back.keyspace), key_counts(&l.keyspace));
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

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

/// One command through redis-cli; its stdout without the trailing newline.
fn cli(port: u16, args: &[&str]) -> Option<String> {
    let out = Command::new("/usr/bin/redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn start_redis(dir: &Path, file: &str) -> Redis {
    let port = free_port();
    let child = Command::new("/usr/bin/redis-server")
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .arg("--dir")
        .arg(dir)
        .args(["--dbfilename", file, "--save", "", "--appendonly", "no"])
        .args(["--enable-debug-command", "yes"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server starts");
    let r = Redis { child, port };
    let deadline = Instant::now() + Duration::from_secs(20);
    while cli(port, &["ping"]).as_deref() != Some("PONG") {
        assert!(Instant::now() < deadline, "redis-server did not answer");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Wait for the load to finish (PING answers LOADING errors on stdout too).
    while cli(port, &["info", "persistence"]).is_some_and(|s| s.contains("loading:1")) {
        assert!(Instant::now() < deadline, "redis-server did not load");
        std::thread::sleep(Duration::from_millis(50));
    }
    r
}

#[test]
fn real_redis_loads_our_file() {
    if !Path::new("/usr/bin/redis-server").exists() {
        eprintln!("skipped: /usr/bin/redis-server is missing (scripts/setup.sh installs it)");
        return;
    }
    let l = load(&read("redis-7.0.15.rdb"));
    let dir = std::env::temp_dir().join(format!("snapcache-rdb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ours = rdb::write_keyspace(&l.keyspace, save_opts(true), Vec::new(), &mut |_| {}).unwrap();
    std::fs::write(dir.join("ours.rdb"), &ours).unwrap();

    let check = Command::new("/usr/bin/redis-check-rdb")
        .arg(dir.join("ours.rdb"))
        .output()
        .expect("redis-check-rdb runs");
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{report}");
    assert!(report.contains("RDB looks OK!"), "{report}");

    let r = start_redis(&dir, "ours.rdb");
    let digest = cli(r.port, &["debug", "digest"]).unwrap();
    assert_eq!(digest, l.keyspace.digest());
    assert_eq!(digest, text("redis-7.0.15.digest").trim());
    drop(r);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn empty_keys_are_skipped_and_corrupt_ziplists_refused() {
    for deep in [false, true] {
        let l = rdb::load(
            &read("legacy/corrupt_empty_keys.rdb"),
            &load_opts(deep),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!((l.keys_loaded, l.empty_skipped), (0, 9));
        let err = rdb::load(
            &read("legacy/corrupt_ziplist.rdb"),
            &load_opts(deep),
            &mut |_| {},
        )
        .err()
        .expect("refused");
        assert!(err.to_string().contains("integrity check failed"), "{err}");
    }
    let l = load(&read("legacy/scriptbackup.rdb"));
    assert!(l.aux.iter().any(|(k, _)| k == b"lua"));
}
