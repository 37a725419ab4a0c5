//! Pacing of mutating GitHub requests: at least `min_gap_ms` apart, paused while GitHub
//! asks for a wait, and backed off exponentially (with jitter) after failures.

use crate::github::GitHubError;
use serde::{Deserialize, Serialize};

/// The default minimum time between mutating requests.
pub const DEFAULT_MIN_GAP_MS: u64 = 1_000;
/// The first backoff after a failure; it doubles with each further one.
pub const BACKOFF_BASE_MS: u64 = 1_000;
/// The longest backoff: 5 minutes.
pub const BACKOFF_CAP_MS: u64 = 300_000;

/// The pacing state; kept in storage so it survives restarts (a persisted shape:
/// fields are only ever added, with defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pacer {
    /// The minimum time between mutating requests.
    pub min_gap_ms: u64,
    /// When the last mutating request was sent.
    pub last_mutation_ms: Option<u64>,
    /// Our own backoff after failures.
    pub blocked_until_ms: u64,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// GitHub's own wait (`retry-after`, or the rate-limit reset): never skipped.
    #[serde(default)]
    pub github_until_ms: u64,
}

impl Pacer {
    /// A pacer with nothing sent and no wait.
    pub fn new(min_gap_ms: u64) -> Pacer {
        Pacer {
            min_gap_ms,
            last_mutation_ms: None,
            blocked_until_ms: 0,
            consecutive_failures: 0,
            github_until_ms: 0,
        }
    }

    /// The earliest time the next mutating request may go.
    pub fn next_allowed_at(&self) -> u64 {
        let gap = self.last_mutation_ms.map_or(0, |t| t + self.min_gap_ms);
        gap.max(self.blocked_until_ms).max(self.github_until_ms)
    }

    /// Drops our own backoff (`sync/now`); the pacing gap and GitHub's wait stay.
    pub fn clear_backoff(&mut self) {
        self.blocked_until_ms = 0;
        self.consecutive_failures = 0;
    }

    /// A mutating request was sent at `now_ms`.
    pub fn record_mutation(&mut self, now_ms: u64) {
        self.last_mutation_ms = Some(now_ms);
    }

    /// After a successful write: clears every failure and wait.
    pub fn on_success(&mut self) {
        self.consecutive_failures = 0;
        self.blocked_until_ms = 0;
        self.github_until_ms = 0;
    }

    /// After a failed attempt: GitHub's own wait when it gave one (retry-after, or the
    /// rate-limit reset), else 1 s doubling per failure, capped at 5 minutes, with equal
    /// jitter. Returns the wait and blocks the pipeline until it is over.
    pub fn on_failure(&mut self, now_ms: u64, error: &GitHubError, random: u64) -> u64 {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        match error.retry_after_secs() {
            Some(secs) => {
                let wait = secs.saturating_mul(1000);
                self.github_until_ms = now_ms + wait;
                wait
            }
            None => {
                let exp = BACKOFF_BASE_MS
                    .saturating_mul(1u64 << (self.consecutive_failures - 1).min(20))
                    .min(BACKOFF_CAP_MS);
                let wait = exp / 2 + random % (exp / 2 + 1);
                self.blocked_until_ms = now_ms + wait;
                wait
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_are_spaced() {
        let mut p = Pacer::new(1_000);
        assert_eq!(p.next_allowed_at(), 0);
        p.record_mutation(5_000);
        assert_eq!(p.next_allowed_at(), 6_000);
    }

    #[test]
    fn github_waits_are_honoured_and_backoff_doubles_to_the_cap() {
        let mut p = Pacer::new(1_000);
        let limited = GitHubError::RateLimited {
            retry_after_secs: 30,
            message: "secondary rate limit".into(),
        };
        assert_eq!(p.on_failure(0, &limited, 0), 30_000);
        assert_eq!(p.next_allowed_at(), 30_000);
        let down = GitHubError::Server {
            status: 503,
            message: "x".into(),
        };
        // Failures 2, 3, ...: 2 s, 4 s, 8 s ... capped at 5 minutes, each with equal jitter.
        for n in 2..=14u32 {
            let w = p.on_failure(0, &down, u64::from(n) * 7_919);
            let exp = (1_000u64 << (n - 1)).min(BACKOFF_CAP_MS);
            assert!(
                (exp / 2..=exp).contains(&w),
                "failure {n}: {w} not in {}..={exp}",
                exp / 2
            );
            assert_eq!(p.blocked_until_ms, w);
        }
        // Our backoff can be dropped; GitHub's wait cannot.
        assert_eq!(p.github_until_ms, 30_000);
        p.clear_backoff();
        assert_eq!(p.next_allowed_at(), 30_000);
        let least = Pacer {
            consecutive_failures: 0,
            ..p.clone()
        }
        .on_failure(0, &down, 0);
        assert_eq!(least, 500, "equal jitter keeps at least half");
        p.on_success();
        assert_eq!(
            (
                p.consecutive_failures,
                p.blocked_until_ms,
                p.github_until_ms
            ),
            (0, 0, 0)
        );
    }
}
