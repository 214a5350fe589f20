//! The typed single-table layer against DynamoDB Local (started by `make test`).

use expenzez_domain::entities::*;
use expenzez_domain::ids::*;
use expenzez_domain::keys::{self, gsi1_email, gsi2_range, gsi3_category_prefix, Category, Index, ItemKey};
use expenzez_domain::SystemClock;
use expenzez_domain::{Email, FixedClock, Timestamp};
use expenzez_store::sdk::types::AttributeValue;
use expenzez_store::sdk::types::{PutRequest, WriteRequest};
use expenzez_store::{Condition, Query, StoreError, Table, TxAction};
use expenzez_tests::fixtures::*;
use expenzez_tests::{fresh_table, fresh_table_with_clock, fresh_table_without_cipher, scan_all};
use std::collections::HashSet;
use std::sync::Arc;

const FUTURE_TTL: i64 = 4_102_444_800; // 2100-01-01

async fn round_trip<E: Entity + PartialEq + std::fmt::Debug>(t: &Table, e: E) {
    let v = t.put(&e, Condition::MustNotExist).await.unwrap();
    assert_eq!(v, 1);
    let got = t.get::<E>(&e.item_key()).await.unwrap().expect("item is there");
    assert_eq!(got.value, e, "{} did not round-trip", E::ENTITY_TYPE);
    assert_eq!(got.version, 1);
}

#[tokio::test]
async fn every_entity_round_trips_exactly() {
    let t = fresh_table().await;
    let u = user("u-roundtrip");
    round_trip(&t, profile(&u, "Jane@Example.com")).await;
    round_trip(&t, email_claim(&u, "jane@example.com")).await;
    round_trip(&t, connection(&u, "conn-1")).await;
    round_trip(&t, account(&u, "acc-1")).await;
    round_trip(&t, transaction(&u, "t-1", "2025-08-02T10:00:00.123Z", "groceries", -1234)).await;
    round_trip(&t, summary(&u)).await;
    round_trip(&t, chat(&u, "m-1", "2025-08-20T10:00:00Z", FUTURE_TTL)).await;
    round_trip(&t, ai_cache(&u)).await;
    round_trip(&t, token(&u, "device-1")).await;
    round_trip(&t, notification_preferences(&u)).await;
    round_trip(&t, notification(&u, "n-1", "2025-08-20T10:00:00Z", FUTURE_TTL)).await;
    round_trip(&t, budget(&u, "b-1")).await;
    round_trip(&t, alert(&u, "a-1")).await;
    round_trip(&t, api_cache(Some(&u))).await;
    round_trip(&t, api_cache(None)).await;
    round_trip(&t, system_config("ai_assistant")).await;
    round_trip(&t, sync_run(&u)).await;
    round_trip(&t, idempotency(&u, "idem-1")).await;
}

