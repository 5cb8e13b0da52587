use super::*;
use crate::llm::types::ToolDefinition;
use serde_json::json;

fn names() -> ToolNameMap {
    ToolNameMap::new(&[ToolDefinition {
        name: "fs.read".into(),
        description: String::new(),
        parameters: json!({}),
    }])
}

fn sse(events: &[Value], named: bool) -> String {
    events
        .iter()
        .map(|e| {
            let ty = e["type"].as_str().unwrap_or_default();
            if named {
                format!("event: {ty}\ndata: {e}\n\n")
            } else {
                format!("data: {e}\n\n")
            }
        })
        .collect()
}

fn decode(input: &[u8], cuts: &[usize]) -> Vec<Result<StreamEvent, LlmError>> {
    let mut d = ResponsesStreamDecoder::new(names());
    let mut out = VecDeque::new();
    let mut last = 0;
    for &c in cuts.iter().chain(std::iter::once(&input.len())) {
        d.feed(&input[last..c], &mut out);
        last = c;
    }
    d.finish(&mut out);
    out.into_iter().collect()
}

fn ok(r: Vec<Result<StreamEvent, LlmError>>) -> Vec<StreamEvent> {
    r.into_iter().map(|e| e.unwrap()).collect()
}

fn call_turn() -> Vec<Value> {
    vec![
        json!({"type":"response.created","response":{"id":"resp_1","status":"in_progress"}}),
        json!({"type":"response.output_item.done","output_index":0,"item":{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"enc"}}),
        json!({"type":"response.reasoning_summary_text.delta","delta":{"odd":"shape"}}),
        json!({"type":"response.reasoning_summary_text.delta","item_id":"rs_1","summary_index":0,"delta":"Reading a"}),
        json!({"type":"response.reasoning_summary_text.delta","item_id":"rs_1","summary_index":0,"delta":" first."}),
        json!({"type":"response.reasoning_summary_text.delta","item_id":"rs_1","summary_index":1,"delta":"Then b."}),
        json!({"type":"response.output_item.added","output_index":1,"item":{"type":"function_call","id":"fc_1","call_id":"call_a","name":"fs_read","arguments":""}}),
        json!({"type":"response.function_call_arguments.delta","item_id":"fc_1","output_index":1,"delta":"{\"path\":"}),
        json!({"type":"response.function_call_arguments.delta","output_index":1,"delta":"\"a\"}"}),
        json!({"type":"response.function_call_arguments.done","item_id":"fc_1","output_index":1,"arguments":"{\"path\":\"a\"}"}),
        json!({"type":"response.output_item.done","output_index":1,"item":{"type":"function_call","id":"fc_1","call_id":"call_a","name":"fs_read","arguments":"{\"path\":\"a\"}"}}),
        // Arguments only at the end: sent once, from the first event that has them.
        json!({"type":"response.output_item.added","output_index":2,"item":{"type":"function_call","id":"fc_2","call_id":"call_b","name":"other"}}),
        json!({"type":"response.function_call_arguments.done","item_id":"fc_2","arguments":"{}"}),
        json!({"type":"response.output_item.done","output_index":2,"item":{"type":"function_call","id":"fc_2","call_id":"call_b","name":"other","arguments":"{}"}}),
        json!({"type":"response.completed","response":{"status":"completed","usage":{"input_tokens":10,"output_tokens":4,"total_tokens":14}}}),
    ]
}

