//! UTC timestamps as thread files write and read them.
//!
//! Writers produce `YYYY-MM-DDTHH:MM:SSZ` (whole seconds). Readers also accept the
//! forms newer tools write: fractional seconds and numeric offsets such as `+00:00`.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Formats milliseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_utc(epoch_ms: u64) -> String {
    let secs = (epoch_ms / 1000) as i64;
    let t = OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses any accepted timestamp form into seconds since the Unix epoch.
///
/// Returns `None` for anything that is not a timestamp a thread file may carry.
pub fn parse(s: &str) -> Option<i64> {
    if !looks_like_timestamp(s) {
        return None;
    }
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// The shape check: `\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}` then optional `.\d+`, then `Z`
/// or `±HH:MM`. Cheap, so the entry-line scanner can call it on every line.
fn looks_like_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range.clone())
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    if b.len() < 20
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
        || b[10] != b'T'
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return false;
    }
    let mut rest = &b[19..];
    if rest.first() == Some(&b'.') {
        let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &rest[1 + n..];
    }
    match rest {
        [b'Z'] => true,
        [sign, h1, h2, b':', m1, m2] if (*sign == b'+' || *sign == b'-') => {
            [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_whole_seconds_in_utc() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(1_772_442_900_999), "2026-03-02T09:15:00Z");
    }

    #[test]
    fn accepts_every_form_readers_must_read() {
        assert_eq!(parse("2026-03-02T09:15:00Z"), Some(1_772_442_900));
        assert_eq!(parse("2026-03-02T09:15:00.123456Z"), Some(1_772_442_900));
        assert_eq!(parse("2026-03-02T09:15:00+00:00"), Some(1_772_442_900));
        assert_eq!(parse("2026-03-02T10:15:00.5+01:00"), Some(1_772_442_900));
    }

    #[test]
    fn rejects_non_timestamps() {
        for s in [
            "",
            "2026-03-02",
            "2026-03-02 09:15:00Z",
            "2026-03-02T09:15:00",
            "2026-03-02T09:15:00.Z",
            "2026-13-02T09:15:00Z",
            "2026-03-02T09:15:00+0000",
            "x026-03-02T09:15:00Z",
        ] {
            assert_eq!(parse(s), None, "{s:?}");
        }
    }
}
