//! Recurring bills beyond the seed (keys.rs says why each is an item): a bill
//! the app detected on the phone and saved, and the user's choices per bill.
//! The server's own detection is not stored: it is computed from transactions.

use super::Entity;
use crate::ids::{BillId, UserId};
use crate::keys::{gsi1_bill_reminder, IndexKey, ItemKey};
use crate::money::Money;
use crate::time::Timestamp;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

/// How often a bill is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BillFrequency {
    Weekly,
    Monthly,
    Yearly,
}

/// A bill's state as the user set it (`PUT /bills/preferences/{billId}` `{status}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BillStatus {
    Active,
    /// No reminders until set active again.
    Paused,
    /// The user says it has ended; no reminders.
    Cancelled,
}

/// New item `BILL#{billId}`: a recurring bill the app detected on the phone.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedBill {
    pub user_id: UserId,
    pub bill_id: BillId,
    pub merchant: String,
    /// One of the app's categories.
    pub category: String,
    /// The usual payment, positive.
    pub amount: Money,
    pub frequency: BillFrequency,
    pub last_date: NaiveDate,
    pub next_expected_date: Option<NaiveDate>,
    pub saved_at: Timestamp,
}

impl Entity for SavedBill {
    const ENTITY_TYPE: &'static str = "SAVED_BILL";
    fn item_key(&self) -> ItemKey {
        ItemKey::SavedBill(self.user_id.clone(), self.bill_id.clone())
    }
}

/// New item `BILLPREF#{billId}`: the user's choices for one bill.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillPreference {
    pub user_id: UserId,
    pub bill_id: BillId,
    /// Left out of the detected list (the app's "remove a bill").
    pub is_ignored: bool,
    pub custom_name: Option<String>,
    /// The user's category for it (one of the app's), over the detected one.
    pub category: Option<String>,
    pub status: Option<BillStatus>,
    /// When the user marked the current payment paid (`None`: not marked).
    pub paid_at: Option<Timestamp>,
    pub exclusion_reason: Option<String>,
    /// Whether the user wants a reminder before it is due.
    #[serde(default)]
    pub reminder_enabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl BillPreference {
    /// A preference with nothing chosen yet.
    pub fn new(user_id: UserId, bill_id: BillId, now: Timestamp) -> Self {
        Self {
            user_id,
            bill_id,
            is_ignored: false,
            custom_name: None,
            category: None,
            status: None,
            paid_at: None,
            exclusion_reason: None,
            reminder_enabled: false,
            created_at: now,
            updated_at: now,
        }
    }
}

impl BillPreference {
    /// Reminder on, the bill not ignored, not paused or cancelled.
    pub fn wants_reminders(&self) -> bool {
        self.reminder_enabled && !self.is_ignored && matches!(self.status, None | Some(BillStatus::Active))
    }
}

impl Entity for BillPreference {
    const ENTITY_TYPE: &'static str = "BILL_PREFERENCE";
    fn item_key(&self) -> ItemKey {
        ItemKey::BillPreference(self.user_id.clone(), self.bill_id.clone())
    }
    /// Listed for the daily reminder job while a reminder is wanted (sparse).
    fn index_keys(&self) -> Vec<IndexKey> {
        if self.wants_reminders() {
            vec![gsi1_bill_reminder(&self.user_id, &self.bill_id)]
        } else {
            Vec::new()
        }
    }
}
