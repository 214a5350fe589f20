use crate::error::StoreError;
use aws_sdk_dynamodb::types::AttributeValue;
use expenzez_domain::entities::Entity;
use expenzez_domain::keys::{self, Key};
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// A raw DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// An entity with the optimistic-locking version it was read at.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<E> {
    pub value: E,
    pub version: u64,
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(crate) fn key_item(key: &Key) -> Item {
    HashMap::from([(keys::PK.to_string(), s(&key.pk)), (keys::SK.to_string(), s(&key.sk))])
}

/// The entity's attributes plus everything the store owns: keys, GSI keys,
/// `entityType`, `schemaVersion` and `itemVersion`. Restricted attributes are
/// still plaintext here: every caller seals or refuses them (`seal`).
pub(crate) fn to_item<E: Entity>(e: &E, version: u64) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(e).map_err(StoreError::mapping::<E>)?;
    let key = e.item_key().key();
    item.insert(keys::PK.into(), s(key.pk));
    item.insert(keys::SK.into(), s(key.sk));
    for ik in e.index_keys() {
        let (pk, sk) = ik.index.attributes();
        item.insert(pk.into(), s(ik.pk));
        item.insert(sk.into(), s(ik.sk));
    }
    item.insert(keys::ENTITY_TYPE.into(), s(E::ENTITY_TYPE));
    item.insert(keys::SCHEMA_VERSION.into(), n(E::SCHEMA_VERSION));
    item.insert(keys::ITEM_VERSION.into(), n(version));
    Ok(item)
}

/// Has this item's `TTL` passed? (Expired is absent, SPEC §5.)
pub(crate) fn is_expired(item: &Item, now_epoch: i64) -> bool {
    match item.get(keys::TTL) {
        Some(AttributeValue::N(t)) => t.parse::<i64>().map(|t| t <= now_epoch).unwrap_or(false),
        _ => false,
    }
}

pub(crate) fn version_of(item: &Item) -> u64 {
    match item.get(keys::ITEM_VERSION) {
        Some(AttributeValue::N(v)) => v.parse().unwrap_or(0),
        _ => 0,
    }
}

/// The item's `schemaVersion` (0 for an item written before it existed).
pub(crate) fn schema_of(item: &Item) -> u32 {
    match item.get(keys::SCHEMA_VERSION) {
        Some(AttributeValue::N(v)) => v.parse().unwrap_or(0),
        _ => 0,
    }
}

pub(crate) fn key_of(item: &Item) -> Option<Key> {
    match (item.get(keys::PK), item.get(keys::SK)) {
        (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) => Some(Key { pk: pk.clone(), sk: sk.clone() }),
        _ => None,
    }
}

/// Refuses an item of another type or of a newer schema than this code knows.
pub(crate) fn check_type<E: Entity>(item: &Item) -> Result<(), StoreError> {
    match item.get(keys::ENTITY_TYPE) {
        Some(AttributeValue::S(t)) if t == E::ENTITY_TYPE => {}
        _ => return Err(StoreError::mapping::<E>(format!("entityType is not {}", E::ENTITY_TYPE))),
    }
    if let Some(AttributeValue::N(v)) = item.get(keys::SCHEMA_VERSION) {
        if v.parse::<u32>().map(|v| v > E::SCHEMA_VERSION).unwrap_or(true) {
            return Err(StoreError::mapping::<E>("item has a newer schema version"));
        }
    }
    Ok(())
}

/// An item (its restricted attributes already opened or removed) back into
/// its entity, refusing an item of another type or of a newer schema.
pub(crate) fn from_item<E: Entity>(item: Item) -> Result<Versioned<E>, StoreError> {
    check_type::<E>(&item)?;
    let version = version_of(&item);
    let schema = schema_of(&item);
    let mut value: E = serde_dynamo::from_item(item).map_err(StoreError::mapping::<E>)?;
    if schema < E::SCHEMA_VERSION {
        value.upgrade(schema);
    }
    Ok(Versioned { value, version })
}

/// Any item (or projection) into a plain struct.
pub(crate) fn from_item_any<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(StoreError::mapping::<T>)
}
