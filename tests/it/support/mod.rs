//! Test helpers, shared by every module of the integration-test binary. This file is the
//! scriptable fake HTTP server for goshi's HTTP and CLI tests (no test touches the network);
//! the submodules hold the helpers built on it.
//!
//! Use it with `use crate::support::*;`. The server listens on 127.0.0.1 with a random
//! port, on its own thread and tokio runtime, so it works from plain `#[test]` functions
//! (e.g. running the goshi binary with assert_cmd) and from `#[tokio::test]` alike.

pub mod cli_common;
pub mod contract;
pub mod hermetic;
pub mod openai_common;
pub mod openapi;
pub mod provider_common;
pub mod pty;
pub mod real_server_common;
mod reply;

pub use reply::Reply;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::sync::{oneshot, Notify};

use reply::ScriptBody;

/// Status used when a request arrives that no test scripted (distinctive on purpose).
pub const UNSCRIPTED_STATUS: u16 = 599;

/// One request as the fake server received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Method, uppercase (`"POST"`).
    pub method: String,
    /// Path without the query (`"/v1/chat/completions"`).
    pub path: String,
    /// Query string without the `?`, if any.
    pub query: Option<String>,
    /// Headers in arrival order, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The full request body.
    pub body: Vec<u8>,
}

impl Recorded {
    /// The body parsed as JSON; panics with the body text if it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "request body of {} {} is not JSON ({e}): {}",
                self.method,
                self.path,
                self.body_text()
            )
        })
    }

    /// The first value of the header `name` (any case).
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }

    /// The body as text (lossy UTF-8).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Replies keyed by (METHOD, path).
type Route = (String, String);

#[derive(Default)]
struct State {
    queued: HashMap<Route, VecDeque<Reply>>,
    defaults: HashMap<Route, Reply>,
    requests: Vec<Recorded>,
    connections: usize,
}

type Shared = Arc<Mutex<State>>;

/// Locks the state even if a test thread panicked while holding it.
fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn route(method: &str, path: &str) -> Route {
    assert!(
        !path.contains('?'),
        "fake server routes match the path only; drop the query from {path:?}"
    );
    (method.to_ascii_uppercase(), path.to_string())
}

/// A fake HTTP/1.1 server on 127.0.0.1; dropping it stops the server and closes all
/// connections (stalled ones included).
pub struct FakeServer {
    addr: SocketAddr,
    shared: Shared,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeServer {
    /// Starts on 127.0.0.1:0 on its own thread with its own tokio runtime; it accepts
    /// connections as soon as this returns.
    pub fn start() -> FakeServer {
        // Bind here, not on the server thread, so the port is known and listening at once.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("set_nonblocking");
        let addr = listener.local_addr().expect("local_addr");
        let shared = Shared::default();
        let (shutdown_tx, shutdown_rx) = oneshot::channel();
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("fake-server-{}", addr.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("fake server runtime");
                runtime.block_on(serve(listener, thread_shared, shutdown_rx));
                // Dropping the runtime here cancels every connection task, closing their sockets.
            })
            .expect("spawn fake server thread");
        FakeServer {
            addr,
            shared,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        }
    }

    /// The base URL, `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues a reply for METHOD PATH; queued replies are used in order, once each.
    /// `path` must not contain a query: routes match the path only.
    pub fn push(&self, method: &str, path: &str, reply: Reply) {
        lock(&self.shared)
            .queued
            .entry(route(method, path))
            .or_default()
            .push_back(reply);
    }

    /// A reply used for METHOD PATH whenever its queue is empty (repeats forever).
    pub fn set_default(&self, method: &str, path: &str, reply: Reply) {
        lock(&self.shared)
            .defaults
            .insert(route(method, path), reply);
    }

    /// How many queued replies for METHOD PATH are still unused.
    pub fn queued(&self, method: &str, path: &str) -> usize {
        lock(&self.shared)
            .queued
            .get(&route(method, path))
            .map_or(0, VecDeque::len)
    }

    /// All requests received so far, in order of arrival (recorded once the body is read,
    /// before the reply starts, so stalled and disconnected replies are recorded too).
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared).requests.clone()
    }

    /// How many TCP connections were accepted so far.
    pub fn connections(&self) -> usize {
        lock(&self.shared).connections
    }

    /// The requests for one path (any method, query ignored), in order.
    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        lock(&self.shared)
            .requests
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            // Don't double-panic while a failing test unwinds.
            if thread.join().is_err() && !std::thread::panicking() {
                panic!("fake server thread panicked");
            }
        }
    }
}

/// Accepts connections until shutdown; each connection is served on its own task.
async fn serve(
    listener: std::net::TcpListener,
    shared: Shared,
    mut shutdown: oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                lock(&shared).connections += 1;
                // Small chunks must go out at once, not wait for Nagle's algorithm.
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                tokio::spawn(async move {
                    // Notified when a `close_after` reply has been sent.
                    let close = Arc::new(Notify::new());
                    let on_end = close.clone();
                    let service = service_fn(move |req| handle(req, shared.clone(), on_end.clone()));
                    let conn = http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), service);
                    tokio::pin!(conn);
                    // Errors here are expected: scripted disconnects, clients hanging up.
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = close.notified() => {
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.await;
                        }
                    }
                });
            }
        }
    }
}

/// Records one request and answers it with the scripted reply for its route.
async fn handle(
    req: Request<Incoming>,
    shared: Shared,
    close: Arc<Notify>,
) -> Result<Response<ScriptBody>, reply::BodyError> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => Vec::new(),
    };
    let recorded = Recorded {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_string(), value)
            })
            .collect(),
        body,
    };
    let key = (recorded.method.clone(), recorded.path.clone());
    let reply = {
        let mut state = lock(&shared);
        state.requests.push(recorded);
        let queued = state.queued.get_mut(&key).and_then(VecDeque::pop_front);
        queued.or_else(|| state.defaults.get(&key).cloned())
    };
    let reply = reply.unwrap_or_else(|| {
        let message = format!("fake server: nothing scripted for {} {}", key.0, key.1);
        Reply::json(
            UNSCRIPTED_STATUS,
            serde_json::json!({ "error": { "message": message } }),
        )
    });
    if reply.hang {
        // Never answer; the task is dropped when the server shuts down.
        std::future::pending::<()>().await;
    }
    if reply.close_before_status {
        // A service error makes hyper close the connection without writing a response.
        return Err("fake server: scripted close before the status line".into());
    }
    if let Some(delay) = reply.head_delay {
        tokio::time::sleep(delay).await;
    }
    let on_end = reply.close_after.then_some(close);
    Ok(build_response(&reply, on_end))
}

fn build_response(reply: &Reply, on_end: Option<Arc<Notify>>) -> Response<ScriptBody> {
    // Status and headers were validated by the `Reply` builder.
    let mut response = Response::new(reply.body(on_end));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or_default();
    let headers = response.headers_mut();
    for (name, value) in &reply.headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(value),
        ) {
            headers.append(name, value);
        }
    }
    response
}
