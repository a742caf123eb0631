//! Evaluation of patterns against observed data.
//!
//! Most tables are modelled on the test suite of the OASIS reference matcher,
//! oasis-open/cti-pattern-matcher (`stix2matcher/test/v20` and `v21`, BSD-3-Clause): its
//! patterns and observed data, restated here as data, with the outcomes it asserts. The rest
//! follow the examples of the STIX 2.1 specification, section 9.

use std::collections::HashMap;

use accord_pattern::{EvalError, Matcher, Observation, matches, parse};
use serde_json::{Map, Value, json};

/// What an evaluation must give.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Want {
    Match,
    NoMatch,
    /// An error; the string is part of its message.
    Error(&'static str),
}
use Want::{Error, Match, NoMatch};

/// Parses `pattern`, evaluates it against `observed` and compares with `want`.
fn check(pattern: &str, observed: &[Observation], want: Want) {
    let tree = parse(pattern).unwrap_or_else(|e| panic!("{pattern}\n  rejected: {e}"));
    let got = matches(&tree, observed);
    match (&got, want) {
        (Ok(true), Match) | (Ok(false), NoMatch) => {}
        (Err(e), Error(part)) if e.to_string().contains(part) => {}
        _ => panic!("{pattern}\n  got {got:?}, want {want:?}"),
    }
}

fn map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

/// A STIX 2.0 observed-data with embedded `objects`.
/// Observations borrow their data; test data lives for the whole test run.
fn keep<T>(v: T) -> &'static T {
    Box::leak(Box::new(v))
}

fn obs20(first: &str, last: &str, n: u64, objects: Value) -> Observation<'static> {
    let sdo = json!({
        "type": "observed-data",
        "first_observed": first,
        "last_observed": last,
        "number_observed": n,
        "objects": objects,
    });
    Observation::from_stix20(keep(map(sdo))).unwrap()
}

/// A STIX 2.1 observed-data naming `scos` (each with an `id`) in `object_refs`.
fn obs21(first: &str, last: &str, n: u64, scos: Value) -> Observation<'static> {
    let scos: &'static Value = keep(scos);
    let scos: HashMap<&'static str, &'static Value> = scos
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap(), s))
        .collect();
    let refs: Vec<&str> = scos.keys().copied().collect();
    let sdo = json!({
        "type": "observed-data",
        "id": "observed-data--647947aa-4cc3-43a3-a42f-2c670986d777",
        "first_observed": first,
        "last_observed": last,
        "number_observed": n,
        "object_refs": refs,
    });
    Observation::from_stix21(&map(sdo), &scos).unwrap()
}

const T: &str = "2014-04-19T06:51:26Z";

/// The one object of the reference matcher's basic-operator tests.
fn basic() -> Vec<Observation<'static>> {
    vec![obs21(
        T,
        T,
        1,
        json!([{
            "type": "test",
            "id": "test--9c61d8ff-21ca-489a-accd-7356c2ea0a7b",
            "int": 5,
            "float": 12.658,
            "float_int": 12.0,
            "bool": true,
            "string": "hello",
            "ip": "11.22.33.44",
            "cidr": "11.22.33.44/20",
            "multiline": "hello\nworld",
            "trailing": "hello\n",
        }]),
    )]
}

