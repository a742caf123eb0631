//! `clusters.json`: the clusters with their evidence, for a person to read (in a browser's
//! JSON viewer, or with `jq`) and for scripts.
//!
//! ```text
//! {
//!   "parameters": {"behaviours": [...], "window_seconds", "min_weight", "min_overlap", "link_domain",
//!                  "similarity", "shingle", "min_shingles", "pdq_distance", "popular",
//!                  "viral"},
//!   "stats": {"posts", "accounts", "edges", "clusters",
//!             "behaviours": [{"behaviour", "actions", "items", "viral_items", "pairs",
//!                             "edges"}]},
//!   "clusters": [{
//!     "id", "size", "weight", "first", "last", "platforms", "behaviours",
//!     "members": [{"platform", "account", "weight"}],
//!     "items": [{"behaviour", "value", "accounts", "weight", "shared_by": ["platform:id"]}],
//!     "edges": [{"source", "target", "behaviour", "weight",
//!                "evidence": [{"item", "seconds_apart",
//!                              "source_post": {"platform", "post", "time"},
//!                              "target_post": {"platform", "post", "time"}}]}]
//!   }]
//! }
//! ```
//!
//! A member's `weight` is the sum of the weights of its edges inside the cluster (who is at
//! the core). An item's `accounts` and `weight` are those of the whole input (how many
//! accounts acted on it, and what one co-action on it was worth, less for popular items);
//! `shared_by` names the members that co-acted on it. Evidence is, per item of the edge,
//! the pair of posts closest in time, `source_post` by the edge's `source`; it is sorted by
//! time. `window_seconds` is the co-action window; the worker count is left out, since it
//! does not change the result. Clusters come heaviest first, members and items in the
//! detection's order (items most co-actions first).
//!
//! The document is written one cluster at a time, each compactly on a line of its own, so
//! a run with many clusters never holds more than one cluster's JSON in memory.

use std::collections::HashMap;
use std::io::{self, Write};

use serde::Serialize;
use serde_json::{Value, json};

use crate::detect::Config;
use crate::model::{Cluster, Detection, PostRef};

/// Writes the clusters of `detection`, with the run's `config` and counts, as JSON.
pub fn write_clusters_json(
    mut w: impl Write,
    detection: &Detection,
    config: &Config,
) -> io::Result<()> {
    super::check(detection)?;
    w.write_all(b"{\n  \"parameters\": ")?;
    write_indented(&mut w, &parameters(config))?;
    w.write_all(b",\n  \"stats\": ")?;
    write_indented(&mut w, &stats(detection))?;
    w.write_all(b",\n  \"clusters\": [")?;
    // Compact, one cluster a line: a cluster with thousands of evidence pairs is
    // megabytes, and `jq` or a browser lays it out on demand. Clusters are rendered a few
    // at a time side by side (one per thread), then written in order.
    let threads = config.threads.max(1);
    let render = |c: &Cluster| serde_json::to_vec(&cluster(detection, c));
    for (n, group) in detection.clusters.chunks(threads).enumerate() {
        let rendered: Vec<serde_json::Result<Vec<u8>>> = if group.len() == 1 {
            group.iter().map(render).collect()
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = group
                    .iter()
                    .map(|c| scope.spawn(move || render(c)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect()
            })
        };
        for (k, text) in rendered.into_iter().enumerate() {
            w.write_all(if n == 0 && k == 0 {
                b"\n    "
            } else {
                b",\n    "
            })?;
            w.write_all(&text?)?;
        }
    }
    if !detection.clusters.is_empty() {
        w.write_all(b"\n  ")?;
    }
    w.write_all(b"]\n}\n")
}

fn write_indented(w: &mut impl Write, value: &Value) -> io::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    w.write_all(text.replace('\n', "\n  ").as_bytes())
}

fn parameters(config: &Config) -> Value {
    json!({
        "behaviours": config.behaviours.iter().map(|b| b.name()).collect::<Vec<_>>(),
        "window_seconds": config.window_ms as f64 / 1000.0,
        "min_weight": config.min_weight,
        "min_overlap": config.min_overlap,
        "link_domain": config.link_domain,
        "similarity": config.similarity,
        "shingle": config.shingle,
        "min_shingles": config.min_shingles,
        "pdq_distance": config.pdq_distance,
        "popular": config.popular,
        "viral": config.viral,
    })
}

fn stats(d: &Detection) -> Value {
    let behaviours: Vec<Value> = d
        .stats
        .behaviours
        .iter()
        .map(|b| {
            json!({
                "behaviour": b.behaviour.name(),
                "actions": b.actions,
                "items": b.items,
                "viral_items": b.viral_items,
                "pairs": b.pairs,
                "edges": b.edges,
            })
        })
        .collect();
    json!({
        "posts": d.stats.posts,
        "accounts": d.stats.accounts,
        "edges": d.edges.len(),
        "clusters": d.clusters.len(),
        "behaviours": behaviours,
    })
}

