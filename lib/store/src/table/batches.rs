//! Batch reads and writes: chunked (100 gets / 25 writes per call), run
//! concurrently, unprocessed items retried with the one backoff ([`Retry`]).

use super::*;

impl Table {
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
}
