//! The writer: accepts operations into the journal, and commits everything pending as
//! one group, paced, with conflicts re-applied and failures retried. Callers wait for
//! their operation up to a deadline, then get "accepted, queued".
//!
//! One writer serves one repository and branch (the Durable Object glue makes sure of
//! that); within it, only one flush runs at a time.

use super::journal::{self, content_digest, EntryRecord, OpState, Queued, SyncStatus};
use super::pacing::Pacer;
use super::plan::{plan, Current};
use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::{commit_files, git_blob_sha, Fetched, GitHost, GitHubError, PutFile, TreeFile};
use crate::store::Store;
use crate::thread::{timestamp, ApplyError, Author, Operation, Presence};
use std::cell::Cell;
use std::collections::BTreeMap;

/// Durable journal storage (SQLite in the Durable Object; memory in tests).
pub trait JournalStore {
    /// Stores a new operation and returns its seq (arrival order).
    fn insert(&self, q: &Queued) -> u64;
    /// Rewrites an operation's row.
    fn update(&self, q: &Queued);
    /// Removes an operation that was never acknowledged.
    fn remove(&self, seq: u64);
    fn get(&self, seq: u64) -> Option<Queued>;
    fn by_entry_id(&self, entry_id: &str) -> Option<Queued>;
    /// Pending operations, by seq.
    fn pending(&self) -> Vec<Queued>;
    /// Failed operations, by seq.
    fn failed(&self) -> Vec<Queued>;
    fn meta(&self, key: &str) -> Option<String>;
    fn set_meta(&self, key: &str, value: &str);
    /// Forgets committed operations accepted before `before_ms`.
    fn prune_committed(&self, before_ms: u64);
    /// Keeps what is needed to recognise an Entry-ID for good.
    fn record_entry(&self, r: &EntryRecord);
    fn entry_record(&self, entry_id: &str) -> Option<EntryRecord>;
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
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            pacing_ms: super::pacing::DEFAULT_MIN_GAP_MS,
            wait_ms: 10_000,
            max_attempts: 10,
            poll_ms: 50,
        }
    }
}

/// One submitted operation (validated by the API layer).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Submit {
    pub topic: String,
    pub author: Author,
    pub op: Operation,
    /// Required for entry-appending operations.
    pub entry_id: Option<String>,
}

/// How a submission ended, for the caller.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Submitted {
    /// Landed in `commit_sha`, or (`None`) was already in the thread. `replayed`:
    /// this Entry-ID had been submitted before, and this is that operation's result.
    Committed {
        seq: u64,
        commit_sha: Option<String>,
        #[serde(default)]
        replayed: bool,
    },
    /// Journaled; it will land when GitHub allows. Never dropped.
    Queued { seq: u64 },
    /// Refused: it cannot apply (`code` is the API error code).
    Failed {
        seq: u64,
        code: String,
        reason: String,
    },
}

/// What a flush did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Flushed {
    pub committed: usize,
    pub commit_sha: Option<String>,
    pub error: Option<String>,
}

const META_PACER: &str = "pacer";
const META_LAST_COMMIT: &str = "last_commit_at_ms";
const META_LAST_ERROR: &str = "last_error";
const META_LAST_FAILED: &str = "last_attempt_failed";
const META_FRESH: &str = "force_fresh_reads";
/// Committed operations are kept this long for duplicate detection in the journal
/// (the thread file itself keeps every Entry-ID for good).
const KEEP_COMMITTED_MS: u64 = 24 * 3_600_000;

/// The writer over its effects.
pub struct Writer<'a, G, C, K, J> {
    pub store: Store<'a, G, C, K>,
    pub journal: &'a J,
    pub config: WriterConfig,
    /// True while a flush runs (in memory: a restart ends any flush).
    pub in_flight: &'a Cell<bool>,
}

/// Clears the in-flight flag however a flush ends.
struct FlushGuard<'a>(&'a Cell<bool>);

impl Drop for FlushGuard<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

