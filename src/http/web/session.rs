//! The page's sign-in and the session it leaves.
//!
//! Sign-in is GitHub's, through the service's own authorization server
//! (`service::oauth::flow`, as the client `watercooler-web`, with PKCE): the same
//! rules decide who may read and write as for MCP clients. The session is the access
//! token it issues (signed, an hour) in an HttpOnly, SameSite=Lax cookie (Secure and
//! `__Host-` over https), with its refresh token in a second one: one pair per
//! repository. Forms carry a token bound to the session, and a post from another
//! origin is refused.

use super::super::message::{cookie_name, form, set_cookie, ApiRequest, ApiResponse};
use super::super::oauth::{browser_of, context, redirect, refused, set_browser_cookie};
use crate::auth::access;
use crate::auth::Principal;
use crate::github::Repo;
use crate::service::oauth::flow::{self, Tokens, WEB_CLIENT};
use crate::service::oauth::{resource_path, OAuthEffects, REFRESH_SECONDS, SIGN_IN_SECONDS};
use crate::service::{Effects, Service};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Who is signed in on the page.
pub struct Session {
    /// As the service sees them.
    pub who: Principal,
    /// The cookie's token (forms are bound to it).
    pub token: String,
    /// The repositories (`owner/name`, of those named in the configuration) this
    /// browser holds a session for.
    pub signed_in_to: Vec<String>,
}

/// The cookie names of a repository's session: (session, refresh).
pub fn names(base: &str, repo: &Repo) -> (String, String) {
    names_of(base, &format!("{}/{}", repo.owner, repo.name))
}

/// The cookie names for `owner/name` (any case).
fn names_of(base: &str, full_name: &str) -> (String, String) {
    let id = full_name.to_ascii_lowercase();
    let tag: String = Sha256::digest(id.as_bytes())[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (
        cookie_name(base, &format!("wc_s_{tag}")),
        cookie_name(base, &format!("wc_r_{tag}")),
    )
}

/// Whether the browser holds a session cookie for `owner/name`.
pub fn has_session(req: &ApiRequest, full_name: &str) -> bool {
    req.cookie(&names_of(&req.base, full_name).0).is_some()
}

/// The signed-in session for the repository this request is served from, if any.
pub fn session<E: Effects>(svc: &Service<'_, E>, req: &ApiRequest) -> Option<Session> {
    let (name, _) = names(&req.base, &svc.config.repo);
    let token = req.cookie(&name)?;
    let who = svc.authenticate(Some(&format!("Bearer {token}"))).ok()?;
    let c = svc.config;
    let named = std::iter::once(format!("{}/{}", c.default_repo.owner, c.default_repo.name)).chain(
        c.repos
            .iter()
            .map(|p| p.to_string())
            .filter(|p| !p.ends_with("/*")),
    );
    let signed_in_to = named.filter(|r| has_session(req, r)).collect();
    Some(Session {
        who,
        token,
        signed_in_to,
    })
}

/// Whether the browser holds a refresh token for this repository.
pub fn can_refresh<E: Effects>(svc: &Service<'_, E>, req: &ApiRequest) -> bool {
    let (_, refresh) = names(&req.base, &svc.config.repo);
    req.cookie(&refresh).is_some()
}

fn mac<E: Effects>(svc: &Service<'_, E>, token: &str) -> Option<Hmac<Sha256>> {
    let key = &svc.config.oauth.as_ref()?.signing_key;
    let mut m = Hmac::<Sha256>::new_from_slice(key).ok()?;
    m.update(b"watercooler page form\n");
    m.update(token.as_bytes());
    Some(m)
}

/// The token a form of this session carries.
pub fn csrf<E: Effects>(svc: &Service<'_, E>, s: &Session) -> String {
    mac(svc, &s.token)
        .map(|m| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(m.finalize().into_bytes()))
        .unwrap_or_default()
}

/// Whether a form post may act for the session: sent by this site's own page (its
/// `Origin`, and `Sec-Fetch-Site` where the browser sends it), with the session's
/// form token.
pub fn check_post<E: Effects>(
    svc: &Service<'_, E>,
    req: &ApiRequest,
    token: &str,
    fields: &BTreeMap<String, String>,
) -> Result<(), &'static str> {
    if req
        .header("origin")
        .is_some_and(|o| !o.eq_ignore_ascii_case(&req.base))
    {
        return Err("this form was sent from another site");
    }
    if req
        .header("sec-fetch-site")
        .is_some_and(|s| !s.eq_ignore_ascii_case("same-origin"))
    {
        return Err("this form was sent from another site");
    }
    let sent = fields.get("csrf").map(String::as_str).unwrap_or("");
    let sent = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sent)
        .unwrap_or_default();
    match mac(svc, token).map(|m| m.verify_slice(&sent)) {
        Some(Ok(())) => Ok(()),
        _ => Err("the form is out of date; reload the page and send it again"),
    }
}

