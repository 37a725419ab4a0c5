//! The journal: every accepted operation, durably kept until it is committed, and
//! kept (never dropped) when it fails for good.

use crate::github::Sha;
use crate::thread::{Author, EntryId, Operation, Topic};
use serde::{Deserialize, Serialize};

/// Where an operation stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum OpState {
    /// Accepted, not committed yet.
    Pending,
    /// Landed in `commit_sha` (`None`: nothing to write, or the commit is unknown).
    /// `replayed`: the entry was already in the thread from an earlier send.
    Committed {
        /// The commit it landed in, if there is one and it is known.
        commit_sha: Option<Sha>,
        /// The entry was already in the thread from an earlier send.
        #[serde(default)]
        replayed: bool,
    },
    /// Failed for a reason retrying will not fix, or too often; kept until retried.
    Failed {
        /// Why, as a code.
        code: FailReason,
        /// Why, in words.
        reason: String,
    },
}

/// Why an operation failed (persisted by name: variants are only ever added).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailReason {
    /// Only a say creates a thread.
    ThreadNotFound,
    /// The file under the topic's name is not a thread.
    NotAThread,
    /// The entry would not read the same in both readings.
    InvalidEntry,
    /// The Entry-ID is taken by another entry or topic.
    EntryIdConflict,
    /// The append would pass MAX_THREAD_BYTES.
    ThreadTooLarge,
    /// GitHub refused it too often.
    #[serde(rename = "github_error")]
    GitHubError,
    /// The writer lost track of it (a row removed while its caller waited), or a
    /// reason this version does not know.
    #[serde(other)]
    Internal,
}

/// One journaled operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queued {
    /// Arrival order.
    pub seq: u64,
    /// The thread's topic.
    pub topic: Topic,
    /// Who writes.
    pub author: Author,
    /// What to do.
    pub op: Operation,
    /// The idempotency key; set for every operation that appends an entry.
    pub entry_id: Option<EntryId>,
    /// The entry timestamp, fixed when the operation was accepted so that applying
    /// it again after a conflict writes the same bytes.
    pub timestamp: String,
    /// When it was accepted, in milliseconds since the Unix epoch.
    pub accepted_at_ms: u64,
    /// Where it stands.
    pub state: OpState,
    /// Failed commit attempts so far.
    pub attempts: u32,
    /// The latest failed attempt's error.
    pub last_error: Option<String>,
    /// The caller was told "accepted, queued": from then on the operation must never
    /// be dropped.
    #[serde(default)]
    pub acknowledged: bool,
}

impl Queued {
    /// Whether it is not committed or failed yet.
    pub fn is_pending(&self) -> bool {
        self.state == OpState::Pending
    }

    /// The change it applies to its thread.
    pub fn change(&self) -> crate::thread::Change<'_> {
        crate::thread::Change {
            topic: &self.topic,
            author: &self.author,
            op: &self.op,
            entry_id: self.entry_id.as_deref(),
            timestamp: &self.timestamp,
        }
    }
}

/// What is kept of every committed entry for good, after its journal row is pruned:
/// enough to answer a replay of its Entry-ID, or refuse the id for anything else.
/// Persisted (version 1 of the digest: see [`content_digest`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryRecord {
    /// The Entry-ID.
    pub entry_id: EntryId,
    /// The thread the entry is in.
    pub topic: Topic,
    /// The [`content_digest`] of the operation.
    pub digest: String,
    /// The commit it landed in, if known.
    pub commit_sha: Option<Sha>,
}

/// A digest of what an operation writes (topic, author and operation), to tell a
/// replay of an Entry-ID from its reuse for something else.
pub fn content_digest(topic: &str, author: &Author, op: &Operation) -> String {
    use sha2::{Digest, Sha256};
    let json = serde_json::to_string(&(topic, author, op)).unwrap_or_default();
    let hash = Sha256::digest(json.as_bytes());
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("v1:{hex}")
}

/// Pending for longer than this counts as stale.
pub const STALE_AFTER_MS: u64 = 60_000;

/// The summary state of the writer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// Nothing waiting.
    #[default]
    Synced,
    /// Operations waiting, recently accepted.
    Pending,
    /// Operations waiting for over a minute.
    Stale,
    /// Failed operations, or the last attempt failed.
    Failing,
}

impl crate::schema::Schema for SyncState {
    fn schema() -> serde_json::Value {
        serde_json::json!({"type": "string", "enum": ["synced", "pending", "stale", "failing"]})
    }
}

crate::record! {
    /// What `GET /v1/sync` reports (and the sync actions, with what they did).
    #[derive(Default)]
    pub struct SyncStatus {
        required {
            /// synced, pending, stale (pending for over a minute) or failing.
            state: SyncState,
            /// Accepted writes not committed yet.
            pending: usize,
            /// Writes that failed for good, kept until retried.
            failed: usize,
            /// How long the oldest pending write has waited.
            oldest_pending_age_ms: Option<u64>,
            /// When the last commit landed.
            last_commit_at_ms: Option<u64>,
            /// The last failure, while it matters.
            last_error: Option<String>,
        }
        optional {
            /// When the writer will next try, while anything is pending.
            next_attempt_at_ms: u64,
            /// GitHub asked for a wait (retry-after) until then; nothing is sent before.
            github_wait_until_ms: u64,
            /// `retry`: how many failed writes were put back in the queue.
            retried: usize,
            /// `now` during GitHub's wait: when the next attempt will be.
            message: String,
        }
    }
}

