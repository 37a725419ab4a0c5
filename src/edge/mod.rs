//! The Worker: thin glue from Cloudflare's runtime to the pure core. It reads
//! bindings and secrets, adapts `fetch`, R2 and timers to the core's traits, and
//! converts requests and responses. No logic lives here.

mod effects;

use crate::api::{self, ApiRequest, ApiResponse, App};
use crate::config::{Config, SETTINGS};
use crate::store::{RetryPolicy, Store, StoreConfig};
use effects::{FetchHttp, R2Cache, WorkerClock};
use worker::{event, Context, Env, Headers, Request, Response, Result};

fn setting(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .map(|v| v.to_string())
        .ok()
        .or_else(|| env.secret(name).map(|v| v.to_string()).ok())
}

#[event(fetch)]
pub async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let api_req = to_api_request(req).await?;
    let resp = match Config::from_lookup(|name| SETTINGS.contains(&name).then(|| setting(&env, name)).flatten()) {
        Err(e) => api::config_error_response(&api_req, &e),
        Ok(config) => match env.bucket("THREADS_CACHE") {
            Err(_) => api::config_error_response(
                &api_req,
                &crate::config::ConfigError {
                    setting: "THREADS_CACHE",
                    message: "the R2 bucket binding is missing; add [[r2_buckets]] binding = \"THREADS_CACHE\" to wrangler.toml".into(),
                },
            ),
            Ok(bucket) => serve(&config, bucket, &api_req).await,
        },
    };
    to_worker_response(resp)
}

async fn serve(config: &Config, bucket: worker::Bucket, req: &ApiRequest) -> ApiResponse {
    let clock = WorkerClock;
    let cache = R2Cache::new(bucket);
    let git = crate::github::GitHubClient::new(
        FetchHttp,
        &config.api_base,
        config.repo.clone(),
        &config.github_token,
        concat!("watercooler-worker/", env!("CARGO_PKG_VERSION")),
        || worker::Date::now().as_millis() / 1000,
    );
    let store_config = StoreConfig {
        threads_dir: config.threads_dir.clone(),
        cache_ttl_ms: config.cache_ttl_seconds * 1000,
        cache_namespace: format!(
            "v1/{}/{}/{}",
            config.repo.owner, config.repo.name, config.repo.branch
        ),
        retry: RetryPolicy::default(),
    };
    let app = App {
        config,
        store: Store {
            git: &git,
            cache: &cache,
            clock: &clock,
            config: &store_config,
        },
        clock: &clock,
    };
    api::handle(&app, req).await
}

async fn to_api_request(mut req: Request) -> Result<ApiRequest> {
    let url = req.url()?;
    let headers = req
        .headers()
        .entries()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    let body = match req.method() {
        worker::Method::Get | worker::Method::Head => Vec::new(),
        _ => req.bytes().await.unwrap_or_default(),
    };
    Ok(ApiRequest {
        method: req.method().to_string(),
        path: url.path().to_string(),
        query: url.query().unwrap_or("").to_string(),
        headers,
        body,
    })
}

fn to_worker_response(resp: ApiResponse) -> Result<Response> {
    let headers = Headers::new();
    for (k, v) in &resp.headers {
        headers.set(k, v)?;
    }
    let out = if resp.body.is_empty() {
        Response::empty()?
    } else {
        Response::from_bytes(resp.body)?
    };
    Ok(out.with_status(resp.status).with_headers(headers))
}
