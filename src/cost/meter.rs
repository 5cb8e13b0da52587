//! The meter of one chat session: checks each request against the caps before it is sent,
//! prices each response, and keeps the session's totals by model and token kind.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::estimate;
use super::ledger::{local_day, Hold, HoldOutcome, Ledger, Spend, Tokens};
use super::money::Micros;
use super::prices::{cost_at, cost_of, PriceSource, PriceTable, TABLE_DATE};
use super::CostSettings;
use crate::llm::{ChatRequest, Usage};

/// What one model cost this session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelSpend {
    /// Tokens by kind.
    pub tokens: Tokens,
    /// The cost; None when the model is local or has no price.
    pub micros: Option<Micros>,
    /// Responses that reported usage.
    pub responses: u64,
}

/// Why a request was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What happened and why.
    pub message: String,
    /// What to do.
    pub hint: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A request let through: its hold on the daily cap, if one was taken.
#[derive(Debug, Default)]
pub struct Pass {
    hold: Option<(String, Hold)>,
}

/// What a response cost, for the screen and the audit trail.
#[derive(Debug, Clone, PartialEq)]
pub struct Charge {
    /// `OpenAI cost: $0.0123 (session $0.4567, today $1.20)`, `... cost: local`, or
    /// `... cost unknown (add it under cost.prices)`.
    pub line: String,
    /// The `cost` object of the response's audit event.
    pub audit: Value,
    /// Warnings to show (the day passed `cost.warn_usd`, the ledger could not be written).
    pub warnings: Vec<String>,
}

/// The session's meter.
#[derive(Debug)]
pub struct Meter {
    provider: String,
    local: bool,
    settings: CostSettings,
    ledger: Option<Ledger>,
    session_id: String,
    by_model: BTreeMap<String, ModelSpend>,
    session_total: Micros,
    warned: bool,
}

impl Meter {
    /// A meter for `provider`; `local` servers (Ollama, compatible servers) cost nothing.
    /// Without a ledger nothing outlives the process and a daily cap refuses every request.
    pub fn new(
        provider: &str,
        local: bool,
        settings: CostSettings,
        ledger: Option<Ledger>,
        session_id: &str,
    ) -> Self {
        Meter {
            provider: provider.to_string(),
            local,
            settings,
            ledger,
            session_id: session_id.to_string(),
            by_model: BTreeMap::new(),
            session_total: Micros::ZERO,
            warned: false,
        }
    }

    /// Whether the server is local (its answers say `cost: local`).
    pub fn is_local(&self) -> bool {
        self.local
    }

    /// The session's spend by model.
    pub fn by_model(&self) -> &BTreeMap<String, ModelSpend> {
        &self.by_model
    }

    /// The session's total.
    pub fn session_total(&self) -> Micros {
        self.session_total
    }

    /// Warnings of the ledger (a corrupt file set aside), to show once.
    pub fn take_warnings(&self) -> Vec<String> {
        self.ledger
            .as_ref()
            .map(Ledger::take_warnings)
            .unwrap_or_default()
    }

    fn table(&self) -> &PriceTable {
        &self.settings.prices
    }

