//! What a listing shows of one thread, made from its file.

use crate::github::Sha;
use crate::thread;

crate::record! {
    /// What a listing shows of one thread (cached per blob sha, so fields are only
    /// ever added).
    pub struct ThreadSummary {
        required {
            /// The thread's topic.
            topic: String,
            /// Its Status line.
            status: String,
            /// Who holds the ball.
            ball: String,
            /// Whether the status counts as open.
            open: bool,
            /// How many entries it has.
            entries: usize,
            /// When the last entry was written.
            last_entry_at: Option<String>,
            /// Who wrote the last entry.
            last_author: Option<String>,
            /// The last entry's title.
            last_title: Option<String>,
            /// The last entry's author is not the ball holder: the holder has news.
            new_for_ball: bool,
            /// The blob sha the summary was made from.
            sha: Sha,
        }
        optional {
            /// How the watercooler tools' reading and CommonMark's differ (0 for every
            /// file this service wrote).
            warnings: usize,
            /// Accepted writes not committed yet (listings add them).
            pending: usize,
            /// Where the thread stands for the agent who asked: new_entries, your_turn
            /// or waiting (the MCP listing adds it).
            section: String,
        }
    }
}

impl ThreadSummary {
    /// The summary of a thread file; `None` when the file is not a thread.
    pub fn of(topic: &str, sha: &str, content: &str) -> Option<ThreadSummary> {
        let reading = thread::read(content);
        let t = &reading.thread;
        if !t.header.is_thread() {
            return None;
        }
        let last = t.entries.last();
        Some(ThreadSummary {
            topic: topic.to_string(),
            status: t.header.status().unwrap_or("").to_string(),
            ball: t.header.ball().unwrap_or("").to_string(),
            open: t.is_open(),
            entries: t.entries.len(),
            last_entry_at: last.map(|e| e.timestamp.clone()),
            last_author: last.map(|e| e.author.clone()),
            last_title: last.and_then(|e| e.title.clone()),
            new_for_ball: t.has_news_for_ball(),
            sha: Sha::from(sha),
            warnings: Some(reading.warnings.len()),
            pending: Some(0),
            section: None,
        })
    }
}
