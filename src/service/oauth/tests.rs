//! The whole sign-in flow over the in-memory effects: registration, authorize,
//! GitHub's callback, the token endpoint, refresh rotation and revocation.

use super::flow::{self, AuthorizeRequest, Callback, Context, Refused};
use super::memory::MemoryOAuth;
use super::*;
use crate::auth::access;
use crate::config::OAuthConfig;
use base64::Engine;
use futures::executor::block_on;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

const BASE: &str = "https://wc.example";
const REDIRECT: &str = "http://127.0.0.1:3000/callback";
const BROWSER: &str = "the-browser-cookie-secret";
const VERIFIER: &str = "a-verifier-of-forty-three-characters-or-more-0123";

fn config() -> Config {
    Config::from_lookup(|k| match k {
        "GITHUB_REPO" => Some("acme/threads".into()),
        "GITHUB_REPOS" => Some("acme/notes".into()),
        "GITHUB_TOKEN" => Some("ghp_x".into()),
        "GITHUB_OAUTH_CLIENT_ID" => Some("Iv1.app".into()),
        "GITHUB_OAUTH_CLIENT_SECRET" => Some("app-secret".into()),
        "OAUTH_SIGNING_KEY" => Some("0123456789abcdef0123456789abcdef".into()),
        _ => None,
    })
    .unwrap()
}

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

struct World {
    config: Config,
    oauth: MemoryOAuth,
}

impl World {
    fn new() -> World {
        let w = World {
            config: config(),
            oauth: MemoryOAuth::default(),
        };
        w.oauth.grants.now.set(1_000_000);
        for (login, p) in [("alice", Permission::Write), ("bob", Permission::Read)] {
            w.oauth.permissions.borrow_mut().insert(login.into(), p);
        }
        w
    }

    fn settings(&self) -> &OAuthConfig {
        self.config.oauth.as_ref().unwrap()
    }

    fn cx(&self) -> Context<'_, MemoryOAuth> {
        Context {
            config: &self.config,
            settings: self.settings(),
            effects: &self.oauth,
            base: BASE,
            now: self.oauth.grants.now.get(),
            user_agent: "test",
        }
    }

    fn register(&self) -> String {
        let body = format!(
            r#"{{"redirect_uris": ["{REDIRECT}"], "client_name": "t", "token_endpoint_auth_method": "client_secret_post"}}"#
        );
        block_on(clients::register(&self.oauth, body.as_bytes(), 1, "addr"))
            .unwrap()
            .client_id
    }

    fn ask(&self, client_id: &str) -> AuthorizeRequest {
        AuthorizeRequest {
            response_type: Some("code".into()),
            client_id: Some(client_id.into()),
            redirect_uri: Some(REDIRECT.into()),
            state: Some("st8".into()),
            code_challenge: Some(challenge(VERIFIER)),
            code_challenge_method: Some("S256".into()),
            scope: None,
            resource: Some(format!("{BASE}/mcp")),
        }
    }

    /// Signs `login` in through GitHub; the client's redirect URL.
    fn sign_in(&self, ask: &AuthorizeRequest, login: &str) -> Result<String, Refused> {
        let consent = block_on(flow::authorize(&self.cx(), ask, BROWSER))?;
        let to_github = block_on(flow::consent(&self.cx(), &consent.key, true, BROWSER))?;
        assert!(to_github.starts_with("https://github.com/login/oauth/authorize?client_id=Iv1.app&redirect_uri=https%3A%2F%2Fwc.example%2Foauth%2Fcallback&state="));
        let state = query(&to_github, "state").unwrap();
        self.oauth
            .web
            .codes
            .borrow_mut()
            .insert(format!("gh-{login}"), login.into());
        let cb = Callback {
            code: Some(format!("gh-{login}")),
            state: Some(state),
            error: None,
        };
        block_on(flow::callback(&self.cx(), &cb, BROWSER))
    }

    fn token(&self, pairs: &[(&str, &str)]) -> Result<flow::Tokens, flow::TokenError> {
        let form: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        block_on(flow::token(&self.cx(), &form))
    }

    fn exchange(&self, client_id: &str, code: &str) -> Result<flow::Tokens, flow::TokenError> {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
    }

    fn refresh(&self, client_id: &str, token: &str) -> Result<flow::Tokens, flow::TokenError> {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
            ("client_id", client_id),
        ])
    }
}

