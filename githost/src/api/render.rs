//! JSON shapes of GitHub objects (commits, content entries, trees, refs).

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::Ctx;
use crate::encoding::{encode_path, iso8601_utc};
use crate::git::{CommitInfo, Person, TreeEntry};

/// A stable numeric id for the repository `owner/repo`.
pub fn repo_id(owner: &str, repo: &str) -> u64 {
    let digest = Sha256::digest(format!("{owner}/{repo}").as_bytes());
    digest
        .iter()
        .take(4)
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

/// A plausible GraphQL node id for an object.
pub fn node_id(prefix: &str, sha: &str) -> String {
    format!("{prefix}_{sha}")
}

/// `{name, email, date}` with the date in UTC.
pub fn person(p: &Person) -> Value {
    json!({
        "name": p.name,
        "email": p.email,
        "date": iso8601_utc(p.time),
    })
}

/// A commit as returned by `GET /git/commits/{sha}` (and inside PUT contents answers).
pub fn commit(ctx: &Ctx, c: &CommitInfo) -> Value {
    let api = ctx.api_url();
    let html = ctx.html_url();
    let parents: Vec<Value> = c
        .parents
        .iter()
        .map(|p| {
            json!({
                "sha": p,
                "url": format!("{api}/git/commits/{p}"),
                "html_url": format!("{html}/commit/{p}"),
            })
        })
        .collect();
    json!({
        "sha": c.sha,
        "node_id": node_id("C", &c.sha),
        "url": format!("{api}/git/commits/{}", c.sha),
        "html_url": format!("{html}/commit/{}", c.sha),
        "author": person(&c.author),
        "committer": person(&c.committer),
        "tree": {
            "sha": c.tree,
            "url": format!("{api}/git/trees/{}", c.tree),
        },
        "message": c.message,
        "parents": parents,
        "verification": {
            "verified": false,
            "reason": "unsigned",
            "signature": null,
            "payload": null,
            "verified_at": null,
        },
    })
}

/// Kind of a contents entry as GitHub names it.
pub fn content_type(e: &TreeEntry) -> &'static str {
    match (e.kind.as_str(), e.mode.as_str()) {
        ("tree", _) => "dir",
        ("commit", _) => "submodule",
        (_, "120000") => "symlink",
        _ => "file",
    }
}

/// A contents entry (without `content`): name, path, sha, size, urls, type, _links.
pub fn content_entry(
    ctx: &Ctx,
    path: &str,
    sha: &str,
    size: u64,
    kind: &str,
    reference: &str,
) -> Map<String, Value> {
    let api = ctx.api_url();
    let html = ctx.html_url();
    let epath = encode_path(path);
    let eref = encode_path(reference);
    let name = path.rsplit('/').next().unwrap_or(path);
    let url = format!("{api}/contents/{epath}?ref={eref}");
    let (git_url, html_url, download_url) = if kind == "dir" {
        (
            format!("{api}/git/trees/{sha}"),
            format!("{html}/tree/{eref}/{epath}"),
            Value::Null,
        )
    } else {
        (
            format!("{api}/git/blobs/{sha}"),
            format!("{html}/blob/{eref}/{epath}"),
            Value::String(format!("{}/{eref}/{epath}", ctx.raw_url())),
        )
    };
    let mut map = Map::new();
    map.insert("name".into(), json!(name));
    map.insert("path".into(), json!(path));
    map.insert("sha".into(), json!(sha));
    map.insert("size".into(), json!(size));
    map.insert("url".into(), json!(url));
    map.insert("html_url".into(), json!(html_url));
    map.insert("git_url".into(), json!(git_url));
    map.insert("download_url".into(), download_url);
    map.insert("type".into(), json!(kind));
    map.insert(
        "_links".into(),
        json!({ "self": url, "git": git_url, "html": html_url }),
    );
    map
}

/// One entry of a Git Data tree: path, mode, type, sha, size (blobs), url.
pub fn tree_entry(ctx: &Ctx, e: &TreeEntry) -> Value {
    let api = ctx.api_url();
    let mut map = Map::new();
    map.insert("path".into(), json!(e.path));
    map.insert("mode".into(), json!(e.mode));
    map.insert("type".into(), json!(e.kind));
    map.insert("sha".into(), json!(e.sha));
    match e.kind.as_str() {
        "blob" => {
            map.insert("size".into(), json!(e.size.unwrap_or(0)));
            map.insert("url".into(), json!(format!("{api}/git/blobs/{}", e.sha)));
        }
        "tree" => {
            map.insert("url".into(), json!(format!("{api}/git/trees/{}", e.sha)));
        }
        _ => {}
    }
    Value::Object(map)
}

/// A tree answer: `{sha, url, tree: [...], truncated: false}`.
pub fn tree(ctx: &Ctx, sha: &str, entries: &[TreeEntry]) -> Value {
    let list: Vec<Value> = entries.iter().map(|e| tree_entry(ctx, e)).collect();
    json!({
        "sha": sha,
        "url": format!("{}/git/trees/{sha}", ctx.api_url()),
        "tree": list,
        "truncated": false,
    })
}

/// A reference answer: `{ref, node_id, url, object {sha, type, url}}`.
pub fn reference(ctx: &Ctx, full_ref: &str, sha: &str, kind: &str) -> Value {
    let api = ctx.api_url();
    let plural = match kind {
        "tag" => "tags",
        "tree" => "trees",
        "blob" => "blobs",
        _ => "commits",
    };
    json!({
        "ref": full_ref,
        "node_id": node_id("REF", &encode_path(full_ref)),
        "url": format!("{api}/git/{}", encode_path(full_ref)),
        "object": {
            "sha": sha,
            "type": kind,
            "url": format!("{api}/git/{plural}/{sha}"),
        },
    })
}
