//! The index against evaluation: for random patterns and random observables, the entries the
//! index reports are exactly those whose canonical pattern, evaluated on its own, matches.
//!
//! Values come from small pools so that hits, near misses (prefixes, suffixes, neighbouring
//! networks) and collisions between patterns are common; patterns mix every operator, both
//! levels of `AND`/`OR`, `FOLLOWEDBY` and qualifiers, so exact, probed-and-evaluated and
//! fallback entries all occur.

use std::collections::BTreeSet;

use accord_match::normalize::parse_observable;
use accord_match::{EntryId, Index, canonical};
use accord_pattern::{Matcher, Observation, Pattern, parse};
use accord_stix::Timestamp;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

const DOMAINS: &[&str] = &[
    "vote-example.com",
    "login.vote-example.com",
    "a.login.vote-example.com",
    "example.org",
    "ballot.example.org",
    "evil.test",
    "xvote-example.com",
];
const URLS: &[&str] = &[
    "http://vote-example.com/",
    "http://vote-example.com/login",
    "https://evil.test/a/b",
    "https://evil.test/a",
    "http://example.org/x?y=1",
];
const IPS: &[&str] = &[
    "10.0.0.1",
    "10.0.0.200",
    "10.1.2.3",
    "192.168.1.1",
    "2001:db8::1",
    "2001:db8:1::5",
    "10.0.0.0/24",
];
const NETS: &[&str] = &[
    "10.0.0.0/8",
    "10.0.0.0/24",
    "10.0.0.128/25",
    "192.168.0.0/16",
    "0.0.0.0/0",
    "10.0.0.1/32",
    "2001:db8::/32",
    "2001:db8::/48",
];
const HASHES: &[&str] = &[
    "aa11",
    "aa12",
    "bb21",
    "4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877",
    "4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f878",
];
const LOGINS: &[&str] = &["jdoe", "jdoe2", "ops_bot", "anna"];

