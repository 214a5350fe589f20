//! One notification to one user's devices: their active tokens, the push
//! (tickets, then the receipts that are ready), dead tokens removed, and the
//! history item for what was delivered. Shared by the notifier and
//! `POST /notifications/send`.

use crate::expo::{Expo, PushError, PushMessage, Ticket, DEVICE_NOT_REGISTERED, MESSAGE_RATE_EXCEEDED};
use expenzez_domain::entities::*;
use expenzez_domain::ids::{DeviceId, NotificationId, PushReceiptId, UserId};
use expenzez_domain::keys::{self, ItemKey};
use expenzez_domain::Timestamp;
use expenzez_store::{Condition, Query, SortKey, StoreError, Table};
use std::collections::HashMap;

/// What to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub kind: NotificationType,
    pub priority: NotificationPriority,
    pub title: String,
    pub message: String,
    pub data: Option<NotificationData>,
}

impl From<&NotificationRequest> for Outgoing {
    fn from(r: &NotificationRequest) -> Self {
        Self { kind: r.kind, priority: r.priority, title: r.title.clone(), message: r.message.clone(), data: r.data.clone() }
    }
}

/// How a push went, device by device.
#[derive(Debug, Default)]
pub struct PushReport {
    pub delivered: Vec<DeviceId>,
    pub attempts: Vec<DeliveryAttempt>,
    /// Tokens Expo called `DeviceNotRegistered` (deleted).
    pub removed: Vec<DeviceId>,
    /// Tickets refused for a reason worth another try (`MessageRateExceeded`).
    pub retryable: usize,
}

/// The user's tokens that can receive pushes.
pub async fn active_tokens(table: &Table, user: &UserId) -> Result<Vec<NotificationToken>, StoreError> {
    let q = Query::table(user.as_str(), keys::user_pk(user)).begins_with(keys::prefix::TOKEN).consistent();
    let tokens: Vec<NotificationToken> = table.query_all_as(&q).await?;
    Ok(tokens.into_iter().filter(|t| t.is_valid && t.status == TokenStatus::Active).collect())
}

/// How many notifications the user was sent in `[from, to)`.
pub async fn sent_between(table: &Table, user: &UserId, from: Timestamp, to: Timestamp) -> Result<usize, StoreError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Row {
        #[allow(dead_code)]
        notification_id: String,
    }
    let p = keys::prefix::NOTIFICATION;
    let q = Query::table(user.as_str(), keys::user_pk(user))
        .sort_key(SortKey::Between(format!("{p}{from}"), format!("{p}{to}")))
        .project_as::<Row>()
        .consistent();
    Ok(table.query_all_as::<Row>(&q).await?.len())
}

fn priority(p: NotificationPriority) -> &'static str {
    match p {
        NotificationPriority::High => "high",
        NotificationPriority::Normal => "default",
        NotificationPriority::Low => "normal",
    }
}

fn kind_name(k: NotificationType) -> &'static str {
    match k {
        NotificationType::Transaction => "transaction",
        NotificationType::Budget => "budget",
        NotificationType::Security => "security",
        NotificationType::Insight => "insight",
        NotificationType::Marketing => "marketing",
    }
}

async fn remove_token(table: &Table, user: &UserId, device: &DeviceId) {
    if let Err(e) = table.delete(&ItemKey::NotificationToken(user.clone(), device.clone()), Condition::None).await {
        tracing::warn!(error = %e, "could not delete an unregistered push token");
    }
}

/// Keeps a receipt that was not ready for the sweep; best effort (a receipt
/// never read only leaves a dead token to the next push's ticket).
async fn keep_receipt(table: &Table, user: &UserId, id: &NotificationId, receipt: &str, device: &DeviceId, now: Timestamp) {
    let Ok(rid) = PushReceiptId::new(receipt) else {
        tracing::warn!("push receipt id not usable as a key; not kept");
        return;
    };
    let r = PushReceipt::new(user, rid, device.clone(), id.clone(), now);
    if let Err(e) = table.put(&r, Condition::None).await {
        tracing::warn!(error = %e, "pending push receipt not kept");
    }
}

