//! The notification queue (NotificationQueue in template.yaml, its URL in
//! `NOTIFICATION_QUEUE_URL`): producers (budget alerts, bank sync, security
//! events, the consent check) send one [`NotificationRequest`] per
//! notification through the one sender ([`JsonQueue`]); the notifier consumes
//! it (SQS event source) and holds a request back through quiet hours by
//! moving its visibility timeout ([`JsonQueue::defer`]).

use expenzez_domain::entities::NotificationRequest;
use expenzez_store::JsonQueue;

/// SQS's longest visibility timeout: 12 hours.
pub const MAX_DEFER_SECONDS: i64 = expenzez_store::queue::MAX_VISIBILITY_SECONDS;

pub type NotificationQueue = JsonQueue<NotificationRequest>;