    /// Checks `req` against the caps: its worst case (estimated prompt tokens at the input
    /// rate plus its output token limit at the output rate) must fit in what is left.
    pub fn before(&mut self, req: &ChatRequest) -> Result<Pass, Refusal> {
        let caps = self.settings.session_max_usd.is_some() || self.settings.daily_max_usd.is_some();
        if self.local || !caps {
            return Ok(Pass::default());
        }
        let Some((price, _)) = self.table().lookup(&req.model) else {
            return Err(Refusal {
                message: format!(
                    "refusing to send: {} has no price, so goshi cannot check the request against \
                     the cost caps; nothing was sent",
                    req.model
                ),
                hint: format!(
                    "add it under cost.prices in goshi.yaml ({}: {{input: USD, cached_input: USD, \
                     output: USD}} per 1M tokens), or remove the caps",
                    req.model
                ),
            });
        };
        let prompt = estimate::prompt_tokens(req);
        let limit = u64::from(req.options.max_tokens);
        let worst = cost_at(prompt, price.input).plus(cost_at(limit, price.output));
        let what = format!(
            "the request could cost up to {worst} (about {prompt} prompt tokens and up to {limit} \
             answer tokens of {})",
            req.model
        );
        if let Some(cap) = self.settings.session_max_usd {
            if self.session_total.plus(worst) > cap {
                return Err(refusal(
                    &what,
                    "cost.session_max_usd",
                    cap,
                    self.session_total,
                    "this session",
                ));
            }
        }
        let Some(cap) = self.settings.daily_max_usd else {
            return Ok(Pass::default());
        };
        let day = local_day();
        let outcome = match &self.ledger {
            Some(l) => l.hold(&day, worst, Some(cap)),
            None => Err("this system has no user data folder".to_string()),
        };
        match outcome {
            Ok(HoldOutcome::Held(h)) => Ok(Pass {
                hold: Some((day, h)),
            }),
            Ok(HoldOutcome::Refused { today }) => {
                Err(refusal(&what, "cost.daily_max_usd", cap, today, "today"))
            }
            Err(e) => Err(Refusal {
                message: format!(
                    "refusing to send: cost.daily_max_usd is set but the spend ledger cannot be \
                     read ({e}); nothing was sent"
                ),
                hint: "fix the problem above, or remove cost.daily_max_usd from goshi.yaml".into(),
            }),
        }
    }

    /// Prices a response (`usage` None: the request failed before reporting any) and
    /// settles the request's hold.
    pub fn after(&mut self, pass: Pass, model: &str, usage: Option<&Usage>) -> Option<Charge> {
        let Some(usage) = usage else {
            if let (Some((day, hold)), Some(l)) = (&pass.hold, &self.ledger) {
                let _ = l.release(day, hold);
            }
            return None;
        };
        let tokens = tokens_of(usage);
        let entry = self.by_model.entry(model.to_string()).or_default();
        entry.tokens.add(&tokens);
        entry.responses += 1;
        let provider = self.provider.clone();
        if self.local {
            return Some(Charge {
                line: format!("{provider} cost: local"),
                audit: json!({"status": "local"}),
                warnings: Vec::new(),
            });
        }
        let Some((price, source)) = self.table().lookup(model) else {
            if let (Some((day, hold)), Some(l)) = (&pass.hold, &self.ledger) {
                let _ = l.release(day, hold);
            }
            return Some(Charge {
                line: format!("{provider} cost unknown (add it under cost.prices)"),
                audit: json!({"status": "unknown"}),
                warnings: Vec::new(),
            });
        };
        let micros = cost_of(usage, &price);
        let entry = self.by_model.entry(model.to_string()).or_default();
        entry.micros = Some(entry.micros.unwrap_or_default().plus(micros));
        self.session_total = self.session_total.plus(micros);
        let prices = match source {
            PriceSource::Table { checked, .. } => checked.to_string(),
            PriceSource::Config => "cost.prices".to_string(),
        };
        let (today, warnings) = self.record(pass, model, tokens, micros, &prices);
        let line = match today {
            Some(t) => format!(
                "{provider} cost: {micros} (session {}, today {t})",
                self.session_total
            ),
            None => format!("{provider} cost: {micros} (session {})", self.session_total),
        };
        Some(Charge {
            line,
            audit: json!({
                "status": "priced",
                "usd_micros": micros.0,
                "prices_date": prices,
                "table_date": TABLE_DATE,
            }),
            warnings,
        })
    }

    /// Prices an answer whose server reported no usage (a stream cut short, Ctrl-C, a server
    /// that never reports it) at goshi's over-count `estimated` ([`estimate::usage`]).
    /// Providers bill what they generated, so an answer that arrived is never free, and a cap
    /// cannot be slipped past by answers without a usage report. The line and the audit record
    /// say the figure is an estimate.
    pub fn after_estimated(
        &mut self,
        pass: Pass,
        model: &str,
        estimated: &Usage,
    ) -> Option<Charge> {
        if self.local {
            return self.after(pass, model, None);
        }
        let mut charge = self.after(pass, model, Some(estimated))?;
        charge
            .line
            .push_str(" (estimated: the server reported no token usage)");
        charge.audit["estimated"] = json!(true);
        Some(charge)
    }

