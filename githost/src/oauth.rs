//! "Sign in with GitHub" (the OAuth web flow): `GET /login/oauth/authorize`
//! approves at once and redirects back with a code; `POST
//! /login/oauth/access_token` exchanges the code for a `gho_` user token.
//!
//! These stand for github.com pages: no `User-Agent` or token is required,
//! and they are not counted in the stats (nor delayed, faulted or paced).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value};

use crate::encoding::{encode_form, parse_form};
use crate::errors::ApiError;
use crate::grants::{OAuthCode, UserGrant, CODE_TTL_SECS};
use crate::state::{lock, now_secs, AppState, SharedState};

/// Where GitHub documents the token request errors.
const ERRORS_DOC: &str = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors";

/// Routes of the OAuth web flow.
pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/login/oauth/authorize", get(authorize))
        .route("/login/oauth/access_token", post(access_token))
}

/// A failed code exchange, answered with status 200 as GitHub does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeError {
    /// The code is unknown, used, expired or was issued to another client.
    BadVerificationCode,
    /// The client id or secret is wrong.
    IncorrectClientCredentials,
    /// The redirect URI differs from the one given at authorization.
    RedirectUriMismatch,
}

impl ExchangeError {
    /// The `error` field.
    pub fn code(self) -> &'static str {
        match self {
            ExchangeError::BadVerificationCode => "bad_verification_code",
            ExchangeError::IncorrectClientCredentials => "incorrect_client_credentials",
            ExchangeError::RedirectUriMismatch => "redirect_uri_mismatch",
        }
    }

    /// The `error_description` field.
    pub fn description(self) -> &'static str {
        match self {
            ExchangeError::BadVerificationCode => "The code passed is incorrect or expired.",
            ExchangeError::IncorrectClientCredentials => {
                "The client_id and/or client_secret passed are incorrect."
            }
            ExchangeError::RedirectUriMismatch => {
                "The redirect_uri MUST match the registered callback URL for this application."
            }
        }
    }

    /// The `error_uri` field.
    pub fn uri(self) -> String {
        format!("{ERRORS_DOC}/#{}", self.code().replace('_', "-"))
    }
}

/// Query or form parameters by name (the last occurrence wins).
fn params(text: &str) -> HashMap<String, String> {
    parse_form(text).into_iter().collect()
}

