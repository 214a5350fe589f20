//! One filled-in sample of every entity (optional fields set, so a round
//! trip exercises all of them).

use expenzez_domain::entities::*;
use expenzez_domain::ids::*;
use expenzez_domain::keys::Category;
use expenzez_domain::time::YearMonth;
use expenzez_domain::{Currency, Email, Money, Timestamp};
use serde_json::json;
use std::collections::BTreeMap;

pub fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

pub fn user(s: &str) -> UserId {
    UserId::new(s).unwrap()
}

pub fn gbp() -> Currency {
    Currency::gbp()
}

/// Stores `u`'s profile, as PostConfirmation does: user writes check that
/// the account exists (TxAction::account_live).
pub async fn open_account(table: &expenzez_store::Table, u: &UserId) {
    table.put(&profile(u, &format!("{u}@example.com")), expenzez_store::Condition::None).await.unwrap();
}

pub fn profile(u: &UserId, email: &str) -> UserProfile {
    UserProfile {
        user_id: u.clone(),
        email: Email::parse(email).unwrap(),
        name: "Jane Doe".into(),
        created_at: ts("2025-08-20T10:00:00Z"),
        updated_at: ts("2025-08-20T15:30:00Z"),
        last_login_at: Some(ts("2025-08-21T07:00:00.250Z")),
        preferences: UserPreferences {
            theme: Theme::Dark,
            currency: gbp(),
            notifications: NotificationSwitches { transactions: true, budgets: true, security: true, marketing: false },
            privacy: Some(PrivacySettings { share_analytics: false, biometric_enabled: true, pin_enabled: false }),
            language: Some("en".into()),
            timezone: Some("Europe/London".into()),
        },
        status: UserStatus::Active,
        email_verified: true,
        phone_verified: Some(false),
        kyc: Some(Kyc {
            status: KycStatus::Approved,
            submitted_at: Some(ts("2025-08-20T11:00:00Z")),
            reviewed_at: None,
            documents: Some(vec!["passport".into()]),
        }),
        platform: Some(Platform::Ios),
        app_version: Some("2.3.1".into()),
        device_id: Some("device-1".into()),
        first_name: Some("Jane".into()),
        last_name: Some("Doe".into()),
        phone: Some("+447700900123".into()),
        address: Some("1 High Street".into()),
        city: Some("London".into()),
        postcode: Some("SW1A 1AA".into()),
        country: Some("GB".into()),
        birthdate: Some("1990-01-31".into()),
        occupation: Some("Engineer".into()),
        company: Some("Acme".into()),
        gender: None,
    }
}

pub fn email_claim(u: &UserId, email: &str) -> EmailClaim {
    EmailClaim { email: Email::parse(email).unwrap(), user_id: u.clone(), claimed_at: ts("2025-08-20T10:00:00Z") }
}

pub fn connection(u: &UserId, id: &str) -> BankConnection {
    BankConnection {
        connection_id: ConnectionId::new(id).unwrap(),
        user_id: u.clone(),
        bank_name: "Barclays".into(),
        bank_logo: Some("https://logos.example/barclays.svg".into()),
        bic: Some("BARCGB22".into()),
        connection_type: ConnectionType::OpenBanking,
        provider: Provider::Truelayer,
        status: ConnectionStatus::Active,
        last_sync: Some(ts("2025-08-20T10:00:00Z")),
        next_sync: Some(ts("2025-08-20T10:15:00Z")),
        access_token: Some("opaque-a".into()),
        refresh_token: Some("opaque-r".into()),
        token_expiry: Some(ts("2025-08-20T11:00:00Z")),
        last_error: Some(SyncError {
            code: "provider_timeout".into(),
            message: "timed out".into(),
            timestamp: ts("2025-08-19T10:00:00Z"),
            retry_count: 2,
        }),
        created_at: ts("2025-08-01T10:00:00Z"),
        updated_at: ts("2025-08-20T10:00:00Z"),
        consent: Consent {
            granted_at: ts("2025-08-01T10:00:00Z"),
            expires_at: Some(ts("2025-10-30T10:00:00Z")),
            permissions: vec!["accounts".into(), "transactions".into(), "balance".into()],
            institution_consent: Some("c-1".into()),
        },
        stats: ConnectionStats {
            total_accounts: 2,
            last_successful_sync: Some(ts("2025-08-20T10:00:00Z")),
            sync_count: 40,
            error_count: 1,
        },
        consent_reminded: None,
    }
}

