//! The `push` payload, computed with git like GitHub computes it.

use serde_json::{json, Value};

use super::{Pusher, RefChange};
use crate::api::render::repo_id;
use crate::encoding::iso8601_utc;
use crate::git::{CommitInfo, GitResult, Person, Repo, ZERO_SHA};
use crate::state::now_secs;
use crate::users::{user_id, user_json};

/// The most commits a payload lists (GitHub's cap): the newest ones.
pub const MAX_COMMITS: usize = 20;

/// Files a commit changed, split as GitHub splits them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Paths added.
    pub added: Vec<String>,
    /// Paths deleted.
    pub removed: Vec<String>,
    /// Paths modified (content or type).
    pub modified: Vec<String>,
}

impl Changes {
    /// Sort `(status, path)` pairs from [`Repo::changed_paths`].
    pub fn from_statuses(statuses: Vec<(char, String)>) -> Changes {
        let mut changes = Changes::default();
        for (status, path) in statuses {
            match status {
                'A' | 'C' => changes.added.push(path),
                'D' => changes.removed.push(path),
                _ => changes.modified.push(path),
            }
        }
        changes
    }
}

/// `{name, email}` of a commit identity.
fn identity(p: &Person) -> Value {
    json!({ "name": p.name, "email": p.email })
}

/// One entry of `commits` (and `head_commit`); `html` is the repository's page.
pub fn commit_json(html: &str, c: &CommitInfo, changes: &Changes) -> Value {
    json!({
        "id": c.sha,
        "tree_id": c.tree,
        "distinct": true,
        "message": c.message,
        "timestamp": iso8601_utc(c.committer.time),
        "url": format!("{html}/commit/{}", c.sha),
        "author": identity(&c.author),
        "committer": identity(&c.committer),
        "added": changes.added,
        "removed": changes.removed,
        "modified": changes.modified,
    })
}

/// Read one commit and what it changed, as [`commit_json`].
async fn load_commit(repo: &Repo, html: &str, sha: &str) -> GitResult<Value> {
    let info = repo
        .read_commit(sha)
        .await?
        .ok_or_else(|| crate::git::GitError {
            command: format!("cat-file commit {sha}"),
            stderr: "no such commit".to_string(),
        })?;
    let changes = Changes::from_statuses(repo.changed_paths(sha).await?);
    Ok(commit_json(html, &info, &changes))
}

/// The `sender` of a payload.
fn sender_json(base_url: &str, pusher: &Pusher) -> Value {
    if pusher.bot {
        let id = user_id(&pusher.login);
        return json!({
            "login": pusher.login,
            "id": id,
            "node_id": format!("BOT_{id}"),
            "url": format!("{base_url}/users/{}", pusher.login),
            "html_url": format!("{base_url}/apps/{}", pusher.login.trim_end_matches("[bot]")),
            "type": "Bot",
            "site_admin": false,
        });
    }
    user_json(base_url, &pusher.login)
}

/// The `repository` of a payload.
pub fn repository_json(base_url: &str, owner: &str, name: &str, default_branch: &str) -> Value {
    let id = repo_id(owner, name);
    json!({
        "id": id,
        "node_id": format!("R_{id}"),
        "name": name,
        "full_name": format!("{owner}/{name}"),
        "private": true,
        "owner": {
            "login": owner,
            "name": owner,
            "id": user_id(owner),
            "type": "User",
            "html_url": format!("{base_url}/{owner}"),
        },
        "html_url": format!("{base_url}/{owner}/{name}"),
        "url": format!("{base_url}/repos/{owner}/{name}"),
        "default_branch": default_branch,
        "master_branch": default_branch,
        "pushed_at": now_secs(),
    })
}

/// The compare URL GitHub puts in a payload.
fn compare_url(html: &str, change: &RefChange) -> String {
    if change.before == ZERO_SHA {
        format!("{html}/commit/{}", change.after)
    } else {
        format!("{html}/compare/{}...{}", change.before, change.after)
    }
}

