//! The tools that read one thread: read_thread, list_thread_entries,
//! get_thread_entry and get_thread_entry_range.

use super::args::{args, Format};
use super::{not_found, page_limit, structured, text_result, with_notes, Ctx, Spec, MAX_PAGE};
use crate::http::json::JsonFields;
use crate::record;
use crate::schema::Schema;
use crate::service::reads::ReadFormat;
use crate::service::{Effects, ServiceError, View};
use crate::thread::Entry;
use serde_json::{json, Value};

args! {
    /// read_thread's arguments.
    ReadArgs {
        /// Thread topic (letters, digits, . _ -)
        topic: String,
        /// First entry index (0-based)
        from_entry: Option<u64>,
        /// Entries to return
        limit: Option<u64>,
        /// markdown (default) or json
        format: Format,
    }
}

args! {
    /// list_thread_entries' arguments.
    EntriesArgs {
        /// Thread topic (letters, digits, . _ -)
        topic: String,
        /// First entry index (default 0)
        offset: Option<u64>,
        /// Entries to return, 1-200 (default 50)
        limit: Option<u64>,
    }
}

args! {
    /// get_thread_entry's arguments.
    EntryArgs {
        /// Thread topic (letters, digits, . _ -)
        topic: String,
        /// Entry index (0-based)
        index: Option<u64>,
        /// The entry's Entry-ID
        entry_id: Option<String>,
    }
}

args! {
    /// get_thread_entry_range's arguments.
    RangeArgs {
        /// Thread topic (letters, digits, . _ -)
        topic: String,
        /// First index
        start_index: u64,
        /// Last index, inclusive
        end_index: u64,
    }
}

record! {
    /// One entry, as the entry tools show it.
    pub(super) struct EntryOut {
        required {
            /// 0-based position in the thread.
            index: usize,
            /// Agent (user).
            author: String,
            timestamp: String,
            role: Option<String>,
            r#type: Option<String>,
            title: Option<String>,
            entry_id: Option<String>,
            /// Accepted but not committed yet.
            pending: bool,
        }
        optional {
            body: String,
        }
    }
}

record! {
    /// What list_thread_entries answers.
    pub(super) struct EntriesOut {
        required {
            topic: String,
            total: usize,
            offset: usize,
            entries: Vec<EntryOut>,
        }
        optional {
            /// How the watercooler tools and CommonMark read this thread differently (files written elsewhere); entries are served as the tools read them
            warnings: Vec<String>,
        }
    }
}

record! {
    /// What get_thread_entry answers.
    pub(super) struct EntryOneOut {
        required {
            topic: String,
            entry: EntryOut,
        }
        optional {
            /// How the watercooler tools and CommonMark read this thread differently (files written elsewhere); entries are served as the tools read them
            warnings: Vec<String>,
        }
    }
}

record! {
    /// What get_thread_entry_range answers.
    pub(super) struct RangeOut {
        required {
            topic: String,
            total: usize,
            entries: Vec<EntryOut>,
        }
        optional {
            /// How the watercooler tools and CommonMark read this thread differently (files written elsewhere); entries are served as the tools read them
            warnings: Vec<String>,
        }
    }
}

fn entry_out(e: &Entry, full: bool, view: &View) -> EntryOut {
    EntryOut {
        index: e.index,
        author: e.author.clone(),
        timestamp: e.timestamp.clone(),
        role: e.role.clone(),
        r#type: e.entry_type.clone(),
        title: e.title.clone(),
        entry_id: e.entry_id.clone(),
        pending: view.is_pending(e),
        body: full.then(|| e.body.clone()),
    }
}

/// watercooler_read_thread.
pub(super) const READ_THREAD: Spec = Spec {
    name: "watercooler_read_thread",
    title: "Read a thread",
    description: "Read a thread as markdown (default) or JSON, optionally from an entry index and limited to a number of entries.",
    read_only: true,
    idempotent: true,
    input: ReadArgs::schema,
    output: None,
    fields: ReadArgs::FIELDS,
};

pub(super) async fn read_thread<E: Effects>(
    cx: &Ctx<'_, '_, E>,
    f: &JsonFields,
) -> Result<Value, ServiceError> {
    let a = ReadArgs::parse(f)?;
    let format = ReadFormat::parse("format", a.format.0.as_deref())?;
    let from = a.from_entry.unwrap_or(0) as usize;
    let limit = a.limit.map(|n| n as usize);
    let view = cx.svc.view(&a.topic).await?;
    let t = &view.reading.thread;
    let total = t.entries.len();
    let end = limit.map_or(total, |l| from.saturating_add(l).min(total));
    let start = from.min(total);
    let chosen = t.entries.get(start..end.max(start)).unwrap_or(&[]);
    if format == ReadFormat::Json {
        let data = json!({
            "topic": view.topic, "sha": view.sha, "pending": view.pending, "title": t.header.title, "status": t.header.status(), "ball": t.header.ball(),
            "total_entries": total, "from_entry": from,
            "entries": chosen.iter().map(|e| entry_out(e, true, &view)).collect::<Vec<_>>(),
        });
        return Ok(with_notes(
            json!({"content": [{"type": "text", "text": serde_json::to_string_pretty(&data).unwrap_or_default()}], "structuredContent": data}),
            &view,
        ));
    }
    if from == 0 && limit.is_none() {
        return Ok(with_notes(text_result(view.content.clone()), &view));
    }
    // The header, a note of what was left out, then the chosen entries as written.
    let header_end = t.entries.first().map_or(view.content.len(), |e| e.span.0);
    let mut md = view.content[..header_end].to_string();
    md.push_str(&format!(
        "<!-- showing entries {}..{} of {} -->\n\n",
        from,
        end.saturating_sub(1).max(from),
        total
    ));
    for e in chosen {
        md.push_str(&view.content[e.span.0..e.span.1]);
    }
    Ok(with_notes(text_result(md), &view))
}

