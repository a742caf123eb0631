//! Validation of the STIX 2.1 MUST rules on ingest.
//!
//! [`validate`] checks one object and returns every violation it finds, each naming the
//! object, the property (as a path such as `granular_markings[0].selectors[1]`) and the rule,
//! so that a publisher can fix a whole bundle in one go. A value of the wrong JSON type is a
//! violation like any other.
//!
//! The rules are the specification's MUSTs, bounded by real data: what the OASIS reference
//! validator (stix2-validator 3.2.0) accepts without warnings is not rejected, except where
//! a rule is deliberately stricter (listed on [`validate`]). Feeds are produced against that
//! validator, and an exchange that refuses them is no use. Two allowances come from
//! MITRE ATT&CK: timestamps are ordered at the coarser of their two precisions, and an empty
//! string in a custom `*_ref` property means "no reference".
//!
//! The checks run in layers: rules for every top-level property (names, nulls, empty lists,
//! references, binary and hex encodings), the common properties, then a table of the
//! properties each known type requires and types, then the rules that tie properties
//! together (`valid_until > valid_from`, `payload_bin` xor `url`...). Properties that the
//! typed [`crate::model`] reads are all type-checked here, which is what lets the model
//! promise to round-trip every object that passes.

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

/// Checks one object against the STIX 2.1 MUST rules and returns every violation.
///
/// Some rules are stricter than stix2-validator 3.2.0, which does not check them; each is a
/// MUST of the specification: an object of type `T` must have an id `T--...` (the reference
/// checks this for STIX types only), `spec_version` must be `"2.1"` (the reference takes
/// `"2.0"` objects as STIX 2.0), `created_by_ref` must point to an identity and
/// `object_marking_refs` to marking definitions, every `*_ref`/`*_refs` property (custom
/// ones too, at any depth) must hold identifiers, an extension definition must have
/// `created_by_ref`, a granular marking has one of `marking_ref` and `lang` and not both, a
/// selector must resolve (an index into a string does not), and property names have at most
/// 250 characters.
pub fn validate(object: &Map<String, Value>) -> Result<(), Vec<Violation>> {
    let name = object
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("object without an id")
        .to_owned();
    let mut check = Check {
        object,
        name,
        out: Vec::new(),
    };
    check.run();
    if check.out.is_empty() {
        Ok(())
    } else {
        Err(check.out)
    }
}

/// What the object is, for the rules that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Domain and relationship objects, extension definitions, language content, and custom
    /// objects that carry `created` or `modified`: versioned by `created`/`modified`.
    Versioned,
    /// `marking-definition`: `created`, never `modified`.
    Marking,
    /// Cyber-observable objects, and custom objects with neither `created` nor `modified`.
    Observable,
}

/// The STIX 2.1 domain, relationship and meta object types other than marking-definition.
const VERSIONED_TYPES: &[&str] = &[
    "attack-pattern",
    "campaign",
    "course-of-action",
    "grouping",
    "identity",
    "incident",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "location",
    "malware",
    "malware-analysis",
    "note",
    "observed-data",
    "opinion",
    "report",
    "threat-actor",
    "tool",
    "vulnerability",
    "relationship",
    "sighting",
    "language-content",
    "extension-definition",
];

/// The STIX 2.1 cyber-observable object types.
const OBSERVABLE_TYPES: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];

/// Property names STIX 2.1 reserves; they must not appear on any object.
const RESERVED_PROPERTIES: &[&str] = &["action", "phone_numbers", "severity", "username"];

const OPINIONS: &[&str] = &[
    "strongly-disagree",
    "disagree",
    "neutral",
    "agree",
    "strongly-agree",
];

const EXTENSION_TYPES: &[&str] = &[
    "new-sdo",
    "new-sco",
    "new-sro",
    "property-extension",
    "toplevel-property-extension",
];

const ENCRYPTION_ALGORITHMS: &[&str] = &["AES-256-GCM", "ChaCha20-Poly1305", "mime-type-indicated"];

/// Types a relationship or sighting may not point at.
const NOT_RELATABLE: &[&str] = &[
    "relationship",
    "sighting",
    "bundle",
    "marking-definition",
    "language-content",
];

/// The JSON shape a property must have.
#[derive(Debug, Clone, Copy)]
enum Prop {
    /// A string.
    Str,
    /// `true` or `false`.
    Bool,
    /// An integer in an inclusive range.
    Int(i64, i64),
    /// A number in an inclusive range.
    Num(f64, f64),
    /// A timestamp.
    Time,
    /// A list of strings.
    Strs,
    /// A string from a closed vocabulary.
    OneOf(&'static [&'static str]),
    /// A list of strings from a closed vocabulary.
    SomeOf(&'static [&'static str]),
    /// A JSON object.
    Obj,
    /// A hashes dictionary (algorithm to hash).
    Hashes,
    /// A list of kill chain phases.
    KillChain,
}

/// The properties every object may carry, with their shapes. `external_references`,
/// `granular_markings`, `extensions` and the references have checks of their own.
const COMMON: &[(&str, Prop)] = &[
    ("spec_version", Prop::Str),
    ("created", Prop::Time),
    ("modified", Prop::Time),
    ("revoked", Prop::Bool),
    ("labels", Prop::Strs),
    ("confidence", Prop::Int(0, 100)),
    ("lang", Prop::Str),
    ("defanged", Prop::Bool),
];

/// What a known type requires, and the shapes of its own properties. References
/// (`*_ref`, `*_refs`) are checked for every type by name and are not listed.
struct Rules {
    required: &'static [&'static str],
    props: &'static [(&'static str, Prop)],
}

