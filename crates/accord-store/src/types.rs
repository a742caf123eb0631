//! The records the store keeps: organisations, trust groups, memberships, API keys and
//! object versions, with newtype ids so that an organisation id cannot be passed where a
//! trust group is meant.

use accord_stix::Tlp;
use std::fmt;
use std::str::FromStr;

/// A member organisation's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgId(pub i64);

/// A trust group's id, which is also its TAXII collection id (a UUID).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(pub String);

/// An API key's public id (shown in listings, used to revoke it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyId(pub String);

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of organisation a member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sector {
    /// An online platform (social network, e-mail, hosting).
    Platform,
    /// A government agency.
    Government,
    /// An election office (state or local).
    ElectionOffice,
    /// A security firm.
    SecurityFirm,
    /// A research group.
    Research,
}

impl Sector {
    /// Every sector.
    pub const ALL: [Sector; 5] = [
        Sector::Platform,
        Sector::Government,
        Sector::ElectionOffice,
        Sector::SecurityFirm,
        Sector::Research,
    ];

    /// The name used on the command line and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Sector::Platform => "platform",
            Sector::Government => "government",
            Sector::ElectionOffice => "election-office",
            Sector::SecurityFirm => "security-firm",
            Sector::Research => "research",
        }
    }

    /// The STIX 2.1 `industry-sector-ov` value for the organisation's identity.
    pub fn stix_sector(self) -> &'static str {
        match self {
            Sector::Platform => "technology",
            Sector::Government => "government-national",
            Sector::ElectionOffice => "government-public-services",
            Sector::SecurityFirm => "technology",
            Sector::Research => "education",
        }
    }
}

impl FromStr for Sector {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Sector::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                format!("`{s}` is not a sector (platform, government, election-office, security-firm, research)")
            })
    }
}

/// What a member may do. Reading is further limited by the access policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Reads what the organisation may read.
    Reader,
    /// Reads, and publishes to the trust groups the organisation may write to.
    Analyst,
    /// An analyst who also administers the organisation.
    OrgAdmin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 3] = [Role::Reader, Role::Analyst, Role::OrgAdmin];

    /// The name used on the command line and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Analyst => "analyst",
            Role::OrgAdmin => "org-admin",
        }
    }

    /// Whether this role may publish (and delete its own organisation's objects).
    pub fn may_write(self) -> bool {
        self >= Role::Analyst
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a role (reader, analyst, org-admin)"))
    }
}

/// A member organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    /// Its id.
    pub id: OrgId,
    /// Its unique name.
    pub name: String,
    /// Its sector.
    pub sector: Sector,
    /// The id of its STIX identity object.
    pub identity: String,
}

/// A trust group: a community of organisations with its own TAXII collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Its id, which is the collection id.
    pub id: GroupId,
    /// Its unique name, the collection's title.
    pub name: String,
    /// A description, the collection's description.
    pub description: String,
    /// The marking that applies to objects published into it without a TLP marking.
    pub default_tlp: Tlp,
}

/// An organisation's rights in a trust group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The group.
    pub group: GroupId,
    /// The organisation.
    pub org: OrgId,
    /// Whether it reads the group's GREEN and AMBER objects.
    pub read: bool,
    /// Whether it may publish into the group.
    pub write: bool,
}

/// An API key, without its secret (which is never stored).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Its public id.
    pub id: KeyId,
    /// The organisation it acts for.
    pub org: OrgId,
    /// What it may do.
    pub role: Role,
    /// When it was created (nanoseconds since the epoch).
    pub created: i64,
    /// When it was last used, to within a minute.
    pub last_used: Option<i64>,
    /// When it was revoked.
    pub revoked: Option<i64>,
    /// The member it belongs to: a person or a service account of the organisation.
    pub member: String,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("id", &self.id)
            .field("org", &self.org)
            .field("role", &self.role)
            .field("member", &self.member)
            .field("revoked", &self.revoked.is_some())
            .finish_non_exhaustive()
    }
}

/// A caller, as an API key identifies it.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The key used.
    pub key: ApiKey,
    /// Its organisation.
    pub org: Org,
    /// The organisation's memberships.
    pub memberships: Vec<Membership>,
}

/// A version of an object about to be stored.
#[derive(Debug, Clone)]
pub struct NewVersion {
    /// The object's id.
    pub object_id: String,
    /// The object's type.
    pub object_type: String,
    /// Its version (`modified`, else `created`); `None` makes `date_added` the version.
    pub version: Option<accord_stix::Timestamp>,
    /// `spec_version`, or `2.1` for objects that may omit it.
    pub spec_version: String,
    /// Its strictest TLP marking, if it has one.
    pub tlp: Option<Tlp>,
    /// The organisations a TLP:RED object is for.
    pub recipients: Vec<OrgId>,
    /// Whether recipients see the exchange as its source.
    pub anonymous: bool,
    /// Whether this version revokes the object.
    pub revoked: bool,
    /// The object as JSON, exactly as it will be served to its publisher.
    pub json: String,
}

/// What happened to one version in [`crate::Store::add_versions`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddOutcome {
    /// Stored now, with this `date_added` (nanoseconds).
    Added {
        /// When it was added.
        date_added: i64,
    },
    /// Already stored with identical content; nothing changed.
    Duplicate {
        /// When it was first added.
        date_added: i64,
    },
    /// Refused, for this reason.
    Rejected(String),
}

