//! Real confirmation and reset codes for the local Cognito.
//!
//! moto's Cognito accepts any confirmation or reset code and has no
//! `ResendConfirmationCode`. This is a small front on loopback between the
//! SDK and moto: the auth code (`expenzez_auth::Cognito`, the same code that
//! runs against real Cognito) only has its endpoint pointed here. Every call
//! is forwarded to moto unchanged, except that, as Cognito does:
//!
//! - `SignUp` (of an unconfirmed user), `ResendConfirmationCode` and
//!   `ForgotPassword` issue a fresh 6-digit code, replacing the previous one,
//!   and "email" it to the log (target `local_cognito`: the local API
//!   server's log, where a developer reads it; the address masked);
//! - `ConfirmSignUp` and `ConfirmForgotPassword` accept only the current code
//!   of that user and purpose, once, before it expires (24 h to confirm,
//!   1 h to reset): a wrong one is `CodeMismatchException` (the fifth wrong
//!   one voids it: `LimitExceededException`), a used or expired one
//!   `ExpiredCodeException`, confirming a confirmed user `NotAuthorizedException`;
//! - `ResendConfirmationCode` is served here (moto answers it with 503).
//!
//! Codes live in this process's memory, like the local stack itself.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// What a code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Purpose {
    SignUp,
    ResetPassword,
}

impl Purpose {
    fn name(self) -> &'static str {
        match self {
            Purpose::SignUp => "sign_up",
            Purpose::ResetPassword => "reset_password",
        }
    }
    /// How long Cognito's codes stay valid.
    fn lifetime(self) -> Duration {
        match self {
            Purpose::SignUp => Duration::from_secs(24 * 3600),
            Purpose::ResetPassword => Duration::from_secs(3600),
        }
    }
}

/// Wrong tries that void a code.
const MAX_WRONG: u32 = 5;

struct Issued {
    code: String,
    expires: Instant,
    wrong: u32,
}

/// A user as moto knows it.
struct PoolUser {
    sub: String,
    email: Option<String>,
    confirmed: bool,
}

struct Front {
    moto: String,
    pool_id: String,
    http: reqwest::Client,
    codes: Mutex<HashMap<(Purpose, String), Issued>>,
}

/// A Cognito-shaped error answer.
struct Refusal {
    kind: &'static str,
    message: &'static str,
}

type Answer = (u16, Bytes);

fn refusal(kind: &'static str, message: &'static str) -> Refusal {
    Refusal { kind, message }
}

impl Refusal {
    fn answer(&self) -> Answer {
        (400, Bytes::from(json!({"__type": self.kind, "message": self.message}).to_string()))
    }
}

/// `j***@e***.com`-like, as Cognito's `CodeDeliveryDetails.Destination`.
fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first = local.chars().next().map(String::from).unwrap_or_default();
            let (host, tld) = domain.rsplit_once('.').unwrap_or((domain, ""));
            let h = host.chars().next().map(String::from).unwrap_or_default();
            format!("{first}***@{h}***.{tld}")
        }
        None => "***".into(),
    }
}

/// Six random digits.
fn new_code() -> String {
    let n = u128::from_le_bytes(*uuid::Uuid::new_v4().as_bytes());
    format!("{:06}", n % 1_000_000)
}

impl Front {
    async fn moto_call(&self, target: &str, auth: &str, body: Bytes) -> Result<Answer, Refusal> {
        let r = self
            .http
            .post(&self.moto)
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", target)
            .header("authorization", auth)
            .body(body)
            .send()
            .await
            .map_err(|_| refusal("InternalErrorException", "the local Cognito (moto) is not answering"))?;
        let status = r.status().as_u16();
        let body = r.bytes().await.map_err(|_| refusal("InternalErrorException", "the local Cognito (moto) broke off"))?;
        Ok((status, body))
    }

