//! The GitHub App: its settings, the verification of the JWTs it signs (RS256,
//! checked against its public key) and the bot identity of its commits.

use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs1v15::{Signature as RsaSignature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{json, Map, Value};
use sha2::Sha256;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::encoding::decode_base64url;
use crate::git::Signature;

/// Slug used when `--app-slug` is not given.
pub const DEFAULT_SLUG: &str = "watercooler-dev";
/// Longest accepted JWT lifetime (`exp - iat`) in seconds, as on GitHub.
pub const MAX_LIFETIME_SECS: i64 = 600;
/// How far in the future `iat` may be (clock drift allowance) in seconds.
pub const MAX_CLOCK_SKEW_SECS: i64 = 60;

/// The token is not a well-formed RS256 JWT signed by the app's key.
pub const UNDECODABLE: &str = "A JSON web token could not be decoded";
/// `exp` is missing, not a number, or in the past.
pub const BAD_EXP: &str = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
/// `iat` is missing, not an integer, or too far in the future.
pub const BAD_IAT: &str = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
/// `exp - iat` exceeds [`MAX_LIFETIME_SECS`].
pub const TOO_LONG: &str = "'Expiration time' claim ('exp') is too far in the future";
/// `iss` is missing or neither a string nor an integer.
pub const BAD_ISS: &str = "'Issuer' claim ('iss') must be an Integer";
/// `iss` names another app.
pub const UNKNOWN_APP: &str = "Integration not found";

/// The configured GitHub App.
#[derive(Clone)]
pub struct GitHubApp {
    /// The app id (numeric id or client id) expected as the JWT issuer.
    pub id: String,
    /// The app's slug (its bot is `<slug>[bot]`).
    pub slug: String,
    key: VerifyingKey<Sha256>,
}

impl std::fmt::Debug for GitHubApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubApp")
            .field("id", &self.id)
            .field("slug", &self.slug)
            .finish_non_exhaustive()
    }
}

/// Parse an RSA public key in PEM: SPKI (`-----BEGIN PUBLIC KEY-----`), or
/// PKCS#1 (`-----BEGIN RSA PUBLIC KEY-----`).
pub fn parse_public_key(pem: &str) -> Result<RsaPublicKey, String> {
    let pem = pem.trim();
    RsaPublicKey::from_public_key_pem(pem)
        .or_else(|e| RsaPublicKey::from_pkcs1_pem(pem).map_err(|_| e))
        .map_err(|e| {
            format!(
                "the app public key must be an RSA key in PEM (-----BEGIN PUBLIC KEY-----): {e}"
            )
        })
}

impl GitHubApp {
    /// The app `id` with `slug`, verifying JWTs with the PEM public key `pem`.
    pub fn new(id: &str, slug: &str, pem: &str) -> Result<Self, String> {
        Ok(GitHubApp {
            id: id.to_string(),
            slug: slug.to_string(),
            key: VerifyingKey::new(parse_public_key(pem)?),
        })
    }

    /// The app id as GitHub shows it: a number when it is numeric.
    pub fn id_json(&self) -> Value {
        match self.id.parse::<u64>() {
            Ok(n) => json!(n),
            Err(_) => json!(self.id),
        }
    }

    /// The identity of the app's commits: `<slug>[bot]`,
    /// `<id>+<slug>[bot]@users.noreply.github.com`.
    pub fn bot_identity(&self) -> Signature {
        Signature {
            name: format!("{}[bot]", self.slug),
            email: format!("{}+{}[bot]@users.noreply.github.com", self.id, self.slug),
            date: None,
        }
    }

    /// Check `token` as this app's JWT at `now` (seconds since the epoch).
    /// The error is GitHub's message for the failure.
    pub fn verify_jwt(&self, token: &str, now: i64) -> Result<(), &'static str> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(UNDECODABLE);
        };
        let head = decode_object(header)?;
        if head.get("alg").and_then(Value::as_str) != Some("RS256") {
            return Err(UNDECODABLE);
        }
        let claims = decode_object(payload)?;
        let issuer = match claims.get("iss") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) if n.is_u64() || n.is_i64() => n.to_string(),
            _ => return Err(BAD_ISS),
        };
        if issuer != self.id {
            return Err(UNKNOWN_APP);
        }
        let bytes = decode_base64url(signature).ok_or(UNDECODABLE)?;
        let signature = RsaSignature::try_from(bytes.as_slice()).map_err(|_| UNDECODABLE)?;
        self.key
            .verify(format!("{header}.{payload}").as_bytes(), &signature)
            .map_err(|_| UNDECODABLE)?;
        check_times(&claims, now)
    }
}

/// Decode one base64url JWT segment holding a JSON object.
fn decode_object(segment: &str) -> Result<Map<String, Value>, &'static str> {
    let bytes = decode_base64url(segment).ok_or(UNDECODABLE)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(UNDECODABLE),
    }
}

/// `exp` in the future, `iat` not ahead of the clock by more than the allowed
/// skew, and a lifetime of at most ten minutes.
fn check_times(claims: &Map<String, Value>, now: i64) -> Result<(), &'static str> {
    let exp = claims
        .get("exp")
        .and_then(Value::as_f64)
        .filter(|exp| *exp > now as f64)
        .ok_or(BAD_EXP)?;
    let iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .filter(|iat| *iat <= now + MAX_CLOCK_SKEW_SECS)
        .ok_or(BAD_IAT)?;
    if exp - iat as f64 > MAX_LIFETIME_SECS as f64 {
        return Err(TOO_LONG);
    }
    Ok(())
}

