//! Relaying one model answer: its text to the [`Ui`] as it streams, its reasoning apart, a
//! tool call being streamed as a status, a tick for the status line's clock while nothing
//! comes, and Ctrl-C at any moment. What came is collected into the answer.

use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use tokio::time::MissedTickBehavior;

use super::limits::{AnswerBudget, Limits};
use super::turn::RoundEnd;
use super::{Interrupt, Ui, Waiting};
use crate::llm::{Accumulator, AssistantTurn, EventStream, StreamEvent};

/// How often [`Ui::tick`] is called while the loop waits on the network.
const TICK: Duration = Duration::from_millis(100);

/// A ticker for [`Ui::tick`]; a late tick is skipped, never made up in a burst.
pub(super) fn ticker() -> tokio::time::Interval {
    let mut t = tokio::time::interval(TICK);
    t.set_missed_tick_behavior(MissedTickBehavior::Skip);
    t
}

/// Shows the stream's text as it comes and collects the answer. Returns the answer so far
/// and, when it did not end normally, why (`Cancelled` or `Failed`).
pub(super) async fn relay(
    stream: &mut EventStream,
    ui: &mut dyn Ui,
    interrupt: &mut Interrupt,
    limits: Limits,
) -> (AssistantTurn, Option<RoundEnd>) {
    let mut acc = Accumulator::new();
    let mut budget = AnswerBudget::new(limits);
    let mut preparing = Preparing::default();
    let mut stop_flag = interrupt();
    let mut ticks = ticker();
    let stopped = 'outer: loop {
        let mut item = tokio::select! {
            biased;
            _ = &mut stop_flag => break 'outer Some(RoundEnd::Cancelled),
            item = stream.next() => item,
            _ = ticks.tick() => {
                ui.tick();
                continue;
            }
        };
        // Drain every event this network read produced, then write once.
        loop {
            match item {
                None => break 'outer None,
                Some(Err(e)) => break 'outer Some(RoundEnd::Failed(e)),
                Some(Ok(event)) => {
                    if let Err(hit) = budget.charge(&event) {
                        ui.flush();
                        break 'outer Some(RoundEnd::Limit(hit));
                    }
                    match &event {
                        StreamEvent::TextDelta(t) => ui.text(t),
                        StreamEvent::ReasoningDelta(t) => ui.thinking(t),
                        _ => preparing.see(&event, ui),
                    }
                    acc.push(&event);
                }
            }
            match stream.next().now_or_never() {
                Some(next) => item = next,
                None => break,
            }
        }
        ui.flush();
    };
    (acc.finish(), stopped)
}

/// The tool call being streamed, for [`Waiting::ToolCall`].
#[derive(Default)]
struct Preparing {
    index: Option<usize>,
    name: String,
    bytes: usize,
}

impl Preparing {
    /// Tells `ui` about a tool call's start or more of its arguments.
    fn see(&mut self, event: &StreamEvent, ui: &mut dyn Ui) {
        match event {
            StreamEvent::ToolCallStart { index, name, .. } => {
                self.index = Some(*index);
                self.name.clone_from(name);
                self.bytes = 0;
            }
            StreamEvent::ToolCallArgumentsDelta { index, fragment } => {
                if self.index != Some(*index) {
                    return;
                }
                let before = self.bytes;
                self.bytes = self.bytes.saturating_add(fragment.len());
                // Arguments come a token at a time: the status shows whole bytes up to 1 KiB
                // and tenths of a KiB past it, so it is told only when that can change.
                if before >= 1024 && before / 102 == self.bytes / 102 {
                    return;
                }
            }
            _ => return,
        }
        ui.waiting(Waiting::ToolCall {
            name: &self.name,
            bytes: self.bytes,
        });
    }
}
