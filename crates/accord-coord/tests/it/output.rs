//! The writers on a hand-built detection: two clusters over two platforms and four
//! behaviours, account ids with commas, quotes, `<&>`, non-ASCII letters, a line break and
//! a control character, plus an edge outside every cluster.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use accord_coord::Config;
use accord_coord::model::{
    Account, Behaviour, BehaviourStats, Cluster, Detection, Edge, Evidence, Item, PostRef, Stats,
};
use accord_coord::output::{self, StixOptions};
use accord_stix::{StixId, Timestamp, Tlp};
use serde_json::Value;

/// 2024-10-01T12:00:00Z in milliseconds.
const T0: i64 = 1_727_784_000_000;

fn account(platform: &str, id: &str) -> Account {
    Account {
        platform: platform.to_owned(),
        id: id.to_owned(),
    }
}

fn evidence(item: u32, a: (&str, i64), b: (&str, i64)) -> Evidence {
    let post = |(id, ms): (&str, i64)| PostRef {
        id: id.to_owned(),
        time_ms: T0 + ms,
    };
    Evidence {
        item,
        post_a: post(a),
        post_b: post(b),
    }
}

fn edge(a: u32, b: u32, behaviour: Behaviour, weight: f64, evidence: Vec<Evidence>) -> Edge {
    Edge {
        a,
        b,
        behaviour,
        weight,
        evidence,
    }
}

fn item(behaviour: Behaviour, value: &str, accounts: u32, weight: f64) -> Item {
    Item {
        behaviour,
        value: value.to_owned(),
        accounts,
        weight,
    }
}

const PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

fn sample() -> Detection {
    use Behaviour::*;
    Detection {
        accounts: vec![
            account("facebook", "p\"q"),
            account("facebook", "页面,1"),
            account("twitter", "<&>"),
            account("twitter", "a"),
            account("twitter", "b"),
            account("twitter", "line\nbreak\u{1}"),
        ],
        edges: vec![
            edge(
                0,
                1,
                CoLink,
                2.0,
                vec![
                    evidence(1, ("fb3", 60_000), ("fb4", 61_000)),
                    evidence(0, ("fb1", 0), ("fb2", 1_500)),
                ],
            ),
            edge(
                1,
                2,
                CoLink,
                1.0,
                vec![evidence(0, ("fb2", 1_500), ("tw1", 3_000))],
            ),
            edge(
                0,
                2,
                CoText,
                1.0,
                vec![evidence(2, ("fb5", 120_000), ("tw2", 125_250))],
            ),
            edge(
                3,
                4,
                CoMedia,
                0.5,
                vec![evidence(3, ("tw3", 3_600_000), ("tw4", 3_600_010))],
            ),
            edge(
                3,
                4,
                CoRepost,
                0.75,
                vec![evidence(4, ("tw5", 3_700_000), ("tw6", 3_700_002))],
            ),
            edge(
                2,
                5,
                CoRepost,
                0.75,
                vec![evidence(4, ("tw7", 3_700_100), ("tw8", 3_700_105))],
            ),
        ],
        items: vec![
            item(CoLink, "https://example.com/a?x=1,2", 3, 1.0),
            item(CoLink, "https://example.org/it", 2, 1.0),
            item(CoText, "vote \"now\" <today> & tomorrow", 4, 1.0),
            item(CoMedia, PDQ, 2, 0.5),
            item(CoRepost, "twitter:12345", 150, 0.75),
        ],
        clusters: vec![
            Cluster {
                id: 0,
                members: vec![0, 1, 2],
                edges: vec![0, 1, 2],
                items: vec![0, 1, 2],
                weight: 4.0,
                first_ms: T0,
                last_ms: T0 + 125_250,
                platforms: vec!["facebook".to_owned(), "twitter".to_owned()],
                behaviours: vec![CoLink, CoText],
            },
            Cluster {
                id: 1,
                members: vec![3, 4],
                edges: vec![3, 4],
                items: vec![3, 4],
                weight: 1.25,
                first_ms: T0 + 3_600_000,
                last_ms: T0 + 3_700_002,
                platforms: vec!["twitter".to_owned()],
                behaviours: vec![CoMedia, CoRepost],
            },
        ],
        stats: Stats {
            posts: 1000,
            accounts: 40,
            behaviours: vec![
                BehaviourStats {
                    behaviour: CoLink,
                    actions: 300,
                    items: 120,
                    viral_items: 0,
                    pairs: 9,
                    edges: 2,
                },
                BehaviourStats {
                    behaviour: CoRepost,
                    actions: 500,
                    items: 20,
                    viral_items: 1,
                    pairs: 30,
                    edges: 2,
                },
            ],
        },
    }
}

