//! The provider's data in our types, pure (no table, no provider): our ids
//! for its accounts and transactions, the stored [`BankAccount`] and
//! [`Transaction`] of what it returned (keeping what the user set on the
//! stored ones), and the app's category of a fetched transaction.

use crate::provider::{ProviderAccount, ProviderBalance, ProviderTransaction};
use expenzez_domain::category::AppCategory;
use expenzez_domain::entities::{
    AccountProvider, AccountStatus, Balance, BankAccount, BankConnection, Merchant, Transaction, TransactionCategory, TransactionSource,
    TransactionSummary, TransactionType,
};
use expenzez_domain::ids::{AccountId, TransactionId};
use expenzez_domain::keys::Category;
use expenzez_domain::merchant;
use expenzez_domain::money::Money;
use expenzez_domain::Timestamp;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// What the provider holds for one account.
pub(crate) struct Fetched {
    pub account: ProviderAccount,
    pub balance: ProviderBalance,
    pub settled: Vec<ProviderTransaction>,
    pub pending: Vec<ProviderTransaction>,
}

/// Our id for a provider account (ids are opaque; one that cannot be a key
/// segment is hashed).
pub fn account_id(provider_account_id: &str) -> AccountId {
    AccountId::new(provider_account_id).unwrap_or_else(|_| {
        let h = Sha256::digest(provider_account_id.as_bytes());
        AccountId::new(format!("h-{}", hex::encode(&h[..16]))).expect("hex is a valid id")
    })
}

/// The stored form of a fetched account, as a first sync writes it (masks
/// set; no user choices yet).
pub(crate) fn bank_account(conn: &BankConnection, f: &Fetched, now: Timestamp) -> BankAccount {
    let a = &f.account;
    let mut next = BankAccount {
        account_id: account_id(&a.account_id),
        connection_id: conn.connection_id.clone(),
        user_id: conn.user_id.clone(),
        account_name: a.display_name.clone(),
        account_type: a.account_type,
        currency: a.currency.clone(),
        account_number: a.number.number.clone(),
        sort_code: a.number.sort_code.clone(),
        iban: a.number.iban.clone(),
        account_number_masked: None,
        sort_code_masked: None,
        iban_masked: None,
        balance: Balance {
            available: f.balance.available,
            current: f.balance.current,
            overdraft: f.balance.overdraft,
            currency: f.balance.currency.clone(),
            last_updated: f.balance.updated_at,
        },
        status: AccountStatus::Active,
        is_visible: true,
        provider: AccountProvider { bank_name: a.bank_name.clone(), display_name: a.bank_name.clone(), logo: a.logo.clone() },
        created_at: now,
        updated_at: now,
        last_sync_at: now,
        transaction_summary: TransactionSummary {
            total_transactions: f.settled.len() as u64,
            last_transaction_date: f.settled.iter().map(|t| t.timestamp).max(),
            average_monthly_spending: Money::ZERO,
        },
    };
    next.set_masks();
    next
}

/// `next` over the stored `before`: the user's choices survive a sync;
/// `None` when nothing but the sync times would change (not rewritten).
pub(crate) fn account_update(mut next: BankAccount, before: &BankAccount) -> Option<BankAccount> {
    next.is_visible = before.is_visible;
    next.created_at = before.created_at;
    // The fetch covers only the re-fetched window: keep the account's
    // figures from the first sync, moving the last date forward only.
    next.transaction_summary.total_transactions = before.transaction_summary.total_transactions;
    next.transaction_summary.last_transaction_date =
        next.transaction_summary.last_transaction_date.max(before.transaction_summary.last_transaction_date);
    let mut same = next.clone();
    same.updated_at = before.updated_at;
    same.last_sync_at = before.last_sync_at;
    (same != *before).then_some(next)
}

/// The stable key of each fetched transaction: the provider's stable id, else
/// a content hash numbered among identical ones (these are replaced, not
/// merged, with the re-fetched window: SPEC §3).
pub(crate) fn keyed(txns: &[ProviderTransaction], pending: bool) -> Vec<(String, &ProviderTransaction)> {
    let mut seen: HashMap<String, u32> = HashMap::new();
    txns.iter()
        .map(|t| {
            let key = match t.stable_id() {
                Some(s) => format!("id:{s}"),
                None => {
                    let content = format!("{}|{}|{}|{}", t.timestamp, t.amount.minor(), t.currency, t.description);
                    let n = seen.entry(content.clone()).or_default();
                    *n += 1;
                    let h = Sha256::digest(format!("{content}|{n}").as_bytes());
                    format!("{}:{}", if pending { "pending" } else { "content" }, hex::encode(&h[..16]))
                }
            };
            (key, t)
        })
        .collect()
}

