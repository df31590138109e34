//! Deadlines and poll timeouts: the one conversion every waiting loop uses.
//!
//! A wait is bounded by a deadline, an [`Instant`], computed once from the user's
//! timeout; each `poll` then gets the time left until it. `None` means "no bound" on
//! both sides: no timeout gives no deadline, and no deadline an infinite poll.

use rustix::time::Timespec;
use std::time::{Duration, Instant};

/// The instant `timeout` from now. `None` (wait forever) for no timeout, or for one too
/// far away for the clock to represent.
pub fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|d| Instant::now().checked_add(d))
}

/// The time left until `deadline`, as [`poll`](rustix::event::poll) wants it: zero once
/// it has passed, `None` (block) when there is no deadline.
///
/// # References
/// - [poll](https://man7.org/linux/man-pages/man2/poll.2.html)
pub(crate) fn poll_timeout(deadline: Option<Instant>) -> Option<Timespec> {
    deadline.map(|d| timespec(d.saturating_duration_since(Instant::now())))
}

/// `d` as a `Timespec`; seconds beyond `i64::MAX` saturate.
pub(crate) fn timespec(d: Duration) -> Timespec {
    Timespec {
        tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: i64::from(d.subsec_nanos()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_is_forever_and_past_is_zero() {
        assert_eq!(deadline(None), None);
        assert_eq!(deadline(Some(Duration::MAX)), None);
        assert!(poll_timeout(None).is_none());
        let t = poll_timeout(Some(Instant::now())).unwrap();
        assert_eq!((t.tv_sec, t.tv_nsec), (0, 0));
        let t = poll_timeout(deadline(Some(Duration::from_secs(100)))).unwrap();
        assert!(t.tv_sec <= 100 && t.tv_sec >= 90, "{}", t.tv_sec);
        let t = timespec(Duration::new(3, 5));
        assert_eq!((t.tv_sec, t.tv_nsec), (3, 5));
        assert_eq!(timespec(Duration::MAX).tv_sec, i64::MAX);
    }
}
