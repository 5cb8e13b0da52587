//! One contract, two backends: every scenario here is written once and run against both
//! the OpenAI backend (Chat Completions, SSE) and the Ollama backend (`/api/chat`, NDJSON)
//! through the fake server, with the same assertions on the resulting events, turns and
//! errors. A difference between the backends fails a test.

use crate::support;
use crate::support::contract;

use contract::*;
use goshi::llm::{
    Accumulator, AssistantTurn, ChatRequest, ErrorKind, FinishReason, LlmError, StreamEvent,
    ToolCall, Usage,
};
use serde_json::json;
use std::time::Duration;

/// Runs each named scenario `async fn NAME(wire: Wire)` as two tests, `NAME::openai` and
/// `NAME::ollama`.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn openai() {
                    super::$name(super::Wire::OpenAi).await
                }
                #[tokio::test]
                async fn ollama() {
                    super::$name(super::Wire::Ollama).await
                }
            }
        )*
    };
}

contract!(
    streamed_text_split_at_arbitrary_bytes,
    two_tool_calls_in_one_turn,
    tool_calls_without_server_ids_are_numbered,
    usage_is_reported_once_with_the_same_numbers,
    finish_reasons_stop_and_length,
    unknown_model_is_not_found_with_a_hint,
    server_error_is_retried_once_then_succeeds,
    mid_stream_disconnect_keeps_the_text_then_interrupts,
    stalled_stream_times_out_naming_the_setting,
    no_response_headers_times_out_naming_the_setting,
    malformed_data_is_an_error_not_a_panic,
    complete_equals_the_accumulated_stream,
    whole_answer_equals_the_streamed_one,
    a_finished_answer_ends_the_stream_though_the_connection_stays_open,
    a_whole_answer_arriving_slowly_in_pieces_is_not_cut_by_the_timeout,
    a_finished_answer_leaves_its_connection_for_the_next_request,
);

fn ok(items: Vec<Result<StreamEvent, LlmError>>) -> Vec<StreamEvent> {
    items
        .into_iter()
        .map(|e| e.unwrap_or_else(|e| panic!("unexpected error event: {e}")))
        .collect()
}

/// Joins consecutive argument fragments of the same call, so that arguments streamed in
/// pieces (OpenAI) and sent whole (Ollama) compare equal.
fn merge_fragments(events: Vec<StreamEvent>) -> Vec<StreamEvent> {
    let mut out: Vec<StreamEvent> = Vec::new();
    for e in events {
        if let StreamEvent::ToolCallArgumentsDelta { index, fragment } = &e {
            if let Some(StreamEvent::ToolCallArgumentsDelta {
                index: last,
                fragment: so_far,
            }) = out.last_mut()
            {
                if last == index {
                    so_far.push_str(fragment);
                    continue;
                }
            }
        }
        out.push(e);
    }
    out
}

fn accumulate(events: &[StreamEvent]) -> AssistantTurn {
    let mut acc = Accumulator::new();
    for e in events {
        acc.push(e);
    }
    acc.finish()
}

fn usage(p: u64, c: u64) -> StreamEvent {
    StreamEvent::Usage(Usage {
        prompt_tokens: p,
        completion_tokens: c,
        total_tokens: p + c,
        ..Usage::ZERO
    })
}

const TEXT_A: &str = "Hé ";
const TEXT_B: &str = "🦀 wörld\n";

fn text_steps() -> Vec<Step> {
    vec![
        text(TEXT_A),
        text(TEXT_B),
        finish(FinishReason::Stop, Some((12, 30))),
    ]
}

fn text_events() -> Vec<StreamEvent> {
    vec![
        StreamEvent::TextDelta(TEXT_A.into()),
        StreamEvent::TextDelta(TEXT_B.into()),
        StreamEvent::Finish(FinishReason::Stop),
        usage(12, 30),
    ]
}

