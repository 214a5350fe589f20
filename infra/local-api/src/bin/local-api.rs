//! `make dev`: the local API on http://127.0.0.1:$PORT (default 3000) over the
//! local stack, with a demo user signed in to the local Cognito and its data
//! loaded; prints the user's access token and a working curl.

use expenzez_api::config::AppConfig;
use expenzez_devtool::{demo_until, generate_for};
use expenzez_domain::{Clock, SystemClock};
use expenzez_local_api::cognito::CognitoAdmin;
use expenzez_local_api::{template, Authorizer, LocalApi};
use expenzez_notify::expo::{Expo, ExpoConfig};
use expenzez_notify::{Notifier, NotifierSettings, Notify};
use expenzez_store::schema::{template_path, TableDef};
use std::io::Write;

const DEMO_EMAIL: &str = "demo@expenzez.local";
const DEMO_PASSWORD: &str = "Demo-Passw0rd";
/// The scheduled sync's rate in template.yaml.
const DISPATCH_EVERY: std::time::Duration = std::time::Duration::from_secs(15 * 60);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    expenzez_api::edge::init_tracing();
    let config = AppConfig::from_env()?;
    let table = config.table().await?;
    // The notification queue first, so every producer in this process finds
    // it in NOTIFICATION_QUEUE_URL as a deployed function would.
    let notify_queue = expenzez_local_api::notify_queue::create("expenzez-notifications-local").await?;
    std::env::set_var("NOTIFICATION_QUEUE_URL", notify_queue.url());
    let tpl = template::load(&template_path())?;
    TableDef::from_template(&template_path())?.create(table.client(), table.name()).await?;

    let cognito = CognitoAdmin::from_env()?;
    let pool = cognito.create_pool(&tpl, "expenzez-local").await?;
    let sub = cognito.create_user(&pool, DEMO_EMAIL, DEMO_PASSWORD, true).await?;
    let demo = generate_for(&sub, DEMO_EMAIL, 2026, demo_until(SystemClock.now()))?;
    demo.load(&table).await?;
    let tokens = cognito.login(&pool, DEMO_EMAIL, DEMO_PASSWORD).await?;

    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3000);
    let auth = expenzez_local_api::triggers::local_auth(&table, &pool.pool_id, &pool.client_id).await;
    // A connected demo bank: POST /banking/transactions/refresh syncs it.
    let user = expenzez_domain::ids::UserId::new(sub.clone())?;
    table.put(&expenzez_banking::memory::demo_connection(&user, table.now()), expenzez_store::Condition::None).await?;
    let mut banking = expenzez_local_api::demo_banking(&table, 1);
    // The sync and the bank callback send their notifications, as deployed.
    banking.settings = std::sync::Arc::new(expenzez_banking::SyncSettings::from_env().await);
    // The sync queue in the local SQS, worked as Lambda's event source would.
    let queue = expenzez_local_api::sync_queue::create("expenzez-bank-sync-local").await?;
    let _worker = expenzez_local_api::sync_queue::poll(queue.clone(), table.clone(), banking.provider.clone(), banking.settings.clone());
    // EventBridge's rate(15 minutes) (template.yaml, BankSyncDispatcherFunction): the dispatcher on the same queue.
    let (ticker_table, ticker_queue) = (table.clone(), queue.clone());
    let _scheduler = tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + DISPATCH_EVERY, DISPATCH_EVERY);
        loop {
            tick.tick().await;
            if let Err(e) = expenzez_banking::lambda::dispatch(&ticker_table, &ticker_queue).await {
                tracing::warn!(error = %e, "local bank sync dispatch failed");
            }
        }
    });
    banking.queue = Some(std::sync::Arc::new(queue));
    // Expo's push service, faked locally: it logs each push it would send.
    let push_url = expenzez_local_api::fake_push::start(([127, 0, 0, 1], 0).into()).await?;
    let expo = Expo::new(ExpoConfig::new(&push_url, None))?;
    let notifier = Notifier { table: table.clone(), expo: expo.clone(), queue: notify_queue, settings: NotifierSettings::default() };
    let _notifier = expenzez_local_api::notify_queue::poll(std::sync::Arc::new(notifier));
    let notify = Notify::new(table.clone(), Some(expo));
    // The table's stream, read as the evaluator's event source mapping would: budget alerts
    // from every transaction change (the demo's own included, so its crossed threshold alerts).
    let _alerts = expenzez_local_api::budget_stream::poll(table.clone(), expenzez_budgets::NotificationQueue::from_env().await);
    // EventBridge's daily rollover (template.yaml, BudgetRolloverFunction).
    let rollover_table = table.clone();
    let _rollover = tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(24 * 3600));
        loop {
            tick.tick().await;
            if let Err(e) = expenzez_budgets::rollover::run(&rollover_table).await {
                tracing::warn!(error = %e, "local budget rollover failed");
            }
        }
    });
    // EventBridge's daily consent check (template.yaml, BankConsentCheckFunction).
    let (consent_table, consent_queue) = (table.clone(), expenzez_banking::notices::NotificationQueue::from_env().await);
    let _consent = tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(24 * 3600));
        loop {
            tick.tick().await;
            if let Some(q) = &consent_queue {
                if let Err(e) = expenzez_banking::consent::run(&consent_table, q).await {
                    tracing::warn!(error = %e, "local consent check failed");
                }
            }
        }
    });
    // EventBridge's assistant jobs (template.yaml, MonthlyReportsFunction and
    // BillRemindersFunction): last month's reports and due bill reminders, at start and daily.
    let (jobs_table, jobs_queue) = (table.clone(), expenzez_store::JsonQueue::from_env().await);
    let _assistant_jobs = tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(24 * 3600));
        loop {
            tick.tick().await;
            if let Err(e) = expenzez_assistant::jobs::monthly_reports(&jobs_table).await {
                tracing::warn!(error = %e, "local monthly reports failed");
            }
            if let Some(q) = &jobs_queue {
                if let Err(e) = expenzez_assistant::jobs::bill_reminders(&jobs_table, q).await {
                    tracing::warn!(error = %e, "local bill reminders failed");
                }
            }
        }
    });
    // The statements bucket in the local S3, set up as template.yaml's StatementBucket.
    let objects = expenzez_local_api::statement_bucket::create("expenzez-statements-local").await?;
    let statements = expenzez_statements::Statements { table: table.clone(), objects };
    let api = LocalApi {
        routes: template::routes(&tpl),
        authorizer: Authorizer::new(&pool.issuer, &pool.client_id, &pool.jwks_url),
        assistant: expenzez_assistant::Assistant {
            table: table.clone(),
            llm: expenzez_assistant::llm::Bedrock::from_env().await.map(std::sync::Arc::new),
        },
        table,
        auth,
        banking,
        notify,
        statements,
    };
    let running = api.start(([127, 0, 0, 1], port).into()).await?;
    let url = running.url();
    let mut out = std::io::stdout();
    writeln!(
        out,
        "\nLocal API: {url}  (user pool {}, app client {})\nDemo user: {DEMO_EMAIL} / {DEMO_PASSWORD} (sub {sub}, in the admin group)\n\nexport TOKEN={}\ncurl -s {url}/transactions/summary -H \"Authorization: Bearer $TOKEN\"\ncurl -s '{url}/transactions?limit=3' -H \"Authorization: Bearer $TOKEN\"\ncurl -s -X POST {url}/banking/transactions/refresh -H \"Authorization: Bearer $TOKEN\" -H 'content-type: application/json' -d '{{}}'\ncurl -s {url}/banking/connected -H \"Authorization: Bearer $TOKEN\"\ncurl -s {url}/budgets -H \"Authorization: Bearer $TOKEN\"\ncurl -s {url}/alerts/pending -H \"Authorization: Bearer $TOKEN\"\ncurl -s -X POST {url}/transactions/statement-upload-url -H \"Authorization: Bearer $TOKEN\" -H 'content-type: application/json' -d '{{}}'   (then PUT a PDF to uploadUrl and POST {{\"s3Key\": key}} to /transactions/parse-statement)\ncurl -s -X POST {url}/banking/connect -H \"Authorization: Bearer $TOKEN\" -H 'content-type: application/json' -d '{{}}'\nPushes go to a local fake of Expo's push service at {push_url}, which logs them (target fake_push).\n\nThe token lasts an hour. Ctrl-C stops the server and the local stack.",
        pool.pool_id, pool.client_id, tokens.access_token
    )?;
    out.flush()?;
    tokio::select! {
        _ = running.wait() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
