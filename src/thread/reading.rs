//! What a thread file says: both readings of it, and the one that is served.
//!
//! The service's own reader ([`super::parse`]) follows CommonMark, as GitHub's page for
//! the file does. The [`super::tools_reader`] models the local watercooler tools. Every
//! write this service makes reads the same under both. A file written elsewhere may
//! not: then the tools' reading is served, so that every client sees the same entries,
//! and the differences come back as warnings.

use super::parse::{self, Entry, Thread};
use super::text::py_rstrip;
use super::tools_reader::{self, ToolsEntry, ToolsReading};

/// At most this many warnings are listed; the last one says how many more there are.
const MAX_WARNINGS: usize = 10;

/// A thread file as served.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    /// The header (CommonMark reading) and the entries everyone sees.
    pub thread: Thread,
    /// Where the two readings disagree; empty for every file this service wrote.
    pub warnings: Vec<String>,
}

/// Reads a thread file as it is served.
pub fn read(s: &str) -> Reading {
    Readings::of(s).served(s)
}

/// Both readings of one file.
#[derive(Debug, Clone)]
pub struct Readings {
    /// This service's (CommonMark).
    pub ours: Thread,
    /// The watercooler tools'.
    pub tools: ToolsReading,
    /// Where they differ (see [`disagreements`]).
    pub warnings: Vec<String>,
}

impl Readings {
    /// Reads `s` both ways and lists where the readings differ.
    pub fn of(s: &str) -> Readings {
        let ours = parse::parse(s);
        let tools = tools_reader::read(s);
        let warnings = disagreements(s, &ours, &tools);
        Readings {
            ours,
            tools,
            warnings,
        }
    }

    /// Whether both readings see the same entries.
    pub fn agree(&self) -> bool {
        self.warnings.is_empty()
    }

    /// Whether an entry in either reading (or one the tools drop) has this id.
    pub fn has_entry_id(&self, id: &str) -> bool {
        self.ours.contains_entry_id(id) || self.tools.has_entry_id(id)
    }

    /// Where the first entry starts in either reading (its `---` line, if any): the
    /// header ends there at the latest.
    pub fn first_entry_start(&self, s: &str) -> usize {
        let ours = self.ours.entries.first().map(|e| e.span.0);
        let tools = self
            .tools
            .entries
            .iter()
            .chain(&self.tools.duplicates)
            .map(|e| separator_before(s, e.line))
            .min();
        ours.into_iter().chain(tools).min().unwrap_or(s.len())
    }

    /// The reading that is served: ours when both agree, else the tools'.
    pub fn served(self, s: &str) -> Reading {
        if self.warnings.is_empty() {
            return Reading {
                thread: self.ours,
                warnings: self.warnings,
            };
        }
        Reading {
            thread: Thread {
                header: self.ours.header,
                entries: entries_of(s, &self.tools),
            },
            warnings: self.warnings,
        }
    }
}

