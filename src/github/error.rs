//! GitHub failures, classified by what the write path must do about them.

use super::http::HttpResponse;
use serde::Deserialize;

/// A failed GitHub request, by kind. Messages come from GitHub's body or from our
/// own text, never from request headers, so they cannot carry the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitHubError {
    /// 404: the file, branch or repository does not exist (or the token cannot see it).
    NotFound {
        /// GitHub's message.
        message: String,
    },
    /// 409 "<path> does not match <sha>": the file changed; re-read and re-apply.
    FileChanged {
        /// GitHub's message.
        message: String,
    },
    /// 409 "is at <commit> but expected <commit>": the branch moved; retry.
    BranchMoved {
        /// GitHub's message.
        message: String,
    },
    /// 422 "\"sha\" wasn't supplied": the file exists now; read, then update.
    ShaMissing,
    /// 403/429 over a rate limit: wait `retry_after_secs`.
    RateLimited {
        /// Seconds to wait before trying again.
        retry_after_secs: u64,
        /// GitHub's message.
        message: String,
    },
    /// 401, or a 403 that is not a rate limit: the token or its permissions are wrong.
    Unauthorized {
        /// The HTTP status, 401 or 403.
        status: u16,
        /// GitHub's message.
        message: String,
    },
    /// Any other 4xx: the request itself was refused.
    Rejected {
        /// The HTTP status.
        status: u16,
        /// GitHub's message.
        message: String,
    },
    /// 5xx: GitHub failed; a write may or may not have happened.
    Server {
        /// The HTTP status.
        status: u16,
        /// GitHub's message.
        message: String,
    },
    /// No response: a write may or may not have happened.
    Network {
        /// Why no response arrived.
        message: String,
    },
    /// A response we could not understand.
    BadResponse {
        /// What was wrong with the response.
        message: String,
    },
    /// The platform refused to send the request: this invocation used up its
    /// subrequests. Nothing was sent; a new invocation may try again at once.
    TooManySubrequests,
}

impl GitHubError {
    /// Whether a write that failed this way may nevertheless have landed.
    pub fn outcome_unclear(&self) -> bool {
        matches!(
            self,
            GitHubError::Server { .. }
                | GitHubError::Network { .. }
                | GitHubError::BadResponse { .. }
        )
    }

    /// Whether trying again later can succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            GitHubError::FileChanged { .. }
                | GitHubError::BranchMoved { .. }
                | GitHubError::ShaMissing
                | GitHubError::RateLimited { .. }
                | GitHubError::Server { .. }
                | GitHubError::Network { .. }
                | GitHubError::BadResponse { .. }
                | GitHubError::TooManySubrequests
        )
    }

    /// Seconds a caller should wait before retrying, when GitHub said so.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            GitHubError::RateLimited {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        }
    }
}

impl std::fmt::Display for GitHubError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GitHubError::NotFound { message } => write!(f, "GitHub answered 404 ({message})"),
            GitHubError::FileChanged { message } => write!(f, "the file changed on GitHub ({message})"),
            GitHubError::BranchMoved { message } => write!(f, "the branch moved on GitHub ({message})"),
            GitHubError::ShaMissing => write!(f, "the file was created on GitHub by someone else"),
            GitHubError::RateLimited { retry_after_secs, message } => {
                write!(f, "GitHub rate limit reached ({message}); retry in {retry_after_secs} s")
            }
            GitHubError::Unauthorized { status, message } => write!(
                f,
                "GitHub refused the token with {status} ({message}); check GITHUB_TOKEN and its access to GITHUB_REPO"
            ),
            GitHubError::Rejected { status, message } => write!(f, "GitHub refused the request with {status} ({message})"),
            GitHubError::Server { status, message } => write!(f, "GitHub failed with {status} ({message})"),
            GitHubError::Network { message } => write!(f, "could not reach GitHub ({message})"),
            GitHubError::BadResponse { message } => write!(f, "GitHub sent a response we could not read ({message})"),
            GitHubError::TooManySubrequests => write!(f, "this invocation used up its subrequests (the platform's limit); the rest is carried over to the next flush"),
        }
    }
}

impl std::error::Error for GitHubError {}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
}

/// The longest GitHub message we keep.
const MAX_MESSAGE: usize = 300;

fn message_of(resp: &HttpResponse) -> String {
    let msg = serde_json::from_slice::<ErrorBody>(&resp.body)
        .map(|b| b.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(&resp.body).into_owned());
    let msg = msg.trim();
    if msg.is_empty() {
        return format!("HTTP {}", resp.status);
    }
    msg.chars().take(MAX_MESSAGE).collect()
}