    /// The user `username` (an email or a username) names, as moto has it.
    async fn user(&self, username: &str) -> Result<PoolUser, Answer> {
        // The app's calls are unauthenticated (the SDK signs none of them);
        // this admin call names the pool's region (`eu-west-2_…`) as moto reads it.
        let region = self.pool_id.split('_').next().unwrap_or("eu-west-2");
        let auth = format!("AWS4-HMAC-SHA256 Credential=local/20250101/{region}/cognito-idp/aws4_request, SignedHeaders=host, Signature=0");
        let body = json!({"UserPoolId": self.pool_id, "Username": username}).to_string();
        let (status, body) =
            self.moto_call("AWSCognitoIdentityProviderService.AdminGetUser", &auth, body.into()).await.map_err(|r| r.answer())?;
        if status != 200 {
            return Err(refusal("UserNotFoundException", "Username/client id combination not found.").answer());
        }
        let v: Value = serde_json::from_slice(&body).unwrap_or_default();
        let attr = |name: &str| {
            v["UserAttributes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|a| a["Name"] == name)
                .and_then(|a| a["Value"].as_str())
                .map(str::to_string)
        };
        Ok(PoolUser {
            sub: attr("sub").unwrap_or_else(|| v["Username"].as_str().unwrap_or_default().to_string()),
            email: attr("email"),
            confirmed: v["UserStatus"] == "CONFIRMED",
        })
    }

    /// Issues a fresh code (the previous one of the same purpose is void)
    /// and "emails" it: one log line, the address masked.
    fn issue(&self, purpose: Purpose, user: &PoolUser) -> Value {
        let code = new_code();
        let to = user.email.as_deref().map(mask_email).unwrap_or_else(|| "***".into());
        tracing::info!(
            target: "local_cognito",
            purpose = purpose.name(),
            sub = %user.sub,
            to = %to,
            code = %code,
            "verification code (the local stand-in for Cognito's email)"
        );
        let issued = Issued { code, expires: Instant::now() + purpose.lifetime(), wrong: 0 };
        self.codes.lock().expect("codes lock").insert((purpose, user.sub.clone()), issued);
        json!({"Destination": to, "DeliveryMedium": "EMAIL", "AttributeName": "email"})
    }

    /// Checks `code` against the user's current one; `consume` uses it up.
    fn check(&self, purpose: Purpose, sub: &str, code: &str, consume: bool) -> Result<(), Refusal> {
        let mut codes = self.codes.lock().expect("codes lock");
        let key = (purpose, sub.to_string());
        let expired = || refusal("ExpiredCodeException", "Invalid code provided, please request a code again.");
        let Some(issued) = codes.get_mut(&key) else { return Err(expired()) };
        if issued.expires <= Instant::now() {
            codes.remove(&key);
            return Err(expired());
        }
        if issued.code != code.trim() {
            issued.wrong += 1;
            if issued.wrong >= MAX_WRONG {
                codes.remove(&key);
                return Err(refusal("LimitExceededException", "Attempt limit exceeded, please try after some time."));
            }
            return Err(refusal("CodeMismatchException", "Invalid verification code provided, please try again."));
        }
        if consume {
            codes.remove(&key);
        }
        Ok(())
    }

    async fn handle(&self, target: &str, auth: &str, body: Bytes) -> Answer {
        let op = target.rsplit('.').next().unwrap_or_default();
        let req: Value = serde_json::from_slice(&body).unwrap_or_default();
        let username = req["Username"].as_str().unwrap_or_default().to_string();
        let forward = |body: Bytes| async move { self.moto_call(target, auth, body).await.unwrap_or_else(|r| r.answer()) };
        match op {
            "SignUp" => {
                let (status, out) = forward(body).await;
                let mut v: Value = serde_json::from_slice(&out).unwrap_or_default();
                if status != 200 || v["UserConfirmed"] == true {
                    return (status, out);
                }
                let user = PoolUser {
                    sub: v["UserSub"].as_str().unwrap_or_default().to_string(),
                    email: req["UserAttributes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|a| a["Name"] == "email")
                        .and_then(|a| a["Value"].as_str())
                        .map(str::to_string)
                        .or(Some(username)),
                    confirmed: false,
                };
                v["CodeDeliveryDetails"] = self.issue(Purpose::SignUp, &user);
                (200, Bytes::from(v.to_string()))
            }
            "ResendConfirmationCode" => match self.user(&username).await {
                Err(a) => a,
                Ok(u) if u.confirmed => refusal("InvalidParameterException", "User is already confirmed.").answer(),
                Ok(u) => (200, Bytes::from(json!({"CodeDeliveryDetails": self.issue(Purpose::SignUp, &u)}).to_string())),
            },
            "ConfirmSignUp" => match self.user(&username).await {
                Err(a) => a,
                Ok(u) if u.confirmed => refusal("NotAuthorizedException", "User cannot be confirmed. Current status is CONFIRMED").answer(),
                Ok(u) => match self.check(Purpose::SignUp, &u.sub, req["ConfirmationCode"].as_str().unwrap_or_default(), true) {
                    Err(r) => r.answer(),
                    Ok(()) => forward(body).await,
                },
            },
            "ForgotPassword" => {
                let (status, out) = forward(body).await;
                if status != 200 {
                    return (status, out);
                }
                match self.user(&username).await {
                    Err(a) => a,
                    Ok(u) => (200, Bytes::from(json!({"CodeDeliveryDetails": self.issue(Purpose::ResetPassword, &u)}).to_string())),
                }
            }
            "ConfirmForgotPassword" => match self.user(&username).await {
                Err(a) => a,
                Ok(u) => {
                    let code = req["ConfirmationCode"].as_str().unwrap_or_default();
                    if let Err(r) = self.check(Purpose::ResetPassword, &u.sub, code, false) {
                        return r.answer();
                    }
                    // Used up only when the new password is taken (a refused
                    // password leaves the code valid, as Cognito does).
                    let (status, out) = forward(body).await;
                    if status == 200 {
                        let _ = self.check(Purpose::ResetPassword, &u.sub, code, true);
                    }
                    (status, out)
                }
            },
            _ => forward(body).await,
        }
    }
}

/// Starts the front for the user pool `pool_id` on `moto` (its endpoint
/// URL), on a free loopback port, for the rest of the process; its URL.
pub async fn start(moto: &str, pool_id: &str) -> std::io::Result<String> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    let front = Arc::new(Front {
        moto: moto.trim_end_matches('/').to_string(),
        pool_id: pool_id.to_string(),
        http: reqwest::Client::new(),
        codes: Mutex::new(HashMap::new()),
    });
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let front = front.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let front = front.clone();
                    async move {
                        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                        let (target, auth) = (header("x-amz-target"), header("authorization"));
                        let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        let (status, out) = front.handle(&target, &auth, body).await;
                        let mut r = hyper::Response::new(Full::new(out));
                        *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
                        r.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("application/x-amz-json-1.1"));
                        Ok::<_, std::convert::Infallible>(r)
                    }
                });
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
            });
        }
    });
    Ok(format!("http://{addr}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_and_codes() {
        assert_eq!(mask_email("jo.bloggs@example.com"), "j***@e***.com");
        let c = new_code();
        assert!(c.len() == 6 && c.chars().all(|x| x.is_ascii_digit()), "{c}");
    }

    #[test]
    fn a_code_is_taken_once_and_a_wrong_one_is_refused_then_voided() {
        let f = Front { moto: String::new(), pool_id: String::new(), http: reqwest::Client::new(), codes: Mutex::new(HashMap::new()) };
        let u = PoolUser { sub: "s".into(), email: Some("a@b.com".into()), confirmed: false };
        f.issue(Purpose::SignUp, &u);
        let code = f.codes.lock().unwrap()[&(Purpose::SignUp, "s".to_string())].code.clone();
        let wrong = if code == "000000" { "111111" } else { "000000" };
        assert_eq!(f.check(Purpose::SignUp, "s", wrong, true).err().map(|r| r.kind), Some("CodeMismatchException"));
        assert_eq!(f.check(Purpose::ResetPassword, "s", &code, true).err().map(|r| r.kind), Some("ExpiredCodeException"));
        assert!(f.check(Purpose::SignUp, "s", &code, true).is_ok());
        assert_eq!(f.check(Purpose::SignUp, "s", &code, true).err().map(|r| r.kind), Some("ExpiredCodeException"), "used");
        f.issue(Purpose::SignUp, &u);
        for _ in 1..MAX_WRONG {
            assert_eq!(f.check(Purpose::SignUp, "s", "x", true).err().map(|r| r.kind), Some("CodeMismatchException"));
        }
        assert_eq!(f.check(Purpose::SignUp, "s", "x", true).err().map(|r| r.kind), Some("LimitExceededException"));
        let code = f.codes.lock().unwrap().get(&(Purpose::SignUp, "s".to_string())).map(|i| i.code.clone());
        assert_eq!(code, None, "voided after the limit");
    }
}
