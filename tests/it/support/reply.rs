//! Scripted replies for [`super::FakeServer`] and the response body that plays them back.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::Notify;

/// Error type of the response body; any error makes hyper abort the connection.
pub type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// One step of a scripted response body.
#[derive(Clone, Debug)]
enum Part {
    /// Bytes written and flushed as their own write (one HTTP chunk).
    Chunk(Bytes),
    /// Pause before the next part.
    Delay(Duration),
    /// Abort the connection: the client sees an incomplete body.
    Disconnect,
    /// Send nothing more but keep the connection open until the server drops.
    Stall,
}

/// A scripted HTTP response, built with chained calls.
///
/// Bodies are sent with chunked transfer encoding (no `Content-Length`), except for
/// [`Reply::json`] and [`Reply::text`] left unchanged, which send a `Content-Length`.
#[derive(Clone, Debug)]
pub struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    parts: Vec<Part>,
    /// Pause before the status line and headers are sent.
    pub(crate) head_delay: Option<Duration>,
    /// Never send the status line at all.
    pub(crate) hang: bool,
    /// Close the connection instead of answering.
    pub(crate) close_before_status: bool,
    /// Close the connection once the body has been sent.
    pub(crate) close_after: bool,
    /// Send a `Content-Length` (set by `json`/`text`, cleared by any later part).
    fixed_length: bool,
}

impl Reply {
    /// An empty reply with the given status code (100..=999; 599 is fine).
    pub fn new(status: u16) -> Reply {
        // Checked here so a bad script panics in the test, not on the server thread.
        assert!(
            hyper::StatusCode::from_u16(status).is_ok(),
            "invalid scripted status {status}"
        );
        Reply {
            status,
            headers: Vec::new(),
            parts: Vec::new(),
            head_delay: None,
            hang: false,
            close_before_status: false,
            close_after: false,
            fixed_length: false,
        }
    }

