//! The local API server. `sam local` needs Docker; this does not. It reads the
//! HttpApi routes from template.yaml, checks access tokens as API Gateway's
//! JWT authorizer does (signature against the issuer's JWKS, issuer,
//! `client_id`, expiry, `token_use`), builds the same payload-2.0 event API
//! Gateway would, and runs the function's handler in-process.

pub mod authorizer;
pub mod cognito;
pub mod server;
pub mod template;
pub mod triggers;

pub use authorizer::Authorizer;
pub use server::{LocalApi, Running};

/// The banking routes' state for a local API: the demo bank (deterministic
/// for `seed`), default sync settings.
pub fn demo_banking(table: &expenzez_store::Table, seed: u64) -> expenzez_banking::http::Banking<expenzez_banking::memory::MemoryProvider> {
    let bank = expenzez_banking::memory::MemoryProvider::demo(seed, table.now(), 90);
    expenzez_banking::http::Banking {
        table: table.clone(),
        provider: std::sync::Arc::new(bank),
        settings: std::sync::Arc::new(expenzez_banking::SyncSettings::default()),
    }
}
