//! Retry pacing: bounded attempts and jittered exponential backoff.

/// How the write path retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The first backoff step.
    pub base_ms: u64,
    /// No single wait is longer than this.
    pub cap_ms: u64,
    /// A rate limit asking for a longer wait than this is returned to the caller
    /// instead of waited out.
    pub max_rate_limit_wait_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            base_ms: 50,
            cap_ms: 2_000,
            max_rate_limit_wait_ms: 10_000,
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1-based): "equal jitter", half fixed and
    /// half random, of `base * 2^(retry-1)`, capped.
    pub fn backoff_ms(&self, retry: u32, random: u64) -> u64 {
        let exp = self
            .base_ms
            .saturating_mul(1u64 << retry.saturating_sub(1).min(30))
            .min(self.cap_ms);
        let half = exp / 2;
        half + if half == 0 { 0 } else { random % (half + 1) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_jittered_and_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff_ms(1, 0), 25);
        assert_eq!(p.backoff_ms(1, 25), 50);
        assert_eq!(p.backoff_ms(2, 0), 50);
        assert_eq!(p.backoff_ms(3, u64::MAX), 100 + (u64::MAX % 101));
        for r in 0..100u64 {
            let w = p.backoff_ms(40, r * 7919);
            assert!((1000..=2000).contains(&w), "{w}");
        }
    }
}
