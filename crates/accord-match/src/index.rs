//! The indicator index: patterns filed under their probes, looked up by observable.
//!
//! Every probe of every pattern ([`crate::compile`]) becomes one key of a hash map: the
//! probe kind, the interned field (object type and path) and the value. Looking an object up
//! reads, for each indexed field of its type, its value at that field and probes the map:
//! once for the exact value, once per distinct prefix or suffix length filed on that field,
//! and once per distinct CIDR length. The cost depends on how many *distinct* lengths and
//! fields there are, never on how many patterns are filed, so ten million indicators cost
//! about what ten do. Exact values go in one map and prefixes, suffixes and ranges in a
//! second: there are far fewer of those, and a domain name may be probed for a dozen suffix
//! lengths, so those probes should hit a table small enough to stay in cache rather than
//! one of ten million keys. Patterns without probes sit in a per-type fallback list and are evaluated
//! against every object of their types; [`Stats::fallback`] counts them so a deployment can
//! see when that list grows.
//!
//! A hit on an *exact* pattern is a match as it stands; any other candidate is confirmed by
//! evaluating the canonical pattern ([`Matcher`]) against the observations. Entries carry a
//! caller-chosen payload `M` (for the exchange: the indicator's id, collection and who may
//! read it), and every lookup takes a filter over it, applied before any evaluation, so
//! what a caller may not see costs nothing and is never evaluated on its data.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::IpAddr;

use accord_pattern::{EvalError, Matcher, Observation, Pattern};
use accord_stix::Timestamp;
use serde_json::{Map, Value};

use crate::compile::{self, Probe};
use crate::normalize::Observable;
use crate::normalize::{ip_network, mask};

/// The handle of one pattern in an [`Index`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId(u32);

/// Why a pattern could not be added.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// The pattern cannot be prepared for evaluation (for example an unsupported regular
    /// expression).
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// The index holds as many patterns as it can address.
    #[error("the index is full ({0} patterns)")]
    Full(usize),
}

/// One indicator an observable hit.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The pattern's entry.
    pub entry: EntryId,
    /// The comparison through which the index found it, as canonical pattern text.
    pub clause: String,
    /// Whether the match was confirmed by evaluating the whole pattern (false when the
    /// comparison alone decides it).
    pub evaluated: bool,
    /// Which of the objects looked up raised it (their position; always 0 for
    /// [`Index::match_object`]).
    pub object: usize,
}

/// Counts describing an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Patterns filed.
    pub patterns: usize,
    /// Patterns decided by a lookup alone.
    pub exact: usize,
    /// Patterns evaluated against every observable of their types.
    pub fallback: usize,
    /// Distinct keys in the hash map.
    pub keys: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Posting {
    entry: u32,
    /// Which of the entry's clauses; `u32::MAX` for an exact entry's value, whose clause is
    /// rebuilt from the key.
    clause: u32,
}

const REBUILT: u32 = u32::MAX;

#[derive(Debug)]
enum Postings {
    One(Posting),
    Many(Vec<Posting>),
}

impl Postings {
    fn as_slice(&self) -> &[Posting] {
        match self {
            Postings::One(p) => std::slice::from_ref(p),
            Postings::Many(v) => v,
        }
    }
}

#[derive(Debug)]
struct Entry<M> {
    meta: M,
    keys: Box<[Box<[u8]>]>,
    /// For patterns that need evaluation: the matcher and the clauses of its probes.
    check: Option<Box<Check>>,
    fallback_types: Box<[String]>,
}

#[derive(Debug)]
struct Check {
    matcher: Matcher,
    clauses: Vec<String>,
    pattern: String,
}

#[derive(Debug, Default)]
struct Field {
    object_type: String,
    steps: Vec<String>,
    prefix_lens: BTreeMap<usize, Lens>,
    suffix_lens: BTreeMap<usize, Lens>,
    cidr_lens: BTreeMap<(bool, u8), Lens>,
}