/// Operators and their type rules, against one object (cti-pattern-matcher
/// `test/v21/test_basic_ops.py`).
const BASIC_OPS: &[(&str, Want)] = &[
    // int
    ("[test:int = 5]", Match),
    ("[test:int NOT != 5]", Match),
    ("[test:int > 3]", Match),
    ("[test:int NOT < 3]", Match),
    ("[test:int < 12]", Match),
    ("[test:int > 4.9]", Match),
    ("[test:int < 5.1]", Match),
    ("[test:int >= 5]", Match),
    ("[test:int NOT < 5]", Match),
    ("[test:int <= 5]", Match),
    ("[test:int != false]", Match),
    ("[test:int != true]", Match),
    ("[test:int NOT = true]", Match),
    ("[test:int != 'world']", Match),
    ("[test:int != h'010203']", Match),
    ("[test:int != b'AQIDBA==']", Match),
    ("[test:int != t'1965-07-19T22:41:38Z']", Match),
    ("[test:int IN (-4, 5, 6)]", Match),
    ("[test:int IN (-4, 5, 6.6)]", Match),
    ("[test:int NOT IN ('a', 'b', 'c')]", Match),
    ("[test:int NOT MATCHES 'l+']", Match),
    ("[test:int NOT LIKE 'he%']", Match),
    ("[test:int NOT = 5]", NoMatch),
    ("[test:int NOT != 8]", NoMatch),
    ("[test:int > 8]", NoMatch),
    ("[test:int < 2]", NoMatch),
    ("[test:int > 5.1]", NoMatch),
    ("[test:int < 4.9]", NoMatch),
    ("[test:int = false]", NoMatch),
    ("[test:int = true]", NoMatch),
    ("[test:int = 'world']", NoMatch),
    ("[test:int = h'010203']", NoMatch),
    ("[test:int > h'010203']", NoMatch),
    ("[test:int = b'AQIDBA==']", NoMatch),
    ("[test:int < b'AQIDBA==']", NoMatch),
    ("[test:int = t'1965-07-19T22:41:38Z']", NoMatch),
    ("[test:int > t'1965-07-19T22:41:38Z']", NoMatch),
    ("[test:int LIKE 'he%']", NoMatch),
    ("[test:int MATCHES 'l+']", NoMatch),
    ("[test:int NOT IN (-4, 5, 6)]", NoMatch),
    ("[test:int NOT IN (-4, 5, 6.6)]", NoMatch),
    ("[test:int IN ('a', 'b', 'c')]", NoMatch),
    // An ordering between kinds that have none is false even under NOT.
    ("[test:int NOT > 'a']", NoMatch),
    // float
    ("[test:float = 12.658]", Match),
    ("[test:float NOT != 12.658]", Match),
    ("[test:float > 3]", Match),
    ("[test:float < 22]", Match),
    ("[test:float > 12.65799]", Match),
    ("[test:float < 12.65801]", Match),
    ("[test:float >= 12.658]", Match),
    ("[test:float <= 12.658]", Match),
    ("[test:float != true]", Match),
    ("[test:float != 'world']", Match),
    ("[test:float IN (-4.21, 12.658, 964.321)]", Match),
    ("[test:float_int IN (11, 12, 13)]", Match),
    ("[test:float_int IN (11.1, 12, 13)]", Match),
    ("[test:float_int = 12]", Match),
    ("[test:float NOT LIKE 'he%']", Match),
    ("[test:float NOT = 12.658]", NoMatch),
    ("[test:float != 12.658]", NoMatch),
    ("[test:float > 22]", NoMatch),
    ("[test:float < 3]", NoMatch),
    ("[test:float > 12.65801]", NoMatch),
    ("[test:float < 12.65799]", NoMatch),
    ("[test:float = true]", NoMatch),
    ("[test:float NOT != 'world']", NoMatch),
    ("[test:float > h'010203']", NoMatch),
    ("[test:float_int NOT IN (11, 12, 13)]", NoMatch),
    ("[test:float MATCHES 'l+']", NoMatch),
    // bool
    ("[test:bool != 1]", Match),
    ("[test:bool != 32.567]", Match),
    ("[test:bool = true]", Match),
    ("[test:bool NOT != true]", Match),
    ("[test:bool != false]", Match),
    ("[test:bool NOT = false]", Match),
    ("[test:bool != 'world']", Match),
    ("[test:bool IN (false, true, false)]", Match),
    ("[test:bool NOT IN ('a', 'b', 'c')]", Match),
    ("[test:bool NOT MATCHES 'l+']", Match),
    ("[test:bool = 1]", NoMatch),
    ("[test:bool = 32.567]", NoMatch),
    ("[test:bool != true]", NoMatch),
    ("[test:bool = false]", NoMatch),
    ("[test:bool = 'world']", NoMatch),
    ("[test:bool = t'1965-07-19T22:41:38Z']", NoMatch),
    ("[test:bool LIKE 'he%']", NoMatch),
    ("[test:bool NOT IN (false, true, false)]", NoMatch),
    // string
    ("[test:string != 1]", Match),
    ("[test:string != true]", Match),
    ("[test:string = 'hello']", Match),
    ("[test:string NOT != 'hello']", Match),
    ("[test:string != 'world']", Match),
    ("[test:string NOT = 'world']", Match),
    ("[test:string > 'alice']", Match),
    ("[test:string < 'zelda']", Match),
    ("[test:string >= 'hello']", Match),
    ("[test:string <= 'hello']", Match),
    ("[test:string != h'010203']", Match),
    ("[test:string != b'AQIDBA==']", Match),
    ("[test:string LIKE 'he%']", Match),
    ("[test:string LIKE 'he__o']", Match),
    ("[test:string MATCHES 'l+']", Match),
    ("[test:string MATCHES '.lo$']", Match),
    ("[test:string IN ('goodbye', 'hello', 'world')]", Match),
    ("[test:string NOT IN (1, 2, 3)]", Match),
    ("[test:string = 1]", NoMatch),
    ("[test:string = false]", NoMatch),
    ("[test:string != 'hello']", NoMatch),
    ("[test:string = 'world']", NoMatch),
    ("[test:string < 'alice']", NoMatch),
    ("[test:string > 'zelda']", NoMatch),
    ("[test:string <= 'alice']", NoMatch),
    ("[test:string >= 'zelda']", NoMatch),
    ("[test:string = h'010203']", NoMatch),
    ("[test:string NOT LIKE 'he%']", NoMatch),
    ("[test:string NOT LIKE 'he__o']", NoMatch),
    ("[test:string LIKE 'he_o']", NoMatch),
    ("[test:string LIKE 'HE%']", NoMatch),
    ("[test:string NOT MATCHES '.lo$']", NoMatch),
    (
        "[test:string NOT IN ('goodbye', 'hello', 'world')]",
        NoMatch,
    ),
    ("[test:string IN (1, 2, 3)]", NoMatch),
    // LIKE: `%` and `_` do not cross a line feed; the end accepts one final line feed.
    ("[test:multiline LIKE 'hello%']", NoMatch),
    ("[test:trailing LIKE 'hello']", Match),
    // MATCHES searches anywhere unless anchored.
    ("[test:string MATCHES '^ell']", NoMatch),
    ("[test:string MATCHES 'ell']", Match),
    // A timestamp constant makes the value a timestamp, or an error.
    (
        "[test:string = t'1965-07-19T22:41:38Z']",
        Error("not a timestamp"),
    ),
    (
        "[test:string != t'1965-07-19T22:41:38Z']",
        Error("not a timestamp"),
    ),
    (
        "[test:string > t'1965-07-19T22:41:38Z']",
        Error("not a timestamp"),
    ),
    // IP ranges
    ("[test:ip ISSUBSET '11.22.41.123/20']", Match),
    ("[test:ip NOT ISSUBSET '11.22.123.41/20']", Match),
    ("[test:cidr ISSUPERSET '11.22.41.123']", Match),
    ("[test:cidr ISSUPERSET '11.22.41.123/29']", Match),
    ("[test:cidr NOT ISSUPERSET '11.22.33.44/13']", Match),
    ("[test:cidr NOT ISSUPERSET '11.22.123.41/29']", Match),
    ("[test:int NOT ISSUPERSET '11.22.33.44']", Match),
    ("[test:int NOT ISSUBSET '11.22.33.44/32']", Match),
    ("[test:bool NOT ISSUBSET '11.22.33.44/32']", Match),
    ("[test:ip NOT ISSUBSET '11.22.41.123/20']", NoMatch),
    ("[test:ip ISSUBSET '11.22.123.41/20']", NoMatch),
    ("[test:cidr NOT ISSUPERSET '11.22.41.123']", NoMatch),
    ("[test:cidr ISSUPERSET '11.22.33.44/13']", NoMatch),
    ("[test:cidr ISSUPERSET '11.22.123.41/29']", NoMatch),
    ("[test:int ISSUPERSET '11.22.33.44']", NoMatch),
    ("[test:float ISSUBSET '11.22.33.44/32']", NoMatch),
    ("[test:ip ISSUBSET '11.22.33.44']", Error("CIDR")),
    ("[test:string ISSUBSET '11.22.33.0/24']", Error("CIDR")),
    ("[test:ip ISSUBSET '2001:db8::/32']", NoMatch),
    // Sets
    ("[test:string NOT IN ()]", Match),
    ("[test:string IN ()]", NoMatch),
    ("[test:string IN (1, true)]", Error("mixes")),
    ("[test:string IN (1, 2.2, true)]", Error("mixes")),
    // Missing properties select nothing, so nothing holds, not even a negation.
    ("[test:missing != 5]", NoMatch),
    ("[test:missing NOT = 5]", NoMatch),
    ("[other:int = 5]", NoMatch),
];

