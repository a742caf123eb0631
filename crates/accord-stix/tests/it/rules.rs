//! One broken example per rule: each must fail with the right property named, and with
//! nothing else wrong.

use accord_stix::validate;
use serde_json::{Map, Value, json};

use crate::fixtures::{self, IDENTITY, INDICATOR, broken, valid};

/// Validates `input` and matches the violations against `expected`, as
/// `(property path, words the rule contains)`, in any order, with none left over.
fn check(input: Map<String, Value>, expected: &[(&str, &str)]) {
    let mut got = validate(&input).err().unwrap_or_default();
    for (property, words) in expected {
        match got
            .iter()
            .position(|v| v.property == *property && v.rule.contains(words))
        {
            Some(i) => {
                got.remove(i);
            }
            None => panic!(
                "no violation ({property}, {words:?}) for {}; got: {:#?}",
                Value::Object(input.clone()),
                validate(&input).err().unwrap_or_default()
            ),
        }
    }
    assert!(got.is_empty(), "unexpected violations: {got:#?}");
}

#[test]
fn every_valid_example_passes() {
    for object in fixtures::all() {
        check(object.as_object().unwrap().clone(), &[]);
    }
}

#[test]
fn type_names() {
    check(
        broken("identity", json!({"type": "Identity"}), &[]),
        &[("type", "not a valid type name"), ("id", "`Identity--`")],
    );
    check(
        broken("identity", json!({"type": "id"}), &[]),
        &[("type", "not a valid type name"), ("id", "`id--`")],
    );
    check(
        broken("identity", json!({"type": "x-acme-"}), &[]),
        &[("type", "not a valid type name"), ("id", "`x-acme---`")],
    );
    check(
        broken(
            "x-acme-gadget",
            json!({"type": "action", "id": "action--a6e9345f-5a15-4c29-8bb3-7dcc5d168d64"}),
            &[],
        ),
        &[("type", "reserved")],
    );
    check(
        broken("identity", json!({"type": ["identity"]}), &[]),
        &[("type", "must be a string")],
    );
    check(
        broken("identity", json!({}), &["type"]),
        &[("type", "required")],
    );
}

#[test]
fn ids() {
    check(
        broken("identity", json!({}), &["id"]),
        &[("id", "required")],
    );
    check(
        broken(
            "identity",
            json!({"id": "identity-311b2d2d-f010-4473-83ec-1edf84858f4c"}),
            &[],
        ),
        &[("id", "type--uuid")],
    );
    check(
        broken(
            "identity",
            json!({"id": "identity--311b2d2d-f010-4473-83ec-1edf84858f4"}),
            &[],
        ),
        &[("id", "UUID")],
    );
    check(
        broken(
            "identity",
            json!({"id": "identity--311b2d2d-f010-0473-83ec-1edf84858f4c"}),
            &[],
        ),
        &[("id", "UUID")],
    );
    check(
        broken(
            "identity",
            json!({"id": "campaign--311b2d2d-f010-4473-83ec-1edf84858f4c"}),
            &[],
        ),
        &[("id", "`identity--`")],
    );
    check(
        broken("identity", json!({"id": 7}), &[]),
        &[("id", "must be a string")],
    );
}

#[test]
fn spec_version() {
    for t in [
        "identity",
        "relationship",
        "marking-definition",
        "extension-definition",
        "x-acme-widget",
    ] {
        check(
            broken(t, json!({}), &["spec_version"]),
            &[("spec_version", "required")],
        );
        check(
            broken(t, json!({"spec_version": "2.0"}), &[]),
            &[("spec_version", "\"2.1\"")],
        );
    }
    for t in ["domain-name", "x-acme-gadget"] {
        check(broken(t, json!({}), &["spec_version"]), &[]);
        check(
            broken(t, json!({"spec_version": "2.0"}), &[]),
            &[("spec_version", "\"2.1\"")],
        );
    }
    check(
        broken("ipv4-addr", json!({"spec_version": 2.1}), &[]),
        &[("spec_version", "string")],
    );
}

