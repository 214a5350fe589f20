//! The auth and account routes, named once: template resource, method, path,
//! handler (see `expenzez_api::routes!`).

use crate::handlers::{self, Auth};
use crate::idp::IdentityProvider;

expenzez_api::routes! {
    state[I: IdentityProvider](auth: &Auth<I>);
    RegisterFunction: POST "/auth/register" => handlers::register(auth),
    ConfirmSignupFunction: POST "/auth/confirm-signup" => handlers::confirm_signup(auth),
    ResendVerificationFunction: POST "/auth/resend-verification" => handlers::resend_verification(auth),
    LoginFunction: POST "/auth/login" => handlers::login(auth),
    RefreshFunction: POST "/auth/refresh" => handlers::refresh(auth),
    ForgotPasswordFunction: POST "/auth/forgot-password" => handlers::forgot_password(auth),
    ConfirmForgotPasswordFunction: POST "/auth/confirm-forgot-password" => handlers::confirm_forgot_password(auth),
    ForgotUsernameFunction: POST "/auth/forgot-username" => handlers::forgot_username(auth),
    CheckUserStatusFunction: POST "/auth/check-user-status" => handlers::check_user_status(auth),
    DeleteAccountFunction: DELETE "/auth/delete-account" => handlers::delete_account(auth),
    DeleteUserDataFunction: DELETE "/user/data" => handlers::delete_user_data(auth),
    ExportUserDataFunction: GET "/user/export" => handlers::export(auth),
}
