//! A typed model of the STIX 2.1 objects Accord reads and builds.
//!
//! The exchange stores and forwards objects as JSON maps; this model is a view over that JSON
//! for code that builds or reads well-known objects. It is shaped by one promise: it is
//! lossless. [`Object::from_json`] followed by [`Object::to_json`] gives back an equal JSON
//! value for every object that passes [`crate::validate()`]. So:
//!
//! - every struct ends in an `extra` map that keeps the properties it does not name (custom
//!   `x_` properties, properties of later STIX versions);
//! - the properties every object may carry live in one shared [`Common`];
//! - numbers that STIX calls integers are kept as [`Number`], so `50.0` stays `50.0`;
//! - every type this model does not name, STIX or custom (`x-...`), is an [`Other`], which is
//!   just the common properties and the rest.
//!
//! The model does not enforce required properties or value ranges beyond what the Rust types
//! say: [`crate::validate()`] does that, and reports every problem at once.

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Number, Value};

use crate::{StixId, Timestamp};

/// Why a JSON object does not fit the model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The object has no `type` property, or it is not a string.
    #[error("the object has no string `type` property")]
    NoType,
    /// A property the model types is missing or has the wrong shape (for example, an
    /// indicator without `pattern`, or a `created` that is not a timestamp).
    #[error("the `{object_type}` object does not fit the model: {source}")]
    Shape {
        /// The object's `type`.
        object_type: String,
        /// What serde found wrong.
        #[source]
        source: serde_json::Error,
    },
}

/// The properties that any STIX object may carry, whatever its type.
///
/// `created` and `modified` are required on domain and relationship objects and absent from
/// most observables; [`crate::validate()`] says which applies where. `type` is not here: it is
/// implied by the [`Object`] variant (or kept in [`Other::object_type`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Common {
    /// `type--UUID`.
    pub id: StixId,
    /// `"2.1"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_version: Option<String>,
    /// The identity that made the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by_ref: Option<StixId>,
    /// When the first version was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// When this version was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<Timestamp>,
    /// Whether the producer has withdrawn the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<bool>,
    /// Free classification terms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    /// 0-100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Number>,
    /// Language of the text properties (RFC 5646).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Pointers to non-STIX information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_references: Option<Vec<ExternalReference>>,
    /// Marking definitions that apply to the whole object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_marking_refs: Option<Vec<StixId>>,
    /// Marking definitions or languages that apply to parts of the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granular_markings: Option<Vec<GranularMarking>>,
    /// Extensions by extension-definition id or predefined `-ext` name; kept as JSON because
    /// their shape is defined elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Map<String, Value>>,
    /// Whether an observable's values were defanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defanged: Option<bool>,
}

impl Common {
    /// Common properties with only an id set.
    pub fn new(id: StixId) -> Self {
        Common {
            id,
            spec_version: None,
            created_by_ref: None,
            created: None,
            modified: None,
            revoked: None,
            labels: None,
            confidence: None,
            lang: None,
            external_references: None,
            object_marking_refs: None,
            granular_markings: None,
            extensions: None,
            defanged: None,
        }
    }
}

/// A pointer to information outside STIX (a report, a CVE entry, an ATT&CK page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalReference {
    /// The system or organisation the reference is from (`cve`, `mitre-attack`...).
    pub source_name: String,
    /// Prose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where the information is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Hashes of what `url` points to, by algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashes: Option<BTreeMap<String, String>>,
    /// The identifier in the source (`CVE-2021-44228`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Properties not named above.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A phase of a kill chain (`mitre-attack` / `initial-access`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KillChainPhase {
    /// The kill chain.
    pub kill_chain_name: String,
    /// The phase in it.
    pub phase_name: String,
    /// Properties not named above.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A marking (or a language) applied to the parts of an object named by `selectors`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GranularMarking {
    /// The marking definition; exactly one of this and `lang` is present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marking_ref: Option<StixId>,
    /// The language of the selected text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Paths into the object: `description`, `external_references.[0].url`.
    pub selectors: Vec<String>,
    /// Properties not named above.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The opinion vocabulary, from strongly disagree to strongly agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Agreement {
    /// `strongly-disagree`.
    StronglyDisagree,
    /// `disagree`.
    Disagree,
    /// `neutral`.
    Neutral,
    /// `agree`.
    Agree,
    /// `strongly-agree`.
    StronglyAgree,
}

