//! The engine's side of snapshot method choice, the forkless snapshot, the
//! fork guard and BGSAVE CANCEL.
//!
//! # Overview
//!
//! A background save (BGSAVE, a save point, BGSAVE SCHEDULE) asks
//! [`Engine::choose_snapshot_method`]: `snapshot-method fork|forkless`
//! decides, and `auto` estimates what a fork would cost in copy-on-write
//! (the recent write rate × the expected duration × a page-touch factor,
//! capped by the dataset) and forks only when the reserve covers it. A
//! forkless save is driven by [`walk_loop`], a task on the engine thread
//! that runs one bounded step of the walk at a time and yields to the
//! connections in between; write commands wait in the dispatcher
//! ([`Engine::snapshot_delay`]) while the writer's buffer is above its
//! high-water mark or while they name a big value being encoded.
//!
//! # Consistency
//!
//! See [`crate::persistence::forkless`]: the file is the dataset as of the
//! BGSAVE. Keyspaces replaced as a whole go through
//! [`Engine::swap_keyspace`], so the walk keeps what it still needs.
//!
//! # Cancellation
//!
//! BGSAVE CANCEL, FLUSHALL and SHUTDOWN stop a save of either kind: a child
//! gets SIGUSR1, a forkless writer an abort (it removes its temp file before
//! [`Engine::forkless_cancel`] returns). The fork guard kills a child whose
//! copy-on-write nears the reserve and restarts the save forkless, so a
//! background save never fails for memory.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::client::{Client, ClientKind};
use super::Engine;
use crate::config::SnapshotMethod;
use crate::dispatch::flags;
use crate::keyspace::{now_ms, Keyspace};
use crate::persistence::forkless::{Forkless, Shared, Step, WriterEnd};

/// The window over which the clients' command rate decides whether the
/// forkless writer is paced.
const PACE_WINDOW: Duration = Duration::from_millis(100);
/// Commands per second from which clients count as busy for the writer's
/// pacing (`snapshot-busy-share`).
const PACE_MIN_RATE: f64 = 1000.0;
/// Time budget of one walk step.
const STEP_BUDGET: Duration = Duration::from_micros(300);
/// How long a delayed write sleeps before it checks again (it is woken
/// sooner when the buffer drains).
const DELAY_RECHECK: Duration = Duration::from_millis(20);
/// Bytes a fork's child and parent end up copying per write: the value's
/// page and the table's (Linux copies whole 4 KB pages).
const PAGE_TOUCH_FACTOR: f64 = 2.0;
/// Throughput assumed before the first snapshot has been measured.
const DEFAULT_THROUGHPUT: f64 = 200.0 * 1024.0 * 1024.0;
/// The fork guard stops a child whose copy-on-write reaches this share of
/// the reserve.
const GUARD_SHARE: f64 = 0.9;

/// How a snapshot is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Fork,
    Forkless,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Fork => "fork",
            Method::Forkless => "forkless",
        }
    }
}

/// A forkless save in progress.
pub struct Run {
    pub snap: Forkless,
    /// It writes a diskless full sync's pipe, not the dump.
    pub for_sync: bool,
    started_unix: i64,
    dirty_before: u64,
}

/// Snapshot state beside [`super::persist::Persist`]'s.
#[derive(Default)]
pub struct State {
    pub run: Option<Run>,
    next_version: u64,
    /// The running snapshot's method and the reason it was chosen.
    pub current: Option<(Method, String)>,
    /// The last finished (or stopped) snapshot's.
    pub last: Option<(Method, String)>,
    /// Write commands delayed by forkless saves, and their total delay.
    pub delayed_writes: u64,
    pub delay_total_us: u64,
    /// Forks stopped by the guard.
    pub guard_stops: u64,
    /// Bytes per second of the last completed snapshot.
    pub last_throughput: Option<f64>,
    /// Recent changes per second (dirty counter), smoothed.
    pub write_rate: f64,
    rate_dirty: u64,
    rate_at: Option<Instant>,
    /// Figures of the last forkless save (INFO).
    pub last_forkless_keys: u64,
    pub last_forkless_bytes: u64,
    /// When the fork guard (re)started the current snapshot.
    pub fork_reserve: u64,
    /// The fork guard stopped a sync's child: the next sync is forkless.
    pub next_sync_forkless: bool,
}