/// A stored version of an object, with the facts the access policy reads.
#[derive(Debug, Clone)]
pub struct StoredVersion {
    /// Insertion order.
    pub seq: i64,
    /// The collection it is in.
    pub collection: GroupId,
    /// The object's id.
    pub object_id: String,
    /// The object's type.
    pub object_type: String,
    /// The version string.
    pub version: String,
    /// The version, in nanoseconds.
    pub version_nanos: i64,
    /// `spec_version`.
    pub spec_version: String,
    /// When it was added (nanoseconds).
    pub date_added: i64,
    /// The organisation that published it.
    pub publisher: OrgId,
    /// Its own strictest TLP marking.
    pub tlp: Option<Tlp>,
    /// Its marking after the collection's default applies.
    pub effective_tlp: Tlp,
    /// Recipients of a TLP:RED object.
    pub recipients: Vec<OrgId>,
    /// Whether it was published anonymously.
    pub anonymous: bool,
    /// Whether it revokes the object.
    pub revoked: bool,
    /// The object as stored.
    pub json: String,
}

/// What a caller may read, as the access policy describes it to the store.
///
/// The store turns this into SQL; `accord-server`'s access module decides what goes in it and
/// proves, by a randomised test, that the SQL returns exactly what its rules allow.
#[derive(Debug, Clone)]
pub struct ReadScope {
    /// The caller's organisation.
    pub org: OrgId,
    /// The groups whose GREEN, AMBER and AMBER+STRICT objects the caller reads.
    pub member_of: Vec<GroupId>,
}

/// Which versions of each object a query returns (TAXII `match[version]`).
#[derive(Debug, Clone, Default)]
pub struct VersionFilter {
    /// Every version.
    pub all: bool,
    /// The earliest version.
    pub first: bool,
    /// The latest version.
    pub last: bool,
    /// Versions with exactly these timestamps (nanoseconds).
    pub exact: Vec<i64>,
}

impl VersionFilter {
    /// Only the latest version: the TAXII default.
    pub fn last() -> Self {
        VersionFilter {
            last: true,
            ..Default::default()
        }
    }
    /// Every version.
    pub fn all() -> Self {
        VersionFilter {
            all: true,
            ..Default::default()
        }
    }
}

/// A query over one collection.
#[derive(Debug, Clone)]
pub struct ObjectQuery {
    /// The collection.
    pub collection: GroupId,
    /// What the caller may read.
    pub scope: ReadScope,
    /// `match[id]`; empty for any.
    pub ids: Vec<String>,
    /// `match[type]`; empty for any.
    pub types: Vec<String>,
    /// `match[spec_version]`; empty for any.
    pub spec_versions: Vec<String>,
    /// `match[version]`.
    pub versions: VersionFilter,
    /// `added_after`, in nanoseconds.
    pub added_after: Option<i64>,
    /// Continue after this `date_added` (a `next` token).
    pub after_date_added: Option<i64>,
    /// At most this many versions.
    pub limit: usize,
}

/// One page of a query.
#[derive(Debug, Clone)]
pub struct Page {
    /// The versions, in `date_added` order.
    pub items: Vec<StoredVersion>,
    /// Whether more match after the last one.
    pub more: bool,
}

/// A sighting about to be recorded: an organisation saw what an indicator describes.
#[derive(Debug, Clone)]
pub struct NewSighting {
    /// The indicator's id.
    pub indicator: String,
    /// The organisation that saw it.
    pub org: OrgId,
    /// How many times, at least 1.
    pub count: i64,
    /// When it was first seen.
    pub first_seen: accord_stix::Timestamp,
    /// When it was last seen; not before `first_seen`.
    pub last_seen: accord_stix::Timestamp,
    /// Where, in the sighter's words (empty when not given).
    pub where_seen: String,
    /// The observable as seen, e.g. `url:http://...` (empty when not given).
    pub observed: String,
}

/// A recorded sighting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    /// Its STIX id, `sighting--<uuid>`.
    pub id: String,
    /// The indicator's id.
    pub indicator: String,
    /// The organisation that saw it.
    pub org: OrgId,
    /// How many times.
    pub count: i64,
    /// When it was first seen.
    pub first_seen: accord_stix::Timestamp,
    /// When it was last seen.
    pub last_seen: accord_stix::Timestamp,
    /// Where, in the sighter's words.
    pub where_seen: String,
    /// The observable as seen.
    pub observed: String,
    /// When it was recorded (nanoseconds).
    pub recorded: i64,
}

/// Every sighting of one indicator, summed up without naming who saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SightingAggregate {
    /// The indicator's id.
    pub indicator: String,
    /// The sum of the sightings' counts.
    pub count: i64,
    /// How many sightings were recorded.
    pub sightings: i64,
    /// How many distinct organisations recorded them.
    pub organisations: i64,
    /// The earliest `first_seen` (nanoseconds).
    pub first_seen: i64,
    /// The latest `last_seen` (nanoseconds).
    pub last_seen: i64,
}

/// A value on a known-good list (an official election domain, a big CDN's address): matches
/// against it are false positives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownGoodEntry {
    /// Its id (a UUID).
    pub id: String,
    /// The organisation whose list it is on; `None` for the exchange-wide list.
    pub org: Option<OrgId>,
    /// The STIX cyber-observable type, e.g. `domain-name`.
    pub sco_type: String,
    /// The value, in canonical form.
    pub value: String,
    /// Why it is known to be good.
    pub note: String,
    /// When it was added (nanoseconds).
    pub added: i64,
}
