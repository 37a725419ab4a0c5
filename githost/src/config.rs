//! Command line and environment configuration.

use std::path::PathBuf;

/// Default port when neither `--port` nor `GITHOST_PORT` is given.
pub const DEFAULT_PORT: u16 = 8790;
/// Default data directory.
pub const DEFAULT_DIR: &str = ".dev/githost";

/// Usage text printed by `--help`.
pub const USAGE: &str = "\
githost - a local GitHub REST API subset backed by bare git repositories

USAGE:
    githost [--port N] [--dir PATH] [--token TOKEN]... [--min-mutation-gap-ms N]

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
    -h, --help      print this help
";

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
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Run the server.
    Serve(Config),
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
        }
    }
}

/// Parse arguments (without the program name), falling back to environment
/// variables obtained through `env`.
pub fn parse<I, F>(args: I, env: F) -> Result<Command, String>
where
    I: IntoIterator<Item = String>,
    F: Fn(&str) -> Option<String>,
{
    let mut port: Option<u16> = None;
    let mut dir: Option<PathBuf> = None;
    let mut tokens: Vec<String> = Vec::new();
    let mut min_gap: Option<u64> = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match inline.clone().or_else(|| args.next()) {
                Some(v) => Ok(v),
                None => Err(format!("{name} needs a value")),
            }
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--port" => port = Some(parse_port(&value("--port")?)?),
            "--dir" => dir = Some(PathBuf::from(value("--dir")?)),
            "--token" => {
                let t = value("--token")?;
                if t.is_empty() {
                    return Err("--token must not be empty".to_string());
                }
                tokens.push(t);
            }
            "--min-mutation-gap-ms" => min_gap = Some(parse_gap(&value("--min-mutation-gap-ms")?)?),
            other => return Err(format!("unknown argument: {other}\n\n{USAGE}")),
        }
    }
    let port = match port {
        Some(p) => p,
        None => match env("GITHOST_PORT").filter(|v| !v.trim().is_empty()) {
            Some(v) => parse_port(&v)?,
            None => DEFAULT_PORT,
        },
    };
    let dir = dir
        .or_else(|| {
            env("GITHOST_DIR")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));
    if tokens.is_empty() {
        if let Some(list) = env("GITHOST_TOKENS") {
            tokens = list
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect();
        }
    }
    let min_mutation_gap_ms = match min_gap {
        Some(g) => g,
        None => match env("GITHOST_MIN_MUTATION_GAP_MS").filter(|v| !v.trim().is_empty()) {
            Some(v) => parse_gap(&v)?,
            None => 0,
        },
    };
    Ok(Command::Serve(Config {
        port,
        dir,
        tokens,
        min_mutation_gap_ms,
    }))
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

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
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
            Command::Serve(Config {
                port: 9000,
                dir: PathBuf::from(DEFAULT_DIR),
                tokens: vec!["a".into(), "b".into()],
                min_mutation_gap_ms: 0,
            })
        );
    }

    #[test]
    fn min_mutation_gap() {
        let gap = |cmd: Command| match cmd {
            Command::Serve(c) => c.min_mutation_gap_ms,
            Command::Help => panic!("help"),
        };
        let env = |k: &str| (k == "GITHOST_MIN_MUTATION_GAP_MS").then(|| "250".to_string());
        assert_eq!(gap(parse(args(&[]), env).unwrap()), 250);
        assert_eq!(
            gap(parse(args(&["--min-mutation-gap-ms", "1000"]), env).unwrap()),
            1000
        );
        assert_eq!(
            gap(parse(args(&["--min-mutation-gap-ms=0"]), env).unwrap()),
            0
        );
        assert_eq!(gap(parse(args(&[]), |_| None).unwrap()), 0);
        assert!(parse(args(&["--min-mutation-gap-ms", "-1"]), |_| None).is_err());
        assert!(parse(args(&["--min-mutation-gap-ms"]), |_| None).is_err());
    }

    #[test]
    fn flags_win() {
        let cmd = parse(
            args(&["--port", "0", "--dir=/x", "--token", "t1", "--token=t2"]),
            |_| Some("7".into()),
        )
        .unwrap();
        assert_eq!(
            cmd,
            Command::Serve(Config {
                port: 0,
                dir: PathBuf::from("/x"),
                tokens: vec!["t1".into(), "t2".into()],
                min_mutation_gap_ms: 7,
            })
        );
        assert!(parse(args(&["--port", "x"]), |_| None).is_err());
        assert!(parse(args(&["--bogus"]), |_| None).is_err());
        assert_eq!(parse(args(&["--help"]), |_| None).unwrap(), Command::Help);
    }
}
