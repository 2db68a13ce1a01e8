//! How far from "now" a timestamp may be.

use std::time::Duration;

/// The accepted interval around now: `past` back, and `future` ahead
/// (`None`: any future instant, for providers that only bound a delivery's
/// age). Both bounds are inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) past: Duration,
    pub(crate) future: Option<Duration>,
}

impl Window {
    /// 300 s both ways.
    pub(crate) const DEFAULT: Window = Window {
        past: Duration::from_secs(300),
        future: Some(Duration::from_secs(300)),
    };

    /// Whether `timestamp` (unix ms) lies in the window around `now` (unix
    /// ms). Computed in `i128`, where neither operand can overflow.
    pub(crate) fn contains(&self, now: i128, timestamp: i64) -> bool {
        let age = now - i128::from(timestamp);
        let not_too_old = age <= millis(self.past);
        let not_too_new = self.future.is_none_or(|future| -age <= millis(future));
        not_too_old && not_too_new
    }
}

fn millis(duration: Duration) -> i128 {
    // At most u64::MAX seconds: 1.8e22 ms, far inside i128.
    i128::try_from(duration.as_millis()).unwrap_or(i128::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_inclusive_both_ways() {
        let window = Window::DEFAULT;
        let now = 1_700_000_000_000;
        assert!(window.contains(now, 1_700_000_000_000 - 300_000));
        assert!(!window.contains(now, 1_700_000_000_000 - 300_001));
        assert!(window.contains(now, 1_700_000_000_000 + 300_000));
        assert!(!window.contains(now, 1_700_000_000_000 + 300_001));
    }

    #[test]
    fn past_only_accepts_any_future() {
        let window = Window {
            future: None,
            ..Window::DEFAULT
        };
        assert!(window.contains(0, i64::MAX));
        assert!(!window.contains(i128::from(i64::MAX), i64::MIN));
    }

    #[test]
    fn extreme_operands_do_not_overflow() {
        let window = Window {
            past: Duration::MAX,
            future: Some(Duration::MAX),
        };
        assert!(window.contains(i128::from(i64::MIN), i64::MAX));
        assert!(window.contains(i128::from(i64::MAX), i64::MIN));
    }
}