fn query(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    q.split('&').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k == name).then(|| crate::http::message::percent_decode(v))
    })
}

#[test]
fn a_writer_signs_in_and_gets_a_token_for_the_default_mcp_url() {
    let w = World::new();
    let client = w.register();
    let back = w.sign_in(&w.ask(&client), "alice").unwrap();
    assert!(back.starts_with(REDIRECT));
    assert_eq!(query(&back, "state").as_deref(), Some("st8"));
    assert_eq!(query(&back, "iss").as_deref(), Some(BASE));
    let t = w.exchange(&client, &query(&back, "code").unwrap()).unwrap();
    assert_eq!(t.scope, "threads:read threads:write");
    assert_eq!(t.expires_in, 3600);
    let claims = access::verify(&w.settings().signing_key, &t.access_token, 1_000_001).unwrap();
    assert_eq!(
        (claims.sub.as_str(), claims.aud.as_str()),
        ("alice", "https://wc.example/mcp")
    );
    assert!(
        !w.oauth.web.seen.borrow().iter().any(|u| u.contains("gho_")),
        "GitHub's token goes nowhere"
    );
}

#[test]
fn a_reader_gets_read_only_and_a_stranger_nothing() {
    let w = World::new();
    let client = w.register();
    let back = w.sign_in(&w.ask(&client), "bob").unwrap();
    let t = w.exchange(&client, &query(&back, "code").unwrap()).unwrap();
    assert_eq!(t.scope, "threads:read");
    let Err(Refused::Redirect(back)) = w.sign_in(&w.ask(&client), "carol") else {
        panic!("carol has no access")
    };
    assert_eq!(query(&back, "error").as_deref(), Some("access_denied"));
    assert!(query(&back, "error_description")
        .unwrap()
        .contains("carol has no access to acme/threads"));
    assert_eq!(query(&back, "state").as_deref(), Some("st8"));
}

#[test]
fn codes_need_the_verifier_and_work_once() {
    let w = World::new();
    let client = w.register();
    let code = query(&w.sign_in(&w.ask(&client), "alice").unwrap(), "code").unwrap();
    let wrong = w.token(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("client_id", &client),
        (
            "code_verifier",
            "another-verifier-of-forty-three-characters-xx",
        ),
    ]);
    assert_eq!(wrong.unwrap_err().code, "invalid_grant");
    // The code was spent by the failed attempt: its second use revokes the grant.
    let again = w.exchange(&client, &code).unwrap_err();
    assert!(again.description.contains("already used"), "{again:?}");

    let code = query(&w.sign_in(&w.ask(&client), "alice").unwrap(), "code").unwrap();
    let first = w.exchange(&client, &code).unwrap();
    assert_eq!(
        w.exchange(&client, &code).unwrap_err().code,
        "invalid_grant"
    );
    let after = w.refresh(&client, &first.refresh_token).unwrap_err();
    assert_eq!(
        after.code, "invalid_grant",
        "the grant the reused code started is gone"
    );
}

