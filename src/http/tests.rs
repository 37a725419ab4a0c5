//! The API as a pure function, over the in-memory git host and cache.

use super::*;
use crate::auth::token_hash;
use crate::cache::MemoryCache;
use crate::clock::FakeClock;
use crate::config::Config;
use crate::github::memory::MemoryGitHost;
use crate::service::oauth::memory::MemoryOAuth;
use crate::writer::{MemoryJournal, Writer};
use futures::executor::block_on;
use serde_json::{json, Value};

/// The in-memory effects, with an in-process writer as the queue.
struct TestEffects<'a>(std::marker::PhantomData<&'a ()>);

impl<'a> Effects for TestEffects<'a> {
    type Git = MemoryGitHost;
    type Cache = MemoryCache;
    type Clock = FakeClock;
    type Queue = Writer<'a, MemoryGitHost, MemoryCache, FakeClock, MemoryJournal>;
    type OAuth = MemoryOAuth;
}

/// The shared fixture, with threads at the repository root, and a configuration.
struct Fixture {
    base: crate::testing::Fixture,
    config: Config,
    oauth: MemoryOAuth,
}

impl std::ops::Deref for Fixture {
    type Target = crate::testing::Fixture;
    fn deref(&self) -> &Self::Target {
        &self.base
    }
}

fn fixture() -> Fixture {
    let tokens = json!({
        token_hash("w"): {"user": "mira", "scopes": ["read", "write"]},
        token_hash("r"): {"user": "rob", "scopes": ["read"], "agent": "Codex"},
        token_hash("n"): {"user": "nia", "scopes": ["read", "write"], "repos": ["acme/notes"]},
    })
    .to_string();
    let config = Config::from_lookup(|k| match k {
        "GITHUB_REPO" => Some("acme/threads".into()),
        "GITHUB_TOKEN" => Some("ghp_secret".into()),
        "AUTH_TOKENS" => Some(tokens.clone()),
        "GITHUB_REPOS" => Some("acme/*".into()),
        "GITHUB_WEBHOOK_SECRET" => Some("hook-secret".into()),
        _ => None,
    })
    .unwrap();
    Fixture {
        base: crate::testing::Fixture::in_dir(""),
        config,
        oauth: MemoryOAuth::default(),
    }
}

impl Fixture {
    fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value, ApiResponse) {
        self.call_with(method, path, token, body, &[])
    }

    fn call_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> (u16, Value, ApiResponse) {
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let resp = self.call_raw(method, path, token, body, extra);
        (resp.status, json_of(&resp), resp)
    }

    /// A request as the edge hands it over: `token` as a bearer, `extra` headers.
    fn call_raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Vec<u8>,
        extra: &[(&str, &str)],
    ) -> ApiResponse {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let mut headers = vec![];
        if let Some(t) = token {
            headers.push(("authorization".to_string(), format!("Bearer {t}")));
        }
        headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let req = ApiRequest {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            headers,
            body,
            base: "http://127.0.0.1:8787".into(),
        };
        // As the edge does: a request naming a repository is served with its config.
        let (config, req) = match target(&self.config, &req) {
            Err(refused) => return refused,
            Ok(None) => (self.config.clone(), req),
            Ok(Some(named)) => named,
        };
        self.serve(&config, &req)
    }

    /// Serves `req` with `config`, over the fixture's effects and an in-process writer.
    fn serve(&self, config: &Config, req: &ApiRequest) -> ApiResponse {
        let writer = self.writer();
        let app: Service<'_, TestEffects<'_>> = Service {
            config,
            store: self.store(),
            queue: &writer,
            clock: &self.clock,
            oauth: &self.oauth,
        };
        block_on(handle(&app, req))
    }
}

fn json_of(resp: &ApiResponse) -> Value {
    serde_json::from_slice(&resp.body).unwrap_or(Value::Null)
}

