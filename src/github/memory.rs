//! An in-memory [`GitHost`] with GitHub's conflict semantics, request counters and
//! scripted failures: the test double for the store's logic.

use super::{
    git_blob_sha, DirEntry, Fetched, GitHost, GitHubError, Listing, PutFile, RemoteFile, Sha, Tree,
    TreeFile, Written,
};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// When a scripted failure strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strike {
    /// Instead of the operation.
    Before,
    /// After the operation took effect (the answer is lost).
    After,
    /// Never: the request hangs without an answer.
    Hang,
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
    /// GET requests.
    pub get: usize,
    /// PUT requests.
    pub put: usize,
    /// GET requests answered 304.
    pub not_modified: usize,
    /// Commits made.
    pub commits: usize,
    /// Git Data API requests (any method).
    pub git_data: usize,
}

/// A test's hook that edits the files before a PUT lands.
type PutHook = Box<dyn FnMut(&mut BTreeMap<String, String>)>;

#[derive(Default)]
struct State {
    files: BTreeMap<String, String>,
    head: u64,
    /// The commit id the branch points at.
    head_id: String,
    /// Trees and commits made through the Git Data API, by id.
    trees: BTreeMap<String, BTreeMap<String, String>>,
    commit_objects: BTreeMap<String, (String, String)>,
    counters: Counters,
    faults: Vec<Fault>,
    /// Runs before each PUT is applied: lets a test slip in an outside write.
    before_put: Option<PutHook>,
    /// Paths whose writes are refused (a PUT, or a tree holding them), with the error.
    refused: BTreeMap<String, GitHubError>,
}

impl State {
    /// A new commit on the branch.
    fn advance(&mut self) {
        self.head += 1;
        self.head_id = format!("{:040x}", self.head);
    }
}

/// The in-memory git host.
#[derive(Default)]
pub struct MemoryGitHost {
    state: RefCell<State>,
}

/// The git blob id of content.
pub fn blob_sha(content: &str) -> Sha {
    git_blob_sha(content)
}

fn etag_of(sha: &str) -> String {
    format!("W/\"{sha}\"")
}

fn matches_etag(if_none_match: Option<&str>, sha: &str) -> bool {
    if_none_match.is_some_and(|e| e == etag_of(sha))
}

impl MemoryGitHost {
    /// An empty host.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes a file as an outside writer would (a `git push`), counting nothing.
    pub fn push(&self, path: &str, content: &str) {
        let mut s = self.state.borrow_mut();
        s.files.insert(path.to_string(), content.to_string());
        s.advance();
    }

    /// A file's content on the branch, if it exists.
    pub fn file(&self, path: &str) -> Option<String> {
        self.state.borrow().files.get(path).cloned()
    }

    /// The commit the branch points at.
    pub fn head(&self) -> Sha {
        Sha(self.state.borrow().head_id.clone())
    }

    /// The counts so far.
    pub fn counters(&self) -> Counters {
        self.state.borrow().counters.clone()
    }

    /// Sets every count back to zero.
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

    /// Forgets every scripted failure not used yet.
    pub fn clear_faults(&self) {
        let mut s = self.state.borrow_mut();
        s.faults.clear();
        s.refused.clear();
    }

    /// Refuses every write to `path` with `error`, until `clear_faults`.
    pub fn refuse_path(&self, path: &str, error: GitHubError) {
        self.state
            .borrow_mut()
            .refused
            .insert(path.to_string(), error);
    }

    fn refusal<'p>(&self, mut paths: impl Iterator<Item = &'p str>) -> Option<GitHubError> {
        let s = self.state.borrow();
        paths.find_map(|p| s.refused.get(p).cloned())
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

    async fn git_data_request(&self, method: &'static str) -> Result<(), GitHubError> {
        self.state.borrow_mut().counters.git_data += 1;
        match self.take_fault(method) {
            Some(f) if f.strike == Strike::Hang => std::future::pending().await,
            Some(f) => Err(f.error),
            None => Ok(()),
        }
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
        (entries, tree.0)
    }
}

