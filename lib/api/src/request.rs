//! What a handler needs from an API Gateway (HTTP API, payload 2.0) request:
//! the caller from the JWT authorizer's claims, parameters, and a typed body.

use crate::error::{ApiError, FieldError};
use expenzez_domain::ids::{IdempotencyKey, UserId};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt};
use serde::de::DeserializeOwned;

/// Largest body we read (the app's largest request is a few hundred bytes).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The authenticated caller: the access token's `sub` and groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user: UserId,
    pub is_admin: bool,
    /// The user-pool username (`username` claim of an access token).
    pub username: Option<String>,
}

/// Everything about one request that handlers read.
pub struct Ctx {
    pub request_id: String,
    pub caller: Option<Caller>,
    req: Request,
}

impl Ctx {
    pub fn new(req: Request) -> Self {
        let (request_id, claims) = match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(c)) => {
                (c.request_id.clone(), c.authorizer.as_ref().and_then(|a| a.jwt.as_ref()).map(|j| j.claims.clone()))
            }
            _ => (None, None),
        };
        let caller = claims.and_then(|claims| {
            let user = UserId::new(claims.get("sub")?.as_str()).ok()?;
            // API Gateway flattens the groups array to "[admin other]".
            let is_admin = claims
                .get("cognito:groups")
                .map(|g| g.trim_matches(|c| c == '[' || c == ']').split([' ', ',']).any(|x| x.trim_matches('"') == "admin"))
                .unwrap_or(false);
            Some(Caller { user, is_admin, username: claims.get("username").cloned() })
        });
        Self { request_id: request_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()), caller, req }
    }

    /// The caller, or 401 (API Gateway checks first, but a request without
    /// claims must never reach data).
    pub fn user(&self) -> Result<&UserId, ApiError> {
        self.caller.as_ref().map(|c| &c.user).ok_or(ApiError::Unauthorized)
    }

    pub fn require_admin(&self) -> Result<&UserId, ApiError> {
        match &self.caller {
            None => Err(ApiError::Unauthorized),
            Some(c) if c.is_admin => Ok(&c.user),
            Some(_) => Err(ApiError::Forbidden),
        }
    }

    /// One claim of the caller's access token (e.g. `auth_time`, when they
    /// last signed in with their password); `None` without claims.
    pub fn claim(&self, name: &str) -> Option<String> {
        match self.req.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(c)) => c.authorizer.as_ref()?.jwt.as_ref()?.claims.get(name).cloned(),
            _ => None,
        }
    }

    pub fn query(&self, name: &str) -> Option<String> {
        self.req.query_string_parameters_ref().and_then(|q| q.first(name)).map(str::to_string)
    }

    pub fn path(&self, name: &str) -> Option<String> {
        self.req.path_parameters_ref().and_then(|q| q.first(name)).map(str::to_string)
    }

    pub fn has_header(&self, name: &str) -> bool {
        self.req.headers().contains_key(name)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.req.headers().get(name).and_then(|v| v.to_str().ok())
    }

    /// The `Idempotency-Key` header (SPEC §5 "Idempotency"). Absent is
    /// `None`; present but outside the accepted form (1 to 128 printable
    /// ASCII characters, no `#`, no space) is 400, never silently ignored.
    pub fn idempotency_key(&self) -> Result<Option<IdempotencyKey>, ApiError> {
        let Some(raw) = self.req.headers().get("idempotency-key") else {
            return Ok(None);
        };
        let bad = || ApiError::BadRequest {
            code: "INVALID_IDEMPOTENCY_KEY",
            message: "Idempotency-Key must be 1 to 128 printable ASCII characters without '#' or spaces.".into(),
        };
        let s = std::str::from_utf8(raw.as_bytes()).map_err(|_| bad())?;
        IdempotencyKey::new(s.trim()).map(Some).map_err(|_| bad())
    }

    /// The caller's address as API Gateway saw it (rate limits of public routes).
    pub fn source_ip(&self) -> String {
        match self.req.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(c)) => c.http.source_ip.clone().unwrap_or_default(),
            _ => String::new(),
        }
    }

    pub fn method(&self) -> &http::Method {
        self.req.method()
    }

    /// The raw body bytes.
    pub fn body_bytes(&self) -> &[u8] {
        match self.req.body() {
            Body::Empty => &[],
            Body::Text(t) => t.as_bytes(),
            Body::Binary(b) => b,
            _ => &[],
        }
    }

    /// The body as `T`: 413 when too large, 415 when not JSON, 400 when not
    /// parseable JSON, 422 (with the field) when JSON of the wrong shape.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        self.json_within(MAX_BODY_BYTES)
    }

    /// [`Ctx::json`] for a route that takes larger bodies (an import's rows),
    /// at most `max_bytes`.
    pub fn json_within<T: DeserializeOwned>(&self, max_bytes: usize) -> Result<T, ApiError> {
        let bytes = self.body_bytes();
        if bytes.len() > max_bytes {
            return Err(ApiError::PayloadTooLarge);
        }
        if let Some(ct) = self.req.headers().get(http::header::CONTENT_TYPE) {
            let ct = ct.to_str().map_err(|_| ApiError::UnsupportedMediaType)?.to_ascii_lowercase();
            let mut parts = ct.split(';').map(str::trim);
            let mime = parts.next().unwrap_or("");
            if mime != "application/json" && !mime.ends_with("+json") {
                return Err(ApiError::UnsupportedMediaType);
            }
            // JSON is UTF-8 (RFC 8259); a body declared in another charset is refused, not re-read.
            let charset = parts.filter_map(|p| p.strip_prefix("charset=")).map(|c| c.trim_matches('"')).next();
            if charset.is_some_and(|c| c != "utf-8" && c != "utf8") {
                return Err(ApiError::UnsupportedMediaType);
            }
        }
        // Invalid UTF-8 is malformed JSON, never stored with replacement characters.
        if std::str::from_utf8(bytes).is_err() {
            return Err(ApiError::MalformedJson);
        }
        let bytes = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { bytes };
        // Syntax first, so a broken body is 400 and a wrong shape is 422.
        serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map_err(|_| ApiError::MalformedJson)?;
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::validation("$", "the body must be a JSON object"));
        }
        // From the original bytes: numbers (money) are read from their exact text.
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            let message = clean_serde_message(&e.inner().to_string());
            ApiError::Validation(vec![FieldError::new(if field == "." { "$".into() } else { field }, message)])
        })
    }
}

