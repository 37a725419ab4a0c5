//! Committing a validated operation, shared by the REST API and the MCP tools: the
//! author rule, Entry-ID assignment, the store write, and the answer's fields.

use super::error::ApiError;
use super::App;
use crate::auth::Principal;
use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::GitHost;
use crate::store::{WriteOutcome, WriteRequest};
use crate::thread::{agent, Author, Operation};
use serde_json::{json, Value};

/// A write's result: HTTP-style status (201 committed, 200 unchanged), the answer's
/// JSON fields, and the file as it now is.
#[derive(Debug, Clone)]
pub struct Committed {
    pub status: u16,
    pub answer: Value,
    pub content: String,
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
    let (base, tag) = agent::split_tag(t);
    let tag = tag.unwrap_or(&who.user);
    let base = agent::validate(base, tag)
        .map_err(|e| ApiError::new(400, "invalid_field", format!("{field}: {e}")))?;
    Ok(Some(format!("{base} ({tag})")))
}

/// The author of a write: the given agent (or the token's default), and the token's
/// user, which no request can change. A status change writes no entry, so without an
/// agent it is committed as `Team (user)`.
pub fn author_for(
    agent: Option<&str>,
    who: &Principal,
    op: &Operation,
) -> Result<Author, ApiError> {
    let agent = match (agent, &who.agent) {
        (Some(a), _) => agent::validate(a, &who.user)
            .map_err(|e| ApiError::new(400, "invalid_field", format!("agent: {e}")))?,
        (None, Some(default)) => default.clone(),
        (None, None) if !op.appends_entry() => "Team".to_string(),
        (None, None) => return Err(ApiError::new(
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

/// Commits `op`. Entry-appending operations get `entry_id`, or a fresh one.
pub async fn commit<G: GitHost, C: Cache, K: Clock + Entropy>(
    app: &App<'_, G, C, K>,
    topic: &str,
    author: &Author,
    op: &Operation,
    entry_id: Option<String>,
) -> Result<Committed, ApiError> {
    let entry_id = op
        .appends_entry()
        .then(|| entry_id.unwrap_or_else(|| app.new_entry_id()));
    let entry_id = entry_id.as_deref();
    let outcome = app
        .store
        .write(&WriteRequest {
            topic,
            author,
            op,
            entry_id,
        })
        .await
        .map_err(|e| ApiError::from(e).with_entry_id(entry_id))?;
    let mut answer = json!({});
    if let Some(id) = entry_id {
        answer["entry_id"] = json!(id);
    }
    let (status, content) = match outcome {
        WriteOutcome::Committed {
            commit_sha,
            blob_sha,
            content,
            attempts,
        } => {
            answer["commit_sha"] = json!(commit_sha);
            answer["blob_sha"] = json!(blob_sha);
            answer["attempts"] = json!(attempts);
            (201, content)
        }
        WriteOutcome::Unchanged { blob_sha, content } => {
            answer["commit_sha"] = Value::Null;
            answer["blob_sha"] = json!(blob_sha);
            answer["unchanged"] = json!(true);
            (200, content)
        }
    };
    Ok(Committed {
        status,
        answer,
        content,
    })
}
