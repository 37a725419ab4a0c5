//! The store against the in-memory git host: request costs and conflict handling.

use super::*;
use crate::cache::MemoryCache;
use crate::clock::FakeClock;
use crate::github::memory::{MemoryGitHost, Strike};
use crate::thread::{parse, Author, Operation};
use futures::executor::block_on;

const T0: u64 = 1_772_442_900_000;

struct Fixture {
    git: MemoryGitHost,
    cache: MemoryCache,
    clock: FakeClock,
    config: StoreConfig,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            git: MemoryGitHost::new(),
            cache: MemoryCache::new(),
            clock: FakeClock::at(T0),
            config: StoreConfig {
                threads_dir: "threads".into(),
                cache_ttl_ms: 30_000,
                cache_namespace: "v1/acme/threads/main".into(),
                retry: RetryPolicy::default(),
            },
        }
    }
    fn store(&self) -> Store<'_, MemoryGitHost, MemoryCache, FakeClock> {
        Store {
            git: &self.git,
            cache: &self.cache,
            clock: &self.clock,
            config: &self.config,
        }
    }
    fn say(
        &self,
        topic: &str,
        agent: &str,
        title: &str,
        id: &str,
    ) -> Result<WriteOutcome, StoreError> {
        let author = Author {
            agent: agent.into(),
            user: "mira".into(),
        };
        let op = Operation::Say {
            title: title.into(),
            body: format!("body of {title}"),
            role: "implementer".into(),
            entry_type: "Note".into(),
        };
        block_on(self.store().write(&WriteRequest {
            topic,
            author: &author,
            op: &op,
            entry_id: Some(id),
        }))
    }
    fn ids(&self, topic: &str) -> Vec<String> {
        let content = self
            .git
            .file(&format!("threads/{topic}.md"))
            .unwrap_or_default();
        parse(&content)
            .entries
            .into_iter()
            .filter_map(|e| e.entry_id)
            .collect()
    }
}

fn id(n: u32) -> String {
    format!("01ARZ3NDEKTSV4RRFFQ69G{n:04}")
}

#[test]
fn miss_costs_one_get_then_hits_cost_nothing() {
    let f = Fixture::new();
    f.git.push(
        "threads/t.md",
        include_str!("../../tests/fixtures/release-plan.md"),
    );
    let r = block_on(f.store().read_thread("t")).unwrap();
    assert_eq!(r.source, ReadSource::Fetched);
    assert_eq!(f.git.counters().get, 1);
    let r = block_on(f.store().read_thread("t")).unwrap();
    assert_eq!(r.source, ReadSource::Cache);
    assert_eq!(f.git.counters().get, 1);
}

#[test]
fn stale_entries_are_revalidated_with_the_etag() {
    let f = Fixture::new();
    f.git.push("threads/t.md", "a");
    block_on(f.store().read_thread("t")).unwrap();
    f.clock.advance(30_000);
    let r = block_on(f.store().read_thread("t")).unwrap();
    assert_eq!(r.source, ReadSource::Revalidated);
    assert_eq!(f.git.counters().not_modified, 1);
    // Fresh again after the 304.
    assert_eq!(
        block_on(f.store().read_thread("t")).unwrap().source,
        ReadSource::Cache
    );
    f.git.push("threads/t.md", "b");
    f.clock.advance(30_000);
    let r = block_on(f.store().read_thread("t")).unwrap();
    assert_eq!((r.source, r.content.as_str()), (ReadSource::Refreshed, "b"));
}

#[test]
fn stale_copies_are_served_while_github_fails() {
    let f = Fixture::new();
    f.git.push("threads/t.md", "a");
    block_on(f.store().read_thread("t")).unwrap();
    f.clock.advance(60_000);
    f.git.fail_next(
        "GET",
        GitHubError::Server {
            status: 503,
            message: "down".into(),
        },
        Strike::Before,
    );
    assert_eq!(
        block_on(f.store().read_thread("t")).unwrap().source,
        ReadSource::Stale
    );
}

#[test]
fn a_missing_thread_is_not_found() {
    let f = Fixture::new();
    assert_eq!(
        block_on(f.store().read_thread("nope")),
        Err(StoreError::ThreadNotFound {
            topic: "nope".into()
        })
    );
}

