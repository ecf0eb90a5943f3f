//! Keyspace notifications over real sockets: one connection subscribes to
//! `*`, another writes, and the subscriber checks the exact bytes of every
//! event. Each test ends with a PUBLISH on a sentinel channel so that "no
//! other event" is checked by awaiting a reply, without sleeping.

mod common;
use common::*;
use snapcache::ServerHandle;
use std::io::Read;
use std::time::Duration;

fn pmessage(chan: &str, msg: &str) -> String {
    format!(
        "*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n${}\r\n{chan}\r\n${}\r\n{msg}\r\n",
        chan.len(),
        msg.len()
    )
}

/// The keyspace-channel message of `event` on `key` in database `db`.
fn ks(db: usize, key: &str, event: &str) -> String {
    pmessage(&format!("__keyspace@{db}__:{key}"), event)
}

/// The keyevent-channel message of `event` on `key` in database `db`.
fn ke(db: usize, event: &str, key: &str) -> String {
    pmessage(&format!("__keyevent@{db}__:{event}"), key)
}

/// Both messages of one event, as `K` and `E` together send them.
fn both(db: usize, key: &str, event: &str) -> String {
    ks(db, key, event) + &ke(db, event, key)
}

/// A server with `notify-keyspace-events` set to `flags`, a subscriber on
/// `*` and a writer connection.
fn setup(flags: &str) -> (ServerHandle, Conn, Conn) {
    let s = snapcache::Server::builder()
        .port(0)
        .config("enable-debug-command", "yes")
        .start()
        .expect("server starts");
    assert_eq!(
        run(&s, &["CONFIG", "SET", "notify-keyspace-events", flags]),
        ok()
    );
    let mut sub = Conn::open(&s);
    sub.call(
        &["PSUBSCRIBE", "*"],
        "*3\r\n$10\r\npsubscribe\r\n$1\r\n*\r\n:1\r\n",
    );
    let w = Conn::open(&s);
    (s, sub, w)
}

/// Publishes a sentinel and expects it as the subscriber's next message:
/// nothing else was delivered before it.
fn end(w: &mut Conn, sub: &mut Conn) {
    w.call(&["PUBLISH", "end", "."], ":1\r\n");
    sub.expect(&pmessage("end", "."));
}

#[test]
fn strings_send_their_events_in_order() {
    let (_s, mut sub, mut w) = setup("KEA");
    w.call(&["SET", "foo", "bar", "EX", "100"], "+OK\r\n");
    sub.expect(&(both(0, "foo", "set") + &both(0, "foo", "expire")));
    w.call(&["SET", "foo", "x", "NX"], "$-1\r\n");
    w.call(&["APPEND", "foo", "yz"], ":5\r\n");
    sub.expect(&both(0, "foo", "append"));
    w.call(&["SETRANGE", "foo", "1", "AB"], ":5\r\n");
    sub.expect(&both(0, "foo", "setrange"));
    w.call(&["INCR", "n"], ":1\r\n");
    w.call(&["DECRBY", "n", "5"], ":-4\r\n");
    sub.expect(&(both(0, "n", "incrby") + &both(0, "n", "incrby")));
    w.call(&["INCRBYFLOAT", "n", "0.5"], "$4\r\n-3.5\r\n");
    sub.expect(&both(0, "n", "incrbyfloat"));
    w.call(&["MSET", "a", "1", "b", "2"], "+OK\r\n");
    sub.expect(&(both(0, "a", "set") + &both(0, "b", "set")));
    w.call(&["GETEX", "a", "PERSIST"], "$1\r\n1\r\n");
    w.call(&["GETEX", "a", "PX", "100000"], "$1\r\n1\r\n");
    sub.expect(&both(0, "a", "expire"));
    w.call(&["GETEX", "a", "PERSIST"], "$1\r\n1\r\n");
    sub.expect(&both(0, "a", "persist"));
    w.call(&["GETDEL", "b"], "$1\r\n2\r\n");
    sub.expect(&both(0, "b", "del"));
    w.call(&["SETBIT", "bits", "3", "1"], ":0\r\n");
    w.call(&["SETBIT", "bits", "3", "1"], ":1\r\n");
    sub.expect(&both(0, "bits", "setbit"));
    w.call(&["BITOP", "OR", "dest", "bits"], ":1\r\n");
    sub.expect(&both(0, "dest", "set"));
    w.call(&["BITOP", "OR", "dest", "nothing"], ":0\r\n");
    sub.expect(&both(0, "dest", "del"));
    w.call(&["BITFIELD", "bf", "SET", "u8", "0", "1"], "*1\r\n:0\r\n");
    sub.expect(&both(0, "bf", "setbit"));
    end(&mut w, &mut sub);
}

