//! Ollama's `/api/chat` answers: NDJSON lines (or one object when not streamed), turned
//! into [`StreamEvent`]s.

use std::borrow::Cow;
use std::collections::VecDeque;

use serde::Deserialize;
use serde_json::Value;

use super::errors::stream_error;
use crate::llm::advice::Advice;
use crate::llm::backend::WireDecoder;
use crate::llm::error::{ErrorKind, LlmError};
use crate::llm::events::{FinishReason, StreamEvent, Usage};
use crate::llm::ndjson::NdjsonDecoder;
use crate::llm::toolname::ToolNameMap;

// Borrowed views: only text that reaches the caller is copied. Unknown fields
// (created_at, total_duration, ...) are skipped by serde.
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(default, borrow)]
    message: Option<WireMessage<'a>>,
    #[serde(default)]
    done: Option<bool>,
    #[serde(default, borrow)]
    done_reason: Option<Cow<'a, str>>,
    #[serde(default)]
    prompt_eval_count: Option<u64>,
    #[serde(default)]
    eval_count: Option<u64>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct WireMessage<'a> {
    #[serde(default, borrow)]
    content: Option<Cow<'a, str>>,
    /// A thinking model's reasoning, `message.thinking` of `/api/chat`; thinking-capable
    /// models think by default when `think` is not sent (checked 2026-11-30 against
    /// ollama.com/blog/thinking and docs.ollama.com/capabilities/thinking).
    #[serde(default, borrow)]
    thinking: Option<Cow<'a, str>>,
    #[serde(default)]
    tool_calls: Option<Vec<WireCall>>,
}

#[derive(Deserialize)]
struct WireCall {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<WireFunction>,
}

#[derive(Deserialize)]
struct WireFunction {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<Value>,
}

/// Decodes an Ollama chat answer, line by line.
pub struct OllamaStreamDecoder {
    ndjson: NdjsonDecoder,
    names: ToolNameMap,
    lines: Vec<String>,
    /// Tool calls announced so far; the next call's index.
    calls: usize,
    saw_done: bool,
}

impl OllamaStreamDecoder {
    /// A decoder mapping wire tool names back through `names`.
    pub fn new(names: ToolNameMap) -> Self {
        OllamaStreamDecoder {
            ndjson: NdjsonDecoder::new(),
            names,
            lines: Vec::new(),
            calls: 0,
            saw_done: false,
        }
    }

    /// Handles one JSON object (a stream line, or a whole non-streamed answer).
    pub fn handle(&mut self, line: &str, out: &mut VecDeque<Result<StreamEvent, LlmError>>) {
        // serde would read an array into the struct too; only objects are lines.
        let parsed: Result<Line<'_>, _> = if line.trim_start().starts_with('{') {
            serde_json::from_str(line)
        } else {
            Err(serde::de::Error::custom("not a JSON object"))
        };
        let parsed = match parsed {
            Ok(l) => l,
            Err(e) => {
                out.push_back(Err(malformed(&e, line)));
                return;
            }
        };
        if let Some(err) = parsed.error {
            out.push_back(Err(stream_error(&err)));
            return;
        }
        if let Some(m) = parsed.message {
            if let Some(thought) = m.thinking.filter(|t| !t.is_empty()) {
                out.push_back(Ok(StreamEvent::ReasoningDelta(thought.into_owned())));
            }
            if let Some(text) = m.content.filter(|t| !t.is_empty()) {
                out.push_back(Ok(StreamEvent::TextDelta(text.into_owned())));
            }
            for call in m.tool_calls.into_iter().flatten() {
                self.tool_call(call, out);
            }
        }
        if parsed.done == Some(true) {
            self.saw_done = true;
            // Older servers send no done_reason; finishing is then a plain stop.
            let reason = parsed.done_reason.as_deref().filter(|r| !r.is_empty());
            let mut reason = reason.map_or(FinishReason::Stop, FinishReason::from_wire);
            // Ollama says `stop` even when the model called tools; the chat loop needs to know.
            if reason == FinishReason::Stop && self.calls > 0 {
                reason = FinishReason::ToolCalls;
            }
            out.push_back(Ok(StreamEvent::Finish(reason)));
            if parsed.prompt_eval_count.is_some() || parsed.eval_count.is_some() {
                let prompt = parsed.prompt_eval_count.unwrap_or(0);
                let completion = parsed.eval_count.unwrap_or(0);
                out.push_back(Ok(StreamEvent::Usage(Usage {
                    prompt_tokens: prompt,
                    completion_tokens: completion,
                    total_tokens: prompt.saturating_add(completion),
                    ..Usage::ZERO
                })));
            }
        }
    }

