//! Keeping the search index whole: it learns every accepted entry at once, every
//! thread as committed, and every thread an outside push changed; the first search
//! backfills the threads already in the repository, a budget's worth per invocation
//! (the alarm goes on with the rest), and answers say whether the index is complete.

use super::engine::{JournalStore, Writer, MIN_FLUSH_COST};
use super::search::{Found, SearchQuery};
use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::{Fetched, GitHost};

/// The journal's meta keys for the backfill: its state (`done`), and the thread
/// files still to index.
const META_BACKFILL: &str = "search_backfill";
const META_TODO: &str = "search_todo";
/// When the backfill may go on after GitHub failed it.
const META_RETRY_AT: &str = "search_retry_at_ms";
/// How long the backfill rests after GitHub failed it.
const RETRY_AFTER_MS: u64 = 30_000;
/// Reads of one file that may fail before the backfill gives up on it.
const MAX_FAILURES: u32 = 3;

impl<G: GitHost, C: Cache, K: Clock + Entropy, J: JournalStore> Writer<'_, G, C, K, J> {
    /// Searches. `Err` is a query the index cannot read, in words.
    pub async fn search(&self, q: &SearchQuery) -> Result<Found, String> {
        let complete = self.backfill().await;
        let results = self.journal.search(q)?;
        Ok(Found { results, complete })
    }

    /// Indexes the threads the index has not seen, as far as this invocation's budget
    /// goes (leaving a flush's worth). Returns whether the index is complete.
    pub async fn backfill(&self) -> bool {
        if self.journal.meta(META_BACKFILL).as_deref() == Some("done") {
            return true;
        }
        let now = self.store.clock.now_ms();
        if self.retry_at() > now {
            return false;
        }
        // Paths still to index, each with its failed reads so far.
        let mut todo: Vec<(String, u32)> = match self.journal.meta(META_TODO) {
            Some(v) => serde_json::from_str(&v).unwrap_or_default(),
            None => match self.thread_paths().await {
                Some(paths) => paths.into_iter().map(|p| (p, 0)).collect(),
                None => return false,
            },
        };
        while !todo.is_empty() && self.budget_left() > MIN_FLUSH_COST {
            let (path, failures) = todo.pop().unwrap_or_default();
            let Some(topic) = crate::thread::topic::topic_of_path(&path) else {
                continue;
            };
            self.spend(1);
            match self.store.peek_thread(topic).await {
                Ok(Some(content)) => self.relearn(topic, Some(&crate::thread::parse(&content))),
                Ok(None) => {}
                Err(_) => {
                    // Rest a while, and try the others first; a file that keeps
                    // failing is left to the webhook or the next commit to it.
                    if failures + 1 < MAX_FAILURES {
                        todo.insert(0, (path, failures + 1));
                    }
                    self.journal
                        .set_meta(META_RETRY_AT, &(now + RETRY_AFTER_MS).to_string());
                    break;
                }
            }
        }
        let done = todo.is_empty();
        self.journal
            .set_meta(META_TODO, &serde_json::to_string(&todo).unwrap_or_default());
        if done {
            self.journal.set_meta(META_BACKFILL, "done");
        }
        done
    }

    fn retry_at(&self) -> u64 {
        self.journal
            .meta(META_RETRY_AT)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// When a backfill that started and is not finished may go on (the alarm drives
    /// it): `None` when there is none.
    pub fn backfill_due_at(&self) -> Option<u64> {
        let going = self.journal.meta(META_TODO).is_some()
            && self.journal.meta(META_BACKFILL).as_deref() != Some("done");
        going.then(|| self.retry_at())
    }

    /// The thread files in the repository (one request), for the backfill.
    async fn thread_paths(&self) -> Option<Vec<String>> {
        if self.budget_left() <= MIN_FLUSH_COST {
            return None;
        }
        self.spend(1);
        let dir = &self.store.config.threads_dir;
        match self.store.git.list_dir(dir, None).await {
            Ok(Fetched::Modified(l)) => Some(
                l.entries
                    .into_iter()
                    .filter(|e| e.kind == "file" && self.store.is_thread_path(&e.path))
                    .map(|e| e.path)
                    .collect(),
            ),
            Ok(Fetched::NotModified) => Some(vec![]),
            Err(crate::github::GitHubError::NotFound { .. }) => Some(vec![]),
            Err(_) => None,
        }
    }
}
