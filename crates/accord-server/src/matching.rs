//! Indicator matching in the exchange: the live index of every indicator, the matching of
//! observables against it, and known-good suppression. **Security-sensitive**: every hit
//! passes [`access::may_read`] before it is evaluated or reported.
//!
//! [`Live`] holds one [`Index`] entry per current version of every indicator (per collection
//! it was published into) whose `pattern_type` is `stix`. It is loaded from the store at
//! start-up and brought up to date after every publish ([`Live::refresh`], which reads the
//! indicator versions added since the last one it saw) and every deletion ([`Live::reload`]).
//! A newer version replaces the older one's entry; a revoked version removes it; an
//! indicator past its `valid_until` is never reported and is dropped from the index at the
//! next request ([`Live::expire`]).
//!
//! [`Matching`] runs one batch of input (lines or a bundle of observed-data) and writes one
//! JSON line per hit, per suppressed hit and per refused input line, then a summary. The
//! same code serves `POST /v1/match` and `accord match --indicators` (where every indicator
//! of the local file is visible).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use accord_match::input::{self, Item};
use accord_match::known_good::KnownGood;
use accord_match::normalize::{self, Observable};
use accord_match::{EntryId, Hit, Index};
use accord_media::index::{Id as MediaId, Index as MediaIndex};
use accord_media::pdq::PdqHash;
use accord_pattern::{
    ComparisonExpr, Constant, Observation, ObservationExpr, Operator, PathStep, Pattern,
};
use accord_stix::{Timestamp, Tlp};
use accord_store::{GroupId, OrgId, Store, StoreError, StoredVersion};
use serde_json::{Map, Value, json};

/// What the index keeps about one indicator version.
#[derive(Debug, Clone)]
pub struct Meta {
    /// The indicator's id.
    pub id: String,
    /// Its version (`modified`).
    pub version: String,
    /// Its `name`, if any.
    pub name: Option<String>,
    /// The collection it was published into (none for a local file).
    pub collection: Option<GroupId>,
    /// The organisation that published it (none for a local file).
    pub publisher: Option<OrgId>,
    /// Its effective marking.
    pub tlp: Tlp,
    /// Recipients of a TLP:RED indicator.
    pub recipients: Vec<OrgId>,
    /// Whether its source is shown as the exchange to all but its publisher.
    pub anonymous: bool,
    /// Its `created_by_ref`.
    pub source: Option<String>,
    /// Its `valid_until`, in nanoseconds.
    pub valid_until: Option<i128>,
}

/// An indicator's pattern and what to keep about it, or why it is not indexed.
pub fn indicator(object: &Map<String, Value>) -> Result<(Pattern, Meta), String> {
    let text = |k: &str| object.get(k).and_then(Value::as_str);
    let id = text("id").ok_or("an indicator without an id")?.to_owned();
    let pattern_type = text("pattern_type").unwrap_or("stix");
    if pattern_type != "stix" {
        return Err(format!(
            "{id}: pattern_type `{pattern_type}` is not matched (only `stix`)"
        ));
    }
    let pattern = text("pattern").ok_or_else(|| format!("{id}: no pattern"))?;
    let pattern = accord_pattern::parse(pattern).map_err(|e| format!("{id}: pattern: {e}"))?;
    let valid_until = match text("valid_until") {
        Some(t) => Some(
            Timestamp::parse(t)
                .map_err(|e| format!("{id}: valid_until: {e}"))?
                .nanos(),
        ),
        None => None,
    };
    let meta = Meta {
        version: text("modified")
            .or(text("created"))
            .unwrap_or_default()
            .to_owned(),
        name: text("name").map(str::to_owned),
        collection: None,
        publisher: None,
        tlp: accord_stix::tlp::strictest(object).unwrap_or(Tlp::Clear),
        recipients: Vec::new(),
        anonymous: false,
        source: text("created_by_ref").map(str::to_owned),
        valid_until,
        id,
    };
    Ok((pattern, meta))
}

#[derive(Debug, Clone)]
struct Current {
    collection: GroupId,
    version_nanos: i64,
    entry: Option<EntryId>,
    /// The PDQ hashes its pattern names, in the media index.
    media: Vec<MediaId>,
}

/// The index of every current indicator in the store.
#[derive(Debug, Default)]
pub struct Live {
    index: Index<Meta>,
    media: MediaIndex<Meta>,
    current: HashMap<String, Vec<Current>>,
    expiry: BinaryHeap<Reverse<(i128, EntryId)>>,
    watermark: i64,
    skipped: usize,
}

