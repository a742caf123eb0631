//! **Security-sensitive.** The one access policy: who may read, publish and delete what.
//!
//! Every read path — TAXII objects, manifest, one object, versions, status, indicator
//! matching, and whatever is added later — asks this module. The rules, in PRODUCT.md's words:
//!
//! | effective marking | who reads it |
//! |---|---|
//! | TLP:CLEAR | every authenticated member |
//! | TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT | organisations that are members of the object's trust group with read rights |
//! | TLP:RED | only the organisations named as its recipients |
//!
//! The publisher always reads its own objects. The effective marking is the strictest TLP
//! marking on the object, or the collection's default when it has none. Anonymous objects
//! are shown with the exchange as `created_by_ref` to everyone but their publisher.
//!
//! Sightings follow from the same rule ([`may_sight`], [`sees_sighting_aggregate`]): a caller
//! records or reads sightings of an indicator only if it may read the indicator's current
//! version (the latest in a collection, revoked or not) in some collection; otherwise the
//! indicator does not exist for it. Each organisation reads its own sightings; only the
//! indicator's publisher reads the aggregate over everyone's, which names nobody.
//!
//! The store filters in SQL from the [`ReadScope`] this module builds; `tests/it/access.rs`
//! holds [`may_read`] and that SQL equal on thousands of random cases.

use accord_stix::Tlp;
use accord_store::{
    GroupId, KeyId, Membership, Org, OrgId, Principal, ReadScope, Role, StoredVersion,
};
use serde_json::Value;

/// An authenticated caller. Handlers take one (or a [`Publisher`]) as an argument, so a
/// handler that forgets authentication does not compile.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The organisation the key acts for.
    pub org: Org,
    /// The key's role.
    pub role: Role,
    /// The key's id.
    pub key: KeyId,
    memberships: Vec<Membership>,
}

impl Caller {
    /// The caller a key identifies.
    pub fn from_principal(p: Principal) -> Self {
        Caller {
            org: p.org,
            role: p.key.role,
            key: p.key.id,
            memberships: p.memberships,
        }
    }

    /// The caller's organisation's membership of a group, if any.
    pub fn membership(&self, group: &GroupId) -> Option<&Membership> {
        self.memberships.iter().find(|m| &m.group == group)
    }
}

/// A caller whose role may publish: the extractor for write handlers.
#[derive(Debug, Clone)]
pub struct Publisher(pub Caller);

/// What a caller reads, for the store to filter by.
pub fn read_scope(c: &Caller) -> ReadScope {
    ReadScope {
        org: c.org.id,
        member_of: c
            .memberships
            .iter()
            .filter(|m| m.read)
            .map(|m| m.group.clone())
            .collect(),
    }
}

/// The facts about one stored version that decide who reads it.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// The collection (trust group) it is in.
    pub collection: &'a GroupId,
    /// Who published it.
    pub publisher: OrgId,
    /// Its strictest marking, after the collection default.
    pub effective_tlp: Tlp,
    /// The recipients of a TLP:RED object.
    pub recipients: &'a [OrgId],
}

impl<'a> From<&'a StoredVersion> for Facts<'a> {
    fn from(v: &'a StoredVersion) -> Self {
        Facts {
            collection: &v.collection,
            publisher: v.publisher,
            effective_tlp: v.effective_tlp,
            recipients: &v.recipients,
        }
    }
}

/// Whether the scope's organisation may read a version. This is the rule; everything else
/// is derived from it or tested against it.
pub fn may_read(scope: &ReadScope, f: &Facts<'_>) -> bool {
    if f.publisher == scope.org {
        return true;
    }
    match f.effective_tlp {
        Tlp::Clear => true,
        Tlp::Green | Tlp::Amber | Tlp::AmberStrict => scope.member_of.contains(f.collection),
        Tlp::Red => f.recipients.contains(&scope.org),
    }
}

/// Whether a caller may record sightings of an indicator and read its own: `current` is the
/// latest stored version of the indicator in each collection holding it (from
/// `Store::current_versions`), and the caller must read one of them. Revoked versions count:
/// a revoked indicator may still be sighted, and its publisher learns that it still is.
pub fn may_sight(c: &Caller, current: &[StoredVersion]) -> bool {
    let scope = read_scope(c);
    current
        .iter()
        .any(|v| v.object_type == "indicator" && may_read(&scope, &Facts::from(v)))
}

/// Whether a caller reads the aggregate of everyone's sightings of an indicator: only its
/// publisher does, anonymous or not (the aggregate names no sighter).
pub fn sees_sighting_aggregate(c: &Caller, current: &[StoredVersion]) -> bool {
    current
        .iter()
        .any(|v| v.object_type == "indicator" && v.publisher == c.org.id)
}

/// The publisher whose indicators' sighting aggregates a caller lists: its own organisation.
pub fn sighting_aggregates_of(c: &Caller) -> OrgId {
    c.org.id
}

/// Whether the scope's organisation may read an indicator the match index holds: [`may_read`]
/// over the facts the index keeps. An entry without a collection or publisher (an indicator
/// from a local file) is never shown through the server.
pub fn may_read_indicator(scope: &ReadScope, m: &crate::matching::Meta) -> bool {
    match (&m.collection, m.publisher) {
        (Some(collection), Some(publisher)) => may_read(
            scope,
            &Facts {
                collection,
                publisher,
                effective_tlp: m.tlp,
                recipients: &m.recipients,
            },
        ),
        _ => false,
    }
}

/// Whether a caller may publish into a collection: a role that writes, and write rights in
/// the group.
pub fn may_publish(c: &Publisher, group: &GroupId) -> bool {
    c.0.role.may_write() && c.0.membership(group).is_some_and(|m| m.write)
}

/// Whether a caller may delete a version it can see: only its publisher's writers may.
pub fn may_delete(c: &Publisher, v: &StoredVersion) -> bool {
    c.0.role.may_write() && v.publisher == c.0.org.id
}

/// Whether a caller may read a TAXII status resource: only the organisation that posted.
pub fn may_read_status(c: &Caller, owner: OrgId) -> bool {
    c.org.id == owner
}

/// The object as this caller is shown it: the stored JSON, except that an anonymous
/// object's `created_by_ref` names the exchange for everyone but its publisher.
pub fn render(
    c: &Caller,
    v: &StoredVersion,
    exchange_identity: &str,
) -> Result<Box<serde_json::value::RawValue>, serde_json::Error> {
    if v.anonymous && v.publisher != c.org.id {
        let mut obj: Value = serde_json::from_str(&v.json)?;
        if let Some(map) = obj.as_object_mut() {
            map.insert(
                "created_by_ref".into(),
                Value::String(exchange_identity.to_owned()),
            );
        }
        return serde_json::value::to_raw_value(&obj);
    }
    serde_json::value::RawValue::from_string(v.json.clone())
}