impl GitHost for MemoryGitHost {
    async fn get_file(
        &self,
        path: &str,
        if_none_match: Option<&str>,
    ) -> Result<Fetched<RemoteFile>, GitHubError> {
        self.state.borrow_mut().counters.get += 1;
        match self.take_fault("GET") {
            Some(f) if f.strike == Strike::Hang => std::future::pending().await,
            Some(f) => return Err(f.error),
            None => {}
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
        match fault.as_ref().map(|f| f.strike) {
            Some(Strike::Hang) => std::future::pending().await,
            Some(Strike::Before) => return Err(fault.unwrap().error),
            _ => {}
        }
        if let Some(e) = self.refusal(std::iter::once(put.path)) {
            return Err(e);
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
        s.advance();
        s.counters.commits += 1;
        let written = Written {
            blob_sha: blob_sha(put.content),
            commit_sha: Sha(s.head_id.clone()),
        };
        match fault {
            Some(f) => Err(f.error),
            None => Ok(written),
        }
    }

    async fn branch_head(&self) -> Result<Sha, GitHubError> {
        self.git_data_request("GET").await?;
        let mut s = self.state.borrow_mut();
        let head = s.head_id.clone();
        let tree = format!("tree-{head}");
        let files = s.files.clone();
        s.trees.insert(tree.clone(), files);
        s.commit_objects
            .entry(head.clone())
            .or_insert((tree, String::new()));
        Ok(Sha(head))
    }

    async fn tree_at(&self, commit_sha: &str) -> Result<Tree, GitHubError> {
        self.git_data_request("GET").await?;
        let s = self.state.borrow();
        let (tree, _) = s
            .commit_objects
            .get(commit_sha)
            .ok_or(GitHubError::NotFound {
                message: "Not Found".into(),
            })?;
        let files = s.trees.get(tree).cloned().unwrap_or_default();
        Ok(Tree {
            sha: Sha(tree.clone()),
            blobs: files
                .iter()
                .map(|(p, c)| (p.clone(), blob_sha(c)))
                .collect(),
        })
    }

    async fn create_tree(
        &self,
        base_tree: &str,
        files: &[TreeFile<'_>],
    ) -> Result<Sha, GitHubError> {
        self.git_data_request("POST").await?;
        if let Some(e) = self.refusal(files.iter().map(|f| f.path)) {
            return Err(e);
        }
        let mut s = self.state.borrow_mut();
        let mut tree = s
            .trees
            .get(base_tree)
            .cloned()
            .ok_or(GitHubError::Rejected {
                status: 422,
                message: "Invalid tree info".into(),
            })?;
        for f in files {
            tree.insert(f.path.to_string(), f.content.to_string());
        }
        let id = format!("tree-{}", s.trees.len());
        s.trees.insert(id.clone(), tree);
        Ok(Sha(id))
    }

    async fn create_commit(
        &self,
        _message: &str,
        tree: &str,
        parent: &str,
    ) -> Result<Sha, GitHubError> {
        self.git_data_request("POST").await?;
        let mut s = self.state.borrow_mut();
        let id = format!("c{:039x}", s.commit_objects.len() + 1);
        s.commit_objects
            .insert(id.clone(), (tree.to_string(), parent.to_string()));
        Ok(Sha(id))
    }

    async fn update_branch(&self, commit_sha: &str) -> Result<(), GitHubError> {
        self.git_data_request("PATCH").await?;
        let mut s = self.state.borrow_mut();
        let (tree, parent) =
            s.commit_objects
                .get(commit_sha)
                .cloned()
                .ok_or(GitHubError::Rejected {
                    status: 422,
                    message: "Object does not exist".into(),
                })?;
        if parent != s.head_id {
            return Err(GitHubError::BranchMoved {
                message: "Update is not a fast forward".into(),
            });
        }
        s.files = s.trees.get(&tree).cloned().unwrap_or_default();
        s.head += 1;
        s.head_id = commit_sha.to_string();
        s.counters.commits += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::commit_files;
    use futures::executor::block_on;

    #[test]
    fn blob_shas_are_gits() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            blob_sha("hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
    }

    #[test]
    fn several_files_land_in_one_commit() {
        let g = MemoryGitHost::new();
        g.push("a.md", "old");
        let old = blob_sha("old");
        let files = [
            TreeFile {
                path: "a.md",
                content: "A",
                base_sha: Some(&old),
            },
            TreeFile {
                path: "d/b.md",
                content: "B",
                base_sha: None,
            },
        ];
        let commit = block_on(commit_files(&g, &files, "two files", async || {})).unwrap();
        assert_eq!(g.head(), commit);
        assert_eq!(g.file("a.md").as_deref(), Some("A"));
        assert_eq!(g.file("d/b.md").as_deref(), Some("B"));
        assert_eq!(g.counters().commits, 1);
        assert_eq!(g.counters().git_data, 5);
    }

    #[test]
    fn a_moved_branch_refuses_the_fast_forward() {
        let g = MemoryGitHost::new();
        g.push("a.md", "old");
        let head = block_on(g.branch_head()).unwrap();
        let tree = block_on(g.tree_at(&head)).unwrap();
        let ours = [TreeFile {
            path: "a.md",
            content: "ours",
            base_sha: None,
        }];
        let tree = block_on(g.create_tree(&tree.sha, &ours)).unwrap();
        let commit = block_on(g.create_commit("m", &tree, &head)).unwrap();
        g.push("a.md", "theirs");
        assert!(matches!(
            block_on(g.update_branch(&commit)),
            Err(GitHubError::BranchMoved { .. })
        ));
        assert_eq!(g.file("a.md").as_deref(), Some("theirs"));
    }

    #[test]
    fn a_file_changed_since_it_was_read_is_refused_before_any_write() {
        let g = MemoryGitHost::new();
        g.push("a.md", "old");
        let stale = blob_sha("older");
        let files = [TreeFile {
            path: "a.md",
            content: "A",
            base_sha: Some(&stale),
        }];
        assert!(matches!(
            block_on(commit_files(&g, &files, "m", async || {})),
            Err(GitHubError::FileChanged { .. })
        ));
        let files = [TreeFile {
            path: "a.md",
            content: "A",
            base_sha: None,
        }];
        assert!(matches!(
            block_on(commit_files(&g, &files, "m", async || {})),
            Err(GitHubError::FileChanged { .. })
        ));
        assert_eq!(g.counters().commits, 0);
        assert_eq!(g.file("a.md").as_deref(), Some("old"));
    }
}
