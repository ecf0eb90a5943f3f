//! Persistence: memory accounting, the RDB codec, snapshot files, the
//! fork() snapshot path and the AOF; forkless snapshots arrive with their
//! issue.

pub mod aof;
pub mod file;
pub mod fork;
pub mod forkless;
pub mod memory;
pub mod rdb;
