//! The provider-neutral LLM layer.
//!
//! Every backend turns its wire protocol into the same [`StreamEvent`]s, so everything above
//! this module (the chat loop, the CLI) is blind to which server answered. A backend only has
//! to implement [`Backend::stream`]; [`Backend::complete`] is that stream drained through an
//! [`Accumulator`].
//!
//! The layer never writes to the terminal. What it did on its own (a retry, a fallback, a
//! deprecated model) reaches the caller as a [`Notice`] through the [`Notifier`] it was
//! given; a failure is an [`LlmError`] whose `hint` is neutral advice and whose `advice` is
//! an [`Advice`] naming the situation and the [`Setting`] that matters, for the embedding
//! program to word in its own vocabulary (the goshi CLI does so in `cli::hints`).
//!
//! Embedding it in another program:
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use futures_util::StreamExt;
//! use goshi::llm::http::Transport;
//! use goshi::llm::ollama::OllamaBackend;
//! use goshi::llm::{Backend, ChatRequest, Message, Notice, Notifier, RequestOptions, StreamEvent};
//!
//! # async fn demo() -> Result<(), goshi::llm::LlmError> {
//! // Notices arrive as values; this program logs them in their neutral wording.
//! let notifier: Notifier = Arc::new(|n: &Notice| eprintln!("llm: {n}"));
//! // Retries, backoff and the idle timeout live in the transport.
//! let transport = Transport::new(Duration::from_secs(60), 3, notifier)?;
//! let backend = OllamaBackend::new("http://127.0.0.1:11434".into(), transport);
//! let request = ChatRequest {
//!     model: "llama3.1:8b".into(),
//!     messages: vec![Message::system("Be brief."), Message::user("Hello!")],
//!     options: RequestOptions { max_tokens: 256, ..Default::default() },
//!     ..Default::default()
//! };
//! // An error's Display is neutral: what happened, the server's words, what to do.
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
pub mod advice;
pub mod backend;
pub mod chat_wire;
pub mod circuit;
pub mod deadline;
pub mod error;
pub mod events;
pub mod http;
pub mod ndjson;
pub mod net_error;
pub mod notice;
pub mod ollama;
pub mod openai;
pub mod retry;
pub mod sse;
pub mod toolname;
pub mod types;
pub mod usage;

/// The default cap on one answer's text and tool arguments, 32 MiB: a broken or hostile
/// server cannot fill memory (the chat loop enforces it; `llm.max_response_bytes` sets it).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

pub use accumulate::{Accumulator, AssistantTurn};
pub use advice::{Advice, Setting};
pub use backend::{Backend, EventStream, Layer, ToolSupport};
pub use error::{ErrorKind, LlmError};
pub use events::{FinishReason, StreamEvent, Usage};
pub use notice::{Notice, Notifier};
pub use types::{
    ChatRequest, Message, ParsedArguments, RequestOptions, ToolCall, ToolChoice, ToolDefinition,
};
