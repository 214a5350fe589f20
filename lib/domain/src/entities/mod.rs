//! The stored entities: the seed's (field names and string enums as in
//! seeds/004, camelCase) plus the new items of SPEC §3 (and keys.rs).
//!
//! An entity carries its domain fields only. The store adds `PK`/`SK`, the GSI
//! keys, `entityType`, `schemaVersion` and `itemVersion` from [`Entity`], so no
//! entity can be written with a key built elsewhere.

use crate::keys::{IndexKey, ItemKey};

use serde::de::DeserializeOwned;
use serde::Serialize;

mod ai;
mod banking;
mod bills;
mod budget;
mod imports;
mod notifications;
mod security;
mod summary;
mod system;
mod user;

pub use ai::*;
pub use banking::*;
pub use bills::*;
pub use budget::*;
pub use imports::*;
pub use notifications::*;
pub use security::*;
pub use summary::*;
pub use system::*;
pub use user::*;

/// A typed item of the table.
pub trait Entity: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Value of `entityType` (e.g. `TRANSACTION`).
    const ENTITY_TYPE: &'static str;
    /// Bumped when the stored shape changes, so old items can be upgraded on read.
    const SCHEMA_VERSION: u32 = 1;
    /// Brings a value read from an item of an older schema (`from`, the
    /// item's `schemaVersion`; 0 when it has none) up to this one. The store
    /// calls it on every typed read of such an item; writing the value back
    /// stores it at [`Entity::SCHEMA_VERSION`].
    fn upgrade(&mut self, from: u32) {
        let _ = from;
    }
    /// Its primary key.
    fn item_key(&self) -> ItemKey;
    /// Top-level attributes holding restricted data (SPEC §5 "Field
    /// encryption"): the store encrypts each one present before it reaches
    /// DynamoDB and refuses to write it when it cannot. Every name listed
    /// here must also be in [`RESTRICTED_ATTRIBUTES`].
    const RESTRICTED_FIELDS: &'static [&'static str] = &[];
    /// Its GSI keys (none by default; sparse indexes return none when not indexed).
    fn index_keys(&self) -> Vec<IndexKey> {
        Vec::new()
    }
}

/// Every restricted attribute name of every entity. The names are reserved
/// table-wide: the store refuses any raw item carrying one of them as a
/// plaintext string, whatever its entity.
pub const RESTRICTED_ATTRIBUTES: &[&str] = &["accessToken", "refreshToken", "accountNumber", "sortCode", "iban"];

/// `TTL` for an item that should disappear `days` after `from`.
pub fn ttl_after_days(from: crate::Timestamp, days: i64) -> i64 {
    from.epoch_seconds() + days * 86_400
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each entity's restricted fields are in the table-wide list, and are
    /// really the names its items carry (a rename would silently unprotect them).
    fn check<E: Entity>(sample: &E) {
        let value = serde_json::to_value(sample).expect("serialises");
        for field in E::RESTRICTED_FIELDS {
            assert!(RESTRICTED_ATTRIBUTES.contains(field), "{field} is not in RESTRICTED_ATTRIBUTES");
            assert!(value.get(field).is_some_and(serde_json::Value::is_string), "{} has no string {field}", E::ENTITY_TYPE);
        }
    }

    #[test]
    fn restricted_fields_are_real_attribute_names() {
        check(&banking::tests::connection());
        check(&banking::tests::account());
        assert_eq!(BankConnection::RESTRICTED_FIELDS, ["accessToken", "refreshToken"]);
        assert_eq!(BankAccount::RESTRICTED_FIELDS, ["accountNumber", "sortCode", "iban"]);
        assert!(Transaction::RESTRICTED_FIELDS.is_empty());
    }
}
