//! Test harness: an in-process githost on a random port with a temporary data
//! directory, a tiny HTTP/1.1 client and git helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use githost::{Config, SharedState};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// Token used by default in requests.
pub const TOKEN: &str = "test-token";

/// The GitHub App id configured by [`Host::start_with_app`].
pub const APP_ID: &str = "4242";
/// The app's private key (a throwaway test key).
pub const APP_PRIVATE_KEY: &str = include_str!("../fixtures/app-key.pem");
/// The app's public key.
pub const APP_PUBLIC_KEY: &str = include_str!("../fixtures/app-public.pem");
/// An unrelated private key.
pub const OTHER_PRIVATE_KEY: &str = include_str!("../fixtures/other-key.pem");

/// Seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A JWT with `claims` signed by the app's key.
pub fn jwt(claims: Value) -> String {
    githost::ghapp::sign_jwt(APP_PRIVATE_KEY, &claims).unwrap()
}

/// A valid app JWT, made like the Worker makes it.
pub fn app_jwt() -> String {
    let now = now();
    jwt(json!({"iat": now - 60, "exp": now + 540, "iss": APP_ID}))
}

/// A parsed HTTP response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn message(&self) -> String {
        self.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn rate(&self, name: &str) -> u64 {
        self.header(&format!("x-ratelimit-{name}"))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("missing x-ratelimit-{name}"))
    }
}

/// Decode a chunked transfer-encoded body.
fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..pos]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        data = &data[pos + 2..];
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
    out
}

