//! Settings, read from the Worker's vars and secrets through a lookup function, so
//! the parsing and its error messages are tested natively. [`SETTINGS`] is the one
//! table of every setting: its name, where it lives, its default and its meaning;
//! README.md and .dev.vars.example are checked against it.

use crate::auth::AuthTokens;
use crate::github::pattern::is_name;
use crate::github::{Repo, RepoPattern};
use crate::writer::WriterConfig;

/// Where a setting lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A plain var (`wrangler.toml [vars]`, or `.dev.vars` locally).
    Var,
    /// A secret (`wrangler secret put`).
    Secret,
}

/// One setting.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// Its name.
    pub name: &'static str,
    /// Where it lives.
    pub kind: Kind,
    /// Its default as written in the docs (empty: required, or none).
    pub default: &'static str,
    /// What it means.
    pub doc: &'static str,
}

const fn var(name: &'static str, default: &'static str, doc: &'static str) -> Setting {
    Setting {
        name,
        kind: Kind::Var,
        default,
        doc,
    }
}

/// Every setting the Worker reads.
pub const SETTINGS: [Setting; 25] = [
    var(
        "GITHUB_REPO",
        "",
        "owner/name of the repository holding the threads (required)",
    ),
    var(
        "GITHUB_REPOS",
        "",
        "more repositories to serve, comma-separated owner/name or owner/* (GITHUB_REPO is always served)",
    ),
    var("GITHUB_BRANCH", "main", "branch to read and write, in every repository"),
    var(
        "THREADS_DIR",
        "",
        "directory of thread files in the repository (default: the root)",
    ),
    var(
        "GITHUB_API_BASE",
        "https://api.github.com",
        "GitHub REST base URL",
    ),
    var(
        "CACHE_TTL_SECONDS",
        "30",
        "how long a cached file or listing is served before it is revalidated (0 to 86400)",
    ),
    Setting {
        name: "GITHUB_TOKEN",
        kind: Kind::Secret,
        default: "",
        doc: "a token with contents read and write on the served repositories (this, or the GitHub App)",
    },
    var(
        "GITHUB_APP_ID",
        "",
        "the GitHub App the service acts as (its app id or client id), with GITHUB_APP_PRIVATE_KEY",
    ),
    Setting {
        name: "GITHUB_APP_PRIVATE_KEY",
        kind: Kind::Secret,
        default: "",
        doc: "the GitHub App's private key (PEM)",
    },
    Setting {
        name: "AUTH_TOKENS",
        kind: Kind::Secret,
        default: "",
        doc: "JSON: sha256 of each client token -> {user, scopes, agent?, repos?} (required unless sign-in is on)",
    },
    var(
        "GITHUB_OAUTH_CLIENT_ID",
        "",
        "client id of the GitHub OAuth app (or GitHub App) people sign in with; setting it turns sign-in on",
    ),
    Setting {
        name: "GITHUB_OAUTH_CLIENT_SECRET",
        kind: Kind::Secret,
        default: "",
        doc: "that OAuth app's client secret",
    },
    Setting {
        name: "OAUTH_SIGNING_KEY",
        kind: Kind::Secret,
        default: "",
        doc: "signs the access tokens this service issues: 32 or more random bytes, e.g. openssl rand -base64 32",
    },
    Setting {
        name: "GITHUB_WEBHOOK_SECRET",
        kind: Kind::Secret,
        default: "",
        doc: "the secret of the repository's push webhook to /webhooks/github; outside pushes are then seen at once",
    },
    var(
        "GITHUB_WEB_BASE",
        "https://github.com",
        "where people sign in to GitHub (GitHub Enterprise, or the local git host)",
    ),
    var(
        "ALLOWED_ORIGINS",
        "",
        "comma-separated browser origins allowed to call /mcp, or *",
    ),
    var(
        "WRITE_PACING_MS",
        "1000",
        "minimum milliseconds between mutating GitHub requests",
    ),
    var(
        "WRITE_WAIT_SECONDS",
        "10",
        "how long a write waits for its commit before 202 queued (0 to 60)",
    ),
    var(
        "WRITE_MAX_ATTEMPTS",
        "10",
        "attempts before a refused write is marked failed",
    ),
    var(
        "GITHUB_TIMEOUT_SECONDS",
        "10",
        "every GitHub request gives up after this long (1 to 300)",
    ),
    var(
        "WRITE_SUBREQUEST_BUDGET",
        "40",
        "GitHub requests one writer invocation may make",
    ),
    var(
        "MAX_THREAD_BYTES",
        "1048576",
        "the largest a thread file may grow by an append",
    ),
    var(
        "EVENTS_KEEP",
        "10000",
        "how many events are kept for waiters; an older cursor answers 410",
    ),
    var(
        "POLL_SECONDS",
        "30",
        "without a webhook, how often the branch is checked for outside pushes while anyone waits",
    ),
    var(
        "NOT_FOUND_CACHE_SECONDS",
        "10",
        "how long \"no such thread\" is believed without asking GitHub",
    ),
];