#[test]
fn timestamps_are_rfc3339_utc() {
    for (t, property) in [
        ("identity", "created"),
        ("identity", "modified"),
        ("indicator", "valid_from"),
        ("indicator", "valid_until"),
        ("campaign", "first_seen"),
        ("campaign", "last_seen"),
        ("threat-actor", "first_seen"),
        ("intrusion-set", "first_seen"),
        ("sighting", "first_seen"),
        ("sighting", "last_seen"),
        ("observed-data", "first_observed"),
        ("observed-data", "last_observed"),
        ("report", "published"),
        ("relationship", "start_time"),
        ("relationship", "stop_time"),
        ("marking-definition", "created"),
        ("file", "mtime"),
        ("user-account", "account_created"),
    ] {
        check(
            broken(t, json!({property: "2016-04-06T20:03:48+02:00"}), &[]),
            &[(property, "must be in UTC")],
        );
        check(
            broken(t, json!({property: "2016-04-06 20:03:48Z"}), &[]),
            &[(property, "RFC 3339")],
        );
        check(
            broken(t, json!({property: "2016-02-30T20:03:48Z"}), &[]),
            &[(property, "not a real date")],
        );
        check(
            broken(t, json!({property: 1459973028}), &[]),
            &[(property, "timestamp string")],
        );
    }
}

#[test]
fn created_and_modified() {
    for t in [
        "indicator",
        "relationship",
        "sighting",
        "extension-definition",
        "x-acme-widget",
    ] {
        check(
            broken(t, json!({}), &["modified"]),
            &[("modified", "required")],
        );
        check(
            broken(t, json!({"modified": "2000-01-01T00:00:00.000Z"}), &[]),
            &[("modified", "later than or equal to `created`")],
        );
    }
    check(
        broken("indicator", json!({}), &["created"]),
        &[("created", "required")],
    );
    check(
        broken("identity", json!({"created": "2015-12-21T19:59:11Z"}), &[]),
        &[("created", "millisecond")],
    );
    check(
        broken(
            "identity",
            json!({"modified": "2015-12-21T19:59:11.9Z"}),
            &[],
        ),
        &[("modified", "millisecond")],
    );
    // Marking definitions are never versioned.
    check(
        broken("marking-definition", json!({}), &["created"]),
        &[("created", "required")],
    );
    check(
        broken(
            "marking-definition",
            json!({"modified": "2016-08-01T00:00:00.000Z"}),
            &[],
        ),
        &[("modified", "never versioned")],
    );
    // Observables have neither; a custom object without them is taken as an observable.
    check(broken("x-acme-gadget", json!({}), &[]), &[]);
}

#[test]
fn required_properties() {
    for (t, property) in [
        ("indicator", "pattern"),
        ("indicator", "pattern_type"),
        ("indicator", "valid_from"),
        ("relationship", "relationship_type"),
        ("relationship", "source_ref"),
        ("relationship", "target_ref"),
        ("sighting", "sighting_of_ref"),
        ("observed-data", "first_observed"),
        ("observed-data", "last_observed"),
        ("observed-data", "number_observed"),
        ("report", "name"),
        ("report", "published"),
        ("report", "object_refs"),
        ("note", "content"),
        ("note", "object_refs"),
        ("opinion", "opinion"),
        ("opinion", "object_refs"),
        ("grouping", "context"),
        ("grouping", "object_refs"),
        ("identity", "name"),
        ("campaign", "name"),
        ("threat-actor", "name"),
        ("intrusion-set", "name"),
        ("attack-pattern", "name"),
        ("incident", "name"),
        ("extension-definition", "created_by_ref"),
        ("extension-definition", "name"),
        ("extension-definition", "schema"),
        ("extension-definition", "version"),
        ("extension-definition", "extension_types"),
        ("domain-name", "value"),
        ("url", "value"),
        ("ipv4-addr", "value"),
        ("ipv6-addr", "value"),
        ("email-addr", "value"),
        ("malware", "is_family"),
    ] {
        check(broken(t, json!({}), &[property]), &[(property, "required")]);
    }
}

#[test]
fn timestamp_order() {
    check(
        broken(
            "indicator",
            json!({"valid_until": "2016-01-01T00:00:00Z"}),
            &[],
        ),
        &[("valid_until", "later than `valid_from`")],
    );
    check(
        broken(
            "relationship",
            json!({"stop_time": "2016-01-01T00:00:00Z"}),
            &[],
        ),
        &[("stop_time", "later than `start_time`")],
    );
    for t in ["sighting", "campaign", "threat-actor"] {
        check(
            broken(t, json!({"last_seen": "2014-12-31T23:59:59.999Z"}), &[]),
            &[("last_seen", "later than or equal to `first_seen`")],
        );
    }
    check(
        broken(
            "observed-data",
            json!({"last_observed": "2015-12-21T18:59:59Z"}),
            &[],
        ),
        &[("last_observed", "later than or equal to `first_observed`")],
    );
    // Equal is fine where the rule is "or equal".
    check(
        broken(
            "sighting",
            json!({"last_seen": "2015-12-21T19:00:00.000Z"}),
            &[],
        ),
        &[],
    );
}

