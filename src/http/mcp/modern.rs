//! MCP 2026-07-28, the stateless era, beside the `initialize` era on the same endpoint.
//!
//! A modern request carries its protocol version and client capabilities in
//! `params._meta` and mirrors its version, method and target in the
//! `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` headers. Each request is
//! checked on its own ([`admit`]), in the revision's order: the envelope, the headers
//! against the body, then the version. Results say `resultType`, name this server in
//! `_meta`, and carry caching hints where the revision asks for them ([`complete`]).

use crate::http::message::ApiRequest;
use base64::Engine;
use serde_json::{json, Map, Value};

/// The stateless revisions served.
pub const MODERN_VERSIONS: [&str; 1] = ["2026-07-28"];
/// The `initialize` revisions served, newest first.
pub const LEGACY_VERSIONS: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];

/// A header does not match the body, or a required header is missing or malformed.
pub const HEADER_MISMATCH: i64 = -32020;
/// The request's protocol version is not served; `data.supported` lists those that are.
pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;

const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
const VERSION_HEADER: &str = "mcp-protocol-version";
const METHOD_HEADER: &str = "mcp-method";
const NAME_HEADER: &str = "mcp-name";

/// Every revision served, newest first: what `server/discover` and -32022 list.
pub fn supported_versions() -> Vec<&'static str> {
    MODERN_VERSIONS
        .iter()
        .chain(&LEGACY_VERSIONS)
        .copied()
        .collect()
}

/// Which lifecycle a message belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Era {
    /// `initialize` first; the version header is absent (2025-03-26) or a legacy one.
    Legacy,
    /// Per-request `_meta`: the version header is not a legacy one, or the body names
    /// its version in `_meta`.
    Modern,
    /// A version header this server does not know, on a message without `_meta`.
    Unknown(String),
}

/// The era of a message from its version header and body.
pub fn era_of(version_header: Option<&str>, body: &Value) -> Era {
    let names_version = body
        .pointer("/params/_meta")
        .and_then(Value::as_object)
        .is_some_and(|m| m.contains_key(META_VERSION));
    match version_header.map(str::trim) {
        _ if names_version => Era::Modern,
        None => Era::Legacy,
        Some(v) if LEGACY_VERSIONS.contains(&v) => Era::Legacy,
        Some(v) if MODERN_VERSIONS.contains(&v) => Era::Modern,
        Some(v) => Era::Unknown(v.to_string()),
    }
}

/// A request refused before it is served: the JSON-RPC error and its HTTP status.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// The JSON-RPC error code.
    pub code: i64,
    /// What is wrong and what to do.
    pub message: String,
    /// Structured detail (the supported versions of a -32022).
    pub data: Option<Value>,
}

impl Refusal {
    fn new(code: i64, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// -32022 for `requested`, naming every version served.
    pub fn unsupported(requested: &str) -> Self {
        Refusal {
            code: UNSUPPORTED_PROTOCOL_VERSION,
            message: format!(
                "Unsupported protocol version {requested:?}; supported: {}",
                supported_versions().join(", ")
            ),
            data: Some(json!({"supported": supported_versions(), "requested": requested})),
        }
    }

    /// The JSON-RPC error response to request `id`.
    pub fn body(&self, id: &Value) -> Value {
        let mut body = super::jsonrpc::error(id, self.code, &self.message);
        if let Some(d) = &self.data {
            body["error"]["data"] = d.clone();
        }
        body
    }
}

/// The HTTP status of a modern error: 400 for a malformed or mismatched request or an
/// unsupported version, 404 for a method not served, 200 otherwise.
pub fn status_of(code: i64) -> u16 {
    use super::jsonrpc::*;
    match code {
        PARSE_ERROR
        | INVALID_REQUEST
        | INVALID_PARAMS
        | HEADER_MISMATCH
        | UNSUPPORTED_PROTOCOL_VERSION => 400,
        METHOD_NOT_FOUND => 404,
        _ => 200,
    }
}

/// The params key a method's `Mcp-Name` header mirrors.
fn name_key(method: &str) -> Option<&'static str> {
    match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        _ => None,
    }
}

