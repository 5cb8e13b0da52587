//! Turns a stream of events into the final assistant message.

use std::collections::BTreeMap;

use super::events::{FinishReason, StreamEvent, Usage};
use super::types::{Message, ToolCall};

/// The complete answer of one model response.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AssistantTurn {
    /// All text deltas joined.
    pub text: String,
    /// The tool calls, ordered by their stream index.
    pub tool_calls: Vec<ToolCall>,
    /// Usage, if the server reported it.
    pub usage: Option<Usage>,
    /// Why the model stopped (None if the stream never said).
    pub finish: Option<FinishReason>,
    /// Opaque provider items to send back with the message.
    pub opaque: Vec<serde_json::Value>,
}

impl AssistantTurn {
    /// The assistant message to append to the conversation.
    pub fn to_message(&self) -> Message {
        Message::Assistant {
            content: self.text.clone(),
            tool_calls: self.tool_calls.clone(),
            opaque: self.opaque.clone(),
        }
    }
}

#[derive(Debug, Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

/// Collects [`StreamEvent`]s into an [`AssistantTurn`].
#[derive(Debug, Default)]
pub struct Accumulator {
    text: String,
    calls: BTreeMap<usize, PartialCall>,
    usage: Option<Usage>,
    finish: Option<FinishReason>,
    opaque: Vec<serde_json::Value>,
}

impl Accumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one event into account.
    pub fn push(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::TextDelta(t) => self.text.push_str(t),
            // Reasoning is shown, never kept: it is not the assistant's words.
            StreamEvent::ReasoningDelta(_) => {}
            StreamEvent::ToolCallStart { index, id, name } => {
                let call = self.calls.entry(*index).or_default();
                call.id.clone_from(id);
                call.name.clone_from(name);
            }
            StreamEvent::ToolCallArgumentsDelta { index, fragment } => {
                self.calls
                    .entry(*index)
                    .or_default()
                    .arguments
                    .push_str(fragment);
            }
            StreamEvent::Usage(u) => self.usage = Some(*u),
            StreamEvent::Opaque(v) => self.opaque.push(v.clone()),
            StreamEvent::Finish(r) => self.finish = Some(r.clone()),
        }
    }

    /// The text so far (kept when a stream fails midway).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether anything the user can see (text or a tool call) arrived.
    pub fn has_output(&self) -> bool {
        !self.text.is_empty() || !self.calls.is_empty()
    }

    /// The final answer.
    pub fn finish(self) -> AssistantTurn {
        AssistantTurn {
            text: self.text,
            tool_calls: self
                .calls
                .into_values()
                .map(|c| ToolCall {
                    id: c.id,
                    name: c.name,
                    arguments: c.arguments,
                })
                .collect(),
            usage: self.usage,
            finish: self.finish,
            opaque: self.opaque,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accumulates_two_interleaved_calls_by_index() {
        let mut acc = Accumulator::new();
        let events = [
            StreamEvent::TextDelta("Let me look.".into()),
            StreamEvent::ToolCallStart {
                index: 1,
                id: "b".into(),
                name: "fs.list".into(),
            },
            StreamEvent::ToolCallStart {
                index: 0,
                id: "a".into(),
                name: "fs.read".into(),
            },
            StreamEvent::ToolCallArgumentsDelta {
                index: 0,
                fragment: "{\"path\":".into(),
            },
            StreamEvent::ToolCallArgumentsDelta {
                index: 1,
                fragment: "{\"path\":\".\"}".into(),
            },
            StreamEvent::ToolCallArgumentsDelta {
                index: 0,
                fragment: "\"a.txt\"}".into(),
            },
            StreamEvent::Finish(FinishReason::ToolCalls),
        ];
        for e in &events {
            acc.push(e);
        }
        let turn = acc.finish();
        assert_eq!(turn.text, "Let me look.");
        assert_eq!(turn.tool_calls.len(), 2);
        assert_eq!(turn.tool_calls[0].id, "a");
        assert_eq!(turn.tool_calls[0].arguments, "{\"path\":\"a.txt\"}");
        assert_eq!(turn.tool_calls[1].name, "fs.list");
        assert_eq!(turn.finish, Some(FinishReason::ToolCalls));
    }
}
