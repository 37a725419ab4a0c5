//! The watercooler tools: names, parameters and results compatible with the local
//! watercooler MCP server, with precise JSON schemas.

use super::jsonrpc;
use crate::api::commit::{
    agent_for, author_for, commit, handoff_target, require_write, sync_action,
};
use crate::api::input::JsonFields;
use crate::api::reads::{thread_view, View};
use crate::api::{ApiError, App, VERSION};
use crate::auth::Principal;
use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::GitHost;
use crate::store::ThreadSummary;
use crate::thread::{self, ops, topic, Author, Entry, Operation};
use crate::validate;
use crate::writer::WriteQueue;
use base64::Engine;
use serde_json::{json, Map, Value};

const MAX_PAGE: u64 = 200;
const DEFAULT_PAGE: u64 = 50;

fn s(description: &str) -> Value {
    json!({"type": "string", "description": description})
}
fn int(description: &str) -> Value {
    json!({"type": "integer", "minimum": 0, "description": description})
}
fn nullable_string() -> Value {
    json!({"type": ["string", "null"]})
}

/// An input schema: the tool's own properties plus the common ones.
fn input(props: Value, required: &[&str]) -> Value {
    let mut p = props.as_object().cloned().unwrap_or_default();
    p.insert(
        "code_path".into(),
        s("Accepted for compatibility with the local server; ignored."),
    );
    p.insert(
        "agent_func".into(),
        json!({"type": "string", "pattern": "^[^:]+:[^:]*:[^:]*$", "description": "platform:model:role, e.g. \"Claude:opus:planner\"; the platform is the agent, the role the default role"}),
    );
    json!({"type": "object", "properties": p, "required": required, "additionalProperties": false})
}

fn object(props: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": props, "required": required})
}

fn summary_schema() -> Value {
    object(
        json!({
            "topic": {"type": "string"}, "status": {"type": "string"}, "ball": {"type": "string"},
            "open": {"type": "boolean"}, "entries": {"type": "integer"},
            "last_entry_at": nullable_string(), "last_author": nullable_string(), "last_title": nullable_string(),
            "new_for_ball": {"type": "boolean"}, "sha": {"type": "string"},
            "section": {"type": "string", "enum": ["new_entries", "your_turn", "waiting"]},
        }),
        &[
            "topic",
            "status",
            "ball",
            "open",
            "entries",
            "new_for_ball",
            "sha",
        ],
    )
}

fn entry_schema(full: bool) -> Value {
    let mut p = json!({
        "index": {"type": "integer"}, "author": {"type": "string"}, "timestamp": {"type": "string"},
        "role": nullable_string(), "type": nullable_string(), "title": nullable_string(), "entry_id": nullable_string(),
    });
    let mut required = vec!["index", "author", "timestamp"];
    if full {
        p["body"] = json!({"type": "string"});
        required.push("body");
    }
    object(p, &required)
}

fn write_result_schema() -> Value {
    object(
        json!({
            "topic": {"type": "string"}, "entry_id": {"type": "string"}, "commit_sha": nullable_string(),
            "blob_sha": nullable_string(), "unchanged": {"type": "boolean"}, "queued": {"type": "boolean"}, "message": {"type": "string"},
            "ball": nullable_string(), "status": nullable_string(),
            "warnings": warnings_schema(),
        }),
        &["topic", "commit_sha", "ball", "status"],
    )
}

fn warnings_schema() -> Value {
    json!({"type": "array", "items": {"type": "string"}, "description": "How the watercooler tools and CommonMark read this thread differently (files written elsewhere); entries are served as the tools read them"})
}

fn annotations(read_only: bool, idempotent: bool) -> Value {
    json!({"readOnlyHint": read_only, "destructiveHint": false, "idempotentHint": idempotent, "openWorldHint": false})
}

fn tool(
    name: &str,
    title: &str,
    description: &str,
    input_schema: Value,
    output: Option<Value>,
    ann: Value,
) -> Value {
    let mut t = json!({"name": name, "title": title, "description": description, "inputSchema": input_schema, "annotations": ann});
    if let Some(o) = output {
        t["outputSchema"] = o;
    }
    t
}

