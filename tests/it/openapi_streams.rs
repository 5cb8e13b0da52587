//! The other direction of `openapi_conformance.rs`: every streaming event type OpenAI's API
//! description defines for the Responses API (`ResponseStreamEvent`) and every Chat
//! Completions chunk shape, built from the description itself, goes through goshi's
//! decoders and is either handled or skipped, never a decoding error. Events that report a
//! failure (`error`, `response.failed`) are handled by becoming goshi's error.

use crate::support;

use std::collections::VecDeque;

use goshi::llm::backend::WireDecoder;
use goshi::llm::openai::responses::{response_events, ResponsesStreamDecoder};
use goshi::llm::openai::stream::{completion_events, ChatStreamDecoder};
use goshi::llm::toolname::ToolNameMap;
use goshi::llm::{LlmError, StreamEvent};
use serde_json::{json, Value};
use support::openapi::{assert_conforms, example, example_of, schema, source, union_members};

type Out = VecDeque<Result<StreamEvent, LlmError>>;

/// The event types whose job is to report a failure: goshi turns them into its error.
const FAILURES: [&str; 2] = ["error", "response.failed"];

fn sse(event: &Value) -> String {
    let kind = event["type"].as_str().unwrap_or("message");
    format!("event: {kind}\ndata: {event}\n\n")
}

/// Feeds `wire` to `decoder` and ends the stream.
fn decode(mut decoder: impl WireDecoder, wire: &str) -> Out {
    let mut out = Out::new();
    decoder.feed(wire.as_bytes(), &mut out);
    decoder.finish(&mut out);
    out
}

fn errors(out: &Out) -> Vec<String> {
    out.iter()
        .filter_map(|r| r.as_ref().err().map(ToString::to_string))
        .collect()
}

#[test]
fn every_responses_stream_event_is_handled_or_skipped() {
    let members = union_members("ResponseStreamEvent");
    assert!(
        members.len() > 40,
        "{} members only ({})",
        members.len(),
        source()
    );
    // The examples name item "x" at output index 0: make that a function call the decoder
    // knows, so that argument events have a call to belong to.
    let context = [
        json!({"type": "response.created", "response": {"id": "r", "status": "in_progress"}}),
        json!({"type": "response.output_item.added", "output_index": 0, "item": {
            "type": "function_call", "id": "x", "call_id": "x", "name": "x", "arguments": ""}}),
    ];
    let completed = json!({"type": "response.completed", "response": {"id": "r",
        "status": "completed", "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}}});
    let mut seen = Vec::new();
    for name in &members {
        let event = example(name);
        // One validator for the union keeps this fast; the example must be one of them.
        assert_conforms(
            "ResponseStreamEvent",
            &format!("the example built for {name}"),
            &event,
        );
        let kind = event["type"].as_str().unwrap_or_default().to_string();
        let wire: String = context
            .iter()
            .chain([&event, &completed])
            .map(sse)
            .collect();
        let out = decode(ResponsesStreamDecoder::new(ToolNameMap::default()), &wire);
        let errs = errors(&out);
        if FAILURES.contains(&kind.as_str()) {
            assert_eq!(
                errs.len(),
                1,
                "{name} ({kind}) must end in goshi's error: {out:?}"
            );
        } else {
            assert!(
                errs.is_empty(),
                "{name} ({kind}) broke the stream: {errs:?} ({})",
                source()
            );
        }
        seen.push(kind);
    }
    for kind in [
        "response.output_text.delta",
        "response.function_call_arguments.delta",
        "error",
    ] {
        assert!(
            seen.iter().any(|k| k == kind),
            "{kind} not in the description ({})",
            source()
        );
    }
}

/// Every chunk shape the description allows: each delta field, each role, each finish
/// reason, log probabilities, and the usage chunk with no choices.
fn chat_chunks() -> Vec<Value> {
    let base = example("CreateChatCompletionStreamResponse");
    let chunk = |choice: Value| {
        let mut c = base.clone();
        c["choices"] = json!([choice]);
        c
    };
    let choice =
        |delta: Value, finish: Value| json!({"index": 0, "delta": delta, "finish_reason": finish});
    let delta_schema = schema("ChatCompletionStreamResponseDelta");
    let mut out = Vec::new();
    let props = delta_schema["properties"].as_object().unwrap();
    for (field, prop) in props {
        let value = match field.as_str() {
            "tool_calls" => json!([example("ChatCompletionMessageToolCallChunk")]),
            "role" => {
                for role in prop["enum"].as_array().unwrap() {
                    out.push(chunk(choice(json!({"role": role}), Value::Null)));
                }
                continue;
            }
            _ => example_of(prop),
        };
        out.push(chunk(choice(json!({ field: value }), Value::Null)));
    }
    let choice_schema =
        &schema("CreateChatCompletionStreamResponse")["properties"]["choices"]["items"];
    for reason in choice_schema["properties"]["finish_reason"]["enum"]
        .as_array()
        .unwrap()
    {
        if !reason.is_null() {
            out.push(chunk(choice(json!({}), reason.clone())));
        }
    }
    let mut with_logprobs = choice(json!({"content": "x"}), Value::Null);
    with_logprobs["logprobs"] =
        json!({"content": [example("ChatCompletionTokenLogprob")], "refusal": null});
    out.push(chunk(with_logprobs));
    let mut usage = base.clone();
    usage["choices"] = json!([]);
    usage["usage"] = example("CompletionUsage");
    out.push(usage);
    out
}

#[test]
fn every_chat_completions_chunk_shape_is_handled_or_skipped() {
    let chunks = chat_chunks();
    assert!(
        chunks.len() > 10,
        "{} chunk shapes ({})",
        chunks.len(),
        source()
    );
    for c in &chunks {
        assert_conforms(
            "CreateChatCompletionStreamResponse",
            "the chunk built for it",
            c,
        );
        let wire = format!("data: {c}\n\ndata: [DONE]\n\n");
        let out = decode(ChatStreamDecoder::new(ToolNameMap::default()), &wire);
        let errs = errors(&out);
        assert!(
            errs.is_empty(),
            "chunk {c} broke the stream: {errs:?} ({})",
            source()
        );
    }
}

#[test]
fn whole_answers_built_from_the_description_decode() {
    let mut completion = example("CreateChatCompletionResponse");
    let choice = &schema("CreateChatCompletionResponse")["properties"]["choices"]["items"];
    completion["choices"] = json!([example_of(choice)]);
    assert_conforms("CreateChatCompletionResponse", "the example", &completion);
    completion_events(&completion.to_string(), &ToolNameMap::default())
        .unwrap_or_else(|e| panic!("{e} for {completion} ({})", source()));
    // The first alternative of `error` is an error object: that answer must fail, and
    // with the error taken out (and a message and a call as output) it must decode.
    let mut response = example("Response");
    assert_conforms("Response", "the example", &response);
    assert!(response_events(&response.to_string(), &ToolNameMap::default()).is_err());
    response["error"] = Value::Null;
    response["incomplete_details"] = Value::Null;
    response["output"] = json!([example("OutputMessage"), example("FunctionToolCall")]);
    assert_conforms("Response", "the example", &response);
    let events = response_events(&response.to_string(), &ToolNameMap::default())
        .unwrap_or_else(|e| panic!("{e} for {response} ({})", source()));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, StreamEvent::ToolCallStart { .. })),
        "{events:?}"
    );
}