fn observable(rng: &mut StdRng) -> Map<String, Value> {
    let v = match rng.random_range(0..6) {
        0 => json!({"type": "domain-name", "value": DOMAINS.choose(rng).unwrap()}),
        1 => json!({"type": "url", "value": URLS.choose(rng).unwrap()}),
        2 => {
            let ip = IPS.choose(rng).unwrap();
            let ty = if ip.contains(':') {
                "ipv6-addr"
            } else {
                "ipv4-addr"
            };
            json!({"type": ty, "value": ip})
        }
        3 => {
            let digest = HASHES.choose(rng).unwrap();
            if rng.random_bool(0.5) {
                json!({"type": "file", "hashes": {"SHA-256": digest}, "name": "a.exe"})
            } else {
                json!({"type": "file", "hashes": {"SHA-256": digest}})
            }
        }
        4 => {
            json!({"type": "user-account", "account_type": "twitter", "account_login": LOGINS.choose(rng).unwrap()})
        }
        _ => {
            json!({"type": "email-addr", "value": format!("{}@{}", LOGINS.choose(rng).unwrap(), DOMAINS.choose(rng).unwrap())})
        }
    };
    match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A random part of a value: a prefix, a suffix or the middle.
fn piece(rng: &mut StdRng, s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let a = rng.random_range(0..=chars.len());
    let b = rng.random_range(a..=chars.len());
    chars[a..b].iter().collect()
}

/// A regular expression on parts of a value, anchored at the start, the end, both or
/// neither, with quantifiers that make a character optional, classes, groups and
/// alternations, so that prefix probes, suffix probes and the fallback all occur.
fn regex(rng: &mut StdRng, s: &str) -> String {
    let p = piece(rng, s).replace('.', "[.]");
    let q = piece(rng, s).replace('.', "[.]");
    match rng.random_range(0..14) {
        0 => format!("^{}", piece(rng, s).replace('.', "\\\\.")),
        1 => format!("{p}$"),
        2 => format!("^{p}.*{q}$"),
        3 => format!("(?i)^{}", p.to_uppercase()),
        4 => format!("^({p}|{q})[a-z]*$"),
        5 => format!("(?:{p}|{q})\\z"),
        6 => format!("^{p}?{q}"),
        7 => format!("^{p}*"),
        8 => format!("^{p}+x?"),
        9 => format!("^{p}|{q}"),
        10 => format!("^\\w{p}"),
        11 => format!("{p}[a-z]"),
        _ => p,
    }
}

fn like(rng: &mut StdRng, s: &str) -> String {
    let p = piece(rng, s);
    let form = match rng.random_range(0..5) {
        0 => format!("{p}%"),
        1 => format!("%{p}"),
        2 => format!("%{p}%"),
        3 => format!("{p}_%"),
        _ => s.to_owned(),
    };
    quoted(&form)
}

fn comparison(rng: &mut StdRng) -> String {
    let (path, pool): (&str, &[&str]) = match rng.random_range(0..7) {
        0 => ("domain-name:value", DOMAINS),
        1 => ("url:value", URLS),
        2 => ("ipv4-addr:value", IPS),
        3 => ("ipv6-addr:value", IPS),
        4 => ("file:hashes.'SHA-256'", HASHES),
        5 => ("user-account:account_login", LOGINS),
        _ => ("email-addr:value", DOMAINS),
    };
    let value = pool.choose(rng).unwrap();
    let not = if rng.random_bool(0.1) { "NOT " } else { "" };
    match rng.random_range(0..10) {
        0..=3 => format!("{path} {not}= {}", quoted(value)),
        4 => {
            let n = rng.random_range(1..4);
            let items: Vec<String> = (0..n).map(|_| quoted(pool.choose(rng).unwrap())).collect();
            format!("{path} {not}IN ({})", items.join(", "))
        }
        5 | 6 => format!("{path} {not}LIKE {}", like(rng, value)),
        7 if path.starts_with("ipv") => {
            format!("{path} {not}ISSUBSET {}", quoted(NETS.choose(rng).unwrap()))
        }
        7 => format!("{path} != {}", quoted(value)),
        8 => format!("{path} {not}MATCHES {}", quoted(&regex(rng, value))),
        _ => format!("EXISTS {path}"),
    }
}

fn comparison_expr(rng: &mut StdRng, depth: u32) -> String {
    if depth == 0 || rng.random_bool(0.5) {
        return comparison(rng);
    }
    let n = rng.random_range(2..4);
    let parts: Vec<String> = (0..n).map(|_| comparison_expr(rng, depth - 1)).collect();
    // AND inside one observation must stay on one object type: only OR mixes types.
    if rng.random_bool(0.3) {
        let first = comparison(rng);
        let ty = first
            .split(':')
            .next()
            .unwrap()
            .trim_start_matches("EXISTS ")
            .to_owned();
        let mut same = vec![first];
        for _ in 1..n {
            let c = comparison(rng);
            if c.trim_start_matches("EXISTS ").starts_with(&ty) {
                same.push(c);
            }
        }
        return format!("({})", same.join(" AND "));
    }
    format!("({})", parts.join(" OR "))
}

fn observation_expr(rng: &mut StdRng, depth: u32) -> String {
    let base = if depth == 0 || rng.random_bool(0.6) {
        format!("[{}]", comparison_expr(rng, 2))
    } else {
        let op = *["AND", "OR", "OR", "FOLLOWEDBY"].choose(rng).unwrap();
        let n = rng.random_range(2..4);
        let parts: Vec<String> = (0..n).map(|_| observation_expr(rng, depth - 1)).collect();
        format!("({})", parts.join(&format!(" {op} ")))
    };
    match rng.random_range(0..12) {
        0 => format!("{base} WITHIN 60 SECONDS"),
        1 => format!("{base} REPEATS 2 TIMES"),
        2 => format!("{base} START t'2026-01-01T00:00:00Z' STOP t'2027-01-01T00:00:00Z'"),
        3 => format!("{base} START t'2020-01-01T00:00:00Z' STOP t'2021-01-01T00:00:00Z'"),
        _ => base,
    }
}

fn random_pattern(rng: &mut StdRng) -> Pattern {
    loop {
        let text = observation_expr(rng, 2);
        if let Ok(p) = parse(&text)
            && Matcher::new(&p).is_ok()
        {
            return p;
        }
    }
}

fn evaluate(m: &Matcher, observed: &[Observation]) -> bool {
    m.matches(observed).unwrap_or(false)
}

fn seen() -> Timestamp {
    Timestamp::parse("2026-11-22T10:00:00Z").unwrap()
}

#[test]
fn index_finds_exactly_what_evaluating_every_pattern_finds() {
    let mut checked = 0usize;
    let mut hits = 0usize;
    let mut simple_checked = 0usize;
    for seed in 0..30u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut index = Index::new();
        let mut patterns: Vec<Option<Pattern>> = Vec::new();
        let mut ids: Vec<EntryId> = Vec::new();
        for i in 0..150 {
            let p = random_pattern(&mut rng);
            ids.push(index.insert(&p, i).unwrap());
            patterns.push(Some(p));
        }
        // Remove some, to exercise removal and slot reuse.
        for i in 0..150 {
            if rng.random_bool(0.2) {
                assert_eq!(index.remove(ids[i]), Some(i));
                assert_eq!(index.remove(ids[i]), None);
                patterns[i] = None;
            }
        }
        let matchers: Vec<Option<Matcher>> = patterns
            .iter()
            .map(|p| p.as_ref().map(|p| Matcher::new(&canonical(p)).unwrap()))
            .collect();
        let stats = index.stats();
        assert_eq!(stats.patterns, patterns.iter().flatten().count());
        for _ in 0..200 {
            let obj = observable(&mut rng);
            let value = Value::Object(obj.clone());
            let obs = Observation::new(seen(), seen(), 1, vec![("0", &value)]).unwrap();
            let hidden = rng.random_range(0..150usize);
            let got: BTreeSet<usize> = index
                .match_object(&value, &seen(), |_, m| *m != hidden)
                .into_iter()
                .map(|h| *index.meta(h.entry).unwrap())
                .collect();
            let want: BTreeSet<usize> = matchers
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != hidden)
                .filter_map(|(i, p)| p.as_ref().map(|p| (i, p)))
                .filter(|(_, p)| evaluate(p, std::slice::from_ref(&obs)))
                .map(|(i, _)| i)
                .collect();
            assert_eq!(
                got,
                want,
                "seed {seed}: observable {value}; patterns only in index: {:?}; only by evaluation: {:?}",
                got.difference(&want)
                    .map(|i| patterns[*i].as_ref().unwrap().to_string())
                    .collect::<Vec<_>>(),
                want.difference(&got)
                    .map(|i| patterns[*i].as_ref().unwrap().to_string())
                    .collect::<Vec<_>>(),
            );
            // A simple observable is looked up by its value, and a file by its digest, without
            // its SCO: the same hits.
            let text = match (obj.len(), obj.get("value"), obj.get("hashes")) {
                (2, Some(Value::String(v)), _) => {
                    Some(format!("{}:{v}", obj["type"].as_str().unwrap()))
                }
                (2, _, Some(h)) => Some(format!("sha256:{}", h["SHA-256"].as_str().unwrap())),
                _ => None,
            };
            if let Some(text) = text
                && let Ok(obs) = parse_observable(&text)
            {
                assert!(obs.is_simple() || obs.file_hash().is_some());
                assert_eq!(obs.sco(), &obj, "{text}");
                let by_object = index.match_object(obs.sco_value(), &seen(), |_, m| *m != hidden);
                let by_value = index.match_observable(&obs, &seen(), |_, m| *m != hidden);
                assert_eq!(by_value, by_object, "seed {seed}: {obs}");
                simple_checked += 1;
            }
            checked += patterns.len();
            hits += got.len();
        }
    }
    assert!(
        hits > 1000,
        "too few hits ({hits}) for the comparison to mean much"
    );
    assert!(checked > 500_000);
    assert!(simple_checked > 2000, "{simple_checked}");
}

