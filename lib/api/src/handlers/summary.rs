//! `GET /transactions/summary[?month=YYYY-MM]`: all-time figures from the
//! monthly SUMMARY items (one Query of a dozen small items a year), and a
//! month's `byCategory` from one GetItem.

use crate::edge::Reply;
use crate::error::ApiError;
use crate::json::Amount;
use crate::request::Ctx;
use crate::stores::SummaryStore;
use expenzez_domain::entities::Totals;
use expenzez_domain::time::YearMonth;
use expenzez_domain::{Money, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryView {
    pub debit: Amount,
    pub credit: Amount,
    pub net: Amount,
    pub count: u64,
}

impl From<&Totals> for CategoryView {
    fn from(t: &Totals) -> Self {
        Self { debit: Amount(t.debit), credit: Amount(t.credit), net: Amount(t.net()), count: t.debit_count + t.credit_count }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryView {
    pub balance: Amount,
    pub total_credit: Amount,
    pub total_debit: Amount,
    pub transaction_count: u64,
    pub first_transaction_date: Option<Timestamp>,
    pub last_transaction_date: Option<Timestamp>,
    pub months_with_data: Vec<YearMonth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month: Option<YearMonth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month_totals: Option<CategoryView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_category: Option<BTreeMap<String, CategoryView>>,
}

#[derive(Serialize)]
struct Body {
    summary: SummaryView,
}

pub async fn get<S: SummaryStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?;
    let month = match ctx.query("month").filter(|m| !m.is_empty()) {
        Some(m) => Some(YearMonth::parse(&m).ok_or_else(|| ApiError::validation("month", "must be YYYY-MM"))?),
        None => None,
    };
    let (summaries, first, last) =
        tokio::try_join!(store.summaries(user), store.edge_transaction_time(user, false), store.edge_transaction_time(user, true))?;
    let overflow = || ApiError::Internal;
    let (mut credit, mut debit, mut count) = (Money::ZERO, Money::ZERO, 0u64);
    let mut months = Vec::new();
    for s in &summaries {
        credit = credit.checked_add(s.totals.credit).ok_or_else(overflow)?;
        debit = debit.checked_add(s.totals.debit).ok_or_else(overflow)?;
        count += s.totals.debit_count + s.totals.credit_count;
        if !s.totals.is_empty() {
            months.push(s.month);
        }
    }
    let month_summary = month.map(|m| summaries.iter().find(|s| s.month == m).cloned());
    let view = SummaryView {
        balance: Amount(credit.checked_sub(debit).ok_or_else(overflow)?),
        total_credit: Amount(credit),
        total_debit: Amount(debit),
        transaction_count: count,
        first_transaction_date: first,
        last_transaction_date: last,
        months_with_data: months,
        month,
        month_totals: month_summary
            .as_ref()
            .map(|s| s.as_ref().map(|s| CategoryView::from(&s.totals)).unwrap_or_else(|| CategoryView::from(&Totals::default()))),
        by_category: month_summary
            .map(|s| s.map(|s| s.by_category.iter().map(|(k, v)| (k.clone(), CategoryView::from(v))).collect()).unwrap_or_default()),
    };
    Reply::ok(&Body { summary: view })
}
