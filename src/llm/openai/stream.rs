//! Chat Completions streaming: SSE events carrying `chat.completion.chunk` objects,
//! turned into [`StreamEvent`]s.

use std::borrow::Cow;
use std::collections::VecDeque;

use serde::Deserialize;

use crate::llm::advice::Advice;
use crate::llm::backend::WireDecoder;
use crate::llm::error::{ErrorKind, LlmError};
use crate::llm::events::{FinishReason, StreamEvent, Usage};
use crate::llm::sse::{SseDecoder, SseEvent};
use crate::llm::toolname::ToolNameMap;

// The chunk is parsed into borrowed views: only the text that reaches the caller is
// copied. Unknown fields (obfuscation, system_fingerprint, service_tier, timings, ...)
// are skipped by serde.
#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(default, borrow)]
    choices: Option<Vec<Choice<'a>>>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(default)]
    index: Option<u32>,
    #[serde(default, borrow)]
    delta: Option<Delta<'a>>,
    #[serde(default, borrow)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(default, borrow)]
    content: Option<Cow<'a, str>>,
    /// Reasoning, as compatible servers stream it: `reasoning_content` (llama.cpp's
    /// llama-server, vLLM, DeepSeek) or `reasoning` (newer vLLM). OpenAI's own Chat
    /// Completions sends none. Checked 2026-11-30.
    #[serde(default, borrow, alias = "reasoning")]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    refusal: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    tool_calls: Option<Vec<ToolCallDelta<'a>>>,
}

#[derive(Deserialize)]
struct ToolCallDelta<'a> {
    #[serde(default)]
    index: Option<usize>,
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    function: Option<FunctionDelta<'a>>,
}

#[derive(Deserialize)]
struct FunctionDelta<'a> {
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    arguments: Option<Cow<'a, str>>,
}

/// The `usage` object (shared with non-streamed answers). Unknown fields are ignored, and
/// so are details of the wrong type: a server's odd extension must not break an answer.
#[derive(Deserialize, Default)]
pub struct WireUsage {
    /// Prompt tokens.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Answer tokens.
    #[serde(default)]
    pub completion_tokens: u64,
    /// Total.
    #[serde(default)]
    pub total_tokens: Option<u64>,
    /// `prompt_tokens_details`: `cached_tokens`, `cache_write_tokens`.
    #[serde(default, deserialize_with = "lenient")]
    pub prompt_tokens_details: Option<TokenDetails>,
    /// `completion_tokens_details`: `reasoning_tokens`.
    #[serde(default, deserialize_with = "lenient")]
    pub completion_tokens_details: Option<TokenDetails>,
}

/// The breakdown objects of a usage (`*_tokens_details`), on both protocols.
#[derive(Deserialize, Default, Clone, Copy)]
pub struct TokenDetails {
    /// Tokens served from the prompt cache.
    #[serde(default, deserialize_with = "lenient_count")]
    pub cached_tokens: u64,
    /// Tokens written to the prompt cache.
    #[serde(default, deserialize_with = "lenient_count")]
    pub cache_write_tokens: u64,
    /// Reasoning tokens.
    #[serde(default, deserialize_with = "lenient_count")]
    pub reasoning_tokens: u64,
}

/// A details object, or None when it is missing, null or not an object.
pub fn lenient<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<TokenDetails>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(TokenDetails::deserialize(v).ok())
}

/// A count, or 0 when it is null, negative or not a number.
fn lenient_count<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(v.as_u64().unwrap_or(0))
}

impl WireUsage {
    /// Ours.
    pub fn to_usage(&self) -> Usage {
        let prompt = self.prompt_tokens_details.unwrap_or_default();
        let completion = self.completion_tokens_details.unwrap_or_default();
        Usage {
            prompt_tokens: self.prompt_tokens,
            completion_tokens: self.completion_tokens,
            total_tokens: self
                .total_tokens
                .unwrap_or(self.prompt_tokens.saturating_add(self.completion_tokens)),
            cached_tokens: prompt.cached_tokens,
            cache_write_tokens: prompt.cache_write_tokens,
            reasoning_tokens: completion.reasoning_tokens,
        }
    }
}

/// Decodes a Chat Completions SSE stream.
pub struct ChatStreamDecoder {
    sse: SseDecoder,
    names: ToolNameMap,
    events: Vec<SseEvent>,
    /// Stream index -> whether its start was announced.
    started: Vec<bool>,
    /// Stream index -> the call id the server gave (empty when none).
    ids: Vec<String>,
    /// The index of the call that started last.
    last: Option<usize>,
    saw_done: bool,
    saw_finish: bool,
}