impl<G: GitHost, C: Cache, K: Clock + Entropy, J: JournalStore> Writer<'_, G, C, K, J> {
    fn pacer(&self) -> Pacer {
        self.journal
            .meta(META_PACER)
            .and_then(|s| serde_json::from_str(&s).ok())
            .map(|p: Pacer| Pacer {
                min_gap_ms: self.config.pacing_ms,
                ..p
            })
            .unwrap_or_else(|| Pacer::new(self.config.pacing_ms))
    }

    fn save_pacer(&self, p: &Pacer) {
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
                return match self.wait_for(q.seq).await {
                    Submitted::Committed {
                        seq, commit_sha, ..
                    } => Submitted::Committed {
                        seq,
                        commit_sha,
                        replayed: true,
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
        let q = self.accept(s);
        self.wait_for(q.seq).await
    }

    /// Waits for an operation to land, fail, or outlast the deadline.
    pub async fn wait_for(&self, seq: u64) -> Submitted {
        let clock = self.store.clock;
        let deadline = clock.now_ms() + self.config.wait_ms;
        loop {
            let Some(mut q) = self.journal.get(seq) else {
                return Submitted::Failed {
                    seq,
                    code: "internal".into(),
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
                        code: code.clone(),
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
                return Submitted::Queued { seq };
            }
            let next = self.pacer().next_allowed_at();
            if !self.in_flight.get() && now >= next {
                self.flush().await;
                continue;
            }
            let until = if self.in_flight.get() {
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

    /// When the next flush should run (for the alarm): `None` when nothing is pending.
    pub fn next_flush_at(&self) -> Option<u64> {
        (!self.journal.pending().is_empty()).then(|| self.pacer().next_allowed_at())
    }

    /// Commits everything pending as one group. Returns at once if a flush is running,
    /// or if pacing does not allow a mutating request yet.
    pub async fn flush(&self) -> Flushed {
        if self.in_flight.replace(true) {
            return Flushed::default();
        }
        let _guard = FlushGuard(self.in_flight);
        let pending = self.journal.pending();
        if pending.is_empty() {
            return Flushed::default();
        }
        let clock = self.store.clock;
        let mut pacer = self.pacer();
        // Never early: mutating requests keep their gap, and GitHub's waits are kept.
        if clock.now_ms() < pacer.next_allowed_at() {
            return Flushed::default();
        }
        let fresh = self.journal.meta(META_FRESH).is_some_and(|v| v == "1");

        // The current content of every thread touched.
        let mut current: BTreeMap<String, Current> = BTreeMap::new();
        for q in &pending {
            if current.contains_key(&q.topic) {
                continue;
            }
            match self.current(&q.topic, fresh).await {
                Ok(c) => {
                    current.insert(q.topic.clone(), c);
                }
                Err(e) => return self.failed_attempt(&pending, &mut pacer, e, false),
            }
        }

        let refs: Vec<&Queued> = pending.iter().collect();
        let planned = plan(&refs, &current);
        for seq in &planned.unchanged {
            self.finish(
                *seq,
                OpState::Committed {
                    commit_sha: None,
                    replayed: false,
                },
            );
        }
        self.finish_present(&planned.present).await;
        for (seq, e) in &planned.rejected {
            let code = match e {
                ApplyError::ThreadMissing => "thread_not_found",
                ApplyError::NotAThread => "not_a_thread",
                ApplyError::WouldCorrupt(_) => "invalid_entry",
            };
            self.finish(
                *seq,
                OpState::Failed {
                    code: code.into(),
                    reason: e.to_string(),
                },
            );
        }
        let mut done = Flushed {
            committed: planned.unchanged.len() + planned.present.len(),
            ..Flushed::default()
        };
        if planned.files.is_empty() {
            return done;
        }

        let paths: Vec<String> = planned
            .files
            .iter()
            .map(|f| self.store.path_of(&f.topic))
            .collect();
        let result = if let [f] = planned.files.as_slice() {
            pacer.record_mutation(clock.now_ms());
            self.save_pacer(&pacer);
            self.store
                .git
                .put_file(PutFile {
                    path: &paths[0],
                    content: &f.content,
                    sha: f.base_sha.as_deref(),
                    message: &planned.message,
                })
                .await
                .map(|w| w.commit_sha)
        } else {
            let files: Vec<TreeFile<'_>> = planned
                .files
                .iter()
                .zip(&paths)
                .map(|(f, path)| TreeFile {
                    path,
                    content: &f.content,
                    base_sha: f.base_sha.as_deref(),
                })
                .collect();
            // Each of the Git Data API's three writes keeps the pacing gap.
            let pace = async || {
                let mut p = self.pacer();
                let wait = p.next_allowed_at().saturating_sub(clock.now_ms());
                if wait > 0 {
                    clock.sleep(wait).await;
                }
                p.record_mutation(clock.now_ms());
                self.save_pacer(&p);
            };
            commit_files(self.store.git, &files, &planned.message, pace).await
        };
        // The pacer as the writes left it.
        let mut pacer = self.pacer();

        let batch: Vec<Queued> = pending
            .iter()
            .filter(|q| planned.files.iter().any(|f| f.ops.contains(&q.seq)))
            .cloned()
            .collect();
        match result {
            Ok(commit_sha) => {
                for (f, path) in planned.files.iter().zip(&paths) {
                    let sha = git_blob_sha(&f.content);
                    self.store.remember(path, &f.content, &sha).await;
                    self.store
                        .note_written(path, &f.topic, &sha, &f.content)
                        .await;
                }
                for q in &batch {
                    self.finish(
                        q.seq,
                        OpState::Committed {
                            commit_sha: Some(commit_sha.clone()),
                            replayed: false,
                        },
                    );
                }
                pacer.on_success();
                self.save_pacer(&pacer);
                self.journal
                    .set_meta(META_LAST_COMMIT, &clock.now_ms().to_string());
                self.journal.set_meta(META_LAST_ERROR, "");
                self.journal.set_meta(META_LAST_FAILED, "0");
                self.journal.set_meta(META_FRESH, "0");
                self.journal
                    .prune_committed(clock.now_ms().saturating_sub(KEEP_COMMITTED_MS));
                done.committed += batch.len();
                done.commit_sha = Some(commit_sha);
                done
            }
            Err(e) => {
                let conflict = matches!(
                    e,
                    GitHubError::FileChanged { .. }
                        | GitHubError::ShaMissing
                        | GitHubError::BranchMoved { .. }
                );
                self.failed_attempt(&batch, &mut pacer, e, conflict)
            }
        }
    }

    /// The current content and sha of a thread: the cache, unless fresh reads are due.
    async fn current(&self, topic: &str, fresh: bool) -> Result<Current, GitHubError> {
        let path = self.store.path_of(topic);
        if !fresh {
            let key = crate::store::cached_file_key(&self.store.config.cache_namespace, &path);
            if let Some(c) = crate::store::cached_file(self.store.cache, &key).await {
                return Ok(Some((c.content, c.sha)));
            }
        }
        match self.store.git.get_file(&path, None).await {
            Ok(Fetched::Modified(f)) => {
                self.store.remember(&path, &f.content, &f.sha).await;
                Ok(Some((f.content, f.sha)))
            }
            Ok(Fetched::NotModified) => Err(GitHubError::BadResponse {
                message: "304 to an unconditional read".into(),
            }),
            Err(GitHubError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Settles a journaled operation. A committed entry is also recorded for good.
    fn finish(&self, seq: u64, state: OpState) {
        let Some(mut q) = self.journal.get(seq) else {
            return;
        };
        if let (Some(id), OpState::Committed { commit_sha, .. }) = (&q.entry_id, &state) {
            self.journal.record_entry(&EntryRecord {
                entry_id: id.clone(),
                topic: q.topic.clone(),
                digest: content_digest(&q.topic, &q.author, &q.op),
                commit_sha: commit_sha.clone(),
            });
        }
        q.state = state;
        self.journal.update(&q);
    }

    /// Settles operations whose Entry-ID the thread already holds. One whose own
    /// earlier attempt landed (its answer lost) is committed, as is a replay of the
    /// same entry; both report the branch head, a commit that holds the entry (a
    /// replay prefers the commit recorded when it first landed). Anything else that
    /// holds the id is a conflict.
    async fn finish_present(&self, present: &[(u64, Presence)]) {
        let needs_head = present
            .iter()
            .any(|(_, p)| !matches!(p, Presence::Conflict(_)));
        let head = match needs_head {
            true => self.store.git.branch_head().await.ok(),
            false => None,
        };
        for (seq, p) in present {
            let state = match p {
                Presence::Landed => OpState::Committed {
                    commit_sha: head.clone(),
                    replayed: false,
                },
                Presence::SameEntry => {
                    let recorded = self
                        .journal
                        .get(*seq)
                        .and_then(|q| q.entry_id)
                        .and_then(|id| self.journal.entry_record(&id))
                        .and_then(|r| r.commit_sha);
                    OpState::Committed {
                        commit_sha: recorded.or_else(|| head.clone()),
                        replayed: true,
                    }
                }
                Presence::Conflict(reason) => OpState::Failed {
                    code: "entry_id_conflict".into(),
                    reason: reason.clone(),
                },
            };
            self.finish(*seq, state);
        }
    }

    /// Records a failed attempt: rate limits and GitHub outages pause the pipeline
    /// (exponential backoff, or GitHub's own wait) without counting against the
    /// operations; conflicts and refusals count, and an operation that used up its
    /// attempts fails (kept, never dropped).
    fn failed_attempt(
        &self,
        batch: &[Queued],
        pacer: &mut Pacer,
        e: GitHubError,
        conflict: bool,
    ) -> Flushed {
        let clock = self.store.clock;
        let message = e.to_string();
        let counts = conflict || !e.is_transient();
        if conflict {
            // After the pacing gap: a changed file is re-read and re-applied; a moved
            // branch alone needs no re-read, only another try.
            if !matches!(e, GitHubError::BranchMoved { .. }) {
                self.journal.set_meta(META_FRESH, "1");
            }
        } else {
            pacer.on_failure(clock.now_ms(), &e, clock.random_u64());
            self.save_pacer(pacer);
            if e.outcome_unclear() {
                self.journal.set_meta(META_FRESH, "1");
            }
        }
        self.journal.set_meta(META_LAST_ERROR, &message);
        self.journal
            .set_meta(META_LAST_FAILED, if conflict { "0" } else { "1" });
        if counts {
            for q in batch {
                let Some(mut q) = self.journal.get(q.seq) else {
                    continue;
                };
                q.attempts += 1;
                q.last_error = Some(message.clone());
                if q.attempts >= self.config.max_attempts {
                    q.state = OpState::Failed {
                        code: "github_error".into(),
                        reason: format!("failed {} times; last error: {message}", q.attempts),
                    };
                }
                self.journal.update(&q);
            }
        }
        Flushed {
            error: Some(message),
            ..Flushed::default()
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
        let last_error = self.journal.meta(META_LAST_ERROR).filter(|e| !e.is_empty());
        let last_failed = self
            .journal
            .meta(META_LAST_FAILED)
            .is_some_and(|v| v == "1");
        journal::status(
            &all,
            self.store.clock.now_ms(),
            last_commit,
            last_error.as_deref(),
            last_failed,
        )
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

    /// Clears any backoff so the next flush may run at once.
    pub fn clear_backoff(&self) {
        let mut p = self.pacer();
        p.blocked_until_ms = 0;
        p.consecutive_failures = 0;
        self.save_pacer(&p);
    }

    /// `sync/now`: drop the backoff, wait out only the pacing gap, and flush.
    pub async fn flush_now(&self) -> Flushed {
        self.clear_backoff();
        let clock = self.store.clock;
        let wait = self
            .pacer()
            .next_allowed_at()
            .saturating_sub(clock.now_ms());
        if wait > 0 {
            clock.sleep(wait).await;
        }
        self.flush().await
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
        code: "entry_id_conflict".into(),
        reason: format!(
            "entry_id {id} was already used for a different entry on topic {topic:?}: leave entry_id out (one is made for you), or send a new one"
        ),
    }
}

/// An in-memory journal for tests.
#[derive(Debug, Default)]
pub struct MemoryJournal {
    rows: std::cell::RefCell<BTreeMap<u64, Queued>>,
    records: std::cell::RefCell<BTreeMap<String, EntryRecord>>,
    meta: std::cell::RefCell<BTreeMap<String, String>>,
    next: Cell<u64>,
}

impl JournalStore for MemoryJournal {
    fn insert(&self, q: &Queued) -> u64 {
        let seq = self.next.get() + 1;
        self.next.set(seq);
        let mut q = q.clone();
        q.seq = seq;
        self.rows.borrow_mut().insert(seq, q);
        seq
    }
    fn update(&self, q: &Queued) {
        self.rows.borrow_mut().insert(q.seq, q.clone());
    }
    fn remove(&self, seq: u64) {
        self.rows.borrow_mut().remove(&seq);
    }
    fn get(&self, seq: u64) -> Option<Queued> {
        self.rows.borrow().get(&seq).cloned()
    }
    fn by_entry_id(&self, entry_id: &str) -> Option<Queued> {
        self.rows
            .borrow()
            .values()
            .find(|q| q.entry_id.as_deref() == Some(entry_id))
            .cloned()
    }
    fn pending(&self) -> Vec<Queued> {
        self.rows
            .borrow()
            .values()
            .filter(|q| q.is_pending())
            .cloned()
            .collect()
    }
    fn failed(&self) -> Vec<Queued> {
        self.rows
            .borrow()
            .values()
            .filter(|q| matches!(q.state, OpState::Failed { .. }))
            .cloned()
            .collect()
    }
    fn meta(&self, key: &str) -> Option<String> {
        self.meta.borrow().get(key).cloned()
    }
    fn set_meta(&self, key: &str, value: &str) {
        self.meta
            .borrow_mut()
            .insert(key.to_string(), value.to_string());
    }
    fn prune_committed(&self, before_ms: u64) {
        self.rows.borrow_mut().retain(|_, q| {
            !(matches!(q.state, OpState::Committed { .. }) && q.accepted_at_ms < before_ms)
        });
    }
    fn record_entry(&self, r: &EntryRecord) {
        self.records
            .borrow_mut()
            .insert(r.entry_id.clone(), r.clone());
    }
    fn entry_record(&self, entry_id: &str) -> Option<EntryRecord> {
        self.records.borrow().get(entry_id).cloned()
    }
}
