//! The service's own GitHub identity as a GitHub App: the app's private key (PEM, as
//! GitHub issues it, turned into the PKCS#8 form WebCrypto imports), the app's JWT
//! (RS256, signed by an [`AppSigner`]), and installation tokens cached per repository
//! until shortly before they expire.

use base64::Engine;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Signs with the app's private key: RSASSA-PKCS1-v1_5 with SHA-256 (JWT's RS256).
#[allow(async_fn_in_trait)]
pub trait AppSigner {
    /// The signature of `message`, or why there is none.
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String>;
}

/// The signer of a client that sends a plain token: it never signs.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoApp;

impl AppSigner for NoApp {
    async fn sign(&self, _message: &[u8]) -> Result<Vec<u8>, String> {
        Err("no GitHub App is configured".into())
    }
}

/// An installation token is renewed when it has less than this left (GitHub's last
/// one hour).
pub const RENEW_BEFORE_SECS: u64 = 300;

/// Installation tokens by repository (`owner/name`, lowercase), with the time (Unix
/// seconds) each expires. Shared by the requests an isolate serves.
#[derive(Default)]
pub struct TokenCache(RefCell<HashMap<String, (String, u64)>>);

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenCache(<{} tokens>)", self.0.borrow().len())
    }
}

impl TokenCache {
    /// A token for `repo` with more than [`RENEW_BEFORE_SECS`] left at `now`.
    pub fn get(&self, repo: &str, now: u64) -> Option<String> {
        self.0
            .borrow()
            .get(repo)
            .filter(|(_, expires)| *expires > now + RENEW_BEFORE_SECS)
            .map(|(t, _)| t.clone())
    }

    /// Keeps `token` for `repo` until `expires`.
    pub fn put(&self, repo: &str, token: String, expires: u64) {
        self.0
            .borrow_mut()
            .insert(repo.to_string(), (token, expires));
    }

    /// Drops the token of `repo` (GitHub refused it).
    pub fn forget(&self, repo: &str) {
        self.0.borrow_mut().remove(repo);
    }
}

/// The app the service acts as.
pub struct App<S> {
    /// The app's id (or client id): the JWT's issuer.
    pub app_id: String,
    /// Signs with the app's private key.
    pub signer: S,
    /// Installation tokens, kept across requests.
    pub tokens: Rc<TokenCache>,
}

/// How the GitHub client authenticates.
pub enum Credentials<S> {
    /// A fixed token (a personal access token, `GITHUB_TOKEN`).
    Token(String),
    /// A GitHub App's installation tokens.
    App(App<S>),
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The JWT's header and claims, encoded and joined: what is signed. Issued a minute in
/// the past (clocks drift) and valid for nine more, inside GitHub's ten.
pub fn jwt_signing_input(app_id: &str, now_secs: u64) -> String {
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
    let claims = serde_json::json!({
        "iat": now_secs.saturating_sub(60),
        "exp": now_secs + 540,
        "iss": app_id,
    });
    format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    )
}

/// A signed JWT from its signing input and signature.
pub fn jwt(signing_input: &str, signature: &[u8]) -> String {
    format!("{signing_input}.{}", b64url(signature))
}

/// The app's private key as PKCS#8 DER, from PEM: `BEGIN PRIVATE KEY` (PKCS#8) as is,
/// or `BEGIN RSA PRIVATE KEY` (PKCS#1, what GitHub issues) wrapped. A secret pasted
/// with literal `\n` sequences is read as if they were line breaks.
pub fn private_key_pkcs8(pem: &str) -> Result<Vec<u8>, String> {
    let pem = pem.replace("\\n", "\n");
    let expected = "must be the GitHub App's private key in PEM (-----BEGIN RSA PRIVATE KEY----- or -----BEGIN PRIVATE KEY-----)";
    let body = |label: &str| -> Option<String> {
        let start = pem.find(&format!("-----BEGIN {label}-----"))?;
        let rest = &pem[start + label.len() + 16..];
        let end = rest.find(&format!("-----END {label}-----"))?;
        Some(rest[..end].chars().filter(|c| !c.is_whitespace()).collect())
    };
    let decode = |b64: String| {
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| format!("{expected}: its base64 does not decode"))
    };
    let der = if let Some(b) = body("RSA PRIVATE KEY") {
        wrap_pkcs1(&decode(b)?)
    } else if let Some(b) = body("PRIVATE KEY") {
        decode(b)?
    } else {
        return Err(expected.into());
    };
    if der.first() != Some(&0x30) {
        return Err(format!("{expected}: it is not a DER sequence"));
    }
    Ok(der)
}

