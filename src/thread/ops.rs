//! The four write operations as pure functions of the current file content.
//!
//! `apply` takes the file as it is now (or `None` when it does not exist) and returns
//! the new content, following the ball rules of the thread format. It is the piece the
//! write path re-runs on fresh content after a conflict, so it must be deterministic
//! for a given input, timestamp and entry id.

use super::reading::{self, EntryKey, Readings};
use super::text::{py_rstrip, LineEnding};
use super::tools_reader::{self, ToolsReading};
use super::{agent, parse, render};

/// Defaults shared with the local watercooler tools.
pub const DEFAULT_ROLE: &str = "implementer";
/// The entry type when none is given.
pub const DEFAULT_TYPE: &str = "Note";
/// The title of an ack that gives none.
pub const ACK_TITLE: &str = "Ack";
/// The body of an ack that gives none.
pub const ACK_BODY: &str = "ack";
/// The role of a handoff's entry.
pub const HANDOFF_ROLE: &str = "pm";

/// Who writes: a canonical agent name and the user its token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Author {
    /// The canonical agent name.
    pub agent: String,
    /// The user the token belongs to.
    pub user: String,
}

impl Author {
    /// `Agent (user)`.
    pub fn display(&self) -> String {
        agent::author(&self.agent, &self.user)
    }
}

/// A write operation on one thread.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Operation {
    /// Append an entry; the ball moves to the author's counterpart. Creates the thread.
    Say {
        /// The entry's title.
        title: String,
        /// The entry's body.
        body: String,
        /// The entry's role.
        role: String,
        /// The entry's type.
        entry_type: String,
    },
    /// Append an acknowledgement; the ball stays.
    Ack {
        /// The entry's title (`None`: "Ack").
        title: Option<String>,
        /// The entry's body (`None`: "ack").
        body: Option<String>,
    },
    /// Move the ball to `target` (or the current holder's counterpart) with an entry.
    Handoff {
        /// Who gets the ball (`None`: the current holder's counterpart).
        target: Option<String>,
        /// The entry's body (`None`: "handoff to <target>").
        note: Option<String>,
    },
    /// Change the Status header line; no entry.
    SetStatus {
        /// The new status (written uppercase).
        status: String,
    },
}

impl Operation {
    /// The short name used in commit messages and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Operation::Say { .. } => "say",
            Operation::Ack { .. } => "ack",
            Operation::Handoff { .. } => "handoff",
            Operation::SetStatus { .. } => "set_status",
        }
    }

    /// Whether the operation appends an entry (and so carries an Entry-ID).
    pub fn appends_entry(&self) -> bool {
        !matches!(self, Operation::SetStatus { .. })
    }

    /// Whether the operation may create a missing thread.
    pub fn creates_thread(&self) -> bool {
        matches!(self, Operation::Say { .. })
    }
}

/// Everything `apply` needs besides the current content.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    /// The thread's topic.
    pub topic: &'a str,
    /// Who writes.
    pub author: &'a Author,
    /// What to do.
    pub op: &'a Operation,
    /// Entry-ID for entry-appending operations.
    pub entry_id: Option<&'a str>,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub timestamp: &'a str,
}

/// What applying a change to the current content gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The new file content, and a one-line title for the commit message.
    Content {
        /// The new file content.
        content: String,
        /// The one-line title for the commit message.
        title: String,
    },
    /// Nothing to write: the status already has the requested value.
    Unchanged,
    /// Nothing to write: the thread already has an entry with this Entry-ID.
    AlreadyThere(Presence),
}

/// What the entry already in the thread under the change's Entry-ID is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// This very change (same author, time and content): an earlier attempt landed
    /// although its answer was lost.
    Landed,
    /// The same entry, sent earlier: this is a replay.
    SameEntry,
    /// Another entry holds the id.
    Conflict(String),
}