#[test]
fn basic_ops() {
    let observed = basic();
    for (pattern, want) in BASIC_OPS {
        check(pattern, &observed, *want);
    }
}

/// One observation with several objects, references among them, lists, binary properties
/// and IPv6 (the STIX 2.1 specification's pattern examples, and cti-pattern-matcher
/// `test/v20/test_comparison_exprs.py`, `test_references.py` and `test_binary.py`).
fn rich() -> Vec<Observation<'static>> {
    vec![obs20(
        T,
        T,
        1,
        json!({
            "0": {"type": "ipv4-addr", "value": "198.51.100.3"},
            "1": {"type": "ipv6-addr", "value": "2001:db8::1"},
            "2": {
                "type": "network-traffic",
                "src_ref": "0",
                "dst_ref": "1",
                "dst_port": 443,
                "protocols": ["ipv4", "tcp", "tls"],
            },
            "3": {"type": "email-addr", "value": "jdoe@example.com"},
            "4": {"type": "file", "name": "Final Report 2016.exe", "size": 2},
            "5": {
                "type": "email-message",
                "from_ref": "3",
                "body_multipart": [
                    {"body": "see attached"},
                    {"body_raw_ref": "4"},
                ],
            },
            "6": {
                "type": "file",
                "name": "archive.zip",
                "size": 1024,
                "hashes": {"SHA-256": "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"},
                "extensions": {"archive-ext": {"contains_refs": ["4", "99"]}},
                "magic_number_hex": "504B0304",
                "payload_bin": "AQIDBA==",
                "dangling_ref": "99",
            },
            "7": {"type": "x-bad", "name_hex": "zz", "thing_ref": 5, "things_refs": "0"},
        }),
    )]
}

