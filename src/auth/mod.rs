//! Client tokens. AUTH_TOKENS maps the lowercase hex SHA-256 of each token to who it
//! belongs to; the Worker never stores or logs a token itself.

pub mod access;

use crate::github::{Repo, RepoPattern};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Who a token belongs to and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user tag written into every entry's author, `Agent (user)`.
    pub user: String,
    /// Whether the token has the `write` scope.
    pub can_write: bool,
    /// Agent name used when a request names none.
    pub agent: Option<String>,
    /// The repositories the token opens; `None`: only the default repository.
    pub repos: Option<Vec<RepoPattern>>,
}

impl Principal {
    /// Whether this principal may use `repo`, given the deployment's default.
    pub fn may_use(&self, repo: &Repo, default: &Repo) -> bool {
        match &self.repos {
            Some(patterns) => patterns.iter().any(|p| p.matches(&repo.owner, &repo.name)),
            None => repo == default,
        }
    }
}

/// The parsed AUTH_TOKENS table.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AuthTokens(BTreeMap<String, Principal>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Grant {
    user: String,
    scopes: Vec<String>,
    #[serde(default)]
    agent: Option<String>,
    #[serde(default)]
    repos: Option<Vec<String>>,
}

/// Why a request was not authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    /// No `Authorization` header, or an empty one.
    Missing,
    /// Not a bearer token, or not one in AUTH_TOKENS.
    Invalid,
}

/// Lowercase hex SHA-256 of a token: the form AUTH_TOKENS keys take.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl std::fmt::Debug for AuthTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuthTokens(<{} tokens>)", self.0.len())
    }
}

impl AuthTokens {
    /// Parses and checks the AUTH_TOKENS JSON. Errors never echo a key in full.
    pub fn parse(json: &str) -> Result<AuthTokens, String> {
        let raw: BTreeMap<String, serde_json::Value> = serde_json::from_str(json).map_err(|e| {
            format!("must be a JSON object of sha256-hex keys to {{\"user\", \"scopes\"}} ({e})")
        })?;
        if raw.is_empty() {
            return Err("has no tokens; add at least one".into());
        }
        let mut out = BTreeMap::new();
        for (key, value) in raw {
            let short = key.chars().take(8).collect::<String>();
            if key.len() != 64
                || !key
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return Err(format!(
                    "key {short}… is not a lowercase hex SHA-256 (64 characters)"
                ));
            }
            let grant: Grant = serde_json::from_value(value)
                .map_err(|e| format!("entry {short}…: {e}; expected {{\"user\": \"name\", \"scopes\": [\"read\", \"write\"], \"agent\"?: \"Claude\", \"repos\"?: [\"owner/*\"]}}"))?;
            crate::thread::agent::validate_user(&grant.user)
                .map_err(|why| format!("entry {short}…: user {why}"))?;
            if grant.scopes.is_empty() || grant.scopes.iter().any(|s| s != "read" && s != "write") {
                return Err(format!(
                    "entry {short}…: scopes must be [\"read\"] or [\"read\", \"write\"]"
                ));
            }
            let agent = match grant.agent {
                Some(a) => Some(
                    crate::thread::agent::validate(&a, &grant.user)
                        .map_err(|e| format!("entry {short}…: agent: {e}"))?,
                ),
                None => None,
            };
            let repos = match grant.repos {
                Some(list) if list.is_empty() => {
                    return Err(format!(
                        "entry {short}…: repos is empty; leave it out for the default repository"
                    ))
                }
                Some(list) => Some(
                    list.iter()
                        .map(|p| RepoPattern::parse(p))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| format!("entry {short}…: repos: {e}"))?,
                ),
                None => None,
            };
            let principal = Principal {
                user: grant.user,
                can_write: grant.scopes.iter().any(|s| s == "write"),
                agent,
                repos,
            };
            out.insert(key, principal);
        }
        Ok(AuthTokens(out))
    }

    /// How many tokens the table holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the table holds no tokens.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Authenticates an `Authorization` header value.
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<&Principal, AuthError> {
        self.principal_of(bearer(authorization)?)
    }

    /// The principal of a client token.
    pub fn principal_of(&self, token: &str) -> Result<&Principal, AuthError> {
        self.0.get(&token_hash(token)).ok_or(AuthError::Invalid)
    }
}

