//! Sign-up, sign-in and the account lifecycle, end to end through the local
//! API, the local Cognito (moto, triggers emulated) and DynamoDB Local.

use expenzez_domain::entities::{EmailClaim, UserProfile};
use expenzez_domain::ids::UserId;
use expenzez_domain::keys::ItemKey;
use expenzez_domain::Email;
use expenzez_store::Query;
use expenzez_tests::{send, ApiEnv, TestUser};
use serde_json::{json, Value};

const PW: &str = "Sign-up-Passw0rd";

async fn register(env: &ApiEnv, email: &str) -> (u16, Value) {
    let (s, _, b) = send(env.http.post(env.url("/auth/register")).json(&json!({
        "username": email, "name": "Jo Bloggs", "given_name": "Jo", "family_name": "Bloggs",
        "email": email, "password": PW, "marketing_consent": true
    })))
    .await;
    (s, b)
}

async fn post(env: &ApiEnv, path: &str, body: Value) -> (u16, Value) {
    let (s, _, b) = send(env.http.post(env.url(path)).json(&body)).await;
    (s, b)
}

/// Counts the items in every partition of a user.
async fn count_items(env: &ApiEnv, user: &str) -> usize {
    let u = UserId::new(user).unwrap();
    let mut n = 0;
    for pk in expenzez_auth::account::partitions(&u) {
        n += env.table.keys_in_partition(&pk).await.unwrap().len();
    }
    n
}

#[tokio::test]
async fn register_confirm_login_profile_refresh_delete_and_no_secret_in_logs() {
    let (_guard, logs) = expenzez_tests::capture_logs();

    let env = ApiEnv::start().await;
    let email = format!("Jo.Bloggs+{}@Example.com", uuid::Uuid::new_v4().simple());
    let (s, b) = register(&env, &email).await;
    assert_eq!(s, 201, "{b}");
    let sub = b["cognitoUserSub"].as_str().unwrap().to_string();
    assert_eq!(b["userConfirmed"], false);

    // Not confirmed yet: 403 with the code the app reads.
    let (s, b) = post(&env, "/auth/login", json!({"email": email, "password": PW})).await;
    assert_eq!((s, b["error"]["code"].as_str()), (403, Some("UserNotConfirmedException")), "{b}");

    // A second sign-up with the same address in other letter case is refused.
    let (s, b) = register(&env, &email.to_uppercase()).await;
    assert_eq!((s, b["error"]["code"].as_str()), (409, Some("EMAIL_TAKEN")), "{b}");

    // The code the local Cognito "emailed": in the log, as a developer reads it.
    let code = expenzez_tests::logged_code(&logs, "sign_up", &sub).expect("a sign-up code in the log");
    let (s, b) = post(&env, "/auth/confirm-signup", json!({"email": email, "code": code})).await;
    assert_eq!(s, 200, "{b}");
    // After confirmation too (the claim now exists).
    let (s, _) = register(&env, &email.to_lowercase()).await;
    assert_eq!(s, 409);

    let (s, b) = post(&env, "/auth/login", json!({"email": email.to_uppercase(), "password": PW})).await;
    assert_eq!(s, 200, "{b}");
    for f in ["accessToken", "idToken", "refreshToken"] {
        assert!(b[f].as_str().is_some_and(|t| t.len() > 20), "{f}");
    }
    let user = &b["user"];
    assert_eq!((user["id"].as_str(), user["sub"].as_str()), (Some(sub.as_str()), Some(sub.as_str())));
    assert_eq!(user["email"], email.to_lowercase());
    assert_eq!(
        (user["given_name"].as_str(), user["family_name"].as_str(), user["name"].as_str()),
        (Some("Jo"), Some("Bloggs"), Some("Jo Bloggs"))
    );
    let (access, refresh) = (b["accessToken"].as_str().unwrap().to_string(), b["refreshToken"].as_str().unwrap().to_string());

    // PostConfirmation made the profile.
    let me = TestUser { sub: sub.clone(), email: email.to_lowercase(), token: access.clone() };
    let (s, _, p) = send(env.get(&me, "/profile")).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!((p["profile"]["email"].as_str(), p["profile"]["firstName"].as_str()), (Some(email.to_lowercase().as_str()), Some("Jo")));

    let (s, b) = post(&env, "/auth/refresh", json!({"refreshToken": refresh})).await;
    assert_eq!(s, 200, "{b}");
    assert!(b["accessToken"].as_str().is_some_and(|t| t.len() > 20) && b["idToken"].is_string());
    let (s, b) = post(&env, "/auth/refresh", json!({"refreshToken": "not-a-token"})).await;
    assert!((400..500).contains(&s), "{s} {b}");

    let (s, _, b) = send(env.delete(&me, "/auth/delete-account")).await;
    assert_eq!(s, 200, "{b}");
    assert!(b["rowsDeleted"].as_u64().unwrap() >= 2, "{b}");
    assert_eq!(count_items(&env, &sub).await, 0);
    assert!(env.table.get::<EmailClaim>(&ItemKey::EmailClaim(Email::parse(&email).unwrap())).await.unwrap().is_none());
    let (s, _) = post(&env, "/auth/login", json!({"email": email, "password": PW})).await;
    assert_eq!(s, 401);

    // Nothing secret reached the logs.
    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(text.contains("POST /auth/login"), "the request lines are there");
    for secret in [PW, access.as_str(), refresh.as_str(), &access[access.len() - 40..]] {
        assert!(!text.contains(secret), "a secret is in the logs");
    }
    // The code is only in the local Cognito's stand-in for its email (never
    // in a request line), and no full email is anywhere.
    let with_code: Vec<&str> = text.lines().filter(|l| l.contains(code.as_str())).collect();
    assert!(!with_code.is_empty() && with_code.iter().all(|l| l.contains("\"target\":\"local_cognito\"")), "{with_code:?}");
    assert!(!text.contains(&email.to_lowercase()) && !text.contains(&email), "no full emails in the logs");
}

