//! Events: what happened on a branch's threads, in the order the writer saw it, for
//! agents that wait for their turn instead of polling.
//!
//! Every accepted write makes its event at once (before its commit); changes pushed
//! from outside make theirs when a webhook or a poll brings them in. Each event has
//! a cursor, one number per repository and branch that only grows. Waiters are woken
//! by [`Wakers`]; waiting costs no GitHub requests.

use crate::schema::Schema;
use crate::thread::{agent, Author, Operation, Thread};
use futures::channel::oneshot;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;

/// What an event reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// An entry was appended (it carries the ball after it).
    Entry,
    /// The Status header changed.
    Status,
    /// The Ball header changed without an entry.
    Ball,
    /// A thread was created (the event carries its first entry).
    ThreadCreated,
    /// The accepted writes on a thread reached git (`commit` names the commit).
    /// Only waiters that ask for them get these (a page showing pending entries).
    Committed,
}

impl Schema for EventKind {
    fn schema() -> serde_json::Value {
        serde_json::json!({"type": "string", "enum": ["entry", "status", "ball", "thread_created", "committed"]})
    }
}

crate::record! {
    /// One thing that happened on a thread.
    pub struct Event {
        required {
            /// Opaque; pass the latest as `since` to get what came after.
            cursor: String,
            /// entry, status, ball or thread_created.
            kind: EventKind,
            /// The thread.
            topic: String,
            /// When it happened (UTC, RFC 3339).
            at: String,
        }
        optional {
            /// The entry's id (entry and thread_created).
            entry_id: String,
            /// Who wrote it, as `Agent (user)`.
            author: String,
            /// The entry's title.
            title: String,
            /// Who holds the ball after it.
            ball: String,
            /// The thread's status after it.
            status: String,
            /// Accepted but not committed yet.
            pending: bool,
            /// The commit (committed events).
            commit: String,
        }
    }
}

impl Event {
    /// A new event (its cursor is given when it is stored).
    pub fn new(kind: EventKind, topic: &str, at: &str) -> Event {
        Event {
            cursor: String::new(),
            kind,
            topic: topic.to_string(),
            at: at.to_string(),
            entry_id: None,
            author: None,
            title: None,
            ball: None,
            status: None,
            pending: None,
            commit: None,
        }
    }

    /// The key that tells one entry's event from another's: its Entry-ID, or
    /// (written without one) its author, time and title. Status and ball events
    /// have none: each change is its own.
    pub fn entry_key(&self) -> Option<String> {
        if !matches!(self.kind, EventKind::Entry | EventKind::ThreadCreated) {
            return None;
        }
        Some(super::search::entry_key(
            &self.topic,
            self.entry_id.as_deref(),
            self.author.as_deref().unwrap_or(""),
            &self.at,
            self.title.as_deref().unwrap_or(""),
        ))
    }

    /// Whether it makes it `me`'s turn, or is new for `me` (`Agent (user)`): the
    /// ball is `me`'s after it, and someone else did it. The same rule as the
    /// "your turn" and "new for you" sections of the thread list.
    pub fn concerns(&self, me: &str) -> bool {
        let same = |a: &str| a.trim().eq_ignore_ascii_case(me.trim());
        self.ball.as_deref().is_some_and(same) && !self.author.as_deref().is_some_and(same)
    }
}

/// The header state the writer knows of a thread: enough to tell what a write
/// changes without reading the file again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// The Ball header.
    pub ball: Option<String>,
    /// The Status header.
    pub status: Option<String>,
    /// How many entries the thread has.
    #[serde(default)]
    pub entries: u64,
}

impl Head {
    /// The head of a parsed thread.
    pub fn of(t: &Thread) -> Head {
        Head {
            ball: t.header.ball().map(|b| b.trim().to_string()),
            status: t.header.status().map(|s| s.trim().to_string()),
            entries: t.entries.len() as u64,
        }
    }
}

/// The status a new thread starts with (see `render::new_thread`).
const NEW_THREAD_STATUS: &str = "OPEN";

/// The events an accepted operation makes, and the head after it. `before` is the
/// thread's head (`None`: the thread does not exist yet); `at` is the entry's time.
pub fn of_operation(
    topic: &str,
    author: &Author,
    op: &Operation,
    entry_id: Option<&str>,
    at: &str,
    before: Option<&Head>,
) -> (Vec<Event>, Head) {
    let who = author.display();
    let mut head = before.cloned().unwrap_or_else(|| Head {
        ball: Some(agent::counterpart(&who)),
        status: Some(NEW_THREAD_STATUS.into()),
        entries: 0,
    });
    let kind = match before {
        None => EventKind::ThreadCreated,
        Some(_) => EventKind::Entry,
    };
    let mut e = Event::new(kind, topic, at);
    e.author = Some(who.clone());
    e.pending = Some(true);
    match op {
        Operation::Say { title, .. } => {
            head.ball = Some(agent::counterpart(&who));
            e.title = Some(title.clone());
        }
        Operation::Ack { title, .. } => {
            e.title = Some(title.clone().unwrap_or_else(|| "Ack".into()));
        }
        Operation::Handoff { target, .. } => {
            let to = match target {
                Some(t) => agent::resolve_target(t, &author.user),
                None => {
                    // As `ops::draft` resolves it: the holder's counterpart, tagged.
                    let other = agent::counterpart(head.ball.as_deref().unwrap_or(&who));
                    agent::validate_author(&other, &author.user).unwrap_or(other)
                }
            };
            e.title = Some(format!("Handoff to {to}"));
            head.ball = Some(to);
        }
        Operation::SetStatus { status } => {
            let status = status.to_uppercase();
            if before.is_none() || head.status.as_deref() == Some(status.as_str()) {
                // A missing thread gets no status (the write fails), and the same
                // status again changes nothing.
                return (vec![], head);
            }
            head.status = Some(status);
            e.kind = EventKind::Status;
        }
    }
    if op.appends_entry() {
        e.entry_id = entry_id.map(str::to_string);
        head.entries += 1;
    }
    e.ball = head.ball.clone();
    e.status = head.status.clone();
    (vec![e], head)
}