pub fn account(u: &UserId, id: &str) -> BankAccount {
    BankAccount {
        account_id: AccountId::new(id).unwrap(),
        connection_id: ConnectionId::new("conn-1").unwrap(),
        user_id: u.clone(),
        account_name: "Main Current Account".into(),
        account_type: AccountType::Checking,
        currency: gbp(),
        account_number: Some("12345678".into()),
        sort_code: Some("20-00-00".into()),
        iban: Some("GB33BUKB20201555555555".into()),
        account_number_masked: Some("****5678".into()),
        sort_code_masked: Some("**-**-00".into()),
        iban_masked: Some("GB33****5555".into()),
        balance: Balance {
            available: Money::from_minor(123_456),
            current: Money::from_minor(120_000),
            overdraft: Some(Money::from_minor(50_000)),
            currency: gbp(),
            last_updated: ts("2025-08-20T10:00:00Z"),
        },
        status: AccountStatus::Active,
        is_visible: true,
        provider: AccountProvider { bank_name: "Barclays".into(), display_name: "Barclays".into(), logo: None },
        created_at: ts("2025-08-01T10:00:00Z"),
        updated_at: ts("2025-08-20T10:00:00Z"),
        last_sync_at: ts("2025-08-20T10:00:00Z"),
        transaction_summary: TransactionSummary {
            total_transactions: 321,
            last_transaction_date: Some(ts("2025-08-19T09:00:00Z")),
            average_monthly_spending: Money::from_minor(154_321),
        },
    }
}

pub fn transaction(u: &UserId, id: &str, at: &str, category: &str, minor: i64) -> Transaction {
    Transaction {
        transaction_id: TransactionId::new(id).unwrap(),
        account_id: AccountId::new("acc-1").unwrap(),
        user_id: u.clone(),
        amount: Money::from_minor(minor),
        currency: gbp(),
        description: format!("{category} purchase"),
        reference: Some("REF123".into()),
        timestamp: ts(at),
        processing_date: Some(ts(at)),
        value_date: None,
        category: TransactionCategory {
            primary: Category::new(category).unwrap(),
            secondary: Some("sub".into()),
            confidence: 0.87,
            user_modified: false,
            provider_primary: Some(category.into()),
        },
        merchant: Some(Merchant {
            name: "Tesco Express".into(),
            category: Some("5411".into()),
            logo: None,
            location: Some(MerchantLocation {
                city: "London".into(),
                country: "GB".into(),
                coordinates: Some(Coordinates { lat: 51.5072, lng: -0.1276 }),
            }),
        }),
        transaction_type: if minor < 0 { TransactionType::Debit } else { TransactionType::Credit },
        transaction_code: Some("POS".into()),
        created_at: ts(at),
        updated_at: ts(at),
        user_note: Some("lunch".into()),
        tags: Some(vec!["work".into()]),
        is_hidden: false,
        ai_insights: Some(AiInsights {
            is_recurring: true,
            frequency: Some(Frequency::Monthly),
            next_expected: Some(ts("2025-09-20T10:00:00Z")),
            budget_impact: Money::from_minor(-1299),
            anomaly_score: Some(0.1),
        }),
        running_balance: Some(Money::from_minor(100_001)),
        is_pending: false,
        exclude_from_spend: false,
        bank_name: Some("Barclays".into()),
        account_type: Some("checking".into()),
        source: Some(TransactionSource::Truelayer),
        provider_transaction_id: Some(format!("p-{id}")),
    }
}

pub fn summary(u: &UserId) -> MonthlySummary {
    let mut s = MonthlySummary::empty(u.clone(), YearMonth { year: 2025, month: 8 }, ts("2025-08-20T10:00:00Z"));
    s.add(&transaction(u, "t1", "2025-08-02T10:00:00Z", "groceries", -1234)).unwrap();
    s.add(&transaction(u, "t2", "2025-08-03T10:00:00Z", "salary", 250_000)).unwrap();
    s
}