/// watercooler_list_thread_entries.
pub(super) const LIST_THREAD_ENTRIES: Spec = Spec {
    name: "watercooler_list_thread_entries",
    title: "List thread entries",
    description: "List entry headers (index, author, time, role, type, title, id) without bodies.",
    read_only: true,
    idempotent: true,
    input: EntriesArgs::schema,
    output: Some(EntriesOut::schema),
    fields: EntriesArgs::FIELDS,
};

pub(super) async fn list_thread_entries<E: Effects>(
    cx: &Ctx<'_, '_, E>,
    f: &JsonFields,
) -> Result<Value, ServiceError> {
    let a = EntriesArgs::parse(f)?;
    let offset = a.offset.unwrap_or(0) as usize;
    let limit = page_limit("limit", a.limit)?;
    let view = cx.svc.view(&a.topic).await?;
    let t = &view.reading.thread;
    let page: Vec<&Entry> = t.entries.iter().skip(offset).take(limit).collect();
    let text = entries_text(&view.topic, &page, t.entries.len());
    let out = EntriesOut {
        topic: view.topic.clone(),
        total: t.entries.len(),
        offset,
        entries: page.iter().map(|e| entry_out(e, false, &view)).collect(),
        warnings: None,
    };
    Ok(with_notes(structured(Some(text), out), &view))
}

fn entries_text(topic: &str, entries: &[&Entry], total: usize) -> String {
    let mut t = format!("{topic}: {total} entries\n");
    for e in entries {
        t.push_str(&format!(
            "- [{}] {} {} — {} ({}/{}){}\n",
            e.index,
            e.timestamp,
            e.author,
            e.title.as_deref().unwrap_or("(no title)"),
            e.role.as_deref().unwrap_or("-"),
            e.entry_type.as_deref().unwrap_or("-"),
            e.entry_id
                .as_deref()
                .map(|i| format!(" id {i}"))
                .unwrap_or_default()
        ));
    }
    t
}

/// watercooler_get_thread_entry.
pub(super) const GET_THREAD_ENTRY: Spec = Spec {
    name: "watercooler_get_thread_entry",
    title: "Get one entry",
    description: "Get one entry with its body, by index or by entry_id (give exactly one).",
    read_only: true,
    idempotent: true,
    input: EntryArgs::schema,
    output: Some(EntryOneOut::schema),
    fields: EntryArgs::FIELDS,
};

pub(super) async fn get_thread_entry<E: Effects>(
    cx: &Ctx<'_, '_, E>,
    f: &JsonFields,
) -> Result<Value, ServiceError> {
    let a = EntryArgs::parse(f)?;
    let view = cx.svc.view(&a.topic).await?;
    let t = &view.reading.thread;
    let entry = match (a.index, a.entry_id.as_deref()) {
        (Some(i), None) => t.entries.get(i as usize).ok_or_else(|| {
            not_found(format!(
                "index {i} is out of range: the thread has {} entries (0 to {})",
                t.entries.len(),
                t.entries.len().saturating_sub(1)
            ))
        })?,
        (None, Some(id)) => t
            .entries
            .iter()
            .find(|e| e.entry_id.as_deref() == Some(id))
            .ok_or_else(|| {
                not_found(format!(
                    "no entry with entry_id {id:?}; {} shows the ids",
                    super::Tool::ListThreadEntries.name()
                ))
            })?,
        _ => {
            return Err(ServiceError::new(
                crate::service::ErrorCode::InvalidField,
                "give exactly one of index or entry_id",
            ))
        }
    };
    let out = EntryOneOut {
        topic: view.topic.clone(),
        entry: entry_out(entry, true, &view),
        warnings: None,
    };
    Ok(with_notes(structured(None, out), &view))
}

/// watercooler_get_thread_entry_range.
pub(super) const GET_THREAD_ENTRY_RANGE: Spec = Spec {
    name: "watercooler_get_thread_entry_range",
    title: "Get a range of entries",
    description: "Get entries start_index..=end_index (inclusive) with their bodies.",
    read_only: true,
    idempotent: true,
    input: RangeArgs::schema,
    output: Some(RangeOut::schema),
    fields: RangeArgs::FIELDS,
};

pub(super) async fn get_thread_entry_range<E: Effects>(
    cx: &Ctx<'_, '_, E>,
    f: &JsonFields,
) -> Result<Value, ServiceError> {
    let a = RangeArgs::parse(f)?;
    let (start, end) = (a.start_index as usize, a.end_index as usize);
    if end < start {
        return Err(ServiceError::new(
            crate::service::ErrorCode::InvalidField,
            "end_index must be at least start_index",
        ));
    }
    if end - start >= MAX_PAGE as usize {
        return Err(ServiceError::new(
            crate::service::ErrorCode::InvalidField,
            format!("at most {MAX_PAGE} entries at once"),
        ));
    }
    let view = cx.svc.view(&a.topic).await?;
    let t = &view.reading.thread;
    if start >= t.entries.len() {
        return Err(not_found(format!(
            "start_index {start} is out of range: the thread has {} entries",
            t.entries.len()
        )));
    }
    let out = RangeOut {
        topic: view.topic.clone(),
        total: t.entries.len(),
        entries: t.entries[start..=end.min(t.entries.len() - 1)]
            .iter()
            .map(|e| entry_out(e, true, &view))
            .collect(),
        warnings: None,
    };
    Ok(with_notes(structured(None, out), &view))
}