#[test]
fn refresh_tokens_rotate_and_a_reused_one_revokes_the_grant() {
    let w = World::new();
    let client = w.register();
    let code = query(&w.sign_in(&w.ask(&client), "alice").unwrap(), "code").unwrap();
    let t1 = w.exchange(&client, &code).unwrap();
    let t2 = w.refresh(&client, &t1.refresh_token).unwrap();
    assert_ne!(t2.refresh_token, t1.refresh_token);
    assert_eq!(
        w.refresh("someone-else", &t2.refresh_token)
            .unwrap_err()
            .code,
        "invalid_grant"
    );
    // At once, t1 again is a race between two requests of this client: refused,
    // t2 untouched.
    let racing = w.refresh(&client, &t1.refresh_token).unwrap_err();
    assert!(racing.description.contains("moments ago"), "{racing:?}");
    let now = w.oauth.grants.now.get();
    w.oauth.grants.now.set(now + grants::ROTATION_GRACE_SECONDS);
    let stolen = w.refresh(&client, &t1.refresh_token).unwrap_err();
    assert!(stolen.description.contains("already used"), "{stolen:?}");
    assert_eq!(
        w.refresh(&client, &t2.refresh_token).unwrap_err().code,
        "invalid_grant"
    );
}

#[test]
fn removing_someone_on_github_ends_their_refreshes_and_revoke_ends_a_grant() {
    let w = World::new();
    let client = w.register();
    let code = query(&w.sign_in(&w.ask(&client), "alice").unwrap(), "code").unwrap();
    let t = w.exchange(&client, &code).unwrap();
    w.oauth
        .permissions
        .borrow_mut()
        .insert("alice".into(), Permission::Read);
    let t = w.refresh(&client, &t.refresh_token).unwrap();
    assert_eq!(t.scope, "threads:read", "write was taken away on GitHub");
    w.oauth.permissions.borrow_mut().remove("alice");
    let gone = w.refresh(&client, &t.refresh_token).unwrap_err();
    assert!(
        gone.description.contains("no longer has access"),
        "{gone:?}"
    );

    w.oauth
        .permissions
        .borrow_mut()
        .insert("alice".into(), Permission::Write);
    let code = query(&w.sign_in(&w.ask(&client), "alice").unwrap(), "code").unwrap();
    let t = w.exchange(&client, &code).unwrap();
    block_on(flow::revoke(&w.cx(), &t.access_token)).unwrap();
    assert_eq!(
        w.refresh(&client, &t.refresh_token).unwrap_err().code,
        "invalid_grant"
    );
    block_on(flow::revoke(&w.cx(), "unknown-token")).unwrap();
}

#[test]
fn authorize_refuses_what_cannot_be_trusted() {
    let w = World::new();
    let client = w.register();
    let page = |ask: AuthorizeRequest| match block_on(flow::authorize(&w.cx(), &ask, BROWSER)) {
        Err(Refused::Page(why)) => why,
        other => panic!("{other:?}"),
    };
    // Nothing goes to the redirect URI before consent: errors are pages.
    let back = |ask: AuthorizeRequest| match block_on(flow::authorize(&w.cx(), &ask, BROWSER)) {
        Err(Refused::Page(why)) => (
            why.rsplit_once('(')
                .unwrap()
                .1
                .trim_end_matches(')')
                .to_string(),
            BASE.to_string(),
        ),
        other => panic!("{other:?}"),
    };
    assert!(page(w.ask("nobody")).contains("not registered"));
    let mut ask = w.ask(&client);
    ask.redirect_uri = Some("https://evil.example/cb".into());
    assert!(page(ask).contains("not one this client registered"));
    let mut ask = w.ask(&client);
    ask.code_challenge_method = Some("plain".into());
    assert_eq!(back(ask), ("invalid_request".into(), BASE.into()));
    let mut ask = w.ask(&client);
    ask.scope = Some("admin".into());
    assert_eq!(back(ask).0, "invalid_scope");
    let mut ask = w.ask(&client);
    ask.resource = Some(format!("{BASE}/mcp/evil/x"));
    assert_eq!(back(ask).0, "invalid_target");
    let mut ask = w.ask(&client);
    ask.response_type = Some("token".into());
    assert_eq!(back(ask).0, "unsupported_response_type");
}