const RICH: &[(&str, Want)] = &[
    (
        "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
        Match,
    ),
    ("[file:hashes.'SHA-256' = 'aec0']", NoMatch),
    // AND inside an observation binds one object: name and size hold of different files.
    ("[file:name = 'archive.zip' AND file:size = 1024]", Match),
    ("[file:name = 'archive.zip' AND file:size = 2]", NoMatch),
    ("[file:name = 'archive.zip' OR file:size = 2]", Match),
    ("[file:name = 'nope' OR file:size = 3]", NoMatch),
    // OR across types inside one observation.
    (
        "[file:name = 'nope' OR ipv4-addr:value = '198.51.100.3']",
        Match,
    ),
    // References
    ("[network-traffic:src_ref.value = '198.51.100.3']", Match),
    (
        "[network-traffic:dst_ref.value ISSUBSET '2001:db8::/32']",
        Match,
    ),
    (
        "[network-traffic:src_ref.value ISSUBSET '198.51.100.0/24']",
        Match,
    ),
    (
        "[network-traffic:src_ref.value ISSUBSET '198.51.101.0/24']",
        NoMatch,
    ),
    (
        "[network-traffic:dst_port = 443 AND network-traffic:src_ref.value = '198.51.100.3']",
        Match,
    ),
    ("[network-traffic:src_ref.type = 'ipv4-addr']", Match),
    (
        r"[email-message:from_ref.value MATCHES '.+\\@example\\.com$' AND email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\.exe$']",
        Match,
    ),
    (
        r"[email-message:from_ref.value MATCHES '.+\\@example\\.org$' AND email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\.exe$']",
        NoMatch,
    ),
    (
        "[email-message:body_multipart[1].body_raw_ref.name LIKE 'Final%']",
        Match,
    ),
    (
        "[email-message:body_multipart[0].body_raw_ref.name LIKE 'Final%']",
        NoMatch,
    ),
    (
        "[email-message:body_multipart[5].body = 'see attached']",
        NoMatch,
    ),
    (
        "[email-message:body_multipart[-1].body = 'see attached']",
        NoMatch,
    ),
    (
        "[file:extensions.'archive-ext'.contains_refs[*].name = 'Final Report 2016.exe']",
        Match,
    ),
    (
        "[file:extensions.'archive-ext'.contains_refs[0].size = 2]",
        Match,
    ),
    // The unresolved "99" is left out, so there is no second element.
    (
        "[file:extensions.'archive-ext'.contains_refs[1].size = 2]",
        NoMatch,
    ),
    ("[file:dangling_ref.value = 'x']", NoMatch),
    ("[network-traffic:protocols[*] = 'tls']", Match),
    ("[network-traffic:protocols[0] = 'tls']", NoMatch),
    ("[network-traffic:protocols[2] = 'tls']", Match),
    ("[network-traffic:protocols[*] NOT = 'ipv4']", Match),
    // EXISTS
    ("[EXISTS file:extensions.'archive-ext']", Match),
    ("[EXISTS file:extensions.'windows-pebinary-ext']", NoMatch),
    (
        "[EXISTS network-traffic:src_ref.value AND network-traffic:dst_port = 443]",
        Match,
    ),
    // Binary properties: `_hex` and `_bin` values are bytes.
    ("[file:magic_number_hex = h'504B0304']", Match),
    ("[file:magic_number_hex = h'504B0305']", NoMatch),
    ("[file:magic_number_hex = b'UEsDBA==']", Match),
    ("[file:magic_number_hex = 'PK\u{3}\u{4}']", Match),
    ("[file:magic_number_hex > h'504B']", Match),
    ("[file:magic_number_hex MATCHES '^PK']", Match),
    ("[file:magic_number_hex LIKE 'PK%']", Match),
    ("[file:payload_bin = h'01020304']", Match),
    ("[file:payload_bin IN (h'01020304', h'05')]", Match),
    // A string with a character above U+00FF never equals bytes.
    ("[file:magic_number_hex = 'PK\u{3}\u{4}\u{100}']", NoMatch),
    ("[file:magic_number_hex < 'P\u{100}']", NoMatch),
    ("[file:magic_number_hex NOT < 'P\u{100}']", Match),
    // Data the matcher cannot read is an error, not a silent mismatch.
    ("[x-bad:name_hex = h'00']", Error("hex or base64")),
    (
        "[x-bad:thing_ref.value = 'x']",
        Error("reference property thing_ref"),
    ),
    (
        "[x-bad:things_refs[*].value = 'x']",
        Error("reference property things_refs"),
    ),
];

