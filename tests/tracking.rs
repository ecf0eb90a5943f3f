//! Client-side caching over real sockets: invalidations arrive on the
//! tracking connection (RESP3) or on a redirect connection, so every test
//! checks the exact bytes a connection receives. A message that must not
//! arrive is checked by a PING whose reply must come next.

mod common;
use common::*;
use snapcache::ServerHandle;
use std::time::Duration;

/// `>2 invalidate [keys]`.
fn invalidate(keys: &[&str]) -> String {
    let mut s = format!(">2\r\n$10\r\ninvalidate\r\n*{}\r\n", keys.len());
    for k in keys {
        s.push_str(&format!("${}\r\n{k}\r\n", k.len()));
    }
    s
}

/// `>2 invalidate null`: a flush.
const INVALIDATE_ALL: &str = ">2\r\n$10\r\ninvalidate\r\n_\r\n";

/// The RESP2 Pub/Sub message a redirect subscriber receives.
fn redirected(keys: &[&str]) -> String {
    let mut s = String::from("*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n");
    s.push_str(&format!("*{}\r\n", keys.len()));
    for k in keys {
        s.push_str(&format!("${}\r\n{k}\r\n", k.len()));
    }
    s
}

fn client_id(c: &mut Conn) -> i64 {
    c.send(&["CLIENT", "ID"]);
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        std::io::Read::read_exact(&mut c.sock, &mut b).expect("read");
        line.push(b[0]);
    }
    let text = String::from_utf8_lossy(&line);
    text.trim_start_matches(':')
        .trim_end()
        .parse()
        .expect("an id")
}

/// A RESP2 connection subscribed to `__redis__:invalidate`, and its id.
fn redirect_subscriber(s: &ServerHandle) -> (Conn, i64) {
    let mut r = Conn::open(s);
    let id = client_id(&mut r);
    r.call(
        &["SUBSCRIBE", "__redis__:invalidate"],
        "*3\r\n$9\r\nsubscribe\r\n$20\r\n__redis__:invalidate\r\n:1\r\n",
    );
    (r, id)
}

#[test]
fn resp3_invalidation_arrives_on_the_tracking_connection() {
    let s = start();
    let mut c = Conn::open(&s);
    c.resp3();
    c.call(&["CLIENT", "TRACKING", "on"], "+OK\r\n");
    assert_eq!(run(&s, &["SET", "k", "v1"]), ok());
    c.call(&["GET", "k"], "$2\r\nv1\r\n");
    assert_eq!(run(&s, &["SET", "k", "v2"]), ok());
    c.expect(&invalidate(&["k"]));
    // Invalidated once: the key is no longer tracked until read again.
    assert_eq!(run(&s, &["SET", "k", "v3"]), ok());
    c.call(&["PING"], "+PONG\r\n");
}

#[test]
fn own_writes_are_invalidated_after_the_reply_and_after_exec() {
    let s = start();
    let mut c = Conn::open(&s);
    c.resp3();
    c.call(&["CLIENT", "TRACKING", "on"], "+OK\r\n");
    c.call(&["MGET", "a", "b"], "*2\r\n_\r\n_\r\n");
    c.call(
        &["SET", "a", "1"],
        &format!("+OK\r\n{}", invalidate(&["a"])),
    );
    c.call(&["MULTI"], "+OK\r\n");
    c.call(&["INCR", "b"], "+QUEUED\r\n");
    c.call(&["GET", "b"], "+QUEUED\r\n");
    c.call(
        &["EXEC"],
        &format!("*2\r\n:1\r\n$1\r\n1\r\n{}", invalidate(&["b"])),
    );
}

#[test]
fn resp2_invalidations_go_to_the_redirect_subscriber() {
    let s = start();
    let (mut r, rid) = redirect_subscriber(&s);
    let mut c = Conn::open(&s);
    c.call(
        &["CLIENT", "TRACKING", "on", "REDIRECT", &rid.to_string()],
        "+OK\r\n",
    );
    c.call(&["CLIENT", "GETREDIR"], &format!(":{rid}\r\n"));
    c.call(&["GET", "k"], "$-1\r\n");
    assert_eq!(run(&s, &["SET", "k", "v"]), ok());
    r.expect(&redirected(&["k"]));
    // The tracking connection itself, RESP2, receives nothing.
    c.call(&["PING"], "+PONG\r\n");
}

#[test]
fn broken_redirect_is_reported_to_a_resp3_client() {
    let s = start();
    let (r, rid) = redirect_subscriber(&s);
    let mut c = Conn::open(&s);
    c.resp3();
    c.call(
        &["CLIENT", "TRACKING", "on", "REDIRECT", &rid.to_string()],
        "+OK\r\n",
    );
    c.call(&["GET", "k"], "_\r\n");
    drop(r);
    wait_within("the redirect client to go", Duration::from_secs(5), || {
        info_field(&s, "clients", "connected_clients") == "2"
    });
    assert_eq!(run(&s, &["SET", "k", "v"]), ok());
    c.expect(&format!(">2\r\n$21\r\ntracking-redir-broken\r\n:{rid}\r\n"));
    c.call(
        &["CLIENT", "TRACKINGINFO"],
        &format!(
            "%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$15\r\nbroken_redirect\r\n\
             $8\r\nredirect\r\n:{rid}\r\n$8\r\nprefixes\r\n*0\r\n"
        ),
    );
}

