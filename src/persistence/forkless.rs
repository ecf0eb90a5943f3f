//! The forkless snapshot: a point-in-time RDB image written by the engine
//! thread itself, a little at a time, while it keeps serving.
//!
//! # Overview
//!
//! A cut at version `V` gives every database a [`DbCut`] kept beside its
//! table. The walk ([`Forkless::step`], run between commands in steps of
//! bounded time, [`UNIT_BYTES`] at a time) serializes every segment whose
//! version is below `V` and stamps it `V`. A write that reaches an entry of
//! a segment below `V` serializes that entry first and marks it (a bit in
//! the entry, trusted only in a segment whose `early` stamp is `V`, so marks
//! left by a cancelled cut never count); entries created during the cut are
//! marked too, and the walk skips marked entries. Serializing the single
//! entry rather than its whole segment keeps a write's extra cost to its own
//! value. Encoded bytes go to a writer thread ([`Writer`]) through a
//! channel whose content is counted (a string value LZF would be tried on
//! goes as its bytes, and the writer encodes it: LZF was most of the engine
//! thread's cost per saved byte, see [`Chunk`]): above the high-water mark the walk
//! stops producing and the engine delays write commands (the dispatcher's
//! part, see `server::snapshot`) until the writer drains it.
//!
//! Values with more than [`BIG_ELEMS`] elements in a non-compact encoding are
//! not encoded at once: the segment's walk leaves a [`BigJob`] for each, and
//! the walk encodes it [`CHUNK_ELEMS`] elements per step. Until its job is
//! done the key is *pinned*: a write command that names it waits (the
//! dispatcher checks [`Keyspace::pinned`](crate::keyspace::Keyspace)), and a
//! mutation that reaches it anyway (a script, expiry, eviction) finishes the
//! job first. Chunking the encoding rather than cloning the value keeps both
//! the step time and the memory bounded: a clone of a million-element zset
//! costs as much time as encoding it, and its size again in memory.
//!
//! # Consistency
//!
//! Serialize-before-write: every mutation of a database's table passes
//! through a `Db` method (`keyspace/mod.rs`), which first serializes the
//! entry it touches when its segment is below `V` and the entry is not
//! marked, and marks what it inserts. A split keeps the version and the
//! `early` stamp of the segment it splits (and entries keep their marks), so
//! both halves stay on the right side of the line. FLUSHDB/FLUSHALL hand the old table (with its `DbCut`) to
//! the walk instead of freeing it, SWAPDB swaps the cuts with the tables
//! (each cut writes under the database number it had at the start), and a
//! keyspace replaced as a whole (DEBUG RELOAD, a replica's full sync) is
//! retired the same way. A segment written by a write hook and one written by
//! the walk go to the stream in any order: each run of entries is preceded by
//! its SELECTDB, which the RDB format allows anywhere between keys. While a
//! big value's chunks flow, nothing else enters the stream.
//!
//! # Crash safety
//!
//! The writer thread writes `temp-<pid>-forkless.rdb` ([`file::temp_file`],
//! which the second-SIGINT exit removes too), and only a complete file is
//! fsynced and renamed over the dump ([`file::commit_temp`]).
//!
//! # Cancellation
//!
//! [`Forkless::cancel`] (BGSAVE CANCEL, FLUSHALL, SHUTDOWN) drops the cut
//! state and tells the writer to stop; the writer removes its temp file.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Instant;

use super::file::{self, SaveError, Target};
use super::rdb::{self, encode, opcode, SaveOptions};
use crate::keyspace::table::Table;
use crate::keyspace::{Deadline, Entry, Keyspace, SBytes, Value};

/// A value with more elements than this (in a non-compact encoding) is
/// encoded in chunks.
pub const BIG_ELEMS: usize = 4096;
/// Bytes the walk serializes per unit of work (a unit is never split, so
/// this bounds a step's overrun of its time budget).
pub const UNIT_BYTES: usize = 32 << 10;
/// Elements a big value's job encodes per chunk.
pub const CHUNK_ELEMS: usize = 1024;
/// A string longer than this is copied in chunks, [`STRING_CHUNK`] bytes
/// at a time (a 512 MB value copied at once would hold the engine for tens
/// of milliseconds).
pub const BIG_STRING: usize = 1 << 20;
/// Bytes of a big string a job copies per chunk.
pub const STRING_CHUNK: usize = 256 << 10;

/// A database's part of a running cut. It travels with its table: SWAPDB
/// swaps it, FLUSHDB retires it with the old table.
pub struct DbCut {
    pub version: u64,
    /// The database this table was at the cut's start (its SELECTDB).
    pub tag: usize,
    opts: Arc<SaveOptions>,
    /// The next segment the walk looks at.
    cursor: usize,
    /// Whole entries encoded and not yet sent to the writer.
    pub out: Vec<u8>,
    /// Ranges of `out` holding a string value's bytes as they are, which the
    /// writer thread encodes (LZF) in their place: see [`Chunk`].
    deferred: Vec<(usize, usize)>,
    /// Big values waiting for, or in, their chunked encoding.
    jobs: VecDeque<BigJob>,
    /// Keys and segments serialized (INFO progress).
    pub keys: u64,
    pub segments: u64,
    /// Memory of the entries serialized ahead of the walk because a write
    /// came first: the forkless counterpart of a fork's copy-on-write (INFO
    /// `current_cow_size`).
    pub early_bytes: u64,
}

