//! Full-text search over entry titles and bodies: what the index holds, what a
//! search asks and what it answers. The index lives beside the journal (FTS5 in the
//! Durable Object's SQLite); `backfill` fills it.

use crate::thread::{timestamp, Operation, Thread};
use serde::{Deserialize, Serialize};

/// One entry as the index holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Doc {
    /// The thread.
    pub topic: String,
    /// The entry's position in the thread.
    pub index: u64,
    /// The entry's id, if it has one.
    pub entry_id: Option<String>,
    /// `Agent (user)`.
    pub author: String,
    /// When it was written (UTC, `YYYY-MM-DDTHH:MM:SSZ`).
    pub at: String,
    /// The title.
    pub title: String,
    /// The body.
    pub body: String,
}

/// The entries of a thread, as the index holds them.
pub fn docs_of(topic: &str, t: &Thread) -> Vec<Doc> {
    t.entries
        .iter()
        .map(|e| Doc {
            topic: topic.to_string(),
            index: e.index as u64,
            entry_id: e.entry_id.clone(),
            author: e.author.trim().to_string(),
            at: normal_time(&e.timestamp),
            title: e.title.clone().unwrap_or_default(),
            body: e.body.trim().to_string(),
        })
        .collect()
}

/// The key that tells one entry from another: its Entry-ID, or (written without
/// one) its author, time (as [`normal_time`] writes it) and title.
pub fn entry_key(
    topic: &str,
    entry_id: Option<&str>,
    author: &str,
    at: &str,
    title: &str,
) -> String {
    match entry_id {
        Some(id) => format!("{topic}\n{id}"),
        None => format!("{topic}\n{}\n{at}\n{title}", author.trim()),
    }
}

impl Doc {
    /// Its [`entry_key`].
    pub fn key(&self) -> String {
        entry_key(
            &self.topic,
            self.entry_id.as_deref(),
            &self.author,
            &self.at,
            &self.title,
        )
    }
}

/// A timestamp as the index compares them; one it cannot read is kept as written.
pub fn normal_time(ts: &str) -> String {
    timestamp::parse(ts)
        .and_then(|secs| u64::try_from(secs).ok())
        .map_or_else(|| ts.to_string(), |secs| timestamp::format_utc(secs * 1000))
}

/// The body an accepted operation writes (see `ops::draft`): its text for the index.
pub fn body_of(op: &Operation, title: &str) -> String {
    match op {
        Operation::Say { body, .. } => body.clone(),
        Operation::Ack { body, .. } => body.clone().unwrap_or_else(|| "ack".into()),
        Operation::Handoff { note, .. } => note.clone().unwrap_or_else(|| title.to_lowercase()),
        Operation::SetStatus { .. } => String::new(),
    }
}

/// The document of an accepted operation that appends an entry: `told` is its event
/// (for the title), `head` the thread's head after it (for the index).
pub fn doc_of(
    q: &super::journal::Queued,
    told: Option<&super::events::Event>,
    head: &super::events::Head,
) -> Option<Doc> {
    let title = told?.title.clone().unwrap_or_default();
    q.op.appends_entry().then(|| Doc {
        topic: q.topic.to_string(),
        index: head.entries.saturating_sub(1),
        entry_id: q.entry_id.as_ref().map(|id| id.to_string()),
        author: q.author.display(),
        at: q.timestamp.clone(),
        body: body_of(&q.op, &title),
        title,
    })
}

/// What a search asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchQuery {
    /// The query: words, "phrases", AND / OR / NOT, prefix*.
    pub q: String,
    /// Only this thread.
    pub topic: Option<String>,
    /// Only entries by this agent (`Agent`, any user; or `Agent (user)`).
    pub agent: Option<String>,
    /// Only entries written at or after this time (`YYYY-MM-DDTHH:MM:SSZ`).
    pub since: Option<String>,
    /// At most this many results.
    pub limit: u32,
}

impl SearchQuery {
    /// Whether an entry passes the filters (not the query).
    pub fn keeps(&self, d: &Doc) -> bool {
        self.topic.as_deref().is_none_or(|t| d.topic == t)
            && self.since.as_deref().is_none_or(|s| d.at.as_str() >= s)
            && self.agent.as_deref().is_none_or(|a| by_agent(&d.author, a))
    }
}

/// Whether `author` (`Agent (user)`) is `agent`: the same agent and user, or (when
/// `agent` names no user) the same agent with any user.
pub fn by_agent(author: &str, agent: &str) -> bool {
    let author = author.trim().to_lowercase();
    let agent = agent.trim().to_lowercase();
    author == agent
        || (!agent.contains('(')
            && author
                .strip_prefix(&agent)
                .is_some_and(|rest| rest.starts_with(" (")))
}

/// Where a search snippet's match begins: a control character no entry needs, so the
/// marks can never be confused with the text (markdown's `**` can).
pub const MARK_START: char = '\u{2}';
/// Where a search snippet's match ends.
pub const MARK_END: char = '\u{3}';

crate::record! {
    /// One search result.
    pub struct Hit {
        required {
            /// The thread.
            topic: String,
            /// The entry's position in the thread (0-based).
            index: u64,
            /// The entry's id.
            entry_id: Option<String>,
            /// Agent (user).
            author: String,
            /// When it was written (UTC).
            at: String,
            /// The entry's title.
            title: String,
            /// A short piece of the entry around the match, the match between
            /// [`MARK_START`] and [`MARK_END`] (the service turns them into `**`).
            snippet: String,
        }
    }
}

crate::record! {
    /// What a search answers.
    pub struct Found {
        required {
            /// Best first.
            results: Vec<Hit>,
            /// Every thread is indexed (false while the first backfill runs: results may be missing).
            complete: bool,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_without_a_user_matches_every_user() {
        assert!(by_agent("Claude (alice)", "claude"));
        assert!(by_agent("Claude (alice)", "Claude (alice)"));
        assert!(!by_agent("Claude (alice)", "Claude (bob)"));
        assert!(!by_agent("Claudette (alice)", "Claude"));
    }

    #[test]
    fn entries_are_indexed_with_a_comparable_time() {
        let t = crate::thread::parse("# t — Thread\nStatus: OPEN\nBall: Codex (a)\n\n---\n\nEntry: Claude (a) 2026-01-01T00:00:00Z\nRole: planner\nType: Note\nTitle: Hello\n\nworld\n<!-- Entry-ID: 01X -->\n");
        let docs = docs_of("t", &t);
        assert_eq!(docs.len(), 1);
        assert_eq!(
            (
                docs[0].title.as_str(),
                docs[0].body.as_str(),
                docs[0].at.as_str()
            ),
            ("Hello", "world", "2026-01-01T00:00:00Z")
        );
        assert_eq!(docs[0].entry_id.as_deref(), Some("01X"));
    }
}
