//! API Gateway HTTP API (payload 2.0) events, built the way API Gateway builds
//! them, as `aws_lambda_events`' typed [`ApiGatewayV2httpRequest`]. The local
//! API server and the tests turn an HTTP request into one of these and hand
//! its JSON to `lambda_http::request::from_str`, the same parser the Lambda
//! runtime uses, so handlers see exactly what they see in AWS.

use aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerJwtDescription, ApiGatewayV2httpRequest, ApiGatewayV2httpRequestContext,
};
use aws_lambda_events::http::{HeaderMap, HeaderName, HeaderValue, Method};
use aws_lambda_events::query_map::QueryMap;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

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

/// Why an [`HttpEvent`] is not one API Gateway would send.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("not an HTTP method: {0:?}")]
    Method(String),
    #[error("not a header: {0:?}")]
    Header(String),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

impl HttpEvent {
    /// The typed event.
    pub fn to_apigw(&self) -> Result<ApiGatewayV2httpRequest, EventError> {
        let method = Method::from_bytes(self.method.as_bytes()).map_err(|_| EventError::Method(self.method.clone()))?;
        let mut headers = HeaderMap::new();
        for (k, v) in &self.headers {
            let name = HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()).map_err(|_| EventError::Header(k.clone()))?;
            let value = HeaderValue::from_bytes(v.as_bytes()).map_err(|_| EventError::Header(k.clone()))?;
            headers.insert(name, value);
        }
        // API Gateway joins repeated parameters with commas (QueryMap's serializer does).
        let mut query: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in form_urlencoded::parse(self.raw_query.as_bytes()) {
            query.entry(k.into_owned()).or_default().push(v.into_owned());
        }
        let mut ctx = ApiGatewayV2httpRequestContext::default();
        ctx.route_key = Some(self.route_key.clone());
        ctx.account_id = Some("000000000000".into());
        ctx.stage = Some("$default".into());
        ctx.request_id = Some(self.request_id.clone());
        ctx.apiid = Some("local".into());
        ctx.domain_name = Some("localhost".into());
        ctx.domain_prefix = Some("localhost".into());
        ctx.time_epoch = 0;
        ctx.http.method = method;
        ctx.http.path = Some(self.path.clone());
        ctx.http.protocol = Some("HTTP/1.1".into());
        ctx.http.source_ip = Some("127.0.0.1".into());
        ctx.http.user_agent = Some(self.headers.get("user-agent").cloned().unwrap_or_default());
        if let Some(claims) = &self.claims {
            let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
            jwt.claims = claims.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            let mut authorizer = ApiGatewayRequestAuthorizer::default();
            authorizer.jwt = Some(jwt);
            ctx.authorizer = Some(authorizer);
        }
        let (body, base64_encoded) = match &self.body {
            None => (None, false),
            Some(b) => match std::str::from_utf8(b) {
                Ok(text) => (Some(text.to_string()), false),
                Err(_) => (Some(base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b)), true),
            },
        };
        let mut req = ApiGatewayV2httpRequest::default();
        req.version = Some("2.0".into());
        req.route_key = Some(self.route_key.clone());
        req.raw_path = Some(self.path.clone());
        req.raw_query_string = Some(self.raw_query.clone());
        req.headers = headers;
        req.query_string_parameters = QueryMap::from(query);
        req.path_parameters = self.path_parameters.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        req.request_context = ctx;
        req.body = body;
        req.is_base64_encoded = base64_encoded;
        Ok(req)
    }

    /// The event JSON, as the Lambda runtime receives it.
    pub fn to_json(&self) -> Result<Value, EventError> {
        Ok(serde_json::to_value(self.to_apigw()?)?)
    }

    /// The `lambda_http` request a handler receives.
    pub fn into_request(self) -> Result<lambda_http::Request, EventError> {
        Ok(lambda_http::request::from_str(&serde_json::to_string(&self.to_apigw()?)?)?)
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

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::RequestExt;

    fn event(body: &[u8]) -> HttpEvent {
        let map = |kv: &[(&str, &str)]| kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        HttpEvent {
            method: "PUT".into(),
            path: "/transactions/t-1".into(),
            route_key: "PUT /transactions/{id}".into(),
            path_parameters: map(&[("id", "t-1")]),
            raw_query: "a=1&a=2&b=x%20y".into(),
            headers: map(&[("Content-Type", "application/json"), ("user-agent", "app/1.0")]),
            body: Some(body.to_vec()),
            claims: Some(map(&[("sub", "u-1"), ("cognito:groups", "[admin]")])),
            request_id: "r-1".into(),
        }
    }

    #[test]
    fn the_event_is_the_one_api_gateway_sends() {
        let json = event(b"{}").to_json().unwrap();
        assert_eq!(json["version"], "2.0");
        assert_eq!(json["routeKey"], "PUT /transactions/{id}");
        assert_eq!(json["rawQueryString"], "a=1&a=2&b=x%20y");
        // Repeated parameters joined with commas, names of headers lower-cased.
        assert_eq!(json["queryStringParameters"]["a"], "1,2");
        assert_eq!(json["queryStringParameters"]["b"], "x y");
        assert_eq!(json["headers"]["content-type"], "application/json");
        assert_eq!(json["requestContext"]["http"]["method"], "PUT");
        assert_eq!(json["requestContext"]["http"]["userAgent"], "app/1.0");
        assert_eq!(json["requestContext"]["authorizer"]["jwt"]["claims"]["sub"], "u-1");
        assert_eq!(json["body"], "{}");
        assert_eq!(json["isBase64Encoded"], false);
    }

    #[test]
    fn the_handler_sees_the_request_as_in_aws() {
        let req = event(b"{\"a\":1}").into_request().unwrap();
        assert_eq!(req.method(), "PUT");
        assert_eq!(req.uri().path(), "/transactions/t-1");
        assert_eq!(req.path_parameters().first("id"), Some("t-1"));
        assert_eq!(req.query_string_parameters().first("b"), Some("x y"));
        assert_eq!(req.headers()["content-type"], "application/json");
        assert_eq!(req.body().as_ref(), b"{\"a\":1}");
        let claims = match req.request_context() {
            lambda_http::request::RequestContext::ApiGatewayV2(c) => c.authorizer.and_then(|a| a.jwt).map(|j| j.claims),
            #[allow(unreachable_patterns)]
            _ => None,
        };
        assert_eq!(claims.unwrap()["sub"], "u-1");
        // A body that is not UTF-8 arrives base64-encoded and is decoded back.
        let raw = [0xff, 0x00, 0xfe];
        let json = event(&raw).to_json().unwrap();
        assert_eq!(json["isBase64Encoded"], true);
        assert_eq!(event(&raw).into_request().unwrap().body().as_ref(), raw);
    }

    #[test]
    fn a_method_that_is_not_one_is_refused() {
        let mut e = event(b"");
        e.method = "NOT A METHOD".into();
        assert!(matches!(e.into_request(), Err(EventError::Method(_))));
    }
}