/// Every tool, as `tools/list` shows it.
pub fn definitions() -> Vec<Value> {
    let topic_p = s("Thread topic: letters, digits, '.', '_' and '-' (the file is <topic>.md)");
    let agent_p = s("Your agent name, e.g. \"Claude\" or \"Codex\"; defaults to your token's agent. Your user comes from your token.");
    let entry_id_p =
        s("Optional ULID idempotency key: sending the same entry_id twice writes one entry");
    vec![
        tool(
            "watercooler_health", "Health",
            "Check that the watercooler server is up and which repository and branch it serves.",
            input(json!({}), &[]),
            Some(object(json!({"ok": {"type": "boolean"}, "version": {"type": "string"}, "repo": {"type": "string"}, "branch": {"type": "string"}, "threads_dir": {"type": "string"}}), &["ok", "version", "repo", "branch", "threads_dir"])),
            annotations(true, true),
        ),
        tool(
            "watercooler_whoami", "Who am I",
            "Show the user your token belongs to, the agent name your entries will carry, and whether you may write.",
            input(json!({"agent": agent_p}), &[]),
            Some(object(json!({"user": {"type": "string"}, "agent": nullable_string(), "author": nullable_string(), "can_write": {"type": "boolean"}}), &["user", "agent", "author", "can_write"])),
            annotations(true, true),
        ),
        tool(
            "watercooler_list_threads", "List threads",
            "List threads in three sections: new entries for you, your turn (you hold the ball), and waiting on others. Paginate with cursor.",
            input(json!({"open_only": {"type": "boolean", "description": "Only threads whose status is not closed (default true)"}, "limit": int("Threads per page, 1-200 (default 50)"), "cursor": s("next_cursor from the previous page"), "agent": agent_p}), &[]),
            Some(object(json!({"me": nullable_string(), "total": {"type": "integer"}, "threads": {"type": "array", "items": summary_schema()}, "next_cursor": nullable_string()}), &["me", "total", "threads", "next_cursor"])),
            annotations(true, true),
        ),
        tool(
            "watercooler_read_thread", "Read a thread",
            "Read a thread as markdown (default) or JSON, optionally from an entry index and limited to a number of entries.",
            input(json!({"topic": topic_p, "from_entry": int("First entry index (0-based)"), "limit": int("Entries to return"), "format": {"type": "string", "enum": ["markdown", "json"], "description": "markdown (default) or json"}}), &["topic"]),
            None,
            annotations(true, true),
        ),
        tool(
            "watercooler_list_thread_entries", "List thread entries",
            "List entry headers (index, author, time, role, type, title, id) without bodies.",
            input(json!({"topic": topic_p, "offset": int("First entry index (default 0)"), "limit": int("Entries to return, 1-200 (default 50)")}), &["topic"]),
            Some(object(json!({"topic": {"type": "string"}, "total": {"type": "integer"}, "offset": {"type": "integer"}, "entries": {"type": "array", "items": entry_schema(false)}, "warnings": warnings_schema()}), &["topic", "total", "offset", "entries"])),
            annotations(true, true),
        ),
        tool(
            "watercooler_get_thread_entry", "Get one entry",
            "Get one entry with its body, by index or by entry_id (give exactly one).",
            input(json!({"topic": topic_p, "index": int("Entry index (0-based)"), "entry_id": s("The entry's Entry-ID")}), &["topic"]),
            Some(object(json!({"topic": {"type": "string"}, "entry": entry_schema(true), "warnings": warnings_schema()}), &["topic", "entry"])),
            annotations(true, true),
        ),
        tool(
            "watercooler_get_thread_entry_range", "Get a range of entries",
            "Get entries start_index..=end_index (inclusive) with their bodies.",
            input(json!({"topic": topic_p, "start_index": int("First index"), "end_index": int("Last index, inclusive")}), &["topic", "start_index", "end_index"]),
            Some(object(json!({"topic": {"type": "string"}, "total": {"type": "integer"}, "entries": {"type": "array", "items": entry_schema(true)}, "warnings": warnings_schema()}), &["topic", "total", "entries"])),
            annotations(true, true),
        ),
        tool(
            "watercooler_say", "Say",
            "Add an entry to a thread (creating it if needed) and pass the ball to your counterpart. Read the thread first.",
            input(json!({"topic": topic_p, "title": s("One-line title, up to 200 characters"), "body": s("Markdown body, up to 64 KiB"), "role": s("planner, critic, implementer, tester, pm or scribe (default implementer, or agent_func's role)"), "entry_type": s("Note, Plan, Decision, PR or Closure (default Note)"), "agent": agent_p, "entry_id": entry_id_p}), &["topic", "title", "body"]),
            Some(write_result_schema()),
            annotations(false, false),
        ),
        tool(
            "watercooler_ack", "Acknowledge",
            "Acknowledge a thread with a short entry; the ball does not move.",
            input(json!({"topic": topic_p, "title": s("Default \"Ack\""), "body": s("Default \"ack\""), "agent": agent_p, "entry_id": entry_id_p}), &["topic"]),
            Some(write_result_schema()),
            annotations(false, false),
        ),
        tool(
            "watercooler_handoff", "Hand off",
            "Pass the ball to target_agent (default: the current holder's counterpart) with a handoff entry.",
            input(json!({"topic": topic_p, "note": s("Handoff note (default \"handoff to <target>\")"), "target_agent": s("Who gets the ball, e.g. \"Codex\" or \"Codex (alice)\""), "agent": agent_p, "entry_id": entry_id_p}), &["topic"]),
            Some(write_result_schema()),
            annotations(false, false),
        ),
        tool(
            "watercooler_set_status", "Set status",
            "Set a thread's Status (stored uppercased), e.g. OPEN, IN_REVIEW, BLOCKED, CLOSED. Writes no entry.",
            input(json!({"topic": topic_p, "status": s("The new status"), "agent": agent_p}), &["topic", "status"]),
            Some(write_result_schema()),
            annotations(false, true),
        ),
        tool(
            "watercooler_sync", "Sync status",
            "Show whether every accepted write has reached git (status), flush queued writes at once (now), or put failed writes back in the queue (retry).",
            input(json!({"action": {"type": "string", "enum": ["status", "now", "retry"], "description": "status (default), now or retry"}}), &[]),
            Some(object(json!({
                "state": {"type": "string", "enum": ["synced", "pending", "stale", "failing"]},
                "pending": {"type": "integer"}, "failed": {"type": "integer"},
                "oldest_pending_age_ms": {"type": ["integer", "null"]}, "last_commit_at_ms": {"type": ["integer", "null"]},
                "last_error": nullable_string(), "retried": {"type": "integer"},
                "next_attempt_at_ms": {"type": ["integer", "null"]}, "github_wait_until_ms": {"type": ["integer", "null"]},
                "message": {"type": "string"},
            }), &["state", "pending", "failed"])),
            annotations(false, false),
        ),
        tool(
            "watercooler_reindex", "Thread index",
            "Summarise all threads grouped as open, in review and closed.",
            input(json!({}), &[]),
            Some(object(json!({"open": {"type": "array", "items": summary_schema()}, "in_review": {"type": "array", "items": summary_schema()}, "closed": {"type": "array", "items": summary_schema()}}), &["open", "in_review", "closed"])),
            annotations(true, true),
        ),
    ]
}

