//! Evaluating a parsed pattern against observed data, with the semantics of the OASIS
//! reference matcher (`stix2-matcher`).
//!
//! Callers hand over [`Observation`]s: one per observed-data object, built either from the
//! STIX 2.1 form (`object_refs` naming SCOs given alongside, [`Observation::from_stix21`]) or
//! the STIX 2.0 form (an embedded `objects` dictionary keyed `"0"`, `"1"`…,
//! [`Observation::from_stix20`]). [`Matcher::new`] prepares a [`Pattern`] once (regular
//! expressions compiled, binary constants decoded, `IN` lists checked) and
//! [`Matcher::matches`] runs it.
//!
//! The evaluation follows the reference matcher's model of *bindings*:
//!
//! - Inside one observation (`[...]`) a comparison selects the objects of its type, walks the
//!   path from each (following `_ref`/`_refs` to other objects of the same observed-data) and
//!   holds for an object if *any* selected value passes. `AND` keeps the objects for which
//!   both sides hold — the same root object — and `OR` the objects for which either does.
//! - An observed-data with `number_observed = n` counts as `n` observations with the same
//!   interval `[first_observed, last_observed]`. A binding is a set of distinct observations,
//!   one per `[...]` of the pattern that took part: `AND` joins bindings that share no
//!   observation, `OR` takes either side, `FOLLOWEDBY` also requires that times can be chosen
//!   inside the intervals so the right side is not earlier than the left, `REPEATS n TIMES`
//!   needs `n` pairwise disjoint bindings, `WITHIN` that some window of that length touches
//!   every interval of the binding, and `START`/`STOP` that every interval meets
//!   `[start, stop)`. The pattern matches when at least one binding survives.
//!
//! Where this departs from the reference matcher (version 3.0.0):
//!
//! - `MATCHES` uses the `regex` crate's syntax, not Python's `re`: back-references and
//!   look-around are refused with [`EvalError::BadRegex`], and `$` matches only at the very
//!   end (Python's also matches before a final line feed). `LIKE` does follow Python there.
//! - Strings are compared as given: the reference matcher first puts `LIKE`/`MATCHES`
//!   operands into Unicode NFC, which needs tables this crate does not carry.
//! - `ISSUBSET`/`ISSUPERSET` also take IPv6 (the reference matcher only IPv4, and also reads
//!   abbreviated forms such as `10.1` that `std::net` refuses); a family mismatch is false.
//! - `EXISTS` (absent from the reference matcher) holds for an object when its path selects
//!   at least one value.
//! - An `_ref` in STIX 2.1 data resolves only among the SCOs named in `object_refs`.
//!
//! Bindings can multiply (`REPEATS` takes combinations), and observed data comes from others,
//! so the work is bounded: past [`MAX_BINDINGS`] intermediate bindings the evaluation stops
//! with [`EvalError::TooManyBindings`] rather than run away. Regular expressions use the
//! `regex` crate, which runs in time linear in the input, under size limits
//! ([`REGEX_SIZE_LIMIT`]), so `MATCHES` cannot be made to backtrack for ever.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use accord_stix::Timestamp;
use serde_json::{Map, Value};

use crate::ast::{
    Comparison, ComparisonExpr, Constant, ObjectPath, ObservationExpr, Operator, PathStep, Pattern,
    Qualifier,
};

/// Most intermediate bindings one evaluation may build before giving up.
pub const MAX_BINDINGS: usize = 100_000;
/// Size limit, in bytes, of a compiled `MATCHES` regular expression and of its lazy DFA cache.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Why a pattern could not be evaluated against the given data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// An observed-data object lacks a property the matcher needs, or has a bad value there.
    #[error("observed-data: {0}")]
    BadObservedData(String),
    /// A `MATCHES` regular expression that the `regex` crate cannot compile (for example a
    /// back-reference or look-around, which the reference matcher's Python `re` accepts).
    #[error("regular expression {pattern:?} is not supported: {reason}")]
    BadRegex {
        /// The regular expression.
        pattern: String,
        /// Why it was refused.
        reason: String,
    },
    /// A `MATCHES` regular expression whose compiled form exceeds [`REGEX_SIZE_LIMIT`].
    #[error("regular expression {pattern:?} is too large once compiled (limit {limit} bytes)")]
    RegexTooBig {
        /// The regular expression.
        pattern: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// A constant of a kind its operator does not take (trees built by hand can hold one;
    /// [`crate::parse`] never produces one).
    #[error("{0}")]
    WrongConstant(String),
    /// An `IN` list mixing kinds of constant (other than integers with floats).
    #[error("IN list mixes kinds of constant: {0}")]
    MixedList(String),
    /// A `b'…'` constant that is not valid base64.
    #[error("b'{0}' is not valid base64")]
    BadBase64(String),
    /// A value compared with a `t'…'` constant, or an observation time, that is not a STIX
    /// timestamp.
    #[error("not a timestamp: {0}")]
    BadTimestamp(String),
    /// An IP address or CIDR range (in the pattern or the data) that does not parse.
    #[error("not an IP address or CIDR range: {0}")]
    BadAddress(String),
    /// A `_hex` or `_bin` property whose value does not decode.
    #[error("property {0} does not hold valid hex or base64")]
    BadBinaryProperty(String),
    /// A `_ref` property that is not a string, or a `_refs` property that is not a list of
    /// strings.
    #[error("reference property {0} does not hold an id (or a list of ids)")]
    BadReference(String),
    /// The evaluation would build more than [`MAX_BINDINGS`] bindings.
    #[error("the pattern needs more than {0} intermediate bindings against this data")]
    TooManyBindings(usize),
}

