//! MCP 2026-07-28 through the whole request path: envelope, headers, results.

use super::*;

/// A modern request's body and headers, as a conforming client sends them.
fn modern(f: &Fixture, token: &str, id: i64, method: &str, params: Value) -> (u16, Value) {
    let topic = params
        .pointer("/arguments/topic")
        .and_then(Value::as_str)
        .map(str::to_string);
    let extra: Vec<(&str, &str)> = topic
        .iter()
        .map(|t| ("mcp-param-topic", t.as_str()))
        .collect();
    modern_with(f, token, id, method, params, &extra)
}

/// As [`modern`], with `extra` headers and no mirrored arguments.
fn modern_with(
    f: &Fixture,
    token: &str,
    id: i64,
    method: &str,
    mut params: Value,
    extra: &[(&str, &str)],
) -> (u16, Value) {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
    });
    let name = params
        .get("name")
        .or_else(|| params.get("uri"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut headers = MCP_HEADERS.to_vec();
    headers.push(("mcp-protocol-version", "2026-07-28"));
    headers.push(("mcp-method", method));
    if let Some(n) = name.as_deref() {
        headers.push(("mcp-name", n));
    }
    headers.extend_from_slice(extra);
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    let (status, json, _) = f.call_with("POST", "/mcp", Some(token), Some(body), &headers);
    (status, json)
}

#[test]
fn discover_names_every_revision_and_this_server() {
    let f = fixture();
    let (status, r) = modern(&f, "w", 1, "server/discover", json!({}));
    assert_eq!(status, 200, "{r}");
    let r = &r["result"];
    assert_eq!(r["resultType"], "complete");
    assert_eq!(
        r["supportedVersions"],
        json!(["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"])
    );
    assert!(r["capabilities"]["tools"].is_object() && r["capabilities"]["resources"].is_object());
    assert_eq!(
        r["_meta"]["io.modelcontextprotocol/serverInfo"]["version"],
        VERSION
    );
    assert!(r["instructions"]
        .as_str()
        .unwrap()
        .contains("watercooler_wait"));
    assert_eq!(
        (r["ttlMs"].as_u64(), r["cacheScope"].as_str()),
        (Some(600_000), Some("public"))
    );
}

#[test]
fn tools_list_is_the_same_every_time_and_private_to_the_token() {
    let f = fixture();
    let (_, first) = modern(&f, "w", 1, "tools/list", json!({}));
    let (_, again) = modern(&f, "w", 1, "tools/list", json!({}));
    assert_eq!(first.to_string(), again.to_string(), "byte for byte");
    assert_eq!(first["result"]["cacheScope"], "private");
    assert_eq!(first["result"]["resultType"], "complete");
    let names = |r: &Value| r["result"]["tools"].as_array().unwrap().len();
    let (_, read_only) = modern(&f, "r", 1, "tools/list", json!({}));
    assert!(names(&read_only) < names(&first));
}

#[test]
fn tools_and_resources_answer_in_the_modern_shape() {
    let f = fixture();
    let say = json!({"name": "watercooler_say", "arguments": {"topic": "m", "title": "t", "body": "b", "agent": "Claude"}});
    let (status, r) = modern(&f, "w", 1, "tools/call", say);
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["result"]["resultType"], "complete");
    assert_eq!(r["result"]["isError"], Value::Null, "{r}");
    assert!(r["result"]["_meta"]["io.modelcontextprotocol/serverInfo"].is_object());
    let (_, r) = modern(
        &f,
        "w",
        2,
        "resources/read",
        json!({"uri": "watercooler://threads/m"}),
    );
    assert!(
        r["result"]["contents"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Title: t"),
        "{r}"
    );
    assert_eq!(
        (
            r["result"]["ttlMs"].as_u64(),
            r["result"]["cacheScope"].as_str()
        ),
        (Some(0), Some("private"))
    );
    // An unknown resource is -32602 in this revision (-32002 before), with 400.
    let (status, r) = modern(
        &f,
        "w",
        3,
        "resources/read",
        json!({"uri": "watercooler://threads/nope"}),
    );
    assert_eq!(
        (status, r["error"]["code"].as_i64()),
        (400, Some(-32602)),
        "{r}"
    );
    assert_eq!(r["id"], 3);
    assert_eq!(r["error"]["data"]["uri"], "watercooler://threads/nope");
    let (status, r) = modern(&f, "w", 4, "tools/call", json!({"name": "nope"}));
    assert_eq!(
        (status, r["error"]["code"].as_i64()),
        (400, Some(-32602)),
        "{r}"
    );
}

#[test]
fn what_the_revision_removed_is_not_found() {
    let f = fixture();
    for method in [
        "ping",
        "logging/setLevel",
        "initialize",
        "subscriptions/listen",
        "no/such",
    ] {
        let (status, r) = modern(&f, "w", 9, method, json!({}));
        assert_eq!(
            (status, r["error"]["code"].as_i64()),
            (404, Some(-32601)),
            "{method}: {r}"
        );
    }
}

#[test]
fn the_eras_share_the_endpoint() {
    let f = fixture();
    // The legacy lifecycle is untouched.
    let (status, r) = rpc(&f, json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}));
    assert_eq!((status, &r["result"]), (200, &json!({})));
    let (_, r) = rpc(
        &f,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    );
    assert!(
        r["result"].get("resultType").is_none(),
        "no 2026 fields in 2025 answers"
    );
    // A version nobody speaks: -32022 with what is spoken, so a client can retry.
    let mut h = MCP_HEADERS.to_vec();
    h.push(("mcp-protocol-version", "1999-01-01"));
    let init = json!({"jsonrpc": "2.0", "id": 3, "method": "initialize", "params": {}});
    let (status, r, _) = f.call_with("POST", "/mcp", Some("w"), Some(init), &h);
    assert_eq!(
        (status, r["error"]["code"].as_i64()),
        (400, Some(-32022)),
        "{r}"
    );
    assert_eq!(r["error"]["data"]["supported"][0], "2026-07-28");
    // Modern notifications are taken; responses are not.
    let mut h = MCP_HEADERS.to_vec();
    h.push(("mcp-protocol-version", "2026-07-28"));
    let note = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {}});
    assert_eq!(
        f.call_with("POST", "/mcp", Some("w"), Some(note), &h).0,
        202
    );
    let answer = json!({"jsonrpc": "2.0", "id": 5, "result": {}});
    assert_eq!(
        f.call_with("POST", "/mcp", Some("w"), Some(answer), &h).0,
        400
    );
}

