//! The OpenAI Chat Completions backend against the in-repo fake server: streaming and its
//! byte-level splits, errors inside the stream, usage, and the quirks of real
//! OpenAI-compatible servers.
//!
//! The rest of the suite: `openai_chat_requests.rs` (request bodies, tools, `--no-stream`,
//! credentials, parameter fallbacks), `openai_chat_failures.rs` (HTTP errors, retries,
//! timeouts, interrupted streams), `openai_chat_lifecycle.rs` (OpenAI itself: model
//! lifecycle and everything that touches the user cache dir).

use crate::support;
use crate::support::openai_common;

use std::collections::VecDeque;

use goshi::llm::backend::{Backend, WireDecoder};
use goshi::llm::openai::stream::ChatStreamDecoder;
use goshi::llm::toolname::ToolNameMap;
use goshi::llm::usage::token_line;
use goshi::llm::{ErrorKind, FinishReason, LlmError, StreamEvent, Usage};
use openai_common::*;
use proptest::prelude::*;
use serde_json::{json, Value};
use support::*;

fn sse(items: &[String]) -> Reply {
    Reply::sse(items)
}

/// Feeds `body` to a fresh decoder cut at `cuts` (sorted), then finishes it.
fn decode_direct(body: &[u8], cuts: &[usize]) -> Vec<Result<StreamEvent, LlmError>> {
    let mut d = ChatStreamDecoder::new(ToolNameMap::new(&[tool("fs.read")]));
    let mut out = VecDeque::new();
    let mut last = 0;
    for &c in cuts.iter().chain([body.len()].iter()) {
        d.feed(&body[last..c], &mut out);
        last = c;
    }
    d.finish(&mut out);
    out.into_iter().collect()
}

// ---- 1. Byte-level splits ----

/// A stream with CRLF line ends, multi-byte UTF-8 text and JSON escapes.
fn crlf_stream() -> Vec<u8> {
    let items = [
        role_chunk(),
        text_chunk("Grüße, "),
        text_chunk("世界 🦀"),
        text_chunk("\"ok\"\n"),
        finish_chunk("stop"),
        usage_chunk(9, 4, 13),
        "[DONE]".to_string(),
    ];
    items
        .iter()
        .map(|i| format!("data: {i}\r\n\r\n"))
        .collect::<String>()
        .into_bytes()
}

fn crlf_events() -> Vec<StreamEvent> {
    vec![
        StreamEvent::TextDelta("Grüße, ".into()),
        StreamEvent::TextDelta("世界 🦀".into()),
        StreamEvent::TextDelta("\"ok\"\n".into()),
        StreamEvent::Finish(FinishReason::Stop),
        StreamEvent::Usage(Usage {
            prompt_tokens: 9,
            completion_tokens: 4,
            total_tokens: 13,
        }),
    ]
}

/// Named cut sets: inside each multi-byte char, between every CR and its LF, byte by byte.
fn cut_sets(body: &[u8]) -> Vec<Vec<usize>> {
    let text = std::str::from_utf8(body).unwrap();
    let inside = |c: char| -> Vec<usize> {
        let at = text.find(c).unwrap();
        (at + 1..at + c.len_utf8()).collect()
    };
    let crlf: Vec<usize> = (0..body.len() - 1)
        .filter(|&i| body[i] == b'\r' && body[i + 1] == b'\n')
        .map(|i| i + 1)
        .collect();
    assert_eq!(crlf.len(), 14, "7 events, 2 CRLFs each");
    let mut everything = inside('ü');
    everything.extend(inside('世'));
    everything.extend(inside('🦀'));
    everything.extend(&crlf);
    everything.sort_unstable();
    vec![
        vec![],
        inside('ü'),
        inside('世'),
        inside('🦀'),
        crlf,
        everything,
        (1..body.len()).collect(),
        (1..body.len()).step_by(7).collect(),
        (1..body.len()).step_by(64).collect(),
    ]
}

#[tokio::test]
async fn streamed_text_split_anywhere_over_http_gives_identical_events() {
    let server = FakeServer::start();
    let (backend, notes) = compat(&server);
    let body = crlf_stream();
    let sets = cut_sets(&body);
    for cuts in &sets {
        server.push("POST", CHAT, Reply::split("text/event-stream", &body, cuts));
        let events = run_ok(&backend, &request("m")).await;
        assert_eq!(events, crlf_events(), "cuts {cuts:?}");
        assert_eq!(text_of(&events), "Grüße, 世界 🦀\"ok\"\n");
    }
    assert_eq!(server.requests_to(CHAT).len(), sets.len());
    assert!(said(&notes).is_empty());
}

