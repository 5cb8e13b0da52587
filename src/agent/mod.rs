//! The chat loop: send the conversation and the tools, stream the answer, run the tool
//! calls the user permits, send their results back, and repeat until the model answers
//! without tools (or the round cap is reached).

pub mod limits;
#[cfg(test)]
#[path = "partial_tests.rs"]
mod partial_tests;
mod relay;
mod repeats;
#[cfg(test)]
mod tests;
mod turn;
pub mod ui;

pub use limits::{LimitHit, Limits};
pub use turn::TurnEnd;
pub use ui::{Ui, Waiting};

use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::audit::AuditLog;
use crate::cost::Meter;
use crate::llm::usage::SessionUsage;
use crate::llm::{Backend, Message, RequestOptions};
use crate::safety::permissions::Permissions;
use crate::tools::{Registry, ToolContext};

/// A source of "the user pressed Ctrl-C" futures (the CLI's is
/// `cli::terminal::ctrl_c_interrupt`).
pub type Interrupt = Box<dyn FnMut() -> BoxFuture<'static, ()> + Send>;

/// An interrupt that never fires (for embedding and tests).
pub fn never_interrupt() -> Interrupt {
    Box::new(|| Box::pin(futures_util::future::pending::<()>()))
}

/// Settings of a chat session.
pub struct SessionConfig {
    /// The model to ask.
    pub model: String,
    /// Request options (temperature, token limit, tool choice, ...).
    pub options: RequestOptions,
    /// Model rounds per user turn before the loop stops.
    pub max_tool_rounds: u32,
    /// Ask for complete answers instead of streams.
    pub no_stream: bool,
    /// Whether tools are offered at all.
    pub tools_enabled: bool,
    /// Calls of one tool with identical arguments that may run in one turn
    /// (`llm.max_identical_tool_calls`); the next one ends the turn.
    pub max_identical_tool_calls: u32,
    /// Caps against runaway answers and tool use.
    pub limits: Limits,
}

/// One conversation with a model, its tools, permissions and audit log.
pub struct ChatSession {
    backend: Arc<dyn Backend>,
    config: SessionConfig,
    history: Vec<Message>,
    registry: Registry,
    tool_ctx: ToolContext,
    permissions: Permissions,
    audit: Option<AuditLog>,
    usage: SessionUsage,
    meter: Option<Meter>,
    /// This conversation's `prompt_cache_key`: random, the same for every request.
    cache_key: String,
    recorder: Option<Recorder>,
}

/// Called with each message the conversation gains (and the model in use), as it is added:
/// how a front end saves a conversation as it happens.
pub type Recorder = Box<dyn FnMut(&Message, &str) + Send>;

impl ChatSession {
    /// A new session whose first message is the self-model `system_prompt`.
    pub fn new(
        backend: Arc<dyn Backend>,
        config: SessionConfig,
        system_prompt: String,
        registry: Registry,
        tool_ctx: ToolContext,
        permissions: Permissions,
        audit: Option<AuditLog>,
    ) -> Self {
        ChatSession {
            backend,
            config,
            history: vec![Message::system(system_prompt)],
            registry,
            tool_ctx,
            permissions,
            audit,
            usage: SessionUsage::default(),
            meter: None,
            cache_key: format!("goshi-{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
            recorder: None,
        }
    }

    /// Prices every response and checks every request against the caps with `meter`.
    pub fn with_meter(mut self, meter: Meter) -> Self {
        self.meter = Some(meter);
        self
    }

    /// The cost meter, if any.
    pub fn meter(&self) -> Option<&Meter> {
        self.meter.as_ref()
    }

    /// Calls `recorder` with every message added from now on.
    pub fn set_recorder(&mut self, recorder: Recorder) {
        self.recorder = Some(recorder);
    }

    /// Continues an earlier conversation: `messages` (without a system message) follow the
    /// current system message, replacing whatever came after it.
    pub fn resume(&mut self, messages: Vec<Message>) {
        self.history.truncate(1);
        self.history.extend(
            messages
                .into_iter()
                .filter(|m| !matches!(m, Message::System { .. })),
        );
    }

    /// Switches to `model` for the rest of the session.
    pub fn set_model(&mut self, model: &str) {
        self.config.model = model.to_string();
    }

    /// Adds `message` to the conversation, telling the recorder.
    fn add_message(&mut self, message: Message) {
        if let Some(r) = self.recorder.as_mut() {
            r(&message, &self.config.model);
        }
        self.history.push(message);
    }

    /// The conversation so far, the system message first.
    pub fn history(&self) -> &[Message] {
        &self.history
    }

    /// Forgets the conversation, keeping the system message. A new conversation gets a
    /// new prompt cache key.
    pub fn clear(&mut self) {
        self.history.truncate(1);
        self.cache_key = format!("goshi-{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
    }

    /// Token totals of the session.
    pub fn usage(&self) -> &SessionUsage {
        &self.usage
    }

    /// The model in use.
    pub fn model(&self) -> &str {
        &self.config.model
    }

    /// The audit log, if any.
    pub fn audit(&self) -> Option<&AuditLog> {
        self.audit.as_ref()
    }
}
