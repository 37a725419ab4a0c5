//! Parsing thread files. Total: any input yields a `Thread`, never a panic.
//!
//! The header is everything before the first blank line (or before the first entry, if
//! that comes sooner). An entry starts at a line `Entry: <author> <timestamp>` that is
//! not inside a fenced code block; a `---` line just before it is its separator. An
//! entry's header lines (`Role:`, `Type:`, `Title:`, any case) run until the first blank
//! line; the rest is the body. The last `<!-- Entry-ID: … -->` line outside a code
//! fence is the entry's id and is not part of the body.

use super::{text::py_rstrip, timestamp};
use serde::Serialize;

/// Statuses that count as closed in "open only" listings (compared case-insensitively).
pub const CLOSED_STATUSES: [&str; 6] = [
    "done",
    "closed",
    "merged",
    "resolved",
    "abandoned",
    "obsolete",
];

/// A parsed thread file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Thread {
    /// The header block.
    pub header: Header,
    /// The entries, in file order.
    pub entries: Vec<Entry>,
}

/// The header block: the `# … — Thread` title line and `Key: value` lines, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Header {
    /// The title line's text after `# `, if there is one.
    pub title: Option<String>,
    /// The `Key: value` lines, in order.
    pub fields: Vec<(String, String)>,
}

/// One entry of a thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// 0-based position in the thread.
    pub index: usize,
    /// `Agent (user)` as written.
    pub author: String,
    /// The timestamp as written.
    pub timestamp: String,
    /// The `Role:` line's value.
    pub role: Option<String>,
    /// The `Type:` line's value.
    #[serde(rename = "type")]
    pub entry_type: Option<String>,
    /// The `Title:` line's value.
    pub title: Option<String>,
    /// The text after the entry's header lines, without its Entry-ID line.
    pub body: String,
    /// The id from the entry's last `<!-- Entry-ID: … -->` line.
    pub entry_id: Option<String>,
    /// Byte range of the entry's block in the file, separator included.
    #[serde(skip)]
    pub span: (usize, usize),
    /// Byte offset of the entry's `Entry:` line.
    #[serde(skip)]
    pub line: usize,
}

impl Header {
    /// The value of the first field whose key matches case-insensitively.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
    /// The `Status` field's value.
    pub fn status(&self) -> Option<&str> {
        self.get("status")
    }
    /// The `Ball` field's value.
    pub fn ball(&self) -> Option<&str> {
        self.get("ball")
    }

    /// Whether this is a thread's header: a `# … — Thread` title line (what every
    /// writer puts first), or, in older files, both a Status and a Ball line. Any
    /// other markdown file (a README, notes) is not a thread.
    pub fn is_thread(&self) -> bool {
        let titled = self.title.as_deref().is_some_and(|t| {
            let t = t.trim_end();
            t.ends_with("\u{2014} Thread") || t.ends_with(" - Thread") || t.ends_with(" -- Thread")
        });
        titled || (self.status().is_some() && self.ball().is_some())
    }
}

impl Thread {
    /// Whether the thread counts as open (any status that is not a closed one).
    pub fn is_open(&self) -> bool {
        is_open_status(self.header.status().unwrap_or(""))
    }

    /// Whether an entry with this id is in the thread.
    pub fn contains_entry_id(&self, id: &str) -> bool {
        self.entries
            .iter()
            .any(|e| e.entry_id.as_deref() == Some(id))
    }

    /// The ball holder has something new: the last entry's author is not the ball.
    pub fn has_news_for_ball(&self) -> bool {
        match (self.entries.last(), self.header.ball()) {
            (Some(last), Some(ball)) => !last.author.trim().eq_ignore_ascii_case(ball.trim()),
            _ => false,
        }
    }
}

/// Whether a status string counts as open.
pub fn is_open_status(status: &str) -> bool {
    let s = status.trim();
    !CLOSED_STATUSES.iter().any(|c| c.eq_ignore_ascii_case(s))
}

/// Splits an `Entry:` line into (author, timestamp) when it is one.
pub fn entry_line(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("Entry:")?.trim();
    let split = rest.rfind(char::is_whitespace)?;
    let (author, ts) = (rest[..split].trim(), rest[split..].trim());
    (!author.is_empty() && timestamp::parse(ts).is_some()).then_some((author, ts))
}

