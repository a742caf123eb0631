//! Persistence for Accord: one [`Store`] trait, chosen by URL at start-up.
//!
//! The store keeps members (organisations, trust groups, memberships, API key hashes), every
//! version of every STIX object by (collection, id, version) with its `date_added`, TAXII
//! status resources, sightings of indicators and known-good lists. It never decides who may
//! read what: callers pass a [`ReadScope`] built by the access policy in `accord-server` (or
//! judge what it returns by that policy), and the store translates it into its query
//! language.
//!
//! A write returns only after it is durable (SQLite in WAL mode with `synchronous=FULL`), so
//! whatever the server acknowledges survives a crash.
//!
//! Time is a parameter: every method that stamps a record takes the time from the caller.

mod sqlite;
mod types;

use std::path::Path;
use std::sync::Arc;

pub use sqlite::SqliteStore;
pub use types::*;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A named record does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The change conflicts with what is stored (a duplicate name, say).
    #[error("{0}")]
    Conflict(String),
    /// The store URL names a backend this build does not have, or is malformed.
    #[error("{0}")]
    Url(String),
    /// The database holds something this version cannot read.
    #[error("the database is not usable: {0}")]
    Corrupt(String),
    /// Creating the data directory failed.
    #[error("cannot use data directory {path}: {source}")]
    Io {
        /// The directory.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// Result of a store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything the exchange persists.
pub trait Store: Send + Sync + 'static {
    /// The exchange's own STIX identity id (shown as the source of anonymous objects).
    fn exchange_identity(&self) -> Result<String>;

    /// Creates an organisation with a new STIX identity.
    fn create_org(&self, name: &str, sector: Sector) -> Result<Org>;
    /// An organisation by name.
    fn org_by_name(&self, name: &str) -> Result<Org>;
    /// Every organisation, by name.
    fn orgs(&self) -> Result<Vec<Org>>;

    /// Creates a trust group (and so a collection).
    fn create_group(
        &self,
        name: &str,
        description: &str,
        default_tlp: accord_stix::Tlp,
    ) -> Result<Group>;
    /// A group by name or collection id.
    fn group(&self, name_or_id: &str) -> Result<Group>;
    /// Every group, by name.
    fn groups(&self) -> Result<Vec<Group>>;
    /// Sets an organisation's rights in a group (adding it when it is not a member).
    fn set_membership(&self, org: OrgId, group: &GroupId, read: bool, write: bool) -> Result<()>;
    /// Removes an organisation from a group.
    fn remove_membership(&self, org: OrgId, group: &GroupId) -> Result<()>;
    /// Every membership of a group.
    fn members(&self, group: &GroupId) -> Result<Vec<Membership>>;

    /// Stores a new API key's hash for a member (person or service account) of `org`.
    fn create_key(
        &self,
        org: OrgId,
        member: &str,
        role: Role,
        hash: &[u8; 32],
        now: i64,
    ) -> Result<ApiKey>;
    /// The caller behind a key hash, if the key exists and is not revoked.
    fn principal(&self, hash: &[u8; 32]) -> Result<Option<Principal>>;
    /// Records that a key was used.
    fn touch_key(&self, key: &KeyId, now: i64) -> Result<()>;
    /// Revokes a key.
    fn revoke_key(&self, key: &KeyId, now: i64) -> Result<()>;
    /// Every key of an organisation.
    fn keys(&self, org: OrgId) -> Result<Vec<ApiKey>>;
    /// Organisation ids by STIX identity id (to resolve TLP:RED recipients).
    fn orgs_by_identity(&self, identities: &[String]) -> Result<Vec<(String, OrgId)>>;

    /// Stores versions published by `publisher` into a collection, in one durable transaction.
    /// Returns one outcome per version, in order. `date_added` is whole microseconds and
    /// strictly increasing across the store.
    fn add_versions(
        &self,
        collection: &GroupId,
        publisher: OrgId,
        versions: Vec<NewVersion>,
        now: i64,
    ) -> Result<Vec<AddOutcome>>;
    /// The versions a query selects that the scope may read.
    fn query(&self, query: &ObjectQuery) -> Result<Page>;
    /// Deletes the versions of one object that `query` selects and `publisher` published;
    /// returns how many went.
    fn delete(&self, query: &ObjectQuery, publisher: OrgId) -> Result<usize>;

    /// Every stored version of type `indicator` added after `after` (a `date_added` in
    /// nanoseconds), oldest first, at most `limit`, whoever may read it: for the indicator
    /// index, which asks the access policy on every lookup instead.
    fn indicator_versions(&self, after: i64, limit: usize) -> Result<Vec<StoredVersion>>;

    /// Every stored version of the `marking-definition` objects with these ids, as
    /// `(id, json)`, whoever published them (markings are not secret; the ingest needs them to
    /// know which TLP level a custom marking stands for).
    fn marking_definitions(&self, ids: &[String]) -> Result<Vec<(String, String)>>;

    /// Saves a TAXII status resource, readable by `org` only.
    fn save_status(&self, id: &str, org: OrgId, json: &str) -> Result<()>;
    /// A status resource and its owner.
    fn status(&self, id: &str) -> Result<Option<(OrgId, String)>>;

    /// The latest stored version of one object in each collection that holds it, whoever
    /// may read it (the caller judges each by the access policy); revoked ones included.
    fn current_versions(&self, object_id: &str) -> Result<Vec<StoredVersion>>;
    /// The latest stored version of every indicator, one per (object id, collection),
    /// revoked ones included, in `date_added` order: what an indicator index is built from.
    fn current_indicators(&self) -> Result<Vec<StoredVersion>>;

    /// Records a sighting durably, stamped `now`, under a new `sighting--` id.
    fn add_sighting(&self, sighting: NewSighting, now: i64) -> Result<Sighting>;
    /// One organisation's sightings of an indicator, most recently recorded first, at most
    /// `limit`.
    fn sightings_by(&self, indicator: &str, org: OrgId, limit: usize) -> Result<Vec<Sighting>>;
    /// Every sighting of an indicator summed up; `None` when it has none.
    fn sighting_aggregate(&self, indicator: &str) -> Result<Option<SightingAggregate>>;
    /// The aggregates of the sighted indicators `publisher` publishes, most recently seen
    /// (latest `last_seen`) first, at most `limit`.
    fn sighting_aggregates(&self, publisher: OrgId, limit: usize)
    -> Result<Vec<SightingAggregate>>;

    /// Puts a value on a known-good list (`org`'s, or the exchange's when `None`); a value
    /// already there keeps its id and gets the new note.
    fn add_known_good(
        &self,
        org: Option<OrgId>,
        sco_type: &str,
        value: &str,
        note: &str,
        now: i64,
    ) -> Result<KnownGoodEntry>;
    /// Removes an entry from one list; `false` when that list has no entry with this id.
    fn remove_known_good(&self, org: Option<OrgId>, id: &str) -> Result<bool>;
    /// One known-good list, by type and value.
    fn known_good(&self, org: Option<OrgId>) -> Result<Vec<KnownGoodEntry>>;
    /// Every known-good list: the exchange's first, then each organisation's.
    fn all_known_good(&self) -> Result<Vec<KnownGoodEntry>>;
}

/// Opens the store a URL names: `sqlite:PATH` (a database file), or a plain directory path,
/// which holds `accord.sqlite3` and is created when missing. Any other scheme is refused.
pub fn open(url: &str) -> Result<Arc<dyn Store>> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        return Ok(Arc::new(SqliteStore::open(Path::new(path))?));
    }
    if let Some((scheme, _)) = url.split_once("://") {
        return Err(StoreError::Url(format!(
            "`{scheme}://` is not a storage backend in this build (use a directory path or sqlite:FILE)"
        )));
    }
    let dir = Path::new(url);
    std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
        path: url.to_owned(),
        source,
    })?;
    Ok(Arc::new(SqliteStore::open(&dir.join("accord.sqlite3"))?))
}

/// A random RFC 4122 version 4 UUID.
pub fn new_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
