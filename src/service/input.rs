//! Input rules shared by the REST API and the MCP tools, with messages that say what
//! to send instead.

use crate::thread::text::{normalize_newlines, py_rstrip};
use crate::thread::{lint, EntryId, Topic};

/// Limits, documented in the README.
pub const MAX_TITLE_CHARS: usize = 200;
/// The most bytes an entry body may have (64 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The most characters a role or entry type may have.
pub const MAX_LABEL_CHARS: usize = 32;

/// A field that failed its rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name.
    pub field: String,
    /// What is wrong with its value.
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// A [`FieldError`] for `field`.
pub fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_string(),
        message: message.into(),
    }
}

/// The rule every single-line field passes first (see `thread::lint::single_line`).
pub fn single_line(field: &str, s: &str) -> Result<(), FieldError> {
    lint::single_line(s).map_err(|m| field_error(field, m))
}

/// A one-line title of 1 to 200 characters, without an Entry-ID comment.
pub fn title(field: &str, s: &str) -> Result<String, FieldError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(field_error(field, "must not be empty"));
    }
    lint::title(t).map_err(|m| field_error(field, m))?;
    if t.chars().count() > MAX_TITLE_CHARS {
        return Err(field_error(
            field,
            format!("is longer than {MAX_TITLE_CHARS} characters"),
        ));
    }
    Ok(t.to_string())
}

/// Markdown text up to 64 KiB that reads as the text of one entry to CommonMark and
/// to the watercooler tools alike (see `thread::lint::body`). Line breaks come back
/// as `\n` (a `\r\n` or lone `\r` is one); the file's own convention is applied when
/// it is written.
pub fn body(field: &str, s: &str, allow_empty: bool) -> Result<String, FieldError> {
    if s.len() > MAX_BODY_BYTES {
        return Err(field_error(
            field,
            format!("is {} bytes; the limit is {MAX_BODY_BYTES} bytes (64 KiB): split it into several entries", s.len()),
        ));
    }
    if !allow_empty && s.trim().is_empty() {
        return Err(field_error(field, "must not be empty"));
    }
    let s = normalize_newlines(s);
    // Checked as it will be written: without trailing whitespace (Python's rstrip).
    lint::body(py_rstrip(&s)).map_err(|m| field_error(field, m))?;
    Ok(s.into_owned())
}

/// A role or entry type: 1 to 32 letters, digits, '_' or '-'.
pub fn label(field: &str, s: &str) -> Result<String, FieldError> {
    word(field, s, false, "\"planner\" or \"Note\"").map(str::to_string)
}

/// A status: 1 to 32 letters, digits, spaces, '_' or '-'; stored uppercased.
pub fn status(field: &str, s: &str) -> Result<String, FieldError> {
    word(field, s, true, "\"OPEN\", \"IN_REVIEW\" or \"CLOSED\"").map(str::to_uppercase)
}

/// One short word, trimmed: 1 to 32 letters, digits, '_' or '-', and spaces
/// when `spaces` is set. `examples` goes into the error message.
fn word<'a>(field: &str, s: &'a str, spaces: bool, examples: &str) -> Result<&'a str, FieldError> {
    single_line(field, s)?;
    let t = s.trim();
    let allowed =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-') || (spaces && c == ' ');
    if t.is_empty() || t.chars().count() > MAX_LABEL_CHARS || !t.chars().all(allowed) {
        let spaces = if spaces { " spaces," } else { "" };
        return Err(field_error(
            field,
            format!("must be 1-{MAX_LABEL_CHARS} letters, digits,{spaces} '_' or '-' (for example {examples})"),
        ));
    }
    Ok(t)
}

/// An Entry-ID: a 26-character ULID, returned uppercased.
pub fn entry_id(field: &str, s: &str) -> Result<EntryId, FieldError> {
    single_line(field, s)?;
    EntryId::parse(s).ok_or_else(|| {
        field_error(
            field,
            "must be a 26-character ULID such as 01ARZ3NDEKTSV4RRFFQ69G5FAV, or left out",
        )
    })
}

/// A topic as given, checked.
pub fn topic(field: &str, s: &str) -> Result<Topic, FieldError> {
    Topic::parse(s).map_err(|e| field_error(field, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(title("title", " ok ").is_ok());
        assert!(title("title", "").is_err());
        assert!(title("title", "a\nb").is_err());
        assert!(title("title", "a\u{2028}b")
            .unwrap_err()
            .message
            .contains("U+2028"));
        assert!(title("title", "x <!-- Entry-ID: 01ARZ3NDEKTSV4RRFFQ69G5FAV -->").is_err());
        assert_eq!(body("body", "a\r\nb\rc", false).unwrap(), "a\nb\nc");
        assert!(label("role", "plan\u{85}ner")
            .unwrap_err()
            .message
            .contains("U+0085"));
        assert!(status("status", "OPEN\u{0b}")
            .unwrap_err()
            .message
            .contains("U+000B"));
        assert!(title("title", &"x".repeat(201)).is_err());
        assert!(body("body", &"x".repeat(MAX_BODY_BYTES + 1), false)
            .unwrap_err()
            .message
            .contains("65536"));
        assert!(body("body", "```\ncode", false).is_err());
        assert!(body("body", "```\ncode\n```", false).is_ok());
        assert!(label("role", "planner").is_ok());
        assert!(label("role", "pl anner").is_err());
        assert_eq!(status("status", "in_review").unwrap(), "IN_REVIEW");
        assert!(status("status", "a\nb").is_err());
        assert_eq!(
            entry_id("entry_id", "01arz3ndektsv4rrffq69g5fav")
                .unwrap()
                .as_str(),
            "01ARZ3NDEKTSV4RRFFQ69G5FAV"
        );
        assert!(entry_id("entry_id", "nope").is_err());
        assert!(topic("topic", "../x").is_err());
    }
}
