//! `graph.graphml`: the graph of accounts for Gephi (or networkx, igraph, Cytoscape).
//!
//! Undirected (`edgedefault="undirected"`: co-action has no direction). Nodes are the
//! accounts in an edge, with id `platform:id` and attributes `label` (the same, for
//! Gephi's label column), `platform`, `account`, `cluster` (the cluster's id, or -1 for an
//! account in no cluster) and `weighted_degree` (sum of the weights of its edges, all
//! behaviours). Edges carry `weight` (Gephi's edge weight), `behaviour` and `episodes`
//! (the co-action episodes behind the edge).
//!
//! Two accounts that co-acted in several behaviours are joined by one edge per behaviour,
//! each with its own id (`e0`, `e1`... in the detection's edge order): merged, a strong
//! co-repost edge would hide that the same pair also shared links. Gephi imports parallel
//! edges as they are when asked to ("Don't merge" in its import report); to see one edge
//! per pair, let it merge them by summing weights.
//!
//! Everything taken from the input (ids, platforms) is escaped: `&`, `<`, `>` and quotes as
//! entities, tabs and line breaks as character references (so that attribute values keep
//! them), and the control characters XML 1.0 cannot carry at all replaced by U+FFFD. Two
//! accounts whose `platform:id` strings coincide (a platform name containing `:`) would
//! give two nodes one id; the second gets `#` and its index appended, so ids stay unique.

use std::collections::HashSet;
use std::io::{self, Write};

use crate::model::Detection;

const PREAMBLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">
  <key id="label" for="node" attr.name="label" attr.type="string"/>
  <key id="platform" for="node" attr.name="platform" attr.type="string"/>
  <key id="account" for="node" attr.name="account" attr.type="string"/>
  <key id="cluster" for="node" attr.name="cluster" attr.type="int"/>
  <key id="weighted_degree" for="node" attr.name="weighted_degree" attr.type="double"/>
  <key id="weight" for="edge" attr.name="weight" attr.type="double"/>
  <key id="behaviour" for="edge" attr.name="behaviour" attr.type="string"/>
  <key id="episodes" for="edge" attr.name="episodes" attr.type="int"/>
  <graph id="coordination" edgedefault="undirected">
"#;

const END: &str = "  </graph>\n</graphml>\n";

/// Writes `detection`'s graph as GraphML.
pub fn write_graphml(mut w: impl Write, detection: &Detection) -> io::Result<()> {
    super::check(detection)?;
    let d = detection;
    let mut cluster = vec![-1i64; d.accounts.len()];
    for c in &d.clusters {
        for &m in &c.members {
            cluster[m as usize] = i64::from(c.id);
        }
    }
    let mut degree = vec![0.0f64; d.accounts.len()];
    for e in &d.edges {
        degree[e.a as usize] += e.weight;
        degree[e.b as usize] += e.weight;
    }
    let mut seen: HashSet<String> = HashSet::with_capacity(d.accounts.len());
    let ids: Vec<String> = d
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut id = a.key();
            if seen.contains(&id) {
                id = format!("{id}#{i}");
            }
            seen.insert(id.clone());
            id
        })
        .collect();

    w.write_all(PREAMBLE.as_bytes())?;
    for (i, a) in d.accounts.iter().enumerate() {
        let id = escape(&ids[i]);
        writeln!(
            w,
            "    <node id=\"{id}\">\
             <data key=\"label\">{label}</data>\
             <data key=\"platform\">{platform}</data>\
             <data key=\"account\">{account}</data>\
             <data key=\"cluster\">{cluster}</data>\
             <data key=\"weighted_degree\">{degree}</data>\
             </node>",
            label = escape(&a.key()),
            platform = escape(&a.platform),
            account = escape(&a.id),
            cluster = cluster[i],
            degree = degree[i],
        )?;
    }
    for (i, e) in d.edges.iter().enumerate() {
        writeln!(
            w,
            "    <edge id=\"e{i}\" source=\"{source}\" target=\"{target}\">\
             <data key=\"weight\">{weight}</data>\
             <data key=\"behaviour\">{behaviour}</data>\
             <data key=\"episodes\">{episodes}</data>\
             </edge>",
            source = escape(&ids[e.a as usize]),
            target = escape(&ids[e.b as usize]),
            weight = e.weight,
            behaviour = e.behaviour,
            episodes = e.evidence.len(),
        )?;
    }
    w.write_all(END.as_bytes())
}

/// Text safe in XML 1.0 content and in double- or single-quoted attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}
