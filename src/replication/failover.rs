//! FAILOVER (Redis 6.2+): a primary hands its role to one of its replicas
//! without losing a write.
//!
//! The primary pauses writes and waits until the target (or any replica,
//! without TO) has acknowledged its whole stream; then it becomes a
//! replica of the target and asks it `PSYNC <replid> <offset> FAILOVER`,
//! which makes the target promote itself and continue the old primary
//! with a partial resync (its old ID is now its `master_replid2`). A
//! timeout aborts the failover, or with FORCE fails over anyway; a target
//! that refuses the PSYNC aborts it, and the primary stays one.

use std::time::{Duration, Instant};

use crate::server::Engine;

/// `master_failover_state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    WaitForSync,
    InProgress,
}

/// A failover under way.
pub struct Failover {
    pub phase: Phase,
    /// The replica to hand over to, when named or once chosen.
    pub target: Option<(String, u16)>,
    pub force: bool,
    pub deadline: Option<Instant>,
}

impl Engine {
    /// INFO's master_failover_state.
    pub fn failover_state_name(&self) -> &'static str {
        match self.repl.failover.as_ref().map(|f| f.phase) {
            None => "no-failover",
            Some(Phase::WaitForSync) => "waiting-for-sync",
            Some(Phase::InProgress) => "failover-in-progress",
        }
    }

    /// The replica attached from `host:port` (its address or announced IP
    /// and its listening port), if any.
    pub(crate) fn find_replica(&self, host: &str, port: u16) -> Option<u64> {
        self.repl.replicas.iter().copied().find(|id| {
            let Some(c) = self.clients.get(id) else {
                return false;
            };
            let ip = self
                .repl
                .replica_ips
                .get(id)
                .cloned()
                .unwrap_or_else(|| c.addr.rsplit_once(':').map_or("", |(h, _)| h).to_string());
            ip.eq_ignore_ascii_case(host) && self.repl.replica_ports.get(id) == Some(&port)
        })
    }

    /// FAILOVER's start: writes pause until the failover ends.
    pub(crate) fn failover_start(
        &mut self,
        target: Option<(String, u16)>,
        force: bool,
        timeout: Option<Duration>,
    ) {
        match &target {
            Some((h, p)) => tracing::info!("FAILOVER requested to {h}:{p}."),
            None => tracing::info!("FAILOVER requested to any replica."),
        }
        self.repl.failover = Some(Failover {
            phase: Phase::WaitForSync,
            target,
            force,
            deadline: timeout.map(|t| Instant::now() + t),
        });
        self.request_acks();
    }

    /// Ends a failover: writes resume; one in progress makes this server a
    /// primary again.
    pub(crate) fn failover_abort(&mut self, reason: &str) {
        let Some(f) = self.repl.failover.take() else {
            return;
        };
        match &f.target {
            Some((h, p)) => tracing::warn!("FAILOVER to {h}:{p} aborted: {reason}"),
            None => tracing::warn!("FAILOVER to any replica aborted: {reason}"),
        }
        if f.phase == Phase::InProgress {
            self.stop_replication();
        }
        self.unpause_notify.notify_waiters();
    }

    /// The target answered the failover's PSYNC: the failover is done.
    pub(crate) fn failover_done(&mut self) {
        if self
            .repl
            .failover
            .take_if(|f| f.phase == Phase::InProgress)
            .is_some()
        {
            tracing::info!("Failover completed");
            self.unpause_notify.notify_waiters();
        }
    }

    /// Whether this server's next PSYNC is a failover's.
    pub(crate) fn failover_in_progress(&self) -> bool {
        self.repl
            .failover
            .as_ref()
            .is_some_and(|f| f.phase == Phase::InProgress)
    }

    /// Each cron: has the target caught up (or the timeout passed)?
    /// Redis's updateFailoverStatus.
    pub(crate) fn failover_cron(&mut self) {
        let Some(f) = &self.repl.failover else {
            return;
        };
        if f.phase != Phase::WaitForSync {
            return;
        }
        if f.deadline.is_some_and(|d| Instant::now() >= d) {
            if f.force {
                let (h, p) = f.target.clone().expect("FORCE requires a target");
                tracing::info!("FAILOVER to {h}:{p} time out exceeded, failing over.");
                self.failover_to(h, p);
            } else {
                self.failover_abort("Replica never caught up before timeout");
            }
            return;
        }
        let offset = self.repl.offset;
        let caught_up = |e: &Engine, id: u64| e.repl.acks.get(&id) == Some(&offset);
        let chosen = match &f.target {
            Some((h, p)) => self
                .find_replica(h, *p)
                .filter(|&id| caught_up(self, id))
                .map(|_| (h.clone(), *p)),
            None => self
                .repl
                .replicas
                .iter()
                .copied()
                .find(|&id| caught_up(self, id))
                .and_then(|id| {
                    let port = *self.repl.replica_ports.get(&id)?;
                    let ip = self.repl.replica_ips.get(&id).cloned().or_else(|| {
                        let c = self.clients.get(&id)?;
                        Some(c.addr.rsplit_once(':')?.0.to_string())
                    })?;
                    Some((ip, port))
                }),
        };
        // Replicas acknowledge once a second: no GETACK while waiting, as
        // it would move the offset they must reach.
        if let Some((h, p)) = chosen {
            tracing::info!("Failover target {h}:{p} is synced, failing over.");
            self.failover_to(h, p);
        }
    }

    fn failover_to(&mut self, host: String, port: u16) {
        if let Some(f) = &mut self.repl.failover {
            f.phase = Phase::InProgress;
            f.target = Some((host.clone(), port));
        }
        self.start_replication(host, port);
    }
}
