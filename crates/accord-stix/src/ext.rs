//! The Accord sharing extension: TLP:RED recipients and anonymous publishing.
//!
//! STIX has no property for "who may read this TLP:RED object" or "hide my name from the
//! recipients", so Accord defines one property extension, published as an
//! `extension-definition` object ([`definition`]). A publisher adds it to an object:
//!
//! ```json
//! "extensions": {
//!   "extension-definition--c4226c79-7abd-4f40-8a53-c9dbabe9ff30": {
//!     "extension_type": "property-extension",
//!     "recipients": ["identity--..."],
//!     "anonymous": true
//!   }
//! }
//! ```
//!
//! `recipients` names the STIX identities of the member organisations that may read a
//! TLP:RED object; `anonymous` asks the exchange to show itself, not the publisher, as
//! `created_by_ref` to everyone but the publisher.

use serde_json::{Map, Value, json};

/// The id of the Accord sharing extension definition.
pub const SHARING_EXTENSION: &str = "extension-definition--c4226c79-7abd-4f40-8a53-c9dbabe9ff30";

/// The identity that authors the extension definition (the Accord project).
pub const ACCORD_PROJECT_IDENTITY: &str = "identity--5827f771-6663-4959-86c3-a0962a6d5474";

/// What the sharing extension on one object asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sharing {
    /// Identity ids of the organisations a TLP:RED object is for.
    pub recipients: Vec<String>,
    /// Whether recipients see the exchange, not the publisher, as the source.
    pub anonymous: bool,
}

/// Why the sharing extension on an object is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SharingError {
    /// The extension is present but not a JSON object.
    #[error("extensions.{SHARING_EXTENSION} must be an object")]
    NotObject,
    /// `recipients` is not a list of identity ids.
    #[error("extensions.{SHARING_EXTENSION}.recipients must be a list of identity ids")]
    Recipients,
    /// `anonymous` is not a boolean.
    #[error("extensions.{SHARING_EXTENSION}.anonymous must be true or false")]
    Anonymous,
}

/// Reads the sharing extension off an object; `Ok(None)` when it has none.
pub fn sharing(object: &Map<String, Value>) -> Result<Option<Sharing>, SharingError> {
    let Some(ext) = object
        .get("extensions")
        .and_then(Value::as_object)
        .and_then(|e| e.get(SHARING_EXTENSION))
    else {
        return Ok(None);
    };
    let ext = ext.as_object().ok_or(SharingError::NotObject)?;
    let recipients = match ext.get("recipients") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .filter(|s| s.starts_with("identity--") && crate::StixId::parse(s).is_ok())
                    .map(str::to_owned)
                    .ok_or(SharingError::Recipients)
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(SharingError::Recipients),
    };
    let anonymous = match ext.get("anonymous") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(SharingError::Anonymous),
    };
    Ok(Some(Sharing {
        recipients,
        anonymous,
    }))
}

/// Adds (or replaces) the sharing extension on an object.
pub fn set_sharing(object: &mut Map<String, Value>, sharing: &Sharing) {
    let extensions = object
        .entry("extensions")
        .or_insert_with(|| Value::Object(Map::new()));
    if !extensions.is_object() {
        *extensions = Value::Object(Map::new());
    }
    if let Value::Object(ext) = extensions {
        let mut body = json!({"extension_type": "property-extension"});
        if !sharing.recipients.is_empty() {
            body["recipients"] = json!(sharing.recipients);
        }
        if sharing.anonymous {
            body["anonymous"] = Value::Bool(true);
        }
        ext.insert(SHARING_EXTENSION.to_owned(), body);
    }
}

/// The `extension-definition` object that documents the sharing extension.
pub fn definition() -> Value {
    json!({
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": SHARING_EXTENSION,
        "created_by_ref": ACCORD_PROJECT_IDENTITY,
        "created": "2026-11-22T00:00:00.000Z",
        "modified": "2026-11-22T00:00:00.000Z",
        "name": "Accord sharing",
        "description": "Who may read a TLP:RED object (recipients: identity ids of member organisations) and whether the publisher is shown to them (anonymous).",
        "schema": "https://accord.invalid/extensions/sharing/v1",
        "version": "1.0.0",
        "extension_types": ["property-extension"]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut obj = Map::new();
        let want = Sharing {
            recipients: vec!["identity--5827f771-6663-4959-86c3-a0962a6d5474".into()],
            anonymous: true,
        };
        set_sharing(&mut obj, &want);
        assert_eq!(sharing(&obj).unwrap(), Some(want));
    }

    #[test]
    fn malformed() {
        let obj = json!({"extensions": {SHARING_EXTENSION: {"recipients": ["indicator--5827f771-6663-4959-86c3-a0962a6d5474"]}}});
        assert_eq!(
            sharing(obj.as_object().unwrap()),
            Err(SharingError::Recipients)
        );
        let obj = json!({"extensions": {SHARING_EXTENSION: {"anonymous": "yes"}}});
        assert_eq!(
            sharing(obj.as_object().unwrap()),
            Err(SharingError::Anonymous)
        );
        assert_eq!(sharing(&Map::new()), Ok(None));
    }
}
