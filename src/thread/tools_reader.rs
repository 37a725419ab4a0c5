//! How the local watercooler tools read a thread file: a faithful model of their
//! reader, so that nothing this service accepts can read differently there.
//!
//! Their rules are looser than CommonMark (see the README's format section):
//! - lines break at `\n`, `\r\n`, a lone `\r`, and also at VT, FF, U+001C..U+001E,
//!   U+0085, U+2028 and U+2029 (Python's `str.splitlines()`);
//! - every line is tested after Python's `strip()`, so indentation never matters;
//! - a stripped line starting with ```` ``` ```` or `~~~` opens a fence; inside it, a
//!   stripped line starting with at least as many of the same character closes it,
//!   whatever follows;
//! - outside fences, `Entry: <agent> <YYYY-MM-DDTHH:MM:SSZ>` starts an entry (the digits
//!   are any Unicode decimal digits, as Python's `\d`);
//! - an entry's metadata lines run from its `Entry:` line to the first blank line; a
//!   later `Role:`, `Type:` or `Title:` line wins over an earlier one;
//! - an entry's id is the first `<!-- Entry-ID: X -->` anywhere in it (case-insensitive,
//!   inside fences, mid-line or in the title), and an entry whose id was already seen
//!   is dropped.
//!
//! They also sort entries by timestamp for display; this model keeps file order, which
//! holds the same entries.

use super::text::{py_is_decimal, py_is_space, py_strip};

/// One entry as the tools read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolsEntry {
    /// Byte offset of the `Entry:` line (its start, indentation included).
    pub line: usize,
    /// Byte offset where the entry ends: the next entry's `Entry:` line, or the end.
    pub end: usize,
    /// Byte offset of the first body line, when the metadata lines end in a blank line.
    pub body_start: Option<usize>,
    /// The author as written (`Agent (user)`).
    pub agent: String,
    /// The timestamp as written.
    pub timestamp: String,
    /// The last `Role:` line's value.
    pub role: Option<String>,
    /// The last `Type:` line's value.
    pub entry_type: Option<String>,
    /// The last `Title:` line's value.
    pub title: Option<String>,
    /// The first Entry-ID anywhere in the entry.
    pub entry_id: Option<String>,
}

/// A fence as a reader tracks it: the character and the length of its opening run,
/// and where it was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFence {
    /// The fence character: a backtick or `~`.
    pub marker: char,
    /// The length of the opening run.
    pub len: usize,
    /// Byte offset of the line that opened it.
    pub at: usize,
}

/// A whole file as the tools read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolsReading {
    /// The entries they show, in file order.
    pub entries: Vec<ToolsEntry>,
    /// Entries they drop because an earlier entry has the same Entry-ID.
    pub duplicates: Vec<ToolsEntry>,
    /// A fence still open at the end of the file: anything appended after it would be
    /// inside it for them.
    pub open_fence: Option<OpenFence>,
}

impl ToolsReading {
    /// Whether any entry, shown or dropped, has this id.
    pub fn has_entry_id(&self, id: &str) -> bool {
        self.entries
            .iter()
            .chain(&self.duplicates)
            .any(|e| e.entry_id.as_deref() == Some(id))
    }
}

/// One line: its byte range without the line break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// Byte offset where the line starts.
    pub start: usize,
    /// Byte offset where the line ends, before its line break.
    pub end: usize,
}

/// The lines of `s` as Python's universal newlines and `str.splitlines()` make them.
pub fn lines(s: &str) -> Vec<Line> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len() / 32);
    let (mut start, mut i) = (0, 0);
    while i < b.len() {
        // The length of a line break at `i`, in bytes (all of them are ASCII controls,
        // U+0085 = C2 85, U+2028 = E2 80 A8, U+2029 = E2 80 A9).
        let brk = match b[i] {
            b'\r' if b.get(i + 1) == Some(&b'\n') => 2,
            b'\n' | b'\r' | 0x0b | 0x0c | 0x1c..=0x1e => 1,
            0xc2 if b.get(i + 1) == Some(&0x85) => 2,
            0xe2 if b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0xa8 | 0xa9)) => 3,
            _ => 0,
        };
        if brk == 0 {
            i += 1;
            continue;
        }
        out.push(Line { start, end: i });
        i += brk;
        start = i;
    }
    if start < b.len() {
        out.push(Line {
            start,
            end: b.len(),
        });
    }
    out
}

