//! One user turn: model rounds and tool calls until the model answers in text.

use serde_json::json;

use super::limits::LimitHit;
use super::relay::{relay, ticker};
use super::repeats::Repeats;
use super::{ChatSession, Interrupt, Ui, Waiting};
use crate::audit::{AuditEvent, EventType};
use crate::cost::estimate;
use crate::cost::meter::tokens_of;
use crate::cost::{Charge, Pass, Refusal};
use crate::llm::usage::token_line;
use crate::llm::{
    AssistantTurn, ChatRequest, EventStream, FinishReason, LlmError, Message, ParsedArguments,
    ToolCall, Usage,
};
use crate::text::one_line;
use crate::tools::ProposalNote;

/// What came of one tool call's checks and run.
enum Outcome {
    /// It ran; its output, and the proposal it stored (`fs.write`).
    Ran(String, Option<ProposalNote>),
    /// It was refused (permission, validation) or failed; why.
    Refused(String),
    /// The user cancelled the whole turn at the permission prompt.
    Cancelled,
}

/// How a turn ended.
#[derive(Debug)]
pub enum TurnEnd {
    /// The model answered without asking for tools.
    Done,
    /// The user pressed Ctrl-C (while the model answered, or at a permission prompt); the
    /// partial answer was kept, and every tool call asked for has a result.
    Cancelled,
    /// The model kept calling tools past `llm.max_tool_rounds`.
    RoundLimit(u32),
    /// A cap against runaway answers or tool use was hit (see [`Limits`]).
    LimitReached(LimitHit),
    /// The model could not be reached or the answer broke; the partial answer was kept.
    Failed(LlmError),
    /// The next request could take the spend over a cap; nothing was sent.
    Refused(Refusal),
    /// The model called `tool` with identical arguments more than `limit` times.
    LoopStopped {
        /// The tool's name (model-chosen: escape it before showing it).
        tool: String,
        /// `llm.max_identical_tool_calls`.
        limit: u32,
    },
}

/// Why a round's tool calls stopped early.
enum ToolsStop {
    Limit(LimitHit),
    /// Ctrl-C at a permission prompt.
    Cancelled,
}

/// The result given to the model for a call the user cancelled, and for every call after it.
const CANCELLED_NOTE: &str = "not run: the user cancelled this turn at the permission prompt";

/// What one tool call gave back.
struct CallResult {
    /// The text that goes back to the model.
    text: String,
    /// The user cancelled the whole turn at the permission prompt.
    cancelled: bool,
}

pub(super) enum RoundEnd {
    Answer(AssistantTurn),
    Cancelled,
    Failed(LlmError),
    Refused(Refusal),
    Limit(LimitHit),
}

impl ChatSession {
    /// Runs one user turn: appends `input`, then alternates model answers and tool calls.
    pub async fn run_turn(
        &mut self,
        input: &str,
        ui: &mut dyn Ui,
        interrupt: &mut Interrupt,
    ) -> TurnEnd {
        self.add_message(Message::user(input));
        let max = self.config.max_tool_rounds;
        let mut repeats = Repeats::default();
        let mut round = 0u32;
        let mut calls_run = 0usize;
        loop {
            round += 1;
            let answer = match self.model_round(round, ui, interrupt).await {
                RoundEnd::Answer(a) => a,
                RoundEnd::Cancelled => return TurnEnd::Cancelled,
                RoundEnd::Failed(e) => return TurnEnd::Failed(e),
                RoundEnd::Refused(r) => return TurnEnd::Refused(r),
                RoundEnd::Limit(hit) => return TurnEnd::LimitReached(hit),
            };
            let calls = answer.tool_calls.clone();
            self.add_message(answer.to_message());
            if calls.is_empty() {
                return TurnEnd::Done;
            }
            if round >= max {
                // Every call still gets its result, so the history stays valid for the
                // next turn.
                for call in &calls {
                    self.add_message(Message::tool(
                        &call.id,
                        &call.name,
                        format!("not run: the limit of {max} tool rounds per turn was reached"),
                    ));
                }
                return TurnEnd::RoundLimit(max);
            }
            let limit = self.config.max_identical_tool_calls;
            let repeat_at = calls.iter().position(|c| repeats.count(c) >= limit);
            let (run, repeated) = calls.split_at(repeat_at.unwrap_or(calls.len()));
            let ran = self.run_tools(run, &mut calls_run, ui);
            if let Some(first) = repeated.first() {
                self.stop_loop(repeated, limit);
                if ran.is_ok() {
                    return TurnEnd::LoopStopped {
                        tool: first.name.clone(),
                        limit,
                    };
                }
            }
            match ran {
                Ok(()) => {}
                Err(ToolsStop::Limit(hit)) => return TurnEnd::LimitReached(hit),
                Err(ToolsStop::Cancelled) => return TurnEnd::Cancelled,
            }
        }
    }