#[test]
fn a_named_repository_is_served_only_if_listed_and_only_to_its_tokens() {
    let f = fixture();
    for path in [
        "/v1/repos/evil/x/threads",
        "/mcp/evil/x",
        "/v1/repos/acme/../threads",
    ] {
        let (status, body, _) = f.call("GET", path, Some("w"), None);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("repo_not_served")),
            "{path}"
        );
    }
    assert_eq!(f.git.counters().get, 0, "refused before any GitHub request");
    let (status, body, _) = f.call("GET", "/v1/repos/acme/notes/threads", Some("w"), None);
    assert_eq!(
        status, 403,
        "a token without repos opens only the default: {body}"
    );
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("acme/notes"));
    let (status, _, _) = f.call("GET", "/v1/repos/Acme/Notes/threads", Some("n"), None);
    assert_eq!(status, 200);
    let (status, _, _) = f.call("GET", "/v1/threads", Some("n"), None);
    assert_eq!(status, 403, "a token with repos opens only those");
    let (status, _, _) = f.call("GET", "/v1/repos/acme/threads/threads", Some("w"), None);
    assert_eq!(status, 200, "the default repository, named");
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    let accept = [
        ("accept", "application/json, text/event-stream"),
        ("content-type", "application/json"),
    ];
    let (status, _, _) = f.call_with(
        "POST",
        "/mcp/acme/notes",
        Some("w"),
        Some(init.clone()),
        &accept,
    );
    assert_eq!(status, 403);
    let (status, body, _) = f.call_with("POST", "/mcp/acme/notes", Some("n"), Some(init), &accept);
    assert_eq!(status, 200, "{body}");
}

#[test]
fn say_then_read_as_markdown_and_json() {
    let f = fixture();
    let (status, body, _) = f.call(
        "POST",
        "/v1/threads/plan/entries",
        Some("w"),
        Some(json!({"agent": "claude", "title": "Hi", "body": "there"})),
    );
    assert_eq!(status, 201, "{body}");
    let id = body["entry_id"].as_str().unwrap().to_string();
    let file = f.git.file("plan.md").unwrap();
    assert!(file.starts_with("# plan — Thread\nStatus: OPEN\nBall: Codex (mira)\nTopic: plan\nCreated: 2026-03-02T09:15:00Z\n\n---\nEntry: Claude (mira) 2026-03-02T09:15:00Z\n"));
    let (_, _, md) = f.call("GET", "/v1/threads/plan", Some("r"), None);
    assert_eq!(String::from_utf8(md.body.clone()).unwrap(), file);
    assert_eq!(md.header("x-watercooler-cache"), Some("hit"));
    let (_, j, _) = f.call("GET", "/v1/threads/plan?format=json", Some("r"), None);
    assert_eq!(j["entries"][0]["entry_id"], json!(id));
    assert_eq!(j["ball"], "Codex (mira)");
}

#[test]
fn the_token_decides_the_user_and_the_default_agent() {
    let f = fixture();
    let (status, body, _) = f.call(
        "POST",
        "/v1/threads/t/entries",
        Some("w"),
        Some(json!({"title": "x", "body": "y"})),
    );
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("missing_field")),
        "no agent, no default"
    );
    let (status, body, _) = f.call(
        "POST",
        "/v1/threads/t/entries",
        Some("w"),
        Some(json!({"agent": "Claude (rob)", "title": "x", "body": "y"})),
    );
    assert_eq!(status, 400, "{body}");
    let (status, _, resp) = f.call(
        "POST",
        "/v1/threads/t/entries",
        Some("r"),
        Some(json!({"title": "x", "body": "y"})),
    );
    assert_eq!(status, 403);
    assert_eq!(
        resp.header("www-authenticate"),
        Some("Bearer error=\"insufficient_scope\", scope=\"threads:write\"")
    );
    assert!(f.git.file("t.md").is_none());
}

#[test]
fn unauthenticated_requests_get_401_with_a_challenge() {
    let f = fixture();
    let (status, body, resp) = f.call("GET", "/v1/threads", None, None);
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthorized");
    assert_eq!(resp.header("www-authenticate"), Some("Bearer"));
    let (status, _, _) = f.call("GET", "/v1/threads", Some("nope"), None);
    assert_eq!(status, 401);
}

#[test]
fn routes_and_methods() {
    let f = fixture();
    assert_eq!(f.call("GET", "/health", None, None).0, 200);
    assert_eq!(f.call("POST", "/health", None, None).0, 405);
    assert_eq!(f.call("GET", "/nope", None, None).0, 404);
    assert_eq!(f.call("PUT", "/v1/threads/x", Some("w"), None).0, 405);
    assert_eq!(
        f.call("GET", "/v1/threads/x/entries", Some("w"), None).0,
        405
    );
    assert_eq!(
        f.call("GET", "/v1/threads?open_only=maybe", Some("w"), None)
            .0,
        400
    );
    assert_eq!(
        f.call("GET", "/v1/threads/x?format=xml", Some("w"), None).0,
        400
    );
}

