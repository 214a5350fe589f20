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
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

/// One message on the sync queue: which connection to sync.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncJob {
    pub user_id: UserId,
    pub connection_id: ConnectionId,
}

/// A due connection and the `nextSync` it was found under.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Due {
    job: SyncJob,
    next_sync: String,
    shard: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DueRow {
    user_id: UserId,
    connection_id: ConnectionId,
    #[serde(rename = "GSI1SK")]
    gsi1sk: String,
}

async fn due(table: &Table, now: Timestamp, per_shard: usize) -> Result<Vec<Due>, StoreError> {
    let shards = (0..SYNC_SHARDS).map(|shard| async move {
        // GSI1SK is `{nextSync}#{userId}#{connectionId}`; '~' sorts after '#'.
        let q = Query::index("system", Index::Gsi1, keys::sync_due_pk(shard)).sort_key(SortKey::LessOrEqual(keys::due_at_or_before(now)));
        let mut q = q.limit(per_shard.min(1000) as u32);
        let mut found = Vec::new();
        loop {
            let page = table.query_as::<DueRow>(&q).await?;
            found.extend(page.items.into_iter().map(|r| Due {
                next_sync: keys::parse_sync_due_sk(&r.gsi1sk).map(|(t, _, _)| t.to_string()).unwrap_or_default(),
                job: SyncJob { user_id: r.user_id, connection_id: r.connection_id },
                shard,
            }));
            match page.next {
                Some(c) if found.len() < per_shard => q = q.after(Some(c)),
                _ => break,
            }
        }
        found.truncate(per_shard);
        Ok::<_, StoreError>(found)
    });
    let mut all: Vec<Due> = futures::future::try_join_all(shards).await?.into_iter().flatten().collect();
    all.sort_by(|a, b| a.job.cmp(&b.job));
    Ok(all)
}

/// Connections whose `nextSync` is at or before `now`, at most `per_shard`
/// from each shard (the oldest first), from every shard in parallel.
pub async fn due_connections(table: &Table, now: Timestamp, per_shard: usize) -> Result<Vec<SyncJob>, StoreError> {
    Ok(due(table, now, per_shard).await?.into_iter().map(|d| d.job).collect())
}

/// Like [`due_connections`], but takes a lease on each: its `nextSync` (and
/// due-index key) moves to `now + lease`, on condition that it is still the
/// `nextSync` it was found under. A connection is so handed out once per
/// lease however backed up the queue is, and two overlapping dispatches do
/// not both send it; the sync then sets the real `nextSync`, and if it never
/// runs the connection is due again when the lease ends. Only `nextSync` and
/// the index key are written: the tokens are neither read nor rewritten.
pub async fn lease_due(table: &Table, now: Timestamp, per_shard: usize, lease: std::time::Duration) -> Result<Vec<SyncJob>, StoreError> {
    use expenzez_store::sdk::types::AttributeValue as A;
    let until = now.plus_seconds(lease.as_secs() as i64);
    let leases = due(table, now, per_shard).await?.into_iter().map(|d| async move {
        let key = keys::ItemKey::BankConnection(d.job.user_id.clone(), d.job.connection_id.clone());
        let index = keys::gsi1_sync_due(until, &d.job.user_id, &d.job.connection_id);
        let set = [("nextSync", A::S(until.to_string())), (keys::GSI1SK, A::S(index.sk))];
        let expect = [("nextSync", A::S(d.next_sync.clone())), (keys::GSI1PK, A::S(keys::sync_due_pk(d.shard)))];
        Ok::<_, StoreError>(table.set_fields(&key, &set, &expect).await?.then_some(d.job))
    });
    let leased = futures::stream::iter(leases).buffer_unordered(16).try_collect::<Vec<_>>().await?;
    let mut jobs: Vec<SyncJob> = leased.into_iter().flatten().collect();
    jobs.sort();
    Ok(jobs)
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
            // The account was deleted while its job waited: nothing to write, ever.
            Err(SyncError::Store(e)) if e.is_account_closed() => {
                tracing::info!("bank sync skipped: the account was deleted");
            }
            Err(SyncError::Store(e)) => {
                tracing::error!(error = %e, "bank sync could not record its outcome; redelivering");
                failed.push(message_id);
            }
            Err(_) => {}
        }
    }
    failed
}
