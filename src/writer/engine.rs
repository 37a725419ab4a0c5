//! The writer: accepts operations into the journal, and commits everything pending as
//! one group, paced, with conflicts re-applied and failures retried. Callers wait for
//! their operation up to a deadline, then get "accepted, queued".
//!
//! One writer serves one repository and branch (the Durable Object glue makes sure of
//! that); within it, only one flush runs at a time.

use super::events::{Event, Head, Wakers};
use super::journal::{self, content_digest, EntryRecord, FailReason, OpState, Queued, SyncStatus};
use super::pacing::Pacer;
use super::search::{Doc, Hit, SearchQuery};
use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::{GitHost, Sha};
use crate::store::Store;
use crate::thread::{timestamp, Author, EntryId, Operation, Topic};
use std::cell::Cell;

/// Durable journal storage (SQLite in the Durable Object; memory in tests).
pub trait JournalStore {
    /// Stores a new operation and returns its seq (arrival order).
    fn insert(&self, q: &Queued) -> u64;
    /// Rewrites an operation's row.
    fn update(&self, q: &Queued);
    /// Removes an operation that was never acknowledged.
    fn remove(&self, seq: u64);
    /// The operation with this seq.
    fn get(&self, seq: u64) -> Option<Queued>;
    /// The operation with this Entry-ID.
    fn by_entry_id(&self, entry_id: &str) -> Option<Queued>;
    /// Pending operations, by seq.
    fn pending(&self) -> Vec<Queued>;
    /// Failed operations, by seq.
    fn failed(&self) -> Vec<Queued>;
    /// The topics with pending operations, the one waiting longest first.
    fn pending_topics(&self) -> Vec<String> {
        let mut topics: Vec<String> = vec![];
        for q in self.pending() {
            if !topics.iter().any(|t| *t == q.topic.as_str()) {
                topics.push(q.topic.to_string());
            }
        }
        topics
    }
    /// The writer's value under `key` (pacer state, last error and so on).
    fn meta(&self, key: &str) -> Option<String>;
    /// Stores the writer's value under `key`.
    fn set_meta(&self, key: &str, value: &str);
    /// Forgets committed operations accepted before `before_ms`.
    fn prune_committed(&self, before_ms: u64);
    /// Keeps what is needed to recognise an Entry-ID for good.
    fn record_entry(&self, r: &EntryRecord);
    /// The record kept for this Entry-ID.
    fn entry_record(&self, entry_id: &str) -> Option<EntryRecord>;
    /// Stores an event and returns its cursor; `None` when an event with the same
    /// [`Event::entry_key`] is stored already.
    fn push_event(&self, e: &Event) -> Option<u64>;
    /// Events after `cursor`, oldest first, at most `limit`.
    fn events_after(&self, cursor: u64, limit: usize) -> Vec<Event>;
    /// The latest cursor (0: no event yet), and the latest pruned (0: none).
    fn event_bounds(&self) -> (u64, u64);
    /// Forgets all but the latest `keep` events.
    fn prune_events(&self, keep: u64);
    /// The header state last known of a thread.
    fn head(&self, topic: &str) -> Option<Head>;
    /// Remembers a thread's header state.
    fn set_head(&self, topic: &str, head: &Head);
    /// Forgets a thread's header state (it is read again when needed).
    fn forget_head(&self, topic: &str);
    /// The entries indexed for a thread (their bodies left out).
    fn indexed(&self, topic: &str) -> Vec<Doc>;
    /// Indexes one entry for search (replacing one at the same position).
    fn index_entry(&self, doc: &Doc);
    /// Replaces every indexed entry of a thread.
    fn replace_thread(&self, topic: &str, docs: &[Doc]);
    /// Searches the index, best first. `Err`: the query cannot be read, and why.
    fn search(&self, q: &SearchQuery) -> Result<Vec<Hit>, String>;
}

