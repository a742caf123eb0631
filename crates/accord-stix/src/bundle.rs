//! Reading the objects out of a STIX bundle or a TAXII envelope.
//!
//! Both carry the objects in an `objects` list; a bundle adds `"type": "bundle"` and an id.
//! Nesting depth is bounded by `serde_json`'s recursion limit (128), so a hostile body cannot
//! exhaust the stack.

use serde_json::{Map, Value};

/// Why a body holds no list of objects.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The body is not JSON (or nests too deeply).
    #[error("the body is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The JSON is not an object.
    #[error("the body must be a JSON object with an `objects` list")]
    NotObject,
    /// `type` is present but is not `bundle`.
    #[error("`type` is `{0}`; a body must be a STIX bundle or a TAXII envelope")]
    NotBundle(String),
    /// `objects` is missing or not a list.
    #[error("`objects` must be a list of STIX objects")]
    NoObjects,
}

/// The `objects` of a bundle or envelope, each still raw JSON (an element that is not a JSON
/// object is returned as it is, for the caller to report).
pub fn objects(body: &[u8]) -> Result<Vec<Value>, BundleError> {
    let value: Value = serde_json::from_slice(body)?;
    let Value::Object(mut map) = value else {
        return Err(BundleError::NotObject);
    };
    if let Some(t) = map.get("type")
        && t.as_str() != Some("bundle")
    {
        return Err(BundleError::NotBundle(t.to_string()));
    }
    match map.remove("objects") {
        Some(Value::Array(items)) => Ok(items),
        None if map.get("type").is_none() => Ok(Vec::new()),
        _ => Err(BundleError::NoObjects),
    }
}

/// Wraps objects in a STIX 2.1 bundle with the given bundle id.
pub fn to_bundle(id: &str, objects: Vec<Value>) -> Value {
    let mut map = Map::new();
    map.insert("type".into(), "bundle".into());
    map.insert("id".into(), id.into());
    map.insert("objects".into(), Value::Array(objects));
    Value::Object(map)
}
