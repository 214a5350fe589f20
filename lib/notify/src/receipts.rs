//! The receipt sweep (PushReceiptSweepFunction in template.yaml): push
//! receipts Expo did not have ready when a push was sent ([`PushReceipt`],
//! kept by [`crate::deliver::push`]) are read once their `checkAfter` has
//! passed, from the sparse GSI1 index `RECEIPT_DUE#{shard}` (no scan). A
//! `DeviceNotRegistered` receipt deletes the device's token, unless the device
//! registered again after the push; a read receipt is deleted; one still not
//! ready stays until Expo's day is over (TTL).

use crate::expo::{Expo, PushError, DEVICE_NOT_REGISTERED};
use expenzez_domain::entities::{NotificationToken, PushReceipt};
use expenzez_domain::ids::{DeviceId, PushReceiptId, UserId};
use expenzez_domain::keys::{self, Index, ItemKey, RECEIPT_SHARDS};
use expenzez_domain::Timestamp;
use expenzez_store::{Condition, Query, SortKey, StoreError, Table};
use serde::{Deserialize, Serialize};

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    /// Pending receipts due for reading.
    pub due: usize,
    /// Read (and deleted).
    pub read: usize,
    /// Tokens deleted for `DeviceNotRegistered`.
    pub removed_tokens: usize,
    /// Still not ready at Expo: read on a later sweep.
    pub not_ready: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Expo unavailable: nothing was deleted, the next sweep reads them.
    #[error(transparent)]
    Push(#[from] PushError),
}

#[derive(Deserialize)]
struct Row {
    #[serde(rename = "GSI1SK")]
    gsi1sk: String,
}

/// Pending receipts whose `checkAfter` is at or before `now`, from every shard.
pub async fn due(table: &Table, now: Timestamp) -> Result<Vec<(Timestamp, UserId, DeviceId, PushReceiptId)>, StoreError> {
    let mut all = Vec::new();
    for shard in 0..RECEIPT_SHARDS {
        // GSI1SK is `{checkAfter}#{userId}#{deviceId}#{receiptId}`; '~' sorts after '#'.
        let q = Query::index("system", Index::Gsi1, keys::receipt_due_pk(shard))
            .sort_key(SortKey::LessOrEqual(keys::due_at_or_before(now)))
            .project_as::<Row>();
        all.extend(table.query_all_as::<Row>(&q).await?.into_iter().filter_map(|r| keys::parse_receipt_due_sk(&r.gsi1sk)));
    }
    Ok(all)
}

/// Deletes `device`'s token if it was registered before the push (`sent_at`).
async fn remove_token(table: &Table, user: &UserId, device: &DeviceId, sent_at: Timestamp) -> Result<bool, StoreError> {
    let key = ItemKey::NotificationToken(user.clone(), device.clone());
    let Some(t) = table.get_consistent::<NotificationToken>(&key).await? else { return Ok(false) };
    if t.value.updated_at > sent_at {
        return Ok(false);
    }
    match table.delete(&key, Condition::Version(t.version)).await {
        Ok(deleted) => Ok(deleted),
        // Re-registered meanwhile: the new token stays.
        Err(e) if e.is_conflict() => Ok(false),
        Err(e) => Err(e),
    }
}

/// One sweep: every due receipt read in Expo's batches.
pub async fn sweep(table: &Table, expo: &Expo) -> Result<SweepReport, SweepError> {
    let now = table.now();
    let found = due(table, now).await?;
    let mut report = SweepReport { due: found.len(), ..Default::default() };
    if found.is_empty() {
        return Ok(report);
    }
    let ids: Vec<String> = found.iter().map(|(_, _, _, r)| r.to_string()).collect();
    let receipts = expo.receipts(&ids).await?;
    for (_, user, device, receipt) in &found {
        let Some(r) = receipts.get(receipt.as_str()) else {
            report.not_ready += 1;
            continue;
        };
        if r.error_code() == Some(DEVICE_NOT_REGISTERED) {
            let sent_at = match table.get::<PushReceipt>(&ItemKey::PushReceipt(user.clone(), receipt.clone())).await? {
                Some(p) => p.value.sent_at,
                None => continue,
            };
            if remove_token(table, user, device, sent_at).await? {
                report.removed_tokens += 1;
            }
        } else if let Some(code) = r.error_code() {
            tracing::info!(error = code, "push receipt reports a failed delivery");
        }
        table.delete(&ItemKey::PushReceipt(user.clone(), receipt.clone()), Condition::None).await?;
        report.read += 1;
    }
    tracing::info!(
        due = report.due,
        read = report.read,
        removed_tokens = report.removed_tokens,
        not_ready = report.not_ready,
        "push receipts swept"
    );
    Ok(report)
}
