//! Search in the writer's SQLite: FTS5 ranked by bm25 with marked snippets where the
//! platform has it, plain word matching (newest first) where it does not.

use crate::writer::search::{Hit, SearchQuery};
use serde::Deserialize;
use worker::{SqlStorage, SqlStorageValue};

#[derive(Deserialize)]
struct Row {
    topic: String,
    idx: i64,
    entry_id: Option<String>,
    author: String,
    at: String,
    title: String,
    snippet: String,
}

/// `s` as a LIKE pattern that matches it literally (with `ESCAPE '\'`).
fn like_escaped(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The filters beside the query, as SQL on `search_entries e`, and their values.
fn filters(q: &SearchQuery) -> (String, Vec<SqlStorageValue>) {
    let mut sql = String::new();
    let mut values: Vec<SqlStorageValue> = vec![];
    if let Some(t) = &q.topic {
        sql.push_str(" AND e.topic = ?");
        values.push(t.clone().into());
    }
    if let Some(s) = &q.since {
        sql.push_str(" AND e.at >= ?");
        values.push(s.clone().into());
    }
    if let Some(a) = &q.agent {
        let a = a.trim().to_lowercase();
        if a.contains('(') {
            sql.push_str(" AND lower(e.author) = ?");
            values.push(a.into());
        } else {
            sql.push_str(" AND lower(e.author) LIKE ? ESCAPE '\\'");
            values.push(format!("{} (%", like_escaped(&a)).into());
        }
    }
    (sql, values)
}

/// Runs a search. `Err` is the query's fault, in SQLite's words.
pub(super) fn run(sql: &SqlStorage, fts: bool, q: &SearchQuery) -> Result<Vec<Hit>, String> {
    let (filter, values) = filters(q);
    let (query, mut bindings) = if fts {
        (
            format!("SELECT e.topic AS topic, e.idx AS idx, e.entry_id AS entry_id, e.author AS author, e.at AS at, e.title AS title, snippet(search_fts, -1, char(2), char(3), '…', 12) AS snippet FROM search_fts JOIN search_entries e ON e.id = search_fts.rowid WHERE search_fts MATCH ?{filter} ORDER BY bm25(search_fts) LIMIT ?"),
            vec![SqlStorageValue::from(q.q.clone())],
        )
    } else {
        let words: Vec<String> =
            q.q.split_whitespace()
                .map(|w| w.trim_matches(|c| c == '"' || c == '*').to_string())
                .filter(|w| !w.is_empty())
                .collect();
        let mut like = String::new();
        let mut b = vec![];
        for w in &words {
            like.push_str(" AND (e.title LIKE ? ESCAPE '\\' OR e.body LIKE ? ESCAPE '\\')");
            let pattern = format!("%{}%", like_escaped(w));
            b.push(pattern.clone().into());
            b.push(pattern.into());
        }
        (
            format!("SELECT e.topic AS topic, e.idx AS idx, e.entry_id AS entry_id, e.author AS author, e.at AS at, e.title AS title, substr(e.body, 1, 120) AS snippet FROM search_entries e WHERE 1 = 1{like}{filter} ORDER BY e.at DESC LIMIT ?"),
            b,
        )
    };
    bindings.extend(values);
    bindings.push((q.limit as i64).into());
    let rows: Vec<Row> = sql
        .exec(&query, bindings)
        .and_then(|c| c.to_array())
        .map_err(|e| e.to_string())?;
    Ok(rows
        .into_iter()
        .map(|r| Hit {
            topic: r.topic,
            index: r.idx.max(0) as u64,
            entry_id: r.entry_id,
            author: r.author,
            at: r.at,
            title: r.title,
            snippet: r.snippet,
        })
        .collect())
}
