//! A few Cognito user-pool API calls against the local endpoint (moto's
//! server), for `make dev` and the end-to-end tests: create the pool and the
//! app client from template.yaml's definitions, create users, sign in.
//! (The app's own sign-up and sign-in functions arrive with the auth issue.)

use anyhow::{bail, Context};
use serde_json::{json, Value};

pub struct CognitoAdmin {
    endpoint: String,
    region: String,
    http: reqwest::Client,
}

/// A user pool and the app client the local API accepts tokens of.
#[derive(Debug, Clone)]
pub struct Pool {
    pub pool_id: String,
    pub client_id: String,
    pub issuer: String,
    pub jwks_url: String,
}

#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: String,
    pub id_token: String,
    pub refresh_token: Option<String>,
}

impl CognitoAdmin {
    /// `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER` and `AWS_REGION` from the local stack.
    pub fn from_env() -> anyhow::Result<Self> {
        let endpoint = std::env::var("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER")
            .context("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER is not set (start the local stack)")?;
        let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "eu-west-2".into());
        Ok(Self { endpoint: endpoint.trim_end_matches('/').to_string(), region, http: reqwest::Client::new() })
    }

    async fn call(&self, op: &str, body: Value) -> anyhow::Result<Value> {
        // The local endpoint takes the region from the credential scope.
        let auth =
            format!("AWS4-HMAC-SHA256 Credential=local/20250101/{}/cognito-idp/aws4_request, SignedHeaders=host, Signature=0", self.region);
        let r = self
            .http
            .post(&self.endpoint)
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", format!("AWSCognitoIdentityProviderService.{op}"))
            .header("authorization", auth)
            .body(body.to_string())
            .send()
            .await?;
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("Cognito {op} failed: {status} {}", v.get("__type").and_then(Value::as_str).unwrap_or(""));
        }
        Ok(v)
    }

    /// Creates the user pool, its app client and the admin group from the
    /// template's `UserPool`, `UserPoolClient` and `AdminGroup` properties.
    pub async fn create_pool(&self, template: &serde_yaml::Value, name: &str) -> anyhow::Result<Pool> {
        let mut pool = crate::template::plain_properties(template, "UserPool");
        pool["PoolName"] = json!(name);
        if let Some(o) = pool.as_object_mut() {
            // Not part of the user-pool API's CreateUserPool input.
            o.remove("UserPoolName");
        }
        let pool_id = self.call("CreateUserPool", pool).await?["UserPool"]["Id"].as_str().context("pool id")?.to_string();
        let mut client = crate::template::plain_properties(template, "UserPoolClient");
        client["UserPoolId"] = json!(pool_id);
        client["ClientName"] = json!(format!("{name}-app"));
        let client_id =
            self.call("CreateUserPoolClient", client).await?["UserPoolClient"]["ClientId"].as_str().context("client id")?.to_string();
        let group = crate::template::plain_properties(template, "AdminGroup");
        let group_name = group.get("GroupName").and_then(Value::as_str).unwrap_or("admin");
        self.call("CreateGroup", json!({"UserPoolId": pool_id, "GroupName": group_name})).await?;
        Ok(Pool {
            issuer: format!("https://cognito-idp.{}.amazonaws.com/{pool_id}", self.region),
            jwks_url: format!("{}/{pool_id}/.well-known/jwks.json", self.endpoint),
            pool_id,
            client_id,
        })
    }

    /// Creates a confirmed user with a permanent password; returns its `sub`.
    pub async fn create_user(&self, pool: &Pool, email: &str, password: &str, admin: bool) -> anyhow::Result<String> {
        let u = self
            .call(
                "AdminCreateUser",
                json!({"UserPoolId": pool.pool_id, "Username": email, "MessageAction": "SUPPRESS",
                       "UserAttributes": [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}]}),
            )
            .await?;
        self.call("AdminSetUserPassword", json!({"UserPoolId": pool.pool_id, "Username": email, "Password": password, "Permanent": true}))
            .await?;
        if admin {
            self.call("AdminAddUserToGroup", json!({"UserPoolId": pool.pool_id, "Username": email, "GroupName": "admin"})).await?;
        }
        let attrs = u["User"]["Attributes"].as_array().cloned().unwrap_or_default();
        let sub = attrs.iter().find(|a| a["Name"] == "sub").and_then(|a| a["Value"].as_str()).context("no sub")?;
        Ok(sub.to_string())
    }

    pub async fn login(&self, pool: &Pool, email: &str, password: &str) -> anyhow::Result<Tokens> {
        let r = self
            .call(
                "InitiateAuth",
                json!({"ClientId": pool.client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                       "AuthParameters": {"USERNAME": email, "PASSWORD": password}}),
            )
            .await?;
        let a = &r["AuthenticationResult"];
        Ok(Tokens {
            access_token: a["AccessToken"].as_str().context("access token")?.to_string(),
            id_token: a["IdToken"].as_str().context("id token")?.to_string(),
            refresh_token: a["RefreshToken"].as_str().map(str::to_string),
        })
    }
}