#[tokio::test]
async fn wrong_password_and_unknown_user_answer_the_same() {
    let env = ApiEnv::start().await;
    let u = env.user("kim", false).await;
    let (s1, mut b1) = post(&env, "/auth/login", json!({"email": u.email, "password": "Wrong-Passw0rd"})).await;
    let (s2, mut b2) = post(&env, "/auth/login", json!({"email": "nobody-here@example.com", "password": "Wrong-Passw0rd"})).await;
    assert_eq!((s1, s2), (401, 401));
    b1["error"]["correlationId"] = Value::Null;
    b2["error"]["correlationId"] = Value::Null;
    assert_eq!(b1, b2);
    // Forgot-password does not tell either.
    assert_eq!(post(&env, "/auth/forgot-password", json!({"email": "nobody-here@example.com"})).await.0, 200);
    assert_eq!(post(&env, "/auth/forgot-password", json!({"email": u.email})).await.0, 200);
    // Field errors before any call.
    let (s, b) = post(&env, "/auth/register", json!({"email": "not-an-email", "password": "short"})).await;
    assert_eq!(s, 422);
    assert_eq!(b["error"]["details"].as_array().unwrap().len(), 2);
    let (s, _) = post(&env, "/auth/confirm-forgot-password", json!({"email": u.email, "code": "12", "newPassword": "weak"})).await;
    assert_eq!(s, 422);
}

