use super::table::{self, Kind, CONFIGS};
use super::*;

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("snapcache-cfg-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

fn load(text: &str) -> Result<Config, ConfigError> {
    let mut c = Config::default();
    c.load_str(text, Origin::Text)?;
    Ok(c)
}

fn load_err(text: &str) -> String {
    match load(text) {
        Ok(_) => panic!("expected an error for {text:?}"),
        Err(e) => e.to_string(),
    }
}

fn get1(c: &Config, name: &str) -> String {
    c.get_value(name)
        .unwrap_or_else(|| panic!("no such config {name}"))
}

fn set1(c: &mut Config, name: &str, value: &str) -> Result<Vec<&'static str>, String> {
    c.set(&[(name.as_bytes(), value.as_bytes())])
}

#[test]
fn table_defaults_match_default_impl() {
    let c = Config::default();
    let mut names = std::collections::HashSet::new();
    for d in CONFIGS {
        assert!(names.insert(d.name), "duplicate {}", d.name);
        if let Some(a) = d.alias {
            assert!(names.insert(a), "duplicate alias {a}");
        }
        match d.kind {
            Kind::Bool { default, get, .. } => assert_eq!(get(&c), default, "{}", d.name),
            Kind::Num {
                default,
                get,
                min,
                max,
                ..
            } => {
                assert_eq!(get(&c), default, "{}", d.name);
                assert!(min <= default && default <= max, "{}", d.name);
            }
            Kind::Str { default, get, .. } => {
                assert_eq!(
                    get(&c).map(|v| v.into_owned()),
                    default.map(|s| s.as_bytes().to_vec()),
                    "{}",
                    d.name
                )
            }
            Kind::Enum { default, get, .. } => assert_eq!(get(&c), default, "{}", d.name),
            Kind::Special { .. } => {}
        }
    }
    // Redis 7.0 has 159 non-TLS parameters; we add 6 of our own.
    assert_eq!(CONFIGS.len(), 159 + 6);
}

