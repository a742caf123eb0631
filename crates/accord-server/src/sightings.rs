//! Sightings: members tell an indicator's publisher "we saw this too", and how often, when and
//! where.
//!
//! - `POST /v1/sightings` records one sighting for the caller's organisation and answers with
//!   it as a STIX 2.1 `sighting`.
//! - `GET /v1/sightings?indicator=ID` gives the caller its own organisation's sightings of the
//!   indicator and, when the caller's organisation published it, the aggregate over every
//!   organisation's (sums, counts, first and last seen), which names no sighter.
//! - `GET /v1/sightings` lists the aggregates of the caller's organisation's sighted indicators.
//!
//! Who sees what is [`access::may_sight`] and [`access::sees_sighting_aggregate`]: an indicator
//! the caller may not read is answered exactly as one that does not exist, so that sightings
//! are no way to learn what exists. Sightings are not TAXII objects: they live in their own
//! table and leave only through these endpoints.

use axum::Router;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use accord_stix::{StixId, Timestamp, time::format_nanos};
use accord_store::{NewSighting, Sighting, SightingAggregate, StoredVersion};

use crate::access::{self, Caller, Publisher};
use crate::error::read_body;
use crate::{ApiError, AppState};

/// The id of the Accord sighting extension, which carries what STIX's `sighting` has no
/// property for: where the sighter saw it, in its own words, and the observable as seen.
pub const SIGHTING_EXTENSION: &str = "extension-definition--15ae2a50-c75c-45fa-8f7f-873fff1792af";

/// The most characters `where` may have.
const MAX_WHERE_CHARS: usize = 256;
/// The most bytes `observed` may have.
const MAX_OBSERVED_BYTES: usize = 8192;
/// The largest `count`, as STIX allows.
const MAX_COUNT: i64 = 999_999_999;
/// The largest request body.
const MAX_BODY_BYTES: usize = 64 * 1024;
/// How far ahead of the server's clock `last_seen` may be (clocks differ).
const FUTURE_TOLERANCE_NANOS: i64 = 5 * 60 * 1_000_000_000;
/// The most sightings or aggregates one response lists.
const MAX_LISTED: usize = 1000;

/// The answer to an indicator the caller may not read, and to one that does not exist.
const NOT_FOUND: &str = "no indicator with that id is visible to you";

pub(crate) fn routes() -> Router<AppState> {
    let m = || {
        get(list_sightings)
            .post(post_sighting)
            .fallback(|| async { method_not_allowed() })
    };
    Router::new()
        .route("/v1/sightings", m())
        .route("/v1/sightings/", m())
}

fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed",
        "/v1/sightings takes GET and POST",
    )
}

