//! A test exchange: the router over a SQLite file in a temp dir, a manual clock, and helpers
//! to make members and send requests with `oneshot`.

use std::sync::Arc;

use accord_server::{AppState, Config, app};
use accord_stix::{ManualClock, Tlp};
use accord_store::{Group, Org, Role, Sector, Store};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

pub const TAXII: &str = "application/taxii+json;version=2.1";

pub struct Harness {
    pub app: Router,
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Harness {
    pub fn new() -> Self {
        Self::with_config(Config::default())
    }

    pub fn with_config(config: Config) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = accord_store::open(&dir.path().to_string_lossy()).unwrap();
        let clock = Arc::new(ManualClock::at("2026-11-01T12:00:00Z").unwrap());
        let state = AppState::new(store.clone(), clock.clone(), config).unwrap();
        Harness {
            app: app(state),
            store,
            clock,
            _dir: dir,
        }
    }

    /// The same exchange after a restart: a fresh store and router over the same files.
    pub fn reopen(self) -> Self {
        let Harness {
            app: old_app,
            store: old_store,
            clock,
            _dir: dir,
        } = self;
        drop((old_app, old_store));
        let store = accord_store::open(&dir.path().to_string_lossy()).unwrap();
        let state = AppState::new(store.clone(), clock.clone(), Config::default()).unwrap();
        Harness {
            app: app(state),
            store,
            clock,
            _dir: dir,
        }
    }

    pub fn org(&self, name: &str) -> Org {
        self.store.create_org(name, Sector::Platform).unwrap()
    }

    pub fn key(&self, org: &Org, role: Role) -> String {
        let k = accord_server::auth::new_key();
        self.store
            .create_key(org.id, "tester", role, &k.hash, 0)
            .unwrap();
        k.secret
    }

    /// An organisation with an analyst key.
    pub fn member(&self, name: &str) -> (Org, String) {
        let o = self.org(name);
        let k = self.key(&o, Role::Analyst);
        (o, k)
    }

    pub fn group(&self, name: &str, default: Tlp) -> Group {
        self.store
            .create_group(name, "test group", default)
            .unwrap()
    }

    pub fn join(&self, org: &Org, group: &Group, read: bool, write: bool) {
        self.store
            .set_membership(org.id, &group.id, read, write)
            .unwrap();
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
        };
        Resp {
            status,
            headers,
            body,
        }
    }

    pub fn request(method: Method, key: &str, path: &str) -> axum::http::request::Builder {
        Request::builder()
            .method(method)
            .uri(path)
            .header("Authorization", format!("Bearer {key}"))
            .header("Accept", TAXII)
    }

    pub async fn get(&self, key: &str, path: &str) -> Resp {
        self.send(
            Self::request(Method::GET, key, path)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    pub async fn delete(&self, key: &str, path: &str) -> Resp {
        self.send(
            Self::request(Method::DELETE, key, path)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    pub async fn post(&self, key: &str, path: &str, body: &Value) -> Resp {
        self.send(
            Self::request(Method::POST, key, path)
                .header("Content-Type", TAXII)
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    /// Publishes objects into a group's collection and asserts every one was accepted.
    pub async fn publish(&self, key: &str, group: &Group, objects: Vec<Value>) -> Resp {
        let r = self
            .post(key, &objects_path(group), &json!({ "objects": objects }))
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
        assert_eq!(r.body["failure_count"], 0, "{}", r.body);
        r
    }
}

pub fn objects_path(g: &Group) -> String {
    format!("/exchange/collections/{}/objects/", g.id)
}

pub fn object_path(g: &Group, id: &str) -> String {
    format!("/exchange/collections/{}/objects/{id}/", g.id)
}

pub fn uuid() -> String {
    accord_store::new_uuid()
}

/// A valid indicator with a given id, `modified` and markings.
pub fn indicator(id: &str, modified: &str, markings: &[&str]) -> Value {
    let mut v = json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": id,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": modified,
        "name": "test indicator",
        "pattern": "[domain-name:value = 'example.com']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
    });
    if !markings.is_empty() {
        v["object_marking_refs"] = json!(markings);
    }
    v
}

pub fn new_indicator(markings: &[&str]) -> Value {
    indicator(
        &format!("indicator--{}", uuid()),
        "2026-01-01T00:00:00.000Z",
        markings,
    )
}

/// Sets the Accord sharing extension on an object.
pub fn with_sharing(mut v: Value, recipients: &[&Org], anonymous: bool) -> Value {
    let s = accord_stix::ext::Sharing {
        recipients: recipients.iter().map(|o| o.identity.clone()).collect(),
        anonymous,
    };
    accord_stix::ext::set_sharing(v.as_object_mut().unwrap(), &s);
    v
}

/// A statement marking (not TLP), as DISARM's bundle carries one.
pub const STATEMENT: &str = "marking-definition--f79f25d2-8b96-4580-b169-eb7b613a7c31";

pub fn statement_definition() -> Value {
    json!({
        "type": "marking-definition", "spec_version": "2.1", "id": STATEMENT,
        "created": "2017-01-20T00:00:00.000Z", "definition_type": "statement",
        "definition": {"statement": "Copyright the authors"},
    })
}

pub fn ids(body: &Value) -> Vec<String> {
    body["objects"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| o["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// One trust group and the organisations around it, as the access, sighting and matching
/// tests use them: a publisher (reads and writes), two readers, a member that may write but
/// not read, and an outsider in no group.
pub struct World {
    pub h: Harness,
    pub group: Group,
    pub publisher: (Org, String),
    pub reader: (Org, String),
    pub other_reader: (Org, String),
    pub no_read: (Org, String),
    pub outsider: (Org, String),
}

pub fn world(default: Tlp) -> World {
    let h = Harness::new();
    let group = h.group("Election Integrity", default);
    let publisher = h.member("Redline Security");
    let reader = h.member("Board of Elections");
    let other_reader = h.member("FaceSpace");
    let no_read = h.member("Write-only reporter");
    let outsider = h.member("Outsider");
    h.join(&publisher.0, &group, true, true);
    h.join(&reader.0, &group, true, false);
    h.join(&other_reader.0, &group, true, false);
    h.join(&no_read.0, &group, false, true);
    World {
        h,
        group,
        publisher,
        reader,
        other_reader,
        no_read,
        outsider,
    }
}

/// Publishes one object as the world's publisher; returns its id.
pub async fn publish_one(w: &World, obj: Value) -> String {
    let id = obj["id"].as_str().unwrap().to_owned();
    w.h.publish(&w.publisher.1, &w.group, vec![obj]).await;
    id
}
