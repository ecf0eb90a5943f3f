//! The engine's side of RDB persistence: SAVE, BGSAVE by fork(), save
//! points, loading at startup, DEBUG RELOAD, and the state INFO reports.
//!
//! # Overview
//!
//! [`Persist`] is the persistence state held by the [`Engine`]; the methods
//! here follow Redis's `rdb.c` / `server.c` functions of the same purpose
//! (`rdbSave`, `rdbSaveBackground`, `checkChildrenDone`,
//! `backgroundSaveDoneHandler`, `prepareForShutdown`, `loadDataFromDisk`).
//! Encoding and decoding are the RDB codec's ([`crate::persistence::rdb`]);
//! files are written by [`crate::persistence::file`]; the child process is
//! [`crate::persistence::fork`].
//!
//! # Consistency
//!
//! A synchronous save (SAVE, SHUTDOWN, FLUSHALL, DEBUG RELOAD) runs on the
//! engine thread between commands; a background save forks there, so both
//! capture the dataset between two commands. The startup load runs on a
//! thread of its own into a fresh keyspace, which replaces the (empty) live
//! one only once the whole file has been read and its checksum verified;
//! meanwhile the engine answers commands without the LOADING flag with
//! `-LOADING`.
//!
//! # Crash safety
//!
//! See [`crate::persistence::file`]: a save never leaves a partial dump.
//! A failed background save sets `rdb_last_bgsave_status:err`, which with
//! `stop-writes-on-bgsave-error` refuses writes (`-MISCONF`) until a save
//! succeeds.
//!
//! # Cancellation
//!
//! FLUSHALL and SHUTDOWN cancel a running child with SIGUSR1, which is not a
//! failure; any other signal is. A startup load cannot be interrupted, but a
//! shutdown during it skips the final save and stops the per-key delay.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::client::Client;
use super::{Engine, ShutdownSave};
use crate::config::strerror;
use crate::keyspace::{now_ms, Keyspace};
use crate::persistence::file::{self, Target};
use crate::persistence::fork::{self, Exit, Report};
use crate::persistence::rdb::{self, AccessInfo, Encodings, LoadOptions, Loaded, RdbError};

/// Redis's CONFIG_BGSAVE_RETRY_DELAY: seconds between automatic retries
/// after a failed background save.
const BGSAVE_RETRY_DELAY: i64 = 5;

/// SIGUSR1: how the server cancels its own child.
const SIGUSR1: i32 = nix::sys::signal::Signal::SIGUSR1 as i32;

/// Persistence state of the engine.
pub struct Persist {
    /// The background save in progress.
    pub child: Option<fork::Child>,
    /// The child writes a diskless full sync's pipe, not the dump.
    pub child_for_sync: bool,
    /// When the running child was started (unix seconds).
    pub(crate) child_started: i64,
    /// The directory the running child writes in (`dir` may change meanwhile).
    child_dir: std::path::PathBuf,
    /// `dirty` when the running child was forked.
    dirty_before_bgsave: u64,
    /// BGSAVE SCHEDULE (or BGSAVE in a transaction) waits for its turn.
    pub bgsave_scheduled: bool,
    /// `rdb_last_bgsave_status:ok`.
    pub last_bgsave_ok: bool,
    /// When a background save was last attempted (unix seconds).
    last_bgsave_try: i64,
    /// `rdb_last_bgsave_time_sec` (-1: none yet).
    pub last_bgsave_secs: i64,
    /// `rdb_saves`.
    pub saves: u64,
    /// `rdb_last_cow_size`.
    pub last_cow: u64,
    /// `current_cow_size`, `current_cow_peak` and when it was measured.
    pub cur_cow: u64,
    pub cur_cow_peak: u64,
    pub cur_cow_updated: Option<Instant>,
    /// `current_save_keys_processed` / `current_save_keys_total`.
    pub cur_keys_processed: u64,
    pub cur_keys_total: u64,
    /// `latest_fork_usec`, `total_forks`.
    pub latest_fork_usec: u64,
    pub total_forks: u64,
    /// `rdb_last_load_keys_loaded` / `rdb_last_load_keys_expired`.
    pub last_load_keys_loaded: u64,
    pub last_load_keys_expired: u64,
    /// The startup load in progress.
    pub loading: Option<LoadProgress>,
    /// The startup load failed: the server exits with status 1.
    pub fatal: bool,
    /// A SIGTERM / SIGINT asked for a shutdown that the cron will run.
    pub shutdown_asap: Option<Signal>,
    /// The directory whose temp files the "insist" handler removes (see
    /// [`install_insist_handler`]).
    insist_temp: Option<std::path::PathBuf>,
    /// Method choice, the forkless save, the fork guard.
    pub snap: super::snapshot::State,
}

/// The signals that shut the server down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Term,
    Int,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Signal::Term => "SIGTERM",
            Signal::Int => "SIGINT",
        }
    }
}