impl ChatStreamDecoder {
    /// A decoder mapping wire tool names back through `names`.
    pub fn new(names: ToolNameMap) -> Self {
        ChatStreamDecoder {
            sse: SseDecoder::new(),
            names,
            events: Vec::new(),
            started: Vec::new(),
            ids: Vec::new(),
            last: None,
            saw_done: false,
            saw_finish: false,
        }
    }

    fn handle(&mut self, data: &str, out: &mut VecDeque<Result<StreamEvent, LlmError>>) {
        if data == "[DONE]" {
            self.saw_done = true;
            return;
        }
        if data.trim().is_empty() {
            return;
        }
        // serde would fill the struct from a JSON array too; a chunk is always an object.
        if !data.trim_start().starts_with('{') {
            out.push_back(Err(LlmError::protocol(format!(
                "the server sent a stream event that is not a JSON object: {}",
                data.chars().take(200).collect::<String>()
            ))
            .with_advice(Advice::NotOpenAiCompatible)));
            return;
        }
        let chunk: Chunk<'_> = match serde_json::from_str(data) {
            Ok(c) => c,
            Err(e) => {
                out.push_back(Err(malformed(&e, data)));
                return;
            }
        };
        if let Some(err) = chunk.error {
            out.push_back(Err(super::errors::stream_error(&err)));
            return;
        }
        for choice in chunk.choices.into_iter().flatten() {
            // Only the first choice is shown (goshi never asks for n > 1).
            if choice.index.unwrap_or(0) != 0 {
                continue;
            }
            if let Some(delta) = choice.delta {
                if let Some(thought) = delta.reasoning_content.filter(|t| !t.is_empty()) {
                    out.push_back(Ok(StreamEvent::ReasoningDelta(thought.into_owned())));
                }
                for text in [delta.content, delta.refusal].into_iter().flatten() {
                    if !text.is_empty() {
                        out.push_back(Ok(StreamEvent::TextDelta(text.into_owned())));
                    }
                }
                for (pos, call) in delta.tool_calls.into_iter().flatten().enumerate() {
                    self.tool_call(pos, call, out);
                }
            }
            if let Some(reason) = choice.finish_reason {
                self.saw_finish = true;
                out.push_back(Ok(StreamEvent::Finish(FinishReason::from_wire(&reason))));
            }
        }
        if let Some(u) = chunk.usage {
            out.push_back(Ok(StreamEvent::Usage(u.to_usage())));
        }
    }

    fn tool_call(
        &mut self,
        pos: usize,
        call: ToolCallDelta<'_>,
        out: &mut VecDeque<Result<StreamEvent, LlmError>>,
    ) {
        let id = call.id.filter(|id| !id.is_empty());
        let index = match (call.index, id.as_deref()) {
            (Some(index), _) => index,
            // Gemini omits `index`: a new id is a new call, a known id that call, and a
            // fragment without id continues the call that started last.
            (None, Some(id)) => self
                .ids
                .iter()
                .position(|known| known == id)
                .unwrap_or(self.started.len()),
            (None, None) => self.last.unwrap_or(pos),
        };
        if index > 1024 {
            out.push_back(Err(LlmError::protocol(format!(
                "the server sent a tool call with an implausible index {index}"
            ))));
            return;
        }
        if self.started.len() <= index {
            self.started.resize(index + 1, false);
            self.ids.resize(index + 1, String::new());
        }
        let (name, arguments) = match call.function {
            Some(f) => (f.name, f.arguments),
            None => (None, None),
        };
        if !self.started[index] {
            self.started[index] = true;
            self.last = Some(index);
            let id = match id {
                Some(id) => {
                    let id = id.into_owned();
                    self.ids[index].clone_from(&id);
                    id
                }
                None => format!("call_{index}"),
            };
            let name = self.names.goshi(name.as_deref().unwrap_or_default());
            out.push_back(Ok(StreamEvent::ToolCallStart { index, id, name }));
        }
        if let Some(args) = arguments {
            if !args.is_empty() {
                out.push_back(Ok(StreamEvent::ToolCallArgumentsDelta {
                    index,
                    fragment: args.into_owned(),
                }));
            }
        }
    }
}

fn malformed(e: &serde_json::Error, data: &str) -> LlmError {
    let mut end = data.len().min(200);
    while !data.is_char_boundary(end) {
        end -= 1;
    }
    LlmError::protocol(format!(
        "the server sent a malformed stream event ({e}): {}",
        &data[..end]
    ))
    .with_advice(Advice::NotOpenAiCompatible)
}

impl WireDecoder for ChatStreamDecoder {
    fn buffered(&self) -> usize {
        self.sse.buffered()
    }

