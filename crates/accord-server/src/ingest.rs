//! Turning posted JSON into stored versions: validation, markings, recipients, anonymity.
//!
//! Each object is judged on its own; a bad object never stops the good ones in the same
//! bundle, and every refusal says which object and why.

use std::collections::HashMap;

use accord_stix::{Timestamp, Tlp, ext, tlp, validate, version_of};
use accord_store::{NewVersion, Org, OrgId, Store, StoreError};
use serde_json::{Map, Value};

/// An object refused before it reached the store.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// The object's id, or its position when it has none.
    pub id: String,
    /// Its version, when known.
    pub version: String,
    /// Why.
    pub message: String,
}

/// One posted object after checking.
#[derive(Debug)]
pub enum Checked {
    /// Ready to store.
    Ok(NewVersion),
    /// A definition every exchange knows (a TLP marking, the Accord sharing extension):
    /// acknowledged, not stored, owned by nobody. `(id, version)`.
    Known(String, String),
    /// Refused.
    Refused(Refusal),
}

/// What the ingest checks need to know beyond the object: the members' identities and the
/// marking definitions the objects reference.
pub struct Context {
    by_identity: HashMap<String, OrgId>,
    exchange_identity: String,
    /// Marking-definition id → the TLP level it defines (`None`: a marking that is not TLP).
    markings: HashMap<String, Option<Tlp>>,
}

impl Context {
    /// Loads the members, and resolves every marking the posted objects reference that is
    /// not a well-known TLP id: from definitions in the same request, else stored ones.
    pub fn load(store: &dyn Store, objects: &[Value]) -> Result<Self, StoreError> {
        let mut markings: HashMap<String, Option<Tlp>> = HashMap::new();
        for o in objects.iter().filter_map(Value::as_object) {
            if o.get("type").and_then(Value::as_str) == Some("marking-definition")
                && let Some(id) = o.get("id").and_then(Value::as_str)
            {
                let level = tlp::of_definition(o);
                let e = markings.entry(id.to_owned()).or_insert(level);
                *e = (*e).max(level);
            }
        }
        let mut wanted: Vec<String> = objects
            .iter()
            .filter_map(Value::as_object)
            .flat_map(tlp::marking_refs)
            .filter(|r| Tlp::from_marking_ref(r).is_none() && !markings.contains_key(*r))
            .map(str::to_owned)
            .collect();
        wanted.sort();
        wanted.dedup();
        for (id, json) in store.marking_definitions(&wanted)? {
            let level = serde_json::from_str::<Value>(&json)
                .ok()
                .and_then(|v| v.as_object().and_then(tlp::of_definition));
            let e = markings.entry(id).or_insert(level);
            *e = (*e).max(level);
        }
        Ok(Context {
            by_identity: store
                .orgs()?
                .iter()
                .map(|o| (o.identity.clone(), o.id))
                .collect(),
            exchange_identity: store.exchange_identity()?,
            markings,
        })
    }

    /// The strictest TLP level among an object's markings, or the first marking reference the
    /// exchange cannot classify.
    fn tlp_of<'a>(&self, object: &'a Map<String, Value>) -> Result<Option<Tlp>, &'a str> {
        let mut strictest = None;
        for r in tlp::marking_refs(object) {
            let level = match Tlp::from_marking_ref(r) {
                Some(t) => Some(t),
                None => *self.markings.get(r).ok_or(r)?,
            };
            strictest = strictest.max(level);
        }
        Ok(strictest)
    }
}

/// Where in an object a string value equal to `needle` sits, other than the top-level
/// `created_by_ref` (which anonymous rendering replaces).
fn names(value: &Value, needle: &str, path: &str) -> Option<String> {
    match value {
        Value::String(s) if s == needle => Some(path.to_owned()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| names(v, needle, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if path.is_empty() && k == "created_by_ref" {
                return None;
            }
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            names(v, needle, &p)
        }),
        _ => None,
    }
}

