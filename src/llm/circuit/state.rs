//! The circuit breaker's state machine, free of files and clocks (times are Unix
//! milliseconds passed in), so every transition is tested directly.
//!
//! Closed: requests go through; failures are counted in a sliding window. Open: requests
//! are refused until the cooldown ends. Half-open: the cooldown ended and one request
//! (the probe) may go through; its success closes the circuit, its failure opens it again.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// When a circuit opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitSettings {
    /// Counted failures within `window` that open the circuit (0: it never opens).
    pub failures: u32,
    /// The sliding window failures are counted in.
    pub window: Duration,
    /// How long an open circuit refuses requests before one probe may go through.
    pub cooldown: Duration,
}

/// How long the one probe of a half-open circuit holds it before another process may
/// probe instead (a probe whose process died must not block the circuit for ever).
pub const PROBE_LEASE_MS: u64 = 120_000;
/// The most circuits the state file keeps (the least recently used go first).
pub const MAX_CIRCUITS: usize = 64;
/// The most characters of the last error that are kept.
pub const MAX_ERROR_CHARS: usize = 300;

/// One circuit's state, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// When each counted failure within the window happened.
    #[serde(default)]
    pub failures: Vec<u64>,
    /// Set while the circuit is open (or half-open once it has passed).
    #[serde(default)]
    pub open_until: Option<u64>,
    /// Set while a probe is in flight: no other request goes through until then.
    #[serde(default)]
    pub probe_until: Option<u64>,
    /// The last counted failure, in words.
    #[serde(default)]
    pub last_error: Option<String>,
    /// The last time anything was recorded (for pruning old circuits).
    #[serde(default)]
    pub touched: u64,
}

/// All circuits, by key (`provider base-url`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Circuits {
    /// The circuits.
    #[serde(default)]
    pub circuits: BTreeMap<String, Entry>,
}

/// Whether a request may be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// The circuit is closed: send.
    Closed,
    /// The circuit is half-open and this request is its one probe: send.
    Probe,
    /// The circuit is open: do not send.
    Refused {
        /// When a request may go through again (Unix ms).
        retry_at: u64,
        /// The last counted failure.
        last_error: Option<String>,
        /// Whether another request is probing the server right now.
        probing: bool,
    },
}

/// How a sent request ended, for the breaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server answered (any answer that is not a counted failure).
    Success,
    /// A counted failure, in words.
    Failure(String),
    /// A probe ended without a verdict (the user cancelled it).
    Released,
}

/// The public state of a circuit, for `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Requests go through; `recent` failures are in the window.
    Closed {
        /// Counted failures within the window.
        recent: usize,
    },
    /// Requests are refused until `until` (Unix ms).
    Open {
        /// The end of the cooldown.
        until: u64,
    },
    /// The cooldown is over; the next request is a probe (or one is in flight).
    HalfOpen {
        /// Whether a probe is in flight.
        probing: bool,
    },
}

impl Entry {
    /// Decides whether a request may go now, taking the probe slot of a half-open circuit.
    pub fn admit(&mut self, now: u64, s: &CircuitSettings) -> Admission {
        self.clamp_to(now, s);
        let Some(open_until) = self.open_until else {
            return Admission::Closed;
        };
        if now < open_until {
            return Admission::Refused {
                retry_at: open_until,
                last_error: self.last_error.clone(),
                probing: false,
            };
        }
        match self.probe_until {
            Some(lease) if now < lease => Admission::Refused {
                retry_at: lease,
                last_error: self.last_error.clone(),
                probing: true,
            },
            _ => {
                self.probe_until = Some(now.saturating_add(PROBE_LEASE_MS));
                self.touched = now;
                Admission::Probe
            }
        }
    }

    /// Records how a request ended.
    pub fn record(&mut self, now: u64, outcome: Outcome, s: &CircuitSettings) {
        self.clamp_to(now, s);
        self.touched = now;
        match outcome {
            Outcome::Success => {
                // The server answered: an open (or half-open) circuit closes.
                if self.open_until.is_some() {
                    *self = Entry {
                        touched: now,
                        ..Entry::default()
                    };
                }
            }
            Outcome::Released => self.probe_until = None,
            Outcome::Failure(what) => {
                self.last_error = Some(crate::text::one_line(&what, MAX_ERROR_CHARS));
                if self.open_until.is_some_and(|t| now >= t) {
                    // The probe (or a request admitted before the circuit opened) failed
                    // after the cooldown: open again for another cooldown.
                    self.open(now, s);
                    return;
                }
                if self.open_until.is_some() {
                    return;
                }
                let window = s.window.as_millis() as u64;
                self.failures.retain(|&t| t.saturating_add(window) > now);
                self.failures.push(now);
                let keep = (s.failures as usize).max(1);
                if self.failures.len() > keep {
                    self.failures.drain(..self.failures.len() - keep);
                }
                if s.failures > 0 && self.failures.len() >= s.failures as usize {
                    self.open(now, s);
                }
            }
        }
    }

    /// The circuit's phase at `now`.
    pub fn phase(&self, now: u64, s: &CircuitSettings) -> Phase {
        match self.open_until {
            Some(until) if now < until => Phase::Open { until },
            Some(_) => Phase::HalfOpen {
                probing: self.probe_until.is_some_and(|p| now < p),
            },
            None => {
                let window = s.window.as_millis() as u64;
                Phase::Closed {
                    recent: self
                        .failures
                        .iter()
                        .filter(|&&t| t.saturating_add(window) > now)
                        .count(),
                }
            }
        }
    }

    fn open(&mut self, now: u64, s: &CircuitSettings) {
        self.failures.clear();
        self.probe_until = None;
        self.open_until = Some(now.saturating_add(s.cooldown.as_millis() as u64));
    }

