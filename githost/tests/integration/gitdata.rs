//! Git Data API: refs, commits, trees, blobs, and a multi-file commit round trip.

use serde_json::json;

use crate::common::{outside_commit, unb64, Host};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_file_commit_round_trip() {
    let host = Host::start().await;
    let head = host
        .seed(
            "o",
            "r",
            json!({"keep.md": "keep", "threads/old.md": "old", "gone.md": "bye"}),
        )
        .await;

    // 1. ref
    let r = host.gh("GET", "/repos/o/r/git/ref/heads/main", None).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["ref"], "refs/heads/main");
    assert_eq!(v["object"]["sha"], head.as_str());
    assert_eq!(v["object"]["type"], "commit");
    assert_eq!(
        v["url"],
        format!("{}/repos/o/r/git/refs/heads/main", host.base).as_str()
    );

    // 2. commit
    let r = host
        .gh("GET", &format!("/repos/o/r/git/commits/{head}"), None)
        .await;
    assert_eq!(r.status, 200);
    let c = r.json();
    assert_eq!(c["sha"], head.as_str());
    assert_eq!(c["message"], "Seed repository");
    assert_eq!(c["parents"], json!([]));
    let base_tree = c["tree"]["sha"].as_str().unwrap().to_string();

    // Tree listing, recursive and not.
    let r = host
        .gh(
            "GET",
            &format!("/repos/o/r/git/trees/{base_tree}?recursive=1"),
            None,
        )
        .await;
    let t = r.json();
    assert_eq!(t["sha"], base_tree.as_str());
    assert_eq!(t["truncated"], false);
    let paths: Vec<&str> = t["tree"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"threads") && paths.contains(&"threads/old.md"));
    let old = t["tree"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "threads/old.md")
        .unwrap()
        .clone();
    assert_eq!(old["mode"], "100644");
    assert_eq!(old["type"], "blob");
    assert_eq!(old["size"], 3);
    let r = host
        .gh("GET", &format!("/repos/o/r/git/trees/{base_tree}"), None)
        .await;
    assert!(r.json()["tree"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| !e["path"].as_str().unwrap().contains('/')));

    // Blob
    let r = host
        .gh(
            "GET",
            &format!("/repos/o/r/git/blobs/{}", old["sha"].as_str().unwrap()),
            None,
        )
        .await;
    let b = r.json();
    assert_eq!(b["encoding"], "base64");
    assert_eq!(b["size"], 3);
    assert_eq!(unb64(b["content"].as_str().unwrap()), b"old");

    // 3. tree with inline content, a nested new file and a deletion
    let r = host
        .gh(
            "POST",
            "/repos/o/r/git/trees",
            Some(json!({
                "base_tree": base_tree,
                "tree": [
                    {"path": "threads/old.md", "mode": "100644", "type": "blob", "content": "old\nappended\n"},
                    {"path": "threads/new/one.md", "mode": "100644", "type": "blob", "content": "one"},
                    {"path": "gone.md", "mode": "100644", "type": "blob", "sha": null},
                ],
            })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let new_tree = r.json()["sha"].as_str().unwrap().to_string();

    // 4. commit
    let r = host
        .gh(
            "POST",
            "/repos/o/r/git/commits",
            Some(json!({
                "message": "batch",
                "tree": new_tree,
                "parents": [head],
                "author": {"name": "Bot", "email": "bot@example.com", "date": "2024-05-06T07:08:09Z"},
            })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let c = r.json();
    let new_commit = c["sha"].as_str().unwrap().to_string();
    assert_eq!(c["tree"]["sha"], new_tree.as_str());
    assert_eq!(c["parents"][0]["sha"], head.as_str());
    assert_eq!(c["author"]["date"], "2024-05-06T07:08:09Z");
    assert_eq!(c["message"], "batch");
    // Not visible on the branch yet.
    assert_eq!(host.git("o", "r", &["rev-parse", "main"]), head);

    // 5. move the branch
    let r = host
        .gh(
            "PATCH",
            "/repos/o/r/git/refs/heads/main",
            Some(json!({"sha": new_commit, "force": false})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["object"]["sha"], new_commit.as_str());
    assert_eq!(host.git("o", "r", &["rev-parse", "main"]), new_commit);
    assert_eq!(
        host.git("o", "r", &["show", "main:threads/old.md"]),
        "old\nappended"
    );
    assert_eq!(
        host.git("o", "r", &["show", "main:threads/new/one.md"]),
        "one"
    );
    assert_eq!(host.git("o", "r", &["show", "main:keep.md"]), "keep");
    let r = host.gh("GET", "/repos/o/r/contents/gone.md", None).await;
    assert_eq!(r.status, 404);
    let stats = host.admin("GET", "/_githost/stats", None).await.json();
    assert_eq!(stats["commits"], 1);
    assert_eq!(stats["by_route"]["POST git/trees"], 1);
    assert_eq!(stats["by_route"]["POST git/commits"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_fast_forward_is_rejected_unless_forced() {
    let host = Host::start().await;
    let head = host.seed("o", "r", json!({"a.md": "a"})).await;
    let tree = host.git("o", "r", &["rev-parse", "main^{tree}"]);
    let r = host
        .gh(
            "POST",
            "/repos/o/r/git/commits",
            Some(json!({"message": "mine", "tree": tree, "parents": [head]})),
        )
        .await;
    let mine = r.json()["sha"].as_str().unwrap().to_string();

    // Someone else moves main first.
    let theirs = outside_commit(&host.repo_path("o", "r"), "main", "b.md", "b");
    let r = host
        .gh(
            "PATCH",
            "/repos/o/r/git/refs/heads/main",
            Some(json!({"sha": mine})),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.message(), "Update is not a fast forward");
    assert_eq!(host.git("o", "r", &["rev-parse", "main"]), theirs);

    let r = host
        .gh(
            "PATCH",
            "/repos/o/r/git/refs/heads/main",
            Some(json!({"sha": mine, "force": true})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(host.git("o", "r", &["rev-parse", "main"]), mine);

    // Missing refs and objects.
    let r = host.gh("GET", "/repos/o/r/git/ref/heads/nope", None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.message(), "Not Found");
    let r = host
        .gh(
            "GET",
            "/repos/o/r/git/commits/0123456789012345678901234567890123456789",
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    let r = host
        .gh(
            "PATCH",
            "/repos/o/r/git/refs/heads/nope",
            Some(json!({"sha": mine})),
        )
        .await;
    assert_eq!(r.status, 422);
    let r = host
        .gh(
            "POST",
            "/repos/o/r/git/commits",
            Some(json!({"message": "m", "tree": "0123456789012345678901234567890123456789", "parents": []})),
        )
        .await;
    assert_eq!(r.status, 422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_ref_and_branch_contents() {
    let host = Host::start().await;
    let head = host.seed("o", "r", json!({"a.md": "a"})).await;
    let r = host
        .gh(
            "POST",
            "/repos/o/r/git/refs",
            Some(json!({"ref": "refs/heads/feature", "sha": head})),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = host
        .gh(
            "POST",
            "/repos/o/r/git/refs",
            Some(json!({"ref": "refs/heads/feature", "sha": head})),
        )
        .await;
    assert_eq!(r.status, 422);
    let r = host
        .gh(
            "PUT",
            "/repos/o/r/contents/f.md",
            Some(json!({"message": "m", "content": "Zg==", "branch": "feature"})),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = host
        .gh("GET", "/repos/o/r/contents/f.md?ref=feature", None)
        .await;
    assert_eq!(r.status, 200);
    let r = host.gh("GET", "/repos/o/r/contents/f.md", None).await;
    assert_eq!(r.status, 404);
    let r = host
        .gh("DELETE", "/repos/o/r/git/refs/heads/feature", None)
        .await;
    assert_eq!(r.status, 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_repository_answers_409() {
    let host = Host::start().await;
    host.admin(
        "POST",
        "/_githost/repos",
        Some(json!({"owner": "o", "name": "e"})),
    )
    .await;
    let r = host.gh("GET", "/repos/o/e/git/ref/heads/main", None).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.message(), "Git Repository is empty.");
    let r = host
        .gh(
            "POST",
            "/repos/o/e/git/trees",
            Some(
                json!({"tree": [{"path": "a", "mode": "100644", "type": "blob", "content": "a"}]}),
            ),
        )
        .await;
    assert_eq!(r.status, 409);
}