/// The `extension-definition` object that documents the sighting extension.
pub fn extension_definition() -> Value {
    json!({
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": SIGHTING_EXTENSION,
        "created_by_ref": accord_stix::ext::ACCORD_PROJECT_IDENTITY,
        "created": "2026-11-25T00:00:00.000Z",
        "modified": "2026-11-25T00:00:00.000Z",
        "name": "Accord sighting",
        "description": "Where the sighter saw the indicated activity, in its own words (where), and the observable as it was seen (observed).",
        "schema": "https://accord.invalid/extensions/sighting/v1",
        "version": "1.0.0",
        "extension_types": ["property-extension"]
    })
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// A time in nanoseconds as a STIX timestamp, with as many fractional digits as it needs
/// (at least milliseconds).
fn stix_time(nanos: i64) -> String {
    let digits = if nanos % 1_000_000 == 0 {
        3
    } else if nanos % 1000 == 0 {
        6
    } else {
        9
    };
    format_nanos(nanos, digits)
}

/// A recorded sighting as a STIX 2.1 `sighting`, shown to the organisation that made it,
/// whose identity is `sighter`.
fn sighting_object(s: &Sighting, sighter: &str) -> Value {
    let created = stix_time(s.recorded / 1_000_000 * 1_000_000);
    let mut obj = json!({
        "type": "sighting",
        "spec_version": "2.1",
        "id": s.id,
        "created": created,
        "modified": created,
        "created_by_ref": sighter,
        "sighting_of_ref": s.indicator,
        "count": s.count,
        "first_seen": s.first_seen.as_str(),
        "last_seen": s.last_seen.as_str(),
        "where_sighted_refs": [sighter],
    });
    let mut ext = Map::new();
    if !s.where_seen.is_empty() {
        ext.insert("where".into(), Value::String(s.where_seen.clone()));
    }
    if !s.observed.is_empty() {
        ext.insert("observed".into(), Value::String(s.observed.clone()));
    }
    if !ext.is_empty() {
        ext.insert(
            "extension_type".into(),
            Value::String("property-extension".into()),
        );
        obj["extensions"] = json!({ SIGHTING_EXTENSION: ext });
    }
    obj
}

/// The aggregate of an indicator's sightings, naming no sighter.
fn aggregate_json(indicator: &str, a: Option<&SightingAggregate>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("indicator".into(), Value::String(indicator.to_owned()));
    m.insert("count".into(), json!(a.map_or(0, |a| a.count)));
    m.insert("sightings".into(), json!(a.map_or(0, |a| a.sightings)));
    m.insert(
        "organisations".into(),
        json!(a.map_or(0, |a| a.organisations)),
    );
    if let Some(a) = a {
        m.insert("first_seen".into(), Value::String(stix_time(a.first_seen)));
        m.insert("last_seen".into(), Value::String(stix_time(a.last_seen)));
    }
    m
}

/// An indicator id from the request, or a 400 naming `field`.
fn indicator_id(field: &str, v: &str) -> Result<String, ApiError> {
    let id = StixId::parse(v).map_err(|e| ApiError::bad_request(format!("{field}: {e}")))?;
    if id.object_type() != "indicator" {
        return Err(ApiError::bad_request(format!(
            "{field}: `{v}` is not an indicator id (indicator--<uuid>)"
        )));
    }
    Ok(id.as_str().to_owned())
}

/// The latest version of the indicator in each collection, if the caller may sight it;
/// otherwise the same 404 as for an indicator that does not exist.
async fn sightable(
    state: &AppState,
    caller: &Caller,
    indicator: &str,
) -> Result<Vec<StoredVersion>, ApiError> {
    let id = indicator.to_owned();
    let current = state.db(move |s| s.current_versions(&id)).await?;
    if access::may_sight(caller, &current) {
        Ok(current)
    } else {
        Err(ApiError::not_found(NOT_FOUND))
    }
}

/// A time field of the request body.
fn time_field(body: &Map<String, Value>, field: &str) -> Result<Option<Timestamp>, ApiError> {
    let v = match body.get(field) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s,
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "{field}: must be a STIX timestamp string such as 2026-11-01T12:00:00Z"
            )));
        }
    };
    let t = Timestamp::parse(v).map_err(|e| ApiError::bad_request(format!("{field}: {e}")))?;
    if t.nanos_i64().is_none() {
        return Err(ApiError::bad_request(format!(
            "{field}: {v} is outside the years 1678-2261 this exchange stores"
        )));
    }
    Ok(Some(t))
}

/// A text field of the request body, empty when absent.
fn text_field<'a>(body: &'a Map<String, Value>, field: &str) -> Result<&'a str, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(ApiError::bad_request(format!("{field}: must be a string"))),
    }
}

const FIELDS: [&str; 6] = [
    "indicator",
    "count",
    "first_seen",
    "last_seen",
    "where",
    "observed",
];

/// The sighting a request body describes, checked; `now` fills in `last_seen`.
fn parse_sighting(bytes: &[u8], publisher: &Publisher, now: i64) -> Result<NewSighting, ApiError> {
    let body: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
    let Value::Object(body) = body else {
        return Err(ApiError::bad_request(
            "the body must be a JSON object with at least `indicator`",
        ));
    };
    if let Some(unknown) = body.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!(
            "`{unknown}` is not a sighting field (indicator, count, first_seen, last_seen, where, observed)"
        )));
    }
    let indicator = match body.get("indicator") {
        Some(Value::String(s)) => indicator_id("indicator", s)?,
        None | Some(Value::Null) => {
            return Err(ApiError::bad_request(
                "indicator: required; the id of the indicator sighted (indicator--<uuid>)",
            ));
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "indicator: must be an indicator id string (indicator--<uuid>)",
            ));
        }
    };
    let count = match body.get("count") {
        None | Some(Value::Null) => 1,
        Some(v) => v
            .as_i64()
            .filter(|n| (1..=MAX_COUNT).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "count: must be a whole number from 1 to {MAX_COUNT}, not {v}"
                ))
            })?,
    };
    let last_seen = match time_field(&body, "last_seen")? {
        Some(t) => t,
        None => {
            Timestamp::parse(&stix_time(now / 1_000_000 * 1_000_000)).map_err(ApiError::internal)?
        }
    };
    if last_seen.nanos_clamped() > now.saturating_add(FUTURE_TOLERANCE_NANOS) {
        return Err(ApiError::bad_request(format!(
            "last_seen: {} is in the future (the exchange's clock reads {})",
            last_seen.as_str(),
            stix_time(now / 1000 * 1000)
        )));
    }
    let first_seen = time_field(&body, "first_seen")?.unwrap_or_else(|| last_seen.clone());
    if first_seen > last_seen {
        return Err(ApiError::bad_request(format!(
            "first_seen: {} is later than last_seen {}; first_seen must not be after last_seen",
            first_seen.as_str(),
            last_seen.as_str()
        )));
    }
    let where_seen = text_field(&body, "where")?;
    let chars = where_seen.chars().count();
    if chars > MAX_WHERE_CHARS {
        return Err(ApiError::bad_request(format!(
            "where: {chars} characters; at most {MAX_WHERE_CHARS}"
        )));
    }
    let observed = text_field(&body, "observed")?;
    if observed.len() > MAX_OBSERVED_BYTES {
        return Err(ApiError::bad_request(format!(
            "observed: {} bytes; at most {MAX_OBSERVED_BYTES}",
            observed.len()
        )));
    }
    Ok(NewSighting {
        indicator,
        org: publisher.0.org.id,
        count,
        first_seen,
        last_seen,
        where_seen: where_seen.to_owned(),
        observed: observed.to_owned(),
    })
}