/// The longest cache TTL accepted.
pub const MAX_CACHE_TTL_SECONDS: u64 = 86_400;

/// The Worker's configuration.
#[derive(Clone)]
pub struct Config {
    /// The repository and branch this request is served from.
    pub repo: Repo,
    /// The repository served at the routes that name none (GITHUB_REPO).
    pub default_repo: Repo,
    /// The other repositories served, under `/v1/repos/{owner}/{name}` and
    /// `/mcp/{owner}/{name}` (GITHUB_REPOS).
    pub repos: Vec<RepoPattern>,
    /// Directory of thread files, without leading or trailing `/`; `""` is the root.
    pub threads_dir: String,
    /// GitHub's REST base URL.
    pub api_base: String,
    /// How long a cached file or listing is fresh.
    pub cache_ttl_seconds: u64,
    /// How the service authenticates to GitHub.
    pub github: GitHubAuth,
    /// The client tokens.
    pub tokens: AuthTokens,
    /// Sign-in with GitHub, when on.
    pub oauth: Option<OAuthConfig>,
    /// The webhook secret, when push webhooks are on.
    pub webhook_secret: Option<String>,
    /// Browser origins allowed to call `/mcp` (`*` for any). Requests without an
    /// `Origin` header are not affected.
    pub allowed_origins: Vec<String>,
    /// How the branch writer paces, waits and gives up.
    pub writer: WriterConfig,
    /// Every GitHub request gives up after this long.
    pub github_timeout_ms: u64,
    /// How long a "not found" is cached.
    pub not_found_cache_seconds: u64,
}

impl Config {
    /// This configuration serving `owner/name`, or `None` when the deployment does
    /// not serve it. The default repository keeps its spelling (its writer and cache
    /// are named by it); others are lowercased, so every spelling of one repository
    /// reaches one writer.
    pub fn for_repo(&self, owner: &str, name: &str) -> Option<Config> {
        let d = &self.default_repo;
        let repo = if d.owner.eq_ignore_ascii_case(owner) && d.name.eq_ignore_ascii_case(name) {
            d.clone()
        } else if is_name(owner)
            && is_name(name)
            && self.repos.iter().any(|p| p.matches(owner, name))
        {
            Repo {
                owner: owner.to_ascii_lowercase(),
                name: name.to_ascii_lowercase(),
                branch: d.branch.clone(),
            }
        } else {
            return None;
        };
        Some(Config {
            repo,
            ..self.clone()
        })
    }

    /// Whether a request with this `Origin` header may call `/mcp`.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        self.allowed_origins
            .iter()
            .any(|o| o == "*" || o.eq_ignore_ascii_case(origin.trim_end_matches('/')))
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("repo", &self.repo)
            .field("repos", &self.repos)
            .field("threads_dir", &self.threads_dir)
            .field("api_base", &self.api_base)
            .field("cache_ttl_seconds", &self.cache_ttl_seconds)
            .field("github", &self.github)
            .field("tokens", &format!("<{} client tokens>", self.tokens.len()))
            .field("oauth", &self.oauth)
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "<secret>"),
            )
            .field("allowed_origins", &self.allowed_origins)
            .field("writer", &self.writer)
            .finish()
    }
}