/// The seed document's example record parses, stores and comes back equal,
/// and what is stored holds the seed's field names and values.
#[tokio::test]
async fn seed_example_user_profile_round_trips() {
    let seed = serde_json::json!({
      "PK": "USER#550e8400-e29b-41d4-a716-446655440000",
      "SK": "PROFILE",
      "userId": "550e8400-e29b-41d4-a716-446655440000",
      "email": "user@example.com",
      "name": "John Doe",
      "createdAt": "2025-08-20T10:00:00Z",
      "updatedAt": "2025-08-20T15:30:00Z",
      "preferences": {
        "theme": "dark",
        "currency": "GBP",
        "notifications": { "transactions": true, "budgets": true, "security": true, "marketing": false }
      },
      "status": "active",
      "emailVerified": true
    });
    let profile: UserProfile = serde_json::from_value(seed.clone()).unwrap();
    let t = fresh_table().await;
    round_trip(&t, profile.clone()).await;

    let raw = t
        .client()
        .get_item()
        .table_name(t.name())
        .key("PK", AttributeValue::S(seed["PK"].as_str().unwrap().into()))
        .key("SK", AttributeValue::S("PROFILE".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let s = |k: &str| raw[k].as_s().unwrap().clone();
    assert_eq!(s("userId"), "550e8400-e29b-41d4-a716-446655440000");
    assert_eq!(s("email"), "user@example.com");
    assert_eq!(s("name"), "John Doe");
    assert_eq!(s("createdAt"), "2025-08-20T10:00:00.000Z", "fixed-width UTC");
    assert_eq!(s("GSI1PK"), "user@example.com");
    assert_eq!(s("GSI1SK"), "USER");
    assert_eq!(s("entityType"), "USER_PROFILE");
    assert_eq!(raw["schemaVersion"].as_n().unwrap(), "1");
    assert_eq!(s("status"), "active");
    let prefs = raw["preferences"].as_m().unwrap();
    assert_eq!(prefs["theme"].as_s().unwrap(), "dark");
    assert!(!*prefs["notifications"].as_m().unwrap()["marketing"].as_bool().unwrap());
    // Nothing the example lacks was invented.
    for absent in ["kyc", "platform", "lastLoginAt", "firstName"] {
        assert!(!raw.contains_key(absent), "{absent} should be absent");
    }
}

#[tokio::test]
async fn money_is_stored_as_an_exact_number() {
    let t = fresh_table().await;
    let u = user("u-money");
    let txn = transaction(&u, "t-money", "2025-08-02T10:00:00Z", "groceries", -123_456_789_012);
    t.put(&txn, Condition::None).await.unwrap();
    let raw = t
        .client()
        .get_item()
        .table_name(t.name())
        .key("PK", AttributeValue::S(keys::user_pk(&u)))
        .key("SK", AttributeValue::S("TRANSACTION#t-money".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(raw["amount"].as_n().unwrap(), "-123456789012");
}

#[tokio::test]
async fn conditional_put_refuses_a_duplicate() {
    let t = fresh_table().await;
    let u = user("u-dup");
    let claim = email_claim(&u, "dup@example.com");
    t.put(&claim, Condition::MustNotExist).await.unwrap();
    let other = EmailClaim { user_id: user("someone-else"), ..claim.clone() };
    let err = t.put(&other, Condition::MustNotExist).await.unwrap_err();
    assert!(err.is_conflict(), "{err}");
    let stored = t.get::<EmailClaim>(&claim.item_key()).await.unwrap().unwrap();
    assert_eq!(stored.value.user_id, u, "the first claim stands");
}

#[tokio::test]
async fn a_stale_version_is_refused() {
    let t = fresh_table().await;
    let u = user("u-version");
    let p = profile(&u, "v@example.com");
    t.put(&p, Condition::MustNotExist).await.unwrap();
    let read = t.get_consistent::<UserProfile>(&p.item_key()).await.unwrap().unwrap();

    let mut first = read.value.clone();
    first.name = "First writer".into();
    assert_eq!(t.put(&first, Condition::Version(read.version)).await.unwrap(), 2);

    let mut second = read.value.clone();
    second.name = "Second writer".into();
    let err = t.put(&second, Condition::Version(read.version)).await.unwrap_err();
    assert!(err.is_conflict());
    let now = t.get::<UserProfile>(&p.item_key()).await.unwrap().unwrap();
    assert_eq!((now.value.name.as_str(), now.version), ("First writer", 2));

    // Deleting at a stale version is refused too.
    assert!(t.delete(&p.item_key(), Condition::Version(1)).await.unwrap_err().is_conflict());
}

#[tokio::test]
async fn concurrent_updates_both_apply() {
    let t = fresh_table().await;
    let u = user("u-concurrent");
    let c = connection(&u, "conn-1");
    t.put(&c, Condition::MustNotExist).await.unwrap();
    let key = c.item_key();
    let bump = |t: Table, key: ItemKey| async move {
        for _ in 0..10 {
            // The store's bounded retries may run out when the machine is slow
            // (each read decrypts through KMS); its answer is then a conflict,
            // which a caller retries as the API's clients retry its 409.
            loop {
                match t
                    .update::<BankConnection, _>(&key, |c| {
                        c.stats.sync_count += 1;
                        Ok(())
                    })
                    .await
                {
                    Ok(_) => break,
                    Err(e) if e.is_conflict() => continue,
                    Err(e) => panic!("{e}"),
                }
            }
        }
    };
    futures::join!(bump(t.clone(), key.clone()), bump(t.clone(), key.clone()), bump(t.clone(), key.clone()));
    let end = t.get::<BankConnection>(&key).await.unwrap().unwrap();
    assert_eq!(end.value.stats.sync_count, 40 + 30, "no update was lost");
    assert_eq!(end.version, 31);

    // A refusing change writes nothing.
    let err = t.update::<BankConnection, _>(&key, |_| Err(StoreError::Invalid("no".into()))).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)));
    assert_eq!(t.get::<BankConnection>(&key).await.unwrap().unwrap().version, 31);
    assert!(t
        .update::<BankConnection, _>(&ItemKey::BankConnection(u, ConnectionId::new("nope").unwrap()), |_| Ok(()))
        .await
        .unwrap_err()
        .is_not_found());
}

#[tokio::test]
async fn expired_items_are_invisible_to_get_and_query() {
    let now = Timestamp::parse("2025-08-20T12:00:00Z").unwrap();
    let t = fresh_table_with_clock(Arc::new(FixedClock::new(now))).await;
    let u = user("u-ttl");
    let expired = chat(&u, "m-old", "2025-07-01T10:00:00Z", now.epoch_seconds() - 1);
    let live = chat(&u, "m-new", "2025-08-20T10:00:00Z", now.epoch_seconds() + 3600);
    t.put(&expired, Condition::None).await.unwrap();
    t.put(&live, Condition::None).await.unwrap();

    assert!(t.get::<ChatMessage>(&expired.item_key()).await.unwrap().is_none());
    assert!(t.get::<ChatMessage>(&live.item_key()).await.unwrap().is_some());
    let page = t.query::<ChatMessage>(&Query::table(u.as_str(), keys::user_pk(&u)).begins_with(keys::prefix::CHAT)).await.unwrap();
    let ids: Vec<_> = page.items.iter().map(|m| m.value.message_id.as_str()).collect();
    assert_eq!(ids, ["m-new"]);
    let batch = t.batch_get::<ChatMessage>(&[expired.item_key(), live.item_key()]).await.unwrap();
    assert_eq!(batch.len(), 1);

    // The item is still physically there (DynamoDB Local never deletes it).
    let raw = t
        .client()
        .get_item()
        .table_name(t.name())
        .key("PK", AttributeValue::S(expired.item_key().key().pk))
        .key("SK", AttributeValue::S(expired.item_key().key().sk))
        .send()
        .await
        .unwrap();
    assert!(raw.item.is_some());
}

#[tokio::test]
async fn gsi1_finds_a_user_by_email() {
    let t = fresh_table().await;
    for (i, e) in ["alice@example.com", "bob@example.com", "carol@example.com"].iter().enumerate() {
        t.put(&profile(&user(&format!("u-{i}")), e), Condition::MustNotExist).await.unwrap();
    }
    let k = gsi1_email(&Email::parse(" BOB@example.com ").unwrap());
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ByEmail {
        user_id: String,
        name: String,
        status: String,
    }
    let page =
        t.query_as::<ByEmail>(&Query::index("system", Index::Gsi1, k.pk).sort_key(expenzez_store::SortKey::Equals(k.sk))).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].user_id, "u-1");
    assert_eq!((page.items[0].name.as_str(), page.items[0].status.as_str()), ("Jane Doe", "active"));
}

