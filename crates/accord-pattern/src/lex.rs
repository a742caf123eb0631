//! The lexer: pattern text to tokens, one at a time, each with its byte offset.
//!
//! Constants are checked here (escapes, hex digit pairs, base64 padding, timestamps), so the
//! parser sees only well-formed values and an error points at the constant itself.

use accord_stix::Timestamp;

use crate::error::{ErrorKind, PatternError};

/// A token. Words (keywords and identifiers alike) are left for the parser to interpret,
/// since whether `AND` is a keyword or a property name depends on where it stands.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok<'a> {
    LBrack,
    RBrack,
    LParen,
    RParen,
    Colon,
    Dot,
    Comma,
    Star,
    /// `=`, `==`, `!=`, `<>`, `<`, `<=`, `>`, `>=`.
    Cmp(&'static str),
    /// `[a-zA-Z_][a-zA-Z0-9_-]*`.
    Word(&'a str),
    Str(String),
    /// An integer, with its sign if written with one.
    Int {
        value: i64,
    },
    Float(f64),
    Hex(Vec<u8>),
    Binary(String),
    Time(Timestamp),
    Eof,
}

impl Tok<'_> {
    /// How the token is described in an error message.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::LBrack => "'['".into(),
            Tok::RBrack => "']'".into(),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::Colon => "':'".into(),
            Tok::Dot => "'.'".into(),
            Tok::Comma => "','".into(),
            Tok::Star => "'*'".into(),
            Tok::Cmp(op) => format!("'{op}'"),
            Tok::Word(w) => format!("`{w}`"),
            Tok::Str(_) => "a string".into(),
            Tok::Int { value } => format!("the number {value}"),
            Tok::Float(x) => format!("the number {x}"),
            Tok::Hex(_) => "a hex constant".into(),
            Tok::Binary(_) => "a binary constant".into(),
            Tok::Time(_) => "a timestamp".into(),
            Tok::Eof => "the end of the pattern".into(),
        }
    }
}

pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

fn err<T>(at: usize, kind: ErrorKind) -> Result<T, PatternError> {
    Err(PatternError::new(at, kind))
}

