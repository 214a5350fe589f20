//! Expenzez domain: everything that can be tested without a server.
//!
//! - [`ids`]: newtype ids, validated so they can never break a key.
//! - [`keys`]: the only place where `PK`/`SK`/`GSI*` strings are built (SPEC §3).
//! - [`money`]: exact money in integer minor units.
//! - [`time`]: fixed-width UTC timestamps and an injectable clock.
//! - [`entities`]: the seed's entities plus the four new items, as typed structs.
//! - [`cursor`]: opaque, HMAC-authenticated pagination cursors.
//! - [`mask`]: the plaintext masks stored beside encrypted bank details.
//! - [`category`]: the one category taxonomy (the app's names, aliases, the bank's classifications).
//! - [`merchant`]: merchant names compared as people mean them, and keyword category rules.
//! - [`metrics`]: CloudWatch Embedded Metric Format lines (what the alarms and dashboard read).

pub mod category;
pub mod cursor;
pub mod email;
pub mod entities;
pub mod ids;
pub mod keys;
pub mod mask;
pub mod merchant;
pub mod metrics;
pub mod money;
pub mod time;

pub use email::Email;
pub use money::{Currency, Money};
pub use time::{Clock, FixedClock, SystemClock, Timestamp};
