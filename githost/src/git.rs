//! Every interaction with git goes through this module: it shells out to the
//! `git` command line against a bare repository. Nothing here caches state, so
//! commits pushed from outside are always seen by the next call.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// The all-zero object name, used by `update-ref` for "must not exist".
pub const ZERO_SHA: &str = "0000000000000000000000000000000000000000";

/// A git invocation failed to run or exited unsuccessfully where that was unexpected.
#[derive(Debug, Clone)]
pub struct GitError {
    /// The git sub-command and its arguments.
    pub command: String,
    /// Standard error of git, or the spawn error.
    pub stderr: String,
}

impl fmt::Display for GitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "git {} failed: {}", self.command, self.stderr.trim())
    }
}

impl std::error::Error for GitError {}

/// Result type of this module.
pub type GitResult<T> = Result<T, GitError>;

/// What a finished git process produced.
struct RunOutput {
    success: bool,
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

/// One entry of a tree as listed by `git ls-tree -l`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    /// File mode, e.g. `100644` or `040000`.
    pub mode: String,
    /// Object type: `blob`, `tree` or `commit`.
    pub kind: String,
    /// Object name.
    pub sha: String,
    /// Size in bytes, for blobs.
    pub size: Option<u64>,
    /// Path relative to the listed tree.
    pub path: String,
}

impl TreeEntry {
    /// The last path component.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// Identity used to create a commit.
#[derive(Debug, Clone)]
pub struct Signature {
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Date in any format git understands (ISO 8601 recommended); `None` = now.
    pub date: Option<String>,
}

impl Signature {
    /// The identity used when the request names none.
    pub fn default_identity() -> Self {
        Signature {
            name: "githost".to_string(),
            email: "githost@localhost".to_string(),
            date: None,
        }
    }
}

/// Identity as recorded in a commit object.
#[derive(Debug, Clone)]
pub struct Person {
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Seconds since the epoch.
    pub time: i64,
}

/// A parsed commit object.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    /// Commit sha.
    pub sha: String,
    /// Root tree sha.
    pub tree: String,
    /// Parent shas.
    pub parents: Vec<String>,
    /// Author.
    pub author: Person,
    /// Committer.
    pub committer: Person,
    /// Message without trailing newlines.
    pub message: String,
}

/// One change applied by [`Repo::build_tree`].
#[derive(Debug, Clone)]
pub enum TreeEdit {
    /// Put a blob (or submodule commit) at `path` with `mode`.
    Entry {
        /// Path inside the tree.
        path: String,
        /// Mode such as `100644`.
        mode: String,
        /// Object sha.
        sha: String,
    },
    /// Remove `path` (a file, or a directory and everything below it).
    Delete {
        /// Path inside the tree.
        path: String,
    },
    /// Replace `path` by the existing tree `sha`.
    Subtree {
        /// Path inside the tree.
        path: String,
        /// Tree sha.
        sha: String,
    },
}

/// Failure of [`Repo::build_tree`].
#[derive(Debug)]
pub enum TreeError {
    /// The edits were rejected by git (bad path, missing object, ...).
    Invalid(String),
    /// git could not be run.
    Git(GitError),
}

impl From<GitError> for TreeError {
    fn from(e: GitError) -> Self {
        TreeError::Git(e)
    }
}

/// A temporary index file inside the repository, removed on drop.
struct TempIndex {
    path: PathBuf,
}

impl TempIndex {
    fn new(git_dir: &Path) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!("githost-index-{}-{n}-{nanos}", std::process::id());
        TempIndex {
            path: git_dir.join(name),
        }
    }
}

impl Drop for TempIndex {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let mut lock = self.path.clone().into_os_string();
        lock.push(".lock");
        let _ = std::fs::remove_file(lock);
    }
}

/// A bare repository on disk.
#[derive(Debug, Clone)]
pub struct Repo {
    git_dir: PathBuf,
}

