//! STIX 2.1 for Accord: identifiers, timestamps, validation, TLP markings and bundles.
//!
//! Objects travel through the exchange as JSON maps (`serde_json::Map`), never as lossy
//! structs: whatever a publisher sends — custom `x-` objects, custom properties,
//! extensions — comes back out unchanged. The typed model in [`model`] is a view over that
//! JSON for code that builds or reads well-known objects. Validation ([`validate`]) enforces
//! the specification's MUST rules and reports every violation with the object, the property
//! and the rule.
//!
//! This crate knows nothing of storage, HTTP or who may read what.

pub mod bundle;
pub mod ext;
pub mod id;
pub mod model;
pub mod time;
pub mod tlp;
pub mod validate;

pub use id::StixId;
pub use model::{ModelError, Object};
pub use time::{Clock, ManualClock, SystemClock, Timestamp};
pub use tlp::Tlp;
pub use validate::{Violation, validate};

/// The version of an object for TAXII: `modified`, else `created`; `None` for objects with
/// neither (most SCOs), whose version is their `date_added`.
pub fn version_of(object: &serde_json::Map<String, serde_json::Value>) -> Option<&str> {
    object
        .get("modified")
        .or_else(|| object.get("created"))
        .and_then(serde_json::Value::as_str)
}
