//! Turning posted JSON into stored versions: validation, markings, recipients, anonymity.
//!
//! Each object is judged on its own; a bad object never stops the good ones in the same
//! bundle, and every refusal says which object and why.

use std::collections::HashMap;

use accord_stix::{Timestamp, ext, tlp, validate, version_of};
use accord_store::{NewVersion, Org, OrgId, Store, StoreError};
use serde_json::Value;

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
    /// Refused.
    Refused(Refusal),
}

/// What the ingest checks need to know about the exchange's members.
pub struct Members {
    by_identity: HashMap<String, OrgId>,
}

impl Members {
    /// Loads the member organisations.
    pub fn load(store: &dyn Store) -> Result<Self, StoreError> {
        Ok(Members::from_orgs(&store.orgs()?))
    }

    /// From a list of organisations.
    pub fn from_orgs(orgs: &[Org]) -> Self {
        Members {
            by_identity: orgs.iter().map(|o| (o.identity.clone(), o.id)).collect(),
        }
    }
}

/// Checks one posted object for `publisher`. `index` is its position in the request.
pub fn check(object: Value, index: usize, publisher: &Org, members: &Members) -> Checked {
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
    let sharing = match ext::sharing(&map) {
        Ok(s) => s.unwrap_or_default(),
        Err(e) => return refuse(e.to_string()),
    };
    if let Some(author) = map.get("created_by_ref").and_then(Value::as_str)
        && members
            .by_identity
            .get(author)
            .is_some_and(|o| *o != publisher.id)
    {
        return refuse(format!(
            "created_by_ref {author} is another member organisation; publish as yourself ({})",
            publisher.identity
        ));
    }
    let tlp = tlp::strictest(&map);
    let mut recipients = Vec::new();
    for r in &sharing.recipients {
        match members.by_identity.get(r) {
            Some(o) => recipients.push(*o),
            None => {
                return refuse(format!(
                    "recipient {r} is not the identity of a member organisation"
                ));
            }
        }
    }
    if tlp == Some(accord_stix::Tlp::Red) && recipients.is_empty() {
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
    let object_type = map
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
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
    let members = Members::load(store)?;
    let mut report = Report {
        total: objects.len(),
        ..Report::default()
    };
    let mut pending = Vec::new();
    for (i, obj) in objects.into_iter().enumerate() {
        match check(obj, i, publisher, &members) {
            Checked::Ok(v) => pending.push(v),
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
