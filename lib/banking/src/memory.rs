//! An in-memory provider: the deterministic demo bank `make dev` connects to,
//! and a scriptable fake for property tests. Its data can be changed between
//! syncs (added, changed, recategorised, settled, removed transactions).

use crate::provider::*;
use expenzez_domain::entities::{AccountType, Provider};
use expenzez_domain::money::{Currency, Money};
use expenzez_domain::Timestamp;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// One account of the in-memory bank and everything it holds.
#[derive(Debug, Clone)]
pub struct MemoryAccount {
    pub account: ProviderAccount,
    pub balance: ProviderBalance,
    pub settled: Vec<ProviderTransaction>,
    pub pending: Vec<ProviderTransaction>,
}

#[derive(Debug, Default)]
pub struct MemoryProvider {
    accounts: Mutex<BTreeMap<String, MemoryAccount>>,
    refreshes: Mutex<u64>,
    revoked: Mutex<Vec<String>>,
}

impl MemoryProvider {
    pub fn new(accounts: Vec<MemoryAccount>) -> Self {
        Self {
            accounts: Mutex::new(accounts.into_iter().map(|a| (a.account.account_id.clone(), a)).collect()),
            refreshes: Mutex::default(),
            revoked: Mutex::default(),
        }
    }

    /// Changes the bank's data (between syncs).
    pub fn edit<T>(&self, f: impl FnOnce(&mut BTreeMap<String, MemoryAccount>) -> T) -> T {
        f(&mut self.accounts.lock().expect("not poisoned"))
    }

    /// The demo bank: two accounts and `days` of transactions up to `now`,
    /// the same for the same `seed` (no randomness: a fixed LCG).
    pub fn demo(seed: u64, now: Timestamp, days: u32) -> Self {
        let mut rng = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut next = move || {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            rng >> 33
        };
        const SPEND: [(&str, &str, &str); 6] = [
            ("TESCO STORES", "Tesco", "Groceries"),
            ("TFL TRAVEL", "TfL", "Transport"),
            ("PRET A MANGER", "Pret", "Eating out"),
            ("NETFLIX.COM", "Netflix", "Entertainment"),
            ("BOOTS", "Boots", "Shopping"),
            ("SHELL", "Shell", "Transport"),
        ];
        let gbp = Currency::gbp();
        let mut accounts = Vec::new();
        for (n, (name, kind)) in
            [("Current Account", AccountType::Checking), ("Savings Account", AccountType::Savings)].into_iter().enumerate()
        {
            let id = format!("demo-acc-{seed}-{n}");
            let mut settled = Vec::new();
            for day in 0..days {
                let at = now.plus_seconds(-(i64::from(days - day)) * 86_400 + 9 * 3600);
                let per_day = if kind == AccountType::Savings { u64::from(day % 30 == 0) } else { 1 + next() % 3 };
                for k in 0..per_day {
                    let (desc, merchant, cat, amount) = if kind == AccountType::Savings {
                        ("INTEREST", "Demo Bank", "Interest", Money::from_minor((100 + next() % 900) as i64))
                    } else if day % 30 == 1 && k == 0 {
                        ("SALARY ACME LTD", "Acme Ltd", "Income", Money::from_minor(250_000))
                    } else {
                        let (d, m, c) = SPEND[(next() % SPEND.len() as u64) as usize];
                        (d, m, c, Money::from_minor(-((150 + next() % 8_000) as i64)))
                    };
                    let stable = format!("demo-{seed}-{n}-{day}-{k}");
                    settled.push(ProviderTransaction {
                        transaction_id: format!("tl-{stable}"),
                        normalised_provider_transaction_id: Some(stable),
                        provider_transaction_id: None,
                        timestamp: at.plus_seconds(k as i64 * 3600),
                        description: desc.into(),
                        amount,
                        currency: gbp.clone(),
                        transaction_type: if amount.is_negative() { "DEBIT" } else { "CREDIT" }.into(),
                        transaction_category: "PURCHASE".into(),
                        transaction_classification: vec![cat.into()],
                        merchant_name: Some(merchant.into()),
                        running_balance: None,
                    });
                }
            }
            let total = settled.iter().map(|t| t.amount.minor()).sum::<i64>() + 100_000;
            accounts.push(MemoryAccount {
                account: ProviderAccount {
                    account_id: id,
                    account_type: kind,
                    display_name: name.into(),
                    currency: gbp.clone(),
                    number: AccountNumber {
                        number: Some(format!("{:08}", 10_000_000 + seed * 10 + n as u64)),
                        sort_code: Some("04-00-04".into()),
                        iban: Some(format!("GB33DEMO0400040{:07}", seed * 10 + n as u64)),
                    },
                    bank_name: "Demo Bank".into(),
                    logo: None,
                },
                balance: ProviderBalance {
                    currency: gbp.clone(),
                    available: Money::from_minor(total),
                    current: Money::from_minor(total),
                    overdraft: None,
                    updated_at: now,
                },
                settled,
                pending: Vec::new(),
            });
        }
        Self::new(accounts)
    }

