//! A valid example of every modelled type (and a few that fall to `Object::Other`), from
//! which the rule tests break one thing at a time.

use serde_json::{Map, Value, json};

pub const IDENTITY: &str = "identity--311b2d2d-f010-4473-83ec-1edf84858f4c";
pub const INDICATOR: &str = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
pub const MALWARE: &str = "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b";
pub const OBSERVED: &str = "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf";
pub const SIGHTING: &str = "sighting--ee20065d-2555-424f-ad9e-0f8428623c75";
pub const STATEMENT: &str = "marking-definition--4478bf48-9af2-4afa-9fc5-7075f6af04af";
pub const TLP_GREEN: &str = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
pub const DOMAIN: &str = "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5";
pub const EXTENSION: &str = "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e";

/// Every valid example, with the type it should be read as.
pub fn all() -> Vec<Value> {
    vec![
        json!({
            "type": "attack-pattern", "spec_version": "2.1",
            "id": "attack-pattern--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
            "created": "2016-05-12T08:17:27.000Z", "modified": "2016-05-12T08:17:27.000Z",
            "name": "Spear Phishing", "description": "Targeted e-mail with a malicious attachment.",
            "aliases": ["spearphish"],
            "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "initial-access"}],
            "external_references": [{"source_name": "capec", "external_id": "CAPEC-163"}]
        }),
        json!({
            "type": "campaign", "spec_version": "2.1",
            "id": "campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created_by_ref": IDENTITY,
            "created": "2016-04-06T20:03:00.000Z", "modified": "2016-04-06T20:03:00.000Z",
            "name": "Green Group Attacks Against Finance",
            "first_seen": "2016-01-01T00:00:00Z", "last_seen": "2016-03-01T00:00:00Z",
            "objective": "Steal credentials"
        }),
        json!({
            "type": "grouping", "spec_version": "2.1",
            "id": "grouping--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3",
            "created_by_ref": IDENTITY,
            "created": "2015-12-21T19:59:11.000Z", "modified": "2015-12-21T19:59:11.000Z",
            "name": "The Black Vine Cyberespionage Group",
            "context": "suspicious-activity",
            "object_refs": [INDICATOR, MALWARE]
        }),
        json!({
            "type": "identity", "spec_version": "2.1", "id": IDENTITY,
            "created": "2015-12-21T19:59:11.000Z", "modified": "2015-12-21T19:59:11.000Z",
            "name": "ACME Widget, Inc.", "identity_class": "organization",
            "sectors": ["technology"], "contact_information": "soc@acme.invalid"
        }),
        json!({
            "type": "incident", "spec_version": "2.1",
            "id": "incident--4b9b1a3c-1b7a-4ad3-9b36-7f4c1e4c1e4c",
            "created": "2021-03-01T10:00:00.000Z", "modified": "2021-03-02T10:00:00.000Z",
            "name": "Payroll phishing wave",
            "kill_chain_phases": [{"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "delivery"}]
        }),
        json!({
            "type": "indicator", "spec_version": "2.1", "id": INDICATOR,
            "created_by_ref": IDENTITY,
            "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z",
            "indicator_types": ["malicious-activity"],
            "name": "Poison Ivy Malware", "description": "File hash for Poison Ivy",
            "pattern": "[file:hashes.'SHA-256' = '4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877']",
            "pattern_type": "stix",
            "valid_from": "2016-01-01T00:00:00Z", "valid_until": "2017-01-01T00:00:00Z",
            "labels": ["finance"], "confidence": 85, "lang": "en", "revoked": false,
            "object_marking_refs": [TLP_GREEN],
            "granular_markings": [
                {"marking_ref": STATEMENT, "selectors": ["description", "labels.[0]"]}
            ],
            "extensions": {
                EXTENSION: {"extension_type": "toplevel-property-extension"}
            },
            "x_acme_score": {"impact": "high", "notes": [null]}
        }),
        json!({
            "type": "intrusion-set", "spec_version": "2.1",
            "id": "intrusion-set--4e78f46f-a023-4e5f-bc24-71b3ca22ec29",
            "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z",
            "name": "Bobcat Breakin", "aliases": ["Zookeeper"], "goals": ["acquisition-theft"],
            "first_seen": "2016-01-01T00:00:00Z"
        }),
        json!({
            "type": "note", "spec_version": "2.1",
            "id": "note--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
            "created": "2016-05-12T08:17:27.000Z", "modified": "2016-05-12T08:17:27.000Z",
            "abstract": "Tracking Team Note#1", "content": "This note indicates the various steps taken.",
            "authors": ["John Doe"], "object_refs": [INDICATOR]
        }),
        json!({
            "type": "observed-data", "spec_version": "2.1", "id": OBSERVED,
            "created_by_ref": IDENTITY,
            "created": "2016-04-06T19:58:16.000Z", "modified": "2016-04-06T19:58:16.000Z",
            "first_observed": "2015-12-21T19:00:00Z", "last_observed": "2015-12-21T19:00:00Z",
            "number_observed": 50, "object_refs": [DOMAIN]
        }),
        json!({
            "type": "opinion", "spec_version": "2.1",
            "id": "opinion--b01efc25-77b4-4003-b18b-f6e24b5cd9f7",
            "created": "2016-05-12T08:17:27.000Z", "modified": "2016-05-12T08:17:27.000Z",
            "explanation": "This doesn't seem like it is feasible.",
            "opinion": "strongly-disagree", "object_refs": [INDICATOR]
        }),
        json!({
            "type": "report", "spec_version": "2.1",
            "id": "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3",
            "created_by_ref": IDENTITY,
            "created": "2015-12-21T19:59:11.000Z", "modified": "2015-12-21T19:59:11.000Z",
            "name": "The Black Vine Cyberespionage Group", "report_types": ["campaign"],
            "published": "2016-01-20T17:00:00.000Z", "object_refs": [INDICATOR, MALWARE]
        }),
        json!({
            "type": "threat-actor", "spec_version": "2.1",
            "id": "threat-actor--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z",
            "threat_actor_types": ["crime-syndicate"], "name": "Evil Org",
            "roles": ["director"], "sophistication": "advanced",
            "first_seen": "2015-01-01T00:00:00Z", "last_seen": "2016-01-01T00:00:00Z"
        }),
        json!({
            "type": "relationship", "spec_version": "2.1",
            "id": "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad",
            "created": "2016-04-06T20:06:37.000Z", "modified": "2016-04-06T20:06:37.000Z",
            "relationship_type": "indicates", "description": "",
            "source_ref": INDICATOR, "target_ref": MALWARE,
            "start_time": "2016-01-01T00:00:00Z", "stop_time": "2016-02-01T00:00:00Z"
        }),
        json!({
            "type": "sighting", "spec_version": "2.1", "id": SIGHTING,
            "created_by_ref": IDENTITY,
            "created": "2016-04-06T20:08:31.000Z", "modified": "2016-04-06T20:08:31.000Z",
            "first_seen": "2015-12-21T19:00:00Z", "last_seen": "2015-12-21T19:00:00Z",
            "count": 0, "sighting_of_ref": INDICATOR,
            "observed_data_refs": [OBSERVED], "where_sighted_refs": [IDENTITY],
            "summary": false
        }),
        json!({
            "type": "marking-definition", "spec_version": "2.1", "id": STATEMENT,
            "created_by_ref": IDENTITY, "created": "2016-08-01T00:00:00.000Z",
            "name": "ACME terms", "definition_type": "statement",
            "definition": {"statement": "Copyright 2016, ACME Widget, Inc."}
        }),
        json!({
            "type": "marking-definition", "spec_version": "2.1", "id": TLP_GREEN,
            "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp",
            "name": "TLP:GREEN", "definition": {"tlp": "green"}
        }),
        accord_stix::Tlp::AmberStrict.marking_definition(),
        json!({
            "type": "extension-definition", "spec_version": "2.1", "id": EXTENSION,
            "created_by_ref": IDENTITY,
            "created": "2014-02-20T09:16:08.989Z", "modified": "2014-02-20T09:16:08.989Z",
            "name": "ACME ranking", "description": "Adds a rank to any object.",
            "schema": "https://acme.invalid/ranking.json", "version": "1.2.1",
            "extension_types": ["property-extension", "toplevel-property-extension"],
            "extension_properties": ["x_acme_rank"]
        }),
        accord_stix::ext::definition(),
        json!({
            "type": "artifact", "spec_version": "2.1",
            "id": "artifact--6f437177-6e48-5cf8-9d9e-872a2bddd641",
            "mime_type": "application/zip", "payload_bin": "UEsDBAoAAAAAAA==",
            "encryption_algorithm": "mime-type-indicated", "decryption_key": "infected"
        }),
        json!({
            "type": "artifact", "spec_version": "2.1",
            "id": "artifact--ca17bcf8-9846-5ab4-8662-75c1bf6e63ee",
            "url": "https://acme.invalid/sample.zip",
            "hashes": {"SHA-256": "6db12788c37247f2316052e142f42f4b259d6561751e5f401a1ae2a6df9c674b"}
        }),
        json!({
            "type": "domain-name", "spec_version": "2.1", "id": DOMAIN,
            "value": "example.com", "resolves_to_refs": ["ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"]
        }),
        json!({
            "type": "email-addr", "spec_version": "2.1",
            "id": "email-addr--2d77a846-6264-5d51-b586-e43822ea1ea3",
            "value": "john@example.com", "display_name": "John Doe"
        }),
        json!({
            "type": "file", "spec_version": "2.1",
            "id": "file--66156fad-2a7d-5237-bbb4-ba1912887cfe",
            "hashes": {"MD5": "8a0d5e5a5e5c8f6f0f9a4d2e3b1c7d6e", "x-acme-fuzzy": "3:abc"},
            "size": 25536, "name": "foo.dll", "defanged": false,
            "mtime": "2016-01-01T00:00:00Z"
        }),
        json!({
            "type": "ipv4-addr", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
            "value": "198.51.100.0/24"
        }),
        json!({
            "type": "ipv6-addr", "spec_version": "2.1",
            "id": "ipv6-addr--1e61d36c-a16c-53b7-a80f-2a00161c96b1",
            "value": "2001:0db8:85a3:0000:0000:8a2e:0370:7334"
        }),
        json!({
            "type": "url", "spec_version": "2.1", "id": "url--c1477287-23ac-5971-a010-5c287877fa60",
            "value": "https://example.com/research/index.html"
        }),
        json!({
            "type": "user-account", "spec_version": "2.1",
            "id": "user-account--0d5b424b-93b8-5cd8-ac36-306e1789d63c",
            "user_id": "1001", "account_login": "jdoe", "account_type": "unix",
            "is_privileged": false, "account_created": "2016-01-20T12:31:12Z",
            "extensions": {"unix-account-ext": {"gid": 1001, "shell": "/bin/bash"}}
        }),
        json!({
            "type": "malware", "spec_version": "2.1", "id": MALWARE,
            "created": "2016-05-12T08:17:27.000Z", "modified": "2016-05-12T08:17:27.000Z",
            "name": "Cryptolocker", "is_family": true, "malware_types": ["ransomware"]
        }),
        json!({
            "type": "location", "spec_version": "2.1",
            "id": "location--a6e9345f-5a15-4c29-8bb3-7dcc5d168d64",
            "created": "2016-04-06T20:03:00.000Z", "modified": "2016-04-06T20:03:00.000Z",
            "latitude": 48.8566, "longitude": 2.3522, "precision": 1000.0
        }),
        json!({
            "type": "x-acme-widget", "spec_version": "2.1",
            "id": "x-acme-widget--a6e9345f-5a15-4c29-8bb3-7dcc5d168d64",
            "created": "2016-04-06T20:03:00.000Z", "modified": "2016-04-06T20:03:00.000Z",
            "name": "Widget", "widget_refs": [INDICATOR], "x_acme_shade": "blue",
            "extensions": {EXTENSION: {"extension_type": "new-sdo"}}
        }),
        json!({
            "type": "x-acme-gadget", "id": "x-acme-gadget--a6e9345f-5a15-4c29-8bb3-7dcc5d168d64",
            "serial": "AB-1234", "extensions": {EXTENSION: {"extension_type": "new-sco"}}
        }),
    ]
}

/// The first valid example of `object_type`.
pub fn valid(object_type: &str) -> Map<String, Value> {
    all()
        .into_iter()
        .find(|o| o["type"] == object_type)
        .and_then(|o| o.as_object().cloned())
        .unwrap_or_else(|| panic!("no fixture of type {object_type}"))
}

/// The valid example of `object_type` with `set` merged in and `remove` taken out.
pub fn broken(object_type: &str, set: Value, remove: &[&str]) -> Map<String, Value> {
    let mut object = valid(object_type);
    if let Value::Object(changes) = set {
        object.extend(changes);
    }
    for property in remove {
        object.shift_remove(*property);
    }
    object
}
