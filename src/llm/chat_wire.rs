//! The Chat Completions message and tool shape, written once for the two backends that take
//! it: OpenAI's `/chat/completions` (and every compatible server) and Ollama's native
//! `/api/chat`. What differs between them is a [`Dialect`]; everything else is shared.

use serde_json::{json, Map, Value};

use crate::llm::toolname::ToolNameMap;
use crate::llm::types::{Message, ToolCall, ToolDefinition};

/// Where the two servers that take the Chat Completions shape differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// OpenAI's Chat Completions: each tool call carries `"type": "function"` and its
    /// arguments as a JSON *text*; an assistant message that only calls tools has
    /// `content: null`; a tool result names its call only.
    ChatCompletions,
    /// Ollama's `/api/chat`: arguments as a JSON *object* (it rejects a string there), the
    /// assistant's content always a string, and a tool result also names its tool.
    OllamaNative,
}

/// The `tools` array: `{"type":"function","function":{name, description, parameters}}` with
/// wire-safe names. `strict` adds `"strict": true` to each function (OpenAI's strict mode;
/// the parameter schemas must then follow its rules).
pub fn tools_json(tools: &[ToolDefinition], names: &ToolNameMap, strict: bool) -> Value {
    Value::Array(
        tools
            .iter()
            .map(|t| {
                let mut function = Map::new();
                function.insert("name".into(), json!(names.wire(&t.name)));
                function.insert("description".into(), json!(t.description));
                function.insert("parameters".into(), t.parameters.clone());
                if strict {
                    function.insert("strict".into(), json!(true));
                }
                json!({"type": "function", "function": function})
            })
            .collect(),
    )
}

/// The `messages` array. Tool results follow the assistant message that carried the calls.
pub fn messages_json(messages: &[Message], names: &ToolNameMap, dialect: Dialect) -> Value {
    Value::Array(
        messages
            .iter()
            .map(|m| message_json(m, names, dialect))
            .collect(),
    )
}

fn message_json(m: &Message, names: &ToolNameMap, dialect: Dialect) -> Value {
    match m {
        Message::System { content } => json!({"role": "system", "content": content}),
        Message::User { content } => json!({"role": "user", "content": content}),
        Message::Assistant {
            content,
            tool_calls,
            ..
        } if tool_calls.is_empty() => json!({"role": "assistant", "content": content}),
        Message::Assistant {
            content,
            tool_calls,
            ..
        } => {
            let calls: Vec<Value> = tool_calls
                .iter()
                .map(|c| call_json(c, names, dialect))
                .collect();
            // OpenAI documents `content` as optional when there are tool calls; null says
            // "no text" without inventing an empty one. Ollama wants a string.
            let content = match dialect {
                Dialect::ChatCompletions if content.is_empty() => Value::Null,
                _ => json!(content),
            };
            json!({"role": "assistant", "content": content, "tool_calls": calls})
        }
        Message::Tool {
            tool_call_id,
            name,
            content,
        } => match dialect {
            Dialect::ChatCompletions => {
                json!({"role": "tool", "tool_call_id": tool_call_id, "content": content})
            }
            Dialect::OllamaNative => json!({
                "role": "tool",
                "content": content,
                "tool_name": names.wire(name),
                "tool_call_id": tool_call_id,
            }),
        },
    }
}

fn call_json(c: &ToolCall, names: &ToolNameMap, dialect: Dialect) -> Value {
    let name = names.wire(&c.name);
    match dialect {
        Dialect::ChatCompletions => json!({
            "id": c.id,
            "type": "function",
            "function": {"name": name, "arguments": c.wire_arguments()},
        }),
        Dialect::OllamaNative => json!({
            "id": c.id,
            "function": {"name": name, "arguments": c.wire_arguments_object()},
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation() -> (Vec<Message>, ToolNameMap) {
        let defs = vec![ToolDefinition {
            name: "fs.read".into(),
            description: "Read a file".into(),
            parameters: json!({"type": "object"}),
        }];
        let call = |id: &str, arguments: &str| ToolCall {
            id: id.into(),
            name: "fs.read".into(),
            arguments: arguments.into(),
        };
        let msgs = vec![
            Message::system("sys"),
            Message::user("hi"),
            Message::Assistant {
                content: String::new(),
                tool_calls: vec![call("call_0", "{\"path\":\"a\"}"), call("call_1", "nope")],
                opaque: vec![],
            },
            Message::tool("call_0", "fs.read", "contents"),
            Message::assistant("done"),
        ];
        (msgs, ToolNameMap::new(&defs))
    }

    #[test]
    fn chat_completions_dialect() {
        let (msgs, names) = conversation();
        let m = messages_json(&msgs, &names, Dialect::ChatCompletions);
        assert_eq!(m[0], json!({"role": "system", "content": "sys"}));
        assert_eq!(m[2]["content"], Value::Null);
        let calls = &m[2]["tool_calls"];
        assert_eq!(calls[0]["type"], "function");
        assert_eq!(calls[0]["function"]["name"], "fs_read");
        assert_eq!(calls[0]["function"]["arguments"], "{\"path\":\"a\"}");
        assert_eq!(calls[1]["function"]["arguments"], "{}");
        assert_eq!(
            m[3],
            json!({"role": "tool", "tool_call_id": "call_0", "content": "contents"})
        );
        assert_eq!(m[4], json!({"role": "assistant", "content": "done"}));
    }

    #[test]
    fn ollama_dialect() {
        let (msgs, names) = conversation();
        let m = messages_json(&msgs, &names, Dialect::OllamaNative);
        assert_eq!(m[2]["content"], "");
        let calls = &m[2]["tool_calls"];
        assert!(calls[0].get("type").is_none());
        assert_eq!(calls[0]["function"]["arguments"], json!({"path": "a"}));
        assert_eq!(calls[1]["function"]["arguments"], json!({}));
        assert_eq!(m[3]["tool_name"], "fs_read");
        assert_eq!(m[3]["tool_call_id"], "call_0");
    }

    #[test]
    fn tools_with_and_without_strict() {
        let (_, names) = conversation();
        let defs = vec![ToolDefinition {
            name: "fs.read".into(),
            description: "Read a file".into(),
            parameters: json!({"type": "object"}),
        }];
        let t = tools_json(&defs, &names, false);
        assert_eq!(t[0]["type"], "function");
        assert_eq!(t[0]["function"]["name"], "fs_read");
        assert!(t[0]["function"].get("strict").is_none());
        let t = tools_json(&defs, &names, true);
        assert_eq!(t[0]["function"]["strict"], true);
    }
}
