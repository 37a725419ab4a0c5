//! Who may ask for tokens: clients registered dynamically (RFC 7591), and clients
//! whose id is the https URL of their metadata document (fetched with limits).
//! Every client is public: it proves itself with PKCE, never a secret.

use super::grants::{Client, GrantOp, GrantReply, GrantStore};
use super::{is_loopback_host, url_host, OAuthEffects};
use crate::github::http::{HttpClient, HttpRequest};
use serde::Deserialize;

/// Why a registration was refused: an RFC 7591 error code and what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    /// `invalid_redirect_uri` or `invalid_client_metadata`.
    pub code: &'static str,
    /// What is wrong.
    pub description: String,
}

fn invalid(code: &'static str, description: impl Into<String>) -> ClientError {
    ClientError {
        code,
        description: description.into(),
    }
}

/// The most redirect URIs a client may register.
pub const MAX_REDIRECT_URIS: usize = 10;
/// The largest client metadata document read.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// A redirect URI a client may register: https; http only to this machine (native
/// apps, RFC 8252); or an app's own scheme (`cursor://…`). Never a fragment, and
/// never a scheme that runs code in a browser.
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let Some((scheme, _)) = uri.split_once(':') else {
        return Err(format!("{uri:?} is not an absolute URI"));
    };
    let scheme = scheme.to_ascii_lowercase();
    let valid_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !valid_scheme
        || uri.len() > 2000
        || uri.contains('#')
        || uri.chars().any(char::is_whitespace)
    {
        return Err(format!("{uri:?} is not a usable redirect URI (no fragments or spaces, at most 2000 characters)"));
    }
    match scheme.as_str() {
        "https" => url_host(uri)
            .filter(|h| !h.is_empty())
            .map(|_| ())
            .ok_or_else(|| format!("{uri:?} has no host")),
        "http" if url_host(uri).is_some_and(is_loopback_host) => Ok(()),
        "http" => Err(format!(
            "{uri:?}: plain http is allowed only to localhost or 127.0.0.1"
        )),
        "javascript" | "data" | "file" | "vbscript" | "blob" | "about" => Err(format!(
            "{uri:?}: the {scheme}: scheme cannot be a redirect URI"
        )),
        _ => Ok(()),
    }
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    client_name: Option<String>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
}

/// Checks a client's metadata (a registration or a document) and returns what is kept.
fn checked(m: Metadata, client_id: String, issued_at: u64) -> Result<Client, ClientError> {
    if m.redirect_uris.is_empty() || m.redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(invalid(
            "invalid_redirect_uri",
            format!("give 1 to {MAX_REDIRECT_URIS} redirect_uris"),
        ));
    }
    for uri in &m.redirect_uris {
        check_redirect_uri(uri).map_err(|e| invalid("invalid_redirect_uri", e))?;
    }
    let name = m.client_name.map(|n| n.chars().take(200).collect());
    Ok(Client {
        client_id,
        client_name: name,
        redirect_uris: m.redirect_uris,
        issued_at,
    })
}

/// Registers a client (RFC 7591). Whatever authentication method it asks for, it is
/// registered as public (`none`): it proves itself with PKCE.
pub async fn register<O: OAuthEffects>(
    oauth: &O,
    body: &[u8],
    now: u64,
) -> Result<Client, ClientError> {
    let m: Metadata = serde_json::from_slice(body).map_err(|e| {
        invalid(
            "invalid_client_metadata",
            format!("the body must be a JSON object of client metadata: {e}"),
        )
    })?;
    let client = checked(m, format!("wcc_{}", oauth.secret()), now)?;
    match oauth
        .grants()
        .call(GrantOp::PutClient(client.clone()))
        .await
    {
        Ok(GrantReply::Done) => Ok(client),
        Ok(other) => Err(invalid(
            "invalid_client_metadata",
            format!("the store answered {other:?}"),
        )),
        Err(e) => Err(invalid(
            "invalid_client_metadata",
            format!("the store is unreachable: {e}; try again"),
        )),
    }
}