/// How the service authenticates to GitHub: exactly one of the two.
#[derive(Clone, PartialEq, Eq)]
pub enum GitHubAuth {
    /// A token (GITHUB_TOKEN).
    Token(String),
    /// A GitHub App (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY).
    App {
        /// The app's id: its JWTs' issuer.
        app_id: String,
        /// Its private key, PKCS#8 DER.
        key_pkcs8: Vec<u8>,
    },
}

impl std::fmt::Debug for GitHubAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GitHubAuth::Token(_) => write!(f, "Token(<secret>)"),
            GitHubAuth::App { app_id, .. } => write!(f, "App({app_id}, <private key>)"),
        }
    }
}

/// Sign-in with GitHub: the OAuth app people sign in with, and the key that signs
/// the access tokens issued.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthConfig {
    /// The GitHub OAuth app's client id.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: String,
    /// `https://github.com`, or the local git host.
    pub web_base: String,
    /// The HMAC key of access tokens.
    pub signing_key: Vec<u8>,
}

impl std::fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("client_id", &self.client_id)
            .field("web_base", &self.web_base)
            .finish_non_exhaustive()
    }
}

/// A missing or invalid setting, named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The setting.
    pub setting: &'static str,
    /// What is wrong, and what to set.
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.setting, self.message)
    }
}

impl std::error::Error for ConfigError {}

fn err(setting: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        message: message.into(),
    }
}

/// Settings by name, trimmed; unset or empty counts as missing.
struct Lookup<F>(F);

