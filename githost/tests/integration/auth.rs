//! Access rules and rate-limit headers on GitHub routes.

use serde_json::json;

use crate::common::Host;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_agent_and_token_rules() {
    let host = Host::start().await;
    host.seed("o", "r", json!({"a.md": "a"})).await;
    let path = "/repos/o/r/contents/a.md";

    let r = host
        .send("GET", path, &[("Authorization", "Bearer t")], None)
        .await;
    assert_eq!(r.status, 403);
    let v = r.json();
    assert!(v["message"]
        .as_str()
        .unwrap()
        .starts_with("Request forbidden by administrative rules. Please make sure your request has a User-Agent header"));
    assert_eq!(v["status"], "403");
    assert!(v["documentation_url"].is_string());

    let r = host.send("GET", path, &[("User-Agent", "x")], None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.message(), "Requires authentication");
    assert_eq!(r.json()["status"], "401");

    let r = host
        .send(
            "GET",
            path,
            &[("User-Agent", "x"), ("Authorization", "Bearer ")],
            None,
        )
        .await;
    assert_eq!(r.status, 401);

    // No tokens configured: any non-empty token works, both schemes.
    for auth in ["Bearer anything", "token anything"] {
        let r = host
            .send(
                "GET",
                path,
                &[("User-Agent", "x"), ("Authorization", auth)],
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{auth}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_tokens_are_enforced() {
    let host = Host::start_with_tokens(vec!["good".into(), "also-good".into()]).await;
    host.seed("o", "r", json!({"a.md": "a"})).await;
    let path = "/repos/o/r/contents/a.md";
    let r = host
        .send(
            "GET",
            path,
            &[("User-Agent", "x"), ("Authorization", "Bearer bad")],
            None,
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.message(), "Bad credentials");
    for auth in ["Bearer good", "token also-good"] {
        let r = host
            .send(
                "GET",
                path,
                &[("User-Agent", "x"), ("Authorization", auth)],
                None,
            )
            .await;
        assert_eq!(r.status, 200);
    }
    // Admin routes need no token.
    let r = host.send("GET", "/_githost/health", &[], None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"ok": true}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_headers_count_per_token() {
    let host = Host::start().await;
    host.seed("o", "r", json!({"a.md": "a"})).await;
    let path = "/repos/o/r/contents/a.md";
    let a1 = host.gh("GET", path, None).await;
    let a2 = host.gh("GET", "/repos/o/r/contents/missing", None).await;
    assert_eq!(a1.rate("limit"), 5000);
    assert_eq!(a1.header("x-ratelimit-resource"), Some("core"));
    assert_eq!(a2.rate("used"), a1.rate("used") + 1);
    assert_eq!(a2.rate("remaining"), 5000 - a2.rate("used"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let reset = a1.rate("reset");
    assert!(reset > now && reset <= now + 3600);
    // Another token has its own budget.
    let b = host
        .send(
            "GET",
            path,
            &[("User-Agent", "x"), ("Authorization", "Bearer other")],
            None,
        )
        .await;
    assert_eq!(b.rate("used"), 1);
    // Rejected requests carry headers too.
    let r = host.send("GET", path, &[("User-Agent", "x")], None).await;
    assert_eq!(r.rate("limit"), 60);
    // Admin routes carry none.
    let r = host.send("GET", "/_githost/health", &[], None).await;
    assert!(r.header("x-ratelimit-limit").is_none());
}
