//! Time and randomness, as effects: the Worker uses `Date.now`, timers and
//! `Math.random`; tests use [`FakeClock`], which only pretends to sleep.

#[cfg(any(test, feature = "testing"))]
use std::cell::Cell;

/// Wall-clock time and waiting.
#[allow(async_fn_in_trait)]
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
    /// Waits `ms` milliseconds.
    async fn sleep(&self, ms: u64);
    /// Lets other requests run before going on (long CPU work calls it between
    /// steps). Tests run everything at once.
    async fn yield_now(&self) {}
}

/// A source of random numbers (for ids and retry jitter; not for secrets).
pub trait Entropy {
    /// A random 64-bit number.
    fn random_u64(&self) -> u64;
}

#[cfg(any(test, feature = "testing"))]
/// A clock that advances only when told to or when slept on, recording each sleep.
#[derive(Debug)]
pub struct FakeClock {
    now: Cell<u64>,
    seed: Cell<u64>,
    /// The length of each sleep, in milliseconds, in order.
    pub slept: std::cell::RefCell<Vec<u64>>,
}

#[cfg(any(test, feature = "testing"))]
impl FakeClock {
    /// A clock that reads `now_ms`.
    pub fn at(now_ms: u64) -> Self {
        FakeClock {
            now: Cell::new(now_ms),
            seed: Cell::new(0x9E37_79B9_7F4A_7C15),
            slept: Default::default(),
        }
    }
    /// Moves the clock forward `ms` milliseconds.
    pub fn advance(&self, ms: u64) {
        self.now.set(self.now.get() + ms);
    }
}

#[cfg(any(test, feature = "testing"))]
impl Clock for FakeClock {
    fn now_ms(&self) -> u64 {
        self.now.get()
    }
    async fn sleep(&self, ms: u64) {
        self.slept.borrow_mut().push(ms);
        self.advance(ms);
    }
}

#[cfg(any(test, feature = "testing"))]
impl Entropy for FakeClock {
    fn random_u64(&self) -> u64 {
        // splitmix64: deterministic, good enough for tests.
        let s = self.seed.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.seed.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
