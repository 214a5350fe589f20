//! `GET /ai/monthly-report/{latest|YYYY-MM}`: a month's report computed from
//! its monthly summary (totals, categories, the previous month for trends)
//! and its transactions (merchants), kept in AIAnalysisCache
//! (`CACHE#AI_ANALYSIS#{userId}` / `DATA#monthly_report#monthly_{YYYY-MM}`)
//! with the summary versions it was computed from: while they are unchanged
//! the cached report is served, and a changed month is recomputed.

use crate::engine::{category_totals, merchant_totals};
use crate::format::change_percent;
use crate::stores::{FinanceStore, ReportStore};
use expenzez_api::json::Amount;
use expenzez_api::{ApiError, Ctx, Reply};
use expenzez_domain::entities::*;
use expenzez_domain::ids::UserId;
use expenzez_domain::time::YearMonth;
use expenzez_domain::{Money, Timestamp};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// Bumped when the report's computation changes: older cached reports are recomputed.
pub const REPORT_VERSION: &str = "monthly-report-1";
/// How long a cached report is kept (its summaries' versions decide freshness):
/// a month and a few days, so the report the monthly job computes on the 1st
/// is still there at the end of the month.
pub const CACHE_DAYS: i64 = 35;

pub fn previous(m: YearMonth) -> YearMonth {
    if m.month == 1 {
        YearMonth { year: m.year - 1, month: 12 }
    } else {
        YearMonth { year: m.year, month: m.month - 1 }
    }
}

