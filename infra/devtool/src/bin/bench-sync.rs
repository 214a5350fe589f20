//! Benchmark (not a test): a first bank sync of 10,000 transactions against
//! the DynamoDB Local of `$AWS_ENDPOINT_URL_DYNAMODB`, next to a raw
//! BatchWriteItem of the same items on the same server, as a ratio.
//!
//! `STACK_DIR=.local/run-bench infra/stack.sh start && source .local/run-bench/stack.env
//!  && cargo run --release -p expenzez-devtool --bin bench-sync`

use expenzez_banking::memory::{MemoryAccount, MemoryProvider};
use expenzez_banking::provider::{AccountNumber, ProviderAccount, ProviderBalance, ProviderTransaction};
use expenzez_banking::{sync_connection, SyncSettings};
use expenzez_domain::cursor::CursorKey;
use expenzez_domain::entities::*;
use expenzez_domain::ids::{ConnectionId, UserId};
use expenzez_domain::keys;
use expenzez_domain::money::{Currency, Money};
use expenzez_domain::{FixedClock, Timestamp};
use expenzez_store::schema::{template_path, TableDef};
use expenzez_store::{Condition, Query, Table, TableConfig};
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

const N: usize = 10_000;

async fn table(client: &aws_sdk_dynamodb::Client, clock: Arc<FixedClock>) -> anyhow::Result<Table> {
    let name = format!("bench-{}", uuid_like());
    TableDef::from_template(&template_path())?.create(client, &name).await?;
    // Tokens are restricted fields: a local-key cipher, as offline tools use.
    let key = expenzez_store::crypto::LocalKeyProvider::new(b"expenzez-bench-local-field-key-3")?;
    let cipher = expenzez_store::crypto::FieldCipher::new(Arc::new(key), Default::default(), clock.clone());
    Ok(Table::new(client.clone(), TableConfig::new(name, CursorKey::new(vec![0u8; 32]).expect("32 bytes")), clock)
        .with_cipher(Arc::new(cipher)))
}

fn uuid_like() -> String {
    format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let now = Timestamp::parse("2025-08-20T10:00:00Z")?;
    let clock = Arc::new(FixedClock::new(now));
    let client = aws_sdk_dynamodb::Client::new(&aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await);
    let user = UserId::new("bench-user")?;
    let connection = ConnectionId::new("bench-conn")?;

    let cats = ["Groceries", "Transport", "Eating out", "Bills", "Shopping"];
    let settled: Vec<ProviderTransaction> = (0..N)
        .map(|n| ProviderTransaction {
            transaction_id: format!("v-{n}"),
            normalised_provider_transaction_id: Some(format!("bench-{n}")),
            provider_transaction_id: None,
            // Spread over the 90-day first-sync window (three or four months).
            timestamp: now.plus_seconds(-((n as i64 * 7_757) % (89 * 86_400)) - 60),
            description: format!("PAYMENT {n}"),
            amount: Money::from_minor(-(100 + (n as i64 * 37) % 10_000)),
            currency: Currency::gbp(),
            transaction_type: "DEBIT".into(),
            transaction_category: "PURCHASE".into(),
            transaction_classification: vec![cats[n % cats.len()].into()],
            merchant_name: None,
            running_balance: None,
        })
        .collect();
    let bank = MemoryProvider::new(vec![MemoryAccount {
        account: ProviderAccount {
            account_id: "bench-acc".into(),
            account_type: AccountType::Checking,
            display_name: "Bench".into(),
            currency: Currency::gbp(),
            number: AccountNumber { number: None, sort_code: None, iban: None },
            bank_name: "Bench Bank".into(),
            logo: None,
        },
        balance: ProviderBalance {
            currency: Currency::gbp(),
            available: Money::ZERO,
            current: Money::ZERO,
            overdraft: None,
            updated_at: now,
        },
        settled,
        pending: Vec::new(),
    }]);

    // The sync: plan + TransactWriteItems groups of <= 100 actions with summaries.
    let synced = table(&client, clock.clone()).await?;
    // The demo bank's connection (its tokens are whatever the in-memory provider accepts).
    let mut conn = expenzez_banking::memory::demo_connection(&user, now);
    conn.connection_id = connection.clone();
    conn.bank_name = "Bench Bank".into();
    synced.put(&conn, Condition::MustNotExist).await?;
    let started = Instant::now();
    let report = sync_connection(&synced, &bank, &SyncSettings::default(), &user, &connection).await?;
    let sync_secs = started.elapsed().as_secs_f64();
    let sync_capacity = synced.consumed();

    // Raw BatchWriteItem of the very same items, on the same server.
    let q = Query::table(user.as_str(), keys::user_pk(&user)).begins_with(keys::prefix::TRANSACTION);
    let txns: Vec<Transaction> = synced
        .query_all_items(&q)
        .await?
        .into_iter()
        .map(|i| Table::decode::<Transaction>(i).map(|v| v.value))
        .collect::<Result<_, _>>()?;
    let raw = table(&client, clock.clone()).await?;
    let started = Instant::now();
    raw.batch_put(&txns).await?;
    let raw_secs = started.elapsed().as_secs_f64();

    let (sync_rate, raw_rate) = (report.transactions_written as f64 / sync_secs, txns.len() as f64 / raw_secs);
    writeln!(
        std::io::stdout(),
        "bench-sync: first sync of {} transactions: {:.2} s, {:.0} txn/s ({} DynamoDB calls, {:.0} WCU); raw BatchWriteItem of the same {} items: {:.2} s, {:.0} txn/s; sync/raw = {:.2}",
        report.transactions_written, sync_secs, sync_rate, sync_capacity.calls, sync_capacity.write_units, txns.len(), raw_secs, raw_rate, sync_rate / raw_rate
    )?;
    Ok(())
}