/// ATT&CK ICS 11.0 truncated `modified` to milliseconds while `created` kept microseconds,
/// so `modified` reads 975 µs before `created`. A millisecond timestamp only says "within
/// that millisecond", so the two are compared at the coarser precision.
#[test]
fn attack_modified_truncated_to_milliseconds_is_not_before_created() {
    let times = |created: &str, modified: &str| {
        broken(
            "relationship",
            json!({"created": created, "modified": modified}),
            &[],
        )
    };
    check(
        times("2022-04-23T15:48:38.011975Z", "2022-04-23T15:48:38.011Z"),
        &[],
    );
    check(
        times("2022-04-23T15:48:38.011975Z", "2022-04-23T15:48:38.010Z"),
        &[("modified", "later than or equal to `created`")],
    );
    check(
        broken(
            "indicator",
            json!({"valid_until": "2016-01-01T00:00:00.0001Z"}),
            &[],
        ),
        &[("valid_until", "later than `valid_from`")],
    );
}

#[test]
fn integer_ranges() {
    for (t, property, bad, words) in [
        ("sighting", "count", json!(-1), "from 0 to 999999999"),
        (
            "sighting",
            "count",
            json!(1_000_000_000),
            "from 0 to 999999999",
        ),
        ("sighting", "count", json!("5"), "integer"),
        ("sighting", "count", json!(2.5), "integer"),
        (
            "observed-data",
            "number_observed",
            json!(0),
            "from 1 to 999999999",
        ),
        (
            "observed-data",
            "number_observed",
            json!(1_000_000_000),
            "from 1 to 999999999",
        ),
        ("indicator", "confidence", json!(101), "from 0 to 100"),
        ("indicator", "confidence", json!("high"), "from 0 to 100"),
        ("file", "size", json!(-5), "at least 0"),
    ] {
        check(broken(t, json!({property: bad}), &[]), &[(property, words)]);
    }
    // JSON Schema counts 50.0 as an integer, and so does the reference validator.
    check(broken("indicator", json!({"confidence": 50.0}), &[]), &[]);
    check(broken("sighting", json!({"count": 999_999_999}), &[]), &[]);
}

#[test]
fn vocabularies() {
    check(
        broken("opinion", json!({"opinion": "maybe"}), &[]),
        &[("opinion", "strongly-disagree")],
    );
    check(
        broken(
            "extension-definition",
            json!({"extension_types": ["new-thing"]}),
            &[],
        ),
        &[
            ("extension_types", "new-sdo"),
            ("extension_properties", "toplevel-property-extension"),
        ],
    );
    check(
        broken("artifact", json!({"encryption_algorithm": "rot13"}), &[]),
        &[("encryption_algorithm", "AES-256-GCM")],
    );
}

#[test]
fn common_property_types() {
    check(
        broken("identity", json!({"revoked": "yes"}), &[]),
        &[("revoked", "true or false")],
    );
    check(
        broken("identity", json!({"labels": "finance"}), &[]),
        &[("labels", "list of strings")],
    );
    check(
        broken("identity", json!({"labels": ["a", 1]}), &[]),
        &[("labels", "list of strings")],
    );
    check(
        broken("identity", json!({"lang": 5}), &[]),
        &[("lang", "string")],
    );
    check(
        broken("file", json!({"defanged": "no"}), &[]),
        &[("defanged", "true or false")],
    );
    check(
        broken("identity", json!({"name": 5}), &[]),
        &[("name", "string")],
    );
    check(
        broken("indicator", json!({"pattern": ["a"]}), &[]),
        &[("pattern", "string")],
    );
    check(
        broken("sighting", json!({"summary": 1}), &[]),
        &[("summary", "true or false")],
    );
    check(
        broken("observed-data", json!({"objects": "x"}), &["object_refs"]),
        &[("objects", "JSON object")],
    );
}