/// 415 unless the body is JSON.
pub(crate) fn check_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime == "application/json" || mime.ends_with("+json") {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            format!("send the sighting as application/json, not `{ct}`"),
        ))
    }
}

async fn post_sighting(
    State(state): State<AppState>,
    publisher: Publisher,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_json(&headers)?;
    let bytes = read_body(body, MAX_BODY_BYTES, "a sighting is one small JSON object").await?;
    let now = state.clock.now_nanos();
    // The body is checked in full before the indicator is looked up, so that a refusal says
    // nothing about whether it exists.
    let new = parse_sighting(&bytes, &publisher, now)?;
    sightable(&state, &publisher.0, &new.indicator).await?;
    let recorded = state.db(move |s| s.add_sighting(new, now)).await?;
    Ok(json_response(
        StatusCode::CREATED,
        &sighting_object(&recorded, &publisher.0.org.identity),
    ))
}

async fn list_sightings(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let mut indicator = None;
    for (k, v) in form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "indicator" if indicator.is_none() => indicator = Some(indicator_id("indicator", &v)?),
            "indicator" => {
                return Err(ApiError::bad_request(
                    "indicator: give one indicator per request",
                ));
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "`{other}` is not a parameter of /v1/sightings (indicator)"
                )));
            }
        }
    }
    match indicator {
        Some(id) => one_indicator(&state, &caller, id).await,
        None => published(&state, &caller).await,
    }
}

/// `GET /v1/sightings?indicator=ID`.
async fn one_indicator(
    state: &AppState,
    caller: &Caller,
    id: String,
) -> Result<Response, ApiError> {
    let current = sightable(state, caller, &id).await?;
    let org = caller.org.id;
    let lookup = id.clone();
    let mut own = state
        .db(move |s| s.sightings_by(&lookup, org, MAX_LISTED + 1))
        .await?;
    let more = own.len() > MAX_LISTED;
    own.truncate(MAX_LISTED);
    let mut body = if access::sees_sighting_aggregate(caller, &current) {
        let lookup = id.clone();
        let agg = state.db(move |s| s.sighting_aggregate(&lookup)).await?;
        aggregate_json(&id, agg.as_ref())
    } else {
        let mut m = Map::new();
        m.insert("indicator".into(), Value::String(id));
        m
    };
    body.insert(
        "own".into(),
        own.iter()
            .map(|s| sighting_object(s, &caller.org.identity))
            .collect(),
    );
    if more {
        body.insert("own_more".into(), Value::Bool(true));
    }
    Ok(json_response(StatusCode::OK, &Value::Object(body)))
}

/// `GET /v1/sightings`: the aggregates of the caller's organisation's sighted indicators.
async fn published(state: &AppState, caller: &Caller) -> Result<Response, ApiError> {
    let publisher = access::sighting_aggregates_of(caller);
    let mut list = state
        .db(move |s| s.sighting_aggregates(publisher, MAX_LISTED + 1))
        .await?;
    let more = list.len() > MAX_LISTED;
    list.truncate(MAX_LISTED);
    let indicators: Vec<Value> = list
        .iter()
        .map(|a| Value::Object(aggregate_json(&a.indicator, Some(a))))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "indicators": indicators, "more": more }),
    ))
}
