//! The stored entities: the seed's (field names and string enums as in
//! seeds/004, camelCase) plus the four new items of SPEC §3.
//!
//! An entity carries its domain fields only. The store adds `PK`/`SK`, the GSI
//! keys, `entityType`, `schemaVersion` and `itemVersion` from [`Entity`], so no
//! entity can be written with a key built elsewhere.

use crate::keys::{IndexKey, ItemKey};
use serde::de::DeserializeOwned;
use serde::Serialize;

mod ai;
mod banking;
mod budget;
mod notifications;
mod summary;
mod system;
mod user;

pub use ai::*;
pub use banking::*;
pub use budget::*;
pub use notifications::*;
pub use summary::*;
pub use system::*;
pub use user::*;

/// A typed item of the table.
pub trait Entity: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Value of `entityType` (e.g. `TRANSACTION`).
    const ENTITY_TYPE: &'static str;
    /// Bumped when the stored shape changes, so old items can be upgraded on read.
    const SCHEMA_VERSION: u32 = 1;
    /// Its primary key.
    fn item_key(&self) -> ItemKey;
    /// Its GSI keys (none by default; sparse indexes return none when not indexed).
    fn index_keys(&self) -> Vec<IndexKey> {
        Vec::new()
    }
}

/// `TTL` for an item that should disappear `days` after `from`.
pub fn ttl_after_days(from: crate::Timestamp, days: i64) -> i64 {
    from.epoch_seconds() + days * 86_400
}