#[test]
fn references() {
    check(
        broken(
            "indicator",
            json!({"created_by_ref": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}),
            &[],
        ),
        &[("created_by_ref", "must reference a identity")],
    );
    check(
        broken("indicator", json!({"created_by_ref": "ACME"}), &[]),
        &[("created_by_ref", "identifier")],
    );
    check(
        broken("indicator", json!({"object_marking_refs": [IDENTITY]}), &[]),
        &[(
            "object_marking_refs[0]",
            "must reference a marking-definition",
        )],
    );
    check(
        broken(
            "report",
            json!({"object_refs": [INDICATOR, "not-an-id", 5]}),
            &[],
        ),
        &[
            ("object_refs[1]", "identifier"),
            ("object_refs[2]", "identifier"),
        ],
    );
    check(
        broken("report", json!({"object_refs": INDICATOR}), &[]),
        &[("object_refs", "list of identifiers")],
    );
    check(
        broken("x-acme-widget", json!({"x_acme_owner_ref": "bob"}), &[]),
        &[("x_acme_owner_ref", "identifier")],
    );
    check(
        broken(
            "indicator",
            json!({"x_acme": {"nested": [{"parent_ref": "nope"}]}}),
            &[],
        ),
        &[("x_acme.nested[0].parent_ref", "identifier")],
    );
    check(
        broken("indicator", json!({"x_acme_refs": [INDICATOR, ""]}), &[]),
        &[("x_acme_refs[1]", "identifier")],
    );
    check(
        broken("sighting", json!({"sighting_of_ref": ""}), &[]),
        &[("sighting_of_ref", "identifier")],
    );
    check(
        broken(
            "relationship",
            json!({"source_ref": fixtures::SIGHTING}),
            &[],
        ),
        &[("source_ref", "must not reference a sighting")],
    );
    check(
        broken(
            "sighting",
            json!({"sighting_of_ref": "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad"}),
            &[],
        ),
        &[("sighting_of_ref", "must not reference a relationship")],
    );
    check(
        broken("sighting", json!({"where_sighted_refs": [INDICATOR]}), &[]),
        &[("where_sighted_refs[0]", "identity or location")],
    );
    check(
        broken("sighting", json!({"observed_data_refs": [INDICATOR]}), &[]),
        &[("observed_data_refs[0]", "observed-data")],
    );
    // The deprecated inline observables refer to each other by local keys.
    check(
        broken(
            "observed-data",
            json!({"objects": {"0": {"type": "ipv4-addr", "value": "10.0.0.1"},
                               "1": {"type": "network-traffic", "src_ref": "0", "protocols": ["tcp"]}}}),
            &["object_refs"],
        ),
        &[],
    );
}

/// ATT&CK v18 data components carry `"x_mitre_data_source_ref": ""`. In a custom property
/// an empty string is taken as "no reference"; anything else must still be an identifier.
#[test]
fn attack_empty_custom_ref_is_no_reference() {
    check(
        broken("x-acme-widget", json!({"x_mitre_data_source_ref": ""}), &[]),
        &[],
    );
    check(
        broken("x-acme-widget", json!({"data_source_ref": ""}), &[]),
        &[],
    );
    check(
        broken("indicator", json!({"x_mitre_data_source_ref": ""}), &[]),
        &[],
    );
    check(
        broken(
            "x-acme-widget",
            json!({"x_mitre_data_source_ref": "DS0001"}),
            &[],
        ),
        &[("x_mitre_data_source_ref", "identifier")],
    );
    check(
        broken("x-acme-widget", json!({"created_by_ref": ""}), &[]),
        &[("created_by_ref", "identifier")],
    );
}

#[test]
fn observed_data_objects() {
    check(
        broken(
            "observed-data",
            json!({"objects": {"0": {"type": "domain-name", "value": "a.example"}}}),
            &[],
        ),
        &[("objects", "together with object_refs")],
    );
    check(
        broken("observed-data", json!({}), &["object_refs"]),
        &[("object_refs", "required")],
    );
    check(
        broken("observed-data", json!({"objects": {}}), &["object_refs"]),
        &[("objects", "empty")],
    );
}

