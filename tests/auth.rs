//! requirepass: the NOAUTH gate, AUTH, HELLO AUTH and the pre-authentication
//! protocol limits, over real sockets.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

fn server() -> snapcache::ServerHandle {
    snapcache::Server::builder()
        .port(0)
        .config("requirepass", "s3cret")
        .start()
        .expect("server starts")
}

fn connect(s: &snapcache::ServerHandle) -> TcpStream {
    let c = TcpStream::connect(s.addr()).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c
}

fn exchange(c: &mut TcpStream, req: &[u8], want: &[u8]) {
    c.write_all(req).unwrap();
    let mut got = vec![0u8; want.len()];
    c.read_exact(&mut got).unwrap();
    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(want));
}

#[test]
fn commands_need_auth_first() {
    let s = server();
    let mut c = connect(&s);
    exchange(
        &mut c,
        b"GET k\r\n",
        b"-NOAUTH Authentication required.\r\n",
    );
    exchange(
        &mut c,
        b"AUTH wrong\r\n",
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    exchange(&mut c, b"AUTH s3cret\r\n", b"+OK\r\n");
    exchange(&mut c, b"SET k v\r\nGET k\r\n", b"+OK\r\n$1\r\nv\r\n");
}

#[test]
fn hello_can_authenticate() {
    let s = server();
    let mut c = connect(&s);
    exchange(
        &mut c,
        b"HELLO 3\r\n",
        b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n",
    );
    exchange(
        &mut c,
        b"HELLO 2 AUTH default s3cret\r\n",
        b"*14\r\n$6\r\nserver\r\n",
    );
}

#[test]
fn unauthenticated_clients_get_small_limits() {
    let s = server();
    let mut c = connect(&s);
    c.write_all(b"*20\r\n").unwrap();
    let mut got = Vec::new();
    c.read_to_end(&mut got).unwrap();
    assert_eq!(
        got,
        b"-ERR Protocol error: unauthenticated multibulk length\r\n"
    );

    let mut c = connect(&s);
    c.write_all(b"*1\r\n$20000\r\n").unwrap();
    let mut got = Vec::new();
    c.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"-ERR Protocol error: unauthenticated bulk length\r\n");
}