/// A big value being encoded in chunks; its key is pinned until it is done.
pub struct BigJob {
    key: SBytes,
    expire: Option<i64>,
    /// Nodes (list), table segments (set, hash) or members (zset) done.
    pos: usize,
    started: bool,
    done: bool,
    /// Encoded bytes not yet sent (SELECTDB, the key's head, chunks).
    buf: Vec<u8>,
    /// Some of its bytes are in the stream: nothing else may enter it
    /// until the rest has followed.
    open: bool,
    /// A big string the writer compresses: `buf` from this offset on, and
    /// the job's later chunks, are its bytes as they are, this many in all
    /// (see [`Chunk::string`]). Taken when the first chunk is sent.
    lzf_from: Option<(usize, usize)>,
}

/// A table that left the keyspace during a cut (FLUSHDB, SWAPDB's
/// partner replaced, DEBUG RELOAD) but still has segments to serialize.
pub struct Retired {
    pub table: Table<Box<Entry>>,
    pub expires: Table<Deadline>,
    pub cut: Box<DbCut>,
}

impl DbCut {
    pub fn new(version: u64, tag: usize, opts: Arc<SaveOptions>) -> Box<DbCut> {
        Box::new(DbCut {
            version,
            tag,
            opts,
            cursor: 0,
            out: Vec::new(),
            deferred: Vec::new(),
            jobs: VecDeque::new(),
            keys: 0,
            segments: 0,
            early_bytes: 0,
        })
    }

    /// True when `key` is a big value whose encoding has not finished.
    pub fn pinned(&self, key: &[u8]) -> bool {
        self.jobs.iter().any(|j| !j.done && j.key.as_bytes() == key)
    }

    pub fn has_jobs(&self) -> bool {
        !self.jobs.is_empty()
    }

    /// Every segment is serialized and every job sent.
    fn complete(&self, table: &Table<Box<Entry>>) -> bool {
        self.cursor >= table.segment_count() && self.jobs.is_empty() && self.out.is_empty()
    }
}

fn select_db(out: &mut Vec<u8>, db: usize) {
    out.push(opcode::SELECTDB);
    encode::len(out, db as u64);
}

/// A string value's bytes (not an `int`-encoded one).
fn plain_bytes(v: &Value) -> Option<&[u8]> {
    match v {
        Value::Str(s) => Some(s.as_bytes()),
        Value::Raw(v) => Some(v.as_slice()),
        _ => None,
    }
}

/// Whether a value is encoded in chunks.
fn is_big(v: &crate::keyspace::Value) -> bool {
    if let Some(b) = plain_bytes(v) {
        return b.len() > BIG_STRING;
    }
    if let Some(l) = v.as_list() {
        return l.len() > BIG_ELEMS && l.node_count() > 1;
    }
    if let Some(s) = v.as_set() {
        return s.as_table().is_some() && s.len() > BIG_ELEMS;
    }
    if let Some(h) = v.as_hash() {
        return h.as_table().is_some() && h.len() > BIG_ELEMS;
    }
    if let Some(z) = v.as_zset() {
        return z.listpack_bytes().is_none() && z.len() > BIG_ELEMS;
    }
    false
}

/// Serialize-before-write: called by every mutation of `key` in a table
/// under a cut. Serializes the key's segment when the cut has not, and
/// finishes the key's chunked encoding when it is pinned.
pub fn before_write(
    table: &mut Table<Box<Entry>>,
    expires: &Table<Deadline>,
    cut: &mut DbCut,
    key: &[u8],
) {
    precut(table, expires, cut, key);
    if let Some(j) = cut
        .jobs
        .iter_mut()
        .find(|j| !j.done && j.key.as_bytes() == key)
    {
        if let Some(e) = table.get(key) {
            let before = j.buf.len();
            while !job_step(j, e, &cut.opts, usize::MAX, cut.tag) {}
            cut.early_bytes += (j.buf.len() - before) as u64;
        }
        j.done = true;
    }
}

/// Serializes `key`'s entry if the cut needs it and has not (a big value
/// becomes a job), and marks it so that the walk skips it.
pub fn precut(
    table: &mut Table<Box<Entry>>,
    expires: &Table<Deadline>,
    cut: &mut DbCut,
    key: &[u8],
) {
    let i = table.segment_of(key);
    if table.version_at(i) >= cut.version {
        return;
    }
    ensure_marks(table, i, cut.version);
    let Some(e) = table.get(key) else {
        return;
    };
    if e.is_early() {
        return;
    }
    // What a fork would have copied: the entry's own memory (its encoding
    // may be far smaller, compressed).
    cut.early_bytes += (e.key.len() + e.value.heap_size()) as u64;
    serialize_entry(e, expires, cut);
    if let Some(e) = table.get_mut_in(i, key) {
        e.set_early(true);
    }
}