/// Summarises the journal. `last_attempt_failed` is whether the latest commit attempt
/// ended in an error.
pub fn status(
    journal: &[Queued],
    now_ms: u64,
    last_commit_at_ms: Option<u64>,
    last_error: Option<&str>,
    last_attempt_failed: bool,
) -> SyncStatus {
    let pending: Vec<&Queued> = journal.iter().filter(|q| q.is_pending()).collect();
    let failed = journal
        .iter()
        .filter(|q| matches!(q.state, OpState::Failed { .. }))
        .count();
    let oldest = pending
        .iter()
        .map(|q| now_ms.saturating_sub(q.accepted_at_ms))
        .max();
    let state = if failed > 0 || (!pending.is_empty() && last_attempt_failed) {
        SyncState::Failing
    } else if oldest.is_some_and(|age| age > STALE_AFTER_MS) {
        SyncState::Stale
    } else if !pending.is_empty() {
        SyncState::Pending
    } else {
        SyncState::Synced
    };
    SyncStatus {
        state,
        pending: pending.len(),
        failed,
        oldest_pending_age_ms: oldest,
        last_commit_at_ms,
        last_error: last_error.map(str::to_string),
        ..SyncStatus::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn queued(seq: u64, topic: &str, accepted_at_ms: u64, state: OpState) -> Queued {
        Queued {
            seq,
            topic: Topic::parse(topic).unwrap(),
            author: Author {
                agent: "Claude".into(),
                user: "mira".into(),
            },
            op: Operation::Ack {
                title: None,
                body: None,
            },
            entry_id: EntryId::parse(&format!("01ARZ3NDEKTSV4RRFFQ69G{seq:04}")),
            timestamp: "2026-03-02T09:15:00Z".into(),
            accepted_at_ms,
            state,
            attempts: 0,
            last_error: None,
            acknowledged: false,
        }
    }

    #[test]
    fn states_follow_the_journal() {
        let now = 1_000_000;
        assert_eq!(status(&[], now, None, None, false).state, SyncState::Synced);
        let fresh = [queued(1, "t", now - 5_000, OpState::Pending)];
        let s = status(&fresh, now, None, None, false);
        assert_eq!(
            (s.state, s.pending, s.oldest_pending_age_ms),
            (SyncState::Pending, 1, Some(5_000))
        );
        let old = [queued(1, "t", now - 61_000, OpState::Pending)];
        assert_eq!(status(&old, now, None, None, false).state, SyncState::Stale);
        assert_eq!(
            status(&fresh, now, None, Some("503"), true).state,
            SyncState::Failing
        );
        let failed = [queued(
            1,
            "t",
            0,
            OpState::Failed {
                code: FailReason::GitHubError,
                reason: "x".into(),
            },
        )];
        let s = status(&failed, now, Some(5), None, false);
        assert_eq!((s.state, s.failed, s.pending), (SyncState::Failing, 1, 0));
        let done = [queued(
            1,
            "t",
            0,
            OpState::Committed {
                commit_sha: Some("c".into()),
                replayed: false,
            },
        )];
        assert_eq!(
            status(&done, now, Some(5), None, false).state,
            SyncState::Synced
        );
    }

    #[test]
    fn fail_reasons_read_as_the_strings_older_rows_hold() {
        for (name, reason) in [
            ("\"thread_not_found\"", FailReason::ThreadNotFound),
            ("\"github_error\"", FailReason::GitHubError),
            ("\"entry_id_conflict\"", FailReason::EntryIdConflict),
            ("\"something_new\"", FailReason::Internal),
        ] {
            assert_eq!(serde_json::from_str::<FailReason>(name).unwrap(), reason);
        }
        assert_eq!(
            serde_json::to_string(&FailReason::GitHubError).unwrap(),
            "\"github_error\""
        );
    }

    #[test]
    fn the_journal_round_trips_through_json_and_finds_ids() {
        let q = queued(7, "t", 1, OpState::Pending);
        let json = serde_json::to_string(&q).unwrap();
        assert_eq!(serde_json::from_str::<Queued>(&json).unwrap(), q);
        // The engine finds an Entry-ID through its journal store.
        use crate::writer::{JournalStore, MemoryJournal};
        let journal = MemoryJournal::default();
        let seq = journal.insert(&q);
        journal.insert(&queued(8, "u", 2, OpState::Pending));
        assert_eq!(
            journal
                .by_entry_id(q.entry_id.as_deref().unwrap())
                .map(|q| q.seq),
            Some(seq)
        );
        assert!(journal.by_entry_id("nope").is_none());
    }
}
