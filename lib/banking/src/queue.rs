//! The sync queue: one message per connection to sync ([`SyncJob`]). The
//! dispatcher fills it from the due index; the bank callback puts a new
//! connection on it so its first sync starts at once instead of at the next
//! 15-minute tick. The worker Lambda consumes it (SQS event source). Sent
//! through the one sender ([`JsonQueue`]): a job that was not sent is not
//! lost, its connection stays due and goes out on the dispatcher's next tick.

use crate::schedule::SyncJob;
use expenzez_store::{JsonQueue, QueueMessage};

impl QueueMessage for SyncJob {
    const URL_ENV: &'static str = "SYNC_QUEUE_URL";
    const QUEUE: &'static str = "sync queue";
}

pub type SyncQueue = JsonQueue<SyncJob>;