fn unix_secs() -> i64 {
    now_ms() / 1000
}

/// `120mb`-style sizes for reasons and logs.
fn human(b: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10)];
    for (u, s) in UNITS {
        if b >= s {
            return format!("{}{u}", b / s);
        }
    }
    format!("{b}b")
}

impl Engine {
    /// True while a background RDB save of either kind runs.
    pub fn bgsave_running(&self) -> bool {
        self.persist.child.is_some() || self.persist.snap.run.is_some()
    }

    /// Whether value hash tables may resize now (Redis's
    /// updateDictResizePolicy, applied before each command).
    ///
    /// While a fork child runs, resizing would copy pages for nothing
    /// (copy-on-write), so only extreme resizes happen, as in Redis. A
    /// forkless save keeps its point-in-time image without copies, and a
    /// rehash cannot disturb it (rehashing relinks chains but never moves
    /// an entry, so even a big set being encoded in chunks stays valid);
    /// it still counts as a snapshot in progress: the walk runs with the
    /// memory reserve set aside for its buffer, and new bucket arrays would
    /// eat into that headroom, and the method (`auto` picks one per save)
    /// should not change what clients see of a table (DEBUG HTSTATS-KEY,
    /// SSCAN order).
    pub fn dict_resize_policy(&self) -> crate::keyspace::dict::ResizePolicy {
        use crate::keyspace::dict::ResizePolicy;
        if self.child_active() || self.persist.snap.run.is_some() {
            ResizePolicy::Avoid
        } else {
            ResizePolicy::Enable
        }
    }

    /// The memory set aside for snapshot overhead: the memory
    /// accountant's reserve (`reserved-memory`, or the percentage of
    /// maxmemory or of the machine's / cgroup's memory).
    pub fn snapshot_reserve(&self) -> u64 {
        self.memory_budget().reserve.bytes
    }

    /// A fork's expected copy-on-write: writes/s × expected seconds ×
    /// page size × page-touch factor, at most the dataset.
    pub fn fork_cow_estimate(&self) -> u64 {
        let used = self.used_memory();
        let tput = self
            .persist
            .snap
            .last_throughput
            .unwrap_or(DEFAULT_THROUGHPUT)
            .max(1.0);
        let secs = used as f64 / tput;
        let page = crate::persistence::memory::page_size() as f64;
        let est = self.persist.snap.write_rate * secs * page * PAGE_TOUCH_FACTOR;
        (est.min(used as f64)) as u64
    }

    /// Which method a background save uses, and why (INFO's reason).
    pub fn choose_snapshot_method(&self) -> (Method, String) {
        match self.config.snapshot_method {
            SnapshotMethod::Fork => (Method::Fork, "fork: snapshot-method fork".into()),
            SnapshotMethod::Forkless => (
                Method::Forkless,
                "forkless: snapshot-method forkless".into(),
            ),
            SnapshotMethod::Auto => {
                let est = self.fork_cow_estimate();
                let reserve = self.snapshot_reserve();
                if est <= reserve {
                    (
                        Method::Fork,
                        format!(
                            "fork: estimate {} <= reserve {}",
                            human(est),
                            human(reserve)
                        ),
                    )
                } else {
                    (
                        Method::Forkless,
                        format!(
                            "forkless: estimate {} > reserve {}",
                            human(est),
                            human(reserve)
                        ),
                    )
                }
            }
        }
    }

