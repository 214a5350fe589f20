//! The local API server. `sam local` needs Docker; this does not. It reads the
//! HttpApi routes from template.yaml, checks access tokens as API Gateway's
//! JWT authorizer does (signature against the issuer's JWKS, issuer,
//! `client_id`, expiry, `token_use`), builds the same payload-2.0 event API
//! Gateway would, and runs the function's handler in-process.

pub mod authorizer;
pub mod budget_stream;
pub mod cognito;
pub mod cognito_codes;
pub mod fake_push;
pub mod notify_queue;
pub mod server;
pub mod statement_bucket;
pub mod sync_queue;
pub mod template;
pub mod triggers;

pub use authorizer::Authorizer;
pub use server::{LocalApi, Running};

use expenzez_banking::connect::ConnectSettings;
use expenzez_banking::lambda::AnyProvider;
use expenzez_banking::Banking;

/// Where the local API's bank connections redirect after the bank (the
/// app's deep link; registered with the provider in a real deployment).
pub const LOCAL_REDIRECT_URI: &str = "expenzez://banking/callback";

/// The banking routes' state for a local API: the demo bank (deterministic
/// for `seed`), default sync settings, no queue (see [`sync_queue`]).
pub fn demo_banking(table: &expenzez_store::Table, seed: u64) -> Banking<AnyProvider> {
    banking(table, AnyProvider::Demo(expenzez_banking::memory::MemoryProvider::demo(seed, table.now(), 90)))
}

/// The banking routes' state for `provider`, redirecting to [`LOCAL_REDIRECT_URI`].
pub fn banking(table: &expenzez_store::Table, provider: AnyProvider) -> Banking<AnyProvider> {
    let mut b = Banking::new(table.clone(), provider);
    b.connect = Some(std::sync::Arc::new(ConnectSettings::new(vec![LOCAL_REDIRECT_URI.to_string()])));
    b
}
