//! The authorization code flow with PKCE (S256 only), GitHub in the middle:
//! `authorize` checks the client and asks the person (`consent`) before sending them
//! to GitHub, every step bound to the browser that started it; `callback` learns
//! who they are and what GitHub lets them do, and sends the client a code; `token`
//! exchanges codes and rotating refresh tokens for short-lived access tokens;
//! `revoke` ends a grant.

use super::clients;
use super::grants::{
    Code, GrantOp, GrantReply, GrantStore, Pending, Refresh, RefreshState, CODE_SECONDS,
};
use super::{
    repo_of_resource, resource_path, OAuthEffects, ACCESS_SECONDS, REFRESH_SECONDS, SCOPES,
    SIGN_IN_SECONDS,
};
use crate::auth::access::{self, AccessClaims, SCOPE_READ, SCOPE_WRITE};
use crate::auth::token_hash;
use crate::config::{Config, OAuthConfig};
use crate::github::http::encode_component;
use crate::github::signin::{GitHubSignIn, Permission};
use crate::github::Repo;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// What a sign-in step works with.
pub struct Context<'a, O> {
    /// The deployment's settings.
    pub config: &'a Config,
    /// Sign-in's settings.
    pub settings: &'a OAuthConfig,
    /// The effects.
    pub effects: &'a O,
    /// This server's origin (`https://host`): the issuer.
    pub base: &'a str,
    /// Now, Unix seconds.
    pub now: u64,
    /// The User-Agent sent to GitHub.
    pub user_agent: &'a str,
}

impl<O: OAuthEffects> Context<'_, O> {
    /// Whether this server runs on this machine (then loopback client documents are
    /// fine).
    fn dev(&self) -> bool {
        super::is_loopback(self.base)
    }

    fn github(&self) -> GitHubSignIn<'_, O::Web> {
        GitHubSignIn {
            http: self.effects.web(),
            web_base: self.settings.web_base.clone(),
            api_base: self.config.api_base.clone(),
            client_id: self.settings.client_id.clone(),
            client_secret: self.settings.client_secret.clone(),
            user_agent: self.user_agent.to_string(),
        }
    }

    async fn store(&self, op: GrantOp) -> Result<GrantReply, String> {
        self.effects.grants().call(op).await
    }
}

/// A step that cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Shown to the person: the client or its redirect URI cannot be trusted, so
    /// nothing is sent back to it.
    Page(String),
    /// Sent back to the client: its redirect URI with `error`, `error_description`,
    /// `state` and `iss`.
    Redirect(String),
}

/// `uri` with these query parameters added, percent-encoded.
pub fn with_params(uri: &str, params: &[(&str, &str)]) -> String {
    let mut out = uri.to_string();
    for (i, (k, v)) in params.iter().enumerate() {
        let sep = if i == 0 && !uri.contains('?') {
            '?'
        } else {
            '&'
        };
        out.push(sep);
        out.push_str(k);
        out.push('=');
        out.push_str(&encode_component(v));
    }
    out
}

fn back_with_error(
    base: &str,
    redirect_uri: &str,
    state: Option<&str>,
    error: &str,
    why: &str,
) -> Refused {
    let mut params = vec![("error", error), ("error_description", why)];
    if let Some(s) = state {
        params.push(("state", s));
    }
    params.push(("iss", base));
    Refused::Redirect(with_params(redirect_uri, &params))
}

/// The scopes asked for, checked; none means all.
fn requested_scopes(scope: Option<&str>) -> Result<Vec<&'static str>, String> {
    let words: Vec<&str> = scope
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if words.is_empty() {
        return Ok(SCOPES.to_vec());
    }
    words
        .iter()
        .map(|w| {
            SCOPES
                .iter()
                .find(|s| *s == w)
                .copied()
                .ok_or_else(|| format!("unknown scope {w:?}; use {}", SCOPES.join(" ")))
        })
        .collect()
}

