//! The tools reader against an oracle in Python (`tests/oracle/tools_reader.py`), so
//! that Python itself (`splitlines`, `strip`, `re` with `\s`, `\d` and IGNORECASE)
//! settles every Unicode question: thousands of adversarial files, the corpus, and
//! the files that accepted writes produce must read the same in both.

mod support;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};
use support::{author, change, corpus, text};
use watercooler_worker::service::input as validate;
use watercooler_worker::thread::tools_reader::{self, ToolsEntry};
use watercooler_worker::thread::{apply, Applied, Operation};

fn entry_json(lines: &[tools_reader::Line], e: &ToolsEntry) -> Value {
    json!({
        "line": line_index(lines, e.line),
        "agent": e.agent, "timestamp": e.timestamp, "role": e.role, "type": e.entry_type,
        "title": e.title, "entry_id": e.entry_id,
    })
}

fn line_index(lines: &[tools_reader::Line], offset: usize) -> usize {
    lines
        .iter()
        .position(|l| l.start == offset)
        .expect("an entry starts a line")
}

fn ours(doc: &str) -> Value {
    let lines = tools_reader::lines(doc);
    let r = tools_reader::read(doc);
    json!({
        "entries": r.entries.iter().map(|e| entry_json(&lines, e)).collect::<Vec<_>>(),
        "duplicates": r.duplicates.iter().map(|e| entry_json(&lines, e)).collect::<Vec<_>>(),
        "open_fence": r.open_fence.map(|f| line_index(&lines, f.at)),
    })
}

fn python(docs: &[String]) -> Vec<Value> {
    let oracle = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracle/tools_reader.py");
    let mut child = Command::new("python3")
        .arg(oracle)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs the oracle (it ships with the machine)");
    let input = serde_json::to_vec(docs).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "the oracle failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Documents shaped like threads: a header, then fragments between Entry lines.
fn generated(n: usize) -> Vec<String> {
    let mut runner = TestRunner::deterministic();
    let strategy = proptest::collection::vec(text(12), 1..6);
    (0..n)
        .map(|_| {
            let parts = strategy.new_tree(&mut runner).unwrap().current();
            let mut doc = String::from("# t — Thread\nStatus: OPEN\nBall: Codex (m)\n\n");
            for (i, p) in parts.iter().enumerate() {
                doc.push_str(&format!(
                    "---\nEntry: A{i} (u) 2026-01-0{}T00:00:00Z\nTitle: {p}\n\n{p}\n",
                    i % 9 + 1
                ));
            }
            doc
        })
        .collect()
}

/// What accepted says on the corpus wrote.
fn written(n: usize) -> Vec<String> {
    let mut runner = TestRunner::deterministic();
    let bases = corpus();
    let who = author("Codex");
    let mut out = Vec::new();
    for i in 0..n {
        let body = text(24).new_tree(&mut runner).unwrap().current();
        let Ok(body) = validate::body("body", &body, false) else {
            continue;
        };
        let op = Operation::Say {
            title: "t".into(),
            body,
            role: "critic".into(),
            entry_type: "Note".into(),
        };
        let base = &bases[i % bases.len()].1;
        if let Ok(Applied::Content { content, .. }) = apply(&change("o", &who, &op), Some(base)) {
            out.push(content);
        }
    }
    out
}

#[test]
fn the_tools_reader_reads_as_python_does() {
    let mut docs = generated(4000);
    docs.extend(corpus().into_iter().map(|(_, s)| s));
    let written = written(3000);
    assert!(written.len() > 1000, "{} writes accepted", written.len());
    docs.extend(written);
    let theirs = python(&docs);
    assert_eq!(theirs.len(), docs.len());
    // Not vacuous: the documents exercise entries, repeats and open fences.
    let count = |key: &str| {
        theirs
            .iter()
            .filter(|r| r[key].as_array().is_some_and(|a| !a.is_empty()))
            .count()
    };
    let open = theirs.iter().filter(|r| !r["open_fence"].is_null()).count();
    eprintln!(
        "{} documents: {} with entries, {} with dropped repeats, {open} with an open fence",
        docs.len(),
        count("entries"),
        count("duplicates")
    );
    assert!(count("entries") > 3000 && count("duplicates") > 50 && open > 300);
    let mut differ = 0;
    for (doc, want) in docs.iter().zip(&theirs) {
        let got = ours(doc);
        if &got != want {
            differ += 1;
            if differ <= 3 {
                eprintln!("document {doc:?}\n  python: {want}\n  ours:   {got}\n");
            }
        }
    }
    assert_eq!(
        differ,
        0,
        "{differ} of {} documents read differently",
        docs.len()
    );
}
