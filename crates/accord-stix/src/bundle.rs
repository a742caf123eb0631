//! Reading the objects out of a STIX bundle or a TAXII envelope.
//!
//! Both carry the objects in an `objects` list; a bundle adds `"type": "bundle"` and an id.
//! Nesting depth is bounded by `serde_json`'s recursion limit (128), so a hostile body cannot
//! exhaust the stack.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
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
    /// More objects than one request may carry.
    #[error("the body holds more than {0} objects; send them in several requests")]
    TooMany(usize),
}

/// The `objects` of a bundle or envelope, each still raw JSON (an element that is not a JSON
/// object is returned as it is, for the caller to report).
pub fn objects(body: &[u8]) -> Result<Vec<Value>, BundleError> {
    objects_at_most(body, usize::MAX)
}

/// Like [`objects`], but stops with [`BundleError::TooMany`] as soon as the list holds more
/// than `max` elements, before building the rest: a small body of `[1,1,1,...]` cannot make
/// the parser allocate millions of values.
pub fn objects_at_most(body: &[u8], max: usize) -> Result<Vec<Value>, BundleError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = Top { max }.deserialize(&mut de);
    let top = match parsed {
        Ok(t) => t,
        Err(e) if e.to_string().starts_with(TOO_MANY) => return Err(BundleError::TooMany(max)),
        Err(e) => return Err(BundleError::Json(e)),
    };
    de.end()?;
    let Some(top) = top else {
        return Err(BundleError::NotObject);
    };
    if let Some(t) = &top.ty
        && t.as_str() != Some("bundle")
    {
        return Err(BundleError::NotBundle(t.to_string()));
    }
    match top.objects {
        Some(Some(items)) => Ok(items),
        None if top.ty.is_none() => Ok(Vec::new()),
        _ => Err(BundleError::NoObjects),
    }
}

const TOO_MANY: &str = "too many objects";

/// A visitor answers `None` for any scalar: the caller reports the wrong shape.
macro_rules! scalars_are_none {
    () => {
        fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    };
}

/// The top level of a body: `type` and `objects`; anything else is skipped unread.
struct Top {
    max: usize,
}

struct TopFields {
    ty: Option<Value>,
    /// `Some(None)`: present but not a list.
    objects: Option<Option<Vec<Value>>>,
}

impl<'de> DeserializeSeed<'de> for Top {
    type Value = Option<TopFields>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top {
    type Value = Option<TopFields>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object with an `objects` list")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = TopFields {
            ty: None,
            objects: None,
        };
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "type" => out.ty = Some(map.next_value()?),
                "objects" => out.objects = Some(map.next_value_seed(Objects { max: self.max })?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Some(out))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    scalars_are_none!();
}

/// The `objects` list, refused past `max` elements.
struct Objects {
    max: usize,
}

impl<'de> DeserializeSeed<'de> for Objects {
    type Value = Option<Vec<Value>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Objects {
    type Value = Option<Vec<Value>>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of STIX objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element::<Value>()? {
            if items.len() == self.max {
                return Err(serde::de::Error::custom(TOO_MANY));
            }
            items.push(v);
        }
        Ok(Some(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    scalars_are_none!();
}

/// Wraps objects in a STIX 2.1 bundle with the given bundle id.
pub fn to_bundle(id: &str, objects: Vec<Value>) -> Value {
    let mut map = Map::new();
    map.insert("type".into(), "bundle".into());
    map.insert("id".into(), id.into());
    map.insert("objects".into(), Value::Array(objects));
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &str, max: usize, expected: Result<usize, &str>) {
        match (objects_at_most(body.as_bytes(), max), expected) {
            (Ok(v), Ok(n)) => assert_eq!(v.len(), n, "{body}"),
            (Err(e), Err(kind)) => assert!(format!("{e:?}").starts_with(kind), "{body}: {e:?}"),
            (got, want) => panic!("{body}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn bodies() {
        check(r#"{"objects": [{}, {}]}"#, 10, Ok(2));
        check(
            r#"{"type": "bundle", "id": "x", "objects": [1], "extra": [[[]]]}"#,
            10,
            Ok(1),
        );
        check(r#"{}"#, 10, Ok(0));
        check(r#"{"objects": [1, 2, 3]}"#, 2, Err("TooMany"));
        check(r#"{"objects": [1, 2]}"#, 2, Ok(2));
        check(
            r#"{"type": "indicator", "objects": []}"#,
            10,
            Err("NotBundle"),
        );
        check(r#"{"type": "bundle"}"#, 10, Err("NoObjects"));
        check(r#"{"objects": {"a": 1}}"#, 10, Err("NoObjects"));
        check(r#"[1, 2]"#, 10, Err("NotObject"));
        check(r#""text""#, 10, Err("NotObject"));
        check(r#"{"objects": [1,"#, 10, Err("Json"));
        check(r#"{"objects": []} trailing"#, 10, Err("Json"));
    }
}