    /// A cut of the keyspace at the next version, with its writer thread
    /// started under the current `snapshot-buffer-high-water` and
    /// `snapshot-writer-delay`.
    fn forkless_begin(
        &mut self,
        opts: crate::persistence::rdb::SaveOptions,
        target: impl Into<crate::persistence::forkless::Sink>,
    ) -> std::io::Result<Forkless> {
        self.persist.snap.next_version += 1;
        Forkless::start(
            &mut self.ks,
            self.persist.snap.next_version,
            opts,
            target,
            self.config.snapshot_buffer_high_water,
            self.config.snapshot_writer_delay.max(0) as u32,
        )
    }

    /// Starts a forkless save. Fails only when its writer thread cannot start.
    pub fn forkless_start(&mut self, reason: String) -> Result<(), ()> {
        if self.persist.snap.run.is_some() {
            return Err(());
        }
        let opts = self.save_options();
        let target = self.save_target();
        self.insist_temp_files(&target);
        match self.forkless_begin(opts, target) {
            Ok(snap) => {
                let keys = snap.keys_total;
                self.persist.snap.run = Some(Run {
                    snap,
                    for_sync: false,
                    started_unix: unix_secs(),
                    dirty_before: self.dirty,
                });
                self.persist.cur_keys_total = keys;
                self.persist.cur_keys_processed = 0;
                tracing::info!("Background saving started (forkless; {reason})");
                self.persist.snap.current = Some((Method::Forkless, reason));
                self.snapshot_kick.notify_one();
                Ok(())
            }
            Err(e) => {
                tracing::warn!("Can't save in background: forkless writer: {e}");
                self.persist.last_bgsave_ok = false;
                Err(())
            }
        }
    }

    /// A synchronous save through the forkless walk (SAVE, FLUSHALL,
    /// SHUTDOWN, DEBUG RELOAD under `snapshot-method forkless`): the engine
    /// thread walks the whole keyspace and waits for the writer. The error
    /// is the text to log.
    pub(crate) fn forkless_save_now(
        &mut self,
        opts: crate::persistence::rdb::SaveOptions,
        target: crate::persistence::file::Target,
    ) -> Result<(), String> {
        let mut snap = self
            .forkless_begin(opts, target)
            .map_err(|e| format!("Can't start the forkless writer: {e}"))?;
        loop {
            let deadline = Instant::now() + Duration::from_millis(100);
            match snap.step(&mut self.ks, deadline, u64::MAX).0 {
                Step::Done => break,
                Step::Full => std::thread::sleep(Duration::from_micros(100)),
                Step::More => {}
            }
        }
        let mut done = snap
            .writer
            .take_done()
            .ok_or_else(|| "the forkless writer has no result".to_string())?;
        loop {
            match done.try_recv() {
                Ok(WriterEnd::Saved { .. }) => return Ok(()),
                Ok(WriterEnd::Failed(e)) => return Err(e.to_string()),
                Ok(WriterEnd::Cancelled) => return Err("the forkless save was cancelled".into()),
                Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {
                    std::thread::sleep(Duration::from_micros(100))
                }
                Err(tokio::sync::oneshot::error::TryRecvError::Closed) => {
                    return Err("the forkless writer ended without a result".into())
                }
            }
        }
    }

    /// One step of the running forkless save: the outcome, the keys it
    /// covered, `rdb-key-save-delay`, and the writer's shared state.
    fn forkless_step(&mut self) -> Option<(Step, u64, i32, Arc<Shared>)> {
        let run = self.persist.snap.run.as_mut()?;
        let delay = self.config.rdb_key_save_delay;
        // A per-key delay (tests) throttles the walk to one key per step.
        let max_keys = if delay != 0 { 1 } else { u64::MAX };
        let (step, keys) = run
            .snap
            .step(&mut self.ks, Instant::now() + STEP_BUDGET, max_keys);
        let (done, _, early) = run.snap.progress(&self.ks);
        let shared = run.snap.writer.shared.clone();
        self.evict.snapshot_overhead = run.snap.buffered(&self.ks);
        let p = &mut self.persist;
        p.cur_keys_processed = done;
        if early != p.cur_cow {
            p.cur_cow = early;
            p.cur_cow_peak = p.cur_cow_peak.max(early);
            p.cur_cow_updated = Some(Instant::now());
        }
        self.wake_delayed_writes();
        Some((step, keys, delay, shared))
    }