/// One observed-data object, prepared for matching: its time interval, how many times it was
/// observed, and the cyber-observable objects it holds, keyed by the names references use.
/// It borrows the objects from the caller's data: preparing one copies nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation<'a> {
    /// `first_observed` and `last_observed`, in nanoseconds (only their order matters here,
    /// so the text is not kept).
    first: i128,
    last: i128,
    number_observed: u64,
    objects: Vec<(&'a str, &'a Value)>,
}

/// The object a reference names, among an observation's objects.
fn lookup<'a>(objects: &[(&'a str, &'a Value)], id: &str) -> Option<&'a Value> {
    objects.iter().find(|(k, _)| *k == id).map(|(_, v)| *v)
}

impl<'a> Observation<'a> {
    /// From the STIX 2.1 form: `sdo` is the observed-data object and `scos` maps ids to the
    /// SCOs it may name. The observation holds the SCOs named in `object_refs` that `scos`
    /// has (others are left out, as an unresolved reference is); `_ref` properties inside them
    /// resolve among those, by id.
    pub fn from_stix21(
        sdo: &Map<String, Value>,
        scos: &HashMap<&'a str, &'a Value>,
    ) -> Result<Self, EvalError> {
        Self::resolving(sdo, |id| scos.get_key_value(id).map(|(k, v)| (*k, *v)))
    }

    /// Every observed-data among a bundle's objects, in order: the STIX 2.1 form with its
    /// `object_refs` resolved among the other objects of the list, the 2.0 form with its
    /// embedded objects. A failure names the position of the observed-data in `objects`.
    ///
    /// This is [`Observation::from_stix21`] for a whole bundle, without the caller building
    /// a map: ids are sorted once and looked up by binary search, and each object's `type`
    /// and `id` are found by one scan of its (small) map instead of hashed lookups.
    pub fn all_in(objects: &'a [Value]) -> Result<Vec<Self>, (usize, EvalError)> {
        let mut by_id: Vec<(&'a str, &'a Value)> = Vec::with_capacity(objects.len());
        let mut sdos: Vec<(usize, &'a Map<String, Value>)> = Vec::with_capacity(objects.len());
        for (i, o) in objects.iter().enumerate() {
            let Some(map) = o.as_object() else { continue };
            let (mut ty, mut id) = (None, None);
            for (k, v) in map {
                match k.as_str() {
                    "type" => ty = v.as_str(),
                    "id" => id = v.as_str(),
                    _ => continue,
                }
                if ty.is_some() && id.is_some() {
                    break;
                }
            }
            if ty == Some("observed-data") {
                sdos.push((i, map));
            } else if let Some(id) = id {
                by_id.push((id, o));
            }
        }
        // Stable, so that of two objects with one id the later wins, as in a map built in
        // order.
        by_id.sort_by_key(|(k, _)| *k);
        let find = |id: &str| {
            let end = by_id.partition_point(|(k, _)| *k <= id);
            by_id[..end].last().filter(|(k, _)| *k == id).copied()
        };
        sdos.into_iter()
            .map(|(i, sdo)| {
                if sdo.contains_key("objects") && !sdo.contains_key("object_refs") {
                    Self::from_stix20(sdo)
                } else {
                    Self::resolving(sdo, find)
                }
                .map_err(|e| (i, e))
            })
            .collect()
    }

    fn resolving(
        sdo: &Map<String, Value>,
        find: impl Fn(&str) -> Option<(&'a str, &'a Value)>,
    ) -> Result<Self, EvalError> {
        let fields = Fields::of(sdo);
        let refs = fields
            .object_refs
            .and_then(Value::as_array)
            .ok_or_else(|| bad("object_refs is missing or not a list"))?;
        let mut objects: Vec<(&'a str, &'a Value)> = Vec::with_capacity(refs.len());
        for r in refs {
            let id = r
                .as_str()
                .ok_or_else(|| bad("object_refs holds a non-string"))?;
            if let Some(found) = find(id)
                && lookup(&objects, id).is_none()
            {
                objects.push(found);
            }
        }
        Self::with_fields(&fields, objects)
    }

    /// From the STIX 2.0 form: `sdo` is an observed-data object with an embedded `objects`
    /// dictionary, whose keys (`"0"`, `"1"`…) the `_ref` properties name.
    pub fn from_stix20(sdo: &'a Map<String, Value>) -> Result<Self, EvalError> {
        let objects = sdo
            .get("objects")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("objects is missing or not a dictionary"))?
            .iter()
            .map(|(k, v)| (k.as_str(), v))
            .collect();
        Self::with_fields(&Fields::of(sdo), objects)
    }

    /// From parts: an observation seen `number_observed` times between `first` and `last`,
    /// holding `objects` keyed by the names their references use. This is how a single
    /// observable seen at one moment becomes something a pattern can be evaluated against.
    pub fn new(
        first: Timestamp,
        last: Timestamp,
        number_observed: u64,
        objects: Vec<(&'a str, &'a Value)>,
    ) -> Result<Self, EvalError> {
        if first > last {
            return Err(bad("first_observed is later than last_observed"));
        }
        if number_observed == 0 {
            return Err(bad("number_observed must be an integer of at least 1"));
        }
        Ok(Observation {
            first: first.nanos(),
            last: last.nanos(),
            number_observed,
            objects,
        })
    }

    /// One observation of `objects`, seen once at `at`: how a single observable becomes
    /// something a pattern can be evaluated against.
    pub fn seen_once(at: &Timestamp, objects: Vec<(&'a str, &'a Value)>) -> Self {
        Observation {
            first: at.nanos(),
            last: at.nanos(),
            number_observed: 1,
            objects,
        }
    }

