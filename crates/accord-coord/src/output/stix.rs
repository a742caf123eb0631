//! `bundle.json`: what detection found, as STIX 2.1 to share through the exchange.
//!
//! # Shape
//!
//! - The TLP 2.0 `marking-definition` chosen ([`StixOptions::tlp`], TLP:AMBER by default),
//!   referenced by every other object's `object_marking_refs`.
//! - An `identity` (`identity_class: organization`) for the analyst's organisation,
//!   `created_by_ref` of every domain and relationship object. When
//!   [`StixOptions::identity`] names the organisation's identity in the exchange, that id is
//!   used and no identity object is written (the exchange has it already).
//! - Per cluster, a `grouping` with `context: suspicious-activity`: a grouping, not a
//!   report, because a detection is a lead for an analyst to judge, not a finished
//!   conclusion. Its `name` gives the cluster's size, platforms and behaviours; its
//!   `description` the members, the time span, the total weight and the items shared (the
//!   most co-acted first, with how many members and how many accounts in the whole input
//!   acted on each). Its `object_refs` are the members, the cluster's indicators and, when
//!   the findings are attributed, the campaign or intrusion set and the relationships.
//! - The members as `user-account` observables: `account_type` is the platform as
//!   `accord-match` canonicalises it (`x` and `twitter.com` are `twitter`, which is in the
//!   STIX account-type vocabulary; other platforms keep their lower-case name), `user_id`
//!   the account id.
//! - An `indicator` for every link and every image a cluster shared: `[url:value = '…']`
//!   (or `domain-name`, `ipv4-addr`, `ipv6-addr` when links were compared by domain), and
//!   `[file:hashes.PDQ = '…']` with the 64 hex digits of the PDQ hash, which is how the
//!   exchange matches images. `valid_from` is the earliest evidence post on the item; the
//!   description says how many coordinated accounts shared it and how many accounts acted
//!   on it in all. `indicator_types` is `anomalous-activity` (a link is not malicious in
//!   itself; that coordinated accounts pushed it is the finding), or `attribution` when the
//!   findings are attributed. Texts, hashtags, reposts and replies have no STIX observable
//!   and appear in the grouping's description only.
//! - Optional attribution: a `campaign` ([`StixOptions::campaign`]) and/or an
//!   `intrusion-set` ([`StixOptions::intrusion_set`]); every indicator `indicates` the
//!   campaign (or, without one, the intrusion set), and the campaign is `attributed-to`
//!   the intrusion set when both are named.
//!
//! # Identifiers
//!
//! Every id is a name-based UUID (version 5), so writing the same findings again names the
//! same objects, and publishing them again adds versions instead of duplicates:
//! - `user-account`: as STIX 2.1 section 2.9 prescribes for observables, from the
//!   namespace `00abedb4-aa42-466c-9c01-fed23315a9b7` and the canonical JSON of the
//!   id-contributing properties (`account_type`, `user_id`), so any STIX producer names the
//!   same account the same way.
//! - Everything else: from Accord's namespace and the JSON array of the object's type, the
//!   organisation's identity id and what makes the object what it is: an indicator's
//!   pattern, a grouping's sorted member keys, a campaign's or intrusion set's name, a
//!   relationship's type and ends, a derived identity's organisation name. The identity
//!   is part of the name because an id belongs in the exchange to the organisation that
//!   first published it: two organisations sharing the same link must not collide.
//!
//! STIX recommends version 4 UUIDs for domain objects; `stix2-validator` warns about
//! version 5 there (a recommendation, not an error), which is the price of not duplicating
//! objects on every run. The bundle's own id is derived from `created` and the ids of its
//! objects.
//!
//! # Time
//!
//! `created` and `modified` are [`StixOptions::created`], cut to milliseconds: the crate
//! never reads the clock. Run again later, the same objects come out with the same ids and
//! a later `modified`: new versions of the same objects.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use accord_match::normalize;
use accord_stix::{StixId, Timestamp, Tlp, ext};
use serde_json::{Map, Value, json};