/// Classifies a non-success response. `now_secs` is the current Unix time, used to
/// turn `x-ratelimit-reset` into a wait.
pub fn classify(resp: &HttpResponse, now_secs: u64) -> GitHubError {
    let message = message_of(resp);
    let status = resp.status;
    let header_u64 = |name: &str| resp.header(name).and_then(|v| v.trim().parse::<u64>().ok());
    match status {
        404 => GitHubError::NotFound { message },
        409 if message.contains("does not match") => GitHubError::FileChanged { message },
        409 if message.contains("but expected") => GitHubError::BranchMoved { message },
        409 => GitHubError::BranchMoved { message },
        422 if message.contains("\"sha\" wasn't supplied") => GitHubError::ShaMissing,
        // PATCH git/refs lost its compare-and-swap: the branch moved.
        422 if message.contains("not a fast forward") => GitHubError::BranchMoved { message },
        403 | 429 => {
            let lower = message.to_ascii_lowercase();
            let exhausted = header_u64("x-ratelimit-remaining") == Some(0);
            let is_limit = status == 429
                || exhausted
                || resp.header("retry-after").is_some()
                || lower.contains("rate limit");
            if !is_limit {
                return GitHubError::Unauthorized { status, message };
            }
            let retry_after_secs = header_u64("retry-after")
                .or_else(|| {
                    exhausted
                        .then(|| header_u64("x-ratelimit-reset"))
                        .flatten()
                        .map(|reset| reset.saturating_sub(now_secs).max(1))
                })
                .unwrap_or(60);
            GitHubError::RateLimited {
                retry_after_secs,
                message,
            }
        }
        401 => GitHubError::Unauthorized { status, message },
        500..=599 => GitHubError::Server { status, message },
        _ => GitHubError::Rejected { status, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, message: &str, headers: &[(&str, &str)]) -> HttpResponse {
        HttpResponse {
            status,
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: serde_json::json!({"message": message, "documentation_url": "x", "status": status.to_string()})
                .to_string()
                .into_bytes(),
        }
    }

    #[test]
    fn classifies_the_documented_bodies() {
        assert!(matches!(
            classify(&resp(409, "t.md does not match abc", &[]), 0),
            GitHubError::FileChanged { .. }
        ));
        assert!(matches!(
            classify(&resp(409, "is at 123 but expected 456", &[]), 0),
            GitHubError::BranchMoved { .. }
        ));
        assert_eq!(
            classify(
                &resp(422, "Invalid request.\n\n\"sha\" wasn't supplied.", &[]),
                0
            ),
            GitHubError::ShaMissing
        );
        assert!(matches!(
            classify(&resp(422, "content is not valid Base64", &[]), 0),
            GitHubError::Rejected { .. }
        ));
        assert!(matches!(
            classify(&resp(404, "Not Found", &[]), 0),
            GitHubError::NotFound { .. }
        ));
        assert!(matches!(
            classify(&resp(502, "Bad Gateway", &[]), 0),
            GitHubError::Server { status: 502, .. }
        ));
        assert!(matches!(
            classify(&resp(401, "Bad credentials", &[]), 0),
            GitHubError::Unauthorized { .. }
        ));
        assert!(matches!(
            classify(&resp(403, "Resource not accessible", &[]), 0),
            GitHubError::Unauthorized { .. }
        ));
    }

    #[test]
    fn rate_limits_say_when_to_retry() {
        let r = classify(
            &resp(
                403,
                "You have exceeded a secondary rate limit",
                &[("retry-after", "7")],
            ),
            0,
        );
        assert_eq!(r.retry_after_secs(), Some(7));
        let r = classify(
            &resp(
                403,
                "API rate limit exceeded",
                &[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "1000"),
                ],
            ),
            940,
        );
        assert_eq!(r.retry_after_secs(), Some(60));
        let r = classify(&resp(429, "slow down", &[]), 0);
        assert_eq!(r.retry_after_secs(), Some(60));
        let r = classify(&resp(403, "secondary rate limit", &[]), 0);
        assert_eq!(r.retry_after_secs(), Some(60));
    }

    #[test]
    fn non_json_bodies_still_classify() {
        let r = HttpResponse {
            status: 503,
            headers: vec![],
            body: b"".to_vec(),
        };
        assert_eq!(
            classify(&r, 0),
            GitHubError::Server {
                status: 503,
                message: "HTTP 503".into()
            }
        );
    }
}
