//! `make dev`: creates the local table from template.yaml and loads the demo data.

use expenzez_devtool::{demo_until, generate, DEMO_EMAIL, DEMO_USER_ID};
use expenzez_domain::cursor::CursorKey;
use expenzez_domain::{Clock, SystemClock};
use expenzez_store::schema::{template_path, TableDef};
use expenzez_store::{Table, TableConfig};
use std::io::Write;
use std::sync::Arc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let table_name = std::env::var("TABLE_NAME").unwrap_or_else(|_| "expenzez-local".into());
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    TableDef::from_template(&template_path())?.create(&client, &table_name).await?;
    // Cursors are not used by the seeder; any key will do.
    let key = CursorKey::new(vec![0u8; 32]).expect("32 bytes");
    let table = Table::new(client, TableConfig::new(&table_name, key), Arc::new(SystemClock));

    let demo = generate(2026, demo_until(SystemClock.now()));
    demo.load(&table).await?;

    let c = table.consumed();
    // A command-line tool's report goes to stdout.
    writeln!(
        std::io::stdout(),
        "dev-seed: table {table_name}: demo user {DEMO_USER_ID} ({DEMO_EMAIL}): {} accounts, {} transactions, {} monthly summaries, {} budgets, {} chat messages, {} notifications ({} DynamoDB calls, {:.0} WCU)",
        demo.accounts.len(), demo.transactions.len(), demo.summaries.len(), demo.budgets.len(), demo.chat.len(), demo.notifications.len(), c.calls, c.write_units
    )?;
    Ok(())
}
