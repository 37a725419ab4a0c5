//! The read cache (R2 in production): objects with a body and string metadata.
//!
//! The cache is best-effort. Implementations swallow (and log) their own failures:
//! a broken cache makes reads slower, never wrong.

#[cfg(any(test, feature = "testing"))]
use std::cell::RefCell;
use std::collections::BTreeMap;

/// One stored object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheObject {
    /// The object's bytes.
    pub body: Vec<u8>,
    /// The object's string metadata.
    pub meta: BTreeMap<String, String>,
}

/// A key-value object store.
#[allow(async_fn_in_trait)]
pub trait Cache {
    /// The object at `key`, if there is one.
    async fn get(&self, key: &str) -> Option<CacheObject>;
    /// Stores `object` at `key`, replacing any object there.
    async fn put(&self, key: &str, object: CacheObject);
    /// Removes the object at `key`, if any.
    async fn delete(&self, key: &str);
}

#[cfg(any(test, feature = "testing"))]
/// An in-memory cache for tests, with counters.
#[derive(Debug, Default)]
pub struct MemoryCache {
    objects: RefCell<BTreeMap<String, CacheObject>>,
    /// How many times `get` was called.
    pub gets: std::cell::Cell<usize>,
    /// How many times `put` was called.
    pub puts: std::cell::Cell<usize>,
}

#[cfg(any(test, feature = "testing"))]
impl MemoryCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }
}

#[cfg(any(test, feature = "testing"))]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> Option<CacheObject> {
        self.gets.set(self.gets.get() + 1);
        self.objects.borrow().get(key).cloned()
    }
    async fn put(&self, key: &str, object: CacheObject) {
        self.puts.set(self.puts.get() + 1);
        self.objects.borrow_mut().insert(key.to_string(), object);
    }
    async fn delete(&self, key: &str) {
        self.objects.borrow_mut().remove(key);
    }
}