async fn put_year_of_transactions(t: &Table, u: &UserId) -> Vec<Transaction> {
    let cats = ["groceries", "transport", "food", "food_and_drink"];
    let txns: Vec<Transaction> = (0..120)
        .map(|i| {
            let day = Timestamp::parse("2025-01-01T08:00:00Z").unwrap().plus_seconds(i * 3 * 86_400 + i * 61);
            transaction(u, &format!("t-{i:03}"), &day.to_string(), cats[i as usize % cats.len()], -(100 + i))
        })
        .collect();
    t.batch_put(&txns).await.unwrap();
    txns
}

#[tokio::test]
async fn gsi2_date_range_is_exact_and_newest_first() {
    let t = fresh_table().await;
    let u = user("u-gsi2");
    let txns = put_year_of_transactions(&t, &u).await;
    put_year_of_transactions(&t, &user("u-other")).await;
    let from = Timestamp::parse("2025-03-01T00:00:00Z").unwrap();
    let to = Timestamp::parse("2025-04-30T23:59:59.999Z").unwrap();
    let (lo, hi) = gsi2_range(from, to);
    let items =
        t.query::<Transaction>(&Query::index(u.as_str(), Index::Gsi2, keys::user_pk(&u)).between(lo, hi).descending()).await.unwrap().items;
    let mut expected: Vec<&Transaction> = txns.iter().filter(|x| x.timestamp >= from && x.timestamp <= to).collect();
    expected.sort_by_key(|t| std::cmp::Reverse(t.timestamp));
    assert!(!expected.is_empty());
    let got: Vec<&Transaction> = items.iter().map(|v| &v.value).collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn gsi3_category_query_is_exact_and_in_order() {
    let t = fresh_table().await;
    let u = user("u-gsi3");
    let txns = put_year_of_transactions(&t, &u).await;
    let food = Category::new("food").unwrap();
    let items = t
        .query::<Transaction>(&Query::index(u.as_str(), Index::Gsi3, keys::user_pk(&u)).begins_with(gsi3_category_prefix(&food)))
        .await
        .unwrap()
        .items;
    let mut expected: Vec<&Transaction> = txns.iter().filter(|x| x.category.primary == food).collect();
    expected.sort_by_key(|x| x.timestamp);
    assert_eq!(expected.len(), 30, "food_and_drink is not food");
    assert_eq!(items.iter().map(|v| &v.value).collect::<Vec<_>>(), expected);
}

#[tokio::test]
async fn cursor_pagination_visits_every_item_once() {
    let t = fresh_table().await;
    let u = user("u-pages");
    let txns = put_year_of_transactions(&t, &u).await;
    let base = Query::index(u.as_str(), Index::Gsi2, keys::user_pk(&u)).descending().limit(7);
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = t.query::<Transaction>(&base.clone().after(cursor)).await.unwrap();
        pages += 1;
        seen.extend(page.items.into_iter().map(|v| v.value.transaction_id));
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), txns.len());
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), txns.len(), "no item twice");
    assert!(pages >= 120 / 7);
}