#[test]
fn comparisons_in_one_observation() {
    let observed = rich();
    for (pattern, want) in RICH {
        check(pattern, &observed, *want);
    }
}

/// Three people seen at different times (cti-pattern-matcher
/// `test/v20/test_observation_exprs.py`).
fn people() -> Vec<Observation<'static>> {
    let person = |t: &str, key: &str, name: &str, age: u32| {
        obs20(
            t,
            t,
            1,
            json!({ key: {"type": "person", "name": name, "age": age} }),
        )
    };
    vec![
        person("2004-10-11T21:44:58Z", "a0", "alice", 10),
        person("2008-05-09T01:21:58.6Z", "b0", "bob", 17),
        person("2006-11-03T07:42:18.96Z", "c0", "carol", 22),
    ]
}

const OBSERVATION_OPS: &[(&str, Want)] = &[
    ("[person:name='alice'] AND [person:age>20]", Match),
    ("[person:name='alice'] OR [person:name='carol']", Match),
    ("[person:name='alice'] OR [person:name='zelda']", Match),
    (
        "[person:age>10] OR [person:name='bob'] OR [person:name>'amber']",
        Match,
    ),
    (
        "[person:name='alice'] FOLLOWEDBY [person:name>'bill']",
        Match,
    ),
    (
        "[person:age > 20] OR ([person:name > 'zelda'] FOLLOWEDBY [person:age < 0])",
        Match,
    ),
    (
        "[person:age > 20] OR [person:name > 'zelda'] AND [person:age < 0]",
        Match,
    ),
    (
        "([person:name='carol'] FOLLOWEDBY [person:name < 'elizabeth']) AND [person:age < 15]",
        Match,
    ),
    ("[person:name='alice'] AND [person:name='zelda']", NoMatch),
    // Both sides would need the one observation of alice.
    ("[person:name='alice'] AND [person:age=10]", NoMatch),
    ("[person:name='alice'] FOLLOWEDBY [person:age=10]", NoMatch),
    ("[person:name='mary'] OR [person:name='zelda']", NoMatch),
    (
        "[person:age > 70] OR [person:name > 'zelda'] AND [person:name MATCHES '^...?$']",
        NoMatch,
    ),
    ("[person:name='bob'] FOLLOWEDBY [person:age<15]", NoMatch),
    (
        "[person:age > 20] OR [person:name > 'zelda'] FOLLOWEDBY [person:age < 0]",
        NoMatch,
    ),
    (
        "([person:age > 20] OR [person:name > 'zelda']) AND [person:age < 0]",
        NoMatch,
    ),
    (
        "[person:name='carol'] FOLLOWEDBY [person:name < 'elizabeth'] AND [person:age < 15]",
        NoMatch,
    ),
    // FOLLOWEDBY chains are ordered left to right.
    (
        "[person:name='alice'] FOLLOWEDBY [person:name='carol'] FOLLOWEDBY [person:name='bob']",
        Match,
    ),
    (
        "[person:name='alice'] FOLLOWEDBY [person:name='bob'] FOLLOWEDBY [person:name='carol']",
        NoMatch,
    ),
    // REPEATS needs distinct observations.
    ("[person:age > 5] REPEATS 3 TIMES", Match),
    ("[person:age > 5] REPEATS 4 TIMES", NoMatch),
    ("[person:name = 'alice'] REPEATS 2 TIMES", NoMatch),
    (
        "([person:name = 'alice'] OR [person:name = 'bob']) REPEATS 2 TIMES",
        Match,
    ),
];