#[test]
fn default_values_as_config_get_reports_them() {
    let c = Config::default();
    assert_eq!(get1(&c, "save"), "3600 1 300 100 60 10000");
    assert_eq!(get1(&c, "bind"), "* -::*");
    assert_eq!(get1(&c, "port"), "6379");
    assert_eq!(get1(&c, "maxmemory"), "0");
    assert_eq!(get1(&c, "maxmemory-policy"), "noeviction");
    assert_eq!(get1(&c, "appendfsync"), "everysec");
    assert_eq!(get1(&c, "proto-max-bulk-len"), "536870912");
    assert_eq!(get1(&c, "client-query-buffer-limit"), "1073741824");
    assert_eq!(
        get1(&c, "client-output-buffer-limit"),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
    assert_eq!(get1(&c, "oom-score-adj-values"), "0 200 800");
    assert_eq!(get1(&c, "latency-tracking-info-percentiles"), "50 99 99.9");
    assert_eq!(get1(&c, "notify-keyspace-events"), "");
    assert_eq!(get1(&c, "replicaof"), "");
    assert_eq!(get1(&c, "requirepass"), "");
    assert_eq!(get1(&c, "list-max-listpack-size"), "-2");
    assert_eq!(get1(&c, "shutdown-on-sigterm"), "default");
    assert_eq!(get1(&c, "unixsocketperm"), "0");
    assert_eq!(
        get1(&c, "proc-title-template"),
        "{title} {listen-addr} {server-mode}"
    );
    assert_eq!(get1(&c, "reserved-memory"), "0");
    assert_eq!(get1(&c, "reserved-memory-percent"), "25");
    assert_eq!(get1(&c, "snapshot-method"), "auto");
    assert_eq!(get1(&c, "acl-pubsub-default"), "resetchannels");
    assert_eq!(get1(&c, "syslog-facility"), "local0");
    assert_eq!(get1(&c, "maxmemory-clients"), "0");
    assert_eq!(get1(&c, "hz"), "10");
    assert!(Path::new(&get1(&c, "dir")).is_absolute());
}

#[test]
fn parses_redis_default_conf() {
    let path = Path::new("/work/main/.cache/redis-src/tests/assets/default.conf");
    let Ok(text) = std::fs::read_to_string(path) else {
        eprintln!("skipping: {} not present", path.display());
        return;
    };
    let mut c = Config::default();
    c.load_str(&text, Origin::File(path))
        .expect("default.conf must load");
    assert!(c.always_show_logo);
    assert_eq!(
        c.notify_keyspace_events,
        notify::KEYSPACE | notify::KEYEVENT | notify::ALL
    );
    assert_eq!(get1(&c, "notify-keyspace-events"), "AKE");
    assert!(!c.daemonize);
    assert_eq!(c.pidfile.as_deref(), Some("/var/run/redis.pid"));
    assert_eq!(c.port, 6379);
    assert_eq!(c.timeout, 0);
    assert_eq!(c.bind, vec!["127.0.0.1".to_string()]);
    assert_eq!(c.loglevel, LogLevel::Verbose);
    assert_eq!(c.logfile, "");
    assert_eq!(c.databases, 16);
    assert_eq!(c.latency_monitor_threshold, 1);
    assert_eq!(c.repl_diskless_sync_delay, 0);
    assert_eq!(c.save, vec![(900, 1)]);
    assert!(c.rdbcompression);
    assert_eq!(c.dbfilename, "dump.rdb");
    assert!(c.replica_serve_stale_data);
    assert!(!c.appendonly);
    assert_eq!(c.appendfsync, AppendFsync::EverySec);
    assert_eq!(c.enable_protected_configs, ProtectedAction::Yes);
    assert_eq!(c.enable_debug_command, ProtectedAction::Yes);
    assert_eq!(c.enable_module_command, ProtectedAction::Yes);
    assert_eq!(
        c.propagation_error_behavior,
        PropagationErrorBehavior::Panic
    );
    assert_eq!(
        c.dir,
        std::env::current_dir()
            .and_then(std::fs::canonicalize)
            .expect("cwd")
    );
}

#[test]
fn quoted_values_and_comments() {
    let c = load(
        "# comment\n\n   requirepass \"p a\\x41ss\\n\"  \nmasterauth 'it\\'s'\nlogfile \"\"\n\t# indented comment\r\nmaxmemory 100mb\r\n",
    )
    .expect("load");
    assert_eq!(c.requirepass.as_deref(), Some(&b"p aAss\n"[..]));
    assert_eq!(c.masterauth.as_deref(), Some(&b"it's"[..]));
    assert_eq!(c.logfile, "");
    assert_eq!(c.maxmemory, 100 << 20);
    assert_eq!(
        load_err("requirepass \"abc"),
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 1\n>>> 'requirepass \"abc'\nUnbalanced quotes in configuration line"
    );
}

#[test]
fn save_and_bind_lines() {
    let c = load("save 900 1\nsave 300 10\nsave 60 10000\nbind 1.2.3.4\nbind 127.0.0.1 ::1\n")
        .expect("load");
    assert_eq!(c.save, vec![(900, 1), (300, 10), (60, 10000)]);
    assert_eq!(c.bind, vec!["127.0.0.1".to_string(), "::1".to_string()]);
    assert_eq!(get1(&c, "save"), "900 1 300 10 60 10000");
    let c = load("save \"\"\n").expect("load");
    assert!(c.save.is_empty());
    let c = load("save \"900 1 300 10\"\n").expect("load");
    assert_eq!(c.save, vec![(900, 1), (300, 10)]);
    let c = load("bind \"\"\n").expect("load");
    assert!(c.bind.is_empty());
    assert!(load_err("save 900\n").ends_with("\nInvalid save parameters"));
    assert!(load_err("save 0 1\n").ends_with("\nInvalid save parameters"));
    assert!(load_err("save 10 -1\n").ends_with("\nInvalid save parameters"));
}

#[test]
fn unknown_directive_and_arity_errors() {
    assert_eq!(
        load_err("port 7000\nfoobar baz\n"),
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'foobar baz'\nBad directive or wrong number of arguments"
    );
    assert_eq!(
        load_err("port 1 2"),
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 1\n>>> 'port 1 2'\nwrong number of arguments"
    );
    assert!(load_err("include a b").ends_with("\nBad directive or wrong number of arguments"));
    assert!(
        load_err("sentinel monitor x").ends_with("\nsentinel directive while not in sentinel mode")
    );
    assert!(load_err("foo.bar").ends_with("\nModule config specified without value"));
    // Deprecated directives are ignored; case of the directive doesn't matter.
    let c =
        load("list-max-ziplist-entries 10\nlua-replicate-commands yes\nPORT 7001\n").expect("load");
    assert_eq!(c.port, 7001);
}

#[test]
fn per_type_error_messages() {
    let tail = |t: &str| {
        load_err(t)
            .rsplit('\n')
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(tail("daemonize maybe"), "argument must be 'yes' or 'no'");
    assert_eq!(
        tail("port abc"),
        "argument couldn't be parsed into an integer"
    );
    assert_eq!(
        tail("port 65536"),
        "argument must be between 0 and 65535 inclusive"
    );
    assert_eq!(
        tail("port +1"),
        "argument couldn't be parsed into an integer"
    );
    assert_eq!(tail("maxmemory 1tb"), "argument must be a memory value");
    assert_eq!(
        tail("maxmemory-clients 1x"),
        "argument must be a memory or percent value"
    );
    assert_eq!(
        tail("maxmemory-clients 101%"),
        "percentage argument must be less or equal to 100"
    );
    assert_eq!(
        tail("unixsocketperm 999"),
        "argument couldn't be parsed as an octal number"
    );
    assert_eq!(
        tail("unixsocketperm 1777"),
        "argument must be between 0 and 777 inclusive"
    );
    assert_eq!(
        tail("maxmemory-policy lru"),
        "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
    );
    assert_eq!(
        tail("notify-keyspace-events KEQ"),
        "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
    );
    assert_eq!(
        tail("dbfilename a/b.rdb"),
        "dbfilename can't be a path, just a filename"
    );
    assert_eq!(tail("appendfilename \"\""), "appendfilename can't be empty");
    assert_eq!(tail("replicaof host 70000"), "Invalid master port");
    assert_eq!(tail("replicaof host"), "wrong number of arguments");
    assert_eq!(
        tail("oom-score-adj-values 1 2"),
        "wrong number of arguments"
    );
    assert_eq!(
        tail("oom-score-adj-values 0 200 3000"),
        "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
    );
    assert_eq!(
        tail("client-output-buffer-limit normal 0 0"),
        "Wrong number of arguments in buffer limit configuration."
    );
    assert_eq!(
        tail("client-output-buffer-limit master 0 0 0"),
        "Invalid client class specified in buffer limit configuration."
    );
    assert_eq!(
        tail("client-output-buffer-limit normal 1x 0 0"),
        "Error in hard, soft or soft_seconds setting in buffer limit configuration."
    );
    assert_eq!(
        tail("shutdown-on-sigint save nosave"),
        "shutdown options SAVE and NOSAVE can't be used simultaneously"
    );
    assert_eq!(
        tail("dir /nonexistent/snapcache/dir"),
        "No such file or directory"
    );
    assert_eq!(
        tail("latency-tracking-info-percentiles 50 101"),
        "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
    );
}

#[test]
fn aliases_and_special_values_load() {
    let c = load(
        "hash-max-ziplist-entries 100\nslave-read-only no\nslaveof 10.0.0.1 6380\nlist-max-ziplist-size -3\n\
         client-output-buffer-limit replica 1gb 512mb 30 pubsub 0 0 0\nunixsocketperm 700\nmaxmemory-clients 10%\n\
         shutdown-on-sigint \"now force\"\noom-score-adj relative\nhz 1000\n",
    )
    .expect("load");
    assert_eq!(c.hash_max_listpack_entries, 100);
    assert!(!c.replica_read_only);
    assert_eq!(c.replicaof, Some(("10.0.0.1".to_string(), 6380)));
    assert_eq!(c.list_max_listpack_size, -3);
    assert_eq!(
        c.client_output_buffer_limit[CLIENT_TYPE_REPLICA].hard_limit_bytes,
        1 << 30
    );
    assert_eq!(c.unixsocketperm, 0o700);
    assert_eq!(c.maxmemory_clients, -10);
    assert_eq!(
        c.shutdown_on_sigint,
        shutdown_flags::NOW | shutdown_flags::FORCE
    );
    assert_eq!(c.oom_score_adj, OomScoreAdj::Relative);
    assert_eq!(c.hz, 500);
    assert_eq!(get1(&c, "slaveof"), "10.0.0.1 6380");
    assert_eq!(get1(&c, "maxmemory-clients"), "10%");
    assert_eq!(get1(&c, "unixsocketperm"), "700");
    assert_eq!(get1(&c, "shutdown-on-sigint"), "now force");
    assert_eq!(get1(&c, "oom-score-adj"), "yes");
    assert_eq!(
        get1(&c, "client-output-buffer-limit"),
        "normal 0 0 0 slave 1073741824 536870912 30 pubsub 0 0 0"
    );
}

#[test]
fn include_files() {
    let d = tmpdir("include");
    std::fs::create_dir_all(d.join("conf.d")).expect("mkdir");
    std::fs::write(d.join("conf.d/a.conf"), "port 7001\nmaxmemory 1mb\n").expect("write");
    std::fs::write(d.join("conf.d/b.conf"), "port 7002\n").expect("write");
    std::fs::write(d.join("base.conf"), "databases 4\n").expect("write");
    let main = format!(
        "include {}\ninclude {}/conf.d/*.conf\ninclude {}/empty.d/*.conf\ntimeout 5\n",
        d.join("base.conf").display(),
        d.display(),
        d.display()
    );
    let c = load(&main).expect("load");
    assert_eq!(c.databases, 4);
    assert_eq!(c.port, 7002);
    assert_eq!(c.maxmemory, 1 << 20);
    assert_eq!(c.timeout, 5);
    let e = load_err(&format!("include {}/missing.conf", d.display()));
    assert_eq!(
        e,
        format!(
            "Fatal error, can't open config file '{}/missing.conf': No such file or directory",
            d.display()
        )
    );
    // Errors inside an included file report the included file's line.
    std::fs::write(d.join("bad.conf"), "port 1\nbogus\n").expect("write");
    let e = load_err(&format!("include {}", d.join("bad.conf").display()));
    assert!(e.contains("at line 2\n>>> 'bogus'\n"), "{e}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn config_set_basic_and_errors() {
    let mut c = Config::default();
    assert_eq!(set1(&mut c, "maxmemory", "1gb"), Ok(vec!["maxmemory"]));
    assert_eq!(c.maxmemory, 1 << 30);
    assert_eq!(get1(&c, "maxmemory"), "1073741824");
    assert_eq!(set1(&mut c, "maxmemory", "1GB"), Ok(vec![]));
    assert_eq!(set1(&mut c, "MAXMEMORY", "64k"), Ok(vec!["maxmemory"]));
    assert_eq!(c.maxmemory, 64_000);
    assert_eq!(
        set1(&mut c, "maxmemory", "ten"),
        Err("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value".into())
    );
    assert_eq!(
        set1(&mut c, "foo", "bar"),
        Err("ERR Unknown option or number of arguments for CONFIG SET - 'foo'".into())
    );
    assert_eq!(
        set1(&mut c, "daemonize", "yes"),
        Err("ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config".into())
    );
    assert_eq!(
        set1(&mut c, "appendonly", "maybe"),
        Err("ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'".into())
    );
    assert_eq!(
        set1(&mut c, "hash-max-ziplist-entries", "-1"),
        Err("ERR CONFIG SET failed (possibly related to argument 'hash-max-ziplist-entries') - argument must be between 0 and 9223372036854775807 inclusive".into())
    );
    assert_eq!(
        set1(&mut c, "dbfilename", "x.rdb"),
        Err("ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config".into())
    );
    assert_eq!(
        c.set_with(
            &[(b"appendonly", b"yes")],
            SetOptions {
                loading: true,
                ..Default::default()
            }
        ),
        Err("LOADING Redis is loading the dataset in memory".into())
    );
    c.enable_protected_configs = ProtectedAction::Local;
    assert!(set1(&mut c, "dbfilename", "x.rdb").is_err());
    let local = SetOptions {
        is_local_client: true,
        ..Default::default()
    };
    assert_eq!(
        c.set_with(&[(b"dbfilename", b"x.rdb")], local),
        Ok(vec!["dbfilename"])
    );
    assert_eq!(set1(&mut c, "save", ""), Ok(vec!["save"]));
    assert!(c.save.is_empty());
    assert_eq!(set1(&mut c, "save", "100 10 20 1"), Ok(vec!["save"]));
    assert_eq!(c.save, vec![(100, 10), (20, 1)]);
    assert_eq!(set1(&mut c, "hz", "0"), Ok(vec!["hz"]));
    assert_eq!(c.hz, 1);
    assert_eq!(
        set1(&mut c, "requirepass", "secret"),
        Ok(vec!["requirepass"])
    );
    assert_eq!(c.requirepass.as_deref(), Some(&b"secret"[..]));
    assert_eq!(set1(&mut c, "requirepass", ""), Ok(vec!["requirepass"]));
    assert_eq!(c.requirepass, None);
    assert!(Config::is_sensitive(b"requirepass"));
    assert!(Config::is_sensitive(b"MASTERAUTH"));
    assert!(!Config::is_sensitive(b"port"));
    assert_eq!(
        set1(&mut c, "shutdown-on-sigterm", "nosave now"),
        Ok(vec!["shutdown-on-sigterm"])
    );
    assert_eq!(get1(&c, "shutdown-on-sigterm"), "nosave now");
    assert_eq!(
        set1(&mut c, "snapshot-method", "FORKLESS"),
        Ok(vec!["snapshot-method"])
    );
    assert_eq!(c.snapshot_method, SnapshotMethod::Forkless);
    assert_eq!(
        set1(&mut c, "reserved-memory", "2gb"),
        Ok(vec!["reserved-memory"])
    );
    assert_eq!(c.reserved_memory, 2 << 30);
    assert_eq!(
        set1(&mut c, "maxmemory-clients", "5%"),
        Ok(vec!["maxmemory-clients"])
    );
    assert_eq!(c.maxmemory_clients, -5);
    assert_eq!(
        set1(&mut c, "notify-keyspace-events", "Kx"),
        Ok(vec!["notify-keyspace-events"])
    );
    assert_eq!(c.notify_keyspace_events, notify::KEYSPACE | notify::EXPIRED);
    assert_eq!(get1(&c, "notify-keyspace-events"), "xK");
    c.enable_protected_configs = ProtectedAction::Yes;
    assert_eq!(set1(&mut c, "dir", "/tmp"), Ok(vec!["dir"]));
    assert_eq!(c.dir, std::fs::canonicalize("/tmp").expect("tmp"));
}

#[test]
fn config_set_multi_pair_is_atomic() {
    let mut c = Config::default();
    let before = c.clone();
    let r = c.set(&[
        (b"maxmemory", b"10mb"),
        (b"maxmemory-policy", b"allkeys-lru"),
        (b"timeout", b"-5"),
    ]);
    assert_eq!(
        r,
        Err("ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive".into())
    );
    assert_eq!(c, before);
    let r = c.set(&[
        (b"maxmemory", b"10mb"),
        (b"slave-priority", b"5"),
        (b"maxmemory-policy", b"allkeys-lru"),
    ]);
    assert_eq!(
        r,
        Ok(vec!["maxmemory", "replica-priority", "maxmemory-policy"])
    );
    assert_eq!(c.maxmemory, 10 << 20);
    assert_eq!(c.replica_priority, 5);
    assert_eq!(c.maxmemory_policy, MaxmemoryPolicy::AllkeysLru);
    // Duplicates (including via an alias) are rejected before anything is set.
    let before = c.clone();
    assert_eq!(
        c.set(&[(b"maxmemory", b"1mb"), (b"maxmemory", b"2mb")]),
        Err("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter".into())
    );
    assert_eq!(
        c.set(&[(b"replica-priority", b"1"), (b"slave-priority", b"2")]),
        Err("ERR CONFIG SET failed (possibly related to argument 'slave-priority') - duplicate parameter".into())
    );
    assert_eq!(
        c.set(&[(b"port", b"1"), (b"nope", b"2"), (b"daemonize", b"no")]),
        Err("ERR Unknown option or number of arguments for CONFIG SET - 'nope'".into())
    );
    assert_eq!(c, before);
}

#[test]
fn config_get_glob_and_aliases() {
    let c = Config::default();
    let names = |pats: &[&str]| -> Vec<String> {
        let pats: Vec<&[u8]> = pats.iter().map(|p| p.as_bytes()).collect();
        c.get(&pats).into_iter().map(|(k, _)| k).collect()
    };
    assert_eq!(
        c.get(&[b"maxmemory"]),
        vec![("maxmemory".to_string(), "0".to_string())]
    );
    assert_eq!(
        c.get(&[b"MAXMEMORY"]),
        vec![("MAXMEMORY".to_string(), "0".to_string())]
    );
    assert_eq!(
        c.get(&[b"hash-max-ziplist-entries"]),
        vec![("hash-max-ziplist-entries".to_string(), "512".to_string())]
    );
    let mut got = names(&["hash-max-*"]);
    got.sort();
    assert_eq!(
        got,
        vec![
            "hash-max-listpack-entries",
            "hash-max-listpack-value",
            "hash-max-ziplist-entries",
            "hash-max-ziplist-value"
        ]
    );
    assert_eq!(names(&["MAXMEMORY", "maxmemory*"]).len(), 5);
    assert_eq!(names(&["MAXMEMORY", "maxmemory*"])[0], "MAXMEMORY");
    let mut got = names(&["maxmemory*", "maxmemory", "MAXMEMORY-P*"]);
    got.sort();
    assert_eq!(
        got,
        vec![
            "maxmemory",
            "maxmemory-clients",
            "maxmemory-eviction-tenacity",
            "maxmemory-policy",
            "maxmemory-samples"
        ]
    );
    // Hidden parameters need an exact name.
    assert!(names(&["key-load-*"]).is_empty());
    assert_eq!(names(&["key-load-delay"]), vec!["key-load-delay"]);
    assert!(names(&["no-such-thing"]).is_empty());
    let all = names(&["*"]);
    assert!(all.contains(&"slaveof".to_string()));
    assert!(all.contains(&"replicaof".to_string()));
    assert!(!all.contains(&"rdb-key-save-delay".to_string()));
    let mut dedup = all.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), all.len());
    assert_eq!(
        c.get(&[b"list-max-zip[l]ist-size"]),
        vec![("list-max-ziplist-size".to_string(), "-2".to_string())]
    );
}

#[test]
fn memory_units_via_config() {
    let mut c = Config::default();
    for (input, bytes) in [
        ("1gb", 1u64 << 30),
        ("100mb", 100 << 20),
        ("64k", 64_000),
        ("1kb", 1024),
        ("1KB", 1024),
        ("5m", 5_000_000),
        ("2g", 2_000_000_000),
        ("12345", 12345),
        ("7b", 7),
    ] {
        set1(&mut c, "maxmemory", input).expect("set");
        assert_eq!(c.maxmemory, bytes, "{input}");
        assert_eq!(get1(&c, "maxmemory"), bytes.to_string());
    }
    assert!(set1(&mut c, "maxmemory", "-1").is_err());
    assert!(set1(&mut c, "maxmemory", "1.5gb").is_err());
    assert_eq!(
        set1(&mut c, "proto-max-bulk-len", "1kb"),
        Err("ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive".into())
    );
}

#[test]
fn rewrite_round_trip() {
    let d = tmpdir("rewrite");
    let path = d.join("redis.conf");
    let original = "# My config\nport 7000\n\n\n# memory\nmaxmemory 100mb\nsave 900 1\nsave 300 10\nslave-read-only yes\nrename-command FLUSHALL \"\"\nhash-max-ziplist-entries 128\n";
    std::fs::write(&path, original).expect("write");
    let args = vec![
        path.to_string_lossy().into_owned(),
        "--dir".into(),
        d.to_string_lossy().into_owned(),
    ];
    let mut c = Config::from_args(&args).expect("load");
    assert_eq!(c.config_file.as_deref(), Some(path.as_path()));
    assert_eq!(c.port, 7000);
    assert_eq!(c.save, vec![(900, 1), (300, 10)]);
    assert_eq!(
        c.rename_commands,
        vec![("FLUSHALL".to_string(), String::new())]
    );
    c.set(&[
        (b"maxmemory", b"3gb"),
        (b"save", b"60 5"),
        (b"maxmemory-policy", b"allkeys-lfu"),
        (b"requirepass", b"s3cr\"et"),
        (b"hash-max-ziplist-entries", b"512"),
    ])
    .expect("set");
    // A directive we no longer understand (e.g. from an unloaded module).
    let mut old = std::fs::read_to_string(&path).expect("read");
    old = old.replace("rename-command", "bogus-directive 1\nrename-command");
    std::fs::write(&path, old).expect("write");
    c.rewrite(&path).expect("rewrite");
    let text = std::fs::read_to_string(&path).expect("read");
    let dir = std::fs::canonicalize(&d).expect("canon");
    let expected = format!(
        "# My config\nport 7000\n\n# memory\nmaxmemory 3gb\nsave 60 5\n\nreplica-read-only yes\n# ??? bogus-directive 1\nrename-command FLUSHALL \"\"\nhash-max-listpack-entries 512\n\n# Generated by CONFIG REWRITE\nrequirepass \"s3cr\\\"et\"\nmaxmemory-policy allkeys-lfu\ndir \"{}\"\nlatency-tracking-info-percentiles 50 99 99.9\n",
        dir.display()
    );
    assert_eq!(text, expected);
    // Reloading the rewritten file yields the same configuration.
    let again = Config::from_args(&[path.to_string_lossy().into_owned()]).expect("reload");
    let mut expect = c.clone();
    expect.rename_commands = again.rename_commands.clone();
    assert_eq!(again.rename_commands, c.rename_commands);
    assert_eq!(
        again,
        Config {
            save_loaded: again.save_loaded,
            ..expect
        }
    );
    // Like Redis, the trailing newline becomes one empty line on the next
    // rewrite, after which the output is a fixed point.
    again.rewrite(&path).expect("rewrite 2");
    let second = std::fs::read_to_string(&path).expect("read");
    assert_eq!(second, format!("{text}\n"));
    again.rewrite(&path).expect("rewrite 3");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), second);
    // No temp files left behind.
    let entries = std::fs::read_dir(&d).expect("readdir").count();
    assert_eq!(entries, 1);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn rewrite_special_cases() {
    let mut c = Config::default();
    c.save.clear();
    c.bind = vec!["127.0.0.1".into()];
    c.notify_keyspace_events = notify::KEYEVENT | notify::EXPIRED;
    c.client_output_buffer_limit[CLIENT_TYPE_PUBSUB].hard_limit_bytes = 64 << 20;
    c.latency_tracking_info_percentiles.clear();
    c.unixsocketperm = 0o755;
    c.logfile = "/var/log/x.log".into();
    let out = c.rewrite_to_string("bind 0.0.0.0\nsave 1 1\nsave 2 2\n");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "bind 127.0.0.1");
    assert_eq!(lines[1], "save \"\"");
    assert_eq!(lines[2], "");
    assert_eq!(lines[3], "# Generated by CONFIG REWRITE");
    assert!(lines.contains(&"notify-keyspace-events \"xE\""));
    assert!(lines.contains(&"client-output-buffer-limit pubsub 64mb 8mb 60"));
    assert!(!lines
        .iter()
        .any(|l| l.starts_with("client-output-buffer-limit normal")));
    assert!(lines.contains(&"latency-tracking-info-percentiles \"\""));
    assert!(lines.contains(&"unixsocketperm 755"));
    assert!(lines.contains(&"logfile \"/var/log/x.log\""));
    // Defaults not present in the file are not written.
    assert!(!lines.iter().any(|l| l.starts_with("port ")));
    // Default bind removes an existing bind line.
    let d = Config::default();
    let out = d.rewrite_to_string("bind 1.2.3.4\nport 6379\n");
    assert!(out.starts_with("\nport 6379\n"), "{out:?}");
}

