//! Checks a title or a body on its own, before it is written: it must read the same to
//! CommonMark (this service and GitHub) and to the watercooler tools, as the text of
//! one entry. Every refusal names the line and says what to change.
//!
//! The append itself is checked again on the whole file (`ops::apply`); these checks
//! exist so that a refusal can say precisely what to fix.

use super::parse::{self, Fence};
use super::reading::line_number;
use super::text::{describe_char, is_py_line_break, py_strip};
use super::tools_reader::{self, feed_fence, fence_run, find_entry_id, OpenFence};

/// Bidirectional controls: they make text display differently from what it says.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The rule for every single-line field (title, agent, role, type, status, entry id,
/// every part of a handoff target): no character that either reader breaks a line at,
/// no control character, no bidirectional control, no byte order mark.
pub fn single_line(s: &str) -> Result<(), String> {
    let Some(c) = s
        .chars()
        .find(|&c| is_py_line_break(c) || c.is_control() || is_bidi_control(c) || c == '\u{feff}')
    else {
        return Ok(());
    };
    Err(if is_py_line_break(c) {
        format!(
            "contains {}, which starts a new line for the watercooler tools: send a single line",
            describe_char(c)
        )
    } else if is_bidi_control(c) {
        format!(
            "contains {}, which makes text display differently from what it says: remove it",
            describe_char(c)
        )
    } else {
        format!("contains {}: remove it", describe_char(c))
    })
}

const ID_COMMENT_FIX: &str = "this comment marks an entry's id in thread files, and the watercooler tools would take it as this entry's id: remove it, or write it without the <!-- and --> markers";

/// A title: one line (checked by `single_line`) with no Entry-ID comment.
pub fn title(s: &str) -> Result<(), String> {
    single_line(s)?;
    if find_entry_id(s).is_some() || parse::entry_id_line(s).is_some() {
        return Err(format!("has an Entry-ID comment: {ID_COMMENT_FIX}"));
    }
    Ok(())
}

/// A body or note, with `\n` line breaks only (see `text::normalize_newlines`).
pub fn body(s: &str) -> Result<(), String> {
    entry_id_comments(s)?;
    commonmark_reading(s)?;
    tools_reading(s)?;
    tools_listing(s)
}

/// The tools' thread listing (their `metadata.py`) takes the last author and time from
/// `^Entry:\s*([^\d]+?)\s+(<timestamp>)\s*$` matched over the whole file, code blocks
/// included, and able to run over several lines: so no body line may start with
/// `Entry:` and reach a timestamp that way. Digits are any Unicode digits (wider than
/// any Python version's `\d`); the body's end counts as a line end.
fn tools_listing(s: &str) -> Result<(), String> {
    for (off, line) in parse::lines_from(s, 0) {
        let Some(rest) = line
            .strip_prefix("Entry:")
            .map(|_| &s[off + "Entry:".len()..])
        else {
            continue;
        };
        let Some(d) = rest.find(char::is_numeric) else {
            continue;
        };
        let who = &rest[..d];
        let shaped = who.chars().nth(1).is_some()
            && who
                .chars()
                .next_back()
                .is_some_and(super::text::py_is_space);
        let ts: String = rest[d..].chars().take(20).collect();
        let after = &rest[d + ts.len()..];
        let ends_line = {
            let ws = after.len() - after.trim_start_matches(super::text::py_is_space).len();
            ws == after.len() || after[..ws].contains('\n')
        };
        if shaped && ends_line && timestamp_shaped(&ts) {
            let ts_line = line_number(s, off + "Entry:".len() + d);
            let reach = match ts_line == line_number(s, off) {
                true => String::new(),
                false => format!(" (through line {ts_line})"),
            };
            return Err(format!(
                "line {} starts with 'Entry:' and reads as an entry{reach} to the watercooler tools' thread listing, which looks inside code blocks too: indent the quoted Entry: line inside a fenced block",
                line_number(s, off)
            ));
        }
    }
    Ok(())
}

/// `YYYY-MM-DDTHH:MM:SSZ` with any Unicode digits.
fn timestamp_shaped(ts: &str) -> bool {
    ts.chars().count() == 20
        && ts.chars().enumerate().all(|(i, c)| match i {
            4 | 7 => c == '-',
            10 => c == 'T',
            13 | 16 => c == ':',
            19 => c == 'Z',
            _ => c.is_numeric(),
        })
}

