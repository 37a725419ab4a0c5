//! The writer against the in-memory git host: group commits, pacing, rate limits,
//! outages, conflicts and idempotency.

use super::*;
use crate::cache::MemoryCache;
use crate::clock::{Clock, FakeClock};
use crate::github::memory::{MemoryGitHost, Strike};
use crate::github::GitHubError;
use crate::testing::Fixture;
use crate::thread::{parse, Author, EntryId, Operation, Topic};
use futures::executor::block_on;

fn fixture() -> Fixture {
    Fixture::default()
}

trait Ids {
    fn ids(&self, topic: &str) -> Vec<String>;
}

impl Ids for Fixture {
    fn ids(&self, topic: &str) -> Vec<String> {
        let c = self
            .git
            .file(&format!("threads/{topic}.md"))
            .unwrap_or_default();
        parse(&c)
            .entries
            .into_iter()
            .filter_map(|e| e.entry_id)
            .collect()
    }
}

fn say(topic: &str, n: u32) -> Submit {
    Submit {
        topic: Topic::parse(topic).unwrap(),
        author: Author {
            agent: if n.is_multiple_of(2) {
                "Claude"
            } else {
                "Codex"
            }
            .into(),
            user: "mira".into(),
        },
        op: Operation::Say {
            title: format!("t{n}"),
            body: format!("b{n}"),
            role: "implementer".into(),
            entry_type: "Note".into(),
        },
        entry_id: EntryId::parse(&format!("01ARZ3NDEKTSV4RRFFQ69G{n:04}")),
        durable: false,
    }
}

fn ack(topic: &str, n: u32) -> Submit {
    Submit {
        op: Operation::Ack {
            title: None,
            body: None,
        },
        ..say(topic, n)
    }
}

fn is_not_found(out: &Submitted) -> bool {
    matches!(
        out,
        Submitted::Failed {
            code: FailReason::ThreadNotFound,
            ..
        }
    )
}

#[test]
fn a_durable_submission_is_answered_once_journaled_and_lands_by_the_next_flush() {
    let f = fixture();
    let w = f.writer();
    let out = block_on(w.submit(Submit {
        durable: true,
        ..say("a", 1)
    }));
    let Submitted::Queued { seq, head } = out.clone() else {
        panic!("{out:?}")
    };
    // Say by Codex (mira): the ball will be Claude's.
    assert_eq!(head.and_then(|h| h.ball).as_deref(), Some("Claude (mira)"));
    assert_eq!(f.git.counters().put, 0, "nothing was sent yet");
    assert_eq!(w.pending_for("a").len(), 1, "readers see it at once");
    // The same Entry-ID again, durable: the same operation, still queued, not twice.
    let again = block_on(w.submit(Submit {
        durable: true,
        ..say("a", 1)
    }));
    assert_eq!(again, out);
    assert!(matches!(again, Submitted::Queued { seq: s, .. } if s == seq));
    block_on(w.flush());
    assert_eq!(f.ids("a"), vec!["01ARZ3NDEKTSV4RRFFQ69G0001"]);
}

#[test]
fn with_nothing_in_flight_a_write_commits_at_once_with_one_put() {
    let f = fixture();
    let out = block_on(f.writer().submit(say("a", 1)));
    assert!(
        matches!(
            out,
            Submitted::Committed {
                commit_sha: Some(_),
                ..
            }
        ),
        "{out:?}"
    );
    let c = f.git.counters();
    // Two reads of a thread nobody read before: when accepted (does it exist, for
    // its event) and when committed.
    assert_eq!((c.put, c.get, c.commits), (1, 2, 1));
    assert_eq!(f.writer().status().state, SyncState::Synced);
    assert!(f.clock.slept.borrow().is_empty());
}

#[test]
fn queued_operations_go_out_as_one_group_commit() {
    let f = fixture();
    let w = f.writer();
    for (i, t) in ["a", "b", "a", "c", "b"].iter().enumerate() {
        w.accept(say(t, i as u32));
    }
    let done = block_on(w.flush());
    assert_eq!(done.committed, 5);
    let c = f.git.counters();
    assert_eq!(
        (c.commits, c.put, c.git_data),
        (1, 0, 5),
        "one Git Data commit for three files"
    );
    assert_eq!(f.ids("a").len(), 2);
    assert_eq!(f.ids("b").len(), 2);
    assert_eq!(f.ids("c").len(), 1);
    // One file changed: one PUT.
    w.accept(say("a", 9));
    f.clock.advance(1_000);
    block_on(w.flush());
    assert_eq!(f.git.counters().put, 1);
}

#[test]
fn mutating_requests_are_paced() {
    let f = fixture();
    let w = f.writer();
    block_on(w.submit(say("a", 1)));
    let out = block_on(w.submit(say("a", 2)));
    assert!(matches!(out, Submitted::Committed { .. }));
    let waited: u64 = f.clock.slept.borrow().iter().sum();
    assert!(
        waited >= 1_000,
        "the second commit waited for the pacing gap ({waited} ms)"
    );
}

