//! TrueLayer Data API v1 over reqwest (rustls). Base URLs are configuration,
//! so tests point it at a local wiremock server serving TrueLayer's JSON.
//!
//! Rate limits (429), 5xx and timeouts are retried here a bounded number of
//! times with exponential backoff (honouring `Retry-After` up to a cap); what
//! is still failing is returned as [`ProviderError::Retryable`] for the sync to
//! record and reschedule.

use crate::provider::*;
use expenzez_domain::entities::{AccountType, Provider};
use expenzez_domain::money::{Currency, Money};
use expenzez_domain::Timestamp;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::time::Duration;

/// Settings of the TrueLayer client (read from the environment by the Lambdas).
#[derive(Clone)]
pub struct TrueLayerConfig {
    /// `https://auth.truelayer.com` (sandbox: `https://auth.truelayer-sandbox.com`).
    pub auth_base_url: String,
    /// `https://api.truelayer.com` (sandbox: `https://api.truelayer-sandbox.com`).
    pub api_base_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// Per request.
    pub timeout: Duration,
    /// Attempts per call for retryable failures (1 = no retry).
    pub max_attempts: u32,
    /// First backoff; doubled per attempt.
    pub retry_base: Duration,
    /// Longest single wait, whatever `Retry-After` says (a Lambda has a deadline).
    pub max_retry_wait: Duration,
    /// Permissions asked for in the auth link.
    pub scopes: String,
}