#[test]
fn decoder_gives_identical_events_for_every_single_and_named_cut() {
    let body = crlf_stream();
    let want: Vec<Result<StreamEvent, LlmError>> = crlf_events().into_iter().map(Ok).collect();
    for c in 0..=body.len() {
        assert_eq!(decode_direct(&body, &[c]), want, "cut at {c}");
    }
    for cuts in cut_sets(&body) {
        assert_eq!(decode_direct(&body, &cuts), want, "cuts {cuts:?}");
    }
    // LF-only and CR-only line ends decode the same.
    let lf = String::from_utf8(body.clone())
        .unwrap()
        .replace("\r\n", "\n");
    assert_eq!(decode_direct(lf.as_bytes(), &[]), want);
    let cr = String::from_utf8(body).unwrap().replace("\r\n", "\r");
    assert_eq!(decode_direct(cr.as_bytes(), &[]), want);
}

// ---- 2. Errors inside the stream ----

#[tokio::test]
async fn error_object_mid_stream_ends_the_answer_with_the_servers_message() {
    let server = FakeServer::start();
    let (backend, _) = compat(&server);
    let error = json!({"error": {
        "message": "The server had an error while processing your request. Sorry about that!",
        "type": "server_error", "param": null, "code": "server_error"}});
    server.push(
        "POST",
        CHAT,
        sse(&[
            role_chunk(),
            text_chunk("Hello"),
            error.to_string(),
            text_chunk(" never shown"),
            finish_chunk("stop"),
            "[DONE]".into(),
        ]),
    );
    let (events, err) = run(&backend, &request("m")).await;
    assert_eq!(events, vec![StreamEvent::TextDelta("Hello".into())]);
    let err = err.unwrap();
    assert_eq!(err.kind, ErrorKind::Protocol);
    assert_eq!(
        err.server_message.as_deref(),
        Some("The server had an error while processing your request. Sorry about that!")
    );
    assert_eq!(err.code.as_deref(), Some("server_error"));
    assert!(err.to_string().contains(
        "server said: The server had an error while processing your request. Sorry about that! (code: server_error)"
    ));

    // The same through `complete()`: the error, not a half answer.
    server.push("POST", CHAT, sse(&[text_chunk("Hi"), error.to_string()]));
    let err = backend.complete(&request("m")).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol);

    // An `event: error` SSE event (as some proxies send) is an error too.
    server.push(
        "POST",
        CHAT,
        Reply::new(200)
            .header("content-type", "text/event-stream")
            .chunk(format!("data: {}\n\n", text_chunk("a")))
            .chunk("event: error\ndata: {\"error\":{\"message\":\"overloaded\",\"code\":503}}\n\n"),
    );
    let (events, err) = run(&backend, &request("m")).await;
    assert_eq!(events, vec![StreamEvent::TextDelta("a".into())]);
    let err = err.unwrap();
    assert_eq!(err.server_message.as_deref(), Some("overloaded"));
    assert_eq!(err.code.as_deref(), Some("503"));
}

#[tokio::test]
async fn malformed_chunks_become_errors_not_panics() {
    let server = FakeServer::start();
    let (backend, _) = compat(&server);
    for bad in [
        "{\"choices\":[{\"delta\":{\"content\":\"b\"",
        "<html>502 Bad Gateway</html>",
        "{\"choices\":{\"not\":\"a list\"}}",
        "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":\"x\"}]}}]}",
        "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":99999,\"id\":\"a\"}]}}]}",
    ] {
        server.push(
            "POST",
            CHAT,
            sse(&[
                text_chunk("a"),
                bad.to_string(),
                text_chunk("c"),
                finish_chunk("stop"),
                "[DONE]".into(),
            ]),
        );
        let (events, err) = run(&backend, &request("m")).await;
        assert_eq!(events, vec![StreamEvent::TextDelta("a".into())], "{bad}");
        let err = err.unwrap();
        assert_eq!(err.kind, ErrorKind::Protocol, "{bad}");
    }
    server.push(
        "POST",
        CHAT,
        sse(&["{\"choices\":[{\"delta\":{\"content\":\"b\"".to_string()]),
    );
    let err = run_err(&backend, &request("m")).await;
    assert!(
        err.message
            .starts_with("the server sent a malformed stream event ("),
        "{}",
        err.message
    );
    assert!(err
        .message
        .ends_with("): {\"choices\":[{\"delta\":{\"content\":\"b\""));
    assert!(goshi::cli::hints::hint(&err)
        .unwrap()
        .contains("llm.openai.base_url"));
}

// ---- 7. Usage ----

