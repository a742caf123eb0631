//! Sightings: recording and its checks, and one allowed and one denied test for each rule of
//! who records and who reads what (the indicator's visibility, the publisher's aggregate, each
//! sighter's own).

use accord_stix::Tlp;
use accord_store::{Org, Role};
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::*;

const PATH: &str = "/v1/sightings";

fn of(id: &str) -> String {
    format!("{PATH}?indicator={id}")
}

async fn sight(h: &Harness, key: &str, body: Value) -> Resp {
    h.post(key, PATH, &body).await
}

/// Records a sighting and asserts it was.
async fn sighted(h: &Harness, key: &str, body: Value) -> Value {
    let r = sight(h, key, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

/// A 400 whose description names `field`.
fn refused_naming(r: &Resp, field: &str) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.body["http_status"], "400");
    let d = r.body["description"].as_str().unwrap();
    assert!(d.contains(field), "{field} not named in: {d}");
}

/// Asserts the caller is answered on POST and GET exactly as for an indicator that does not
/// exist.
async fn as_if_missing(h: &Harness, key: &str, id: &str) {
    let missing = format!("indicator--{}", uuid());
    let post = sight(h, key, json!({ "indicator": id })).await;
    let post_missing = sight(h, key, json!({ "indicator": missing })).await;
    assert_eq!(post.status, StatusCode::NOT_FOUND, "{}", post.body);
    assert_eq!(post.body, post_missing.body);
    let get = h.get(key, &of(id)).await;
    let get_missing = h.get(key, &of(&missing)).await;
    assert_eq!(get.status, StatusCode::NOT_FOUND, "{}", get.body);
    assert_eq!(get.body, get_missing.body);
    assert_eq!(get.body, post.body);
}

/// Whether the caller may sight the indicator and read its own sightings of it.
async fn may_sight(h: &Harness, key: &str, id: &str) -> bool {
    let post = sight(h, key, json!({ "indicator": id })).await;
    let get = h.get(key, &of(id)).await;
    assert_eq!(
        post.status == StatusCode::CREATED,
        get.status == StatusCode::OK,
        "POST and GET disagree: {} / {}",
        post.body,
        get.body
    );
    post.status == StatusCode::CREATED
}

// ---------------------------------------------------------------------------------------
// Recording.

#[tokio::test]
async fn a_sighting_is_recorded_and_returned_as_stix() {
    let w = world(Tlp::Amber);
    let id = publish_one(&w, new_indicator(&[])).await;
    let s = sighted(
        &w.h,
        &w.reader.1,
        json!({
            "indicator": id,
            "count": 12,
            "first_seen": "2026-10-30T08:00:00Z",
            "last_seen": "2026-10-31T09:30:00.250Z",
            "where": "county webmail, 3 inboxes",
            "observed": "url:http://vote-columbia.example/login",
        }),
    )
    .await;
    assert_eq!(s["type"], "sighting");
    assert_eq!(s["spec_version"], "2.1");
    assert!(s["id"].as_str().unwrap().starts_with("sighting--"));
    assert_eq!(s["created"], "2026-11-01T12:00:00.000Z");
    assert_eq!(s["modified"], s["created"]);
    assert_eq!(s["sighting_of_ref"], id.as_str());
    assert_eq!(s["count"], 12);
    assert_eq!(s["first_seen"], "2026-10-30T08:00:00Z");
    assert_eq!(s["last_seen"], "2026-10-31T09:30:00.250Z");
    assert_eq!(s["created_by_ref"], w.reader.0.identity.as_str());
    assert_eq!(s["where_sighted_refs"], json!([w.reader.0.identity]));
    let ext = &s["extensions"][accord_server::sightings::SIGHTING_EXTENSION];
    assert_eq!(ext["extension_type"], "property-extension");
    assert_eq!(ext["where"], "county webmail, 3 inboxes");
    assert_eq!(ext["observed"], "url:http://vote-columbia.example/login");

    let mine = w.h.get(&w.reader.1, &of(&id)).await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(mine.body["own"], json!([s]));
}

#[tokio::test]
async fn only_the_indicator_is_required() {
    let w = world(Tlp::Amber);
    let id = publish_one(&w, new_indicator(&[])).await;
    let s = sighted(&w.h, &w.reader.1, json!({ "indicator": id })).await;
    assert_eq!(s["count"], 1);
    // last_seen is the exchange's clock; first_seen is last_seen.
    assert_eq!(s["last_seen"], "2026-11-01T12:00:00.000Z");
    assert_eq!(s["first_seen"], s["last_seen"]);
    assert!(s.get("extensions").is_none());
}

