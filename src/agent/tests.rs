//! The chat loop against a scripted in-memory backend.

use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use futures_util::StreamExt;

use super::*;
use crate::llm::{ChatRequest, EventStream, FinishReason, LlmError, StreamEvent};
use crate::safety::permissions::{Answer, Capability, Prompter};

/// One scripted answer: its items, and whether the stream then hangs (as a server that stops
/// sending would, so that only Ctrl-C ends it).
pub(super) type Script = (Vec<Result<StreamEvent, LlmError>>, bool);

/// Answers each request with the next script; shared by the chat loop's unit tests.
pub(super) struct Scripted {
    answers: Mutex<Vec<Script>>,
    pub(super) requests: Mutex<Vec<ChatRequest>>,
}

impl Scripted {
    /// Answers that each end normally.
    pub(super) fn new(answers: Vec<Vec<StreamEvent>>) -> Scripted {
        Scripted::breaking(
            answers
                .into_iter()
                .map(|events| (events.into_iter().map(Ok).collect(), false))
                .collect(),
        )
    }

    /// Answers that may fail mid-stream or hang.
    pub(super) fn breaking(scripts: Vec<Script>) -> Scripted {
        Scripted {
            answers: Mutex::new(scripts),
            requests: Mutex::default(),
        }
    }
}

impl Backend for Scripted {
    fn provider_name(&self) -> &'static str {
        "Test"
    }

    fn stream<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<EventStream, LlmError>> {
        self.requests.lock().unwrap().push(request.clone());
        let (items, hang) = self.answers.lock().unwrap().remove(0);
        Box::pin(async move {
            let head = futures_util::stream::iter(items);
            let s: EventStream = if hang {
                Box::pin(head.chain(futures_util::stream::pending()))
            } else {
                Box::pin(head)
            };
            Ok(s)
        })
    }

    fn list_models(&self) -> BoxFuture<'_, Result<Vec<String>, LlmError>> {
        Box::pin(async { Ok(vec!["scripted".to_string()]) })
    }
}

/// Records everything shown, in order.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, s: String) {
        self.0.lock().unwrap().push(s);
    }
    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl Ui for Log {
    fn text(&mut self, s: &str) {
        self.push(format!("text:{s}"));
    }
    fn flush(&mut self) {}
    fn end_answer(&mut self) {}
    fn info(&mut self, line: &str) {
        self.push(format!("info:{line}"));
    }
    fn tool_start(&mut self, name: &str, summary: &str) {
        self.push(format!("start:{name} {summary}"));
    }
    fn tool_end(&mut self, ok: bool, _detail: &str) {
        self.push(format!("end:{ok}"));
    }
}

struct SayYes(Log);

impl Prompter for SayYes {
    fn ask(&mut self, cap: Capability, tool: &str, _args: &str) -> Answer {
        self.0.push(format!("ask:{cap} {tool}"));
        Answer::Once
    }
}

fn call(id: &str, path: &str) -> Vec<StreamEvent> {
    vec![
        StreamEvent::ToolCallStart {
            index: 0,
            id: id.into(),
            name: "fs.read".into(),
        },
        StreamEvent::ToolCallArgumentsDelta {
            index: 0,
            fragment: format!("{{\"path\":\"{path}\"}}"),
        },
        StreamEvent::Finish(FinishReason::ToolCalls),
    ]
}

#[tokio::test]
async fn the_permission_prompt_comes_before_the_status_line_and_results_go_back() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "alpha").unwrap();
    let backend = Arc::new(Scripted::new(vec![
        call("c1", "a.txt"),
        vec![
            StreamEvent::TextDelta("done".into()),
            StreamEvent::Finish(FinishReason::Stop),
        ],
    ]));
    let log = Log::default();
    let permissions = Permissions::new(vec![], false, Some(Box::new(SayYes(log.clone()))));
    let mut session = ChatSession::new(
        backend.clone(),
        SessionConfig {
            model: "m".into(),
            options: RequestOptions::default(),
            max_tool_rounds: 4,
            no_stream: false,
            tools_enabled: true,
            max_identical_tool_calls: 2,
            limits: super::Limits::default(),
        },
        "system".into(),
        Registry::builtin(),
        ToolContext::new(dir.path()),
        permissions,
        None,
    );
    let mut ui = log.clone();
    let end = session
        .run_turn("read a.txt", &mut ui, &mut never_interrupt())
        .await;
    assert!(matches!(end, TurnEnd::Done), "{end:?}");
    assert_eq!(
        log.all(),
        vec![
            "ask:FS_READ fs.read",
            "start:fs.read a.txt",
            "end:true",
            "text:done"
        ]
    );
    let second = &backend.requests.lock().unwrap()[1];
    match second.messages.last().unwrap() {
        Message::Tool {
            tool_call_id,
            content,
            ..
        } => {
            assert_eq!(tool_call_id, "c1");
            assert!(content.contains("alpha"), "{content}");
        }
        other => panic!("expected a tool result, got {other:?}"),
    }
}