#[tokio::test]
async fn usage_event_and_token_line_match_the_servers_numbers() {
    let server = FakeServer::start();
    let (backend, _) = compat(&server);
    let stream = [
        role_chunk(),
        text_chunk("Hi"),
        finish_chunk("stop"),
        usage_chunk(1234, 56, 1290),
        "[DONE]".to_string(),
    ];
    server.push("POST", CHAT, sse(&stream));
    let events = run_ok(&backend, &request("gpt-x")).await;
    let usage = Usage {
        prompt_tokens: 1234,
        completion_tokens: 56,
        total_tokens: 1290,
    };
    assert_eq!(
        events,
        vec![
            StreamEvent::TextDelta("Hi".into()),
            StreamEvent::Finish(FinishReason::Stop),
            StreamEvent::Usage(usage),
        ]
    );
    assert_eq!(
        token_line(backend.provider_name(), &usage, "gpt-x"),
        "OpenAI tokens: prompt=1234, completion=56, total=1290 (model: gpt-x)"
    );
    // The request asked for the usage chunk.
    let body = server.requests_to(CHAT)[0].json();
    assert_eq!(body["stream"], json!(true));
    assert_eq!(body["stream_options"], json!({"include_usage": true}));

    // Through `complete()`, and with the total left out (it is then the sum).
    server.push(
        "POST",
        CHAT,
        sse(&[
            text_chunk("Hi"),
            finish_chunk("stop"),
            json!({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}})
                .to_string(),
            "[DONE]".into(),
        ]),
    );
    let turn = backend.complete(&request("gpt-x")).await.unwrap();
    let usage = turn.usage.unwrap();
    assert_eq!(
        usage,
        Usage {
            prompt_tokens: 3,
            completion_tokens: 4,
            total_tokens: 7
        }
    );
    assert_eq!(
        token_line("OpenAI", &usage, "gpt-x"),
        "OpenAI tokens: prompt=3, completion=4, total=7 (model: gpt-x)"
    );
}

// ---- 14. Real-server quirks ----

#[tokio::test]
async fn quirks_of_real_servers_are_tolerated() {
    let server = FakeServer::start();
    let (backend, _) = compat(&server);
    let items = [
        // OpenAI: `content: null` in the role chunk, `usage: null`, `obfuscation`.
        json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
               "system_fingerprint": "fp", "service_tier": "default", "obfuscation": "x9",
               "choices": [{"index": 0, "delta": {"role": "assistant", "content": null, "refusal": null},
                            "logprobs": null, "finish_reason": null}],
               "usage": null}),
        json!({"choices": [{"index": 0, "delta": {"content": "Checking "}, "finish_reason": null}],
               "usage": null, "obfuscation": "abcdef"}),
        // A delta with nothing in it.
        json!({"choices": [{"index": 0, "delta": {}}]}),
        // vLLM: ids not starting with `call_`, `content: ""` next to tool calls.
        json!({"choices": [{"index": 0, "delta": {"content": "", "tool_calls": [
            {"index": 0, "id": "chatcmpl-tool-7f3a", "type": "function",
             "function": {"name": "fs_read", "arguments": null}}]}}]}),
        json!({"choices": [{"index": 0, "delta": {"content": null, "tool_calls": [
            {"index": 0, "function": {"arguments": "{\"path\": \"\\u00e9.txt\"}"}}]}}]}),
        // Mistral-style 9-character id, whole call in one delta, no `type`.
        json!({"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 1, "id": "aB3dE5fG7", "function": {"name": "fs_list", "arguments": "{}"}}]}}]}),
        // llama.cpp: `timings` and the finish on the last choice chunk.
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}],
               "timings": {"prompt_n": 5, "predicted_ms": 12.5}}),
        // The usage chunk with no choices.
        json!({"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10,
               "prompt_tokens_details": {"cached_tokens": 0}}}),
    ];
    let mut items: Vec<String> = items.iter().map(Value::to_string).collect();
    items.push("[DONE]".into());
    server.push("POST", CHAT, sse(&items));
    let events = run_ok(&backend, &tool_request("m")).await;
    assert_eq!(
        events,
        vec![
            StreamEvent::TextDelta("Checking ".into()),
            call_start(0, "chatcmpl-tool-7f3a", "fs.read"),
            call_args(0, "{\"path\": \"\\u00e9.txt\"}"),
            call_start(1, "aB3dE5fG7", "fs.list"),
            call_args(1, "{}"),
            StreamEvent::Finish(FinishReason::ToolCalls),
            StreamEvent::Usage(Usage {
                prompt_tokens: 7,
                completion_tokens: 3,
                total_tokens: 10
            }),
        ]
    );
}

