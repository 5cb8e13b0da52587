//! A line renderer on a thread of its own, with a deadline per line: what code highlighting
//! runs on (see `highlight` for why). The thread makes its renderer (for a key: the language),
//! then the UI side, [`Worker`], sends it lines one at a time and waits for each line's
//! rendering, at most its deadline. A worker that misses a deadline is given up (the caller
//! shows text plain) and counted as *late* until its thread ends, so that callers can refuse
//! to start another while one may be looping.
//!
//! One worker serves one block. Workers kept for block after block were measured slower than
//! a thread per block (2026-12-01, the render bench's answer on this 2-core machine: 150 to
//! 170 ms against 120 to 135 ms): a new thread is placed on an idle core, while a sleeping one
//! is woken on the core of the thread that wakes it, and each line then costs two switches.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::Duration;

/// A line and what it renders to: the two buffers that go to the worker and back, so no line
/// allocates once they have grown.
#[derive(Default)]
struct Job {
    line: String,
    out: String,
}

/// What the worker answers.
enum Reply {
    /// The block's renderer is made (`true`), or there is none for its key.
    Ready(bool),
    Line(Job),
}

/// What became of a line given to [`Worker::line`].
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Rendered onto the output.
    Rendered,
    /// Nothing written: the key has no renderer.
    Plain,
    /// Nothing written: the worker missed a deadline or ended. Give it up.
    Failed,
}

/// The UI's side of a worker thread (see the module docs).
pub(super) struct Worker {
    requests: SyncSender<Job>,
    replies: Receiver<Reply>,
    /// The buffers, while no line is on the worker.
    spare: Option<Job>,
    /// `Ready` is not received yet.
    awaiting_ready: bool,
    /// The key has a renderer.
    renders: bool,
    /// How long the worker may take to make its renderer, and then each line.
    startup: Duration,
    deadline: Duration,
    /// [`RUNNING`], [`LATE_MARK`] or [`ENDED`]: whether the UI counted the worker as late and
    /// whether its thread ended, decided once by whichever comes first.
    state: Arc<AtomicU8>,
    late: &'static AtomicUsize,
}

const RUNNING: u8 = 0;
const LATE_MARK: u8 = 1;
const ENDED: u8 = 2;

impl Worker {
    /// Starts a worker thread that makes its renderer with `make` (on the thread: what it
    /// makes need not be `Send`) while the caller waits for the first line, then renders lines
    /// with it. `None` if no thread can be started. `late` counts the workers given up while
    /// still running.
    pub fn start<M, F>(
        make: M,
        startup: Duration,
        deadline: Duration,
        late: &'static AtomicUsize,
    ) -> Option<Worker>
    where
        M: FnOnce() -> Option<F> + Send + 'static,
        F: FnMut(&str, &mut String),
    {
        let (requests, inbox) = mpsc::sync_channel::<Job>(1);
        let (outbox, replies) = mpsc::sync_channel::<Reply>(1);
        let state = Arc::new(AtomicU8::new(RUNNING));
        let uncount = Uncount {
            state: state.clone(),
            late,
        };
        std::thread::Builder::new()
            .name("goshi-highlight".into())
            .spawn(move || {
                // Dropped however the thread ends.
                let _uncount = uncount;
                let render = make();
                let renders = render.is_some();
                if outbox.send(Reply::Ready(renders)).is_err() {
                    return;
                }
                let Some(mut render) = render else {
                    return;
                };
                for mut job in inbox {
                    job.out.clear();
                    render(&job.line, &mut job.out);
                    if outbox.send(Reply::Line(job)).is_err() {
                        return;
                    }
                }
            })
            .ok()?;
        Some(Worker {
            requests,
            replies,
            spare: Some(Job::default()),
            awaiting_ready: true,
            renders: false,
            startup,
            deadline,
            state,
            late,
        })
    }

    /// Has the worker render `body` (a line without its newline) onto `out`.
    pub fn line(&mut self, body: &str, out: &mut String) -> Outcome {
        if !self.awaiting_ready && !self.renders {
            return Outcome::Plain;
        }
        let mut job = self.spare.take().unwrap_or_default();
        job.line.clear();
        job.line.push_str(body);
        // The first line is sent before `Ready` is read: it waits in the channel while the
        // renderer is made, which spares a round trip per block.
        let sent = self.requests.send(job).is_ok();
        if self.awaiting_ready {
            let ready = self.ready();
            if ready != Outcome::Rendered {
                return ready;
            }
        }
        if !sent {
            return Outcome::Failed;
        }
        match self.replies.recv_timeout(self.deadline) {
            Ok(Reply::Line(job)) => {
                out.push_str(&job.out);
                self.spare = Some(job);
                Outcome::Rendered
            }
            Ok(Reply::Ready(_)) => Outcome::Failed,
            Err(e) => self.failed(e),
        }
    }