/// A tool's successful result: text for the model plus, when the tool declares an
/// output schema, the same data as `structuredContent`.
fn structured(text: Option<String>, data: Value) -> Value {
    let json_text = serde_json::to_string_pretty(&data).unwrap_or_default();
    let mut content = vec![];
    if let Some(t) = text {
        content.push(json!({"type": "text", "text": t}));
    }
    content.push(json!({"type": "text", "text": json_text}));
    json!({"content": content, "structuredContent": data})
}

fn text_result(text: String) -> Value {
    json!({"content": [{"type": "text", "text": text}]})
}

fn error_result(message: &str) -> Value {
    json!({"content": [{"type": "text", "text": message}], "isError": true})
}

/// Runs a tool. Unknown tools are a JSON-RPC error; everything else is a result,
/// with `isError` for bad arguments and failures.
pub async fn call<G: GitHost, C: Cache, K: Clock + Entropy, Q: WriteQueue>(
    app: &App<'_, G, C, K, Q>,
    who: &Principal,
    name: &str,
    args: Value,
) -> Result<Value, (i64, String)> {
    let def = definitions()
        .into_iter()
        .find(|d| d["name"] == name)
        .ok_or_else(|| {
            (
                jsonrpc::INVALID_PARAMS,
                format!("unknown tool {name:?}; call tools/list for the available tools"),
            )
        })?;
    let allowed: Vec<&str> = def["inputSchema"]["properties"]
        .as_object()
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let outcome = match JsonFields::from_value(args, &allowed) {
        Ok(f) => run(app, who, name, &f).await,
        Err(e) => Err(e),
    };
    Ok(match outcome {
        Ok(v) => v,
        Err(e) => error_result(&describe(name, &e)),
    })
}

