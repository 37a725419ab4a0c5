//! The watercooler tools: names, parameters and results compatible with the local
//! watercooler MCP server. Each tool is defined once, beside its handler: a [`Spec`]
//! (name, title, description, hints, argument and output types). [`Tool::ALL`] is the
//! one list that `tools/list` and `tools/call` both come from.

pub mod args;
mod events;
mod info;
mod reads;
mod writes;

use super::jsonrpc;
use crate::auth::Principal;
use crate::http::json::JsonFields;
#[cfg(test)]
use crate::schema::Schema;
use crate::service::View;
use crate::service::{Effects, ErrorCode, Service, ServiceError};
use serde_json::{json, Value};

/// Everything `tools/list` says about a tool.
pub struct Spec {
    /// The tool's name, the only place it is written.
    pub name: &'static str,
    /// A short title.
    pub title: &'static str,
    /// What it does, for the model.
    pub description: &'static str,
    /// It changes nothing.
    pub read_only: bool,
    /// Calling it twice is calling it once.
    pub idempotent: bool,
    /// The argument type's schema.
    pub input: fn() -> Value,
    /// The output type's schema (none: text only).
    pub output: Option<fn() -> Value>,
    /// The argument type's fields.
    pub fields: &'static [&'static str],
}

/// The tools, in the order `tools/list` shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// Is the server up.
    Health,
    /// Who the token is.
    Whoami,
    /// Threads in sections for the caller.
    ListThreads,
    /// A thread as markdown or JSON.
    ReadThread,
    /// Entry headers.
    ListThreadEntries,
    /// One entry.
    GetThreadEntry,
    /// A range of entries.
    GetThreadEntryRange,
    /// Append and pass the ball.
    Say,
    /// Append; the ball stays.
    Ack,
    /// Pass the ball.
    Handoff,
    /// Set the Status line.
    SetStatus,
    /// The writer's state.
    Sync,
    /// Threads grouped by status.
    Reindex,
    /// Wait for events.
    Wait,
    /// Full-text search.
    Search,
}

impl Tool {
    /// Every tool.
    pub const ALL: [Tool; 15] = [
        Tool::Health,
        Tool::Whoami,
        Tool::ListThreads,
        Tool::ReadThread,
        Tool::ListThreadEntries,
        Tool::GetThreadEntry,
        Tool::GetThreadEntryRange,
        Tool::Say,
        Tool::Ack,
        Tool::Handoff,
        Tool::SetStatus,
        Tool::Sync,
        Tool::Reindex,
        Tool::Wait,
        Tool::Search,
    ];

