//! The Responses API request body: the self-model as `instructions`, the conversation as
//! `input` items, tools in the Responses shape.

use std::collections::HashSet;

use serde_json::{json, Map, Value};

use crate::llm::openai::put_sampling;
use crate::llm::toolname::ToolNameMap;
use crate::llm::types::{ChatRequest, Message, ToolChoice, ToolDefinition};

/// The body of `POST {base}/responses` for `req`. Parameters in `dropped` (refused by the
/// server earlier this session, named as in Chat Completions) are left out. `strict` is each
/// function tool's strict-mode flag (see [`tools_json`]).
pub fn responses_body(
    req: &ChatRequest,
    names: &ToolNameMap,
    dropped: &HashSet<String>,
    strict: bool,
) -> Value {
    let o = &req.options;
    let mut body = Map::new();
    body.insert("model".into(), json!(req.model));
    if let Some(instructions) = instructions(&req.messages) {
        body.insert("instructions".into(), json!(instructions));
    }
    body.insert("input".into(), input_json(&req.messages, names));
    body.insert("max_output_tokens".into(), json!(o.max_tokens));
    body.insert("stream".into(), json!(!req.no_stream));
    // goshi keeps the conversation itself; reasoning travels back encrypted instead.
    body.insert("store".into(), json!(false));
    body.insert("include".into(), json!(["reasoning.encrypted_content"]));
    put_sampling(&mut body, dropped, o);
    let mut reasoning = serde_json::Map::new();
    if let Some(effort) = &o.reasoning_effort {
        if !dropped.contains("reasoning_effort") {
            reasoning.insert("effort".into(), json!(effort));
        }
    }
    if let Some(summary) = &o.reasoning_summary {
        if !dropped.contains("reasoning_summary") {
            reasoning.insert("summary".into(), json!(summary));
        }
    }
    if !reasoning.is_empty() {
        body.insert("reasoning".into(), Value::Object(reasoning));
    }
    if !req.tools.is_empty() {
        if let Some(p) = o.parallel_tool_calls {
            if !dropped.contains("parallel_tool_calls") {
                body.insert("parallel_tool_calls".into(), json!(p));
            }
        }
        body.insert("tools".into(), tools_json(&req.tools, names, strict));
        body.insert(
            "tool_choice".into(),
            tool_choice_json(&o.tool_choice, names),
        );
    }
    Value::Object(body)
}

