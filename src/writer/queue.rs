//! The write queue as the service sees it, and the protocol the Worker speaks with its
//! branch's writer (the Durable Object): one typed [`Call`], one typed [`Reply`], in a
//! versioned [`Envelope`]. The object outlives deployments, so a call from another
//! version is refused with a message, never misread.

use super::engine::{JournalStore, Submit, Submitted, Writer};
use super::journal::{Queued, SyncStatus};
use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::GitHost;
use serde::{Deserialize, Serialize};

/// The version of [`Envelope`] this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// What the Worker asks its branch's writer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum Call {
    /// Journal an operation and wait for it up to the deadline.
    Submit {
        /// The operation.
        submit: Submit,
    },
    /// The sync status.
    Status,
    /// Flush at once (past our own backoff) and report the status.
    Now,
    /// Put failed operations back in the queue, flush, and report.
    Retry,
    /// What is pending: on one thread, or everywhere.
    Pending {
        /// The thread, or none for every thread.
        topic: Option<String>,
    },
}

/// What the writer answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Reply {
    /// How a submission ended.
    Submitted {
        /// Its outcome.
        submitted: Submitted,
    },
    /// The sync status (after `now` or `retry`, with what they did).
    Status {
        /// The status.
        status: SyncStatus,
    },
    /// Pending operations.
    Pending {
        /// In arrival order.
        ops: Vec<Queued>,
    },
    /// The call could not be taken (another protocol version).
    Refused {
        /// Why, and what to do.
        message: String,
    },
}

/// A call on the wire, with the protocol version it was written for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The protocol version.
    pub v: u32,
    /// The call.
    #[serde(flatten)]
    pub call: Call,
}

impl Envelope {
    /// A call in this build's version.
    pub fn new(call: Call) -> Envelope {
        Envelope {
            v: PROTOCOL_VERSION,
            call,
        }
    }
}

/// The writer, wherever it runs. Errors are plain text (the writer could not be
/// reached); they never contain secrets.
#[allow(async_fn_in_trait)]
pub trait WriteQueue {
    /// Sends one call and returns the reply.
    async fn call(&self, call: Call) -> Result<Reply, String>;

    /// Submits an operation and waits for it up to the deadline.
    async fn submit(&self, s: &Submit) -> Result<Submitted, String> {
        match self.call(Call::Submit { submit: s.clone() }).await? {
            Reply::Submitted { submitted } => Ok(submitted),
            other => Err(unexpected(other)),
        }
    }

    /// The sync status.
    async fn status(&self) -> Result<SyncStatus, String> {
        status_of(self.call(Call::Status).await?)
    }

    /// Flushes at once (past our own backoff) and returns the status after.
    async fn flush_now(&self) -> Result<SyncStatus, String> {
        status_of(self.call(Call::Now).await?)
    }

    /// Moves failed operations back to pending and flushes; the status says how many.
    async fn retry(&self) -> Result<SyncStatus, String> {
        status_of(self.call(Call::Retry).await?)
    }

    /// Pending operations on one thread (read-your-writes), or on every thread.
    async fn pending(&self, topic: Option<&str>) -> Result<Vec<Queued>, String> {
        let topic = topic.map(str::to_string);
        match self.call(Call::Pending { topic }).await? {
            Reply::Pending { ops } => Ok(ops),
            other => Err(unexpected(other)),
        }
    }
}

fn status_of(reply: Reply) -> Result<SyncStatus, String> {
    match reply {
        Reply::Status { status } => Ok(status),
        other => Err(unexpected(other)),
    }
}

fn unexpected(reply: Reply) -> String {
    match reply {
        Reply::Refused { message } => message,
        other => format!("the writer answered something else: {other:?}"),
    }
}

impl<G: GitHost, C: Cache, K: Clock + Entropy, J: JournalStore> Writer<'_, G, C, K, J> {
    /// Answers one call: the Durable Object's only route, and the in-process queue.
    pub async fn answer(&self, e: Envelope) -> Reply {
        if e.v != PROTOCOL_VERSION {
            return Reply::Refused {
                message: format!(
                    "the writer speaks protocol {PROTOCOL_VERSION}, the call was made for {}: deploy the Worker and its Durable Object together",
                    e.v
                ),
            };
        }
        match e.call {
            Call::Submit { submit } => Reply::Submitted {
                submitted: self.submit(submit).await,
            },
            Call::Status => Reply::Status {
                status: self.status(),
            },
            Call::Now => {
                self.flush_now().await;
                Reply::Status {
                    status: self.status(),
                }
            }
            Call::Retry => {
                let retried = self.retry_failed();
                self.flush_now().await;
                let mut status = self.status();
                status.retried = Some(retried);
                Reply::Status { status }
            }
            Call::Pending { topic } => Reply::Pending {
                ops: match topic {
                    Some(t) => self.pending_for(&t),
                    None => self.pending_all(),
                },
            },
        }
    }
}

impl<G: GitHost, C: Cache, K: Clock + Entropy, J: JournalStore> WriteQueue
    for Writer<'_, G, C, K, J>
{
    async fn call(&self, call: Call) -> Result<Reply, String> {
        Ok(self.answer(Envelope::new(call)).await)
    }
}
