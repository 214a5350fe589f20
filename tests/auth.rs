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

    let code = "123456";
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
    assert!(
        !text.contains(&format!("\"code\":\"{code}\"")) && !text.contains(&email.to_lowercase()),
        "no codes or full emails in the logs"
    );
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
