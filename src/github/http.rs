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

/// Why no response arrived. Its text never holds secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// No answer within the timeout, in milliseconds.
    TimedOut(u64),
    /// The platform refused another outgoing request in this invocation (workerd's
    /// "Too many subrequests").
    TooManySubrequests,
    /// The request could not be sent or its answer not read.
    Failed(String),
}

impl SendError {
    /// A failure the runtime described in words: its limit on subrequests is told
    /// apart, anything else is a network failure.
    pub fn from_runtime(message: String) -> SendError {
        match message
            .to_ascii_lowercase()
            .contains("too many subrequests")
        {
            true => SendError::TooManySubrequests,
            false => SendError::Failed(message),
        }
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::TimedOut(ms) => write!(
                f,
                "no answer within {} s (GITHUB_TIMEOUT_SECONDS)",
                ms.div_ceil(1000)
            ),
            SendError::TooManySubrequests => f.write_str("too many subrequests"),
            SendError::Failed(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for SendError {}

/// Sends HTTP requests. `Err` means no response arrived.
#[allow(async_fn_in_trait)]
pub trait HttpClient {
    /// Sends `request` and waits for the response.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, SendError>;
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

impl<H: HttpClient, K: crate::clock::Clock> HttpClient for TimedHttp<'_, H, K> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, SendError> {
        use futures::future::{select, Either};
        let send = std::pin::pin!(self.inner.send(request));
        let timer = std::pin::pin!(self.clock.sleep(self.timeout_ms));
        match select(send, timer).await {
            Either::Left((answer, _)) => answer,
            Either::Right(((), _)) => Err(SendError::TimedOut(self.timeout_ms)),
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
        async fn send(&self, _: HttpRequest) -> Result<HttpResponse, SendError> {
            std::future::pending().await
        }
    }

    struct Quick;
    impl HttpClient for Quick {
        async fn send(&self, _: HttpRequest) -> Result<HttpResponse, SendError> {
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
        assert_eq!(err, SendError::TimedOut(10_000));
        assert!(err.to_string().contains("no answer within 10 s"), "{err}");
        assert_eq!(*clock.slept.borrow(), vec![10_000]);
        let quick = TimedHttp {
            inner: Quick,
            clock: &clock,
            timeout_ms: 10_000,
        };
        assert_eq!(block_on(quick.send(get())).unwrap().status, 200);
    }

    #[test]
    fn the_runtime_limit_on_subrequests_is_told_apart_from_a_network_failure() {
        let limit = SendError::from_runtime("Error: Too many subrequests.".into());
        assert_eq!(limit, SendError::TooManySubrequests);
        let down = SendError::from_runtime("connection reset".into());
        assert_eq!(down, SendError::Failed("connection reset".into()));
        assert_eq!(down.to_string(), "connection reset");
    }

    #[test]
    fn encodes_reserved_characters() {
        assert_eq!(super::encode_component("feature/x y"), "feature%2Fx%20y");
        assert_eq!(super::encode_component("main"), "main");
    }
}
