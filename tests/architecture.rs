//! The architecture invariants of ARCHITECTURE.md, checked on the source: layers only
//! look down, no two modules import each other, only `src/edge` touches the Workers
//! runtime, no function runs over 80 lines, and no tool name is written twice.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module's layer: a module may import only modules of lower layers.
/// (Test modules, `tests.rs` files and comments are not counted.)
const LAYERS: &[(&str, u8)] = &[
    ("clock", 0),
    ("cache", 0),
    ("schema", 0),
    ("thread", 1),
    ("github", 1),
    ("store", 2),
    ("writer", 3),
    ("auth", 4),
    ("testing", 4),
    ("config", 5),
    ("service", 6),
    ("http", 7),
    ("edge", 8),
];

/// A file of tests: `tests.rs`, or any file in a `tests` directory of `src`.
fn is_test_file(p: &Path) -> bool {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rel = p.strip_prefix(&src).unwrap_or(p);
    p.ends_with("tests.rs") || rel.components().any(|c| c.as_os_str() == "tests")
}

fn sources() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") && !is_test_file(&p) {
                let text = std::fs::read_to_string(&p).unwrap();
                out.push((p, text));
            }
        }
    }
    let mut out = vec![];
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    out.sort();
    out
}

/// The source without its `#[cfg(test)]` modules (tests may reach anywhere).
fn non_test(text: &str) -> String {
    let mut out = String::new();
    let mut skip_depth: Option<i32> = None;
    let mut depth = 0;
    let mut pending_cfg_test = false;
    for line in text.lines() {
        let t = line.trim();
        if skip_depth.is_none() && t == "#[cfg(test)]" {
            pending_cfg_test = true;
            continue;
        }
        if pending_cfg_test && t.starts_with("mod ") {
            pending_cfg_test = false;
            if t.ends_with(';') {
                continue;
            }
            skip_depth = Some(depth);
        } else {
            pending_cfg_test = false;
        }
        let opens = line.matches('{').count() as i32;
        let closes = line.matches('}').count() as i32;
        if skip_depth.is_none() {
            out.push_str(line);
            out.push('\n');
        }
        depth += opens - closes;
        if skip_depth.is_some_and(|d| depth <= d) {
            skip_depth = None;
        }
    }
    out
}

/// `src/a/b.rs` → ("a", "a::b").
fn module_of(path: &Path) -> (String, String) {
    let rel = path
        .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
        .unwrap();
    let parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .filter(|p| p != "mod")
        .collect();
    (parts[0].clone(), parts.join("::"))
}

fn crate_imports(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        let tail = &rest[i + 7..];
        let name: String = tail
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        out.insert(name);
        rest = &rest[i + 7..];
    }
    out
}

#[test]
fn layers_only_look_down() {
    let layer: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let mut wrong = vec![];
    for (path, text) in sources() {
        let (top, _) = module_of(&path);
        let Some(&mine) = layer.get(top.as_str()) else {
            assert!(top == "lib", "{} is in no layer", path.display());
            continue;
        };
        for m in crate_imports(&non_test(&text)) {
            if let Some(&theirs) = layer.get(m.as_str()) {
                if m != top && theirs >= mine {
                    wrong.push(format!("{} ({top}) imports {m}", path.display()));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that look up or sideways:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_two_modules_import_each_other() {
    // Within a top-level module: `use super::x` / `crate::top::x` between files.
    let mut edges: BTreeSet<(String, String)> = BTreeSet::new();
    let files: Vec<(String, String, String)> = sources()
        .into_iter()
        .map(|(p, t)| {
            let (top, full) = module_of(&p);
            (top, full, non_test(&t))
        })
        .collect();
    let names: BTreeSet<String> = files.iter().map(|(_, f, _)| f.clone()).collect();
    for (top, full, text) in &files {
        let parent = full.rsplit_once("::").map_or("", |(p, _)| p);
        for line in text.lines().filter(|l| l.trim_start().starts_with("use ")) {
            let target = line
                .trim_start()
                .trim_start_matches("use ")
                .replace("super::", &format!("{parent}::"))
                .replace("crate::", "");
            let segs: Vec<&str> = target.split("::").collect();
            for n in 1..=segs.len() {
                let cand = segs[..n].join("::");
                let cand = cand.trim_end_matches(';').to_string();
                if names.contains(&cand)
                    && cand != *full
                    && cand.starts_with(top.as_str())
                    && cand != *top
                {
                    edges.insert((full.clone(), cand));
                }
            }
        }
    }
    let cycles: Vec<String> = edges
        .iter()
        .filter(|(a, b)| edges.contains(&(b.clone(), a.clone())) && a < b)
        .map(|(a, b)| format!("{a} <-> {b}"))
        .collect();
    assert!(
        cycles.is_empty(),
        "modules that import each other:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn only_the_edge_touches_the_workers_runtime() {
    for (path, text) in sources() {
        let (top, _) = module_of(&path);
        if top != "edge" {
            assert!(
                !text.contains("worker::") && !text.contains("use worker"),
                "{} uses the Workers runtime",
                path.display()
            );
        }
    }
}

#[test]
fn no_function_runs_over_80_lines() {
    let mut long = vec![];
    for (path, text) in sources() {
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let t = lines[i].trim_start();
            let is_fn = [
                "fn ",
                "pub fn ",
                "async fn ",
                "pub async fn ",
                "pub(crate) fn ",
                "pub(super) fn ",
                "pub(crate) async fn ",
                "pub(super) async fn ",
            ]
            .iter()
            .any(|p| t.starts_with(p));
            if is_fn && !t.ends_with(';') {
                let indent = lines[i].len() - t.len();
                let close = format!("{}}}", " ".repeat(indent));
                let end = (i + 1..lines.len())
                    .find(|&j| lines[j] == close)
                    .unwrap_or(i);
                if end - i > 80 {
                    long.push(format!("{}:{} {} lines", path.display(), i + 1, end - i));
                }
                i = end.max(i + 1);
                continue;
            }
            i += 1;
        }
    }
    assert!(
        long.is_empty(),
        "functions over 80 lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn no_tool_name_is_written_twice() {
    let all: String = sources().into_iter().map(|(_, t)| non_test(&t)).collect();
    let mut names = BTreeSet::new();
    let mut rest = all.as_str();
    while let Some(i) = rest.find("\"watercooler_") {
        let tail = &rest[i + 1..];
        let end = tail.find('"').unwrap_or(0);
        names.insert(tail[..end].to_string());
        rest = &tail[end..];
    }
    assert!(names.len() >= 13, "{names:?}");
    for n in names {
        assert_eq!(
            all.matches(&format!("\"{n}\"")).count(),
            1,
            "{n} is written more than once"
        );
    }
}