fn text_turn() -> AssistantTurn {
    AssistantTurn {
        text: format!("{TEXT_A}{TEXT_B}"),
        tool_calls: vec![],
        usage: Some(Usage {
            prompt_tokens: 12,
            completion_tokens: 30,
            total_tokens: 42,
            ..Usage::ZERO
        }),
        finish: Some(FinishReason::Stop),
        opaque: vec![],
    }
}

fn read_args() -> serde_json::Value {
    json!({"path": "src/main.rs", "note": "ünï \"quoted\""})
}

fn list_args() -> serde_json::Value {
    json!({"path": ".", "depth": 2})
}

fn tool_steps(ids: [Option<&str>; 2]) -> Vec<Step> {
    vec![
        text("Let me look."),
        call(ids[0], "fs_read", read_args()),
        call(ids[1], "fs_list", list_args()),
        finish(FinishReason::ToolCalls, Some((20, 5))),
    ]
}

fn tool_turn(ids: [&str; 2]) -> AssistantTurn {
    AssistantTurn {
        text: "Let me look.".into(),
        tool_calls: vec![
            ToolCall {
                id: ids[0].into(),
                name: "fs.read".into(),
                arguments: read_args().to_string(),
            },
            ToolCall {
                id: ids[1].into(),
                name: "fs.list".into(),
                arguments: list_args().to_string(),
            },
        ],
        usage: Some(Usage {
            prompt_tokens: 20,
            completion_tokens: 5,
            total_tokens: 25,
            ..Usage::ZERO
        }),
        finish: Some(FinishReason::ToolCalls),
        opaque: vec![],
    }
}

fn tool_events(ids: [&str; 2]) -> Vec<StreamEvent> {
    vec![
        StreamEvent::TextDelta("Let me look.".into()),
        StreamEvent::ToolCallStart {
            index: 0,
            id: ids[0].into(),
            name: "fs.read".into(),
        },
        StreamEvent::ToolCallArgumentsDelta {
            index: 0,
            fragment: read_args().to_string(),
        },
        StreamEvent::ToolCallStart {
            index: 1,
            id: ids[1].into(),
            name: "fs.list".into(),
        },
        StreamEvent::ToolCallArgumentsDelta {
            index: 1,
            fragment: list_args().to_string(),
        },
        StreamEvent::Finish(FinishReason::ToolCalls),
        usage(20, 5),
    ]
}

async fn streamed_text_split_at_arbitrary_bytes(wire: Wire) {
    let h = wire.harness(LONG_TIMEOUT, 0);
    let body = wire.stream_body(&text_steps());
    let s = String::from_utf8(body.clone()).unwrap();
    let e_acute = s.find('é').unwrap();
    let crab = s.find('🦀').unwrap();
    let o_umlaut = s.find('ö').unwrap();
    let splits: Vec<Vec<usize>> = vec![
        // One write.
        vec![],
        // Inside every multi-byte character, and right after the first byte.
        vec![1, e_acute + 1, crab + 1, crab + 2, crab + 3, o_umlaut + 1],
        // Every byte its own write.
        (1..body.len()).collect(),
    ];
    for cuts in &splits {
        h.push(wire.split_reply(&text_steps(), cuts));
        let got = ok(h.stream(&request()).await.unwrap());
        assert_eq!(got, text_events(), "cuts {cuts:?}");
    }
    let sent = h.chat_requests();
    assert_eq!(sent.len(), splits.len());
    let body = sent[0].json();
    assert_eq!(body["model"], MODEL);
    assert_eq!(body["stream"], true);
    assert!(body.get("tools").is_none(), "no tools offered: {body}");
    assert_eq!(h.backend.provider_name(), wire.provider_name());
    assert_eq!(h.notes(), Vec::<String>::new());
}

