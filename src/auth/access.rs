//! Access tokens issued by the service's own authorization server: self-contained
//! and signed (HMAC-SHA256 with OAUTH_SIGNING_KEY), so checking one costs no
//! subrequest. `wca1.<claims>.<signature>`, both parts base64url.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// What every access token starts with (and a static client token never does).
pub const PREFIX: &str = "wca1.";

/// The scope that reads threads.
pub const SCOPE_READ: &str = "threads:read";
/// The scope that writes entries and statuses.
pub const SCOPE_WRITE: &str = "threads:write";

/// What an access token says. A persisted shape (tokens outlive deployments for
/// their hour): fields are only ever added, with defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The person: their GitHub login.
    pub sub: String,
    /// Space-separated scopes.
    pub scope: String,
    /// The resource (an MCP URL) the token was issued for.
    pub aud: String,
    /// Issued at, Unix seconds.
    pub iat: u64,
    /// Expires at, Unix seconds.
    pub exp: u64,
    /// The grant it came from (what revocation revokes).
    pub gid: String,
    /// The OAuth client it was issued to.
    pub cid: String,
    /// The repository the audience named when it was issued, `owner/name`
    /// (lowercase): a token never opens another repository served at the same path
    /// later, or by another deployment sharing the key.
    #[serde(default)]
    pub repo: String,
}

impl AccessClaims {
    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.split(' ').any(|s| s == scope)
    }
}

/// Why an access token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessError {
    /// Not of this service's form, or its signature does not match.
    Invalid,
    /// Past its expiry.
    Expired,
}

fn mac(key: &[u8], message: &[u8]) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(message);
    m
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

/// A signed access token for `claims`.
pub fn mint(key: &[u8], claims: &AccessClaims) -> String {
    let body = serde_json::to_vec(claims).unwrap_or_default();
    let signed = format!("{PREFIX}{}", b64().encode(body));
    let tag = mac(key, signed.as_bytes()).finalize().into_bytes();
    format!("{signed}.{}", b64().encode(tag))
}

/// The claims of a token this service signed, if it has not expired at `now_secs`.
pub fn verify(key: &[u8], token: &str, now_secs: u64) -> Result<AccessClaims, AccessError> {
    let (signed, tag) = token.rsplit_once('.').ok_or(AccessError::Invalid)?;
    let body = signed.strip_prefix(PREFIX).ok_or(AccessError::Invalid)?;
    let tag = b64().decode(tag).map_err(|_| AccessError::Invalid)?;
    // Constant-time comparison.
    mac(key, signed.as_bytes())
        .verify_slice(&tag)
        .map_err(|_| AccessError::Invalid)?;
    let bytes = b64().decode(body).map_err(|_| AccessError::Invalid)?;
    let claims: AccessClaims = serde_json::from_slice(&bytes).map_err(|_| AccessError::Invalid)?;
    match claims.exp > now_secs {
        true => Ok(claims),
        false => Err(AccessError::Expired),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> AccessClaims {
        AccessClaims {
            sub: "alice".into(),
            scope: format!("{SCOPE_READ} {SCOPE_WRITE}"),
            aud: "https://wc.example/mcp".into(),
            iat: 1_000,
            exp: 4_600,
            gid: "g1".into(),
            cid: "c1".into(),
            repo: "acme/threads".into(),
        }
    }

    #[test]
    fn a_token_verifies_with_its_key_until_it_expires() {
        let t = mint(b"k1", &claims());
        assert!(t.starts_with(PREFIX));
        assert_eq!(verify(b"k1", &t, 4_599), Ok(claims()));
        assert!(verify(b"k1", &t, 4_599).unwrap().has_scope(SCOPE_WRITE));
        assert_eq!(verify(b"k1", &t, 4_600), Err(AccessError::Expired));
        assert_eq!(verify(b"k2", &t, 0), Err(AccessError::Invalid));
    }

    #[test]
    fn a_changed_claim_or_a_foreign_token_is_invalid() {
        let t = mint(b"k1", &claims());
        let (signed, tag) = t.rsplit_once('.').unwrap();
        let mut forged = claims();
        forged.aud = "https://wc.example/mcp/evil/x".into();
        let forged_body = b64().encode(serde_json::to_vec(&forged).unwrap());
        for bad in [
            format!("{PREFIX}{forged_body}.{tag}"),
            format!("{signed}.{}", &tag[1..]),
            "wc_static_token".to_string(),
            String::new(),
            format!("{signed}."),
        ] {
            assert_eq!(verify(b"k1", &bad, 0), Err(AccessError::Invalid), "{bad}");
        }
    }
}