#[derive(Serialize)]
struct ClusterOut<'a> {
    id: u32,
    size: usize,
    weight: f64,
    first: String,
    last: String,
    platforms: &'a [String],
    behaviours: Vec<&'static str>,
    members: Vec<MemberOut<'a>>,
    items: Vec<ItemOut<'a>>,
    edges: Vec<EdgeOut<'a>>,
}

#[derive(Serialize)]
struct MemberOut<'a> {
    platform: &'a str,
    account: &'a str,
    weight: f64,
}

#[derive(Serialize)]
struct ItemOut<'a> {
    behaviour: &'static str,
    value: &'a str,
    accounts: u32,
    weight: f64,
    shared_by: Vec<String>,
}

#[derive(Serialize)]
struct EdgeOut<'a> {
    source: String,
    target: String,
    behaviour: &'static str,
    weight: f64,
    evidence: Vec<EvidenceOut<'a>>,
}

#[derive(Serialize)]
struct EvidenceOut<'a> {
    item: &'a str,
    seconds_apart: f64,
    source_post: PostOut<'a>,
    target_post: PostOut<'a>,
}

#[derive(Serialize)]
struct PostOut<'a> {
    platform: &'a str,
    post: &'a str,
    time: String,
}

/// One cluster, borrowing from the detection: written straight to the writer, with no
/// intermediate JSON tree (evidence runs to megabytes).
fn cluster<'a>(d: &'a Detection, c: &'a Cluster) -> ClusterOut<'a> {
    let key = |a: u32| d.accounts[a as usize].key();
    let mut member_weight: HashMap<u32, f64> = HashMap::new();
    for &ei in &c.edges {
        let e = &d.edges[ei as usize];
        *member_weight.entry(e.a).or_insert(0.0) += e.weight;
        *member_weight.entry(e.b).or_insert(0.0) += e.weight;
    }
    let members = c
        .members
        .iter()
        .map(|&m| {
            let a = &d.accounts[m as usize];
            MemberOut {
                platform: &a.platform,
                account: &a.id,
                weight: member_weight.get(&m).copied().unwrap_or(0.0),
            }
        })
        .collect();
    let items = super::shared_items(d, c)
        .into_iter()
        .map(|s| {
            let item = &d.items[s.item as usize];
            ItemOut {
                behaviour: item.behaviour.name(),
                value: &item.value,
                accounts: item.accounts,
                weight: item.weight,
                shared_by: s.accounts.iter().map(|&a| key(a)).collect(),
            }
        })
        .collect();
    let edges = c
        .edges
        .iter()
        .map(|&ei| {
            let e = &d.edges[ei as usize];
            let (source, target) = (&d.accounts[e.a as usize], &d.accounts[e.b as usize]);
            let mut evidence: Vec<_> = e.evidence.iter().collect();
            evidence.sort_by(|x, y| {
                let t = |ev: &crate::model::Evidence| ev.post_a.time_ms.min(ev.post_b.time_ms);
                t(x).cmp(&t(y))
                    .then_with(|| {
                        d.items[x.item as usize]
                            .value
                            .cmp(&d.items[y.item as usize].value)
                    })
                    .then_with(|| x.post_a.id.cmp(&y.post_a.id))
                    .then_with(|| x.post_b.id.cmp(&y.post_b.id))
            });
            let post = |platform: &'a str, p: &'a PostRef| PostOut {
                platform,
                post: &p.id,
                time: super::rfc3339(p.time_ms),
            };
            EdgeOut {
                source: source.key(),
                target: target.key(),
                behaviour: e.behaviour.name(),
                weight: e.weight,
                evidence: evidence
                    .into_iter()
                    .map(|ev| EvidenceOut {
                        item: &d.items[ev.item as usize].value,
                        seconds_apart: ev.post_b.time_ms.abs_diff(ev.post_a.time_ms) as f64
                            / 1000.0,
                        source_post: post(&source.platform, &ev.post_a),
                        target_post: post(&target.platform, &ev.post_b),
                    })
                    .collect(),
            }
        })
        .collect();
    ClusterOut {
        id: c.id,
        size: c.members.len(),
        weight: c.weight,
        first: super::rfc3339(c.first_ms),
        last: super::rfc3339(c.last_ms),
        platforms: &c.platforms,
        behaviours: c.behaviours.iter().map(|b| b.name()).collect(),
        members,
        items,
        edges,
    }
}