/// Whether the browser says the request comes from this site's own page.
fn same_site(req: &ApiRequest) -> bool {
    req.header("origin")
        .is_some_and(|o| o.eq_ignore_ascii_case(&req.base))
        || req
            .header("sec-fetch-site")
            .is_some_and(|s| s.eq_ignore_ascii_case("same-origin"))
}

/// Where to go after signing in: a path of this site, else its start.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && n.chars().all(|c| c.is_ascii_graphic()) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

/// The configuration serving the repository `named` (`owner/name`; none or empty: the
/// deployment's own), if it is served.
pub fn served(
    config: &crate::config::Config,
    named: Option<&str>,
) -> Option<crate::config::Config> {
    match named.map(str::trim).filter(|r| !r.is_empty()) {
        None => Some(config.clone()),
        Some(r) => r
            .split_once('/')
            .and_then(|(owner, name)| config.for_repo(owner.trim(), name.trim())),
    }
}

/// The repository a `repo=owner/name` query parameter names, if served.
fn repo_param<E: Effects>(svc: &Service<'_, E>, req: &ApiRequest) -> Option<crate::config::Config> {
    served(svc.config, req.query_param("repo").as_deref())
}

fn page_error(status: u16, why: &str) -> ApiResponse {
    ApiResponse::text(status, "text/plain; charset=utf-8", format!("{why}\n"))
        .with_header("cache-control", "no-store")
        .with_header("x-content-type-options", "nosniff")
}

/// `GET /auth/signin?repo=&next=&login=`: on to GitHub.
pub async fn signin<E: Effects>(svc: &Service<'_, E>, req: &ApiRequest) -> ApiResponse {
    let Some(settings) = &svc.config.oauth else {
        return page_error(404, "sign-in is not enabled on this server: set GITHUB_OAUTH_CLIENT_ID, GITHUB_OAUTH_CLIENT_SECRET and OAUTH_SIGNING_KEY");
    };
    let Some(served) = repo_param(svc, req) else {
        return page_error(404, "that repository is not served here");
    };
    let cx = context(svc, req, settings);
    let resource = format!("{}{}", req.base, resource_path(svc.config, &served.repo));
    let browser = browser_of(req).unwrap_or_else(|| svc.oauth.secret());
    let verifier = svc.oauth.secret();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    let next = safe_next(req.query_param("next").as_deref());
    let login = req.query_param("login").filter(|l| !l.is_empty());
    match flow::start_web(
        &cx,
        &resource,
        &browser,
        &challenge,
        &next,
        login.as_deref(),
    )
    .await
    {
        Ok(to) => set_browser_cookie(redirect(to), &req.base, &browser).with_header(
            "set-cookie",
            set_cookie(
                &req.base,
                &cookie_name(&req.base, "wc_pkce"),
                &verifier,
                SIGN_IN_SECONDS,
            ),
        ),
        Err(r) => refused(r),
    }
}

/// Leaves the session's cookies (named for the repository the token opens) and goes
/// on to `next`.
fn signed_in(key: &[u8], req: &ApiRequest, tokens: &Tokens, next: &str) -> ApiResponse {
    let Ok(claims) = access::verify(key, &tokens.access_token, 0) else {
        return page_error(
            500,
            "the sign-in gave a token this server cannot read; sign in again",
        );
    };
    let (session, refresh) = names_of(&req.base, &claims.repo);
    redirect(next.to_string())
        .with_header(
            "set-cookie",
            set_cookie(&req.base, &session, &tokens.access_token, tokens.expires_in),
        )
        .with_header(
            "set-cookie",
            set_cookie(&req.base, &refresh, &tokens.refresh_token, REFRESH_SECONDS),
        )
}