use super::uuid;
use crate::model::{Behaviour, Detection};

/// Namespace of STIX 2.1 observable ids: `00abedb4-aa42-466c-9c01-fed23315a9b7`.
const SCO_NAMESPACE: [u8; 16] = [
    0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c, 0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7,
];

/// Namespace of the ids Accord derives for the objects it writes:
/// `26cc4e57-4ce4-46df-a4b5-9dbda9b89c3e`.
const ACCORD_NAMESPACE: [u8; 16] = [
    0x26, 0xcc, 0x4e, 0x57, 0x4c, 0xe4, 0x46, 0xdf, 0xa4, 0xb5, 0x9d, 0xbd, 0xa9, 0xb8, 0x9c, 0x3e,
];

/// Members named in a grouping's description; the rest are counted.
const DESCRIBED_MEMBERS: usize = 50;
/// Items listed in a grouping's description; the rest are counted.
const DESCRIBED_ITEMS: usize = 20;
/// Longest item value quoted in a description, in characters.
const QUOTED_CHARS: usize = 200;

/// How to write the STIX bundle: who writes it, when, how it is marked and attributed.
#[derive(Clone, Debug, PartialEq)]
pub struct StixOptions {
    /// Name of the analyst's organisation, the creator of every object.
    pub organisation: String,
    /// The organisation's identity id in the exchange, if known. Without it the identity
    /// gets an id derived from [`StixOptions::organisation`] and is written into the bundle.
    pub identity: Option<StixId>,
    /// When the objects are created: their `created` and `modified`.
    pub created: Timestamp,
    /// The TLP 2.0 marking of every object.
    pub tlp: Tlp,
    /// Identity ids of the member organisations that may read TLP:RED objects (the
    /// exchange refuses TLP:RED without them). Added to every object with the Accord
    /// sharing extension when not empty.
    pub recipients: Vec<StixId>,
    /// The campaign the findings are attributed to, by name.
    pub campaign: Option<String>,
    /// The intrusion set the findings are attributed to, by name.
    pub intrusion_set: Option<String>,
}

impl StixOptions {
    /// Options for `organisation` at `created`: TLP:AMBER, no attribution.
    #[must_use]
    pub fn new(organisation: impl Into<String>, created: Timestamp) -> StixOptions {
        StixOptions {
            organisation: organisation.into(),
            identity: None,
            created,
            tlp: Tlp::Amber,
            recipients: Vec::new(),
            campaign: None,
            intrusion_set: None,
        }
    }
}

/// Writes the STIX 2.1 bundle of `detection` as indented JSON.
pub fn write_stix(
    mut w: impl Write,
    detection: &Detection,
    options: &StixOptions,
) -> io::Result<()> {
    let bundle = stix_bundle(detection, options)?;
    serde_json::to_writer_pretty(&mut w, &bundle)?;
    w.write_all(b"\n")
}

/// The STIX 2.1 bundle of `detection` (see the module documentation for its shape).
pub fn stix_bundle(detection: &Detection, options: &StixOptions) -> io::Result<Value> {
    super::check(detection)?;
    let objects = Writer::new(detection, options).objects();
    let created = stamp(&options.created);
    let mut name: Vec<&str> = vec!["bundle", &created];
    let ids: Vec<&str> = objects
        .iter()
        .filter_map(|o| o.get("id").and_then(Value::as_str))
        .collect();
    name.extend(ids);
    let id = format!(
        "bundle--{}",
        uuid::v5(&ACCORD_NAMESPACE, json_name(&name).as_bytes())
    );
    Ok(accord_stix::bundle::to_bundle(&id, objects))
}

/// `created` as STIX wants it: UTC with milliseconds.
fn stamp(t: &Timestamp) -> String {
    accord_stix::time::format_nanos(t.nanos_clamped(), 3)
}

/// The JSON array of `parts`: an unambiguous name for a UUID.
fn json_name(parts: &[&str]) -> String {
    Value::Array(
        parts
            .iter()
            .map(|p| Value::String((*p).to_owned()))
            .collect(),
    )
    .to_string()
}