/// Indicator versions read from the store per round trip while loading.
const LOAD_BATCH: usize = 10_000;

impl Live {
    /// The index.
    pub fn index(&self) -> &Index<Meta> {
        &self.index
    }

    /// The PDQ hashes of every current indicator whose pattern names one
    /// (`[file:hashes.PDQ = '…']`), for media matching.
    pub fn media(&self) -> &MediaIndex<Meta> {
        &self.media
    }

    /// How many stored indicator versions could not be indexed (another pattern type, or a
    /// pattern the evaluator cannot prepare).
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Reads every indicator version added since the last call and applies it.
    pub fn refresh(&mut self, store: &dyn Store) -> Result<usize, StoreError> {
        let mut applied = 0;
        loop {
            let batch = store.indicator_versions(self.watermark, LOAD_BATCH)?;
            for v in &batch {
                self.watermark = self.watermark.max(v.date_added);
                self.apply(v);
            }
            applied += batch.len();
            if batch.len() < LOAD_BATCH {
                return Ok(applied);
            }
        }
    }

    /// Re-reads one object after some of its versions were deleted.
    pub fn reload(&mut self, store: &dyn Store, object_id: &str) -> Result<(), StoreError> {
        for c in self.current.remove(object_id).unwrap_or_default() {
            if let Some(e) = c.entry {
                self.index.remove(e);
            }
            for m in c.media {
                self.media.remove(m);
            }
        }
        for v in store.current_versions(object_id)? {
            self.apply(&v);
        }
        Ok(())
    }

    /// Applies one stored version: it replaces an older version of the same indicator in the
    /// same collection, and is ignored if a newer one is already applied.
    pub fn apply(&mut self, v: &StoredVersion) {
        if v.object_type != "indicator" {
            return;
        }
        let list = self.current.entry(v.object_id.clone()).or_default();
        let slot = match list.iter().position(|c| c.collection == v.collection) {
            Some(i) if list[i].version_nanos > v.version_nanos => return,
            Some(i) => i,
            None => {
                list.push(Current {
                    collection: v.collection.clone(),
                    version_nanos: v.version_nanos,
                    entry: None,
                    media: Vec::new(),
                });
                list.len() - 1
            }
        };
        if let Some(old) = list[slot].entry.take() {
            self.index.remove(old);
        }
        for m in std::mem::take(&mut list[slot].media) {
            self.media.remove(m);
        }
        list[slot].version_nanos = v.version_nanos;
        if v.revoked {
            return;
        }
        let parsed = serde_json::from_str::<Map<String, Value>>(&v.json)
            .map_err(|e| e.to_string())
            .and_then(|o| indicator(&o));
        let (pattern, mut meta) = match parsed {
            Ok(x) => x,
            Err(reason) => {
                tracing::debug!(%reason, "indicator not indexed");
                self.skipped += 1;
                return;
            }
        };
        meta.collection = Some(v.collection.clone());
        meta.publisher = Some(v.publisher);
        meta.tlp = v.effective_tlp;
        meta.recipients = v.recipients.clone();
        meta.anonymous = v.anonymous;
        let valid_until = meta.valid_until;
        for hash in pdq_hashes(&pattern) {
            match self.media.insert(hash.0, meta.clone()) {
                Ok(id) => list[slot].media.push(id),
                Err(reason) => tracing::warn!(%reason, "PDQ hash not indexed"),
            }
        }
        match self.index.insert(&pattern, meta) {
            Ok(e) => {
                list[slot].entry = Some(e);
                if let Some(t) = valid_until {
                    self.expiry.push(Reverse((t, e)));
                }
            }
            Err(reason) => {
                tracing::debug!(%reason, id = %v.object_id, "indicator not indexed");
                self.skipped += 1;
            }
        }
    }

    /// Whether some indicator has expired by `now` and [`Live::expire`] would drop it.
    pub fn has_expired(&self, now: i128) -> bool {
        self.expiry.peek().is_some_and(|Reverse((t, _))| *t <= now)
    }

    /// Drops the indicators whose `valid_until` is at or before `now`.
    pub fn expire(&mut self, now: i128) {
        while let Some(Reverse((t, e))) = self.expiry.peek().copied() {
            if t > now {
                break;
            }
            self.expiry.pop();
            // The entry may have been replaced since (ids are reused): drop it only if it is
            // still the one that expires then.
            let still = self.index.meta(e).is_some_and(|m| m.valid_until == Some(t));
            if !still {
                continue;
            }
            if let Some(m) = self.index.remove(e)
                && let Some(list) = self.current.get_mut(&m.id)
            {
                for c in list.iter_mut() {
                    if c.entry == Some(e) {
                        c.entry = None;
                        for id in std::mem::take(&mut c.media) {
                            self.media.remove(id);
                        }
                    }
                }
            }
        }
    }
}