#[test]
fn granular_markings() {
    let marked = |markings: Value| broken("indicator", json!({"granular_markings": markings}), &[]);
    check(
        marked(json!([{"marking_ref": fixtures::STATEMENT, "lang": "en", "selectors": ["name"]}])),
        &[("granular_markings[0]", "not both")],
    );
    check(
        marked(json!([{"selectors": ["name"]}])),
        &[("granular_markings[0]", "marking_ref or lang")],
    );
    check(
        marked(json!([{"marking_ref": fixtures::STATEMENT}])),
        &[("granular_markings[0].selectors", "required")],
    );
    check(
        marked(json!([{"marking_ref": fixtures::STATEMENT, "selectors": []}])),
        &[("granular_markings[0].selectors", "non-empty")],
    );
    check(
        marked(json!([{"marking_ref": IDENTITY, "selectors": ["name"]}])),
        &[("granular_markings[0].marking_ref", "marking-definition")],
    );
    check(
        marked(json!([{"marking_ref": fixtures::STATEMENT,
                        "selectors": ["name", "labels.[3]", "external_references.[0]", "pattern.[0]", "x_acme_score.impact", 5]}])),
        &[
            (
                "granular_markings[0].selectors[1]",
                "`labels` has no item 3",
            ),
            (
                "granular_markings[0].selectors[2]",
                "no property `external_references`",
            ),
            (
                "granular_markings[0].selectors[3]",
                "`pattern` is not a list",
            ),
            ("granular_markings[0].selectors[5]", "string"),
        ],
    );
    check(
        marked(json!({"marking_ref": fixtures::STATEMENT})),
        &[("granular_markings", "list")],
    );
    // STIX 2.1 lets a granular marking give the language of a part instead of a marking.
    check(
        marked(json!([{"lang": "fr", "selectors": ["name", "description"]}])),
        &[],
    );
    check(
        marked(json!([{"lang": 5, "selectors": ["name"]}])),
        &[("granular_markings[0].lang", "string")],
    );
    check(
        broken(
            "marking-definition",
            json!({"granular_markings": [{"marking_ref": fixtures::STATEMENT, "selectors": ["name"]}]}),
            &[],
        ),
        &[("granular_markings[0].marking_ref", "must not mark itself")],
    );
    check(
        broken(
            "marking-definition",
            json!({"object_marking_refs": [fixtures::STATEMENT]}),
            &[],
        ),
        &[("object_marking_refs", "must not mark itself")],
    );
}

#[test]
fn external_references() {
    let referenced = |references: Value| {
        broken(
            "attack-pattern",
            json!({"external_references": references}),
            &[],
        )
    };
    check(
        referenced(json!([{"url": "https://example.com"}])),
        &[("external_references[0].source_name", "required")],
    );
    check(
        referenced(json!([{"source_name": "acme"}])),
        &[(
            "external_references[0]",
            "at least one of description, url and external_id",
        )],
    );
    check(
        referenced(json!([{"source_name": "cve", "external_id": "CVE-21-1"}])),
        &[("external_references[0].external_id", "CVE id")],
    );
    check(
        referenced(json!([{"source_name": "capec", "external_id": "163"}])),
        &[("external_references[0].external_id", "CAPEC id")],
    );
    check(
        referenced(json!([{"source_name": "acme", "url": 5}])),
        &[("external_references[0].url", "string")],
    );
    check(
        referenced(
            json!([{"source_name": "acme", "url": "https://x.example", "hashes": {"SHA-256": "abc"}}]),
        ),
        &[(
            "external_references[0].hashes.SHA-256",
            "64 hexadecimal digits",
        )],
    );
    check(
        referenced(json!(["acme"])),
        &[("external_references[0]", "object")],
    );
    check(
        referenced(json!({"source_name": "acme"})),
        &[("external_references", "list")],
    );
}

#[test]
fn kill_chain_phases() {
    check(
        broken(
            "attack-pattern",
            json!({"kill_chain_phases": [{"kill_chain_name": "mitre-attack"}]}),
            &[],
        ),
        &[("kill_chain_phases[0].phase_name", "required")],
    );
    check(
        broken(
            "indicator",
            json!({"kill_chain_phases": [{"kill_chain_name": 1, "phase_name": "x"}]}),
            &[],
        ),
        &[("kill_chain_phases[0].kill_chain_name", "string")],
    );
    check(
        broken("incident", json!({"kill_chain_phases": "delivery"}), &[]),
        &[("kill_chain_phases", "list of kill chain phases")],
    );
}

