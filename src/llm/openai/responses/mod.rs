//! OpenAI's Responses API (`POST {base}/responses`): the second wire protocol, used when
//! `llm.openai.api` is `responses`, or under `auto` once a model's Chat Completions
//! endpoint refuses function tools with `reasoning_effort`.
//!
//! - [`request`]: the request body (instructions, input items, tools).
//! - [`stream`]: the SSE decoder and the parser for a non-streamed response object.
//! - [`remember`]: which models were switched, kept in the user cache dir.

pub mod remember;
pub mod request;
pub mod stream;

pub use request::responses_body;
pub use stream::{response_events, ResponsesStreamDecoder};

use crate::llm::error::LlmError;

/// Whether a Chat Completions error is the server asking for the Responses API: a 400
/// about `reasoning_effort` whose message points at `/v1/responses`, e.g. "Function tools
/// with reasoning_effort are not supported for gpt-5.1 in /v1/chat/completions. To use
/// function tools, use /v1/responses or set reasoning_effort to 'none'".
pub fn wants_responses(err: &LlmError) -> bool {
    err.status == Some(400)
        && err.param.as_deref() == Some("reasoning_effort")
        && err
            .server_message
            .as_deref()
            .is_some_and(|m| m.contains("/responses"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::error::ErrorKind;

    #[test]
    fn recognises_the_switch_error_only() {
        let mut e = LlmError::new(ErrorKind::BadRequest, "x").with_status(400);
        e.param = Some("reasoning_effort".into());
        e.server_message = Some(
            "Function tools with reasoning_effort are not supported for gpt-5.1 in \
             /v1/chat/completions. To use function tools, use /v1/responses or set \
             reasoning_effort to 'none'."
                .into(),
        );
        assert!(wants_responses(&e));
        let mut other = e.clone();
        other.server_message = Some("Unsupported parameter: 'reasoning_effort'".into());
        assert!(!wants_responses(&other));
        let mut other = e.clone();
        other.param = Some("temperature".into());
        assert!(!wants_responses(&other));
        let mut other = e;
        other.status = Some(500);
        assert!(!wants_responses(&other));
    }
}
