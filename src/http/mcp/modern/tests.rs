use super::*;
use crate::http::mcp::jsonrpc::{INVALID_PARAMS, METHOD_NOT_FOUND};

fn request(headers: &[(&str, &str)]) -> ApiRequest {
    ApiRequest {
        method: "POST".into(),
        path: "/mcp".into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

fn meta(version: Value) -> Value {
    json!({"_meta": {META_VERSION: version, META_CAPABILITIES: {}}})
}

const MODERN: [(&str, &str); 2] = [
    ("mcp-protocol-version", "2026-07-28"),
    ("mcp-method", "tools/list"),
];

#[test]
fn the_era_follows_the_version_header_and_the_envelope() {
    let plain = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    assert_eq!(era_of(None, &plain), Era::Legacy);
    assert_eq!(era_of(Some("2025-06-18"), &plain), Era::Legacy);
    assert_eq!(era_of(Some(" 2026-07-28 "), &plain), Era::Modern);
    assert_eq!(
        era_of(Some("1999-01-01"), &plain),
        Era::Unknown("1999-01-01".into())
    );
    // The envelope decides, whatever the header says: its checks then name the mismatch.
    let enveloped =
        json!({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": meta(json!("2026-07-28"))});
    for header in [None, Some("2025-11-25"), Some("1999-01-01")] {
        assert_eq!(era_of(header, &enveloped), Era::Modern, "{header:?}");
    }
}

#[test]
fn a_request_without_the_envelope_is_invalid_params() {
    let req = request(&MODERN);
    for params in [
        json!(null),
        json!({}),
        json!({"_meta": []}),
        json!({"_meta": {META_VERSION: "2026-07-28"}}),
        json!({"_meta": {META_CAPABILITIES: {}}}),
    ] {
        let r = admit(&req, "tools/list", &params).unwrap_err();
        assert_eq!(
            (r.code, status_of(r.code)),
            (INVALID_PARAMS, 400),
            "{params}"
        );
    }
    assert_eq!(
        admit(&req, "tools/list", &meta(json!("2026-07-28"))),
        Ok(())
    );
}

#[test]
fn headers_must_be_sent_once_and_match_the_body() {
    let params = meta(json!("2026-07-28"));
    let cases: [&[(&str, &str)]; 5] = [
        &[("mcp-method", "tools/list")],
        &[
            ("mcp-protocol-version", "2025-11-25"),
            ("mcp-method", "tools/list"),
        ],
        &[("mcp-protocol-version", "2026-07-28")],
        &[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
        ],
        &[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/list"),
            ("Mcp-Method", "tools/list"),
        ],
    ];
    for headers in cases {
        let r = admit(&request(headers), "tools/list", &params).unwrap_err();
        assert_eq!(
            (r.code, status_of(r.code)),
            (HEADER_MISMATCH, 400),
            "{headers:?}"
        );
    }
}

#[test]
fn mcp_name_is_checked_for_calls_and_reads_and_may_be_base64() {
    let call = |name: Option<&str>, body_name: &str| {
        let mut h = vec![
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
        ];
        if let Some(n) = name {
            h.push(("mcp-name", n));
        }
        let mut params = meta(json!("2026-07-28"));
        params["name"] = json!(body_name);
        admit(&request(&h), "tools/call", &params).map_err(|r| r.code)
    };
    assert_eq!(call(Some("watercooler_say"), "watercooler_say"), Ok(()));
    assert_eq!(call(None, "watercooler_say"), Err(HEADER_MISMATCH));
    assert_eq!(
        call(Some("watercooler_ack"), "watercooler_say"),
        Err(HEADER_MISMATCH)
    );
    // "héllo" in the sentinel; the same in plain text cannot be a header value.
    assert_eq!(call(Some("=?base64?aMOpbGxv?="), "héllo"), Ok(()));
    assert_eq!(
        call(Some("=?base64?aMOpbGxv"), "héllo"),
        Err(HEADER_MISMATCH)
    );
    assert_eq!(
        call(Some("=?base64?not base64?="), "x"),
        Err(HEADER_MISMATCH)
    );
    assert_eq!(call(Some("a\u{1}b"), "a\u{1}b"), Err(HEADER_MISMATCH));

    let read = |name: &str, uri: &str| {
        let h = [
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "resources/read"),
            ("mcp-name", name),
        ];
        let mut params = meta(json!("2026-07-28"));
        params["uri"] = json!(uri);
        admit(&request(&h), "resources/read", &params).map_err(|r| r.code)
    };
    assert_eq!(
        read("watercooler://threads/a", "watercooler://threads/a"),
        Ok(())
    );
    assert_eq!(
        read("watercooler://threads/a", "watercooler://threads/b"),
        Err(HEADER_MISMATCH)
    );
}

#[test]
fn header_values_decode_only_when_canonical() {
    assert_eq!(decode_header_value("us-west1").as_deref(), Some("us-west1"));
    assert_eq!(
        decode_header_value("=?base64?IHBhZGRlZCA=?=").as_deref(),
        Some(" padded ")
    );
    assert_eq!(
        decode_header_value("=?base64?IHBhZGRlZCB=?="),
        None,
        "non-canonical padding bits"
    );
    assert_eq!(decode_header_value("=?base64?/w==?="), None, "not UTF-8");
    assert_eq!(
        decode_header_value("tab\there").as_deref(),
        Some("tab\there")
    );
    assert_eq!(decode_header_value("é"), None);
}

#[test]
fn an_unserved_version_names_every_served_one() {
    let h = [
        ("mcp-protocol-version", "2099-01-01"),
        ("mcp-method", "tools/list"),
    ];
    let r = admit(&request(&h), "tools/list", &meta(json!("2099-01-01"))).unwrap_err();
    assert_eq!(
        (r.code, status_of(r.code)),
        (UNSUPPORTED_PROTOCOL_VERSION, 400)
    );
    let data = r.data.clone().unwrap();
    assert_eq!(data["requested"], "2099-01-01");
    assert_eq!(
        data["supported"],
        json!(["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"])
    );
    assert_eq!(r.body(&json!(7))["error"]["data"], data);
    assert_eq!(r.body(&json!(7))["id"], 7);
    // A version that is not a string is malformed, not unsupported.
    let h = [("mcp-protocol-version", "7"), ("mcp-method", "tools/list")];
    let r = admit(&request(&h), "tools/list", &meta(json!(7))).unwrap_err();
    assert_eq!(
        r.code, HEADER_MISMATCH,
        "a header is a string: it cannot equal 7"
    );
}

#[test]
fn results_say_complete_name_the_server_and_give_cache_hints() {
    let info = json!({"name": "s", "version": "1"});
    let r = complete("tools/list", json!({"tools": []}), &info);
    assert_eq!(r["resultType"], "complete");
    assert_eq!(r["_meta"][META_SERVER_INFO], info);
    assert_eq!(
        (r["ttlMs"].as_u64(), r["cacheScope"].as_str()),
        (Some(600_000), Some("private"))
    );
    let r = complete("server/discover", json!({}), &info);
    assert_eq!(r["cacheScope"], "public");
    let r = complete("resources/read", json!({"contents": []}), &info);
    assert_eq!(
        (r["ttlMs"].as_u64(), r["cacheScope"].as_str()),
        (Some(0), Some("private"))
    );
    // A tool result keeps its own _meta and gets no cache hints.
    let r = complete(
        "tools/call",
        json!({"content": [], "_meta": {"k": 1}}),
        &info,
    );
    assert_eq!(r["_meta"]["k"], 1);
    assert_eq!(r["_meta"][META_SERVER_INFO], info);
    assert!(r.get("ttlMs").is_none() && r.get("cacheScope").is_none());
}

#[test]
fn removed_and_unknown_methods_are_not_found() {
    assert_eq!(status_of(METHOD_NOT_FOUND), 404);
    assert!(not_served("ping").contains("removed"));
    assert!(not_served("logging/setLevel").contains("removed"));
    assert!(not_served("subscriptions/listen").contains("watercooler_wait"));
    assert!(not_served("x/y").contains("not supported"));
}