fn session_with(
    backend: Arc<Scripted>,
    dir: &std::path::Path,
    options: RequestOptions,
    permissions: Permissions,
) -> ChatSession {
    ChatSession::new(
        backend,
        SessionConfig {
            model: "m".into(),
            options,
            max_tool_rounds: 4,
            no_stream: false,
            tools_enabled: true,
            max_identical_tool_calls: 2,
            limits: super::Limits::default(),
        },
        "system".into(),
        Registry::builtin(),
        ToolContext::new(dir),
        permissions,
        None,
    )
}

fn text_answer(t: &str) -> Vec<StreamEvent> {
    vec![
        StreamEvent::TextDelta(t.into()),
        StreamEvent::Finish(FinishReason::Stop),
    ]
}

#[tokio::test]
async fn a_forced_tool_choice_is_sent_in_every_round_as_configured() {
    use crate::llm::ToolChoice;
    for forced in [ToolChoice::Required, ToolChoice::Named("fs.read".into())] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "alpha").unwrap();
        let backend = Arc::new(Scripted::new(vec![
            call("c1", "a.txt"),
            text_answer("done"),
        ]));
        let options = RequestOptions {
            tool_choice: forced.clone(),
            ..RequestOptions::default()
        };
        let perms = Permissions::new(vec![Capability::FsRead], false, None);
        let mut session = session_with(backend.clone(), dir.path(), options, perms);
        let end = session
            .run_turn("read a.txt", &mut Log::default(), &mut never_interrupt())
            .await;
        assert!(matches!(end, TurnEnd::Done), "{forced:?}: {end:?}");
        let requests = backend.requests.lock().unwrap();
        assert_eq!(requests[0].options.tool_choice, forced);
        // The round cap, not goshi second-guessing the setting, stops a model that keeps
        // calling tools (see the real-server round-cap test).
        assert_eq!(requests[1].options.tool_choice, forced, "{forced:?}");
    }
}

/// Records the tool status lines exactly as they would be shown.
#[derive(Clone, Default)]
struct StatusLines(Log);

impl Ui for StatusLines {
    fn text(&mut self, _s: &str) {}
    fn flush(&mut self) {}
    fn end_answer(&mut self) {}
    fn info(&mut self, _line: &str) {}
    fn tool_start(&mut self, name: &str, summary: &str) {
        self.0.push(format!("{name} {summary}"));
    }
    fn tool_end(&mut self, _ok: bool, detail: &str) {
        self.0.push(detail.to_string());
    }
}

#[tokio::test]
async fn model_chosen_text_in_status_lines_cannot_drive_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let esc = "\u{1b}[2J\u{1b}[31m";
    let answer = vec![
        StreamEvent::ToolCallStart {
            index: 0,
            id: "c1".into(),
            name: format!("evil{esc}"),
        },
        StreamEvent::ToolCallStart {
            index: 1,
            id: "c2".into(),
            name: "fs.read".into(),
        },
        // Not JSON: the error quotes the raw text.
        StreamEvent::ToolCallArgumentsDelta {
            index: 1,
            fragment: format!("{{\"path\": \"{esc}"),
        },
        StreamEvent::ToolCallStart {
            index: 2,
            id: "c3".into(),
            name: "fs.read".into(),
        },
        // JSON, but an unknown field: the error names it.
        StreamEvent::ToolCallArgumentsDelta {
            index: 2,
            fragment: serde_json::json!({ format!("p{esc}"): "x" }).to_string(),
        },
        StreamEvent::Finish(FinishReason::ToolCalls),
    ];
    let backend = Arc::new(Scripted::new(vec![answer, text_answer("ok")]));
    let perms = Permissions::new(vec![Capability::FsRead], false, None);
    let mut session = session_with(backend, dir.path(), RequestOptions::default(), perms);
    let lines = StatusLines::default();
    let end = session
        .run_turn("go", &mut lines.clone(), &mut never_interrupt())
        .await;
    assert!(matches!(end, TurnEnd::Done), "{end:?}");
    let all = lines.0.all();
    assert_eq!(all.len(), 6, "{all:?}");
    for line in &all {
        assert!(!line.contains('\u{1b}'), "{line:?}");
    }
    assert!(all[0].starts_with("evil\\x1b[2J"), "{all:?}");
}

/// Presses Ctrl-C at every prompt.
struct PressCtrlC(Log);

impl Prompter for PressCtrlC {
    fn ask(&mut self, _cap: Capability, tool: &str, _args: &str) -> Answer {
        self.0.push(format!("ask:{tool}"));
        Answer::Cancel
    }
}