#[tokio::test]
async fn tampered_and_foreign_cursors_are_rejected() {
    let t = fresh_table().await;
    let u = user("u-cursor");
    put_year_of_transactions(&t, &u).await;
    let q = Query::index(u.as_str(), Index::Gsi2, keys::user_pk(&u)).descending().limit(5);
    let next = t.query_items(&q).await.unwrap().next.unwrap();

    // Tampered: one character changed.
    let mut bad = next.clone().into_bytes();
    bad[3] = if bad[3] == b'A' { b'B' } else { b'A' };
    let err = t.query_items(&q.clone().after(Some(String::from_utf8(bad).unwrap()))).await.unwrap_err();
    assert!(err.is_bad_cursor(), "{err}");

    // Another user's cursor, replayed by someone else on their own partition.
    let mallory = user("u-mallory");
    let theirs = Query::index(mallory.as_str(), Index::Gsi2, keys::user_pk(&mallory)).descending().limit(5);
    assert!(t.query_items(&theirs.after(Some(next.clone()))).await.unwrap_err().is_bad_cursor());

    // The same cursor on a different query of the same user.
    let other_query = Query::index(u.as_str(), Index::Gsi3, keys::user_pk(&u)).limit(5);
    assert!(t.query_items(&other_query.after(Some(next.clone()))).await.unwrap_err().is_bad_cursor());

    // The genuine one still works.
    assert!(t.query_items(&q.after(Some(next))).await.is_ok());
}