/// The PDQ hashes a pattern names: `file:hashes.PDQ` (any case) compared by `=` or `IN`,
/// not negated, anywhere in the pattern.
pub fn pdq_hashes(pattern: &Pattern) -> Vec<PdqHash> {
    fn obs(e: &ObservationExpr, out: &mut Vec<PdqHash>) {
        match e {
            ObservationExpr::Observation(c) => cmp(c, out),
            ObservationExpr::And(v) | ObservationExpr::Or(v) | ObservationExpr::FollowedBy(v) => {
                v.iter().for_each(|e| obs(e, out));
            }
            ObservationExpr::Qualified(inner, _) => obs(inner, out),
        }
    }
    fn cmp(e: &ComparisonExpr, out: &mut Vec<PdqHash>) {
        match e {
            ComparisonExpr::Comparison(c) => {
                let is_pdq = c.path.object_type == "file"
                    && matches!(c.path.steps.as_slice(),
                        [PathStep::Key(h), PathStep::Key(alg)]
                            if h == "hashes" && alg.eq_ignore_ascii_case("pdq"));
                if !is_pdq || c.negated {
                    return;
                }
                let constants = match (&c.op, &c.value) {
                    (Operator::Eq, k @ Constant::String(_)) => std::slice::from_ref(k),
                    (Operator::In, Constant::List(items)) => items.as_slice(),
                    _ => &[],
                };
                for k in constants {
                    if let Constant::String(s) = k
                        && let Ok(h) = s.parse::<PdqHash>()
                    {
                        out.push(h);
                    }
                }
            }
            ComparisonExpr::Exists(_) => {}
            ComparisonExpr::And(v) | ComparisonExpr::Or(v) => v.iter().for_each(|e| cmp(e, out)),
        }
    }
    let mut out = Vec::new();
    obs(&pattern.expr, &mut out);
    out
}

/// Which known-good list an entry is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// `organisation` or `exchange`.
    pub list: &'static str,
    /// The entry's note.
    pub note: String,
}

/// Tallies of one run, written as its last line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Observables read.
    pub observables: usize,
    /// Hits reported.
    pub hits: usize,
    /// Hits suppressed by a known-good entry.
    pub suppressed: usize,
    /// Lines refused.
    pub errors: usize,
}

/// One run of matching: an index, who is asking, and what they may see.
pub struct Matching<'a> {
    /// The index.
    pub index: &'a Index<Meta>,
    /// Whether the caller may see an indicator (the access policy, for the server).
    pub visible: &'a dyn Fn(&Meta) -> bool,
    /// Values not to report.
    pub known_good: &'a KnownGood<Listed>,
    /// When the observables were seen (for patterns with `START`/`STOP`).
    pub seen: Timestamp,
    /// Now, for `valid_until`.
    pub now: i128,
    /// The caller's organisation (to decide whether an anonymous source is shown).
    pub caller: Option<OrgId>,
    /// The exchange's identity, shown as the source of anonymous indicators.
    pub exchange_identity: &'a str,
    /// Publishing organisations' identities and names.
    pub publishers: &'a HashMap<OrgId, (String, String)>,
    /// What has been written so far.
    pub counts: Counts,
}