#[test]
fn the_topic_is_mirrored_in_a_header_and_checked() {
    let f = fixture();
    let (_, r) = modern(&f, "w", 1, "tools/list", json!({}));
    let read = &r["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "watercooler_read_thread")
        .unwrap();
    assert_eq!(
        read["inputSchema"]["properties"]["topic"]["x-mcp-header"],
        "Topic"
    );
    let (_, legacy) = rpc(
        &f,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    );
    assert!(
        !legacy.to_string().contains("x-mcp-header"),
        "older clients pass schemas to models as they are"
    );

    let call = json!({"name": "watercooler_read_thread", "arguments": {"topic": "plan"}});
    let code = |extra: &[(&str, &str)]| {
        let (status, r) = modern_with(&f, "w", 2, "tools/call", call.clone(), extra);
        (status, r["error"]["code"].as_i64())
    };
    assert_eq!(
        code(&[("mcp-param-topic", "plan")]),
        (200, None),
        "matches: served (an isError result)"
    );
    assert_eq!(
        code(&[("Mcp-Param-Topic", "=?base64?cGxhbg==?=")]),
        (200, None),
        "base64 of plan"
    );
    assert_eq!(
        code(&[]),
        (400, Some(-32020)),
        "argument without its header"
    );
    assert_eq!(code(&[("mcp-param-topic", "other")]), (400, Some(-32020)));
    assert_eq!(
        code(&[("mcp-param-topic", "=?base64?cGxhbg?=")]),
        (400, Some(-32020)),
        "bad padding"
    );
    let no_topic = json!({"name": "watercooler_list_threads", "arguments": {}});
    let (status, r) = modern_with(
        &f,
        "w",
        3,
        "tools/call",
        no_topic,
        &[("mcp-param-topic", "plan")],
    );
    assert_eq!(
        (status, r["error"]["code"].as_i64()),
        (200, None),
        "a tool without topic ignores the header"
    );
    let wait = json!({"name": "watercooler_wait", "arguments": {"timeout_s": 0}});
    let (status, r) = modern_with(
        &f,
        "w",
        4,
        "tools/call",
        wait,
        &[("mcp-param-topic", "plan")],
    );
    assert_eq!(
        (status, r["error"]["code"].as_i64()),
        (400, Some(-32020)),
        "a header without its argument"
    );
}

#[test]
fn prompts_are_served_in_both_eras() {
    let f = fixture();
    let (_, r) = modern(&f, "w", 1, "prompts/list", json!({}));
    assert_eq!(r["result"]["prompts"][0]["name"], "catch_up");
    assert_eq!(r["result"]["cacheScope"], "public");
    let (status, r) = modern(
        &f,
        "w",
        2,
        "prompts/get",
        json!({"name": "reply", "arguments": {"topic": "plan"}}),
    );
    assert_eq!(status, 200, "{r}");
    assert!(r["result"]["messages"][0]["content"]["text"]
        .as_str()
        .unwrap()
        .contains("\"plan\""));
    let (_, r) = rpc(
        &f,
        json!({"jsonrpc": "2.0", "id": 3, "method": "prompts/get", "params": {"name": "catch_up"}}),
    );
    assert_eq!(r["result"]["messages"][0]["role"], "user");
}
