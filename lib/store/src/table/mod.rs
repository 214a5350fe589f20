//! The typed table handle: [`Table`] (client, settings, clock, cipher,
//! capacity meter), write [`Condition`]s and in-place changes. Its operations
//! live by kind in `items` (single items and the item codec), `queries` and
//! `batches`; transactions in `crate::transact`.

use crate::capacity::{Capacity, Kind, Meter};
use crate::error::{from_sdk, StoreError};
use crate::item::{check_type, from_item, from_item_any, is_expired, key_item, key_of, n, to_item, Item, Versioned};
use crate::query::{Page, Query, RawPage, SortKey};
use crate::retry::Retry;
use crate::seal::{check_raw, open, redact, refuse_plaintext, refuse_sealed, seal};
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, KeysAndAttributes, PutRequest, ReturnConsumedCapacity, WriteRequest};
use aws_sdk_dynamodb::Client;
use expenzez_crypto::FieldCipher;
use expenzez_domain::cursor::{self, CursorKey, CursorScope, Position};
use expenzez_domain::entities::{Entity, RESTRICTED_ATTRIBUTES};
use expenzez_domain::keys::{self, ItemKey, Key};
use expenzez_domain::{Clock, Timestamp};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::Arc;

/// Applies a [`Condition`] to any request builder that has the three
/// condition setters (PutItem, DeleteItem, and their transaction forms).
macro_rules! conditioned {
    ($req:expr, $condition:expr, $now:expr) => {
        match $condition.expression($now) {
            Some((expr, names, values)) => $req
                .condition_expression(expr)
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values((!values.is_empty()).then_some(values)),
            None => $req,
        }
    };
}
pub(crate) use conditioned;

/// What a write requires of the item already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// Overwrite whatever is there; the version restarts at 1. Only for items
    /// nobody edits concurrently (caches, idempotency records).
    None,
    /// Refuse if an item with this key exists (duplicates). An item whose
    /// `TTL` has passed counts as absent and is replaced (SPEC §5 "TTL"):
    /// DynamoDB deletes expired items up to days late.
    MustNotExist,
    /// Refuse unless an item with this key exists (e.g. the user's profile:
    /// nothing is written for a deleted account).
    MustExist,
    /// Refuse unless the item is still at this version (optimistic locking).
    Version(u64),
}

impl Condition {
    pub(crate) fn next_version(self) -> u64 {
        match self {
            Condition::Version(v) => v + 1,
            _ => 1,
        }
    }
    /// (expression, names, values); `now` in epoch seconds decides expiry.
    pub(crate) fn expression(self, now: i64) -> Option<ConditionExpr> {
        match self {
            Condition::None => None,
            Condition::MustNotExist => Some((
                "attribute_not_exists(#pk) OR #ttl <= :now".into(),
                HashMap::from([("#pk".into(), keys::PK.into()), ("#ttl".into(), keys::TTL.into())]),
                HashMap::from([(":now".into(), n(now))]),
            )),
            Condition::MustExist => {
                Some(("attribute_exists(#pk)".into(), HashMap::from([("#pk".into(), keys::PK.into())]), HashMap::new()))
            }
            Condition::Version(v) => Some((
                "#iv = :expectedVersion".into(),
                HashMap::from([("#iv".into(), keys::ITEM_VERSION.into())]),
                HashMap::from([(":expectedVersion".into(), n(v))]),
            )),
        }
    }
}

/// A condition expression with its attribute names and values.
pub type ConditionExpr = (String, HashMap<String, String>, HashMap<String, AttributeValue>);

/// The changes of one [`Table::update_in_place`].
#[derive(Debug, Clone, Default)]
pub struct InPlace<'a> {
    pub set: &'a [(&'a str, AttributeValue)],
    pub add: &'a [(&'a str, i64)],
    pub remove: &'a [&'a str],
}

/// Settings of a [`Table`].
#[derive(Debug, Clone)]
pub struct TableConfig {
    pub table_name: String,
    pub cursor_key: CursorKey,
    /// Attempts for unprocessed batch items and optimistic-lock retries.
    pub max_attempts: u32,
    /// Parallel batch requests in flight.
    pub batch_concurrency: usize,
    /// Encrypts restricted attributes. Without it, writing an entity whose
    /// restricted attributes are set is refused, and reading one fails.
    pub cipher: Option<Arc<FieldCipher>>,
}

impl TableConfig {
    pub fn new(table_name: impl Into<String>, cursor_key: CursorKey) -> Self {
        Self { table_name: table_name.into(), cursor_key, max_attempts: 8, batch_concurrency: 4, cipher: None }
    }

    pub fn with_cipher(mut self, cipher: Arc<FieldCipher>) -> Self {
        self.cipher = Some(cipher);
        self
    }
}

#[derive(Debug)]
struct Inner {
    client: Client,
    config: TableConfig,
    clock: Arc<dyn Clock>,
}

/// The single table. Cheap to clone; [`Table::metered`] gives a handle whose
/// consumed capacity can be read for one request.
#[derive(Debug, Clone)]
pub struct Table {
    inner: Arc<Inner>,
    meter: Arc<Meter>,
}

const BATCH_WRITE_MAX: usize = 25;
const BATCH_GET_MAX: usize = 100;
/// TransactWriteItems limit.
pub const TRANSACT_MAX: usize = 100;

impl Table {
    pub fn new(client: Client, config: TableConfig, clock: Arc<dyn Clock>) -> Self {
        Self { inner: Arc::new(Inner { client, config, clock }), meter: Arc::default() }
    }

    /// The same table (client, settings, clock) with `cipher` for restricted attributes.
    pub fn with_cipher(&self, cipher: Arc<FieldCipher>) -> Table {
        let config = self.inner.config.clone().with_cipher(cipher);
        Table::new(self.inner.client.clone(), config, self.inner.clock.clone())
    }

    pub fn cipher(&self) -> Option<&FieldCipher> {
        self.inner.config.cipher.as_deref()
    }

    /// Same table, fresh capacity meter.
    pub fn metered(&self) -> Table {
        Table { inner: self.inner.clone(), meter: Arc::default() }
    }

    /// Capacity consumed through this handle so far.
    pub fn consumed(&self) -> Capacity {
        self.meter.snapshot()
    }

    /// The key that signs this table's cursors; other short-lived tokens bound
    /// to a user (the bank-connect `state`) are sealed with it under their own scope.
    pub fn cursor_key(&self) -> &CursorKey {
        &self.inner.config.cursor_key
    }

    pub fn name(&self) -> &str {
        &self.inner.config.table_name
    }

    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    pub(crate) fn record(&self, kind: Kind, consumed: &[aws_sdk_dynamodb::types::ConsumedCapacity]) {
        self.meter.record(kind, consumed)
    }

    pub(crate) fn max_attempts(&self) -> u32 {
        self.inner.config.max_attempts
    }
}

mod batches;
mod items;
mod queries;