/// A key inserted during the cut into a segment the walk has not reached:
/// it is not part of the image.
pub fn after_insert(table: &mut Table<Box<Entry>>, cut: &DbCut, key: &[u8]) {
    let i = table.segment_of(key);
    if table.version_at(i) < cut.version {
        ensure_marks(table, i, cut.version);
        if let Some(e) = table.get_mut_in(i, key) {
            e.set_early(true);
        }
    }
}

/// Makes segment `i`'s entry marks belong to this cut (marks left by an
/// earlier or cancelled cut are cleared first).
fn ensure_marks(table: &mut Table<Box<Entry>>, i: usize, version: u64) {
    if table.early_at(i) != version {
        table.set_early(i, version, |e| e.set_early(false));
    }
}

/// Appends one entry (or queues its job) to the cut's output.
fn serialize_entry(e: &Entry, expires: &Table<Deadline>, cut: &mut DbCut) {
    let expire = if e.has_ttl() {
        expires.get(e.key.as_bytes()).map(|d| d.at)
    } else {
        None
    };
    if is_big(&e.value) {
        cut.jobs.push_back(BigJob {
            key: e.key.clone(),
            expire,
            pos: 0,
            started: false,
            done: false,
            buf: Vec::new(),
            open: false,
            lzf_from: None,
        });
    } else {
        // Whatever `out` holds is sent whole: it starts with its SELECTDB.
        if cut.out.is_empty() {
            select_db(&mut cut.out, cut.tag);
        }
        rdb::entry_head(&mut cut.out, e, expire, &cut.opts);
        match plain_bytes(&e.value) {
            // LZF is most of a save's CPU: a string value long enough to
            // be tried is copied as it is and compressed on the writer's
            // thread, off the engine's.
            Some(b) if cut.opts.compress && b.len() > encode::LZF_MIN => {
                let start = cut.out.len();
                cut.out.extend_from_slice(b);
                cut.deferred.push((start, cut.out.len()));
            }
            _ => encode::body(&mut cut.out, &e.value, cut.opts.compress),
        }
    }
    cut.keys += 1;
}

/// Serializes up to about `budget` bytes of segment `i`'s entries that
/// the cut still needs, marking them; stamps the segment once none is
/// left. Returns the keys serialized and whether the segment is done.
fn cut_segment_part(
    table: &mut Table<Box<Entry>>,
    expires: &Table<Deadline>,
    cut: &mut DbCut,
    i: usize,
    budget: usize,
) -> (u64, bool) {
    ensure_marks(table, i, cut.version);
    let (keys, start) = (cut.keys, cut.out.len() + cut.jobs.len());
    let mut complete = true;
    for e in table.segment_entries_mut(i) {
        if e.is_early() {
            continue;
        }
        if cut.out.len() + cut.jobs.len() - start >= budget {
            complete = false;
            break;
        }
        serialize_entry(e, expires, cut);
        e.set_early(true);
    }
    if complete {
        table.stamp(i, cut.version);
        cut.segments += 1;
    }
    (cut.keys - keys, complete)
}

/// Encodes up to `budget` elements of a job's value into its buffer; true
/// when the value is complete.
fn job_step(j: &mut BigJob, e: &Entry, opts: &SaveOptions, budget: usize, tag: usize) -> bool {
    let c = opts.compress;
    let v = &e.value;
    let out = &mut j.buf;
    if let Some(b) = plain_bytes(v) {
        if !j.started {
            j.started = true;
            select_db(out, tag);
            rdb::entry_head(out, e, j.expire, opts);
            if c {
                // The writer compresses it whole (LZF needs all of it).
                j.lzf_from = Some((out.len(), b.len()));
            } else {
                // Longer than any int-encodable string: plain length and bytes.
                encode::len(out, b.len() as u64);
            }
        }
        let mut left = budget.saturating_mul(STRING_CHUNK / CHUNK_ELEMS);
        while j.pos < b.len() {
            if left == 0 {
                return false;
            }
            let end = b.len().min(j.pos + STRING_CHUNK.min(left));
            out.extend_from_slice(&b[j.pos..end]);
            left = left.saturating_sub(end - j.pos);
            j.pos = end;
        }
        j.done = true;
        return true;
    }
    if !j.started {
        j.started = true;
        select_db(out, tag);
        rdb::entry_head(out, e, j.expire, opts);
        let n = if let Some(l) = v.as_list() {
            l.node_count()
        } else if let Some(s) = v.as_set() {
            s.len()
        } else if let Some(h) = v.as_hash() {
            h.len()
        } else if let Some(z) = v.as_zset() {
            z.len()
        } else {
            0
        };
        encode::len(out, n as u64);
    }
    let mut left = budget;
    if let Some(l) = v.as_list() {
        for (plain, bytes) in l.nodes().skip(j.pos) {
            if left == 0 {
                return false;
            }
            encode::len(out, if plain { 1 } else { 2 });
            encode::string(out, bytes, c);
            j.pos += 1;
            // A node holds up to a few hundred elements: count it as 128.
            left = left.saturating_sub(128);
        }
    } else if let Some(t) = v.as_set().and_then(|s| s.as_table()) {
        // Positions in the dict's entry vector: reads may step its rehash
        // meanwhile, which relinks chains but never moves an entry.
        let members = t.as_slice();
        while j.pos < members.len() {
            if left == 0 {
                return false;
            }
            let end = members.len().min(j.pos + CHUNK_ELEMS.min(left));
            for m in &members[j.pos..end] {
                encode::string(out, m.0.as_bytes(), c);
            }
            left = left.saturating_sub(end - j.pos);
            j.pos = end;
        }
    } else if let Some(t) = v.as_hash().and_then(|h| h.as_table()) {
        while j.pos < t.segment_count() {
            if left == 0 {
                return false;
            }
            for f in t.segment_entries(j.pos) {
                encode::string(out, f.name.as_bytes(), c);
                encode::string(out, f.value.as_bytes(), c);
            }
            left = left.saturating_sub(t.segment_len(j.pos).max(1));
            j.pos += 1;
        }
    } else if let Some(z) = v.as_zset() {
        let n = z.len();
        while j.pos < n {
            if left == 0 {
                return false;
            }
            // Highest first, as the one-shot encoder writes it.
            let hi = n - j.pos;
            let lo = hi.saturating_sub(CHUNK_ELEMS.min(left));
            z.visit(lo, hi, true, |m, score| {
                encode::string(out, m, c);
                out.extend_from_slice(&score.to_le_bytes());
            });
            left = left.saturating_sub(hi - lo);
            j.pos += hi - lo;
        }
    }
    j.done = true;
    true
}

