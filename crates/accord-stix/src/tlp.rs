//! Traffic Light Protocol markings: TLP 2.0, with TLP 1.0 mapped onto it.
//!
//! The exchange decides who may read an object from its strictest TLP marking. This module
//! only reads markings off an object; who may read what is decided by the access policy in
//! `accord-server`.

use serde_json::{Map, Value, json};
use std::fmt;
use std::str::FromStr;

/// A TLP 2.0 level, ordered from least to most strict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tlp {
    /// TLP:CLEAR (TLP 1.0 WHITE).
    Clear = 0,
    /// TLP:GREEN.
    Green = 1,
    /// TLP:AMBER.
    Amber = 2,
    /// TLP:AMBER+STRICT.
    AmberStrict = 3,
    /// TLP:RED.
    Red = 4,
}

/// Marking-definition ids of TLP 2.0, in [`Tlp`] order.
pub const TLP2_IDS: [&str; 5] = [
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
];

/// Marking-definition ids of TLP 1.0 (WHITE, GREEN, AMBER, RED) and their 2.0 equals.
pub const TLP1_IDS: [(&str, Tlp); 4] = [
    (
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        Tlp::Clear,
    ),
    (
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        Tlp::Green,
    ),
    (
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        Tlp::Amber,
    ),
    (
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        Tlp::Red,
    ),
];

/// OpenCTI's own id for TLP:AMBER+STRICT (OpenCTI and its connectors publish with it).
pub const OPENCTI_AMBER_STRICT: &str = "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37";

/// The extension that TLP 2.0 marking definitions carry their level in.
pub const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

impl Tlp {
    /// Every level, least strict first.
    pub const ALL: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    /// The level a marking-definition id stands for, TLP 1.0 or 2.0; `None` for any other
    /// marking (statements, custom markings).
    pub fn from_marking_ref(id: &str) -> Option<Tlp> {
        let id = id.to_ascii_lowercase();
        if let Some(i) = TLP2_IDS.iter().position(|m| *m == id) {
            return Some(Tlp::ALL[i]);
        }
        if id == OPENCTI_AMBER_STRICT {
            return Some(Tlp::AmberStrict);
        }
        TLP1_IDS.iter().find(|(m, _)| *m == id).map(|(_, t)| *t)
    }

    /// The TLP 2.0 marking-definition id.
    pub fn marking_ref(self) -> &'static str {
        TLP2_IDS[self as usize]
    }

    /// `clear`, `green`, `amber`, `amber+strict` or `red`.
    pub fn name(self) -> &'static str {
        ["clear", "green", "amber", "amber+strict", "red"][self as usize]
    }

    /// The small integer stored for this level (its rank).
    pub fn rank(self) -> u8 {
        self as u8
    }

    /// The level of a stored rank.
    pub fn from_rank(r: u8) -> Option<Tlp> {
        Tlp::ALL.get(usize::from(r)).copied()
    }

    /// The TLP 2.0 marking-definition object for this level, as published with the TLP 2.0
    /// STIX extension.
    pub fn marking_definition(self) -> Value {
        json!({
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": self.marking_ref(),
            "created": "2022-10-01T00:00:00.000Z",
            "name": format!("TLP:{}", self.name().to_ascii_uppercase()),
            "extensions": {
                TLP2_EXTENSION: {
                    "extension_type": "property-extension",
                    "tlp_2_0": self.name()
                }
            }
        })
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TLP:{}", self.name().to_ascii_uppercase())
    }
}

/// A TLP name that is not one of the levels.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a TLP level (clear, white, green, amber, amber+strict, red)")]
pub struct UnknownTlp(pub String);

impl FromStr for Tlp {
    type Err = UnknownTlp;
    /// Accepts the names case-insensitively, with or without `TLP:`, and WHITE for CLEAR.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let name = lower.strip_prefix("tlp:").unwrap_or(&lower);
        Ok(match name {
            "clear" | "white" => Tlp::Clear,
            "green" => Tlp::Green,
            "amber" => Tlp::Amber,
            "amber+strict" | "amber-strict" | "amber_strict" => Tlp::AmberStrict,
            "red" => Tlp::Red,
            _ => return Err(UnknownTlp(s.to_owned())),
        })
    }
}