fn rules(object_type: &str) -> Rules {
    use Prop::*;
    const BILLION: i64 = 999_999_999;
    let (required, props): (&'static [&'static str], &'static [(&'static str, Prop)]) =
        match object_type {
            "attack-pattern" => (
                &["name"],
                &[
                    ("name", Str),
                    ("description", Str),
                    ("aliases", Strs),
                    ("kill_chain_phases", KillChain),
                ],
            ),
            "campaign" => (
                &["name"],
                &[
                    ("name", Str),
                    ("description", Str),
                    ("aliases", Strs),
                    ("first_seen", Time),
                    ("last_seen", Time),
                    ("objective", Str),
                ],
            ),
            "course-of-action" | "vulnerability" => {
                (&["name"], &[("name", Str), ("description", Str)])
            }
            "grouping" => (
                &["context", "object_refs"],
                &[("name", Str), ("description", Str), ("context", Str)],
            ),
            "identity" => (
                &["name"],
                &[
                    ("name", Str),
                    ("description", Str),
                    ("roles", Strs),
                    ("identity_class", Str),
                    ("sectors", Strs),
                    ("contact_information", Str),
                ],
            ),
            "incident" => (
                &["name"],
                &[
                    ("name", Str),
                    ("description", Str),
                    ("kill_chain_phases", KillChain),
                ],
            ),
            "indicator" => (
                &["pattern", "pattern_type", "valid_from"],
                &[
                    ("name", Str),
                    ("description", Str),
                    ("indicator_types", Strs),
                    ("pattern", Str),
                    ("pattern_type", Str),
                    ("pattern_version", Str),
                    ("valid_from", Time),
                    ("valid_until", Time),
                    ("kill_chain_phases", KillChain),
                ],
            ),
            "infrastructure" => (
                &["name"],
                &[
                    ("name", Str),
                    ("description", Str),
                    ("infrastructure_types", Strs),
                    ("aliases", Strs),
                    ("kill_chain_phases", KillChain),
                    ("first_seen", Time),
                    ("last_seen", Time),
                ],
            ),
            "intrusion-set" => (
                &["name"],
                &[
                    ("name", Str),
                    ("description", Str),
                    ("aliases", Strs),
                    ("first_seen", Time),
                    ("last_seen", Time),
                    ("goals", Strs),
                    ("resource_level", Str),
                    ("primary_motivation", Str),
                    ("secondary_motivations", Strs),
                ],
            ),
            "location" => (
                &[],
                &[
                    ("name", Str),
                    ("description", Str),
                    ("latitude", Num(-90.0, 90.0)),
                    ("longitude", Num(-180.0, 180.0)),
                    ("precision", Num(0.0, f64::MAX)),
                    ("region", Str),
                    ("country", Str),
                    ("administrative_area", Str),
                    ("city", Str),
                    ("street_address", Str),
                    ("postal_code", Str),
                ],
            ),
            "malware" => (
                &["is_family"],
                &[
                    ("name", Str),
                    ("description", Str),
                    ("malware_types", Strs),
                    ("is_family", Bool),
                    ("aliases", Strs),
                    ("kill_chain_phases", KillChain),
                    ("first_seen", Time),
                    ("last_seen", Time),
                ],
            ),
            "malware-analysis" => (
                &["product"],
                &[
                    ("product", Str),
                    ("submitted", Time),
                    ("analysis_started", Time),
                    ("analysis_ended", Time),
                    ("result", Str),
                ],
            ),
            "note" => (
                &["content", "object_refs"],
                &[("abstract", Str), ("content", Str), ("authors", Strs)],
            ),
            "observed-data" => (
                &["first_observed", "last_observed", "number_observed"],
                &[
                    ("first_observed", Time),
                    ("last_observed", Time),
                    ("number_observed", Int(1, BILLION)),
                    ("objects", Obj),
                ],
            ),
            "opinion" => (
                &["opinion", "object_refs"],
                &[
                    ("explanation", Str),
                    ("authors", Strs),
                    ("opinion", OneOf(OPINIONS)),
                ],
            ),
            "report" => (
                &["name", "published", "object_refs"],
                &[
                    ("name", Str),
                    ("description", Str),
                    ("report_types", Strs),
                    ("published", Time),
                ],
            ),
            "threat-actor" => (
                &["name"],
                &[
                    ("name", Str),
                    ("description", Str),
                    ("threat_actor_types", Strs),
                    ("aliases", Strs),
                    ("first_seen", Time),
                    ("last_seen", Time),
                    ("roles", Strs),
                    ("goals", Strs),
                    ("sophistication", Str),
                    ("resource_level", Str),
                    ("primary_motivation", Str),
                    ("secondary_motivations", Strs),
                    ("personal_motivations", Strs),
                ],
            ),
            "tool" => (
                &["name"],
                &[
                    ("name", Str),
                    ("description", Str),
                    ("tool_types", Strs),
                    ("aliases", Strs),
                    ("kill_chain_phases", KillChain),
                    ("tool_version", Str),
                ],
            ),
            "relationship" => (
                &["relationship_type", "source_ref", "target_ref"],
                &[
                    ("relationship_type", Str),
                    ("description", Str),
                    ("start_time", Time),
                    ("stop_time", Time),
                ],
            ),
            "sighting" => (
                &["sighting_of_ref"],
                &[
                    ("description", Str),
                    ("first_seen", Time),
                    ("last_seen", Time),
                    ("count", Int(0, BILLION)),
                    ("summary", Bool),
                ],
            ),
            "language-content" => (
                &["object_ref", "contents"],
                &[("object_modified", Time), ("contents", Obj)],
            ),
            "marking-definition" => (
                &[],
                &[("name", Str), ("definition_type", Str), ("definition", Obj)],
            ),
            "extension-definition" => (
                &[
                    "created_by_ref",
                    "name",
                    "schema",
                    "version",
                    "extension_types",
                ],
                &[
                    ("name", Str),
                    ("description", Str),
                    ("schema", Str),
                    ("version", Str),
                    ("extension_types", SomeOf(EXTENSION_TYPES)),
                    ("extension_properties", Strs),
                ],
            ),
            "artifact" => (
                &[],
                &[
                    ("mime_type", Str),
                    ("url", Str),
                    ("hashes", Hashes),
                    ("encryption_algorithm", OneOf(ENCRYPTION_ALGORITHMS)),
                    ("decryption_key", Str),
                ],
            ),
            "domain-name" | "url" | "ipv4-addr" | "ipv6-addr" => (&["value"], &[("value", Str)]),
            "email-addr" => (&["value"], &[("value", Str), ("display_name", Str)]),
            "file" => (
                &[],
                &[
                    ("hashes", Hashes),
                    ("size", Int(0, i64::MAX)),
                    ("name", Str),
                    ("name_enc", Str),
                    ("mime_type", Str),
                    ("ctime", Time),
                    ("mtime", Time),
                    ("atime", Time),
                ],
            ),
            "user-account" => (
                &[],
                &[
                    ("user_id", Str),
                    ("credential", Str),
                    ("account_login", Str),
                    ("account_type", Str),
                    ("display_name", Str),
                    ("is_service_account", Bool),
                    ("is_privileged", Bool),
                    ("can_escalate_privs", Bool),
                    ("is_disabled", Bool),
                    ("account_created", Time),
                    ("account_expires", Time),
                    ("credential_last_changed", Time),
                    ("account_first_login", Time),
                    ("account_last_login", Time),
                ],
            ),
            "autonomous-system" => (&["number"], &[]),
            "directory" => (
                &["path"],
                &[("ctime", Time), ("mtime", Time), ("atime", Time)],
            ),
            "email-message" => (&["is_multipart"], &[("date", Time)]),
            "mac-addr" => (&["value"], &[("value", Str)]),
            "mutex" | "software" => (&["name"], &[("name", Str)]),
            "network-traffic" => (&["protocols"], &[("start", Time), ("end", Time)]),
            "process" => (&[], &[("created_time", Time)]),
            "windows-registry-key" => (&[], &[("modified_time", Time)]),
            "x509-certificate" => (
                &[],
                &[("validity_not_before", Time), ("validity_not_after", Time)],
            ),
            _ => (&[], &[]),
        };
    Rules { required, props }
}

