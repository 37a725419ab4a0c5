//! The Git Data API: refs, commits, trees and blobs.

use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::contents::{commit_error, tree_error};
use super::payload::{
    author_committer, optional_bool, optional_str, parse_object, required_str, valid_repo_path,
    wrong_type, Object,
};
use super::render::{self, node_id};
use super::Ctx;
use crate::encoding::{base64_lines, decode_base64};
use crate::errors::{ApiError, ApiResult, DOC_BLOBS, DOC_COMMITS, DOC_REFS, DOC_ROOT, DOC_TREES};
use crate::git::{is_hex_sha, is_valid_ref_name, Repo, TreeEdit, ZERO_SHA};

/// Open the repository, answering 409 "Git Repository is empty." when it has no
/// branches (GitHub refuses the Git Data API on empty repositories).
async fn open_nonempty(ctx: &Ctx) -> ApiResult<Repo> {
    let repo = ctx.open_repo()?;
    if repo.is_empty().await? {
        return Err(ApiError::conflict("Git Repository is empty."));
    }
    Ok(repo)
}

/// Set `doc` on errors that have no specific documentation URL.
fn doc(result: ApiResult<Response>, doc: &'static str) -> ApiResult<Response> {
    result.map_err(|e| if e.doc == DOC_ROOT { e.doc(doc) } else { e })
}

/// Full sha of a commit given a (possibly abbreviated) hex name.
async fn full_commit(repo: &Repo, sha: &str) -> ApiResult<Option<String>> {
    if !is_hex_sha(sha, 4) {
        return Ok(None);
    }
    Ok(repo
        .rev_parse(&format!("{}^{{commit}}", sha.to_ascii_lowercase()))
        .await?)
}

/// `GET .../git/ref/{ref}` (also `GET .../git/refs/{ref}` for an exact name).
pub async fn get_ref(ctx: &Ctx, name: &str) -> ApiResult<Response> {
    doc(get_ref_inner(ctx, name).await, DOC_REFS)
}

async fn get_ref_inner(ctx: &Ctx, name: &str) -> ApiResult<Response> {
    let repo = open_nonempty(ctx).await?;
    let full = format!("refs/{name}");
    let sha = repo
        .ref_target(&full)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let kind = if name.starts_with("heads/") {
        "commit".to_string()
    } else {
        repo.object_types(std::slice::from_ref(&sha))
            .await?
            .into_iter()
            .next()
            .flatten()
            .unwrap_or_else(|| "commit".to_string())
    };
    Ok(Json(render::reference(ctx, &full, &sha, &kind)).into_response())
}

/// `POST .../git/refs {ref, sha}`.
pub async fn create_ref(ctx: &Ctx, body: &[u8]) -> ApiResult<Response> {
    doc(create_ref_inner(ctx, body).await, DOC_REFS)
}