#[test]
fn observation_ops() {
    let observed = people();
    for (pattern, want) in OBSERVATION_OPS {
        check(pattern, &observed, *want);
    }
}

/// Three people five seconds apart, in the STIX 2.1 form (cti-pattern-matcher
/// `test/v21/test_temporal_qualifiers.py`).
fn timeline() -> Vec<Observation<'static>> {
    let person = |t: &str, id: &str, name: &str| {
        obs21(
            t,
            t,
            1,
            json!([{ "type": "person", "id": id, "name": name }]),
        )
    };
    vec![
        person(
            "1994-11-29T13:37:52Z",
            "person--c32818e9-032c-4c6d-bfd1-104ff22a69ae",
            "alice",
        ),
        person(
            "1994-11-29T13:37:57Z",
            "person--d7524b5c-a41b-4452-bc7b-ec4d33148346",
            "bob",
        ),
        person(
            "1994-11-29T13:38:02Z",
            "person--bc9adbb9-703c-4344-90e9-937c498ff91d",
            "carol",
        ),
    ]
}

const TEMPORAL: &[(&str, Want)] = &[
    ("[person:name = 'bob'] WITHIN 1 SECONDS", Match),
    ("[person:name = 'bob'] WITHIN .0001 SECONDS", Match),
    (
        "[person:name = 'alice'] AND [person:name < 'carol'] WITHIN 1 SECONDS",
        Match,
    ),
    (
        "([person:name = 'alice'] AND [person:name < 'carol']) WITHIN 5 SECONDS",
        Match,
    ),
    (
        "([person:name = 'alice'] AND [person:name < 'carol']) WITHIN 6 SECONDS",
        Match,
    ),
    (
        "([person:name = 'alice'] OR [person:name = 'darlene']) WITHIN 1 SECONDS",
        Match,
    ),
    (
        "[person:name = 'bob'] START t'1994-11-29T13:37:57Z' STOP t'1994-11-29T13:37:58Z'",
        Match,
    ),
    (
        "[person:name LIKE 'a%'] AND [person:name = 'bob'] START t'1994-11-29T13:37:57Z' STOP t'1994-11-29T13:37:58Z'",
        Match,
    ),
    (
        "([person:name LIKE 'a%'] AND [person:name = 'bob']) START t'1994-11-29T13:37:50Z' STOP t'1994-11-29T13:37:58Z'",
        Match,
    ),
    (
        "[person:name = 'alice'] OR [person:name = 'darlene'] START t'1994-11-29T13:37:57Z' STOP t'1994-11-29T13:37:58Z'",
        Match,
    ),
    (
        "([person:name = 'alice'] OR [person:name = 'darlene']) START t'1994-11-29T13:37:52Z' STOP t'1994-11-29T13:37:58Z'",
        Match,
    ),
    (
        "[person:name MATCHES ''] REPEATS 2 TIMES START t'1994-11-29T13:37:50Z' STOP t'1994-11-29T13:37:58Z'",
        Match,
    ),
    (
        "([person:name = 'alice'] AND [person:name < 'carol']) WITHIN 4 SECONDS",
        NoMatch,
    ),
    (
        "([person:name = 'alice'] AND [person:name < 'carol']) WITHIN 4.9999 SECONDS",
        NoMatch,
    ),
    ("[person:name = 'elizabeth'] WITHIN 10 SECONDS", NoMatch),
    (
        "([person:name < 'alice'] OR [person:name = 'darlene']) WITHIN 10 SECONDS",
        NoMatch,
    ),
    (
        "[person:name = 'bob'] START t'1994-11-29T13:37:58Z' STOP t'1994-11-29T13:37:58Z'",
        NoMatch,
    ),
    (
        "[person:name = 'bob'] START t'1994-11-29T13:37:59Z' STOP t'1994-11-29T13:37:58Z'",
        NoMatch,
    ),
    (
        "[person:name = 'bob'] START t'1994-11-29T13:37:58Z' STOP t'1994-11-29T13:37:59Z'",
        NoMatch,
    ),
    // Touching only at STOP is outside.
    (
        "([person:name LIKE 'a%'] AND [person:name = 'bob']) START t'1994-11-29T13:37:50Z' STOP t'1994-11-29T13:37:57Z'",
        NoMatch,
    ),
    (
        "([person:name LIKE 'z%'] OR [person:name = 'darlene']) START t'1994-11-29T13:37:50Z' STOP t'1994-11-29T13:37:57Z'",
        NoMatch,
    ),
    (
        "[person:name MATCHES ''] REPEATS 3 TIMES START t'1994-11-29T13:37:50Z' STOP t'1994-11-29T13:37:58Z'",
        NoMatch,
    ),
    (
        "[person:name NOT LIKE 'foo'] START t'1994-11-29T13:37:50Z' STOP t'1994-11-29T13:37:57Z' REPEATS 3 TIMES",
        NoMatch,
    ),
    (
        "[person:name NOT LIKE 'foo'] START t'1994-11-29T13:37:50Z' STOP t'1994-11-29T13:38:03Z' REPEATS 3 TIMES",
        Match,
    ),
];

