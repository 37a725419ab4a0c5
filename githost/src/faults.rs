//! Scripted failures injected into GitHub routes (`/_githost/faults`).

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::errors::{error_body, DOC_ROOT};

/// Response extension asking the server to close the connection without answering.
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

/// When the fault applies relative to the real operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FaultMode {
    /// Answer with the fault instead of performing the operation.
    #[default]
    Before,
    /// Perform the operation, then answer with the fault (a lost response).
    After,
}

/// The body of `POST /_githost/faults`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// HTTP method to match (any when absent).
    pub method: Option<String>,
    /// Route name to match, e.g. `contents`, `git/refs` (or `PUT contents`).
    pub route: Option<String>,
    /// Substring of the request path to match.
    pub path_contains: Option<String>,
    /// Status to answer; 0 means drop the connection.
    pub status: Option<u16>,
    /// Full JSON body to answer.
    pub body: Option<Value>,
    /// Message wrapped into GitHub's error body (when no `body`).
    pub message: Option<String>,
    /// Extra response headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// How many matching requests get the fault (default 1; 0 = unlimited).
    pub times: Option<u32>,
    /// Let this many matching requests through first.
    pub after: Option<u32>,
    /// `before` (default) or `after`.
    pub mode: Option<FaultMode>,
    /// Close the connection without an answer.
    pub drop: Option<bool>,
    /// Hold the answer this long (a hung GitHub): before the operation in mode
    /// `before`, after it in mode `after`. Without a status, the real answer follows.
    pub delay_ms: Option<u64>,
}

/// A queued fault.
#[derive(Debug, Clone, Serialize)]
pub struct Fault {
    /// Identifier (for listing).
    pub id: u64,
    /// Method matcher.
    pub method: Option<String>,
    /// Route matcher.
    pub route: Option<String>,
    /// Path substring matcher.
    pub path_contains: Option<String>,
    /// Status answered (0 when dropping).
    pub status: u16,
    /// Explicit JSON body.
    pub body: Option<Value>,
    /// Message for the GitHub error body.
    pub message: Option<String>,
    /// Extra headers.
    pub headers: BTreeMap<String, String>,
    /// Remaining uses (0 = unlimited).
    pub times: u32,
    /// Matching requests still to let through before the fault applies.
    pub after: u32,
    /// Before or after the real operation.
    pub mode: FaultMode,
    /// Whether the connection is dropped.
    pub drop: bool,
    /// How long the answer is held.
    pub delay_ms: u64,
    /// Only a delay: the real operation answers.
    pub delay_only: bool,
}

/// Ordered list of pending faults.
#[derive(Debug, Default)]
pub struct FaultQueue {
    next_id: u64,
    faults: Vec<Fault>,
}

impl FaultQueue {
    /// Validate and queue a fault.
    pub fn add(&mut self, spec: FaultSpec) -> Result<Fault, String> {
        let drop = spec.drop.unwrap_or(false) || spec.status == Some(0);
        let delay_ms = spec.delay_ms.unwrap_or(0);
        let delay_only = !drop && spec.status.is_none() && delay_ms > 0;
        let status = match spec.status {
            _ if drop || delay_only => 0,
            None => {
                return Err(
                    "\"status\" is required (or \"drop\": true, or \"delay_ms\")".to_string(),
                )
            }
            Some(s) if (200..=599).contains(&s) => s,
            Some(s) => return Err(format!("invalid status {s}")),
        };
        for (name, value) in &spec.headers {
            HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("invalid header name {name:?}"))?;
            HeaderValue::from_str(value).map_err(|_| format!("invalid header value {value:?}"))?;
        }
        self.next_id += 1;
        let fault = Fault {
            id: self.next_id,
            method: spec.method.map(|m| m.to_ascii_uppercase()),
            route: spec.route,
            path_contains: spec.path_contains,
            status,
            body: spec.body,
            message: spec.message,
            headers: spec.headers,
            times: spec.times.unwrap_or(1),
            after: spec.after.unwrap_or(0),
            mode: spec.mode.unwrap_or_default(),
            drop,
            delay_ms,
            delay_only,
        };
        self.faults.push(fault.clone());
        Ok(fault)
    }

    /// Pending faults.
    pub fn list(&self) -> Vec<Fault> {
        self.faults.clone()
    }

    /// Remove every fault; returns how many there were.
    pub fn clear(&mut self) -> usize {
        let n = self.faults.len();
        self.faults.clear();
        n
    }

    /// Find the first fault matching a request and consume one use of it.
    /// Faults still in their `after` phase count the request and let it pass.
    pub fn take(&mut self, method: &str, route: &str, path: &str) -> Option<Fault> {
        let mut hit = None;
        for (i, fault) in self.faults.iter_mut().enumerate() {
            if !fault.matches(method, route, path) {
                continue;
            }
            if fault.after > 0 {
                fault.after -= 1;
                continue;
            }
            hit = Some(i);
            break;
        }
        let i = hit?;
        let fault = self.faults[i].clone();
        if self.faults[i].times == 1 {
            self.faults.remove(i);
        } else if self.faults[i].times > 1 {
            self.faults[i].times -= 1;
        }
        Some(fault)
    }
}

impl Fault {
    fn matches(&self, method: &str, route: &str, path: &str) -> bool {
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method));
        let route_ok = self.route.as_deref().is_none_or(|r| {
            r == route || r.strip_prefix('/') == Some(route) || r == format!("{method} {route}")
        });
        let path_ok = self
            .path_contains
            .as_deref()
            .is_none_or(|p| path.contains(p));
        method_ok && route_ok && path_ok
    }

    /// The response this fault answers with. A dropped connection is an empty
    /// 502 carrying [`DropConnection`]; the TCP server closes the connection
    /// instead of sending it.
    pub fn response(&self) -> Response {
        let mut response = if self.drop {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::BAD_GATEWAY;
            r.extensions_mut().insert(DropConnection);
            r
        } else {
            let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_GATEWAY);
            if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
                status.into_response()
            } else {
                let body = match (&self.body, &self.message) {
                    (Some(body), _) => body.clone(),
                    (None, Some(message)) => error_body(self.status, message, DOC_ROOT),
                    (None, None) => error_body(
                        self.status,
                        status.canonical_reason().unwrap_or("Error"),
                        DOC_ROOT,
                    ),
                };
                (status, Json(body)).into_response()
            }
        };
        for (name, value) in &self.headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                response.headers_mut().insert(n, v);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> FaultSpec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn after_and_times() {
        let mut q = FaultQueue::default();
        q.add(spec(
            r#"{"method":"put","route":"contents","status":409,"times":2,"after":1}"#,
        ))
        .unwrap();
        assert!(q.take("GET", "contents", "/x").is_none());
        assert!(q.take("PUT", "contents", "/x").is_none());
        assert_eq!(q.take("PUT", "contents", "/x").map(|f| f.status), Some(409));
        assert_eq!(q.take("PUT", "contents", "/x").map(|f| f.status), Some(409));
        assert!(q.take("PUT", "contents", "/x").is_none());
        assert!(q.list().is_empty());
    }

    #[test]
    fn validation() {
        let mut q = FaultQueue::default();
        assert!(q.add(spec(r#"{}"#)).is_err());
        assert!(q.add(spec(r#"{"status":99}"#)).is_err());
        assert!(q.add(spec(r#"{"status":0}"#)).unwrap().drop);
        assert!(q.add(spec(r#"{"drop":true}"#)).unwrap().drop);
    }
}