    /// Wakes the writes a forkless save holds back once the buffer is
    /// below its high-water mark; true when it woke them.
    fn wake_delayed_writes(&mut self) -> bool {
        let Some(run) = &self.persist.snap.run else {
            return false;
        };
        if self.postponed_clients > 0 && !run.snap.over_high_water(&self.ks) {
            self.unpause_notify.notify_waiters();
            return true;
        }
        false
    }

    /// The writer ended the save `version`.
    fn forkless_finished(&mut self, version: u64, end: WriterEnd) {
        let Some(run) = self.persist.snap.run.take_if(|r| r.snap.version == version) else {
            return;
        };
        if run.for_sync {
            self.sync_forkless_ended(run, end);
            return;
        }
        self.evict.snapshot_overhead = 0;
        let p = &mut self.persist;
        let secs = (run.snap.started.elapsed().as_secs_f64()).max(1e-3);
        p.last_bgsave_secs = unix_secs() - run.started_unix;
        p.cur_keys_processed = 0;
        p.cur_keys_total = 0;
        p.last_cow = p.cur_cow_peak;
        p.cur_cow = 0;
        p.cur_cow_peak = 0;
        p.cur_cow_updated = None;
        p.snap.last = p.snap.current.take();
        let ok = matches!(end, WriterEnd::Saved { .. });
        match end {
            WriterEnd::Saved { bytes } => {
                tracing::info!(
                    "Background saving terminated with success (forkless: {} keys, {} bytes, {:.3} s)",
                    run.snap.keys_total,
                    bytes,
                    secs
                );
                // The rate a fork's child would write at: the time the
                // governor made the writer rest is not the save's speed.
                let rested = run
                    .snap
                    .writer
                    .shared
                    .paced_ns
                    .load(std::sync::atomic::Ordering::Relaxed) as f64
                    / 1e9;
                p.snap.last_throughput = Some(bytes as f64 / (secs - rested).max(1e-3));
                p.snap.last_forkless_keys = run.snap.keys_total;
                p.snap.last_forkless_bytes = bytes;
                p.last_bgsave_ok = true;
                self.dirty = self.dirty.saturating_sub(run.dirty_before);
                self.last_save_ms = now_ms();
            }
            WriterEnd::Cancelled => tracing::warn!("Background saving (forkless) cancelled"),
            WriterEnd::Failed(e) => {
                tracing::warn!("{e}");
                tracing::warn!("Background saving error");
                p.last_bgsave_ok = false;
            }
        }
        // Writes waiting for the buffer may go now.
        self.unpause_notify.notify_waiters();
        self.disk_save_done(ok);
    }

    /// Stops a running forkless save (its temp file is gone on return).
    pub fn forkless_cancel(&mut self) -> bool {
        let Some(mut run) = self.persist.snap.run.take() else {
            return false;
        };
        run.snap.cancel(&mut self.ks);
        if run.for_sync {
            self.sync_forkless_ended(run, WriterEnd::Cancelled);
            return true;
        }
        self.evict.snapshot_overhead = 0;
        self.persist.last_bgsave_secs = unix_secs() - run.started_unix;
        self.persist.cur_keys_processed = 0;
        self.persist.cur_keys_total = 0;
        self.persist.cur_cow = 0;
        self.persist.cur_cow_peak = 0;
        self.persist.cur_cow_updated = None;
        self.persist.snap.last = self.persist.snap.current.take();
        tracing::warn!("Background saving (forkless) cancelled");
        self.unpause_notify.notify_waiters();
        self.disk_save_done(false);
        true
    }

