//! The append-only file, in Redis 7's multi-part layout.
//!
//! # Overview
//!
//! `appenddirname` holds a base file (`<appendfilename>.<seq>.base.rdb`,
//! or `.base.aof` with `aof-use-rdb-preamble no`), incr files
//! (`<appendfilename>.<seq>.incr.aof`) with the commands written since,
//! and the [`manifest`] naming them. Every write command's propagated form
//! (see `server::propagate`: SET PXAT, PEXPIREAT, DEL of expired keys,
//! MULTI/EXEC around several operations) is appended to an in-memory
//! buffer with the AOF's own SELECTs ([`Aof`]); the buffer is written to
//! the current incr file before any reply leaves the server
//! (`Engine::aof_flush`, called at the end of every batch of requests), as
//! Redis's `beforeSleep` does.
//!
//! `appendfsync always` fdatasyncs on the engine thread right after that
//! write, so a reply is never sent before its command is on disk. Group
//! commit: a connection whose batch wrote to the AOF yields once before
//! sending its replies ([`Aof::fed`] marks what it waits for), so every
//! connection with input ready runs its batch first, and the first one to
//! resume writes and fsyncs for all of them. `everysec` hands the fsync to the
//! [`Bio`] thread once a second; `no` leaves it to the kernel.
//!
//! BGREWRITEAOF forks (`persistence::fork`): the child writes a new base
//! from its point-in-time copy of the dataset, while the parent starts a
//! new incr file at the fork. On success the manifest switches to the new
//! base plus the incr files opened since; the files it no longer names
//! become history and are deleted (unless `aof-disable-auto-gc`).
//!
//! At startup (and for DEBUG LOADAOF) the base and then each incr file are
//! replayed through a client that gets no replies ([`load`]).
//!
//! # Consistency
//!
//! The buffer receives exactly what replicas receive, in the same order,
//! on the engine thread; a rewrite's child sees the dataset between two
//! commands, and everything after the fork goes to the new incr file, so
//! base + incr files always replay to the live dataset.
//!
//! # Crash safety
//!
//! The manifest is replaced atomically (temp file, fsync, rename, fsync of
//! the directory), and only after the files it names are complete. A crash
//! during a rewrite leaves the old manifest, whose files are still there. A
//! crash while appending can leave a partial last command: with
//! `aof-load-truncated yes` the loader truncates it and logs Redis's
//! warning; anything else malformed stops the server with exit code 1.
//!
//! # Cancellation
//!
//! A rewrite child is cancelled with SIGUSR1 (CONFIG SET appendonly no,
//! SHUTDOWN), which is not counted as a failure; its temporary files are
//! removed by the parent.

pub mod engine;
pub mod load;
pub mod manifest;
pub mod parse;
pub mod rewrite;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

use manifest::Manifest;

use super::fork;

/// Whether the AOF is written (Redis's `aof_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Off,
    On,
    /// Turned on at runtime: waiting for the first rewrite to create the
    /// base before the AOF is usable.
    WaitRewrite,
}

/// `dir/temp-rewriteaof-<pid>.aof`: what a rewrite writes into first.
pub fn rewrite_temp_path(dir: &Path, pid: u32) -> PathBuf {
    dir.join(format!("temp-rewriteaof-{pid}.aof"))
}

/// `dir/temp-rewriteaof-bg-<pid>.aof`: a finished background rewrite,
/// waiting for the parent to move it into the AOF directory.
pub fn rewrite_bg_path(dir: &Path, pid: u32) -> PathBuf {
    dir.join(format!("temp-rewriteaof-bg-{pid}.aof"))
}

/// The AOF state of the engine.
pub struct Aof {
    pub state: State,
    pub manifest: Manifest,
    /// The incr file appended to (the temporary one during WaitRewrite).
    pub(crate) file: Option<Arc<File>>,
    /// Commands not yet written (`aof_buf`).
    pub buf: Vec<u8>,
    /// Bytes ever appended to `buf`, and how many of them were written
    /// and fsynced by `appendfsync always` (the group-commit barrier).
    pub(crate) fed: u64,
    pub(crate) synced: u64,
    /// The database the AOF last SELECTed.
    pub(crate) selected_db: Option<usize>,
    /// Last `#TS:` annotation written (aof-timestamp-enabled).
    pub(crate) cur_timestamp: i64,
    /// The running rewrite.
    pub child: Option<fork::Child>,
    pub(crate) child_started: i64,
    pub(crate) child_dir: PathBuf,
    pub rewrite_scheduled: bool,
    pub last_rewrite_secs: i64,
    pub last_bgrewrite_ok: bool,
    pub rewrites: u64,
    pub consecutive_failures: u64,
    pub last_write_ok: bool,
    /// strerror of the last failed write.
    pub last_write_err: String,
    pub last_cow: u64,
    /// `aof_current_size`, `aof_base_size`.
    pub current_size: u64,
    pub base_size: u64,
    pub(crate) last_incr_size: u64,
    pub(crate) last_incr_fsync_offset: u64,
    pub(crate) last_fsync: i64,
    pub(crate) flush_postponed_start: i64,
    pub delayed_fsync: u64,
    /// DEBUG AOF-FLUSH-SLEEP (microseconds before each write).
    pub flush_sleep_us: u64,
    pub(crate) bio: Bio,
    /// Back-off after repeated rewrite failures (`aofRewriteLimited`).
    pub(crate) limit_delay_minutes: i64,
    pub(crate) limit_next_time: i64,
}