/// The events an outside change brought to a thread, as the writer sees it: `head`
/// is the header it knew (`None`: nothing), `known` the entry keys it knew (see
/// [`super::search::entry_key`]), `existed` whether the file was there before the
/// change. Entries it did not know are told (by Entry-ID, or author, time and title);
/// header changes against the head it knew. Knowing nothing of a thread that
/// existed, only its last entry is told (the earlier ones are not news); a new one is
/// told whole. `now` stamps header changes.
pub fn of_outside(
    topic: &str,
    head: Option<&Head>,
    known: &[String],
    existed: bool,
    after: &Thread,
    now: &str,
) -> Vec<Event> {
    let new_head = Head::of(after);
    let stamp = |mut e: Event| {
        e.ball = new_head.ball.clone();
        e.status = new_head.status.clone();
        e.pending = Some(false);
        e
    };
    let entry_event = |kind, x: &crate::thread::Entry| {
        let mut e = Event::new(kind, topic, &super::search::normal_time(&x.timestamp));
        e.entry_id = x.entry_id.clone();
        e.author = Some(x.author.trim().to_string());
        e.title = x.title.clone();
        stamp(e)
    };
    let blind = head.is_none() && known.is_empty();
    if blind && !existed {
        let mut out = vec![];
        let mut entries = after.entries.iter();
        out.push(match entries.next() {
            Some(x) => entry_event(EventKind::ThreadCreated, x),
            None => stamp(Event::new(EventKind::ThreadCreated, topic, now)),
        });
        out.extend(entries.map(|x| entry_event(EventKind::Entry, x)));
        return out;
    }
    let candidates = match blind {
        true => after.entries.last().into_iter().collect::<Vec<_>>(),
        false => after.entries.iter().collect(),
    };
    let mut out: Vec<Event> = candidates
        .into_iter()
        .map(|x| entry_event(EventKind::Entry, x))
        .filter(|e| e.entry_key().is_some_and(|k| !known.contains(&k)))
        .collect();
    if let Some(old) = head {
        if old.status != new_head.status {
            out.push(stamp(Event::new(EventKind::Status, topic, now)));
        }
        if old.ball != new_head.ball && out.is_empty() {
            out.push(stamp(Event::new(EventKind::Ball, topic, now)));
        }
    }
    out
}

/// Waiters on a writer: each listens once, and every new event wakes them all.
#[derive(Debug, Default)]
pub struct Wakers {
    waiting: RefCell<Vec<oneshot::Sender<()>>>,
}

impl Wakers {
    /// A signal that fires at the next [`Wakers::wake`].
    pub fn listen(&self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        let mut waiting = self.waiting.borrow_mut();
        // Waiters whose time ran out are gone: they are not kept until the next wake.
        waiting.retain(|tx| !tx.is_canceled());
        waiting.push(tx);
        rx
    }

    /// Wakes everyone listening.
    pub fn wake(&self) {
        for tx in self.waiting.borrow_mut().drain(..) {
            let _ = tx.send(());
        }
    }

    /// How many are listening (gone listeners included until the next listen or wake).
    pub fn len(&self) -> usize {
        self.waiting.borrow().len()
    }

