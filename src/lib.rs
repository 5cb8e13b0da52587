//! goshi: a local-first, safety-minded AI assistant for the terminal.
//!
//! The crate is layered; each layer depends only on the ones below it:
//!
//! - [`llm`]: the provider-neutral LLM layer (messages, the event stream, errors, retries) with
//!   the OpenAI and Ollama backends. It knows nothing of the CLI.
//! - [`tools`], [`permissions`], [`audit`]: what the model may do, who allowed it, and the record.
//! - [`config`], [`selfmodel`]: settings and the system prompt.
//! - [`agent`]: the chat loop that ties the model to the tools.
//! - [`cli`]: the command line front end.

#![warn(missing_docs)]

pub mod agent;
pub mod audit;
pub mod cli;
pub mod config;
pub mod llm;
pub mod permissions;
pub mod provider;
pub mod selfmodel;
pub mod tools;