/// The TLP level a `marking-definition` object defines, if it defines one: TLP 1.0
/// (`definition_type: tlp`), the TLP 2.0 extension (`tlp_2_0`), or a name such as
/// `TLP:AMBER+STRICT` (how OpenCTI names its own). Where these disagree the strictest wins.
pub fn of_definition(definition: &Map<String, Value>) -> Option<Tlp> {
    let mut found: Vec<Tlp> = Vec::new();
    let is_tlp_type = definition
        .get("definition_type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case("tlp"));
    if is_tlp_type && let Some(Value::Object(d)) = definition.get("definition") {
        found.extend(
            d.values()
                .filter_map(Value::as_str)
                .filter_map(|s| s.parse::<Tlp>().ok()),
        );
    }
    if let Some(Value::Object(ext)) = definition.get("extensions") {
        found.extend(
            ext.values()
                .filter_map(|e| e.get("tlp_2_0"))
                .filter_map(Value::as_str)
                .filter_map(|s| s.parse::<Tlp>().ok()),
        );
    }
    if let Some(name) = definition.get("name").and_then(Value::as_str)
        && name.trim().to_ascii_lowercase().starts_with("tlp:")
    {
        found.extend(name.parse::<Tlp>().ok());
    }
    found.into_iter().max()
}

/// Every marking a object references: `object_marking_refs` and the granular ones.
pub fn marking_refs(object: &Map<String, Value>) -> Vec<&str> {
    let object_level = object
        .get("object_marking_refs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    let granular = object
        .get("granular_markings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|g| g.get("marking_ref").and_then(Value::as_str));
    object_level.chain(granular).collect()
}

/// The strictest TLP marking on an object, counting `object_marking_refs` and every
/// `granular_markings[].marking_ref` (a part marked RED makes the whole object RED to the
/// exchange). `None` when the object carries no TLP marking.
/// Only the well-known TLP marking ids count here; see [`of_definition`] for the others.
pub fn strictest(object: &Map<String, Value>) -> Option<Tlp> {
    marking_refs(object)
        .into_iter()
        .filter_map(Tlp::from_marking_ref)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(object: Value, expected: Option<Tlp>) {
        let Value::Object(map) = object else {
            unreachable!()
        };
        assert_eq!(strictest(&map), expected);
    }

    #[test]
    fn strictest_marking_wins() {
        check(json!({}), None);
        check(
            json!({"object_marking_refs": [TLP2_IDS[1]]}),
            Some(Tlp::Green),
        );
        check(
            json!({"object_marking_refs": [TLP2_IDS[1], TLP2_IDS[3]]}),
            Some(Tlp::AmberStrict),
        );
        check(
            json!({"object_marking_refs": [TLP1_IDS[0].0]}),
            Some(Tlp::Clear),
        );
        check(
            json!({"object_marking_refs": [TLP1_IDS[3].0, TLP2_IDS[0]]}),
            Some(Tlp::Red),
        );
        check(
            json!({"object_marking_refs": [TLP2_IDS[0]],
                   "granular_markings": [{"marking_ref": TLP2_IDS[4], "selectors": ["description"]}]}),
            Some(Tlp::Red),
        );
        check(
            json!({"object_marking_refs": ["marking-definition--f79f25d2-8b96-4580-b169-eb7b613a7c31"]}),
            None,
        );
    }

    #[test]
    fn definitions() {
        let def = |v: Value| of_definition(v.as_object().unwrap());
        assert_eq!(
            def(json!({"definition_type": "tlp", "definition": {"tlp": "red"}})),
            Some(Tlp::Red)
        );
        assert_eq!(
            def(json!({"definition_type": "TLP", "definition": {"TLP": "TLP:AMBER+STRICT"}})),
            Some(Tlp::AmberStrict)
        );
        assert_eq!(
            def(json!({"extensions": {"x": {"tlp_2_0": "amber"}}})),
            Some(Tlp::Amber)
        );
        assert_eq!(
            def(json!({"name": "TLP:GREEN", "definition_type": "statement"})),
            Some(Tlp::Green)
        );
        assert_eq!(
            def(json!({"definition_type": "statement", "definition": {"statement": "(c)"}})),
            None
        );
        assert_eq!(
            Tlp::from_marking_ref(OPENCTI_AMBER_STRICT),
            Some(Tlp::AmberStrict)
        );
        assert_eq!(
            Tlp::from_marking_ref(&TLP2_IDS[4].to_ascii_uppercase()),
            Some(Tlp::Red)
        );
    }

    #[test]
    fn names() {
        assert_eq!("TLP:WHITE".parse::<Tlp>().unwrap(), Tlp::Clear);
        assert_eq!("amber+strict".parse::<Tlp>().unwrap(), Tlp::AmberStrict);
        assert!("orange".parse::<Tlp>().is_err());
        for t in Tlp::ALL {
            assert_eq!(Tlp::from_marking_ref(t.marking_ref()), Some(t));
            assert_eq!(t.name().parse::<Tlp>().unwrap(), t);
        }
    }
}
