//! When to ask again and how long to wait first. A task fails only when its deadline comes:
//! until then an operator that did not answer is asked again, a submission that did not land
//! is looked for and sent again. These are the pure decisions behind that (the mined status's
//! verdict is beside the sender, which reads it).

use std::time::Duration;

use tonic::Code;

/// Exponential backoff with a cap and jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait before the first retry, before jitter.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Backoff {
    /// Asking an operator again: from 100 ms, doubling, up to 5 s.
    pub const OPERATOR: Self = Self {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(5),
    };

    /// Reading a chain again after a failed JSON-RPC call: from 100 ms up to 2 s.
    pub const RPC: Self = Self {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(2),
    };

    /// The wait before retry number `attempt` (0 for the first), before jitter:
    /// `initial * 2^attempt`, at most `max`.
    pub fn base(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// The wait with jitter: `unit` in `[0, 1)` picks a point in `[base / 2, base]`, so many
    /// sessions waiting on one operator do not all ask again at the same instant.
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let base = self.base(attempt);
        let half = base / 2;
        half + half.mul_f64(unit.clamp(0.0, 1.0))
    }

    /// [`delay`](Self::delay) with a random point.
    pub fn jittered(&self, attempt: u32) -> Duration {
        self.delay(attempt, rand::random::<f64>())
    }
}

/// How soon an operator is asked again after an error status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// A passing condition (unreachable, restarting, overloaded, the performer failed): again
    /// after the next backoff step.
    Soon,
    /// A refusal that holds until someone changes something (the request is refused as
    /// malformed, unauthorised or unsupported): again only at the backoff's cap, in case the
    /// operator fixes it before the deadline.
    AtCap,
}

/// Whether an error status settles the operator's answer for now: it refused the task, or its
/// performer failed, panicked or ran out of time. Unreachable, restarting or overloaded
/// executors are not settled: they may answer at the next ask. A task whose operators are
/// settled against it cannot meet its threshold unless one of them changes (it is still asked
/// until the deadline).
pub const fn settles(code: Code) -> bool {
    !matches!(
        code,
        Code::Ok
            | Code::Unavailable
            | Code::ResourceExhausted
            | Code::Aborted
            | Code::Cancelled
            | Code::AlreadyExists
    )
}

/// How soon an operator that answered `code` is asked again. Nothing an executor says ends
/// the task before its deadline: every error is asked again, some sooner than others.
pub const fn after_status(code: Code) -> Retry {
    match code {
        Code::InvalidArgument
        | Code::PermissionDenied
        | Code::Unauthenticated
        | Code::Unimplemented
        | Code::FailedPrecondition
        | Code::OutOfRange
        | Code::NotFound => Retry::AtCap,
        // Unavailable, DeadlineExceeded, ResourceExhausted, Aborted, Internal, Unknown,
        // Cancelled, DataLoss, and AlreadyExists: an executor that refuses a retry of a task
        // it answered before a restart of ours may answer once the id is released.
        _ => Retry::Soon,
    }
}

/// The wait before asking again after `code` on retry number `attempt`, without jitter.
pub fn wait_after(code: Code, attempt: u32, backoff: &Backoff) -> Duration {
    match after_status(code) {
        Retry::Soon => backoff.base(attempt),
        Retry::AtCap => backoff.max,
    }
}

/// What to do with a transaction recorded before a restart, from what the node says of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// It is mined: read its receipt.
    Mined,
    /// The node's pool holds it: wait for it (and replace it at the same nonce if it is slow).
    Pending,
    /// Its nonce is still free and the pool lost it: broadcast the recorded bytes again.
    Rebroadcast,
    /// Another transaction took its nonce and it never landed: sign a new one.
    Resign,
}

/// The recovery of a recorded transaction: whether one of its versions has a receipt, whether
/// the pool holds one, and whether the account's mined nonce is past the recorded one.
pub const fn recovery(has_receipt: bool, in_pool: bool, nonce_used: bool) -> Recovery {
    match (has_receipt, in_pool, nonce_used) {
        (true, _, _) => Recovery::Mined,
        (false, true, _) => Recovery::Pending,
        (false, false, false) => Recovery::Rebroadcast,
        (false, false, true) => Recovery::Resign,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let backoff = Backoff::OPERATOR;
        let schedule: Vec<u64> = (0..8).map(|n| backoff.base(n).as_millis() as u64).collect();
        assert_eq!(schedule, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        assert_eq!(backoff.base(u32::MAX), backoff.max, "no overflow");
    }

    #[test]
    fn jitter_stays_between_half_and_the_whole_step() {
        let backoff = Backoff::OPERATOR;
        assert_eq!(backoff.delay(3, 0.0), Duration::from_millis(400));
        assert_eq!(backoff.delay(3, 0.5), Duration::from_millis(600));
        assert_eq!(backoff.delay(3, 1.0), Duration::from_millis(800));
        assert_eq!(backoff.delay(3, 7.0), Duration::from_millis(800), "clamped");
        for _ in 0..1000 {
            let d = backoff.jittered(10);
            assert!(
                d >= Duration::from_millis(2500) && d <= Duration::from_secs(5),
                "{d:?}"
            );
        }
    }

    #[test]
    fn transient_errors_are_asked_again_soon_and_refusals_at_the_cap() {
        for code in [
            Code::Unavailable,
            Code::DeadlineExceeded,
            Code::AlreadyExists,
            Code::ResourceExhausted,
            Code::Internal,
            Code::Unknown,
            Code::Aborted,
            Code::Cancelled,
        ] {
            assert_eq!(after_status(code), Retry::Soon, "{code:?}");
        }
        for code in [
            Code::InvalidArgument,
            Code::PermissionDenied,
            Code::Unauthenticated,
            Code::NotFound,
            Code::Unimplemented,
        ] {
            assert_eq!(after_status(code), Retry::AtCap, "{code:?}");
        }
        let backoff = Backoff::OPERATOR;
        assert_eq!(
            wait_after(Code::Unavailable, 0, &backoff),
            Duration::from_millis(100)
        );
        assert_eq!(
            wait_after(Code::PermissionDenied, 0, &backoff),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn a_recorded_transaction_is_found_before_anything_is_sent_again() {
        assert_eq!(recovery(true, false, true), Recovery::Mined);
        assert_eq!(recovery(true, true, false), Recovery::Mined);
        assert_eq!(recovery(false, true, false), Recovery::Pending);
        assert_eq!(recovery(false, false, false), Recovery::Rebroadcast);
        assert_eq!(recovery(false, false, true), Recovery::Resign);
    }
}