    /// Forks a child that writes the snapshot into `pipe` for a diskless
    /// full sync. The error is what to log.
    pub(crate) fn fork_for_sync(
        &mut self,
        pipe: &std::os::fd::OwnedFd,
        reason: &str,
    ) -> Result<(), String> {
        use std::os::fd::AsRawFd;
        self.persist.snap.fork_reserve = self.snapshot_reserve();
        let job = crate::persistence::fork::SaveJob {
            ks: &self.ks,
            opts: self.save_options(),
            target: self.save_target(),
            key_delay: self.config.rdb_key_save_delay,
            output: crate::persistence::fork::Output::Stream(pipe.as_raw_fd()),
        };
        let child = crate::persistence::fork::spawn_save(&job).map_err(|e| e.desc().to_string())?;
        let pid = child.pid();
        self.child_started(child, reason.to_string());
        self.persist.child_for_sync = true;
        tracing::info!("Background RDB transfer started by pid {pid} ({reason})");
        Ok(())
    }

    /// Starts a forkless snapshot whose writer thread writes into `pipe`
    /// for a diskless full sync.
    pub(crate) fn forkless_for_sync(
        &mut self,
        pipe: std::os::fd::OwnedFd,
        reason: String,
    ) -> Result<(), String> {
        if self.persist.snap.run.is_some() {
            return Err("a forkless snapshot is running".into());
        }
        let opts = self.save_options();
        let sink = crate::persistence::forkless::Sink::Stream(std::fs::File::from(pipe));
        let snap = self.forkless_begin(opts, sink).map_err(|e| e.to_string())?;
        self.persist.cur_keys_total = snap.keys_total;
        self.persist.cur_keys_processed = 0;
        self.persist.snap.run = Some(Run {
            snap,
            for_sync: true,
            started_unix: unix_secs(),
            dirty_before: self.dirty,
        });
        tracing::info!("Background RDB transfer started (forkless; {reason})");
        self.persist.snap.current = Some((Method::Forkless, reason));
        self.snapshot_kick.notify_one();
        Ok(())
    }

    /// A forkless snapshot for a sync ended: the sync learns how.
    fn sync_forkless_ended(&mut self, run: Run, end: WriterEnd) {
        self.evict.snapshot_overhead = 0;
        let p = &mut self.persist;
        p.last_bgsave_secs = unix_secs() - run.started_unix;
        p.cur_keys_processed = 0;
        p.cur_keys_total = 0;
        p.cur_cow = 0;
        p.cur_cow_peak = 0;
        p.cur_cow_updated = None;
        p.snap.last = p.snap.current.take();
        let ok = match end {
            WriterEnd::Saved { bytes } => {
                tracing::info!(
                    "Background RDB transfer terminated with success (forkless: {} keys, {bytes} bytes)",
                    run.snap.keys_total
                );
                true
            }
            WriterEnd::Cancelled => {
                tracing::warn!("Background RDB transfer (forkless) cancelled");
                false
            }
            WriterEnd::Failed(e) => {
                tracing::warn!("Background RDB transfer (forkless) failed: {e}");
                false
            }
        };
        self.unpause_notify.notify_waiters();
        self.sync_snapshot_done(ok);
    }

    /// Stops the snapshot a diskless sync is relaying (no replica is left
    /// to take it).
    pub(crate) fn cancel_sync_snapshot(&mut self) {
        if self.persist.child_for_sync {
            self.kill_rdb_child();
        }
        if self.persist.snap.run.as_ref().is_some_and(|r| r.for_sync) {
            self.forkless_cancel();
        }
    }

    /// BGSAVE CANCEL: stops a save of either kind; false when none runs.
    pub fn bgsave_cancel(&mut self) -> bool {
        self.persist.bgsave_scheduled = false;
        if self.persist.child.is_some() {
            self.kill_rdb_child();
            return true;
        }
        self.forkless_cancel()
    }

