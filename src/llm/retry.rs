//! When and how long to wait before sending a request again.

use std::time::Duration;

/// The first backoff step.
pub const BASE_DELAY: Duration = Duration::from_millis(500);
/// The longest computed backoff step.
pub const MAX_DELAY: Duration = Duration::from_secs(8);
/// The longest wait a server's `Retry-After` may impose.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Exponential backoff with jitter, honouring the server's `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// How many times a request may be re-sent after the first try.
    pub max_retries: u32,
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (1 = the first retry).
    ///
    /// Without a server hint: 0.5 s doubling per attempt, capped at 8 s, then scaled by a
    /// jitter factor in `[0.75, 1.0]` (`jitter` is a uniform sample in `[0, 1)`), so many
    /// clients do not retry in lockstep. A server's `Retry-After` wins, capped at 60 s.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(MAX_RETRY_AFTER);
        }
        let exp = attempt.saturating_sub(1).min(16);
        let base = BASE_DELAY.saturating_mul(1u32 << exp).min(MAX_DELAY);
        base.mul_f64(1.0 - 0.25 * jitter.clamp(0.0, 1.0))
    }

    /// The whole schedule of waits for a request that keeps failing without server hints.
    pub fn schedule(&self, jitter: f64) -> Vec<Duration> {
        (1..=self.max_retries)
            .map(|a| self.delay(a, None, jitter))
            .collect()
    }
}

/// Reads `retry-after-ms` (milliseconds) or `Retry-After` (seconds, or an HTTP date) from
/// response headers.
pub fn parse_retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
    {
        // Capped before converting: `Duration::from_secs_f64` panics on huge values.
        return Some(Duration::from_secs_f64((ms / 1000.0).min(1e6)));
    }
    let value = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs.min(1e6)));
        }
        return None;
    }
    let when = httpdate_parse(value)?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

fn httpdate_parse(value: &str) -> Option<std::time::SystemTime> {
    // `Retry-After` dates are IMF-fixdate (RFC 9110), e.g. "Wed, 21 Oct 2015 07:28:00 GMT";
    // humantime parses RFC 3339, so rewrite the fixed layout into that form.
    let parts: Vec<&str> = value.split_whitespace().collect();
    if parts.len() != 6 || parts[5] != "GMT" {
        return None;
    }
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = months.iter().position(|m| *m == parts[2])? + 1;
    let day: u32 = parts[1].parse().ok()?;
    let year: u32 = parts[3].parse().ok()?;
    let text = format!("{year:04}-{month:02}-{day:02}T{}Z", parts[4]);
    humantime::parse_rfc3339(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn schedule_doubles_from_half_a_second_and_caps_at_eight() {
        let p = RetryPolicy { max_retries: 6 };
        let s: Vec<u128> = p.schedule(0.0).iter().map(|d| d.as_millis()).collect();
        assert_eq!(s, vec![500, 1000, 2000, 4000, 8000, 8000]);
    }

    #[test]
    fn jitter_shortens_by_at_most_a_quarter() {
        let p = RetryPolicy { max_retries: 3 };
        assert_eq!(p.delay(2, None, 1.0), Duration::from_millis(750));
        assert_eq!(p.delay(3, None, 0.5), Duration::from_millis(1750));
    }

    #[test]
    fn retry_after_wins_and_is_capped() {
        let p = RetryPolicy { max_retries: 3 };
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3)), 0.3),
            Duration::from_secs(3)
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(600)), 0.3),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn absurd_retry_after_values_are_capped_not_a_panic() {
        let p = RetryPolicy { max_retries: 1 };
        for (name, value) in [
            ("retry-after-ms", "1e300"),
            ("retry-after-ms", "99999999999999999999999999"),
            ("retry-after", "1e300"),
        ] {
            let mut h = HeaderMap::new();
            h.insert(name, HeaderValue::from_static(value));
            let wait = parse_retry_after(&h);
            assert!(wait.is_some(), "{name}: {value}");
            assert_eq!(p.delay(1, wait, 0.0), MAX_RETRY_AFTER, "{name}: {value}");
        }
    }

    #[test]
    fn parses_retry_after_headers() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(parse_retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", HeaderValue::from_static("150"));
        assert_eq!(parse_retry_after(&h), Some(Duration::from_millis(150)));
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(parse_retry_after(&h), None);
        h.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(parse_retry_after(&h), Some(Duration::ZERO));
    }

    fn header(name: &'static str, value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn negative_nan_and_infinite_waits_are_ignored_not_a_panic() {
        for value in ["-5", "-0.5", "NaN", "nan", "inf", "-inf", "infinity"] {
            assert_eq!(
                parse_retry_after(&header("retry-after-ms", value)),
                None,
                "ms {value}"
            );
            assert_eq!(
                parse_retry_after(&header("retry-after", value)),
                None,
                "s {value}"
            );
            // A bad `retry-after-ms` falls back to a good `Retry-After`.
            let mut h = header("retry-after-ms", value);
            h.insert("retry-after", HeaderValue::from_static("2"));
            assert_eq!(
                parse_retry_after(&h),
                Some(Duration::from_secs(2)),
                "{value}"
            );
        }
        // Zero is a valid "now".
        assert_eq!(
            parse_retry_after(&header("retry-after-ms", "0")),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn http_dates_read_every_month() {
        let months = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        for (i, m) in months.iter().enumerate() {
            let got = httpdate_parse(&format!("Sun, 05 {m} 2099 13:45:09 GMT"));
            let want = humantime::parse_rfc3339(&format!("2099-{:02}-05T13:45:09Z", i + 1)).ok();
            assert_eq!(got, want, "{m}");
            assert!(got.is_some(), "{m}");
        }
        for bad in [
            "Sun, 05 Foo 2099 13:45:09 GMT",
            "Sun, 05 Jan 2099 13:45:09 UTC",
            "05 Jan 2099 13:45:09 GMT",
            "Sun, 32 Jan 2099 13:45:09 GMT",
            "Sun, 05 Jan 2099 25:45:09 GMT",
        ] {
            assert_eq!(httpdate_parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_http_date_in_the_future_is_waited_for() {
        // 2099 is far enough ahead to be capped at the most a server may impose.
        let h = header("retry-after", "Thu, 01 Jan 2099 00:00:00 GMT");
        let wait = parse_retry_after(&h).unwrap();
        assert!(wait > Duration::from_secs(60 * 60 * 24 * 365), "{wait:?}");
        let p = RetryPolicy { max_retries: 1 };
        assert_eq!(p.delay(1, Some(wait), 0.0), MAX_RETRY_AFTER);
    }
}
