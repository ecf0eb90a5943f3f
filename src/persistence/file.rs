//! Snapshot files on disk: writing `dir/dbfilename` safely and reading it
//! back through a memory map.
//!
//! # Overview
//!
//! [`save`] encodes a keyspace with the RDB codec into `temp-<pid>.rdb` in
//! the target directory, then makes it the dump. It uses plain `std` I/O and
//! no locks or logging, because the fork() child calls it as well as the
//! engine thread (SAVE, SHUTDOWN, FLUSHALL, DEBUG RELOAD). Errors come back
//! as [`SaveError`], whose text is Redis's log line for that failure; the
//! caller logs it.
//!
//! # Crash safety
//!
//! The temp file is written, flushed and fsynced (with
//! `rdb-save-incremental-fsync`, also every 4 MB on the way so the final
//! fsync does not stall on a large dirty page cache), renamed over the
//! target, and then the directory is fsynced so the rename itself is
//! durable. A crash at any point leaves either the previous dump or the new
//! one, never a mix. On any failure the temp file is removed and the
//! previous dump is untouched.
//!
//! # Consistency
//!
//! [`open`] maps the file read-only; the loader verifies the whole file
//! (checksum included) before anything it decoded is used, so a torn or
//! corrupt file never replaces live data.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::config::strerror;
use crate::keyspace::Keyspace;
use crate::persistence::rdb::{self, SaveOptions};

/// Redis's REDIS_AUTOSYNC_BYTES: fsync the temp file every 4 MB written.
pub(crate) const AUTOSYNC_BYTES: u64 = 4 << 20;

/// Where a snapshot goes.
#[derive(Clone, Debug)]
pub struct Target {
    /// `dir`, absolute.
    pub dir: PathBuf,
    /// `dbfilename`.
    pub filename: String,
    /// The pid the temp file is named after (`temp-<pid>.rdb`): the saving
    /// process's own.
    pub pid: u32,
    /// `rdb-save-incremental-fsync`.
    pub incremental_fsync: bool,
}

impl Target {
    pub fn temp_path(&self) -> PathBuf {
        temp_path(&self.dir, self.pid)
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(&self.filename)
    }
}

/// Which of a process's temp dump files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TempKind {
    /// A synchronous save's or a forked child's: `temp-<pid>.rdb`.
    Save,
    /// The forkless writer thread's: `temp-<pid>-forkless.rdb`, apart from
    /// the synchronous save's, which SAVE, FLUSHALL and DEBUG RELOAD may
    /// write while the walk runs.
    Forkless,
}

impl TempKind {
    pub const ALL: [TempKind; 2] = [TempKind::Save, TempKind::Forkless];
}

/// The one place temp dump files are named: `dir/temp-<pid>.rdb` or
/// `dir/temp-<pid>-forkless.rdb`.
pub fn temp_file(dir: &Path, pid: u32, kind: TempKind) -> PathBuf {
    match kind {
        TempKind::Save => dir.join(format!("temp-{pid}.rdb")),
        TempKind::Forkless => dir.join(format!("temp-{pid}-forkless.rdb")),
    }
}

/// `dir/temp-<pid>.rdb`.
pub fn temp_path(dir: &Path, pid: u32) -> PathBuf {
    temp_file(dir, pid, TempKind::Save)
}

/// A failed save; its text is the line Redis logs for the same failure.
#[derive(Debug)]
pub enum SaveError {
    /// The temp file could not be created.
    Open {
        temp: String,
        dir: String,
        err: io::Error,
    },
    /// The rename over the dump failed.
    Rename {
        temp: String,
        target: String,
        dir: String,
        err: io::Error,
    },
    /// Encoding, writing, flushing or syncing failed (`op` names the step).
    Write { op: &'static str, err: io::Error },
}

impl std::fmt::Display for SaveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SaveError::Open { temp, dir, err } => write!(
                f,
                "Failed opening the temp RDB file {temp} (in server root dir {dir}) for saving: {}",
                strerror(err)
            ),
            SaveError::Rename {
                temp,
                target,
                dir,
                err,
            } => write!(
                f,
                "Error moving temp DB file {temp} on the final destination {target} (in server root dir {dir}): {}",
                strerror(err)
            ),
            SaveError::Write { op, err } => {
                write!(f, "Write error saving DB on disk({op}): {}", strerror(err))
            }
        }
    }
}

/// A file writer that fsyncs every [`AUTOSYNC_BYTES`] when asked to.
pub(crate) struct AutoSync {
    pub(crate) file: File,
    every: Option<u64>,
    pending: u64,
}

impl AutoSync {
    /// Fsyncs every [`AUTOSYNC_BYTES`] when `incremental` is set.
    pub(crate) fn new(file: File, incremental: bool) -> AutoSync {
        AutoSync {
            file,
            every: incremental.then_some(AUTOSYNC_BYTES),
            pending: 0,
        }
    }
}

