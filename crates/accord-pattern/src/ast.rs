//! The syntax tree of a STIX pattern, and its canonical text.
//!
//! Chains of one operator (`a AND b AND c`) are kept as one n-ary node, so that the depth of
//! the tree grows only with parentheses, which the parser bounds: walking a tree never
//! overflows the stack however long the pattern. Parentheses themselves are not nodes; the
//! [`Display`](std::fmt::Display) impls put back exactly those needed for the text to parse
//! to the same tree.

use std::fmt::{self, Write as _};

use accord_stix::Timestamp;

/// A whole pattern: one observation expression, possibly compound.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// The top-level expression.
    pub expr: ObservationExpr,
}

/// An observation expression: `[ ... ]`, observations combined, or a qualified one.
#[derive(Debug, Clone, PartialEq)]
pub enum ObservationExpr {
    /// `[ comparison-expression ]`.
    Observation(ComparisonExpr),
    /// `a AND b AND ...` (two or more operands).
    And(Vec<ObservationExpr>),
    /// `a OR b OR ...` (two or more operands).
    Or(Vec<ObservationExpr>),
    /// `a FOLLOWEDBY b FOLLOWEDBY ...` (two or more operands).
    FollowedBy(Vec<ObservationExpr>),
    /// An expression with one or more qualifiers, in the order written, at most one of each kind.
    Qualified(Box<ObservationExpr>, Vec<Qualifier>),
}

/// A qualifier on an observation expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Qualifier {
    /// `WITHIN n SECONDS`; `n` is positive and may have a fraction.
    Within(f64),
    /// `REPEATS n TIMES`; `n` is positive.
    Repeats(u64),
    /// `START t'…' STOP t'…'`.
    StartStop(Timestamp, Timestamp),
}

/// The inside of an observation: comparisons joined by `AND` (binding tighter) and `OR`.
#[derive(Debug, Clone, PartialEq)]
pub enum ComparisonExpr {
    /// One comparison.
    Comparison(Comparison),
    /// `EXISTS path`.
    Exists(ObjectPath),
    /// `a AND b AND ...` (two or more operands), all about one object type.
    And(Vec<ComparisonExpr>),
    /// `a OR b OR ...` (two or more operands).
    Or(Vec<ComparisonExpr>),
}

/// `path [NOT] op constant`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// What is compared.
    pub path: ObjectPath,
    /// `NOT` before the operator.
    pub negated: bool,
    /// The operator.
    pub op: Operator,
    /// The constant; a [`Constant::List`] exactly when `op` is [`Operator::In`].
    pub value: Constant,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operator {
    /// `=` (also written `==`).
    Eq,
    /// `!=` (also written `<>`).
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `IN (…)`.
    In,
    /// `LIKE` (SQL-style `%` and `_`).
    Like,
    /// `MATCHES` (a PCRE regular expression).
    Matches,
    /// `ISSUBSET` (an IP address is inside a CIDR range).
    IsSubset,
    /// `ISSUPERSET` (a CIDR range contains an IP address).
    IsSuperset,
}

impl Operator {
    /// The operator as written in canonical form.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Eq => "=",
            Operator::Ne => "!=",
            Operator::Lt => "<",
            Operator::Le => "<=",
            Operator::Gt => ">",
            Operator::Ge => ">=",
            Operator::In => "IN",
            Operator::Like => "LIKE",
            Operator::Matches => "MATCHES",
            Operator::IsSubset => "ISSUBSET",
            Operator::IsSuperset => "ISSUPERSET",
        }
    }
}

/// `type:step.step[0]...`: an object type and at least one step, the first a property name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectPath {
    /// The STIX object type, e.g. `file`.
    pub object_type: String,
    /// The steps into the object; never empty, and the first is a [`PathStep::Key`].
    pub steps: Vec<PathStep>,
}

/// One step of an object path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// A property or dictionary key: `.name` or `.'quoted-key'`.
    Key(String),
    /// A list index, `[0]`; negative counts from the end.
    Index(i64),
    /// Any list element, `[*]`.
    AnyIndex,
}

impl PathStep {
    /// Whether this step follows a reference (`..._ref`) or a list of them (`..._refs`) to
    /// another object, as `network-traffic:dst_ref.value` does.
    pub fn is_reference(&self) -> bool {
        matches!(self, PathStep::Key(k) if k.ends_with("_ref") || k.ends_with("_refs"))
    }
}

/// A constant on the right of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Constant {
    /// `'text'` (already unescaped).
    String(String),
    /// An integer.
    Int(i64),
    /// A number with a decimal point.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `h'…'`, decoded.
    Hex(Vec<u8>),
    /// `b'…'`: the base64 text, validated but not decoded.
    Binary(String),
    /// `t'…'`.
    Timestamp(Timestamp),
    /// `( a, b, … )`, for `IN`; never nested.
    List(Vec<Constant>),
}

/// Words that the lexer treats as keywords, so they cannot be bare property names.
pub(crate) const KEYWORDS: &[&str] = &[
    "AND",
    "OR",
    "NOT",
    "FOLLOWEDBY",
    "LIKE",
    "MATCHES",
    "ISSUPERSET",
    "ISSUBSET",
    "EXISTS",
    "LAST",
    "IN",
    "START",
    "STOP",
    "SECONDS",
    "true",
    "false",
    "WITHIN",
    "REPEATS",
    "TIMES",
];

