//! `POST /v1/match`: bulk matching of observables against every indicator the caller may
//! read, streamed back as JSON lines.
//!
//! The body is either lines (`text/plain`, `application/x-ndjson`, `application/jsonl`: one
//! observable a line, as [`accord_match::input`] reads them), or `application/json`: a STIX
//! bundle whose observed-data are matched together. The query parameter `seen` (a STIX timestamp, default now) says when the
//! observables were seen, for patterns with `START`/`STOP`.
//!
//! The response is `application/x-ndjson`: one line per hit (`indicator`, `clause`,
//! `collection`, `marking`, `source`…), per hit suppressed by a known-good entry (the same,
//! with `suppressed`), per refused input line (`line`, `error`), and a last `summary` line.
//! Lines are produced on a blocking thread in chunks and sent as they are ready.
//!
//! `/v1/known-good` manages the caller's organisation's known-good list (`GET` also shows
//! the exchange's, which only `accord admin known-good --exchange` changes): `POST`
//! `{"observable": "type:value", "note": "…"}` by a role that may write, `DELETE
//! /v1/known-good/{id}`. An organisation never sees or changes another's list.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use accord_match::known_good::KnownGood;
use accord_stix::Timestamp;
use accord_store::OrgId;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::access::{self, Caller, Publisher};
use crate::error::read_body;
use crate::matching::{Listed, Matching};
use crate::sightings::{check_json, json_response};
use crate::{ApiError, AppState};

/// Input lines matched per hold of the index's read lock (and per chunk sent).
const CHUNK_LINES: usize = 2_000;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/match", post(post_match))
        .route("/v1/known-good", get(list_known_good).post(add_known_good))
        .route("/v1/known-good/{id}", delete(remove_known_good))
}

/// Largest body of `POST /v1/known-good`.
const KNOWN_GOOD_BODY: usize = 16 * 1024;

fn known_good_json(e: &accord_store::KnownGoodEntry) -> Value {
    json!({
        "id": e.id,
        "observable": format!("{}:{}", e.sco_type, e.value),
        "note": e.note,
        "added": accord_stix::time::format_nanos(e.added, 3),
    })
}

/// `GET /v1/known-good`: the caller's organisation's list, and the exchange's (read only).
async fn list_known_good(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let org = caller.org.id;
    let (own, exchange) = state
        .db(move |s| Ok((s.known_good(Some(org))?, s.known_good(None)?)))
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "organisation": own.iter().map(known_good_json).collect::<Vec<_>>(),
            "exchange": exchange.iter().map(known_good_json).collect::<Vec<_>>(),
        }),
    ))
}

/// `POST /v1/known-good` `{"observable": "type:value", "note": "…"}`: adds to the caller's
/// organisation's list (a role that may write).
async fn add_known_good(
    State(state): State<AppState>,
    publisher: Publisher,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_json(&headers)?;
    let bytes = read_body(
        body,
        KNOWN_GOOD_BODY,
        "a known-good entry is one small JSON object",
    )
    .await?;
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
    let Some(map) = v.as_object() else {
        return Err(ApiError::bad_request(
            "the body must be {\"observable\": \"type:value\", \"note\": \"…\"}",
        ));
    };
    if let Some(k) = map
        .keys()
        .find(|k| !matches!(k.as_str(), "observable" | "note"))
    {
        return Err(ApiError::bad_request(format!(
            "{k}: not a field of a known-good entry (observable, note)"
        )));
    }
    let text = map
        .get("observable")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            ApiError::bad_request(
                "observable: required, a string such as \"domain-name:example.com\"",
            )
        })?;
    let note = match map.get("note") {
        None => String::new(),
        Some(Value::String(n)) if n.chars().count() <= 1024 => n.clone(),
        Some(_) => {
            return Err(ApiError::bad_request(
                "note: a string of at most 1024 characters",
            ));
        }
    };
    let obs = accord_match::normalize::parse_observable(text)
        .map_err(|e| ApiError::bad_request(format!("observable: {e}")))?;
    let canonical = obs.to_string();
    let org = publisher.0.org.id;
    let now = state.clock.now_nanos();
    let entry = state
        .db(move |s| {
            let (kind, value) = canonical.split_once(':').unwrap_or((&canonical, ""));
            s.add_known_good(Some(org), kind, value, &note, now)
        })
        .await?;
    Ok(json_response(StatusCode::CREATED, &known_good_json(&entry)))
}

/// `DELETE /v1/known-good/{id}`: removes an entry from the caller's organisation's list; an
/// entry of another list is a 404, as a missing one.
async fn remove_known_good(
    State(state): State<AppState>,
    publisher: Publisher,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let org = publisher.0.org.id;
    let removed = state
        .db(move |s| s.remove_known_good(Some(org), &id))
        .await?;
    if removed {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(
            "no entry with that id on your organisation's known-good list",
        ))
    }
}