/// An error message for the model: what went wrong and what to do.
fn describe(tool: &str, e: &ApiError) -> String {
    let mut m = format!("{tool} failed: {}", e.message);
    if let Some(s) = e.retry_after {
        m.push_str(&format!(" (retry after {s} s)"));
    }
    if let Some(id) = &e.entry_id {
        m.push_str(&format!(
            ". To retry without a duplicate, pass entry_id \"{id}\""
        ));
    }
    m
}

struct Caller {
    agent: Option<String>,
    role: Option<String>,
}

/// The agent and default role from `agent` or `agent_func`.
fn caller(f: &JsonFields) -> Result<Caller, ApiError> {
    let mut c = Caller {
        agent: f.opt_str("agent")?.map(str::to_string),
        role: None,
    };
    if let Some(func) = f.opt_str("agent_func")? {
        let parts: Vec<&str> = func.split(':').collect();
        let [platform, _model, role] = parts.as_slice() else {
            return Err(ApiError::new(
                400,
                "invalid_field",
                "agent_func: must look like platform:model:role, e.g. \"Claude:opus:planner\"",
            ));
        };
        if c.agent.is_none() && !platform.trim().is_empty() {
            c.agent = Some(platform.trim().to_string());
        }
        if !role.trim().is_empty() {
            c.role = Some(validate::label("agent_func role", role)?);
        }
    }
    Ok(c)
}

fn topic_arg(f: &JsonFields) -> Result<String, ApiError> {
    let t = f.req_str("topic")?;
    topic::validate(t)
        .map(str::to_string)
        .map_err(|e| ApiError::new(400, "invalid_topic", format!("topic: {e}")))
}

fn page_limit(f: &JsonFields, name: &str) -> Result<usize, ApiError> {
    match f.opt_u64(name)? {
        None => Ok(DEFAULT_PAGE as usize),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n as usize),
        Some(_) => Err(ApiError::new(
            400,
            "invalid_field",
            format!("{name}: must be from 1 to {MAX_PAGE}"),
        )),
    }
}

fn entry_json(e: &Entry, full: bool, view: &View) -> Value {
    let mut v = json!({
        "index": e.index, "author": e.author, "timestamp": e.timestamp, "role": e.role,
        "type": e.entry_type, "title": e.title, "entry_id": e.entry_id,
    });
    if full {
        v["body"] = json!(e.body);
    }
    v["pending"] = json!(e
        .entry_id
        .as_ref()
        .is_some_and(|id| view.pending_ids.contains(id)));
    v
}

/// Adds notes for the model when some of what it sees is not committed yet, or when
/// the thread reads differently to the watercooler tools and to this service.
fn pending_note(mut result: Value, view: &View) -> Value {
    if !view.reading.warnings.is_empty() {
        let note = format!(
            "Note: this thread was written by other tools in a way that CommonMark and the watercooler tools read differently; the entries are shown as the watercooler tools read them. Differences: {}",
            view.reading.warnings.join("; ")
        );
        if let Some(c) = result["content"].as_array_mut() {
            c.push(json!({"type": "text", "text": note}));
        }
        if result.get("structuredContent").is_some() {
            result["structuredContent"]["warnings"] = json!(view.reading.warnings);
        }
    }
    if view.pending > 0 {
        let note = format!(
            "Note: {} accepted change(s) on this thread are not committed to git yet (entries {}); they are shown as they will land.",
            view.pending,
            view.pending_ids.join(", ")
        );
        if let Some(c) = result["content"].as_array_mut() {
            c.push(json!({"type": "text", "text": note}));
        }
    }
    result
}

