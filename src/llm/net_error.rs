//! Turning a failed HTTP request into an error a person can act on: what was tried, the
//! cause in words (not reqwest's five-deep chain), and which timeout fired.
//!
//! The full chain is logged at `info` level, so `-v` shows it and nothing else does.

use std::io;
use std::time::Duration;

use super::advice::Advice;
use super::error::{ErrorKind, LlmError};
use super::http::{chain, ErrorMapper};

/// Why a connection could not be made, in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectCause {
    /// Nothing listens at the address (the server is not running there).
    Refused,
    /// The host name could not be resolved.
    Dns,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// The network or host is unreachable.
    Unreachable,
    /// The connection was reset or closed while it was being made.
    Reset,
    /// Something else; the innermost error says what.
    Other,
}

impl ConnectCause {
    /// Classifies a reqwest error by walking its sources.
    pub fn of(e: &(dyn std::error::Error + 'static)) -> ConnectCause {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(s) = source {
            if let Some(io) = s.downcast_ref::<io::Error>() {
                match io.kind() {
                    io::ErrorKind::ConnectionRefused => return ConnectCause::Refused,
                    io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
                        return ConnectCause::Reset
                    }
                    io::ErrorKind::NetworkUnreachable | io::ErrorKind::HostUnreachable => {
                        return ConnectCause::Unreachable
                    }
                    _ => {}
                }
            }
            source = s.source();
        }
        let text = chain(e).to_ascii_lowercase();
        if text.contains("dns error") || text.contains("failed to lookup address") {
            ConnectCause::Dns
        } else if text.contains("certificate") || text.contains("tls") || text.contains("handshake")
        {
            ConnectCause::Tls
        } else if text.contains("connection refused") {
            ConnectCause::Refused
        } else {
            ConnectCause::Other
        }
    }
}

/// The innermost message of an error chain (usually the one that says what went wrong).
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    last
}

/// `host:port` of `url`, for "nothing is listening at ...".
fn host_port(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port_or_known_default()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => url.to_string(),
        },
        Err(_) => url.to_string(),
    }
}

/// The cause of a connection failure in words.
pub fn cause_in_words(e: &(dyn std::error::Error + 'static), url: &str) -> (ConnectCause, String) {
    let cause = ConnectCause::of(e);
    let words = match cause {
        ConnectCause::Refused => {
            format!(
                "connection refused (nothing is listening at {})",
                host_port(url)
            )
        }
        ConnectCause::Dns => {
            let host = url::Url::parse(url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_else(|| url.to_string());
            format!("the host name {host} could not be resolved")
        }
        ConnectCause::Tls => format!("the secure (TLS) connection failed: {}", innermost(e)),
        ConnectCause::Unreachable => "the network or host is unreachable".to_string(),
        ConnectCause::Reset => {
            "the server closed the connection while it was being made".to_string()
        }
        ConnectCause::Other => innermost(e),
    };
    (cause, words)
}

/// The error for "no response headers within `llm.request_timeout`".
pub fn request_timeout_error(url: &str, timeout: Duration) -> LlmError {
    LlmError::new(
        ErrorKind::Timeout,
        format!(
            "no answer from {url} within {}s (llm.request_timeout)",
            timeout.as_secs_f64()
        ),
    )
    .with_advice(Advice::ServerUpOrTimeout)
}

/// The error for a request reqwest could not complete: a malformed address, a connection
/// that could not be made (with its cause in words and which timeout fired), or a
/// response that did not arrive in time.
pub fn request_error(
    e: &reqwest::Error,
    url: &str,
    timeouts: (Duration, Duration),
    mapper: &dyn ErrorMapper,
) -> LlmError {
    let (request_timeout, connect_timeout) = timeouts;
    tracing::info!("request to {url} failed: {}", chain(e));
    if e.is_builder() {
        // Not a connection failure: the request could not even be made (a malformed
        // address, such as `host:port` without `http://`). Retrying cannot help.
        return LlmError::new(
            ErrorKind::BadRequest,
            format!("cannot send a request to {url}: {}", chain(e)),
        )
        .with_advice(Advice::FullUrl);
    }
    if e.is_connect() && e.is_timeout() {
        return LlmError::new(
            ErrorKind::Connect,
            format!(
                "could not connect to {url} within {}s (llm.connect_timeout)",
                connect_timeout.as_secs_f64()
            ),
        )
        .with_advice(Advice::RaiseConnectTimeout(Box::new(
            mapper.connect_advice(url),
        )));
    }
    if e.is_timeout() {
        return request_timeout_error(url, request_timeout);
    }
    let (_, words) = cause_in_words(e, url);
    LlmError::new(
        ErrorKind::Connect,
        format!("could not connect to {url}: {words}"),
    )
    .with_advice(mapper.connect_advice(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrap(&'static str, io::Error);
    impl std::fmt::Display for Wrap {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for Wrap {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.1)
        }
    }

    #[test]
    fn causes_are_said_in_words() {
        let url = "http://127.0.0.1:9/v1/chat/completions";
        let refused = Wrap(
            "error sending request: client error (Connect)",
            io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "Connection refused (os error 111)",
            ),
        );
        assert_eq!(
            cause_in_words(&refused, url),
            (
                ConnectCause::Refused,
                "connection refused (nothing is listening at 127.0.0.1:9)".to_string()
            )
        );
        let dns = Wrap(
            "error sending request",
            io::Error::other("dns error: failed to lookup address information"),
        );
        let (cause, words) = cause_in_words(&dns, "https://api.example.invalid/v1");
        assert_eq!(cause, ConnectCause::Dns);
        assert_eq!(
            words,
            "the host name api.example.invalid could not be resolved"
        );
        let other = Wrap("error sending request", io::Error::other("something odd"));
        assert_eq!(cause_in_words(&other, url).1, "something odd");
    }
}
