//! The deterministic answer engine: recognises the questions people ask a
//! finance app and answers them in plain words with exact figures computed
//! from the user's own data. No network, no randomness: the same question
//! on the same data gives the same answer. A question it does not recognise
//! gets an honest "I can't answer that from your data", never a guess.
//!
//! Two steps: [`understand`] reads the question (what, and over which
//! period), so the caller knows which data to load ([`Question::window`]);
//! [`answer`] computes the answer from that data ([`FinancialData`]).

use crate::format::{self, change_percent, money, percent};
use crate::recurring::{self, Cadence, RecurringStatus};
use chrono::{Datelike, Duration, Months, NaiveDate};
use expenzez_domain::entities::{MonthlySummary, PeriodType, Transaction, UserBudget};
use expenzez_domain::time::YearMonth;
use expenzez_domain::{Money, Timestamp};
use std::collections::BTreeMap;

/// A span of whole days, inclusive, with how an answer names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub label: String,
}

impl Period {
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.from <= d && d <= self.to
    }
}

/// What the question asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// Spending in a period, on everything or on one category or merchant.
    Spend,
    TopCategories,
    TopMerchants,
    /// This month against last month.
    Compare,
    Budget,
    /// Where this month's spending is heading by its last day.
    Projection,
    Subscriptions,
    Savings,
    Unknown,
}

impl Intent {
    pub fn name(&self) -> &'static str {
        match self {
            Intent::Spend => "spend",
            Intent::TopCategories => "top_categories",
            Intent::TopMerchants => "top_merchants",
            Intent::Compare => "compare_months",
            Intent::Budget => "budget_status",
            Intent::Projection => "month_end_projection",
            Intent::Subscriptions => "subscriptions",
            Intent::Savings => "savings",
            Intent::Unknown => "unknown",
        }
    }
}

/// A question, understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub intent: Intent,
    pub period: Period,
    /// The question in lower-case words (for matching categories and merchants).
    pub words: String,
    pub today: NaiveDate,
}

/// How far back recurring payments are looked for (a yearly bill needs two payments).
pub const RECURRING_LOOKBACK_DAYS: i64 = 400;
/// How far back merchants and categories are recognised by name.
pub const VOCABULARY_DAYS: i64 = 120;

impl Question {
    /// The transactions an answer needs: `(from, to)`, or `None` when the
    /// monthly summaries are enough.
    pub fn window(&self) -> Option<(Timestamp, Timestamp)> {
        let today = self.today;
        let from = match self.intent {
            Intent::Unknown | Intent::Budget => return None,
            Intent::Subscriptions | Intent::Savings => today - Duration::days(RECURRING_LOOKBACK_DAYS),
            Intent::Compare | Intent::Projection => month_start(today) - Months::new(1),
            Intent::Spend | Intent::TopCategories | Intent::TopMerchants => self.period.from.min(today - Duration::days(VOCABULARY_DAYS)),
        };
        let from = if self.intent == Intent::Compare { from.min(today - Duration::days(VOCABULARY_DAYS)) } else { from };
        Some((Timestamp::start_of_day(from), Timestamp::end_of_day(today)))
    }
}

/// The user's data an answer is computed from (loaded by the caller from its own items).
#[derive(Debug, Clone, Default)]
pub struct FinancialData {
    pub summaries: Vec<MonthlySummary>,
    /// Transactions of [`Question::window`], any order.
    pub transactions: Vec<Transaction>,
    pub budgets: Vec<UserBudget>,
}

/// An answer: its text, and every money figure it states (so another
/// writer's answer can be checked against them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub intent: &'static str,
    pub text: String,
    pub figures: Vec<Money>,
}

pub const CANNOT_ANSWER: &str = "I can't answer that from your data. I can tell you what you spent (in total, on a category or at a shop, \
in a period such as this month, last month or last week), your top categories and merchants, how this month compares with last month, \
whether you're on track for your budget, what you're likely to have spent by the end of the month, which subscriptions and regular \
payments you have, and where you could save.";

fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn month_end(d: NaiveDate) -> NaiveDate {
    (month_start(d) + Months::new(1)).pred_opt().unwrap_or(d)
}

fn ym(d: NaiveDate) -> YearMonth {
    YearMonth { year: d.year(), month: d.month() }
}

fn month_name(m: YearMonth) -> String {
    NaiveDate::from_ymd_opt(m.year, m.month, 1).map(|d| d.format("%B %Y").to_string()).unwrap_or_else(|| m.to_string())
}

/// Lower-case words of `s` (apostrophes dropped), space-separated, padded with spaces.
fn words(s: &str) -> String {
    let w: String = s.to_lowercase().replace(['\'', '’'], "").chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    format!(" {} ", w.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn has(w: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| w.contains(&format!(" {p} ")))
}

fn has_prefix(w: &str, stems: &[&str]) -> bool {
    stems.iter().any(|s| w.contains(&format!(" {s}")))
}

const MONTHS: [&str; 12] =
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];

