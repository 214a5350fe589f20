//! Deterministic demo data for `make dev`: one user with a bank connection,
//! two accounts, a year of realistic transactions (and their monthly
//! summaries), budgets, chat and notifications. Same seed, same data.

use expenzez_domain::category::AppCategory;
use expenzez_domain::entities::*;
use expenzez_domain::ids::*;
use expenzez_domain::time::YearMonth;
use expenzez_domain::{Currency, Email, Money, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

pub const DEMO_USER_ID: &str = "00000000-0000-4000-8000-000000000001";
pub const DEMO_EMAIL: &str = "demo@expenzez.local";
/// The demo user's registered device, and its app-lock PIN (a demo secret, printed by `make dev`).
pub const DEMO_DEVICE_ID: &str = "demo-device-1";
pub const DEMO_PIN: &str = "73914";

/// Everything `make dev` loads.
#[derive(Debug, Clone)]
pub struct DemoData {
    pub profile: UserProfile,
    pub claim: EmailClaim,
    pub connection: BankConnection,
    pub accounts: Vec<BankAccount>,
    pub transactions: Vec<Transaction>,
    pub summaries: Vec<MonthlySummary>,
    pub budgets: Vec<UserBudget>,
    pub chat: Vec<ChatMessage>,
    pub notifications: Vec<NotificationHistory>,
    pub preferences: NotificationPreferences,
    /// A registered phone, so a notification becomes a push (to the local fake in `make dev`).
    pub device: NotificationToken,
    /// The device the demo user signed in on; its PIN ([`DEMO_PIN`]) is hashed in [`DemoData::load`].
    pub app_device: Device,
    pub security: SecurityPreferences,
    /// A bill the app detected on the phone (from an import the bank does not see).
    pub saved_bills: Vec<SavedBill>,
    /// The demo user's choices on the bills found in their transactions.
    pub bill_preferences: Vec<BillPreference>,
}

struct Pattern {
    category: AppCategory,
    merchants: &'static [&'static str],
    /// Typical amount in pence, and how many per month.
    typical: i64,
    per_month: u32,
}

const SPENDING: &[Pattern] = &[
    Pattern { category: AppCategory::Groceries, merchants: &["Tesco", "Sainsbury's", "Aldi", "Waitrose"], typical: 4_200, per_month: 9 },
    Pattern {
        category: AppCategory::FoodAndDining,
        merchants: &["Pret A Manger", "Nando's", "Dishoom", "Greggs"],
        typical: 1_450,
        per_month: 7,
    },
    Pattern { category: AppCategory::Transportation, merchants: &["TfL", "Trainline", "Uber", "Shell"], typical: 920, per_month: 12 },
    Pattern { category: AppCategory::Shopping, merchants: &["Amazon", "John Lewis", "Boots", "Argos"], typical: 2_800, per_month: 4 },
    Pattern {
        category: AppCategory::Entertainment,
        merchants: &["Odeon", "Steam", "Vue Cinemas", "Ticketmaster"],
        typical: 1_100,
        per_month: 3,
    },
    Pattern {
        category: AppCategory::BillsAndUtilities,
        merchants: &["Octopus Energy", "Thames Water", "BT"],
        typical: 6_500,
        per_month: 2,
    },
];

/// Demo data for the fixed demo user.
pub fn generate(seed: u64, until: Timestamp) -> DemoData {
    generate_for(DEMO_USER_ID, DEMO_EMAIL, seed, until).expect("the demo user's id and email are valid")
}

