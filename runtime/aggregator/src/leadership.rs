//! Whether this instance may act, for aggregators that share a store with standbys.
//!
//! The instance holding the store's lease (see `ponos_store::postgres::Lease`) confirms it at
//! every renewal; it may act until the renewal's start plus the lease's time to live, by its own
//! monotonic clock. The database judges the lease's expiry by its own clock from a moment no
//! earlier than that start, so a standby can only take over after this instance has stopped
//! sending: a process frozen for a while (a GC pause, `SIGSTOP`, a partition) finds on waking
//! that its time has run out, whatever its renewal task has not yet noticed.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

/// An instance's hold on the lease at one epoch.
#[derive(Debug)]
pub struct Leadership {
    epoch: u64,
    since: Instant,
    /// Milliseconds after `since` until which the lease is this instance's for certain; 0 once
    /// revoked.
    until_ms: AtomicU64,
}

impl Leadership {
    /// The lease taken at `epoch`, held until `until`.
    pub fn new(epoch: u64, until: Instant) -> Self {
        let since = Instant::now();
        Self {
            epoch,
            since,
            until_ms: AtomicU64::new(Self::offset(since, until)),
        }
    }

    /// `until` as milliseconds after `since`, at least 1 (0 means revoked).
    fn offset(since: Instant, until: Instant) -> u64 {
        let ms = until.saturating_duration_since(since).as_millis();
        u64::try_from(ms).unwrap_or(u64::MAX).max(1)
    }

    /// The lease's epoch.
    pub const fn epoch(&self) -> u64 {
        self.epoch
    }

    /// A renewal succeeded: the lease is this instance's until `until` (a renewal started
    /// before the last one finished never shortens it).
    pub fn confirm(&self, until: Instant) {
        let ms = Self::offset(self.since, until);
        let _ = self
            .until_ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |held| {
                (held != 0 && ms > held).then_some(ms)
            });
    }

    /// The lease is lost for good (taken over, or this instance stops).
    pub fn revoke(&self) {
        self.until_ms.store(0, Ordering::SeqCst);
    }

    /// Whether the lease is still certainly this instance's. Once its time has run out it is
    /// lost for good, even if a renewal later succeeds: whatever was refused meanwhile is left
    /// to the next pipeline, which starts from the store.
    pub fn is_held(&self) -> bool {
        let until = self.until_ms.load(Ordering::SeqCst);
        if until != 0 && self.since + Duration::from_millis(until) > Instant::now() {
            return true;
        }
        self.revoke();
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_until_its_time_runs_out_or_it_is_revoked() {
        let now = Instant::now();
        let lease = Leadership::new(3, now + Duration::from_millis(80));
        assert!(lease.is_held());
        assert_eq!(lease.epoch(), 3);
        lease.confirm(now + Duration::from_millis(40));
        assert!(lease.is_held(), "an older renewal never shortens it");
        std::thread::sleep(Duration::from_millis(100));
        assert!(!lease.is_held(), "expired by its own clock");
        lease.confirm(Instant::now() + Duration::from_secs(5));
        assert!(!lease.is_held(), "an expired hold stays lost");

        let lease = Leadership::new(4, Instant::now() + Duration::from_millis(50));
        lease.confirm(Instant::now() + Duration::from_secs(5));
        assert!(lease.is_held(), "renewed in time");
        lease.revoke();
        assert!(!lease.is_held());
        lease.confirm(Instant::now() + Duration::from_secs(5));
        assert!(!lease.is_held(), "a revoked lease stays lost");
    }
}