    /// Answers `calls` without running them (the history stays valid for the next turn)
    /// and records why.
    fn stop_loop(&mut self, calls: &[ToolCall], limit: u32) {
        if let Some(first) = calls.first() {
            self.record(
                AuditEvent::new(EventType::ToolLoopStopped)
                    .tool(&first.name)
                    .outcome(format!(
                        "the same call ran {limit} times this turn (llm.max_identical_tool_calls)"
                    )),
            );
        }
        for call in calls {
            self.add_message(Message::tool(
                &call.id,
                &call.name,
                format!(
                    "not run: this turn already ran {limit} identical calls of {}; goshi \
                     stopped the turn to break a loop",
                    call.name
                ),
            ));
        }
    }

    /// Runs one answer's tool calls and adds their results to the history, within the
    /// per-turn call cap and the per-round result-bytes cap, until the user cancels the turn
    /// at a permission prompt. Every call gets a result (a "not run" note past a cap or after
    /// a cancel), so the history stays valid for the next turn.
    fn run_tools(
        &mut self,
        calls: &[ToolCall],
        calls_run: &mut usize,
        ui: &mut dyn Ui,
    ) -> Result<(), ToolsStop> {
        let limits = self.config.limits;
        let mut stop = None;
        if *calls_run + calls.len() > limits.max_calls_per_turn {
            stop = Some(ToolsStop::Limit(LimitHit::CallsPerTurn(
                limits.max_calls_per_turn,
            )));
        }
        let mut result_bytes = 0usize;
        for call in calls {
            let result = match &stop {
                Some(ToolsStop::Limit(h)) => format!("not run: {}", first_line(&h.to_string())),
                Some(ToolsStop::Cancelled) => CANCELLED_NOTE.to_string(),
                None => {
                    *calls_run += 1;
                    let r = self.run_tool(call, ui);
                    if r.cancelled {
                        stop = Some(ToolsStop::Cancelled);
                    }
                    result_bytes = result_bytes.saturating_add(r.text.len());
                    if result_bytes > limits.max_result_bytes_per_round {
                        let h = LimitHit::ResultBytes(limits.max_result_bytes_per_round);
                        let note = format!("not sent: {}", first_line(&h.to_string()));
                        stop = Some(ToolsStop::Limit(h));
                        note
                    } else {
                        r.text
                    }
                }
            };
            self.add_message(Message::tool(&call.id, &call.name, result));
        }
        stop.map_or(Ok(()), Err)
    }

    fn request(&self) -> ChatRequest {
        // `llm.tool_choice` is sent as configured in every round, `required` included: the
        // user asked for it, and `llm.max_tool_rounds` is what stops a model that then
        // never answers in text.
        let options = self.config.options.clone();
        ChatRequest {
            model: self.config.model.clone(),
            messages: self.history.clone(),
            tools: if self.config.tools_enabled {
                self.registry.definitions()
            } else {
                Vec::new()
            },
            options,
            no_stream: self.config.no_stream,
            prompt_cache_key: Some(self.cache_key.clone()),
        }
    }