/// Demo data for the year ending at `until` (exclusive), from `seed`, owned by
/// `user_id` (e.g. the `sub` of a local Cognito user).
pub fn generate_for(user_id: &str, email: &str, seed: u64, until: Timestamp) -> anyhow::Result<DemoData> {
    let mut rng = StdRng::seed_from_u64(seed);
    let user = UserId::new(user_id)?;
    let gbp = Currency::gbp();
    let start = until.plus_seconds(-365 * 86_400);
    let email = Email::parse(email)?;
    let conn_id = ConnectionId::new("demo-conn-1").expect("valid id");

    let mut profile = UserProfile::new_account(user.clone(), email.clone(), "Demo User".into(), start);
    if let Some(privacy) = profile.preferences.privacy.as_mut() {
        privacy.biometric_enabled = true;
    }
    profile.platform = Some(Platform::Ios);
    profile.app_version = Some("1.0.0".into());
    profile.first_name = Some("Demo".into());
    profile.last_name = Some("User".into());
    profile.city = Some("London".into());
    profile.country = Some("GB".into());
    let claim = EmailClaim { email, user_id: user.clone(), claimed_at: start };

    let connection = BankConnection {
        connection_id: conn_id.clone(),
        user_id: user.clone(),
        bank_name: "Demo Bank".into(),
        bank_logo: None,
        bic: None,
        connection_type: ConnectionType::OpenBanking,
        provider: Provider::Truelayer,
        status: ConnectionStatus::Active,
        last_sync: Some(until),
        next_sync: Some(until.plus_seconds(15 * 60)),
        access_token: None,
        refresh_token: None,
        token_expiry: None,
        last_error: None,
        created_at: start,
        updated_at: until,
        consent: Consent {
            granted_at: until.plus_seconds(-30 * 86_400),
            expires_at: Some(until.plus_seconds(60 * 86_400)),
            permissions: vec!["accounts".into(), "transactions".into(), "balance".into()],
            institution_consent: None,
        },
        stats: ConnectionStats { total_accounts: 2, last_successful_sync: Some(until), sync_count: 1, error_count: 0 },
        consent_reminded: None,
    };

    let mk_account = |id: &str, name: &str, kind: AccountType, current: i64, masked: &str| BankAccount {
        account_id: AccountId::new(id).expect("valid id"),
        connection_id: conn_id.clone(),
        user_id: user.clone(),
        account_name: name.into(),
        account_type: kind,
        currency: gbp.clone(),
        // Demo accounts carry only masked numbers: nothing restricted in plaintext.
        account_number: None,
        sort_code: None,
        iban: None,
        account_number_masked: Some(masked.into()),
        sort_code_masked: Some("**-**-42".into()),
        iban_masked: None,
        balance: Balance {
            available: Money::from_minor(current),
            current: Money::from_minor(current),
            overdraft: None,
            currency: gbp.clone(),
            last_updated: until,
        },
        status: AccountStatus::Active,
        is_visible: true,
        provider: AccountProvider { bank_name: "Demo Bank".into(), display_name: "Demo Bank".into(), logo: None },
        created_at: start,
        updated_at: until,
        last_sync_at: until,
        transaction_summary: TransactionSummary {
            total_transactions: 0,
            last_transaction_date: None,
            average_monthly_spending: Money::ZERO,
        },
    };
    let accounts = vec![
        mk_account("demo-current", "Everyday Current Account", AccountType::Checking, 243_517, "****4321"),
        mk_account("demo-savings", "Rainy Day Saver", AccountType::Savings, 1_250_000, "****8765"),
    ];
    let current = &accounts[0];

    let mut transactions = Vec::new();
    let mut push = |rng: &mut StdRng, at: Timestamp, category: AppCategory, merchant: &str, minor: i64| {
        let n = transactions.len();
        let stable = format!("demo-{n:05}");
        let id = TransactionId::deterministic("truelayer", &current.account_id, &stable);
        transactions.push(Transaction {
            category: TransactionCategory {
                confidence: (rng.gen_range(70..100) as f64) / 100.0,
                provider_primary: Some(category.name().into()),
                ..TransactionCategory::of(category.category())
            },
            merchant: Some(Merchant::named(merchant)),
            bank_name: Some("Demo Bank".into()),
            account_type: Some("checking".into()),
            source: Some(TransactionSource::Truelayer),
            provider_transaction_id: Some(stable),
            ..Transaction::new(
                user.clone(),
                current.account_id.clone(),
                id,
                Money::from_minor(minor),
                gbp.clone(),
                at,
                merchant.to_uppercase(),
                category.category(),
            )
        });
    };

    let mut month_start = Timestamp::start_of_day(start.date());
    while month_start < until {
        let month_end = month_start.plus_seconds(30 * 86_400).min(until);
        let span = (month_end.epoch_seconds() - month_start.epoch_seconds()).max(1);
        // Salary and rent once a month.
        push(&mut rng, month_start.plus_seconds(9 * 3600), AppCategory::Income, "Acme Ltd Salary", 285_000);
        push(&mut rng, month_start.plus_seconds(86_400 + 10 * 3600), AppCategory::BillsAndUtilities, "Landlord Rent", -125_000);
        // Subscriptions on fixed days, so the assistant and the bills screen find them.
        for (day, category, merchant, minor) in [
            (4, AppCategory::Entertainment, "Netflix", -1_299),
            (11, AppCategory::Entertainment, "Spotify", -1_199),
            (14, AppCategory::HealthAndFitness, "PureGym", -2_499),
        ] {
            let at = month_start.plus_seconds(day * 86_400 + 8 * 3600);
            if at < until {
                push(&mut rng, at, category, merchant, minor);
            }
        }
        for p in SPENDING {
            for _ in 0..p.per_month {
                let at = month_start.plus_seconds(rng.gen_range(0..span));
                let merchant = p.merchants[rng.gen_range(0..p.merchants.len())];
                let amount = (p.typical as f64 * rng.gen_range(0.4..1.8)) as i64;
                push(&mut rng, at, p.category, merchant, -amount.max(99));
            }
        }
        month_start = month_end;
    }
    transactions.sort_by_key(|t| t.timestamp);

    let mut months: BTreeMap<YearMonth, Vec<&Transaction>> = BTreeMap::new();
    for t in &transactions {
        months.entry(t.timestamp.month()).or_default().push(t);
    }
    let summaries = months
        .into_iter()
        .map(|(m, ts)| MonthlySummary::recompute(user.clone(), m, until, ts).expect("demo totals are in range"))
        .collect();

    let budgets = demo_budgets(&user, &transactions, until);

    let chat = [
        ("user", "How much did I spend on groceries last month?"),
        ("assistant", "You spent £378.20 on groceries last month, 6% less than the month before."),
    ]
    .iter()
    .enumerate()
    .map(|(i, (role, content))| {
        let at = until.plus_seconds(-3600 + i as i64);
        let role = if *role == "user" { ChatRole::User } else { ChatRole::Assistant };
        ChatMessage::text(MessageId::new(format!("demo-msg-{i}")).expect("valid id"), user.clone(), role, (*content).into(), at)
    })
    .collect();

    let notifications = (0..3)
        .map(|i| {
            let at = until.plus_seconds(-(i + 1) * 86_400);
            NotificationHistory {
                notification_id: NotificationHistory::id_for(at, &format!("demo{i}")).expect("valid id"),
                user_id: user.clone(),
                title: ["Budget alert", "Large transaction", "Weekly summary"][i as usize].into(),
                body: ["You have used 80% of Groceries", "£250.00 at John Lewis", "You spent £312.40 this week"][i as usize].into(),
                kind: [NotificationType::Budget, NotificationType::Transaction, NotificationType::Insight][i as usize],
                priority: NotificationPriority::Normal,
                delivery_status: DeliveryStatus::Delivered,
                sent_at: at,
                delivered_at: Some(at),
                opened_at: None,
                target_devices: vec![],
                channels: vec![Channel::Push],
                data: None,
                delivery_attempts: vec![],
                user_actions: None,
                ttl: NotificationHistory::ttl_for(at),
                batch_id: None,
                template_id: None,
                version: "1".into(),
            }
        })
        .collect();

    let preferences = NotificationPreferences {
        user_id: user.clone(),
        global_enabled: true,
        quiet_hours: QuietHours { enabled: false, start_time: "22:00".into(), end_time: "08:00".into(), timezone: "Europe/London".into() },
        categories: NotificationCategories {
            transactions: TransactionNotifications {
                enabled: true,
                threshold: Some(Money::from_minor(10_000)),
                include_deposits: true,
                include_withdrawals: true,
                instant_notification: true,
            },
            budgets: BudgetNotifications { enabled: true, warning_threshold: 80, exceeded_alert: true, weekly_digest: true },
            security: SecurityNotifications { enabled: true, login_alerts: true, device_changes: true, suspicious_activity: true },
            insights: InsightNotifications { enabled: true, weekly_report: true, monthly_report: true, spending_tips: false },
            marketing: MarketingNotifications { enabled: false, product_updates: false, promotions: false, surveys: false },
        },
        channels: Channels { push: true, email: false, sms: false },
        custom_rules: None,
        updated_at: until,
        last_reviewed_at: None,
    };

    let device = NotificationToken {
        user_id: user.clone(),
        device_id: DeviceId::new("demo-phone").expect("valid id"),
        token: "ExponentPushToken[demo-phone-0000000000000001]".into(),
        platform: DevicePlatform::Ios,
        status: TokenStatus::Active,
        is_valid: true,
        device_info: Some(DeviceInfo {
            model: "Demo iPhone".into(),
            os_version: "18.1".into(),
            app_version: "1.0.0".into(),
            push_enabled: true,
        }),
        last_used: until,
        total_notifications_sent: 0,
        successful_deliveries: 0,
        failed_deliveries: 0,
        registered_at: until,
        updated_at: until,
        last_validated: until,
        validation_attempts: 0,
        invalidation_reason: None,
    };

    let app_device = Device {
        user_id: user.clone(),
        device_id: DeviceId::new(DEMO_DEVICE_ID)?,
        device_name: "Demo iPhone".into(),
        platform: DevicePlatform::Ios,
        app_version: "2.3.1".into(),
        fingerprint_hash: String::new(),
        is_trusted: true,
        location: Some("London, GB".into()),
        registered_at: start,
        last_seen: until,
        updated_at: until,
    };
    let security =
        SecurityPreferences { app_lock_enabled: true, biometric_enabled: true, ..SecurityPreferences::defaults(user.clone(), until) };

    // Council tax is paid from another account: the app found it in an import and saved it.
    let council_tax_paid = (until.date() - chrono::Duration::days(6)).max(start.date());
    let saved_bills = vec![SavedBill {
        user_id: user.clone(),
        bill_id: BillId::new("council-tax")?,
        merchant: "Council Tax".into(),
        category: AppCategory::BillsAndUtilities.name().into(),
        amount: Money::from_minor(15_800),
        frequency: BillFrequency::Monthly,
        last_date: council_tax_paid,
        next_expected_date: None,
        saved_at: until,
    }];
    let pref = |id: &str, name: Option<&str>| -> anyhow::Result<BillPreference> {
        let mut p = BillPreference::new(user.clone(), BillId::new(id)?, until);
        p.custom_name = name.map(str::to_string);
        p.reminder_enabled = true;
        Ok(p)
    };
    let bill_preferences = vec![pref("landlord-rent", Some("Rent (Flat 2)"))?, pref("netflix", None)?];

    Ok(DemoData {
        profile,
        claim,
        connection,
        accounts,
        transactions,
        summaries,
        budgets,
        chat,
        notifications,
        preferences,
        device,
        app_device,
        security,
        saved_bills,
        bill_preferences,
    })
}

