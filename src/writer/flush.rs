//! One flush: commit what is pending, within this invocation's request budget, as one
//! group commit, and settle every operation it carried.
//!
//! What a flush takes: the oldest topics first, as many as the budget allows (reads,
//! the write and a branch-head read), skipping topics set aside after a refusal. The
//! rest is carried over. What a failure costs:
//! - a conflict: another attempt for the operations, after a fresh read;
//! - GitHub down, slow or limiting: nothing, the whole pipeline waits (GitHub's
//!   `retry-after`, else exponential backoff) and re-reads what it may have written;
//! - a refusal of one topic: another attempt for that topic's operations, and the
//!   topic is set aside for a while; the others go on;
//! - a refusal of a group: nobody's attempts; the next flushes write one topic each,
//!   so the refusal lands on the topic that causes it.

use super::engine::{
    Flushed, JournalStore, Writer, META_LAST_COMMIT, META_LAST_ERROR, META_LAST_FAILED,
    MIN_FLUSH_COST,
};
use super::events::{Event, EventKind};
use super::journal::{content_digest, EntryRecord, FailReason, OpState, Queued};
use super::pacing::{BACKOFF_BASE_MS, BACKOFF_CAP_MS};
use super::plan::{Current, Limits, Plan, Planner};
use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::{
    commit_files, git_blob_sha, Fetched, GitHost, GitHubError, PutFile, Sha, TreeFile,
};
use crate::thread::{ApplyError, Presence, Topic};
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};

/// Requests a multi-file commit makes (ref, tree, new tree, commit, ref update).
const GROUP_COMMIT_COST: u32 = 5;
/// Committed operations are kept this long for duplicate detection in the journal
/// (the thread file keeps every Entry-ID, and `EntryRecord`s outlive the rows).
const KEEP_COMMITTED_MS: u64 = 24 * 3_600_000;

const META_STATE: &str = "flush_state";
/// Before `META_STATE` existed: "1" when every topic had to be read fresh.
const META_FRESH_V0: &str = "force_fresh_reads";

/// What the writer remembers between flushes besides the pacer (a persisted shape:
/// fields are only ever added, with defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlushState {
    /// Topics to read from GitHub, not the cache: a write to them may have landed
    /// unseen, or they changed under us.
    #[serde(default)]
    pub fresh: BTreeSet<String>,
    /// Topics set aside after a refusal, until this time.
    #[serde(default)]
    pub held: BTreeMap<String, u64>,
    /// After a group was refused: how many more flushes write one topic each.
    #[serde(default)]
    pub isolate: u32,
    /// The budget the platform allowed when it last refused a subrequest (0: never).
    #[serde(default)]
    pub budget_cap: u32,
}

/// Clears the in-flight flag however a flush ends. A flush dropped while a write
/// was out (its caller's deadline passed) leaves that write's topics to be re-read.
struct FlushGuard<'a, J: JournalStore> {
    in_flight: &'a Cell<bool>,
    journal: &'a J,
    writing: std::cell::RefCell<Vec<String>>,
}

impl<J: JournalStore> Drop for FlushGuard<'_, J> {
    fn drop(&mut self) {
        let topics = std::mem::take(&mut *self.writing.borrow_mut());
        if !topics.is_empty() {
            let mut st = load_state(self.journal);
            st.fresh.extend(topics);
            save_state(self.journal, &st);
        }
        self.in_flight.set(false);
    }
}

fn load_state<J: JournalStore>(journal: &J) -> FlushState {
    let mut st: FlushState = journal
        .meta(META_STATE)
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    if journal.meta(META_FRESH_V0).is_some_and(|v| v == "1") {
        st.fresh
            .extend(journal.pending().into_iter().map(|q| q.topic.to_string()));
        journal.set_meta(META_FRESH_V0, "0");
    }
    st
}

fn save_state<J: JournalStore>(journal: &J, st: &FlushState) {
    journal.set_meta(META_STATE, &serde_json::to_string(st).unwrap_or_default());
}

