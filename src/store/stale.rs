//! Marking cached copies stale when the branch changed outside this service (a
//! GitHub `push` webhook): the next read revalidates them (a conditional GET, so an
//! unchanged file still costs nothing on GitHub's side).

use super::read::ReadSource;
use super::{cached, Store};
use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::{Fetched, GitHost, GitHubError};

/// A thread file changed outside this service, as re-read from GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// The file's path from the repository root.
    pub path: String,
    /// The thread's topic.
    pub topic: String,
    /// What the cache held (`None`: nothing).
    pub before: Option<String>,
    /// What GitHub holds now.
    pub after: String,
}

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
    /// request each; the cache learns the new copies) and returns those whose content
    /// changed, with what the cache held before. The rest, and the listing, are marked
    /// stale.
    pub async fn observe(&self, paths: &[String], max: usize) -> Vec<Observed> {
        let (now, later) = paths.split_at(paths.len().min(max));
        let mut out = vec![];
        let mut unread = later.to_vec();
        for path in now {
            let name = path.rsplit('/').next().unwrap_or(path);
            let Some(topic) = crate::thread::topic::topic_of_file_name(name) else {
                continue;
            };
            let key = cached::file_key(&self.config.cache_namespace, path);
            let cached = cached::get_file(self.cache, &key)
                .await
                .filter(|c| !c.missing);
            let etag = cached.as_ref().and_then(|c| c.etag.clone());
            let before = cached.map(|c| c.content);
            match self.git.get_file(path, etag.as_deref()).await {
                Ok(Fetched::NotModified) => {}
                Ok(Fetched::Modified(f)) => {
                    let source = match before {
                        Some(_) => ReadSource::Refreshed,
                        None => ReadSource::Fetched,
                    };
                    let after = self.fetched(path, f, source).await.content;
                    if before.as_deref() != Some(after.as_str()) {
                        out.push(Observed {
                            path: path.clone(),
                            topic: topic.to_string(),
                            before,
                            after,
                        });
                    }
                }
                Err(GitHubError::NotFound { .. }) => {
                    let now = self.clock.now_ms();
                    cached::put_file(self.cache, &key, &cached::CachedFile::missing(now)).await;
                }
                Err(_) => unread.push(path.clone()),
            }
        }
        self.mark_stale(&unread).await;
        out
    }

    /// Whether a path from the repository root can be a thread file of this store:
    /// in its directory, with a topic's file name.
    pub fn is_thread_path(&self, path: &str) -> bool {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        dir == self.config.threads_dir && crate::thread::topic::topic_of_file_name(name).is_some()
    }
}
