//! The provider-neutral LLM layer.
//!
//! Every backend turns its wire protocol into the same [`StreamEvent`]s, so everything above
//! this module (the chat loop, the CLI) is blind to which server answered. A backend only has
//! to implement [`Backend::stream`]; [`Backend::complete`] is that stream drained through an
//! [`Accumulator`].
//!
//! Embedding it in another program:
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use futures_util::StreamExt;
//! use goshi::llm::backend::stderr_notifier;
//! use goshi::llm::http::Transport;
//! use goshi::llm::ollama::OllamaBackend;
//! use goshi::llm::{Backend, ChatRequest, Message, RequestOptions, StreamEvent};
//!
//! # async fn demo() -> Result<(), goshi::llm::LlmError> {
//! // Retries, backoff and the idle timeout live in the transport.
//! let transport = Transport::new(Duration::from_secs(60), 3, stderr_notifier())?;
//! let backend = OllamaBackend::new("http://127.0.0.1:11434".into(), transport);
//! let request = ChatRequest {
//!     model: "llama3.1:8b".into(),
//!     messages: vec![Message::system("Be brief."), Message::user("Hello!")],
//!     options: RequestOptions { max_tokens: 256, ..Default::default() },
//!     ..Default::default()
//! };
//! let mut events = backend.stream(&request).await?;
//! while let Some(event) = events.next().await {
//!     match event? {
//!         StreamEvent::TextDelta(text) => print!("{text}"),
//!         StreamEvent::Usage(u) => eprintln!("\n{} tokens", u.total_tokens),
//!         _ => {}
//!     }
//! }
//! // Or, without streaming: backend.complete(&request).await?.text
//! # Ok(())
//! # }
//! ```

pub mod accumulate;
pub mod backend;
pub mod chat_wire;
pub mod circuit;
pub mod deadline;
pub mod error;
pub mod events;
pub mod http;
pub mod ndjson;
pub mod net_error;
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
pub use types::{
    ChatRequest, Message, ParsedArguments, RequestOptions, ToolCall, ToolChoice, ToolDefinition,
};
