//! Queries: one page (typed, redacted, projected or raw, cursor sealed), every
//! page, and the key listings used by erasure.

use super::*;

impl Table {
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
        Ok(Page { items: self.open_as(page.items).await?, next: page.next })
    }

    /// Raw items as `T`, their restricted attributes decrypted.
    async fn open_as<T: DeserializeOwned>(&self, items: Vec<Item>) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::with_capacity(items.len());
        for mut item in items {
            open(self.cipher(), RESTRICTED_ATTRIBUTES, &mut item).await?;
            out.push(from_item_any::<T>(item)?);
        }
        Ok(out)
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

    /// Every page of a query, typed as [`Table::query_as`] types one.
    pub async fn query_all_as<T: DeserializeOwned>(&self, q: &Query) -> Result<Vec<T>, StoreError> {
        let items = self.query_all_items(q).await?;
        self.open_as(items).await
    }

    /// Every page of a query as raw items, as stored (for internal jobs: export, delete-all).
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
}