/// The hash maps of the index: foldhash, seeded per process, several times faster than
/// SipHash on short keys. Keys come from the indicators members publish and from the
/// observables they look up, not from anonymous parties.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

thread_local! {
    /// The buffer lookups build keys in, reused so that a lookup allocates nothing.
    static KEY: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(256));
}

/// The prefix, suffix or range keys of one length on one field: how many, and a 64-Kibit
/// filter of them, so that a lookup probes the (large) map only for lengths where its part
/// may be filed. Bits are never cleared: after a removal the filter may say "maybe" where
/// nothing is filed any more, which costs a probe, never a hit.
#[derive(Debug)]
struct Lens {
    count: usize,
    bits: Box<[u64]>,
}

const FILTER_WORDS: usize = 1024;

impl Lens {
    fn new() -> Self {
        Lens {
            count: 0,
            bits: vec![0u64; FILTER_WORDS].into_boxed_slice(),
        }
    }

    fn add(&mut self, part: &[u8]) {
        let b = filter_bit(part);
        self.count += 1;
        if let Some(w) = self.bits.get_mut(b / 64) {
            *w |= 1 << (b % 64);
        }
    }

    fn may_hold(&self, part: &[u8]) -> bool {
        let b = filter_bit(part);
        self.bits
            .get(b / 64)
            .is_some_and(|w| w & (1 << (b % 64)) != 0)
    }
}

/// A bit of the length filter for a key part: a cheap mix of its first and last eight bytes
/// and its length (parts of one length that differ only in the middle share a bit, which
/// only costs a probe).
fn filter_bit(part: &[u8]) -> usize {
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        let n = b.len().min(8);
        w[..n].copy_from_slice(&b[..n]);
        u64::from_le_bytes(w)
    };
    let head = word(part);
    let tail = word(&part[part.len().saturating_sub(8)..]);
    let h = (head ^ tail.rotate_left(31) ^ part.len() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> 48) as usize
}

const EXACT: u8 = 0;
const PREFIX: u8 = 1;
const SUFFIX: u8 = 2;
const CIDR: u8 = 3;

/// Patterns filed for lookup by observable, each with a payload `M`.
#[derive(Debug)]
pub struct Index<M> {
    entries: Vec<Option<Entry<M>>>,
    free: Vec<u32>,
    /// Exact values.
    map: HashMap<Box<[u8]>, Postings>,
    /// Prefixes, suffixes and ranges.
    affix: HashMap<Box<[u8]>, Postings>,
    fields: Vec<Field>,
    field_ids: HashMap<(String, Vec<String>), u32>,
    fields_by_type: HashMap<String, Vec<u32>>,
    fallback: HashMap<String, Vec<u32>>,
    stats: Stats,
}

impl<M> Default for Index<M> {
    fn default() -> Self {
        Index {
            entries: Vec::new(),
            free: Vec::new(),
            map: HashMap::default(),
            affix: HashMap::default(),
            fields: Vec::new(),
            field_ids: HashMap::default(),
            fields_by_type: HashMap::default(),
            fallback: HashMap::default(),
            stats: Stats::default(),
        }
    }
}

fn key(kind: u8, field: u32, value: &[u8], buf: &mut Vec<u8>) {
    buf.clear();
    buf.push(kind);
    buf.extend_from_slice(&field.to_le_bytes());
    buf.extend_from_slice(value);
}

/// The key a probe on a field is filed under.
fn probe_key(field: u32, probe: &Probe, buf: &mut Vec<u8>) {
    match probe {
        Probe::Exact(v) => key(EXACT, field, v.as_bytes(), buf),
        Probe::Prefix(v) => key(PREFIX, field, v.as_bytes(), buf),
        Probe::Suffix(v) => key(SUFFIX, field, v.as_bytes(), buf),
        Probe::Cidr(addr, len) => {
            key(CIDR, field, &[], buf);
            net_bytes(*addr, *len, buf);
        }
    }
}

