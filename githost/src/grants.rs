//! Credentials githost issues and remembers: installation tokens (`ghs_`),
//! OAuth authorization codes and user tokens (`gho_`). Tokens and codes are
//! kept under their hash ([`crate::auth::token_key`]), never as given.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hasher};

use crate::auth::token_key;

/// Prefix of installation tokens.
pub const INSTALLATION_PREFIX: &str = "ghs_";
/// Prefix of OAuth user tokens.
pub const USER_PREFIX: &str = "gho_";
/// Lifetime of an installation token in seconds (one hour, as on GitHub).
pub const INSTALLATION_TOKEN_TTL_SECS: u64 = 3600;
/// Lifetime of an OAuth authorization code in seconds (ten minutes).
pub const CODE_TTL_SECS: u64 = 600;
/// Random characters after a token prefix.
pub const TOKEN_RANDOM_LEN: usize = 36;
/// Length of an OAuth authorization code.
pub const CODE_LEN: usize = 20;

/// What an installation token may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallationGrant {
    /// The installation the token belongs to.
    pub installation_id: u64,
    /// The account the app is installed on.
    pub owner: String,
    /// Repositories it is limited to; `None` = all of the owner's.
    pub repositories: Option<Vec<String>>,
    /// Permission name → `read` / `write`.
    pub permissions: BTreeMap<String, String>,
    /// Expiry in seconds since the epoch.
    pub expires_at: u64,
}

impl InstallationGrant {
    /// Whether the token reaches `owner/repo` (names compare case-insensitively).
    pub fn reaches(&self, owner: &str, repo: &str) -> bool {
        self.owner.eq_ignore_ascii_case(owner)
            && self
                .repositories
                .as_ref()
                .is_none_or(|list| list.iter().any(|r| r.eq_ignore_ascii_case(repo)))
    }

    /// Whether the token may write contents.
    pub fn can_write_contents(&self) -> bool {
        self.permissions.get("contents").map(String::as_str) == Some("write")
    }
}

/// Who a user token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserGrant {
    /// The user's login.
    pub login: String,
    /// The scope granted (as requested at authorization).
    pub scope: String,
}

/// An OAuth authorization code waiting to be exchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthCode {
    /// The client id given at authorization (may be empty).
    pub client_id: String,
    /// The redirect URI given at authorization.
    pub redirect_uri: String,
    /// The user who signed in.
    pub login: String,
    /// The requested scope.
    pub scope: String,
    /// Expiry in seconds since the epoch.
    pub expires_at: u64,
}

/// Every issued credential.
#[derive(Debug, Default)]
pub struct Grants {
    installations: HashMap<String, InstallationGrant>,
    users: HashMap<String, UserGrant>,
    codes: HashMap<String, OAuthCode>,
}

impl Grants {
    /// Issue an installation token for `grant`, forgetting expired ones.
    pub fn issue_installation_token(&mut self, grant: InstallationGrant, now: u64) -> String {
        self.installations.retain(|_, g| g.expires_at > now);
        let token = random_token(INSTALLATION_PREFIX, TOKEN_RANDOM_LEN);
        self.installations.insert(token_key(&token), grant);
        token
    }

    /// The grant of an issued, unexpired installation token.
    pub fn installation(&self, token: &str, now: u64) -> Option<InstallationGrant> {
        self.installations
            .get(&token_key(token))
            .filter(|g| g.expires_at > now)
            .cloned()
    }

    /// Make every installation token expire at `now`; returns how many were live.
    pub fn expire_installation_tokens(&mut self, now: u64) -> usize {
        let mut live = 0;
        for grant in self.installations.values_mut() {
            if grant.expires_at > now {
                live += 1;
                grant.expires_at = now;
            }
        }
        live
    }

    /// Remember a new authorization code, forgetting expired ones.
    pub fn issue_code(&mut self, code: OAuthCode, now: u64) -> String {
        self.codes.retain(|_, c| c.expires_at > now);
        let value = random_token("", CODE_LEN);
        self.codes.insert(token_key(&value), code);
        value
    }

    /// The unexpired authorization code `code`, if any (it stays usable).
    pub fn code(&self, code: &str, now: u64) -> Option<OAuthCode> {
        self.codes
            .get(&token_key(code))
            .filter(|c| c.expires_at > now)
            .cloned()
    }

