//! Lua scripting (EVAL, EVALSHA, SCRIPT) through the in-process API and
//! over sockets, with the exact replies Redis 7.0.15 gives.

mod common;
use common::*;
use snapcache::Frame;
use std::io::{Read, Write};

const SHA_RETURN_1: &str = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db";

#[test]
fn eval_values_and_conversions() {
    let s = start();
    assert_eq!(run(&s, &["EVAL", "return 1", "0"]), int(1));
    // Floats are truncated, arrays stop at the first nil.
    assert_eq!(run(&s, &["EVAL", "return 3.99", "0"]), int(3));
    assert_eq!(run(&s, &["EVAL", "return -3.99", "0"]), int(-3));
    assert_eq!(
        run(&s, &["EVAL", "return {1,2,nil,4}", "0"]),
        arr(vec![int(1), int(2)])
    );
    assert_eq!(
        run(
            &s,
            &[
                "EVAL",
                "return {KEYS[1],KEYS[2],ARGV[1]}",
                "2",
                "a",
                "b",
                "c"
            ]
        ),
        arr(vec![bulk("a"), bulk("b"), bulk("c")])
    );
    assert_eq!(run(&s, &["EVAL", "return true", "0"]), int(1));
    assert_eq!(run(&s, &["EVAL", "return false", "0"]), Frame::Null);
    assert_eq!(run(&s, &["EVAL", "return nil", "0"]), Frame::Null);
    assert_eq!(
        run(&s, &["EVAL", "return {ok='FINE'}", "0"]),
        Frame::Simple("FINE".into())
    );
    assert_eq!(
        run(&s, &["EVAL", "return redis.status_reply('PONG')", "0"]),
        Frame::Simple("PONG".into())
    );
    assert_eq!(
        run(&s, &["EVAL", "return redis.error_reply('My Error')", "0"]),
        err("My Error")
    );
    assert_eq!(
        run(&s, &["EVAL", "return redis.error_reply('-WRONG x')", "0"]),
        err("WRONG x")
    );
    assert_eq!(
        run(&s, &["EVAL", "return {err='CUSTOM boom'}", "0"]),
        err("CUSTOM boom")
    );
    assert_eq!(
        run(&s, &["EVAL", "return redis.sha1hex('')", "0"]),
        bulk("da39a3ee5e6b4b0d3255bfef95601890afd80709")
    );
    assert_eq!(
        run(&s, &["EVAL", "return redis.REDIS_VERSION", "0"]),
        bulk("7.0.15")
    );
    assert_eq!(
        run(&s, &["EVAL", "return redis.REDIS_VERSION_NUM", "0"]),
        int(0x07000f)
    );
}

#[test]
fn redis_call_and_replies_to_lua() {
    let s = start();
    assert_eq!(
        run(
            &s,
            &[
                "EVAL",
                "return redis.call('set',KEYS[1],ARGV[1])",
                "1",
                "k",
                "v"
            ]
        ),
        ok()
    );
    assert_eq!(
        run(&s, &["EVAL", "return redis.call('get',KEYS[1])", "1", "k"]),
        bulk("v")
    );
    // A missing key is false in Lua; a status reply is {ok=...}.
    assert_eq!(
        run(&s, &["EVAL", "return type(redis.call('get','nokey'))", "0"]),
        bulk("boolean")
    );
    assert_eq!(
        run(&s, &["EVAL", "return redis.call('ping')['ok']", "0"]),
        bulk("PONG")
    );
    // Numbers are passed as %.17g.
    assert_eq!(
        run(
            &s,
            &[
                "EVAL",
                "redis.call('set','n',3.5) return redis.call('get','n')",
                "0"
            ]
        ),
        bulk("3.5")
    );
    assert_eq!(
        run(&s, &["EVAL", "return redis.call('incrby','c',10)", "0"]),
        int(10)
    );
    // RESP3 inside the script: a map reply becomes {map=...}.
    run(&s, &["HSET", "h", "f", "v"]);
    assert_eq!(
        run(
            &s,
            &[
                "EVAL",
                "redis.setresp(3) return redis.call('hgetall','h')['map']['f']",
                "0"
            ]
        ),
        bulk("v")
    );
}

