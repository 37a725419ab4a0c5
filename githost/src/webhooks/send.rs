//! Sending one delivery: a plain HTTP/1.1 POST (`Connection: close`) with
//! GitHub's headers and `X-Hub-Signature-256`.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::MAX_RECORDED_ANSWER;
use crate::encoding::hex;
use crate::grants::fill_random;

/// `User-Agent` of deliveries.
pub const USER_AGENT: &str = "GitHub-Hookshot/githost";

/// The most of an answer read (the rest is ignored).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// A receiver URL: `http://host[:port][/path][?query]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookUrl {
    raw: String,
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port (80 by default).
    pub port: u16,
    /// Path and query, starting with `/`.
    pub target: String,
}

impl HookUrl {
    /// Parse a plain `http://` URL (`https://` is refused: githost speaks no TLS).
    pub fn parse(url: &str) -> Result<HookUrl, String> {
        let raw = url.trim();
        let lower = raw.to_ascii_lowercase();
        if lower.starts_with("https://") {
            return Err(format!(
                "{raw}: https is not supported, githost sends webhooks over plain http://"
            ));
        }
        let Some(rest) = lower
            .starts_with("http://")
            .then(|| &raw["http://".len()..])
        else {
            return Err(format!("{raw}: a webhook URL must start with http://"));
        };
        let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(split);
        let tail = tail.split('#').next().unwrap_or("");
        let target = if tail.starts_with('/') {
            tail.to_string()
        } else {
            format!("/{tail}")
        };
        if authority.contains('@') || target.chars().any(|c| c.is_control() || c == ' ') {
            return Err(format!("{raw}: unsupported webhook URL"));
        }
        let (host, port) = split_host_port(authority).ok_or_else(|| format!("{raw}: bad host"))?;
        Ok(HookUrl {
            raw: raw.to_string(),
            host,
            port,
            target,
        })
    }

    /// The URL as given.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The `Host` header value.
    fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// `host[:port]` or `[v6][:port]` → (host, port).
fn split_host_port(authority: &str) -> Option<(String, u16)> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) => p.parse().ok().filter(|p| *p != 0)?,
        None => 80,
    };
    let valid = |c: char| c.is_ascii_alphanumeric() || "-._:".contains(c);
    (!host.is_empty() && host.chars().all(valid)).then(|| (host.to_string(), port))
}

/// A random delivery id shaped like GitHub's (a version-4 UUID).
pub fn delivery_id() -> String {
    let mut b = [0u8; 16];
    fill_random(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// `sha256=<hex HMAC-SHA256 of body under secret>` (`X-Hub-Signature-256`).
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex(&mac.finalize().into_bytes()))
}

/// What one delivery carries.
#[derive(Debug, Clone, Copy)]
pub struct HookRequest<'a> {
    /// `X-GitHub-Event`.
    pub event: &'a str,
    /// `X-GitHub-Delivery`.
    pub delivery: &'a str,
    /// `X-GitHub-Hook-ID`.
    pub hook_id: u64,
    /// `X-GitHub-Hook-Installation-Target-ID` (the repository's id).
    pub repo_id: u64,
    /// The JSON body, signed as is.
    pub body: &'a [u8],
}

/// The receiver's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// The start of the body (at most [`MAX_RECORDED_ANSWER`] bytes, lossy UTF-8).
    pub body: String,
}

/// The request head (everything before the body).
fn request_head(url: &HookUrl, secret: &str, req: &HookRequest<'_>) -> String {
    let headers = [
        ("Host", url.host_header()),
        ("User-Agent", USER_AGENT.to_string()),
        ("Accept", "*/*".to_string()),
        ("Content-Type", "application/json".to_string()),
        ("Content-Length", req.body.len().to_string()),
        ("X-GitHub-Event", req.event.to_string()),
        ("X-GitHub-Delivery", req.delivery.to_string()),
        ("X-GitHub-Hook-ID", req.hook_id.to_string()),
        (
            "X-GitHub-Hook-Installation-Target-Type",
            "repository".to_string(),
        ),
        (
            "X-GitHub-Hook-Installation-Target-ID",
            req.repo_id.to_string(),
        ),
        (
            "X-Hub-Signature-256",
            signature(secret.as_bytes(), req.body),
        ),
        ("Connection", "close".to_string()),
    ];
    let mut head = format!("POST {} HTTP/1.1\r\n", url.target);
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// POST `req` to `url`, giving up after `timeout`.
pub async fn post(
    url: &HookUrl,
    secret: &str,
    req: &HookRequest<'_>,
    timeout: Duration,
) -> Result<Answer, String> {
    let exchange = async {
        let mut stream = TcpStream::connect((url.host.as_str(), url.port))
            .await
            .map_err(|e| format!("cannot connect to {}:{}: {e}", url.host, url.port))?;
        let _ = stream.set_nodelay(true);
        let mut request = request_head(url, secret, req).into_bytes();
        request.extend_from_slice(req.body);
        stream
            .write_all(&request)
            .await
            .map_err(|e| format!("sending failed: {e}"))?;
        read_answer(&mut stream).await
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} s", timeout.as_secs())),
    }
}

