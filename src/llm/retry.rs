//! When and how long to wait before sending a request again.

use std::time::Duration;

/// The first backoff step, unless configured.
pub const BASE_DELAY: Duration = Duration::from_millis(500);
/// The longest backoff step (and the longest `Retry-After` honoured), unless configured.
pub const MAX_DELAY: Duration = Duration::from_secs(8);
/// The wait before the one retry of a refused connection to this machine: a local server
/// that is down does not come back in seconds, so one quick second try is all that helps
/// (it covers a server that is just starting).
pub const LOOPBACK_REFUSED_DELAY: Duration = Duration::from_millis(200);

/// Exponential backoff with full jitter, honouring the server's `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// How many times a request may be re-sent after the first try.
    pub max_retries: u32,
    /// The first backoff step; each later step doubles it.
    pub initial_delay: Duration,
    /// The longest backoff step, and the longest `Retry-After` that is waited for.
    pub max_delay: Duration,
    /// A budget for all the retries of one request: a retry that would start after it is
    /// not made.
    pub max_elapsed: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::new(3)
    }
}

impl RetryPolicy {
    /// `max_retries` retries with the default steps (0.5 s doubling up to 8 s) and no
    /// elapsed-time budget.
    pub fn new(max_retries: u32) -> Self {
        RetryPolicy {
            max_retries,
            initial_delay: BASE_DELAY,
            max_delay: MAX_DELAY,
            max_elapsed: None,
        }
    }

    /// The longest wait before retry number `attempt` (1 = the first retry): the initial
    /// delay doubled per attempt, capped at `max_delay`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        self.initial_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay)
    }

    /// The wait before retry number `attempt`.
    ///
    /// Without a server hint: "full jitter", a uniform pick between zero and
    /// [`ceiling`](Self::ceiling) (`jitter` is a uniform sample in `[0, 1)`), so that many
    /// clients failing together do not retry in lockstep. A server's `Retry-After` wins,
    /// capped at `max_delay` (the transport gives up at once on a longer one, see
    /// [`too_long`](Self::too_long)).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_delay);
        }
        self.ceiling(attempt).mul_f64(jitter.clamp(0.0, 1.0))
    }

    /// Whether the server asked for a wait longer than this policy will make.
    pub fn too_long(&self, retry_after: Option<Duration>) -> bool {
        retry_after.is_some_and(|w| w > self.max_delay)
    }

    /// The longest wait before each retry of a request that keeps failing without hints.
    pub fn schedule(&self) -> Vec<Duration> {
        (1..=self.max_retries).map(|a| self.ceiling(a)).collect()
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
    fn schedule_doubles_from_the_initial_delay_and_caps_at_max_delay() {
        let p = RetryPolicy::new(6);
        let s: Vec<u128> = p.schedule().iter().map(|d| d.as_millis()).collect();
        assert_eq!(s, vec![500, 1000, 2000, 4000, 8000, 8000]);
        let p = RetryPolicy {
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
            ..RetryPolicy::new(4)
        };
        let s: Vec<u128> = p.schedule().iter().map(|d| d.as_millis()).collect();
        assert_eq!(s, vec![100, 200, 300, 300]);
        assert_eq!(p.ceiling(u32::MAX), Duration::from_millis(300));
    }

    #[test]
    fn full_jitter_picks_between_zero_and_the_ceiling() {
        let p = RetryPolicy::new(3);
        assert_eq!(p.delay(2, None, 0.0), Duration::ZERO);
        assert_eq!(p.delay(2, None, 0.5), Duration::from_millis(500));
        assert_eq!(p.delay(3, None, 0.25), Duration::from_millis(500));
        assert_eq!(p.delay(3, None, 7.0), Duration::from_secs(2));
    }

    #[test]
    fn retry_after_wins_up_to_max_delay() {
        let p = RetryPolicy::new(3);
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3)), 0.3),
            Duration::from_secs(3)
        );
        assert!(!p.too_long(Some(Duration::from_secs(8))));
        assert!(p.too_long(Some(Duration::from_secs(9))));
        assert!(!p.too_long(None));
    }

    #[test]
    fn absurd_retry_after_values_are_capped_not_a_panic() {
        let p = RetryPolicy::new(1);
        for (name, value) in [
            ("retry-after-ms", "1e300"),
            ("retry-after-ms", "99999999999999999999999999"),
            ("retry-after", "1e300"),
        ] {
            let mut h = HeaderMap::new();
            h.insert(name, HeaderValue::from_static(value));
            let wait = parse_retry_after(&h);
            assert!(wait.is_some(), "{name}: {value}");
            assert!(p.too_long(wait), "{name}: {value}");
            assert_eq!(p.delay(1, wait, 0.0), MAX_DELAY, "{name}: {value}");
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
    fn an_http_date_far_in_the_future_is_too_long_to_wait_for() {
        // 2099 is far beyond any wait goshi makes: the transport gives up at once.
        let h = header("retry-after", "Thu, 01 Jan 2099 00:00:00 GMT");
        let wait = parse_retry_after(&h).unwrap();
        assert!(wait > Duration::from_secs(60 * 60 * 24 * 365), "{wait:?}");
        let p = RetryPolicy::new(1);
        assert!(p.too_long(Some(wait)));
        assert_eq!(p.delay(1, Some(wait), 0.0), MAX_DELAY);
    }
}
