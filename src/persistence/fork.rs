//! The fork() snapshot path: a child process writes the dump while the
//! engine keeps serving.
//!
//! # Overview
//!
//! [`spawn_save`] is called on the engine thread between commands, so the
//! child's copy of the keyspace is a consistent point-in-time image. The
//! child encodes it with the RDB codec through [`super::file::save`] into
//! `temp-<childpid>.rdb`, renames it over the dump, and `_exit`s: 0 when the
//! dump is in place, 1 otherwise. It reports to the parent through a
//! non-blocking pipe: keys processed and its copy-on-write bytes about once a
//! second, a final report, or the text of its error (which the parent logs,
//! since the child does not log).
//!
//! The parent never blocks on the child: the engine cron calls
//! [`Child::reports`] and [`Child::try_wait`], both non-blocking. A child
//! that dies by a signal is a failed save, except SIGUSR1, which is how the
//! server itself cancels one (FLUSHALL, SHUTDOWN), as in Redis.
//!
//! # Safety
//!
//! All of the process's `unsafe` for forking lives here. After fork() only
//! the calling thread exists in the child, so the child must not touch
//! anything another thread might have held locked: it uses no tokio, no
//! tracing, no mutexes. It does allocate (the encoder needs buffers); the
//! allocators we link (jemalloc, or glibc's malloc) reinitialise their locks
//! in the child through their own `pthread_atfork` handlers.
//!
//! # Copy-on-write
//!
//! The child's `Private_Dirty` memory (from `/proc/self/smaps_rollup`, the
//! sum Redis's `zmalloc_get_private_dirty` computes from `smaps`) is what
//! fork has cost so far: every page either process wrote since the fork
//! exists twice, and in the child it is no longer shared.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::libc;
use nix::sys::signal::{self, SigHandler, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{ForkResult, Pid};

use super::file::{self, Target};
use super::rdb::SaveOptions;
use crate::keyspace::Keyspace;

/// What the child is to write.
pub struct SaveJob<'a> {
    pub ks: &'a Keyspace,
    pub opts: SaveOptions,
    /// Where; `pid` is ignored (the child names the temp file after itself).
    pub target: Target,
    /// `rdb-key-save-delay` (microseconds per key, see [`file::debug_delay`]).
    pub key_delay: i32,
    pub output: Output,
}

/// The kind of file a child writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// The dump, renamed over `target.path()`.
    Rdb,
    /// An AOF rewrite: a base file left as `temp-rewriteaof-bg-<pid>.aof`
    /// in `target.dir` for the parent to move into the AOF directory.
    AofBase(super::aof::rewrite::BaseFormat),
    /// The RDB stream into this descriptor (the write end of the pipe a
    /// diskless full sync relays to replicas); no file is written.
    Stream(RawFd),
}

/// A report from a child.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Report {
    /// Progress: keys written so far and copy-on-write bytes now.
    Progress { keys: u64, cow: u64 },
    /// The dump is written; copy-on-write at the end, its peak and average.
    Done {
        keys: u64,
        cow: u64,
        peak: u64,
        avg: u64,
    },
    /// Why the save failed, as Redis would log it.
    Error(String),
}

/// How a child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Exit code 0: the dump is in place.
    Success,
    /// Another exit code: the save failed.
    Failed(i32),
    /// Killed by this signal number.
    Signaled(i32),
}

/// A running child, owned by the engine.
pub struct Child {
    pid: Pid,
    pipe: OwnedFd,
    buf: Vec<u8>,
    /// How long fork() took.
    pub fork_usec: u64,
}

const TAG_PROGRESS: u32 = 1;
const TAG_DONE: u32 = 2;
const TAG_ERROR: u32 = 3;
/// Longest error text sent (a pipe write up to PIPE_BUF is atomic).
const MAX_ERROR_TEXT: usize = 1024;
/// The child's progress reports are at most this frequent (Redis: 1 s;
/// the fork guard wants fresher copy-on-write figures).
const REPORT_EVERY: Duration = Duration::from_millis(250);