impl Default for Persist {
    fn default() -> Persist {
        Persist {
            child: None,
            child_for_sync: false,
            child_started: -1,
            child_dir: Default::default(),
            dirty_before_bgsave: 0,
            bgsave_scheduled: false,
            last_bgsave_ok: true,
            last_bgsave_try: 0,
            last_bgsave_secs: -1,
            saves: 0,
            last_cow: 0,
            cur_cow: 0,
            cur_cow_peak: 0,
            cur_cow_updated: None,
            cur_keys_processed: 0,
            cur_keys_total: 0,
            latest_fork_usec: 0,
            total_forks: 0,
            last_load_keys_loaded: 0,
            last_load_keys_expired: 0,
            loading: None,
            fatal: false,
            shutdown_asap: None,
            insist_temp: None,
            snap: Default::default(),
        }
    }
}

impl Persist {
    /// The fork guard stopped the child: its state goes.
    pub(crate) fn fork_guard_reset(&mut self) {
        self.last_bgsave_secs = unix_secs() - self.child_started;
        self.child_started = -1;
        self.reset_child_stats();
    }

    /// `rdb_current_bgsave_time_sec` (-1 when no save runs).
    pub fn current_bgsave_secs(&self) -> i64 {
        if let Some(r) = &self.snap.run {
            r.snap.started.elapsed().as_secs() as i64
        } else if self.child.is_some() {
            unix_secs() - self.child_started
        } else {
            -1
        }
    }

    /// `current_fork_perc`.
    pub fn fork_perc(&self) -> f64 {
        if self.cur_keys_total == 0 {
            0.0
        } else {
            self.cur_keys_processed as f64 / self.cur_keys_total as f64 * 100.0
        }
    }

    pub(crate) fn reset_child_stats(&mut self) {
        self.cur_cow = 0;
        self.cur_cow_peak = 0;
        self.cur_cow_updated = None;
        self.cur_keys_processed = 0;
        self.cur_keys_total = 0;
    }
}

/// Progress of the startup load, shared with the loading thread.
pub struct LoadProgress {
    /// `loading_start_time` (unix seconds).
    pub start_time: i64,
    /// `loading_total_bytes`.
    pub total_bytes: u64,
    /// `loading_loaded_bytes`.
    pub loaded_bytes: Arc<AtomicU64>,
    /// Set at shutdown: the loader stops honouring `key-load-delay`.
    pub cancel: Arc<AtomicBool>,
}

impl LoadProgress {
    /// `loading_loaded_perc` and `loading_eta_seconds`, as Redis computes them.
    pub fn perc_and_eta(&self) -> (f64, i64) {
        let loaded = self.loaded_bytes.load(Ordering::Relaxed);
        let (perc, remaining) = if self.total_bytes > 0 {
            (
                loaded as f64 / self.total_bytes as f64 * 100.0,
                self.total_bytes.saturating_sub(loaded),
            )
        } else {
            (0.0, 1)
        };
        let elapsed = unix_secs() - self.start_time;
        let eta = if elapsed <= 0 {
            1
        } else {
            (elapsed as u64 * remaining / (loaded + 1)) as i64
        };
        (perc, eta)
    }
}

/// The error `run` returns when the dataset could not be loaded at
/// startup (already logged): the server binary exits with status 1.
#[derive(Debug, thiserror::Error)]
#[error("error loading the dataset at startup")]
pub struct LoadFailed;

fn unix_secs() -> i64 {
    now_ms() / 1000
}

impl Engine {
    /// True while writes must be refused with MISCONF (Redis's
    /// `writeCommandsDeniedByDiskError`).
    pub fn persistence_error(&self) -> bool {
        self.config.stop_writes_on_bgsave_error
            && !self.config.save.is_empty()
            && !self.persist.last_bgsave_ok
    }

    /// Where this process's dump goes.
    pub(crate) fn save_target(&self) -> Target {
        Target {
            dir: self.config.dir.clone(),
            filename: self.config.dbfilename.clone(),
            pid: std::process::id(),
            incremental_fsync: self.config.rdb_save_incremental_fsync,
        }
    }

    pub(crate) fn save_options(&self) -> rdb::SaveOptions {
        let policy = self.config.maxmemory_policy;
        rdb::SaveOptions {
            compress: self.config.rdbcompression,
            checksum: self.config.rdbchecksum,
            access: if policy.is_lfu() {
                AccessInfo::Lfu
            } else if policy.is_lru() {
                AccessInfo::Lru
            } else {
                AccessInfo::None
            },
            extra_aux: self.repl_aux(),
            aof_base: false,
            used_mem: self.used_memory(),
        }
    }

