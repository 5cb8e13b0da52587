//! Responses API streaming: SSE events named `response.*`, turned into [`StreamEvent`]s,
//! and the same events for a non-streamed response object.

use std::borrow::Cow;
use std::collections::{HashSet, VecDeque};

use serde::Deserialize;
use serde_json::Value;

use crate::llm::advice::Advice;
use crate::llm::backend::WireDecoder;
use crate::llm::error::{ErrorKind, LlmError};
use crate::llm::events::{FinishReason, StreamEvent, Usage};
use crate::llm::openai::errors::stream_error;
use crate::llm::openai::stream::{lenient, TokenDetails};
use crate::llm::sse::{SseDecoder, SseEvent};
use crate::llm::toolname::ToolNameMap;

type Out = VecDeque<Result<StreamEvent, LlmError>>;

/// Stands for "a message item" in `text_seen` when a text delta named none.
const ANY_ITEM: &str = "*";

/// The event types goshi acts on; every other one (annotations, lifecycle notices, types
/// added later) is skipped without being parsed.
const KNOWN: [&str; 11] = [
    "response.output_text.delta",
    "response.reasoning_summary_text.delta",
    "response.refusal.delta",
    "response.output_item.added",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.output_item.done",
    "response.completed",
    "response.incomplete",
    "response.failed",
    "error",
];

#[derive(Deserialize)]
struct TypeOnly<'a> {
    #[serde(default, borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
}

// Text deltas are the hot path: they are parsed into borrowed views, and only the text
// that reaches the caller is copied.
#[derive(Deserialize)]
struct Event<'a> {
    #[serde(default, borrow)]
    delta: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    item_id: Option<Cow<'a, str>>,
    #[serde(default)]
    output_index: Option<u64>,
    #[serde(default)]
    arguments: Option<Value>,
    #[serde(default)]
    item: Option<Value>,
    #[serde(default)]
    response: Option<Value>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    total_tokens: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    input_tokens_details: Option<TokenDetails>,
    #[serde(default, deserialize_with = "lenient")]
    output_tokens_details: Option<TokenDetails>,
}

/// One function call of the answer, found again by item id or output index.
struct Call {
    item_id: Option<String>,
    output_index: Option<u64>,
    /// Whether its arguments went out (as deltas or at once); they never go out twice.
    args_sent: bool,
}

/// How the response ended.
#[derive(Clone, Copy)]
enum End {
    Completed,
    Incomplete,
    Failed,
}

/// Decodes a Responses API SSE stream.
pub struct ResponsesStreamDecoder {
    sse: SseDecoder,
    names: ToolNameMap,
    events: Vec<SseEvent>,
    /// Calls in order of appearance: their position is our stream index.
    calls: Vec<Call>,
    /// Message items (by id and by `#output_index`) whose text arrived as deltas.
    text_seen: HashSet<String>,
    /// The reasoning summary part (item id, summary index) of the last summary delta.
    summary_part: Option<(Option<String>, Option<u64>)>,
    ended: bool,
}

impl ResponsesStreamDecoder {
    /// A decoder mapping wire tool names back through `names`.
    pub fn new(names: ToolNameMap) -> Self {
        ResponsesStreamDecoder {
            sse: SseDecoder::new(),
            names,
            events: Vec::new(),
            calls: Vec::new(),
            text_seen: HashSet::new(),
            summary_part: None,
            ended: false,
        }
    }