/// Bytes for the file, but for `deferred`: ranges of `bytes` that hold a
/// string value's bytes as they are, to be replaced by their RDB string
/// encoding ([`encode::string`], LZF when it saves) by the writer thread.
struct Chunk {
    bytes: Vec<u8>,
    deferred: Vec<(usize, usize)>,
    /// `bytes[from..]` begin a big string of `len` bytes that continues in
    /// the chunks that follow (its job's, nothing else enters the stream
    /// meanwhile): the writer gathers it and writes its encoding whole.
    string: Option<(usize, usize)>,
}

/// A big string the writer is gathering ([`Chunk::string`]).
struct Gathering {
    bytes: Vec<u8>,
    len: usize,
}

/// Writes one chunk, gathering a big string's bytes across chunks.
fn write_chunk<W: std::io::Write>(
    w: &mut rdb::RdbWriter<W>,
    c: &Chunk,
    scratch: &mut Vec<u8>,
    gathering: &mut Option<Gathering>,
) -> std::io::Result<()> {
    let mut rest: &[u8] = &c.bytes;
    if gathering.is_none() {
        let Some((from, len)) = c.string else {
            return w.raw(c.encoded(scratch));
        };
        w.raw(&c.bytes[..from])?;
        rest = &c.bytes[from..];
        *gathering = Some(Gathering {
            bytes: Vec::with_capacity(len),
            len,
        });
    }
    let g = gathering.as_mut().expect("set above");
    let take = (g.len - g.bytes.len()).min(rest.len());
    g.bytes.extend_from_slice(&rest[..take]);
    rest = &rest[take..];
    if g.bytes.len() == g.len {
        let g = gathering.take().expect("checked");
        scratch.clear();
        encode::string(scratch, &g.bytes, true);
        w.raw(scratch)?;
    }
    if rest.is_empty() {
        Ok(())
    } else {
        w.raw(rest)
    }
}

impl Chunk {
    /// The chunk as the file holds it, in `out` (cleared first), or the
    /// bytes themselves when nothing is deferred.
    fn encoded<'a>(&'a self, out: &'a mut Vec<u8>) -> &'a [u8] {
        if self.deferred.is_empty() {
            return &self.bytes;
        }
        out.clear();
        let mut pos = 0;
        for &(start, end) in &self.deferred {
            out.extend_from_slice(&self.bytes[pos..start]);
            encode::string(out, &self.bytes[start..end], true);
            pos = end;
        }
        out.extend_from_slice(&self.bytes[pos..]);
        out
    }
}

/// A message to the writer thread.
enum Msg {
    Chunk(Chunk),
    Finish,
    Abort,
}

/// State shared with the writer thread.
pub struct Shared {
    /// Bytes sent and not yet written.
    pub inflight: AtomicU64,
    /// Bytes written to the file.
    pub written: AtomicU64,
    /// The writer failed: the walk stops.
    pub failed: AtomicBool,
    /// Stop now, without writing what is queued.
    abort: AtomicBool,
    /// Woken when the writer has drained a chunk, or ended.
    pub drained: tokio::sync::Notify,
    /// The percentage of its thread's time the writer may take (the
    /// governor: the engine lowers it while clients are busy, see
    /// [`Shared::pace`]); 100 runs it at full speed.
    pub share: AtomicU32,
    /// While more than this many bytes wait, the writer runs at full speed
    /// whatever its share: pacing must not push writes over the high-water
    /// mark.
    pub pace_limit: AtomicU64,
    /// Nanoseconds the writer spent resting for the governor (INFO).
    pub paced_ns: AtomicU64,
}

