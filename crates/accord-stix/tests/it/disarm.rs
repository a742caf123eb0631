//! The DISARM framework bundle: a real, third-party STIX 2.1 bundle with custom
//! `x-mitre-*` objects and properties. Every object must validate and round-trip.

use accord_stix::{Object, validate};

#[test]
fn disarm_bundle_validates_and_round_trips() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata/stix/DISARM.json"
    );
    let Ok(body) = std::fs::read(path) else {
        println!("skipped: ../shared/testdata not present");
        return;
    };
    let objects = accord_stix::bundle::objects(&body).unwrap();
    assert!(objects.len() > 600, "{} objects", objects.len());
    let mut violations = Vec::new();
    for value in &objects {
        let map = value.as_object().unwrap();
        if let Err(v) = validate(map) {
            violations.extend(v);
        }
        let object = Object::from_json(map.clone()).unwrap();
        assert_eq!(&object.to_json(), map);
    }
    let shown: Vec<String> = violations
        .iter()
        .take(20)
        .map(ToString::to_string)
        .collect();
    assert!(
        violations.is_empty(),
        "{} violations:\n{}",
        violations.len(),
        shown.join("\n")
    );
}
