//! API keys and the authenticated-caller extractors.
//!
//! A key is 256 random bits, shown once when created; the store keeps only its SHA-256
//! (a full-entropy secret needs no slow hash). Clients send it as `Authorization: Bearer KEY`
//! or as the password of HTTP Basic (what TAXII clients do); the user name is ignored.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use std::fmt;

use crate::access::{Caller, Publisher};
use crate::{ApiError, AppState};

/// A freshly made API key. `Debug` does not print the secret.
pub struct NewKey {
    /// The key as the client sends it.
    pub secret: String,
    /// Its SHA-256, which the store keeps.
    pub hash: [u8; 32],
}

impl fmt::Debug for NewKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewKey { secret: <redacted>, .. }")
    }
}

/// Makes a new key: `acc_` and 43 base64url characters (256 bits).
pub fn new_key() -> NewKey {
    let raw: [u8; 32] = rand::random();
    let secret = format!("acc_{}", URL_SAFE_NO_PAD.encode(raw));
    NewKey {
        hash: hash_key(&secret),
        secret,
    }
}

/// The SHA-256 of a key.
pub fn hash_key(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// The key in an `Authorization` header, Bearer or Basic.
fn presented_key(parts: &Parts) -> Result<String, ApiError> {
    let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized(
            "send an API key as `Authorization: Bearer KEY` or as the HTTP Basic password",
        )
    })?;
    let header = header
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not ASCII"))?;
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" => Ok(rest.trim().to_owned()),
        "basic" => {
            let decoded = STANDARD
                .decode(rest.trim())
                .map_err(|_| ApiError::unauthorized("the Basic credentials are not base64"))?;
            let text = String::from_utf8(decoded)
                .map_err(|_| ApiError::unauthorized("the Basic credentials are not UTF-8"))?;
            let (_, password) = text
                .split_once(':')
                .ok_or_else(|| ApiError::unauthorized("the Basic credentials have no password"))?;
            Ok(password.to_owned())
        }
        _ => Err(ApiError::unauthorized(format!(
            "the Authorization scheme `{scheme}` is not supported; use Bearer or Basic"
        ))),
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = presented_key(parts)?;
        let hash = hash_key(&key);
        let principal = state
            .db(move |s| s.principal(&hash))
            .await?
            .ok_or_else(|| ApiError::unauthorized("the API key is unknown or revoked"))?;
        state.note_key_use(&principal.key);
        Ok(Caller::from_principal(principal))
    }
}

impl FromRequestParts<AppState> for Publisher {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if !caller.role.may_write() {
            return Err(ApiError::forbidden(format!(
                "this key has the `{}` role, which may not publish or delete",
                caller.role.as_str()
            )));
        }
        Ok(Publisher(caller))
    }
}
