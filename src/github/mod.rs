//! The git host: GitHub's Contents API behind a small trait.
//!
//! [`GitHost`] is what the store needs; [`client::GitHubClient`] implements it over any
//! [`http::HttpClient`]; tests use [`memory::MemoryGitHost`].

pub mod client;
pub mod error;
pub mod http;
pub mod memory;

pub use client::{GitHubClient, Repo};
pub use error::GitHubError;

use serde::{Deserialize, Serialize};

/// A file read from the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    pub content: String,
    /// The blob sha: the optimistic lock for the next write.
    pub sha: String,
    pub etag: Option<String>,
}

/// The answer to a conditional request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched<T> {
    Modified(T),
    /// 304: what the caller has is current.
    NotModified,
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirEntry {
    pub name: String,
    pub path: String,
    pub sha: String,
    #[serde(default)]
    pub size: u64,
    #[serde(rename = "type")]
    pub kind: String,
}

/// A directory listing and its ETag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub entries: Vec<DirEntry>,
    pub etag: Option<String>,
}

/// A sha-checked file write.
#[derive(Debug, Clone, Copy)]
pub struct PutFile<'a> {
    pub path: &'a str,
    pub content: &'a str,
    /// The blob sha being replaced; `None` creates the file.
    pub sha: Option<&'a str>,
    pub message: &'a str,
}

/// What a successful write returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub blob_sha: String,
    pub commit_sha: String,
}

/// The operations the store performs on the git host.
#[allow(async_fn_in_trait)]
pub trait GitHost {
    /// Reads a file on the branch. `Err(NotFound)` when it does not exist.
    async fn get_file(
        &self,
        path: &str,
        if_none_match: Option<&str>,
    ) -> Result<Fetched<RemoteFile>, GitHubError>;
    /// Lists a directory on the branch (`""` is the repository root).
    async fn list_dir(
        &self,
        path: &str,
        if_none_match: Option<&str>,
    ) -> Result<Fetched<Listing>, GitHubError>;
    /// Writes a file, checked against `sha`, as one commit on the branch.
    async fn put_file(&self, put: PutFile<'_>) -> Result<Written, GitHubError>;
}