fn net_bytes(addr: IpAddr, len: u8, buf: &mut Vec<u8>) {
    buf.push(len);
    match addr {
        IpAddr::V4(a) => buf.extend_from_slice(&a.octets()),
        IpAddr::V6(a) => buf.extend_from_slice(&a.octets()),
    }
}

impl<M> Index<M> {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts of what is filed.
    pub fn stats(&self) -> Stats {
        Stats {
            keys: self.map.len() + self.affix.len(),
            ..self.stats
        }
    }

    /// The payload of an entry.
    pub fn meta(&self, id: EntryId) -> Option<&M> {
        self.entries
            .get(id.0 as usize)
            .and_then(Option::as_ref)
            .map(|e| &e.meta)
    }

    /// Files a pattern (put into canonical form here) with its payload.
    pub fn insert(&mut self, pattern: &Pattern, meta: M) -> Result<EntryId, IndexError> {
        let canonical = compile::canonical(pattern);
        let plan = compile::plan(&canonical, &|k| self.filed(k));
        let check = if plan.exact {
            None
        } else {
            Some(Box::new(Check {
                matcher: Matcher::new(&canonical)?,
                clauses: plan
                    .keys
                    .iter()
                    .flatten()
                    .map(|k| k.clause.clone())
                    .collect(),
                pattern: canonical.to_string(),
            }))
        };
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                let n = self.entries.len();
                let s = u32::try_from(n)
                    .ok()
                    .filter(|s| *s != REBUILT)
                    .ok_or(IndexError::Full(n))?;
                self.entries.push(None);
                s
            }
        };
        let mut keys = Vec::new();
        let mut fallback_types = Vec::new();
        match &plan.keys {
            Some(list) => {
                for (i, k) in list.iter().enumerate() {
                    let field = self.field(&k.object_type, &k.steps);
                    let mut buf = Vec::new();
                    let f = &mut self.fields[field as usize];
                    match &k.probe {
                        Probe::Exact(_) => {}
                        Probe::Prefix(v) => f
                            .prefix_lens
                            .entry(v.len())
                            .or_insert_with(Lens::new)
                            .add(v.as_bytes()),
                        Probe::Suffix(v) => f
                            .suffix_lens
                            .entry(v.len())
                            .or_insert_with(Lens::new)
                            .add(v.as_bytes()),
                        Probe::Cidr(addr, len) => {
                            let mut part = [0u8; 17];
                            let n = net_into(*addr, *len, &mut part);
                            f.cidr_lens
                                .entry((addr.is_ipv4(), *len))
                                .or_insert_with(Lens::new)
                                .add(&part[..n]);
                        }
                    }
                    probe_key(field, &k.probe, &mut buf);
                    let clause = if plan.exact {
                        REBUILT
                    } else {
                        u32::try_from(i).unwrap_or(REBUILT)
                    };
                    let posting = Posting {
                        entry: slot,
                        clause,
                    };
                    let buf = buf.into_boxed_slice();
                    let table = self.table_mut(&buf);
                    match table.get_mut(&buf) {
                        Some(Postings::Many(v)) => v.push(posting),
                        Some(p @ Postings::One(_)) => {
                            if let Postings::One(first) = *p {
                                *p = Postings::Many(vec![first, posting]);
                            }
                        }
                        None => {
                            table.insert(buf.clone(), Postings::One(posting));
                        }
                    }
                    keys.push(buf);
                }
            }
            None => {
                for ty in &plan.types {
                    self.fallback.entry(ty.clone()).or_default().push(slot);
                    fallback_types.push(ty.clone());
                }
                self.stats.fallback += 1;
            }
        }
        self.stats.patterns += 1;
        if plan.exact {
            self.stats.exact += 1;
        }
        self.entries[slot as usize] = Some(Entry {
            meta,
            keys: keys.into_boxed_slice(),
            check,
            fallback_types: fallback_types.into_boxed_slice(),
        });
        Ok(EntryId(slot))
    }

    /// The map a key belongs in, by its kind (its first byte).
    fn table(&self, key: &[u8]) -> &HashMap<Box<[u8]>, Postings> {
        if key.first() == Some(&EXACT) {
            &self.map
        } else {
            &self.affix
        }
    }

    fn table_mut(&mut self, key: &[u8]) -> &mut HashMap<Box<[u8]>, Postings> {
        if key.first() == Some(&EXACT) {
            &mut self.map
        } else {
            &mut self.affix
        }
    }

    /// How many entries are filed under a probe now.
    fn filed(&self, k: &compile::Keyed) -> usize {
        let Some(&field) = self
            .field_ids
            .get(&(k.object_type.clone(), k.steps.clone()))
        else {
            return 0;
        };
        let mut buf = Vec::new();
        probe_key(field, &k.probe, &mut buf);
        self.table(&buf)
            .get(buf.as_slice())
            .map_or(0, |p| p.as_slice().len())
    }

    fn field(&mut self, object_type: &str, steps: &[String]) -> u32 {
        let k = (object_type.to_owned(), steps.to_vec());
        if let Some(id) = self.field_ids.get(&k) {
            return *id;
        }
        let id = u32::try_from(self.fields.len()).unwrap_or(u32::MAX);
        self.fields.push(Field {
            object_type: object_type.to_owned(),
            steps: steps.to_vec(),
            ..Field::default()
        });
        self.fields_by_type
            .entry(object_type.to_owned())
            .or_default()
            .push(id);
        self.field_ids.insert(k, id);
        id
    }

    /// Removes an entry, returning its payload.
    pub fn remove(&mut self, id: EntryId) -> Option<M> {
        let entry = self.entries.get_mut(id.0 as usize)?.take()?;
        for k in entry.keys.iter() {
            let mut now_empty = false;
            let table = self.table_mut(k);
            if let Some(p) = table.get_mut(k) {
                match p {
                    Postings::One(one) => now_empty = one.entry == id.0,
                    Postings::Many(v) => {
                        v.retain(|x| x.entry != id.0);
                        if let [only] = v.as_slice() {
                            *p = Postings::One(*only);
                        } else {
                            now_empty = v.is_empty();
                        }
                    }
                }
            }
            if now_empty {
                table.remove(k);
            }
            self.forget_length(k);
        }
        for ty in entry.fallback_types.iter() {
            if let Some(list) = self.fallback.get_mut(ty) {
                list.retain(|e| *e != id.0);
            }
        }
        if entry.keys.is_empty() {
            self.stats.fallback -= 1;
        }
        if entry.check.is_none() {
            self.stats.exact -= 1;
        }
        self.stats.patterns -= 1;
        self.free.push(id.0);
        Some(entry.meta)
    }

    fn forget_length(&mut self, k: &[u8]) {
        let Some((&kind, rest)) = k.split_first() else {
            return;
        };
        let Some((field, value)) = rest.split_first_chunk::<4>() else {
            return;
        };
        let Some(f) = self.fields.get_mut(u32::from_le_bytes(*field) as usize) else {
            return;
        };
        fn dec<K: Ord>(m: &mut BTreeMap<K, Lens>, key: K) {
            if let Some(l) = m.get_mut(&key) {
                l.count -= 1;
                if l.count == 0 {
                    m.remove(&key);
                }
            }
        }
        match kind {
            PREFIX => dec(&mut f.prefix_lens, value.len()),
            SUFFIX => dec(&mut f.suffix_lens, value.len()),
            CIDR => {
                if let Some((&len, addr)) = value.split_first() {
                    dec(&mut f.cidr_lens, (addr.len() == 4, len));
                }
            }
            _ => {}
        }
    }

    /// The candidates one object raises: every posting of every probe it passes, plus the
    /// fallback entries of its type. `out` gets `(entry, clause text)`; an entry may appear
    /// more than once.
    fn candidates(&self, object: Source<'_>, out: &mut Vec<(u32, Clause)>) {
        KEY.with(|buf| match buf.try_borrow_mut() {
            Ok(mut buf) => self.candidates_in(object, out, &mut buf),
            Err(_) => self.candidates_in(object, out, &mut Vec::new()),
        });
    }

    fn candidates_in(&self, object: Source<'_>, out: &mut Vec<(u32, Clause)>, buf: &mut Vec<u8>) {
        let Some(ty) = object.kind() else {
            return;
        };
        if let Some(fields) = self.fields_by_type.get(ty) {
            for &fid in fields {
                let f = &self.fields[fid as usize];
                let Some(value) = object.read(&f.steps) else {
                    continue;
                };
                let bytes = value.as_bytes();
                let mut probe = |kind: u8, part: &[u8], out: &mut Vec<(u32, Clause)>| {
                    key(kind, fid, part, buf);
                    if let Some(p) = self.table(buf).get(buf.as_slice()) {
                        for posting in p.as_slice() {
                            let clause = if posting.clause == REBUILT {
                                Clause::Equal(fid)
                            } else {
                                Clause::Stored(posting.clause)
                            };
                            out.push((posting.entry, clause));
                        }
                    }
                };
                probe(EXACT, bytes, out);
                for (&len, lens) in &f.prefix_lens {
                    if len > bytes.len() {
                        break;
                    }
                    let part = &bytes[..len];
                    if lens.may_hold(part) {
                        probe(PREFIX, part, out);
                    }
                }
                if !f.suffix_lens.is_empty() {
                    let trimmed = bytes.strip_suffix(b"\n");
                    for (&len, lens) in &f.suffix_lens {
                        if len <= bytes.len() {
                            let part = &bytes[bytes.len() - len..];
                            if lens.may_hold(part) {
                                probe(SUFFIX, part, out);
                            }
                        }
                        if let Some(t) = trimmed
                            && len <= t.len()
                        {
                            let part = &t[t.len() - len..];
                            if lens.may_hold(part) {
                                probe(SUFFIX, part, out);
                            }
                        }
                    }
                }
                if !f.cidr_lens.is_empty()
                    && let Some((addr, own)) = ip_network(value)
                {
                    for (&(v4, len), lens) in &f.cidr_lens {
                        if v4 != addr.is_ipv4() || len > own {
                            continue;
                        }
                        let mut part = [0u8; 17];
                        let n = net_into(mask(addr, len), len, &mut part);
                        if lens.may_hold(&part[..n]) {
                            probe(CIDR, &part[..n], out);
                        }
                    }
                }
            }
        }
        if let Some(list) = self.fallback.get(ty) {
            out.extend(list.iter().map(|e| (*e, Clause::Whole)));
        }
    }

    fn clause_text(&self, entry: &Entry<M>, clause: Clause, object: Source<'_>) -> String {
        match clause {
            Clause::Equal(fid) => {
                let f = &self.fields[fid as usize];
                let value = object.read(&f.steps).unwrap_or_default();
                equal_clause(&f.object_type, &f.steps, value)
            }
            Clause::Stored(i) => entry
                .check
                .as_ref()
                .and_then(|c| c.clauses.get(i as usize))
                .cloned()
                .unwrap_or_default(),
            Clause::Whole => entry
                .check
                .as_ref()
                .map(|c| c.pattern.clone())
                .unwrap_or_default(),
        }
    }

    /// The indicators one object (a canonical SCO, see [`crate::normalize::sco`]; a JSON
    /// object) hits when seen once at `seen`, among the entries `visible` accepts.
    pub fn match_object(
        &self,
        object: &Value,
        seen: &Timestamp,
        visible: impl FnMut(EntryId, &M) -> bool,
    ) -> Vec<Hit> {
        let Some(map) = object.as_object() else {
            return Vec::new();
        };
        self.match_one(Source::Map(map), || object, seen, visible)
    }

    /// The indicators an observable hits when seen once at `seen`, among the entries
    /// `visible` accepts: [`Index::match_object`] on its SCO, except that a simple observable
    /// (a type and a value) is looked up by its value and its SCO is built only if a
    /// candidate must be evaluated.
    pub fn match_observable(
        &self,
        obs: &Observable,
        seen: &Timestamp,
        visible: impl FnMut(EntryId, &M) -> bool,
    ) -> Vec<Hit> {
        if obs.is_simple() {
            let source = Source::Simple(obs.kind(), obs.value());
            self.match_one(source, || obs.sco_value(), seen, visible)
        } else if let Some((algorithm, digest)) = obs.file_hash() {
            let source = Source::Hash(algorithm, digest);
            self.match_one(source, || obs.sco_value(), seen, visible)
        } else {
            self.match_object(obs.sco_value(), seen, visible)
        }
    }

    fn match_one<'v>(
        &self,
        source: Source<'_>,
        object: impl FnOnce() -> &'v Value,
        seen: &Timestamp,
        mut visible: impl FnMut(EntryId, &M) -> bool,
    ) -> Vec<Hit> {
        let mut cands = Vec::new();
        self.candidates(source, &mut cands);
        if cands.is_empty() {
            return Vec::new();
        }
        if cands.len() > 1 {
            cands.sort_unstable_by_key(|(e, c)| (*e, c.rank()));
            cands.dedup_by_key(|(e, _)| *e);
        }
        let mut hits = Vec::new();
        let mut object = Some(object);
        let mut observation: Option<[Observation<'v>; 1]> = None;
        for (e, clause) in cands {
            let Some(entry) = self.entries.get(e as usize).and_then(Option::as_ref) else {
                continue;
            };
            if !visible(EntryId(e), &entry.meta) {
                continue;
            }
            let evaluated = match &entry.check {
                None => false,
                Some(check) => {
                    if observation.is_none()
                        && let Some(make) = object.take()
                    {
                        observation = Some([Observation::seen_once(seen, vec![("0", make())])]);
                    }
                    let Some(observed) = &observation else {
                        continue;
                    };
                    if !check.matcher.matches(observed).unwrap_or(false) {
                        continue;
                    }
                    true
                }
            };
            hits.push(Hit {
                entry: EntryId(e),
                clause: self.clause_text(entry, clause, source),
                evaluated,
                object: 0,
            });
        }
        hits
    }

    /// The indicators a set of observations hits (for example every observed-data of one
    /// bundle): candidates from every object in `objects` (canonical SCOs), each confirmed by
    /// evaluating its pattern against all of `observed`. An entry whose evaluation fails
    /// (bad data, too many bindings) is left out and its error returned beside the hits.
    pub fn match_observations<'a>(
        &self,
        objects: impl IntoIterator<Item = &'a Map<String, Value>>,
        observed: &[Observation<'_>],
        mut visible: impl FnMut(EntryId, &M) -> bool,
    ) -> (Vec<Hit>, Vec<(EntryId, EvalError)>) {
        let mut cands: Vec<(u32, Clause, usize, &Map<String, Value>)> = Vec::new();
        let mut scratch = Vec::new();
        for (n, object) in objects.into_iter().enumerate() {
            scratch.clear();
            self.candidates(Source::Map(object), &mut scratch);
            cands.extend(scratch.drain(..).map(|(e, c)| (e, c, n, object)));
        }
        cands.sort_by_key(|(e, c, n, _)| (*e, c.rank(), *n));
        cands.dedup_by_key(|(e, _, _, _)| *e);
        let mut hits = Vec::new();
        let mut errors = Vec::new();
        for (e, clause, n, object) in cands {
            let Some(entry) = self.entries.get(e as usize).and_then(Option::as_ref) else {
                continue;
            };
            if !visible(EntryId(e), &entry.meta) {
                continue;
            }
            let result = match &entry.check {
                Some(check) => check.matcher.matches(observed),
                // An exact pattern still needs its object to be inside an observation.
                None => Ok(true),
            };
            match result {
                Ok(true) => hits.push(Hit {
                    entry: EntryId(e),
                    clause: self.clause_text(entry, clause, Source::Map(object)),
                    evaluated: entry.check.is_some(),
                    object: n,
                }),
                Ok(false) => {}
                Err(err) => errors.push((EntryId(e), err)),
            }
        }
        (hits, errors)
    }
}