#[test]
fn rate_limits_pause_the_pipeline_and_never_drop_work() {
    let f = fixture();
    let w = f.writer();
    block_on(w.submit(say("a", 1)));
    f.clock.advance(1_000);
    let limited = GitHubError::RateLimited {
        retry_after_secs: 30,
        message: "secondary rate limit".into(),
    };
    f.git.fail_next("PUT", limited, Strike::Before);
    let out = block_on(w.submit(say("a", 2)));
    assert!(matches!(out, Submitted::Queued { .. }), "{out:?}");
    let s = w.status();
    assert_eq!((s.state, s.pending), (SyncState::Failing, 1));
    assert!(w.next_flush_at().unwrap() >= f.clock.now_ms() + 19_000);
    // Nothing goes out before the wait is over.
    block_on(w.flush());
    assert_eq!(f.git.counters().put, 2);
    f.clock.advance(30_000);
    // The alarm's flush (no caller waiting any more) lands it.
    let puts_before = f.git.counters().put;
    let now_ok = w.next_flush_at().unwrap() <= f.clock.now_ms();
    assert!(now_ok);
    block_on(w.flush());
    assert_eq!(f.git.counters().put, puts_before + 1);
    assert_eq!(f.ids("a").len(), 2);
    assert_eq!(w.status().state, SyncState::Synced);
}

#[test]
fn an_outage_queues_writes_and_a_lost_answer_does_not_duplicate() {
    let f = fixture();
    let w = f.writer();
    block_on(w.submit(say("a", 1)));
    f.clock.advance(1_000);
    fail_puts(
        &f,
        6,
        GitHubError::Server {
            status: 503,
            message: "down".into(),
        },
    );
    let out = block_on(w.submit(say("a", 2)));
    assert!(matches!(out, Submitted::Queued { .. }));
    // Read-your-writes: the queued entry is visible as pending.
    assert_eq!(w.pending_for("a").len(), 1);
    // Keep flushing as alarms would; the last failure lands the write but loses the answer.
    f.git.fail_next(
        "PUT",
        GitHubError::Server {
            status: 502,
            message: "lost".into(),
        },
        Strike::After,
    );
    flush_as_alarms_would(&f, &w);
    assert_eq!(w.status().state, SyncState::Synced);
    assert_eq!(
        f.ids("a"),
        vec!["01ARZ3NDEKTSV4RRFFQ69G0001", "01ARZ3NDEKTSV4RRFFQ69G0002"]
    );
    let q = f.journal.by_entry_id("01ARZ3NDEKTSV4RRFFQ69G0002").unwrap();
    assert_eq!(q.attempts, 0, "outages do not count against an operation");
}

#[test]
fn outside_commits_during_a_queue_are_preserved_and_entries_reapplied() {
    let f = fixture();
    let w = f.writer();
    block_on(w.submit(say("a", 1)));
    let mut outside = f.git.file("threads/a.md").unwrap();
    outside.push_str("\n---\nEntry: Codex (bob) 2026-03-02T10:00:00Z\nTitle: outside\n\nby hand\n");
    f.git.push("threads/a.md", &outside);
    w.accept(say("a", 2));
    w.accept(say("b", 3));
    f.clock.advance(1_000);
    let first = block_on(w.flush());
    assert!(
        first.error.is_some(),
        "the stale base is refused before any write"
    );
    f.clock.advance(1_000);
    let second = block_on(w.flush());
    assert_eq!(second.committed, 2, "{second:?}");
    let a = f.git.file("threads/a.md").unwrap();
    assert!(a.contains("by hand"));
    assert_eq!(f.ids("a").len(), 2);
    assert_eq!(f.ids("b").len(), 1);
}

#[test]
fn the_same_entry_id_twice_is_one_operation_and_one_entry() {
    let f = fixture();
    let w = f.writer();
    let a = block_on(w.submit(say("a", 1)));
    f.clock.advance(1_000);
    let b = block_on(w.submit(say("a", 1)));
    let Submitted::Committed {
        seq,
        commit_sha,
        replayed: false,
    } = a
    else {
        panic!("{a:?}")
    };
    assert_eq!(
        b,
        Submitted::Committed {
            seq,
            commit_sha,
            replayed: true
        }
    );
    assert_eq!(f.ids("a").len(), 1);
    assert_eq!(f.git.counters().put, 1);
}

#[test]
fn persistent_refusals_fail_after_the_attempts_and_can_be_retried() {
    let f = fixture();
    let w = f.writer();
    block_on(w.submit(say("a", 1)));
    fail_puts(
        &f,
        10,
        GitHubError::Unauthorized {
            status: 401,
            message: "Bad credentials".into(),
        },
    );
    let out = block_on(w.submit(say("a", 2)));
    assert!(matches!(out, Submitted::Queued { .. }));
    flush_as_alarms_would(&f, &w);
    let s = w.status();
    assert_eq!((s.state, s.failed, s.pending), (SyncState::Failing, 1, 0));
    assert!(s.last_error.unwrap().contains("Bad credentials"));
    assert_eq!(w.retry_failed(), 1);
    block_on(w.flush_now());
    assert_eq!(w.status().state, SyncState::Synced);
    assert_eq!(f.ids("a").len(), 2);
}

#[test]
fn an_operation_that_cannot_apply_fails_at_once_and_leaves_no_trace() {
    let f = fixture();
    let w = f.writer();
    let out = block_on(w.submit(ack("missing", 1)));
    assert!(is_not_found(&out), "{out:?}");
    assert_eq!(w.status().state, SyncState::Synced);
    assert_eq!(f.git.counters().put, 0);
}

