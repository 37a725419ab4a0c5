//! The HTTP seam: plain request and response values, and the one trait the Worker
//! implements with `fetch`. Keeping HTTP behind this trait lets the whole GitHub
//! client run natively in tests.

/// An outgoing HTTP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The HTTP method, e.g. `GET`.
    pub method: &'static str,
    /// The full URL.
    pub url: String,
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<String>,
}

/// A received HTTP response. Header names are lowercase.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// Header names (lowercase) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body's bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header with this (lowercase) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends HTTP requests. `Err` means no response arrived (a network failure); its text
/// must not contain secrets.
#[allow(async_fn_in_trait)]
pub trait HttpClient {
    /// Sends `request` and waits for the response.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, String>;
}

/// An [`HttpClient`] whose requests give up after `timeout_ms`: a request GitHub holds
/// longer fails as a network error (so a write's outcome counts as unclear and is
/// re-read before anything is applied again). Dropping the inner request cancels it.
pub struct TimedHttp<'a, H, K> {
    /// The client that sends the requests.
    pub inner: H,
    /// The clock that times them.
    pub clock: &'a K,
    /// How long a request may take, in milliseconds.
    pub timeout_ms: u64,
}

/// What a timed-out request reports.
pub fn timeout_message(timeout_ms: u64) -> String {
    format!(
        "no answer within {} s (GITHUB_TIMEOUT_SECONDS)",
        timeout_ms.div_ceil(1000)
    )
}

impl<H: HttpClient, K: crate::clock::Clock> HttpClient for TimedHttp<'_, H, K> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, String> {
        use futures::future::{select, Either};
        let send = std::pin::pin!(self.inner.send(request));
        let timer = std::pin::pin!(self.clock.sleep(self.timeout_ms));
        match select(send, timer).await {
            Either::Left((answer, _)) => answer,
            Either::Right(((), _)) => Err(timeout_message(self.timeout_ms)),
        }
    }
}

/// Percent-encodes a query value or path segment (everything but RFC 3986 unreserved).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;
    use futures::executor::block_on;

    struct Hung;
    impl HttpClient for Hung {
        async fn send(&self, _: HttpRequest) -> Result<HttpResponse, String> {
            std::future::pending().await
        }
    }

    struct Quick;
    impl HttpClient for Quick {
        async fn send(&self, _: HttpRequest) -> Result<HttpResponse, String> {
            Ok(HttpResponse {
                status: 200,
                ..Default::default()
            })
        }
    }

    fn get() -> HttpRequest {
        HttpRequest {
            method: "GET",
            url: "https://api.github.com/x".into(),
            headers: vec![],
            body: None,
        }
    }

    #[test]
    fn a_request_github_holds_gives_up_at_the_timeout() {
        let clock = FakeClock::at(0);
        let hung = TimedHttp {
            inner: Hung,
            clock: &clock,
            timeout_ms: 10_000,
        };
        let err = block_on(hung.send(get())).unwrap_err();
        assert!(err.contains("no answer within 10 s"), "{err}");
        assert_eq!(*clock.slept.borrow(), vec![10_000]);
        let quick = TimedHttp {
            inner: Quick,
            clock: &clock,
            timeout_ms: 10_000,
        };
        assert_eq!(block_on(quick.send(get())).unwrap().status, 200);
    }

    #[test]
    fn encodes_reserved_characters() {
        assert_eq!(super::encode_component("feature/x y"), "feature%2Fx%20y");
        assert_eq!(super::encode_component("main"), "main");
    }
}