#[test]
fn a_broken_configuration_is_named_not_panicked() {
    let e = Config::from_lookup(|_| None).unwrap_err();
    let req = ApiRequest {
        method: "GET".into(),
        path: "/health".into(),
        ..Default::default()
    };
    let resp = config_error_response(&req, &e);
    assert_eq!(resp.status, 503);
    let body: Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(body["error"]["setting"], "GITHUB_REPO");
    let req = ApiRequest {
        path: "/v1/threads".into(),
        ..req
    };
    assert_eq!(config_error_response(&req, &e).status, 500);
}

#[test]
fn errors_never_carry_secrets() {
    let f = fixture();
    f.git.fail_next(
        "GET",
        crate::github::GitHubError::Unauthorized {
            status: 401,
            message: "Bad credentials".into(),
        },
        crate::github::memory::Strike::Before,
    );
    let (status, body, _) = f.call("GET", "/v1/threads/x", Some("w"), None);
    assert_eq!(status, 502);
    assert_eq!(body["error"]["code"], "github_unauthorized");
    assert!(!body.to_string().contains("ghp_secret"));
}

const MCP_HEADERS: [(&str, &str); 2] = [
    ("accept", "application/json, text/event-stream"),
    ("content-type", "application/json"),
];

fn rpc(f: &Fixture, body: Value) -> (u16, Value) {
    let (status, json, _) = f.call_with("POST", "/mcp", Some("w"), Some(body), &MCP_HEADERS);
    (status, json)
}

#[test]
fn mcp_initialize_negotiates_and_teaches_the_workflow() {
    let f = fixture();
    let (status, r) = rpc(
        &f,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18"}}),
    );
    assert_eq!(status, 200);
    assert_eq!(r["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(r["result"]["serverInfo"]["version"], VERSION);
    assert!(r["result"]["instructions"]
        .as_str()
        .unwrap()
        .contains("watercooler_say"));
    let (_, r) = rpc(
        &f,
        json!({"jsonrpc": "2.0", "id": 2, "method": "initialize", "params": {"protocolVersion": "2020-01-01"}}),
    );
    assert_eq!(
        r["result"]["protocolVersion"],
        crate::http::mcp::modern::LEGACY_VERSIONS[0]
    );
}

#[test]
fn mcp_tool_calls_write_and_read_through_the_store() {
    let f = fixture();
    let (_, r) = rpc(
        &f,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "watercooler_say", "arguments": {"topic": "t", "title": "x", "body": "y", "agent_func": "Claude:opus:planner", "wait_for_commit": true}}}),
    );
    assert_eq!(r["result"]["isError"], Value::Null, "{r}");
    assert_eq!(r["result"]["structuredContent"]["ball"], "Codex (mira)");
    assert!(
        r["result"]["structuredContent"]["commit_sha"].is_string(),
        "{r}"
    );
    let file = f.git.file("t.md").unwrap();
    assert!(
        file.contains("Entry: Claude (mira) ") && file.contains("\nRole: planner\n"),
        "{file}"
    );
    // By default a write is answered once it is stored: the ball it will give, no
    // commit yet, and readers see it at once.
    let (_, r) = rpc(
        &f,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "watercooler_say", "arguments": {"topic": "t", "title": "stored", "body": "y", "agent": "Codex"}}}),
    );
    let out = &r["result"]["structuredContent"];
    assert_eq!(
        (out["queued"].clone(), out["ball"].clone()),
        (json!(true), json!("Claude (mira)")),
        "{r}"
    );
    assert_eq!(out["commit_sha"], Value::Null);
    assert!(r["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("Stored: say on t (entry_id "));
    assert!(!f.git.file("t.md").unwrap().contains("Title: stored"));
    let (_, r) = rpc(
        &f,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "watercooler_read_thread", "arguments": {"topic": "t"}}}),
    );
    assert!(
        r["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Title: stored"),
        "{r}"
    );
    let (_, r) = rpc(
        &f,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "watercooler_say", "arguments": {"topic": "t"}}}),
    );
    assert_eq!(r["result"]["isError"], true);
    assert!(r["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("title"));
    let (_, r) = rpc(
        &f,
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "nope"}}),
    );
    assert_eq!(r["error"]["code"], -32602);
}