#[test]
fn our_writes_show_in_listings_at_once() {
    let f = fixture();
    let w = f.writer();
    block_on(w.submit(say("a", 1)));
    block_on(w.store.list_threads()).unwrap();
    f.clock.advance(1_000);
    block_on(w.submit(say("b", 2)));
    f.git.reset_counters();
    let list = block_on(w.store.list_threads()).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].last_title.as_deref(), Some("t2"));
    assert_eq!(f.git.counters().get, 0);
}

#[test]
fn a_file_created_by_someone_else_first_is_read_then_updated() {
    let f = fixture();
    let w = f.writer();
    // Someone creates the file between our 404 and our PUT.
    let mut once = true;
    f.git.before_put(move |files| {
        if std::mem::take(&mut once) {
            files.insert(
                "threads/a.md".into(),
                "# a — Thread\nStatus: OPEN\nBall: Codex (bob)\n".into(),
            );
        }
    });
    let out = block_on(w.submit(say("a", 2)));
    assert!(matches!(out, Submitted::Committed { .. }), "{out:?}");
    let content = f.git.file("threads/a.md").unwrap();
    assert!(
        content.starts_with("# a — Thread\nStatus: OPEN\nBall: Codex (mira)\n"),
        "{content}"
    );
    assert_eq!(f.ids("a").len(), 1);
}

#[test]
fn a_moved_branch_is_retried_without_a_re_read() {
    let f = fixture();
    let w = f.writer();
    block_on(w.submit(say("a", 1)));
    f.clock.advance(1_000);
    let moved = GitHubError::BranchMoved {
        message: "is at a but expected b".into(),
    };
    f.git.fail_next("PUT", moved.clone(), Strike::Before);
    f.git.fail_next("PUT", moved, Strike::Before);
    f.git.reset_counters();
    let out = block_on(w.submit(say("a", 2)));
    assert!(matches!(out, Submitted::Committed { .. }), "{out:?}");
    assert_eq!((f.git.counters().put, f.git.counters().get), (3, 0));
    assert_eq!(f.ids("a").len(), 2);
}

/// The next `n` PUTs fail with `error` before reaching the repository.
fn fail_puts(f: &Fixture, n: usize, error: GitHubError) {
    for _ in 0..n {
        f.git.fail_next("PUT", error.clone(), Strike::Before);
    }
}

/// Flushes at each time the writer asks to be woken, until nothing is pending
/// (at most 20 alarms).
fn flush_as_alarms_would(
    f: &Fixture,
    w: &Writer<'_, MemoryGitHost, MemoryCache, FakeClock, MemoryJournal>,
) {
    for _ in 0..20 {
        if w.status().pending == 0 {
            break;
        }
        f.clock
            .advance(w.next_flush_at().unwrap().saturating_sub(f.clock.now_ms()));
        block_on(w.flush());
    }
}

/// Thread "a" with one entry committed; a second later, the next PUT fails so.
fn first_commit_then_put_fails(
    f: &Fixture,
    error: GitHubError,
    strike: Strike,
) -> Writer<'_, MemoryGitHost, MemoryCache, FakeClock, MemoryJournal> {
    let w = f.writer();
    block_on(w.submit(say("a", 1)));
    f.clock.advance(1_000);
    f.git.fail_next("PUT", error, strike);
    w
}

#[test]
fn a_lost_answer_is_not_a_replay_the_caller_gets_the_commit_that_holds_its_entry() {
    let f = fixture();
    let w = first_commit_then_put_fails(
        &f,
        GitHubError::Server {
            status: 502,
            message: "Bad Gateway".into(),
        },
        Strike::After,
    );
    let out = block_on(w.submit(say("a", 2)));
    let Submitted::Committed {
        commit_sha: Some(sha),
        replayed: false,
        ..
    } = out
    else {
        panic!("{out:?}")
    };
    assert_eq!(sha, f.git.head());
    assert_eq!(f.ids("a").len(), 2);
    assert_eq!(f.git.counters().put, 2, "the entry was not written twice");
}

#[test]
fn an_entry_id_reused_on_another_topic_or_for_other_content_is_a_conflict() {
    let f = fixture();
    let w = f.writer();
    block_on(w.submit(say("a", 1)));
    f.clock.advance(1_000);
    let conflict = |out: Submitted, names: &str| match out {
        Submitted::Failed { code, reason, .. } => {
            assert_eq!(code, FailReason::EntryIdConflict);
            assert!(reason.contains(names), "{reason}");
        }
        other => panic!("{other:?}"),
    };
    conflict(block_on(w.submit(say("b", 1))), "topic \"a\"");
    let mut other_title = say("a", 1);
    other_title.op = Operation::Say {
        title: "something else".into(),
        body: "b1".into(),
        role: "implementer".into(),
        entry_type: "Note".into(),
    };
    conflict(block_on(w.submit(other_title)), "topic \"a\"");
    assert_eq!(f.git.counters().put, 1);
    assert_eq!(w.status().state, SyncState::Synced);
    assert_eq!(f.git.file("threads/b.md"), None);
}

