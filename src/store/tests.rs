//! The store against the in-memory git host: request costs and conflict handling.

use super::*;
use crate::github::memory::Strike;
use futures::executor::block_on;

use crate::testing::Fixture;

#[test]
fn miss_costs_one_get_then_hits_cost_nothing() {
    let f = Fixture::default();
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
    let f = Fixture::default();
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
    let f = Fixture::default();
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
    let f = Fixture::default();
    assert_eq!(
        block_on(f.store().read_thread("nope")),
        Err(StoreError::ThreadNotFound {
            topic: "nope".into()
        })
    );
}

#[test]
fn listing_costs_at_most_one_request_when_nothing_changed() {
    let f = Fixture::default();
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
    let f = Fixture::default();
    f.git.push("threads/a.md", "# a — Thread\nStatus: OPEN\n");
    block_on(f.store().read_thread("a")).unwrap();
    f.clock.advance(3_600_000);
    f.git.reset_counters();
    let list = block_on(f.store().list_threads()).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(f.git.counters().get, 1, "only the directory");
}

#[test]
fn asking_for_missing_topics_costs_a_request_or_two_whatever_the_topics() {
    let f = Fixture::default();
    f.git
        .push("threads/real.md", "# real — Thread\nStatus: OPEN\n");
    for i in 0..50 {
        let r = block_on(f.store().read_thread(&format!("missing-{i}")));
        assert!(matches!(r, Err(StoreError::ThreadNotFound { .. })), "{r:?}");
    }
    // One 404, then one listing that answers for every other missing topic.
    assert_eq!(f.git.counters().get, 2);
    // Once "not found" is no longer believed, GitHub is asked again.
    f.clock.advance(10_001);
    let _ = block_on(f.store().read_thread("missing-3"));
    assert_eq!(f.git.counters().get, 4);
}

#[test]
fn a_file_pushed_elsewhere_is_seen_once_not_found_expires_and_listings_learn_of_it() {
    let f = Fixture::default();
    f.git.push("threads/a.md", "# a — Thread\nStatus: OPEN\n");
    assert_eq!(block_on(f.store().list_threads()).unwrap().len(), 1);
    let _ = block_on(f.store().read_thread("b"));
    f.git.push("threads/b.md", "# b — Thread\nStatus: OPEN\n");
    // Within the not-found time, b is believed missing without a request.
    let before = f.git.counters().get;
    assert!(block_on(f.store().read_thread("b")).is_err());
    assert_eq!(f.git.counters().get, before);
    // After it, b is read, and the listing (fresh for its TTL) is asked again.
    f.clock.advance(10_001);
    assert!(block_on(f.store().read_thread("b")).is_ok());
    let topics: Vec<String> = block_on(f.store().list_threads())
        .unwrap()
        .into_iter()
        .map(|t| t.topic)
        .collect();
    assert_eq!(topics, ["a", "b"]);
}
