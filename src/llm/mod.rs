//! The provider-neutral LLM layer.
//!
//! Every backend turns its wire protocol into the same [`StreamEvent`]s, so everything above
//! this module (the chat loop, the CLI) is blind to which server answered. A backend only has
//! to implement [`Backend::stream`]; [`Backend::complete`] is that stream drained through an
//! [`Accumulator`].

pub mod accumulate;
pub mod backend;
pub mod error;
pub mod events;
pub mod http;
pub mod ndjson;
pub mod ollama;
pub mod openai;
pub mod retry;
pub mod sse;
pub mod toolname;
pub mod types;
pub mod usage;

pub use accumulate::{Accumulator, AssistantTurn};
pub use backend::{Backend, EventStream};
pub use error::{ErrorKind, LlmError};
pub use events::{FinishReason, StreamEvent, Usage};
pub use types::{ChatRequest, Message, RequestOptions, ToolCall, ToolChoice, ToolDefinition};
