//! The one test fixture: the in-memory git host, cache, clock and journal, and the
//! store and writer over them. For this crate's tests (and, with the `testing`
//! feature, for others').

use crate::cache::MemoryCache;
use crate::clock::FakeClock;
use crate::github::memory::MemoryGitHost;
use crate::store::{Store, StoreConfig};
use crate::writer::{MemoryJournal, Writer, WriterConfig};
use std::cell::Cell;

/// A moment in 2026, where every fixture's clock starts.
pub const T0: u64 = 1_772_442_900_000;

/// The in-memory effects of one test.
pub struct Fixture {
    /// GitHub, in memory.
    pub git: MemoryGitHost,
    /// The cache, in memory.
    pub cache: MemoryCache,
    /// A clock that only pretends to sleep.
    pub clock: FakeClock,
    /// Threads under `threads/`, a 30 s cache, a 10 s not-found time.
    pub config: StoreConfig,
    /// The writer's journal, in memory.
    pub journal: MemoryJournal,
    /// The writer's in-flight flag.
    pub in_flight: Cell<bool>,
}

impl Default for Fixture {
    fn default() -> Self {
        Fixture::in_dir("threads")
    }
}

impl Fixture {
    /// A fixture whose threads live in `dir` (`""`: the repository root).
    pub fn in_dir(dir: &str) -> Fixture {
        Fixture {
            git: MemoryGitHost::new(),
            cache: MemoryCache::new(),
            clock: FakeClock::at(T0),
            config: StoreConfig {
                threads_dir: dir.into(),
                cache_ttl_ms: 30_000,
                not_found_ttl_ms: 10_000,
                cache_namespace: "v1/acme/threads/main".into(),
            },
            journal: MemoryJournal::default(),
            in_flight: Cell::new(false),
        }
    }

    /// The store over the fixture's effects.
    pub fn store(&self) -> Store<'_, MemoryGitHost, MemoryCache, FakeClock> {
        Store {
            git: &self.git,
            cache: &self.cache,
            clock: &self.clock,
            config: &self.config,
        }
    }

    /// A writer with default settings: one invocation, a fresh request budget.
    pub fn writer(&self) -> Writer<'_, MemoryGitHost, MemoryCache, FakeClock, MemoryJournal> {
        self.writer_with(WriterConfig::default())
    }

    /// A writer with these settings.
    pub fn writer_with(
        &self,
        config: WriterConfig,
    ) -> Writer<'_, MemoryGitHost, MemoryCache, FakeClock, MemoryJournal> {
        Writer::new(self.store(), &self.journal, config, &self.in_flight)
    }
}