    /// Receives `Ready`: `Rendered` if there is a renderer, else `Plain` or `Failed`.
    fn ready(&mut self) -> Outcome {
        self.awaiting_ready = false;
        match self.replies.recv_timeout(self.startup) {
            Ok(Reply::Ready(renders)) => {
                self.renders = renders;
                if renders {
                    Outcome::Rendered
                } else {
                    Outcome::Plain
                }
            }
            Ok(Reply::Line(_)) => Outcome::Failed,
            Err(e) => self.failed(e),
        }
    }

    /// Counts a worker that did not answer in time as late.
    fn failed(&self, e: RecvTimeoutError) -> Outcome {
        let marked = e == RecvTimeoutError::Timeout
            && self
                .state
                .compare_exchange(RUNNING, LATE_MARK, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok();
        if marked {
            // The thread may end (and uncount) before this: the count wraps and comes back.
            self.late.fetch_add(1, Ordering::SeqCst);
        }
        Outcome::Failed
    }
}

/// Marks the worker ended when its thread ends, uncounting it if it was counted late.
struct Uncount {
    state: Arc<AtomicU8>,
    late: &'static AtomicUsize,
}

impl Drop for Uncount {
    fn drop(&mut self) {
        if self.state.swap(ENDED, Ordering::SeqCst) == LATE_MARK {
            self.late.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(30);

    /// A worker whose lines render as `<line>`, and that waits on the returned sender at a
    /// line `hang` (until the sender is dropped: what a looping syntax would do).
    pub(in super::super) fn hanging(
        deadline: Duration,
        late: &'static AtomicUsize,
    ) -> (Worker, mpsc::Sender<()>) {
        let (release, wait) = mpsc::channel::<()>();
        let make = move || {
            Some(move |line: &str, out: &mut String| {
                if line == "hang" {
                    let _ = wait.recv();
                }
                out.push_str(&format!("<{line}>"));
            })
        };
        let worker = Worker::start(make, LONG, deadline, late);
        (worker.expect("a thread"), release)
    }

    #[test]
    fn lines_are_rendered_by_the_worker_and_a_key_without_a_renderer_leaves_them_plain() {
        static LATE: AtomicUsize = AtomicUsize::new(0);
        let (mut w, _release) = hanging(LONG, &LATE);
        let mut out = String::new();
        assert_eq!(w.line("a", &mut out), Outcome::Rendered);
        assert_eq!(w.line("b", &mut out), Outcome::Rendered);
        assert_eq!(out, "<a><b>");
        let none = || None::<fn(&str, &mut String)>;
        let mut w = Worker::start(none, LONG, LONG, &LATE).expect("a thread");
        assert_eq!(w.line("c", &mut out), Outcome::Plain);
        assert_eq!(w.line("d", &mut out), Outcome::Plain);
        assert_eq!(out, "<a><b>");
        assert_eq!(LATE.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_line_past_its_deadline_fails_and_the_worker_counts_as_late_until_it_ends() {
        static LATE: AtomicUsize = AtomicUsize::new(0);
        let (mut w, release) = hanging(Duration::from_secs(2), &LATE);
        let mut out = String::new();
        assert_eq!(w.line("a", &mut out), Outcome::Rendered);
        assert_eq!(w.line("hang", &mut out), Outcome::Failed);
        assert_eq!(out, "<a>");
        assert_eq!(LATE.load(Ordering::SeqCst), 1);
        drop(w);
        drop(release);
        let start = std::time::Instant::now();
        while LATE.load(Ordering::SeqCst) > 0 && start.elapsed() < LONG {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            LATE.load(Ordering::SeqCst),
            0,
            "uncounted when its thread ended"
        );
    }

    #[test]
    fn a_worker_not_ready_in_time_fails_and_counts_as_late() {
        static LATE: AtomicUsize = AtomicUsize::new(0);
        let (release, wait) = mpsc::channel::<()>();
        let make = move || {
            let _ = wait.recv();
            Some(|_: &str, out: &mut String| out.push_str("never"))
        };
        let mut w = Worker::start(make, Duration::from_millis(50), LONG, &LATE).expect("a thread");
        let mut out = String::new();
        assert_eq!(w.line("x", &mut out), Outcome::Failed);
        assert_eq!(out, "");
        assert_eq!(LATE.load(Ordering::SeqCst), 1);
        drop(release);
    }
}