/// Why a change cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyError {
    /// Only `say` creates threads.
    ThreadMissing,
    /// The file exists but has no thread header.
    NotAThread,
    /// The result would not read back as the thread plus exactly this change.
    WouldCorrupt(String),
    /// The append would make the file larger than the limit.
    TooLarge {
        /// The size the file would have, in bytes.
        size: usize,
        /// The limit, in bytes.
        max: usize,
    },
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApplyError::ThreadMissing => write!(
                f,
                "thread does not exist; create it by posting an entry (say)"
            ),
            ApplyError::NotAThread => write!(
                f,
                "the file for this topic is not a thread (it has no thread header: a `# <topic> — Thread` line, or Status: and Ball: lines); choose another topic"
            ),
            ApplyError::WouldCorrupt(why) => write!(f, "{why}"),
            ApplyError::TooLarge { size, max } => write!(
                f,
                "this entry would make the thread {size} bytes, over the limit of {max} bytes (MAX_THREAD_BYTES): close this thread (set its status to CLOSED) and continue in a new one whose first entry links back to it"
            ),
        }
    }
}

impl std::error::Error for ApplyError {}

/// The parts of the entry a change appends, and the header line it sets.
struct Draft {
    role: String,
    entry_type: String,
    title: String,
    body: String,
    /// `Ball` or `Status`, and the value.
    header: Option<(&'static str, String)>,
}

/// The entry fields a change fixes whatever the thread holds (a handoff without a
/// target takes its title from the current Ball): used to recognise a replay.
fn fixed_fields(op: &Operation, user: &str) -> (String, String, Option<String>, Option<String>) {
    match op {
        Operation::Say {
            title,
            body,
            role,
            entry_type,
        } => (
            role.clone(),
            entry_type.clone(),
            Some(title.clone()),
            Some(body.clone()),
        ),
        Operation::Ack { title, body } => (
            DEFAULT_ROLE.into(),
            DEFAULT_TYPE.into(),
            Some(title.clone().unwrap_or_else(|| ACK_TITLE.into())),
            Some(body.clone().unwrap_or_else(|| ACK_BODY.into())),
        ),
        Operation::Handoff { target, note } => {
            let target = target.as_deref().map(|t| agent::resolve_target(t, user));
            (
                HANDOFF_ROLE.into(),
                DEFAULT_TYPE.into(),
                target.as_ref().map(|t| format!("Handoff to {t}")),
                note.clone()
                    .or_else(|| target.map(|t| format!("handoff to {t}"))),
            )
        }
        Operation::SetStatus { .. } => (String::new(), String::new(), None, None),
    }
}

/// Classifies the entry that already holds the change's Entry-ID.
fn presence(change: &Change<'_>, base: &str, readings: Readings, id: &str) -> Presence {
    let author = change.author.display();
    let served = readings.served(base);
    let Some(e) = served
        .thread
        .entries
        .iter()
        .find(|e| e.entry_id.as_deref() == Some(id))
    else {
        return Presence::Conflict(format!(
            "entry_id {id} is already in this thread, in an entry the watercooler tools drop or read without it: leave entry_id out, or send a new one"
        ));
    };
    let (role, entry_type, title, body) = fixed_fields(change.op, &change.author.user);
    let same = e.author == author
        && e.role.as_deref() == Some(role.as_str())
        && e.entry_type.as_deref() == Some(entry_type.as_str())
        && title.is_none_or(|t| e.title.as_deref() == Some(t.as_str()))
        && body.is_none_or(|b| comparable_body(&e.body) == comparable_body(&b));
    if !same {
        Presence::Conflict(format!(
            "entry_id {id} is already used on this thread by another entry (line {}, by {} at {}): leave entry_id out, or send a new one",
            reading::line_number(base, e.line),
            e.author,
            e.timestamp
        ))
    } else if e.timestamp == change.timestamp {
        Presence::Landed
    } else {
        Presence::SameEntry
    }
}

/// A body as both readers give it back, whoever wrote it: no leading blank lines, no
/// trailing whitespace, no trailing `---` line.
fn comparable_body(body: &str) -> &str {
    let mut b = py_rstrip(body);
    if let Some(rest) = b
        .strip_suffix("---")
        .filter(|r| r.is_empty() || r.ends_with('\n'))
    {
        b = py_rstrip(rest);
    }
    let mut start = 0;
    for (s, e, next) in super::text::line_spans(b, 0) {
        if !b[s..e].trim().is_empty() {
            break;
        }
        start = next;
    }
    &b[start.min(b.len())..]
}

/// Applies a change to the current content (`None`: the file does not exist).
pub fn apply(change: &Change<'_>, current: Option<&str>) -> Result<Applied, ApplyError> {
    apply_reusing(change, current, None).map(|(applied, _)| applied)
}

/// [`apply`], for a batch that applies one change after another to the same file:
/// `known` are the readings of `current` the previous change gave back (they are
/// read again when absent), and the answer carries the readings of the new content
/// (of `current`, when nothing is written; none when the entry is already there).
/// The checks are the same; only the reading of the file before is not repeated.
pub fn apply_reusing(
    change: &Change<'_>,
    current: Option<&str>,
    known: Option<Readings>,
) -> Result<(Applied, Option<Readings>), ApplyError> {
    let current = current.filter(|c| !c.trim().is_empty());
    let author = change.author.display();
    let (base, known) = match current {
        Some(c) => (c.to_string(), known),
        None if change.op.creates_thread() => (
            render::new_thread(change.topic, &agent::counterpart(&author), change.timestamp),
            None,
        ),
        None => return Err(ApplyError::ThreadMissing),
    };
    let before = known.unwrap_or_else(|| Readings::of(&base));
    if !before.ours.header.is_thread() {
        return Err(ApplyError::NotAThread);
    }
    if let Some(id) = change.entry_id.filter(|id| before.has_entry_id(id)) {
        return Ok((
            Applied::AlreadyThere(presence(change, &base, before, id)),
            None,
        ));
    }

    let draft = draft(change, &author, &before)?;
    if let (Operation::SetStatus { .. }, Some((_, status))) = (change.op, &draft.header) {
        if before.ours.header.status() == Some(status.as_str()) {
            return Ok((Applied::Unchanged, Some(before)));
        }
    }
    let limit = before.first_entry_start(&base);
    let edited = match &draft.header {
        Some((key, value)) => render::set_header_field(&base, key, value, limit),
        None => base.clone(),
    };
    let delta = edited.len() as isize - base.len() as isize;
    if !change.op.appends_entry() {
        let after = check(&before, &edited, delta, None, draft.header.as_ref())?;
        return Ok((
            Applied::Content {
                content: edited,
                title: draft.title,
            },
            Some(after),
        ));
    }

    append_entry(change, &author, &before, &edited, draft, delta)
}

/// The append half of [`apply_reusing`]: the entry block after `edited` (the file with
/// its header edit), checked under both readings.
fn append_entry(
    change: &Change<'_>,
    author: &str,
    before: &Readings,
    edited: &str,
    draft: Draft,
    delta: isize,
) -> Result<(Applied, Option<Readings>), ApplyError> {
    let block = render::entry_block(&render::EntryDraft {
        author,
        timestamp: change.timestamp,
        role: &draft.role,
        entry_type: &draft.entry_type,
        title: &draft.title,
        body: &draft.body,
        entry_id: change.entry_id,
    });
    // The fences left open by the text the block will follow: the file without its
    // trailing whitespace (which the append strips, and which may hold a line break).
    let kept = py_rstrip(edited);
    let closers = fence_closers(
        parse::open_fence_at_end(kept),
        tools_reader::open_fence_at_end(kept).map(|f| (f.marker, f.len)),
    );
    let content = render::append(edited, &closers, &block);
    let new_line = content.len() - LineEnding::of(edited).apply(&block).len()
        + "---".len()
        + LineEnding::of(edited).as_str().len();
    let expected = EntryKey {
        line: new_line,
        author,
        timestamp: change.timestamp,
        role: Some(&draft.role),
        entry_type: Some(&draft.entry_type),
        title: Some(&draft.title),
        entry_id: change.entry_id,
    };
    let after = check(
        before,
        &content,
        delta,
        Some(expected),
        draft.header.as_ref(),
    )?;
    Ok((
        Applied::Content {
            content,
            title: draft.title,
        },
        Some(after),
    ))
}

/// What the change writes: the entry's parts and the header line it sets.
fn draft(change: &Change<'_>, author: &str, before: &Readings) -> Result<Draft, ApplyError> {
    let entry = |role: &str, entry_type: &str, title: String, body: String, header| Draft {
        role: role.to_string(),
        entry_type: entry_type.to_string(),
        title,
        body,
        header,
    };
    Ok(match change.op {
        Operation::Say {
            title,
            body,
            role,
            entry_type,
        } => entry(
            role,
            entry_type,
            title.clone(),
            body.clone(),
            Some(("Ball", agent::counterpart(author))),
        ),
        Operation::Ack { title, body } => entry(
            DEFAULT_ROLE,
            DEFAULT_TYPE,
            title.clone().unwrap_or_else(|| ACK_TITLE.into()),
            body.clone().unwrap_or_else(|| ACK_BODY.into()),
            None,
        ),
        Operation::Handoff { target, note } => {
            let target = match target {
                Some(t) => agent::resolve_target(t, &change.author.user),
                None => {
                    let ball = before.ours.header.ball().unwrap_or(author);
                    agent::validate_author(&agent::counterpart(ball), &change.author.user)
                        .map_err(|e| ApplyError::WouldCorrupt(format!(
                            "the thread's Ball is {ball:?}, whose counterpart is not a valid handoff target ({e}): name the target explicitly"
                        )))?
                }
            };
            let body = note
                .clone()
                .unwrap_or_else(|| format!("handoff to {target}"));
            entry(
                HANDOFF_ROLE,
                DEFAULT_TYPE,
                format!("Handoff to {target}"),
                body,
                Some(("Ball", target)),
            )
        }
        Operation::SetStatus { status } => {
            let status = status.to_uppercase();
            entry(
                "",
                "",
                format!("Status {status}"),
                String::new(),
                Some(("Status", status)),
            )
        }
    })
}

/// Lines that close the code block a file leaves open, so that what is appended reads
/// as text in both readings. `ours` is CommonMark's open fence (marker byte, run
/// length), `tools` the watercooler tools' (marker, run length). A line indented by
/// four spaces closes a fence for the tools (they ignore indentation) but is never a
/// fence line for CommonMark.
pub fn fence_closers(ours: Option<(u8, usize)>, tools: Option<(char, usize)>) -> Vec<String> {
    let run = |m: char, n: usize| String::from(m).repeat(n);
    match (ours.map(|(m, n)| (m as char, n)), tools) {
        (None, None) => vec![],
        (None, Some((m, n))) => vec![format!("    {}", run(m, n))],
        (Some((m, n)), None) => vec![run(m, n), format!("    {}", run(m, n))],
        (Some((m, n)), Some((t, k))) if m == t => vec![run(m, n.max(k))],
        (Some((m, n)), Some((t, k))) => vec![run(m, n), format!("    {}", run(t, k))],
    }
}

/// The file after the change must read as the file before, entry for entry (shifted
/// by the header edit), plus exactly the expected new entry: under the tools' reading
/// always, and under CommonMark too when the two agreed before. The header line set
/// must read back as set.
fn check(
    before: &Readings,
    after: &str,
    delta: isize,
    new: Option<EntryKey<'_>>,
    header: Option<&(&'static str, String)>,
) -> Result<Readings, ApplyError> {
    let tools = tools_reader::read(after);
    let tools_view = (&before.tools.entries[..], &tools.entries[..]);
    same_entries(
        after,
        "the watercooler tools",
        tools_view,
        EntryKey::of_tools,
        delta,
        new,
    )?;
    let dropped = |r: &ToolsReading, d: isize| -> Vec<usize> {
        r.duplicates
            .iter()
            .map(|e| e.line.saturating_add_signed(d))
            .collect()
    };
    // An append closes every code block; a header edit leaves them as they were.
    let fence_ok = match new {
        Some(_) => tools.open_fence.is_none(),
        None => {
            tools.open_fence.map(|f| (f.marker, f.len))
                == before.tools.open_fence.map(|f| (f.marker, f.len))
        }
    };
    if dropped(&tools, 0) != dropped(&before.tools, delta) || !fence_ok {
        return Err(corrupt(
            after,
            "the watercooler tools",
            tools.open_fence.map_or(after.len(), |f| f.at),
        ));
    }
    let ours = parse::parse(after);
    if before.agree() {
        let ours_view = (&before.ours.entries[..], &ours.entries[..]);
        same_entries(
            after,
            "this service (CommonMark)",
            ours_view,
            EntryKey::of_ours,
            delta,
            new,
        )?;
    }
    if let Some((key, value)) = header {
        if ours.header.get(key) != Some(value.as_str()) {
            return Err(ApplyError::WouldCorrupt(format!(
                "the thread's header would not read back with {key}: {value}; check the file's header lines"
            )));
        }
    }
    // The readings of the new content, for the next change of a batch.
    let warnings = super::reading::disagreements(after, &ours, &tools);
    Ok(Readings {
        ours,
        tools,
        warnings,
    })
}

/// Checks that one reader sees in `s` the entries it saw before (`then`,
/// moved by `delta` lines), followed by `new`, and nothing else.
fn same_entries<'a, E>(
    s: &str,
    reader: &str,
    (then, now): (&'a [E], &'a [E]),
    key: fn(&'a E) -> EntryKey<'a>,
    delta: isize,
    new: Option<EntryKey<'a>>,
) -> Result<(), ApplyError> {
    let mut want: Vec<EntryKey> = then.iter().map(|e| key(e).shifted(delta)).collect();
    want.extend(new);
    let got: Vec<EntryKey> = now.iter().map(key).collect();
    compare(s, reader, &want, &got)
}

fn compare(s: &str, reader: &str, want: &[EntryKey], got: &[EntryKey]) -> Result<(), ApplyError> {
    match want.iter().zip(got).position(|(a, b)| a != b) {
        None if want.len() == got.len() => Ok(()),
        Some(i) => Err(corrupt(s, reader, want[i].line.min(got[i].line))),
        None => {
            let i = want.len().min(got.len());
            let at = want.get(i).or(got.get(i)).map_or(s.len(), |e| e.line);
            Err(corrupt(s, reader, at))
        }
    }
}

fn corrupt(s: &str, reader: &str, at: usize) -> ApplyError {
    ApplyError::WouldCorrupt(format!(
        "the thread would not read as before plus exactly this entry for {reader} (the difference starts at line {} of the file): check the text for code fences (``` or ~~~) and for lines that start with 'Entry:' and end with a timestamp",
        reading::line_number(s, at)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn author(agent: &str) -> Author {
        Author {
            agent: agent.into(),
            user: "mira".into(),
        }
    }

    fn run(
        current: Option<&str>,
        agent: &str,
        op: Operation,
        id: Option<&str>,
        ts: &str,
    ) -> String {
        let a = author(agent);
        let change = Change {
            topic: "release-plan",
            author: &a,
            op: &op,
            entry_id: id,
            timestamp: ts,
        };
        match apply(&change, current).unwrap() {
            Applied::Content { content, .. } => content,
            other => panic!("{other:?}"),
        }
    }

    fn say(title: &str, body: &str, role: &str, entry_type: &str) -> Operation {
        Operation::Say {
            title: title.into(),
            body: body.into(),
            role: role.into(),
            entry_type: entry_type.into(),
        }
    }

    #[test]
    fn reproduces_the_reference_sample_byte_for_byte() {
        let s = run(
            None,
            "Claude",
            say(
                "Cut a release candidate",
                "Freeze main on Thursday; tag rc1 on Friday.",
                "planner",
                "Plan",
            ),
            Some("01JNB6Q4X7K2M9P3R5T8V0W1YZ"),
            "2026-03-02T09:15:00Z",
        );
        assert!(s.contains("Ball: Codex (mira)\n"));
        let s = run(
            Some(&s),
            "Codex",
            say(
                "Two blockers",
                "The migration test is flaky; the changelog is missing.",
                "critic",
                "Note",
            ),
            Some("01JNB7ZQ0C4D6F8H1J3K5M7N9P"),
            "2026-03-02T09:40:12Z",
        );
        let s = run(
            Some(&s),
            "Codex",
            Operation::SetStatus {
                status: "in_review".into(),
            },
            None,
            "2026-03-02T10:00:00Z",
        );
        let s = run(
            Some(&s),
            "Codex",
            Operation::Handoff {
                target: Some("claude".into()),
                note: None,
            },
            None,
            "2026-03-02T10:02:55Z",
        );
        assert_eq!(s, include_str!("../../tests/fixtures/release-plan.md"));
    }

    #[test]
    fn ack_keeps_the_ball_and_handoff_defaults_to_the_counterpart() {
        let base = include_str!("../../tests/fixtures/release-plan.md");
        let s = run(
            Some(base),
            "claude",
            Operation::Ack {
                title: None,
                body: None,
            },
            Some("01ARZ3NDEKTSV4RRFFQ69G5FAV"),
            "2026-03-03T00:00:00Z",
        );
        let t = parse::parse(&s);
        assert_eq!(t.header.ball(), Some("Claude (mira)"));
        let last = t.entries.last().unwrap();
        assert_eq!(
            (last.title.as_deref(), last.body.as_str()),
            (Some("Ack"), "ack")
        );

        let s = run(
            Some(&s),
            "Claude",
            Operation::Handoff {
                target: None,
                note: Some("over to you".into()),
            },
            Some("01ARZ3NDEKTSV4RRFFQ69G5FAW"),
            "2026-03-03T00:00:01Z",
        );
        let t = parse::parse(&s);
        assert_eq!(t.header.ball(), Some("Codex (mira)"));
        let last = t.entries.last().unwrap();
        assert_eq!(last.role.as_deref(), Some("pm"));
        assert_eq!(last.title.as_deref(), Some("Handoff to Codex (mira)"));
        assert_eq!(last.body, "over to you");
    }

    #[test]
    fn an_entry_id_already_present_is_a_landing_a_replay_or_a_conflict() {
        let a = author("Codex");
        let op = say("x", "y", "critic", "Note");
        let change = |ts| Change {
            topic: "t",
            author: &a,
            op: &op,
            entry_id: Some("01ARZ3NDEKTSV4RRFFQ69G5FAV"),
            timestamp: ts,
        };
        let Ok(Applied::Content { content, .. }) = apply(&change("2026-03-03T00:00:00Z"), None)
        else {
            panic!()
        };
        // The same change again: its own earlier attempt landed.
        assert_eq!(
            apply(&change("2026-03-03T00:00:00Z"), Some(&content)),
            Ok(Applied::AlreadyThere(Presence::Landed))
        );
        // The same entry sent later: a replay.
        assert_eq!(
            apply(&change("2026-03-04T00:00:00Z"), Some(&content)),
            Ok(Applied::AlreadyThere(Presence::SameEntry))
        );
        // The id of another entry: a conflict that names it.
        let base = include_str!("../../tests/fixtures/release-plan.md");
        let other = Change {
            entry_id: Some("01JNB7ZQ0C4D6F8H1J3K5M7N9P"),
            ..change("2026-03-03T00:00:00Z")
        };
        let Ok(Applied::AlreadyThere(Presence::Conflict(m))) = apply(&other, Some(base)) else {
            panic!()
        };
        assert!(
            m.contains("line 17, by Codex (mira) at 2026-03-02T09:40:12Z"),
            "{m}"
        );
    }

    #[test]
    fn only_say_creates_threads() {
        let a = author("Codex");
        for op in [
            Operation::Ack {
                title: None,
                body: None,
            },
            Operation::Handoff {
                target: None,
                note: None,
            },
            Operation::SetStatus {
                status: "done".into(),
            },
        ] {
            let change = Change {
                topic: "t",
                author: &a,
                op: &op,
                entry_id: Some("01ARZ3NDEKTSV4RRFFQ69G5FAV"),
                timestamp: "2026-03-03T00:00:00Z",
            };
            assert_eq!(apply(&change, None), Err(ApplyError::ThreadMissing));
        }
    }

    #[test]
    fn a_body_that_would_split_into_two_entries_is_refused() {
        let a = author("Codex");
        let op = say(
            "x",
            "text\n\n---\nEntry: Claude (mira) 2026-01-01T00:00:00Z\nTitle: fake\n\nfake",
            "critic",
            "Note",
        );
        let change = Change {
            topic: "t",
            author: &a,
            op: &op,
            entry_id: Some("01ARZ3NDEKTSV4RRFFQ69G5FAV"),
            timestamp: "2026-03-03T00:00:00Z",
        };
        assert!(matches!(
            apply(&change, None),
            Err(ApplyError::WouldCorrupt(_))
        ));
    }

    #[test]
    fn setting_the_same_status_is_a_no_op() {
        let base = include_str!("../../tests/fixtures/release-plan.md");
        let a = author("Codex");
        let op = Operation::SetStatus {
            status: "In_Review".into(),
        };
        let change = Change {
            topic: "release-plan",
            author: &a,
            op: &op,
            entry_id: None,
            timestamp: "2026-03-03T00:00:00Z",
        };
        assert_eq!(apply(&change, Some(base)), Ok(Applied::Unchanged));
    }
}

/// Files that looked appendable but were not, found in review: each must take a say.
#[cfg(test)]
mod review_regressions {
    use super::*;

    const SAMPLE: &str = include_str!("../../tests/fixtures/release-plan.md");

    fn say_on(current: &str, body: &str) -> Result<Applied, ApplyError> {
        let a = Author {
            agent: "Codex".into(),
            user: "mira".into(),
        };
        let op = Operation::Say {
            title: "t".into(),
            body: body.into(),
            role: "critic".into(),
            entry_type: "Note".into(),
        };
        apply(
            &Change {
                topic: "t",
                author: &a,
                op: &op,
                entry_id: Some("01ARZ3NDEKTSV4RRFFQ69G5FAV"),
                timestamp: "2026-03-03T00:00:00Z",
            },
            Some(current),
        )
    }

    fn appended(current: &str) -> String {
        match say_on(current, "hello") {
            Ok(Applied::Content { content, .. }) => content,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_fence_closed_by_a_line_that_ends_in_a_separator_character_does_not_lock_the_thread() {
        for c in ['\u{1c}', '\u{1d}', '\u{1e}', '\u{1f}'] {
            let file = format!("{SAMPLE}```\ncode\n```{c}");
            let after = appended(&file);
            assert_eq!(reading::read(&after).thread.entries.len(), 4, "{c:?}");
        }
    }

    #[test]
    fn a_header_line_broken_by_a_character_only_the_tools_break_at_keeps_its_entry() {
        for file in [
            "# t \u{2014} Thread\nStatus: OPEN\nBall: Codex (u)\u{2028}Entry: A (u) 2026-01-01T00:00:00Z\nTitle: x\n\nbody\n",
            "# t \u{2014} Thread\nStatus: OPEN\u{2028}Entry: A (u) 2026-01-01T00:00:00Z\nTitle: x\n\nbody\n",
        ] {
            let after = appended(file);
            let tools = tools_reader::read(&after);
            assert_eq!(tools.entries.len(), 2, "{after:?}");
            assert_eq!(tools.entries[0].agent, "A (u)");
        }
    }

    #[test]
    fn a_lost_answer_is_recognised_whatever_blank_lines_lead_the_body() {
        for body in ["\nhello", "  \nhello", "hello\n---"] {
            let Ok(Applied::Content { content, .. }) = say_on(SAMPLE, body) else {
                panic!("{body:?}")
            };
            assert_eq!(
                say_on(&content, body),
                Ok(Applied::AlreadyThere(Presence::Landed)),
                "{body:?}"
            );
        }
    }

    #[test]
    fn a_file_with_lone_cr_line_breaks_is_a_thread_and_stays_cr() {
        let file = SAMPLE.replace('\n', "\r");
        let after = appended(&file);
        assert!(!after.contains('\n'), "{after:?}");
        assert_eq!(parse::parse(&after).entries.len(), 4);
        assert_eq!(tools_reader::read(&after).entries.len(), 4);
    }
}
