//! [`GitHost`] over GitHub's REST API (or anything that speaks its subset).

use super::app::{self, App, AppSigner, Credentials, NoApp};
use super::error::{classify, GitHubError};
use super::http::{encode_component, HttpClient, HttpRequest, HttpResponse, SendError};
use super::signin::Permission;
use super::{
    DirEntry, Fetched, GitHost, Listing, PutFile, RemoteFile, Sha, Tree, TreeFile, Written,
};
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// The repository and branch a client works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    /// The user or organisation that owns the repository.
    pub owner: String,
    /// The repository's name.
    pub name: String,
    /// The branch every read and write goes to.
    pub branch: String,
}

/// GitHub REST client, authenticated with a token or as a GitHub App. `now_secs`
/// turns rate-limit reset times into waits and dates the app's JWTs.
pub struct GitHubClient<H, S = NoApp> {
    http: H,
    api_base: String,
    repo: Repo,
    credentials: Credentials<S>,
    user_agent: String,
    now_secs: fn() -> u64,
}

impl<H, S> std::fmt::Debug for GitHubClient<H, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.debug_struct("GitHubClient")
            .field("api_base", &self.api_base)
            .field("repo", &self.repo)
            .finish_non_exhaustive()
    }
}

const ACCEPT_JSON: &str = "application/vnd.github+json";
const ACCEPT_RAW: &str = "application/vnd.github.raw+json";
const API_VERSION: &str = "2022-11-28";

#[derive(Deserialize)]
struct ContentBody {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    encoding: String,
    #[serde(default)]
    content: String,
    sha: String,
}

#[derive(Deserialize)]
struct PutBody {
    content: ShaOnly,
    commit: ShaOnly,
}

#[derive(Deserialize)]
struct ShaOnly {
    sha: String,
}

#[derive(Deserialize)]
struct RefBody {
    object: ShaOnly,
}

#[derive(Deserialize)]
struct TreeBody {
    sha: String,
    tree: Vec<TreeItem>,
    #[serde(default)]
    truncated: bool,
}

#[derive(Deserialize)]
struct TreeItem {
    path: String,
    #[serde(rename = "type")]
    kind: String,
    sha: String,
}

impl<H: HttpClient> GitHubClient<H, NoApp> {
    /// A client for `repo` at `api_base`, sending `token` and `user_agent` with every request.
    pub fn new(
        http: H,
        api_base: &str,
        repo: Repo,
        token: &str,
        user_agent: &str,
        now_secs: fn() -> u64,
    ) -> Self {
        let credentials = Credentials::Token(token.to_string());
        GitHubClient::with_credentials(http, api_base, repo, credentials, user_agent, now_secs)
    }
}

impl<H: HttpClient, S: AppSigner> GitHubClient<H, S> {
    /// A client for `repo` at `api_base` that authenticates with `credentials`.
    pub fn with_credentials(
        http: H,
        api_base: &str,
        repo: Repo,
        credentials: Credentials<S>,
        user_agent: &str,
        now_secs: fn() -> u64,
    ) -> Self {
        GitHubClient {
            http,
            api_base: api_base.trim_end_matches('/').to_string(),
            repo,
            credentials,
            user_agent: user_agent.to_string(),
            now_secs,
        }
    }

    fn contents_url(&self, path: &str) -> String {
        let encoded: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(encode_component)
            .collect();
        format!(
            "{}/repos/{}/{}/contents/{}",
            self.api_base,
            encode_component(&self.repo.owner),
            encode_component(&self.repo.name),
            encoded.join("/")
        )
    }

    fn request(
        &self,
        method: &'static str,
        url: String,
        accept: &str,
        body: Option<String>,
    ) -> HttpRequest {
        let mut headers = vec![
            ("Accept".to_string(), accept.to_string()),
            ("X-GitHub-Api-Version".to_string(), API_VERSION.to_string()),
            ("User-Agent".to_string(), self.user_agent.clone()),
        ];
        if body.is_some() {
            headers.push(("Content-Type".to_string(), "application/json".to_string()));
        }
        HttpRequest {
            method,
            url,
            headers,
            body,
        }
    }

    fn repo_url(&self, rest: &str) -> String {
        format!(
            "{}/repos/{}/{}/{rest}",
            self.api_base,
            encode_component(&self.repo.owner),
            encode_component(&self.repo.name)
        )
    }

