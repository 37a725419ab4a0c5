//! Changes made outside this service (a plain `git push`, the local tools): learned
//! from GitHub's push webhook, or, without one, by checking the threads directory
//! while anyone waits. What is told is measured against what the writer knows (the
//! heads and the entries in its index), not against the shared cache, which a reader
//! may have refreshed first.

use super::engine::{JournalStore, Writer};
use super::events::{of_outside, Event, Head};
use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::GitHost;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A thread file an outside change touched, re-read into the cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// The thread.
    pub topic: String,
    /// The file was there before the change.
    pub existed: bool,
}

impl Seen {
    /// The thread file at `path` (from the repository root), if it is one.
    pub fn at(path: &str, existed: bool) -> Option<Seen> {
        Some(Seen {
            topic: crate::thread::topic::topic_of_path(path)?.to_string(),
            existed,
        })
    }
}

/// The journal's meta keys for the outside check: when it last ran, and what the
/// threads directory held then.
const META_POLLED_AT: &str = "outside_polled_at_ms";
const META_WATCHED: &str = "outside_watched";

/// The threads directory as last checked: its ETag and each thread file's blob sha.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Watched {
    etag: Option<String>,
    shas: BTreeMap<String, String>,
}

/// Files re-read per outside check (each a GitHub request).
const OUTSIDE_READS: usize = 10;

impl<G: GitHost, C: Cache, K: Clock + Entropy, J: JournalStore> Writer<'_, G, C, K, J> {
    /// Learns what outside changes did to these threads (their fresh copies are in
    /// the cache): publishes the entries and header changes the writer did not know,
    /// and brings its head and index up to date. Returns how many events were new.
    pub async fn learn_outside(&self, seen: &[Seen]) -> usize {
        let now = crate::thread::timestamp::format_utc(self.store.clock.now_ms());
        let mut events: Vec<Event> = vec![];
        for s in seen {
            let Ok(Some(content)) = self.store.peek_thread(&s.topic).await else {
                continue;
            };
            let after = crate::thread::parse(&content);
            if !after.header.is_thread() {
                continue;
            }
            let known: Vec<String> = self
                .journal
                .indexed(&s.topic)
                .iter()
                .map(|d| d.key())
                .collect();
            let head = self.journal.head(&s.topic);
            let told = of_outside(&s.topic, head.as_ref(), &known, s.existed, &after, &now);
            // Entries this writer journaled are its own, told when accepted.
            events.extend(told.into_iter().filter(|e| {
                e.entry_id.as_deref().is_none_or(|id| {
                    self.journal.by_entry_id(id).is_none()
                        && self.journal.entry_record(id).is_none()
                })
            }));
            self.relearn(&s.topic, Some(&after));
        }
        self.publish(&events)
    }

    pub(super) fn next_outside_poll_at(&self) -> u64 {
        self.journal
            .meta(META_POLLED_AT)
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(0, |at| at + self.config.outside_poll_ms)
    }

    pub(super) fn outside_poll_due(&self, now: u64) -> bool {
        now >= self.next_outside_poll_at()
    }

    /// Checks the threads directory for changes made outside this service (one
    /// conditional request), and learns the files that changed (see
    /// [`Writer::learn_outside`]). The first check only takes note of what is there;
    /// a file that could not be read is checked again next time. Not while a flush
    /// runs: its own commit is not learned yet.
    pub async fn poll_outside(&self) -> usize {
        let now = self.store.clock.now_ms();
        self.journal.set_meta(META_POLLED_AT, &now.to_string());
        if self.budget_left() < 1 || self.in_flight.get() {
            return 0;
        }
        self.spend(1);
        let known: Watched = self
            .journal
            .meta(META_WATCHED)
            .and_then(|v| serde_json::from_str(&v).ok())
            .unwrap_or_default();
        let dir = &self.store.config.threads_dir;
        let listing = match self.store.git.list_dir(dir, known.etag.as_deref()).await {
            Ok(crate::github::Fetched::Modified(l)) => l,
            _ => return 0,
        };
        let mut shas: BTreeMap<String, String> = listing
            .entries
            .iter()
            .filter(|e| e.kind == "file" && self.store.is_thread_path(&e.path))
            .map(|e| (e.path.clone(), e.sha.to_string()))
            .collect();
        let first = known.etag.is_none() && known.shas.is_empty();
        let changed: Vec<String> = shas
            .iter()
            .filter(|(p, sha)| !first && known.shas.get(*p) != Some(*sha))
            .map(|(p, _)| p.clone())
            .collect();
        let reads = OUTSIDE_READS.min(self.budget_left() as usize);
        self.spend(reads.min(changed.len()) as u32);
        let read = self.store.refresh(&changed, reads).await;
        // What could not be read keeps its old sha (and the listing its old ETag),
        // so the next check tries it again.
        let mut etag = listing.etag;
        for p in changed.iter().filter(|p| !read.contains(p)) {
            etag = None;
            match known.shas.get(p) {
                Some(old) => shas.insert(p.clone(), old.clone()),
                None => shas.remove(p),
            };
        }
        let watched = Watched { etag, shas };
        self.journal.set_meta(
            META_WATCHED,
            &serde_json::to_string(&watched).unwrap_or_default(),
        );
        let seen: Vec<Seen> = read
            .iter()
            .filter_map(|p| Seen::at(p, known.shas.contains_key(p)))
            .collect();
        self.learn_outside(&seen).await
    }

    /// Brings a thread's head and index back to the file as it is (`None`: no such
    /// file), with what is still pending applied: after an outside change, a
    /// commit that did not go as predicted, or a write that failed.
    pub fn relearn(&self, topic: &str, file: Option<&crate::thread::Thread>) {
        let file = file.filter(|t| t.header.is_thread());
        let mut docs = file
            .map(|t| super::search::docs_of(topic, t))
            .unwrap_or_default();
        let mut head = file.map(Head::of);
        for q in self.pending_for(topic) {
            if q.entry_id
                .as_deref()
                .is_some_and(|id| file.is_some_and(|t| t.contains_entry_id(id)))
            {
                continue;
            }
            if head.is_none() && !q.op.creates_thread() {
                continue;
            }
            let (told, after) = super::events::of_operation(
                topic,
                &q.author,
                &q.op,
                q.entry_id.as_deref(),
                &q.timestamp,
                head.as_ref(),
            );
            docs.extend(super::search::doc_of(&q, told.first(), &after));
            head = Some(after);
        }
        match head {
            Some(h) => self.journal.set_head(topic, &h),
            None => self.journal.forget_head(topic),
        }
        self.journal.replace_thread(topic, &docs);
    }
}
