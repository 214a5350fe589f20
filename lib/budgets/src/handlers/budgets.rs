//! `GET /budgets`, `GET /budgets/alerts`, `DELETE /budgets/{id}`: budgets
//! with what they have spent this period, live from the SUMMARY items.

use super::{conflict, Percent, MAX_ATTEMPTS};
use crate::model::{allowance_in, is_main, percent};
use crate::period::Period;
use crate::spend::{reached, PeriodSpending};
use crate::store::BudgetStore;
use expenzez_api::json::Amount;
use expenzez_api::{ApiError, Ctx, Reply};
use expenzez_domain::entities::{PeriodType, UserBudget};
use expenzez_domain::ids::{BudgetId, UserId};
use expenzez_domain::{Money, Timestamp};
use expenzez_store::Retry;
use serde::Serialize;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetView {
    pub id: String,
    pub name: String,
    pub category: String,
    pub amount: Amount,
    pub period: PeriodType,
    pub currency: String,
    pub start_date: Timestamp,
    pub end_date: Timestamp,
    pub current_spent: Amount,
    pub progress: Percent,
    pub is_over_budget: bool,
    pub remaining_amount: Amount,
    pub alert_thresholds: Vec<u32>,
    /// Whether unspent money moves into the next period.
    pub rollover_unspent: bool,
    /// What this period received from the one before (`amount` includes it).
    pub rolled_over_amount: Amount,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetsSummary {
    pub total_budget: Amount,
    pub total_spent: Amount,
    pub remaining_total: Amount,
    pub overall_progress: Percent,
    pub over_budget_count: usize,
    pub total_count: usize,
}

/// A budget and what it has spent in its current period (a month or a week).
pub struct Status {
    pub budget: UserBudget,
    pub period: Period,
    pub spent: Money,
}

impl Status {
    /// What the budget may spend this period (its limit plus what was carried over).
    pub fn allowance(&self) -> Money {
        allowance_in(&self.budget, &self.period)
    }
    fn over(&self) -> bool {
        self.spent > self.allowance()
    }
    fn view(&self) -> BudgetView {
        let b = &self.budget;
        let allowance = self.allowance();
        BudgetView {
            id: b.budget_id.to_string(),
            name: b.name.clone(),
            category: b.category.clone(),
            amount: Amount(allowance),
            period: self.period.kind(),
            currency: b.currency.to_string(),
            start_date: self.period.start(),
            end_date: self.period.end(),
            current_spent: Amount(self.spent),
            progress: Percent(percent(self.spent, allowance)),
            is_over_budget: self.over(),
            remaining_amount: Amount(allowance.checked_sub(self.spent).filter(|r| !r.is_negative()).unwrap_or(Money::ZERO)),
            alert_thresholds: b.alerts.thresholds.clone(),
            rollover_unspent: b.rollover_unspent,
            rolled_over_amount: Amount(allowance.checked_sub(b.limit).unwrap_or(Money::ZERO)),
        }
    }
}

/// Every budget of `user` with its spending in its period containing now:
/// one Query of the budgets and one GetItem of the month's summary (plus, in
/// summer time, the boundary hour's transactions), and, when there are weekly
/// budgets, one Query of the week's transactions by date.
pub async fn statuses<S: BudgetStore>(store: &S, user: &UserId) -> Result<Vec<Status>, ApiError> {
    let now = store.now();
    let month = Period::containing(PeriodType::Monthly, now);
    let week = Period::containing(PeriodType::Weekly, now);
    let (budgets, month_spending): (_, PeriodSpending) = tokio::try_join!(store.budgets(user), store.period_spending(user, &month, false))?;
    let week_spending = if budgets.iter().any(|b| Period::kind_of(b.value.period.kind) == PeriodType::Weekly) {
        Some(store.period_spending(user, &week, false).await?)
    } else {
        None
    };
    let mut out = Vec::with_capacity(budgets.len());
    for b in budgets {
        let (period, spending) = match (Period::kind_of(b.value.period.kind), &week_spending) {
            (PeriodType::Weekly, Some(w)) => (week, w),
            _ => (month, &month_spending),
        };
        let spent = spending.spent_by(&b.value).map_err(|_| ApiError::Internal)?;
        out.push(Status { budget: b.value, period, spent });
    }
    // The main budget first, then by name.
    out.sort_by_key(|s| (!is_main(&s.budget), s.budget.name.to_lowercase()));
    Ok(out)
}

#[derive(Serialize)]
struct ListBody {
    budgets: Vec<BudgetView>,
    summary: BudgetsSummary,
}

pub async fn list<S: BudgetStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?;
    let statuses = statuses(&store, user).await?;
    // The overall figures are the main budget's when there is one (category
    // budgets are parts of it), else the sum of the category budgets.
    let overall: Vec<&Status> = match statuses.iter().find(|s| is_main(&s.budget)) {
        Some(main) => vec![main],
        None => statuses.iter().collect(),
    };
    let sum = |f: &dyn Fn(&Status) -> Money| expenzez_domain::money::checked_sum(overall.iter().map(|s| f(s))).ok_or(ApiError::Internal);
    let (total_budget, total_spent) = (sum(&|s| s.allowance())?, sum(&|s| s.spent)?);
    let summary = BudgetsSummary {
        total_budget: Amount(total_budget),
        total_spent: Amount(total_spent),
        remaining_total: Amount(total_budget.checked_sub(total_spent).ok_or(ApiError::Internal)?),
        overall_progress: Percent(percent(total_spent, total_budget)),
        over_budget_count: statuses.iter().filter(|s| s.over()).count(),
        total_count: statuses.len(),
    };
    Reply::ok(&ListBody { budgets: statuses.iter().map(Status::view).collect(), summary })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetWarning {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub budget_id: String,
    pub budget_name: String,
    pub category: String,
    pub message: String,
    pub severity: &'static str,
    pub current_spent: Amount,
    pub budget_amount: Amount,
    pub progress: Percent,
}

#[derive(Serialize)]
struct WarningsBody {
    alerts: Vec<BudgetWarning>,
}

/// The budgets at or past their warning threshold right now.
pub async fn warnings<S: BudgetStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?;
    let statuses = statuses(&store, user).await?;
    let alerts = statuses
        .iter()
        .filter_map(|s| {
            let b = &s.budget;
            let warn_at = b.alerts.thresholds.iter().copied().min().unwrap_or(100);
            let allowance = s.allowance();
            if !reached(s.spent, allowance, warn_at) {
                return None;
            }
            let exceeded = reached(s.spent, allowance, 100);
            let p = percent(s.spent, allowance);
            Some(BudgetWarning {
                kind: if exceeded { "exceeded" } else { "warning" },
                budget_id: b.budget_id.to_string(),
                budget_name: b.name.clone(),
                category: b.category.clone(),
                message: if exceeded {
                    format!("You have gone over your {} budget ({}%).", b.name, p.round_dp(0))
                } else {
                    format!("You have used {}% of your {} budget.", p.round_dp(0), b.name)
                },
                severity: if exceeded { "high" } else { "medium" },
                current_spent: Amount(s.spent),
                budget_amount: Amount(allowance),
                progress: Percent(p),
            })
        })
        .collect();
    Reply::ok(&WarningsBody { alerts })
}

#[derive(Serialize)]
struct Deleted {
    success: bool,
}

pub async fn delete<S: BudgetStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?;
    // An id that could not be ours is as missing as one that is not.
    let id = ctx.path("id").and_then(|i| BudgetId::new(i).ok()).ok_or(ApiError::NotFound)?;
    let mut tries = Retry::new(MAX_ATTEMPTS);
    while tries.next().await {
        let current = store.budget(user, &id).await?.ok_or(ApiError::NotFound)?;
        match store.delete_budget(user, &id, current.version).await {
            Ok(_) => return Reply::ok(&Deleted { success: true }),
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(conflict())
}