#[tokio::test]
async fn a_batch_of_1000_writes_lands_completely() {
    let t = fresh_table().await;
    let u = user("u-batch");
    let txns: Vec<Transaction> = (0..1000)
        .map(|i| {
            let at = Timestamp::parse("2025-01-01T00:00:00Z").unwrap().plus_seconds(i * 3600);
            transaction(&u, &format!("b-{i:04}"), &at.to_string(), "groceries", -(i + 1))
        })
        .collect();
    t.batch_put(&txns).await.unwrap();
    let all = t.query_all_items(&Query::table(u.as_str(), keys::user_pk(&u)).begins_with(keys::prefix::TRANSACTION)).await.unwrap();
    assert_eq!(all.len(), 1000);
    let keys: Vec<ItemKey> = txns.iter().map(Entity::item_key).collect();
    let got = t.batch_get::<Transaction>(&keys).await.unwrap();
    assert_eq!(got.into_iter().map(|v| v.value).collect::<Vec<_>>(), txns, "batch get returns them all, in order");

    let to_delete: Vec<_> = keys.iter().map(ItemKey::key).collect();
    t.batch_delete(&to_delete).await.unwrap();
    assert!(t.query_items(&Query::table(u.as_str(), keys::user_pk(&u))).await.unwrap().items.is_empty());
}

#[tokio::test]
async fn transactions_are_all_or_nothing() {
    let t = fresh_table().await;
    let u = user("u-tx");
    let p = profile(&u, "tx@example.com");
    let claim = email_claim(&u, "tx@example.com");
    t.transact(vec![TxAction::put(&p, Condition::MustNotExist).unwrap(), TxAction::put(&claim, Condition::MustNotExist).unwrap()], None)
        .await
        .unwrap();

    // A second user claiming the same email: the profile must not appear either.
    let u2 = user("u-tx-2");
    let err = t
        .transact(
            vec![
                TxAction::put(&profile(&u2, "tx@example.com"), Condition::MustNotExist).unwrap(),
                TxAction::put(&email_claim(&u2, "tx@example.com"), Condition::MustNotExist).unwrap(),
            ],
            None,
        )
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert!(t.get::<UserProfile>(&ItemKey::Profile(u2)).await.unwrap().is_none());

    // 100 actions is the limit; 101 is refused before any call.
    let many: Vec<TxAction> = (0..100)
        .map(|i| TxAction::put(&transaction(&u, &format!("x-{i}"), "2025-08-01T00:00:00Z", "misc", -1), Condition::MustNotExist).unwrap())
        .collect();
    t.transact(many, None).await.unwrap();
    let too_many: Vec<TxAction> = (0..101)
        .map(|i| TxAction::delete(&ItemKey::Transaction(u.clone(), TransactionId::new(format!("x-{i}")).unwrap()), Condition::None))
        .collect();
    assert!(matches!(t.transact(too_many, None).await.unwrap_err(), StoreError::Invalid(_)));
    assert_eq!(
        t.query_all_items(&Query::table(u.as_str(), keys::user_pk(&u)).begins_with(keys::prefix::TRANSACTION)).await.unwrap().len(),
        100
    );
}

#[tokio::test]
async fn consumed_capacity_is_reported() {
    let t = fresh_table().await;
    let u = user("u-capacity");
    let m = t.metered();
    m.put(&transaction(&u, "c-1", "2025-08-01T00:00:00Z", "groceries", -5), Condition::None).await.unwrap();
    let after_put = m.consumed();
    assert_eq!(after_put.calls, 1);
    // One item under 1 KB, written to the table, GSI2 and GSI3: 1 WCU each.
    assert!(after_put.write_units >= 3.0, "{after_put:?}");
    assert!(after_put.by_target.contains_key("GSI2") && after_put.by_target.contains_key("GSI3"), "{after_put:?}");

    m.get::<Transaction>(&ItemKey::Transaction(u.clone(), TransactionId::new("c-1").unwrap())).await.unwrap();
    let after_get = m.consumed();
    assert_eq!(after_get.calls, 2);
    assert_eq!(after_get.read_units, 0.5, "eventually consistent read of a small item");

    // A fresh handle starts at zero.
    assert_eq!(t.metered().consumed().calls, 0);
}