    fn with_fields(f: &Fields<'_>, objects: Vec<(&'a str, &'a Value)>) -> Result<Self, EvalError> {
        let time = |key: &str, v: Option<&Value>| -> Result<i128, EvalError> {
            let text = v
                .and_then(Value::as_str)
                .ok_or_else(|| bad(&format!("{key} is missing or not a string")))?;
            Timestamp::parse_nanos(text).map_err(|_| EvalError::BadTimestamp(text.to_owned()))
        };
        let first = time("first_observed", f.first_observed)?;
        let last = time("last_observed", f.last_observed)?;
        if first > last {
            return Err(bad("first_observed is later than last_observed"));
        }
        let number_observed = f
            .number_observed
            .and_then(Value::as_u64)
            .filter(|n| *n >= 1)
            .ok_or_else(|| bad("number_observed must be an integer of at least 1"))?;
        Ok(Observation {
            first,
            last,
            number_observed,
            objects,
        })
    }
}

/// The properties of an observed-data object the matcher reads, found in one pass over its
/// (small) map: cheaper than a hashed lookup per property.
#[derive(Default)]
struct Fields<'v> {
    first_observed: Option<&'v Value>,
    last_observed: Option<&'v Value>,
    number_observed: Option<&'v Value>,
    object_refs: Option<&'v Value>,
}

impl<'v> Fields<'v> {
    fn of(sdo: &'v Map<String, Value>) -> Self {
        let mut f = Fields::default();
        for (k, v) in sdo {
            match k.as_str() {
                "first_observed" => f.first_observed = Some(v),
                "last_observed" => f.last_observed = Some(v),
                "number_observed" => f.number_observed = Some(v),
                "object_refs" => f.object_refs = Some(v),
                _ => {}
            }
        }
        f
    }
}

fn bad(msg: &str) -> EvalError {
    EvalError::BadObservedData(msg.to_owned())
}

/// Whether `pattern` matches `observed`: [`Matcher::new`] then [`Matcher::matches`].
pub fn matches(pattern: &Pattern, observed: &[Observation]) -> Result<bool, EvalError> {
    Matcher::new(pattern)?.matches(observed)
}

/// A pattern prepared for evaluation, reusable against many sets of observations.
#[derive(Debug, Clone)]
pub struct Matcher {
    root: OExpr,
    /// Whether the pattern is `[...]` or an `OR` of such: [`Matcher::matches_single`].
    single: bool,
    /// How many observations one binding of the whole pattern can use at most.
    width: u64,
}

#[derive(Debug, Clone)]
enum OExpr {
    Obs(CExpr),
    And(Vec<OExpr>),
    Or(Vec<OExpr>),
    FollowedBy(Vec<OExpr>),
    Within(Box<OExpr>, i128),
    Repeats(Box<OExpr>, u64),
    StartStop(Box<OExpr>, Timestamp, Timestamp),
}

#[derive(Debug, Clone)]
enum CExpr {
    Test(ObjectPath, Test),
    Exists(ObjectPath),
    And(Vec<CExpr>),
    Or(Vec<CExpr>),
}

#[derive(Debug, Clone)]
struct Test {
    negated: bool,
    kind: TestKind,
}

#[derive(Debug, Clone)]
enum TestKind {
    Eq(Lit),
    Ne(Lit),
    Order(Operator, Lit),
    In(Vec<Lit>),
    Like(regex::Regex),
    Matches(regex::Regex, Option<regex::bytes::Regex>),
    IsSubset(Net),
    IsSuperset(String),
}

/// A constant, in the kinds the comparisons tell apart.
#[derive(Debug, Clone)]
enum Lit {
    Str(String),
    Int(i128),
    Float(f64),
    Bool(bool),
    Bytes(Vec<u8>),
    Time(Timestamp),
}

impl Matcher {
    /// Prepares `pattern`: compiles its regular expressions under the size limits, decodes
    /// its binary constants and checks its `IN` lists and CIDR constants.
    pub fn new(pattern: &Pattern) -> Result<Self, EvalError> {
        let root = prepare_obs(&pattern.expr)?;
        let width = width(&root);
        let single = is_single(&root);
        Ok(Matcher {
            root,
            single,
            width,
        })
    }

    /// Whether the pattern matches the observations.
    pub fn matches(&self, observed: &[Observation]) -> Result<bool, EvalError> {
        let mut ctx = Ctx {
            observed,
            expanded: Vec::new(),
            built: 0,
        };
        // An observed-data observed n times is n observations; a binding never holds more
        // observations than the pattern has `[...]` (times repeats), so more copies than
        // that cannot change the result.
        let copies = |o: &Observation| {
            usize::try_from(o.number_observed.min(self.width)).unwrap_or(usize::MAX)
        };
        if self.single {
            return self.matches_single(observed, copies);
        }
        for (i, o) in observed.iter().enumerate() {
            let copies = copies(o);
            if copies > MAX_BINDINGS.saturating_sub(ctx.expanded.len()) {
                return Err(EvalError::TooManyBindings(MAX_BINDINGS));
            }
            ctx.expanded.extend(std::iter::repeat_n(i, copies));
        }
        Ok(!ctx.bindings(&self.root)?.is_empty())
    }

    /// [`Matcher::matches`] for a pattern that is one observation expression or an `OR` of
    /// them (the common case): it matches when some observation satisfies some of them, so
    /// no bindings are built. Every observation is still evaluated and every binding the
    /// general path would build is still counted, so errors and limits are the same.
    fn matches_single(
        &self,
        observed: &[Observation],
        copies: impl Fn(&Observation) -> usize + Copy,
    ) -> Result<bool, EvalError> {
        let mut total = 0usize;
        for o in observed {
            total = total.saturating_add(copies(o));
            if total > MAX_BINDINGS {
                return Err(EvalError::TooManyBindings(MAX_BINDINGS));
            }
        }
        let mut built = 0usize;
        single_hits(&self.root, observed, copies, &mut built)?;
        Ok(built > 0)
    }
}

