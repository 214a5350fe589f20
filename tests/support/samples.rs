//! The sample events in `events/` (the files `cargo lambda invoke
//! --data-file` takes) and the reply of a crate's `dispatch` to one, as the
//! tests that run them through the dispatcher read it.

use expenzez_api::event::HttpEvent;
use expenzez_assistant::routes::{dispatch, Assistant};
use serde_json::Value;

/// The `sub` in every sample event.
pub const SUB: &str = "11111111-2222-4333-8444-555555555555";

/// The sample event `events/<name>.json`.
pub fn event(name: &str) -> Value {
    let path = format!("{}/../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `ev` as the request the Lambda runtime hands a function.
pub fn request(ev: &Value) -> lambda_http::Request {
    lambda_http::request::from_str(&ev.to_string()).unwrap()
}

/// A request of the user `sub` with a JSON `body` to `method path`, routed
/// by the template's `route` (`{id}` in it is `id`), as API Gateway hands it
/// to the function.
pub fn json_request(sub: &str, method: &str, route: &str, path: &str, id: Option<&str>, body: Option<&Value>) -> lambda_http::Request {
    HttpEvent {
        method: method.into(),
        path: path.into(),
        route_key: format!("{method} {route}"),
        path_parameters: id.map(|i| [("id".to_string(), i.to_string())].into()).unwrap_or_default(),
        headers: [("content-type".to_string(), "application/json".to_string())].into(),
        body: body.map(|b| b.to_string().into_bytes()),
        claims: Some([("sub".to_string(), sub.to_string())].into()),
        request_id: "prop".into(),
        ..Default::default()
    }
    .into_request()
    .unwrap()
}

/// Status and JSON body of a function's response (`Null` without a text body).
pub fn reply(r: &lambda_http::Response<lambda_http::Body>) -> (u16, Value) {
    let body = match r.body() {
        lambda_http::Body::Text(t) => serde_json::from_str(t).unwrap(),
        _ => Value::Null,
    };
    (r.status().as_u16(), body)
}

/// Runs the assistant crate's function `function` (its template logical id)
/// on `ev`: status and JSON body.
pub async fn call_assistant(app: &Assistant, function: &str, ev: &Value) -> (u16, Value) {
    reply(&dispatch(function, app, request(ev)).await.expect("a known function"))
}