impl std::fmt::Debug for TrueLayerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrueLayerConfig")
            .field("auth_base_url", &self.auth_base_url)
            .field("api_base_url", &self.api_base_url)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl TrueLayerConfig {
    pub fn new(
        auth_base_url: impl Into<String>,
        api_base_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        Self {
            auth_base_url: auth_base_url.into().trim_end_matches('/').to_string(),
            api_base_url: api_base_url.into().trim_end_matches('/').to_string(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            timeout: Duration::from_secs(20),
            max_attempts: 3,
            retry_base: Duration::from_millis(500),
            max_retry_wait: Duration::from_secs(5),
            scopes: "info accounts balance transactions offline_access".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct TrueLayer {
    http: reqwest::Client,
    config: std::sync::Arc<TrueLayerConfig>,
}

// ---- TrueLayer's documented JSON ------------------------------------------

#[derive(Deserialize)]
struct Results<T> {
    results: Vec<T>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
    refresh_token: Option<String>,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    error: Option<String>,
}

#[derive(Deserialize)]
struct TlAccountNumber {
    iban: Option<String>,
    number: Option<String>,
    sort_code: Option<String>,
}

#[derive(Deserialize)]
struct TlProvider {
    display_name: Option<String>,
    logo_uri: Option<String>,
}

#[derive(Deserialize)]
struct TlAccount {
    account_id: String,
    account_type: Option<String>,
    display_name: Option<String>,
    currency: String,
    account_number: Option<TlAccountNumber>,
    provider: Option<TlProvider>,
}

#[derive(Deserialize)]
struct TlBalance {
    currency: String,
    available: Option<Box<RawValue>>,
    current: Box<RawValue>,
    overdraft: Option<Box<RawValue>>,
    update_timestamp: Option<String>,
}

#[derive(Deserialize)]
struct TlRunningBalance {
    amount: Box<RawValue>,
}

#[derive(Deserialize)]
struct TlTransaction {
    transaction_id: String,
    normalised_provider_transaction_id: Option<String>,
    provider_transaction_id: Option<String>,
    timestamp: String,
    description: Option<String>,
    amount: Box<RawValue>,
    currency: String,
    transaction_type: Option<String>,
    transaction_category: Option<String>,
    #[serde(default)]
    transaction_classification: Vec<String>,
    merchant_name: Option<String>,
    running_balance: Option<TlRunningBalance>,
}

#[derive(Deserialize)]
struct TlProviderInfo {
    provider_id: String,
    display_name: String,
    logo_url: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    country: Option<String>,
}

// ---- mapping ---------------------------------------------------------------

fn invalid(code: &str) -> ProviderError {
    ProviderError::Invalid { code: code.into() }
}

/// A JSON number, exactly (never through f64).
fn money(raw: &RawValue) -> ProviderResult<Money> {
    Money::parse(raw.get()).map_err(|_| invalid("bad_amount"))
}

fn currency(s: &str) -> ProviderResult<Currency> {
    Currency::new(s).map_err(|_| invalid("bad_currency"))
}

/// TrueLayer sends RFC 3339, sometimes without an offset (then UTC), or a date.
pub fn parse_time(s: &str) -> ProviderResult<Timestamp> {
    if let Ok(t) = Timestamp::parse(s) {
        return Ok(t);
    }
    if let Ok(n) = chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(Timestamp::from_datetime(n.and_utc()));
    }
    expenzez_domain::time::parse_date(s).map(Timestamp::start_of_day).ok_or_else(|| invalid("bad_timestamp"))
}

fn account_type(t: Option<&str>) -> AccountType {
    match t.unwrap_or_default().to_ascii_uppercase().as_str() {
        "SAVINGS" | "BUSINESS_SAVINGS" => AccountType::Savings,
        _ => AccountType::Checking,
    }
}

fn map_account(a: TlAccount) -> ProviderResult<ProviderAccount> {
    let n = a.account_number.unwrap_or(TlAccountNumber { iban: None, number: None, sort_code: None });
    let provider = a.provider.unwrap_or(TlProvider { display_name: None, logo_uri: None });
    Ok(ProviderAccount {
        display_name: a.display_name.unwrap_or_else(|| "Account".into()),
        account_type: account_type(a.account_type.as_deref()),
        currency: currency(&a.currency)?,
        number: AccountNumber { number: n.number, sort_code: n.sort_code, iban: n.iban },
        bank_name: provider.display_name.unwrap_or_else(|| "Bank".into()),
        logo: provider.logo_uri,
        account_id: a.account_id,
    })
}

fn map_transaction(t: TlTransaction) -> ProviderResult<ProviderTransaction> {
    let mut amount = money(&t.amount)?;
    let kind = t.transaction_type.unwrap_or_default().to_ascii_uppercase();
    // TrueLayer signs amounts (debits negative); a positive DEBIT is normalised.
    if kind == "DEBIT" && !amount.is_negative() {
        amount = -amount;
    }
    Ok(ProviderTransaction {
        transaction_id: t.transaction_id,
        normalised_provider_transaction_id: t.normalised_provider_transaction_id,
        provider_transaction_id: t.provider_transaction_id,
        timestamp: parse_time(&t.timestamp)?,
        description: t.description.unwrap_or_default(),
        amount,
        currency: currency(&t.currency)?,
        transaction_type: kind,
        transaction_category: t.transaction_category.unwrap_or_else(|| "UNKNOWN".into()),
        transaction_classification: t.transaction_classification,
        merchant_name: t.merchant_name,
        running_balance: t.running_balance.map(|r| money(&r.amount)).transpose()?,
    })
}

// ---- HTTP ------------------------------------------------------------------

/// Which endpoint answered, for sorting its errors.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Token,
    Data,
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

async fn classify(endpoint: Endpoint, resp: reqwest::Response) -> ProviderError {
    let status = resp.status();
    let after = retry_after(resp.headers());
    let body: ErrorBody = resp.json().await.unwrap_or_default();
    let code = body.error.unwrap_or_else(|| format!("http_{}", status.as_u16()));
    match status.as_u16() {
        429 => ProviderError::Retryable { code: "rate_limited".into(), retry_after: after },
        500..=599 => ProviderError::Retryable { code: format!("provider_{}", status.as_u16()), retry_after: after },
        // The token endpoint answers 400/401 `invalid_grant` for a refresh
        // token that is revoked or past the consent.
        400 | 401 if endpoint == Endpoint::Token && code == "invalid_grant" => ProviderError::ReconnectRequired { code },
        401 if endpoint == Endpoint::Data => ProviderError::Unauthorized,
        // Consent expired or revoked at the bank (`access_denied`, `sca_exceeded`, ...).
        403 if endpoint == Endpoint::Data => ProviderError::ReconnectRequired { code },
        _ => ProviderError::Invalid { code },
    }
}

fn transport(e: reqwest::Error) -> ProviderError {
    let code = if e.is_timeout() {
        "timeout"
    } else if e.is_decode() {
        "bad_response"
    } else {
        "network"
    };
    if e.is_decode() {
        return invalid(code);
    }
    ProviderError::Retryable { code: code.into(), retry_after: None }
}

impl TrueLayer {
    pub fn new(config: TrueLayerConfig) -> Result<Self, ProviderError> {
        let http = reqwest::Client::builder().timeout(config.timeout).use_rustls_tls().build().map_err(|_| invalid("client_build"))?;
        Ok(Self { http, config: std::sync::Arc::new(config) })
    }

    pub fn config(&self) -> &TrueLayerConfig {
        &self.config
    }

    /// Sends (rebuilt each attempt), retrying retryable failures with backoff.
    async fn send<T: DeserializeOwned>(&self, endpoint: Endpoint, build: impl Fn() -> reqwest::RequestBuilder) -> ProviderResult<T> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = match build().send().await {
                Ok(resp) if resp.status().is_success() => resp.json::<T>().await.map_err(transport),
                Ok(resp) => Err(classify(endpoint, resp).await),
                Err(e) => Err(transport(e)),
            };
            match result {
                Err(ProviderError::Retryable { code, retry_after }) if attempt < self.config.max_attempts => {
                    let backoff = self.config.retry_base.saturating_mul(1 << (attempt - 1).min(10));
                    let wait = retry_after.unwrap_or(backoff).max(backoff).min(self.config.max_retry_wait);
                    tracing::warn!(code = %code, attempt, wait_ms = wait.as_millis() as u64, "provider call will be retried");
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }

    async fn token(&self, form: &[(&str, &str)]) -> ProviderResult<Tokens> {
        let url = format!("{}/connect/token", self.config.auth_base_url);
        let t: TokenResponse = self.send(Endpoint::Token, || self.http.post(&url).form(form)).await?;
        Ok(Tokens { access_token: t.access_token, refresh_token: t.refresh_token, expires_in: Duration::from_secs(t.expires_in) })
    }

    async fn data<T: DeserializeOwned>(&self, token: &str, path: &str, query: &[(&str, String)]) -> ProviderResult<Vec<T>> {
        let url = format!("{}/data/v1{path}", self.config.api_base_url);
        let r: Results<T> = self.send(Endpoint::Data, || self.http.get(&url).bearer_auth(token).query(query)).await?;
        Ok(r.results)
    }
}

/// Path segment: account ids are opaque provider strings.
fn seg(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

impl BankProvider for TrueLayer {
    fn provider(&self) -> Provider {
        Provider::Truelayer
    }

    fn permissions(&self) -> Vec<String> {
        self.config.scopes.split_whitespace().map(String::from).collect()
    }

    fn auth_link(&self, state: &str, redirect_uri: &str, institution: Option<&str>) -> String {
        let mut q: Vec<(&str, &str)> = vec![
            ("response_type", "code"),
            ("client_id", self.config.client_id.as_str()),
            ("scope", self.config.scopes.as_str()),
            ("redirect_uri", redirect_uri),
            ("providers", "uk-ob-all uk-oauth-all"),
            ("state", state),
        ];
        // TrueLayer: `provider_id` skips the picker; it must be among `providers`
        // (it is: every UK open-banking provider is in `uk-ob-all`).
        if let Some(id) = institution {
            q.push(("provider_id", id));
        }
        let q: Vec<String> = q.iter().map(|(k, v)| format!("{k}={}", seg(v))).collect();
        format!("{}/?{}", self.config.auth_base_url, q.join("&"))
    }

    async fn exchange_code(&self, code: &str, redirect_uri: &str) -> ProviderResult<Tokens> {
        let c = &self.config;
        self.token(&[
            ("grant_type", "authorization_code"),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
            ("redirect_uri", redirect_uri),
            ("code", code),
        ])
        .await
    }

    async fn refresh(&self, refresh_token: &str) -> ProviderResult<Tokens> {
        let c = &self.config;
        self.token(&[
            ("grant_type", "refresh_token"),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    async fn accounts(&self, access_token: &str) -> ProviderResult<Vec<ProviderAccount>> {
        let raw: Vec<TlAccount> = self.data(access_token, "/accounts", &[]).await?;
        raw.into_iter().map(map_account).collect()
    }

    async fn balance(&self, access_token: &str, account_id: &str) -> ProviderResult<ProviderBalance> {
        let raw: Vec<TlBalance> = self.data(access_token, &format!("/accounts/{}/balance", seg(account_id)), &[]).await?;
        let b = raw.into_iter().next().ok_or_else(|| invalid("no_balance"))?;
        let current = money(&b.current)?;
        Ok(ProviderBalance {
            currency: currency(&b.currency)?,
            available: b.available.as_deref().map(money).transpose()?.unwrap_or(current),
            current,
            overdraft: b.overdraft.as_deref().map(money).transpose()?,
            updated_at: match b.update_timestamp.as_deref() {
                Some(t) => parse_time(t)?,
                None => Timestamp::from_datetime(chrono::Utc::now()),
            },
        })
    }

    async fn transactions(
        &self,
        access_token: &str,
        account_id: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> ProviderResult<Vec<ProviderTransaction>> {
        let path = format!("/accounts/{}/transactions", seg(account_id));
        let raw: Vec<TlTransaction> = self.data(access_token, &path, &[("from", from.to_string()), ("to", to.to_string())]).await?;
        raw.into_iter().map(map_transaction).collect()
    }

    async fn pending_transactions(&self, access_token: &str, account_id: &str) -> ProviderResult<Vec<ProviderTransaction>> {
        let path = format!("/accounts/{}/transactions/pending", seg(account_id));
        let raw: Vec<TlTransaction> = self.data(access_token, &path, &[]).await?;
        raw.into_iter().map(map_transaction).collect()
    }

    /// `GET {auth}/api/providers?client_id=...`: a JSON array of TrueLayer's
    /// providers (`provider_id`, `display_name`, `logo_url`, `scopes`, `country`).
    async fn institutions(&self) -> ProviderResult<Vec<Institution>> {
        let url = format!("{}/api/providers", self.config.auth_base_url);
        let query = [("client_id", self.config.client_id.as_str()), ("country", "uk")];
        let raw: Vec<TlProviderInfo> = self.send(Endpoint::Data, || self.http.get(&url).query(&query)).await?;
        Ok(raw
            .into_iter()
            .filter(|p| p.country.as_deref().is_none_or(|c| c.eq_ignore_ascii_case("uk") || c.eq_ignore_ascii_case("gb")))
            .map(|p| Institution {
                is_supported: ["accounts", "balance", "transactions"].iter().all(|s| p.scopes.iter().any(|x| x == s)),
                id: p.provider_id,
                name: p.display_name,
                logo: p.logo_url,
            })
            .collect())
    }

    /// `DELETE {auth}/api/delete` with the access token: TrueLayer deletes the
    /// credentials behind it, so the grant is gone on their side too.
    async fn revoke(&self, access_token: &str) -> ProviderResult<()> {
        let url = format!("{}/api/delete", self.config.auth_base_url);
        // One attempt: the caller does not wait on it (best effort at disconnect).
        let resp = self.http.delete(&url).bearer_auth(access_token).send().await.map_err(transport)?;
        if resp.status().is_success() {
            return Ok(());
        }
        Err(classify(Endpoint::Data, resp).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_transaction_shape_maps_exactly() {
        let json = r#"{"results":[{"timestamp":"2018-03-06T00:00:00","description":"GOOGLE PLAY STORE","transaction_type":"DEBIT",
            "transaction_category":"PURCHASE","transaction_classification":["Entertainment","Games"],"merchant_name":"Google play",
            "amount":-2.99,"currency":"GBP","transaction_id":"a15d8156569ba848d84c07c34d291bca","provider_transaction_id":"pt-1",
            "normalised_provider_transaction_id":"txn-1","running_balance":{"currency":"GBP","amount":1238.6},
            "meta":{"provider_category":"DEB"}}],"status":"Succeeded"}"#;
        let r: Results<TlTransaction> = serde_json::from_str(json).unwrap();
        let t = map_transaction(r.results.into_iter().next().unwrap()).unwrap();
        assert_eq!(t.amount, Money::from_minor(-299));
        assert_eq!(t.running_balance, Some(Money::from_minor(123_860)));
        assert_eq!(t.stable_id(), Some("txn-1"));
        assert_eq!(t.timestamp.to_string(), "2018-03-06T00:00:00.000Z");
    }

    #[test]
    fn offsets_are_normalised() {
        assert_eq!(parse_time("2025-08-20T11:00:00+01:00").unwrap().to_string(), "2025-08-20T10:00:00.000Z");
        assert_eq!(parse_time("2025-08-20").unwrap().to_string(), "2025-08-20T00:00:00.000Z");
    }
}
