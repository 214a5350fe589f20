//! `GET`/`PUT /profile/budget-preferences`: the app's flat view of the
//! seed's UserBudget items (one main budget, one per category) and the
//! user's default threshold and currency (the PREFERENCES#ALERTS item).
//! Beyond the app's fields, `budgetOptions` sets a budget's period (a category
//! budget may be weekly) and whether its unspent money rolls over.

use super::{conflict, MAX_ATTEMPTS};
use crate::model::{self, category_budget_id, is_main, main_budget_id, NewBudget};
use crate::period::Period;
use crate::spend::ALL_CATEGORIES;
use crate::store::BudgetStore;
use expenzez_api::error::FieldError;
use expenzez_api::json::{Amount, JsonMoney};
use expenzez_api::{ApiError, Ctx, Reply};
use expenzez_domain::category::AppCategory;
use expenzez_domain::entities::{AlertPreferences, Entity, PeriodType, UserBudget};
use expenzez_domain::ids::UserId;
use expenzez_domain::keys::Category;
use expenzez_domain::{Currency, Money};
use expenzez_store::{Condition, Retry, TxAction, Versioned};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most category budgets a user keeps (a preferences change stays one transaction).
pub const MAX_CATEGORY_BUDGETS: usize = 40;
/// Largest budget amount (£10m), in pence.
pub const MAX_LIMIT_MINOR: i64 = 1_000_000_000;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetPreferencesView {
    pub monthly_spending_limit: Amount,
    pub category_budgets: BTreeMap<String, Amount>,
    pub alert_threshold: u32,
    pub currency: String,
    /// Every budget's period and rollover setting, by category (`all`: the main budget).
    pub budget_options: BTreeMap<String, BudgetOptionsView>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetOptionsView {
    pub period: PeriodType,
    pub rollover_unspent: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    budget_preferences: BudgetPreferencesView,
}

fn view(budgets: &[UserBudget], prefs: Option<&AlertPreferences>) -> BudgetPreferencesView {
    let main = budgets.iter().find(|b| is_main(b));
    let currency =
        prefs.and_then(|p| p.budget_currency.clone()).or_else(|| budgets.first().map(|b| b.currency.clone())).unwrap_or_else(Currency::gbp);
    BudgetPreferencesView {
        monthly_spending_limit: Amount(main.map(|b| b.limit).unwrap_or(Money::ZERO)),
        category_budgets: budgets.iter().filter(|b| !is_main(b)).map(|b| (b.category.clone(), Amount(b.limit))).collect(),
        alert_threshold: prefs.map(|p| p.budget_alert_threshold).unwrap_or(AlertPreferences::DEFAULT_THRESHOLD),
        currency: currency.to_string(),
        budget_options: budgets
            .iter()
            .map(|b| {
                (b.category.clone(), BudgetOptionsView { period: Period::kind_of(b.period.kind), rollover_unspent: b.rollover_unspent })
            })
            .collect(),
    }
}

pub async fn get<S: BudgetStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?;
    let (budgets, prefs) = tokio::try_join!(store.budgets(user), store.alert_preferences(user))?;
    let budgets: Vec<UserBudget> = budgets.into_iter().map(|v| v.value).collect();
    Reply::ok(&Body { budget_preferences: view(&budgets, prefs.as_ref().map(|p| &p.value)) })
}

