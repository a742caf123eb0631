//! The recursive-descent parser, following the precedence of the STIX 2.1 grammar
//! (`STIXPattern.g4`): between observations `FOLLOWEDBY` binds loosest, then `OR`, then
//! `AND`, and qualifiers bind to the observation expression just before them; inside an
//! observation `OR` binds looser than `AND`.
//!
//! Recursion happens only at `(` and `[`, and each of those counts against
//! [`Limits::max_depth`], so a hostile pattern cannot overflow the stack. Chains of one
//! operator are parsed in a loop into one n-ary node.

use crate::Limits;
use crate::ast::{
    Comparison, ComparisonExpr, Constant, ObjectPath, ObservationExpr, Operator, PathStep, Pattern,
    Qualifier, is_bare_key,
};
use crate::error::{ErrorKind, PatternError};
use crate::lex::{Lexer, Tok};

type Result<T> = std::result::Result<T, PatternError>;

pub(crate) struct Parser<'a> {
    lexer: Lexer<'a>,
    tok: Tok<'a>,
    at: usize,
    depth: usize,
    limits: Limits,
}

/// The object types a comparison expression is about, each with the offset of its first
/// mention, in order of appearance; used to enforce the one-type rule for `AND`.
type Types = Vec<(String, usize)>;

fn merge(into: &mut Types, from: Types) {
    for (t, at) in from {
        if !into.iter().any(|(u, _)| *u == t) {
            into.push((t, at));
        }
    }
}

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a str, limits: Limits) -> Result<Self> {
        let mut lexer = Lexer::new(src);
        let (tok, at) = lexer.next_token()?;
        Ok(Parser {
            lexer,
            tok,
            at,
            depth: 0,
            limits,
        })
    }

    fn bump(&mut self) -> Result<Tok<'a>> {
        let (tok, at) = self.lexer.next_token()?;
        self.at = at;
        Ok(std::mem::replace(&mut self.tok, tok))
    }

    fn is_word(&self, w: &str) -> bool {
        self.tok == Tok::Word(w)
    }

    fn expected<T>(&self, expected: &'static str) -> Result<T> {
        let mut found = self.tok.describe();
        if let Tok::Word(w) = self.tok {
            let upper = w.to_ascii_uppercase();
            if upper != w && crate::ast::KEYWORDS.contains(&upper.as_str()) {
                found.push_str(" (keywords are upper case)");
            }
        }
        Err(PatternError::new(
            self.at,
            ErrorKind::Expected { expected, found },
        ))
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(PatternError::new(
                self.at,
                ErrorKind::TooDeep {
                    max: self.limits.max_depth,
                },
            ));
        }
        Ok(())
    }

    fn close(&mut self, close: Tok<'static>, what: &'static str, open: usize) -> Result<()> {
        if self.tok != close {
            let c = if close == Tok::RBrack { ']' } else { ')' };
            return Err(PatternError::new(
                self.at,
                ErrorKind::Unclosed {
                    close: c,
                    what,
                    open,
                    found: self.tok.describe(),
                },
            ));
        }
        self.depth -= 1;
        self.bump()?;
        Ok(())
    }

    pub(crate) fn pattern(&mut self) -> Result<Pattern> {
        let expr = self.observations()?;
        if self.tok != Tok::Eof {
            return self.expected("AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern");
        }
        Ok(Pattern { expr })
    }

    /// `a FOLLOWEDBY b ...`
    fn observations(&mut self) -> Result<ObservationExpr> {
        let mut items = vec![self.observation_or()?];
        while self.is_word("FOLLOWEDBY") {
            self.bump()?;
            items.push(self.observation_or()?);
        }
        Ok(one_or(items, ObservationExpr::FollowedBy))
    }

    fn observation_or(&mut self) -> Result<ObservationExpr> {
        let mut items = vec![self.observation_and()?];
        while self.is_word("OR") {
            self.bump()?;
            items.push(self.observation_and()?);
        }
        Ok(one_or(items, ObservationExpr::Or))
    }

    fn observation_and(&mut self) -> Result<ObservationExpr> {
        let mut items = vec![self.qualified()?];
        while self.is_word("AND") {
            self.bump()?;
            items.push(self.qualified()?);
        }
        Ok(one_or(items, ObservationExpr::And))
    }

    /// A primary observation expression followed by any qualifiers.
    fn qualified(&mut self) -> Result<ObservationExpr> {
        let open = self.at;
        let inner = match self.tok {
            Tok::LBrack => {
                self.enter()?;
                self.bump()?;
                let (c, _) = self.comparison_or()?;
                self.close(Tok::RBrack, "observation", open)?;
                ObservationExpr::Observation(c)
            }
            Tok::LParen => {
                self.enter()?;
                self.bump()?;
                let e = self.observations()?;
                self.close(Tok::RParen, "group", open)?;
                e
            }
            _ => return self.expected("'[' or '(' to start an observation expression"),
        };
        let mut qualifiers: Vec<Qualifier> = Vec::new();
        while let Some(q) = self.qualifier()? {
            let (at, q) = q;
            let name = qualifier_name(&q);
            if qualifiers.iter().any(|p| qualifier_name(p) == name) {
                return Err(PatternError::new(at, ErrorKind::DuplicateQualifier(name)));
            }
            qualifiers.push(q);
        }
        Ok(if qualifiers.is_empty() {
            inner
        } else {
            ObservationExpr::Qualified(Box::new(inner), qualifiers)
        })
    }

    fn qualifier(&mut self) -> Result<Option<(usize, Qualifier)>> {
        let at = self.at;
        let q = if self.is_word("WITHIN") {
            self.bump()?;
            let seconds = match self.tok {
                Tok::Int { value, .. } if value > 0 => value as f64,
                Tok::Float(x) if x > 0.0 => x,
                _ => return self.expected("a positive number of seconds after WITHIN"),
            };
            self.bump()?;
            if !self.is_word("SECONDS") {
                return self.expected("SECONDS (the only unit)");
            }
            self.bump()?;
            Qualifier::Within(seconds)
        } else if self.is_word("REPEATS") {
            self.bump()?;
            let n = match self.tok {
                Tok::Int { value, .. } if value > 0 => value.unsigned_abs(),
                _ => return self.expected("a positive whole number after REPEATS"),
            };
            self.bump()?;
            if !self.is_word("TIMES") {
                return self.expected("TIMES");
            }
            self.bump()?;
            Qualifier::Repeats(n)
        } else if self.is_word("START") {
            self.bump()?;
            let start = self.timestamp("a t'…' timestamp after START")?;
            if !self.is_word("STOP") {
                return self.expected("STOP");
            }
            self.bump()?;
            let stop = self.timestamp("a t'…' timestamp after STOP")?;
            Qualifier::StartStop(start, stop)
        } else {
            return Ok(None);
        };
        Ok(Some((at, q)))
    }

    fn timestamp(&mut self, expected: &'static str) -> Result<accord_stix::Timestamp> {
        if let Tok::Time(_) = self.tok
            && let Tok::Time(t) = self.bump()?
        {
            return Ok(t);
        }
        self.expected(expected)
    }

    /// Comparisons joined by OR.
    fn comparison_or(&mut self) -> Result<(ComparisonExpr, Types)> {
        let (first, mut types) = self.comparison_and()?;
        let mut items = vec![first];
        while self.is_word("OR") {
            self.bump()?;
            let (c, t) = self.comparison_and()?;
            merge(&mut types, t);
            items.push(c);
        }
        Ok((one_or(items, ComparisonExpr::Or), types))
    }

    /// Comparisons joined by AND, which must all be about one object type.
    fn comparison_and(&mut self) -> Result<(ComparisonExpr, Types)> {
        let (first, mut types) = self.comparison_primary()?;
        let mut items = vec![first];
        while self.is_word("AND") {
            self.bump()?;
            let (c, t) = self.comparison_primary()?;
            merge(&mut types, t);
            items.push(c);
        }
        if items.len() > 1
            && let (Some((first, _)), Some((found, at))) = (types.first(), types.get(1))
        {
            return Err(PatternError::new(
                *at,
                ErrorKind::MixedTypes {
                    first: first.clone(),
                    found: found.clone(),
                },
            ));
        }
        Ok((one_or(items, ComparisonExpr::And), types))
    }

    fn comparison_primary(&mut self) -> Result<(ComparisonExpr, Types)> {
        let open = self.at;
        if self.tok == Tok::LParen {
            self.enter()?;
            self.bump()?;
            let inner = self.comparison_or()?;
            self.close(Tok::RParen, "group", open)?;
            return Ok(inner);
        }
        if self.is_word("EXISTS") {
            self.bump()?;
            let type_at = self.at;
            let path = self.path()?;
            let types = vec![(path.object_type.clone(), type_at)];
            return Ok((ComparisonExpr::Exists(path), types));
        }
        let type_at = self.at;
        let path = self.path()?;
        let types = vec![(path.object_type.clone(), type_at)];
        let negated = self.is_word("NOT");
        if negated {
            self.bump()?;
        }
        let op_at = self.at;
        let op = match self.tok {
            Tok::Cmp("=") => Operator::Eq,
            Tok::Cmp("!=") => Operator::Ne,
            Tok::Cmp("<") => Operator::Lt,
            Tok::Cmp("<=") => Operator::Le,
            Tok::Cmp(">") => Operator::Gt,
            Tok::Cmp(">=") => Operator::Ge,
            Tok::Word("IN") => Operator::In,
            Tok::Word("LIKE") => Operator::Like,
            Tok::Word("MATCHES") => Operator::Matches,
            Tok::Word("ISSUBSET") => Operator::IsSubset,
            Tok::Word("ISSUPERSET") => Operator::IsSuperset,
            Tok::Word(w) => {
                return Err(PatternError::new(
                    op_at,
                    ErrorKind::UnknownOperator(format!("`{w}`")),
                ));
            }
            _ => return self.expected("a comparison operator"),
        };
        self.bump()?;
        let value = self.constant_for(op)?;
        let comparison = Comparison {
            path,
            negated,
            op,
            value,
        };
        Ok((ComparisonExpr::Comparison(comparison), types))
    }

    /// The constant after `op`, of a kind `op` accepts.
    fn constant_for(&mut self, op: Operator) -> Result<Constant> {
        let at = self.at;
        let wrong = |needs| {
            Err(PatternError::new(
                at,
                ErrorKind::WrongConstant {
                    op: op.as_str(),
                    needs,
                },
            ))
        };
        match op {
            Operator::In => {
                if self.tok != Tok::LParen {
                    return wrong("a parenthesised list of constants, like ('a', 'b')");
                }
                self.enter()?;
                self.bump()?;
                let mut items = Vec::new();
                if self.tok != Tok::RParen {
                    loop {
                        match self.primitive()? {
                            Some(c) => items.push(c),
                            None => return self.expected("a constant in the list"),
                        }
                        if self.tok != Tok::Comma {
                            break;
                        }
                        self.bump()?;
                    }
                }
                self.close(Tok::RParen, "list", at)?;
                Ok(Constant::List(items))
            }
            Operator::Like | Operator::Matches | Operator::IsSubset | Operator::IsSuperset => {
                match self.tok {
                    Tok::Str(_) => match self.bump()? {
                        Tok::Str(s) => Ok(Constant::String(s)),
                        _ => wrong("a string constant"),
                    },
                    Tok::LParen => wrong("a string constant, not a list"),
                    _ if self.tok_is_constant() => wrong("a string constant"),
                    _ => self.expected("a string constant"),
                }
            }
            Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge => {
                if matches!(self.tok, Tok::Word("true" | "false")) {
                    return wrong("a number, string, timestamp or binary constant, not a boolean");
                }
                self.single_constant(op)
            }
            Operator::Eq | Operator::Ne => self.single_constant(op),
        }
    }

    fn single_constant(&mut self, op: Operator) -> Result<Constant> {
        let at = self.at;
        if self.tok == Tok::LParen {
            return Err(PatternError::new(
                at,
                ErrorKind::WrongConstant {
                    op: op.as_str(),
                    needs: "a single constant; use IN for a list",
                },
            ));
        }
        match self.primitive()? {
            Some(c) => Ok(c),
            None => self.expected("a constant ('string', number, true, false, h'…', b'…' or t'…')"),
        }
    }

    fn tok_is_constant(&self) -> bool {
        matches!(
            self.tok,
            Tok::Str(_)
                | Tok::Int { .. }
                | Tok::Float(_)
                | Tok::Hex(_)
                | Tok::Binary(_)
                | Tok::Time(_)
                | Tok::Word("true" | "false")
        )
    }

    /// A single constant, or `None` (consuming nothing) if the token is not one.
    fn primitive(&mut self) -> Result<Option<Constant>> {
        if !self.tok_is_constant() {
            return Ok(None);
        }
        Ok(Some(match self.bump()? {
            Tok::Str(s) => Constant::String(s),
            Tok::Int { value, .. } => Constant::Int(value),
            Tok::Float(x) => Constant::Float(x),
            Tok::Hex(b) => Constant::Hex(b),
            Tok::Binary(s) => Constant::Binary(s),
            Tok::Time(t) => Constant::Timestamp(t),
            Tok::Word(w) => Constant::Bool(w == "true"),
            _ => return Ok(None),
        }))
    }

    /// `type:first(.key | [n] | [*])*`
    fn path(&mut self) -> Result<ObjectPath> {
        let type_at = self.at;
        let object_type = match self.tok {
            Tok::Word(w) if !crate::ast::KEYWORDS.contains(&w) => w.to_owned(),
            _ => return self.expected("an object path such as file:name"),
        };
        if !accord_stix::id::is_valid_type_name(&object_type) {
            return Err(PatternError::new(
                type_at,
                ErrorKind::BadObjectType(object_type),
            ));
        }
        self.bump()?;
        if self.tok != Tok::Colon {
            return self.expected("':' between the object type and the property");
        }
        self.bump()?;
        let mut steps = vec![PathStep::Key(self.key()?)];
        loop {
            match self.tok {
                Tok::Dot => {
                    self.bump()?;
                    steps.push(PathStep::Key(self.key()?));
                }
                Tok::LBrack => {
                    let open = self.at;
                    self.bump()?;
                    let step = match self.tok {
                        Tok::Star => PathStep::AnyIndex,
                        Tok::Int { value, .. } => PathStep::Index(value),
                        _ => return self.expected("a list index: a whole number or *"),
                    };
                    self.bump()?;
                    if self.tok != Tok::RBrack {
                        return Err(PatternError::new(
                            self.at,
                            ErrorKind::Unclosed {
                                close: ']',
                                what: "list index",
                                open,
                                found: self.tok.describe(),
                            },
                        ));
                    }
                    self.bump()?;
                    steps.push(step);
                }
                _ => break,
            }
        }
        Ok(ObjectPath { object_type, steps })
    }

    /// A property name: a bare identifier (no hyphens, not a keyword) or a quoted string.
    fn key(&mut self) -> Result<String> {
        match self.tok {
            Tok::Word(w) if is_bare_key(w) => {
                let key = w.to_owned();
                self.bump()?;
                Ok(key)
            }
            Tok::Word(w) => Err(PatternError::new(
                self.at,
                ErrorKind::UnquotedKey(w.to_owned()),
            )),
            Tok::Str(_) => match self.bump()? {
                Tok::Str(s) => Ok(s),
                _ => self.expected("a property name"),
            },
            _ => self.expected("a property name"),
        }
    }
}

fn qualifier_name(q: &Qualifier) -> &'static str {
    match q {
        Qualifier::Within(_) => "WITHIN",
        Qualifier::Repeats(_) => "REPEATS",
        Qualifier::StartStop(..) => "START/STOP",
    }
}

/// The single item, or the n-ary node of all of them.
fn one_or<T>(mut items: Vec<T>, node: fn(Vec<T>) -> T) -> T {
    if items.len() == 1
        && let Some(only) = items.pop()
    {
        return only;
    }
    node(items)
}