#[test]
fn bcast_sends_one_message_per_prefix() {
    let s = start();
    let mut c = Conn::open(&s);
    c.resp3();
    c.call(
        &[
            "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b:", "PREFIX", "a:",
        ],
        "+OK\r\n",
    );
    assert_eq!(
        run(
            &s,
            &["MSET", "a:2", "x", "b:1", "y", "c:1", "z", "a:1", "w"]
        ),
        ok()
    );
    c.expect(&invalidate(&["a:1", "a:2"]));
    c.expect(&invalidate(&["b:1"]));
    assert_eq!(info_field(&s, "stats", "tracking_total_prefixes"), "2");
    c.call(
        &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a"],
        "-ERR Prefix 'a' overlaps with an existing prefix 'a:'. Prefixes for a single client must not overlap.\r\n",
    );
    c.call(&["CLIENT", "TRACKING", "off"], "+OK\r\n");
    assert_eq!(info_field(&s, "stats", "tracking_total_prefixes"), "0");
}

#[test]
fn bcast_with_the_empty_prefix_and_noloop_skips_own_keys() {
    let s = start();
    let mut c = Conn::open(&s);
    c.resp3();
    c.call(&["CLIENT", "TRACKING", "on", "BCAST", "NOLOOP"], "+OK\r\n");
    c.call(&["SET", "mine", "1"], "+OK\r\n");
    assert_eq!(run(&s, &["SET", "theirs", "1"]), ok());
    c.expect(&invalidate(&["theirs"]));
    c.call(&["PING"], "+PONG\r\n");
}

#[test]
fn noloop_in_default_mode_skips_own_writes() {
    let s = start();
    let mut c = Conn::open(&s);
    c.resp3();
    c.call(&["CLIENT", "TRACKING", "on", "NOLOOP"], "+OK\r\n");
    c.call(&["MGET", "mine", "theirs"], "*2\r\n_\r\n_\r\n");
    c.call(&["SET", "mine", "1"], "+OK\r\n");
    assert_eq!(run(&s, &["SET", "theirs", "1"]), ok());
    c.expect(&invalidate(&["theirs"]));
    c.call(&["PING"], "+PONG\r\n");
}

#[test]
fn optin_tracks_only_after_caching_yes() {
    let s = start();
    let mut c = Conn::open(&s);
    c.resp3();
    c.call(&["CLIENT", "TRACKING", "on", "OPTIN"], "+OK\r\n");
    c.call(&["GET", "skipped"], "_\r\n");
    c.call(&["CLIENT", "CACHING", "yes"], "+OK\r\n");
    c.call(&["GET", "cached"], "_\r\n");
    // CACHING covered one command only.
    c.call(&["GET", "later"], "_\r\n");
    for k in ["skipped", "later", "cached"] {
        assert_eq!(run(&s, &["SET", k, "1"]), ok());
    }
    c.expect(&invalidate(&["cached"]));
    c.call(&["PING"], "+PONG\r\n");
    c.call(
        &["CLIENT", "CACHING", "no"],
        "-ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.\r\n",
    );
}

#[test]
fn optout_skips_reads_after_caching_no() {
    let s = start();
    let mut c = Conn::open(&s);
    c.resp3();
    c.call(&["CLIENT", "TRACKING", "on", "OPTOUT"], "+OK\r\n");
    c.call(&["CLIENT", "CACHING", "no"], "+OK\r\n");
    c.call(&["GET", "skipped"], "_\r\n");
    c.call(&["GET", "cached"], "_\r\n");
    assert_eq!(run(&s, &["SET", "skipped", "1"]), ok());
    assert_eq!(run(&s, &["SET", "cached", "1"]), ok());
    c.expect(&invalidate(&["cached"]));
    c.call(&["PING"], "+PONG\r\n");
}

#[test]
fn flushes_invalidate_everything_with_a_null() {
    let s = start();
    let mut c = Conn::open(&s);
    c.resp3();
    c.call(&["CLIENT", "TRACKING", "on"], "+OK\r\n");
    c.call(&["MGET", "a", "b"], "*2\r\n_\r\n_\r\n");
    assert_eq!(info_field(&s, "stats", "tracking_total_keys"), "2");
    assert_eq!(run(&s, &["FLUSHALL"]), ok());
    // One null for FLUSHALL however many databases it empties.
    c.expect(INVALIDATE_ALL);
    c.call(&["PING"], "+PONG\r\n");
    assert_eq!(info_field(&s, "stats", "tracking_total_keys"), "0");
    c.call(&["FLUSHDB"], &format!("+OK\r\n{INVALIDATE_ALL}"));
    c.call(&["SWAPDB", "0", "1"], &format!("+OK\r\n{INVALIDATE_ALL}"));
}

