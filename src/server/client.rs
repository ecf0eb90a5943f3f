//! One client's state: selected database, protocol, output, transaction.

use bytes::Bytes;
use std::rc::Rc;
use std::time::Instant;
use tokio::sync::Notify;

use crate::protocol::encode::{Out, Proto};

/// CLIENT REPLY modes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReplyMode {
    On,
    Off,
    /// SKIP was just called: the SKIP command's own reply is dropped... as Redis
    /// does, the skip applies to the next command.
    SkipNext,
    Skip,
    /// SYNC/PSYNC just sent the snapshot: this command's output stays, the
    /// replica's later commands get no replies.
    ReplicaStarting,
}

/// What kind of peer this is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ClientKind {
    Normal,
    Replica,
    Primary,
    PubSub,
}

/// A client connection (or an in-process caller).
pub struct Client {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub fd: i64,
    pub name: Option<Bytes>,
    pub db: usize,
    pub proto: Proto,
    /// Replies not yet written to the socket.
    pub out: Vec<u8>,
    pub authenticated: bool,
    pub user: String,
    pub reply_mode: ReplyMode,
    pub kind: ClientKind,
    /// Queued commands while in MULTI: (table row, arguments).
    pub multi: Option<Vec<(usize, Vec<Bytes>)>>,
    /// A command failed to queue: EXEC must abort.
    pub multi_error: bool,
    /// A watched key was touched: EXEC must fail.
    pub dirty_cas: bool,
    pub watched: Vec<(usize, Bytes)>,
    pub monitor: bool,
    pub no_evict: bool,
    pub created: Instant,
    pub last_interaction: Instant,
    /// Since when a forkless save has held this client's write back.
    pub snapshot_delayed: Option<Instant>,
    /// Row of the last command run (for CLIENT LIST's cmd=).
    pub last_cmd: usize,
    pub cmd_index: Option<usize>,
    /// Close once pending output is written (QUIT, protocol error).
    pub close_after_reply: bool,
    /// Close now (CLIENT KILL, output limits).
    pub close_asap: bool,
    /// Wakes the connection task when someone else gives it output or kills it.
    pub wake: Rc<Notify>,
    /// Bytes in the query buffer (for CLIENT LIST).
    pub qbuf: usize,
    /// Unused capacity of the query buffer (CLIENT LIST qbuf-free).
    pub qbuf_free: usize,
    /// Channels + patterns + shard channels subscribed to (`pubsub.total()`).
    pub subscriptions: usize,
    pub pubsub: super::pubsub::ClientSubs,
    /// Push frames this command appended to `out` (start, end): CLIENT
    /// REPLY OFF/SKIP drops the command's replies but keeps these.
    pub push_spans: Vec<(usize, usize)>,
    /// Output taken from `out` that the socket has not accepted yet.
    pub out_inflight: usize,
    /// Capacity of the connection task's own output buffer (memory
    /// accounting: client buffers count as used memory).
    pub out_alloc: usize,
    /// Since when the output has been over the soft limit.
    pub obuf_soft_since: Option<Instant>,
    /// Total bytes written to this client (CLIENT LIST tot-net-out).
    pub net_out: u64,
    pub net_in: u64,
    pub commands: u64,
    /// Set while blocked on keys (BLPOP...).
    pub blocked: Option<super::blocking::Blocked>,
    /// Blocking commands must not block (inside EXEC): they time out at once.
    pub deny_blocking: bool,
    /// While a blocked command runs again because its key is ready: the
    /// deadline it blocked with, kept if it blocks again (XREAD).
    pub reblock_deadline: Option<Option<Instant>>,
    /// CLIENT TRACKING state.
    pub tracking: super::tracking::ClientTracking,
    /// The client Lua scripts run their commands on.
    pub script: bool,
    /// This client's script is busy (suspended past busy-reply-threshold):
    /// its connection runs nothing more until the script ends.
    pub script_busy: bool,
    /// A replica in a full sync: `out` (the stream since the snapshot) is
    /// held back while `sync_out` (the sync reply and the snapshot) goes
    /// out first.
    pub hold_out: bool,
    pub sync_out: Vec<u8>,
}

impl Client {
    pub fn new(id: u64, addr: String, laddr: String, fd: i64, authenticated: bool) -> Client {
        let now = Instant::now();
        Client {
            id,
            addr,
            laddr,
            fd,
            name: None,
            db: 0,
            proto: Proto::Resp2,
            out: Vec::with_capacity(1024),
            authenticated,
            user: "default".to_string(),
            reply_mode: ReplyMode::On,
            kind: ClientKind::Normal,
            multi: None,
            multi_error: false,
            dirty_cas: false,
            watched: Vec::new(),
            monitor: false,
            no_evict: false,
            created: now,
            last_interaction: now,
            snapshot_delayed: None,
            last_cmd: 0,
            cmd_index: None,
            close_after_reply: false,
            close_asap: false,
            wake: Rc::new(Notify::new()),
            qbuf: 0,
            qbuf_free: 0,
            subscriptions: 0,
            pubsub: Default::default(),
            push_spans: Vec::new(),
            out_inflight: 0,
            out_alloc: 0,
            obuf_soft_since: None,
            net_out: 0,
            net_in: 0,
            commands: 0,
            blocked: None,
            deny_blocking: false,
            reblock_deadline: None,
            tracking: Default::default(),
            script: false,
            script_busy: false,
            hold_out: false,
            sync_out: Vec::new(),
        }
    }

    /// The reply writer for this client's protocol.
    #[inline]
    pub fn reply(&mut self) -> Out<'_> {
        Out {
            buf: &mut self.out,
            proto: self.proto,
        }
    }

    pub fn queue(&mut self, idx: usize, args: Vec<Bytes>) {
        if let Some(q) = &mut self.multi {
            q.push((idx, args));
        }
    }

    /// Redis's islocalClient: connected over loopback (the in-process
    /// caller counts as local).
    pub fn is_local(&self) -> bool {
        if self.fd < 0 {
            return true;
        }
        match self.addr.parse::<std::net::SocketAddr>() {
            Ok(a) => matches!(a.ip().to_string().as_str(), "127.0.0.1" | "::1"),
            Err(_) => false,
        }
    }

    /// RESP2 clients with subscriptions may only run the pub/sub commands.
    pub fn in_resp2_pubsub(&self) -> bool {
        self.subscriptions > 0 && self.proto == Proto::Resp2
    }
}