#[test]
fn generic_commands() {
    let (_s, mut sub, mut w) = setup("KEg");
    w.call(&["SET", "foo", "bar"], "+OK\r\n");
    w.call(&["EXPIRE", "foo", "100"], ":1\r\n");
    sub.expect(&both(0, "foo", "expire"));
    w.call(&["PERSIST", "foo"], ":1\r\n");
    w.call(&["PERSIST", "foo"], ":0\r\n");
    sub.expect(&both(0, "foo", "persist"));
    w.call(&["RENAME", "foo", "bar"], "+OK\r\n");
    sub.expect(&(both(0, "foo", "rename_from") + &both(0, "bar", "rename_to")));
    w.call(&["COPY", "bar", "cp", "DB", "2"], ":1\r\n");
    sub.expect(&both(2, "cp", "copy_to"));
    w.call(&["MOVE", "bar", "1"], ":1\r\n");
    sub.expect(&(both(0, "bar", "move_from") + &both(1, "bar", "move_to")));
    w.call(&["SET", "x", "1"], "+OK\r\n");
    w.call(&["PEXPIREAT", "x", "1"], ":1\r\n");
    sub.expect(&both(0, "x", "del"));
    w.call(&["MSET", "a", "1", "b", "2"], "+OK\r\n");
    w.call(&["DEL", "a", "missing", "b"], ":2\r\n");
    sub.expect(&(both(0, "a", "del") + &both(0, "b", "del")));
    w.call(&["UNLINK", "missing"], ":0\r\n");
    end(&mut w, &mut sub);
}

#[test]
fn list_events_and_del_when_emptied() {
    let (_s, mut sub, mut w) = setup("KEA");
    w.call(&["LPUSH", "l", "a", "b"], ":2\r\n");
    w.call(&["RPUSHX", "l", "c"], ":3\r\n");
    w.call(&["LPUSHX", "none", "c"], ":0\r\n");
    sub.expect(&(both(0, "l", "lpush") + &both(0, "l", "rpush")));
    w.call(&["LSET", "l", "0", "B"], "+OK\r\n");
    sub.expect(&both(0, "l", "lset"));
    w.call(&["LINSERT", "l", "BEFORE", "a", "x"], ":4\r\n");
    w.call(&["LINSERT", "l", "BEFORE", "zz", "x"], ":-1\r\n");
    sub.expect(&both(0, "l", "linsert"));
    w.call(&["LREM", "l", "0", "x"], ":1\r\n");
    sub.expect(&both(0, "l", "lrem"));
    w.call(&["LMOVE", "l", "m", "LEFT", "RIGHT"], "$1\r\nB\r\n");
    sub.expect(&(both(0, "m", "rpush") + &both(0, "l", "lpop")));
    w.call(&["LTRIM", "l", "0", "0"], "+OK\r\n");
    sub.expect(&both(0, "l", "ltrim"));
    w.call(&["RPOP", "l", "5"], "*1\r\n$1\r\na\r\n");
    sub.expect(&(both(0, "l", "rpop") + &both(0, "l", "del")));
    w.call(&["BLPOP", "m", "0"], "*2\r\n$1\r\nm\r\n$1\r\nB\r\n");
    sub.expect(&(both(0, "m", "lpop") + &both(0, "m", "del")));
    end(&mut w, &mut sub);
}

