//! Optional pacing rule mimicking GitHub's secondary rate limit for mutating
//! requests (`/_githost/pacing`, `--min-mutation-gap-ms`).
//!
//! One global clock for the whole server (not per repository or token): a
//! mutating request (POST/PUT/PATCH/DELETE) under `/repos/` that arrives less
//! than `min_gap_ms` after the arrival of the previous *accepted* mutating
//! request is refused with 403 and `retry-after`. Arrival times come from the
//! monotonic clock ([`Instant`]) and are taken before injected latency, so
//! latency cannot hide a burst.

use std::time::{Duration, Instant};

use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::errors::error_body;

/// Message of GitHub's secondary rate limit error.
pub const SECONDARY_LIMIT_MESSAGE: &str =
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";
/// Documentation URL of GitHub's secondary rate limit error.
pub const DOC_SECONDARY_LIMIT: &str =
    "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits";

/// Whether a request is subject to the pacing rule: a mutating method on a
/// GitHub route under `/repos/`.
pub fn applies_to(method: &Method, path: &str) -> bool {
    let mutating = matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    mutating && path.starts_with("/repos/")
}

/// The pacing rule and its clock.
#[derive(Debug, Default, Clone)]
pub struct Pacing {
    min_gap: Duration,
    last_accepted: Option<Instant>,
}

impl Pacing {
    /// A rule with the given minimum gap (0 disables it).
    pub fn new(min_gap_ms: u64) -> Self {
        Pacing {
            min_gap: Duration::from_millis(min_gap_ms),
            last_accepted: None,
        }
    }

    /// The configured minimum gap in milliseconds (0 = disabled).
    pub fn min_gap_ms(&self) -> u64 {
        u64::try_from(self.min_gap.as_millis()).unwrap_or(u64::MAX)
    }

    /// Change the minimum gap; the previous mutation is forgotten, so the
    /// first mutating request after a change is always accepted.
    pub fn set_min_gap_ms(&mut self, min_gap_ms: u64) {
        *self = Pacing::new(min_gap_ms);
    }

    /// Decide on a mutating request arriving at `now`. `Ok` accepts it (and
    /// starts a new gap); `Err` carries how long the caller should still wait.
    pub fn admit(&mut self, now: Instant) -> Result<(), Duration> {
        if self.min_gap.is_zero() {
            return Ok(());
        }
        if let Some(last) = self.last_accepted {
            let elapsed = now.saturating_duration_since(last);
            if elapsed < self.min_gap {
                return Err(self.min_gap - elapsed);
            }
        }
        self.last_accepted = Some(now);
        Ok(())
    }
}

/// `retry-after` seconds for a remaining wait: rounded up, at least 1.
pub fn retry_after_secs(remaining: Duration) -> u64 {
    let secs = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
    secs.max(1)
}

/// The 403 answered to a refused request.
pub fn refusal(remaining: Duration) -> Response {
    let body = error_body(
        StatusCode::FORBIDDEN.as_u16(),
        SECONDARY_LIMIT_MESSAGE,
        DOC_SECONDARY_LIMIT,
    );
    let mut response = (StatusCode::FORBIDDEN, Json(body)).into_response();
    response.headers_mut().insert(
        "retry-after",
        HeaderValue::from(retry_after_secs(remaining)),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_accepts_everything() {
        let mut p = Pacing::default();
        let now = Instant::now();
        assert!(p.admit(now).is_ok());
        assert!(p.admit(now).is_ok());
    }

    #[test]
    fn gap_is_measured_from_last_accepted() {
        let mut p = Pacing::new(300);
        let t0 = Instant::now();
        assert!(p.admit(t0).is_ok());
        assert_eq!(
            p.admit(t0 + Duration::from_millis(100)),
            Err(Duration::from_millis(200))
        );
        // Refusals do not move the clock.
        assert_eq!(
            p.admit(t0 + Duration::from_millis(250)),
            Err(Duration::from_millis(50))
        );
        assert!(p.admit(t0 + Duration::from_millis(300)).is_ok());
        assert!(p.admit(t0 + Duration::from_millis(400)).is_err());
        p.set_min_gap_ms(300);
        assert!(p.admit(t0 + Duration::from_millis(400)).is_ok());
        assert_eq!(p.min_gap_ms(), 300);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1000)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(2500)), 3);
    }

    #[test]
    fn applies_to_mutations_under_repos() {
        assert!(applies_to(&Method::PUT, "/repos/o/r/contents/a"));
        assert!(applies_to(&Method::DELETE, "/repos/o/r/git/refs/heads/x"));
        assert!(!applies_to(&Method::GET, "/repos/o/r/contents/a"));
        assert!(!applies_to(&Method::HEAD, "/repos/o/r"));
        assert!(!applies_to(&Method::POST, "/user/repos"));
    }
}