/// serde's messages end with " at line 1 column 42"; the field is reported
/// separately, and positions in a re-serialised body mean nothing to a client.
fn clean_serde_message(m: &str) -> String {
    match m.rfind(" at line ") {
        Some(i) => m[..i].to_string(),
        None => m.to_string(),
    }
}

/// A whole number as JSON Schema counts one: `7` and `7.0` alike (an
/// integral float is an integer there, and the OpenAPI document says
/// `type: integer`); `7.5`, a string or an out-of-range value is refused.
/// For `Option<u32>`-like fields: `#[serde(default, deserialize_with = "whole")]`.
pub fn whole<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    use serde::de::Error;
    use serde::Deserialize;
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    let i = n
        .as_i64()
        .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
        .ok_or_else(|| D::Error::custom("must be a whole number"))?;
    T::try_from(i).map(Some).map_err(|_| D::Error::custom("is out of range"))
}

#[cfg(test)]
mod whole_tests {
    #[derive(Debug, serde::Deserialize)]
    struct W {
        #[serde(default, deserialize_with = "super::whole")]
        n: Option<u8>,
    }
    fn n(json: &str) -> Result<Option<u8>, String> {
        serde_json::from_str::<W>(json).map(|w| w.n).map_err(|e| e.to_string())
    }

    #[test]
    fn integral_floats_are_whole_numbers_and_nothing_else_is() {
        assert_eq!(n(r#"{"n": 7}"#), Ok(Some(7)));
        assert_eq!(n(r#"{"n": 7.0}"#), Ok(Some(7)));
        assert_eq!(n(r#"{"n": null}"#), Ok(None));
        assert_eq!(n(r#"{}"#), Ok(None));
        for bad in [r#"{"n": 7.5}"#, r#"{"n": "7"}"#, r#"{"n": -1}"#, r#"{"n": 256}"#, r#"{"n": 1e300}"#, r#"{"n": true}"#] {
            assert!(n(bad).is_err(), "{bad}");
        }
    }
}
