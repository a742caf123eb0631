//! `accord coord detect` and `accord coord publish` end to end.

use std::path::Path;

use serde_json::{Value, json};

use super::{accord, election_group, json_lines, new_key, run_ok, serve};

/// A planted group (three accounts on two platforms pushing the same link, text and
/// hashtags at eight moments of the day, seconds apart) among 60 organic accounts.
fn posts() -> Vec<Value> {
    let mut out = Vec::new();
    let mut n = 0;
    let group = [("x", "op1"), ("x", "op2"), ("fb", "op3")];
    for event in 0..8 {
        let t = 1_762_000_000 + event * 3600;
        for (k, (platform, account)) in group.iter().enumerate() {
            n += 1;
            out.push(json!({
                "platform": platform, "account_id": account, "post_id": format!("p{n}"),
                "timestamp": t + 7 * k as i64,
                "text": format!("@someone The count in ward {event} was RIGGED https://t.example/{n}"),
                "urls": [format!("https://news-{event}.example/story?utm_source=x")],
                "hashtags": ["#Rigged", "#ward"],
            }));
        }
    }
    for i in 0..400 {
        n += 1;
        out.push(json!({
            "platform": "x", "account_id": format!("u{}", i % 60), "post_id": format!("p{n}"),
            "timestamp": 1_762_000_000 + (i * 7919) % 30_000,
            "text": format!("organic post number {i}"),
            "urls": [format!("https://site{}.example/", i % 5)],
        }));
    }
    out
}

fn csv_field(v: &Value) -> String {
    let s = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    };
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn write_csv(path: &Path, posts: &[Value]) {
    let columns = [
        "platform",
        "account_id",
        "post_id",
        "timestamp",
        "text",
        "urls",
        "hashtags",
    ];
    let mut text = columns.join(",") + "\n";
    for p in posts {
        let row: Vec<String> = columns.iter().map(|c| csv_field(&p[*c])).collect();
        text += &(row.join(",") + "\n");
    }
    std::fs::write(path, text).unwrap();
}

fn write_jsonl(path: &Path, posts: &[Value]) {
    let text: String = posts.iter().map(|p| format!("{p}\n")).collect();
    std::fs::write(path, text).unwrap();
}

/// coordination-network-toolkit's columns; the platform goes into the user id as its
/// users do when they mix platforms.
fn write_cnt(path: &Path, posts: &[Value]) {
    let mut text =
        "message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n".to_owned();
    for p in posts {
        let user = format!(
            "{}-{}",
            p["platform"].as_str().unwrap(),
            p["account_id"].as_str().unwrap()
        );
        text += &format!(
            "{},{user},{user},,,{},{},{}\n",
            p["post_id"].as_str().unwrap(),
            csv_field(&p["text"]),
            p["timestamp"],
            csv_field(&p["urls"]),
        );
    }
    std::fs::write(path, text).unwrap();
}

