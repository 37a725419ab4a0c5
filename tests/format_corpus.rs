//! Threads the watercooler tools wrote, built by hand from their reading rules: every
//! one can always be appended to, and after the append the tools read exactly one
//! more entry, the right one.

mod support;

use support::{author, change, corpus, our_keys, tools_keys, ENTRY_ID, NOW};
use watercooler_worker::thread::{self, apply, Applied, Operation};

fn ops() -> Vec<(&'static str, Operation)> {
    vec![
        (
            "say",
            Operation::Say {
                title: "Appended".into(),
                body: "Appended by the service.".into(),
                role: "implementer".into(),
                entry_type: "Note".into(),
            },
        ),
        (
            "ack",
            Operation::Ack {
                title: None,
                body: None,
            },
        ),
        (
            "handoff",
            Operation::Handoff {
                target: Some("Claude (mira)".into()),
                note: None,
            },
        ),
        (
            "set_status",
            Operation::SetStatus {
                status: "BLOCKED".into(),
            },
        ),
    ]
}

#[test]
fn every_tools_written_thread_can_be_appended_to() {
    let who = author("Codex");
    for (name, before) in corpus() {
        let tools_before = tools_keys(&before);
        let agreed = thread::read(&before).warnings.is_empty();
        for (kind, op) in ops() {
            let c = change("corpus", &who, &op);
            let after = match apply(&c, Some(&before)) {
                Ok(Applied::Content { content, .. }) => content,
                other => panic!("{name}: {kind} was not applied: {other:?}"),
            };
            let tools_after = tools_keys(&after);
            if !op.appends_entry() {
                assert_eq!(
                    tools_after, tools_before,
                    "{name}: {kind} changed the entries"
                );
                assert_eq!(thread::parse(&after).header.status(), Some("BLOCKED"));
                continue;
            }
            assert_eq!(
                tools_after.len(),
                tools_before.len() + 1,
                "{name}: {kind}: the tools must read exactly one more entry\n{after}"
            );
            assert_eq!(
                &tools_after[..tools_before.len()],
                &tools_before[..],
                "{name}: {kind}"
            );
            let new = tools_after.last().unwrap();
            assert_eq!(new.0, "Codex (mira)", "{name}: {kind}");
            assert_eq!(new.1, NOW);
            assert_eq!(new.5.as_deref(), Some(ENTRY_ID));
            // Served: the tools' reading, ending in the new entry.
            let served = thread::read(&after);
            let last = served.thread.entries.last().unwrap();
            assert_eq!(last.entry_id.as_deref(), Some(ENTRY_ID), "{name}: {kind}");
            assert_eq!(
                served.thread.entries.len(),
                tools_after.len(),
                "{name}: {kind}"
            );
            if agreed {
                assert!(
                    served.warnings.is_empty(),
                    "{name}: {kind}: {:?}",
                    served.warnings
                );
                assert_eq!(our_keys(&after), tools_after, "{name}: {kind}");
            }
            // Never a mixed file: CRLF files stay CRLF.
            if before.contains("\r\n") {
                assert!(
                    !after.replace("\r\n", "").contains('\n'),
                    "{name}: {kind} mixed endings"
                );
            }
        }
    }
}

#[test]
fn the_corpus_holds_files_the_two_readers_disagree_on() {
    let disagreeing: Vec<String> = corpus()
        .into_iter()
        .filter(|(_, s)| !thread::read(s).warnings.is_empty())
        .map(|(n, _)| n)
        .collect();
    for expected in [
        "closer-with-text.md",
        "duplicate-ids.md",
        "id-in-title.md",
        "indented-entry-line.md",
        "offset-timestamps.md",
        "repeated-title.md",
        "u2028-and-lone-cr.md",
    ] {
        assert!(
            disagreeing.iter().any(|n| n == expected),
            "{expected}: {disagreeing:?}"
        );
    }
}

#[test]
fn a_fence_left_open_is_closed_before_the_new_entry() {
    let who = author("Codex");
    for (name, before) in corpus()
        .into_iter()
        .filter(|(n, _)| n.starts_with("unclosed"))
    {
        let op = Operation::Ack {
            title: None,
            body: None,
        };
        let Ok(Applied::Content { content, .. }) = apply(&change("c", &who, &op), Some(&before))
        else {
            panic!("{name}")
        };
        let appended = &content[support::py_rstrip_len(&before)..];
        assert!(
            appended.starts_with("\n    ```\n\n---\n") || appended.starts_with("\n```\n\n---\n"),
            "{name}: {appended:?}"
        );
        assert_eq!(
            thread::read(&content).warnings,
            thread::read(&before).warnings,
            "{name}"
        );
    }
}
