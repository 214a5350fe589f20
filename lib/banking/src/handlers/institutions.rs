//! `GET /banking/institutions`: the provider's banks, cached for everyone.

use super::Banking;
use crate::provider::{BankProvider, Institution, ProviderError};
use expenzez_api::edge::Reply;
use expenzez_api::error::ApiError;
use expenzez_api::request::Ctx;
use expenzez_domain::entities::{ApiCache, Provider};
use expenzez_domain::keys::ItemKey;
use expenzez_store::Condition;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Cache endpoint of the institution list (one entry for all users).
pub const INSTITUTIONS_CACHE: &str = "institutions";

/// The cache entry's `queryHash`: one list per provider (UK).
pub fn institutions_cache_hash(provider: Provider) -> String {
    // v2: every logo a string (a v1 list may hold nulls).
    hex::encode(&Sha256::digest(format!("{provider:?}|uk|v2").as_bytes())[..16])
}

/// `GET /banking/institutions`: the provider's banks, cached for everyone
/// (APICache, 30 minutes) so the provider is asked at most once per TTL.
pub async fn institutions<P: BankProvider + 'static>(b: Banking<P>, ctx: Ctx) -> Result<Reply, ApiError> {
    ctx.user()?;
    let query_hash = institutions_cache_hash(b.provider.provider());
    let key = ItemKey::ApiCache { endpoint: INSTITUTIONS_CACHE.into(), owner: None, query_hash: query_hash.clone() };
    let now = b.table.now();
    #[derive(Serialize, Deserialize)]
    struct Body {
        institutions: Vec<Institution>,
    }
    if let Some(hit) = b.table.get::<ApiCache>(&key).await? {
        if hit.value.expires_at > now {
            if let Ok(body) = serde_json::from_value::<Body>(hit.value.response_data) {
                return Reply::ok(&body);
            }
        }
    }
    let started = std::time::Instant::now();
    let mut list = b.provider.institutions().await.map_err(|e| match e {
        ProviderError::Retryable { .. } => ApiError::Unavailable { retry_after: 5 },
        e => {
            tracing::error!(code = e.code(), "institution list refused");
            ApiError::Internal
        }
    })?;
    list.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then_with(|| a.id.cmp(&b.id)));
    let body = Body { institutions: list };
    let data = serde_json::to_value(&body).map_err(|_| ApiError::Internal)?;
    let signature = hex::encode(Sha256::digest(data.to_string().as_bytes()));
    let took = started.elapsed().as_millis() as u64;
    let entry = ApiCache::fresh(INSTITUTIONS_CACHE, None, query_hash, data, signature, now, took);
    // A cache that cannot be written is a slower next request, not an error.
    if let Err(e) = b.table.put(&entry, Condition::None).await {
        tracing::warn!(error = %e, "institution list not cached");
    }
    Reply::ok(&body)
}
