//! Bank connections: the provider port ([`provider::BankProvider`]), TrueLayer's
//! Data API v1 ([`truelayer::TrueLayer`]), a deterministic in-memory provider
//! for `make dev` and tests ([`memory::MemoryProvider`]), and the idempotent
//! sync of one connection ([`sync::sync_connection`]).

pub mod connect;
pub mod consent;
pub mod handlers;
pub mod lambda;
pub mod memory;
pub mod notices;
pub mod provider;
pub mod queue;
pub mod routes;
pub mod schedule;
pub mod store;
pub mod sync;
pub mod truelayer;

pub use handlers::Banking;
pub use provider::{BankProvider, ProviderError};
pub use sync::{sync_connection, SyncError, SyncReport, SyncSettings};