fn config() -> Config {
    Config {
        window_ms: 60_000,
        min_weight: 0.5,
        threads: 3,
        ..Config::default()
    }
}

fn options() -> StixOptions {
    StixOptions::new(
        "Analysts & Co",
        Timestamp::parse("2024-10-02T08:30:00.123456Z").unwrap(),
    )
}

fn text(write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut buf = Vec::new();
    write(&mut buf).unwrap();
    String::from_utf8(buf).unwrap()
}

fn csv(d: &Detection) -> String {
    text(|w| output::write_edges_csv(w, d))
}

fn graphml(d: &Detection) -> String {
    text(|w| output::write_graphml(w, d))
}

fn clusters(d: &Detection, c: &Config) -> String {
    text(|w| output::write_clusters_json(w, d, c))
}

fn stix(d: &Detection, o: &StixOptions) -> String {
    text(|w| output::write_stix(w, d, o))
}

// ---------------------------------------------------------------------------------------
// edges.csv

#[test]
fn edges_csv_quotes_what_needs_quoting_and_nothing_else() {
    let expected = "\
source,target,weight,behaviour,episodes,first,last,type
\"facebook:p\"\"q\",\"facebook:页面,1\",2,co-link,2,2024-10-01T12:00:00.000Z,2024-10-01T12:01:01.000Z,Undirected
\"facebook:页面,1\",twitter:<&>,1,co-link,1,2024-10-01T12:00:01.500Z,2024-10-01T12:00:03.000Z,Undirected
\"facebook:p\"\"q\",twitter:<&>,1,co-text,1,2024-10-01T12:02:00.000Z,2024-10-01T12:02:05.250Z,Undirected
twitter:a,twitter:b,0.5,co-media,1,2024-10-01T13:00:00.000Z,2024-10-01T13:00:00.010Z,Undirected
twitter:a,twitter:b,0.75,co-repost,1,2024-10-01T13:01:40.000Z,2024-10-01T13:01:40.002Z,Undirected
twitter:<&>,\"twitter:line
break\u{1}\",0.75,co-repost,1,2024-10-01T13:01:40.100Z,2024-10-01T13:01:40.105Z,Undirected
";
    assert_eq!(csv(&sample()), expected);
}

#[test]
fn edges_csv_of_nothing_is_the_header() {
    assert_eq!(
        csv(&Detection::default()),
        "source,target,weight,behaviour,episodes,first,last,type\n"
    );
}

// ---------------------------------------------------------------------------------------
// graph.graphml