#[test]
fn cold_append_is_get_plus_put_and_warm_append_is_one_put() {
    let f = Fixture::new();
    f.say("t", "Claude", "first", &id(1)).unwrap();
    assert_eq!((f.git.counters().get, f.git.counters().put), (1, 1));
    f.git.reset_counters();
    let out = f.say("t", "Codex", "second", &id(2)).unwrap();
    assert!(matches!(out, WriteOutcome::Committed { attempts: 1, .. }));
    assert_eq!((f.git.counters().get, f.git.counters().put), (0, 1));
    // The cache was updated from the PUT answer: the next read is free and current.
    let r = block_on(f.store().read_thread("t")).unwrap();
    assert_eq!(r.source, ReadSource::Cache);
    assert_eq!(r.content, f.git.file("threads/t.md").unwrap());
    assert_eq!(f.git.counters().get, 0);
    let t = parse(&r.content);
    assert_eq!(t.header.ball(), Some("Claude (mira)"));
}

#[test]
fn an_outside_push_between_cache_fill_and_append_survives() {
    let f = Fixture::new();
    f.say("t", "Claude", "first", &id(1)).unwrap();
    // Someone pushes an entry with plain git.
    let mut outside = f.git.file("threads/t.md").unwrap();
    outside
        .push_str("\n---\nEntry: Codex (bob) 2026-03-02T10:00:00Z\nTitle: outside\n\nfrom git\n");
    f.git.push("threads/t.md", &outside);
    f.say("t", "Claude", "second", &id(2)).unwrap();
    let content = f.git.file("threads/t.md").unwrap();
    assert!(content.contains("from git"));
    assert_eq!(f.ids("t"), vec![id(1), id(2)]);
    assert_eq!(parse(&content).entries.len(), 3);
}

#[test]
fn branch_races_are_retried_with_backoff() {
    let f = Fixture::new();
    f.say("t", "Claude", "first", &id(1)).unwrap();
    let moved = GitHubError::BranchMoved {
        message: "is at a but expected b".into(),
    };
    f.git.fail_next("PUT", moved.clone(), Strike::Before);
    f.git.fail_next("PUT", moved, Strike::Before);
    let out = f.say("t", "Claude", "second", &id(2)).unwrap();
    assert!(matches!(out, WriteOutcome::Committed { attempts: 3, .. }));
    assert_eq!(f.clock.slept.borrow().len(), 2);
    assert_eq!(f.ids("t"), vec![id(1), id(2)]);
}

#[test]
fn sha_missing_means_read_then_update() {
    let f = Fixture::new();
    // Someone creates the file between our 404 and our PUT.
    let mut once = true;
    f.git.before_put(move |files| {
        if std::mem::take(&mut once) {
            files.insert(
                "threads/t.md".into(),
                "# t — Thread\nStatus: OPEN\nBall: Codex (bob)\n".into(),
            );
        }
    });
    f.say("t", "Claude", "first", &id(1)).unwrap();
    let content = f.git.file("threads/t.md").unwrap();
    assert!(content.starts_with("# t — Thread\nStatus: OPEN\nBall: Codex (mira)\n"));
    assert_eq!(f.ids("t"), vec![id(1)]);
}

#[test]
fn a_lost_answer_after_a_landed_write_does_not_duplicate() {
    let f = Fixture::new();
    f.say("t", "Claude", "first", &id(1)).unwrap();
    f.git.fail_next(
        "PUT",
        GitHubError::Server {
            status: 502,
            message: "Bad Gateway".into(),
        },
        Strike::After,
    );
    let out = f.say("t", "Claude", "second", &id(2)).unwrap();
    assert!(matches!(out, WriteOutcome::Unchanged { .. }));
    assert_eq!(f.ids("t"), vec![id(1), id(2)]);
    // The same id again, later: still once.
    f.say("t", "Claude", "second", &id(2)).unwrap();
    assert_eq!(f.ids("t"), vec![id(1), id(2)]);
}

#[test]
fn short_rate_limits_are_waited_out_and_long_ones_returned() {
    let f = Fixture::new();
    f.say("t", "Claude", "first", &id(1)).unwrap();
    let limit = |s| GitHubError::RateLimited {
        retry_after_secs: s,
        message: "secondary rate limit".into(),
    };
    f.git.fail_next("PUT", limit(2), Strike::Before);
    f.say("t", "Claude", "second", &id(2)).unwrap();
    assert_eq!(*f.clock.slept.borrow(), vec![2000]);
    f.git.fail_next("PUT", limit(120), Strike::Before);
    let err = f.say("t", "Claude", "third", &id(3)).unwrap_err();
    assert_eq!(err, StoreError::GitHub(limit(120)));
    assert_eq!(f.ids("t"), vec![id(1), id(2)]);
}