    /// Ollama sends each call whole, arguments as a JSON object; each gets the next index
    /// (its own `function.index` is not trusted to be unique across lines).
    fn tool_call(&mut self, call: WireCall, out: &mut VecDeque<Result<StreamEvent, LlmError>>) {
        let Some(function) = call.function else {
            out.push_back(Err(LlmError::protocol(
                "Ollama sent a tool call without a `function` object",
            )
            .with_hint(
                "try again; if it keeps happening, update Ollama or pick another model",
            )));
            return;
        };
        let index = self.calls;
        self.calls += 1;
        let id = call
            .id
            .filter(|i| !i.is_empty())
            .unwrap_or_else(|| format!("call_{index}"));
        let name = self
            .names
            .goshi(function.name.as_deref().unwrap_or_default());
        out.push_back(Ok(StreamEvent::ToolCallStart { index, id, name }));
        let fragment = match function.arguments {
            Some(Value::String(s)) if !s.trim().is_empty() => s,
            Some(Value::String(_)) | Some(Value::Null) | None => "{}".to_string(),
            Some(other) => other.to_string(),
        };
        out.push_back(Ok(StreamEvent::ToolCallArgumentsDelta { index, fragment }));
    }

    /// Whether the final `done: true` line arrived.
    pub fn saw_done(&self) -> bool {
        self.saw_done
    }
}

fn malformed(e: &serde_json::Error, line: &str) -> LlmError {
    let mut end = line.len().min(200);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    LlmError::protocol(format!(
        "Ollama sent a malformed answer line ({e}): {}",
        &line[..end]
    ))
    .with_advice(Advice::OllamaAddress)
}

fn interrupted() -> LlmError {
    LlmError::new(
        ErrorKind::StreamInterrupted,
        "stream interrupted: Ollama closed the connection before the answer was complete",
    )
    .with_hint("the partial answer was kept; ask again to continue")
}

impl WireDecoder for OllamaStreamDecoder {
    fn buffered(&self) -> usize {
        self.ndjson.buffered()
    }

    fn is_done(&self) -> bool {
        self.saw_done
    }

    fn feed(&mut self, bytes: &[u8], out: &mut VecDeque<Result<StreamEvent, LlmError>>) {
        let mut lines = std::mem::take(&mut self.lines);
        self.ndjson.feed(bytes, &mut lines);
        for line in lines.drain(..) {
            // Nothing after the `done: true` line belongs to the answer.
            if !self.saw_done {
                self.handle(&line, out);
            }
        }
        self.lines = lines;
    }

    fn finish(&mut self, out: &mut VecDeque<Result<StreamEvent, LlmError>>) {
        // A last line without its newline still counts.
        if let Some(line) = self.ndjson.finish() {
            self.handle(&line, out);
        }
        if !self.saw_done {
            out.push_back(Err(interrupted()));
        }
    }
}

