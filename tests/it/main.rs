//! goshi's integration tests: one test binary (linking one is much faster than linking
//! twenty), one module per area, and the shared helpers under `support/`.
//!
//! The real-server tests (`real_server*`) are `#[ignore]`d here and run against a real
//! llama-server by `scripts/real-server-tests.sh`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod agent_cli;
mod audit_cli;
mod auto_provider_cli;
mod backend_contract;
mod chat_cli;
mod circuit_cli;
mod config_cli;
mod consent_cli;
mod cost_cli;
mod doctor_cli;
mod fake_server_selftest;
mod fs_cli;
#[cfg(unix)]
mod fs_hardening;
#[cfg(unix)]
mod fs_leftovers;
#[cfg(target_os = "linux")]
mod fs_race;
mod hardening_cli;
mod layering;
mod limits_cli;
mod llm_wire_edges;
mod models_cli;
mod ollama_backend;
mod openai_chat;
mod openai_chat_failures;
mod openai_chat_lifecycle;
mod openai_chat_requests;
mod openai_responses;
mod openai_server_quirks;
mod openapi_conformance;
mod openapi_streams;
mod proxy_cli;
mod real_server;
mod real_server_circuit;
mod real_server_cost;
mod real_server_tools;
mod render_cli;
mod repl_cli;
mod repo_cli;
mod retry_cli;
mod scripting_cli;
mod sessions_cli;
mod shell_cli;
mod status_cli;
