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
