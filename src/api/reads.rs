//! Reading a thread as a client should see it: the file, plus the operations the
//! writer accepted but has not committed yet (read-your-writes), marked pending.

use super::error::ApiError;
use super::App;
use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::GitHost;
use crate::store::{ReadSource, StoreError};
use crate::thread::{self, Reading};
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

/// Reads a thread with its pending operations. If the writer cannot be reached the
/// committed file is shown alone.
pub async fn thread_view<G: GitHost, C: Cache, K: Clock + Entropy, Q: WriteQueue>(
    app: &App<'_, G, C, K, Q>,
    topic: &str,
) -> Result<View, ApiError> {
    let committed = match app.store.read_thread(topic).await {
        Ok(f) => Some(f),
        Err(StoreError::ThreadNotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    if committed
        .as_ref()
        .is_some_and(|f| !thread::parse(&f.content).header.is_thread())
    {
        return Err(not_a_thread(topic));
    }
    let pending: Vec<Queued> = app.queue.pending_for(topic).await.unwrap_or_default();
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
    if !pending.is_empty() {
        let refs: Vec<&Queued> = pending.iter().collect();
        let current = BTreeMap::from([(topic.to_string(), base)]);
        let planned = plan(&refs, &current);
        if let Some(f) = planned.files.first() {
            view.content = f.content.clone();
            view.pending = f.ops.len();
            view.pending_ids = pending
                .iter()
                .filter(|q| f.ops.contains(&q.seq))
                .filter_map(|q| q.entry_id.clone())
                .collect();
        }
    }
    if committed.is_none() && view.pending == 0 {
        return Err(StoreError::ThreadNotFound {
            topic: topic.to_string(),
        }
        .into());
    }
    view.reading = thread::read(&view.content);
    Ok(view)
}

/// A file that exists under a topic's name but is not a thread.
pub fn not_a_thread(topic: &str) -> ApiError {
    ApiError::new(
        404,
        "not_a_thread",
        format!("the file for topic {topic:?} is not a thread (it has no thread header: a `# <topic> — Thread` line, or Status: and Ball: lines); GET /v1/threads lists the threads"),
    )
}
