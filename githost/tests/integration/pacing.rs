//! The pacing rule (GitHub's secondary rate limit for mutating requests).

use std::time::Duration;

use serde_json::json;

use crate::common::Host;

const SECONDARY_MESSAGE: &str =
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";
const SECONDARY_DOC: &str =
    "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits";

/// The blob sha of `path` on main, via the API.
async fn file_sha(host: &Host, path: &str) -> String {
    let r = host
        .gh("GET", &format!("/repos/o/r/contents/{path}"), None)
        .await;
    assert_eq!(r.status, 200);
    r.json()["sha"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_to_back_mutations_are_refused() {
    let host = Host::start().await;
    host.seed("o", "r", json!({"a.md": "zero"})).await;
    let r = host.admin("GET", "/_githost/pacing", None).await;
    assert_eq!(r.json(), json!({"min_gap_ms": 0, "refused": 0}));
    let r = host
        .admin("PUT", "/_githost/pacing", Some(json!({"min_gap_ms": 300})))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"min_gap_ms": 300, "refused": 0}));

    let sha = file_sha(&host, "a.md").await;
    let r = host.put_file("o/r", "a.md", "one", Some(&sha)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let sha = r.json()["content"]["sha"].as_str().unwrap().to_string();
    let head = host.git("o", "r", &["rev-parse", "main"]);

    // Right after: refused, GitHub-shaped, and nothing is written.
    let r = host.put_file("o/r", "a.md", "two", Some(&sha)).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json(),
        json!({"message": SECONDARY_MESSAGE, "documentation_url": SECONDARY_DOC, "status": "403"})
    );
    assert_eq!(r.header("retry-after"), Some("1"));
    assert!(r.header("x-ratelimit-remaining").is_some());
    assert_eq!(host.git("o", "r", &["rev-parse", "main"]), head);
    assert_eq!(host.git("o", "r", &["show", "main:a.md"]), "one");

    let r = host.admin("GET", "/_githost/pacing", None).await;
    assert_eq!(r.json(), json!({"min_gap_ms": 300, "refused": 1}));
    let s = host.admin("GET", "/_githost/stats", None).await.json();
    assert_eq!(s["pacing_refused"], 1);
    assert_eq!(s["by_status"]["403"], 1);
    assert_eq!(s["mutating"], 2);
    assert_eq!(s["by_route"]["PUT contents"], 2);
    assert_eq!(s["commits"], 1);

    // Once the gap has passed, the same write goes through.
    tokio::time::sleep(Duration::from_millis(350)).await;
    let r = host.put_file("o/r", "a.md", "two", Some(&sha)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(host.git("o", "r", &["show", "main:a.md"]), "two");

    // Stats reset zeroes the refusal counter, not the setting.
    host.admin("POST", "/_githost/stats/reset", None).await;
    let r = host.admin("GET", "/_githost/pacing", None).await;
    assert_eq!(r.json(), json!({"min_gap_ms": 300, "refused": 0}));
    let s = host.admin("GET", "/_githost/stats", None).await.json();
    assert_eq!(s["pacing_refused"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_never_refused() {
    let host = Host::start().await;
    host.seed("o", "r", json!({"a.md": "a"})).await;
    host.admin(
        "PUT",
        "/_githost/pacing",
        Some(json!({"min_gap_ms": 60_000})),
    )
    .await;
    let r = host.put_file("o/r", "b.md", "b", None).await;
    assert_eq!(r.status, 201);
    for _ in 0..3 {
        for path in [
            "/repos/o/r",
            "/repos/o/r/contents/a.md",
            "/repos/o/r/contents/b.md",
            "/repos/o/r/git/ref/heads/main",
        ] {
            let r = host.gh("GET", path, None).await;
            assert_eq!(r.status, 200, "GET {path}");
        }
    }
    // Mutations on any /repos/ route share the one global clock.
    let r = host
        .gh(
            "POST",
            "/repos/o/r/git/blobs",
            Some(json!({"content": "x", "encoding": "utf-8"})),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.message(), SECONDARY_MESSAGE);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((59..=60).contains(&retry), "retry-after {retry}");
    let r = host.admin("GET", "/_githost/pacing", None).await;
    assert_eq!(r.json()["refused"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_disables_pacing() {
    let host = Host::start().await;
    host.seed("o", "r", json!({"a.md": "a"})).await;
    host.admin("PUT", "/_githost/pacing", Some(json!({"min_gap_ms": 300})))
        .await;
    let r = host
        .admin("PUT", "/_githost/pacing", Some(json!({"min_gap_ms": 0})))
        .await;
    assert_eq!(r.json(), json!({"min_gap_ms": 0, "refused": 0}));
    let mut sha = file_sha(&host, "a.md").await;
    for i in 0..4 {
        let r = host
            .put_file("o/r", "a.md", &format!("v{i}"), Some(&sha))
            .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        sha = r.json()["content"]["sha"].as_str().unwrap().to_string();
    }
    let r = host.admin("GET", "/_githost/pacing", None).await;
    assert_eq!(r.json(), json!({"min_gap_ms": 0, "refused": 0}));
    let s = host.admin("GET", "/_githost/stats", None).await.json();
    assert_eq!(s["pacing_refused"], 0);
    assert_eq!(s["by_status"].get("403"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_failures_are_not_paced_and_config_sets_initial_gap() {
    let host = Host::start_with(|c| c.min_mutation_gap_ms = 300).await;
    host.seed("o", "r", json!({"a.md": "a"})).await;
    let r = host.admin("GET", "/_githost/pacing", None).await;
    assert_eq!(r.json(), json!({"min_gap_ms": 300, "refused": 0}));

    // Rejected by the access checks: answered 401, does not start the clock.
    let r = host
        .send(
            "PUT",
            "/repos/o/r/contents/b.md",
            &[("User-Agent", "x")],
            Some(b"{}"),
        )
        .await;
    assert_eq!(r.status, 401);
    let r = host.put_file("o/r", "b.md", "b", None).await;
    assert_eq!(r.status, 201);

    // Refused requests consume no fault.
    host.admin(
        "POST",
        "/_githost/faults",
        Some(json!({"method": "PUT", "status": 502})),
    )
    .await;
    let r = host.put_file("o/r", "c.md", "c", None).await;
    assert_eq!(r.status, 403);
    let faults = host.admin("GET", "/_githost/faults", None).await.json();
    assert_eq!(faults.as_array().unwrap().len(), 1);

    // Bad admin bodies are rejected.
    let r = host
        .admin("PUT", "/_githost/pacing", Some(json!({"min_gap_ms": -1})))
        .await;
    assert_eq!(r.status, 400);
    let r = host
        .admin("PUT", "/_githost/pacing", Some(json!({"gap": 1})))
        .await;
    assert_eq!(r.status, 400);
}
