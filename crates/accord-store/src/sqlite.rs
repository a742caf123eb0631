//! The SQLite backend: one file, WAL journal, `synchronous=FULL`, one writer connection and a
//! pool of readers.
//!
//! Schema changes are numbered migrations applied in order under `PRAGMA user_version`; a
//! database newer than this build is refused rather than misread.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use accord_stix::{Timestamp, Tlp};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params, params_from_iter};

use crate::types::*;
use crate::{Result, Store, StoreError, new_uuid};

/// Each entry moves the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE orgs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    sector TEXT NOT NULL,
    identity TEXT NOT NULL UNIQUE
);
CREATE TABLE groups (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    default_tlp INTEGER NOT NULL
);
CREATE TABLE memberships (
    group_id TEXT NOT NULL REFERENCES groups(id),
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    can_read INTEGER NOT NULL,
    can_write INTEGER NOT NULL,
    PRIMARY KEY (group_id, org_id)
) WITHOUT ROWID;
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    role TEXT NOT NULL,
    hash BLOB NOT NULL UNIQUE,
    created INTEGER NOT NULL,
    last_used INTEGER,
    revoked INTEGER
);
CREATE TABLE objects (
    seq INTEGER PRIMARY KEY,
    collection_id TEXT NOT NULL REFERENCES groups(id),
    object_id TEXT NOT NULL,
    type TEXT NOT NULL,
    version TEXT NOT NULL,
    version_ns INTEGER NOT NULL,
    spec_version TEXT NOT NULL,
    date_added INTEGER NOT NULL,
    publisher INTEGER NOT NULL REFERENCES orgs(id),
    tlp INTEGER,
    anonymous INTEGER NOT NULL,
    revoked INTEGER NOT NULL,
    json TEXT NOT NULL,
    -- Led by object_id: one index answers version conflicts, exchange-wide id ownership
    -- and the first/last version of an object.
    UNIQUE (object_id, collection_id, version_ns)
);
CREATE INDEX objects_by_collection ON objects (collection_id, seq);
CREATE INDEX objects_by_date ON objects (date_added);
CREATE TABLE recipients (
    seq INTEGER NOT NULL REFERENCES objects(seq) ON DELETE CASCADE,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    PRIMARY KEY (seq, org_id)
) WITHOUT ROWID;
CREATE TABLE statuses (
    id TEXT PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    json TEXT NOT NULL
);
"#,
    // Keys belong to a named member of the organisation: a person or a service account.
    r#"
ALTER TABLE api_keys ADD COLUMN member TEXT NOT NULL DEFAULT '';
"#,
    // Pages are cut by date_added.
    r#"
CREATE INDEX objects_by_collection_date ON objects (collection_id, date_added);
DROP INDEX objects_by_collection;
"#,
    // Sightings of indicators, and known-good lists. A sighting names its indicator by id
    // only: it outlives the indicator's deletion, and is reachable only while the indicator
    // is. Times are kept as given (text) and as nanoseconds (for ordering and aggregates).
    r#"
CREATE TABLE sightings (
    id TEXT PRIMARY KEY,
    indicator TEXT NOT NULL,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    count INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    first_seen_ns INTEGER NOT NULL,
    last_seen TEXT NOT NULL,
    last_seen_ns INTEGER NOT NULL,
    where_seen TEXT NOT NULL,
    observed TEXT NOT NULL,
    recorded_ns INTEGER NOT NULL
);
CREATE INDEX sightings_by_indicator ON sightings (indicator, org_id, recorded_ns);
-- org_id NULL is the exchange-wide list. SQLite treats NULLs as distinct in UNIQUE, so the
-- exchange list has its own unique index.
CREATE TABLE known_good (
    id TEXT PRIMARY KEY,
    org_id INTEGER REFERENCES orgs(id),
    sco_type TEXT NOT NULL,
    value TEXT NOT NULL,
    note TEXT NOT NULL,
    added_ns INTEGER NOT NULL,
    UNIQUE (org_id, sco_type, value)
);
CREATE UNIQUE INDEX known_good_exchange ON known_good (sco_type, value) WHERE org_id IS NULL;
"#,
];