/// Checks a modern request: `_meta` carries the version and client capabilities (else
/// -32602); the routing headers appear once and match the body (else -32020); the
/// version is served (else -32022).
pub fn admit(req: &ApiRequest, method: &str, params: &Value) -> Result<(), Refusal> {
    let meta = params.get("_meta").and_then(Value::as_object);
    let Some(meta) =
        meta.filter(|m| m.contains_key(META_VERSION) && m.contains_key(META_CAPABILITIES))
    else {
        return Err(Refusal::new(
            super::jsonrpc::INVALID_PARAMS,
            format!(
                "params._meta must be an object with {META_VERSION:?} and {META_CAPABILITIES:?}"
            ),
        ));
    };
    check_headers(req, method, params, &meta[META_VERSION])?;
    match meta[META_VERSION].as_str() {
        None => Err(Refusal::new(
            super::jsonrpc::INVALID_PARAMS,
            format!("{META_VERSION} must be a string"),
        )),
        Some(v) if MODERN_VERSIONS.contains(&v) => Ok(()),
        Some(v) => Err(Refusal::unsupported(v)),
    }
}

/// A -32020 refusal.
fn mismatch(what: String) -> Result<(), Refusal> {
    Err(Refusal::new(
        HEADER_MISMATCH,
        format!("Header mismatch: {what}"),
    ))
}

fn check_headers(
    req: &ApiRequest,
    method: &str,
    params: &Value,
    version: &Value,
) -> Result<(), Refusal> {
    for name in [VERSION_HEADER, METHOD_HEADER, NAME_HEADER] {
        if req.header_count(name) > 1 {
            return mismatch(format!("{name} appears more than once"));
        }
    }
    let header = |name| req.header(name).map(str::trim);
    if header(VERSION_HEADER).is_none_or(|h| version.as_str() != Some(h)) {
        return mismatch(format!(
            "MCP-Protocol-Version must be sent and equal params._meta[{META_VERSION:?}]"
        ));
    }
    if header(METHOD_HEADER) != Some(method) {
        return mismatch(format!(
            "Mcp-Method must be sent and equal the body's method {method:?}"
        ));
    }
    let Some(key) = name_key(method) else {
        return Ok(());
    };
    let Some(body_value) = params.get(key).and_then(Value::as_str) else {
        return Ok(()); // the method's own check names the missing parameter
    };
    match req
        .header(NAME_HEADER)
        .map(|v| decode_header_value(v.trim()))
    {
        None => mismatch(format!(
            "{method} needs an Mcp-Name header equal to params.{key}"
        )),
        Some(None) => mismatch("Mcp-Name is malformed (invalid characters or base64)".into()),
        Some(Some(v)) if v != body_value => mismatch(format!(
            "Mcp-Name {v:?} does not match params.{key} {body_value:?}"
        )),
        Some(Some(_)) => Ok(()),
    }
}

/// A header value as the client meant it: plain visible ASCII as is, or the UTF-8 in
/// a `=?base64?…?=` sentinel. None when the value holds characters a header may not,
/// or its base64 is not canonical.
pub fn decode_header_value(raw: &str) -> Option<String> {
    if !raw.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)) {
        return None;
    }
    let Some(payload) = raw
        .strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="))
    else {
        return Some(raw.to_string());
    };
    let engine = base64::engine::general_purpose::STANDARD;
    let bytes = engine.decode(payload).ok()?;
    if engine.encode(&bytes) != payload {
        return None;
    }
    String::from_utf8(bytes).ok()
}

/// Tool arguments mirrored in `Mcp-Param-{name}` headers (`x-mcp-header`), so a
/// gateway can route or limit by thread without reading bodies. Only 2026-07-28
/// clients are shown the annotation: older ones pass schemas to models as they are.
pub const PARAM_HEADERS: [(&str, &str); 1] = [("topic", "Topic")];

/// Marks the mirrored arguments of a tool definition with `x-mcp-header`.
pub fn annotate(definition: &mut Value) {
    let Some(props) = definition
        .pointer_mut("/inputSchema/properties")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (arg, header) in PARAM_HEADERS {
        if let Some(p) = props.get_mut(arg).and_then(Value::as_object_mut) {
            p.insert("x-mcp-header".into(), json!(header));
        }
    }
}

