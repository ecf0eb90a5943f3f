//! INFO, CONFIG, COMMAND, SLOWLOG, LATENCY and MEMORY through the in-process
//! API, with exact replies.

mod common;
use common::*;
use snapcache::Frame;

fn text(f: Frame) -> String {
    match f {
        Frame::Bulk(b) => String::from_utf8(b.to_vec()).expect("utf-8"),
        Frame::Verbatim(_, b) => String::from_utf8(b.to_vec()).expect("utf-8"),
        other => panic!("not a string: {other:?}"),
    }
}

/// The value of `field` in an INFO text.
fn field(info: &str, name: &str) -> Option<String> {
    info.split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_string))
}

#[test]
fn info_keyspace_exact() {
    let s = start();
    assert_eq!(text(run(&s, &["INFO", "keyspace"])), "# Keyspace\r\n");
    run(&s, &["SET", "a", "1"]);
    run(&s, &["SET", "b", "2", "EX", "100"]);
    run(&s, &["SELECT", "3"]);
    run(&s, &["SET", "c", "3"]);
    assert_eq!(
        text(run(&s, &["INFO", "keyspace"])),
        "# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n"
    );
}

#[test]
fn info_sections_selection() {
    let s = start();
    assert_eq!(text(run(&s, &["INFO", "nosuchsection"])), "");
    assert_eq!(
        text(run(&s, &["INFO", "cluster"])),
        "# Cluster\r\ncluster_enabled:0\r\n"
    );
    assert_eq!(
        text(run(&s, &["INFO", "CLUSTER", "cluster", "modules"])),
        "# Modules\r\n\r\n# Cluster\r\ncluster_enabled:0\r\n"
    );

    let default = text(run(&s, &["INFO"]));
    let titles: Vec<&str> = default
        .split("\r\n")
        .filter(|l| l.starts_with('#'))
        .collect();
    assert_eq!(
        titles,
        [
            "# Server",
            "# Clients",
            "# Memory",
            "# Persistence",
            "# Stats",
            "# Replication",
            "# CPU",
            "# Modules",
            "# Errorstats",
            "# Cluster",
            "# Keyspace"
        ]
    );
    assert!(default.ends_with("\r\n"));
    assert_eq!(field(&default, "redis_version").as_deref(), Some("7.0.15"));
    assert_eq!(
        field(&default, "snapcache_version").as_deref(),
        Some(snapcache::VERSION)
    );
    assert_eq!(field(&default, "role").as_deref(), Some("master"));
    assert_eq!(field(&default, "connected_slaves").as_deref(), Some("0"));
    assert_eq!(field(&default, "master_repl_offset").as_deref(), Some("0"));
    assert_eq!(field(&default, "loading").as_deref(), Some("0"));
    assert_eq!(field(&default, "aof_enabled").as_deref(), Some("0"));
    assert_eq!(
        field(&default, "maxmemory_policy").as_deref(),
        Some("noeviction")
    );
    assert!(
        field(&default, "used_memory")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    assert!(field(&default, "used_cpu_user").is_some());
    assert!(!default.contains("rejected_calls"));

    let all = text(run(&s, &["INFO", "all"]));
    assert!(all.contains("# Commandstats\r\n"));
    assert!(all.contains("# Latencystats\r\n"));
    assert_eq!(all.matches("used_cpu_user_children").count(), 1);
    let everything = text(run(&s, &["INFO", "cpu", "everything"]));
    assert_eq!(everything.matches("# CPU").count(), 1);
}

#[test]
fn info_persistence_counts_changes() {
    let s = start();
    let before = text(run(&s, &["INFO", "persistence"]));
    assert_eq!(
        field(&before, "rdb_changes_since_last_save").as_deref(),
        Some("0")
    );
    run(&s, &["SET", "a", "1"]);
    run(&s, &["SET", "b", "1"]);
    let after = text(run(&s, &["INFO", "persistence"]));
    assert_eq!(
        field(&after, "rdb_changes_since_last_save").as_deref(),
        Some("2")
    );
    assert_eq!(
        field(&after, "rdb_bgsave_in_progress").as_deref(),
        Some("0")
    );
}

#[test]
fn commandstats_errorstats_and_resetstat() {
    let s = start();
    assert_eq!(run(&s, &["CONFIG", "RESETSTAT"]), ok());
    run(&s, &["SET", "k", "v"]);
    run(&s, &["GET", "k"]);
    assert_eq!(
        run(&s, &["SET", "k"]),
        err("ERR wrong number of arguments for 'set' command")
    );
    run(&s, &["CONFIG", "GET", "maxmemory"]);
    let stats = text(run(&s, &["INFO", "commandstats"]));
    let set = field(&stats, "cmdstat_set").expect("set counted");
    assert!(set.starts_with("calls=1,usec="), "{set}");
    assert!(set.ends_with(",rejected_calls=1,failed_calls=0"), "{set}");
    assert!(field(&stats, "cmdstat_config|get")
        .unwrap()
        .starts_with("calls=1,"));
    assert!(field(&stats, "cmdstat_config|resetstat")
        .unwrap()
        .starts_with("calls=1,"));

    run(&s, &["NOSUCHCOMMAND"]);
    assert_eq!(
        text(run(&s, &["INFO", "errorstats"])),
        "# Errorstats\r\nerrorstat_ERR:count=2\r\n"
    );
    assert_eq!(
        field(&text(run(&s, &["INFO", "stats"])), "total_error_replies").as_deref(),
        Some("2")
    );

    assert_eq!(run(&s, &["CONFIG", "RESETSTAT"]), ok());
    assert_eq!(text(run(&s, &["INFO", "errorstats"])), "# Errorstats\r\n");
    let stats = text(run(&s, &["INFO", "commandstats"]));
    assert!(field(&stats, "cmdstat_set").is_none());
    assert!(field(&stats, "cmdstat_config|resetstat")
        .unwrap()
        .starts_with("calls=1,"));
}

#[test]
fn latencystats_follow_latency_tracking() {
    let s = start();
    run(&s, &["CONFIG", "RESETSTAT"]);
    run(&s, &["CONFIG", "SET", "latency-tracking", "no"]);
    run(&s, &["SET", "a", "b"]);
    assert_eq!(
        text(run(&s, &["INFO", "latencystats"])),
        "# Latencystats\r\n"
    );
    run(&s, &["CONFIG", "SET", "latency-tracking", "yes"]);
    run(
        &s,
        &[
            "CONFIG",
            "SET",
            "latency-tracking-info-percentiles",
            "0 50 99.9",
        ],
    );
    run(&s, &["SET", "a", "b"]);
    let info = text(run(&s, &["INFO", "latencystats"]));
    let set = field(&info, "latency_percentiles_usec_set").expect("set tracked");
    let parts: Vec<&str> = set
        .split(',')
        .map(|p| p.split('=').next().unwrap())
        .collect();
    assert_eq!(parts, ["p0", "p50", "p99.9"]);

    match run(&s, &["LATENCY", "HISTOGRAM", "set", "nosuchcommand"]) {
        Frame::Array(items) => {
            assert_eq!(items.len(), 2);
            assert_eq!(items[0], bulk("set"));
            match &items[1] {
                Frame::Array(inner) => {
                    assert_eq!(inner[0], bulk("calls"));
                    assert_eq!(inner[1], int(1));
                    assert_eq!(inner[2], bulk("histogram_usec"));
                }
                other => panic!("{other:?}"),
            }
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn config_get_set_and_errors() {
    let s = start();
    assert_eq!(
        run(&s, &["CONFIG", "GET", "maxmemory-policy"]),
        arr(vec![bulk("maxmemory-policy"), bulk("noeviction")])
    );
    assert_eq!(
        run(&s, &["CONFIG", "SET", "maxmemory", "10mb", "hz", "20"]),
        ok()
    );
    assert_eq!(
        run(&s, &["CONFIG", "GET", "maxmemory", "hz"]),
        arr(vec![
            bulk("maxmemory"),
            bulk("10485760"),
            bulk("hz"),
            bulk("20")
        ])
    );
    assert_eq!(
        field(&text(run(&s, &["INFO", "memory"])), "maxmemory").as_deref(),
        Some("10485760")
    );
    assert_eq!(
        run(&s, &["CONFIG", "SET", "maxmemory"]),
        err("ERR wrong number of arguments for 'config|set' command")
    );
    assert_eq!(
        run(&s, &["CONFIG", "SET", "maxmemory", "1", "hz"]),
        err("ERR wrong number of arguments for 'config|set' command")
    );
    assert_eq!(
        run(&s, &["CONFIG", "SET", "databases", "2"]),
        err("ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config")
    );
    assert_eq!(
        run(&s, &["CONFIG", "SET", "nosuch", "2"]),
        err("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'")
    );
    assert_eq!(
        run(&s, &["CONFIG", "REWRITE"]),
        err("ERR The server is running without a config file")
    );
    assert_eq!(
        run(&s, &["CONFIG", "NOPE"]),
        err("ERR unknown subcommand 'NOPE'. Try CONFIG HELP.")
    );
    match run(&s, &["CONFIG", "HELP"]) {
        Frame::Array(lines) => {
            assert_eq!(
                lines[0],
                Frame::Simple(
                    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".into()
                )
            );
            assert_eq!(
                lines.last(),
                Some(&Frame::Simple("    Prints this help.".into()))
            );
            assert_eq!(lines.len(), 11);
        }
        other => panic!("{other:?}"),
    }
    // RESP3: a map.
    run(&s, &["HELLO", "3"]);
    assert_eq!(
        run(&s, &["CONFIG", "GET", "hz"]),
        Frame::Map(vec![(bulk("hz"), bulk("20"))])
    );
}

#[test]
fn command_introspection() {
    let s = start();
    let get_info = arr(vec![
        bulk("get"),
        int(2),
        arr(vec![
            Frame::Simple("readonly".into()),
            Frame::Simple("fast".into()),
        ]),
        int(1),
        int(1),
        int(1),
        arr(vec![
            Frame::Simple("@read".into()),
            Frame::Simple("@string".into()),
            Frame::Simple("@fast".into()),
        ]),
        arr(vec![]),
        arr(vec![arr(vec![
            bulk("flags"),
            arr(vec![
                Frame::Simple("RO".into()),
                Frame::Simple("access".into()),
            ]),
            bulk("begin_search"),
            arr(vec![
                bulk("type"),
                bulk("index"),
                bulk("spec"),
                arr(vec![bulk("index"), int(1)]),
            ]),
            bulk("find_keys"),
            arr(vec![
                bulk("type"),
                bulk("range"),
                bulk("spec"),
                arr(vec![
                    bulk("lastkey"),
                    int(0),
                    bulk("keystep"),
                    int(1),
                    bulk("limit"),
                    int(0),
                ]),
            ]),
        ])]),
        arr(vec![]),
    ]);
    assert_eq!(
        run(&s, &["COMMAND", "INFO", "get", "get|key", "nosuch"]),
        arr(vec![get_info, Frame::NullArray, Frame::NullArray])
    );
    let count = match run(&s, &["COMMAND", "COUNT"]) {
        Frame::Integer(n) => n,
        other => panic!("{other:?}"),
    };
    match run(&s, &["COMMAND"]) {
        Frame::Array(all) => assert_eq!(all.len() as i64, count),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        run(&s, &["COMMAND", "GETKEYS", "get", "key"]),
        arr(vec![bulk("key")])
    );
    assert_eq!(
        run(&s, &["COMMAND", "GETKEYS", "memory", "usage", "key"]),
        arr(vec![bulk("key")])
    );
    assert_eq!(
        run(&s, &["COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"]),
        arr(vec![bulk("a"), bulk("b")])
    );
    assert_eq!(
        run(&s, &["COMMAND", "GETKEYS", "ping", "x"]),
        err("ERR The command has no key arguments")
    );
    assert_eq!(
        run(&s, &["COMMAND", "GETKEYS", "nosuch", "x"]),
        err("ERR Invalid command specified")
    );
    assert_eq!(
        run(&s, &["COMMAND", "GETKEYS", "get", "a", "b"]),
        err("ERR Invalid number of arguments specified for command")
    );
    assert_eq!(
        run(&s, &["COMMAND", "GETKEYSANDFLAGS", "get", "k"]),
        arr(vec![arr(vec![
            bulk("k"),
            arr(vec![
                Frame::Simple("RO".into()),
                Frame::Simple("access".into())
            ])
        ])])
    );
    assert_eq!(
        run(&s, &["COMMAND", "LIST", "FILTERBY", "PATTERN", "set"]),
        arr(vec![bulk("set")])
    );
    assert_eq!(
        run(
            &s,
            &["COMMAND", "LIST", "FILTERBY", "PATTERN", "config|re*"]
        ),
        arr(vec![bulk("config|resetstat"), bulk("config|rewrite")])
    );
    assert_eq!(
        run(&s, &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"]),
        arr(vec![])
    );
    assert_eq!(
        run(&s, &["COMMAND", "LIST", "FILTERBY", "MODULE", "x"]),
        arr(vec![])
    );
    assert_eq!(
        run(&s, &["COMMAND", "LIST", "bad"]),
        err("ERR syntax error")
    );
    match run(&s, &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "dangerous"]) {
        Frame::Array(names) => {
            assert!(names.contains(&bulk("config|set")));
            assert!(!names.contains(&bulk("get")));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        run(&s, &["COMMAND", "DOCS", "config|get"]),
        arr(vec![
            bulk("config|get"),
            arr(vec![
                bulk("summary"),
                bulk("Get the values of configuration parameters"),
                bulk("since"),
                bulk("2.0.0"),
                bulk("group"),
                bulk("server"),
            ])
        ])
    );
}

#[test]
fn slowlog_records_and_resets() {
    let s = start();
    assert_eq!(run(&s, &["SLOWLOG", "LEN"]), int(0));
    run(&s, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    run(&s, &["SET", "k", "v"]);
    // The CONFIG SET that enabled it, then SET (LEN is logged after it runs).
    assert_eq!(run(&s, &["SLOWLOG", "LEN"]), int(2));
    match run(&s, &["SLOWLOG", "GET", "1"]) {
        Frame::Array(entries) => {
            assert_eq!(entries.len(), 1);
            match &entries[0] {
                Frame::Array(e) => {
                    assert_eq!(e.len(), 6);
                    assert_eq!(e[0], int(2));
                    assert_eq!(e[3], arr(vec![bulk("SLOWLOG"), bulk("LEN")]));
                    assert_eq!(e[4], bulk("in-process:0"));
                    assert_eq!(e[5], bulk(""));
                }
                other => panic!("{other:?}"),
            }
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        run(&s, &["SLOWLOG", "GET", "-2"]),
        err("ERR count should be greater than or equal to -1")
    );
    run(&s, &["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
    assert_eq!(run(&s, &["SLOWLOG", "RESET"]), ok());
    assert_eq!(run(&s, &["SLOWLOG", "LEN"]), int(0));
}

#[test]
fn latency_monitor_commands() {
    let s = start();
    assert_eq!(run(&s, &["LATENCY", "LATEST"]), arr(vec![]));
    assert_eq!(run(&s, &["LATENCY", "HISTORY", "command"]), arr(vec![]));
    assert_eq!(run(&s, &["LATENCY", "RESET"]), int(0));
    assert_eq!(
        run(&s, &["LATENCY", "GRAPH", "command"]),
        err("ERR No samples available for event 'command'")
    );
    assert_eq!(
        run(&s, &["LATENCY", "HELP", "x"]),
        err("ERR wrong number of arguments for 'latency|help' command")
    );
    assert!(text(run(&s, &["LATENCY", "DOCTOR"])).starts_with("Dave, no latency spike"));
}

#[test]
fn memory_commands() {
    let s = start();
    run(&s, &["SET", "k", "v"]);
    let small = match run(&s, &["MEMORY", "USAGE", "k"]) {
        Frame::Integer(n) => n,
        other => panic!("{other:?}"),
    };
    run(&s, &["SET", "big", &"x".repeat(1000)]);
    let big = match run(&s, &["MEMORY", "USAGE", "big", "SAMPLES", "0"]) {
        Frame::Integer(n) => n,
        other => panic!("{other:?}"),
    };
    assert!(small > 0 && big >= small + 1000, "{small} {big}");
    assert_eq!(run(&s, &["MEMORY", "USAGE", "missing"]), Frame::Null);
    assert_eq!(
        run(&s, &["MEMORY", "USAGE", "k", "BAD"]),
        err("ERR syntax error")
    );
    assert_eq!(run(&s, &["MEMORY", "PURGE"]), ok());
    match run(&s, &["MEMORY", "STATS"]) {
        Frame::Array(kv) => {
            assert_eq!(kv[0], bulk("peak.allocated"));
            assert!(kv.contains(&bulk("db.0")));
            assert!(kv.contains(&bulk("keys.count")));
            let at = kv.iter().position(|f| *f == bulk("keys.count")).unwrap();
            assert_eq!(kv[at + 1], int(2));
        }
        other => panic!("{other:?}"),
    }
    assert!(text(run(&s, &["MEMORY", "DOCTOR"])).starts_with("Hi Sam"));
}
