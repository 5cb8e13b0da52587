//! The Ollama backend, over Ollama's native API: `/api/chat` streamed as NDJSON, the
//! installed models from `/api/tags`, tool support from `/api/show`.
//!
//! It reuses the shared [`Transport`](crate::llm::http::Transport) for retries and
//! timeouts, so only the wire format and Ollama's error texts live here.

pub mod client;
pub mod errors;
pub mod models;
pub mod stream;
pub mod wire;

pub use client::OllamaBackend;
pub use models::{probe, ModelInfo};
