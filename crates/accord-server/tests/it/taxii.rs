//! Every TAXII endpoint, its filters and its errors.

use accord_server::Config;
use accord_stix::{Clock, Tlp};
use accord_store::Role;
use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::*;

fn setup() -> (Harness, accord_store::Group, String) {
    let h = Harness::new();
    let g = h.group("Election Integrity", Tlp::Amber);
    let (o, key) = h.member("FaceSpace");
    h.join(&o, &g, true, true);
    (h, g, key)
}

#[tokio::test]
async fn discovery_names_the_api_root() {
    let (h, _, key) = setup();
    let r = h
        .send(
            Harness::request(Method::GET, &key, "/taxii2/")
                .header("Host", "exchange.test:8080")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], TAXII);
    assert_eq!(
        r.body["api_roots"],
        json!(["http://exchange.test:8080/exchange/"])
    );
    assert_eq!(r.body["default"], "http://exchange.test:8080/exchange/");
}

#[tokio::test]
async fn api_root_information() {
    let (h, _, key) = setup();
    let r = h.get(&key, "/exchange/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["versions"], json!([TAXII]));
    assert_eq!(
        r.body["max_content_length"],
        Config::default().max_body_bytes
    );
    // Without the trailing slash too.
    assert_eq!(h.get(&key, "/exchange").await.status, StatusCode::OK);
}

#[tokio::test]
async fn collections_show_write_rights() {
    let (h, g, key) = setup();
    let other = h.group("Platforms", Tlp::Green);
    let r = h.get(&key, "/exchange/collections/").await;
    assert_eq!(r.status, StatusCode::OK);
    let cols = r.body["collections"].as_array().unwrap();
    assert_eq!(cols.len(), 2);
    let find = |id: &str| cols.iter().find(|c| c["id"] == id).unwrap().clone();
    assert_eq!(find(&g.id.0)["can_write"], true);
    assert_eq!(find(&other.id.0)["can_write"], false);
    assert_eq!(
        find(&g.id.0)["media_types"],
        json!(["application/stix+json;version=2.1"])
    );

    let one = h
        .get(&key, &format!("/exchange/collections/{}/", g.id))
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["title"], "Election Integrity");

    // A reader key may not write, even where its organisation may.
    let o = h.store.org_by_name("FaceSpace").unwrap();
    let reader = h.key(&o, Role::Reader);
    let one = h
        .get(&reader, &format!("/exchange/collections/{}/", g.id))
        .await;
    assert_eq!(one.body["can_write"], false);
}

#[tokio::test]
async fn unknown_collection_and_path_are_404_in_taxii_shape() {
    let (h, _, key) = setup();
    let r = h
        .get(&key, &format!("/exchange/collections/{}/objects/", uuid()))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["http_status"], "404");
    assert!(r.body["title"].is_string());
    // A trust group's name is not its collection id.
    let r = h
        .get(&key, "/exchange/collections/Election%20Integrity/objects/")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = h.get(&key, "/nowhere").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.headers["content-type"], TAXII);
}

