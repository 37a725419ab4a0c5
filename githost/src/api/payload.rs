//! Request body validation with GitHub's 422 messages.

use serde_json::{Map, Value};

use crate::errors::{ApiError, ApiResult};
use crate::git::Signature;

/// A JSON object body.
pub type Object = Map<String, Value>;

/// Parse the body as a JSON object. An empty body is treated as `{}`.
pub fn parse_object(body: &[u8]) -> ApiResult<Object> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::invalid_request(format!(
            "For 'links/0/schema', {} is not an object.",
            describe(&other)
        ))),
        Err(_) => Err(ApiError::bad_json()),
    }
}

/// How GitHub's validator prints a value in messages (`nil` for null).
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nil".to_string(),
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

/// `Invalid request.\n\n"<key>" wasn't supplied.`
pub fn missing(key: &str) -> ApiError {
    ApiError::invalid_request(format!("\"{key}\" wasn't supplied."))
}

/// `Invalid request.\n\nFor 'properties/<key>', <value> is not a <kind>.`
pub fn wrong_type(key: &str, value: &Value, kind: &str) -> ApiError {
    ApiError::invalid_request(format!(
        "For 'properties/{key}', {} is not a {kind}.",
        describe(value)
    ))
}

/// A required string field.
pub fn required_str(obj: &Object, key: &str) -> ApiResult<String> {
    optional_str(obj, key)?.ok_or_else(|| missing(key))
}

/// An optional string field (`null` is rejected like GitHub does).
pub fn optional_str(obj: &Object, key: &str) -> ApiResult<Option<String>> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(wrong_type(key, other, "string")),
    }
}

/// An optional boolean field.
pub fn optional_bool(obj: &Object, key: &str) -> ApiResult<Option<bool>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(wrong_type(key, other, "boolean")),
    }
}

/// An optional identity object `{name, email, date?}`.
pub fn identity(obj: &Object, key: &str) -> ApiResult<Option<Signature>> {
    let value = match obj.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(map)) => map,
        Some(other) => return Err(wrong_type(key, other, "object")),
    };
    let name = required_str(value, "name")?;
    let email = required_str(value, "email")?;
    let date = optional_str(value, "date")?;
    Ok(Some(Signature { name, email, date }))
}

/// Author and committer for a new commit: each defaults to the other, then to
/// `fallback` (the caller's identity, see [`super::Ctx::commit_identity`]).
pub fn author_committer(obj: &Object, fallback: &Signature) -> ApiResult<(Signature, Signature)> {
    let author = identity(obj, "author")?;
    let committer = identity(obj, "committer")?;
    Ok(match (author, committer) {
        (Some(a), Some(c)) => (a, c),
        (Some(a), None) => (a, fallback.clone()),
        (None, Some(c)) => (c.clone(), c),
        (None, None) => (fallback.clone(), fallback.clone()),
    })
}

/// Validate a repository path: non-empty components, no `.`/`..`/`.git`.
pub fn valid_repo_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|c| {
            !c.is_empty()
                && c != "."
                && c != ".."
                && !c.eq_ignore_ascii_case(".git")
                && !c.contains('\0')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Object {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn messages() {
        let o = obj(json!({"sha": null, "n": 5}));
        assert_eq!(
            optional_str(&o, "sha").unwrap_err().message,
            "Invalid request.\n\nFor 'properties/sha', nil is not a string."
        );
        assert_eq!(
            required_str(&o, "message").unwrap_err().message,
            "Invalid request.\n\n\"message\" wasn't supplied."
        );
        assert_eq!(
            optional_str(&o, "n").unwrap_err().message,
            "Invalid request.\n\nFor 'properties/n', 5 is not a string."
        );
        assert!(parse_object(b"{").is_err());
        assert!(parse_object(b"").unwrap().is_empty());
    }

    #[test]
    fn paths() {
        assert!(valid_repo_path("threads/x.md"));
        assert!(!valid_repo_path("a//b"));
        assert!(!valid_repo_path("../x"));
        assert!(!valid_repo_path(".git/config"));
    }
}