#[test]
fn graphml_parses_back_to_the_same_graph() {
    let d = sample();
    let xml = graphml(&d);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "graphml");
    let keys: BTreeMap<String, (String, String)> = root
        .children()
        .filter(|n| n.has_tag_name("key"))
        .map(|n| {
            (
                n.attribute("id").unwrap().to_owned(),
                (
                    n.attribute("for").unwrap().to_owned(),
                    n.attribute("attr.type").unwrap().to_owned(),
                ),
            )
        })
        .collect();
    for (key, kind, ty) in [
        ("platform", "node", "string"),
        ("account", "node", "string"),
        ("cluster", "node", "int"),
        ("weighted_degree", "node", "double"),
        ("weight", "edge", "double"),
        ("behaviour", "edge", "string"),
        ("episodes", "edge", "int"),
    ] {
        assert_eq!(keys[key], (kind.to_owned(), ty.to_owned()), "{key}");
    }
    let graph = root.children().find(|n| n.has_tag_name("graph")).unwrap();
    assert_eq!(graph.attribute("edgedefault"), Some("undirected"));
    let data = |n: roxmltree::Node| -> HashMap<String, String> {
        n.children()
            .filter(|c| c.has_tag_name("data"))
            .map(|c| {
                (
                    c.attribute("key").unwrap().to_owned(),
                    c.text().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    };

    let nodes: Vec<(String, HashMap<String, String>)> = graph
        .children()
        .filter(|n| n.has_tag_name("node"))
        .map(|n| (n.attribute("id").unwrap().to_owned(), data(n)))
        .collect();
    let ids: Vec<&str> = nodes.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "facebook:p\"q",
            "facebook:页面,1",
            "twitter:<&>",
            "twitter:a",
            "twitter:b",
            "twitter:line\nbreak\u{fffd}",
        ]
    );
    let node = |id: &str| &nodes.iter().find(|(n, _)| n == id).unwrap().1;
    let page = node("facebook:页面,1");
    assert_eq!(page["platform"], "facebook");
    assert_eq!(page["account"], "页面,1");
    assert_eq!(page["label"], "facebook:页面,1");
    assert_eq!(page["cluster"], "0");
    assert_eq!(page["weighted_degree"], "3");
    assert_eq!(node("twitter:<&>")["account"], "<&>");
    assert_eq!(node("twitter:<&>")["weighted_degree"], "2.75");
    assert_eq!(node("twitter:a")["cluster"], "1");
    assert_eq!(node("twitter:a")["weighted_degree"], "1.25");
    let outsider = node("twitter:line\nbreak\u{fffd}");
    assert_eq!(outsider["cluster"], "-1");
    assert_eq!(outsider["account"], "line\nbreak\u{fffd}");

    let edges: Vec<(String, String, String, HashMap<String, String>)> = graph
        .children()
        .filter(|n| n.has_tag_name("edge"))
        .map(|n| {
            (
                n.attribute("id").unwrap().to_owned(),
                n.attribute("source").unwrap().to_owned(),
                n.attribute("target").unwrap().to_owned(),
                data(n),
            )
        })
        .collect();
    assert_eq!(edges.len(), d.edges.len());
    let edge_ids: BTreeSet<&str> = edges.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(edge_ids.len(), edges.len(), "edge ids are distinct");
    for (i, (_, source, target, attrs)) in edges.iter().enumerate() {
        assert!(ids.contains(&source.as_str()) && ids.contains(&target.as_str()));
        let e = &d.edges[i];
        assert_eq!(attrs["behaviour"], e.behaviour.name());
        assert_eq!(attrs["weight"].parse::<f64>().unwrap(), e.weight);
        assert_eq!(attrs["episodes"], e.evidence.len().to_string());
    }
    // The pair (a, b) co-acted in two behaviours: two parallel edges.
    let parallel: Vec<&str> = edges
        .iter()
        .filter(|e| e.1 == "twitter:a" && e.2 == "twitter:b")
        .map(|e| e.3["behaviour"].as_str())
        .collect();
    assert_eq!(parallel, ["co-media", "co-repost"]);
}

#[test]
fn graphml_keeps_node_ids_unique_when_keys_collide() {
    // `a:b` + `c` and `a` + `b:c` are both `a:b:c`.
    let mut d = Detection {
        accounts: vec![account("a", "b:c"), account("a:b", "c")],
        ..Detection::default()
    };
    d.edges.push(edge(0, 1, Behaviour::CoLink, 1.0, Vec::new()));
    let xml = graphml(&d);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let ids: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("node"))
        .map(|n| n.attribute("id").unwrap())
        .collect();
    assert_eq!(ids, ["a:b:c", "a:b:c#1"]);
    let e = doc.descendants().find(|n| n.has_tag_name("edge")).unwrap();
    assert_eq!(
        (e.attribute("source"), e.attribute("target")),
        (Some("a:b:c"), Some("a:b:c#1"))
    );
}

// ---------------------------------------------------------------------------------------
// clusters.json

