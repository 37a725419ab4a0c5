//! The write queue as the service sees it, and the protocol the Worker speaks with its
//! branch's writer (the Durable Object): one typed [`Call`], one typed [`Reply`], in a
//! versioned [`Envelope`]. The object outlives deployments, so a call from another
//! version is refused with a message, never misread.

use super::engine::{JournalStore, Submit, Submitted, Writer};
use super::journal::{Queued, SyncStatus};
use super::outside::Seen;
use super::search::{Found, SearchQuery};
use super::waiting::{EventQuery, Waited};
use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::GitHost;
use serde::{Deserialize, Serialize};

/// The version of [`Envelope`] this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// What the Worker asks its branch's writer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Call {
    /// Journal an operation and wait for it up to the deadline.
    Submit(Submit),
    /// The sync status.
    Status,
    /// Flush at once (past our own backoff) and report the status.
    Now,
    /// Put failed operations back in the queue, flush, and report.
    Retry,
    /// What is pending: on one thread, or (none) everywhere.
    Pending(Option<String>),
    /// Wait for events.
    Events(EventQuery),
    /// Learn what outside changes did to these threads (a webhook's), and tell the
    /// waiters.
    Learn(Vec<Seen>),
    /// Search the index (backfilling it first, as far as the budget goes).
    Search(SearchQuery),
}

/// What the writer answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// How a submission ended.
    Submitted(Submitted),
    /// The sync status (after `now` or `retry`, with what they did).
    Status(SyncStatus),
    /// Pending operations, in arrival order.
    Pending(Vec<Queued>),
    /// What a waiter gets.
    Events(Waited),
    /// How many events the outside changes made.
    Learned(usize),
    /// What a search found.
    Found(Found),
    /// The search query cannot be read, and why.
    BadQuery(String),
    /// The call could not be taken (another protocol version, or not a call): why,
    /// and what to do.
    Refused(String),
}

impl Reply {
    /// The reply's name on the wire.
    fn kind(&self) -> &'static str {
        match self {
            Reply::Submitted(_) => "submitted",
            Reply::Status(_) => "status",
            Reply::Pending(_) => "pending",
            Reply::Events(_) => "events",
            Reply::Learned(_) => "learned",
            Reply::Found(_) => "found",
            Reply::BadQuery(_) => "bad_query",
            Reply::Refused(_) => "refused",
        }
    }
}

/// A call on the wire, with the protocol version it was written for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The protocol version.
    pub v: u32,
    /// The call.
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

/// Opens a call from the wire. The version is read first, on its own, so a call from
/// another version is refused with a message, never misread or rejected as garbage.
/// `Err` is the refusal's message.
pub fn open(wire: &str) -> Result<Call, String> {
    #[derive(Deserialize)]
    struct Version {
        v: u32,
    }
    let version: Version = serde_json::from_str(wire)
        .map_err(|e| format!("not a writer call (no protocol version): {e}"))?;
    if version.v != PROTOCOL_VERSION {
        return Err(format!(
            "the writer speaks protocol {PROTOCOL_VERSION}, the call was made for {}: deploy the Worker and its Durable Object together",
            version.v
        ));
    }
    serde_json::from_str::<Envelope>(wire)
        .map(|e| e.call)
        .map_err(|e| format!("not a writer call: {e}"))
}

/// Why a call got no usable reply. Its text never holds secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueError {
    /// The writer could not be reached, or its answer not read.
    Unreachable(String),
    /// The writer refused the call (see [`Reply::Refused`]).
    Refused(String),
    /// The writer answered with another kind of reply than the call asks for.
    Unexpected(&'static str),
}

impl std::fmt::Display for QueueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueueError::Unreachable(why) | QueueError::Refused(why) => f.write_str(why),
            QueueError::Unexpected(kind) => {
                write!(f, "the writer answered {kind}, not what was asked")
            }
        }
    }
}

impl std::error::Error for QueueError {}

/// The writer, wherever it runs.
#[allow(async_fn_in_trait)]
pub trait WriteQueue {
    /// Sends one call and returns the reply.
    async fn call(&self, call: Call) -> Result<Reply, QueueError>;

    /// Submits an operation and waits for it up to the deadline.
    async fn submit(&self, s: &Submit) -> Result<Submitted, QueueError> {
        match self.call(Call::Submit(s.clone())).await? {
            Reply::Submitted(submitted) => Ok(submitted),
            other => Err(unexpected(other)),
        }
    }