    /// Replaces the whole keyspace (DEBUG RELOAD, a load, a full sync),
    /// handing a running forkless save the tables it has yet to walk.
    pub fn swap_keyspace(&mut self, new: Keyspace) -> Keyspace {
        let mut old = std::mem::replace(&mut self.ks, new);
        if let Some(run) = self.persist.snap.run.as_mut() {
            run.snap.retire_keyspace(&mut old);
        }
        old
    }

    /// The fork guard: a child's copy-on-write has reached `cow` bytes.
    /// Near the reserve, the child is stopped and the save restarts
    /// forkless.
    pub fn fork_guard(&mut self, cow: u64) {
        let reserve = self.persist.snap.fork_reserve;
        if self.persist.child.is_none() || (cow as f64) < reserve as f64 * GUARD_SHARE {
            return;
        }
        let Some(mut child) = self.persist.child.take() else {
            return;
        };
        tracing::warn!(
            "Fork guard: the child's copy-on-write {} nears the reserve {}: stopping it and saving forkless",
            human(cow),
            human(reserve)
        );
        child.cancel_and_reap(Duration::from_millis(500));
        let _ = std::fs::remove_file(crate::persistence::file::temp_path(
            &self.config.dir,
            child.pid(),
        ));
        self.persist.fork_guard_reset();
        self.persist.snap.guard_stops += 1;
        if std::mem::take(&mut self.persist.child_for_sync) {
            // The replicas have part of the fork's image already: this
            // sync ends, and the next one goes forkless.
            self.persist.snap.last = self.persist.snap.current.take();
            self.evict.snapshot_overhead = 0;
            self.persist.snap.next_sync_forkless = true;
            self.sync_snapshot_done(false);
            return;
        }
        let reason = format!(
            "forkless: fork stopped by the guard at copy-on-write {} (reserve {})",
            human(cow),
            human(reserve)
        );
        let _ = self.forkless_start(reason);
    }

    /// Samples the write rate (changes per second) for the method choice.
    pub fn snapshot_cron(&mut self) {
        let s = &mut self.persist.snap;
        let now = Instant::now();
        let Some(at) = s.rate_at else {
            s.rate_at = Some(now);
            s.rate_dirty = self.dirty;
            return;
        };
        let dt = now.duration_since(at).as_secs_f64();
        if dt < 0.1 {
            return;
        }
        // A save resets `dirty`: then everything in it is new.
        let delta = if self.dirty >= s.rate_dirty {
            self.dirty - s.rate_dirty
        } else {
            self.dirty
        };
        let rate = delta as f64 / dt;
        s.write_rate = if s.write_rate == 0.0 {
            rate
        } else {
            s.write_rate * 0.7 + rate * 0.3
        };
        s.rate_at = Some(now);
        s.rate_dirty = self.dirty;
    }

    /// Whether a forkless save holds `args` back (write commands only):
    /// until when, or None to run it now.
    pub fn snapshot_delay(&mut self, c: &mut Client, args: &[Bytes]) -> Option<Instant> {
        let Some(run) = &self.persist.snap.run else {
            return self.delay_ended(c);
        };
        if c.kind != ClientKind::Normal {
            return None;
        }
        let idx = self.commands.resolve(args).ok()?;
        let spec = self.commands.rows[idx].spec;
        let is_exec = c.multi.is_some() && spec.name == "exec";
        // Queued commands run at EXEC: that is when they may wait.
        if c.multi.is_some() && !is_exec {
            return None;
        }
        // The keys the write commands name; `keyless` when one names none.
        let mut keys: Vec<Bytes> = Vec::new();
        let mut keyless = false;
        let mut any_write = false;
        let mut add = |spec: &crate::dispatch::CommandSpec, a: &[Bytes]| {
            if !spec.has(flags::WRITE) {
                return;
            }
            any_write = true;
            let pos = spec.key_positions(a);
            keyless |= pos.is_empty();
            keys.extend(pos.into_iter().filter_map(|k| a.get(k).cloned()));
        };
        if is_exec {
            for (i, a) in c.multi.iter().flatten() {
                add(self.commands.rows[*i].spec, a);
            }
        } else {
            add(spec, args);
        }
        if !any_write {
            return self.delay_ended(c);
        }
        let mut wait = run.snap.over_high_water(&self.ks);
        if !wait {
            // Serialize what the writes will touch now, so that a big value
            // becomes a chunked job rather than a stall inside the command.
            let pins = self.ks.dbs.iter().any(|d| d.has_pins());
            // FLUSHDB, SWAPDB, scripts: anything may be touched.
            wait = keyless && pins;
            let db = &mut self.ks.dbs[c.db];
            for key in &keys {
                db.precut(key);
                wait |= db.pinned(key);
            }
        }
        if wait {
            if c.snapshot_delayed.is_none() {
                c.snapshot_delayed = Some(Instant::now());
                self.persist.snap.delayed_writes += 1;
            }
            return Some(Instant::now() + DELAY_RECHECK);
        }
        self.delay_ended(c)
    }