impl Shared {
    /// Nothing sent or written yet; full speed, no pacing limit.
    fn new() -> Shared {
        Shared {
            inflight: AtomicU64::new(0),
            written: AtomicU64::new(0),
            failed: AtomicBool::new(false),
            abort: AtomicBool::new(false),
            drained: tokio::sync::Notify::new(),
            share: AtomicU32::new(100),
            pace_limit: AtomicU64::new(u64::MAX),
            paced_ns: AtomicU64::new(0),
        }
    }

    /// Sets the writer's share of its thread (percent, 1..=100).
    pub fn pace(&self, share: u32) {
        self.share.store(share.clamp(1, 100), Ordering::Relaxed);
    }
}

/// The writer's side of the governor: work time owed a rest. Resting in
/// slices of at least [`Pacer::SLICE`] keeps a sleep's own cost small.
#[derive(Default)]
struct Pacer {
    /// Work done since the last rest.
    worked: std::time::Duration,
}

impl Pacer {
    const SLICE: std::time::Duration = std::time::Duration::from_millis(1);
    /// The longest single rest, so that an abort or a share raised again is
    /// seen soon.
    const MAX_REST: std::time::Duration = std::time::Duration::from_millis(20);

    /// After `work` took `took`: rests so that work stays within the share.
    fn after(&mut self, took: std::time::Duration, sh: &Shared) {
        let share = sh.share.load(Ordering::Relaxed).clamp(1, 100);
        if share >= 100
            || sh.inflight.load(Ordering::SeqCst) > sh.pace_limit.load(Ordering::Relaxed)
        {
            self.worked = std::time::Duration::ZERO;
            return;
        }
        self.worked += took;
        if self.worked < Self::SLICE {
            return;
        }
        let rest = (self.worked * (100 - share) / share).min(Self::MAX_REST);
        self.worked = std::time::Duration::ZERO;
        let t = Instant::now();
        std::thread::sleep(rest);
        sh.paced_ns
            .fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }
}

/// How the writer thread ended.
#[derive(Debug)]
pub enum WriterEnd {
    /// The dump is in place.
    Saved {
        bytes: u64,
    },
    Cancelled,
    Failed(SaveError),
}

/// The writer thread's handle.
pub struct Writer {
    tx: mpsc::Sender<Msg>,
    pub shared: Arc<Shared>,
    done: Option<tokio::sync::oneshot::Receiver<WriterEnd>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    /// Starts the thread; it creates `target`'s temp file and writes the
    /// header at once.
    /// `delay_us` (a test hook) slows every chunk down.
    pub fn start(sink: Sink, opts: SaveOptions, delay_us: u32) -> std::io::Result<Writer> {
        let (tx, rx) = mpsc::channel::<Msg>();
        let shared = Arc::new(Shared::new());
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let sh = shared.clone();
        let thread = std::thread::Builder::new()
            .name("snapcache-forkless".into())
            .spawn(move || {
                let temp = match &sink {
                    Sink::Dump(t) => Some(temp_path(t)),
                    Sink::Stream(_) => None,
                };
                let end = write_file(sink, opts, &rx, &sh, delay_us);
                if !matches!(end, WriterEnd::Saved { .. }) {
                    if let Some(temp) = temp {
                        let _ = std::fs::remove_file(temp);
                    }
                    sh.failed.store(true, Ordering::SeqCst);
                }
                sh.inflight.store(0, Ordering::SeqCst);
                let _ = done_tx.send(end);
                sh.drained.notify_one();
            })?;
        Ok(Writer {
            tx,
            shared,
            done: Some(done_rx),
            thread: Some(thread),
        })
    }

    fn send_chunk(&self, c: Chunk) {
        if c.bytes.is_empty() {
            return;
        }
        self.shared
            .inflight
            .fetch_add(c.bytes.len() as u64, Ordering::SeqCst);
        let _ = self.tx.send(Msg::Chunk(c));
    }

