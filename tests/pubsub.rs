//! Pub/Sub over real sockets: subscribers are other connections, so every
//! test speaks RESP over TCP and checks the exact bytes it receives.

mod common;
use common::*;
use snapcache::{Frame, Server, ServerHandle};
use std::io::Read;
use std::time::Duration;

/// A `kind, name, count` confirmation as RESP2 sends it.
fn confirm(kind: &str, name: &str, n: i64) -> String {
    format!(
        "*3\r\n${}\r\n{kind}\r\n${}\r\n{name}\r\n:{n}\r\n",
        kind.len(),
        name.len()
    )
}

fn message(chan: &str, msg: &str) -> String {
    format!(
        "*3\r\n$7\r\nmessage\r\n${}\r\n{chan}\r\n${}\r\n{msg}\r\n",
        chan.len(),
        msg.len()
    )
}

fn pmessage(pat: &str, chan: &str, msg: &str) -> String {
    format!(
        "*4\r\n$8\r\npmessage\r\n${}\r\n{pat}\r\n${}\r\n{chan}\r\n${}\r\n{msg}\r\n",
        pat.len(),
        chan.len(),
        msg.len()
    )
}

/// RESP3 turns the leading array header of a pub/sub frame into a push.
fn pushed(frame: String) -> String {
    frame.replacen('*', ">", 1)
}