#[test]
fn temporal_qualifiers() {
    let observed = timeline();
    for (pattern, want) in TEMPORAL {
        check(pattern, &observed, *want);
    }
}

const S1: &str = "2000-01-01T00:00:00Z";
const S2: &str = "2000-01-01T00:00:01Z";
const S3: &str = "2000-01-01T00:00:02Z";
const S4: &str = "2000-01-01T00:00:03Z";
const S5: &str = "2000-01-01T00:00:04Z";

/// `([alice] AND [bob]) WITHIN d SECONDS` with alice and bob seen over the given intervals
/// (cti-pattern-matcher `test_within_match` / `test_within_nomatch`).
/// A `(first_observed, last_observed)` pair.
type Span = (&'static str, &'static str);

const WITHIN: &[(Span, Span, u32, Want)] = &[
    ((S1, S1), (S1, S1), 1, Match),
    ((S1, S1), (S1, S2), 1, Match),
    ((S1, S1), (S1, S2), 2, Match),
    ((S1, S2), (S2, S3), 1, Match),
    ((S1, S2), (S3, S4), 1, Match),
    ((S1, S4), (S2, S3), 1, Match),
    ((S1, S3), (S2, S4), 1, Match),
    ((S1, S2), (S4, S5), 2, Match),
    ((S1, S2), (S4, S5), 1, NoMatch),
    ((S1, S1), (S4, S5), 2, NoMatch),
    ((S1, S2), (S5, S5), 2, NoMatch),
];

#[test]
fn within_intervals() {
    for (alice, bob, secs, want) in WITHIN {
        let observed = [
            obs20(
                alice.0,
                alice.1,
                1,
                json!({"0": {"type": "person", "name": "alice"}}),
            ),
            obs20(
                bob.0,
                bob.1,
                1,
                json!({"0": {"type": "person", "name": "bob"}}),
            ),
        ];
        let pattern =
            format!("([person:name='alice'] AND [person:name='bob']) WITHIN {secs} SECONDS");
        check(&pattern, &observed, *want);
    }
}

/// `number_observed` makes one observed-data count as several observations, all at its
/// interval (cti-pattern-matcher `test_multi_sdo.py` and `test_matching_sdos.py`).
const NUMBER_OBSERVED: &[(&str, Want)] = &[
    ("[person:name = 'alice'] REPEATS 3 TIMES", Match),
    ("[person:name = 'alice'] REPEATS 4 TIMES", NoMatch),
    ("[person:name = 'alice'] AND [person:name = 'alice']", Match),
    (
        "[person:name = 'alice'] FOLLOWEDBY [person:name = 'alice']",
        Match,
    ),
    (
        "([person:name = 'alice'] REPEATS 2 TIMES) AND [person:name = 'bob']",
        Match,
    ),
    (
        "([person:name = 'alice'] REPEATS 2 TIMES) FOLLOWEDBY [person:name = 'bob']",
        Match,
    ),
    (
        "[person:name = 'bob'] FOLLOWEDBY [person:name = 'alice']",
        NoMatch,
    ),
    ("[person:name = 'bob'] REPEATS 2 TIMES", NoMatch),
    (
        "([person:name = 'alice'] OR [person:name = 'bob']) REPEATS 4 TIMES",
        Match,
    ),
    (
        "([person:name = 'alice'] OR [person:name = 'bob']) REPEATS 4 TIMES WITHIN 5 SECONDS",
        NoMatch,
    ),
    (
        "([person:name = 'alice'] OR [person:name = 'bob']) REPEATS 4 TIMES WITHIN 10 SECONDS",
        Match,
    ),
];

