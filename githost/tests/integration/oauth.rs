//! "Sign in with GitHub": authorize, code exchange (JSON and form), `/user`,
//! collaborator permissions, single-use codes, client credentials and revocation.

use serde_json::{json, Value};

use crate::common::{b64, Host, Resp};

const CALLBACK: &str = "http://localhost:8787/auth/callback";

/// `GET /login/oauth/authorize` with a raw query string.
async fn authorize(host: &Host, query: &str) -> Resp {
    host.send("GET", &format!("/login/oauth/authorize?{query}"), &[], None)
        .await
}

/// The `code` from a successful authorize answer.
fn code_of(r: &Resp) -> String {
    assert_eq!(r.status, 302, "{}", String::from_utf8_lossy(&r.body));
    let location = r.header("location").unwrap();
    let query = location.split_once('?').unwrap().1;
    let pairs = githost::encoding::parse_form(query);
    pairs
        .into_iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v)
        .unwrap()
}

/// Authorize with `extra` query parameters and return the code.
async fn new_code(host: &Host, extra: &str) -> String {
    let callback = githost::encoding::encode_query_component(CALLBACK);
    code_of(
        &authorize(
            host,
            &format!("client_id=cid&redirect_uri={callback}{extra}"),
        )
        .await,
    )
}

/// Exchange a code with a JSON body, asking for JSON.
async fn exchange(host: &Host, body: Value) -> Value {
    let bytes = serde_json::to_vec(&body).unwrap();
    let r = host
        .send(
            "POST",
            "/login/oauth/access_token",
            &[
                ("Content-Type", "application/json"),
                ("Accept", "application/json"),
            ],
            Some(&bytes),
        )
        .await;
    assert_eq!(r.status, 200);
    r.json()
}