/// The app's category of a fetched transaction (APP-CONTRACT "Categories"):
/// TrueLayer's classification mapped into the one taxonomy; where it says
/// nothing ("Uncategorized", a bare `PURCHASE`), the keyword rules on the
/// merchant and description; else `Other`.
pub fn provider_category(t: &ProviderTransaction) -> Category {
    let said = AppCategory::from_truelayer(&t.transaction_classification, &t.transaction_category);
    let known = said.filter(|c| *c != AppCategory::Other).or_else(|| {
        let text = format!("{} {}", t.merchant_name.as_deref().unwrap_or_default(), t.description);
        merchant::keyword_category(&text)
    });
    known.or(said).unwrap_or(AppCategory::Other).category()
}

/// The provider's own word for the category, as it sent it (kept beside the
/// mapped one): the classification's class, else `transaction_category`.
pub(crate) fn provider_word(t: &ProviderTransaction) -> String {
    let word = t.transaction_classification.first().unwrap_or(&t.transaction_category);
    word.trim().chars().take(64).collect()
}

pub(crate) fn transaction_type(t: &ProviderTransaction) -> TransactionType {
    match t.transaction_type.as_str() {
        "CREDIT" => TransactionType::Credit,
        "FEE" => TransactionType::Fee,
        "INTEREST" => TransactionType::Interest,
        "TRANSFER" => TransactionType::Transfer,
        _ if !t.amount.is_negative() => TransactionType::Credit,
        _ => TransactionType::Debit,
    }
}