/// How a candidate's clause is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clause {
    /// An exact entry's equality on this field (its value is the object's).
    Equal(u32),
    /// One of the entry's stored clauses.
    Stored(u32),
    /// The whole pattern (a fallback entry).
    Whole,
}

impl Clause {
    /// Which clause to report when several raised the same entry: an equality first.
    fn rank(self) -> u32 {
        match self {
            Clause::Equal(_) => 0,
            Clause::Stored(i) => 1 + i.min(u32::MAX - 2),
            Clause::Whole => u32::MAX,
        }
    }
}

/// What a lookup reads values from: a whole object, or a simple observable's type and value.
#[derive(Clone, Copy)]
enum Source<'a> {
    Map(&'a Map<String, Value>),
    /// `{"type": kind, "value": value}`.
    Simple(&'a str, &'a str),
    /// `{"type": "file", "hashes": {algorithm: digest}}`.
    Hash(&'a str, &'a str),
}

impl<'a> Source<'a> {
    fn kind(self) -> Option<&'a str> {
        match self {
            Source::Map(m) => get(m, "type").and_then(Value::as_str),
            Source::Simple(kind, _) => Some(kind),
            Source::Hash(..) => Some("file"),
        }
    }

    fn read(self, steps: &[String]) -> Option<&'a str> {
        match self {
            Source::Map(m) => read(m, steps),
            Source::Simple(_, value) => match steps {
                [only] if only == "value" => Some(value),
                _ => None,
            },
            Source::Hash(algorithm, digest) => match steps {
                [hashes, key] if hashes == "hashes" && key == algorithm => Some(digest),
                _ => None,
            },
        }
    }
}

