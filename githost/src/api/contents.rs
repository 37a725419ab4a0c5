//! `GET` and `PUT /repos/{owner}/{repo}/contents/{path}`.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::payload::{author_committer, optional_str, parse_object, required_str, valid_repo_path};
use super::render::{self, content_type};
use super::Ctx;
use crate::auth::{etag, if_none_match};
use crate::encoding::{base64_lines, decode_base64};
use crate::errors::{ApiError, ApiResult, DOC_CONTENTS_GET, DOC_CONTENTS_PUT, DOC_ROOT};
use crate::git::{is_valid_ref_name, GitError, Repo, TreeEdit, TreeEntry, TreeError, ZERO_SHA};

/// Files larger than this are answered without inline content (like GitHub).
pub const MAX_INLINE_BYTES: u64 = 1024 * 1024;

/// Cache-Control sent with contents answers.
const CACHE_CONTROL_VALUE: &str = "private, max-age=60, s-maxage=60";

/// Give errors without a specific documentation page the one of this endpoint.
fn with_doc(err: ApiError, doc: &'static str) -> ApiError {
    if err.doc == DOC_ROOT {
        err.doc(doc)
    } else {
        err
    }
}

/// `GET .../contents/{path}?ref=`.
pub async fn get(ctx: &Ctx, path: &str) -> ApiResult<Response> {
    get_inner(ctx, path)
        .await
        .map_err(|e| with_doc(e, DOC_CONTENTS_GET))
}

async fn get_inner(ctx: &Ctx, path: &str) -> ApiResult<Response> {
    let repo = ctx.open_repo()?;
    let reference = match ctx.query.get("ref").filter(|r| !r.is_empty()) {
        Some(r) => r.clone(),
        None => match repo.default_branch().await? {
            Some(branch) => branch,
            None => return Err(not_found_or_empty(&repo, None).await),
        },
    };
    let Some(commit) = repo.resolve_commitish(&reference).await? else {
        return Err(not_found_or_empty(&repo, Some(&reference)).await);
    };
    if path.is_empty() {
        let tree = repo
            .rev_parse(&format!("{commit}^{{tree}}"))
            .await?
            .ok_or_else(|| ApiError::internal(format!("commit {commit} has no tree")))?;
        return directory(ctx, &repo, &tree, "", &reference).await;
    }
    if !valid_repo_path(path) {
        return Err(ApiError::not_found());
    }
    let entry = repo
        .entry_at(&commit, path)
        .await?
        .ok_or_else(ApiError::not_found)?;
    match content_type(&entry) {
        "dir" => directory(ctx, &repo, &entry.sha, path, &reference).await,
        _ => file(ctx, &repo, &entry, &reference).await,
    }
}

/// 404 "This repository is empty." or `No commit found for the ref <ref>`.
async fn not_found_or_empty(repo: &Repo, reference: Option<&str>) -> ApiError {
    match repo.is_empty().await {
        Ok(true) => ApiError::not_found_msg("This repository is empty."),
        Ok(false) => match reference {
            Some(r) => ApiError::not_found_msg(format!("No commit found for the ref {r}")),
            None => ApiError::not_found(),
        },
        Err(e) => e.into(),
    }
}

/// A 304 answer when `If-None-Match` matches `tag`.
fn not_modified(ctx: &Ctx, tag: &str) -> Option<Response> {
    let header = ctx.headers.get(IF_NONE_MATCH)?.to_str().ok()?;
    if !if_none_match(header, tag) {
        return None;
    }
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    add_cache_headers(&mut response, tag);
    Some(response)
}

/// ETag and Cache-Control headers.
fn add_cache_headers(response: &mut Response, tag: &str) {
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(tag) {
        headers.insert(ETAG, v);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL_VALUE));
}