    /// Its definition.
    pub fn spec(self) -> &'static Spec {
        match self {
            Tool::Health => &info::HEALTH,
            Tool::Whoami => &info::WHOAMI,
            Tool::ListThreads => &info::LIST_THREADS,
            Tool::ReadThread => &reads::READ_THREAD,
            Tool::ListThreadEntries => &reads::LIST_THREAD_ENTRIES,
            Tool::GetThreadEntry => &reads::GET_THREAD_ENTRY,
            Tool::GetThreadEntryRange => &reads::GET_THREAD_ENTRY_RANGE,
            Tool::Say => &writes::SAY,
            Tool::Ack => &writes::ACK,
            Tool::Handoff => &writes::HANDOFF,
            Tool::SetStatus => &writes::SET_STATUS,
            Tool::Sync => &info::SYNC,
            Tool::Reindex => &info::REINDEX,
            Tool::Wait => &events::WAIT,
            Tool::Search => &events::SEARCH,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// As `tools/list` shows it.
    pub fn definition(self) -> Value {
        let s = self.spec();
        let mut t = json!({
            "name": s.name, "title": s.title, "description": s.description,
            "inputSchema": (s.input)(),
            "annotations": {"readOnlyHint": s.read_only, "destructiveHint": false, "idempotentHint": s.idempotent, "openWorldHint": false},
        });
        if let Some(o) = s.output {
            // The shape is for clients to check results; the model reads the
            // result itself, so the schema goes without its descriptions.
            t["outputSchema"] = without_descriptions(o());
        }
        t
    }

    async fn run<E: Effects>(
        self,
        cx: &Ctx<'_, '_, E>,
        f: &JsonFields,
    ) -> Result<Value, ServiceError> {
        match self {
            Tool::Health => info::health(cx, f),
            Tool::Whoami => info::whoami(cx, f),
            Tool::ListThreads => info::list_threads(cx, f).await,
            Tool::ReadThread => reads::read_thread(cx, f).await,
            Tool::ListThreadEntries => reads::list_thread_entries(cx, f).await,
            Tool::GetThreadEntry => reads::get_thread_entry(cx, f).await,
            Tool::GetThreadEntryRange => reads::get_thread_entry_range(cx, f).await,
            Tool::Say | Tool::Ack | Tool::Handoff | Tool::SetStatus => {
                writes::write(cx, self, f).await
            }
            Tool::Sync => info::sync(cx, f).await,
            Tool::Reindex => info::reindex(cx, f).await,
            Tool::Wait => events::wait(cx, f).await,
            Tool::Search => events::search(cx, f).await,
        }
    }
}

/// A JSON Schema without its `description`s (a property that happens to be called
/// "description" stays).
fn without_descriptions(mut v: Value) -> Value {
    if let Value::Object(o) = &mut v {
        o.remove("description");
        for (key, x) in o.iter_mut() {
            *x = match (key.as_str(), std::mem::take(x)) {
                ("properties", Value::Object(props)) => Value::Object(
                    props
                        .into_iter()
                        .map(|(name, schema)| (name, without_descriptions(schema)))
                        .collect(),
                ),
                (_, Value::Array(items)) => {
                    Value::Array(items.into_iter().map(without_descriptions).collect())
                }
                (_, other) => without_descriptions(other),
            };
        }
    }
    v
}

/// Every tool, as `tools/list` shows it.
pub fn definitions() -> Vec<Value> {
    Surface::all().definitions()
}

/// The tools one connection is offered: what its token may use, narrowed by what
/// the client asked for (`tools` / `X-MCP-Tools`, `X-MCP-Readonly`). The token's
/// limits are an upper bound on what a client can ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Surface {
    /// Listed by `tools/list`, in [`Tool::ALL`] order.
    pub listed: Vec<Tool>,
    /// The client narrowed the surface: `tools/call` takes only these.
    pub narrowed: bool,
}

impl Surface {
    /// Every tool.
    pub fn all() -> Surface {
        Surface {
            listed: Tool::ALL.to_vec(),
            narrowed: false,
        }
    }

    /// The surface of a token (`can_write`) and what the client asked for: `readonly`
    /// (`true`/`1` or `false`/`0`) and `asked` (comma-separated tool names, with or
    /// without the `watercooler_` prefix). `Err` says what to send instead.
    pub fn of(
        can_write: bool,
        readonly: Option<&str>,
        asked: Option<&str>,
    ) -> Result<Surface, String> {
        let readonly = match readonly.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("0") | Some("false") => false,
            Some("1") | Some("true") => true,
            Some(other) => {
                return Err(format!(
                    "X-MCP-Readonly must be true or false, got {other:?}"
                ))
            }
        };
        let asked: Option<Vec<Tool>> = match asked.map(str::trim).filter(|a| !a.is_empty()) {
            None => None,
            Some(list) => Some(
                list.split(',')
                    .map(|n| {
                        let n = n.trim();
                        Tool::ALL
                            .into_iter()
                            .find(|t| {
                                t.name() == n || t.name().strip_prefix("watercooler_") == Some(n)
                            })
                            .ok_or_else(|| {
                                let names: Vec<&str> = Tool::ALL.iter().map(|t| t.name()).collect();
                                format!(
                                    "unknown tool {n:?} in the tools list; the tools are {}",
                                    names.join(", ")
                                )
                            })
                    })
                    .collect::<Result<_, _>>()?,
            ),
        };
        let writes = can_write && !readonly;
        let listed = Tool::ALL
            .into_iter()
            .filter(|t| writes || t.spec().read_only)
            .filter(|t| asked.as_ref().is_none_or(|a| a.contains(t)))
            .collect();
        Ok(Surface {
            listed,
            narrowed: asked.is_some() || readonly,
        })
    }

    /// Its tools, as `tools/list` shows them.
    pub fn definitions(&self) -> Vec<Value> {
        self.listed.iter().map(|t| t.definition()).collect()
    }

    /// Whether `tools/call` takes `tool`: any tool, unless the client narrowed the
    /// surface (a read-only token's write tools are called, and answer why not).
    pub fn offers(&self, tool: Tool) -> bool {
        !self.narrowed || self.listed.contains(&tool)
    }
}