#[tokio::test]
async fn post_confirmation_twice_leaves_one_profile_and_one_claim() {
    let env = ApiEnv::start().await;
    let path = format!("{}/../events/cognito-post-confirmation.json", env!("CARGO_MANIFEST_DIR"));
    let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let first = expenzez_auth::triggers::post_confirmation(&env.table, event.clone()).await.unwrap();
    let again = expenzez_auth::triggers::post_confirmation(&env.table, event.clone()).await.unwrap();
    assert_eq!(first, event, "the event goes back to Cognito");
    assert_eq!(again, event);
    let sub = event["request"]["userAttributes"]["sub"].as_str().unwrap();
    let email = Email::parse(event["request"]["userAttributes"]["email"].as_str().unwrap()).unwrap();
    let u = UserId::new(sub).unwrap();
    let items = env.table.query_all_items(&Query::table(sub, expenzez_domain::keys::user_pk(&u))).await.unwrap();
    assert_eq!(items.len(), 1, "one profile");
    let p = env.table.get::<UserProfile>(&ItemKey::Profile(u.clone())).await.unwrap().unwrap();
    assert_eq!((p.version, p.value.email.clone()), (1, email.clone()));
    let claim = env.table.get::<EmailClaim>(&ItemKey::EmailClaim(email)).await.unwrap().unwrap();
    assert_eq!((claim.version, claim.value.user_id), (1, u));

    // A different user confirming the same email is refused.
    let mut other = event.clone();
    other["request"]["userAttributes"]["sub"] = json!("aaaaaaaa-0000-4000-8000-000000000000");
    assert!(expenzez_auth::triggers::post_confirmation(&env.table, other).await.is_err());
    // PreSignUp refuses the email now.
    let mut pre = event.clone();
    pre["triggerSource"] = json!("PreSignUp_SignUp");
    assert!(expenzez_auth::triggers::pre_signup(&env.table, pre).await.is_err());
    // A confirmed password reset changes nothing.
    let mut reset = event;
    reset["triggerSource"] = json!("PostConfirmation_ConfirmForgotPassword");
    reset["request"]["userAttributes"]["sub"] = json!("bbbbbbbb-0000-4000-8000-000000000000");
    expenzez_auth::triggers::post_confirmation(&env.table, reset).await.unwrap();
    assert!(env
        .table
        .get::<UserProfile>(&ItemKey::Profile(UserId::new("bbbbbbbb-0000-4000-8000-000000000000").unwrap()))
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn delete_user_data_removes_every_item_of_mine_only() {
    let env = ApiEnv::start().await;
    let a = env.user("ann", false).await;
    let b = env.user("ben", false).await;
    let until = expenzez_domain::Timestamp::parse("2026-11-01T00:00:00Z").unwrap();
    for (u, seed) in [(&a, 1), (&b, 2)] {
        let demo = expenzez_devtool::generate_for(&u.sub, &u.email, seed, until).unwrap();
        demo.load(&env.table).await.unwrap();
    }
    // A cache item of A's, and one expired chat message (still stored).
    let cache = expenzez_tests::fixtures::ai_cache(&UserId::new(&a.sub).unwrap());
    env.table.put(&cache, expenzez_store::Condition::None).await.unwrap();
    let old = expenzez_tests::fixtures::chat(&UserId::new(&a.sub).unwrap(), "old", "2025-01-01T00:00:00Z", 1);
    env.table.put(&old, expenzez_store::Condition::None).await.unwrap();
    let (a_before, b_before) = (count_items(&env, &a.sub).await, count_items(&env, &b.sub).await);
    assert!(a_before > 500 && b_before > 500);

    let (s, h, body) = send(env.http.delete(env.url("/user/data")).bearer_auth(&a.token).json(&json!({"confirm": "yes"}))).await;
    assert_eq!((s, h["content-type"].to_str().unwrap()), (422, "application/problem+json"), "{body}");
    assert_eq!(count_items(&env, &a.sub).await, a_before, "nothing deleted without the confirmation");

    let (s, _, body) =
        send(env.http.delete(env.url("/user/data")).bearer_auth(&a.token).json(&json!({"confirm": "DELETE_ALL_DATA"}))).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["rowsDeleted"].as_u64(), Some(a_before as u64 - 1), "every item but the profile");
    assert_eq!(count_items(&env, &a.sub).await, 1, "only the profile is left in A's partitions");
    assert!(
        env.table.get::<EmailClaim>(&ItemKey::EmailClaim(Email::parse(&a.email).unwrap())).await.unwrap().is_some(),
        "the email stays A's"
    );
    assert_eq!(count_items(&env, &b.sub).await, b_before, "B untouched");
    // The account stays usable: same identity, personal details gone, writes allowed.
    let (s, _, body) = send(env.get(&a, "/profile")).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["profile"]["email"], a.email.as_str());
    assert!(body["profile"]["city"].is_null(), "{body}");
    let (s, _, body) = send(env.put(&a, "/profile", &json!({"city": "Leeds"}))).await;
    assert_eq!(s, 200, "{body}");
    let (s, _, body) = send(env.post(
        &a,
        "/transactions",
        &json!({"amount": -3.5, "description": "coffee", "category": "Food & Dining", "date": "2026-10-01"}),
    ))
    .await;
    assert_eq!(s, 201, "{body}");
    // Re-running is safe.
    let (s, _, body) =
        send(env.http.delete(env.url("/user/data")).bearer_auth(&a.token).json(&json!({"confirm": "DELETE_ALL_DATA"}))).await;
    assert_eq!((s, body["rowsDeleted"].as_u64()), (200, Some(2)), "the new transaction and its month's summary: {body}");
}

