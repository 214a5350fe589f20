//! Single items: get, put, read-modify-write, in-place updates, delete, and
//! the item codec (entity ⇄ stored item, restricted attributes sealed/opened).

use super::*;

impl Table {
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
        // The same UpdateItem as [`Table::update_in_place`], each expected
        // attribute an equality in its condition.
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let mut conditions = Vec::new();
        for (i, (name, value)) in expect.iter().enumerate() {
            names.insert(format!("#c{i}"), name.to_string());
            values.insert(format!(":c{i}"), value.clone());
            conditions.push(format!("#c{i} = :c{i}"));
        }
        let condition = (!conditions.is_empty()).then(|| (conditions.join(" AND "), names, values));
        Ok(self.update_in_place(key, InPlace { set, add: &[], remove: &[] }, condition).await?.is_some())
    }

    /// One atomic in-place UpdateItem: `SET` the `set` attributes, `ADD` the
    /// `add` numbers (counters, no read first), `REMOVE` the `remove` ones,
    /// bump the version, all only if the item exists and `condition` holds.
    /// Returns the item as it is afterwards, or `None` when it is absent or
    /// the condition failed.
    ///
    /// `condition` is a DynamoDB condition expression over the placeholders in
    /// `names` and `values`, which must start with `#c` and `:c`. Restricted
    /// and key attributes are refused: those change only through typed writes.
    pub async fn update_in_place(
        &self,
        key: &ItemKey,
        changes: InPlace<'_>,
        condition: Option<ConditionExpr>,
    ) -> Result<Option<Item>, StoreError> {
        let InPlace { set, add, remove } = changes;
        let named = set.iter().map(|(n, _)| *n).chain(add.iter().map(|(n, _)| *n)).chain(remove.iter().copied());
        for name in named {
            if RESTRICTED_ATTRIBUTES.contains(&name) || [keys::PK, keys::SK, keys::ITEM_VERSION, keys::ENTITY_TYPE].contains(&name) {
                return Err(StoreError::Invalid(format!("{name} cannot be changed in place")));
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
        let mut adds = vec!["#iv :one".to_string()];
        for (i, (name, by)) in add.iter().enumerate() {
            names.insert(format!("#a{i}"), name.to_string());
            values.insert(format!(":a{i}"), n(by));
            adds.push(format!("#a{i} :a{i}"));
        }
        let mut removes = Vec::new();
        for (i, name) in remove.iter().enumerate() {
            names.insert(format!("#r{i}"), name.to_string());
            removes.push(format!("#r{i}"));
        }
        let mut update = String::new();
        if !sets.is_empty() {
            update.push_str(&format!("SET {} ", sets.join(", ")));
        }
        update.push_str(&format!("ADD {}", adds.join(", ")));
        if !removes.is_empty() {
            update.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let mut cond = "attribute_exists(#pk)".to_string();
        if let Some((expr, n, v)) = condition {
            if n.keys().any(|k| !k.starts_with("#c")) || v.keys().any(|k| !k.starts_with(":c")) {
                return Err(StoreError::Invalid("condition placeholders must start with #c and :c".into()));
            }
            cond = format!("{cond} AND ({expr})");
            names.extend(n);
            values.extend(v);
        }
        let out = self
            .client()
            .update_item()
            .table_name(self.name())
            .set_key(Some(key_item(&key.key())))
            .update_expression(update)
            .condition_expression(cond)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await
            .map_err(|e| from_sdk("UpdateItem", e));
        match out {
            Ok(out) => {
                self.record(Kind::Write, out.consumed_capacity().map(std::slice::from_ref).unwrap_or_default());
                Ok(out.attributes)
            }
            Err(e) if e.is_conflict() => Ok(None),
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
