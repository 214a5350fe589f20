//! The app lock and devices end to end: through the local API server (JWT
//! authorizer against the local Cognito), the handlers, DynamoDB Local.

use expenzez_domain::entities::{Device, DevicePin};
use expenzez_domain::ids::{DeviceId, UserId};
use expenzez_domain::keys::ItemKey;
use expenzez_domain::{Clock, FixedClock, Timestamp};
use expenzez_tests::{find_anywhere, scan_all, send, ApiEnv, TestUser, PASSWORD};
use serde_json::{json, Value};
use std::sync::Arc;

const PIN: &str = "48213";
const WRONG: &str = "70592";
const NEW_PIN: &str = "36917";
const FINGERPRINT: &str = "ios-vendor-9d2f61ab";

async fn register(env: &ApiEnv, u: &TestUser, device: &str, name: &str) -> (u16, Value) {
    let body = json!({
        "deviceId": device, "deviceFingerprint": FINGERPRINT, "deviceName": name, "platform": "ios",
        "appVersion": "2.3.1", "rememberMe": true, "userEmail": u.email,
    });
    let (s, _, b) = send(env.post(u, "/devices/register", &body)).await;
    (s, b)
}

async fn validate(env: &ApiEnv, u: &TestUser, device: &str, pin: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    send(env.post(u, "/security/validate-pin", &json!({ "pin": pin, "deviceId": device }))).await
}

async fn setup(env: &ApiEnv, u: &TestUser, body: Value) -> (u16, Value) {
    let (s, _, b) = send(env.post(u, "/security/setup-pin", &body)).await;
    (s, b)
}

async fn pin_item(env: &ApiEnv, u: &TestUser, device: &str) -> Option<DevicePin> {
    let key = ItemKey::DevicePin(UserId::new(&u.sub).unwrap(), DeviceId::new(device).unwrap());
    env.table.get_consistent::<DevicePin>(&key).await.unwrap().map(|v| v.value)
}

fn retry_after(h: &reqwest::header::HeaderMap) -> u64 {
    h["retry-after"].to_str().unwrap().parse().unwrap()
}

/// The `auth_time` claim (epoch seconds) of an access token.
fn auth_time(token: &str) -> i64 {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["auth_time"].as_i64().unwrap()
}

/// Where `needle` occurs on its own (not inside a longer run of letters and
/// digits, as a hex request id or a uuid may hold any 5 digits by chance).
fn as_token(hay: &str, needle: &str) -> Option<usize> {
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    hay.match_indices(needle).map(|(i, _)| i).find(|&i| !alnum(hay[..i].chars().last()) && !alnum(hay[i + needle.len()..].chars().next()))
}

/// Wrong attempts in a row until the lockout; returns the 429's (Retry-After, requiresLogout).
async fn lock_out(env: &ApiEnv, u: &TestUser, device: &str, max: u64) -> (u64, bool) {
    for left in (1..max).rev() {
        let (s, _, b) = validate(env, u, device, WRONG).await;
        assert_eq!((s, b["success"].as_bool(), b["attemptsRemaining"].as_u64()), (200, Some(false), Some(left)), "{b}");
    }
    let (s, h, b) = validate(env, u, device, WRONG).await;
    assert_eq!((s, b["error"]["code"].as_str()), (429, Some("PIN_LOCKED")), "{b}");
    (retry_after(&h), b["requiresLogout"].as_bool().unwrap())
}

