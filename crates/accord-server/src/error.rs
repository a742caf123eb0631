//! `ApiError`: every error the server returns, rendered in the TAXII error shape.
//!
//! The description tells the caller what to change; internals (database messages, paths)
//! are logged once here and never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::TAXII_MEDIA_TYPE;

/// Reads a request body of at most `limit` bytes; a longer one is a 413 whose description
/// ends with `advice` (what to send instead).
pub(crate) async fn read_body(
    body: axum::body::Body,
    limit: usize,
    advice: &str,
) -> Result<axum::body::Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request too large",
            format!("the body is larger than this server's limit of {limit} bytes; {advice}"),
        )
    })
}

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A short title.
    pub title: &'static str,
    /// What went wrong and what to do, for the caller.
    pub description: String,
    /// Extra structured detail for the caller.
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    /// An error with a status, title and description.
    pub fn new(status: StatusCode, title: &'static str, description: impl Into<String>) -> Self {
        ApiError {
            status,
            title,
            description: description.into(),
            details: None,
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Bad request", description)
    }

    /// 401: no valid credentials.
    pub fn unauthorized(description: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", description)
    }

    /// 403: authenticated, but not allowed.
    pub fn forbidden(description: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", description)
    }

    /// 404: nothing there, or nothing the caller may see.
    pub fn not_found(description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found", description)
    }

    /// 500: a failure on our side. The cause is logged, not sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error",
            "the server failed to handle the request; the operator's log has the cause",
        )
    }
}

impl From<accord_store::StoreError> for ApiError {
    fn from(e: accord_store::StoreError) -> Self {
        match e {
            accord_store::StoreError::NotFound(what) => {
                ApiError::not_found(format!("{what} does not exist"))
            }
            e => ApiError::internal(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_client_error() {
            tracing::debug!(status = %self.status, description = %self.description, "request refused");
        }
        let mut body = json!({
            "title": self.title,
            "description": self.description,
            "http_status": self.status.as_str(),
        });
        if let Some(d) = self.details {
            body["details"] = d;
        }
        let mut resp = (self.status, body.to_string()).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(TAXII_MEDIA_TYPE),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            for challenge in [
                "Bearer realm=\"Accord\"",
                "Basic realm=\"Accord\", charset=\"UTF-8\"",
            ] {
                resp.headers_mut().append(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(challenge),
                );
            }
        }
        resp
    }
}