async fn two_tool_calls_in_one_turn(wire: Wire) {
    let h = wire.harness(LONG_TIMEOUT, 0);
    h.push(wire.reply(&tool_steps([Some("call_a"), Some("call_b")])));
    let got = ok(h.stream(&tool_request()).await.unwrap());
    let merged = merge_fragments(got.clone());
    assert_eq!(merged, tool_events(["call_a", "call_b"]));

    let turn = accumulate(&got);
    assert_eq!(turn, tool_turn(["call_a", "call_b"]));
    let parsed: Vec<serde_json::Value> = turn
        .tool_calls
        .iter()
        .map(|c| c.parsed_arguments().unwrap())
        .collect();
    assert_eq!(parsed, vec![read_args(), list_args()]);

    // Both offer the tools under the same wire-safe names.
    let sent = h.chat_requests()[0].json();
    let names: Vec<&str> = sent["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["fs_read", "fs_list"]);
    assert_eq!(sent["tools"][0]["type"], "function");
    assert_eq!(h.notes(), Vec::<String>::new());
}

async fn tool_calls_without_server_ids_are_numbered(wire: Wire) {
    let h = wire.harness(LONG_TIMEOUT, 0);
    h.push(wire.reply(&tool_steps([None, None])));
    let got = ok(h.stream(&tool_request()).await.unwrap());
    assert_eq!(merge_fragments(got), tool_events(["call_0", "call_1"]));
}

async fn usage_is_reported_once_with_the_same_numbers(wire: Wire) {
    let h = wire.harness(LONG_TIMEOUT, 0);
    h.push(wire.reply(&[text("x"), finish(FinishReason::Stop, Some((7, 11)))]));
    h.push(wire.reply(&[text("x"), finish(FinishReason::Stop, None)]));
    let got = ok(h.stream(&request()).await.unwrap());
    let usages: Vec<&StreamEvent> = got
        .iter()
        .filter(|e| matches!(e, StreamEvent::Usage(_)))
        .collect();
    assert_eq!(usages, [&usage(7, 11)]);
    assert_eq!(got.last(), Some(&usage(7, 11)), "usage comes last");

    // No counts from the server: no usage event at all (not zeros).
    let got = ok(h.stream(&request()).await.unwrap());
    assert_eq!(
        got,
        vec![
            StreamEvent::TextDelta("x".into()),
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
}

async fn finish_reasons_stop_and_length(wire: Wire) {
    let h = wire.harness(LONG_TIMEOUT, 0);
    for reason in [FinishReason::Stop, FinishReason::Length] {
        h.push(wire.reply(&[text("cut"), finish(reason.clone(), Some((3, 4)))]));
        let got = ok(h.stream(&request()).await.unwrap());
        assert_eq!(
            got,
            vec![
                StreamEvent::TextDelta("cut".into()),
                StreamEvent::Finish(reason.clone()),
                usage(3, 4),
            ]
        );
        let turn = accumulate(&got);
        assert_eq!(turn.finish, Some(reason));
    }
}

async fn unknown_model_is_not_found_with_a_hint(wire: Wire) {
    // Retries allowed, to show that a 404 is not retried.
    let h = wire.harness(LONG_TIMEOUT, 2);
    h.push(wire.model_not_found("nope-model"));
    let mut req = request();
    req.model = "nope-model".into();
    let err = h.stream(&req).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.status, Some(404));
    assert!(err.message.contains("model nope-model"), "{err}");
    let hint = goshi::cli::hints::hint(&err).expect("a hint");
    assert!(hint.contains("goshi models"), "{hint}");
    let server = err.server_message.as_deref().expect("the server's message");
    assert!(server.contains("nope-model"), "{server}");
    assert!(!err.is_retryable());
    assert_eq!(h.chat_requests().len(), 1, "a 404 is not retried");
    assert_eq!(h.notes(), Vec::<String>::new());
    // complete() reports the same error.
    h.push(wire.model_not_found("nope-model"));
    assert_eq!(h.complete(&req).await.unwrap_err(), err);
}

async fn server_error_is_retried_once_then_succeeds(wire: Wire) {
    let h = wire.harness(LONG_TIMEOUT, 2);
    h.push(wire.server_error());
    h.push(wire.reply(&text_steps()));
    let got = ok(h.stream(&request()).await.unwrap());
    assert_eq!(got, text_events());
    let sent = h.chat_requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].body, sent[1].body, "the same request is sent again");
    assert_eq!(
        h.notes(),
        ["HTTP 500; retrying in 0.0s (attempt 1 of 2)".to_string()]
    );
}

