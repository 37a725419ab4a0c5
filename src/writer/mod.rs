//! The pure core of coordinated writes (one writer per repository and branch): the
//! journal of accepted operations, the pacing of mutating GitHub requests, and the
//! planning of group commits. The Durable Object that drives them is glue.

pub mod backfill;
pub mod engine;
pub mod events;
pub mod flush;
pub mod journal;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod outside;
pub mod pacing;
pub mod plan;
pub mod queue;
pub mod search;
pub mod waiting;

pub use engine::{Flushed, JournalStore, Submit, Submitted, Writer, WriterConfig};
pub use events::{Event, EventKind, Head, Wakers};
pub use flush::FlushState;
pub use journal::{EntryRecord, FailReason, OpState, Queued, SyncState, SyncStatus};
#[cfg(any(test, feature = "testing"))]
pub use memory::MemoryJournal;
pub use pacing::Pacer;
pub use plan::{plan, Plan, PlannedFile};
pub use queue::{QueueError, WriteQueue};

#[cfg(test)]
mod tests;
