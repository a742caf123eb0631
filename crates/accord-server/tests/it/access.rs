//! One allowed and one denied test per access rule, each checked on every TAXII read path:
//! objects, manifest, one object, versions.

use accord_stix::Tlp;
use accord_store::{Group, Role};
use axum::http::StatusCode;

use crate::harness::*;

/// Whether `key` sees object `id` on each read path; asserts the paths agree.
async fn sees(h: &Harness, key: &str, g: &Group, id: &str) -> bool {
    let listed = ids(&h.get(key, &objects_path(g)).await.body)
        .iter()
        .any(|i| i == id);
    let manifest = h
        .get(key, &format!("/exchange/collections/{}/manifest/", g.id))
        .await;
    let in_manifest = ids(&manifest.body).iter().any(|i| i == id);
    let one = h.get(key, &object_path(g, id)).await.status == StatusCode::OK;
    let versions = h
        .get(key, &format!("{}versions/", object_path(g, id)))
        .await
        .status
        == StatusCode::OK;
    let all = h
        .get(key, &format!("{}?match[version]=all", objects_path(g)))
        .await;
    let in_all = ids(&all.body).iter().any(|i| i == id);
    assert_eq!(
        [listed, in_manifest, one, versions, in_all],
        [listed; 5],
        "read paths disagree for {id}: objects, manifest, object, versions, all"
    );
    listed
}

#[tokio::test]
async fn clear_is_read_by_every_member_even_outside_the_group() {
    let w = world(Tlp::Amber);
    let id = publish_one(&w, new_indicator(&[Tlp::Clear.marking_ref()])).await;
    assert!(sees(&w.h, &w.outsider.1, &w.group, &id).await);
    assert!(sees(&w.h, &w.no_read.1, &w.group, &id).await);
}

