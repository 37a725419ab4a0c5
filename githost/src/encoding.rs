//! Small encoding helpers: GitHub-style base64, URL path and query encoding,
//! form bodies, dates.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;

/// Lenient decoder: standard alphabet, padding optional.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Lenient URL-safe decoder (JWT segments): padding optional.
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Base64 in lines of 60 characters, each followed by `\n` (also the last one),
/// as GitHub returns file contents. Empty input gives an empty string.
pub fn base64_lines(data: &[u8]) -> String {
    let encoded = STANDARD.encode(data);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 60 + 1);
    for chunk in encoded.as_bytes().chunks(60) {
        // Base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out
}

/// Decode base64 that may contain line breaks. `None` if it is not valid base64.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !matches!(c, '\n' | '\r')).collect();
    LENIENT.decode(compact.as_bytes()).ok()
}

/// Decode base64url (the JWT alphabet), padding optional. `None` if invalid.
pub fn decode_base64url(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_LENIENT.decode(text.as_bytes()).ok()
}

/// Percent-encode a query-string component: everything but unreserved
/// characters (`A-Z a-z 0-9 - . _ ~`) becomes `%XX`.
pub fn encode_query_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Encode `pairs` as `application/x-www-form-urlencoded` (`k=v&k=v`).
pub fn encode_form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                encode_query_component(k),
                encode_query_component(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Parse an `application/x-www-form-urlencoded` text (also a query string):
/// `+` is a space, `%XX` escapes are decoded, malformed pairs are skipped.
pub fn parse_form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = decode_percent(&k.replace('+', " "))?;
            let v = decode_percent(&v.replace('+', " "))?;
            Some((k, v))
        })
        .collect()
}

/// Percent-encode a repository path for use in a URL (keeps `/`).
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-decode a URL path segment sequence. `None` on malformed escapes or
/// when the result is not UTF-8.
pub fn decode_percent(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Format seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn iso8601_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Convert days since 1970-01-01 to a (year, month, day) civil date.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Hex encoding of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_lines_wrap_at_60() {
        let data = vec![b'a'; 100];
        let text = base64_lines(&data);
        let lines: Vec<&str> = text.split_terminator('\n').collect();
        assert!(text.ends_with('\n'));
        assert_eq!(lines[0].len(), 60);
        assert_eq!(decode_base64(&text), Some(data));
        assert_eq!(base64_lines(b""), "");
    }

    #[test]
    fn rejects_bad_base64() {
        assert_eq!(decode_base64("!!!"), None);
        assert_eq!(decode_base64("aGk"), Some(b"hi".to_vec()));
    }

    #[test]
    fn dates() {
        assert_eq!(iso8601_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601_utc(1_704_164_645), "2024-01-02T03:04:05Z");
        assert_eq!(iso8601_utc(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn paths() {
        assert_eq!(encode_path("a b/c.md"), "a%20b/c.md");
        assert_eq!(decode_percent("a%20b/c.md").as_deref(), Some("a b/c.md"));
        assert_eq!(decode_percent("%zz"), None);
    }

    #[test]
    fn queries_and_forms() {
        assert_eq!(
            encode_query_component("a b&c=d/é"),
            "a%20b%26c%3Dd%2F%C3%A9"
        );
        assert_eq!(
            encode_form(&[("code", "x y"), ("state", "s&t")]),
            "code=x%20y&state=s%26t"
        );
        let pairs = parse_form("a=1+2&b=%26x&&c&bad=%zz");
        assert_eq!(
            pairs,
            vec![
                ("a".to_string(), "1 2".to_string()),
                ("b".to_string(), "&x".to_string()),
                ("c".to_string(), String::new()),
            ]
        );
        assert_eq!(
            decode_base64url("eyJhIjoxfQ").as_deref(),
            Some(&b"{\"a\":1}"[..])
        );
        assert_eq!(decode_base64url("a+b/"), None);
    }
}
