use super::*;

fn spend(day: &str, micros: u64, hold: Option<&Hold>) -> Spend {
    Spend {
        ts: "2026-11-30T10:00:00Z".into(),
        day: day.into(),
        session: "s1".into(),
        provider: "OpenAI".into(),
        model: "gpt-4o".into(),
        tokens: Tokens {
            input: 10,
            output: 5,
            ..Default::default()
        },
        micros: Micros(micros),
        prices: "2026-11-30".into(),
        hold: hold.map(|h| h.id.clone()),
    }
}

const DAY: &str = "2026-11-30";

#[test]
fn holds_count_until_settled_and_caps_refuse() {
    let d = tempfile::tempdir().unwrap();
    let l = Ledger::new(d.path().join("cost"));
    assert_eq!(l.day_total(DAY).unwrap(), Micros(0));
    let HoldOutcome::Held(h) = l.hold(DAY, Micros(600), Some(Micros(1000))).unwrap() else {
        panic!("refused")
    };
    // A second request whose worst case would pass the cap with the first one's held.
    assert_eq!(
        l.hold(DAY, Micros(600), Some(Micros(1000))).unwrap(),
        HoldOutcome::Refused { today: Micros(600) }
    );
    // Settled at its real cost, the room comes back.
    assert_eq!(l.record(spend(DAY, 100, Some(&h))).unwrap(), Micros(100));
    assert!(matches!(
        l.hold(DAY, Micros(600), Some(Micros(1000))).unwrap(),
        HoldOutcome::Held(_)
    ));
    // Other days do not count; no cap never refuses.
    assert_eq!(l.day_total("2026-11-29").unwrap(), Micros(0));
    assert!(matches!(
        l.hold(DAY, Micros(u64::MAX), None).unwrap(),
        HoldOutcome::Held(_)
    ));
}

#[test]
fn a_release_settles_and_lapsed_holds_stop_counting() {
    let d = tempfile::tempdir().unwrap();
    let l = Ledger::new(d.path().to_path_buf());
    let HoldOutcome::Held(h) = l.hold(DAY, Micros(500), None).unwrap() else {
        panic!()
    };
    l.release(DAY, &h).unwrap();
    assert_eq!(l.day_total(DAY).unwrap(), Micros(0));
    let entries = vec![Entry::Hold {
        id: "x".into(),
        day: DAY.into(),
        micros: Micros(7),
        until: 100,
    }];
    assert_eq!(day_total(&entries, DAY, 99), Micros(7));
    assert_eq!(day_total(&entries, DAY, 100), Micros(0));
}

#[test]
fn a_torn_last_line_is_ignored_and_cut_before_the_next_append() {
    let d = tempfile::tempdir().unwrap();
    let l = Ledger::new(d.path().to_path_buf());
    l.record(spend(DAY, 250, None)).unwrap();
    let file = d.path().join("ledger-2026-11.jsonl");
    let mut f = OpenOptions::new().append(true).open(&file).unwrap();
    f.write_all(b"{\"kind\":\"spend\",\"ts\":\"2026-11-30T1")
        .unwrap();
    drop(f);
    assert_eq!(l.day_total(DAY).unwrap(), Micros(250));
    assert_eq!(l.record(spend(DAY, 50, None)).unwrap(), Micros(300));
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.ends_with('\n'));
    assert!(l.take_warnings().is_empty());
}

#[test]
fn a_corrupt_file_is_set_aside_keeping_its_readable_entries() {
    let d = tempfile::tempdir().unwrap();
    let l = Ledger::new(d.path().to_path_buf());
    l.record(spend(DAY, 250, None)).unwrap();
    let file = d.path().join("ledger-2026-11.jsonl");
    let mut f = OpenOptions::new().append(true).open(&file).unwrap();
    f.write_all(b"\xff\xfe garbage\n{\"kind\":\"future\",\"x\":1}\n")
        .unwrap();
    drop(f);
    l.record(spend(DAY, 50, None)).unwrap();
    assert_eq!(l.day_total(DAY).unwrap(), Micros(300));
    let w = l.take_warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("1 unreadable line") && w[0].contains("corrupt-"),
        "{w:?}"
    );
    let names: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("ledger-2026-11.jsonl.corrupt-")),
        "{names:?}"
    );
    // The set-aside file is not read as a month file.
    assert_eq!(l.spends_since("2026-11-01").unwrap().len(), 2);
}

#[test]
fn spends_since_reads_the_months_from_the_given_day() {
    let d = tempfile::tempdir().unwrap();
    let l = Ledger::new(d.path().to_path_buf());
    l.record(spend("2026-10-31", 1, None)).unwrap();
    l.record(spend("2026-11-02", 2, None)).unwrap();
    l.record(spend("2026-11-30", 3, None)).unwrap();
    let s = l.spends_since("2026-11-01").unwrap();
    assert_eq!(s.iter().map(|s| s.micros.0).collect::<Vec<_>>(), vec![2, 3]);
    assert_eq!(l.spends_since("2026-01-01").unwrap().len(), 3);
    assert!(Ledger::new(d.path().join("none"))
        .spends_since("2026-01-01")
        .unwrap()
        .is_empty());
}

#[test]
fn local_day_is_a_date() {
    let d = local_day();
    assert_eq!(d.len(), 10);
    assert_eq!(&d[4..5], "-");
}