/// The client a `client_id` names: one registered here, or the metadata document at
/// that https URL. `dev`: this server runs on this machine, so documents at
/// http://localhost are allowed too.
pub async fn resolve<O: OAuthEffects>(
    oauth: &O,
    client_id: &str,
    dev: bool,
) -> Result<Client, String> {
    if client_id.contains("://") {
        return fetch_document(oauth, client_id, dev).await;
    }
    match oauth
        .grants()
        .call(GrantOp::GetClient(client_id.to_string()))
        .await
    {
        Ok(GrantReply::Client(Some(c))) => Ok(c),
        Ok(_) => Err(format!(
            "client_id {client_id:?} is not registered here; register the client first"
        )),
        Err(e) => Err(format!("the client store is unreachable ({e}); try again")),
    }
}

/// Whether a metadata document URL may be fetched: https to a public host; in dev,
/// http to this machine as well.
pub fn document_url_allowed(url: &str, dev: bool) -> Result<(), String> {
    let host = url_host(url)
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("{url:?} has no host"))?;
    let https = url.starts_with("https://");
    let loopback = is_loopback_host(host);
    match (https, loopback, dev) {
        (_, true, true) => Ok(()),
        (true, false, _) if !is_private_host(host) => Ok(()),
        (true, false, _) => Err(format!("{url:?} names a private address")),
        (_, true, false) => Err(format!("{url:?} names this machine")),
        (false, false, _) => Err(format!("{url:?} is not https")),
    }
}

/// Hosts that are not on the public internet: private, link-local and shared
/// address literals, and local names.
fn is_private_host(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    if h.ends_with(".localhost")
        || h.ends_with(".local")
        || h.ends_with(".internal")
        || !h.contains(['.', ':'])
    {
        return true;
    }
    if let Ok(v4) = h.parse::<std::net::Ipv4Addr>() {
        let [a, b, ..] = v4.octets();
        return v4.is_private()
            || v4.is_loopback()
            || v4.is_link_local()
            || v4.is_unspecified()
            || a == 0
            || (a == 100 && (64..128).contains(&b));
    }
    if let Ok(v6) = h.parse::<std::net::Ipv6Addr>() {
        let first = v6.segments()[0];
        return v6.is_loopback()
            || v6.is_unspecified()
            || (first & 0xfe00) == 0xfc00
            || (first & 0xffc0) == 0xfe80;
    }
    false
}

async fn fetch_document<O: OAuthEffects>(
    oauth: &O,
    url: &str,
    dev: bool,
) -> Result<Client, String> {
    document_url_allowed(url, dev).map_err(|e| format!("client metadata document: {e}"))?;
    let req = HttpRequest {
        method: "GET",
        url: url.to_string(),
        headers: vec![("Accept".into(), "application/json".into())],
        body: None,
    };
    let resp = oauth
        .web()
        .send(req)
        .await
        .map_err(|e| format!("client metadata document {url}: {e}"))?;
    if resp.status != 200 {
        return Err(format!(
            "client metadata document {url} answered {}",
            resp.status
        ));
    }
    if resp.body.len() > MAX_DOCUMENT_BYTES {
        return Err(format!(
            "client metadata document {url} is over {MAX_DOCUMENT_BYTES} bytes"
        ));
    }
    let m: Metadata = serde_json::from_slice(&resp.body)
        .map_err(|e| format!("client metadata document {url} is not JSON metadata: {e}"))?;
    if m.client_id.as_deref() != Some(url) {
        return Err(format!(
            "client metadata document {url}: its client_id must be its own URL"
        ));
    }
    if m.token_endpoint_auth_method
        .as_deref()
        .is_some_and(|a| a != "none")
    {
        return Err(format!("client metadata document {url}: only public clients (token_endpoint_auth_method none) are supported"));
    }
    checked(m, url.to_string(), 0)
        .map_err(|e| format!("client metadata document {url}: {}", e.description))
}
