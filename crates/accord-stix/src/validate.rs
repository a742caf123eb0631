//! Validation of the STIX 2.1 MUST rules on ingest.
//!
//! [`validate`] checks one object and returns every violation it finds, each naming the
//! object, the property and the rule, so that a publisher can fix a whole bundle in one go.

use serde_json::{Map, Value};
use std::fmt;

use crate::{StixId, Timestamp};

/// One broken rule on one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The object's id, or a description of where it is when it has no usable id.
    pub object: String,
    /// The property at fault, as a path (`created`, `granular_markings[0].selectors`).
    pub property: String,
    /// The rule that is broken, in words a publisher can act on.
    pub rule: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: property `{}`: {}",
            self.object, self.property, self.rule
        )
    }
}

/// Checks one object against the STIX 2.1 MUST rules.
pub fn validate(object: &Map<String, Value>) -> Result<(), Vec<Violation>> {
    let name = object
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("object without an id")
        .to_owned();
    let mut out = Vec::new();
    let mut bad = |property: &str, rule: String| {
        out.push(Violation {
            object: name.clone(),
            property: property.to_owned(),
            rule,
        })
    };
    let ty = object.get("type").and_then(Value::as_str);
    match ty {
        None => bad("type", "required string property is missing".into()),
        Some(t) if !crate::id::is_valid_type_name(t) => bad(
            "type",
            "must be 3-250 characters of a-z, 0-9 and '-'".into(),
        ),
        Some(_) => {}
    }
    match object.get("id").and_then(Value::as_str) {
        None => bad("id", "required string property is missing".into()),
        Some(id) => match StixId::parse(id) {
            Err(e) => bad("id", e.to_string()),
            Ok(id) if Some(id.object_type()) != ty => {
                bad("id", "the part before `--` must equal `type`".into())
            }
            Ok(_) => {}
        },
    }
    let created = timestamp(object, "created", &mut bad);
    let modified = timestamp(object, "modified", &mut bad);
    if let (Some(c), Some(m)) = (created, modified) {
        if m < c {
            bad(
                "modified",
                "must be later than or equal to `created`".into(),
            );
        }
    }
    if out.is_empty() { Ok(()) } else { Err(out) }
}

fn timestamp(
    object: &Map<String, Value>,
    property: &str,
    bad: &mut impl FnMut(&str, String),
) -> Option<Timestamp> {
    match object.get(property)? {
        Value::String(s) => match Timestamp::parse(s) {
            Ok(t) => Some(t),
            Err(e) => {
                bad(property, e.to_string());
                None
            }
        },
        _ => {
            bad(property, "must be a timestamp string".into());
            None
        }
    }
}
