//! The financial data an answer is computed from, read from the user's own
//! items (monthly summaries, budgets, transactions by date through GSI2),
//! never from what the client sends.

use crate::engine::{FinancialData, Intent, Question};
use crate::stores::FinanceStore;
use expenzez_domain::ids::UserId;
use expenzez_store::StoreError;

/// Loads what `q` needs: summaries always (one small query), budgets for a
/// budget question, transactions only over the question's window. With
/// `for_model` (a language model answers), summaries and budgets for any
/// question: they are the context it is grounded in.
pub async fn load<S: FinanceStore>(store: &S, user: &UserId, q: &Question, for_model: bool) -> Result<FinancialData, StoreError> {
    if q.intent == Intent::Unknown && !for_model {
        return Ok(FinancialData::default());
    }
    let summaries = store.summaries(user).await?;
    let budgets = if q.intent == Intent::Budget || for_model { store.budgets(user).await? } else { Vec::new() };
    let transactions = match q.window() {
        Some((from, to)) => store.transactions_between(user, from, to).await?,
        None => Vec::new(),
    };
    Ok(FinancialData { summaries, transactions, budgets })
}