/// What a reference property may point at.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// Only these types.
    Only(&'static [&'static str]),
    /// Anything but these types.
    Not(&'static [&'static str]),
}

/// The target rule for a top-level reference property of a type, if it has one.
fn target(object_type: &str, property: &str) -> Option<Target> {
    Some(match (object_type, property) {
        (_, "created_by_ref") => Target::Only(&["identity"]),
        (_, "object_marking_refs") => Target::Only(&["marking-definition"]),
        ("relationship", "source_ref" | "target_ref") | ("sighting", "sighting_of_ref") => {
            Target::Not(NOT_RELATABLE)
        }
        ("sighting", "observed_data_refs") => Target::Only(&["observed-data"]),
        ("sighting", "where_sighted_refs") => Target::Only(&["identity", "location"]),
        _ => return None,
    })
}

/// How to check the references under one top-level property.
#[derive(Debug, Clone, Copy)]
struct RefRule {
    /// What the property itself may point at.
    target: Option<Target>,
    /// Whether the property is a custom one, where `""` is taken as no reference.
    custom: bool,
}

/// One run of the checks over one object.
struct Check<'a> {
    object: &'a Map<String, Value>,
    name: String,
    out: Vec<Violation>,
}

impl<'a> Check<'a> {
    fn bad(&mut self, property: impl Into<String>, rule: impl Into<String>) {
        self.out.push(Violation {
            object: self.name.clone(),
            property: property.into(),
            rule: rule.into(),
        });
    }