#[test]
fn persistent_failures_give_up_after_the_bounded_attempts() {
    let f = Fixture::new();
    f.say("t", "Claude", "first", &id(1)).unwrap();
    for _ in 0..20 {
        f.git.fail_next(
            "PUT",
            GitHubError::Server {
                status: 500,
                message: "boom".into(),
            },
            Strike::Before,
        );
    }
    let err = f.say("t", "Claude", "second", &id(2)).unwrap_err();
    assert!(
        matches!(err, StoreError::GaveUp { attempts: 10, .. }),
        "{err:?}"
    );
    let waits = f.clock.slept.borrow().clone();
    assert!(
        waits.windows(2).filter(|w| w[1] >= w[0]).count() >= 4,
        "{waits:?}"
    );
    assert!(waits.iter().all(|w| *w <= 2000));
}

#[test]
fn auth_failures_are_not_retried() {
    let f = Fixture::new();
    f.git.fail_next(
        "GET",
        GitHubError::Unauthorized {
            status: 401,
            message: "Bad credentials".into(),
        },
        Strike::Before,
    );
    let err = f.say("t", "Claude", "first", &id(1)).unwrap_err();
    assert!(matches!(
        err,
        StoreError::GitHub(GitHubError::Unauthorized { .. })
    ));
    assert_eq!(f.git.counters().put, 0);
}

#[test]
fn listing_costs_at_most_one_request_when_nothing_changed() {
    let f = Fixture::new();
    for (i, t) in ["a", "b", "c"].iter().enumerate() {
        f.git.push(&format!("threads/{t}.md"), &format!("# {t} — Thread\nStatus: OPEN\nBall: Codex (m)\n\n---\nEntry: Claude (m) 2026-01-01T00:00:0{i}Z\nTitle: x\n\nb\n"));
    }
    f.git.push("threads/notes.txt", "not a thread");
    let list = block_on(f.store().list_threads()).unwrap();
    assert_eq!(
        list.iter().map(|s| s.topic.as_str()).collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
    assert!(list
        .iter()
        .all(|s| s.new_for_ball && s.open && s.entries == 1));
    assert_eq!(f.git.counters().get, 4);

    // Fresh: free. Stale and unchanged: one 304.
    f.git.reset_counters();
    block_on(f.store().list_threads()).unwrap();
    assert_eq!(f.git.counters().get, 0);
    f.clock.advance(30_000);
    block_on(f.store().list_threads()).unwrap();
    assert_eq!(
        (f.git.counters().get, f.git.counters().not_modified),
        (1, 1)
    );

    // One thread changed outside: the listing plus that thread.
    f.git.push(
        "threads/b.md",
        "# b — Thread\nStatus: done\nBall: Codex (m)\n",
    );
    f.clock.advance(30_000);
    f.git.reset_counters();
    let list = block_on(f.store().list_threads()).unwrap();
    assert_eq!(f.git.counters().get, 2);
    assert!(!list[1].open);
}

#[test]
fn listing_uses_cached_files_that_match_the_listed_sha_whatever_their_age() {
    let f = Fixture::new();
    f.git.push("threads/a.md", "# a — Thread\nStatus: OPEN\n");
    block_on(f.store().read_thread("a")).unwrap();
    f.clock.advance(3_600_000);
    f.git.reset_counters();
    let list = block_on(f.store().list_threads()).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(f.git.counters().get, 1, "only the directory");
}

#[test]
fn our_writes_show_in_listings_at_once() {
    let f = Fixture::new();
    f.say("a", "Claude", "first", &id(1)).unwrap();
    block_on(f.store().list_threads()).unwrap();
    f.say("b", "Claude", "new thread", &id(2)).unwrap();
    f.git.reset_counters();
    let list = block_on(f.store().list_threads()).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].last_title.as_deref(), Some("new thread"));
    assert_eq!(f.git.counters().get, 0);
}

#[test]
fn commit_messages_carry_the_trailers() {
    assert_eq!(
        write::commit_message("Claude (mira)", "Plan", "release-plan", Some("01ARZ3NDEKTSV4RRFFQ69G5FAV")),
        "Claude (mira): Plan (release-plan)\n\nWatercooler-Entry-ID: 01ARZ3NDEKTSV4RRFFQ69G5FAV\nWatercooler-Topic: release-plan\n"
    );
}
