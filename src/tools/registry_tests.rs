use super::*;
use std::fs;

fn ctx() -> (tempfile::TempDir, ToolContext) {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("README.md"), "hello\n").unwrap();
    let ctx = ToolContext::new(d.path());
    (d, ctx)
}

fn invalid(r: Result<ToolOutput, ToolError>) -> String {
    match r {
        Err(e @ ToolError::InvalidArguments { .. }) => e.to_string(),
        other => panic!("expected invalid arguments, got {other:?}"),
    }
}

#[test]
fn definitions_have_names_descriptions_and_plain_object_schemas() {
    let reg = Registry::builtin();
    let defs = reg.definitions();
    let names: Vec<_> = defs.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["fs.list", "fs.read", "fs.write"]);
    for d in &defs {
        assert!(!d.description.is_empty());
        let obj = d.parameters.as_object().unwrap();
        assert_eq!(obj["type"], "object", "{}", d.name);
        assert_eq!(obj["additionalProperties"], false, "{}", d.name);
        assert!(obj["properties"].is_object());
        assert!(obj["required"].is_array());
        for key in ["$schema", "title", "$defs", "definitions"] {
            assert!(!obj.contains_key(key), "{} has {key}", d.name);
        }
        let text = d.parameters.to_string();
        assert!(!text.contains("$ref"), "{text}");
        // Every property is described (from the field doc comments) and typed.
        for (field, prop) in obj["properties"].as_object().unwrap() {
            assert_eq!(prop["type"], "string", "{}.{field}", d.name);
            assert!(prop["description"].as_str().is_some(), "{}.{field}", d.name);
        }
    }
}

