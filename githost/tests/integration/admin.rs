//! Admin API: repositories, faults, latency, stats.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{raw_request, Host};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_repo_is_idempotent_and_seeds_files() {
    let host = Host::start().await;
    let body = json!({"owner": "acme", "name": "threads", "default_branch": "main"});
    let r = host
        .admin("POST", "/_githost/repos", Some(body.clone()))
        .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    let path = v["path"].as_str().unwrap().to_string();
    assert!(std::path::Path::new(&path).is_absolute());
    assert!(path.ends_with("acme/threads.git"));
    assert_eq!(v["head"], serde_json::Value::Null);
    assert_eq!(
        host.git("acme", "threads", &["rev-parse", "--is-bare-repository"]),
        "true"
    );

    let r = host.admin("POST", "/_githost/repos", Some(body)).await;
    assert_eq!(r.status, 200);

    let r = host
        .admin(
            "POST",
            "/_githost/repos",
            Some(json!({
                "owner": "acme", "name": "threads",
                "files": {"threads/one.md": "# One\n", "README.md": "r"},
                "message": "seed it",
            })),
        )
        .await;
    let head = r.json()["head"].as_str().unwrap().to_string();
    assert_eq!(host.git("acme", "threads", &["rev-parse", "main"]), head);
    assert_eq!(
        host.git("acme", "threads", &["log", "-1", "--format=%s"]),
        "seed it"
    );
    assert_eq!(
        host.git("acme", "threads", &["show", "main:threads/one.md"]),
        "# One"
    );

    // Seeding again stacks a commit on top.
    let r = host
        .admin(
            "POST",
            "/_githost/repos",
            Some(json!({"owner": "acme", "name": "threads", "files": {"b.md": "b"}})),
        )
        .await;
    let head2 = r.json()["head"].as_str().unwrap().to_string();
    assert_eq!(host.git("acme", "threads", &["rev-parse", "main^"]), head);
    assert_ne!(head, head2);

    let r = host
        .admin("GET", "/_githost/repos/acme/threads", None)
        .await;
    assert_eq!(r.json()["head"], head2.as_str());
    let r = host
        .admin("DELETE", "/_githost/repos/acme/threads", None)
        .await;
    assert_eq!(r.json()["deleted"], true);
    let r = host
        .admin("GET", "/_githost/repos/acme/threads", None)
        .await;
    assert_eq!(r.status, 404);

    let r = host
        .admin(
            "POST",
            "/_githost/repos",
            Some(json!({"owner": "../x", "name": "y"})),
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_times_after_and_listing() {
    let host = Host::start().await;
    host.seed("o", "r", json!({"a.md": "a"})).await;
    let r = host
        .admin(
            "POST",
            "/_githost/faults",
            Some(json!({
                "method": "PUT", "route": "contents", "path_contains": "x.md",
                "status": 409, "message": "boom", "times": 2, "after": 1,
                "headers": {"retry-after": "1"},
            })),
        )
        .await;
    assert_eq!(r.status, 201);

    // Non-matching requests are untouched.
    let r = host.gh("GET", "/repos/o/r/contents/a.md", None).await;
    assert_eq!(r.status, 200);
    // First matching request passes (after: 1).
    let r = host.put_file("o/r", "x.md", "1", None).await;
    assert_eq!(r.status, 201);
    let sha = r.json()["content"]["sha"].as_str().unwrap().to_string();
    let head = host.git("o", "r", &["rev-parse", "main"]);
    // Next two get the fault and nothing is written.
    for _ in 0..2 {
        let r = host.put_file("o/r", "x.md", "2", Some(&sha)).await;
        assert_eq!(r.status, 409);
        assert_eq!(r.message(), "boom");
        assert_eq!(r.json()["status"], "409");
        assert_eq!(r.header("retry-after"), Some("1"));
        assert!(r.header("x-ratelimit-remaining").is_some());
    }
    assert_eq!(host.git("o", "r", &["rev-parse", "main"]), head);
    let r = host.admin("GET", "/_githost/faults", None).await;
    assert_eq!(r.json(), json!([]));
    let r = host.put_file("o/r", "x.md", "2", Some(&sha)).await;
    assert_eq!(r.status, 200);

    // Custom body, listing and clearing.
    host.admin(
        "POST",
        "/_githost/faults",
        Some(json!({"route": "git/ref", "status": 403, "body": {"message": "API rate limit exceeded"}, "times": 0})),
    )
    .await;
    for _ in 0..3 {
        let r = host.gh("GET", "/repos/o/r/git/ref/heads/main", None).await;
        assert_eq!(r.status, 403);
        assert_eq!(r.json(), json!({"message": "API rate limit exceeded"}));
    }
    let r = host.admin("GET", "/_githost/faults", None).await;
    assert_eq!(r.json().as_array().unwrap().len(), 1);
    let r = host.admin("DELETE", "/_githost/faults", None).await;
    assert_eq!(r.json()["cleared"], 1);
    let r = host.gh("GET", "/repos/o/r/git/ref/heads/main", None).await;
    assert_eq!(r.status, 200);

    let r = host
        .admin("POST", "/_githost/faults", Some(json!({"status": 42})))
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_mode_performs_the_write_then_fails() {
    let host = Host::start().await;
    host.seed("o", "r", json!({"a.md": "a"})).await;
    host.admin(
        "POST",
        "/_githost/faults",
        Some(json!({"method": "PUT", "status": 502, "mode": "after"})),
    )
    .await;
    let r = host.put_file("o/r", "lost.md", "written", None).await;
    assert_eq!(r.status, 502);
    // The write happened even though the answer was lost.
    assert_eq!(host.git("o", "r", &["show", "main:lost.md"]), "written");
    assert_eq!(
        host.git("o", "r", &["log", "-1", "--format=%s"]),
        "write lost.md"
    );
    // A naive retry now sees the file exists.
    let r = host.put_file("o/r", "lost.md", "written", None).await;
    assert_eq!(r.status, 422);
    let stats = host.admin("GET", "/_githost/stats", None).await.json();
    assert_eq!(stats["commits"], 1);
    assert_eq!(stats["by_status"]["502"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_fault_closes_the_connection() {
    let host = Host::start().await;
    host.seed("o", "r", json!({"a.md": "a"})).await;
    host.admin(
        "POST",
        "/_githost/faults",
        Some(json!({"route": "contents", "drop": true})),
    )
    .await;
    let result = raw_request(
        host.port,
        "GET",
        "/repos/o/r/contents/a.md",
        &[("User-Agent", "x"), ("Authorization", "Bearer t")],
        None,
    )
    .await;
    assert!(result.is_err(), "expected no answer, got {result:?}");
    let r = host.gh("GET", "/repos/o/r/contents/a.md", None).await;
    assert_eq!(r.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_delays_github_routes_only() {
    let host = Host::start().await;
    host.seed("o", "r", json!({"a.md": "a"})).await;
    let r = host
        .admin(
            "PUT",
            "/_githost/latency",
            Some(json!({"ms": 300, "jitter_ms": 50})),
        )
        .await;
    assert_eq!(r.json(), json!({"ms": 300, "jitter_ms": 50}));
    let r = host.admin("GET", "/_githost/latency", None).await;
    assert_eq!(r.json()["ms"], 300);

    let start = Instant::now();
    let r = host.gh("GET", "/repos/o/r/contents/a.md", None).await;
    assert_eq!(r.status, 200);
    assert!(start.elapsed() >= Duration::from_millis(300));

    let start = Instant::now();
    host.admin("GET", "/_githost/health", None).await;
    assert!(start.elapsed() < Duration::from_millis(300));

    host.admin("PUT", "/_githost/latency", Some(json!({"ms": 0})))
        .await;
    let r = host.admin("GET", "/_githost/latency", None).await;
    assert_eq!(r.json(), json!({"ms": 0, "jitter_ms": 0}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_count_every_github_request() {
    let host = Host::start().await;
    host.seed("o", "r", json!({"a.md": "a"})).await;
    let r = host.admin("GET", "/_githost/stats", None).await.json();
    assert_eq!(r["total"], 0, "admin calls are not counted");

    let first = host.gh("GET", "/repos/o/r/contents/a.md", None).await;
    let etag = first.header("etag").unwrap().to_string();
    let sha = first.json()["sha"].as_str().unwrap().to_string();
    host.gh_with(
        "GET",
        "/repos/o/r/contents/a.md",
        &[("If-None-Match", &etag)],
        None,
    )
    .await;
    host.put_file("o/r", "a.md", "b", Some(&sha)).await;
    host.send(
        "GET",
        "/repos/o/r/contents/a.md",
        &[("User-Agent", "x")],
        None,
    )
    .await;
    host.gh("GET", "/repos/o/r/git/ref/heads/main", None).await;
    host.admin(
        "POST",
        "/_githost/faults",
        Some(json!({"method": "PATCH", "status": 500})),
    )
    .await;
    host.gh(
        "PATCH",
        "/repos/o/r/git/refs/heads/main",
        Some(json!({"sha": sha})),
    )
    .await;

    let s = host.admin("GET", "/_githost/stats", None).await.json();
    assert_eq!(s["total"], 6);
    assert_eq!(s["mutating"], 2);
    assert_eq!(s["not_modified"], 1);
    assert_eq!(s["commits"], 1);
    assert_eq!(s["by_method"]["GET"], 4);
    assert_eq!(s["by_method"]["PUT"], 1);
    assert_eq!(s["by_method"]["PATCH"], 1);
    assert_eq!(s["by_route"]["GET contents"], 3);
    assert_eq!(s["by_route"]["PUT contents"], 1);
    assert_eq!(s["by_route"]["GET git/ref"], 1);
    assert_eq!(s["by_route"]["PATCH git/refs"], 1);
    assert_eq!(s["by_route"]["POST git/trees"], 0);
    assert_eq!(s["by_status"]["200"], 3);
    assert_eq!(s["by_status"]["304"], 1);
    assert_eq!(s["by_status"]["401"], 1);
    assert_eq!(s["by_status"]["500"], 1);

    let r = host
        .admin("POST", "/_githost/stats/reset", None)
        .await
        .json();
    assert_eq!(r["total"], 0);
    let s = host.admin("GET", "/_githost/stats", None).await.json();
    assert_eq!(s["total"], 0);
    assert_eq!(s["commits"], 0);
    assert_eq!(s["by_route"]["GET contents"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delay_faults_hold_the_answer_before_or_after_the_write() {
    let host = Host::start().await;
    host.seed("o", "r", json!({"a.md": "a"})).await;
    // A delay alone: the real answer, late.
    host.admin(
        "POST",
        "/_githost/faults",
        Some(json!({"method": "GET", "route": "contents", "delay_ms": 400})),
    )
    .await;
    let t0 = std::time::Instant::now();
    let r = host.gh("GET", "/repos/o/r/contents/a.md", None).await;
    assert_eq!(r.status, 200);
    assert!(t0.elapsed() >= std::time::Duration::from_millis(400));
    // Mode after with a status: the write lands, then the answer is held and lost.
    host.admin(
        "POST",
        "/_githost/faults",
        Some(json!({"method": "PUT", "status": 504, "delay_ms": 300, "mode": "after"})),
    )
    .await;
    let t0 = std::time::Instant::now();
    let r = host.put_file("o/r", "held.md", "landed", None).await;
    assert_eq!(r.status, 504);
    assert!(t0.elapsed() >= std::time::Duration::from_millis(300));
    assert_eq!(host.git("o", "r", &["show", "main:held.md"]), "landed");
    // No status and no delay is still refused.
    let r = host
        .admin("POST", "/_githost/faults", Some(json!({"method": "PUT"})))
        .await;
    assert_eq!(r.status, 400);
}