pub fn chat(u: &UserId, id: &str, at: &str, ttl: i64) -> ChatMessage {
    ChatMessage {
        message_id: MessageId::new(id).unwrap(),
        conversation_id: Some("conv-1".into()),
        user_id: u.clone(),
        role: ChatRole::Assistant,
        content: "You spent £12.34 on groceries.".into(),
        content_type: ContentType::Structured,
        structured_data: Some(StructuredData {
            kind: StructuredKind::Chart,
            data: json!({"series": [1, 2, 3], "label": "x"}),
            visualization: Some("bar".into()),
        }),
        timestamp: ts(at),
        ttl,
        context: Some(ChatContext {
            user_question: "How much on groceries?".into(),
            financial_context: FinancialContext {
                total_balance: Money::from_minor(100_000),
                monthly_spending: Money::from_minor(50_000),
                top_categories: vec!["groceries".into()],
                recent_transactions: 12,
                budget_status: "on_track".into(),
            },
            intent: "spending_query".into(),
            confidence: 0.9,
        }),
        processing_metadata: Some(ProcessingMetadata {
            model: "rules-v1".into(),
            processing_time: 12,
            tokens: TokenCounts { input: 10, output: 20 },
            temperature: 0.2,
        }),
        feedback: Some(Feedback { helpful: true, rating: Some(5), comment: None, feedback_time: ts(at) }),
        status: MessageStatus::Delivered,
        error: None,
    }
}

pub fn ai_cache(u: &UserId) -> AiAnalysisCache {
    AiAnalysisCache {
        user_id: u.clone(),
        analysis_type: AnalysisType::SpendingPatterns,
        timeframe: Timeframe::Monthly,
        analysis_data: AnalysisData {
            summary: "Spending is steady.".into(),
            insights: vec![Insight {
                kind: "trend".into(),
                title: "Groceries up".into(),
                description: "Up 5%".into(),
                confidence: 0.7,
                actionable: true,
                category: Some("groceries".into()),
            }],
            metrics: BTreeMap::from([("transactionCount".into(), 42.0), ("savingsRate".into(), 0.15)]),
            trends: vec![Trend { metric: "spending".into(), trend: TrendDirection::Up, percentage: 5.5 }],
            recommendations: vec![Recommendation {
                title: "Cook at home".into(),
                description: "Save on takeaways".into(),
                priority: Priority::Medium,
                expected_saving: Some(Money::from_minor(4_000)),
            }],
        },
        generated_at: ts("2025-08-20T10:00:00Z"),
        expires_at: ts("2125-08-21T10:00:00Z"),
        ttl: ts("2125-08-21T10:00:00Z").epoch_seconds(),
        based_on_data: BasedOnData {
            transaction_count: 42,
            date_range: DateRange { from: ts("2025-07-20T10:00:00Z"), to: ts("2025-08-20T10:00:00Z") },
            accounts_included: vec!["acc-1".into()],
            summary_versions: BTreeMap::from([("2025-08".into(), 3)]),
        },
        generation_time: 35,
        data_points: 42,
        version: "1.0.0".into(),
        period: None,
        report: None,
    }
}

pub fn token(u: &UserId, device: &str) -> NotificationToken {
    NotificationToken {
        user_id: u.clone(),
        device_id: DeviceId::new(device).unwrap(),
        token: "ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]".into(),
        platform: DevicePlatform::Android,
        status: TokenStatus::Active,
        is_valid: true,
        device_info: Some(DeviceInfo {
            model: "Pixel 7".into(),
            os_version: "Android 14".into(),
            app_version: "2.3.1".into(),
            push_enabled: true,
        }),
        last_used: ts("2025-08-20T10:00:00Z"),
        total_notifications_sent: 10,
        successful_deliveries: 9,
        failed_deliveries: 1,
        registered_at: ts("2025-08-01T10:00:00Z"),
        updated_at: ts("2025-08-20T10:00:00Z"),
        last_validated: ts("2025-08-20T10:00:00Z"),
        validation_attempts: 1,
        invalidation_reason: None,
    }
}

