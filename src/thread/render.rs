//! Writing thread files: new headers, entry blocks, appends and header edits, byte for
//! byte as the reference tools write them.

use super::text::py_rstrip;

/// The header of a new thread, created by a write. Status starts as OPEN.
pub fn new_thread(topic: &str, ball: &str, created: &str) -> String {
    format!("# {topic} \u{2014} Thread\nStatus: OPEN\nBall: {ball}\nTopic: {topic}\nCreated: {created}\n")
}

/// The parts of one entry block.
#[derive(Debug, Clone, Copy)]
pub struct EntryDraft<'a> {
    pub author: &'a str,
    pub timestamp: &'a str,
    pub role: &'a str,
    pub entry_type: &'a str,
    pub title: &'a str,
    pub body: &'a str,
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

/// `old.rstrip() + "\n\n" + block`.
pub fn append(old: &str, block: &str) -> String {
    let head = py_rstrip(old);
    let mut s = String::with_capacity(head.len() + 2 + block.len());
    s.push_str(head);
    s.push_str("\n\n");
    s.push_str(block);
    s
}

/// Sets a header field: replaces the first header line whose key matches
/// case-insensitively, or appends `Key: value` to the header. The header ends at the
/// first blank line. Nothing else changes.
pub fn set_header_field(s: &str, key: &str, value: &str) -> String {
    let header_end = s.find("\n\n").unwrap_or(s.len());
    let (head, rest) = s.split_at(header_end);
    // A file that is all header may end in one newline; keep it after the last line.
    let (head, rest) = match head.strip_suffix('\n') {
        Some(h) => (h, &s[h.len()..]),
        None => (head, rest),
    };
    let new_line = format!("{key}: {value}");
    let mut out = String::with_capacity(s.len() + new_line.len() + 1);
    let mut replaced = false;
    for (i, line) in head.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let matches = !replaced
            && line
                .split_once(':')
                .is_some_and(|(k, _)| k.eq_ignore_ascii_case(key));
        if matches {
            out.push_str(&new_line);
            replaced = true;
        } else {
            out.push_str(line);
        }
    }
    if !replaced {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&new_line);
    }
    out.push_str(rest);
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
        assert_eq!(append("a\n\n\n  \n", "---\n"), "a\n\n---\n");
        assert_eq!(append("a", "---\n"), "a\n\n---\n");
    }

    #[test]
    fn header_edits_touch_only_their_line() {
        let s = "# t — Thread\nstatus: open\nBall: Codex (m)\n\n---\nStatus: body\n";
        assert_eq!(
            set_header_field(s, "Status", "DONE"),
            "# t — Thread\nStatus: DONE\nBall: Codex (m)\n\n---\nStatus: body\n"
        );
        assert_eq!(
            set_header_field("# t — Thread\nStatus: OPEN\n\nx", "Ball", "Claude (m)"),
            "# t — Thread\nStatus: OPEN\nBall: Claude (m)\n\nx"
        );
        assert_eq!(set_header_field("", "Ball", "B"), "Ball: B");
        assert_eq!(
            set_header_field("# t\nStatus: OPEN\n", "Ball", "B"),
            "# t\nStatus: OPEN\nBall: B\n"
        );
    }
}
