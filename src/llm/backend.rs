//! The one interface every model backend implements.

use std::collections::VecDeque;
use std::pin::Pin;

use futures_util::future::BoxFuture;
use futures_util::{Stream, StreamExt};

use super::accumulate::{Accumulator, AssistantTurn};
use super::error::LlmError;
use super::events::StreamEvent;
use super::types::ChatRequest;

/// A model's answer as it streams: events, or one error that ends it.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<StreamEvent, LlmError>> + Send>>;

pub use super::notice::Notifier;

/// What a backend can tell, before a turn, about a model's tool calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolSupport {
    /// The server says the model can call tools.
    Yes,
    /// The model cannot call tools (the server said so, or refused them earlier in this
    /// session): turns go without them.
    No,
    /// The server could be asked but gave no usable answer.
    Unknown,
    /// The protocol has no way to ask in advance: tools are offered, and a refusal turns
    /// them off for the model (with a notice).
    OfferedUntilRefused,
}

/// A model backend: one wire protocol to one kind of server.
pub trait Backend: Send + Sync {
    /// The provider's display name, used in the token line (`OpenAI`, `Ollama`).
    fn provider_name(&self) -> &'static str;

    /// The names of the models the server offers, sorted as the server's protocol does.
    fn list_models(&self) -> BoxFuture<'_, Result<Vec<String>, LlmError>>;

    /// What is known, before a turn, about whether `model` can call tools.
    fn tool_support<'a>(&'a self, _model: &'a str) -> BoxFuture<'a, ToolSupport> {
        Box::pin(async { ToolSupport::OfferedUntilRefused })
    }

    /// Whether `listed`, a name from [`Backend::list_models`], is the model named `model`
    /// (servers may list one model under more than one spelling).
    fn is_same_model(&self, listed: &str, model: &str) -> bool {
        listed == model
    }

    /// Sends `request` and returns its answer as a stream of events. Errors before the
    /// stream starts (HTTP status, connection) come back here, after any retries.
    fn stream<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<EventStream, LlmError>>;

    /// The non-streaming call: the same stream, drained.
    fn complete<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<AssistantTurn, LlmError>> {
        Box::pin(async move {
            let mut stream = self.stream(request).await?;
            let mut acc = Accumulator::new();
            while let Some(event) = stream.next().await {
                acc.push(&event?);
            }
            Ok(acc.finish())
        })
    }
}

/// A backend wrapped around another that changes only how answers stream (the circuit
/// breaker, the total deadline); everything else is the inner backend's, through the
/// [`Backend`] implementation every layer gets.
pub trait Layer: Send + Sync {
    /// The backend this one wraps.
    fn inner(&self) -> &dyn Backend;

    /// [`Backend::stream`] through this layer (it calls the inner backend's).
    fn stream_through<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<EventStream, LlmError>>;
}

impl<L: Layer> Backend for L {
    fn provider_name(&self) -> &'static str {
        self.inner().provider_name()
    }

    fn list_models(&self) -> BoxFuture<'_, Result<Vec<String>, LlmError>> {
        self.inner().list_models()
    }

    fn tool_support<'a>(&'a self, model: &'a str) -> BoxFuture<'a, ToolSupport> {
        self.inner().tool_support(model)
    }

    fn is_same_model(&self, listed: &str, model: &str) -> bool {
        self.inner().is_same_model(listed, model)
    }

    fn stream<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<EventStream, LlmError>> {
        self.stream_through(request)
    }
}

/// A push parser from a wire format's bytes to events. Each backend has one; the
/// shared [`decode_stream`] drives it from the network.
pub trait WireDecoder: Send + 'static {
    /// Decodes one network read, appending every completed event (or error) to `out`.
    fn feed(&mut self, bytes: &[u8], out: &mut VecDeque<Result<StreamEvent, LlmError>>);
    /// The stream ended cleanly; report anything incomplete (e.g. no finish seen) as an error.
    fn finish(&mut self, out: &mut VecDeque<Result<StreamEvent, LlmError>>);
    /// Bytes held for an event or line that has not ended yet.
    fn buffered(&self) -> usize {
        0
    }
    /// Whether the wire's end-of-answer marker arrived (`[DONE]`, `done: true`, a final
    /// `response.*` event): the answer is complete, whatever the server does with the body.
    fn is_done(&self) -> bool {
        false
    }
}

/// The most one unfinished event or line may hold: a server that never ends one would
/// otherwise grow goshi's memory without bound.
pub const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// How long the body may take to end after the wire's end-of-answer marker. Reading it to
/// its end lets the connection be reused; a server that keeps it open is cut off after this.
pub const END_GRACE: std::time::Duration = std::time::Duration::from_millis(250);