async fn mid_stream_disconnect_keeps_the_text_then_interrupts(wire: Wire) {
    let h = wire.harness(LONG_TIMEOUT, 2);
    h.push(wire.reply(&[text("partial "), text("answer")]).disconnect());
    let got = h.stream(&request()).await.unwrap();
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(
        got[..2],
        [
            Ok(StreamEvent::TextDelta("partial ".into())),
            Ok(StreamEvent::TextDelta("answer".into())),
        ]
    );
    let err = got[2].as_ref().unwrap_err();
    assert_eq!(err.kind, ErrorKind::StreamInterrupted, "{err}");
    assert!(err.message.starts_with("stream interrupted"), "{err}");
    assert!(err.hint.is_some());
    assert_eq!(
        h.chat_requests().len(),
        1,
        "a started answer is not retried"
    );
    assert_eq!(h.notes(), Vec::<String>::new());

    // A clean end of the body before the answer finished is interrupted too.
    h.push(wire.reply(&[text("partial ")]));
    let got = h.stream(&request()).await.unwrap();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0], Ok(StreamEvent::TextDelta("partial ".into())));
    assert_eq!(
        got[1].as_ref().unwrap_err().kind,
        ErrorKind::StreamInterrupted
    );
}

async fn stalled_stream_times_out_naming_the_setting(wire: Wire) {
    let h = wire.harness(SHORT_TIMEOUT, 0);
    h.push(wire.reply(&[text("slow")]).stall());
    let got = h.stream(&request()).await.unwrap();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0], Ok(StreamEvent::TextDelta("slow".into())));
    let err = got[1].as_ref().unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert!(err.message.contains("llm.request_timeout"), "{err}");
    assert!(err.message.contains("0.3s"), "{err}");
}

