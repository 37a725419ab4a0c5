//! Events and waiting, as both transports ask for them: the cursor, the wait, and
//! the filters checked here, the waiting done by the branch's writer.

use super::command::topic_arg;
use super::error::{ErrorCode, ServiceError};
use super::{Effects, Service};
use crate::auth::Principal;
use crate::writer::events::parse_cursor;
use crate::writer::queue::EventQueue;
use crate::writer::waiting::{EventQuery, MAX_WAIT_MS};
use crate::writer::Event;

/// A wait as a transport received it: raw fields, checked here.
#[derive(Debug, Clone, Default)]
pub struct Watch<'a> {
    /// The cursor seen last (none: only the current cursor is wanted).
    pub since: Option<&'a str>,
    /// How long to wait for something new, in seconds (0 to 50).
    pub wait_seconds: Option<u64>,
    /// Only this thread.
    pub topic: Option<&'a str>,
    /// Only what makes it this agent's turn or is new for it (`Agent` or
    /// `Agent (user)`; the user is the token's unless it names one).
    pub agent: Option<&'a str>,
    /// The transport's names for the fields, for messages: (since, wait, agent).
    pub names: (&'static str, &'static str, &'static str),
    /// Also tell when accepted writes reach git (`committed` events).
    pub commits: bool,
}

/// What a waiter gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Events {
    /// The events, oldest first.
    pub events: Vec<Event>,
    /// The cursor to send next.
    pub cursor: String,
    /// Whom `for` meant, as `Agent (user)`.
    pub agent: Option<String>,
}

/// The longest wait, in seconds.
pub const MAX_WAIT_SECONDS: u64 = MAX_WAIT_MS / 1000;

impl<E: Effects> Service<'_, E> {
    /// Answers a waiter: the events after its cursor, at once or as soon as one
    /// comes, else none when its wait is over. A cursor older than the events kept
    /// is `stale_cursor`, carrying the current cursor.
    pub async fn events(&self, who: &Principal, w: Watch<'_>) -> Result<Events, ServiceError> {
        let (since_field, wait_field, agent_field) = w.names;
        let since = w
            .since
            .map(|s| {
                parse_cursor(s).ok_or_else(|| {
                    ServiceError::field(
                        since_field,
                        "not a cursor this server gave out; leave it out to get the current cursor",
                    )
                })
            })
            .transpose()?;
        let wait = w.wait_seconds.unwrap_or(0);
        if wait > MAX_WAIT_SECONDS {
            return Err(ServiceError::field(
                wait_field,
                format!("must be 0 to {MAX_WAIT_SECONDS} seconds, got {wait}"),
            ));
        }
        let topic = w.topic.map(topic_arg).transpose()?;
        let agent = w
            .agent
            .map(|a| {
                super::input::single_line(agent_field, a)?;
                crate::thread::agent::validate_author(a, &who.user)
                    .map_err(|e| ServiceError::field(agent_field, e))
            })
            .transpose()?;
        let q = EventQuery {
            since,
            wait_ms: wait * 1000,
            topic: topic.map(|t| t.to_string()),
            agent: agent.clone(),
            poll_outside: self.config.webhook_secret.is_none(),
            commits: w.commits,
        };
        let waited = self.queue.wait_events(&q).await.map_err(|e| {
            ServiceError::writer_unavailable(&e.to_string(), "wait again in a few seconds")
        })?;
        let cursor = waited.cursor.to_string();
        if waited.stale {
            let mut e = ServiceError::new(
                ErrorCode::StaleCursor,
                format!("{since_field}: this cursor is older than the events kept (or from elsewhere); re-read the threads you follow, then wait from cursor {cursor:?}"),
            );
            e.cursor = Some(cursor);
            return Err(e);
        }
        Ok(Events {
            events: waited.events,
            cursor,
            agent,
        })
    }
}