#[tokio::test]
async fn pin_set_validate_change_lockouts_and_no_pin_in_table_export_or_logs() {
    let (_guard, logs) = expenzez_tests::capture_logs();
    // Whole seconds, so lockout instants can be placed against the token's auth_time.
    let clock =
        Arc::new(FixedClock::new(Timestamp::from_millis(Timestamp::from_datetime(chrono::Utc::now()).epoch_seconds() * 1000).unwrap()));
    let env = ApiEnv::start_with_clock(clock.clone()).await;
    let a = env.user("alice", false).await;
    let dev = "iphone-a1";
    // The table's time runs 100 s behind this token's sign-in, so the third
    // lockout below falls between it and a later sign-in.
    let signed_in = auth_time(&a.token);
    clock.advance_seconds(signed_in - 100 - clock.now().epoch_seconds());

    let (s, b) = register(&env, &a, dev, "Alice's iPhone").await;
    assert_eq!((s, b["message"].as_str()), (200, Some("Device registered")), "{b}");
    let (s, b) = register(&env, &a, dev, "Alice's iPhone").await;
    assert_eq!((s, b["message"].as_str()), (200, Some("Device updated")), "{b}");
    let (s, _, b) = send(env.get(&a, &format!("/security/status/{dev}"))).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["status"],
        json!({"hasDevicePIN": false, "needsPinSetup": false, "isLocked": false, "requiresLogout": false,
        "preferences": {"appLockEnabled": false, "biometricEnabled": false}})
    );
    let (s, _, b) = send(env.put(&a, "/security/preferences", &json!({ "appLockEnabled": true }))).await;
    assert_eq!((s, b["success"].as_bool()), (200, Some(true)), "{b}");
    let (_, _, b) = send(env.get(&a, &format!("/security/status/{dev}"))).await;
    assert_eq!(b["status"]["needsPinSetup"], true, "{b}");

    // Obvious PINs and malformed ones: 422, nothing written, the value never echoed.
    for p in ["12345", "00000", "11111", "54321", "98765", "13579", "12121"] {
        let (s, b) = setup(&env, &a, json!({ "pin": p, "deviceId": dev, "biometricEnabled": true })).await;
        assert_eq!((s, b["error"]["details"][0]["field"].as_str()), (422, Some("pin")), "{p}: {b}");
        assert!(!b.to_string().contains(p), "{b}");
    }
    for p in [json!("4821"), json!(48213), json!("48a13"), json!(null)] {
        let (s, b) = setup(&env, &a, json!({ "pin": p, "deviceId": dev })).await;
        assert_eq!(s, 422, "{p}: {b}");
        assert!(!b.to_string().contains("4821") && !b.to_string().contains("48a13"), "{b}");
    }
    assert!(pin_item(&env, &a, dev).await.is_none());

    // Set, validate right and wrong; a success resets the count.
    let (s, b) = setup(&env, &a, json!({ "pin": PIN, "deviceId": dev, "biometricEnabled": true })).await;
    assert_eq!((s, b["message"].as_str()), (200, Some("PIN set")), "{b}");
    let stored = pin_item(&env, &a, dev).await.unwrap();
    assert!(stored.pin_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "parameters recorded with the hash");
    let (_, _, b) = send(env.get(&a, &format!("/security/status/{dev}"))).await;
    assert_eq!((b["status"]["hasDevicePIN"].as_bool(), b["status"]["needsPinSetup"].as_bool()), (Some(true), Some(false)), "{b}");
    let (_, _, b) = send(env.get(&a, "/security/preferences")).await;
    assert_eq!(b["preferences"], json!({"appLockEnabled": true, "biometricEnabled": true, "sessionTimeout": 5, "maxAttempts": 5}));
    let (s, _, b) = validate(&env, &a, dev, PIN).await;
    assert_eq!((s, b["success"].as_bool()), (200, Some(true)), "{b}");
    let (s, _, b) = validate(&env, &a, dev, WRONG).await;
    assert_eq!(
        (s, b["success"].as_bool(), b["error"].as_str(), b["attemptsRemaining"].as_u64()),
        (200, Some(false), Some("INVALID_PIN"), Some(4))
    );
    let (_, _, b) = validate(&env, &a, dev, WRONG).await;
    assert_eq!(b["attemptsRemaining"], 3);
    assert_eq!(pin_item(&env, &a, dev).await.unwrap().failed_attempts, 2);
    let (_, _, b) = validate(&env, &a, dev, PIN).await;
    assert_eq!(b["success"], true);
    assert_eq!(pin_item(&env, &a, dev).await.unwrap().failed_attempts, 0, "reset on success");

    // Changing needs the current PIN; a wrong one is an attempt like any other.
    let (s, b) = setup(&env, &a, json!({ "pin": NEW_PIN, "deviceId": dev })).await;
    assert_eq!((s, b["error"]["code"].as_str()), (409, Some("PIN_EXISTS")), "{b}");
    let (s, b) = setup(&env, &a, json!({ "pin": NEW_PIN, "deviceId": dev, "currentPin": WRONG })).await;
    assert_eq!((s, b["error"]["code"].as_str()), (403, Some("INVALID_PIN")), "{b}");
    assert_eq!(pin_item(&env, &a, dev).await.unwrap().failed_attempts, 1);
    let (s, b) = setup(&env, &a, json!({ "pin": NEW_PIN, "deviceId": dev, "currentPin": PIN })).await;
    assert_eq!((s, b["message"].as_str()), (200, Some("PIN changed")), "{b}");
    assert_eq!(validate(&env, &a, dev, PIN).await.2["success"], false);
    assert_eq!(validate(&env, &a, dev, NEW_PIN).await.2["success"], true);

    // Parallel wrong attempts: exactly maxAttempts are checked and counted,
    // the one that uses the last locks the PIN, every other one is refused.
    let attempts = futures::future::join_all((0..12).map(|_| validate(&env, &a, dev, WRONG))).await;
    let wrong = attempts.iter().filter(|(s, _, b)| *s == 200 && b["success"] == false).count();
    let locked: Vec<_> = attempts.iter().filter(|(s, _, _)| *s == 429).collect();
    assert_eq!((wrong, locked.len()), (4, 8), "{:?}", attempts.iter().map(|a| &a.2).collect::<Vec<_>>());
    let mut remaining: Vec<u64> = attempts.iter().filter_map(|(_, _, b)| b["attemptsRemaining"].as_u64()).collect();
    remaining.sort();
    assert_eq!(remaining, vec![1, 2, 3, 4], "every checked attempt counted once");
    assert!(locked.iter().all(|(_, h, b)| b["requiresLogout"] == false && b["success"] == false && retry_after(h) >= 1));
    assert!(locked.iter().any(|(_, h, _)| retry_after(h) == 30), "the lockout's own answer");
    let p = pin_item(&env, &a, dev).await.unwrap();
    assert_eq!((p.failed_attempts, p.lock_count, p.locked_until), (0, 1, Some(clock.now().plus_seconds(30))));
    // While locked even the right PIN is refused, unchecked.
    let (s, h, b) = validate(&env, &a, dev, NEW_PIN).await;
    assert_eq!((s, retry_after(&h), b["requiresLogout"].as_bool()), (429, 30, Some(false)), "{b}");
    let (_, _, b) = send(env.get(&a, &format!("/security/status/{dev}"))).await;
    assert_eq!(b["status"]["isLocked"], true);

    // The second lockout lasts twice as long; the third requires signing in
    // again. It falls one second after this token's sign-in.
    clock.advance_seconds(signed_in - 60 - clock.now().epoch_seconds());
    assert!(clock.now() > p.locked_until.unwrap());
    assert_eq!(lock_out(&env, &a, dev, 5).await, (60, false));
    clock.advance_seconds(61);
    assert_eq!(lock_out(&env, &a, dev, 5).await, (120, true));
    clock.advance_seconds(3600);
    let (s, _, b) = validate(&env, &a, dev, NEW_PIN).await;
    assert_eq!((s, b["requiresLogout"].as_bool()), (429, Some(true)), "still locked after the period: {b}");
    let (_, _, b) = send(env.get(&a, &format!("/security/status/{dev}"))).await;
    assert_eq!((b["status"]["isLocked"].as_bool(), b["status"]["requiresLogout"].as_bool()), (Some(true), Some(true)));
    // Sign in again (a later auth_time): unlocked, and the right PIN resets it all.
    let resume = signed_in + 2;
    while Timestamp::from_datetime(chrono::Utc::now()).epoch_seconds() < resume {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let token = env.cognito.login(&env.pool, &a.email, PASSWORD).await.unwrap().access_token;
    let a2 = TestUser { token, ..a.clone() };
    let (s, _, b) = validate(&env, &a2, dev, NEW_PIN).await;
    assert_eq!((s, b["success"].as_bool()), (200, Some(true)), "{b}");
    let p = pin_item(&env, &a2, dev).await.unwrap();
    assert_eq!((p.failed_attempts, p.lock_count, p.locked_until), (0, 0, None));

    // Listings and the export never carry a PIN or its hash.
    let (s, _, b) = send(env.get(&a, "/security/user-pins")).await;
    assert_eq!((s, b["pins"].as_array().map(Vec::len)), (200, Some(1)), "{b}");
    assert_eq!((b["pins"][0]["deviceId"].as_str(), b["pins"][0]["deviceName"].as_str()), (Some(dev), Some("Alice's iPhone")));
    let (s, _, export) = send(env.get(&a, "/user/export")).await;
    assert_eq!(s, 200, "{export}");
    let kinds: Vec<_> = export["items"].as_array().unwrap().iter().filter_map(|i| i["entityType"].as_str()).collect();
    assert!(kinds.contains(&"DEVICE_PIN") && kinds.contains(&"DEVICE"), "{kinds:?}");
    let text = export.to_string();
    assert!(!text.contains("pinHash") && !text.contains("$argon2") && !text.contains("fingerprintHash"), "{text}");

    // Nothing stored holds a PIN, not even as digits inside another attribute,
    // nor the fingerprint in the clear.
    let items = scan_all(&env.table).await;
    assert!(items.len() >= 4);
    for secret in [PIN, WRONG, NEW_PIN, FINGERPRINT] {
        assert_eq!(find_anywhere(&items, secret), Vec::<String>::new(), "{secret} is stored");
    }
    drop(_guard);
    let logs = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("/security/validate-pin"), "the flow was logged");
    for pin in [PIN, WRONG, NEW_PIN] {
        if let Some(i) = as_token(&logs, pin) {
            panic!("{pin} in the logs: ...{}...", &logs[i.saturating_sub(300)..(i + 100).min(logs.len())]);
        }
    }
    for secret in [FINGERPRINT, "$argon2", &stored.pin_hash[30..]] {
        assert!(!logs.contains(secret), "{secret} in the logs");
    }
}

