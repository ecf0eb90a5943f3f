//! Replication: a primary streams its writes to replicas; a replica applies
//! its primary's stream and serves reads (and, later, backups).
//!
//! # Overview
//!
//! * [`primary`]: PSYNC / SYNC. A replica that names this server's
//!   replication ID (or the previous one, `master_replid2`, up to
//!   `second_repl_offset`) and an offset the [`backlog`] still holds gets
//!   `+CONTINUE` and the bytes it missed; any other gets `+FULLRESYNC` and a
//!   snapshot through [`transfer`].
//! * [`spool`]: the stream a syncing replica misses, in a file rather
//!   than its output buffer, so that a long sync under load neither grows
//!   memory nor hits `client-output-buffer-limit replica`.
//! * [`transfer`]: a full sync is a sink of the snapshot pipeline
//!   (`../shared/DESIGN.md` §4). With `repl-diskless-sync yes` the snapshot
//!   (a fork child or the forkless writer thread, as `snapshot-method`
//!   chooses for BGSAVE) writes into a pipe and the engine relays it to every
//!   replica of the sync in the `$EOF:<mark>` format; with `no` the replicas
//!   get the file of a background save, read from disk in chunks. No step
//!   holds the image in memory: the engine holds a bounded window per
//!   replica.
//! * [`replica`]: REPLICAOF, the link task (handshake, PSYNC with the
//!   cached replication ID and offset, the snapshot received to a file and
//!   loaded off the engine thread) and acknowledgements.
//!
//! # Consistency
//!
//! Every byte of the stream is fed, in order, to the backlog and to every
//! online replica ([`crate::server::Engine::feed_replicas`]); a replica's
//! offset is the count of stream bytes it applied. A snapshot taken for a
//! full sync is the dataset at the offset `+FULLRESYNC` announces: the
//! stream after it is spooled from that same turn and reaches the replica
//! behind the snapshot; the replica joins the live stream when it has read
//! the spool to its end, between two writes. A replica proxies its primary's
//! stream unchanged to its own replicas, so offsets agree down a chain.
//!
//! # Crash safety
//!
//! Every dump of a server in a replication chain records `repl-id`,
//! `repl-offset` and `repl-stream-db`: a replica restarted from it continues
//! with PSYNC, and a restarted primary keeps its old ID as `master_replid2`,
//! so its replicas continue too. A replica receives a snapshot into
//! `temp-<time>.<pid>.rdb`, fsyncs it, and (with `repl-diskless-load
//! disabled`) links it as its dump only once it has loaded; a failed or
//! torn transfer leaves the old data in place. A load that fails after
//! the old data was flushed (`disabled`) leaves the replica empty until
//! the next sync, as in Redis. Spool files of a crashed process are
//! removed at the next start.
//!
//! # Cancellation
//!
//! REPLICAOF (or NO ONE) bumps the link generation: an older link task sees
//! it at its next step and ends. A replica that disconnects leaves its sync;
//! the snapshot goes on for the others and stops (child killed, writer
//! aborted) once no replica waits for it.

pub mod backlog;
pub mod failover;
pub mod primary;
pub mod replica;
pub mod spool;
pub mod transfer;