pub fn notification_preferences(u: &UserId) -> NotificationPreferences {
    NotificationPreferences {
        user_id: u.clone(),
        global_enabled: true,
        quiet_hours: QuietHours { enabled: true, start_time: "22:00".into(), end_time: "08:00".into(), timezone: "Europe/London".into() },
        categories: NotificationCategories {
            transactions: TransactionNotifications {
                enabled: true,
                threshold: Some(Money::from_minor(10_000)),
                include_deposits: true,
                include_withdrawals: true,
                instant_notification: false,
            },
            budgets: BudgetNotifications { enabled: true, warning_threshold: 80, exceeded_alert: true, weekly_digest: false },
            security: SecurityNotifications { enabled: true, login_alerts: true, device_changes: true, suspicious_activity: true },
            insights: InsightNotifications { enabled: true, weekly_report: false, monthly_report: true, spending_tips: true },
            marketing: MarketingNotifications { enabled: false, product_updates: false, promotions: false, surveys: false },
        },
        channels: Channels { push: true, email: false, sms: false },
        custom_rules: Some(vec![CustomRule {
            id: "r1".into(),
            name: "Big spends".into(),
            condition: RuleCondition { kind: RuleConditionType::Amount, operator: RuleOperator::GreaterThan, value: json!(500) },
            action: RuleAction::Notify,
            priority: NotificationPriority::High,
        }]),
        updated_at: ts("2025-08-20T10:00:00Z"),
        last_reviewed_at: None,
    }
}

pub fn notification(u: &UserId, id: &str, at: &str, ttl: i64) -> NotificationHistory {
    NotificationHistory {
        notification_id: NotificationId::new(id).unwrap(),
        user_id: u.clone(),
        title: "Budget alert".into(),
        body: "You have used 80% of Groceries".into(),
        kind: NotificationType::Budget,
        priority: NotificationPriority::Normal,
        delivery_status: DeliveryStatus::Delivered,
        sent_at: ts(at),
        delivered_at: Some(ts(at)),
        opened_at: None,
        target_devices: vec!["device-1".into()],
        channels: vec![Channel::Push],
        data: Some(NotificationData {
            transaction_id: None,
            category: Some("groceries".into()),
            amount: Some(Money::from_minor(-4_000)),
            deep_link: Some("expenzez://budgets".into()),
            image_url: None,
        }),
        delivery_attempts: vec![DeliveryAttempt {
            timestamp: ts(at),
            channel: "push".into(),
            device_id: "device-1".into(),
            status: AttemptStatus::Success,
            error: None,
        }],
        user_actions: Some(vec![UserAction { action: UserActionKind::Opened, timestamp: ts(at), device_id: "device-1".into() }]),
        ttl,
        batch_id: None,
        template_id: Some("budget-80".into()),
        version: "1".into(),
    }
}

pub fn budget(u: &UserId, id: &str) -> UserBudget {
    UserBudget {
        budget_id: BudgetId::new(id).unwrap(),
        user_id: u.clone(),
        name: "Monthly Groceries".into(),
        category: "groceries".into(),
        subcategories: Some(vec!["supermarkets".into()]),
        limit: Money::from_minor(40_000),
        currency: gbp(),
        spent: Money::from_minor(32_050),
        remaining: Money::from_minor(7_950),
        percentage: 80.125,
        period: BudgetPeriod {
            kind: PeriodType::Monthly,
            start_date: ts("2025-08-01T00:00:00Z"),
            end_date: ts("2025-08-31T23:59:59.999Z"),
            is_recurring: true,
        },
        status: BudgetStatus::Active,
        is_visible: true,
        alerts: BudgetAlertSettings {
            enabled: true,
            thresholds: vec![50, 80, 100],
            last_alert_sent: Some(ts("2025-08-19T10:00:00Z")),
            alert_count: 2,
        },
        history: vec![BudgetHistoryEntry {
            period: "2025-07".into(),
            budgeted: Money::from_minor(40_000),
            spent: Money::from_minor(41_000),
            variance: Money::from_minor(-1_000),
            achievement: 97.5,
        }],
        ai_recommendations: Some(AiBudgetRecommendation {
            suggested_amount: Money::from_minor(42_000),
            confidence: 0.6,
            reasoning: "Trend".into(),
            last_updated: ts("2025-08-01T00:00:00Z"),
        }),
        created_at: ts("2025-01-01T00:00:00Z"),
        updated_at: ts("2025-08-20T10:00:00Z"),
        last_calculated: ts("2025-08-20T10:00:00Z"),
        performance: BudgetPerformance {
            average_monthly_spending: Money::from_minor(39_000),
            trend: BudgetTrend::Stable,
            achievement_rate: 0.8,
            best_month: Some("2025-03".into()),
            worst_month: None,
        },
        rollover_unspent: true,
        carried_over: Money::from_minor(1_250),
    }
}