#[tokio::test]
async fn a_key_change_through_update_is_refused() {
    let t = fresh_table().await;
    let u = user("u-keychange");
    let p = profile(&u, "k@example.com");
    t.put(&p, Condition::None).await.unwrap();
    let err = t
        .update::<UserProfile, _>(&p.item_key(), |p| {
            p.user_id = user("someone-else");
            Ok(())
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)));
}

#[tokio::test]
async fn the_wrong_entity_type_does_not_decode() {
    let t = fresh_table().await;
    let u = user("u-type");
    t.put(&profile(&u, "type@example.com"), Condition::None).await.unwrap();
    // Reading a profile's key as a transaction must fail loudly, not half-parse.
    let page = t.query_items(&Query::table(u.as_str(), keys::user_pk(&u))).await.unwrap();
    let err = Table::decode::<Transaction>(page.items[0].clone()).unwrap_err();
    assert!(matches!(err, StoreError::Mapping { .. }));
}

#[tokio::test]
async fn the_local_table_is_the_template_table() {
    let t = fresh_table().await;
    let d = t.client().describe_table().table_name(t.name()).send().await.unwrap().table.unwrap();
    let mut gsis: Vec<(String, String)> = d
        .global_secondary_indexes()
        .iter()
        .map(|g| (g.index_name().unwrap().to_string(), g.projection().unwrap().projection_type().unwrap().as_str().to_string()))
        .collect();
    gsis.sort();
    let def = expenzez_store::schema::TableDef::from_template(&expenzez_store::schema::template_path()).unwrap();
    let mut expected: Vec<(String, String)> =
        def.global_secondary_indexes.iter().map(|g| (g.index_name.clone(), g.projection.projection_type.clone())).collect();
    expected.sort();
    assert_eq!(gsis, expected);
    assert_eq!(expected.iter().map(|g| g.0.as_str()).collect::<Vec<_>>(), ["GSI1", "GSI2", "GSI3"]);
    let ttl = t.client().describe_time_to_live().table_name(t.name()).send().await.unwrap();
    assert_eq!(ttl.time_to_live_description().and_then(|d| d.attribute_name()), Some("TTL"));
}