    /// Prices the response (settling the request's hold), shows the cost line beside the
    /// token line, and records the response with its tokens by kind and its cost. An answer
    /// that arrived without a usage report is priced at goshi's estimate.
    fn charge(&mut self, pass: Pass, turn: &AssistantTurn, round: u32, ui: &mut dyn Ui) {
        let model = self.config.model.clone();
        let (usage, charge, estimated) = match turn.usage {
            Some(u) => {
                let charge = self
                    .meter
                    .as_mut()
                    .and_then(|m| m.after(pass, &model, Some(&u)));
                (u, charge, false)
            }
            None if turn.text.is_empty() && turn.tool_calls.is_empty() => {
                self.settle_unanswered(pass);
                return;
            }
            None => {
                let u = estimate::usage(&self.request(), &received_text(turn));
                let charge = self
                    .meter
                    .as_mut()
                    .and_then(|m| m.after_estimated(pass, &model, &u));
                (u, charge, true)
            }
        };
        self.record_response(&usage, charge, estimated, round, ui);
    }

    /// Shows the cost line and records the `llm_response` audit event.
    fn record_response(
        &mut self,
        u: &Usage,
        charge: Option<Charge>,
        estimated: bool,
        round: u32,
        ui: &mut dyn Ui,
    ) {
        let t = tokens_of(u);
        let mut detail = json!({
            "provider": self.backend.provider_name(),
            "model": self.config.model,
            "round": round,
            "tokens": {
                "input": t.input, "cached": t.cached, "cache_write": t.cache_write,
                "output": t.output, "reasoning": t.reasoning, "total": u.total_tokens,
            },
        });
        if estimated {
            detail["tokens_estimated"] = json!(true);
        }
        if let Some(c) = charge {
            ui.info(&c.line);
            for w in &c.warnings {
                ui.info(&format!("goshi: warning: {w}"));
            }
            detail["cost"] = c.audit;
        }
        self.record(AuditEvent::new(EventType::LlmResponse).detail(detail));
    }

    /// Settles the hold of a request that never produced an answer.
    fn settle_unanswered(&mut self, pass: Pass) {
        let model = self.config.model.clone();
        if let Some(m) = self.meter.as_mut() {
            m.after(pass, &model, None);
        }
    }

    fn record(&self, event: AuditEvent) {
        if let Some(a) = &self.audit {
            a.record(event);
        }
    }

    /// One model answer: stream it to the screen, keep what came, say why it stopped.
    async fn model_round(
        &mut self,
        round: u32,
        ui: &mut dyn Ui,
        interrupt: &mut Interrupt,
    ) -> RoundEnd {
        ui.waiting(Waiting::Model {
            model: &self.config.model,
        });
        let (mut stream, pass) = match self.open_stream(round, ui, interrupt).await {
            Ok(s) => s,
            Err(end) => return end,
        };
        let (turn, stopped) = relay(&mut stream, ui, interrupt, self.config.limits).await;
        drop(stream);
        ui.end_answer();
        if let Some(u) = &turn.usage {
            self.usage.record(u);
            ui.info(&token_line(
                self.backend.provider_name(),
                u,
                &self.config.model,
            ));
        }
        self.charge(pass, &turn, round, ui);
        if let Some(stop) = stopped {
            return self.keep_partial(turn, stop);
        }
        warn_about_the_end(&turn, self.config.options.max_tokens, ui);
        RoundEnd::Answer(turn)
    }