/// Writer settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterConfig {
    /// Minimum time between mutating GitHub requests.
    pub pacing_ms: u64,
    /// How long a caller waits for its commit before "accepted, queued".
    pub wait_ms: u64,
    /// Attempts before an operation failing for a non-transient reason is failed.
    pub max_attempts: u32,
    /// How often a waiting caller looks at the journal.
    pub poll_ms: u64,
    /// GitHub requests one invocation may make: the platform's subrequest limit
    /// (50 on the free plan) less headroom for R2 and the Durable Object.
    pub budget: u32,
    /// The largest thread file an append may make.
    pub max_thread_bytes: usize,
    /// How many events are kept for waiters; an older cursor is stale.
    pub events_keep: u64,
    /// Without webhooks, how often the branch is checked for outside pushes while
    /// anyone waits for events.
    pub outside_poll_ms: u64,
}

/// The default request budget of one invocation.
pub const DEFAULT_BUDGET: u32 = 40;
/// The default number of events kept.
pub const DEFAULT_EVENTS_KEEP: u64 = 10_000;
/// The default largest thread: 1 MiB, the most GitHub's Contents API serves as JSON.
pub const DEFAULT_MAX_THREAD_BYTES: usize = 1 << 20;

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            pacing_ms: super::pacing::DEFAULT_MIN_GAP_MS,
            wait_ms: 10_000,
            max_attempts: 10,
            poll_ms: 50,
            budget: DEFAULT_BUDGET,
            max_thread_bytes: DEFAULT_MAX_THREAD_BYTES,
            events_keep: DEFAULT_EVENTS_KEEP,
            outside_poll_ms: 30_000,
        }
    }
}

/// One submitted operation (validated by the API layer).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Submit {
    /// The thread's topic.
    pub topic: Topic,
    /// Who writes.
    pub author: Author,
    /// What to do.
    pub op: Operation,
    /// Required for entry-appending operations.
    pub entry_id: Option<EntryId>,
    /// Answer as soon as the operation is journaled (durable and visible to
    /// readers), without waiting for its commit.
    #[serde(default)]
    pub durable: bool,
}

/// How a submission ended, for the caller.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Submitted {
    /// Landed in `commit_sha`, or (`None`) was already in the thread. `replayed`:
    /// this Entry-ID had been submitted before, and this is that operation's result.
    Committed {
        /// The operation's seq.
        seq: u64,
        /// The commit it landed in (`None`: it was already in the thread).
        commit_sha: Option<Sha>,
        /// The Entry-ID was submitted before.
        #[serde(default)]
        replayed: bool,
    },
    /// Journaled; it will land when GitHub allows. Never dropped.
    Queued {
        /// The operation's seq.
        seq: u64,
        /// The thread's header as it will be once everything accepted lands.
        #[serde(default)]
        head: Option<Head>,
    },
    /// Refused: it cannot apply.
    Failed {
        /// The operation's seq.
        seq: u64,
        /// Why, as a code.
        code: FailReason,
        /// Why, in words.
        reason: String,
    },
}

/// What a flush did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Flushed {
    /// How many operations it settled as committed.
    pub committed: usize,
    /// The commit it made, if any.
    pub commit_sha: Option<Sha>,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// Operations left for a later flush (budget, or topics set aside).
    #[serde(default)]
    pub carried_over: usize,
}

/// The fewest requests a flush needs: one read, one write, one branch-head read.
pub const MIN_FLUSH_COST: u32 = 3;

pub(super) const META_PACER: &str = "pacer";
pub(super) const META_LAST_COMMIT: &str = "last_commit_at_ms";
pub(super) const META_LAST_ERROR: &str = "last_error";
pub(super) const META_LAST_FAILED: &str = "last_attempt_failed";

/// The writer over its effects.
pub struct Writer<'a, G, C, K, J> {
    /// The store, with the git host, cache and clock.
    pub store: Store<'a, G, C, K>,
    /// The journal.
    pub journal: &'a J,
    /// The writer settings.
    pub config: WriterConfig,
    /// True while a flush runs (in memory: a restart ends any flush).
    pub in_flight: &'a Cell<bool>,
    /// GitHub requests this invocation has made (see `WriterConfig::budget`).
    pub spent: Cell<u32>,
    /// Who waits for events here (none: waiters look every `poll_ms`).
    pub wakers: Option<&'a Wakers>,
}

