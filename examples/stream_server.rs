//! A tiny loopback HTTP/1.1 server streaming the benchmark fixture (a 10,000-chunk OpenAI
//! Chat Completions SSE stream, see `benches/fixture/mod.rs`) for the end-to-end benchmark
//! (`bench/e2e.sh`).
//!
//! `POST` or `GET /v1/chat/completions` answers `200 text/event-stream` with the fixture in
//! HTTP/1.1 chunked encoding, a burst of events per write, as fast as the client reads
//! (TCP back-pressure paces it). Connections are kept alive. It listens on 127.0.0.1 only,
//! prints its port on stdout once it listens, and serves until killed.
//!
//! ```text
//! cargo run --release --example stream_server -- [--port N] [--chunks N] [--events-per-write N]
//!     [--write-answer FILE] [--markdown]
//! ```
//! `--write-answer` writes the answer text a client must show, for checking it. `--markdown`
//! streams the render bench's markdown answer (`benches/fixture/markdown.rs`, 10,000 chunks)
//! instead of the fixture's random tokens, in the same chunk shape (`--chunks` is then unused).
//! The port also comes from `STREAM_SERVER_PORT` (default 0: any free port).

use std::error::Error;
use std::io::Write as _;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[path = "../benches/fixture/mod.rs"]
mod fixture;

/// The path served.
const PATH: &str = "/v1/chat/completions";

/// The largest request head accepted.
const MAX_HEAD: usize = 64 * 1024;

/// The largest request body accepted (it is read and ignored).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// Command-line settings.
struct Settings {
    port: u16,
    chunks: usize,
    events_per_write: usize,
    write_answer: Option<String>,
    markdown: bool,
}

fn parse_args() -> Result<Settings, Box<dyn Error>> {
    let mut settings = Settings {
        port: match std::env::var("STREAM_SERVER_PORT") {
            Ok(p) => p.parse()?,
            Err(_) => 0,
        },
        chunks: fixture::DEFAULT_CHUNKS,
        // About 9.6 KB per write: what a busy upstream flushes when the client keeps up.
        events_per_write: 32,
        write_answer: None,
        markdown: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--port" => settings.port = value()?.parse()?,
            "--chunks" => settings.chunks = value()?.parse()?,
            "--events-per-write" => settings.events_per_write = value()?.parse::<usize>()?.max(1),
            "--write-answer" => settings.write_answer = Some(value()?),
            "--markdown" => settings.markdown = true,
            "-h" | "--help" => {
                println!(
                    "usage: stream_server [--port N] [--chunks N] [--events-per-write N] \
                     [--write-answer FILE] [--markdown]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(settings)
}

/// The response, framed once: the head, then one HTTP chunk per burst, then the last chunk.
fn framed_response(fx: &fixture::Fixture, events_per_write: usize) -> Vec<Vec<u8>> {
    let mut writes = vec![b"HTTP/1.1 200 OK\r\n\
        content-type: text/event-stream; charset=utf-8\r\n\
        cache-control: no-cache\r\n\
        transfer-encoding: chunked\r\n\
        openai-processing-ms: 42\r\n\
        x-request-id: req_bench\r\n\
        \r\n"
        .to_vec()];
    for burst in fx.events.chunks(events_per_write) {
        let (start, end) = (burst[0].start, burst[burst.len() - 1].end);
        let mut w = Vec::with_capacity(end - start + 16);
        // Writing to a Vec cannot fail.
        let _ = write!(w, "{:x}\r\n", end - start);
        w.extend_from_slice(&fx.bytes[start..end]);
        w.extend_from_slice(b"\r\n");
        writes.push(w);
    }
    if let Some(last) = writes.last_mut() {
        last.extend_from_slice(b"0\r\n\r\n");
    }
    writes
}

/// Answers a non-streaming status with a short body.
async fn simple(conn: &mut TcpStream, status: &str) -> std::io::Result<()> {
    let body = format!("{{\"error\":{{\"message\":\"{status}\"}}}}");
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await?;
    conn.write_all(body.as_bytes()).await
}

/// Serves requests on one connection until the client closes it.
async fn serve(mut conn: TcpStream, response: Arc<Vec<Vec<u8>>>) -> std::io::Result<()> {
    conn.set_nodelay(true)?;
    let mut buf = Vec::with_capacity(8192);
    loop {
        // Read the request head.
        let head_end = loop {
            if let Some(i) = memchr::memmem::find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            if buf.len() > MAX_HEAD {
                return simple(&mut conn, "431 Request Header Fields Too Large").await;
            }
            let mut chunk = [0u8; 8192];
            let n = conn.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut request_line = lines.next().unwrap_or_default().split(' ');
        let method = request_line.next().unwrap_or_default().to_string();
        let target = request_line.next().unwrap_or_default();
        let path = target.split('?').next().unwrap_or_default().to_string();
        let mut body_len = 0usize;
        for line in lines {
            if let Some((name, value)) = line.split_once(':') {
                if name.trim().eq_ignore_ascii_case("content-length") {
                    body_len = value.trim().parse().unwrap_or(0);
                }
            }
        }
        if body_len > MAX_BODY {
            return simple(&mut conn, "413 Payload Too Large").await;
        }
        // Skip the body.
        buf.drain(..head_end);
        while buf.len() < body_len {
            let mut chunk = [0u8; 8192];
            let n = conn.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        buf.drain(..body_len);
        match (method.as_str(), path == PATH) {
            ("POST" | "GET", true) => {
                for w in response.iter() {
                    conn.write_all(w).await?;
                }
            }
            (_, true) => simple(&mut conn, "405 Method Not Allowed").await?,
            _ => simple(&mut conn, "404 Not Found").await?,
        }
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let settings = parse_args()?;
    let fx = if settings.markdown {
        fixture::openai_chat_stream_of(&fixture::markdown::answer_chunks())
    } else {
        fixture::openai_chat_stream(settings.chunks)
    };
    if let Some(path) = &settings.write_answer {
        std::fs::write(path, &fx.text)?;
    }
    let response = Arc::new(framed_response(&fx, settings.events_per_write));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", settings.port)).await?;
        let port = listener.local_addr()?.port();
        let mut stdout = std::io::stdout();
        writeln!(stdout, "{port}")?;
        stdout.flush()?;
        eprintln!(
            "stream_server: http://127.0.0.1:{port}{PATH}: {} chunks, {} bytes",
            fx.chunks,
            fx.bytes.len()
        );
        loop {
            let (conn, _) = listener.accept().await?;
            let response = Arc::clone(&response);
            tokio::spawn(async move {
                if let Err(e) = serve(conn, response).await {
                    eprintln!("stream_server: connection: {e}");
                }
            });
        }
    })
}