/// The period a question names; this month when it names none.
pub fn period(w: &str, today: NaiveDate) -> Period {
    let p = |from: NaiveDate, to: NaiveDate, label: &str| Period { from, to: to.min(today), label: label.to_string() };
    if has(w, &["today"]) {
        return p(today, today, "today");
    }
    if has(w, &["yesterday"]) {
        let y = today - Duration::days(1);
        return p(y, y, "yesterday");
    }
    if has(w, &["last 7 days", "past 7 days", "past week", "last seven days"]) {
        return p(today - Duration::days(6), today, "in the last 7 days");
    }
    if has(w, &["last 30 days", "past 30 days", "last thirty days"]) {
        return p(today - Duration::days(29), today, "in the last 30 days");
    }
    let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
    if has(w, &["this week"]) {
        return p(monday, today, "this week");
    }
    if has(w, &["last week"]) {
        return p(monday - Duration::days(7), monday - Duration::days(1), "last week");
    }
    if has(w, &["last month", "previous month"]) {
        let from = month_start(today) - Months::new(1);
        return p(from, month_end(from), "last month");
    }
    if has(w, &["this year", "so far this year", "year to date"]) {
        let from = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
        return p(from, today, &format!("so far this year ({})", today.year()));
    }
    if has(w, &["last year"]) {
        let from = NaiveDate::from_ymd_opt(today.year() - 1, 1, 1).unwrap_or(today);
        let to = NaiveDate::from_ymd_opt(today.year() - 1, 12, 31).unwrap_or(today);
        return p(from, to, &format!("last year ({})", today.year() - 1));
    }
    // A month by name ("in October", "in March 2026"); "may" only with "in".
    for (i, name) in MONTHS.iter().enumerate() {
        let named = if *name == "may" { has(w, &["in may", "during may"]) } else { has(w, &[name]) };
        if !named {
            continue;
        }
        let month = i as u32 + 1;
        let year = w
            .split_whitespace()
            .skip_while(|x| x != name)
            .nth(1)
            .and_then(|y| y.parse::<i32>().ok())
            .filter(|y| (1970..=today.year()).contains(y))
            .unwrap_or(if month > today.month() { today.year() - 1 } else { today.year() });
        if let Some(from) = NaiveDate::from_ymd_opt(year, month, 1) {
            return p(from, month_end(from), &format!("in {}", month_name(ym(from))));
        }
    }
    p(month_start(today), today, "this month")
}

/// Reads a question.
pub fn understand(question: &str, today: NaiveDate) -> Question {
    let w = words(question);
    let period = period(&w, today);
    let finance = has_prefix(
        &w,
        &[
            "spen",
            "cost",
            "pay",
            "paid",
            "budget",
            "saving",
            "save",
            "subscri",
            "recurring",
            "direct debit",
            "bill",
            "merchant",
            "shop",
            "store",
            "categor",
            "month",
            "money",
            "expens",
            "afford",
            "forecast",
            "project",
            "track",
            "outgoing",
            "breakdown",
        ],
    );
    let intent = if !finance {
        Intent::Unknown
    } else if has_prefix(&w, &["subscri", "recurring", "direct debit", "standing order", "regular payment", "repeat payment"]) {
        Intent::Subscriptions
    } else if has_prefix(&w, &["save", "saving", "cut back", "cut down", "spend less", "reduce", "economi"]) {
        Intent::Savings
    } else if has_prefix(&w, &["budget", "on track", "overspen"]) {
        Intent::Budget
    } else if has(
        &w,
        &["end of the month", "end of month", "month end", "by the end", "forecast", "projected", "projection", "on pace", "at this rate"],
    ) {
        Intent::Projection
    } else if has_prefix(&w, &["compar", "versus", "vs", "than last month", "month on month", "month over month"])
        || (has(&w, &["more", "less"]) && has(&w, &["than last month", "than i did last month"]))
    {
        Intent::Compare
    } else if has_prefix(
        &w,
        &["merchant", "shop", "store", "retailer", "where do i spend", "where did i spend", "who do i pay", "who did i pay"],
    ) && has_prefix(&w, &["top", "most", "biggest", "largest", "where", "which", "who"])
    {
        Intent::TopMerchants
    } else if has_prefix(
        &w,
        &["categor", "breakdown", "what do i spend the most", "what did i spend the most", "spend most on", "spent most on"],
    ) {
        Intent::TopCategories
    } else if has_prefix(&w, &["spen", "cost", "pay", "paid", "outgoing", "expens"]) {
        Intent::Spend
    } else {
        Intent::Unknown
    };
    Question { intent, period, words: w, today }
}

/// What a question's spending is about.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    All,
    Category {
        key: String,
        name: String,
    },
    Merchant {
        key: String,
        name: String,
    },
    /// The question names something we cannot find in the data.
    Missing(String),
}

/// Other words for the categories people name.
const ALIASES: &[(&str, &[&str])] = &[
    ("food", &["groceries", "eating out", "food and drink", "food dining", "restaurants"]),
    ("grocery", &["groceries"]),
    ("supermarket", &["groceries"]),
    ("supermarkets", &["groceries"]),
    ("restaurants", &["eating out", "food dining", "restaurants"]),
    ("restaurant", &["eating out", "food dining", "restaurants"]),
    ("dining", &["eating out", "food dining"]),
    ("takeaway", &["eating out", "food dining"]),
    ("takeaways", &["eating out", "food dining"]),
    ("eating out", &["eating out", "food dining"]),
    ("bills", &["utilities", "bills utilities", "bills"]),
    ("energy", &["utilities", "bills utilities"]),
    ("travel", &["transport", "travel"]),
    ("commute", &["transport"]),
    ("commuting", &["transport"]),
    ("rent", &["housing", "rent"]),
    ("clothes", &["shopping"]),
    ("fun", &["entertainment"]),
];

