//! The one wrapper every function runs its handler in: caller and body
//! parsing happen in the handler through [`Ctx`]; here errors become
//! problem+json, and one JSON log line per request records request id,
//! route, status, latency and consumed capacity (never bodies or claims).

use crate::error::ApiError;
use crate::request::Ctx;
use crate::stores::Metered;
use expenzez_domain::metrics::{self, Event, Unit};
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE, ETAG, RETRY_AFTER};
use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use std::future::Future;
use std::time::Instant;

/// A successful answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: String,
    pub etag: Option<u64>,
}

impl Reply {
    pub fn ok<T: Serialize>(body: &T) -> Result<Reply, ApiError> {
        Self::with_status(StatusCode::OK, body)
    }
    pub fn created<T: Serialize>(body: &T) -> Result<Reply, ApiError> {
        Self::with_status(StatusCode::CREATED, body)
    }
    pub fn with_status<T: Serialize>(status: StatusCode, body: &T) -> Result<Reply, ApiError> {
        let body = serde_json::to_string(body).map_err(|_| ApiError::Internal)?;
        Ok(Reply { status, body, etag: None })
    }
    /// `ETag: "v{version}"` so clients can send `If-Match`.
    pub fn etag(mut self, version: u64) -> Self {
        self.etag = Some(version);
        self
    }
}

/// The `ETag` value of a version.
pub fn etag_of(version: u64) -> String {
    format!("\"v{version}\"")
}

/// The version an `If-Match` header names, compared strongly (RFC 9110
/// §13.1.1): `None` when there is no header or it is `*` (any current
/// version); `Some(None)` when it can match nothing (a weak `W/"v1"`, a
/// malformed tag), which the caller answers with 412.
pub fn if_match(ctx: &Ctx) -> Option<Option<u64>> {
    let v = ctx.header("if-match").map(str::trim);
    let Some(v) = v else {
        // Present but not visible ASCII: matches nothing.
        return ctx.has_header("if-match").then_some(None);
    };
    if v == "*" {
        return None;
    }
    // One strong tag we issued; a list names several, of which ours is the first strong one.
    let strong = v.split(',').map(str::trim).find(|t| !t.starts_with("W/"));
    Some(strong.and_then(|t| t.strip_prefix("\"v")).and_then(|t| t.strip_suffix('"')).and_then(|n| n.parse().ok()))
}

fn json_response(status: StatusCode, body: String, content_type: &'static str) -> Response<Body> {
    let mut r = Response::new(Body::Text(body));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(HeaderName::from_static("cache-control"), HeaderValue::from_static("no-store"));
    r
}

/// The problem+json response for an error.
pub fn problem(e: &ApiError, request_id: &str) -> Response<Body> {
    let mut r = json_response(e.status(), e.body(request_id).to_string(), "application/problem+json");
    if let Some(secs) = e.retry_after() {
        r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}

/// Runs `handler` for one request on a fresh metered view of `store`.
pub async fn run<S, F, Fut>(route: &'static str, store: &S, req: Request, handler: F) -> Response<Body>
where
    S: Metered,
    F: FnOnce(S, Ctx) -> Fut,
    Fut: Future<Output = Result<Reply, ApiError>>,
{
    let started = Instant::now();
    let ctx = Ctx::new(req);
    let request_id = ctx.request_id.clone();
    let store = store.metered();
    let outcome = handler(store.clone(), ctx).await;
    let response = match &outcome {
        Ok(reply) => {
            let mut r = json_response(reply.status, reply.body.clone(), "application/json");
            if let Some(v) = reply.etag {
                if let Ok(h) = HeaderValue::from_str(&etag_of(v)) {
                    r.headers_mut().insert(ETAG, h);
                }
            }
            r
        }
        Err(e) => problem(e, &request_id),
    };
    let c = store.consumed();
    let status = response.status().as_u16();
    let latency = started.elapsed();
    metrics::emit(&Event {
        dimensions: vec![("Route", route.to_string())],
        metrics: vec![
            ("Requests", Unit::Count, 1.0),
            ("Latency", Unit::Milliseconds, latency.as_secs_f64() * 1000.0),
            ("Status4xx", Unit::Count, f64::from(u8::from((400..500).contains(&status)))),
            ("Status5xx", Unit::Count, f64::from(u8::from(status >= 500))),
            ("ConsumedRCU", Unit::Count, c.read_units),
            ("ConsumedWCU", Unit::Count, c.write_units),
            ("DynamoDBCalls", Unit::Count, f64::from(c.calls)),
        ],
        properties: vec![("RequestId", request_id.as_str().into()), ("Status", status.into())],
    });
    tracing::info!(
        target: "request",
        request_id = %request_id,
        route,
        status,
        latency_ms = latency.as_millis() as u64,
        rcu = c.read_units,
        wcu = c.write_units,
        ddb_calls = c.calls,
        error = outcome.as_ref().err().map(ApiError::code),
        "request"
    );
    response
}

/// JSON logs, level from `RUST_LOG` (default info). Called once from `main`.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt().json().with_env_filter(filter).with_current_span(false).with_target(true).try_init();
}