    fn is_done(&self) -> bool {
        self.saw_done
    }

    fn feed(&mut self, bytes: &[u8], out: &mut VecDeque<Result<StreamEvent, LlmError>>) {
        let mut events = std::mem::take(&mut self.events);
        self.sse.feed(bytes, &mut events);
        for ev in events.drain(..) {
            // Nothing after `[DONE]` belongs to the answer.
            if self.saw_done {
                continue;
            }
            match ev.event.as_deref() {
                None | Some("message") => self.handle(&ev.data, out),
                Some("error") => out.push_back(Err(super::errors::stream_error(
                    &serde_json::from_str::<serde_json::Value>(&ev.data)
                        .map(|v| v.get("error").cloned().unwrap_or(v))
                        .unwrap_or(serde_json::Value::String(ev.data.clone())),
                ))),
                Some(_) => {}
            }
        }
        self.events = events;
    }

    fn finish(&mut self, out: &mut VecDeque<Result<StreamEvent, LlmError>>) {
        self.sse.finish();
        if !self.saw_done && !self.saw_finish {
            out.push_back(Err(LlmError::new(
                ErrorKind::StreamInterrupted,
                "stream interrupted: the server closed the connection before the answer was complete",
            )
            .with_hint("the partial answer was kept; ask again to continue")));
        }
    }
}

