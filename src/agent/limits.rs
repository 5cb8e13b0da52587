//! Caps on what one turn may make goshi hold or do, so that a hostile or broken server (or a
//! model gone round in circles) cannot drive memory without bound: the size of one answer,
//! the tool calls run per answer and per turn, and the tool-result bytes sent back per round.
//! Each cap ends the turn with a [`LimitHit`] that says which one and what to do.

use std::collections::BTreeSet;

use crate::llm::StreamEvent;
use crate::text::human_size;

use crate::config::{
    DEFAULT_MAX_TOOL_CALLS_PER_ANSWER, DEFAULT_MAX_TOOL_CALLS_PER_TURN,
    DEFAULT_MAX_TOOL_RESULTS_BYTES,
};
pub use crate::llm::DEFAULT_MAX_RESPONSE_BYTES;

/// Bytes counted for each tool call on top of its name, id and arguments (what holding one
/// costs), so a flood of empty calls counts too.
const PER_CALL_BYTES: usize = 64;

/// The caps of one turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Text, tool names and tool arguments of one model answer (`llm.max_response_bytes`).
    pub max_response_bytes: usize,
    /// Tool calls in one model answer (`llm.max_tool_calls_per_answer`).
    pub max_calls_per_round: usize,
    /// Tool calls run in one user turn, all rounds together (`llm.max_tool_calls_per_turn`).
    pub max_calls_per_turn: usize,
    /// Bytes of tool results sent back to the model after one answer
    /// (`llm.max_tool_results_bytes`).
    pub max_result_bytes_per_round: usize,
}

/// 32 MiB per answer, 64 calls per answer, 256 per turn, 8 MiB of results per round.
pub const DEFAULT_LIMITS: Limits = Limits {
    max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
    max_calls_per_round: DEFAULT_MAX_TOOL_CALLS_PER_ANSWER,
    max_calls_per_turn: DEFAULT_MAX_TOOL_CALLS_PER_TURN,
    max_result_bytes_per_round: DEFAULT_MAX_TOOL_RESULTS_BYTES,
};

impl Default for Limits {
    /// [`DEFAULT_LIMITS`].
    fn default() -> Self {
        DEFAULT_LIMITS
    }
}

/// Which cap ended a turn; its `Display` says what happened and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitHit {
    /// The answer grew past `max_response_bytes`.
    ResponseSize(usize),
    /// One answer asked for more than `max_calls_per_round` tool calls.
    CallsPerRound(usize),
    /// The turn asked for more than `max_calls_per_turn` tool calls.
    CallsPerTurn(usize),
    /// The results of one round passed `max_result_bytes_per_round`.
    ResultBytes(usize),
}

impl std::fmt::Display for LimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LimitHit::ResponseSize(n) => write!(
                f,
                "the server's answer passed {} (llm.max_response_bytes); the rest was not \
                 read and the turn ended\n  hint: the server may be broken; raise \
                 llm.max_response_bytes in goshi.yaml if such answers are expected",
                human_size(*n as u64)
            ),
            LimitHit::CallsPerRound(n) => write!(
                f,
                "the model asked for more than {n} tool calls in one answer \
                 (llm.max_tool_calls_per_answer); none of them ran and the turn ended\n  hint: \
                 ask for less at once, or raise llm.max_tool_calls_per_answer in goshi.yaml"
            ),
            LimitHit::CallsPerTurn(n) => write!(
                f,
                "the model asked for more than {n} tool calls in this turn \
                 (llm.max_tool_calls_per_turn); the rest did not run and the turn ended\n  \
                 hint: ask more specifically, in smaller steps, or raise \
                 llm.max_tool_calls_per_turn in goshi.yaml"
            ),
            LimitHit::ResultBytes(n) => write!(
                f,
                "the tool results of one round passed {} (llm.max_tool_results_bytes); the \
                 rest were not sent or run and the turn ended\n  hint: ask the model to read \
                 fewer or smaller files at once, or raise llm.max_tool_results_bytes in \
                 goshi.yaml",
                human_size(*n as u64)
            ),
        }
    }
}

/// Counts one answer against the per-answer caps as its events arrive.
#[derive(Debug)]
pub struct AnswerBudget {
    limits: Limits,
    bytes: usize,
    calls: BTreeSet<usize>,
}

impl AnswerBudget {
    /// A budget for one answer.
    pub fn new(limits: Limits) -> Self {
        AnswerBudget {
            limits,
            bytes: 0,
            calls: BTreeSet::new(),
        }
    }

    /// Takes `event` into account; `Err` when it goes past a cap (the event must then be
    /// dropped and the answer abandoned).
    pub fn charge(&mut self, event: &StreamEvent) -> Result<(), LimitHit> {
        let bytes = match event {
            // Reasoning is not kept, but a server streaming it without end is still a
            // runaway answer.
            StreamEvent::TextDelta(t) | StreamEvent::ReasoningDelta(t) => t.len(),
            StreamEvent::ToolCallStart { index, id, name } => {
                if self.calls.insert(*index) && self.calls.len() > self.limits.max_calls_per_round {
                    return Err(LimitHit::CallsPerRound(self.limits.max_calls_per_round));
                }
                id.len() + name.len() + PER_CALL_BYTES
            }
            StreamEvent::ToolCallArgumentsDelta { fragment, .. } => fragment.len(),
            StreamEvent::Opaque(v) => v.to_string().len(),
            StreamEvent::Usage(_) | StreamEvent::Finish(_) => 0,
        };
        self.bytes = self.bytes.saturating_add(bytes);
        if self.bytes > self.limits.max_response_bytes {
            return Err(LimitHit::ResponseSize(self.limits.max_response_bytes));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Limits {
        Limits {
            max_response_bytes: 100,
            max_calls_per_round: 2,
            ..Limits::default()
        }
    }

    #[test]
    fn text_and_arguments_count_against_the_size() {
        let mut b = AnswerBudget::new(small());
        assert!(b.charge(&StreamEvent::TextDelta("x".repeat(60))).is_ok());
        let frag = StreamEvent::ToolCallArgumentsDelta {
            index: 0,
            fragment: "y".repeat(41),
        };
        assert_eq!(b.charge(&frag), Err(LimitHit::ResponseSize(100)));
    }

    #[test]
    fn calls_count_once_per_index() {
        let mut b = AnswerBudget::new(Limits {
            max_response_bytes: 10_000,
            ..small()
        });
        let start = |i| StreamEvent::ToolCallStart {
            index: i,
            id: String::new(),
            name: "fs_read".into(),
        };
        assert!(b.charge(&start(0)).is_ok());
        assert!(b.charge(&start(0)).is_ok());
        assert!(b.charge(&start(1)).is_ok());
        assert_eq!(b.charge(&start(2)), Err(LimitHit::CallsPerRound(2)));
    }

    #[test]
    fn messages_name_the_setting_or_the_numbers() {
        let m = LimitHit::ResponseSize(DEFAULT_MAX_RESPONSE_BYTES).to_string();
        assert!(
            m.contains("32.0 MiB") && m.contains("llm.max_response_bytes"),
            "{m}"
        );
        assert!(LimitHit::CallsPerTurn(256).to_string().contains("256"));
    }
}