/// Sign `claims` as an RS256 JWT with a PEM private key (PKCS#8
/// `BEGIN PRIVATE KEY` or PKCS#1 `BEGIN RSA PRIVATE KEY`). For tests and
/// scripts that play the app.
pub fn sign_jwt(private_key_pem: &str, claims: &Value) -> Result<String, String> {
    let pem = private_key_pem.trim();
    let key = RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|e| format!("not an RSA private key in PEM: {e}"))?;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes());
    let input = format!("{header}.{payload}");
    let signature = SigningKey::<Sha256>::new(key).sign(input.as_bytes());
    Ok(format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1::EncodeRsaPublicKey;

    const PRIVATE: &str = include_str!("../tests/fixtures/app-key.pem");
    const PUBLIC: &str = include_str!("../tests/fixtures/app-public.pem");
    const OTHER: &str = include_str!("../tests/fixtures/other-key.pem");
    const NOW: i64 = 1_700_000_000;

    fn app() -> GitHubApp {
        GitHubApp::new("12345", DEFAULT_SLUG, PUBLIC).unwrap()
    }

    fn jwt(claims: Value) -> String {
        sign_jwt(PRIVATE, &claims).unwrap()
    }

    #[test]
    fn a_valid_jwt_passes() {
        let app = app();
        let token = jwt(json!({"iat": NOW - 60, "exp": NOW + 540, "iss": "12345"}));
        assert_eq!(app.verify_jwt(&token, NOW), Ok(()));
        // A numeric issuer and a slightly fast clock are fine too.
        let token = jwt(json!({"iat": NOW + 30, "exp": NOW + 600, "iss": 12345}));
        assert_eq!(app.verify_jwt(&token, NOW), Ok(()));
        let by_client_id = GitHubApp::new("Iv1.abc", "s", PUBLIC).unwrap();
        let token = jwt(json!({"iat": NOW, "exp": NOW + 60, "iss": "Iv1.abc"}));
        assert_eq!(by_client_id.verify_jwt(&token, NOW), Ok(()));
        assert_eq!(by_client_id.id_json(), json!("Iv1.abc"));
        assert_eq!(app.id_json(), json!(12345));
    }

    #[test]
    fn a_bad_signature_fails() {
        let app = app();
        let claims = json!({"iat": NOW, "exp": NOW + 60, "iss": "12345"});
        let forged = sign_jwt(OTHER, &claims).unwrap();
        assert_eq!(app.verify_jwt(&forged, NOW), Err(UNDECODABLE));
        // A valid signature over other claims.
        let good = jwt(claims);
        let other = jwt(json!({"iat": NOW, "exp": NOW + 60, "iss": "99"}));
        let parts: Vec<&str> = good.split('.').collect();
        let swapped = format!(
            "{}.{}.{}",
            parts[0],
            other.split('.').nth(1).unwrap(),
            parts[2]
        );
        assert_ne!(app.verify_jwt(&swapped, NOW), Ok(()));
        for bad in [
            "",
            "abc",
            "a.b.c",
            "a.b.c.d",
            &format!("{}.{}.", parts[0], parts[1]),
        ] {
            assert_eq!(app.verify_jwt(bad, NOW), Err(UNDECODABLE), "{bad}");
        }
        let none_alg = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            parts[1],
            parts[2]
        );
        assert_eq!(app.verify_jwt(&none_alg, NOW), Err(UNDECODABLE));
    }

    #[test]
    fn a_wrong_issuer_fails() {
        let app = app();
        let token = jwt(json!({"iat": NOW, "exp": NOW + 60, "iss": "999"}));
        assert_eq!(app.verify_jwt(&token, NOW), Err(UNKNOWN_APP));
        let token = jwt(json!({"iat": NOW, "exp": NOW + 60}));
        assert_eq!(app.verify_jwt(&token, NOW), Err(BAD_ISS));
    }

    #[test]
    fn expired_or_future_jwts_fail() {
        let app = app();
        let expired = jwt(json!({"iat": NOW - 600, "exp": NOW - 1, "iss": "12345"}));
        assert_eq!(app.verify_jwt(&expired, NOW), Err(BAD_EXP));
        let no_exp = jwt(json!({"iat": NOW, "iss": "12345"}));
        assert_eq!(app.verify_jwt(&no_exp, NOW), Err(BAD_EXP));
        let future = jwt(json!({"iat": NOW + 61, "exp": NOW + 300, "iss": "12345"}));
        assert_eq!(app.verify_jwt(&future, NOW), Err(BAD_IAT));
        let float_iat = jwt(json!({"iat": 1.5, "exp": NOW + 300, "iss": "12345"}));
        assert_eq!(app.verify_jwt(&float_iat, NOW), Err(BAD_IAT));
    }

    #[test]
    fn a_too_long_lived_jwt_fails() {
        let app = app();
        let token = jwt(json!({"iat": NOW - 60, "exp": NOW + 541, "iss": "12345"}));
        assert_eq!(app.verify_jwt(&token, NOW), Err(TOO_LONG));
    }

    #[test]
    fn keys_and_bot() {
        assert!(GitHubApp::new("1", "s", "-----BEGIN PUBLIC KEY-----\nxx\n").is_err());
        let pkcs1 = parse_public_key(PUBLIC)
            .unwrap()
            .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
            .unwrap();
        assert!(GitHubApp::new("1", "s", &pkcs1).is_ok());
        assert!(sign_jwt("nope", &json!({})).is_err());
        let bot = app().bot_identity();
        assert_eq!(bot.name, "watercooler-dev[bot]");
        assert_eq!(
            bot.email,
            "12345+watercooler-dev[bot]@users.noreply.github.com"
        );
    }
}
