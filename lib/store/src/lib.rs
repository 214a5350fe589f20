//! The DynamoDB adapter: the table's typed operations over aws-sdk-dynamodb
//! and serde_dynamo. Every call asks for consumed capacity and records it in
//! the [`Table`]'s meter; every read treats an item whose `TTL` has passed as
//! absent (DynamoDB deletes expired items late, DynamoDB Local never does).

mod capacity;
mod error;
mod item;
mod query;
pub mod schema;
mod table;
mod transact;

pub use capacity::Capacity;
pub use error::StoreError;
pub use item::{Item, Versioned};
pub use query::{Page, Query, SortKey};
pub use table::{Condition, Table, TableConfig, TRANSACT_MAX};
pub use transact::TxAction;

pub use aws_sdk_dynamodb as sdk;
