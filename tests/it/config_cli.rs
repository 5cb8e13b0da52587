//! Configuration mistakes are caught at start, naming the key, before anything is sent.

use crate::support::hermetic;

use hermetic::Sandbox;

#[test]
fn an_unknown_tool_in_tool_choice_is_refused_at_start() {
    let sb = Sandbox::new();
    sb.config("llm:\n  provider: openai\n  tool_choice: fs.delete\n  openai:\n    base_url: http://127.0.0.1:9/v1\n");
    let out = sb.goshi(&["chat", "hi"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("llm.tool_choice"), "{err}");
    assert!(err.contains("fs.read"), "{err}");
    assert!(!err.contains("using OpenAI"), "nothing may start: {err}");
}

#[test]
fn an_invalid_value_names_the_key_and_the_range() {
    let sb = Sandbox::new();
    sb.config("llm:\n  temperature: 7\n");
    let out = sb.goshi(&["config", "show"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("llm.temperature"), "{err}");
    assert!(err.contains("between 0 and 2"), "{err}");
}

#[test]
fn flags_beat_the_environment_which_beats_the_file() {
    let sb = Sandbox::new();
    sb.config("llm:\n  model: from-file\n");
    let shown =
        |cmd: &mut assert_cmd::Command| String::from_utf8(cmd.output().unwrap().stdout).unwrap();
    assert!(shown(&mut sb.goshi(&["config", "show"])).contains("model: from-file"));
    assert!(
        shown(sb.goshi(&["config", "show"]).env("GOSHI_MODEL", "from-env"))
            .contains("model: from-env")
    );
    assert!(shown(
        sb.goshi(&["config", "show", "--model", "from-flag"])
            .env("GOSHI_MODEL", "from-env")
    )
    .contains("model: from-flag"));
}

#[test]
fn a_repository_goshi_yaml_cannot_grant_permissions() {
    let sb = Sandbox::new();
    sb.config("safety:\n  auto_confirm_permissions: true\n");
    let out = sb.goshi(&["config", "show"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("auto_confirm_permissions: false"),
        "{stdout}"
    );
    assert!(
        stderr.contains("ignoring safety.auto_confirm_permissions from ./goshi.yaml")
            && stderr.contains("grant permissions"),
        "{stderr}"
    );
    // The same file named explicitly is the user's own choice.
    let out = sb
        .goshi(&["config", "show", "--config", "goshi.yaml"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("auto_confirm_permissions: true"));
}

#[test]
fn a_repository_goshi_yaml_cannot_point_the_tools_outside_it() {
    let sb = Sandbox::new();
    sb.config("behavior:\n  repo_root: /\n");
    let out = sb.goshi(&["config", "show"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("behavior.repo_root"), "{stderr}");
    std::fs::create_dir(sb.path().join("sub")).unwrap();
    sb.config("behavior:\n  repo_root: sub\n");
    sb.goshi(&["config", "show"]).assert().success();
}

#[test]
fn a_password_in_a_base_url_is_never_shown() {
    let sb = Sandbox::new();
    let out = sb
        .goshi(&["config", "show"])
        .env(
            "OPENAI_BASE_URL",
            "https://me:hunter2@proxy.example.test/v1",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("hunter2"), "{stdout}");
    assert!(stdout.contains("me:***@proxy.example.test"), "{stdout}");
}