impl<F: Fn(&str) -> Option<String>> Lookup<F> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// A setting's value, or its default from [`SETTINGS`].
    fn or_default(&self, name: &'static str) -> String {
        self.get(name).unwrap_or_else(|| {
            SETTINGS
                .iter()
                .find(|s| s.name == name)
                .map_or("", |s| s.default)
                .to_string()
        })
    }

    fn required(&self, name: &'static str, how: &str) -> Result<String, ConfigError> {
        self.get(name)
            .ok_or_else(|| err(name, format!("is not set; {how}")))
    }

    /// A whole number from 0 to `max` (its default from [`SETTINGS`]).
    fn number(&self, name: &'static str, max: u64, unit: &str) -> Result<u64, ConfigError> {
        let s = self.or_default(name);
        s.parse::<u64>().ok().filter(|n| *n <= max).ok_or_else(|| {
            err(
                name,
                format!("must be a whole number of {unit} from 0 to {max}, got {s:?}"),
            )
        })
    }

    fn repo(&self) -> Result<Repo, ConfigError> {
        let repo_s = self.required(
            "GITHUB_REPO",
            "set it to the threads repository as owner/name in wrangler.toml [vars] or .dev.vars",
        )?;
        let (owner, name) = repo_s
            .split_once('/')
            .filter(|(o, n)| is_name(o) && is_name(n))
            .ok_or_else(|| {
                err(
                    "GITHUB_REPO",
                    format!("must look like owner/name, got {repo_s:?}"),
                )
            })?;
        let branch = self.or_default("GITHUB_BRANCH");
        let bad = branch.contains("..")
            || branch
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(c));
        if bad {
            return Err(err(
                "GITHUB_BRANCH",
                format!("{branch:?} is not a valid branch name"),
            ));
        }
        Ok(Repo {
            owner: owner.to_string(),
            name: name.to_string(),
            branch,
        })
    }

    /// GITHUB_TOKEN, or GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY: exactly one.
    fn github(&self) -> Result<GitHubAuth, ConfigError> {
        let token = self.get("GITHUB_TOKEN");
        let app_id = self.get("GITHUB_APP_ID");
        let key = self.get("GITHUB_APP_PRIVATE_KEY");
        match (token, app_id, key) {
            (Some(t), None, None) => Ok(GitHubAuth::Token(t)),
            (None, Some(app_id), Some(pem)) => {
                let key_pkcs8 = crate::github::app::private_key_pkcs8(&pem)
                    .map_err(|m| err("GITHUB_APP_PRIVATE_KEY", m))?;
                Ok(GitHubAuth::App { app_id, key_pkcs8 })
            }
            (None, Some(_), None) => Err(err(
                "GITHUB_APP_PRIVATE_KEY",
                "is not set; GITHUB_APP_ID needs it: run `wrangler secret put GITHUB_APP_PRIVATE_KEY` with the app's .pem",
            )),
            (None, None, Some(_)) => Err(err(
                "GITHUB_APP_ID",
                "is not set; GITHUB_APP_PRIVATE_KEY needs it: set the app's id in wrangler.toml [vars]",
            )),
            (Some(_), _, _) => Err(err(
                "GITHUB_TOKEN",
                "is set together with the GitHub App; use one: remove GITHUB_TOKEN, or GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY",
            )),
            (None, None, None) => Err(err(
                "GITHUB_TOKEN",
                "is not set, and no GitHub App is: run `wrangler secret put GITHUB_TOKEN`, or set GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY (see Team setup in the README)",
            )),
        }
    }

    /// AUTH_TOKENS: required, unless people can sign in.
    fn tokens(&self, sign_in: bool) -> Result<AuthTokens, ConfigError> {
        match (self.get("AUTH_TOKENS"), sign_in) {
            (None, true) => Ok(AuthTokens::default()),
            (None, false) => Err(err(
                "AUTH_TOKENS",
                "is not set; it maps sha256(client token) to {\"user\", \"scopes\"} (see .dev.vars.example), or turn on sign-in with GITHUB_OAUTH_CLIENT_ID",
            )),
            (Some(json), _) => AuthTokens::parse(&json).map_err(|m| err("AUTH_TOKENS", m)),
        }
    }

    /// Sign-in: on when GITHUB_OAUTH_CLIENT_ID is set, and then complete.
    fn oauth(&self) -> Result<Option<OAuthConfig>, ConfigError> {
        let Some(client_id) = self.get("GITHUB_OAUTH_CLIENT_ID") else {
            return Ok(None);
        };
        let client_secret = self.required(
            "GITHUB_OAUTH_CLIENT_SECRET",
            "sign-in needs the OAuth app's client secret: run `wrangler secret put GITHUB_OAUTH_CLIENT_SECRET`",
        )?;
        let key = self.required(
            "OAUTH_SIGNING_KEY",
            "sign-in needs a key for its access tokens: `openssl rand -base64 32 | wrangler secret put OAUTH_SIGNING_KEY`",
        )?;
        if key.len() < 32 {
            return Err(err(
                "OAUTH_SIGNING_KEY",
                "is shorter than 32 characters; use `openssl rand -base64 32`",
            ));
        }
        let web_base = self.or_default("GITHUB_WEB_BASE");
        if !(web_base.starts_with("https://") || web_base.starts_with("http://")) {
            return Err(err(
                "GITHUB_WEB_BASE",
                format!("must be an http(s) URL, got {web_base:?}"),
            ));
        }
        Ok(Some(OAuthConfig {
            client_id,
            client_secret,
            web_base: web_base.trim_end_matches('/').to_string(),
            signing_key: key.into_bytes(),
        }))
    }

    fn threads_dir(&self) -> Result<String, ConfigError> {
        let dir = self.or_default("THREADS_DIR");
        let threads_dir = dir.trim_matches('/').to_string();
        if !threads_dir.is_empty() && !threads_dir.split('/').all(is_name) {
            return Err(err(
                "THREADS_DIR",
                format!("{dir:?} must be a path of letters, digits, '.', '_' and '-' segments (or empty for the repository root)"),
            ));
        }
        Ok(threads_dir)
    }

    fn api_base(&self) -> Result<String, ConfigError> {
        let api_base = self.or_default("GITHUB_API_BASE");
        if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
            return Err(err(
                "GITHUB_API_BASE",
                format!("must be an http(s) URL, got {api_base:?}"),
            ));
        }
        Ok(api_base.trim_end_matches('/').to_string())
    }

    fn origins(&self) -> Result<Vec<String>, ConfigError> {
        let origins: Vec<String> = self
            .or_default("ALLOWED_ORIGINS")
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_string())
            .filter(|o| !o.is_empty())
            .collect();
        if let Some(bad) = origins
            .iter()
            .find(|o| *o != "*" && !(o.starts_with("https://") || o.starts_with("http://")))
        {
            return Err(err(
                "ALLOWED_ORIGINS",
                format!("{bad:?} is not an origin; use a comma-separated list like https://app.example.com, or *"),
            ));
        }
        Ok(origins)
    }

    fn writer(&self) -> Result<WriterConfig, ConfigError> {
        let min_budget = u64::from(crate::writer::engine::MIN_FLUSH_COST);
        Ok(WriterConfig {
            pacing_ms: self.number("WRITE_PACING_MS", 60_000, "milliseconds")?,
            wait_ms: self.number("WRITE_WAIT_SECONDS", 60, "seconds")? * 1000,
            max_attempts: self.number("WRITE_MAX_ATTEMPTS", 1000, "attempts")?.max(1) as u32,
            poll_ms: WriterConfig::default().poll_ms,
            budget: self
                .number("WRITE_SUBREQUEST_BUDGET", 10_000, "requests")?
                .max(min_budget) as u32,
            max_thread_bytes: self.number("MAX_THREAD_BYTES", 100 << 20, "bytes")? as usize,
            events_keep: self.number("EVENTS_KEEP", 10_000_000, "events")?.max(1),
            outside_poll_ms: self.number("POLL_SECONDS", 3_600, "seconds")?.max(1) * 1000,
        })
    }
}

