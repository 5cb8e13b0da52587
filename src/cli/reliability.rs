//! The CLI's side of timeouts and the circuit breaker: wrapping the chosen backend, and
//! the circuits' state for `goshi doctor`.

use std::sync::Arc;

use super::backend::Selection;
use crate::config::Config;
use crate::llm::circuit::{self, Circuit, CircuitBackend, CircuitSettings, Phase, Store};
use crate::llm::deadline::DeadlineBackend;
use crate::llm::Backend;

/// The breaker's settings from the configuration.
pub fn circuit_settings(config: &Config) -> CircuitSettings {
    let c = &config.llm.circuit;
    CircuitSettings {
        failures: c.failures,
        window: c.window,
        cooldown: c.cooldown,
    }
}

/// The selected backend with `llm.total_timeout` and the circuit breaker around it (the
/// breaker outermost, so a total timeout counts as a failure). `no_circuit` leaves the
/// breaker out for this run.
pub fn guard(selection: &Selection, config: &Config, no_circuit: bool) -> Arc<dyn Backend> {
    let mut backend = selection.backend.clone();
    if let Some(total) = config.llm.total_timeout {
        backend = Arc::new(DeadlineBackend::new(backend, total));
    }
    let settings = circuit_settings(config);
    if no_circuit || settings.failures == 0 {
        return backend;
    }
    match circuit::store::default_path() {
        Some(path) => Arc::new(CircuitBackend::new(
            backend,
            Circuit::new(
                Store::at(path),
                selection.provider_name(),
                &selection.base_url,
                settings,
            ),
        )),
        None => backend,
    }
}

/// One line per known circuit for `goshi doctor`: (is it open, what it says).
pub fn circuit_lines(config: &Config) -> Vec<(bool, String)> {
    let Some(path) = circuit::store::default_path() else {
        return Vec::new();
    };
    let settings = circuit_settings(config);
    let now = circuit::now_ms();
    Store::at(path)
        .read()
        .circuits
        .iter()
        .map(|(key, entry)| {
            let key = crate::text::one_line(key, 200);
            let last = entry
                .last_error
                .as_deref()
                .map(|e| format!(" (last error: {})", crate::text::one_line(e, 300)))
                .unwrap_or_default();
            match entry.phase(now, &settings) {
                Phase::Closed { recent } => (
                    false,
                    format!(
                        "{key}: closed, {recent} failure(s) in the last {}s{last}",
                        settings.window.as_secs_f64()
                    ),
                ),
                Phase::Open { until } => (
                    true,
                    format!(
                        "{key}: open, requests fail at once until {}{last}",
                        circuit::clock(until)
                    ),
                ),
                Phase::HalfOpen { probing } => (
                    true,
                    format!(
                        "{key}: half-open, {}{last}",
                        if probing {
                            "a probe request is in flight"
                        } else {
                            "the next request is a probe"
                        }
                    ),
                ),
            }
        })
        .collect()
}