/// The id in an `<!-- Entry-ID: X -->` line.
pub fn entry_id_line(line: &str) -> Option<&str> {
    let inner = line
        .trim()
        .strip_prefix("<!--")?
        .strip_suffix("-->")?
        .trim();
    let id = inner.strip_prefix("Entry-ID:")?.trim();
    (!id.is_empty() && !id.contains(char::is_whitespace)).then_some(id)
}

/// Tracks fenced code blocks as CommonMark does (``` or ~~~, up to three spaces of
/// indent; a closer has nothing but spaces after its run).
#[derive(Debug, Default, Clone, Copy)]
pub struct Fence {
    /// The open fence's marker byte and run length.
    pub open: Option<(u8, usize)>,
}

impl Fence {
    /// Feeds one line; returns true when the line is inside (or opens/closes) a fence.
    pub fn feed(&mut self, line: &str) -> bool {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let t = &line[indent..];
        let marker = t.bytes().next().filter(|b| *b == b'`' || *b == b'~');
        let run = marker.map_or(0, |m| t.bytes().take_while(|b| *b == m).count());
        match (self.open, marker) {
            (None, Some(m)) if indent <= 3 && run >= 3 => {
                // A backtick fence's info string may not contain backticks.
                if m == b'`' && t[run..].contains('`') {
                    return false;
                }
                self.open = Some((m, run));
                true
            }
            (Some((m, n)), Some(c))
                if c == m && indent <= 3 && run >= n && t[run..].trim().is_empty() =>
            {
                self.open = None;
                true
            }
            (Some(_), _) => true,
            _ => false,
        }
    }
}

/// The code fence `text` leaves open at its end, if any: its marker byte and run length.
pub fn open_fence_at_end(text: &str) -> Option<(u8, usize)> {
    let mut fence = Fence::default();
    for (_, line) in lines_from(text, 0) {
        fence.feed(line);
    }
    fence.open
}

/// Lines of `s` from byte offset `from`, each with its start offset, without the
/// line break. Lines end at `\n`, `\r\n` or a lone `\r`, as in CommonMark.
pub fn lines_from(s: &str, from: usize) -> impl Iterator<Item = (usize, &str)> {
    super::text::line_spans(s, from).map(move |(start, end, _)| (start, &s[start..end]))
}

/// Where the header ends: the start of the first blank line (any line ending).
fn first_blank_line(s: &str) -> Option<usize> {
    super::text::line_spans(s, 0)
        .find(|&(start, end, _)| start == end && start > 0)
        .map(|(start, _, _)| start.saturating_sub(1))
}

/// Parses a thread file.
pub fn parse(s: &str) -> Thread {
    // Entry starts: (separator-or-entry offset, entry line offset).
    let mut starts: Vec<(usize, usize)> = Vec::new();
    let mut fence = Fence::default();
    let mut prev_sep: Option<usize> = None;
    for (off, line) in lines_from(s, 0) {
        if fence.feed(line) {
            prev_sep = None;
            continue;
        }
        if entry_line(line).is_some() {
            starts.push((prev_sep.unwrap_or(off), off));
            prev_sep = None;
        } else if line.trim_end() == "---" {
            prev_sep = Some(off);
        } else if !line.trim().is_empty() {
            prev_sep = None;
        }
    }

    let first_entry = starts.first().map_or(s.len(), |(sep, _)| *sep);
    let header_end = first_blank_line(s).unwrap_or(s.len()).min(first_entry);
    let header = parse_header(&s[..header_end]);

    let entries = starts
        .iter()
        .enumerate()
        .map(|(index, &(span_start, line_start))| {
            let end = starts.get(index + 1).map_or(s.len(), |(sep, _)| *sep);
            parse_entry(s, index, span_start, line_start, end)
        })
        .collect();
    Thread { header, entries }
}

