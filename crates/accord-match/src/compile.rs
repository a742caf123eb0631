//! Compiling a pattern for the index: its canonical form, and the keys under which to file it.
//!
//! The index answers "which indicators could this observable hit" with hash lookups, so each
//! pattern is reduced to a set of *probes* — exact values, literal prefixes and suffixes of
//! `LIKE`, CIDR ranges of `ISSUBSET` — such that whenever the pattern matches some data, at
//! least one object of that data passes at least one probe. The probes are a necessary
//! condition; the pattern itself, evaluated on the candidates, is the sufficient one. Only
//! when the probes are also sufficient (the pattern is one observation whose comparisons are
//! `=` or `IN` on strings, joined by `OR`, with no qualifier) is a probe hit reported without
//! evaluation: the pattern is *exact*.
//!
//! How each part of a pattern contributes probes:
//!
//! | part | probes |
//! |---|---|
//! | `path = 'v'` | the exact value `v` at `path` |
//! | `path IN ('a', 'b')` | the exact values |
//! | `path LIKE 'abc%…'` / `'…%xyz'` | the literal prefix `abc` (or else suffix `xyz`) |
//! | `path ISSUBSET '10.0.0.0/8'` | the range: values inside it |
//! | `path MATCHES '^abc…'` / `'…xyz$'` | literal prefixes (or suffixes) every match has |
//! | `a OR b` (inside or between observations) | both sides' probes; none if a side has none |
//! | `a AND b`, `a FOLLOWEDBY b` | the probes of one side (the most selective) |
//! | a qualified expression | the probes of what it qualifies |
//! | `NOT`, `!=`, `<`…, unanchored `MATCHES`, `EXISTS`, `ISSUPERSET`, references | none |
//!
//! Which side of an `AND` is the most selective is not always visible in the pattern:
//! `account_type = 'twitter' AND account_login = 'x'` has two equalities, and filing every
//! such indicator under `twitter` would make every Twitter account a candidate for all of
//! them. So the index passes in a cost, the number of entries already filed under a probe,
//! and of two sides equally strong in kind the one whose probes hold fewer entries wins.
//!
//! A `MATCHES` expression anchored at the start (`^`, `\A`) has, by the literal extraction of
//! `regex-syntax` (the parser of the `regex` crate that evaluates it), a finite set of
//! literals one of which begins every match; anchored at the end (`$`, `\z`), one of which
//! ends every match. Those become prefix or suffix probes (the set with the longer shortest
//! literal, when both ends are anchored). Anything less certain leaves the expression
//! without probes.
//!
//! A pattern with no probes at all is evaluated against every observable of the object types
//! it names (the *fallback*): correct, but its cost grows with the number of such patterns,
//! which the index reports.
//!
//! Constants are put into the canonical form of [`crate::normalize`] before any of this, so a
//! pattern on `HTTP://Example.COM:80/` files under the same key as the observable
//! `http://example.com/` produces. The canonical pattern is also what is evaluated.

use std::collections::BTreeSet;
use std::net::IpAddr;

use accord_pattern::{
    Comparison, ComparisonExpr, Constant, ObjectPath, ObservationExpr, Operator, PathStep, Pattern,
};

use crate::normalize;

/// A probe: a condition on one value at one path that the index can test by lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Probe {
    /// The value equals this string.
    Exact(String),
    /// The value starts with this string.
    Prefix(String),
    /// The value (less one final line feed, as `LIKE` allows) ends with this string.
    Suffix(String),
    /// The value is an address or range inside this network.
    Cidr(IpAddr, u8),
}

/// One probe at one path, with the comparison it came from.
#[derive(Debug, Clone)]
pub(crate) struct Keyed {
    /// The object type of the path.
    pub object_type: String,
    /// The steps of the path, all plain property names.
    pub steps: Vec<String>,
    /// The test.
    pub probe: Probe,
    /// The comparison, as canonical pattern text.
    pub clause: String,
}

/// What the index needs to know about one pattern.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The probes; `None` when the pattern has none and must be evaluated on everything of
    /// its object types.
    pub keys: Option<Vec<Keyed>>,
    /// Whether a probe hit is a match without evaluation.
    pub exact: bool,
    /// The object types the pattern names.
    pub types: BTreeSet<String>,
}

/// The pattern with its paths and constants in canonical form.
pub fn canonical(pattern: &Pattern) -> Pattern {
    Pattern {
        expr: canonical_obs(&pattern.expr),
    }
}

fn canonical_obs(e: &ObservationExpr) -> ObservationExpr {
    match e {
        ObservationExpr::Observation(c) => ObservationExpr::Observation(canonical_cmp(c)),
        ObservationExpr::And(v) => ObservationExpr::And(v.iter().map(canonical_obs).collect()),
        ObservationExpr::Or(v) => ObservationExpr::Or(v.iter().map(canonical_obs).collect()),
        ObservationExpr::FollowedBy(v) => {
            ObservationExpr::FollowedBy(v.iter().map(canonical_obs).collect())
        }
        ObservationExpr::Qualified(inner, q) => {
            ObservationExpr::Qualified(Box::new(canonical_obs(inner)), q.clone())
        }
    }
}