impl Write for AutoSync {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        if let Some(every) = self.every {
            self.pending += n as u64;
            if self.pending >= every {
                self.file.sync_data()?;
                self.pending = 0;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Writes `ks` as the dump at `target` (temp file, fsync, rename, fsync of
/// the directory). `per_key` runs after each key with the count so far.
/// Returns the number of keys written.
pub fn save(
    ks: &Keyspace,
    opts: SaveOptions,
    target: &Target,
    per_key: &mut dyn FnMut(u64),
) -> Result<u64, SaveError> {
    let temp = target.temp_path();
    let result = write_and_rename(ks, opts, target, &temp, per_key);
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

fn write_and_rename(
    ks: &Keyspace,
    opts: SaveOptions,
    target: &Target,
    temp: &Path,
    per_key: &mut dyn FnMut(u64),
) -> Result<u64, SaveError> {
    let sink = create_temp(target, temp)?;
    let mut keys = 0u64;
    let mut count = |n: u64| {
        keys = n;
        per_key(n);
    };
    let out = BufWriter::with_capacity(64 << 10, sink);
    let out = rdb::write_keyspace(ks, opts, out, &mut count).map_err(|err| SaveError::Write {
        op: "rdbSaveRio",
        err,
    })?;
    let sink = out.into_inner().map_err(|e| SaveError::Write {
        op: "fflush",
        err: e.into_error(),
    })?;
    commit_temp(target, temp, sink)?;
    Ok(keys)
}

/// Creates the temp file a save writes (the forkless writer's too).
pub(crate) fn create_temp(target: &Target, temp: &Path) -> Result<AutoSync, SaveError> {
    let file = File::create(temp).map_err(|err| SaveError::Open {
        temp: file_name(temp),
        dir: target.dir.display().to_string(),
        err,
    })?;
    Ok(AutoSync::new(file, target.incremental_fsync))
}

/// Makes a fully written temp file the dump: fsync, rename over the
/// target, fsync of the directory.
pub(crate) fn commit_temp(target: &Target, temp: &Path, sink: AutoSync) -> Result<(), SaveError> {
    sink.file
        .sync_all()
        .map_err(|err| SaveError::Write { op: "fsync", err })?;
    drop(sink);
    let path = target.path();
    std::fs::rename(temp, &path).map_err(|err| SaveError::Rename {
        temp: file_name(temp),
        target: target.filename.clone(),
        dir: target.dir.display().to_string(),
        err,
    })?;
    fsync_dir(&target.dir).map_err(|err| SaveError::Write {
        op: "fsyncFileDir",
        err,
    })
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Makes a rename in `dir` durable.
pub(crate) fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Opens the dump for loading: `Ok(None)` when there is none.
pub fn open(path: &Path) -> io::Result<Option<(memmap2::Mmap, u64)>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len();
    // SAFETY: the map is read-only and private to this process. Nothing in
    // snapcache writes the dump in place (saves go to a temp file that is
    // renamed over it, which leaves an existing map on the old inode), and
    // the loader treats the bytes as hostile input, bounds-checking every
    // read, so even a concurrent external truncation cannot cause undefined
    // behaviour beyond a SIGBUS that an administrator provoked.
    let map = unsafe { memmap2::Mmap::map(&file)? };
    #[cfg(unix)]
    let _ = map.advise(memmap2::Advice::Sequential);
    Ok(Some((map, len)))
}

/// Redis's `debugDelay`: sleeps `usec` microseconds; a negative value sleeps
/// 1 µs once every `-usec` calls on average (a delay shorter than a sleep).
pub fn debug_delay(usec: i32, rng: &mut u64) {
    let us = if usec < 0 {
        // xorshift64: no locks, no allocation (the fork child calls this).
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        u64::from(rng.is_multiple_of(u64::from(usec.unsigned_abs())))
    } else {
        usec as u64
    };
    if us > 0 {
        std::thread::sleep(std::time::Duration::from_micros(us));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_files_are_named_in_one_place() {
        let dir = Path::new("/data");
        assert_eq!(temp_path(dir, 42), PathBuf::from("/data/temp-42.rdb"));
        assert_eq!(
            temp_file(dir, 42, TempKind::Save),
            PathBuf::from("/data/temp-42.rdb")
        );
        assert_eq!(
            temp_file(dir, 42, TempKind::Forkless),
            PathBuf::from("/data/temp-42-forkless.rdb")
        );
        let target = Target {
            dir: dir.to_path_buf(),
            filename: "dump.rdb".into(),
            pid: 42,
            incremental_fsync: false,
        };
        assert_eq!(target.temp_path(), temp_file(dir, 42, TempKind::Save));
        assert_eq!(
            crate::persistence::forkless::temp_path(&target),
            temp_file(dir, 42, TempKind::Forkless)
        );
    }
}
