//! The write commands, as both transports ask for them: say, ack, handoff and
//! set_status, built here (and only here) from the caller's raw fields, with the
//! author rule, the Entry-ID and the commit; and the sync actions.

use super::error::{ErrorCode, ServiceError};
use super::input;
use super::{Effects, Service};
use crate::auth::Principal;
use crate::github::Sha;
use crate::thread::{agent, ops, Author, EntryId, Operation, Topic};
use crate::writer::{QueueError, Submit, Submitted, SyncStatus, WriteQueue};

/// A write as a transport received it: raw fields, checked here.
#[derive(Debug, Clone, Default)]
pub struct Write<'a> {
    /// The thread.
    pub topic: &'a str,
    /// The agent the caller acts as (default: the token's).
    pub agent: Option<&'a str>,
    /// The idempotency key (default: a new one).
    pub entry_id: Option<&'a str>,
    /// What to write.
    pub kind: WriteKind<'a>,
    /// Answer once the write is durable in the journal, without waiting for its
    /// commit.
    pub durable: bool,
}

/// The four writes. Field names are the transport's, for messages.
#[derive(Debug, Clone)]
pub enum WriteKind<'a> {
    /// Append an entry and pass the ball.
    Say {
        /// Required.
        title: Option<&'a str>,
        /// Required.
        body: Option<&'a str>,
        /// Default: `default_role`, else `implementer`.
        role: Option<&'a str>,
        /// A role the caller's context implies (MCP's `agent_func`).
        default_role: Option<String>,
        /// Default: `Note`.
        entry_type: Option<&'a str>,
        /// The transport's name for the entry type (`type` or `entry_type`).
        entry_type_field: &'static str,
    },
    /// Append an acknowledgement; the ball stays.
    Ack {
        /// Default: `Ack`.
        title: Option<&'a str>,
        /// Default: `ack`.
        body: Option<&'a str>,
    },
    /// Pass the ball, with an entry.
    Handoff {
        /// Default: the current holder's counterpart.
        target: Option<&'a str>,
        /// The transport's name for the target (`target` or `target_agent`).
        target_field: &'static str,
        /// Default: `handoff to <target>`.
        note: Option<&'a str>,
    },
    /// Set the Status header line.
    SetStatus {
        /// Required.
        status: Option<&'a str>,
    },
}

impl Default for WriteKind<'_> {
    fn default() -> Self {
        WriteKind::Ack {
            title: None,
            body: None,
        }
    }
}

/// How a write ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Committed now.
    Committed,
    /// Already in the thread (a replay, or a status it already had).
    Unchanged,
    /// Journaled; it lands when GitHub allows.
    Queued,
}

/// A write's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// How it ended.
    pub outcome: Outcome,
    /// The thread.
    pub topic: Topic,
    /// The entry's id (entry-appending writes).
    pub entry_id: Option<EntryId>,
    /// The commit that holds it (`None` while queued, or for a no-op).
    pub commit_sha: Option<Sha>,
    /// The file's blob sha after it (unless queued).
    pub blob_sha: Option<Sha>,
    /// The file after it (unless queued).
    pub content: Option<String>,
    /// How the two readings of the thread differ (files written elsewhere).
    pub warnings: Vec<String>,
    /// What was written.
    pub op: Operation,
    /// While queued: the thread's header as it will be once everything accepted
    /// lands.
    pub head: Option<crate::writer::Head>,
}

impl Written {
    /// A header field (Ball or Status): of the file as committed, or while queued,
    /// as it will be.
    pub fn header(&self, key: &str) -> Option<String> {
        let Some(c) = self.content.as_deref() else {
            let head = self.head.as_ref()?;
            return match key.to_ascii_lowercase().as_str() {
                "ball" => head.ball.clone(),
                "status" => head.status.clone(),
                _ => None,
            };
        };
        crate::thread::parse(c).header.get(key).map(str::to_string)
    }
}

