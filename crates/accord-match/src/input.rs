//! Reading observables from lines of text, as `accord match` and `POST /v1/match` take them.
//!
//! One observable a line, in any of three spellings, so that whatever a platform's pipeline
//! emits can be piped in unchanged:
//!
//! - text: `type:value` or a bare value whose kind is detected ([`normalize::parse_observable`]);
//! - a JSON string holding such text: `"url:http://example.com/"`;
//! - a JSON object: a STIX cyber-observable (`{"type": "url", "value": "…"}`), put into
//!   canonical form ([`normalize::sco`]), or `{"observable": "type:value"}`.
//!
//! Blank lines and lines starting with `#` are skipped.

use serde_json::{Map, Value};

use crate::normalize::{self, NormError, Observable};

/// Longest line read, in bytes.
pub const MAX_LINE: usize = 64 * 1024;

/// One observable read from a line.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// An observable given as text.
    Observable(Observable),
    /// A whole cyber-observable object, in canonical form (always a JSON object).
    Object(Value),
}

/// Why a line holds no observable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The value is not a valid observable.
    #[error(transparent)]
    Invalid(#[from] NormError),
    /// The line starts like JSON but is not valid JSON.
    #[error("not valid JSON: {0}")]
    Json(String),
    /// A JSON line of a shape that holds no observable.
    #[error("{0}")]
    Shape(String),
    /// The line is longer than [`MAX_LINE`].
    #[error("the line is {0} bytes long; at most {MAX_LINE} are read")]
    TooLong(usize),
}

/// The observable on one line, `None` for a blank or comment line.
pub fn parse_line(line: &str) -> Result<Option<Item>, InputError> {
    if line.len() > MAX_LINE {
        return Err(InputError::TooLong(line.len()));
    }
    let text = line.trim();
    if text.is_empty() || text.starts_with('#') {
        return Ok(None);
    }
    match text.as_bytes()[0] {
        b'{' => {
            let map: Map<String, Value> =
                serde_json::from_str(text).map_err(|e| InputError::Json(e.to_string()))?;
            item_of_object(&map).map(Some)
        }
        b'"' => {
            let s: String =
                serde_json::from_str(text).map_err(|e| InputError::Json(e.to_string()))?;
            Ok(Some(Item::Observable(normalize::parse_observable(&s)?)))
        }
        _ => Ok(Some(Item::Observable(normalize::parse_observable(text)?))),
    }
}

/// The observable a JSON object stands for: `{"observable": "…"}` or an SCO.
pub fn item_of_object(map: &Map<String, Value>) -> Result<Item, InputError> {
    if let Some(o) = map.get("observable") {
        let s = o.as_str().ok_or_else(|| {
            InputError::Shape("`observable` must be a string such as \"url:http://…\"".into())
        })?;
        return Ok(Item::Observable(normalize::parse_observable(s)?));
    }
    match map.get("type") {
        Some(Value::String(_)) => Ok(Item::Object(Value::Object(normalize::sco(map)?))),
        _ => Err(InputError::Shape(
            "a JSON line must be a STIX cyber-observable with a `type`, or {\"observable\": \"type:value\"}".into(),
        )),
    }
}