    fn get(&self, property: &str) -> Option<&'a Value> {
        self.object.get(property)
    }

    /// The property as the JSON kind `kind` reads (`Value::as_array`, `Value::as_object`):
    /// `None` when it is absent or null, and `None` with a violation (`rule`) when it is of
    /// another kind.
    fn typed<T: ?Sized>(
        &mut self,
        property: &str,
        kind: fn(&'a Value) -> Option<&'a T>,
        rule: &str,
    ) -> Option<&'a T> {
        let value = self.get(property)?;
        let typed = kind(value);
        if typed.is_none() && !value.is_null() {
            self.bad(property, rule);
        }
        typed
    }

    fn has(&self, property: &str) -> bool {
        self.object.contains_key(property)
    }

    fn run(&mut self) {
        let object_type = self.type_and_id();
        let object_type = object_type.as_deref().unwrap_or("");
        let kind = kind(object_type, self.object);
        for (key, value) in self.object {
            self.top_level_property(object_type, key, value);
        }
        for (property, prop) in COMMON {
            self.shape(property, *prop);
        }
        self.versioning(kind);
        self.external_references();
        self.granular_markings(object_type);
        self.extensions();
        let rules = rules(object_type);
        for property in rules.required {
            if self.get(property).is_none() {
                self.bad(*property, "is required but missing");
            }
        }
        for (property, prop) in rules.props {
            self.shape(property, *prop);
        }
        self.type_specific(object_type);
    }

    /// Checks `type` and `id`, and returns the type when it is a string.
    fn type_and_id(&mut self) -> Option<String> {
        let object_type = match self.get("type") {
            None => {
                self.bad("type", "is required but missing");
                None
            }
            Some(Value::String(t)) => {
                if !crate::id::is_valid_type_name(t) {
                    self.bad(
                        "type",
                        format!(
                            "`{t}` is not a valid type name: 3-250 characters of a-z, 0-9 and \
                             '-', starting with a letter, not ending in '-', without '--'"
                        ),
                    );
                } else if t == "action" {
                    self.bad("type", "`action` is reserved by STIX 2.1");
                }
                Some(t.clone())
            }
            Some(_) => {
                self.bad("type", "must be a string");
                None
            }
        };
        match self.get("id") {
            None => self.bad("id", "is required but missing"),
            Some(Value::String(id)) => match StixId::parse(id) {
                Err(e) => self.bad("id", e.to_string()),
                Ok(id) => {
                    if let Some(t) = object_type.as_deref().filter(|t| *t != id.object_type()) {
                        self.bad("id", format!("must start with the object's type, `{t}--`"));
                    }
                }
            },
            Some(_) => self.bad("id", "must be a string of the form type--UUID"),
        }
        object_type
    }

    /// Rules that hold for every top-level property, by name and value alone.
    fn top_level_property(&mut self, object_type: &str, key: &str, value: &Value) {
        if !is_valid_property_name(key) {
            self.bad(
                key,
                "is not a valid property name: 3-250 ASCII letters, digits and '_', \
                 starting with a letter",
            );
        }
        if RESERVED_PROPERTIES.contains(&key) {
            self.bad(
                key,
                "is reserved by STIX 2.1 and must not be used; rename the custom property",
            );
        }
        match value {
            Value::Null => {
                self.bad(key, "must not be null; leave the property out instead");
                return;
            }
            Value::Array(items) if items.is_empty() => {
                self.bad(
                    key,
                    "must not be an empty list; leave the property out instead",
                );
                return;
            }
            _ => {}
        }
        if key.ends_with("_bin") && !value.as_str().is_some_and(is_base64) {
            self.bad(key, "must be base64 (RFC 4648), as every `*_bin` property");
        }
        if key.ends_with("_hex") && !value.as_str().is_some_and(is_hex) {
            self.bad(
                key,
                "must be an even number of hexadecimal digits, as every `*_hex` property",
            );
        }
        match key {
            // Checked with their own rules.
            "granular_markings" => {}
            // Deprecated inline observables refer to each other by local keys ("0", "1").
            "objects" if object_type == "observed-data" => {}
            _ => {
                let stix_type = VERSIONED_TYPES.contains(&object_type)
                    || OBSERVABLE_TYPES.contains(&object_type)
                    || object_type == "marking-definition";
                let common = matches!(key, "created_by_ref" | "object_marking_refs");
                let rule = RefRule {
                    target: target(object_type, key),
                    custom: key.starts_with("x_") || (!stix_type && !common),
                };
                self.references(key, key, value, rule);
            }
        }
    }

    /// Checks that every `*_ref` under `key` (the key itself included) holds an identifier
    /// and every `*_refs` a list of them. In a custom property (`custom`) an empty string
    /// counts as no reference: ATT&CK publishes `"x_mitre_data_source_ref": ""`.
    fn references(&mut self, path: &str, key: &str, value: &Value, rule: RefRule) {
        if key.ends_with("_refs") {
            match value {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        self.reference(&format!("{path}[{i}]"), item, rule.target);
                    }
                }
                _ => self.bad(path, "must be a list of identifiers (type--UUID)"),
            }
        } else if key.ends_with("_ref") {
            if !(rule.custom && value.as_str() == Some("")) {
                self.reference(path, value, rule.target);
            }
        } else {
            let nested = RefRule {
                target: None,
                ..rule
            };
            match value {
                Value::Object(map) => {
                    for (k, v) in map {
                        self.references(&format!("{path}.{k}"), k, v, nested);
                    }
                }
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        self.references(&format!("{path}[{i}]"), key, item, nested);
                    }
                }
                _ => {}
            }
        }
    }

    /// Checks one reference and returns it when it is an identifier.
    fn reference(&mut self, path: &str, value: &Value, target: Option<Target>) -> Option<StixId> {
        let Some(s) = value.as_str() else {
            self.bad(path, "must be an identifier (type--UUID)");
            return None;
        };
        let id = match StixId::parse(s) {
            Ok(id) => id,
            Err(e) => {
                self.bad(path, format!("must be an identifier: {e}"));
                return None;
            }
        };
        match target {
            Some(Target::Only(types)) if !types.contains(&id.object_type()) => {
                let want = types.join(" or ");
                self.bad(path, format!("must reference a {want}, not `{id}`"));
            }
            Some(Target::Not(types)) if types.contains(&id.object_type()) => {
                let t = id.object_type();
                self.bad(path, format!("must not reference a {t} (`{id}`)"));
            }
            _ => {}
        }
        Some(id)
    }

    /// Checks the shape of a top-level property when it is present. Null and empty lists
    /// were reported already.
    fn shape(&mut self, property: &str, prop: Prop) {
        let Some(value) = self.get(property) else {
            return;
        };
        if value.is_null() || value.as_array().is_some_and(Vec::is_empty) {
            return;
        }
        self.shape_at(property, value, prop);
    }

    fn shape_at(&mut self, path: &str, value: &Value, prop: Prop) {
        match prop {
            Prop::Hashes => self.hashes(path, value),
            Prop::KillChain => self.kill_chain_phases(path, value),
            _ => {
                if let Some(rule) = shape_rule(value, prop) {
                    self.bad(path, rule);
                }
            }
        }
    }

    /// `spec_version`, `created` and `modified`, which depend on what the object is.
    fn versioning(&mut self, kind: Kind) {
        match self.get("spec_version") {
            None if kind != Kind::Observable => self.bad(
                "spec_version",
                "is required on domain, relationship and meta objects, and must be \"2.1\"",
            ),
            Some(Value::String(v)) if v != "2.1" => {
                self.bad("spec_version", format!("must be \"2.1\", not \"{v}\""));
            }
            _ => {}
        }
        match kind {
            Kind::Versioned => {
                for property in ["created", "modified"] {
                    match self.get(property).and_then(Value::as_str) {
                        None if self.get(property).is_none() => {
                            self.bad(property, "is required but missing");
                        }
                        Some(s) if Timestamp::parse(s).is_ok() && !has_millis(s) => self.bad(
                            property,
                            "must be precise to at least the millisecond \
                             (YYYY-MM-DDTHH:MM:SS.sssZ)",
                        ),
                        _ => {}
                    }
                }
            }
            Kind::Marking => {
                if self.get("created").is_none() {
                    self.bad("created", "is required but missing");
                }
                if self.get("modified").is_some() {
                    self.bad(
                        "modified",
                        "must not be present: a marking definition is never versioned",
                    );
                }
            }
            Kind::Observable => {}
        }
        self.order("modified", "created", false);
    }

    /// Reports `later` when both timestamps parse and `later` comes before `earlier` (or
    /// equals it, when `strict`), compared at the coarser of the two precisions: `...38.011Z`
    /// is not earlier than `...38.011975Z`, since it only says "within that millisecond".
    /// (ATT&CK publishes such pairs; the reference validator compares the text and agrees.)
    fn order(&mut self, later: &str, earlier: &str, strict: bool) {
        let parse = |p: &str| {
            self.get(p)
                .and_then(Value::as_str)
                .and_then(|s| Timestamp::parse(s).ok())
        };
        let (Some(l), Some(e)) = (parse(later), parse(earlier)) else {
            return;
        };
        let digits = fraction_digits(l.as_str()).min(fraction_digits(e.as_str()));
        let unit = 10i128.pow(9 - digits);
        let (l, e) = (l.nanos().div_euclid(unit), e.nanos().div_euclid(unit));
        if l < e || (strict && l == e) {
            let relation = if strict {
                "later than"
            } else {
                "later than or equal to"
            };
            self.bad(later, format!("must be {relation} `{earlier}`"));
        }
    }

    fn external_references(&mut self) {
        let Some(items) = self.typed(
            "external_references",
            Value::as_array,
            "must be a list of external references",
        ) else {
            return;
        };
        for (i, item) in items.iter().enumerate() {
            let path = format!("external_references[{i}]");
            let Some(reference) = item.as_object() else {
                self.bad(path, "must be an object with source_name");
                continue;
            };
            match reference.get("source_name") {
                None => self.bad(format!("{path}.source_name"), "is required but missing"),
                Some(v) if !v.is_string() => {
                    self.bad(format!("{path}.source_name"), "must be a string");
                }
                _ => {}
            }
            for property in ["description", "url", "external_id"] {
                if reference.get(property).is_some_and(|v| !v.is_string()) {
                    self.bad(format!("{path}.{property}"), "must be a string");
                }
            }
            if ["description", "url", "external_id"]
                .iter()
                .all(|p| reference.get(*p).is_none())
            {
                self.bad(
                    path.clone(),
                    "needs at least one of description, url and external_id besides source_name",
                );
            }
            if let Some(hashes) = reference.get("hashes") {
                self.hashes(&format!("{path}.hashes"), hashes);
            }
            let source = reference.get("source_name").and_then(Value::as_str);
            let external_id = reference.get("external_id");
            let (well_formed, form): (fn(&str) -> bool, &str) = match source {
                Some("cve") => (is_cve_id, "a CVE id (CVE-YYYY-NNNN)"),
                Some("capec") => (is_capec_id, "a CAPEC id (CAPEC-N)"),
                _ => continue,
            };
            if !external_id.and_then(Value::as_str).is_some_and(well_formed) {
                self.bad(
                    format!("{path}.external_id"),
                    format!(
                        "must be {form} when source_name is `{}`",
                        source.unwrap_or("")
                    ),
                );
            }
        }
    }

    fn kill_chain_phases(&mut self, path: &str, value: &Value) {
        let Some(items) = value.as_array() else {
            self.bad(path, "must be a list of kill chain phases");
            return;
        };
        for (i, item) in items.iter().enumerate() {
            let path = format!("{path}[{i}]");
            let Some(phase) = item.as_object() else {
                self.bad(
                    path,
                    "must be an object with kill_chain_name and phase_name",
                );
                continue;
            };
            for property in ["kill_chain_name", "phase_name"] {
                match phase.get(property) {
                    None => self.bad(format!("{path}.{property}"), "is required but missing"),
                    Some(v) if !v.is_string() => {
                        self.bad(format!("{path}.{property}"), "must be a string");
                    }
                    _ => {}
                }
            }
        }
    }

    fn hashes(&mut self, path: &str, value: &Value) {
        let Some(hashes) = value.as_object() else {
            self.bad(
                path,
                "must be an object mapping hash algorithm to hash value",
            );
            return;
        };
        if hashes.is_empty() {
            self.bad(path, "must not be empty; leave the property out instead");
        }
        for (algorithm, hash) in hashes {
            let path = format!("{path}.{algorithm}");
            let Some(hash) = hash.as_str() else {
                self.bad(path, "must be a string");
                continue;
            };
            let digits = match algorithm.as_str() {
                "MD5" => 32,
                "SHA-1" => 40,
                "SHA-256" | "SHA3-256" => 64,
                "SHA-512" | "SHA3-512" => 128,
                _ => continue,
            };
            if hash.len() != digits || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                self.bad(path, format!("must be {digits} hexadecimal digits"));
            }
        }
    }

    fn granular_markings(&mut self, object_type: &str) {
        let Some(items) = self.typed(
            "granular_markings",
            Value::as_array,
            "must be a list of granular markings",
        ) else {
            return;
        };
        let own_id = self.get("id").and_then(Value::as_str);
        for (i, item) in items.iter().enumerate() {
            let path = format!("granular_markings[{i}]");
            let Some(marking) = item.as_object() else {
                self.bad(
                    path,
                    "must be an object with selectors and marking_ref or lang",
                );
                continue;
            };
            match (marking.get("marking_ref"), marking.get("lang")) {
                (Some(_), Some(_)) => {
                    self.bad(
                        path.clone(),
                        "must have one of marking_ref and lang, not both",
                    );
                }
                (None, None) => self.bad(path.clone(), "must have marking_ref or lang"),
                _ => {}
            }
            if let Some(r) = marking.get("marking_ref") {
                let path = format!("{path}.marking_ref");
                let target = Some(Target::Only(&["marking-definition"]));
                if let Some(id) = self.reference(&path, r, target)
                    && object_type == "marking-definition"
                    && Some(id.as_str()) == own_id
                {
                    self.bad(path, "a marking definition must not mark itself");
                }
            }
            if marking.get("lang").is_some_and(|v| !v.is_string()) {
                self.bad(format!("{path}.lang"), "must be a string");
            }
            let path = format!("{path}.selectors");
            match marking.get("selectors") {
                None => self.bad(path, "is required but missing"),
                Some(Value::Array(selectors)) if !selectors.is_empty() => {
                    for (j, selector) in selectors.iter().enumerate() {
                        let path = format!("{path}[{j}]");
                        match selector.as_str() {
                            None => self.bad(path, "must be a string"),
                            Some(s) => {
                                if let Err(why) = resolve(self.object, s) {
                                    self.bad(
                                        path,
                                        format!("selector `{s}` does not resolve: {why}"),
                                    );
                                }
                            }
                        }
                    }
                }
                Some(_) => self.bad(path, "must be a non-empty list of selectors"),
            }
        }
    }

    fn extensions(&mut self) {
        let Some(extensions) = self.typed(
            "extensions",
            Value::as_object,
            "must be an object keyed by extension-definition id or `-ext` name",
        ) else {
            return;
        };
        if extensions.is_empty() {
            self.bad(
                "extensions",
                "must not be empty; leave the property out instead",
            );
        }
        for (key, body) in extensions {
            let path = format!("extensions.{key}");
            if key.starts_with("extension-definition--") {
                if let Err(e) = StixId::parse(key) {
                    self.bad(path, format!("is not an extension-definition id: {e}"));
                    continue;
                }
                let Some(body) = body.as_object() else {
                    self.bad(path, "must be an object with extension_type");
                    continue;
                };
                match body.get("extension_type") {
                    None => self.bad(format!("{path}.extension_type"), "is required but missing"),
                    Some(v) if !v.as_str().is_some_and(|s| EXTENSION_TYPES.contains(&s)) => {
                        self.bad(
                            format!("{path}.extension_type"),
                            format!("must be one of: {}", EXTENSION_TYPES.join(", ")),
                        );
                    }
                    _ => {}
                }
            } else if is_predefined_extension_name(key) {
                if body.as_object().is_none_or(|b| b.is_empty()) {
                    self.bad(path, "must be a non-empty object");
                }
            } else {
                self.bad(
                    path,
                    "an extension key must be an extension-definition id or a predefined \
                     extension name ending in `-ext`",
                );
            }
        }
    }

    /// Rules that tie a type's properties together.
    fn type_specific(&mut self, object_type: &str) {
        match object_type {
            "indicator" => self.order("valid_until", "valid_from", true),
            "relationship" => {
                self.order("stop_time", "start_time", true);
                if let Some(t) = self.get("relationship_type").and_then(Value::as_str) {
                    let ok = !t.is_empty()
                        && t.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                    if !ok {
                        self.bad("relationship_type", "must be only a-z, 0-9 and '-'");
                    }
                }
            }
            "campaign" | "infrastructure" | "intrusion-set" | "sighting" | "threat-actor" => {
                self.order("last_seen", "first_seen", false);
            }
            "malware" => {
                self.order("last_seen", "first_seen", false);
                if self.get("is_family") == Some(&Value::Bool(true)) && self.get("name").is_none() {
                    self.bad("name", "is required when is_family is true");
                }
            }
            "malware-analysis"
                if self.get("result").is_none() && self.get("analysis_sco_refs").is_none() =>
            {
                self.bad("result", "one of result and analysis_sco_refs is required");
            }
            "observed-data" => self.observed_data(),
            "location" => self.location(),
            "marking-definition" => self.marking_definition(),
            "extension-definition" => {
                let types = self.get("extension_types").and_then(Value::as_array);
                let toplevel =
                    types.is_some_and(|t| t.iter().any(|v| v == "toplevel-property-extension"));
                if self.has("extension_properties") && types.is_some() && !toplevel {
                    self.bad(
                        "extension_properties",
                        "is only allowed when extension_types has toplevel-property-extension",
                    );
                }
            }
            "artifact" => self.artifact(),
            "file" if self.get("hashes").is_none() && self.get("name").is_none() => {
                self.bad("hashes", "a file needs hashes or name (or both)");
            }
            "ipv4-addr" => self.address("value", is_ipv4_cidr, "an IPv4 address or CIDR block"),
            "ipv6-addr" => self.address("value", is_ipv6_cidr, "an IPv6 address or CIDR block"),
            "email-addr" => self.address("value", is_email_address, "an email address"),
            "user-account" => {
                const OWN: &[&str] = &[
                    "extensions",
                    "user_id",
                    "credential",
                    "account_login",
                    "account_type",
                    "display_name",
                    "is_service_account",
                    "is_privileged",
                    "can_escalate_privs",
                    "is_disabled",
                    "account_created",
                    "account_expires",
                    "credential_last_changed",
                    "account_first_login",
                    "account_last_login",
                ];
                if OWN.iter().all(|p| self.get(p).is_none()) {
                    self.bad(
                        "user_id",
                        "a user account needs at least one of its own properties \
                         (user_id, account_login, ...)",
                    );
                }
            }
            _ => {}
        }
    }

    fn address(&mut self, property: &str, well_formed: fn(&str) -> bool, what: &str) {
        if let Some(s) = self.get(property).and_then(Value::as_str)
            && !well_formed(s)
        {
            self.bad(property, format!("`{s}` is not {what}"));
        }
    }

    fn observed_data(&mut self) {
        self.order("last_observed", "first_observed", false);
        match (self.get("object_refs"), self.get("objects")) {
            (Some(_), Some(_)) => self.bad(
                "objects",
                "must not be present together with object_refs; use object_refs only \
                 (objects is deprecated)",
            ),
            (None, None) => self.bad(
                "object_refs",
                "is required but missing (or the deprecated objects)",
            ),
            _ => {}
        }
        if let Some(objects) = self.get("objects").and_then(Value::as_object) {
            if objects.is_empty() {
                self.bad("objects", "must not be empty");
            }
            for (key, observable) in objects {
                if !observable.get("type").is_some_and(Value::is_string) {
                    self.bad(
                        format!("objects.{key}"),
                        "must be an observable object with a string type",
                    );
                }
            }
        }
    }

    fn location(&mut self) {
        let (latitude, longitude) = (self.has("latitude"), self.has("longitude"));
        let placed = self.has("region") || self.has("country") || (latitude && longitude);
        if !placed {
            self.bad(
                "region",
                "a location needs region, country, or latitude and longitude",
            );
        }
        if latitude != longitude {
            let missing = if latitude { "longitude" } else { "latitude" };
            self.bad(missing, "latitude and longitude must be given together");
        }
        if self.has("precision") && !(latitude && longitude) {
            self.bad("precision", "is only allowed with latitude and longitude");
        }
    }

    fn marking_definition(&mut self) {
        let own_id = self.get("id").and_then(Value::as_str);
        let marks_itself = self
            .get("object_marking_refs")
            .and_then(Value::as_array)
            .is_some_and(|refs| refs.iter().any(|r| r.as_str() == own_id));
        if own_id.is_some() && marks_itself {
            self.bad(
                "object_marking_refs",
                "a marking definition must not mark itself",
            );
        }
        if self.get("extensions").is_none() {
            for property in ["definition_type", "definition"] {
                if self.get(property).is_none() {
                    self.bad(
                        property,
                        "is required unless the marking is defined by extensions",
                    );
                }
            }
        }
        let definition = self.get("definition").and_then(Value::as_object);
        match self.get("definition_type").and_then(Value::as_str) {
            Some("statement") => {
                if let Some(d) = definition
                    && !d.get("statement").is_some_and(Value::is_string)
                {
                    self.bad(
                        "definition.statement",
                        "a statement marking needs a string statement",
                    );
                }
            }
            Some("tlp") => {
                let Some(d) = definition else { return };
                let level = d.get("tlp").and_then(Value::as_str);
                let Some(level @ ("white" | "green" | "amber" | "red")) = level else {
                    self.bad("definition.tlp", "must be one of: white, green, amber, red");
                    return;
                };
                let expected = match level {
                    "white" => crate::tlp::TLP1_IDS[0].0,
                    "green" => crate::tlp::TLP1_IDS[1].0,
                    "amber" => crate::tlp::TLP1_IDS[2].0,
                    _ => crate::tlp::TLP1_IDS[3].0,
                };
                if own_id != Some(expected) {
                    self.bad(
                        "id",
                        format!(
                            "a TLP 1.0 marking must be the predefined one; TLP:{} is `{expected}`",
                            level.to_ascii_uppercase()
                        ),
                    );
                }
            }
            _ => {}
        }
    }

    fn artifact(&mut self) {
        match (self.has("payload_bin"), self.has("url")) {
            (true, true) => self.bad("url", "must not be present together with payload_bin"),
            (false, false) => self.bad("payload_bin", "an artifact needs payload_bin or url"),
            (false, true) if !self.has("hashes") => {
                self.bad("hashes", "is required when the artifact is given by url");
            }
            _ => {}
        }
        if self.has("decryption_key") && !self.has("encryption_algorithm") {
            self.bad(
                "encryption_algorithm",
                "is required when decryption_key is present",
            );
        }
    }
}