    fn delay_ended(&mut self, c: &mut Client) -> Option<Instant> {
        if let Some(t) = c.snapshot_delayed.take() {
            self.persist.snap.delay_total_us += t.elapsed().as_micros() as u64;
        }
        None
    }

    /// INFO persistence's snapshot lines.
    pub fn snapshot_info(&self, out: &mut String) {
        use std::fmt::Write;
        let s = &self.persist.snap;
        let (cur_m, cur_r) = match &s.current {
            Some((m, r)) if self.bgsave_running() => (m.name(), r.as_str()),
            _ => ("none", ""),
        };
        let (last_m, last_r) = match &s.last {
            Some((m, r)) => (m.name(), r.as_str()),
            None => ("none", ""),
        };
        let (keys, segs, segs_total, bytes, buffered, paced_ns, share) = match &s.run {
            Some(r) => {
                use std::sync::atomic::Ordering::Relaxed;
                let (k, sg, _) = r.snap.progress(&self.ks);
                let sh = &r.snap.writer.shared;
                (
                    k,
                    sg,
                    r.snap.segments_total,
                    sh.written.load(Relaxed),
                    r.snap.buffered(&self.ks),
                    sh.paced_ns.load(Relaxed),
                    sh.share.load(Relaxed),
                )
            }
            None => (0, 0, 0, 0, 0, 0, 100),
        };
        let _ = write!(
            out,
            "rdb_current_snapshot_method:{cur_m}\r\n\
             rdb_current_snapshot_reason:{cur_r}\r\n\
             rdb_last_snapshot_method:{last_m}\r\n\
             rdb_last_snapshot_reason:{last_r}\r\n\
             snapshot_reserve_bytes:{}\r\n\
             snapshot_fork_cow_estimate:{}\r\n\
             snapshot_write_rate:{:.2}\r\n\
             snapshot_fork_guard_stops:{}\r\n\
             forkless_in_progress:{}\r\n\
             forkless_keys_done:{keys}\r\n\
             forkless_segments_done:{segs}\r\n\
             forkless_segments_total:{segs_total}\r\n\
             forkless_bytes_written:{bytes}\r\n\
             forkless_bytes_buffered:{buffered}\r\n\
             forkless_writer_share:{share}\r\n\
             forkless_writer_paced_ms:{}\r\n\
             forkless_buffer_high_water:{}\r\n\
             forkless_delayed_writes:{}\r\n\
             forkless_delay_total_ms:{}\r\n\
             forkless_last_keys:{}\r\n\
             forkless_last_bytes:{}\r\n",
            self.snapshot_reserve(),
            self.fork_cow_estimate(),
            s.write_rate,
            s.guard_stops,
            u8::from(s.run.is_some()),
            paced_ns / 1_000_000,
            self.config.snapshot_buffer_high_water,
            s.delayed_writes,
            s.delay_total_us / 1000,
            s.last_forkless_keys,
            s.last_forkless_bytes,
        );
    }
}

