//! An in-memory journal, for tests and benchmarks.

use super::engine::JournalStore;
use super::events::{Event, Head};
use super::journal::{EntryRecord, OpState, Queued};
use super::search::{Doc, Hit, SearchQuery};
use std::cell::Cell;
use std::collections::BTreeMap;

/// An in-memory journal for tests.
#[derive(Debug, Default)]
pub struct MemoryJournal {
    rows: std::cell::RefCell<BTreeMap<u64, Queued>>,
    records: std::cell::RefCell<BTreeMap<String, EntryRecord>>,
    meta: std::cell::RefCell<BTreeMap<String, String>>,
    next: Cell<u64>,
    events: std::cell::RefCell<BTreeMap<u64, Event>>,
    last_event: Cell<u64>,
    pruned: Cell<u64>,
    heads: std::cell::RefCell<BTreeMap<String, Head>>,
    docs: std::cell::RefCell<BTreeMap<(String, u64), Doc>>,
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
            .insert(r.entry_id.to_string(), r.clone());
    }
    fn entry_record(&self, entry_id: &str) -> Option<EntryRecord> {
        self.records.borrow().get(entry_id).cloned()
    }
    fn push_event(&self, e: &Event) -> Option<u64> {
        let key = e.entry_key();
        if key.is_some() && self.events.borrow().values().any(|x| x.entry_key() == key) {
            return None;
        }
        let cursor = self.last_event.get() + 1;
        self.last_event.set(cursor);
        let mut e = e.clone();
        e.cursor = cursor.to_string();
        self.events.borrow_mut().insert(cursor, e);
        Some(cursor)
    }
    fn events_after(&self, cursor: u64, limit: usize) -> Vec<Event> {
        self.events
            .borrow()
            .range(cursor + 1..)
            .take(limit)
            .map(|(_, e)| e.clone())
            .collect()
    }
    fn event_bounds(&self) -> (u64, u64) {
        (self.last_event.get(), self.pruned.get())
    }
    fn prune_events(&self, keep: u64) {
        let through = self.last_event.get().saturating_sub(keep);
        if through > self.pruned.get() {
            self.pruned.set(through);
            self.events.borrow_mut().retain(|c, _| *c > through);
        }
    }
    fn head(&self, topic: &str) -> Option<Head> {
        self.heads.borrow().get(topic).cloned()
    }
    fn set_head(&self, topic: &str, head: &Head) {
        self.heads
            .borrow_mut()
            .insert(topic.to_string(), head.clone());
    }
    fn forget_head(&self, topic: &str) {
        self.heads.borrow_mut().remove(topic);
    }
    fn indexed(&self, topic: &str) -> Vec<Doc> {
        self.docs
            .borrow()
            .values()
            .filter(|d| d.topic == topic)
            .cloned()
            .collect()
    }
    fn index_entry(&self, doc: &Doc) {
        self.docs
            .borrow_mut()
            .insert((doc.topic.clone(), doc.index), doc.clone());
    }
    fn replace_thread(&self, topic: &str, docs: &[Doc]) {
        let mut all = self.docs.borrow_mut();
        all.retain(|(t, _), _| t != topic);
        for d in docs {
            all.insert((d.topic.clone(), d.index), d.clone());
        }
    }
    fn search(&self, q: &SearchQuery) -> Result<Vec<Hit>, String> {
        memory_search(&self.docs.borrow(), q)
    }
}

/// A plain search for tests: every word must appear in the title or body (any
/// case); more occurrences rank first. An unclosed quote is a syntax error.
fn memory_search(docs: &BTreeMap<(String, u64), Doc>, q: &SearchQuery) -> Result<Vec<Hit>, String> {
    if q.q.matches('"').count() % 2 == 1 {
        return Err("unterminated string".into());
    }
    let words: Vec<String> =
        q.q.split_whitespace()
            .map(|w| w.trim_matches(|c| c == '"' || c == '*').to_lowercase())
            .filter(|w| !w.is_empty())
            .collect();
    let mut hits: Vec<(usize, Hit)> = docs
        .values()
        .filter(|d| q.keeps(d))
        .filter_map(|d| {
            let text = format!("{}\n{}", d.title, d.body).to_lowercase();
            let count: Vec<usize> = words
                .iter()
                .map(|w| text.matches(w.as_str()).count())
                .collect();
            (!words.is_empty() && count.iter().all(|c| *c > 0)).then(|| {
                let snippet = match text.find(words[0].as_str()) {
                    Some(at) => format!(
                        "{}{}{}",
                        super::search::MARK_START,
                        &text[at..at + words[0].len()],
                        super::search::MARK_END
                    ),
                    None => String::new(),
                };
                let hit = Hit {
                    topic: d.topic.clone(),
                    index: d.index,
                    entry_id: d.entry_id.clone(),
                    author: d.author.clone(),
                    at: d.at.clone(),
                    title: d.title.clone(),
                    snippet,
                };
                (count.iter().sum(), hit)
            })
        })
        .collect();
    hits.sort_by_key(|h| std::cmp::Reverse(h.0));
    Ok(hits
        .into_iter()
        .take(q.limit as usize)
        .map(|(_, h)| h)
        .collect())
}
