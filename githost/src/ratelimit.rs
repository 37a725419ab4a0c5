//! Primary rate-limit bookkeeping: GitHub-like `x-ratelimit-*` headers per token.
//!
//! Limits are reported, never enforced (use a fault to simulate exhaustion).

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// Hourly limit for an authenticated token.
pub const LIMIT_AUTHENTICATED: u32 = 5000;
/// Hourly limit for unauthenticated requests.
pub const LIMIT_ANONYMOUS: u32 = 60;
/// Length of a window in seconds.
pub const WINDOW_SECS: u64 = 3600;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    used: u32,
    reset: u64,
}

/// Counters per bucket (a token hash, or "" for anonymous).
#[derive(Debug, Default)]
pub struct RateLimits {
    buckets: HashMap<String, Bucket>,
}

/// Values for the rate-limit headers of one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateInfo {
    /// x-ratelimit-limit
    pub limit: u32,
    /// x-ratelimit-remaining
    pub remaining: u32,
    /// x-ratelimit-used
    pub used: u32,
    /// x-ratelimit-reset (epoch seconds)
    pub reset: u64,
}

impl RateLimits {
    /// Account one request in `bucket` (when `count`), returning header values.
    pub fn record(&mut self, bucket: &str, limit: u32, count: bool, now: u64) -> RateInfo {
        let entry = self.buckets.entry(bucket.to_string()).or_insert(Bucket {
            used: 0,
            reset: now + WINDOW_SECS,
        });
        if now >= entry.reset {
            *entry = Bucket {
                used: 0,
                reset: now + WINDOW_SECS,
            };
        }
        if count {
            entry.used = entry.used.saturating_add(1);
        }
        RateInfo {
            limit,
            remaining: limit.saturating_sub(entry.used),
            used: entry.used,
            reset: entry.reset,
        }
    }
}

impl RateInfo {
    /// Add the headers to `headers`, keeping any already present (a scripted
    /// fault may set its own).
    pub fn apply(&self, headers: &mut HeaderMap) {
        let values = [
            ("x-ratelimit-limit", self.limit.to_string()),
            ("x-ratelimit-remaining", self.remaining.to_string()),
            ("x-ratelimit-used", self.used.to_string()),
            ("x-ratelimit-reset", self.reset.to_string()),
            ("x-ratelimit-resource", "core".to_string()),
        ];
        for (name, value) in values {
            let name = HeaderName::from_static(name);
            if headers.contains_key(&name) {
                continue;
            }
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(name, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_resets() {
        let mut r = RateLimits::default();
        let a = r.record("t", 5000, true, 100);
        assert_eq!((a.used, a.remaining, a.reset), (1, 4999, 3700));
        let b = r.record("t", 5000, false, 200);
        assert_eq!(b.used, 1);
        let c = r.record("t", 5000, true, 3700);
        assert_eq!((c.used, c.reset), (1, 7300));
    }
}