#[test]
fn clusters_json_has_parameters_counts_and_evidence() {
    let d = sample();
    let v: Value = serde_json::from_str(&clusters(&d, &config())).unwrap();
    let p = &v["parameters"];
    assert_eq!(p["window_seconds"], 60.0);
    assert_eq!(p["min_weight"], 0.5);
    assert_eq!(p["behaviours"].as_array().unwrap().len(), 7);
    assert_eq!(p["behaviours"][0], "co-link");
    assert!(
        p.get("threads").is_none(),
        "the worker count is not a result"
    );
    let s = &v["stats"];
    assert_eq!(s["posts"], 1000);
    assert_eq!(s["accounts"], 40);
    assert_eq!(s["edges"], 6);
    assert_eq!(s["clusters"], 2);
    assert_eq!(s["behaviours"][1]["behaviour"], "co-repost");
    assert_eq!(s["behaviours"][1]["viral_items"], 1);

    let all = v["clusters"].as_array().unwrap();
    assert_eq!(all.len(), 2);
    let c = &all[0];
    assert_eq!(c["id"], 0);
    assert_eq!(c["size"], 3);
    assert_eq!(c["weight"], 4.0);
    assert_eq!(c["first"], "2024-10-01T12:00:00.000Z");
    assert_eq!(c["last"], "2024-10-01T12:02:05.250Z");
    assert_eq!(c["platforms"], serde_json::json!(["facebook", "twitter"]));
    assert_eq!(c["behaviours"], serde_json::json!(["co-link", "co-text"]));
    assert_eq!(
        c["members"],
        serde_json::json!([
            {"platform": "facebook", "account": "p\"q", "weight": 3.0},
            {"platform": "facebook", "account": "页面,1", "weight": 3.0},
            {"platform": "twitter", "account": "<&>", "weight": 2.0},
        ])
    );
    assert_eq!(
        c["items"][0],
        serde_json::json!({
            "behaviour": "co-link",
            "value": "https://example.com/a?x=1,2",
            "accounts": 3,
            "weight": 1.0,
            "shared_by": ["facebook:p\"q", "facebook:页面,1", "twitter:<&>"],
        })
    );
    assert_eq!(c["items"][2]["value"], "vote \"now\" <today> & tomorrow");
    assert_eq!(
        c["items"][2]["shared_by"],
        serde_json::json!(["facebook:p\"q", "twitter:<&>"])
    );
    let e = &c["edges"][0];
    assert_eq!(e["source"], "facebook:p\"q");
    assert_eq!(e["target"], "facebook:页面,1");
    assert_eq!(e["behaviour"], "co-link");
    assert_eq!(e["weight"], 2.0);
    // Evidence sorted by time, whatever order the detection holds it in.
    assert_eq!(
        e["evidence"],
        serde_json::json!([
            {
                "item": "https://example.com/a?x=1,2",
                "seconds_apart": 1.5,
                "source_post": {"platform": "facebook", "post": "fb1", "time": "2024-10-01T12:00:00.000Z"},
                "target_post": {"platform": "facebook", "post": "fb2", "time": "2024-10-01T12:00:01.500Z"},
            },
            {
                "item": "https://example.org/it",
                "seconds_apart": 1.0,
                "source_post": {"platform": "facebook", "post": "fb3", "time": "2024-10-01T12:01:00.000Z"},
                "target_post": {"platform": "facebook", "post": "fb4", "time": "2024-10-01T12:01:01.000Z"},
            },
        ])
    );
    assert_eq!(
        c["edges"][2]["evidence"][0]["target_post"]["platform"],
        "twitter"
    );
    assert_eq!(c["edges"][2]["evidence"][0]["seconds_apart"], 5.25);

    let c = &all[1];
    assert_eq!(c["members"][0]["account"], "a");
    assert_eq!(c["members"][0]["weight"], 1.25);
    assert_eq!(c["items"][0]["value"], PDQ);
    assert_eq!(c["items"][1]["value"], "twitter:12345");
    assert_eq!(c["items"][1]["accounts"], 150);
    assert_eq!(c["items"][1]["weight"], 0.75);
    assert_eq!(c["edges"].as_array().unwrap().len(), 2);
    assert_eq!(c["edges"][1]["evidence"][0]["seconds_apart"], 0.002);
}

