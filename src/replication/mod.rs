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
//! stream after it reaches the replica behind the snapshot, held in its
//! output buffer while the transfer runs. A replica proxies its primary's
//! stream unchanged to its own replicas, so offsets agree down a chain.
//!
//! # Crash safety
//!
//! Every dump of a server in a replication chain records `repl-id`,
//! `repl-offset` and `repl-stream-db`: a replica restarted from it continues
//! with PSYNC, and a restarted primary keeps its old ID as `master_replid2`,
//! so its replicas continue too. A replica receives a snapshot into
//! `temp-<time>.<pid>.rdb` and renames it over its dump only once it is
//! whole and loads; a failed or torn transfer leaves the old data in place.
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
