//! Marking cached copies stale when the branch changed outside this service (a
//! GitHub `push` webhook): the next read revalidates them (a conditional GET, so an
//! unchanged file still costs nothing on GitHub's side).

use super::{cached, Store};
use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::GitHost;

impl<G: GitHost, C: Cache, K: Clock + Entropy> Store<'_, G, C, K> {
    /// Marks the cached copies of these files (paths from the repository root) and
    /// the listing stale. Returns how many cached files were marked.
    pub async fn mark_stale(&self, paths: &[String]) -> usize {
        let ns = &self.config.cache_namespace;
        let mut marked = 0;
        for path in paths {
            let key = cached::file_key(ns, path);
            if let Some(mut f) = cached::get_file(self.cache, &key).await {
                f.fetched_at_ms = 0;
                cached::put_file(self.cache, &key, &f).await;
                marked += 1;
            }
        }
        let key = cached::listing_key(ns, &self.config.threads_dir);
        if let Some(mut l) = cached::get_listing(self.cache, &key).await {
            l.fetched_at_ms = 0;
            cached::put_listing(self.cache, &key, &l).await;
        }
        marked
    }

    /// Whether a path from the repository root can be a thread file of this store:
    /// in its directory, with a topic's file name.
    pub fn is_thread_path(&self, path: &str) -> bool {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        dir == self.config.threads_dir && crate::thread::topic::topic_of_file_name(name).is_some()
    }
}