const STOP: &[&str] = &[
    "how",
    "much",
    "did",
    "do",
    "i",
    "spend",
    "spent",
    "spending",
    "on",
    "at",
    "in",
    "for",
    "the",
    "my",
    "me",
    "what",
    "was",
    "is",
    "have",
    "has",
    "this",
    "last",
    "month",
    "week",
    "year",
    "today",
    "yesterday",
    "so",
    "far",
    "past",
    "days",
    "day",
    "total",
    "a",
    "an",
    "and",
    "of",
    "with",
    "from",
    "to",
    "money",
    "all",
    "pay",
    "paid",
    "cost",
    "costs",
    "many",
    "pounds",
    "altogether",
    "overall",
    "whole",
    "whats",
    "previous",
    "during",
    "since",
    "ive",
    "been",
    "are",
    "we",
    "you",
    "can",
    "tell",
    "please",
    "show",
    "get",
    "give",
    "outgoings",
    "expenses",
    "expense",
    "by",
];

fn category_phrase(category: &str) -> String {
    words(category).trim().to_string()
}

fn target(q: &Question, data: &FinancialData) -> Target {
    let w = &q.words;
    // Merchants first: "Tesco" is more specific than "groceries".
    let mut merchants: BTreeMap<String, String> = BTreeMap::new();
    for t in &data.transactions {
        let key = recurring::merchant_key(t);
        if key.len() >= 2 {
            let name = t.merchant.as_ref().map(|m| m.name.clone()).unwrap_or_else(|| t.description.clone());
            merchants.insert(key, name);
        }
    }
    // Longest name first, so "pret a manger" wins over "pret".
    let mut by_len: Vec<(&String, &String)> = merchants.iter().collect();
    by_len.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(b.0)));
    if let Some((key, name)) = by_len.into_iter().find(|(k, _)| has(w, &[k.as_str()])) {
        return Target::Merchant { key: key.clone(), name: name.clone() };
    }
    let mut categories: BTreeMap<String, String> = BTreeMap::new();
    for s in &data.summaries {
        for c in s.by_category.keys() {
            categories.insert(category_phrase(c), c.clone());
        }
    }
    for t in &data.transactions {
        categories.insert(category_phrase(t.category.primary.as_str()), t.category.primary.to_string());
    }
    for (phrase, name) in &categories {
        if !phrase.is_empty() && has(w, &[phrase.as_str()]) {
            return Target::Category { key: name.clone(), name: phrase.clone() };
        }
    }
    for (alias, candidates) in ALIASES {
        if has(w, &[alias]) {
            if let Some((phrase, name)) = candidates.iter().find_map(|c| categories.get_key_value(*c)) {
                return Target::Category { key: name.clone(), name: phrase.clone() };
            }
        }
    }
    // "on X" / "at X" naming something we do not know.
    for marker in [" on ", " at ", " for "] {
        if let Some(i) = w.rfind(marker) {
            let rest: Vec<&str> = w[i + marker.len()..]
                .split_whitespace()
                .filter(|x| !STOP.contains(x) && !MONTHS.contains(x) && x.parse::<i32>().is_err())
                .collect();
            if !rest.is_empty() {
                return Target::Missing(rest.join(" "));
            }
        }
    }
    Target::All
}

fn debit(t: &Transaction) -> i64 {
    if t.amount.is_negative() {
        t.amount.minor().saturating_neg()
    } else {
        0
    }
}

fn in_period<'a>(data: &'a FinancialData, p: &'a Period) -> impl Iterator<Item = &'a Transaction> + 'a {
    data.transactions.iter().filter(move |t| p.contains(t.timestamp.date()))
}

fn summary(data: &FinancialData, m: YearMonth) -> Option<&MonthlySummary> {
    data.summaries.iter().find(|s| s.month == m)
}

fn month_debit(data: &FinancialData, m: YearMonth) -> i64 {
    summary(data, m).map(|s| s.totals.debit.minor()).unwrap_or(0)
}

fn month_category_debit(data: &FinancialData, m: YearMonth, category: &str) -> i64 {
    summary(data, m).and_then(|s| s.by_category.get(category)).map(|t| t.debit.minor()).unwrap_or(0)
}

struct Out {
    text: String,
    figures: Vec<Money>,
}

impl Out {
    fn new() -> Self {
        Out { text: String::new(), figures: Vec::new() }
    }
    /// A money figure, formatted and recorded.
    fn m(&mut self, minor: i64) -> String {
        let m = Money::from_minor(minor);
        self.figures.push(m);
        money(m)
    }
}