    /// The sync status.
    async fn status(&self) -> Result<SyncStatus, QueueError> {
        status_of(self.call(Call::Status).await?)
    }

    /// Flushes at once (past our own backoff) and returns the status after.
    async fn flush_now(&self) -> Result<SyncStatus, QueueError> {
        status_of(self.call(Call::Now).await?)
    }

    /// Moves failed operations back to pending and flushes; the status says how many.
    async fn retry(&self) -> Result<SyncStatus, QueueError> {
        status_of(self.call(Call::Retry).await?)
    }

    /// Pending operations on one thread (read-your-writes), or on every thread.
    async fn pending(&self, topic: Option<&str>) -> Result<Vec<Queued>, QueueError> {
        match self.call(Call::Pending(topic.map(str::to_string))).await? {
            Reply::Pending(ops) => Ok(ops),
            other => Err(unexpected(other)),
        }
    }
}

/// Waiting and publishing, over the same protocol.
#[allow(async_fn_in_trait)]
pub trait EventQueue: WriteQueue {
    /// Waits for events (see [`Writer::wait_events`]).
    async fn wait_events(&self, q: &EventQuery) -> Result<Waited, QueueError> {
        match self.call(Call::Events(q.clone())).await? {
            Reply::Events(w) => Ok(w),
            other => Err(unexpected(other)),
        }
    }

    /// Learns outside changes to these threads; returns how many events they made.
    async fn learn(&self, seen: Vec<Seen>) -> Result<usize, QueueError> {
        match self.call(Call::Learn(seen)).await? {
            Reply::Learned(n) => Ok(n),
            other => Err(unexpected(other)),
        }
    }
}

impl<Q: WriteQueue> EventQueue for Q {}

/// A search as the writer answers it: `Ok(Err(why))` is a query it cannot read.
#[allow(async_fn_in_trait)]
pub trait SearchQueue: WriteQueue {
    /// Searches (see [`Writer::search`]).
    async fn search(&self, q: &SearchQuery) -> Result<Result<Found, String>, QueueError> {
        match self.call(Call::Search(q.clone())).await? {
            Reply::Found(found) => Ok(Ok(found)),
            Reply::BadQuery(why) => Ok(Err(why)),
            other => Err(unexpected(other)),
        }
    }
}

impl<Q: WriteQueue> SearchQueue for Q {}

fn status_of(reply: Reply) -> Result<SyncStatus, QueueError> {
    match reply {
        Reply::Status(status) => Ok(status),
        other => Err(unexpected(other)),
    }
}

fn unexpected(reply: Reply) -> QueueError {
    match reply {
        Reply::Refused(message) => QueueError::Refused(message),
        other => QueueError::Unexpected(other.kind()),
    }
}

impl<G: GitHost, C: Cache, K: Clock + Entropy, J: JournalStore> Writer<'_, G, C, K, J> {
    /// Answers a call as it came over the wire: the Durable Object's only route.
    pub async fn answer_wire(&self, wire: &str) -> Reply {
        match open(wire) {
            Ok(call) => self.answer(call).await,
            Err(why) => Reply::Refused(why),
        }
    }

    /// Answers one call (the in-process queue calls this directly).
    pub async fn answer(&self, call: Call) -> Reply {
        match call {
            Call::Submit(submit) => Reply::Submitted(self.submit(submit).await),
            Call::Status => Reply::Status(self.status()),
            Call::Now => {
                self.flush_now().await;
                Reply::Status(self.status())
            }
            Call::Retry => {
                let retried = self.retry_failed();
                self.flush_now().await;
                let mut status = self.status();
                status.retried = Some(retried);
                Reply::Status(status)
            }
            Call::Pending(topic) => Reply::Pending(match topic {
                Some(t) => self.pending_for(&t),
                None => self.pending_all(),
            }),
            Call::Events(q) => Reply::Events(self.wait_events(&q).await),
            Call::Learn(seen) => Reply::Learned(self.learn_outside(&seen).await),
            Call::Search(q) => match self.search(&q).await {
                Ok(found) => Reply::Found(found),
                Err(why) => Reply::BadQuery(why),
            },
        }
    }
}

impl<G: GitHost, C: Cache, K: Clock + Entropy, J: JournalStore> WriteQueue
    for Writer<'_, G, C, K, J>
{
    async fn call(&self, call: Call) -> Result<Reply, QueueError> {
        Ok(self.answer(call).await)
    }
}
