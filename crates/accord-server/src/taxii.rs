//! The TAXII 2.1 server side: discovery, API root, status, collections, manifest, objects,
//! one object, versions.
//!
//! Every collection is a trust group. Every authenticated member sees every collection
//! (TLP:CLEAR objects in any of them are for everyone); `can_write` reflects its group
//! rights, and what each read returns is cut to what [`crate::access`] allows.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Value, json, value::RawValue};
use sha2::{Digest, Sha256};

use accord_stix::{Timestamp, time::format_nanos};
use accord_store::{GroupId, ObjectQuery, Page, VersionFilter};

use crate::access::{self, Caller, Publisher};
use crate::error::read_body;
use crate::ingest;
use crate::{API_ROOT_PATH, ApiError, AppState, DISCOVERY_PATH, STIX_MEDIA_TYPE, TAXII_MEDIA_TYPE};

pub(crate) fn routes() -> Router<AppState> {
    let root = API_ROOT_PATH.trim_end_matches('/');
    let mut r = Router::new();
    let mut both = |path: String, m: MethodRouter<AppState>| {
        r = std::mem::take(&mut r)
            .route(&format!("{path}/"), m.clone())
            .route(&path, m);
    };
    both(DISCOVERY_PATH.trim_end_matches('/').into(), get(discovery));
    both(root.into(), get(api_root));
    both(format!("{root}/status/{{status_id}}"), get(status));
    both(format!("{root}/collections"), get(collections));
    both(format!("{root}/collections/{{cid}}"), get(collection));
    both(
        format!("{root}/collections/{{cid}}/manifest"),
        get(manifest),
    );
    both(
        format!("{root}/collections/{{cid}}/objects"),
        get(get_objects).post(post_objects),
    );
    both(
        format!("{root}/collections/{{cid}}/objects/{{oid}}"),
        get(get_object).delete(delete_object),
    );
    both(
        format!("{root}/collections/{{cid}}/objects/{{oid}}/versions"),
        get(versions),
    );
    r.fallback(|| async {
        ApiError::not_found("no TAXII resource at this path; discovery is at /taxii2/")
    })
    .method_not_allowed_fallback(|| async {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed",
            "this TAXII resource does not take that method (objects: GET, POST; object: GET, DELETE; others: GET)",
        )
    })
}

// ---------------------------------------------------------------------------------------
// Content negotiation.

/// 406 unless the client accepts TAXII 2.1 JSON (or any JSON, or anything).
fn check_accept(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(accept) = headers.get(header::ACCEPT) else {
        return Ok(());
    };
    let accept = accept.to_str().unwrap_or("");
    let ok = accept.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let mime = parts.next().unwrap_or("").to_ascii_lowercase();
        let version_ok = parts.all(|p| {
            let p = p.to_ascii_lowercase();
            !p.starts_with("version=") || p == "version=2.1"
        });
        version_ok
            && matches!(
                mime.as_str(),
                "application/taxii+json" | "application/json" | "*/*" | "application/*"
            )
    });
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "Not acceptable",
            format!(
                "this server answers with {TAXII_MEDIA_TYPE}; the Accept header `{accept}` does not allow it"
            ),
        ))
    }
}

/// 415 unless the body is TAXII 2.1 JSON (plain JSON is accepted too).
fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut parts = ct.split(';').map(str::trim);
    let mime = parts.next().unwrap_or("").to_ascii_lowercase();
    let version_ok = parts.all(|p| {
        let p = p.to_ascii_lowercase();
        !p.starts_with("version=") || p == "version=2.1"
    });
    if version_ok && matches!(mime.as_str(), "application/taxii+json" | "application/json") {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            format!("send the body as {TAXII_MEDIA_TYPE}, not `{ct}`"),
        ))
    }
}

fn taxii_json(status: StatusCode, body: String, extra: &[(&'static str, String)]) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(TAXII_MEDIA_TYPE),
    );
    for (name, value) in extra {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(*name, v);
        }
    }
    resp
}

fn ok_json(body: &impl Serialize) -> Result<Response, ApiError> {
    let text = serde_json::to_string(body).map_err(ApiError::internal)?;
    Ok(taxii_json(StatusCode::OK, text, &[]))
}

