//! Marking cached copies stale when the branch changed outside this service (a
//! GitHub `push` webhook): the next read revalidates them (a conditional GET, so an
//! unchanged file still costs nothing on GitHub's side).

use super::read::ReadSource;
use super::{cached, Store};
use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::{Fetched, GitHost, GitHubError};

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

    /// Re-reads the first `max` of these thread files from GitHub (one conditional
    /// request each; the cache learns the new copies) and returns the paths read.
    /// The rest, the files that could not be read, and the listing are marked stale.
    pub async fn refresh(&self, paths: &[String], max: usize) -> Vec<String> {
        let (now, later) = paths.split_at(paths.len().min(max));
        let mut read = vec![];
        let mut unread = later.to_vec();
        for path in now {
            let key = cached::file_key(&self.config.cache_namespace, path);
            let cached = cached::get_file(self.cache, &key)
                .await
                .filter(|c| !c.missing);
            let etag = cached.as_ref().and_then(|c| c.etag.clone());
            match self.git.get_file(path, etag.as_deref()).await {
                Ok(Fetched::NotModified) => read.push(path.clone()),
                Ok(Fetched::Modified(f)) => {
                    let source = match cached {
                        Some(_) => ReadSource::Refreshed,
                        None => ReadSource::Fetched,
                    };
                    self.fetched(path, f, source).await;
                    read.push(path.clone());
                }
                Err(GitHubError::NotFound { .. }) => {
                    let now = self.clock.now_ms();
                    cached::put_file(self.cache, &key, &cached::CachedFile::missing(now)).await;
                }
                Err(_) => unread.push(path.clone()),
            }
        }
        self.mark_stale(&unread).await;
        read
    }

    /// Whether a path from the repository root can be a thread file of this store:
    /// in its directory, with a topic's file name.
    pub fn is_thread_path(&self, path: &str) -> bool {
        let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        dir == self.config.threads_dir && crate::thread::topic::topic_of_path(path).is_some()
    }
}
