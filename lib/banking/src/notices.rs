//! The banking side's notifications, as requests for the notifier on the
//! notification queue (issue 14): a new large transaction and a connection
//! that needs reconnecting (the sync), a new bank connected (the callback),
//! and a bank consent expiring within 7 days (the daily consent check).
//! Every `requestId` is deterministic per event, so a producer that runs
//! again sends the same id and the notifier delivers it once.

use expenzez_domain::entities::{
    BankConnection, NotificationData, NotificationPriority, NotificationRequest, NotificationType, Transaction,
};
use expenzez_domain::ids::{ConnectionId, UserId};
use expenzez_domain::money::{Currency, Money};
use expenzez_domain::Timestamp;

/// The notification queue (`NOTIFICATION_QUEUE_URL`), through the one sender.
pub type NotificationQueue = expenzez_store::JsonQueue<NotificationRequest>;

/// "£12.30", or "EUR 12.30" for another currency.
fn money(m: Money, currency: &Currency) -> String {
    let text = format!("{:.2}", m.abs().to_decimal().round_dp(2));
    if currency.as_str() == "GBP" {
        format!("£{text}")
    } else {
        format!("{} {text}", currency.as_str())
    }
}

/// A transaction a sync stored for the first time, at or above the large threshold.
pub fn large_transaction(t: &Transaction, now: Timestamp) -> NotificationRequest {
    let what = t.merchant.as_ref().map(|m| m.name.clone()).unwrap_or_else(|| t.description.clone());
    let (title, verb) = if t.amount.is_negative() { ("Large payment", "paid to") } else { ("Large payment received", "received from") };
    NotificationRequest {
        request_id: format!("large-transaction:{}:{}", t.user_id, t.transaction_id),
        user_id: t.user_id.clone(),
        kind: NotificationType::Transaction,
        priority: NotificationPriority::High,
        title: title.into(),
        message: format!("{} {verb} {what}", money(t.amount, &t.currency)),
        data: Some(NotificationData {
            transaction_id: Some(t.transaction_id.to_string()),
            category: Some(t.category.primary.to_string()),
            amount: Some(t.amount),
            deep_link: Some(format!("expenzez://transactions/{}", t.transaction_id)),
            image_url: None,
        }),
        created_at: now,
    }
}

/// A sync found the bank's grant gone (refresh refused, consent expired).
/// Once per episode, keyed by the last successful sync (or the connection's
/// creation), so a retried sync sends the same id.
pub fn reconnect_required(c: &BankConnection, now: Timestamp) -> NotificationRequest {
    let episode = c.stats.last_successful_sync.unwrap_or(c.created_at);
    NotificationRequest {
        request_id: format!("bank-reconnect:{}:{}:{episode}", c.user_id, c.connection_id.as_str()),
        user_id: c.user_id.clone(),
        kind: NotificationType::Transaction,
        priority: NotificationPriority::High,
        title: format!("Reconnect {}", c.bank_name),
        message: format!("{} could not be refreshed. Reconnect it to keep your transactions up to date.", c.bank_name),
        data: Some(banks_link()),
        created_at: now,
    }
}

/// A security event: a new bank connection was made on the account.
pub fn bank_connected(c: &BankConnection, now: Timestamp) -> NotificationRequest {
    NotificationRequest {
        request_id: format!("bank-connected:{}:{}", c.user_id, c.connection_id.as_str()),
        user_id: c.user_id.clone(),
        kind: NotificationType::Security,
        priority: NotificationPriority::High,
        title: "New bank connected".into(),
        message: format!("{} was connected to your Expenzez account. If this wasn't you, remove it and change your password.", c.bank_name),
        data: Some(banks_link()),
        created_at: now,
    }
}

/// The consent of a connection ends at `expires` (within 7 days): once per
/// connection per expiry.
pub fn consent_expiring(user: &UserId, connection: &ConnectionId, bank: &str, expires: Timestamp, now: Timestamp) -> NotificationRequest {
    NotificationRequest {
        request_id: format!("consent-expiry:{user}:{}:{expires}", connection.as_str()),
        user_id: user.clone(),
        kind: NotificationType::Transaction,
        priority: NotificationPriority::Normal,
        title: format!("{bank} access expires soon"),
        message: format!("Your consent for {bank} ends on {}. Reconnect it to keep your transactions up to date.", expires.date()),
        data: Some(banks_link()),
        created_at: now,
    }
}

fn banks_link() -> NotificationData {
    NotificationData { transaction_id: None, category: None, amount: None, deep_link: Some("expenzez://banks".into()), image_url: None }
}

/// Sends `requests`; a refusal is logged, not returned: the sync or the
/// callback that produced them stands either way.
pub async fn send(queue: Option<&NotificationQueue>, requests: &[NotificationRequest], what: &'static str) {
    let Some(q) = queue else { return };
    if requests.is_empty() {
        return;
    }
    match q.send(requests).await {
        0 => tracing::info!(sent = requests.len(), what, "notification requests sent"),
        refused => tracing::error!(refused, sent = requests.len(), what, "notification requests not accepted"),
    }
}
