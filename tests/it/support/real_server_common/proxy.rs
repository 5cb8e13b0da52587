//! A transparent recording proxy for the real-server tests: goshi talks to llama-server
//! through it where a test must see the wire (tool call ids, the usage chunk, how many
//! requests were sent). Every byte streams through unchanged, as it comes.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// One request that went through the proxy, and the server's answer byte for byte.
#[derive(Clone)]
pub struct Exchange {
    method: String,
    path: String,
    request: Vec<u8>,
    /// The server's HTTP status.
    pub status: u16,
    response: Arc<Mutex<Vec<u8>>>,
}

impl Exchange {
    /// The request body goshi sent, as JSON.
    pub fn request_json(&self) -> Value {
        serde_json::from_slice(&self.request).unwrap_or_else(|e| {
            panic!(
                "goshi sent a body that is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.request)
            )
        })
    }

    /// The server's answer as text.
    pub fn response_text(&self) -> String {
        String::from_utf8_lossy(&self.response.lock().unwrap()).into_owned()
    }

    /// The JSON payloads of the response's SSE `data:` lines (`[DONE]` left out).
    pub fn sse_data(&self) -> Vec<Value> {
        self.response_text()
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim)
            .filter(|d| *d != "[DONE]" && !d.is_empty())
            .map(|d| serde_json::from_str(d).unwrap())
            .collect()
    }

    /// The server's (not streamed) answer as JSON.
    pub fn response_json(&self) -> Value {
        serde_json::from_str(&self.response_text()).unwrap()
    }
}

type Log = Arc<Mutex<Vec<Exchange>>>;

/// Forwards everything to the real server, streaming answers through as they come, and
/// records each exchange.
pub struct Proxy {
    /// Where goshi reaches the proxy (`http://127.0.0.1:PORT`).
    pub url: String,
    log: Log,
    _rt: tokio::runtime::Runtime,
}

impl Proxy {
    /// A proxy to `upstream` (a server's root URL) on a free local port.
    pub fn start(upstream: &str) -> Proxy {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let log: Log = Arc::default();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let (upstream, accept_log) = (upstream.to_string(), log.clone());
        rt.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (upstream, log, client) =
                    (upstream.clone(), accept_log.clone(), client.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        forward(req, upstream.clone(), client.clone(), log.clone())
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Proxy { url, log, _rt: rt }
    }

    /// The exchanges so far (the POSTs to `path`).
    pub fn posts(&self, path: &str) -> Vec<Exchange> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.method == "POST" && e.path == path)
            .cloned()
            .collect()
    }
}

type ProxyBody = UnsyncBoxBody<Bytes, std::io::Error>;

async fn forward(
    req: Request<Incoming>,
    upstream: String,
    client: reqwest::Client,
    log: Log,
) -> Result<Response<ProxyBody>, Infallible> {
    let method = req.method().clone();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let headers = req.headers().clone();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut rb = client.request(method.clone(), format!("{upstream}{path}"));
    for (k, v) in &headers {
        if k != HOST && k != CONTENT_LENGTH && k != CONNECTION {
            rb = rb.header(k, v);
        }
    }
    let resp = match rb.body(body.clone()).send().await {
        Ok(r) => r,
        Err(e) => {
            let mut r = Response::new(
                Full::new(Bytes::from(format!("proxy: upstream failed: {e}")))
                    .map_err(|never| match never {})
                    .boxed_unsync(),
            );
            *r.status_mut() = hyper::StatusCode::BAD_GATEWAY;
            return Ok(r);
        }
    };
    let recorded: Arc<Mutex<Vec<u8>>> = Arc::default();
    log.lock().unwrap().push(Exchange {
        method: method.to_string(),
        path: path.split('?').next().unwrap_or_default().to_string(),
        request: body.to_vec(),
        status: resp.status().as_u16(),
        response: recorded.clone(),
    });
    let mut out = Response::builder().status(resp.status());
    for (k, v) in resp.headers() {
        if k != CONTENT_LENGTH && k != TRANSFER_ENCODING && k != CONNECTION {
            out = out.header(k, v);
        }
    }
    let stream = resp.bytes_stream().map(move |chunk| {
        if let Ok(b) = &chunk {
            recorded.lock().unwrap().extend_from_slice(b);
        }
        chunk.map(Frame::data).map_err(std::io::Error::other)
    });
    Ok(out.body(StreamBody::new(stream).boxed_unsync()).unwrap())
}
