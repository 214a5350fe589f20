//! The account's data: `DELETE /auth/delete-account` (data, then the
//! Cognito user), `DELETE /user/data`, `GET /user/export`.

use super::{idp_error, Auth};
use crate::account;
use crate::idp::IdentityProvider;
use expenzez_api::edge::Reply;
use expenzez_api::error::ApiError;
use expenzez_api::request::Ctx;
use http::StatusCode;
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountDeleted {
    success: bool,
    rows_deleted: usize,
}

/// Erases the data first, then the Cognito user: if the second step fails,
/// the user can still sign in and run it again.
pub async fn delete_account<I: IdentityProvider>(auth: Auth<I>, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let username = ctx.caller.as_ref().and_then(|c| c.username.clone()).unwrap_or_else(|| user.to_string());
    let rows = account::erase(&auth.table, &user).await?;
    auth.idp.delete_user(&username).await.map_err(idp_error)?;
    Reply::with_status(StatusCode::OK, &AccountDeleted { success: true, rows_deleted: rows })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteData {
    pub confirm: Option<String>,
}

pub async fn delete_user_data<I: IdentityProvider>(auth: Auth<I>, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let b: DeleteData = ctx.json()?;
    if b.confirm.as_deref() != Some("DELETE_ALL_DATA") {
        return Err(ApiError::validation("confirm", "must be \"DELETE_ALL_DATA\""));
    }
    let rows = account::erase_data(&auth.table, &user).await?;
    Reply::ok(&AccountDeleted { success: true, rows_deleted: rows })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Export {
    user_id: String,
    exported_at: expenzez_domain::Timestamp,
    items: Vec<serde_json::Value>,
}

pub async fn export<I: IdentityProvider>(auth: Auth<I>, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let items = account::export(&auth.table, &user).await?;
    Reply::ok(&Export { user_id: user.to_string(), exported_at: auth.table.now(), items })
}