/// What a tool is called with.
pub struct Ctx<'a, 's, E: Effects> {
    /// The service.
    pub svc: &'a Service<'s, E>,
    /// Who calls.
    pub who: &'a Principal,
}

/// Runs a tool. Unknown tools are a JSON-RPC error; everything else is a result,
/// with `isError` for bad arguments and failures.
pub async fn call<E: Effects>(
    svc: &Service<'_, E>,
    who: &Principal,
    surface: &Surface,
    name: &str,
    args: Value,
) -> Result<Value, (i64, String)> {
    let tool = Tool::ALL
        .into_iter()
        .find(|t| t.name() == name && surface.offers(*t))
        .ok_or_else(|| {
            (
                jsonrpc::INVALID_PARAMS,
                format!(
                    "unknown tool {name:?}; call tools/list for the tools this connection offers"
                ),
            )
        })?;
    let cx = Ctx { svc, who };
    let outcome = match JsonFields::from_value(args, tool.spec().fields) {
        Ok(f) => tool.run(&cx, &f).await,
        Err(e) => Err(e),
    };
    Ok(match outcome {
        Ok(v) => v,
        Err(e) => error_result(&describe(name, &e)),
    })
}

/// A tool's successful result: text for the model plus, when the tool declares an
/// output schema, the same data as `structuredContent`.
fn structured(text: Option<String>, data: impl serde::Serialize) -> Value {
    let data = serde_json::to_value(data).unwrap_or_default();
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

/// An error message for the model: what went wrong and what to do.
fn describe(tool: &str, e: &ServiceError) -> String {
    let mut m = format!("{tool} failed: {}", e.message);
    if let Some(s) = e.retry_after {
        m.push_str(&format!(" (retry after {s} s)"));
    }
    if let Some(id) = &e.entry_id {
        m.push_str(&format!(
            ". To retry without a duplicate, pass entry_id \"{id}\""
        ));
    }
    if let Some(c) = &e.cursor {
        m.push_str(&format!(" (cursor \"{c}\")"));
    }
    m
}

/// Who the caller acts as: from `agent`, or `agent_func` (platform:model:role).
struct Caller {
    agent: Option<String>,
    role: Option<String>,
}

fn caller(agent: Option<String>, f: &JsonFields) -> Result<Caller, ServiceError> {
    let mut c = Caller { agent, role: None };
    if let Some(func) = f.opt_str("agent_func")? {
        let parts: Vec<&str> = func.split(':').collect();
        let [platform, _model, role] = parts.as_slice() else {
            return Err(ServiceError::field(
                "agent_func",
                "must look like platform:model:role, e.g. \"Claude:opus:planner\"",
            ));
        };
        if c.agent.is_none() && !platform.trim().is_empty() {
            c.agent = Some(platform.trim().to_string());
        }
        if !role.trim().is_empty() {
            c.role = Some(crate::service::input::label("agent_func role", role)?);
        }
    }
    Ok(c)
}

/// Most items a page shows.
const MAX_PAGE: u64 = 200;
const DEFAULT_PAGE: u64 = 50;

fn page_limit(name: &str, v: Option<u64>) -> Result<usize, ServiceError> {
    match v {
        None => Ok(DEFAULT_PAGE as usize),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n as usize),
        Some(_) => Err(ServiceError::field(
            name,
            format!("must be from 1 to {MAX_PAGE}"),
        )),
    }
}