/// Forks a child that writes `job`. Fails when pipe() or fork() does (e.g.
/// ENOMEM, EAGAIN); nothing has changed then.
pub fn spawn_save(job: &SaveJob<'_>) -> nix::Result<Child> {
    let (rd, wr) = nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC)?;
    let start = Instant::now();
    // SAFETY: the child runs only `child_main`, which keeps to the rules in
    // the module docs (no locks another thread may hold, no tokio, no
    // tracing) and ends in `_exit` without unwinding or running destructors
    // of state shared with the parent.
    let forked = unsafe { nix::unistd::fork() }?;
    match forked {
        ForkResult::Child => {
            let code = child_main(job, wr.as_raw_fd());
            // SAFETY: `_exit` ends the child at once, skipping atexit
            // handlers and stdio flushing that belong to the parent.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            let fork_usec = start.elapsed().as_micros() as u64;
            drop(wr);
            Ok(Child {
                pid: child,
                pipe: rd,
                buf: Vec::new(),
                fork_usec,
            })
        }
    }
}

impl Child {
    pub fn pid(&self) -> u32 {
        self.pid.as_raw() as u32
    }

    /// The reports that arrived since the last call (never blocks).
    pub fn reports(&mut self) -> Vec<Report> {
        let mut chunk = [0u8; 4096];
        loop {
            match nix::unistd::read(self.pipe.as_raw_fd(), &mut chunk) {
                Ok(0) => break,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => break,
            }
            // A misbehaving child cannot grow the buffer without bound.
            if self.buf.len() > 1 << 20 {
                self.buf.clear();
                break;
            }
        }
        let mut out = Vec::new();
        let mut at = 0;
        while let Some((report, used)) = decode(&self.buf[at..]) {
            at += used;
            if let Some(r) = report {
                out.push(r);
            }
        }
        self.buf.drain(..at);
        out
    }

    /// The child's end, if it has ended (never blocks).
    pub fn try_wait(&mut self) -> Option<Exit> {
        match waitpid(self.pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, 0)) => Some(Exit::Success),
            Ok(WaitStatus::Exited(_, code)) => Some(Exit::Failed(code)),
            Ok(WaitStatus::Signaled(_, sig, _)) => Some(Exit::Signaled(sig as i32)),
            Ok(_) => None,
            // ECHILD: someone else reaped it; its outcome is unknown.
            Err(nix::errno::Errno::ECHILD) => Some(Exit::Failed(-1)),
            Err(_) => None,
        }
    }

    /// Cancels the save (SIGUSR1, which is not counted as a failure).
    pub fn cancel(&self) {
        let _ = signal::kill(self.pid, Signal::SIGUSR1);
    }

    /// Cancels the save and waits up to `limit` for the child to be gone,
    /// so that no zombie is left behind (shutdown).
    pub fn cancel_and_reap(&mut self, limit: Duration) {
        self.cancel();
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if self.try_wait().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = signal::kill(self.pid, Signal::SIGKILL);
        let _ = waitpid(self.pid, None);
    }
}

/// One frame: tag (u32 LE), payload length (u32 LE), payload. `None` when
/// `b` holds no complete frame; `Some((None, n))` skips an unknown frame.
fn decode(b: &[u8]) -> Option<(Option<Report>, usize)> {
    let head = b.get(..8)?;
    let tag = u32::from_le_bytes(head[..4].try_into().ok()?);
    let len = u32::from_le_bytes(head[4..8].try_into().ok()?) as usize;
    let payload = b.get(8..8usize.checked_add(len)?)?;
    let word = |i: usize| -> u64 {
        payload
            .get(i * 8..i * 8 + 8)
            .and_then(|w| w.try_into().ok())
            .map_or(0, u64::from_le_bytes)
    };
    let report = match tag {
        TAG_PROGRESS => Some(Report::Progress {
            keys: word(0),
            cow: word(1),
        }),
        TAG_DONE => Some(Report::Done {
            keys: word(0),
            cow: word(1),
            peak: word(2),
            avg: word(3),
        }),
        TAG_ERROR => Some(Report::Error(String::from_utf8_lossy(payload).into_owned())),
        _ => None,
    };
    Some((report, 8 + len))
}

fn encode(tag: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + payload.len());
    v.extend_from_slice(&tag.to_le_bytes());
    v.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    v.extend_from_slice(payload);
    v
}