#[test]
fn flush_reaches_a_resp2_redirect_as_a_null_message() {
    let s = start();
    let (mut r, rid) = redirect_subscriber(&s);
    let mut c = Conn::open(&s);
    c.call(
        &["CLIENT", "TRACKING", "on", "REDIRECT", &rid.to_string()],
        "+OK\r\n",
    );
    assert_eq!(run(&s, &["FLUSHDB"]), ok());
    r.expect("*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n");
}

#[test]
fn table_limit_evicts_keys_with_invalidations() {
    let s = start();
    let (mut r, rid) = redirect_subscriber(&s);
    let mut c = Conn::open(&s);
    c.call(
        &["CLIENT", "TRACKING", "on", "REDIRECT", &rid.to_string()],
        "+OK\r\n",
    );
    c.call(&["MGET", "k1", "k2", "k3"], "*3\r\n$-1\r\n$-1\r\n$-1\r\n");
    assert_eq!(info_field(&s, "stats", "tracking_total_items"), "3");
    assert_eq!(
        run(&s, &["CONFIG", "SET", "tracking-table-max-keys", "1"]),
        ok()
    );
    // The next command trims the table to the limit: two of the three
    // keys are invalidated, whichever they are.
    c.call(&["PING"], "+PONG\r\n");
    let mut seen = Vec::new();
    for _ in 0..2 {
        let want = redirected(&["k?"]);
        let mut got = vec![0u8; want.len()];
        std::io::Read::read_exact(&mut r.sock, &mut got).expect("read");
        let got = String::from_utf8_lossy(&got).into_owned();
        let k = ["k1", "k2", "k3"]
            .into_iter()
            .find(|k| got == redirected(&[k]))
            .unwrap_or_else(|| panic!("unexpected {got:?}"));
        seen.push(k);
    }
    seen.dedup();
    assert_eq!(seen.len(), 2);
    r.call(&["PING"], "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    assert_eq!(info_field(&s, "stats", "tracking_total_keys"), "1");
}

#[test]
fn info_and_client_list_show_tracking() {
    let s = start();
    let mut c = Conn::open(&s);
    c.call(&["CLIENT", "TRACKING", "on", "BCAST"], "+OK\r\n");
    assert_eq!(info_field(&s, "clients", "tracking_clients"), "1");
    c.send(&["CLIENT", "INFO"]);
    let mut buf = [0u8; 512];
    let n = std::io::Read::read(&mut c.sock, &mut buf).expect("read");
    let line = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(line.contains(" flags=tB "), "{line}");
    assert!(line.contains(" redir=0 "), "{line}");
    c.call(
        &["CLIENT", "TRACKINGINFO"],
        "*6\r\n$5\r\nflags\r\n*2\r\n$2\r\non\r\n$5\r\nbcast\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*1\r\n$0\r\n\r\n",
    );
    c.call(&["RESET"], "+RESET\r\n");
    assert_eq!(info_field(&s, "clients", "tracking_clients"), "0");
    c.call(&["CLIENT", "GETREDIR"], ":-1\r\n");
}

#[test]
fn option_errors_use_redis_messages() {
    let s = start();
    let mut c = Conn::open(&s);
    let cases: &[(&[&str], &str)] = &[
        (
            &["CLIENT", "TRACKING", "on", "PREFIX", "a"],
            "-ERR PREFIX option requires BCAST mode to be enabled\r\n",
        ),
        (
            &["CLIENT", "TRACKING", "on", "BCAST", "OPTIN"],
            "-ERR OPTIN and OPTOUT are not compatible with BCAST\r\n",
        ),
        (
            &["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"],
            "-ERR You can't specify both OPTIN mode and OPTOUT mode\r\n",
        ),
        (
            &["CLIENT", "TRACKING", "on", "REDIRECT", "999999"],
            "-ERR The client ID you want redirect to does not exist\r\n",
        ),
        (
            &["CLIENT", "TRACKING", "on", "REDIRECT", "x"],
            "-ERR value is not an integer or out of range\r\n",
        ),
        (
            &["CLIENT", "TRACKING", "maybe"],
            "-ERR syntax error\r\n",
        ),
        (
            &["CLIENT", "TRACKING", "on", "PREFIX"],
            "-ERR syntax error\r\n",
        ),
        (
            &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab", "PREFIX", "a"],
            "-ERR Prefix 'ab' overlaps with another provided prefix 'a'. Prefixes for a single client must not overlap.\r\n",
        ),
        (
            &["CLIENT", "CACHING", "yes"],
            "-ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled\r\n",
        ),
    ];
    for (args, want) in cases {
        c.call(args, want);
    }
    c.call(&["CLIENT", "TRACKING", "on", "OPTIN"], "+OK\r\n");
    c.call(
        &["CLIENT", "TRACKING", "on", "OPTOUT"],
        "-ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.\r\n",
    );
    c.call(
        &["CLIENT", "TRACKING", "on", "BCAST"],
        "-ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.\r\n",
    );
}