/// The string at a path of plain properties, if there is one.
fn read<'a>(object: &'a Map<String, Value>, steps: &[String]) -> Option<&'a str> {
    let (first, rest) = steps.split_first()?;
    let mut cur = get(object, first)?;
    for step in rest {
        cur = get(cur.as_object()?, step)?;
    }
    cur.as_str()
}

/// A property of a small object, found by a scan of its keys: cheaper than the hashed lookup
/// of an order-preserving map for the handful of properties an observable has.
fn get<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if object.len() > 16 {
        return object.get(key);
    }
    object
        .iter()
        .find(|(k, _)| k.as_str() == key)
        .map(|(_, v)| v)
}

/// An address range as key bytes (length, then the network's octets) into `out`; returns
/// how many bytes were written.
fn net_into(addr: IpAddr, len: u8, out: &mut [u8; 17]) -> usize {
    out[0] = len;
    match addr {
        IpAddr::V4(a) => {
            out[1..5].copy_from_slice(&a.octets());
            5
        }
        IpAddr::V6(a) => {
            out[1..17].copy_from_slice(&a.octets());
            17
        }
    }
}

fn equal_clause(object_type: &str, steps: &[String], value: &str) -> String {
    use accord_pattern::{Comparison, Constant, ObjectPath, Operator, PathStep};
    Comparison {
        path: ObjectPath {
            object_type: object_type.to_owned(),
            steps: steps.iter().cloned().map(PathStep::Key).collect(),
        },
        negated: false,
        op: Operator::Eq,
        value: Constant::String(value.to_owned()),
    }
    .to_string()
}