/// What GitHub's permission allows.
fn allowed(p: Permission) -> &'static [&'static str] {
    match p {
        Permission::Write => &[SCOPE_READ, SCOPE_WRITE],
        Permission::Read => &[SCOPE_READ],
        Permission::None => &[],
    }
}

/// The scopes asked for that the permission allows, space-separated.
fn grantable(asked: &str, p: Permission) -> String {
    let ok = allowed(p);
    asked
        .split(' ')
        .filter(|s| ok.contains(s))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The authorization request's parameters.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeRequest {
    /// Must be `code`.
    pub response_type: Option<String>,
    /// A registered client id, or a metadata document URL.
    pub client_id: Option<String>,
    /// One of the client's redirect URIs, exactly.
    pub redirect_uri: Option<String>,
    /// Returned as is.
    pub state: Option<String>,
    /// The PKCE challenge.
    pub code_challenge: Option<String>,
    /// Must be `S256`.
    pub code_challenge_method: Option<String>,
    /// Space-separated scopes (default: all).
    pub scope: Option<String>,
    /// The MCP URL the token is for (RFC 8707; default: this server's `/mcp`).
    pub resource: Option<String>,
}

/// What the person is asked to approve before going to GitHub: the consent page.
/// MCP clients register themselves, so a person must see who asks, and where the
/// answer goes, before their GitHub identity is used for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// The sign-in's key (the form sends it back).
    pub key: String,
    /// The client's name, as it registered it (not verified).
    pub client_name: Option<String>,
    /// The client's id.
    pub client_id: String,
    /// Where the answer will go.
    pub redirect_uri: String,
    /// The repository, `owner/name`.
    pub repo: String,
    /// The scopes asked for.
    pub scope: String,
}

/// Checks an authorization request, keeps it for the browser whose cookie secret is
/// `browser`, and answers what to ask the person.
pub async fn authorize<O: OAuthEffects>(
    cx: &Context<'_, O>,
    req: &AuthorizeRequest,
    browser: &str,
) -> Result<Consent, Refused> {
    let client_id = req
        .client_id
        .as_deref()
        .ok_or_else(|| Refused::Page("client_id is missing".into()))?;
    let client = clients::resolve(cx.effects, client_id, cx.dev())
        .await
        .map_err(Refused::Page)?;
    let redirect_uri = registered_redirect(req.redirect_uri.as_deref(), &client.redirect_uris)?;
    // Before the person has seen the consent page, nothing is sent to the client's
    // redirect URI: anyone can register one, and this must not be an open redirect
    // (RFC 9700 4.11.2). Errors are shown instead.
    let back = |error: &str, why: &str| Refused::Page(format!("{why} ({error})"));
    if req.response_type.as_deref() != Some("code") {
        return Err(back(
            "unsupported_response_type",
            "only response_type=code is supported",
        ));
    }
    let challenge = match (
        req.code_challenge.as_deref(),
        req.code_challenge_method.as_deref(),
    ) {
        (Some(c), Some("S256")) if (43..=128).contains(&c.len()) => c.to_string(),
        _ => {
            return Err(back(
                "invalid_request",
                "PKCE is required: send code_challenge with code_challenge_method=S256",
            ))
        }
    };
    let scope = requested_scopes(req.scope.as_deref())
        .map_err(|e| back("invalid_scope", &e))?
        .join(" ");
    let (resource, repo) =
        resource_of(cx, req.resource.as_deref()).map_err(|e| back("invalid_target", &e))?;
    let key = cx.effects.secret();
    let pending = Pending {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.clone(),
        state: req.state.clone(),
        code_challenge: challenge,
        scope: scope.clone(),
        resource,
        expires_at: cx.now + SIGN_IN_SECONDS,
        browser: token_hash(browser),
        client_name: client.client_name.clone(),
        redirect_given: req.redirect_uri.is_some(),
        approved: false,
    };
    match cx.store(GrantOp::PutPending(key.clone(), pending)).await {
        Ok(GrantReply::Done) => Ok(Consent {
            key,
            client_name: client.client_name,
            client_id: client.client_id,
            redirect_uri,
            repo: format!("{}/{}", repo.owner, repo.name),
            scope,
        }),
        _ => Err(back(
            "temporarily_unavailable",
            "the sign-in store is unreachable; try again",
        )),
    }
}

