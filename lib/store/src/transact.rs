use crate::capacity::Kind;
use crate::error::{from_sdk, StoreError};
use crate::item::{key_item, to_item, Item};
use crate::seal::{check_raw, refuse_plaintext};
use crate::table::{conditioned, Condition, Table, TRANSACT_MAX};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, ReturnConsumedCapacity, TransactWriteItem};
use expenzez_domain::entities::Entity;
use expenzez_domain::ids::UserId;
use expenzez_domain::keys::{ItemKey, Key};

/// One action of an all-or-nothing TransactWriteItems.
#[derive(Debug, Clone)]
pub enum TxAction {
    Put {
        item: Item,
        condition: Condition,
    },
    Delete {
        key: Key,
        condition: Condition,
    },
    /// Requires a condition on an item the transaction does not write.
    Check {
        key: Key,
        condition: Condition,
    },
    /// Requires the user's profile to exist: the account was not deleted.
    /// An access token outlives its account by up to an hour (SPEC §5
    /// "Deleted accounts"), so every user write carries this check in the
    /// same request; its failure is [`StoreError::AccountClosed`].
    AccountLive {
        key: Key,
    },
}

impl TxAction {
    /// Writes `entity`; with `Condition::Version(v)` it is stored at `v + 1`.
    /// Cannot encrypt: refuses an entity whose restricted attributes are set
    /// (use [`Table::tx_put`], which works for every entity).
    pub fn put<E: Entity>(entity: &E, condition: Condition) -> Result<Self, StoreError> {
        let item = to_item(entity, condition.next_version())?;
        refuse_plaintext(E::RESTRICTED_FIELDS, &item)?;
        Ok(TxAction::Put { item, condition })
    }
    pub fn delete(key: &ItemKey, condition: Condition) -> Self {
        TxAction::Delete { key: key.key(), condition }
    }
    pub fn check(key: &ItemKey, condition: Condition) -> Self {
        TxAction::Check { key: key.key(), condition }
    }
    /// The check that `user`'s account still exists (see [`TxAction::AccountLive`]).
    pub fn account_live(user: &UserId) -> Self {
        TxAction::AccountLive { key: ItemKey::Profile(user.clone()).key() }
    }

    fn build(self, table: &str, now: i64) -> Result<TransactWriteItem, StoreError> {
        let b = TransactWriteItem::builder();
        Ok(match self {
            TxAction::Put { item, condition } => {
                let p = conditioned!(Put::builder().table_name(table).set_item(Some(item)), condition, now);
                b.put(p.build().map_err(StoreError::build)?).build()
            }
            TxAction::Delete { key, condition } => {
                let d = conditioned!(Delete::builder().table_name(table).set_key(Some(key_item(&key))), condition, now);
                b.delete(d.build().map_err(StoreError::build)?).build()
            }
            TxAction::Check { key, condition } => {
                if condition.expression(now).is_none() {
                    return Err(StoreError::Invalid("a condition check needs a condition".into()));
                }
                let c = conditioned!(ConditionCheck::builder().table_name(table).set_key(Some(key_item(&key))), condition, now);
                b.condition_check(c.build().map_err(StoreError::build)?).build()
            }
            TxAction::AccountLive { key } => {
                let c = conditioned!(ConditionCheck::builder().table_name(table).set_key(Some(key_item(&key))), Condition::MustExist, now);
                b.condition_check(c.build().map_err(StoreError::build)?).build()
            }
        })
    }
}

impl Table {
    /// A transaction action writing `entity` (restricted attributes encrypted);
    /// with `Condition::Version(v)` it is stored at `v + 1`.
    pub async fn tx_put<E: Entity>(&self, entity: &E, condition: Condition) -> Result<TxAction, StoreError> {
        Ok(TxAction::Put { item: self.encode_item(entity, condition.next_version()).await?, condition })
    }

    /// Writes one item of `user`'s, refused with [`StoreError::AccountClosed`]
    /// if the account was deleted (the check is part of the same request).
    /// Returns the new version.
    pub async fn put_live<E: Entity>(&self, user: &UserId, entity: &E, condition: Condition) -> Result<u64, StoreError> {
        let version = condition.next_version();
        self.transact(vec![self.tx_put(entity, condition).await?, TxAction::account_live(user)], None).await?;
        Ok(version)
    }

    /// All of `actions` or none of them (at most 100). `token` makes a retry
    /// of the same transaction within 10 minutes a no-op (ClientRequestToken).
    pub async fn transact(&self, actions: Vec<TxAction>, token: Option<String>) -> Result<(), StoreError> {
        if actions.is_empty() {
            return Ok(());
        }
        if actions.len() > TRANSACT_MAX {
            return Err(StoreError::Invalid(format!("a transaction holds at most {TRANSACT_MAX} actions")));
        }
        for a in &actions {
            if let TxAction::Put { item, .. } = a {
                check_raw(item)?;
            }
        }
        let now = self.now().epoch_seconds();
        let guards: Vec<usize> =
            actions.iter().enumerate().filter(|(_, a)| matches!(a, TxAction::AccountLive { .. })).map(|(i, _)| i).collect();
        let items = actions.into_iter().map(|a| a.build(self.name(), now)).collect::<Result<Vec<_>, _>>()?;
        let out = self
            .client()
            .transact_write_items()
            .set_transact_items(Some(items))
            .set_client_request_token(token)
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await
            .map_err(|e| transact_error(e, &guards))?;
        self.record(Kind::Write, out.consumed_capacity());
        Ok(())
    }
}

/// A cancelled transaction says why per action: a failed condition is a
/// conflict, throttling is throttling.
fn transact_error<R>(err: SdkError<TransactWriteItemsError, R>, guards: &[usize]) -> StoreError
where
    R: std::fmt::Debug + Send + Sync + 'static,
{
    const OP: &str = "TransactWriteItems";
    if let SdkError::ServiceError(se) = &err {
        if let TransactWriteItemsError::TransactionCanceledException(e) = se.err() {
            let reasons = e.cancellation_reasons();
            if guards.iter().any(|&i| reasons.get(i).and_then(|r| r.code()) == Some("ConditionalCheckFailed")) {
                return StoreError::AccountClosed;
            }
            let codes: Vec<&str> = reasons.iter().filter_map(|r| r.code()).collect();
            if codes.iter().any(|c| *c == "ConditionalCheckFailed" || *c == "TransactionConflict") {
                return StoreError::Conflict { op: OP };
            }
            if codes.iter().any(|c| *c == "ThrottlingError" || *c == "ProvisionedThroughputExceeded") {
                return StoreError::Throttled { op: OP };
            }
        }
    }
    from_sdk(OP, err)
}