#[tokio::test]
async fn email_change_moves_the_claim_and_refuses_a_taken_email() {
    let env = ApiEnv::start().await;
    let a = env.user("amy", false).await;
    let b = env.user("bea", false).await;
    for u in [&a, &b] {
        let claim =
            EmailClaim { email: Email::parse(&u.email).unwrap(), user_id: UserId::new(&u.sub).unwrap(), claimed_at: env.table.now() };
        env.table.put(&claim, expenzez_store::Condition::MustNotExist).await.unwrap();
    }
    let (s, _, body) = send(env.put(&a, "/profile", &json!({"email": b.email.to_uppercase()}))).await;
    assert_eq!((s, body["error"]["code"].as_str()), (409, Some("EMAIL_TAKEN")), "{body}");
    let new = format!("amy-new-{}@example.com", uuid::Uuid::new_v4().simple());
    let (s, _, body) = send(env.put(&a, "/profile", &json!({"email": new}))).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["profile"]["email"], new.as_str());
    let claim = env.table.get::<EmailClaim>(&ItemKey::EmailClaim(Email::parse(&new).unwrap())).await.unwrap().unwrap();
    assert_eq!(claim.value.user_id.as_str(), a.sub);
    assert!(
        env.table.get::<EmailClaim>(&ItemKey::EmailClaim(Email::parse(&a.email).unwrap())).await.unwrap().is_none(),
        "old claim released"
    );
    // GSI1 finds A under the new email.
    use expenzez_api::stores::ProfileStore;
    assert_eq!(env.table.email_owner(&Email::parse(&new).unwrap()).await.unwrap().map(|u| u.to_string()), Some(a.sub.clone()));
}

#[tokio::test]
async fn export_has_my_items_and_no_oauth_tokens() {
    let env = ApiEnv::start().await;
    let a = env.user("eve", false).await;
    let u = UserId::new(&a.sub).unwrap();
    env.table
        .put(&expenzez_tests::fixtures::transaction(&u, "t-1", "2025-08-01T10:00:00Z", "groceries", -500), expenzez_store::Condition::None)
        .await
        .unwrap();
    // A connection with its (encrypted) tokens: exported without them.
    let conn = expenzez_tests::fixtures::connection(&u, "c-1");
    assert!(conn.access_token.is_some() && conn.refresh_token.is_some());
    env.table.put(&conn, expenzez_store::Condition::None).await.unwrap();
    // An account whose number is stored encrypted is exported masked only.
    let account = expenzez_tests::fixtures::account(&u, "acc-x");
    env.table.put(&account, expenzez_store::Condition::None).await.unwrap();
    assert!(expenzez_tests::find_anywhere(&expenzez_tests::scan_all(&env.table).await, "12345678").is_empty(), "stored encrypted");
    let (s, _, b) = send(env.get(&a, "/user/export")).await;
    assert_eq!(s, 200, "{b}");
    let items = b["items"].as_array().unwrap();
    assert_eq!(items.len(), 4, "profile, transaction, connection, account: {b}");
    assert!(items.iter().any(|i| i["accountNumberMasked"] == "****5678" && i["accountNumber"].is_null()), "{b}");
    let text = b.to_string();
    for never in ["accessToken", "refreshToken", "\"accountNumber\"", "\"sortCode\"", "\"iban\"", "12345678", "\"PK\""] {
        assert!(!text.contains(never), "{never} in the export");
    }
    assert!(items.iter().any(|i| i["transactionId"] == "t-1" && i["amount"] == -500));
    assert!(items.iter().any(|i| i["connectionId"] == "c-1" && i["bankName"] == "Barclays"), "{b}");
}

