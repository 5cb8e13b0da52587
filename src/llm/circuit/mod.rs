//! The circuit breaker: after repeated failures of one server, requests to it fail at once
//! for a cooldown instead of each waiting through its own retries; then one probe request
//! decides whether it is back.
//!
//! One circuit per provider and base URL, shared by every goshi process of the user
//! through a small locked file ([`store`]), so a script of many one-shot calls is
//! protected too. [`CircuitBackend`] wraps any [`Backend`].

pub mod state;
pub mod store;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::BoxFuture;
use futures_util::StreamExt;

pub use state::{Admission, CircuitSettings, Entry, Outcome, Phase};
pub use store::Store;

use super::advice::Advice;
use super::backend::{Backend, EventStream, Layer};
use super::error::{ErrorKind, LlmError};
use super::types::ChatRequest;

/// Whether a failure counts against the server: it failed (5xx), was rate limited, timed
/// out or could not be reached, after its retries. A request the server refused on its
/// merits (400, 401, 403, 404), an exhausted quota, or an answer goshi could not read
/// says nothing about the server's health.
pub fn counts(e: &LlmError) -> bool {
    matches!(
        e.kind,
        ErrorKind::Server
            | ErrorKind::RateLimited
            | ErrorKind::Transient
            | ErrorKind::Timeout
            | ErrorKind::Connect
            | ErrorKind::StreamInterrupted
    )
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A Unix time in milliseconds as `HH:MM:SS UTC`.
pub fn clock(ms: u64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(ms);
    let text = humantime::format_rfc3339_seconds(t).to_string();
    format!("{} UTC", text.get(11..19).unwrap_or(&text))
}

/// The key of a circuit: the provider and the base URL, without any password in it.
pub fn key(provider: &str, base_url: &str) -> String {
    let url = match url::Url::parse(base_url) {
        Ok(mut u) => {
            let _ = u.set_password(None);
            let _ = u.set_username("");
            u.as_str().trim_end_matches('/').to_string()
        }
        Err(_) => base_url.to_string(),
    };
    format!("{provider} {url}")
}

/// One circuit: where its state lives and when it opens.
#[derive(Debug, Clone)]
pub struct Circuit {
    store: Store,
    key: String,
    settings: CircuitSettings,
}

impl Circuit {
    /// The circuit of `provider` at `base_url`, kept in `store`.
    pub fn new(store: Store, provider: &str, base_url: &str, settings: CircuitSettings) -> Self {
        Circuit {
            store,
            key: key(provider, base_url),
            settings,
        }
    }

    /// Asks whether a request may be sent now; the refusal is the error to show.
    pub fn admit(&self) -> Result<Ticket, LlmError> {
        let now = now_ms();
        if !self.known() {
            // A server with nothing recorded: no lock, no file written.
            return Ok(Ticket {
                circuit: self.clone(),
                probe: false,
                done: false,
            });
        }
        let admission = self.store.update(|c| {
            let entry = c.circuits.entry(self.key.clone()).or_default();
            let a = entry.admit(now, &self.settings);
            if *entry == Entry::default() {
                // Nothing to remember about a healthy server: keep the file small.
                c.circuits.remove(&self.key);
            }
            a
        });
        match admission {
            Admission::Closed => Ok(Ticket {
                circuit: self.clone(),
                probe: false,
                done: false,
            }),
            Admission::Probe => {
                tracing::info!("circuit {}: half-open, sending one probe request", self.key);
                Ok(Ticket {
                    circuit: self.clone(),
                    probe: true,
                    done: false,
                })
            }
            Admission::Refused {
                retry_at,
                last_error,
                probing,
            } => Err(self.refusal(now, retry_at, last_error, probing)),
        }
    }

    /// Records how a request ended.
    pub fn record(&self, outcome: Outcome) {
        if matches!(outcome, Outcome::Success | Outcome::Released) && !self.known() {
            return;
        }
        let now = now_ms();
        self.store.update(|c| {
            let entry = c.circuits.entry(self.key.clone()).or_default();
            entry.record(now, outcome, &self.settings);
            if entry.failures.is_empty() && entry.open_until.is_none() {
                c.circuits.remove(&self.key);
            }
        });
    }

    /// Whether the state file has anything about this circuit (read without the lock:
    /// the file is replaced atomically, so this sees the old or the new state).
    fn known(&self) -> bool {
        self.store.read().circuits.contains_key(&self.key)
    }

    fn refusal(
        &self,
        now: u64,
        retry_at: u64,
        last_error: Option<String>,
        probing: bool,
    ) -> LlmError {
        let wait = Duration::from_millis(retry_at.saturating_sub(now));
        let last = last_error.unwrap_or_else(|| "unknown".into());
        let when = if probing {
            format!(
                "another goshi process is testing whether it is back; try again after {} (in {}s)",
                clock(retry_at),
                wait.as_secs_f64().ceil()
            )
        } else {
            format!(
                "goshi will try again after {} (in {}s)",
                clock(retry_at),
                wait.as_secs_f64().ceil()
            )
        };
        let (provider, url) = self.key.split_once(' ').unwrap_or((&self.key, ""));
        LlmError::new(
            ErrorKind::CircuitOpen,
            format!(
                "not sent: {provider} at {url} failed {} times within {}s, so goshi stopped \
                 sending to it for {}s (last error: {last}); {when}",
                self.settings.failures.max(1),
                self.settings.window.as_secs_f64(),
                self.settings.cooldown.as_secs_f64()
            ),
        )
        .with_advice(Advice::CircuitOpen)
    }
}

/// An admitted request: records its outcome (a probe whose request is dropped unfinished
/// gives its slot back).
pub struct Ticket {
    circuit: Circuit,
    probe: bool,
    done: bool,
}

impl Ticket {
    /// Records how the request ended.
    pub fn finish(mut self, result: Result<(), &LlmError>) {
        self.done = true;
        self.circuit.record(match result {
            Err(e) if counts(e) => Outcome::Failure(e.message.clone()),
            _ => Outcome::Success,
        });
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if !self.done && self.probe {
            self.circuit.record(Outcome::Released);
        }
    }
}

/// A backend behind a circuit breaker.
pub struct CircuitBackend {
    inner: Arc<dyn Backend>,
    circuit: Circuit,
}

impl CircuitBackend {
    /// `inner`, with its requests admitted by `circuit`.
    pub fn new(inner: Arc<dyn Backend>, circuit: Circuit) -> Self {
        CircuitBackend { inner, circuit }
    }
}

impl Layer for CircuitBackend {
    fn inner(&self) -> &dyn Backend {
        self.inner.as_ref()
    }

    fn stream_through<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<EventStream, LlmError>> {
        Box::pin(async move {
            let ticket = self.circuit.admit()?;
            match self.inner.stream(request).await {
                Ok(events) => {
                    // The server answered: that is the verdict for the breaker. A failure
                    // later in the stream (a stall, a broken connection) still counts.
                    ticket.finish(Ok(()));
                    let circuit = self.circuit.clone();
                    Ok(Box::pin(events.inspect(move |item| {
                        if let Err(e) = item {
                            if counts(e) {
                                circuit.record(Outcome::Failure(e.message.clone()));
                            }
                        }
                    })) as EventStream)
                }
                Err(e) => {
                    ticket.finish(Err(&e));
                    Err(e)
                }
            }
        })
    }
}