/// The events of a non-streamed answer (one JSON object), in the order a stream would give
/// them, ending at the first error.
pub fn response_events(body: &str, names: ToolNameMap) -> Vec<Result<StreamEvent, LlmError>> {
    let mut decoder = OllamaStreamDecoder::new(names);
    let mut out = VecDeque::new();
    // Parsed whole, not split into lines, so a pretty-printed body works too.
    decoder.handle(body.trim(), &mut out);
    if !decoder.saw_done() {
        out.push_back(Err(interrupted()));
    }
    let mut events = Vec::with_capacity(out.len());
    for item in out {
        let stop = item.is_err();
        events.push(item);
        if stop {
            break;
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::types::ToolDefinition;

    fn names() -> ToolNameMap {
        ToolNameMap::new(&[ToolDefinition {
            name: "fs.read".into(),
            description: String::new(),
            parameters: serde_json::json!({}),
        }])
    }

    fn decode(input: &[u8], cuts: &[usize]) -> Vec<Result<StreamEvent, LlmError>> {
        let mut d = OllamaStreamDecoder::new(names());
        let mut out = VecDeque::new();
        let mut last = 0;
        for &c in cuts.iter().chain(std::iter::once(&input.len())) {
            d.feed(&input[last..c], &mut out);
            last = c;
        }
        d.finish(&mut out);
        out.into_iter().collect()
    }

    const TOOLS: &str = concat!(
        "{\"message\":{\"role\":\"assistant\",\"content\":\"H\u{e9}\"},\"done\":false}\n",
        "{\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[",
        "{\"function\":{\"index\":0,\"name\":\"fs_read\",\"arguments\":{\"path\":\"a\"}}},",
        "{\"id\":\"srv\",\"function\":{\"index\":1,\"name\":\"other\",\"arguments\":{}}}]},\"done\":false}\n",
        "{\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",",
        "\"prompt_eval_count\":5,\"eval_count\":2,\"total_duration\":1}\n"
    );

    #[test]
    fn text_tool_calls_finish_and_usage_under_any_split() {
        let want = vec![
            StreamEvent::TextDelta("H\u{e9}".into()),
            StreamEvent::ToolCallStart {
                index: 0,
                id: "call_0".into(),
                name: "fs.read".into(),
            },
            StreamEvent::ToolCallArgumentsDelta {
                index: 0,
                fragment: "{\"path\":\"a\"}".into(),
            },
            StreamEvent::ToolCallStart {
                index: 1,
                id: "srv".into(),
                name: "other".into(),
            },
            StreamEvent::ToolCallArgumentsDelta {
                index: 1,
                fragment: "{}".into(),
            },
            StreamEvent::Finish(FinishReason::ToolCalls),
            StreamEvent::Usage(Usage {
                prompt_tokens: 5,
                completion_tokens: 2,
                total_tokens: 7,
                ..Usage::ZERO
            }),
        ];
        let bytes = TOOLS.as_bytes();
        for cut in 0..=bytes.len() {
            let got: Vec<StreamEvent> = decode(bytes, &[cut])
                .into_iter()
                .map(|e| e.unwrap())
                .collect();
            assert_eq!(got, want, "cut at {cut}");
        }
        // The same final object, not streamed: no tool calls seen, so a plain stop.
        let got: Vec<StreamEvent> = response_events(TOOLS.lines().nth(2).unwrap(), names())
            .into_iter()
            .map(|e| e.unwrap())
            .collect();
        assert_eq!(
            got,
            vec![StreamEvent::Finish(FinishReason::Stop), want[6].clone()]
        );
    }

    #[test]
    fn bad_input_becomes_errors_not_panics() {
        let r = decode(b"{\"error\":\"boom\"}\n", &[]);
        assert_eq!(
            r[0].as_ref().unwrap_err().server_message.as_deref(),
            Some("boom")
        );
        for bad in [
            &b"{not json\n"[..],
            b"42\n",
            b"[]\n",
            b"{\"done\":\"yes\"}\n",
            b"{\"eval_count\":-1,\"done\":true}\n",
            b"{\"message\":{\"tool_calls\":[{}]},\"done\":true}\n",
        ] {
            let r = decode(bad, &[]);
            assert_eq!(
                r[0].as_ref().unwrap_err().kind,
                ErrorKind::Protocol,
                "{bad:?}"
            );
        }
        let r = decode(b"{\"message\":{\"content\":\"part\"}}\n", &[]);
        assert_eq!(
            r[0].as_ref().unwrap(),
            &StreamEvent::TextDelta("part".into())
        );
        assert_eq!(
            r[1].as_ref().unwrap_err().kind,
            ErrorKind::StreamInterrupted
        );
        // A last line without its newline, and an old server without done_reason.
        let r = decode(b"{\"done\":true}", &[]);
        assert_eq!(r, vec![Ok(StreamEvent::Finish(FinishReason::Stop))]);
        let r = decode(
            b"{\"done\":true,\"done_reason\":\"length\",\"eval_count\":3}\n",
            &[],
        );
        assert_eq!(r[0], Ok(StreamEvent::Finish(FinishReason::Length)));
        let r = response_events("  ", names());
        assert_eq!(r.len(), 1);
        assert!(r[0].is_err());
    }

    #[test]
    fn thinking_is_its_own_event_before_the_text_of_its_line() {
        let body = concat!(
            "{\"message\":{\"role\":\"assistant\",\"content\":\"\",\"thinking\":\"Let me see.\"},\"done\":false}\n",
            "{\"message\":{\"role\":\"assistant\",\"content\":\"Four.\",\"thinking\":\"\"},\"done\":false}\n",
            "{\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\"}\n",
        );
        let events: Vec<StreamEvent> = decode(body.as_bytes(), &[])
            .into_iter()
            .map(|e| e.unwrap())
            .filter(|e| !matches!(e, StreamEvent::Usage(_)))
            .collect();
        assert_eq!(
            events,
            vec![
                StreamEvent::ReasoningDelta("Let me see.".into()),
                StreamEvent::TextDelta("Four.".into()),
                StreamEvent::Finish(FinishReason::Stop),
            ]
        );
    }
}
