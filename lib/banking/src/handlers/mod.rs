//! The banking routes the app calls (APP-CONTRACT.md "Banking"), one file
//! per group like `expenzez_api::handlers`: [`connections`] (`GET
//! /banking/connected`, `POST /banking/transactions/refresh`), [`connect`]
//! (`POST /banking/connect`, `POST /banking/callback`), [`accounts`]
//! (`GET|POST /banking/accounts`, `DELETE /banking/remove/{accountId}`) and
//! [`institutions`]. This module holds their state, [`Banking`]; the
//! projections they list with are in [`rows`]; what connecting seals and
//! stores (the OAuth state, the new connection) is in [`crate::connect`].

pub mod accounts;
pub mod connect;
pub mod connections;
pub mod institutions;
pub mod rows;

pub use accounts::{accounts, remove};
pub use connect::{callback, connect};
pub use connections::{connected, refresh, REFRESH_MIN_INTERVAL_SECS};
pub use institutions::{institutions, institutions_cache_hash, INSTITUTIONS_CACHE};

use crate::connect::ConnectSettings;
use crate::lambda::{AnyProvider, LambdaError};
use crate::provider::BankProvider;
use crate::queue::SyncQueue;
use crate::sync::SyncSettings;
use expenzez_api::error::ApiError;
use expenzez_api::stores::Metered;
use expenzez_domain::Timestamp;
use expenzez_store::{Capacity, Table};
use std::sync::Arc;

/// What the banking handlers need, built once per instance.
pub struct Banking<P> {
    pub table: Table,
    pub provider: Arc<P>,
    pub settings: Arc<SyncSettings>,
    /// Where a new connection's first sync is sent (`SYNC_QUEUE_URL`).
    pub queue: Option<Arc<SyncQueue>>,
    /// Redirect URIs and lifetimes for connecting (`BANK_REDIRECT_URIS`).
    pub connect: Option<Arc<ConnectSettings>>,
}

impl<P> Clone for Banking<P> {
    fn clone(&self) -> Self {
        Self {
            table: self.table.clone(),
            provider: self.provider.clone(),
            settings: self.settings.clone(),
            queue: self.queue.clone(),
            connect: self.connect.clone(),
        }
    }
}

impl<P> Banking<P> {
    pub fn new(table: Table, provider: P) -> Self {
        Self { table, provider: Arc::new(provider), settings: Arc::new(SyncSettings::default()), queue: None, connect: None }
    }
}

impl Banking<AnyProvider> {
    /// For a banking Lambda's `main`: tracing, the table (with a field cipher
    /// when `FIELD_KEY_PROVIDER` is set), the provider (`BANK_PROVIDER`), the
    /// sync queue (`SYNC_QUEUE_URL`, optional), the notification queue of the
    /// sync and the callback (`NOTIFICATION_QUEUE_URL`, optional) and the connect settings
    /// (`BANK_REDIRECT_URIS`, required when `needs_connect`).
    pub async fn from_env(needs_connect: bool) -> Result<Self, lambda_http::Error> {
        let table = expenzez_api::config::init().await?;
        let provider = AnyProvider::from_env(table.now())?;
        let connect = ConnectSettings::from_env();
        if needs_connect && connect.is_none() {
            return Err(LambdaError::Config("BANK_REDIRECT_URIS").into());
        }
        let mut b = Banking::new(table, provider);
        b.settings = Arc::new(SyncSettings::from_env().await);
        b.queue = SyncQueue::from_env().await.map(Arc::new);
        b.connect = connect.map(Arc::new);
        Ok(b)
    }
}

impl<P: BankProvider + 'static> Metered for Banking<P> {
    fn metered(&self) -> Self {
        Self { table: self.table.metered(), ..self.clone() }
    }
    fn consumed(&self) -> Capacity {
        self.table.consumed()
    }
    fn now(&self) -> Timestamp {
        self.table.now()
    }
}

/// The connect settings, which the connect and callback functions are built with.
fn settings<P>(b: &Banking<P>) -> Result<&ConnectSettings, ApiError> {
    b.connect.as_deref().ok_or_else(|| {
        tracing::error!("BANK_REDIRECT_URIS is not configured");
        ApiError::Internal
    })
}