/// The topics of `pending`, oldest first.
fn topics_in_order(pending: &[Queued]) -> Vec<Topic> {
    let mut seen = BTreeSet::new();
    pending
        .iter()
        .filter(|q| seen.insert(q.topic.clone()))
        .map(|q| q.topic.clone())
        .collect()
}

impl<G: GitHost, C: Cache, K: Clock + Entropy, J: JournalStore> Writer<'_, G, C, K, J> {
    /// GitHub requests this invocation may still make.
    pub fn budget_left(&self) -> u32 {
        let st = load_state(self.journal);
        let budget = match st.budget_cap {
            0 => self.config.budget,
            cap => self.config.budget.min(cap),
        };
        budget.saturating_sub(self.spent.get())
    }

    pub(super) fn spend(&self, n: u32) {
        self.spent.set(self.spent.get() + n);
    }

    /// When the next flush should run (for the alarm and waiting callers): `None` when
    /// nothing is pending. The pacing gap and GitHub's wait apply; if every pending
    /// topic is set aside, the first to come back decides.
    pub fn next_flush_at(&self) -> Option<u64> {
        let topics = self.journal.pending_topics();
        if topics.is_empty() {
            return None;
        }
        let st = load_state(self.journal);
        let now = self.store.clock.now_ms();
        let back = topics
            .iter()
            .map(|t| {
                st.held
                    .get(t.as_str())
                    .copied()
                    .filter(|u| *u > now)
                    .unwrap_or(now)
            })
            .min()
            .unwrap_or(now);
        Some(self.pacer().next_allowed_at().max(back))
    }

    /// Commits what is pending, as one group, within the budget. Returns at once if a
    /// flush is running, or if pacing does not allow a mutating request yet.
    pub async fn flush(&self) -> Flushed {
        if self.in_flight.replace(true) {
            return Flushed::default();
        }
        let guard = FlushGuard {
            in_flight: self.in_flight,
            journal: self.journal,
            writing: Default::default(),
        };
        let pending = self.journal.pending();
        let clock = self.store.clock;
        let now = clock.now_ms();
        // Never early: mutating requests keep their gap, and GitHub's waits are kept.
        if pending.is_empty() || now < self.pacer().next_allowed_at() {
            return Flushed::default();
        }
        let mut st = load_state(self.journal);
        st.held.retain(|_, until| *until > now);

        let current = match self.choose(&pending, &mut st).await {
            Ok(c) => c,
            Err(failed) => return failed,
        };
        let carried = pending
            .iter()
            .filter(|q| !current.contains_key(&q.topic))
            .count();
        if current.is_empty() {
            save_state(self.journal, &st);
            return Flushed {
                carried_over: carried,
                ..Flushed::default()
            };
        }

        let planned = self.plan_batch(&pending, &current).await;
        let mut done = self.settle_without_writing(&planned).await;
        self.unpredict(&planned, &current);
        done.carried_over = carried;
        if planned.files.is_empty() {
            save_state(self.journal, &st);
            return done;
        }
        *guard.writing.borrow_mut() = planned.files.iter().map(|f| f.topic.to_string()).collect();
        let result = self.write(&planned).await;
        guard.writing.borrow_mut().clear();
        let written: Vec<Queued> = pending
            .iter()
            .filter(|q| planned.files.iter().any(|f| f.ops.contains(&q.seq)))
            .cloned()
            .collect();
        match result {
            Ok(commit_sha) => {
                self.committed(&planned, &written, &commit_sha, &mut st)
                    .await;
                done.committed += written.len();
                done.commit_sha = Some(commit_sha);
                done
            }
            Err(e) => {
                let topics: Vec<String> =
                    planned.files.iter().map(|f| f.topic.to_string()).collect();
                let mut failed = self.write_failed(&written, &topics, &mut st, e);
                failed.committed = done.committed;
                failed.carried_over = carried;
                failed
            }
        }
    }

    /// Plans the pending operations on the chosen topics one at a time, letting
    /// requests waiting at the writer (new writes, waiters) run between two: their
    /// answers do not wait for the whole plan.
    async fn plan_batch(&self, pending: &[Queued], current: &BTreeMap<Topic, Current>) -> Plan {
        let mut batch: Vec<&Queued> = pending
            .iter()
            .filter(|q| current.contains_key(&q.topic))
            .collect();
        batch.sort_by_key(|q| q.seq);
        let limits = Limits {
            max_thread_bytes: self.config.max_thread_bytes,
        };
        let mut planner = Planner::new(current, limits);
        for q in batch {
            planner.add(q);
            self.store.clock.yield_now().await;
        }
        planner.finish()
    }

    /// The oldest topics that fit the budget, not set aside, with their current content
    /// (one topic at a time while a refused group is being isolated).
    async fn choose(
        &self,
        pending: &[Queued],
        st: &mut FlushState,
    ) -> Result<BTreeMap<Topic, Current>, Flushed> {
        let eligible: Vec<Topic> = topics_in_order(pending)
            .into_iter()
            .filter(|t| !st.held.contains_key(t.as_str()))
            .collect();
        let most = if st.isolate > 0 { 1 } else { usize::MAX };
        let mut current: BTreeMap<Topic, Current> = BTreeMap::new();
        for topic in eligible.iter().take(most) {
            let write_cost = match current.is_empty() {
                true => 1,
                false => GROUP_COMMIT_COST,
            };
            let cached = match st.fresh.contains(topic.as_str()) {
                true => None,
                false => self.cached(topic).await,
            };
            // This topic's read (unless cached), the write, and a branch-head read.
            if u32::from(cached.is_none()) + write_cost + 1 > self.budget_left() {
                break;
            }
            let content = match cached {
                Some(c) => c,
                None => {
                    self.spend(1);
                    match self.read(topic).await {
                        Ok(c) => c,
                        Err(e) => return Err(self.unavailable(pending, st, e)),
                    }
                }
            };
            st.fresh.remove(topic.as_str());
            current.insert(topic.clone(), content);
        }
        Ok(current)
    }

    /// A topic's cached content, if any (a cached "missing" counts as unknown).
    async fn cached(&self, topic: &str) -> Option<Current> {
        let path = self.store.path_of(topic);
        let key = crate::store::cached_file_key(&self.store.config.cache_namespace, &path);
        crate::store::cached_file(self.store.cache, &key)
            .await
            .filter(|c| !c.missing)
            .map(|c| Some((c.content, c.sha)))
    }

    /// A topic's content from GitHub (`None`: no such file), remembered in the cache.
    async fn read(&self, topic: &str) -> Result<Current, GitHubError> {
        let path = self.store.path_of(topic);
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

    /// Settles what the plan decided without a write: no-ops, entries already there,
    /// and operations that cannot apply.
    async fn settle_without_writing(&self, planned: &Plan) -> Flushed {
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
                ApplyError::ThreadMissing => FailReason::ThreadNotFound,
                ApplyError::NotAThread => FailReason::NotAThread,
                ApplyError::TooLarge { .. } => FailReason::ThreadTooLarge,
                ApplyError::WouldCorrupt(_) => FailReason::InvalidEntry,
            };
            self.finish(
                *seq,
                OpState::Failed {
                    code,
                    reason: e.to_string(),
                },
            );
        }
        Flushed {
            committed: planned.unchanged.len() + planned.present.len(),
            ..Flushed::default()
        }
    }

    /// Operations that will never land were told and predicted when accepted: their
    /// threads' heads and index go back to the files as they are.
    fn unpredict(&self, planned: &Plan, current: &BTreeMap<Topic, Current>) {
        let mut topics: Vec<Topic> = planned
            .rejected
            .iter()
            .filter_map(|(seq, _)| self.journal.get(*seq).map(|q| q.topic))
            .collect();
        topics.dedup();
        for t in topics {
            let file = current
                .get(&t)
                .and_then(|c| c.as_ref())
                .map(|(content, _)| crate::thread::parse(content));
            self.relearn(&t, file.as_ref());
        }
    }

    /// Writes the planned files: one PUT for one file, else one Git Data commit. Every
    /// mutating request keeps the pacing gap.
    async fn write(&self, planned: &Plan) -> Result<Sha, GitHubError> {
        let clock = self.store.clock;
        let paths: Vec<String> = planned
            .files
            .iter()
            .map(|f| self.store.path_of(&f.topic))
            .collect();
        if let [f] = planned.files.as_slice() {
            let mut pacer = self.pacer();
            pacer.record_mutation(clock.now_ms());
            self.save_pacer(&pacer);
            self.spend(1);
            return self
                .store
                .git
                .put_file(PutFile {
                    path: &paths[0],
                    content: &f.content,
                    sha: f.base_sha.as_deref(),
                    message: &planned.message,
                })
                .await
                .map(|w| w.commit_sha);
        }
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
        self.spend(GROUP_COMMIT_COST);
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
    }

    /// After a commit: the cache and listing learn the new files, the operations are
    /// committed, and the failure state is reset.
    async fn committed(
        &self,
        planned: &Plan,
        written: &[Queued],
        commit_sha: &Sha,
        st: &mut FlushState,
    ) {
        let clock = self.store.clock;
        for f in &planned.files {
            let path = self.store.path_of(&f.topic);
            let sha = git_blob_sha(&f.content);
            self.store.remember(&path, &f.content, &sha).await;
            self.store
                .note_written(&path, &f.topic, &sha, &f.content)
                .await;
        }
        for q in written {
            self.finish(
                q.seq,
                OpState::Committed {
                    commit_sha: Some(commit_sha.clone()),
                    replayed: false,
                },
            );
        }
        // Pages showing these threads' pending entries hear that they landed.
        let at = crate::thread::timestamp::format_utc(clock.now_ms());
        let landed: Vec<Event> = planned
            .files
            .iter()
            .map(|f| {
                let mut e = Event::new(EventKind::Committed, &f.topic, &at);
                e.commit = Some(commit_sha.to_string());
                e.pending = Some(false);
                e
            })
            .collect();
        self.publish(&landed);
        // What a thread's head is, once nothing of it is pending: as committed.
        let pending = self.journal.pending_topics();
        for f in &planned.files {
            if !pending.iter().any(|t| *t == f.topic.as_str()) {
                // The index learned each entry when it was accepted; it is rebuilt
                // from the file only when the prediction drifted (outside changes).
                let file = crate::thread::parse(&f.content);
                if self.journal.head(&f.topic) != Some(super::events::Head::of(&file)) {
                    self.relearn(&f.topic, Some(&file));
                }
            }
        }
        let mut pacer = self.pacer();
        pacer.on_success();
        self.save_pacer(&pacer);
        st.isolate = st.isolate.saturating_sub(1);
        save_state(self.journal, st);
        self.journal
            .set_meta(META_LAST_COMMIT, &clock.now_ms().to_string());
        self.journal.set_meta(META_LAST_ERROR, "");
        self.journal.set_meta(META_LAST_FAILED, "0");
        self.journal
            .prune_committed(clock.now_ms().saturating_sub(KEEP_COMMITTED_MS));
    }

    /// Settles a journaled operation. A committed entry is also recorded for good.
    pub(super) fn finish(&self, seq: u64, state: OpState) {
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
            true => {
                self.spend(1);
                self.store.git.branch_head().await.ok()
            }
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
                    code: FailReason::EntryIdConflict,
                    reason: reason.clone(),
                },
            };
            self.finish(*seq, state);
        }
    }

    /// Reading failed: GitHub is unavailable (or this invocation is out of requests).
    /// Nobody's attempts are spent; the pipeline waits.
    fn unavailable(&self, pending: &[Queued], st: &mut FlushState, e: GitHubError) -> Flushed {
        let message = e.to_string();
        self.pause(&e, st);
        save_state(self.journal, st);
        self.journal.set_meta(META_LAST_ERROR, &message);
        self.journal.set_meta(META_LAST_FAILED, "1");
        Flushed {
            error: Some(message),
            carried_over: pending.len(),
            ..Flushed::default()
        }
    }

    /// Waits out trouble that is not the operations' fault: GitHub's own wait or our
    /// backoff, or, for the platform's subrequest limit, nothing but a smaller budget
    /// (the next invocation starts afresh).
    fn pause(&self, e: &GitHubError, st: &mut FlushState) {
        if let GitHubError::TooManySubrequests = e {
            st.budget_cap = self.spent.get().saturating_sub(1).max(MIN_FLUSH_COST);
            self.spent.set(u32::MAX / 2);
            return;
        }
        let clock = self.store.clock;
        let mut pacer = self.pacer();
        pacer.on_failure(clock.now_ms(), e, clock.random_u64());
        self.save_pacer(&pacer);
    }

    /// A write failed; see the module notes for what each kind of failure costs.
    fn write_failed(
        &self,
        written: &[Queued],
        topics: &[String],
        st: &mut FlushState,
        e: GitHubError,
    ) -> Flushed {
        let message = e.to_string();
        let conflict = matches!(
            e,
            GitHubError::FileChanged { .. }
                | GitHubError::ShaMissing
                | GitHubError::BranchMoved { .. }
        );
        if conflict {
            // After the pacing gap: a changed file is re-read and re-applied; a moved
            // branch alone needs no re-read, only another try.
            if !matches!(e, GitHubError::BranchMoved { .. }) {
                st.fresh.extend(topics.iter().cloned());
            }
            self.count_attempt(written, &message);
        } else if e.is_transient() {
            self.pause(&e, st);
            if e.outcome_unclear() || matches!(e, GitHubError::TooManySubrequests) {
                st.fresh.extend(topics.iter().cloned());
            }
        } else if topics.len() > 1 {
            // Which topic is refused? Write them one at a time to find out.
            st.isolate = topics.len() as u32;
        } else {
            // This topic is refused: it waits on its own, the others go on.
            let attempts = self.count_attempt(written, &message);
            let wait = BACKOFF_BASE_MS
                .saturating_mul(1u64 << attempts.saturating_sub(1).min(20))
                .min(BACKOFF_CAP_MS);
            let now = self.store.clock.now_ms();
            st.held
                .extend(topics.iter().map(|t| (t.clone(), now + wait)));
        }
        save_state(self.journal, st);
        self.journal.set_meta(META_LAST_ERROR, &message);
        self.journal
            .set_meta(META_LAST_FAILED, if conflict { "0" } else { "1" });
        Flushed {
            error: Some(message),
            ..Flushed::default()
        }
    }

    /// Counts a failed attempt against operations; one that used up its attempts fails
    /// (kept, never dropped). Returns the most attempts any of them has made.
    fn count_attempt(&self, written: &[Queued], message: &str) -> u32 {
        let mut most = 0;
        for q in written {
            let Some(mut q) = self.journal.get(q.seq) else {
                continue;
            };
            q.attempts += 1;
            most = most.max(q.attempts);
            q.last_error = Some(message.to_string());
            if q.attempts >= self.config.max_attempts {
                q.state = OpState::Failed {
                    code: FailReason::GitHubError,
                    reason: format!("failed {} times; last error: {message}", q.attempts),
                };
            }
            self.journal.update(&q);
        }
        most
    }

    /// Sets every held topic free (`sync/now`, `sync/retry`).
    pub(super) fn clear_holds(&self) {
        let mut st = load_state(self.journal);
        if !st.held.is_empty() {
            st.held.clear();
            save_state(self.journal, &st);
        }
    }
}