#[test]
fn command_line_arguments() {
    let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let no_stdin = &mut || -> io::Result<String> { Err(io::Error::other("no stdin")) };
    let c = Config::from_args_with_stdin(
        &args(&["--port", "7777", "--replicaof", "127.0.0.1", "8888"]),
        no_stdin,
    )
    .expect("args");
    assert_eq!(c.port, 7777);
    assert_eq!(c.replicaof, Some(("127.0.0.1".into(), 8888)));
    assert_eq!(c.config_file, None);
    let c =
        Config::from_args_with_stdin(&args(&["--save", "--port", "1"]), no_stdin).expect("args");
    assert!(c.save.is_empty());
    assert_eq!(c.port, 1);
    let c =
        Config::from_args_with_stdin(&args(&["--port", "2", "--save"]), no_stdin).expect("args");
    assert!(c.save.is_empty());
    let c = Config::from_args_with_stdin(&args(&["--save", "100 1", "--bind", "a", "b"]), no_stdin)
        .expect("args");
    assert_eq!(c.save, vec![(100, 1)]);
    assert_eq!(c.bind, vec!["a".to_string(), "b".to_string()]);
    let c = Config::from_args_with_stdin(
        &args(&["--port 6380", "--requirepass", "with space"]),
        no_stdin,
    )
    .expect("args");
    assert_eq!(c.port, 6380);
    assert_eq!(c.requirepass.as_deref(), Some(&b"with space"[..]));
    let c = Config::from_args_with_stdin(&args(&["--maxmemory", "1mb", "-"]), &mut || {
        Ok("maxmemory 2mb\nport 9\n".to_string())
    })
    .expect("stdin");
    assert_eq!(c.maxmemory, 1 << 20);
    assert_eq!(c.port, 9);
    assert!(matches!(
        Config::from_args_with_stdin(&args(&["-v"]), no_stdin),
        Err(ConfigError::VersionRequested)
    ));
    assert!(matches!(
        Config::from_args_with_stdin(&args(&["--help"]), no_stdin),
        Err(ConfigError::HelpRequested)
    ));
    let e = Config::from_args_with_stdin(&args(&["--port", "x"]), no_stdin)
        .map(|_| ())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'port \"x\"'\nargument couldn't be parsed into an integer"
    );
    assert_eq!(e.exit_code(), 1);
    let e = Config::from_args_with_stdin(&args(&["/nonexistent/snapcache.conf"]), no_stdin)
        .map(|_| ())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Fatal error, can't open config file '/nonexistent/snapcache.conf': No such file or directory"
    );
}

#[test]
fn enum_helpers() {
    assert_eq!(
        MaxmemoryPolicy::parse("ALLKEYS-LRU"),
        Some(MaxmemoryPolicy::AllkeysLru)
    );
    assert_eq!(MaxmemoryPolicy::AllkeysLru.name(), "allkeys-lru");
    assert_eq!(OomScoreAdj::Relative.name(), "yes");
    assert!(ProtectedAction::Local.allows(true));
    assert!(!ProtectedAction::Local.allows(false));
    assert_eq!(table::enum_name(LogLevel::NAMES, 99), "unknown");
    assert_eq!(
        notify::from_str(b"KEA"),
        Some(notify::KEYSPACE | notify::KEYEVENT | notify::ALL)
    );
    assert_eq!(
        notify::to_string(notify::ALL | notify::KEY_MISS | notify::NEW),
        "Am"
    );
}
