//! What the app-lock handlers need from the table (a narrow trait, as in
//! `expenzez_api::stores`), implemented by the DynamoDB [`Table`].

use expenzez_api::stores::Metered;
use expenzez_domain::cursor::CursorKey;
use expenzez_domain::entities::{Device, DevicePin, SecurityPreferences};
use expenzez_domain::ids::{DeviceId, UserId};
use expenzez_domain::keys::{self, ItemKey};
use expenzez_domain::Timestamp;
use expenzez_store::{Condition, InPlace, Query, StoreError, Table, Versioned};
use serde::Deserialize;
use std::future::Future;

type R<T> = Result<T, StoreError>;

/// A condition expression with its `#c…` names and `:c…` values.
pub type Cond = expenzez_store::ConditionExpr;

/// What a PIN listing shows: never the hash (it is not even read: the
/// query projects on these fields).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PinRow {
    pub device_id: DeviceId,
    pub locked_until: Option<Timestamp>,
    #[serde(default)]
    pub lock_count: u32,
    pub last_validated_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

pub trait SecurityStore: Metered {
    fn device(&self, user: &UserId, device: &DeviceId) -> impl Future<Output = R<Option<Versioned<Device>>>> + Send;
    fn devices(&self, user: &UserId) -> impl Future<Output = R<Vec<Device>>> + Send;
    fn put_device(&self, device: &Device, condition: Condition) -> impl Future<Output = R<u64>> + Send;
    /// Strongly consistent: attempts are decided on it.
    fn pin(&self, user: &UserId, device: &DeviceId) -> impl Future<Output = R<Option<DevicePin>>> + Send;
    fn pin_rows(&self, user: &UserId) -> impl Future<Output = R<Vec<PinRow>>> + Send;
    fn create_pin(&self, pin: &DevicePin) -> impl Future<Output = R<u64>> + Send;
    /// One atomic conditional in-place change of a PIN item; the item after
    /// it, or `None` when absent or the condition failed.
    fn update_pin(
        &self,
        user: &UserId,
        device: &DeviceId,
        changes: InPlace<'_>,
        condition: Cond,
    ) -> impl Future<Output = R<Option<DevicePin>>> + Send;
    fn preferences(&self, user: &UserId) -> impl Future<Output = R<Option<Versioned<SecurityPreferences>>>> + Send;
    fn put_preferences(&self, prefs: &SecurityPreferences, condition: Condition) -> impl Future<Output = R<u64>> + Send;
    /// The secret device fingerprints are hashed under.
    fn fingerprint_key(&self) -> &CursorKey;
}

impl SecurityStore for Table {
    async fn device(&self, user: &UserId, device: &DeviceId) -> R<Option<Versioned<Device>>> {
        self.get_consistent(&ItemKey::Device(user.clone(), device.clone())).await
    }
    async fn devices(&self, user: &UserId) -> R<Vec<Device>> {
        let q = Query::table(user.as_str(), keys::user_pk(user)).begins_with(keys::prefix::DEVICE);
        let items = self.query_all_items(&q).await?;
        items.into_iter().map(|i| Table::decode::<Device>(i).map(|v| v.value)).collect()
    }
    async fn put_device(&self, device: &Device, condition: Condition) -> R<u64> {
        self.put(device, condition).await
    }
    async fn pin(&self, user: &UserId, device: &DeviceId) -> R<Option<DevicePin>> {
        Ok(self.get_consistent::<DevicePin>(&ItemKey::DevicePin(user.clone(), device.clone())).await?.map(|v| v.value))
    }
    async fn pin_rows(&self, user: &UserId) -> R<Vec<PinRow>> {
        let q = Query::table(user.as_str(), keys::user_pk(user)).begins_with(keys::prefix::PIN).project_as::<PinRow>();
        self.query_all_as(&q).await
    }
    async fn create_pin(&self, pin: &DevicePin) -> R<u64> {
        self.put(pin, Condition::MustNotExist).await
    }
    async fn update_pin(&self, user: &UserId, device: &DeviceId, changes: InPlace<'_>, condition: Cond) -> R<Option<DevicePin>> {
        let key = ItemKey::DevicePin(user.clone(), device.clone());
        match self.update_in_place(&key, changes, Some(condition)).await? {
            Some(item) => Ok(Some(Table::decode::<DevicePin>(item)?.value)),
            None => Ok(None),
        }
    }
    async fn preferences(&self, user: &UserId) -> R<Option<Versioned<SecurityPreferences>>> {
        self.get_consistent(&ItemKey::SecurityPreferences(user.clone())).await
    }
    async fn put_preferences(&self, prefs: &SecurityPreferences, condition: Condition) -> R<u64> {
        self.put(prefs, condition).await
    }
    fn fingerprint_key(&self) -> &CursorKey {
        self.cursor_key()
    }
}
