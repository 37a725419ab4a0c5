//! Planning a group commit: apply every pending operation, in arrival order, to the
//! current content of its thread. One thread's bad operation never holds back
//! another's.

use super::journal::Queued;
use crate::github::Sha;
use crate::thread::ops::apply_reusing;
use crate::thread::reading::Readings;
use crate::thread::{Applied, ApplyError, Presence, Topic};
use std::collections::BTreeMap;

/// `<Agent (user)>: <title> (<topic>)`, a blank line, then the trailers.
pub fn commit_message(author: &str, title: &str, topic: &str, entry_id: Option<&str>) -> String {
    let mut m = format!("{author}: {title} ({topic})\n\n");
    if let Some(id) = entry_id {
        m.push_str(&format!("Watercooler-Entry-ID: {id}\n"));
    }
    m.push_str(&format!("Watercooler-Topic: {topic}\n"));
    m
}

/// The commit message of a group: a single operation's own, or a summary line, one
/// line per operation, and every trailer.
fn group_message(titles: &[(String, String, &Queued)]) -> String {
    match titles {
        [] => String::new(),
        [(author, title, q)] => commit_message(author, title, &q.topic, q.entry_id.as_deref()),
        many => {
            let mut unique: Vec<&str> = many.iter().map(|(_, _, q)| q.topic.as_str()).collect();
            unique.sort_unstable();
            unique.dedup();
            let mut m = format!(
                "{} watercooler updates ({})\n\n",
                many.len(),
                unique.join(", ")
            );
            for (author, title, q) in many {
                m.push_str(&format!("- {author}: {title} ({})\n", q.topic));
            }
            m.push('\n');
            for (_, _, q) in many {
                if let Some(id) = &q.entry_id {
                    m.push_str(&format!("Watercooler-Entry-ID: {id}\n"));
                }
            }
            for t in unique {
                m.push_str(&format!("Watercooler-Topic: {t}\n"));
            }
            m
        }
    }
}

/// A thread file the commit will write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// The thread's topic.
    pub topic: Topic,
    /// The new content.
    pub content: String,
    /// The blob sha the change was applied to (`None`: a new file).
    pub base_sha: Option<Sha>,
    /// The operations it carries, by seq.
    pub ops: Vec<u64>,
}

/// What one group commit does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// The files to write.
    pub files: Vec<PlannedFile>,
    /// Status changes to the status the thread already has: done without a write.
    pub unchanged: Vec<u64>,
    /// Entry-IDs already in the thread: an earlier attempt landed, a replay, or a
    /// conflict with another entry.
    pub present: Vec<(u64, Presence)>,
    /// Cannot apply (the thread is missing, or the entry would not read back): these
    /// fail, the rest go on.
    pub rejected: Vec<(u64, ApplyError)>,
    /// The commit message: a single operation's own, or a summary with every trailer.
    pub message: String,
}

/// The current state of one thread: its content and blob sha, or `None` if missing.
pub type Current = Option<(String, Sha)>;

/// Limits a plan keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// An append may not make a thread file larger than this. A status change may.
    pub max_thread_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_thread_bytes: super::engine::DEFAULT_MAX_THREAD_BYTES,
        }
    }
}

/// Plans a commit of `pending` (any order; applied by seq) on top of `current`,
/// which must hold every topic they touch.
pub fn plan(pending: &[&Queued], current: &BTreeMap<Topic, Current>, limits: &Limits) -> Plan {
    let mut ordered: Vec<&Queued> = pending.to_vec();
    ordered.sort_by_key(|q| q.seq);
    let mut planner = Planner::new(current, *limits);
    for q in ordered {
        planner.add(q);
    }
    planner.finish()
}

/// Whether an applied append passes the largest thread allowed (it is refused).
fn too_large(a: &Applied, q: &Queued, limits: &Limits) -> bool {
    matches!(a, Applied::Content { content, .. } if too_large_len(content.len(), q, limits))
}

fn too_large_len(len: usize, q: &Queued, limits: &Limits) -> bool {
    q.op.appends_entry() && len > limits.max_thread_bytes
}

