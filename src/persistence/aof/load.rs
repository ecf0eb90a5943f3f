//! Loading the AOF: the base (an RDB, or commands), then each incr file,
//! replayed through a client that gets no replies and whose commands are
//! not propagated (Redis's `loadAppendOnlyFiles`,
//! `loadSingleAppendOnlyFile`, `aofOpenIfNeededOnServerStart`, DEBUG
//! LOADAOF), with Redis's log lines and exit codes.
//!
//! The load runs on the engine thread between commands: at startup before
//! the first command is served, for DEBUG LOADAOF inside that command.

use std::time::Instant;

use bytes::Bytes;

use super::engine::open_incr;
use super::manifest::{self, Manifest};
use super::parse::{ReadError, Reader};
use super::rewrite::{self, BaseFormat};
use super::{rewrite_temp_path, State};
use crate::config::strerror;
use crate::persistence::{file, rdb};
use crate::server::client::Client;
use crate::server::persist::{fit_databases, load_error_text, log_loaded};
use crate::server::Engine;

/// The outcome of loading one file or the whole AOF (Redis's AOF_*).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loaded {
    Ok,
    NotExist,
    Empty,
    OpenErr,
    Failed,
    Truncated,
}

const UXEOF_HELP: &str = "You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.";

impl Engine {
    /// Startup: reads the manifest and, with `appendonly yes`, loads the
    /// AOF and opens it for appending. Returns true when the RDB dump is
    /// to be loaded instead (the AOF is off). A fatal error stops the
    /// server (exit code 1).
    pub fn aof_startup(&mut self) -> bool {
        let dir = self.aof_dir();
        match manifest::load(&dir, &self.config.appendfilename) {
            Ok(Some(am)) => self.aof.manifest = am,
            Ok(None) => {
                tracing::debug!("The AOF manifest file doesn't exist");
            }
            Err(lines) => {
                self.fatal_load_error(&lines.join("\n"));
                return false;
            }
        }
        if self.aof.state != State::On {
            return true;
        }
        let start = Instant::now();
        self.loading = true;
        let ret = self.aof_load_all();
        self.loading = false;
        match ret {
            Loaded::Failed | Loaded::OpenErr => {
                self.fatal_load_error("");
                return false;
            }
            Loaded::NotExist | Loaded::Empty => {}
            Loaded::Ok | Loaded::Truncated => tracing::info!(
                "DB loaded from append only file: {:.3} seconds",
                start.elapsed().as_secs_f64()
            ),
        }
        if self.aof_open_on_start().is_err() {
            self.fatal_load_error("");
            return false;
        }
        let _ = self.aof_del_history_files();
        tracing::info!("Ready to accept connections tcp");
        false
    }