/// The whitespace the grammar skips.
fn is_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\r' | '\n' | '\u{b}' | '\u{c}' | '\u{85}' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Lexer { src, pos: 0 }
    }

    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn peek_byte(&self, ahead: usize) -> Option<u8> {
        self.src.as_bytes().get(self.pos + ahead).copied()
    }

    /// Skips whitespace and comments.
    fn skip_trivia(&mut self) -> Result<(), PatternError> {
        loop {
            let rest = self.rest();
            if let Some(c) = rest.chars().next().filter(|c| is_space(*c)) {
                self.pos += c.len_utf8();
            } else if let Some(body) = rest.strip_prefix("/*") {
                match body.find("*/") {
                    Some(end) => self.pos += 2 + end + 2,
                    None => return err(self.pos, ErrorKind::UnterminatedComment),
                }
            } else if rest.starts_with("//") {
                self.pos += rest.find(['\r', '\n']).unwrap_or(rest.len());
            } else {
                return Ok(());
            }
        }
    }

    /// The next token and its offset.
    pub(crate) fn next_token(&mut self) -> Result<(Tok<'a>, usize), PatternError> {
        self.skip_trivia()?;
        let start = self.pos;
        let Some(c) = self.rest().chars().next() else {
            return Ok((Tok::Eof, start));
        };
        let next = self.peek_byte(1);
        let (tok, len) = match c {
            '[' => (Tok::LBrack, 1),
            ']' => (Tok::RBrack, 1),
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            ':' => (Tok::Colon, 1),
            ',' => (Tok::Comma, 1),
            '*' => (Tok::Star, 1),
            '=' if next == Some(b'=') => (Tok::Cmp("="), 2),
            '=' => (Tok::Cmp("="), 1),
            '!' if next == Some(b'=') => (Tok::Cmp("!="), 2),
            '<' if next == Some(b'>') => (Tok::Cmp("!="), 2),
            '<' if next == Some(b'=') => (Tok::Cmp("<="), 2),
            '<' => (Tok::Cmp("<"), 1),
            '>' if next == Some(b'=') => (Tok::Cmp(">="), 2),
            '>' => (Tok::Cmp(">"), 1),
            '\'' => {
                let (s, len) = self.string(start)?;
                (Tok::Str(s), len)
            }
            '+' | '-' | '0'..='9' => return self.number(start),
            '.' if next.is_some_and(|b| b.is_ascii_digit()) => return self.number(start),
            '.' => (Tok::Dot, 1),
            'h' | 'b' | 't' if next == Some(b'\'') => return self.prefixed(c, start),
            c if c.is_ascii_alphabetic() || c == '_' => {
                let len = self
                    .rest()
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                    .unwrap_or(self.rest().len());
                (Tok::Word(&self.rest()[..len]), len)
            }
            c => return err(start, ErrorKind::UnexpectedChar(c)),
        };
        self.pos += len;
        Ok((tok, start))
    }

    /// A `'…'` string starting at `start`: its unescaped value and its length in bytes.
    fn string(&self, start: usize) -> Result<(String, usize), PatternError> {
        let body = &self.src[start + 1..];
        let mut out = String::new();
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\'' => return Ok((out, i + 2)),
                '\\' => match chars.next() {
                    Some((_, e @ ('\'' | '\\'))) => out.push(e),
                    Some(_) => return err(start + 1 + i, ErrorKind::BadEscape),
                    None => break,
                },
                c => out.push(c),
            }
        }
        err(start, ErrorKind::UnterminatedString)
    }

    /// `h'…'`, `b'…'` or `t'…'`.
    fn prefixed(&mut self, prefix: char, start: usize) -> Result<(Tok<'a>, usize), PatternError> {
        let body_start = start + 2;
        let Some(len) = self.src[body_start..].find('\'') else {
            return err(start, ErrorKind::UnterminatedString);
        };
        let body = &self.src[body_start..body_start + len];
        let tok = match prefix {
            'h' => Tok::Hex(decode_hex(body).ok_or(PatternError::new(start, ErrorKind::BadHex))?),
            'b' if is_padded_base64(body) => Tok::Binary(body.to_owned()),
            'b' => return err(start, ErrorKind::BadBase64),
            _ => {
                // The grammar wants upper-case `T` and `Z`, which Timestamp::parse does not.
                let upper = body.as_bytes().get(10) == Some(&b'T') && body.ends_with('Z');
                match Timestamp::parse(body) {
                    Ok(t) if upper => Tok::Time(t),
                    Ok(_) => {
                        return err(
                            start,
                            ErrorKind::BadTimestamp("write `T` and `Z` in upper case".into()),
                        );
                    }
                    Err(e) => return err(start, ErrorKind::BadTimestamp(e.to_string())),
                }
            }
        };
        self.pos = body_start + len + 1;
        Ok((tok, start))
    }

    /// An integer or float, with optional sign: `'+'? ('0' | [1-9][0-9]*)` or
    /// `[+-]? [0-9]* '.' [0-9]+`.
    fn number(&mut self, start: usize) -> Result<(Tok<'a>, usize), PatternError> {
        let b = self.src.as_bytes();
        let mut i = start;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let int_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let int_digits = &self.src[int_start..i];
        if b.get(i) == Some(&b'.') {
            i += 1;
            let frac_start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == frac_start {
                return err(
                    start,
                    ErrorKind::BadNumber("a decimal point must be followed by digits".into()),
                );
            }
            let value: f64 = self.src[start..i].parse().map_err(|_| {
                PatternError::new(start, ErrorKind::BadNumber("not a number".into()))
            })?;
            if !value.is_finite() {
                return err(start, ErrorKind::BadNumber("number is too large".into()));
            }
            self.pos = i;
            return Ok((Tok::Float(value), start));
        }
        if int_digits.is_empty() {
            let what = self.src[start..].chars().next().unwrap_or('+');
            return err(start, ErrorKind::UnexpectedChar(what));
        }
        if int_digits.len() > 1 && int_digits.starts_with('0') {
            return err(
                start,
                ErrorKind::BadNumber("integers are written without leading zeros".into()),
            );
        }
        let text = self.src[start..i].trim_start_matches('+');
        let value: i64 = text.parse().map_err(|_| {
            PatternError::new(
                start,
                ErrorKind::BadNumber("integer does not fit in 64 bits".into()),
            )
        })?;
        self.pos = i;
        Ok((Tok::Int { value }, start))
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.as_bytes()
        .chunks(2)
        .map(|pair| {
            let hi = char::from(pair[0]).to_digit(16)?;
            let lo = char::from(pair[1]).to_digit(16)?;
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
}

/// Non-empty base64 in groups of four, the last possibly padded with `=` or `==`.
fn is_padded_base64(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || !b.len().is_multiple_of(4) {
        return false;
    }
    let pad = b.iter().rev().take_while(|c| **c == b'=').count();
    pad <= 2
        && b[..b.len() - pad]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}
