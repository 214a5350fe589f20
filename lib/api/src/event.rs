//! API Gateway HTTP API (payload 2.0) events, built the way API Gateway builds
//! them. The local API server and the tests turn an HTTP request into one of
//! these and hand it to `lambda_http::request::from_str`, the same parser the
//! Lambda runtime uses, so handlers see exactly what they see in AWS.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// One HTTP request, as API Gateway received it and routed it.
#[derive(Debug, Clone, Default)]
pub struct HttpEvent {
    pub method: String,
    pub path: String,
    /// `GET /transactions/{id}`: the template's route.
    pub route_key: String,
    pub path_parameters: BTreeMap<String, String>,
    /// The raw query string, without `?`.
    pub raw_query: String,
    pub headers: BTreeMap<String, String>,
    /// The body bytes as received; API Gateway passes a body that is not
    /// UTF-8 text base64-encoded (`isBase64Encoded`), never re-decoded.
    pub body: Option<Vec<u8>>,
    /// JWT claims as API Gateway's JWT authorizer passes them (all strings).
    pub claims: Option<BTreeMap<String, String>>,
    pub request_id: String,
}

impl HttpEvent {
    /// The event JSON.
    pub fn to_json(&self) -> Value {
        // API Gateway joins repeated parameters with commas.
        let mut query: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in form_urlencoded::parse(self.raw_query.as_bytes()) {
            query.entry(k.into_owned()).and_modify(|e| *e = format!("{e},{v}")).or_insert_with(|| v.into_owned());
        }
        let mut ctx = json!({
            "routeKey": self.route_key,
            "accountId": "000000000000",
            "stage": "$default",
            "requestId": self.request_id,
            "apiId": "local",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "timeEpoch": 0,
            "http": {
                "method": self.method,
                "path": self.path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": self.headers.get("user-agent").cloned().unwrap_or_default(),
            }
        });
        if let Some(claims) = &self.claims {
            ctx["authorizer"] = json!({"jwt": {"claims": claims, "scopes": Value::Null}});
        }
        let (body, base64_encoded) = match &self.body {
            None => (None, false),
            Some(b) => match std::str::from_utf8(b) {
                Ok(text) => (Some(text.to_string()), false),
                Err(_) => (Some(base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b)), true),
            },
        };
        let headers: Map<String, Value> = self.headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), Value::String(v.clone()))).collect();
        json!({
            "version": "2.0",
            "routeKey": self.route_key,
            "rawPath": self.path,
            "rawQueryString": self.raw_query,
            "headers": headers,
            "queryStringParameters": if query.is_empty() { Value::Null } else { json!(query) },
            "pathParameters": if self.path_parameters.is_empty() { Value::Null } else { json!(self.path_parameters) },
            "requestContext": ctx,
            "body": body,
            "isBase64Encoded": base64_encoded,
        })
    }

    /// The `lambda_http` request a handler receives.
    pub fn into_request(self) -> Result<lambda_http::Request, serde_json::Error> {
        lambda_http::request::from_str(&self.to_json().to_string())
    }
}

/// A JWT claim as API Gateway's JWT authorizer passes it: strings as they
/// are, arrays as `[a b]`, other values as JSON text.
pub fn claim_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", a.iter().map(claim_string).collect::<Vec<_>>().join(" ")),
        other => other.to_string(),
    }
}