#[tokio::test]
async fn ctrl_c_at_the_prompt_cancels_the_turn_and_the_history_stays_valid() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "alpha").unwrap();
    let mut two_calls = call("c1", "a.txt");
    two_calls.splice(
        2..2,
        [
            StreamEvent::ToolCallStart {
                index: 1,
                id: "c2".into(),
                name: "fs.read".into(),
            },
            StreamEvent::ToolCallArgumentsDelta {
                index: 1,
                fragment: r#"{"path":"b.txt"}"#.into(),
            },
        ],
    );
    // A second answer that must never be asked for.
    let backend = Arc::new(Scripted::new(vec![two_calls, text_answer("never")]));
    let log = Log::default();
    let perms = Permissions::new(vec![], false, Some(Box::new(PressCtrlC(log.clone()))));
    let mut session = session_with(
        backend.clone(),
        dir.path(),
        RequestOptions::default(),
        perms,
    );
    let mut ui = log.clone();
    let end = session
        .run_turn("read both", &mut ui, &mut never_interrupt())
        .await;
    assert!(matches!(end, TurnEnd::Cancelled), "{end:?}");
    assert_eq!(
        backend.requests.lock().unwrap().len(),
        1,
        "no further round"
    );
    // Asked once: the second call is not asked about, and neither ran.
    assert_eq!(
        log.all(),
        vec!["ask:fs.read", "start:fs.read a.txt", "end:false"]
    );
    // Every call has its result, so the next turn's request is valid.
    let results: Vec<(String, String)> = session
        .history()
        .iter()
        .filter_map(|m| match m {
            Message::Tool {
                tool_call_id,
                content,
                ..
            } => Some((tool_call_id.clone(), content.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(results.len(), 2, "{results:?}");
    assert_eq!(results[0].0, "c1");
    assert_eq!(results[1].0, "c2");
    for (_, content) in &results {
        assert!(content.contains("cancelled"), "{content}");
        assert!(!content.contains("alpha"), "{content}");
    }
}

/// Records what the loop said it waits for.
#[derive(Default)]
struct Waits(Vec<String>);

impl Ui for Waits {
    fn text(&mut self, _: &str) {}
    fn flush(&mut self) {}
    fn end_answer(&mut self) {}
    fn info(&mut self, _: &str) {}
    fn tool_start(&mut self, _: &str, _: &str) {}
    fn tool_end(&mut self, _: bool, _: &str) {}
    fn waiting(&mut self, what: Waiting<'_>) {
        self.0.push(match what {
            Waiting::Model { model } => format!("model {model}"),
            Waiting::ToolCall { name, bytes } => format!("{name} {bytes}"),
        });
    }
}

#[tokio::test]
async fn the_ui_hears_what_the_loop_waits_for_without_a_call_per_token() {
    let dir = tempfile::tempdir().unwrap();
    let mut answer = vec![StreamEvent::ToolCallStart {
        index: 0,
        id: "c1".into(),
        name: "fs.write".into(),
    }];
    // 3,000 one-byte fragments, as a server streaming a token at a time.
    let args = format!(r#"{{"path":"a.txt","content":"{}"}}"#, "x".repeat(2971));
    assert_eq!(args.len(), 3000);
    answer.extend(args.chars().map(|c| StreamEvent::ToolCallArgumentsDelta {
        index: 0,
        fragment: c.to_string(),
    }));
    answer.push(StreamEvent::Finish(FinishReason::ToolCalls));
    let backend = Arc::new(Scripted::new(vec![answer, text_answer("done")]));
    let perms = Permissions::new(vec![Capability::FsWrite], false, None);
    let mut session = session_with(backend, dir.path(), RequestOptions::default(), perms);
    let mut ui = Waits::default();
    let end = session
        .run_turn("write", &mut ui, &mut never_interrupt())
        .await;
    assert!(matches!(end, TurnEnd::Done), "{end:?}");
    let w = &ui.0;
    assert_eq!(w[0], "model m");
    assert_eq!(w[1], "fs.write 0");
    assert_eq!(w[2], "fs.write 1");
    assert!(
        w.contains(&"fs.write 1024".to_string()),
        "every byte up to 1 KiB"
    );
    // Past 1 KiB, about one call per tenth of a KiB.
    assert!(w.len() < 1024 + 30, "{} calls", w.len());
    let last_tool = w.iter().rev().find(|s| s.starts_with("fs.write")).unwrap();
    let shown: usize = last_tool["fs.write ".len()..].parse().unwrap();
    assert!(shown > 3000 - 102, "{last_tool}");
    assert_eq!(w.last().unwrap(), "model m", "then the second round");
}