/// Any subset of the view. `monthlySpendingLimit: 0` removes the main
/// budget; `categoryBudgets`, when sent, is the whole set (a category left
/// out, or at 0, is removed).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BudgetPreferencesUpdate {
    pub monthly_spending_limit: Option<JsonMoney>,
    pub category_budgets: Option<BTreeMap<String, JsonMoney>>,
    #[serde(default, deserialize_with = "expenzez_api::request::whole")]
    pub alert_threshold: Option<u32>,
    pub currency: Option<String>,
    /// Per budget (by category, `all` for the main budget): its period and rollover.
    pub budget_options: Option<BTreeMap<String, BudgetOptions>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeriodChoice {
    Weekly,
    Monthly,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BudgetOptions {
    pub period: Option<PeriodChoice>,
    pub rollover_unspent: Option<bool>,
}

/// A checked update: amounts in range, categories valid and distinct.
struct Wanted {
    main: Option<Money>,
    categories: Option<Vec<(String, Money)>>,
    threshold: Option<u32>,
    currency: Option<Currency>,
    /// By lower-cased category (`all`: the main budget).
    options: BTreeMap<String, BudgetOptions>,
}

impl Wanted {
    fn options_for(&self, category: &str) -> Option<&BudgetOptions> {
        self.options.get(&category.to_lowercase())
    }
}

fn amount(errors: &mut Vec<FieldError>, field: &str, m: Money) -> Money {
    if m.is_negative() || m.minor() > MAX_LIMIT_MINOR {
        errors.push(FieldError::new(field, "must be between 0 and 10000000"));
    }
    m
}

impl BudgetPreferencesUpdate {
    fn check(self) -> Result<Wanted, ApiError> {
        let mut errors = Vec::new();
        let main = self.monthly_spending_limit.map(|m| amount(&mut errors, "monthlySpendingLimit", m.0));
        let categories = self.category_budgets.map(|map| {
            let mut seen = std::collections::BTreeSet::new();
            let mut out = Vec::new();
            for (name, m) in map {
                let field = format!("categoryBudgets.{name}");
                let m = amount(&mut errors, &field, m.0);
                // A known name is stored as the app's own (`transport` → `Transportation`).
                let name = AppCategory::from_name(&name).map_or(name, |c| c.name().to_string());
                match Category::new(&name) {
                    Err(_) => errors.push(FieldError::new(field, "a category is 1 to 64 characters without '#'")),
                    Ok(c) if c.as_str().eq_ignore_ascii_case(ALL_CATEGORIES) => {
                        errors.push(FieldError::new(field, "'all' is the main budget: use monthlySpendingLimit"))
                    }
                    Ok(c) if !seen.insert(c.as_str().to_lowercase()) => {
                        errors.push(FieldError::new(field, "the same category is named twice"))
                    }
                    Ok(c) if !m.is_zero() => out.push((c.as_str().to_string(), m)),
                    Ok(_) => {}
                }
            }
            if out.len() > MAX_CATEGORY_BUDGETS {
                errors.push(FieldError::new("categoryBudgets", format!("at most {MAX_CATEGORY_BUDGETS} category budgets")));
            }
            out
        });
        if let Some(t) = self.alert_threshold {
            if !(1..=100).contains(&t) {
                errors.push(FieldError::new("alertThreshold", "must be a percentage from 1 to 100"));
            }
        }
        let currency = match self.currency.as_deref().map(Currency::new) {
            Some(Ok(c)) => Some(c),
            Some(Err(_)) => {
                errors.push(FieldError::new("currency", "must be a three-letter ISO 4217 code"));
                None
            }
            None => None,
        };
        let mut options = BTreeMap::new();
        for (name, o) in self.budget_options.unwrap_or_default() {
            let field = format!("budgetOptions.{name}");
            // Named like `categoryBudgets`: a known name is the app's own (`transport` → `Transportation`).
            let name = AppCategory::from_name(&name).map_or(name, |c| c.name().to_string());
            if name.eq_ignore_ascii_case(ALL_CATEGORIES) && o.period == Some(PeriodChoice::Weekly) {
                errors.push(FieldError::new(field, "the main budget is monthly (monthlySpendingLimit)"));
            } else if options.insert(name.to_lowercase(), o).is_some() {
                errors.push(FieldError::new(field, "the same budget is named twice"));
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        Ok(Wanted { main, categories, threshold: self.alert_threshold, currency, options })
    }
}

/// The writes that take `current` to what `w` asks for, and the resulting budgets.
fn plan(
    user: &UserId,
    current: &[Versioned<UserBudget>],
    prefs: &AlertPreferences,
    w: &Wanted,
    spent: impl Fn(&UserBudget) -> Money,
    now: expenzez_domain::Timestamp,
) -> Result<(Vec<TxAction>, Vec<UserBudget>), ApiError> {
    let thresholds = model::thresholds(prefs.budget_alert_threshold);
    let currency = prefs.budget_currency.clone().unwrap_or_else(Currency::gbp);
    // (id, name, category, limit) of every budget wanted.
    let mut wanted: Vec<(expenzez_domain::ids::BudgetId, String, String, Money)> = Vec::new();
    let main = match w.main {
        Some(m) if m.is_zero() => None,
        Some(m) => Some(m),
        None => current.iter().find(|b| is_main(&b.value)).map(|b| b.value.limit),
    };
    if let Some(m) = main {
        wanted.push((main_budget_id(), "Monthly spending".into(), ALL_CATEGORIES.into(), m));
    }
    match &w.categories {
        Some(list) => {
            for (c, m) in list {
                wanted.push((category_budget_id(c), c.clone(), c.clone(), *m));
            }
        }
        None => {
            for b in current.iter().filter(|b| !is_main(&b.value)) {
                wanted.push((b.value.budget_id.clone(), b.value.name.clone(), b.value.category.clone(), b.value.limit));
            }
        }
    }
    // Options must name a budget there will be.
    let unknown: Vec<FieldError> = w
        .options
        .keys()
        .filter(|k| !wanted.iter().any(|(_, _, c, _)| c.to_lowercase() == **k))
        .map(|k| FieldError::new(format!("budgetOptions.{k}"), "no such budget: set its amount too"))
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::Validation(unknown));
    }
    let mut actions = Vec::new();
    let mut result = Vec::new();
    for (id, name, category, limit) in wanted {
        let existing = current.iter().find(|b| b.value.budget_id == id);
        let options = w.options_for(&category);
        let kind = match options.and_then(|o| o.period) {
            Some(PeriodChoice::Weekly) => PeriodType::Weekly,
            Some(PeriodChoice::Monthly) => PeriodType::Monthly,
            None => existing.map(|e| Period::kind_of(e.value.period.kind)).unwrap_or(PeriodType::Monthly),
        };
        let rollover_unspent = options.and_then(|o| o.rollover_unspent).or(existing.map(|e| e.value.rollover_unspent)).unwrap_or(false);
        let mut b = match existing {
            Some(e) => e.value.clone(),
            None => model::new_budget(
                NewBudget {
                    user,
                    id,
                    name,
                    category: category.clone(),
                    limit,
                    currency: currency.clone(),
                    thresholds: thresholds.clone(),
                    kind,
                    rollover_unspent,
                },
                now,
            ),
        };
        if Period::kind_of(b.period.kind) != kind {
            // A new length starts afresh: the period containing now, nothing carried.
            let p = Period::containing(kind, now);
            b.period.kind = kind;
            b.period.start_date = p.start();
            b.period.end_date = p.end();
            b.carried_over = Money::ZERO;
        }
        if !rollover_unspent {
            b.carried_over = Money::ZERO;
        }
        b.rollover_unspent = rollover_unspent;
        b.limit = limit;
        b.category = category;
        b.currency = currency.clone();
        b.alerts.thresholds = thresholds.clone();
        let spent_now = spent(&b);
        model::record_spent(&mut b, spent_now, now);
        let changed = existing.map(|e| {
            let (o, n) = (&e.value, &b);
            o.limit != n.limit
                || o.category != n.category
                || o.currency != n.currency
                || o.alerts.thresholds != n.alerts.thresholds
                || o.period != n.period
                || o.rollover_unspent != n.rollover_unspent
                || o.carried_over != n.carried_over
        });
        match (existing, changed) {
            (None, _) => actions.push(TxAction::put(&b, Condition::MustNotExist)?),
            (Some(e), Some(true)) => {
                b.updated_at = now;
                actions.push(TxAction::put(&b, Condition::Version(e.version))?)
            }
            _ => {}
        }
        result.push(b);
    }
    for e in current {
        if !result.iter().any(|b| b.budget_id == e.value.budget_id) {
            actions.push(TxAction::delete(&e.value.item_key(), Condition::Version(e.version)));
        }
    }
    Ok((actions, result))
}

pub async fn put<S: BudgetStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let update: BudgetPreferencesUpdate = ctx.json()?;
    let wanted = update.check()?;
    let mut tries = Retry::new(MAX_ATTEMPTS);
    while tries.next().await {
        let now = store.now();
        let (month, week) = (Period::containing(PeriodType::Monthly, now), Period::containing(PeriodType::Weekly, now));
        let (current, stored_prefs, spending) =
            tokio::try_join!(store.budgets(&user), store.alert_preferences(&user), store.period_spending(&user, &month, false))?;
        // A week's spending only when there is (or will be) a weekly budget.
        let weekly = current.iter().any(|b| Period::kind_of(b.value.period.kind) == PeriodType::Weekly)
            || wanted.options.values().any(|o| o.period == Some(PeriodChoice::Weekly));
        let week_spending = if weekly { Some(store.period_spending(&user, &week, false).await?) } else { None };
        let mut prefs = stored_prefs.as_ref().map(|p| p.value.clone()).unwrap_or_else(|| AlertPreferences::defaults(user.clone(), now));
        if let Some(t) = wanted.threshold {
            prefs.budget_alert_threshold = t;
        }
        if let Some(c) = &wanted.currency {
            prefs.budget_currency = Some(c.clone());
        }
        if prefs.budget_currency.is_none() {
            prefs.budget_currency = current.first().map(|b| b.value.currency.clone());
        }
        let spent = |b: &UserBudget| match (Period::kind_of(b.period.kind), &week_spending) {
            (PeriodType::Weekly, Some(w)) => w.spent_by(b).unwrap_or(Money::ZERO),
            _ => spending.spent_by(b).unwrap_or(Money::ZERO),
        };
        let (mut actions, budgets) = plan(&user, &current, &prefs, &wanted, spent, now)?;
        let prefs_changed = stored_prefs.as_ref().map(|p| p.value != prefs).unwrap_or(true);
        if prefs_changed {
            prefs.updated_at = now;
            let cond = stored_prefs.as_ref().map(|p| Condition::Version(p.version)).unwrap_or(Condition::MustNotExist);
            actions.push(TxAction::put(&prefs, cond)?);
        }
        let outcome = if actions.is_empty() { Ok(()) } else { store.commit(actions).await };
        match outcome {
            Ok(()) => return Reply::ok(&Body { budget_preferences: view(&budgets, Some(&prefs)) }),
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(conflict())
}