/// A `git` command with a clean environment (no inherited repository settings).
fn git_command() -> Command {
    let mut cmd = Command::new("git");
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_NAMESPACE",
        "GIT_COMMON_DIR",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("GIT_LITERAL_PATHSPECS", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(false);
    cmd
}

/// Run a prepared command, feeding `input` to its standard input.
async fn run_command(
    mut cmd: Command,
    label: String,
    input: Option<&[u8]>,
) -> GitResult<RunOutput> {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().map_err(|e| GitError {
        command: label.clone(),
        stderr: format!("cannot run git: {e}"),
    })?;
    let stdin = child.stdin.take();
    let writer = async move {
        if let (Some(mut pipe), Some(data)) = (stdin, input) {
            // A write error means git exited early; its exit status tells why.
            let _ = pipe.write_all(data).await;
            let _ = pipe.shutdown().await;
        }
    };
    let (_, output) = tokio::join!(writer, child.wait_with_output());
    let output = output.map_err(|e| GitError {
        command: label,
        stderr: format!("waiting for git failed: {e}"),
    })?;
    Ok(RunOutput {
        success: output.status.success(),
        code: output.status.code(),
        stdout: output.stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// Create a bare repository at `path` whose HEAD points at `branch`.
pub async fn init_bare(path: &Path, branch: &str) -> GitResult<()> {
    let mut cmd = git_command();
    cmd.args([
        "init",
        "--bare",
        "--quiet",
        "--object-format=sha1",
        "-b",
        branch,
    ])
    .arg(path);
    let out = run_command(cmd, "init".to_string(), None).await?;
    if out.success {
        Ok(())
    } else {
        Err(GitError {
            command: "init".to_string(),
            stderr: out.stderr,
        })
    }
}

/// Set `key` to `value` in the configuration of the repository at `git_dir`
/// (blocking: a short `git config` run, for setup code outside async tasks).
pub fn set_config_blocking(git_dir: &Path, key: &str, value: &str) -> GitResult<()> {
    let mut dir_arg = OsString::from("--git-dir=");
    dir_arg.push(git_dir.as_os_str());
    let out = std::process::Command::new("git")
        .env_remove("GIT_DIR")
        .env_remove("GIT_CONFIG_PARAMETERS")
        .env("LC_ALL", "C")
        .arg(dir_arg)
        .args(["config", key, value])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| GitError {
            command: format!("config {key}"),
            stderr: format!("cannot run git: {e}"),
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(GitError {
            command: format!("config {key}"),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

/// Parse `git diff-tree -z --name-status` output into `(status, path)` pairs.
fn parse_name_status(out: &[u8]) -> Vec<(char, String)> {
    let mut fields = out.split(|b| *b == 0).filter(|f| !f.is_empty());
    let mut changes = Vec::new();
    while let (Some(status), Some(path)) = (fields.next(), fields.next()) {
        let letter = status.first().map_or('M', |b| char::from(*b));
        changes.push((letter, String::from_utf8_lossy(path).into_owned()));
    }
    changes
}

/// Whether `name` is acceptable as a branch or ref name (a conservative subset
/// of `git check-ref-format`, which also excludes revision syntax).
pub fn is_valid_ref_name(name: &str) -> bool {
    if name.is_empty()
        || name == "@"
        || name.starts_with('/')
        || name.ends_with('/')
        || name.ends_with('.')
        || name.ends_with(".lock")
        || name.contains("..")
        || name.contains("//")
        || name.contains("@{")
        || name.starts_with('-')
    {
        return false;
    }
    if name
        .chars()
        .any(|c| c.is_control() || c == ' ' || "~^:?*[\\".contains(c))
    {
        return false;
    }
    name.split('/').all(|part| !part.starts_with('.'))
}

/// Whether `s` looks like a (possibly abbreviated) hexadecimal object name.
pub fn is_hex_sha(s: &str, min_len: usize) -> bool {
    (min_len..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Parse `git ls-tree -l -z` output.
fn parse_ls_tree(out: &[u8]) -> Vec<TreeEntry> {
    let mut entries = Vec::new();
    for record in out.split(|b| *b == 0) {
        if record.is_empty() {
            continue;
        }
        let record = String::from_utf8_lossy(record);
        let Some((meta, path)) = record.split_once('\t') else {
            continue;
        };
        let mut parts = meta.split_whitespace();
        let (Some(mode), Some(kind), Some(sha), Some(size)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        entries.push(TreeEntry {
            mode: mode.to_string(),
            kind: kind.to_string(),
            sha: sha.to_string(),
            size: size.parse().ok(),
            path: path.to_string(),
        });
    }
    entries
}

/// Parse an identity line such as `Name <mail> 1700000000 +0000`.
fn parse_person(line: &str) -> Person {
    let (name, rest) = line.split_once('<').unwrap_or((line, ""));
    let (email, when) = rest.rsplit_once('>').unwrap_or((rest, ""));
    let time = when
        .split_whitespace()
        .next()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    Person {
        name: name.trim().to_string(),
        email: email.to_string(),
        time,
    }
}

/// Parse the raw text of a commit object.
fn parse_commit(sha: &str, raw: &[u8]) -> CommitInfo {
    let text = String::from_utf8_lossy(raw);
    let (headers, message) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut info = CommitInfo {
        sha: sha.to_string(),
        tree: String::new(),
        parents: Vec::new(),
        author: parse_person(""),
        committer: parse_person(""),
        message: message.trim_end_matches('\n').to_string(),
    };
    for line in headers.lines() {
        if let Some(v) = line.strip_prefix("tree ") {
            info.tree = v.trim().to_string();
        } else if let Some(v) = line.strip_prefix("parent ") {
            info.parents.push(v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("author ") {
            info.author = parse_person(v);
        } else if let Some(v) = line.strip_prefix("committer ") {
            info.committer = parse_person(v);
        }
    }
    info
}

/// First line of git's stdout as a string.
fn first_line(out: &[u8]) -> String {
    String::from_utf8_lossy(out)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}

impl Repo {
    /// A handle on the bare repository at `git_dir` (not checked).
    pub fn new(git_dir: impl Into<PathBuf>) -> Self {
        Repo {
            git_dir: git_dir.into(),
        }
    }

    /// Path of the bare repository.
    pub fn path(&self) -> &Path {
        &self.git_dir
    }

    /// Whether the directory looks like a git repository.
    pub fn exists(&self) -> bool {
        self.git_dir.join("HEAD").is_file() && self.git_dir.join("objects").is_dir()
    }

    /// Run git with `args` against this repository.
    async fn run(
        &self,
        args: &[&str],
        env: &[(&str, &OsStr)],
        input: Option<&[u8]>,
    ) -> GitResult<RunOutput> {
        let mut cmd = git_command();
        let mut dir_arg = OsString::from("--git-dir=");
        dir_arg.push(self.git_dir.as_os_str());
        cmd.arg(dir_arg).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        run_command(cmd, args.join(" "), input).await
    }

    /// Run git and fail unless it exits successfully; returns stdout.
    async fn run_ok(
        &self,
        args: &[&str],
        env: &[(&str, &OsStr)],
        input: Option<&[u8]>,
    ) -> GitResult<Vec<u8>> {
        let out = self.run(args, env, input).await?;
        if out.success {
            Ok(out.stdout)
        } else {
            Err(GitError {
                command: args.join(" "),
                stderr: out.stderr,
            })
        }
    }

    /// `git rev-parse --verify --quiet <rev>`: the object name, if it resolves.
    pub async fn rev_parse(&self, rev: &str) -> GitResult<Option<String>> {
        let out = self
            .run(&["rev-parse", "--verify", "--quiet", rev], &[], None)
            .await?;
        let sha = first_line(&out.stdout);
        Ok((out.success && is_hex_sha(&sha, 40)).then_some(sha))
    }

    /// The branch HEAD points at (the default branch), if HEAD is symbolic.
    pub async fn default_branch(&self) -> GitResult<Option<String>> {
        let out = self
            .run(&["symbolic-ref", "--quiet", "HEAD"], &[], None)
            .await?;
        let name = first_line(&out.stdout);
        Ok(if out.success {
            name.strip_prefix("refs/heads/").map(str::to_string)
        } else {
            None
        })
    }

    /// Point HEAD at `branch`.
    pub async fn set_head(&self, branch: &str) -> GitResult<()> {
        let target = format!("refs/heads/{branch}");
        self.run_ok(&["symbolic-ref", "HEAD", &target], &[], None)
            .await
            .map(|_| ())
    }

    /// Whether the repository has no branches at all (GitHub's "empty repository").
    pub async fn is_empty(&self) -> GitResult<bool> {
        let out = self
            .run_ok(
                &[
                    "for-each-ref",
                    "--count=1",
                    "--format=%(refname)",
                    "refs/heads",
                ],
                &[],
                None,
            )
            .await?;
        Ok(out.iter().all(u8::is_ascii_whitespace))
    }

    /// The commit a branch points at.
    pub async fn branch_head(&self, branch: &str) -> GitResult<Option<String>> {
        if !is_valid_ref_name(branch) {
            return Ok(None);
        }
        self.rev_parse(&format!("refs/heads/{branch}^{{commit}}"))
            .await
    }

    /// The object a full ref name (`refs/...`) points at.
    pub async fn ref_target(&self, full_ref: &str) -> GitResult<Option<String>> {
        if !is_valid_ref_name(full_ref) || !full_ref.starts_with("refs/") {
            return Ok(None);
        }
        self.rev_parse(full_ref).await
    }

    /// Resolve a `ref` query parameter (branch, tag, full ref or commit sha) to a commit.
    pub async fn resolve_commitish(&self, reference: &str) -> GitResult<Option<String>> {
        if is_valid_ref_name(reference) {
            let mut candidates = vec![
                format!("refs/heads/{reference}"),
                format!("refs/tags/{reference}"),
            ];
            if reference.starts_with("refs/") {
                candidates.insert(0, reference.to_string());
            }
            for candidate in candidates {
                if let Some(sha) = self.rev_parse(&format!("{candidate}^{{commit}}")).await? {
                    return Ok(Some(sha));
                }
            }
        }
        if is_hex_sha(reference, 4) {
            let sha = reference.to_ascii_lowercase();
            return self.rev_parse(&format!("{sha}^{{commit}}")).await;
        }
        Ok(None)
    }

    /// Resolve a tree sha, a commit sha or a branch/tag name to a tree.
    pub async fn resolve_tree(&self, treeish: &str) -> GitResult<Option<String>> {
        if is_hex_sha(treeish, 4) {
            let sha = treeish.to_ascii_lowercase();
            if let Some(tree) = self.rev_parse(&format!("{sha}^{{tree}}")).await? {
                return Ok(Some(tree));
            }
        }
        if is_valid_ref_name(treeish) {
            for candidate in [
                format!("refs/heads/{treeish}"),
                format!("refs/tags/{treeish}"),
            ] {
                if let Some(tree) = self.rev_parse(&format!("{candidate}^{{tree}}")).await? {
                    return Ok(Some(tree));
                }
            }
        }
        Ok(None)
    }

    /// The entry at `path` inside `treeish`, if any.
    pub async fn entry_at(&self, treeish: &str, path: &str) -> GitResult<Option<TreeEntry>> {
        let out = self
            .run(&["ls-tree", "-l", "-z", treeish, "--", path], &[], None)
            .await?;
        if !out.success {
            return Ok(None);
        }
        Ok(parse_ls_tree(&out.stdout)
            .into_iter()
            .find(|e| e.path == path))
    }

    /// List a tree (optionally recursively, including the sub-trees themselves).
    pub async fn ls_tree(&self, treeish: &str, recursive: bool) -> GitResult<Vec<TreeEntry>> {
        let mut args = vec!["ls-tree", "-l", "-z"];
        if recursive {
            args.extend(["-r", "-t"]);
        }
        args.push(treeish);
        let out = self.run_ok(&args, &[], None).await?;
        Ok(parse_ls_tree(&out))
    }

    /// The content of a blob, if it exists.
    pub async fn read_blob(&self, sha: &str) -> GitResult<Option<Vec<u8>>> {
        let out = self.run(&["cat-file", "blob", sha], &[], None).await?;
        Ok(out.success.then_some(out.stdout))
    }

    /// The type of each object (`None` when missing), in order.
    pub async fn object_types(&self, shas: &[String]) -> GitResult<Vec<Option<String>>> {
        if shas.is_empty() {
            return Ok(Vec::new());
        }
        let mut input = String::new();
        for sha in shas {
            // Only plain hex names are asked; anything else is "missing".
            input.push_str(if is_hex_sha(sha, 4) { sha } else { ZERO_SHA });
            input.push('\n');
        }
        let out = self
            .run_ok(
                &["cat-file", "--batch-check=%(objecttype)"],
                &[],
                Some(input.as_bytes()),
            )
            .await?;
        let text = String::from_utf8_lossy(&out);
        let mut types: Vec<Option<String>> = text
            .lines()
            .map(|line| {
                let line = line.trim();
                if line.ends_with(" missing") || line.ends_with(" ambiguous") || line.is_empty() {
                    None
                } else {
                    Some(line.to_string())
                }
            })
            .collect();
        types.resize(shas.len(), None);
        Ok(types)
    }

    /// Read and parse a commit object.
    pub async fn read_commit(&self, sha: &str) -> GitResult<Option<CommitInfo>> {
        if !is_hex_sha(sha, 4) {
            return Ok(None);
        }
        let sha = sha.to_ascii_lowercase();
        let full = if is_hex_sha(&sha, 40) {
            sha
        } else {
            match self.rev_parse(&format!("{sha}^{{commit}}")).await? {
                Some(full) => full,
                None => return Ok(None),
            }
        };
        let out = self.run(&["cat-file", "commit", &full], &[], None).await?;
        Ok(out.success.then(|| parse_commit(&full, &out.stdout)))
    }

    /// Store `data` as a blob (`git hash-object -w --stdin`).
    pub async fn write_blob(&self, data: &[u8]) -> GitResult<String> {
        let out = self
            .run_ok(&["hash-object", "-w", "--stdin"], &[], Some(data))
            .await?;
        Ok(first_line(&out))
    }

    /// Build a new tree from `base` (a tree-ish, or empty) with `edits` applied,
    /// using a private temporary index so concurrent writers never interfere.
    pub async fn build_tree(
        &self,
        base: Option<&str>,
        edits: &[TreeEdit],
    ) -> Result<String, TreeError> {
        let index = TempIndex::new(&self.git_dir);
        let env = [("GIT_INDEX_FILE", index.path.as_os_str())];
        if let Some(base) = base {
            let out = self.run(&["read-tree", base], &env, None).await?;
            if !out.success {
                return Err(TreeError::Invalid(out.stderr));
            }
        }
        let needs_listing = base.is_some()
            && edits
                .iter()
                .any(|e| matches!(e, TreeEdit::Delete { .. } | TreeEdit::Subtree { .. }));
        let existing: Vec<String> = if needs_listing {
            let out = self.run_ok(&["ls-files", "-z"], &env, None).await?;
            out.split(|b| *b == 0)
                .filter(|p| !p.is_empty())
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect()
        } else {
            Vec::new()
        };
        let under = |prefix: &str, p: &str| {
            p == prefix
                || (p.len() > prefix.len()
                    && p.starts_with(prefix)
                    && p.as_bytes()[prefix.len()] == b'/')
        };
        let mut info = Vec::new();
        let mut subtrees = Vec::new();
        for edit in edits {
            match edit {
                TreeEdit::Entry { path, mode, sha } => {
                    info.extend_from_slice(format!("{mode} {sha}\t{path}\0").as_bytes());
                }
                TreeEdit::Delete { path } | TreeEdit::Subtree { path, .. } => {
                    for p in existing.iter().filter(|p| under(path, p)) {
                        info.extend_from_slice(format!("0 {ZERO_SHA}\t{p}\0").as_bytes());
                    }
                    if let TreeEdit::Subtree { path, sha } = edit {
                        subtrees.push((path, sha));
                    }
                }
            }
        }
        if !info.is_empty() {
            let out = self
                .run(&["update-index", "-z", "--index-info"], &env, Some(&info))
                .await?;
            if !out.success {
                return Err(TreeError::Invalid(out.stderr));
            }
        }
        for (path, sha) in subtrees {
            let prefix = format!("--prefix={path}/");
            let out = self.run(&["read-tree", &prefix, sha], &env, None).await?;
            if !out.success {
                return Err(TreeError::Invalid(out.stderr));
            }
        }
        let out = self.run(&["write-tree"], &env, None).await?;
        if !out.success {
            return Err(TreeError::Invalid(out.stderr));
        }
        Ok(first_line(&out.stdout))
    }

    /// Create a commit object (`git commit-tree`). The error keeps git's stderr so
    /// callers can report invalid identities or dates.
    pub async fn commit_tree(
        &self,
        tree: &str,
        parents: &[String],
        message: &str,
        author: &Signature,
        committer: &Signature,
    ) -> GitResult<String> {
        let mut args = vec!["commit-tree", "--no-gpg-sign", tree];
        for parent in parents {
            args.push("-p");
            args.push(parent);
        }
        let mut env: Vec<(&str, &OsStr)> = vec![
            ("GIT_AUTHOR_NAME", OsStr::new(&author.name)),
            ("GIT_AUTHOR_EMAIL", OsStr::new(&author.email)),
            ("GIT_COMMITTER_NAME", OsStr::new(&committer.name)),
            ("GIT_COMMITTER_EMAIL", OsStr::new(&committer.email)),
        ];
        if let Some(date) = &author.date {
            env.push(("GIT_AUTHOR_DATE", OsStr::new(date)));
        }
        if let Some(date) = &committer.date {
            env.push(("GIT_COMMITTER_DATE", OsStr::new(date)));
        }
        let mut text = message.to_string();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let out = self.run_ok(&args, &env, Some(text.as_bytes())).await?;
        Ok(first_line(&out))
    }

    /// Compare-and-swap a ref: set `full_ref` to `new` only if it currently is
    /// `old` ([`ZERO_SHA`] = must not exist; `None` = unconditional).
    /// Returns `false` when git refused (ref moved, or locked by another writer).
    pub async fn update_ref(
        &self,
        full_ref: &str,
        new: &str,
        old: Option<&str>,
    ) -> GitResult<bool> {
        let mut args = vec!["update-ref", "-m", "githost", full_ref, new];
        if let Some(old) = old {
            args.push(old);
        }
        let out = self.run(&args, &[], None).await?;
        Ok(out.success)
    }

    /// Delete a ref if it still points at `old`.
    pub async fn delete_ref(&self, full_ref: &str, old: &str) -> GitResult<bool> {
        let out = self
            .run(&["update-ref", "-d", full_ref, old], &[], None)
            .await?;
        Ok(out.success)
    }

    /// The commits a ref update from `before` to `after` brought, oldest first,
    /// at most `max` (the newest ones when there are more): `before..after`, or
    /// for a new branch (`before` = `None`) the commits of `after` not reachable
    /// from any other branch (`exclude_branch` is the branch's own short name).
    pub async fn pushed_commits(
        &self,
        before: Option<&str>,
        after: &str,
        exclude_branch: &str,
        max: usize,
    ) -> GitResult<Vec<String>> {
        let count = format!("--max-count={max}");
        let range;
        let exclude;
        let mut args = vec!["rev-list", "--reverse", count.as_str()];
        match before {
            Some(before) => {
                range = format!("{before}..{after}");
                args.push(&range);
            }
            None => {
                exclude = format!("--exclude={exclude_branch}");
                args.extend([after, "--not", exclude.as_str(), "--branches"]);
            }
        }
        let out = self.run_ok(&args, &[], None).await?;
        Ok(String::from_utf8_lossy(&out)
            .lines()
            .map(str::trim)
            .filter(|l| is_hex_sha(l, 40))
            .map(str::to_string)
            .collect())
    }

    /// The paths a commit changed against its first parent (everything, for a
    /// root commit), as `(status letter, path)`: `A` added, `D` deleted, `M`
    /// modified, `T` type changed. Renames are reported as a deletion and an
    /// addition.
    pub async fn changed_paths(&self, sha: &str) -> GitResult<Vec<(char, String)>> {
        let out = self
            .run_ok(
                &[
                    "diff-tree",
                    "-z",
                    "--no-commit-id",
                    "--name-status",
                    "--no-renames",
                    "-r",
                    "-m",
                    "--first-parent",
                    "--root",
                    sha,
                ],
                &[],
                None,
            )
            .await?;
        Ok(parse_name_status(&out))
    }

    /// Whether `ancestor` is an ancestor of (or equal to) `descendant`.
    pub async fn is_ancestor(&self, ancestor: &str, descendant: &str) -> GitResult<bool> {
        let out = self
            .run(
                &["merge-base", "--is-ancestor", ancestor, descendant],
                &[],
                None,
            )
            .await?;
        match out.code {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(GitError {
                command: "merge-base --is-ancestor".to_string(),
                stderr: out.stderr,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_names() {
        assert!(is_valid_ref_name("main"));
        assert!(is_valid_ref_name("feature/x-1"));
        assert!(!is_valid_ref_name("main~1"));
        assert!(!is_valid_ref_name("a..b"));
        assert!(!is_valid_ref_name("-x"));
        assert!(!is_valid_ref_name("x.lock"));
        assert!(!is_valid_ref_name(".hidden"));
        assert!(!is_valid_ref_name("HEAD@{1}"));
    }

    #[test]
    fn parses_name_status() {
        let out = b"M\0a.md\0A\0dir/new file.md\0D\0gone\0";
        assert_eq!(
            parse_name_status(out),
            vec![
                ('M', "a.md".to_string()),
                ('A', "dir/new file.md".to_string()),
                ('D', "gone".to_string()),
            ]
        );
        assert!(parse_name_status(b"").is_empty());
    }

    #[test]
    fn parses_people_and_commits() {
        let raw = b"tree abc\nparent p1\nauthor A B <a@b> 1700000000 +0100\ncommitter C <c@d> 5 +0000\n\nhello\n";
        let c = parse_commit("s", raw);
        assert_eq!(c.tree, "abc");
        assert_eq!(c.parents, vec!["p1".to_string()]);
        assert_eq!(c.author.name, "A B");
        assert_eq!(c.author.email, "a@b");
        assert_eq!(c.author.time, 1_700_000_000);
        assert_eq!(c.committer.time, 5);
        assert_eq!(c.message, "hello");
    }
}
