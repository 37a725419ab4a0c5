//! An in-memory [`GitHost`] with GitHub's conflict semantics, request counters and
//! scripted failures: the test double for the store's logic.

use super::{DirEntry, Fetched, GitHost, GitHubError, Listing, PutFile, RemoteFile, Written};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// When a scripted failure strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strike {
    /// Instead of the operation.
    Before,
    /// After the operation took effect (the answer is lost).
    After,
}

#[derive(Debug, Clone)]
struct Fault {
    method: &'static str,
    error: GitHubError,
    strike: Strike,
}

/// Counts of requests by method, and commits made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    pub get: usize,
    pub put: usize,
    pub not_modified: usize,
    pub commits: usize,
}

/// A test's hook that edits the files before a PUT lands.
type PutHook = Box<dyn FnMut(&mut BTreeMap<String, String>)>;

#[derive(Default)]
struct State {
    files: BTreeMap<String, String>,
    head: u64,
    counters: Counters,
    faults: Vec<Fault>,
    /// Runs before each PUT is applied: lets a test slip in an outside write.
    before_put: Option<PutHook>,
}

/// The in-memory git host.
#[derive(Default)]
pub struct MemoryGitHost {
    state: RefCell<State>,
}

/// A git-like blob id for content (sha256 here; only equality matters).
pub fn blob_sha(content: &str) -> String {
    let digest = Sha256::digest(format!("blob {}\0{content}", content.len()).as_bytes());
    digest.iter().take(20).map(|b| format!("{b:02x}")).collect()
}

fn etag_of(sha: &str) -> String {
    format!("W/\"{sha}\"")
}

fn matches_etag(if_none_match: Option<&str>, sha: &str) -> bool {
    if_none_match.is_some_and(|e| e == etag_of(sha))
}

impl MemoryGitHost {
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes a file as an outside writer would (a `git push`), counting nothing.
    pub fn push(&self, path: &str, content: &str) {
        let mut s = self.state.borrow_mut();
        s.files.insert(path.to_string(), content.to_string());
        s.head += 1;
    }

    pub fn file(&self, path: &str) -> Option<String> {
        self.state.borrow().files.get(path).cloned()
    }

    pub fn counters(&self) -> Counters {
        self.state.borrow().counters.clone()
    }

    pub fn reset_counters(&self) {
        self.state.borrow_mut().counters = Counters::default();
    }

    /// Makes the next `method` request fail with `error`.
    pub fn fail_next(&self, method: &'static str, error: GitHubError, strike: Strike) {
        self.state.borrow_mut().faults.push(Fault {
            method,
            error,
            strike,
        });
    }

    /// Runs `f` on the files before every PUT is applied.
    pub fn before_put(&self, f: impl FnMut(&mut BTreeMap<String, String>) + 'static) {
        self.state.borrow_mut().before_put = Some(Box::new(f));
    }

    fn take_fault(&self, method: &str) -> Option<Fault> {
        let mut s = self.state.borrow_mut();
        let i = s.faults.iter().position(|f| f.method == method)?;
        Some(s.faults.remove(i))
    }

    fn listing(&self, dir: &str) -> (Vec<DirEntry>, String) {
        let s = self.state.borrow();
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let entries: Vec<DirEntry> = s
            .files
            .iter()
            .filter_map(|(path, content)| {
                let name = path.strip_prefix(&prefix)?;
                (!name.contains('/')).then(|| DirEntry {
                    name: name.to_string(),
                    path: path.clone(),
                    sha: blob_sha(content),
                    size: content.len() as u64,
                    kind: "file".into(),
                })
            })
            .collect();
        let tree = blob_sha(
            &entries
                .iter()
                .map(|e| format!("{} {}\n", e.name, e.sha))
                .collect::<String>(),
        );
        (entries, tree)
    }
}

impl GitHost for MemoryGitHost {
    async fn get_file(
        &self,
        path: &str,
        if_none_match: Option<&str>,
    ) -> Result<Fetched<RemoteFile>, GitHubError> {
        self.state.borrow_mut().counters.get += 1;
        if let Some(f) = self.take_fault("GET") {
            return Err(f.error);
        }
        let content = self.file(path).ok_or(GitHubError::NotFound {
            message: "Not Found".into(),
        })?;
        let sha = blob_sha(&content);
        if matches_etag(if_none_match, &sha) {
            self.state.borrow_mut().counters.not_modified += 1;
            return Ok(Fetched::NotModified);
        }
        Ok(Fetched::Modified(RemoteFile {
            etag: Some(etag_of(&sha)),
            content,
            sha,
        }))
    }

    async fn list_dir(
        &self,
        path: &str,
        if_none_match: Option<&str>,
    ) -> Result<Fetched<Listing>, GitHubError> {
        self.state.borrow_mut().counters.get += 1;
        if let Some(f) = self.take_fault("GET") {
            return Err(f.error);
        }
        let (entries, tree) = self.listing(path);
        if matches_etag(if_none_match, &tree) {
            self.state.borrow_mut().counters.not_modified += 1;
            return Ok(Fetched::NotModified);
        }
        Ok(Fetched::Modified(Listing {
            entries,
            etag: Some(etag_of(&tree)),
        }))
    }

    async fn put_file(&self, put: PutFile<'_>) -> Result<Written, GitHubError> {
        self.state.borrow_mut().counters.put += 1;
        let fault = self.take_fault("PUT");
        if let Some(f) = fault.as_ref().filter(|f| f.strike == Strike::Before) {
            return Err(f.error.clone());
        }
        let mut s = self.state.borrow_mut();
        if let Some(mut hook) = s.before_put.take() {
            hook(&mut s.files);
            s.before_put = Some(hook);
        }
        let current = s.files.get(put.path).map(|c| blob_sha(c));
        match (current, put.sha) {
            (Some(_), None) => return Err(GitHubError::ShaMissing),
            (Some(cur), Some(given)) if cur != given => {
                return Err(GitHubError::FileChanged {
                    message: format!("{} does not match {given}", put.path),
                })
            }
            (None, Some(given)) => {
                return Err(GitHubError::FileChanged {
                    message: format!("{} does not match {given}", put.path),
                })
            }
            _ => {}
        }
        s.files
            .insert(put.path.to_string(), put.content.to_string());
        s.head += 1;
        s.counters.commits += 1;
        let written = Written {
            blob_sha: blob_sha(put.content),
            commit_sha: format!("{:040x}", s.head),
        };
        match fault {
            Some(f) => Err(f.error),
            None => Ok(written),
        }
    }
}