#[tokio::test]
async fn a_table_without_a_cipher_refuses_restricted_values() {
    let plain = fresh_table_without_cipher(Arc::new(SystemClock)).await;
    let u = user("u-nocipher");
    let c = connection(&u, "conn-1");
    let refused = |e: StoreError, attr: &str| matches!(e, StoreError::Unencrypted { attribute } if attribute == attr);

    // Every write path refuses, before any call.
    assert!(refused(plain.put(&c, Condition::None).await.unwrap_err(), "accessToken"));
    assert!(refused(plain.batch_put(&[account(&u, "acc-1")]).await.unwrap_err(), "accountNumber"));
    assert!(refused(plain.tx_put(&c, Condition::None).await.unwrap_err(), "accessToken"));
    assert!(refused(TxAction::put(&c, Condition::None).unwrap_err(), "accessToken"));
    assert!(refused(Table::encode(&c, 1).unwrap_err(), "accessToken"));
    // The cipher-less constructors refuse even on a table that has a cipher.
    let ciphered = plain.with_cipher(expenzez_tests::local_cipher(Arc::new(SystemClock)));
    assert!(refused(TxAction::put(&account(&u, "acc-1"), Condition::None).unwrap_err(), "accountNumber"));
    // Raw items are checked too, whatever their entity type.
    let mut raw = Table::encode(&BankConnection { access_token: None, refresh_token: None, ..c.clone() }, 1).unwrap();
    raw.insert("refreshToken".into(), AttributeValue::S("opaque-r".into()));
    let put = WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(raw.clone())).build().unwrap()).build();
    assert!(refused(ciphered.batch_write(vec![put]).await.unwrap_err(), "refreshToken"));
    let tx = TxAction::Put { item: raw.clone(), condition: Condition::None };
    assert!(refused(ciphered.transact(vec![tx], None).await.unwrap_err(), "refreshToken"));
    raw.insert("refreshToken".into(), AttributeValue::M(Default::default()));
    let tx = TxAction::Put { item: raw, condition: Condition::None };
    assert!(refused(ciphered.transact(vec![tx], None).await.unwrap_err(), "refreshToken"));
    assert!(scan_all(&plain).await.is_empty(), "nothing was written");

    // Without restricted values the entity is written as usual.
    let tokenless = BankConnection { access_token: None, refresh_token: None, ..c.clone() };
    plain.put(&tokenless, Condition::None).await.unwrap();
    assert_eq!(plain.get::<BankConnection>(&c.item_key()).await.unwrap().unwrap().value, tokenless);

    // An encrypted item cannot be read without the cipher, except redacted.
    ciphered.put(&c, Condition::None).await.unwrap();
    let err = plain.get::<BankConnection>(&c.item_key()).await.unwrap_err();
    assert!(matches!(err, StoreError::CipherMissing { attribute: "accessToken" }), "{err}");
    let q = Query::table(u.as_str(), keys::user_pk(&u)).begins_with(keys::prefix::BANK);
    let raw = plain.query_items(&q).await.unwrap().items.remove(0);
    assert!(matches!(Table::decode::<BankConnection>(raw.clone()).unwrap_err(), StoreError::CipherMissing { .. }));
    assert_eq!(ciphered.decode_item::<BankConnection>(raw).await.unwrap().value, c);
    let redacted = plain.query_redacted::<BankConnection>(&q).await.unwrap().items.remove(0).value;
    assert_eq!(redacted, tokenless);
}

#[tokio::test]
async fn set_fields_writes_plain_attributes_in_place_only_when_expected_and_never_restricted_ones() {
    let t = fresh_table().await;
    let u = user("set-fields");
    let c = connection(&u, "conn-1");
    t.put(&c, Condition::MustNotExist).await.unwrap();
    let key = ItemKey::BankConnection(u.clone(), c.connection_id.clone());
    let s = |v: &str| AttributeValue::S(v.into());
    let old = c.next_sync.unwrap().to_string();
    let new = c.next_sync.unwrap().plus_seconds(1800).to_string();

    // A stale expectation writes nothing.
    assert!(!t.set_fields(&key, &[("nextSync", s(&new))], &[("nextSync", s("2000-01-01T00:00:00.000Z"))]).await.unwrap());
    // Restricted and key attributes are refused before any call.
    for name in ["accessToken", "refreshToken", "PK", "SK", "itemVersion"] {
        assert!(matches!(t.set_fields(&key, &[(name, s("x"))], &[]).await, Err(StoreError::Invalid(_))), "{name}");
    }
    // A missing item is not created.
    let missing = ItemKey::BankConnection(u.clone(), ConnectionId::new("nope").unwrap());
    assert!(!t.set_fields(&missing, &[("nextSync", s(&new))], &[]).await.unwrap());
    assert!(t.get::<BankConnection>(&missing).await.unwrap().is_none());

    assert!(t.set_fields(&key, &[("nextSync", s(&new))], &[("nextSync", s(&old))]).await.unwrap());
    let got = t.get_consistent::<BankConnection>(&key).await.unwrap().unwrap();
    assert_eq!((got.version, got.value.next_sync.map(|n| n.to_string())), (2, Some(new)));
    assert_eq!(got.value.access_token, c.access_token, "the restricted fields still open");
}
