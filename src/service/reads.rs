//! Reading a thread as a client should see it: the file, plus the operations the
//! writer accepted but has not committed yet (read-your-writes), marked pending.

use super::error::{ErrorCode, ServiceError};
use super::{Effects, Service};
use crate::github::Sha;
use crate::store::{ReadSource, StoreError, ThreadSummary};
use crate::thread::{self, Reading};
use crate::writer::outside::Seen;
use crate::writer::plan::Limits;
use crate::writer::queue::EventQueue;
use crate::writer::{plan, Queued, WriteQueue};
use std::collections::BTreeMap;

/// A thread as shown to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// The thread.
    pub topic: String,
    /// The file with pending operations applied.
    pub content: String,
    /// The blob sha of the committed file (`None`: not committed yet).
    pub sha: Option<Sha>,
    /// Where the committed file came from (`None`: it does not exist yet).
    pub source: Option<ReadSource>,
    /// Entry-IDs of entries that are accepted but not committed.
    pub pending_ids: Vec<String>,
    /// How many accepted operations are not committed (status changes included).
    pub pending: usize,
    /// The thread as served (see `thread::reading`), with its warnings.
    pub reading: Reading,
}

impl View {
    /// Whether an entry is accepted but not committed yet.
    pub fn is_pending(&self, e: &crate::thread::Entry) -> bool {
        e.entry_id
            .as_ref()
            .is_some_and(|id| self.pending_ids.contains(id))
    }

    /// An ETag for this view: the committed sha, and the pending count if any.
    pub fn etag(&self, suffix: &str) -> String {
        let sha = self.sha.as_deref().unwrap_or("none");
        match self.pending {
            0 => format!("\"{sha}{suffix}\""),
            n => format!("\"{sha}+{n}p{suffix}\""),
        }
    }
}

/// What accepted operations make of a thread: the content with them applied, and
/// the seqs of those that apply.
fn with_pending<E: Effects>(
    app: &Service<'_, E>,
    topic: &str,
    base: Option<(String, Sha)>,
    pending: &[Queued],
) -> Option<(String, Vec<u64>)> {
    let refs: Vec<&Queued> = pending.iter().filter(|q| q.topic == topic).collect();
    if refs.is_empty() {
        return None;
    }
    let Ok(key) = crate::thread::Topic::parse(topic) else {
        return None;
    };
    let current = BTreeMap::from([(key, base)]);
    let limits = Limits {
        max_thread_bytes: app.config.writer.max_thread_bytes,
    };
    let planned = plan(&refs, &current, &limits);
    planned.files.into_iter().next().map(|f| (f.content, f.ops))
}

/// What a reader is told when GitHub is out of reach and only the journal speaks.
const UNAVAILABLE_NOTE: &str = "GitHub cannot be reached right now: this shows only what was accepted here and is not committed yet; what is committed will show again once GitHub answers";

/// Reads a thread with its pending operations. If the writer cannot be reached the
/// committed file is shown alone; if GitHub cannot be reached and nothing is cached,
/// what the journal holds for the thread is shown alone (marked pending).
pub async fn thread_view<E: Effects>(
    app: &Service<'_, E>,
    topic: &str,
) -> Result<View, ServiceError> {
    let pending: Vec<Queued> = app.queue.pending(Some(topic)).await.unwrap_or_default();
    let mut unavailable = None;
    let committed = match app.store.read_thread(topic).await {
        Ok(f) => {
            if f.source == ReadSource::Refreshed {
                // Changed outside this service since it was cached: the writer
                // learns it (events for waiters, the search index). A failure here
                // costs the reader nothing.
                let seen = vec![Seen {
                    topic: topic.to_string(),
                    existed: true,
                }];
                let _ = app.queue.learn(seen).await;
            }
            Some(f)
        }
        Err(StoreError::ThreadNotFound { .. }) => None,
        Err(StoreError::GitHub(e)) if e.is_transient() && !pending.is_empty() => {
            unavailable = Some(StoreError::GitHub(e));
            None
        }
        Err(e) => return Err(e.into()),
    };
    if committed
        .as_ref()
        .is_some_and(|f| !thread::parse(&f.content).header.is_thread())
    {
        return Err(not_a_thread(topic));
    }
    let base = committed
        .as_ref()
        .map(|f| (f.content.clone(), f.sha.clone()));
    let mut view = View {
        topic: topic.to_string(),
        content: base.as_ref().map(|(c, _)| c.clone()).unwrap_or_default(),
        sha: committed.as_ref().map(|f| f.sha.clone()),
        source: committed.as_ref().map(|f| f.source),
        pending_ids: vec![],
        pending: 0,
        reading: Reading::default(),
    };
    if let Some((content, ops)) = with_pending(app, topic, base, &pending) {
        view.content = content;
        view.pending = ops.len();
        view.pending_ids = pending
            .iter()
            .filter(|q| ops.contains(&q.seq))
            .filter_map(|q| q.entry_id.as_ref().map(|id| id.to_string()))
            .collect();
    }
    if committed.is_none() && view.pending == 0 {
        return Err(match unavailable {
            Some(e) => e.into(),
            None => StoreError::ThreadNotFound {
                topic: topic.to_string(),
            }
            .into(),
        });
    }
    view.reading = thread::read(&view.content);
    if unavailable.is_some() {
        view.reading
            .warnings
            .insert(0, UNAVAILABLE_NOTE.to_string());
    }
    Ok(view)
}

