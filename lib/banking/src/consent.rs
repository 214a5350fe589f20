//! The daily consent check (BankConsentCheckFunction in template.yaml): a
//! bank connection whose consent ends within [`NOTICE_DAYS`] gets one
//! notification request per expiry. The connections are read from the
//! sparse consent-expiry index (GSI3 `CONSENT_DUE#{shard}`, every shard in
//! parallel, `GSI3SK <= now + 7 days`), never a scan of the users. A request
//! accepted by the queue takes the connection out of that index for that
//! expiry (`consentReminded`, in place, on the same expiry only), so a rerun
//! finds nothing; one the queue refused stays and goes out on the next run,
//! under the same deterministic `requestId` (the notifier delivers it once).

use crate::notices::{self, NotificationQueue};
use expenzez_domain::ids::{ConnectionId, UserId};
use expenzez_domain::keys::{self, Index, ItemKey, SYNC_SHARDS};
use expenzez_domain::Timestamp;
use expenzez_store::sdk::types::AttributeValue;
use expenzez_store::{InPlace, Query, SortKey, StoreError, Table};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How long before the consent ends the user is told.
pub const NOTICE_DAYS: i64 = 7;

/// A connection the index lists as due for its consent reminder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueConsent {
    pub expires_at: Timestamp,
    pub user_id: UserId,
    pub connection_id: ConnectionId,
    pub bank_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    #[serde(rename = "GSI3SK")]
    gsi3sk: String,
    bank_name: Option<String>,
}

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentReport {
    /// Listed by the index as ending within the notice period.
    pub due: usize,
    /// Requested now (and out of the index for this expiry).
    pub requested: usize,
    /// Not accepted by the queue: still listed, sent again on the next run.
    pub refused: usize,
    /// Already past (the next sync marks the connection reconnect-required) or changed meanwhile.
    pub skipped: usize,
}

/// Connections whose not-yet-announced consent ends at or before `until`, from every shard.
pub async fn due(table: &Table, until: Timestamp) -> Result<Vec<DueConsent>, StoreError> {
    let shards = (0..SYNC_SHARDS).map(|shard| async move {
        // GSI3SK is `{expiresAt}#{userId}#{connectionId}`; '~' sorts after '#'.
        let q = Query::index("system", Index::Gsi3, keys::consent_due_pk(shard))
            .sort_key(SortKey::LessOrEqual(keys::due_at_or_before(until)))
            .project_as::<Row>();
        let rows = table.query_all_as::<Row>(&q).await?;
        Ok::<_, StoreError>(
            rows.into_iter()
                .filter_map(|r| {
                    let (expires_at, user_id, connection_id) = keys::parse_consent_due_sk(&r.gsi3sk)?;
                    Some(DueConsent { expires_at, user_id, connection_id, bank_name: r.bank_name.unwrap_or_else(|| "Your bank".into()) })
                })
                .collect::<Vec<_>>(),
        )
    });
    let mut all: Vec<DueConsent> = futures::future::try_join_all(shards).await?.into_iter().flatten().collect();
    all.sort_by(|a, b| (a.expires_at, &a.user_id, &a.connection_id).cmp(&(b.expires_at, &b.user_id, &b.connection_id)));
    Ok(all)
}

/// The daily run: one request per due connection, each marked once accepted.
pub async fn run(table: &Table, queue: &NotificationQueue) -> Result<ConsentReport, StoreError> {
    let now = table.now();
    let found = due(table, now.plus_seconds(NOTICE_DAYS * 86_400)).await?;
    let mut report = ConsentReport { due: found.len(), ..Default::default() };
    for d in found {
        if d.expires_at <= now {
            report.skipped += 1;
            continue;
        }
        let request = notices::consent_expiring(&d.user_id, &d.connection_id, &d.bank_name, d.expires_at, now);
        if queue.send(std::slice::from_ref(&request)).await > 0 {
            report.refused += 1;
            continue;
        }
        let expires = AttributeValue::S(d.expires_at.to_string());
        let names = HashMap::from([("#c0".to_string(), "consent".to_string()), ("#c1".to_string(), "expiresAt".to_string())]);
        let values = HashMap::from([(":c0".to_string(), expires.clone())]);
        let marked = table
            .update_in_place(
                &ItemKey::BankConnection(d.user_id.clone(), d.connection_id.clone()),
                InPlace { set: &[("consentReminded", expires)], add: &[], remove: &[keys::GSI3PK, keys::GSI3SK] },
                Some(("#c0.#c1 = :c0".to_string(), names, values)),
            )
            .await?;
        // None: deleted or its consent renewed meanwhile; the request went out
        // for the expiry it had, and a new expiry is listed under its own key.
        if marked.is_some() {
            report.requested += 1;
        } else {
            report.skipped += 1;
        }
    }
    tracing::info!(
        due = report.due,
        requested = report.requested,
        refused = report.refused,
        skipped = report.skipped,
        "consent check done"
    );
    Ok(report)
}