#[tokio::test]
async fn post_returns_status_that_its_poster_can_read_again() {
    let (h, g, key) = setup();
    let obj = new_indicator(&[]);
    let r = h.publish(&key, &g, vec![obj.clone()]).await;
    assert_eq!(r.body["status"], "complete");
    assert_eq!(r.body["total_count"], 1);
    assert_eq!(r.body["successes"][0]["id"], obj["id"]);
    assert_eq!(
        r.body["successes"][0]["version"],
        "2026-01-01T00:00:00.000Z"
    );
    let status_path = format!("/exchange/status/{}/", r.body["id"].as_str().unwrap());
    let again = h.get(&key, &status_path).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, r.body);
    // Another organisation cannot read it.
    let (_, other) = h.member("Chirper");
    assert_eq!(
        h.get(&other, &status_path).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn post_reports_each_bad_object_and_keeps_the_good_ones() {
    let (h, g, key) = setup();
    let good = new_indicator(&[]);
    let mut no_pattern = new_indicator(&[]);
    no_pattern.as_object_mut().unwrap().remove("pattern");
    let mut bad_time = new_indicator(&[]);
    bad_time["modified"] = json!("2025-13-01T00:00:00Z");
    let body = json!({"objects": [good, no_pattern, bad_time, "not an object"]});
    let r = h.post(&key, &objects_path(&g), &body).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(r.body["success_count"], 1);
    assert_eq!(r.body["failure_count"], 3);
    let failures = r.body["failures"].as_array().unwrap();
    assert_eq!(failures[0]["id"], body["objects"][1]["id"]);
    assert!(
        failures[0]["message"].as_str().unwrap().contains("pattern"),
        "{}",
        failures[0]
    );
    assert!(
        failures[1]["message"]
            .as_str()
            .unwrap()
            .contains("modified"),
        "{}",
        failures[1]
    );
    assert_eq!(failures[2]["id"], "objects[3]");
    let listed = h.get(&key, &objects_path(&g)).await;
    assert_eq!(ids(&listed.body), vec![good["id"].as_str().unwrap()]);
}

#[tokio::test]
async fn post_with_nothing_acceptable_is_422_with_the_failures() {
    let (h, g, key) = setup();
    let r = h
        .post(
            &key,
            &objects_path(&g),
            &json!({"objects": [{"type": "indicator", "id": "indicator--nope"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["failure_count"], 1);
    assert!(
        r.body["failures"][0]["message"]
            .as_str()
            .unwrap()
            .contains("UUID")
    );
}

#[tokio::test]
async fn post_malformed_json_is_400() {
    let (h, g, key) = setup();
    let req = Harness::request(Method::POST, &key, &objects_path(&g))
        .header("Content-Type", TAXII)
        .body(Body::from("{\"objects\": [ {"))
        .unwrap();
    let r = h.send(req).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body["description"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );
    // Nesting deeper than the parser allows is refused the same way, not a crash.
    let deep = format!(
        "{{\"objects\": [{}{}]}}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let req = Harness::request(Method::POST, &key, &objects_path(&g))
        .header("Content-Type", TAXII)
        .body(Body::from(deep))
        .unwrap();
    assert_eq!(h.send(req).await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn post_over_the_body_limit_is_413() {
    let h = Harness::with_config(Config {
        max_body_bytes: 1000,
        ..Config::default()
    });
    let g = h.group("g", Tlp::Amber);
    let (o, key) = h.member("o");
    h.join(&o, &g, true, true);
    let objects: Vec<Value> = (0..10).map(|_| new_indicator(&[])).collect();
    let r = h
        .post(&key, &objects_path(&g), &json!({ "objects": objects }))
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.body["http_status"], "413");
}

#[tokio::test]
async fn content_negotiation() {
    let (h, g, key) = setup();
    // 415 for a body that is not JSON.
    let req = Harness::request(Method::POST, &key, &objects_path(&g))
        .header("Content-Type", "text/csv")
        .body(Body::from("a,b"))
        .unwrap();
    let r = h.send(req).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // 415 for another TAXII version.
    let req = Harness::request(Method::POST, &key, &objects_path(&g))
        .header("Content-Type", "application/taxii+json;version=2.0")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(h.send(req).await.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // 406 when the client accepts neither TAXII nor JSON.
    for accept in ["text/html", "application/taxii+json;version=2.0"] {
        let req = axum::http::Request::builder()
            .uri("/exchange/collections/")
            .header("Authorization", format!("Bearer {key}"))
            .header("Accept", accept)
            .body(Body::empty())
            .unwrap();
        let r = h.send(req).await;
        assert_eq!(r.status, StatusCode::NOT_ACCEPTABLE, "{accept}");
        assert_eq!(r.body["http_status"], "406");
    }
    for accept in [
        "application/taxii+json",
        "application/json",
        "*/*",
        "text/html, application/taxii+json;version=2.1",
    ] {
        let req = axum::http::Request::builder()
            .uri("/exchange/collections/")
            .header("Authorization", format!("Bearer {key}"))
            .header("Accept", accept)
            .body(Body::empty())
            .unwrap();
        assert_eq!(h.send(req).await.status, StatusCode::OK, "{accept}");
    }
}

#[tokio::test]
async fn authentication() {
    let (h, _, key) = setup();
    let no_auth = axum::http::Request::builder()
        .uri("/taxii2/")
        .body(Body::empty())
        .unwrap();
    let r = h.send(no_auth).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["http_status"], "401");
    let challenges: Vec<_> = r.headers.get_all("www-authenticate").iter().collect();
    assert_eq!(challenges.len(), 2);

    assert_eq!(
        h.get("acc_wrong", "/taxii2/").await.status,
        StatusCode::UNAUTHORIZED
    );

    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("anyone:{key}"));
    let req = axum::http::Request::builder()
        .uri("/taxii2/")
        .header("Authorization", format!("Basic {basic}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(h.send(req).await.status, StatusCode::OK);

    let req = axum::http::Request::builder()
        .uri("/taxii2/")
        .header("Authorization", "Digest abc")
        .body(Body::empty())
        .unwrap();
    assert_eq!(h.send(req).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoked_key_is_refused_and_use_is_recorded() {
    let h = Harness::new();
    let o = h.org("o");
    let key = h.key(&o, Role::Reader);
    assert_eq!(h.get(&key, "/taxii2/").await.status, StatusCode::OK);
    let keys = h.store.keys(o.id).unwrap();
    // The last-used time is written off the request path; wait for it without sleeping blindly.
    let mut tries = 0;
    while h.store.keys(o.id).unwrap()[0].last_used.is_none() && tries < 1000 {
        tokio::task::yield_now().await;
        tokio::task::spawn_blocking(|| ()).await.unwrap();
        tries += 1;
    }
    assert_eq!(
        h.store.keys(o.id).unwrap()[0].last_used,
        Some(h.clock.now_nanos())
    );
    h.store.revoke_key(&keys[0].id, 1).unwrap();
    let r = h.get(&key, "/taxii2/").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body["description"].as_str().unwrap().contains("revoked"));
}

#[tokio::test]
async fn filters_select_by_id_type_version_and_spec_version() {
    let (h, g, key) = setup();
    let id = format!("indicator--{}", uuid());
    let v1 = indicator(&id, "2026-01-01T00:00:00.000Z", &[]);
    let v2 = indicator(&id, "2026-02-01T00:00:00.000Z", &[]);
    let v3 = indicator(&id, "2026-03-01T00:00:00.000Z", &[]);
    let campaign = json!({"type": "campaign", "spec_version": "2.1", "id": format!("campaign--{}", uuid()),
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "name": "Ballot Lure"});
    h.publish(&key, &g, vec![v1, v3, v2, campaign.clone()])
        .await;
    let base = objects_path(&g);
    let versions_of = |b: &Value| -> Vec<String> {
        b["objects"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["id"] == id)
            .map(|o| o["modified"].as_str().unwrap().to_owned())
            .collect()
    };
    let r = h.get(&key, &base).await;
    assert_eq!(
        versions_of(&r.body),
        vec!["2026-03-01T00:00:00.000Z"],
        "default is last"
    );
    assert_eq!(r.body["objects"].as_array().unwrap().len(), 2);
    let r = h.get(&key, &format!("{base}?match[version]=first")).await;
    assert_eq!(versions_of(&r.body), vec!["2026-01-01T00:00:00.000Z"]);
    let r = h.get(&key, &format!("{base}?match[version]=all")).await;
    assert_eq!(
        versions_of(&r.body),
        vec![
            "2026-01-01T00:00:00.000Z",
            "2026-03-01T00:00:00.000Z",
            "2026-02-01T00:00:00.000Z"
        ]
    );
    let r = h
        .get(&key, &format!("{base}?match[version]=first,last"))
        .await;
    assert_eq!(versions_of(&r.body).len(), 2);
    let r = h
        .get(&key, &format!("{base}?match[version]=2026-02-01T00:00:00Z"))
        .await;
    assert_eq!(versions_of(&r.body), vec!["2026-02-01T00:00:00.000Z"]);
    let r = h.get(&key, &format!("{base}?match[type]=campaign")).await;
    assert_eq!(ids(&r.body), vec![campaign["id"].as_str().unwrap()]);
    let r = h
        .get(&key, &format!("{base}?match[type]=campaign,indicator"))
        .await;
    assert_eq!(ids(&r.body).len(), 2);
    let r = h
        .get(
            &key,
            &format!(
                "{base}?match[id]={},{}",
                id,
                campaign["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(ids(&r.body).len(), 2);
    let r = h
        .get(&key, &format!("{base}?match[id]={id}&match[type]=campaign"))
        .await;
    assert_eq!(r.body, json!({"more": false}));
    let r = h
        .get(&key, &format!("{base}?match[spec_version]=2.0"))
        .await;
    assert_eq!(r.body, json!({"more": false}));
    let r = h
        .get(&key, &format!("{base}?match[spec_version]=2.1"))
        .await;
    assert_eq!(ids(&r.body).len(), 2);
}

#[tokio::test]
async fn added_after_and_date_added_headers() {
    let (h, g, key) = setup();
    let a = new_indicator(&[]);
    h.publish(&key, &g, vec![a.clone()]).await;
    h.clock.advance_secs(60);
    let b = new_indicator(&[]);
    h.publish(&key, &g, vec![b.clone()]).await;
    let r = h.get(&key, &objects_path(&g)).await;
    assert_eq!(
        r.headers["x-taxii-date-added-first"],
        "2026-11-01T12:00:00.000000Z"
    );
    assert_eq!(
        r.headers["x-taxii-date-added-last"],
        "2026-11-01T12:01:00.000000Z"
    );
    let r = h
        .get(
            &key,
            &format!("{}?added_after=2026-11-01T12:00:00Z", objects_path(&g)),
        )
        .await;
    assert_eq!(ids(&r.body), vec![b["id"].as_str().unwrap()]);
    assert_eq!(
        r.headers["x-taxii-date-added-first"],
        "2026-11-01T12:01:00.000000Z"
    );
}

#[tokio::test]
async fn paging_with_next_tokens() {
    let (h, g, key) = setup();
    let objects: Vec<Value> = (0..5).map(|_| new_indicator(&[])).collect();
    h.publish(&key, &g, objects.clone()).await;
    let base = format!("{}?match[type]=indicator", objects_path(&g));
    let mut seen = Vec::new();
    let mut url = format!("{base}&limit=2");
    loop {
        let r = h.get(&key, &url).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        seen.extend(ids(&r.body));
        if r.body["more"] == true {
            let next = r.body["next"].as_str().unwrap();
            url = format!("{base}&limit=2&next={next}");
        } else {
            assert!(r.body.get("next").is_none());
            break;
        }
    }
    let want: Vec<String> = objects
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen, want);

    // A token used with other filters is refused.
    let first = h.get(&key, &format!("{base}&limit=2")).await;
    let next = first.body["next"].as_str().unwrap();
    let r = h
        .get(
            &key,
            &format!(
                "{}?match[type]=campaign&limit=2&next={next}",
                objects_path(&g)
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body["description"]
            .as_str()
            .unwrap()
            .contains("different query")
    );
    // So is one the server never issued.
    let r = h.get(&key, &format!("{base}&next=bm9wZQ")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn bad_parameters_are_400() {
    let (h, g, key) = setup();
    let base = objects_path(&g);
    for q in [
        "limit=0",
        "limit=ten",
        "added_after=yesterday",
        "match[version]=newest",
        "match[colour]=red",
    ] {
        let r = h.get(&key, &format!("{base}?{q}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
        assert_eq!(r.body["http_status"], "400");
    }
}

#[tokio::test]
async fn wrong_method_is_405_in_taxii_shape() {
    let (h, _, key) = setup();
    let r = h.delete(&key, "/exchange/collections/").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.body["http_status"], "405");
}

#[tokio::test]
async fn filter_lists_are_bounded() {
    let (h, g, key) = setup();
    let ids: Vec<String> = (0..1001)
        .map(|_| format!("indicator--{}", uuid()))
        .collect();
    let r = h
        .get(
            &key,
            &format!("{}?match[id]={}", objects_path(&g), ids.join(",")),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body["description"]
            .as_str()
            .unwrap()
            .contains("at most 1000")
    );
    let r = h
        .get(
            &key,
            &format!("{}?match[id]={}", objects_path(&g), ids[..1000].join(",")),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn manifest_lists_versions_and_dates() {
    let (h, g, key) = setup();
    let id = format!("indicator--{}", uuid());
    h.publish(
        &key,
        &g,
        vec![
            indicator(&id, "2026-01-01T00:00:00.000Z", &[]),
            indicator(&id, "2026-02-01T00:00:00.000Z", &[]),
        ],
    )
    .await;
    let r = h
        .get(&key, &format!("/exchange/collections/{}/manifest/", g.id))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body["objects"],
        json!([{"id": id, "date_added": "2026-11-01T12:00:00.000001Z", "version": "2026-02-01T00:00:00.000Z",
                "media_type": "application/stix+json;version=2.1"}])
    );
    let r = h
        .get(
            &key,
            &format!(
                "/exchange/collections/{}/manifest/?match[version]=all",
                g.id
            ),
        )
        .await;
    assert_eq!(r.body["objects"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn one_object_and_its_versions() {
    let (h, g, key) = setup();
    let id = format!("indicator--{}", uuid());
    h.publish(
        &key,
        &g,
        vec![
            indicator(&id, "2026-01-01T00:00:00.000Z", &[]),
            indicator(&id, "2026-02-01T00:00:00.000Z", &[]),
        ],
    )
    .await;
    let r = h.get(&key, &object_path(&g, &id)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["objects"][0]["modified"], "2026-02-01T00:00:00.000Z");
    let r = h
        .get(
            &key,
            &format!("{}?match[version]=all", object_path(&g, &id)),
        )
        .await;
    assert_eq!(r.body["objects"].as_array().unwrap().len(), 2);
    let r = h
        .get(&key, &format!("{}versions/", object_path(&g, &id)))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body["versions"],
        json!(["2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z"])
    );
    assert_eq!(r.body["more"], false);
    let r = h
        .get(
            &key,
            &format!("{}versions/?match[version]=all", object_path(&g, &id)),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let missing = format!("indicator--{}", uuid());
    assert_eq!(
        h.get(&key, &object_path(&g, &missing)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        h.get(&key, &format!("{}versions/", object_path(&g, &missing)))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn delete_one_version_then_all() {
    let (h, g, key) = setup();
    let id = format!("indicator--{}", uuid());
    h.publish(
        &key,
        &g,
        vec![
            indicator(&id, "2026-01-01T00:00:00.000Z", &[]),
            indicator(&id, "2026-02-01T00:00:00.000Z", &[]),
        ],
    )
    .await;
    let r = h
        .delete(
            &key,
            &format!(
                "{}?match[version]=2026-02-01T00:00:00.000Z",
                object_path(&g, &id)
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = h
        .get(&key, &format!("{}versions/", object_path(&g, &id)))
        .await;
    assert_eq!(r.body["versions"], json!(["2026-01-01T00:00:00.000Z"]));
    assert_eq!(
        h.delete(&key, &object_path(&g, &id)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        h.get(&key, &object_path(&g, &id)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        h.delete(&key, &object_path(&g, &id)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn versions_are_kept_and_conflicts_refused() {
    let (h, g, key) = setup();
    let id = format!("indicator--{}", uuid());
    let v1 = indicator(&id, "2026-01-01T00:00:00.000Z", &[]);
    h.publish(&key, &g, vec![v1.clone()]).await;
    // The identical version again is a success that changes nothing.
    let r = h.publish(&key, &g, vec![v1.clone()]).await;
    assert_eq!(r.body["success_count"], 1);
    // The same version with other content is refused.
    let mut changed = v1.clone();
    changed["name"] = json!("changed");
    let r = h
        .post(&key, &objects_path(&g), &json!({"objects": [changed]}))
        .await;
    assert_eq!(r.body["failure_count"], 1);
    assert!(
        r.body["failures"][0]["message"]
            .as_str()
            .unwrap()
            .contains("later `modified`")
    );
    // Another organisation may not add versions of it.
    let (o2, k2) = h.member("Chirper");
    h.join(&o2, &g, true, true);
    let r = h
        .post(
            &k2,
            &objects_path(&g),
            &json!({"objects": [indicator(&id, "2026-05-01T00:00:00.000Z", &[])]}),
        )
        .await;
    assert_eq!(r.body["failure_count"], 1);
    assert!(
        r.body["failures"][0]["message"]
            .as_str()
            .unwrap()
            .contains("another organisation")
    );
}

#[tokio::test]
async fn revocation_is_a_version() {
    let (h, g, key) = setup();
    let id = format!("indicator--{}", uuid());
    let mut revoked = indicator(&id, "2026-02-01T00:00:00.000Z", &[]);
    revoked["revoked"] = json!(true);
    h.publish(
        &key,
        &g,
        vec![indicator(&id, "2026-01-01T00:00:00.000Z", &[]), revoked],
    )
    .await;
    let r = h.get(&key, &object_path(&g, &id)).await;
    assert_eq!(r.body["objects"][0]["revoked"], true);
    let r = h
        .get(&key, &format!("{}versions/", object_path(&g, &id)))
        .await;
    assert_eq!(r.body["versions"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn custom_objects_and_properties_round_trip_unchanged() {
    let (h, g, key) = setup();
    let custom = json!({
        "type": "x-election-office-report", "spec_version": "2.1", "id": format!("x-election-office-report--{}", uuid()),
        "created": "2026-01-01T00:00:00.123456Z", "modified": "2026-01-01T00:00:00.123456Z",
        "x_county": "Franklin", "x_nested": {"a": [1, 2.5, {"b": null}], "unicode": "Ωmega ✓"},
        "external_references": [{"source_name": "clerk", "external_id": "FR-1"}],
    });
    let ind = {
        let mut i = new_indicator(&[]);
        i["x_confidence_note"] = json!("high");
        i
    };
    h.publish(&key, &g, vec![custom.clone(), ind.clone()]).await;
    let r = h
        .get(&key, &object_path(&g, custom["id"].as_str().unwrap()))
        .await;
    assert_eq!(r.body["objects"][0], custom);
    let r = h
        .get(&key, &object_path(&g, ind["id"].as_str().unwrap()))
        .await;
    assert_eq!(r.body["objects"][0], ind);
}

#[tokio::test]
async fn numbers_no_longer_lose_digits() {
    let (h, g, key) = setup();
    let id = format!("x-note--{}", uuid());
    let body = format!(
        r#"{{"objects": [{{"type": "x-note", "spec_version": "2.1", "id": "{id}",
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "x_sci": 1e2, "x_big": 123456789012345678901234567890, "x_float": 0.10}}]}}"#
    );
    let req = Harness::request(Method::POST, &key, &objects_path(&g))
        .header("Content-Type", TAXII)
        .body(Body::from(body))
        .unwrap();
    assert_eq!(h.send(req).await.status, StatusCode::ACCEPTED);
    let r = h.get(&key, &object_path(&g, &id)).await;
    let o = &r.body["objects"][0];
    // The exponent's spelling may change (1e+2); its value does not.
    assert_eq!(o["x_sci"].as_f64(), Some(100.0));
    assert_eq!(o["x_big"].to_string(), "123456789012345678901234567890");
    assert_eq!(o["x_float"].to_string(), "0.10");
}

#[tokio::test]
async fn impersonating_another_member_is_refused() {
    let (h, g, key) = setup();
    let chirper = h.org("Chirper");
    let mut obj = new_indicator(&[]);
    obj["created_by_ref"] = json!(chirper.identity);
    let r = h
        .post(&key, &objects_path(&g), &json!({"objects": [obj]}))
        .await;
    assert_eq!(r.body["failure_count"], 1);
    assert!(
        r.body["failures"][0]["message"]
            .as_str()
            .unwrap()
            .contains("another member organisation")
    );
    // Its own identity, or a third party's, is fine.
    let me = h.store.org_by_name("FaceSpace").unwrap();
    let mut own = new_indicator(&[]);
    own["created_by_ref"] = json!(me.identity);
    let mut third = new_indicator(&[]);
    third["created_by_ref"] = json!(format!("identity--{}", uuid()));
    h.publish(&key, &g, vec![own, third]).await;
}

#[tokio::test]
async fn red_needs_member_recipients() {
    let (h, g, key) = setup();
    let red = Tlp::Red.marking_ref();
    let r = h
        .post(
            &key,
            &objects_path(&g),
            &json!({"objects": [new_indicator(&[red])]}),
        )
        .await;
    assert!(
        r.body["failures"][0]["message"]
            .as_str()
            .unwrap()
            .contains("must name its recipients")
    );
    let stranger = accord_store::Org {
        id: accord_store::OrgId(999),
        name: "x".into(),
        sector: accord_store::Sector::Research,
        identity: format!("identity--{}", uuid()),
    };
    let obj = with_sharing(new_indicator(&[red]), &[&stranger], false);
    let r = h
        .post(&key, &objects_path(&g), &json!({"objects": [obj]}))
        .await;
    assert!(
        r.body["failures"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not the identity of a member")
    );
}

#[tokio::test]
async fn write_rights() {
    let h = Harness::new();
    let g = h.group("g", Tlp::Amber);
    let (writer, wkey) = h.member("writer");
    let (reader_org, rkey) = h.member("reader-only member");
    let (_, outsider) = h.member("outsider");
    h.join(&writer, &g, true, true);
    h.join(&reader_org, &g, true, false);
    let reader_role = h.key(&writer, Role::Reader);
    let body = json!({"objects": [new_indicator(&[])]});
    assert_eq!(
        h.post(&wkey, &objects_path(&g), &body).await.status,
        StatusCode::ACCEPTED
    );
    for (who, key) in [
        ("member without write", &rkey),
        ("non-member", &outsider),
        ("reader role", &reader_role),
    ] {
        let r = h.post(key, &objects_path(&g), &body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}");
        assert_eq!(r.body["http_status"], "403");
    }
}
