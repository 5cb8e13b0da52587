//! Retries and timeouts as a user configures them in goshi.yaml (durations as seconds or
//! strings), each timeout naming the key that fired, against the fake server.

use serde_json::json;

use crate::support::cli_common::*;
use crate::support::Reply;

fn chunk(text: &str) -> String {
    format!(
        "data: {}\n\n",
        json!({"id": "c", "object": "chat.completion.chunk", "model": MODEL,
               "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
    )
}

fn server_error() -> Reply {
    Reply::json(
        503,
        json!({"error": {"message": "overloaded", "type": "server_error"}}),
    )
}

fn error_line(run: &Run) -> String {
    run.err_lines()
        .into_iter()
        .find(|l| l.starts_with("goshi: error: "))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn total_timeout_bounds_the_whole_answer_and_names_its_key() {
    let chat = Chat::new(Backend::OpenAi);
    chat.config("llm:\n  total_timeout: 0.5\n  request_timeout: 30s\n");
    // Every read arrives well within the idle timeout, but the whole takes seconds.
    let mut reply = Reply::new(200)
        .header("content-type", "text/event-stream")
        .chunk(chunk("partial "));
    for _ in 0..10 {
        reply = reply.delay_ms(400).chunk(chunk("more "));
    }
    chat.push(reply);
    let run = chat.chat(&["hi"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stdout.starts_with("partial "), "{run}");
    assert_eq!(
        error_line(&run),
        "goshi: error: the answer took longer than 0.5s (llm.total_timeout) and was abandoned"
    );
}

#[test]
fn request_timeout_accepts_a_duration_string_and_names_its_key() {
    let chat = Chat::new(Backend::OpenAi);
    chat.config("llm:\n  request_timeout: 500ms\n");
    chat.push(
        Reply::new(200)
            .header("content-type", "text/event-stream")
            .chunk(chunk("partial"))
            .stall(),
    );
    let run = chat.chat(&["hi"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        error_line(&run).contains("sent nothing for 0.5s (llm.request_timeout)"),
        "{run}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn connect_timeout_names_its_key() {
    // A listener whose accept queue is full and never drained: Linux drops further
    // connection attempts, so connecting hangs until goshi's connect timeout.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (listener, addr) = rt.block_on(async {
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let l = sock.listen(0).unwrap();
        let addr = l.local_addr().unwrap();
        (l, addr)
    });
    let mut queued = Vec::new();
    for _ in 0..8 {
        match std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(300)) {
            Ok(s) => queued.push(s),
            Err(_) => break,
        }
    }
    let chat = Chat::new(Backend::OpenAi);
    chat.config("llm:\n  connect_timeout: 0.3\n  request_timeout: 30\n  retry: {max_retries: 0}\n");
    let base = format!("http://{addr}/v1");
    let run = chat.run(chat.goshi(&[
        "chat",
        "--provider",
        "openai",
        "--base-url",
        &base,
        "--model",
        MODEL,
        "hi",
    ]));
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        error_line(&run).starts_with(&format!(
            "goshi: error: could not connect to {base}/chat/completions within 0.3s (llm.connect_timeout)"
        )),
        "{run}"
    );
    drop((listener, queued));
}

#[test]
fn a_retry_after_longer_than_max_delay_fails_at_once_saying_when_to_come_back() {
    let chat = Chat::new(Backend::OpenAi);
    chat.config("llm:\n  retry: {max_retries: 3, max_delay: 5s}\n");
    chat.set_default(
        Reply::json(
            429,
            json!({"error": {"message": "slow down", "type": "requests", "code": "rate_limit_exceeded"}}),
        )
        .header("retry-after", "120"),
    );
    let run = chat.chat(&["hi"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(chat.requests().len(), 1, "no retry: {run}");
    let line = error_line(&run);
    assert!(
        line.starts_with(
            "goshi: error: rate limited (HTTP 429); the server asks to wait 120s before trying again (until "
        ),
        "{run}"
    );
    assert!(
        run.stderr.contains(
            "hint: try again after that; goshi itself waits at most llm.retry.max_delay (5s)"
        ),
        "{run}"
    );
    assert!(!run.stderr.contains("retrying in"), "{run}");
}

#[test]
fn max_retries_under_retry_and_its_old_alias() {
    for (yaml, sent) in [
        ("llm:\n  max_retries: 1\n", 2),
        (
            "llm:\n  retry: {max_retries: 2, initial_delay: 0, max_delay: 0}\n",
            3,
        ),
    ] {
        let chat = Chat::new(Backend::OpenAi);
        chat.config(yaml);
        chat.set_default(server_error().header("retry-after", "0"));
        let run = chat.chat(&["hi"]);
        assert_eq!(run.code, Some(1), "{yaml}: {run}");
        assert_eq!(chat.requests().len(), sent, "{yaml}: {run}");
    }
    let chat = Chat::new(Backend::OpenAi);
    chat.config("llm:\n  max_retries: 1\n  retry: {max_retries: 2}\n");
    let run = chat.chat(&["hi"]);
    assert_eq!(run.code, Some(2), "{run}");
    assert!(run.stderr.contains("llm.max_retries"), "{run}");
}

#[test]
fn max_elapsed_ends_the_retries_of_one_request() {
    let chat = Chat::new(Backend::OpenAi);
    chat.config("llm:\n  retry: {max_retries: 5, max_elapsed: 0.05}\n");
    // Each failure takes longer than the whole budget.
    chat.set_default(server_error().delay_headers_ms(100));
    let run = chat.chat(&["hi"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(chat.requests().len(), 1, "{run}");
    assert!(error_line(&run).contains("llm.retry.max_elapsed"), "{run}");
}

#[test]
fn a_bad_duration_is_a_configuration_error_naming_the_key() {
    let chat = Chat::new(Backend::OpenAi);
    chat.config("llm:\n  connect_timeout: lots\n");
    let run = chat.chat(&["hi"]);
    assert_eq!(run.code, Some(2), "{run}");
    assert!(
        run.stderr
            .contains("llm.connect_timeout: \"lots\" is not a duration"),
        "{run}"
    );
    assert!(chat.requests().is_empty());
}