/// Which rules on versioning apply: by type for STIX types, and for custom types by
/// whether the object carries `created` or `modified` (as the reference validator decides).
fn kind(object_type: &str, object: &Map<String, Value>) -> Kind {
    if object_type == "marking-definition" {
        Kind::Marking
    } else if VERSIONED_TYPES.contains(&object_type) {
        Kind::Versioned
    } else if OBSERVABLE_TYPES.contains(&object_type) {
        Kind::Observable
    } else if object.contains_key("created") || object.contains_key("modified") {
        Kind::Versioned
    } else {
        Kind::Observable
    }
}

/// The rule `value` breaks, if any, for the simple shapes (not hashes or kill chains).
fn shape_rule(value: &Value, prop: Prop) -> Option<String> {
    let (ok, rule) = match prop {
        Prop::Str => (value.is_string(), "must be a string".to_owned()),
        Prop::Bool => (value.is_boolean(), "must be true or false".to_owned()),
        Prop::Obj => (value.is_object(), "must be a JSON object".to_owned()),
        Prop::Int(min, max) => (
            integer(value).is_some_and(|n| (min..=max).contains(&n)),
            if max == i64::MAX {
                format!("must be an integer of at least {min}")
            } else {
                format!("must be an integer from {min} to {max}")
            },
        ),
        Prop::Num(min, max) => (
            value.as_f64().is_some_and(|n| n >= min && n <= max),
            if max == f64::MAX {
                format!("must be a number of at least {min}")
            } else {
                format!("must be a number from {min} to {max}")
            },
        ),
        Prop::Time => match value.as_str().map(Timestamp::parse) {
            None => (
                false,
                "must be a timestamp string (YYYY-MM-DDTHH:MM:SS[.sss]Z)".to_owned(),
            ),
            Some(Err(e)) => (false, e.to_string()),
            Some(Ok(_)) => (true, String::new()),
        },
        Prop::Strs => (
            value
                .as_array()
                .is_some_and(|items| items.iter().all(Value::is_string)),
            "must be a list of strings".to_owned(),
        ),
        Prop::OneOf(words) => (
            value.as_str().is_some_and(|s| words.contains(&s)),
            format!("must be one of: {}", words.join(", ")),
        ),
        Prop::SomeOf(words) => (
            value.as_array().is_some_and(|items| {
                items
                    .iter()
                    .all(|v| v.as_str().is_some_and(|s| words.contains(&s)))
            }),
            format!("must be a list of values from: {}", words.join(", ")),
        ),
        Prop::Hashes | Prop::KillChain => (true, String::new()),
    };
    (!ok).then_some(rule)
}