    fn branch_ref(&self) -> String {
        let segments: Vec<String> = self.repo.branch.split('/').map(encode_component).collect();
        format!("heads/{}", segments.join("/"))
    }

    /// Sends a JSON request and parses a JSON answer with one of the `ok` statuses.
    async fn json_call<T: serde::de::DeserializeOwned>(
        &self,
        method: &'static str,
        url: String,
        body: Option<serde_json::Value>,
        ok: &[u16],
        what: &str,
    ) -> Result<T, GitHubError> {
        let req = self.request(method, url, ACCEPT_JSON, body.map(|b| b.to_string()));
        let resp = self.send(req).await?;
        if !ok.contains(&resp.status) {
            return Err(self.fail(&resp));
        }
        serde_json::from_slice(&resp.body).map_err(|_| bad(format!("unreadable answer to {what}")))
    }

    /// Sends a request with the client's credentials. An installation token GitHub
    /// refuses (revoked, or expired early) is forgotten and the request sent once more
    /// with a new one: a 401 means nothing was done.
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, GitHubError> {
        let app = match &self.credentials {
            Credentials::Token(t) => return self.send_as_is(authorized(req, t)).await,
            Credentials::App(app) => app,
        };
        let token = self.installation_token(app).await?;
        let resp = self.send_as_is(authorized(req.clone(), &token)).await?;
        if resp.status != 401 {
            return Ok(resp);
        }
        app.tokens.forget(&self.repo_key());
        let token = self.installation_token(app).await?;
        self.send_as_is(authorized(req, &token)).await
    }

    /// The cache key of this client's repository.
    fn repo_key(&self) -> String {
        format!("{}/{}", self.repo.owner, self.repo.name).to_ascii_lowercase()
    }

    /// A token of the app's installation on this repository, limited to it: cached,
    /// or made with the app's JWT (two requests).
    async fn installation_token(&self, app: &App<S>) -> Result<String, GitHubError> {
        #[derive(Deserialize)]
        struct Installation {
            id: u64,
        }
        #[derive(Deserialize)]
        struct Token {
            token: String,
            expires_at: String,
        }
        let key = self.repo_key();
        let now = (self.now_secs)();
        if let Some(token) = app.tokens.get(&key, now) {
            return Ok(token);
        }
        let input = app::jwt_signing_input(&app.app_id, now);
        let signature =
            app.signer
                .sign(input.as_bytes())
                .await
                .map_err(|m| GitHubError::Unauthorized {
                    status: 401,
                    message: format!(
                    "the GitHub App's JWT could not be signed ({m}); check GITHUB_APP_PRIVATE_KEY"
                ),
                })?;
        let jwt = app::jwt(&input, &signature);
        let installation: Installation = self
            .as_app("GET", self.repo_url("installation"), &jwt, None, 200)
            .await
            .map_err(|e| match e {
                GitHubError::NotFound { .. } => GitHubError::NotFound {
                    message: format!(
                        "the GitHub App {} is not installed on {}/{}; install it on that repository",
                        app.app_id, self.repo.owner, self.repo.name
                    ),
                },
                e => e,
            })?;
        let url = format!(
            "{}/app/installations/{}/access_tokens",
            self.api_base, installation.id
        );
        // Only this repository, and only what the service needs.
        let body = serde_json::json!({
            "repositories": [self.repo.name],
            "permissions": {"contents": "write", "metadata": "read"},
        });
        let t: Token = self.as_app("POST", url, &jwt, Some(body), 201).await?;
        let expires = time::OffsetDateTime::parse(
            &t.expires_at,
            &time::format_description::well_known::Rfc3339,
        )
        .map_or(now + 3600, |at| at.unix_timestamp().max(0) as u64);
        app.tokens.put(&key, t.token.clone(), expires);
        Ok(t.token)
    }

    /// A person's permission on this client's repository (GitHub's collaborator
    /// permission; someone GitHub does not know has none).
    pub async fn permission_of(&self, login: &str) -> Result<Permission, GitHubError> {
        #[derive(Deserialize)]
        struct Answer {
            permission: String,
        }
        if let Credentials::App(app) = &self.credentials {
            // An app that is not installed must say so, not read as "no access".
            self.installation_token(app).await?;
        }
        let url = self.repo_url(&format!(
            "collaborators/{}/permission",
            encode_component(login)
        ));
        match self
            .json_call::<Answer>("GET", url, None, &[200], "the collaborator permission")
            .await
        {
            Ok(a) => Ok(Permission::parse(&a.permission)),
            Err(GitHubError::NotFound { .. }) => Ok(Permission::None),
            Err(e) => Err(e),
        }
    }