    /// Redis's `aofOpenIfNeededOnServerStart`: creates the base when
    /// starting from nothing, opens the last incr file (or a new one) and
    /// writes the manifest.
    fn aof_open_on_start(&mut self) -> Result<(), ()> {
        if self.aof.state != State::On {
            return Ok(());
        }
        let dir = self.aof_dir();
        if let Err(e) = std::fs::create_dir_all(&dir) {
            tracing::warn!(
                "Can't open or create append-only dir {}: {}",
                self.config.appenddirname,
                strerror(&e)
            );
            return Err(());
        }
        let fname = self.config.appendfilename.clone();
        let mut am = std::mem::take(&mut self.aof.manifest);
        let had_incr = !am.incr.is_empty();
        if am.base.is_none() && !had_incr {
            let base = am.new_base(&fname, self.config.aof_use_rdb_preamble);
            let format = if self.config.aof_use_rdb_preamble {
                BaseFormat::Rdb
            } else {
                BaseFormat::Commands {
                    timestamp: self.config.aof_timestamp_enabled,
                }
            };
            let written = rewrite::write_base(
                &self.ks,
                self.save_options(),
                format,
                &rewrite_temp_path(&self.config.dir, std::process::id()),
                &dir.join(&base),
                self.config.aof_rewrite_incremental_fsync,
                &mut |_| {},
            );
            if let Err(msg) = written {
                tracing::warn!("{msg}");
                self.aof.manifest = am;
                return Err(());
            }
            tracing::info!("Creating AOF base file {base} on server start");
        }
        let name = am.last_incr_or_new(&fname);
        let f = match open_incr(&dir.join(&name), false) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!("Can't open the append-only file {name}: {}", strerror(&e));
                self.aof.manifest = am;
                return Err(());
            }
        };
        let persisted = self.aof_persist_manifest(&mut am);
        self.aof.manifest = am;
        persisted?;
        let len = f.metadata().map_or(0, |m| m.len());
        self.aof.file = Some(std::sync::Arc::new(f));
        self.aof.last_incr_size = len;
        self.aof.last_incr_fsync_offset = len;
        if had_incr {
            tracing::info!("Opening AOF incr file {name} on server start");
        } else {
            tracing::info!("Creating AOF incr file {name} on server start");
        }
        self.aof_sync_flag();
        Ok(())
    }

    /// Redis's `aofUpgradePrepare`: moves an old single `appendonly.aof`
    /// from `dir` into the AOF directory as the base.
    fn aof_upgrade_prepare(&mut self, am: &mut Manifest) -> Result<(), ()> {
        let dir = self.aof_dir();
        let fname = self.config.appendfilename.clone();
        if let Err(e) = std::fs::create_dir_all(&dir) {
            tracing::warn!(
                "Can't open or create append-only dir {}: {}",
                self.config.appenddirname,
                strerror(&e)
            );
            return Err(());
        }
        am.base = Some(manifest::AofInfo {
            name: fname.clone(),
            seq: 1,
            kind: manifest::FileType::Base,
        });
        am.base_seq = 1;
        am.dirty = true;
        self.aof_persist_manifest(am)?;
        if let Err(e) = std::fs::rename(self.config.dir.join(&fname), dir.join(&fname)) {
            tracing::warn!(
                "Error trying to move the old AOF file {fname} into dir {}: {}",
                self.config.appenddirname,
                strerror(&e)
            );
            return Err(());
        }
        tracing::info!(
            "Successfully migrated an old-style AOF file ({fname}) into the AOF directory ({}).",
            self.config.appenddirname
        );
        Ok(())
    }

    /// Redis's `loadAppendOnlyFiles` over the manifest in memory.
    pub fn aof_load_all(&mut self) -> Loaded {
        let fname = self.config.appendfilename.clone();
        let dir = self.aof_dir();
        let mut am = self.aof.manifest.clone();
        if self.config.dir.join(&fname).is_file() {
            let only_old_base = am.incr.is_empty()
                && am.base.as_ref().is_some_and(|b| b.name == fname)
                && !dir.join(&fname).exists();
            let empty = am.base.is_none() && am.incr.is_empty();
            if !dir.is_dir() || empty || only_old_base {
                if self.aof_upgrade_prepare(&mut am).is_err() {
                    return Loaded::Failed;
                }
                self.aof.manifest = am.clone();
            }
        }
        if am.base.is_none() && am.incr.is_empty() {
            return Loaded::NotExist;
        }
        let mut total = 0u64;
        let mut base_size = 0u64;
        for (i, ai) in am.base.iter().chain(&am.incr).enumerate() {
            match std::fs::metadata(dir.join(&ai.name)) {
                Ok(m) => {
                    total += m.len();
                    if i == 0 && am.base.is_some() {
                        base_size = m.len();
                    }
                }
                Err(e) => {
                    tracing::warn!(
                        "Unable to obtain the AOF file {} length. stat: {}",
                        ai.name,
                        strerror(&e)
                    );
                    return Loaded::Failed;
                }
            }
        }
        if total == 0 {
            return Loaded::Empty;
        }
        let feeding = self.repl.aof;
        self.repl.aof = false;
        let total_num = usize::from(am.base.is_some()) + am.incr.len();
        let mut num = 0;
        let mut ret = Loaded::Ok;
        let files = am
            .base
            .iter()
            .map(|b| (b.name.clone(), "base"))
            .chain(am.incr.iter().map(|i| (i.name.clone(), "incr")));
        for (name, what) in files {
            num += 1;
            let last = num == total_num;
            let start = Instant::now();
            ret = self.aof_load_file(&name);
            if ret == Loaded::Ok || (ret == Loaded::Truncated && last) {
                tracing::info!(
                    "DB loaded from {what} file {name}: {:.3} seconds",
                    start.elapsed().as_secs_f64()
                );
            }
            if what == "incr" && ret == Loaded::Empty {
                ret = Loaded::Ok;
            }
            if ret == Loaded::Truncated && !last {
                ret = Loaded::Failed;
                tracing::warn!("Fatal error: the truncated file is not the last file");
            }
            if matches!(ret, Loaded::OpenErr | Loaded::Failed) {
                break;
            }
        }
        if !matches!(ret, Loaded::OpenErr | Loaded::Failed) {
            self.aof.current_size = total;
            self.aof.base_size = base_size;
        }
        self.repl.aof = feeding;
        ret
    }

    /// Redis's `loadSingleAppendOnlyFile`.
    fn aof_load_file(&mut self, name: &str) -> Loaded {
        let path = self.aof_dir().join(name);
        let (map, len) = match file::open(&path) {
            Ok(Some(m)) => m,
            Ok(None) => {
                tracing::warn!(
                    "The append log file {name} doesn't exist: No such file or directory"
                );
                return Loaded::NotExist;
            }
            Err(e) => {
                tracing::warn!(
                    "Fatal error: can't open the append log file {name} for reading: {}",
                    strerror(&e)
                );
                return Loaded::OpenErr;
            }
        };
        if len == 0 {
            return Loaded::Empty;
        }
        let data: &[u8] = &map;
        let mut start = 0usize;
        if data.starts_with(b"REDIS") {
            let old_style = name == self.config.appendfilename;
            if old_style {
                tracing::info!("Reading RDB preamble from AOF file...");
            } else {
                tracing::info!("Reading RDB base file on AOF loading...");
            }
            let mut opts = self.load_options();
            // Expired keys stay: their DELs follow in the AOF (Redis's
            // RDBFLAGS_AOF_PREAMBLE).
            opts.drop_expired_before = None;
            match rdb::load(data, &opts, &mut |_| {}) {
                Ok(loaded) => {
                    log_loaded(&loaded);
                    start = loaded.consumed as usize;
                    let mut ks = loaded.keyspace;
                    fit_databases(&mut ks, self.ks.dbs.len());
                    let old = self.swap_keyspace(ks);
                    let effort = old.total_keys();
                    self.free_later(old, effort);
                    self.sync_notify_flags();
                    self.sync_access_policy();
                    if old_style {
                        tracing::info!("Reading the remaining AOF tail...");
                    }
                }
                Err(e) => {
                    for line in load_error_text(&e, 0) {
                        tracing::warn!("{line}");
                    }
                    if old_style {
                        tracing::warn!("Error reading the RDB preamble of the AOF file {name}, AOF loading aborted");
                    } else {
                        tracing::warn!(
                            "Error reading the RDB base file {name}, AOF loading aborted"
                        );
                    }
                    return Loaded::Failed;
                }
            }
        }
        let id = self.next_id();
        let mut c = Client::new(id, String::new(), String::new(), -1, true);
        c.deny_blocking = true;
        let mut reader = Reader::new(data, start);
        let mut valid_up_to = start;
        let mut valid_before_multi = start;
        let truncated_ok = self.config.aof_load_truncated;
        let delay = self.config.key_load_delay;
        let mut rng = u64::from(std::process::id()) | 1;
        let truncated = loop {
            let argv = match reader.next_command() {
                Ok(Some(a)) => a,
                Ok(None) => {
                    if c.multi.is_some() {
                        tracing::warn!(
                            "Revert incomplete MULTI/EXEC transaction in AOF file {name}"
                        );
                        valid_up_to = valid_before_multi;
                        break true;
                    }
                    break false;
                }
                Err(ReadError::Truncated) => break true,
                Err(ReadError::Format) => {
                    tracing::warn!("Bad file format reading the append only file {name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>");
                    return Loaded::Failed;
                }
            };
            let Ok(idx) = self.commands.resolve(&argv) else {
                tracing::warn!(
                    "Unknown command '{}' reading the append only file {name}",
                    String::from_utf8_lossy(&argv[0])
                );
                return Loaded::Failed;
            };
            let spec = self.commands.rows[idx].spec;
            if spec.name == "multi" {
                valid_before_multi = valid_up_to;
            }
            if c.multi.is_some() && spec.name != "exec" {
                c.queue(idx, argv);
            } else {
                self.aof_replay(&mut c, idx, &argv);
            }
            c.out.clear();
            if truncated_ok {
                valid_up_to = reader.pos();
            }
            if delay != 0 {
                file::debug_delay(delay, &mut rng);
            }
        };
        if !truncated {
            return Loaded::Ok;
        }
        drop(map);
        if truncated_ok {
            tracing::warn!("!!! Warning: short read while loading the AOF file {name}!!!");
            tracing::warn!("!!! Truncating the AOF {name} at offset {valid_up_to} !!!");
            let cut = std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_len(valid_up_to as u64));
            match cut {
                Ok(()) => {
                    tracing::warn!(
                        "AOF {name} loaded anyway because aof-load-truncated is enabled"
                    );
                    return Loaded::Truncated;
                }
                Err(e) => tracing::warn!("Error truncating the AOF file {name}: {}", strerror(&e)),
            }
        }
        tracing::warn!("Unexpected end of file reading the append only file {name}. {UXEOF_HELP}");
        Loaded::Failed
    }

    /// Runs one command of an AOF file: no gates, no reply, nothing
    /// propagated (Redis calls the command's proc directly).
    fn aof_replay(&mut self, c: &mut Client, idx: usize, argv: &[Bytes]) {
        let spec = self.commands.rows[idx].spec;
        let Some(handler) = spec.handler else {
            return;
        };
        c.cmd_index = Some(idx);
        let saved = self.prop_enter();
        handler(self, c, argv);
        self.drain_expired(Some(c));
        self.prop_leave(saved, c.db, argv, false, true);
        self.repl.pending.clear();
    }

    /// DEBUG LOADAOF: writes what is buffered, empties the dataset and
    /// loads it back from the AOF. A failed load ends the process, as in
    /// Redis.
    pub fn debug_loadaof(&mut self, c: &mut Client) {
        if self.aof.state != State::Off {
            self.aof_flush(true);
        }
        for dbi in 0..self.ks.dbs.len() {
            self.touch_db(c, dbi, None);
        }
        let fresh = crate::keyspace::Keyspace::new(self.ks.dbs.len());
        let old = self.swap_keyspace(fresh);
        let effort = old.total_keys();
        self.free_later(old, effort);
        self.sync_notify_flags();
        self.sync_access_policy();
        match manifest::load(&self.aof_dir(), &self.config.appendfilename) {
            Ok(am) => self.aof.manifest = am.unwrap_or_default(),
            Err(lines) => {
                for l in lines {
                    tracing::warn!("{l}");
                }
                std::process::exit(1);
            }
        }
        let _ = self.aof_del_history_files();
        let was_loading = self.loading;
        self.loading = true;
        let ret = self.aof_load_all();
        self.loading = was_loading;
        if !matches!(ret, Loaded::Ok | Loaded::Empty | Loaded::NotExist) {
            std::process::exit(1);
        }
        self.dirty = 0;
        tracing::info!("Append Only File loaded by DEBUG LOADAOF");
    }
}
