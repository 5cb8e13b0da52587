//! goshi: a local-first, safety-minded AI assistant for the terminal.
//!
//! The crate is layered; each layer depends only on the ones below it:
//!
//! - [`llm`]: the provider-neutral LLM layer (messages, the event stream, errors, retries) with
//!   the OpenAI and Ollama backends. It knows nothing of the CLI and never writes to the
//!   terminal: notices and advice are values the caller renders.
//! - [`safety`]: capabilities and permissions, the path guard, proposals.
//! - [`tools`], [`audit`]: what the model may do, and the record.
//! - [`persist`]: atomic file writes, a leaf every layer may use.
//! - [`config`], [`selfmodel`]: settings and the system prompt.
//! - [`text`]: small text helpers (sizes, one-line display), a leaf every layer may use.
//! - [`agent`]: the chat loop that ties the model to the tools.
//! - [`cli`]: the command line front end.

#![warn(missing_docs)]

pub mod agent;
pub mod audit;
pub mod cli;
pub mod config;
pub mod llm;
pub mod persist;
pub mod safety;
pub mod selfmodel;
pub mod sessions;
pub mod text;
pub mod tools;