/// A STIX observable id per STIX 2.1 section 2.9: the canonical JSON (keys sorted, no
/// white space) of its id-contributing properties, hashed in the STIX namespace.
fn sco_id(object_type: &str, contributing: &BTreeMap<&str, &str>) -> String {
    let mut canonical = String::from("{");
    for (i, (k, v)) in contributing.iter().enumerate() {
        if i > 0 {
            canonical.push(',');
        }
        canonical.push_str(&Value::String((*k).to_owned()).to_string());
        canonical.push(':');
        canonical.push_str(&Value::String((*v).to_owned()).to_string());
    }
    canonical.push('}');
    format!(
        "{object_type}--{}",
        uuid::v5(&SCO_NAMESPACE, canonical.as_bytes())
    )
}

/// A STIX pattern string literal: quotes and backslashes escaped.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The indicator pattern for an item, if the item is something STIX can observe.
fn pattern(behaviour: Behaviour, value: &str) -> Option<String> {
    match behaviour {
        Behaviour::CoLink => {
            let o = normalize::parse_observable(value).ok()?;
            let kind = o.kind();
            matches!(kind, "url" | "domain-name" | "ipv4-addr" | "ipv6-addr")
                .then(|| format!("[{kind}:value = {}]", literal(o.value())))
        }
        Behaviour::CoMedia => {
            let hex = value.trim();
            (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| format!("[file:hashes.PDQ = '{}']", hex.to_ascii_lowercase()))
        }
        _ => None,
    }
}