/// What a caller hears when its write is journaled but not yet committed.
pub const QUEUED_MESSAGE: &str = "accepted and queued: GitHub is slow or refusing writes right now; the entry is stored and will be committed in order, exactly once (GET /v1/sync shows progress)";

/// Writes need a token with the write scope.
pub fn require_write(who: &Principal) -> Result<(), ServiceError> {
    if who.can_write {
        Ok(())
    } else {
        Err(ServiceError::new(
            ErrorCode::ReadOnly,
            "this token is read-only; writing needs a client token with the \"write\" scope, or signing in as someone who may push to the repository",
        ))
    }
}

/// A topic as given, parsed once here and trusted below.
pub fn topic_arg(t: &str) -> Result<Topic, ServiceError> {
    Topic::parse(t).map_err(|e| ServiceError::new(ErrorCode::InvalidTopic, format!("topic: {e}")))
}

/// The agent a request acts as: the given name (validated; its user tag, if any,
/// must be the token's), else the token's default agent, else none.
pub fn agent_for(agent: Option<&str>, who: &Principal) -> Result<Option<String>, ServiceError> {
    let Some(a) = agent else {
        return Ok(who.agent.clone());
    };
    input::single_line("agent", a)?;
    agent::validate(a, &who.user)
        .map(Some)
        .map_err(|e| ServiceError::field("agent", e))
}

/// The author of a write: the given agent (or the token's default), and the token's
/// user, which no request can change. A status change writes no entry, so without an
/// agent it is committed as `Team (user)`.
fn author_for(
    agent: Option<&str>,
    who: &Principal,
    op: &Operation,
) -> Result<Author, ServiceError> {
    let agent = match agent_for(agent, who)? {
        Some(a) => a,
        None if !op.appends_entry() => "Team".to_string(),
        None => return Err(ServiceError::new(
            ErrorCode::MissingField,
            "agent: is required (this token has no default agent): send e.g. \"agent\": \"Claude\"",
        )),
    };
    Ok(Author {
        agent,
        user: who.user.clone(),
    })
}

/// A handoff target as `Agent (user)`. It may name another user's agent; without a
/// tag it is the caller's user.
fn handoff_target(
    field: &str,
    raw: Option<&str>,
    who: &Principal,
) -> Result<Option<String>, ServiceError> {
    let Some(t) = raw else { return Ok(None) };
    input::single_line(field, t)?;
    agent::validate_author(t, &who.user)
        .map(Some)
        .map_err(|e| ServiceError::field(field, e))
}

fn required<'a>(field: &str, v: Option<&'a str>) -> Result<&'a str, ServiceError> {
    v.ok_or_else(|| ServiceError::missing(field))
}

/// The operation a write asks for, every field checked.
fn operation(kind: &WriteKind<'_>, who: &Principal) -> Result<Operation, ServiceError> {
    let body = |name: &str, v: &str| input::body(name, v, false);
    Ok(match kind {
        WriteKind::Say {
            title,
            body: text,
            role,
            default_role,
            entry_type,
            entry_type_field,
        } => Operation::Say {
            title: input::title("title", required("title", *title)?)?,
            body: body("body", required("body", *text)?)?,
            role: match (role, default_role) {
                (Some(r), _) => input::label("role", r)?,
                (None, Some(r)) => r.clone(),
                (None, None) => ops::DEFAULT_ROLE.to_string(),
            },
            entry_type: input::label(entry_type_field, entry_type.unwrap_or(ops::DEFAULT_TYPE))?,
        },
        WriteKind::Ack { title, body: text } => Operation::Ack {
            title: title.map(|t| input::title("title", t)).transpose()?,
            body: text.map(|b| body("body", b)).transpose()?,
        },
        WriteKind::Handoff {
            target,
            target_field,
            note,
        } => Operation::Handoff {
            target: handoff_target(target_field, *target, who)?,
            note: note.map(|n| body("note", n)).transpose()?,
        },
        WriteKind::SetStatus { status } => Operation::SetStatus {
            status: input::status("status", required("status", *status)?)?,
        },
    })
}