#[test]
fn schemas_match_the_argument_structs() {
    let reg = Registry::builtin();
    let defs = reg.definitions();
    let required = |i: usize| {
        let mut r: Vec<String> = defs[i].parameters["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        r.sort();
        r
    };
    assert_eq!(required(0), ["path"]);
    assert_eq!(required(1), ["path"]);
    assert_eq!(required(2), ["content", "path"]);
    let props = defs[2].parameters["properties"].as_object().unwrap();
    assert_eq!(props.len(), 2);
}

#[test]
fn capabilities() {
    let reg = Registry::builtin();
    assert_eq!(reg.capability_of("fs.list"), Some(Capability::FsRead));
    assert_eq!(reg.capability_of("fs.read"), Some(Capability::FsRead));
    assert_eq!(reg.capability_of("fs.write"), Some(Capability::FsWrite));
    assert_eq!(reg.capability_of("shell.run"), None);
}

#[test]
fn unknown_tool_names_the_known_ones() {
    let (_d, ctx) = ctx();
    let reg = Registry::builtin();
    let e = reg.run("fs.delete", "{}", &ctx).unwrap_err();
    let m = e.to_string();
    assert!(matches!(e, ToolError::UnknownTool { .. }));
    assert!(m.contains("\"fs.delete\""), "{m}");
    assert!(m.contains("fs.list, fs.read, fs.write"), "{m}");
    assert!(reg.validate("nope", "{}").is_err());
}

#[test]
fn missing_field_is_named() {
    let (_d, ctx) = ctx();
    let reg = Registry::builtin();
    let m = invalid(reg.run("fs.read", "{}", &ctx));
    assert_eq!(m, "invalid arguments for fs.read: missing field \"path\"");
    // An empty argument string is an empty object.
    let m = invalid(reg.run("fs.read", "  ", &ctx));
    assert_eq!(m, "invalid arguments for fs.read: missing field \"path\"");
    let m = invalid(reg.run("fs.write", r#"{"path":"a"}"#, &ctx));
    assert!(m.contains("missing field \"content\""), "{m}");
}

#[test]
fn wrong_type_names_the_field() {
    let (_d, ctx) = ctx();
    let reg = Registry::builtin();
    let m = invalid(reg.run("fs.read", r#"{"path": 3}"#, &ctx));
    assert!(
        m.starts_with("invalid arguments for fs.read: field \"path\":"),
        "{m}"
    );
    assert!(m.contains("expected a string"), "{m}");
    let m = invalid(reg.run("fs.write", r#"{"path":"a","content":null}"#, &ctx));
    assert!(m.contains("field \"content\""), "{m}");
}

#[test]
fn unknown_field_is_named() {
    let (_d, ctx) = ctx();
    let reg = Registry::builtin();
    let m = invalid(reg.run("fs.list", r#"{"path":".","recursive":true}"#, &ctx));
    assert!(m.contains("unknown field \"recursive\""), "{m}");
    assert!(m.contains("\"path\""), "{m}");
}

#[test]
fn not_json_or_not_an_object_is_explained() {
    let (_d, ctx) = ctx();
    let reg = Registry::builtin();
    let m = invalid(reg.run("fs.read", "{path: README.md}", &ctx));
    assert!(m.contains("not valid JSON"), "{m}");
    let m = invalid(reg.run("fs.read", r#"["README.md"]"#, &ctx));
    assert!(m.contains("must be a JSON object, not an array"), "{m}");
    let m = invalid(reg.run("fs.read", "\"README.md\"", &ctx));
    assert!(m.contains("not a string"), "{m}");
    let m = invalid(reg.run("fs.read", "null", &ctx));
    assert!(m.contains("not null"), "{m}");
    assert!(reg.validate("fs.read", "[]").is_err());
    assert!(reg.validate("fs.read", r#"{"path":"x"}"#).is_ok());
}

#[test]
fn invalid_arguments_run_nothing() {
    let (d, ctx) = ctx();
    let reg = Registry::builtin();
    let r = reg.run(
        "fs.write",
        r#"{"path":"new.txt","content":"x","extra":1}"#,
        &ctx,
    );
    assert!(r.is_err());
    assert!(!d.path().join(".goshi").exists());
}

#[test]
fn runs_tools_with_summaries() {
    let (d, ctx) = ctx();
    let reg = Registry::builtin();
    let out = reg.run("fs.read", r#"{"path":"README.md"}"#, &ctx).unwrap();
    assert_eq!(out.content, "hello\n");
    assert_eq!(out.summary, "README.md (6 B)");
    assert_eq!(out.proposal, None);

    let out = reg.run("fs.list", r#"{"path":"."}"#, &ctx).unwrap();
    assert!(out.content.contains("README.md"), "{}", out.content);
    assert_eq!(out.summary, ". (1 entry)");

    let out = reg
        .run(
            "fs.write",
            r#"{"path":"README.md","content":"bye\n"}"#,
            &ctx,
        )
        .unwrap();
    let note = out.proposal.clone().unwrap();
    let id = note.id.clone();
    assert_eq!(id.len(), 64);
    assert!(id.starts_with(&note.short_id), "{note:?}");
    assert_eq!(note.path, "README.md");
    assert_eq!((note.added, note.removed), (1, 1), "{note:?}");
    assert!(out
        .content
        .contains(&format!("goshi fs apply {id} --yes --dry-run=false")));
    assert!(out.content.contains("-hello\n+bye\n"), "{}", out.content);
    assert!(out.content.contains("NOT been changed"));
    assert!(out.summary.starts_with("proposal "), "{}", out.summary);
    // The file itself is untouched.
    assert_eq!(
        fs::read_to_string(d.path().join("README.md")).unwrap(),
        "hello\n"
    );
}

#[test]
fn summarize_args_is_short_and_safe() {
    let (d, ctx) = ctx();
    let reg = Registry::builtin();
    let sum = |name: &str, args: &str| reg.summarize_args(name, args, &ctx);
    assert_eq!(sum("fs.read", r#"{"path":"src/lib.rs"}"#), "src/lib.rs");
    assert_eq!(
        sum("fs.write", r#"{"path":"a.txt","content":"hello"}"#),
        "a.txt (5 bytes)"
    );
    // Invalid arguments still show the path when there is one.
    assert_eq!(sum("fs.read", r#"{"path":"x","bad":1}"#), "x");
    assert_eq!(sum("fs.read", "nonsense"), "(invalid arguments)");
    assert_eq!(sum("other", r#"{"path":"y"}"#), "y");
    let s = sum("fs.read", r#"{"path":"a\u001b[2J\nb"}"#);
    assert_eq!(s, "a\\x1b[2J\\nb");
    // A long path keeps its end: the name is what matters.
    let long = format!(r#"{{"path":"{}/end.txt"}}"#, "d/".repeat(200));
    let s = sum("fs.read", &long);
    assert!(s.starts_with('…') && s.ends_with("d/end.txt"), "{s}");
    assert!(s.chars().count() <= 121, "{s}");
    let _ = d;
}

#[test]
fn summaries_show_the_path_as_it_resolves_in_the_repository() {
    let (d, ctx) = ctx();
    fs::create_dir_all(d.path().join("src")).unwrap();
    let reg = Registry::builtin();
    let sum = |args: &str| reg.summarize_args("fs.read", args, &ctx);
    let sneaky = format!(r#"{{"path":"src/{}../.env"}}"#, "./".repeat(100));
    assert_eq!(sum(&sneaky), ".env");
    assert_eq!(sum(r#"{"path":"src/../README.md"}"#), "README.md");
    assert_eq!(sum(r#"{"path":"a\u202eb"}"#), "a\\u{202e}b");
    assert_eq!(sum(r#"{"path":"../../etc/passwd"}"#), "../../etc/passwd");
}

#[test]
fn parsed_arguments_give_the_same_summaries_and_results() {
    let (_d, ctx) = ctx();
    let reg = Registry::builtin();
    let v = serde_json::json!({"path": "README.md"});
    assert_eq!(reg.summarize_value("fs.read", Some(&v), &ctx), "README.md");
    assert_eq!(
        reg.summarize_value("fs.read", None, &ctx),
        "(invalid arguments)"
    );
    let by_text = reg.run("fs.read", r#"{"path":"README.md"}"#, &ctx).unwrap();
    let by_value = reg.run_value("fs.read", v, &ctx).unwrap();
    assert_eq!(by_text.content, by_value.content);
    let e = reg
        .run_value("fs.read", serde_json::json!({"path": 3}), &ctx)
        .unwrap_err();
    assert!(e.to_string().contains("field \"path\""), "{e}");
}

#[test]
fn tool_errors_pass_through() {
    let (_d, ctx) = ctx();
    let reg = Registry::builtin();
    let e = reg
        .run("fs.read", r#"{"path":"../../etc/passwd"}"#, &ctx)
        .unwrap_err();
    assert!(matches!(e, ToolError::PathRefused { .. }), "{e}");
}
