//! The assistant and recurring bills: chat history (TTL 30 days), answers
//! grounded in the user's own stored data (a deterministic engine, no
//! network), and the handlers of `/ai/*` and `/bills/*`.

pub mod bills;
pub mod chat;
pub mod context;
pub mod engine;
pub mod format;
pub mod insight;
pub mod jobs;
pub mod llm;
pub mod recurring;
pub mod report;
pub mod routes;
pub use routes::Assistant;
pub mod stores;

#[cfg(test)]
mod testdata;
