//! `push` webhooks, sent like GitHub sends them: after every change of a
//! branch (by the API, the admin seed route or a plain `git push` into a bare
//! repository) githost POSTs a signed, GitHub-shaped `push` payload to the
//! configured URL.
//!
//! - [`send`]: the HTTP POST, the HMAC-SHA256 signature, delivery ids;
//! - [`payload`]: the push payload, computed with git;
//! - [`hook`]: the `post-receive` hook installed in every repository and the
//!   poller that picks up what it records.
//!
//! Deliveries run on their own task after the ref update; their outcome is kept
//! in a short list ([`Webhooks::deliveries`]) and failures are logged to stderr.
//! They never change an API answer.

pub mod hook;
pub mod payload;
pub mod send;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::encoding::iso8601_utc;
use crate::git::{Repo, ZERO_SHA};
use crate::state::{lock, now_secs, AppState, SharedState};
use send::HookUrl;

/// How long a delivery may take (connect, send, answer).
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// How many delivery records [`Webhooks::deliveries`] keeps (the newest).
pub const MAX_RECORDS: usize = 100;
/// How much of a receiver's answer body a record keeps (bytes).
pub const MAX_RECORDED_ANSWER: usize = 2000;

/// Where deliveries go and how they are signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The receiver (plain `http://` only).
    pub url: HookUrl,
    /// The HMAC-SHA256 secret of `X-Hub-Signature-256`.
    pub secret: String,
    /// `X-GitHub-Hook-ID`: stable for a URL.
    pub hook_id: u64,
}

impl Target {
    /// A target for `url` (checked) signing with `secret` (not empty).
    pub fn new(url: &str, secret: &str) -> Result<Target, String> {
        let url = HookUrl::parse(url)?;
        if secret.is_empty() {
            return Err("a webhook needs a secret".to_string());
        }
        Ok(Target {
            hook_id: hook_id(url.as_str()),
            url,
            secret: secret.to_string(),
        })
    }
}

/// A stable hook id for `url` (nine digits, the same on every run).
pub fn hook_id(url: &str) -> u64 {
    let digest = Sha256::digest(format!("hook:{url}").as_bytes());
    let n = digest
        .iter()
        .take(4)
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    n % 900_000_000 + 100_000_000
}

/// One attempted delivery, as `GET /_githost/webhook/deliveries` lists it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Delivery {
    /// `X-GitHub-Delivery`.
    pub id: String,
    /// `X-GitHub-Hook-ID`.
    pub hook_id: u64,
    /// `X-GitHub-Event` (`push`).
    pub event: String,
    /// `owner/name`.
    pub repo: String,
    /// The full ref name.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// The old commit (40 zeros for a new branch).
    pub before: String,
    /// The new commit (40 zeros for a deleted branch).
    pub after: String,
    /// Where it was sent.
    pub url: String,
    /// The status code the receiver answered; `None` when it did not answer.
    pub status: Option<u16>,
    /// Why there is no answer (connection refused, timeout, ...).
    pub error: Option<String>,
    /// The start of the receiver's answer body.
    pub response: Option<String>,
    /// How long the attempt took, in milliseconds.
    pub duration_ms: u64,
    /// When it was sent (RFC 3339, UTC).
    pub at: String,
}

impl Delivery {
    /// Whether the receiver answered 2xx.
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Webhook settings and recent deliveries, part of [`AppState`].
#[derive(Debug, Default)]
pub struct Webhooks {
    target: Mutex<Option<Arc<Target>>>,
    deliveries: Mutex<VecDeque<Delivery>>,
}

impl Webhooks {
    /// Webhooks sent to `target` (`None` = off).
    pub fn new(target: Option<Target>) -> Self {
        Webhooks {
            target: Mutex::new(target.map(Arc::new)),
            deliveries: Mutex::new(VecDeque::new()),
        }
    }

    /// The current target, if webhooks are on.
    pub fn target(&self) -> Option<Arc<Target>> {
        lock(&self.target).clone()
    }

    /// Replace the target (`None` turns webhooks off).
    pub fn set_target(&self, target: Option<Target>) {
        *lock(&self.target) = target.map(Arc::new);
    }

    /// Recent deliveries, oldest first (at most [`MAX_RECORDS`]).
    pub fn deliveries(&self) -> Vec<Delivery> {
        lock(&self.deliveries).iter().cloned().collect()
    }

    /// Forget the recorded deliveries; returns how many there were.
    pub fn clear_deliveries(&self) -> usize {
        let mut list = lock(&self.deliveries);
        let n = list.len();
        list.clear();
        n
    }

    fn record(&self, delivery: Delivery) {
        let mut list = lock(&self.deliveries);
        while list.len() >= MAX_RECORDS {
            list.pop_front();
        }
        list.push_back(delivery);
    }
}

/// A change of one ref in one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefChange {
    /// Repository owner.
    pub owner: String,
    /// Repository name.
    pub name: String,
    /// Full ref name, e.g. `refs/heads/main`.
    pub full_ref: String,
    /// Old commit, [`ZERO_SHA`] when the ref was created.
    pub before: String,
    /// New commit, [`ZERO_SHA`] when the ref was deleted.
    pub after: String,
}

impl RefChange {
    /// `owner/name`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    /// Whether GitHub would send a `push` for it: a branch that really moved.
    pub fn is_branch_push(&self) -> bool {
        self.full_ref.starts_with("refs/heads/")
            && self.full_ref.len() > "refs/heads/".len()
            && self.before != self.after
            && !(self.before == ZERO_SHA && self.after == ZERO_SHA)
    }
}

