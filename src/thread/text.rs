//! Text helpers that must behave exactly like the reference tools' Python, and the
//! line-ending rules every writer follows.

/// Python's `str.isspace()`: Unicode White_Space plus U+001C..U+001F. Python's
/// regular expressions use the same set for `\s`.
pub fn py_is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.rstrip()` with no argument.
pub fn py_rstrip(s: &str) -> &str {
    s.trim_end_matches(py_is_space)
}

/// Python's `str.strip()` with no argument.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(py_is_space)
}

/// The characters Python's `str.splitlines()` breaks at, besides `\n` and `\r` (which
/// universal newlines already turn into `\n`). CommonMark does not break at them.
pub const EXTRA_LINE_BREAKS: [char; 8] = [
    '\u{0b}', '\u{0c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}', '\u{2029}',
];

/// Whether Python's `str.splitlines()` breaks a line at `c`.
pub fn is_py_line_break(c: char) -> bool {
    c == '\n' || c == '\r' || EXTRA_LINE_BREAKS.contains(&c)
}

/// The first code point of every run of ten decimal digits (Unicode category Nd) in
/// Unicode 14.0, the database of Python 3.11. Python's `\d` matches exactly these.
const DECIMAL_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66,
    0xde6, 0xe50, 0xed0, 0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90,
    0x1b50, 0x1bb0, 0x1c40, 0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10,
    0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650,
    0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60, 0x16ac0, 0x16b50,
    0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
];

/// Python's `\d` (in a `str` pattern): a decimal digit of any script.
pub fn py_is_decimal(c: char) -> bool {
    let c = c as u32;
    let i = DECIMAL_ZEROS.partition_point(|&z| z <= c);
    i > 0 && c - DECIMAL_ZEROS[i - 1] < 10
}

/// The lines of `s` from byte `from`, as CommonMark breaks them (at `\n`, `\r\n` or a
/// lone `\r`): `(start, end of content, start of the next line)` for each.
pub fn line_spans(s: &str, from: usize) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    let b = s.as_bytes();
    let mut pos = from;
    std::iter::from_fn(move || {
        if pos >= b.len() {
            return None;
        }
        let start = pos;
        let end = b[start..]
            .iter()
            .position(|c| *c == b'\n' || *c == b'\r')
            .map_or(b.len(), |i| start + i);
        let next = match b.get(end) {
            Some(b'\r') if b.get(end + 1) == Some(&b'\n') => end + 2,
            Some(_) => end + 1,
            None => end,
        };
        pos = next;
        Some((start, end, next))
    })
}

/// How a file ends its lines. New text always follows the file's own convention, so
/// no write ever makes a file mixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnding {
    /// `
    /// `, as on Unix.
    Lf,
    /// `\r
    /// `, as on Windows.
    CrLf,
    /// A lone `\r` (old Mac files; CommonMark and the tools both read it as a break).
    Cr,
}

impl LineEnding {
    /// The convention of `s`: that of its first line break (`\n` when it has none).
    pub fn of(s: &str) -> LineEnding {
        match s.find(['\n', '\r']).map(|i| &s.as_bytes()[i..]) {
            Some([b'\r', b'\n', ..]) => LineEnding::CrLf,
            Some([b'\r', ..]) => LineEnding::Cr,
            _ => LineEnding::Lf,
        }
    }

    /// The line break itself.
    pub fn as_str(self) -> &'static str {
        match self {
            LineEnding::Lf => "\n",
            LineEnding::CrLf => "\r\n",
            LineEnding::Cr => "\r",
        }
    }

    /// `s`, whose line breaks are all `\n`, with this convention's breaks.
    pub fn apply(self, s: &str) -> String {
        match self {
            LineEnding::Lf => s.to_string(),
            LineEnding::CrLf => s.replace('\n', "\r\n"),
            LineEnding::Cr => s.replace('\n', "\r"),
        }
    }
}

/// `\r\n` and a lone `\r` become `\n` (Python's universal newlines; both are line
/// breaks for CommonMark too, so the text reads the same).
pub fn normalize_newlines(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\r') {
        std::borrow::Cow::Owned(s.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// A character's name for error messages: `U+2028 (LINE SEPARATOR)`.
pub fn describe_char(c: char) -> String {
    let name = match c {
        '\n' => "LINE FEED",
        '\r' => "CARRIAGE RETURN",
        '\t' => "TAB",
        '\u{0b}' => "LINE TABULATION",
        '\u{0c}' => "FORM FEED",
        '\u{1c}' => "FILE SEPARATOR",
        '\u{1d}' => "GROUP SEPARATOR",
        '\u{1e}' => "RECORD SEPARATOR",
        '\u{1f}' => "UNIT SEPARATOR",
        '\u{7f}' => "DELETE",
        '\u{85}' => "NEXT LINE",
        '\u{2028}' => "LINE SEPARATOR",
        '\u{2029}' => "PARAGRAPH SEPARATOR",
        '\u{200e}' => "LEFT-TO-RIGHT MARK",
        '\u{200f}' => "RIGHT-TO-LEFT MARK",
        '\u{61c}' => "ARABIC LETTER MARK",
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => "a bidirectional control",
        '\u{feff}' => "BYTE ORDER MARK",
        c if c.is_control() => "a control character",
        _ => "",
    };
    if name.is_empty() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("U+{:04X} ({name})", c as u32)
    }
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
        assert_eq!(py_strip("\u{1f} a \u{2028}"), "a");
    }

    #[test]
    fn decimals_are_pythons_backslash_d() {
        for c in [
            '0',
            '9',
            '\u{660}',
            '\u{669}',
            '\u{ff10}',
            '\u{ff19}',
            '\u{1fbf9}',
        ] {
            assert!(py_is_decimal(c), "{c:?}");
        }
        for c in [
            'a',
            '/',
            ':',
            '\u{65f}',
            '\u{66a}',
            '\u{b2}',
            '\u{2160}',
            '\u{1fbfa}',
        ] {
            assert!(!py_is_decimal(c), "{c:?}");
        }
    }

    #[test]
    fn line_endings_follow_the_file() {
        assert_eq!(LineEnding::of("a\r\nb\n"), LineEnding::CrLf);
        assert_eq!(LineEnding::of("a\nb\r\n"), LineEnding::Lf);
        assert_eq!(LineEnding::of("a"), LineEnding::Lf);
        assert_eq!(LineEnding::of("a\rb\r"), LineEnding::Cr);
        let spans: Vec<_> = line_spans("a\r\nb\rc\nd", 0).collect();
        assert_eq!(spans, [(0, 1, 3), (3, 4, 5), (5, 6, 7), (7, 8, 8)]);
        assert_eq!(LineEnding::CrLf.apply("a\nb\n"), "a\r\nb\r\n");
        assert_eq!(normalize_newlines("a\r\nb\rc\n"), "a\nb\nc\n");
    }

    #[test]
    fn characters_are_named() {
        assert_eq!(describe_char('\u{2028}'), "U+2028 (LINE SEPARATOR)");
        assert_eq!(describe_char('\u{1}'), "U+0001 (a control character)");
        assert_eq!(describe_char('é'), "U+00E9");
    }
}
