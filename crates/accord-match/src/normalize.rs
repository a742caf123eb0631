//! Canonical forms of observables and of the pattern constants compared with them.

use accord_pattern::PathStep;
use serde_json::{Map, Value};

/// Why a value is not a valid observable of its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NormError {
    /// The value is not valid for the kind it was given as (or detected as).
    #[error("{kind} {value:?}: {reason}")]
    Invalid {
        /// The STIX type or observable kind, e.g. `url`.
        kind: String,
        /// The value as given (possibly shortened).
        value: String,
        /// Why it was refused.
        reason: String,
    },
}

/// One observable in canonical form, as a STIX cyber-observable object without an id.
#[derive(Debug, Clone, PartialEq)]
pub struct Observable {
    sco: Map<String, Value>,
}

impl Observable {
    /// The canonical SCO: `type` plus the properties that identify it.
    pub fn sco(&self) -> &Map<String, Value> {
        &self.sco
    }
}

/// Parses one observable: `type:value` or a bare value whose kind is detected.
pub fn parse_observable(text: &str) -> Result<Observable, NormError> {
    let _ = text;
    Err(NormError::Invalid {
        kind: String::new(),
        value: String::new(),
        reason: String::new(),
    })
}

/// The canonical form of an SCO.
pub fn sco(object: &Map<String, Value>) -> Result<Map<String, Value>, NormError> {
    Ok(object.clone())
}

/// The canonical path for a pattern object path.
pub fn path(object_type: &str, steps: &[PathStep]) -> Option<Vec<PathStep>> {
    let _ = (object_type, steps);
    None
}

/// The canonical form of a string constant compared at a path.
pub fn constant(object_type: &str, steps: &[PathStep], value: &str) -> Option<String> {
    let _ = (object_type, steps, value);
    None
}

/// The case folding of a `LIKE` constant at a path.
pub fn like_constant(object_type: &str, steps: &[PathStep], pattern: &str) -> Option<String> {
    let _ = (object_type, steps, pattern);
    None
}