#[test]
fn extensions() {
    let extended = |extensions: Value| broken("indicator", json!({"extensions": extensions}), &[]);
    check(
        extended(json!({"acme": {"a": 1}})),
        &[("extensions.acme", "ending in `-ext`")],
    );
    check(
        extended(
            json!({"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e": {"rank": 1}}),
        ),
        &[(
            "extensions.extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e.extension_type",
            "required",
        )],
    );
    check(
        extended(
            json!({"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e": {"extension_type": "new-widget"}}),
        ),
        &[(
            "extensions.extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e.extension_type",
            "new-sdo",
        )],
    );
    check(
        extended(json!({"extension-definition--d83fce45": {"extension_type": "new-sdo"}})),
        &[(
            "extensions.extension-definition--d83fce45",
            "not an extension-definition id",
        )],
    );
    check(
        extended(json!({"x-acme-ext": {}})),
        &[("extensions.x-acme-ext", "non-empty object")],
    );
    check(extended(json!({})), &[("extensions", "empty")]);
    check(
        extended(json!(["x-acme-ext"])),
        &[("extensions", "object keyed")],
    );
    check(
        broken(
            "extension-definition",
            json!({"extension_types": ["new-sdo"]}),
            &[],
        ),
        &[("extension_properties", "toplevel-property-extension")],
    );
}

#[test]
fn property_names_and_values() {
    check(
        broken("indicator", json!({"x-acme-score": 1}), &[]),
        &[("x-acme-score", "property name")],
    );
    check(
        broken("indicator", json!({"_score": 1}), &[]),
        &[("_score", "property name")],
    );
    check(
        broken("indicator", json!({"xy": 1}), &[]),
        &[("xy", "property name")],
    );
    check(
        broken("indicator", json!({"xé_acme": 1}), &[]),
        &[("xé_acme", "property name")],
    );
    // The reference validator's name pattern is anchored at the start only, so it takes any
    // name that begins with three valid characters; so does Accord.
    check(broken("indicator", json!({"x_acme-score": 1}), &[]), &[]);
    let long = format!("x_{}", "a".repeat(249));
    check(
        broken("indicator", json!({long.clone(): 1}), &[]),
        &[(long.as_str(), "property name")],
    );
    // STIX 2.1 allows upper case in custom property names.
    check(
        broken("x-acme-widget", json!({"x_ACME_Score": 1}), &[]),
        &[],
    );
    check(
        broken("indicator", json!({"severity": "high"}), &[]),
        &[("severity", "reserved")],
    );
    check(
        broken("indicator", json!({"description": null}), &[]),
        &[("description", "null")],
    );
    check(
        broken("indicator", json!({"x_acme_tags": []}), &[]),
        &[("x_acme_tags", "empty list")],
    );
    check(
        broken("report", json!({"object_refs": []}), &[]),
        &[("object_refs", "empty list")],
    );
    check(
        broken("x-acme-gadget", json!({"payload_bin": "not base64!"}), &[]),
        &[("payload_bin", "base64")],
    );
    check(
        broken("file", json!({"magic_number_hex": "ABC"}), &[]),
        &[("magic_number_hex", "hexadecimal")],
    );
}

#[test]
fn observables() {
    check(
        broken("file", json!({}), &["hashes", "name"]),
        &[("hashes", "hashes or name")],
    );
    check(broken("file", json!({}), &["hashes"]), &[]);
    check(
        broken("file", json!({"hashes": {"MD5": "8a0d5e5a"}}), &[]),
        &[("hashes.MD5", "32 hexadecimal digits")],
    );
    check(
        broken("file", json!({"hashes": {"SHA-1": 5}}), &[]),
        &[("hashes.SHA-1", "string")],
    );
    check(
        broken("file", json!({"hashes": {}}), &[]),
        &[("hashes", "empty")],
    );
    check(
        broken(
            "artifact",
            json!({"url": "https://acme.invalid/a.zip", "hashes": {"MD5": "8a0d5e5a5e5c8f6f0f9a4d2e3b1c7d6e"}}),
            &[],
        ),
        &[("url", "together with payload_bin")],
    );
    check(
        broken("artifact", json!({}), &["payload_bin"]),
        &[("payload_bin", "payload_bin or url")],
    );
    let by_url = valid("artifact");
    let mut by_url_no_hashes = fixtures::all()
        .into_iter()
        .filter(|o| o["type"] == "artifact")
        .nth(1)
        .unwrap()
        .as_object()
        .unwrap()
        .clone();
    by_url_no_hashes.shift_remove("hashes");
    check(by_url_no_hashes, &[("hashes", "given by url")]);
    let mut no_algorithm = by_url;
    no_algorithm.shift_remove("encryption_algorithm");
    check(no_algorithm, &[("encryption_algorithm", "decryption_key")]);
    check(
        broken("ipv4-addr", json!({"value": "198.51.100.300"}), &[]),
        &[("value", "IPv4")],
    );
    check(
        broken("ipv6-addr", json!({"value": "2001:db8::zz"}), &[]),
        &[("value", "IPv6")],
    );
    check(
        broken("email-addr", json!({"value": "john"}), &[]),
        &[("value", "email address")],
    );
    check(
        broken("domain-name", json!({"value": 5}), &[]),
        &[("value", "string")],
    );
    check(
        broken(
            "user-account",
            json!({}),
            &[
                "user_id",
                "account_login",
                "account_type",
                "is_privileged",
                "account_created",
                "extensions",
            ],
        ),
        &[("user_id", "at least one")],
    );
    check(
        broken("user-account", json!({"is_privileged": "no"}), &[]),
        &[("is_privileged", "true or false")],
    );
}