#[test]
fn clusters_json_writes_each_cluster_as_canonical_compact_json() {
    let mut d = sample();
    // The account with a line break and a control character, in a cluster, and an item
    // with every character JSON escapes.
    d.clusters[1].members.push(5);
    d.clusters[1].edges.push(5);
    let odd = "tab\there \"q\" back\\slash \u{7f} \u{1f} é\r\n";
    d.items[4].value = odd.to_owned();
    let text = clusters(&d, &config());
    let lines: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("    {"))
        .map(|l| l.trim_end_matches(','))
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    for line in lines {
        let line = format!("{{{line}");
        let v: Value = serde_json::from_str(&line).unwrap();
        // Keys in the documented order, numbers as written, strings escaped as serde_json
        // escapes them: the line is what serde_json itself writes for the same value.
        assert_eq!(serde_json::to_string(&v).unwrap(), line);
    }
    let v: Value = serde_json::from_str(&text).unwrap();
    let c = &v["clusters"][1];
    assert_eq!(c["members"][2]["account"], "line\nbreak\u{1}");
    assert_eq!(c["items"][1]["value"], odd);
    assert_eq!(c["edges"][2]["target"], "twitter:line\nbreak\u{1}");
    assert_eq!(c["edges"][2]["evidence"][0]["item"], odd);
    assert_eq!(
        c["edges"][2]["evidence"][0]["target_post"]["time"],
        "2024-10-01T13:01:40.105Z"
    );
}

#[test]
fn clusters_json_of_nothing_is_still_a_document() {
    let v: Value = serde_json::from_str(&clusters(&Detection::default(), &config())).unwrap();
    assert_eq!(v["clusters"], serde_json::json!([]));
    assert_eq!(v["stats"]["edges"], 0);
}

// ---------------------------------------------------------------------------------------
// bundle.json

fn objects(bundle: &Value) -> &Vec<Value> {
    bundle["objects"].as_array().unwrap()
}

fn of_type<'a>(bundle: &'a Value, t: &str) -> Vec<&'a Value> {
    objects(bundle).iter().filter(|o| o["type"] == t).collect()
}

/// Every `*_ref` and `*_refs` value anywhere in `v`.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k.ends_with("_ref") {
                    out.extend(x.as_str().map(str::to_owned));
                } else if k.ends_with("_refs") {
                    out.extend(
                        x.as_array()
                            .unwrap()
                            .iter()
                            .map(|r| r.as_str().unwrap().to_owned()),
                    );
                } else {
                    refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

/// Checks what every bundle must satisfy and returns it parsed.
fn check_bundle(text: &str) -> Value {
    let bundle: Value = serde_json::from_str(text).unwrap();
    assert_eq!(bundle["type"], "bundle");
    StixId::parse(bundle["id"].as_str().unwrap()).unwrap();
    let ids: Vec<&str> = objects(&bundle)
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "ids are unique");
    for o in objects(&bundle) {
        let map = o.as_object().unwrap();
        if let Err(violations) = accord_stix::validate(map) {
            panic!("{violations:?}\n{o:#}");
        }
        let mut found = Vec::new();
        refs(o, &mut found);
        for r in found {
            assert!(unique.contains(r.as_str()), "{r} in {} resolves", o["id"]);
        }
        let t = o["type"].as_str().unwrap();
        if t != "marking-definition" {
            assert_eq!(
                o["object_marking_refs"],
                serde_json::json!([Tlp::Amber.marking_ref()]),
                "{}",
                o["id"]
            );
        }
        if !matches!(t, "marking-definition" | "identity" | "user-account") {
            assert!(o["created_by_ref"].is_string(), "{} has an author", o["id"]);
            assert_eq!(o["created"], "2024-10-02T08:30:00.123Z");
            assert_eq!(o["modified"], "2024-10-02T08:30:00.123Z");
        }
        if t == "indicator" {
            let pattern = o["pattern"].as_str().unwrap();
            accord_pattern::parse(pattern).unwrap();
            assert_eq!(o["pattern_type"], "stix");
        }
    }
    bundle
}

