//! The real binary: startup line, request handling, clean SIGTERM exit.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::raw_request;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_prints_ready_line_and_exits_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_githost"))
        .args(["--port", "0", "--dir"])
        .arg(tmp.path().join("data"))
        .args(["--token", "secret-token"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn githost");
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let prefix = "githost listening on http://127.0.0.1:";
    assert!(line.starts_with(prefix), "{line:?}");
    let port: u16 = line[prefix.len()..].trim().parse().unwrap();
    assert_ne!(port, 0);

    let r = raw_request(port, "GET", "/_githost/health", &[], None)
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    let r = raw_request(
        port,
        "GET",
        "/repos/o/r/contents/x",
        &[
            ("User-Agent", "t"),
            ("Authorization", "Bearer secret-token"),
        ],
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 404);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "githost did not exit");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "{exit:?}");
    let mut log = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut log).unwrap();
    assert!(log.contains("GET /repos/o/r/contents/x 404"), "{log}");
    assert!(!log.contains("secret-token"), "token leaked into the log");
}
