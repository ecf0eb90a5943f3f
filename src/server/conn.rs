//! Accepting connections and serving one client: read, parse, run, write.
//!
//! A connection task reads what the socket has, runs every complete request
//! in the buffer while holding the engine, then writes all the replies with
//! one write: pipelined clients cost one syscall per batch, not per command.

use bytes::{Bytes, BytesMut};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::client::Client;
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
        tokio::task::spawn_local(serve_client(engine.clone(), sock, id));
    }
}

const PROTECTED_MSG: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

fn protected_refuses(e: &Engine, peer: &std::net::SocketAddr) -> bool {
    e.config.protected_mode
        && e.config.bind.is_empty()
        && e.config.requirepass.is_none()
        && !peer.ip().is_loopback()
}

/// What a batch of request processing decided.
enum Next {
    /// Wait for more input.
    Read,
    /// Paused: wait until the pause ends, then run the pending request.
    Paused(Instant),
    /// Write what is pending, then close.
    Close,
}

async fn serve_client(engine: Rc<RefCell<Engine>>, sock: TcpStream, id: u64) {
    let (mut rd, mut wr) = sock.into_split();
    let (wake, unpause) = {
        let e = engine.borrow();
        let c = e
            .clients
            .get(&id)
            .expect("client registered before its task starts");
        (c.wake.clone(), e.unpause_notify.clone())
    };
    let mut buf = BytesMut::with_capacity(16 * 1024);
    let mut decoder = RequestDecoder::new();
    let mut pending: Option<Vec<Bytes>> = None;
    let mut out: Vec<u8> = Vec::with_capacity(16 * 1024);
    let (mut read, mut written) = (0u64, 0u64);
    let mut idle: Option<(bool, Option<Duration>)>;
    'conn: loop {
        let next = {
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
            let next = process(e, &mut c, &mut buf, &mut decoder, &mut pending);
            std::mem::swap(&mut out, &mut c.out);
            c.out_inflight = out.len();
            let closing = c.close_asap;
            let close_after = c.close_after_reply && c.out.is_empty();
            let timeout = (e.config.timeout > 0 && c.subscriptions == 0 && !c.monitor)
                .then(|| Duration::from_secs(e.config.timeout));
            idle = Some((closing || close_after, timeout));
            e.clients.insert(id, c);
            if e.shutdown.is_some() {
                e.shutdown_notify.notify_one();
            }
            if closing {
                Next::Close
            } else {
                next
            }
        };
        let (close_now, idle_timeout) = idle.take().unwrap_or((false, None));
        if !out.is_empty() {
            // A subscriber that does not read blocks this write while
            // publishers keep filling its buffer: listen for the wake-up
            // that marks it over its output limit, and close then.
            let (mut pos, mut woken) = (0, false);
            while pos < out.len() {
                tokio::select! {
                    r = wr.write(&out[pos..]) => match r {
                        Ok(0) | Err(_) => break 'conn,
                        Ok(n) => pos += n,
                    },
                    _ = wake.notified() => {
                        let e = engine.borrow();
                        if e.clients.get(&id).is_none_or(|c| c.close_asap) {
                            break 'conn;
                        }
                        woken = true;
                    }
                }
            }
            if woken {
                // Keep the wake-up for the read below: there is new output.
                wake.notify_one();
            }
            if let Some(c) = engine.borrow_mut().clients.get_mut(&id) {
                c.out_inflight = 0;
            }
            written += out.len() as u64;
            out.clear();
            if out.capacity() > 1024 * 1024 {
                out.shrink_to(16 * 1024);
            }
        }
        if close_now {
            break;
        }
        match next {
            Next::Close => break,
            Next::Paused(until) => {
                engine.borrow_mut().postponed_clients += 1;
                tokio::select! {
                    _ = unpause.notified() => {}
                    _ = tokio::time::sleep_until(until.into()) => {}
                    _ = wake.notified() => {}
                }
                engine.borrow_mut().postponed_clients -= 1;
            }
            Next::Read => {
                if buf.capacity() - buf.len() < 4096 {
                    let hint = decoder.bytes_hint().clamp(16 * 1024, 64 * 1024 * 1024);
                    buf.reserve(hint);
                }
                let got = match idle_timeout {
                    // Most clients have no idle timeout: no timer to arm per read.
                    None => tokio::select! {
                        r = rd.read_buf(&mut buf) => Some(r),
                        _ = wake.notified() => None,
                    },
                    Some(t) => tokio::select! {
                        r = rd.read_buf(&mut buf) => Some(r),
                        _ = wake.notified() => None,
                        _ = tokio::time::sleep(t) => {
                            tracing::debug!("closing idle client {id}");
                            break;
                        }
                    },
                };
                match got {
                    Some(Ok(0)) | Some(Err(_)) => break,
                    Some(Ok(n)) => read += n as u64,
                    None => {}
                }
            }
        }
    }
    let mut guard = engine.borrow_mut();
    let e = &mut *guard;
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
        if let Some(until) = paused_for(e, c, &args) {
            *pending = Some(args);
            return Next::Paused(until);
        }
        c.commands += 1;
        dispatch::execute(e, c, args);
        if e.shutdown.is_some() {
            return Next::Close;
        }
    }
    if buf.len() > e.config.client_query_buffer_limit {
        e.stats.client_qbuf_limit_disconnections += 1;
        tracing::warn!(
            "closing client {} that reached max query buffer length",
            c.addr
        );
        return Next::Close;
    }
    c.qbuf = buf.len();
    c.qbuf_free = buf.capacity() - buf.len();
    Next::Read
}

/// When CLIENT PAUSE holds this request back, until when.
fn paused_for(e: &mut Engine, c: &Client, args: &[Bytes]) -> Option<Instant> {
    let p = e.pause?;
    let now = Instant::now();
    if now >= p.until {
        e.pause = None;
        e.unpause_notify.notify_waiters();
        return None;
    }
    if c.kind != super::client::ClientKind::Normal {
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