/// Every system message's text, joined with blank lines; None when there is none.
fn instructions(messages: &[Message]) -> Option<String> {
    let parts: Vec<&str> = messages
        .iter()
        .filter_map(|m| match m {
            Message::System { content } => Some(content.as_str()),
            _ => None,
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

/// The `tools` array: `{"type":"function","name","description","parameters","strict"}`.
/// OpenAI's `FunctionTool` requires `strict`, and when it is left out the Responses API
/// switches strict mode on by itself (function-calling guide, checked 2026-11-30), so it is
/// always said; the parameter schemas are written in strict mode's form either way.
pub fn tools_json(tools: &[ToolDefinition], names: &ToolNameMap, strict: bool) -> Value {
    Value::Array(
        tools
            .iter()
            .map(|t| {
                json!({
                    "type": "function",
                    "name": names.wire(&t.name),
                    "description": t.description,
                    "parameters": t.parameters,
                    "strict": strict,
                })
            })
            .collect(),
    )
}

/// The `tool_choice` value.
pub fn tool_choice_json(choice: &ToolChoice, names: &ToolNameMap) -> Value {
    match choice {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::Required => json!("required"),
        ToolChoice::None => json!("none"),
        ToolChoice::Named(n) => json!({"type": "function", "name": names.wire(n)}),
    }
}

/// The `input` items. System messages travel as `instructions` instead; an assistant
/// message's opaque items come first, then its text, then its calls, as the model made them.
pub fn input_json(messages: &[Message], names: &ToolNameMap) -> Value {
    let mut items = Vec::new();
    for m in messages {
        match m {
            Message::System { .. } => {}
            Message::User { content } => items.push(json!({"role": "user", "content": content})),
            Message::Assistant {
                content,
                tool_calls,
                opaque,
            } => {
                items.extend(opaque.iter().cloned());
                if !content.is_empty() {
                    items.push(json!({"role": "assistant", "content": content}));
                }
                for c in tool_calls {
                    let arguments = c.wire_arguments();
                    items.push(json!({
                        "type": "function_call",
                        "call_id": c.id,
                        "name": names.wire(&c.name),
                        "arguments": arguments,
                    }));
                }
            }
            Message::Tool {
                tool_call_id,
                content,
                ..
            } => items.push(json!({
                "type": "function_call_output",
                "call_id": tool_call_id,
                "output": content,
            })),
        }
    }
    Value::Array(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::types::{RequestOptions, ToolCall};

    fn request() -> ChatRequest {
        ChatRequest {
            model: "gpt-5.1".into(),
            messages: vec![
                Message::system("be brief"),
                Message::system("use tools"),
                Message::user("read a"),
                Message::Assistant {
                    content: "reading".into(),
                    tool_calls: vec![ToolCall {
                        id: "call_1".into(),
                        name: "fs.read".into(),
                        arguments: String::new(),
                    }],
                    opaque: vec![
                        json!({"type": "reasoning", "id": "rs_1", "encrypted_content": "e"}),
                    ],
                },
                Message::tool("call_1", "fs.read", "contents"),
            ],
            tools: vec![ToolDefinition {
                name: "fs.read".into(),
                description: "Read a file".into(),
                parameters: json!({"type": "object"}),
            }],
            options: RequestOptions {
                max_tokens: 100,
                temperature: Some(0.5),
                reasoning_effort: Some("low".into()),
                parallel_tool_calls: Some(true),
                seed: Some(7),
                tool_choice: ToolChoice::Named("fs.read".into()),
                ..Default::default()
            },
            no_stream: false,
            prompt_cache_key: None,
        }
    }

    #[test]
    fn body_shape() {
        let req = request();
        let names = ToolNameMap::new(&req.tools);
        let b = responses_body(&req, &names, &HashSet::new(), true);
        assert_eq!(b["instructions"], "be brief\n\nuse tools");
        assert_eq!(b["max_output_tokens"], 100);
        assert_eq!(b["store"], false);
        assert_eq!(b["stream"], true);
        assert_eq!(b["reasoning"]["effort"], "low");
        assert_eq!(b["parallel_tool_calls"], true);
        assert_eq!(
            b["tool_choice"],
            json!({"type": "function", "name": "fs_read"})
        );
        assert_eq!(b["tools"][0]["name"], "fs_read");
        assert_eq!(b["tools"][0]["strict"], true);
        assert!(b.get("seed").is_none(), "the Responses API has no seed");
        let input = b["input"].as_array().unwrap();
        assert_eq!(input.len(), 5);
        assert_eq!(input[0], json!({"role": "user", "content": "read a"}));
        assert_eq!(input[1]["type"], "reasoning");
        assert_eq!(input[2], json!({"role": "assistant", "content": "reading"}));
        assert_eq!(input[3]["arguments"], "{}");
        assert_eq!(input[3]["name"], "fs_read");
        assert_eq!(input[4]["type"], "function_call_output");
        assert_eq!(input[4]["output"], "contents");
    }

    #[test]
    fn dropped_parameters_and_no_stream() {
        let mut req = request();
        req.no_stream = true;
        req.tools.clear();
        let dropped: HashSet<String> = ["temperature", "reasoning_effort"].map(String::from).into();
        let b = responses_body(&req, &ToolNameMap::new(&[]), &dropped, false);
        assert_eq!(b["stream"], false);
        assert!(b.get("temperature").is_none());
        assert!(b.get("reasoning").is_none());
        assert!(b.get("tools").is_none() && b.get("parallel_tool_calls").is_none());
    }

    #[test]
    fn a_reasoning_summary_is_asked_for_only_when_set_and_dropped_on_its_own() {
        let mut req = request();
        req.options.reasoning_summary = Some("auto".into());
        let names = ToolNameMap::new(&req.tools);
        let b = responses_body(&req, &names, &HashSet::new(), true);
        assert_eq!(b["reasoning"], json!({"effort": "low", "summary": "auto"}));
        let dropped: HashSet<String> = ["reasoning_summary".to_string()].into();
        let b = responses_body(&req, &names, &dropped, true);
        assert_eq!(b["reasoning"], json!({"effort": "low"}));
        req.options.reasoning_effort = None;
        let b = responses_body(&req, &names, &HashSet::new(), true);
        assert_eq!(b["reasoning"], json!({"summary": "auto"}));
    }
}
