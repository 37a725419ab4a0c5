//! Committing a validated operation, shared by the REST API and the MCP tools: the
//! author rule, Entry-ID assignment, the store write, and the answer's fields.

use super::error::ApiError;
use super::App;
use crate::auth::Principal;
use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::GitHost;
use crate::store::StoreError;
use crate::thread::{agent, Author, Operation};
use crate::writer::WriteQueue;
use crate::writer::{Submit, Submitted};
use serde_json::{json, Value};

/// A write's result: HTTP-style status (201 committed, 200 already there, 202
/// queued), the answer's JSON fields, and the file as it now is (unless queued).
#[derive(Debug, Clone)]
pub struct Committed {
    pub status: u16,
    pub answer: Value,
    pub content: Option<String>,
}

/// Writes need a token with the write scope.
pub fn require_write(who: &Principal) -> Result<(), ApiError> {
    if who.can_write {
        Ok(())
    } else {
        Err(ApiError::new(
            403,
            "forbidden",
            "this token is read-only; writing needs a token with the \"write\" scope",
        ))
    }
}

/// A handoff target as `Agent (user)`. It may name another user's agent; without a
/// tag it is the caller's user.
pub fn handoff_target(
    field: &str,
    raw: Option<&str>,
    who: &Principal,
) -> Result<Option<String>, ApiError> {
    let Some(t) = raw else { return Ok(None) };
    crate::validate::single_line(field, t)?;
    agent::validate_author(t, &who.user)
        .map(Some)
        .map_err(|e| ApiError::new(400, "invalid_field", format!("{field}: {e}")))
}

/// The author of a write: the given agent (or the token's default), and the token's
/// user, which no request can change. A status change writes no entry, so without an
/// agent it is committed as `Team (user)`.
pub fn author_for(
    agent: Option<&str>,
    who: &Principal,
    op: &Operation,
) -> Result<Author, ApiError> {
    let agent = match agent_for(agent, who)? {
        Some(a) => a,
        None if !op.appends_entry() => "Team".to_string(),
        None => return Err(ApiError::new(
            400,
            "missing_field",
            "agent: is required (this token has no default agent): send e.g. \"agent\": \"Claude\"",
        )),
    };
    Ok(Author {
        agent,
        user: who.user.clone(),
    })
}

/// The agent a request acts as: the given name (validated; its user tag, if any,
/// must be the token's), else the token's default agent, else none.
pub fn agent_for(agent: Option<&str>, who: &Principal) -> Result<Option<String>, ApiError> {
    let Some(a) = agent else {
        return Ok(who.agent.clone());
    };
    crate::validate::single_line("agent", a)?;
    agent::validate(a, &who.user)
        .map(Some)
        .map_err(|e| ApiError::new(400, "invalid_field", format!("agent: {e}")))
}

/// Hands `op` to the branch's writer and reports how it ended. Entry-appending
/// operations get `entry_id`, or a fresh one.
pub async fn commit<G: GitHost, C: Cache, K: Clock + Entropy, Q: WriteQueue>(
    app: &App<'_, G, C, K, Q>,
    topic: &str,
    author: &Author,
    op: &Operation,
    entry_id: Option<String>,
) -> Result<Committed, ApiError> {
    let entry_id = op
        .appends_entry()
        .then(|| entry_id.unwrap_or_else(|| app.new_entry_id()));
    let submit = Submit {
        topic: topic.to_string(),
        author: author.clone(),
        op: op.clone(),
        entry_id: entry_id.clone(),
    };
    let outcome = app.queue.submit(&submit).await.map_err(|e| {
        let mut err = ApiError::new(
            503,
            "writer_unavailable",
            format!("the write queue could not be reached ({e}); retry with the same entry_id"),
        );
        err.retry_after = Some(5);
        err.with_entry_id(entry_id.as_deref())
    })?;
    let mut answer = json!({});
    if let Some(id) = &entry_id {
        answer["entry_id"] = json!(id);
    }
    match outcome {
        Submitted::Committed {
            commit_sha,
            replayed,
            ..
        } => {
            // The writer updated the cache from its commit: this read is free.
            let file = app.store.read_thread(topic).await.ok();
            answer["commit_sha"] = json!(commit_sha);
            answer["blob_sha"] = json!(file.as_ref().map(|f| f.sha.clone()));
            if let Some(f) = &file {
                let warnings = crate::thread::read(&f.content).warnings;
                if !warnings.is_empty() {
                    answer["warnings"] = json!(warnings);
                }
            }
            let status = if commit_sha.is_some() && !replayed {
                201
            } else {
                answer["unchanged"] = json!(true);
                200
            };
            Ok(Committed {
                status,
                answer,
                content: file.map(|f| f.content),
            })
        }
        Submitted::Queued { .. } => {
            answer["commit_sha"] = Value::Null;
            answer["queued"] = json!(true);
            answer["message"] = json!(QUEUED_MESSAGE);
            Ok(Committed {
                status: 202,
                answer,
                content: None,
            })
        }
        Submitted::Failed { code, reason, .. } => {
            let err = match code.as_str() {
                "thread_not_found" => ApiError::from(StoreError::ThreadNotFound {
                    topic: topic.to_string(),
                }),
                "invalid_entry" => ApiError::new(422, "invalid_entry", reason),
                "entry_id_conflict" => ApiError::new(409, "entry_id_conflict", reason),
                "not_a_thread" => ApiError::new(409, "not_a_thread", reason),
                "thread_too_large" => ApiError::new(413, "thread_too_large", reason),
                _ => ApiError::new(
                    502,
                    "write_failed",
                    format!("{reason}; fix the cause, then POST /v1/sync/retry"),
                ),
            };
            Err(err.with_entry_id(entry_id.as_deref()))
        }
    }
}

/// What a caller hears when its write is journaled but not yet committed.
pub const QUEUED_MESSAGE: &str = "accepted and queued: GitHub is slow or refusing writes right now; the entry is stored and will be committed in order, exactly once (GET /v1/sync shows progress)";

/// The sync actions shared by `GET /v1/sync`, `POST /v1/sync/{now,retry}` and the MCP
/// tool: `status` (read scope), `now` and `retry` (write scope).
pub async fn sync_action<G: GitHost, C: Cache, K: Clock + Entropy, Q: WriteQueue>(
    app: &App<'_, G, C, K, Q>,
    who: &Principal,
    action: &str,
) -> Result<Value, ApiError> {
    let unreachable = |e: String| {
        ApiError::new(
            503,
            "writer_unavailable",
            format!("the write queue could not be reached ({e}); try again in a few seconds"),
        )
    };
    match action {
        "status" => Ok(json!(app.queue.status().await.map_err(unreachable)?)),
        "now" => {
            require_write(who)?;
            let status = app.queue.flush_now().await.map_err(unreachable)?;
            let mut v = json!(status);
            if let Some(until) = status.github_wait_until_ms {
                let secs = until.saturating_sub(app.clock.now_ms()).div_ceil(1000);
                v["message"] = json!(format!(
                    "GitHub asked for a wait (retry-after): nothing is sent for another {secs} s; the next attempt is then, on its own"
                ));
            }
            Ok(v)
        }
        "retry" => {
            require_write(who)?;
            let (retried, status) = app.queue.retry().await.map_err(unreachable)?;
            let mut v = json!(status);
            v["retried"] = json!(retried);
            Ok(v)
        }
        other => Err(ApiError::new(
            400,
            "invalid_field",
            format!("action: must be status, now or retry, got {other:?}"),
        )),
    }
}