async fn run<G: GitHost, C: Cache, K: Clock + Entropy, Q: WriteQueue>(
    app: &App<'_, G, C, K, Q>,
    who: &Principal,
    name: &str,
    f: &JsonFields,
) -> Result<Value, ApiError> {
    match name {
        "watercooler_health" => {
            let c = app.config;
            Ok(structured(
                None,
                json!({"ok": true, "version": VERSION, "repo": format!("{}/{}", c.repo.owner, c.repo.name), "branch": c.repo.branch, "threads_dir": c.threads_dir}),
            ))
        }
        "watercooler_whoami" => {
            let c = caller(f)?;
            let agent = agent_for(c.agent.as_deref(), who)?;
            let author = agent.as_ref().map(|a| thread::agent::author(a, &who.user));
            Ok(structured(
                None,
                json!({"user": who.user, "agent": agent, "author": author, "can_write": who.can_write}),
            ))
        }
        "watercooler_list_threads" => list_threads(app, who, f).await,
        "watercooler_reindex" => reindex(app).await,
        "watercooler_sync" => sync(app, who, f).await,
        "watercooler_read_thread" => read_thread(app, f).await,
        "watercooler_list_thread_entries" => {
            let topic = topic_arg(f)?;
            let offset = f.opt_u64("offset")?.unwrap_or(0) as usize;
            let limit = page_limit(f, "limit")?;
            let view = thread_view(app, &topic).await?;
            let t = &view.reading.thread;
            let entries: Vec<Value> = t
                .entries
                .iter()
                .skip(offset)
                .take(limit)
                .map(|e| entry_json(e, false, &view))
                .collect();
            let text = entries_text(
                &topic,
                &t.entries
                    .iter()
                    .skip(offset)
                    .take(limit)
                    .collect::<Vec<_>>(),
                t.entries.len(),
            );
            Ok(pending_note(
                structured(
                    Some(text),
                    json!({"topic": topic, "total": t.entries.len(), "offset": offset, "entries": entries}),
                ),
                &view,
            ))
        }
        "watercooler_get_thread_entry" => {
            let topic = topic_arg(f)?;
            let view = thread_view(app, &topic).await?;
            let t = &view.reading.thread;
            let entry = match (f.opt_u64("index")?, f.opt_str("entry_id")?) {
                (Some(i), None) => t.entries.get(i as usize).ok_or_else(|| {
                    ApiError::new(
                        404,
                        "entry_not_found",
                        format!(
                            "index {i} is out of range: the thread has {} entries (0 to {})",
                            t.entries.len(),
                            t.entries.len().saturating_sub(1)
                        ),
                    )
                })?,
                (None, Some(id)) => t
                    .entries
                    .iter()
                    .find(|e| e.entry_id.as_deref() == Some(id))
                    .ok_or_else(|| {
                        ApiError::new(
                            404,
                            "entry_not_found",
                            format!(
                                "no entry with entry_id {id:?}; list_thread_entries shows the ids"
                            ),
                        )
                    })?,
                _ => {
                    return Err(ApiError::new(
                        400,
                        "invalid_field",
                        "give exactly one of index or entry_id",
                    ))
                }
            };
            Ok(pending_note(
                structured(
                    None,
                    json!({"topic": topic, "entry": entry_json(entry, true, &view)}),
                ),
                &view,
            ))
        }
        "watercooler_get_thread_entry_range" => {
            let topic = topic_arg(f)?;
            let start = f
                .opt_u64("start_index")?
                .ok_or_else(|| ApiError::new(400, "missing_field", "start_index: is required"))?
                as usize;
            let end = f
                .opt_u64("end_index")?
                .ok_or_else(|| ApiError::new(400, "missing_field", "end_index: is required"))?
                as usize;
            if end < start {
                return Err(ApiError::new(
                    400,
                    "invalid_field",
                    "end_index must be at least start_index",
                ));
            }
            if end - start >= MAX_PAGE as usize {
                return Err(ApiError::new(
                    400,
                    "invalid_field",
                    format!("at most {MAX_PAGE} entries at once"),
                ));
            }
            let view = thread_view(app, &topic).await?;
            let t = &view.reading.thread;
            if start >= t.entries.len() {
                return Err(ApiError::new(
                    404,
                    "entry_not_found",
                    format!(
                        "start_index {start} is out of range: the thread has {} entries",
                        t.entries.len()
                    ),
                ));
            }
            let entries: Vec<Value> = t.entries[start..=end.min(t.entries.len() - 1)]
                .iter()
                .map(|e| entry_json(e, true, &view))
                .collect();
            Ok(pending_note(
                structured(
                    None,
                    json!({"topic": topic, "total": t.entries.len(), "entries": entries}),
                ),
                &view,
            ))
        }
        "watercooler_say"
        | "watercooler_ack"
        | "watercooler_handoff"
        | "watercooler_set_status" => write(app, who, name, f).await,
        _ => Err(ApiError::new(
            400,
            "unknown_tool",
            format!("{name} is not implemented"),
        )),
    }
}

