//! The HTTP transport every backend shares: sending with retries, mapping connection
//! failures, and reading a body with an idle timeout. One copy of the rules, not one per
//! protocol.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use reqwest::header::HeaderMap;

use super::advice::Advice;
use super::backend::MAX_EVENT_BYTES;
use super::error::{ErrorKind, LlmError};
use super::net_error::{request_error, request_timeout_error, ConnectCause};
use super::notice::{Notice, Notifier};
use super::retry::{parse_retry_after, RetryPolicy, LOOPBACK_REFUSED_DELAY};

/// How a provider turns an unsuccessful HTTP answer into an error with its own hints.
pub trait ErrorMapper: Send + Sync {
    /// Builds the error for a non-2xx answer from its status, headers and body text.
    fn status_error(&self, status: u16, headers: &HeaderMap, body: &str) -> LlmError;
    /// What to advise when `url` cannot be reached at all.
    fn connect_advice(&self, url: &str) -> Advice;
}

/// The shared HTTP client with goshi's timeout and retry rules.
#[derive(Clone)]
pub struct Transport {
    client: reqwest::Client,
    /// Bounds the wait for response headers and each wait for the next body byte
    /// (`llm.request_timeout`).
    pub timeout: Duration,
    /// Bounds making the connection (`llm.connect_timeout`).
    pub connect_timeout: Duration,
    /// Retry policy (`llm.retry`).
    pub retry: RetryPolicy,
    notify: Notifier,
}

/// The timeouts and retry policy of a [`Transport`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransportSettings {
    /// The idle timeout: response headers, and each read of the body.
    pub request_timeout: Duration,
    /// The longest wait for a connection.
    pub connect_timeout: Duration,
    /// When and how often failed requests are sent again.
    pub retry: RetryPolicy,
}

impl Transport {
    /// A transport with the given idle timeout (also bounding connecting) and retry count,
    /// with the default backoff steps.
    pub fn new(timeout: Duration, max_retries: u32, notify: Notifier) -> Result<Self, LlmError> {
        Transport::with_settings(
            TransportSettings {
                request_timeout: timeout,
                connect_timeout: timeout,
                retry: RetryPolicy::new(max_retries),
            },
            notify,
        )
    }

    /// A transport with every timeout and the retry policy given.
    pub fn with_settings(settings: TransportSettings, notify: Notifier) -> Result<Self, LlmError> {
        Ok(Transport {
            client: build_client(settings.connect_timeout, false)?,
            timeout: settings.request_timeout,
            connect_timeout: settings.connect_timeout,
            retry: settings.retry,
            notify,
        })
    }

    /// The same transport, talking to `base_url` directly when it is on this machine:
    /// an `HTTP_PROXY` meant for the internet must not capture a local server (Ollama,
    /// llama.cpp), as Go's client (and so Ollama's own CLI) also skips proxies for loopback.
    pub fn direct_for_loopback(mut self, base_url: &str) -> Result<Self, LlmError> {
        if is_loopback(base_url) {
            self.client = build_client(self.connect_timeout, true)?;
        }
        Ok(self)
    }

    /// The underlying client, to build requests with.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Hands a notice to the caller's notifier.
    pub fn notify(&self, notice: Notice) {
        (self.notify)(&notice)
    }

    /// The notifier.
    pub fn notifier(&self) -> &Notifier {
        &self.notify
    }