    fn handle(&mut self, event: Option<&str>, data: &str, out: &mut Out) {
        let trimmed = data.trim();
        if trimmed.is_empty() || trimmed == "[DONE]" {
            return;
        }
        let kind: Cow<'_, str> = match event {
            Some(name) if name != "message" => Cow::Borrowed(name),
            _ => match serde_json::from_str::<TypeOnly<'_>>(data) {
                Ok(TypeOnly { kind: Some(k) }) => k,
                Ok(TypeOnly { kind: None }) => {
                    out.push_back(Err(LlmError::protocol(format!(
                        "the server sent a stream event without a type: {}",
                        clip(data)
                    ))
                    .with_advice(HINT)));
                    return;
                }
                Err(e) => {
                    out.push_back(Err(malformed(&e, data)));
                    return;
                }
            },
        };
        if !KNOWN.contains(&kind.as_ref()) {
            return;
        }
        if kind == "response.reasoning_summary_text.delta" {
            self.summary_delta(data, out);
            return;
        }
        if kind == "error" {
            let v = serde_json::from_str::<Value>(data)
                .unwrap_or_else(|_| Value::String(data.to_string()));
            let inner = match v.get("error") {
                Some(e) if e.is_object() || e.is_string() => e.clone(),
                _ => v,
            };
            self.ended = true;
            out.push_back(Err(stream_error(&inner)));
            return;
        }
        let ev: Event<'_> = match serde_json::from_str(data) {
            Ok(ev) => ev,
            Err(e) => {
                out.push_back(Err(malformed(&e, data)));
                return;
            }
        };
        match kind.as_ref() {
            "response.output_text.delta" | "response.refusal.delta" => self.text_delta(ev, out),
            "response.output_item.added" => match &ev.item {
                Some(item) => self.item_added(item, ev.output_index, out),
                None => out.push_back(Err(missing("an added output item"))),
            },
            "response.function_call_arguments.delta" => self.arguments_delta(ev, out),
            "response.function_call_arguments.done" => self.arguments_done(ev, out),
            "response.output_item.done" => match &ev.item {
                Some(item) => self.item_done(item, ev.output_index, out),
                None => out.push_back(Err(missing("a finished output item"))),
            },
            "response.completed" => self.end(End::Completed, ev.response.as_ref(), out),
            "response.incomplete" => self.end(End::Incomplete, ev.response.as_ref(), out),
            _ => self.end(End::Failed, ev.response.as_ref(), out),
        }
    }

    fn text_delta(&mut self, ev: Event<'_>, out: &mut Out) {
        if let Some(id) = &ev.item_id {
            self.text_seen.insert(id.to_string());
        }
        if let Some(i) = ev.output_index {
            self.text_seen.insert(format!("#{i}"));
        }
        if ev.item_id.is_none() && ev.output_index.is_none() {
            // Text that names no item: no message item may repeat it.
            self.text_seen.insert(ANY_ITEM.to_string());
        }
        match ev.delta {
            Some(text) if !text.is_empty() => {
                out.push_back(Ok(StreamEvent::TextDelta(text.into_owned())))
            }
            Some(_) => {}
            None => out.push_back(Err(missing("a text delta"))),
        }
    }

    /// A piece of a reasoning summary (sent when the request asks for `reasoning.summary`).
    /// A new part of the summary starts a new paragraph. It is only shown, never kept, so a
    /// malformed one is skipped rather than failing the answer.
    fn summary_delta(&mut self, data: &str, out: &mut Out) {
        let Ok(v) = serde_json::from_str::<Value>(data) else {
            return;
        };
        let Some(text) = v
            .get("delta")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        else {
            return;
        };
        let part = (
            v.get("item_id").and_then(Value::as_str).map(str::to_string),
            v.get("summary_index").and_then(Value::as_u64),
        );
        let new_part = self.summary_part.as_ref().is_some_and(|last| *last != part);
        self.summary_part = Some(part);
        let text = if new_part {
            format!("\n\n{text}")
        } else {
            text.to_string()
        };
        out.push_back(Ok(StreamEvent::ReasoningDelta(text)));
    }

    fn find(&self, item_id: Option<&str>, output_index: Option<u64>) -> Option<usize> {
        item_id
            .and_then(|id| {
                self.calls
                    .iter()
                    .position(|c| c.item_id.as_deref() == Some(id))
            })
            .or_else(|| {
                let o = output_index?;
                self.calls.iter().position(|c| c.output_index == Some(o))
            })
    }

    fn start_call(
        &mut self,
        item: &Value,
        output_index: Option<u64>,
        out: &mut Out,
    ) -> Option<usize> {
        let Some(name) = item.get("name").and_then(Value::as_str) else {
            out.push_back(Err(missing("the name of a tool call")));
            return None;
        };
        let index = self.calls.len();
        let item_id = non_empty(item.get("id"));
        let id = non_empty(item.get("call_id"))
            .or_else(|| item_id.clone())
            .unwrap_or_else(|| format!("call_{index}"));
        self.calls.push(Call {
            item_id,
            output_index,
            args_sent: false,
        });
        out.push_back(Ok(StreamEvent::ToolCallStart {
            index,
            id,
            name: self.names.goshi(name),
        }));
        Some(index)
    }

    fn item_added(&mut self, item: &Value, output_index: Option<u64>, out: &mut Out) {
        if item.get("type").and_then(Value::as_str) != Some("function_call") {
            return;
        }
        let id = item.get("id").and_then(Value::as_str);
        if self.find(id, output_index).is_some() {
            return;
        }
        if let Some(index) = self.start_call(item, output_index, out) {
            // Normally empty here; some servers send the whole call at once.
            let args = arguments_text(item.get("arguments"));
            if !args.is_empty() {
                self.send_args(index, args, out);
            }
        }
    }

    fn send_args(&mut self, index: usize, fragment: String, out: &mut Out) {
        if let Some(call) = self.calls.get_mut(index) {
            call.args_sent = true;
        }
        if !fragment.is_empty() {
            out.push_back(Ok(StreamEvent::ToolCallArgumentsDelta { index, fragment }));
        }
    }

    fn arguments_delta(&mut self, ev: Event<'_>, out: &mut Out) {
        let Some(index) = self.find(ev.item_id.as_deref(), ev.output_index) else {
            out.push_back(Err(LlmError::protocol(
                "the server sent arguments for a tool call it never started",
            )
            .with_advice(HINT)));
            return;
        };
        match ev.delta {
            Some(d) => self.send_args(index, d.into_owned(), out),
            None => out.push_back(Err(missing("a tool call's arguments"))),
        }
    }

    fn arguments_done(&mut self, ev: Event<'_>, out: &mut Out) {
        // A call not seen yet is left to the `output_item.done` that carries it whole.
        if let Some(index) = self.find(ev.item_id.as_deref(), ev.output_index) {
            if !self.calls[index].args_sent {
                self.send_args(index, arguments_text(ev.arguments.as_ref()), out);
            }
        }
    }

    fn item_done(&mut self, item: &Value, output_index: Option<u64>, out: &mut Out) {
        let id = item.get("id").and_then(Value::as_str);
        match item.get("type").and_then(Value::as_str) {
            Some("function_call") => {
                let index = match self.find(id, output_index) {
                    Some(i) => i,
                    None => match self.start_call(item, output_index, out) {
                        Some(i) => i,
                        None => return,
                    },
                };
                if !self.calls[index].args_sent {
                    self.send_args(index, arguments_text(item.get("arguments")), out);
                }
            }
            // Kept with the turn and sent back, so the model keeps its reasoning.
            Some("reasoning") => out.push_back(Ok(StreamEvent::Opaque(item.clone()))),
            Some("message") => {
                let seen = self.text_seen.contains(ANY_ITEM)
                    || id.is_some_and(|i| self.text_seen.contains(i))
                    || output_index.is_some_and(|o| self.text_seen.contains(&format!("#{o}")));
                if seen {
                    return;
                }
                for part in item
                    .get("content")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let text = match part.get("type").and_then(Value::as_str) {
                        Some("output_text") => part.get("text"),
                        Some("refusal") => part.get("refusal"),
                        _ => None,
                    };
                    if let Some(t) = text.and_then(Value::as_str).filter(|t| !t.is_empty()) {
                        out.push_back(Ok(StreamEvent::TextDelta(t.to_string())));
                    }
                }
            }
            _ => {}
        }
    }

    fn end(&mut self, end: End, response: Option<&Value>, out: &mut Out) {
        self.ended = true;
        let reason = match end {
            End::Failed => {
                let err = match response
                    .and_then(|r| r.get("error"))
                    .filter(|e| !e.is_null())
                {
                    Some(e) => stream_error(e),
                    None => stream_error(&Value::String(
                        "the response failed and the server did not say why".into(),
                    )),
                };
                out.push_back(Err(err));
                return;
            }
            End::Completed if self.calls.is_empty() => FinishReason::Stop,
            End::Completed => FinishReason::ToolCalls,
            End::Incomplete => {
                match response
                    .and_then(|r| r.get("incomplete_details"))
                    .and_then(|d| d.get("reason"))
                    .and_then(Value::as_str)
                {
                    Some("max_output_tokens") => FinishReason::Length,
                    Some("content_filter") => FinishReason::ContentFilter,
                    Some(other) => FinishReason::Other(other.to_string()),
                    None => FinishReason::Other("incomplete".to_string()),
                }
            }
        };
        out.push_back(Ok(StreamEvent::Finish(reason)));
        match response
            .and_then(|r| r.get("usage"))
            .filter(|u| !u.is_null())
        {
            None => {}
            Some(u) => match WireUsage::deserialize(u) {
                Ok(u) => {
                    let input = u.input_tokens_details.unwrap_or_default();
                    let output = u.output_tokens_details.unwrap_or_default();
                    out.push_back(Ok(StreamEvent::Usage(Usage {
                        prompt_tokens: u.input_tokens,
                        completion_tokens: u.output_tokens,
                        total_tokens: u
                            .total_tokens
                            .unwrap_or(u.input_tokens.saturating_add(u.output_tokens)),
                        cached_tokens: input.cached_tokens,
                        cache_write_tokens: input.cache_write_tokens,
                        reasoning_tokens: output.reasoning_tokens,
                    })))
                }
                Err(e) => out.push_back(Err(LlmError::protocol(format!(
                    "the server sent malformed token usage ({e})"
                ))
                .with_advice(HINT))),
            },
        }
    }
}