/// Read the answer: status line, headers, then the body up to its
/// `Content-Length`, the end of a chunked body, or the connection's end.
async fn read_answer(stream: &mut TcpStream) -> Result<Answer, String> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let mut head: Option<Head> = None;
    loop {
        if head.is_none() {
            head = parse_head(&data)?;
        }
        if let Some(h) = &head {
            let body = &data[h.start..];
            let done = match h.length {
                Some(n) => body.len() >= n,
                None => h.chunked && body.ends_with(b"0\r\n\r\n"),
            };
            if done || body.len() >= MAX_ANSWER_BYTES {
                break;
            }
        }
        let n = match stream.read(&mut buf).await {
            Ok(n) => n,
            // A reset after the head: keep what was answered.
            Err(_) if head.is_some() => 0,
            Err(e) => return Err(format!("reading the answer failed: {e}")),
        };
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    let Some(head) = head else {
        return Err("the connection closed without an answer".to_string());
    };
    let body = if head.chunked {
        dechunk(&data[head.start..])
    } else {
        data[head.start..].to_vec()
    };
    let keep = body.len().min(MAX_RECORDED_ANSWER);
    Ok(Answer {
        status: head.status,
        body: String::from_utf8_lossy(&body[..keep]).into_owned(),
    })
}

/// The head of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Head {
    status: u16,
    /// Where the body starts in the data read.
    start: usize,
    /// `Content-Length`, when given (0 for 204 and 304).
    length: Option<usize>,
    chunked: bool,
}

/// The head, once it is complete in `data`.
fn parse_head(data: &[u8]) -> Result<Option<Head>, String> {
    let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&data[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.split_whitespace().nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| format!("not an HTTP answer: {status_line:?}"))?;
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse().ok();
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        }
    }
    if status == 204 || status == 304 {
        length = Some(0);
    }
    Ok(Some(Head {
        status,
        start: end + 4,
        length,
        chunked,
    }))
}

/// Decode a chunked body, leniently (stops at the first malformed chunk).
fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..pos]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else {
            break;
        };
        data = &data[pos + 2..];
        if size == 0 {
            break;
        }
        let take = size.min(data.len());
        out.extend_from_slice(&data[..take]);
        data = data.get(take + 2..).unwrap_or_default();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_githubs_example() {
        // https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries
        assert_eq!(
            signature(b"It's a Secret to Everybody", b"Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }

    #[test]
    fn parses_urls() {
        let u = HookUrl::parse("http://127.0.0.1:8787/webhooks/github").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.target.as_str()),
            ("127.0.0.1", 8787, "/webhooks/github")
        );
        assert_eq!(u.host_header(), "127.0.0.1:8787");
        let u = HookUrl::parse("HTTP://localhost?x=1#frag").unwrap();
        assert_eq!((u.port, u.target.as_str()), (80, "/?x=1"));
        assert_eq!(u.host_header(), "localhost");
        let u = HookUrl::parse("http://[::1]:9/a").unwrap();
        assert_eq!(
            (u.host.as_str(), u.host_header()),
            ("::1", "[::1]:9".into())
        );
        for bad in [
            "https://x/y",
            "ftp://x",
            "http://",
            "http://u:p@x/",
            "http://x:0/",
            "http://x:99999/",
            "http://x/a b",
        ] {
            assert!(HookUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn delivery_ids_look_like_uuids() {
        let id = delivery_id();
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert_ne!(id, delivery_id());
    }

    #[test]
    fn reads_answer_heads_and_bodies() {
        let head = parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").unwrap();
        let expected = Head {
            status: 200,
            start: 38,
            length: Some(2),
            chunked: false,
        };
        assert_eq!(head, Some(expected));
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\n").unwrap(), None);
        assert!(parse_head(b"SSH-2.0\r\n\r\n").is_err());
        let head = parse_head(b"HTTP/1.1 401 No\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
        assert_eq!(head.map(|h| (h.status, h.chunked)), Some((401, true)));
        assert_eq!(dechunk(b"2\r\nhi\r\n3;x\r\n!!!\r\n0\r\n\r\n"), b"hi!!!");
    }

    #[test]
    fn request_heads_carry_githubs_headers() {
        let url = HookUrl::parse("http://h:1/p?q").unwrap();
        let req = HookRequest {
            event: "push",
            delivery: "d",
            hook_id: 7,
            repo_id: 9,
            body: b"{}",
        };
        let head = request_head(&url, "s", &req);
        assert!(head.starts_with("POST /p?q HTTP/1.1\r\nHost: h:1\r\n"));
        for line in [
            "User-Agent: GitHub-Hookshot/githost",
            "Content-Type: application/json",
            "Content-Length: 2",
            "X-GitHub-Event: push",
            "X-GitHub-Delivery: d",
            "X-GitHub-Hook-ID: 7",
            "X-GitHub-Hook-Installation-Target-ID: 9",
            &signature(b"s", b"{}"),
        ] {
            assert!(head.contains(line), "{line} missing in {head}");
        }
        assert!(head.ends_with("\r\n\r\n"));
    }
}
