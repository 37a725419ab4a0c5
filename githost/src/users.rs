//! The users githost knows (who can sign in through OAuth) and their
//! permission on repositories.
//!
//! The configuration is JSON: logins mapped to rules, each rule mapping
//! `owner/name`, `owner/*` or `*` to a role (`admin`, `maintain`, `write`,
//! `triage`, `read`, `none`). The most specific rule wins: the exact
//! repository, then the owner, then `*`; no matching rule means `none`.
//! Logins, owners and repository names match case-insensitively.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// Users when `--users` is not given.
pub const DEFAULT_USERS: &str = r#"{"alice": {"*": "write"}, "bob": {"*": "read"}}"#;

/// A role on a repository, from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Everything.
    Admin,
    /// Push and manage without admin rights.
    Maintain,
    /// Push.
    Write,
    /// Manage issues without push.
    Triage,
    /// Pull.
    Read,
    /// No access.
    None,
}

impl Role {
    /// Parse a role name.
    pub fn parse(name: &str) -> Option<Role> {
        Some(match name {
            "admin" => Role::Admin,
            "maintain" => Role::Maintain,
            "write" => Role::Write,
            "triage" => Role::Triage,
            "read" => Role::Read,
            "none" => Role::None,
            _ => return None,
        })
    }

    /// The role's name (GitHub's `role_name`).
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Maintain => "maintain",
            Role::Write => "write",
            Role::Triage => "triage",
            Role::Read => "read",
            Role::None => "none",
        }
    }

    /// The coarse `permission` GitHub reports: maintain counts as write,
    /// triage as read.
    pub fn permission(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Maintain | Role::Write => "write",
            Role::Triage | Role::Read => "read",
            Role::None => "none",
        }
    }

    /// `{"admin", "maintain", "push", "triage", "pull"}` booleans.
    pub fn flags(self) -> Value {
        json!({
            "admin": self <= Role::Admin,
            "maintain": self <= Role::Maintain,
            "push": self <= Role::Write,
            "triage": self <= Role::Triage,
            "pull": self <= Role::Read,
        })
    }
}

/// The users configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Users {
    /// Login (as written) → pattern → role.
    rules: BTreeMap<String, BTreeMap<String, Role>>,
}

impl Default for Users {
    fn default() -> Self {
        match Users::parse(DEFAULT_USERS) {
            Ok(users) => users,
            Err(_) => Users {
                rules: BTreeMap::new(),
            },
        }
    }
}

/// Whether `pattern` is `*`, `owner/*` or `owner/name`.
fn valid_pattern(pattern: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.split_once('/') {
        Some((owner, name)) => {
            !owner.is_empty()
                && !owner.contains('*')
                && !name.is_empty()
                && !name.contains('/')
                && (name == "*" || !name.contains('*'))
        }
        None => false,
    }
}

/// Parse one user's rules.
fn parse_rules(login: &str, value: &Value) -> Result<BTreeMap<String, Role>, String> {
    let Value::Object(map) = value else {
        return Err(format!(
            "users.{login} must be an object of pattern -> role"
        ));
    };
    let mut rules = BTreeMap::new();
    for (pattern, role) in map {
        if !valid_pattern(pattern) {
            return Err(format!(
                "users.{login}: {pattern:?} is not \"owner/name\", \"owner/*\" or \"*\""
            ));
        }
        let role = role.as_str().and_then(Role::parse).ok_or_else(|| {
            format!("users.{login}.{pattern}: the role must be one of admin, maintain, write, triage, read, none")
        })?;
        rules.insert(pattern.to_ascii_lowercase(), role);
    }
    Ok(rules)
}