impl DemoData {
    /// Writes every item (idempotent: the same data overwrites itself).
    pub async fn load(&self, table: &expenzez_store::Table) -> Result<(), expenzez_store::StoreError> {
        use expenzez_store::Condition;
        table.put(&self.profile, Condition::None).await?;
        table.put(&self.claim, Condition::None).await?;
        table.put(&self.connection, Condition::None).await?;
        table.put(&self.preferences, Condition::None).await?;
        table.put(&self.device, Condition::None).await?;
        // The device's fingerprint digest and PIN hash need the table's secret and a fresh salt.
        let mut device = self.app_device.clone();
        device.fingerprint_hash = expenzez_security::handlers::fingerprint_hash(table.cursor_key(), &device.user_id, "demo-fingerprint");
        table.put(&device, Condition::None).await?;
        let pin = expenzez_security::pin::Pin::parse(DEMO_PIN).expect("a valid demo PIN");
        let hash = expenzez_security::pin::PinHasher::default().hash(&pin);
        table
            .put(
                &expenzez_security::handlers::new_pin(&device.user_id, &device.device_id, hash, self.app_device.last_seen),
                Condition::None,
            )
            .await?;
        table.put(&self.security, Condition::None).await?;
        table.batch_put(&self.accounts).await?;
        table.batch_put(&self.transactions).await?;
        table.batch_put(&self.summaries).await?;
        table.batch_put(&self.budgets).await?;
        table.batch_put(&self.chat).await?;
        table.batch_put(&self.saved_bills).await?;
        table.batch_put(&self.bill_preferences).await?;
        table.batch_put(&self.notifications).await
    }
}