#[test]
fn blocked_pop_notifies_when_served() {
    let (s, mut sub, mut w) = setup("KEl");
    let mut b = Conn::open(&s);
    b.send(&["BRPOP", "q", "0"]);
    // Nothing to await before the block: poll until the server has it.
    let blocked = || match run(&s, &["INFO", "clients"]) {
        snapcache::Frame::Bulk(t) => String::from_utf8_lossy(&t).contains("blocked_clients:1"),
        other => panic!("{other:?}"),
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !blocked() {
        assert!(std::time::Instant::now() < deadline, "never blocked");
        std::thread::yield_now();
    }
    w.call(&["LPUSH", "q", "v"], ":1\r\n");
    b.expect("*2\r\n$1\r\nq\r\n$1\r\nv\r\n");
    sub.expect(&(both(0, "q", "lpush") + &both(0, "q", "rpop")));
    end(&mut w, &mut sub);
}

#[test]
fn hash_set_and_zset_events() {
    let (_s, mut sub, mut w) = setup("Kshz");
    w.call(&["HSET", "h", "a", "1", "b", "2"], ":2\r\n");
    w.call(&["HSETNX", "h", "a", "1"], ":0\r\n");
    w.call(&["HINCRBY", "h", "a", "1"], ":2\r\n");
    w.call(&["HINCRBYFLOAT", "h", "a", "1"], "$1\r\n3\r\n");
    w.call(&["HDEL", "h", "a", "b", "c"], ":2\r\n");
    sub.expect(
        &(ks(0, "h", "hset")
            + &ks(0, "h", "hincrby")
            + &ks(0, "h", "hincrbyfloat")
            + &ks(0, "h", "hdel")),
    );
    // `del` is generic (g), left out of Kshz.
    w.call(&["SADD", "s", "a", "b"], ":2\r\n");
    w.call(&["SADD", "s", "a"], ":0\r\n");
    w.call(&["SREM", "s", "x"], ":0\r\n");
    w.call(&["SMOVE", "s", "t", "a"], ":1\r\n");
    sub.expect(&(ks(0, "s", "sadd") + &ks(0, "s", "srem") + &ks(0, "t", "sadd")));
    w.call(&["SUNIONSTORE", "u", "s", "t"], ":2\r\n");
    w.call(&["SINTERSTORE", "i", "s", "t"], ":0\r\n");
    w.call(&["SDIFFSTORE", "d", "s", "t"], ":1\r\n");
    w.call(&["SPOP", "d"], "$1\r\nb\r\n");
    sub.expect(&(ks(0, "u", "sunionstore") + &ks(0, "d", "sdiffstore") + &ks(0, "d", "spop")));
    w.call(&["ZADD", "z", "1", "a", "2", "b", "3", "c"], ":3\r\n");
    w.call(&["ZADD", "z", "1", "a"], ":0\r\n");
    w.call(&["ZINCRBY", "z", "1", "a"], "$1\r\n2\r\n");
    w.call(&["ZREM", "z", "x"], ":0\r\n");
    w.call(&["ZREMRANGEBYSCORE", "z", "3", "3"], ":1\r\n");
    w.call(&["ZPOPMAX", "z"], "*2\r\n$1\r\nb\r\n$1\r\n2\r\n");
    w.call(&["ZUNIONSTORE", "zu", "1", "z"], ":1\r\n");
    w.call(&["ZRANGESTORE", "zr", "z", "0", "-1"], ":1\r\n");
    w.call(&["ZPOPMIN", "z"], "*2\r\n$1\r\na\r\n$1\r\n2\r\n");
    sub.expect(
        &(ks(0, "z", "zadd")
            + &ks(0, "z", "zincr")
            + &ks(0, "z", "zremrangebyscore")
            + &ks(0, "z", "zpopmax")
            + &ks(0, "zu", "zunionstore")
            + &ks(0, "zr", "zrangestore")
            + &ks(0, "z", "zpopmin")),
    );
    end(&mut w, &mut sub);
}

#[test]
fn classes_mask_events() {
    let (s, mut sub, mut w) = setup("KEl");
    w.call(&["SET", "foo", "bar"], "+OK\r\n");
    w.call(&["LPUSH", "l", "a"], ":1\r\n");
    w.call(&["LPOP", "l"], "$1\r\na\r\n");
    sub.expect(&(both(0, "l", "lpush") + &both(0, "l", "lpop")));
    // Only the keyevent channel, then nothing at all.
    assert_eq!(
        run(&s, &["CONFIG", "SET", "notify-keyspace-events", "E$"]),
        ok()
    );
    w.call(&["SET", "foo", "baz"], "+OK\r\n");
    sub.expect(&ke(0, "set", "foo"));
    assert_eq!(
        run(&s, &["CONFIG", "SET", "notify-keyspace-events", ""]),
        ok()
    );
    w.call(&["SET", "foo", "bar"], "+OK\r\n");
    w.call(&["GET", "nope"], "$-1\r\n");
    end(&mut w, &mut sub);
}

#[test]
fn new_key_events_come_before_the_command_event() {
    let (_s, mut sub, mut w) = setup("KEn$g");
    w.call(&["SET", "foo", "bar"], "+OK\r\n");
    w.call(&["SET", "foo", "baz"], "+OK\r\n");
    sub.expect(&(both(0, "foo", "new") + &both(0, "foo", "set") + &both(0, "foo", "set")));
    w.call(&["RENAME", "foo", "bar"], "+OK\r\n");
    sub.expect(
        &(both(0, "bar", "new") + &both(0, "foo", "rename_from") + &both(0, "bar", "rename_to")),
    );
    w.call(&["SELECT", "3"], "+OK\r\n");
    w.call(&["INCR", "c"], ":1\r\n");
    sub.expect(&(both(3, "c", "new") + &both(3, "c", "incrby")));
    end(&mut w, &mut sub);
}

#[test]
fn key_miss_events() {
    let (_s, mut sub, mut w) = setup("Em");
    w.call(&["GET", "a"], "$-1\r\n");
    w.call(&["SET", "b", "1"], "+OK\r\n");
    w.call(&["GET", "b"], "$1\r\n1\r\n");
    w.call(&["EXISTS", "c", "b"], ":1\r\n");
    w.call(&["LRANGE", "d", "0", "-1"], "*0\r\n");
    w.call(&["TTL", "e"], ":-2\r\n");
    sub.expect(
        &(ke(0, "keymiss", "a")
            + &ke(0, "keymiss", "c")
            + &ke(0, "keymiss", "d")
            + &ke(0, "keymiss", "e")),
    );
    // Writes look keys up without a miss event.
    w.call(&["LPUSH", "f", "x"], ":1\r\n");
    end(&mut w, &mut sub);
}

#[test]
fn expired_events_lazy_and_active() {
    let (s, mut sub, mut w) = setup("KEx");
    // Active expiry: the cron finds it, the subscriber just waits.
    w.call(&["PSETEX", "foo", "1", "v"], "+OK\r\n");
    sub.expect(&both(0, "foo", "expired"));
    // Lazy expiry: with active expiry off, a read deletes it.
    assert_eq!(run(&s, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), ok());
    w.call(&["PSETEX", "bar", "1", "v"], "+OK\r\n");
    loop {
        w.send(&["GET", "bar"]);
        let mut b = [0u8; 5];
        w.sock.read_exact(&mut b).expect("read");
        if &b == b"$-1\r\n" {
            break;
        }
        let mut rest = [0u8; 2];
        w.sock.read_exact(&mut rest).expect("read");
    }
    sub.expect(&both(0, "bar", "expired"));
    end(&mut w, &mut sub);
}

#[test]
fn the_writer_receives_its_own_events_before_its_reply() {
    let s = start();
    assert_eq!(
        run(&s, &["CONFIG", "SET", "notify-keyspace-events", "E$"]),
        ok()
    );
    let mut c = Conn::open(&s);
    c.resp3();
    c.call(
        &["SUBSCRIBE", "__keyevent@0__:set"],
        ">3\r\n$9\r\nsubscribe\r\n$18\r\n__keyevent@0__:set\r\n:1\r\n",
    );
    c.call(
        &["SET", "k", "v"],
        ">3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@0__:set\r\n$1\r\nk\r\n+OK\r\n",
    );
}