/// Answers `q` from `data`.
pub fn answer(q: &Question, data: &FinancialData) -> Answer {
    let mut out = Out::new();
    match q.intent {
        Intent::Spend => spend(q, data, &mut out),
        Intent::TopCategories => top_categories(q, data, &mut out),
        Intent::TopMerchants => top_merchants(q, data, &mut out),
        Intent::Compare => compare(q, data, &mut out),
        Intent::Budget => budget(q, data, &mut out),
        Intent::Projection => projection(q, data, &mut out),
        Intent::Subscriptions => subscriptions(q, data, &mut out),
        Intent::Savings => savings(q, data, &mut out),
        Intent::Unknown => out.text = CANNOT_ANSWER.to_string(),
    }
    Answer { intent: q.intent.name(), text: out.text, figures: out.figures }
}

fn spend(q: &Question, data: &FinancialData, out: &mut Out) {
    let p = &q.period;
    let (what, total, count) = match target(q, data) {
        Target::Missing(name) => {
            out.text = format!(
                "I couldn't find \"{name}\" among your categories or the shops you've paid recently, so I can't answer that from your data."
            );
            return;
        }
        Target::All => {
            let (sum, n) = in_period(data, p).filter(|t| debit(t) > 0).fold((0i64, 0usize), |(s, n), t| (s + debit(t), n + 1));
            ("in total".to_string(), sum, n)
        }
        Target::Category { key, name } => {
            let (sum, n) = in_period(data, p)
                .filter(|t| debit(t) > 0 && t.category.primary.as_str() == key)
                .fold((0i64, 0usize), |(s, n), t| (s + debit(t), n + 1));
            (format!("on {name}"), sum, n)
        }
        Target::Merchant { key, name } => {
            let (sum, n) = in_period(data, p)
                .filter(|t| debit(t) > 0 && recurring::merchant_key(t) == key)
                .fold((0i64, 0usize), |(s, n), t| (s + debit(t), n + 1));
            (format!("at {name}"), sum, n)
        }
    };
    let range = if p.from == p.to { format::date(p.from) } else { format!("{} to {}", format::date(p.from), format::date(p.to)) };
    out.text = if count == 0 {
        format!("You didn't spend anything {what} {} ({range}).", p.label)
    } else {
        let s = if count == 1 { "" } else { "s" };
        format!("You spent {} {what} {} ({range}), across {count} payment{s}.", out.m(total), p.label)
    };
}