    /// A request authenticated as the app itself (its JWT), answered with `ok`.
    async fn as_app<T: DeserializeOwned>(
        &self,
        method: &'static str,
        url: String,
        jwt: &str,
        body: Option<serde_json::Value>,
        ok: u16,
    ) -> Result<T, GitHubError> {
        let mut req = self.request(method, url, ACCEPT_JSON, body.map(|b| b.to_string()));
        req.headers
            .insert(0, ("Authorization".to_string(), format!("Bearer {jwt}")));
        let resp = self.send_as_is(req).await?;
        if resp.status != ok {
            return Err(self.fail(&resp));
        }
        serde_json::from_slice(&resp.body)
            .map_err(|_| bad("unreadable answer about the GitHub App's installation"))
    }

    async fn send_as_is(&self, req: HttpRequest) -> Result<HttpResponse, GitHubError> {
        self.http.send(req).await.map_err(|e| match e {
            SendError::TooManySubrequests => GitHubError::TooManySubrequests,
            e => GitHubError::Network {
                message: e.to_string(),
            },
        })
    }

    fn fail(&self, resp: &HttpResponse) -> GitHubError {
        classify(resp, (self.now_secs)())
    }

    async fn get_conditional(
        &self,
        path: &str,
        accept: &str,
        if_none_match: Option<&str>,
    ) -> Result<Option<HttpResponse>, GitHubError> {
        let url = format!(
            "{}?ref={}",
            self.contents_url(path),
            encode_component(&self.repo.branch)
        );
        let mut req = self.request("GET", url, accept, None);
        if let Some(etag) = if_none_match {
            req.headers
                .push(("If-None-Match".to_string(), etag.to_string()));
        }
        let resp = self.send(req).await?;
        match resp.status {
            200 => Ok(Some(resp)),
            304 => Ok(None),
            _ => Err(self.fail(&resp)),
        }
    }
    /// A conditional GET of JSON from the Contents API: `None` when unchanged
    /// (304), else the parsed body and its ETag. `what` names the shape
    /// expected ("a file", "a directory") for the error when it is not.
    async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        if_none_match: Option<&str>,
        what: &str,
    ) -> Result<Option<(T, Option<String>)>, GitHubError> {
        let Some(resp) = self
            .get_conditional(path, ACCEPT_JSON, if_none_match)
            .await?
        else {
            return Ok(None);
        };
        let etag = resp.header("etag").map(str::to_string);
        let body = serde_json::from_slice(&resp.body)
            .map_err(|_| bad(format!("'{path}' is not {what}")))?;
        Ok(Some((body, etag)))
    }
}

/// `req` with `Authorization: Bearer <token>` first.
fn authorized(mut req: HttpRequest, token: &str) -> HttpRequest {
    req.headers
        .insert(0, ("Authorization".to_string(), format!("Bearer {token}")));
    req
}

fn bad(message: impl Into<String>) -> GitHubError {
    GitHubError::BadResponse {
        message: message.into(),
    }
}

/// Decodes GitHub's base64, which comes in lines of 60 characters.
pub fn decode_base64_lines(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(compact)
}

fn utf8(bytes: Vec<u8>, path: &str) -> Result<String, GitHubError> {
    String::from_utf8(bytes).map_err(|_| bad(format!("{path} is not UTF-8 text")))
}

impl<H: HttpClient, S: AppSigner> GitHost for GitHubClient<H, S> {
    async fn get_file(
        &self,
        path: &str,
        if_none_match: Option<&str>,
    ) -> Result<Fetched<RemoteFile>, GitHubError> {
        let Some((body, etag)) = self
            .get_json::<ContentBody>(path, if_none_match, "a file")
            .await?
        else {
            return Ok(Fetched::NotModified);
        };
        if body.kind != "file" {
            return Err(bad(format!("{path} is a {}, not a file", body.kind)));
        }
        let bytes = match body.encoding.as_str() {
            "base64" => decode_base64_lines(&body.content)
                .map_err(|e| bad(format!("base64 content of {path}: {e}")))?,
            // Files over 1 MB come without content: fetch the raw bytes.
            _ => match self.get_conditional(path, ACCEPT_RAW, None).await? {
                Some(raw) => raw.body,
                None => return Err(bad(format!("raw read of {path} answered 304"))),
            },
        };
        Ok(Fetched::Modified(RemoteFile {
            content: utf8(bytes, path)?,
            sha: Sha(body.sha),
            etag,
        }))
    }