fn canonical_cmp(e: &ComparisonExpr) -> ComparisonExpr {
    match e {
        ComparisonExpr::Comparison(c) => ComparisonExpr::Comparison(canonical_comparison(c)),
        ComparisonExpr::Exists(p) => ComparisonExpr::Exists(canonical_path(p)),
        ComparisonExpr::And(v) => ComparisonExpr::And(v.iter().map(canonical_cmp).collect()),
        ComparisonExpr::Or(v) => ComparisonExpr::Or(v.iter().map(canonical_cmp).collect()),
    }
}

fn canonical_path(p: &ObjectPath) -> ObjectPath {
    match normalize::path(&p.object_type, &p.steps) {
        Some(steps) => ObjectPath {
            object_type: p.object_type.clone(),
            steps,
        },
        None => p.clone(),
    }
}

fn canonical_comparison(c: &Comparison) -> Comparison {
    let path = canonical_path(&c.path);
    let ty = path.object_type.as_str();
    let steps = path.steps.as_slice();
    let fix = |k: &Constant| match k {
        Constant::String(s) => match c.op {
            Operator::Eq | Operator::Ne | Operator::In => normalize::constant(ty, steps, s),
            Operator::Like => normalize::like_constant(ty, steps, s),
            _ => None,
        }
        .map_or_else(|| k.clone(), Constant::String),
        other => other.clone(),
    };
    let value = match &c.value {
        Constant::List(items) => Constant::List(items.iter().map(fix).collect()),
        other => fix(other),
    };
    Comparison {
        path,
        negated: c.negated,
        op: c.op,
        value,
    }
}

/// How many entries are already filed under a probe.
pub(crate) type Cost<'a> = &'a dyn Fn(&Keyed) -> usize;

/// The plan for a canonical pattern; `cost` tells, of alternatives that must all hold, which
/// to file under.
pub(crate) fn plan(pattern: &Pattern, cost: Cost<'_>) -> Plan {
    let mut types = BTreeSet::new();
    collect_types(&pattern.expr, &mut types);
    match obs_keys(&pattern.expr, cost) {
        Some((keys, exact)) => Plan {
            keys: Some(keys),
            exact,
            types,
        },
        None => Plan {
            keys: None,
            exact: false,
            types,
        },
    }
}

fn collect_types(e: &ObservationExpr, out: &mut BTreeSet<String>) {
    match e {
        ObservationExpr::Observation(c) => collect_cmp_types(c, out),
        ObservationExpr::And(v) | ObservationExpr::Or(v) | ObservationExpr::FollowedBy(v) => {
            v.iter().for_each(|e| collect_types(e, out));
        }
        ObservationExpr::Qualified(inner, _) => collect_types(inner, out),
    }
}

fn collect_cmp_types(e: &ComparisonExpr, out: &mut BTreeSet<String>) {
    match e {
        ComparisonExpr::Comparison(c) => {
            out.insert(c.path.object_type.clone());
        }
        ComparisonExpr::Exists(p) => {
            out.insert(p.object_type.clone());
        }
        ComparisonExpr::And(v) | ComparisonExpr::Or(v) => {
            v.iter().for_each(|e| collect_cmp_types(e, out));
        }
    }
}

type Keys = (Vec<Keyed>, bool);

/// Of alternatives that must all hold, the probes of the most selective one: the fewest
/// probes that are not exact values, then the fewest entries already under its probes, then
/// the fewest probes.
fn best(options: impl Iterator<Item = Option<Keys>>, cost: Cost<'_>) -> Option<Keys> {
    options
        .flatten()
        .min_by_key(|(keys, _)| {
            let weak = keys
                .iter()
                .filter(|k| !matches!(k.probe, Probe::Exact(_)))
                .count();
            let filed: usize = keys.iter().map(cost).sum();
            (weak, filed, keys.len())
        })
        .map(|(keys, _)| (keys, false))
}

/// Of alternatives of which one must hold, all their probes, if every one has some.
fn union(options: impl Iterator<Item = Option<Keys>>) -> Option<Keys> {
    let mut all = Vec::new();
    let mut exact = true;
    for o in options {
        let (keys, e) = o?;
        all.extend(keys);
        exact &= e;
    }
    Some((all, exact))
}

fn obs_keys(e: &ObservationExpr, cost: Cost<'_>) -> Option<Keys> {
    match e {
        ObservationExpr::Observation(c) => cmp_keys(c, cost),
        ObservationExpr::Or(v) => union(v.iter().map(|e| obs_keys(e, cost))),
        ObservationExpr::And(v) | ObservationExpr::FollowedBy(v) => {
            best(v.iter().map(|e| obs_keys(e, cost)), cost)
        }
        ObservationExpr::Qualified(inner, _) => obs_keys(inner, cost).map(|(k, _)| (k, false)),
    }
}

