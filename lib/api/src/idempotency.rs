//! `Idempotency-Key` (SPEC §5 "Idempotency"): a retried POST returns the
//! first response and writes nothing new. The record (`IDEMPOTENCY#{key}`,
//! TTL 24 h) holds a hash of the request body, so the same key with another
//! body is 409, and the first response.
//!
//! Where the POST writes through a transaction, the record goes into that
//! same transaction ([`record_action`]), so the write and its record exist
//! together or not at all. Elsewhere [`once`] writes the record after the
//! handler succeeded.

use crate::edge::Reply;
use crate::error::ApiError;
use crate::request::Ctx;
use crate::stores::Metered;
use expenzez_domain::entities::IdempotencyRecord;
use expenzez_domain::ids::{IdempotencyKey, UserId};
use expenzez_store::{Condition, StoreError, TxAction};
use http::StatusCode;
use sha2::{Digest, Sha256};
use std::future::Future;

type R<T> = Result<T, StoreError>;

/// What idempotent POSTs read and write.
pub trait IdempotencyStore: Metered {
    fn idempotency_record(&self, user: &UserId, key: &IdempotencyKey) -> impl Future<Output = R<Option<IdempotencyRecord>>> + Send;
    fn save_idempotency_record(&self, record: &IdempotencyRecord) -> impl Future<Output = R<()>> + Send;
}

/// One POST's idempotency: its key (if the client sent one) and its body's hash.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: Option<IdempotencyKey>,
    pub request_hash: String,
}

impl Idempotency {
    /// From the request; a key outside the accepted form is 400.
    pub fn of(ctx: &Ctx) -> Result<Self, ApiError> {
        Ok(Self { key: ctx.idempotency_key()?, request_hash: hex::encode(Sha256::digest(ctx.body_bytes())) })
    }

    /// The first response to this key, if there was one (409 if it was another request's).
    pub async fn replay<S: IdempotencyStore>(&self, store: &S, user: &UserId) -> Result<Option<Reply>, ApiError> {
        let Some(key) = &self.key else { return Ok(None) };
        match store.idempotency_record(user, key).await? {
            Some(r) if r.request_hash == self.request_hash => {
                Ok(Some(Reply { status: StatusCode::from_u16(r.status_code).unwrap_or(StatusCode::OK), body: r.response_body, etag: None }))
            }
            Some(_) => Err(ApiError::Conflict {
                code: "IDEMPOTENCY_KEY_REUSED",
                message: "This Idempotency-Key was used for a different request.".into(),
            }),
            None => Ok(None),
        }
    }

    fn record(&self, user: &UserId, reply: &Reply, now: expenzez_domain::Timestamp) -> Option<IdempotencyRecord> {
        Some(IdempotencyRecord {
            user_id: user.clone(),
            key: self.key.clone()?,
            request_hash: self.request_hash.clone(),
            status_code: reply.status.as_u16(),
            response_body: reply.body.clone(),
            created_at: now,
            ttl: now.epoch_seconds() + IdempotencyRecord::TTL_SECONDS,
        })
    }

    /// The record of `reply` as an action of the transaction that makes it
    /// (none without a key). An expired record counts as absent.
    pub fn record_action(&self, user: &UserId, reply: &Reply, now: expenzez_domain::Timestamp) -> Result<Vec<TxAction>, ApiError> {
        Ok(match self.record(user, reply, now) {
            Some(r) => vec![TxAction::put(&r, Condition::MustNotExist)?],
            None => Vec::new(),
        })
    }
}

/// Runs `handler` once per key: a retry gets the first response. For POSTs
/// whose own writes are not one transaction with the record.
pub async fn once<S, F, Fut>(store: &S, ctx: Ctx, handler: F) -> Result<Reply, ApiError>
where
    S: IdempotencyStore,
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = Result<Reply, ApiError>>,
{
    let user = ctx.user()?.clone();
    let idem = Idempotency::of(&ctx)?;
    if let Some(reply) = idem.replay(store, &user).await? {
        return Ok(reply);
    }
    let reply = handler(ctx).await?;
    if let Some(record) = idem.record(&user, &reply, store.now()) {
        match store.save_idempotency_record(&record).await {
            Ok(()) => {}
            // A concurrent retry with the same key finished first: answer what it answered.
            Err(e) if e.is_conflict() => return idem.replay(store, &user).await?.ok_or(ApiError::Contended),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(reply)
}