/// The 1-based line of a byte offset (lines counted by `\n`).
pub fn line_number(s: &str, offset: usize) -> usize {
    s.as_bytes()[..offset.min(s.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The fields both readings must agree on, for one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryKey<'a> {
    /// Byte offset of the entry's `Entry:` line.
    pub line: usize,
    /// The author as written.
    pub author: &'a str,
    /// The timestamp as written.
    pub timestamp: &'a str,
    /// The entry's role.
    pub role: Option<&'a str>,
    /// The entry's type.
    pub entry_type: Option<&'a str>,
    /// The entry's title.
    pub title: Option<&'a str>,
    /// The entry's Entry-ID.
    pub entry_id: Option<&'a str>,
}

impl<'a> EntryKey<'a> {
    /// The key of an entry in this service's reading.
    pub fn of_ours(e: &'a Entry) -> Self {
        EntryKey {
            line: e.line,
            author: &e.author,
            timestamp: &e.timestamp,
            role: e.role.as_deref(),
            entry_type: e.entry_type.as_deref(),
            title: e.title.as_deref(),
            entry_id: e.entry_id.as_deref(),
        }
    }

    /// The key of an entry in the tools' reading.
    pub fn of_tools(e: &'a ToolsEntry) -> Self {
        EntryKey {
            line: e.line,
            author: &e.agent,
            timestamp: &e.timestamp,
            role: e.role.as_deref(),
            entry_type: e.entry_type.as_deref(),
            title: e.title.as_deref(),
            entry_id: e.entry_id.as_deref(),
        }
    }

    /// The same entry, `delta` bytes further on.
    pub fn shifted(mut self, delta: isize) -> Self {
        self.line = self.line.saturating_add_signed(delta);
        self
    }
}

/// Where the two readings of `s` differ, one message each (empty when they agree).
pub fn disagreements(s: &str, ours: &Thread, tools: &ToolsReading) -> Vec<String> {
    // An entry the tools drop as a repeat is reported once, below.
    let dropped: Vec<usize> = tools.duplicates.iter().map(|d| d.line).collect();
    let ours: Vec<EntryKey> = ours
        .entries
        .iter()
        .filter(|e| !dropped.contains(&e.line))
        .map(EntryKey::of_ours)
        .collect();
    let theirs: Vec<EntryKey> = tools.entries.iter().map(EntryKey::of_tools).collect();
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    loop {
        // The next entry by position, in one reading or (same line) in both.
        let a = ours
            .get(i)
            .filter(|a| theirs.get(j).is_none_or(|b| a.line <= b.line));
        let b = theirs
            .get(j)
            .filter(|b| ours.get(i).is_none_or(|a| b.line <= a.line));
        match (a, b) {
            (Some(a), Some(b)) => {
                out.extend(field_differences(s, a, b));
                i += 1;
                j += 1;
            }
            (Some(a), None) => {
                out.push(one_sided(s, a, "this service reads", "the watercooler tools do not (for them the line is inside a code block, or not an Entry line)"));
                i += 1;
            }
            (None, Some(b)) => {
                out.push(one_sided(s, b, "the watercooler tools read", "this service's CommonMark reading does not (for it the line is inside a code block, indented, or not a line of its own)"));
                j += 1;
            }
            (None, None) => break,
        }
    }
    for d in &tools.duplicates {
        out.push(format!(
            "line {}: the watercooler tools drop this entry by {}, because its Entry-ID {} repeats an earlier entry's",
            line_number(s, d.line),
            d.agent,
            d.entry_id.as_deref().unwrap_or("")
        ));
    }
    if out.len() > MAX_WARNINGS {
        let more = out.len() - (MAX_WARNINGS - 1);
        out.truncate(MAX_WARNINGS - 1);
        out.push(format!("and {more} more differences"));
    }
    out
}

fn one_sided(s: &str, e: &EntryKey, reads: &str, other: &str) -> String {
    format!(
        "line {}: {reads} an entry by {} at {} here, but {other}",
        line_number(s, e.line),
        e.author,
        e.timestamp
    )
}

fn field_differences(s: &str, ours: &EntryKey, theirs: &EntryKey) -> Vec<String> {
    let fields = [
        ("author", Some(ours.author), Some(theirs.author)),
        ("timestamp", Some(ours.timestamp), Some(theirs.timestamp)),
        ("role", ours.role, theirs.role),
        ("type", ours.entry_type, theirs.entry_type),
        ("title", ours.title, theirs.title),
        ("Entry-ID", ours.entry_id, theirs.entry_id),
    ];
    fields
        .iter()
        .filter(|(_, a, b)| a != b)
        .map(|(name, a, b)| {
            format!(
                "line {}: the watercooler tools read this entry's {name} as {}, this service as {}",
                line_number(s, ours.line),
                shown(*b),
                shown(*a)
            )
        })
        .collect()
}

fn shown(v: Option<&str>) -> String {
    v.map_or_else(|| "(none)".to_string(), |v| format!("{v:?}"))
}

/// The tools' entries as served: their fields, and bodies cut as this service cuts
/// them (no Entry-ID line, no trailing separator).
fn entries_of(s: &str, tools: &ToolsReading) -> Vec<Entry> {
    let starts: Vec<usize> = tools
        .entries
        .iter()
        .map(|e| separator_before(s, e.line))
        .collect();
    tools
        .entries
        .iter()
        .enumerate()
        .map(|(index, e)| {
            let end = starts
                .get(index + 1)
                .copied()
                .unwrap_or(s.len())
                .max(e.line);
            Entry {
                index,
                author: e.agent.clone(),
                timestamp: e.timestamp.clone(),
                role: e.role.clone(),
                entry_type: e.entry_type.clone(),
                title: e.title.clone(),
                body: e
                    .body_start
                    .filter(|b| *b <= e.end)
                    .map(|b| {
                        let last = index + 1 == tools.entries.len();
                        body_text(&s[b..e.end], e.entry_id.as_deref(), last)
                    })
                    .unwrap_or_default(),
                entry_id: e.entry_id.clone(),
                span: (starts[index], end),
                line: e.line,
            }
        })
        .collect()
}

/// Where an entry's block starts: the `---` line right before its `Entry:` line, if any.
pub fn separator_before(s: &str, line: usize) -> usize {
    let Some(head) = s[..line].strip_suffix('\n') else {
        return line;
    };
    let head = head.strip_suffix('\r').unwrap_or(head);
    let prev = head.rfind('\n').map_or(0, |i| i + 1);
    if s[prev..head.len()].trim() == "---" {
        prev
    } else {
        line
    }
}

/// An entry's body: without its Entry-ID line, and without the next entry's `---`
/// separator (the last entry has none).
fn body_text(raw: &str, id: Option<&str>, last: bool) -> String {
    let mut lines: Vec<&str> = raw.lines().collect();
    if let Some(id) = id {
        if let Some(i) = lines.iter().position(|l| {
            tools_reader::find_entry_id(l).is_some_and(|((a, b), found)| {
                found == id && l[..a].trim().is_empty() && l[b..].trim().is_empty()
            })
        }) {
            lines.remove(i);
        }
    }
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    if !last && lines.last().is_some_and(|l| l.trim() == "---") {
        lines.pop();
    }
    let first = lines
        .iter()
        .position(|l| !l.trim().is_empty())
        .unwrap_or(lines.len());
    py_rstrip(&lines[first..].join("\n")).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../tests/fixtures/release-plan.md");

    #[test]
    fn the_reference_sample_reads_the_same_both_ways() {
        let r = read(SAMPLE);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        assert_eq!(r.thread, parse::parse(SAMPLE));
    }

    #[test]
    fn a_closer_with_text_is_read_as_the_tools_read_it() {
        let s = "# t — Thread\nStatus: OPEN\nBall: Codex (m)\n\n---\nEntry: Claude (m) 2026-01-01T00:00:00Z\nTitle: a\n\n```\ncode\n``` (end of code)\n\n---\nEntry: Codex (m) 2026-01-01T00:00:01Z\nTitle: b\n\nsecond\n<!-- Entry-ID: 01ARZ3NDEKTSV4RRFFQ69G5FAV -->\n";
        assert_eq!(parse::parse(s).entries.len(), 1, "CommonMark: still fenced");
        let r = read(s);
        assert_eq!(r.thread.entries.len(), 2);
        let b = &r.thread.entries[1];
        assert_eq!(b.title.as_deref(), Some("b"));
        assert_eq!(b.body, "second");
        assert_eq!(b.entry_id.as_deref(), Some("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
        assert!(s[b.span.0..].starts_with("---\nEntry: Codex"));
        assert_eq!(r.thread.entries[0].body, "```\ncode\n``` (end of code)");
        assert_eq!(r.warnings.len(), 1);
        assert!(
            r.warnings[0].starts_with("line 14: the watercooler tools read an entry by Codex (m)"),
            "{:?}",
            r.warnings
        );
    }

    #[test]
    fn differing_fields_are_named() {
        let s = "# t — Thread\n\n---\nEntry: A (u) 2026-01-01T00:00:00Z\nTitle: first\nTitle: second\n\nbody\n";
        let r = read(s);
        assert_eq!(r.thread.entries[0].title.as_deref(), Some("second"));
        assert_eq!(
            r.warnings,
            ["line 4: the watercooler tools read this entry's title as \"second\", this service as \"first\""]
        );
    }

    #[test]
    fn dropped_duplicates_are_reported() {
        let s = "# t — Thread\n\n---\nEntry: A (u) 2026-01-01T00:00:00Z\n\na\n<!-- Entry-ID: X -->\n\n---\nEntry: B (u) 2026-01-01T00:00:01Z\n\nb\n<!-- Entry-ID: X -->\n";
        let r = read(s);
        assert_eq!(r.thread.entries.len(), 1);
        assert!(
            r.warnings.iter().any(|w| w.contains("repeats")),
            "{:?}",
            r.warnings
        );
    }
}
