//! Waiting for events: a waiter's request is held by the writer until an event
//! concerns it or its time is up. Waiting costs no GitHub requests (the fallback
//! check for outside pushes, when there is no webhook, is one conditional request
//! every `outside_poll_ms` while anyone waits: see `outside`).

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
    /// Also the `committed` events (a page that shows pending entries wants them;
    /// agents do not).
    #[serde(default)]
    pub commits: bool,
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
            && (self.commits || e.kind != super::events::EventKind::Committed)
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
            let (last, pruned) = self.journal.event_bounds();
            if since < pruned {
                // Pruned while it waited (a small EVENTS_KEEP and a busy branch).
                return Waited {
                    cursor: last,
                    stale: true,
                    ..Waited::default()
                };
            }
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