#[test]
fn mcp_transport_rules() {
    let f = fixture();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    assert_eq!(
        f.call_with("GET", "/mcp", Some("w"), None, &MCP_HEADERS).0,
        405
    );
    assert_eq!(
        f.call_with("POST", "/mcp", Some("w"), Some(json!([init])), &MCP_HEADERS)
            .1["error"]["code"],
        -32600
    );
    assert_eq!(
        f.call_with("POST", "/mcp", None, Some(init.clone()), &MCP_HEADERS)
            .0,
        401
    );
    let accept_json_only = [
        ("accept", "application/json"),
        ("content-type", "application/json"),
    ];
    assert_eq!(
        f.call_with(
            "POST",
            "/mcp",
            Some("w"),
            Some(init.clone()),
            &accept_json_only
        )
        .0,
        406
    );
    let text = [
        ("accept", "application/json, text/event-stream"),
        ("content-type", "text/plain"),
    ];
    assert_eq!(
        f.call_with("POST", "/mcp", Some("w"), Some(init.clone()), &text)
            .0,
        415
    );
    let mut h = MCP_HEADERS.to_vec();
    h.push(("mcp-protocol-version", "1999-01-01"));
    assert_eq!(
        f.call_with("POST", "/mcp", Some("w"), Some(init.clone()), &h)
            .0,
        400
    );
    let mut h = MCP_HEADERS.to_vec();
    h.push(("origin", "https://evil.example"));
    assert_eq!(
        f.call_with("POST", "/mcp", Some("w"), Some(init.clone()), &h)
            .0,
        403
    );
    let (status, _, resp) = f.call_with(
        "POST",
        "/mcp",
        Some("w"),
        Some(json!({"jsonrpc": "2.0", "method": "notifications/initialized"})),
        &MCP_HEADERS,
    );
    assert_eq!((status, resp.body.len()), (202, 0));
}

#[test]
fn while_github_fails_writes_are_queued_and_read_back_as_pending() {
    let f = fixture();
    let say = |title: &str| {
        f.call(
            "POST",
            "/v1/threads/q/entries",
            Some("w"),
            Some(json!({"agent": "Claude", "title": title, "body": "b"})),
        )
    };
    assert_eq!(say("first").0, 201);
    for _ in 0..50 {
        f.git.fail_next(
            "PUT",
            crate::github::GitHubError::Server {
                status: 503,
                message: "down".into(),
            },
            crate::github::memory::Strike::Before,
        );
    }
    let (status, body, _) = say("second");
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["queued"], true);
    let id = body["entry_id"].as_str().unwrap().to_string();

    let (status, j, resp) = f.call("GET", "/v1/threads/q?format=json", Some("r"), None);
    assert_eq!(status, 200);
    assert_eq!(resp.header("x-watercooler-pending"), Some("1"));
    assert_eq!(j["entries"][1]["entry_id"], json!(id));
    assert_eq!(j["entries"][1]["pending"], true);
    assert_eq!(j["entries"][0]["pending"], false);

    let (_, s, _) = f.call("GET", "/v1/sync", Some("r"), None);
    assert_eq!(
        (s["state"].as_str(), s["pending"].as_u64()),
        (Some("failing"), Some(1)),
        "{s}"
    );
    assert!(s["last_error"].as_str().unwrap().contains("503"));
    assert_eq!(
        f.call("POST", "/v1/sync/now", Some("r"), None).0,
        403,
        "flushing needs the write scope"
    );

    f.git.clear_faults();
    let (status, s, _) = f.call("POST", "/v1/sync/now", Some("w"), None);
    assert_eq!((status, s["state"].as_str()), (200, Some("synced")), "{s}");
    let file = f.git.file("q.md").unwrap();
    assert_eq!(crate::thread::parse(&file).entries.len(), 2);
    let (_, _, resp) = f.call("GET", "/v1/threads/q", Some("r"), None);
    assert_eq!(resp.header("x-watercooler-pending"), Some("0"));
}

