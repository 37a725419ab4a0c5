//! The thread file format, shared byte for byte with the local watercooler tools.
//!
//! Pure code: no I/O, no clock. See `tests/fixtures/release-plan.md` for a sample.
//!
//! Two readers: [`parse`] (CommonMark, as GitHub shows the file) and [`tools_reader`]
//! (the local watercooler tools' looser rules). [`reading`] serves what everyone sees;
//! [`lint`] and [`ops`] make sure every write reads the same under both.

pub mod agent;
pub mod ids;
pub mod lint;
pub mod ops;
pub mod parse;
pub mod reading;
pub mod render;
pub mod text;
pub mod timestamp;
pub mod tools_reader;
pub mod topic;

pub use ids::EntryId;
pub use ops::{apply, Applied, ApplyError, Author, Change, Operation, Presence};
pub use parse::{parse, Entry, Header, Thread};
pub use reading::{read, Reading};
pub use topic::Topic;
