//! Listing threads: one conditional request for the directory, then only the threads
//! whose blob sha changed.

use super::cached::{self, CachedListing, ListedFile};
use super::summary::ThreadSummary;
use super::{join_path, Store, StoreError};
use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::{DirEntry, Fetched, GitHost, GitHubError, Sha};
use crate::thread::topic;

fn is_thread_file(e: &DirEntry) -> bool {
    e.kind == "file" && topic::topic_of_file_name(&e.name).is_some()
}

/// GitHub's Contents API lists at most this many entries of a directory: a listing
/// that long may be missing files, so it never proves a thread absent.
const LISTING_LIMIT: usize = 1000;

impl<G: GitHost, C: Cache, K: Clock + Entropy> Store<'_, G, C, K> {
    /// Summaries of every thread file, sorted by topic.
    pub async fn list_threads(&self) -> Result<Vec<ThreadSummary>, StoreError> {
        let key = self.listing_key();
        let now = self.clock.now_ms();
        let cached_listing = cached::get_listing(self.cache, &key).await;
        let (listing, revalidated) = match cached_listing {
            Some(l) if now.saturating_sub(l.fetched_at_ms) < self.config.cache_ttl_ms => (l, false),
            cached_listing => match self.fetch_listing(cached_listing.clone(), now).await {
                Ok(l) => (l, true),
                // GitHub is failing: a stale listing beats none.
                Err(e) => match cached_listing {
                    Some(l) if e.is_transient() => {
                        return self.finish_listing(l, false, &key).await
                    }
                    _ => return Err(StoreError::GitHub(e)),
                },
            },
        };
        self.finish_listing(listing, revalidated, &key).await
    }

    fn listing_key(&self) -> String {
        cached::listing_key(&self.config.cache_namespace, &self.config.threads_dir)
    }

    /// The directory listing from the git host (one conditional request), keeping the
    /// summaries of files whose sha did not change.
    async fn fetch_listing(
        &self,
        cached_listing: Option<CachedListing>,
        now: u64,
    ) -> Result<CachedListing, GitHubError> {
        let etag = cached_listing.as_ref().and_then(|l| l.etag.as_deref());
        match self.git.list_dir(&self.config.threads_dir, etag).await {
            Ok(Fetched::NotModified) => Ok(CachedListing {
                fetched_at_ms: now,
                ..cached_listing.unwrap_or_default()
            }),
            Ok(Fetched::Modified(l)) => {
                let old = cached_listing.map(|c| c.files).unwrap_or_default();
                let complete = l.entries.len() < LISTING_LIMIT;
                let files = l
                    .entries
                    .into_iter()
                    .filter(is_thread_file)
                    .map(|entry| {
                        let known = old.iter().find(|o| o.entry.path == entry.path);
                        ListedFile {
                            summary: known
                                .and_then(|o| o.summary.clone())
                                .filter(|s| s.sha == entry.sha),
                            not_a_thread: known
                                .and_then(|o| o.not_a_thread.clone())
                                .filter(|sha| *sha == entry.sha),
                            entry,
                        }
                    })
                    .collect();
                Ok(CachedListing {
                    etag: l.etag,
                    fetched_at_ms: now,
                    files,
                    complete,
                })
            }
            // No directory yet (or an empty repository): no threads.
            Err(GitHubError::NotFound { .. }) => Ok(CachedListing {
                fetched_at_ms: now,
                complete: true,
                ..Default::default()
            }),
            Err(e) => Err(e),
        }
    }

    /// Whether a listing fetched within the not-found time, and complete, lacks `path`.
    pub(crate) async fn recent_listing_lacks(&self, path: &str, now: u64) -> bool {
        cached::get_listing(self.cache, &self.listing_key())
            .await
            .is_some_and(|l| {
                l.complete
                    && now.saturating_sub(l.fetched_at_ms) < self.config.not_found_ttl_ms
                    && !l.files.iter().any(|f| f.entry.path == path)
            })
    }

    /// A file exists: a cached listing that lacks it is out of date, so the next
    /// listing asks again (one conditional request).
    pub(crate) async fn listing_must_know(&self, path: &str) {
        let key = self.listing_key();
        if let Some(mut l) = cached::get_listing(self.cache, &key).await {
            if l.fetched_at_ms > 0 && !l.files.iter().any(|f| f.entry.path == path) {
                l.fetched_at_ms = 0;
                cached::put_listing(self.cache, &key, &l).await;
            }
        }
    }

    /// After a 404: make sure a recent listing is cached, so that other missing topics
    /// are answered without asking GitHub (at most one request per not-found time).
    pub(crate) async fn refresh_listing_for_misses(&self, now: u64) {
        let key = self.listing_key();
        let cached_listing = cached::get_listing(self.cache, &key).await;
        if cached_listing
            .as_ref()
            .is_some_and(|l| now.saturating_sub(l.fetched_at_ms) < self.config.not_found_ttl_ms)
        {
            return;
        }
        if let Ok(l) = self.fetch_listing(cached_listing, now).await {
            cached::put_listing(self.cache, &key, &l).await;
        }
    }

    /// Fills in missing summaries, stores the listing if anything changed, and returns
    /// the summaries sorted by topic.
    async fn finish_listing(
        &self,
        mut listing: CachedListing,
        revalidated: bool,
        key: &str,
    ) -> Result<Vec<ThreadSummary>, StoreError> {
        let missing: Vec<usize> = (0..listing.files.len())
            .filter(|&i| !listing.files[i].is_known())
            .collect();
        let reads = missing.iter().map(|&i| {
            let e = &listing.files[i].entry;
            let topic = topic::topic_of_file_name(&e.name)
                .unwrap_or_default()
                .to_string();
            let (path, sha) = (e.path.clone(), e.sha.clone());
            async move { (i, self.summary_of(&path, &topic, &sha).await) }
        });
        for (i, summary) in futures::future::join_all(reads).await {
            let file = &mut listing.files[i];
            match summary? {
                Some(s) => file.summary = Some(s),
                None => file.not_a_thread = Some(file.entry.sha.clone()),
            }
        }
        if revalidated || !missing.is_empty() {
            cached::put_listing(self.cache, key, &listing).await;
        }

        let mut out: Vec<ThreadSummary> = listing
            .files
            .into_iter()
            .filter_map(|f| f.summary)
            .collect();
        out.sort_by(|a, b| a.topic.cmp(&b.topic));
        Ok(out)
    }

    /// The summary of the file at `sha` (`None`: not a thread): from the cached file
    /// when it holds that sha, whatever its age (the listing just vouched for it), else
    /// read through.
    async fn summary_of(
        &self,
        path: &str,
        topic: &str,
        sha: &str,
    ) -> Result<Option<ThreadSummary>, StoreError> {
        let key = cached::file_key(&self.config.cache_namespace, path);
        if let Some(c) = cached::get_file(self.cache, &key)
            .await
            .filter(|c| c.sha == sha)
        {
            return Ok(ThreadSummary::of(topic, &c.sha, &c.content));
        }
        let f = self.read_path(path, topic).await?;
        Ok(ThreadSummary::of(topic, &f.sha, &f.content))
    }

    /// Updates the cached listing after a write of ours, so listings show it at once.
    pub(crate) async fn note_written(&self, path: &str, topic: &str, sha: &str, content: &str) {
        let dir = self.config.threads_dir.clone();
        let key = self.listing_key();
        let Some(mut listing) = cached::get_listing(self.cache, &key).await else {
            return;
        };
        let summary = ThreadSummary::of(topic, sha, content);
        let not_a_thread = summary.is_none().then(|| Sha::from(sha));
        let entry = DirEntry {
            name: path.rsplit('/').next().unwrap_or(path).to_string(),
            path: join_path(&dir, &topic::file_name(topic).unwrap_or_default()),
            sha: Sha::from(sha),
            size: content.len() as u64,
            kind: "file".into(),
        };
        match listing.files.iter_mut().find(|f| f.entry.path == path) {
            Some(f) => {
                f.entry = entry;
                f.summary = summary;
                f.not_a_thread = not_a_thread;
            }
            None => listing.files.push(ListedFile {
                entry,
                summary,
                not_a_thread,
            }),
        }
        cached::put_listing(self.cache, &key, &listing).await;
    }
}
