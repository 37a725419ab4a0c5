//! The service's one error type: what went wrong, in words that say what to do next,
//! with a code both transports share. No HTTP here: `http::error` maps each code to a
//! status.

use crate::github::GitHubError;
use crate::service::input::FieldError;
use crate::store::StoreError;
use crate::writer::FailReason;

/// What kind of failure, as clients see it (the `code` of an error answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// A field broke its rule.
    InvalidField,
    /// A required field is missing.
    MissingField,
    /// The topic is not a valid topic.
    InvalidTopic,
    /// The body is not JSON, or not an object.
    InvalidJson,
    /// A query parameter or similar is wrong.
    InvalidRequest,
    /// The body is not JSON by its content type.
    UnsupportedMediaType,
    /// The request body is over the cap.
    PayloadTooLarge,
    /// No valid client token.
    Unauthorized,
    /// An access token that is expired, forged, or for another resource.
    InvalidToken,
    /// The token may not do this.
    Forbidden,
    /// The token may read but not write.
    ReadOnly,
    /// No such thread.
    ThreadNotFound,
    /// The file under the topic's name is not a thread (a read).
    NotAThread,
    /// The file under the topic's name is not a thread (a write).
    WriteToNonThread,
    /// No such entry.
    EntryNotFound,
    /// The entry would not read the same in both readings.
    InvalidEntry,
    /// The Entry-ID is taken by something else.
    EntryIdConflict,
    /// The append would pass MAX_THREAD_BYTES.
    ThreadTooLarge,
    /// The write failed for good (kept, retryable).
    WriteFailed,
    /// The branch's writer could not be reached.
    WriterUnavailable,
    /// GitHub is rate-limiting.
    GitHubRateLimited,
    /// GitHub refuses the service's token.
    GitHubUnauthorized,
    /// GitHub does not know the repository or branch.
    GitHubNotFound,
    /// GitHub is down or unreachable.
    GitHubUnavailable,
    /// GitHub failed otherwise.
    GitHubError,
    /// A setting is missing or invalid.
    ConfigInvalid,
    /// No such MCP tool.
    UnknownTool,
    /// An events cursor older than the events kept, or not from here.
    StaleCursor,
    /// A search query the index cannot read.
    InvalidQuery,
}

impl ErrorCode {
    /// The code as clients see it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::MissingField => "missing_field",
            ErrorCode::InvalidTopic => "invalid_topic",
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::Forbidden | ErrorCode::ReadOnly => "forbidden",
            ErrorCode::ThreadNotFound => "thread_not_found",
            ErrorCode::NotAThread | ErrorCode::WriteToNonThread => "not_a_thread",
            ErrorCode::EntryNotFound => "entry_not_found",
            ErrorCode::InvalidEntry => "invalid_entry",
            ErrorCode::EntryIdConflict => "entry_id_conflict",
            ErrorCode::ThreadTooLarge => "thread_too_large",
            ErrorCode::WriteFailed => "write_failed",
            ErrorCode::WriterUnavailable => "writer_unavailable",
            ErrorCode::GitHubRateLimited => "github_rate_limited",
            ErrorCode::GitHubUnauthorized => "github_unauthorized",
            ErrorCode::GitHubNotFound => "github_not_found",
            ErrorCode::GitHubUnavailable => "github_unavailable",
            ErrorCode::GitHubError => "github_error",
            ErrorCode::ConfigInvalid => "config_invalid",
            ErrorCode::UnknownTool => "unknown_tool",
            ErrorCode::StaleCursor => "stale_cursor",
            ErrorCode::InvalidQuery => "invalid_query",
        }
    }
}

/// A failure, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// What kind of failure.
    pub code: ErrorCode,
    /// What went wrong and what to do next.
    pub message: String,
    /// Seconds to wait before retrying.
    pub retry_after: Option<u64>,
    /// For failed writes: the Entry-ID to retry with, so the entry lands once.
    pub entry_id: Option<String>,
    /// For a stale events cursor: the current one, to go on from after a re-read.
    pub cursor: Option<String>,
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ServiceError {}