#[test]
fn after_the_journal_forgets_an_entry_its_id_still_answers_replays_and_conflicts() {
    let f = fixture();
    let w = f.writer();
    let Submitted::Committed {
        commit_sha: first, ..
    } = block_on(w.submit(say("a", 1)))
    else {
        panic!()
    };
    f.journal.prune_committed(u64::MAX);
    assert!(f
        .journal
        .by_entry_id("01ARZ3NDEKTSV4RRFFQ69G0001")
        .is_none());
    f.clock.advance(1_000);
    f.git.reset_counters();
    let again = block_on(w.submit(say("a", 1)));
    assert!(
        matches!(&again, Submitted::Committed { commit_sha, replayed: true, .. } if *commit_sha == first),
        "{again:?}"
    );
    assert!(matches!(
        block_on(w.submit(say("b", 1))),
        Submitted::Failed {
            code: FailReason::EntryIdConflict,
            ..
        }
    ));
    assert_eq!(
        f.git.counters(),
        Default::default(),
        "answered from the record alone"
    );
}

#[test]
fn a_write_to_a_file_that_is_not_a_thread_is_refused() {
    let f = fixture();
    f.git.push("threads/notes.md", "# Notes\n\nnot a thread\n");
    let out = block_on(f.writer().submit(say("notes", 1)));
    assert!(
        matches!(
            out,
            Submitted::Failed {
                code: FailReason::NotAThread,
                ..
            }
        ),
        "{out:?}"
    );
    assert_eq!(
        f.git.file("threads/notes.md").unwrap(),
        "# Notes\n\nnot a thread\n"
    );
}

/// A writer for one more invocation: the same journal and effects, a fresh budget.
fn invocation(
    f: &Fixture,
    config: WriterConfig,
) -> Writer<'_, MemoryGitHost, MemoryCache, FakeClock, MemoryJournal> {
    f.writer_with(config)
}

/// Runs alarm-driven flushes, each in a fresh invocation, until nothing is pending.
fn drain(f: &Fixture, config: WriterConfig, max_flushes: usize) -> usize {
    for n in 0..max_flushes {
        let w = invocation(f, config);
        let Some(at) = w.next_flush_at() else {
            return n;
        };
        f.clock.advance(at.saturating_sub(f.clock.now_ms()));
        block_on(w.flush());
        assert!(
            w.spent.get() <= config.budget,
            "a flush spent {} of {}",
            w.spent.get(),
            config.budget
        );
    }
    panic!(
        "still pending after {max_flushes} flushes: {:?}",
        invocation(f, config).status()
    );
}

#[test]
fn a_hung_github_never_holds_a_caller_past_its_deadline_and_nothing_lands_twice() {
    let f = fixture();
    let w = first_commit_then_put_fails(
        &f,
        GitHubError::Network {
            message: "hangs".into(),
        },
        Strike::Hang,
    );
    let t0 = f.clock.now_ms();
    let out = block_on(w.submit(say("a", 2)));
    assert!(matches!(out, Submitted::Queued { .. }), "{out:?}");
    assert_eq!(
        f.clock.now_ms() - t0,
        WriterConfig::default().wait_ms,
        "answered at the deadline"
    );
    assert!(!f.in_flight.get(), "the cut-short flush let go");
    // The next flush re-reads the topic (the hung write may have landed) and lands it once.
    f.git.reset_counters();
    assert_eq!(drain(&f, WriterConfig::default(), 5), 1);
    assert_eq!(
        f.git.counters().get,
        1,
        "re-read from GitHub, not the cache"
    );
    assert_eq!(f.ids("a").len(), 2);
}

#[test]
fn a_batch_larger_than_the_budget_is_split_and_every_write_lands_once() {
    let f = fixture();
    let config = WriterConfig {
        budget: 10,
        ..WriterConfig::default()
    };
    let w = invocation(&f, config);
    for i in 0..60 {
        w.accept(say(&format!("t{i}"), i));
    }
    let flushes = drain(&f, config, 60);
    for i in 0..60 {
        assert_eq!(f.ids(&format!("t{i}")).len(), 1, "t{i}");
    }
    // Each flush: at most 4 new topics read (4 + a 5-request commit + a spare for a head).
    assert!((15..=20).contains(&flushes), "{flushes} flushes");
    assert_eq!(invocation(&f, config).status().state, SyncState::Synced);
}

#[test]
fn the_platform_limit_on_subrequests_is_carried_over_not_retried_for_ever() {
    let f = fixture();
    let w = f.writer();
    w.accept(say("a", 1));
    w.accept(say("b", 2));
    f.git
        .fail_next("GET", GitHubError::TooManySubrequests, Strike::Before);
    let out = block_on(w.flush());
    assert!(out.error.unwrap().contains("subrequests"));
    assert_eq!(w.budget_left(), 0, "this invocation stops sending");
    let q = w.journal.pending();
    assert!(
        q.iter().all(|q| q.attempts == 0),
        "nobody's attempts are spent"
    );
    // A new invocation goes on at once, within what the platform allowed.
    assert_eq!(drain(&f, WriterConfig::default(), 5), 2);
    assert_eq!((f.ids("a").len(), f.ids("b").len()), (1, 1));
}