async fn sync<G: GitHost, C: Cache, K: Clock + Entropy, Q: WriteQueue>(
    app: &App<'_, G, C, K, Q>,
    who: &Principal,
    f: &JsonFields,
) -> Result<Value, ApiError> {
    let action = f.opt_str("action")?.unwrap_or("status");
    let data = sync_action(app, who, action).await?;
    let text = format!(
        "Sync: {} ({} pending, {} failed){}{}",
        data["state"].as_str().unwrap_or("?"),
        data["pending"],
        data["failed"],
        data["last_error"]
            .as_str()
            .map(|e| format!("; last error: {e}"))
            .unwrap_or_default(),
        data["message"]
            .as_str()
            .map(|m| format!(". {m}"))
            .unwrap_or_default()
    );
    Ok(structured(Some(text), data))
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

async fn read_thread<G: GitHost, C: Cache, K: Clock + Entropy, Q: WriteQueue>(
    app: &App<'_, G, C, K, Q>,
    f: &JsonFields,
) -> Result<Value, ApiError> {
    let topic = topic_arg(f)?;
    let as_json = match f.opt_str("format")? {
        None | Some("markdown") => false,
        Some("json") => true,
        Some(other) => {
            return Err(ApiError::new(
                400,
                "invalid_field",
                format!("format: must be \"markdown\" or \"json\", got {other:?}"),
            ))
        }
    };
    let from = f.opt_u64("from_entry")?.unwrap_or(0) as usize;
    let limit = f.opt_u64("limit")?.map(|n| n as usize);
    let view = thread_view(app, &topic).await?;
    let t = &view.reading.thread;
    let end = limit.map_or(t.entries.len(), |l| {
        from.saturating_add(l).min(t.entries.len())
    });
    let chosen = t
        .entries
        .get(from.min(t.entries.len())..end.max(from.min(t.entries.len())))
        .unwrap_or(&[]);
    if as_json {
        let data = json!({
            "topic": topic, "sha": view.sha, "pending": view.pending, "title": t.header.title, "status": t.header.status(), "ball": t.header.ball(),
            "total_entries": t.entries.len(), "from_entry": from,
            "entries": chosen.iter().map(|e| entry_json(e, true, &view)).collect::<Vec<_>>(),
        });
        return Ok(pending_note(
            json!({"content": [{"type": "text", "text": serde_json::to_string_pretty(&data).unwrap_or_default()}], "structuredContent": data}),
            &view,
        ));
    }
    if from == 0 && limit.is_none() {
        return Ok(pending_note(text_result(view.content.clone()), &view));
    }
    // The header, a note of what was left out, then the chosen entries as written.
    let header_end = t.entries.first().map_or(view.content.len(), |e| e.span.0);
    let mut md = view.content[..header_end].to_string();
    md.push_str(&format!(
        "<!-- showing entries {}..{} of {} -->\n\n",
        from,
        end.saturating_sub(1).max(from),
        t.entries.len()
    ));
    for e in chosen {
        md.push_str(&view.content[e.span.0..e.span.1]);
    }
    Ok(pending_note(text_result(md), &view))
}

fn section(s: &ThreadSummary, me: Option<&str>) -> &'static str {
    let mine = me.is_some_and(|m| s.ball.trim().eq_ignore_ascii_case(m));
    match (mine, s.new_for_ball) {
        (true, true) => "new_entries",
        (true, false) => "your_turn",
        _ => "waiting",
    }
}

