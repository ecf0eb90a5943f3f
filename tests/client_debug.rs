//! CLIENT and DEBUG: in-process for single-client behaviour, real sockets
//! where other connections matter (KILL, LIST, PAUSE, REPLY).

mod common;
use common::*;
use snapcache::protocol::reply::parse_frame;
use snapcache::{Frame, Server, ServerHandle};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A minimal RESP client over a blocking socket.
struct Conn {
    sock: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn open(s: &ServerHandle) -> Conn {
        let sock = TcpStream::connect(s.addr()).expect("connect");
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        Conn {
            sock,
            buf: Vec::new(),
        }
    }

    fn send(&mut self, args: &[&str]) {
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
        self.sock.write_all(&req).expect("write");
    }

    /// The next reply, or None when the server closed the connection.
    fn read(&mut self) -> Option<Frame> {
        loop {
            if let Ok(Some((frame, used))) = parse_frame(&self.buf) {
                self.buf.drain(..used);
                return Some(frame);
            }
            let mut chunk = [0u8; 4096];
            match self.sock.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    fn call(&mut self, args: &[&str]) -> Frame {
        self.send(args);
        self.read().expect("reply")
    }
}

fn text(f: Frame) -> String {
    match f {
        Frame::Bulk(b) => String::from_utf8(b.to_vec()).expect("utf8"),
        Frame::Verbatim(_, b) => String::from_utf8(b.to_vec()).expect("utf8"),
        other => panic!("not a string reply: {other:?}"),
    }
}

fn simple(s: &str) -> Frame {
    Frame::Simple(s.into())
}

#[test]
fn client_list_line_has_redis_format() {
    let s = start();
    let mut a = Conn::open(&s);
    let id = match a.call(&["CLIENT", "ID"]) {
        Frame::Integer(n) => n,
        other => panic!("{other:?}"),
    };
    let line = text(a.call(&["CLIENT", "LIST", "ID", &id.to_string()]));
    let local = a.sock.local_addr().expect("addr").to_string();
    let prefix = format!("id={id} addr={local} laddr={} fd=", s.addr());
    assert!(line.starts_with(&prefix), "{line}");
    assert!(line.ends_with("\n"), "{line}");
    // Fields after fd= vary (fd, age, memory sizes); check the fixed ones in order.
    let fixed = [
        " name= age=0 idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=",
        " qbuf-free=",
        " multi-mem=0 rbs=",
        " obl=0 oll=0 omem=0 tot-mem=",
        " events=r cmd=client|list user=default redir=-1 resp=2\n",
    ];
    let mut rest = line.as_str();
    for f in fixed {
        let at = rest
            .find(f)
            .unwrap_or_else(|| panic!("{f:?} missing in {line}"));
        rest = &rest[at + f.len()..];
    }
    assert_eq!(rest, "");

    let info = text(a.call(&["CLIENT", "INFO"]));
    assert!(info.starts_with(&format!("id={id} ")), "{info}");
    assert!(info.contains(" qbuf=26 "), "{info}");
    assert!(
        info.ends_with(" cmd=client|info user=default redir=-1 resp=2\n"),
        "{info}"
    );

    assert_eq!(
        a.call(&["CLIENT", "LIST", "TYPE", "foo"]),
        err("ERR Unknown client type 'foo'")
    );
    assert_eq!(
        a.call(&["CLIENT", "LIST", "ID", "x"]),
        err("ERR Invalid client ID")
    );
    assert_eq!(a.call(&["CLIENT", "LIST", "foo"]), err("ERR syntax error"));
    assert_eq!(text(a.call(&["CLIENT", "LIST", "ID", "999999"])), "");
    assert_eq!(text(a.call(&["CLIENT", "LIST", "TYPE", "pubsub"])), "");
}

#[test]
fn setname_getname() {
    let s = start();
    assert_eq!(run(&s, &["CLIENT", "GETNAME"]), Frame::Null);
    assert_eq!(
        run(&s, &["CLIENT", "SETNAME", "foo bar"]),
        err("ERR Client names cannot contain spaces, newlines or special characters.")
    );
    assert_eq!(run(&s, &["CLIENT", "SETNAME", "myname"]), ok());
    assert_eq!(run(&s, &["CLIENT", "GETNAME"]), bulk("myname"));
    let list = match run(&s, &["CLIENT", "LIST"]) {
        Frame::Bulk(b) => String::from_utf8(b.to_vec()).expect("utf8"),
        other => panic!("{other:?}"),
    };
    assert!(list.contains(" name=myname "), "{list}");
    assert_eq!(run(&s, &["CLIENT", "SETNAME", ""]), ok());
    assert_eq!(run(&s, &["CLIENT", "GETNAME"]), Frame::Null);
}

#[test]
fn client_errors_are_redis_strings() {
    let s = start();
    assert_eq!(
        run(&s, &["CLIENT", "KILL"]),
        err("ERR wrong number of arguments for 'client|kill' command")
    );
    assert_eq!(
        run(&s, &["CLIENT", "KILL", "ID", "10", "x"]),
        err("ERR syntax error")
    );
    for bad in ["str", "-1", "0"] {
        assert_eq!(
            run(&s, &["CLIENT", "KILL", "ID", bad]),
            err("ERR client-id should be greater than 0")
        );
    }
    assert_eq!(
        run(&s, &["CLIENT", "KILL", "TYPE", "x"]),
        err("ERR Unknown client type 'x'")
    );
    assert_eq!(
        run(&s, &["CLIENT", "KILL", "USER", "bob"]),
        err("ERR No such user 'bob'")
    );
    assert_eq!(
        run(&s, &["CLIENT", "KILL", "SKIPME", "maybe"]),
        err("ERR syntax error")
    );
    assert_eq!(
        run(&s, &["CLIENT", "KILL", "1.2.3.4:5"]),
        err("ERR No such client")
    );
    assert_eq!(
        run(&s, &["CLIENT", "PAUSE", "abc"]),
        err("ERR timeout is not an integer or out of range")
    );
    assert_eq!(
        run(&s, &["CLIENT", "PAUSE", "-1"]),
        err("ERR timeout is negative")
    );
    assert_eq!(
        run(&s, &["CLIENT", "PAUSE", "10", "foo"]),
        err("ERR CLIENT PAUSE mode must be WRITE or ALL")
    );
    assert_eq!(
        run(&s, &["CLIENT", "PAUSE", "10", "write", "x"]),
        err("ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.")
    );
    assert_eq!(run(&s, &["CLIENT", "REPLY", "x"]), err("ERR syntax error"));
    assert_eq!(
        run(&s, &["CLIENT", "NO-EVICT", "x"]),
        err("ERR syntax error")
    );
    assert_eq!(run(&s, &["CLIENT", "NO-EVICT", "on"]), ok());
    assert_eq!(run(&s, &["CLIENT", "GETREDIR"]), int(-1));
    assert_eq!(
        run(&s, &["CLIENT", "FOO"]),
        err("ERR unknown subcommand 'FOO'. Try CLIENT HELP.")
    );
    assert_eq!(
        run(&s, &["CLIENT", "TRACKINGINFO"]),
        arr(vec![
            bulk("flags"),
            arr(vec![bulk("off")]),
            bulk("redirect"),
            int(-1),
            bulk("prefixes"),
            arr(vec![]),
        ])
    );
    assert_eq!(run(&s, &["CLIENT", "UNBLOCK", "5"]), int(0));
    assert_eq!(
        run(&s, &["CLIENT", "UNBLOCK", "5", "x"]),
        err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    );
    match run(&s, &["CLIENT", "HELP"]) {
        Frame::Array(lines) => {
            assert_eq!(
                lines[0],
                simple("CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
            );
            assert_eq!(lines.last(), Some(&simple("    Prints this help.")));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn kill_by_id_addr_and_skipme() {
    let s = start();
    let mut a = Conn::open(&s);
    let mut b = Conn::open(&s);
    let mut c = Conn::open(&s);
    let b_id = match b.call(&["CLIENT", "ID"]) {
        Frame::Integer(n) => n,
        other => panic!("{other:?}"),
    };
    assert_eq!(a.call(&["CLIENT", "KILL", "ID", &b_id.to_string()]), int(1));
    assert_eq!(b.read(), None);
    let list = text(a.call(&["CLIENT", "LIST"]));
    assert!(!list.contains(&format!("id={b_id} ")), "{list}");

    // Old form: by address, OK or the error.
    let c_addr = c.sock.local_addr().expect("addr").to_string();
    assert_eq!(a.call(&["CLIENT", "KILL", &c_addr]), ok());
    assert_eq!(c.read(), None);
    assert_eq!(
        a.call(&["CLIENT", "KILL", &c_addr]),
        err("ERR No such client")
    );

    // SKIPME yes (default) spares the caller; SKIPME no kills it after the reply.
    let mut d = Conn::open(&s);
    assert_eq!(d.call(&["PING"]), simple("PONG"));
    assert_eq!(a.call(&["CLIENT", "KILL", "TYPE", "normal"]), int(1));
    assert_eq!(d.read(), None);
    assert_eq!(a.call(&["CLIENT", "KILL", "SKIPME", "no"]), int(1));
    assert_eq!(a.read(), None);
}

#[test]
fn reply_off_on_skip() {
    let s = start();
    let mut a = Conn::open(&s);
    a.send(&["CLIENT", "REPLY", "OFF"]);
    a.send(&["PING", "one"]);
    a.send(&["CLIENT", "REPLY", "ON"]);
    assert_eq!(a.read(), Some(simple("OK")));
    a.send(&["CLIENT", "REPLY", "SKIP"]);
    a.send(&["PING", "two"]);
    a.send(&["PING", "three"]);
    assert_eq!(a.read(), Some(bulk("three")));
    a.send(&["CLIENT", "REPLY", "SKIP"]);
    a.send(&["CLIENT", "REPLY", "ON"]);
    assert_eq!(a.read(), Some(simple("OK")));
}

#[test]
fn pause_write_holds_writes_not_reads() {
    let s = start();
    let mut admin = Conn::open(&s);
    let mut w = Conn::open(&s);
    assert_eq!(admin.call(&["SET", "k", "v"]), ok());
    assert_eq!(admin.call(&["CLIENT", "PAUSE", "100000", "WRITE"]), ok());
    assert_eq!(w.call(&["GET", "k"]), bulk("v"));
    w.send(&["SET", "k", "w"]);
    // The write waits: nothing signals "held", so give it time to (wrongly)
    // run before checking that the key kept its value.
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(admin.call(&["GET", "k"]), bulk("v"));
    assert_eq!(admin.call(&["CLIENT", "UNPAUSE"]), ok());
    assert_eq!(w.read(), Some(ok()));
    assert_eq!(admin.call(&["GET", "k"]), bulk("w"));
}

#[test]
fn pause_hides_expired_keys_without_deleting() {
    let s = start();
    assert_eq!(run(&s, &["SET", "k", "v", "PX", "1"]), ok());
    assert_eq!(run(&s, &["CLIENT", "PAUSE", "100000", "WRITE"]), ok());
    wait_within("the key to expire", Duration::from_secs(2), || {
        run(&s, &["GET", "k"]) == Frame::Null
    });
    assert_eq!(run(&s, &["DBSIZE"]), int(1));
    assert_eq!(run(&s, &["CLIENT", "UNPAUSE"]), ok());
    assert_eq!(run(&s, &["GET", "k"]), Frame::Null);
    assert_eq!(run(&s, &["DBSIZE"]), int(0));
}

#[test]
fn debug_refused_unless_enabled() {
    let s = start();
    assert_eq!(
        run(&s, &["DEBUG", "DIGEST"]),
        err("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.")
    );
    let local = Server::builder()
        .port(0)
        .config("enable-debug-command", "local")
        .start()
        .expect("server starts");
    let mut a = Conn::open(&local);
    assert_eq!(a.call(&["DEBUG", "DIGEST"]), simple(&"0".repeat(40)));
}

/// Expected values were produced by redis-server 7.0.15 with the same
/// commands.
#[test]
fn digest_matches_redis() {
    let s = debug_server();
    assert_eq!(run(&s, &["DEBUG", "DIGEST"]), simple(&"0".repeat(40)));
    let long = "x".repeat(100);
    for args in [
        vec!["SET", "foo", "bar"],
        vec!["SET", "n", "12345"],
        vec!["SET", "big", "99999999999999999999"],
        vec!["SET", "e", ""],
        vec!["SET", "ttl", "hello", "EX", "1000"],
        vec!["SET", "long", long.as_str()],
        vec!["APPEND", "ap", "abc"],
    ] {
        run(&s, &args);
    }
    run(&s, &["SELECT", "3"]);
    run(&s, &["SET", "foo", "bar"]);
    run(&s, &["SET", "neg", "-5"]);
    assert_eq!(
        run(&s, &["DEBUG", "DIGEST"]),
        simple("0bbaa0867a39243d35bbb397d9dcc09c8c9abe00")
    );
    assert_eq!(
        run(&s, &["DEBUG", "DIGEST-VALUE", "foo", "neg", "missing"]),
        arr(vec![
            simple("68467c70ae30376e7ce005bcc8827f5ba7fd67dc"),
            simple("b8fe4ac02b2f7e40537890f8b06b1107798d89e1"),
            simple(&"0".repeat(40)),
        ])
    );
    run(&s, &["SELECT", "0"]);
    assert_eq!(
        run(
            &s,
            &[
                "DEBUG",
                "DIGEST-VALUE",
                "foo",
                "n",
                "big",
                "e",
                "ttl",
                "long",
                "ap"
            ]
        ),
        arr(vec![
            simple("68467c70ae30376e7ce005bcc8827f5ba7fd67dc"),
            simple("e1cf90774e995ae03de66e8109dc5cb9d9c2dc83"),
            simple("ad5d4c33edb3ff6376c26ca7b1aeb7e328d3c037"),
            simple("8b3447c33a834b810e3e181b6fd6a2ee1020921c"),
            simple("d037c4eb8a8b36b602fbced4000daeab0714c1e3"),
            simple("6942b9b71aaff9a398b7a2f898756f5e28dd3cd1"),
            simple("21ffcd2d36aebffca02995acb412bcb827d4c1db"),
        ])
    );
    // Populated keys on top, as real Redis digests them.
    assert_eq!(run(&s, &["DEBUG", "POPULATE", "3", "pre", "4"]), ok());
    assert_eq!(run(&s, &["DEBUG", "POPULATE", "2", "p2", "20"]), ok());
    assert_eq!(
        run(&s, &["DEBUG", "DIGEST"]),
        simple("4d603fab692acb6026bd5c7a9cf137ba60ec68e2")
    );
}

#[test]
fn populate_follows_redis() {
    let s = debug_server();
    assert_eq!(run(&s, &["SET", "key:1", "mine"]), ok());
    assert_eq!(run(&s, &["DEBUG", "POPULATE", "3"]), ok());
    assert_eq!(run(&s, &["DBSIZE"]), int(3));
    assert_eq!(run(&s, &["GET", "key:0"]), bulk("value:0"));
    assert_eq!(run(&s, &["GET", "key:1"]), bulk("mine"));
    assert_eq!(run(&s, &["DEBUG", "POPULATE", "2", "p", "3"]), ok());
    assert_eq!(run(&s, &["GET", "p:1"]), bulk("val"));
    assert_eq!(run(&s, &["DEBUG", "POPULATE", "1", "z", "10"]), ok());
    assert_eq!(run(&s, &["GET", "z:0"]), bulk("value:0\0\0\0"));
    for bad in ["-1", "x"] {
        assert_eq!(
            run(&s, &["DEBUG", "POPULATE", bad]),
            err("ERR value is out of range, must be positive")
        );
    }
    let start = Instant::now();
    assert_eq!(run(&s, &["DEBUG", "POPULATE", "200000"]), ok());
    assert_eq!(run(&s, &["DBSIZE"]), int(200_003));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn debug_subcommands() {
    let s = debug_server();
    run(&s, &["SET", "foo", "bar"]);
    match run(&s, &["DEBUG", "OBJECT", "foo"]) {
        Frame::Simple(line) => {
            assert!(line.starts_with("Value at:0x"), "{line}");
            assert!(
                line.contains(" refcount:1 encoding:embstr serializedlength:4 lru:"),
                "{line}"
            );
            assert!(line.contains(" lru_seconds_idle:"), "{line}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        run(&s, &["DEBUG", "OBJECT", "nokey"]),
        err("ERR no such key")
    );
    assert_eq!(
        run(&s, &["DEBUG", "LISTPACK", "foo"]),
        err("ERR Not a listpack encoded object.")
    );
    assert_eq!(
        run(&s, &["DEBUG", "QUICKLIST", "nokey"]),
        err("ERR no such key")
    );
    assert_eq!(run(&s, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), ok());
    assert_eq!(run(&s, &["DEBUG", "SLEEP", "0"]), ok());
    assert_eq!(run(&s, &["DEBUG", "LOG", "hello"]), ok());
    assert_eq!(
        run(&s, &["DEBUG", "ERROR", "MYERR custom"]),
        err("MYERR custom")
    );
    assert_eq!(
        run(&s, &["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100"]),
        ok()
    );
    assert_eq!(
        run(&s, &["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "5gb"]),
        err("ERR argument must be a memory value bigger than 1 and smaller than 4gb")
    );
    assert_eq!(
        run(&s, &["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "never"]),
        ok()
    );
    assert_eq!(
        run(&s, &["DEBUG", "REPLYBUFFER", "foo", "1"]),
        err("ERR unknown subcommand or wrong number of arguments for 'REPLYBUFFER'. Try DEBUG HELP.")
    );
    assert_eq!(run(&s, &["DEBUG", "PAUSE-CRON", "0"]), ok());
    assert_eq!(run(&s, &["DEBUG", "CHANGE-REPL-ID"]), ok());
    assert_eq!(
        run(&s, &["DEBUG", "foo"]),
        err("ERR unknown subcommand or wrong number of arguments for 'foo'. Try DEBUG HELP.")
    );
    assert_eq!(
        run(&s, &["DEBUG"]),
        err("ERR wrong number of arguments for 'debug' command")
    );
    assert_eq!(
        run(&s, &["DEBUG", "PROTOCOL", "string"]),
        bulk("Hello World")
    );
    assert_eq!(run(&s, &["DEBUG", "PROTOCOL", "integer"]), int(12345));
    assert_eq!(run(&s, &["DEBUG", "PROTOCOL", "double"]), bulk("3.141"));
    assert_eq!(
        run(&s, &["DEBUG", "PROTOCOL", "bignum"]),
        bulk("1234567999999999999999999999999999999")
    );
    assert_eq!(run(&s, &["DEBUG", "PROTOCOL", "null"]), Frame::Null);
    assert_eq!(
        run(&s, &["DEBUG", "PROTOCOL", "array"]),
        arr(vec![int(0), int(1), int(2)])
    );
    assert_eq!(
        run(&s, &["DEBUG", "PROTOCOL", "map"]),
        arr(vec![int(0), int(0), int(1), int(1), int(2), int(0)])
    );
    assert_eq!(run(&s, &["DEBUG", "PROTOCOL", "true"]), int(1));
    assert_eq!(
        run(&s, &["DEBUG", "PROTOCOL", "push"]),
        err("ERR RESP2 is not supported by this command")
    );
    assert_eq!(
        run(&s, &["DEBUG", "PROTOCOL", "verbatim"]),
        bulk("This is a verbatim\nstring")
    );
    assert_eq!(
        run(&s, &["DEBUG", "PROTOCOL", "attrib"]),
        bulk("Some real reply following the attribute")
    );
}

#[test]
// 3.141 is Redis's DEBUG PROTOCOL double, not an approximation of pi.
#[allow(clippy::approx_constant)]
fn debug_protocol_resp3() {
    let s = debug_server();
    let mut a = Conn::open(&s);
    assert!(matches!(a.call(&["HELLO", "3"]), Frame::Map(_)));
    assert_eq!(a.call(&["DEBUG", "PROTOCOL", "true"]), Frame::Boolean(true));
    assert_eq!(
        a.call(&["DEBUG", "PROTOCOL", "double"]),
        Frame::Double(3.141)
    );
    assert_eq!(a.call(&["DEBUG", "PROTOCOL", "null"]), Frame::Null);
    assert_eq!(
        a.call(&["DEBUG", "PROTOCOL", "set"]),
        Frame::Set(vec![int(0), int(1), int(2)])
    );
    assert_eq!(
        a.call(&["DEBUG", "PROTOCOL", "map"]),
        Frame::Map(vec![
            (int(0), Frame::Boolean(false)),
            (int(1), Frame::Boolean(true)),
            (int(2), Frame::Boolean(false)),
        ])
    );
    assert_eq!(
        text(a.call(&["DEBUG", "PROTOCOL", "verbatim"])),
        "This is a verbatim\nstring"
    );
    assert_eq!(a.call(&["PING"]), simple("PONG"));
}
