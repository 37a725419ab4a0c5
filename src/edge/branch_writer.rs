//! The `BranchWriter` Durable Object (one per repository and branch) and the Worker's
//! client for it. The object keeps the journal in its SQLite storage and runs the
//! pure writer; alarms drive flushes when no caller is waiting, so queued writes
//! survive restarts and evictions.

use super::effects::{post_to_object, R2Cache, WorkerClock};
use super::{github, parts, store_config};
use crate::config::{Config, ConfigError};
use crate::github::Repo;
use crate::store::Store;
use crate::writer::queue::{Call, Envelope, QueueError, Reply};
use crate::writer::search::{Doc, Hit, SearchQuery};
use crate::writer::{
    EntryRecord, Event, Head, JournalStore, OpState, Queued, Wakers, WriteQueue, Writer,
};
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use worker::{
    console_error, durable_object, DurableObject, Env, Method, Request, Response, Result,
    SqlStorage, SqlStorageValue, State, Stub,
};

const BINDING: &str = "BRANCH_WRITER";
/// The header in which the Worker names the repository a call is for.
const REPO_HEADER: &str = "x-watercooler-repo";
/// The journal's meta key under which the object remembers its repository, for
/// alarms (which come without a call). Absent: the default repository.
const REPO_KEY: &str = "repo";
/// Between two steps of a search-index backfill, driven by the alarm.
const BACKFILL_GAP_MS: u64 = 500;

#[durable_object]
pub struct BranchWriter {
    state: State,
    env: Env,
    in_flight: Cell<bool>,
    /// The alarm this object set, as far as it knows (none after a restart): a call
    /// that needs no earlier alarm then costs no storage request for it.
    alarm_at: Cell<Option<u64>>,
    /// Opened (and its tables created) once, when the object starts.
    journal: SqlJournal,
    /// The requests waiting for events.
    wakers: Wakers,
}

/// The journal in the object's SQLite storage. Rows keep the operation as JSON; the
/// columns beside it are for lookups.
struct SqlJournal {
    sql: SqlStorage,
    /// SQLite has FTS5 here (else search falls back to plain matching).
    fts: bool,
}

#[derive(Deserialize)]
struct Row {
    seq: i64,
    row: String,
}

#[derive(Deserialize)]
struct MetaRow {
    value: String,
}

fn state_name(s: &OpState) -> &'static str {
    match s {
        OpState::Pending => "pending",
        OpState::Committed { .. } => "committed",
        OpState::Failed { .. } => "failed",
    }
}

