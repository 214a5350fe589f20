//! The app's data API: the HTTP edge (caller from JWT claims, typed bodies,
//! problem+json errors, one log line per request) and the handlers, generic
//! over the narrow store traits in [`stores`].

pub mod config;
pub mod edge;
pub mod error;
pub mod event;
pub mod handlers;
pub mod idempotency;
pub mod json;
pub mod ledger;
pub mod notices;
pub mod ratelimit;
pub mod registry;
pub mod request;
pub mod retry;
pub mod routes;
pub mod stores;
pub mod validate;

pub use edge::Reply;
pub use error::ApiError;
/// For the [`routes!`] macro of every crate.
pub use lambda_http;
pub use request::Ctx;
