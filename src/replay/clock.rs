//! Where the replay layer reads "now".

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time.
///
/// The layer uses the system clock unless told otherwise; tests inject a fixed
/// or steerable clock. Any `Fn() -> SystemTime` closure is a clock:
///
/// ```
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use tower_webhook::replay::Clock;
///
/// let frozen = || UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// assert_eq!(frozen.now(), UNIX_EPOCH + Duration::from_secs(1_700_000_000));
/// ```
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The operating system's wall clock ([`SystemTime::now`]).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

impl<F> Clock for F
where
    F: Fn() -> SystemTime + Send + Sync + 'static,
{
    fn now(&self) -> SystemTime {
        self()
    }
}

/// A clock shared by every clone of a layer.
#[derive(Clone)]
pub(crate) struct SharedClock(Arc<dyn Clock>);

impl SharedClock {
    pub(crate) fn new(clock: impl Clock) -> Self {
        Self(Arc::new(clock))
    }

    /// Milliseconds since the Unix epoch, negative before it. Wide enough
    /// that no `SystemTime` overflows it.
    pub(crate) fn now_millis(&self) -> i128 {
        match self.0.now().duration_since(UNIX_EPOCH) {
            Ok(after) => i128::try_from(after.as_millis()).unwrap_or(i128::MAX),
            Err(before) => i128::try_from(before.duration().as_millis())
                .map(|millis| -millis)
                .unwrap_or(i128::MIN),
        }
    }
}

impl Default for SharedClock {
    fn default() -> Self {
        Self::new(SystemClock)
    }
}

impl fmt::Debug for SharedClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn millis_on_both_sides_of_the_epoch() {
        let after = SharedClock::new(|| UNIX_EPOCH + Duration::from_millis(1_500));
        assert_eq!(after.now_millis(), 1_500);
        let before = SharedClock::new(|| UNIX_EPOCH - Duration::from_millis(2_500));
        assert_eq!(before.now_millis(), -2_500);
    }
}