// ---------------------------------------------------------------------------------------
// Query parameters.

/// The TAXII filter parameters of one request.
#[derive(Debug, Default)]
struct Params {
    ids: Vec<String>,
    types: Vec<String>,
    versions: Option<VersionFilter>,
    spec_versions: Vec<String>,
    added_after: Option<i64>,
    limit: Option<usize>,
    next: Option<String>,
    /// The filter parameters in a canonical form, for the `next` token's fingerprint.
    canonical: Vec<(String, String)>,
}

/// The most failures a status resource lists (it counts them all).
const MAX_LISTED_FAILURES: usize = 1000;

/// The most values one `match[...]` filter may list.
const MAX_FILTER_VALUES: usize = 1000;

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_params(raw: Option<&str>) -> Result<Params, ApiError> {
    let mut p = Params::default();
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let (k, v) = (k.into_owned(), v.into_owned());
        match k.as_str() {
            "match[id]" => p.ids.extend(list(&v)),
            "match[type]" => p.types.extend(list(&v)),
            "match[spec_version]" => p.spec_versions.extend(list(&v)),
            "match[version]" => {
                let f = p.versions.get_or_insert_with(VersionFilter::default);
                for item in list(&v) {
                    match item.as_str() {
                        "all" => f.all = true,
                        "first" => f.first = true,
                        "last" => f.last = true,
                        ts => f.exact.push(
                            Timestamp::parse(ts)
                                .map_err(|e| {
                                    ApiError::bad_request(format!(
                                        "match[version]: {e}; use first, last, all or timestamps"
                                    ))
                                })?
                                .nanos_clamped(),
                        ),
                    }
                }
            }
            "added_after" => {
                let t = Timestamp::parse(&v)
                    .map_err(|e| ApiError::bad_request(format!("added_after: {e}")))?;
                p.added_after = Some(t.nanos_clamped());
            }
            "limit" => {
                let n: usize = v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    ApiError::bad_request(format!("limit: `{v}` is not a positive whole number"))
                })?;
                p.limit = Some(n);
                continue;
            }
            "next" => {
                p.next = Some(v);
                continue;
            }
            other if other.starts_with("match[") => {
                return Err(ApiError::bad_request(format!(
                    "`{other}` is not a filter this server supports (match[id], match[type], match[version], match[spec_version])"
                )));
            }
            _ => continue,
        }
        p.canonical.push((k, v));
    }
    let exact = p.versions.as_ref().map_or(0, |v| v.exact.len());
    for (name, n) in [
        ("match[id]", p.ids.len()),
        ("match[type]", p.types.len()),
        ("match[spec_version]", p.spec_versions.len()),
        ("match[version]", exact),
    ] {
        if n > MAX_FILTER_VALUES {
            return Err(ApiError::bad_request(format!(
                "{name} lists {n} values; at most {MAX_FILTER_VALUES} per request, so split the query"
            )));
        }
    }
    p.canonical.sort();
    Ok(p)
}

impl Params {
    fn fingerprint(&self, scope: &str) -> String {
        let mut h = Sha256::new();
        h.update(scope.as_bytes());
        for (k, v) in &self.canonical {
            h.update([0]);
            h.update(k.as_bytes());
            h.update([1]);
            h.update(v.as_bytes());
        }
        let d = h.finalize();
        URL_SAFE_NO_PAD.encode(&d[..9])
    }

    /// Builds the store query; `scope` names the endpoint and collection for the token.
    fn query(
        &self,
        state: &AppState,
        caller: &Caller,
        collection: &GroupId,
        scope: &str,
        default_versions: VersionFilter,
    ) -> Result<ObjectQuery, ApiError> {
        let after_date_added = match &self.next {
            None => None,
            Some(token) => Some(decode_next(token, &self.fingerprint(scope))?),
        };
        let limit = self
            .limit
            .unwrap_or(state.config.default_page)
            .min(state.config.max_page);
        Ok(ObjectQuery {
            collection: collection.clone(),
            scope: access::read_scope(caller),
            ids: self.ids.clone(),
            types: self.types.clone(),
            spec_versions: self.spec_versions.clone(),
            versions: self.versions.clone().unwrap_or(default_versions),
            added_after: self.added_after,
            after_date_added,
            limit,
        })
    }
}

