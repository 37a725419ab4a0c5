//! The git host: GitHub's Contents API behind a small trait.
//!
//! [`GitHost`] is what the store needs; [`client::GitHubClient`] implements it over any
//! [`http::HttpClient`]; tests use [`memory::MemoryGitHost`].

pub mod app;
pub mod client;
pub mod error;
pub mod http;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod pattern;
pub mod signin;

pub use client::{GitHubClient, Repo};
pub use error::GitHubError;
pub use pattern::RepoPattern;

use serde::{Deserialize, Serialize};

/// A git object id (a commit's or a blob's) as the host gives it (persisted as a
/// plain string).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sha(pub String);

impl std::ops::Deref for Sha {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Sha {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl crate::schema::Schema for Sha {
    fn schema() -> serde_json::Value {
        String::schema()
    }
}

impl From<String> for Sha {
    fn from(s: String) -> Sha {
        Sha(s)
    }
}

impl From<&str> for Sha {
    fn from(s: &str) -> Sha {
        Sha(s.to_string())
    }
}

impl PartialEq<str> for Sha {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Sha {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// A file read from the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    /// The file's text.
    pub content: String,
    /// The blob sha: the optimistic lock for the next write.
    pub sha: Sha,
    /// The response's ETag, for the next conditional read.
    pub etag: Option<String>,
}

/// The answer to a conditional request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched<T> {
    /// It changed (or the request was not conditional): the new value.
    Modified(T),
    /// 304: what the caller has is current.
    NotModified,
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirEntry {
    /// The file or directory name.
    pub name: String,
    /// The path from the repository root.
    pub path: String,
    /// The blob (or tree) sha.
    pub sha: Sha,
    /// The size in bytes (0 for a directory).
    #[serde(default)]
    pub size: u64,
    /// GitHub's `type`: `file`, `dir`, and so on.
    #[serde(rename = "type")]
    pub kind: String,
}

/// A directory listing and its ETag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The directory's entries.
    pub entries: Vec<DirEntry>,
    /// The response's ETag, for the next conditional read.
    pub etag: Option<String>,
}

/// A sha-checked file write.
#[derive(Debug, Clone, Copy)]
pub struct PutFile<'a> {
    /// The path from the repository root.
    pub path: &'a str,
    /// The new text.
    pub content: &'a str,
    /// The blob sha being replaced; `None` creates the file.
    pub sha: Option<&'a str>,
    /// The commit message.
    pub message: &'a str,
}

/// What a successful write returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The blob sha of the file written.
    pub blob_sha: Sha,
    /// The sha of the commit made.
    pub commit_sha: Sha,
}

/// The blob sha git gives `content`: SHA-1 of `blob <len>\0<content>`, in hex. Lets a
/// multi-file commit know its blob shas without reading them back.
pub fn git_blob_sha(content: &str) -> Sha {
    use sha1::{Digest, Sha1};
    let mut h = Sha1::new();
    h.update(format!("blob {}\0", content.len()).as_bytes());
    h.update(content.as_bytes());
    Sha(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// One file of a multi-file commit.
#[derive(Debug, Clone, Copy)]
pub struct TreeFile<'a> {
    /// The path from the repository root.
    pub path: &'a str,
    /// The new text.
    pub content: &'a str,
    /// The blob sha the new content was made from (`None`: the file must not exist).
    pub base_sha: Option<&'a str>,
}

/// A commit's tree.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tree {
    /// The tree's sha.
    pub sha: Sha,
    /// The blob sha of every file, by path.
    pub blobs: std::collections::BTreeMap<String, Sha>,
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

    // The Git Data API: several files in one commit.

    /// The commit the branch points at.
    async fn branch_head(&self) -> Result<Sha, GitHubError>;
    /// The tree of a commit: its sha and the blob sha of every file, by path.
    async fn tree_at(&self, commit_sha: &str) -> Result<Tree, GitHubError>;
    /// A new tree: `base_tree` with `files` written. Returns its sha.
    async fn create_tree(
        &self,
        base_tree: &str,
        files: &[TreeFile<'_>],
    ) -> Result<Sha, GitHubError>;
    /// A new commit of `tree` on `parent`. Returns its sha.
    async fn create_commit(
        &self,
        message: &str,
        tree: &str,
        parent: &str,
    ) -> Result<Sha, GitHubError>;
    /// Moves the branch to `commit_sha`, a fast-forward only: `BranchMoved` when it
    /// moved meanwhile.
    async fn update_branch(&self, commit_sha: &str) -> Result<(), GitHubError>;
}

/// Commits `files` in one commit on the branch through the Git Data API: read the
/// head and its tree, check every file is still at its base sha, write a tree on top,
/// commit, fast-forward the branch. Five requests whatever the number of files.
/// `FileChanged` if a file moved on since it was read (re-read and re-apply);
/// `BranchMoved` if the branch moved before the fast-forward (start again).
/// `before_write` runs before each of the three writes (for pacing).
pub async fn commit_files<G: GitHost>(
    git: &G,
    files: &[TreeFile<'_>],
    message: &str,
    before_write: impl AsyncFn(),
) -> Result<Sha, GitHubError> {
    let head = git.branch_head().await?;
    let tree = git.tree_at(&head).await?;
    if let Some(f) = files
        .iter()
        .find(|f| tree.blobs.get(f.path).map(|s| &**s) != f.base_sha)
    {
        return Err(GitHubError::FileChanged {
            message: format!(
                "{} does not match {}",
                f.path,
                f.base_sha.unwrap_or("(new file)")
            ),
        });
    }
    before_write().await;
    let new_tree = git.create_tree(&tree.sha, files).await?;
    before_write().await;
    let commit = git.create_commit(message, &new_tree, &head).await?;
    before_write().await;
    git.update_branch(&commit).await?;
    Ok(commit)
}