#[test]
fn script_errors_have_redis_format() {
    let s = start();
    run(&s, &["SET", "str", "x"]);
    let Frame::Error(e) = run(&s, &["EVAL", "return redis.call('incr','str')", "0"]) else {
        panic!("error expected")
    };
    assert!(
        e.starts_with("ERR value is not an integer or out of range script: "),
        "{e}"
    );
    assert!(e.ends_with(", on @user_script:1."), "{e}");
    assert_eq!(
        run(&s, &["EVAL", "return redis.pcall('incr','str')", "0"]),
        err("ERR value is not an integer or out of range")
    );
    let Frame::Error(e) = run(&s, &["EVAL", "return redis.call('nosuch')", "0"]) else {
        panic!("error expected")
    };
    assert!(
        e.starts_with("ERR Unknown Redis command called from script script: "),
        "{e}"
    );
    let Frame::Error(e) = run(&s, &["EVAL", "return redis.call('get')", "0"]) else {
        panic!("error expected")
    };
    assert!(
        e.starts_with("ERR Wrong number of args calling Redis command from script script: "),
        "{e}"
    );
    let Frame::Error(e) = run(&s, &["EVAL", "return redis.call('multi')", "0"]) else {
        panic!("error expected")
    };
    assert!(
        e.starts_with("ERR This Redis command is not allowed from script script: "),
        "{e}"
    );
    let Frame::Error(e) = run(&s, &["EVAL", "return redis.call('get',{})", "0"]) else {
        panic!("error expected")
    };
    assert!(
        e.starts_with("ERR Lua redis lib command arguments must be strings or integers script: "),
        "{e}"
    );
    let Frame::Error(e) = run(&s, &["EVAL", "error('boom')", "0"]) else {
        panic!("error expected")
    };
    assert!(e.starts_with("ERR user_script:1: boom script: "), "{e}");
    // Globals: neither read nor created.
    let Frame::Error(e) = run(&s, &["EVAL", "return a", "0"]) else {
        panic!("error expected")
    };
    assert!(
        e.starts_with("ERR Script attempted to access nonexistent global variable 'a' script: "),
        "{e}"
    );
    let Frame::Error(e) = run(&s, &["EVAL", "a = 5", "0"]) else {
        panic!("error expected")
    };
    assert!(e.contains("Attempt to modify a readonly table"), "{e}");
    for banned in ["loadfile", "dofile", "print"] {
        let Frame::Error(e) = run(&s, &["EVAL", &format!("return {banned}"), "0"]) else {
            panic!("error expected")
        };
        assert!(
            e.contains(&format!("nonexistent global variable '{banned}'")),
            "{e}"
        );
    }
    // pcall gives the message of an error table.
    assert_eq!(
        run(
            &s,
            &[
                "EVAL",
                "local ok, e = pcall(function() redis.call('incr','str') end) return e",
                "0"
            ]
        ),
        bulk("ERR value is not an integer or out of range")
    );
    // Compilation errors.
    assert_eq!(
        run(&s, &["EVAL", "return x x", "0"]),
        err("ERR Error compiling script (new function): user_script:1: '<eof>' expected near 'x'")
    );
}

