//! Shared by the native integration tests: the corpus of files the watercooler tools
//! wrote, and an alphabet of fragments rich in everything that reads differently.
#![allow(dead_code)]

use proptest::prelude::*;
use std::path::PathBuf;
use watercooler_worker::thread::reading::EntryKey;
use watercooler_worker::thread::{tools_reader, Author, Change, Operation};

/// Every file in `tests/fixtures/tools-written`, by name, plus the reference sample.
pub(crate) fn corpus() -> Vec<(String, String)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out: Vec<(String, String)> = std::fs::read_dir(root.join("tools-written"))
        .expect("tests/fixtures/tools-written")
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    out.sort();
    out.push((
        "release-plan.md".into(),
        std::fs::read_to_string(root.join("release-plan.md")).unwrap(),
    ));
    out
}

/// Fragments of text: fences of every kind, Entry-like lines, Entry-ID comments,
/// indentation, every Unicode line break, and letters Python folds oddly.
pub(crate) const FRAGMENTS: &[&str] = &[
    "```",
    "````",
    "~~~",
    "~~~~",
    "```js",
    "``` (end of code)",
    "```x```",
    "    ```",
    "\t~~~",
    "  ```",
    "```~~~",
    "Entry: Claude (alice) 2026-01-01T00:00:00Z",
    "  Entry: Codex (bob) 2026-01-02T00:00:00Z",
    "Entry: X 2026-01-01T00:00:00+00:00",
    "Entry:  2026-01-01T00:00:00Z",
    "Entry: Y \u{ff12}026-01-01T00:00:00Z",
    "Entry: Z (z)\u{2003}2026-01-01T00:00:00Z",
    "<!-- Entry-ID: 01ARZ3NDEKTSV4RRFFQ69G5FAV -->",
    "<!--entry-id:abc-->",
    "<!-- Entry-ID: a.b -->",
    "<!-- ENTRY-\u{130}D: K -->",
    "---",
    "Title: t",
    "Role: r",
    "Status: CLOSED",
    "Ball: Codex (x)",
    ":",
    "\n",
    "\n",
    "\n",
    "\n\n",
    "\r\n",
    "\r",
    "\u{0b}",
    "\u{0c}",
    "\u{1c}",
    "\u{1d}",
    "\u{1e}",
    "\u{85}",
    "\u{2028}",
    "\u{2029}",
    " ",
    "    ",
    "\t",
    "\u{a0}",
    "\u{1f}",
    "\u{3000}",
    "a",
    "plain text",
    "é",
    "\u{130}",
    "\u{212a}",
    "\u{17f}",
    "0",
    "-",
    "`",
    "~",
];

/// Ordinary fragments, so that a fair share of the generated text is accepted.
pub(crate) const PLAIN: &[&str] = &["a", "plain text", " ", "\n", "é", "-", "0", "(x)", "`code`"];

/// Text made of fragments: ordinary ones three times as often as hostile ones.
pub(crate) fn text(max: usize) -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        3 => proptest::sample::select(PLAIN),
        1 => proptest::sample::select(FRAGMENTS),
    ];
    proptest::collection::vec(fragment, 0..max).prop_map(|parts| parts.concat())
}

pub(crate) fn author(agent: &str) -> Author {
    Author {
        agent: agent.into(),
        user: "mira".into(),
    }
}

pub(crate) const ENTRY_ID: &str = "01KAZ3NDEKTSV4RRFFQ69G5FAV";
pub(crate) const NOW: &str = "2026-11-25T12:00:00Z";

/// A change of `op` by `who` with the test's id and time.
pub(crate) fn change<'a>(topic: &'a str, who: &'a Author, op: &'a Operation) -> Change<'a> {
    Change {
        topic,
        author: who,
        op,
        entry_id: op.appends_entry().then_some(ENTRY_ID),
        timestamp: NOW,
    }
}

/// The tools' entries as (agent, timestamp, role, type, title, id), in file order.
pub(crate) type Key = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn owned(k: EntryKey) -> Key {
    let o = |v: Option<&str>| v.map(str::to_string);
    (
        k.author.to_string(),
        k.timestamp.to_string(),
        o(k.role),
        o(k.entry_type),
        o(k.title),
        o(k.entry_id),
    )
}

pub(crate) fn tools_keys(s: &str) -> Vec<Key> {
    let r = tools_reader::read(s);
    r.entries
        .iter()
        .map(|e| owned(EntryKey::of_tools(e)))
        .collect()
}

pub(crate) fn our_keys(s: &str) -> Vec<Key> {
    let t = watercooler_worker::thread::parse(s);
    t.entries
        .iter()
        .map(|e| owned(EntryKey::of_ours(e)))
        .collect()
}

/// The length of `s` after Python's `rstrip()`.
pub(crate) fn py_rstrip_len(s: &str) -> usize {
    watercooler_worker::thread::text::py_rstrip(s).len()
}
