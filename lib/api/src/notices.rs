//! Security notifications raised by the API's own handlers (issue 14): the
//! account's email changed. They go to the notification queue
//! (`NOTIFICATION_QUEUE_URL`, read once per instance); a function not wired
//! to it sends nothing. The push names no address: push payloads travel
//! through Expo and the platforms' services.

use expenzez_domain::entities::{NotificationData, NotificationPriority, NotificationRequest, NotificationType};
use expenzez_domain::ids::UserId;
use expenzez_domain::Timestamp;
use expenzez_store::JsonQueue;

static QUEUE: tokio::sync::OnceCell<Option<JsonQueue<NotificationRequest>>> = tokio::sync::OnceCell::const_new();

/// The notification queue of this instance, if it has one.
pub async fn queue() -> Option<&'static JsonQueue<NotificationRequest>> {
    QUEUE.get_or_init(JsonQueue::from_env).await.as_ref()
}

/// The profile's email changed, saved at profile version `version` (one
/// request per change: a retried request that changes nothing sends nothing).
pub fn email_changed(user: &UserId, version: u64, now: Timestamp) -> NotificationRequest {
    NotificationRequest {
        request_id: format!("email-changed:{user}:{version}"),
        user_id: user.clone(),
        kind: NotificationType::Security,
        priority: NotificationPriority::High,
        title: "Your email was changed".into(),
        message: "The email address of your Expenzez account was changed. If this wasn't you, reset your password now.".into(),
        data: Some(NotificationData {
            transaction_id: None,
            category: None,
            amount: None,
            deep_link: Some("expenzez://profile".into()),
            image_url: None,
        }),
        created_at: now,
    }
}

/// Sends `request` when this instance has a queue; a refusal is logged (the
/// change it reports stands either way).
pub async fn send(request: NotificationRequest) {
    let Some(q) = queue().await else { return };
    match q.send(std::slice::from_ref(&request)).await {
        0 => tracing::info!(kind = "email changed", "security notification requested"),
        _ => tracing::error!(kind = "email changed", "security notification not accepted"),
    }
}