/// The app's own sign-up, verification, sign-in and recovery calls, with the
/// bodies its screens send (APP-CONTRACT "Auth", "Profile").
#[tokio::test]
async fn the_apps_sign_up_and_recovery_flows() {
    let (_guard, logs) = expenzez_tests::capture_logs();
    let env = ApiEnv::start().await;
    let email = format!("Sam.Lee+{}@Example.com", uuid::Uuid::new_v4().simple());
    let app_register = |birthdate: &str, email: &str| {
        json!({
            "username": email, "name": "Sam Lee", "given_name": "Sam", "family_name": "Lee", "email": email,
            "password": PW, "marketing_consent": false, "birthdate": birthdate, "gender": "female"
        })
    };
    // Dates of birth: the app's MM/DD/YYYY; impossible, future and too-young dates are 422.
    for bad in ["1990-13-45", "02/30/1990", "13/01/1990", "01/01/2999", "01/01/2024", "yesterday"] {
        let (s, b) = post(&env, "/auth/register", app_register(bad, &email)).await;
        assert_eq!((s, b["error"]["details"][0]["field"].as_str()), (422, Some("birthdate")), "{bad}: {b}");
    }
    // The live "username taken" hint: free before registering.
    let (s, b) = post(&env, "/auth/check-user-status", json!({"username": email})).await;
    assert_eq!((s, b["error"]["code"].as_str()), (404, Some("UserNotFoundException")), "{b}");
    let (s, b) = post(&env, "/auth/register", app_register("04/15/1990", &email)).await;
    assert_eq!(s, 201, "{b}");
    let sub = b["cognitoUserSub"].as_str().unwrap().to_string();
    assert_eq!(b["username"], email.to_lowercase());
    let (s, b) = post(&env, "/auth/check-user-status", json!({"username": email.to_uppercase()})).await;
    assert_eq!((s, b["username"].as_str()), (200, Some(email.to_lowercase().as_str())), "{b}");
    assert_eq!(b.as_object().unwrap().len(), 1, "nothing else about the account: {b}");

    // Unconfirmed: 403 with the code the app reads, whichever name it uses.
    for who in [email.clone(), sub.clone()] {
        let (s, b) = post(&env, "/auth/login", json!({"username": who, "password": PW})).await;
        assert_eq!((s, b["error"]["code"].as_str()), (403, Some("UserNotConfirmedException")), "{b}");
    }
    // The verification screen sends {username, code}; the username may be the Cognito one.
    let code = expenzez_tests::logged_code(&logs, "sign_up", &sub).expect("a sign-up code in the log");
    let (s, b) = post(&env, "/auth/confirm-signup", json!({"username": sub, "code": code})).await;
    assert_eq!(s, 200, "{b}");
    // The auto-login after it sends {username, password}: the email or the Cognito username.
    for who in [email.to_lowercase(), sub.clone()] {
        let (s, b) = post(&env, "/auth/login", json!({"username": who, "password": PW})).await;
        assert_eq!((s, b["user"]["sub"].as_str()), (200, Some(sub.as_str())), "{b}");
    }
    // A wrong password: 401 with a message a person understands.
    let (s, b) = post(&env, "/auth/login", json!({"username": email, "password": "Wrong-Passw0rd"})).await;
    assert_eq!((s, b["error"]["code"].as_str()), (401, Some("NotAuthorizedException")), "{b}");
    assert_eq!(b["message"], "Incorrect email, username or password.");
    assert_eq!(b["error"]["retryable"], false);

    let (_, _, b) = send(env.http.post(env.url("/auth/login")).json(&json!({"email": email, "password": PW}))).await;
    let me = TestUser { sub: sub.clone(), email: email.to_lowercase(), token: b["accessToken"].as_str().unwrap().into() };
    // The profile: the date stored as one form, gender, isPremium.
    let (s, _, p) = send(env.get(&me, "/profile")).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!((p["profile"]["birthdate"].as_str(), p["profile"]["gender"].as_str()), (Some("1990-04-15"), Some("female")), "{p}");
    assert_eq!(p["profile"]["isPremium"], false);
    let (s, _, p) = send(env.put(&me, "/profile", &json!({"birthdate": "12/31/1985", "gender": "non-binary"}))).await;
    assert_eq!((s, p["profile"]["birthdate"].as_str(), p["profile"]["gender"].as_str()), (200, Some("1985-12-31"), Some("non-binary")));
    for bad in ["1990-13-45", "02/29/1987", "12/31/2999"] {
        let (s, _, b) = send(env.put(&me, "/profile", &json!({"birthdate": bad}))).await;
        assert_eq!((s, b["error"]["details"][0]["field"].as_str()), (422, Some("birthdate")), "{bad}: {b}");
    }
    assert_eq!(send(env.get(&me, "/profile")).await.2["profile"]["birthdate"], "1985-12-31", "nothing written");

    // Password reset as the app sends it: {username}, then {username, confirmationCode, newPassword}.
    let (s, b) = post(&env, "/auth/forgot-password", json!({"username": email})).await;
    assert_eq!((s, b["email"].as_str()), (200, Some("s***@example.com")), "{b}");
    let nobody = "nobody-here@example.com";
    let (s, b) = post(&env, "/auth/forgot-password", json!({"username": nobody})).await;
    assert_eq!((s, b["email"].as_str()), (200, Some("n***@example.com")), "the same answer for nobody: {b}");
    let new_pw = "Brand-new-Passw0rd";
    let code = expenzez_tests::logged_code(&logs, "reset_password", &sub).expect("a reset code in the log");
    let (s, b) =
        post(&env, "/auth/confirm-forgot-password", json!({"username": email, "confirmationCode": code, "newPassword": new_pw})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(post(&env, "/auth/login", json!({"username": email, "password": PW})).await.0, 401);
    assert_eq!(post(&env, "/auth/login", json!({"username": email, "password": new_pw})).await.0, 200);
    let (s, b) =
        post(&env, "/auth/confirm-forgot-password", json!({"username": email, "confirmationCode": "1", "newPassword": "weak"})).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["error"]["details"].as_array().unwrap().len(), 2, "{b}");

    // Forgot-username: the same answer whether or not the email has an account.
    let (s1, b1) = post(&env, "/auth/forgot-username", json!({"email": email})).await;
    let (s2, b2) = post(&env, "/auth/forgot-username", json!({"email": nobody})).await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(b1, b2);
    assert!(b1["displayMessage"].as_str().is_some_and(|m| m.contains("email")), "{b1}");
    assert_eq!(post(&env, "/auth/forgot-username", json!({"email": "not-an-email"})).await.0, 422);
}