/// Drives `decoder` over a byte stream, yielding events as soon as each read is decoded.
/// The stream ends after the first error, or (within [`END_GRACE`]) after the wire's
/// end-of-answer marker; dropping it closes the connection.
pub fn decode_stream<S, D>(bytes: S, decoder: D) -> EventStream
where
    S: Stream<Item = Result<bytes::Bytes, LlmError>> + Send + 'static,
    D: WireDecoder,
{
    struct State<S, D> {
        bytes: Pin<Box<S>>,
        decoder: D,
        queue: VecDeque<Result<StreamEvent, LlmError>>,
        done: bool,
        /// The end marker arrived: the rest of the body is read (briefly) and discarded.
        complete: bool,
    }
    let state = State {
        bytes: Box::pin(bytes),
        decoder,
        queue: VecDeque::new(),
        done: false,
        complete: false,
    };
    Box::pin(futures_util::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(item) = st.queue.pop_front() {
                if item.is_err() {
                    // An error ends the answer: drop whatever was queued behind it.
                    st.queue.clear();
                    st.done = true;
                }
                return Some((item, st));
            }
            if st.done {
                if std::mem::take(&mut st.complete) {
                    let deadline = tokio::time::Instant::now() + END_GRACE;
                    while let Ok(Some(Ok(_))) =
                        tokio::time::timeout_at(deadline, st.bytes.next()).await
                    {
                    }
                }
                return None;
            }
            match st.bytes.next().await {
                Some(Ok(chunk)) => {
                    st.decoder.feed(&chunk, &mut st.queue);
                    if st.decoder.is_done() {
                        // The answer is complete: a server that keeps the body open after
                        // the end marker must not turn it into a timeout.
                        st.done = true;
                        st.complete = true;
                    } else if st.decoder.buffered() > MAX_EVENT_BYTES {
                        st.queue.push_back(Err(LlmError::protocol(format!(
                            "the server sent more than {} MiB without ending an event; the answer was abandoned",
                            MAX_EVENT_BYTES / (1024 * 1024)
                        ))
                        .with_hint("the server may not be speaking the expected protocol; check the base URL")));
                    }
                }
                Some(Err(e)) => {
                    st.queue.push_back(Err(e));
                }
                None => {
                    st.done = true;
                    st.decoder.finish(&mut st.queue);
                }
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::error::ErrorKind;
    use crate::llm::openai::stream::ChatStreamDecoder;
    use crate::llm::toolname::ToolNameMap;

    #[tokio::test]
    async fn an_event_that_never_ends_is_abandoned_not_buffered_forever() {
        let mib = bytes::Bytes::from(vec![b'x'; 1024 * 1024]);
        let chunks = std::iter::once(Ok(bytes::Bytes::from_static(b"data: ")))
            .chain(std::iter::repeat_n(Ok(mib), 40));
        let mut stream = decode_stream(
            futures_util::stream::iter(chunks.collect::<Vec<_>>()),
            ChatStreamDecoder::new(ToolNameMap::default()),
        );
        let first = stream.next().await.unwrap();
        let err = first.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Protocol);
        assert!(err.message.contains("16 MiB"), "{err}");
        assert!(stream.next().await.is_none());
    }

    /// A backend that answers every question in its own way, to see a layer pass them on.
    struct Inner;

    impl Backend for Inner {
        fn provider_name(&self) -> &'static str {
            "Inner"
        }
        fn list_models(&self) -> BoxFuture<'_, Result<Vec<String>, LlmError>> {
            Box::pin(async { Ok(vec!["m1".to_owned()]) })
        }
        fn tool_support<'a>(&'a self, _model: &'a str) -> BoxFuture<'a, ToolSupport> {
            Box::pin(async { ToolSupport::No })
        }
        fn is_same_model(&self, listed: &str, model: &str) -> bool {
            listed.eq_ignore_ascii_case(model)
        }
        fn stream<'a>(
            &'a self,
            _request: &'a ChatRequest,
        ) -> BoxFuture<'a, Result<EventStream, LlmError>> {
            Box::pin(async { Err(LlmError::new(ErrorKind::Protocol, "inner")) })
        }
    }

    /// A layer that changes only the stream's error.
    struct Wrap(Inner);

    impl Layer for Wrap {
        fn inner(&self) -> &dyn Backend {
            &self.0
        }
        fn stream_through<'a>(
            &'a self,
            request: &'a ChatRequest,
        ) -> BoxFuture<'a, Result<EventStream, LlmError>> {
            Box::pin(async move {
                let e = self.0.stream(request).await.err().map(|e| e.message);
                Err(LlmError::new(
                    ErrorKind::Protocol,
                    format!("layer over {e:?}"),
                ))
            })
        }
    }

    #[tokio::test]
    async fn a_layer_answers_with_its_inner_backend_except_for_the_stream() {
        let b: &dyn Backend = &Wrap(Inner);
        assert_eq!(b.provider_name(), "Inner");
        assert_eq!(b.list_models().await.unwrap(), ["m1"]);
        assert_eq!(b.tool_support("m1").await, ToolSupport::No);
        assert!(b.is_same_model("M1", "m1"));
        let req = ChatRequest::default();
        let err = b.stream(&req).await.err().unwrap();
        assert_eq!(err.message, "layer over Some(\"inner\")");
    }
}
