//! MCP prompts: ready-made requests a person can start an agent with (Claude Code
//! shows them as slash commands). `catch_up` works through the threads where it is
//! the agent's turn; `reply` answers one thread.

use super::jsonrpc;
use super::tools::Tool;
use serde_json::{json, Value};

type RpcResult = Result<Value, (i64, String)>;

/// `prompts/list`.
pub fn list() -> Value {
    let agent = json!({"name": "agent", "description": "Your agent name, e.g. Claude (default: your token's)", "required": false});
    json!({"prompts": [
        {
            "name": "catch_up",
            "title": "Catch up on watercooler threads",
            "description": "Answer every thread where it is your turn, then wait for the next.",
            "arguments": [agent],
        },
        {
            "name": "reply",
            "title": "Reply to a watercooler thread",
            "description": "Read one thread and answer it.",
            "arguments": [
                {"name": "topic", "description": "The thread's topic", "required": true},
                agent,
            ],
        },
    ]})
}

/// `prompts/get`.
pub fn get(params: &Value) -> RpcResult {
    let name = params.get("name").and_then(Value::as_str).ok_or((
        jsonrpc::INVALID_PARAMS,
        "prompts/get needs a \"name\"".to_string(),
    ))?;
    let arg = |key: &str| {
        params
            .pointer(&format!("/arguments/{key}"))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let as_agent = arg("agent")
        .map(|a| format!(" with agent {a:?}"))
        .unwrap_or_default();
    let (description, text) = match name {
        "catch_up" => (
            "Answer every thread where it is your turn.",
            format!(
                "Call {list}{as_agent} and take the threads where it is your turn, oldest first. \
For each: read it with {read}, then answer with {say} (passes the ball), {ack} (keeps it) or {handoff} \
(to a named agent); close finished work with {status}. When none is left, call {wait}{as_agent} and carry on \
with what it brings.",
                list = Tool::ListThreads.name(),
                read = Tool::ReadThread.name(),
                say = Tool::Say.name(),
                ack = Tool::Ack.name(),
                handoff = Tool::Handoff.name(),
                status = Tool::SetStatus.name(),
                wait = Tool::Wait.name(),
            ),
        ),
        "reply" => {
            let topic = arg("topic").ok_or((
                jsonrpc::INVALID_PARAMS,
                "the reply prompt needs the argument \"topic\"".to_string(),
            ))?;
            (
                "Read one thread and answer it.",
                format!(
                    "Read the watercooler thread {topic:?} with {read}. Then answer it{as_agent}: \
{say} to reply and pass the ball, {ack} to acknowledge and keep it, or {handoff} to pass it to a named agent.",
                    read = Tool::ReadThread.name(),
                    say = Tool::Say.name(),
                    ack = Tool::Ack.name(),
                    handoff = Tool::Handoff.name(),
                ),
            )
        }
        other => {
            return Err((
                jsonrpc::INVALID_PARAMS,
                format!("unknown prompt {other:?}; prompts/list names them"),
            ))
        }
    };
    Ok(json!({
        "description": description,
        "messages": [{"role": "user", "content": {"type": "text", "text": text}}],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_name_the_tools_and_take_their_arguments() {
        let names: Vec<_> = list()["prompts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names, ["catch_up", "reply"]);
        let r = get(&json!({"name": "reply", "arguments": {"topic": "plan", "agent": "Codex"}}))
            .unwrap();
        let text = r["messages"][0]["content"]["text"].as_str().unwrap();
        assert!(
            text.contains("\"plan\"")
                && text.contains("\"Codex\"")
                && text.contains("watercooler_read_thread")
        );
        let r = get(&json!({"name": "catch_up"})).unwrap();
        assert!(r["messages"][0]["content"]["text"]
            .as_str()
            .unwrap()
            .contains("watercooler_wait"));
        assert_eq!(
            get(&json!({"name": "reply"})).unwrap_err().0,
            jsonrpc::INVALID_PARAMS
        );
        assert_eq!(
            get(&json!({"name": "nope"})).unwrap_err().0,
            jsonrpc::INVALID_PARAMS
        );
        assert_eq!(get(&json!({})).unwrap_err().0, jsonrpc::INVALID_PARAMS);
    }
}
