//! The estimate against requests whose true prompt token counts were recorded.

use serde_json::json;

use super::*;
use crate::llm::{ChatRequest, Message, ToolDefinition};

fn weather_tool(required: &[&str]) -> ToolDefinition {
    ToolDefinition {
        name: "get_current_weather".into(),
        description: "Get the current weather in a given location".into(),
        parameters: json!({
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}
            },
            "required": required
        }),
    }
}

fn req(messages: Vec<Message>, tools: Vec<ToolDefinition>) -> ChatRequest {
    ChatRequest {
        model: "m".into(),
        messages,
        tools,
        ..Default::default()
    }
}

/// The recorded requests: OpenAI's own examples in its OpenAPI description
/// (../shared/openai-openapi/openapi.json, `x-oaiMeta` examples of `POST /chat/completions`
/// and `POST /responses`, read 2026-11-30), each with the `prompt_tokens` / `input_tokens`
/// the API reported. Image, file and hosted-tool examples are left out: goshi sends none.
fn corpus() -> Vec<(&'static str, ChatRequest, u64)> {
    vec![
        (
            "chat: developer + user",
            req(
                vec![
                    Message::system("You are a helpful assistant."),
                    Message::user("Hello!"),
                ],
                vec![],
            ),
            19,
        ),
        (
            "chat: function tool",
            req(
                vec![Message::user("What is the weather like in Boston today?")],
                vec![weather_tool(&["location"])],
            ),
            82,
        ),
        (
            "chat: logprobs",
            req(vec![Message::user("Hello!")], vec![]),
            9,
        ),
        (
            "responses: text input",
            req(
                vec![Message::user(
                    "Tell me a three sentence bedtime story about a unicorn.",
                )],
                vec![],
            ),
            36,
        ),
        (
            "responses: function tool",
            req(
                vec![Message::user("What is the weather like in Boston today?")],
                vec![weather_tool(&["location", "unit"])],
            ),
            291,
        ),
        (
            "responses: reasoning (o3-mini)",
            req(
                vec![Message::user("How much wood would a woodchuck chuck?")],
                vec![],
            ),
            81,
        ),
    ]
}

#[test]
fn never_below_the_recorded_count_by_more_than_five_percent() {
    for (name, r, truth) in corpus() {
        let est = prompt_tokens(&r);
        // est >= 0.95 * truth, in integers.
        assert!(
            est * 100 >= truth * 95,
            "{name}: estimated {est}, true {truth}"
        );
    }
}

#[test]
fn grows_with_every_part_of_the_request() {
    let base = prompt_tokens(&req(vec![Message::user("hi")], vec![]));
    assert!(prompt_tokens(&req(vec![Message::user("hi there")], vec![])) > base);
    let with_tool = prompt_tokens(&req(vec![Message::user("hi")], vec![weather_tool(&[])]));
    assert!(with_tool >= base + PER_TOOL);
    let call = Message::Assistant {
        content: String::new(),
        tool_calls: vec![crate::llm::ToolCall {
            id: "c1".into(),
            name: "fs.read".into(),
            arguments: "{\"path\":\"README.md\"}".into(),
        }],
        opaque: vec![],
    };
    let r = req(
        vec![
            Message::user("hi"),
            call,
            Message::tool("c1", "fs.read", "text"),
        ],
        vec![],
    );
    assert!(prompt_tokens(&r) > base + 2 * PER_MESSAGE);
    // Emoji and CJK count at least a token each.
    assert!(prompt_tokens(&req(vec![Message::user("😀😀😀😀")], vec![])) >= base + 8 - 1);
    assert!(prompt_tokens(&req(vec![Message::user("漢字漢字")], vec![])) >= base + 4 - 1);
}