impl Config {
    /// Reads the configuration; `get` returns a var or secret by name (unset or empty
    /// strings count as missing).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let l = Lookup(get);
        let repo = l.repo()?;
        let threads_dir = l.threads_dir()?;
        let api_base = l.api_base()?;
        let cache_ttl_seconds = l.number("CACHE_TTL_SECONDS", MAX_CACHE_TTL_SECONDS, "seconds")?;
        let github = l.github()?;
        let oauth = l.oauth()?;
        let tokens = l.tokens(oauth.is_some())?;
        let repos = RepoPattern::parse_list(&l.or_default("GITHUB_REPOS")).map_err(|m| {
            err(
                "GITHUB_REPOS",
                format!("{m}; list owner/name or owner/*, comma-separated"),
            )
        })?;
        Ok(Config {
            default_repo: repo.clone(),
            repo,
            repos,
            threads_dir,
            api_base,
            cache_ttl_seconds,
            github,
            tokens,
            oauth,
            webhook_secret: l.get("GITHUB_WEBHOOK_SECRET"),
            allowed_origins: l.origins()?,
            writer: l.writer()?,
            github_timeout_ms: l.number("GITHUB_TIMEOUT_SECONDS", 300, "seconds")?.max(1) * 1000,
            not_found_cache_seconds: l.number(
                "NOT_FOUND_CACHE_SECONDS",
                MAX_CACHE_TTL_SECONDS,
                "seconds",
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const TOKENS: &str = r#"{"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08": {"user": "mira", "scopes": ["read", "write"]}}"#;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("GITHUB_REPO", "acme/threads"),
            ("GITHUB_TOKEN", "ghp_secret"),
            ("AUTH_TOKENS", TOKENS),
        ]
    }

    #[test]
    fn the_settings_table_gives_the_defaults() {
        let c = Config::from_lookup(lookup(&base())).unwrap();
        let w = crate::writer::WriterConfig::default();
        assert_eq!(c.writer.pacing_ms, w.pacing_ms);
        assert_eq!(c.writer.wait_ms, w.wait_ms);
        assert_eq!(c.writer.max_attempts, w.max_attempts);
        assert_eq!(c.writer.budget, w.budget);
        assert_eq!(c.writer.max_thread_bytes, w.max_thread_bytes);
        assert_eq!(c.github_timeout_ms, 10_000);
        assert_eq!(c.not_found_cache_seconds, 10);
        let names: Vec<&str> = SETTINGS.iter().map(|s| s.name).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
    }

    #[test]
    fn defaults_apply() {
        let c = Config::from_lookup(lookup(&base())).unwrap();
        assert_eq!(c.repo.branch, "main");
        assert_eq!(c.threads_dir, "");
        assert_eq!(c.api_base, "https://api.github.com");
        assert_eq!(c.cache_ttl_seconds, 30);
        assert!(!format!("{c:?}").contains("ghp_secret"));
    }

    #[test]
    fn every_bad_setting_is_named() {
        let cases: [(&str, &str); 11] = [
            ("GITHUB_REPO", "nope"),
            ("GITHUB_REPOS", "acme/a, b"),
            ("GITHUB_REPO", "a/b/c"),
            ("GITHUB_BRANCH", "a..b"),
            ("THREADS_DIR", "../etc"),
            ("GITHUB_API_BASE", "ftp://x"),
            ("CACHE_TTL_SECONDS", "soon"),
            ("AUTH_TOKENS", "[]"),
            ("ALLOWED_ORIGINS", "example.com"),
            ("WRITE_PACING_MS", "fast"),
            ("WRITE_WAIT_SECONDS", "600"),
        ];
        for (name, value) in cases {
            let mut pairs = base();
            pairs.retain(|(k, _)| *k != name);
            pairs.push((name, value));
            let e = Config::from_lookup(lookup(&pairs)).unwrap_err();
            assert_eq!(e.setting, name, "{value}: {e}");
        }
        for name in ["GITHUB_REPO", "GITHUB_TOKEN", "AUTH_TOKENS"] {
            let mut pairs = base();
            pairs.retain(|(k, _)| *k != name);
            let e = Config::from_lookup(lookup(&pairs)).unwrap_err();
            assert_eq!(e.setting, name);
            assert!(e.message.contains("not set"));
        }
    }

    #[test]
    fn origins() {
        let mut pairs = base();
        pairs.push((
            "ALLOWED_ORIGINS",
            "https://a.example, http://localhost:6274/",
        ));
        let c = Config::from_lookup(lookup(&pairs)).unwrap();
        assert!(c.origin_allowed("https://a.example"));
        assert!(c.origin_allowed("http://localhost:6274"));
        assert!(!c.origin_allowed("https://evil.example"));
        assert!(!Config::from_lookup(lookup(&base()))
            .unwrap()
            .origin_allowed("https://a.example"));
    }

    #[test]
    fn the_default_repository_and_the_listed_ones_are_served() {
        let mut pairs = base();
        pairs.push(("GITHUB_REPOS", "acme/*, Team/notes"));
        pairs.push(("GITHUB_BRANCH", "trunk"));
        let c = Config::from_lookup(lookup(&pairs)).unwrap();
        let served = |o: &str, n: &str| c.for_repo(o, n).map(|c| c.repo);
        assert_eq!(served("ACME", "Threads").unwrap(), c.default_repo);
        let notes = served("team", "NOTES").unwrap();
        assert_eq!(
            (
                notes.owner.as_str(),
                notes.name.as_str(),
                notes.branch.as_str()
            ),
            ("team", "notes", "trunk")
        );
        assert_eq!(served("acme", "other").unwrap().name, "other");
        assert!(served("team", "other").is_none());
        assert!(served("evil", "threads").is_none());
        assert!(served("acme", "..").is_none());
        let only_default = Config::from_lookup(lookup(&base())).unwrap();
        assert!(only_default.for_repo("acme", "other").is_none());
        assert!(only_default.for_repo("acme", "threads").is_some());
    }

    #[test]
    fn exactly_one_github_identity_is_required() {
        const PEM: &str = include_str!("../tests/fixtures/app-key/pkcs1.pem");
        let with = |extra: &[(&'static str, &'static str)], drop_token: bool| {
            let mut pairs = base();
            if drop_token {
                pairs.retain(|(k, _)| *k != "GITHUB_TOKEN");
            }
            pairs.extend_from_slice(extra);
            Config::from_lookup(lookup(&pairs))
        };
        let app = with(
            &[("GITHUB_APP_ID", "42"), ("GITHUB_APP_PRIVATE_KEY", PEM)],
            true,
        )
        .unwrap();
        assert!(matches!(&app.github, GitHubAuth::App { app_id, .. } if app_id == "42"));
        assert!(
            !format!("{app:?}").contains("MII"),
            "the key is never printed"
        );
        type Settings = &'static [(&'static str, &'static str)];
        let cases: [(Settings, bool, &str); 5] = [
            (
                &[("GITHUB_APP_ID", "42"), ("GITHUB_APP_PRIVATE_KEY", PEM)],
                false,
                "GITHUB_TOKEN",
            ),
            (&[("GITHUB_APP_ID", "42")], true, "GITHUB_APP_PRIVATE_KEY"),
            (&[("GITHUB_APP_PRIVATE_KEY", PEM)], true, "GITHUB_APP_ID"),
            (
                &[("GITHUB_APP_ID", "42"), ("GITHUB_APP_PRIVATE_KEY", "nope")],
                true,
                "GITHUB_APP_PRIVATE_KEY",
            ),
            (&[], true, "GITHUB_TOKEN"),
        ];
        for (extra, drop_token, setting) in cases {
            let e = with(extra, drop_token).unwrap_err();
            assert_eq!(e.setting, setting, "{e}");
        }
    }

    #[test]
    fn sign_in_is_complete_or_named_and_makes_static_tokens_optional() {
        let mut pairs = base();
        pairs.retain(|(k, _)| *k != "AUTH_TOKENS");
        assert_eq!(
            Config::from_lookup(lookup(&pairs)).unwrap_err().setting,
            "AUTH_TOKENS"
        );
        pairs.push(("GITHUB_OAUTH_CLIENT_ID", "Iv1.abc"));
        assert_eq!(
            Config::from_lookup(lookup(&pairs)).unwrap_err().setting,
            "GITHUB_OAUTH_CLIENT_SECRET"
        );
        pairs.push(("GITHUB_OAUTH_CLIENT_SECRET", "shh-client-secret"));
        pairs.push(("OAUTH_SIGNING_KEY", "short"));
        assert_eq!(
            Config::from_lookup(lookup(&pairs)).unwrap_err().setting,
            "OAUTH_SIGNING_KEY"
        );
        pairs.retain(|(k, _)| *k != "OAUTH_SIGNING_KEY");
        pairs.push(("OAUTH_SIGNING_KEY", "0123456789abcdef0123456789abcdef"));
        let c = Config::from_lookup(lookup(&pairs)).unwrap();
        let o = c.oauth.as_ref().unwrap();
        assert_eq!(
            (o.client_id.as_str(), o.web_base.as_str()),
            ("Iv1.abc", "https://github.com")
        );
        assert!(c.tokens.is_empty());
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("shh-client-secret") && !shown.contains("0123456789abcdef"),
            "{shown}"
        );
    }

    #[test]
    fn threads_dir_is_normalised() {
        let mut pairs = base();
        pairs.push(("THREADS_DIR", "/threads/team/"));
        assert_eq!(
            Config::from_lookup(lookup(&pairs)).unwrap().threads_dir,
            "threads/team"
        );
    }
}
