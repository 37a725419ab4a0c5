//! The discovery documents: protected resource metadata (RFC 9728) for each MCP URL,
//! and the authorization server's metadata (RFC 8414).

use super::SCOPES;
use serde_json::{json, Value};

/// Protected resource metadata for the MCP URL at `resource_path`, served from `base`.
pub fn protected_resource(base: &str, resource_path: &str) -> Value {
    json!({
        "resource": format!("{base}{resource_path}"),
        "authorization_servers": [base],
        "scopes_supported": SCOPES,
        "bearer_methods_supported": ["header"],
        "resource_name": "watercooler threads",
        "resource_documentation": format!("{base}/health"),
    })
}

/// Where the protected resource metadata of `resource_path` is: the well-known
/// path with the resource's path appended (RFC 9728 section 3.1).
pub fn protected_resource_url(base: &str, resource_path: &str) -> String {
    format!("{base}/.well-known/oauth-protected-resource{resource_path}")
}

/// The authorization server's metadata; `base` is its issuer.
pub fn authorization_server(base: &str) -> Value {
    json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "registration_endpoint": format!("{base}/oauth/register"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "authorization_response_iss_parameter_supported": true,
        "client_id_metadata_document_supported": true,
    })
}
