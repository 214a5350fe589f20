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

/// A condition expression with its attribute names and values.
pub(crate) type Expression = (String, HashMap<String, String>, HashMap<String, AttributeValue>);

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
    pub(crate) fn expression(self, now: i64) -> Option<Expression> {
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

    /// One item, eventually consistent; an expired item is `None`.
    pub async fn get<E: Entity>(&self, key: &ItemKey) -> Result<Option<Versioned<E>>, StoreError> {
        self.get_with(key, false).await
    }

    /// One item, strongly consistent (before a read-modify-write).
    pub async fn get_consistent<E: Entity>(&self, key: &ItemKey) -> Result<Option<Versioned<E>>, StoreError> {
        self.get_with(key, true).await
    }

    async fn get_with<E: Entity>(&self, key: &ItemKey, consistent: bool) -> Result<Option<Versioned<E>>, StoreError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.name())
            .set_key(Some(key_item(&key.key())))
            .consistent_read(consistent)
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await
            .map_err(|e| from_sdk("GetItem", e))?;
        self.record(Kind::Read, out.consumed_capacity().map(std::slice::from_ref).unwrap_or_default());
        match out.item {
            Some(item) if !is_expired(&item, self.now().epoch_seconds()) => self.decode_item(item).await.map(Some),
            _ => Ok(None),
        }
    }

    /// Writes an entity under `condition`; returns the new version.
    pub async fn put<E: Entity>(&self, entity: &E, condition: Condition) -> Result<u64, StoreError> {
        let version = condition.next_version();
        let item = self.encode_item(entity, version).await?;
        let req =
            self.client().put_item().table_name(self.name()).set_item(Some(item)).return_consumed_capacity(ReturnConsumedCapacity::Indexes);
        let req = conditioned!(req, condition, self.now().epoch_seconds());
        let out = req.send().await.map_err(|e| from_sdk("PutItem", e))?;
        self.record(Kind::Write, out.consumed_capacity().map(std::slice::from_ref).unwrap_or_default());
        Ok(version)
    }

    /// Read-modify-write with optimistic locking: reads the item (consistent),
    /// applies `change`, writes it back only if nobody wrote in between, and
    /// retries from a fresh read if somebody did. `change` may refuse with an
    /// error, which is returned and nothing is written.
    pub async fn update<E, F>(&self, key: &ItemKey, mut change: F) -> Result<Versioned<E>, StoreError>
    where
        E: Entity,
        F: FnMut(&mut E) -> Result<(), StoreError>,
    {
        let mut tries = Retry::new(self.max_attempts());
        loop {
            tries.next().await;
            let Versioned { mut value, version } = self.get_consistent::<E>(key).await?.ok_or(StoreError::NotFound)?;
            change(&mut value)?;
            if value.item_key() != *key {
                return Err(StoreError::Invalid("an update may not change the item's key".into()));
            }
            match self.put(&value, Condition::Version(version)).await {
                Ok(version) => return Ok(Versioned { value, version }),
                Err(e) if e.is_conflict() && tries.has_more() => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Sets plain attributes of an existing item in place, if each attribute
    /// in `expect` still holds the given value; bumps its version. Returns
    /// whether it was written (`false`: gone or changed meanwhile).
    ///
    /// For the few writers that must not read (and so decrypt) the whole item,
    /// such as the sync dispatcher's lease on a connection. Restricted and key
    /// attributes are refused: those change only through typed writes.
    pub async fn set_fields(
        &self,
        key: &ItemKey,
        set: &[(&str, AttributeValue)],
        expect: &[(&str, AttributeValue)],
    ) -> Result<bool, StoreError> {
        if set.is_empty() {
            return Err(StoreError::Invalid("set_fields needs at least one attribute".into()));
        }
        for (name, _) in set {
            if RESTRICTED_ATTRIBUTES.contains(name) || [keys::PK, keys::SK, keys::ITEM_VERSION].contains(name) {
                return Err(StoreError::Invalid(format!("{name} cannot be set in place")));
            }
        }
        let mut names = HashMap::from([("#pk".to_string(), keys::PK.to_string()), ("#iv".to_string(), keys::ITEM_VERSION.to_string())]);
        let mut values = HashMap::from([(":one".to_string(), n(1))]);
        let mut sets = Vec::new();
        for (i, (name, value)) in set.iter().enumerate() {
            names.insert(format!("#s{i}"), name.to_string());
            values.insert(format!(":s{i}"), value.clone());
            sets.push(format!("#s{i} = :s{i}"));
        }
        sets.push("#iv = #iv + :one".into());
        let mut conditions = vec!["attribute_exists(#pk)".to_string()];
        for (i, (name, value)) in expect.iter().enumerate() {
            names.insert(format!("#e{i}"), name.to_string());
            values.insert(format!(":e{i}"), value.clone());
            conditions.push(format!("#e{i} = :e{i}"));
        }
        let out = self
            .client()
            .update_item()
            .table_name(self.name())
            .set_key(Some(key_item(&key.key())))
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression(conditions.join(" AND "))
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await
            .map_err(|e| from_sdk("UpdateItem", e));
        match out {
            Ok(out) => {
                self.record(Kind::Write, out.consumed_capacity().map(std::slice::from_ref).unwrap_or_default());
                Ok(true)
            }
            Err(e) if e.is_conflict() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes an item; `Condition::Version` refuses if it changed meanwhile.
    /// Returns whether an item was there.
    pub async fn delete(&self, key: &ItemKey, condition: Condition) -> Result<bool, StoreError> {
        let req = self
            .client()
            .delete_item()
            .table_name(self.name())
            .set_key(Some(key_item(&key.key())))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes);
        let req = conditioned!(req, condition, self.now().epoch_seconds());
        let out = req.send().await.map_err(|e| from_sdk("DeleteItem", e))?;
        self.record(Kind::Write, out.consumed_capacity().map(std::slice::from_ref).unwrap_or_default());
        Ok(out.attributes.is_some())
    }

    /// One page of a query, typed as entities (restricted attributes decrypted).
    pub async fn query<E: Entity>(&self, q: &Query) -> Result<Page<Versioned<E>>, StoreError> {
        let page = self.query_items(q).await?;
        let mut items = Vec::with_capacity(page.items.len());
        for item in page.items {
            items.push(self.decode_item::<E>(item).await?);
        }
        Ok(Page { items, next: page.next })
    }

    /// One page of a query, typed as entities with their restricted
    /// attributes left out (`None`): listings that show only the masked
    /// companions, with no decryption and no KMS call.
    pub async fn query_redacted<E: Entity>(&self, q: &Query) -> Result<Page<Versioned<E>>, StoreError> {
        let page = self.query_items(q).await?;
        let items = page
            .items
            .into_iter()
            .map(|mut item| {
                check_type::<E>(&item)?;
                redact(E::RESTRICTED_FIELDS, &mut item);
                from_item::<E>(item)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, next: page.next })
    }

    /// One page of a query, as any deserialisable shape (e.g. a projection).
    /// Restricted attributes in it are decrypted (a projection that includes
    /// one must include `PK` and `SK` too).
    pub async fn query_as<T: DeserializeOwned>(&self, q: &Query) -> Result<Page<T>, StoreError> {
        let page = self.query_items(q).await?;
        let mut items = Vec::with_capacity(page.items.len());
        for mut item in page.items {
            open(self.cipher(), RESTRICTED_ATTRIBUTES, &mut item).await?;
            items.push(from_item_any::<T>(item)?);
        }
        Ok(Page { items, next: page.next })
    }

    /// One page of a query as raw items, as stored (restricted attributes
    /// stay encrypted: [`Table::decode_item`] opens them). Expired items are
    /// filtered out by DynamoDB (`#ttl` placeholder: `TTL` is a reserved word).
    pub async fn query_items(&self, q: &Query) -> Result<RawPage, StoreError> {
        let scope_query = q.fingerprint();
        let scope = CursorScope { owner: &q.owner, query: &scope_query };
        let start = match &q.cursor {
            Some(token) => {
                let pos = cursor::open(&self.inner.config.cursor_key, scope, token)?;
                Some(pos.into_iter().map(|(k, v)| (k, AttributeValue::S(v))).collect::<Item>())
            }
            None => None,
        };
        let (pk_attr, sk_attr) = q.key_attributes();
        let mut names = HashMap::from([("#pk".to_string(), pk_attr.to_string()), ("#ttl".to_string(), keys::TTL.to_string())]);
        let mut values =
            HashMap::from([(":pk".to_string(), AttributeValue::S(q.pk.clone())), (":now".to_string(), n(self.now().epoch_seconds()))]);
        let mut key_cond = "#pk = :pk".to_string();
        if let Some(sk) = &q.sk {
            names.insert("#sk".into(), sk_attr.into());
            let (expr, vals): (&str, Vec<&String>) = match sk {
                SortKey::Equals(v) => ("#sk = :sk0", vec![v]),
                SortKey::BeginsWith(v) => ("begins_with(#sk, :sk0)", vec![v]),
                SortKey::Between(a, b) => ("#sk BETWEEN :sk0 AND :sk1", vec![a, b]),
                SortKey::LessOrEqual(v) => ("#sk <= :sk0", vec![v]),
                SortKey::GreaterOrEqual(v) => ("#sk >= :sk0", vec![v]),
            };
            key_cond.push_str(" AND ");
            key_cond.push_str(expr);
            for (i, v) in vals.into_iter().enumerate() {
                values.insert(format!(":sk{i}"), AttributeValue::S(v.clone()));
            }
        }
        let projection = q.projection.as_ref().map(|attrs| {
            attrs
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    names.insert(format!("#p{i}"), a.clone());
                    format!("#p{i}")
                })
                .collect::<Vec<_>>()
                .join(", ")
        });
        let out = self
            .client()
            .query()
            .table_name(self.name())
            .set_index_name(q.index.map(|i| i.name().to_string()))
            .key_condition_expression(key_cond)
            .filter_expression("attribute_not_exists(#ttl) OR #ttl > :now")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(!q.descending)
            .set_limit(q.limit.map(|l| l as i32))
            .set_projection_expression(projection)
            .consistent_read(q.consistent && q.index.is_none())
            .set_exclusive_start_key(start)
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await
            .map_err(|e| from_sdk("Query", e))?;
        self.record(Kind::Read, out.consumed_capacity().map(std::slice::from_ref).unwrap_or_default());
        let next = match out.last_evaluated_key() {
            Some(lek) if !lek.is_empty() => {
                let pos: Position = lek
                    .iter()
                    .map(|(k, v)| match v {
                        AttributeValue::S(s) => Ok((k.clone(), s.clone())),
                        _ => Err(StoreError::Invalid("non-string key attribute".into())),
                    })
                    .collect::<Result<_, _>>()?;
                Some(cursor::seal(&self.inner.config.cursor_key, scope, &pos))
            }
            _ => None,
        };
        Ok(Page { items: out.items.unwrap_or_default(), next })
    }

    /// Every page of a query as raw items, as stored (for internal jobs: export, delete-all).
    /// Every page of a query, typed as [`Table::query_as`] types one.
    pub async fn query_all_as<T: DeserializeOwned>(&self, q: &Query) -> Result<Vec<T>, StoreError> {
        let mut q = q.clone();
        let mut all = Vec::new();
        loop {
            let page = self.query_as::<T>(&q).await?;
            all.extend(page.items);
            match page.next {
                Some(c) => q.cursor = Some(c),
                None => return Ok(all),
            }
        }
    }

    pub async fn query_all_items(&self, q: &Query) -> Result<Vec<Item>, StoreError> {
        let mut q = q.clone();
        let mut all = Vec::new();
        loop {
            let page = self.query_items(&q).await?;
            all.extend(page.items);
            match page.next {
                Some(c) => q.cursor = Some(c),
                None => return Ok(all),
            }
        }
    }

    /// Many items by key, 100 per call, unprocessed keys retried with backoff.
    /// Returns the found, unexpired ones in the order of `keys`.
    pub async fn batch_get<E: Entity>(&self, keys: &[ItemKey]) -> Result<Vec<Versioned<E>>, StoreError> {
        let wanted: Vec<Key> = keys.iter().map(ItemKey::key).collect();
        let chunks: Vec<Vec<Key>> = wanted.chunks(BATCH_GET_MAX).map(<[Key]>::to_vec).collect();
        let found: Vec<Vec<Item>> = stream::iter(chunks)
            .map(|chunk| self.batch_get_chunk(chunk))
            .buffer_unordered(self.inner.config.batch_concurrency)
            .try_collect()
            .await?;
        let now = self.now().epoch_seconds();
        let mut by_key: HashMap<Key, Item> =
            found.into_iter().flatten().filter(|i| !is_expired(i, now)).filter_map(|i| key_of(&i).map(|k| (k, i))).collect();
        let mut out = Vec::with_capacity(by_key.len());
        for item in wanted.iter().filter_map(|k| by_key.remove(k)) {
            out.push(self.decode_item::<E>(item).await?);
        }
        Ok(out)
    }

    async fn batch_get_chunk(&self, keys: Vec<Key>) -> Result<Vec<Item>, StoreError> {
        let mut pending: Vec<Item> = keys.iter().map(key_item).collect();
        let mut found = Vec::new();
        let mut tries = Retry::new(self.max_attempts());
        while tries.next().await {
            let ka = KeysAndAttributes::builder().set_keys(Some(pending)).build().map_err(StoreError::build)?;
            let out = self
                .client()
                .batch_get_item()
                .request_items(self.name(), ka)
                .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
                .send()
                .await
                .map_err(|e| from_sdk("BatchGetItem", e))?;
            self.record(Kind::Read, out.consumed_capacity());
            let mut out = out;
            if let Some(mut r) = out.responses.take() {
                found.extend(r.remove(self.name()).unwrap_or_default());
            }
            pending = out.unprocessed_keys.and_then(|mut u| u.remove(self.name())).map(|ka| ka.keys).unwrap_or_default();
            if pending.is_empty() {
                return Ok(found);
            }
        }
        Err(StoreError::Incomplete { op: "BatchGetItem", count: pending.len() })
    }

    /// Writes many entities, 25 per call, unprocessed items retried with
    /// backoff and jitter. Unconditional (BatchWriteItem takes no conditions);
    /// each item's version restarts at 1. Every item is encoded (and its
    /// restricted attributes encrypted) before the first write, so a key
    /// provider failure writes nothing.
    pub async fn batch_put<E: Entity>(&self, entities: &[E]) -> Result<(), StoreError> {
        let mut requests = Vec::with_capacity(entities.len());
        for e in entities {
            let put = PutRequest::builder().set_item(Some(self.encode_item(e, 1).await?)).build().map_err(StoreError::build)?;
            requests.push(WriteRequest::builder().put_request(put).build());
        }
        self.batch_write(requests).await
    }

    /// Deletes many items by key, 25 per call, unprocessed ones retried.
    pub async fn batch_delete(&self, keys: &[Key]) -> Result<(), StoreError> {
        let requests = keys
            .iter()
            .map(|k| {
                let del = DeleteRequest::builder().set_key(Some(key_item(k))).build().map_err(StoreError::build)?;
                Ok(WriteRequest::builder().delete_request(del).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.batch_write(requests).await
    }

    /// Raw batch write, for tools that already hold items (as stored:
    /// an item with a restricted attribute in plaintext is refused).
    pub async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        for r in &requests {
            if let Some(put) = r.put_request() {
                check_raw(put.item())?;
            }
        }
        let chunks: Vec<Vec<WriteRequest>> = requests.chunks(BATCH_WRITE_MAX).map(<[WriteRequest]>::to_vec).collect();
        stream::iter(chunks)
            .map(|chunk| self.batch_write_chunk(chunk))
            .buffer_unordered(self.inner.config.batch_concurrency)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    async fn batch_write_chunk(&self, mut pending: Vec<WriteRequest>) -> Result<(), StoreError> {
        let mut tries = Retry::new(self.max_attempts());
        while tries.next().await {
            let out = self
                .client()
                .batch_write_item()
                .request_items(self.name(), pending)
                .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
                .send()
                .await
                .map_err(|e| from_sdk("BatchWriteItem", e))?;
            self.record(Kind::Write, out.consumed_capacity());
            pending = out.unprocessed_items.and_then(|mut u| u.remove(self.name())).unwrap_or_default();
            if pending.is_empty() {
                return Ok(());
            }
        }
        Err(StoreError::Incomplete { op: "BatchWriteItem", count: pending.len() })
    }

    /// The keys of every item in a partition, expired ones included (for
    /// erasure: an expired item is still stored until DynamoDB removes it).
    pub async fn keys_in_partition(&self, pk: &str) -> Result<Vec<Key>, StoreError> {
        self.keys_with_prefix(pk, None).await
    }

    /// The keys of every item in a partition whose sort key starts with
    /// `prefix` (all of them for `None`), expired ones included.
    pub async fn keys_with_prefix(&self, pk: &str, prefix: Option<&str>) -> Result<Vec<Key>, StoreError> {
        let mut keys = Vec::new();
        let mut start: Option<Item> = None;
        let condition = if prefix.is_some() { "#pk = :pk AND begins_with(#sk, :prefix)" } else { "#pk = :pk" };
        let mut values = HashMap::from([(":pk".to_string(), AttributeValue::S(pk.to_string()))]);
        if let Some(p) = prefix {
            values.insert(":prefix".to_string(), AttributeValue::S(p.to_string()));
        }
        loop {
            let out = self
                .client()
                .query()
                .table_name(self.name())
                .key_condition_expression(condition)
                .expression_attribute_names("#pk", keys::PK)
                .expression_attribute_names("#sk", keys::SK)
                .set_expression_attribute_values(Some(values.clone()))
                .projection_expression("#pk, #sk")
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
                .send()
                .await
                .map_err(|e| from_sdk("Query", e))?;
            self.record(Kind::Read, out.consumed_capacity().map(std::slice::from_ref).unwrap_or_default());
            keys.extend(out.items().iter().filter_map(key_of));
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(keys),
            }
        }
    }

    /// Converts a raw item (e.g. from [`Table::query_items`]) into an entity,
    /// decrypting its restricted attributes.
    pub async fn decode_item<E: Entity>(&self, mut item: Item) -> Result<Versioned<E>, StoreError> {
        check_type::<E>(&item)?;
        open(self.cipher(), E::RESTRICTED_FIELDS, &mut item).await?;
        from_item(item)
    }

    /// Converts a raw item into an entity without a cipher: refuses an item
    /// holding a restricted value (use [`Table::decode_item`]).
    pub fn decode<E: Entity>(item: Item) -> Result<Versioned<E>, StoreError> {
        check_type::<E>(&item)?;
        refuse_sealed(E::RESTRICTED_FIELDS, &item)?;
        from_item(item)
    }

    /// The primary key of a raw item.
    pub fn key_of(item: &Item) -> Option<Key> {
        key_of(item)
    }

    /// The stored form of an entity (what PutItem writes at `version`),
    /// restricted attributes encrypted.
    pub async fn encode_item<E: Entity>(&self, entity: &E, version: u64) -> Result<Item, StoreError> {
        let mut item = to_item(entity, version)?;
        seal(self.cipher(), E::RESTRICTED_FIELDS, &mut item).await?;
        Ok(item)
    }

    /// The stored form of an entity without a cipher: refuses an entity
    /// whose restricted attributes are set (use [`Table::encode_item`]).
    pub fn encode<E: Entity>(entity: &E, version: u64) -> Result<Item, StoreError> {
        let item = to_item(entity, version)?;
        refuse_plaintext(E::RESTRICTED_FIELDS, &item)?;
        Ok(item)
    }
}