#[test]
fn a_refused_topic_is_set_aside_and_the_others_commit_without_spending_attempts() {
    let f = fixture();
    for (i, t) in ["a", "b", "c"].iter().enumerate() {
        block_on(f.writer().submit(say(t, i as u32)));
        f.clock.advance(1_000);
    }
    f.git.refuse_path(
        "threads/b.md",
        GitHubError::Rejected {
            status: 422,
            message: "Invalid request".into(),
        },
    );
    let w = f.writer();
    for (i, t) in ["a", "b", "c"].iter().enumerate() {
        w.accept(say(t, 10 + i as u32));
    }
    for _ in 0..8 {
        let w = f.writer();
        if let Some(at) = w.next_flush_at() {
            f.clock.advance(at.saturating_sub(f.clock.now_ms()));
            block_on(w.flush());
        }
    }
    assert_eq!(f.ids("a").len(), 2);
    assert_eq!(f.ids("c").len(), 2);
    assert_eq!(f.ids("b").len(), 1);
    let pending = f.journal.pending();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].topic, "b");
    assert!(pending[0].attempts >= 1);
    // The others' operations never had an attempt counted.
    let committed: Vec<Queued> = (1..=6)
        .filter_map(|seq| f.journal.get(seq))
        .filter(|q| q.topic != "b")
        .collect();
    assert!(committed.iter().all(|q| q.attempts == 0), "{committed:?}");
    // b waits on its own: the next attempt is after its hold.
    assert!(f.writer().next_flush_at().unwrap() > f.clock.now_ms());
}

#[test]
fn sync_now_keeps_githubs_retry_after_and_says_when_it_will_try() {
    let f = fixture();
    let w = first_commit_then_put_fails(
        &f,
        GitHubError::RateLimited {
            retry_after_secs: 60,
            message: "secondary rate limit".into(),
        },
        Strike::Before,
    );
    w.accept(say("a", 2));
    block_on(w.flush());
    f.git.reset_counters();
    let out = block_on(w.flush_now());
    assert!(out.error.unwrap().contains("next attempt is in 60 s"));
    assert_eq!(f.git.counters().put, 0, "nothing sent during GitHub's wait");
    let s = w.status();
    assert_eq!(s.github_wait_until_ms, Some(f.clock.now_ms() + 60_000));
    assert_eq!(s.next_attempt_at_ms, s.github_wait_until_ms);
}

#[test]
fn an_append_past_max_thread_bytes_is_refused_and_a_status_change_still_works() {
    let f = fixture();
    let config = WriterConfig {
        max_thread_bytes: 2_000,
        ..WriterConfig::default()
    };
    let w = invocation(&f, config);
    block_on(w.submit(say("a", 1)));
    f.clock.advance(1_000);
    let mut big = say("a", 2);
    big.op = Operation::Say {
        title: "big".into(),
        body: "x".repeat(1_900),
        role: "implementer".into(),
        entry_type: "Note".into(),
    };
    let out = block_on(w.submit(big));
    let Submitted::Failed { code, reason, .. } = out else {
        panic!("{out:?}")
    };
    assert_eq!(code, FailReason::ThreadTooLarge);
    assert!(reason.contains("close this thread"), "{reason}");
    f.clock.advance(1_000);
    let mut close = say("a", 3);
    close.op = Operation::SetStatus {
        status: "CLOSED".into(),
    };
    close.entry_id = None;
    assert!(matches!(
        block_on(w.submit(close)),
        Submitted::Committed { .. }
    ));
}

#[test]
fn the_worker_and_its_writer_speak_one_versioned_protocol() {
    use super::queue::{Call, Envelope, Reply, PROTOCOL_VERSION};
    let f = fixture();
    let w = f.writer();
    // A call survives the wire as it is.
    let call = Envelope::new(Call::Submit(say("a", 1)));
    let wire = serde_json::to_string(&call).unwrap();
    assert!(
        wire.starts_with(&format!("{{\"v\":{PROTOCOL_VERSION},")),
        "{wire}"
    );
    assert_eq!(serde_json::from_str::<Envelope>(&wire).unwrap(), call);
    let Reply::Submitted(submitted) = block_on(w.answer_wire(&wire)) else {
        panic!()
    };
    assert!(matches!(submitted, Submitted::Committed { .. }));
    // Another version is refused with a message, not misread, even a call this build
    // does not know.
    let newer = format!("{{\"v\":{},\"call\":\"compact\"}}", PROTOCOL_VERSION + 1);
    let Reply::Refused(message) = block_on(w.answer_wire(&newer)) else {
        panic!()
    };
    assert!(message.contains("deploy the Worker and its Durable Object together"));
    // Anything else is refused as not a call.
    for junk in ["", "{}", "{\"v\":1,\"call\":\"compact\"}"] {
        let Reply::Refused(message) = block_on(w.answer_wire(junk)) else {
            panic!("{junk}")
        };
        assert!(message.starts_with("not a writer call"), "{message}");
    }
    // Retry says how many it put back.
    let Reply::Status(status) = block_on(w.answer(Call::Retry)) else {
        panic!()
    };
    assert_eq!(status.retried, Some(0));
}

mod events {
    use super::*;
    use crate::writer::waiting::EventQuery;
    use crate::writer::EventKind;

    fn wait(
        w: &Writer<'_, MemoryGitHost, MemoryCache, FakeClock, MemoryJournal>,
        q: EventQuery,
    ) -> crate::writer::waiting::Waited {
        block_on(w.wait_events(&q))
    }