/// Whether a pattern is `[...]` or an `OR` of such (at any nesting).
fn is_single(e: &OExpr) -> bool {
    match e {
        OExpr::Obs(_) => true,
        OExpr::Or(items) => items.iter().all(is_single),
        _ => false,
    }
}

/// For a pattern [`is_single`]: adds to `built` the bindings the general evaluation would
/// build, in its order, stopping where it would stop.
fn single_hits(
    e: &OExpr,
    observed: &[Observation],
    copies: impl Fn(&Observation) -> usize + Copy,
    built: &mut usize,
) -> Result<(), EvalError> {
    match e {
        OExpr::Obs(c) => {
            let mut hits = 0usize;
            for o in observed {
                if holds(c, o)? {
                    hits = hits.saturating_add(copies(o));
                }
            }
            *built = built.saturating_add(hits);
            if *built > MAX_BINDINGS {
                return Err(EvalError::TooManyBindings(MAX_BINDINGS));
            }
            Ok(())
        }
        OExpr::Or(items) => {
            for item in items {
                single_hits(item, observed, copies, built)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn width(e: &OExpr) -> u64 {
    match e {
        OExpr::Obs(_) => 1,
        OExpr::And(v) | OExpr::Or(v) | OExpr::FollowedBy(v) => {
            v.iter().map(width).fold(0u64, u64::saturating_add)
        }
        OExpr::Within(e, _) | OExpr::StartStop(e, ..) => width(e),
        OExpr::Repeats(e, n) => width(e).saturating_mul(*n),
    }
}

fn prepare_obs(e: &ObservationExpr) -> Result<OExpr, EvalError> {
    let all = |v: &[ObservationExpr]| v.iter().map(prepare_obs).collect::<Result<Vec<_>, _>>();
    Ok(match e {
        ObservationExpr::Observation(c) => OExpr::Obs(prepare_cmp(c)?),
        ObservationExpr::And(v) => OExpr::And(all(v)?),
        ObservationExpr::Or(v) => OExpr::Or(all(v)?),
        ObservationExpr::FollowedBy(v) => OExpr::FollowedBy(all(v)?),
        ObservationExpr::Qualified(inner, qs) => {
            let mut out = prepare_obs(inner)?;
            for q in qs {
                out = match q {
                    Qualifier::Within(secs) => {
                        // Whole nanoseconds; the parser keeps the value positive and finite.
                        #[allow(clippy::cast_possible_truncation)]
                        let nanos = (secs * 1e9).round() as i128;
                        OExpr::Within(Box::new(out), nanos)
                    }
                    Qualifier::Repeats(n) => OExpr::Repeats(Box::new(out), *n),
                    Qualifier::StartStop(a, b) => {
                        OExpr::StartStop(Box::new(out), a.clone(), b.clone())
                    }
                };
            }
            out
        }
    })
}

fn prepare_cmp(e: &ComparisonExpr) -> Result<CExpr, EvalError> {
    let all = |v: &[ComparisonExpr]| v.iter().map(prepare_cmp).collect::<Result<Vec<_>, _>>();
    Ok(match e {
        ComparisonExpr::Comparison(c) => CExpr::Test(c.path.clone(), prepare_test(c)?),
        ComparisonExpr::Exists(p) => CExpr::Exists(p.clone()),
        ComparisonExpr::And(v) => CExpr::And(all(v)?),
        ComparisonExpr::Or(v) => CExpr::Or(all(v)?),
    })
}

fn prepare_test(c: &Comparison) -> Result<Test, EvalError> {
    let string = |what: &str| -> Result<String, EvalError> {
        match &c.value {
            Constant::String(s) => Ok(s.clone()),
            other => Err(EvalError::WrongConstant(format!(
                "{what} needs a string, not {other}"
            ))),
        }
    };
    let kind = match c.op {
        Operator::Eq => TestKind::Eq(lit(&c.value)?),
        Operator::Ne => TestKind::Ne(lit(&c.value)?),
        Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge => {
            TestKind::Order(c.op, lit(&c.value)?)
        }
        Operator::In => {
            let items = match &c.value {
                Constant::List(items) => items.iter().map(lit).collect::<Result<Vec<_>, _>>()?,
                other => vec![lit(other)?],
            };
            let kind = |l: &Lit| match l {
                Lit::Int(_) | Lit::Float(_) => 0,
                Lit::Str(_) => 1,
                Lit::Bool(_) => 2,
                Lit::Bytes(_) => 3,
                Lit::Time(_) => 4,
            };
            if items.windows(2).any(|w| kind(&w[0]) != kind(&w[1])) {
                return Err(EvalError::MixedList(c.value.to_string()));
            }
            TestKind::In(items)
        }
        Operator::Like => {
            let like = match &c.value {
                Constant::String(s) => s,
                other => {
                    return Err(EvalError::WrongConstant(format!(
                        "LIKE needs a string, not {other}"
                    )));
                }
            };
            TestKind::Like(compile(&like_to_regex(like), like)?)
        }
        Operator::Matches => {
            let re = match &c.value {
                Constant::String(s) => s,
                other => {
                    return Err(EvalError::WrongConstant(format!(
                        "MATCHES needs a string, not {other}"
                    )));
                }
            };
            let text = compile(re, re)?;
            // Binary values are searched with the same expression read byte for byte, when
            // every character of it is a byte (code point below 256).
            let bytes = if re.chars().all(|ch| u32::from(ch) < 256) {
                Some(compile_bytes(re)?)
            } else {
                None
            };
            TestKind::Matches(text, bytes)
        }
        Operator::IsSubset => {
            let s = string("ISSUBSET")?;
            TestKind::IsSubset(Net::parse(&s, true)?)
        }
        Operator::IsSuperset => {
            let s = string("ISSUPERSET")?;
            Net::parse(&s, false)?;
            TestKind::IsSuperset(s)
        }
    };
    Ok(Test {
        negated: c.negated,
        kind,
    })
}

fn lit(c: &Constant) -> Result<Lit, EvalError> {
    Ok(match c {
        Constant::String(s) => Lit::Str(s.clone()),
        Constant::Int(n) => Lit::Int(i128::from(*n)),
        Constant::Float(x) => Lit::Float(*x),
        Constant::Bool(b) => Lit::Bool(*b),
        Constant::Hex(b) => Lit::Bytes(b.clone()),
        Constant::Binary(s) => {
            Lit::Bytes(base64_decode(s).ok_or_else(|| EvalError::BadBase64(s.clone()))?)
        }
        Constant::Timestamp(t) => Lit::Time(t.clone()),
        Constant::List(_) => {
            return Err(EvalError::WrongConstant(format!(
                "a list is not allowed here: {c}"
            )));
        }
    })
}

/// `LIKE` as a regular expression: `%` any run, `_` any one character, anchored at both
/// ends. Like Python's `re.match(...$)` in the reference matcher, `.` does not match a line
/// feed and the end anchor also accepts one final line feed.
fn like_to_regex(like: &str) -> String {
    let mut out = String::from(r"\A");
    let mut buf = [0u8; 4];
    for ch in like.chars() {
        match ch {
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            _ => out.push_str(&regex::escape(ch.encode_utf8(&mut buf))),
        }
    }
    out.push_str(r"\n?\z");
    out
}

fn regex_error(source: &str, e: regex::Error) -> EvalError {
    match e {
        regex::Error::CompiledTooBig(limit) => EvalError::RegexTooBig {
            pattern: source.to_owned(),
            limit,
        },
        other => EvalError::BadRegex {
            pattern: source.to_owned(),
            reason: other.to_string(),
        },
    }
}

fn compile(re: &str, source: &str) -> Result<regex::Regex, EvalError> {
    regex::RegexBuilder::new(re)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| regex_error(source, e))
}

fn compile_bytes(re: &str) -> Result<regex::bytes::Regex, EvalError> {
    // Characters 128-255 stand for single bytes, so they are written as `\xHH` escapes of a
    // byte-oriented (non-Unicode) expression.
    let mut text = String::with_capacity(re.len());
    for ch in re.chars() {
        if ch.is_ascii() {
            text.push(ch);
        } else {
            text.push_str(&format!(r"\x{:02X}", u32::from(ch)));
        }
    }
    regex::bytes::RegexBuilder::new(&text)
        .unicode(false)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| regex_error(re, e))
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks(2)
        .map(|p| {
            let d = |c: u8| (c as char).to_digit(16);
            Some((d(p[0])? * 16 + d(p[1])?) as u8)
        })
        .collect()
}

/// An IPv4 or IPv6 network: address bits and prefix length.
#[derive(Debug, Clone, Copy)]
struct Net {
    v6: bool,
    addr: u128,
    prefix: u32,
}

impl Net {
    /// Parses `a.b.c.d/n` (or an IPv6 range); a bare address is a full-length prefix unless
    /// `need_prefix`.
    fn parse(s: &str, need_prefix: bool) -> Result<Net, EvalError> {
        let err = || EvalError::BadAddress(s.to_owned());
        let (ip, prefix) = match s.split_once('/') {
            Some((ip, p)) => {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err());
                }
                (ip, Some(p.parse::<u32>().map_err(|_| err())?))
            }
            None if need_prefix => return Err(err()),
            None => (s, None),
        };
        let (v6, addr, max) = match ip.parse::<IpAddr>().map_err(|_| err())? {
            IpAddr::V4(a) => (false, u128::from(u32::from(a)), 32),
            IpAddr::V6(a) => (true, u128::from(a), 128),
        };
        let prefix = prefix.unwrap_or(max);
        if prefix < 1 || prefix > max {
            return Err(err());
        }
        Ok(Net { v6, addr, prefix })
    }

    /// Whether `self` lies inside `outer`.
    fn within(self, outer: Net) -> bool {
        if self.v6 != outer.v6 || outer.prefix > self.prefix {
            return false;
        }
        let len = if outer.v6 { 128 } else { 32 };
        let shift = len - outer.prefix;
        (self.addr >> shift) == (outer.addr >> shift)
    }
}