fn entry_id_comments(s: &str) -> Result<(), String> {
    for (off, line) in parse::lines_from(s, 0) {
        if find_entry_id(line).is_some() || parse::entry_id_line(line).is_some() {
            return Err(format!(
                "line {} has an Entry-ID comment: {ID_COMMENT_FIX}",
                line_number(s, off)
            ));
        }
    }
    Ok(())
}

const FENCE_IT: &str =
    "put it inside a fenced code block (a line of ``` before it and another after it)";

/// CommonMark: no `Entry:` line outside a code block, and every code block closed.
fn commonmark_reading(s: &str) -> Result<(), String> {
    let mut fence = Fence::default();
    let mut opened_at = 0;
    for (off, line) in parse::lines_from(s, 0) {
        let was_open = fence.open.is_some();
        if fence.feed(line) {
            if !was_open && fence.open.is_some() {
                opened_at = off;
            }
            continue;
        }
        if parse::entry_line(line).is_some() {
            return Err(format!(
                "line {} would read as the start of a new entry (Entry: <author> <timestamp>): {FENCE_IT}",
                line_number(s, off)
            ));
        }
    }
    match fence.open {
        Some((marker, len)) => Err(format!(
            "line {}: the code block opened here is never closed: close it with a line of {}",
            line_number(s, opened_at),
            String::from(marker as char).repeat(len)
        )),
        None => Ok(()),
    }
}

/// The watercooler tools' reading: no `Entry:` line outside a code block (with any
/// indentation, and any Unicode digits), and every code block closed.
fn tools_reading(s: &str) -> Result<(), String> {
    let mut fence: Option<OpenFence> = None;
    // The last line that closed a fence while carrying text after its run (```js).
    let mut texty_closer: Option<(usize, usize)> = None;
    for l in tools_reader::lines(s) {
        let stripped = py_strip(&s[l.start..l.end]);
        let before = fence;
        if feed_fence(&mut fence, stripped, l.start) {
            if let (Some(open), None) = (before, fence) {
                let run = fence_run(stripped).map_or(0, |(_, n)| n);
                if !stripped.chars().skip(run).all(char::is_whitespace) {
                    texty_closer = Some((l.start, open.at));
                }
            }
            continue;
        }
        if tools_reader::entry_line_with(stripped, |c| c.is_numeric()).is_some() {
            return Err(format!(
                "line {}: the watercooler tools would read this as the start of a new entry (Entry: <author> <timestamp>){}: {FENCE_IT}",
                line_number(s, l.start),
                split_note(s, l.start)
            ));
        }
    }
    let Some(open) = fence else { return Ok(()) };
    let at = line_number(s, open.at);
    let line = &s[open.at..];
    let line = py_strip(line.split(is_py_line_break).next().unwrap_or(""));
    let run = String::from(open.marker).repeat(open.len);
    let after_run: String = line.chars().skip(open.len).collect();
    Err(if after_run.contains(&*run) {
        format!(
            "line {at}: a line that starts with {run} opens a code block for the watercooler tools even when it closes on the same line ({run}x{run}), and this one is never closed: write inline code with single backticks, or put text before the backticks"
        )
    } else if let Some((closer, opened)) = texty_closer {
        format!(
            "line {}: for the watercooler tools this line closes the code block opened on line {} (they ignore the text after the backticks), so line {at} opens a new one that is never closed: use a longer fence ({}) around code that contains {run} lines",
            line_number(s, closer),
            line_number(s, opened),
            String::from(open.marker).repeat(open.len.max(3) + 1)
        )
    } else {
        format!(
            "line {at}{}: the watercooler tools read a code block opening here ({run}) that is never closed: close it with a line of {run}",
            split_note(s, open.at)
        )
    })
}