fn not_found(message: String) -> ServiceError {
    ServiceError::new(ErrorCode::EntryNotFound, message)
}

/// Adds notes for the model when some of what it sees is not committed yet, or when
/// the thread reads differently to the watercooler tools and to this service.
fn with_notes(mut result: Value, view: &View) -> Value {
    let mut notes = vec![];
    if !view.reading.warnings.is_empty() {
        notes.push(format!(
            "Note: this thread was written by other tools in a way that CommonMark and the watercooler tools read differently; the entries are shown as the watercooler tools read them. Differences: {}",
            view.reading.warnings.join("; ")
        ));
        if result.get("structuredContent").is_some() {
            result["structuredContent"]["warnings"] = json!(view.reading.warnings);
        }
    }
    if view.pending > 0 {
        notes.push(format!(
            "Note: {} accepted change(s) on this thread are not committed to git yet (entries {}); they are shown as they will land.",
            view.pending,
            view.pending_ids.join(", ")
        ));
    }
    if let Some(c) = result["content"].as_array_mut() {
        c.extend(
            notes
                .into_iter()
                .map(|n| json!({"type": "text", "text": n})),
        );
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `tools/list` costs a client's context: bytes, and about a quarter as
    /// many tokens. The README reports these figures; this keeps them from creeping.
    #[test]
    fn the_tool_list_stays_lean() {
        let bytes = |s: &Surface| json!({"tools": s.definitions()}).to_string().len();
        let all = bytes(&Surface::all());
        let read = bytes(&Surface::of(false, None, None).unwrap());
        let one = bytes(&Surface::of(true, None, Some("wait")).unwrap());
        let mut annotated = Surface::all().definitions();
        annotated
            .iter_mut()
            .for_each(crate::http::mcp::modern::annotate);
        let modern = json!({ "tools": annotated }).to_string().len();
        println!(
            "tools/list: all {all} bytes (~{} tokens; 2026-07-28 with x-mcp-header {modern}), read-only {read} (~{}), one tool {one}",
            all / 4,
            read / 4
        );
        assert!(all < 23_000, "{all} bytes");
        assert!(modern < all + 400, "{modern} bytes");
        assert!(read < all * 2 / 3, "{read} of {all}");
        assert!(one < 3_000, "{one}");
        // Output schemas keep their shape, without the descriptions.
        let say = Tool::Say.definition();
        assert!(say["outputSchema"]["properties"]["commit_sha"].is_object());
        assert!(!say["outputSchema"].to_string().contains("\"description\""));
    }

    #[test]
    fn every_tool_has_a_valid_looking_schema() {
        let defs = definitions();
        assert_eq!(defs.len(), 15);
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
            for common in args::COMMON {
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
            // Every property the schema names is a field the parser takes.
            let fields = Tool::ALL
                .iter()
                .find(|t| t.name() == name)
                .unwrap()
                .spec()
                .fields;
            for p in d["inputSchema"]["properties"].as_object().unwrap().keys() {
                assert!(fields.contains(&p.as_str()), "{name}: {p}");
            }
        }
        // Names are unique.
        let mut names: Vec<&str> = Tool::ALL.iter().map(|t| t.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Tool::ALL.len());
    }

    #[test]
    fn output_schemas_match_what_the_tools_return() {
        let summary = crate::store::ThreadSummary::schema();
        assert_eq!(summary["properties"]["entries"]["type"], "integer");
        assert_eq!(
            summary["properties"]["last_title"]["type"],
            json!(["string", "null"])
        );
        let out = reads::EntryOut::schema();
        assert!(
            out["properties"].get("type").is_some(),
            "raw identifiers lose their r#"
        );
        assert!(out["required"].as_array().unwrap().contains(&json!("type")));
    }
}
