//! The thread file format, shared byte for byte with the local watercooler tools.
//!
//! Pure code: no I/O, no clock. See `tests/fixtures/release-plan.md` for a sample.

pub mod agent;
pub mod ops;
pub mod parse;
pub mod render;
pub mod text;
pub mod timestamp;
pub mod topic;

pub use ops::{apply, Applied, ApplyError, Author, Change, Operation};
pub use parse::{parse, Entry, Header, Thread};
