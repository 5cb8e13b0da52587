//! Shell integration as a user meets it: `goshi completions SHELL` (scripts a shell accepts;
//! Tab answers from goshi itself, models from the configured provider), `goshi man`, and
//! `--help` listing a command's own options before the global flags.

use crate::support::hermetic::{run, Run, Sandbox};
use crate::support::provider_common::fake_openai;

/// What goshi answers when a shell asks it to complete `words`, the last one being typed.
fn complete(dir: &Sandbox, words: &[&str], env: &[(&str, &str)]) -> Vec<String> {
    let mut cmd = dir.goshi(&["--"]);
    cmd.arg("goshi").args(words);
    cmd.env("GOSHI_COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", words.len().to_string())
        .envs(env.iter().copied());
    let r = run(cmd);
    assert_eq!(r.code, Some(0), "{r:?}");
    r.stdout.lines().map(str::to_owned).collect()
}

#[test]
fn completions_print_a_script_for_each_shell_and_refuse_an_unknown_one() {
    let dir = Sandbox::new();
    for (shell, marker) in [
        ("bash", "complete -o nospace"),
        ("zsh", "compdef"),
        ("fish", "complete --keep-order --exclusive --command goshi"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let r = run(dir.goshi(&["completions", shell]));
        assert_eq!(r.code, Some(0), "{shell}: {r:?}");
        assert!(r.stdout.contains("GOSHI_COMPLETE"), "{shell}: {}", r.stdout);
        assert!(r.stdout.contains(marker), "{shell}: {}", r.stdout);
    }
    let r = run(dir.goshi(&["completions", "tcsh"]));
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("\"tcsh\""), "{}", r.stderr);
    assert!(r.stderr.contains("bash"), "{}", r.stderr);
}

#[test]
fn bash_accepts_the_completion_script() {
    let dir = Sandbox::new();
    let script = run(dir.goshi(&["completions", "bash"]));
    assert_eq!(script.code, Some(0), "{script:?}");
    dir.write("goshi.bash", &script.stdout);
    let out = std::process::Command::new("bash")
        .args([
            "--noprofile",
            "--norc",
            "-c",
            "source ./goshi.bash && complete -p goshi",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("_clap_complete_goshi"), "{stdout}");
}

#[test]
fn tab_completes_subcommands_flags_and_fixed_values() {
    let dir = Sandbox::new();
    let subs = complete(&dir, &["co"], &[]);
    assert!(subs.contains(&"config".to_owned()), "{subs:?}");
    assert!(subs.contains(&"completions".to_owned()), "{subs:?}");
    assert!(!subs.contains(&"chat".to_owned()), "{subs:?}");
    let flags = complete(&dir, &["chat", "--no-st"], &[]);
    assert_eq!(flags, vec!["--no-stream"]);
    assert_eq!(
        complete(&dir, &["chat", "--provider", "o"], &[]),
        vec!["ollama", "openai"]
    );
    assert_eq!(complete(&dir, &["--api", "r"], &[]), vec!["responses"]);
}

#[test]
fn tab_completes_model_names_from_the_configured_provider() {
    let server = fake_openai(&["tiny-a", "tiny-b", "other"]);
    let dir = Sandbox::new();
    let base = format!("{}/v1", server.url());
    let env = [
        ("GOSHI_LLM_PROVIDER", "openai"),
        ("OPENAI_BASE_URL", base.as_str()),
    ];
    assert_eq!(
        complete(&dir, &["chat", "--model", "tiny"], &env),
        vec!["tiny-a", "tiny-b"]
    );
    assert!(server
        .requests()
        .iter()
        .any(|r| r.method == "GET" && r.path == "/v1/models"));
}

#[test]
fn model_completion_offers_nothing_when_no_provider_answers() {
    let dir = Sandbox::new();
    // No Ollama, no key, nothing configured: goshi models fails, Tab offers nothing.
    assert!(complete(&dir, &["chat", "--model", ""], &[]).is_empty());
}

#[test]
fn man_prints_a_manual_page_naming_the_subcommands() {
    let dir = Sandbox::new();
    let r = run(dir.goshi(&["man"]));
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains(".TH goshi 1"), "{}", r.stdout);
    assert!(r.stdout.contains(".SH NAME"), "{}", r.stdout);
    for sub in ["chat", "doctor", "completions"] {
        assert!(r.stdout.contains(sub), "{sub}: {}", r.stdout);
    }
}

/// The position of `needle` in `help`, which must contain it.
fn at(help: &Run, needle: &str) -> usize {
    help.stdout
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in: {}", help.stdout))
}

#[test]
fn each_help_lists_its_own_options_before_the_global_ones() {
    let dir = Sandbox::new();
    for (cmd, own) in [
        ("chat", "--no-stream"),
        ("models", "--format"),
        ("audit", "--since"),
    ] {
        let help = run(dir.goshi(&[cmd, "--help"]));
        assert_eq!(help.code, Some(0), "{help:?}");
        let heading = at(&help, "\nGlobal options:\n");
        assert!(at(&help, own) < heading, "{cmd}: {}", help.stdout);
        for global in [
            "--config <FILE>",
            "--provider <P>",
            "--model <M>",
            "--base-url <URL>",
        ] {
            assert!(
                at(&help, global) > heading,
                "{cmd}: {global}: {}",
                help.stdout
            );
        }
    }
}