/// The fence marker run at the start of a stripped line: ```` ``` ```` or `~~~` or longer.
pub fn fence_run(stripped: &str) -> Option<(char, usize)> {
    let marker = stripped.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = stripped.chars().take_while(|c| *c == marker).count();
    (len >= 3).then_some((marker, len))
}

/// Feeds one stripped line to a tools-style fence tracker. Returns true when the line
/// is a fence line or inside a fence (so it can never start an entry).
pub fn feed_fence(open: &mut Option<OpenFence>, stripped: &str, at: usize) -> bool {
    match (fence_run(stripped), *open) {
        (Some((marker, len)), None) => {
            *open = Some(OpenFence { marker, len, at });
            true
        }
        (Some((marker, len)), Some(f)) => {
            if marker == f.marker && len >= f.len {
                *open = None;
            }
            true
        }
        (None, Some(_)) => true,
        (None, None) => false,
    }
}

/// `Entry: <agent> <timestamp>` on a stripped line, as their regular expression
/// `^Entry:\s*(.+?)\s+(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)\s*$` reads it, with `\s` and
/// `\d` in Python's Unicode sense. Returns the stripped agent and the timestamp.
pub fn entry_line(stripped: &str) -> Option<(&str, &str)> {
    entry_line_with(stripped, py_is_decimal)
}

/// `entry_line` with another notion of digit (a wider one finds every line that any
/// Python version could read as an entry).
pub fn entry_line_with(stripped: &str, is_digit: fn(char) -> bool) -> Option<(&str, &str)> {
    let rest = stripped.strip_prefix("Entry:")?;
    let (ts_start, _) = rest.char_indices().rev().nth(19)?;
    let ts = &rest[ts_start..];
    let shape_ok = ts.chars().enumerate().all(|(i, c)| match i {
        4 | 7 => c == '-',
        10 => c == 'T',
        13 | 16 => c == ':',
        19 => c == 'Z',
        _ => is_digit(c),
    });
    let before = &rest[..ts_start];
    // `.+?` needs one character and `\s+` one whitespace character before the time.
    let ok = shape_ok
        && before.chars().nth(1).is_some()
        && before.chars().next_back().is_some_and(py_is_space);
    ok.then(|| (py_strip(before), ts))
}

/// The first `<!-- Entry-ID: X -->` in `line`, as their case-insensitive regular
/// expression `<!--\s*Entry-ID:\s*([A-Za-z0-9_-]+)\s*-->` finds it. Returns the byte
/// range of the whole comment and the id.
pub fn find_entry_id(line: &str) -> Option<((usize, usize), &str)> {
    let mut from = 0;
    while let Some(i) = line[from..].find("<!--") {
        let start = from + i;
        if let Some((end, id)) = entry_id_at(line, start + 4) {
            return Some(((start, end), id));
        }
        from = start + 4;
    }
    None
}

/// Letters of `Entry-ID:` under Python's IGNORECASE: `I` also matches U+0130 and U+0131.
fn id_key_char_matches(pattern: char, c: char) -> bool {
    c.eq_ignore_ascii_case(&pattern) || (pattern == 'I' && matches!(c, '\u{130}' | '\u{131}'))
}

/// `[A-Za-z0-9_-]` under Python's IGNORECASE, which adds four letters outside ASCII.
fn id_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '_' | '-' | '\u{130}' | '\u{131}' | '\u{17f}' | '\u{212a}'
        )
}

/// Matches `\s*Entry-ID:\s*([id chars]+)\s*-->` at byte `at`; returns the end and the id.
fn entry_id_at(line: &str, at: usize) -> Option<(usize, &str)> {
    let mut rest = line[at..].trim_start_matches(py_is_space);
    let mut key = "Entry-ID:".chars();
    let mut consumed = 0;
    for c in rest.chars() {
        match key.next() {
            Some(p) if id_key_char_matches(p, c) => consumed += c.len_utf8(),
            Some(_) => return None,
            None => break,
        }
    }
    if key.next().is_some() {
        return None;
    }
    rest = rest[consumed..].trim_start_matches(py_is_space);
    let run_len: usize = rest
        .chars()
        .take_while(|c| id_char(*c))
        .map(char::len_utf8)
        .sum();
    if run_len == 0 {
        return None;
    }
    let (run, after) = rest.split_at(run_len);
    let base = line.len() - rest.len();
    // Greedy: the whole run, then `\s*-->`.
    let tail = after.trim_start_matches(py_is_space);
    if tail.starts_with("-->") {
        let end = line.len() - tail.len() + 3;
        return Some((end, &line[base..base + run_len]));
    }
    // Backtracking: a run ending in `--` right before `>` closes the comment itself.
    if after.starts_with('>') && run.len() > 2 && run.ends_with("--") {
        let end = base + run_len + 1;
        return Some((end, &line[base..base + run_len - 2]));
    }
    None
}