impl<E: Effects> Service<'_, E> {
    /// A fresh Entry-ID.
    pub fn new_entry_id(&self) -> EntryId {
        use crate::clock::{Clock, Entropy};
        EntryId::new(
            self.clock.now_ms(),
            self.clock.random_u64(),
            self.clock.random_u64(),
        )
    }

    /// Checks a write and hands it to the branch's writer.
    pub async fn write(&self, who: &Principal, w: Write<'_>) -> Result<Written, ServiceError> {
        require_write(who)?;
        let topic = topic_arg(w.topic)?;
        let op = operation(&w.kind, who)?;
        let author = author_for(w.agent, who, &op)?;
        let entry_id = w
            .entry_id
            .map(|id| input::entry_id("entry_id", id))
            .transpose()?;
        self.commit(&topic, &author, &op, entry_id, w.durable).await
    }

    /// Hands `op` to the branch's writer and reports how it ended. Entry-appending
    /// operations get `entry_id`, or a fresh one.
    async fn commit(
        &self,
        topic: &Topic,
        author: &Author,
        op: &Operation,
        entry_id: Option<EntryId>,
        durable: bool,
    ) -> Result<Written, ServiceError> {
        let entry_id = op
            .appends_entry()
            .then(|| entry_id.unwrap_or_else(|| self.new_entry_id()));
        let submit = Submit {
            topic: topic.clone(),
            author: author.clone(),
            op: op.clone(),
            entry_id: entry_id.clone(),
            durable,
        };
        let outcome = self.queue.submit(&submit).await.map_err(|e| {
            ServiceError::writer_unavailable(&e.to_string(), "retry with the same entry_id")
                .with_entry_id(entry_id.as_deref())
        })?;
        let mut written = Written {
            outcome: Outcome::Queued,
            topic: topic.clone(),
            entry_id: entry_id.clone(),
            commit_sha: None,
            blob_sha: None,
            content: None,
            warnings: vec![],
            op: op.clone(),
            head: None,
        };
        match outcome {
            Submitted::Committed {
                commit_sha,
                replayed,
                ..
            } => {
                // The writer updated the cache from its commit: this read is free.
                let file = self.store.read_thread(topic).await.ok();
                written.outcome = match commit_sha.is_some() && !replayed {
                    true => Outcome::Committed,
                    false => Outcome::Unchanged,
                };
                written.commit_sha = commit_sha;
                if let Some(f) = file {
                    written.warnings = crate::thread::read(&f.content).warnings;
                    written.blob_sha = Some(f.sha);
                    written.content = Some(f.content);
                }
                Ok(written)
            }
            Submitted::Queued { head, .. } => Ok(Written { head, ..written }),
            Submitted::Failed { code, reason, .. } => {
                Err(ServiceError::refused(code, reason, topic).with_entry_id(entry_id.as_deref()))
            }
        }
    }

    /// The sync actions: `status` (read scope), `now` and `retry` (write scope).
    pub async fn sync(&self, who: &Principal, action: &str) -> Result<SyncStatus, ServiceError> {
        let unreachable = |e: QueueError| {
            ServiceError::writer_unavailable(&e.to_string(), "try again in a few seconds")
        };
        let mut report = match action {
            "status" => self.queue.status().await.map_err(unreachable)?,
            "now" => {
                require_write(who)?;
                self.queue.flush_now().await.map_err(unreachable)?
            }
            "retry" => {
                require_write(who)?;
                self.queue.retry().await.map_err(unreachable)?
            }
            other => {
                return Err(ServiceError::field(
                    "action",
                    format!("must be status, now or retry, got {other:?}"),
                ))
            }
        };
        if action == "now" {
            if let Some(until) = report.github_wait_until_ms {
                use crate::clock::Clock;
                let secs = until.saturating_sub(self.clock.now_ms()).div_ceil(1000);
                report.message = Some(format!(
                    "GitHub asked for a wait (retry-after): nothing is sent for another {secs} s; the next attempt is then, on its own"
                ));
            }
        }
        Ok(report)
    }
}