/// `GET /auth/done?code=&state=`: GitHub's answer, through the authorization
/// server; the code is exchanged here with the PKCE verifier this browser kept.
pub async fn done<E: Effects>(svc: &Service<'_, E>, req: &ApiRequest) -> ApiResponse {
    let Some(settings) = &svc.config.oauth else {
        return page_error(404, "sign-in is not enabled on this server");
    };
    if let Some(e) = req.query_param("error") {
        // Only the code, and only if it is one: nothing from the URL is shown as text.
        let code = Some(e.as_str())
            .filter(|c| c.len() <= 40 && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
            .unwrap_or("error");
        return page_error(
            403,
            &format!("Sign-in failed ({code}). Go back to the page and sign in again."),
        );
    }
    let cx = context(svc, req, settings);
    let mut fields = BTreeMap::new();
    fields.insert("grant_type".to_string(), "authorization_code".to_string());
    fields.insert(
        "code".to_string(),
        req.query_param("code").unwrap_or_default(),
    );
    fields.insert(
        "code_verifier".to_string(),
        req.cookie(&cookie_name(&req.base, "wc_pkce"))
            .unwrap_or_default(),
    );
    fields.insert("client_id".to_string(), WEB_CLIENT.to_string());
    fields.insert("redirect_uri".to_string(), flow::web_redirect(&req.base));
    match flow::token(&cx, &fields).await {
        Ok(tokens) => signed_in(
            &settings.signing_key,
            req,
            &tokens,
            &safe_next(req.query_param("state").as_deref()),
        )
        .with_header(
            "set-cookie",
            set_cookie(&req.base, &cookie_name(&req.base, "wc_pkce"), "", 0),
        ),
        Err(e) => page_error(
            400,
            &format!(
                "Sign-in failed: {}. Go back to the page and sign in again.",
                e.description
            ),
        ),
    }
}

/// `GET /auth/refresh?repo=&next=`: a new hour for the session, from its refresh
/// token; without one (or when it is spent), a new sign-in.
pub async fn refresh<E: Effects>(svc: &Service<'_, E>, req: &ApiRequest) -> ApiResponse {
    let next = safe_next(req.query_param("next").as_deref());
    let again = || {
        let repo = req.query_param("repo").unwrap_or_default();
        redirect(flow::with_params(
            "/auth/signin",
            &[("repo", &repo), ("next", &next)],
        ))
    };
    let (Some(settings), Some(served)) = (&svc.config.oauth, repo_param(svc, req)) else {
        return again();
    };
    let (_, refresh_name) = names(&req.base, &served.repo);
    let Some(refresh_token) = req.cookie(&refresh_name) else {
        return again();
    };
    let cx = context(svc, req, settings);
    let mut fields = BTreeMap::new();
    fields.insert("grant_type".to_string(), "refresh_token".to_string());
    fields.insert("refresh_token".to_string(), refresh_token);
    fields.insert("client_id".to_string(), WEB_CLIENT.to_string());
    match flow::token(&cx, &fields).await {
        Ok(tokens) => signed_in(&settings.signing_key, req, &tokens, &next),
        Err(_) => again(),
    }
}

/// `POST /auth/signout` (form: `repo`, `csrf`): the grant is revoked and the
/// cookies go.
pub async fn signout<E: Effects>(svc: &Service<'_, E>, req: &ApiRequest) -> ApiResponse {
    let fields = form(&req.body);
    let served = served(svc.config, fields.get("repo").map(String::as_str));
    let (Some(settings), Some(served)) = (&svc.config.oauth, served) else {
        return page_error(404, "that repository is not served here");
    };
    let (session_name, refresh_name) = names(&req.base, &served.repo);
    let token = req.cookie(&session_name).unwrap_or_default();
    // A page left open past its session still signs out, when it is this site's.
    let stale = svc.authenticate(Some(&format!("Bearer {token}"))).is_err() && same_site(req);
    if let (false, Err(why)) = (stale, check_post(svc, req, &token, &fields)) {
        return page_error(403, why);
    }
    let cx = context(svc, req, settings);
    if let Some(r) = req.cookie(&refresh_name) {
        let _ = flow::revoke(&cx, &r).await;
    }
    let home = super::prefix(svc.config, &served.repo) + "/";
    redirect(home)
        .with_header("set-cookie", set_cookie(&req.base, &session_name, "", 0))
        .with_header("set-cookie", set_cookie(&req.base, &refresh_name, "", 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/threads/a?x=1#e-2")), "/threads/a?x=1#e-2");
        for bad in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil",
            "threads",
            "/a b",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn cookies_are_per_repository_and_prefixed_over_https() {
        let repo = |o: &str, n: &str| Repo {
            owner: o.into(),
            name: n.into(),
            branch: "main".into(),
        };
        let a = repo("acme", "threads");
        let (s, r) = names("https://w.example", &a);
        assert!(s.starts_with("__Host-wc_s_") && r.starts_with("__Host-wc_r_"));
        assert_eq!(
            names("http://127.0.0.1", &repo("ACME", "Threads")).0,
            names("http://x", &a).0
        );
        assert_ne!(
            names("http://x", &repo("acme", "notes")).0,
            names("http://x", &a).0
        );
        let c = set_cookie("https://w.example", &s, "v", 60);
        assert_eq!(
            c,
            format!("{s}=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure")
        );
    }
}