#[test]
fn stix_bundle_has_a_grouping_per_cluster_accounts_and_indicators() {
    let d = sample();
    let bundle = check_bundle(&stix(&d, &options()));
    let types: Vec<&str> = objects(&bundle)
        .iter()
        .map(|o| o["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "marking-definition",
            "identity",
            "user-account",
            "user-account",
            "user-account",
            "user-account",
            "user-account",
            "indicator",
            "indicator",
            "indicator",
            "grouping",
            "grouping",
        ]
    );
    let identity = of_type(&bundle, "identity")[0];
    assert_eq!(identity["name"], "Analysts & Co");
    assert_eq!(identity["identity_class"], "organization");

    // The members only: the account outside every cluster is not shared.
    let accounts: Vec<(&str, &str)> = of_type(&bundle, "user-account")
        .iter()
        .map(|o| {
            (
                o["account_type"].as_str().unwrap(),
                o["user_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        accounts,
        [
            ("facebook", "p\"q"),
            ("facebook", "页面,1"),
            ("twitter", "<&>"),
            ("twitter", "a"),
            ("twitter", "b"),
        ]
    );

    let patterns: Vec<&str> = of_type(&bundle, "indicator")
        .iter()
        .map(|o| o["pattern"].as_str().unwrap())
        .collect();
    assert_eq!(
        patterns,
        [
            "[url:value = 'https://example.com/a?x=1,2']",
            "[url:value = 'https://example.org/it']",
            &format!("[file:hashes.PDQ = '{PDQ}']"),
        ]
    );
    let link = of_type(&bundle, "indicator")[0];
    assert_eq!(link["valid_from"], "2024-10-01T12:00:00.000Z");
    assert_eq!(
        link["indicator_types"],
        serde_json::json!(["anomalous-activity"])
    );
    assert_eq!(
        link["description"],
        "Shared by 3 coordinated accounts on facebook and twitter (co-link, 1 cluster), \
         first at 2024-10-01T12:00:00.000Z; 3 accounts acted on it in all."
    );

    let groupings = of_type(&bundle, "grouping");
    let g = groupings[0];
    assert_eq!(g["context"], "suspicious-activity");
    assert_eq!(
        g["name"],
        "Cluster 0: 3 coordinated accounts on facebook and twitter (co-link and co-text)"
    );
    let description = g["description"].as_str().unwrap();
    assert!(
        description.starts_with(
            "3 accounts on facebook and twitter acted together (co-link and co-text) between \
             2024-10-01T12:00:00.000Z and 2024-10-01T12:02:05.250Z; total edge weight 4."
        ),
        "{description}"
    );
    assert!(description.contains("Members: facebook:p\"q, facebook:页面,1, twitter:<&>."));
    assert!(
        description.contains(
            "\n- co-text vote \"now\" <today> & tomorrow (by 2 members; 4 accounts in all)"
        )
    );
    let by_id: HashMap<&str, &Value> = objects(&bundle)
        .iter()
        .map(|o| (o["id"].as_str().unwrap(), o))
        .collect();
    let kinds = |g: &Value| -> Vec<String> {
        g["object_refs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                by_id[r.as_str().unwrap()]["type"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(
        kinds(g),
        [
            "user-account",
            "user-account",
            "user-account",
            "indicator",
            "indicator"
        ]
    );
    assert_eq!(
        kinds(groupings[1]),
        ["user-account", "user-account", "indicator"]
    );
}

#[test]
fn stix_attribution_adds_the_campaign_the_intrusion_set_and_relationships() {
    let d = sample();
    let mut o = options();
    o.campaign = Some("Doppelgänger".to_owned());
    o.intrusion_set = Some("Set 'X'".to_owned());
    let bundle = check_bundle(&stix(&d, &o));
    let campaign = of_type(&bundle, "campaign");
    let set = of_type(&bundle, "intrusion-set");
    assert_eq!(campaign.len(), 1);
    assert_eq!(campaign[0]["name"], "Doppelgänger");
    assert_eq!(set[0]["name"], "Set 'X'");
    let rels: Vec<(&str, &str, &str)> = of_type(&bundle, "relationship")
        .iter()
        .map(|r| {
            (
                r["relationship_type"].as_str().unwrap(),
                r["source_ref"]
                    .as_str()
                    .unwrap()
                    .split("--")
                    .next()
                    .unwrap(),
                r["target_ref"]
                    .as_str()
                    .unwrap()
                    .split("--")
                    .next()
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rels,
        [
            ("attributed-to", "campaign", "intrusion-set"),
            ("indicates", "indicator", "campaign"),
            ("indicates", "indicator", "campaign"),
            ("indicates", "indicator", "campaign"),
        ]
    );
    for i in of_type(&bundle, "indicator") {
        assert_eq!(i["indicator_types"], serde_json::json!(["attribution"]));
    }
    for g in of_type(&bundle, "grouping") {
        let refs: Vec<&str> = g["object_refs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert!(refs.contains(&campaign[0]["id"].as_str().unwrap()));
        assert!(refs.contains(&set[0]["id"].as_str().unwrap()));
        assert!(
            g["description"]
                .as_str()
                .unwrap()
                .contains("Attributed to the campaign Doppelgänger of the intrusion set Set 'X'.")
        );
    }

    // An intrusion set alone is what the indicators indicate.
    o.campaign = None;
    let bundle = check_bundle(&stix(&d, &o));
    assert!(of_type(&bundle, "campaign").is_empty());
    for r in of_type(&bundle, "relationship") {
        assert_eq!(r["relationship_type"], "indicates");
        assert!(
            r["target_ref"]
                .as_str()
                .unwrap()
                .starts_with("intrusion-set--")
        );
    }
}

#[test]
fn stix_with_the_exchange_identity_names_it_and_writes_no_identity() {
    let mut o = options();
    let id = "identity--0f3a5bd2-cbd0-4e1d-9c0b-8f8c0c5b1a2e";
    o.identity = Some(StixId::parse(id).unwrap());
    o.tlp = Tlp::Green;
    let bundle: Value = serde_json::from_str(&stix(&sample(), &o)).unwrap();
    assert!(of_type(&bundle, "identity").is_empty());
    assert_eq!(objects(&bundle)[0]["id"], Tlp::Green.marking_ref());
    for g in of_type(&bundle, "grouping") {
        assert_eq!(g["created_by_ref"], id);
        assert_eq!(
            g["object_marking_refs"],
            serde_json::json!([Tlp::Green.marking_ref()])
        );
    }
}

#[test]
fn stix_red_objects_name_their_recipients() {
    let mut o = options();
    o.tlp = Tlp::Red;
    let recipient = "identity--6b1f0a5e-0d6f-4c47-9d1e-0a0c3d4e5f60";
    o.recipients = vec![StixId::parse(recipient).unwrap()];
    let bundle: Value = serde_json::from_str(&stix(&sample(), &o)).unwrap();
    for obj in objects(&bundle).iter().skip(1) {
        let sharing = accord_stix::ext::sharing(obj.as_object().unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(sharing.recipients, [recipient], "{}", obj["id"]);
        assert_eq!(
            accord_stix::tlp::strictest(obj.as_object().unwrap()),
            Some(Tlp::Red)
        );
    }
}

#[test]
fn stix_ids_survive_a_later_run_but_not_another_organisation() {
    let d = sample();
    let ids = |o: &StixOptions| -> Vec<String> {
        let bundle: Value = serde_json::from_str(&stix(&d, o)).unwrap();
        objects(&bundle)
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = ids(&options());
    let mut later = options();
    later.created = Timestamp::parse("2025-01-01T00:00:00Z").unwrap();
    assert_eq!(ids(&later), first);
    let mut other = options();
    other.organisation = "Someone else".to_owned();
    let theirs = ids(&other);
    for (mine, theirs) in first.iter().zip(&theirs) {
        // Observables and the TLP marking are everyone's; the rest is the organisation's.
        let shared = mine.starts_with("user-account--") || mine.starts_with("marking-definition--");
        assert_eq!(mine == theirs, shared, "{mine} / {theirs}");
    }
}

#[test]
fn stix_user_account_ids_are_the_specification_ones() {
    let bundle: Value = serde_json::from_str(&stix(&sample(), &options())).unwrap();
    let ids: Vec<&str> = of_type(&bundle, "user-account")
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    // As the OASIS stix2 library (3.0.2) computes them, e.g.
    // UserAccount(account_type="facebook", user_id="页面,1").id
    assert_eq!(ids[1], "user-account--18c3ed78-27ea-533b-bd8f-a9ff3f5573fb");
    for id in ids {
        let uuid = id.strip_prefix("user-account--").unwrap();
        assert_eq!(&uuid[14..15], "5", "version 5: {id}");
    }
}

#[test]
fn stix_platform_aliases_map_to_the_stix_account_types() {
    let mut d = sample();
    d.accounts[3].platform = "x".to_owned();
    d.accounts[4].platform = "Telegram".to_owned();
    let bundle: Value = serde_json::from_str(&stix(&d, &options())).unwrap();
    let types: Vec<&str> = of_type(&bundle, "user-account")
        .iter()
        .map(|o| o["account_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["facebook", "facebook", "twitter", "twitter", "telegram"]
    );
}

#[test]
fn stix_links_compared_by_domain_become_domain_indicators() {
    let mut d = sample();
    d.items[0].value = "example.com".to_owned();
    d.items[1].value = "not a link".to_owned();
    let bundle = check_bundle(&stix(&d, &options()));
    let patterns: Vec<&str> = of_type(&bundle, "indicator")
        .iter()
        .map(|o| o["pattern"].as_str().unwrap())
        .collect();
    assert_eq!(
        patterns,
        [
            "[domain-name:value = 'example.com']",
            &format!("[file:hashes.PDQ = '{PDQ}']"),
        ]
    );
}

// ---------------------------------------------------------------------------------------
// All of them

#[test]
fn the_same_detection_writes_the_same_bytes() {
    let d = sample();
    let again = sample();
    assert_eq!(csv(&d), csv(&again));
    assert_eq!(graphml(&d), graphml(&again));
    assert_eq!(clusters(&d, &config()), clusters(&again, &config()));
    assert_eq!(stix(&d, &options()), stix(&again, &options()));
    let mut more_threads = config();
    more_threads.threads = 1;
    assert_eq!(clusters(&d, &config()), clusters(&d, &more_threads));
}

#[test]
fn write_all_puts_the_four_files_in_a_new_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run").join("out");
    let d = sample();
    let written = output::write_all(&dir, &d, &config(), &options()).unwrap();
    assert_eq!(written.edges, dir.join("edges.csv"));
    assert_eq!(written.graphml, dir.join("graph.graphml"));
    assert_eq!(written.clusters, dir.join("clusters.json"));
    assert_eq!(written.bundle, dir.join("bundle.json"));
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap();
    assert_eq!(read(&written.edges), csv(&d));
    assert_eq!(read(&written.graphml), graphml(&d));
    assert_eq!(read(&written.clusters), clusters(&d, &config()));
    assert_eq!(read(&written.bundle), stix(&d, &options()));
}

#[test]
fn write_all_replaces_the_files_of_an_earlier_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    output::write_all(&dir, &sample(), &config(), &options()).unwrap();
    let earlier = std::fs::read_to_string(dir.join("edges.csv")).unwrap();
    let d = Detection::default();
    let written = output::write_all(&dir, &d, &config(), &options()).unwrap();
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap();
    assert_eq!(read(&written.edges), csv(&d));
    assert_ne!(read(&written.edges), earlier);
    assert_eq!(read(&written.graphml), graphml(&d));
    assert_eq!(read(&written.clusters), clusters(&d, &config()));
    assert_eq!(read(&written.bundle), stix(&d, &options()));
}

#[test]
fn write_all_names_the_directory_it_cannot_create() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let err = output::write_all(&file.join("out"), &sample(), &config(), &options()).unwrap_err();
    assert!(err.to_string().contains("a-file"), "{err}");
}

#[test]
fn a_detection_pointing_nowhere_is_refused_before_anything_is_written() {
    let mut d = sample();
    d.edges[1].evidence[0].item = 99;
    let mut buf = Vec::new();
    let err = output::write_edges_csv(&mut buf, &d).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert!(err.to_string().contains("edge 1 cites item 99"), "{err}");
    assert!(buf.is_empty());
    let mut d = sample();
    d.clusters[1].members.push(6);
    assert!(output::write_graphml(&mut buf, &d).is_err());
    assert!(output::write_clusters_json(&mut buf, &d, &config()).is_err());
    assert!(output::stix_bundle(&d, &options()).is_err());
    assert!(buf.is_empty());
}
