//! Randomised proof that every read path returns exactly what the policy function allows.
//!
//! Each seed builds an exchange with random organisations, trust groups (random default
//! markings), memberships (random read/write), and objects with random versions, TLP 1.0
//! and 2.0 markings (several at once, granular ones, non-TLP ones), recipients and
//! anonymity, published over HTTP. Then, for every organisation and every collection, each
//! TAXII read path is compared with `access::may_read` applied to the model.

use std::collections::{BTreeMap, BTreeSet};

use accord_server::access::{self, Caller, Facts};
use accord_stix::{Tlp, tlp};
use accord_store::{Group, GroupId, Org, OrgId};
use axum::http::StatusCode;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::harness::*;

struct Version {
    collection: GroupId,
    id: String,
    modified: String,
    publisher: OrgId,
    effective: Tlp,
    recipients: Vec<OrgId>,
    anonymous: bool,
    object: Value,
}

fn random_markings(rng: &mut StdRng) -> (Vec<String>, Vec<String>) {
    let tlp2 = |rng: &mut StdRng| Tlp::ALL[rng.random_range(0..5)].marking_ref().to_owned();
    let tlp1 = |rng: &mut StdRng| tlp::TLP1_IDS[rng.random_range(0..4)].0.to_owned();
    match rng.random_range(0..7) {
        0 => (vec![], vec![]),
        1 | 2 => (vec![tlp2(rng)], vec![]),
        3 => (vec![tlp1(rng)], vec![]),
        4 => (vec![tlp2(rng), tlp1(rng)], vec![]),
        5 => (vec![STATEMENT.to_owned()], vec![]),
        _ => (vec![tlp2(rng)], vec![tlp2(rng)]),
    }
}