/// The events of a non-streamed `chat.completion` body, in the order a stream would give
/// them.
pub fn completion_events(body: &str, names: &ToolNameMap) -> Result<Vec<StreamEvent>, LlmError> {
    #[derive(Deserialize)]
    struct Completion {
        #[serde(default)]
        choices: Vec<FullChoice>,
        #[serde(default)]
        usage: Option<WireUsage>,
    }
    #[derive(Deserialize)]
    struct FullChoice {
        #[serde(default)]
        message: Option<FullMessage>,
        #[serde(default)]
        finish_reason: Option<String>,
    }
    #[derive(Deserialize)]
    struct FullMessage {
        #[serde(default)]
        content: Option<String>,
        /// Reasoning, as compatible servers send it (see `Delta::reasoning_content`).
        #[serde(default, alias = "reasoning")]
        reasoning_content: Option<String>,
        #[serde(default)]
        refusal: Option<String>,
        // Some compatible servers send `"tool_calls": null` for a text-only answer.
        #[serde(default)]
        tool_calls: Option<Vec<FullCall>>,
    }
    #[derive(Deserialize)]
    struct FullCall {
        #[serde(default)]
        id: Option<String>,
        function: FullFunction,
    }
    #[derive(Deserialize)]
    struct FullFunction {
        #[serde(default)]
        name: String,
        #[serde(default)]
        arguments: Option<serde_json::Value>,
    }
    // Some servers answer 200 with an error object instead of a completion.
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(body) {
        if let Some(err) = map.get("error").filter(|e| !e.is_null()) {
            return Err(super::errors::stream_error(err));
        }
    }
    let c: Completion = serde_json::from_str(body).map_err(|e| malformed(&e, body))?;
    let mut out = Vec::new();
    let choice = c
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| LlmError::protocol("the server's answer has no choices"))?;
    if let Some(m) = choice.message {
        if let Some(thought) = m.reasoning_content.filter(|t| !t.is_empty()) {
            out.push(StreamEvent::ReasoningDelta(thought));
        }
        for text in [m.content, m.refusal].into_iter().flatten() {
            if !text.is_empty() {
                out.push(StreamEvent::TextDelta(text));
            }
        }
        for (index, call) in m.tool_calls.into_iter().flatten().enumerate() {
            out.push(StreamEvent::ToolCallStart {
                index,
                id: call
                    .id
                    .filter(|i| !i.is_empty())
                    .unwrap_or_else(|| format!("call_{index}")),
                name: names.goshi(&call.function.name),
            });
            let args = match call.function.arguments {
                Some(serde_json::Value::String(s)) => s,
                Some(serde_json::Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            if !args.is_empty() {
                out.push(StreamEvent::ToolCallArgumentsDelta {
                    index,
                    fragment: args,
                });
            }
        }
    }
    if let Some(r) = choice.finish_reason {
        out.push(StreamEvent::Finish(FinishReason::from_wire(&r)));
    }
    if let Some(u) = c.usage {
        out.push(StreamEvent::Usage(u.to_usage()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(input: &[u8], cuts: &[usize]) -> Vec<Result<StreamEvent, LlmError>> {
        let mut d =
            ChatStreamDecoder::new(ToolNameMap::new(&[crate::llm::types::ToolDefinition {
                name: "fs.read".into(),
                description: String::new(),
                parameters: serde_json::json!({}),
            }]));
        let mut out = VecDeque::new();
        let mut last = 0;
        for &c in cuts.iter().chain(std::iter::once(&input.len())) {
            d.feed(&input[last..c], &mut out);
            last = c;
        }
        d.finish(&mut out);
        out.into_iter().collect()
    }

    #[test]
    fn text_tool_calls_usage_and_unknown_fields() {
        let s = concat!(
            "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null},\"finish_reason\":null}],\"usage\":null,\"obfuscation\":\"abc\"}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hé\"}}],\"system_fingerprint\":\"fp\",\"service_tier\":\"default\"}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\",\"tool_calls\":[{\"index\":0,\"id\":\"abc123\",\"type\":\"function\",\"function\":{\"name\":\"fs_read\",\"arguments\":\"{\"}}]}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"}\"}}]}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}],\"timings\":{\"x\":1}}\n\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7,\"prompt_tokens_details\":{\"cached_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0}}}\n\n",
            "data: [DONE]\n\n"
        );
        let ev: Vec<StreamEvent> = decode(s.as_bytes(), &[3, 100, 101, 250])
            .into_iter()
            .map(|e| e.unwrap())
            .collect();
        assert_eq!(
            ev,
            vec![
                StreamEvent::TextDelta("Hé".into()),
                StreamEvent::ToolCallStart {
                    index: 0,
                    id: "abc123".into(),
                    name: "fs.read".into()
                },
                StreamEvent::ToolCallArgumentsDelta {
                    index: 0,
                    fragment: "{".into()
                },
                StreamEvent::ToolCallArgumentsDelta {
                    index: 0,
                    fragment: "}".into()
                },
                StreamEvent::Finish(FinishReason::ToolCalls),
                StreamEvent::Usage(Usage {
                    prompt_tokens: 5,
                    completion_tokens: 2,
                    total_tokens: 7,
                    ..Usage::ZERO
                }),
            ]
        );
    }

    #[test]
    fn huge_usage_numbers_saturate_instead_of_overflowing() {
        let r = decode(
            b"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":18446744073709551615,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n",
            &[],
        );
        assert_eq!(
            r,
            vec![Ok(StreamEvent::Usage(Usage {
                prompt_tokens: u64::MAX,
                completion_tokens: 2,
                total_tokens: u64::MAX,
                ..Usage::ZERO
            }))]
        );
    }

    #[test]
    fn a_whole_answer_that_is_an_error_object_shows_the_server_message() {
        let err = completion_events(
            r#"{"error":{"message":"model is loading","type":"server_error"}}"#,
            &ToolNameMap::default(),
        )
        .unwrap_err();
        assert_eq!(err.server_message.as_deref(), Some("model is loading"));
    }

    #[test]
    fn error_object_malformed_json_and_early_close_are_errors() {
        let r = decode(
            b"data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n",
            &[],
        );
        let e = r[0].as_ref().unwrap_err();
        assert_eq!(e.server_message.as_deref(), Some("overloaded"));
        let r = decode(b"data: {not json\n\n", &[]);
        assert!(r[0].as_ref().unwrap_err().message.contains("malformed"));
        let r = decode(
            b"data: {\"choices\":[{\"delta\":{\"content\":\"partial\"}}]}\n\n",
            &[],
        );
        assert_eq!(
            r[0].as_ref().unwrap(),
            &StreamEvent::TextDelta("partial".into())
        );
        assert_eq!(
            r[1].as_ref().unwrap_err().kind,
            ErrorKind::StreamInterrupted
        );
    }

    #[test]
    fn compatible_servers_reasoning_is_its_own_event_streamed_or_whole() {
        let body = concat!(
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"Hmm.\"}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\" Ok.\"}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"\",\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}\n\n",
            "data: [DONE]\n\n",
        );
        let events: Vec<StreamEvent> = decode(body.as_bytes(), &[])
            .into_iter()
            .map(|e| e.unwrap())
            .collect();
        assert_eq!(
            events,
            vec![
                StreamEvent::ReasoningDelta("Hmm.".into()),
                StreamEvent::ReasoningDelta(" Ok.".into()),
                StreamEvent::TextDelta("Hi".into()),
                StreamEvent::Finish(FinishReason::Stop),
            ]
        );
        let whole = r#"{"choices":[{"message":{"role":"assistant","content":"Hi","reasoning_content":"Hmm."},"finish_reason":"stop"}]}"#;
        let events = completion_events(whole, &ToolNameMap::new(&[])).unwrap();
        assert_eq!(events[0], StreamEvent::ReasoningDelta("Hmm.".into()));
        assert_eq!(events[1], StreamEvent::TextDelta("Hi".into()));
    }
}