async fn create_ref_inner(ctx: &Ctx, body: &[u8]) -> ApiResult<Response> {
    let repo = open_nonempty(ctx).await?;
    let obj = parse_object(body)?;
    let full = required_str(&obj, "ref")?;
    let sha = required_str(&obj, "sha")?;
    if !full.starts_with("refs/") || full.matches('/').count() < 2 || !is_valid_ref_name(&full) {
        return Err(ApiError::unprocessable(
            "Reference name must start with 'refs/' and have at least two slashes.",
        ));
    }
    let target = full_commit(&repo, &sha)
        .await?
        .ok_or_else(|| ApiError::unprocessable("Object does not exist"))?;
    if !repo.update_ref(&full, &target, Some(ZERO_SHA)).await? {
        return Err(ApiError::unprocessable("Reference already exists"));
    }
    ctx.notify_push(&full, ZERO_SHA, &target);
    let body = render::reference(ctx, &full, &target, "commit");
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `PATCH .../git/refs/{ref} {sha, force?}`: compare-and-swap, fast-forward
/// only unless `force`.
pub async fn update_ref(ctx: &Ctx, name: &str, body: &[u8]) -> ApiResult<Response> {
    doc(update_ref_inner(ctx, name, body).await, DOC_REFS)
}

async fn update_ref_inner(ctx: &Ctx, name: &str, body: &[u8]) -> ApiResult<Response> {
    let repo = open_nonempty(ctx).await?;
    let obj = parse_object(body)?;
    let sha = required_str(&obj, "sha")?;
    let force = optional_bool(&obj, "force")?.unwrap_or(false);
    let full = format!("refs/{name}");
    let current = repo
        .ref_target(&full)
        .await?
        .ok_or_else(|| ApiError::unprocessable("Reference does not exist"))?;
    let new = full_commit(&repo, &sha)
        .await?
        .ok_or_else(|| ApiError::unprocessable("Object does not exist"))?;
    let not_ff = || ApiError::unprocessable("Update is not a fast forward");
    if current == new {
        return Ok(Json(render::reference(ctx, &full, &new, "commit")).into_response());
    }
    let moved_from = if force {
        // Compare-and-swap against the value just read, so the webhook names
        // the commit really replaced; retried when another writer got between.
        let mut replaced = None;
        let mut seen = current.clone();
        for _ in 0..5 {
            if repo.update_ref(&full, &new, Some(&seen)).await? {
                replaced = Some(seen);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            seen = repo
                .ref_target(&full)
                .await?
                .unwrap_or_else(|| ZERO_SHA.to_string());
        }
        Some(replaced.ok_or_else(|| ApiError::unprocessable("Reference cannot be updated"))?)
    } else {
        if !repo.is_ancestor(&current, &new).await? {
            return Err(not_ff());
        }
        let won = repo.update_ref(&full, &new, Some(&current)).await?;
        // Someone else moved the ref meanwhile; fine only if to the same commit
        // (and then the push was theirs, not this request's).
        if !won && repo.ref_target(&full).await?.as_deref() != Some(new.as_str()) {
            return Err(not_ff());
        }
        won.then_some(current)
    };
    if let Some(before) = moved_from {
        ctx.notify_push(&full, &before, &new);
    }
    Ok(Json(render::reference(ctx, &full, &new, "commit")).into_response())
}

/// `DELETE .../git/refs/{ref}`.
pub async fn delete_ref(ctx: &Ctx, name: &str) -> ApiResult<Response> {
    doc(delete_ref_inner(ctx, name).await, DOC_REFS)
}

async fn delete_ref_inner(ctx: &Ctx, name: &str) -> ApiResult<Response> {
    let repo = open_nonempty(ctx).await?;
    let full = format!("refs/{name}");
    let current = repo
        .ref_target(&full)
        .await?
        .ok_or_else(|| ApiError::unprocessable("Reference does not exist"))?;
    if !repo.delete_ref(&full, &current).await? {
        return Err(ApiError::unprocessable("Reference cannot be updated"));
    }
    ctx.notify_push(&full, &current, ZERO_SHA);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET .../git/commits/{sha}`.
pub async fn get_commit(ctx: &Ctx, sha: &str) -> ApiResult<Response> {
    doc(get_commit_inner(ctx, sha).await, DOC_COMMITS)
}

async fn get_commit_inner(ctx: &Ctx, sha: &str) -> ApiResult<Response> {
    let repo = open_nonempty(ctx).await?;
    let info = repo
        .read_commit(sha)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(render::commit(ctx, &info)).into_response())
}

/// `POST .../git/commits {message, tree, parents, author?, committer?}`.
pub async fn create_commit(ctx: &Ctx, body: &[u8]) -> ApiResult<Response> {
    doc(create_commit_inner(ctx, body).await, DOC_COMMITS)
}

async fn create_commit_inner(ctx: &Ctx, body: &[u8]) -> ApiResult<Response> {
    let repo = open_nonempty(ctx).await?;
    let obj = parse_object(body)?;
    let message = required_str(&obj, "message")?;
    let tree = required_str(&obj, "tree")?.to_ascii_lowercase();
    let parents = string_list(&obj, "parents")?;
    let (author, committer) = author_committer(&obj, &ctx.commit_identity())?;

    let mut names = vec![tree.clone()];
    names.extend(parents.iter().cloned());
    let types = repo.object_types(&names).await?;
    if !is_hex_sha(&tree, 4) || types.first().cloned().flatten().as_deref() != Some("tree") {
        return Err(ApiError::unprocessable("Tree SHA does not exist"));
    }
    let mut full_parents = Vec::new();
    for (parent, kind) in parents.iter().zip(types.iter().skip(1)) {
        let full = match kind.as_deref() {
            Some("commit") => full_commit(&repo, parent).await?,
            _ => None,
        };
        let full = full.ok_or_else(|| {
            ApiError::unprocessable("Parent SHA does not exist or is not a commit object")
        })?;
        full_parents.push(full);
    }
    let sha = repo
        .commit_tree(&tree, &full_parents, &message, &author, &committer)
        .await
        .map_err(commit_error)?;
    ctx.state.count_commit();
    let info = repo
        .read_commit(&sha)
        .await?
        .ok_or_else(|| ApiError::internal(format!("new commit {sha} unreadable")))?;
    Ok((StatusCode::CREATED, Json(render::commit(ctx, &info))).into_response())
}

/// An optional array of strings (`null` = empty).
fn string_list(obj: &Object, key: &str) -> ApiResult<Vec<String>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.to_ascii_lowercase()),
                other => Err(wrong_type(&format!("{key}/items"), other, "string")),
            })
            .collect(),
        Some(other) => Err(wrong_type(key, other, "array")),
    }
}

/// `GET .../git/trees/{sha}` (`?recursive=<anything>` lists the whole tree).
pub async fn get_tree(ctx: &Ctx, sha: &str) -> ApiResult<Response> {
    doc(get_tree_inner(ctx, sha).await, DOC_TREES)
}

async fn get_tree_inner(ctx: &Ctx, sha: &str) -> ApiResult<Response> {
    let repo = open_nonempty(ctx).await?;
    let tree = repo
        .resolve_tree(sha)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let recursive = ctx.query.contains_key("recursive");
    let entries = repo.ls_tree(&tree, recursive).await?;
    Ok(Json(render::tree(ctx, &tree, &entries)).into_response())
}

/// One validated item of a `POST /git/trees` body.
enum TreeItem {
    Content {
        path: String,
        mode: String,
        content: String,
    },
    Object {
        path: String,
        mode: String,
        kind: String,
        sha: String,
    },
    Delete {
        path: String,
    },
}

/// Validate one `tree[]` item.
fn parse_tree_item(value: &Value) -> ApiResult<TreeItem> {
    let Value::Object(item) = value else {
        return Err(wrong_type("tree/items", value, "object"));
    };
    let path = required_str(item, "path")?;
    if !valid_repo_path(&path) {
        return Err(ApiError::unprocessable(format!(
            "tree.path contains a malformed path component: {path}"
        )));
    }
    let mode = required_str(item, "mode")?;
    let expected_kind = match mode.as_str() {
        "100644" | "100755" | "120000" => "blob",
        "040000" | "40000" => "tree",
        "160000" => "commit",
        _ => {
            return Err(ApiError::invalid_request(format!(
                "For 'properties/mode', \"{mode}\" is not a valid mode."
            )))
        }
    };
    let kind = optional_str(item, "type")?.unwrap_or_else(|| expected_kind.to_string());
    if kind != expected_kind {
        return Err(ApiError::unprocessable(format!(
            "tree.type {kind} does not match mode {mode}"
        )));
    }
    let content = optional_str(item, "content")?;
    match (item.get("sha"), content) {
        (Some(Value::Null), None) => Ok(TreeItem::Delete { path }),
        (Some(Value::String(_)), Some(_)) | (Some(Value::Null), Some(_)) => Err(
            ApiError::unprocessable("Only one of tree.sha or tree.content may be supplied"),
        ),
        (Some(Value::String(sha)), None) => Ok(TreeItem::Object {
            path,
            mode: if kind == "tree" {
                "040000".into()
            } else {
                mode
            },
            kind,
            sha: sha.to_ascii_lowercase(),
        }),
        (Some(other), _) => Err(wrong_type("sha", other, "string")),
        (None, Some(content)) if kind == "blob" => Ok(TreeItem::Content {
            path,
            mode,
            content,
        }),
        (None, Some(_)) => Err(ApiError::unprocessable(
            "tree.content can only be used with blobs",
        )),
        (None, None) => Err(ApiError::unprocessable(
            "Must supply either tree.sha or tree.content",
        )),
    }
}

/// `POST .../git/trees {base_tree?, tree: [...]}`.
pub async fn create_tree(ctx: &Ctx, body: &[u8]) -> ApiResult<Response> {
    doc(create_tree_inner(ctx, body).await, DOC_TREES)
}

async fn create_tree_inner(ctx: &Ctx, body: &[u8]) -> ApiResult<Response> {
    let repo = open_nonempty(ctx).await?;
    let obj = parse_object(body)?;
    let base = match obj.get("base_tree") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => return Err(wrong_type("base_tree", other, "string")),
    };
    let items = match obj.get("tree") {
        None => return Err(super::payload::missing("tree")),
        Some(Value::Array(items)) => items
            .iter()
            .map(parse_tree_item)
            .collect::<ApiResult<Vec<_>>>()?,
        Some(other) => return Err(wrong_type("tree", other, "array")),
    };
    let base_tree = match &base {
        Some(b) => Some(
            repo.resolve_tree(b)
                .await?
                .ok_or_else(|| ApiError::unprocessable("Invalid tree info"))?,
        ),
        None => None,
    };

    // Referenced objects must exist with the right type (submodule commits need not).
    let referenced: Vec<(String, String)> = items
        .iter()
        .filter_map(|item| match item {
            TreeItem::Object { kind, sha, .. } if kind != "commit" => {
                Some((sha.clone(), kind.clone()))
            }
            _ => None,
        })
        .collect();
    let shas: Vec<String> = referenced.iter().map(|(s, _)| s.clone()).collect();
    let types = repo.object_types(&shas).await?;
    for ((sha, kind), actual) in referenced.iter().zip(types) {
        if actual.as_deref() != Some(kind.as_str()) || !is_hex_sha(sha, 40) {
            return Err(ApiError::unprocessable(format!(
                "tree.sha {sha} is not a valid {kind}"
            )));
        }
    }

    let mut edits = Vec::with_capacity(items.len());
    for item in items {
        edits.push(match item {
            TreeItem::Content {
                path,
                mode,
                content,
            } => {
                let sha = repo.write_blob(content.as_bytes()).await?;
                TreeEdit::Entry { path, mode, sha }
            }
            TreeItem::Object {
                path, kind, sha, ..
            } if kind == "tree" => TreeEdit::Subtree { path, sha },
            TreeItem::Object {
                path, mode, sha, ..
            } => TreeEdit::Entry { path, mode, sha },
            TreeItem::Delete { path } => TreeEdit::Delete { path },
        });
    }
    let tree = repo
        .build_tree(base_tree.as_deref(), &edits)
        .await
        .map_err(tree_error)?;
    let entries = repo.ls_tree(&tree, false).await?;
    Ok((
        StatusCode::CREATED,
        Json(render::tree(ctx, &tree, &entries)),
    )
        .into_response())
}

/// `GET .../git/blobs/{sha}`.
pub async fn get_blob(ctx: &Ctx, sha: &str) -> ApiResult<Response> {
    doc(get_blob_inner(ctx, sha).await, DOC_BLOBS)
}

async fn get_blob_inner(ctx: &Ctx, sha: &str) -> ApiResult<Response> {
    let repo = open_nonempty(ctx).await?;
    let sha = sha.to_ascii_lowercase();
    if !is_hex_sha(&sha, 40) {
        return Err(ApiError::not_found());
    }
    let kind = repo.object_types(std::slice::from_ref(&sha)).await?;
    if kind.first().cloned().flatten().as_deref() != Some("blob") {
        return Err(ApiError::not_found());
    }
    let data = repo
        .read_blob(&sha)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if ctx.wants_raw() {
        let mut response = data.into_response();
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.github.raw"),
        );
        return Ok(response);
    }
    Ok(Json(json!({
        "sha": sha,
        "node_id": node_id("B", &sha),
        "size": data.len(),
        "url": format!("{}/git/blobs/{sha}", ctx.api_url()),
        "content": base64_lines(&data),
        "encoding": "base64",
    }))
    .into_response())
}

/// `POST .../git/blobs {content, encoding?: "utf-8" | "base64"}`.
pub async fn create_blob(ctx: &Ctx, body: &[u8]) -> ApiResult<Response> {
    doc(create_blob_inner(ctx, body).await, DOC_BLOBS)
}

async fn create_blob_inner(ctx: &Ctx, body: &[u8]) -> ApiResult<Response> {
    let repo = open_nonempty(ctx).await?;
    let obj = parse_object(body)?;
    let content = required_str(&obj, "content")?;
    let encoding = optional_str(&obj, "encoding")?.unwrap_or_else(|| "utf-8".to_string());
    let data = match encoding.as_str() {
        "utf-8" | "utf8" => content.into_bytes(),
        "base64" => decode_base64(&content)
            .ok_or_else(|| ApiError::unprocessable("content is not valid Base64"))?,
        other => {
            return Err(ApiError::unprocessable(format!(
                "encoding {other} is not supported"
            )))
        }
    };
    let sha = repo.write_blob(&data).await?;
    let body = json!({
        "sha": sha,
        "url": format!("{}/git/blobs/{sha}", ctx.api_url()),
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