/// (name, amount in pence, count), biggest first (ties by name).
fn ranked(groups: BTreeMap<String, (i64, usize)>) -> Vec<(String, i64, usize)> {
    let mut v: Vec<(String, i64, usize)> = groups.into_iter().map(|(k, (a, n))| (k, a, n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// Spending per category in a period, biggest first.
pub fn category_totals<'a>(txns: impl Iterator<Item = &'a Transaction>) -> Vec<(String, i64, usize)> {
    let mut groups: BTreeMap<String, (i64, usize)> = BTreeMap::new();
    for t in txns.filter(|t| debit(t) > 0) {
        let e = groups.entry(t.category.primary.to_string()).or_default();
        e.0 += debit(t);
        e.1 += 1;
    }
    ranked(groups)
}

/// Spending per merchant (named as in its latest transaction), biggest first.
pub fn merchant_totals<'a>(txns: impl Iterator<Item = &'a Transaction>) -> Vec<(String, i64, usize)> {
    let mut groups: BTreeMap<String, (i64, usize, String, Timestamp)> = BTreeMap::new();
    for t in txns.filter(|t| debit(t) > 0) {
        let name = t.merchant.as_ref().map(|m| m.name.clone()).unwrap_or_else(|| t.description.clone());
        let e = groups.entry(recurring::merchant_key(t)).or_insert((0, 0, name.clone(), t.timestamp));
        e.0 += debit(t);
        e.1 += 1;
        if t.timestamp >= e.3 {
            e.2 = name;
            e.3 = t.timestamp;
        }
    }
    let mut v: Vec<(String, i64, usize)> = groups.into_values().map(|(a, n, name, _)| (name, a, n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

fn listing(out: &mut Out, rows: &[(String, i64, usize)], total: i64, label: impl Fn(&str) -> String) -> String {
    rows.iter()
        .enumerate()
        .map(|(i, (name, amount, n))| {
            let share = percent(*amount, total).map(|p| format!(", {p}% of the total")).unwrap_or_default();
            let s = if *n == 1 { "" } else { "s" };
            format!("{}. {}: {} ({n} payment{s}{share})", i + 1, label(name), out.m(*amount))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn top_categories(q: &Question, data: &FinancialData, out: &mut Out) {
    let rows = category_totals(in_period(data, &q.period));
    if rows.is_empty() {
        out.text = format!("You have no spending {} yet.", q.period.label);
        return;
    }
    let total: i64 = rows.iter().map(|r| r.1).sum();
    let top: Vec<_> = rows.into_iter().take(5).collect();
    let list = listing(out, &top, total, category_phrase);
    out.text = format!("Your top spending categories {} (of {} in total): {list}.", q.period.label, out.m(total));
}

fn top_merchants(q: &Question, data: &FinancialData, out: &mut Out) {
    let rows = merchant_totals(in_period(data, &q.period));
    if rows.is_empty() {
        out.text = format!("You have no spending {} yet.", q.period.label);
        return;
    }
    let total: i64 = rows.iter().map(|r| r.1).sum();
    let top: Vec<_> = rows.into_iter().take(5).collect();
    let list = listing(out, &top, total, str::to_string);
    out.text = format!("Where your money went {} (of {} in total): {list}.", q.period.label, out.m(total));
}

fn compare(q: &Question, data: &FinancialData, out: &mut Out) {
    let today = q.today;
    let (this, last) = (ym(today), ym(month_start(today) - Months::new(1)));
    let day = today.day();
    let last_start = month_start(today) - Months::new(1);
    let (same_day, _) = last_month_to_same_day(data, today, |_| false);
    let (what, now_total, last_total, last_to_day) = match target(q, data) {
        Target::Merchant { key, name } => {
            let sum = |from: NaiveDate, to: NaiveDate| -> i64 {
                data.transactions
                    .iter()
                    .filter(|t| recurring::merchant_key(t) == key && (from..=to).contains(&t.timestamp.date()))
                    .map(debit)
                    .sum()
            };
            (format!(" at {name}"), sum(month_start(today), today), sum(last_start, month_end(last_start)), sum(last_start, same_day))
        }
        Target::Category { key, name } => {
            let to_day: i64 = data
                .transactions
                .iter()
                .filter(|t| t.category.primary.as_str() == key && (last_start..=same_day).contains(&t.timestamp.date()))
                .map(debit)
                .sum();
            (format!(" on {name}"), month_category_debit(data, this, &key), month_category_debit(data, last, &key), to_day)
        }
        Target::All | Target::Missing(_) => {
            let to_day: i64 = data.transactions.iter().filter(|t| (last_start..=same_day).contains(&t.timestamp.date())).map(debit).sum();
            (String::new(), month_debit(data, this), month_debit(data, last), to_day)
        }
    };
    let mut text = format!(
        "So far this month ({} days, to {}) you've spent {}{what}. In {} you spent {}{what} in total, and {} by {}.",
        day,
        format::date(today),
        out.m(now_total),
        month_name(last),
        out.m(last_total),
        out.m(last_to_day),
        format::date(same_day),
    );
    match change_percent(last_to_day, now_total) {
        Some(c) if c > 0 => text.push_str(&format!(" That's {c}% more than at the same point last month.")),
        Some(c) if c < 0 => text.push_str(&format!(" That's {}% less than at the same point last month.", -c)),
        Some(_) => text.push_str(" That's the same as at the same point last month."),
        None => {}
    }
    out.text = text;
}

/// Days in `today`'s month, and days of it elapsed (today included).
fn month_progress(today: NaiveDate) -> (i64, i64) {
    (month_end(today).day() as i64, today.day() as i64)
}

/// Spending at the current daily pace over the whole month, rounded to the penny.
pub fn projected(spent: i64, days_in_month: i64, elapsed: i64) -> i64 {
    let (n, d) = (spent as i128 * days_in_month as i128, elapsed as i128);
    ((2 * n + d) / (2 * d)) as i64
}

/// Spending from the first of last month to the same day of the month as
/// `today` (capped at last month's length), in pence.
fn last_month_to_same_day(data: &FinancialData, today: NaiveDate, keep: impl Fn(&Transaction) -> bool) -> (NaiveDate, i64) {
    let last_start = month_start(today) - Months::new(1);
    let same_day = (last_start + Duration::days(today.day() as i64 - 1)).min(month_end(last_start));
    let sum = data.transactions.iter().filter(|t| (last_start..=same_day).contains(&t.timestamp.date()) && keep(t)).map(debit).sum();
    (same_day, sum)
}

/// Where this month ends if its remaining days go like the same days of
/// last month did (rent and bills fall on the same days); at the plain daily
/// pace when last month has no data.
fn projection(q: &Question, data: &FinancialData, out: &mut Out) {
    let today = q.today;
    let (dim, elapsed) = month_progress(today);
    let spent = month_debit(data, ym(today));
    let last = ym(month_start(today) - Months::new(1));
    let last_total = month_debit(data, last);
    let mut text = format!("You've spent {} in the first {elapsed} days of {}.", out.m(spent), month_name(ym(today)));
    if last_total > 0 {
        let (_, to_day) = last_month_to_same_day(data, today, |_| true);
        let rest = last_total - to_day;
        text.push_str(&format!(
            " The rest of last month cost {}, so if the rest of this month goes the same way you'll have spent about {} by {}.",
            out.m(rest),
            out.m(spent + rest),
            format::date(month_end(today)),
        ));
        text.push_str(&format!(" At a steady daily pace it would be {}.", out.m(projected(spent, dim, elapsed))));
    } else {
        text.push_str(&format!(
            " At that daily pace you'll have spent about {} by {}.",
            out.m(projected(spent, dim, elapsed)),
            format::date(month_end(today))
        ));
    }
    out.text = text;
}

fn is_overall(b: &UserBudget) -> bool {
    ["all", "total", "overall", "monthly", "everything"].contains(&b.category.trim().to_lowercase().as_str())
}

fn budget(q: &Question, data: &FinancialData, out: &mut Out) {
    let today = q.today;
    let (dim, elapsed) = month_progress(today);
    let m = ym(today);
    let spent_all = month_debit(data, m);
    let monthly: Vec<&UserBudget> = data.budgets.iter().filter(|b| b.period.kind == PeriodType::Monthly).collect();
    if monthly.is_empty() {
        out.text = format!(
            "You haven't set a monthly budget, so I can't tell whether you're on track. So far this month you've spent {}.",
            out.m(spent_all)
        );
        return;
    }
    let wanted = target(q, data);
    let mut lines = Vec::new();
    let mut budgets: Vec<&UserBudget> = monthly;
    budgets.sort_by_key(|b| (!is_overall(b), b.name.clone()));
    for b in budgets {
        let spent = if is_overall(b) { spent_all } else { month_category_debit(data, m, &b.category) };
        if let Target::Category { key, .. } = &wanted {
            if !is_overall(b) && b.category != *key {
                continue;
            }
        }
        let limit = b.limit.minor();
        // Where spending would be on an even pace through the month.
        let pace = limit as i128 * elapsed as i128 / dim as i128;
        let used = percent(spent, limit).map(|p| format!(" ({p}% used)")).unwrap_or_default();
        let verdict = if spent > limit {
            format!("over budget by {}", out.m(spent - limit))
        } else if (spent as i128) > pace {
            format!("ahead of an even pace; {} left for the remaining {} days", out.m(limit - spent), dim - elapsed)
        } else {
            format!("on track; {} left for the remaining {} days", out.m(limit - spent), dim - elapsed)
        };
        let name = &b.name;
        lines.push(format!("{name}: {} of {}{used}, {verdict}", out.m(spent), out.m(limit)));
    }
    out.text = if lines.is_empty() {
        "None of your budgets covers that category.".to_string()
    } else {
        format!("This month so far ({elapsed} of {dim} days): {}.", lines.join("; "))
    };
}

fn cadence_word(c: Cadence) -> &'static str {
    match c {
        Cadence::Weekly => "weekly",
        Cadence::Monthly => "monthly",
        Cadence::Yearly => "yearly",
    }
}

/// What the active recurring payments cost a year, in pence.
pub fn yearly_cost(found: &[recurring::Recurring]) -> i64 {
    found.iter().filter(|r| r.status == RecurringStatus::Active).map(|r| r.amount.minor() * r.cadence.per_year()).sum()
}

fn subscriptions(q: &Question, data: &FinancialData, out: &mut Out) {
    let found = recurring::detect(&data.transactions, q.today);
    let active: Vec<_> = found.iter().filter(|r| r.status == RecurringStatus::Active).collect();
    if active.is_empty() {
        out.text = "I didn't find any regular payments (subscriptions, bills or direct debits) in your transactions.".into();
        return;
    }
    let year = yearly_cost(&found);
    let list = active
        .iter()
        .map(|r| {
            format!(
                "{} {} {} (next around {})",
                r.merchant,
                out.m(r.amount.minor()),
                cadence_word(r.cadence),
                format::date(r.next_expected)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let s = if active.len() == 1 { "" } else { "s" };
    let mut text = format!(
        "You have {} regular payment{s}, costing {} a year (about {} a month): {list}.",
        active.len(),
        out.m(year),
        out.m(projected(year, 1, 12)),
    );
    let stopped: Vec<_> = found.iter().filter(|r| r.status == RecurringStatus::Cancelled).map(|r| r.merchant.clone()).collect();
    if !stopped.is_empty() {
        text.push_str(&format!(" These seem to have stopped: {}.", stopped.join(", ")));
    }
    out.text = text;
}

/// Categories that are commitments rather than choices (not suggested for cuts).
const FIXED: &[&str] =
    &["housing", "rent", "mortgage", "income", "salary", "transfer", "transfers", "savings", "tax", "bills", "utilities"];

fn savings(q: &Question, data: &FinancialData, out: &mut Out) {
    let today = q.today;
    let last_start = month_start(today) - Months::new(1);
    let last = ym(last_start);
    // The three months before last month, for an average.
    let before: Vec<YearMonth> = (1..=3).map(|i| ym(last_start - Months::new(i))).collect();
    let Some(s) = summary(data, last) else {
        out.text = "I need a full month of your spending to suggest where to save, and last month has none yet.".into();
        return;
    };
    let mut rows: Vec<(String, i64, i64)> = s
        .by_category
        .iter()
        .filter(|(c, t)| t.debit.minor() > 0 && !FIXED.contains(&category_phrase(c).as_str()))
        .map(|(c, t)| {
            let avg = before.iter().map(|m| month_category_debit(data, *m, c)).sum::<i64>() / 3;
            (c.clone(), t.debit.minor(), avg)
        })
        .collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut parts = Vec::new();
    if let Some((c, amount, _)) = rows.first() {
        parts.push(format!(
            "Your biggest flexible spending in {} was {} at {}; spending 10% less there would save {} a month.",
            month_name(last),
            category_phrase(c),
            out.m(*amount),
            out.m(amount / 10)
        ));
    }
    let mut rising: Vec<&(String, i64, i64)> = rows.iter().filter(|r| r.2 > 0 && r.1 > r.2).collect();
    rising.sort_by(|a, b| (b.1 - b.2).cmp(&(a.1 - a.2)).then_with(|| a.0.cmp(&b.0)));
    if let Some((c, amount, avg)) = rising.first() {
        parts.push(format!(
            "{} rose to {} from a three-month average of {}: getting back to the average would save {}.",
            capitalise(&category_phrase(c)),
            out.m(*amount),
            out.m(*avg),
            out.m(amount - avg)
        ));
    }
    let found = recurring::detect(&data.transactions, today);
    let year = yearly_cost(&found);
    if year > 0 {
        let n = found.iter().filter(|r| r.status == RecurringStatus::Active).count();
        parts.push(format!("Your {n} regular payments cost {} a year: check you still use each of them.", out.m(year)));
    }
    out.text = if parts.is_empty() {
        format!("I don't see flexible spending in {} to suggest cutting.", month_name(last))
    } else {
        parts.join(" ")
    };
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::{self, today};

    fn data(q: &Question) -> FinancialData {
        let all = testdata::transactions();
        let summaries = testdata::summaries(&all);
        // Only what the question's window would load, as the handler does.
        let transactions = match q.window() {
            Some((from, to)) => all.into_iter().filter(|t| from <= t.timestamp && t.timestamp <= to).collect(),
            None => Vec::new(),
        };
        let budgets = vec![
            testdata::budget("b-all", "Monthly spending", "all", 150_000),
            testdata::budget("b-groceries", "Groceries", "groceries", 40_000),
        ];
        FinancialData { summaries, transactions, budgets }
    }

    fn ask(question: &str) -> Answer {
        let q = understand(question, today().date());
        answer(&q, &data(&q))
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Spending (pence, positive) of the fixed data set between two dates, filtered.
    fn spent(from: &str, to: &str, keep: impl Fn(&Transaction) -> bool) -> (i64, usize) {
        let (from, to) = (d(from), d(to));
        let picked: Vec<_> = testdata::transactions()
            .into_iter()
            .filter(|t| t.amount.minor() < 0 && (from..=to).contains(&t.timestamp.date()) && keep(t))
            .collect();
        (picked.iter().map(|t| -t.amount.minor()).sum(), picked.len())
    }

    fn m(minor: i64) -> String {
        money(Money::from_minor(minor))
    }

    fn says(a: &Answer, parts: &[String]) {
        for p in parts {
            assert!(a.text.contains(p.as_str()), "answer {:?} lacks {p:?}", a.text);
        }
    }

    #[test]
    fn spend_on_a_category_in_a_named_period() {
        let a = ask("How much did I spend on groceries last month?");
        assert_eq!(a.intent, "spend");
        let (sum, n) = spent("2026-11-01", "2026-11-30", |t| t.category.primary.as_str() == "groceries");
        assert_eq!(n, 4);
        says(&a, &[m(sum), format!("{n} payments"), "last month (1 Nov 2026 to 30 Nov 2026)".into()]);
        assert_eq!(a.figures, vec![Money::from_minor(sum)]);
    }

    #[test]
    fn spend_at_a_merchant_and_in_total() {
        let a = ask("How much did I spend at Tesco this month?");
        let (sum, n) = spent("2026-12-01", "2026-12-10", |t| t.merchant.as_ref().unwrap().name == "Tesco");
        says(&a, &[m(sum), format!("{n} payment"), "at Tesco".into()]);

        let a = ask("What did I spend last week?");
        // Monday 30 Nov to Sunday 6 Dec 2026.
        let (sum, n) = spent("2026-11-30", "2026-12-06", |_| true);
        says(&a, &[m(sum), format!("{n} payments"), "30 Nov 2026 to 6 Dec 2026".into()]);

        let a = ask("How much have I spent on food in October?");
        let (sum, _) = spent("2026-10-01", "2026-10-31", |t| t.category.primary.as_str() == "groceries");
        says(&a, &[m(sum), "October 2026".into()]);
    }

    #[test]
    fn top_categories_and_merchants() {
        let a = ask("What are my top spending categories this month?");
        assert_eq!(a.intent, "top_categories");
        let (total, _) = spent("2026-12-01", "2026-12-10", |_| true);
        let (housing, _) = spent("2026-12-01", "2026-12-10", |t| t.category.primary.as_str() == "housing");
        let (insurance, _) = spent("2026-12-01", "2026-12-10", |t| t.category.primary.as_str() == "insurance");
        says(&a, &[m(total), format!("1. housing: {}", m(housing)), format!("2. insurance: {}", m(insurance))]);

        let a = ask("Which merchants did I spend the most at last month?");
        assert_eq!(a.intent, "top_merchants");
        let (landlord, _) = spent("2026-11-01", "2026-11-30", |t| t.merchant.as_ref().unwrap().name == "Landlord");
        let (tesco, n) = spent("2026-11-01", "2026-11-30", |t| t.merchant.as_ref().unwrap().name == "Tesco");
        says(&a, &[format!("1. Landlord: {}", m(landlord)), format!("Tesco: {} ({n} payments", m(tesco))]);
    }

    #[test]
    fn this_month_against_last() {
        let a = ask("Am I spending more than last month?");
        assert_eq!(a.intent, "compare_months");
        let (now, _) = spent("2026-12-01", "2026-12-10", |_| true);
        let (nov, _) = spent("2026-11-01", "2026-11-30", |_| true);
        let (nov_to_10, _) = spent("2026-11-01", "2026-11-10", |_| true);
        let change = change_percent(nov_to_10, now).unwrap();
        let word = if change >= 0 { "more" } else { "less" };
        says(&a, &[m(now), m(nov), m(nov_to_10), format!("{}% {word}", change.abs())]);
    }

    #[test]
    fn budget_status() {
        let a = ask("Am I on track with my budget?");
        assert_eq!(a.intent, "budget_status");
        let (all, _) = spent("2026-12-01", "2026-12-10", |_| true);
        let (groceries, _) = spent("2026-12-01", "2026-12-10", |t| t.category.primary.as_str() == "groceries");
        // Overall: spent vs £1,500 on an even pace of 10/31 of it.
        let verdict = if all > 150_000 { format!("over budget by {}", m(all - 150_000)) } else { format!("{} left", m(150_000 - all)) };
        says(&a, &[format!("Monthly spending: {} of £1,500.00", m(all)), verdict]);
        assert!(groceries <= 40_000 * 10 / 31, "the fixed data keeps groceries on an even pace");
        says(&a, &[format!("Groceries: {} of £400.00", m(groceries)), format!("on track; {} left", m(40_000 - groceries))]);

        let q = understand("Am I on track with my budget?", today().date());
        let mut none = data(&q);
        none.budgets.clear();
        let a = answer(&q, &none);
        says(&a, &["haven't set a monthly budget".into(), m(all)]);
    }

    #[test]
    fn month_end_projection() {
        let a = ask("How much will I have spent by the end of the month?");
        assert_eq!(a.intent, "month_end_projection");
        let (dec, _) = spent("2026-12-01", "2026-12-10", |_| true);
        // The rest of the month as 11 to 30 November went.
        let (rest, _) = spent("2026-11-11", "2026-11-30", |_| true);
        // Pace over 10 days, scaled to December's 31, rounded half up to the penny.
        let pace = (dec * 31 * 2 + 10) / 20;
        says(&a, &[m(dec), m(rest), m(dec + rest), m(pace), "31 Dec 2026".into()]);
    }

    #[test]
    fn subscriptions_found_in_transactions() {
        let a = ask("Which subscriptions do I pay for?");
        assert_eq!(a.intent, "subscriptions");
        // Landlord £1,250 + Netflix £12.99 + Spotify £11.99 monthly; Aviva yearly at the
        // median of its two payments (£189.00 and £194.50 → £191.75). The gym stopped in July.
        let yearly = 125_000 * 12 + 1_299 * 12 + 1_199 * 12 + 19_175;
        says(
            &a,
            &[
                "4 regular payments".into(),
                m(yearly),
                "Netflix £12.99 monthly".into(),
                "Spotify £11.99 monthly (next around 12 Dec 2026)".into(),
                "Aviva Home £191.75 yearly".into(),
                "stopped: PureGym".into(),
            ],
        );
    }

    #[test]
    fn where_to_save() {
        let a = ask("Where could I save money?");
        assert_eq!(a.intent, "savings");
        let (groceries, _) = spent("2026-11-01", "2026-11-30", |t| t.category.primary.as_str() == "groceries");
        let avg = [("2026-08-01", "2026-08-31"), ("2026-09-01", "2026-09-30"), ("2026-10-01", "2026-10-31")]
            .iter()
            .map(|(f, t)| spent(f, t, |t| t.category.primary.as_str() == "groceries").0)
            .sum::<i64>()
            / 3;
        says(&a, &[format!("groceries at {}", m(groceries)), m(groceries / 10), m(avg), m(groceries - avg)]);
    }

    #[test]
    fn unknown_questions_are_answered_honestly() {
        for q in ["What's the weather in Paris?", "Tell me a joke", "Should I buy bitcoin?"] {
            let a = ask(q);
            assert_eq!(a.intent, "unknown", "{q}");
            assert!(a.text.starts_with("I can't answer that from your data"), "{q}");
            assert!(a.figures.is_empty());
        }
        let a = ask("How much did I spend on unicorns this month?");
        assert!(a.text.contains("couldn't find \"unicorns\""), "{}", a.text);
        assert!(a.figures.is_empty());
    }

    #[test]
    fn periods() {
        let t = d("2026-12-10");
        let p = |s: &str| period(&words(s), t);
        assert_eq!((p("today").from, p("today").to), (t, t));
        assert_eq!((p("last week").from, p("last week").to), (d("2026-11-30"), d("2026-12-06")));
        assert_eq!((p("this week").from, p("this week").to), (d("2026-12-07"), t));
        assert_eq!((p("in march").from, p("in march").to), (d("2026-03-01"), d("2026-03-31")));
        // A month after this one means last year's.
        assert_eq!(p("in december 2025").from, d("2025-12-01"));
        assert_eq!(p("last month").to, d("2026-11-30"));
        assert_eq!(p("anything").from, d("2026-12-01"));
        assert_eq!(projected(1000, 31, 10), 3100);
        assert_eq!(projected(1, 31, 2), 16);
    }
}