    /// A clock that went backwards must not leave a circuit open for longer than one
    /// cooldown from now, or a probe lease longer than its length.
    fn clamp_to(&mut self, now: u64, s: &CircuitSettings) {
        let cooldown_end = now.saturating_add(s.cooldown.as_millis() as u64);
        if let Some(t) = self.open_until.as_mut() {
            *t = (*t).min(cooldown_end);
        }
        if let Some(p) = self.probe_until.as_mut() {
            *p = (*p).min(now.saturating_add(PROBE_LEASE_MS));
        }
    }
}

impl Circuits {
    /// Keeps at most [`MAX_CIRCUITS`] circuits, dropping the least recently touched.
    pub fn prune(&mut self) {
        while self.circuits.len() > MAX_CIRCUITS {
            let oldest = self
                .circuits
                .iter()
                .min_by_key(|(_, e)| e.touched)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.circuits.remove(&k),
                None => break,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s() -> CircuitSettings {
        CircuitSettings {
            failures: 3,
            window: Duration::from_secs(60),
            cooldown: Duration::from_secs(30),
        }
    }

    fn fail(e: &mut Entry, now: u64) {
        e.record(now, Outcome::Failure("HTTP 503".into()), &s());
    }

    #[test]
    fn opens_after_enough_failures_within_the_window() {
        let mut e = Entry::default();
        fail(&mut e, 0);
        fail(&mut e, 1_000);
        assert_eq!(e.admit(2_000, &s()), Admission::Closed);
        assert_eq!(e.phase(2_000, &s()), Phase::Closed { recent: 2 });
        fail(&mut e, 2_000);
        assert_eq!(e.phase(2_001, &s()), Phase::Open { until: 32_000 });
        assert_eq!(
            e.admit(10_000, &s()),
            Admission::Refused {
                retry_at: 32_000,
                last_error: Some("HTTP 503".into()),
                probing: false
            }
        );
    }

    #[test]
    fn failures_older_than_the_window_do_not_count() {
        let mut e = Entry::default();
        fail(&mut e, 0);
        fail(&mut e, 1_000);
        fail(&mut e, 60_500);
        assert_eq!(e.phase(60_500, &s()), Phase::Closed { recent: 2 });
        assert_eq!(e.admit(60_600, &s()), Admission::Closed);
    }

    #[test]
    fn after_the_cooldown_one_probe_decides() {
        let mut e = Entry::default();
        for t in 0..3 {
            fail(&mut e, t);
        }
        // Cooldown over: one probe, and only one.
        assert_eq!(e.admit(40_000, &s()), Admission::Probe);
        assert!(matches!(
            e.admit(40_001, &s()),
            Admission::Refused { probing: true, .. }
        ));
        assert_eq!(e.phase(40_001, &s()), Phase::HalfOpen { probing: true });
        // The probe fails: open for another cooldown.
        fail(&mut e, 41_000);
        assert_eq!(e.phase(41_000, &s()), Phase::Open { until: 71_000 });
        // The next probe succeeds: closed, failures forgotten.
        assert_eq!(e.admit(71_000, &s()), Admission::Probe);
        e.record(71_500, Outcome::Success, &s());
        assert_eq!(e.phase(71_500, &s()), Phase::Closed { recent: 0 });
        assert_eq!(e.admit(71_600, &s()), Admission::Closed);
        assert_eq!(e.last_error, None);
    }

    #[test]
    fn a_cancelled_probe_frees_the_slot_and_a_dead_one_expires() {
        let mut e = Entry::default();
        for t in 0..3 {
            fail(&mut e, t);
        }
        assert_eq!(e.admit(40_000, &s()), Admission::Probe);
        e.record(40_100, Outcome::Released, &s());
        assert_eq!(e.admit(40_200, &s()), Admission::Probe);
        // Its process died: after the lease another may probe.
        assert_eq!(e.admit(40_200 + PROBE_LEASE_MS, &s()), Admission::Probe);
    }

    #[test]
    fn zero_failures_means_never_open_and_the_clock_going_back_is_bounded() {
        let off = CircuitSettings { failures: 0, ..s() };
        let mut e = Entry::default();
        for t in 0..100 {
            e.record(t, Outcome::Failure("x".into()), &off);
        }
        assert_eq!(e.admit(100, &off), Admission::Closed);
        assert!(e.failures.len() <= 1);
        let mut e = Entry {
            open_until: Some(u64::MAX),
            ..Entry::default()
        };
        assert!(matches!(
            e.admit(1_000, &s()),
            Admission::Refused {
                retry_at: 31_000,
                ..
            }
        ));
    }

    #[test]
    fn the_last_error_is_one_short_line() {
        let mut e = Entry::default();
        e.record(
            0,
            Outcome::Failure(format!("a\x1b[2Jb\n{}", "x".repeat(999))),
            &s(),
        );
        let shown = e.last_error.unwrap();
        assert!(!shown.contains('\x1b') && !shown.contains('\n'), "{shown}");
        assert!(shown.chars().count() < MAX_ERROR_CHARS + 20, "{shown}");
    }

    #[test]
    fn prune_keeps_the_most_recent_circuits() {
        let mut c = Circuits::default();
        for i in 0..(MAX_CIRCUITS as u64 + 5) {
            c.circuits.insert(
                format!("k{i}"),
                Entry {
                    touched: i,
                    ..Entry::default()
                },
            );
        }
        c.prune();
        assert_eq!(c.circuits.len(), MAX_CIRCUITS);
        assert!(!c.circuits.contains_key("k0") && c.circuits.contains_key("k68"));
    }
}
