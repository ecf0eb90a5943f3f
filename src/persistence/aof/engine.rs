//! The engine's side of the AOF: feeding the buffer, writing and fsyncing
//! it, BGREWRITEAOF and its completion, turning the AOF on and off, and
//! shutdown. The functions follow Redis 7.0's `aof.c` of the same purpose
//! (`feedAppendOnlyFile`, `flushAppendOnlyFile`,
//! `rewriteAppendOnlyFileBackground`, `backgroundRewriteDoneHandler`,
//! `startAppendOnly`, `stopAppendOnly`), with Redis's log lines.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::manifest::{self, Manifest};
use super::rewrite::BaseFormat;
use super::{rewrite_bg_path, rewrite_temp_path, State};
use crate::config::{strerror, AppendFsync};
use crate::keyspace::now_ms;
use crate::persistence::fork::{self, Exit, Report};
use crate::server::propagate::encode_command;
use crate::server::Engine;

/// SIGUSR1: how the server cancels its own child.
const SIGUSR1: i32 = nix::sys::signal::Signal::SIGUSR1 as i32;
/// Redis's AOF_REWRITE_LIMITE_THRESHOLD / _MAX_MINUTES.
const LIMIT_THRESHOLD: u64 = 3;
const LIMIT_MAX_MINUTES: i64 = 60;

fn unix_secs() -> i64 {
    now_ms() / 1000
}

/// Writes `buf` whole, retrying short writes and EINTR (`aofWrite`).
/// Returns the bytes written and the error that stopped it, if any.
fn write_retry(mut f: &File, buf: &[u8]) -> (usize, Option<std::io::Error>) {
    let mut done = 0;
    while done < buf.len() {
        match f.write(&buf[done..]) {
            Ok(0) => {
                return (
                    done,
                    Some(std::io::Error::from(std::io::ErrorKind::WriteZero)),
                )
            }
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return (done, Some(e)),
        }
    }
    (done, None)
}

/// Opens an incr file for appending; `truncate` empties it first.
pub(crate) fn open_incr(path: &std::path::Path, truncate: bool) -> std::io::Result<File> {
    let f = OpenOptions::new().append(true).create(true).open(path)?;
    if truncate {
        f.set_len(0)?;
    }
    Ok(f)
}

impl Engine {
    /// `dir/appenddirname`.
    pub fn aof_dir(&self) -> PathBuf {
        self.config.dir.join(&self.config.appenddirname)
    }

    /// True while a fork child (RDB save or AOF rewrite) runs.
    pub fn child_active(&self) -> bool {
        self.persist.child.is_some() || self.aof.child.is_some()
    }

    /// Keeps the propagation layer's "the AOF wants the stream" flag in
    /// step with the AOF state.
    pub(crate) fn aof_sync_flag(&mut self) {
        self.repl.aof = self.aof.state != State::Off;
    }

    /// The MISCONF error while the AOF cannot be written (Redis's
    /// `writeCommandsDeniedByDiskError`, AOF part).
    pub fn aof_disk_error(&self) -> Option<String> {
        if self.aof.state == State::Off {
            return None;
        }
        let why = if !self.aof.last_write_ok {
            self.aof.last_write_err.clone()
        } else {
            let errno = self.aof.bio.fsync_error()?;
            strerror(&std::io::Error::from_raw_os_error(errno))
        };
        Some(format!("MISCONF Errors writing to the AOF file: {why}"))
    }

    /// `aof_last_write_status` is ok.
    pub fn aof_write_ok(&self) -> bool {
        self.aof.last_write_ok && self.aof.bio.fsync_error().is_none()
    }

    /// Appends one propagated batch (wrapped in MULTI/EXEC when
    /// `transaction`) to the AOF buffer.
    pub fn aof_feed_ops(&mut self, ops: &[(usize, Vec<Bytes>)], transaction: bool) {
        let (Some(first), Some(last)) = (ops.first(), ops.last()) else {
            return;
        };
        if transaction {
            self.aof_feed(first.0, &[Bytes::from_static(b"MULTI")]);
        }
        for (db, a) in ops {
            self.aof_feed(*db, a);
        }
        if transaction {
            self.aof_feed(last.0, &[Bytes::from_static(b"EXEC")]);
        }
    }