impl SqlJournal {
    fn new(sql: SqlStorage) -> Self {
        for ddl in [
            "CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, entry_id TEXT UNIQUE, state TEXT NOT NULL, topic TEXT NOT NULL, accepted_at_ms INTEGER NOT NULL, row TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS journal_state ON journal (state, seq)",
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS entry_ids (entry_id TEXT PRIMARY KEY, record TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS events (cursor INTEGER PRIMARY KEY AUTOINCREMENT, entry_key TEXT UNIQUE, row TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS heads (topic TEXT PRIMARY KEY, head TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS search_entries (id INTEGER PRIMARY KEY, topic TEXT NOT NULL, idx INTEGER NOT NULL, entry_id TEXT, author TEXT NOT NULL, at TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, UNIQUE (topic, idx))",
        ] {
            if let Err(e) = sql.exec(ddl, None) {
                console_error!("journal schema: {e}");
            }
        }
        let fts = sql.exec(SEARCH_FTS, None).is_ok();
        SqlJournal { sql, fts }
    }

    fn rows(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Vec<Queued> {
        let rows: Vec<Row> = match self.sql.exec(query, bindings).and_then(|c| c.to_array()) {
            Ok(r) => r,
            Err(e) => {
                console_error!("journal read: {e}");
                return vec![];
            }
        };
        rows.into_iter()
            .filter_map(|r| {
                let mut q: Queued = serde_json::from_str(&r.row).ok()?;
                q.seq = r.seq as u64;
                Some(q)
            })
            .collect()
    }

    /// The rows of a query, or none (logged) when it fails.
    fn all<T: serde::de::DeserializeOwned>(
        &self,
        query: &str,
        bindings: Vec<SqlStorageValue>,
    ) -> Vec<T> {
        match self.sql.exec(query, bindings).and_then(|c| c.to_array()) {
            Ok(rows) => rows,
            Err(e) => {
                console_error!("journal read: {e}");
                vec![]
            }
        }
    }

    fn exec(&self, query: &str, bindings: Vec<SqlStorageValue>) {
        if let Err(e) = self.sql.exec(query, bindings) {
            console_error!("journal write: {e}");
        }
    }
}

fn json_of(q: &Queued) -> String {
    serde_json::to_string(q).unwrap_or_default()
}

fn opt_text(s: Option<&str>) -> SqlStorageValue {
    s.map_or(SqlStorageValue::Null, |v| {
        SqlStorageValue::String(v.to_string())
    })
}

impl JournalStore for SqlJournal {
    fn insert(&self, q: &Queued) -> u64 {
        #[derive(Deserialize)]
        struct Seq {
            seq: i64,
        }
        let cursor = self.sql.exec(
            "INSERT INTO journal (entry_id, state, topic, accepted_at_ms, row) VALUES (?, ?, ?, ?, ?) RETURNING seq",
            vec![
                opt_text(q.entry_id.as_deref()),
                state_name(&q.state).into(),
                q.topic.to_string().into(),
                (q.accepted_at_ms as i64).into(),
                json_of(q).into(),
            ],
        );
        match cursor.and_then(|c| c.one::<Seq>()) {
            Ok(s) => s.seq as u64,
            Err(e) => {
                console_error!("journal insert: {e}");
                0
            }
        }
    }
    fn update(&self, q: &Queued) {
        self.exec(
            "UPDATE journal SET state = ?, row = ? WHERE seq = ?",
            vec![
                state_name(&q.state).into(),
                json_of(q).into(),
                (q.seq as i64).into(),
            ],
        );
    }
    fn remove(&self, seq: u64) {
        self.exec(
            "DELETE FROM journal WHERE seq = ?",
            vec![(seq as i64).into()],
        );
    }
    fn get(&self, seq: u64) -> Option<Queued> {
        self.rows(
            "SELECT seq, row FROM journal WHERE seq = ?",
            vec![(seq as i64).into()],
        )
        .pop()
    }
    fn by_entry_id(&self, entry_id: &str) -> Option<Queued> {
        self.rows(
            "SELECT seq, row FROM journal WHERE entry_id = ?",
            vec![entry_id.into()],
        )
        .pop()
    }
    fn pending(&self) -> Vec<Queued> {
        self.rows(
            "SELECT seq, row FROM journal WHERE state = 'pending' ORDER BY seq",
            vec![],
        )
    }
    fn pending_topics(&self) -> Vec<String> {
        #[derive(Deserialize)]
        struct TopicRow {
            topic: String,
        }
        let rows: Vec<TopicRow> = self.all(
            "SELECT topic, MIN(seq) AS first FROM journal WHERE state = 'pending' GROUP BY topic ORDER BY first",
            vec![],
        );
        rows.into_iter().map(|r| r.topic).collect()
    }
    fn failed(&self) -> Vec<Queued> {
        self.rows(
            "SELECT seq, row FROM journal WHERE state = 'failed' ORDER BY seq",
            vec![],
        )
    }
    fn meta(&self, key: &str) -> Option<String> {
        let rows: Vec<MetaRow> = self
            .sql
            .exec("SELECT value FROM meta WHERE key = ?", vec![key.into()])
            .and_then(|c| c.to_array())
            .ok()?;
        rows.into_iter().next().map(|r| r.value)
    }
    fn set_meta(&self, key: &str, value: &str) {
        self.exec(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            vec![key.into(), value.into()],
        );
    }
    fn prune_committed(&self, before_ms: u64) {
        self.exec(
            "DELETE FROM journal WHERE state = 'committed' AND accepted_at_ms < ?",
            vec![(before_ms as i64).into()],
        );
    }
    fn record_entry(&self, r: &EntryRecord) {
        self.exec(
            "INSERT INTO entry_ids (entry_id, record) VALUES (?, ?) ON CONFLICT (entry_id) DO UPDATE SET record = excluded.record",
            vec![
                r.entry_id.to_string().into(),
                serde_json::to_string(r).unwrap_or_default().into(),
            ],
        );
    }
    fn push_event(&self, e: &Event) -> Option<u64> {
        let rows: Vec<CursorRow> = self.all(
            "INSERT INTO events (entry_key, row) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING cursor",
            vec![
                opt_text(e.entry_key().as_deref()),
                serde_json::to_string(e).unwrap_or_default().into(),
            ],
        );
        rows.first().map(|r| r.cursor as u64)
    }
    fn events_after(&self, cursor: u64, limit: usize) -> Vec<Event> {
        let rows: Vec<EventRow> = self.all(
            "SELECT cursor, row FROM events WHERE cursor > ? ORDER BY cursor LIMIT ?",
            vec![(cursor as i64).into(), (limit as i64).into()],
        );
        rows.into_iter()
            .filter_map(|r| {
                let mut e: Event = serde_json::from_str(&r.row).ok()?;
                e.cursor = r.cursor.to_string();
                Some(e)
            })
            .collect()
    }
    fn event_bounds(&self) -> (u64, u64) {
        #[derive(Deserialize)]
        struct Last {
            seq: i64,
        }
        let last: Vec<Last> = self.all(
            "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
            vec![],
        );
        (
            last.first().map_or(0, |l| l.seq as u64),
            self.pruned_events(),
        )
    }
    fn prune_events(&self, keep: u64) {
        let through = self.event_bounds().0.saturating_sub(keep);
        if through > self.pruned_events() {
            self.exec(
                "DELETE FROM events WHERE cursor <= ?",
                vec![(through as i64).into()],
            );
            self.set_meta(META_EVENTS_PRUNED, &through.to_string());
        }
    }
    fn head(&self, topic: &str) -> Option<Head> {
        #[derive(Deserialize)]
        struct HeadRow {
            head: String,
        }
        let rows: Vec<HeadRow> =
            self.all("SELECT head FROM heads WHERE topic = ?", vec![topic.into()]);
        serde_json::from_str(&rows.first()?.head).ok()
    }
    fn set_head(&self, topic: &str, head: &Head) {
        self.exec(
            "INSERT INTO heads (topic, head) VALUES (?, ?) ON CONFLICT (topic) DO UPDATE SET head = excluded.head",
            vec![
                topic.into(),
                serde_json::to_string(head).unwrap_or_default().into(),
            ],
        );
    }
    fn forget_head(&self, topic: &str) {
        self.exec("DELETE FROM heads WHERE topic = ?", vec![topic.into()]);
    }
    fn indexed(&self, topic: &str) -> Vec<Doc> {
        #[derive(Deserialize)]
        struct DocRow {
            idx: i64,
            entry_id: Option<String>,
            author: String,
            at: String,
            title: String,
        }
        let rows: Vec<DocRow> = self.all(
            "SELECT idx, entry_id, author, at, title FROM search_entries WHERE topic = ? ORDER BY idx",
            vec![topic.into()],
        );
        rows.into_iter()
            .map(|r| Doc {
                topic: topic.to_string(),
                index: r.idx.max(0) as u64,
                entry_id: r.entry_id,
                author: r.author,
                at: r.at,
                title: r.title,
                body: String::new(),
            })
            .collect()
    }
    fn index_entry(&self, doc: &Doc) {
        self.unindex(
            "topic = ? AND idx = ?",
            vec![doc.topic.clone().into(), (doc.index as i64).into()],
        );
        self.insert_doc(doc);
    }
    fn replace_thread(&self, topic: &str, docs: &[Doc]) {
        self.unindex("topic = ?", vec![topic.into()]);
        for d in docs {
            self.insert_doc(d);
        }
    }
    fn search(&self, q: &SearchQuery) -> std::result::Result<Vec<Hit>, String> {
        super::search::run(&self.sql, self.fts, q)
    }
    fn entry_record(&self, entry_id: &str) -> Option<EntryRecord> {
        #[derive(Deserialize)]
        struct RecordRow {
            record: String,
        }
        let rows: Vec<RecordRow> = self
            .sql
            .exec(
                "SELECT record FROM entry_ids WHERE entry_id = ?",
                vec![entry_id.into()],
            )
            .and_then(|c| c.to_array())
            .ok()?;
        serde_json::from_str(&rows.into_iter().next()?.record).ok()
    }
}

/// The full-text index over `search_entries` (title and body), kept by hand.
const SEARCH_FTS: &str = "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(title, body, content='search_entries', content_rowid='id')";

/// The meta key of the latest pruned event cursor.
const META_EVENTS_PRUNED: &str = "events_pruned";

#[derive(Deserialize)]
struct EventRow {
    cursor: i64,
    row: String,
}

#[derive(Deserialize)]
struct CursorRow {
    cursor: i64,
}

impl SqlJournal {
    fn pruned_events(&self) -> u64 {
        self.meta(META_EVENTS_PRUNED)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

impl SqlJournal {
    /// Removes indexed entries (`filter` on `search_entries`) from the index.
    fn unindex(&self, filter: &str, bindings: Vec<SqlStorageValue>) {
        if self.fts {
            self.exec(
                &format!("INSERT INTO search_fts (search_fts, rowid, title, body) SELECT 'delete', id, title, body FROM search_entries WHERE {filter}"),
                bindings.clone(),
            );
        }
        self.exec(
            &format!("DELETE FROM search_entries WHERE {filter}"),
            bindings,
        );
    }

    fn insert_doc(&self, d: &Doc) {
        let rows: Vec<CursorRow> = self.all(
            "INSERT INTO search_entries (topic, idx, entry_id, author, at, title, body) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id AS cursor",
            vec![
                d.topic.clone().into(),
                (d.index as i64).into(),
                opt_text(d.entry_id.as_deref()),
                d.author.clone().into(),
                d.at.clone().into(),
                d.title.clone().into(),
                d.body.clone().into(),
            ],
        );
        if let (true, Some(r)) = (self.fts, rows.first()) {
            self.exec(
                "INSERT INTO search_fts (rowid, title, body) VALUES (?, ?, ?)",
                vec![
                    r.cursor.into(),
                    d.title.clone().into(),
                    d.body.clone().into(),
                ],
            );
        }
    }
}

fn json_response<T: Serialize>(v: &T) -> Result<Response> {
    Response::from_json(v)
}

impl BranchWriter {
    /// Runs `f` with a writer over this object's storage and the Worker's effects.
    /// This object's configuration: for the repository the call names (remembered
    /// for alarms), else the one remembered, else the default repository.
    fn config(
        &self,
        named: Option<String>,
    ) -> std::result::Result<(Config, worker::Bucket), ConfigError> {
        let p = parts(&self.env)?;
        let remembered = self.journal.meta(REPO_KEY);
        let Some(full) = named.clone().or(remembered.clone()) else {
            return Ok((p.config, p.bucket));
        };
        let config = full
            .split_once('/')
            .and_then(|(owner, name)| p.config.for_repo(owner, name))
            .ok_or_else(|| ConfigError {
                setting: "GITHUB_REPOS",
                message: format!("{full} is no longer served; add it back to GITHUB_REPOS to let its queued writes land"),
            })?;
        if named.is_some() && named != remembered {
            self.journal.set_meta(REPO_KEY, &full);
        }
        Ok((config, p.bucket))
    }

    async fn with_writer<T>(
        &self,
        repo: Option<String>,
        f: impl AsyncFnOnce(&Writer<'_, super::EdgeGitHub, R2Cache, WorkerClock, SqlJournal>) -> T,
    ) -> std::result::Result<T, ConfigError> {
        let (config, bucket) = self.config(repo)?;
        let git = github(&config);
        let cache = R2Cache::new(bucket);
        let clock = WorkerClock;
        let store_config = store_config(&config);
        let writer = Writer::new(
            Store {
                git: &git,
                cache: &cache,
                clock: &clock,
                config: &store_config,
            },
            &self.journal,
            config.writer,
            &self.in_flight,
        )
        .waking(&self.wakers);
        let out = f(&writer).await;
        // Whatever is still pending gets an alarm, so it lands without a caller (and
        // a backfill of the search index goes on). A request never postpones a flush
        // that is due: an earlier alarm stays.
        let backfill = writer
            .backfill_due_at()
            .map(|at| at.max(worker::Date::now().as_millis() + BACKFILL_GAP_MS));
        if let Some(at) = writer.next_flush_at().into_iter().chain(backfill).min() {
            let now = worker::Date::now().as_millis();
            let at = at.max(now + 10);
            if self
                .alarm_at
                .get()
                .is_none_or(|known| known > at || known < now)
            {
                self.ensure_alarm(at, now).await;
            }
        }
        Ok(out)
    }
}

impl BranchWriter {
    /// Makes sure an alarm rings by `at`: an earlier one stays.
    async fn ensure_alarm(&self, at: u64, now: u64) {
        let storage = self.state.storage();
        let existing = storage
            .get_alarm()
            .await
            .ok()
            .flatten()
            .and_then(|e| u64::try_from(e).ok());
        match existing {
            Some(e) if e <= at => self.alarm_at.set(Some(e)),
            _ => match storage.set_alarm((at - now) as i64).await {
                Ok(()) => self.alarm_at.set(Some(at)),
                Err(e) => console_error!("set_alarm: {e}"),
            },
        }
    }
}

impl DurableObject for BranchWriter {
    fn new(state: State, env: Env) -> Self {
        let journal = SqlJournal::new(state.storage().sql());
        BranchWriter {
            state,
            env,
            in_flight: Cell::new(false),
            alarm_at: Cell::new(None),
            journal,
            wakers: Wakers::default(),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        // One route: a versioned call in, a reply out (see `writer::queue`).
        if req.method() != Method::Post {
            return Response::error("the writer takes POST", 405);
        }
        let repo = req.headers().get(REPO_HEADER)?;
        let wire = req.text().await?;
        match self
            .with_writer(repo, async |w| w.answer_wire(&wire).await)
            .await
        {
            Ok(reply) => json_response(&reply),
            Err(e) => Response::error(e.to_string(), 500),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        // This alarm has rung: the next call sets the next one.
        self.alarm_at.set(None);
        let flushed = self
            .with_writer(None, async |w| {
                let flushed = w.flush().await;
                if w.backfill_due_at().is_some() {
                    w.backfill().await;
                }
                flushed
            })
            .await;
        match flushed {
            Ok(f) => json_response(&f),
            Err(e) => Response::error(e.to_string(), 500),
        }
    }
}

/// The Worker's handle on its branch's writer.
pub(super) struct DoQueue {
    stub: Stub,
    /// `owner/name`, sent with every call.
    repo: String,
}

impl DoQueue {
    pub(super) fn for_branch(env: &Env, repo: &Repo) -> std::result::Result<DoQueue, ConfigError> {
        let missing = |what: &str| {
            ConfigError {
            setting: "BRANCH_WRITER",
            message: format!("{what}; add [[durable_objects.bindings]] name = \"BRANCH_WRITER\" class_name = \"BranchWriter\" to wrangler.toml"),
        }
        };
        let ns = env
            .durable_object(BINDING)
            .map_err(|_| missing("the Durable Object binding is missing"))?;
        let name = format!("{}/{}/{}", repo.owner, repo.name, repo.branch);
        let stub = ns
            .id_from_name(&name)
            .and_then(|id| id.get_stub())
            .map_err(|e| missing(&format!("the writer could not be addressed ({e})")))?;
        Ok(DoQueue {
            stub,
            repo: format!("{}/{}", repo.owner, repo.name),
        })
    }

    async fn send(&self, call: Call) -> std::result::Result<Reply, QueueError> {
        let unreachable = |e: String| QueueError::Unreachable(e);
        let body =
            serde_json::to_string(&Envelope::new(call)).map_err(|e| unreachable(e.to_string()))?;
        let headers = [(REPO_HEADER, self.repo.as_str())];
        let (status, text) = post_to_object(&self.stub, "https://writer/call", &body, &headers)
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        if status != 200 {
            return Err(unreachable(format!("writer answered {status}: {text}")));
        }
        serde_json::from_str(&text)
            .map_err(|e| unreachable(format!("unreadable writer answer: {e}")))
    }
}

impl WriteQueue for DoQueue {
    async fn call(&self, call: Call) -> std::result::Result<Reply, QueueError> {
        self.send(call).await
    }
}