fn parse_header(h: &str) -> Header {
    let mut header = Header::default();
    for (i, (_, line)) in lines_from(h, 0).enumerate() {
        if i == 0 && line.starts_with("# ") {
            header.title = Some(line[2..].trim().to_string());
        } else if let Some((k, v)) = line.split_once(':') {
            if is_field_key(k) {
                header.fields.push((k.to_string(), v.trim().to_string()));
            }
        }
    }
    header
}

fn is_field_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn parse_entry(s: &str, index: usize, span_start: usize, line_start: usize, end: usize) -> Entry {
    let mut lines = lines_from(&s[..end], line_start);
    let (author, ts) = lines
        .next()
        .and_then(|(_, l)| entry_line(l))
        .unwrap_or(("", ""));
    let mut entry = Entry {
        index,
        author: author.to_string(),
        timestamp: ts.to_string(),
        role: None,
        entry_type: None,
        title: None,
        body: String::new(),
        entry_id: None,
        span: (span_start, end),
        line: line_start,
    };

    // Header lines until the first blank line or the first line that is not `Key: value`.
    let mut body_lines: Vec<&str> = Vec::new();
    let mut in_header = true;
    let mut fence = Fence::default();
    let mut id_line: Option<usize> = None;
    for (_, line) in lines {
        if in_header {
            if line.trim().is_empty() {
                in_header = false;
                continue;
            }
            if let Some(id) = entry_id_line(line) {
                entry.entry_id = Some(id.to_string());
                continue;
            }
            if let Some((k, v)) = line.split_once(':').filter(|(k, _)| is_field_key(k)) {
                let slot = if k.eq_ignore_ascii_case("role") {
                    &mut entry.role
                } else if k.eq_ignore_ascii_case("type") {
                    &mut entry.entry_type
                } else if k.eq_ignore_ascii_case("title") {
                    &mut entry.title
                } else {
                    continue;
                };
                slot.get_or_insert_with(|| v.trim().to_string());
                continue;
            }
            in_header = false;
        }
        let fenced = fence.feed(line);
        if !fenced && entry_id_line(line).is_some() {
            id_line = Some(body_lines.len());
        }
        body_lines.push(line);
    }
    if let Some(i) = id_line {
        entry.entry_id = entry_id_line(body_lines.remove(i)).map(str::to_string);
    }
    // Drop leading blank lines; the trailing separator belongs to the next entry.
    let first = body_lines
        .iter()
        .position(|l| !l.trim().is_empty())
        .unwrap_or(body_lines.len());
    entry.body = py_rstrip(&body_lines[first..].join("\n")).to_string();
    entry
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) const SAMPLE: &str = include_str!("../../tests/fixtures/release-plan.md");

    #[test]
    fn parses_the_reference_sample() {
        let t = parse(SAMPLE);
        assert_eq!(t.header.title.as_deref(), Some("release-plan — Thread"));
        assert_eq!(t.header.status(), Some("IN_REVIEW"));
        assert_eq!(t.header.ball(), Some("Claude (mira)"));
        assert_eq!(t.header.get("topic"), Some("release-plan"));
        assert_eq!(t.entries.len(), 3);
        let e = &t.entries[1];
        assert_eq!(e.author, "Codex (mira)");
        assert_eq!(e.timestamp, "2026-03-02T09:40:12Z");
        assert_eq!(e.role.as_deref(), Some("critic"));
        assert_eq!(e.entry_type.as_deref(), Some("Note"));
        assert_eq!(e.title.as_deref(), Some("Two blockers"));
        assert_eq!(
            e.body,
            "The migration test is flaky; the changelog is missing."
        );
        assert_eq!(e.entry_id.as_deref(), Some("01JNB7ZQ0C4D6F8H1J3K5M7N9P"));
        assert_eq!(t.entries[2].entry_id, None);
        assert_eq!(t.entries[2].body, "handoff to Claude (mira)");
        assert!(t.is_open());
        assert!(t.has_news_for_ball());
        // Spans tile the file from the first separator to the end.
        assert!(SAMPLE[t.entries[0].span.0..].starts_with("---\nEntry: Claude (mira)"));
        assert_eq!(t.entries[0].span.1, t.entries[1].span.0);
        assert_eq!(t.entries[2].span.1, SAMPLE.len());
    }

    #[test]
    fn reads_what_newer_and_older_tools_wrote() {
        let s = "# x — Thread\nstatus: done\nBALL: codex\n\n---\nEntry: Claude Code (caleb) 2026-05-19T06:53:03.106891+00:00\nrole: scribe\ntype: decision\nTitle: T\n\nBody\n\n<!-- Entry-ID: 01KRZF9DMD7MDD8RBA59EGBQ19 -->\n\n---\nEntry: Codex 2026-05-19T07:00:00Z\nTitle: no role\n\nb2\n";
        let t = parse(s);
        assert_eq!(t.header.status(), Some("done"));
        assert!(!t.is_open());
        assert_eq!(t.entries.len(), 2);
        assert_eq!(t.entries[0].author, "Claude Code (caleb)");
        assert_eq!(t.entries[0].entry_type.as_deref(), Some("decision"));
        assert_eq!(
            t.entries[0].entry_id.as_deref(),
            Some("01KRZF9DMD7MDD8RBA59EGBQ19")
        );
        assert_eq!(t.entries[0].body, "Body");
        assert_eq!(t.entries[1].role, None);
        assert_eq!(t.entries[1].body, "b2");
    }

    #[test]
    fn entry_lines_inside_code_fences_are_body() {
        let s = "# t — Thread\nStatus: OPEN\n\n---\nEntry: Claude (m) 2026-01-01T00:00:00Z\nTitle: a\n\n```md\n---\nEntry: Codex (m) 2026-01-01T00:00:00Z\n```\n~~~\nEntry: Codex (m) 2026-01-01T00:00:00Z\n~~~\n";
        let t = parse(s);
        assert_eq!(t.entries.len(), 1);
        assert!(t.entries[0].body.contains("Entry: Codex (m)"));
    }

    #[test]
    fn a_dash_line_alone_is_not_a_delimiter() {
        let s = "h\n\n---\nEntry: A (u) 2026-01-01T00:00:00Z\nTitle: a\n\none\n---\ntwo\n";
        let t = parse(s);
        assert_eq!(t.entries.len(), 1);
        assert_eq!(t.entries[0].body, "one\n---\ntwo");
    }

    #[test]
    fn entry_id_is_the_last_comment_outside_fences() {
        let s = "h\n\n---\nEntry: A (u) 2026-01-01T00:00:00Z\nTitle: a\n\n<!-- Entry-ID: FAKE -->\n```\n<!-- Entry-ID: FENCED -->\n```\n<!-- Entry-ID: REAL -->\n";
        let e = &parse(s).entries[0];
        assert_eq!(e.entry_id.as_deref(), Some("REAL"));
        assert!(e.body.contains("FAKE") && e.body.contains("FENCED"));
    }

    #[test]
    fn crlf_files_parse() {
        let s = "# t — Thread\r\nStatus: OPEN\r\n\r\n---\r\nEntry: A (u) 2026-01-01T00:00:00Z\r\nTitle: a\r\n\r\nbody\r\n";
        let t = parse(s);
        assert_eq!(t.header.status(), Some("OPEN"));
        assert_eq!(t.entries.len(), 1);
        assert_eq!(t.entries[0].title.as_deref(), Some("a"));
    }

    proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC*") {
            let t = parse(&s);
            for e in &t.entries {
                prop_assert!(e.span.0 <= e.span.1 && e.span.1 <= s.len());
            }
        }

        #[test]
        fn parsing_never_panics_on_thread_like_input(
            parts in proptest::collection::vec(prop_oneof![
                Just("---\n".to_string()),
                Just("Entry: Claude (m) 2026-01-01T00:00:00Z\n".to_string()),
                Just("```\n".to_string()),
                Just("~~~~\n".to_string()),
                Just("\n".to_string()),
                Just("\r\n".to_string()),
                Just("Title: x\n".to_string()),
                Just("<!-- Entry-ID: 01ABC -->\n".to_string()),
                Just("Status: open\n".to_string()),
                "\\PC{0,12}",
            ], 0..40)
        ) {
            let s: String = parts.concat();
            let t = parse(&s);
            for e in &t.entries {
                prop_assert!(s.is_char_boundary(e.span.0) && s.is_char_boundary(e.span.1));
            }
        }
    }
}