#[test]
fn a_token_for_one_repository_names_it_as_its_audience() {
    let w = World::new();
    let client = w.register();
    let mut ask = w.ask(&client);
    ask.resource = Some(format!("{BASE}/mcp/acme/notes"));
    let code = query(&w.sign_in(&ask, "alice").unwrap(), "code").unwrap();
    let t = w.exchange(&client, &code).unwrap();
    let claims = access::verify(&w.settings().signing_key, &t.access_token, 1_000_001).unwrap();
    assert_eq!(claims.aud, "https://wc.example/mcp/acme/notes");
    let repo = repo_of_resource(&w.config, &claims.aud).unwrap();
    assert_eq!((repo.owner.as_str(), repo.name.as_str()), ("acme", "notes"));
    assert_eq!(
        repo_of_resource(&w.config, "https://other.host/mcp").unwrap(),
        w.config.default_repo
    );
    assert!(repo_of_resource(&w.config, "https://wc.example/mcp/evil/x").is_none());
}

#[test]
fn registration_and_documents_take_only_safe_redirects_and_hosts() {
    let w = World::new();
    for bad in [
        r#"{"redirect_uris": ["http://evil.example/cb"]}"#,
        r#"{"redirect_uris": ["javascript:alert(1)"]}"#,
        r#"{"redirect_uris": ["http://127.0.0.1.evil.example/cb"]}"#,
        r#"{"redirect_uris": ["http://evil\\@127.0.0.1/cb"]}"#,
        r#"{"redirect_uris": ["https://user@app.example/cb"]}"#,
        r#"{"redirect_uris": ["https://ok.example/cb#frag"]}"#,
        r#"{"redirect_uris": []}"#,
        r#"not json"#,
    ] {
        assert!(
            block_on(clients::register(&w.oauth, bad.as_bytes(), 0, "addr")).is_err(),
            "{bad}"
        );
    }
    for good in [
        "https://app.example/cb",
        "http://localhost:8080/cb",
        "http://[::1]/cb",
        "cursor://anysphere.cursor-mcp/oauth/callback",
    ] {
        assert_eq!(clients::check_redirect_uri(good), Ok(()), "{good}");
    }
    for (url, dev, ok) in [
        ("https://client.example/meta.json", false, true),
        ("http://client.example/meta.json", false, false),
        ("https://10.0.0.5/meta.json", false, false),
        ("https://169.254.169.254/latest", false, false),
        ("https://[fd00::1]/m", false, false),
        ("https://intranet/m", false, false),
        ("https://10.0.0.1\\@example.com/", false, false),
        ("https://[::ffff:10.0.0.1]/m", false, false),
        ("https://0x7f.1/m", false, false),
        ("http://127.0.0.1:9000/m", false, false),
        ("http://127.0.0.1:9000/m", true, true),
    ] {
        assert_eq!(
            clients::document_url_allowed(url, dev).is_ok(),
            ok,
            "{url} dev={dev}"
        );
    }
}