impl<'a, G, C, K, J> Writer<'a, G, C, K, J> {
    /// A writer for one invocation, with its whole request budget.
    pub fn new(
        store: Store<'a, G, C, K>,
        journal: &'a J,
        config: WriterConfig,
        in_flight: &'a Cell<bool>,
    ) -> Self {
        Writer {
            store,
            journal,
            config,
            in_flight,
            spent: Cell::new(0),
            wakers: None,
        }
    }

    /// The same writer, waking these waiters when events come.
    pub fn waking(mut self, wakers: &'a Wakers) -> Self {
        self.wakers = Some(wakers);
        self
    }
}

impl<G: GitHost, C: Cache, K: Clock + Entropy, J: JournalStore> Writer<'_, G, C, K, J> {
    pub(super) fn pacer(&self) -> Pacer {
        self.journal
            .meta(META_PACER)
            .and_then(|s| serde_json::from_str(&s).ok())
            .map(|p: Pacer| Pacer {
                min_gap_ms: self.config.pacing_ms,
                ..p
            })
            .unwrap_or_else(|| Pacer::new(self.config.pacing_ms))
    }

    pub(super) fn save_pacer(&self, p: &Pacer) {
        self.journal
            .set_meta(META_PACER, &serde_json::to_string(p).unwrap_or_default());
    }

    /// Journals an operation (or finds the one with the same Entry-ID).
    pub fn accept(&self, s: Submit) -> Queued {
        if let Some(existing) = s
            .entry_id
            .as_deref()
            .and_then(|id| self.journal.by_entry_id(id))
        {
            return existing;
        }
        let now = self.store.clock.now_ms();
        let mut q = Queued {
            seq: 0,
            topic: s.topic,
            author: s.author,
            op: s.op,
            entry_id: s.entry_id,
            timestamp: timestamp::format_utc(now),
            accepted_at_ms: now,
            state: OpState::Pending,
            attempts: 0,
            last_error: None,
            acknowledged: false,
        };
        q.seq = self.journal.insert(&q);
        q
    }

    /// Journals a new operation (or finds the one with the same Entry-ID) and
    /// publishes the events it makes. A durable submission on a thread that does not
    /// exist is refused at once (only a say creates one): its caller will not wait to
    /// hear of it.
    pub async fn admit(&self, s: Submit) -> Result<Queued, Submitted> {
        if let Some(existing) = s
            .entry_id
            .as_deref()
            .and_then(|id| self.journal.by_entry_id(id))
        {
            return Ok(existing);
        }
        let before = self.head_before(&s.topic).await;
        if s.durable && matches!(before, Ok(None)) && !s.op.creates_thread() {
            return Err(Submitted::Failed {
                seq: 0,
                code: FailReason::ThreadNotFound,
                reason: format!(
                    "thread {:?} does not exist: only a say creates a thread",
                    s.topic.as_str()
                ),
            });
        }
        let q = self.accept(s);
        match before {
            // It will fail when committed (only a say creates a thread): nothing to tell.
            Ok(None) if !q.op.creates_thread() => {}
            before => {
                let before = before.unwrap_or_else(|()| Some(Head::default()));
                let (events, head) = super::events::of_operation(
                    &q.topic,
                    &q.author,
                    &q.op,
                    q.entry_id.as_deref(),
                    &q.timestamp,
                    before.as_ref(),
                );
                self.journal.set_head(&q.topic, &head);
                if let Some(doc) = super::search::doc_of(&q, events.first(), &head) {
                    self.journal.index_entry(&doc);
                }
                self.publish(&events);
            }
        }
        Ok(q)
    }

    /// A thread's header state before a new operation: as last known, else as read
    /// (the cached copy, else GitHub's). `Ok(None)`: no such thread; `Err`: unknown.
    async fn head_before(&self, topic: &Topic) -> Result<Option<Head>, ()> {
        if let Some(head) = self.journal.head(topic) {
            return Ok(Some(head));
        }
        if self.budget_left() < 1 {
            return Err(());
        }
        self.spend(1);
        match self.store.peek_thread(topic).await {
            Ok(content) => Ok(content.map(|c| Head::of(&crate::thread::parse(&c)))),
            Err(_) => Err(()),
        }
    }

    /// Stores events (skipping entries already told) and wakes the waiters. Returns
    /// how many were new.
    pub fn publish(&self, events: &[Event]) -> usize {
        let new = events
            .iter()
            .filter(|e| self.journal.push_event(e).is_some())
            .count();
        if new > 0 {
            self.journal.prune_events(self.config.events_keep);
            if let Some(w) = self.wakers {
                w.wake();
            }
        }
        new
    }

    /// The answer for an operation journaled and not committed yet.
    fn queued(&self, q: &Queued) -> Submitted {
        Submitted::Queued {
            seq: q.seq,
            head: self.journal.head(&q.topic),
        }
    }

    /// Journals an operation and waits for it up to the deadline, flushing when it is
    /// this caller's turn. An Entry-ID seen before is a replay when it comes with the
    /// same topic and content (the first send's result), and a conflict otherwise.
    pub async fn submit(&self, s: Submit) -> Submitted {
        if let Some(id) = s.entry_id.clone() {
            let digest = content_digest(&s.topic, &s.author, &s.op);
            if let Some(q) = self.journal.by_entry_id(&id) {
                if q.topic != s.topic || content_digest(&q.topic, &q.author, &q.op) != digest {
                    return id_conflict(&id, &q.topic);
                }
                if s.durable && q.state == OpState::Pending {
                    return self.queued(&q);
                }
                return match self.wait_for(q.seq).await {
                    Submitted::Committed {
                        seq, commit_sha, ..
                    } => Submitted::Committed {
                        seq,
                        commit_sha,
                        replayed: true,
                    },
                    // The first send failed and was cleared meanwhile: this is a new try.
                    Submitted::Failed {
                        code: FailReason::Internal,
                        ..
                    } => match self.admit(s).await {
                        Ok(q) => self.wait_for(q.seq).await,
                        Err(refused) => refused,
                    },
                    other => other,
                };
            }
            if let Some(r) = self.journal.entry_record(&id) {
                if r.topic != s.topic || r.digest != digest {
                    return id_conflict(&id, &r.topic);
                }
                return Submitted::Committed {
                    seq: 0,
                    commit_sha: r.commit_sha,
                    replayed: true,
                };
            }
        }
        let q = match self.admit(s.clone()).await {
            Ok(q) => q,
            Err(refused) => return refused,
        };
        if s.durable {
            return self.queued(&q);
        }
        match self.wait_for(q.seq).await {
            // Another send of this entry heard of its failure first and cleared it:
            // this one is journaled afresh.
            Submitted::Failed {
                code: FailReason::Internal,
                ..
            } => match self.admit(s).await {
                Ok(q) => self.wait_for(q.seq).await,
                Err(refused) => refused,
            },
            out => out,
        }
    }

    /// Waits for an operation to land, fail, or outlast the deadline.
    pub async fn wait_for(&self, seq: u64) -> Submitted {
        let clock = self.store.clock;
        let deadline = clock.now_ms() + self.config.wait_ms;
        loop {
            let Some(mut q) = self.journal.get(seq) else {
                return Submitted::Failed {
                    seq,
                    code: FailReason::Internal,
                    reason: "the operation left the journal".into(),
                };
            };
            match &q.state {
                OpState::Committed {
                    commit_sha,
                    replayed,
                } => {
                    return Submitted::Committed {
                        seq,
                        commit_sha: commit_sha.clone(),
                        replayed: *replayed,
                    }
                }
                OpState::Failed { code, reason } => {
                    let out = Submitted::Failed {
                        seq,
                        code: *code,
                        reason: reason.clone(),
                    };
                    // Never acknowledged: the caller hears of it now, so it need not linger.
                    if !q.acknowledged {
                        self.journal.remove(seq);
                    }
                    return out;
                }
                OpState::Pending => {}
            }
            let now = clock.now_ms();
            if now >= deadline {
                q.acknowledged = true;
                self.journal.update(&q);
                return self.queued(&q);
            }
            let next = self.next_flush_at().unwrap_or(now);
            let can_flush = !self.in_flight.get() && self.budget_left() >= MIN_FLUSH_COST;
            if can_flush && now >= next {
                // The caller is answered by its deadline whatever the flush is doing;
                // a flush cut short leaves its operations pending, to be re-read.
                use futures::future::select;
                let flush = std::pin::pin!(self.flush());
                let timer = std::pin::pin!(clock.sleep(deadline - now));
                let _ = select(flush, timer).await;
                continue;
            }
            // Someone else is flushing, or this invocation's budget is spent (the
            // alarm flushes in a fresh one): look again shortly.
            let until = if !can_flush {
                now + self.config.poll_ms
            } else {
                next
            };
            clock
                .sleep(
                    until
                        .min(deadline)
                        .saturating_sub(now)
                        .clamp(1, self.config.poll_ms),
                )
                .await;
        }
    }

    /// The sync status.
    pub fn status(&self) -> SyncStatus {
        let mut all = self.journal.pending();
        all.extend(self.journal.failed());
        let last_commit = self
            .journal
            .meta(META_LAST_COMMIT)
            .and_then(|v| v.parse().ok());
        // A topic set aside keeps its own error in view after others commit.
        let held_error = all
            .iter()
            .filter(|q| q.is_pending() && q.attempts > 0)
            .find_map(|q| q.last_error.clone());
        let last_error = self
            .journal
            .meta(META_LAST_ERROR)
            .filter(|e| !e.is_empty())
            .or(held_error.clone());
        let last_failed = held_error.is_some()
            || self
                .journal
                .meta(META_LAST_FAILED)
                .is_some_and(|v| v == "1");
        let mut status = journal::status(
            &all,
            self.store.clock.now_ms(),
            last_commit,
            last_error.as_deref(),
            last_failed,
        );
        status.next_attempt_at_ms = self.next_flush_at();
        status.github_wait_until_ms =
            Some(self.pacer().github_until_ms).filter(|t| *t > self.store.clock.now_ms());
        status
    }

    /// Moves failed operations back to pending, with fresh attempts. Returns how many.
    pub fn retry_failed(&self) -> usize {
        let failed = self.journal.failed();
        for mut q in failed.clone() {
            q.state = OpState::Pending;
            q.attempts = 0;
            self.journal.update(&q);
        }
        failed.len()
    }

    /// Clears our own backoff and every topic's hold so the next flush may run at
    /// once. GitHub's own wait (`retry-after`) stays.
    pub fn clear_backoff(&self) {
        let mut p = self.pacer();
        p.clear_backoff();
        self.save_pacer(&p);
        self.clear_holds();
    }

    /// `sync/now`: drop our backoff, wait out only the pacing gap, and flush. While
    /// GitHub has asked for a wait, nothing is sent; the status says when it will be.
    pub async fn flush_now(&self) -> Flushed {
        self.clear_backoff();
        let clock = self.store.clock;
        let pacer = self.pacer();
        if pacer.github_until_ms > clock.now_ms() {
            return Flushed {
                error: Some(format!(
                    "GitHub asked for a wait; the next attempt is in {} s",
                    (pacer.github_until_ms - clock.now_ms()).div_ceil(1000)
                )),
                ..Flushed::default()
            };
        }
        let wait = pacer.next_allowed_at().saturating_sub(clock.now_ms());
        if wait > 0 {
            clock.sleep(wait).await;
        }
        self.flush().await
    }

    /// Every pending operation, for listings.
    pub fn pending_all(&self) -> Vec<Queued> {
        self.journal.pending()
    }

    /// Pending operations on one thread, for read-your-writes.
    pub fn pending_for(&self, topic: &str) -> Vec<Queued> {
        self.journal
            .pending()
            .into_iter()
            .filter(|q| q.topic == topic)
            .collect()
    }
}

/// The answer to an Entry-ID sent again for something else.
fn id_conflict(id: &str, topic: &str) -> Submitted {
    Submitted::Failed {
        seq: 0,
        code: FailReason::EntryIdConflict,
        reason: format!(
            "entry_id {id} was already used for a different entry on topic {topic:?}: leave entry_id out (one is made for you), or send a new one"
        ),
    }
}
