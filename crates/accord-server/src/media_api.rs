//! `POST /v1/media/hash` and `POST /v1/media/match`: PDQ hashes of uploaded images, and the
//! shared hashes within a distance of one, among those the caller may read.
//!
//! A PDQ hash is shared as an indicator whose pattern names it:
//! `[file:hashes.PDQ = '<64 hex digits>']` (several with `OR` or `IN`). The live index
//! ([`crate::matching::Live::media`]) holds every such hash of every current indicator.
//!
//! - `/v1/media/hash` takes an image (JPEG, PNG, GIF, WebP, BMP, TIFF; any `image/*` or
//!   `application/octet-stream` body) and answers `{"hash", "quality", "width", "height"}`.
//! - `/v1/media/match` takes an image the same way, or `application/json`
//!   `{"hash": "<64 hex>"}`; query parameters `threshold` (Hamming distance, default 31,
//!   at most 256) and `quality_floor` (default 50: an uploaded image hashing below it is
//!   refused with 422, as its hash would match too much). It answers the query hash, its
//!   quality (for an image) and `matches`: indicator, distance, the shared hash, collection,
//!   marking and source, nearest first, each one the caller may read.

use accord_media::decode::{self, Limits, Orientation};
use accord_media::pdq::{self, PdqHash};
use axum::Router;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use serde_json::{Value, json};

use crate::access::{self, Caller};
use crate::error::read_body;
use crate::sightings::json_response;
use crate::{ApiError, AppState};

/// Default largest distance reported.
pub const DEFAULT_THRESHOLD: u32 = 31;
/// Default lowest quality of an uploaded image's hash.
pub const DEFAULT_QUALITY_FLOOR: u8 = 50;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/media/hash", post(post_hash))
        .route("/v1/media/match", post(post_match))
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn is_image_body(ct: &str) -> bool {
    ct.starts_with("image/") || ct == "application/octet-stream" || ct.is_empty()
}

/// Decodes and hashes an uploaded image off the async workers.
async fn hash_upload(
    bytes: axum::body::Bytes,
    limit: usize,
) -> Result<(pdq::Hashed, u32, u32), ApiError> {
    let limits = Limits {
        max_bytes: limit,
        ..Limits::default()
    };
    tokio::task::spawn_blocking(move || {
        let rgb = decode::decode(&bytes, &limits, Orientation::Ignore)
            .map_err(|e| ApiError::bad_request(format!("the image: {e}")))?;
        let hashed = pdq::hash_rgb(rgb.width, rgb.height, &rgb.pixels)
            .map_err(|e| ApiError::bad_request(format!("the image: {e}")))?;
        Ok((hashed, rgb.width, rgb.height))
    })
    .await
    .map_err(ApiError::internal)?
}

async fn post_hash(
    State(state): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let ct = content_type(&headers);
    if !is_image_body(&ct) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type",
            format!("send the image itself (image/* or application/octet-stream), not `{ct}`"),
        ));
    }
    let limit = state.config.max_body_bytes;
    let bytes = read_body(body, limit, "send a smaller image").await?;
    let (hashed, width, height) = hash_upload(bytes, limit).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"hash": hashed.hash.to_string(), "quality": hashed.quality, "width": width, "height": height}),
    ))
}

fn params(raw: Option<&str>) -> Result<(u32, u8), ApiError> {
    let mut threshold = DEFAULT_THRESHOLD;
    let mut floor = DEFAULT_QUALITY_FLOOR;
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "threshold" => {
                threshold = v.parse().ok().filter(|t| *t <= 256).ok_or_else(|| {
                    ApiError::bad_request("threshold: a whole number of bits from 0 to 256")
                })?;
            }
            "quality_floor" => {
                floor = v.parse().ok().filter(|q| *q <= 100).ok_or_else(|| {
                    ApiError::bad_request("quality_floor: a whole number from 0 to 100")
                })?;
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "{other}: not a parameter of /v1/media/match (threshold, quality_floor)"
                )));
            }
        }
    }
    Ok((threshold, floor))
}

async fn post_match(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Body,
) -> Result<Response, ApiError> {
    let (threshold, floor) = params(raw.as_deref())?;
    let ct = content_type(&headers);
    let limit = state.config.max_body_bytes;
    let bytes = read_body(body, limit, "send a smaller image, or its hash as JSON").await?;
    let (query, quality) = if ct == "application/json" || ct.ends_with("+json") {
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
        let hash = v
            .get("hash")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::bad_request("hash: required, 64 hex digits"))?;
        let hash: PdqHash = hash
            .parse()
            .map_err(|e| ApiError::bad_request(format!("hash: {e}")))?;
        (hash, None)
    } else if is_image_body(&ct) {
        let (hashed, _, _) = hash_upload(bytes, limit).await?;
        if hashed.quality < floor {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Image too flat",
                format!(
                    "the image hashes with quality {} (below the quality_floor of {floor}): its hash would match unrelated images",
                    hashed.quality
                ),
            ));
        }
        (hashed.hash, Some(hashed.quality))
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type",
            format!("send an image (image/*), or application/json {{\"hash\": \"…\"}}, not `{ct}`"),
        ));
    };
    let now = state.clock.now().nanos();
    let org = caller.org.id;
    let orgs = state.db(|s| s.orgs()).await?;
    let live = state.live.clone();
    let exchange = state.exchange_identity.clone();
    let matches = tokio::task::spawn_blocking(move || {
        let scope = access::read_scope(&caller);
        let live = live
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let media = live.media();
        let mut out = Vec::new();
        for m in media.query(&query.0, threshold) {
            let Some((hash, meta)) = media.get(m.id) else {
                continue;
            };
            if meta.valid_until.is_some_and(|t| t <= now)
                || !access::may_read_indicator(&scope, meta)
            {
                continue;
            }
            let mut line = json!({
                "indicator": meta.id,
                "distance": m.distance,
                "hash": PdqHash(*hash).to_string(),
                "marking": format!("TLP:{}", meta.tlp.name().to_ascii_uppercase()),
            });
            if let Some(n) = &meta.name {
                line["name"] = json!(n);
            }
            if let Some(c) = &meta.collection {
                line["collection"] = json!(c.0);
            }
            if meta.anonymous && meta.publisher != Some(org) {
                line["source"] = json!(&*exchange);
                line["source_name"] = json!("the exchange");
            } else if let Some(o) = orgs.iter().find(|o| Some(o.id) == meta.publisher) {
                line["source"] = json!(o.identity);
                line["source_name"] = json!(o.name);
            }
            out.push(line);
        }
        out
    })
    .await
    .map_err(ApiError::internal)?;
    let mut body = json!({"hash": query.to_string(), "threshold": threshold, "matches": matches});
    if let Some(q) = quality {
        body["quality"] = json!(q);
    }
    Ok(json_response(StatusCode::OK, &body))
}
