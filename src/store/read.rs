//! Reading one thread through the cache.

use super::cached::{self, CachedFile};
use super::{Store, StoreError};
use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::{Fetched, GitHost, GitHubError, RemoteFile, Sha};

/// Where a read was served from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadSource {
    /// A fresh cache entry: no git-host request.
    Cache,
    /// Not cached: one GET.
    Fetched,
    /// Stale, and the git host answered 304.
    Revalidated,
    /// Stale, and the file had changed: one GET with a new body.
    Refreshed,
    /// Stale, the git host failed, and the cached copy was served anyway.
    Stale,
}

impl ReadSource {
    /// Its name in the `x-watercooler-cache` header.
    pub fn as_str(self) -> &'static str {
        match self {
            ReadSource::Cache => "hit",
            ReadSource::Fetched => "miss",
            ReadSource::Revalidated => "revalidated",
            ReadSource::Refreshed => "refreshed",
            ReadSource::Stale => "stale",
        }
    }
}

/// A thread file as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadFile {
    /// The file's text.
    pub content: String,
    /// The blob sha of this content.
    pub sha: Sha,
    /// Where it came from.
    pub source: ReadSource,
}

impl<G: GitHost, C: Cache, K: Clock + Entropy> Store<'_, G, C, K> {
    /// Reads a thread (the topic must be valid).
    pub async fn read_thread(&self, topic: &str) -> Result<ThreadFile, StoreError> {
        let path = self.path_of(topic);
        self.read_path(&path, topic).await
    }

    pub(crate) async fn read_path(
        &self,
        path: &str,
        topic: &str,
    ) -> Result<ThreadFile, StoreError> {
        let key = cached::file_key(&self.config.cache_namespace, path);
        let now = self.clock.now_ms();
        let not_found = || StoreError::ThreadNotFound {
            topic: topic.to_string(),
        };
        let cached = cached::get_file(self.cache, &key).await;
        let age = |c: &CachedFile| now.saturating_sub(c.fetched_at_ms);
        match &cached {
            Some(c) if c.missing && age(c) < self.config.not_found_ttl_ms => {
                return Err(not_found())
            }
            Some(c) if !c.missing && age(c) < self.config.cache_ttl_ms => {
                return Ok(ThreadFile {
                    content: c.content.clone(),
                    sha: c.sha.clone(),
                    source: ReadSource::Cache,
                });
            }
            _ => {}
        }
        let cached = cached.filter(|c| !c.missing);
        if cached.is_none() && self.recent_listing_lacks(path, now).await {
            return Err(not_found());
        }
        let etag = cached.as_ref().and_then(|c| c.etag.as_deref());
        match self.git.get_file(path, etag).await {
            Ok(Fetched::NotModified) => {
                let Some(mut c) = cached else {
                    return Err(StoreError::GitHub(GitHubError::BadResponse {
                        message: "304 without a cached copy".into(),
                    }));
                };
                c.fetched_at_ms = now;
                cached::put_file(self.cache, &key, &c).await;
                Ok(ThreadFile {
                    content: c.content,
                    sha: c.sha,
                    source: ReadSource::Revalidated,
                })
            }
            Ok(Fetched::Modified(f)) => {
                let source = match cached {
                    Some(_) => ReadSource::Refreshed,
                    None => ReadSource::Fetched,
                };
                Ok(self.fetched(path, f, source).await)
            }
            Err(GitHubError::NotFound { .. }) => {
                cached::put_file(self.cache, &key, &CachedFile::missing(now)).await;
                // One listing answers every other missing topic for a while.
                self.refresh_listing_for_misses(now).await;
                Err(not_found())
            }
            Err(e) => match cached {
                Some(c) if e.is_transient() => Ok(ThreadFile {
                    content: c.content,
                    sha: c.sha,
                    source: ReadSource::Stale,
                }),
                _ => Err(StoreError::GitHub(e)),
            },
        }
    }

    /// A thread's content as known, cheaply: the cached copy whatever its age, else
    /// GitHub's (one request, remembered in the cache). `Ok(None)`: no such file.
    pub async fn peek_thread(&self, topic: &str) -> Result<Option<String>, GitHubError> {
        let path = self.path_of(topic);
        let key = cached::file_key(&self.config.cache_namespace, &path);
        if let Some(c) = cached::get_file(self.cache, &key)
            .await
            .filter(|c| !c.missing)
        {
            return Ok(Some(c.content));
        }
        match self.git.get_file(&path, None).await {
            Ok(Fetched::Modified(f)) => Ok(Some(
                self.fetched(&path, f, ReadSource::Fetched).await.content,
            )),
            Ok(Fetched::NotModified) | Err(GitHubError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A file the git host just sent: cached, and, when it was not cached before, made
    /// known to the listing (it may have been pushed from elsewhere).
    pub(super) async fn fetched(
        &self,
        path: &str,
        f: RemoteFile,
        source: ReadSource,
    ) -> ThreadFile {
        if source == ReadSource::Fetched {
            self.listing_must_know(path).await;
        }
        self.cache_file(path, &f.content, &f.sha, f.etag).await;
        ThreadFile {
            content: f.content,
            sha: f.sha,
            source,
        }
    }

    /// Records content the git host just confirmed (a PUT answer) in the cache.
    pub(crate) async fn remember(&self, path: &str, content: &str, sha: &str) {
        self.cache_file(path, content, sha, None).await;
    }

    async fn cache_file(&self, path: &str, content: &str, sha: &str, etag: Option<String>) {
        let key = cached::file_key(&self.config.cache_namespace, path);
        let file = CachedFile {
            content: content.to_string(),
            sha: Sha::from(sha),
            etag,
            fetched_at_ms: self.clock.now_ms(),
            missing: false,
        };
        cached::put_file(self.cache, &key, &file).await;
    }
}