fn numsub(s: &ServerHandle, chan: &str) -> i64 {
    match run(s, &["PUBSUB", "NUMSUB", chan]) {
        Frame::Array(v) => match v.as_slice() {
            [_, Frame::Integer(n)] => *n,
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[test]
fn subscribe_and_publish_in_resp2() {
    let s = start();
    let mut sub = Conn::open(&s);
    sub.send(&["SUBSCRIBE", "a", "b", "a"]);
    sub.expect(&(confirm("subscribe", "a", 1) + &confirm("subscribe", "b", 2)));
    sub.expect(&confirm("subscribe", "a", 2));

    assert_eq!(run(&s, &["PUBLISH", "a", "hello"]), int(1));
    assert_eq!(run(&s, &["PUBLISH", "nobody", "x"]), int(0));
    assert_eq!(run(&s, &["PUBLISH", "b", ""]), int(1));
    sub.expect(&message("a", "hello"));
    sub.expect(&message("b", ""));

    // Subscribed RESP2 clients may only run the pub/sub commands and PING.
    sub.call(
        &["GET", "k"],
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
    );
    sub.call(&["PING"], "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    sub.call(&["PING", "hi"], "*2\r\n$4\r\npong\r\n$2\r\nhi\r\n");

    sub.send(&["UNSUBSCRIBE", "b", "zzz"]);
    sub.expect(&(confirm("unsubscribe", "b", 1) + &confirm("unsubscribe", "zzz", 1)));
    sub.call(&["UNSUBSCRIBE"], &confirm("unsubscribe", "a", 0));
    // Nothing left: one confirmation with a null name.
    sub.call(
        &["UNSUBSCRIBE"],
        "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n",
    );
    sub.call(
        &["PUNSUBSCRIBE"],
        "*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n",
    );
    sub.call(
        &["SUNSUBSCRIBE"],
        "*3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n",
    );
    sub.call(&["PING"], "+PONG\r\n");
    assert_eq!(run(&s, &["PUBLISH", "a", "hello"]), int(0));
}

#[test]
fn patterns_receive_pmessage_and_count_as_receivers() {
    let s = start();
    let mut sub = Conn::open(&s);
    sub.send(&["SUBSCRIBE", "news.tech"]);
    sub.expect(&confirm("subscribe", "news.tech", 1));
    sub.send(&["PSUBSCRIBE", "news.*", "n?ws.[tx]ech", "news.*"]);
    sub.expect(&confirm("psubscribe", "news.*", 2));
    sub.expect(&confirm("psubscribe", "n?ws.[tx]ech", 3));
    sub.expect(&confirm("psubscribe", "news.*", 3));

    assert_eq!(run(&s, &["PUBLISH", "news.tech", "m"]), int(3));
    sub.expect(&message("news.tech", "m"));
    // The two pattern deliveries come in the registry's order.
    let a = pmessage("news.*", "news.tech", "m");
    let b = pmessage("n?ws.[tx]ech", "news.tech", "m");
    let mut got = vec![0u8; a.len() + b.len()];
    sub.sock.read_exact(&mut got).expect("read");
    let got = String::from_utf8(got).expect("utf8");
    assert!(got == a.clone() + &b || got == b + &a, "{got}");

    assert_eq!(run(&s, &["PUBLISH", "news.sport", "x"]), int(1));
    sub.expect(&pmessage("news.*", "news.sport", "x"));
    assert_eq!(run(&s, &["PUBSUB", "NUMPAT"]), int(2));

    sub.send(&["PUNSUBSCRIBE", "news.*", "nope*"]);
    sub.expect(&(confirm("punsubscribe", "news.*", 2) + &confirm("punsubscribe", "nope*", 2)));
    assert_eq!(run(&s, &["PUBLISH", "news.sport", "x"]), int(0));
    // Shard publishing ignores patterns and plain channels.
    assert_eq!(run(&s, &["SPUBLISH", "news.tech", "x"]), int(0));
}

#[test]
fn shard_channels_count_apart_and_report_everywhere() {
    let s = start();
    let mut sub = Conn::open(&s);
    sub.call(&["SUBSCRIBE", "c"], &confirm("subscribe", "c", 1));
    sub.call(&["SSUBSCRIBE", "c"], &confirm("ssubscribe", "c", 1));
    sub.call(&["SSUBSCRIBE", "d"], &confirm("ssubscribe", "d", 2));
    sub.call(&["PSUBSCRIBE", "c*"], &confirm("psubscribe", "c*", 2));

    assert_eq!(run(&s, &["SPUBLISH", "c", "hi"]), int(1));
    sub.expect("*3\r\n$8\r\nsmessage\r\n$1\r\nc\r\n$2\r\nhi\r\n");
    assert_eq!(
        run(&s, &["PUBSUB", "SHARDNUMSUB", "c", "d", "e"]),
        arr(vec![
            bulk("c"),
            int(1),
            bulk("d"),
            int(1),
            bulk("e"),
            int(0)
        ])
    );
    assert_eq!(run(&s, &["PUBSUB", "CHANNELS"]), arr(vec![bulk("c")]));
    assert_eq!(
        run(&s, &["PUBSUB", "SHARDCHANNELS", "[d]"]),
        arr(vec![bulk("d")])
    );
    assert_eq!(run(&s, &["PUBSUB", "CHANNELS", "x*"]), arr(vec![]));
    assert_eq!(run(&s, &["PUBSUB", "NUMSUB"]), arr(vec![]));

    let info = match run(&s, &["INFO", "stats"]) {
        Frame::Bulk(b) => String::from_utf8(b.to_vec()).expect("utf8"),
        other => panic!("{other:?}"),
    };
    for field in [
        "pubsub_channels:1\r\n",
        "pubsub_patterns:1\r\n",
        "pubsubshard_channels:2\r\n",
    ] {
        assert!(info.contains(field), "{field} in {info}");
    }
    let list = match run(&s, &["CLIENT", "LIST"]) {
        Frame::Bulk(b) => String::from_utf8(b.to_vec()).expect("utf8"),
        other => panic!("{other:?}"),
    };
    assert!(
        list.contains(" flags=P db=0 sub=1 psub=1 ssub=2 "),
        "{list}"
    );

    sub.call(&["SUNSUBSCRIBE", "c"], &confirm("sunsubscribe", "c", 1));
    // Leaving the shard channels keeps the client in subscribed mode.
    sub.call(&["SUNSUBSCRIBE"], &confirm("sunsubscribe", "d", 0));
    sub.call(&["ECHO", "x"], "-ERR Can't execute 'echo': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n");
}

#[test]
fn resp3_subscribers_get_pushes_and_may_run_any_command() {
    let s = start();
    let mut sub = Conn::open(&s);
    sub.resp3();
    sub.call(&["SUBSCRIBE", "ch"], &pushed(confirm("subscribe", "ch", 1)));
    sub.call(&["SET", "k", "v"], "+OK\r\n");
    // The publisher is a subscriber too: its message comes before its reply.
    sub.call(
        &["PUBLISH", "ch", "me"],
        &(pushed(message("ch", "me")) + ":1\r\n"),
    );
    sub.call(&["UNSUBSCRIBE"], &pushed(confirm("unsubscribe", "ch", 0)));
    sub.call(&["UNSUBSCRIBE"], ">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n");
}

#[test]
fn client_reply_off_keeps_pushes() {
    let s = start();
    let mut sub = Conn::open(&s);
    sub.resp3();
    sub.send(&["CLIENT", "REPLY", "OFF"]);
    sub.call(&["SUBSCRIBE", "ch"], &pushed(confirm("subscribe", "ch", 1)));
    // Only the push survives: the integer reply of PUBLISH is dropped.
    sub.call(&["PUBLISH", "ch", "x"], &pushed(message("ch", "x")));
    sub.send(&["CLIENT", "REPLY", "ON"]);
    sub.call(&["PING"], "+OK\r\n+PONG\r\n");

    // SKIP drops one command's reply, not its pushes.
    sub.send(&["CLIENT", "REPLY", "SKIP"]);
    sub.call(&["PUBLISH", "ch", "y"], &pushed(message("ch", "y")));
    sub.call(
        &["PUBLISH", "ch", "z"],
        &(pushed(message("ch", "z")) + ":1\r\n"),
    );
}

#[test]
fn reset_and_disconnect_drop_subscriptions() {
    let s = start();
    let mut a = Conn::open(&s);
    a.send(&["SUBSCRIBE", "x", "y"]);
    a.expect(&(confirm("subscribe", "x", 1) + &confirm("subscribe", "y", 2)));
    a.call(&["PSUBSCRIBE", "x*"], &confirm("psubscribe", "x*", 3));
    a.call(&["RESET"], "+RESET\r\n");
    assert_eq!(numsub(&s, "x"), 0);
    assert_eq!(run(&s, &["PUBSUB", "NUMPAT"]), int(0));
    assert_eq!(run(&s, &["PUBLISH", "x", "m"]), int(0));
    a.call(&["GET", "nokey"], "$-1\r\n");

    let mut b = Conn::open(&s);
    b.call(&["SSUBSCRIBE", "x"], &confirm("ssubscribe", "x", 1));
    b.call(&["SUBSCRIBE", "x"], &confirm("subscribe", "x", 1));
    assert_eq!(numsub(&s, "x"), 1);
    drop(b);
    // A closed socket is noticed by the server asynchronously, with no
    // reply to wait for.
    wait_within(
        "the closed subscriber to go",
        Duration::from_secs(5),
        || numsub(&s, "x") == 0,
    );
    assert_eq!(run(&s, &["SPUBLISH", "x", "m"]), int(0));
    assert_eq!(run(&s, &["PUBSUB", "SHARDCHANNELS"]), arr(vec![]));
}

#[test]
fn pubsub_introspection_errors() {
    let s = start();
    assert_eq!(
        run(&s, &["PUBSUB", "CHANNELS", "a", "b"]),
        err("ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.")
    );
    assert_eq!(
        run(&s, &["PUBSUB", "NOPE"]),
        err("ERR unknown subcommand 'NOPE'. Try PUBSUB HELP.")
    );
    assert_eq!(
        run(&s, &["PUBSUB", "NUMPAT", "x"]),
        err("ERR wrong number of arguments for 'pubsub|numpat' command")
    );
    assert_eq!(
        run(&s, &["SUBSCRIBE"]),
        err("ERR wrong number of arguments for 'subscribe' command")
    );
    assert_eq!(
        run(&s, &["PUBLISH", "a"]),
        err("ERR wrong number of arguments for 'publish' command")
    );
    match run(&s, &["PUBSUB", "HELP"]) {
        Frame::Array(lines) => {
            assert_eq!(lines.len(), 14);
            assert_eq!(
                lines[0],
                Frame::Simple(
                    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".into()
                )
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn subscriber_over_the_hard_output_limit_is_disconnected() {
    let s = Server::builder()
        .port(0)
        .config("client-output-buffer-limit", "pubsub 100000 0 0")
        .start()
        .expect("server starts");
    let mut sub = Conn::open(&s);
    sub.call(&["SUBSCRIBE", "flood"], &confirm("subscribe", "flood", 1));
    // The subscriber never reads: once the socket buffers are full, the
    // server's pending output grows until the limit closes the client.
    let payload = "x".repeat(64 * 1024);
    let mut sent = 0;
    while run(&s, &["PUBLISH", "flood", &payload]) == int(1) {
        sent += 1;
        assert!(sent < 20_000, "subscriber never disconnected");
    }
    assert_eq!(numsub(&s, "flood"), 0);
    assert!(
        matches!(run(&s, &["CLIENT", "LIST"]), Frame::Bulk(b) if !b.windows(9).any(|w| w == b"sub=1 psu"))
    );
    // The subscriber sees what was written, then the end of the stream.
    let mut sink = [0u8; 64 * 1024];
    loop {
        match sub.sock.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}
