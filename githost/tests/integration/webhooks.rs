//! `push` webhooks: API writes and plain `git push`es are delivered, signed, to
//! a local receiver; nothing is sent without a URL; a receiver that is down
//! does not disturb the API.

use std::path::Path;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::sync::oneshot;

use crate::common::{git_work, Host};

const SECRET: &str = "s3cret";
const ZERO: &str = "0000000000000000000000000000000000000000";

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

#[derive(Clone, Default)]
struct Inbox {
    got: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
}

/// A local HTTP server recording what is POSTed to `/hook`.
struct Receiver {
    url: String,
    inbox: Inbox,
    _shutdown: oneshot::Sender<()>,
}

async fn record(State(inbox): State<Inbox>, headers: HeaderMap, body: Bytes) -> StatusCode {
    inbox.got.lock().unwrap().push(Received { headers, body });
    StatusCode::from_u16(inbox.status.load(Ordering::Relaxed)).unwrap()
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let inbox = Inbox::default();
        inbox.status.store(200, Ordering::Relaxed);
        let app = Router::new()
            .route("/hook", post(record))
            .with_state(inbox.clone());
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(githost::server::serve(listener, app, async {
            let _ = rx.await;
        }));
        Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            inbox,
            _shutdown: tx,
        }
    }

    fn got(&self) -> Vec<Received> {
        self.inbox.got.lock().unwrap().clone()
    }

    /// Wait until `n` deliveries arrived, then a little more to catch extra ones.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.got().len() < n {
            assert!(
                Instant::now() < deadline,
                "{} deliveries, expected {n}",
                self.got().len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        tokio::time::sleep(Duration::from_millis(600)).await;
        let got = self.got();
        assert_eq!(
            got.len(),
            n,
            "{:#?}",
            got.iter().map(Received::json).collect::<Vec<_>>()
        );
        got
    }
}

/// Start githost sending webhooks to `receiver`.
async fn host_for(receiver: &Receiver) -> Host {
    let url = receiver.url.clone();
    Host::start_with(|c| {
        c.webhook_url = Some(url);
        c.webhook_secret = Some(SECRET.to_string());
    })
    .await
}

/// Whether `signature` is `sha256=<HMAC-SHA256 of body under SECRET>`.
fn signed(body: &[u8], signature: &str) -> bool {
    let Some(hex) = signature.strip_prefix("sha256=") else {
        return false;
    };
    let tag: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    mac.verify_slice(&tag).is_ok()
}