#[tokio::test]
async fn clear_is_not_read_without_a_key() {
    let w = world(Tlp::Amber);
    let id = publish_one(&w, new_indicator(&[Tlp::Clear.marking_ref()])).await;
    let r = w.h.get("acc_not_a_key", &object_path(&w.group, &id)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn tlp1_white_counts_as_clear() {
    let w = world(Tlp::Amber);
    let id = publish_one(
        &w,
        new_indicator(&["marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"]),
    )
    .await;
    assert!(sees(&w.h, &w.outsider.1, &w.group, &id).await);
}

#[tokio::test]
async fn green_amber_strict_are_read_by_group_readers() {
    let w = world(Tlp::Clear);
    for tlp in [Tlp::Green, Tlp::Amber, Tlp::AmberStrict] {
        let id = publish_one(&w, new_indicator(&[tlp.marking_ref()])).await;
        assert!(sees(&w.h, &w.reader.1, &w.group, &id).await, "{tlp}");
    }
}

#[tokio::test]
async fn green_amber_strict_are_hidden_from_outsiders_and_members_without_read() {
    let w = world(Tlp::Clear);
    for tlp in [Tlp::Green, Tlp::Amber, Tlp::AmberStrict] {
        let id = publish_one(&w, new_indicator(&[tlp.marking_ref()])).await;
        assert!(
            !sees(&w.h, &w.outsider.1, &w.group, &id).await,
            "{tlp} outsider"
        );
        assert!(
            !sees(&w.h, &w.no_read.1, &w.group, &id).await,
            "{tlp} member without read"
        );
    }
}

#[tokio::test]
async fn tlp1_amber_is_amber() {
    let w = world(Tlp::Clear);
    let id = publish_one(
        &w,
        new_indicator(&["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]),
    )
    .await;
    assert!(sees(&w.h, &w.reader.1, &w.group, &id).await);
    assert!(!sees(&w.h, &w.outsider.1, &w.group, &id).await);
}

#[tokio::test]
async fn red_is_read_by_its_recipients_even_outside_the_group() {
    let w = world(Tlp::Amber);
    let obj = with_sharing(
        new_indicator(&[Tlp::Red.marking_ref()]),
        &[&w.outsider.0],
        false,
    );
    let id = publish_one(&w, obj).await;
    assert!(sees(&w.h, &w.outsider.1, &w.group, &id).await);
}

#[tokio::test]
async fn red_is_hidden_from_group_readers_who_are_not_recipients() {
    let w = world(Tlp::Amber);
    let obj = with_sharing(
        new_indicator(&[Tlp::Red.marking_ref()]),
        &[&w.outsider.0],
        false,
    );
    let id = publish_one(&w, obj).await;
    assert!(!sees(&w.h, &w.reader.1, &w.group, &id).await);
    assert!(!sees(&w.h, &w.no_read.1, &w.group, &id).await);
}

#[tokio::test]
async fn strictest_marking_wins() {
    let w = world(Tlp::Clear);
    let id = publish_one(
        &w,
        new_indicator(&[Tlp::Clear.marking_ref(), Tlp::Amber.marking_ref()]),
    )
    .await;
    assert!(sees(&w.h, &w.reader.1, &w.group, &id).await);
    assert!(!sees(&w.h, &w.outsider.1, &w.group, &id).await);
}

#[tokio::test]
async fn a_red_granular_marking_makes_the_object_red() {
    let w = world(Tlp::Clear);
    let mut obj = with_sharing(
        new_indicator(&[Tlp::Clear.marking_ref()]),
        &[&w.reader.0],
        false,
    );
    obj["granular_markings"] =
        serde_json::json!([{"marking_ref": Tlp::Red.marking_ref(), "selectors": ["name"]}]);
    let id = publish_one(&w, obj).await;
    assert!(sees(&w.h, &w.reader.1, &w.group, &id).await);
    assert!(!sees(&w.h, &w.outsider.1, &w.group, &id).await);
}

#[tokio::test]
async fn unmarked_objects_take_the_collection_default_amber() {
    let w = world(Tlp::Amber);
    let id = publish_one(&w, new_indicator(&[])).await;
    assert!(sees(&w.h, &w.reader.1, &w.group, &id).await);
    assert!(!sees(&w.h, &w.outsider.1, &w.group, &id).await);
}

#[tokio::test]
async fn unmarked_objects_take_the_collection_default_clear() {
    let w = world(Tlp::Clear);
    let id = publish_one(&w, new_indicator(&[])).await;
    assert!(sees(&w.h, &w.outsider.1, &w.group, &id).await);
}

#[tokio::test]
async fn non_tlp_markings_do_not_count_as_tlp() {
    let w = world(Tlp::Amber);
    let obj = new_indicator(&[STATEMENT]);
    let id = obj["id"].as_str().unwrap().to_owned();
    w.h.publish(&w.publisher.1, &w.group, vec![statement_definition(), obj])
        .await;
    assert!(!sees(&w.h, &w.outsider.1, &w.group, &id).await);
    assert!(sees(&w.h, &w.reader.1, &w.group, &id).await);
}

#[tokio::test]
async fn the_publisher_always_sees_its_own() {
    let w = world(Tlp::Amber);
    // Publisher is not among the recipients, and loses read rights in its group.
    let red = with_sharing(
        new_indicator(&[Tlp::Red.marking_ref()]),
        &[&w.outsider.0],
        false,
    );
    let red_id = publish_one(&w, red).await;
    let amber_id = publish_one(&w, new_indicator(&[Tlp::Amber.marking_ref()])).await;
    w.h.join(&w.publisher.0, &w.group, false, true);
    assert!(sees(&w.h, &w.publisher.1, &w.group, &red_id).await);
    assert!(sees(&w.h, &w.publisher.1, &w.group, &amber_id).await);
}

#[tokio::test]
async fn another_key_of_another_org_does_not_inherit_the_publishers_view() {
    let w = world(Tlp::Amber);
    let red = with_sharing(
        new_indicator(&[Tlp::Red.marking_ref()]),
        &[&w.outsider.0],
        false,
    );
    let id = publish_one(&w, red).await;
    let reader_key = w.h.key(&w.reader.0, Role::OrgAdmin);
    assert!(!sees(&w.h, &reader_key, &w.group, &id).await);
}

#[tokio::test]
async fn anonymous_objects_show_the_exchange_to_others() {
    let w = world(Tlp::Amber);
    let mut obj = with_sharing(new_indicator(&[Tlp::Green.marking_ref()]), &[], true);
    obj["created_by_ref"] = serde_json::json!(w.publisher.0.identity);
    let id = publish_one(&w, obj).await;
    let exchange = w.h.store.exchange_identity().unwrap();
    let seen_by_reader = w.h.get(&w.reader.1, &object_path(&w.group, &id)).await;
    assert_eq!(
        seen_by_reader.body["objects"][0]["created_by_ref"],
        exchange.as_str()
    );
    let listed = w.h.get(&w.reader.1, &objects_path(&w.group)).await;
    assert_eq!(
        listed.body["objects"][0]["created_by_ref"],
        exchange.as_str()
    );
}

#[tokio::test]
async fn anonymous_objects_show_the_publisher_to_itself() {
    let w = world(Tlp::Amber);
    let mut obj = with_sharing(new_indicator(&[Tlp::Green.marking_ref()]), &[], true);
    obj["created_by_ref"] = serde_json::json!(w.publisher.0.identity);
    let id = publish_one(&w, obj).await;
    let own = w.h.get(&w.publisher.1, &object_path(&w.group, &id)).await;
    assert_eq!(
        own.body["objects"][0]["created_by_ref"],
        w.publisher.0.identity.as_str()
    );
    // Even an anonymous object without created_by_ref names the exchange to others.
    let bare = with_sharing(new_indicator(&[Tlp::Green.marking_ref()]), &[], true);
    let bare_id = publish_one(&w, bare).await;
    let seen = w.h.get(&w.reader.1, &object_path(&w.group, &bare_id)).await;
    assert_eq!(
        seen.body["objects"][0]["created_by_ref"],
        w.h.store.exchange_identity().unwrap().as_str()
    );
}

#[tokio::test]
async fn each_version_is_judged_by_its_own_marking() {
    let w = world(Tlp::Amber);
    let id = format!("indicator--{}", uuid());
    let v1 = indicator(&id, "2026-01-01T00:00:00.000Z", &[Tlp::Clear.marking_ref()]);
    let v2 = indicator(&id, "2026-02-01T00:00:00.000Z", &[Tlp::Amber.marking_ref()]);
    w.h.publish(&w.publisher.1, &w.group, vec![v1, v2]).await;
    // The outsider sees the CLEAR first version as its latest; the reader the AMBER one.
    let o = w.h.get(&w.outsider.1, &object_path(&w.group, &id)).await;
    assert_eq!(o.body["objects"][0]["modified"], "2026-01-01T00:00:00.000Z");
    let r = w.h.get(&w.reader.1, &object_path(&w.group, &id)).await;
    assert_eq!(r.body["objects"][0]["modified"], "2026-02-01T00:00:00.000Z");
    let v =
        w.h.get(
            &w.outsider.1,
            &format!("{}versions/", object_path(&w.group, &id)),
        )
        .await;
    assert_eq!(v.body["versions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn only_the_publisher_deletes() {
    let w = world(Tlp::Amber);
    let id = publish_one(&w, new_indicator(&[Tlp::Green.marking_ref()])).await;
    // A reader who can see it gets 403; an outsider who cannot gets 404.
    let writer_in_group = w.h.member("Other writer");
    w.h.join(&writer_in_group.0, &w.group, true, true);
    assert_eq!(
        w.h.delete(&writer_in_group.1, &object_path(&w.group, &id))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        w.h.delete(&w.outsider.1, &object_path(&w.group, &id))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let reader_role = w.h.key(&w.publisher.0, Role::Reader);
    assert_eq!(
        w.h.delete(&reader_role, &object_path(&w.group, &id))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert!(sees(&w.h, &w.reader.1, &w.group, &id).await);
    assert_eq!(
        w.h.delete(&w.publisher.1, &object_path(&w.group, &id))
            .await
            .status,
        StatusCode::OK
    );
    assert!(!sees(&w.h, &w.publisher.1, &w.group, &id).await);
}

#[tokio::test]
async fn removed_members_lose_access_at_once() {
    let w = world(Tlp::Amber);
    let id = publish_one(&w, new_indicator(&[Tlp::Amber.marking_ref()])).await;
    assert!(sees(&w.h, &w.reader.1, &w.group, &id).await);
    w.h.store
        .remove_membership(w.reader.0.id, &w.group.id)
        .unwrap();
    assert!(!sees(&w.h, &w.reader.1, &w.group, &id).await);
}
