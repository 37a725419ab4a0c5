//! Pushes from outside: a `post-receive` hook in every bare repository records
//! each push's ref updates in a spool directory inside the repository, and a
//! poller in githost picks them up every [`POLL_INTERVAL`] and sends them as
//! `push` webhooks.
//!
//! The hook is a small POSIX `sh` script needing only `mkdir`, `mktemp`, `cat`
//! and `mv` (no network tool, no port): git runs it with the repository as its
//! working directory and the `<old> <new> <ref>` lines on its standard input;
//! it writes them to `githost-pushes/incoming.XXXXXXXX` and renames the file to
//! `….push` once complete, so githost never reads half a file. It always exits
//! 0 (a `post-receive` hook cannot fail a push anyway). Pushes recorded while
//! githost is not running are sent by the next githost started on the
//! directory; with webhooks off the recorded pushes are read and dropped.
//!
//! githost's own ref updates use `git update-ref`, which runs no
//! `post-receive` hook, so they are never sent twice.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Weak;
use std::time::{Duration, SystemTime};

use super::{notify, Pusher, RefChange};
use crate::git::{self, is_hex_sha};
use crate::state::{valid_name, AppState};

/// How often the spool directories are read.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// The spool directory inside each bare repository.
pub const SPOOL_DIR: &str = "githost-pushes";
/// The line that marks a `post-receive` hook as githost's own.
pub const MARKER: &str = "# githost post-receive hook";

/// The hook script (version 1).
pub const POST_RECEIVE: &str = r#"#!/bin/sh
# githost post-receive hook, version 1. Managed by githost, which rewrites it.
# Records this push's ref updates ("<old> <new> <ref>" lines) in githost-pushes/
# for githost to send as `push` webhooks. It never fails a push.
dir=githost-pushes
mkdir -p "$dir" 2>/dev/null || exit 0
part=$(mktemp "$dir/incoming.XXXXXXXX" 2>/dev/null) || part="$dir/incoming.$$"
if cat >"$part" 2>/dev/null; then
    mv -f "$part" "$part.push" 2>/dev/null || rm -f "$part" 2>/dev/null
else
    rm -f "$part" 2>/dev/null
fi
exit 0
"#;

/// What [`ensure`] found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookState {
    /// The hook was written now.
    Installed,
    /// A `post-receive` hook is there (githost's, current; or not looked into).
    Present,
    /// Someone else's `post-receive` hook is there; it is left alone and
    /// outside pushes into this repository are not sent.
    Foreign,
}

/// Write githost's `post-receive` hook into the bare repository `git_dir`
/// (atomically, replacing any) and point `core.hooksPath` at it, so a global
/// `core.hooksPath` cannot hide it.
pub fn install(git_dir: &Path) -> Result<(), String> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // One install at a time: two first requests to a repository would otherwise
    // race on `git config` (its lock file) and one would fail.
    static INSTALLING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = INSTALLING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let hooks = git_dir.join("hooks");
    let write = || -> io::Result<()> {
        std::fs::create_dir_all(&hooks)?;
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = hooks.join(format!(".post-receive.githost-{}-{n}", std::process::id()));
        std::fs::write(&tmp, POST_RECEIVE)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))?;
        }
        std::fs::rename(&tmp, hooks.join("post-receive")).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    };
    write().map_err(|e| format!("cannot write {}: {e}", hooks.display()))?;
    git::set_config_blocking(git_dir, "core.hooksPath", "hooks").map_err(|e| e.to_string())
}

/// Make sure the repository has githost's hook. Quick (`thorough` = false):
/// install it only when there is no `post-receive` hook at all. Thorough: also
/// rewrite an outdated githost hook, and report someone else's.
pub fn ensure(git_dir: &Path, thorough: bool) -> Result<HookState, String> {
    let path = git_dir.join("hooks").join("post-receive");
    if !thorough {
        return match std::fs::symlink_metadata(&path) {
            Ok(_) => Ok(HookState::Present),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                install(git_dir).map(|()| HookState::Installed)
            }
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        };
    }
    match std::fs::read_to_string(&path) {
        Ok(text) if text == POST_RECEIVE => Ok(HookState::Present),
        Ok(text) if text.contains(MARKER) => install(git_dir).map(|()| HookState::Installed),
        Ok(_) => Ok(HookState::Foreign),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            install(git_dir).map(|()| HookState::Installed)
        }
        Err(_) => Ok(HookState::Foreign),
    }
}

/// The bare repositories under the data directory: (owner, name, path).
fn repositories(dir: &Path) -> Vec<(String, String, PathBuf)> {
    let list = |p: &Path| -> Vec<(String, PathBuf)> {
        let Ok(entries) = std::fs::read_dir(p) else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|e| Some((e.file_name().to_str()?.to_string(), e.path())))
            .collect()
    };
    let mut repos = Vec::new();
    for (owner, owner_path) in list(dir) {
        if !valid_name(&owner) || !owner_path.is_dir() {
            continue;
        }
        for (file, path) in list(&owner_path) {
            let Some(name) = file.strip_suffix(".git") else {
                continue;
            };
            if valid_name(name) && path.join("HEAD").is_file() && path.join("objects").is_dir() {
                repos.push((owner.clone(), name.to_string(), path));
            }
        }
    }
    repos.sort();
    repos
}