/// The token of an `Authorization: Bearer <token>` header value.
pub fn bearer(authorization: Option<&str>) -> Result<&str, AuthError> {
    let header = authorization
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(AuthError::Missing)?;
    let (scheme, token) = header.split_once(' ').ok_or(AuthError::Invalid)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(AuthError::Invalid);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> AuthTokens {
        let json = format!(
            r#"{{"{}": {{"user": "mira", "scopes": ["read", "write"], "agent": "claude"}}, "{}": {{"user": "rob", "scopes": ["read"]}}}}"#,
            token_hash("writer"),
            token_hash("reader")
        );
        AuthTokens::parse(&json).unwrap()
    }

    #[test]
    fn hashes_like_sha256sum() {
        assert_eq!(
            token_hash("test"),
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        );
    }

    #[test]
    fn authenticates_bearer_tokens() {
        let t = tokens();
        let p = t.authenticate(Some("Bearer writer")).unwrap();
        assert_eq!(
            (p.user.as_str(), p.can_write, p.agent.as_deref()),
            ("mira", true, Some("Claude"))
        );
        assert!(!t.authenticate(Some("bearer reader")).unwrap().can_write);
        assert_eq!(t.authenticate(None), Err(AuthError::Missing));
        assert_eq!(t.authenticate(Some("Bearer nope")), Err(AuthError::Invalid));
        assert_eq!(
            t.authenticate(Some("Basic writer")),
            Err(AuthError::Invalid)
        );
        assert_eq!(t.authenticate(Some("Bearer ")), Err(AuthError::Invalid));
    }

    #[test]
    fn a_token_opens_the_default_repository_or_the_ones_it_lists() {
        let json = format!(
            r#"{{"{}": {{"user": "mira", "scopes": ["read"], "repos": ["acme/*"]}}, "{}": {{"user": "rob", "scopes": ["read"]}}}}"#,
            token_hash("wide"),
            token_hash("narrow")
        );
        let t = AuthTokens::parse(&json).unwrap();
        let repo = |o: &str, n: &str| Repo {
            owner: o.into(),
            name: n.into(),
            branch: "main".into(),
        };
        let default = repo("acme", "threads");
        let wide = t.authenticate(Some("Bearer wide")).unwrap();
        let narrow = t.authenticate(Some("Bearer narrow")).unwrap();
        assert!(wide.may_use(&repo("acme", "notes"), &default));
        assert!(!wide.may_use(&repo("team", "notes"), &default));
        assert!(narrow.may_use(&default, &default));
        assert!(!narrow.may_use(&repo("acme", "notes"), &default));
    }

    #[test]
    fn rejects_malformed_tables_without_echoing_keys() {
        let k = token_hash("x");
        for bad in [
            "[]".to_string(),
            "{}".to_string(),
            r#"{"abc": {"user": "a", "scopes": ["read"]}}"#.to_string(),
            format!(r#"{{"{k}": {{"user": "a b", "scopes": ["read"]}}}}"#),
            format!(r#"{{"{k}": {{"user": "a", "scopes": ["admin"]}}}}"#),
            format!(r#"{{"{k}": {{"user": "a", "scopes": []}}}}"#),
            format!(r#"{{"{k}": {{"user": "a"}}}}"#),
            format!(r#"{{"{k}": {{"user": "a", "scopes": ["read"], "repos": []}}}}"#),
            format!(r#"{{"{k}": {{"user": "a", "scopes": ["read"], "repos": ["nope"]}}}}"#),
        ] {
            let e = AuthTokens::parse(&bad).unwrap_err();
            assert!(!e.contains(&k), "{e}");
        }
    }
}