/// Checks one posted object for `publisher`. `index` is its position in the request.
pub fn check(object: Value, index: usize, publisher: &Org, ctx: &Context) -> Checked {
    let Value::Object(map) = object else {
        return Checked::Refused(Refusal {
            id: format!("objects[{index}]"),
            version: String::new(),
            message: format!("objects[{index}] is not a JSON object"),
        });
    };
    let id = map
        .get("id")
        .and_then(Value::as_str)
        .map_or_else(|| format!("objects[{index}]"), str::to_owned);
    let version = version_of(&map).unwrap_or("").to_owned();
    let refuse = |message: String| {
        Checked::Refused(Refusal {
            id: id.clone(),
            version: version.clone(),
            message,
        })
    };
    if let Err(violations) = validate(&map) {
        let text: Vec<String> = violations
            .iter()
            .map(|v| format!("property `{}`: {}", v.property, v.rule))
            .collect();
        return refuse(text.join("; "));
    }
    let object_type = map
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let well_known = match object_type.as_str() {
        "marking-definition" => Tlp::from_marking_ref(&id).is_some(),
        "extension-definition" => id == ext::SHARING_EXTENSION,
        _ => false,
    };
    if well_known {
        return Checked::Known(id, version);
    }
    let sharing = match ext::sharing(&map) {
        Ok(s) => s.unwrap_or_default(),
        Err(e) => return refuse(e.to_string()),
    };
    if object_type == "identity"
        && (id == ctx.exchange_identity
            || ctx.by_identity.get(&id).is_some_and(|o| *o != publisher.id))
    {
        return refuse(format!(
            "{id} is the identity of another member organisation (or of the exchange); only it may publish it"
        ));
    }
    if sharing.anonymous
        && let Some(path) = names(&Value::Object(map.clone()), &publisher.identity, "")
    {
        return refuse(format!(
            "an anonymous object must not name its publisher: `{path}` holds your identity"
        ));
    }
    if let Some(author) = map.get("created_by_ref").and_then(Value::as_str)
        && ctx
            .by_identity
            .get(author)
            .is_some_and(|o| *o != publisher.id)
    {
        return refuse(format!(
            "created_by_ref {author} is another member organisation; publish as yourself ({})",
            publisher.identity
        ));
    }
    let tlp = match ctx.tlp_of(&map) {
        Ok(t) => t,
        Err(unknown) => {
            return refuse(format!(
                "marking {unknown} is not a marking definition this exchange knows: include its \
                 marking-definition object in the same request, or publish it first"
            ));
        }
    };
    let mut recipients = Vec::new();
    for r in &sharing.recipients {
        match ctx.by_identity.get(r) {
            Some(o) => recipients.push(*o),
            None => {
                return refuse(format!(
                    "recipient {r} is not the identity of a member organisation"
                ));
            }
        }
    }
    if tlp == Some(Tlp::Red) && recipients.is_empty() {
        return refuse(format!(
            "a TLP:RED object must name its recipients in extension {} (`recipients`: identity ids)",
            ext::SHARING_EXTENSION
        ));
    }
    let version_ts = match version_of(&map).map(Timestamp::parse) {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => return refuse(e.to_string()),
        None => None,
    };
    let spec_version = map
        .get("spec_version")
        .and_then(Value::as_str)
        .unwrap_or("2.1")
        .to_owned();
    let revoked = map.get("revoked").and_then(Value::as_bool).unwrap_or(false);
    let json = match serde_json::to_string(&map) {
        Ok(j) => j,
        Err(e) => return refuse(format!("cannot be serialised: {e}")),
    };
    Checked::Ok(NewVersion {
        object_id: id,
        object_type,
        version: version_ts,
        spec_version,
        tlp,
        recipients,
        anonymous: sharing.anonymous,
        revoked,
        json,
    })
}

/// The result of publishing a batch: what was stored and what was refused.
#[derive(Debug, Default)]
pub struct Report {
    /// How many objects were posted.
    pub total: usize,
    /// `(id, version)` of every object now stored (newly, or already identical).
    pub successes: Vec<(String, String)>,
    /// Every refusal, with its reason.
    pub failures: Vec<Refusal>,
}

/// Checks and stores posted objects for `publisher` in one durable transaction. The only
/// way objects enter the store: the TAXII handler and the demo both come through here.
pub fn publish(
    store: &dyn Store,
    publisher: &Org,
    collection: &accord_store::GroupId,
    objects: Vec<Value>,
    now: i64,
) -> Result<Report, StoreError> {
    let ctx = Context::load(store, &objects)?;
    let mut report = Report {
        total: objects.len(),
        ..Report::default()
    };
    let mut pending = Vec::new();
    for (i, obj) in objects.into_iter().enumerate() {
        match check(obj, i, publisher, &ctx) {
            Checked::Ok(v) => pending.push(v),
            Checked::Known(id, version) => report.successes.push((id, version)),
            Checked::Refused(r) => report.failures.push(r),
        }
    }
    let keys: Vec<(String, Option<String>)> = pending
        .iter()
        .map(|v| {
            (
                v.object_id.clone(),
                v.version.as_ref().map(|t| t.as_str().to_owned()),
            )
        })
        .collect();
    let outcomes = store.add_versions(collection, publisher.id, pending, now)?;
    for ((id, version), outcome) in keys.into_iter().zip(outcomes) {
        match outcome {
            accord_store::AddOutcome::Added { date_added }
            | accord_store::AddOutcome::Duplicate { date_added } => {
                let version =
                    version.unwrap_or_else(|| accord_stix::time::format_nanos(date_added, 6));
                report.successes.push((id, version));
            }
            accord_store::AddOutcome::Rejected(message) => report.failures.push(Refusal {
                id,
                version: version.unwrap_or_default(),
                message,
            }),
        }
    }
    Ok(report)
}
