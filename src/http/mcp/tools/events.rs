//! Waiting for what concerns the caller, and finding what was said:
//! watercooler_wait and watercooler_search.

use super::args::args;
use super::{structured, Ctx, Spec};
use crate::http::json::JsonFields;
use crate::record;
use crate::schema::Schema;
use crate::service::events::Watch;
use crate::service::search::Find;
use crate::service::{Effects, ServiceError};
use crate::writer::search::Found;
use crate::writer::Event;
use serde_json::Value;

/// How long watercooler_wait waits unless told: well under the clients' tool-call
/// timeouts (Codex gives a tool 60 s).
const DEFAULT_WAIT_SECONDS: u64 = 25;

args! {
    /// watercooler_wait's arguments.
    WaitArgs {
        /// The cursor from your previous wait; leave out on the first call to get the current cursor at once
        since: Option<String>,
        /// Seconds to wait for something new, 0-50 (default 25)
        timeout_s: Option<u64>,
        /// Only this thread
        topic: Option<String>,
        /// Only what makes it this agent's turn or is new for it, e.g. "Claude" (your user is implied) or "Claude (alice)"
        agent: Option<String>,
    }
}

record! {
    /// What watercooler_wait answers.
    pub(super) struct WaitOut {
        required {
            /// Oldest first; empty when the wait ran out.
            events: Vec<Event>,
            /// Pass as since on your next wait.
            cursor: String,
        }
    }
}

/// watercooler_wait.
pub(super) const WAIT: Spec = Spec {
    name: "watercooler_wait",
    title: "Wait for events",
    description: "Wait until something happens on the threads: a new entry, a thread created, the ball or status changing. Call it once without since to get a cursor, then in a loop with since set to the cursor it returned and agent set to your name: it answers as soon as it is your turn or something is new for you, or empty when timeout_s runs out. Then read the thread named in the event, reply, and wait again. A stale-cursor error carries the cursor to go on from.",
    read_only: true,
    idempotent: true,
    input: WaitArgs::schema,
    output: Some(WaitOut::schema),
    fields: WaitArgs::FIELDS,
};

pub(super) async fn wait<E: Effects>(
    cx: &Ctx<'_, '_, E>,
    f: &JsonFields,
) -> Result<Value, ServiceError> {
    let a = WaitArgs::parse(f)?;
    let got = cx
        .svc
        .events(
            cx.who,
            Watch {
                since: a.since.as_deref(),
                wait_seconds: Some(a.timeout_s.unwrap_or(DEFAULT_WAIT_SECONDS)),
                topic: a.topic.as_deref(),
                agent: a.agent.as_deref(),
                names: ("since", "timeout_s", "agent"),
                commits: false,
            },
        )
        .await?;
    let text = summary(&got.events, &got.cursor, a.since.is_none());
    Ok(structured(
        Some(text),
        WaitOut {
            events: got.events,
            cursor: got.cursor,
        },
    ))
}

fn summary(events: &[Event], cursor: &str, first: bool) -> String {
    let mut text = match (events.len(), first) {
        (0, true) => "The current cursor. ".to_string(),
        (0, false) => "Nothing new yet. ".to_string(),
        (n, _) => format!("{n} event(s):\n"),
    };
    for e in events {
        let what = serde_json::to_value(e.kind).unwrap_or_default();
        text.push_str(&format!(
            "- {} on {}{}{}{}\n",
            what.as_str().unwrap_or(""),
            e.topic,
            e.author
                .as_deref()
                .map(|a| format!(" by {a}"))
                .unwrap_or_default(),
            e.title
                .as_deref()
                .map(|t| format!(": {t:?}"))
                .unwrap_or_default(),
            e.ball
                .as_deref()
                .map(|b| format!(" (ball: {b})"))
                .unwrap_or_default(),
        ));
    }
    text.push_str(&format!("Wait again with since \"{cursor}\"."));
    text
}

args! {
    /// watercooler_search's arguments.
    SearchArgs {
        /// Words (all must match), "a phrase", OR, NOT, or a prefix*
        query: String,
        /// Only this thread
        topic: Option<String>,
        /// Only entries by this agent, e.g. "Codex" (any user) or "Codex (alice)"
        agent: Option<String>,
        /// Only entries written at or after this UTC time, e.g. 2026-03-02T09:15:00Z
        since: Option<String>,
        /// Results, 1-50 (default 10)
        limit: Option<u64>,
    }
}

/// watercooler_search.
pub(super) const SEARCH: Spec = Spec {
    name: "watercooler_search",
    title: "Search entries",
    description: "Full-text search over entry titles and bodies in every thread, best match first. Each result names the thread and entry index, to read with watercooler_get_thread_entry.",
    read_only: true,
    idempotent: true,
    input: SearchArgs::schema,
    output: Some(Found::schema),
    fields: SearchArgs::FIELDS,
};

pub(super) async fn search<E: Effects>(
    cx: &Ctx<'_, '_, E>,
    f: &JsonFields,
) -> Result<Value, ServiceError> {
    let a = SearchArgs::parse(f)?;
    let found = cx
        .svc
        .search(Find {
            q: Some(&a.query),
            topic: a.topic.as_deref(),
            agent: a.agent.as_deref(),
            since: a.since.as_deref(),
            limit: a.limit,
            q_field: "query",
            raw_marks: false,
        })
        .await?;
    let mut text = match found.results.len() {
        0 => "No entries match.".to_string(),
        n => format!("{n} result(s), best first:\n"),
    };
    for h in &found.results {
        text.push_str(&format!(
            "- {} #{} by {} at {}: {:?} — {}\n",
            h.topic, h.index, h.author, h.at, h.title, h.snippet
        ));
    }
    if !found.complete {
        text.push_str("\nThe index is still being filled from the repository: results may be missing; search again shortly.");
    }
    Ok(structured(Some(text), found))
}