/// A plan made one operation at a time (so that a caller may let other work run
/// between two): [`Planner::add`] in seq order, then [`Planner::finish`].
pub struct Planner<'a> {
    current: &'a BTreeMap<Topic, Current>,
    limits: Limits,
    out: Plan,
    titles: Vec<(String, String, &'a Queued)>,
    /// The readings of each topic's content as the plan has it, so the next change
    /// to it need not read the file again.
    readings: BTreeMap<Topic, Readings>,
}

impl<'a> Planner<'a> {
    /// An empty plan on top of `current`.
    pub fn new(current: &'a BTreeMap<Topic, Current>, limits: Limits) -> Self {
        Planner {
            current,
            limits,
            out: Plan::default(),
            titles: vec![],
            readings: BTreeMap::new(),
        }
    }

    /// Applies the next operation (in seq order).
    pub fn add(&mut self, q: &'a Queued) {
        let files = &mut self.out.files;
        let slot = files.iter().position(|f| f.topic == q.topic);
        let (content, base_sha) = match slot {
            Some(i) => (Some(files[i].content.clone()), files[i].base_sha.clone()),
            None => match self.current.get(&q.topic).cloned().flatten() {
                Some((c, sha)) => (Some(c), Some(sha)),
                None => (None, None),
            },
        };
        let change = q.change();
        let known = self.readings.remove(&q.topic);
        let applied = apply_reusing(&change, content.as_deref(), known).map(|(a, readings)| {
            if let (Some(r), false) = (readings, too_large(&a, q, &self.limits)) {
                self.readings.insert(q.topic.clone(), r);
            }
            a
        });
        match applied {
            Ok(Applied::Content { content: after, .. })
                if too_large_len(after.len(), q, &self.limits) =>
            {
                self.out.rejected.push((
                    q.seq,
                    ApplyError::TooLarge {
                        size: after.len(),
                        max: self.limits.max_thread_bytes,
                    },
                ))
            }
            Ok(Applied::Content { content, title }) => {
                self.titles.push((q.author.display(), title, q));
                match slot {
                    Some(i) => {
                        files[i].content = content;
                        files[i].ops.push(q.seq);
                    }
                    None => files.push(PlannedFile {
                        topic: q.topic.clone(),
                        content,
                        base_sha,
                        ops: vec![q.seq],
                    }),
                }
            }
            Ok(Applied::Unchanged) => self.out.unchanged.push(q.seq),
            Ok(Applied::AlreadyThere(p)) => self.out.present.push((q.seq, p)),
            Err(e) => self.out.rejected.push((q.seq, e)),
        }
    }