    /// Redis's `feedAppendOnlyFile`.
    fn aof_feed(&mut self, db: usize, argv: &[Bytes]) {
        let accepting = self.aof.accepting();
        let a = &mut self.aof;
        if self.config.aof_timestamp_enabled {
            let now = unix_secs();
            if a.cur_timestamp < now {
                a.cur_timestamp = now;
                if accepting {
                    a.buf.extend_from_slice(format!("#TS:{now}\r\n").as_bytes());
                }
            }
        }
        if a.selected_db != Some(db) {
            a.selected_db = Some(db);
            if accepting {
                let d = itoa::Buffer::new().format(db).as_bytes().to_vec();
                encode_command(&[Bytes::from_static(b"SELECT"), Bytes::from(d)], &mut a.buf);
            }
        }
        if accepting {
            let before = a.buf.len();
            encode_command(argv, &mut a.buf);
            a.fed += (a.buf.len() - before) as u64;
        }
    }

    /// Before a connection sends its replies: with `appendfsync always`
    /// and something buffered, the position it must wait for (see
    /// [`Engine::aof_sync_upto`]); otherwise writes now and returns None.
    #[inline]
    pub fn aof_reply_barrier(&mut self) -> Option<u64> {
        if self.aof.state == State::Off {
            return None;
        }
        if self.config.appendfsync == AppendFsync::Always && !self.aof.buf.is_empty() {
            return Some(self.aof.fed);
        }
        self.aof_flush(false);
        None
    }

    /// Writes and fsyncs unless another connection already did past
    /// `target`.
    pub fn aof_sync_upto(&mut self, target: u64) {
        if self.aof.synced < target {
            self.aof_flush(false);
        }
    }

    /// Called before replies leave the server: writes the buffer (and
    /// fsyncs as `appendfsync` asks).
    #[inline]
    pub fn aof_before_reply(&mut self) {
        if self.aof.state != State::Off {
            self.aof_flush(false);
        }
    }