/// The client id of the service's own page. It registers nowhere and is never
/// resolved: only [`start_web`] makes sign-ins for it, so `/oauth/authorize` cannot
/// be asked for one.
pub const WEB_CLIENT: &str = "watercooler-web";

/// Where GitHub's answer for a page sign-in ends: the page exchanges the code there.
pub fn web_redirect(base: &str) -> String {
    format!("{base}/auth/done")
}

/// Starts a sign-in for the page, for the repository whose MCP URL is `resource`:
/// keeps it for the browser whose cookie secret is `browser`, with the page's PKCE
/// `challenge` and where to go after (`next`, returned as the state), and answers
/// GitHub's sign-in URL (with `login` as GitHub's account hint). No consent page: the
/// person asked for this on the page itself, and the code only ever goes back to it.
pub async fn start_web<O: OAuthEffects>(
    cx: &Context<'_, O>,
    resource: &str,
    browser: &str,
    challenge: &str,
    next: &str,
    login: Option<&str>,
) -> Result<String, Refused> {
    let (resource, _) = resource_of(cx, Some(resource)).map_err(Refused::Page)?;
    let key = cx.effects.secret();
    let pending = Pending {
        client_id: WEB_CLIENT.to_string(),
        redirect_uri: web_redirect(cx.base),
        state: Some(next.to_string()),
        code_challenge: challenge.to_string(),
        scope: SCOPES.join(" "),
        resource,
        expires_at: cx.now + SIGN_IN_SECONDS,
        browser: token_hash(browser),
        client_name: Some("the watercooler page".into()),
        redirect_given: true,
        approved: true,
    };
    match cx.store(GrantOp::PutPending(key.clone(), pending)).await {
        Ok(GrantReply::Done) => {
            let url = cx
                .github()
                .authorize_url(&format!("{}/oauth/callback", cx.base), &key);
            Ok(match login {
                Some(l) => with_params(&url, &[("login", l)]),
                None => url,
            })
        }
        _ => Err(Refused::Page(
            "the sign-in store is unreachable; try again".into(),
        )),
    }
}

/// The resource asked for (RFC 8707) and its repository: one of this server's MCP
/// URLs, exactly. Left out, it is `/mcp`, unless several repositories are served.
fn resource_of<O: OAuthEffects>(
    cx: &Context<'_, O>,
    asked: Option<&str>,
) -> Result<(String, Repo), String> {
    if asked.is_none() && !cx.config.repos.is_empty() {
        return Err(
            "this server serves several repositories: send resource=<the MCP URL you connect to>"
                .into(),
        );
    }
    let resource = asked.map_or_else(|| format!("{}/mcp", cx.base), str::to_string);
    match repo_of_resource(cx.config, &resource) {
        Some(r) if format!("{}{}", cx.base, super::url_path(&resource)) == resource => {
            Ok((resource, r))
        }
        _ => Err(format!("{resource} is not an MCP URL this server serves")),
    }
}

/// Whether `asked` is the registered redirect URI: exactly, or, for http to this
/// machine, with any port (RFC 8252 section 7.3: native apps listen on a port of
/// the moment).
fn same_redirect(asked: &str, registered: &str) -> bool {
    if asked == registered {
        return true;
    }
    let (Some(a), Some(r)) = (super::parse_url(asked), super::parse_url(registered)) else {
        return false;
    };
    a.scheme() == "http"
        && r.scheme() == "http"
        && super::place(&a) == super::Place::Loopback
        && a.host_str() == r.host_str()
        && a.path() == r.path()
        && a.query() == r.query()
        && a.fragment().is_none()
}