fn call_events() -> Vec<StreamEvent> {
    vec![
        StreamEvent::Opaque(
            json!({"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"enc"}),
        ),
        StreamEvent::ReasoningDelta("Reading a".into()),
        StreamEvent::ReasoningDelta(" first.".into()),
        StreamEvent::ReasoningDelta("\n\nThen b.".into()),
        StreamEvent::ToolCallStart {
            index: 0,
            id: "call_a".into(),
            name: "fs.read".into(),
        },
        StreamEvent::ToolCallArgumentsDelta {
            index: 0,
            fragment: "{\"path\":".into(),
        },
        StreamEvent::ToolCallArgumentsDelta {
            index: 0,
            fragment: "\"a\"}".into(),
        },
        StreamEvent::ToolCallStart {
            index: 1,
            id: "call_b".into(),
            name: "other".into(),
        },
        StreamEvent::ToolCallArgumentsDelta {
            index: 1,
            fragment: "{}".into(),
        },
        StreamEvent::Finish(FinishReason::ToolCalls),
        StreamEvent::Usage(Usage {
            prompt_tokens: 10,
            completion_tokens: 4,
            total_tokens: 14,
            ..Usage::ZERO
        }),
    ]
}

#[test]
fn calls_reasoning_and_usage_with_and_without_event_lines() {
    for named in [true, false] {
        let s = sse(&call_turn(), named);
        for cuts in [
            vec![],
            vec![1, 7, 300, 301],
            (0..s.len()).step_by(13).collect(),
        ] {
            assert_eq!(
                ok(decode(s.as_bytes(), &cuts)),
                call_events(),
                "named={named} cuts={cuts:?}"
            );
        }
    }
}

#[test]
fn text_only_at_item_done_is_sent_once() {
    let s = sse(
        &[
            json!({"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"delta":"Hé"}),
            json!({"type":"response.output_item.done","output_index":0,"item":{"type":"message","id":"msg_1","content":[{"type":"output_text","text":"Hé"}]}}),
            json!({"type":"response.output_item.done","output_index":1,"item":{"type":"message","id":"msg_2","content":[{"type":"output_text","text":" there"}]}}),
            json!({"type":"response.completed","response":{}}),
        ],
        true,
    );
    assert_eq!(
        ok(decode(s.as_bytes(), &[])),
        vec![
            StreamEvent::TextDelta("Hé".into()),
            StreamEvent::TextDelta(" there".into()),
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
}

#[test]
fn incomplete_reasons() {
    for (reason, want) in [
        ("max_output_tokens", FinishReason::Length),
        ("content_filter", FinishReason::ContentFilter),
        ("other", FinishReason::Other("other".into())),
    ] {
        let s = sse(
            &[
                json!({"type":"response.incomplete","response":{"incomplete_details":{"reason":reason},"usage":{"input_tokens":1,"output_tokens":2}}}),
            ],
            true,
        );
        let ev = ok(decode(s.as_bytes(), &[]));
        assert_eq!(ev[0], StreamEvent::Finish(want));
        assert_eq!(
            ev[1],
            StreamEvent::Usage(Usage {
                prompt_tokens: 1,
                completion_tokens: 2,
                total_tokens: 3,
                ..Usage::ZERO
            })
        );
    }
}

#[test]
fn failures_and_malformed_data_are_errors() {
    let cases: [(&str, &str); 7] = [
        (
            "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"error\":{\"code\":\"server_error\",\"message\":\"boom\"}}}\n\n",
            "boom",
        ),
        ("event: error\ndata: {\"type\":\"error\",\"code\":\"rate\",\"message\":\"slow down\"}\n\n", "slow down"),
        ("data: {\"type\":\"error\",\"error\":{\"message\":\"nested\"}}\n\n", "nested"),
        ("data: {not json\n\n", "malformed"),
        ("data: {\"no\":\"type\"}\n\n", "without a type"),
        ("event: response.function_call_arguments.delta\ndata: {\"item_id\":\"x\",\"delta\":\"{}\"}\n\n", "never started"),
        ("event: response.output_text.delta\ndata: {\"delta\":5}\n\n", "malformed"),
    ];
    for (input, want) in cases {
        let r = decode(input.as_bytes(), &[]);
        let e = r[0].as_ref().unwrap_err();
        let text = format!("{} {:?}", e.message, e.server_message);
        assert!(text.contains(want), "{input}: {text}");
    }
    let r = decode(
        b"event: response.output_item.added\ndata: {\"item\":{\"type\":\"function_call\"}}\n\n",
        &[],
    );
    assert!(r[0].as_ref().unwrap_err().message.contains("name"));
}

#[test]
fn early_end_is_interrupted_and_unknown_events_are_skipped() {
    let r = decode(
        b"event: response.future_thing\ndata: not even json\n\nevent: response.output_text.delta\ndata: {\"delta\":\"part\"}\n\n",
        &[],
    );
    assert_eq!(
        r[0].as_ref().unwrap(),
        &StreamEvent::TextDelta("part".into())
    );
    assert_eq!(
        r[1].as_ref().unwrap_err().kind,
        ErrorKind::StreamInterrupted
    );
    assert_eq!(r.len(), 2);
}

#[test]
fn text_naming_no_item_is_not_repeated_by_the_message() {
    let s = sse(
        &[
            json!({"type":"response.output_text.delta","delta":"x"}),
            json!({"type":"response.output_item.done","item":{"type":"message","content":[{"type":"output_text","text":"x"}]}}),
            json!({"type":"response.completed"}),
        ],
        false,
    );
    assert_eq!(
        ok(decode(s.as_bytes(), &[])),
        vec![
            StreamEvent::TextDelta("x".into()),
            StreamEvent::Finish(FinishReason::Stop)
        ]
    );
}

#[test]
fn full_response_object() {
    let body = json!({
        "status": "completed",
        "output": [
            {"type":"reasoning","id":"rs_1","encrypted_content":"enc"},
            {"type":"message","id":"m","content":[{"type":"output_text","text":"hi"}]},
            {"type":"function_call","id":"fc","call_id":"call_x","name":"fs_read","arguments":{"path":"a"}}
        ],
        "usage": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}
    });
    let ev = response_events(&body.to_string(), &names()).unwrap();
    assert!(matches!(ev[0], StreamEvent::Opaque(_)));
    assert_eq!(ev[1], StreamEvent::TextDelta("hi".into()));
    assert_eq!(
        ev[2],
        StreamEvent::ToolCallStart {
            index: 0,
            id: "call_x".into(),
            name: "fs.read".into()
        }
    );
    assert_eq!(
        ev[3],
        StreamEvent::ToolCallArgumentsDelta {
            index: 0,
            fragment: "{\"path\":\"a\"}".into()
        }
    );
    assert_eq!(ev[4], StreamEvent::Finish(FinishReason::ToolCalls));
    let failed = json!({"status":"failed","error":{"message":"nope"}}).to_string();
    let e = response_events(&failed, &names()).unwrap_err();
    assert_eq!(e.server_message.as_deref(), Some("nope"));
    assert!(response_events("[1]", &names()).is_err());
    assert!(response_events("{\"status\":\"queued\"}", &names()).is_err());
    assert!(response_events("{\"output\":{}}", &names()).is_err());
}
