//! The Worker: thin glue from Cloudflare's runtime to the pure core. It reads
//! bindings and secrets, adapts `fetch`, R2, timers and the Durable Object to the
//! core's traits, and converts requests and responses. No logic lives here.

mod branch_writer;
mod effects;
mod grants;
mod search;

use crate::config::{Config, ConfigError, GitHubAuth, SETTINGS};
use crate::github::app::{App, Credentials, TokenCache};
use crate::github::http::TimedHttp;
use crate::github::signin::Permission;
use crate::http::json::{too_large, MAX_REQUEST_BYTES};
use crate::http::{self, ApiRequest, ApiResponse};
use crate::service::oauth::OAuthEffects;
use crate::service::{Effects, Service};
use crate::store::{Store, StoreConfig};
use branch_writer::DoQueue;
use effects::{FetchHttp, R2Cache, WebCryptoSigner, WorkerClock};
use grants::DoGrants;
use std::rc::Rc;
use worker::{event, Context, Env, Headers, Request, Response, Result};

fn setting(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .map(|v| v.to_string())
        .ok()
        .or_else(|| env.secret(name).map(|v| v.to_string()).ok())
}

/// The configuration and bindings every request needs.
struct Parts {
    config: Config,
    bucket: worker::Bucket,
}

thread_local! {
    /// The configuration, read once per isolate: vars and secrets only change with a
    /// deployment, which starts new isolates.
    static CONFIG: std::cell::RefCell<Option<Config>> = const { std::cell::RefCell::new(None) };
}

fn parts(env: &Env) -> std::result::Result<Parts, ConfigError> {
    let config = match CONFIG.with(|c| c.borrow().clone()) {
        Some(config) => config,
        None => {
            let config = Config::from_lookup(|name| {
                SETTINGS
                    .iter()
                    .any(|s| s.name == name)
                    .then(|| setting(env, name))
                    .flatten()
            })?;
            CONFIG.with(|c| *c.borrow_mut() = Some(config.clone()));
            config
        }
    };
    let bucket = env.bucket("THREADS_CACHE").map_err(|_| ConfigError {
        setting: "THREADS_CACHE",
        message: "the R2 bucket binding is missing; add [[r2_buckets]] binding = \"THREADS_CACHE\" to wrangler.toml".into(),
    })?;
    Ok(Parts { config, bucket })
}

/// The clock every effect shares.
static CLOCK: WorkerClock = WorkerClock;

/// GitHub over `fetch`, every request with the configured timeout, as the token or
/// the GitHub App the configuration names.
type EdgeGitHub =
    crate::github::GitHubClient<TimedHttp<'static, FetchHttp, WorkerClock>, WebCryptoSigner>;

thread_local! {
    /// The GitHub App's installation tokens, kept by the isolate across requests.
    static APP_TOKENS: Rc<TokenCache> = Rc::default();
}

fn github(config: &Config) -> EdgeGitHub {
    let credentials = match &config.github {
        GitHubAuth::Token(t) => Credentials::Token(t.clone()),
        GitHubAuth::App { app_id, key_pkcs8 } => Credentials::App(App {
            app_id: app_id.clone(),
            signer: WebCryptoSigner {
                key_pkcs8: key_pkcs8.clone(),
            },
            tokens: APP_TOKENS.with(Rc::clone),
        }),
    };
    crate::github::GitHubClient::with_credentials(
        TimedHttp {
            inner: FetchHttp { max_body: None },
            clock: &CLOCK,
            timeout_ms: config.github_timeout_ms,
        },
        &config.api_base,
        config.repo.clone(),
        credentials,
        concat!("watercooler-worker/", env!("CARGO_PKG_VERSION")),
        || worker::Date::now().as_millis() / 1000,
    )
}

fn store_config(config: &Config) -> StoreConfig {
    StoreConfig {
        threads_dir: config.threads_dir.clone(),
        cache_ttl_ms: config.cache_ttl_seconds * 1000,
        not_found_ttl_ms: config.not_found_cache_seconds * 1000,
        cache_namespace: format!(
            "v1/{}/{}/{}",
            config.repo.owner, config.repo.name, config.repo.branch
        ),
    }
}

/// Panics log their message (and location) instead of an opaque "unreachable".
#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[event(fetch)]
pub(crate) async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let api_req = match to_api_request(req).await? {
        Ok(r) => r,
        Err(bytes) => return to_worker_response(http::error::response(&too_large(bytes))),
    };
    let resp = match parts(&env) {
        Err(e) => http::config_error_response(&api_req, &e),
        Ok(p) => match http::target(&p.config, &api_req) {
            Err(refused) => refused,
            Ok(None) => serve(&env, &p.config, &p.bucket, &api_req).await,
            Ok(Some((config, req))) => serve(&env, &config, &p.bucket, &req).await,
        },
    };
    to_worker_response(resp)
}

/// The Worker's effects: GitHub over `fetch`, R2, the Workers clock, the Durable
/// Objects.
struct EdgeEffects;

