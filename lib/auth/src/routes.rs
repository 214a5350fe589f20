//! The auth and account routes: template resource, method, path, handler.

use crate::handlers::{self, Auth};
use crate::idp::IdentityProvider;
use expenzez_api::edge;
use lambda_http::{Body, Request, Response};

pub const ROUTES: &[(&str, &str, &str)] = &[
    ("RegisterFunction", "POST", "/auth/register"),
    ("ConfirmSignupFunction", "POST", "/auth/confirm-signup"),
    ("ResendVerificationFunction", "POST", "/auth/resend-verification"),
    ("LoginFunction", "POST", "/auth/login"),
    ("RefreshFunction", "POST", "/auth/refresh"),
    ("ForgotPasswordFunction", "POST", "/auth/forgot-password"),
    ("ConfirmForgotPasswordFunction", "POST", "/auth/confirm-forgot-password"),
    ("ForgotUsernameFunction", "POST", "/auth/forgot-username"),
    ("CheckUserStatusFunction", "POST", "/auth/check-user-status"),
    ("DeleteAccountFunction", "DELETE", "/auth/delete-account"),
    ("DeleteUserDataFunction", "DELETE", "/user/data"),
    ("ExportUserDataFunction", "GET", "/user/export"),
];

pub async fn dispatch<I: IdentityProvider>(function: &str, auth: &Auth<I>, req: Request) -> Option<Response<Body>> {
    Some(match function {
        "RegisterFunction" => edge::run("POST /auth/register", auth, req, handlers::register).await,
        "ConfirmSignupFunction" => edge::run("POST /auth/confirm-signup", auth, req, handlers::confirm_signup).await,
        "ResendVerificationFunction" => edge::run("POST /auth/resend-verification", auth, req, handlers::resend_verification).await,
        "LoginFunction" => edge::run("POST /auth/login", auth, req, handlers::login).await,
        "RefreshFunction" => edge::run("POST /auth/refresh", auth, req, handlers::refresh).await,
        "ForgotPasswordFunction" => edge::run("POST /auth/forgot-password", auth, req, handlers::forgot_password).await,
        "ConfirmForgotPasswordFunction" => {
            edge::run("POST /auth/confirm-forgot-password", auth, req, handlers::confirm_forgot_password).await
        }
        "ForgotUsernameFunction" => edge::run("POST /auth/forgot-username", auth, req, handlers::forgot_username).await,
        "CheckUserStatusFunction" => edge::run("POST /auth/check-user-status", auth, req, handlers::check_user_status).await,
        "DeleteAccountFunction" => edge::run("DELETE /auth/delete-account", auth, req, handlers::delete_account).await,
        "DeleteUserDataFunction" => edge::run("DELETE /user/data", auth, req, handlers::delete_user_data).await,
        "ExportUserDataFunction" => edge::run("GET /user/export", auth, req, handlers::export).await,
        _ => return None,
    })
}