/// The full `push` payload for `change` (commits read from `repo`).
pub async fn push_payload(
    repo: &Repo,
    base_url: &str,
    change: &RefChange,
    pusher: &Pusher,
) -> GitResult<Value> {
    let html = format!("{base_url}/{}/{}", change.owner, change.name);
    let created = change.before == ZERO_SHA;
    let deleted = change.after == ZERO_SHA;
    let forced = !created
        && !deleted
        && !repo
            .is_ancestor(&change.before, &change.after)
            .await
            .unwrap_or(false);
    let mut commits = Vec::new();
    let mut head_commit = Value::Null;
    if !deleted {
        let branch = change.full_ref.trim_start_matches("refs/heads/");
        let before = (!created).then_some(change.before.as_str());
        let shas = repo
            .pushed_commits(before, &change.after, branch, MAX_COMMITS)
            .await?;
        for sha in &shas {
            commits.push(load_commit(repo, &html, sha).await?);
        }
        head_commit = match commits.last() {
            Some(last) if last["id"] == change.after.as_str() => last.clone(),
            _ => load_commit(repo, &html, &change.after).await?,
        };
    }
    let default_branch = repo
        .default_branch()
        .await?
        .unwrap_or_else(|| "main".to_string());
    Ok(json!({
        "ref": change.full_ref,
        "before": change.before,
        "after": change.after,
        "created": created,
        "deleted": deleted,
        "forced": forced,
        "base_ref": null,
        "compare": compare_url(&html, change),
        "commits": commits,
        "head_commit": head_commit,
        "repository": repository_json(base_url, &change.owner, &change.name, &default_branch),
        "pusher": { "name": pusher.name, "email": pusher.email },
        "sender": sender_json(base_url, pusher),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::{init_bare, Signature, TreeEdit};

    #[test]
    fn changes_are_split_like_githubs() {
        let c = Changes::from_statuses(vec![
            ('A', "new.md".into()),
            ('M', "changed.md".into()),
            ('T', "link".into()),
            ('D', "gone.md".into()),
        ]);
        assert_eq!(c.added, ["new.md"]);
        assert_eq!(c.modified, ["changed.md", "link"]);
        assert_eq!(c.removed, ["gone.md"]);
    }

    #[test]
    fn commit_entries() {
        let who = Person {
            name: "A".into(),
            email: "a@x".into(),
            time: 1_704_164_645,
        };
        let info = CommitInfo {
            sha: "c".repeat(40),
            tree: "t".repeat(40),
            parents: vec![],
            author: who.clone(),
            committer: who,
            message: "hello\n\nbody".into(),
        };
        let changes = Changes {
            added: vec!["a.md".into()],
            ..Changes::default()
        };
        let v = commit_json("http://h/o/r", &info, &changes);
        assert_eq!(v["id"], "c".repeat(40));
        assert_eq!(v["tree_id"], "t".repeat(40));
        assert_eq!(v["timestamp"], "2024-01-02T03:04:05Z");
        assert_eq!(v["url"], format!("http://h/o/r/commit/{}", "c".repeat(40)));
        assert_eq!(v["author"], json!({"name": "A", "email": "a@x"}));
        assert_eq!(v["added"], json!(["a.md"]));
        assert_eq!(v["removed"], json!([]));
        let r = repository_json("http://h", "o", "r", "main");
        assert_eq!(r["full_name"], "o/r");
        assert_eq!(r["owner"]["login"], "o");
        assert_eq!(r["html_url"], "http://h/o/r");
        assert_eq!(r["id"], repo_id("o", "r"));
    }

    /// Commit `files` on top of `parent` and return the new commit.
    async fn commit(repo: &Repo, parent: Option<&str>, files: &[(&str, &str)]) -> String {
        let mut edits = Vec::new();
        for (path, text) in files {
            let sha = repo.write_blob(text.as_bytes()).await.unwrap();
            edits.push(TreeEdit::Entry {
                path: path.to_string(),
                mode: "100644".into(),
                sha,
            });
        }
        let tree = repo.build_tree(parent, &edits).await.unwrap();
        let parents: Vec<String> = parent.iter().map(|p| p.to_string()).collect();
        let me = Signature::default_identity();
        let msg = format!("write {}", files[0].0);
        repo.commit_tree(&tree, &parents, &msg, &me, &me)
            .await
            .unwrap()
    }

    /// The payload of `full_ref` moving from `before` to `after`, pushed by alice.
    async fn payload(repo: &Repo, full_ref: &str, before: &str, after: &str) -> Value {
        let change = RefChange {
            owner: "o".into(),
            name: "r".into(),
            full_ref: full_ref.into(),
            before: before.into(),
            after: after.into(),
        };
        push_payload(repo, "http://h", &change, &Pusher::user("alice"))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn payloads_from_a_real_repository() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("r.git");
        init_bare(&path, "main").await.unwrap();
        let repo = Repo::new(&path);
        let root = commit(&repo, None, &[("a.md", "a")]).await;
        let mut head = root.clone();
        for i in 0..25 {
            let name = format!("f{i}.md");
            head = commit(&repo, Some(&head), &[(&name, "x"), ("a.md", &name)]).await;
        }
        repo.update_ref("refs/heads/main", &head, None)
            .await
            .unwrap();

        // At most the newest 20 commits, oldest first.
        let v = payload(&repo, "refs/heads/main", &root, &head).await;
        let commits = v["commits"].as_array().unwrap();
        assert_eq!(commits.len(), MAX_COMMITS);
        assert_eq!(commits[19]["id"], head.as_str());
        assert_eq!(commits[0]["added"], json!(["f5.md"]));
        assert_eq!(v["head_commit"], commits[19]);
        assert_eq!(commits[19]["added"], json!(["f24.md"]));
        assert_eq!(commits[19]["modified"], json!(["a.md"]));
        assert_eq!(v["created"], false);
        assert_eq!(v["deleted"], false);
        assert_eq!(v["forced"], false);
        assert_eq!(v["pusher"]["name"], "alice");
        assert_eq!(v["sender"]["login"], "alice");
        assert_eq!(v["repository"]["default_branch"], "main");

        // Rewinding is forced and lists nothing; the head commit is still given.
        let v = payload(&repo, "refs/heads/main", &head, &root).await;
        assert_eq!(v["forced"], true);
        assert_eq!(v["commits"], json!([]));
        assert_eq!(v["head_commit"]["id"], root.as_str());
        assert_eq!(v["head_commit"]["added"], json!(["a.md"]));

        // A new branch lists only the commits no other branch has.
        let side = commit(&repo, Some(&head), &[("side.md", "s")]).await;
        repo.update_ref("refs/heads/side", &side, None)
            .await
            .unwrap();
        let v = payload(&repo, "refs/heads/side", ZERO_SHA, &side).await;
        assert_eq!(v["created"], true);
        let ids: Vec<&Value> = v["commits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| &c["id"])
            .collect();
        assert_eq!(ids, [&json!(side)]);

        // A deletion lists nothing.
        let v = payload(&repo, "refs/heads/side", &side, ZERO_SHA).await;
        assert_eq!(v["deleted"], true);
        assert_eq!(v["head_commit"], Value::Null);
        assert_eq!(v["commits"], json!([]));
    }
}
