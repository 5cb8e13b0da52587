//! Answers as people read them: live markdown on a terminal (a pseudo-terminal here), the
//! model's text exactly as it came on pipes, `--raw`, `NO_COLOR`, `--color`, `TERM=dumb`;
//! coloured diffs and doctor levels only when colour is on.

use crate::support::cli_common;
use crate::support::pty::{final_screen, run_on_pty, PtyRun};

use cli_common::*;

/// A markdown answer in chunks that cut through its markup.
const CHUNKS: [&str; 6] = [
    "# Ti",
    "tle\n\nSome **bo",
    "ld** text and `code`.\n\n```ru",
    "st\nfn main() {}\n",
    "```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- one\n- tw",
    "o\n\nThe end.",
];

fn answer() -> String {
    CHUNKS.concat()
}

fn on_pty(chat: &Chat, args: &[&str], env: &[(&str, &str)]) -> PtyRun {
    on_pty_with(chat, &CHUNKS, args, env)
}

fn on_pty_with(chat: &Chat, chunks: &[&str], args: &[&str], env: &[(&str, &str)]) -> PtyRun {
    chat.push(chat.backend.text_reply(chunks, (5, 5)));
    let mut cmd = chat.std_chat(args);
    cmd.env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let run = run_on_pty(cmd, 80, 24);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run
}

/// The answer as the raw path writes it: control characters escaped, nothing else changed.
fn raw_screen() -> String {
    format!(
        "{}\n",
        answer()
            .replace('\u{1b}', "\\x1b")
            .replace('\u{7}', "\\x07")
    )
}

#[test]
fn a_terminal_gets_rendered_markdown() {
    let chat = Chat::new(Backend::OpenAi);
    let run = on_pty(&chat, &["Explain"], &[]);
    let s = final_screen(&run.screen, 80);
    assert!(
        s.starts_with("\u{1b}[1;4;35mTitle\u{1b}[0m\n\n"),
        "heading styled: {s:?}"
    );
    assert!(
        s.contains("Some \u{1b}[1mbold\u{1b}[0m text"),
        "bold: {s:?}"
    );
    assert!(
        !s.contains("**"),
        "markup consumed, the preview erased: {s:?}"
    );
    assert!(s.contains("\u{1b}[38;5;"), "code highlighted: {s:?}");
    assert!(
        s.contains("1 \u{1b}[2m│\u{1b}[0m 2"),
        "table laid out: {s:?}"
    );
    assert!(s.contains("\u{1b}[33m•\u{1b}[0m two"), "bullets: {s:?}");
    assert!(s.ends_with("\nThe end.\n"), "{s:?}");
}

#[test]
fn the_models_escape_sequences_never_reach_the_terminal() {
    let chat = Chat::new(Backend::OpenAi);
    let hostile = [
        "Danger: \u{1b}]52;c;QUJD\u{7} and \u{1b}[2",
        "J\n\n```\n\u{1b}]8;;x\u{1b}\\\n```\n",
    ];
    let run = on_pty_with(&chat, &hostile, &["Explain"], &[]);
    for bad in ["\u{1b}]52", "\u{7}", "\u{1b}[2J", "\u{1b}]8;;x"] {
        assert!(
            !run.screen.contains(bad),
            "{bad:?} reached the terminal: {:?}",
            run.screen
        );
    }
    assert!(
        run.screen.contains("\\x1b]52"),
        "shown escaped: {:?}",
        run.screen
    );
}

#[test]
fn a_pipe_gets_the_models_text_as_it_came_even_with_color_always() {
    for args in [vec!["Explain"], vec!["--color", "always", "Explain"]] {
        let chat = Chat::new(Backend::Ollama);
        chat.push(chat.backend.text_reply(&CHUNKS, (5, 5)));
        let mut cmd = chat.chat_cmd(&args);
        cmd.env("CLICOLOR_FORCE", "1");
        let run = chat.run(cmd);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert_eq!(run.stdout, raw_screen(), "{args:?}");
    }
}

#[test]
fn raw_no_color_color_never_and_dumb_terminals_get_plain_text() {
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)]);
    let cases: [Case; 4] = [
        (&["--raw", "Explain"], &[]),
        (&["Explain"], &[("NO_COLOR", "1")]),
        (&["--color", "never", "Explain"], &[]),
        (&["--color", "always", "Explain"], &[("TERM", "dumb")]),
    ];
    for (args, env) in cases {
        let chat = Chat::new(Backend::OpenAi);
        let run = on_pty(&chat, args, env);
        assert_eq!(run.screen, raw_screen(), "{args:?} {env:?}");
    }
}

#[test]
fn diffs_are_coloured_only_when_colour_is_on() {
    let chat = Chat::new(Backend::OpenAi);
    chat.write("notes.txt", "old\n");
    let mut cmd = chat.goshi(&["fs", "write", "notes.txt"]);
    cmd.write_stdin("new\n").env_remove("NO_COLOR");
    let run = chat.run(cmd);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("-old\n+new"), "{}", run.stdout);
    assert!(
        !run.stdout.contains('\u{1b}'),
        "a pipe stays plain: {:?}",
        run.stdout
    );
    let mut cmd = chat.goshi(&["--color", "always", "fs", "write", "notes.txt"]);
    cmd.write_stdin("newer\n").env("NO_COLOR", "1");
    let run = chat.run(cmd);
    assert!(
        run.stdout.contains("\u{1b}[31m-old\u{1b}[0m"),
        "{:?}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\u{1b}[32m+newer\u{1b}[0m"),
        "{:?}",
        run.stdout
    );
}

#[test]
fn errors_are_coloured_only_when_asked_on_a_pipe() {
    let chat = Chat::new(Backend::OpenAi);
    let run = chat.run(chat.goshi(&["fs", "read", "missing.txt"]));
    assert!(run.stderr.contains("goshi: error: "), "{}", run.stderr);
    let mut cmd = chat.goshi(&["--color", "always", "config", "show"]);
    cmd.env("GOSHI_MODEL", "");
    chat.config("llm: [not a map");
    let run = chat.run(cmd);
    assert!(
        run.stderr.contains("goshi: \u{1b}[1;31merror:\u{1b}[0m "),
        "{:?}",
        run.stderr
    );
}
