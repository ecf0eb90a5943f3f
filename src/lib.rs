//! snapcache: a Redis-compatible server whose reason to exist is native
//! snapshotting.
//!
//! Run it as a drop-in `redis-server` (the `snapcache-server` binary), or
//! embed it:
//!
//! ```no_run
//! let server = snapcache::Server::builder().port(0).start().expect("start");
//! let reply = server.execute(&["SET", "greeting", "hello"]).expect("engine running");
//! assert_eq!(reply, snapcache::Frame::Simple("OK".into()));
//! println!("listening on {}", server.addr());
//! server.shutdown().expect("clean stop");
//! ```

mod commands;
pub mod config;
mod dispatch;
#[doc(hidden)]
pub mod keyspace;
#[doc(hidden)]
pub mod persistence;
pub mod protocol;
mod replication;
mod server;
mod util;

/// jemalloc (with the `jemalloc` feature) behind a counter of used memory.
#[global_allocator]
static GLOBAL: persistence::memory::Counting = persistence::memory::Counting;

use bytes::Bytes;
use std::net::SocketAddr;
use std::thread::JoinHandle;
use tokio::sync::{mpsc, oneshot};

pub use config::{Config, ConfigError};

/// The Redis version snapcache is compatible with, as INFO and HELLO report it.
pub const REDIS_VERSION: &str = "7.0.15";
/// snapcache's own version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub use protocol::reply::Frame;

/// Errors from starting, using or stopping an embedded server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("configuration: {0}")]
    Config(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("the server has stopped")]
    Stopped,
}

/// Builds a server. Every setting defaults to Redis 7.0's default except
/// where noted on the method.
pub struct ServerBuilder {
    config: Config,
    lines: Vec<String>,
}

/// The entry point: `Server::builder()`.
pub struct Server;

impl Server {
    pub fn builder() -> ServerBuilder {
        let mut config = Config::default();
        // An embedded server does not persist unless asked to.
        config.save.clear();
        ServerBuilder {
            config,
            lines: Vec::new(),
        }
    }
}

impl ServerBuilder {
    /// TCP port; default 6379, 0 picks a free port (see [`ServerHandle::addr`]).
    pub fn port(mut self, port: u16) -> Self {
        self.config.port = port;
        self
    }

    /// Address to listen on; default 127.0.0.1 for an embedded server.
    pub fn bind(mut self, addr: &str) -> Self {
        self.config.bind = vec![addr.to_string()];
        self
    }

    /// Any redis.conf directive, e.g. `.config("maxmemory", "100mb")`.
    pub fn config(mut self, name: &str, value: &str) -> Self {
        self.lines.push(format!("{name} {}", quote(value)));
        self
    }

    /// Starts the engine on its own thread and returns once it listens.
    pub fn start(mut self) -> Result<ServerHandle, Error> {
        if self.config.bind.is_empty() || self.config.bind == Config::default().bind {
            self.config.bind = vec!["127.0.0.1".to_string()];
        }
        if !self.lines.is_empty() {
            self.config
                .load_str(&self.lines.join("\n"), config::Origin::Text)
                .map_err(|e| Error::Config(e.to_string()))?;
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let config = self.config;
        let thread = std::thread::Builder::new()
            .name("snapcache-engine".into())
            .spawn(move || {
                let engine = server::Engine::new(config);
                let rtx = ready_tx.clone();
                let r = server::run_with_inbox(engine, Some(rx), move |addrs| {
                    let _ = rtx.send(Ok(addrs.to_vec()));
                });
                if let Err(e) = r {
                    let _ = ready_tx.send(Err(e));
                }
            })?;
        let addrs = match ready_rx.recv() {
            Ok(Ok(a)) => a,
            Ok(Err(e)) => return Err(Error::Io(e)),
            Err(_) => return Err(Error::Stopped),
        };
        Ok(ServerHandle {
            addr: addrs[0],
            tx,
            thread: Some(thread),
        })
    }
}

fn quote(v: &str) -> String {
    let mut s = String::from("\"");
    for ch in v.chars() {
        match ch {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// A request from another thread to the engine.
pub(crate) enum Inbox {
    Execute(Vec<Bytes>, oneshot::Sender<Frame>),
    Shutdown,
}

/// A running embedded server.
pub struct ServerHandle {
    addr: SocketAddr,
    tx: mpsc::UnboundedSender<Inbox>,
    thread: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Runs one command in-process, without a socket, as its own client
    /// (RESP2 replies, database 0 unless the command sequence SELECTs).
    pub fn execute<A: AsRef<[u8]>>(&self, args: &[A]) -> Result<Frame, Error> {
        let args = args
            .iter()
            .map(|a| Bytes::copy_from_slice(a.as_ref()))
            .collect();
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Inbox::Execute(args, tx))
            .map_err(|_| Error::Stopped)?;
        rx.blocking_recv().map_err(|_| Error::Stopped)
    }

    /// Stops the server (as SHUTDOWN NOSAVE) and waits for its thread.
    pub fn shutdown(mut self) -> Result<(), Error> {
        self.stop()
    }

    fn stop(&mut self) -> Result<(), Error> {
        let _ = self.tx.send(Inbox::Shutdown);
        if let Some(t) = self.thread.take() {
            t.join().map_err(|_| Error::Stopped)?;
        }
        Ok(())
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// Entry point of the `snapcache-server` binary (redis-server's command line).
#[doc(hidden)]
pub fn server_main(args: Vec<String>) -> i32 {
    server::main::run(args)
}