/// The redirect URI asked for, if the client registered it; when the client has
/// only one, it may be left out.
fn registered_redirect(asked: Option<&str>, registered: &[String]) -> Result<String, Refused> {
    match (asked, registered) {
        (Some(r), uris) if uris.iter().any(|u| same_redirect(r, u)) => Ok(r.to_string()),
        (None, [only]) => Ok(only.clone()),
        (Some(r), _) => Err(Refused::Page(format!(
            "redirect_uri {r:?} is not one this client registered"
        ))),
        (None, _) => Err(Refused::Page("redirect_uri is missing".into())),
    }
}

/// The sign-in kept under `op`'s key, if it is this browser's.
async fn pending_for<O: OAuthEffects>(
    cx: &Context<'_, O>,
    op: GrantOp,
    browser: &str,
) -> Result<Pending, Refused> {
    let expired = || {
        Refused::Page(
            "this sign-in expired or was already used; start again from your client".into(),
        )
    };
    let p = match cx.store(op).await {
        Ok(GrantReply::Pending(Some(p))) => p,
        Ok(_) => return Err(expired()),
        Err(e) => {
            return Err(Refused::Page(format!(
                "the sign-in store is unreachable ({e}); try again"
            )))
        }
    };
    if p.browser != token_hash(browser) {
        return Err(Refused::Page(
            "this sign-in was started in another browser; start again from your client in this one"
                .into(),
        ));
    }
    Ok(p)
}

/// The person's answer on the consent page: on to GitHub, or back to the client
/// with `access_denied`.
pub async fn consent<O: OAuthEffects>(
    cx: &Context<'_, O>,
    key: &str,
    approved: bool,
    browser: &str,
) -> Result<String, Refused> {
    if approved {
        let mut p = pending_for(cx, GrantOp::GetPending(key.to_string()), browser).await?;
        p.approved = true;
        return match cx.store(GrantOp::PutPending(key.to_string(), p)).await {
            Ok(GrantReply::Done) => Ok(cx
                .github()
                .authorize_url(&format!("{}/oauth/callback", cx.base), key)),
            _ => Err(Refused::Page(
                "the sign-in store is unreachable; try again".into(),
            )),
        };
    }
    let p = pending_for(cx, GrantOp::TakePending(key.to_string()), browser).await?;
    Err(back_with_error(
        cx.base,
        &p.redirect_uri,
        p.state.as_deref(),
        "access_denied",
        "the person declined",
    ))
}

/// GitHub's answer to a sign-in: `code` and `state`, or `error`.
#[derive(Debug, Clone, Default)]
pub struct Callback {
    /// GitHub's code.
    pub code: Option<String>,
    /// The sign-in's key.
    pub state: Option<String>,
    /// GitHub's error, e.g. `access_denied`.
    pub error: Option<String>,
}