/// A value selected by an object path.
#[derive(Debug, Clone)]
enum Val<'a> {
    Json(&'a Value),
    /// A `_hex` or `_bin` property, decoded.
    Bytes(Vec<u8>),
    /// The objects a `_refs` list resolves to.
    Refs(Vec<&'a Value>),
}

/// A number from JSON, kept integral when it is.
#[derive(Debug, Clone, Copy)]
enum Num {
    Int(i128),
    Float(f64),
}

fn json_num(n: &serde_json::Number) -> Option<Num> {
    if let Some(i) = n.as_i64() {
        Some(Num::Int(i128::from(i)))
    } else if let Some(u) = n.as_u64() {
        Some(Num::Int(i128::from(u)))
    } else {
        n.as_f64().map(Num::Float)
    }
}

#[allow(clippy::cast_precision_loss)]
fn num_cmp(a: Num, b: Num) -> Option<Ordering> {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
        (Num::Int(x), Num::Float(y)) => (x as f64).partial_cmp(&y),
        (Num::Float(x), Num::Int(y)) => x.partial_cmp(&(y as f64)),
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(&y),
    }
}

fn lit_num(l: &Lit) -> Option<Num> {
    match l {
        Lit::Int(i) => Some(Num::Int(*i)),
        Lit::Float(x) => Some(Num::Float(*x)),
        _ => None,
    }
}