/// Checks a `tools/call`'s `Mcp-Param-*` headers against its arguments: each
/// mirrored argument the tool takes must come with its header, equal after decoding,
/// and a header must not come without its argument (null counts as absent).
pub fn check_param_headers(
    req: &ApiRequest,
    input_schema: &Value,
    args: &Value,
) -> Result<(), Refusal> {
    for (arg, header) in PARAM_HEADERS {
        if input_schema
            .pointer(&format!("/properties/{arg}"))
            .is_none()
        {
            continue;
        }
        let name = format!("mcp-param-{}", header.to_ascii_lowercase());
        if req.header_count(&name) > 1 {
            return mismatch(format!("Mcp-Param-{header} appears more than once"));
        }
        let sent = req.header(&name).map(|v| decode_header_value(v.trim()));
        let value = match args.get(arg) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(_) => None, // an object or array has no header form: the argument check refuses it
        };
        match (sent, value) {
            (None, None) => {}
            (Some(None), _) => {
                return mismatch(format!(
                    "Mcp-Param-{header} is malformed (invalid characters or base64)"
                ))
            }
            (None, Some(_)) => {
                return mismatch(format!(
                    "arguments.{arg} is sent, so Mcp-Param-{header} must be too"
                ))
            }
            (Some(Some(_)), None) => {
                return mismatch(format!(
                    "Mcp-Param-{header} is sent without arguments.{arg}"
                ))
            }
            (Some(Some(h)), Some(v)) if h != v => {
                return mismatch(format!(
                    "Mcp-Param-{header} {h:?} does not match arguments.{arg} {v:?}"
                ))
            }
            (Some(Some(_)), Some(_)) => {}
        }
    }
    Ok(())
}

/// How long a result may be reused, and by whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheHint {
    /// Milliseconds the result stays fresh.
    pub ttl_ms: u64,
    /// Whether a shared cache may hand it to other callers.
    pub public: bool,
}

/// The caching hints of the methods whose results the revision makes cacheable.
/// Lists of tools depend on the token (read-only tokens see fewer), so they are
/// private; prompts and templates are the same for everyone; threads change at any
/// moment, so they are never fresh.
pub fn cache_hint(method: &str) -> Option<CacheHint> {
    const TEN_MINUTES: u64 = 600_000;
    let (ttl_ms, public) = match method {
        "server/discover" | "resources/templates/list" | "prompts/list" => (TEN_MINUTES, true),
        "tools/list" => (TEN_MINUTES, false),
        "resources/list" | "resources/read" => (0, false),
        _ => return None,
    };
    Some(CacheHint { ttl_ms, public })
}

/// A modern result: `resultType: "complete"`, this server in `_meta`, and the
/// method's caching hints.
pub fn complete(method: &str, result: Value, server_info: &Value) -> Value {
    let mut out = match result {
        Value::Object(m) => m,
        other => Map::from_iter([("value".to_string(), other)]),
    };
    out.insert("resultType".into(), json!("complete"));
    let meta = out.entry("_meta").or_insert_with(|| json!({}));
    if let Some(m) = meta.as_object_mut() {
        m.insert(META_SERVER_INFO.into(), server_info.clone());
    }
    if let Some(hint) = cache_hint(method) {
        out.insert("ttlMs".into(), json!(hint.ttl_ms));
        let scope = if hint.public { "public" } else { "private" };
        out.insert("cacheScope".into(), json!(scope));
    }
    Value::Object(out)
}

/// Why a method is not served in this era: the revision removed it, or this server
/// does not offer it.
pub fn not_served(method: &str) -> String {
    match method {
        "initialize"
        | "ping"
        | "logging/setLevel"
        | "resources/subscribe"
        | "resources/unsubscribe" => format!(
            "{method} is not part of MCP 2026-07-28 (the revision removed it); \
             send requests with params._meta, or use a 2025 revision with initialize"
        ),
        "subscriptions/listen" => "subscriptions/listen is not offered: call the \
             watercooler_wait tool to hear of new entries"
            .into(),
        other => format!("method {other:?} is not supported"),
    }
}

#[cfg(test)]
mod tests;
