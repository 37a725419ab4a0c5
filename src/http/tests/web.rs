//! The page for people, through the whole request path: who sees what, the forms'
//! protection, and what the page is made of.

use super::*;
use crate::auth::access::{mint, AccessClaims};
use crate::clock::Clock;

const KEY: &str = "0123456789abcdef0123456789abcdef";

/// The fixture, with sign-in on.
fn signin_fixture() -> Fixture {
    let mut f = fixture();
    let base = f.config.clone();
    let tokens =
        json!({token_hash("w"): {"user": "mira", "scopes": ["read", "write"]}}).to_string();
    f.config = Config::from_lookup(|k| match k {
        "AUTH_TOKENS" => Some(tokens.clone()),
        "GITHUB_OAUTH_CLIENT_ID" => Some("app".into()),
        "GITHUB_OAUTH_CLIENT_SECRET" => Some("secret".into()),
        "OAUTH_SIGNING_KEY" => Some(KEY.into()),
        "GITHUB_REPO" => Some("acme/threads".into()),
        "GITHUB_TOKEN" => Some("ghp_secret".into()),
        "GITHUB_REPOS" => Some("acme/*".into()),
        _ => None,
    })
    .unwrap();
    assert_eq!(f.config.repo, base.repo);
    f
}

/// A session cookie for `login` with `scope`, as the page's sign-in leaves it.
fn cookie(f: &Fixture, login: &str, scope: &str) -> String {
    let now = f.clock.now_ms() / 1000;
    let claims = AccessClaims {
        sub: login.into(),
        scope: scope.into(),
        aud: "http://127.0.0.1:8787/mcp".into(),
        iat: now,
        exp: now + 3600,
        gid: "grant".into(),
        cid: crate::service::oauth::flow::WEB_CLIENT.into(),
        repo: "acme/threads".into(),
    };
    let (name, _) = crate::http::web::session::names("http://127.0.0.1:8787", &f.config.repo);
    format!("{name}={}", mint(KEY.as_bytes(), &claims))
}

const WRITE: &str = "threads:read threads:write";

fn page(
    f: &Fixture,
    method: &str,
    path: &str,
    cookie: &str,
    body: Option<&str>,
    extra: &[(&str, &str)],
) -> (u16, String, ApiResponse) {
    let mut headers = vec![("cookie", cookie)];
    headers.extend_from_slice(extra);
    let body = body.unwrap_or("").as_bytes().to_vec();
    let resp = f.call_raw(method, path, None, body, &headers);
    (
        resp.status,
        String::from_utf8_lossy(&resp.body).to_string(),
        resp,
    )
}

fn said(f: &Fixture, topic: &str, title: &str, body: &str) {
    let (status, r, _) = f.call(
        "POST",
        &format!("/v1/threads/{topic}/entries"),
        Some("w"),
        Some(json!({"agent": "Claude", "title": title, "body": body})),
    );
    assert_eq!(status, 201, "{r}");
}

#[test]
fn signed_out_the_page_is_a_sign_in_button_and_nothing_else() {
    let f = signin_fixture();
    said(&f, "plan", "A secret plan", "hidden");
    for path in ["/", "/threads/plan", "/search?q=secret"] {
        let (status, html, resp) = page(&f, "GET", path, "", None, &[]);
        assert_eq!(status, 200, "{path}");
        assert!(
            html.contains("Sign in with GitHub")
                && !html.contains("secret plan")
                && !html.contains("Claude"),
            "{path}: {html}"
        );
        assert_eq!(
            resp.header("content-security-policy"),
            Some(crate::http::web::CSP)
        );
    }
    let (status, _, _) = page(&f, "GET", "/live?since=0", "", None, &[]);
    assert_eq!(status, 401);
    // A form sent without a session: told so, nothing written.
    let body = "action=say&agent=Team&title=Late&body=Late";
    let (status, html, _) = page(&f, "POST", "/threads/plan", "", Some(body), &[]);
    assert!(
        status == 401 && html.contains("nothing was written"),
        "{html}"
    );
    let (_, html, _) = page(
        &f,
        "GET",
        "/threads/plan",
        &cookie(&f, "alice", WRITE),
        None,
        &[],
    );
    assert!(!html.contains("Late"), "{html}");
    // Another repository's pages ask to sign in for it; alice's cookie for the
    // default one does not open them.
    let (_, html, _) = page(&f, "GET", "/repos/acme/notes/", "", None, &[]);
    assert!(
        html.contains("/auth/signin?repo=acme%2Fnotes&amp;next=%2Frepos%2Facme%2Fnotes%2F"),
        "{html}"
    );
    let alice = cookie(&f, "alice", WRITE);
    let (_, html, _) = page(&f, "GET", "/repos/acme/notes/", &alice, None, &[]);
    assert!(html.contains("Sign in with GitHub"), "{html}");
    // A forged or foreign cookie is no session.
    let (_, html, _) = page(&f, "GET", "/", "wc_s_x=wca1.forged.sig", None, &[]);
    assert!(html.contains("Sign in with GitHub"));
}

