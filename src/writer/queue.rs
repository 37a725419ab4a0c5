//! The write queue as the API sees it: submit an operation, read the sync status,
//! flush, retry, and list what is pending on a thread. The Worker reaches the
//! Durable Object through it; tests call a writer directly.

use super::engine::{JournalStore, Submit, Submitted, Writer};
use super::journal::{Queued, SyncStatus};
use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::GitHost;

/// The writer, wherever it runs. Errors are plain text (the writer could not be
/// reached); they never contain secrets.
#[allow(async_fn_in_trait)]
pub trait WriteQueue {
    /// Submits an operation and waits for it up to the deadline.
    async fn submit(&self, s: &Submit) -> Result<Submitted, String>;
    /// The sync status.
    async fn status(&self) -> Result<SyncStatus, String>;
    /// Flushes at once (past any backoff) and returns the status after.
    async fn flush_now(&self) -> Result<SyncStatus, String>;
    /// Moves failed operations back to pending; returns how many, and the status.
    async fn retry(&self) -> Result<(usize, SyncStatus), String>;
    /// Pending operations on one thread (read-your-writes).
    async fn pending_for(&self, topic: &str) -> Result<Vec<Queued>, String>;
    /// Every pending operation (listings).
    async fn pending_all(&self) -> Result<Vec<Queued>, String>;
}

impl<G: GitHost, C: Cache, K: Clock + Entropy, J: JournalStore> WriteQueue
    for Writer<'_, G, C, K, J>
{
    async fn submit(&self, s: &Submit) -> Result<Submitted, String> {
        Ok(Writer::submit(self, s.clone()).await)
    }
    async fn status(&self) -> Result<SyncStatus, String> {
        Ok(Writer::status(self))
    }
    async fn flush_now(&self) -> Result<SyncStatus, String> {
        Writer::flush_now(self).await;
        Ok(Writer::status(self))
    }
    async fn retry(&self) -> Result<(usize, SyncStatus), String> {
        let n = self.retry_failed();
        Writer::flush_now(self).await;
        Ok((n, Writer::status(self)))
    }
    async fn pending_for(&self, topic: &str) -> Result<Vec<Queued>, String> {
        Ok(Writer::pending_for(self, topic))
    }
    async fn pending_all(&self) -> Result<Vec<Queued>, String> {
        Ok(Writer::pending_all(self))
    }
}