#[tokio::test]
async fn tool_calls_without_index_are_told_apart_by_id() {
    // Gemini's OpenAI-compatible endpoint leaves out `tool_calls[].index`, sends each call
    // whole with its own id, may split arguments over deltas with an empty id, and ends
    // with `finish_reason: "stop"`.
    let server = FakeServer::start();
    let (backend, _) = compat(&server);
    let call = |id: &str, name: Option<&str>, args: &str| {
        let mut c = json!({"id": id, "type": "function", "function": {"arguments": args}});
        if let Some(n) = name {
            c["function"]["name"] = json!(n);
        }
        chunk(json!({"tool_calls": [c]}), None)
    };
    let items = [
        chunk(
            json!({"role": "assistant", "tool_calls": [
                {"id": "function-call-1", "type": "function",
                 "function": {"name": "fs_read", "arguments": "{\"path\":\"a.txt\"}"}},
                {"id": "function-call-2", "type": "function",
                 "function": {"name": "fs_list", "arguments": "{\"pa"}}
            ]}),
            None,
        ),
        call("", None, "th\":"),
        call("function-call-2", None, "\".\"}"),
        call("function-call-3", Some("fs_read"), "{\"path\":\"b\"}"),
        finish_chunk("stop"),
        "[DONE]".into(),
    ];
    server.push("POST", CHAT, sse(&items));
    server.push("POST", CHAT, sse(&items));
    let events = run_ok(&backend, &tool_request("gemini-3.8-flash")).await;
    assert_eq!(
        events,
        vec![
            call_start(0, "function-call-1", "fs.read"),
            call_args(0, "{\"path\":\"a.txt\"}"),
            call_start(1, "function-call-2", "fs.list"),
            call_args(1, "{\"pa"),
            call_args(1, "th\":"),
            call_args(1, "\".\"}"),
            call_start(2, "function-call-3", "fs.read"),
            call_args(2, "{\"path\":\"b\"}"),
            StreamEvent::Finish(FinishReason::Stop),
        ]
    );
    let turn = backend
        .complete(&tool_request("gemini-3.8-flash"))
        .await
        .unwrap();
    let args: Vec<&str> = turn
        .tool_calls
        .iter()
        .map(|c| c.arguments.as_str())
        .collect();
    assert_eq!(
        args,
        vec![
            "{\"path\":\"a.txt\"}",
            "{\"path\":\".\"}",
            "{\"path\":\"b\"}"
        ]
    );
}

#[tokio::test]
async fn keep_alive_comments_and_a_bom_are_ignored() {
    let server = FakeServer::start();
    let (backend, _) = compat(&server);
    let body = format!(
        "\u{FEFF}: OPENROUTER PROCESSING\n\ndata: {}\n\n: ping\n\ndata: {}\n\ndata: [DONE]\n\n",
        text_chunk("x"),
        finish_chunk("stop")
    );
    server.push(
        "POST",
        CHAT,
        Reply::split("text/event-stream", body.as_bytes(), &[1, 2, 30]),
    );
    assert_eq!(
        run_ok(&backend, &request("m")).await,
        vec![
            StreamEvent::TextDelta("x".into()),
            StreamEvent::Finish(FinishReason::Stop)
        ]
    );
}

// ---- Property: any text, any split, same text ----

/// Text with ASCII, escapes, multi-byte chars and line ends.
fn any_text() -> impl Strategy<Value = String> {
    let chars = vec![
        'a', 'Z', ' ', '\n', '\r', '"', '\\', '/', '\t', ':', 'é', 'ß', '漢', '🦀', '\u{FEFF}',
        '\u{0}',
    ];
    prop::collection::vec(prop::sample::select(chars), 0..40).prop_map(|c| c.into_iter().collect())
}

proptest! {
    #[test]
    fn random_text_in_random_chunks_reassembles(
        text in any_text(),
        deltas in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        crlf in any::<bool>(),
    ) {
        // Split the text into content deltas at random char boundaries.
        let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
        let mut at: Vec<usize> = deltas.iter().map(|d| bounds[d.index(bounds.len())]).collect();
        at.sort_unstable();
        at.dedup();
        let mut pieces = Vec::new();
        let mut last = 0;
        for a in at.into_iter().chain([text.len()]) {
            pieces.push(&text[last..a]);
            last = a;
        }
        let end = if crlf { "\r\n" } else { "\n" };
        let mut body = String::new();
        for p in &pieces {
            body.push_str(&format!("data: {}{end}{end}", text_chunk(p)));
        }
        body.push_str(&format!("data: {}{end}{end}data: [DONE]{end}{end}", finish_chunk("stop")));
        let bytes = body.as_bytes();
        // Cut the bytes anywhere, also inside UTF-8 chars and CRLFs.
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let out = decode_direct(bytes, &cuts);
        let mut got = String::new();
        let mut finishes = 0;
        for item in out {
            match item {
                Ok(StreamEvent::TextDelta(t)) => {
                    prop_assert!(!t.is_empty());
                    got.push_str(&t);
                }
                Ok(StreamEvent::Finish(r)) => {
                    prop_assert_eq!(r, FinishReason::Stop);
                    finishes += 1;
                }
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
        prop_assert_eq!(got, text);
        prop_assert_eq!(finishes, 1);
    }
}