/// The fence the tools see open at the end of `s`, if any.
pub fn open_fence_at_end(s: &str) -> Option<OpenFence> {
    let mut fence = None;
    for l in lines(s) {
        feed_fence(&mut fence, py_strip(&s[l.start..l.end]), l.start);
    }
    fence
}

/// Reads a thread file as the tools do.
pub fn read(s: &str) -> ToolsReading {
    let lines = lines(s);
    let text = |l: &Line| &s[l.start..l.end];

    // Entry lines, outside fences, with the author and time they name.
    let mut starts: Vec<(usize, &str, &str)> = Vec::new();
    let mut fence: Option<OpenFence> = None;
    for (i, l) in lines.iter().enumerate() {
        let stripped = py_strip(text(l));
        if feed_fence(&mut fence, stripped, l.start) {
            continue;
        }
        if let Some((agent, ts)) = entry_line(stripped) {
            starts.push((i, agent, ts));
        }
    }

    let mut reading = ToolsReading {
        open_fence: fence,
        ..ToolsReading::default()
    };
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    for (n, &(first, line_agent, line_ts)) in starts.iter().enumerate() {
        let last = starts.get(n + 1).map_or(lines.len(), |s| s.0);
        let span = &lines[first..last];
        let mut entry = ToolsEntry {
            line: span[0].start,
            end: lines.get(last).map_or(s.len(), |l| l.start),
            body_start: None,
            agent: String::new(),
            timestamp: String::new(),
            role: None,
            entry_type: None,
            title: None,
            entry_id: None,
        };
        for (k, l) in span.iter().enumerate() {
            let line = py_strip(text(l));
            if line.is_empty() {
                entry.body_start = span.get(k + 1).map(|b| b.start);
                break;
            }
            if let Some((agent, ts)) = entry_line(line) {
                entry.agent = agent.to_string();
                entry.timestamp = ts.to_string();
                continue;
            }
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let slot = match py_strip(key).to_lowercase().as_str() {
                "role" => &mut entry.role,
                "type" => &mut entry.entry_type,
                "title" => &mut entry.title,
                _ => continue,
            };
            *slot = Some(py_strip(value).to_string());
        }
        // The metadata lines win, unless they leave the author or time empty.
        if entry.agent.is_empty() {
            entry.agent = line_agent.to_string();
        }
        if entry.timestamp.is_empty() {
            entry.timestamp = line_ts.to_string();
        }
        entry.entry_id = span
            .iter()
            .find_map(|l| find_entry_id(text(l)))
            .map(|(_, id)| id.to_string());
        match &entry.entry_id {
            Some(id) if !seen.insert(id.clone()) => reading.duplicates.push(entry),
            _ => reading.entries.push(entry),
        }
    }
    reading
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../tests/fixtures/release-plan.md");

    #[test]
    fn reads_the_reference_sample() {
        let r = read(SAMPLE);
        assert_eq!(r.entries.len(), 3);
        let e = &r.entries[1];
        assert_eq!(e.agent, "Codex (mira)");
        assert_eq!(e.timestamp, "2026-03-02T09:40:12Z");
        assert_eq!(e.role.as_deref(), Some("critic"));
        assert_eq!(e.title.as_deref(), Some("Two blockers"));
        assert_eq!(e.entry_id.as_deref(), Some("01JNB7ZQ0C4D6F8H1J3K5M7N9P"));
        assert!(SAMPLE[e.line..].starts_with("Entry: Codex (mira)"));
        assert_eq!(r.entries[2].entry_id, None);
        assert_eq!(r.open_fence, None);
    }

    #[test]
    fn lines_break_where_python_breaks_them() {
        let s = "a\r\nb\rc\u{2028}d\u{85}e\u{0b}f\n";
        let got: Vec<&str> = lines(s).iter().map(|l| &s[l.start..l.end]).collect();
        assert_eq!(got, ["a", "b", "c", "d", "e", "f"]);
        assert_eq!(lines("a\n\n").len(), 2);
    }

    #[test]
    fn entry_lines_follow_their_regex() {
        assert_eq!(
            entry_line("Entry: Claude (mira) 2026-01-01T00:00:00Z"),
            Some(("Claude (mira)", "2026-01-01T00:00:00Z"))
        );
        // Unicode digits are digits to Python.
        assert!(entry_line("Entry: X \u{0662}026-01-01T00:00:00Z").is_some());
        // Only the Z form.
        assert!(entry_line("Entry: X 2026-01-01T00:00:00+00:00").is_none());
        assert!(entry_line("Entry: X 2026-01-01T00:00:00.5Z").is_none());
        // A space before the time is required, and some agent.
        assert!(entry_line("Entry:X2026-01-01T00:00:00Z").is_none());
        assert!(entry_line("Entry: 2026-01-01T00:00:00Z").is_none());
        // Two spaces make an empty agent.
        assert_eq!(
            entry_line("Entry:  2026-01-01T00:00:00Z"),
            Some(("", "2026-01-01T00:00:00Z"))
        );
        assert!(entry_line("entry: X 2026-01-01T00:00:00Z").is_none());
    }

    #[test]
    fn entry_ids_follow_their_regex() {
        let id = |s| find_entry_id(s).map(|(_, id)| id);
        assert_eq!(id("<!-- Entry-ID: 01ABC -->"), Some("01ABC"));
        assert_eq!(id("x <!--entry-id:01abc--> y"), Some("01abc"));
        assert_eq!(id("<!-- ENTRY-\u{130}D: K_-x   -->"), Some("K_-x"));
        assert_eq!(id("<!-- Entry-ID: abc--->"), Some("abc-"));
        assert_eq!(id("<!-- Entry-ID: abc-->"), Some("abc"));
        assert_eq!(id("<!-- Entry-ID: a b -->"), None);
        assert_eq!(id("<!-- Entry-ID: -->"), None);
        assert_eq!(id("<!-- x --> <!-- Entry-ID: second -->"), Some("second"));
    }

    #[test]
    fn fences_close_on_any_longer_run_and_ignore_indentation() {
        let s = "h\n\nEntry: A (u) 2026-01-01T00:00:00Z\n\n    ```\n```js\nEntry: B (u) 2026-01-01T00:00:01Z\n";
        let r = read(s);
        assert_eq!(r.entries.len(), 2, "```js closes the indented fence");
        let s = "h\n\nEntry: A (u) 2026-01-01T00:00:00Z\n\n```x```\nEntry: B (u) 2026-01-01T00:00:01Z\n";
        let r = read(s);
        assert_eq!(r.entries.len(), 1, "an inline fence never closes");
        assert!(r.open_fence.is_some());
    }

    #[test]
    fn the_first_id_wins_and_repeats_are_dropped() {
        let s = "h\n\nEntry: A (u) 2026-01-01T00:00:00Z\nTitle: <!-- Entry-ID: T -->\n\n<!-- Entry-ID: REAL -->\n\nEntry: B (u) 2026-01-01T00:00:01Z\n\n<!-- Entry-ID: T -->\n";
        let r = read(s);
        assert_eq!(r.entries.len(), 1);
        assert_eq!(r.entries[0].entry_id.as_deref(), Some("T"));
        assert_eq!(r.duplicates.len(), 1);
        assert!(r.has_entry_id("T"));
    }

    #[test]
    fn later_metadata_lines_win_and_blank_lines_end_them() {
        let s = "Entry: A (u) 2026-01-01T00:00:00Z\nTitle: one\n  TITLE : two\nnot a key\n\nTitle: body\n";
        let e = &read(s).entries[0];
        assert_eq!(e.title.as_deref(), Some("two"));
        assert_eq!(e.body_start, Some(s.find("Title: body").unwrap()));
    }
}

#[cfg(test)]
mod fallback_tests {
    #[test]
    fn an_empty_author_in_the_metadata_lines_falls_back_to_the_entry_line() {
        let s = "# t \u{2014} Thread\n\n---\nEntry: A (u) 2026-01-01T00:00:00Z\n```\nEntry:  2026-01-02T00:00:00Z\n```\n\nb\n";
        let r = super::read(s);
        assert_eq!(r.entries.len(), 1);
        assert_eq!(r.entries[0].agent, "A (u)");
        // The time is not empty, so the later line gives it.
        assert_eq!(r.entries[0].timestamp, "2026-01-02T00:00:00Z");
    }
}