#[test]
fn number_observed() {
    let observed = [
        obs20(S1, S1, 3, json!({"0": {"type": "person", "name": "alice"}})),
        obs21(
            "2000-01-01T00:00:10Z",
            "2000-01-01T00:00:10Z",
            1,
            json!([{"type": "person", "id": "person--d7524b5c-a41b-4452-bc7b-ec4d33148346", "name": "bob"}]),
        ),
    ];
    for (pattern, want) in NUMBER_OBSERVED {
        check(pattern, &observed, *want);
    }
}

/// Observed-data the matcher refuses, and what it says.
#[test]
fn bad_observed_data() {
    let sdo = |extra: Value| {
        let mut m = map(json!({
            "type": "observed-data",
            "first_observed": S1,
            "last_observed": S2,
            "number_observed": 1,
            "objects": {},
        }));
        m.extend(map(extra));
        m
    };
    let cases: &[(Value, &str)] = &[
        (json!({"number_observed": 0}), "number_observed"),
        (json!({"number_observed": "1"}), "number_observed"),
        (json!({"first_observed": "yesterday"}), "not a timestamp"),
        (json!({"first_observed": S3}), "later than"),
        (json!({"objects": []}), "objects"),
    ];
    for (extra, part) in cases {
        let err = Observation::from_stix20(&sdo(extra.clone())).unwrap_err();
        assert!(err.to_string().contains(part), "{extra}: {err}");
    }
    let err = Observation::from_stix21(&sdo(json!({})), &HashMap::new()).unwrap_err();
    assert!(err.to_string().contains("object_refs"), "{err}");
}

/// `MATCHES` runs in time linear in the input and refuses expressions too big to compile.
#[test]
fn regex_limits() {
    let long = "a".repeat(100_000) + "!";
    let observed = [obs20(
        S1,
        S1,
        1,
        json!({"0": {"type": "x-text", "value": long}}),
    )];
    // Catastrophic for a backtracking engine; here it simply completes.
    check("[x-text:value MATCHES '(a+)+$']", &observed, NoMatch);
    check("[x-text:value MATCHES '(a|aa)+!$']", &observed, Match);
    check("[x-text:value MATCHES '^(a*)*b']", &observed, NoMatch);
    // Too large once compiled.
    let tree = parse("[x-text:value MATCHES '(((a{100}){100}){100})']").unwrap();
    let err = Matcher::new(&tree).unwrap_err();
    assert!(matches!(err, EvalError::RegexTooBig { .. }), "{err:?}");
    assert!(err.to_string().contains("too large"), "{err}");
    // Python syntax the regex crate does not have is refused, not misread.
    check(
        r"[x-text:value MATCHES '(a)\\1']",
        &observed,
        Error("not supported"),
    );
    check(
        "[x-text:value MATCHES 'a(?=b)']",
        &observed,
        Error("not supported"),
    );
}

/// Combinations are bounded: a pattern that would need too many bindings fails cleanly.
#[test]
fn binding_limit() {
    let observed: Vec<Observation> = (0..60)
        .map(|_| obs20(S1, S1, 1, json!({"0": {"type": "person", "name": "alice"}})))
        .collect();
    check("[person:name = 'alice'] REPEATS 60 TIMES", &observed, Match);
    check(
        "[person:name = 'alice'] REPEATS 5 TIMES",
        &observed,
        Error("intermediate bindings"),
    );
    // A huge number_observed is not expanded beyond what the pattern could use...
    let many = [obs20(
        S1,
        S1,
        u64::MAX,
        json!({"0": {"type": "person", "name": "alice"}}),
    )];
    check("[person:name = 'alice'] REPEATS 2 TIMES", &many, Match);
    // ...and when the pattern could use that many, the evaluation stops with an error.
    check(
        "[person:name = 'alice'] REPEATS 1000000 TIMES",
        &many,
        Error("intermediate bindings"),
    );
}
