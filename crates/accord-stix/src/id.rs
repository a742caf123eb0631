//! STIX identifiers: `type--uuid`.
//!
//! An id is validated once, when it is parsed, and is then carried as a [`StixId`] so that
//! code further in never re-checks (or forgets to check) the form.

use std::fmt;

/// Why a string is not a STIX identifier or type name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The string has no `--` separating the type from the UUID.
    #[error("`{0}` is not of the form type--uuid")]
    NoSeparator(String),
    /// The type part breaks the naming rules (3-250 characters of a-z, 0-9 and `-`).
    #[error(
        "`{0}` is not a valid STIX type name (3-250 characters of a-z, 0-9 and '-', starting with a letter)"
    )]
    BadType(String),
    /// The UUID part is not an RFC 4122 UUID.
    #[error("`{0}` does not end in an RFC 4122 UUID")]
    BadUuid(String),
    /// The UUID has upper-case hex digits. Accord requires lower case so that one object
    /// has one id string (and an id cannot be disguised by changing its case).
    #[error("`{0}`: write the UUID in lower case")]
    UpperCase(String),
}

/// A syntactically valid STIX identifier.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StixId(String);

impl StixId {
    /// Parses and validates `type--uuid`.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let (ty, uuid) = s
            .split_once("--")
            .ok_or_else(|| IdError::NoSeparator(s.to_owned()))?;
        if !is_valid_type_name(ty) {
            return Err(IdError::BadType(s.to_owned()));
        }
        if !is_rfc4122_uuid(uuid) {
            return Err(IdError::BadUuid(s.to_owned()));
        }
        if uuid.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(IdError::UpperCase(s.to_owned()));
        }
        Ok(StixId(s.to_owned()))
    }

    /// The type part, e.g. `indicator`.
    pub fn object_type(&self) -> &str {
        self.0.split_once("--").map_or("", |(t, _)| t)
    }

    /// The whole id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StixId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for StixId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// STIX 2.1 section 3.1: type names are 3-250 characters of lowercase ASCII letters, digits and
/// hyphens. We also require a leading letter and no `--`, which the id syntax needs.
pub fn is_valid_type_name(t: &str) -> bool {
    (3..=250).contains(&t.len())
        && t.as_bytes()[0].is_ascii_lowercase()
        && t.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !t.contains("--")
        && !t.ends_with('-')
}

/// `8-4-4-4-12` hex digits with the RFC 4122 variant bits (`8`, `9`, `a` or `b`) and a
/// version from 1 to 8.
pub fn is_rfc4122_uuid(u: &str) -> bool {
    let b = u.as_bytes();
    if b.len() != 36 {
        return false;
    }
    for (i, c) in b.iter().enumerate() {
        let dash = matches!(i, 8 | 13 | 18 | 23);
        if dash != (*c == b'-') || (!dash && !c.is_ascii_hexdigit()) {
            return false;
        }
    }
    let version = b[14];
    let variant = b[19].to_ascii_lowercase();
    (b'1'..=b'8').contains(&version) && matches!(variant, b'8' | b'9' | b'a' | b'b')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, ok: bool) {
        assert_eq!(StixId::parse(input).is_ok(), ok, "{input}");
    }

    #[test]
    fn ids() {
        check("indicator--c4226c79-7abd-4f40-8a53-c9dbabe9ff30", true);
        check("x-mitre-tactic--b03163eb-7e81-4fed-9819-641bf7c99507", true);
        check("indicator--C4226C79-7ABD-4F40-8A53-C9DBABE9FF30", false);
        check("indicator-c4226c79-7abd-4f40-8a53-c9dbabe9ff30", false);
        check("Indicator--c4226c79-7abd-4f40-8a53-c9dbabe9ff30", false);
        check("ab--c4226c79-7abd-4f40-8a53-c9dbabe9ff30", false);
        check("indicator--c4226c79-7abd-4f40-8a53-c9dbabe9ff3", false);
        check("indicator--c4226c79-7abd-0f40-8a53-c9dbabe9ff30", false);
        check("indicator--c4226c79-7abd-4f40-7a53-c9dbabe9ff30", false);
        check("indicator--c4226c79x7abd-4f40-8a53-c9dbabe9ff30", false);
    }

    #[test]
    fn type_part() {
        let id = StixId::parse("domain-name--c4226c79-7abd-4f40-8a53-c9dbabe9ff30").unwrap();
        assert_eq!(id.object_type(), "domain-name");
    }
}
