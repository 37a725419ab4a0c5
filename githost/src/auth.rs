//! GitHub-route access rules: a `User-Agent` is required, then a bearer token.

use axum::http::header::{AUTHORIZATION, USER_AGENT};
use axum::http::{HeaderMap, StatusCode};
use sha2::{Digest, Sha256};

use crate::encoding::hex;
use crate::errors::ApiError;

/// Message GitHub answers when the `User-Agent` header is missing.
pub const NO_USER_AGENT: &str = "Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.";

/// Extract the token from `Authorization: Bearer <t>` or `Authorization: token <t>`.
pub fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    let scheme_ok = scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token");
    (scheme_ok && !token.is_empty()).then(|| token.to_string())
}

/// 401 `Bad credentials`.
pub fn bad_credentials() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "Bad credentials")
}

/// Check the request headers; on success returns the token.
pub fn check(headers: &HeaderMap, accepted: &[String]) -> Result<String, ApiError> {
    let token = require_token(headers)?;
    if !accepted.is_empty() && !accepted.contains(&token) {
        return Err(bad_credentials());
    }
    Ok(token)
}

/// Require a `User-Agent` (else 403) and a bearer token (else 401 `Requires
/// authentication`); returns the token, whatever it is.
pub fn require_token(headers: &HeaderMap) -> Result<String, ApiError> {
    let has_agent = headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.trim().is_empty());
    if !has_agent {
        return Err(ApiError::new(StatusCode::FORBIDDEN, NO_USER_AGENT));
    }
    bearer_token(headers)
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "Requires authentication"))
}

/// An opaque per-token key (so raw tokens are never kept as map keys).
pub fn token_key(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// The weak ETag for `object_sha` as seen by `token`:
/// `W/"<sha256(token + ":" + object_sha)>"`.
pub fn etag(token: &str, object_sha: &str) -> String {
    let digest = Sha256::digest(format!("{token}:{object_sha}").as_bytes());
    format!("W/\"{}\"", hex(&digest))
}

/// Whether an `If-None-Match` header value matches `etag` (weak comparison,
/// comma-separated lists and `*` accepted).
pub fn if_none_match(header: &str, etag: &str) -> bool {
    let strip = |t: &str| {
        let t = t.trim();
        let t = t.strip_prefix("W/").unwrap_or(t);
        t.trim_matches('"').to_string()
    };
    let wanted = strip(etag);
    header
        .split(',')
        .map(strip)
        .any(|candidate| candidate == "*" || candidate == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn tokens() {
        let mut h = HeaderMap::new();
        assert_eq!(check(&h, &[]).unwrap_err().status, StatusCode::FORBIDDEN);
        h.insert(USER_AGENT, HeaderValue::from_static("t"));
        assert_eq!(
            check(&h, &[]).unwrap_err().message,
            "Requires authentication"
        );
        h.insert(AUTHORIZATION, HeaderValue::from_static("token abc"));
        assert_eq!(check(&h, &[]).unwrap(), "abc");
        assert_eq!(
            check(&h, &["x".to_string()]).unwrap_err().message,
            "Bad credentials"
        );
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        assert_eq!(check(&h, &["x".to_string()]).unwrap(), "x");
    }

    #[test]
    fn etags() {
        let e = etag("tok", "abc");
        assert!(e.starts_with("W/\"") && e.len() == 64 + 4);
        assert!(if_none_match(&e, &e));
        assert!(if_none_match(&format!("\"zzz\", {}", &e[2..]), &e));
        assert!(!if_none_match("W/\"nope\"", &e));
        assert_ne!(etag("other", "abc"), e);
    }
}