    /// Checks the request against the cost caps, sends it (recorded in the audit log) and
    /// waits for the stream to start.
    async fn open_stream(
        &mut self,
        round: u32,
        ui: &mut dyn Ui,
        interrupt: &mut Interrupt,
    ) -> Result<(EventStream, Pass), RoundEnd> {
        let request = self.request();
        let pass = match self.meter.as_mut().map(|m| m.before(&request)) {
            None => Pass::default(),
            Some(Ok(p)) => p,
            Some(Err(r)) => {
                self.record(
                    AuditEvent::new(EventType::BudgetRefused)
                        .outcome(r.message.clone())
                        .detail(json!({"model": request.model, "round": round})),
                );
                return Err(RoundEnd::Refused(r));
            }
        };
        self.record(AuditEvent::new(EventType::LlmRequest).detail(json!({
            "provider": self.backend.provider_name(),
            "model": request.model,
            "round": round,
            "messages": request.messages.len(),
            "tools_offered": request.tools.len(),
        })));
        let backend = self.backend.clone();
        let mut stop_flag = interrupt();
        let mut ticks = ticker();
        let mut starting = backend.stream(&request);
        let started = loop {
            tokio::select! {
                biased;
                _ = &mut stop_flag => {
                    self.settle_unanswered(pass);
                    return Err(RoundEnd::Cancelled);
                }
                s = &mut starting => break s,
                _ = ticks.tick() => ui.tick(),
            }
        };
        drop(starting);
        match started {
            Ok(s) => Ok((s, pass)),
            Err(e) => {
                self.settle_unanswered(pass);
                self.record(AuditEvent::new(EventType::LlmError).outcome(e.message.clone()));
                Err(RoundEnd::Failed(e))
            }
        }
    }

    /// After Ctrl-C or a broken stream: keeps what was said (incomplete tool calls are
    /// dropped, they cannot run).
    fn keep_partial(&mut self, turn: AssistantTurn, stop: RoundEnd) -> RoundEnd {
        if !turn.text.is_empty() {
            self.add_message(Message::assistant(turn.text.clone()));
        }
        match &stop {
            RoundEnd::Failed(e) => {
                self.record(AuditEvent::new(EventType::LlmError).outcome(e.message.clone()))
            }
            RoundEnd::Limit(hit) => self
                .record(AuditEvent::new(EventType::LlmError).outcome(first_line(&hit.to_string()))),
            _ => {}
        }
        stop
    }

    /// Runs one tool call (permission, validation, execution) and returns the text that
    /// goes back to the model. Refusals and failures are results too.
    fn run_tool(&mut self, call: &ToolCall, ui: &mut dyn Ui) -> CallResult {
        // Parsed once; the summary, the audit record and the tool all use this.
        let args = call.parse_arguments();
        let summary = self
            .registry
            .summarize_value(&call.name, args.json(), &self.tool_ctx);
        let logged = match args.json() {
            Some(v) => v.clone(),
            None => json!(call.arguments),
        };
        self.record(
            AuditEvent::new(EventType::ToolCall)
                .tool(&call.name)
                .args(logged)
                .detail(json!({"call_id": call.id})),
        );
        let outcome = self.check_and_run(call, args, &summary, ui);
        let cancelled = matches!(outcome, Outcome::Cancelled);
        let (ok, text, proposal) = match outcome {
            Outcome::Ran(out, proposal) => (true, out, proposal),
            Outcome::Refused(err) => (false, err, None),
            Outcome::Cancelled => (false, CANCELLED_NOTE.to_string(), None),
        };
        ui.tool_end(ok, &first_line(&text));
        if let Some(note) = &proposal {
            ui.proposal(note);
        }
        self.record(
            AuditEvent::new(EventType::ToolResult)
                .tool(&call.name)
                .outcome(if ok {
                    "ok".to_string()
                } else {
                    first_line(&text)
                }),
        );
        CallResult { text, cancelled }
    }