#[test]
fn numkeys_and_evalsha_errors() {
    let s = start();
    assert_eq!(
        run(&s, &["EVAL", "return 1", "-1"]),
        err("ERR Number of keys can't be negative")
    );
    assert_eq!(
        run(&s, &["EVAL", "return 1", "3", "a"]),
        err("ERR Number of keys can't be greater than number of args")
    );
    assert_eq!(
        run(&s, &["EVAL", "return 1", "99999999999999999999"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        run(&s, &["EVAL", "return 1", "9223372036854775807"]),
        err("ERR Number of keys can't be greater than number of args")
    );
    assert_eq!(
        run(&s, &["EVAL", "return 1", "-9223372036854775808"]),
        err("ERR Number of keys can't be negative")
    );
    assert_eq!(
        run(&s, &["EVAL", "return 1"]),
        err("ERR wrong number of arguments for 'eval' command")
    );
    assert_eq!(
        run(&s, &["EVALSHA", "notasha", "0"]),
        err("NOSCRIPT No matching script. Please use EVAL.")
    );
    assert_eq!(
        run(&s, &["EVALSHA", SHA_RETURN_1, "0"]),
        err("NOSCRIPT No matching script. Please use EVAL.")
    );
    assert_eq!(run(&s, &["SCRIPT", "LOAD", "return 1"]), bulk(SHA_RETURN_1));
    assert_eq!(run(&s, &["EVALSHA", SHA_RETURN_1, "0"]), int(1));
    assert_eq!(
        run(&s, &["EVALSHA", &SHA_RETURN_1.to_uppercase(), "0"]),
        int(1)
    );
    assert_eq!(
        run(&s, &["SCRIPT", "EXISTS", SHA_RETURN_1, "ffff"]),
        arr(vec![int(1), int(0)])
    );
    assert_eq!(run(&s, &["SCRIPT", "FLUSH"]), ok());
    assert_eq!(
        run(&s, &["SCRIPT", "EXISTS", SHA_RETURN_1]),
        arr(vec![int(0)])
    );
    assert_eq!(
        run(&s, &["SCRIPT", "FLUSH", "LATER"]),
        err("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    );
    assert_eq!(run(&s, &["SCRIPT", "FLUSH", "async"]), ok());
    assert_eq!(
        run(&s, &["SCRIPT", "KILL"]),
        err("NOTBUSY No scripts in execution right now.")
    );
}

#[test]
fn shebang_flags() {
    let s = start();
    assert_eq!(
        run(
            &s,
            &[
                "EVAL",
                "#!lua flags=no-writes\nreturn redis.call('get','x')",
                "0"
            ]
        ),
        Frame::Null
    );
    let Frame::Error(e) = run(
        &s,
        &[
            "EVAL",
            "#!lua flags=no-writes\nreturn redis.call('set','x','1')",
            "0",
        ],
    ) else {
        panic!("error expected")
    };
    assert!(
        e.starts_with("ERR Write commands are not allowed from read-only scripts. script: "),
        "{e}"
    );
    assert!(e.ends_with("on @user_script:2."), "{e}");
    assert_eq!(
        run(&s, &["EVAL", "#!lua flags=bogus\nreturn 1", "0"]),
        err("ERR Unexpected flag in script shebang: bogus")
    );
    assert_eq!(
        run(&s, &["EVAL", "#!lua nope=1\nreturn 1", "0"]),
        err("ERR Unknown lua shebang option: nope=1")
    );
    assert_eq!(
        run(&s, &["EVAL", "#!python\nreturn 1", "0"]),
        err("ERR Unexpected engine in script shebang: #!python")
    );
    assert_eq!(
        run(&s, &["EVAL", "#!lua", "0"]),
        err("ERR Invalid script shebang")
    );
    assert_eq!(
        run(
            &s,
            &[
                "EVAL",
                "#!lua flags=allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\nreturn 2",
                "0"
            ]
        ),
        int(2)
    );
    // EVAL_RO refuses writes, and scripts declaring writes.
    let Frame::Error(e) = run(&s, &["EVAL_RO", "return redis.call('set','x','1')", "0"]) else {
        panic!("error expected")
    };
    assert!(
        e.starts_with("ERR Write commands are not allowed from read-only scripts. script: "),
        "{e}"
    );
    assert_eq!(
        run(&s, &["EVAL_RO", "#!lua\nreturn 1", "0"]),
        err("ERR Can not execute a script with write flag using *_ro command.")
    );
}

#[test]
fn eval_in_multi_and_stats() {
    let s = start();
    let mut c = Conn::open(&s);
    c.call(&["MULTI"], "+OK\r\n");
    c.call(
        &["EVAL", "return redis.call('incr',KEYS[1])", "1", "k"],
        "+QUEUED\r\n",
    );
    c.call(
        &["EVAL", "return redis.call('incr',KEYS[1])", "1", "k"],
        "+QUEUED\r\n",
    );
    c.call(&["EXEC"], "*2\r\n:1\r\n:2\r\n");
    // A failing redis.pcall counts once, for the command.
    c.call(&["CONFIG", "RESETSTAT"], "+OK\r\n");
    c.call(&["SET", "s", "x"], "+OK\r\n");
    c.call(&["EVAL", "redis.pcall('incr','s') return 1", "0"], ":1\r\n");
    let info = match run(&s, &["INFO", "errorstats"]) {
        Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("{other:?}"),
    };
    assert!(info.contains("errorstat_ERR:count=1\r\n"), "{info}");
}

/// A script's bytes need not be UTF-8.
#[test]
fn non_utf8_script_and_arguments() {
    let s = start();
    let mut sock = std::net::TcpStream::connect(s.addr()).expect("connect");
    let script: &[u8] = b"return {ARGV[1], '\xff\xfe'}";
    let mut req = Vec::new();
    req.extend_from_slice(b"*4\r\n$4\r\nEVAL\r\n");
    req.extend_from_slice(format!("${}\r\n", script.len()).as_bytes());
    req.extend_from_slice(script);
    req.extend_from_slice(b"\r\n$1\r\n0\r\n$2\r\n\xc3\x28\r\n");
    sock.write_all(&req).expect("write");
    let want: &[u8] = b"*2\r\n$2\r\n\xc3\x28\r\n$2\r\n\xff\xfe\r\n";
    let mut got = vec![0u8; want.len()];
    sock.read_exact(&mut got).expect("read");
    assert_eq!(got, want);
    // A script that is not valid Lua and not UTF-8.
    let bad: &[u8] = b"\xff\xfe";
    let mut req = Vec::new();
    req.extend_from_slice(b"*3\r\n$4\r\nEVAL\r\n$2\r\n");
    req.extend_from_slice(bad);
    req.extend_from_slice(b"\r\n$1\r\n0\r\n");
    sock.write_all(&req).expect("write");
    let mut b = [0u8; 1];
    sock.read_exact(&mut b).expect("read");
    assert_eq!(b[0], b'-');
}

#[test]
fn busy_script_can_be_killed() {
    let s = start();
    let mut a = Conn::open(&s);
    let mut b = Conn::open(&s);
    b.call(&["CONFIG", "SET", "lua-time-limit", "10"], "+OK\r\n");
    a.send(&["EVAL", "while true do end", "0"]);
    wait_for("the script to be busy", || {
        let mut probe = Conn::open(&s);
        probe.send(&["GET", "x"]);
        let mut buf = [0u8; 5];
        probe.sock.read_exact(&mut buf).expect("read");
        &buf == b"-BUSY"
    });
    b.call(
        &["SET", "x", "1"],
        "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n",
    );
    b.call(&["SCRIPT", "KILL"], "+OK\r\n");
    let mut buf = vec![0u8; 64];
    let n = a.sock.read(&mut buf).expect("read");
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(
        text.starts_with("-ERR Script killed by user with SCRIPT KILL... script: "),
        "{text}"
    );
    b.call(&["SET", "x", "1"], "+OK\r\n");
    b.call(
        &["SCRIPT", "KILL"],
        "-NOTBUSY No scripts in execution right now.\r\n",
    );
}

#[test]
fn busy_script_that_wrote_is_unkillable() {
    let s = start();
    let mut a = Conn::open(&s);
    let mut b = Conn::open(&s);
    b.call(&["CONFIG", "SET", "lua-time-limit", "10"], "+OK\r\n");
    a.send(&[
        "EVAL",
        "redis.call('set','w','1') local i = 0 while i < 30000000 do i = i + 1 end return i",
        "0",
    ]);
    wait_for("the script to be busy", || {
        let mut probe = Conn::open(&s);
        probe.send(&["PING"]);
        let mut buf = [0u8; 5];
        probe.sock.read_exact(&mut buf).expect("read");
        &buf == b"-BUSY"
    });
    b.call(&["SCRIPT", "KILL"], "-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n");
    a.expect(":30000000\r\n");
    b.call(&["GET", "w"], "$1\r\n1\r\n");
}
