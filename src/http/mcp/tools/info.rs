//! The tools about the server and the threads as a whole: health, whoami,
//! list_threads, sync and reindex.

use super::args::{args, SyncAction};
use super::{caller, page_limit, structured, Ctx, Spec};
use crate::http::json::JsonFields;
use crate::http::mcp::paging::{decode_cursor, encode_cursor};
use crate::record;
use crate::schema::Schema;
use crate::service::command::agent_for;
use crate::service::reads::{index_groups, sort_for, Section};
use crate::service::{Effects, ServiceError, VERSION};
use crate::store::ThreadSummary;
use crate::writer::SyncStatus;
use serde_json::Value;

args! {
    /// No arguments.
    NoArgs {}
}

args! {
    /// whoami's arguments.
    WhoamiArgs {
        /// Your agent name, e.g. Claude (default: your token's)
        agent: Option<String>,
    }
}

args! {
    /// list_threads' arguments.
    ListArgs {
        /// Only threads whose status is not closed (default true)
        open_only: Option<bool>,
        /// Threads per page, 1-200 (default 50)
        limit: Option<u64>,
        /// next_cursor from the previous page
        cursor: Option<String>,
        /// Your agent name, e.g. Claude (default: your token's)
        agent: Option<String>,
    }
}

args! {
    /// sync's arguments.
    SyncArgs {
        /// status (default), now or retry
        action: SyncAction,
    }
}

record! {
    /// What health answers.
    pub(super) struct HealthOut {
        required {
            ok: bool,
            version: String,
            /// owner/name
            repo: String,
            branch: String,
            threads_dir: String,
        }
    }
}

record! {
    /// What whoami answers.
    pub(super) struct WhoamiOut {
        required {
            user: String,
            agent: Option<String>,
            /// Agent (user), as entries will carry it.
            author: Option<String>,
            can_write: bool,
        }
    }
}

record! {
    /// What list_threads answers.
    pub(super) struct ListOut {
        required {
            /// Agent (user) that "your turn" means.
            me: Option<String>,
            total: usize,
            threads: Vec<ThreadSummary>,
            next_cursor: Option<String>,
        }
    }
}

record! {
    /// What reindex answers.
    pub(super) struct IndexOut {
        required {
            open: Vec<ThreadSummary>,
            in_review: Vec<ThreadSummary>,
            closed: Vec<ThreadSummary>,
        }
    }
}

/// watercooler_health.
pub(super) const HEALTH: Spec = Spec {
    name: "watercooler_health",
    title: "Health",
    description:
        "Check that the watercooler server is up and which repository and branch it serves.",
    read_only: true,
    idempotent: true,
    input: NoArgs::schema,
    output: Some(HealthOut::schema),
    fields: NoArgs::FIELDS,
};

pub(super) fn health<E: Effects>(
    cx: &Ctx<'_, '_, E>,
    f: &JsonFields,
) -> Result<Value, ServiceError> {
    NoArgs::parse(f)?;
    let c = cx.svc.config;
    Ok(structured(
        None,
        HealthOut {
            ok: true,
            version: VERSION.into(),
            repo: format!("{}/{}", c.repo.owner, c.repo.name),
            branch: c.repo.branch.clone(),
            threads_dir: c.threads_dir.clone(),
        },
    ))
}

/// watercooler_whoami.
pub(super) const WHOAMI: Spec = Spec {
    name: "watercooler_whoami",
    title: "Who am I",
    description: "Show the user your token belongs to, the agent name your entries will carry, and whether you may write.",
    read_only: true,
    idempotent: true,
    input: WhoamiArgs::schema,
    output: Some(WhoamiOut::schema),
    fields: WhoamiArgs::FIELDS,
};

pub(super) fn whoami<E: Effects>(
    cx: &Ctx<'_, '_, E>,
    f: &JsonFields,
) -> Result<Value, ServiceError> {
    let a = WhoamiArgs::parse(f)?;
    let c = caller(a.agent, f)?;
    let agent = agent_for(c.agent.as_deref(), cx.who)?;
    let author = agent
        .as_ref()
        .map(|a| crate::thread::agent::author(a, &cx.who.user));
    Ok(structured(
        None,
        WhoamiOut {
            user: cx.who.user.clone(),
            agent,
            author,
            can_write: cx.who.can_write,
        },
    ))
}

/// watercooler_list_threads.
pub(super) const LIST_THREADS: Spec = Spec {
    name: "watercooler_list_threads",
    title: "List threads",
    description: "List threads in three sections: new entries for you, your turn (you hold the ball), and waiting on others. Paginate with cursor.",
    read_only: true,
    idempotent: true,
    input: ListArgs::schema,
    output: Some(ListOut::schema),
    fields: ListArgs::FIELDS,
};

