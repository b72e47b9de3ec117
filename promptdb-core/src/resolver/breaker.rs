//! A circuit breaker over the prompt source: it opens when too many calls in a window fail,
//! fails fast while open, lets one probe through after a pause (half-open), and closes when the
//! probe succeeds.
//!
//! Written here rather than taken from a crate: it is a few dozen lines over one mutex that is
//! only touched when the source is called (never on a cache hit), and the crates on offer
//! (`failsafe`, `tower`'s retry budgets) wrap the call itself, which does not fit a cache that
//! serves stale entries when the call is refused.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// When the breaker opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerConfig {
    /// Calls are counted over windows this long.
    pub window: Duration,
    /// Fewer calls than this in a window never open the breaker.
    pub min_calls: u32,
    /// The share of failed calls in a window, 0 to 1, that opens the breaker.
    pub failure_rate: f64,
    /// How long the breaker stays open before it lets one probe through.
    pub open_for: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(10),
            min_calls: 5,
            failure_rate: 0.5,
            open_for: Duration::from_secs(5),
        }
    }
}

/// Where the breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls fail fast until the pause is over.
    Open,
    /// One probe is (or may go) through; its outcome closes or reopens the breaker.
    HalfOpen,
}

#[derive(Debug)]
enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { probing: bool },
}

#[derive(Debug)]
struct State {
    phase: Phase,
    window_start: Instant,
    calls: u32,
    failures: u32,
    opened: u64,
}

/// The breaker.
#[derive(Debug)]
pub(crate) struct Breaker {
    config: BreakerConfig,
    state: Mutex<State>,
}

impl Breaker {
    pub(crate) fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            state: Mutex::new(State {
                phase: Phase::Closed,
                window_start: Instant::now(),
                calls: 0,
                failures: 0,
                opened: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent whatever a panicking holder did: every update is one
        // assignment.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a call may go to the source now; `Err` holds how long until it may.
    pub(crate) fn admit(&self) -> Result<(), Duration> {
        let now = Instant::now();
        let mut s = self.lock();
        match s.phase {
            Phase::Closed => Ok(()),
            Phase::Open { until } if now >= until => {
                s.phase = Phase::HalfOpen { probing: true };
                Ok(())
            }
            Phase::Open { until } => Err(until - now),
            Phase::HalfOpen { probing: false } => {
                s.phase = Phase::HalfOpen { probing: true };
                Ok(())
            }
            Phase::HalfOpen { probing: true } => Err(Duration::ZERO),
        }
    }

    /// Records the outcome of an admitted call.
    pub(crate) fn record(&self, ok: bool) {
        let now = Instant::now();
        let mut s = self.lock();
        match s.phase {
            Phase::HalfOpen { .. } => {
                if ok {
                    s.phase = Phase::Closed;
                    s.window_start = now;
                    s.calls = 0;
                    s.failures = 0;
                } else {
                    s.phase = Phase::Open {
                        until: now + self.config.open_for,
                    };
                    s.opened += 1;
                }
            }
            Phase::Closed => {
                if now.duration_since(s.window_start) > self.config.window {
                    s.window_start = now;
                    s.calls = 0;
                    s.failures = 0;
                }
                s.calls += 1;
                s.failures += u32::from(!ok);
                if s.calls >= self.config.min_calls
                    && f64::from(s.failures) >= self.config.failure_rate * f64::from(s.calls)
                {
                    s.phase = Phase::Open {
                        until: now + self.config.open_for,
                    };
                    s.opened += 1;
                }
            }
            // A call admitted before the breaker opened: its outcome changes nothing.
            Phase::Open { .. } => {}
        }
    }

    pub(crate) fn state(&self) -> BreakerState {
        match self.lock().phase {
            Phase::Closed => BreakerState::Closed,
            Phase::Open { until } if Instant::now() < until => BreakerState::Open,
            Phase::Open { .. } | Phase::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    pub(crate) fn times_opened(&self) -> u64 {
        self.lock().opened
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(open_for: Duration) -> Breaker {
        Breaker::new(BreakerConfig {
            window: Duration::from_secs(60),
            min_calls: 4,
            failure_rate: 0.5,
            open_for,
        })
    }

    #[test]
    fn opens_on_the_failure_rate_and_not_before_the_minimum_calls() {
        let b = breaker(Duration::from_secs(60));
        for _ in 0..3 {
            assert!(b.admit().is_ok());
            b.record(false);
        }
        assert_eq!(
            b.state(),
            BreakerState::Closed,
            "three calls are under the minimum"
        );
        b.record(true);
        // 3 failures of 4 calls: over half.
        assert_eq!(b.state(), BreakerState::Open);
        assert!(b.admit().is_err());
        assert_eq!(b.times_opened(), 1);
    }

    #[test]
    fn a_low_failure_rate_keeps_it_closed() {
        let b = breaker(Duration::from_secs(60));
        for i in 0..20 {
            b.record(i % 4 != 0);
        }
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn half_open_lets_one_probe_through_and_its_outcome_decides() {
        let b = breaker(Duration::from_millis(1));
        for _ in 0..4 {
            b.record(false);
        }
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(b.admit().is_ok(), "the probe");
        assert!(b.admit().is_err(), "only one probe at a time");
        b.record(false);
        assert_eq!(b.times_opened(), 2, "a failed probe reopens it");
        std::thread::sleep(Duration::from_millis(5));
        assert!(b.admit().is_ok());
        b.record(true);
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(b.admit().is_ok());
    }
}
