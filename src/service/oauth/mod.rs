//! Sign-in with GitHub: the service is an OAuth 2.1 authorization server for its
//! own MCP URLs (the resources), with GitHub as the identity provider. People sign
//! in at GitHub; their permission on the repository decides the scopes. No HTTP
//! here: `http::oauth` turns these answers into redirects, pages and JSON.
//!
//! - [`grants`]: what is kept (clients, sign-ins, codes, refresh tokens).
//! - [`clients`]: registration and client ID metadata documents.
//! - [`flow`]: authorize, the callback from GitHub, the token endpoint, revocation.
//! - [`metadata`]: the discovery documents (RFC 9728, RFC 8414).

pub mod clients;
pub mod flow;
pub mod grants;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod metadata;

use crate::config::Config;
use crate::github::http::HttpClient;
use crate::github::signin::Permission;
use crate::github::Repo;
use grants::GrantStore;

/// The effects sign-in needs, bundled.
#[allow(async_fn_in_trait)]
pub trait OAuthEffects {
    /// Where clients, codes and refresh tokens are kept.
    type Grants: GrantStore;
    /// Outbound HTTP: GitHub's OAuth endpoints and client metadata documents.
    type Web: HttpClient;
    /// The store.
    fn grants(&self) -> &Self::Grants;
    /// Outbound HTTP.
    fn web(&self) -> &Self::Web;
    /// A new secret: 32 bytes from a cryptographic random source, base64url.
    fn secret(&self) -> String;
    /// A person's permission on the repository `served` serves, asked with the
    /// service's own GitHub identity.
    async fn permission(&self, served: &Config, login: &str) -> Result<Permission, String>;
}

/// The scopes this service grants.
pub const SCOPES: [&str; 2] = [
    crate::auth::access::SCOPE_READ,
    crate::auth::access::SCOPE_WRITE,
];

/// How long an access token lives, in seconds.
pub const ACCESS_SECONDS: u64 = 3600;
/// How long a refresh token lives, in seconds.
pub const REFRESH_SECONDS: u64 = 30 * 24 * 3600;
/// How long a sign-in may take at GitHub, in seconds.
pub const SIGN_IN_SECONDS: u64 = 600;

/// The path of the MCP URL of `repo`: `/mcp` for the default repository,
/// `/mcp/{owner}/{name}` for others.
pub fn resource_path(config: &Config, repo: &Repo) -> String {
    match *repo == config.default_repo {
        true => "/mcp".to_string(),
        false => format!("/mcp/{}/{}", repo.owner, repo.name),
    }
}

/// The path of a URL (`https://host/mcp` → `/mcp`), without query or fragment.
pub fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or("")
}

/// The repository a resource (an MCP URL of this deployment) names, if served.
/// Only the path counts: one deployment may answer under several host names.
pub fn repo_of_resource(config: &Config, resource: &str) -> Option<Repo> {
    served_config(config, resource).map(|c| c.repo)
}

/// The configuration serving the repository a resource names, if served.
pub fn served_config(config: &Config, resource: &str) -> Option<Config> {
    let segments: Vec<&str> = url_path(resource)
        .trim_start_matches('/')
        .split('/')
        .collect();
    let d = &config.default_repo;
    match segments.as_slice() {
        ["mcp"] => config.for_repo(&d.owner, &d.name),
        ["mcp", owner, name] => config.for_repo(owner, name),
        _ => None,
    }
}

/// A URL as browsers and `fetch` read it (WHATWG), if it is absolute, printable
/// ASCII, without backslashes and without user info: anything else is refused
/// rather than read two ways.
pub fn parse_url(s: &str) -> Option<url::Url> {
    if s.is_empty() || s.contains('\\') || !s.chars().all(|c| c.is_ascii_graphic()) {
        return None;
    }
    let u = url::Url::parse(s).ok()?;
    (u.username().is_empty() && u.password().is_none()).then_some(u)
}

/// Where a URL's host is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// This machine: `localhost`, 127.0.0.0/8, `::1` (and IPv4-mapped forms).
    Loopback,
    /// A private, link-local, shared or unspecified address, or a local name.
    Private,
    /// Anywhere else.
    Public,
    /// No host.
    Nowhere,
}

fn place_v4(ip: std::net::Ipv4Addr) -> Place {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Place::Loopback
    } else if ip.is_private()
        || ip.is_link_local()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
    {
        Place::Private
    } else {
        Place::Public
    }
}

/// Where `u` points.
pub fn place(u: &url::Url) -> Place {
    match u.host() {
        None => Place::Nowhere,
        Some(url::Host::Ipv4(ip)) => place_v4(ip),
        Some(url::Host::Ipv6(ip)) => match ip.to_ipv4_mapped() {
            Some(v4) => place_v4(v4),
            None if ip.is_loopback() => Place::Loopback,
            None if ip.is_unspecified()
                || (ip.segments()[0] & 0xfe00) == 0xfc00
                || (ip.segments()[0] & 0xffc0) == 0xfe80 =>
            {
                Place::Private
            }
            None => Place::Public,
        },
        Some(url::Host::Domain(d)) => {
            let d = d.to_ascii_lowercase();
            if d == "localhost" {
                Place::Loopback
            } else if !d.contains('.')
                || [".localhost", ".local", ".internal", ".home.arpa"]
                    .iter()
                    .any(|s| d.ends_with(s))
            {
                Place::Private
            } else {
                Place::Public
            }
        }
    }
}

/// Whether `url` points at this machine.
pub fn is_loopback(url: &str) -> bool {
    parse_url(url).is_some_and(|u| place(&u) == Place::Loopback)
}

#[cfg(test)]
mod tests;
