//! The SQLite store on real files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use accord_stix::{Timestamp, Tlp};
use accord_store::*;

fn fresh() -> (tempfile::TempDir, std::sync::Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("data").to_string_lossy()).unwrap();
    (dir, store)
}

fn version(id: &str, modified: Option<&str>, json: &str) -> NewVersion {
    NewVersion {
        object_id: id.into(),
        object_type: id.split("--").next().unwrap().into(),
        version: modified.map(|m| Timestamp::parse(m).unwrap()),
        spec_version: "2.1".into(),
        tlp: None,
        recipients: vec![],
        anonymous: false,
        revoked: false,
        json: json.into(),
    }
}

fn everything(collection: &GroupId, org: OrgId) -> ObjectQuery {
    ObjectQuery {
        collection: collection.clone(),
        scope: ReadScope {
            org,
            member_of: vec![collection.clone()],
        },
        ids: vec![],
        types: vec![],
        spec_versions: vec![],
        versions: VersionFilter::all(),
        added_after: None,
        after_date_added: None,
        limit: 1000,
    }
}

#[test]
fn data_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().to_string_lossy().into_owned();
    let (identity, group) = {
        let s = open(&url).unwrap();
        let o = s.create_org("FaceSpace", Sector::Platform).unwrap();
        let g = s.create_group("g", "", Tlp::Green).unwrap();
        s.add_versions(
            &g.id,
            o.id,
            vec![version("indicator--a", Some("2026-01-01T00:00:00Z"), "{}")],
            5,
        )
        .unwrap();
        (s.exchange_identity().unwrap(), g)
    };
    let s = open(&url).unwrap();
    assert_eq!(s.exchange_identity().unwrap(), identity);
    assert_eq!(s.group(&group.id.0).unwrap(), group);
    let o = s.org_by_name("FaceSpace").unwrap();
    assert_eq!(
        s.query(&everything(&group.id, o.id)).unwrap().items.len(),
        1
    );
}