impl Effects for EdgeEffects {
    type Git = EdgeGitHub;
    type Cache = R2Cache;
    type Clock = WorkerClock;
    type Queue = DoQueue;
    type OAuth = EdgeOAuth;
}

/// How long a request to GitHub's sign-in or to a client's metadata document may
/// take.
const WEB_TIMEOUT_MS: u64 = 5_000;

/// The largest answer read from GitHub's sign-in or a client's metadata document.
const WEB_MAX_BODY: usize = crate::service::oauth::clients::MAX_DOCUMENT_BYTES;

/// Sign-in's effects: the grant store, `fetch` with a timeout, WebCrypto's random
/// source, and GitHub permissions asked with the service's own identity.
struct EdgeOAuth {
    grants: DoGrants,
    web: TimedHttp<'static, FetchHttp, WorkerClock>,
}

impl OAuthEffects for EdgeOAuth {
    type Grants = DoGrants;
    type Web = TimedHttp<'static, FetchHttp, WorkerClock>;
    fn grants(&self) -> &DoGrants {
        &self.grants
    }
    fn web(&self) -> &Self::Web {
        &self.web
    }
    fn secret(&self) -> String {
        effects::secret()
    }
    async fn permission(
        &self,
        served: &Config,
        login: &str,
    ) -> std::result::Result<Permission, String> {
        let repo = &served.repo;
        github(served).permission_of(login).await.map_err(|e| {
            format!(
                "GitHub did not say what {login} may do on {}/{}: {e}",
                repo.owner, repo.name
            )
        })
    }
}

/// Serves a request from one repository: its GitHub client, cache namespace and
/// writer.
async fn serve(
    env: &Env,
    config: &Config,
    bucket: &worker::Bucket,
    req: &ApiRequest,
) -> ApiResponse {
    let queue = match DoQueue::for_branch(env, &config.repo) {
        Ok(q) => q,
        Err(e) => return http::config_error_response(req, &e),
    };
    let cache = R2Cache::new(bucket.clone());
    let git = github(config);
    let store_config = store_config(config);
    let oauth = EdgeOAuth {
        grants: DoGrants::new(env),
        web: TimedHttp {
            inner: FetchHttp {
                max_body: Some(WEB_MAX_BODY),
            },
            clock: &CLOCK,
            timeout_ms: WEB_TIMEOUT_MS,
        },
    };
    let svc: Service<'_, EdgeEffects> = Service {
        config,
        store: Store {
            git: &git,
            cache: &cache,
            clock: &CLOCK,
            config: &store_config,
        },
        queue: &queue,
        clock: &CLOCK,
        oauth: &oauth,
    };
    http::handle(&svc, req).await
}

/// The request as the core sees it, or the size of a body over the cap (413). The cap
/// is checked before anything else (auth included): first the declared
/// `Content-Length`, then while the body streams in, so an oversized body is never
/// buffered whole.
async fn to_api_request(mut req: Request) -> Result<std::result::Result<ApiRequest, u64>> {
    let url = req.url()?;
    let headers: Vec<(String, String)> = req
        .headers()
        .entries()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    let declared = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.trim().parse::<u64>().ok());
    if let Some(n) = declared.filter(|n| *n > MAX_REQUEST_BYTES as u64) {
        return Ok(Err(n));
    }
    let body = match req.method() {
        worker::Method::Get | worker::Method::Head => Vec::new(),
        _ => match read_capped(&mut req).await {
            Ok(b) => b,
            Err(n) => return Ok(Err(n as u64)),
        },
    };
    Ok(Ok(ApiRequest {
        base: url.origin().ascii_serialization(),
        method: req.method().to_string(),
        path: url.path().to_string(),
        query: url.query().unwrap_or("").to_string(),
        headers,
        body,
    }))
}

/// Reads a body of at most `MAX_REQUEST_BYTES`; `Err(bytes)` when it is more. Past
/// the cap nothing more is kept: the rest is read and dropped (answering before the
/// upload ends wedges some HTTP stacks, `wrangler dev` among them).
async fn read_capped(req: &mut Request) -> std::result::Result<Vec<u8>, usize> {
    use futures::StreamExt;
    let Ok(mut stream) = req.stream() else {
        return Ok(Vec::new());
    };
    let mut body = Vec::new();
    let mut total = 0;
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else { break };
        total += chunk.len();
        if total <= MAX_REQUEST_BYTES {
            body.extend_from_slice(&chunk);
        } else {
            body = Vec::new();
        }
    }
    match total > MAX_REQUEST_BYTES {
        true => Err(total),
        false => Ok(body),
    }
}

fn to_worker_response(resp: ApiResponse) -> Result<Response> {
    let headers = Headers::new();
    for (k, v) in &resp.headers {
        // Each cookie is its own header; any other header is set once.
        match k.eq_ignore_ascii_case("set-cookie") {
            true => headers.append(k, v)?,
            false => headers.set(k, v)?,
        }
    }
    let out = if resp.body.is_empty() {
        Response::empty()?
    } else {
        Response::from_bytes(resp.body)?
    };
    Ok(out.with_status(resp.status).with_headers(headers))
}