async fn run_seed(seed: u64) -> usize {
    let mut rng = StdRng::seed_from_u64(seed);
    let h = Harness::new();
    let orgs: Vec<(Org, String)> = (0..rng.random_range(3..6))
        .map(|i| h.member(&format!("org{i}")))
        .collect();
    let groups: Vec<Group> = (0..rng.random_range(2..4))
        .map(|i| h.group(&format!("group{i}"), Tlp::ALL[rng.random_range(0..5)]))
        .collect();
    let mut writers: BTreeMap<GroupId, Vec<usize>> = BTreeMap::new();
    for g in &groups {
        for (i, (o, _)) in orgs.iter().enumerate() {
            let (read, write) = match rng.random_range(0..4) {
                0 => continue,
                1 => (true, false),
                2 => (false, true),
                _ => (true, true),
            };
            h.join(o, g, read, write);
            if write {
                writers.entry(g.id.clone()).or_default().push(i);
            }
        }
        if !writers.contains_key(&g.id) {
            h.join(&orgs[0].0, g, rng.random_bool(0.5), true);
            writers.entry(g.id.clone()).or_default().push(0);
        }
    }

    // The statement marking some objects carry is defined once, for the whole exchange.
    let first_writer = writers[&groups[0].id][0];
    h.publish(
        &orgs[first_writer].1,
        &groups[0],
        vec![statement_definition()],
    )
    .await;
    let mut model: Vec<Version> = vec![Version {
        collection: groups[0].id.clone(),
        id: STATEMENT.to_owned(),
        modified: "2017-01-20T00:00:00.000Z".to_owned(),
        publisher: orgs[first_writer].0.id,
        effective: groups[0].default_tlp,
        recipients: vec![],
        anonymous: false,
        object: statement_definition(),
    }];
    for g in &groups {
        for _ in 0..rng.random_range(4..10) {
            let ws = &writers[&g.id];
            let publisher = ws[rng.random_range(0..ws.len())];
            let id = format!("indicator--{}", uuid());
            let mut batch = Vec::new();
            // Anonymity is a property of the object: all its versions share it.
            let anonymous = rng.random_bool(0.3);
            for v in 0..rng.random_range(1..4) {
                let (refs, granular) = random_markings(&mut rng);
                let modified = format!("2026-0{}-01T00:00:00.000Z", v + 1);
                let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
                let mut obj = indicator(&id, &modified, &refs);
                if !granular.is_empty() {
                    obj["granular_markings"] = json!(
                        granular
                            .iter()
                            .map(|m| json!({"marking_ref": m, "selectors": ["name"]}))
                            .collect::<Vec<_>>()
                    );
                }
                let effective = tlp::strictest(obj.as_object().unwrap()).unwrap_or(g.default_tlp);
                let mut recipients: Vec<&Org> = Vec::new();
                if effective == Tlp::Red || rng.random_bool(0.2) {
                    // An anonymous object may not name its publisher, not even as a recipient.
                    let candidates: Vec<&Org> = orgs
                        .iter()
                        .map(|(o, _)| o)
                        .filter(|o| !anonymous || o.id != orgs[publisher].0.id)
                        .collect();
                    for o in &candidates {
                        if rng.random_bool(0.4) {
                            recipients.push(o);
                        }
                    }
                    if recipients.is_empty() {
                        recipients.push(candidates[rng.random_range(0..candidates.len())]);
                    }
                }
                if !recipients.is_empty() || anonymous {
                    obj = with_sharing(obj, &recipients, anonymous);
                }
                if rng.random_bool(0.5) {
                    obj["created_by_ref"] = json!(orgs[publisher].0.identity);
                }
                model.push(Version {
                    collection: g.id.clone(),
                    id: id.clone(),
                    modified,
                    publisher: orgs[publisher].0.id,
                    effective,
                    recipients: recipients.iter().map(|o| o.id).collect(),
                    anonymous,
                    object: obj.clone(),
                });
                batch.push(obj);
            }
            h.publish(&orgs[publisher].1, g, batch).await;
        }
    }

    let exchange = h.store.exchange_identity().unwrap();
    let mut cases = 0;
    for (org, key) in &orgs {
        let principal = h
            .store
            .principal(&accord_server::auth::hash_key(key))
            .unwrap()
            .unwrap();
        let caller = Caller::from_principal(principal);
        let scope = access::read_scope(&caller);
        for g in &groups {
            let in_group: Vec<&Version> = model.iter().filter(|v| v.collection == g.id).collect();
            let allowed: Vec<&Version> = in_group
                .iter()
                .copied()
                .filter(|v| {
                    access::may_read(
                        &scope,
                        &Facts {
                            collection: &v.collection,
                            publisher: v.publisher,
                            effective_tlp: v.effective,
                            recipients: &v.recipients,
                        },
                    )
                })
                .collect();
            cases += in_group.len();
            let want_all: BTreeSet<(String, String)> = allowed
                .iter()
                .map(|v| (v.id.clone(), v.modified.clone()))
                .collect();
            let mut by_id: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for v in &allowed {
                by_id.entry(&v.id).or_default().push(&v.modified);
            }
            let want_last: BTreeSet<(String, String)> = by_id
                .iter()
                .map(|(id, vs)| (id.to_string(), vs.iter().max().unwrap().to_string()))
                .collect();
            let want_first: BTreeSet<(String, String)> = by_id
                .iter()
                .map(|(id, vs)| (id.to_string(), vs.iter().min().unwrap().to_string()))
                .collect();

            let ctx = format!("seed {seed}, {} reading {}", org.name, g.name);
            let base = objects_path(g);
            let all = pages(&h, key, &format!("{base}?match[version]=all"), "objects").await;
            assert_eq!(versions_set(&all), want_all, "objects all: {ctx}");
            for o in &all {
                let v = model
                    .iter()
                    .find(|v| v.collection == g.id && v.id == o["id"] && v.modified == version(o))
                    .unwrap();
                let mut expected = v.object.clone();
                if v.anonymous && v.publisher != org.id {
                    expected["created_by_ref"] = json!(exchange);
                }
                assert_eq!(o, &expected, "rendering: {ctx}");
            }
            let last = pages(&h, key, &base, "objects").await;
            assert_eq!(versions_set(&last), want_last, "objects last: {ctx}");
            let first = pages(&h, key, &format!("{base}?match[version]=first"), "objects").await;
            assert_eq!(versions_set(&first), want_first, "objects first: {ctx}");
            let manifest = pages(
                &h,
                key,
                &format!(
                    "/exchange/collections/{}/manifest/?match[version]=all",
                    g.id
                ),
                "objects",
            )
            .await;
            let manifest: BTreeSet<(String, String)> = manifest
                .iter()
                .map(|m| {
                    (
                        m["id"].as_str().unwrap().to_owned(),
                        m["version"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            assert_eq!(manifest, want_all, "manifest: {ctx}");
            let ids: BTreeSet<&str> = in_group.iter().map(|v| v.id.as_str()).collect();
            for id in ids {
                let want: BTreeSet<String> = by_id
                    .get(id)
                    .into_iter()
                    .flatten()
                    .map(|s| s.to_string())
                    .collect();
                let one = h
                    .get(key, &format!("{}?match[version]=all", object_path(g, id)))
                    .await;
                let vers = h
                    .get(key, &format!("{}versions/", object_path(g, id)))
                    .await;
                if want.is_empty() {
                    assert_eq!(one.status, StatusCode::NOT_FOUND, "object {id}: {ctx}");
                    assert_eq!(vers.status, StatusCode::NOT_FOUND, "versions {id}: {ctx}");
                } else {
                    let got: BTreeSet<String> = one.body["objects"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|o| version(o).to_owned())
                        .collect();
                    assert_eq!(got, want, "object {id}: {ctx}");
                    let got: BTreeSet<String> = vers.body["versions"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap().to_owned())
                        .collect();
                    assert_eq!(got, want, "versions {id}: {ctx}");
                }
            }
        }
    }
    cases
}

/// `modified`, or `created` for objects without one (marking definitions).
fn version(o: &Value) -> &str {
    o.get("modified").unwrap_or(&o["created"]).as_str().unwrap()
}

fn versions_set(objects: &[Value]) -> BTreeSet<(String, String)> {
    objects
        .iter()
        .map(|o| (o["id"].as_str().unwrap().to_owned(), version(o).to_owned()))
        .collect()
}

/// Follows `next` through every page (small pages, to exercise paging under the filter).
async fn pages(h: &Harness, key: &str, url: &str, field: &str) -> Vec<Value> {
    let sep = if url.contains('?') { '&' } else { '?' };
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let u = match &next {
            Some(n) => format!("{url}{sep}limit=4&next={n}"),
            None => format!("{url}{sep}limit=4"),
        };
        let r = h.get(key, &u).await;
        assert_eq!(r.status, StatusCode::OK, "{u}: {}", r.body);
        out.extend(r.body[field].as_array().cloned().unwrap_or_default());
        match r.body["next"].as_str() {
            Some(n) if r.body["more"] == true => next = Some(n.to_owned()),
            _ => return out,
        }
    }
}

#[tokio::test]
async fn every_read_path_returns_exactly_what_the_policy_allows() {
    let mut cases = 0;
    for seed in 0..40 {
        cases += run_seed(seed).await;
    }
    // Each case is one (caller, stored version) pair, checked on every read path.
    assert!(cases > 2000, "only {cases} cases");
}