    /// Checks, asks and runs; the status line starts after any permission prompt, so the
    /// prompt never lands in the middle of it.
    fn check_and_run(
        &mut self,
        call: &ToolCall,
        args: ParsedArguments,
        summary: &str,
        ui: &mut dyn Ui,
    ) -> Outcome {
        // The name is the model's choice (an unknown one arrives as it was sent).
        let shown_name = one_line(&call.name, 80);
        let Some(cap) = self.registry.capability_of(&call.name) else {
            ui.tool_start(&shown_name, summary);
            let known: Vec<String> = self
                .registry
                .definitions()
                .into_iter()
                .map(|d| d.name)
                .collect();
            return Outcome::Refused(format!(
                "error: there is no tool named {:?}; available tools: {}",
                call.name,
                known.join(", ")
            ));
        };
        let args = match args.into_object() {
            Ok(v) => v,
            Err(msg) => {
                ui.tool_start(&shown_name, summary);
                return Outcome::Refused(format!("error: {msg}"));
            }
        };
        ui.end_answer();
        let decision = self.permissions.check(cap, &call.name, summary);
        ui.tool_start(&shown_name, summary);
        if decision.cancelled {
            self.record(
                AuditEvent::new(EventType::PermissionDenied)
                    .tool(&call.name)
                    .outcome(decision.how.to_string()),
            );
            return Outcome::Cancelled;
        }
        if !decision.granted {
            self.record(
                AuditEvent::new(EventType::PermissionDenied)
                    .tool(&call.name)
                    .outcome(decision.how.to_string()),
            );
            return Outcome::Refused(crate::safety::permissions::Permissions::denial_message(cap));
        }
        self.record(
            AuditEvent::new(EventType::PermissionGranted)
                .tool(&call.name)
                .outcome(decision.how.to_string()),
        );
        match self.registry.run_value(&call.name, args, &self.tool_ctx) {
            Ok(out) => {
                if let Some(note) = &out.proposal {
                    self.record(
                        AuditEvent::new(EventType::ProposalCreated)
                            .tool(&call.name)
                            .outcome(note.id.clone()),
                    );
                }
                Outcome::Ran(out.content, out.proposal)
            }
            Err(e) => Outcome::Refused(format!("error: {e}")),
        }
    }
}

/// Everything of an answer a provider bills as output: its text and its tool calls.
fn received_text(turn: &AssistantTurn) -> String {
    let mut s = turn.text.clone();
    for c in &turn.tool_calls {
        s.push_str(&c.name);
        s.push_str(&c.arguments);
    }
    s
}

/// Warns when an answer was cut, filtered, or empty.
fn warn_about_the_end(turn: &AssistantTurn, max_tokens: u32, ui: &mut dyn Ui) {
    match &turn.finish {
        Some(FinishReason::Length) => ui.info(&format!(
            "warning: the answer was cut at llm.max_tokens ({max_tokens} tokens); raise llm.max_tokens in goshi.yaml for longer answers"
        )),
        Some(FinishReason::ContentFilter) => {
            ui.info("warning: the provider's content filter stopped the answer")
        }
        // Without this, a one-shot run prints nothing at all and still succeeds.
        _ if turn.text.trim().is_empty() && turn.tool_calls.is_empty() => {
            ui.info("warning: the model's answer was empty")
        }
        _ => {}
    }
}

/// The first line of `s`, at most 240 characters, control characters escaped: it may quote
/// model-chosen text and is shown on the terminal. A longer line is cut after its last whole
/// sentence that fits (so a message is never cut mid-sentence), or with an ellipsis when not
/// even one sentence fits. goshi's own permission denial fits whole, so the way to grant the
/// capability (`--allow ...`) is always shown.
fn first_line(s: &str) -> String {
    const MAX: usize = 240;
    let line = s.lines().next().unwrap_or_default();
    if line.chars().count() <= MAX {
        return one_line(line, MAX);
    }
    let head: String = line.chars().take(MAX).collect();
    match head.rfind(". ") {
        Some(end) => one_line(&head[..=end], MAX),
        None => one_line(line, MAX),
    }
}

#[cfg(test)]
mod first_line_tests {
    use super::*;
    use crate::safety::permissions::{Capability, Permissions};

    #[test]
    fn long_lines_end_at_a_sentence_or_an_ellipsis() {
        for cap in [Capability::FsRead, Capability::FsWrite] {
            let denial = Permissions::denial_message(cap);
            assert_eq!(first_line(&denial), denial);
            assert!(denial.contains("--allow"), "{denial}");
        }
        let long = "x".repeat(300);
        assert_eq!(first_line(&long), format!("{}…", "x".repeat(240)));
        let sentences = format!("{}. {}", "a".repeat(200), "b".repeat(100));
        assert_eq!(first_line(&sentences), format!("{}.", "a".repeat(200)));
        assert_eq!(first_line("short. one\nsecond"), "short. one");
    }
}