impl Matching<'_> {
    fn accept(&self, m: &Meta) -> bool {
        m.valid_until.is_none_or(|t| t > self.now) && (self.visible)(m)
    }

    fn describe(&self, hit: &Hit) -> Option<Map<String, Value>> {
        let m = self.index.meta(hit.entry)?;
        let mut out = Map::new();
        out.insert("indicator".into(), json!(m.id));
        out.insert("version".into(), json!(m.version));
        if let Some(n) = &m.name {
            out.insert("name".into(), json!(n));
        }
        out.insert("clause".into(), json!(hit.clause));
        out.insert("evaluated".into(), json!(hit.evaluated));
        if let Some(c) = &m.collection {
            out.insert("collection".into(), json!(c.0));
        }
        out.insert(
            "marking".into(),
            json!(format!("TLP:{}", m.tlp.name().to_ascii_uppercase())),
        );
        let org = m.publisher.and_then(|p| self.publishers.get(&p));
        if m.anonymous && m.publisher != self.caller {
            out.insert("source".into(), json!(self.exchange_identity));
            out.insert("source_name".into(), json!("the exchange"));
        } else if let Some((identity, name)) = org {
            out.insert("source".into(), json!(identity));
            out.insert("source_name".into(), json!(name));
        } else if let Some(s) = &m.source {
            out.insert("source".into(), json!(s));
        }
        Some(out)
    }

    fn emit(&mut self, out: &mut Vec<u8>, line: Map<String, Value>) {
        // A map of JSON values always serialises.
        if serde_json::to_writer(&mut *out, &Value::Object(line)).is_ok() {
            out.push(b'\n');
        }
    }

    /// Writes an error line.
    pub fn error(&mut self, out: &mut Vec<u8>, line_no: usize, message: &str) {
        self.counts.errors += 1;
        let mut m = Map::new();
        m.insert("line".into(), json!(line_no));
        m.insert("error".into(), json!(message));
        self.emit(out, m);
    }

    fn report(
        &mut self,
        out: &mut Vec<u8>,
        head: &Map<String, Value>,
        hits: Vec<Hit>,
        suppressed: Option<(&Observable, &Listed)>,
    ) {
        for hit in hits {
            let Some(desc) = self.describe(&hit) else {
                continue;
            };
            let mut line = head.clone();
            line.extend(desc);
            if let Some((entry, listed)) = suppressed {
                self.counts.suppressed += 1;
                line.insert(
                    "suppressed".into(),
                    json!({"list": listed.list, "entry": entry.to_string(), "note": listed.note}),
                );
            } else {
                self.counts.hits += 1;
            }
            self.emit(out, line);
        }
    }

    /// Matches one observable read from an input line.
    pub fn observable(&mut self, out: &mut Vec<u8>, line_no: usize, obs: &Observable) {
        let mut all = vec![obs.clone()];
        all.extend(obs.derived());
        for (i, o) in all.iter().enumerate() {
            let hits = self
                .index
                .match_observable(o, &self.seen, |_, m| self.accept(m));
            if hits.is_empty() {
                continue;
            }
            let mut head = Map::new();
            head.insert("line".into(), json!(line_no));
            head.insert("observable".into(), json!(obs.to_string()));
            if i > 0 {
                head.insert("matched".into(), json!(o.to_string()));
            }
            let kg = self.known_good.check(o).or_else(|| {
                // A known-good entry for what an observable was derived from covers it too.
                if i > 0 {
                    self.known_good.check(obs)
                } else {
                    None
                }
            });
            self.report(out, &head, hits, kg);
        }
    }

    /// Matches one whole cyber-observable object (canonical, a JSON object) read from a JSON
    /// line.
    pub fn object(&mut self, out: &mut Vec<u8>, line_no: usize, object: &Value) {
        let hits = self
            .index
            .match_object(object, &self.seen, |_, m| self.accept(m));
        let Some(map) = object.as_object() else {
            return;
        };
        if hits.is_empty() {
            return;
        }
        let as_observable = observable_of(map);
        let kg = as_observable
            .as_ref()
            .and_then(|o| self.known_good.check(o));
        let mut head = Map::new();
        head.insert("line".into(), json!(line_no));
        match &as_observable {
            Some(o) => head.insert("observable".into(), json!(o.to_string())),
            None => head.insert("object".into(), object.clone()),
        };
        self.report(out, &head, hits, kg);
    }

    /// Matches one input line.
    pub fn line(&mut self, out: &mut Vec<u8>, line_no: usize, text: &str) {
        match input::parse_line(text) {
            Ok(None) => {}
            Ok(Some(item)) => {
                self.counts.observables += 1;
                match item {
                    Item::Observable(o) => self.observable(out, line_no, &o),
                    Item::Object(o) => self.object(out, line_no, &o),
                }
            }
            Err(e) => self.error(out, line_no, &e.to_string()),
        }
    }

    /// Matches the observed-data of a bundle: every indicator whose pattern matches the
    /// bundle's observations taken together (so `FOLLOWEDBY` and `WITHIN` work across them).
    pub fn bundle(&mut self, out: &mut Vec<u8>, objects: &[Value]) {
        // Cyber-observables by id, in canonical form; observed-data as given.
        let mut scos: HashMap<&str, Value> = HashMap::new();
        let mut observed_data: Vec<&Map<String, Value>> = Vec::new();
        for (n, o) in objects.iter().enumerate() {
            let Some(map) = o.as_object() else {
                self.error(out, n, "a bundle object that is not a JSON object");
                continue;
            };
            let ty = map.get("type").and_then(Value::as_str).unwrap_or_default();
            let id = map.get("id").and_then(Value::as_str).unwrap_or_default();
            if ty == "observed-data" {
                observed_data.push(map);
            } else if !id.is_empty() {
                match normalize::sco(map) {
                    Ok(c) => {
                        scos.insert(id, Value::Object(c));
                    }
                    Err(e) => self.error(out, n, &format!("{id}: {e}")),
                }
            }
        }
        let refs: HashMap<&str, &Value> = scos.iter().map(|(k, v)| (*k, v)).collect();
        // STIX 2.0 observed-data embed their objects: canonical copies of those.
        let embedded: Vec<Map<String, Value>> = observed_data
            .iter()
            .map(|od| {
                let mut copy = (*od).clone();
                if let Some(Value::Object(objs)) = copy.get_mut("objects") {
                    for v in objs.values_mut() {
                        if let Some(m) = v.as_object()
                            && let Ok(c) = normalize::sco(m)
                        {
                            *v = Value::Object(c);
                        }
                    }
                }
                copy
            })
            .collect();
        let mut observations = Vec::new();
        // For each object looked up: its id (or embedded key) and the observed-data holding it.
        let mut looked_up: Vec<(&Map<String, Value>, String, String)> = Vec::new();
        for (od, copy) in observed_data.iter().zip(&embedded) {
            let od_id = od
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            self.counts.observables += 1;
            let made = if copy.contains_key("object_refs") {
                Observation::from_stix21(od, &refs)
            } else {
                Observation::from_stix20(copy)
            };
            match made {
                Ok(obs) => observations.push(obs),
                Err(e) => {
                    self.counts.errors += 1;
                    let mut m = Map::new();
                    m.insert("observed_data".into(), json!(od_id));
                    m.insert("error".into(), json!(e.to_string()));
                    self.emit(out, m);
                    continue;
                }
            }
            if let Some(list) = od.get("object_refs").and_then(Value::as_array) {
                for r in list.iter().filter_map(Value::as_str) {
                    if let Some(Value::Object(m)) = scos.get(r) {
                        looked_up.push((m, r.to_owned(), od_id.clone()));
                    }
                }
            } else if let Some(Value::Object(objs)) = copy.get("objects") {
                for (k, v) in objs {
                    if let Some(m) = v.as_object() {
                        looked_up.push((m, k.clone(), od_id.clone()));
                    }
                }
            }
        }
        let (hits, errors) = self.index.match_observations(
            looked_up.iter().map(|(m, _, _)| *m),
            &observations,
            |_, m| self.accept(m),
        );
        for hit in hits {
            let Some(desc) = self.describe(&hit) else {
                continue;
            };
            let mut line = Map::new();
            if let Some((m, id, od)) = looked_up.get(hit.object) {
                line.insert("object".into(), json!(id));
                line.insert("observed_data".into(), json!(od));
                if let Some(o) = observable_of(m)
                    && let Some((entry, listed)) = self.known_good.check(&o)
                {
                    line.insert("observable".into(), json!(o.to_string()));
                    line.extend(desc);
                    line.insert(
                        "suppressed".into(),
                        json!({"list": listed.list, "entry": entry.to_string(), "note": listed.note}),
                    );
                    self.counts.suppressed += 1;
                    self.emit(out, line);
                    continue;
                }
            }
            line.extend(desc);
            self.counts.hits += 1;
            self.emit(out, line);
        }
        for (entry, e) in errors {
            if let Some(m) = self.index.meta(entry) {
                self.counts.errors += 1;
                let mut line = Map::new();
                line.insert("indicator".into(), json!(m.id));
                line.insert("error".into(), json!(e.to_string()));
                self.emit(out, line);
            }
        }
    }

    /// Writes the summary line.
    pub fn summary(&mut self, out: &mut Vec<u8>) {
        let c = self.counts;
        let mut m = Map::new();
        m.insert(
            "summary".into(),
            json!({"observables": c.observables, "hits": c.hits, "suppressed": c.suppressed, "errors": c.errors}),
        );
        self.emit(out, m);
    }
}

/// The observable an SCO stands for, when it has one main value.
fn observable_of(object: &Map<String, Value>) -> Option<Observable> {
    let ty = object.get("type").and_then(Value::as_str)?;
    let value = object.get("value").and_then(Value::as_str)?;
    normalize::parse_observable(&format!("{ty}:{value}")).ok()
}