/// Sleeps `us` microseconds for `rdb-key-save-delay`, in slices of at most
/// 10 ms, and stops early once the setting is lowered to 0: a test that
/// holds a walk back with a long delay lets it go by resetting the delay.
async fn key_delay(engine: &Rc<RefCell<Engine>>, us: u64) {
    const SLICE_US: u64 = 10_000;
    let mut left = us;
    while left > 0 {
        let slice = left.min(SLICE_US);
        tokio::time::sleep(Duration::from_micros(slice)).await;
        left -= slice;
        if engine.borrow().config.rdb_key_save_delay <= 0 {
            return;
        }
    }
}

/// Drives forkless saves: one bounded step at a time, yielding to the
/// connections in between, waiting for the writer when its buffer is full.
pub async fn walk_loop(engine: Rc<RefCell<Engine>>) {
    let kick = engine.borrow().snapshot_kick.clone();
    // Commands served when the last step ended: any more since means the
    // clients are busy.
    let mut seen_commands = 0;
    // The writer is paced by the clients' rate over windows of
    // PACE_WINDOW: a trickle of commands must not slow a save tenfold.
    let mut window = (Instant::now(), 0u64);
    let mut paced = false;
    loop {
        let running = engine.borrow().persist.snap.run.is_some();
        if !running {
            kick.notified().await;
            continue;
        }
        let started = Instant::now();
        let Some((step, keys, delay, shared)) = engine.borrow_mut().forkless_step() else {
            continue;
        };
        // The governor. While clients keep the server busy, the save takes
        // at most `snapshot-busy-share` percent of the engine thread (the
        // walk yields after each step) and of its writer thread (which
        // rests after its work, see forkless::Pacer): on a small machine
        // the writer's LZF, checksum and I/O compete with the clients for
        // the same cores. Idle clients let both run at full speed; the
        // walk judges by the commands since its last step, the writer by
        // the clients' rate over the last window.
        let (busy, share) = {
            let e = engine.borrow();
            let busy = e.stats.commands != seen_commands;
            seen_commands = e.stats.commands;
            (busy, e.config.snapshot_busy_share.clamp(1, 100))
        };
        let since = window.0.elapsed();
        if since >= PACE_WINDOW {
            let rate = seen_commands.saturating_sub(window.1) as f64 / since.as_secs_f64();
            paced = rate >= PACE_MIN_RATE;
            window = (Instant::now(), seen_commands);
        }
        shared.pace(if paced { share } else { 100 });
        match step {
            Step::More => {
                if delay > 0 {
                    key_delay(&engine, keys.max(1) * delay as u64).await;
                } else if busy {
                    // After a step of t, yield for t * (100 - share) /
                    // share, or until a round of yielding serves no
                    // command: spinning on an empty poll would only take a
                    // core from the clients and the writer.
                    let until = Instant::now() + started.elapsed() * (100 - share) / share;
                    loop {
                        let before = engine.borrow().stats.commands;
                        tokio::task::yield_now().await;
                        if Instant::now() >= until || engine.borrow().stats.commands == before {
                            break;
                        }
                    }
                } else {
                    tokio::task::yield_now().await;
                }
            }
            Step::Full => {
                let _ = tokio::time::timeout(Duration::from_millis(100), shared.drained.notified())
                    .await;
                // Writes held back go before the walk produces more.
                if engine.borrow_mut().wake_delayed_writes() {
                    tokio::task::yield_now().await;
                }
            }
            Step::Done => {
                // What is left is the writer's tail (under half the
                // high-water mark): let it finish at full speed.
                shared.pace(100);
                let (version, done) = {
                    let mut e = engine.borrow_mut();
                    match e.persist.snap.run.as_mut() {
                        Some(r) => (r.snap.version, r.snap.writer.take_done()),
                        None => continue,
                    }
                };
                let Some(done) = done else { continue };
                let end = done.await.unwrap_or(WriterEnd::Cancelled);
                engine.borrow_mut().forkless_finished(version, end);
            }
        }
    }
}