    /// Redis's `flushAppendOnlyFile`.
    pub fn aof_flush(&mut self, force: bool) {
        let Some(file) = self.aof.file.clone() else {
            return;
        };
        let now = unix_secs();
        let policy = self.config.appendfsync;
        let a = &mut self.aof;
        let mut sync_in_progress = false;
        if a.buf.is_empty() {
            let unsynced = a.last_incr_fsync_offset != a.last_incr_size;
            let due = match policy {
                AppendFsync::EverySec => {
                    sync_in_progress = a.bio.pending() > 0;
                    unsynced && now > a.last_fsync && !sync_in_progress
                }
                AppendFsync::Always => unsynced,
                AppendFsync::No => false,
            };
            if due {
                self.aof_try_fsync(&file, now, sync_in_progress);
            }
            return;
        }
        if policy == AppendFsync::EverySec {
            sync_in_progress = a.bio.pending() > 0;
            if !force && sync_in_progress {
                if a.flush_postponed_start == 0 {
                    a.flush_postponed_start = now;
                    return;
                } else if now - a.flush_postponed_start < 2 {
                    return;
                }
                a.delayed_fsync += 1;
                tracing::info!("Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.");
            }
        }
        if a.flush_sleep_us > 0 {
            std::thread::sleep(Duration::from_micros(a.flush_sleep_us));
        }
        let (mut written, err) = write_retry(&file, &a.buf);
        a.flush_postponed_start = 0;
        if written != a.buf.len() {
            match err {
                Some(e) if written == 0 => {
                    tracing::warn!("Error writing to the AOF file: {}", strerror(&e));
                    a.last_write_err = strerror(&e);
                }
                _ => {
                    tracing::warn!(
                        "Short write while writing to the AOF file: (nwritten={written}, expected={})",
                        a.buf.len()
                    );
                    match file.set_len(a.last_incr_size) {
                        Ok(()) => written = 0,
                        Err(e) => tracing::warn!(
                            "Could not remove short write from the append-only file.  Redis may refuse to load the AOF the next time it starts.  ftruncate: {}",
                            strerror(&e)
                        ),
                    }
                    a.last_write_err = "No space left on device".to_string();
                }
            }
            if policy == AppendFsync::Always {
                tracing::warn!("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
                std::process::exit(1);
            }
            a.last_write_ok = false;
            if written > 0 {
                a.current_size += written as u64;
                a.last_incr_size += written as u64;
                a.buf.drain(..written);
            }
            return;
        }
        if !a.last_write_ok {
            tracing::warn!("AOF write error looks solved, Redis can write again.");
            a.last_write_ok = true;
        }
        a.current_size += written as u64;
        a.last_incr_size += written as u64;
        if a.buf.capacity() > 1 << 20 {
            a.buf = Vec::new();
        } else {
            a.buf.clear();
        }
        self.aof_try_fsync(&file, now, sync_in_progress);
    }

    fn aof_try_fsync(&mut self, file: &Arc<File>, now: i64, sync_in_progress: bool) {
        if self.config.no_appendfsync_on_rewrite && self.child_active() {
            return;
        }
        let a = &mut self.aof;
        match self.config.appendfsync {
            AppendFsync::Always => {
                if let Err(e) = file.sync_data() {
                    tracing::warn!(
                        "Can't persist AOF for fsync error when the AOF fsync policy is 'always': {}. Exiting...",
                        strerror(&e)
                    );
                    std::process::exit(1);
                }
                a.last_incr_fsync_offset = a.last_incr_size;
                a.last_fsync = now;
                if a.buf.is_empty() {
                    a.synced = a.fed;
                }
            }
            AppendFsync::EverySec if now > a.last_fsync => {
                if !sync_in_progress {
                    a.bio.fsync(file.clone());
                    a.last_incr_fsync_offset = a.last_incr_size;
                }
                a.last_fsync = now;
            }
            _ => {}
        }
    }

    /// Writes the manifest if it changed (`persistAofManifest`).
    pub(crate) fn aof_persist_manifest(&self, am: &mut Manifest) -> Result<(), ()> {
        if !am.dirty {
            return Ok(());
        }
        match manifest::write(&self.aof_dir(), &self.config.appendfilename, am) {
            Ok(()) => {
                am.dirty = false;
                Ok(())
            }
            Err(msg) => {
                tracing::warn!("{msg}");
                Err(())
            }
        }
    }

    /// Deletes the history files and drops them from the manifest
    /// (`aofDelHistoryFiles`).
    pub fn aof_del_history_files(&mut self) -> Result<(), ()> {
        if self.config.aof_disable_auto_gc || self.aof.manifest.history.is_empty() {
            return Ok(());
        }
        let dir = self.aof_dir();
        for ai in std::mem::take(&mut self.aof.manifest.history) {
            tracing::info!("Removing the history file {} in the background", ai.name);
            let _ = std::fs::remove_file(dir.join(&ai.name));
        }
        let mut am = std::mem::take(&mut self.aof.manifest);
        am.dirty = true;
        let r = self.aof_persist_manifest(&mut am);
        self.aof.manifest = am;
        r
    }

    /// Starts writing a new incr file, recorded in the manifest (or a
    /// temporary one while waiting for the first rewrite)
    /// (`openNewIncrAofForAppend`).
    fn aof_open_new_incr(&mut self) -> Result<(), ()> {
        if self.aof.state == State::Off {
            return Ok(());
        }
        let fname = self.config.appendfilename.clone();
        let (name, mut temp_am) = if self.aof.state == State::WaitRewrite {
            (format!("temp-{fname}.incr"), None)
        } else {
            let mut am = self.aof.manifest.clone();
            let n = am.new_incr(&fname);
            (n, Some(am))
        };
        let f = match open_incr(&self.aof_dir().join(&name), true) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!("Can't open the append-only file {name}: {}", strerror(&e));
                return Err(());
            }
        };
        if let Some(am) = temp_am.as_mut() {
            self.aof_persist_manifest(am)?;
        }
        tracing::info!("Creating AOF incr file {name} on background rewrite");
        if let Some(old) = self.aof.file.take() {
            self.aof.bio.fsync_and_close(old);
            self.aof.last_fsync = unix_secs();
        }
        self.aof.file = Some(Arc::new(f));
        self.aof.last_incr_size = 0;
        self.aof.last_incr_fsync_offset = 0;
        if let Some(am) = temp_am {
            self.aof.manifest = am;
        }
        Ok(())
    }

    /// Redis's `aofRewriteLimited`: after repeated failures automatic
    /// rewrites back off (1, 2, 4 ... 60 minutes).
    fn aof_rewrite_limited(&mut self) -> bool {
        let a = &mut self.aof;
        if a.consecutive_failures < LIMIT_THRESHOLD {
            a.limit_delay_minutes = 0;
            a.limit_next_time = 0;
            return false;
        }
        let now = unix_secs();
        if a.limit_next_time != 0 {
            if now < a.limit_next_time {
                return true;
            }
            a.limit_next_time = 0;
            return false;
        }
        a.limit_delay_minutes = if a.limit_delay_minutes == 0 {
            1
        } else {
            (a.limit_delay_minutes * 2).min(LIMIT_MAX_MINUTES)
        };
        a.limit_next_time = now + a.limit_delay_minutes * 60;
        tracing::warn!(
            "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {} minutes",
            a.limit_delay_minutes
        );
        true
    }

    /// Redis's `rewriteAppendOnlyFileBackground`: a new incr file, then a
    /// child that writes the new base.
    pub fn aof_rewrite_background(&mut self) -> Result<u32, ()> {
        if self.child_active() {
            return Err(());
        }
        let dir = self.aof_dir();
        if let Err(e) = std::fs::create_dir_all(&dir) {
            tracing::warn!(
                "Can't open or create append-only dir {}: {}",
                self.config.appenddirname,
                strerror(&e)
            );
            self.aof.last_bgrewrite_ok = false;
            return Err(());
        }
        self.aof.selected_db = None;
        self.aof_flush(true);
        if self.aof_open_new_incr().is_err() {
            self.aof.last_bgrewrite_ok = false;
            return Err(());
        }
        self.aof.rewrites += 1;
        let format = if self.config.aof_use_rdb_preamble {
            BaseFormat::Rdb
        } else {
            BaseFormat::Commands {
                timestamp: self.config.aof_timestamp_enabled,
            }
        };
        let mut target = self.save_target();
        target.incremental_fsync = self.config.aof_rewrite_incremental_fsync;
        let job = fork::SaveJob {
            ks: &self.ks,
            opts: self.save_options(),
            target,
            key_delay: self.config.rdb_key_save_delay,
            output: fork::Output::AofBase(format),
        };
        match fork::spawn_save(&job) {
            Ok(child) => {
                let pid = child.pid();
                let p = &mut self.persist;
                p.total_forks += 1;
                p.latest_fork_usec = child.fork_usec;
                p.cur_cow = 0;
                p.cur_cow_peak = 0;
                p.cur_cow_updated = None;
                p.cur_keys_processed = 0;
                p.cur_keys_total = self.ks.total_keys() as u64;
                let fork_ms = child.fork_usec / 1000;
                self.aof.child_started = unix_secs();
                self.aof.child_dir = self.config.dir.clone();
                self.aof.child = Some(child);
                self.latency_sample("fork", fork_ms);
                tracing::info!("Background append only file rewriting started by pid {pid}");
                self.aof.rewrite_scheduled = false;
                Ok(pid)
            }
            Err(errno) => {
                self.aof.last_bgrewrite_ok = false;
                tracing::warn!(
                    "Can't rewrite append only file in background: fork: {}",
                    errno.desc()
                );
                Err(())
            }
        }
    }

    /// BGREWRITEAOF's reply (`bgrewriteaofCommand`); `in_exec` schedules.
    pub fn bgrewriteaof(&mut self, in_exec: bool) -> Result<&'static str, &'static str> {
        if self.aof.child.is_some() {
            Err("ERR Background append only file rewriting already in progress")
        } else if self.child_active() || in_exec {
            self.aof.rewrite_scheduled = true;
            self.aof.consecutive_failures = 0;
            Ok("Background append only file rewriting scheduled")
        } else if self.aof_rewrite_background().is_ok() {
            Ok("Background append only file rewriting started")
        } else {
            Err("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.")
        }
    }

    /// The AOF part of the engine cron: follow or reap the rewrite child,
    /// start scheduled and automatic rewrites, write and fsync the buffer.
    pub fn aof_cron(&mut self) {
        if self.aof.child.is_some() {
            self.aof_child_progress();
        }
        if !self.child_active()
            && self.aof.rewrite_scheduled
            && !self.loading
            && !self.aof_rewrite_limited()
        {
            let _ = self.aof_rewrite_background();
        }
        let perc = self.config.auto_aof_rewrite_percentage as u64;
        let a = &self.aof;
        if a.state == State::On
            && !self.child_active()
            && !self.loading
            && perc > 0
            && a.current_size as i64 > self.config.auto_aof_rewrite_min_size
        {
            let base = a.base_size.max(1);
            let growth = (a.current_size * 100 / base) as i64 - 100;
            if growth >= perc as i64 && !self.aof_rewrite_limited() {
                tracing::info!("Starting automatic rewriting of AOF on {growth}% growth");
                let _ = self.aof_rewrite_background();
            }
        }
        if self.aof.state != State::Off {
            self.aof_flush(false);
        }
    }

    fn aof_child_progress(&mut self) {
        let Some(child) = self.aof.child.as_mut() else {
            return;
        };
        let mut reports = child.reports();
        let exit = child.try_wait();
        if exit.is_some() {
            reports.extend(child.reports());
        }
        for r in reports {
            let p = &mut self.persist;
            match r {
                Report::Progress { keys, cow } => {
                    p.cur_cow = cow;
                    p.cur_cow_peak = p.cur_cow_peak.max(cow);
                    p.cur_cow_updated = Some(std::time::Instant::now());
                    p.cur_keys_processed = keys;
                }
                Report::Done {
                    keys,
                    cow,
                    peak,
                    avg,
                } => {
                    p.cur_keys_processed = keys;
                    p.cur_cow_peak = p.cur_cow_peak.max(peak).max(cow);
                    self.aof.last_cow = p.cur_cow_peak;
                    tracing::info!(
                        "Fork CoW for AOF rewrite: current {} MB, peak {} MB, average {} MB",
                        cow >> 20,
                        peak >> 20,
                        avg >> 20
                    );
                }
                Report::Error(text) => tracing::warn!("{text}"),
            }
        }
        if let Some(exit) = exit {
            let child = self.aof.child.take().expect("checked above");
            self.aof_rewrite_done(child.pid(), exit);
        }
    }

    /// Redis's `backgroundRewriteDoneHandler`.
    fn aof_rewrite_done(&mut self, pid: u32, exit: Exit) {
        let child_dir = self.aof.child_dir.clone();
        match exit {
            Exit::Success => {
                tracing::info!("Background AOF rewrite terminated with success");
                if self.aof_install_rewrite(pid).is_err() {
                    self.aof.last_bgrewrite_ok = false;
                    self.aof.consecutive_failures += 1;
                } else {
                    self.aof.last_bgrewrite_ok = true;
                    self.aof.consecutive_failures = 0;
                    tracing::info!("Background AOF rewrite finished successfully");
                    if self.aof.state == State::WaitRewrite {
                        self.aof.state = State::On;
                    }
                }
            }
            Exit::Failed(_) => {
                self.aof.last_bgrewrite_ok = false;
                self.aof.consecutive_failures += 1;
                tracing::warn!("Background AOF rewrite terminated with error");
            }
            Exit::Signaled(sig) => {
                if sig != SIGUSR1 {
                    self.aof.last_bgrewrite_ok = false;
                    self.aof.consecutive_failures += 1;
                }
                tracing::warn!("Background AOF rewrite terminated by signal {sig}");
            }
        }
        let _ = std::fs::remove_file(rewrite_bg_path(&child_dir, pid));
        let _ = std::fs::remove_file(rewrite_temp_path(&child_dir, pid));
        if self.aof.state == State::WaitRewrite {
            self.aof.buf.clear();
            let name = format!("temp-{}.incr", self.config.appendfilename);
            tracing::info!("Removing the temp incr aof file {name} in the background");
            let _ = std::fs::remove_file(self.aof_dir().join(name));
        }
        let now = unix_secs();
        self.aof.last_rewrite_secs = now - self.aof.child_started;
        self.aof.child_started = -1;
        if self.aof.state == State::WaitRewrite {
            self.aof.rewrite_scheduled = true;
        }
        let p = &mut self.persist;
        p.cur_cow = 0;
        p.cur_cow_peak = 0;
        p.cur_cow_updated = None;
        p.cur_keys_processed = 0;
        p.cur_keys_total = 0;
    }

    /// Moves a finished rewrite's base (and, when the AOF was just turned
    /// on, its temporary incr file) into place and switches the manifest.
    fn aof_install_rewrite(&mut self, pid: u32) -> Result<(), ()> {
        let dir = self.aof_dir();
        let fname = self.config.appendfilename.clone();
        let tmpfile = rewrite_bg_path(&self.aof.child_dir, pid);
        let tmpname = tmpfile
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut am = self.aof.manifest.clone();
        let base = am.new_base(&fname, self.config.aof_use_rdb_preamble);
        let base_path = dir.join(&base);
        if let Err(e) = std::fs::rename(&tmpfile, &base_path) {
            tracing::warn!(
                "Error trying to rename the temporary AOF base file {tmpname} into {}: {}",
                base_path.display(),
                strerror(&e)
            );
            return Err(());
        }
        tracing::info!("Successfully renamed the temporary AOF base file {tmpname} into {base}");
        let mut new_incr_path = None;
        if self.aof.state == State::WaitRewrite {
            let temp_name = format!("temp-{fname}.incr");
            let incr = am.new_incr(&fname);
            let path = dir.join(&incr);
            if let Err(e) = std::fs::rename(dir.join(&temp_name), &path) {
                tracing::warn!(
                    "Error trying to rename the temporary AOF incr file {} into {}: {}",
                    dir.join(&temp_name).display(),
                    path.display(),
                    strerror(&e)
                );
                let _ = std::fs::remove_file(&base_path);
                return Err(());
            }
            tracing::info!(
                "Successfully renamed the temporary AOF incr file {temp_name} into {incr}"
            );
            new_incr_path = Some(path);
        }
        am.mark_rewritten_incr_as_history(self.aof.file.is_some());
        if self.aof_persist_manifest(&mut am).is_err() {
            let _ = std::fs::remove_file(&base_path);
            if let Some(p) = new_incr_path {
                let _ = std::fs::remove_file(p);
            }
            return Err(());
        }
        self.aof.manifest = am;
        if self.aof.state != State::Off {
            let base_len = std::fs::metadata(&base_path).map_or(0, |m| m.len());
            self.aof.current_size = base_len + self.aof.last_incr_size;
            self.aof.base_size = self.aof.current_size;
        }
        let _ = self.aof_del_history_files();
        Ok(())
    }

    /// Cancels the rewrite child and waits for it (`killAppendOnlyChild`).
    pub fn aof_kill_child(&mut self) {
        let Some(mut child) = self.aof.child.take() else {
            return;
        };
        tracing::info!("Killing running AOF rewrite child: {}", child.pid());
        child.cancel_and_reap(Duration::from_secs(5));
        let dir = self.aof.child_dir.clone();
        let _ = std::fs::remove_file(rewrite_bg_path(&dir, child.pid()));
        let _ = std::fs::remove_file(rewrite_temp_path(&dir, child.pid()));
        self.aof.child_started = -1;
    }

    /// CONFIG SET appendonly no (`stopAppendOnly`).
    pub fn aof_stop(&mut self) {
        if self.aof.state == State::Off {
            return;
        }
        self.aof_flush(true);
        if let Some(f) = self.aof.file.take() {
            match f.sync_data() {
                Ok(()) => self.aof.last_fsync = unix_secs(),
                Err(e) => tracing::warn!("Fail to fsync the AOF file: {}", strerror(&e)),
            }
        }
        let a = &mut self.aof;
        a.selected_db = None;
        a.state = State::Off;
        a.rewrite_scheduled = false;
        a.last_incr_size = 0;
        a.last_incr_fsync_offset = 0;
        self.aof_kill_child();
        self.aof.buf = Vec::new();
        self.aof_sync_flag();
    }

    /// CONFIG SET appendonly yes (`startAppendOnly`): the AOF becomes
    /// usable once a rewrite has written its base.
    pub fn aof_start(&mut self, in_exec: bool) -> Result<(), ()> {
        if self.aof.state != State::Off {
            return Ok(());
        }
        self.aof.state = State::WaitRewrite;
        if self.child_active() && self.aof.child.is_none() {
            self.aof.rewrite_scheduled = true;
            tracing::warn!("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.");
        } else if in_exec {
            self.aof.rewrite_scheduled = true;
            tracing::warn!("AOF was enabled during a transaction. An AOF background was scheduled to start when possible.");
        } else {
            if self.aof.child.is_some() {
                tracing::warn!("AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.");
                self.aof_kill_child();
            }
            if self.aof_rewrite_background().is_err() {
                self.aof.state = State::Off;
                tracing::warn!("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.");
                return Err(());
            }
        }
        self.aof.last_fsync = unix_secs();
        if self.aof.bio.fsync_error().is_some() {
            tracing::warn!("AOF reopen, just ignore the AOF fsync error in bio job");
            self.aof.bio.clear_fsync_error();
        }
        if !self.aof.last_write_ok {
            tracing::warn!("AOF reopen, just ignore the last error.");
            self.aof.last_write_ok = true;
        }
        self.aof_sync_flag();
        Ok(())
    }

    /// The AOF part of shutdown: kill a rewrite, write and fsync what is
    /// buffered. False when the server must not exit (the first rewrite
    /// after turning the AOF on is still running).
    pub fn aof_prepare_shutdown(&mut self, force: bool) -> bool {
        if self.aof.child.is_some() {
            if self.aof.state == State::WaitRewrite {
                if force {
                    tracing::warn!("Writing initial AOF. Exit anyway.");
                } else {
                    tracing::warn!("Writing initial AOF, can't exit.");
                    return false;
                }
            }
            tracing::warn!("There is a child rewriting the AOF. Killing it!");
            self.aof_kill_child();
        }
        if self.aof.state != State::Off {
            tracing::info!("Calling fsync() on the AOF file.");
            self.aof_flush(true);
            if let Some(f) = &self.aof.file {
                let _ = f.sync_data();
            }
        }
        true
    }

    /// INFO persistence: the aof_* fields.
    pub fn aof_info(&self, out: &mut String) {
        use std::fmt::Write as _;
        let a = &self.aof;
        let cur = if a.child_started >= 0 {
            unix_secs() - a.child_started
        } else {
            -1
        };
        let _ = write!(
            out,
            "aof_enabled:{}\r\n\
             aof_rewrite_in_progress:{}\r\n\
             aof_rewrite_scheduled:{}\r\n\
             aof_last_rewrite_time_sec:{}\r\n\
             aof_current_rewrite_time_sec:{cur}\r\n\
             aof_last_bgrewrite_status:{}\r\n\
             aof_rewrites:{}\r\n\
             aof_rewrites_consecutive_failures:{}\r\n\
             aof_last_write_status:{}\r\n\
             aof_last_cow_size:{}\r\n\
             module_fork_in_progress:0\r\n\
             module_fork_last_cow_size:0\r\n",
            u8::from(a.state != State::Off),
            u8::from(a.rewriting()),
            u8::from(a.rewrite_scheduled),
            a.last_rewrite_secs,
            if a.last_bgrewrite_ok { "ok" } else { "err" },
            a.rewrites,
            a.consecutive_failures,
            if self.aof_write_ok() { "ok" } else { "err" },
            a.last_cow,
        );
        if a.state != State::Off {
            let _ = write!(
                out,
                "aof_current_size:{}\r\n\
                 aof_base_size:{}\r\n\
                 aof_pending_rewrite:{}\r\n\
                 aof_buffer_length:{}\r\n\
                 aof_pending_bio_fsync:{}\r\n\
                 aof_delayed_fsync:{}\r\n",
                a.current_size,
                a.base_size,
                u8::from(a.rewrite_scheduled),
                a.buf.len(),
                a.bio.pending(),
                a.delayed_fsync,
            );
        }
    }
}
