//! Helpers shared by the integration tests.
#![allow(dead_code)]

use snapcache::{Frame, Server, ServerHandle};

/// A server on 127.0.0.1 with a free port.
pub fn start() -> ServerHandle {
    Server::builder().port(0).start().expect("server starts")
}

/// Runs a command in-process and returns its reply.
pub fn run(s: &ServerHandle, args: &[&str]) -> Frame {
    s.execute(args).expect("engine running")
}

pub fn ok() -> Frame {
    Frame::Simple("OK".into())
}

pub fn bulk(s: &str) -> Frame {
    Frame::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

pub fn int(n: i64) -> Frame {
    Frame::Integer(n)
}

pub fn err(s: &str) -> Frame {
    Frame::Error(s.into())
}

pub fn arr(items: Vec<Frame>) -> Frame {
    Frame::Array(items)
}
