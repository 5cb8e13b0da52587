//! A partial answer stays in the conversation: after a mid-stream failure or Ctrl-C, the next
//! turn's request carries what the model had said (issue 17).

use std::sync::Arc;

use super::tests::{Script, Scripted};
use super::*;
use crate::llm::{FinishReason, LlmError, StreamEvent};

/// Shows nothing; tells `shown` when text was shown (the moment to press Ctrl-C).
#[derive(Default)]
struct Quiet {
    shown: Arc<tokio::sync::Notify>,
}

impl Ui for Quiet {
    fn text(&mut self, _s: &str) {
        self.shown.notify_one();
    }
    fn flush(&mut self) {}
    fn end_answer(&mut self) {}
    fn info(&mut self, _line: &str) {}
    fn tool_start(&mut self, _name: &str, _summary: &str) {}
    fn tool_end(&mut self, _ok: bool, _detail: &str) {}
}

fn session(backend: Arc<Scripted>, dir: &std::path::Path) -> ChatSession {
    ChatSession::new(
        backend,
        SessionConfig {
            model: "m".into(),
            options: RequestOptions::default(),
            max_tool_rounds: 4,
            no_stream: false,
            tools_enabled: true,
            limits: super::Limits::default(),
            max_identical_tool_calls: 2,
        },
        "system".into(),
        Registry::builtin(),
        ToolContext::new(dir),
        Permissions::new(vec![], false, None),
        None,
    )
}

fn delta(t: &str) -> Result<StreamEvent, LlmError> {
    Ok(StreamEvent::TextDelta(t.into()))
}

fn answer(t: &str) -> Script {
    (
        vec![delta(t), Ok(StreamEvent::Finish(FinishReason::Stop))],
        false,
    )
}

/// The second request's messages after the system prompt, as (role, text) pairs.
fn second_request(backend: &Scripted) -> Vec<(String, String)> {
    let requests = backend.requests.lock().unwrap();
    assert_eq!(requests.len(), 2);
    requests[1]
        .messages
        .iter()
        .filter_map(|m| match m {
            Message::User { content, .. } => Some(("user".into(), content.clone())),
            Message::Assistant { content, .. } => Some(("assistant".into(), content.clone())),
            _ => None,
        })
        .collect()
}

fn expected() -> Vec<(String, String)> {
    [
        ("user", "first"),
        ("assistant", "Half an ans"),
        ("user", "go on"),
    ]
    .iter()
    .map(|(r, t)| (r.to_string(), t.to_string()))
    .collect()
}

#[tokio::test]
async fn a_mid_stream_failure_keeps_the_partial_answer_for_the_next_turn() {
    let dir = tempfile::tempdir().unwrap();
    let broken = vec![
        delta("Half "),
        delta("an ans"),
        Err(LlmError::protocol("the connection closed mid-answer")),
    ];
    let backend = Arc::new(Scripted::breaking(vec![(broken, false), answer("wer.")]));
    let mut s = session(backend.clone(), dir.path());
    let end = s
        .run_turn("first", &mut Quiet::default(), &mut never_interrupt())
        .await;
    assert!(matches!(end, TurnEnd::Failed(_)), "{end:?}");
    let end = s
        .run_turn("go on", &mut Quiet::default(), &mut never_interrupt())
        .await;
    assert!(matches!(end, TurnEnd::Done), "{end:?}");
    assert_eq!(second_request(&backend), expected());
}

#[tokio::test]
async fn ctrl_c_mid_answer_keeps_the_partial_answer_for_the_next_turn() {
    let dir = tempfile::tempdir().unwrap();
    // The stream sends two deltas, then nothing: only Ctrl-C can end it.
    let hanging = vec![delta("Half "), delta("an ans")];
    let backend = Arc::new(Scripted::breaking(vec![(hanging, true), answer("wer.")]));
    let mut s = session(backend.clone(), dir.path());
    // Ctrl-C once the deltas were shown (no timing involved).
    let mut ui = Quiet::default();
    let shown = ui.shown.clone();
    let mut ctrl_c: Interrupt = Box::new(move || {
        let shown = shown.clone();
        Box::pin(async move { shown.notified().await })
    });
    let end = s.run_turn("first", &mut ui, &mut ctrl_c).await;
    assert!(matches!(end, TurnEnd::Cancelled), "{end:?}");
    let end = s
        .run_turn("go on", &mut Quiet::default(), &mut never_interrupt())
        .await;
    assert!(matches!(end, TurnEnd::Done), "{end:?}");
    assert_eq!(second_request(&backend), expected());
}
