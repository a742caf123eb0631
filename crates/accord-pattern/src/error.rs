//! Parse errors: every one carries the byte offset where the problem is, so that a person
//! can find it in a long pattern, and a message that says what to write instead.

/// Why a pattern was rejected, and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("at {at}: {kind}")]
pub struct PatternError {
    /// Byte offset into the pattern text.
    pub at: usize,
    /// What is wrong.
    pub kind: ErrorKind,
}

impl PatternError {
    pub(crate) fn new(at: usize, kind: ErrorKind) -> Self {
        PatternError { at, kind }
    }
}

/// What is wrong with a pattern.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The pattern is longer than the configured maximum (see [`crate::Limits`]).
    #[error("the pattern is {len} bytes long; the limit is {max}")]
    TooLong {
        /// Length of the pattern in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Brackets and parentheses nest deeper than the configured maximum.
    #[error("brackets and parentheses nest more than {max} deep")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// A character that cannot start any token.
    #[error("unexpected character {0:?}")]
    UnexpectedChar(char),
    /// A `'` string (or `h'`, `b'`, `t'` constant) with no closing quote.
    #[error("string constant is not closed: add a ' at the end")]
    UnterminatedString,
    /// A `/*` comment with no closing `*/`.
    #[error("comment is not closed: add */ at the end")]
    UnterminatedComment,
    /// A backslash in a string followed by something other than `'` or `\`.
    #[error("only \\' and \\\\ may follow a backslash in a string; write \\\\ for a backslash")]
    BadEscape,
    /// `h'…'` holding something other than pairs of hex digits.
    #[error("h'…' must hold an even number of hex digits")]
    BadHex,
    /// `b'…'` holding something other than padded base64.
    #[error("b'…' must hold padded base64 (A-Z, a-z, 0-9, +, / and trailing =)")]
    BadBase64,
    /// `t'…'` holding something other than an RFC 3339 UTC timestamp.
    #[error("t'…' is not an RFC 3339 timestamp: {0}")]
    BadTimestamp(String),
    /// A malformed or out-of-range number.
    #[error("{0}")]
    BadNumber(String),
    /// The parser needed one thing and found another.
    #[error("expected {expected}, found {found}")]
    Expected {
        /// What would have been accepted here.
        expected: &'static str,
        /// What the pattern has instead.
        found: String,
    },
    /// An opening bracket or parenthesis is not closed where it should be.
    #[error("expected '{close}' to close the {what} started at {open}, found {found}")]
    Unclosed {
        /// The missing closing character.
        close: char,
        /// What the bracket opened (`observation`, `group`, `list`...).
        what: &'static str,
        /// Byte offset of the opening bracket.
        open: usize,
        /// What the pattern has instead.
        found: String,
    },
    /// A word where a comparison operator should be.
    #[error(
        "unknown operator {0}: use = != < <= > >= IN LIKE MATCHES ISSUBSET ISSUPERSET (upper case), optionally after NOT"
    )]
    UnknownOperator(String),
    /// The operator does not accept this kind of constant.
    #[error("{op} needs {needs}")]
    WrongConstant {
        /// The operator, as written in a pattern.
        op: &'static str,
        /// The kind of constant it takes.
        needs: &'static str,
    },
    /// The object type of a path is not a STIX type name.
    #[error(
        "`{0}` is not a STIX object type (3-250 characters of a-z, 0-9 and '-', starting with a letter)"
    )]
    BadObjectType(String),
    /// A property name that must be quoted.
    #[error("property name `{0}` must be quoted: write '{0}'")]
    UnquotedKey(String),
    /// Comparisons joined by `AND` inside one observation are about different object types.
    #[error(
        "comparisons joined by AND must be about one object type, but this one is about `{found}` and an earlier one about `{first}`; use OR, or separate observations [..] AND [..]"
    )]
    MixedTypes {
        /// The first object type of the AND.
        first: String,
        /// The differing object type found here.
        found: String,
    },
    /// The same kind of qualifier twice on one observation expression.
    #[error("{0} is given twice for the same observation expression")]
    DuplicateQualifier(&'static str),
}