async fn list_threads<G: GitHost, C: Cache, K: Clock + Entropy, Q: WriteQueue>(
    app: &App<'_, G, C, K, Q>,
    who: &Principal,
    f: &JsonFields,
) -> Result<Value, ApiError> {
    let c = caller(f)?;
    // Who "your turn" means; an agent name that does not validate shows no sections.
    let me = agent_for(c.agent.as_deref(), who)
        .ok()
        .flatten()
        .map(|a| thread::agent::author(&a, &who.user));
    let open_only = f.opt_bool("open_only")?.unwrap_or(true);
    let limit = page_limit(f, "limit")?;
    let offset = match f.opt_str("cursor")? {
        None => 0,
        Some(cur) => decode_cursor(cur).ok_or_else(|| {
            ApiError::new(
                400,
                "invalid_field",
                "cursor: not a cursor this server gave out; omit it to start from the first page",
            )
        })?,
    };
    let mut threads = crate::api::reads::thread_list(app).await?.threads;
    if open_only {
        threads.retain(|t| t.open);
    }
    let rank = |s: &str| match s {
        "new_entries" => 0,
        "your_turn" => 1,
        _ => 2,
    };
    threads.sort_by(|a, b| {
        rank(section(a, me.as_deref()))
            .cmp(&rank(section(b, me.as_deref())))
            .then_with(|| b.last_entry_at.cmp(&a.last_entry_at))
            .then_with(|| a.topic.cmp(&b.topic))
    });
    let total = threads.len();
    let page: Vec<&ThreadSummary> = threads.iter().skip(offset).take(limit).collect();
    let next = (offset + page.len() < total).then(|| encode_cursor(offset + page.len()));
    let mut text = String::new();
    for (key, heading) in [
        ("new_entries", "New entries for you"),
        ("your_turn", "Your turn"),
        ("waiting", "Waiting on others"),
    ] {
        let items: Vec<&&ThreadSummary> = page
            .iter()
            .filter(|t| section(t, me.as_deref()) == key)
            .collect();
        if items.is_empty() {
            continue;
        }
        text.push_str(&format!("## {heading} ({})\n", items.len()));
        for t in items {
            text.push_str(&format!(
                "- {} [{}] ball: {} — {} entries{}\n",
                t.topic,
                t.status,
                t.ball,
                t.entries,
                t.last_title
                    .as_deref()
                    .map(|l| format!(", last: {l} by {}", t.last_author.as_deref().unwrap_or("?")))
                    .unwrap_or_default()
            ));
        }
    }
    if text.is_empty() {
        text.push_str("No threads.\n");
    }
    if let Some(n) = &next {
        text.push_str(&format!(
            "\nMore threads: call again with cursor \"{n}\".\n"
        ));
    }
    let items: Vec<Value> = page
        .iter()
        .map(|t| {
            let mut v = serde_json::to_value(t).unwrap_or_default();
            v["section"] = json!(section(t, me.as_deref()));
            v
        })
        .collect();
    Ok(structured(
        Some(text),
        json!({"me": me, "total": total, "threads": items, "next_cursor": next}),
    ))
}

fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("o:")?
        .parse()
        .ok()
}

async fn reindex<G: GitHost, C: Cache, K: Clock + Entropy, Q: WriteQueue>(
    app: &App<'_, G, C, K, Q>,
) -> Result<Value, ApiError> {
    let threads = crate::api::reads::thread_list(app).await?.threads;
    let mut groups: Map<String, Value> = Map::new();
    let mut text = String::from("# Thread index\n");
    for (key, heading) in [
        ("open", "Open"),
        ("in_review", "In review"),
        ("closed", "Closed"),
    ] {
        let items: Vec<&ThreadSummary> = threads
            .iter()
            .filter(|t| {
                let review = t.status.eq_ignore_ascii_case("in_review")
                    || t.status.eq_ignore_ascii_case("in review");
                match key {
                    "open" => t.open && !review,
                    "in_review" => t.open && review,
                    _ => !t.open,
                }
            })
            .collect();
        text.push_str(&format!("\n## {heading} ({})\n", items.len()));
        for t in &items {
            text.push_str(&format!("- {} [{}] ball: {}\n", t.topic, t.status, t.ball));
        }
        groups.insert(key.into(), serde_json::to_value(items).unwrap_or_default());
    }
    Ok(structured(Some(text), Value::Object(groups)))
}

