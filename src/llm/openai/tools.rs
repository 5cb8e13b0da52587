//! Our messages and tool definitions in OpenAI's Chat Completions shape.

use serde_json::{json, Value};

use crate::llm::toolname::ToolNameMap;
use crate::llm::types::{Message, ToolChoice, ToolDefinition};

/// The `tools` array: `{"type":"function","function":{name, description, parameters}}`.
pub fn tools_json(tools: &[ToolDefinition], names: &ToolNameMap) -> Value {
    crate::llm::toolname::function_tools_json(tools, names)
}

/// The `tool_choice` value.
pub fn tool_choice_json(choice: &ToolChoice, names: &ToolNameMap) -> Value {
    match choice {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::Required => json!("required"),
        ToolChoice::None => json!("none"),
        ToolChoice::Named(n) => json!({"type": "function", "function": {"name": names.wire(n)}}),
    }
}

/// The `messages` array. Tool results follow the assistant message that carried the calls.
pub fn messages_json(messages: &[Message], names: &ToolNameMap) -> Value {
    Value::Array(
        messages
            .iter()
            .map(|m| match m {
                Message::System { content } => json!({"role": "system", "content": content}),
                Message::User { content } => json!({"role": "user", "content": content}),
                Message::Assistant {
                    content,
                    tool_calls,
                    ..
                } => {
                    if tool_calls.is_empty() {
                        json!({"role": "assistant", "content": content})
                    } else {
                        let calls: Vec<Value> = tool_calls
                            .iter()
                            .map(|c| {
                                json!({
                                    "id": c.id,
                                    "type": "function",
                                    "function": {
                                        "name": names.wire(&c.name),
                                        "arguments": wire_arguments(&c.arguments),
                                    }
                                })
                            })
                            .collect();
                        let content = if content.is_empty() {
                            Value::Null
                        } else {
                            json!(content)
                        };
                        json!({"role": "assistant", "content": content, "tool_calls": calls})
                    }
                }
                Message::Tool {
                    tool_call_id,
                    content,
                    ..
                } => json!({"role": "tool", "tool_call_id": tool_call_id, "content": content}),
            })
            .collect(),
    )
}

/// The arguments as sent back in the history: the model's own text when it is a JSON
/// object, else `{}`, so a server that parses them does not reject the follow-up request
/// (the tool result already told the model what was wrong).
pub(crate) fn wire_arguments(arguments: &str) -> String {
    match serde_json::from_str::<Value>(arguments) {
        Ok(Value::Object(_)) => arguments.to_string(),
        _ => "{}".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::types::ToolCall;

    #[test]
    fn tool_round_trip_shape() {
        let defs = vec![ToolDefinition {
            name: "fs.read".into(),
            description: "Read a file".into(),
            parameters: json!({"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}),
        }];
        let names = ToolNameMap::new(&defs);
        let t = tools_json(&defs, &names);
        assert_eq!(t[0]["type"], "function");
        assert_eq!(t[0]["function"]["name"], "fs_read");
        assert_eq!(t[0]["function"]["parameters"]["required"][0], "path");
        assert_eq!(
            tool_choice_json(&ToolChoice::Named("fs.read".into()), &names)["function"]["name"],
            "fs_read"
        );
        let msgs = vec![
            Message::system("sys"),
            Message::user("hi"),
            Message::Assistant {
                content: String::new(),
                tool_calls: vec![ToolCall {
                    id: "call_1".into(),
                    name: "fs.read".into(),
                    arguments: "{\"path\":\"a\"}".into(),
                }],
                opaque: vec![],
            },
            Message::tool("call_1", "fs.read", "contents"),
        ];
        let m = messages_json(&msgs, &names);
        assert_eq!(m[0]["role"], "system");
        assert_eq!(m[2]["content"], Value::Null);
        assert_eq!(m[2]["tool_calls"][0]["function"]["name"], "fs_read");
        assert_eq!(m[3]["role"], "tool");
        assert_eq!(m[3]["tool_call_id"], "call_1");
    }
}
