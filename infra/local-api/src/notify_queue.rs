//! The notification queue, locally: created in the local SQS (moto) and
//! worked by the notifier's own handler as Lambda's event source would
//! ([`crate::sync_queue::poll_with`], `BatchSize` 10 as in template.yaml).

use crate::sync_queue::{create_queue, poll_with};
use expenzez_notify::queue::NotificationQueue;
use expenzez_notify::Notifier;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Creates the notification queue `name` in the local SQS.
pub async fn create(name: &str) -> anyhow::Result<NotificationQueue> {
    let (client, url) = create_queue(name).await?;
    Ok(NotificationQueue::new(client, url))
}

/// Polls the notifier's queue and runs it on each batch until the task is aborted.
pub fn poll(notifier: Arc<Notifier>) -> JoinHandle<()> {
    let (client, url) = (notifier.queue.client().clone(), notifier.queue.url().to_string());
    poll_with(client, url, 10, move |event| {
        let notifier = notifier.clone();
        async move { expenzez_notify::consume(&notifier, event).await }
    })
}
