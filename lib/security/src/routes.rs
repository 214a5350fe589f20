//! The app-lock and device routes: template resource, method, path, handler.

use crate::handlers;
use expenzez_api::edge;
use expenzez_store::Table;
use lambda_http::{Body, Request, Response};

/// (template resource, method, path). A test checks this against template.yaml and the OpenAPI document.
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("SetupPinFunction", "POST", "/security/setup-pin"),
    ("ValidatePinFunction", "POST", "/security/validate-pin"),
    ("GetSecurityStatusFunction", "GET", "/security/status/{deviceId}"),
    ("GetSecurityPreferencesFunction", "GET", "/security/preferences"),
    ("UpdateSecurityPreferencesFunction", "PUT", "/security/preferences"),
    ("ListUserPinsFunction", "GET", "/security/user-pins"),
    ("RegisterDeviceFunction", "POST", "/devices/register"),
    ("ListDevicesFunction", "GET", "/devices/list"),
];

/// Runs the handler of template resource `function`; `None` if there is none.
pub async fn dispatch(function: &str, table: &Table, req: Request) -> Option<Response<Body>> {
    Some(match function {
        "SetupPinFunction" => edge::run("POST /security/setup-pin", table, req, handlers::setup_pin).await,
        "ValidatePinFunction" => edge::run("POST /security/validate-pin", table, req, handlers::validate_pin).await,
        "GetSecurityStatusFunction" => edge::run("GET /security/status/{deviceId}", table, req, handlers::status).await,
        "GetSecurityPreferencesFunction" => edge::run("GET /security/preferences", table, req, handlers::get_preferences).await,
        "UpdateSecurityPreferencesFunction" => edge::run("PUT /security/preferences", table, req, handlers::put_preferences).await,
        "ListUserPinsFunction" => edge::run("GET /security/user-pins", table, req, handlers::user_pins).await,
        "RegisterDeviceFunction" => edge::run("POST /devices/register", table, req, handlers::register_device).await,
        "ListDevicesFunction" => edge::run("GET /devices/list", table, req, handlers::list_devices).await,
        _ => return None,
    })
}