    #[test]
    fn every_accepted_write_is_an_event_at_once_and_cursors_only_grow() {
        let f = fixture();
        let w = f.writer();
        let start = wait(&w, EventQuery::default());
        assert_eq!((start.cursor, start.events.len()), (0, 0));
        block_on(w.submit(Submit {
            durable: true,
            ..say("a", 2)
        }));
        block_on(w.submit(Submit {
            durable: true,
            ..say("a", 3)
        }));
        assert_eq!(f.git.counters().put, 0, "before any commit");
        let got = wait(
            &w,
            EventQuery {
                since: Some(0),
                ..EventQuery::default()
            },
        );
        let kinds: Vec<EventKind> = got.events.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [EventKind::ThreadCreated, EventKind::Entry]);
        assert_eq!(got.events[0].ball.as_deref(), Some("Codex (mira)"));
        assert_eq!(got.events[1].ball.as_deref(), Some("Claude (mira)"));
        assert!(got.events.iter().all(|e| e.pending == Some(true)));
        assert_eq!(got.cursor, 2);
        // A replay of the same Entry-ID makes no second event.
        block_on(w.submit(Submit {
            durable: true,
            ..say("a", 3)
        }));
        assert_eq!(f.journal.event_bounds().0, 2);
    }

    #[test]
    fn a_commit_is_told_only_to_waiters_that_ask() {
        let f = fixture();
        let w = f.writer();
        block_on(w.submit(Submit {
            durable: true,
            ..say("a", 2)
        }));
        let after_say = f.journal.event_bounds().0;
        block_on(w.flush_now());
        assert_eq!(f.git.counters().put, 1, "committed");
        let asked = |commits| {
            wait(
                &w,
                EventQuery {
                    since: Some(after_say),
                    commits,
                    ..EventQuery::default()
                },
            )
        };
        let page = asked(true);
        assert_eq!(page.events.len(), 1);
        let landed = &page.events[0];
        assert_eq!(
            (landed.kind, landed.topic.as_str()),
            (EventKind::Committed, "a")
        );
        assert_eq!(landed.pending, Some(false));
        assert!(
            landed.commit.as_deref().is_some_and(|c| c.len() == 40),
            "{landed:?}"
        );
        // Agents are not woken by commits: nothing for them, and the cursor moves on.
        let agent = asked(false);
        assert!(agent.events.is_empty());
        assert_eq!(agent.cursor, page.cursor);
    }

    #[test]
    fn a_waiter_with_nothing_new_is_answered_empty_when_its_time_is_up() {
        let f = fixture();
        let w = f.writer();
        block_on(w.submit(Submit {
            durable: true,
            ..say("a", 2)
        }));
        f.git.reset_counters();
        let t0 = f.clock.now_ms();
        let got = wait(
            &w,
            EventQuery {
                since: Some(1),
                wait_ms: 5_000,
                ..EventQuery::default()
            },
        );
        assert_eq!((got.events.len(), got.cursor, got.stale), (0, 1, false));
        assert_eq!(f.clock.now_ms() - t0, 5_000);
        assert_eq!(f.git.counters().get, 0, "waiting reads nothing");
    }

    #[test]
    fn for_an_agent_keeps_only_its_turns_and_topic_narrows() {
        let f = fixture();
        let w = f.writer();
        block_on(w.submit(Submit {
            durable: true,
            ..say("a", 2)
        })); // Claude: ball to Codex
        block_on(w.submit(Submit {
            durable: true,
            ..say("a", 3)
        })); // Codex: ball to Claude
        block_on(w.submit(Submit {
            durable: true,
            ..say("b", 4)
        })); // Claude: ball to Codex
        let of = |agent: &str, topic: Option<&str>| {
            let got = wait(
                &w,
                EventQuery {
                    since: Some(0),
                    agent: Some(agent.into()),
                    topic: topic.map(str::to_string),
                    ..EventQuery::default()
                },
            );
            (
                got.events
                    .iter()
                    .map(|e| e.cursor.clone())
                    .collect::<Vec<_>>(),
                got.cursor,
            )
        };
        assert_eq!(
            of("Codex (mira)", None),
            (vec!["1".to_string(), "3".to_string()], 3)
        );
        assert_eq!(of("claude (mira)", None), (vec!["2".to_string()], 3));
        assert_eq!(of("Codex (mira)", Some("b")), (vec!["3".to_string()], 3));
        assert_eq!(
            of("Gemini (mira)", None),
            (vec![], 3),
            "the cursor moves past what was skipped"
        );
    }

    #[test]
    fn a_cursor_older_than_the_events_kept_or_unknown_is_stale() {
        let f = fixture();
        let w = f.writer_with(WriterConfig {
            events_keep: 2,
            ..WriterConfig::default()
        });
        for n in 2..7 {
            block_on(w.submit(Submit {
                durable: true,
                ..say("a", n)
            }));
        }
        let stale = wait(
            &w,
            EventQuery {
                since: Some(1),
                ..EventQuery::default()
            },
        );
        assert_eq!((stale.stale, stale.cursor), (true, 5));
        let fine = wait(
            &w,
            EventQuery {
                since: Some(3),
                ..EventQuery::default()
            },
        );
        assert_eq!((fine.stale, fine.events.len()), (false, 2));
        let future = wait(
            &w,
            EventQuery {
                since: Some(99),
                ..EventQuery::default()
            },
        );
        assert!(future.stale);
    }

    #[test]
    fn a_durable_write_to_a_missing_thread_is_refused_at_once() {
        let f = fixture();
        let w = f.writer();
        let out = block_on(w.submit(Submit {
            durable: true,
            ..ack("nothing-here", 2)
        }));
        assert!(is_not_found(&out), "{out:?}");
        assert!(w.pending_all().is_empty());
        assert_eq!(f.journal.event_bounds().0, 0);
    }

    #[test]
    fn outside_pushes_are_found_by_the_fallback_check_and_told_once() {
        let f = fixture();
        let w = f.writer();
        block_on(w.submit(say("a", 2)));
        assert_eq!(block_on(w.poll_outside()), 0, "the first check takes note");
        let file = f.git.file("threads/a.md").unwrap();
        f.git.push("threads/a.md", &format!("{file}\n---\n\nEntry: Codex (mira) 2026-03-02T10:00:00Z\nRole: implementer\nType: Note\nTitle: From a laptop\n\npushed\n<!-- Entry-ID: 01ARZ3NDEKTSV4RRFFQ69G9999 -->\n").replace("Ball: Codex (mira)", "Ball: Claude (mira)"));
        f.git.push("threads/new.md", "# new — Thread\nStatus: OPEN\nBall: Claude (mira)\n\n---\n\nEntry: Codex (mira) 2026-03-02T10:00:00Z\nRole: planner\nType: Note\nTitle: Fresh\n\nhi\n");
        let before = f.journal.event_bounds().0;
        assert_eq!(block_on(w.poll_outside()), 2);
        let got = wait(
            &w,
            EventQuery {
                since: Some(before),
                ..EventQuery::default()
            },
        );
        let seen: Vec<(EventKind, String)> = got
            .events
            .iter()
            .map(|e| (e.kind, e.title.clone().unwrap_or_default()))
            .collect();
        assert_eq!(
            seen,
            [
                (EventKind::Entry, "From a laptop".into()),
                (EventKind::ThreadCreated, "Fresh".into())
            ]
        );
        assert!(got.events.iter().all(|e| e.pending == Some(false)));
        assert_eq!(block_on(w.poll_outside()), 0, "nothing new");
        // The head learned the ball the push gave: an ack now is new for Claude.
        assert_eq!(
            f.journal.head("a").unwrap().ball.as_deref(),
            Some("Claude (mira)")
        );
    }

    #[test]
    fn a_waiter_checks_for_outside_pushes_only_when_asked_and_at_most_every_poll() {
        let f = fixture();
        let w = f.writer_with(WriterConfig {
            outside_poll_ms: 10_000,
            ..WriterConfig::default()
        });
        block_on(w.submit(say("a", 2)));
        f.git.reset_counters();
        let q = EventQuery {
            since: Some(1),
            wait_ms: 25_000,
            poll_outside: true,
            ..EventQuery::default()
        };
        wait(&w, q.clone());
        assert_eq!(f.git.counters().get, 3, "at 0, 10 and 20 s");
        f.git.reset_counters();
        wait(
            &w,
            EventQuery {
                poll_outside: false,
                ..q
            },
        );
        assert_eq!(f.git.counters().get, 0);
    }
}

