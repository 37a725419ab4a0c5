//! Typed cache objects: a thread file (its bytes, blob sha, ETag and fetch time) and a
//! directory listing (entries, ETag, fetch time, and per-thread summaries).

use super::summary::ThreadSummary;
use crate::cache::{Cache, CacheObject};
use crate::github::{DirEntry, Sha};
use serde::{Deserialize, Serialize};

/// A cached thread file, or the knowledge that there is none (`missing`: GitHub
/// answered 404 at `fetched_at_ms`; `content` and `sha` are empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CachedFile {
    pub content: String,
    pub sha: Sha,
    pub etag: Option<String>,
    pub fetched_at_ms: u64,
    pub missing: bool,
}

impl CachedFile {
    /// The record of a 404.
    pub(crate) fn missing(at_ms: u64) -> CachedFile {
        CachedFile {
            content: String::new(),
            sha: Sha::default(),
            etag: None,
            fetched_at_ms: at_ms,
            missing: true,
        }
    }
}

/// A listing entry with the summary of the file at that sha, when known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ListedFile {
    #[serde(flatten)]
    pub entry: DirEntry,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<ThreadSummary>,
    /// The blob sha at which the file was found not to be a thread (listings skip it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_a_thread: Option<Sha>,
}

impl ListedFile {
    /// Whether the file at its listed sha has been read: summarised, or known not to
    /// be a thread.
    pub(super) fn is_known(&self) -> bool {
        let sha = Some(&self.entry.sha);
        self.summary.as_ref().map(|s| &s.sha) == sha || self.not_a_thread.as_ref() == sha
    }
}

/// A cached directory listing (a persisted shape: fields are only ever added, with
/// defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct CachedListing {
    pub etag: Option<String>,
    pub fetched_at_ms: u64,
    pub files: Vec<ListedFile>,
    /// GitHub listed the whole directory (under its 1,000-entry limit), so a file
    /// absent from it does not exist.
    #[serde(default)]
    pub complete: bool,
}

pub(crate) fn file_key(namespace: &str, path: &str) -> String {
    format!("{namespace}/files/{path}")
}

pub(super) fn listing_key(namespace: &str, dir: &str) -> String {
    format!(
        "{namespace}/dirs/{}",
        if dir.is_empty() { "_root" } else { dir }
    )
}

pub(crate) async fn get_file<C: Cache>(cache: &C, key: &str) -> Option<CachedFile> {
    let o = cache.get(key).await?;
    Some(CachedFile {
        content: String::from_utf8(o.body).ok()?,
        sha: Sha(o.meta.get("sha")?.clone()),
        etag: o.meta.get("etag").cloned(),
        fetched_at_ms: o.meta.get("fetched_at")?.parse().ok()?,
        missing: o.meta.get("missing").is_some_and(|m| m == "1"),
    })
}

pub(super) async fn put_file<C: Cache>(cache: &C, key: &str, f: &CachedFile) {
    let mut meta = std::collections::BTreeMap::new();
    meta.insert("sha".to_string(), f.sha.to_string());
    meta.insert("fetched_at".to_string(), f.fetched_at_ms.to_string());
    if let Some(e) = &f.etag {
        meta.insert("etag".to_string(), e.clone());
    }
    if f.missing {
        meta.insert("missing".to_string(), "1".to_string());
    }
    let object = CacheObject {
        body: f.content.as_bytes().to_vec(),
        meta,
    };
    cache.put(key, object).await;
}

pub(super) async fn get_listing<C: Cache>(cache: &C, key: &str) -> Option<CachedListing> {
    serde_json::from_slice(&cache.get(key).await?.body).ok()
}

pub(super) async fn put_listing<C: Cache>(cache: &C, key: &str, l: &CachedListing) {
    let body = serde_json::to_vec(l).unwrap_or_default();
    cache
        .put(
            key,
            CacheObject {
                body,
                meta: Default::default(),
            },
        )
        .await;
}
