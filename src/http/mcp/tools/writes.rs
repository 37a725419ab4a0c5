//! The write tools: say, ack, handoff and set_status. The service builds and checks
//! the write; these only name the fields and shape the answer.

use super::args::args;
use super::{caller, structured, Ctx, Spec, Tool};
use crate::github::Sha;
use crate::http::json::JsonFields;
use crate::record;
use crate::schema::Schema;
use crate::service::command::{require_write, QUEUED_MESSAGE};
use crate::service::{Effects, Outcome, ServiceError, Write, WriteKind, Written};
use serde_json::Value;

args! {
    /// say's arguments.
    SayArgs {
        /// Thread topic (letters, digits, . _ -)
        topic: String,
        /// One-line title, up to 200 characters
        title: String,
        /// Markdown body, up to 64 KiB
        body: String,
        /// planner, critic, implementer, tester, pm or scribe (default implementer, or agent_func's role)
        role: Option<String>,
        /// Note, Plan, Decision, PR or Closure (default Note)
        entry_type: Option<String>,
        /// Your agent name, e.g. Claude (default: your token's)
        agent: Option<String>,
        /// ULID idempotency key (optional)
        entry_id: Option<String>,
        /// Answer once committed to git, not once stored (default false)
        wait_for_commit: Option<bool>,
    }
}

args! {
    /// ack's arguments.
    AckArgs {
        /// Thread topic (letters, digits, . _ -)
        topic: String,
        /// Default "Ack"
        title: Option<String>,
        /// Default "ack"
        body: Option<String>,
        /// Your agent name, e.g. Claude (default: your token's)
        agent: Option<String>,
        /// ULID idempotency key (optional)
        entry_id: Option<String>,
        /// Answer once committed to git, not once stored (default false)
        wait_for_commit: Option<bool>,
    }
}

args! {
    /// handoff's arguments.
    HandoffArgs {
        /// Thread topic (letters, digits, . _ -)
        topic: String,
        /// Handoff note (default "handoff to <target>")
        note: Option<String>,
        /// Who gets the ball, e.g. "Codex" or "Codex (alice)"
        target_agent: Option<String>,
        /// Your agent name, e.g. Claude (default: your token's)
        agent: Option<String>,
        /// ULID idempotency key (optional)
        entry_id: Option<String>,
        /// Answer once committed to git, not once stored (default false)
        wait_for_commit: Option<bool>,
    }
}

args! {
    /// set_status' arguments.
    StatusArgs {
        /// Thread topic (letters, digits, . _ -)
        topic: String,
        /// The new status
        status: String,
        /// Your agent name, e.g. Claude (default: your token's)
        agent: Option<String>,
        /// Answer once committed to git, not once stored (default false)
        wait_for_commit: Option<bool>,
    }
}

record! {
    /// What a write tool answers.
    pub(super) struct WriteOut {
        required {
            topic: String,
            /// The commit that holds it (null until committed, or when nothing was written).
            commit_sha: Option<Sha>,
            /// Who holds the ball now (null until committed).
            ball: Option<String>,
            /// The thread's status now (null until committed).
            status: Option<String>,
        }
        optional {
            entry_id: String,
            blob_sha: Sha,
            /// Already there: nothing was written.
            unchanged: bool,
            /// Stored (durable, visible to readers and waiters); committed later, exactly once.
            queued: bool,
            message: String,
            /// How the watercooler tools and CommonMark read this thread differently (files written elsewhere); entries are served as the tools read them
            warnings: Vec<String>,
        }
    }
}

/// watercooler_say.
pub(super) const SAY: Spec = Spec {
    name: "watercooler_say",
    title: "Say",
    description: "Add an entry to a thread (creating it if needed) and pass the ball to your counterpart. Read the thread first.",
    read_only: false,
    idempotent: false,
    input: SayArgs::schema,
    output: Some(WriteOut::schema),
    fields: SayArgs::FIELDS,
};

/// watercooler_ack.
pub(super) const ACK: Spec = Spec {
    name: "watercooler_ack",
    title: "Acknowledge",
    description: "Acknowledge a thread with a short entry; the ball does not move.",
    read_only: false,
    idempotent: false,
    input: AckArgs::schema,
    output: Some(WriteOut::schema),
    fields: AckArgs::FIELDS,
};

/// watercooler_handoff.
pub(super) const HANDOFF: Spec = Spec {
    name: "watercooler_handoff",
    title: "Hand off",
    description: "Pass the ball to target_agent (default: the current holder's counterpart) with a handoff entry.",
    read_only: false,
    idempotent: false,
    input: HandoffArgs::schema,
    output: Some(WriteOut::schema),
    fields: HandoffArgs::FIELDS,
};

/// watercooler_set_status.
pub(super) const SET_STATUS: Spec = Spec {
    name: "watercooler_set_status",
    title: "Set status",
    description: "Set a thread's Status (stored uppercased), e.g. OPEN, IN_REVIEW, BLOCKED, CLOSED. Writes no entry.",
    read_only: false,
    idempotent: true,
    input: StatusArgs::schema,
    output: Some(WriteOut::schema),
    fields: StatusArgs::FIELDS,
};