    /// Writes the spend to the ledger; returns today's total and any warnings.
    fn record(
        &mut self,
        pass: Pass,
        model: &str,
        tokens: Tokens,
        micros: Micros,
        prices: &str,
    ) -> (Option<Micros>, Vec<String>) {
        let mut warnings = Vec::new();
        let Some(ledger) = &self.ledger else {
            return (None, warnings);
        };
        let (day, hold) = match pass.hold {
            Some((d, h)) => (d, Some(h)),
            None => (local_day(), None),
        };
        let spend = Spend {
            ts: crate::audit::format_time(std::time::SystemTime::now(), false),
            day,
            session: self.session_id.clone(),
            provider: self.provider.clone(),
            model: model.to_string(),
            tokens,
            micros,
            prices: prices.to_string(),
            hold: hold.map(|h| h.id),
        };
        let today = match ledger.record(spend) {
            Ok(t) => Some(t),
            Err(e) => {
                warnings.push(format!(
                    "this response's cost is not in the spend ledger: {e}"
                ));
                None
            }
        };
        warnings.extend(ledger.take_warnings());
        if let (Some(t), Some(w)) = (today, self.settings.warn_usd) {
            // Only the response that crosses the line warns, in whichever process.
            if !self.warned && t >= w && t.minus(micros) < w {
                self.warned = true;
                warnings.push(format!(
                    "today's spend passed cost.warn_usd ({w}): {t} so far; set cost.daily_max_usd \
                     in goshi.yaml to cap it"
                ));
            }
        }
        (today, warnings)
    }

    /// The session by model and token kind, and the share of input served from cache
    /// (the REPL's `/cost`).
    pub fn report(&self) -> String {
        if self.by_model.is_empty() {
            return "no responses yet this session".to_string();
        }
        let mut out = String::new();
        let mut all = Tokens::default();
        for (model, m) in &self.by_model {
            let cost = match (self.local, m.micros) {
                (true, _) => "local".to_string(),
                (false, Some(c)) => c.to_string(),
                (false, None) => "cost unknown (add it under cost.prices)".to_string(),
            };
            let t = &m.tokens;
            out.push_str(&format!(
                "{model}: {cost} over {} response(s)\n  input {} (uncached {}, cached {}, cache writes {}), output {} (reasoning {})\n",
                m.responses,
                t.all_input(),
                t.input,
                t.cached,
                t.cache_write,
                t.output,
                t.reasoning
            ));
            all.add(t);
        }
        let share = match all.all_input() {
            0 => 0,
            n => (u128::from(all.cached) * 100 / u128::from(n)) as u64,
        };
        let total = if self.local {
            "local".to_string()
        } else {
            self.session_total.to_string()
        };
        out.push_str(&format!(
            "session: {total}; {share}% of input served from the prompt cache"
        ));
        out
    }
}

fn refusal(what: &str, key: &str, cap: Micros, spent: Micros, when: &str) -> Refusal {
    Refusal {
        message: format!(
            "refusing to send: {what}, and only {} is left of {key} ({cap}; {spent} spent {when}); \
             nothing was sent",
            cap.minus(spent)
        ),
        hint: format!(
            "raise {key} in goshi.yaml, lower llm.max_tokens, or start a shorter conversation"
        ),
    }
}

/// A usage by kind: the parts of the prompt never exceed it, whatever the server says.
pub fn tokens_of(u: &Usage) -> Tokens {
    let cached = u.cached_tokens.min(u.prompt_tokens);
    let cache_write = u.cache_write_tokens.min(u.prompt_tokens - cached);
    Tokens {
        input: u.prompt_tokens - cached - cache_write,
        cached,
        cache_write,
        output: u.completion_tokens,
        reasoning: u.reasoning_tokens.min(u.completion_tokens),
    }
}

#[cfg(test)]
#[path = "meter_tests.rs"]
mod tests;