fn words(ws: &[u64]) -> Vec<u8> {
    ws.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// The child's side of the pipe, with Redis's copy-on-write bookkeeping.
struct Reporter {
    fd: RawFd,
    peak: u64,
    sum: u64,
    samples: u64,
}

impl Reporter {
    fn cow(&mut self) -> u64 {
        let cow = private_dirty().unwrap_or(0);
        self.peak = self.peak.max(cow);
        self.sum += cow;
        self.samples += 1;
        cow
    }

    fn send(&self, frame: &[u8]) {
        // One write: frames are far below PIPE_BUF, so they arrive whole or
        // not at all. A full pipe (the parent is busy) drops a report rather
        // than stalling the save.
        let _ = nix::unistd::write(
            // SAFETY: `fd` is the pipe's write end, open for the child's
            // whole life (`close_other_fds` keeps it).
            unsafe { std::os::fd::BorrowedFd::borrow_raw(self.fd) },
            frame,
        );
    }

    fn progress(&mut self, keys: u64) {
        let cow = self.cow();
        self.send(&encode(TAG_PROGRESS, &words(&[keys, cow])));
    }

    fn done(&mut self, keys: u64) {
        let cow = self.cow();
        let avg = self.sum / self.samples.max(1);
        self.send(&encode(TAG_DONE, &words(&[keys, cow, self.peak, avg])));
    }

    fn error(&self, text: &str) {
        let mut end = text.len().min(MAX_ERROR_TEXT);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        self.send(&encode(TAG_ERROR, &text.as_bytes()[..end]));
    }
}

/// The child: encode, write, report. Returns the exit code.
fn child_main(job: &SaveJob<'_>, pipe: RawFd) -> i32 {
    reset_signals();
    match job.output {
        Output::Stream(fd) => close_other_fds(&[pipe, fd]),
        _ => close_other_fds(&[pipe]),
    }
    let mut target = job.target.clone();
    target.pid = std::process::id();
    let mut rep = Reporter {
        fd: pipe,
        peak: 0,
        sum: 0,
        samples: 0,
    };
    let mut last_report = Instant::now();
    let mut rng = u64::from(target.pid) | 1;
    let delay = job.key_delay;
    let result = {
        let rep = &mut rep;
        let mut per_key = |n: u64| {
            if delay != 0 {
                file::debug_delay(delay, &mut rng);
            }
            // Reading the clock every 1024 keys keeps it off the hot path,
            // unless keys are slow on purpose. The first key is reported
            // at once: the fork guard learns the copy-on-write early.
            if n == 1 || (delay != 0 || n & 1023 == 0) && last_report.elapsed() >= REPORT_EVERY {
                rep.progress(n);
                last_report = Instant::now();
            }
        };
        std::panic::catch_unwind(AssertUnwindSafe(|| match job.output {
            Output::Rdb => file::save(job.ks, job.opts.clone(), &target, &mut per_key)
                .map_err(|e| e.to_string()),
            Output::Stream(fd) => {
                // SAFETY: `fd` is the pipe's write end, open and kept by
                // `close_other_fds`; the child owns it from here on (and
                // ends in `_exit`, so nobody else closes it).
                let out = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd) };
                let out = std::io::BufWriter::with_capacity(256 << 10, out);
                super::rdb::write_keyspace(job.ks, job.opts.clone(), out, &mut per_key)
                    .and_then(|mut w| std::io::Write::flush(&mut w))
                    .map(|()| job.ks.total_keys() as u64)
                    .map_err(|e| format!("Write error sending DB to replicas: {e}"))
            }
            Output::AofBase(format) => super::aof::rewrite::write_base(
                job.ks,
                job.opts.clone(),
                format,
                &super::aof::rewrite_temp_path(&target.dir, target.pid),
                &super::aof::rewrite_bg_path(&target.dir, target.pid),
                target.incremental_fsync,
                &mut per_key,
            ),
        }))
    };
    match result {
        Ok(Ok(keys)) => {
            rep.done(keys);
            0
        }
        Ok(Err(e)) => {
            rep.error(&e);
            1
        }
        Err(_) => {
            let _ = std::fs::remove_file(target.temp_path());
            let _ = std::fs::remove_file(super::aof::rewrite_temp_path(&target.dir, target.pid));
            rep.error("Background saving error: the saving process panicked");
            1
        }
    }
}

