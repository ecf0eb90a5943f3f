//! The stream a full sync's replicas miss while their snapshot is made and
//! sent, spooled to a file rather than held in their output buffers.
//!
//! Redis keeps that stream in each replica's output buffer: under a write
//! load that outruns the snapshot it passes `client-output-buffer-limit
//! replica`, the sync is dropped and starts again, forever. Here the stream
//! from the snapshot's offset on is appended to `temp-repl-<pid>-<n>.spool`
//! in `dir` (one file per sync, shared by its replicas); once a replica has
//! its snapshot, [`drain`] sends it the file in chunks through the same
//! bounded window as the snapshot, and when it has caught up with the end
//! of the file (checked on the engine thread, between two writes of the
//! stream) it joins the live stream. Memory stays at a window per replica
//! whatever the load; the disk takes the stream's bytes for the sync's
//! duration.
//!
//! A spool that cannot be written (a full disk) ends the syncs of its
//! replicas, which reconnect; the file is removed when its last replica
//! has caught up or gone, and at startup any left by a crash are removed
//! with the other temp files of `dir`.

use std::cell::RefCell;
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;

use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::primary::SyncState;
use crate::server::Engine;

/// One sync's spooled stream.
pub struct Spool {
    pub id: u64,
    pub path: PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
    /// Bytes appended.
    pub len: u64,
    /// Bytes flushed to the file (what a reader may read).
    pub flushed: u64,
    /// Replicas that still read from it (or wait for their snapshot).
    pub replicas: Vec<u64>,
}

impl Spool {
    /// Appends stream bytes; false once the file failed.
    fn append(&mut self, bytes: &[u8]) -> bool {
        let Some(f) = &mut self.file else {
            return false;
        };
        if let Err(e) = f.write_all(bytes) {
            tracing::warn!(
                "Replication spool {}: {e}; its replicas will resync",
                self.path.display()
            );
            self.file = None;
            return false;
        }
        self.len += bytes.len() as u64;
        true
    }

    /// Makes everything appended readable.
    fn flush(&mut self) -> bool {
        let Some(f) = &mut self.file else {
            return false;
        };
        if f.flush().is_err() {
            self.file = None;
            return false;
        }
        self.flushed = self.len;
        true
    }
}

/// Removes the spool files in `dir` of processes that no longer run (a
/// crash mid-sync); those of a live server sharing the directory stay.
pub fn remove_stale(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name
            .to_str()
            .and_then(|n| n.strip_prefix("temp-repl-"))
            .and_then(|n| n.strip_suffix(".spool"))
        else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        let gone = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None)
            == Err(nix::errno::Errno::ESRCH);
        if gone {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The spool file's name.
fn spool_path(dir: &std::path::Path, n: u64) -> PathBuf {
    dir.join(format!("temp-repl-{}-{n}.spool", std::process::id()))
}

impl Engine {
    /// Starts a spool for the replicas of a new sync: the stream from this
    /// offset on goes to it. False when the file cannot be created.
    pub(crate) fn spool_start(&mut self, ids: &[u64]) -> bool {
        self.repl.spool_seq += 1;
        let n = self.repl.spool_seq;
        let path = spool_path(&self.config.dir, n);
        let file = match std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!("Can't create the replication spool {}: {e}", path.display());
                return false;
            }
        };
        self.repl.spools.push(Spool {
            id: n,
            path,
            file: Some(std::io::BufWriter::with_capacity(64 << 10, file)),
            len: 0,
            flushed: 0,
            replicas: ids.to_vec(),
        });
        // The spooled stream starts with a SELECT, as after a full sync.
        self.repl.seldb = None;
        true
    }

    /// Appends stream bytes to every spool; replicas of a spool that
    /// failed are closed.
    pub(crate) fn spool_feed(&mut self, bytes: &[u8]) {
        let mut failed = Vec::new();
        for s in &mut self.repl.spools {
            if !s.append(bytes) {
                failed.append(&mut s.replicas);
            }
        }
        if !failed.is_empty() {
            self.spools_gc();
            for id in failed {
                if let Some(c) = self.clients.get_mut(&id) {
                    c.close_asap = true;
                    c.wake.notify_one();
                }
            }
        }
    }

    /// Removes spools no replica reads any more (and their files).
    pub(crate) fn spools_gc(&mut self) {
        self.repl.spools.retain(|s| {
            if s.replicas.is_empty() {
                let _ = std::fs::remove_file(&s.path);
                false
            } else {
                true
            }
        });
    }

    /// A replica leaves its spool (gone, or caught up).
    pub(crate) fn spool_leave(&mut self, id: u64) {
        for s in &mut self.repl.spools {
            s.replicas.retain(|&r| r != id);
        }
        self.spools_gc();
    }

    /// A replica whose spool cannot be read: it leaves it and is closed
    /// (it reconnects and syncs again).
    fn spool_abandon(&mut self, id: u64) {
        self.spool_leave(id);
        if let Some(c) = self.clients.get_mut(&id) {
            c.close_asap = true;
            c.wake.notify_one();
        }
    }

    /// The spool `id` reads from, if any.
    pub(crate) fn spool_of(&self, id: u64) -> Option<u64> {
        self.repl
            .spools
            .iter()
            .find(|s| s.replicas.contains(&id))
            .map(|s| s.id)
    }

    /// Replicas of spools (INFO connected_slaves counts them).
    pub(crate) fn spooled_replicas(&self) -> usize {
        self.repl.spools.iter().map(|s| s.replicas.len()).sum()
    }
}