/// The demo's budgets for the month of `until` (Europe/London), sized from
/// that month's own spending so the screens show progress: the main budget
/// about 60% used, eating out about 40%, groceries about 90% (past its 80%
/// warning, so the alert evaluator raises one alert for it).
pub fn demo_budgets(user: &UserId, transactions: &[Transaction], until: Timestamp) -> Vec<UserBudget> {
    use expenzez_budgets::model::{category_budget_id, main_budget_id, new_budget, record_spent, thresholds, NewBudget};
    use expenzez_budgets::spend::{PeriodSpending, ALL_CATEGORIES};
    let now = until.plus_seconds(-1);
    let period = expenzez_budgets::MonthPeriod::containing(now);
    let spending = PeriodSpending::recompute(&period.into(), transactions).expect("demo totals are in range");
    // Whole pounds, at least `min`.
    let sized = |spent: Money, percent: i64, min: i64| Money::from_minor((spent.minor() * 100 / percent / 100 * 100).max(min));
    let spent = |c: &str| spending.spent(c, &[]).expect("in range");
    let plan = [
        (main_budget_id(), "Monthly spending", ALL_CATEGORIES, sized(spent(ALL_CATEGORIES), 60, 150_000)),
        (category_budget_id("Groceries"), "Groceries", "Groceries", sized(spent("Groceries"), 90, 5_000)),
        (category_budget_id("Food & Dining"), "Food & Dining", "Food & Dining", sized(spent("Food & Dining"), 40, 5_000)),
    ];
    plan.into_iter()
        .map(|(id, name, category, limit)| {
            let mut b = new_budget(
                NewBudget {
                    user,
                    id,
                    name: name.into(),
                    category: category.into(),
                    limit,
                    currency: Currency::gbp(),
                    thresholds: thresholds(80),
                    kind: expenzez_domain::entities::PeriodType::Monthly,
                    rollover_unspent: false,
                },
                now,
            );
            let s = spending.spent_by(&b).expect("in range");
            record_spent(&mut b, s, now);
            b
        })
        .collect()
}

