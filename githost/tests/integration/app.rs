//! The GitHub App: installation lookup, installation tokens, their scope and
//! expiry, JWT checks and the bot identity of commits.

use serde_json::{json, Value};

use crate::common::{app_jwt, b64, jwt, now, Host, APP_ID, OTHER_PRIVATE_KEY};

/// `GET /repos/{repo}/installation` with a valid JWT; returns the installation id.
async fn installation_id(host: &Host, repo: &str) -> u64 {
    let r = host
        .gh_as(
            &app_jwt(),
            "GET",
            &format!("/repos/{repo}/installation"),
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()["id"].as_u64().unwrap()
}

/// A new installation token for installation `id` with `body`.
async fn access_token(host: &Host, id: u64, body: Value) -> String {
    let path = format!("/app/installations/{id}/access_tokens");
    let r = host.gh_as(&app_jwt(), "POST", &path, &[], Some(body)).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    r.json()["token"].as_str().unwrap().to_string()
}

/// A host with the app and three repositories under two owners.
async fn host_with_repos() -> Host {
    let host = Host::start_with_app().await;
    host.seed("acme", "threads", json!({"a.md": "a"})).await;
    host.seed("acme", "other", json!({"b.md": "b"})).await;
    host.seed("elsewhere", "x", json!({"c.md": "c"})).await;
    host
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_installation_is_found_per_owner() {
    let host = host_with_repos().await;
    let r = host
        .gh_as(
            &app_jwt(),
            "GET",
            "/repos/acme/threads/installation",
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    let id = v["id"].as_u64().unwrap();
    assert!(id >= 1000);
    assert_eq!(v["account"]["login"], "acme");
    assert_eq!(v["app_id"], 4242);
    assert_eq!(v["app_slug"], "watercooler-dev");
    assert_eq!(v["repository_selection"], "all");
    assert_eq!(
        v["permissions"],
        json!({"contents": "write", "metadata": "read"})
    );
    // One installation per owner, stable.
    assert_eq!(installation_id(&host, "acme/other").await, id);
    assert_ne!(installation_id(&host, "elsewhere/x").await, id);
    let r = host
        .gh_as(
            &app_jwt(),
            "GET",
            "/repos/acme/missing/installation",
            &[],
            None,
        )
        .await;
    assert_eq!((r.status, r.message().as_str()), (404, "Not Found"));
    access_token(&host, id, json!({})).await;

    // Counted in the stats like other routes.
    let stats = host.admin("GET", "/_githost/stats", None).await.json();
    assert_eq!(stats["by_route"]["GET installation"], 4);
    assert_eq!(stats["by_route"]["POST app/access_tokens"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_installation_token_commits_as_the_bot() {
    let host = host_with_repos().await;
    let id = installation_id(&host, "acme/threads").await;
    let path = format!("/app/installations/{id}/access_tokens");
    let body = json!({"repositories": ["threads"]});
    let r = host.gh_as(&app_jwt(), "POST", &path, &[], Some(body)).await;
    assert_eq!(r.status, 201);
    let v = r.json();
    let token = v["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("ghs_") && token.len() == 40, "{token}");
    assert!(token[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_eq!(v["repository_selection"], "selected");
    assert_eq!(v["repositories"][0]["full_name"], "acme/threads");
    assert_eq!(v["permissions"]["contents"], "write");
    let expected = githost::encoding::iso8601_utc(now() + 3600);
    let expires_at = v["expires_at"].as_str().unwrap();
    assert_eq!(expires_at.len(), expected.len());
    assert!(
        expires_at[..15] == expected[..15],
        "{expires_at} vs {expected}"
    );

    // PUT contents naming nobody: the bot is author and committer.
    let body = json!({"message": "by the app", "content": b64(b"hello")});
    let r = host
        .gh_as(
            &token,
            "PUT",
            "/repos/acme/threads/contents/new.md",
            &[],
            Some(body),
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let bot =
        format!("watercooler-dev[bot] <{APP_ID}+watercooler-dev[bot]@users.noreply.github.com>");
    let log = host.git(
        "acme",
        "threads",
        &["log", "-1", "--format=%an <%ae>|%cn <%ce>"],
    );
    assert_eq!(log, format!("{bot}|{bot}"));
    // Git Data commits too; a named author still wins.
    let head = host.git("acme", "threads", &["rev-parse", "main"]);
    let tree = host.git("acme", "threads", &["rev-parse", "main^{tree}"]);
    let body = json!({"message": "m", "tree": tree, "parents": [head]});
    let commits = "/repos/acme/threads/git/commits";
    let r = host
        .gh_as(&token, "POST", commits, &[], Some(body.clone()))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["author"]["name"], "watercooler-dev[bot]");
    let mut named = body;
    named["author"] = json!({"name": "Ann", "email": "ann@example.com"});
    let r = host.gh_as(&token, "POST", commits, &[], Some(named)).await;
    assert_eq!(r.json()["author"]["name"], "Ann");
    assert_eq!(r.json()["committer"]["name"], "watercooler-dev[bot]");
    // A plain token keeps githost's identity.
    let body = json!({"message": "m", "content": b64(b"x")});
    let r = host
        .gh("PUT", "/repos/acme/threads/contents/plain.md", Some(body))
        .await;
    assert_eq!(r.json()["commit"]["author"]["name"], "githost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installation_tokens_reach_only_their_repositories() {
    let host = host_with_repos().await;
    let id = installation_id(&host, "acme/threads").await;
    let token = access_token(&host, id, json!({"repositories": ["threads"]})).await;
    for path in [
        "/repos/acme/other/contents/b.md",
        "/repos/elsewhere/x/contents/c.md",
        "/repos/acme/other",
    ] {
        let r = host.gh_as(&token, "GET", path, &[], None).await;
        assert_eq!(
            (r.status, r.message().as_str()),
            (404, "Not Found"),
            "{path}"
        );
    }
    let r = host
        .gh_as(
            &token,
            "GET",
            "/repos/acme/threads/contents/a.md",
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, 200);

    // A token for all of the owner's repositories reaches them, not others'.
    let all = access_token(&host, id, json!({})).await;
    let r = host
        .gh_as(&all, "GET", "/repos/acme/other/contents/b.md", &[], None)
        .await;
    assert_eq!(r.status, 200);
    let r = host
        .gh_as(&all, "GET", "/repos/elsewhere/x/contents/c.md", &[], None)
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installation_tokens_must_be_issued_and_unexpired() {
    // Configured tokens do not stop issued installation tokens.
    let host = Host::start_with(|c| {
        c.app_id = Some(APP_ID.to_string());
        c.app_public_key = Some(crate::common::APP_PUBLIC_KEY.to_string());
        c.tokens = vec!["pat".to_string()];
    })
    .await;
    host.seed("acme", "threads", json!({"a.md": "a"})).await;
    let id = installation_id(&host, "acme/threads").await;
    let token = access_token(&host, id, json!({"repositories": ["threads"]})).await;
    let path = "/repos/acme/threads/contents/a.md";
    assert_eq!(host.gh_as(&token, "GET", path, &[], None).await.status, 200);
    assert_eq!(host.gh_as("pat", "GET", path, &[], None).await.status, 200);

    let unknown = format!("ghs_{}", "a".repeat(36));
    let r = host.gh_as(&unknown, "GET", path, &[], None).await;
    assert_eq!((r.status, r.message().as_str()), (401, "Bad credentials"));

    let r = host
        .admin("POST", "/_githost/app/tokens/expire", None)
        .await;
    assert_eq!(r.json(), json!({"expired": 1}));
    let r = host.gh_as(&token, "GET", path, &[], None).await;
    assert_eq!((r.status, r.message().as_str()), (401, "Bad credentials"));
    // A new token works again.
    let token = access_token(&host, id, json!({})).await;
    assert_eq!(host.gh_as(&token, "GET", path, &[], None).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_jwts_are_checked() {
    let host = Host::start_with_app().await;
    host.seed("acme", "threads", json!({"a.md": "a"})).await;
    let path = "/repos/acme/threads/installation";
    let t = now();
    let cases = [
        ("not-a-jwt".to_string(), "A JSON web token could not be decoded"),
        (
            githost::ghapp::sign_jwt(
                OTHER_PRIVATE_KEY,
                &json!({"iat": t - 60, "exp": t + 540, "iss": APP_ID}),
            )
            .unwrap(),
            "A JSON web token could not be decoded",
        ),
        (
            jwt(json!({"iat": t - 60, "exp": t + 540, "iss": "999"})),
            "Integration not found",
        ),
        (
            jwt(json!({"iat": t - 600, "exp": t - 10, "iss": APP_ID})),
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
        ),
        (
            jwt(json!({"iat": t + 120, "exp": t + 300, "iss": APP_ID})),
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
        ),
        (
            jwt(json!({"iat": t - 60, "exp": t + 600, "iss": APP_ID})),
            "'Expiration time' claim ('exp') is too far in the future",
        ),
    ];
    for (token, message) in cases {
        let r = host.gh_as(&token, "GET", path, &[], None).await;
        assert_eq!((r.status, r.message().as_str()), (401, message));
        assert_eq!(r.json()["status"], "401");
    }
    // A numeric issuer is fine.
    let numeric = jwt(json!({"iat": t - 60, "exp": t + 540, "iss": 4242}));
    assert_eq!(
        host.gh_as(&numeric, "GET", path, &[], None).await.status,
        200
    );
    let r = host.send("GET", path, &[("User-Agent", "x")], None).await;
    assert_eq!(
        (r.status, r.message().as_str()),
        (401, "Requires authentication")
    );

    // Access tokens: JWT only, known installations, existing repositories.
    let id = installation_id(&host, "acme/threads").await;
    let tokens_path = format!("/app/installations/{id}/access_tokens");
    let r = host.gh("POST", &tokens_path, None).await;
    assert_eq!(r.message(), "A JSON web token could not be decoded");
    let r = host
        .gh_as(
            &app_jwt(),
            "POST",
            "/app/installations/1/access_tokens",
            &[],
            None,
        )
        .await;
    assert_eq!((r.status, r.message().as_str()), (404, "Not Found"));
    let body = json!({"repositories": ["threads", "nope"]});
    let r = host
        .gh_as(&app_jwt(), "POST", &tokens_path, &[], Some(body))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.message(),
        "There is at least one repository that does not exist or is not accessible to the parent installation."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_tokens_and_user_route() {
    let host = Host::start_with_app().await;
    host.seed("acme", "threads", json!({"a.md": "a"})).await;
    let id = installation_id(&host, "acme/threads").await;
    let token = access_token(&host, id, json!({"permissions": {"contents": "read"}})).await;
    let r = host
        .gh_as(
            &token,
            "GET",
            "/repos/acme/threads/contents/a.md",
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let body = json!({"message": "m", "content": b64(b"x")});
    let r = host
        .gh_as(
            &token,
            "PUT",
            "/repos/acme/threads/contents/x.md",
            &[],
            Some(body),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.message(), "Resource not accessible by integration");
    let r = host.gh_as(&token, "GET", "/user", &[], None).await;
    assert_eq!(r.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_app_the_app_routes_do_not_exist() {
    let host = Host::start().await;
    host.seed("acme", "threads", json!({"a.md": "a"})).await;
    let r = host
        .gh_as(
            &app_jwt(),
            "GET",
            "/repos/acme/threads/installation",
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    let r = host
        .gh_as(
            &app_jwt(),
            "POST",
            "/app/installations/1000/access_tokens",
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    // Unissued ghs_ tokens are refused even when any token is accepted.
    let r = host
        .gh_as(
            "ghs_nope",
            "GET",
            "/repos/acme/threads/contents/a.md",
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, 401);
}