impl ServiceError {
    /// An error of `code`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ServiceError {
        ServiceError {
            code,
            message: message.into(),
            retry_after: None,
            entry_id: None,
            cursor: None,
        }
    }

    /// `field: message` (invalid_field).
    pub fn field(field: &str, message: impl std::fmt::Display) -> ServiceError {
        ServiceError::new(ErrorCode::InvalidField, format!("{field}: {message}"))
    }

    /// `field: is required` (missing_field).
    pub fn missing(field: &str) -> ServiceError {
        ServiceError::new(ErrorCode::MissingField, format!("{field}: is required"))
    }

    /// Carries the Entry-ID a failed write should be retried with.
    pub fn with_entry_id(mut self, id: Option<&str>) -> ServiceError {
        self.entry_id = id.map(str::to_string);
        self
    }

    /// Asks the caller to wait before retrying.
    pub fn with_retry_after(mut self, secs: u64) -> ServiceError {
        self.retry_after = Some(secs);
        self
    }

    /// The write queue could not be reached.
    pub fn writer_unavailable(why: &str, next: &str) -> ServiceError {
        ServiceError::new(
            ErrorCode::WriterUnavailable,
            format!("the write queue could not be reached ({why}); {next}"),
        )
        .with_retry_after(5)
    }

    /// A write the writer refused, for `reason`.
    pub fn refused(reason: FailReason, message: String, topic: &str) -> ServiceError {
        let code = match reason {
            FailReason::ThreadNotFound => {
                return StoreError::ThreadNotFound {
                    topic: topic.to_string(),
                }
                .into()
            }
            FailReason::NotAThread => ErrorCode::WriteToNonThread,
            FailReason::InvalidEntry => ErrorCode::InvalidEntry,
            FailReason::EntryIdConflict => ErrorCode::EntryIdConflict,
            FailReason::ThreadTooLarge => ErrorCode::ThreadTooLarge,
            FailReason::GitHubError | FailReason::Internal => {
                return ServiceError::new(
                    ErrorCode::WriteFailed,
                    format!("{message}; fix the cause, then POST /v1/sync/retry"),
                )
            }
        };
        ServiceError::new(code, message)
    }
}

impl From<FieldError> for ServiceError {
    fn from(e: FieldError) -> ServiceError {
        ServiceError::new(ErrorCode::InvalidField, e.to_string())
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> ServiceError {
        match e {
            StoreError::ThreadNotFound { topic } => ServiceError::new(
                ErrorCode::ThreadNotFound,
                format!("thread {topic:?} does not exist; create it with POST /v1/threads/{topic}/entries"),
            ),
            StoreError::GitHub(g) => g.into(),
        }
    }
}

impl From<GitHubError> for ServiceError {
    fn from(g: GitHubError) -> ServiceError {
        match &g {
            GitHubError::RateLimited {
                retry_after_secs, ..
            } => ServiceError::new(ErrorCode::GitHubRateLimited, format!("{g}; retry after that"))
                .with_retry_after(*retry_after_secs),
            GitHubError::Unauthorized { .. } => {
                ServiceError::new(ErrorCode::GitHubUnauthorized, g.to_string())
            }
            GitHubError::NotFound { .. } => ServiceError::new(
                ErrorCode::GitHubNotFound,
                format!("{g}: check GITHUB_REPO, GITHUB_BRANCH and that GITHUB_TOKEN can see the repository"),
            ),
            GitHubError::Network { .. } | GitHubError::Server { .. } => {
                ServiceError::new(ErrorCode::GitHubUnavailable, format!("{g}; try again shortly"))
                    .with_retry_after(5)
            }
            _ => ServiceError::new(ErrorCode::GitHubError, g.to_string()),
        }
    }
}