/// The end of the demo year: midnight UTC of `today`, so the data is the same
/// all day on every machine, and recent enough that chat and notifications
/// (TTL 30 and 90 days) are not already expired.
pub fn demo_until(today: Timestamp) -> Timestamp {
    Timestamp::start_of_day(today.date())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_consistent() {
        let today = Timestamp::parse("2026-11-24T15:04:05Z").unwrap();
        let a = generate(42, demo_until(today));
        let b = generate(42, demo_until(today.plus_seconds(3600)));
        assert_eq!(a.transactions, b.transactions);
        assert!(a.transactions.len() > 400, "a year of activity");
        let ids: std::collections::HashSet<_> = a.transactions.iter().map(|t| &t.transaction_id).collect();
        assert_eq!(ids.len(), a.transactions.len(), "unique ids");
        // Each summary equals the sum recomputed from its month's transactions.
        let mut total_debit = 0i64;
        for s in &a.summaries {
            let month: Vec<_> = a.transactions.iter().filter(|t| t.timestamp.month() == s.month).collect();
            let debit: i64 = month.iter().filter(|t| t.amount.is_negative()).map(|t| -t.amount.minor()).sum();
            assert_eq!(s.totals.debit.minor(), debit);
            total_debit += debit;
        }
        assert!(total_debit > 0);
        assert!(a.transactions.iter().all(|t| t.timestamp < demo_until(today)));
    }
}