/// A DER length.
fn der_len(n: usize) -> Vec<u8> {
    match n {
        0..=0x7f => vec![n as u8],
        _ => {
            let bytes: Vec<u8> = n
                .to_be_bytes()
                .into_iter()
                .skip_while(|b| *b == 0)
                .collect();
            let mut out = vec![0x80 | bytes.len() as u8];
            out.extend(bytes);
            out
        }
    }
}

/// PKCS#8 `PrivateKeyInfo` around a PKCS#1 `RSAPrivateKey`: version 0, the
/// rsaEncryption algorithm (OID 1.2.840.113549.1.1.1, NULL parameters), and the key
/// as an octet string.
fn wrap_pkcs1(pkcs1: &[u8]) -> Vec<u8> {
    const VERSION_AND_ALGORITHM: [u8; 18] = [
        0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01,
        0x01, 0x05, 0x00,
    ];
    let mut octets = vec![0x04];
    octets.extend(der_len(pkcs1.len()));
    octets.extend_from_slice(pkcs1);
    let mut out = vec![0x30];
    out.extend(der_len(VERSION_AND_ALGORITHM.len() + octets.len()));
    out.extend_from_slice(&VERSION_AND_ALGORITHM);
    out.extend(octets);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jwt_is_issued_a_minute_back_and_lives_nine_more() {
        let input = jwt_signing_input("12345", 1_000_000);
        let (h, c) = input.split_once('.').unwrap();
        let decode = |s: &str| -> serde_json::Value {
            serde_json::from_slice(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(s)
                    .unwrap(),
            )
            .unwrap()
        };
        assert_eq!(decode(h), serde_json::json!({"alg": "RS256", "typ": "JWT"}));
        assert_eq!(
            decode(c),
            serde_json::json!({"iat": 999_940, "exp": 1_000_540, "iss": "12345"})
        );
        assert_eq!(jwt(&input, &[0xfb, 0xff]), format!("{input}.-_8"));
    }

    #[test]
    fn tokens_are_renewed_five_minutes_before_they_expire() {
        let c = TokenCache::default();
        c.put("acme/threads", "ghs_a".into(), 10_000);
        assert_eq!(c.get("acme/threads", 9_000).as_deref(), Some("ghs_a"));
        assert_eq!(c.get("acme/threads", 9_700), None);
        assert_eq!(c.get("acme/other", 0), None);
        c.forget("acme/threads");
        assert_eq!(c.get("acme/threads", 0), None);
        assert!(!format!("{c:?}").contains("ghs_"));
    }

    #[test]
    fn der_lengths_take_the_short_and_long_forms() {
        assert_eq!(der_len(5), vec![5]);
        assert_eq!(der_len(0x80), vec![0x81, 0x80]);
        assert_eq!(der_len(0x1234), vec![0x82, 0x12, 0x34]);
    }

    #[test]
    fn a_pkcs1_key_becomes_the_same_pkcs8_as_openssl_makes() {
        let pkcs1 = include_str!("../../tests/fixtures/app-key/pkcs1.pem");
        let pkcs8 = include_str!("../../tests/fixtures/app-key/pkcs8.pem");
        let wrapped = private_key_pkcs8(pkcs1).unwrap();
        assert_eq!(wrapped, private_key_pkcs8(pkcs8).unwrap());
        let escaped = pkcs1.replace('\n', "\\n");
        assert_eq!(private_key_pkcs8(&escaped).unwrap(), wrapped);
    }

    #[test]
    fn bad_keys_are_refused_with_what_is_expected() {
        for bad in [
            "",
            "ssh-rsa AAAA",
            "-----BEGIN RSA PRIVATE KEY-----\n!!!\n-----END RSA PRIVATE KEY-----",
        ] {
            let e = private_key_pkcs8(bad).unwrap_err();
            assert!(e.contains("BEGIN RSA PRIVATE KEY"), "{e}");
        }
    }
}