/// Runs a write tool.
pub(super) async fn write<E: Effects>(
    cx: &Ctx<'_, '_, E>,
    tool: Tool,
    f: &JsonFields,
) -> Result<Value, ServiceError> {
    require_write(cx.who)?;
    let (topic, agent, entry_id, wait, kind) = match tool {
        Tool::Say => {
            let a = SayArgs::parse(f)?;
            let kind = Kind::Say(a.title, a.body, a.role, a.entry_type);
            (a.topic, a.agent, a.entry_id, a.wait_for_commit, kind)
        }
        Tool::Ack => {
            let a = AckArgs::parse(f)?;
            let kind = Kind::Ack(a.title, a.body);
            (a.topic, a.agent, a.entry_id, a.wait_for_commit, kind)
        }
        Tool::Handoff => {
            let a = HandoffArgs::parse(f)?;
            let kind = Kind::Handoff(a.target_agent, a.note);
            (a.topic, a.agent, a.entry_id, a.wait_for_commit, kind)
        }
        _ => {
            let a = StatusArgs::parse(f)?;
            (
                a.topic,
                a.agent,
                None,
                a.wait_for_commit,
                Kind::Status(a.status),
            )
        }
    };
    let durable = !wait.unwrap_or(false);
    let c = caller(agent, f)?;
    let kind = match &kind {
        Kind::Say(title, body, role, entry_type) => WriteKind::Say {
            title: Some(title),
            body: Some(body),
            role: role.as_deref(),
            default_role: c.role.clone(),
            entry_type: entry_type.as_deref(),
            entry_type_field: "entry_type",
        },
        Kind::Ack(title, body) => WriteKind::Ack {
            title: title.as_deref(),
            body: body.as_deref(),
        },
        Kind::Handoff(target, note) => WriteKind::Handoff {
            target: target.as_deref(),
            target_field: "target_agent",
            note: note.as_deref(),
        },
        Kind::Status(status) => WriteKind::SetStatus {
            status: Some(status),
        },
    };
    let w = cx
        .svc
        .write(
            cx.who,
            Write {
                topic: &topic,
                agent: c.agent.as_deref(),
                entry_id: entry_id.as_deref(),
                kind,
                durable,
            },
        )
        .await?;
    Ok(answer(&topic, &w, durable))
}

/// A write's answer: a sentence for the model, and the data.
fn answer(topic: &str, w: &Written, durable: bool) -> Value {
    let (ball, status) = (w.header("ball"), w.header("status"));
    let id = w
        .entry_id
        .as_deref()
        .map(|id| format!(" (entry_id {id})"))
        .unwrap_or_default();
    let text = match (w.outcome, &w.content) {
        (Outcome::Queued, _) if durable => format!(
            "Stored: {} on {topic}{id} is durable and visible to readers and waiters now; the commit to git follows in order, exactly once ({} shows progress; pass wait_for_commit: true to wait for it).",
            w.op.kind(),
            Tool::Sync.name()
        ),
        (Outcome::Queued, _) | (_, None) => format!(
            "Accepted and queued: {} on {topic} is stored and will be committed exactly once when GitHub allows ({} shows progress). This is not an error.",
            w.op.kind(),
            Tool::Sync.name()
        ),
        (outcome, Some(_)) => format!(
            "{}: {} on {topic}. Ball: {}. Status: {}.",
            if outcome == Outcome::Committed { "Committed" } else { "Already there, nothing written" },
            w.op.kind(),
            ball.as_deref().unwrap_or("-"),
            status.as_deref().unwrap_or("-")
        ),
    };
    let text = match w.warnings.is_empty() {
        true => text,
        false => format!(
            "{text} Note: the watercooler tools and CommonMark read this thread differently; entries are served as the tools read them. Differences: {}",
            w.warnings.join("; ")
        ),
    };
    let queued = w.outcome == Outcome::Queued;
    let out = WriteOut {
        topic: w.topic.to_string(),
        commit_sha: w.commit_sha.clone(),
        ball,
        status,
        entry_id: w.entry_id.as_ref().map(|id| id.to_string()),
        blob_sha: w.blob_sha.clone(),
        unchanged: (w.outcome == Outcome::Unchanged).then_some(true),
        queued: queued.then_some(true),
        message: queued.then(|| match durable {
            true => STORED_MESSAGE.to_string(),
            false => QUEUED_MESSAGE.to_string(),
        }),
        warnings: (!w.warnings.is_empty()).then(|| w.warnings.clone()),
    };
    structured(Some(text), out)
}

/// What a caller hears when its write is stored and the commit follows.
const STORED_MESSAGE: &str = "stored: durable and visible to readers and waiters; the commit to git follows in order, exactly once";

/// The arguments of one write, owned.
enum Kind {
    Say(String, String, Option<String>, Option<String>),
    Ack(Option<String>, Option<String>),
    Handoff(Option<String>, Option<String>),
    Status(String),
}