    /// Access tokens revoked so far (disconnected grants).
    pub fn revoked(&self) -> Vec<String> {
        self.revoked.lock().expect("not poisoned").clone()
    }

    pub fn refresh_count(&self) -> u64 {
        *self.refreshes.lock().expect("not poisoned")
    }

    fn account(&self, id: &str) -> ProviderResult<MemoryAccount> {
        self.edit(|a| a.get(id).cloned()).ok_or(ProviderError::Invalid { code: "http_404".into() })
    }
}

fn tokens(n: u64) -> Tokens {
    Tokens {
        access_token: format!("memory-access-{n}"),
        refresh_token: Some(format!("memory-refresh-{n}")),
        expires_in: Duration::from_secs(3600),
    }
}

impl BankProvider for MemoryProvider {
    fn provider(&self) -> Provider {
        Provider::Truelayer
    }
    fn auth_link(&self, state: &str, redirect_uri: &str, institution: Option<&str>) -> String {
        let institution = institution.map(|i| format!("&provider_id={i}")).unwrap_or_default();
        format!("https://demo-bank.invalid/authorize?state={state}&redirect_uri={redirect_uri}{institution}")
    }
    async fn exchange_code(&self, _code: &str, _redirect_uri: &str) -> ProviderResult<Tokens> {
        Ok(tokens(0))
    }
    async fn refresh(&self, _refresh_token: &str) -> ProviderResult<Tokens> {
        let mut n = self.refreshes.lock().expect("not poisoned");
        *n += 1;
        Ok(tokens(*n))
    }
    async fn accounts(&self, _token: &str) -> ProviderResult<Vec<ProviderAccount>> {
        Ok(self.edit(|a| a.values().map(|a| a.account.clone()).collect()))
    }
    async fn balance(&self, _token: &str, account_id: &str) -> ProviderResult<ProviderBalance> {
        Ok(self.account(account_id)?.balance)
    }
    async fn transactions(
        &self,
        _token: &str,
        account_id: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> ProviderResult<Vec<ProviderTransaction>> {
        Ok(self.account(account_id)?.settled.into_iter().filter(|t| t.timestamp >= from && t.timestamp <= to).collect())
    }
    async fn pending_transactions(&self, _token: &str, account_id: &str) -> ProviderResult<Vec<ProviderTransaction>> {
        Ok(self.account(account_id)?.pending)
    }
    async fn institutions(&self) -> ProviderResult<Vec<Institution>> {
        Ok(vec![Institution {
            id: "demo-bank".into(),
            name: "Demo Bank".into(),
            logo: crate::provider::GENERIC_BANK_LOGO.into(),
            is_supported: true,
        }])
    }
    async fn revoke(&self, access_token: &str) -> ProviderResult<()> {
        self.revoked.lock().expect("not poisoned").push(access_token.to_string());
        Ok(())
    }
}

/// A connection to the demo bank for `user`, due now, tokens valid for an
/// hour, consent for 90 days (what `make dev` stores for its demo user).
pub fn demo_connection(user: &expenzez_domain::ids::UserId, now: Timestamp) -> expenzez_domain::entities::BankConnection {
    let id = expenzez_domain::ids::ConnectionId::new("demo-bank").expect("valid id");
    let mut c = crate::connect::authorised(user, id, &MemoryProvider::default(), tokens(0), Duration::from_secs(90 * 86_400), now);
    c.bank_name = "Demo Bank".into();
    c
}
