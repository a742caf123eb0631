//! Writes every output of a small hand-made detection, for tools outside Rust to check:
//! the interop suite (`tests/interop/test_coord_stix.py`) runs it and validates the STIX
//! bundle with the OASIS `stix2-validator`, compares observable ids with the OASIS `stix2`
//! library and parses the GraphML.
//!
//! `cargo run -p accord-coord --example output_sample -- DIR` writes `DIR/plain` (no
//! attribution, TLP:AMBER) and `DIR/attributed` (a campaign attributed to an intrusion set,
//! TLP:GREEN), each with `edges.csv`, `graph.graphml`, `clusters.json` and `bundle.json`.
//! The two clusters span two platforms and four behaviours, and the account ids hold
//! commas, quotes, `<&>` and non-ASCII letters.

use std::path::PathBuf;

use accord_coord::Config;
use accord_coord::model::{
    Account, Behaviour, Cluster, Detection, Edge, Evidence, Item, PostRef, Stats,
};
use accord_coord::output::{self, StixOptions};
use accord_stix::{Timestamp, Tlp};

/// 2024-10-01T12:00:00Z in milliseconds.
const T0: i64 = 1_727_784_000_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        return Err("usage: output_sample DIR".into());
    };
    let detection = sample();
    let config = Config {
        threads: 1,
        ..Config::default()
    };
    let created = Timestamp::parse("2024-10-02T08:30:00.000Z")?;
    let plain = StixOptions::new("Analysts & Co", created.clone());
    output::write_all(&dir.join("plain"), &detection, &config, &plain)?;
    let attributed = StixOptions {
        tlp: Tlp::Green,
        campaign: Some("Doppelgänger 'v2'".to_owned()),
        intrusion_set: Some("Storm-1516".to_owned()),
        ..StixOptions::new("Analysts & Co", created)
    };
    output::write_all(&dir.join("attributed"), &detection, &config, &attributed)?;
    Ok(())
}

fn sample() -> Detection {
    use Behaviour::*;
    let account = |platform: &str, id: &str| Account {
        platform: platform.to_owned(),
        id: id.to_owned(),
    };
    let post = |id: &str, ms: i64| PostRef {
        id: id.to_owned(),
        time_ms: T0 + ms,
    };
    let evidence = |item: u32, a: PostRef, b: PostRef| Evidence {
        item,
        post_a: a,
        post_b: b,
    };
    let edge = |a: u32, b: u32, behaviour: Behaviour, weight: f64, evidence: Vec<Evidence>| Edge {
        a,
        b,
        behaviour,
        weight,
        evidence,
    };
    let item = |behaviour: Behaviour, value: &str, accounts: u32, weight: f64| Item {
        behaviour,
        value: value.to_owned(),
        accounts,
        weight,
    };
    Detection {
        accounts: vec![
            account("facebook", "p\"q"),
            account("facebook", "页面,1"),
            account("telegram", "канал"),
            account("x", "<&>"),
            account("x", "a"),
            account("x", "b"),
        ],
        edges: vec![
            edge(
                0,
                1,
                CoLink,
                2.0,
                vec![
                    evidence(0, post("fb1", 0), post("fb2", 1_500)),
                    evidence(1, post("fb3", 60_000), post("fb4", 61_000)),
                ],
            ),
            edge(
                1,
                3,
                CoLink,
                1.0,
                vec![evidence(0, post("fb2", 1_500), post("tw1", 3_000))],
            ),
            edge(
                0,
                3,
                CoText,
                1.0,
                vec![evidence(2, post("fb5", 120_000), post("tw2", 125_250))],
            ),
            edge(
                2,
                4,
                CoMedia,
                1.0,
                vec![evidence(3, post("tg1", 3_600_000), post("tw3", 3_600_010))],
            ),
            edge(
                4,
                5,
                CoRepost,
                0.75,
                vec![evidence(4, post("tw5", 3_700_000), post("tw6", 3_700_002))],
            ),
        ],
        items: vec![
            item(CoLink, "https://example.com/a?x=1,2", 3, 1.0),
            item(CoLink, "https://news.example.org/it's", 2, 1.0),
            item(CoText, "vote \"now\" <today> & tomorrow", 4, 1.0),
            item(
                CoMedia,
                "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
                2,
                1.0,
            ),
            item(CoRepost, "x:12345", 150, 0.75),
        ],
        clusters: vec![
            Cluster {
                id: 0,
                members: vec![0, 1, 3],
                edges: vec![0, 1, 2],
                items: vec![0, 1, 2],
                weight: 4.0,
                first_ms: T0,
                last_ms: T0 + 125_250,
                platforms: vec!["facebook".to_owned(), "x".to_owned()],
                behaviours: vec![CoLink, CoText],
            },
            Cluster {
                id: 1,
                members: vec![2, 4, 5],
                edges: vec![3, 4],
                items: vec![3, 4],
                weight: 1.75,
                first_ms: T0 + 3_600_000,
                last_ms: T0 + 3_700_002,
                platforms: vec!["telegram".to_owned(), "x".to_owned()],
                behaviours: vec![CoMedia, CoRepost],
            },
        ],
        stats: Stats {
            posts: 1000,
            accounts: 40,
            behaviours: Vec::new(),
        },
    }
}