/// The stored form of a fetched transaction; what the user set on the
/// stored one (category override, note, tags, hidden) is kept.
pub(crate) fn to_transaction(
    conn: &BankConnection,
    account: &ProviderAccount,
    id: TransactionId,
    stable: &str,
    t: &ProviderTransaction,
    pending: bool,
    before: Option<&Transaction>,
    now: Timestamp,
) -> Transaction {
    let cat = provider_category(t);
    let mut next = Transaction {
        category: TransactionCategory {
            secondary: t.transaction_classification.get(1).cloned(),
            provider_primary: Some(provider_word(t)),
            ..TransactionCategory::of(cat.clone())
        },
        merchant: t.merchant_name.clone().map(Merchant::named),
        transaction_type: transaction_type(t),
        transaction_code: Some(t.transaction_category.clone()),
        created_at: now,
        updated_at: now,
        running_balance: t.running_balance,
        is_pending: pending,
        bank_name: Some(account.bank_name.clone()),
        account_type: Some(format!("{:?}", account.account_type).to_ascii_lowercase()),
        source: Some(TransactionSource::Truelayer),
        provider_transaction_id: Some(stable.to_string()),
        ..Transaction::new(
            conn.user_id.clone(),
            account_id(&account.account_id),
            id,
            t.amount,
            t.currency.clone(),
            t.timestamp,
            t.description.clone(),
            cat.clone(),
        )
    };
    if let Some(b) = before {
        if b.category.user_modified {
            next.category.primary = b.category.primary.clone();
            next.category.secondary = b.category.secondary.clone();
            next.category.user_modified = true;
        }
        next.user_note = b.user_note.clone();
        next.tags = b.tags.clone();
        next.is_hidden = b.is_hidden;
        next.exclude_from_spend = b.exclude_from_spend;
        next.ai_insights = b.ai_insights.clone();
        next.created_at = b.created_at;
        next.updated_at = b.updated_at;
    }
    next
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::provider::AccountNumber;
    use expenzez_domain::entities::AccountType;
    use expenzez_domain::ids::UserId;
    use expenzez_domain::money::Currency;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    pub(crate) fn txn(stable: Option<&str>, when: &str, minor: i64, description: &str) -> ProviderTransaction {
        ProviderTransaction {
            transaction_id: format!("volatile-{description}-{minor}"),
            normalised_provider_transaction_id: stable.map(str::to_string),
            provider_transaction_id: None,
            timestamp: at(when),
            description: description.into(),
            amount: Money::from_minor(minor),
            currency: Currency::new("GBP").unwrap(),
            transaction_type: if minor < 0 { "DEBIT" } else { "CREDIT" }.into(),
            transaction_category: "PURCHASE".into(),
            transaction_classification: vec![],
            merchant_name: None,
            running_balance: None,
        }
    }

    pub(crate) fn account(id: &str) -> ProviderAccount {
        ProviderAccount {
            account_id: id.into(),
            account_type: AccountType::Checking,
            display_name: "Current".into(),
            currency: Currency::new("GBP").unwrap(),
            number: AccountNumber { number: Some("12345678".into()), sort_code: Some("112233".into()), iban: None },
            bank_name: "Demo Bank".into(),
            logo: None,
        }
    }

    fn fetched(settled: Vec<ProviderTransaction>) -> Fetched {
        let gbp = Currency::new("GBP").unwrap();
        Fetched {
            account: account("acc-1"),
            balance: ProviderBalance {
                currency: gbp,
                available: Money::from_minor(1_000),
                current: Money::from_minor(900),
                overdraft: None,
                updated_at: at("2025-08-10T10:00:00Z"),
            },
            settled,
            pending: vec![],
        }
    }

    fn conn() -> BankConnection {
        crate::memory::demo_connection(&UserId::new("11111111-2222-4333-8444-555555555555").unwrap(), at("2025-08-01T00:00:00Z"))
    }

    #[test]
    fn account_ids_are_the_providers_unless_they_cannot_be_a_key() {
        assert_eq!(account_id("acc-1").as_str(), "acc-1");
        let hashed = account_id("has#a separator");
        assert!(hashed.as_str().starts_with("h-"), "{}", hashed.as_str());
        assert_eq!(hashed, account_id("has#a separator"), "deterministic");
        assert_ne!(hashed, account_id("has#another"));
    }

    #[test]
    fn keys_are_the_stable_id_else_a_numbered_content_hash() {
        let same = txn(None, "2025-08-10T10:00:00Z", -500, "COFFEE");
        let list = vec![txn(Some("s-1"), "2025-08-10T09:00:00Z", -100, "TEA"), same.clone(), same];
        let keys: Vec<String> = keyed(&list, false).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys[0], "id:s-1");
        assert!(keys[1].starts_with("content:") && keys[2].starts_with("content:"));
        // Two identical transactions are two, not one.
        assert_ne!(keys[1], keys[2]);
        // The same list keys the same way on the next sync.
        assert_eq!(keys, keyed(&list, false).into_iter().map(|(k, _)| k).collect::<Vec<_>>());
        // Pending ones without a stable id are keyed apart from settled ones.
        assert!(keyed(&list[1..2], true)[0].0.starts_with("pending:"));
    }

    #[test]
    fn types_follow_the_provider_else_the_sign() {
        let mut t = txn(None, "2025-08-10T10:00:00Z", -500, "X");
        assert_eq!(transaction_type(&t), TransactionType::Debit);
        t.transaction_type = "FEE".into();
        assert_eq!(transaction_type(&t), TransactionType::Fee);
        t.transaction_type = "SOMETHING".into();
        t.amount = Money::from_minor(500);
        assert_eq!(transaction_type(&t), TransactionType::Credit);
    }

    #[test]
    fn categories_come_from_the_classification_else_keywords_else_other() {
        let mut t = txn(None, "2025-08-10T10:00:00Z", -500, "SOMETHING");
        assert_eq!(provider_category(&t), AppCategory::Other.category());
        t.transaction_classification = vec!["Food & Dining".into()];
        assert_eq!(provider_category(&t), AppCategory::FoodAndDining.category());
        assert_eq!(provider_word(&t), "Food & Dining");
        t.transaction_classification = vec!["Uncategorized".into()];
        t.description = "TESCO STORES 1234".into();
        assert_eq!(provider_category(&t), merchant::keyword_category("TESCO STORES 1234").unwrap().category());
    }

    #[test]
    fn a_resynced_transaction_keeps_what_the_user_set() {
        let c = conn();
        let t = txn(Some("s-1"), "2025-08-10T10:00:00Z", -500, "COFFEE");
        let id = TransactionId::deterministic("truelayer", &account_id("acc-1"), "id:s-1");
        let first = to_transaction(&c, &account("acc-1"), id.clone(), "id:s-1", &t, false, None, at("2025-08-10T11:00:00Z"));
        assert_eq!(first.amount, Money::from_minor(-500));
        assert_eq!(first.account_id.as_str(), "acc-1");
        assert_eq!(first.provider_transaction_id.as_deref(), Some("id:s-1"));
        let mut mine = first.clone();
        mine.user_note = Some("with Sam".into());
        mine.is_hidden = true;
        mine.category.primary = AppCategory::Travel.category();
        mine.category.user_modified = true;
        let again = to_transaction(&c, &account("acc-1"), id, "id:s-1", &t, false, Some(&mine), at("2025-08-11T11:00:00Z"));
        assert_eq!(again, mine, "nothing the provider says changed: the stored one stands");
    }

    #[test]
    fn an_account_is_rewritten_only_when_it_changed() {
        let c = conn();
        let f = fetched(vec![txn(Some("s-1"), "2025-08-10T10:00:00Z", -500, "COFFEE")]);
        let first = bank_account(&c, &f, at("2025-08-10T11:00:00Z"));
        assert_eq!(first.account_number_masked.as_deref().map(|m| m.ends_with("5678")), Some(true));
        assert_eq!(first.transaction_summary.total_transactions, 1);
        // The next sync: same figures, later times: nothing to write.
        assert_eq!(account_update(bank_account(&c, &f, at("2025-08-11T11:00:00Z")), &first), None);
        // The user hid it, then the balance moved: written, still hidden.
        let mut hidden = first.clone();
        hidden.is_visible = false;
        let mut moved = fetched(vec![]);
        moved.balance.current = Money::from_minor(100);
        let next = account_update(bank_account(&c, &moved, at("2025-08-12T11:00:00Z")), &hidden).expect("changed");
        assert!(!next.is_visible);
        assert_eq!(next.created_at, first.created_at);
        assert_eq!(next.transaction_summary.total_transactions, 1, "the first sync's count is kept");
        assert_eq!(next.balance.current, Money::from_minor(100));
    }
}