/// The canonical `account_type` of a platform.
fn account_type(platform: &str) -> String {
    let platform = platform.trim();
    if platform.is_empty() {
        return "unknown".to_owned();
    }
    let mut sco = Map::new();
    sco.insert("type".to_owned(), json!("user-account"));
    sco.insert("account_type".to_owned(), json!(platform));
    normalize::sco(&sco)
        .ok()
        .and_then(|s| {
            s.get("account_type")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| platform.to_lowercase())
}

/// Text cut to `max` characters, with `…` when cut.
fn quote(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// A list in prose: `a`, `a and b`, `a, b and c`.
fn prose(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// One indicator being gathered across clusters.
struct Pending {
    pattern: String,
    behaviour: Behaviour,
    value: String,
    accounts: BTreeSet<u32>,
    clusters: usize,
    popularity: u32,
    first_ms: i64,
}

struct Writer<'a> {
    d: &'a Detection,
    o: &'a StixOptions,
    identity: String,
    created: String,
}

impl<'a> Writer<'a> {
    fn new(d: &'a Detection, o: &'a StixOptions) -> Writer<'a> {
        let identity = match &o.identity {
            Some(id) => id.as_str().to_owned(),
            None => format!(
                "identity--{}",
                uuid::v5(
                    &ACCORD_NAMESPACE,
                    json_name(&["identity", o.organisation.trim()]).as_bytes()
                )
            ),
        };
        Writer {
            d,
            o,
            identity,
            created: stamp(&o.created),
        }
    }

    /// A derived id for an object of `object_type` written by this organisation.
    fn id(&self, object_type: &str, parts: &[&str]) -> String {
        let mut name = vec![object_type, self.identity.as_str()];
        name.extend_from_slice(parts);
        format!(
            "{object_type}--{}",
            uuid::v5(&ACCORD_NAMESPACE, json_name(&name).as_bytes())
        )
    }

    /// The common properties of a domain or relationship object.
    fn sdo(&self, object_type: &str, id: &str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("type".into(), json!(object_type));
        m.insert("spec_version".into(), json!("2.1"));
        m.insert("id".into(), json!(id));
        m.insert("created_by_ref".into(), json!(self.identity));
        m.insert("created".into(), json!(self.created));
        m.insert("modified".into(), json!(self.created));
        m
    }

    /// Adds the marking (and the recipients, if any) and makes the map a value.
    fn marked(&self, mut m: Map<String, Value>) -> Value {
        m.insert(
            "object_marking_refs".into(),
            json!([self.o.tlp.marking_ref()]),
        );
        if !self.o.recipients.is_empty() {
            let sharing = ext::Sharing {
                recipients: self
                    .o
                    .recipients
                    .iter()
                    .map(|r| r.as_str().to_owned())
                    .collect(),
                anonymous: false,
            };
            ext::set_sharing(&mut m, &sharing);
        }
        Value::Object(m)
    }

    fn relationship(&self, kind: &str, source: &str, target: &str) -> (String, Value) {
        let id = self.id("relationship", &[kind, source, target]);
        let mut m = self.sdo("relationship", &id);
        m.insert("relationship_type".into(), json!(kind));
        m.insert("source_ref".into(), json!(source));
        m.insert("target_ref".into(), json!(target));
        (id, self.marked(m))
    }

    fn objects(&self) -> Vec<Value> {
        let d = self.d;
        let mut out = vec![self.o.tlp.marking_definition()];
        if self.o.identity.is_none() {
            let mut m = Map::new();
            m.insert("type".into(), json!("identity"));
            m.insert("spec_version".into(), json!("2.1"));
            m.insert("id".into(), json!(self.identity));
            m.insert("created".into(), json!(self.created));
            m.insert("modified".into(), json!(self.created));
            m.insert("name".into(), json!(self.o.organisation.trim()));
            m.insert("identity_class".into(), json!("organization"));
            out.push(self.marked(m));
        }

        // Attribution: the object indicators indicate, and the relationships every
        // grouping refers to.
        let attributed = self.o.campaign.is_some() || self.o.intrusion_set.is_some();
        let mut attribution_refs: Vec<String> = Vec::new();
        let named = |kind: &str, name: &Option<String>| {
            name.as_deref().map(str::trim).map(|name| {
                let id = self.id(kind, &[name]);
                let mut m = self.sdo(kind, &id);
                m.insert("name".into(), json!(name));
                (id, self.marked(m))
            })
        };
        let campaign = named("campaign", &self.o.campaign);
        let intrusion_set = named("intrusion-set", &self.o.intrusion_set);
        let mut target: Option<String> = None;
        for (id, object) in [campaign.clone(), intrusion_set.clone()]
            .into_iter()
            .flatten()
        {
            target.get_or_insert_with(|| id.clone());
            attribution_refs.push(id);
            out.push(object);
        }
        if let (Some((c, _)), Some((i, _))) = (&campaign, &intrusion_set) {
            let (id, rel) = self.relationship("attributed-to", c, i);
            attribution_refs.push(id);
            out.push(rel);
        }

        // Accounts, in account order.
        let mut members: BTreeSet<u32> = BTreeSet::new();
        for c in &d.clusters {
            members.extend(c.members.iter().copied());
        }
        let mut account_ids: BTreeMap<u32, String> = BTreeMap::new();
        for &m in &members {
            let a = &d.accounts[m as usize];
            let account_type = account_type(&a.platform);
            let contributing =
                BTreeMap::from([("account_type", account_type.as_str()), ("user_id", &a.id)]);
            let id = sco_id("user-account", &contributing);
            let mut o = Map::new();
            o.insert("type".into(), json!("user-account"));
            o.insert("spec_version".into(), json!("2.1"));
            o.insert("id".into(), json!(id));
            o.insert("account_type".into(), json!(account_type));
            o.insert("user_id".into(), json!(a.id));
            out.push(self.marked(o));
            account_ids.insert(m, id);
        }

        // Indicators, gathered over all clusters, in order of first appearance.
        let shared: Vec<Vec<super::Shared>> = d
            .clusters
            .iter()
            .map(|c| super::shared_items(d, c))
            .collect();
        let mut pending: Vec<Pending> = Vec::new();
        let mut by_pattern: BTreeMap<String, usize> = BTreeMap::new();
        let mut cluster_indicators: Vec<Vec<usize>> = Vec::with_capacity(d.clusters.len());
        for items in &shared {
            let mut mine = Vec::new();
            for s in items {
                let item = &d.items[s.item as usize];
                let Some(pattern) = pattern(item.behaviour, &item.value) else {
                    continue;
                };
                let slot = *by_pattern.entry(pattern.clone()).or_insert_with(|| {
                    pending.push(Pending {
                        pattern,
                        behaviour: item.behaviour,
                        value: item.value.clone(),
                        accounts: BTreeSet::new(),
                        clusters: 0,
                        popularity: 0,
                        first_ms: i64::MAX,
                    });
                    pending.len() - 1
                });
                let p = &mut pending[slot];
                p.accounts.extend(s.accounts.iter().copied());
                p.popularity = p.popularity.max(item.accounts);
                p.first_ms = p.first_ms.min(s.first_ms);
                if !mine.contains(&slot) {
                    p.clusters += 1;
                    mine.push(slot);
                }
            }
            cluster_indicators.push(mine);
        }
        let mut indicator_ids: Vec<String> = Vec::with_capacity(pending.len());
        let mut indicates: Vec<(String, Value)> = Vec::new();
        for p in &pending {
            let id = self.id("indicator", &[&p.pattern]);
            let mut m = self.sdo("indicator", &id);
            let what = if p.behaviour == Behaviour::CoMedia {
                "Image"
            } else {
                "Link"
            };
            m.insert(
                "name".into(),
                json!(format!(
                    "{what} shared by coordinated accounts: {}",
                    quote(&p.value, QUOTED_CHARS)
                )),
            );
            let platforms: BTreeSet<&str> = p
                .accounts
                .iter()
                .map(|&a| d.accounts[a as usize].platform.as_str())
                .collect();
            let platforms: Vec<String> = platforms.into_iter().map(str::to_owned).collect();
            m.insert(
                "description".into(),
                json!(format!(
                    "Shared by {} coordinated account{} on {} ({}, {} cluster{}), first at {}; \
                     {} account{} acted on it in all.",
                    p.accounts.len(),
                    plural(p.accounts.len()),
                    prose(&platforms),
                    p.behaviour,
                    p.clusters,
                    plural(p.clusters),
                    super::rfc3339(p.first_ms),
                    p.popularity,
                    plural(p.popularity as usize),
                )),
            );
            m.insert(
                "indicator_types".into(),
                json!([if attributed {
                    "attribution"
                } else {
                    "anomalous-activity"
                }]),
            );
            m.insert("pattern".into(), json!(p.pattern));
            m.insert("pattern_type".into(), json!("stix"));
            m.insert("pattern_version".into(), json!("2.1"));
            m.insert("valid_from".into(), json!(super::rfc3339(p.first_ms)));
            out.push(self.marked(m));
            if let Some(t) = &target {
                indicates.push(self.relationship("indicates", &id, t));
            }
            indicator_ids.push(id);
        }
        let indicates_ids: Vec<String> = indicates.iter().map(|(id, _)| id.clone()).collect();
        out.extend(indicates.into_iter().map(|(_, rel)| rel));

        // One grouping per cluster.
        for ((c, items), mine) in d.clusters.iter().zip(&shared).zip(&cluster_indicators) {
            let keys: Vec<String> = c
                .members
                .iter()
                .map(|&m| d.accounts[m as usize].key())
                .collect();
            let mut sorted = keys.clone();
            sorted.sort();
            let parts: Vec<&str> = sorted.iter().map(String::as_str).collect();
            let id = self.id("grouping", &parts);
            let mut m = self.sdo("grouping", &id);
            let behaviours: Vec<String> =
                c.behaviours.iter().map(|b| b.name().to_owned()).collect();
            m.insert(
                "name".into(),
                json!(format!(
                    "Cluster {}: {} coordinated accounts on {} ({})",
                    c.id,
                    c.members.len(),
                    prose(&c.platforms),
                    prose(&behaviours)
                )),
            );
            m.insert(
                "description".into(),
                json!(self.describe(c, &keys, items, &behaviours)),
            );
            m.insert("context".into(), json!("suspicious-activity"));
            let mut refs: Vec<String> = c
                .members
                .iter()
                .filter_map(|m| account_ids.get(m).cloned())
                .collect();
            refs.extend(mine.iter().map(|&i| indicator_ids[i].clone()));
            if target.is_some() {
                refs.extend(attribution_refs.iter().cloned());
                refs.extend(mine.iter().map(|&i| indicates_ids[i].clone()));
            }
            m.insert("object_refs".into(), json!(refs));
            out.push(self.marked(m));
        }
        out
    }

    fn describe(
        &self,
        c: &crate::model::Cluster,
        keys: &[String],
        items: &[super::Shared],
        behaviours: &[String],
    ) -> String {
        let d = self.d;
        let mut text = format!(
            "{} accounts on {} acted together ({}) between {} and {}; total edge weight {}.",
            c.members.len(),
            prose(&c.platforms),
            prose(behaviours),
            super::rfc3339(c.first_ms),
            super::rfc3339(c.last_ms),
            c.weight,
        );
        match (&self.o.campaign, &self.o.intrusion_set) {
            (Some(c), Some(i)) => text.push_str(&format!(
                " Attributed to the campaign {} of the intrusion set {}.",
                c.trim(),
                i.trim()
            )),
            (Some(c), None) => text.push_str(&format!(" Attributed to the campaign {}.", c.trim())),
            (None, Some(i)) => {
                text.push_str(&format!(" Attributed to the intrusion set {}.", i.trim()));
            }
            (None, None) => {}
        }
        text.push_str("\n\nMembers: ");
        text.push_str(
            &keys
                .iter()
                .take(DESCRIBED_MEMBERS)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        );
        if keys.len() > DESCRIBED_MEMBERS {
            text.push_str(&format!(" and {} more", keys.len() - DESCRIBED_MEMBERS));
        }
        text.push_str(".\n\nShared items, most co-actions first:");
        for s in items.iter().take(DESCRIBED_ITEMS) {
            let item = &d.items[s.item as usize];
            text.push_str(&format!(
                "\n- {} {} (by {} member{}; {} account{} in all)",
                item.behaviour,
                quote(&item.value, QUOTED_CHARS),
                s.accounts.len(),
                plural(s.accounts.len()),
                item.accounts,
                plural(item.accounts as usize),
            ));
        }
        if items.len() > DESCRIBED_ITEMS {
            text.push_str(&format!("\n- and {} more", items.len() - DESCRIBED_ITEMS));
        }
        text
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_the_documented_ones() {
        assert_eq!(
            uuid::parse("00abedb4-aa42-466c-9c01-fed23315a9b7"),
            Some(SCO_NAMESPACE)
        );
        assert_eq!(
            uuid::parse("26cc4e57-4ce4-46df-a4b5-9dbda9b89c3e"),
            Some(ACCORD_NAMESPACE)
        );
    }

    #[test]
    fn observable_ids_follow_the_specification() {
        // As the OASIS stix2 library (3.0.2) computes them.
        let id = sco_id(
            "email-addr",
            &BTreeMap::from([("value", "john@example.com")]),
        );
        assert_eq!(id, "email-addr--7165e2a9-671f-585d-b1e1-ca59c671d934");
        let id = sco_id(
            "user-account",
            &BTreeMap::from([("account_type", "twitter"), ("user_id", "a,\"b<&>é")]),
        );
        assert_eq!(id, "user-account--73e060a2-b15e-57d4-aaa3-5ff02ca54eb1");
    }

    #[test]
    fn pattern_literals_escape_quotes_and_backslashes() {
        assert_eq!(literal(r"a'b\c"), r"'a\'b\\c'");
    }

    #[test]
    fn descriptions_cut_long_values_on_character_boundaries() {
        assert_eq!(quote("ééé", 2), "éé…");
        assert_eq!(quote("ab", 2), "ab");
    }
}