mod search {
    use super::*;
    use crate::writer::engine::MIN_FLUSH_COST;
    use crate::writer::search::SearchQuery;

    fn query(q: &str) -> SearchQuery {
        SearchQuery {
            q: q.into(),
            limit: 10,
            ..SearchQuery::default()
        }
    }

    #[test]
    fn an_accepted_entry_is_found_at_once_and_stays_found_once_committed() {
        let f = fixture();
        let w = f.writer();
        let mut s = say("plans", 2);
        s.op = Operation::Say {
            title: "Rollout plan".into(),
            body: "Ship the **zebra** feature on Friday.".into(),
            role: "planner".into(),
            entry_type: "Plan".into(),
        };
        s.durable = true;
        block_on(w.submit(s));
        let found = block_on(w.search(&query("zebra"))).unwrap();
        assert!(found.complete, "an empty repository is indexed at once");
        assert_eq!(found.results.len(), 1);
        let hit = &found.results[0];
        assert_eq!(
            (hit.topic.as_str(), hit.index, hit.title.as_str()),
            ("plans", 0, "Rollout plan")
        );
        assert_eq!(hit.author, "Claude (mira)");
        block_on(w.flush());
        let found = block_on(w.search(&query("zebra"))).unwrap();
        assert_eq!(
            found.results.len(),
            1,
            "reindexed from the commit, not twice"
        );
        let only_codex = SearchQuery {
            agent: Some("Codex".into()),
            ..query("zebra")
        };
        assert!(block_on(w.search(&only_codex)).unwrap().results.is_empty());
        let later = SearchQuery {
            since: Some("2099-01-01T00:00:00Z".into()),
            ..query("zebra")
        };
        assert!(block_on(w.search(&later)).unwrap().results.is_empty());
        assert!(block_on(w.search(&query("\"unclosed"))).is_err());
    }