/// An Accord store in one SQLite file.
pub struct SqliteStore {
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    path: std::path::PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // A cache large enough to hold the indexes of a busy collection (measured: with the
    // default 2 MB, ingest at 100,000 objects spends a fifth of its time re-reading pages),
    // and reads through mmap rather than copies.
    conn.pragma_update(None, "cache_size", -131_072)?;
    conn.pragma_update(None, "mmap_size", 1i64 << 30)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SqliteStore {
    /// Opens (creating when missing) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        let mut conn = connect(path)?;
        migrate(&mut conn)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let has_identity: Option<String> = tx
            .query_row(
                "SELECT value FROM meta WHERE key = 'exchange_identity'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        if has_identity.is_none() {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('exchange_identity', ?1)",
                [format!("identity--{}", new_uuid())],
            )?;
        }
        tx.commit()?;
        Ok(SqliteStore {
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            path: path.to_owned(),
        })
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = lock(&self.readers).pop();
        let conn = match conn {
            Some(c) => c,
            None => connect(&self.path)?,
        };
        let out = f(&conn);
        lock(&self.readers).push(conn);
        out
    }

    fn write<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: usize = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!(
            "schema version {version} is newer than this build of Accord knows ({})",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
    }
    tx.commit()?;
    Ok(())
}

fn org_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Org> {
    let sector: String = r.get(2)?;
    Ok(Org {
        id: OrgId(r.get(0)?),
        name: r.get(1)?,
        sector: sector.parse().unwrap_or(Sector::Research),
        identity: r.get(3)?,
    })
}

fn group_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Group> {
    let tlp: u8 = r.get(3)?;
    Ok(Group {
        id: GroupId(r.get(0)?),
        name: r.get(1)?,
        description: r.get(2)?,
        default_tlp: Tlp::from_rank(tlp).unwrap_or(Tlp::Red),
    })
}

fn key_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKey> {
    let role: String = r.get(2)?;
    Ok(ApiKey {
        id: KeyId(r.get(0)?),
        org: OrgId(r.get(1)?),
        // An unreadable role reads as the least privileged one.
        role: role.parse().unwrap_or(Role::Reader),
        created: r.get(3)?,
        last_used: r.get(4)?,
        revoked: r.get(5)?,
        member: r.get(6)?,
    })
}

fn memberships_of(conn: &Connection, org: OrgId) -> Result<Vec<Membership>> {
    let mut st = conn.prepare_cached(
        "SELECT group_id, org_id, can_read, can_write FROM memberships WHERE org_id = ?1 ORDER BY group_id",
    )?;
    let rows = st.query_map([org.0], membership_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn membership_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Membership> {
    Ok(Membership {
        group: GroupId(r.get(0)?),
        org: OrgId(r.get(1)?),
        read: r.get(2)?,
        write: r.get(3)?,
    })
}

fn conflict(e: rusqlite::Error, what: impl FnOnce() -> String) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(what())
        }
        e => StoreError::Sqlite(e),
    }
}

/// Builds the SQL for a query with numbered parameters.
struct Sql {
    params: Vec<SqlValue>,
}

impl Sql {
    fn param(&mut self, v: impl Into<SqlValue>) -> String {
        self.params.push(v.into());
        format!("?{}", self.params.len())
    }