#[test]
fn a_client_metadata_document_stands_in_for_registration() {
    let w = World::new();
    let url = "https://client.example/meta.json";
    let doc = format!(
        r#"{{"client_id": "{url}", "client_name": "Doc client", "redirect_uris": ["{REDIRECT}"]}}"#
    );
    w.oauth.web.documents.borrow_mut().insert(url.into(), doc);
    let back = w.sign_in(&w.ask(url), "alice").unwrap();
    assert!(w.exchange(url, &query(&back, "code").unwrap()).is_ok());
    let liar = "https://client.example/liar.json";
    w.oauth.web.documents.borrow_mut().insert(
        liar.into(),
        format!(r#"{{"client_id": "{url}", "redirect_uris": ["{REDIRECT}"]}}"#),
    );
    let Err(Refused::Page(why)) = block_on(flow::authorize(&w.cx(), &w.ask(liar), BROWSER)) else {
        panic!()
    };
    assert!(why.contains("its own URL"), "{why}");
}

#[test]
fn only_the_browser_that_started_a_sign_in_may_approve_or_finish_it() {
    let w = World::new();
    let client = w.register();
    let consent = block_on(flow::authorize(&w.cx(), &w.ask(&client), BROWSER)).unwrap();
    assert_eq!(consent.repo, "acme/threads");
    assert_eq!(consent.redirect_uri, REDIRECT);
    let Err(Refused::Page(why)) = block_on(flow::consent(&w.cx(), &consent.key, true, "other"))
    else {
        panic!("another browser approved")
    };
    assert!(why.contains("another browser"), "{why}");
    let to_github = block_on(flow::consent(&w.cx(), &consent.key, true, BROWSER)).unwrap();
    // A GitHub link carrying this sign-in, opened by someone else: their identity
    // must not reach this client.
    w.oauth
        .web
        .codes
        .borrow_mut()
        .insert("gh-victim".into(), "alice".into());
    let cb = Callback {
        code: Some("gh-victim".into()),
        state: query(&to_github, "state"),
        error: None,
    };
    let Err(Refused::Page(why)) = block_on(flow::callback(&w.cx(), &cb, "victim-browser")) else {
        panic!("a victim's sign-in went to the attacker's client")
    };
    assert!(why.contains("another browser"), "{why}");
    assert!(
        w.oauth.web.codes.borrow().contains_key("gh-victim"),
        "GitHub was not even asked"
    );

    // A GitHub link built without the consent page (state = a key the attacker saw):
    // not approved, refused even in the right browser.
    let consent = block_on(flow::authorize(&w.cx(), &w.ask(&client), BROWSER)).unwrap();
    w.oauth
        .web
        .codes
        .borrow_mut()
        .insert("gh-skip".into(), "alice".into());
    let skipped = Callback {
        code: Some("gh-skip".into()),
        state: Some(consent.key.clone()),
        error: None,
    };
    let Err(Refused::Page(why)) = block_on(flow::callback(&w.cx(), &skipped, BROWSER)) else {
        panic!("the consent page was skipped")
    };
    assert!(why.contains("not approved"), "{why}");

    let consent = block_on(flow::authorize(&w.cx(), &w.ask(&client), BROWSER)).unwrap();
    let Err(Refused::Redirect(back)) =
        block_on(flow::consent(&w.cx(), &consent.key, false, BROWSER))
    else {
        panic!()
    };
    assert_eq!(query(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(query(&back, "state").as_deref(), Some("st8"));
}

#[test]
fn native_apps_may_come_back_on_any_port_of_this_machine_only() {
    let w = World::new();
    let body = r#"{"redirect_uris": ["http://127.0.0.1/callback", "http://localhost/callback", "https://app.example/cb"]}"#;
    let client = block_on(clients::register(&w.oauth, body.as_bytes(), 1, "addr"))
        .unwrap()
        .client_id;
    let consent_for = |uri: &str| {
        let mut ask = w.ask(&client);
        ask.redirect_uri = Some(uri.into());
        block_on(flow::authorize(&w.cx(), &ask, BROWSER))
    };
    for ok in [
        "http://127.0.0.1:53124/callback",
        "http://localhost:8080/callback",
        "https://app.example/cb",
    ] {
        assert_eq!(consent_for(ok).unwrap().redirect_uri, ok);
    }
    for bad in [
        "https://app.example:8443/cb",
        "http://127.0.0.1:53124/other",
        "http://127.0.0.1.evil.example:80/callback",
        "http://evil\\@127.0.0.1/callback",
    ] {
        assert!(matches!(consent_for(bad), Err(Refused::Page(_))), "{bad}");
    }
    let mut ask = w.ask(&client);
    ask.resource = None;
    let Err(Refused::Page(why)) = block_on(flow::authorize(&w.cx(), &ask, BROWSER)) else {
        panic!("a missing resource was guessed")
    };
    assert!(why.contains("send resource="), "{why}");
}
