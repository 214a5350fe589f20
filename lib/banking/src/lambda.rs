//! What the dispatcher and worker Lambdas do, so their `main`s stay small:
//! typed configuration from the environment (checked at init), the provider
//! chosen once, and the two handlers.

use crate::memory::MemoryProvider;
use crate::provider::*;
use crate::queue::SyncQueue;
use crate::schedule::{lease_due, run_jobs, SyncJob};
use crate::sync::SyncSettings;
use crate::truelayer::{TrueLayer, TrueLayerConfig};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use expenzez_domain::entities::Provider;
use expenzez_domain::Timestamp;
use expenzez_store::{StoreError, Table};

#[derive(Debug, thiserror::Error)]
pub enum LambdaError {
    #[error("environment variable {0} is not set or invalid")]
    Config(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("queue refused {0} message(s)")]
    Queue(usize),
}

fn env(name: &'static str) -> Result<String, LambdaError> {
    std::env::var(name).ok().filter(|v| !v.is_empty()).ok_or(LambdaError::Config(name))
}

/// The provider a deployment syncs against: TrueLayer, or the deterministic
/// demo bank (`BANK_PROVIDER=demo`, for `make dev`).
pub enum AnyProvider {
    TrueLayer(TrueLayer),
    Demo(MemoryProvider),
}

impl AnyProvider {
    /// `BANK_PROVIDER` (`truelayer` | `demo`); for TrueLayer `TRUELAYER_AUTH_URL`,
    /// `TRUELAYER_API_URL`, `TRUELAYER_CLIENT_ID` and, where tokens are
    /// exchanged or refreshed, `TRUELAYER_CLIENT_SECRET`.
    pub fn from_env(now: Timestamp) -> Result<Self, LambdaError> {
        match env("BANK_PROVIDER")?.as_str() {
            "demo" => Ok(AnyProvider::Demo(MemoryProvider::demo(1, now, 90))),
            "truelayer" => {
                let c = TrueLayerConfig::new(
                    env("TRUELAYER_AUTH_URL")?,
                    env("TRUELAYER_API_URL")?,
                    env("TRUELAYER_CLIENT_ID")?,
                    // Only the functions that exchange or refresh tokens hold it.
                    std::env::var("TRUELAYER_CLIENT_SECRET").unwrap_or_default(),
                );
                TrueLayer::new(c).map(AnyProvider::TrueLayer).map_err(|_| LambdaError::Config("TRUELAYER_*"))
            }
            _ => Err(LambdaError::Config("BANK_PROVIDER")),
        }
    }
}

impl BankProvider for AnyProvider {
    fn provider(&self) -> Provider {
        Provider::Truelayer
    }
    fn permissions(&self) -> Vec<String> {
        match self {
            AnyProvider::TrueLayer(p) => p.permissions(),
            AnyProvider::Demo(p) => p.permissions(),
        }
    }
    fn auth_link(&self, state: &str, redirect_uri: &str, institution: Option<&str>) -> String {
        match self {
            AnyProvider::TrueLayer(p) => p.auth_link(state, redirect_uri, institution),
            AnyProvider::Demo(p) => p.auth_link(state, redirect_uri, institution),
        }
    }
    async fn exchange_code(&self, code: &str, redirect_uri: &str) -> ProviderResult<Tokens> {
        match self {
            AnyProvider::TrueLayer(p) => p.exchange_code(code, redirect_uri).await,
            AnyProvider::Demo(p) => p.exchange_code(code, redirect_uri).await,
        }
    }
    async fn refresh(&self, refresh_token: &str) -> ProviderResult<Tokens> {
        match self {
            AnyProvider::TrueLayer(p) => p.refresh(refresh_token).await,
            AnyProvider::Demo(p) => p.refresh(refresh_token).await,
        }
    }
    async fn accounts(&self, token: &str) -> ProviderResult<Vec<ProviderAccount>> {
        match self {
            AnyProvider::TrueLayer(p) => p.accounts(token).await,
            AnyProvider::Demo(p) => p.accounts(token).await,
        }
    }
    async fn balance(&self, token: &str, account_id: &str) -> ProviderResult<ProviderBalance> {
        match self {
            AnyProvider::TrueLayer(p) => p.balance(token, account_id).await,
            AnyProvider::Demo(p) => p.balance(token, account_id).await,
        }
    }
    async fn transactions(
        &self,
        token: &str,
        account_id: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> ProviderResult<Vec<ProviderTransaction>> {
        match self {
            AnyProvider::TrueLayer(p) => p.transactions(token, account_id, from, to).await,
            AnyProvider::Demo(p) => p.transactions(token, account_id, from, to).await,
        }
    }
    async fn pending_transactions(&self, token: &str, account_id: &str) -> ProviderResult<Vec<ProviderTransaction>> {
        match self {
            AnyProvider::TrueLayer(p) => p.pending_transactions(token, account_id).await,
            AnyProvider::Demo(p) => p.pending_transactions(token, account_id).await,
        }
    }
    async fn institutions(&self) -> ProviderResult<Vec<Institution>> {
        match self {
            AnyProvider::TrueLayer(p) => p.institutions().await,
            AnyProvider::Demo(p) => p.institutions().await,
        }
    }
    async fn revoke(&self, token: &str) -> ProviderResult<()> {
        match self {
            AnyProvider::TrueLayer(p) => p.revoke(token).await,
            AnyProvider::Demo(p) => p.revoke(token).await,
        }
    }
}

/// Due connections per shard per dispatch: bounds one run's work; the rest
/// stay due and go out on the next tick.
pub const DISPATCH_PER_SHARD: usize = 500;

/// How long a dispatched connection is not handed out again: two ticks.
pub const DISPATCH_LEASE: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// The dispatcher: every due connection is leased ([`lease_due`]) and becomes
/// one message on the sync queue.
pub async fn dispatch(table: &Table, queue: &SyncQueue) -> Result<usize, LambdaError> {
    let jobs = lease_due(table, table.now(), DISPATCH_PER_SHARD, DISPATCH_LEASE).await?;
    let refused = queue.send(&jobs).await;
    tracing::info!(due = jobs.len(), refused, "bank sync dispatched");
    // A refused connection stays due and is sent on the next tick; failing
    // the invocation makes that visible in the function's error metric.
    if refused > 0 {
        return Err(LambdaError::Queue(refused));
    }
    Ok(jobs.len())
}

/// The worker: syncs each message's connection; answers the ids to redeliver.
/// A message that is not a [`SyncJob`] is logged and dropped (it would only
/// fail again; the DLQ is for syncs that could not record their outcome).
pub async fn work<P: BankProvider>(table: &Table, provider: &P, settings: &SyncSettings, event: SqsEvent) -> SqsBatchResponse {
    let mut jobs = Vec::new();
    for m in event.records {
        let id = m.message_id.unwrap_or_default();
        match m.body.as_deref().map(serde_json::from_str::<SyncJob>) {
            Some(Ok(job)) => jobs.push((id, job)),
            _ => tracing::error!(message_id = %id, "sync message is not a sync job; dropped"),
        }
    }
    let failed = run_jobs(table, provider, settings, jobs).await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    response
}
