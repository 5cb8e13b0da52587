//! `llm.total_timeout`: a bound on a whole answer, from the first try (retries included)
//! to its last event. The idle timeout cannot catch a server that trickles a byte every
//! few seconds for ever; this does.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::StreamExt;
use tokio::time::Instant;

use super::advice::Advice;
use super::backend::{Backend, EventStream, Layer};
use super::error::{ErrorKind, LlmError};
use super::types::ChatRequest;

/// A backend whose answers are abandoned after a total time.
pub struct DeadlineBackend {
    inner: Arc<dyn Backend>,
    total: Duration,
}

impl DeadlineBackend {
    /// `inner`, with each answer bounded by `total`.
    pub fn new(inner: Arc<dyn Backend>, total: Duration) -> Self {
        DeadlineBackend { inner, total }
    }
}

/// The error when `llm.total_timeout` fires.
pub fn total_timeout_error(total: Duration) -> LlmError {
    LlmError::new(
        ErrorKind::Timeout,
        format!(
            "the answer took longer than {}s (llm.total_timeout) and was abandoned",
            total.as_secs_f64()
        ),
    )
    .with_advice(Advice::RaiseTotalTimeout)
}

impl Layer for DeadlineBackend {
    fn inner(&self) -> &dyn Backend {
        self.inner.as_ref()
    }

    fn stream_through<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<EventStream, LlmError>> {
        Box::pin(async move {
            let total = self.total;
            let deadline = Instant::now() + total;
            let events = match tokio::time::timeout_at(deadline, self.inner.stream(request)).await {
                Ok(r) => r?,
                Err(_) => return Err(total_timeout_error(total)),
            };
            let bounded = futures_util::stream::unfold(Some(events), move |state| async move {
                let mut events = state?;
                match tokio::time::timeout_at(deadline, events.next()).await {
                    Ok(Some(item)) => Some((item, Some(events))),
                    Ok(None) => None,
                    Err(_) => Some((Err(total_timeout_error(total)), None)),
                }
            });
            Ok(Box::pin(bounded) as EventStream)
        })
    }
}