fn month_bounds(m: YearMonth) -> Option<(Timestamp, Timestamp)> {
    let from = chrono::NaiveDate::from_ymd_opt(m.year, m.month, 1)?;
    let to = from.checked_add_months(chrono::Months::new(1))?.pred_opt()?;
    Some((Timestamp::start_of_day(from), Timestamp::end_of_day(to)))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryRow {
    category: String,
    amount: Amount,
    count: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MerchantRow {
    merchant: String,
    amount: Amount,
    count: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Trends {
    income_change: Option<i64>,
    expense_change: Option<i64>,
}

/// The app's `reportData`; amounts exact (`12.30`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportData {
    total_income: Amount,
    total_expenses: Amount,
    net_flow: Amount,
    transaction_count: u64,
    top_categories: Vec<CategoryRow>,
    top_merchants: Vec<MerchantRow>,
    monthly_insights: Vec<String>,
    trends: Trends,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    report_month: YearMonth,
    generated_at: Timestamp,
    report_data: ReportData,
}

/// The report's `reportData` for month `s` (with `prev` for trends and `txns` the month's transactions).
pub fn compute(s: &MonthlySummary, prev: Option<&MonthlySummary>, txns: &[Transaction]) -> ReportData {
    let t = &s.totals;
    let categories = category_totals(txns.iter());
    let merchants = merchant_totals(txns.iter());
    let top_categories: Vec<CategoryRow> = {
        let mut rows: Vec<(String, i64, u64)> =
            s.by_category.iter().filter(|(_, c)| c.debit.minor() > 0).map(|(k, c)| (k.clone(), c.debit.minor(), c.debit_count)).collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        rows.into_iter()
            .take(5)
            .map(|(category, amount, count)| CategoryRow { category, amount: Amount(Money::from_minor(amount)), count: count as usize })
            .collect()
    };
    let top_merchants: Vec<MerchantRow> = merchants
        .iter()
        .take(5)
        .map(|(m, a, n)| MerchantRow { merchant: m.clone(), amount: Amount(Money::from_minor(*a)), count: *n })
        .collect();
    let income_change = prev.and_then(|p| change_percent(p.totals.credit.minor(), t.credit.minor()));
    let expense_change = prev.and_then(|p| change_percent(p.totals.debit.minor(), t.debit.minor()));
    let money = crate::format::money;
    let mut insights = Vec::new();
    insights.push(format!(
        "You spent {} and received {} in {}, a net {} of {}.",
        money(t.debit),
        money(t.credit),
        month_label(s.month),
        if t.credit >= t.debit { "saving" } else { "shortfall" },
        money(Money::from_minor((t.credit.minor() - t.debit.minor()).abs()))
    ));
    if let Some(c) = expense_change {
        let p = prev.map(|p| p.totals.debit).unwrap_or_default();
        insights.push(match c {
            c if c > 0 => format!("Spending was {c}% higher than the month before ({}).", money(p)),
            c if c < 0 => format!("Spending was {}% lower than the month before ({}).", -c, money(p)),
            _ => format!("Spending was the same as the month before ({}).", money(p)),
        });
    }
    if let Some((c, amount, _)) = categories.first() {
        insights.push(format!("Your biggest category was {} at {}.", c.replace('_', " "), money(Money::from_minor(*amount))));
    }
    if let Some((m, amount, n)) = merchants.first() {
        insights.push(format!(
            "You paid {m} the most: {} over {n} payment{}.",
            money(Money::from_minor(*amount)),
            if *n == 1 { "" } else { "s" }
        ));
    }
    ReportData {
        total_income: Amount(t.credit),
        total_expenses: Amount(t.debit),
        net_flow: Amount(t.net()),
        transaction_count: t.debit_count + t.credit_count,
        top_categories,
        top_merchants,
        monthly_insights: insights,
        trends: Trends { income_change, expense_change },
    }
}

fn month_label(m: YearMonth) -> String {
    chrono::NaiveDate::from_ymd_opt(m.year, m.month, 1).map(|d| d.format("%B %Y").to_string()).unwrap_or_else(|| m.to_string())
}

/// The month a request names: `latest` is the newest month before the
/// current one with any transaction (the current month when it is the only one).
fn pick(requested: &str, summaries: &BTreeMap<YearMonth, (MonthlySummary, u64)>, now: Timestamp) -> Result<Option<YearMonth>, ApiError> {
    if requested == "latest" {
        let with_data = summaries.iter().filter(|(_, (s, _))| !s.totals.is_empty());
        let current = now.month();
        let past = with_data.clone().filter(|(m, _)| **m < current).map(|(m, _)| *m).next_back();
        return Ok(past.or_else(|| with_data.map(|(m, _)| *m).next_back()));
    }
    let m = YearMonth::parse(requested).ok_or_else(|| ApiError::validation("month", "must be latest or YYYY-MM"))?;
    Ok(summaries.get(&m).filter(|(s, _)| !s.totals.is_empty()).map(|_| m))
}

/// `{hasReports: true, report}` around the report's JSON text, as stored.
fn body(report: &str) -> Reply {
    Reply { status: http::StatusCode::OK, body: format!(r#"{{"hasReports":true,"report":{report}}}"#), etag: None }
}

type Summaries = BTreeMap<YearMonth, (MonthlySummary, u64)>;

async fn summaries<S: ReportStore>(store: &S, user: &UserId) -> Result<Summaries, ApiError> {
    Ok(store.versioned_summaries(user).await?.into_iter().map(|v| (v.value.month, (v.value, v.version))).collect())
}

pub async fn get<S: FinanceStore + ReportStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?;
    let requested = ctx.path("month").unwrap_or_default();
    let summaries = summaries(&store, user).await?;
    let Some(month) = pick(&requested, &summaries, store.now())? else {
        return Reply::ok(&json!({"hasReports": false, "report": null}));
    };
    let (report, _) = ensure(&store, user, month, &summaries).await?;
    Ok(body(&report))
}

/// The report of `month` (which has a summary with data), as JSON text: the
/// cached one while the summaries it was computed from keep their versions,
/// else computed now and cached. `true` when it was computed.
async fn ensure<S: FinanceStore + ReportStore>(
    store: &S,
    user: &UserId,
    month: YearMonth,
    summaries: &Summaries,
) -> Result<(String, bool), ApiError> {
    let now = store.now();
    let prev = previous(month);
    let versions: BTreeMap<String, u64> = [month, prev].iter().filter_map(|m| summaries.get(m).map(|(_, v)| (m.to_string(), *v))).collect();
    if let Some(cached) = store.cached_report(user, month).await? {
        if cached.version == REPORT_VERSION && cached.based_on_data.summary_versions == versions {
            if let Some(report) = cached.report {
                return Ok((report, false));
            }
        }
    }
    let started = std::time::Instant::now();
    let (from, to) = month_bounds(month).ok_or(ApiError::Internal)?;
    let txns = store.transactions_between(user, from, to).await?;
    let (summary, _) = summaries.get(&month).ok_or(ApiError::Internal)?;
    let data = compute(summary, summaries.get(&prev).map(|(s, _)| s), &txns);
    let report =
        serde_json::to_string(&Report { report_month: month, generated_at: now, report_data: data }).map_err(|_| ApiError::Internal)?;
    let expires = now.plus_seconds(CACHE_DAYS * 86_400);
    let entry = AiAnalysisCache {
        user_id: user.clone(),
        analysis_type: AnalysisType::MonthlyReport,
        timeframe: Timeframe::Monthly,
        analysis_data: AnalysisData {
            summary: format!("Monthly report for {month}"),
            insights: Vec::new(),
            metrics: BTreeMap::new(),
            trends: Vec::new(),
            recommendations: Vec::new(),
        },
        generated_at: now,
        expires_at: expires,
        ttl: expires.epoch_seconds(),
        based_on_data: BasedOnData {
            transaction_count: txns.len() as u64,
            date_range: DateRange { from, to },
            accounts_included: Vec::new(),
            summary_versions: versions,
        },
        generation_time: started.elapsed().as_millis() as u64,
        data_points: txns.len() as u64,
        version: REPORT_VERSION.into(),
        period: Some(month.to_string()),
        report: Some(report.clone()),
    };
    store.save_report(&entry).await?;
    tracing::info!(month = %month, "monthly report computed");
    Ok((report, true))
}

/// What the monthly job did for one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precomputed {
    /// Computed and cached now.
    Computed,
    /// The cached report still held (nothing written).
    Cached,
    /// The month has no transactions left (all deleted since): no report.
    NoData,
}

/// The report of `month` for `user`, ready in the cache (the monthly job).
pub async fn precompute<S: FinanceStore + ReportStore>(store: &S, user: &UserId, month: YearMonth) -> Result<Precomputed, ApiError> {
    let summaries = summaries(store, user).await?;
    if summaries.get(&month).is_none_or(|(s, _)| s.totals.is_empty()) {
        return Ok(Precomputed::NoData);
    }
    let (_, computed) = ensure(store, user, month, &summaries).await?;
    Ok(if computed { Precomputed::Computed } else { Precomputed::Cached })
}