#[test]
fn a_queued_say_on_a_new_thread_is_readable_before_it_lands() {
    let f = fixture();
    for _ in 0..50 {
        f.git.fail_next(
            "GET",
            crate::github::GitHubError::Server {
                status: 503,
                message: "down".into(),
            },
            crate::github::memory::Strike::Before,
        );
    }
    let (status, body, _) = f.call(
        "POST",
        "/v1/threads/fresh/entries",
        Some("w"),
        Some(json!({"agent": "Codex", "title": "hello", "body": "b"})),
    );
    assert_eq!(status, 202, "{body}");
    f.git.clear_faults();
    let (status, j, _) = f.call("GET", "/v1/threads/fresh?format=json", Some("r"), None);
    assert_eq!(status, 200, "{j}");
    assert_eq!(j["sha"], Value::Null);
    assert_eq!(j["entries"][0]["title"], "hello");
    assert_eq!(j["entries"][0]["pending"], true);
}

fn signed(body: &str) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"hook-secret").unwrap();
    mac.update(body.as_bytes());
    let tag: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={tag}")
}

/// Thread `plan` said into by this service, and read once (so it is cached): the
/// first read's answer.
fn said_and_cached(f: &Fixture) -> ApiResponse {
    let (status, _, _) = f.call(
        "POST",
        "/v1/threads/plan/entries",
        Some("w"),
        Some(json!({"agent": "Claude", "title": "ours", "body": "b"})),
    );
    assert_eq!(status, 201);
    f.call("GET", "/v1/threads/plan", Some("r"), None).2
}

#[test]
fn a_signed_push_webhook_makes_outside_changes_visible_at_once() {
    let f = fixture();
    let first = said_and_cached(&f);
    let mut outside = f.git.file("plan.md").unwrap();
    outside.push_str(
        "\n---\nEntry: Codex (bob) 2026-03-02T10:00:00Z\nTitle: pushed by hand\n\nhello\n",
    );
    f.git.push("plan.md", &outside);
    let (_, _, cached) = f.call("GET", "/v1/threads/plan", Some("r"), None);
    assert_eq!(
        cached.body, first.body,
        "within the cache TTL the old copy is served"
    );

    let push = json!({
        "ref": "refs/heads/main",
        "repository": {"full_name": "acme/threads"},
        "commits": [
            {"message": "Claude (mira): ours (plan)\n\nWatercooler-Topic: plan\n", "modified": ["other.md"]},
            {"message": "by hand", "modified": ["plan.md", "README.md", "sub/x.md"]}
        ]
    })
    .to_string();
    let deliver = |body: &str, signature: &str, event: &str| {
        let (path, query) = ("/webhooks/github", "");
        let req = ApiRequest {
            method: "POST".into(),
            path: path.into(),
            query: query.into(),
            headers: vec![
                ("x-github-event".into(), event.into()),
                ("x-hub-signature-256".into(), signature.into()),
            ],
            body: body.as_bytes().to_vec(),
            base: "http://127.0.0.1:8787".into(),
        };
        let resp = f.serve(&f.config, &req);
        (resp.status, json_of(&resp))
    };
    let (status, body) = deliver(&push, "sha256=00", "push");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("bad_signature"))
    );
    let (_, still) = (0, f.call("GET", "/v1/threads/plan", Some("r"), None).2);
    assert_eq!(still.body, first.body, "a forged delivery changes nothing");
    let (status, body) = deliver(&push, &signed(&push), "push");
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["refreshed"],
        json!(["README.md", "plan.md"]),
        "files that can be threads, and not our own commits'"
    );
    let (_, _, fresh) = f.call("GET", "/v1/threads/plan", Some("r"), None);
    assert!(String::from_utf8(fresh.body)
        .unwrap()
        .contains("pushed by hand"));
    let (_, body) = deliver(r#"{"zen": "x"}"#, &signed(r#"{"zen": "x"}"#), "ping");
    assert_eq!(body["pong"], json!(true));
}