#[tokio::test]
async fn count_must_be_from_1_to_999999999() {
    let w = world(Tlp::Amber);
    let id = publish_one(&w, new_indicator(&[])).await;
    for good in [1, 999_999_999] {
        sighted(&w.h, &w.reader.1, json!({ "indicator": id, "count": good })).await;
    }
    for bad in [
        json!(0),
        json!(-1),
        json!(1_000_000_000),
        json!(1.5),
        json!("3"),
    ] {
        let r = sight(&w.h, &w.reader.1, json!({ "indicator": id, "count": bad })).await;
        refused_naming(&r, "count");
    }
}

#[tokio::test]
async fn first_seen_may_equal_but_not_follow_last_seen() {
    let w = world(Tlp::Amber);
    let id = publish_one(&w, new_indicator(&[])).await;
    let t = "2026-10-01T00:00:00Z";
    sighted(
        &w.h,
        &w.reader.1,
        json!({ "indicator": id, "first_seen": t, "last_seen": t }),
    )
    .await;
    let r = sight(
        &w.h,
        &w.reader.1,
        json!({ "indicator": id, "first_seen": "2026-10-02T00:00:00Z", "last_seen": t }),
    )
    .await;
    refused_naming(&r, "first_seen");
    // Without last_seen, it is now: a first_seen after now is refused the same way.
    let r = sight(
        &w.h,
        &w.reader.1,
        json!({ "indicator": id, "first_seen": "2026-11-02T00:00:00Z" }),
    )
    .await;
    refused_naming(&r, "first_seen");
}

#[tokio::test]
async fn times_must_be_stix_timestamps_and_not_in_the_future() {
    let w = world(Tlp::Amber);
    let id = publish_one(&w, new_indicator(&[])).await;
    for (field, bad) in [
        ("first_seen", json!("yesterday")),
        ("last_seen", json!("2026-10-01T00:00:00+02:00")),
        ("last_seen", json!(1_700_000_000)),
        ("first_seen", json!("1500-01-01T00:00:00Z")),
        // A few minutes of clock difference are tolerated, not more.
        ("last_seen", json!("2026-11-01T13:00:00Z")),
    ] {
        let r = sight(&w.h, &w.reader.1, json!({ "indicator": id, field: bad })).await;
        refused_naming(&r, field);
    }
    sighted(
        &w.h,
        &w.reader.1,
        json!({ "indicator": id, "last_seen": "2026-11-01T12:04:00Z" }),
    )
    .await;
}

#[tokio::test]
async fn where_and_observed_have_limits() {
    let w = world(Tlp::Amber);
    let id = publish_one(&w, new_indicator(&[])).await;
    // 256 characters of 2 bytes each are fine; 257 are not.
    let at_limit = "é".repeat(256);
    sighted(
        &w.h,
        &w.reader.1,
        json!({ "indicator": id, "where": at_limit }),
    )
    .await;
    let r = sight(
        &w.h,
        &w.reader.1,
        json!({ "indicator": id, "where": "é".repeat(257) }),
    )
    .await;
    refused_naming(&r, "where");
    sighted(
        &w.h,
        &w.reader.1,
        json!({ "indicator": id, "observed": "a".repeat(8192) }),
    )
    .await;
    let r = sight(
        &w.h,
        &w.reader.1,
        json!({ "indicator": id, "observed": "a".repeat(8193) }),
    )
    .await;
    refused_naming(&r, "observed");
    let r = sight(&w.h, &w.reader.1, json!({ "indicator": id, "where": 3 })).await;
    refused_naming(&r, "where");
}