#[test]
fn index_finds_exactly_what_evaluating_every_pattern_finds_across_observations() {
    let mut hits = 0usize;
    let mut kinds = [0usize; 3];
    for seed in 100..130u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut index = Index::new();
        let mut matchers = Vec::new();
        for i in 0..120 {
            let p = random_pattern(&mut rng);
            index.insert(&p, i).unwrap();
            matchers.push(Matcher::new(&canonical(&p)).unwrap());
        }
        let stats = index.stats();
        kinds[0] += stats.exact;
        kinds[1] += stats.fallback;
        kinds[2] += stats.patterns - stats.exact - stats.fallback;
        for _ in 0..60 {
            // Two to four observed-data, a minute apart, with one to three objects each.
            let n = rng.random_range(2..5);
            let groups: Vec<Vec<Value>> = (0..n)
                .map(|_| {
                    (0..rng.random_range(1..4))
                        .map(|_| Value::Object(observable(&mut rng)))
                        .collect()
                })
                .collect();
            let observed: Vec<Observation> = groups
                .iter()
                .enumerate()
                .map(|(i, objs)| {
                    let t = Timestamp::from_nanos(
                        1_795_000_000_000_000_000 + i as i64 * 60_000_000_000,
                    );
                    let named: Vec<(&str, &Value)> = objs.iter().map(|o| ("x", o)).collect();
                    Observation::new(t.clone(), t, rng.random_range(1..3), named).unwrap()
                })
                .collect();
            let objects = groups.iter().flatten().filter_map(Value::as_object);
            let (found, errors) = index.match_observations(objects, &observed, |_, _| true);
            assert!(errors.is_empty(), "{errors:?}");
            let got: BTreeSet<usize> = found
                .iter()
                .map(|h| *index.meta(h.entry).unwrap())
                .collect();
            let want: BTreeSet<usize> = matchers
                .iter()
                .enumerate()
                .filter(|(_, m)| evaluate(m, &observed))
                .map(|(i, _)| i)
                .collect();
            assert_eq!(got, want, "seed {seed}: {groups:?}");
            hits += got.len();
        }
    }
    assert!(hits > 500, "too few hits ({hits})");
    assert!(
        kinds.iter().all(|k| *k > 100),
        "every kind of entry occurs: {kinds:?}"
    );
}