#[tokio::test]
async fn another_users_device_id_is_404_on_every_route() {
    let env = ApiEnv::start().await;
    let (a, b) = (env.user("alice", false).await, env.user("bob", false).await);
    let bobs = "pixel-bob";
    assert_eq!(register(&env, &b, bobs, "Bob's Pixel").await.0, 200);
    assert_eq!(setup(&env, &b, json!({ "pin": PIN, "deviceId": bobs })).await.0, 200);

    let (s, _, body) = send(env.get(&a, &format!("/security/status/{bobs}"))).await;
    assert_eq!((s, body["error"]["code"].as_str()), (404, Some("NOT_FOUND")), "{body}");
    let (s, body) = setup(&env, &a, json!({ "pin": NEW_PIN, "deviceId": bobs })).await;
    assert_eq!(s, 404, "{body}");
    let (s, body) = setup(&env, &a, json!({ "pin": NEW_PIN, "deviceId": bobs, "currentPin": PIN })).await;
    assert_eq!(s, 404, "{body}");
    for pin in [PIN, WRONG] {
        let (s, _, body) = validate(&env, &a, bobs, pin).await;
        assert_eq!(s, 404, "{body}");
    }
    let (_, _, body) = send(env.get(&a, "/security/user-pins")).await;
    assert_eq!(body["pins"], json!([]));
    let (_, _, body) = send(env.get(&a, "/devices/list")).await;
    assert_eq!(body["devices"], json!([]));
    // Bob's PIN saw none of it.
    let p = pin_item(&env, &b, bobs).await.unwrap();
    assert_eq!((p.failed_attempts, p.last_validated_at), (0, None));

    // Registering the same id makes Alice's own device; Bob's is untouched,
    // and Alice's device has no PIN of Bob's.
    assert_eq!(register(&env, &a, bobs, "Alice's tablet").await.0, 200);
    let (s, _, body) = validate(&env, &a, bobs, PIN).await;
    assert_eq!(s, 404, "{body}");
    let (_, _, body) = send(env.get(&b, "/devices/list")).await;
    assert_eq!((body["devices"].as_array().unwrap().len(), body["devices"][0]["deviceName"].as_str()), (1, Some("Bob's Pixel")));
    assert_eq!(validate(&env, &b, bobs, PIN).await.2["success"], true);
}