    /// Stops the thread and waits for it: the temp file is gone on return.
    fn abort(&mut self) {
        self.shared.abort.store(true, Ordering::SeqCst);
        let _ = self.tx.send(Msg::Abort);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    pub fn inflight(&self) -> u64 {
        self.shared.inflight.load(Ordering::SeqCst)
    }

    /// The receiver of the thread's end (taken once).
    pub fn take_done(&mut self) -> Option<tokio::sync::oneshot::Receiver<WriterEnd>> {
        self.done.take()
    }
}

/// Where a forkless snapshot's bytes go.
pub enum Sink {
    /// The dump: `temp-<pid>-forkless.rdb`, fsynced and renamed over it.
    Dump(Target),
    /// A stream (the pipe a full sync relays to replicas): written as it
    /// comes, closed at the end.
    Stream(std::fs::File),
}

impl From<Target> for Sink {
    fn from(t: Target) -> Sink {
        Sink::Dump(t)
    }
}

fn write_file(
    sink: Sink,
    opts: SaveOptions,
    rx: &mpsc::Receiver<Msg>,
    sh: &Shared,
    delay_us: u32,
) -> WriterEnd {
    let target = match sink {
        Sink::Dump(t) => t,
        Sink::Stream(f) => {
            return match write_rdb(f, opts, rx, sh, delay_us) {
                Ok((mut out, bytes)) => match std::io::Write::flush(&mut out) {
                    Ok(()) => WriterEnd::Saved { bytes },
                    Err(e) => write_error(e),
                },
                Err(end) => end,
            };
        }
    };
    let target = &target;
    let temp = temp_path(target);
    let sink = match file::create_temp(target, &temp) {
        Ok(s) => s,
        Err(e) => return WriterEnd::Failed(e),
    };
    let out = match write_rdb(sink, opts, rx, sh, delay_us) {
        Ok((out, _)) => out,
        Err(end) => return end,
    };
    let bytes = out.get_ref().file.metadata().map(|m| m.len()).unwrap_or(0);
    let sink = match out.into_inner() {
        Ok(s) => s,
        Err(e) => {
            return WriterEnd::Failed(SaveError::Write {
                op: "fflush",
                err: e.into_error(),
            })
        }
    };
    match file::commit_temp(target, &temp, sink) {
        Ok(()) => WriterEnd::Saved { bytes },
        Err(e) => WriterEnd::Failed(e),
    }
}

/// The RDB of the walk's chunks into `out` (buffered): header, chunks,
/// trailer. Returns the buffered writer, not yet flushed, and the bytes
/// written before the trailer; Err is how the save ended instead.
fn write_rdb<W: std::io::Write>(
    out: W,
    opts: SaveOptions,
    rx: &mpsc::Receiver<Msg>,
    sh: &Shared,
    delay_us: u32,
) -> Result<(std::io::BufWriter<W>, u64), WriterEnd> {
    let out = std::io::BufWriter::with_capacity(256 << 10, out);
    let mut w = rdb::RdbWriter::new(out, opts);
    w.header().map_err(write_error)?;
    write_chunks(&mut w, rx, sh, delay_us)?;
    let bytes = w.bytes_written();
    let out = w.finish().map_err(write_error)?;
    Ok((out, bytes))
}

fn write_error(err: std::io::Error) -> WriterEnd {
    WriterEnd::Failed(SaveError::Write {
        op: "rdbSaveRio",
        err,
    })
}

/// Writes the walk's chunks until it says Finish; Err is how the save
/// ended instead (cancelled or failed).
fn write_chunks<W: std::io::Write>(
    w: &mut rdb::RdbWriter<W>,
    rx: &mpsc::Receiver<Msg>,
    sh: &Shared,
    delay_us: u32,
) -> Result<(), WriterEnd> {
    let mut scratch = Vec::new();
    let mut pacer = Pacer::default();
    let mut gathering = None;
    loop {
        match rx.recv() {
            Ok(Msg::Chunk(_)) if sh.abort.load(Ordering::SeqCst) => {
                return Err(WriterEnd::Cancelled)
            }
            Ok(Msg::Chunk(c)) => {
                if delay_us > 0 {
                    std::thread::sleep(std::time::Duration::from_micros(delay_us.into()));
                }
                let t = Instant::now();
                let r = write_chunk(w, &c, &mut scratch, &mut gathering);
                let took = t.elapsed();
                if scratch.capacity() > 4 << 20 {
                    scratch = Vec::new();
                }
                sh.inflight
                    .fetch_sub(c.bytes.len() as u64, Ordering::SeqCst);
                sh.written.store(w.bytes_written(), Ordering::Relaxed);
                sh.drained.notify_one();
                if let Err(e) = r {
                    return Err(write_error(e));
                }
                pacer.after(took, sh);
            }
            Ok(Msg::Finish) => return Ok(()),
            Ok(Msg::Abort) | Err(_) => return Err(WriterEnd::Cancelled),
        }
    }
}

/// `temp-<pid>-forkless.rdb` ([`file::temp_file`]).
pub fn temp_path(target: &Target) -> std::path::PathBuf {
    file::temp_file(&target.dir, target.pid, file::TempKind::Forkless)
}

/// What a walk step achieved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The budget ran out; more to do.
    More,
    /// The buffer is above its high-water mark: wait for the writer.
    Full,
    /// Every segment and value is in the stream and the trailer was sent.
    Done,
}

/// A running forkless snapshot, owned by the engine.
pub struct Forkless {
    pub version: u64,
    pub writer: Writer,
    opts: Arc<SaveOptions>,
    /// Tables that left the keyspace mid-walk, walked before the live ones.
    retired: VecDeque<Retired>,
    /// Keys and segments serialized by retired cuts already dropped.
    retired_keys: u64,
    retired_segments: u64,
    retired_early: u64,
    pub high_water: u64,
    pub started: Instant,
    /// Segments in the keyspace at the start (progress).
    pub segments_total: u64,
    pub keys_total: u64,
    /// Whether the trailer has been sent.
    finished: bool,
}