/// Append `query` to `uri`, keeping its own query and fragment.
pub fn append_query(uri: &str, query: &str) -> String {
    let (base, fragment) = match uri.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (uri, None),
    };
    let separator = match base.find('?') {
        None => "?",
        Some(_) if base.ends_with('?') || base.ends_with('&') => "",
        Some(_) => "&",
    };
    let mut out = format!("{base}{separator}{query}");
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// `GET /login/oauth/authorize?client_id=&redirect_uri=&state=&scope=&login=`:
/// sign in as `login` (when a known user) or the dev user, and redirect (302)
/// to `redirect_uri` with `code` and `state` added.
async fn authorize(State(state): State<SharedState>, RawQuery(query): RawQuery) -> Response {
    let params = params(query.as_deref().unwrap_or(""));
    let client_id = params.get("client_id").cloned().unwrap_or_default();
    if let Some(expected) = &state.identity.oauth_client_id {
        if client_id != *expected {
            return ApiError::not_found().into_response();
        }
    }
    let Some(redirect_uri) = params.get("redirect_uri").filter(|u| !u.is_empty()) else {
        return ApiError::new(StatusCode::BAD_REQUEST, "redirect_uri is required").into_response();
    };
    let login = params
        .get("login")
        .and_then(|l| lock(&state.users).login(l).map(str::to_string))
        .unwrap_or_else(|| state.identity.dev_user.clone());
    let scope = params
        .get("scope")
        .map(|s| {
            let parts: Vec<&str> = s.split([' ', ',']).filter(|p| !p.is_empty()).collect();
            parts.join(",")
        })
        .unwrap_or_default();
    let now = now_secs();
    let code = OAuthCode {
        client_id,
        redirect_uri: redirect_uri.clone(),
        login,
        scope,
        expires_at: now + CODE_TTL_SECS,
    };
    let code = lock(&state.grants).issue_code(code, now);
    let mut added = vec![("code", code.as_str())];
    if let Some(s) = params.get("state") {
        added.push(("state", s.as_str()));
    }
    let location = append_query(redirect_uri, &encode_form(&added));
    let Ok(location) = HeaderValue::from_str(&location) else {
        return ApiError::new(StatusCode::BAD_REQUEST, "redirect_uri is not a valid URL")
            .into_response();
    };
    let mut response = StatusCode::FOUND.into_response();
    response.headers_mut().insert(LOCATION, location);
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Parameters of a token request: the query string, then the body (JSON or
/// form-encoded), later ones winning.
fn token_request_params(
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
) -> HashMap<String, String> {
    let mut all = params(query.unwrap_or(""));
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if is_json {
        if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
            for (k, v) in map {
                let text = match v {
                    Value::String(s) => s,
                    Value::Null => continue,
                    other => other.to_string(),
                };
                all.insert(k, text);
            }
        }
    } else {
        all.extend(params(&String::from_utf8_lossy(body)));
    }
    all
}

/// Check a token request and, when it is good, use up its code and issue a
/// user token. Returns the token and its scope.
pub fn exchange(
    state: &AppState,
    params: &HashMap<String, String>,
    now: u64,
) -> Result<(String, String), ExchangeError> {
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    let client_id = get("client_id");
    let wrong =
        |expected: &Option<String>, given: &str| expected.as_deref().is_some_and(|e| e != given);
    if wrong(&state.identity.oauth_client_id, client_id)
        || wrong(&state.identity.oauth_client_secret, get("client_secret"))
    {
        return Err(ExchangeError::IncorrectClientCredentials);
    }
    let mut grants = lock(&state.grants);
    let code = grants
        .code(get("code"), now)
        .filter(|c| c.client_id.is_empty() || client_id.is_empty() || c.client_id == client_id)
        .ok_or(ExchangeError::BadVerificationCode)?;
    let redirect_uri = get("redirect_uri");
    if !redirect_uri.is_empty() && redirect_uri != code.redirect_uri {
        return Err(ExchangeError::RedirectUriMismatch);
    }
    grants.remove_code(get("code"));
    let token = grants.issue_user_token(UserGrant {
        login: code.login,
        scope: code.scope.clone(),
    });
    Ok((token, code.scope))
}

/// `POST /login/oauth/access_token`: JSON with `Accept: application/json`,
/// otherwise form-encoded; errors are answered with status 200.
async fn access_token(
    State(state): State<SharedState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let params = token_request_params(&headers, query.as_deref(), &body);
    let fields: Vec<(&str, String)> = match exchange(&state, &params, now_secs()) {
        Ok((token, scope)) => vec![
            ("access_token", token),
            ("token_type", "bearer".to_string()),
            ("scope", scope),
        ],
        Err(e) => vec![
            ("error", e.code().to_string()),
            ("error_description", e.description().to_string()),
            ("error_uri", e.uri()),
        ],
    };
    let wants_json = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("json"));
    if wants_json {
        let map: Map<String, Value> = fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::String(v)))
            .collect();
        return Json(Value::Object(map)).into_response();
    }
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut response = encode_form(&pairs).into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_to_redirect_uris() {
        assert_eq!(append_query("http://a/cb", "code=1"), "http://a/cb?code=1");
        assert_eq!(
            append_query("http://a/cb?x=1", "code=1"),
            "http://a/cb?x=1&code=1"
        );
        assert_eq!(append_query("http://a/cb?", "code=1"), "http://a/cb?code=1");
        assert_eq!(
            append_query("http://a/cb#top", "code=1"),
            "http://a/cb?code=1#top"
        );
        assert_eq!(
            append_query("http://a/cb?x=1&#f", "code=1"),
            "http://a/cb?x=1&code=1#f"
        );
    }

    #[test]
    fn error_fields() {
        let e = ExchangeError::BadVerificationCode;
        assert_eq!(e.code(), "bad_verification_code");
        assert!(e.uri().ends_with("#bad-verification-code"));
    }
}
