//! The app-lock and device routes, named once: template resource, method,
//! path, handler (see `expenzez_api::routes!`).

use crate::handlers;
use expenzez_store::Table;

expenzez_api::routes! {
    state(table: &Table);
    SetupPinFunction: POST "/security/setup-pin" => handlers::setup_pin(table),
    ValidatePinFunction: POST "/security/validate-pin" => handlers::validate_pin(table),
    GetSecurityStatusFunction: GET "/security/status/{deviceId}" => handlers::status(table),
    GetSecurityPreferencesFunction: GET "/security/preferences" => handlers::get_preferences(table),
    UpdateSecurityPreferencesFunction: PUT "/security/preferences" => handlers::put_preferences(table),
    ListUserPinsFunction: GET "/security/user-pins" => handlers::user_pins(table),
    RegisterDeviceFunction: POST "/devices/register" => handlers::register_device(table),
    ListDevicesFunction: GET "/devices/list" => handlers::list_devices(table),
}