/// Who pushed: `pusher` and `sender` of the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pusher {
    /// The sender's login (`<slug>[bot]` for the app's bot).
    pub login: String,
    /// `pusher.name`.
    pub name: String,
    /// `pusher.email`.
    pub email: String,
    /// Whether the sender is a bot (the GitHub App's installation).
    pub bot: bool,
}

impl Pusher {
    /// A user (login, `<id>+<login>@users.noreply.github.com`).
    pub fn user(login: &str) -> Pusher {
        let sig = crate::users::user_signature(login);
        Pusher {
            login: login.to_string(),
            name: sig.name,
            email: sig.email,
            bot: false,
        }
    }

    /// The dev user: who plain `git push`es and the admin seed route push as.
    pub fn dev_user(state: &AppState) -> Pusher {
        let login = state.identity.dev_user.clone();
        let login = lock(&state.users)
            .login(&login)
            .map_or(login.clone(), str::to_string);
        Pusher::user(&login)
    }
}

/// Send a `push` for `change` when webhooks are on and it is a branch push;
/// returns at once (the delivery runs on its own task).
pub fn notify(state: &SharedState, change: RefChange, pusher: Pusher) {
    if !change.is_branch_push() {
        return;
    }
    let Some(target) = state.webhooks.target() else {
        return;
    };
    let state = state.clone();
    tokio::spawn(async move {
        deliver(&state, &target, &change, &pusher).await;
    });
}

/// Build, sign and send one `push`, then record and log the outcome.
pub async fn deliver(state: &AppState, target: &Target, change: &RefChange, pusher: &Pusher) {
    let id = send::delivery_id();
    let at = iso8601_utc(i64::try_from(now_secs()).unwrap_or(i64::MAX));
    let started = Instant::now();
    let outcome = match state.repo_path(&change.owner, &change.name) {
        None => Err("invalid repository name".to_string()),
        Some(path) => {
            let repo = Repo::new(path);
            match payload::push_payload(&repo, &state.base_url, change, pusher).await {
                Err(e) => Err(format!("cannot build the payload: {e}")),
                Ok(value) => {
                    let body = serde_json::to_vec(&value).unwrap_or_default();
                    let request = send::HookRequest {
                        event: "push",
                        delivery: &id,
                        hook_id: target.hook_id,
                        repo_id: crate::api::render::repo_id(&change.owner, &change.name),
                        body: &body,
                    };
                    send::post(&target.url, &target.secret, &request, DELIVERY_TIMEOUT).await
                }
            }
        }
    };
    let mut delivery = Delivery {
        id,
        hook_id: target.hook_id,
        event: "push".to_string(),
        repo: change.full_name(),
        git_ref: change.full_ref.clone(),
        before: change.before.clone(),
        after: change.after.clone(),
        url: target.url.as_str().to_string(),
        status: None,
        error: None,
        response: None,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        at,
    };
    match outcome {
        Ok(answer) => {
            delivery.status = Some(answer.status);
            delivery.response = Some(answer.body);
        }
        Err(e) => delivery.error = Some(e),
    }
    log(state, &delivery);
    state.webhooks.record(delivery);
}

/// One stderr line per failed delivery (per delivery with request logging on).
fn log(state: &AppState, d: &Delivery) {
    let what = format!("webhook {} {} {} -> {}", d.event, d.repo, d.git_ref, d.url);
    match (&d.error, d.status) {
        (Some(error), _) => eprintln!("githost: {what} failed: {error} (delivery {})", d.id),
        (None, Some(status)) if !d.ok() => eprintln!(
            "githost: {what} failed: answered {status} (delivery {})",
            d.id
        ),
        (None, Some(status)) if state.request_logging() => {
            eprintln!("{what} {status} {}ms", d.duration_ms);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(before: &str, after: &str, full_ref: &str) -> RefChange {
        RefChange {
            owner: "o".into(),
            name: "r".into(),
            full_ref: full_ref.into(),
            before: before.into(),
            after: after.into(),
        }
    }

    #[test]
    fn only_branch_moves_are_pushes() {
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        assert!(change(&a, &b, "refs/heads/main").is_branch_push());
        assert!(change(ZERO_SHA, &b, "refs/heads/x").is_branch_push());
        assert!(change(&a, ZERO_SHA, "refs/heads/x").is_branch_push());
        assert!(!change(&a, &a, "refs/heads/main").is_branch_push());
        assert!(!change(&a, &b, "refs/tags/v1").is_branch_push());
        assert!(!change(&a, &b, "refs/heads/").is_branch_push());
    }

    #[test]
    fn targets_and_records() {
        assert!(Target::new("http://127.0.0.1:1/x", "").is_err());
        assert!(Target::new("https://example.com/x", "s").is_err());
        let t = Target::new("http://127.0.0.1:8787/webhooks/github", "s").unwrap();
        assert_eq!(t.hook_id, hook_id("http://127.0.0.1:8787/webhooks/github"));
        assert!((100_000_000..1_000_000_000).contains(&t.hook_id));
        let hooks = Webhooks::new(Some(t));
        assert!(hooks.target().is_some());
        for i in 0..MAX_RECORDS + 5 {
            hooks.record(Delivery {
                id: i.to_string(),
                hook_id: 1,
                event: "push".into(),
                repo: "o/r".into(),
                git_ref: "refs/heads/main".into(),
                before: ZERO_SHA.into(),
                after: ZERO_SHA.into(),
                url: String::new(),
                status: Some(200),
                error: None,
                response: None,
                duration_ms: 0,
                at: String::new(),
            });
        }
        let list = hooks.deliveries();
        assert_eq!(list.len(), MAX_RECORDS);
        assert_eq!(list[0].id, "5");
        assert!(list[0].ok());
        assert_eq!(hooks.clear_deliveries(), MAX_RECORDS);
        hooks.set_target(None);
        assert!(hooks.target().is_none());
    }
}
