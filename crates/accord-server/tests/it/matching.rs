//! `POST /v1/match`: hits carry what the issue promises, every visibility rule has an allowed
//! and a denied case, the index follows publishes, new versions, revocation, deletion and
//! expiry, known-good entries suppress visibly, and bad input is answered line by line.

use accord_stix::Tlp;
use axum::body::Body;
use axum::http::{Method, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::harness::*;

struct Out {
    status: StatusCode,
    lines: Vec<Value>,
}

impl Out {
    fn hits(&self) -> Vec<&Value> {
        self.lines
            .iter()
            .filter(|l| l.get("indicator").is_some() && l.get("suppressed").is_none())
            .filter(|l| l.get("error").is_none())
            .collect()
    }

    fn hit_ids(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .hits()
            .iter()
            .map(|l| l["indicator"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    }

    fn summary(&self) -> &Value {
        let last = self.lines.last().unwrap();
        &last["summary"]
    }
}

async fn send_match(h: &Harness, key: &str, content_type: &str, body: &str) -> Out {
    let req = Harness::request(Method::POST, key, "/v1/match")
        .header("Content-Type", content_type)
        .body(Body::from(body.to_owned()))
        .unwrap();
    let resp = h.app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes);
    let lines = if status == StatusCode::OK {
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    } else {
        vec![serde_json::from_str(&text).unwrap()]
    };
    Out { status, lines }
}

async fn lines(h: &Harness, key: &str, body: &str) -> Out {
    let out = send_match(h, key, "text/plain", body).await;
    assert_eq!(out.status, StatusCode::OK, "{:?}", out.lines);
    out
}

/// The indicators a key's organisation hits with one body of lines.
async fn seen_by(h: &Harness, key: &str, body: &str) -> Vec<String> {
    lines(h, key, body).await.hit_ids()
}

fn with_pattern(mut v: Value, pattern: &str) -> Value {
    v["pattern"] = json!(pattern);
    v
}

#[tokio::test]
async fn a_hit_names_indicator_clause_collection_marking_and_source() {
    let w = world(Tlp::Amber);
    let ind = with_pattern(
        new_indicator(&[Tlp::Green.marking_ref()]),
        "[url:value = 'http://vote-example.com/login']",
    );
    let id = publish_one(&w, ind).await;
    let out = lines(
        &w.h,
        &w.reader.1,
        "HTTP://Vote-Example.COM:80/a/../login#frag\n",
    )
    .await;
    let hits = out.hits();
    assert_eq!(hits.len(), 1, "{:?}", out.lines);
    let hit = hits[0];
    assert_eq!(hit["indicator"], json!(id));
    assert_eq!(hit["line"], json!(1));
    assert_eq!(
        hit["observable"],
        json!("url:http://vote-example.com/login")
    );
    assert_eq!(
        hit["clause"],
        json!("url:value = 'http://vote-example.com/login'")
    );
    assert_eq!(hit["collection"], json!(w.group.id.0));
    assert_eq!(hit["marking"], json!("TLP:GREEN"));
    assert_eq!(hit["source"], json!(w.publisher.0.identity));
    assert_eq!(hit["source_name"], json!("Redline Security"));
    assert_eq!(hit["name"], json!("test indicator"));
    assert_eq!(out.summary()["observables"], json!(1));
    assert_eq!(out.summary()["hits"], json!(1));
}

#[tokio::test]
async fn green_and_amber_hits_reach_group_readers_and_the_publisher_but_not_others() {
    for tlp in [Tlp::Green, Tlp::Amber, Tlp::AmberStrict] {
        let w = world(Tlp::Clear);
        let id = publish_one(&w, new_indicator(&[tlp.marking_ref()])).await;
        for key in [&w.reader.1, &w.publisher.1] {
            assert_eq!(seen_by(&w.h, key, "example.com").await, vec![id.clone()]);
        }
        // Neither an organisation outside the group nor a member without read rights.
        for key in [&w.outsider.1, &w.no_read.1] {
            let out = lines(&w.h, key, "example.com").await;
            assert!(out.hit_ids().is_empty(), "{tlp:?}: {:?}", out.lines);
            assert_eq!(out.summary()["hits"], json!(0));
        }
    }
}

#[tokio::test]
async fn clear_hits_reach_everyone() {
    let w = world(Tlp::Amber);
    let id = publish_one(&w, new_indicator(&[Tlp::Clear.marking_ref()])).await;
    assert_eq!(seen_by(&w.h, &w.outsider.1, "example.com").await, vec![id]);
}

#[tokio::test]
async fn unmarked_indicators_take_the_collection_default() {
    let w = world(Tlp::Amber);
    let id = publish_one(&w, new_indicator(&[])).await;
    assert_eq!(seen_by(&w.h, &w.reader.1, "example.com").await, vec![id]);
    assert!(seen_by(&w.h, &w.outsider.1, "example.com").await.is_empty());
}

#[tokio::test]
async fn red_hits_reach_only_named_recipients() {
    let w = world(Tlp::Amber);
    let recipient = w.h.member("Recipient Org");
    let ind = with_sharing(
        new_indicator(&[Tlp::Red.marking_ref()]),
        &[&recipient.0],
        false,
    );
    let id = publish_one(&w, ind).await;
    assert_eq!(
        seen_by(&w.h, &recipient.1, "example.com").await,
        vec![id.clone()]
    );
    assert_eq!(seen_by(&w.h, &w.publisher.1, "example.com").await, vec![id]);
    // A member of the group who is not named sees nothing.
    assert!(seen_by(&w.h, &w.reader.1, "example.com").await.is_empty());
    assert!(seen_by(&w.h, &w.outsider.1, "example.com").await.is_empty());
}

#[tokio::test]
async fn anonymous_hits_show_the_exchange_as_source_to_all_but_the_publisher() {
    let w = world(Tlp::Clear);
    let ind = with_sharing(new_indicator(&[Tlp::Green.marking_ref()]), &[], true);
    publish_one(&w, ind).await;
    let exchange = w.h.store.exchange_identity().unwrap();
    let member = lines(&w.h, &w.reader.1, "example.com").await;
    assert_eq!(member.hits()[0]["source"], json!(exchange));
    assert_eq!(member.hits()[0]["source_name"], json!("the exchange"));
    assert!(
        !member
            .lines
            .iter()
            .any(|l| l.to_string().contains(&w.publisher.0.identity))
    );
    let own = lines(&w.h, &w.publisher.1, "example.com").await;
    assert_eq!(own.hits()[0]["source"], json!(w.publisher.0.identity));
}

#[tokio::test]
async fn a_new_version_replaces_the_old_pattern_and_revocation_removes_it() {
    let w = world(Tlp::Clear);
    let v1 = new_indicator(&[]);
    let id = publish_one(&w, v1.clone()).await;
    assert_eq!(
        seen_by(&w.h, &w.reader.1, "example.com").await,
        vec![id.clone()]
    );

    let mut v2 = with_pattern(v1.clone(), "[domain-name:value = 'evil.test']");
    v2["modified"] = json!("2026-02-01T00:00:00.000Z");
    publish_one(&w, v2.clone()).await;
    assert!(seen_by(&w.h, &w.reader.1, "example.com").await.is_empty());
    assert_eq!(
        seen_by(&w.h, &w.reader.1, "evil.test").await,
        vec![id.clone()]
    );

    // An older version arriving late changes nothing.
    let mut old = v1.clone();
    old["modified"] = json!("2026-01-15T00:00:00.000Z");
    publish_one(&w, old).await;
    assert!(seen_by(&w.h, &w.reader.1, "example.com").await.is_empty());

    let mut v3 = v2.clone();
    v3["modified"] = json!("2026-03-01T00:00:00.000Z");
    v3["revoked"] = json!(true);
    publish_one(&w, v3).await;
    assert!(seen_by(&w.h, &w.reader.1, "evil.test").await.is_empty());
}

#[tokio::test]
async fn deleting_an_indicator_removes_its_hits_and_deleting_one_version_restores_the_previous() {
    let w = world(Tlp::Clear);
    let v1 = new_indicator(&[]);
    let id = publish_one(&w, v1.clone()).await;
    let mut v2 = with_pattern(v1.clone(), "[domain-name:value = 'evil.test']");
    v2["modified"] = json!("2026-02-01T00:00:00.000Z");
    publish_one(&w, v2).await;
    let path = format!(
        "{}?match[version]=2026-02-01T00:00:00.000Z",
        object_path(&w.group, &id)
    );
    assert_eq!(
        w.h.delete(&w.publisher.1, &path).await.status,
        StatusCode::OK
    );
    assert_eq!(
        seen_by(&w.h, &w.reader.1, "example.com").await,
        vec![id.clone()]
    );
    assert!(seen_by(&w.h, &w.reader.1, "evil.test").await.is_empty());
    let all = format!("{}?match[version]=all", object_path(&w.group, &id));
    assert_eq!(
        w.h.delete(&w.publisher.1, &all).await.status,
        StatusCode::OK
    );
    assert!(seen_by(&w.h, &w.reader.1, "example.com").await.is_empty());
}

#[tokio::test]
async fn an_indicator_past_its_valid_until_no_longer_hits() {
    let w = world(Tlp::Clear);
    let mut ind = new_indicator(&[]);
    // The harness clock shows 2026-11-01T12:00:00Z.
    ind["valid_until"] = json!("2026-11-01T13:00:00Z");
    let id = publish_one(&w, ind).await;
    assert_eq!(seen_by(&w.h, &w.reader.1, "example.com").await, vec![id]);
    w.h.clock.advance_secs(3600);
    assert!(seen_by(&w.h, &w.reader.1, "example.com").await.is_empty());
}

#[tokio::test]
async fn the_index_is_rebuilt_from_the_store_after_a_restart() {
    let w = world(Tlp::Clear);
    let id = publish_one(&w, new_indicator(&[Tlp::Green.marking_ref()])).await;
    let World {
        h,
        reader,
        outsider,
        ..
    } = w;
    let h = h.reopen();
    assert_eq!(seen_by(&h, &reader.1, "example.com").await, vec![id]);
    assert!(seen_by(&h, &outsider.1, "example.com").await.is_empty());
}

#[tokio::test]
async fn subdomains_hit_suffix_patterns_and_urls_hit_domain_indicators_through_their_host() {
    let w = world(Tlp::Clear);
    let suffix = publish_one(
        &w,
        with_pattern(
            new_indicator(&[]),
            "[domain-name:value = 'vote-example.com' OR domain-name:value LIKE '%.vote-example.com']",
        ),
    )
    .await;
    let out = lines(
        &w.h,
        &w.reader.1,
        "login.vote-example.com\nxvote-example.com\n",
    )
    .await;
    assert_eq!(out.hit_ids(), vec![suffix.clone()]);
    assert_eq!(out.hits()[0]["line"], json!(1));
    let out = lines(&w.h, &w.reader.1, "https://Login.Vote-Example.com/x").await;
    assert_eq!(out.hit_ids(), vec![suffix]);
    assert_eq!(
        out.hits()[0]["matched"],
        json!("domain-name:login.vote-example.com")
    );
}

#[tokio::test]
async fn known_good_entries_suppress_hits_and_say_so() {
    let w = world(Tlp::Clear);
    let id = publish_one(&w, new_indicator(&[])).await;
    let store = &w.h.store;
    store
        .add_known_good(
            Some(w.reader.0.id),
            "domain-name",
            "example.com",
            "our own site",
            0,
        )
        .unwrap();
    let out = lines(&w.h, &w.reader.1, "example.com").await;
    assert!(out.hit_ids().is_empty());
    let sup: Vec<&Value> = out
        .lines
        .iter()
        .filter(|l| l.get("suppressed").is_some())
        .collect();
    assert_eq!(sup.len(), 1, "{:?}", out.lines);
    assert_eq!(sup[0]["indicator"], json!(id));
    assert_eq!(
        sup[0]["suppressed"],
        json!({"list": "organisation", "entry": "domain-name:example.com", "note": "our own site"})
    );
    assert_eq!(out.summary()["suppressed"], json!(1));
    // Another organisation's list does not suppress anything for the outsider.
    assert_eq!(
        seen_by(&w.h, &w.outsider.1, "example.com").await,
        vec![id.clone()]
    );
    // The exchange's list applies to everyone.
    store
        .add_known_good(None, "domain-name", "example.com", "registrar parking", 0)
        .unwrap();
    let out = lines(&w.h, &w.outsider.1, "example.com").await;
    assert!(out.hit_ids().is_empty());
    assert_eq!(out.lines[0]["suppressed"]["list"], json!("exchange"));
}

#[tokio::test]
async fn a_bundle_of_observed_data_is_matched_as_a_whole() {
    let w = world(Tlp::Clear);
    let id = publish_one(
        &w,
        with_pattern(
            new_indicator(&[]),
            "([domain-name:value = 'evil.test'] FOLLOWEDBY [url:value = 'http://evil.test/payload']) WITHIN 600 SECONDS",
        ),
    )
    .await;
    let od = |n: &str, t: &str, r: &str| {
        json!({"type": "observed-data", "spec_version": "2.1", "id": format!("observed-data--{n}"),
               "created": t, "modified": t, "first_observed": t, "last_observed": t,
               "number_observed": 1, "object_refs": [r]})
    };
    let d = "domain-name--11111111-1111-4111-8111-111111111111";
    let u = "url--22222222-2222-4222-8222-222222222222";
    let bundle = |t2: &str| {
        json!({"type": "bundle", "id": "bundle--33333333-3333-4333-8333-333333333333", "objects": [
            {"type": "domain-name", "spec_version": "2.1", "id": d, "value": "EVIL.test"},
            {"type": "url", "spec_version": "2.1", "id": u, "value": "http://evil.test/payload"},
            od("44444444-4444-4444-8444-444444444444", "2026-11-01T10:00:00.000Z", d),
            od("55555555-5555-4555-8555-555555555555", t2, u),
        ]})
        .to_string()
    };
    let out = send_match(
        &w.h,
        &w.reader.1,
        "application/json",
        &bundle("2026-11-01T10:05:00.000Z"),
    )
    .await;
    assert_eq!(out.status, StatusCode::OK);
    assert_eq!(out.hit_ids(), vec![id]);
    assert!(
        out.hits()[0]["observed_data"]
            .as_str()
            .unwrap()
            .starts_with("observed-data--")
    );
    // Twenty minutes apart is outside the window.
    let out = send_match(
        &w.h,
        &w.reader.1,
        "application/json",
        &bundle("2026-11-01T10:20:00.000Z"),
    )
    .await;
    assert!(out.hit_ids().is_empty(), "{:?}", out.lines);
    // A TLP:CLEAR indicator reaches every member, the outsider too.
    let w2 = send_match(
        &w.h,
        &w.outsider.1,
        "application/json",
        &bundle("2026-11-01T10:05:00.000Z"),
    )
    .await;
    assert_eq!(w2.hit_ids().len(), 1, "TLP:CLEAR is for everyone");
}

#[tokio::test]
async fn bad_lines_are_answered_with_their_line_numbers_and_the_rest_still_match() {
    let w = world(Tlp::Clear);
    let id = publish_one(&w, new_indicator(&[])).await;
    let out = lines(&w.h, &w.reader.1, "# comment\nnot a thing!\n\nipv4-addr:300.1.1.1\n{\"type\":\"domain-name\",\"value\":\"Example.COM\"}\n{oops\n").await;
    let errors: Vec<u64> = out
        .lines
        .iter()
        .filter(|l| l.get("error").is_some())
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    assert_eq!(errors, vec![2, 4, 6], "{:?}", out.lines);
    assert_eq!(out.hit_ids(), vec![id]);
    assert_eq!(out.hits()[0]["line"], json!(5));
    assert_eq!(out.summary()["errors"], json!(3));
    assert_eq!(out.summary()["observables"], json!(1));
}

#[tokio::test]
async fn unsupported_content_types_and_missing_keys_are_refused() {
    let w = world(Tlp::Clear);
    let out = send_match(&w.h, &w.reader.1, "image/png", "x").await;
    assert_eq!(out.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let out = send_match(&w.h, "acc_nonsense", "text/plain", "example.com").await;
    assert_eq!(out.status, StatusCode::UNAUTHORIZED);
    let out = send_match(&w.h, &w.reader.1, "application/json", "[1,2]").await;
    assert_eq!(out.status, StatusCode::BAD_REQUEST);
}

async fn post_json(h: &Harness, key: &str, path: &str, body: &Value) -> (StatusCode, Value) {
    let req = Harness::request(Method::POST, key, path)
        .header("Content-Type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let resp = h.app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn an_organisation_manages_its_own_known_good_list_over_http_and_no_other() {
    let w = world(Tlp::Clear);
    let id = publish_one(&w, new_indicator(&[])).await;
    let (status, entry) = post_json(
        &w.h,
        &w.reader.1,
        "/v1/known-good",
        &json!({"observable": "Example.COM", "note": "our site"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{entry}");
    assert_eq!(entry["observable"], json!("domain-name:example.com"));
    let entry_id = entry["id"].as_str().unwrap().to_owned();
    // It suppresses the member's hits, not the outsider's.
    assert!(seen_by(&w.h, &w.reader.1, "example.com").await.is_empty());
    assert_eq!(
        seen_by(&w.h, &w.outsider.1, "example.com").await,
        vec![id.clone()]
    );
    // The member lists it; the outsider does not see it.
    let mine = w.h.get(&w.reader.1, "/v1/known-good").await;
    assert_eq!(mine.body["organisation"][0]["id"], json!(entry_id));
    let theirs = w.h.get(&w.outsider.1, "/v1/known-good").await;
    assert_eq!(theirs.body["organisation"], json!([]));
    // The outsider cannot delete it: the same 404 as a missing entry.
    let path = format!("/v1/known-good/{entry_id}");
    let denied = w.h.delete(&w.outsider.1, &path).await;
    assert_eq!(denied.status, StatusCode::NOT_FOUND);
    let missing = w.h.delete(&w.outsider.1, "/v1/known-good/nope").await;
    assert_eq!(denied.body, missing.body);
    assert!(seen_by(&w.h, &w.reader.1, "example.com").await.is_empty());
    // The member can.
    assert_eq!(
        w.h.delete(&w.reader.1, &path).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(seen_by(&w.h, &w.reader.1, "example.com").await, vec![id]);
}

#[tokio::test]
async fn known_good_entries_are_checked_and_a_reader_key_may_not_add_them() {
    let w = world(Tlp::Clear);
    let (status, body) = post_json(
        &w.h,
        &w.reader.1,
        "/v1/known-good",
        &json!({"observable": "not a thing!"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["description"]
            .as_str()
            .unwrap()
            .starts_with("observable:"),
        "{body}"
    );
    let (status, body) = post_json(
        &w.h,
        &w.reader.1,
        "/v1/known-good",
        &json!({"observable": "example.com", "nots": "typo"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["description"].as_str().unwrap().starts_with("nots:"),
        "{body}"
    );
    let reader = w.h.key(&w.reader.0, accord_store::Role::Reader);
    let (status, _) = post_json(
        &w.h,
        &reader,
        "/v1/known-good",
        &json!({"observable": "example.com"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