/// Pushes `out` (as notification `id`) to `tokens`. A request-level failure
/// (after retries) is an error and nothing is written; otherwise tokens Expo
/// reports as `DeviceNotRegistered`, in a ticket or a ready receipt, are deleted.
pub async fn push(
    table: &Table,
    expo: &Expo,
    user: &UserId,
    id: &NotificationId,
    tokens: &[NotificationToken],
    out: &Outgoing,
) -> Result<PushReport, PushError> {
    let mut data = match out.data.as_ref().map(serde_json::to_value) {
        Some(Ok(serde_json::Value::Object(m))) => m,
        _ => serde_json::Map::new(),
    };
    data.insert("notificationId".into(), id.as_str().into());
    data.insert("type".into(), kind_name(out.kind).into());
    let messages: Vec<PushMessage> = tokens
        .iter()
        .map(|t| PushMessage {
            to: t.token.clone(),
            title: out.title.clone(),
            body: out.message.clone(),
            data: Some(serde_json::Value::Object(data.clone())),
            priority: priority(out.priority),
            sound: "default",
        })
        .collect();
    let tickets = expo.send(&messages).await?;
    let now = table.now();
    let mut report = PushReport::default();
    let mut receipt_ids: HashMap<String, DeviceId> = HashMap::new();
    for (token, ticket) in tokens.iter().zip(tickets) {
        let device = token.device_id.clone();
        let error = ticket.error_code().map(str::to_string);
        match &ticket {
            Ticket::Ok { id } => {
                if let Some(rid) = id {
                    receipt_ids.insert(rid.clone(), device.clone());
                }
                report.delivered.push(device.clone());
            }
            Ticket::Error { .. } if error.as_deref() == Some(DEVICE_NOT_REGISTERED) => report.removed.push(device.clone()),
            Ticket::Error { .. } if error.as_deref() == Some(MESSAGE_RATE_EXCEEDED) => report.retryable += 1,
            Ticket::Error { .. } => {}
        }
        report.attempts.push(DeliveryAttempt {
            timestamp: now,
            channel: "push".into(),
            device_id: device.to_string(),
            status: if error.is_none() { AttemptStatus::Success } else { AttemptStatus::Failed },
            error,
        });
    }
    // Receipts: the ones ready now; the rest are kept for the receipt sweep
    // ([`crate::receipts`]; Expo keeps them for a day).
    let mut pending: Vec<(String, DeviceId)> = Vec::new();
    if !receipt_ids.is_empty() {
        let ids: Vec<String> = receipt_ids.keys().cloned().collect();
        match expo.receipts(&ids).await {
            Ok(receipts) => {
                pending = receipt_ids.iter().filter(|(rid, _)| !receipts.contains_key(*rid)).map(|(r, d)| (r.clone(), d.clone())).collect();
                for (rid, receipt) in receipts {
                    let Some(device) = receipt_ids.get(&rid) else { continue };
                    if let Some(code) = receipt.error_code() {
                        tracing::info!(error = code, "push receipt reports a failed delivery");
                        report.delivered.retain(|d| d != device);
                        if code == DEVICE_NOT_REGISTERED {
                            report.removed.push(device.clone());
                        }
                        if let Some(a) = report.attempts.iter_mut().find(|a| a.device_id == device.as_str()) {
                            a.status = AttemptStatus::Failed;
                            a.error = Some(code.to_string());
                        }
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "push receipts not read now; kept for the sweep");
                pending = receipt_ids.iter().map(|(r, d)| (r.clone(), d.clone())).collect();
            }
        }
    }
    for (receipt, device) in pending.iter().filter(|(_, d)| report.delivered.contains(d)) {
        keep_receipt(table, user, id, receipt, device, now).await;
    }
    for device in &report.removed {
        remove_token(table, user, device).await;
    }
    Ok(report)
}

/// The history item of a delivered notification.
pub fn history(user: &UserId, id: NotificationId, out: &Outgoing, report: &PushReport, sent_at: Timestamp) -> NotificationHistory {
    NotificationHistory {
        notification_id: id,
        user_id: user.clone(),
        title: out.title.clone(),
        body: out.message.clone(),
        kind: out.kind,
        priority: out.priority,
        delivery_status: DeliveryStatus::Sent,
        sent_at,
        delivered_at: None,
        opened_at: None,
        target_devices: report.delivered.iter().map(|d| d.to_string()).collect(),
        channels: vec![Channel::Push],
        data: out.data.clone(),
        delivery_attempts: report.attempts.clone(),
        user_actions: None,
        ttl: NotificationHistory::ttl_for(sent_at),
        batch_id: None,
        template_id: None,
        version: "1".into(),
    }
}