/// Sends replica `id` its spool from the start, then attaches it to the
/// live stream at the spool's end.
pub async fn drain(engine: Rc<RefCell<Engine>>, id: u64) {
    let (spool, path) = {
        let e = engine.borrow();
        let Some(n) = e.spool_of(id) else {
            // No spool (it failed): the replica was closed.
            return;
        };
        let s = e
            .repl
            .spools
            .iter()
            .find(|s| s.id == n)
            .expect("found above");
        (n, s.path.clone())
    };
    let mut file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!("Can't read the replication spool {}: {e}", path.display());
            engine.borrow_mut().spool_abandon(id);
            return;
        }
    };
    let mut pos = 0u64;
    let mut ids = vec![id];
    let mut progress = Default::default();
    let mut buf = vec![0u8; super::transfer::CHUNK];
    loop {
        let readable = {
            let mut guard = engine.borrow_mut();
            let e = &mut *guard;
            if !e.clients.contains_key(&id) {
                e.spool_leave(id);
                return;
            }
            let Some(s) = e.repl.spools.iter_mut().find(|s| s.id == spool) else {
                return;
            };
            if pos >= s.len {
                // Caught up, between two writes of the stream: from here
                // on the replica takes the stream live.
                e.spool_leave(id);
                e.join_live_stream(id);
                return;
            }
            if pos >= s.flushed && !s.flush() {
                return;
            }
            s.flushed - pos
        };
        let want = (readable as usize).min(buf.len());
        if file.seek(std::io::SeekFrom::Start(pos)).await.is_err() {
            return;
        }
        let n = match file.read(&mut buf[..want]).await {
            Ok(0) | Err(_) => {
                tracing::warn!("Replication spool {}: short read", path.display());
                engine.borrow_mut().spool_abandon(id);
                return;
            }
            Ok(n) => n,
        };
        super::transfer::push_all(&engine, &mut ids, &mut progress, &buf[..n]).await;
        if ids.is_empty() {
            engine.borrow_mut().spool_leave(id);
            return;
        }
        pos += n as u64;
    }
}

impl Engine {
    /// A replica that has its snapshot and the spooled stream takes the
    /// stream live from now on.
    fn join_live_stream(&mut self, id: u64) {
        let Some(c) = self.clients.get_mut(&id) else {
            return;
        };
        c.hold_out = false;
        c.wake.notify_one();
        if !self.repl.replicas.contains(&id) {
            self.repl.replicas.push(id);
        }
        self.repl.no_replicas_since = None;
        if let Some(link) = self.repl.links.get_mut(&id) {
            link.state = SyncState::Online;
        }
        self.repl.ack_times.insert(id, std::time::Instant::now());
        tracing::info!("Synchronization with replica {} succeeded", c.addr);
    }
}