/// A `next` token: the `date_added` of the last object served (which the caller has seen)
/// and the fingerprint of the query. It carries nothing the caller could not read.
fn encode_next(date_added: i64, fingerprint: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{date_added}.{fingerprint}"))
}

fn decode_next(token: &str, fingerprint: &str) -> Result<i64, ApiError> {
    let bad = || {
        ApiError::bad_request("`next` is not a token this server issued; start again without it")
    };
    let text = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let text = String::from_utf8(text).map_err(|_| bad())?;
    let (seq, fp) = text.split_once('.').ok_or_else(bad)?;
    let seq: i64 = seq.parse().map_err(|_| bad())?;
    if fp != fingerprint {
        return Err(ApiError::bad_request(
            "`next` belongs to a different query: keep the filters unchanged between pages, or start again without `next`",
        ));
    }
    Ok(seq)
}

/// The paging part of a response: `more`, `next` and the date-added headers.
fn page_meta(page: &Page, fingerprint: &str) -> (Value, Vec<(&'static str, String)>) {
    let mut env = json!({ "more": page.more });
    if page.more
        && let Some(last) = page.items.last()
    {
        env["next"] = Value::String(encode_next(last.date_added, fingerprint));
    }
    let mut headers = Vec::new();
    if let (Some(first), Some(last)) = (page.items.first(), page.items.last()) {
        headers.push((
            "x-taxii-date-added-first",
            format_nanos(first.date_added, 6),
        ));
        headers.push(("x-taxii-date-added-last", format_nanos(last.date_added, 6)));
    }
    (env, headers)
}

// ---------------------------------------------------------------------------------------
// Handlers.

fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.config.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

async fn discovery(
    State(state): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    check_accept(&headers)?;
    let root = format!("{}{API_ROOT_PATH}", base_url(&state, &headers));
    ok_json(&json!({
        "title": state.config.title,
        "description": "Accord threat-intelligence exchange: STIX 2.1 over TAXII 2.1, with trust groups and TLP 2.0.",
        "default": root,
        "api_roots": [root],
    }))
}

async fn api_root(
    State(state): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    check_accept(&headers)?;
    ok_json(&json!({
        "title": format!("{} exchange", state.config.title),
        "description": "Every trust group is a collection.",
        "versions": [TAXII_MEDIA_TYPE],
        "max_content_length": state.config.max_body_bytes,
    }))
}

async fn status(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    check_accept(&headers)?;
    let lookup = id.clone();
    let found = state.db(move |s| s.status(&lookup)).await?;
    match found {
        Some((owner, json)) if access::may_read_status(&caller, owner) => {
            Ok(taxii_json(StatusCode::OK, json, &[]))
        }
        _ => Err(ApiError::not_found(format!(
            "status {id} does not exist or was not yours"
        ))),
    }
}

fn collection_json(caller: &Caller, g: &accord_store::Group) -> Value {
    let write = caller.role.may_write() && caller.membership(&g.id).is_some_and(|m| m.write);
    json!({
        "id": g.id.0,
        "title": g.name,
        "description": format!("{} (trust group; unmarked objects are {})", g.description, g.default_tlp),
        "can_read": true,
        "can_write": write,
        "media_types": [STIX_MEDIA_TYPE],
    })
}

async fn collections(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    check_accept(&headers)?;
    let groups = state.db(|s| s.groups()).await?;
    let list: Vec<Value> = groups.iter().map(|g| collection_json(&caller, g)).collect();
    if list.is_empty() {
        return ok_json(&json!({}));
    }
    ok_json(&json!({ "collections": list }))
}

async fn find_group(state: &AppState, cid: String) -> Result<accord_store::Group, ApiError> {
    let lookup = cid.clone();
    let found = match state.db(move |s| s.group(&lookup)).await {
        Ok(g) => Some(g),
        Err(e) if e.status == StatusCode::NOT_FOUND => None,
        Err(e) => return Err(e),
    };
    // The store also finds groups by name; a name is not a collection id.
    found
        .filter(|g| g.id.0 == cid)
        .ok_or_else(|| ApiError::not_found("no collection with that id"))
}

async fn collection(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(cid): Path<String>,
) -> Result<Response, ApiError> {
    check_accept(&headers)?;
    let g = find_group(&state, cid).await?;
    ok_json(&collection_json(&caller, &g))
}

async fn run_query(state: &AppState, q: ObjectQuery) -> Result<Page, ApiError> {
    state.db(move |s| s.query(&q)).await
}

/// A read endpoint's selection, run: the page and the `next` fingerprint for it.
struct Selected {
    page: Page,
    fingerprint: String,
}

/// What one read endpoint selects: its name (for `next` tokens), the object it is about (if
/// any) and its default `match[version]`.
struct Endpoint<'a> {
    name: &'static str,
    object: Option<&'a str>,
    default_versions: VersionFilter,
}

