//! Writing thread files: new headers, entry blocks, appends and header edits, byte for
//! byte as the reference tools write them.

use super::text::{py_rstrip, LineEnding};

/// The header of a new thread, created by a write. Status starts as OPEN.
pub fn new_thread(topic: &str, ball: &str, created: &str) -> String {
    format!("# {topic} \u{2014} Thread\nStatus: OPEN\nBall: {ball}\nTopic: {topic}\nCreated: {created}\n")
}

/// The parts of one entry block.
#[derive(Debug, Clone, Copy)]
pub struct EntryDraft<'a> {
    /// `Agent (user)`.
    pub author: &'a str,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub timestamp: &'a str,
    /// The entry's role.
    pub role: &'a str,
    /// The entry's type.
    pub entry_type: &'a str,
    /// The entry's title.
    pub title: &'a str,
    /// The entry's body (trailing whitespace is dropped).
    pub body: &'a str,
    /// The Entry-ID, if the entry has one.
    pub entry_id: Option<&'a str>,
}

/// Renders an entry block. With an id it ends `body\n<!-- Entry-ID: id -->\n`; without
/// one it ends `body\n\n`.
pub fn entry_block(d: &EntryDraft<'_>) -> String {
    let mut s = format!(
        "---\nEntry: {} {}\nRole: {}\nType: {}\nTitle: {}\n\n{}",
        d.author,
        d.timestamp,
        d.role,
        d.entry_type,
        d.title,
        py_rstrip(d.body)
    );
    match d.entry_id {
        Some(id) => {
            s.push_str("\n<!-- Entry-ID: ");
            s.push_str(id);
            s.push_str(" -->\n");
        }
        None => s.push_str("\n\n"),
    }
    s
}

/// `old.rstrip() + "\n\n" + block`, as the reference tools append, in the file's own
/// line endings. `closers` are lines that first close a code block the file leaves
/// open (see `ops::fence_closers`); the tools never need them for what they write.
pub fn append(old: &str, closers: &[String], block: &str) -> String {
    let le = LineEnding::of(old);
    let head = py_rstrip(old);
    let mut s = String::with_capacity(head.len() + 2 * le.as_str().len() + block.len() + 16);
    s.push_str(head);
    for c in closers {
        s.push_str(le.as_str());
        s.push_str(c);
    }
    s.push_str(le.as_str());
    s.push_str(le.as_str());
    s.push_str(&le.apply(block));
    s
}

/// Sets a header field: replaces the first header line whose key matches
/// case-insensitively, or adds `Key: value` as the header's last line. The header
/// ends at the first blank line, and never reaches past `limit` (where the first
/// entry starts), so no entry is ever touched. Nothing else changes.
pub fn set_header_field(s: &str, key: &str, value: &str, limit: usize) -> String {
    let new_line = format!("{key}: {value}");
    let mut header_end = 0;
    let mut target: Option<(usize, usize)> = None;
    for (start, end, next) in super::text::line_spans(s, 0) {
        let line = &s[start..end];
        // A line that reaches the first entry (say, through a break only the tools
        // see) is not the header's.
        if line.is_empty() || end > limit {
            break;
        }
        header_end = next;
        let matches = line
            .split_once(':')
            .is_some_and(|(k, _)| k.eq_ignore_ascii_case(key));
        if target.is_none() && matches {
            target = Some((start, start + line.len()));
        }
    }
    let mut out = String::with_capacity(s.len() + new_line.len() + 2);
    match target {
        Some((a, b)) => {
            out.push_str(&s[..a]);
            out.push_str(&new_line);
            out.push_str(&s[b..]);
        }
        None => {
            let (head, rest) = s.split_at(header_end);
            let le = LineEnding::of(s).as_str();
            out.push_str(head);
            if head.is_empty() {
                out.push_str(&new_line);
                if !rest.is_empty() && !rest.starts_with(['\n', '\r']) {
                    out.push_str(le);
                }
            } else if head.ends_with(['\n', '\r']) {
                out.push_str(&new_line);
                out.push_str(le);
            } else {
                out.push_str(le);
                out.push_str(&new_line);
            }
            out.push_str(rest);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_block_with_and_without_id() {
        let mut d = EntryDraft {
            author: "Claude (mira)",
            timestamp: "2026-03-02T09:15:00Z",
            role: "planner",
            entry_type: "Plan",
            title: "T",
            body: "body  \n\n",
            entry_id: Some("01JNB6Q4X7K2M9P3R5T8V0W1YZ"),
        };
        assert_eq!(
            entry_block(&d),
            "---\nEntry: Claude (mira) 2026-03-02T09:15:00Z\nRole: planner\nType: Plan\nTitle: T\n\nbody\n<!-- Entry-ID: 01JNB6Q4X7K2M9P3R5T8V0W1YZ -->\n"
        );
        d.entry_id = None;
        assert!(entry_block(&d).ends_with("Title: T\n\nbody\n\n"));
    }

    #[test]
    fn append_leaves_exactly_one_blank_line() {
        assert_eq!(append("a\n\n\n  \n", &[], "---\n"), "a\n\n---\n");
        assert_eq!(append("a", &[], "---\n"), "a\n\n---\n");
        assert_eq!(
            append("a\r\nb\r\n", &[], "---\nx\n"),
            "a\r\nb\r\n\r\n---\r\nx\r\n"
        );
        assert_eq!(
            append("```\na\n", &["```".into()], "---\n"),
            "```\na\n```\n\n---\n"
        );
    }

    #[test]
    fn header_edits_touch_only_their_line() {
        let s = "# t — Thread\nstatus: open\nBall: Codex (m)\n\n---\nStatus: body\n";
        assert_eq!(
            set_header_field(s, "Status", "DONE", s.len()),
            "# t — Thread\nStatus: DONE\nBall: Codex (m)\n\n---\nStatus: body\n"
        );
        let s = "# t — Thread\nStatus: OPEN\n\nx";
        assert_eq!(
            set_header_field(s, "Ball", "Claude (m)", s.len()),
            "# t — Thread\nStatus: OPEN\nBall: Claude (m)\n\nx"
        );
        assert_eq!(set_header_field("", "Ball", "B", 0), "Ball: B");
        let s = "# t\nStatus: OPEN\n";
        assert_eq!(
            set_header_field(s, "Ball", "B", s.len()),
            "# t\nStatus: OPEN\nBall: B\n"
        );
        let s = "# t\nStatus: OPEN";
        assert_eq!(
            set_header_field(s, "Ball", "B", s.len()),
            "# t\nStatus: OPEN\nBall: B"
        );
    }

    #[test]
    fn header_edits_keep_crlf_and_stop_before_the_first_entry() {
        let s = "# t — Thread\r\nStatus: OPEN\r\n\r\n---\r\nEntry: A (u) 2026-01-01T00:00:00Z\r\n";
        assert_eq!(
            set_header_field(s, "Ball", "B (u)", s.len()),
            "# t — Thread\r\nStatus: OPEN\r\nBall: B (u)\r\n\r\n---\r\nEntry: A (u) 2026-01-01T00:00:00Z\r\n"
        );
        // No blank line before the first entry: the header ends where it starts.
        let s = "# t — Thread\nStatus: OPEN\n---\nEntry: A (u) 2026-01-01T00:00:00Z\nBall: in the entry\n";
        let first = s.find("---").unwrap();
        assert_eq!(
            set_header_field(s, "Ball", "B (u)", first),
            "# t — Thread\nStatus: OPEN\nBall: B (u)\n---\nEntry: A (u) 2026-01-01T00:00:00Z\nBall: in the entry\n"
        );
    }
}