/// STIX 2.1 property names are 3-250 ASCII letters, digits and underscores, starting with a
/// letter. The reference validator's pattern, `^([a-z][a-z0-9_]{2,249})|id$`, is anchored at
/// one end only, so it also takes any name that starts with three such characters or ends
/// in `id` (`abc-def`); those are accepted too, within the 250-character limit.
fn is_valid_property_name(name: &str) -> bool {
    let b = name.as_bytes();
    if b.len() > 250 {
        return false;
    }
    let word = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
    let strict = b.len() >= 3 && b[0].is_ascii_alphabetic() && b.iter().all(word);
    let lenient = (b.len() >= 3
        && b[0].is_ascii_lowercase()
        && b[1..3]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_'))
        || name.ends_with("id");
    strict || lenient
}

/// `[a-z][a-z0-9]*(-[a-z0-9]+)*-ext`, the form of predefined extension names (`pdf-ext`).
fn is_predefined_extension_name(key: &str) -> bool {
    let Some(stem) = key.strip_suffix("-ext") else {
        return false;
    };
    stem.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
        && stem.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// The number of fractional-second digits in a timestamp's text, at most 9.
fn fraction_digits(s: &str) -> u32 {
    let digits = s.split_once('.').map_or(0, |(_, fraction)| {
        fraction.bytes().take_while(u8::is_ascii_digit).count()
    });
    u32::try_from(digits.min(9)).unwrap_or(9)
}

/// Whether `created`/`modified` text has at least three fractional digits.
fn has_millis(s: &str) -> bool {
    fraction_digits(s) >= 3
}

/// An integer, written as one or as a float with no fractional part (JSON Schema counts
/// `50.0` as an integer, and so does the reference validator).
fn integer(value: &Value) -> Option<i64> {
    if let Some(n) = value.as_i64() {
        return Some(n);
    }
    if value.is_u64() {
        return Some(i64::MAX);
    }
    let f = value.as_f64()?;
    // Saturating conversion; the range checks only need the order to be right.
    (f.fract() == 0.0).then_some(f as i64)
}

/// Standard base64 with padding, at least one group, as the reference validator's pattern.
fn is_base64(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || !b.len().is_multiple_of(4) {
        return false;
    }
    let padding = b.iter().rev().take_while(|c| **c == b'=').count();
    padding <= 2
        && b[..b.len() - padding]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.len().is_multiple_of(2) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `CVE-YYYY-NNNN`, with four or more digits and no leading zero beyond four.
fn is_cve_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, number)) = rest.split_once('-') else {
        return false;
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    year.len() == 4
        && digits(year)
        && digits(number)
        && number.len() >= 4
        && (number.len() == 4 || !number.starts_with('0'))
}

fn is_capec_id(s: &str) -> bool {
    s.strip_prefix("CAPEC-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// An address, optionally with `/prefix` up to `max_prefix`.
fn with_prefix(s: &str, max_prefix: u8) -> Option<&str> {
    match s.rsplit_once('/') {
        None => Some(s),
        Some((address, prefix)) => {
            let ok = !prefix.is_empty()
                && prefix.bytes().all(|b| b.is_ascii_digit())
                && prefix.parse::<u8>().is_ok_and(|p| p <= max_prefix);
            ok.then_some(address)
        }
    }
}

fn is_ipv4_cidr(s: &str) -> bool {
    with_prefix(s, 32).is_some_and(|a| a.parse::<std::net::Ipv4Addr>().is_ok())
}

fn is_ipv6_cidr(s: &str) -> bool {
    with_prefix(s, 128).is_some_and(|a| {
        // A zone (`fe80::1%eth0`) is allowed, as the reference validator allows it.
        let address = a.split_once('%').map_or(a, |(address, _)| address);
        address.parse::<std::net::Ipv6Addr>().is_ok()
    })
}

fn is_email_address(s: &str) -> bool {
    s.split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
}

/// Follows a granular-marking selector (STIX 2.1 section 7.2.3.1) through the object:
/// `.`-separated property names, and `[n]` to pick a list item.
fn resolve(object: &Map<String, Value>, selector: &str) -> Result<(), String> {
    let mut current: Option<&Value> = None;
    let mut walked = String::new();
    for segment in selector.split('.') {
        if let Some(index) = segment.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            let i: usize = index
                .parse()
                .map_err(|_| format!("`{segment}` is neither a property name nor [n]"))?;
            current = match current {
                None => return Err("a selector must start with a property name".into()),
                Some(Value::Array(items)) => Some(
                    items
                        .get(i)
                        .ok_or_else(|| format!("`{walked}` has no item {i}"))?,
                ),
                Some(_) => return Err(format!("`{walked}` is not a list")),
            };
        } else {
            let map = match current {
                None => object,
                Some(Value::Object(map)) => map,
                Some(_) => return Err(format!("`{walked}` has no properties")),
            };
            current = Some(map.get(segment).ok_or_else(|| {
                if walked.is_empty() {
                    format!("the object has no property `{segment}`")
                } else {
                    format!("`{walked}` has no property `{segment}`")
                }
            })?);
        }
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(segment);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Validates `input` and compares the violations, as `(property, words in the rule)`.
    fn check(input: Value, expected: &[(&str, &str)]) {
        let Value::Object(map) = input else {
            panic!("not an object")
        };
        let got = validate(&map).err().unwrap_or_default();
        let ok = got.len() == expected.len()
            && got
                .iter()
                .zip(expected)
                .all(|(v, (p, r))| v.property == *p && v.rule.contains(r));
        assert!(ok, "expected {expected:?}, got:\n{got:#?}");
    }

    fn identity() -> Value {
        json!({
            "type": "identity", "spec_version": "2.1",
            "id": "identity--311b2d2d-f010-4473-83ec-1edf84858f4c",
            "created": "2015-12-21T19:59:11.000Z", "modified": "2015-12-21T19:59:11.000Z",
            "name": "Cole Powers"
        })
    }

    fn with(mut base: Value, changes: Value) -> Value {
        if let (Value::Object(b), Value::Object(c)) = (&mut base, changes) {
            for (k, v) in c {
                b.insert(k, v);
            }
        }
        base
    }

    #[test]
    fn type_and_id() {
        check(identity(), &[]);
        check(
            with(identity(), json!({"type": "Identity"})),
            &[("type", "not a valid type name"), ("id", "`Identity--`")],
        );
        check(
            with(
                identity(),
                json!({"id": "identity--311b2d2d-f010-0473-83ec-1edf84858f4c"}),
            ),
            &[("id", "UUID")],
        );
        check(
            with(
                identity(),
                json!({"id": "campaign--311b2d2d-f010-4473-83ec-1edf84858f4c"}),
            ),
            &[("id", "must start with the object's type")],
        );
        check(
            with(identity(), json!({"type": 7})),
            &[("type", "must be a string")],
        );
    }

    #[test]
    fn timestamps() {
        check(
            with(identity(), json!({"created": "2015-12-21T19:59:11+01:00"})),
            &[("created", "UTC")],
        );
        check(
            with(identity(), json!({"modified": "2015-12-21T19:59:11Z"})),
            &[("modified", "millisecond")],
        );
        check(
            with(identity(), json!({"modified": "2014-12-21T19:59:11.000Z"})),
            &[("modified", "later than or equal to `created`")],
        );
        check(
            with(identity(), json!({"created": 5})),
            &[("created", "timestamp")],
        );
    }

    #[test]
    fn property_names() {
        for (name, ok) in [
            ("x_acme_score", true),
            ("x_Acme_Score", true),
            ("X_acme", true),
            ("abc-def", true),
            ("ab", false),
            ("_private", false),
            ("x-acme", false),
            ("1abc", false),
            ("Xid", true),
        ] {
            assert_eq!(is_valid_property_name(name), ok, "{name}");
        }
        assert!(!is_valid_property_name(&"a".repeat(251)));
    }

    #[test]
    fn selectors() {
        let object = json!({"description": "text", "external_references": [{"source_name": "x", "url": "u"}]});
        let Value::Object(object) = object else {
            unreachable!()
        };
        for (selector, result) in [
            ("description", Ok(())),
            ("external_references.[0].url", Ok(())),
            ("external_references.[0]", Ok(())),
            ("external_references.[1]", Err("has no item 1")),
            ("external_references.url", Err("has no properties")),
            ("description.[0]", Err("is not a list")),
            ("[0]", Err("must start with a property name")),
            ("name", Err("no property `name`")),
            (
                "external_references.[x]",
                Err("neither a property name nor [n]"),
            ),
        ] {
            match (resolve(&object, selector), result) {
                (Ok(()), Ok(())) => {}
                (Err(got), Err(want)) => assert!(got.contains(want), "{selector}: {got}"),
                (got, want) => panic!("{selector}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn addresses() {
        for (s, ok) in [
            ("198.51.100.3", true),
            ("198.51.100.0/24", true),
            ("198.51.100.0/33", false),
            ("198.51.100", false),
            ("01.2.3.4", false),
        ] {
            assert_eq!(is_ipv4_cidr(s), ok, "{s}");
        }
        for (s, ok) in [
            ("2001:db8::1", true),
            ("2001:db8::/32", true),
            ("fe80::1%eth0", true),
            ("2001:db8::/129", false),
            ("2001:db8:::1", false),
        ] {
            assert_eq!(is_ipv6_cidr(s), ok, "{s}");
        }
        assert!(is_cve_id("CVE-2021-44228"));
        assert!(is_cve_id("CVE-2014-0160"));
        assert!(!is_cve_id("CVE-2014-00160"));
        assert!(!is_cve_id("CVE-14-0160"));
        assert!(is_base64("aGVsbG8="));
        assert!(!is_base64("aGVsbG8"));
        assert!(!is_base64(""));
        assert!(!is_base64("a=GV"));
    }
}