/// A receiver of body chunks as a stream.
struct Chunks(mpsc::Receiver<Bytes>);

impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|b| b.map(Ok))
    }
}

enum Input {
    Lines(Bytes),
    Bundle(Vec<Value>),
}

fn read_input(headers: &HeaderMap, bytes: Bytes, max_objects: usize) -> Result<Input, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("text/plain")
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match ct.as_str() {
        "application/json" | "application/stix+json" | "application/taxii+json" => {
            accord_stix::bundle::objects_at_most(&bytes, max_objects)
                .map(Input::Bundle)
                .map_err(|e| ApiError::bad_request(e.to_string()))
        }
        "text/plain"
        | "application/x-ndjson"
        | "application/jsonl"
        | "application/jsonlines"
        | "application/octet-stream" => Ok(Input::Lines(bytes)),
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type",
            format!(
                "`{other}` is not read here; send text/plain or application/x-ndjson (one observable a line) or application/json (a STIX bundle of observed-data)"
            ),
        )),
    }
}

fn seen_param(raw: Option<&str>, now: Timestamp) -> Result<Timestamp, ApiError> {
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if k == "seen" {
            return Timestamp::parse(&v)
                .map_err(|e| ApiError::bad_request(format!("query parameter `seen`: {e}")));
        }
    }
    Ok(now)
}

async fn post_match(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Body,
) -> Result<Response, ApiError> {
    let limit = state.config.max_body_bytes;
    let bytes = read_body(body, limit, "send fewer observables per request").await?;
    let input = read_input(&headers, bytes, state.config.max_objects)?;
    let seen = seen_param(raw.as_deref(), state.clock.now())?;
    let now = state.clock.now().nanos();
    let org = caller.org.id;
    let (lists, publishers) = state
        .db(move |s| {
            let orgs = s.orgs()?;
            Ok(((s.known_good(None)?, s.known_good(Some(org))?), orgs))
        })
        .await?;
    let publishers: HashMap<OrgId, (String, String)> = publishers
        .into_iter()
        .map(|o| (o.id, (o.identity, o.name)))
        .collect();
    let known_good = known_good_of(lists);
    state.expire_indicators(now).await;

    let (tx, rx) = mpsc::channel::<Bytes>(4);
    let live = state.live.clone();
    let exchange = state.exchange_identity.clone();
    tokio::task::spawn_blocking(move || {
        let scope = access::read_scope(&caller);
        let visible = |m: &crate::matching::Meta| access::may_read_indicator(&scope, m);
        let mut counts = Default::default();
        let send = |chunk: Vec<u8>| -> bool {
            chunk.is_empty() || tx.blocking_send(Bytes::from(chunk)).is_ok()
        };
        let mut run = |f: &mut dyn FnMut(&mut Matching<'_>, &mut Vec<u8>)| -> Vec<u8> {
            let guard = live
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut m = Matching {
                index: guard.index(),
                visible: &visible,
                known_good: &known_good,
                seen: seen.clone(),
                now,
                caller: Some(caller.org.id),
                exchange_identity: &exchange,
                publishers: &publishers,
                counts,
            };
            let mut out = Vec::new();
            f(&mut m, &mut out);
            counts = m.counts;
            out
        };
        match input {
            Input::Lines(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                let mut lines = text.lines().enumerate().peekable();
                while lines.peek().is_some() {
                    let chunk: Vec<(usize, &str)> = lines.by_ref().take(CHUNK_LINES).collect();
                    let out = run(&mut |m, out| {
                        for (i, line) in &chunk {
                            m.line(out, i + 1, line);
                        }
                    });
                    if !send(out) {
                        return;
                    }
                }
            }
            Input::Bundle(objects) => {
                let out = run(&mut |m, out| m.bundle(out, &objects));
                if !send(out) {
                    return;
                }
            }
        }
        let out = run(&mut |m, out| m.summary(out));
        send(out);
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from_stream(Chunks(rx)))
        .map_err(ApiError::internal)
}

/// The caller's known-good lists as one: the exchange's entries, then the organisation's
/// (which win where both list a value).
fn known_good_of(
    (exchange, own): (
        Vec<accord_store::KnownGoodEntry>,
        Vec<accord_store::KnownGoodEntry>,
    ),
) -> KnownGood<Listed> {
    let mut kg = KnownGood::new();
    for (list, entries) in [("exchange", exchange), ("organisation", own)] {
        for e in entries {
            match accord_match::normalize::parse_observable(&format!("{}:{}", e.sco_type, e.value))
            {
                Ok(obs) => kg.insert(&obs, Listed { list, note: e.note }),
                Err(err) => tracing::warn!(error = %err, id = %e.id, "known-good entry not usable"),
            }
        }
    }
    kg
}