fn edges(dir: &Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(dir.join("edges.csv")).unwrap();
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("source,target,weight,behaviour")
    );
    let mut out: Vec<(String, String, String)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_owned(), f[1].to_owned(), f[3].to_owned())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn detect_finds_a_planted_cross_platform_group_in_csv_json_lines_and_toolkit_files() {
    let dir = tempfile::tempdir().unwrap();
    let posts = posts();
    let csv = dir.path().join("posts.csv");
    let jsonl = dir.path().join("posts.jsonl");
    let cnt = dir.path().join("toolkit.csv");
    write_csv(&csv, &posts);
    write_jsonl(&jsonl, &posts);
    write_cnt(&cnt, &posts);
    let pairs = |a: &str, b: &str, c: &str, behaviour: &str| {
        vec![
            (a.to_owned(), b.to_owned(), behaviour.to_owned()),
            (a.to_owned(), c.to_owned(), behaviour.to_owned()),
            (b.to_owned(), c.to_owned(), behaviour.to_owned()),
        ]
    };
    for (input, name) in [(&csv, "csv"), (&jsonl, "jsonl")] {
        let out = dir.path().join(format!("out-{name}"));
        let (stdout, _) = run_ok(&[
            "coord",
            "detect",
            "--input",
            input.to_str().unwrap(),
            "--behaviours",
            "co-link,co-text,co-hashtag",
            "--window",
            "60",
            "--min-weight",
            "5",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        assert!(stdout.contains("1 clusters"), "{name}: {stdout}");
        let mut want = Vec::new();
        for b in ["co-hashtag", "co-link", "co-text"] {
            want.extend(pairs("fb:op3", "x:op1", "x:op2", b));
        }
        want.sort();
        assert_eq!(edges(&out), want, "{name}");
        let clusters: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("clusters.json")).unwrap())
                .unwrap();
        let c = &clusters["clusters"][0];
        assert_eq!(c["platforms"], json!(["fb", "x"]), "{name}: {c}");
        assert_eq!(c["members"].as_array().unwrap().len(), 3);
        for f in ["graph.graphml", "bundle.json", "bad-rows.csv"] {
            assert!(out.join(f).is_file(), "{name}: {f}");
        }
    }
    // The toolkit's file, read as it is; its users pick the platform.
    let out = dir.path().join("out-cnt");
    run_ok(&[
        "coord",
        "detect",
        "--input",
        cnt.to_str().unwrap(),
        "--platform",
        "twitter",
        "--behaviours",
        "co-link,co-text",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let mut want = Vec::new();
    for b in ["co-link", "co-text"] {
        want.extend(pairs("twitter:fb-op3", "twitter:x-op1", "twitter:x-op2", b));
    }
    want.sort();
    assert_eq!(edges(&out), want);
    // Organic chance co-actions on the five popular sites exist, but stay light.
    let (stdout, _) = run_ok(&[
        "coord",
        "detect",
        "--input",
        csv.to_str().unwrap(),
        "--behaviours",
        "co-link",
        "--min-weight",
        "0.1",
        "--out",
        dir.path().join("low").to_str().unwrap(),
        "--quiet",
    ]);
    assert!(stdout.lines().any(|l| l.starts_with("co-link")), "{stdout}");
}

#[test]
fn detect_spills_to_disk_when_told_and_finds_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("posts.csv");
    write_csv(&csv, &posts());
    let spill = dir.path().join("spill");
    let detect = |out: &str, extra: &[&str]| {
        let out = dir.path().join(out);
        let mut args = vec![
            "coord",
            "detect",
            "--input",
            csv.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ];
        args.extend_from_slice(extra);
        run_ok(&args);
        out
    };
    let in_memory = detect("memory", &[]);
    let spilled = detect(
        "spilled",
        &["--spill-after", "0", "--spill-dir", spill.to_str().unwrap()],
    );
    // Three pairs in each of co-link, co-text, co-similar-text and co-hashtag.
    assert_eq!(edges(&in_memory).len(), 12);
    for f in ["edges.csv", "clusters.json", "graph.graphml"] {
        assert_eq!(
            std::fs::read(in_memory.join(f)).unwrap(),
            std::fs::read(spilled.join(f)).unwrap(),
            "{f}"
        );
    }
    assert_eq!(std::fs::read_dir(&spill).unwrap().count(), 0, "files left");
    let out = accord(&[
        "coord",
        "detect",
        "--input",
        csv.to_str().unwrap(),
        "--spill-after",
        "lots",
        "--out",
        dir.path().join("x").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("--spill-after") && err.contains("512M"),
        "{err}"
    );
}

#[test]
fn detect_skips_bad_rows_with_their_line_and_refuses_what_it_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("posts.csv");
    std::fs::write(
        &csv,
        "account_id,post_id,timestamp,urls\na,1,5,https://a.example\n,2,6,\nc,3,soon,\n",
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let (_, stderr) = run_ok(&[
        "coord",
        "detect",
        "--input",
        csv.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(
        stderr.contains("posts.csv:3: account_id is empty"),
        "{stderr}"
    );
    assert!(stderr.contains("posts.csv:4: timestamp 'soon'"), "{stderr}");
    let bad = std::fs::read_to_string(out_dir.join("bad-rows.csv")).unwrap();
    assert_eq!(bad.lines().count(), 3, "{bad}");

    let refused = |args: &[&str], says: &str| {
        let out = accord(args);
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    };
    let out = out_dir.to_str().unwrap();
    let input = csv.to_str().unwrap();
    refused(
        &[
            "coord",
            "detect",
            "--input",
            input,
            "--out",
            out,
            "--behaviours",
            "co-retweet",
        ],
        "unknown behaviour \"co-retweet\": choose from co-link",
    );
    refused(
        &[
            "coord",
            "detect",
            "--input",
            input,
            "--out",
            out,
            "--similarity",
            "2",
        ],
        "--similarity",
    );
    refused(
        &[
            "coord", "detect", "--input", input, "--out", out, "--tlp", "purple",
        ],
        "--tlp",
    );
    let missing = dir.path().join("wrong.csv");
    std::fs::write(&missing, "user,post_id,timestamp\n").unwrap();
    refused(
        &[
            "coord",
            "detect",
            "--input",
            missing.to_str().unwrap(),
            "--out",
            out,
        ],
        "has no column account_id",
    );
    refused(
        &[
            "coord",
            "detect",
            "--input",
            "/nonexistent/posts.csv",
            "--out",
            out,
        ],
        "/nonexistent/posts.csv",
    );
    refused(
        &[
            "coord",
            "publish",
            dir.path().to_str().unwrap(),
            "--server",
            "http://127.0.0.1:9",
            "--key",
            "k",
            "--collection",
            "c",
        ],
        "run `accord coord detect",
    );
}

#[test]
fn publish_shares_the_findings_with_the_trust_group_and_no_one_else() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = serve(&data);
    let cid = election_group(&data);
    let publisher = new_key(&data, "FaceSpace", "analyst");
    let member = new_key(&data, "Board", "reader");
    let csv = dir.path().join("posts.csv");
    write_csv(&csv, &posts());
    let out = dir.path().join("out");
    run_ok(&[
        "coord",
        "detect",
        "--input",
        csv.to_str().unwrap(),
        "--behaviours",
        "co-link",
        "--out",
        out.to_str().unwrap(),
        "--organisation",
        "FaceSpace",
        "--campaign",
        "Ward rumours",
        "--quiet",
    ]);
    let (_, stderr) = run_ok(&[
        "coord",
        "publish",
        out.to_str().unwrap(),
        "--server",
        &server.url,
        "--key",
        &publisher,
        "--collection",
        &cid,
    ]);
    assert!(stderr.contains(", 0 refused"), "{stderr}");
    let pull = |key: &str| {
        accord(&[
            "pull",
            "--server",
            &server.url,
            "--key",
            key,
            "--collection",
            &cid,
            "--checkpoint",
            dir.path()
                .join(format!("{key}.checkpoint"))
                .to_str()
                .unwrap(),
        ])
    };
    let got = pull(&member);
    assert!(got.status.success());
    let objects = json_lines(&String::from_utf8_lossy(&got.stdout));
    let of_type = |t: &str| objects.iter().filter(|o| o["type"] == t).count();
    assert_eq!(of_type("grouping"), 1, "{objects:?}");
    assert_eq!(of_type("user-account"), 3);
    assert_eq!(of_type("indicator"), 8, "one per shared link");
    assert_eq!(of_type("campaign"), 1);
    let grouping = objects.iter().find(|o| o["type"] == "grouping").unwrap();
    assert!(
        grouping["description"].as_str().unwrap().contains("x:op1"),
        "{grouping}"
    );
    // An organisation outside the trust group reads none of it.
    super::admin_json(
        &data,
        &["org", "create", "Outsider", "--sector", "research"],
    );
    let outsider = new_key(&data, "Outsider", "analyst");
    let got = pull(&outsider);
    assert!(
        json_lines(&String::from_utf8_lossy(&got.stdout)).is_empty(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
}