    /// Adds a response header (repeat the call for repeated headers).
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        assert!(
            hyper::header::HeaderName::from_bytes(name.as_bytes()).is_ok(),
            "invalid scripted header name {name:?}"
        );
        assert!(
            hyper::header::HeaderValue::from_str(value).is_ok(),
            "invalid scripted header value {value:?}"
        );
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Appends one body part, written and flushed as its own write (empty parts are skipped,
    /// because an empty HTTP chunk would end the body).
    pub fn chunk(mut self, bytes: impl Into<Vec<u8>>) -> Reply {
        let bytes = bytes.into();
        self.fixed_length = false;
        if !bytes.is_empty() {
            self.parts.push(Part::Chunk(Bytes::from(bytes)));
        }
        self
    }

    /// Pauses `ms` milliseconds before the next part (or before the body ends).
    pub fn delay_ms(mut self, ms: u64) -> Reply {
        self.fixed_length = false;
        self.parts.push(Part::Delay(Duration::from_millis(ms)));
        self
    }

    /// Aborts the connection here, mid-body: the client sees an error while reading the body.
    /// As the first part it may instead make the request itself fail.
    pub fn disconnect(mut self) -> Reply {
        self.fixed_length = false;
        self.parts.push(Part::Disconnect);
        self
    }

    /// Stops sending but keeps the connection open until the [`super::FakeServer`] drops.
    /// Headers and earlier parts are sent first.
    pub fn stall(mut self) -> Reply {
        self.fixed_length = false;
        self.parts.push(Part::Stall);
        self
    }

    /// Waits `ms` milliseconds before sending the status line and headers.
    pub fn delay_headers_ms(mut self, ms: u64) -> Reply {
        self.head_delay = Some(Duration::from_millis(ms));
        self
    }

    /// Never answers at all (not even headers); the connection stays open until the server drops.
    pub fn hang() -> Reply {
        let mut reply = Reply::new(200);
        reply.hang = true;
        reply
    }

    /// Closes the connection without answering, after reading the request: the client sees
    /// "connection closed before message completed", as when it sent the request on a pooled
    /// keep-alive connection that the server had closed while it sat idle.
    pub fn close_before_status() -> Reply {
        let mut reply = Reply::new(200);
        reply.close_before_status = true;
        reply
    }

    /// Closes the connection once the body has been sent, without saying so
    /// (no `Connection: close`), as llama-server does after every streamed answer.
    pub fn close_after(mut self) -> Reply {
        self.close_after = true;
        self
    }

    /// `status` with `Content-Type: application/json` and the whole value as the body.
    pub fn json(status: u16, value: serde_json::Value) -> Reply {
        let body = serde_json::to_vec(&value).unwrap_or_default();
        Reply::text_bytes(status, "application/json", body)
    }

    /// `status` with the given content type and the whole text as the body.
    pub fn text(status: u16, content_type: &str, body: &str) -> Reply {
        Reply::text_bytes(status, content_type, body.as_bytes().to_vec())
    }

    fn text_bytes(status: u16, content_type: &str, body: Vec<u8>) -> Reply {
        let mut reply = Reply::new(status)
            .header("content-type", content_type)
            .chunk(body);
        reply.fixed_length = true;
        reply
    }

    /// 200 `text/event-stream`; each item becomes `data: {item}\n\n`, each event its own chunk.
    pub fn sse<S: AsRef<str>>(items: &[S]) -> Reply {
        items.iter().fold(
            Reply::new(200).header("content-type", "text/event-stream"),
            |reply, item| reply.chunk(format!("data: {}\n\n", item.as_ref())),
        )
    }

    /// 200 with the given content type, `body` cut into parts at the given byte offsets
    /// (any offsets in `0..=body.len()`, in any order, also inside UTF-8 chars or CRLF).
    pub fn split(content_type: &str, body: &[u8], cuts: &[usize]) -> Reply {
        let mut cuts = cuts.to_vec();
        cuts.sort_unstable();
        cuts.dedup();
        if let Some(&last) = cuts.last() {
            assert!(
                last <= body.len(),
                "split: cut {last} is past the body end {}",
                body.len()
            );
        }
        let mut reply = Reply::new(200).header("content-type", content_type);
        let mut start = 0;
        for cut in cuts.into_iter().chain([body.len()]) {
            reply = reply.chunk(&body[start..cut]);
            start = cut;
        }
        reply
    }

    /// 200 `application/x-ndjson`, one chunk per line (each line ends with `\n`).
    pub fn ndjson(lines: &[serde_json::Value]) -> Reply {
        lines.iter().fold(
            Reply::new(200).header("content-type", "application/x-ndjson"),
            |reply, line| reply.chunk(format!("{line}\n")),
        )
    }

    /// Turns the scripted parts into a hyper response body; `on_end` is notified when the
    /// body has been played to its end.
    pub(crate) fn body(&self, on_end: Option<Arc<Notify>>) -> ScriptBody {
        let exact_len = self.fixed_length.then(|| {
            self.parts
                .iter()
                .map(|part| match part {
                    Part::Chunk(bytes) => bytes.len() as u64,
                    _ => 0,
                })
                .sum()
        });
        ScriptBody {
            parts: self.parts.iter().cloned().collect(),
            sleep: None,
            yield_next: false,
            exact_len,
            on_end,
        }
    }
}

/// A response body that plays back a [`Reply`]'s parts.
pub(crate) struct ScriptBody {
    parts: VecDeque<Part>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Set after each chunk: returning `Pending` once makes hyper flush before buffering
    /// the next chunk, so chunks become separate writes and reach the socket before a
    /// later `Disconnect` aborts the connection.
    yield_next: bool,
    exact_len: Option<u64>,
    on_end: Option<Arc<Notify>>,
}

impl Body for ScriptBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = &mut *self;
        if this.yield_next {
            this.yield_next = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        loop {
            match this.parts.front() {
                None => {
                    if let Some(end) = this.on_end.take() {
                        end.notify_one();
                    }
                    return Poll::Ready(None);
                }
                Some(Part::Chunk(_)) => {
                    let Some(Part::Chunk(bytes)) = this.parts.pop_front() else {
                        unreachable!("front was a chunk");
                    };
                    this.yield_next = true;
                    return Poll::Ready(Some(Ok(Frame::data(bytes))));
                }
                Some(Part::Delay(duration)) => {
                    let duration = *duration;
                    let sleep = this
                        .sleep
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep(duration)));
                    if sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    this.sleep = None;
                    this.parts.pop_front();
                }
                Some(Part::Disconnect) => {
                    this.parts.clear();
                    return Poll::Ready(Some(Err("fake server: scripted disconnect".into())));
                }
                // Never woken: the connection task is dropped when the server shuts down.
                Some(Part::Stall) => return Poll::Pending,
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        // With an `on_end` to notify, hyper must poll to the end.
        self.parts.is_empty() && !self.yield_next && self.on_end.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match self.exact_len {
            Some(len) => SizeHint::with_exact(len),
            None => SizeHint::default(),
        }
    }
}