    async fn list_dir(
        &self,
        path: &str,
        if_none_match: Option<&str>,
    ) -> Result<Fetched<Listing>, GitHubError> {
        let Some((entries, etag)) = self
            .get_json::<Vec<DirEntry>>(path, if_none_match, "a directory")
            .await?
        else {
            return Ok(Fetched::NotModified);
        };
        Ok(Fetched::Modified(Listing { entries, etag }))
    }

    async fn put_file(&self, put: PutFile<'_>) -> Result<Written, GitHubError> {
        let mut body = serde_json::json!({
            "message": put.message,
            "content": base64::engine::general_purpose::STANDARD.encode(put.content.as_bytes()),
            "branch": self.repo.branch,
        });
        if let Some(sha) = put.sha {
            body["sha"] = serde_json::Value::String(sha.to_string());
        }
        let req = self.request(
            "PUT",
            self.contents_url(put.path),
            ACCEPT_JSON,
            Some(body.to_string()),
        );
        let resp = self.send(req).await?;
        if resp.status != 200 && resp.status != 201 {
            return Err(self.fail(&resp));
        }
        let parsed: PutBody = serde_json::from_slice(&resp.body)
            .map_err(|_| bad("PUT answer without content and commit"))?;
        Ok(Written {
            blob_sha: Sha(parsed.content.sha),
            commit_sha: Sha(parsed.commit.sha),
        })
    }

    async fn branch_head(&self) -> Result<Sha, GitHubError> {
        let url = self.repo_url(&format!("git/ref/{}", self.branch_ref()));
        let r: RefBody = self
            .json_call("GET", url, None, &[200], "GET git/ref")
            .await?;
        Ok(Sha(r.object.sha))
    }

    async fn tree_at(&self, commit_sha: &str) -> Result<Tree, GitHubError> {
        let url = self.repo_url(&format!(
            "git/trees/{}?recursive=1",
            encode_component(commit_sha)
        ));
        let t: TreeBody = self
            .json_call("GET", url, None, &[200], "GET git/trees")
            .await?;
        if t.truncated {
            return Err(bad(
                "the repository tree is too large to list in one request",
            ));
        }
        let blobs = t
            .tree
            .into_iter()
            .filter(|i| i.kind == "blob")
            .map(|i| (i.path, Sha(i.sha)))
            .collect();
        Ok(Tree {
            sha: Sha(t.sha),
            blobs,
        })
    }

