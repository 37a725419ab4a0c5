//! CPU cost of the thread format's hot paths on threads of 10 KB to 5 MB: parsing,
//! appending an entry (the whole `say` transformation, with its read-back check), and
//! rendering an entry block onto the file.
//!
//! `cargo bench --bench core`; `make bench` runs it and reads the estimates.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use watercooler_worker::thread::{apply, parse, render, Author, Change, Operation};

/// A realistic thread of about `bytes` bytes: a header and many entries.
fn thread_of(bytes: usize) -> String {
    let mut s = String::from("# bench — Thread\nStatus: OPEN\nBall: Codex (mira)\nTopic: bench\nCreated: 2026-01-01T00:00:00Z\n");
    let mut i = 0u64;
    while s.len() < bytes {
        let block = render::entry_block(&render::EntryDraft {
            author: if i.is_multiple_of(2) { "Claude (mira)" } else { "Codex (mira)" },
            timestamp: "2026-01-01T00:00:00Z",
            role: "implementer",
            entry_type: "Note",
            title: "Progress update",
            body: "We looked at the failing test and found the cause.\n\n```rust\nfn main() {}\n```\n\n- item one\n- item two\n",
            entry_id: Some(&format!("01ARZ3NDEKTSV4RRFFQ{i:07}")),
        });
        // `render::append` without the copy: the file ends in a newline, so one more
        // "\n" makes the blank line before the block.
        s.push('\n');
        s.push_str(&block);
        i += 1;
    }
    s
}

const SIZES: [(&str, usize); 4] = [
    ("10KB", 10_000),
    ("100KB", 100_000),
    ("1MB", 1_000_000),
    ("5MB", 5_000_000),
];

fn bench(c: &mut Criterion) {
    let author = Author {
        agent: "Claude".into(),
        user: "mira".into(),
    };
    let op = Operation::Say {
        title: "Next step".into(),
        body: "Ship it.".into(),
        role: "planner".into(),
        entry_type: "Plan".into(),
    };
    for (group, f) in [("parse", 0), ("append", 1), ("render", 2)] {
        let mut g = c.benchmark_group(group);
        g.sample_size(10);
        for (name, size) in SIZES {
            let content = thread_of(size);
            g.throughput(Throughput::Bytes(content.len() as u64));
            g.bench_with_input(
                BenchmarkId::from_parameter(name),
                &content,
                |b, content| match f {
                    0 => b.iter(|| black_box(parse(black_box(content)))),
                    1 => b.iter(|| {
                        let change = Change {
                            topic: "bench",
                            author: &author,
                            op: &op,
                            entry_id: Some("01ARZ3NDEKTSV4RRFFQ69G5FAV"),
                            timestamp: "2026-01-02T00:00:00Z",
                        };
                        black_box(apply(&change, Some(black_box(content))).is_ok())
                    }),
                    _ => b.iter(|| {
                        let block = render::entry_block(&render::EntryDraft {
                            author: "Claude (mira)",
                            timestamp: "2026-01-02T00:00:00Z",
                            role: "planner",
                            entry_type: "Plan",
                            title: "Next step",
                            body: "Ship it.",
                            entry_id: Some("01ARZ3NDEKTSV4RRFFQ69G5FAV"),
                        });
                        black_box(render::append(black_box(content), &[], &block).len())
                    }),
                },
            );
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