#[test]
fn signed_in_a_writer_sees_the_thread_and_a_reply_box_a_reader_none() {
    let f = signin_fixture();
    said(
        &f,
        "plan",
        "A plan",
        "Ship **it** <script>alert(1)</script>",
    );
    let alice = cookie(&f, "alice", WRITE);
    let (status, html, _) = page(&f, "GET", "/", &alice, None, &[]);
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("Waiting on others") && html.contains("href=\"/threads/plan\""),
        "{html}"
    );
    let (_, html, _) = page(&f, "GET", "/threads/plan", &alice, None, &[]);
    assert!(
        html.contains("<strong>it</strong>")
            && html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(
        html.contains("id=\"reply\"") && html.contains("name=\"csrf\""),
        "{html}"
    );
    assert!(html.contains("data-live=\"/live?since="), "{html}");
    let bob = cookie(&f, "bob", "threads:read");
    let (_, html, _) = page(&f, "GET", "/threads/plan", &bob, None, &[]);
    assert!(
        html.contains("A plan") && !html.contains("id=\"reply\""),
        "{html}"
    );
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a form token") + 19;
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

#[test]
fn a_reply_needs_the_form_token_and_this_origin() {
    let f = signin_fixture();
    said(&f, "plan", "A plan", "b");
    let alice = cookie(&f, "alice", WRITE);
    let (_, html, _) = page(&f, "GET", "/threads/plan", &alice, None, &[]);
    let token = csrf_of(&html);
    let form =
        |csrf: &str| format!("csrf={csrf}&action=say&agent=Team&title=From+the+page&body=Hello");
    let origin = [("origin", "http://127.0.0.1:8787")];
    let post = |who: &str, body: &str, headers: &[(&str, &str)]| {
        page(&f, "POST", "/threads/plan", who, Some(body), headers).0
    };
    assert_eq!(post(&alice, &form(""), &origin), 403, "no token");
    let evil = [("origin", "http://evil.example")];
    assert_eq!(post(&alice, &form(&token), &evil), 403, "another origin");
    let cross = [("sec-fetch-site", "cross-site")];
    assert_eq!(
        post(&alice, &form(&token), &cross),
        403,
        "a cross-site fetch"
    );
    // Another person's token does not fit this session.
    let bob_writer = cookie(&f, "bob", WRITE);
    let (_, bob_html, _) = page(&f, "GET", "/threads/plan", &bob_writer, None, &[]);
    let bobs = form(&csrf_of(&bob_html));
    assert_eq!(post(&alice, &bobs, &origin), 403, "bob's token");
    let (_, html, _) = page(&f, "GET", "/threads/plan", &alice, None, &[]);
    assert!(
        !html.contains("From the page"),
        "nothing refused was written"
    );

    let (status, _, resp) = page(
        &f,
        "POST",
        "/threads/plan",
        &alice,
        Some(&form(&token)),
        &origin,
    );
    assert_eq!(
        (status, resp.header("location")),
        (303, Some("/threads/plan"))
    );
    let (_, html, _) = page(&f, "GET", "/threads/plan", &alice, None, &[]);
    assert!(
        html.contains("From the page") && html.contains("Team (alice)"),
        "{html}"
    );
    // A bad write comes back with its reason and what was typed.
    let empty = format!("csrf={token}&action=say&agent=Team&title=&body=Kept");
    let (status, html, _) = page(&f, "POST", "/threads/plan", &alice, Some(&empty), &origin);
    assert_eq!(status, 400, "{html}");
    assert!(
        html.contains("role=\"alert\"") && html.contains(">Kept</textarea>"),
        "{html}"
    );
    let bogus = format!("csrf={token}&action=delete");
    let (status, html, _) = page(&f, "POST", "/threads/plan", &alice, Some(&bogus), &origin);
    assert!(
        status == 400 && html.contains("choose what to do"),
        "{html}"
    );
    // A reader's post is refused by the same rule as everywhere.
    let bob = cookie(&f, "bob", "threads:read");
    let (_, html, _) = page(&f, "GET", "/", &bob, None, &[]);
    let (status, _, _) = page(
        &f,
        "POST",
        "/threads/plan",
        &bob,
        Some(&form(&csrf_of(&html))),
        &origin,
    );
    assert_eq!(status, 403);
}

#[test]
fn the_reply_box_acks_hands_off_and_sets_status_and_the_picker_opens_repositories() {
    let f = signin_fixture();
    said(&f, "plan", "A plan", "b");
    let alice = cookie(&f, "alice", WRITE);
    let (_, html, _) = page(&f, "GET", "/threads/plan", &alice, None, &[]);
    assert!(
        html.contains("list=\"repos\""),
        "several repositories: a picker"
    );
    let token = csrf_of(&html);
    let origin = [("origin", "http://127.0.0.1:8787")];
    let post = |fields: &str| {
        let body = format!("csrf={token}&{fields}");
        page(&f, "POST", "/threads/plan", &alice, Some(&body), &origin).0
    };
    assert_eq!(post("action=ack&agent=Claude&body=Seen"), 303);
    assert_eq!(
        post("action=handoff&agent=Team&target=Codex&body=Yours"),
        303
    );
    assert_eq!(post("action=status&status=IN_REVIEW"), 303);
    let (_, html, _) = page(&f, "GET", "/threads/plan", &alice, None, &[]);
    assert!(
        html.contains("Claude (alice)") && html.contains("Seen"),
        "{html}"
    );
    assert!(html.contains("Ball: <b>Codex (alice)</b>"), "{html}");
    assert!(
        html.contains("<span class=\"status\">IN_REVIEW</span>"),
        "{html}"
    );
    let (status, _, resp) = page(&f, "GET", "/pick?repo=acme/notes", &alice, None, &[]);
    assert_eq!(
        (status, resp.header("location")),
        (302, Some("/repos/acme/notes/"))
    );
    assert_eq!(
        page(&f, "GET", "/pick?repo=evil/x", &alice, None, &[]).0,
        404
    );
}

#[test]
fn only_pages_live_under_repos_and_sign_in_errors_echo_nothing() {
    let f = signin_fixture();
    for path in [
        "/repos/acme/notes/v1/threads",
        "/repos/acme/notes/mcp",
        "/repos/acme/notes/webhooks/github",
        "/repos/acme/notes/oauth/token",
        "/repos/acme/notes/auth/signin",
    ] {
        assert_eq!(page(&f, "GET", path, "", None, &[]).0, 404, "{path}");
    }
    let (status, text, resp) = page(
        &f,
        "GET",
        "/auth/done?error=access_denied&error_description=Call+0800+now",
        "",
        None,
        &[],
    );
    assert_eq!(status, 403);
    assert!(
        text.contains("(access_denied)") && !text.contains("0800"),
        "{text}"
    );
    assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
    let (_, text, _) = page(&f, "GET", "/auth/done?error=<b>x", "", None, &[]);
    assert!(text.contains("(error)") && !text.contains("<b>"), "{text}");
}

#[test]
fn signing_out_from_a_page_left_open_still_signs_out() {
    let f = signin_fixture();
    let (name, refresh) = crate::http::web::session::names("http://127.0.0.1:8787", &f.config.repo);
    let stale = format!("{name}=wca1.expired.sig; {refresh}=some-refresh");
    let cleared = |resp: &ApiResponse| {
        resp.headers
            .iter()
            .filter(|(k, v)| k == "set-cookie" && v.contains("Max-Age=0"))
            .count()
    };
    // From another site: refused, nothing cleared.
    let evil = [("origin", "http://evil.example")];
    let (status, _, resp) = page(&f, "POST", "/auth/signout", &stale, Some("csrf=x"), &evil);
    assert_eq!((status, cleared(&resp)), (403, 0));
    // From this site's own page: both cookies go.
    let own = [("origin", "http://127.0.0.1:8787")];
    let (status, _, resp) = page(&f, "POST", "/auth/signout", &stale, Some("csrf=x"), &own);
    assert_eq!((status, cleared(&resp)), (302, 2));
}