async fn write<G: GitHost, C: Cache, K: Clock + Entropy, Q: WriteQueue>(
    app: &App<'_, G, C, K, Q>,
    who: &Principal,
    name: &str,
    f: &JsonFields,
) -> Result<Value, ApiError> {
    require_write(who)?;
    let topic = topic_arg(f)?;
    let c = caller(f)?;
    let op = match name {
        "watercooler_say" => Operation::Say {
            title: validate::title("title", f.req_str("title")?)?,
            body: validate::body("body", f.req_str("body")?, false)?,
            role: match f.opt_str("role")? {
                Some(r) => validate::label("role", r)?,
                None => c
                    .role
                    .clone()
                    .unwrap_or_else(|| ops::DEFAULT_ROLE.to_string()),
            },
            entry_type: validate::label(
                "entry_type",
                f.opt_str("entry_type")?.unwrap_or(ops::DEFAULT_TYPE),
            )?,
        },
        "watercooler_ack" => Operation::Ack {
            title: f.opt_checked("title", validate::title)?,
            body: f.opt_checked("body", |n, v| validate::body(n, v, false))?,
        },
        "watercooler_handoff" => Operation::Handoff {
            target: handoff_target("target_agent", f.opt_str("target_agent")?, who)?,
            note: f.opt_checked("note", |n, v| validate::body(n, v, false))?,
        },
        _ => Operation::SetStatus {
            status: validate::status("status", f.req_str("status")?)?,
        },
    };
    let author: Author = author_for(c.agent.as_deref(), who, &op)?;
    let entry_id = f
        .opt_str("entry_id")?
        .map(|id| validate::entry_id("entry_id", id))
        .transpose()?;
    let done = commit(app, &topic, &author, &op, entry_id).await?;
    let header = done.content.as_deref().map(|c| thread::parse(c).header);
    let warnings = done.answer["warnings"].as_array().map(|w| {
        w.iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("; ")
    });
    let mut data = done.answer;
    data["topic"] = json!(topic);
    data["ball"] = json!(header.as_ref().and_then(|h| h.ball()));
    data["status"] = json!(header.as_ref().and_then(|h| h.status()));
    let text = match (done.status, &header) {
        (202, _) | (_, None) => format!(
            "Accepted and queued: {} on {topic} is stored and will be committed exactly once when GitHub allows (watercooler_sync shows progress). This is not an error.",
            op.kind()
        ),
        (status, Some(h)) => format!(
            "{}: {} on {topic}. Ball: {}. Status: {}.",
            if status == 201 { "Committed" } else { "Already there, nothing written" },
            op.kind(),
            h.ball().unwrap_or("-"),
            h.status().unwrap_or("-")
        ),
    };
    let text = match warnings {
        Some(w) => format!("{text} Note: the watercooler tools and CommonMark read this thread differently; entries are served as the tools read them. Differences: {w}"),
        None => text,
    };
    Ok(structured(Some(text), data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_a_valid_looking_schema() {
        let defs = definitions();
        assert_eq!(defs.len(), 13);
        for d in &defs {
            let name = d["name"].as_str().unwrap();
            assert!(
                name.len() <= 128
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
            );
            assert_eq!(d["inputSchema"]["type"], "object");
            assert_eq!(d["inputSchema"]["additionalProperties"], false);
            // Every tool accepts the local server's `code_path` and `agent_func`.
            for common in ["code_path", "agent_func"] {
                assert!(
                    d["inputSchema"]["properties"].get(common).is_some(),
                    "{name} lacks {common}"
                );
            }
            for key in ["readOnlyHint", "destructiveHint", "idempotentHint"] {
                assert!(d["annotations"][key].is_boolean(), "{name} {key}");
            }
            for r in d["inputSchema"]["required"].as_array().unwrap() {
                assert!(d["inputSchema"]["properties"]
                    .get(r.as_str().unwrap())
                    .is_some());
            }
        }
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(150)), Some(150));
        assert_eq!(decode_cursor("nope!"), None);
        assert_eq!(
            decode_cursor(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("x:1")),
            None
        );
    }
}