impl Users {
    /// Parse the JSON configuration text.
    pub fn parse(text: &str) -> Result<Users, String> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("users: invalid JSON: {e}"))?;
        Users::from_json(&value)
    }

    /// Build from a parsed JSON configuration.
    pub fn from_json(value: &Value) -> Result<Users, String> {
        let Value::Object(map) = value else {
            return Err("users must be a JSON object of login -> rules".to_string());
        };
        let mut rules = BTreeMap::new();
        for (login, value) in map {
            if login.is_empty() || !crate::state::valid_name(login) {
                return Err(format!("users: {login:?} is not a valid login"));
            }
            rules.insert(login.clone(), parse_rules(login, value)?);
        }
        Ok(Users { rules })
    }

    /// The configuration as JSON (patterns lower-cased).
    pub fn to_json(&self) -> Value {
        let map: Map<String, Value> = self
            .rules
            .iter()
            .map(|(login, rules)| {
                let rules: Map<String, Value> = rules
                    .iter()
                    .map(|(p, r)| (p.clone(), json!(r.name())))
                    .collect();
                (login.clone(), Value::Object(rules))
            })
            .collect();
        Value::Object(map)
    }

    /// The login as configured, if `login` is a known user (case-insensitive).
    pub fn login(&self, login: &str) -> Option<&str> {
        self.rules
            .keys()
            .find(|known| known.eq_ignore_ascii_case(login))
            .map(String::as_str)
    }

    /// The role of `login` on `owner/repo`; `None` when the user is unknown.
    pub fn role(&self, login: &str, owner: &str, repo: &str) -> Option<Role> {
        let known = self.login(login)?;
        let rules = self.rules.get(known)?;
        let owner = owner.to_ascii_lowercase();
        let exact = format!("{owner}/{}", repo.to_ascii_lowercase());
        let role = [exact, format!("{owner}/*"), "*".to_string()]
            .iter()
            .find_map(|pattern| rules.get(pattern).copied())
            .unwrap_or(Role::None);
        Some(role)
    }
}

/// A stable numeric id for `login` (the same on every run).
pub fn user_id(login: &str) -> u64 {
    let digest = Sha256::digest(format!("user:{}", login.to_ascii_lowercase()).as_bytes());
    let n = digest
        .iter()
        .take(4)
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    n % 900_000_000 + 100_000
}

/// A user as GitHub renders one (`GET /user`, collaborator answers).
pub fn user_json(base_url: &str, login: &str) -> Value {
    let id = user_id(login);
    json!({
        "login": login,
        "id": id,
        "node_id": format!("U_{id}"),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "gravatar_id": "",
        "url": format!("{base_url}/users/{login}"),
        "html_url": format!("{base_url}/{login}"),
        "type": "User",
        "user_view_type": "public",
        "site_admin": false,
        "name": login,
        "email": null,
    })
}

/// The identity of a user's commits: login and `<id>+<login>@users.noreply.github.com`.
pub fn user_signature(login: &str) -> crate::git::Signature {
    crate::git::Signature {
        name: login.to_string(),
        email: format!("{}+{login}@users.noreply.github.com", user_id(login)),
        date: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let users = Users::default();
        assert_eq!(users.role("alice", "o", "r"), Some(Role::Write));
        assert_eq!(users.role("Bob", "o", "r"), Some(Role::Read));
        assert_eq!(users.role("carol", "o", "r"), None);
        assert_eq!(users.login("ALICE"), Some("alice"));
    }

    #[test]
    fn most_specific_rule_wins() {
        let users = Users::parse(
            r#"{"bob": {"*": "read", "acme/*": "triage", "acme/secret": "none", "Acme/Main": "maintain"},
                "dan": {"x/y": "admin"}}"#,
        )
        .unwrap();
        assert_eq!(users.role("bob", "other", "r"), Some(Role::Read));
        assert_eq!(users.role("bob", "acme", "r"), Some(Role::Triage));
        assert_eq!(users.role("bob", "ACME", "secret"), Some(Role::None));
        assert_eq!(users.role("bob", "acme", "main"), Some(Role::Maintain));
        assert_eq!(users.role("dan", "x", "z"), Some(Role::None));
        assert_eq!(users.to_json()["bob"]["acme/main"], "maintain");
    }

    #[test]
    fn roles() {
        assert_eq!(Role::Maintain.permission(), "write");
        assert_eq!(Role::Triage.permission(), "read");
        assert_eq!(
            Role::Write.flags(),
            json!({"admin": false, "maintain": false, "push": true, "triage": true, "pull": true})
        );
        assert_eq!(Role::None.flags()["pull"], false);
        assert_eq!(Role::Admin.flags()["admin"], true);
    }

    #[test]
    fn invalid_configs() {
        for bad in [
            "[]",
            "{",
            r#"{"a": "write"}"#,
            r#"{"a": {"*": "owner"}}"#,
            r#"{"a": {"acme": "read"}}"#,
            r#"{"a": {"*/x": "read"}}"#,
            r#"{"a b": {"*": "read"}}"#,
        ] {
            assert!(Users::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_are_stable() {
        assert_eq!(user_id("alice"), user_id("Alice"));
        assert_ne!(user_id("alice"), user_id("bob"));
        assert_eq!(user_json("http://h", "alice")["id"], user_id("alice"));
    }
}