/// Default dispositions for the signals the parent handles, so that
/// SIGTERM/SIGINT end the child rather than run the parent's handler, and
/// SIGUSR1 (the server's way to cancel a save) kills it.
fn reset_signals() {
    for sig in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGUSR1] {
        // SAFETY: installing SIG_DFL runs no code in signal context.
        let _ = unsafe { signal::signal(sig, SigHandler::SigDfl) };
    }
}

/// Closes every descriptor but stdio and the pipe: the child must not keep
/// the listening sockets or client connections open (a client would not
/// see its connection close, and the port would stay bound if the parent
/// died first).
fn close_other_fds(keep: &[RawFd]) {
    let mut keep: Vec<libc::c_uint> = keep.iter().map(|&f| f as libc::c_uint).collect();
    keep.sort_unstable();
    let mut from: libc::c_uint = 3;
    // SAFETY: close_range only closes descriptors; nothing in the child
    // uses any of them afterwards (the OwnedFds the parent's state holds
    // are never dropped in the child, which ends in `_exit`).
    unsafe {
        for &k in &keep {
            if k > from {
                libc::syscall(libc::SYS_close_range, from, k - 1, 0);
            }
            from = from.max(k + 1);
        }
        libc::syscall(libc::SYS_close_range, from, libc::c_uint::MAX, 0);
    }
}

/// The process's `Private_Dirty` bytes, without allocating a line buffer.
fn private_dirty() -> Option<u64> {
    use std::io::Read;
    let mut buf = [0u8; 8192];
    let mut n = 0;
    let mut f = std::fs::File::open("/proc/self/smaps_rollup").ok()?;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(_) => return None,
        }
    }
    parse_private_dirty(&buf[..n])
}

/// Sums the `Private_Dirty:` lines (kB) of smaps text, in bytes.
fn parse_private_dirty(text: &[u8]) -> Option<u64> {
    let mut total = None;
    for line in text.split(|&b| b == b'\n') {
        let Some(rest) = line.strip_prefix(b"Private_Dirty:") else {
            continue;
        };
        let digits: Vec<u8> = rest
            .iter()
            .copied()
            .skip_while(|b| *b == b' ' || *b == b'\t')
            .take_while(|b| b.is_ascii_digit())
            .collect();
        let kb: u64 = std::str::from_utf8(&digits).ok()?.parse().ok()?;
        total = Some(total.unwrap_or(0) + kb * 1024);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_wait_for_whole_frames() {
        let mut b = encode(TAG_PROGRESS, &words(&[7, 4096]));
        b.extend(encode(
            TAG_ERROR,
            b"Write error saving DB on disk(fsync): x",
        ));
        b.extend(encode(99, b"future"));
        b.extend(encode(TAG_DONE, &words(&[9, 1, 2, 3])));
        let mut got = Vec::new();
        let mut at = 0;
        while let Some((r, used)) = decode(&b[at..]) {
            at += used;
            got.extend(r);
        }
        assert_eq!(at, b.len());
        assert_eq!(
            got,
            vec![
                Report::Progress { keys: 7, cow: 4096 },
                Report::Error("Write error saving DB on disk(fsync): x".into()),
                Report::Done {
                    keys: 9,
                    cow: 1,
                    peak: 2,
                    avg: 3
                },
            ]
        );
        let partial = encode(TAG_PROGRESS, &words(&[1, 2]));
        assert!(decode(&partial[..partial.len() - 1]).is_none());
        assert!(decode(&partial[..3]).is_none());
    }

    #[test]
    fn private_dirty_sums_kilobytes() {
        let text = b"00400000-7ffd [rollup]\nRss:  1000 kB\nPrivate_Dirty:    12 kB\nPrivate_Clean: 3 kB\nPrivate_Dirty: 4 kB\n";
        assert_eq!(parse_private_dirty(text), Some(16 * 1024));
        assert_eq!(parse_private_dirty(b"Rss: 1 kB\n"), None);
    }

    #[test]
    fn own_private_dirty_is_readable() {
        assert!(private_dirty().is_some_and(|b| b > 0));
    }
}
