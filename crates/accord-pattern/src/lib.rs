//! STIX 2.1 patterning for Accord: the parser, validator and evaluator of indicator patterns.
//!
//! An indicator's `pattern` (STIX 2.1 section 9) is text such as
//! `[file:hashes.'SHA-256' = '…'] FOLLOWEDBY [domain-name:value = 'example.com'] WITHIN 600 SECONDS`.
//! [`parse`] turns it into a [`Pattern`] tree, or rejects it with a [`PatternError`] that
//! names the byte offset and says what to write instead. The grammar is that of the OASIS
//! `STIXPattern.g4`, keywords are case-sensitive as there, and on top of the grammar the
//! parser enforces the rules the grammar cannot express: object types are STIX type names,
//! comparisons joined by `AND` inside one observation are about one object type, constants
//! suit their operators (`LIKE` takes a string, `IN` a list, `<` no boolean), and a
//! qualifier kind appears at most once per observation expression.
//!
//! Patterns come from publishers we do not control, so parsing is bounded: a pattern longer
//! than [`Limits::max_len`] or nested deeper than [`Limits::max_depth`] is rejected up front
//! rather than exhausting memory or the stack.
//!
//! The [`Display`](std::fmt::Display) of a [`Pattern`] is its canonical text, which parses
//! back to the same tree: one spelling per operator, only the parentheses that matter,
//! bare property names where the grammar allows them.
//!
//! [`matches()`] (or a reusable [`Matcher`]) evaluates a pattern against observed data
//! ([`Observation`]s built from STIX 2.1 or 2.0 observed-data), with the semantics of the OASIS
//! reference matcher; module [`eval`] says how, and where it departs from that matcher.
//!
//! Not here yet: compiling patterns to index keys for the matcher.

pub mod ast;
pub mod error;
pub mod eval;
mod lex;
mod parse;

pub use ast::{
    Comparison, ComparisonExpr, Constant, ObjectPath, ObservationExpr, Operator, PathStep, Pattern,
    Qualifier,
};
pub use error::{ErrorKind, PatternError};
pub use eval::{EvalError, Matcher, Observation, matches};

/// Bounds on the input the parser accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum pattern length in bytes.
    pub max_len: usize,
    /// Maximum nesting of `[`, `(` and list parentheses.
    pub max_depth: usize,
}

/// The default maximum pattern length: 64 KiB.
pub const MAX_LEN: usize = 64 * 1024;
/// The default maximum nesting depth.
pub const MAX_DEPTH: usize = 64;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_len: MAX_LEN,
            max_depth: MAX_DEPTH,
        }
    }
}

/// Parses and validates a pattern with the default [`Limits`].
pub fn parse(pattern: &str) -> Result<Pattern, PatternError> {
    parse_with(pattern, Limits::default())
}

/// Parses and validates a pattern with the given limits.
pub fn parse_with(pattern: &str, limits: Limits) -> Result<Pattern, PatternError> {
    if pattern.len() > limits.max_len {
        return Err(PatternError::new(
            limits.max_len,
            ErrorKind::TooLong {
                len: pattern.len(),
                max: limits.max_len,
            },
        ));
    }
    parse::Parser::new(pattern, limits)?.pattern()
}

impl std::str::FromStr for Pattern {
    type Err = PatternError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}