/// Learns who signed in and what GitHub lets them do on the resource's repository,
/// and answers where to send them: the client's redirect URI with a code. Only the
/// browser that started the sign-in may finish it, so a GitHub link with someone
/// else's sign-in in it cannot bind your identity to their client.
pub async fn callback<O: OAuthEffects>(
    cx: &Context<'_, O>,
    cb: &Callback,
    browser: &str,
) -> Result<String, Refused> {
    let key = cb.state.as_deref().unwrap_or("");
    let p = pending_for(cx, GrantOp::TakePending(key.to_string()), browser).await?;
    if !p.approved {
        return Err(Refused::Page(
            "this sign-in was not approved on this server's page; start again from your client"
                .into(),
        ));
    }
    let back = |error: &str, why: &str| {
        back_with_error(cx.base, &p.redirect_uri, p.state.as_deref(), error, why)
    };
    if let Some(e) = &cb.error {
        return Err(back("access_denied", &format!("GitHub answered {e}")));
    }
    let login = signed_in_login(cx, cb.code.as_deref().unwrap_or(""))
        .await
        .map_err(|e| back("access_denied", &e))?;
    let served = super::served_config(cx.config, &p.resource)
        .ok_or_else(|| back("invalid_target", "the resource is no longer served"))?;
    let repo = &served.repo;
    let permission = cx
        .effects
        .permission(&served, &login)
        .await
        .map_err(|e| back("temporarily_unavailable", &e))?;
    let scope = grantable(&p.scope, permission);
    if scope.is_empty() {
        let why = format!(
            "{login} has no access to {}/{} on GitHub",
            repo.owner, repo.name
        );
        return Err(back("access_denied", &why));
    }
    let code = cx.effects.secret();
    let record = Code {
        grant_id: cx.effects.secret(),
        client_id: p.client_id,
        redirect_uri: p.redirect_uri.clone(),
        code_challenge: p.code_challenge,
        scope,
        resource: p.resource,
        login,
        expires_at: cx.now + CODE_SECONDS,
        redirect_given: p.redirect_given,
    };
    match cx.store(GrantOp::PutCode(token_hash(&code), record)).await {
        Ok(GrantReply::Done) => {}
        _ => {
            return Err(back(
                "temporarily_unavailable",
                "the sign-in store is unreachable; try again",
            ))
        }
    }
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = p.state.as_deref() {
        params.push(("state", s));
    }
    params.push(("iss", cx.base));
    Ok(with_params(&p.redirect_uri, &params))
}

/// The GitHub login behind GitHub's code. The person's GitHub token is used for
/// this one question and then dropped.
async fn signed_in_login<O: OAuthEffects>(
    cx: &Context<'_, O>,
    code: &str,
) -> Result<String, String> {
    let github = cx.github();
    let token = github
        .exchange(code, &format!("{}/oauth/callback", cx.base))
        .await?;
    let login = github.login(&token).await?;
    crate::thread::agent::validate_user(&login).map_err(|e| format!("GitHub login {e}"))?;
    Ok(login)
}

/// A token endpoint refusal (RFC 6749 5.2): its code and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError {
    /// `invalid_request`, `invalid_grant`, `unsupported_grant_type`, …
    pub code: &'static str,
    /// What is wrong.
    pub description: String,
}

fn token_error(code: &'static str, description: impl Into<String>) -> TokenError {
    TokenError {
        code,
        description: description.into(),
    }
}

/// What the token endpoint issues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    /// The access token (an hour).
    pub access_token: String,
    /// The refresh token (30 days, used once).
    pub refresh_token: String,
    /// Seconds the access token lives.
    pub expires_in: u64,
    /// The scopes granted.
    pub scope: String,
}

/// The token endpoint: `authorization_code` or `refresh_token`.
pub async fn token<O: OAuthEffects>(
    cx: &Context<'_, O>,
    form: &BTreeMap<String, String>,
) -> Result<Tokens, TokenError> {
    let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let need = |name: &str| {
        field(name).ok_or_else(|| token_error("invalid_request", format!("{name} is missing")))
    };
    match field("grant_type") {
        Some("authorization_code") => {
            let code = need("code")?;
            let verifier = need("code_verifier")?;
            exchange_code(
                cx,
                code,
                need("client_id")?,
                field("redirect_uri"),
                verifier,
                field("resource"),
            )
            .await
        }
        Some("refresh_token") => refresh(cx, need("refresh_token")?, need("client_id")?).await,
        Some(other) => Err(token_error(
            "unsupported_grant_type",
            format!(
                "grant_type {other:?} is not supported; use authorization_code or refresh_token"
            ),
        )),
        None => Err(token_error("invalid_request", "grant_type is missing")),
    }
}

/// Whether `verifier` answers the S256 `challenge`.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let shaped = (43..=128).contains(&verifier.len())
        && verifier
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c));
    let hashed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    shaped && hashed == challenge
}