pub(super) async fn list_threads<E: Effects>(
    cx: &Ctx<'_, '_, E>,
    f: &JsonFields,
) -> Result<Value, ServiceError> {
    let a = ListArgs::parse(f)?;
    let c = caller(a.agent, f)?;
    // Who "your turn" means; an agent name that does not validate shows no sections.
    let me = agent_for(c.agent.as_deref(), cx.who)
        .ok()
        .flatten()
        .map(|a| crate::thread::agent::author(&a, &cx.who.user));
    let limit = page_limit("limit", a.limit)?;
    let offset = match a.cursor.as_deref() {
        None => 0,
        Some(cur) => decode_cursor(cur).ok_or_else(|| {
            ServiceError::field(
                "cursor",
                "not a cursor this server gave out; omit it to start from the first page",
            )
        })?,
    };
    let mut threads = cx.svc.list().await?.threads;
    if a.open_only.unwrap_or(true) {
        threads.retain(|t| t.open);
    }
    sort_for(&mut threads, me.as_deref());
    let total = threads.len();
    let mut page: Vec<ThreadSummary> = threads.into_iter().skip(offset).take(limit).collect();
    for t in &mut page {
        t.section = Some(Section::of(t, me.as_deref()).as_str().to_string());
    }
    let next = (offset + page.len() < total).then(|| encode_cursor(offset + page.len()));
    let text = list_text(&page, me.as_deref(), next.as_deref());
    Ok(structured(
        Some(text),
        ListOut {
            me,
            total,
            threads: page,
            next_cursor: next,
        },
    ))
}

fn list_text(page: &[ThreadSummary], me: Option<&str>, next: Option<&str>) -> String {
    let mut text = String::new();
    for section in [Section::NewEntries, Section::YourTurn, Section::Waiting] {
        let items: Vec<&ThreadSummary> = page
            .iter()
            .filter(|t| Section::of(t, me) == section)
            .collect();
        if items.is_empty() {
            continue;
        }
        text.push_str(&format!("## {} ({})\n", section.heading(), items.len()));
        for t in items {
            text.push_str(&format!(
                "- {} [{}] ball: {} — {} entries{}\n",
                t.topic,
                t.status,
                t.ball,
                t.entries,
                t.last_title
                    .as_deref()
                    .map(|l| format!(", last: {l} by {}", t.last_author.as_deref().unwrap_or("?")))
                    .unwrap_or_default()
            ));
        }
    }
    if text.is_empty() {
        text.push_str("No threads.\n");
    }
    if let Some(n) = next {
        text.push_str(&format!(
            "\nMore threads: call again with cursor \"{n}\".\n"
        ));
    }
    text
}

/// watercooler_sync.
pub(super) const SYNC: Spec = Spec {
    name: "watercooler_sync",
    title: "Sync status",
    description: "Show whether every accepted write has reached git (status), flush queued writes at once (now), or put failed writes back in the queue (retry).",
    read_only: false,
    idempotent: false,
    input: SyncArgs::schema,
    output: Some(SyncStatus::schema),
    fields: SyncArgs::FIELDS,
};

pub(super) async fn sync<E: Effects>(
    cx: &Ctx<'_, '_, E>,
    f: &JsonFields,
) -> Result<Value, ServiceError> {
    let a = SyncArgs::parse(f)?;
    let s = cx
        .svc
        .sync(cx.who, a.action.0.as_deref().unwrap_or("status"))
        .await?;
    let state = serde_json::to_value(s.state).unwrap_or_default();
    let text = format!(
        "Sync: {} ({} pending, {} failed){}{}",
        state.as_str().unwrap_or("?"),
        s.pending,
        s.failed,
        s.last_error
            .as_deref()
            .map(|e| format!("; last error: {e}"))
            .unwrap_or_default(),
        s.message
            .as_deref()
            .map(|m| format!(". {m}"))
            .unwrap_or_default()
    );
    Ok(structured(Some(text), s))
}

/// watercooler_reindex.
pub(super) const REINDEX: Spec = Spec {
    name: "watercooler_reindex",
    title: "Thread index",
    description: "Summarise all threads grouped as open, in review and closed.",
    read_only: true,
    idempotent: true,
    input: NoArgs::schema,
    output: Some(IndexOut::schema),
    fields: NoArgs::FIELDS,
};

pub(super) async fn reindex<E: Effects>(
    cx: &Ctx<'_, '_, E>,
    f: &JsonFields,
) -> Result<Value, ServiceError> {
    NoArgs::parse(f)?;
    let threads = cx.svc.list().await?.threads;
    let mut text = String::from("# Thread index\n");
    let [open, in_review, closed] = index_groups(&threads).map(|(_, heading, items)| {
        text.push_str(&format!("\n## {heading} ({})\n", items.len()));
        for t in &items {
            text.push_str(&format!("- {} [{}] ball: {}\n", t.topic, t.status, t.ball));
        }
        items.into_iter().cloned().collect::<Vec<_>>()
    });
    Ok(structured(
        Some(text),
        IndexOut {
            open,
            in_review,
            closed,
        },
    ))
}