/// The common steps of every read: content negotiation, the collection, the filters, the
/// query under the caller's scope. A one-object endpoint with nothing visible is a 404.
async fn select(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    cid: String,
    raw: Option<&str>,
    endpoint: Endpoint<'_>,
) -> Result<Selected, ApiError> {
    check_accept(headers)?;
    let g = find_group(state, cid).await?;
    let mut p = parse_params(raw)?;
    let scope = match endpoint.object {
        Some(oid) => {
            p.ids = vec![oid.to_owned()];
            format!("{}/{}/{oid}", endpoint.name, g.id)
        }
        None => format!("{}/{}", endpoint.name, g.id),
    };
    let q = p.query(state, caller, &g.id, &scope, endpoint.default_versions)?;
    let page = run_query(state, q).await?;
    if let Some(oid) = endpoint.object
        && page.items.is_empty()
        && p.next.is_none()
    {
        return Err(ApiError::not_found(format!(
            "{oid} is not in this collection, or not visible to you"
        )));
    }
    Ok(Selected {
        page,
        fingerprint: p.fingerprint(&scope),
    })
}

async fn manifest(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(cid): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let endpoint = Endpoint {
        name: "manifest",
        object: None,
        default_versions: VersionFilter::last(),
    };
    let Selected { page, fingerprint } =
        select(&state, &caller, &headers, cid, raw.as_deref(), endpoint).await?;
    let (mut env, headers) = page_meta(&page, &fingerprint);
    if !page.items.is_empty() {
        env["objects"] = page
            .items
            .iter()
            .map(|v| {
                json!({
                    "id": v.object_id,
                    "date_added": format_nanos(v.date_added, 6),
                    "version": v.version,
                    "media_type": STIX_MEDIA_TYPE,
                })
            })
            .collect();
    }
    Ok(taxii_json(StatusCode::OK, env.to_string(), &headers))
}

#[derive(Serialize)]
struct Envelope {
    more: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    objects: Vec<Box<RawValue>>,
}

/// The objects of a page as this caller is shown them, in a TAXII envelope.
fn envelope(state: &AppState, caller: &Caller, selected: &Selected) -> Result<Response, ApiError> {
    let (meta, headers) = page_meta(&selected.page, &selected.fingerprint);
    let objects = selected
        .page
        .items
        .iter()
        .map(|v| access::render(caller, v, &state.exchange_identity))
        .collect::<Result<Vec<_>, _>>()
        .map_err(ApiError::internal)?;
    let env = Envelope {
        more: selected.page.more,
        next: meta.get("next").and_then(Value::as_str).map(str::to_owned),
        objects,
    };
    let body = serde_json::to_string(&env).map_err(ApiError::internal)?;
    Ok(taxii_json(StatusCode::OK, body, &headers))
}

async fn get_objects(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(cid): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let endpoint = Endpoint {
        name: "objects",
        object: None,
        default_versions: VersionFilter::last(),
    };
    let selected = select(&state, &caller, &headers, cid, raw.as_deref(), endpoint).await?;
    envelope(&state, &caller, &selected)
}