    #[test]
    fn the_first_search_backfills_200_threads_a_budget_at_a_time() {
        let f = fixture();
        for i in 0..200 {
            f.git.push(
                &format!("threads/old-{i:03}.md"),
                &format!("# old-{i:03} — Thread\nStatus: OPEN\nBall: Codex (bob)\n\n---\n\nEntry: Claude (bob) 2026-01-01T00:00:00Z\nRole: planner\nType: Note\nTitle: Old {i}\n\nmarker{i} everywhere\n"),
            );
        }
        let config = WriterConfig {
            budget: 40,
            ..WriterConfig::default()
        };
        let mut invocations = 0;
        loop {
            invocations += 1;
            f.git.reset_counters();
            let w = f.writer_with(config);
            let found = block_on(w.search(&query("everywhere"))).unwrap();
            assert!(
                f.git.counters().get <= 40 - MIN_FLUSH_COST as usize,
                "within the budget, a flush's worth left"
            );
            if found.complete {
                break;
            }
            assert!(invocations < 20, "the backfill makes progress");
        }
        assert!(
            invocations >= 6,
            "200 threads do not fit one invocation ({invocations})"
        );
        let w = f.writer();
        let found = block_on(w.search(&query("marker199"))).unwrap();
        assert_eq!(found.results.len(), 1);
        assert_eq!(found.results[0].topic, "old-199");
        assert_eq!(
            block_on(w.search(&SearchQuery {
                limit: 50,
                ..query("everywhere")
            }))
            .unwrap()
            .results
            .len(),
            50
        );
    }
}

mod predictions {
    use super::*;
    use crate::writer::engine::MIN_FLUSH_COST;
    use crate::writer::search::SearchQuery;
    use crate::writer::waiting::EventQuery;

    fn events(w: &Writer<'_, MemoryGitHost, MemoryCache, FakeClock, MemoryJournal>) -> usize {
        block_on(w.wait_events(&EventQuery {
            since: Some(0),
            ..EventQuery::default()
        }))
        .events
        .len()
    }

    fn found(
        w: &Writer<'_, MemoryGitHost, MemoryCache, FakeClock, MemoryJournal>,
        q: &str,
    ) -> usize {
        let q = SearchQuery {
            q: q.into(),
            limit: 10,
            ..SearchQuery::default()
        };
        block_on(w.search(&q)).unwrap().results.len()
    }

    #[test]
    fn a_write_that_cannot_land_leaves_no_event_head_or_index_behind() {
        let f = fixture();
        let w = f.writer();
        // An ack on a thread that does not exist: it fails when committed.
        let out = block_on(w.submit(ack("ghost", 1)));
        assert!(is_not_found(&out), "{out:?}");
        assert_eq!(events(&w), 0);
        assert_eq!(f.journal.head("ghost"), None);
        // A say that would pass MAX_THREAD_BYTES: told when accepted, taken back when
        // it is refused.
        let w = f.writer_with(WriterConfig {
            max_thread_bytes: 200,
            ..WriterConfig::default()
        });
        let mut big = say("big", 2);
        big.op = Operation::Say {
            title: "too big".into(),
            body: "walrus ".repeat(100),
            role: "planner".into(),
            entry_type: "Note".into(),
        };
        big.durable = true;
        block_on(w.submit(big));
        assert_eq!(found(&w, "walrus"), 1, "searchable while pending");
        block_on(w.flush());
        assert_eq!(found(&w, "walrus"), 0, "gone once refused");
        assert_eq!(f.journal.head("big"), None);
    }

    #[test]
    fn an_outside_push_is_told_even_when_a_reader_refreshed_the_cache_first() {
        let f = fixture();
        let w = f.writer();
        block_on(w.submit(say("a", 2)));
        block_on(w.poll_outside());
        let file = f.git.file("threads/a.md").unwrap();
        f.git.push("threads/a.md", &format!("{file}\n---\n\nEntry: Codex (mira) 2026-03-02T10:00:00Z\nRole: implementer\nType: Note\nTitle: Seen by a reader first\n\nx\n"));
        // A reader revalidates the cache before the writer's next check.
        f.clock.advance(60_000);
        block_on(f.store().read_thread("a")).unwrap();
        let before = f.journal.event_bounds().0;
        assert_eq!(block_on(w.poll_outside()), 1);
        let got = block_on(w.wait_events(&EventQuery {
            since: Some(before),
            ..EventQuery::default()
        }));
        assert_eq!(
            got.events[0].title.as_deref(),
            Some("Seen by a reader first")
        );
        assert_eq!(found(&w, "reader"), 1, "and the index learned it");
    }

    #[test]
    fn a_backfill_that_github_fails_rests_and_gives_up_on_a_file_that_keeps_failing() {
        let f = fixture();
        f.git.push(
            "threads/bad.md",
            "# bad — Thread\nStatus: OPEN\nBall: Codex (a)\n",
        );
        let q = SearchQuery {
            q: "x".into(),
            limit: 1,
            ..SearchQuery::default()
        };
        // The listing, and nothing more: the budget leaves only a flush's worth.
        let tight = WriterConfig {
            budget: MIN_FLUSH_COST + 1,
            ..WriterConfig::default()
        };
        assert!(!block_on(f.writer_with(tight).search(&q)).unwrap().complete);
        let mut failed_reads = 0;
        while failed_reads < 10 {
            failed_reads += 1;
            f.git.fail_next(
                "GET",
                GitHubError::Server {
                    status: 500,
                    message: "boom".into(),
                },
                Strike::Before,
            );
            let w = f.writer();
            if block_on(w.search(&q)).unwrap().complete {
                break;
            }
            let due = w.backfill_due_at().expect("still going");
            assert!(due > f.clock.now_ms(), "it rests before trying again");
            assert!(!block_on(w.search(&q)).unwrap().complete, "not before then");
            f.clock.advance(due - f.clock.now_ms());
        }
        assert_eq!(failed_reads, 3, "three failed reads, then the file is left");
        assert_eq!(f.writer().backfill_due_at(), None);
    }
}