pub fn alert(u: &UserId, id: &str) -> BudgetAlert {
    BudgetAlert {
        alert_id: AlertId::new(id).unwrap(),
        budget_id: BudgetId::new("b-1").unwrap(),
        user_id: u.clone(),
        alert_type: AlertType::Threshold,
        threshold: 80,
        is_active: true,
        last_triggered: Some(ts("2025-08-19T10:00:00Z")),
        trigger_count: 1,
        acknowledged_at: None,
        delivery_methods: vec![DeliveryMethod::Push],
        priority: Priority::High,
        conditions: Some(AlertConditions {
            time_of_day: Some("09:00".into()),
            days_of_week: Some(vec![1, 2, 3]),
            minimum_amount: Some(Money::from_minor(1_000)),
            consecutive_days: None,
        }),
        template: AlertTemplate { title: "Budget".into(), message: "80% used".into(), action_text: Some("View".into()), deep_link: None },
        transaction_id: None,
        created_at: ts("2025-08-01T10:00:00Z"),
        updated_at: ts("2025-08-19T10:00:00Z"),
        ttl: None,
    }
}

pub fn api_cache(u: Option<&UserId>) -> ApiCache {
    ApiCache {
        endpoint: "institutions".into(),
        user_id: u.cloned(),
        query_hash: "abc123".into(),
        response_data: json!({"institutions": [{"id": "ob-barclays", "name": "Barclays", "isSupported": true}]}),
        status_code: 200,
        headers: Some(BTreeMap::from([("content-type".into(), "application/json".into())])),
        cached_at: ts("2025-08-20T10:00:00Z"),
        expires_at: ts("2125-08-20T10:30:00Z"),
        ttl: ts("2125-08-20T10:30:00Z").epoch_seconds(),
        version: "v1".into(),
        hit_count: 3,
        last_accessed: ts("2025-08-20T10:05:00Z"),
        data_signature: "sig".into(),
        refresh_required_at: None,
        original_response_time: 250,
        cache_generation_time: 3,
        compression_ratio: Some(0.5),
    }
}

pub fn system_config(name: &str) -> SystemConfig {
    SystemConfig {
        setting_name: SettingName::new(name).unwrap(),
        category: ConfigCategory::FeatureFlags,
        value: json!({"enabled": true, "rollout": 25}),
        data_type: ConfigDataType::Object,
        description: "AI assistant flag".into(),
        default_value: json!({"enabled": false, "rollout": 0}),
        is_user_configurable: false,
        requires_restart: false,
        version: "3".into(),
        updated_at: ts("2025-08-20T10:00:00Z"),
        updated_by: "admin-1".into(),
        validation: Some(ConfigValidation {
            kind: "object".into(),
            rules: json!({"required": ["enabled"]}),
            error_message: "enabled is required".into(),
        }),
        environment: Environment::Production,
        is_active: true,
        previous_value: Some(json!({"enabled": false, "rollout": 0})),
        change_reason: Some("rollout".into()),
        ttl: None,
    }
}

pub fn sync_run(u: &UserId) -> SyncRun {
    let at = ts("2025-08-20T10:00:00Z");
    SyncRun {
        user_id: u.clone(),
        connection_id: ConnectionId::new("conn-1").unwrap(),
        started_at: at,
        finished_at: ts("2025-08-20T10:00:02.500Z"),
        outcome: SyncOutcome::Succeeded,
        accounts_synced: 2,
        transactions_written: 57,
        transactions_removed: 1,
        duration_ms: 2500,
        error_code: None,
        ttl: ts("2125-01-01T00:00:00Z").epoch_seconds(),
    }
}

pub fn idempotency(u: &UserId, key: &str) -> IdempotencyRecord {
    IdempotencyRecord {
        user_id: u.clone(),
        key: IdempotencyKey::new(key).unwrap(),
        request_hash: "h".into(),
        status_code: 201,
        response_body: "{\"transaction\":{}}".into(),
        created_at: ts("2025-08-20T10:00:00Z"),
        ttl: ts("2125-01-01T00:00:00Z").epoch_seconds(),
    }
}
