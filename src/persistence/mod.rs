//! Persistence: memory accounting, the RDB codec, snapshot files and the
//! fork() snapshot path; forkless snapshots and the AOF arrive with their
//! issues.

pub mod file;
pub mod fork;
pub mod memory;
pub mod rdb;