async fn no_response_headers_times_out_naming_the_setting(wire: Wire) {
    let h = wire.harness(SHORT_TIMEOUT, 0);
    h.push(support::Reply::hang());
    let err = h.stream(&request()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert!(err.message.contains("llm.request_timeout"), "{err}");
    assert!(
        err.message.contains(wire.chat_path()),
        "names the URL: {err}"
    );
    assert_eq!(h.chat_requests().len(), 1);
}

async fn malformed_data_is_an_error_not_a_panic(wire: Wire) {
    let h = wire.harness(LONG_TIMEOUT, 0);
    let payloads = [
        "{not json",
        "{\"choices\": [",
        "42",
        "\"text\"",
        "null",
        wire.wrong_types(),
        "[]",
    ];
    for payload in payloads {
        // Valid text, the bad message, then a valid rest that must not be shown.
        let mut body = wire.stream_body(&[text("before")]);
        body.extend_from_slice(wire.frame(payload).as_bytes());
        body.extend_from_slice(
            &wire.stream_body(&[text("after"), finish(FinishReason::Stop, Some((1, 1)))]),
        );
        h.push(support::Reply::split(wire.content_type(), &body, &[]));
        let got = h.stream(&request()).await.unwrap();
        assert_eq!(got.len(), 2, "payload {payload}: {got:?}");
        assert_eq!(got[0], Ok(StreamEvent::TextDelta("before".into())));
        let err = got[1].as_ref().unwrap_err();
        assert_eq!(err.kind, ErrorKind::Protocol, "payload {payload}: {err}");
        assert!(err.hint.is_some(), "payload {payload}: {err}");
    }
}

/// A text answer and a two-call answer: the steps, the request that gets them and the
/// turn they make.
fn answer_cases() -> [(Vec<Step>, ChatRequest, AssistantTurn); 2] {
    [
        (text_steps(), request(), text_turn()),
        (
            tool_steps([Some("call_a"), Some("call_b")]),
            tool_request(),
            tool_turn(["call_a", "call_b"]),
        ),
    ]
}

async fn complete_equals_the_accumulated_stream(wire: Wire) {
    let h = wire.harness(LONG_TIMEOUT, 0);
    for (steps, req, want) in answer_cases() {
        h.push(wire.reply(&steps));
        h.push(wire.reply(&steps));
        let streamed = accumulate(&ok(h.stream(&req).await.unwrap()));
        let completed = h.complete(&req).await.unwrap();
        assert_eq!(completed, streamed);
        assert_eq!(completed, want);
    }
}

async fn whole_answer_equals_the_streamed_one(wire: Wire) {
    let h = wire.harness(LONG_TIMEOUT, 0);
    for (steps, mut req, want) in answer_cases() {
        req.no_stream = true;
        h.push(wire.whole_reply(&steps));
        assert_eq!(h.complete(&req).await.unwrap(), want);
        let sent = h.chat_requests().last().unwrap().json();
        assert_ne!(sent.get("stream"), Some(&json!(true)), "{sent}");
    }
}

async fn a_finished_answer_ends_the_stream_though_the_connection_stays_open(wire: Wire) {
    // `[DONE]` / `done: true` is the end of the answer: waiting on for the server to close
    // the body would turn a complete answer into a timeout.
    let h = wire.harness(SHORT_TIMEOUT, 0);
    h.push(wire.reply(&text_steps()).stall());
    assert_eq!(ok(h.stream(&request()).await.unwrap()), text_events());
}

async fn a_finished_answer_leaves_its_connection_for_the_next_request(wire: Wire) {
    // The body ends a moment after the end marker; reading up to that end (rather than
    // dropping the body at the marker) lets the next request reuse the connection, while a
    // client that drops it opens a new connection for every request. No timing is asserted:
    // a server starved of CPU for longer than the client's grace after the marker may cost
    // one connection now and then, so the test asks only that some connection was reused.
    const REQUESTS: usize = 5;
    let h = wire.harness(LONG_TIMEOUT, 0);
    for _ in 0..REQUESTS {
        h.push(wire.reply(&text_steps()).delay_ms(30));
        assert_eq!(ok(h.stream(&request()).await.unwrap()), text_events());
    }
    assert_eq!(h.chat_requests().len(), REQUESTS);
    let opened = h.server.connections();
    assert!(
        opened < REQUESTS,
        "{REQUESTS} requests opened {opened} connections: none was reused"
    );
}

async fn a_whole_answer_arriving_slowly_in_pieces_is_not_cut_by_the_timeout(wire: Wire) {
    // `llm.request_timeout` bounds each wait for the next byte, not the whole body.
    let h = wire.harness(Duration::from_millis(1_000), 0);
    let (steps, mut req, want) = answer_cases().into_iter().next().unwrap();
    req.no_stream = true;
    let whole = wire.whole_body(&steps);
    let mut reply = support::Reply::new(200).header("content-type", "application/json");
    for piece in whole.chunks(whole.len().div_ceil(4)) {
        reply = reply.chunk(piece.to_vec()).delay_ms(400);
    }
    h.push(reply);
    assert_eq!(h.complete(&req).await.unwrap(), want);
}

/// The same answer through both backends gives the same events and the same turn.
#[tokio::test]
async fn both_backends_agree_on_the_same_answer() {
    let mut results = Vec::new();
    for wire in BOTH {
        let h = wire.harness(LONG_TIMEOUT, 0);
        h.push(wire.reply(&tool_steps([Some("call_a"), None])));
        let events = merge_fragments(ok(h.stream(&tool_request()).await.unwrap()));
        let turn = accumulate(&events);
        results.push((events, turn));
    }
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0].1, tool_turn(["call_a", "call_1"]));
}