    fn list<T: Clone + Into<SqlValue>>(&mut self, items: &[T]) -> String {
        items
            .iter()
            .map(|v| self.param(v.clone()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The access rule as SQL over the row alias `a`. It must say exactly what
    /// `accord_server::access::may_read` says; a randomised test holds the two equal.
    fn visible(&mut self, a: &str, scope: &ReadScope) -> String {
        let org = self.param(scope.org.0);
        let groups: Vec<String> = scope.member_of.iter().map(|g| g.0.clone()).collect();
        let groups = self.list(&groups);
        let eff = format!(
            "COALESCE({a}.tlp, (SELECT default_tlp FROM groups g WHERE g.id = {a}.collection_id))"
        );
        format!(
            "({a}.publisher = {org} \
              OR {eff} = 0 \
              OR ({eff} BETWEEN 1 AND 3 AND {a}.collection_id IN ({groups})) \
              OR ({eff} = 4 AND EXISTS (SELECT 1 FROM recipients r WHERE r.seq = {a}.seq AND r.org_id = {org})))"
        )
    }

    /// Everything but the version filter and paging, over alias `a`.
    fn base(&mut self, a: &str, q: &ObjectQuery) -> String {
        let mut w = vec![format!(
            "{a}.collection_id = {}",
            self.param(q.collection.0.clone())
        )];
        if !q.ids.is_empty() {
            w.push(format!("{a}.object_id IN ({})", self.list(&q.ids)));
        }
        if !q.types.is_empty() {
            w.push(format!("{a}.type IN ({})", self.list(&q.types)));
        }
        if !q.spec_versions.is_empty() {
            w.push(format!(
                "{a}.spec_version IN ({})",
                self.list(&q.spec_versions)
            ));
        }
        w.push(self.visible(a, &q.scope));
        w.join(" AND ")
    }

    /// The WHERE clause of a query over alias `o`.
    fn filter(&mut self, q: &ObjectQuery) -> String {
        let mut w = vec![self.base("o", q)];
        let v = &q.versions;
        if !v.all {
            let mut any = Vec::new();
            for (wanted, agg) in [(v.first, "MIN"), (v.last, "MAX")] {
                if wanted {
                    let inner = self.base("o2", q);
                    any.push(format!(
                        "o.version_ns = (SELECT {agg}(o2.version_ns) FROM objects o2 \
                         WHERE o2.object_id = o.object_id AND {inner})"
                    ));
                }
            }
            if !v.exact.is_empty() {
                any.push(format!("o.version_ns IN ({})", self.list(&v.exact)));
            }
            if any.is_empty() {
                any.push("0".into());
            }
            w.push(format!("({})", any.join(" OR ")));
        }
        if let Some(t) = q.added_after {
            w.push(format!("o.date_added > {}", self.param(t)));
        }
        if let Some(d) = q.after_date_added {
            w.push(format!("o.date_added > {}", self.param(d)));
        }
        w.join(" AND ")
    }
}

const VERSION_COLUMNS: &str = "o.seq, o.collection_id, o.object_id, o.type, o.version, o.version_ns, \
     o.spec_version, o.date_added, o.publisher, o.tlp, \
     COALESCE(o.tlp, (SELECT default_tlp FROM groups g WHERE g.id = o.collection_id)), \
     (SELECT group_concat(org_id) FROM recipients r WHERE r.seq = o.seq), \
     o.anonymous, o.revoked, o.json";

fn version_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredVersion> {
    let tlp: Option<u8> = r.get(9)?;
    let eff: u8 = r.get(10)?;
    let recipients: Option<String> = r.get(11)?;
    Ok(StoredVersion {
        seq: r.get(0)?,
        collection: GroupId(r.get(1)?),
        object_id: r.get(2)?,
        object_type: r.get(3)?,
        version: r.get(4)?,
        version_nanos: r.get(5)?,
        spec_version: r.get(6)?,
        date_added: r.get(7)?,
        publisher: OrgId(r.get(8)?),
        tlp: tlp.and_then(Tlp::from_rank),
        effective_tlp: Tlp::from_rank(eff).unwrap_or(Tlp::Red),
        recipients: recipients
            .unwrap_or_default()
            .split(',')
            .filter_map(|s| s.parse().ok().map(OrgId))
            .collect(),
        anonymous: r.get(12)?,
        revoked: r.get(13)?,
        json: r.get(14)?,
    })
}

const SIGHTING_COLUMNS: &str = "id, indicator, org_id, count, first_seen, last_seen, \
     where_seen, observed, recorded_ns";

fn sighting_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Sighting> {
    let time = |i: usize| -> rusqlite::Result<Timestamp> {
        let text: String = r.get(i)?;
        Timestamp::parse(&text).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    };
    Ok(Sighting {
        id: r.get(0)?,
        indicator: r.get(1)?,
        org: OrgId(r.get(2)?),
        count: r.get(3)?,
        first_seen: time(4)?,
        last_seen: time(5)?,
        where_seen: r.get(6)?,
        observed: r.get(7)?,
        recorded: r.get(8)?,
    })
}

const AGGREGATE_COLUMNS: &str = "indicator, SUM(count), COUNT(*), COUNT(DISTINCT org_id), \
     MIN(first_seen_ns), MAX(last_seen_ns)";

fn aggregate_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SightingAggregate> {
    Ok(SightingAggregate {
        indicator: r.get(0)?,
        count: r.get(1)?,
        sightings: r.get(2)?,
        organisations: r.get(3)?,
        first_seen: r.get(4)?,
        last_seen: r.get(5)?,
    })
}

const KNOWN_GOOD_COLUMNS: &str = "id, org_id, sco_type, value, note, added_ns";

fn known_good_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<KnownGoodEntry> {
    Ok(KnownGoodEntry {
        id: r.get(0)?,
        org: r.get::<_, Option<i64>>(1)?.map(OrgId),
        sco_type: r.get(2)?,
        value: r.get(3)?,
        note: r.get(4)?,
        added: r.get(5)?,
    })
}

/// A `LIMIT` parameter from a count.
fn sql_limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Versions whose `version_ns` is the greatest of their object in their collection, over
/// alias `o`.
const LATEST_IN_COLLECTION: &str = "o.version_ns = (SELECT MAX(o2.version_ns) FROM objects o2 \
     WHERE o2.object_id = o.object_id AND o2.collection_id = o.collection_id)";

impl Store for SqliteStore {
    fn exchange_identity(&self) -> Result<String> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT value FROM meta WHERE key = 'exchange_identity'",
                [],
                |r| r.get(0),
            )?)
        })
    }

    fn create_org(&self, name: &str, sector: Sector) -> Result<Org> {
        let identity = format!("identity--{}", new_uuid());
        self.write(|tx| {
            tx.execute(
                "INSERT INTO orgs (name, sector, identity) VALUES (?1, ?2, ?3)",
                params![name, sector.as_str(), identity],
            )
            .map_err(|e| {
                conflict(e, || {
                    format!("an organisation named `{name}` already exists")
                })
            })?;
            Ok(Org {
                id: OrgId(tx.last_insert_rowid()),
                name: name.to_owned(),
                sector,
                identity: identity.clone(),
            })
        })
    }

    fn org_by_name(&self, name: &str) -> Result<Org> {
        self.read(|c| {
            c.query_row(
                "SELECT id, name, sector, identity FROM orgs WHERE name = ?1",
                [name],
                org_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("organisation `{name}`")))
        })
    }

    fn orgs(&self) -> Result<Vec<Org>> {
        self.read(|c| {
            let mut st = c.prepare("SELECT id, name, sector, identity FROM orgs ORDER BY name")?;
            let rows = st.query_map([], org_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn create_group(&self, name: &str, description: &str, default_tlp: Tlp) -> Result<Group> {
        let id = GroupId(new_uuid());
        self.write(|tx| {
            tx.execute(
                "INSERT INTO groups (id, name, description, default_tlp) VALUES (?1, ?2, ?3, ?4)",
                params![id.0, name, description, default_tlp.rank()],
            )
            .map_err(|e| conflict(e, || format!("a trust group named `{name}` already exists")))?;
            Ok(Group {
                id: id.clone(),
                name: name.to_owned(),
                description: description.to_owned(),
                default_tlp,
            })
        })
    }

    fn group(&self, name_or_id: &str) -> Result<Group> {
        self.read(|c| {
            c.query_row(
                "SELECT id, name, description, default_tlp FROM groups WHERE id = ?1 OR name = ?1",
                [name_or_id],
                group_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("trust group `{name_or_id}`")))
        })
    }

    fn groups(&self) -> Result<Vec<Group>> {
        self.read(|c| {
            let mut st =
                c.prepare("SELECT id, name, description, default_tlp FROM groups ORDER BY name")?;
            let rows = st.query_map([], group_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn set_membership(&self, org: OrgId, group: &GroupId, read: bool, write: bool) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO memberships (group_id, org_id, can_read, can_write) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (group_id, org_id) DO UPDATE SET can_read = ?3, can_write = ?4",
                params![group.0, org.0, read, write],
            )
            .map_err(|e| conflict(e, || format!("organisation {org} or group {group} does not exist")))?;
            Ok(())
        })
    }

    fn remove_membership(&self, org: OrgId, group: &GroupId) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM memberships WHERE group_id = ?1 AND org_id = ?2",
                params![group.0, org.0],
            )?;
            Ok(())
        })
    }

    fn members(&self, group: &GroupId) -> Result<Vec<Membership>> {
        self.read(|c| {
            let mut st = c.prepare(
                "SELECT group_id, org_id, can_read, can_write FROM memberships WHERE group_id = ?1 ORDER BY org_id",
            )?;
            let rows = st.query_map([&group.0], membership_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn create_key(
        &self,
        org: OrgId,
        member: &str,
        role: Role,
        hash: &[u8; 32],
        now: i64,
    ) -> Result<ApiKey> {
        let id = KeyId(format!("key-{}", &new_uuid()[..8]));
        self.write(|tx| {
            tx.execute(
                "INSERT INTO api_keys (id, org_id, role, hash, created, member) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id.0, org.0, role.as_str(), &hash[..], now, member],
            )
            .map_err(|e| conflict(e, || "key id collision; try again".into()))?;
            Ok(ApiKey {
                id: id.clone(),
                org,
                role,
                created: now,
                last_used: None,
                revoked: None,
                member: member.to_owned(),
            })
        })
    }

    fn principal(&self, hash: &[u8; 32]) -> Result<Option<Principal>> {
        self.read(|c| {
            let key = c
                .prepare_cached(
                    "SELECT id, org_id, role, created, last_used, revoked, member FROM api_keys
                     WHERE hash = ?1 AND revoked IS NULL",
                )?
                .query_row([&hash[..]], key_row)
                .optional()?;
            let Some(key) = key else { return Ok(None) };
            let org = c
                .prepare_cached("SELECT id, name, sector, identity FROM orgs WHERE id = ?1")?
                .query_row([key.org.0], org_row)?;
            let memberships = memberships_of(c, org.id)?;
            Ok(Some(Principal {
                key,
                org,
                memberships,
            }))
        })
    }

    fn touch_key(&self, key: &KeyId, now: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE api_keys SET last_used = ?2 WHERE id = ?1",
                params![key.0, now],
            )?;
            Ok(())
        })
    }

    fn revoke_key(&self, key: &KeyId, now: i64) -> Result<()> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE api_keys SET revoked = COALESCE(revoked, ?2) WHERE id = ?1",
                params![key.0, now],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("API key `{key}`")));
            }
            Ok(())
        })
    }

    fn keys(&self, org: OrgId) -> Result<Vec<ApiKey>> {
        self.read(|c| {
            let mut st = c.prepare(
                "SELECT id, org_id, role, created, last_used, revoked, member FROM api_keys WHERE org_id = ?1 ORDER BY created",
            )?;
            let rows = st.query_map([org.0], key_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn orgs_by_identity(&self, identities: &[String]) -> Result<Vec<(String, OrgId)>> {
        self.read(|c| {
            let mut st = c.prepare_cached("SELECT id FROM orgs WHERE identity = ?1")?;
            let mut out = Vec::new();
            for ident in identities {
                if let Some(id) = st.query_row([ident], |r| r.get(0)).optional()? {
                    out.push((ident.clone(), OrgId(id)));
                }
            }
            Ok(out)
        })
    }

    fn add_versions(
        &self,
        collection: &GroupId,
        publisher: OrgId,
        versions: Vec<NewVersion>,
        now: i64,
    ) -> Result<Vec<AddOutcome>> {
        // `date_added` is served with microsecond precision, so it is kept at that precision:
        // a client's `added_after` of the last date it saw must exclude that object.
        let now = now.div_euclid(1000) * 1000;
        self.write(|tx| {
            let mut last: i64 =
                tx.query_row("SELECT COALESCE(MAX(date_added), 0) FROM objects", [], |r| r.get(0))?;
            // The publisher's own rows of this id, in every collection.
            let mut own = tx.prepare_cached(
                "SELECT collection_id, version_ns, json, date_added, anonymous FROM objects
                 WHERE object_id = ?1 AND publisher = ?2",
            )?;
            // Whether another organisation has published this id anywhere.
            let mut foreign = tx.prepare_cached(
                "SELECT 1 FROM objects WHERE object_id = ?1 AND publisher <> ?2 LIMIT 1",
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO objects (collection_id, object_id, type, version, version_ns, spec_version,
                    date_added, publisher, tlp, anonymous, revoked, json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?;
            let mut recipient = tx.prepare_cached("INSERT OR IGNORE INTO recipients (seq, org_id) VALUES (?1, ?2)")?;
            let mut out = Vec::with_capacity(versions.len());
            for v in versions {
                let id = &v.object_id;
                // Only the publisher's own rows are compared: what others published, and
                // whether it matches, is not for this publisher to learn.
                let mut duplicate = None;
                let mut versions_here = Vec::new();
                let mut anonymity = Vec::new();
                let mut rows = own.query(params![id, publisher.0])?;
                while let Some(row) = rows.next()? {
                    anonymity.push(row.get::<_, bool>(4)?);
                    if row.get_ref(0)?.as_str().ok() != Some(collection.0.as_str()) {
                        continue;
                    }
                    versions_here.push(row.get::<_, i64>(1)?);
                    if duplicate.is_none() && row.get_ref(2)?.as_str().ok() == Some(v.json.as_str()) {
                        duplicate = Some(row.get::<_, i64>(3)?);
                    }
                }
                drop(rows);
                if let Some(date_added) = duplicate {
                    out.push(AddOutcome::Duplicate { date_added });
                    continue;
                }
                if anonymity.iter().any(|a| *a != v.anonymous) {
                    out.push(AddOutcome::Rejected(format!(
                        "{id} was published {}; every version of an object must be published the same way",
                        if v.anonymous { "under your name" } else { "anonymously" }
                    )));
                    continue;
                }
                // A versioned object (SDO, SRO) belongs to the organisation that first published
                // its id, exchange-wide. Objects without a version (observables, whose ids derive
                // from their values) belong to nobody: each publisher keeps its own copy.
                if v.version.is_some()
                    && foreign.query_row(params![id, publisher.0], |_| Ok(())).optional()?.is_some()
                {
                    out.push(AddOutcome::Rejected(format!(
                        "{id} is the id of another organisation's object; publish yours under a new id"
                    )));
                    continue;
                }
                let date_added = now.max(last + 1000);
                let (version, version_ns) = match &v.version {
                    Some(t) => match t.nanos_i64() {
                        Some(n) => (t.as_str().to_owned(), n),
                        None => {
                            out.push(AddOutcome::Rejected(format!(
                                "the version {} of {id} is outside the years 1678-2261 this exchange stores",
                                t.as_str()
                            )));
                            continue;
                        }
                    },
                    None => (accord_stix::time::format_nanos(date_added, 6), date_added),
                };
                if versions_here.contains(&version_ns) {
                    out.push(AddOutcome::Rejected(format!(
                        "version {version} of {id} already exists with different content; a new version needs a later `modified`"
                    )));
                    continue;
                }
                insert.execute(params![
                    collection.0,
                    id,
                    v.object_type,
                    version,
                    version_ns,
                    v.spec_version,
                    date_added,
                    publisher.0,
                    v.tlp.map(Tlp::rank),
                    v.anonymous,
                    v.revoked,
                    v.json,
                ])?;
                let seq = tx.last_insert_rowid();
                for r in &v.recipients {
                    recipient.execute(params![seq, r.0])?;
                }
                last = date_added;
                out.push(AddOutcome::Added { date_added });
            }
            Ok(out)
        })
    }

    fn query(&self, q: &ObjectQuery) -> Result<Page> {
        let mut sql = Sql { params: Vec::new() };
        let filter = sql.filter(q);
        let limit = sql.param(
            i64::try_from(q.limit)
                .unwrap_or(i64::MAX - 1)
                .saturating_add(1),
        );
        let text = format!(
            "SELECT {VERSION_COLUMNS} FROM objects o WHERE {filter} ORDER BY o.date_added LIMIT {limit}"
        );
        self.read(|c| {
            let mut st = c.prepare_cached(&text)?;
            let rows = st.query_map(params_from_iter(sql.params.iter()), version_row)?;
            let mut items = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            let more = items.len() > q.limit;
            items.truncate(q.limit);
            Ok(Page { items, more })
        })
    }

    fn delete(&self, q: &ObjectQuery, publisher: OrgId) -> Result<usize> {
        let mut sql = Sql { params: Vec::new() };
        let filter = sql.filter(q);
        let publisher = sql.param(publisher.0);
        let text = format!(
            "DELETE FROM objects WHERE seq IN (SELECT o.seq FROM objects o WHERE {filter} AND o.publisher = {publisher})"
        );
        self.write(|tx| Ok(tx.execute(&text, params_from_iter(sql.params.iter()))?))
    }

    fn indicator_versions(&self, after: i64, limit: usize) -> Result<Vec<StoredVersion>> {
        let text = format!(
            "SELECT {VERSION_COLUMNS} FROM objects o \
             WHERE o.date_added > ?1 AND o.type = 'indicator' ORDER BY o.date_added LIMIT ?2"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|c| {
            let mut st = c.prepare_cached(&text)?;
            let rows = st.query_map(rusqlite::params![after, limit], version_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn marking_definitions(&self, ids: &[String]) -> Result<Vec<(String, String)>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT json FROM objects WHERE object_id = ?1 AND type = 'marking-definition'",
            )?;
            let mut out = Vec::new();
            for id in ids {
                let rows = st.query_map([id], |r| r.get::<_, String>(0))?;
                for json in rows {
                    out.push((id.clone(), json?));
                }
            }
            Ok(out)
        })
    }

    fn save_status(&self, id: &str, org: OrgId, json: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT OR REPLACE INTO statuses (id, org_id, json) VALUES (?1, ?2, ?3)",
                params![id, org.0, json],
            )?;
            Ok(())
        })
    }

    fn status(&self, id: &str) -> Result<Option<(OrgId, String)>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT org_id, json FROM statuses WHERE id = ?1",
                [id],
                |r| Ok((OrgId(r.get(0)?), r.get(1)?)),
            )
            .optional()?)
        })
    }
    fn current_versions(&self, object_id: &str) -> Result<Vec<StoredVersion>> {
        let text = format!(
            "SELECT {VERSION_COLUMNS} FROM objects o WHERE o.object_id = ?1 AND {LATEST_IN_COLLECTION} \
             ORDER BY o.date_added"
        );
        self.read(|c| {
            let mut st = c.prepare_cached(&text)?;
            let rows = st.query_map([object_id], version_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn current_indicators(&self) -> Result<Vec<StoredVersion>> {
        let text = format!(
            "SELECT {VERSION_COLUMNS} FROM objects o WHERE o.type = 'indicator' AND {LATEST_IN_COLLECTION} \
             ORDER BY o.date_added"
        );
        self.read(|c| {
            let mut st = c.prepare(&text)?;
            let rows = st.query_map([], version_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn add_sighting(&self, s: NewSighting, now: i64) -> Result<Sighting> {
        let id = format!("sighting--{}", new_uuid());
        self.write(|tx| {
            tx.execute(
                "INSERT INTO sightings (id, indicator, org_id, count, first_seen, first_seen_ns,
                    last_seen, last_seen_ns, where_seen, observed, recorded_ns)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    id,
                    s.indicator,
                    s.org.0,
                    s.count,
                    s.first_seen.as_str(),
                    s.first_seen.nanos_clamped(),
                    s.last_seen.as_str(),
                    s.last_seen.nanos_clamped(),
                    s.where_seen,
                    s.observed,
                    now,
                ],
            )
            .map_err(|e| conflict(e, || format!("organisation {} does not exist", s.org)))?;
            Ok(())
        })?;
        Ok(Sighting {
            id,
            indicator: s.indicator,
            org: s.org,
            count: s.count,
            first_seen: s.first_seen,
            last_seen: s.last_seen,
            where_seen: s.where_seen,
            observed: s.observed,
            recorded: now,
        })
    }

    fn sightings_by(&self, indicator: &str, org: OrgId, limit: usize) -> Result<Vec<Sighting>> {
        let text = format!(
            "SELECT {SIGHTING_COLUMNS} FROM sightings WHERE indicator = ?1 AND org_id = ?2 \
             ORDER BY recorded_ns DESC, rowid DESC LIMIT ?3"
        );
        self.read(|c| {
            let mut st = c.prepare_cached(&text)?;
            let rows = st.query_map(params![indicator, org.0, sql_limit(limit)], sighting_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn sighting_aggregate(&self, indicator: &str) -> Result<Option<SightingAggregate>> {
        let text = format!(
            "SELECT {AGGREGATE_COLUMNS} FROM sightings WHERE indicator = ?1 GROUP BY indicator"
        );
        self.read(|c| {
            Ok(c.prepare_cached(&text)?
                .query_row([indicator], aggregate_row)
                .optional()?)
        })
    }

    fn sighting_aggregates(
        &self,
        publisher: OrgId,
        limit: usize,
    ) -> Result<Vec<SightingAggregate>> {
        // An indicator's id belongs exchange-wide to the organisation that published it, so
        // any stored version of it names its publisher.
        let text = format!(
            "SELECT {AGGREGATE_COLUMNS} FROM sightings s \
             WHERE EXISTS (SELECT 1 FROM objects o WHERE o.object_id = s.indicator \
                 AND o.publisher = ?1 AND o.type = 'indicator') \
             GROUP BY indicator ORDER BY MAX(last_seen_ns) DESC, indicator LIMIT ?2"
        );
        self.read(|c| {
            let mut st = c.prepare_cached(&text)?;
            let rows = st.query_map(params![publisher.0, sql_limit(limit)], aggregate_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn add_known_good(
        &self,
        org: Option<OrgId>,
        sco_type: &str,
        value: &str,
        note: &str,
        now: i64,
    ) -> Result<KnownGoodEntry> {
        let org_id = org.map(|o| o.0);
        let select = format!(
            "SELECT {KNOWN_GOOD_COLUMNS} FROM known_good WHERE org_id IS ?1 AND sco_type = ?2 AND value = ?3"
        );
        self.write(|tx| {
            let existing = tx
                .query_row(&select, params![org_id, sco_type, value], known_good_row)
                .optional()?;
            if let Some(mut entry) = existing {
                tx.execute(
                    "UPDATE known_good SET note = ?2 WHERE id = ?1",
                    params![entry.id, note],
                )?;
                note.clone_into(&mut entry.note);
                return Ok(entry);
            }
            let entry = KnownGoodEntry {
                id: new_uuid(),
                org,
                sco_type: sco_type.to_owned(),
                value: value.to_owned(),
                note: note.to_owned(),
                added: now,
            };
            tx.execute(
                "INSERT INTO known_good (id, org_id, sco_type, value, note, added_ns)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![entry.id, org_id, sco_type, value, note, now],
            )
            .map_err(|e| {
                conflict(e, || {
                    format!("organisation {} does not exist", org.map_or(0, |o| o.0))
                })
            })?;
            Ok(entry)
        })
    }

    fn remove_known_good(&self, org: Option<OrgId>, id: &str) -> Result<bool> {
        self.write(|tx| {
            let n = tx.execute(
                "DELETE FROM known_good WHERE id = ?1 AND org_id IS ?2",
                params![id, org.map(|o| o.0)],
            )?;
            Ok(n > 0)
        })
    }

    fn known_good(&self, org: Option<OrgId>) -> Result<Vec<KnownGoodEntry>> {
        let text = format!(
            "SELECT {KNOWN_GOOD_COLUMNS} FROM known_good WHERE org_id IS ?1 ORDER BY sco_type, value"
        );
        self.read(|c| {
            let mut st = c.prepare_cached(&text)?;
            let rows = st.query_map([org.map(|o| o.0)], known_good_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn all_known_good(&self) -> Result<Vec<KnownGoodEntry>> {
        // NULLs (the exchange list) sort first.
        let text =
            format!("SELECT {KNOWN_GOOD_COLUMNS} FROM known_good ORDER BY org_id, sco_type, value");
        self.read(|c| {
            let mut st = c.prepare(&text)?;
            let rows = st.query_map([], known_good_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}