    /// Whether nobody listens.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A cursor as clients send it back.
pub fn parse_cursor(s: &str) -> Option<u64> {
    let s = s.trim();
    (!s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::thread::parse;

    fn alice(agent: &str) -> Author {
        Author {
            agent: agent.into(),
            user: "alice".into(),
        }
    }

    fn say(title: &str) -> Operation {
        Operation::Say {
            title: title.into(),
            body: "b".into(),
            role: "planner".into(),
            entry_type: "Note".into(),
        }
    }

    #[test]
    fn a_say_on_a_new_thread_creates_it_and_passes_the_ball() {
        let (events, head) = of_operation(
            "t",
            &alice("Claude"),
            &say("Plan"),
            Some("01ID"),
            "2026-01-01T00:00:00Z",
            None,
        );
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.kind, EventKind::ThreadCreated);
        assert_eq!(e.ball.as_deref(), Some("Codex (alice)"));
        assert_eq!(e.entry_id.as_deref(), Some("01ID"));
        assert_eq!(e.pending, Some(true));
        assert!(e.concerns("codex (alice)"));
        assert!(!e.concerns("Claude (alice)"));
        assert_eq!(head.status.as_deref(), Some("OPEN"));
    }

    #[test]
    fn acks_keep_the_ball_and_handoffs_move_it() {
        let before = Head {
            ball: Some("Codex (alice)".into()),
            status: Some("OPEN".into()),
            entries: 1,
        };
        let ack = Operation::Ack {
            title: None,
            body: None,
        };
        let (events, head) = of_operation("t", &alice("Claude"), &ack, None, "x", Some(&before));
        assert_eq!(events[0].kind, EventKind::Entry);
        assert_eq!(
            head,
            Head {
                entries: 2,
                ..before.clone()
            }
        );
        assert!(events[0].concerns("Codex (alice)"), "new for the holder");
        let handoff = Operation::Handoff {
            target: None,
            note: None,
        };
        let (events, head) = of_operation("t", &alice("Codex"), &handoff, None, "x", Some(&before));
        assert_eq!(head.ball.as_deref(), Some("Claude (alice)"));
        assert_eq!(
            events[0].title.as_deref(),
            Some("Handoff to Claude (alice)")
        );
    }

    #[test]
    fn a_status_event_only_when_it_changes() {
        let before = Head {
            ball: Some("Codex (alice)".into()),
            status: Some("OPEN".into()),
            entries: 1,
        };
        let set = |s: &str| Operation::SetStatus { status: s.into() };
        let (same, _) = of_operation("t", &alice("Team"), &set("open"), None, "x", Some(&before));
        assert!(same.is_empty());
        let (closed, head) = of_operation(
            "t",
            &alice("Team"),
            &set("closed"),
            None,
            "x",
            Some(&before),
        );
        assert_eq!(closed[0].kind, EventKind::Status);
        assert_eq!(closed[0].entry_id, None);
        assert_eq!(head.status.as_deref(), Some("CLOSED"));
        let (missing, _) = of_operation("t", &alice("Team"), &set("closed"), None, "x", None);
        assert!(missing.is_empty());
    }

    const BEFORE: &str = "# t — Thread\nStatus: OPEN\nBall: Codex (bob)\n\n---\n\nEntry: Claude (bob) 2026-01-01T00:00:00Z\nRole: planner\nType: Note\nTitle: One\n\nfirst\n<!-- Entry-ID: 01A -->\n";

    fn known(t: &Thread) -> Vec<String> {
        crate::writer::search::docs_of("t", t)
            .iter()
            .map(|d| d.key())
            .collect()
    }

    #[test]
    fn outside_changes_are_told_against_what_the_writer_knew() {
        let before = parse(BEFORE);
        let after_text = format!("{BEFORE}\n---\n\nEntry: Codex (bob) 2026-01-01T00:01:00Z\nRole: implementer\nType: Note\nTitle: Two\n\nsecond\n")
            .replace("Ball: Codex (bob)", "Ball: Claude (bob)");
        let after = parse(&after_text);
        let head = Head::of(&before);
        let events = of_outside("t", Some(&head), &known(&before), true, &after, "now");
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].title.as_deref(), Some("Two"));
        assert_eq!(events[0].ball.as_deref(), Some("Claude (bob)"));
        assert_eq!(events[0].pending, Some(false));
        let now_known = (Head::of(&after), known(&after));
        assert!(of_outside("t", Some(&now_known.0), &now_known.1, true, &after, "now").is_empty());
        // A header edit alone.
        let closed = parse(&after_text.replace("Status: OPEN", "Status: CLOSED"));
        let events = of_outside("t", Some(&now_known.0), &now_known.1, true, &closed, "now");
        let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [EventKind::Status]);
        // Knowing nothing: a new thread is told whole, an old one by its last entry.
        let kinds = |e: Vec<Event>| e.iter().map(|e| e.kind).collect::<Vec<_>>();
        assert_eq!(
            kinds(of_outside("t", None, &[], false, &after, "now")),
            [EventKind::ThreadCreated, EventKind::Entry]
        );
        let last = of_outside("t", None, &[], true, &after, "now");
        assert_eq!((last.len(), last[0].title.as_deref()), (1, Some("Two")));
    }

    #[test]
    fn wakers_wake_everyone_once() {
        let w = Wakers::default();
        let (mut a, mut b) = (w.listen(), w.listen());
        assert_eq!(a.try_recv(), Ok(None));
        w.wake();
        assert_eq!((a.try_recv(), b.try_recv()), (Ok(Some(())), Ok(Some(()))));
        assert!(w.is_empty());
        // Listeners that gave up are dropped at the next listen, not kept for ever.
        for _ in 0..100 {
            drop(w.listen());
        }
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn cursors_are_plain_numbers() {
        assert_eq!(parse_cursor("42"), Some(42));
        for bad in ["", "-1", "4 2", "x", "999999999999999999999"] {
            assert_eq!(parse_cursor(bad), None, "{bad}");
        }
    }
}