/// The probing routes are rate-limited per caller: 429 with `Retry-After`.
#[tokio::test]
async fn check_user_status_and_sign_in_are_rate_limited() {
    let env = ApiEnv::start().await;
    let limit = expenzez_auth::handlers::CHECK_USER_LIMIT;
    // Two windows' worth at most before the limit bites (the window may roll over once).
    let mut limited = None;
    for i in 1..=(2 * limit.max + 1) {
        let (s, h, b) =
            send(env.http.post(env.url("/auth/check-user-status")).json(&json!({"username": format!("u{i}@example.com")}))).await;
        if s == 429 {
            limited = Some((i, h, b));
            break;
        }
        assert_eq!(s, 404, "{b}");
    }
    let (i, h, b) = limited.expect("the limit was reached");
    assert!(i > limit.max, "not before {} requests: {i}", limit.max);
    assert_eq!(b["error"]["code"], "RATE_LIMITED");
    let retry: i64 = h["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=limit.window_seconds).contains(&retry), "{retry}");

    // Sign-in attempts per account name.
    let u = env.user("lou", false).await;
    let limit = expenzez_auth::handlers::LOGIN_LIMIT;
    let mut statuses = Vec::new();
    for _ in 0..(2 * limit.max + 1) {
        let (s, _) = post(&env, "/auth/login", json!({"username": u.email, "password": "Wrong-Passw0rd"})).await;
        statuses.push(s);
        if s == 429 {
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert!(statuses[..statuses.len() - 1].iter().all(|s| *s == 401) && statuses.len() > limit.max as usize, "{statuses:?}");
    // The right password is refused too while the window lasts.
    assert_eq!(post(&env, "/auth/login", json!({"username": u.email, "password": expenzez_tests::PASSWORD})).await.0, 429);
}

/// The local stack's codes are real (issue 12, item 5): one per request, in
/// the local API's log, refused when wrong or used again; resend issues a new one.
#[tokio::test]
async fn confirmation_and_reset_codes_are_issued_logged_and_checked_once() {
    let (_guard, logs) = expenzez_tests::capture_logs();
    let env = ApiEnv::start().await;
    let email = format!("codes+{}@example.com", uuid::Uuid::new_v4().simple());
    let (s, b) = register(&env, &email).await;
    assert_eq!(s, 201, "{b}");
    let sub = b["cognitoUserSub"].as_str().unwrap().to_string();
    let first = expenzez_tests::logged_code(&logs, "sign_up", &sub).expect("a sign-up code in the log");
    assert!(first.len() == 6 && first.chars().all(|c| c.is_ascii_digit()), "{first}");

    // A wrong code is refused, and nothing is confirmed.
    let wrong = if first == "000000" { "111111" } else { "000000" };
    let (s, b) = post(&env, "/auth/confirm-signup", json!({"username": email, "code": wrong})).await;
    assert_eq!((s, b["error"]["code"].as_str()), (400, Some("CodeMismatchException")), "{b}");
    let (s, b) = post(&env, "/auth/login", json!({"username": email, "password": PW})).await;
    assert_eq!((s, b["error"]["code"].as_str()), (403, Some("UserNotConfirmedException")), "{b}");

    // Resend: a new code in the log; the first one is void.
    let (s, b) = post(&env, "/auth/resend-verification", json!({"username": email})).await;
    assert_eq!(s, 200, "{b}");
    let codes = expenzez_tests::logged_codes(&logs, "sign_up", &sub);
    assert_eq!(codes.len(), 2, "{codes:?}");
    let second = codes[1].clone();
    if second != first {
        let (s, b) = post(&env, "/auth/confirm-signup", json!({"username": email, "code": first})).await;
        assert_eq!((s, b["error"]["code"].as_str()), (400, Some("CodeMismatchException")), "the replaced code: {b}");
    }
    // The code from the log is accepted, once.
    let (s, b) = post(&env, "/auth/confirm-signup", json!({"username": email, "code": second})).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = post(&env, "/auth/confirm-signup", json!({"username": email, "code": second})).await;
    assert_eq!((s, b["error"]["code"].as_str()), (400, Some("CodeMismatchException")), "used again: {b}");
    assert_eq!(post(&env, "/auth/login", json!({"username": email, "password": PW})).await.0, 200);
    // A confirmed account gets no new sign-up code.
    assert_eq!(post(&env, "/auth/resend-verification", json!({"username": email})).await.0, 200);
    assert_eq!(expenzez_tests::logged_codes(&logs, "sign_up", &sub).len(), 2);

    // Forgot password by username: the reset code from the log, once.
    let (s, b) = post(&env, "/auth/forgot-password", json!({"username": email})).await;
    assert_eq!(s, 200, "{b}");
    let reset = expenzez_tests::logged_code(&logs, "reset_password", &sub).expect("a reset code in the log");
    let new_pw = "Reset-by-Passw0rd";
    let wrong = if reset == "000000" { "111111" } else { "000000" };
    let (s, b) =
        post(&env, "/auth/confirm-forgot-password", json!({"username": email, "confirmationCode": wrong, "newPassword": new_pw})).await;
    assert_eq!((s, b["error"]["code"].as_str()), (400, Some("CodeMismatchException")), "{b}");
    assert_eq!(post(&env, "/auth/login", json!({"username": email, "password": new_pw})).await.0, 401, "not changed");
    let (s, b) =
        post(&env, "/auth/confirm-forgot-password", json!({"username": email, "confirmationCode": reset, "newPassword": new_pw})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(post(&env, "/auth/login", json!({"username": email, "password": new_pw})).await.0, 200);
    assert_eq!(post(&env, "/auth/login", json!({"username": email, "password": PW})).await.0, 401);
    let (s, b) = post(
        &env,
        "/auth/confirm-forgot-password",
        json!({"username": email, "confirmationCode": reset, "newPassword": "Another-Passw0rd"}),
    )
    .await;
    assert_eq!((s, b["error"]["code"].as_str()), (400, Some("ExpiredCodeException")), "used again: {b}");
    assert_eq!(post(&env, "/auth/login", json!({"username": email, "password": new_pw})).await.0, 200, "still the first reset");
}