#[test]
fn unknown_backends_are_refused_loudly() {
    for url in ["postgres://localhost/accord", "mysql://x"] {
        match open(url) {
            Err(StoreError::Url(msg)) => assert!(msg.contains("not a storage backend"), "{msg}"),
            Err(other) => panic!("{url}: {other}"),
            Ok(_) => panic!("{url}: opened"),
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.sqlite3");
    open(&format!("sqlite:{}", file.display())).unwrap();
    assert!(file.exists());
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("accord.sqlite3");
    SqliteStore::open(&file).unwrap();
    rusqlite::Connection::open(&file)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    match SqliteStore::open(&file) {
        Err(StoreError::Corrupt(msg)) => assert!(msg.contains("newer"), "{msg}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn names_are_unique() {
    let (_d, s) = fresh();
    s.create_org("A", Sector::Platform).unwrap();
    assert!(matches!(
        s.create_org("A", Sector::Research),
        Err(StoreError::Conflict(_))
    ));
    s.create_group("G", "", Tlp::Amber).unwrap();
    assert!(matches!(
        s.create_group("G", "", Tlp::Red),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.org_by_name("nobody"),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn keys_are_found_by_hash_until_revoked() {
    let (_d, s) = fresh();
    let o = s.create_org("A", Sector::Platform).unwrap();
    let g = s.create_group("G", "", Tlp::Amber).unwrap();
    s.set_membership(o.id, &g.id, true, false).unwrap();
    let k = s
        .create_key(o.id, "alice@a.example", Role::Analyst, &[7; 32], 1)
        .unwrap();
    assert_eq!(k.member, "alice@a.example");
    let p = s.principal(&[7; 32]).unwrap().unwrap();
    assert_eq!(p.org.name, "A");
    assert_eq!(p.key.role, Role::Analyst);
    assert_eq!(p.memberships.len(), 1);
    assert!(s.principal(&[8; 32]).unwrap().is_none());
    s.revoke_key(&k.id, 2).unwrap();
    assert!(s.principal(&[7; 32]).unwrap().is_none());
    assert_eq!(s.keys(o.id).unwrap()[0].revoked, Some(2));
    assert!(matches!(
        s.revoke_key(&KeyId("key-none".into()), 3),
        Err(StoreError::NotFound(_))
    ));
    // Debug never shows a secret: the record holds none, and says little.
    assert!(!format!("{k:?}").contains("hash"));
}

#[test]
fn add_outcomes_and_date_added_order() {
    let (_d, s) = fresh();
    let a = s.create_org("A", Sector::Platform).unwrap();
    let b = s.create_org("B", Sector::Platform).unwrap();
    let g = s.create_group("G", "", Tlp::Amber).unwrap();
    let v1 = version("indicator--x", Some("2026-01-01T00:00:00Z"), r#"{"v":1}"#);
    let v1_changed = version(
        "indicator--x",
        Some("2026-01-01T00:00:00Z"),
        r#"{"v":"other"}"#,
    );
    let v2 = version("indicator--x", Some("2026-02-01T00:00:00Z"), r#"{"v":2}"#);
    let sco = version("domain-name--y", None, r#"{"value":"example.com"}"#);
    let out = s
        .add_versions(
            &g.id,
            a.id,
            vec![v1.clone(), v2.clone(), sco.clone(), v1.clone(), v1_changed],
            10_000,
        )
        .unwrap();
    assert_eq!(out[0], AddOutcome::Added { date_added: 10_000 });
    // The same clock reading still gives strictly increasing date_added.
    assert_eq!(out[1], AddOutcome::Added { date_added: 11_000 });
    assert_eq!(out[2], AddOutcome::Added { date_added: 12_000 });
    assert_eq!(out[3], AddOutcome::Duplicate { date_added: 10_000 });
    assert!(matches!(&out[4], AddOutcome::Rejected(m) if m.contains("already exists")));
    // Another organisation may repeat what is there, but not add versions of it.
    let out = s
        .add_versions(
            &g.id,
            b.id,
            vec![
                sco,
                version("indicator--x", Some("2026-03-01T00:00:00Z"), "{}"),
            ],
            5000,
        )
        .unwrap();
    // An observable from another organisation is its own copy: nobody learns whether the
    // same content was already there.
    assert!(matches!(out[0], AddOutcome::Added { .. }));
    assert!(matches!(&out[1], AddOutcome::Rejected(m) if m.contains("another organisation")));
    // A versioned id is owned exchange-wide: not even in another collection.
    let g2 = s.create_group("G2", "", Tlp::Amber).unwrap();
    let out = s
        .add_versions(
            &g2.id,
            b.id,
            vec![version("indicator--x", Some("2026-04-01T00:00:00Z"), "{}")],
            6000,
        )
        .unwrap();
    assert!(matches!(&out[0], AddOutcome::Rejected(m) if m.contains("another organisation")));
    // An object without a version timestamp is versioned by its date_added.
    let page = s.query(&everything(&g.id, a.id)).unwrap();
    let sco = page
        .items
        .iter()
        .filter(|v| v.publisher == a.id)
        .find(|v| v.object_id == "domain-name--y")
        .unwrap();
    assert_eq!(sco.version_nanos, sco.date_added);
    assert_eq!(sco.version, "1970-01-01T00:00:00.000012Z");
    let seqs: Vec<i64> = page.items.iter().map(|v| v.date_added).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn delete_removes_only_the_publishers_selected_versions() {
    let (_d, s) = fresh();
    let a = s.create_org("A", Sector::Platform).unwrap();
    let g = s.create_group("G", "", Tlp::Amber).unwrap();
    s.add_versions(
        &g.id,
        a.id,
        vec![
            version("indicator--x", Some("2026-01-01T00:00:00Z"), "1"),
            version("indicator--x", Some("2026-02-01T00:00:00Z"), "2"),
        ],
        1,
    )
    .unwrap();
    let mut q = everything(&g.id, a.id);
    q.ids = vec!["indicator--x".into()];
    q.versions = VersionFilter::last();
    assert_eq!(s.delete(&q, OrgId(999)).unwrap(), 0);
    assert_eq!(s.delete(&q, a.id).unwrap(), 1);
    let left = s.query(&everything(&g.id, a.id)).unwrap();
    assert_eq!(left.items.len(), 1);
    assert_eq!(left.items[0].version, "2026-01-01T00:00:00Z");
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn sighting(indicator: &str, org: OrgId, count: i64, first: &str, last: &str) -> NewSighting {
    NewSighting {
        indicator: indicator.into(),
        org,
        count,
        first_seen: ts(first),
        last_seen: ts(last),
        where_seen: "mail gateway".into(),
        observed: "url:http://vote-example.invalid/login".into(),
    }
}

#[test]
fn sightings_are_kept_per_organisation_and_summed_up() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().to_string_lossy().into_owned();
    let ind = "indicator--11111111-1111-4111-8111-111111111111";
    let (a, b, first) = {
        let s = open(&url).unwrap();
        let a = s.create_org("A", Sector::Platform).unwrap().id;
        let b = s.create_org("B", Sector::Government).unwrap().id;
        let first = s
            .add_sighting(
                sighting(ind, a, 3, "2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z"),
                10,
            )
            .unwrap();
        assert!(first.id.starts_with("sighting--"));
        assert_eq!(first.recorded, 10);
        s.add_sighting(
            sighting(ind, a, 1, "2026-10-05T00:00:00Z", "2026-10-05T00:00:00Z"),
            20,
        )
        .unwrap();
        s.add_sighting(
            sighting(ind, b, 5, "2026-09-01T00:00:00.5Z", "2026-10-03T00:00:00Z"),
            30,
        )
        .unwrap();
        (a, b, first)
    };
    // Durable: read back after reopening.
    let s = open(&url).unwrap();
    let own = s.sightings_by(ind, a, 100).unwrap();
    assert_eq!(own.len(), 2);
    assert_eq!(own[1], first, "newest first");
    assert_eq!(own[0].first_seen.as_str(), "2026-10-05T00:00:00Z");
    assert_eq!(s.sightings_by(ind, a, 1).unwrap().len(), 1);
    assert_eq!(s.sightings_by(ind, b, 100).unwrap().len(), 1);
    let agg = s.sighting_aggregate(ind).unwrap().unwrap();
    assert_eq!(
        agg,
        SightingAggregate {
            indicator: ind.into(),
            count: 9,
            sightings: 3,
            organisations: 2,
            first_seen: ts("2026-09-01T00:00:00.5Z").nanos_clamped(),
            last_seen: ts("2026-10-05T00:00:00Z").nanos_clamped(),
        }
    );
    assert_eq!(
        s.sighting_aggregate("indicator--22222222-2222-4222-8222-222222222222")
            .unwrap(),
        None
    );
}

#[test]
fn sighting_aggregates_list_the_publishers_indicators_latest_seen_first() {
    let (_d, s) = fresh();
    let publ = s.create_org("Publisher", Sector::SecurityFirm).unwrap().id;
    let other = s.create_org("Other", Sector::Platform).unwrap().id;
    let g = s.create_group("g", "", Tlp::Green).unwrap();
    let [old, new, unsighted, foreign] = [1, 2, 3, 4]
        .map(|i| format!("indicator--{i}{i}{i}{i}{i}{i}{i}{i}-0000-4000-8000-000000000000"));
    for (id, by) in [
        (&old, publ),
        (&new, publ),
        (&unsighted, publ),
        (&foreign, other),
    ] {
        s.add_versions(
            &g.id,
            by,
            vec![version(id, Some("2026-01-01T00:00:00Z"), "{}")],
            5,
        )
        .unwrap();
    }
    for (id, last) in [
        (&old, "2026-10-01T00:00:00Z"),
        (&new, "2026-10-09T00:00:00Z"),
        (&old, "2026-10-02T00:00:00Z"),
        (&foreign, "2026-10-10T00:00:00Z"),
    ] {
        s.add_sighting(sighting(id, other, 2, "2026-09-01T00:00:00Z", last), 50)
            .unwrap();
    }
    let list = s.sighting_aggregates(publ, 1000).unwrap();
    let ids: Vec<&str> = list.iter().map(|a| a.indicator.as_str()).collect();
    assert_eq!(ids, [new.as_str(), old.as_str()]);
    assert_eq!((list[1].count, list[1].sightings), (4, 2));
    assert_eq!(s.sighting_aggregates(publ, 1).unwrap().len(), 1);
    assert_eq!(s.sighting_aggregates(other, 1000).unwrap().len(), 1);
}

#[test]
fn current_indicators_are_the_latest_version_per_collection_revoked_included() {
    let (_d, s) = fresh();
    let o = s.create_org("O", Sector::Platform).unwrap().id;
    let g1 = s.create_group("g1", "", Tlp::Green).unwrap();
    let g2 = s.create_group("g2", "", Tlp::Green).unwrap();
    let a = "indicator--aaaaaaaa-0000-4000-8000-000000000000";
    let b = "indicator--bbbbbbbb-0000-4000-8000-000000000000";
    let m = "malware--cccccccc-0000-4000-8000-000000000000";
    let add = |g: &Group, v: NewVersion, now: i64| {
        let out = s.add_versions(&g.id, o, vec![v], now).unwrap();
        assert!(matches!(out[0], AddOutcome::Added { .. }), "{out:?}");
    };
    add(&g1, version(a, Some("2026-01-01T00:00:00Z"), "a1"), 1_000);
    add(&g1, version(b, Some("2026-01-01T00:00:00Z"), "b1"), 2_000);
    add(&g1, version(m, Some("2026-01-01T00:00:00Z"), "m1"), 3_000);
    add(
        &g2,
        version(a, Some("2026-01-01T00:00:00Z"), "a1 in g2"),
        4_000,
    );
    // A later version of a in g1, added after an earlier-dated one.
    add(&g1, version(a, Some("2026-03-01T00:00:00Z"), "a3"), 5_000);
    add(&g1, version(a, Some("2026-02-01T00:00:00Z"), "a2"), 6_000);
    let mut revoked = version(b, Some("2026-02-01T00:00:00Z"), "b2 revoked");
    revoked.revoked = true;
    add(&g1, revoked, 7_000);

    let current = s.current_indicators().unwrap();
    let got: Vec<(&str, &str, bool)> = current
        .iter()
        .map(|v| (v.collection.0.as_str(), v.json.as_str(), v.revoked))
        .collect();
    assert_eq!(
        got,
        [
            (g2.id.0.as_str(), "a1 in g2", false),
            (g1.id.0.as_str(), "a3", false),
            (g1.id.0.as_str(), "b2 revoked", true),
        ]
    );
    let of_a: Vec<String> = s
        .current_versions(a)
        .unwrap()
        .into_iter()
        .map(|v| v.json)
        .collect();
    assert_eq!(of_a, ["a1 in g2", "a3"]);
    assert!(s.current_versions("indicator--none").unwrap().is_empty());
}

#[test]
fn known_good_lists_are_separate_and_unique() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().to_string_lossy().into_owned();
    let (a, b) = {
        let s = open(&url).unwrap();
        let a = s.create_org("A", Sector::ElectionOffice).unwrap().id;
        let b = s.create_org("B", Sector::Platform).unwrap().id;
        (a, b)
    };
    let s = open(&url).unwrap();
    let ex = s
        .add_known_good(None, "domain-name", "vote.gov", "official", 1)
        .unwrap();
    assert_eq!(ex.org, None);
    // The exchange list is unique too, although its org_id is NULL: adding again updates.
    let again = s
        .add_known_good(None, "domain-name", "vote.gov", "official site", 2)
        .unwrap();
    assert_eq!(again.id, ex.id);
    assert_eq!((again.note.as_str(), again.added), ("official site", 1));
    let mine = s
        .add_known_good(Some(a), "domain-name", "vote.gov", "ours", 3)
        .unwrap();
    assert_ne!(mine.id, ex.id);
    s.add_known_good(Some(a), "ipv4-addr", "192.0.2.1", "", 4)
        .unwrap();
    s.add_known_good(Some(b), "domain-name", "Vote.gov", "stored as given", 5)
        .unwrap();
    assert!(matches!(
        s.add_known_good(Some(OrgId(999)), "domain-name", "x.example", "", 6),
        Err(StoreError::Conflict(_))
    ));

    let exchange = s.known_good(None).unwrap();
    assert_eq!(exchange.len(), 1);
    assert_eq!(exchange[0].note, "official site");
    let values = |org| -> Vec<String> {
        s.known_good(org)
            .unwrap()
            .into_iter()
            .map(|e| e.value)
            .collect()
    };
    assert_eq!(values(Some(a)), ["vote.gov", "192.0.2.1"]);
    assert_eq!(values(Some(b)), ["Vote.gov"]);
    assert_eq!(s.all_known_good().unwrap().len(), 4);
    assert_eq!(s.all_known_good().unwrap()[0].org, None);

    // Removal acts on one list only.
    assert!(!s.remove_known_good(Some(b), &mine.id).unwrap());
    assert!(!s.remove_known_good(None, &mine.id).unwrap());
    assert!(s.remove_known_good(Some(a), &mine.id).unwrap());
    assert!(!s.remove_known_good(Some(a), &mine.id).unwrap());
    assert!(!s.remove_known_good(Some(a), &ex.id).unwrap());
    assert!(s.remove_known_good(None, &ex.id).unwrap());
    assert_eq!(values(Some(a)), ["192.0.2.1"]);
    assert!(s.known_good(None).unwrap().is_empty());
}

#[test]
fn a_schema_3_database_gains_the_sighting_and_known_good_tables() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("accord.sqlite3");
    let org = {
        let s = SqliteStore::open(&file).unwrap();
        s.create_org("Kept", Sector::Research).unwrap()
    };
    {
        let c = rusqlite::Connection::open(&file).unwrap();
        c.execute_batch("DROP TABLE sightings; DROP TABLE known_good; PRAGMA user_version = 3;")
            .unwrap();
    }
    let s = SqliteStore::open(&file).unwrap();
    assert_eq!(s.org_by_name("Kept").unwrap(), org);
    s.add_known_good(None, "domain-name", "vote.gov", "", 1)
        .unwrap();
    s.add_sighting(
        sighting(
            "indicator--11111111-1111-4111-8111-111111111111",
            org.id,
            1,
            "2026-10-01T00:00:00Z",
            "2026-10-01T00:00:00Z",
        ),
        1,
    )
    .unwrap();
}