/// Check the hook of every repository under `dir` (thoroughly), at startup.
/// Problems are logged to stderr, never fatal.
pub fn install_all(dir: &Path) {
    for (owner, name, path) in repositories(dir) {
        match ensure(&path, true) {
            Ok(HookState::Foreign) => eprintln!(
                "githost: {owner}/{name} has its own post-receive hook: pushes into it send no webhooks"
            ),
            Ok(_) => {}
            Err(e) => eprintln!("githost: cannot install the post-receive hook of {owner}/{name}: {e}"),
        }
    }
}

/// `<old> <new> <ref>` lines as recorded by the hook (malformed lines skipped).
pub fn parse_lines(text: &str) -> Vec<(String, String, String)> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (old, new, name) = (fields.next()?, fields.next()?, fields.next()?);
            let sha = |s: &str| {
                is_hex_sha(s, 40) || (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            };
            (sha(old) && sha(new) && name.starts_with("refs/") && fields.next().is_none())
                .then(|| (old.to_string(), new.to_string(), name.to_string()))
        })
        .collect()
}

/// Read and remove the pushes recorded in one repository, oldest first.
pub fn take_pushes(git_dir: &Path) -> Vec<(String, String, String)> {
    let Ok(entries) = std::fs::read_dir(git_dir.join(SPOOL_DIR)) else {
        return Vec::new();
    };
    let mut files: Vec<(SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "push"))
        .map(|p| {
            let at = p.metadata().and_then(|m| m.modified());
            (at.unwrap_or(SystemTime::UNIX_EPOCH), p)
        })
        .collect();
    files.sort();
    let mut lines = Vec::new();
    for (_, path) in files {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if std::fs::remove_file(&path).is_ok() {
            lines.extend(parse_lines(&text));
        }
    }
    lines
}

/// One pass: install missing hooks and collect the recorded pushes.
pub fn scan(dir: &Path) -> Vec<RefChange> {
    let mut changes = Vec::new();
    for (owner, name, path) in repositories(dir) {
        if let Err(e) = ensure(&path, false) {
            eprintln!("githost: cannot install the post-receive hook of {owner}/{name}: {e}");
        }
        for (before, after, full_ref) in take_pushes(&path) {
            changes.push(RefChange {
                owner: owner.clone(),
                name: name.clone(),
                full_ref,
                before,
                after,
            });
        }
    }
    changes
}

/// Poll the spool directories every [`POLL_INTERVAL`] while the state lives;
/// recorded pushes are sent as by the dev user.
pub fn spawn_poller(state: Weak<AppState>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(POLL_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(state) = state.upgrade() else {
                break;
            };
            let dir = state.dir.clone();
            let changes = tokio::task::spawn_blocking(move || scan(&dir))
                .await
                .unwrap_or_default();
            if changes.is_empty() {
                continue;
            }
            let pusher = Pusher::dev_user(&state);
            for change in changes {
                notify(&state, change, pusher.clone());
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_recorded_lines() {
        let a = "a".repeat(40);
        let z = "0".repeat(40);
        let text = format!("{z} {a} refs/heads/main\n{a} {z} refs/heads/old\nbad line\n{a} {a}\n");
        assert_eq!(
            parse_lines(&text),
            vec![
                (z.clone(), a.clone(), "refs/heads/main".to_string()),
                (a, z, "refs/heads/old".to_string()),
            ]
        );
    }

    #[test]
    fn installs_and_respects_foreign_hooks() {
        let tmp = tempfile::tempdir().unwrap();
        let git_dir = tmp.path().join("o").join("r.git");
        let status = std::process::Command::new("git")
            .args(["init", "--bare", "--quiet"])
            .arg(&git_dir)
            .status()
            .unwrap();
        assert!(status.success());
        let hook = git_dir.join("hooks").join("post-receive");
        assert_eq!(ensure(&git_dir, false), Ok(HookState::Installed));
        assert_eq!(std::fs::read_to_string(&hook).unwrap(), POST_RECEIVE);
        assert_eq!(ensure(&git_dir, true), Ok(HookState::Present));
        // An older githost hook is rewritten; someone else's is kept.
        std::fs::write(&hook, format!("#!/bin/sh\n{MARKER}, version 0\n")).unwrap();
        assert_eq!(ensure(&git_dir, false), Ok(HookState::Present));
        assert_eq!(ensure(&git_dir, true), Ok(HookState::Installed));
        std::fs::write(&hook, "#!/bin/sh\necho mine\n").unwrap();
        assert_eq!(ensure(&git_dir, true), Ok(HookState::Foreign));
        assert_eq!(
            std::fs::read_to_string(&hook).unwrap(),
            "#!/bin/sh\necho mine\n"
        );

        // Recorded pushes are read once, in order, and removed.
        let spool = git_dir.join(SPOOL_DIR);
        std::fs::create_dir_all(&spool).unwrap();
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        std::fs::write(spool.join("x.push"), format!("{a} {b} refs/heads/main\n")).unwrap();
        std::fs::write(spool.join("incoming.y"), "partial").unwrap();
        let changes = scan(tmp.path());
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].full_name(), "o/r");
        assert_eq!(
            (changes[0].before.as_str(), changes[0].after.as_str()),
            (a.as_str(), b.as_str())
        );
        assert!(scan(tmp.path()).is_empty());
        assert!(spool.join("incoming.y").exists());
    }
}