/// A string's code points as bytes, when all are below 256 (the spec's rule for comparing a
/// string with binary data).
fn latin1(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

/// Outcome of ordering a value against a constant.
enum Order {
    /// No ordering is defined between these kinds of value.
    Undefined,
    /// A string that cannot be read as bytes was compared with bytes.
    Refused,
    Is(Ordering),
}

fn as_time(v: &Val<'_>) -> Result<Option<Timestamp>, EvalError> {
    match v {
        Val::Json(Value::String(s)) => Timestamp::parse(s)
            .map(Some)
            .map_err(|_| EvalError::BadTimestamp(s.clone())),
        _ => Ok(None),
    }
}

fn order(v: &Val<'_>, l: &Lit) -> Result<Order, EvalError> {
    if let Lit::Time(t) = l {
        return Ok(match as_time(v)? {
            Some(vt) => Order::Is(vt.cmp(t)),
            None => Order::Undefined,
        });
    }
    Ok(match (v, l) {
        (Val::Json(Value::Number(n)), _) => match (json_num(n), lit_num(l)) {
            (Some(a), Some(b)) => num_cmp(a, b).map_or(Order::Undefined, Order::Is),
            _ => Order::Undefined,
        },
        (Val::Json(Value::String(s)), Lit::Str(c)) => Order::Is(s.as_str().cmp(c.as_str())),
        (Val::Json(Value::String(s)), Lit::Bytes(b)) => match latin1(s) {
            Some(sb) => Order::Is(sb.cmp(b)),
            None => Order::Refused,
        },
        (Val::Bytes(b), Lit::Bytes(c)) => Order::Is(b.cmp(c)),
        (Val::Bytes(b), Lit::Str(s)) => match latin1(s) {
            Some(sb) => Order::Is(b.cmp(&sb)),
            None => Order::Refused,
        },
        _ => Order::Undefined,
    })
}

fn equal(v: &Val<'_>, l: &Lit) -> Result<bool, EvalError> {
    Ok(match (v, l) {
        (Val::Json(Value::Bool(a)), Lit::Bool(b)) => a == b,
        (_, Lit::Bool(_)) => false,
        _ => matches!(order(v, l)?, Order::Is(Ordering::Equal)),
    })
}

/// Membership as Python's `in` on a set decides it: no string/bytes coercion, and a JSON
/// boolean equals the integer 1 or 0.
fn member(v: &Val<'_>, set: &[Lit]) -> Result<bool, EvalError> {
    let timestamps = matches!(set.first(), Some(Lit::Time(_)));
    let vt = if timestamps { as_time(v)? } else { None };
    Ok(set.iter().any(|l| match (v, l) {
        (_, Lit::Time(t)) => vt.as_ref() == Some(t),
        (Val::Json(Value::String(s)), Lit::Str(c)) => s == c,
        (Val::Bytes(b), Lit::Bytes(c)) => b == c,
        (Val::Json(Value::Bool(a)), Lit::Bool(b)) => a == b,
        (Val::Json(Value::Bool(a)), _) => {
            lit_num(l).and_then(|n| num_cmp(Num::Int(i128::from(*a)), n)) == Some(Ordering::Equal)
        }
        (Val::Json(Value::Number(n)), Lit::Bool(b)) => {
            json_num(n).and_then(|x| num_cmp(x, Num::Int(i128::from(*b)))) == Some(Ordering::Equal)
        }
        (Val::Json(Value::Number(n)), _) => match (json_num(n), lit_num(l)) {
            (Some(a), Some(b)) => num_cmp(a, b) == Some(Ordering::Equal),
            _ => false,
        },
        _ => false,
    }))
}

impl Test {
    /// Whether one selected value passes. `NOT` inverts the result, except that an ordering
    /// (`<`, `>=`...) between kinds of value that have none is false with or without `NOT`,
    /// as in the reference matcher.
    fn passes(&self, v: &Val<'_>) -> Result<bool, EvalError> {
        let base = match &self.kind {
            TestKind::Eq(l) => equal(v, l)?,
            TestKind::Ne(l) => !equal(v, l)?,
            TestKind::Order(op, l) => match order(v, l)? {
                Order::Undefined => return Ok(false),
                Order::Refused => false,
                Order::Is(o) => match op {
                    Operator::Lt => o.is_lt(),
                    Operator::Le => o.is_le(),
                    Operator::Gt => o.is_gt(),
                    _ => o.is_ge(),
                },
            },
            TestKind::In(set) => member(v, set)?,
            TestKind::Like(re) => match v {
                Val::Json(Value::String(s)) => re.is_match(s),
                Val::Bytes(b) => std::str::from_utf8(b).is_ok_and(|s| re.is_match(s)),
                _ => false,
            },
            TestKind::Matches(re, bytes) => match (v, bytes) {
                (Val::Json(Value::String(s)), _) => re.is_match(s),
                (Val::Bytes(b), Some(bre)) => bre.is_match(b),
                _ => false,
            },
            TestKind::IsSubset(outer) => match v {
                Val::Json(Value::String(s)) => Net::parse(s, false)?.within(*outer),
                _ => false,
            },
            TestKind::IsSuperset(inner) => match v {
                Val::Json(Value::String(s)) => {
                    Net::parse(inner, false)?.within(Net::parse(s, true)?)
                }
                _ => false,
            },
        };
        Ok(base != self.negated)
    }
}

/// Walks `steps` from `root`, resolving references among `objects`.
fn select<'a>(
    root: &'a Value,
    steps: &[PathStep],
    objects: &[(&'a str, &'a Value)],
) -> Result<Vec<Val<'a>>, EvalError> {
    let mut cur = vec![Val::Json(root)];
    for step in steps {
        let mut next = Vec::new();
        match step {
            PathStep::Key(k) => {
                for v in &cur {
                    let Val::Json(Value::Object(m)) = v else {
                        continue;
                    };
                    let Some(child) = m.get(k) else { continue };
                    if k.ends_with("_hex") || k.ends_with("_bin") {
                        let decoded = child.as_str().and_then(|s| {
                            if k.ends_with("_hex") {
                                hex_decode(s)
                            } else {
                                base64_decode(s)
                            }
                        });
                        next.push(Val::Bytes(
                            decoded.ok_or_else(|| EvalError::BadBinaryProperty(k.clone()))?,
                        ));
                    } else if k.ends_with("_ref") {
                        let id = child
                            .as_str()
                            .ok_or_else(|| EvalError::BadReference(k.clone()))?;
                        if let Some(o) = lookup(objects, id) {
                            next.push(Val::Json(o));
                        }
                    } else if k.ends_with("_refs") {
                        let ids = child
                            .as_array()
                            .ok_or_else(|| EvalError::BadReference(k.clone()))?;
                        let mut found = Vec::new();
                        for id in ids {
                            let id = id
                                .as_str()
                                .ok_or_else(|| EvalError::BadReference(k.clone()))?;
                            if let Some(o) = lookup(objects, id) {
                                found.push(o);
                            }
                        }
                        if !found.is_empty() {
                            next.push(Val::Refs(found));
                        }
                    } else {
                        next.push(Val::Json(child));
                    }
                }
            }
            PathStep::Index(i) => {
                for v in &cur {
                    // A negative index selects nothing, as in the reference matcher.
                    let pick = |len: usize| usize::try_from(*i).ok().filter(|n| *n < len);
                    match v {
                        Val::Json(Value::Array(a)) => {
                            if let Some(n) = pick(a.len()) {
                                next.push(Val::Json(&a[n]));
                            }
                        }
                        Val::Refs(r) => {
                            if let Some(n) = pick(r.len()) {
                                next.push(Val::Json(r[n]));
                            }
                        }
                        _ => {}
                    }
                }
            }
            PathStep::AnyIndex => {
                for v in &cur {
                    match v {
                        Val::Json(Value::Array(a)) => next.extend(a.iter().map(Val::Json)),
                        Val::Refs(r) => next.extend(r.iter().map(|o| Val::Json(o))),
                        _ => {}
                    }
                }
            }
        }
        cur = next;
        if cur.is_empty() {
            break;
        }
    }
    Ok(cur)
}

