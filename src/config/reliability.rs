//! Retries, timeouts and the circuit breaker (`llm.retry.*`, `llm.*_timeout`,
//! `llm.circuit.*`): their file shapes, defaults and validation.
//!
//! Durations are written as seconds (a number) or as a duration string (`500ms`, `30s`,
//! `2m`, `1h`), everywhere in goshi.yaml.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use super::load::{bad, ConfigError};

/// A duration as written in goshi.yaml: seconds, or a duration string. Checked (and turned
/// into a [`Duration`]) when the configuration is resolved, so errors can name the key.
#[derive(Debug, Clone, PartialEq)]
pub enum FileDuration {
    /// A number of seconds.
    Secs(f64),
    /// A duration string such as `30s` or `2m`.
    Text(String),
}

impl<'de> Deserialize<'de> for FileDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = FileDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number of seconds or a duration such as \"30s\" or \"2m\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<FileDuration, E> {
                Ok(FileDuration::Secs(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<FileDuration, E> {
                Ok(FileDuration::Secs(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<FileDuration, E> {
                Ok(FileDuration::Secs(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FileDuration, E> {
                Ok(FileDuration::Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `llm.retry:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRetry {
    /// `llm.retry.max_retries` (`llm.max_retries` is an alias)
    pub max_retries: Option<i64>,
    /// `llm.retry.initial_delay`
    pub initial_delay: Option<FileDuration>,
    /// `llm.retry.max_delay`
    pub max_delay: Option<FileDuration>,
    /// `llm.retry.max_elapsed`
    pub max_elapsed: Option<FileDuration>,
}

/// `llm.circuit:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileCircuit {
    /// `llm.circuit.failures` (0 turns the breaker off)
    pub failures: Option<i64>,
    /// `llm.circuit.window`
    pub window: Option<FileDuration>,
    /// `llm.circuit.cooldown`
    pub cooldown: Option<FileDuration>,
}

/// What goshi.yaml says about retries, timeouts and the breaker, before validation.
#[derive(Debug, Default)]
pub struct FileReliability {
    /// `llm.max_retries` (the old spelling of `llm.retry.max_retries`)
    pub max_retries_alias: Option<i64>,
    /// `llm.request_timeout`
    pub request_timeout: Option<FileDuration>,
    /// `llm.connect_timeout`
    pub connect_timeout: Option<FileDuration>,
    /// `llm.total_timeout`
    pub total_timeout: Option<FileDuration>,
    /// `llm.retry:`
    pub retry: FileRetry,
    /// `llm.circuit:`
    pub circuit: FileCircuit,
}

/// How failed requests are sent again (`llm.retry`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetryConfig {
    /// Retries of a failed request after the first try.
    pub max_retries: u32,
    /// The first backoff step; each later one doubles, up to `max_delay`.
    #[serde(serialize_with = "secs")]
    pub initial_delay: Duration,
    /// The longest wait between two tries, also the longest `Retry-After` goshi honours.
    #[serde(serialize_with = "secs")]
    pub max_delay: Duration,
    /// A budget for all the retries of one request (unset: no budget).
    #[serde(serialize_with = "opt_secs")]
    pub max_elapsed: Option<Duration>,
}

/// When the circuit breaker opens (`llm.circuit`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CircuitConfig {
    /// Failed requests within `window` that open the circuit (0: never).
    pub failures: u32,
    /// The window the failures are counted in.
    #[serde(serialize_with = "secs")]
    pub window: Duration,
    /// How long an open circuit refuses requests before one probe may go through.
    #[serde(serialize_with = "secs")]
    pub cooldown: Duration,
}

/// The validated retry, timeout and breaker settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Reliability {
    /// `llm.request_timeout`
    pub request_timeout: Duration,
    /// `llm.connect_timeout`
    pub connect_timeout: Duration,
    /// `llm.total_timeout`
    pub total_timeout: Option<Duration>,
    /// `llm.retry`
    pub retry: RetryConfig,
    /// `llm.circuit`
    pub circuit: CircuitConfig,
}

/// Default `llm.request_timeout`.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Default `llm.connect_timeout`.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default `llm.retry.max_retries`.
pub const DEFAULT_MAX_RETRIES: u32 = 3;
/// Default `llm.retry.initial_delay`.
pub const DEFAULT_INITIAL_DELAY: Duration = Duration::from_millis(500);
/// Default `llm.retry.max_delay`.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(8);
/// Default `llm.circuit.failures`.
pub const DEFAULT_CIRCUIT_FAILURES: u32 = 5;
/// Default `llm.circuit.window`.
pub const DEFAULT_CIRCUIT_WINDOW: Duration = Duration::from_secs(60);
/// Default `llm.circuit.cooldown`.
pub const DEFAULT_CIRCUIT_COOLDOWN: Duration = Duration::from_secs(30);

/// The longest duration any of these keys accepts: a day.
const DAY: f64 = 86_400.0;

/// Validates the settings, naming the key of the first bad value.
pub fn resolve(f: FileReliability) -> Result<Reliability, ConfigError> {
    let max_retries = match (f.retry.max_retries, f.max_retries_alias) {
        (Some(_), Some(_)) => {
            return Err(bad(
                "llm.max_retries",
                "is the old name of llm.retry.max_retries; set only one of them",
            ))
        }
        (Some(n), None) => count("llm.retry.max_retries", n, 20)?,
        (None, Some(n)) => count("llm.max_retries", n, 20)?,
        (None, None) => DEFAULT_MAX_RETRIES,
    };
    let initial_delay = duration("llm.retry.initial_delay", f.retry.initial_delay, true)?
        .unwrap_or(DEFAULT_INITIAL_DELAY);
    let max_delay =
        duration("llm.retry.max_delay", f.retry.max_delay, true)?.unwrap_or(DEFAULT_MAX_DELAY);
    if initial_delay > max_delay {
        return Err(bad(
            "llm.retry.initial_delay",
            format!(
                "{} is longer than llm.retry.max_delay ({}); make it shorter or raise max_delay",
                show(initial_delay),
                show(max_delay)
            ),
        ));
    }
    let failures = match f.circuit.failures {
        None => DEFAULT_CIRCUIT_FAILURES,
        Some(n) => count("llm.circuit.failures", n, 1000)?,
    };
    Ok(Reliability {
        request_timeout: duration("llm.request_timeout", f.request_timeout, false)?
            .unwrap_or(DEFAULT_REQUEST_TIMEOUT),
        connect_timeout: duration("llm.connect_timeout", f.connect_timeout, false)?
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
        total_timeout: duration("llm.total_timeout", f.total_timeout, false)?,
        retry: RetryConfig {
            max_retries,
            initial_delay,
            max_delay,
            max_elapsed: duration("llm.retry.max_elapsed", f.retry.max_elapsed, false)?,
        },
        circuit: CircuitConfig {
            failures,
            window: duration("llm.circuit.window", f.circuit.window, false)?
                .unwrap_or(DEFAULT_CIRCUIT_WINDOW),
            cooldown: duration("llm.circuit.cooldown", f.circuit.cooldown, false)?
                .unwrap_or(DEFAULT_CIRCUIT_COOLDOWN),
        },
    })
}

/// Parses a duration value of `key`: zero is allowed only where `zero_ok`.
pub fn duration(
    key: &str,
    value: Option<FileDuration>,
    zero_ok: bool,
) -> Result<Option<Duration>, ConfigError> {
    let allowed = "use seconds (30) or a duration such as \"500ms\", \"30s\" or \"2m\"";
    let secs = match value {
        None => return Ok(None),
        Some(FileDuration::Secs(s)) => s,
        Some(FileDuration::Text(t)) => match t.trim().parse::<f64>() {
            Ok(s) => s,
            Err(_) => match humantime::parse_duration(t.trim()) {
                Ok(d) => d.as_secs_f64(),
                Err(e) => {
                    return Err(bad(
                        key,
                        format!("{t:?} is not a duration ({e}); {allowed}"),
                    ))
                }
            },
        },
    };
    let lowest = if zero_ok { "0" } else { "more than 0" };
    if !secs.is_finite() || secs < 0.0 || (!zero_ok && secs == 0.0) || secs > DAY {
        return Err(bad(
            key,
            format!("must be {lowest} and at most a day (got {secs} seconds); {allowed}"),
        ));
    }
    Ok(Some(Duration::from_secs_f64(secs)))
}

/// A duration as people read it: `30s`, `0.5s`, `2m`.
pub fn show(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 60.0 && s.fract() == 0.0 && (s as u64).is_multiple_of(60) {
        format!("{}m", s as u64 / 60)
    } else {
        format!("{}s", (s * 1000.0).round() / 1000.0)
    }
}

fn count(key: &str, n: i64, max: u32) -> Result<u32, ConfigError> {
    if (0..=i64::from(max)).contains(&n) {
        Ok(n as u32)
    } else {
        Err(bad(
            key,
            format!("must be a whole number between 0 and {max} (got {n})"),
        ))
    }
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

fn opt_secs<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64(d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(v: FileDuration) -> Result<Option<Duration>, ConfigError> {
        duration("llm.x", Some(v), false)
    }

    #[test]
    fn durations_are_seconds_or_duration_strings() {
        let text = |s: &str| FileDuration::Text(s.into());
        assert_eq!(
            d(FileDuration::Secs(30.0)).unwrap(),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            d(FileDuration::Secs(0.25)).unwrap(),
            Some(Duration::from_millis(250))
        );
        assert_eq!(d(text("30s")).unwrap(), Some(Duration::from_secs(30)));
        assert_eq!(d(text("2m")).unwrap(), Some(Duration::from_secs(120)));
        assert_eq!(d(text("500ms")).unwrap(), Some(Duration::from_millis(500)));
        assert_eq!(d(text("1m 30s")).unwrap(), Some(Duration::from_secs(90)));
        assert_eq!(d(text(" 45 ")).unwrap(), Some(Duration::from_secs(45)));
    }

    #[test]
    fn bad_durations_name_the_key_and_say_what_is_allowed() {
        for v in [
            FileDuration::Text("lots".into()),
            FileDuration::Secs(-1.0),
            FileDuration::Secs(0.0),
            FileDuration::Secs(f64::NAN),
            FileDuration::Text("2 days".into()),
        ] {
            let e = d(v.clone()).unwrap_err();
            assert_eq!(e.key, "llm.x", "{v:?}");
            assert!(e.message.contains("\"30s\""), "{v:?}: {e}");
        }
        assert_eq!(
            duration("llm.y", Some(FileDuration::Secs(0.0)), true).unwrap(),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn defaults_and_the_max_retries_alias() {
        let r = resolve(FileReliability::default()).unwrap();
        assert_eq!(r.request_timeout, Duration::from_secs(60));
        assert_eq!(r.connect_timeout, Duration::from_secs(10));
        assert_eq!(r.total_timeout, None);
        assert_eq!(r.retry.max_retries, 3);
        assert_eq!(r.retry.initial_delay, Duration::from_millis(500));
        assert_eq!(r.retry.max_delay, Duration::from_secs(8));
        assert_eq!(r.retry.max_elapsed, None);
        assert_eq!(r.circuit.failures, 5);
        assert_eq!(r.circuit.window, Duration::from_secs(60));
        assert_eq!(r.circuit.cooldown, Duration::from_secs(30));
        let alias = FileReliability {
            max_retries_alias: Some(1),
            ..Default::default()
        };
        assert_eq!(resolve(alias).unwrap().retry.max_retries, 1);
        let both = FileReliability {
            max_retries_alias: Some(1),
            retry: FileRetry {
                max_retries: Some(2),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(resolve(both).unwrap_err().key, "llm.max_retries");
    }

    #[test]
    fn initial_delay_may_not_exceed_max_delay() {
        let f = FileReliability {
            retry: FileRetry {
                initial_delay: Some(FileDuration::Text("10s".into())),
                max_delay: Some(FileDuration::Secs(2.0)),
                ..Default::default()
            },
            ..Default::default()
        };
        let e = resolve(f).unwrap_err();
        assert_eq!(e.key, "llm.retry.initial_delay");
        assert!(e.message.contains("2s"), "{e}");
    }

    #[test]
    fn show_reads_naturally() {
        assert_eq!(show(Duration::from_secs(30)), "30s");
        assert_eq!(show(Duration::from_secs(120)), "2m");
        assert_eq!(show(Duration::from_millis(500)), "0.5s");
        assert_eq!(show(Duration::from_secs(90)), "90s");
    }
}