/// When a tools line starts after a character that only they break lines at, say so.
fn split_note(s: &str, start: usize) -> String {
    match s[..start].chars().next_back() {
        Some(c) if c != '\n' && is_py_line_break(c) => format!(
            " (the {} before it starts a new line for them: replace it with a newline or remove it)",
            describe_char(c)
        ),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(s: &str) -> String {
        body(s).expect_err(s)
    }

    #[test]
    fn ordinary_markdown_passes() {
        for ok in [
            "Plain text.",
            "```rust\nfn main() {}\n```",
            "~~~\n  Entry: Codex (bob) 2026-01-01T00:00:00Z\n~~~",
            "Entry: see line 3 for details",
            "````\n```js\nx\n```\n````",
            "a\n---\nb",
            "Entry: not a timestamp",
            "Form\u{0c}feed and a\u{2028}line separator in prose",
        ] {
            assert_eq!(body(ok), Ok(()), "{ok:?}");
        }
    }

    #[test]
    fn entry_lines_outside_fences_name_the_line() {
        let m = refused("one\n\nEntry: Claude (alice) 2026-01-01T00:00:00Z\n");
        assert!(
            m.starts_with("line 3 would read as the start of a new entry"),
            "{m}"
        );
        let m = refused("one\n  Entry: Claude (alice) 2026-01-01T00:00:00Z");
        assert!(
            m.starts_with("line 2: the watercooler tools would read this"),
            "{m}"
        );
        let m = refused("one\u{2028}Entry: Claude (alice) 2026-01-01T00:00:00Z");
        assert!(m.contains("U+2028 (LINE SEPARATOR) before it"), "{m}");
        let m = refused("Entry: X (y) \u{ff12}026-01-01T00:00:00Z");
        assert!(m.contains("line 1"), "{m}");
    }

    #[test]
    fn entry_lines_the_tools_listing_would_read_are_refused_even_in_code_blocks() {
        let m = refused("~~~\nEntry: Codex (bob) 2026-01-01T00:00:00Z\n~~~");
        assert!(m.starts_with("line 2 starts with 'Entry:'"), "{m}");
        assert!(
            m.contains("indent the quoted Entry: line inside a fenced block"),
            "{m}"
        );
        let m = refused("Entry: see below\nnoted by Claude (mira) 2030-01-01T00:00:00Z");
        assert!(m.contains("(through line 2)"), "{m}");
        let m = refused("```\nEntry: x\n  y 2030-01-01T00:00:00Z  \n```");
        assert!(m.starts_with("line 2"), "{m}");
    }

    #[test]
    fn fences_must_close_for_both_readers() {
        let m = refused("text\n```\ncode");
        assert!(
            m.starts_with("line 2: the code block opened here is never closed"),
            "{m}"
        );
        let m = refused("```\na\n```js\nb\n```\n");
        assert!(m.contains("line 3: for the watercooler tools this line closes the code block opened on line 1"), "{m}");
        assert!(m.contains("````"), "{m}");
        let m = refused("```x```\nlater");
        assert!(m.contains("single backticks"), "{m}");
        let m = refused("    ```\ncode");
        assert!(
            m.starts_with("line 1: the watercooler tools read a code block opening here"),
            "{m}"
        );
    }

    #[test]
    fn entry_id_comments_are_refused_anywhere() {
        for s in [
            "see <!-- Entry-ID: 01ARZ3NDEKTSV4RRFFQ69G5FAV --> there",
            "```\n<!--entry-id:x-->\n```",
            "<!-- Entry-ID: a.b -->",
        ] {
            assert!(refused(s).contains("Entry-ID comment"), "{s:?}");
        }
        assert!(title("a <!-- Entry-ID: X --> b").is_err());
    }

    #[test]
    fn single_line_fields_name_the_character() {
        assert_eq!(single_line("fine (ok)"), Ok(()));
        for (s, named) in [
            ("a\nb", "U+000A"),
            ("a\rb", "U+000D"),
            ("a\u{85}b", "U+0085"),
            ("a\u{2029}b", "U+2029"),
            ("a\u{0b}b", "U+000B"),
            ("a\u{1e}b", "U+001E"),
            ("a\u{0}b", "U+0000"),
            ("a\u{7f}b", "U+007F"),
            ("a\u{202e}b", "U+202E"),
            ("a\tb", "U+0009"),
        ] {
            let m = single_line(s).unwrap_err();
            assert!(m.contains(named), "{s:?}: {m}");
        }
    }
}