#[tokio::test]
async fn devices_list_marks_the_current_one_and_keeps_only_a_keyed_fingerprint() {
    let clock = Arc::new(FixedClock::new(Timestamp::from_datetime(chrono::Utc::now())));
    let env = ApiEnv::start_with_clock(clock.clone()).await;
    let a = env.user("alice", false).await;
    assert_eq!(register(&env, &a, "old-phone", "Old phone").await.0, 200);
    clock.advance_seconds(60);
    assert_eq!(register(&env, &a, "new-phone", "New phone").await.0, 200);
    let (s, _, b) = send(env.get(&a, "/devices/list")).await;
    assert_eq!(s, 200, "{b}");
    let d = b["devices"].as_array().unwrap();
    assert_eq!(
        (d[0]["deviceId"].as_str(), d[0]["isCurrent"].as_bool(), d[1]["isCurrent"].as_bool()),
        (Some("new-phone"), Some(true), Some(false))
    );
    for f in ["deviceName", "lastSeen", "platform"] {
        assert!(d[0][f].is_string(), "{f}: {b}");
    }
    assert!(d[0]["isTrusted"].is_boolean() && d[0].get("location").is_some());
    let (_, _, b) = send(env.get(&a, "/devices/list?deviceId=old-phone")).await;
    assert_eq!((b["devices"][1]["deviceId"].as_str(), b["devices"][1]["isCurrent"].as_bool()), (Some("old-phone"), Some(true)));

    let key = ItemKey::Device(UserId::new(&a.sub).unwrap(), DeviceId::new("old-phone").unwrap());
    let stored = env.table.get::<Device>(&key).await.unwrap().unwrap().value;
    assert_eq!(
        stored.fingerprint_hash,
        expenzez_security::handlers::fingerprint_hash(env.table.cursor_key(), &stored.user_id, FINGERPRINT)
    );
    assert!(!stored.fingerprint_hash.contains(FINGERPRINT));
    // Bad input: 422 and nothing written.
    let (s, _, b) = send(env.post(&a, "/devices/register", &json!({ "deviceId": "x1", "deviceFingerprint": "", "platform": "ios" }))).await;
    assert_eq!((s, b["error"]["details"][0]["field"].as_str()), (422, Some("deviceFingerprint")), "{b}");
    let (s, _, _) =
        send(env.post(&a, "/devices/register", &json!({ "deviceId": "x1", "deviceFingerprint": "f", "platform": "symbian" }))).await;
    assert_eq!(s, 422);
    let (_, _, b) = send(env.get(&a, "/devices/list")).await;
    assert_eq!(b["devices"].as_array().unwrap().len(), 2);
    let (s, _, b) = send(env.put(&a, "/security/preferences", &json!({ "maxAttempts": 50 }))).await;
    assert_eq!((s, b["error"]["details"][0]["field"].as_str()), (422, Some("maxAttempts")), "{b}");
}

