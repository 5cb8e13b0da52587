use super::*;
use crate::llm::ToolCall;

fn meta(repo: &str) -> Meta {
    Meta {
        kind: "meta".into(),
        repo: PathBuf::from(repo),
        name: None,
        created: now_rfc3339(),
        provider: "OpenAI".into(),
        model: "m1".into(),
    }
}

#[test]
fn a_conversation_is_saved_as_it_happens_and_read_back() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::at(d.path().join("c"));
    let mut rec = store.create(None, meta("/repo")).unwrap();
    // Nothing is written before the first message.
    assert!(store.list().unwrap().is_empty());
    rec.record(&Message::system("self"), "m1").unwrap();
    rec.record(&Message::user("hello there"), "m1").unwrap();
    let call = ToolCall {
        id: "c1".into(),
        name: "fs.read".into(),
        arguments: "{\"path\":\"a\"}".into(),
    };
    rec.record(
        &Message::Assistant {
            content: String::new(),
            tool_calls: vec![call],
            opaque: Vec::new(),
        },
        "m2",
    )
    .unwrap();
    let c = store.load(rec.id()).unwrap();
    assert_eq!(c.messages.len(), 2, "the system message is not saved");
    assert_eq!(c.messages[0], Message::user("hello there"));
    assert_eq!(c.last_model, "m2");
    let list = store.list().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].title, "hello there");
    assert_eq!(
        store.latest_for(Path::new("/repo")).unwrap().unwrap().id,
        rec.id()
    );
    assert!(store.latest_for(Path::new("/other")).unwrap().is_none());
}

#[test]
fn a_torn_last_line_is_skipped_and_appending_goes_on() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::at(d.path().to_path_buf());
    let mut rec = store.create(Some("named"), meta("/r")).unwrap();
    rec.record(&Message::user("one"), "m").unwrap();
    let path = d.path().join("named.jsonl");
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(b"{\"kind\":\"message\",\"mod").unwrap();
    let c = store.load("named").unwrap();
    assert_eq!((c.messages.len(), c.skipped), (1, 1));
    assert_eq!(c.meta.name.as_deref(), Some("named"));
}

#[test]
fn names_are_checked_and_never_leave_the_store() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::at(d.path().to_path_buf());
    for bad in ["", "../x", "a/b", ".hidden", "x y", &"n".repeat(65)] {
        assert!(!valid_name(bad), "{bad:?}");
        assert!(matches!(
            store.create(Some(bad), meta("/r")),
            Err(SessionError::BadName(_))
        ));
        assert!(matches!(store.load(bad), Err(SessionError::NotFound(_))));
        assert!(matches!(store.remove(bad), Err(SessionError::NotFound(_))));
    }
    let mut a = store.create(Some("a"), meta("/r")).unwrap();
    a.record(&Message::user("x"), "m").unwrap();
    assert!(matches!(
        store.create(Some("a"), meta("/r")),
        Err(SessionError::Exists(_))
    ));
}

#[test]
fn a_conversation_can_be_renamed_before_and_after_its_first_message() {
    let d = tempfile::tempdir().unwrap();
    let store = Store::at(d.path().to_path_buf());
    let mut early = store.create(None, meta("/r")).unwrap();
    early.rename(&store, "early").unwrap();
    early.record(&Message::user("x"), "m").unwrap();
    assert_eq!(
        store.load("early").unwrap().meta.name.as_deref(),
        Some("early")
    );
    let mut late = store.create(None, meta("/r")).unwrap();
    late.record(&Message::user("y"), "m").unwrap();
    let old = late.id().to_string();
    late.rename(&store, "late").unwrap();
    late.record(&Message::user("z"), "m").unwrap();
    let renamed = store.load("late").unwrap();
    assert_eq!(renamed.messages.len(), 2);
    assert_eq!(
        renamed.meta.name.as_deref(),
        Some("late"),
        "the stored name too"
    );
    assert!(matches!(store.load(&old), Err(SessionError::NotFound(_))));
    store.remove("late").unwrap();
    assert!(matches!(
        store.remove("late"),
        Err(SessionError::NotFound(_))
    ));
}

#[test]
fn a_file_that_is_not_a_conversation_is_named_corrupt_and_left_out_of_the_list() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("junk.jsonl"), "not json\n").unwrap();
    let store = Store::at(d.path().to_path_buf());
    assert!(matches!(store.load("junk"), Err(SessionError::Corrupt(_))));
    assert!(store.list().unwrap().is_empty());
}
