//! GitHub's webhooks: a `push` to a served branch re-reads the thread files it
//! touched (the cache learns them, and the listing is marked stale), so readers see
//! outside changes at once rather than after CACHE_TTL_SECONDS, and publishes the
//! events they brought to the waiters. Deliveries are signed with
//! GITHUB_WEBHOOK_SECRET (`X-Hub-Signature-256`, HMAC-SHA256), checked in constant
//! time before anything is read from them.

use super::{Effects, Service};
use crate::writer::outside::Seen;
use crate::writer::queue::EventQueue;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// The trailer every commit of this service carries: such commits changed nothing
/// the cache does not already hold.
const OWN_TRAILER: &str = "\nWatercooler-Topic: ";

/// Thread files re-read and told per delivery (one GitHub request each, within the
/// subrequest budget); the rest are only marked stale.
const MAX_OBSERVED: usize = 8;

/// GitHub sends at most this many commits in a push payload; a push with more may
/// have touched files it does not list.
const MAX_LISTED_COMMITS: usize = 20;

/// Whether `header` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under `secret`.
pub fn signature_valid(secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Some(tag) = decode_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&tag).is_ok()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[derive(Deserialize)]
struct Push {
    #[serde(rename = "ref")]
    git_ref: String,
    #[serde(default)]
    commits: Vec<PushCommit>,
    #[serde(default)]
    forced: bool,
}

#[derive(Deserialize)]
struct PushCommit {
    #[serde(default)]
    message: String,
    #[serde(default)]
    added: Vec<String>,
    #[serde(default)]
    modified: Vec<String>,
    #[serde(default)]
    removed: Vec<String>,
}

/// What a delivery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// A `ping`: the hook is set up.
    Pong,
    /// Nothing to do, and why.
    Ignored(String),
    /// Cached copies refreshed: the thread files named, and the events they brought.
    Refreshed {
        /// Thread files the push touched (outside this service's own commits).
        files: Vec<String>,
        /// How many new events they made.
        events: usize,
    },
}

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No GITHUB_WEBHOOK_SECRET: webhooks are off.
    Off,
    /// The signature is missing or wrong: nothing was read.
    BadSignature,
    /// A signed `push` whose body is not a push payload.
    BadPayload(String),
    /// The cache is refreshed, but the branch's writer could not be told: waiters
    /// did not hear of it (redeliver the push from GitHub's webhook page).
    Unavailable(String),
}

impl<E: Effects> Service<'_, E> {
    /// Takes one webhook delivery: `event` is `X-GitHub-Event`, `signature`
    /// `X-Hub-Signature-256`.
    pub async fn webhook(
        &self,
        event: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<Delivered, Refusal> {
        let secret = self.config.webhook_secret.as_deref().ok_or(Refusal::Off)?;
        if !signature_valid(secret.as_bytes(), body, signature) {
            return Err(Refusal::BadSignature);
        }
        match event {
            Some("ping") => return Ok(Delivered::Pong),
            Some("push") => {}
            other => {
                return Ok(Delivered::Ignored(format!(
                    "event {:?} is not used",
                    other.unwrap_or("")
                )))
            }
        }
        let push: Push =
            serde_json::from_slice(body).map_err(|e| Refusal::BadPayload(e.to_string()))?;
        let branch = &self.config.repo.branch;
        if push.git_ref != format!("refs/heads/{branch}") {
            return Ok(Delivered::Ignored(format!(
                "{} is not the branch served ({branch})",
                push.git_ref
            )));
        }
        let mut files: Vec<String> = push
            .commits
            .iter()
            .filter(|c| !c.message.contains(OWN_TRAILER))
            .flat_map(|c| c.added.iter().chain(&c.modified).chain(&c.removed))
            .filter(|p| self.store.is_thread_path(p))
            .cloned()
            .collect();
        files.sort();
        files.dedup();
        let unlisted = push.forced || push.commits.len() >= MAX_LISTED_COMMITS;
        if files.is_empty() && !unlisted {
            return Ok(Delivered::Ignored(
                "no thread file changed outside this service".into(),
            ));
        }
        let added: Vec<&String> = push.commits.iter().flat_map(|c| &c.added).collect();
        let seen: Vec<Seen> = self
            .store
            .refresh(&files, MAX_OBSERVED)
            .await
            .into_iter()
            .filter_map(|path| Seen::at(&path, !added.contains(&&path)))
            .collect();
        let events = match seen.is_empty() {
            true => 0,
            false => self
                .queue
                .learn(seen)
                .await
                .map_err(|e| Refusal::Unavailable(e.to_string()))?,
        };
        Ok(Delivered::Refreshed { files, events })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_githubs_hmac_sha256() {
        // GitHub's documented example: secret "It's a Secret to Everybody", body
        // "Hello, World!".
        let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        let (secret, body) = (
            b"It's a Secret to Everybody".as_slice(),
            b"Hello, World!".as_slice(),
        );
        assert!(signature_valid(secret, body, Some(good)));
        assert!(!signature_valid(secret, b"Hello, World?", Some(good)));
        assert!(!signature_valid(b"other", body, Some(good)));
        for bad in [
            None,
            Some(""),
            Some("sha1=757107ea"),
            Some("sha256=zz"),
            Some("sha256=7571"),
        ] {
            assert!(!signature_valid(secret, body, bad), "{bad:?}");
        }
    }
}