fn cmp_keys(e: &ComparisonExpr, cost: Cost<'_>) -> Option<Keys> {
    match e {
        ComparisonExpr::Comparison(c) => comparison_keys(c),
        ComparisonExpr::Exists(_) => None,
        ComparisonExpr::Or(v) => union(v.iter().map(|e| cmp_keys(e, cost))),
        ComparisonExpr::And(v) => best(v.iter().map(|e| cmp_keys(e, cost)), cost),
    }
}

/// The path's steps when every one is a plain property that the index can read: no list
/// steps, no references, no binary (`_hex`, `_bin`) properties.
fn plain_steps(path: &ObjectPath) -> Option<Vec<String>> {
    let mut out = Vec::with_capacity(path.steps.len());
    for step in &path.steps {
        match step {
            PathStep::Key(k) if !step.is_reference() => out.push(k.clone()),
            _ => return None,
        }
    }
    let last = out.last()?;
    if last.ends_with("_hex") || last.ends_with("_bin") {
        return None;
    }
    Some(out)
}

fn comparison_keys(c: &Comparison) -> Option<Keys> {
    if c.negated {
        return None;
    }
    let steps = plain_steps(&c.path)?;
    let keyed = |probe: Probe, clause: String| Keyed {
        object_type: c.path.object_type.clone(),
        steps: steps.clone(),
        probe,
        clause,
    };
    match (c.op, &c.value) {
        (Operator::Eq, Constant::String(s)) => {
            Some((vec![keyed(Probe::Exact(s.clone()), c.to_string())], true))
        }
        (Operator::In, Constant::List(items)) => {
            let mut keys = Vec::with_capacity(items.len());
            for item in items {
                let Constant::String(s) = item else {
                    return None;
                };
                let one = Comparison {
                    path: c.path.clone(),
                    negated: false,
                    op: Operator::Eq,
                    value: item.clone(),
                };
                keys.push(keyed(Probe::Exact(s.clone()), one.to_string()));
            }
            Some((keys, true))
        }
        (Operator::Like, Constant::String(s)) => {
            let probe = like_probe(s)?;
            Some((vec![keyed(probe, c.to_string())], false))
        }
        (Operator::IsSubset, Constant::String(s)) => {
            let (addr, len) = normalize::ip_network(s)?;
            Some((vec![keyed(Probe::Cidr(addr, len), c.to_string())], false))
        }
        (Operator::Matches, Constant::String(s)) => {
            let clause = c.to_string();
            let keys = regex_probes(s)?
                .into_iter()
                .map(|probe| keyed(probe, clause.clone()))
                .collect();
            Some((keys, false))
        }
        _ => None,
    }
}

/// The prefix (or suffix) probes of a regular expression anchored at its start (or end):
/// literals one of which every match begins (or ends) with. `None` when it is anchored at
/// neither end, when the set of literals is not finite, or when one of them is empty.
fn regex_probes(re: &str) -> Option<Vec<Probe>> {
    use regex_syntax::hir::Look;
    use regex_syntax::hir::literal::{ExtractKind, Extractor};

    let hir = regex_syntax::Parser::new().parse(re).ok()?;
    let looks = hir.properties();
    let make: fn(String) -> Probe = Probe::Prefix;
    let start = looks.look_set_prefix().contains(Look::Start);
    let prefix = start.then_some((ExtractKind::Prefix, make));
    let make: fn(String) -> Probe = Probe::Suffix;
    let end = looks.look_set_suffix().contains(Look::End);
    let suffix = end.then_some((ExtractKind::Suffix, make));
    [prefix, suffix]
        .into_iter()
        .flatten()
        .filter_map(|(kind, probe)| {
            let seq = Extractor::new().kind(kind).extract(&hir);
            let literals = seq.literals()?;
            let shortest = seq.min_literal_len()?;
            if literals.is_empty() || shortest == 0 {
                return None;
            }
            let probes = literals
                .iter()
                .map(|l| String::from_utf8(l.as_bytes().to_vec()).ok().map(probe))
                .collect::<Option<Vec<_>>>()?;
            Some((shortest, probes))
        })
        .max_by_key(|(shortest, probes)| (*shortest, std::cmp::Reverse(probes.len())))
        .map(|(_, probes)| probes)
}

/// The literal prefix of a `LIKE` pattern, or else its literal suffix.
fn like_probe(like: &str) -> Option<Probe> {
    let wild = |ch: char| ch == '%' || ch == '_';
    let head = like.find(wild).map_or(like, |i| &like[..i]);
    if !head.is_empty() {
        return Some(Probe::Prefix(head.to_owned()));
    }
    let tail = like.rfind(wild).map_or(like, |i| &like[i + 1..]);
    if !tail.is_empty() {
        return Some(Probe::Suffix(tail.to_owned()));
    }
    None
}