#[test]
fn a_reader_refreshing_an_outside_change_tells_waiters_and_the_search_index() {
    let f = fixture();
    said_and_cached(&f);
    let (_, start, _) = f.call("GET", "/v1/events", Some("r"), None);
    let mut outside = f.git.file("plan.md").unwrap();
    outside.push_str("\n---\n\nEntry: Codex (bob) 2026-03-02T10:00:00Z\nRole: implementer\nType: Note\nTitle: pushed by hand\n\nthe quokka plan\n");
    f.git.push("plan.md", &outside);
    f.clock.advance(31_000);
    let (_, _, read) = f.call("GET", "/v1/threads/plan", Some("r"), None);
    assert_eq!(read.header("x-watercooler-cache"), Some("refreshed"));
    let cursor = start["cursor"].as_str().unwrap();
    let (status, got, _) = f.call(
        "GET",
        &format!("/v1/events?since={cursor}"),
        Some("r"),
        None,
    );
    assert_eq!(status, 200, "{got}");
    let titles: Vec<&str> = got["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["title"].as_str())
        .collect();
    assert_eq!(titles, ["pushed by hand"], "{got}");
    let (_, found, _) = f.call("GET", "/v1/search?q=quokka", Some("r"), None);
    assert_eq!(found["results"][0]["title"], "pushed by hand", "{found}");
    // Reading it again tells nothing twice.
    f.clock.advance(31_000);
    f.call("GET", "/v1/threads/plan", Some("r"), None);
    let (_, again, _) = f.call(
        "GET",
        &format!("/v1/events?since={}", got["cursor"].as_str().unwrap()),
        Some("r"),
        None,
    );
    assert_eq!(again["events"], json!([]));
}

#[test]
fn the_tool_surface_follows_the_token_and_what_the_client_asks_for() {
    let f = fixture();
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    let names = |token: &str, path: &str, extra: &[(&str, &str)]| {
        let mut headers = MCP_HEADERS.to_vec();
        headers.extend_from_slice(extra);
        let (status, r, _) = f.call_with("POST", path, Some(token), Some(list.clone()), &headers);
        let names: Vec<String> = r["result"]["tools"]
            .as_array()
            .map(|t| {
                t.iter()
                    .map(|t| t["name"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        (status, names, r)
    };
    let (_, all, _) = names("w", "/mcp", &[]);
    assert_eq!(all.len(), 15);
    // A read-only token sees only the tools that change nothing.
    let (_, read, _) = names("r", "/mcp", &[]);
    assert!(read.contains(&"watercooler_read_thread".to_string()));
    assert!(read.contains(&"watercooler_wait".to_string()));
    assert!(
        !read
            .iter()
            .any(|n| n.ends_with("_say") || n.ends_with("_set_status")),
        "{read:?}"
    );
    // A client narrows its surface by header or query; a token's limits bound it.
    let (_, two, _) = names(
        "w",
        "/mcp",
        &[("x-mcp-tools", "say, watercooler_read_thread")],
    );
    assert_eq!(two, ["watercooler_read_thread", "watercooler_say"]);
    let (_, by_query, _) = names("w", "/mcp?tools=wait,search", &[]);
    assert_eq!(by_query, ["watercooler_wait", "watercooler_search"]);
    let (_, bounded, _) = names("r", "/mcp", &[("x-mcp-tools", "say,read_thread")]);
    assert_eq!(bounded, ["watercooler_read_thread"]);
    let (_, readonly, _) = names("w", "/mcp", &[("x-mcp-readonly", "true")]);
    assert_eq!(readonly, read);
    let (status, _, r) = names("w", "/mcp", &[("x-mcp-tools", "say,shout")]);
    assert_eq!(status, 400);
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown tool \"shout\""),
        "{r}"
    );
    // A narrowed surface takes no call to a tool it left out.
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "watercooler_say", "arguments": {"topic": "t", "title": "x", "body": "y", "agent": "Claude"}}});
    let mut headers = MCP_HEADERS.to_vec();
    headers.push(("x-mcp-tools", "read_thread"));
    let (_, r, _) = f.call_with("POST", "/mcp", Some("w"), Some(call.clone()), &headers);
    assert_eq!(r["error"]["code"], -32602, "{r}");
    // A read-only token's write call is still answered, with why not.
    let (_, r, _) = f.call_with("POST", "/mcp", Some("r"), Some(call), &MCP_HEADERS);
    assert_eq!(r["result"]["isError"], true, "{r}");
    assert!(r["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("read-only"));
}

#[test]
fn browser_origins_the_workers_own_loopback_beside_loopback_and_allowed_ones() {
    let f = fixture();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    let with_origin = |origin: &str| {
        let mut h = MCP_HEADERS.to_vec();
        h.push(("origin", origin));
        let (status, _, resp) = f.call_with("POST", "/mcp", Some("w"), Some(init.clone()), &h);
        (
            status,
            resp.header("access-control-allow-origin")
                .map(str::to_string),
        )
    };
    // The Worker here is reached at http://127.0.0.1:8787.
    for ok in [
        "http://127.0.0.1:8787",
        "http://localhost:5173",
        "http://127.0.0.1:3000",
        "http://[::1]:4000",
    ] {
        assert_eq!(with_origin(ok), (200, Some(ok.to_string())), "{ok}");
    }
    for refused in [
        "https://evil.example",
        "http://localhost.evil.example",
        "http://127.0.0.1.nip.io",
        "null",
    ] {
        assert_eq!(with_origin(refused).0, 403, "{refused}");
    }
    let preflight = |origin: &str| {
        let h = [
            ("origin", origin),
            ("access-control-request-method", "POST"),
        ];
        let (status, _, resp) = f.call_with("OPTIONS", "/mcp", None, None, &h);
        (status, resp)
    };
    let (status, resp) = preflight("http://localhost:5173");
    assert_eq!(status, 204);
    assert!(resp
        .header("access-control-allow-headers")
        .unwrap()
        .contains("authorization"));
    assert!(resp
        .header("access-control-expose-headers")
        .unwrap()
        .contains("www-authenticate"));
    assert_eq!(preflight("https://evil.example").0, 403);
}

#[test]
fn mcp_resources_list_read_and_template() {
    let f = fixture();
    for i in 0..60 {
        f.git.push(
            &format!("t{i:02}.md"),
            &format!("# t{i:02} — Thread\nStatus: OPEN\nBall: Codex (bob)\n"),
        );
    }
    let (_, r) = rpc(
        &f,
        json!({"jsonrpc": "2.0", "id": 1, "method": "resources/list"}),
    );
    let first = r["result"]["resources"].as_array().unwrap().clone();
    assert_eq!(first.len(), 50, "{r}");
    assert_eq!(first[0]["uri"], "watercooler://instructions");
    assert_eq!(first[1]["uri"], "watercooler://threads/t00");
    let cursor = r["result"]["nextCursor"].as_str().unwrap().to_string();
    let (_, r) = rpc(
        &f,
        json!({"jsonrpc": "2.0", "id": 2, "method": "resources/list", "params": {"cursor": cursor}}),
    );
    assert_eq!(r["result"]["resources"].as_array().unwrap().len(), 11);
    assert!(r["result"].get("nextCursor").is_none());
    let (_, r) = rpc(
        &f,
        json!({"jsonrpc": "2.0", "id": 3, "method": "resources/list", "params": {"cursor": "nope"}}),
    );
    assert_eq!(r["error"]["code"], -32602);

    let read = |uri: &str| {
        rpc(
            &f,
            json!({"jsonrpc": "2.0", "id": 4, "method": "resources/read", "params": {"uri": uri}}),
        )
        .1
    };
    let thread = read("watercooler://threads/t07");
    assert_eq!(thread["result"]["contents"][0]["mimeType"], "text/markdown");
    assert_eq!(
        thread["result"]["contents"][0]["text"],
        f.git.file("t07.md").unwrap()
    );
    assert!(
        read("watercooler://instructions")["result"]["contents"][0]["text"]
            .as_str()
            .unwrap()
            .contains("watercooler_wait")
    );
    for missing in [
        "watercooler://threads/none",
        "watercooler://threads/../x",
        "test://static-text",
    ] {
        assert_eq!(read(missing)["error"]["code"], -32002, "{missing}");
    }
    let (_, r) = rpc(
        &f,
        json!({"jsonrpc": "2.0", "id": 5, "method": "resources/templates/list"}),
    );
    assert_eq!(
        r["result"]["resourceTemplates"][0]["uriTemplate"],
        "watercooler://threads/{topic}"
    );
    let (_, r) = rpc(
        &f,
        json!({"jsonrpc": "2.0", "id": 6, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}}),
    );
    assert!(r["result"]["capabilities"]["resources"].is_object());
}

mod mcp_modern;
mod web;
