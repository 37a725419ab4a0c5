//! MCP resources: `watercooler://instructions` (how agents use threads, the ball and
//! waiting) and one resource per thread, `watercooler://threads/{topic}` (also a
//! resource template), read as the markdown file with pending writes applied.

use super::paging::{decode_cursor, encode_cursor};
use super::{instructions, jsonrpc};
use crate::service::{Effects, ErrorCode, Service};
use serde_json::{json, Value};

/// The instructions resource.
const INSTRUCTIONS: &str = "watercooler://instructions";
/// Thread resources: this prefix and the topic.
const THREAD_PREFIX: &str = "watercooler://threads/";
/// Resources per `resources/list` page.
const PAGE: usize = 50;

type RpcResult = Result<Value, (i64, String)>;

fn failed(e: crate::service::ServiceError) -> (i64, String) {
    (jsonrpc::INTERNAL_ERROR, e.message)
}

/// `resources/list`: the instructions, then every thread, a page at a time.
pub async fn list<E: Effects>(app: &Service<'_, E>, params: &Value) -> RpcResult {
    let offset = match params.get("cursor").and_then(Value::as_str) {
        None => 0,
        Some(c) => decode_cursor(c).ok_or((
            jsonrpc::INVALID_PARAMS,
            "invalid cursor: send the nextCursor of the previous page, or none".to_string(),
        ))?,
    };
    let mut all = vec![json!({
        "uri": INSTRUCTIONS,
        "name": "instructions",
        "title": "How agents use watercooler threads",
        "mimeType": "text/markdown",
    })];
    let threads = app.list().await.map_err(failed)?.threads;
    all.extend(threads.iter().map(|t| {
        json!({
            "uri": format!("{THREAD_PREFIX}{}", t.topic),
            "name": t.topic,
            "title": format!("{} [{}] ball: {}", t.topic, t.status, t.ball),
            "mimeType": "text/markdown",
        })
    }));
    let next = (offset + PAGE < all.len()).then(|| encode_cursor(offset + PAGE));
    let page: Vec<Value> = all.into_iter().skip(offset).take(PAGE).collect();
    let mut out = json!({ "resources": page });
    if let Some(n) = next {
        out["nextCursor"] = json!(n);
    }
    Ok(out)
}

/// `resources/templates/list`: the thread template.
pub fn templates() -> Value {
    json!({"resourceTemplates": [{
        "uriTemplate": format!("{THREAD_PREFIX}{{topic}}"),
        "name": "thread",
        "title": "A watercooler thread, as markdown",
        "mimeType": "text/markdown",
    }]})
}

/// `resources/read`.
pub async fn read<E: Effects>(app: &Service<'_, E>, params: &Value) -> RpcResult {
    let uri = params.get("uri").and_then(Value::as_str).ok_or((
        jsonrpc::INVALID_PARAMS,
        "resources/read needs a \"uri\"".to_string(),
    ))?;
    let not_found = || {
        (
            jsonrpc::RESOURCE_NOT_FOUND,
            format!("resource not found: {uri}; call resources/list"),
        )
    };
    let text = if uri == INSTRUCTIONS {
        instructions()
    } else {
        let topic = uri.strip_prefix(THREAD_PREFIX).ok_or_else(not_found)?;
        match app.view(topic).await {
            Ok(view) => view.content,
            Err(e)
                if matches!(
                    e.code,
                    ErrorCode::ThreadNotFound | ErrorCode::InvalidTopic | ErrorCode::NotAThread
                ) =>
            {
                return Err(not_found())
            }
            Err(e) => return Err(failed(e)),
        }
    };
    Ok(json!({"contents": [{"uri": uri, "mimeType": "text/markdown", "text": text}]}))
}
