//! An in-memory journal, for tests and benchmarks.

use super::engine::JournalStore;
use super::events::{Event, Head};
use super::journal::{EntryRecord, OpState, Queued};
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
}