#[test]
fn marking_definitions() {
    check(
        broken(
            "marking-definition",
            json!({}),
            &["definition_type", "definition"],
        ),
        &[("definition_type", "unless"), ("definition", "unless")],
    );
    check(
        broken(
            "marking-definition",
            json!({"definition": {"text": "x"}}),
            &[],
        ),
        &[("definition.statement", "statement")],
    );
    check(
        broken("marking-definition", json!({"definition": "x"}), &[]),
        &[("definition", "JSON object")],
    );
    let mut tlp = fixtures::all()
        .into_iter()
        .find(|o| o["id"] == fixtures::TLP_GREEN)
        .unwrap()
        .as_object()
        .unwrap()
        .clone();
    tlp.insert("definition".into(), json!({"tlp": "red"}));
    check(
        tlp.clone(),
        &[("id", "TLP:RED is `marking-definition--5e57c739")],
    );
    tlp.insert("definition".into(), json!({"tlp": "purple"}));
    check(tlp, &[("definition.tlp", "white, green, amber, red")]);
    // A marking defined by an extension needs neither.
    check(Tlp2::red(), &[]);
}

struct Tlp2;
impl Tlp2 {
    fn red() -> Map<String, Value> {
        accord_stix::Tlp::Red
            .marking_definition()
            .as_object()
            .unwrap()
            .clone()
    }
}

#[test]
fn locations_and_malware() {
    check(
        broken("location", json!({}), &["longitude", "precision"]),
        &[
            ("region", "region, country, or latitude and longitude"),
            ("longitude", "together"),
        ],
    );
    check(
        broken("location", json!({"latitude": 91.0}), &[]),
        &[("latitude", "from -90 to 90")],
    );
    check(
        broken(
            "location",
            json!({"region": "europe"}),
            &["latitude", "longitude"],
        ),
        &[("precision", "only allowed with latitude and longitude")],
    );
    check(
        broken("malware", json!({}), &["name"]),
        &[("name", "is_family is true")],
    );
    check(
        broken("malware", json!({"is_family": false}), &["name"]),
        &[],
    );
}

#[test]
fn relationship_type_syntax() {
    check(
        broken(
            "relationship",
            json!({"relationship_type": "Indicates"}),
            &[],
        ),
        &[("relationship_type", "a-z, 0-9 and '-'")],
    );
}

#[test]
fn every_violation_is_reported_at_once() {
    let object = broken(
        "indicator",
        json!({"spec_version": "2.0", "confidence": 500, "valid_from": "yesterday", "labels": []}),
        &["pattern", "modified"],
    );
    check(
        object.clone(),
        &[
            ("spec_version", "2.1"),
            ("confidence", "0 to 100"),
            ("valid_from", "RFC 3339"),
            ("labels", "empty list"),
            (
                "granular_markings[0].selectors[1]",
                "`labels` has no item 0",
            ),
            ("pattern", "required"),
            ("modified", "required"),
        ],
    );
    let violations = validate(&object).unwrap_err();
    assert!(violations.iter().all(|v| v.object == INDICATOR));
    let shown = violations[0].to_string();
    assert!(
        shown.starts_with(&format!("{INDICATOR}: property `")),
        "{shown}"
    );
}

#[test]
fn object_without_an_id_is_named_so() {
    let violations = validate(&broken("identity", json!({}), &["id"])).unwrap_err();
    assert_eq!(violations[0].object, "object without an id");
}