/// Whether `key` can be written without quotes in an object path.
pub(crate) fn is_bare_key(key: &str) -> bool {
    let mut bytes = key.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !KEYWORDS.contains(&key)
}

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('\'')?;
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('\'')
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.expr.fmt(f)
    }
}

/// Binding strength of observation operators: FOLLOWEDBY < OR < AND < qualified/primary.
fn obs_rank(e: &ObservationExpr) -> u8 {
    match e {
        ObservationExpr::FollowedBy(_) => 0,
        ObservationExpr::Or(_) => 1,
        ObservationExpr::And(_) => 2,
        ObservationExpr::Qualified(..) => 3,
        ObservationExpr::Observation(_) => 4,
    }
}

fn write_obs_operand(f: &mut fmt::Formatter<'_>, e: &ObservationExpr, min: u8) -> fmt::Result {
    if obs_rank(e) < min {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

fn write_obs_chain(
    f: &mut fmt::Formatter<'_>,
    items: &[ObservationExpr],
    op: &str,
    rank: u8,
) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            write!(f, " {op} ")?;
        }
        // An operand with the same operator was parenthesised in the source (the parser
        // flattens unparenthesised chains), so it keeps its parentheses.
        write_obs_operand(f, item, rank + 1)?;
    }
    Ok(())
}

impl fmt::Display for ObservationExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObservationExpr::Observation(c) => write!(f, "[{c}]"),
            ObservationExpr::And(items) => write_obs_chain(f, items, "AND", 2),
            ObservationExpr::Or(items) => write_obs_chain(f, items, "OR", 1),
            ObservationExpr::FollowedBy(items) => write_obs_chain(f, items, "FOLLOWEDBY", 0),
            ObservationExpr::Qualified(inner, qualifiers) => {
                write_obs_operand(f, inner, 4)?;
                for q in qualifiers {
                    write!(f, " {q}")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Qualifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Qualifier::Within(s) => {
                f.write_str("WITHIN ")?;
                write_number(f, *s, false)?;
                f.write_str(" SECONDS")
            }
            Qualifier::Repeats(n) => write!(f, "REPEATS {n} TIMES"),
            Qualifier::StartStop(a, b) => write!(f, "START t'{a}' STOP t'{b}'"),
        }
    }
}

fn cmp_rank(e: &ComparisonExpr) -> u8 {
    match e {
        ComparisonExpr::Or(_) => 0,
        ComparisonExpr::And(_) => 1,
        ComparisonExpr::Comparison(_) | ComparisonExpr::Exists(_) => 2,
    }
}

impl fmt::Display for ComparisonExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (items, op, rank) = match self {
            ComparisonExpr::Comparison(c) => return c.fmt(f),
            ComparisonExpr::Exists(p) => return write!(f, "EXISTS {p}"),
            ComparisonExpr::And(items) => (items, "AND", 1),
            ComparisonExpr::Or(items) => (items, "OR", 0),
        };
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                write!(f, " {op} ")?;
            }
            if cmp_rank(item) <= rank {
                write!(f, "({item})")?;
            } else {
                write!(f, "{item}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let not = if self.negated { "NOT " } else { "" };
        write!(f, "{} {not}{} {}", self.path, self.op.as_str(), self.value)
    }
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.object_type)?;
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Key(k) => {
                    if i > 0 {
                        f.write_char('.')?;
                    }
                    if is_bare_key(k) {
                        f.write_str(k)?;
                    } else {
                        write_quoted(f, k)?;
                    }
                }
                PathStep::Index(n) => write!(f, "[{n}]")?,
                PathStep::AnyIndex => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

/// Writes a float so that it reads back as the same number: with a decimal point when
/// `force_point` (a float constant, so `7.0` stays a float), else as a whole number when it is
/// one small enough to read back as an integer (`WITHIN 5 SECONDS`).
fn write_number(f: &mut fmt::Formatter<'_>, x: f64, force_point: bool) -> fmt::Result {
    let text = format!("{x}");
    f.write_str(&text)?;
    let whole_ok = !force_point && x.abs() < 1e15;
    if !whole_ok && !text.contains('.') {
        f.write_str(".0")?;
    }
    Ok(())
}

impl fmt::Display for Constant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Constant::String(s) => write_quoted(f, s),
            Constant::Int(n) => write!(f, "{n}"),
            Constant::Float(x) => write_number(f, *x, true),
            Constant::Bool(b) => write!(f, "{b}"),
            Constant::Hex(bytes) => {
                f.write_str("h'")?;
                for b in bytes {
                    write!(f, "{b:02x}")?;
                }
                f.write_char('\'')
            }
            Constant::Binary(s) => write!(f, "b'{s}'"),
            Constant::Timestamp(t) => write!(f, "t'{t}'"),
            Constant::List(items) => {
                f.write_char('(')?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    item.fmt(f)?;
                }
                f.write_char(')')
            }
        }
    }
}