async fn get_object(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((cid, oid)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let endpoint = Endpoint {
        name: "object",
        object: Some(&oid),
        default_versions: VersionFilter::last(),
    };
    let selected = select(&state, &caller, &headers, cid, raw.as_deref(), endpoint).await?;
    envelope(&state, &caller, &selected)
}

async fn versions(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((cid, oid)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    if parse_params(raw.as_deref())?.versions.is_some() {
        return Err(ApiError::bad_request(
            "the versions endpoint lists every version; it takes no match[version]",
        ));
    }
    let endpoint = Endpoint {
        name: "versions",
        object: Some(&oid),
        default_versions: VersionFilter::all(),
    };
    let Selected { page, fingerprint } =
        select(&state, &caller, &headers, cid, raw.as_deref(), endpoint).await?;
    let (mut env, headers) = page_meta(&page, &fingerprint);
    env["versions"] = page
        .items
        .iter()
        .map(|v| Value::String(v.version.clone()))
        .collect();
    Ok(taxii_json(StatusCode::OK, env.to_string(), &headers))
}

async fn delete_object(
    State(state): State<AppState>,
    publisher: Publisher,
    headers: HeaderMap,
    Path((cid, oid)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    check_accept(&headers)?;
    let g = find_group(&state, cid).await?;
    let mut p = parse_params(raw.as_deref())?;
    p.ids = vec![oid.clone()];
    let mut q = p.query(&state, &publisher.0, &g.id, "delete", VersionFilter::all())?;
    q.after_date_added = None;
    q.limit = usize::MAX / 2;
    let selected = run_query(&state, q.clone()).await?;
    if selected.items.is_empty() {
        return Err(ApiError::not_found(format!(
            "{oid} is not in this collection, or not visible to you"
        )));
    }
    if !selected
        .items
        .iter()
        .all(|v| access::may_delete(&publisher, v))
    {
        return Err(ApiError::forbidden(format!(
            "{oid} was published by another organisation; only it may delete it"
        )));
    }
    let org = publisher.0.org.id;
    state.db(move |s| s.delete(&q, org)).await?;
    state.reload_indicator(oid).await?;
    Ok(taxii_json(StatusCode::OK, String::new(), &[]))
}

async fn post_objects(
    State(state): State<AppState>,
    publisher: Publisher,
    headers: HeaderMap,
    Path(cid): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    check_accept(&headers)?;
    check_content_type(&headers)?;
    let g = find_group(&state, cid).await?;
    if !access::may_publish(&publisher, &g.id) {
        return Err(ApiError::forbidden(format!(
            "organisation `{}` may not publish into collection `{}`",
            publisher.0.org.name, g.name
        )));
    }
    let limit = state.config.max_body_bytes;
    let bytes = read_body(
        body,
        limit,
        "this is the API root's max_content_length; send fewer objects per request",
    )
    .await?;
    let max = state.config.max_objects;
    let objects = accord_stix::bundle::objects_at_most(&bytes, max).map_err(|e| match e {
        accord_stix::bundle::BundleError::TooMany(_) => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request too large",
            format!("{e}; this server takes at most {max} objects per request"),
        ),
        e => ApiError::bad_request(e.to_string()),
    })?;
    let request_timestamp = state.clock.now();
    let org = publisher.0.org.clone();
    let collection = g.id.clone();
    let now = state.clock.now_nanos();
    let report = state
        .db(move |s| ingest::publish(s, &org, &collection, objects, now))
        .await?;
    state.refresh_indicators().await?;
    let successes: Vec<Value> = report
        .successes
        .iter()
        .map(|(id, version)| json!({"id": id, "version": version}))
        .collect();
    // Every failure is counted; the first MAX_LISTED_FAILURES are listed, so that a body of
    // junk cannot make a status resource larger than the request.
    let failures: Vec<Value> = report
        .failures
        .iter()
        .take(MAX_LISTED_FAILURES)
        .map(|r| json!({"id": r.id, "version": r.version, "message": r.message}))
        .collect();
    let total = report.total;
    let status_id = accord_store::new_uuid();
    let body = json!({
        "id": status_id,
        "status": "complete",
        "request_timestamp": request_timestamp.as_str(),
        "total_count": total,
        "success_count": successes.len(),
        "successes": successes,
        "failure_count": report.failures.len(),
        "failures": failures,
        "pending_count": 0,
        "pendings": [],
    })
    .to_string();
    let saved = body.clone();
    let owner = publisher.0.org.id;
    state
        .db(move |s| s.save_status(&status_id, owner, &saved))
        .await?;
    let code = if successes.is_empty() && !report.failures.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::ACCEPTED
    };
    Ok(taxii_json(code, body, &[]))
}
