//! API Gateway's JWT authorizer, emulated: a request without a valid access
//! token of our user pool's app client is refused with 401 before any
//! handler runs, and the token's claims are passed on as strings.

use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use tokio::sync::RwLock;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("no bearer token")]
    Missing,
    #[error("the token is invalid")]
    Invalid,
    #[error("the issuer's keys could not be fetched")]
    Jwks,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kid: String,
    n: String,
    e: String,
}

pub struct Authorizer {
    issuer: String,
    client_id: String,
    jwks_url: String,
    http: reqwest::Client,
    keys: RwLock<HashMap<String, DecodingKey>>,
}

impl Authorizer {
    /// `issuer` is the `iss` tokens must carry; `jwks_url` where its keys are.
    pub fn new(issuer: impl Into<String>, client_id: impl Into<String>, jwks_url: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            client_id: client_id.into(),
            jwks_url: jwks_url.into(),
            http: reqwest::Client::new(),
            keys: RwLock::default(),
        }
    }

    async fn refresh(&self) -> Result<(), AuthError> {
        let jwks: Jwks = self
            .http
            .get(&self.jwks_url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|_| AuthError::Jwks)?
            .json()
            .await
            .map_err(|_| AuthError::Jwks)?;
        let mut keys = self.keys.write().await;
        for k in jwks.keys {
            if let Ok(key) = DecodingKey::from_rsa_components(&k.n, &k.e) {
                keys.insert(k.kid, key);
            }
        }
        Ok(())
    }

    /// Checks an `Authorization` header value; returns the claims as API
    /// Gateway passes them to the function.
    pub async fn verify(&self, authorization: Option<&str>) -> Result<BTreeMap<String, String>, AuthError> {
        let token = authorization
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Missing)?;
        let header = decode_header(token).map_err(|_| AuthError::Invalid)?;
        if header.alg != Algorithm::RS256 {
            return Err(AuthError::Invalid);
        }
        let kid = header.kid.ok_or(AuthError::Invalid)?;
        if !self.keys.read().await.contains_key(&kid) {
            self.refresh().await?;
        }
        let keys = self.keys.read().await;
        let key = keys.get(&kid).ok_or(AuthError::Invalid)?;
        let mut v = Validation::new(Algorithm::RS256);
        v.set_issuer(&[&self.issuer]);
        v.validate_aud = false; // access tokens carry client_id, not aud
        v.set_required_spec_claims(&["exp", "iss", "sub"]);
        v.leeway = 0;
        let claims = decode::<HashMap<String, Value>>(token, key, &v).map_err(|_| AuthError::Invalid)?.claims;
        let is = |k: &str, want: &str| claims.get(k).and_then(Value::as_str) == Some(want);
        if !is("token_use", "access") || !is("client_id", &self.client_id) {
            return Err(AuthError::Invalid);
        }
        Ok(claims.iter().map(|(k, v)| (k.clone(), expenzez_api::event::claim_string(v))).collect())
    }
}