/// What an extension definition defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExtensionType {
    /// A new domain object type.
    NewSdo,
    /// A new observable type.
    NewSco,
    /// A new relationship object type.
    NewSro,
    /// Properties nested under the extension's key in `extensions`.
    PropertyExtension,
    /// Properties at the top level of the object.
    ToplevelPropertyExtension,
}

/// Declares one STIX type's struct: the shared [`Common`], the properties the specification
/// requires, the optional ones (as `Option`, left out of the JSON when `None`), and `extra`.
macro_rules! stix_struct {
    (
        $(#[$doc:meta])*
        $name:ident {
            required { $( $(#[$rdoc:meta])* $req:ident : $rty:ty, )* }
            optional { $( $(#[$odoc:meta])* $opt:ident : $oty:ty, )* }
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            /// Properties every object may carry.
            #[serde(flatten)]
            pub common: Common,
            $( $(#[$rdoc])* pub $req: $rty, )*
            $(
                $(#[$odoc])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $opt: Option<$oty>,
            )*
            /// Properties not named above: custom ones and any this model does not type.
            #[serde(flatten)]
            pub extra: Map<String, Value>,
        }
    };
}

stix_struct! {
    /// `attack-pattern`: a way adversaries try to compromise targets (a technique).
    AttackPattern {
        required { name: String, }
        optional {
            description: String,
            aliases: Vec<String>,
            kill_chain_phases: Vec<KillChainPhase>,
        }
    }
}

stix_struct! {
    /// `campaign`: a set of adversary behaviour over time against a set of targets.
    Campaign {
        required { name: String, }
        optional {
            description: String,
            aliases: Vec<String>,
            first_seen: Timestamp,
            last_seen: Timestamp,
            objective: String,
        }
    }
}

stix_struct! {
    /// `grouping`: objects that share a context, without the claim of a finished report.
    Grouping {
        required {
            /// `suspicious-activity`, `malware-analysis`, `unspecified`...
            context: String,
            object_refs: Vec<StixId>,
        }
        optional {
            name: String,
            description: String,
        }
    }
}

stix_struct! {
    /// `identity`: an individual, organisation or group.
    Identity {
        required { name: String, }
        optional {
            description: String,
            roles: Vec<String>,
            identity_class: String,
            sectors: Vec<String>,
            contact_information: String,
        }
    }
}

stix_struct! {
    /// `incident`: a security incident (a stub in STIX 2.1).
    Incident {
        required { name: String, }
        optional {
            description: String,
            kill_chain_phases: Vec<KillChainPhase>,
        }
    }
}

stix_struct! {
    /// `indicator`: a pattern that detects suspicious or malicious activity.
    Indicator {
        required {
            pattern: String,
            /// `stix`, `snort`, `yara`...
            pattern_type: String,
            valid_from: Timestamp,
        }
        optional {
            name: String,
            description: String,
            indicator_types: Vec<String>,
            pattern_version: String,
            valid_until: Timestamp,
            kill_chain_phases: Vec<KillChainPhase>,
        }
    }
}

stix_struct! {
    /// `intrusion-set`: adversary behaviour and resources believed to have one organisation
    /// behind them.
    IntrusionSet {
        required { name: String, }
        optional {
            description: String,
            aliases: Vec<String>,
            first_seen: Timestamp,
            last_seen: Timestamp,
            goals: Vec<String>,
            resource_level: String,
            primary_motivation: String,
            secondary_motivations: Vec<String>,
        }
    }
}

stix_struct! {
    /// `note`: analyst text attached to other objects.
    Note {
        required {
            content: String,
            object_refs: Vec<StixId>,
        }
        optional {
            /// A summary of `content`.
            r#abstract: String,
            authors: Vec<String>,
        }
    }
}

stix_struct! {
    /// `observed-data`: what was seen, when, and how often.
    ObservedData {
        required {
            first_observed: Timestamp,
            last_observed: Timestamp,
            /// 1-999,999,999.
            number_observed: Number,
        }
        optional {
            object_refs: Vec<StixId>,
            /// The STIX 2.0 way (deprecated): observables inline, keyed by local names.
            objects: Map<String, Value>,
        }
    }
}

stix_struct! {
    /// `opinion`: how far someone agrees with other objects.
    Opinion {
        required {
            opinion: Agreement,
            object_refs: Vec<StixId>,
        }
        optional {
            explanation: String,
            authors: Vec<String>,
        }
    }
}

stix_struct! {
    /// `report`: finished intelligence about a set of objects.
    Report {
        required {
            name: String,
            published: Timestamp,
            object_refs: Vec<StixId>,
        }
        optional {
            description: String,
            report_types: Vec<String>,
        }
    }
}

stix_struct! {
    /// `threat-actor`: an individual, group or organisation believed to act with malicious
    /// intent.
    ThreatActor {
        required { name: String, }
        optional {
            description: String,
            threat_actor_types: Vec<String>,
            aliases: Vec<String>,
            first_seen: Timestamp,
            last_seen: Timestamp,
            roles: Vec<String>,
            goals: Vec<String>,
            sophistication: String,
            resource_level: String,
            primary_motivation: String,
            secondary_motivations: Vec<String>,
            personal_motivations: Vec<String>,
        }
    }
}

stix_struct! {
    /// `relationship`: a typed link from one object to another (`indicates`, `uses`...).
    Relationship {
        required {
            relationship_type: String,
            source_ref: StixId,
            target_ref: StixId,
        }
        optional {
            description: String,
            start_time: Timestamp,
            stop_time: Timestamp,
        }
    }
}

stix_struct! {
    /// `sighting`: the belief that something (an indicator, a malware...) was seen.
    Sighting {
        required { sighting_of_ref: StixId, }
        optional {
            description: String,
            first_seen: Timestamp,
            last_seen: Timestamp,
            /// 0-999,999,999.
            count: Number,
            observed_data_refs: Vec<StixId>,
            where_sighted_refs: Vec<StixId>,
            summary: bool,
        }
    }
}

stix_struct! {
    /// `marking-definition`: a data marking (TLP, a statement, or one defined by extension).
    /// It has `created` but never `modified`: a marking definition is not versioned.
    MarkingDefinition {
        required {}
        optional {
            name: String,
            /// `statement` or `tlp` (TLP 1.0); absent when the marking is an extension.
            definition_type: String,
            definition: Map<String, Value>,
        }
    }
}

stix_struct! {
    /// `extension-definition`: the definition of a new type or new properties.
    ExtensionDefinition {
        required {
            name: String,
            /// A URL or prose: the normative definition.
            schema: String,
            version: String,
            extension_types: Vec<ExtensionType>,
        }
        optional {
            description: String,
            /// With `toplevel-property-extension` only: the properties it adds.
            extension_properties: Vec<String>,
        }
    }
}

stix_struct! {
    /// `artifact`: binary data, inline (`payload_bin`) or by `url` with `hashes`.
    Artifact {
        required {}
        optional {
            mime_type: String,
            /// Base64.
            payload_bin: String,
            url: String,
            hashes: BTreeMap<String, String>,
            encryption_algorithm: String,
            decryption_key: String,
        }
    }
}

stix_struct! {
    /// `domain-name`.
    DomainName {
        required { value: String, }
        optional { resolves_to_refs: Vec<StixId>, }
    }
}

stix_struct! {
    /// `email-addr`.
    EmailAddr {
        required { value: String, }
        optional {
            display_name: String,
            belongs_to_ref: StixId,
        }
    }
}

stix_struct! {
    /// `file`: at least one of `hashes` and `name`.
    File {
        required {}
        optional {
            hashes: BTreeMap<String, String>,
            /// Bytes; a non-negative integer.
            size: Number,
            name: String,
            name_enc: String,
            magic_number_hex: String,
            mime_type: String,
            ctime: Timestamp,
            mtime: Timestamp,
            atime: Timestamp,
            parent_directory_ref: StixId,
            contains_refs: Vec<StixId>,
            content_ref: StixId,
        }
    }
}

stix_struct! {
    /// `ipv4-addr`: an address or a CIDR block.
    Ipv4Addr {
        required { value: String, }
        optional {
            resolves_to_refs: Vec<StixId>,
            belongs_to_refs: Vec<StixId>,
        }
    }
}

stix_struct! {
    /// `ipv6-addr`: an address or a CIDR block.
    Ipv6Addr {
        required { value: String, }
        optional {
            resolves_to_refs: Vec<StixId>,
            belongs_to_refs: Vec<StixId>,
        }
    }
}

stix_struct! {
    /// `url`.
    Url {
        required { value: String, }
        optional {}
    }
}

stix_struct! {
    /// `user-account`.
    UserAccount {
        required {}
        optional {
            user_id: String,
            credential: String,
            account_login: String,
            account_type: String,
            display_name: String,
            is_service_account: bool,
            is_privileged: bool,
            can_escalate_privs: bool,
            is_disabled: bool,
            account_created: Timestamp,
            account_expires: Timestamp,
            credential_last_changed: Timestamp,
            account_first_login: Timestamp,
            account_last_login: Timestamp,
        }
    }
}

/// Any other object, STIX (`malware`, `tool`...) or custom (`x-mitre-tactic`): its type, the
/// common properties, and everything else as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Other {
    /// The `type` property.
    #[serde(skip)]
    pub object_type: String,
    /// Properties every object may carry.
    #[serde(flatten)]
    pub common: Common,
    /// Every other property.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Declares [`Object`] with one variant per modelled type and the code that dispatches on
/// `type`, so that the list of types is written once.
macro_rules! objects {
    ($( $variant:ident = $type_name:literal, )*) => {
        /// A STIX object, typed when Accord models its type and [`Object::Other`] otherwise.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum Object {
            $(
                #[doc = concat!("`", $type_name, "`.")]
                $variant($variant),
            )*
            /// Every other type, STIX or custom.
            Other(Other),
        }

        impl Object {
            /// Reads an object from its JSON. Every property the model does not name is kept,
            /// so [`Object::to_json`] gives back an equal value for any object that passes
            /// [`crate::validate()`].
            pub fn from_json(mut map: Map<String, Value>) -> Result<Object, ModelError> {
                let object_type = match map.shift_remove("type") {
                    Some(Value::String(t)) => t,
                    _ => return Err(ModelError::NoType),
                };
                let body = Value::Object(map);
                let parsed = match object_type.as_str() {
                    $( $type_name => serde_json::from_value(body).map(Object::$variant), )*
                    _ => serde_json::from_value::<Other>(body).map(|mut other| {
                        other.object_type = object_type.clone();
                        Object::Other(other)
                    }),
                };
                parsed.map_err(|source| ModelError::Shape { object_type, source })
            }

            /// The object's JSON, `type` first.
            pub fn to_json(&self) -> Map<String, Value> {
                let body = match self {
                    $( Object::$variant(o) => to_map(o), )*
                    Object::Other(o) => to_map(o),
                };
                let mut map = Map::with_capacity(body.len() + 1);
                map.insert("type".into(), Value::String(self.object_type().to_owned()));
                map.extend(body);
                map
            }

            /// The `type` property.
            pub fn object_type(&self) -> &str {
                match self {
                    $( Object::$variant(_) => $type_name, )*
                    Object::Other(o) => &o.object_type,
                }
            }

            /// The properties every object may carry.
            pub fn common(&self) -> &Common {
                match self {
                    $( Object::$variant(o) => &o.common, )*
                    Object::Other(o) => &o.common,
                }
            }

            /// The properties every object may carry, to change.
            pub fn common_mut(&mut self) -> &mut Common {
                match self {
                    $( Object::$variant(o) => &mut o.common, )*
                    Object::Other(o) => &mut o.common,
                }
            }

            /// The properties the model does not name.
            pub fn extra(&self) -> &Map<String, Value> {
                match self {
                    $( Object::$variant(o) => &o.extra, )*
                    Object::Other(o) => &o.extra,
                }
            }

            /// The `id` property.
            pub fn id(&self) -> &StixId {
                &self.common().id
            }
        }

        $(
            impl From<$variant> for Object {
                fn from(o: $variant) -> Object {
                    Object::$variant(o)
                }
            }
        )*
    };
}

objects! {
    AttackPattern = "attack-pattern",
    Campaign = "campaign",
    Grouping = "grouping",
    Identity = "identity",
    Incident = "incident",
    Indicator = "indicator",
    IntrusionSet = "intrusion-set",
    Note = "note",
    ObservedData = "observed-data",
    Opinion = "opinion",
    Report = "report",
    ThreatActor = "threat-actor",
    Relationship = "relationship",
    Sighting = "sighting",
    MarkingDefinition = "marking-definition",
    ExtensionDefinition = "extension-definition",
    Artifact = "artifact",
    DomainName = "domain-name",
    EmailAddr = "email-addr",
    File = "file",
    Ipv4Addr = "ipv4-addr",
    Ipv6Addr = "ipv6-addr",
    Url = "url",
    UserAccount = "user-account",
}

/// Serialises a model struct to a JSON map. Every field is a string, boolean, JSON number,
/// list or string-keyed map, so this cannot fail and always gives an object; the empty map
/// is never returned in practice.
fn to_map<T: Serialize>(value: &T) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

impl From<Object> for Value {
    fn from(o: Object) -> Value {
        Value::Object(o.to_json())
    }
}

impl Serialize for Object {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Object {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Object::from_json(Map::deserialize(d)?).map_err(D::Error::custom)
    }
}

// Ids and timestamps travel as their text. The impls live here, beside the only code that
// needs them, and parse on the way in so that a model value is always well formed.

impl Serialize for StixId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for StixId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        StixId::parse(&s).map_err(D::Error::custom)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Reads `input` into the model, checks the variant's type name, and checks that writing
    /// it back gives the same JSON.
    fn check(input: Value, expected_type: &str) {
        let Value::Object(map) = input.clone() else {
            panic!("not an object: {input}")
        };
        let object = Object::from_json(map).unwrap();
        assert_eq!(object.object_type(), expected_type);
        assert_eq!(
            matches!(object, Object::Other(_)),
            expected_type.starts_with("x-") || expected_type == "malware"
        );
        assert_eq!(Value::from(object), input);
    }

    #[test]
    fn round_trips() {
        check(
            json!({
                "type": "indicator", "spec_version": "2.1",
                "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z",
                "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
                "valid_from": "2016-01-01T00:00:00Z", "confidence": 50.0,
                "external_references": [{"source_name": "x", "url": "https://x.invalid", "x_note": null}],
                "x_acme_score": {"a": [1, 2, null]}
            }),
            "indicator",
        );
        check(
            json!({
                "type": "x-mitre-tactic", "spec_version": "2.1",
                "id": "x-mitre-tactic--b03163eb-7e81-4fed-9819-641bf7c99507",
                "created": "2024-11-22T16:43:58.074918Z", "modified": "2024-11-22T16:43:58.074918Z",
                "name": "Plan Strategy", "x_mitre_shortname": "plan-strategy"
            }),
            "x-mitre-tactic",
        );
        check(
            json!({
                "type": "malware", "spec_version": "2.1",
                "id": "malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
                "created": "2016-05-12T08:17:27.000Z", "modified": "2016-05-12T08:17:27.000Z",
                "name": "Cryptolocker", "is_family": false
            }),
            "malware",
        );
        check(
            json!({"type": "domain-name", "id": "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5", "value": "example.com"}),
            "domain-name",
        );
    }

    #[test]
    fn shape_errors() {
        let missing =
            json!({"type": "indicator", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"});
        let Value::Object(map) = missing else {
            unreachable!()
        };
        let err = Object::from_json(map).unwrap_err();
        assert!(err.to_string().contains("missing field `pattern`"), "{err}");
        assert!(matches!(
            Object::from_json(Map::new()),
            Err(ModelError::NoType)
        ));
    }

    #[test]
    fn built_objects_carry_their_type() {
        let id = StixId::parse("identity--5827f771-6663-4959-86c3-a0962a6d5474").unwrap();
        let identity = Identity {
            common: Common::new(id),
            name: "ACME".into(),
            description: None,
            roles: None,
            identity_class: Some("organization".into()),
            sectors: None,
            contact_information: None,
            extra: Map::new(),
        };
        let json = Object::from(identity).to_json();
        assert_eq!(
            Value::Object(json),
            json!({"type": "identity", "id": "identity--5827f771-6663-4959-86c3-a0962a6d5474",
                   "name": "ACME", "identity_class": "organization"})
        );
    }
}