/// The objects of `path`'s type in `obs`, by key.
fn roots<'a, 'p>(
    obs: &'a Observation,
    path: &'p ObjectPath,
) -> impl Iterator<Item = (&'a str, &'a Value)> + use<'a, 'p> {
    let ty = path.object_type.as_str();
    obs.objects
        .iter()
        .filter_map(move |(k, o)| (type_of(o) == Some(ty)).then_some((*k, *o)))
}

/// An object's `type`, found by a scan of its keys (`type` usually comes first; a scan of a
/// small map is cheaper than a hashed lookup).
fn type_of(o: &Value) -> Option<&str> {
    o.as_object()?
        .iter()
        .find(|(k, _)| k.as_str() == "type")
        .and_then(|(_, v)| v.as_str())
}

/// Whether `e` holds for some root object in `obs`: `!eval_cmp(e, obs)?.is_empty()`, with
/// the same evaluations (so the same errors), without building the sets where it need not.
fn holds(e: &CExpr, obs: &Observation) -> Result<bool, EvalError> {
    match e {
        CExpr::Test(path, test) => {
            let mut any = false;
            // One plain property (`url:value`): what `select` would give, without its lists.
            if let [PathStep::Key(k)] = path.steps.as_slice()
                && !(k.ends_with("_hex")
                    || k.ends_with("_bin")
                    || k.ends_with("_ref")
                    || k.ends_with("_refs"))
            {
                for (_, o) in roots(obs, path) {
                    let child = o
                        .as_object()
                        .and_then(|m| m.iter().find(|(key, _)| *key == k))
                        .map(|(_, v)| v);
                    if let Some(child) = child
                        && test.passes(&Val::Json(child))?
                    {
                        any = true;
                    }
                }
                return Ok(any);
            }
            for (_, o) in roots(obs, path) {
                for v in select(o, &path.steps, &obs.objects)? {
                    if test.passes(&v)? {
                        any = true;
                        break;
                    }
                }
            }
            Ok(any)
        }
        CExpr::Or(items) => {
            let mut any = false;
            for item in items {
                any |= holds(item, obs)?;
            }
            Ok(any)
        }
        CExpr::Exists(_) | CExpr::And(_) => Ok(!eval_cmp(e, obs)?.is_empty()),
    }
}