impl Forkless {
    /// Starts a cut of `ks` at `version` (greater than any before): every
    /// database gets its [`DbCut`].
    pub fn start(
        ks: &mut Keyspace,
        version: u64,
        opts: SaveOptions,
        sink: impl Into<Sink>,
        high_water: u64,
        writer_delay_us: u32,
    ) -> std::io::Result<Forkless> {
        let writer = Writer::start(sink.into(), opts.clone(), writer_delay_us)?;
        // Paced, the writer still keeps the buffer below three quarters of
        // the high-water mark, short of where writes would wait.
        writer
            .shared
            .pace_limit
            .store(high_water.max(1) / 4 * 3, Ordering::Relaxed);
        let opts = Arc::new(opts);
        let mut segments_total = 0;
        for (i, db) in ks.dbs.iter_mut().enumerate() {
            segments_total += db.table().segment_count() as u64;
            db.cut = Some(DbCut::new(version, i, opts.clone()));
        }
        Ok(Forkless {
            version,
            writer,
            opts,
            retired: VecDeque::new(),
            retired_keys: 0,
            retired_segments: 0,
            retired_early: 0,
            high_water: high_water.max(1),
            started: Instant::now(),
            segments_total,
            keys_total: ks.total_keys() as u64,
            finished: false,
        })
    }

    pub fn opts(&self) -> &SaveOptions {
        &self.opts
    }

    /// Bytes encoded and not yet written: in the writer's channel, and
    /// waiting in the cuts (what write hooks serialized since the last step).
    pub fn buffered(&self, ks: &Keyspace) -> u64 {
        let mut n = self.writer.inflight();
        self.each_cut(ks, |c| {
            n += c.out.len() as u64 + c.jobs.iter().map(|j| j.buf.len() as u64).sum::<u64>();
        });
        n
    }

    /// Every cut of this snapshot: each database's live one, those retired
    /// with a database, and the snapshot's own retired ones.
    fn each_cut(&self, ks: &Keyspace, mut f: impl FnMut(&DbCut)) {
        for db in &ks.dbs {
            if let Some(c) = &db.cut {
                f(c);
            }
            for r in &db.retired {
                f(&r.cut);
            }
        }
        for r in &self.retired {
            f(&r.cut);
        }
    }

    /// Whether write commands must wait for the writer.
    pub fn over_high_water(&self, ks: &Keyspace) -> bool {
        self.buffered(ks) > self.high_water
    }

    /// Whether the walk must wait for the writer: it produces only below
    /// half the high-water mark, so that the room above is left to the
    /// writes' own serialization and writes do not starve. While the
    /// governor paces the writer the walk stops at an eighth of the mark:
    /// it follows the paced writer, and the room up to the pacing limit is
    /// left to the writes' serialization, which the paced writer then
    /// drains first.
    fn walk_full(&self) -> bool {
        let sh = &self.writer.shared;
        let limit = if sh.share.load(Ordering::Relaxed) < 100 {
            self.high_water / 8
        } else {
            self.high_water / 2
        };
        self.writer.inflight() > limit
    }

    /// Keys and segments serialized so far, and the bytes serialized
    /// early for writes.
    pub fn progress(&self, ks: &Keyspace) -> (u64, u64, u64) {
        let mut keys = self.retired_keys;
        let mut segs = self.retired_segments;
        let mut early = self.retired_early;
        self.each_cut(ks, |c| {
            keys += c.keys;
            segs += c.segments;
            early += c.early_bytes;
        });
        (keys, segs, early)
    }

    /// Takes a whole keyspace leaving the live one (DEBUG RELOAD, a full
    /// sync): its unfinished tables stay to be walked.
    pub fn retire_keyspace(&mut self, old: &mut Keyspace) {
        for db in &mut old.dbs {
            self.retired.extend(db.retired.drain(..));
            if let Some(r) = db.retire_for_cut() {
                self.retired.push_back(r);
            }
        }
    }

    /// Sends what is ready to the writer, keeping a big value's chunks
    /// contiguous. Returns false while a big value is mid-stream.
    fn pump(&mut self, ks: &mut Keyspace) -> bool {
        // A value mid-stream first, alone.
        let open = self
            .cuts_mut(ks)
            .find_map(|c| c.jobs.front().is_some_and(|j| j.open).then_some(c));
        if let Some(c) = open {
            let j = c.jobs.front_mut().expect("checked");
            let bytes = std::mem::take(&mut j.buf);
            let string = j.lzf_from.take();
            let done = j.done;
            if done {
                c.jobs.pop_front();
            }
            self.writer.send_chunk(Chunk {
                bytes,
                deferred: Vec::new(),
                string,
            });
            if !done {
                return false;
            }
        }
        let mut chunks = Vec::new();
        for c in self.cuts_mut(ks) {
            if !c.out.is_empty() {
                chunks.push(Chunk {
                    bytes: std::mem::take(&mut c.out),
                    deferred: std::mem::take(&mut c.deferred),
                    string: None,
                });
            }
            // Jobs finished by a write hook are whole: they may go now.
            while c.jobs.front().is_some_and(|j| j.done) {
                let j = c.jobs.pop_front().expect("checked");
                chunks.push(Chunk {
                    bytes: j.buf,
                    deferred: Vec::new(),
                    string: j.lzf_from,
                });
            }
        }
        for c in chunks {
            self.writer.send_chunk(c);
        }
        true
    }

