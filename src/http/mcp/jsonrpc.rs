//! JSON-RPC 2.0 messages as MCP uses them: one message per HTTP request.

use serde_json::{json, Value};

/// JSON-RPC error code: the body is not valid JSON.
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC error code: the message is not a valid request.
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC error code: no such method.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// JSON-RPC error code: the parameters are wrong.
pub const INVALID_PARAMS: i64 = -32602;
/// MCP's "resource not found" of the 2025 revisions (2026-07-28 uses -32602).
pub const RESOURCE_NOT_FOUND: i64 = -32002;
/// The server failed (GitHub, the writer) while answering.
pub const INTERNAL_ERROR: i64 = -32603;

/// One incoming message, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// Has an id: needs an answer.
    Request {
        /// The request's id, echoed in the answer.
        id: Value,
        /// The method named.
        method: String,
        /// The parameters: an object, or null when absent.
        params: Value,
    },
    /// No id: answered with 202 and no body.
    Notification {
        /// The method named.
        method: String,
    },
    /// A client's answer to a server request: also 202.
    Response,
}

/// A message that is not valid JSON-RPC: the error to answer, with the id if readable.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    /// The message's id, or null when it has no valid one.
    pub id: Value,
    /// What is wrong with the message.
    pub message: String,
}

fn valid_id(id: &Value) -> bool {
    id.is_string() || id.as_i64().is_some() || id.as_u64().is_some()
}

/// Classifies a parsed JSON value.
pub fn classify(v: &Value) -> Result<Message, Invalid> {
    let invalid = |id: Value, message: &str| Invalid {
        id,
        message: message.to_string(),
    };
    let Some(obj) = v.as_object() else {
        return Err(invalid(Value::Null, "a JSON-RPC message must be an object"));
    };
    let id = obj.get("id").cloned();
    let shown_id = id.clone().filter(valid_id).unwrap_or(Value::Null);
    if obj.get("jsonrpc") != Some(&json!("2.0")) {
        return Err(invalid(shown_id, "\"jsonrpc\" must be \"2.0\""));
    }
    if obj.contains_key("result") || obj.contains_key("error") {
        return Ok(Message::Response);
    }
    let Some(method) = obj.get("method").and_then(Value::as_str) else {
        return Err(invalid(shown_id, "\"method\" must be a string"));
    };
    let params = obj.get("params").cloned().unwrap_or(Value::Null);
    if !(params.is_null() || params.is_object()) {
        return Err(invalid(shown_id, "\"params\" must be an object"));
    }
    match id {
        None => Ok(Message::Notification {
            method: method.to_string(),
        }),
        Some(id) if valid_id(&id) => Ok(Message::Request {
            id,
            method: method.to_string(),
            params,
        }),
        Some(_) => Err(invalid(
            Value::Null,
            "\"id\" must be a string or an integer",
        )),
    }
}

/// A success response to request `id`.
pub fn result(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// An error response to request `id`.
pub fn error(id: &Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_messages() {
        assert!(matches!(
            classify(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"})),
            Ok(Message::Request { .. })
        ));
        assert!(matches!(
            classify(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"})),
            Ok(Message::Notification { .. })
        ));
        assert_eq!(
            classify(&json!({"jsonrpc": "2.0", "id": 1, "result": {}})),
            Ok(Message::Response)
        );
        assert!(classify(&json!({"jsonrpc": "1.0", "id": 1, "method": "x"})).is_err());
        assert!(classify(&json!({"jsonrpc": "2.0", "id": null, "method": "x"})).is_err());
        assert!(classify(&json!({"jsonrpc": "2.0", "id": 1.5, "method": "x"})).is_err());
        assert_eq!(
            classify(&json!({"jsonrpc": "2.0", "id": "a", "method": 3}))
                .unwrap_err()
                .id,
            json!("a")
        );
        assert!(
            classify(&json!({"jsonrpc": "2.0", "id": 1, "method": "x", "params": [1]})).is_err()
        );
    }
}
