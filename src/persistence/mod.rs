//! Persistence: memory accounting now; RDB, fork and forkless snapshots and
//! the AOF arrive with their issues.

pub mod memory;
pub mod rdb;