#[tokio::test]
async fn erasing_my_data_or_deleting_the_account_removes_pins_and_devices() {
    let env = ApiEnv::start().await;
    for (name, path, body) in
        [("carol", "/user/data", json!({ "confirm": "DELETE_ALL_DATA" })), ("dave", "/auth/delete-account", json!({}))]
    {
        let u = env.user(name, false).await;
        assert_eq!(register(&env, &u, "phone-1", "Phone").await.0, 200);
        assert_eq!(setup(&env, &u, json!({ "pin": PIN, "deviceId": "phone-1", "biometricEnabled": false })).await.0, 200);
        let prefix = format!("USER#{}", u.sub);
        let security_items = |items: &[expenzez_store::Item]| {
            items
                .iter()
                .filter_map(expenzez_store::Table::key_of)
                .filter(|k| k.pk == prefix && (k.sk.starts_with("PIN#") || k.sk.starts_with("DEVICE#") || k.sk == "PREFERENCES#SECURITY"))
                .count()
        };
        assert_eq!(security_items(&scan_all(&env.table).await), 3);
        let (s, _, b) = send(env.http.delete(env.url(path)).bearer_auth(&u.token).json(&body)).await;
        assert_eq!(s, 200, "{path}: {b}");
        assert_eq!(security_items(&scan_all(&env.table).await), 0, "{path}");
    }
}

/// Each security function's sample event in `events/`, in the order the app calls them.
#[tokio::test]
async fn sample_events_run_in_order() {
    let table = expenzez_tests::fresh_table().await;
    let sub = "11111111-2222-4333-8444-555555555555";
    let u = expenzez_tests::fixtures::user(sub);
    table.put(&expenzez_tests::fixtures::profile(&u, "jane@example.com"), expenzez_store::Condition::MustNotExist).await.unwrap();
    let cases = [
        ("register-device", "RegisterDeviceFunction", "success"),
        ("setup-pin", "SetupPinFunction", "success"),
        ("validate-pin", "ValidatePinFunction", "success"),
        ("get-security-status", "GetSecurityStatusFunction", "status"),
        ("get-security-preferences", "GetSecurityPreferencesFunction", "preferences"),
        ("update-security-preferences", "UpdateSecurityPreferencesFunction", "preferences"),
        ("list-user-pins", "ListUserPinsFunction", "pins"),
        ("list-devices", "ListDevicesFunction", "devices"),
    ];
    for (file, function, field) in cases {
        let path = format!("{}/../events/{file}.json", env!("CARGO_MANIFEST_DIR"));
        let req = lambda_http::request::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let r = expenzez_security::routes::dispatch(function, &table, req).await.expect("a security function");
        let status = r.status().as_u16();
        let body: Value = match r.body() {
            lambda_http::Body::Text(t) => serde_json::from_str(t).unwrap(),
            _ => Value::Null,
        };
        assert_eq!(status, 200, "{file}: {body}");
        assert!(body.get(field).is_some(), "{file}: {body}");
        if field == "success" {
            assert_eq!(body["success"], true, "{file}: {body}");
        }
    }
}
