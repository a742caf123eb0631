//! The `accord` binary end to end: admin commands on a live data directory, a real server on
//! loopback, publish and incremental pull.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod boundaries;
mod coord;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use serde_json::{Value, json};

fn accord(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .output()
        .unwrap()
}

fn admin_json(data: &Path, args: &[&str]) -> Value {
    let mut all = vec!["admin", "--data", data.to_str().unwrap(), "--json"];
    all.extend_from_slice(args);
    let out = accord(&all);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args([
            "serve",
            "--data",
            data.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .env("ACCORD_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{line}"))
        .to_owned();
    Server { child, url }
}

/// FaceSpace (a platform, reads and publishes) and Board (an election office, reads) in the
/// group "Election Integrity" (AMBER by default), made with `accord admin` on the data
/// directory while the server runs; the group's membership is set once by name and once by
/// collection id. Returns the collection id.
fn election_group(data: &Path) -> String {
    admin_json(
        data,
        &["org", "create", "FaceSpace", "--sector", "platform"],
    );
    admin_json(
        data,
        &["org", "create", "Board", "--sector", "election-office"],
    );
    let group = admin_json(
        data,
        &[
            "group",
            "create",
            "Election Integrity",
            "--default-tlp",
            "amber",
        ],
    );
    let cid = group["collection"].as_str().unwrap().to_owned();
    admin_json(
        data,
        &[
            "group",
            "add",
            "FaceSpace",
            "Election Integrity",
            "--read",
            "--write",
        ],
    );
    admin_json(data, &["group", "add", "Board", &cid, "--read"]);
    cid
}

/// A new API key of an organisation, made with `accord admin`.
fn new_key(data: &Path, org: &str, role: &str) -> String {
    admin_json(data, &["key", "create", "--org", org, "--role", role])["key"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn indicator(n: usize) -> Value {
    json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--{:08x}-0000-4000-8000-000000000000", n),
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "pattern": format!("[domain-name:value = 'x{n}.example']"), "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
    })
}

#[test]
fn help_explains_every_command() {
    let out = accord(&["--help"]);
    let text = String::from_utf8(out.stdout).unwrap();
    for cmd in ["serve", "admin", "publish", "pull", "demo"] {
        assert!(text.contains(cmd), "{cmd} missing from --help");
    }
    let out = accord(&["admin", "group", "add", "--help"]);
    assert!(String::from_utf8(out.stdout).unwrap().contains("--write"));
}

#[test]
fn bad_arguments_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let out = accord(&[
        "admin",
        "--data",
        dir.path().to_str().unwrap(),
        "org",
        "create",
        "X",
        "--sector",
        "bank",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a sector"));
    let out = accord(&[
        "admin",
        "--data",
        dir.path().to_str().unwrap(),
        "key",
        "create",
        "--org",
        "nobody",
        "--role",
        "analyst",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("organisation `nobody` not found"));
    let out = accord(&["admin", "--data", "postgres://db/accord", "org", "list"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a storage backend"));
}

#[test]
fn publish_and_pull_against_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = serve(&data);
    // Administration works on the data directory while the server runs.
    let cid = election_group(&data);
    let pub_key = admin_json(
        &data,
        &["key", "create", "--org", "FaceSpace", "--role", "analyst"],
    );
    let read_key = admin_json(
        &data,
        &["key", "create", "--org", "Board", "--role", "reader"],
    );
    let pub_key = pub_key["key"].as_str().unwrap();

    // A bundle and a JSON-lines file, one bad object among them.
    let bundle = dir.path().join("bundle.json");
    let objects: Vec<Value> = (0..25).map(indicator).collect();
    std::fs::write(&bundle, json!({"type": "bundle", "id": "bundle--6c8a2b4e-0000-4000-8000-000000000000", "objects": objects}).to_string()).unwrap();
    let lines = dir.path().join("more.jsonl");
    let mut bad = indicator(99);
    bad.as_object_mut().unwrap().remove("pattern_type");
    std::fs::write(&lines, format!("{}\n{}\n", indicator(30), bad)).unwrap();
    let out = accord(&[
        "publish",
        "--server",
        &server.url,
        "--key",
        pub_key,
        "--collection",
        &cid,
        "--batch",
        "10",
        bundle.to_str().unwrap(),
        lines.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("published 26 objects, 1 refused"), "{err}");
    assert!(err.contains("pattern_type"), "{err}");

    // Pull everything, then nothing new, then only what came after.
    let cp = dir.path().join("cp.json");
    let pull = |key: &str| {
        accord(&[
            "pull",
            "--server",
            &server.url,
            "--key",
            key,
            "--collection",
            &cid,
            "--limit",
            "7",
            "--checkpoint",
            cp.to_str().unwrap(),
        ])
    };
    let read_key_s = read_key["key"].as_str().unwrap();
    let out = pull(read_key_s);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 26);
    let out = pull(read_key_s);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 0);
    let newer = dir.path().join("newer.jsonl");
    std::fs::write(&newer, format!("{}\n", indicator(40))).unwrap();
    let out = accord(&[
        "publish",
        "--server",
        &server.url,
        "--key",
        pub_key,
        "--collection",
        &cid,
        newer.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let out = pull(read_key_s);
    let got: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got, vec![indicator(40)]);

    // A revoked key is refused with the server's explanation.
    admin_json(&data, &["key", "revoke", read_key["id"].as_str().unwrap()]);
    let out = pull(read_key_s);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP 401"));
    let keys = admin_json(&data, &["key", "list", "--org", "Board"]);
    assert!(keys[0]["revoked"].is_string());
    assert!(keys[0]["last_used"].is_string());
}

fn run_ok(args: &[&str]) -> (String, String) {
    let out = accord(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn match_against_a_running_server_sees_only_what_the_key_may_and_records_sightings() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = serve(&data);
    let cid = election_group(&data);
    admin_json(
        &data,
        &["org", "create", "Outsider", "--sector", "research"],
    );
    let key = |org: &str, role: &str| new_key(&data, org, role);
    let (publisher, board, outsider) = (
        key("FaceSpace", "analyst"),
        key("Board", "analyst"),
        key("Outsider", "analyst"),
    );

    // Two AMBER (collection default) indicators, published with the CLI.
    let bundle = dir.path().join("indicators.json");
    let objects = vec![indicator(1), indicator(2)];
    std::fs::write(&bundle, json!({"type": "bundle", "id": "bundle--6c8a2b4e-0000-4000-8000-000000000001", "objects": objects}).to_string()).unwrap();
    run_ok(&[
        "publish",
        "--server",
        &server.url,
        "--key",
        &publisher,
        "--collection",
        &cid,
        bundle.to_str().unwrap(),
    ]);
    admin_json(
        &data,
        &[
            "known-good",
            "add",
            "--org",
            "Board",
            "X2.example",
            "--note",
            "ours",
        ],
    );

    let input = dir.path().join("seen.txt");
    std::fs::write(
        &input,
        "x1.example\nhttp://X2.example/login\nnot-a-thing!\nx3.example\n",
    )
    .unwrap();
    let input = input.to_str().unwrap();
    let (out, err) = run_ok(&[
        "match",
        input,
        "--server",
        &server.url,
        "--key",
        &board,
        "--sight",
        "--batch",
        "2",
    ]);
    let lines = json_lines(&out);
    let hits: Vec<&Value> = lines
        .iter()
        .filter(|l| l.get("indicator").is_some() && l.get("suppressed").is_none())
        .collect();
    assert_eq!(hits.len(), 1, "{out}");
    assert_eq!(hits[0]["indicator"], json!(indicator(1)["id"]));
    assert_eq!(hits[0]["line"], json!(1));
    assert_eq!(hits[0]["marking"], json!("TLP:AMBER"));
    assert_eq!(hits[0]["source_name"], json!("FaceSpace"));
    // The known-good entry suppresses the URL's host hit, and says so; line numbers count
    // across batches.
    let suppressed: Vec<&Value> = lines
        .iter()
        .filter(|l| l.get("suppressed").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1, "{out}");
    assert_eq!(suppressed[0]["line"], json!(2));
    assert_eq!(suppressed[0]["suppressed"]["list"], json!("organisation"));
    let errors: Vec<&Value> = lines.iter().filter(|l| l.get("error").is_some()).collect();
    assert_eq!(errors[0]["line"], json!(3));
    assert_eq!(
        lines.last().unwrap()["summary"],
        json!({"observables": 3, "hits": 1, "suppressed": 1, "errors": 1})
    );
    assert!(err.contains("1 sightings recorded"), "{err}");

    // An organisation outside the group sees no AMBER hit.
    let (out, _) = run_ok(&["match", input, "--server", &server.url, "--key", &outsider]);
    assert!(!out.contains("\"indicator\""), "{out}");

    // Locally, against the bundle file, every indicator is visible and nothing is suppressed.
    let (out, _) = run_ok(&["match", input, "--indicators", bundle.to_str().unwrap()]);
    let lines = json_lines(&out);
    assert_eq!(lines.last().unwrap()["summary"]["hits"], json!(2), "{out}");
}

/// `../shared/testdata/pdq` beside the repository, when it is there.
fn pdq_fixtures() -> Option<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/pdq");
    if dir.join("expected.csv").exists() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: PDQ fixtures not found at {}", dir.display());
        None
    }
}

#[test]
fn media_hash_prints_the_reference_hashes_of_a_folder_and_match_finds_them() {
    let Some(fixtures) = pdq_fixtures() else {
        return;
    };
    let expected: std::collections::HashMap<String, (String, String)> =
        std::fs::read_to_string(fixtures.join("expected.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                let name = f[0].rsplit('/').next().unwrap().to_owned();
                (name, (f[1].to_owned(), f[2].to_owned()))
            })
            .collect();
    let png = fixtures.join("png");
    let (out, err) = run_ok(&["media", "hash", png.to_str().unwrap()]);
    let mut seen = 0;
    for line in out.lines() {
        let mut parts = line.splitn(3, ',');
        let (hash, quality, path) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let name = path.rsplit('/').next().unwrap();
        assert_eq!(
            expected.get(name),
            Some(&(hash.to_owned(), quality.to_owned())),
            "{name}"
        );
        seen += 1;
    }
    assert!(seen >= 30, "{seen} images hashed: {err}");

    // The listing is a hash list `match` reads as it is; an image finds itself at 0.
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("hashes.txt");
    std::fs::write(&list, &out).unwrap();
    let image = png.join("bridge-mods__aaa-orig.png");
    let (found, _) = run_ok(&[
        "media",
        "match",
        image.to_str().unwrap(),
        "--hashes",
        list.to_str().unwrap(),
    ]);
    let first = found.lines().next().unwrap();
    assert!(first.starts_with("0,"), "{found}");
    assert!(first.ends_with("bridge-mods__aaa-orig.png"), "{found}");
    // A file that is not an image is reported, and the others still hashed.
    std::fs::write(dir.path().join("notes.txt"), "not an image").unwrap();
    std::fs::copy(&image, dir.path().join("a.png")).unwrap();
    let out = accord(&["media", "hash", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("notes.txt"));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

#[test]
fn media_match_against_a_running_server_sees_only_what_the_key_may() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = serve(&data);
    let cid = election_group(&data);
    admin_json(
        &data,
        &["org", "create", "Outsider", "--sector", "research"],
    );
    let key = |org: &str| new_key(&data, org, "analyst");
    let (publisher, board, outsider) = (key("FaceSpace"), key("Board"), key("Outsider"));
    let hash = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    let mut ind = indicator(7);
    ind["pattern"] = json!(format!("[file:hashes.PDQ = '{hash}']"));
    let bundle = dir.path().join("pdq.json");
    std::fs::write(&bundle, json!({"type": "bundle", "id": "bundle--6c8a2b4e-0000-4000-8000-000000000002", "objects": [ind]}).to_string()).unwrap();
    run_ok(&[
        "publish",
        "--server",
        &server.url,
        "--key",
        &publisher,
        "--collection",
        &cid,
        bundle.to_str().unwrap(),
    ]);
    // Three bits away: found at distance 3 by a member of the (AMBER) group.
    let near = format!("18{}", &hash[2..]);
    let (out, _) = run_ok(&[
        "media",
        "match",
        &near,
        "--server",
        &server.url,
        "--key",
        &board,
    ]);
    let line = out.lines().next().unwrap_or_default();
    assert!(line.starts_with(&format!("3,{hash},indicator--")), "{out}");
    assert!(line.ends_with(",TLP:AMBER,FaceSpace"), "{out}");
    // Not by an organisation outside it.
    let (out, _) = run_ok(&[
        "media",
        "match",
        &near,
        "--server",
        &server.url,
        "--key",
        &outsider,
    ]);
    assert!(out.is_empty(), "{out}");
}