async fn exchange_code<O: OAuthEffects>(
    cx: &Context<'_, O>,
    code: &str,
    client_id: &str,
    redirect_uri: Option<&str>,
    verifier: &str,
    resource: Option<&str>,
) -> Result<Tokens, TokenError> {
    let c = match cx.store(GrantOp::TakeCode(token_hash(code))).await {
        Ok(GrantReply::Code(c)) => c,
        Ok(GrantReply::CodeReused(_)) => {
            return Err(token_error(
                "invalid_grant",
                "this code was already used; the tokens issued with it are revoked",
            ))
        }
        Ok(_) => {
            return Err(token_error(
                "invalid_grant",
                "the code is unknown or expired; sign in again",
            ))
        }
        Err(e) => {
            return Err(token_error(
                "temporarily_unavailable",
                format!("the grant store is unreachable ({e}); try again"),
            ))
        }
    };
    code_answers(&c, client_id, redirect_uri, verifier, resource)?;
    let grant = Refresh {
        grant_id: c.grant_id,
        client_id: c.client_id,
        login: c.login,
        scope: c.scope,
        resource: c.resource,
        expires_at: cx.now + REFRESH_SECONDS,
    };
    let refresh_token = cx.effects.secret();
    match cx
        .store(GrantOp::PutRefresh(
            token_hash(&refresh_token),
            grant.clone(),
        ))
        .await
    {
        Ok(GrantReply::Done) => Ok(issue(cx, &grant, refresh_token)),
        _ => Err(token_error(
            "temporarily_unavailable",
            "the grant store is unreachable; try again",
        )),
    }
}

/// Whether a token request answers its code: the same client, the same redirect URI
/// (required when the authorization request named one), the PKCE verifier, and
/// the same resource.
fn code_answers(
    c: &Code,
    client_id: &str,
    redirect_uri: Option<&str>,
    verifier: &str,
    resource: Option<&str>,
) -> Result<(), TokenError> {
    let refused = |why: &str| Err(token_error("invalid_grant", why));
    if c.client_id != client_id {
        return refused("the code was issued to another client");
    }
    if c.redirect_given && redirect_uri.is_none() {
        return refused("redirect_uri is required: the authorization request named one");
    }
    if redirect_uri.is_some_and(|r| r != c.redirect_uri) {
        return refused("redirect_uri differs from the authorization request's");
    }
    if !pkce_matches(verifier, &c.code_challenge) {
        return refused("code_verifier does not match the code_challenge");
    }
    if resource.is_some_and(|r| r != c.resource) {
        return Err(token_error(
            "invalid_target",
            "resource differs from the one signed in for",
        ));
    }
    Ok(())
}

fn issue<O: OAuthEffects>(cx: &Context<'_, O>, grant: &Refresh, refresh_token: String) -> Tokens {
    let claims = AccessClaims {
        sub: grant.login.clone(),
        scope: grant.scope.clone(),
        aud: grant.resource.clone(),
        iat: cx.now,
        exp: cx.now + ACCESS_SECONDS,
        gid: grant.grant_id.clone(),
        cid: grant.client_id.clone(),
        repo: repo_of_resource(cx.config, &grant.resource)
            .map(|r| format!("{}/{}", r.owner, r.name).to_ascii_lowercase())
            .unwrap_or_default(),
    };
    Tokens {
        access_token: access::mint(&cx.settings.signing_key, &claims),
        refresh_token,
        expires_in: ACCESS_SECONDS,
        scope: grant.scope.clone(),
    }
}

/// A refresh token presented again moments after it was exchanged.
const SUPERSEDED: &str = "this refresh token was exchanged moments ago by another request of this client; use the newer one";

