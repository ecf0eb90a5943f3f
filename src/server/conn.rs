//! Accepting connections and serving one client: read, parse, run, write.
//!
//! A connection task reads what the socket has, runs every complete request
//! in the buffer while holding the engine, then writes all the replies with
//! one write: pipelined clients cost one syscall per batch, not per command.

use bytes::{Bytes, BytesMut};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use super::client::{Client, ClientKind};
use super::Engine;
use crate::dispatch::{self, flags};
use crate::protocol::decode::{Limits, RequestDecoder};

pub async fn accept_loop(engine: Rc<RefCell<Engine>>, listener: TcpListener) {
    loop {
        let (sock, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!("accept: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = sock.set_nodelay(true);
        let laddr = sock.local_addr().map(|a| a.to_string()).unwrap_or_default();
        let fd = {
            use std::os::fd::AsRawFd;
            sock.as_raw_fd() as i64
        };
        let refusal = {
            let mut e = engine.borrow_mut();
            e.stats.connections += 1;
            if e.clients.len() >= e.config.maxclients as usize {
                e.stats.rejected_connections += 1;
                Some("-ERR max number of clients reached\r\n")
            } else if protected_refuses(&e, &peer) {
                e.stats.rejected_connections += 1;
                Some(PROTECTED_MSG)
            } else {
                None
            }
        };
        if let Some(msg) = refusal {
            let mut sock = sock;
            tokio::task::spawn_local(async move {
                let _ = sock.write_all(msg.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
            continue;
        }
        let id = {
            let mut e = engine.borrow_mut();
            let id = e.next_id();
            let authed = e.config.requirepass.is_none();
            let c = Client::new(id, peer.to_string(), laddr, fd, authed);
            e.clients.insert(id, Box::new(c));
            id
        };
        tokio::task::spawn_local(serve_client(engine.clone(), sock, id, BytesMut::new()));
    }
}

const PROTECTED_MSG: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

fn protected_refuses(e: &Engine, peer: &std::net::SocketAddr) -> bool {
    e.config.protected_mode
        && e.config.bind.is_empty()
        && e.config.requirepass.is_none()
        && !peer.ip().is_loopback()
}

/// The client socket operations a connection task uses: TCP or a Unix
/// domain socket (`unixsocket`).
pub trait Sock {
    fn try_write(&self, buf: &[u8]) -> std::io::Result<usize>;
    fn try_read_buf(&self, buf: &mut BytesMut) -> std::io::Result<usize>;
    async fn readable(&self) -> std::io::Result<()>;
    async fn writable(&self) -> std::io::Result<()>;
    /// Drops the read readiness (the socket was drained).
    fn clear_read_ready(&self);
}

macro_rules! impl_sock {
    ($t:ty) => {
        impl Sock for $t {
            fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
                <$t>::try_write(self, buf)
            }
            fn try_read_buf(&self, buf: &mut BytesMut) -> std::io::Result<usize> {
                <$t>::try_read_buf(self, buf)
            }
            async fn readable(&self) -> std::io::Result<()> {
                <$t>::readable(self).await
            }
            async fn writable(&self) -> std::io::Result<()> {
                <$t>::writable(self).await
            }
            fn clear_read_ready(&self) {
                let _ = self.try_io(tokio::io::Interest::READABLE, || {
                    Err::<(), _>(std::io::ErrorKind::WouldBlock.into())
                });
            }
        }
    };
}
impl_sock!(TcpStream);
impl_sock!(tokio::net::UnixStream);

/// Accepts clients on the `unixsocket` path (no protected mode: a local
/// socket is as trusted as loopback).
pub async fn accept_unix_loop(engine: Rc<RefCell<Engine>>, listener: tokio::net::UnixListener) {
    let path = listener
        .local_addr()
        .ok()
        .and_then(|a| a.as_pathname().map(|p| p.display().to_string()))
        .unwrap_or_default();
    loop {
        let sock = match listener.accept().await {
            Ok((s, _)) => s,
            Err(e) => {
                tracing::warn!("accept (unix socket): {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let fd = {
            use std::os::fd::AsRawFd;
            sock.as_raw_fd() as i64
        };
        let refused = {
            let mut e = engine.borrow_mut();
            e.stats.connections += 1;
            let full = e.clients.len() >= e.config.maxclients as usize;
            if full {
                e.stats.rejected_connections += 1;
            }
            full
        };
        if refused {
            let mut sock = sock;
            tokio::task::spawn_local(async move {
                let _ = sock
                    .write_all(b"-ERR max number of clients reached\r\n")
                    .await;
                let _ = sock.shutdown().await;
            });
            continue;
        }
        let id = {
            let mut e = engine.borrow_mut();
            let id = e.next_id();
            let authed = e.config.requirepass.is_none();
            let c = Client::new(id, format!("{path}:0"), format!("{path}:0"), fd, authed);
            e.clients.insert(id, Box::new(c));
            id
        };
        tokio::task::spawn_local(serve_client(engine.clone(), sock, id, BytesMut::new()));
    }
}

/// What a batch of request processing decided.
enum Next {
    /// Wait for more input.
    Read,
    /// Paused: wait until the pause ends, then run the pending request.
    Paused(Instant),
    /// Blocked on keys (BLPOP...): run nothing until served or timed out.
    Blocked(Option<Instant>),
    /// Write what is pending, then close.
    Close,
}

/// What woke the connection task.
enum Event {
    Readable,
    Other,
    Timer,
}

/// Output at least this big moves from the client to the connection task
/// by a swap of buffers rather than a copy.
const SWAP_OUTPUT_AT: usize = 4096;

/// The capacity a client's own output buffer returns to.
const CLIENT_OUT_CAPACITY: usize = 1024;

/// Bytes of unwritten output past which an unauthenticated client is
/// dropped, as Redis does for clients that do not read their replies.
const UNAUTH_OUTPUT_LIMIT: usize = 1024;

/// Runs one registered client's connection until it closes. `buf` holds
/// bytes already read from the socket (a primary's stream after the
/// snapshot).
pub async fn serve_client<S: Sock>(engine: Rc<RefCell<Engine>>, sock: S, id: u64, buf: BytesMut) {
    let (wake, unpause) = {
        let e = engine.borrow();
        let c = e
            .clients
            .get(&id)
            .expect("client registered before its task starts");
        (c.wake.clone(), e.unpause_notify.clone())
    };
    let mut buf = buf;
    if buf.capacity() < 16 * 1024 {
        buf.reserve(16 * 1024);
    }
    let mut decoder = RequestDecoder::new();
    let mut pending: Option<Vec<Bytes>> = None;
    // Replies not yet accepted by the socket: out[sent..]. The task keeps
    // reading requests while they wait, as Redis does, so a client that
    // pipelines without reading cannot deadlock the connection.
    let mut out: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut sent = 0usize;
    let (mut read, mut written) = (0u64, 0u64);
    let mut postponed = false;
    loop {
        let (next, idle_timeout, close_now, close_when_flushed, aof_barrier) = {
            let mut guard = engine.borrow_mut();
            let e = &mut *guard;
            let Some(mut c) = e.clients.remove(&id) else {
                break;
            };
            // Counters from the previous round, added here to borrow the engine once.
            e.stats.net_input_bytes += read;
            e.stats.net_output_bytes += written;
            if written > 0 {
                e.stats.writes_processed += 1;
            }
            c.net_in += read;
            c.net_out += written;
            (read, written) = (0, 0);
            c.out_inflight = out.len() - sent;
            if postponed {
                e.postponed_clients -= 1;
                postponed = false;
            }
            if c.blocked
                .as_ref()
                .is_some_and(|b| b.deadline.is_some_and(|d| Instant::now() >= d))
            {
                e.unblock_timed_out(&mut c);
            }
            let next = match &c.blocked {
                Some(b) => Next::Blocked(b.deadline),
                None if c.script_busy => Next::Blocked(None),
                None => process(e, &mut c, &mut buf, &mut decoder, &mut pending),
            };
            // Replies leave only after their writes are in the AOF.
            let aof_barrier = e.aof_reply_barrier();
            if matches!(next, Next::Paused(_)) {
                e.postponed_clients += 1;
                postponed = true;
            }
            // Big output changes hands without a copy; small output is
            // copied, so that the client's own buffer stays small: buffers
            // count as used memory, and a burst must not leave every client
            // holding two big ones.
            // A replica in a full sync gets its snapshot before the
            // stream that follows it.
            if !c.sync_out.is_empty() {
                out.extend_from_slice(&c.sync_out);
                c.sync_out.clear();
            }
            if !c.hold_out && c.sync_out.capacity() > 0 {
                // The sync is over: its window's buffer is not kept (it
                // would count as used memory nobody accounts for).
                c.sync_out = Vec::new();
            }
            if c.hold_out {
                // The stream waits in the client's buffer.
            } else if out.is_empty() && c.out.len() > SWAP_OUTPUT_AT {
                std::mem::swap(&mut out, &mut c.out);
                c.out.shrink_to(CLIENT_OUT_CAPACITY);
            } else {
                out.extend_from_slice(&c.out);
                c.out.clear();
                if c.out.capacity() > SWAP_OUTPUT_AT {
                    c.out.shrink_to(CLIENT_OUT_CAPACITY);
                }
            }
            let unwritten = out.len() - sent;
            if unwritten > UNAUTH_OUTPUT_LIMIT && e.config.requirepass.is_some() && !c.authenticated
            {
                tracing::debug!(
                    "closing unauthenticated client {} over its output limit",
                    c.addr
                );
                c.close_asap = true;
            }
            if buf.len() > e.config.client_query_buffer_limit {
                e.stats.client_qbuf_limit_disconnections += 1;
                tracing::warn!(
                    "closing client {} that reached max query buffer length",
                    c.addr
                );
                c.close_asap = true;
            }
            c.out_inflight = unwritten;
            c.out_alloc = out.capacity();
            let close_now = c.close_asap || matches!(next, Next::Close) && !c.close_after_reply;
            let close_when_flushed = c.close_after_reply || matches!(next, Next::Close);
            let timeout =
                (e.config.timeout > 0 && c.subscriptions == 0 && !c.monitor && c.blocked.is_none())
                    .then(|| Duration::from_secs(e.config.timeout));
            e.clients.insert(id, c);
            if e.shutdown.is_some() {
                e.shutdown_notify.notify_one();
            }
            (next, timeout, close_now, close_when_flushed, aof_barrier)
        };
        if let Some(target) = aof_barrier {
            // Group commit: let the other ready connections run their
            // batches; the first to resume fsyncs for all.
            tokio::task::yield_now().await;
            engine.borrow_mut().aof_sync_upto(target);
        }
        // Write what the socket takes now, without waiting.
        while sent < out.len() {
            match sock.try_write(&out[sent..]) {
                Ok(n) => {
                    sent += n;
                    written += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    close_client(&engine, id);
                    return;
                }
            }
        }
        if sent == out.len() {
            out.clear();
            sent = 0;
            // A flushed buffer goes back to its usual size: buffers count
            // as used memory, and a burst (a big reply, invalidations)
            // must not keep holding it.
            if out.capacity() > 16 * 1024 {
                out.shrink_to(16 * 1024);
                if let Ok(mut e) = engine.try_borrow_mut() {
                    if let Some(c) = e.clients.get_mut(&id) {
                        c.out_alloc = out.capacity();
                    }
                }
            }
        }
        if close_now || (close_when_flushed && out.is_empty()) {
            // At shutdown the socket closes with the server, after its
            // listeners: a client that sees it close cannot connect again.
            if engine.borrow().shutdown.is_some() {
                std::future::pending::<()>().await;
            }
            break;
        }
        let want_write = sent < out.len();
        let (deadline, paused) = match next {
            Next::Paused(until) => (Some(until), true),
            Next::Blocked(d) => (d, false),
            _ => (idle_timeout.map(|t| Instant::now() + t), false),
        };
        if buf.capacity() - buf.len() < 4096 {
            let hint = decoder.bytes_hint().clamp(16 * 1024, 64 * 1024 * 1024);
            buf.reserve(hint);
        }
        let reading = !close_when_flushed;
        let ev = match deadline {
            // Most rounds have no deadline: no timer to arm.
            None => tokio::select! {
                r = sock.readable(), if reading => r.map_or(Event::Other, |_| Event::Readable),
                _ = sock.writable(), if want_write => Event::Other,
                _ = wake.notified() => Event::Other,
                _ = unpause.notified(), if paused => Event::Other,
            },
            Some(d) => tokio::select! {
                r = sock.readable(), if reading => r.map_or(Event::Other, |_| Event::Readable),
                _ = sock.writable(), if want_write => Event::Other,
                _ = wake.notified() => Event::Other,
                _ = unpause.notified(), if paused => Event::Other,
                _ = tokio::time::sleep_until(d.into()) => Event::Timer,
            },
        };
        match ev {
            Event::Readable => match sock.try_read_buf(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    read += n as u64;
                    // A read that left room in the buffer drained the
                    // socket (epoll): drop the readiness now, as tokio's own
                    // poll_read does, instead of learning it from one more
                    // recv() that fails with EAGAIN after every request.
                    // Data arriving meanwhile raises a new epoll event.
                    if buf.len() < buf.capacity() {
                        sock.clear_read_ready();
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => break,
            },
            Event::Timer if matches!(next, Next::Read) && idle_timeout.is_some() => {
                tracing::debug!("closing idle client {id}");
                break;
            }
            _ => {}
        }
    }
    if postponed {
        engine.borrow_mut().postponed_clients -= 1;
    }
    close_client(&engine, id);
}

/// Forgets a client whose connection ended.
fn close_client(engine: &Rc<RefCell<Engine>>, id: u64) {
    let mut guard = engine.borrow_mut();
    let e = &mut *guard;
    // The task's buffers are freed as it returns, before the engine runs again.
    e.evict.client_closed(id);
    if let Some(mut c) = e.clients.remove(&id) {
        e.client_gone(&mut c);
    }
}

/// Runs every complete request in `buf`.
fn process(
    e: &mut Engine,
    c: &mut Client,
    buf: &mut BytesMut,
    decoder: &mut RequestDecoder,
    pending: &mut Option<Vec<Bytes>>,
) -> Next {
    // As Redis, the query buffer holds the whole batch while its commands
    // run: CLIENT LIST shows qbuf=26 for a lone `CLIENT LIST`.
    c.qbuf = buf.len();
    c.qbuf_free = buf.capacity() - buf.len();
    let limits = Limits {
        proto_max_bulk_len: e.config.proto_max_bulk_len,
        max_multibulk_len: 1024 * 1024,
        authenticated: c.authenticated,
    };
    if !buf.is_empty() {
        e.stats.reads_processed += 1;
        c.last_interaction = Instant::now();
    }
    loop {
        if c.close_asap || c.close_after_reply {
            return Next::Close;
        }
        let args = match pending.take() {
            Some(a) => a,
            None => match decoder.decode(buf, &limits) {
                Ok(Some(a)) => a,
                Ok(None) => break,
                Err(err) => {
                    let msg = format!("ERR {err}");
                    c.reply().error(&msg);
                    e.count_error(&msg);
                    tracing::debug!("protocol error from client {}: {err}", c.addr);
                    return Next::Close;
                }
            },
        };
        if args.is_empty() {
            continue;
        }
        if let Some(until) = paused_for(e, c, &args).or_else(|| e.snapshot_delay(c, &args)) {
            *pending = Some(args);
            return Next::Paused(until);
        }
        c.commands += 1;
        if c.kind == ClientKind::Primary {
            e.execute_from_primary(c, args);
        } else {
            dispatch::execute(e, c, args);
        }
        if e.shutdown.is_some() {
            return Next::Close;
        }
        if let Some(b) = &c.blocked {
            return Next::Blocked(b.deadline);
        }
        if c.script_busy {
            return Next::Blocked(None);
        }
    }
    c.qbuf = buf.len() + decoder.pending_bytes();
    c.qbuf_free = buf.capacity() - buf.len();
    Next::Read
}

/// When CLIENT PAUSE holds this request back, until when.
fn paused_for(e: &mut Engine, c: &Client, args: &[Bytes]) -> Option<Instant> {
    let now = Instant::now();
    // FAILOVER pauses writes until it ends (apart from CLIENT PAUSE).
    let p = match e.pause {
        Some(p) => p,
        None if e.repl.failover.is_some() => super::Pause {
            until: now + Duration::from_millis(50),
            all: false,
        },
        None => return None,
    };
    if now >= p.until {
        e.pause = None;
        e.unpause_notify.notify_waiters();
        return None;
    }
    if c.kind != ClientKind::Normal {
        return None;
    }
    let idx = e.commands.resolve(args).ok()?;
    let spec = e.commands.rows[idx].spec;
    let in_multi_exec = c.multi.is_some() && spec.name == "exec";
    let blocks = p.all
        || spec.has(flags::WRITE)
        || spec.has(flags::MAY_REPLICATE)
        || (in_multi_exec
            && c.multi.as_ref().is_some_and(|q| {
                q.iter().any(|(i, _)| {
                    let s = e.commands.rows[*i].spec;
                    s.has(flags::WRITE) || s.has(flags::MAY_REPLICATE)
                })
            }));
    blocks.then_some(p.until)
}