/// The keys of the root objects for which `e` holds in `obs`.
fn eval_cmp<'a>(e: &CExpr, obs: &'a Observation) -> Result<BTreeSet<&'a str>, EvalError> {
    Ok(match e {
        CExpr::Test(path, test) => {
            let mut out = BTreeSet::new();
            for (key, o) in roots(obs, path) {
                for v in select(o, &path.steps, &obs.objects)? {
                    if test.passes(&v)? {
                        out.insert(key);
                        break;
                    }
                }
            }
            out
        }
        CExpr::Exists(path) => {
            let mut out = BTreeSet::new();
            for (key, o) in roots(obs, path) {
                if !select(o, &path.steps, &obs.objects)?.is_empty() {
                    out.insert(key);
                }
            }
            out
        }
        CExpr::And(items) => {
            let mut acc: Option<BTreeSet<&str>> = None;
            for item in items {
                let s = eval_cmp(item, obs)?;
                let next = match acc {
                    None => s,
                    Some(a) => a.intersection(&s).copied().collect(),
                };
                if next.is_empty() {
                    return Ok(next);
                }
                acc = Some(next);
            }
            acc.unwrap_or_default()
        }
        CExpr::Or(items) => {
            let mut out = BTreeSet::new();
            for item in items {
                out.extend(eval_cmp(item, obs)?);
            }
            out
        }
    })
}

/// A binding: the (expanded) observations bound, in pattern order.
type Binding = Vec<usize>;

struct Ctx<'o> {
    observed: &'o [Observation<'o>],
    /// Expanded observation index → index into `observed`.
    expanded: Vec<usize>,
    built: usize,
}

fn disjoint(a: &[usize], b: &[usize]) -> bool {
    a.iter().all(|x| !b.contains(x))
}

impl Ctx<'_> {
    fn interval(&self, i: usize) -> (i128, i128) {
        let o = &self.observed[self.expanded[i]];
        (o.first, o.last)
    }

    fn count(&mut self, n: usize) -> Result<(), EvalError> {
        self.built = self.built.saturating_add(n);
        if self.built > MAX_BINDINGS {
            return Err(EvalError::TooManyBindings(MAX_BINDINGS));
        }
        Ok(())
    }

    fn bindings(&mut self, e: &OExpr) -> Result<Vec<Binding>, EvalError> {
        match e {
            OExpr::Obs(c) => {
                let mut hit = Vec::with_capacity(self.observed.len());
                for o in self.observed {
                    hit.push(holds(c, o)?);
                }
                let out: Vec<Binding> = (0..self.expanded.len())
                    .filter(|i| hit[self.expanded[*i]])
                    .map(|i| vec![i])
                    .collect();
                self.count(out.len())?;
                Ok(out)
            }
            OExpr::Or(items) => {
                let mut out = Vec::new();
                for item in items {
                    out.extend(self.bindings(item)?);
                }
                Ok(out)
            }
            OExpr::And(items) | OExpr::FollowedBy(items) => {
                let followed = matches!(e, OExpr::FollowedBy(_));
                let mut acc: Option<Vec<Binding>> = None;
                for item in items {
                    let rhs = self.bindings(item)?;
                    let Some(lhs) = acc else {
                        acc = Some(rhs);
                        continue;
                    };
                    let mut joined = Vec::new();
                    for l in &lhs {
                        let latest_first = l.iter().map(|i| self.interval(*i).0).max();
                        for r in &rhs {
                            if !disjoint(l, r) {
                                continue;
                            }
                            if followed {
                                let earliest_last = r.iter().map(|i| self.interval(*i).1).min();
                                if latest_first > earliest_last {
                                    continue;
                                }
                            }
                            self.count(1)?;
                            joined.push([l.as_slice(), r.as_slice()].concat());
                        }
                    }
                    acc = Some(joined);
                }
                Ok(acc.unwrap_or_default())
            }
            OExpr::Within(inner, nanos) => {
                let all = self.bindings(inner)?;
                Ok(all.into_iter().filter(|b| self.within(b, *nanos)).collect())
            }
            OExpr::StartStop(inner, start, stop) => {
                let all = self.bindings(inner)?;
                if start >= stop {
                    return Ok(Vec::new());
                }
                let (start, stop) = (start.nanos(), stop.nanos());
                Ok(all
                    .into_iter()
                    .filter(|b| {
                        b.iter().all(|i| {
                            let (f, l) = self.interval(*i);
                            // The interval meets [start, stop): it overlaps, or touches only
                            // at `start`, but not only at `stop`.
                            f < stop && start <= l
                        })
                    })
                    .collect())
            }
            OExpr::Repeats(inner, n) => {
                let all = self.bindings(inner)?;
                let n = usize::try_from(*n).unwrap_or(usize::MAX);
                if n <= 1 {
                    return Ok(all);
                }
                let mut out = Vec::new();
                let mut chosen = Vec::new();
                self.combos(&all, 0, n, &mut chosen, &mut out)?;
                Ok(out)
            }
        }
    }

    /// Every way to pick `n` pairwise disjoint bindings from `all[from..]`, in order, each
    /// flattened into one binding.
    fn combos(
        &mut self,
        all: &[Binding],
        from: usize,
        n: usize,
        chosen: &mut Vec<usize>,
        out: &mut Vec<Binding>,
    ) -> Result<(), EvalError> {
        if n == 0 {
            self.count(1)?;
            out.push(chosen.clone());
            return Ok(());
        }
        for j in from..all.len() {
            if all.len() - j < n {
                break;
            }
            if !disjoint(&all[j], chosen) {
                continue;
            }
            self.count(1)?;
            let keep = chosen.len();
            chosen.extend_from_slice(&all[j]);
            self.combos(all, j + 1, n - 1, chosen, out)?;
            chosen.truncate(keep);
        }
        Ok(())
    }

    /// Whether a window of `nanos` starting at the earliest `last_observed` of the binding
    /// meets every interval of it (closed intervals, touching counts).
    fn within(&self, b: &[usize], nanos: i128) -> bool {
        let Some(earliest_last) = b.iter().map(|i| self.interval(*i).1).min() else {
            return true;
        };
        let end = earliest_last.saturating_add(nanos);
        b.iter().all(|i| {
            let (f, l) = self.interval(*i);
            f <= end && earliest_last <= l
        })
    }
}