impl WireDecoder for ResponsesStreamDecoder {
    fn buffered(&self) -> usize {
        self.sse.buffered()
    }

    fn is_done(&self) -> bool {
        self.ended
    }

    fn feed(&mut self, bytes: &[u8], out: &mut Out) {
        let mut events = std::mem::take(&mut self.events);
        self.sse.feed(bytes, &mut events);
        for ev in events.drain(..) {
            // Nothing after the final `response.*` event belongs to the answer.
            if !self.ended {
                self.handle(ev.event.as_deref(), &ev.data, out);
            }
        }
        self.events = events;
    }

    fn finish(&mut self, out: &mut Out) {
        self.sse.finish();
        if !self.ended {
            out.push_back(Err(LlmError::new(
                ErrorKind::StreamInterrupted,
                "stream interrupted: the server closed the connection before the answer was complete",
            )
            .with_hint("the partial answer was kept; ask again to continue")));
        }
    }
}

/// The events of a non-streamed response object, in the order a stream would give them.
pub fn response_events(body: &str, names: &ToolNameMap) -> Result<Vec<StreamEvent>, LlmError> {
    let v: Value = serde_json::from_str(body).map_err(|e| {
        LlmError::protocol(format!(
            "the server's answer is not valid JSON ({e}): {}",
            clip(body)
        ))
        .with_advice(HINT)
    })?;
    if !v.is_object() {
        return Err(LlmError::protocol(format!(
            "the server's answer is not a response object: {}",
            clip(body)
        ))
        .with_advice(HINT));
    }
    let mut d = ResponsesStreamDecoder::new(names.clone());
    let mut out = Out::new();
    match v.get("output") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                d.item_done(item, Some(i as u64), &mut out);
            }
        }
        Some(_) => out.push_back(Err(missing("the response's output list"))),
    }
    let has_error = v.get("error").is_some_and(|e| !e.is_null());
    match v.get("status").and_then(Value::as_str) {
        Some("failed") => d.end(End::Failed, Some(&v), &mut out),
        None if has_error => d.end(End::Failed, Some(&v), &mut out),
        Some("incomplete") => d.end(End::Incomplete, Some(&v), &mut out),
        Some("completed") | None => d.end(End::Completed, Some(&v), &mut out),
        Some(other) => out.push_back(Err(LlmError::protocol(format!(
            "the server returned a response that is still {other}"
        )))),
    }
    out.into_iter().collect()
}

const HINT: Advice = Advice::NotResponsesApi;

fn non_empty(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Arguments as JSON text; some servers send an object instead of a string.
fn arguments_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => String::new(),
        Some(other) => other.to_string(),
    }
}

fn clip(data: &str) -> &str {
    let mut end = data.len().min(200);
    while !data.is_char_boundary(end) {
        end -= 1;
    }
    &data[..end]
}

fn missing(what: &str) -> LlmError {
    LlmError::protocol(format!("the server's stream event lacks {what}")).with_advice(HINT)
}

fn malformed(e: &serde_json::Error, data: &str) -> LlmError {
    LlmError::protocol(format!(
        "the server sent a malformed stream event ({e}): {}",
        clip(data)
    ))
    .with_advice(HINT)
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
