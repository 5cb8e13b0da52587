//! End-to-end `goshi chat` (one-shot) against the fake server, for both backends:
//! streaming, the token and provider lines, stdin prompts, `--no-stream`, errors, retries,
//! the length warning; plus `config show`, `version` and the global `--model` flag.

use crate::support;
use crate::support::cli_common;

use cli_common::*;
use goshi::selfmodel::DEFAULT_SELF_MODEL;
use serde_json::json;
use support::*;

#[test]
fn one_shot_streams_the_answer_and_prints_the_token_and_provider_lines() {
    for b in BOTH {
        let chat = Chat::new(b);
        chat.push(b.text_reply(&["Hel", "lo, wor", "ld! ✓"], (11, 7)));
        let run = chat.chat(&["Say", "hello"]);
        assert_eq!(run.code, Some(0), "{b:?}: {}", run.stderr);
        assert_eq!(run.stdout, "Hello, world! ✓\n", "{b:?}");
        assert!(
            run.has_err_line(&chat.using_line()),
            "{b:?}: {}",
            run.stderr
        );
        assert!(
            run.has_err_line(&chat.token_line((11, 7))),
            "{b:?}: {}",
            run.stderr
        );
        let reqs = chat.requests();
        assert_eq!(reqs.len(), 1, "{b:?}");
        let body = &reqs[0];
        assert_eq!(body["model"], MODEL, "{b:?}");
        assert_eq!(body["stream"], true, "{b:?}");
        let msgs = messages(body);
        assert_eq!(msgs.len(), 2, "{b:?}");
        assert_eq!(
            msgs[0],
            json!({"role": "system", "content": DEFAULT_SELF_MODEL}),
            "{b:?}: the self-model is the first system message"
        );
        assert_eq!(
            msgs[1],
            json!({"role": "user", "content": "Say hello"}),
            "{b:?}"
        );
        let tools: Vec<&str> = body["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["function"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(tools, ["fs_list", "fs_read", "fs_write"], "{b:?}");
        let recorded = &chat.server.requests_to(b.chat_path())[0];
        match b {
            Backend::OpenAi => {
                assert_eq!(
                    recorded.header("authorization").as_deref(),
                    Some("Bearer sk-test-SECRET123")
                );
                assert_eq!(body["stream_options"], json!({"include_usage": true}));
            }
            Backend::Ollama => {
                assert_eq!(recorded.header("authorization"), None);
                let show = chat.server.requests_to("/api/show");
                assert_eq!(show.len(), 1);
                assert_eq!(show[0].json(), json!({"model": MODEL}));
            }
        }
    }
}

#[test]
fn the_prompt_can_come_from_stdin() {
    for b in BOTH {
        let chat = Chat::new(b);
        chat.push(b.text_reply(&["Four."], (5, 2)));
        let mut cmd = chat.chat_cmd(&[]);
        cmd.write_stdin("What is 2+2?\n");
        let run = chat.run(cmd);
        assert_eq!(run.code, Some(0), "{b:?}: {}", run.stderr);
        assert_eq!(run.stdout, "Four.\n", "{b:?}");
        let msgs = messages(&chat.requests()[0]);
        assert_eq!(msgs[1]["role"], "user", "{b:?}");
        assert_eq!(
            msgs[1]["content"].as_str().unwrap().trim_end(),
            "What is 2+2?",
            "{b:?}"
        );
    }
}

#[test]
fn empty_stdin_is_a_usage_error_and_nothing_is_sent() {
    let chat = Chat::new(Backend::OpenAi);
    let mut cmd = chat.chat_cmd(&[]);
    cmd.write_stdin("  \n");
    let run = chat.run(cmd);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.has_err_line("goshi: error: no prompt: stdin was empty"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
    assert!(chat.server.requests().is_empty());
}

#[test]
fn no_stream_asks_for_the_whole_answer_and_prints_it() {
    for b in BOTH {
        let chat = Chat::new(b);
        chat.push(b.whole_reply("The whole answer.", (9, 3)));
        let run = chat.chat(&["--no-stream", "hi"]);
        assert_eq!(run.code, Some(0), "{b:?}: {}", run.stderr);
        assert_eq!(run.stdout, "The whole answer.\n", "{b:?}");
        assert!(
            run.has_err_line(&chat.token_line((9, 3))),
            "{b:?}: {}",
            run.stderr
        );
        let body = &chat.requests()[0];
        match b {
            Backend::OpenAi => {
                assert_eq!(body.get("stream"), None);
                assert_eq!(body.get("stream_options"), None);
            }
            Backend::Ollama => assert_eq!(body["stream"], false),
        }
    }
}

#[test]
fn a_rejected_key_names_openai_api_key_and_is_not_retried() {
    let chat = Chat::new(Backend::OpenAi);
    chat.push(Reply::json(
        401,
        json!({"error": {"message": "Incorrect API key provided: sk-test-***123.",
            "type": "invalid_request_error", "code": "invalid_api_key"}}),
    ));
    let run = chat.chat(&["hi"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("HTTP 401"), "{}", run.stderr);
    assert!(run.stderr.contains("OPENAI_API_KEY"), "{}", run.stderr);
    assert!(!run.stderr.contains(KEY), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(chat.requests().len(), 1);
}

#[test]
fn a_missing_key_for_openai_itself_gives_guidance_and_sends_nothing() {
    let mut chat = Chat::new(Backend::OpenAi);
    chat.with_key = false;
    chat.user_config("llm:\n  openai:\n    server: openai\n");
    let run = chat.chat(&["hi"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.has_err_line("goshi: error: OPENAI_API_KEY is not set, so goshi cannot talk to OpenAI"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("export OPENAI_API_KEY=sk-..."),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
    assert!(
        chat.server.requests().is_empty(),
        "no request without a key"
    );
}

#[test]
fn a_mid_stream_disconnect_keeps_the_partial_text_and_fails() {
    for b in BOTH {
        let chat = Chat::new(b);
        chat.push(
            b.unfinished_text_reply(&["Partial ", "answer"])
                .disconnect(),
        );
        let run = chat.chat(&["hi"]);
        assert_eq!(run.code, Some(1), "{b:?}: {}", run.stderr);
        assert_eq!(run.stdout, "Partial answer\n", "{b:?}");
        assert!(
            run.stderr.contains("stream interrupted"),
            "{b:?}: {}",
            run.stderr
        );
        assert_eq!(
            chat.requests().len(),
            1,
            "{b:?}: a started answer is not re-sent"
        );
    }
}

#[test]
fn a_server_error_is_retried_and_the_answer_arrives() {
    for b in BOTH {
        let chat = Chat::new(b);
        chat.push(
            Reply::json(500, json!({"error": {"message": "boom"}})).header("Retry-After", "0"),
        );
        chat.push(b.text_reply(&["recovered"], (4, 1)));
        let run = chat.chat(&["hi"]);
        assert_eq!(run.code, Some(0), "{b:?}: {}", run.stderr);
        assert_eq!(run.stdout, "recovered\n", "{b:?}");
        assert!(
            run.has_err_line("goshi: HTTP 500; retrying in 0.0s (attempt 1 of 3)"),
            "{b:?}: {}",
            run.stderr
        );
        let reqs = chat.requests();
        assert_eq!(reqs.len(), 2, "{b:?}");
        assert_eq!(reqs[0], reqs[1], "{b:?}: the retry sends the same request");
    }
}

#[test]
fn an_answer_cut_at_the_token_limit_warns_naming_llm_max_tokens() {
    for b in BOTH {
        let chat = Chat::new(b);
        chat.config("llm:\n  max_tokens: 50\n");
        chat.push(b.text_reply_with(&["This answer is cu"], "length", (8, 50)));
        let run = chat.chat(&["hi"]);
        assert_eq!(run.code, Some(0), "{b:?}: {}", run.stderr);
        assert_eq!(run.stdout, "This answer is cu\n", "{b:?}");
        assert!(
            run.has_err_line(
                "warning: the answer was cut at llm.max_tokens (50 tokens); raise llm.max_tokens in goshi.yaml for longer answers"
            ),
            "{b:?}: {}",
            run.stderr
        );
        let body = &chat.requests()[0];
        match b {
            Backend::OpenAi => assert_eq!(body["max_tokens"], 50),
            Backend::Ollama => assert_eq!(body["options"]["num_predict"], 50),
        }
    }
}

#[test]
fn config_show_never_prints_the_key() {
    let chat = Chat::new(Backend::OpenAi);
    let run = chat.run(chat.goshi(&["config", "show"]));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(!run.stdout.contains(KEY), "{}", run.stdout);
    assert!(!run.stderr.contains(KEY), "{}", run.stderr);
    assert!(!run.stdout.contains("SECRET"), "{}", run.stdout);
    assert!(
        run.stdout
            .lines()
            .any(|l| l == "# openai api key: sk-… (set from OPENAI_API_KEY, 17 characters)"),
        "{}",
        run.stdout
    );
}

#[test]
fn version_prints_the_crate_version() {
    let chat = Chat::new(Backend::OpenAi);
    let run = chat.run(chat.goshi(&["version"]));
    assert_eq!(run.code, Some(0));
    assert_eq!(run.stdout, format!("goshi {}\n", env!("CARGO_PKG_VERSION")));
    assert_eq!(run.stderr, "");
}

#[test]
fn model_flag_works_before_and_after_the_subcommand() {
    let chat = Chat::new(Backend::OpenAi);
    chat.set_default(Backend::OpenAi.text_reply(&["ok"], (1, 1)));
    let base = chat.base_url();
    let before = chat.run(chat.goshi(&[
        "--model",
        "model-before",
        "chat",
        "--provider",
        "openai",
        "--base-url",
        &base,
        "hi",
    ]));
    assert_eq!(before.code, Some(0), "{}", before.stderr);
    let after = chat.run(chat.goshi(&[
        "chat",
        "--provider",
        "openai",
        "--base-url",
        &base,
        "hi",
        "--model",
        "model-after",
    ]));
    assert_eq!(after.code, Some(0), "{}", after.stderr);
    let models: Vec<String> = chat
        .requests()
        .iter()
        .map(|r| r["model"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(models, ["model-before", "model-after"]);
    assert!(
        after.has_err_line(&format!(
            "goshi: using OpenAI at {base} with model model-after (llm.provider: openai)"
        )),
        "{}",
        after.stderr
    );
    assert!(
        after.has_err_line("OpenAI tokens: prompt=1, completion=1, total=2 (model: model-after)")
    );
    let show = chat.run(chat.goshi(&["config", "show", "--model", "shown-model"]));
    assert_eq!(show.code, Some(0), "{}", show.stderr);
    assert!(
        show.stdout.lines().any(|l| l == "  model: shown-model"),
        "{}",
        show.stdout
    );
}

#[test]
fn an_unreachable_local_server_is_one_line_with_a_hint() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for b in BOTH {
        let chat = Chat::new(b);
        let base = match b {
            Backend::OpenAi => format!("http://127.0.0.1:{port}/v1"),
            Backend::Ollama => format!("http://127.0.0.1:{port}"),
        };
        let args = [
            "chat",
            "--provider",
            b.flag(),
            "--base-url",
            &base,
            "--model",
            MODEL,
            "hi",
        ];
        let run = chat.run(chat.goshi(&args));
        assert_eq!(run.code, Some(1), "{b:?}: {}", run.stderr);
        let url = match b {
            Backend::OpenAi => format!("{base}/chat/completions"),
            Backend::Ollama => format!("{base}/api/chat"),
        };
        let hint = match b {
            Backend::OpenAi => {
                "is the server running? check OPENAI_BASE_URL, llm.openai.base_url or --base-url"
            }
            Backend::Ollama => {
                "is Ollama running? start it with `ollama serve`, or set OLLAMA_HOST / llm.local.url"
            }
        };
        // What was tried, the cause in words, what to do: one line, no retry notices.
        let want = format!(
            "goshi: error: could not connect to {url}: connection refused (nothing is \
             listening at 127.0.0.1:{port}); {hint}"
        );
        assert_eq!(
            run.err_lines()[1..],
            [want.as_str()],
            "{b:?}: {}",
            run.stderr
        );
        assert_eq!(run.stdout, "", "{b:?}");
        // With -v, the full error chain and the one quick retry are shown.
        let mut verbose = args.to_vec();
        verbose.insert(0, "-vv");
        let run = chat.run(chat.goshi(&verbose));
        assert_eq!(run.code, Some(1), "{b:?}: {}", run.stderr);
        assert!(run.has_err_line(&want), "{b:?}: {}", run.stderr);
        assert_eq!(
            run.stderr.matches("one quick retry").count(),
            1,
            "{b:?}: {}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains(&format!("request to {url} failed: error sending request")),
            "{b:?}: {}",
            run.stderr
        );
    }
}

/// Waits for `child` to exit; kills it and fails if it does not within the hang guard.
#[cfg(unix)]
fn wait_guarded(child: &mut std::process::Child) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > HANG_GUARD {
            let _ = child.kill();
            panic!("goshi did not exit after Ctrl-C");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_answer_keeps_the_partial_text_and_exits_130() {
    use std::io::Read;
    use std::process::Stdio;
    use std::sync::mpsc;

    for b in BOTH {
        let chat = Chat::new(b);
        chat.push(b.unfinished_text_reply(&["Partial answer"]).stall());
        let mut child = chat
            .std_chat(&["hi"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        // Interrupt only once the partial answer is on the screen.
        let mut seen = Vec::new();
        while !contains_bytes(&seen, b"Partial answer") {
            match rx.recv_timeout(HANG_GUARD) {
                Ok(bytes) => seen.extend(bytes),
                Err(e) => {
                    let _ = child.kill();
                    panic!("{b:?}: no partial answer ({e}); got {seen:?}");
                }
            }
        }
        let killed = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = wait_guarded(&mut child);
        reader.join().unwrap();
        seen.extend(rx.try_iter().flatten());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_eq!(status.code(), Some(130), "{b:?}: {stderr}");
        assert_eq!(
            String::from_utf8(seen).unwrap(),
            "Partial answer\n",
            "{b:?}"
        );
        assert!(
            stderr.lines().any(|l| l == "goshi: interrupted"),
            "{b:?}: {stderr}"
        );
        assert_eq!(chat.requests().len(), 1, "{b:?}");
    }
}

#[test]
fn an_empty_answer_is_reported_not_silent() {
    for b in BOTH {
        let chat = Chat::new(b);
        chat.push(b.text_reply(&[], (6, 0)));
        let run = chat.chat(&["hi"]);
        assert_eq!(run.code, Some(0), "{b:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{b:?}");
        assert!(
            run.has_err_line("warning: the model's answer was empty"),
            "{b:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn an_ollama_model_without_tools_is_used_without_them() {
    let chat = Chat::new(Backend::Ollama);
    chat.server.set_default(
        "POST",
        "/api/show",
        Reply::json(200, json!({"capabilities": ["completion"]})),
    );
    chat.push(Backend::Ollama.text_reply(&["plain answer"], (2, 2)));
    let run = chat.chat(&["hi"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, "plain answer\n");
    assert!(
        run.stderr.contains(&format!(
            "goshi: model {MODEL} cannot call tools; continuing without them"
        )),
        "{}",
        run.stderr
    );
    assert_eq!(chat.requests()[0].get("tools"), None);
}

#[test]
fn an_unknown_allow_value_is_a_usage_error() {
    let chat = Chat::new(Backend::OpenAi);
    let run = chat.chat(&["--allow", "shell", "hi"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.has_err_line("goshi: error: --allow \"shell\" names no capability"),
        "{}",
        run.stderr
    );
    assert!(chat.server.requests().is_empty());
}
