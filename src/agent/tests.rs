//! The chat loop against a scripted in-memory backend.

use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;

use super::*;
use crate::llm::{ChatRequest, EventStream, FinishReason, LlmError, StreamEvent};
use crate::permissions::{Answer, Capability, Prompter};

/// Answers each request with the next scripted event list.
struct Scripted {
    answers: Mutex<Vec<Vec<StreamEvent>>>,
    requests: Mutex<Vec<ChatRequest>>,
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
        let events = self.answers.lock().unwrap().remove(0);
        Box::pin(async move {
            let s: EventStream = Box::pin(futures_util::stream::iter(events.into_iter().map(Ok)));
            Ok(s)
        })
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
    let backend = Arc::new(Scripted {
        answers: Mutex::new(vec![
            call("c1", "a.txt"),
            vec![
                StreamEvent::TextDelta("done".into()),
                StreamEvent::Finish(FinishReason::Stop),
            ],
        ]),
        requests: Mutex::default(),
    });
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