    /// How files are loaded: the configured encodings, databases, and
    /// expired keys dropped on a primary.
    pub fn load_options(&self) -> LoadOptions {
        use crate::config::SanitizeDumpPayload;
        LoadOptions {
            enc: Encodings::from_config(&self.config),
            deep_sanitize: self.config.sanitize_dump_payload == SanitizeDumpPayload::Yes,
            databases: self.ks.dbs.len(),
            // A replica keeps them: its primary's DELs will come.
            drop_expired_before: (!self.is_replica()).then(now_ms),
        }
    }

    /// Redis's `rdbSave`: writes the dump from the engine thread. Logs the
    /// outcome; on success resets `dirty` and sets the last-save time.
    pub fn rdb_save(&mut self) -> Result<(), ()> {
        let target = self.save_target();
        self.insist_temp_files(&target);
        let opts = self.save_options();
        let delay = self.config.rdb_key_save_delay;
        let mut rng = u64::from(target.pid) | 1;
        let mut per_key = |_: u64| {
            if delay != 0 {
                file::debug_delay(delay, &mut rng);
            }
        };
        // With `snapshot-method forkless` a synchronous save runs the same
        // walk and writer as a background one, to completion.
        let forkless = self.config.snapshot_method == crate::config::SnapshotMethod::Forkless
            && self.persist.snap.run.is_none();
        let result = if forkless {
            self.forkless_save_now(opts, target)
        } else {
            file::save(&self.ks, opts, &target, &mut per_key)
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        match result {
            Ok(()) => {
                tracing::info!("DB saved on disk");
                self.dirty = 0;
                self.last_save_ms = now_ms();
                self.persist.last_bgsave_ok = true;
                Ok(())
            }
            Err(e) => {
                tracing::warn!("{e}");
                Err(())
            }
        }
    }

    /// Redis's `rdbSaveBackground`: forks a child that writes the dump.
    /// Fails when a child already runs or fork() fails (logged).
    /// The method is [`Engine::choose_snapshot_method`]'s: a forkless save
    /// answers pid 0. A fork that fails (ENOMEM, EAGAIN) falls back to a
    /// forkless save: a background save never fails for memory.
    pub fn bgsave_start(&mut self) -> Result<u32, ()> {
        if self.child_active() || self.bgsave_running() {
            return Err(());
        }
        self.persist.saves += 1;
        self.persist.dirty_before_bgsave = self.dirty;
        self.persist.last_bgsave_try = unix_secs();
        let (method, reason) = self.choose_snapshot_method();
        if method == super::snapshot::Method::Forkless {
            return self.forkless_start(reason).map(|()| 0);
        }
        self.persist.snap.fork_reserve = self.snapshot_reserve();
        let job = fork::SaveJob {
            ks: &self.ks,
            opts: self.save_options(),
            target: self.save_target(),
            key_delay: self.config.rdb_key_save_delay,
            output: fork::Output::Rdb,
        };
        let dir = job.target.dir.clone();
        match fork::spawn_save(&job) {
            Ok(child) => {
                let pid = child.pid();
                self.persist.child_dir = dir;
                self.child_started(child, reason.clone());
                tracing::info!("Background saving started by pid {pid} ({reason})");
                Ok(pid)
            }
            Err(errno) => {
                tracing::warn!(
                    "Can't save in background: fork: {}; saving forkless",
                    errno.desc()
                );
                let reason = format!("forkless: fork failed: {}", errno.desc());
                self.forkless_start(reason).map(|()| 0)
            }
        }
    }

    /// Books a forked child in: the fork's counters, its latency sample,
    /// the snapshot method INFO reports.
    pub(crate) fn child_started(&mut self, child: fork::Child, reason: String) {
        let p = &mut self.persist;
        p.total_forks += 1;
        p.latest_fork_usec = child.fork_usec;
        p.reset_child_stats();
        p.cur_keys_total = self.ks.total_keys() as u64;
        p.child_started = unix_secs();
        p.child = Some(child);
        let fork_ms = self.persist.latest_fork_usec / 1000;
        self.latency_sample("fork", fork_ms);
        self.persist.snap.current = Some((super::snapshot::Method::Fork, reason));
    }

    /// A child has ended (reaped or stopped): its state is reset.
    fn child_ended(&mut self) {
        let p = &mut self.persist;
        p.last_bgsave_secs = unix_secs() - p.child_started;
        p.child_started = -1;
        p.reset_child_stats();
        p.snap.last = p.snap.current.take();
        self.evict.snapshot_overhead = 0;
    }

    /// Redis's `killRDBChild`: cancels the running background save; the
    /// cron reaps the child (and removes its temp file) as a cancelled save.
    pub fn kill_rdb_child(&mut self) {
        if let Some(child) = &self.persist.child {
            child.cancel();
        }
    }

    /// FLUSHALL's part (Redis 7.0 `flushAllDataAndResetRDB`): cancel a
    /// running save and, when save points exist, write the now empty
    /// dataset (which resets the change counter).
    pub fn flushall_reset_rdb(&mut self) {
        self.kill_rdb_child();
        self.forkless_cancel();
        if !self.config.save.is_empty() {
            let _ = self.rdb_save();
        }
    }

    /// The persistence part of the engine cron: reap or follow the child,
    /// start saves that save points or BGSAVE SCHEDULE ask for.
    pub fn persist_cron(&mut self) {
        if let Some(sig) = self.persist.shutdown_asap {
            self.shutdown_for_signal(sig);
        }
        let now = unix_secs();
        if self.persist.child.is_some() {
            self.child_progress();
        } else if self.persist.loading.is_none() && self.persist.snap.run.is_none() {
            let p = &self.persist;
            let may_retry = now - p.last_bgsave_try > BGSAVE_RETRY_DELAY || p.last_bgsave_ok;
            let since_save = now - self.last_save_ms / 1000;
            let point = self.config.save.iter().copied().find(|&(secs, changes)| {
                self.dirty >= changes && since_save > secs as i64 && may_retry
            });
            if let Some((secs, changes)) = point {
                tracing::info!("{changes} changes in {secs} seconds. Saving...");
                let _ = self.bgsave_start();
            }
        }
        let p = &self.persist;
        if p.child.is_none()
            && p.snap.run.is_none()
            && p.bgsave_scheduled
            && p.loading.is_none()
            && (now - p.last_bgsave_try > BGSAVE_RETRY_DELAY || p.last_bgsave_ok)
            && self.bgsave_start().is_ok()
        {
            self.persist.bgsave_scheduled = false;
        }
    }

    /// Reads the child's reports and reaps it when it has ended.
    fn child_progress(&mut self) {
        let Some(child) = self.persist.child.as_mut() else {
            return;
        };
        let mut reports = child.reports();
        let exit = child.try_wait();
        if exit.is_some() {
            // What it wrote just before exiting.
            reports.extend(child.reports());
        }
        for r in reports {
            self.child_report(r);
        }
        // The fork guard may have stopped it (and started a forkless save).
        if self.persist.child.is_none() {
            return;
        }
        if let Some(exit) = exit {
            let child = self.persist.child.take().expect("checked above");
            self.bgsave_done(child.pid(), exit);
        }
    }

    fn child_report(&mut self, r: Report) {
        if let Report::Progress { cow, .. } = r {
            self.evict.snapshot_overhead = cow;
            self.fork_guard(cow);
            if self.persist.child.is_none() {
                return;
            }
        }
        let p = &mut self.persist;
        match r {
            Report::Progress { keys, cow } => {
                p.cur_cow = cow;
                p.cur_cow_peak = p.cur_cow_peak.max(cow);
                p.cur_cow_updated = Some(Instant::now());
                p.cur_keys_processed = keys;
                if cow > 0 {
                    tracing::debug!(
                        "Fork CoW for RDB: current {} MB, peak {} MB",
                        cow >> 20,
                        p.cur_cow_peak >> 20
                    );
                }
            }
            Report::Done {
                keys,
                cow,
                peak,
                avg,
            } => {
                p.cur_keys_processed = keys;
                p.cur_cow_peak = p.cur_cow_peak.max(peak).max(cow);
                p.last_cow = p.cur_cow_peak;
                tracing::info!("DB saved on disk");
                tracing::info!(
                    "Fork CoW for RDB: current {} MB, peak {} MB, average {} MB",
                    cow >> 20,
                    peak >> 20,
                    avg >> 20
                );
            }
            Report::Error(text) => tracing::warn!("{text}"),
        }
    }

    /// Redis's `backgroundSaveDoneHandlerDisk` and `resetChildState`.
    fn bgsave_done(&mut self, pid: u32, exit: Exit) {
        if std::mem::take(&mut self.persist.child_for_sync) {
            // A diskless sync's child (Redis's backgroundSaveDoneHandlerSocket):
            // the dump and its counters are not involved.
            let ok = exit == Exit::Success;
            match exit {
                Exit::Success => tracing::info!("Background RDB transfer terminated with success"),
                Exit::Signaled(sig) => {
                    tracing::warn!("Background transfer terminated by signal {sig}")
                }
                Exit::Failed(_) => tracing::warn!("Background transfer error"),
            }
            self.child_ended();
            self.sync_snapshot_done(ok);
            return;
        }
        let temp = file::temp_path(&self.persist.child_dir, pid);
        match exit {
            Exit::Success => {
                tracing::info!("Background saving terminated with success");
                self.dirty = self.dirty.saturating_sub(self.persist.dirty_before_bgsave);
                self.last_save_ms = now_ms();
                self.persist.last_bgsave_ok = true;
            }
            Exit::Failed(_) => {
                tracing::warn!("Background saving error");
                self.persist.last_bgsave_ok = false;
                // The child removes its temp file, unless it could not.
                let _ = std::fs::remove_file(&temp);
            }
            Exit::Signaled(sig) => {
                tracing::warn!("Background saving terminated by signal {sig}");
                let _ = std::fs::remove_file(&temp);
                if sig != SIGUSR1 {
                    self.persist.last_bgsave_ok = false;
                }
            }
        }
        self.child_ended();
        let ok = exit == Exit::Success;
        self.disk_save_done(ok);
    }

    /// Redis's `prepareForShutdown`: cancels a running save and writes the
    /// final dump when save points exist (or SHUTDOWN SAVE), unless NOSAVE
    /// or loading. False when the save failed and `force` is off: the
    /// server keeps running.
    pub fn prepare_shutdown(&mut self, mode: ShutdownSave, force: bool) -> bool {
        if !self.aof_prepare_shutdown(force) {
            tracing::warn!(
                "Errors trying to shut down the server. Check the logs for more information."
            );
            return false;
        }
        if let Some(mut child) = self.persist.child.take() {
            tracing::warn!("There is a child saving an .rdb. Killing it!");
            child.cancel_and_reap(Duration::from_millis(500));
            let _ = std::fs::remove_file(file::temp_path(&self.persist.child_dir, child.pid()));
            self.persist.child_started = -1;
            self.persist.reset_child_stats();
        }
        if self.persist.snap.run.is_some() {
            tracing::warn!("There is a forkless save in progress. Cancelling it!");
            self.forkless_cancel();
        }
        let save = match mode {
            ShutdownSave::Save => true,
            ShutdownSave::NoSave => false,
            ShutdownSave::Default => !self.config.save.is_empty(),
        };
        if let Some(l) = &self.persist.loading {
            // Never overwrite the dump with a half-loaded dataset.
            l.cancel.store(true, Ordering::Relaxed);
        } else if save {
            tracing::info!("Saving the final RDB snapshot before exiting.");
            if self.rdb_save().is_err() {
                if force {
                    tracing::warn!("Error trying to save the DB. Exit anyway.");
                } else {
                    tracing::warn!("Error trying to save the DB, can't exit.");
                    tracing::warn!(
                        "Errors trying to shut down the server. Check the logs for more information."
                    );
                    return false;
                }
            }
        }
        true
    }

    /// Points the second-SIGINT exit at `target`'s temp files (the
    /// synchronous save's and the forkless writer's); done before either
    /// kind of save starts, so that an exit mid-save leaves neither.
    pub(crate) fn insist_temp_files(&mut self, target: &file::Target) {
        if self.persist.insist_temp.as_ref() != Some(&target.dir) {
            insist::set_temp_files(&target.dir, target.pid);
            self.persist.insist_temp = Some(target.dir.clone());
        }
    }

    /// A SIGTERM or SIGINT arrived (Redis's `sigShutdownHandler`): a second
    /// SIGINT exits at once; otherwise the cron runs the shutdown.
    pub fn signal_shutdown(&mut self, sig: Signal) {
        if sig == Signal::Int && self.persist.shutdown_asap.is_some() {
            insist::exit_now();
        }
        if self.loading {
            tracing::warn!("Received shutdown signal during loading, scheduling shutdown.");
        } else {
            tracing::warn!("Received {} scheduling shutdown...", sig.name());
        }
        self.persist.shutdown_asap = Some(sig);
        insist::set_pending(true);
    }

    /// SHUTDOWN ABORT: cancels a shutdown a signal scheduled. False when
    /// none is pending.
    pub fn abort_shutdown(&mut self) -> bool {
        if self.persist.shutdown_asap.take().is_none() {
            return false;
        }
        insist::set_pending(false);
        tracing::info!("Shutdown manually aborted.");
        true
    }

    /// The cron's part of a signal's shutdown, with the flags of
    /// `shutdown-on-sigterm` / `shutdown-on-sigint`.
    fn shutdown_for_signal(&mut self, sig: Signal) {
        use crate::config::shutdown_flags as sf;
        let flags = match sig {
            Signal::Term => self.config.shutdown_on_sigterm,
            Signal::Int => self.config.shutdown_on_sigint,
        };
        let mode = if flags & sf::NOSAVE != 0 {
            ShutdownSave::NoSave
        } else if flags & sf::SAVE != 0 {
            ShutdownSave::Save
        } else {
            ShutdownSave::Default
        };
        if self.prepare_shutdown(mode, flags & sf::FORCE != 0) {
            self.shutdown = Some(mode);
            self.shutdown_notify.notify_one();
        } else {
            tracing::warn!(
                "{} received but errors trying to shut down the server, check the logs for more information",
                sig.name()
            );
            self.persist.shutdown_asap = None;
            insist::set_pending(false);
        }
    }

    /// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: saves (unless NOSAVE), loads
    /// the dump and replaces the dataset with it (NOFLUSH keeps the current
    /// keys; a key in both is an error unless MERGE, which takes the file's).
    /// The error is the reply text.
    pub fn debug_reload(
        &mut self,
        c: &mut Client,
        save: bool,
        flush: bool,
        merge: bool,
    ) -> Result<(), String> {
        const LOAD_ERR: &str = "ERR Error trying to load the RDB dump, check server logs.";
        if self.persist.loading.is_some() {
            return Err(crate::dispatch::errors::LOADING.to_string());
        }
        if save && self.rdb_save().is_err() {
            return Err("ERR".to_string());
        }
        let loaded = self.load_dump_now().map_err(|msg| {
            tracing::warn!("{msg}");
            LOAD_ERR.to_string()
        })?;
        let Loaded {
            mut keyspace,
            keys_loaded,
            expired_skipped,
            ..
        } = loaded;
        if flush {
            for dbi in 0..self.ks.dbs.len() {
                self.touch_db(c, dbi, None);
            }
            fit_databases(&mut keyspace, self.ks.dbs.len());
            let old = self.swap_keyspace(keyspace);
            let effort = old.total_keys();
            self.free_later(old, effort);
            self.sync_notify_flags();
            self.sync_access_policy();
        } else {
            self.merge_loaded(c, keyspace, merge).map_err(|msg| {
                tracing::warn!("{msg}");
                LOAD_ERR.to_string()
            })?;
        }
        self.persist.last_load_keys_loaded = keys_loaded;
        self.persist.last_load_keys_expired = expired_skipped;
        tracing::warn!("DB reloaded by DEBUG RELOAD");
        Ok(())
    }

    /// Loads the dump synchronously (DEBUG RELOAD), honouring
    /// `key-load-delay`. The error is the text to log.
    fn load_dump_now(&mut self) -> Result<Loaded, String> {
        let path = self.config.dir.join(&self.config.dbfilename);
        let opts = self.load_options();
        let Some((map, _len)) = file::open(&path).map_err(|e| {
            format!(
                "Failed opening the RDB file {} for loading: {}",
                self.config.dbfilename,
                strerror(&e)
            )
        })?
        else {
            return Err(format!(
                "Failed opening the RDB file {} for loading: No such file or directory",
                self.config.dbfilename
            ));
        };
        let progress = AtomicU64::new(0);
        let never = AtomicBool::new(false);
        let loaded = load_mapped(&map, &opts, self.config.key_load_delay, &progress, &never)
            .map_err(|e| load_error_text(&e, progress.load(Ordering::Relaxed)).join("; "))?;
        log_loaded(&loaded);
        Ok(loaded)
    }

    /// NOFLUSH: adds the loaded keys to the live dataset.
    fn merge_loaded(
        &mut self,
        c: &mut Client,
        mut ks: Keyspace,
        replace: bool,
    ) -> Result<(), String> {
        let n = ks.dbs.len().min(self.ks.dbs.len());
        if !replace {
            for dbi in 0..n {
                if let Some(e) = ks.dbs[dbi]
                    .iter()
                    .find(|e| self.ks.dbs[dbi].get_raw(e.key.as_bytes()).is_some())
                {
                    return Err(format!(
                        "RDB has duplicated key '{}' in DB {dbi}",
                        String::from_utf8_lossy(e.key.as_bytes())
                    ));
                }
            }
        }
        for dbi in 0..n {
            let keys: Vec<_> = ks.dbs[dbi].iter().map(|e| e.key.clone()).collect();
            for key in keys {
                let k = key.as_bytes();
                let deadline = ks.dbs[dbi].expire_of(k);
                if let Some(entry) = ks.dbs[dbi].remove(k) {
                    self.touch_key(c, dbi, k);
                    self.ks.dbs[dbi].insert_entry(entry, deadline);
                }
            }
        }
        Ok(())
    }

    /// Ends the startup load: installs the dataset, or records the failure.
    fn finish_startup_load(&mut self, result: Result<Loaded, String>, start: Instant) {
        self.persist.loading = None;
        self.loading = false;
        match result {
            Ok(loaded) => {
                log_loaded(&loaded);
                if self.restore_repl_info(&loaded.aux) && !self.is_replica() {
                    // The replicas that continue from this dump must drop
                    // what expired meanwhile too.
                    let lazy = self.config.lazyfree_lazy_expire;
                    let mut buf = Vec::new();
                    for (db, key) in &loaded.expired_keys {
                        let argv = super::propagate::del_argv(lazy, key);
                        self.stream_command(*db, &argv, &mut buf);
                    }
                    self.feed_replicas(&buf);
                }
                let mut ks = loaded.keyspace;
                fit_databases(&mut ks, self.ks.dbs.len());
                let old = self.swap_keyspace(ks);
                drop(old);
                self.sync_notify_flags();
                self.sync_access_policy();
                self.persist.last_load_keys_loaded = loaded.keys_loaded;
                self.persist.last_load_keys_expired = loaded.expired_skipped;
                tracing::info!(
                    "DB loaded from disk: {:.3} seconds",
                    start.elapsed().as_secs_f64()
                );
                tracing::info!("Ready to accept connections tcp");
            }
            Err(text) => self.fatal_load_error(&text),
        }
    }

    pub(crate) fn fatal_load_error(&mut self, text: &str) {
        for line in text.lines() {
            tracing::warn!("{line}");
        }
        self.persist.fatal = true;
        self.shutdown = Some(ShutdownSave::NoSave);
        self.shutdown_notify.notify_one();
    }
}

/// Makes a loaded keyspace have exactly `n` databases (the loader sizes it
/// from the same setting; this only guards the swap).
pub(crate) fn fit_databases(ks: &mut Keyspace, n: usize) {
    if ks.dbs.len() < n {
        let more = Keyspace::new(n);
        ks.dbs.extend(more.dbs.into_iter().skip(ks.dbs.len()));
    }
    ks.dbs.truncate(n);
}

/// Decodes a mapped dump; `loaded` follows the bytes consumed, `cancel`
/// turns `key-load-delay` off.
pub(crate) fn load_mapped(
    bytes: &[u8],
    opts: &LoadOptions,
    key_delay: i32,
    loaded: &AtomicU64,
    cancel: &AtomicBool,
) -> Result<Loaded, RdbError> {
    let mut rng = u64::from(std::process::id()) | 1;
    let mut per_key = |consumed: u64| {
        loaded.store(consumed, Ordering::Relaxed);
        if key_delay != 0 && !cancel.load(Ordering::Relaxed) {
            file::debug_delay(key_delay, &mut rng);
        }
    };
    rdb::load(bytes, opts, &mut per_key)
}

/// The lines Redis logs for a file that failed to load (`offset`: bytes
/// read when it failed).
pub(crate) fn load_error_text(e: &RdbError, offset: u64) -> Vec<String> {
    let internal = |what: &str| format!("Internal error in RDB reading offset {offset} -> {what}");
    match e {
        RdbError::Checksum { expected, got } => vec![
            format!("Wrong RDB checksum expected: ({expected:x}) but got ({got:x}). Aborting now."),
            internal("RDB CRC error"),
        ],
        RdbError::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => vec![
            "Short read or OOM loading DB. Unrecoverable error, aborting now.".to_string(),
            internal("Unexpected EOF reading RDB file"),
        ],
        // A corrupt value: Redis also runs its RDB check in-process
        // (rdbCheckThenExit), whose report repeats the reason.
        RdbError::Corrupt(what) => vec![
            internal(what),
            "--- RDB ERROR DETECTED ---".to_string(),
            format!("[offset {offset}] {what}"),
        ],
        other => vec![internal(&other.to_string())],
    }
}

/// Redis's log lines for a loaded file: its aux fields, then the counts.
pub(crate) fn log_loaded(l: &Loaded) {
    for (k, v) in &l.aux {
        let v = String::from_utf8_lossy(v);
        match k.as_slice() {
            b"redis-ver" => tracing::info!("Loading RDB produced by version {v}"),
            b"ctime" => {
                if let Ok(t) = v.parse::<i64>() {
                    tracing::info!("RDB age {} seconds", (unix_secs() - t).max(0));
                }
            }
            b"used-mem" => {
                if let Ok(b) = v.parse::<u64>() {
                    tracing::info!(
                        "RDB memory usage when created {:.2} Mb",
                        b as f64 / (1024.0 * 1024.0)
                    );
                }
            }
            _ => {}
        }
    }
    // With empty keys skipped the codec logs its own variant of the line.
    if l.empty_skipped == 0 {
        tracing::info!(
            "Done loading RDB, keys loaded: {}, keys expired: {}.",
            l.keys_loaded,
            l.expired_skipped
        );
    }
}

/// Loads `dir/dbfilename` at startup, on a thread of its own, while the
/// engine serves `-LOADING`; logs "Ready to accept connections" once the
/// dataset is in place (at once when there is no dump). A file that cannot
/// be read or decoded stops the server ([`LoadFailed`]).
pub async fn load_at_startup(engine: Rc<RefCell<Engine>>) {
    let start = Instant::now();
    let (path, opts, key_delay) = {
        let e = engine.borrow();
        (
            e.config.dir.join(&e.config.dbfilename),
            e.load_options(),
            e.config.key_load_delay,
        )
    };
    let (map, len) = match file::open(&path) {
        Ok(Some(m)) => m,
        Ok(None) => {
            tracing::info!("Ready to accept connections tcp");
            return;
        }
        Err(err) => {
            engine.borrow_mut().fatal_load_error(&format!(
                "Fatal error loading the DB: {}. Exiting.",
                strerror(&err)
            ));
            return;
        }
    };
    let progress = Arc::new(AtomicU64::new(0));
    let cancel = Arc::new(AtomicBool::new(false));
    {
        let mut e = engine.borrow_mut();
        e.loading = true;
        e.persist.loading = Some(LoadProgress {
            start_time: unix_secs(),
            total_bytes: len,
            loaded_bytes: progress.clone(),
            cancel: cancel.clone(),
        });
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("snapcache-load".into())
        .spawn(move || {
            let r = load_mapped(&map, &opts, key_delay, &progress, &cancel).map_err(|e| {
                let mut lines = load_error_text(&e, progress.load(Ordering::Relaxed));
                lines.push("Terminating server after rdb file reading failure.".to_string());
                lines.join("\n")
            });
            let _ = tx.send(r);
        });
    let result = match spawned {
        Ok(_) => rx
            .await
            .unwrap_or_else(|_| Err("the loading thread ended without a result".to_string())),
        Err(e) => Err(format!("Fatal error loading the DB: {e}. Exiting.")),
    };
    engine.borrow_mut().finish_startup_load(result, start);
}

/// Installs the handler of a second SIGINT during a pending shutdown
/// (Redis: "You insist... exiting now."): it must work while the engine
/// thread is busy in the final save, so it runs in signal context.
pub fn install_insist_handler() {
    insist::install();
}

/// A second SIGINT while a shutdown is pending exits at once, removing
/// the temp files of a save in progress (synchronous or forkless). Everything
/// here runs in signal context or feeds it: only atomics, `unlink` and `_exit`.
mod insist {
    use std::ffi::CString;
    use std::path::Path;
    use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

    use nix::libc;

    use crate::persistence::file::{temp_file, TempKind};

    static PENDING: AtomicBool = AtomicBool::new(false);
    /// The temp files of [`TempKind::ALL`] (`file::temp_file`) as C strings;
    /// replaced (and the old ones leaked, as the handler may be reading
    /// them) only when `dir` changes.
    static TEMP: [AtomicPtr<libc::c_char>; 2] = [
        AtomicPtr::new(std::ptr::null_mut()),
        AtomicPtr::new(std::ptr::null_mut()),
    ];

    pub fn set_pending(on: bool) {
        PENDING.store(on, Ordering::SeqCst);
    }

    pub fn set_temp_files(dir: &Path, pid: u32) {
        use std::os::unix::ffi::OsStrExt;
        for (slot, kind) in TEMP.iter().zip(TempKind::ALL) {
            let p = temp_file(dir, pid, kind);
            if let Ok(c) = CString::new(p.as_os_str().as_bytes()) {
                slot.store(c.into_raw(), Ordering::SeqCst);
            }
        }
    }

    pub fn install() {
        // SAFETY: the action only loads atomics and calls `unlink` and
        // `_exit`, which are async-signal-safe; it allocates nothing and
        // takes no lock. The pointer it reads is either null or a CString
        // that is never freed.
        let r = unsafe { signal_hook_registry::register(libc::SIGINT, on_sigint) };
        if let Err(e) = r {
            tracing::warn!("could not install the SIGINT handler: {e}");
        }
    }

    fn on_sigint() {
        if PENDING.load(Ordering::SeqCst) {
            exit_now();
        }
    }

    /// Removes the saves' temp files and exits with status 1 (not a clean
    /// shutdown). Not logged: this may run in signal context.
    pub fn exit_now() -> ! {
        for slot in &TEMP {
            let p = slot.load(Ordering::SeqCst);
            // SAFETY: `p` is null or a NUL-terminated string leaked by
            // `set_temp_files`; `unlink` is async-signal-safe.
            if !p.is_null() {
                unsafe {
                    libc::unlink(p);
                }
            }
        }
        // SAFETY: `_exit` is async-signal-safe.
        unsafe { libc::_exit(1) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_failure_is_logged_as_redis_does() {
        let lines = load_error_text(
            &RdbError::Checksum {
                expected: 0xabc,
                got: 0x123,
            },
            42,
        );
        assert_eq!(
            lines,
            vec![
                "Wrong RDB checksum expected: (abc) but got (123). Aborting now.".to_string(),
                "Internal error in RDB reading offset 42 -> RDB CRC error".to_string(),
            ]
        );
    }

    #[test]
    fn fit_databases_pads_and_truncates() {
        let mut ks = Keyspace::new(2);
        fit_databases(&mut ks, 16);
        assert_eq!(ks.dbs.len(), 16);
        assert_eq!(ks.dbs[15].id, 15);
        fit_databases(&mut ks, 3);
        assert_eq!(ks.dbs.len(), 3);
    }

    #[test]
    fn loading_eta_follows_progress() {
        let p = LoadProgress {
            start_time: unix_secs() - 10,
            total_bytes: 1000,
            loaded_bytes: Arc::new(AtomicU64::new(499)),
            cancel: Arc::new(AtomicBool::new(false)),
        };
        let (perc, eta) = p.perc_and_eta();
        assert!((perc - 49.9).abs() < 1e-9);
        assert_eq!(eta, 10 * 501 / 500);
    }
}
