//! The write path: apply an operation to the current file and commit it with the
//! file's blob sha as an optimistic lock, retrying conflicts until it lands once.
//!
//! - A warm cache supplies the sha, so a warm append is one PUT.
//! - "does not match" (the file changed): re-read, re-apply to the new content.
//! - "is at … but expected" (the branch moved): back off, retry the same PUT.
//! - 422 "sha wasn't supplied" (someone created the file): read, then update.
//! - 5xx or no answer: the write may have landed; re-read and look for the Entry-ID
//!   before applying again, so an entry never lands twice.
//! - Rate limits: wait when GitHub asks for a short wait, else give the wait back.

use super::{Store, StoreError};
use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::{Fetched, GitHost, GitHubError, PutFile};
use crate::thread::{apply, timestamp, Applied, Author, Change, Operation};

/// One write.
#[derive(Debug, Clone)]
pub struct WriteRequest<'a> {
    pub topic: &'a str,
    pub author: &'a Author,
    pub op: &'a Operation,
    /// Required for operations that append an entry.
    pub entry_id: Option<&'a str>,
}

/// How a write ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// A new commit holds the change.
    Committed {
        commit_sha: String,
        blob_sha: String,
        attempts: u32,
        /// The file as committed.
        content: String,
    },
    /// Nothing to commit: the entry id is already in the thread (an earlier attempt
    /// landed), or the status already had that value.
    Unchanged { blob_sha: String, content: String },
}

/// What the write path knows of the file.
enum Known {
    Unknown,
    Absent,
    Present { content: String, sha: String },
}

impl<G: GitHost, C: Cache, K: Clock + Entropy> Store<'_, G, C, K> {
    /// Performs one write. The topic and operation must already be validated.
    pub async fn write(&self, req: &WriteRequest<'_>) -> Result<WriteOutcome, StoreError> {
        let path = self.path_of(req.topic);
        let stamp = timestamp::format_utc(self.clock.now_ms());
        let author = req.author.display();
        let change = Change {
            topic: req.topic,
            author: req.author,
            op: req.op,
            entry_id: req.entry_id,
            timestamp: &stamp,
        };

        let key = super::cached::file_key(&self.config.cache_namespace, &path);
        let mut known = match super::cached::get_file(self.cache, &key).await {
            Some(c) => Known::Present {
                content: c.content,
                sha: c.sha,
            },
            None => Known::Unknown,
        };
        let policy = self.config.retry;
        let mut last_error: Option<GitHubError> = None;
        let mut retries = 0u32;

        for attempt in 1..=policy.max_attempts {
            if let Known::Unknown = known {
                known = match self.git.get_file(&path, None).await {
                    Ok(Fetched::Modified(f)) => {
                        self.remember(&path, &f.content, &f.sha).await;
                        Known::Present {
                            content: f.content,
                            sha: f.sha,
                        }
                    }
                    Ok(Fetched::NotModified) => Known::Unknown,
                    Err(GitHubError::NotFound { .. }) => Known::Absent,
                    Err(e) if e.is_transient() => {
                        self.pause(&e, &mut retries).await?;
                        last_error = Some(e);
                        continue;
                    }
                    Err(e) => return Err(StoreError::GitHub(e)),
                };
                if let Known::Unknown = known {
                    continue;
                }
            }

            let (current, sha) = match &known {
                Known::Present { content, sha } => (Some(content.as_str()), Some(sha.as_str())),
                _ => (None, None),
            };
            let (content, title) = match apply(&change, current) {
                Ok(Applied::Content { content, title }) => (content, title),
                Ok(Applied::Unchanged) => {
                    return Ok(WriteOutcome::Unchanged {
                        blob_sha: sha.unwrap_or_default().to_string(),
                        content: current.unwrap_or_default().to_string(),
                    })
                }
                Err(crate::thread::ApplyError::ThreadMissing) => {
                    return Err(StoreError::ThreadNotFound {
                        topic: req.topic.to_string(),
                    })
                }
                Err(e) => return Err(StoreError::Apply(e)),
            };
            let message = commit_message(&author, &title, req.topic, req.entry_id);
            let put = PutFile {
                path: &path,
                content: &content,
                sha,
                message: &message,
            };
            match self.git.put_file(put).await {
                Ok(w) => {
                    self.remember(&path, &content, &w.blob_sha).await;
                    self.note_written(&path, req.topic, &w.blob_sha, &content)
                        .await;
                    return Ok(WriteOutcome::Committed {
                        commit_sha: w.commit_sha,
                        blob_sha: w.blob_sha,
                        attempts: attempt,
                        content,
                    });
                }
                Err(e @ (GitHubError::FileChanged { .. } | GitHubError::ShaMissing)) => {
                    // Re-read and re-apply; the first re-read goes at once.
                    if last_error.is_some() {
                        self.pause(&e, &mut retries).await?;
                    }
                    known = Known::Unknown;
                    last_error = Some(e);
                }
                Err(e @ GitHubError::BranchMoved { .. }) => {
                    self.pause(&e, &mut retries).await?;
                    last_error = Some(e);
                }
                Err(e) if e.outcome_unclear() || e.is_transient() => {
                    self.pause(&e, &mut retries).await?;
                    if e.outcome_unclear() {
                        known = Known::Unknown;
                    }
                    last_error = Some(e);
                }
                Err(e) => return Err(StoreError::GitHub(e)),
            }
        }
        Err(StoreError::GaveUp {
            attempts: policy.max_attempts,
            last: last_error.unwrap_or(GitHubError::Network {
                message: "no attempt was made".into(),
            }),
        })
    }

    /// Waits before the next attempt: GitHub's own wait for rate limits (or gives up at
    /// once when that is too long), else jittered exponential backoff.
    async fn pause(&self, error: &GitHubError, retries: &mut u32) -> Result<(), StoreError> {
        *retries += 1;
        let policy = self.config.retry;
        let wait = match error.retry_after_secs() {
            Some(secs) if secs.saturating_mul(1000) > policy.max_rate_limit_wait_ms => {
                return Err(StoreError::GitHub(error.clone()));
            }
            Some(secs) => secs * 1000,
            None => policy.backoff_ms(*retries, self.clock.random_u64()),
        };
        self.clock.sleep(wait).await;
        Ok(())
    }
}

/// `<Agent (user)>: <title> (<topic>)`, a blank line, then the trailers.
pub fn commit_message(author: &str, title: &str, topic: &str, entry_id: Option<&str>) -> String {
    let mut m = format!("{author}: {title} ({topic})\n\n");
    if let Some(id) = entry_id {
        m.push_str(&format!("Watercooler-Entry-ID: {id}\n"));
    }
    m.push_str(&format!("Watercooler-Topic: {topic}\n"));
    m
}
