//! Who may ask for tokens: clients registered dynamically (RFC 7591), and clients
//! whose id is the https URL of their metadata document (fetched with limits).
//! Every client is public: it proves itself with PKCE, never a secret.

use super::grants::{Client, GrantOp, GrantReply, GrantStore};
use super::{parse_url, place, OAuthEffects, Place};
use crate::github::http::{HttpClient, HttpRequest};
use serde::Deserialize;

/// Why a registration was refused: an RFC 7591 error code and what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    /// `invalid_redirect_uri` or `invalid_client_metadata`, or
    /// `temporarily_unavailable` when the store could not keep it (then
    /// `retry_after` when a limit was reached).
    pub code: &'static str,
    /// What is wrong.
    pub description: String,
    /// Seconds to wait, when too many clients were registered.
    pub retry_after: Option<u64>,
}

fn invalid(code: &'static str, description: impl Into<String>) -> ClientError {
    ClientError {
        code,
        description: description.into(),
        retry_after: None,
    }
}

/// The most redirect URIs a client may register.
pub const MAX_REDIRECT_URIS: usize = 10;
/// The largest client metadata document read.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// A redirect URI a client may register: https; http only to this machine (native
/// apps, RFC 8252); or an app's own scheme (`cursor://…`). Never a fragment, user
/// info, or a scheme that runs code in a browser; read as browsers read it.
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let u = parse_url(uri)
        .filter(|_| uri.len() <= 2000)
        .ok_or_else(|| format!("{uri:?} is not a usable redirect URI (an absolute URI of printable ASCII, no user info or backslashes, at most 2000 characters)"))?;
    if u.fragment().is_some() {
        return Err(format!("{uri:?}: a redirect URI has no fragment"));
    }
    match (u.scheme(), place(&u)) {
        ("https", Place::Nowhere) => Err(format!("{uri:?} has no host")),
        ("https", _) | ("http", Place::Loopback) => Ok(()),
        ("http", _) => Err(format!(
            "{uri:?}: plain http is allowed only to localhost or 127.0.0.1"
        )),
        (
            s @ ("javascript" | "data" | "file" | "vbscript" | "blob" | "about" | "ftp" | "ws"
            | "wss"),
            _,
        ) => Err(format!("{uri:?}: the {s}: scheme cannot be a redirect URI")),
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

/// Registers a client (RFC 7591) for the caller whose address hashes to `who`.
/// Whatever authentication method it asks for, it is registered as public (`none`):
/// it proves itself with PKCE.
pub async fn register<O: OAuthEffects>(
    oauth: &O,
    body: &[u8],
    now: u64,
    who: &str,
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
        .call(GrantOp::Register(client.clone(), who.to_string()))
        .await
    {
        Ok(GrantReply::Done) => Ok(client),
        Ok(GrantReply::Limited(seconds)) => Err(ClientError {
            code: "temporarily_unavailable",
            description: format!(
                "too many clients were registered lately; try again in {seconds} s"
            ),
            retry_after: Some(seconds),
        }),
        Ok(other) => Err(invalid(
            "invalid_client_metadata",
            format!("the store answered {other:?}"),
        )),
        Err(e) => Err(invalid(
            "temporarily_unavailable",
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
/// this machine as well.
pub fn document_url_allowed(url: &str, dev: bool) -> Result<(), String> {
    let u = parse_url(url).ok_or_else(|| format!("{url:?} is not a plain absolute URL"))?;
    match (u.scheme(), place(&u)) {
        ("https" | "http", Place::Loopback) if dev => Ok(()),
        (_, Place::Loopback) => Err(format!("{url:?} names this machine")),
        (_, Place::Private) => Err(format!("{url:?} names a private address")),
        (_, Place::Nowhere) => Err(format!("{url:?} has no host")),
        ("https", Place::Public) => Ok(()),
        _ => Err(format!("{url:?} is not https")),
    }
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
