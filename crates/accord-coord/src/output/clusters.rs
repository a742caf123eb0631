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

use std::io::{self, Write};

use rayon::prelude::*;
use serde_json::{Value, json};

use crate::detect::Config;
use crate::model::{Cluster, Detection, Evidence};

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
    let render = |c: &Cluster| cluster(detection, c);
    for (n, group) in detection.clusters.chunks(threads).enumerate() {
        // Side by side on the threads of the current pool (see `crate::on_threads`).
        let rendered: Vec<Vec<u8>> = group.par_iter().map(render).collect();
        for (k, text) in rendered.into_iter().enumerate() {
            w.write_all(if n == 0 && k == 0 {
                b"\n    "
            } else {
                b",\n    "
            })?;
            w.write_all(&text)?;
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

/// Compact JSON written straight into a buffer: a cluster's evidence runs to megabytes,
/// and building a tree of owned strings for it took longer than writing it.
struct Json {
    out: Vec<u8>,
    /// Scratch for formatting a time.
    time: String,
    /// The day (since the epoch) whose date `date` holds, if any: evidence comes by
    /// time, so the date is formatted once a day and only the time of day each time.
    day: Option<i64>,
    date: [u8; 10],
}

impl Json {
    fn raw(&mut self, s: &str) {
        self.out.extend_from_slice(s.as_bytes());
    }

    /// `"key":`, the key being one of this module's own (plain ASCII).
    fn key(&mut self, key: &str) {
        self.out.push(b'"');
        self.raw(key);
        self.out.extend_from_slice(b"\":");
    }

    fn str(&mut self, s: &str) {
        // Most strings need no escaping: copied as they are.
        if plain(s) {
            self.out.push(b'"');
            self.raw(s);
            self.out.push(b'"');
        } else {
            self.escaped(s);
        }
    }

    fn escaped(&mut self, s: &str) {
        if serde_json::to_writer(&mut self.out, s).is_err() {
            // Writing into a vector does not fail; should it, the value is still JSON.
            self.out.extend_from_slice(b"null");
        }
    }

    /// `"platform:id"`, as [`Account::key`](crate::model::Account::key) spells it.
    fn account(&mut self, a: &crate::model::Account) {
        if plain(&a.platform) && plain(&a.id) {
            self.out.push(b'"');
            self.raw(&a.platform);
            self.out.push(b':');
            self.raw(&a.id);
            self.out.push(b'"');
        } else {
            self.escaped(&a.key());
        }
    }

    fn f64(&mut self, x: f64) {
        if serde_json::to_writer(&mut self.out, &x).is_err() {
            self.out.extend_from_slice(b"null");
        }
    }

    fn int(&mut self, n: u64) {
        // Writing into a vector does not fail.
        let _ = write!(self.out, "{n}");
    }

    /// Seconds given as milliseconds, as [`Json::f64`] writes `ms / 1000`: the integer,
    /// a point, and the thousandths without trailing zeros (at least one digit), which is
    /// the shortest decimal naming that double while it is below 2^33 seconds.
    fn millis_as_secs(&mut self, ms: u64) {
        if ms >= 1 << 43 {
            self.f64(ms as f64 / 1000.0);
            return;
        }
        let _ = write!(self.out, "{}.", ms / 1000);
        let frac = ms % 1000;
        let digits = [frac / 100, frac / 10 % 10, frac % 10];
        let keep = match frac {
            0 => 1,
            f if f % 100 == 0 => 1,
            f if f % 10 == 0 => 2,
            _ => 3,
        };
        self.out
            .extend(digits[..keep].iter().map(|&d| b'0' + d as u8));
    }

    /// An RFC 3339 time with milliseconds, as [`super::rfc3339`] spells it.
    fn time(&mut self, ms: i64) {
        // The fast way where the time in nanoseconds fits an i64 (years 1685 to 2255, all
        // of four digits); beyond, [`super::rfc3339`] clamps it, and so does this.
        if !(-9_000_000_000_000..9_000_000_000_000).contains(&ms) {
            return self.time_slowly(ms);
        }
        let day = ms.div_euclid(86_400_000);
        let in_day = ms.rem_euclid(86_400_000);
        if self.day != Some(day) {
            self.time.clear();
            accord_stix::time::push_nanos(&mut self.time, day * 86_400_000 * 1_000_000, 0);
            // `YYYY-MM-DD` first.
            let Some(date) = self.time.as_bytes().get(..10) else {
                return self.time_slowly(ms);
            };
            self.date.copy_from_slice(date);
            self.day = Some(day);
        }
        let (h, m, s, milli) = (
            in_day / 3_600_000,
            in_day / 60_000 % 60,
            in_day / 1000 % 60,
            in_day % 1000,
        );
        let d = |n: i64| b'0' + n as u8;
        let mut text = [0u8; 26];
        text[0] = b'"';
        text[1..11].copy_from_slice(&self.date);
        text[11..].copy_from_slice(&[
            b'T',
            d(h / 10),
            d(h % 10),
            b':',
            d(m / 10),
            d(m % 10),
            b':',
            d(s / 10),
            d(s % 10),
            b'.',
            d(milli / 100),
            d(milli / 10 % 10),
            d(milli % 10),
            b'Z',
            b'"',
        ]);
        self.out.extend_from_slice(&text);
    }

    fn time_slowly(&mut self, ms: i64) {
        self.time.clear();
        accord_stix::time::push_nanos(&mut self.time, ms.saturating_mul(1_000_000), 3);
        self.out.push(b'"');
        self.out.extend_from_slice(self.time.as_bytes());
        self.out.push(b'"');
    }

    /// `,` before every element of an array or member of an object but the first.
    fn comma(&mut self, first: bool) {
        if !first {
            self.out.push(b',');
        }
    }
}

/// Whether `s` goes into JSON as it is, between quotes. Every byte is looked at, with no
/// branch, which the compiler turns into wide compares.
fn plain(s: &str) -> bool {
    !s.bytes().fold(false, |bad, b| {
        bad | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

/// One cluster as compact JSON, in the shape the module docs give.
fn cluster(d: &Detection, c: &Cluster) -> Vec<u8> {
    // Sized for the evidence up front, which is most of it: growing a buffer of
    // megabytes by doubling copies it over and over.
    let evidence: usize = c
        .edges
        .iter()
        .map(|&ei| d.edges[ei as usize].evidence.len())
        .sum();
    let mut j = Json {
        out: Vec::with_capacity(
            (1 << 12) + 400 * evidence + 200 * (c.edges.len() + c.items.len() + c.members.len()),
        ),
        time: String::with_capacity(32),
        day: None,
        date: [0; 10],
    };
    let mut member_weight: super::Map<u32, f64> = super::Map::default();
    for &ei in &c.edges {
        let e = &d.edges[ei as usize];
        *member_weight.entry(e.a).or_insert(0.0) += e.weight;
        *member_weight.entry(e.b).or_insert(0.0) += e.weight;
    }
    j.raw("{");
    j.key("id");
    j.int(u64::from(c.id));
    j.raw(",");
    j.key("size");
    j.int(c.members.len() as u64);
    j.raw(",");
    j.key("weight");
    j.f64(c.weight);
    j.raw(",");
    j.key("first");
    j.time(c.first_ms);
    j.raw(",");
    j.key("last");
    j.time(c.last_ms);
    j.raw(",");
    j.key("platforms");
    j.raw("[");
    for (n, p) in c.platforms.iter().enumerate() {
        j.comma(n == 0);
        j.str(p);
    }
    j.raw("],");
    j.key("behaviours");
    j.raw("[");
    for (n, b) in c.behaviours.iter().enumerate() {
        j.comma(n == 0);
        j.str(b.name());
    }
    j.raw("],");
    j.key("members");
    j.raw("[");
    for (n, &m) in c.members.iter().enumerate() {
        let a = &d.accounts[m as usize];
        j.comma(n == 0);
        j.raw("{");
        j.key("platform");
        j.str(&a.platform);
        j.raw(",");
        j.key("account");
        j.str(&a.id);
        j.raw(",");
        j.key("weight");
        j.f64(member_weight.get(&m).copied().unwrap_or(0.0));
        j.raw("}");
    }
    j.raw("],");
    j.key("items");
    j.raw("[");
    for (n, s) in super::shared_items(d, c).into_iter().enumerate() {
        let item = &d.items[s.item as usize];
        j.comma(n == 0);
        j.raw("{");
        j.key("behaviour");
        j.str(item.behaviour.name());
        j.raw(",");
        j.key("value");
        j.str(&item.value);
        j.raw(",");
        j.key("accounts");
        j.int(u64::from(item.accounts));
        j.raw(",");
        j.key("weight");
        j.f64(item.weight);
        j.raw(",");
        j.key("shared_by");
        j.raw("[");
        for (k, &a) in s.accounts.iter().enumerate() {
            j.comma(k == 0);
            j.account(&d.accounts[a as usize]);
        }
        j.raw("]}");
    }
    j.raw("],");
    j.key("edges");
    j.raw("[");
    let mut evidence: Vec<&Evidence> = Vec::new();
    for (n, &ei) in c.edges.iter().enumerate() {
        let e = &d.edges[ei as usize];
        let (source, target) = (&d.accounts[e.a as usize], &d.accounts[e.b as usize]);
        evidence.clear();
        evidence.extend(&e.evidence);
        evidence.sort_by(|x, y| {
            let t = |ev: &Evidence| ev.post_a.time_ms.min(ev.post_b.time_ms);
            t(x).cmp(&t(y))
                .then_with(|| {
                    d.items[x.item as usize]
                        .value
                        .cmp(&d.items[y.item as usize].value)
                })
                .then_with(|| x.post_a.id.cmp(&y.post_a.id))
                .then_with(|| x.post_b.id.cmp(&y.post_b.id))
        });
        j.comma(n == 0);
        j.raw("{");
        j.key("source");
        j.account(source);
        j.raw(",");
        j.key("target");
        j.account(target);
        j.raw(",");
        j.key("behaviour");
        j.str(e.behaviour.name());
        j.raw(",");
        j.key("weight");
        j.f64(e.weight);
        j.raw(",");
        j.key("evidence");
        j.raw("[");
        for (k, ev) in evidence.iter().enumerate() {
            j.comma(k == 0);
            j.raw("{");
            j.key("item");
            j.str(&d.items[ev.item as usize].value);
            j.raw(",");
            j.key("seconds_apart");
            j.millis_as_secs(ev.post_b.time_ms.abs_diff(ev.post_a.time_ms));
            for (name, platform, post) in [
                ("source_post", &source.platform, &ev.post_a),
                ("target_post", &target.platform, &ev.post_b),
            ] {
                j.raw(",");
                j.key(name);
                j.raw("{");
                j.key("platform");
                j.str(platform);
                j.raw(",");
                j.key("post");
                j.str(&post.id);
                j.raw(",");
                j.key("time");
                j.time(post.time_ms);
                j.raw("}");
            }
            j.raw("}");
        }
        j.raw("]}");
    }
    j.raw("]}");
    j.out
}

#[cfg(test)]
mod tests {
    use super::Json;

    fn json() -> Json {
        Json {
            out: Vec::new(),
            time: String::new(),
            day: None,
            date: [0; 10],
        }
    }

    /// Numbers spread over every magnitude, both signs, and the edges of the ranges.
    fn samples() -> Vec<i64> {
        let mut v = vec![
            0,
            1,
            -1,
            999,
            1000,
            86_399_999,
            86_400_000,
            -86_400_000,
            -86_400_001,
            1_727_784_000_000,
            8_999_999_999_999,
            9_000_000_000_000,
            -9_000_000_000_000,
            -9_000_000_000_001,
            9_223_372_036_854,
            9_223_372_036_855,
            i64::MAX,
            i64::MIN,
        ];
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        for i in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v.push(match i % 3 {
                0 => (x >> (x % 64)) as i64,
                1 => (x % 20_000_000_000_000) as i64 - 10_000_000_000_000,
                _ => x as i64,
            });
        }
        v
    }

    #[test]
    fn times_are_what_rfc3339_writes_in_any_order() {
        let mut j = json();
        for ms in samples() {
            j.out.clear();
            j.time(ms);
            let want = format!("\"{}\"", super::super::rfc3339(ms));
            assert_eq!(String::from_utf8_lossy(&j.out), want, "{ms}");
        }
    }

    #[test]
    fn seconds_apart_are_what_serde_json_writes_for_the_double() {
        let mut j = json();
        for ms in samples().into_iter().map(i64::unsigned_abs) {
            j.out.clear();
            j.millis_as_secs(ms);
            let want = serde_json::to_string(&(ms as f64 / 1000.0)).unwrap();
            assert_eq!(String::from_utf8_lossy(&j.out), want, "{ms}");
        }
    }
}
