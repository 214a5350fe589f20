//! The scheduled sync's two halves, as library code for the dispatcher and
//! worker Lambdas: find the connections that are due through the sparse GSI1
//! due index (every shard queried in parallel, no Scan), and sync a batch of
//! them.

use crate::provider::BankProvider;
use crate::store::SyncStore;
use crate::sync::{sync_connection, SyncError, SyncSettings};
use expenzez_domain::ids::{ConnectionId, UserId};
use expenzez_domain::keys::{self, Index, SYNC_SHARDS};
use expenzez_domain::Timestamp;
use expenzez_store::{Query, SortKey, StoreError, Table};
use serde::{Deserialize, Serialize};

/// One message on the sync queue: which connection to sync.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncJob {
    pub user_id: UserId,
    pub connection_id: ConnectionId,
}

/// Connections whose `nextSync` is at or before `now`, at most `per_shard`
/// from each shard (the oldest first), from every shard in parallel.
pub async fn due_connections(table: &Table, now: Timestamp, per_shard: usize) -> Result<Vec<SyncJob>, StoreError> {
    let shards = (0..SYNC_SHARDS).map(|shard| async move {
        // GSI1SK is `{nextSync}#{userId}#{connectionId}`; '~' sorts after '#'.
        let q = Query::index("system", Index::Gsi1, keys::sync_due_pk(shard)).sort_key(SortKey::LessOrEqual(format!("{now}~")));
        let mut q = q.limit(per_shard.min(1000) as u32);
        let mut jobs = Vec::new();
        loop {
            let page = table.query_as::<SyncJob>(&q).await?;
            jobs.extend(page.items);
            match page.next {
                Some(c) if jobs.len() < per_shard => q = q.after(Some(c)),
                _ => break,
            }
        }
        jobs.truncate(per_shard);
        Ok::<_, StoreError>(jobs)
    });
    let mut all: Vec<SyncJob> = futures::future::try_join_all(shards).await?.into_iter().flatten().collect();
    all.sort();
    Ok(all)
}

/// Syncs each job; returns the ids of the ones to redeliver (SQS partial
/// batch failure). A sync that failed but recorded its failure on the
/// connection (with its own backoff in `nextSync`) is not redelivered: the
/// dispatcher picks it up again when it is due. Only an unrecorded failure
/// (the table itself failing) is.
pub async fn run_jobs<S: SyncStore, P: BankProvider>(
    store: &S,
    provider: &P,
    settings: &SyncSettings,
    jobs: Vec<(String, SyncJob)>,
) -> Vec<String> {
    let mut failed = Vec::new();
    for (message_id, job) in jobs {
        match sync_connection(store, provider, settings, &job.user_id, &job.connection_id).await {
            Ok(_) | Err(SyncError::NotFound | SyncError::NotSyncable) => {}
            Err(SyncError::Store(e)) => {
                tracing::error!(error = %e, "bank sync could not record its outcome; redelivering");
                failed.push(message_id);
            }
            Err(_) => {}
        }
    }
    failed
}
