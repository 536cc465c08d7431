//! The restart policy every supervisor here uses: restart a failed child after an
//! exponential backoff, and give up once it has failed too often within a window.
//! Written once; ractor gives the hooks, this gives the policy.

use crate::config::RuntimeConfig;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// What to do about a failed child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartDecision {
    /// Restart it after this delay.
    RestartAfter(Duration),
    /// It failed too often; stop trying and say so.
    GiveUp,
}

/// Counts a child's recent failures and decides on each new one.
#[derive(Debug, Clone)]
pub struct RestartTracker {
    max_restarts: u32,
    window: Duration,
    initial: Duration,
    max: Duration,
    failures: VecDeque<Instant>,
}

impl RestartTracker {
    /// A tracker following the runtime config's restart settings.
    pub fn new(cfg: &RuntimeConfig) -> Self {
        Self {
            max_restarts: cfg.max_restarts,
            window: cfg.restart_window,
            initial: cfg.restart_backoff_initial,
            max: cfg.restart_backoff_max,
            failures: VecDeque::new(),
        }
    }

    /// Records a failure at `now` and decides: the n-th failure within the window waits
    /// `initial × 2^(n-1)` (capped), and one past `max_restarts` gives up.
    pub fn on_failure(&mut self, now: Instant) -> RestartDecision {
        while self
            .failures
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.window)
        {
            self.failures.pop_front();
        }
        self.failures.push_back(now);
        let n = self.failures.len() as u32;
        if n > self.max_restarts {
            return RestartDecision::GiveUp;
        }
        let factor = 1u32.checked_shl(n - 1).unwrap_or(u32::MAX);
        RestartDecision::RestartAfter(self.initial.saturating_mul(factor).min(self.max))
    }
}

/// Why an actor of the employee tree stopped, carried as ractor's exit reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// Idle with nothing pending: state persisted, tree stopped until needed.
    Passivated,
    /// The employee left the company.
    Offboarded,
    /// The employee failed too often and was given up on.
    Failed,
    /// The node is shutting down.
    Shutdown,
    /// Its lease moved to another node of the cluster.
    Moved,
}

impl StopReason {
    /// The reason as the string ractor carries.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passivated => "passivated",
            Self::Offboarded => "offboarded",
            Self::Failed => "failed",
            Self::Shutdown => "shutdown",
            Self::Moved => "moved",
        }
    }

    /// Reads a reason back; unknown strings are `None`.
    pub fn parse(s: Option<&str>) -> Option<Self> {
        [
            Self::Passivated,
            Self::Offboarded,
            Self::Failed,
            Self::Shutdown,
            Self::Moved,
        ]
        .into_iter()
        .find(|r| Some(r.as_str()) == s)
    }

    /// As ractor's stop reason.
    pub fn reason(self) -> Option<String> {
        Some(self.as_str().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> RuntimeConfig {
        RuntimeConfig {
            max_restarts: 3,
            restart_window: Duration::from_secs(60),
            restart_backoff_initial: Duration::from_millis(100),
            restart_backoff_max: Duration::from_millis(250),
            ..RuntimeConfig::default()
        }
    }

    #[test]
    fn backoff_doubles_is_capped_and_gives_up_past_the_limit() {
        let mut t = RestartTracker::new(&cfg());
        let now = Instant::now();
        assert_eq!(
            t.on_failure(now),
            RestartDecision::RestartAfter(Duration::from_millis(100))
        );
        assert_eq!(
            t.on_failure(now),
            RestartDecision::RestartAfter(Duration::from_millis(200))
        );
        assert_eq!(
            t.on_failure(now),
            RestartDecision::RestartAfter(Duration::from_millis(250))
        );
        assert_eq!(t.on_failure(now), RestartDecision::GiveUp);
    }

    #[test]
    fn failures_outside_the_window_are_forgotten() {
        let mut t = RestartTracker::new(&cfg());
        let start = Instant::now();
        for _ in 0..3 {
            t.on_failure(start);
        }
        let later = start + Duration::from_secs(61);
        assert_eq!(
            t.on_failure(later),
            RestartDecision::RestartAfter(Duration::from_millis(100))
        );
    }
}