    /// Sends the request that `build` makes, retrying 408, 409, 429, 5xx and connection
    /// failures up to `max_retries` times with backoff (honouring `Retry-After` up to
    /// `max_delay`, and the `max_elapsed` budget). A refused connection to this machine is
    /// retried once, quickly and quietly. Returns the first successful response, whose body
    /// has not been read yet.
    pub async fn send(
        &self,
        url: &str,
        build: &(dyn Fn() -> reqwest::RequestBuilder + Send + Sync),
        mapper: &dyn ErrorMapper,
    ) -> Result<reqwest::Response, LlmError> {
        let started = tokio::time::Instant::now();
        let mut attempt = 0u32;
        let mut stale_retried = false;
        loop {
            let (err, retryable, local_refused) = match self.try_once(url, build, mapper).await {
                Attempt::Done(resp) => return Ok(resp),
                Attempt::Stale(_) if !stale_retried => {
                    // A pooled keep-alive connection that the server had already closed
                    // (some servers close after every streamed answer despite
                    // `Keep-Alive`): the request never reached it, so send it again at
                    // once, once, and quietly.
                    stale_retried = true;
                    tracing::debug!("reused connection was closed by the server; resending");
                    continue;
                }
                // Closed again: an ordinary connection failure now, under the retry rules.
                Attempt::Stale(e) => {
                    let err = request_error(&e, url, (self.timeout, self.connect_timeout), mapper);
                    let retryable = err.is_retryable();
                    (err, retryable, false)
                }
                Attempt::Failed {
                    err,
                    retryable,
                    refused,
                } => (err, retryable, refused && is_loopback(url)),
            };
            if !retryable || attempt >= self.retry.max_retries || (local_refused && attempt >= 1) {
                return Err(err);
            }
            if self.retry.too_long(err.retry_after) {
                return Err(come_back_later(err, self.retry.max_delay));
            }
            attempt += 1;
            let wait = if local_refused {
                LOOPBACK_REFUSED_DELAY
            } else {
                self.retry.delay(attempt, err.retry_after, fastrand::f64())
            };
            if let Some(budget) = self.retry.max_elapsed {
                if started.elapsed() + wait > budget {
                    return Err(out_of_budget(err, started.elapsed()));
                }
            }
            if local_refused {
                tracing::debug!("connection refused on this machine; one quick retry");
            } else {
                let why = match err.status {
                    Some(s) => format!("HTTP {s}"),
                    None => err.message.clone(),
                };
                self.notify(Notice::Retrying {
                    why,
                    wait,
                    attempt,
                    max: self.retry.max_retries,
                });
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// One try: the response, or the error with whether a retry may help.
    async fn try_once(
        &self,
        url: &str,
        build: &(dyn Fn() -> reqwest::RequestBuilder + Send + Sync),
        mapper: &dyn ErrorMapper,
    ) -> Attempt {
        match tokio::time::timeout(self.timeout, build().send()).await {
            Ok(Err(e)) if is_stale_connection(&e) => Attempt::Stale(e),
            Ok(Ok(resp)) if resp.status().is_success() => Attempt::Done(resp),
            Ok(Ok(resp)) => {
                let status = resp.status().as_u16();
                let headers = resp.headers().clone();
                // OpenAI's `x-should-retry` header, when present, overrides the status
                // rules (as its official SDKs do).
                let server_says = match headers.get("x-should-retry").and_then(|v| v.to_str().ok())
                {
                    Some("true") => Some(true),
                    Some("false") => Some(false),
                    _ => None,
                };
                let body = self.error_body(resp).await;
                let mut err = mapper.status_error(status, &headers, &body);
                err.status = Some(status);
                if err.retry_after.is_none() {
                    err.retry_after = parse_retry_after(&headers);
                }
                let retryable = server_says.unwrap_or_else(|| err.is_retryable());
                Attempt::Failed {
                    err,
                    retryable,
                    refused: false,
                }
            }
            Ok(Err(e)) => {
                let refused = ConnectCause::of(&e) == ConnectCause::Refused;
                let err = request_error(&e, url, (self.timeout, self.connect_timeout), mapper);
                let retryable = err.is_retryable();
                Attempt::Failed {
                    err,
                    retryable,
                    refused,
                }
            }
            Err(_) => Attempt::Failed {
                err: request_timeout_error(url, self.timeout),
                retryable: false,
                refused: false,
            },
        }
    }

    /// As much of an error answer's body as arrives within the timeout, at most
    /// [`MAX_ERROR_BODY`] bytes: an error object is small, and a server that sends an
    /// endless body must not grow goshi's memory (or hide the part that did arrive).
    async fn error_body(&self, resp: reqwest::Response) -> String {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut stream = Box::pin(resp.bytes_stream());
        let mut body = Vec::new();
        while body.len() < MAX_ERROR_BODY {
            match tokio::time::timeout_at(deadline, stream.next()).await {
                Ok(Some(Ok(bytes))) => {
                    let room = MAX_ERROR_BODY - body.len();
                    body.extend_from_slice(&bytes[..bytes.len().min(room)]);
                }
                _ => break,
            }
        }
        String::from_utf8_lossy(&body).into_owned()
    }

    /// The whole body of a non-streamed answer. As for a stream, the timeout bounds each
    /// wait for the next read, not the whole body; a body over [`MAX_EVENT_BYTES`] is
    /// refused rather than held in memory.
    pub async fn read_body(&self, resp: reqwest::Response) -> Result<String, LlmError> {
        let mut stream = Box::pin(resp.bytes_stream());
        let mut body = Vec::new();
        loop {
            match tokio::time::timeout(self.timeout, stream.next()).await {
                Ok(Some(Ok(bytes))) => {
                    if body.len() + bytes.len() > MAX_EVENT_BYTES {
                        return Err(LlmError::protocol(format!(
                            "the server's answer is larger than {} MiB; it was abandoned",
                            MAX_EVENT_BYTES / (1024 * 1024)
                        ))
                        .with_hint(
                            "the server may not be speaking the expected protocol; check the base URL",
                        ));
                    }
                    body.extend_from_slice(&bytes);
                }
                Ok(Some(Err(e))) => {
                    return Err(LlmError::new(
                        ErrorKind::StreamInterrupted,
                        format!("the connection broke while the answer arrived ({})", chain(&e)),
                    )
                    .with_hint("try again"))
                }
                Ok(None) => return Ok(String::from_utf8_lossy(&body).into_owned()),
                Err(_) => {
                    return Err(LlmError::new(
                        ErrorKind::Timeout,
                        format!(
                            "the server sent nothing for {}s (llm.request_timeout) and the answer was abandoned",
                            self.timeout.as_secs_f64()
                        ),
                    )
                    .with_advice(Advice::RaiseTimeout))
                }
            }
        }
    }

    /// The response body as a stream of network reads; waiting longer than the timeout
    /// for the next read, or a broken connection, ends it with an error.
    pub fn body_stream(
        &self,
        resp: reqwest::Response,
    ) -> impl Stream<Item = Result<Bytes, LlmError>> + Send + 'static {
        let timeout = self.timeout;
        let inner = Box::pin(resp.bytes_stream());
        futures_util::stream::unfold(Some(inner), move |state| async move {
            let mut inner = state?;
            match tokio::time::timeout(timeout, inner.next()).await {
                Ok(Some(Ok(bytes))) => Some((Ok(bytes), Some(inner))),
                Ok(Some(Err(e))) => Some((
                    Err(LlmError::new(
                        ErrorKind::StreamInterrupted,
                        format!("stream interrupted: the connection broke mid-answer ({})", chain(&e)),
                    )
                    .with_hint("the partial answer was kept; ask again to continue")),
                    None,
                )),
                Ok(None) => None,
                Err(_) => Some((
                    Err(LlmError::new(
                        ErrorKind::Timeout,
                        format!(
                            "the server sent nothing for {}s (llm.request_timeout) and the answer was abandoned",
                            timeout.as_secs_f64()
                        ),
                    )
                    .with_advice(Advice::RaiseTimeout)),
                    None,
                )),
            }
        })
    }
}

/// The most of an error answer's body that is read (see [`Transport::send`]).
pub const MAX_ERROR_BODY: usize = 64 * 1024;

/// How one try of a request went.
enum Attempt {
    /// A successful response.
    Done(reqwest::Response),
    /// A pooled connection the server had closed: the request never reached it.
    Stale(reqwest::Error),
    /// An error; `refused` when nothing listened at the address.
    Failed {
        err: LlmError,
        retryable: bool,
        refused: bool,
    },
}

/// The server asked for a longer wait than goshi makes: say when to come back.
fn come_back_later(mut err: LlmError, max_delay: Duration) -> LlmError {
    let wait = err.retry_after.unwrap_or_default();
    let when = std::time::SystemTime::now() + wait;
    let at = humantime::format_rfc3339_seconds(when).to_string();
    err.message = format!(
        "{}; the server asks to wait {:.0}s before trying again (until {} UTC)",
        err.message,
        wait.as_secs_f64().ceil(),
        at.trim_end_matches('Z').replace('T', " ")
    );
    err.with_advice(Advice::ComeBackLater { max_delay })
}

/// The retries of one request used up `llm.retry.max_elapsed`.
fn out_of_budget(mut err: LlmError, elapsed: Duration) -> LlmError {
    err.message = format!(
        "{} (gave up retrying after {:.1}s: llm.retry.max_elapsed)",
        err.message,
        elapsed.as_secs_f64()
    );
    err
}

fn build_client(connect_timeout: Duration, no_proxy: bool) -> Result<reqwest::Client, LlmError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .user_agent(concat!("goshi/", env!("CARGO_PKG_VERSION")));
    if no_proxy {
        builder = builder.no_proxy();
    }
    builder.build().map_err(|e| {
        LlmError::new(
            ErrorKind::Connect,
            format!("could not set up the HTTP client: {e}"),
        )
    })
}

/// Whether `url`'s host is this machine (`localhost`, 127.0.0.0/8, `::1`).
pub fn is_loopback(url: &str) -> bool {
    match url::Url::parse(url)
        .ok()
        .and_then(|u| u.host().map(|h| h.to_owned()))
    {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether `e` is hyper's "connection closed before message completed" on sending: the
/// mark of a pooled connection the server closed while it sat idle.
fn is_stale_connection(e: &reqwest::Error) -> bool {
    !e.is_timeout() && chain(e).contains("connection closed before message completed")
}

/// An error and its sources as one line (reqwest hides the useful part in the chain).
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Shortens a server body for an error message.
pub fn clip_body(body: &str) -> String {
    let body = body.trim();
    if body.len() <= 500 {
        return body.to_string();
    }
    let mut end = 500;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &body[..end])
}