/// Answer for a directory: array of entries sorted by name.
async fn directory(
    ctx: &Ctx,
    repo: &Repo,
    tree: &str,
    path: &str,
    reference: &str,
) -> ApiResult<Response> {
    let tag = etag(&ctx.token, tree);
    if let Some(response) = not_modified(ctx, &tag) {
        return Ok(response);
    }
    let mut entries = repo.ls_tree(tree, false).await?;
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    let list: Vec<Value> = entries
        .iter()
        .map(|e| {
            let full = if path.is_empty() {
                e.path.clone()
            } else {
                format!("{path}/{}", e.path)
            };
            let size = if e.kind == "blob" {
                e.size.unwrap_or(0)
            } else {
                0
            };
            Value::Object(render::content_entry(
                ctx,
                &full,
                &e.sha,
                size,
                content_type(e),
                reference,
            ))
        })
        .collect();
    let mut response = Json(Value::Array(list)).into_response();
    add_cache_headers(&mut response, &tag);
    Ok(response)
}

/// Answer for a file (JSON with base64 content, or raw bytes).
async fn file(ctx: &Ctx, repo: &Repo, entry: &TreeEntry, reference: &str) -> ApiResult<Response> {
    let tag = etag(&ctx.token, &entry.sha);
    if let Some(response) = not_modified(ctx, &tag) {
        return Ok(response);
    }
    let kind = content_type(entry);
    let size = entry.size.unwrap_or(0);
    let mut map = render::content_entry(ctx, &entry.path, &entry.sha, size, kind, reference);
    if kind == "submodule" {
        let mut response = Json(Value::Object(map)).into_response();
        add_cache_headers(&mut response, &tag);
        return Ok(response);
    }
    let data = repo
        .read_blob(&entry.sha)
        .await?
        .ok_or_else(|| ApiError::internal(format!("blob {} is missing", entry.sha)))?;
    if ctx.wants_raw() {
        let mut response = data.into_response();
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.github.raw"),
        );
        add_cache_headers(&mut response, &tag);
        return Ok(response);
    }
    if kind == "symlink" {
        map.insert(
            "target".into(),
            json!(String::from_utf8_lossy(&data).into_owned()),
        );
    }
    if size > MAX_INLINE_BYTES {
        map.insert("content".into(), json!(""));
        map.insert("encoding".into(), json!("none"));
    } else {
        map.insert("content".into(), json!(base64_lines(&data)));
        map.insert("encoding".into(), json!("base64"));
    }
    let mut response = Json(Value::Object(map)).into_response();
    add_cache_headers(&mut response, &tag);
    Ok(response)
}

/// `PUT .../contents/{path}`: create or update one file with one commit.
pub async fn put(ctx: &Ctx, path: &str, body: &[u8]) -> ApiResult<Response> {
    put_inner(ctx, path, body)
        .await
        .map_err(|e| with_doc(e, DOC_CONTENTS_PUT))
}

async fn put_inner(ctx: &Ctx, path: &str, body: &[u8]) -> ApiResult<Response> {
    let repo = ctx.open_repo()?;
    let obj = parse_object(body)?;
    let message = required_str(&obj, "message")?;
    let content_b64 = required_str(&obj, "content")?;
    let given_sha = optional_str(&obj, "sha")?.map(|s| s.trim().to_ascii_lowercase());
    let branch = optional_str(&obj, "branch")?;
    let (author, committer) = author_committer(&obj, &ctx.commit_identity())?;
    let content = decode_base64(&content_b64)
        .ok_or_else(|| ApiError::unprocessable("content is not valid Base64"))?;
    if !valid_repo_path(path) {
        return Err(ApiError::unprocessable(
            "path contains a malformed path component",
        ));
    }

    let (branch, head) = target_branch(&repo, branch).await?;
    let existing = match &head {
        Some(h) => repo.entry_at(h, path).await?,
        None => None,
    };
    if existing.as_ref().is_some_and(|e| e.kind != "blob") {
        return Err(ApiError::unprocessable(format!("{path} is a directory")));
    }
    match (&existing, &given_sha) {
        (Some(_), None) => return Err(ApiError::invalid_request("\"sha\" wasn't supplied.")),
        (Some(e), Some(s)) if e.sha != *s => {
            return Err(ApiError::conflict(format!("{path} does not match {s}")))
        }
        (None, Some(s)) => return Err(ApiError::conflict(format!("{path} does not match {s}"))),
        _ => {}
    }

    let blob = repo.write_blob(&content).await?;
    let mode = match &existing {
        Some(e) if e.mode == "100755" => "100755",
        _ => "100644",
    };
    let edit = TreeEdit::Entry {
        path: path.to_string(),
        mode: mode.to_string(),
        sha: blob.clone(),
    };
    let tree = repo
        .build_tree(head.as_deref(), &[edit])
        .await
        .map_err(tree_error)?;
    let parents: Vec<String> = head.iter().cloned().collect();
    let commit_sha = repo
        .commit_tree(&tree, &parents, &message, &author, &committer)
        .await
        .map_err(commit_error)?;

    move_branch(ctx, &repo, &branch, head.as_deref(), &commit_sha).await?;

    let info = repo
        .read_commit(&commit_sha)
        .await?
        .ok_or_else(|| ApiError::internal(format!("new commit {commit_sha} unreadable")))?;
    let content_json =
        render::content_entry(ctx, path, &blob, content.len() as u64, "file", &branch);
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let body = json!({
        "content": Value::Object(content_json),
        "commit": render::commit(ctx, &info),
    });
    Ok((status, Json(body)).into_response())
}

