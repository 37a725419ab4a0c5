//! Text helpers that must behave exactly like the reference tools' Python.

/// Python's `str.rstrip()` with no argument: strips trailing characters for which
/// `str.isspace()` is true. That is Unicode White_Space plus U+001C..U+001F.
pub fn py_rstrip(s: &str) -> &str {
    s.trim_end_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_what_python_strips() {
        assert_eq!(
            py_rstrip("a \t\r\n\u{0b}\u{0c}\u{1c}\u{1f}\u{85}\u{a0}\u{3000}"),
            "a"
        );
        assert_eq!(py_rstrip("a\u{200b}"), "a\u{200b}");
        assert_eq!(py_rstrip("  "), "");
    }
}
