//! Contents API: GET files and directories, ETags, PUT create/update and conflicts.

use std::sync::Arc;

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::common::{b64, git_work, outside_commit, unb64, Host, TOKEN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_get_has_github_shape_and_60_col_base64() {
    let host = Host::start().await;
    let text = "0123456789".repeat(10) + "\nend\n";
    host.seed("o", "r", json!({"threads/t.md": text})).await;
    let r = host
        .gh("GET", "/repos/o/r/contents/threads/t.md", None)
        .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["type"], "file");
    assert_eq!(v["encoding"], "base64");
    assert_eq!(v["name"], "t.md");
    assert_eq!(v["path"], "threads/t.md");
    assert_eq!(v["size"], text.len());
    let blob = host.git("o", "r", &["rev-parse", "main:threads/t.md"]);
    assert_eq!(v["sha"], blob.as_str());
    let content = v["content"].as_str().unwrap();
    assert!(content.ends_with('\n'));
    let lines: Vec<&str> = content.split_terminator('\n').collect();
    assert!(lines.len() >= 3);
    for line in &lines[..lines.len() - 1] {
        assert_eq!(line.len(), 60);
    }
    assert!(lines.last().unwrap().len() <= 60);
    assert_eq!(unb64(content), text.as_bytes());
    let url = v["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/repos/o/r/contents/threads/t.md", host.base)));
    assert_eq!(
        v["git_url"],
        format!("{}/repos/o/r/git/blobs/{blob}", host.base).as_str()
    );
    assert_eq!(v["_links"]["self"], v["url"]);
    assert_eq!(v["_links"]["git"], v["git_url"]);
    assert!(v["html_url"].is_string() && v["download_url"].is_string());
    assert_eq!(
        r.header("cache-control"),
        Some("private, max-age=60, s-maxage=60")
    );

    // download_url serves the raw bytes.
    let dl = v["download_url"].as_str().unwrap().replace(&host.base, "");
    let raw = host.send("GET", &dl, &[], None).await;
    assert_eq!(raw.body, text.as_bytes());

    // Raw media type.
    let raw = host
        .gh_with(
            "GET",
            "/repos/o/r/contents/threads/t.md",
            &[("Accept", "application/vnd.github.raw+json")],
            None,
        )
        .await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.body, text.as_bytes());
    assert_eq!(
        raw.header("content-type"),
        Some("application/vnd.github.raw")
    );

    // Empty file: empty content.
    host.seed("o", "r", json!({"empty.md": ""})).await;
    let r = host.gh("GET", "/repos/o/r/contents/empty.md", None).await;
    assert_eq!(r.json()["content"], "");
    assert_eq!(r.json()["size"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_listing_sorted_with_types() {
    let host = Host::start().await;
    host.seed(
        "o",
        "r",
        json!({"b.md": "b", "a.md": "a", "dir/x.md": "x", "dir/sub/y.md": "y"}),
    )
    .await;
    for path in ["/repos/o/r/contents", "/repos/o/r/contents/"] {
        let r = host.gh("GET", path, None).await;
        assert_eq!(r.status, 200, "{path}");
        let list = r.json();
        let names: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["a.md", "b.md", "dir"]);
        assert_eq!(list[2]["type"], "dir");
        assert_eq!(list[2]["download_url"], serde_json::Value::Null);
        assert_eq!(list[0]["type"], "file");
        assert_eq!(list[0]["size"], 1);
        assert!(r.header("etag").is_some());
    }
    let r = host.gh("GET", "/repos/o/r/contents/dir", None).await;
    let list = r.json();
    assert_eq!(list[0]["path"], "dir/sub");
    assert_eq!(list[0]["type"], "dir");
    assert_eq!(list[1]["path"], "dir/x.md");
    let tree = host.git("o", "r", &["rev-parse", "main:dir"]);
    let expected = format!(
        "W/\"{}\"",
        hex(&Sha256::digest(format!("{TOKEN}:{tree}").as_bytes()))
    );
    assert_eq!(r.header("etag"), Some(expected.as_str()));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etag_is_per_token_and_304_is_free() {
    let host = Host::start().await;
    host.seed("o", "r", json!({"f.md": "hello"})).await;
    let path = "/repos/o/r/contents/f.md";
    let first = host.gh("GET", path, None).await;
    let etag = first.header("etag").unwrap().to_string();
    let blob = first.json()["sha"].as_str().unwrap().to_string();
    let expected = format!(
        "W/\"{}\"",
        hex(&Sha256::digest(format!("{TOKEN}:{blob}").as_bytes()))
    );
    assert_eq!(etag, expected);
    let used = first.rate("used");

    let r = host
        .gh_with("GET", path, &[("If-None-Match", &etag)], None)
        .await;
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    assert_eq!(r.rate("used"), used, "304 must not count");
    assert_eq!(r.rate("limit"), 5000);

    // Strong form and lists also match.
    let strong = etag.trim_start_matches("W/").to_string();
    let list = format!("\"other\", {strong}");
    let r = host
        .gh_with("GET", path, &[("If-None-Match", &list)], None)
        .await;
    assert_eq!(r.status, 304);

    // Another token gets a different ETag and a 200.
    let r = host
        .send(
            "GET",
            path,
            &[
                ("User-Agent", "t"),
                ("Authorization", "token someone-else"),
                ("If-None-Match", &etag),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_ne!(r.header("etag"), Some(etag.as_str()));

    // After a change the old ETag no longer matches.
    let put = host.put_file("o/r", "f.md", "changed", Some(&blob)).await;
    assert_eq!(put.status, 200);
    let r = host
        .gh_with("GET", path, &[("If-None-Match", &etag)], None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(unb64(r.json()["content"].as_str().unwrap()), b"changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_bodies() {
    let host = Host::start().await;
    let r = host.gh("GET", "/repos/o/nope/contents/x.md", None).await;
    assert_eq!(r.status, 404);
    let v = r.json();
    assert_eq!(v["message"], "Not Found");
    assert_eq!(v["status"], "404");
    assert!(v["documentation_url"]
        .as_str()
        .unwrap()
        .starts_with("https://docs.github.com/rest"));

    // Empty repository.
    let r = host
        .admin(
            "POST",
            "/_githost/repos",
            Some(json!({"owner": "o", "name": "empty"})),
        )
        .await;
    assert_eq!(r.json()["head"], serde_json::Value::Null);
    let r = host.gh("GET", "/repos/o/empty/contents/x.md", None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.message(), "This repository is empty.");
    let r = host.gh("GET", "/repos/o/empty/contents", None).await;
    assert_eq!(r.message(), "This repository is empty.");

    host.seed("o", "r", json!({"a.md": "a"})).await;
    let r = host.gh("GET", "/repos/o/r/contents/missing.md", None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.message(), "Not Found");
    let r = host
        .gh("GET", "/repos/o/r/contents/a.md?ref=nope", None)
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.message(), "No commit found for the ref nope");

    // Unknown routes are GitHub-shaped 404s too.
    let r = host.gh("GET", "/repos/o/r/issues", None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["status"], "404");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ref_may_be_a_commit_sha() {
    let host = Host::start().await;
    let first = host.seed("o", "r", json!({"a.md": "one"})).await;
    let blob = host.git("o", "r", &["rev-parse", "main:a.md"]);
    let put = host.put_file("o/r", "a.md", "two", Some(&blob)).await;
    assert_eq!(put.status, 200);
    let r = host
        .gh(
            "GET",
            &format!("/repos/o/r/contents/a.md?ref={first}"),
            None,
        )
        .await;
    assert_eq!(unb64(r.json()["content"].as_str().unwrap()), b"one");
    let r = host
        .gh("GET", "/repos/o/r/contents/a.md?ref=main", None)
        .await;
    assert_eq!(unb64(r.json()["content"].as_str().unwrap()), b"two");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_creates_then_updates_with_real_commits() {
    let host = Host::start().await;
    let head0 = host.seed("o", "r", json!({"README.md": "hi"})).await;
    let body = json!({
        "message": "create thread",
        "content": b64(b"# Thread\n"),
        "committer": {"name": "Agent", "email": "agent@example.com"},
    });
    let r = host
        .gh("PUT", "/repos/o/r/contents/threads/new.md", Some(body))
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    let blob = v["content"]["sha"].as_str().unwrap().to_string();
    assert_eq!(v["content"]["path"], "threads/new.md");
    assert_eq!(v["content"]["name"], "new.md");
    assert_eq!(v["content"]["size"], 9);
    assert_eq!(v["content"]["type"], "file");
    assert_eq!(v["commit"]["message"], "create thread");
    assert_eq!(v["commit"]["parents"][0]["sha"], head0.as_str());
    assert_eq!(v["commit"]["committer"]["name"], "Agent");
    assert_eq!(v["commit"]["author"]["email"], "agent@example.com");
    assert_eq!(v["commit"]["verification"]["verified"], false);
    let date = v["commit"]["author"]["date"].as_str().unwrap();
    assert!(date.ends_with('Z') && date.len() == 20, "{date}");
    let commit1 = v["commit"]["sha"].as_str().unwrap().to_string();
    assert_eq!(host.git("o", "r", &["rev-parse", "main"]), commit1);
    assert_eq!(
        host.git("o", "r", &["rev-parse", "main:threads/new.md"]),
        blob
    );
    assert_eq!(
        v["commit"]["tree"]["sha"],
        host.git("o", "r", &["rev-parse", "main^{tree}"]).as_str()
    );

    // Update with the blob sha.
    let body = json!({
        "message": "append",
        "content": b64(b"# Thread\nmore\n"),
        "sha": blob,
        "branch": "main",
        "author": {"name": "Au", "email": "au@example.com", "date": "2024-01-02T03:04:05Z"},
    });
    let r = host
        .gh("PUT", "/repos/o/r/contents/threads/new.md", Some(body))
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["commit"]["parents"][0]["sha"], commit1.as_str());
    assert_eq!(v["commit"]["author"]["date"], "2024-01-02T03:04:05Z");
    assert_eq!(v["commit"]["author"]["name"], "Au");
    let log = host.git("o", "r", &["log", "--format=%s|%an", "main"]);
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            "append|Au",
            "create thread|Agent",
            "Seed repository|githost"
        ]
    );
    let file = host.git("o", "r", &["show", "main:threads/new.md"]);
    assert_eq!(file, "# Thread\nmore");
    // Content with line breaks in the base64 is accepted.
    let blob = v["content"]["sha"].as_str().unwrap().to_string();
    let wrapped = crate::common::b64(&[b'x'; 100]);
    let wrapped = format!("{}\n{}\n", &wrapped[..60], &wrapped[60..]);
    let body = json!({"message": "wrapped", "content": wrapped, "sha": blob});
    let r = host
        .gh("PUT", "/repos/o/r/contents/threads/new.md", Some(body))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(host.state.stats.lock().unwrap().commits, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_validation_and_conflicts() {
    let host = Host::start().await;
    host.seed("o", "r", json!({"a.md": "a"})).await;
    let blob = host.git("o", "r", &["rev-parse", "main:a.md"]);
    let head = host.git("o", "r", &["rev-parse", "main"]);

    // Existing file without sha.
    let r = host.put_file("o/r", "a.md", "b", None).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.message(), "Invalid request.\n\n\"sha\" wasn't supplied.");
    assert_eq!(r.json()["status"], "422");

    // Wrong sha.
    let stale = "0123456789012345678901234567890123456789";
    let r = host.put_file("o/r", "a.md", "b", Some(stale)).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.message(), format!("a.md does not match {stale}"));

    // sha given for a file that does not exist.
    let r = host.put_file("o/r", "new.md", "b", Some(&blob)).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.message(), format!("new.md does not match {blob}"));

    // sha: null.
    let r = host
        .gh(
            "PUT",
            "/repos/o/r/contents/a.md",
            Some(json!({"message": "m", "content": b64(b"x"), "sha": null})),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.message(),
        "Invalid request.\n\nFor 'properties/sha', nil is not a string."
    );

    // Missing message / content; bad base64; bad JSON.
    let r = host
        .gh(
            "PUT",
            "/repos/o/r/contents/b.md",
            Some(json!({"content": "eA=="})),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.message(),
        "Invalid request.\n\n\"message\" wasn't supplied."
    );
    let r = host
        .gh(
            "PUT",
            "/repos/o/r/contents/b.md",
            Some(json!({"message": "m"})),
        )
        .await;
    assert_eq!(
        r.message(),
        "Invalid request.\n\n\"content\" wasn't supplied."
    );
    let r = host
        .gh(
            "PUT",
            "/repos/o/r/contents/b.md",
            Some(json!({"message": "m", "content": "not base64!"})),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.message(), "content is not valid Base64");
    let r = host
        .send(
            "PUT",
            "/repos/o/r/contents/b.md",
            &[("User-Agent", "t"), ("Authorization", "Bearer x")],
            Some(b"{not json"),
        )
        .await;
    assert_eq!(r.status, 400);

    // Unknown branch.
    let r = host
        .gh(
            "PUT",
            "/repos/o/r/contents/b.md",
            Some(json!({"message": "m", "content": b64(b"x"), "branch": "nope"})),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.message(), "Branch nope not found");

    // Nothing was committed by any of these.
    assert_eq!(host.git("o", "r", &["rev-parse", "main"]), head);
    assert_eq!(host.state.stats.lock().unwrap().commits, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn branch_moving_during_put_gives_is_at() {
    let host = Host::start().await;
    let head = host.seed("o", "r", json!({"a.md": "a"})).await;
    let moved = Arc::new(std::sync::Mutex::new(String::new()));
    let moved_in_hook = moved.clone();
    host.state
        .set_pre_ref_update_hook(Some(Arc::new(move |git_dir, branch| {
            let sha = outside_commit(git_dir, branch, "other.md", "someone else");
            *moved_in_hook.lock().unwrap() = sha;
        })));
    let r = host.put_file("o/r", "b.md", "mine", None).await;
    host.state.set_pre_ref_update_hook(None);
    assert_eq!(r.status, 409, "{}", String::from_utf8_lossy(&r.body));
    let current = moved.lock().unwrap().clone();
    assert_eq!(r.message(), format!("is at {current} but expected {head}"));
    // The outside commit survives; ours was not applied.
    assert_eq!(host.git("o", "r", &["rev-parse", "main"]), current);
    // A retry succeeds.
    let r = host.put_file("o/r", "b.md", "mine", None).await;
    assert_eq!(r.status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_puts_race_without_lost_updates() {
    let host = Arc::new(Host::start().await);
    host.seed("o", "r", json!({"seed.md": "s"})).await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let host = host.clone();
        tasks.push(tokio::spawn(async move {
            let path = format!("f{i}.md");
            let r = host.put_file("o/r", &path, "x", None).await;
            (path, r.status, r.message_or_empty())
        }));
    }
    let mut created = Vec::new();
    for t in tasks {
        let (path, status, message) = t.await.unwrap();
        match status {
            201 => created.push(path),
            409 => assert!(message.starts_with("is at "), "{message}"),
            other => panic!("unexpected status {other}: {message}"),
        }
    }
    assert!(!created.is_empty());
    let count = host.git("o", "r", &["rev-list", "--count", "main"]);
    assert_eq!(count, (created.len() + 1).to_string());
    let files = host.git("o", "r", &["ls-tree", "--name-only", "main"]);
    for path in &created {
        assert!(files.lines().any(|l| l == path), "{path} lost");
    }
}

trait MessageOrEmpty {
    fn message_or_empty(&self) -> String;
}

impl MessageOrEmpty for crate::common::Resp {
    fn message_or_empty(&self) -> String {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_paths_and_empty_repo_bootstrap() {
    let host = Host::start().await;
    host.admin(
        "POST",
        "/_githost/repos",
        Some(json!({"owner": "o", "name": "r", "default_branch": "main"})),
    )
    .await;
    // First PUT into an empty repository creates the root commit.
    let r = host.put_file("o/r", "a/b/c/deep.md", "deep", None).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["commit"]["parents"], json!([]));
    assert_eq!(host.git("o", "r", &["show", "main:a/b/c/deep.md"]), "deep");
    let r = host.put_file("o/r", "a/b/other.md", "other", None).await;
    assert_eq!(r.status, 201);
    let r = host.gh("GET", "/repos/o/r/contents/a/b", None).await;
    let names: Vec<String> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["c", "other.md"]);

    // Empty repo, PUT on another branch: HEAD follows it.
    host.admin(
        "POST",
        "/_githost/repos",
        Some(json!({"owner": "o", "name": "e2"})),
    )
    .await;
    let r = host
        .gh(
            "PUT",
            "/repos/o/e2/contents/x.md",
            Some(json!({"message": "m", "content": b64(b"x"), "branch": "trunk"})),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        host.git("o", "e2", &["symbolic-ref", "HEAD"]),
        "refs/heads/trunk"
    );
    let r = host.gh("GET", "/repos/o/e2/contents/x.md", None).await;
    assert_eq!(r.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_push_is_seen_by_next_request() {
    let host = Host::start().await;
    host.seed("o", "r", json!({"a.md": "v1"})).await;
    let r = host.gh("GET", "/repos/o/r/contents/a.md", None).await;
    let old_sha = r.json()["sha"].as_str().unwrap().to_string();
    let etag = r.header("etag").unwrap().to_string();

    let work = tempfile::tempdir().unwrap();
    let remote = host.repo_path("o", "r");
    let clone = work.path().join("clone");
    git_work(
        work.path(),
        &["clone", "-q", remote.to_str().unwrap(), "clone"],
    );
    std::fs::write(clone.join("a.md"), "v2 from outside").unwrap();
    git_work(&clone, &["commit", "-q", "-am", "outside"]);
    git_work(&clone, &["push", "-q", "origin", "HEAD:main"]);

    let r = host
        .gh_with(
            "GET",
            "/repos/o/r/contents/a.md",
            &[("If-None-Match", &etag)],
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        unb64(r.json()["content"].as_str().unwrap()),
        b"v2 from outside"
    );
    // Writing with the sha we read before the push is a conflict.
    let r = host.put_file("o/r", "a.md", "v3", Some(&old_sha)).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.message(), format!("a.md does not match {old_sha}"));
}