impl Aof {
    pub fn new(enabled: bool) -> Aof {
        Aof {
            state: if enabled { State::On } else { State::Off },
            manifest: Manifest::default(),
            file: None,
            buf: Vec::new(),
            fed: 0,
            synced: 0,
            selected_db: None,
            cur_timestamp: 0,
            child: None,
            child_started: -1,
            child_dir: PathBuf::new(),
            rewrite_scheduled: false,
            last_rewrite_secs: -1,
            last_bgrewrite_ok: true,
            rewrites: 0,
            consecutive_failures: 0,
            last_write_ok: true,
            last_write_err: String::new(),
            last_cow: 0,
            current_size: 0,
            base_size: 0,
            last_incr_size: 0,
            last_incr_fsync_offset: 0,
            last_fsync: 0,
            flush_postponed_start: 0,
            delayed_fsync: 0,
            flush_sleep_us: 0,
            bio: Bio::default(),
            limit_delay_minutes: 0,
            limit_next_time: 0,
        }
    }

    /// Whether commands are appended to the buffer now.
    pub fn accepting(&self) -> bool {
        self.state == State::On || (self.state == State::WaitRewrite && self.child.is_some())
    }

    /// `aof_rewrite_in_progress`.
    pub fn rewriting(&self) -> bool {
        self.child.is_some()
    }
}

/// A background fsync job.
enum BioJob {
    Fsync(Arc<File>),
    /// Fsync, then close (the incr file a rewrite replaced).
    FsyncClose(Arc<File>),
}

/// The AOF's background thread (Redis's `bio` AOF fsync jobs): fsyncs
/// without stalling the engine. Started on first use.
#[derive(Default)]
pub(crate) struct Bio {
    tx: Option<mpsc::Sender<BioJob>>,
    pending: Arc<AtomicUsize>,
    /// 0, or the errno of the last failed background fsync.
    fsync_errno: Arc<AtomicI32>,
}

impl Bio {
    fn sender(&mut self) -> Option<&mpsc::Sender<BioJob>> {
        if self.tx.is_none() {
            let (tx, rx) = mpsc::channel::<BioJob>();
            let pending = self.pending.clone();
            let errno = self.fsync_errno.clone();
            let spawned = std::thread::Builder::new()
                .name("snapcache-aof".into())
                .spawn(move || {
                    for job in rx {
                        let (file, close) = match job {
                            BioJob::Fsync(f) => (f, false),
                            BioJob::FsyncClose(f) => (f, true),
                        };
                        match file.sync_data() {
                            Ok(()) => {
                                if !close {
                                    errno.store(0, Ordering::Relaxed);
                                }
                            }
                            Err(e) => {
                                if !close {
                                    errno.store(e.raw_os_error().unwrap_or(5), Ordering::Relaxed);
                                }
                                tracing::warn!("Fail to fsync the AOF file: {e}");
                            }
                        }
                        drop(file);
                        pending.fetch_sub(1, Ordering::AcqRel);
                    }
                });
            if spawned.is_err() {
                return None;
            }
            self.tx = Some(tx);
        }
        self.tx.as_ref()
    }

    fn submit(&mut self, job: BioJob) {
        self.pending.fetch_add(1, Ordering::AcqRel);
        let pending = self.pending.clone();
        match self.sender() {
            Some(tx) => {
                if let Err(mpsc::SendError(job)) = tx.send(job) {
                    pending.fetch_sub(1, Ordering::AcqRel);
                    run_now(job);
                }
            }
            None => {
                pending.fetch_sub(1, Ordering::AcqRel);
                run_now(job);
            }
        }
    }

    pub(crate) fn fsync(&mut self, f: Arc<File>) {
        self.submit(BioJob::Fsync(f));
    }

    pub(crate) fn fsync_and_close(&mut self, f: Arc<File>) {
        self.submit(BioJob::FsyncClose(f));
    }

    /// `aof_pending_bio_fsync`: jobs not finished.
    pub(crate) fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    /// The errno of a failed background fsync, if the last one failed.
    pub(crate) fn fsync_error(&self) -> Option<i32> {
        match self.fsync_errno.load(Ordering::Relaxed) {
            0 => None,
            e => Some(e),
        }
    }

    pub(crate) fn clear_fsync_error(&self) {
        self.fsync_errno.store(0, Ordering::Relaxed);
    }
}

/// Runs a job on the calling thread (the background thread is gone).
fn run_now(job: BioJob) {
    let f = match job {
        BioJob::Fsync(f) | BioJob::FsyncClose(f) => f,
    };
    let _ = f.sync_data();
}
