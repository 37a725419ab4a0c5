//! Command line and environment configuration.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::ghapp::{GitHubApp, DEFAULT_SLUG};
use crate::users::Users;
use crate::webhooks::Target;

/// Default port when neither `--port` nor `GITHOST_PORT` is given.
pub const DEFAULT_PORT: u16 = 8790;
/// Default data directory.
pub const DEFAULT_DIR: &str = ".dev/githost";
/// Default user signed in by `/login/oauth/authorize`.
pub const DEFAULT_DEV_USER: &str = "alice";

/// Usage text printed by `--help`.
pub const USAGE: &str = "\
githost - a local GitHub REST API subset backed by bare git repositories

USAGE:
    githost [--port N] [--dir PATH] [--token TOKEN]... [--min-mutation-gap-ms N]
            [--app-id ID --app-public-key PATH [--app-slug SLUG]]
            [--oauth-client-id ID] [--oauth-client-secret S] [--users JSON-or-PATH] [--dev-user LOGIN]
            [--webhook-url URL --webhook-secret S]

OPTIONS:
    --port N        port on 127.0.0.1 (0 = pick a free one)   [env GITHOST_PORT, default 8790]
    --dir PATH      where repositories live (<dir>/<owner>/<repo>.git)
                                                              [env GITHOST_DIR, default .dev/githost]
    --token TOKEN   accepted bearer token; repeatable         [env GITHOST_TOKENS, comma-separated]
                    (none configured = any non-empty token is accepted)
    --min-mutation-gap-ms N
                    refuse (403, secondary rate limit) a mutating request
                    arriving less than N ms after the previous accepted one
                                                              [env GITHOST_MIN_MUTATION_GAP_MS, default 0 = off]
    --app-id ID     the GitHub App's id (numeric id or client id), its JWTs' issuer
                                                              [env GITHOST_APP_ID, default: no app]
    --app-public-key PATH
                    PEM file with the app's RSA public key (BEGIN PUBLIC KEY)
                                                              [env GITHOST_APP_PUBLIC_KEY: a path or the PEM text]
    --app-slug SLUG the app's slug (its bot commits as SLUG[bot])
                                                              [env GITHOST_APP_SLUG, default watercooler-dev]
    --oauth-client-id ID, --oauth-client-secret S
                    the OAuth client credentials /login/oauth/* require
                                                              [env GITHOST_OAUTH_CLIENT_ID, GITHOST_OAUTH_CLIENT_SECRET;
                                                               default: any are accepted]
    --users JSON-or-PATH
                    users and their permissions, e.g. {\"alice\": {\"*\": \"write\"}}
                                                              [env GITHOST_USERS, default
                                                               {\"alice\": {\"*\": \"write\"}, \"bob\": {\"*\": \"read\"}}]
    --dev-user LOGIN
                    who /login/oauth/authorize signs in       [env GITHOST_DEV_USER, default alice]
    --webhook-url URL
                    send signed GitHub `push` webhooks for every branch change
                    (API writes and plain `git push`es) to this http:// URL
                                                              [env GITHOST_WEBHOOK_URL, default: no webhooks]
    --webhook-secret S
                    the webhook's secret (X-Hub-Signature-256, HMAC-SHA256);
                    required with --webhook-url               [env GITHOST_WEBHOOK_SECRET]
    -h, --help      print this help
";

/// Flags taking a value, with the environment variable read when the flag is absent.
const VALUE_FLAGS: &[(&str, &str)] = &[
    ("--port", "GITHOST_PORT"),
    ("--dir", "GITHOST_DIR"),
    ("--min-mutation-gap-ms", "GITHOST_MIN_MUTATION_GAP_MS"),
    ("--app-id", "GITHOST_APP_ID"),
    ("--app-public-key", "GITHOST_APP_PUBLIC_KEY"),
    ("--app-slug", "GITHOST_APP_SLUG"),
    ("--oauth-client-id", "GITHOST_OAUTH_CLIENT_ID"),
    ("--oauth-client-secret", "GITHOST_OAUTH_CLIENT_SECRET"),
    ("--users", "GITHOST_USERS"),
    ("--dev-user", "GITHOST_DEV_USER"),
    ("--webhook-url", "GITHOST_WEBHOOK_URL"),
    ("--webhook-secret", "GITHOST_WEBHOOK_SECRET"),
];

/// Server configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// TCP port on 127.0.0.1; 0 picks a free port.
    pub port: u16,
    /// Directory holding `<owner>/<repo>.git`.
    pub dir: PathBuf,
    /// Accepted tokens; empty = accept any non-empty token.
    pub tokens: Vec<String>,
    /// Initial pacing rule: minimum gap between accepted mutating requests
    /// in milliseconds (0 = off). See [`crate::pacing`].
    pub min_mutation_gap_ms: u64,
    /// The GitHub App's id (JWT issuer); `None` = no app, its routes answer 404.
    pub app_id: Option<String>,
    /// PEM text of the app's RSA public key (SPKI); set together with `app_id`.
    pub app_public_key: Option<String>,
    /// The app's slug.
    pub app_slug: String,
    /// OAuth client id required by `/login/oauth/*`; `None` = any.
    pub oauth_client_id: Option<String>,
    /// OAuth client secret required by `/login/oauth/access_token`; `None` = any.
    pub oauth_client_secret: Option<String>,
    /// Known users and their permissions.
    pub users: Users,
    /// Who `/login/oauth/authorize` signs in when no known `login` is asked for.
    pub dev_user: String,
    /// Where `push` webhooks are sent; `None` = no webhooks.
    pub webhook_url: Option<String>,
    /// The webhooks' HMAC secret; required with `webhook_url`.
    pub webhook_secret: Option<String>,
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Run the server.
    Serve(Box<Config>),
    /// Print usage.
    Help,
}

impl Config {
    /// A configuration with defaults, for embedding (tests).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Config {
            port: 0,
            dir: dir.into(),
            tokens: Vec::new(),
            min_mutation_gap_ms: 0,
            app_id: None,
            app_public_key: None,
            app_slug: DEFAULT_SLUG.to_string(),
            oauth_client_id: None,
            oauth_client_secret: None,
            users: Users::default(),
            dev_user: DEFAULT_DEV_USER.to_string(),
            webhook_url: None,
            webhook_secret: None,
        }
    }

    /// Where webhooks go, if configured (the URL checked, the secret required).
    pub fn webhook_target(&self) -> Result<Option<Target>, String> {
        match (&self.webhook_url, &self.webhook_secret) {
            (Some(url), Some(secret)) => Target::new(url, secret).map(Some),
            (Some(_), None) => Err("--webhook-url needs --webhook-secret".to_string()),
            (None, _) => Ok(None),
        }
    }

    /// The configured GitHub App, if any.
    pub fn app(&self) -> Result<Option<GitHubApp>, String> {
        match (&self.app_id, &self.app_public_key) {
            (Some(id), Some(pem)) => GitHubApp::new(id, &self.app_slug, pem).map(Some),
            (None, None) => Ok(None),
            _ => Err("--app-id and --app-public-key must be given together".to_string()),
        }
    }
}

/// Flags as given on the command line.
#[derive(Debug, Default)]
struct Flags {
    values: HashMap<&'static str, String>,
    tokens: Vec<String>,
}

/// Read the command line; `None` when help is asked for.
fn read_flags<I: IntoIterator<Item = String>>(args: I) -> Result<Option<Flags>, String> {
    let mut flags = Flags::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let known = VALUE_FLAGS.iter().map(|(f, _)| *f).chain(["--token"]);
        let Some(name) = known.into_iter().find(|f| *f == flag) else {
            return Err(format!("unknown argument: {flag}\n\n{USAGE}"));
        };
        let Some(value) = inline.or_else(|| args.next()) else {
            return Err(format!("{name} needs a value"));
        };
        if name == "--token" {
            if value.is_empty() {
                return Err("--token must not be empty".to_string());
            }
            flags.tokens.push(value);
        } else {
            flags.values.insert(name, value);
        }
    }
    Ok(Some(flags))
}

/// Parse arguments (without the program name), falling back to environment
/// variables obtained through `env`.
pub fn parse<I, F>(args: I, env: F) -> Result<Command, String>
where
    I: IntoIterator<Item = String>,
    F: Fn(&str) -> Option<String>,
{
    let Some(flags) = read_flags(args)? else {
        return Ok(Command::Help);
    };
    let setting = |flag: &str| -> Option<String> {
        if let Some(v) = flags.values.get(flag) {
            return Some(v.clone());
        }
        let (_, var) = VALUE_FLAGS.iter().find(|(f, _)| *f == flag)?;
        env(var).filter(|v| !v.trim().is_empty())
    };
    let mut config = Config::new(setting("--dir").unwrap_or_else(|| DEFAULT_DIR.to_string()));
    config.port = match setting("--port") {
        Some(v) => parse_port(&v)?,
        None => DEFAULT_PORT,
    };
    config.tokens = flags.tokens.clone();
    if config.tokens.is_empty() {
        if let Some(list) = env("GITHOST_TOKENS") {
            config.tokens = list
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect();
        }
    }
    if let Some(v) = setting("--min-mutation-gap-ms") {
        config.min_mutation_gap_ms = parse_gap(&v)?;
    }
    identity_settings(&mut config, &setting)?;
    config.webhook_url = setting("--webhook-url").map(|v| v.trim().to_string());
    config.webhook_secret = setting("--webhook-secret");
    config.webhook_target()?;
    Ok(Command::Serve(Box::new(config)))
}

/// The GitHub App, OAuth and users settings, checked.
fn identity_settings(
    config: &mut Config,
    setting: &dyn Fn(&str) -> Option<String>,
) -> Result<(), String> {
    let trimmed = |flag: &str| setting(flag).map(|v| v.trim().to_string());
    config.app_id = trimmed("--app-id");
    config.app_public_key = setting("--app-public-key")
        .map(|v| read_pem(&v))
        .transpose()?;
    if let Some(slug) = trimmed("--app-slug") {
        config.app_slug = slug;
    }
    config.app()?;
    config.oauth_client_id = trimmed("--oauth-client-id");
    config.oauth_client_secret = trimmed("--oauth-client-secret");
    if let Some(users) = setting("--users") {
        config.users = read_users(&users)?;
    }
    if let Some(login) = trimmed("--dev-user") {
        config.dev_user = login;
    }
    match config.users.login(&config.dev_user) {
        Some(login) => config.dev_user = login.to_string(),
        None => {
            return Err(format!(
                "--dev-user {} is not one of the users (--users)",
                config.dev_user
            ))
        }
    }
    Ok(())
}

/// PEM text given inline (starting with `-----BEGIN`) or as a file path.
fn read_pem(value: &str) -> Result<String, String> {
    if value.trim_start().starts_with("-----BEGIN") {
        return Ok(value.to_string());
    }
    std::fs::read_to_string(value.trim())
        .map_err(|e| format!("cannot read the app public key {}: {e}", value.trim()))
}

/// Users given as JSON text (starting with `{`) or as a JSON file path.
fn read_users(value: &str) -> Result<Users, String> {
    if value.trim_start().starts_with('{') {
        return Users::parse(value);
    }
    let text = std::fs::read_to_string(value.trim())
        .map_err(|e| format!("cannot read the users file {}: {e}", value.trim()))?;
    Users::parse(&text).map_err(|e| format!("{}: {e}", value.trim()))
}

fn parse_gap(text: &str) -> Result<u64, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("invalid minimum mutation gap (milliseconds): {text}"))
}

fn parse_port(text: &str) -> Result<u16, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("invalid port: {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &str = include_str!("../tests/fixtures/app-public.pem");

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn serve(cmd: Result<Command, String>) -> Config {
        match cmd {
            Ok(Command::Serve(c)) => *c,
            other => panic!("not a serve command: {other:?}"),
        }
    }

    #[test]
    fn defaults_and_env() {
        let cmd = parse(args(&[]), |k| match k {
            "GITHOST_PORT" => Some("9000".into()),
            "GITHOST_TOKENS" => Some("a, b,,".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            cmd,
            Command::Serve(Box::new(Config {
                port: 9000,
                tokens: vec!["a".into(), "b".into()],
                ..Config::new(DEFAULT_DIR)
            }))
        );
        let c = serve(parse(args(&[]), |_| None));
        assert_eq!(c.port, DEFAULT_PORT);
        assert_eq!(c.app_id, None);
        assert_eq!(c.app_slug, "watercooler-dev");
        assert_eq!(c.dev_user, "alice");
        assert_eq!(c.users, Users::default());
        assert_eq!(c.oauth_client_id, None);
    }

    #[test]
    fn min_mutation_gap() {
        let gap = |cmd| serve(cmd).min_mutation_gap_ms;
        let env = |k: &str| (k == "GITHOST_MIN_MUTATION_GAP_MS").then(|| "250".to_string());
        assert_eq!(gap(parse(args(&[]), env)), 250);
        assert_eq!(
            gap(parse(args(&["--min-mutation-gap-ms", "1000"]), env)),
            1000
        );
        assert_eq!(gap(parse(args(&["--min-mutation-gap-ms=0"]), env)), 0);
        assert_eq!(gap(parse(args(&[]), |_| None)), 0);
        assert!(parse(args(&["--min-mutation-gap-ms", "-1"]), |_| None).is_err());
        assert!(parse(args(&["--min-mutation-gap-ms"]), |_| None).is_err());
    }

    #[test]
    fn flags_win() {
        let env = |k: &str| match k {
            "GITHOST_PORT" | "GITHOST_MIN_MUTATION_GAP_MS" => Some("7".to_string()),
            "GITHOST_DIR" => Some("/env".to_string()),
            "GITHOST_DEV_USER" => Some("bob".to_string()),
            _ => None,
        };
        let cmd = parse(
            args(&["--port", "0", "--dir=/x", "--token", "t1", "--token=t2"]),
            env,
        )
        .unwrap();
        assert_eq!(
            cmd,
            Command::Serve(Box::new(Config {
                tokens: vec!["t1".into(), "t2".into()],
                min_mutation_gap_ms: 7,
                dev_user: "bob".into(),
                ..Config::new("/x")
            }))
        );
        assert_eq!(
            serve(parse(args(&["--dev-user=alice"]), env)).dev_user,
            "alice"
        );
        assert!(parse(args(&["--port", "x"]), |_| None).is_err());
        assert!(parse(args(&["--bogus"]), |_| None).is_err());
        assert_eq!(parse(args(&["--help"]), |_| None).unwrap(), Command::Help);
    }

    #[test]
    fn app_settings() {
        let dir = tempfile::tempdir().unwrap();
        let key_path = dir.path().join("public.pem");
        std::fs::write(&key_path, PUBLIC).unwrap();
        let key_arg = key_path.to_string_lossy().to_string();
        let c = serve(parse(
            args(&[
                "--app-id",
                "123",
                "--app-public-key",
                &key_arg,
                "--app-slug=my-app",
            ]),
            |_| None,
        ));
        assert_eq!(c.app_id.as_deref(), Some("123"));
        assert_eq!(c.app_public_key.as_deref(), Some(PUBLIC));
        let app = c.app().unwrap().unwrap();
        assert_eq!((app.id.as_str(), app.slug.as_str()), ("123", "my-app"));
        // The environment may hold the PEM text itself.
        let env = |k: &str| match k {
            "GITHOST_APP_ID" => Some("Iv1.abc".to_string()),
            "GITHOST_APP_PUBLIC_KEY" => Some(PUBLIC.to_string()),
            _ => None,
        };
        let c = serve(parse(args(&[]), env));
        assert_eq!(c.app().unwrap().unwrap().id, "Iv1.abc");
        // Both or neither; the key must be an RSA public key.
        assert!(parse(args(&["--app-id", "1"]), |_| None).is_err());
        assert!(parse(args(&["--app-public-key", &key_arg]), |_| None).is_err());
        let missing = dir.path().join("nope.pem").to_string_lossy().to_string();
        assert!(parse(
            args(&["--app-id", "1", "--app-public-key", &missing]),
            |_| None
        )
        .is_err());
        let env = |k: &str| {
            (k == "GITHOST_APP_PUBLIC_KEY")
                .then(|| "-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----".to_string())
        };
        assert!(parse(args(&["--app-id", "1"]), env).is_err());
    }

    #[test]
    fn webhook_settings() {
        let c = serve(parse(
            args(&["--webhook-url", "http://127.0.0.1:8787/webhooks/github"]),
            |k| (k == "GITHOST_WEBHOOK_SECRET").then(|| "s3cret".to_string()),
        ));
        let target = c.webhook_target().unwrap().unwrap();
        assert_eq!(target.url.as_str(), "http://127.0.0.1:8787/webhooks/github");
        assert_eq!(target.secret, "s3cret");
        let env =
            |k: &str| (k == "GITHOST_WEBHOOK_URL").then(|| "http://localhost:1/h".to_string());
        let c = serve(parse(args(&["--webhook-secret=x"]), env));
        assert_eq!(c.webhook_url.as_deref(), Some("http://localhost:1/h"));
        assert_eq!(serve(parse(args(&[]), |_| None)).webhook_target(), Ok(None));
        // A secret alone turns nothing on; a URL needs a secret and http://.
        let c = serve(parse(args(&["--webhook-secret", "x"]), |_| None));
        assert_eq!(c.webhook_target(), Ok(None));
        assert!(parse(args(&["--webhook-url", "http://h/x"]), |_| None).is_err());
        assert!(parse(
            args(&["--webhook-url", "https://h/x", "--webhook-secret", "x"]),
            |_| None
        )
        .is_err());
    }

    #[test]
    fn oauth_and_users() {
        let dir = tempfile::tempdir().unwrap();
        let users_path = dir.path().join("users.json");
        std::fs::write(&users_path, r#"{"carol": {"acme/*": "admin"}}"#).unwrap();
        let users_arg = users_path.to_string_lossy().to_string();
        let c = serve(parse(
            args(&[
                "--users",
                &users_arg,
                "--dev-user",
                "Carol",
                "--oauth-client-id=cid",
            ]),
            |k| (k == "GITHOST_OAUTH_CLIENT_SECRET").then(|| "sec".to_string()),
        ));
        assert_eq!(c.dev_user, "carol");
        assert_eq!(c.oauth_client_id.as_deref(), Some("cid"));
        assert_eq!(c.oauth_client_secret.as_deref(), Some("sec"));
        assert_eq!(
            c.users.role("carol", "acme", "x"),
            Some(crate::users::Role::Admin)
        );
        let inline = r#"{"dave": {"*": "read"}}"#;
        let c = serve(parse(args(&["--dev-user", "dave"]), |k| {
            (k == "GITHOST_USERS").then(|| inline.to_string())
        }));
        assert_eq!(c.dev_user, "dave");
        // The dev user must be one of the users; the users must parse.
        assert!(parse(args(&["--users", inline]), |_| None).is_err());
        assert!(parse(args(&["--users", "{\"a\": 1}"]), |_| None).is_err());
        assert!(parse(args(&["--users", "/no/such/file"]), |_| None).is_err());
    }
}