/// A refresh: the person's permission is asked of GitHub again (so removing them
/// from the repository takes effect within the hour), and the refresh token is
/// exchanged for a new one. A rotated token presented again revokes the grant.
async fn refresh<O: OAuthEffects>(
    cx: &Context<'_, O>,
    token: &str,
    client_id: &str,
) -> Result<Tokens, TokenError> {
    let old = token_hash(token);
    let invalid = |why: &str| token_error("invalid_grant", why);
    let grant = match cx.store(GrantOp::GetRefresh(old.clone())).await {
        Ok(GrantReply::Refresh(g, RefreshState::Active)) => g,
        Ok(GrantReply::Superseded) => return Err(invalid(SUPERSEDED)),
        Ok(GrantReply::Refresh(g, RefreshState::Rotated)) => {
            let _ = cx.store(GrantOp::RevokeGrant(g.grant_id)).await;
            return Err(invalid(
                "this refresh token was already used, so the grant is revoked; sign in again",
            ));
        }
        Ok(_) => {
            return Err(invalid(
                "the refresh token is unknown, expired or revoked; sign in again",
            ))
        }
        Err(e) => {
            return Err(token_error(
                "temporarily_unavailable",
                format!("the grant store is unreachable ({e}); try again"),
            ))
        }
    };
    if grant.client_id != client_id {
        return Err(invalid("the refresh token was issued to another client"));
    }
    let served = super::served_config(cx.config, &grant.resource)
        .ok_or_else(|| invalid("the resource is no longer served"))?;
    let repo = &served.repo;
    let permission = cx
        .effects
        .permission(&served, &grant.login)
        .await
        .map_err(|e| token_error("temporarily_unavailable", e))?;
    let scope = grantable(&grant.scope, permission);
    if scope.is_empty() {
        let _ = cx.store(GrantOp::RevokeGrant(grant.grant_id)).await;
        return Err(invalid(&format!(
            "{} no longer has access to {}/{} on GitHub",
            grant.login, repo.owner, repo.name
        )));
    }
    let next = Refresh {
        scope,
        expires_at: cx.now + REFRESH_SECONDS,
        ..grant
    };
    let new_token = cx.effects.secret();
    match cx
        .store(GrantOp::Rotate(old, token_hash(&new_token), next.clone()))
        .await
    {
        Ok(GrantReply::Refresh(..)) => Ok(issue(cx, &next, new_token)),
        Ok(GrantReply::Superseded) => Err(invalid(SUPERSEDED)),
        Ok(GrantReply::Reused(_)) => Err(invalid(
            "this refresh token was already used, so the grant is revoked; sign in again",
        )),
        Ok(_) => Err(invalid(
            "the refresh token is unknown, expired or revoked; sign in again",
        )),
        Err(e) => Err(token_error(
            "temporarily_unavailable",
            format!("the grant store is unreachable ({e}); try again"),
        )),
    }
}

/// Revocation (RFC 7009): a refresh token or an access token ends its grant.
/// Unknown tokens are fine. Access tokens already issued stay valid until they
/// expire (within the hour): they are checked without a lookup.
pub async fn revoke<O: OAuthEffects>(cx: &Context<'_, O>, token: &str) -> Result<(), TokenError> {
    let grant = if token.starts_with(access::PREFIX) {
        access::verify(&cx.settings.signing_key, token, 0)
            .ok()
            .map(|c| c.gid)
    } else {
        match cx.store(GrantOp::GetRefresh(token_hash(token))).await {
            Ok(GrantReply::Refresh(g, _)) => Some(g.grant_id),
            Ok(_) => None,
            Err(e) => {
                return Err(token_error(
                    "temporarily_unavailable",
                    format!("the grant store is unreachable ({e}); try again"),
                ))
            }
        }
    };
    if let Some(g) = grant {
        cx.store(GrantOp::RevokeGrant(g)).await.map_err(|e| {
            token_error(
                "temporarily_unavailable",
                format!("the grant store is unreachable ({e}); try again"),
            )
        })?;
    }
    Ok(())
}

/// The MCP URL of the repository a request is served from, for the
/// `WWW-Authenticate` challenge.
pub fn resource_url(base: &str, config: &Config) -> String {
    format!("{base}{}", resource_path(config, &config.repo))
}