#[tokio::test]
async fn malformed_bodies_are_refused_in_the_taxii_error_shape() {
    let w = world(Tlp::Amber);
    let id = publish_one(&w, new_indicator(&[])).await;
    refused_naming(&sight(&w.h, &w.reader.1, json!({})).await, "indicator");
    refused_naming(
        &sight(&w.h, &w.reader.1, json!({ "indicator": "indicator--x" })).await,
        "indicator",
    );
    refused_naming(
        &sight(
            &w.h,
            &w.reader.1,
            json!({ "indicator": format!("malware--{}", uuid()) }),
        )
        .await,
        "indicator",
    );
    refused_naming(
        &sight(
            &w.h,
            &w.reader.1,
            json!({ "indicator": id, "frist_seen": "x" }),
        )
        .await,
        "frist_seen",
    );
    refused_naming(&sight(&w.h, &w.reader.1, json!([id])).await, "JSON object");
    let r =
        w.h.send(
            Harness::request(axum::http::Method::POST, &w.reader.1, PATH)
                .header("Content-Type", "application/json")
                .body(axum::body::Body::from("{not json"))
                .unwrap(),
        )
        .await;
    refused_naming(&r, "not valid JSON");
    let r =
        w.h.send(
            Harness::request(axum::http::Method::POST, &w.reader.1, PATH)
                .header("Content-Type", "text/plain")
                .body(axum::body::Body::from(
                    json!({ "indicator": id }).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = w.h.get(&w.reader.1, &format!("{PATH}?indicatr={id}")).await;
    refused_naming(&r, "indicatr");
    let r = w.h.delete(&w.reader.1, PATH).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.body["http_status"], "405");
}

#[tokio::test]
async fn sightings_survive_reopening_the_store() {
    let w = world(Tlp::Amber);
    let id = publish_one(&w, new_indicator(&[])).await;
    let s = sighted(&w.h, &w.reader.1, json!({ "indicator": id, "count": 4 })).await;
    let h = w.h.reopen();
    let mine = h.get(&w.reader.1, &of(&id)).await;
    assert_eq!(mine.body["own"], json!([s]));
    let agg = h.get(&w.publisher.1, &of(&id)).await;
    assert_eq!(agg.body["count"], 4);
}

// ---------------------------------------------------------------------------------------
// Who may record and read sightings of an indicator: whoever reads its current version.

#[tokio::test]
async fn no_key_no_sightings() {
    let w = world(Tlp::Clear);
    let id = publish_one(&w, new_indicator(&[])).await;
    let r = sight(&w.h, "acc_not_a_key", json!({ "indicator": id })).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = w.h.get("acc_not_a_key", &of(&id)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_writing_role_records_sightings() {
    let w = world(Tlp::Amber);
    let id = publish_one(&w, new_indicator(&[])).await;
    let admin = w.h.key(&w.reader.0, Role::OrgAdmin);
    assert!(may_sight(&w.h, &admin, &id).await);
}

#[tokio::test]
async fn a_reader_key_may_not_record_sightings_but_reads_its_organisations() {
    let w = world(Tlp::Amber);
    let id = publish_one(&w, new_indicator(&[])).await;
    let reader_key = w.h.key(&w.reader.0, Role::Reader);
    let r = sight(&w.h, &reader_key, json!({ "indicator": id })).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // What its organisation's analysts recorded, it reads.
    let s = sighted(&w.h, &w.reader.1, json!({ "indicator": id })).await;
    let r = w.h.get(&reader_key, &of(&id)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["own"], json!([s]));
}

#[tokio::test]
async fn clear_indicators_are_sighted_by_every_member() {
    let w = world(Tlp::Amber);
    let id = publish_one(&w, new_indicator(&[Tlp::Clear.marking_ref()])).await;
    assert!(may_sight(&w.h, &w.outsider.1, &id).await);
}

#[tokio::test]
async fn amber_indicators_are_sighted_by_group_readers() {
    let w = world(Tlp::Clear);
    for tlp in [Tlp::Green, Tlp::Amber, Tlp::AmberStrict] {
        let id = publish_one(&w, new_indicator(&[tlp.marking_ref()])).await;
        assert!(may_sight(&w.h, &w.reader.1, &id).await, "{tlp}");
    }
}

#[tokio::test]
async fn amber_indicators_outside_the_callers_groups_do_not_exist_for_it() {
    let w = world(Tlp::Clear);
    for tlp in [Tlp::Green, Tlp::Amber, Tlp::AmberStrict] {
        let id = publish_one(&w, new_indicator(&[tlp.marking_ref()])).await;
        as_if_missing(&w.h, &w.outsider.1, &id).await;
        as_if_missing(&w.h, &w.no_read.1, &id).await;
    }
}

#[tokio::test]
async fn unmarked_indicators_follow_the_collection_default() {
    let w = world(Tlp::Amber);
    let id = publish_one(&w, new_indicator(&[])).await;
    assert!(may_sight(&w.h, &w.reader.1, &id).await);
    as_if_missing(&w.h, &w.outsider.1, &id).await;
}

#[tokio::test]
async fn red_indicators_are_sighted_by_their_recipients() {
    let w = world(Tlp::Amber);
    let obj = with_sharing(
        new_indicator(&[Tlp::Red.marking_ref()]),
        &[&w.outsider.0],
        false,
    );
    let id = publish_one(&w, obj).await;
    assert!(may_sight(&w.h, &w.outsider.1, &id).await);
}

#[tokio::test]
async fn red_indicators_do_not_exist_for_non_recipients_even_in_the_group() {
    let w = world(Tlp::Amber);
    let obj = with_sharing(
        new_indicator(&[Tlp::Red.marking_ref()]),
        &[&w.outsider.0],
        false,
    );
    let id = publish_one(&w, obj).await;
    as_if_missing(&w.h, &w.reader.1, &id).await;
}

#[tokio::test]
async fn the_current_version_decides_an_earlier_marking_does_not() {
    let w = world(Tlp::Amber);
    // Made CLEAR later: everyone may sight it.
    let id = format!("indicator--{}", uuid());
    publish_one(
        &w,
        with_sharing(
            indicator(&id, "2026-01-01T00:00:00.000Z", &[Tlp::Red.marking_ref()]),
            &[&w.reader.0],
            false,
        ),
    )
    .await;
    as_if_missing(&w.h, &w.outsider.1, &id).await;
    publish_one(
        &w,
        indicator(&id, "2026-02-01T00:00:00.000Z", &[Tlp::Clear.marking_ref()]),
    )
    .await;
    assert!(may_sight(&w.h, &w.outsider.1, &id).await);

    // Made RED later: the CLEAR first version no longer lets anyone sight it.
    let id = format!("indicator--{}", uuid());
    publish_one(
        &w,
        indicator(&id, "2026-01-01T00:00:00.000Z", &[Tlp::Clear.marking_ref()]),
    )
    .await;
    publish_one(
        &w,
        with_sharing(
            indicator(&id, "2026-02-01T00:00:00.000Z", &[Tlp::Red.marking_ref()]),
            &[&w.reader.0],
            false,
        ),
    )
    .await;
    as_if_missing(&w.h, &w.outsider.1, &id).await;
}

#[tokio::test]
async fn a_revoked_indicator_may_still_be_sighted() {
    let w = world(Tlp::Amber);
    let id = format!("indicator--{}", uuid());
    publish_one(&w, indicator(&id, "2026-01-01T00:00:00.000Z", &[])).await;
    let mut revoked = indicator(&id, "2026-02-01T00:00:00.000Z", &[]);
    revoked["revoked"] = json!(true);
    publish_one(&w, revoked).await;
    assert!(may_sight(&w.h, &w.reader.1, &id).await);
    as_if_missing(&w.h, &w.outsider.1, &id).await;
    let agg = w.h.get(&w.publisher.1, &of(&id)).await;
    assert_eq!(agg.body["sightings"], 1);
}

#[tokio::test]
async fn a_deleted_indicator_no_longer_exists_for_sightings() {
    let w = world(Tlp::Amber);
    let id = publish_one(&w, new_indicator(&[])).await;
    assert!(may_sight(&w.h, &w.reader.1, &id).await);
    let r =
        w.h.delete(&w.publisher.1, &object_path(&w.group, &id))
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    as_if_missing(&w.h, &w.reader.1, &id).await;
    as_if_missing(&w.h, &w.publisher.1, &id).await;
}

// ---------------------------------------------------------------------------------------
// Who reads which sightings: the publisher the aggregate, each sighter its own.

/// The reader sights twice, the other reader once; returns the indicator id.
async fn sighted_by_two(w: &World, obj: Value) -> String {
    let id = publish_one(w, obj).await;
    for (key, count, first, last, place) in [
        (
            &w.reader.1,
            3,
            "2026-10-01T00:00:00Z",
            "2026-10-02T00:00:00Z",
            "county webmail",
        ),
        (
            &w.reader.1,
            2,
            "2026-10-05T00:00:00Z",
            "2026-10-06T00:00:00.123Z",
            "county webmail",
        ),
        (
            &w.other_reader.1,
            10,
            "2026-09-20T00:00:00Z",
            "2026-10-03T00:00:00Z",
            "abuse reports",
        ),
    ] {
        sighted(
            &w.h,
            key,
            json!({ "indicator": id, "count": count, "first_seen": first, "last_seen": last, "where": place }),
        )
        .await;
    }
    id
}

/// Whether a response names an organisation in any way.
fn names(body: &Value, o: &Org) -> bool {
    let text = body.to_string();
    text.contains(&o.identity) || text.contains(&o.name)
}

#[tokio::test]
async fn the_publisher_sees_the_aggregate_without_the_sighters() {
    let w = world(Tlp::Amber);
    let id = sighted_by_two(&w, new_indicator(&[])).await;
    let r = w.h.get(&w.publisher.1, &of(&id)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body,
        json!({
            "indicator": id,
            "count": 15,
            "sightings": 3,
            "organisations": 2,
            "first_seen": "2026-09-20T00:00:00.000Z",
            "last_seen": "2026-10-06T00:00:00.123Z",
            "own": [],
        })
    );
    assert!(!names(&r.body, &w.reader.0));
    assert!(!names(&r.body, &w.other_reader.0));
}

#[tokio::test]
async fn a_sighter_sees_only_its_own_sightings_and_no_aggregate() {
    let w = world(Tlp::Amber);
    let id = sighted_by_two(&w, new_indicator(&[])).await;
    let r = w.h.get(&w.reader.1, &of(&id)).await;
    assert_eq!(r.status, StatusCode::OK);
    let own = r.body["own"].as_array().unwrap();
    assert_eq!(own.len(), 2);
    assert!(
        own.iter()
            .all(|s| s["created_by_ref"] == w.reader.0.identity.as_str())
    );
    assert_eq!(own[0]["count"], 2, "newest first");
    for hidden in [
        "count",
        "sightings",
        "organisations",
        "first_seen",
        "last_seen",
    ] {
        assert!(r.body.get(hidden).is_none(), "{hidden}: {}", r.body);
    }
    assert!(!names(&r.body, &w.other_reader.0));
    assert!(!r.body.to_string().contains("abuse reports"));
}

#[tokio::test]
async fn the_publisher_of_an_anonymous_indicator_sees_the_aggregate_and_sighters_never_learn_who_published()
 {
    let w = world(Tlp::Amber);
    let obj = with_sharing(new_indicator(&[]), &[], true);
    let id = sighted_by_two(&w, obj).await;
    let r = w.h.get(&w.publisher.1, &of(&id)).await;
    assert_eq!(r.body["organisations"], 2);
    let r = w.h.get(&w.reader.1, &of(&id)).await;
    assert!(r.body.get("count").is_none());
    assert!(!names(&r.body, &w.publisher.0));
    let posted = sighted(&w.h, &w.reader.1, json!({ "indicator": id })).await;
    assert!(!names(&posted, &w.publisher.0));
    let list = w.h.get(&w.reader.1, PATH).await;
    assert!(!list.body.to_string().contains(&id));
}

#[tokio::test]
async fn the_publisher_lists_its_sighted_indicators_latest_seen_first() {
    let w = world(Tlp::Amber);
    let older = sighted_by_two(&w, new_indicator(&[])).await;
    let unsighted = publish_one(&w, new_indicator(&[])).await;
    let newer = publish_one(&w, new_indicator(&[])).await;
    sighted(
        &w.h,
        &w.reader.1,
        json!({ "indicator": newer, "last_seen": "2026-10-31T00:00:00Z" }),
    )
    .await;
    let r = w.h.get(&w.publisher.1, PATH).await;
    assert_eq!(r.status, StatusCode::OK);
    let listed: Vec<&str> = r.body["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["indicator"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [newer.as_str(), older.as_str()]);
    assert!(!listed.contains(&unsighted.as_str()));
    assert_eq!(r.body["indicators"][1]["count"], 15);
    assert_eq!(r.body["more"], false);
    assert!(!names(&r.body, &w.reader.0));
}

#[tokio::test]
async fn nobody_lists_the_aggregates_of_indicators_it_did_not_publish() {
    let w = world(Tlp::Clear);
    sighted_by_two(&w, new_indicator(&[])).await;
    for key in [&w.reader.1, &w.other_reader.1, &w.outsider.1] {
        let r = w.h.get(key, PATH).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["indicators"], json!([]), "{}", r.body);
    }
}