/// The branch a PUT writes to (`branch`, else the default branch) and its
/// head (`None` only in an empty repository, for a valid new branch name).
async fn target_branch(repo: &Repo, branch: Option<String>) -> ApiResult<(String, Option<String>)> {
    let branch = match branch.filter(|b| !b.is_empty()) {
        Some(b) => b,
        None => repo
            .default_branch()
            .await?
            .ok_or_else(|| ApiError::not_found_msg("Branch not found"))?,
    };
    let head = repo.branch_head(&branch).await?;
    if head.is_none() {
        if !repo.is_empty().await? {
            return Err(ApiError::not_found_msg(format!(
                "Branch {branch} not found"
            )));
        }
        if !is_valid_ref_name(&branch) {
            return Err(ApiError::unprocessable(format!(
                "{branch} is not a valid branch name"
            )));
        }
    }
    Ok((branch, head))
}

/// Compare-and-swap `branch` from `head` to `commit_sha` (409 `is at ... but
/// expected ...` when it moved), count the commit and send the push webhook.
async fn move_branch(
    ctx: &Ctx,
    repo: &Repo,
    branch: &str,
    head: Option<&str>,
    commit_sha: &str,
) -> ApiResult<()> {
    let hook = ctx.state.pre_ref_update_hook();
    if let Some(hook) = hook {
        hook(repo.path(), branch);
    }
    let full_ref = format!("refs/heads/{branch}");
    let expected = head.unwrap_or(ZERO_SHA).to_string();
    if !repo
        .update_ref(&full_ref, commit_sha, Some(&expected))
        .await?
    {
        let current = repo
            .branch_head(branch)
            .await?
            .unwrap_or_else(|| ZERO_SHA.to_string());
        return Err(ApiError::conflict(format!(
            "is at {current} but expected {expected}"
        )));
    }
    ctx.state.count_commit();
    if head.is_none() {
        adopt_unborn_head(repo, branch).await?;
    }
    ctx.notify_push(&full_ref, &expected, commit_sha);
    Ok(())
}

/// If HEAD points at a branch that does not exist, point it at `branch`.
pub async fn adopt_unborn_head(repo: &Repo, branch: &str) -> Result<(), GitError> {
    let current = repo.default_branch().await?;
    let unborn = match &current {
        Some(b) => repo.branch_head(b).await?.is_none(),
        None => false,
    };
    if unborn && current.as_deref() != Some(branch) {
        repo.set_head(branch).await?;
    }
    Ok(())
}

/// Map a tree-building failure to an API error.
pub fn tree_error(err: TreeError) -> ApiError {
    match err {
        TreeError::Invalid(detail) => ApiError::invalid_request(clean_git_message(&detail)),
        TreeError::Git(e) => e.into(),
    }
}

/// Map a commit-tree failure (bad identity or date) to 422, others to 500.
pub fn commit_error(err: GitError) -> ApiError {
    let detail = clean_git_message(&err.stderr);
    if detail.contains("date") || detail.contains("ident") || detail.contains("name") {
        ApiError::invalid_request(detail)
    } else {
        err.into()
    }
}

/// First line of git's stderr without the `fatal: `/`error: ` prefix.
fn clean_git_message(stderr: &str) -> String {
    let line = stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("git rejected the request");
    line.trim_start_matches("fatal: ")
        .trim_start_matches("error: ")
        .to_string()
}
