//! Waiting for what concerns the caller: watercooler_wait.

use super::args::args;
use super::{structured, Ctx, Spec};
use crate::http::json::JsonFields;
use crate::record;
use crate::schema::Schema;
use crate::service::events::Watch;
use crate::service::{Effects, ServiceError};
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