    /// Forget an authorization code (codes are single use).
    pub fn remove_code(&mut self, code: &str) {
        self.codes.remove(&token_key(code));
    }

    /// Issue a user token.
    pub fn issue_user_token(&mut self, grant: UserGrant) -> String {
        let token = random_token(USER_PREFIX, TOKEN_RANDOM_LEN);
        self.users.insert(token_key(&token), grant);
        token
    }

    /// The grant of an issued user token.
    pub fn user(&self, token: &str) -> Option<UserGrant> {
        self.users.get(&token_key(token)).cloned()
    }

    /// Revoke every user token; returns how many there were.
    pub fn revoke_user_tokens(&mut self) -> usize {
        let n = self.users.len();
        self.users.clear();
        n
    }
}

/// Letters and digits used in tokens and codes.
const ALPHANUMERIC: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Fill `buf` from the operating system's generator (falling back to std's
/// randomly keyed hasher should that fail).
pub fn fill_random(buf: &mut [u8]) {
    if getrandom::getrandom(buf).is_ok() {
        return;
    }
    for chunk in buf.chunks_mut(8) {
        let mut h = RandomState::new().build_hasher();
        h.write_usize(chunk.as_ptr() as usize);
        let bytes = h.finish().to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
}

/// `prefix` followed by `len` random letters and digits (unbiased).
pub fn random_token(prefix: &str, len: usize) -> String {
    let mut out = String::with_capacity(prefix.len() + len);
    out.push_str(prefix);
    let mut buf = [0u8; 64];
    while out.len() < prefix.len() + len {
        fill_random(&mut buf);
        for b in buf {
            // 248 = 4 * 62: rejecting larger bytes keeps every character equally likely.
            if b < 248 && out.len() < prefix.len() + len {
                out.push(char::from(ALPHANUMERIC[usize::from(b % 62)]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(repositories: Option<Vec<String>>) -> InstallationGrant {
        InstallationGrant {
            installation_id: 1,
            owner: "acme".into(),
            repositories,
            permissions: BTreeMap::from([("contents".into(), "write".into())]),
            expires_at: 100,
        }
    }

    #[test]
    fn tokens_look_like_github() {
        let t = random_token("ghs_", 36);
        assert_eq!(t.len(), 40);
        assert!(t[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(t, random_token("ghs_", 36));
    }

    #[test]
    fn installation_tokens_expire_and_are_scoped() {
        let mut g = Grants::default();
        let all = g.issue_installation_token(grant(None), 0);
        let one = g.issue_installation_token(grant(Some(vec!["Threads".into()])), 0);
        assert!(all.starts_with("ghs_"));
        assert!(g.installation(&all, 99).unwrap().reaches("ACME", "x"));
        let one = g.installation(&one, 99).unwrap();
        assert!(one.reaches("acme", "threads") && !one.reaches("acme", "x"));
        assert!(!one.reaches("other", "threads"));
        assert!(one.can_write_contents());
        assert!(g.installation(&all, 100).is_none());
        assert!(g.installation("ghs_unknown", 0).is_none());
        assert_eq!(g.expire_installation_tokens(50), 2);
        assert!(g.installation(&all, 50).is_none());
    }

    #[test]
    fn codes_and_user_tokens() {
        let mut g = Grants::default();
        let code = OAuthCode {
            client_id: "c".into(),
            redirect_uri: "http://x/cb".into(),
            login: "alice".into(),
            scope: String::new(),
            expires_at: 600,
        };
        let c = g.issue_code(code.clone(), 0);
        assert_eq!(c.len(), CODE_LEN);
        assert_eq!(g.code(&c, 599), Some(code));
        assert_eq!(g.code(&c, 600), None);
        g.remove_code(&c);
        assert_eq!(g.code(&c, 0), None);
        let t = g.issue_user_token(UserGrant {
            login: "alice".into(),
            scope: "read:user".into(),
        });
        assert!(t.starts_with("gho_") && t.len() == 40);
        assert_eq!(g.user(&t).unwrap().login, "alice");
        assert_eq!(g.revoke_user_tokens(), 1);
        assert!(g.user(&t).is_none());
    }
}
