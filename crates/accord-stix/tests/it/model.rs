//! The typed model: every valid example is read as the right variant and written back
//! unchanged, and no object that validation accepts can fail to round-trip.

use accord_stix::{Object, validate};
use serde_json::{Map, Value, json};

use crate::fixtures;

/// Reads `input` and checks the variant (by its type name, or `None` for `Object::Other`)
/// and that writing it back gives the same JSON.
fn check(input: &Map<String, Value>, expected: Option<&str>) {
    let object =
        Object::from_json(input.clone()).unwrap_or_else(|e| panic!("{}: {e}", input["id"]));
    match (&object, expected) {
        (Object::Other(other), None) => assert_eq!(other.object_type, input["type"]),
        (Object::Other(_), Some(t)) => panic!("{t} was read as Other"),
        (_, None) => panic!("{} should be Other", input["type"]),
        (_, Some(t)) => assert_eq!(object.object_type(), t),
    }
    assert_eq!(object.id().as_str(), input["id"]);
    assert_eq!(&object.to_json(), input, "round trip of {}", input["id"]);
}

#[test]
fn every_valid_example_round_trips() {
    for value in fixtures::all() {
        let map = value.as_object().unwrap();
        let t = map["type"].as_str().unwrap();
        let other = matches!(t, "malware" | "location") || t.starts_with("x-");
        check(map, (!other).then_some(t));
    }
}

#[test]
fn typed_fields_are_typed() {
    let Object::Indicator(indicator) = Object::from_json(fixtures::valid("indicator")).unwrap()
    else {
        panic!("not an indicator")
    };
    assert_eq!(indicator.pattern_type, "stix");
    assert_eq!(indicator.valid_from.as_str(), "2016-01-01T00:00:00Z");
    assert_eq!(
        indicator
            .common
            .confidence
            .as_ref()
            .and_then(|n| n.as_u64()),
        Some(85)
    );
    assert_eq!(
        indicator.common.object_marking_refs.unwrap()[0].object_type(),
        "marking-definition"
    );
    assert_eq!(indicator.extra["x_acme_score"]["impact"], "high");

    let Object::Opinion(opinion) = Object::from_json(fixtures::valid("opinion")).unwrap() else {
        panic!("not an opinion")
    };
    assert_eq!(
        opinion.opinion,
        accord_stix::model::Agreement::StronglyDisagree
    );
}

#[test]
fn serde_goes_through_the_model() {
    let json = Value::Object(fixtures::valid("sighting"));
    let object: Object = serde_json::from_value(json.clone()).unwrap();
    assert!(matches!(object, Object::Sighting(_)));
    assert_eq!(serde_json::to_value(&object).unwrap(), json);
}

/// Values of every JSON shape, to put in place of a property.
fn samples() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(50.0),
        json!(12345678901234567890u64),
        json!(""),
        json!("x"),
        json!("2016-01-01T00:00:00.000Z"),
        json!(fixtures::IDENTITY),
        json!([]),
        json!(["x"]),
        json!([1]),
        json!([fixtures::IDENTITY]),
        json!({}),
        json!({"a": 1}),
        json!([{"source_name": "x", "url": "https://x.invalid"}]),
    ]
}

/// Paths to every value in `value`, up to `depth` levels, as JSON pointers.
fn paths(value: &Value, prefix: &str, depth: usize, out: &mut Vec<String>) {
    if depth == 0 {
        return;
    }
    let children: Vec<(String, &Value)> = match value {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| (k.replace('~', "~0").replace('/', "~1"), v))
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => return,
    };
    for (key, child) in children {
        let path = format!("{prefix}/{key}");
        out.push(path.clone());
        paths(child, &path, depth - 1, out);
    }
}

/// The model's promise, tested against validation: replace or remove any value in any valid
/// example; whenever the result still passes `validate`, it must round-trip through the
/// model. This is what catches a property that the model types but validation does not check.
#[test]
fn whatever_validates_round_trips() {
    let mut tried = 0;
    for example in fixtures::all() {
        let mut all_paths = Vec::new();
        paths(&example, "", 3, &mut all_paths);
        for path in all_paths {
            if path == "/type" {
                continue;
            }
            let mut variants = Vec::new();
            for sample in samples() {
                let mut changed = example.clone();
                *changed.pointer_mut(&path).unwrap() = sample;
                variants.push(changed);
            }
            let (parent, key) = path.rsplit_once('/').unwrap();
            let mut removed = example.clone();
            match removed
                .pointer_mut(if parent.is_empty() { "" } else { parent })
                .unwrap()
            {
                Value::Object(map) => {
                    map.shift_remove(&key.replace("~1", "/").replace("~0", "~"));
                }
                Value::Array(items) => {
                    items.remove(key.parse::<usize>().unwrap());
                }
                _ => unreachable!(),
            }
            variants.push(removed);
            for variant in variants {
                let map = variant.as_object().unwrap();
                if validate(map).is_ok() {
                    tried += 1;
                    let object = Object::from_json(map.clone()).unwrap_or_else(|e| {
                        panic!("validates but does not fit the model: {e}\n{variant:#}")
                    });
                    assert_eq!(&object.to_json(), map, "changed at {path}");
                }
            }
        }
    }
    assert!(tried > 500, "only {tried} variants validated");
}
