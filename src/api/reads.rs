//! Reading a thread as a client should see it: the file, plus the operations the
//! writer accepted but has not committed yet (read-your-writes), marked pending.

use super::error::ApiError;
use super::App;
use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::GitHost;
use crate::store::{ReadSource, StoreError, ThreadSummary};
use crate::thread::{self, Reading};
use crate::writer::plan::Limits;
use crate::writer::{plan, Queued, WriteQueue};
use std::collections::BTreeMap;

/// A thread as shown to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// The file with pending operations applied.
    pub content: String,
    /// The blob sha of the committed file (`None`: not committed yet).
    pub sha: Option<String>,
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
fn with_pending<G, C, K, Q>(
    app: &App<'_, G, C, K, Q>,
    topic: &str,
    base: Option<(String, String)>,
    pending: &[Queued],
) -> Option<(String, Vec<u64>)> {
    let refs: Vec<&Queued> = pending.iter().filter(|q| q.topic == topic).collect();
    if refs.is_empty() {
        return None;
    }
    let current = BTreeMap::from([(topic.to_string(), base)]);
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
pub async fn thread_view<G: GitHost, C: Cache, K: Clock + Entropy, Q: WriteQueue>(
    app: &App<'_, G, C, K, Q>,
    topic: &str,
) -> Result<View, ApiError> {
    let pending: Vec<Queued> = app.queue.pending_for(topic).await.unwrap_or_default();
    let mut unavailable = None;
    let committed = match app.store.read_thread(topic).await {
        Ok(f) => Some(f),
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
            .filter_map(|q| q.entry_id.clone())
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
pub async fn thread_list<G: GitHost, C: Cache, K: Clock + Entropy, Q: WriteQueue>(
    app: &App<'_, G, C, K, Q>,
) -> Result<Listed, ApiError> {
    let pending = app.queue.pending_all().await.unwrap_or_default();
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
        summary.pending = ops.len();
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
    pub threads: Vec<ThreadSummary>,
    pub warnings: Vec<String>,
}

/// A file that exists under a topic's name but is not a thread.
pub fn not_a_thread(topic: &str) -> ApiError {
    ApiError::new(
        404,
        "not_a_thread",
        format!("the file for topic {topic:?} is not a thread (it has no thread header: a `# <topic> — Thread` line, or Status: and Ball: lines); GET /v1/threads lists the threads"),
    )
}
