//! Regression tests for attacks found in review: each test is named after what used to
//! go wrong.

use accord_server::Config;
use accord_stix::Tlp;
use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::*;

struct Two {
    h: Harness,
    group: accord_store::Group,
    other_group: accord_store::Group,
    a: (accord_store::Org, String),
    c: (accord_store::Org, String),
    outsider: (accord_store::Org, String),
}

/// A publishes into `group`; C writes into `other_group` and `group`; an outsider reads.
fn two() -> Two {
    let h = Harness::new();
    let group = h.group("open", Tlp::Clear);
    let other_group = h.group("other", Tlp::Green);
    let a = h.member("A");
    let c = h.member("C");
    let outsider = h.member("outsider");
    h.join(&a.0, &group, true, true);
    h.join(&c.0, &group, true, true);
    h.join(&c.0, &other_group, true, true);
    Two {
        h,
        group,
        other_group,
        a,
        c,
        outsider,
    }
}

fn failure(r: &Resp) -> String {
    r.body["failures"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn unknown_markings_no_longer_fall_back_to_the_clear_default() {
    let t = two();
    let custom = "marking-definition--0a6a5a2e-5c52-4a5e-9d6b-6f0f5b6c7d8e";
    let r =
        t.h.post(
            &t.a.1,
            &objects_path(&t.group),
            &json!({"objects": [new_indicator(&[custom])]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        failure(&r).contains("not a marking definition this exchange knows"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_custom_definition_carrying_tlp_red_makes_its_objects_red() {
    let t = two();
    let custom = "marking-definition--0a6a5a2e-5c52-4a5e-9d6b-6f0f5b6c7d8e";
    let def = json!({"type": "marking-definition", "spec_version": "2.1", "id": custom,
        "created": "2026-01-01T00:00:00.000Z", "name": "our red",
        "extensions": {accord_stix::tlp::TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": "red"}}});
    // Without recipients it is refused as any TLP:RED object is.
    let r =
        t.h.post(
            &t.a.1,
            &objects_path(&t.group),
            &json!({"objects": [def.clone(), new_indicator(&[custom])]}),
        )
        .await;
    assert!(
        r.body["failures"][0]["message"]
            .as_str()
            .unwrap()
            .contains("must name its recipients"),
        "{}",
        r.body
    );
    // With a recipient, only the recipient reads it; the definition itself is stored now.
    let obj = with_sharing(new_indicator(&[custom]), &[&t.c.0], false);
    let id = obj["id"].as_str().unwrap().to_owned();
    t.h.publish(&t.a.1, &t.group, vec![obj]).await;
    assert_eq!(
        t.h.get(&t.outsider.1, &object_path(&t.group, &id))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.h.get(&t.c.1, &object_path(&t.group, &id)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn opencti_amber_strict_is_no_longer_read_by_outsiders() {
    let t = two();
    let obj = new_indicator(&[accord_stix::tlp::OPENCTI_AMBER_STRICT]);
    let id = obj["id"].as_str().unwrap().to_owned();
    t.h.publish(&t.a.1, &t.group, vec![obj]).await;
    assert_eq!(
        t.h.get(&t.outsider.1, &object_path(&t.group, &id))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.h.get(&t.c.1, &object_path(&t.group, &id)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn upper_case_ids_no_longer_slip_past_marking_and_author_checks() {
    let t = two();
    let red_upper = Tlp::Red
        .marking_ref()
        .to_ascii_uppercase()
        .replace("MARKING-DEFINITION", "marking-definition");
    let r =
        t.h.post(
            &t.c.1,
            &objects_path(&t.group),
            &json!({"objects": [new_indicator(&[&red_upper])]}),
        )
        .await;
    assert!(failure(&r).contains("lower case"), "{}", r.body);
    let mut spoof = new_indicator(&[]);
    spoof["created_by_ref"] = json!(
        t.a.0
            .identity
            .to_ascii_uppercase()
            .replace("IDENTITY", "identity")
    );
    let r =
        t.h.post(
            &t.c.1,
            &objects_path(&t.group),
            &json!({"objects": [spoof]}),
        )
        .await;
    assert!(failure(&r).contains("lower case"), "{}", r.body);
}

#[tokio::test]
async fn reposting_a_hidden_object_no_longer_confirms_its_content_or_date() {
    let t = two();
    let red = Tlp::Red.marking_ref();
    let domain = json!({"type": "domain-name", "spec_version": "2.1",
        "id": "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5", "value": "columbia-votes.example",
        "object_marking_refs": [red]});
    let hidden = with_sharing(domain.clone(), &[&t.outsider.0], false);
    let first = t.h.publish(&t.a.1, &t.group, vec![hidden.clone()]).await;
    let hidden_version = first.body["successes"][0]["version"].clone();
    t.h.clock.advance_secs(5);
    // C guesses the exact content: it gets its own copy, stamped now, not A's date.
    let guess = with_sharing(domain, &[&t.outsider.0], false);
    let r = t.h.publish(&t.c.1, &t.group, vec![guess]).await;
    assert_ne!(r.body["successes"][0]["version"], hidden_version);
    // C reads its own copy only; A's stays hidden from it.
    let seen =
        t.h.get(
            &t.c.1,
            &format!(
                "{}?match[version]=all",
                object_path(
                    &t.group,
                    "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5"
                )
            ),
        )
        .await;
    assert_eq!(seen.body["objects"].as_array().unwrap().len(), 1);
    // And A deleting its object leaves C's acknowledged copy in place.
    t.h.delete(
        &t.a.1,
        &object_path(
            &t.group,
            "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5",
        ),
    )
    .await;
    let seen =
        t.h.get(
            &t.c.1,
            &object_path(
                &t.group,
                "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5",
            ),
        )
        .await;
    assert_eq!(seen.status, StatusCode::OK);
}

#[tokio::test]
async fn another_collection_can_no_longer_carry_versions_of_someone_elses_object() {
    let t = two();
    let id = format!("indicator--{}", uuid());
    t.h.publish(
        &t.a.1,
        &t.group,
        vec![indicator(&id, "2026-01-01T00:00:00.000Z", &[])],
    )
    .await;
    let mut revoke = indicator(&id, "2026-06-01T00:00:00.000Z", &[]);
    revoke["revoked"] = json!(true);
    let r =
        t.h.post(
            &t.c.1,
            &objects_path(&t.other_group),
            &json!({"objects": [revoke]}),
        )
        .await;
    assert!(
        failure(&r).contains("another organisation's object"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_member_can_no_longer_publish_another_members_identity() {
    let t = two();
    let fake = json!({"type": "identity", "spec_version": "2.1", "id": t.a.0.identity,
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "name": "A (official)"});
    let r =
        t.h.post(&t.c.1, &objects_path(&t.group), &json!({"objects": [fake]}))
            .await;
    assert!(
        failure(&r).contains("identity of another member"),
        "{}",
        r.body
    );
    let own = json!({"type": "identity", "spec_version": "2.1", "id": t.c.0.identity,
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "name": "C"});
    t.h.publish(&t.c.1, &t.group, vec![own]).await;
}

#[tokio::test]
async fn an_earlier_named_version_can_no_longer_unmask_an_anonymous_one() {
    let t = two();
    let id = format!("indicator--{}", uuid());
    t.h.publish(
        &t.a.1,
        &t.group,
        vec![indicator(&id, "2026-01-01T00:00:00.000Z", &[])],
    )
    .await;
    let anon = with_sharing(indicator(&id, "2026-02-01T00:00:00.000Z", &[]), &[], true);
    let r =
        t.h.post(&t.a.1, &objects_path(&t.group), &json!({"objects": [anon]}))
            .await;
    assert!(failure(&r).contains("same way"), "{}", r.body);
}

#[tokio::test]
async fn an_anonymous_object_can_no_longer_name_its_publisher_inside() {
    let t = two();
    let sighting = json!({"type": "sighting", "spec_version": "2.1", "id": format!("sighting--{}", uuid()),
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "sighting_of_ref": format!("indicator--{}", uuid()), "where_sighted_refs": [t.a.0.identity]});
    let r =
        t.h.post(
            &t.a.1,
            &objects_path(&t.group),
            &json!({"objects": [with_sharing(sighting, &[], true)]}),
        )
        .await;
    assert!(
        failure(&r).contains("`where_sighted_refs[0]` holds your identity"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn far_future_timestamps_no_longer_overflow() {
    let t = two();
    let mut never = new_indicator(&[]);
    never["valid_until"] = json!("9999-12-31T23:59:59Z");
    t.h.publish(&t.a.1, &t.group, vec![never]).await;
    let r =
        t.h.get(
            &t.a.1,
            &format!(
                "{}?added_after=9999-12-31T23:59:59Z",
                objects_path(&t.group)
            ),
        )
        .await;
    assert_eq!(r.body, json!({"more": false}));
    let r =
        t.h.get(
            &t.a.1,
            &format!(
                "{}?added_after=0001-01-01T00:00:00Z",
                objects_path(&t.group)
            ),
        )
        .await;
    assert_eq!(ids(&r.body).len(), 1);
}

#[tokio::test]
async fn a_small_body_of_junk_no_longer_builds_a_huge_status() {
    let h = Harness::with_config(Config {
        max_objects: 5000,
        ..Config::default()
    });
    let g = h.group("g", Tlp::Amber);
    let (o, key) = h.member("o");
    h.join(&o, &g, true, true);
    let junk = format!("{{\"objects\": [{}1]}}", "1,".repeat(5000));
    let req = Harness::request(Method::POST, &key, &objects_path(&g))
        .header("Content-Type", TAXII)
        .body(Body::from(junk))
        .unwrap();
    let r = h.send(req).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        r.body["description"]
            .as_str()
            .unwrap()
            .contains("at most 5000 objects")
    );
    let junk: Vec<Value> = (0..3000).map(|i| json!(i)).collect();
    let r = h
        .post(&key, &objects_path(&g), &json!({ "objects": junk }))
        .await;
    assert_eq!(r.body["failure_count"], 3000);
    assert_eq!(r.body["failures"].as_array().unwrap().len(), 1000);
}

#[tokio::test]
async fn discovery_no_longer_echoes_any_host_when_a_public_url_is_set() {
    let h = Harness::with_config(Config {
        public_url: Some("https://exchange.example/".into()),
        ..Config::default()
    });
    let (_, key) = h.member("o");
    let req = Harness::request(Method::GET, &key, "/taxii2/")
        .header("Host", "evil.example")
        .body(Body::empty())
        .unwrap();
    let r = h.send(req).await;
    assert_eq!(
        r.body["api_roots"],
        json!(["https://exchange.example/exchange/"])
    );
}

#[tokio::test]
async fn well_known_definitions_are_acknowledged_for_everyone() {
    let t = two();
    // Two organisations may both send the TLP definitions and the sharing extension.
    for key in [&t.a.1, &t.c.1] {
        let r =
            t.h.publish(
                key,
                &t.group,
                vec![
                    Tlp::Red.marking_definition(),
                    accord_stix::ext::definition(),
                ],
            )
            .await;
        assert_eq!(r.body["success_count"], 2);
    }
}
