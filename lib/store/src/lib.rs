//! The DynamoDB adapter: the table's typed operations over aws-sdk-dynamodb
//! and serde_dynamo. Every call asks for consumed capacity and records it in
//! the [`Table`]'s meter; every read treats an item whose `TTL` has passed as
//! absent (DynamoDB deletes expired items late, DynamoDB Local never does).
//!
//! Restricted attributes (SPEC §5 "Field encryption") are encrypted by the
//! table's [`FieldCipher`](expenzez_crypto::FieldCipher) on every write and
//! decrypted on every typed read; a table without a cipher refuses to write
//! them. Methods that cannot encrypt (the synchronous [`TxAction::put`],
//! [`Table::encode`], [`Table::decode`]) refuse restricted values; their async
//! counterparts ([`Table::tx_put`], [`Table::encode_item`],
//! [`Table::decode_item`]) handle them.

mod capacity;
mod error;
mod item;
mod query;
pub mod queue;
pub mod retry;
pub mod schema;
mod seal;
mod table;
mod transact;

pub use capacity::Capacity;
pub use error::StoreError;
pub use item::{Item, Versioned};
pub use query::{Page, Query, SortKey};
pub use queue::{JsonQueue, QueueError, QueueMessage};
pub use retry::Retry;
pub use table::{Condition, ConditionExpr, InPlace, Table, TableConfig, TRANSACT_MAX};
pub use transact::TxAction;

pub use aws_sdk_dynamodb as sdk;
pub use expenzez_crypto as crypto;
