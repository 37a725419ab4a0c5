//! Waiting for events: a waiter's request is held by the writer until an event
//! concerns it or its time is up. Waiting costs no GitHub requests (the fallback
//! check for outside pushes, when there is no webhook, is one conditional request
//! every `outside_poll_ms` while anyone waits).

use super::engine::{JournalStore, Writer};
use super::events::Event;
use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::GitHost;
use serde::{Deserialize, Serialize};

/// The longest a waiter is held.
pub const MAX_WAIT_MS: u64 = 50_000;
/// The most events one answer carries (the cursor says where it stopped).
pub const MAX_EVENTS: usize = 100;
/// Events read from the journal at a time while filtering.
const SCAN_BATCH: usize = 200;

/// What a waiter asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventQuery {
    /// The cursor the waiter has seen (`None`: only the current cursor is wanted).
    pub since: Option<u64>,
    /// How long to wait for something new.
    pub wait_ms: u64,
    /// Only this thread.
    pub topic: Option<String>,
    /// Only what makes it this agent's turn, or is new for it (`Agent (user)`).
    pub agent: Option<String>,
    /// Outside pushes are not announced by a webhook: check for them while waiting.
    #[serde(default)]
    pub poll_outside: bool,
}

/// What a waiter gets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waited {
    /// The events, oldest first.
    pub events: Vec<Event>,
    /// The cursor to send next.
    pub cursor: u64,
    /// The cursor sent is older than the events kept (or unknown here): re-read,
    /// then go on from `cursor`.
    pub stale: bool,
}

impl EventQuery {
    fn wants(&self, e: &Event) -> bool {
        self.topic.as_deref().is_none_or(|t| e.topic == t)
            && self.agent.as_deref().is_none_or(|me| e.concerns(me))
    }
}

impl<G: GitHost, C: Cache, K: Clock + Entropy, J: JournalStore> Writer<'_, G, C, K, J> {
    /// Answers a waiter: the events after its cursor that it wants, at once if there
    /// are any, else as soon as one comes, else empty when its time is up.
    pub async fn wait_events(&self, q: &EventQuery) -> Waited {
        let (last, pruned) = self.journal.event_bounds();
        let Some(mut since) = q.since else {
            return Waited {
                cursor: last,
                ..Waited::default()
            };
        };
        if since > last || since < pruned {
            return Waited {
                cursor: last,
                stale: true,
                ..Waited::default()
            };
        }
        let clock = self.store.clock;
        let deadline = clock.now_ms() + q.wait_ms.min(MAX_WAIT_MS);
        loop {
            // Listen before looking, so an event between the two is not missed.
            let woken = self.wakers.map(|w| w.listen());
            let (events, cursor) = self.scan(since, q);
            since = cursor;
            let now = clock.now_ms();
            if !events.is_empty() || now >= deadline {
                return Waited {
                    events,
                    cursor,
                    stale: false,
                };
            }
            if q.poll_outside && self.outside_poll_due(now) {
                self.poll_outside().await;
                continue;
            }
            let mut until = deadline;
            if q.poll_outside {
                until = until.min(self.next_outside_poll_at());
            }
            if woken.is_none() {
                until = until.min(now + self.config.poll_ms);
            }
            let sleep = std::pin::pin!(clock.sleep(until.saturating_sub(now).max(1)));
            match woken {
                Some(rx) => {
                    let _ = futures::future::select(rx, sleep).await;
                }
                None => sleep.await,
            }
        }
    }

    /// The wanted events after `since` (at most [`MAX_EVENTS`]), and the cursor of
    /// the last event looked at.
    fn scan(&self, mut since: u64, q: &EventQuery) -> (Vec<Event>, u64) {
        let mut out = vec![];
        loop {
            let batch = self.journal.events_after(since, SCAN_BATCH);
            let full = batch.len() == SCAN_BATCH;
            for e in batch {
                since = e.cursor.parse().unwrap_or(since);
                if q.wants(&e) {
                    out.push(e);
                    if out.len() == MAX_EVENTS {
                        return (out, since);
                    }
                }
            }
            if !full {
                return (out, since);
            }
        }
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
    shas: std::collections::BTreeMap<String, String>,
}

/// Files re-read per outside check (each a GitHub request).
const OUTSIDE_READS: usize = 10;

impl<G: GitHost, C: Cache, K: Clock + Entropy, J: JournalStore> Writer<'_, G, C, K, J> {
    fn next_outside_poll_at(&self) -> u64 {
        self.journal
            .meta(META_POLLED_AT)
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(0, |at| at + self.config.outside_poll_ms)
    }

    fn outside_poll_due(&self, now: u64) -> bool {
        now >= self.next_outside_poll_at()
    }

    /// Checks the threads directory for changes made outside this service (one
    /// conditional request), and publishes the events of the files that changed. The
    /// first check only takes note of what is there.
    pub async fn poll_outside(&self) -> usize {
        let clock = self.store.clock;
        let now = clock.now_ms();
        self.journal.set_meta(META_POLLED_AT, &now.to_string());
        if self.budget_left() < 1 {
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
        let shas: std::collections::BTreeMap<String, String> = listing
            .entries
            .iter()
            .filter(|e| e.kind == "file" && self.store.is_thread_path(&e.path))
            .map(|e| (e.path.clone(), e.sha.to_string()))
            .collect();
        let first = known.etag.is_none() && known.shas.is_empty();
        let changed: Vec<String> = shas
            .iter()
            .filter(|(p, sha)| known.shas.get(*p) != Some(*sha))
            .map(|(p, _)| p.clone())
            .collect();
        let watched = Watched {
            etag: listing.etag,
            shas,
        };
        self.journal.set_meta(
            META_WATCHED,
            &serde_json::to_string(&watched).unwrap_or_default(),
        );
        if first || changed.is_empty() {
            return 0;
        }
        let reads = OUTSIDE_READS.min(self.budget_left() as usize);
        self.spend(reads as u32);
        let stamp = crate::thread::timestamp::format_utc(now);
        let events: Vec<Event> = self
            .store
            .observe(&changed, reads)
            .await
            .iter()
            .flat_map(|o| super::events::of_observed(o, known.shas.contains_key(&o.path), &stamp))
            .collect();
        self.publish_outside(&events).await
    }
}