/// Wait until the deliveries list has `n` entries; returns them.
async fn deliveries(host: &Host, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let list = host
            .admin("GET", "/_githost/webhook/deliveries", None)
            .await
            .json();
        let list = list.as_array().unwrap().clone();
        if list.len() >= n {
            return list;
        }
        assert!(
            Instant::now() < deadline,
            "{} deliveries listed",
            list.len()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Clone `owner/name` into a fresh work tree.
fn clone(host: &Host, owner: &str, name: &str, into: &Path) -> std::path::PathBuf {
    let work = into.join(format!("{owner}-{name}"));
    git_work(
        into,
        &[
            "clone",
            "--quiet",
            host.repo_path(owner, name).to_str().unwrap(),
            work.to_str().unwrap(),
        ],
    );
    work
}

/// Write `path` in `work`, commit it and return the commit.
fn commit_file(work: &Path, path: &str, text: &str) -> String {
    let file = work.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, text).unwrap();
    git_work(work, &["add", "--", path]);
    git_work(
        work,
        &["commit", "--quiet", "-m", &format!("outside: {path}")],
    );
    git_work(work, &["rev-parse", "HEAD"])
}

/// The headers GitHub sends with a `push`, and a signature that verifies.
fn assert_githubs_headers(d: &Received, hook_id: &str) {
    assert_eq!(d.header("x-github-event"), "push");
    assert_eq!(d.header("user-agent"), "GitHub-Hookshot/githost");
    assert_eq!(d.header("content-type"), "application/json");
    assert_eq!(d.header("x-github-hook-id"), hook_id);
    assert_eq!(
        d.header("x-github-hook-installation-target-type"),
        "repository"
    );
    assert_eq!(d.header("x-github-delivery").len(), 36);
    assert!(signed(&d.body, d.header("x-hub-signature-256")));
    assert!(!signed(b"{}", d.header("x-hub-signature-256")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_contents_sends_one_signed_push() {
    let receiver = Receiver::start().await;
    let host = Host::start().await;
    let before = host.seed("acme", "threads", json!({"a.md": "one"})).await;
    let r = host
        .admin(
            "PUT",
            "/_githost/webhook",
            Some(json!({"url": receiver.url, "secret": SECRET})),
        )
        .await;
    assert_eq!(r.status, 200);
    let hook = r.json();
    assert_eq!(
        (hook["active"].clone(), hook["url"].clone()),
        (json!(true), json!(receiver.url))
    );

    let sha = host
        .gh("GET", "/repos/acme/threads/contents/a.md", None)
        .await
        .json()["sha"]
        .as_str()
        .unwrap()
        .to_string();
    let r = host
        .put_file("acme/threads", "a.md", "two", Some(&sha))
        .await;
    assert_eq!(r.status, 200);
    let after = r.json()["commit"]["sha"].as_str().unwrap().to_string();

    let got = receiver.wait_for(1).await;
    let d = &got[0];
    assert_githubs_headers(d, &hook["hook_id"].to_string());

    let p = d.json();
    assert_eq!(p["ref"], "refs/heads/main");
    assert_eq!(
        (p["before"].as_str(), p["after"].as_str()),
        (Some(before.as_str()), Some(after.as_str()))
    );
    assert_eq!(
        (
            p["created"].clone(),
            p["deleted"].clone(),
            p["forced"].clone()
        ),
        (json!(false), json!(false), json!(false))
    );
    let commits = p["commits"].as_array().unwrap();
    assert_eq!(commits.len(), 1);
    assert_eq!(commits[0]["id"], after.as_str());
    assert_eq!(commits[0]["message"], "write a.md");
    assert_eq!(commits[0]["modified"], json!(["a.md"]));
    assert_eq!(commits[0]["added"], json!([]));
    assert_eq!(p["head_commit"], commits[0]);
    assert_eq!(p["repository"]["full_name"], "acme/threads");
    assert_eq!(p["repository"]["name"], "threads");
    assert_eq!(p["repository"]["owner"]["login"], "acme");
    assert_eq!(p["repository"]["default_branch"], "main");
    assert_eq!(p["pusher"]["name"], "alice");
    assert_eq!(p["sender"]["login"], "alice");

    let list = deliveries(&host, 1).await;
    assert_eq!(list[0]["id"], d.header("x-github-delivery"));
    assert_eq!(list[0]["status"], 200);
    assert_eq!(list[0]["error"], Value::Null);
    assert_eq!(list[0]["event"], "push");
    assert_eq!(list[0]["repo"], "acme/threads");
    assert_eq!(list[0]["ref"], "refs/heads/main");
    let r = host
        .admin("DELETE", "/_githost/webhook/deliveries", None)
        .await;
    assert_eq!(r.json()["cleared"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_git_pushes_are_sent() {
    let receiver = Receiver::start().await;
    let host = host_for(&receiver).await;
    let seeded = host
        .seed("acme", "threads", json!({"threads/one.md": "# One\n"}))
        .await;
    // Creating a repository with files is a push creating the branch.
    let got = receiver.wait_for(1).await;
    let p = got[0].json();
    assert_eq!(
        (
            p["created"].clone(),
            p["before"].clone(),
            p["after"].clone()
        ),
        (json!(true), json!(ZERO), json!(seeded))
    );
    assert_eq!(p["commits"][0]["added"], json!(["threads/one.md"]));
    let hook = host.repo_path("acme", "threads").join("hooks/post-receive");
    assert!(std::fs::read_to_string(hook)
        .unwrap()
        .contains("githost post-receive hook"));

    let tmp = tempfile::tempdir().unwrap();
    let work = clone(&host, "acme", "threads", tmp.path());
    let pushed = commit_file(&work, "threads/two.md", "# Two\n");
    git_work(&work, &["push", "--quiet", "origin", "main"]);
    let got = receiver.wait_for(2).await;
    let p = got[1].json();
    assert!(signed(&got[1].body, got[1].header("x-hub-signature-256")));
    assert_eq!(p["ref"], "refs/heads/main");
    assert_eq!(
        (p["before"].clone(), p["after"].clone()),
        (json!(seeded), json!(pushed))
    );
    assert_eq!(p["forced"], false);
    assert_eq!(p["commits"].as_array().unwrap().len(), 1);
    assert_eq!(p["commits"][0]["added"], json!(["threads/two.md"]));
    assert_eq!(p["commits"][0]["author"]["name"], "outsider");
    assert_eq!(p["head_commit"]["id"], pushed.as_str());
    assert_eq!(p["pusher"]["name"], "alice");

    // A forced push that drops a commit.
    git_work(&work, &["checkout", "--quiet", "main"]);
    git_work(&work, &["reset", "--quiet", "--hard", "HEAD~1"]);
    let rewritten = commit_file(&work, "threads/three.md", "# Three\n");
    git_work(&work, &["push", "--quiet", "--force", "origin", "main"]);
    let got = receiver.wait_for(3).await;
    let p = got[2].json();
    assert_eq!(
        (p["forced"].clone(), p["before"].clone(), p["after"].clone()),
        (json!(true), json!(pushed), json!(rewritten))
    );
    assert_eq!(p["commits"][0]["added"], json!(["threads/three.md"]));
    let list = deliveries(&host, 3).await;
    assert!(list.iter().all(|d| d["status"] == 200), "{list:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_git_branch_creation_and_deletion_are_sent() {
    let receiver = Receiver::start().await;
    let host = host_for(&receiver).await;
    host.seed("acme", "threads", json!({"a.md": "a"})).await;
    receiver.wait_for(1).await;
    let tmp = tempfile::tempdir().unwrap();
    let work = clone(&host, "acme", "threads", tmp.path());
    // A new branch with a commit of its own, then its deletion.
    git_work(&work, &["checkout", "--quiet", "-b", "feature"]);
    let feature = commit_file(&work, "f.md", "f");
    git_work(&work, &["push", "--quiet", "origin", "feature"]);
    let got = receiver.wait_for(2).await;
    let p = got[1].json();
    assert_eq!(
        (p["ref"].clone(), p["created"].clone()),
        (json!("refs/heads/feature"), json!(true))
    );
    let ids: Vec<Value> = p["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(ids, [json!(feature)]);
    git_work(&work, &["push", "--quiet", "origin", ":feature"]);
    let got = receiver.wait_for(3).await;
    let p = got[2].json();
    assert_eq!(
        (
            p["deleted"].clone(),
            p["after"].clone(),
            p["head_commit"].clone()
        ),
        (json!(true), json!(ZERO), Value::Null)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn git_refs_routes_send_pushes() {
    let receiver = Receiver::start().await;
    let host = host_for(&receiver).await;
    let base = host.seed("o", "r", json!({"a.md": "a"})).await;
    receiver.wait_for(1).await;
    let r = host
        .gh(
            "POST",
            "/repos/o/r/git/refs",
            Some(json!({"ref": "refs/heads/b", "sha": base})),
        )
        .await;
    assert_eq!(r.status, 201);
    let p = receiver.wait_for(2).await[1].json();
    assert_eq!(
        (p["ref"].clone(), p["created"].clone(), p["commits"].clone()),
        (json!("refs/heads/b"), json!(true), json!([]))
    );
    assert_eq!(p["head_commit"]["id"], base.as_str());

    let r = host.put_file("o/r", "b.md", "b", None).await;
    let next = r.json()["commit"]["sha"].as_str().unwrap().to_string();
    receiver.wait_for(3).await;
    let r = host
        .gh(
            "PATCH",
            "/repos/o/r/git/refs/heads/b",
            Some(json!({"sha": next})),
        )
        .await;
    assert_eq!(r.status, 200);
    let p = receiver.wait_for(4).await[3].json();
    assert_eq!(
        (p["before"].clone(), p["after"].clone(), p["forced"].clone()),
        (json!(base), json!(next), json!(false))
    );
    assert_eq!(p["commits"][0]["added"], json!(["b.md"]));
    // Unchanged: nothing is sent.
    let r = host
        .gh(
            "PATCH",
            "/repos/o/r/git/refs/heads/b",
            Some(json!({"sha": next})),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = host
        .gh(
            "PATCH",
            "/repos/o/r/git/refs/heads/b",
            Some(json!({"sha": base, "force": true})),
        )
        .await;
    assert_eq!(r.status, 200);
    let p = receiver.wait_for(5).await[4].json();
    assert_eq!(
        (p["forced"].clone(), p["commits"].clone()),
        (json!(true), json!([]))
    );
    let r = host.gh("DELETE", "/repos/o/r/git/refs/heads/b", None).await;
    assert_eq!(r.status, 204);
    let p = receiver.wait_for(6).await[5].json();
    assert_eq!(
        (p["deleted"].clone(), p["before"].clone()),
        (json!(true), json!(base))
    );
    // Tags are not branches: no push is sent.
    let r = host
        .gh(
            "POST",
            "/repos/o/r/git/refs",
            Some(json!({"ref": "refs/tags/v1", "sha": base})),
        )
        .await;
    assert_eq!(r.status, 201);
    receiver.wait_for(6).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_sent_without_a_url() {
    let receiver = Receiver::start().await;
    let host = Host::start().await;
    host.seed("acme", "threads", json!({"a.md": "a"})).await;
    let r = host.put_file("acme/threads", "b.md", "b", None).await;
    assert_eq!(r.status, 201);
    let tmp = tempfile::tempdir().unwrap();
    let work = clone(&host, "acme", "threads", tmp.path());
    commit_file(&work, "c.md", "c");
    git_work(&work, &["push", "--quiet", "origin", "main"]);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(receiver.got().is_empty());
    let list = host
        .admin("GET", "/_githost/webhook/deliveries", None)
        .await
        .json();
    assert_eq!(list, json!([]));
    // The recorded push was read and dropped.
    let spool = host.repo_path("acme", "threads").join("githost-pushes");
    let left: Vec<_> = std::fs::read_dir(spool).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    let r = host.admin("GET", "/_githost/webhook", None).await.json();
    assert_eq!(r, json!({"url": null, "hook_id": null, "active": false}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_down_or_failing_does_not_disturb_the_api() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let host = Host::start_with(|c| {
        c.webhook_url = Some(format!("http://127.0.0.1:{port}/hook"));
        c.webhook_secret = Some(SECRET.to_string());
    })
    .await;
    host.seed("o", "r", json!({"a.md": "a"})).await;
    let started = Instant::now();
    let r = host.put_file("o/r", "b.md", "b", None).await;
    assert_eq!(r.status, 201);
    assert!(started.elapsed() < Duration::from_secs(5));
    let list = deliveries(&host, 2).await;
    for d in &list {
        assert_eq!(d["status"], Value::Null, "{d}");
        assert!(
            d["error"].as_str().unwrap().contains("cannot connect"),
            "{d}"
        );
    }

    // A receiver answering 500 is recorded with its status.
    let receiver = Receiver::start().await;
    receiver.inbox.status.store(500, Ordering::Relaxed);
    let r = host
        .admin(
            "PUT",
            "/_githost/webhook",
            Some(json!({"url": receiver.url, "secret": "x"})),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = host.put_file("o/r", "c.md", "c", None).await;
    assert_eq!(r.status, 201);
    receiver.wait_for(1).await;
    let list = deliveries(&host, 3).await;
    assert_eq!(
        (list[2]["status"].clone(), list[2]["error"].clone()),
        (json!(500), Value::Null)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_route_checks_its_settings() {
    let host = Host::start().await;
    for bad in [
        json!({"url": "http://127.0.0.1:1/x"}),
        json!({"url": "https://example.com/x", "secret": "s"}),
        json!({"url": "ftp://x", "secret": "s"}),
        json!({"url": "http://127.0.0.1:1/x", "secret": "s", "extra": 1}),
    ] {
        let r = host
            .admin("PUT", "/_githost/webhook", Some(bad.clone()))
            .await;
        assert_eq!(r.status, 400, "{bad}");
    }
    let r = host
        .admin(
            "PUT",
            "/_githost/webhook",
            Some(json!({"url": "http://127.0.0.1:1/x", "secret": "s"})),
        )
        .await;
    assert_eq!(r.json()["active"], true);
    let r = host.admin("GET", "/_githost/webhook", None).await.json();
    assert_eq!(r["url"], "http://127.0.0.1:1/x");
    assert!(r.get("secret").is_none());
    let r = host
        .admin("PUT", "/_githost/webhook", Some(json!({"url": null})))
        .await;
    assert_eq!(r.json()["active"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repositories_made_outside_githost_get_the_hook() {
    let receiver = Receiver::start().await;
    let init = |git_dir: &Path| {
        let out = std::process::Command::new("git")
            .args(["init", "--quiet", "--bare", "-b", "main"])
            .arg(git_dir)
            .output()
            .unwrap();
        assert!(out.status.success());
    };
    let url = receiver.url.clone();
    let host = Host::start_with(|c| {
        init(&c.dir.join("acme").join("before.git"));
        c.webhook_url = Some(url);
        c.webhook_secret = Some(SECRET.to_string());
    })
    .await;
    // Found at startup.
    let hook = |name: &str| host.repo_path("acme", name).join("hooks/post-receive");
    assert!(std::fs::read_to_string(hook("before"))
        .unwrap()
        .contains("githost post-receive hook"));
    assert_eq!(
        host.git("acme", "before", &["config", "core.hooksPath"]),
        "hooks"
    );
    // Made while githost runs: the poller installs the hook.
    init(&host.repo_path("acme", "later"));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !hook("later").exists() {
        assert!(Instant::now() < deadline, "no hook installed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Pushing into an empty repository creates the branch.
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("w");
    git_work(
        tmp.path(),
        &["init", "--quiet", "-b", "main", work.to_str().unwrap()],
    );
    let first = commit_file(&work, "x.md", "x");
    let remote = host.repo_path("acme", "later");
    git_work(
        &work,
        &["push", "--quiet", remote.to_str().unwrap(), "main"],
    );
    let p = receiver.wait_for(1).await[0].json();
    assert_eq!(
        (p["created"].clone(), p["after"].clone()),
        (json!(true), json!(first))
    );
    assert_eq!(p["repository"]["full_name"], "acme/later");
    assert_eq!(p["commits"][0]["added"], json!(["x.md"]));
}