    async fn create_tree(
        &self,
        base_tree: &str,
        files: &[TreeFile<'_>],
    ) -> Result<Sha, GitHubError> {
        let tree: Vec<serde_json::Value> = files
            .iter()
            .map(|f| serde_json::json!({"path": f.path, "mode": "100644", "type": "blob", "content": f.content}))
            .collect();
        let body = serde_json::json!({"base_tree": base_tree, "tree": tree});
        let t: ShaOnly = self
            .json_call(
                "POST",
                self.repo_url("git/trees"),
                Some(body),
                &[201, 200],
                "POST git/trees",
            )
            .await?;
        Ok(Sha(t.sha))
    }

    async fn create_commit(
        &self,
        message: &str,
        tree: &str,
        parent: &str,
    ) -> Result<Sha, GitHubError> {
        let body = serde_json::json!({"message": message, "tree": tree, "parents": [parent]});
        let c: ShaOnly = self
            .json_call(
                "POST",
                self.repo_url("git/commits"),
                Some(body),
                &[201, 200],
                "POST git/commits",
            )
            .await?;
        Ok(Sha(c.sha))
    }

    async fn update_branch(&self, commit_sha: &str) -> Result<(), GitHubError> {
        let url = self.repo_url(&format!("git/refs/{}", self.branch_ref()));
        let body = serde_json::json!({"sha": commit_sha, "force": false});
        let _: serde_json::Value = self
            .json_call("PATCH", url, Some(body), &[200], "PATCH git/refs")
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// Replays canned responses and records requests.
    struct Canned {
        responses: RefCell<Vec<HttpResponse>>,
        seen: RefCell<Vec<HttpRequest>>,
    }

    impl HttpClient for &Canned {
        async fn send(&self, request: HttpRequest) -> Result<HttpResponse, SendError> {
            self.seen.borrow_mut().push(request);
            let mut r = self.responses.borrow_mut();
            if r.is_empty() {
                Err(SendError::Failed("connection refused".into()))
            } else {
                Ok(r.remove(0))
            }
        }
    }

    fn client(c: &Canned) -> GitHubClient<&Canned> {
        let repo = Repo {
            owner: "acme".into(),
            name: "threads".into(),
            branch: "feature/x".into(),
        };
        GitHubClient::new(c, "http://host/", repo, "s3cret-token", "ua/1", || 1000)
    }

    fn canned(responses: Vec<HttpResponse>) -> Canned {
        Canned {
            responses: RefCell::new(responses),
            seen: RefCell::new(vec![]),
        }
    }

    fn json(status: u16, v: serde_json::Value, headers: &[(&str, &str)]) -> HttpResponse {
        HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: v.to_string().into_bytes(),
        }
    }

    #[test]
    fn get_decodes_60_column_base64_and_sends_the_required_headers() {
        let text = "x".repeat(100);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&text);
        let wrapped: String = b64
            .as_bytes()
            .chunks(60)
            .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
            .collect();
        let c = canned(vec![json(
            200,
            serde_json::json!({"type": "file", "encoding": "base64", "content": wrapped, "sha": "abc"}),
            &[("etag", "W/\"e1\"")],
        )]);
        let got = futures::executor::block_on(client(&c).get_file("dir/t.md", Some("W/\"old\"")))
            .unwrap();
        assert_eq!(
            got,
            Fetched::Modified(RemoteFile {
                content: text,
                sha: "abc".into(),
                etag: Some("W/\"e1\"".into())
            })
        );
        let req = &c.seen.borrow()[0];
        assert_eq!(
            req.url,
            "http://host/repos/acme/threads/contents/dir/t.md?ref=feature%2Fx"
        );
        let h = |n: &str| {
            req.headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(h("Authorization").as_deref(), Some("Bearer s3cret-token"));
        assert_eq!(h("Accept").as_deref(), Some(ACCEPT_JSON));
        assert_eq!(h("X-GitHub-Api-Version").as_deref(), Some(API_VERSION));
        assert_eq!(h("User-Agent").as_deref(), Some("ua/1"));
        assert_eq!(h("If-None-Match").as_deref(), Some("W/\"old\""));
    }

    #[test]
    fn large_files_are_read_raw() {
        let c = canned(vec![
            json(
                200,
                serde_json::json!({"type": "file", "encoding": "none", "content": "", "sha": "big"}),
                &[],
            ),
            HttpResponse {
                status: 200,
                headers: vec![],
                body: b"raw text".to_vec(),
            },
        ]);
        let got = futures::executor::block_on(client(&c).get_file("t.md", None)).unwrap();
        assert!(matches!(got, Fetched::Modified(f) if f.content == "raw text" && f.sha == "big"));
        assert_eq!(c.seen.borrow()[1].headers[1].1, ACCEPT_RAW);
    }

    #[test]
    fn not_modified_and_errors() {
        let c = canned(vec![
            HttpResponse {
                status: 304,
                ..Default::default()
            },
            json(404, serde_json::json!({"message": "Not Found"}), &[]),
        ]);
        let cl = client(&c);
        assert_eq!(
            futures::executor::block_on(cl.get_file("t.md", Some("e"))),
            Ok(Fetched::NotModified)
        );
        assert!(matches!(
            futures::executor::block_on(cl.get_file("t.md", None)),
            Err(GitHubError::NotFound { .. })
        ));
        let err = futures::executor::block_on(cl.get_file("t.md", None)).unwrap_err();
        assert!(matches!(err, GitHubError::Network { .. }));
        assert!(!format!("{err} {err:?} {cl:?}").contains("s3cret"));
    }

    #[test]
    fn put_sends_sha_and_branch_and_reads_both_shas() {
        let c = canned(vec![json(
            200,
            serde_json::json!({"content": {"sha": "blob2"}, "commit": {"sha": "commit2"}}),
            &[],
        )]);
        let w = futures::executor::block_on(client(&c).put_file(PutFile {
            path: "t.md",
            content: "hello",
            sha: Some("blob1"),
            message: "m",
        }))
        .unwrap();
        assert_eq!(
            w,
            Written {
                blob_sha: "blob2".into(),
                commit_sha: "commit2".into()
            }
        );
        let req = &c.seen.borrow()[0];
        let body: serde_json::Value = serde_json::from_str(req.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["sha"], "blob1");
        assert_eq!(body["branch"], "feature/x");
        assert_eq!(body["content"], "aGVsbG8=");
        assert_eq!(req.method, "PUT");
    }

    #[test]
    fn put_conflicts_are_classified() {
        let c = canned(vec![json(
            409,
            serde_json::json!({"message": "t.md does not match blob1"}),
            &[],
        )]);
        let err = futures::executor::block_on(client(&c).put_file(PutFile {
            path: "t.md",
            content: "x",
            sha: Some("blob1"),
            message: "m",
        }))
        .unwrap_err();
        assert!(matches!(err, GitHubError::FileChanged { .. }));
    }

    #[test]
    fn git_data_requests_have_githubs_shapes() {
        let ok = |v: serde_json::Value, status| json(status, v, &[]);
        let c = canned(vec![
            ok(serde_json::json!({"object": {"sha": "head1"}}), 200),
            ok(
                serde_json::json!({"sha": "tree1", "truncated": false, "tree": [{"path": "t/a.md", "type": "blob", "sha": "blobA"}, {"path": "t", "type": "tree", "sha": "x"}]}),
                200,
            ),
            ok(serde_json::json!({"sha": "tree2"}), 201),
            ok(serde_json::json!({"sha": "commit2"}), 201),
            ok(serde_json::json!({"ref": "refs/heads/feature/x"}), 200),
        ]);
        let files = [TreeFile {
            path: "t/a.md",
            content: "A",
            base_sha: Some("blobA"),
        }];
        let commit = futures::executor::block_on(crate::github::commit_files(
            &client(&c),
            &files,
            "msg",
            async || {},
        ))
        .unwrap();
        assert_eq!(commit, "commit2");
        let seen = c.seen.borrow();
        let calls: Vec<(&str, &str)> = seen.iter().map(|r| (r.method, r.url.as_str())).collect();
        assert_eq!(
            calls,
            [
                (
                    "GET",
                    "http://host/repos/acme/threads/git/ref/heads/feature/x"
                ),
                (
                    "GET",
                    "http://host/repos/acme/threads/git/trees/head1?recursive=1"
                ),
                ("POST", "http://host/repos/acme/threads/git/trees"),
                ("POST", "http://host/repos/acme/threads/git/commits"),
                (
                    "PATCH",
                    "http://host/repos/acme/threads/git/refs/heads/feature/x"
                ),
            ]
        );
        let body = |i: usize| {
            serde_json::from_str::<serde_json::Value>(seen[i].body.as_deref().unwrap()).unwrap()
        };
        assert_eq!(
            body(2),
            serde_json::json!({"base_tree": "tree1", "tree": [{"path": "t/a.md", "mode": "100644", "type": "blob", "content": "A"}]})
        );
        assert_eq!(
            body(3),
            serde_json::json!({"message": "msg", "tree": "tree2", "parents": ["head1"]})
        );
        assert_eq!(
            body(4),
            serde_json::json!({"sha": "commit2", "force": false})
        );
    }

    #[test]
    fn a_lost_fast_forward_is_a_branch_race() {
        let c = canned(vec![json(
            422,
            serde_json::json!({"message": "Update is not a fast forward"}),
            &[],
        )]);
        let err = futures::executor::block_on(client(&c).update_branch("c")).unwrap_err();
        assert!(matches!(err, GitHubError::BranchMoved { .. }));
    }

    /// Signs with fixed bytes: the JWT's form is what is checked here (the git host
    /// checks real signatures end to end).
    struct FixedSigner;

    impl AppSigner for FixedSigner {
        async fn sign(&self, _message: &[u8]) -> Result<Vec<u8>, String> {
            Ok(vec![1, 2, 3])
        }
    }

    fn app_client<'c>(
        c: &'c Canned,
        tokens: &std::rc::Rc<app::TokenCache>,
    ) -> GitHubClient<&'c Canned, FixedSigner> {
        let repo = Repo {
            owner: "Acme".into(),
            name: "threads".into(),
            branch: "main".into(),
        };
        let credentials = Credentials::App(App {
            app_id: "42".into(),
            signer: FixedSigner,
            tokens: tokens.clone(),
        });
        GitHubClient::with_credentials(c, "http://host", repo, credentials, "ua/1", || 1_000_000)
    }

    fn bearer(req: &HttpRequest) -> String {
        req.headers
            .iter()
            .find(|(k, _)| k == "Authorization")
            .map(|(_, v)| v.clone())
            .unwrap()
    }

    #[test]
    fn as_an_app_it_finds_the_installation_makes_a_token_for_the_repository_and_keeps_it() {
        let file = || {
            json(
                200,
                serde_json::json!({"type": "file", "encoding": "base64", "content": "eA==", "sha": "s"}),
                &[],
            )
        };
        let c = canned(vec![
            json(200, serde_json::json!({"id": 7}), &[]),
            json(
                201,
                serde_json::json!({"token": "ghs_one", "expires_at": "1970-01-12T14:46:40Z"}),
                &[],
            ),
            file(),
            file(),
        ]);
        let tokens = std::rc::Rc::new(app::TokenCache::default());
        let cl = app_client(&c, &tokens);
        futures::executor::block_on(cl.get_file("t.md", None)).unwrap();
        futures::executor::block_on(cl.get_file("t.md", None)).unwrap();
        let seen = c.seen.borrow();
        assert_eq!(seen.len(), 4, "the token is made once");
        assert_eq!(seen[0].url, "http://host/repos/Acme/threads/installation");
        let jwt = bearer(&seen[0]);
        assert!(
            jwt.starts_with("Bearer ey") && jwt.ends_with(".AQID"),
            "{jwt}"
        );
        assert_eq!(bearer(&seen[1]), jwt);
        assert_eq!(seen[1].url, "http://host/app/installations/7/access_tokens");
        assert_eq!(
            seen[1].body.as_deref(),
            Some(
                r#"{"permissions":{"contents":"write","metadata":"read"},"repositories":["threads"]}"#
            )
        );
        assert_eq!(bearer(&seen[2]), "Bearer ghs_one");
        assert_eq!(bearer(&seen[3]), "Bearer ghs_one");
        // 1970-01-12T14:46:40Z is 1,000,000 s: kept until then, less the margin.
        assert_eq!(
            tokens.get("acme/threads", 999_000).as_deref(),
            Some("ghs_one")
        );
    }

    #[test]
    fn as_an_app_a_refused_token_is_replaced_once_and_a_missing_installation_is_named() {
        let tokens = std::rc::Rc::new(app::TokenCache::default());
        tokens.put("acme/threads", "ghs_old".into(), 2_000_000);
        let file = json(
            200,
            serde_json::json!({"type": "file", "encoding": "base64", "content": "eA==", "sha": "s"}),
            &[],
        );
        let c = canned(vec![
            json(401, serde_json::json!({"message": "Bad credentials"}), &[]),
            json(200, serde_json::json!({"id": 7}), &[]),
            json(
                201,
                serde_json::json!({"token": "ghs_new", "expires_at": "1970-01-12T14:46:40Z"}),
                &[],
            ),
            file,
        ]);
        let cl = app_client(&c, &tokens);
        futures::executor::block_on(cl.get_file("t.md", None)).unwrap();
        let seen = c.seen.borrow();
        assert_eq!(bearer(&seen[0]), "Bearer ghs_old");
        assert_eq!(bearer(&seen[3]), "Bearer ghs_new");
        assert_eq!(tokens.get("acme/threads", 0).as_deref(), Some("ghs_new"));

        let tokens = std::rc::Rc::new(app::TokenCache::default());
        let c = canned(vec![json(
            404,
            serde_json::json!({"message": "Not Found"}),
            &[],
        )]);
        let err = futures::executor::block_on(app_client(&c, &tokens).get_file("t.md", None))
            .unwrap_err();
        let GitHubError::NotFound { message } = err else {
            panic!("{err:?}")
        };
        assert!(
            message.contains("not installed on Acme/threads"),
            "{message}"
        );
    }
}