/// A user token for `login` (through the whole flow).
async fn user_token(host: &Host, login: &str) -> String {
    let code = new_code(host, &format!("&login={login}")).await;
    let v = exchange(
        host,
        json!({"client_id": "cid", "client_secret": "s", "code": code}),
    )
    .await;
    v["access_token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorize_then_exchange_the_code_once() {
    let host = Host::start().await;

    // Authorize: straight back to the redirect URI, its own query kept.
    let redirect = githost::encoding::encode_query_component("http://localhost:8787/cb?next=%2Fx");
    let r = authorize(
        &host,
        &format!(
            "client_id=cid&redirect_uri={redirect}&state=s%20t%26u&scope=read:user%20user:email"
        ),
    )
    .await;
    let location = r.header("location").unwrap().to_string();
    assert!(
        location.starts_with("http://localhost:8787/cb?next=%2Fx&code="),
        "{location}"
    );
    assert!(location.ends_with("&state=s%20t%26u"), "{location}");
    let code = code_of(&r);
    assert_eq!(code.len(), 20);

    // Exchange as JSON.
    let v = exchange(
        &host,
        json!({"client_id": "cid", "client_secret": "x", "code": code,
               "redirect_uri": "http://localhost:8787/cb?next=%2Fx"}),
    )
    .await;
    let token = v["access_token"].as_str().unwrap().to_string();
    assert!(token.starts_with("gho_") && token.len() == 40, "{v}");
    assert_eq!(v["token_type"], "bearer");
    assert_eq!(v["scope"], "read:user,user:email");
    let r = host.gh_as(&token, "GET", "/user", &[], None).await;
    assert_eq!(r.header("x-oauth-scopes"), Some("read:user,user:email"));
    // A code works once.
    let v = exchange(
        &host,
        json!({"client_id": "cid", "client_secret": "x", "code": code}),
    )
    .await;
    assert_eq!(v["error"], "bad_verification_code");
    assert_eq!(
        v["error_description"],
        "The code passed is incorrect or expired."
    );
    assert!(v["error_uri"]
        .as_str()
        .unwrap()
        .starts_with("https://docs.github.com/"));

    // Exchange as a form, answered as a form.
    let code = new_code(&host, "").await;
    let form = format!("client_id=cid&client_secret=x&code={code}");
    let r = host
        .send(
            "POST",
            "/login/oauth/access_token",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(form.as_bytes()),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/x-www-form-urlencoded"));
    let text = String::from_utf8(r.body.clone()).unwrap();
    let pairs = githost::encoding::parse_form(&text);
    assert_eq!(pairs[0].0, "access_token");
    assert!(pairs[0].1.starts_with("gho_"));
    assert_eq!(
        &pairs[1..],
        &[
            ("token_type".into(), "bearer".into()),
            ("scope".into(), String::new())
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_tokens_identify_their_users_until_revoked() {
    let host = Host::start().await;
    host.seed("acme", "threads", json!({"a.md": "a"})).await;
    let token = user_token(&host, "alice").await;
    let r = host.gh_as(&token, "GET", "/user", &[], None).await;
    assert_eq!(r.status, 200);
    let me = r.json();
    assert_eq!(me["login"], "alice");
    assert_eq!(me["type"], "User");
    assert!(me["id"].as_u64().is_some() && me["node_id"].is_string());
    let bob = user_token(&host, "bob").await;
    let them = host.gh_as(&bob, "GET", "/user", &[], None).await.json();
    assert_eq!(them["login"], "bob");
    assert_ne!(them["id"], me["id"]);
    let again = user_token(&host, "alice").await;
    assert_eq!(
        host.gh_as(&again, "GET", "/user", &[], None).await.json()["id"],
        me["id"]
    );
    // An unknown login signs in the dev user.
    let dev = user_token(&host, "nobody").await;
    assert_eq!(
        host.gh_as(&dev, "GET", "/user", &[], None).await.json()["login"],
        "alice"
    );

    // Repository permissions for a user token.
    let r = host
        .gh_as(&bob, "GET", "/repos/acme/threads", &[], None)
        .await;
    assert_eq!(
        r.json()["permissions"],
        json!({"admin": false, "maintain": false, "push": false, "triage": false, "pull": true})
    );
    // Commits with a user token are the user's.
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
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["commit"]["author"]["name"], "alice");

    // Revoking every user token.
    let r = host.admin("DELETE", "/_githost/oauth/tokens", None).await;
    assert_eq!(r.json()["revoked"], 4);
    let r = host.gh_as(&token, "GET", "/user", &[], None).await;
    assert_eq!((r.status, r.message().as_str()), (401, "Bad credentials"));
    let r = host
        .gh_as("gho_never_issued", "GET", "/user", &[], None)
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collaborator_permissions_follow_the_users_config() {
    let host = Host::start().await;
    host.seed("acme", "threads", json!({"a.md": "a"})).await;
    host.seed("acme", "secret", json!({"a.md": "a"})).await;
    let permission = |user: &str, repo: &str| {
        let path = format!("/repos/acme/{repo}/collaborators/{user}/permission");
        let host = &host;
        async move { host.gh("GET", &path, None).await }
    };
    let v = permission("alice", "threads").await.json();
    assert_eq!(
        (v["permission"].as_str(), v["role_name"].as_str()),
        (Some("write"), Some("write"))
    );
    assert_eq!(v["user"]["login"], "alice");
    let v = permission("BOB", "threads").await.json();
    assert_eq!(v["permission"], "read");
    assert_eq!(v["user"]["login"], "bob");
    let r = permission("zed", "threads").await;
    assert_eq!((r.status, r.message().as_str()), (404, "zed is not a user"));
    let r = permission("alice", "missing").await;
    assert_eq!((r.status, r.message().as_str()), (404, "Not Found"));

    // Replace the users at runtime.
    let users = json!({"carol": {"*": "read", "acme/*": "maintain", "acme/secret": "none"},
                       "dan": {"acme/threads": "triage"}, "alice": {"*": "admin"}});
    let r = host
        .admin("POST", "/_githost/users", Some(users.clone()))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        host.admin("GET", "/_githost/users", None).await.json(),
        users
    );
    let v = permission("carol", "threads").await.json();
    assert_eq!(
        (v["permission"].as_str(), v["role_name"].as_str()),
        (Some("write"), Some("maintain"))
    );
    let v = permission("carol", "secret").await.json();
    assert_eq!(v["permission"], "none");
    let v = permission("dan", "threads").await.json();
    assert_eq!(
        (v["permission"].as_str(), v["role_name"].as_str()),
        (Some("read"), Some("triage"))
    );
    let r = permission("bob", "threads").await;
    assert_eq!(r.message(), "bob is not a user");
    let r = host
        .admin(
            "POST",
            "/_githost/users",
            Some(json!({"x": {"*": "owner"}})),
        )
        .await;
    assert_eq!(r.status, 400);

    // A user token reaches no repository where the user's role is none.
    let carol = user_token(&host, "carol").await;
    let r = host
        .gh_as(&carol, "GET", "/repos/acme/secret", &[], None)
        .await;
    assert_eq!(r.status, 404);
    let r = host
        .gh_as(&carol, "GET", "/repos/acme/threads", &[], None)
        .await;
    assert_eq!(r.json()["permissions"]["maintain"], true);
    assert_eq!(r.json()["permissions"]["admin"], false);
    // Any valid token may ask, an installation token only for its repositories
    // (see app.rs), a user token too.
    let path = "/repos/acme/threads/collaborators/carol/permission";
    let r = host.gh_as(&carol, "GET", path, &[], None).await;
    assert_eq!(r.json()["role_name"], "maintain");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_and_redirect_uri_are_checked() {
    let host = Host::start_with(|c| {
        c.oauth_client_id = Some("cid".to_string());
        c.oauth_client_secret = Some("s3cret".to_string());
    })
    .await;
    let callback = githost::encoding::encode_query_component(CALLBACK);
    let r = authorize(&host, &format!("client_id=other&redirect_uri={callback}")).await;
    assert_eq!(r.status, 404);
    let r = authorize(&host, &format!("redirect_uri={callback}")).await;
    assert_eq!(r.status, 404);
    let r = authorize(&host, "client_id=cid").await;
    assert_eq!(r.status, 400);

    let code = new_code(&host, "&state=xyz").await;
    let v = exchange(
        &host,
        json!({"client_id": "cid", "client_secret": "wrong", "code": code}),
    )
    .await;
    assert_eq!(v["error"], "incorrect_client_credentials");
    let v = exchange(
        &host,
        json!({"client_id": "other", "client_secret": "s3cret", "code": code}),
    )
    .await;
    assert_eq!(v["error"], "incorrect_client_credentials");
    let v = exchange(
        &host,
        json!({"client_id": "cid", "client_secret": "s3cret", "code": code,
               "redirect_uri": "http://localhost:9999/elsewhere"}),
    )
    .await;
    assert_eq!(v["error"], "redirect_uri_mismatch");
    // The refused attempts did not use the code up.
    let v = exchange(
        &host,
        json!({"client_id": "cid", "client_secret": "s3cret", "code": code, "redirect_uri": CALLBACK}),
    )
    .await;
    assert!(
        v["access_token"].as_str().unwrap().starts_with("gho_"),
        "{v}"
    );
    let v = exchange(
        &host,
        json!({"client_id": "cid", "client_secret": "s3cret", "code": "nope"}),
    )
    .await;
    assert_eq!(v["error"], "bad_verification_code");

    // Without Accept: application/json, errors come form-encoded too.
    let r = host
        .send(
            "POST",
            "/login/oauth/access_token?client_id=cid&client_secret=s3cret&code=nope",
            &[],
            None,
        )
        .await;
    let text = String::from_utf8(r.body).unwrap();
    assert!(
        text.starts_with("error=bad_verification_code&error_description=The%20code"),
        "{text}"
    );
}
