//! A conservative estimate of a request's prompt tokens, made before it is sent.
//!
//! goshi has no tokenizer for every model it may talk to, so it over-counts on purpose:
//! each character is weighed by the least a BPE tokenizer packs into one token. An ASCII
//! letter or digit counts 2/5 of a token (real tokenizers average 4 or more per token in
//! prose, 2 to 3 in hex or base64), ASCII whitespace 1/5, ASCII punctuation 4/5 (`{"` and
//! `":"` are single tokens), any other character a whole token, and one outside the Basic
//! Multilingual Plane (most emoji) two. Every message adds 4 tokens of framing, every
//! tool 100 on top of its JSON (servers render tool schemas into a longer hidden prompt),
//! and every request 80 (the hidden instructions reasoning models get). On OpenAI's own
//! recorded examples the estimate is 1.1x to 7x the true count, never below it (see the
//! corpus test); for a budget check an over-estimate only means refusing a little early.

use crate::llm::{ChatRequest, Message, Usage};

/// Tokens every request is charged before its messages.
pub const PER_REQUEST: u64 = 80;
/// Framing tokens per message.
pub const PER_MESSAGE: u64 = 4;
/// Hidden tokens per tool on top of its JSON.
pub const PER_TOOL: u64 = 100;

/// Weight of `s` in fifths of a token.
fn fifths(s: &str) -> u64 {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                2
            } else if c.is_ascii_whitespace() {
                1
            } else if c.is_ascii() {
                4
            } else if c.len_utf8() == 4 {
                10
            } else {
                5
            }
        })
        .sum()
}

fn message_fifths(m: &Message) -> u64 {
    let framing = PER_MESSAGE * 5;
    framing
        + match m {
            Message::System { content } | Message::User { content } => fifths(content),
            Message::Assistant {
                content,
                tool_calls,
                opaque,
            } => {
                let calls: u64 = tool_calls
                    .iter()
                    .map(|c| fifths(&c.id) + fifths(&c.name) + fifths(&c.arguments) + framing)
                    .sum();
                // Opaque items (encrypted reasoning) go back as sent; count their JSON.
                let opaque: u64 = opaque.iter().map(|v| fifths(&v.to_string())).sum();
                fifths(content) + calls + opaque
            }
            Message::Tool {
                tool_call_id,
                name,
                content,
            } => fifths(tool_call_id) + fifths(name) + fifths(content),
        }
}

/// The estimated tokens of answer text `s` that arrived without a usage report (the same
/// over-count as for prompts).
pub fn text_tokens(s: &str) -> u64 {
    fifths(s).div_ceil(5)
}

/// The estimated usage of `req` answered with `received` (text and tool calls) when the
/// server reported none.
pub fn usage(req: &ChatRequest, received: &str) -> Usage {
    let input = prompt_tokens(req);
    let output = text_tokens(received);
    Usage {
        prompt_tokens: input,
        completion_tokens: output,
        total_tokens: input.saturating_add(output),
        ..Usage::ZERO
    }
}

/// The estimated prompt tokens of `req`: never below the true count on the corpus of
/// recorded requests in this module's tests (see the module docs for the rule).
pub fn prompt_tokens(req: &ChatRequest) -> u64 {
    let messages: u64 = req.messages.iter().map(message_fifths).sum();
    let tools: u64 = req
        .tools
        .iter()
        .map(|t| {
            let schema = serde_json::json!({
                "name": t.name, "description": t.description, "parameters": t.parameters,
            });
            fifths(&schema.to_string()) + PER_TOOL * 5
        })
        .sum();
    PER_REQUEST + (messages + tools).div_ceil(5)
}

#[cfg(test)]
#[path = "estimate_tests.rs"]
mod tests;
