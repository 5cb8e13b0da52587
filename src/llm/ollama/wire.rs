//! Our requests in the shape of Ollama's native `POST /api/chat`.

use serde_json::{json, Map, Value};

use crate::llm::chat_wire::{messages_json, tools_json, Dialect};
use crate::llm::toolname::ToolNameMap;
use crate::llm::types::{ChatRequest, RequestOptions};

/// The `/api/chat` body. `with_tools` is false when the model cannot call tools (or the
/// request's tool choice is `none`), in which case no `tools` field is sent.
pub fn chat_body(req: &ChatRequest, names: &ToolNameMap, with_tools: bool) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(req.model));
    body.insert(
        "messages".into(),
        messages_json(&req.messages, names, Dialect::OllamaNative),
    );
    // Ollama streams unless told not to, so say it either way.
    body.insert("stream".into(), json!(!req.no_stream));
    if with_tools && !req.tools.is_empty() {
        // Ollama's native API has no strict mode.
        body.insert("tools".into(), tools_json(&req.tools, names, false));
    }
    body.insert("options".into(), options_json(&req.options));
    Value::Object(body)
}

/// The `options` object: `num_predict` always, the sampling settings only when set.
/// Ollama has no tool choice or parallel-calls switch, so those are not sent.
pub fn options_json(o: &RequestOptions) -> Value {
    let mut opts = Map::new();
    opts.insert("num_predict".into(), json!(o.max_tokens));
    let set = [
        ("temperature", o.temperature.map(|v| json!(v))),
        ("frequency_penalty", o.frequency_penalty.map(|v| json!(v))),
        ("presence_penalty", o.presence_penalty.map(|v| json!(v))),
        ("seed", o.seed.map(|v| json!(v))),
    ];
    for (key, value) in set {
        if let Some(v) = value {
            opts.insert(key.into(), v);
        }
    }
    Value::Object(opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::types::{Message, ToolCall, ToolDefinition};

    #[test]
    fn body_shape_with_and_without_tools() {
        let defs = vec![ToolDefinition {
            name: "fs.read".into(),
            description: "Read a file".into(),
            parameters: json!({"type": "object"}),
        }];
        let names = ToolNameMap::new(&defs);
        let req = ChatRequest {
            model: "llama3.1:8b".into(),
            messages: vec![
                Message::system("sys"),
                Message::Assistant {
                    content: String::new(),
                    tool_calls: vec![
                        ToolCall {
                            id: "call_0".into(),
                            name: "fs.read".into(),
                            arguments: "{\"path\":\"a\"}".into(),
                        },
                        ToolCall {
                            id: "call_1".into(),
                            name: "fs.read".into(),
                            arguments: "not json".into(),
                        },
                    ],
                    opaque: vec![],
                },
                Message::tool("call_0", "fs.read", "contents"),
            ],
            tools: defs,
            options: RequestOptions {
                max_tokens: 64,
                temperature: Some(0.5),
                seed: Some(7),
                ..Default::default()
            },
            no_stream: false,
        };
        let b = chat_body(&req, &names, true);
        assert_eq!(b["stream"], true);
        assert_eq!(b["tools"][0]["function"]["name"], "fs_read");
        assert_eq!(
            b["options"],
            json!({"num_predict": 64, "temperature": 0.5, "seed": 7})
        );
        let calls = &b["messages"][1]["tool_calls"];
        assert_eq!(calls[0]["function"]["name"], "fs_read");
        assert_eq!(calls[0]["function"]["arguments"], json!({"path": "a"}));
        assert_eq!(calls[1]["function"]["arguments"], json!({}));
        assert_eq!(b["messages"][2]["tool_name"], "fs_read");
        assert_eq!(b["messages"][2]["tool_call_id"], "call_0");
        let b = chat_body(&req, &names, false);
        assert!(b.get("tools").is_none());
    }
}