/// Every thread's summary, with what the journal holds applied: threads that exist
/// only in the journal are listed, and `pending` counts what is not committed yet.
pub async fn thread_list<E: Effects>(app: &Service<'_, E>) -> Result<Listed, ServiceError> {
    let pending = app.queue.pending(None).await.unwrap_or_default();
    let mut warnings = vec![];
    let mut threads = match app.store.list_threads().await {
        Ok(t) => t,
        // GitHub is out of reach and nothing is cached: the journal still speaks.
        Err(StoreError::GitHub(e)) if e.is_transient() && !pending.is_empty() => {
            warnings.push(format!("{UNAVAILABLE_NOTE} ({e})"));
            vec![]
        }
        Err(e) => return Err(e.into()),
    };
    let mut topics: Vec<&str> = pending.iter().map(|q| q.topic.as_str()).collect();
    topics.sort_unstable();
    topics.dedup();
    for topic in topics {
        let listed = threads.iter().position(|t| t.topic == topic);
        let base = match app.store.read_thread(topic).await {
            Ok(f) => Some((f.content, f.sha)),
            Err(StoreError::ThreadNotFound { .. }) => None,
            // GitHub is out of reach: a listed thread keeps its committed summary.
            Err(_) if listed.is_some() => continue,
            Err(_) => None,
        };
        let sha = base.as_ref().map(|(_, s)| s.clone()).unwrap_or_default();
        let Some((content, ops)) = with_pending(app, topic, base, &pending) else {
            continue;
        };
        let Some(mut summary) = ThreadSummary::of(topic, &sha, &content) else {
            continue;
        };
        summary.pending = Some(ops.len());
        match listed {
            Some(i) => threads[i] = summary,
            None => threads.push(summary),
        }
    }
    threads.sort_by(|a, b| a.topic.cmp(&b.topic));
    Ok(Listed { threads, warnings })
}

/// A listing, and what keeps it from being complete.
#[derive(Debug, Clone, Default)]
pub struct Listed {
    /// Every thread's summary, by topic.
    pub threads: Vec<ThreadSummary>,
    /// Why the listing may be incomplete.
    pub warnings: Vec<String>,
}

/// A file that exists under a topic's name but is not a thread.
pub fn not_a_thread(topic: &str) -> ServiceError {
    ServiceError::new(
        ErrorCode::NotAThread,
        format!("the file for topic {topic:?} is not a thread (it has no thread header: a `# <topic> — Thread` line, or Status: and Ball: lines); GET /v1/threads lists the threads"),
    )
}

impl<E: Effects> Service<'_, E> {
    /// A thread as a client should see it (see [`thread_view`]).
    pub async fn view(&self, topic: &str) -> Result<View, ServiceError> {
        let topic = super::command::topic_arg(topic)?;
        thread_view(self, &topic).await
    }

    /// Every thread (see [`thread_list`]).
    pub async fn list(&self) -> Result<Listed, ServiceError> {
        thread_list(self).await
    }
}

/// How a thread is read: the file as it is, or its entries as JSON. Both transports
/// take the same names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFormat {
    /// The markdown file.
    Markdown,
    /// Parsed entries.
    Json,
}

impl ReadFormat {
    /// `markdown` (or `md`, the default) or `json`.
    pub fn parse(field: &str, v: Option<&str>) -> Result<ReadFormat, ServiceError> {
        match v {
            None | Some("markdown") | Some("md") => Ok(ReadFormat::Markdown),
            Some("json") => Ok(ReadFormat::Json),
            Some(other) => Err(ServiceError::field(
                field,
                format!("must be \"markdown\" or \"json\", got {other:?}"),
            )),
        }
    }
}

/// Where a thread stands for one agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    /// The agent holds the ball and someone else wrote last.
    NewEntries,
    /// The agent holds the ball.
    YourTurn,
    /// Someone else holds the ball.
    Waiting,
}

impl Section {
    /// Where `s` stands for `me` (`Agent (user)`; none: waiting everywhere).
    pub fn of(s: &ThreadSummary, me: Option<&str>) -> Section {
        let mine = me.is_some_and(|m| s.ball.trim().eq_ignore_ascii_case(m));
        match (mine, s.new_for_ball) {
            (true, true) => Section::NewEntries,
            (true, false) => Section::YourTurn,
            _ => Section::Waiting,
        }
    }

    /// Its name in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Section::NewEntries => "new_entries",
            Section::YourTurn => "your_turn",
            Section::Waiting => "waiting",
        }
    }

    /// Its heading for people and models.
    pub fn heading(self) -> &'static str {
        match self {
            Section::NewEntries => "New entries for you",
            Section::YourTurn => "Your turn",
            Section::Waiting => "Waiting on others",
        }
    }
}

/// Threads in the order an agent should look at them: its sections, then the most
/// recent first.
pub fn sort_for(threads: &mut [ThreadSummary], me: Option<&str>) {
    threads.sort_by(|a, b| {
        Section::of(a, me)
            .cmp(&Section::of(b, me))
            .then_with(|| b.last_entry_at.cmp(&a.last_entry_at))
            .then_with(|| a.topic.cmp(&b.topic))
    });
}

/// The index groups: open, in review, closed.
pub fn index_groups(
    threads: &[ThreadSummary],
) -> [(&'static str, &'static str, Vec<&ThreadSummary>); 3] {
    let review = |t: &ThreadSummary| {
        t.status.eq_ignore_ascii_case("in_review") || t.status.eq_ignore_ascii_case("in review")
    };
    [
        (
            "open",
            "Open",
            threads.iter().filter(|t| t.open && !review(t)).collect(),
        ),
        (
            "in_review",
            "In review",
            threads.iter().filter(|t| t.open && review(t)).collect(),
        ),
        (
            "closed",
            "Closed",
            threads.iter().filter(|t| !t.open).collect(),
        ),
    ]
}
