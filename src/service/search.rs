//! Search, as both transports ask for it: the query and filters checked here, the
//! search run by the branch's writer over its index.

use super::command::topic_arg;
use super::error::{ErrorCode, ServiceError};
use super::{Effects, Service};
use crate::writer::queue::SearchQueue;
use crate::writer::search::{Found, SearchQuery, MARK_END, MARK_START};

/// A search as a transport received it: raw fields, checked here.
#[derive(Debug, Clone, Default)]
pub struct Find<'a> {
    /// The query.
    pub q: Option<&'a str>,
    /// Only this thread.
    pub topic: Option<&'a str>,
    /// Only entries by this agent.
    pub agent: Option<&'a str>,
    /// Only entries written at or after this time.
    pub since: Option<&'a str>,
    /// At most this many results (1 to 50, default 10).
    pub limit: Option<u64>,
    /// The transport's name for the query field, for messages.
    pub q_field: &'static str,
    /// Keep the snippets' marks as the index gives them ([`MARK_START`],
    /// [`MARK_END`]) instead of `**` (the page, which highlights them itself).
    pub raw_marks: bool,
}

/// The most results a search answers.
pub const MAX_RESULTS: u64 = 50;
const DEFAULT_RESULTS: u64 = 10;
/// The longest query.
const MAX_QUERY: usize = 500;

impl<E: Effects> Service<'_, E> {
    /// Searches entry titles and bodies.
    pub async fn search(&self, f: Find<'_>) -> Result<Found, ServiceError> {
        let field = f.q_field;
        let q =
            f.q.map(str::trim)
                .filter(|q| !q.is_empty())
                .ok_or_else(|| {
                    ServiceError::new(
                ErrorCode::MissingField,
                format!("{field}: is required: words, \"a phrase\", AND / OR / NOT, or a prefix*"),
            )
                })?;
        super::input::single_line(field, q)?;
        if q.len() > MAX_QUERY {
            return Err(ServiceError::field(
                field,
                format!("is over {MAX_QUERY} bytes"),
            ));
        }
        let limit = f.limit.unwrap_or(DEFAULT_RESULTS);
        if !(1..=MAX_RESULTS).contains(&limit) {
            return Err(ServiceError::field(
                "limit",
                format!("must be 1 to {MAX_RESULTS}"),
            ));
        }
        let since = f
            .since
            .map(|s| {
                crate::thread::timestamp::parse(s.trim())
                    .and_then(|secs| u64::try_from(secs).ok())
                    .map(|secs| crate::thread::timestamp::format_utc(secs * 1000))
                    .ok_or_else(|| {
                        ServiceError::field("since", "must be a UTC time like 2026-03-02T09:15:00Z")
                    })
            })
            .transpose()?;
        let agent = f
            .agent
            .map(|a| {
                super::input::single_line("agent", a)?;
                match a.contains('(') {
                    true => crate::thread::agent::validate_author(a, "")
                        .map_err(|e| ServiceError::field("agent", e)),
                    false => Ok(crate::thread::agent::canonical(a)),
                }
            })
            .transpose()?;
        let query = SearchQuery {
            q: q.to_string(),
            topic: f.topic.map(topic_arg).transpose()?.map(|t| t.to_string()),
            agent,
            since,
            limit: limit as u32,
        };
        match self.queue.search(&query).await {
            Ok(Ok(mut found)) => {
                if !f.raw_marks {
                    for h in &mut found.results {
                        h.snippet = h.snippet.replace([MARK_START, MARK_END], "**");
                    }
                }
                Ok(found)
            }
            Ok(Err(why)) => Err(ServiceError::new(
                ErrorCode::InvalidQuery,
                format!("{field}: the index cannot read this query ({why}); use words, \"a phrase\", AND / OR / NOT, or a prefix*, and quote words with punctuation"),
            )),
            Err(e) => Err(ServiceError::writer_unavailable(&e.to_string(), "search again in a few seconds")),
        }
    }
}