/// Send one request on a fresh connection (`Connection: close`).
/// Returns `Err` if the server closed the connection without answering.
pub async fn raw_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> std::io::Result<Resp> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let body = body.unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut data = Vec::new();
    stream.read_to_end(&mut data).await?;
    let Some(split) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "no response",
        ));
    };
    let head = String::from_utf8_lossy(&data[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = data[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Ok(Resp {
        status,
        headers,
        body,
    })
}

/// A running in-process githost.
pub struct Host {
    pub port: u16,
    pub base: String,
    pub state: SharedState,
    pub dir: PathBuf,
    _tmp: TempDir,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Host {
    pub async fn start() -> Host {
        Self::start_with_tokens(Vec::new()).await
    }

    pub async fn start_with_tokens(tokens: Vec<String>) -> Host {
        Self::start_with(|config| config.tokens = tokens).await
    }

    /// Start with the GitHub App [`APP_ID`] configured.
    pub async fn start_with_app() -> Host {
        Self::start_with(|config| {
            config.app_id = Some(APP_ID.to_string());
            config.app_public_key = Some(APP_PUBLIC_KEY.to_string());
        })
        .await
    }

    /// Start with a configuration adjusted by `adjust`.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Host {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut config = Config::new(tmp.path().join("data"));
        adjust(&mut config);
        let bound = githost::bind(&config).await.expect("bind");
        bound.state.set_request_logging(false);
        let app = githost::app::router(bound.state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(githost::server::serve(bound.listener, app, async {
            let _ = rx.await;
        }));
        Host {
            port: bound.port,
            base: format!("http://127.0.0.1:{}", bound.port),
            dir: bound.state.dir.clone(),
            state: bound.state,
            _tmp: tmp,
            shutdown: Some(tx),
        }
    }

    /// Request with arbitrary headers (no defaults).
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Resp {
        raw_request(self.port, method, path, headers, body)
            .await
            .expect("request failed")
    }

    /// GitHub-route request with User-Agent and the default token.
    pub async fn gh(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        self.gh_with(method, path, &[], body).await
    }

    /// GitHub-route request with extra headers.
    pub async fn gh_with(
        &self,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<Value>,
    ) -> Resp {
        self.gh_as(TOKEN, method, path, extra, body).await
    }

    /// GitHub-route request with `token` and extra headers.
    pub async fn gh_as(
        &self,
        token: &str,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<Value>,
    ) -> Resp {
        let auth = format!("Bearer {token}");
        let mut headers = vec![
            ("User-Agent", "githost-tests"),
            ("Authorization", auth.as_str()),
        ];
        if !extra.iter().any(|(k, _)| k.eq_ignore_ascii_case("accept")) {
            headers.push(("Accept", "application/vnd.github+json"));
        }
        headers.extend_from_slice(extra);
        let bytes = body.map(|b| serde_json::to_vec(&b).unwrap());
        self.send(method, path, &headers, bytes.as_deref()).await
    }

    /// Admin request with a JSON body.
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let bytes = body.map(|b| serde_json::to_vec(&b).unwrap());
        self.send(
            method,
            path,
            &[("Content-Type", "application/json")],
            bytes.as_deref(),
        )
        .await
    }

    /// Create `owner/name` with `files` on main; returns the head sha.
    pub async fn seed(&self, owner: &str, name: &str, files: Value) -> String {
        let r = self
            .admin(
                "POST",
                "/_githost/repos",
                Some(json!({"owner": owner, "name": name, "files": files})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        r.json()["head"].as_str().unwrap_or_default().to_string()
    }

    /// PUT contents with text content.
    pub async fn put_file(&self, repo: &str, path: &str, text: &str, sha: Option<&str>) -> Resp {
        let mut body = json!({
            "message": format!("write {path}"),
            "content": b64(text.as_bytes()),
        });
        if let Some(sha) = sha {
            body["sha"] = json!(sha);
        }
        self.gh("PUT", &format!("/repos/{repo}/contents/{path}"), Some(body))
            .await
    }

    pub fn repo_path(&self, owner: &str, name: &str) -> PathBuf {
        self.dir.join(owner).join(format!("{name}.git"))
    }

    /// Run git against a bare repository, returning trimmed stdout.
    pub fn git(&self, owner: &str, name: &str, args: &[&str]) -> String {
        git_in(&self.repo_path(owner, name), args)
    }
}

/// Standard base64.
pub fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Decode GitHub's line-wrapped base64.
pub fn unb64(text: &str) -> Vec<u8> {
    let compact: String = text.chars().filter(|c| *c != '\n').collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .expect("valid base64")
}

/// Run git with `--git-dir=<dir>`.
pub fn git_in(git_dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg(format!("--git-dir={}", git_dir.display()))
        .args(args)
        .env("GIT_AUTHOR_NAME", "outsider")
        .env("GIT_AUTHOR_EMAIL", "out@example.com")
        .env("GIT_COMMITTER_NAME", "outsider")
        .env("GIT_COMMITTER_EMAIL", "out@example.com")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Run git in a work tree directory.
pub fn git_work(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "outsider")
        .env("GIT_AUTHOR_EMAIL", "out@example.com")
        .env("GIT_COMMITTER_NAME", "outsider")
        .env("GIT_COMMITTER_EMAIL", "out@example.com")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Make a commit on `branch` of a bare repo with plain git (an outside writer).
pub fn outside_commit(git_dir: &Path, branch: &str, path: &str, text: &str) -> String {
    let tmp = tempfile::tempdir().expect("tempdir");
    let index = tmp.path().join("index");
    let run = |args: &[&str], input: Option<&str>| -> String {
        use std::io::Write;
        let mut cmd = Command::new("git");
        cmd.arg(format!("--git-dir={}", git_dir.display()))
            .args(args)
            .env("GIT_INDEX_FILE", &index)
            .env("GIT_AUTHOR_NAME", "outsider")
            .env("GIT_AUTHOR_EMAIL", "out@example.com")
            .env("GIT_COMMITTER_NAME", "outsider")
            .env("GIT_COMMITTER_EMAIL", "out@example.com")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().expect("spawn git");
        if let Some(input) = input {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let head = run(&["rev-parse", &format!("refs/heads/{branch}")], None);
    run(&["read-tree", &head], None);
    let blob = run(&["hash-object", "-w", "--stdin"], Some(text));
    run(
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("100644,{blob},{path}"),
        ],
        None,
    );
    let tree = run(&["write-tree"], None);
    let commit = run(
        &["commit-tree", &tree, "-p", &head, "-m", "outside commit"],
        None,
    );
    run(
        &[
            "update-ref",
            &format!("refs/heads/{branch}"),
            &commit,
            &head,
        ],
        None,
    );
    commit
}