    /// The plan, with its commit message.
    pub fn finish(mut self) -> Plan {
        self.out.message = group_message(&self.titles);
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::thread::{parse, Author, EntryId, Operation};
    use crate::writer::journal::OpState;

    fn say(seq: u64, topic: &str, agent: &str, title: &str) -> Queued {
        Queued {
            seq,
            topic: Topic::parse(topic).unwrap(),
            author: Author {
                agent: agent.into(),
                user: "mira".into(),
            },
            op: Operation::Say {
                title: title.into(),
                body: format!("body {seq}"),
                role: "implementer".into(),
                entry_type: "Note".into(),
            },
            entry_id: EntryId::parse(&format!("01ARZ3NDEKTSV4RRFFQ69G{seq:04}")),
            timestamp: "2026-03-02T09:15:00Z".into(),
            accepted_at_ms: seq,
            state: OpState::Pending,
            attempts: 0,
            last_error: None,
            acknowledged: false,
        }
    }

    #[test]
    fn a_batch_writes_what_applying_each_change_alone_would() {
        let mut ops = vec![];
        for seq in 1..=8u64 {
            let topic = if seq % 3 == 0 { "b" } else { "a" };
            ops.push(say(
                seq,
                topic,
                if seq % 2 == 0 { "Claude" } else { "Codex" },
                &format!("t{seq}"),
            ));
        }
        // A status change, the same status again, and an entry sent twice.
        let mut status = say(9, "a", "Team", "s");
        status.op = Operation::SetStatus {
            status: "in_review".into(),
        };
        let mut again = status.clone();
        again.seq = 10;
        let mut twice = ops[0].clone();
        twice.seq = 11;
        ops.extend([status, again, twice]);
        let refs: Vec<&Queued> = ops.iter().collect();
        let current = BTreeMap::from([
            (Topic::parse("a").unwrap(), None),
            (Topic::parse("b").unwrap(), None),
        ]);
        let planned = plan(&refs, &current, &Limits::default());
        let mut alone: BTreeMap<String, String> = BTreeMap::new();
        for q in &ops {
            let change = q.change();
            if let Ok(Applied::Content { content, .. }) =
                crate::thread::apply(&change, alone.get(q.topic.as_str()).map(String::as_str))
            {
                alone.insert(q.topic.to_string(), content);
            }
        }
        for f in &planned.files {
            assert_eq!(f.content, alone[f.topic.as_str()], "{}", f.topic);
        }
        assert_eq!(planned.files.len(), 2);
        assert_eq!(planned.unchanged, vec![10]);
        assert_eq!(planned.present.len(), 1);
    }

    #[test]
    fn applies_in_arrival_order_one_file_per_thread() {
        let ops = [
            say(3, "b", "Codex", "b1"),
            say(1, "a", "Claude", "a1"),
            say(2, "a", "Codex", "a2"),
        ];
        let refs: Vec<&Queued> = ops.iter().collect();
        let mut current = BTreeMap::new();
        current.insert(Topic::parse("a").unwrap(), None);
        current.insert(Topic::parse("b").unwrap(), None);
        let p = plan(&refs, &current, &Limits::default());
        assert_eq!(p.files.len(), 2);
        let a = &p.files[0];
        assert_eq!(
            (a.topic.as_str(), a.ops.clone(), a.base_sha.clone()),
            ("a", vec![1, 2], None)
        );
        let t = parse(&a.content);
        assert_eq!(
            t.entries
                .iter()
                .map(|e| e.title.clone().unwrap())
                .collect::<Vec<_>>(),
            ["a1", "a2"]
        );
        assert_eq!(t.header.ball(), Some("Claude (mira)"));
        assert!(p.message.starts_with("3 watercooler updates (a, b)\n\n"));
        for q in &ops {
            assert!(p.message.contains(&format!(
                "Watercooler-Entry-ID: {}\n",
                q.entry_id.as_deref().unwrap()
            )));
        }
        assert!(p
            .message
            .ends_with("Watercooler-Topic: a\nWatercooler-Topic: b\n"));
    }

    #[test]
    fn commit_messages_carry_the_trailers() {
        assert_eq!(
            commit_message("Claude (mira)", "Plan", "release-plan", Some("01ARZ3NDEKTSV4RRFFQ69G5FAV")),
            "Claude (mira): Plan (release-plan)\n\nWatercooler-Entry-ID: 01ARZ3NDEKTSV4RRFFQ69G5FAV\nWatercooler-Topic: release-plan\n"
        );
    }

    #[test]
    fn a_single_operation_gets_its_own_message() {
        let op = say(1, "a", "Claude", "only");
        let mut current = BTreeMap::new();
        current.insert(Topic::parse("a").unwrap(), None);
        let p = plan(&[&op], &current, &Limits::default());
        assert_eq!(
            p.message,
            commit_message("Claude (mira)", "only", "a", op.entry_id.as_deref())
        );
    }

    #[test]
    fn bad_and_landed_operations_do_not_hold_back_the_rest() {
        let landed = say(1, "a", "Claude", "landed");
        let mut current = BTreeMap::new();
        let first = plan(
            &[&landed],
            &BTreeMap::from([(Topic::parse("a").unwrap(), None)]),
            &Limits::default(),
        );
        current.insert(
            Topic::parse("a").unwrap(),
            Some((first.files[0].content.clone(), Sha::from("sha-a"))),
        );
        current.insert(Topic::parse("b").unwrap(), None);
        let mut ack_missing = say(2, "b", "Codex", "x");
        ack_missing.op = Operation::Ack {
            title: None,
            body: None,
        };
        let good = say(3, "a", "Codex", "good");
        let p = plan(
            &[&landed, &ack_missing, &good],
            &current,
            &Limits::default(),
        );
        assert_eq!(p.present, vec![(1, Presence::Landed)]);
        assert_eq!(p.rejected, vec![(2, ApplyError::ThreadMissing)]);
        assert_eq!(p.files.len(), 1);
        assert_eq!(p.files[0].ops, vec![3]);
        assert_eq!(p.files[0].base_sha.as_deref(), Some("sha-a"));
    }
}