    fn cuts_mut<'a>(&'a mut self, ks: &'a mut Keyspace) -> impl Iterator<Item = &'a mut DbCut> {
        let live = ks.dbs.iter_mut().flat_map(|db| {
            let (cut, retired) = db.cut_parts();
            cut.into_iter()
                .chain(retired.iter_mut().map(|r| &mut *r.cut))
        });
        live.chain(self.retired.iter_mut().map(|r| &mut *r.cut))
    }

    /// One step of the walk: works until `deadline` (at least one unit of
    /// work), `max_keys` keys, the buffer's high-water mark, or the end.
    /// Returns the step's outcome and the keys it serialized.
    pub fn step(&mut self, ks: &mut Keyspace, deadline: Instant, max_keys: u64) -> (Step, u64) {
        if self.finished {
            return (Step::Done, 0);
        }
        for db in &mut ks.dbs {
            self.retired.extend(db.retired.drain(..));
        }
        let mut keys = 0u64;
        loop {
            let free = self.pump(ks);
            if self.walk_full() {
                return (Step::Full, keys);
            }
            if keys >= max_keys || (keys > 0 && Instant::now() >= deadline) {
                return (Step::More, keys);
            }
            if !free {
                // Continue the value in the stream.
                self.continue_open(ks);
                keys += 1;
                continue;
            }
            match self.next_unit(ks) {
                Some(n) => keys += n.max(1),
                None => break,
            }
        }
        // Everything is serialized and sent.
        for db in &mut ks.dbs {
            db.cut = None;
        }
        self.finished = true;
        let _ = self.writer.tx.send(Msg::Finish);
        (Step::Done, keys)
    }

    /// Encodes the next chunk of the value in the stream.
    fn continue_open(&mut self, ks: &mut Keyspace) {
        let opts = self.opts.clone();
        for db in &mut ks.dbs {
            if db.cut_continue_open(&opts) {
                return;
            }
        }
        for r in &mut self.retired {
            if continue_in(&r.table, &mut r.cut, &opts) {
                return;
            }
        }
    }

    /// Starts the next job or serializes the next segment; None when all
    /// is done. Returns the keys it covered.
    fn next_unit(&mut self, ks: &mut Keyspace) -> Option<u64> {
        let opts = self.opts.clone();
        // Retired tables first: they hold memory nothing else needs.
        while let Some(r) = self.retired.front_mut() {
            if let Some(n) = Self::unit_in(&mut r.table, &r.expires, &mut r.cut, &opts) {
                return Some(n);
            }
            let r = self.retired.pop_front().expect("checked");
            self.retired_keys += r.cut.keys;
            self.retired_segments += r.cut.segments;
            self.retired_early += r.cut.early_bytes;
        }
        for db in &mut ks.dbs {
            if let Some(n) = db.cut_unit(&opts) {
                return Some(n);
            }
        }
        None
    }

    /// One unit of work in one table: open its first job, or serialize
    /// its next unstamped segment. None when the table is complete.
    pub(crate) fn unit_in(
        table: &mut Table<Box<Entry>>,
        expires: &Table<Deadline>,
        cut: &mut DbCut,
        opts: &SaveOptions,
    ) -> Option<u64> {
        let tag = cut.tag;
        // Only the front job may open: the pump sends jobs in order.
        if let Some(j) = cut.jobs.front_mut() {
            if j.done {
                // Whole already: the pump sends it.
                return Some(0);
            }
            j.open = true;
            match table.get(j.key.as_bytes()) {
                Some(e) => {
                    job_step(j, e, opts, CHUNK_ELEMS, tag);
                }
                None => j.done = true,
            }
            return Some(1);
        }
        while cut.cursor < table.segment_count() {
            let i = cut.cursor;
            if table.version_at(i) >= cut.version {
                cut.cursor += 1;
                continue;
            }
            let (n, complete) = cut_segment_part(table, expires, cut, i, UNIT_BYTES);
            if complete {
                cut.cursor += 1;
            }
            return Some(n);
        }
        if cut.complete(table) {
            None
        } else {
            // Bytes left in `out`: the pump sends them.
            Some(0)
        }
    }

    /// Stops the snapshot: the cut state goes, the writer removes its temp file.
    pub fn cancel(&mut self, ks: &mut Keyspace) {
        for db in &mut ks.dbs {
            db.cut = None;
            db.retired.clear();
        }
        self.retired.clear();
        self.finished = true;
        self.writer.abort();
    }
}

/// Continues `cut`'s job in the stream, if it has it; true when it had.
pub(crate) fn continue_in(table: &Table<Box<Entry>>, cut: &mut DbCut, opts: &SaveOptions) -> bool {
    let tag = cut.tag;
    match cut.jobs.front_mut() {
        Some(j) if j.open => {
            match table.get(j.key.as_bytes()) {
                Some(e) => {
                    job_step(j, e, opts, CHUNK_ELEMS, tag);
                }
                None => j.done = true,
            }
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests;
