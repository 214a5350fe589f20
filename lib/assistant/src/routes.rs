//! Every assistant and bills function: its template resource, route and
//! handler. The Lambda binaries each run one; the local API server runs them all.

use crate::llm::Bedrock;
use crate::{bills, chat, insight, report};
use expenzez_api::edge;
use expenzez_store::Table;
use lambda_http::{Body, Request, Response};
use std::sync::Arc;

/// What the assistant's handlers run on, built once per cold start.
#[derive(Debug, Clone)]
pub struct Assistant {
    pub table: Table,
    /// The language model of `POST /ai/insight`, when one is configured.
    pub llm: Option<Arc<Bedrock>>,
}

/// (template resource, method, path). A test checks this against template.yaml and the OpenAPI document.
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GetChatHistoryFunction", "GET", "/ai/chat-history"),
    ("PostChatMessageFunction", "POST", "/ai/chat-message"),
    ("DeleteChatHistoryFunction", "DELETE", "/ai/chat-history"),
    ("AiInsightFunction", "POST", "/ai/insight"),
    ("GetMonthlyReportFunction", "GET", "/ai/monthly-report/{month}"),
    ("GetDetectedBillsFunction", "GET", "/bills/detected"),
    ("SaveDetectedBillsFunction", "POST", "/bills/detected"),
    ("GetBillPreferencesFunction", "GET", "/bills/preferences"),
    ("PutBillPreferencesFunction", "PUT", "/bills/preferences"),
    ("PostBillPreferencesFunction", "POST", "/bills/preferences"),
    ("PutBillPreferenceFunction", "PUT", "/bills/preferences/{billId}"),
];

/// Runs the handler of template resource `function`; `None` if there is none.
pub async fn dispatch(function: &str, app: &Assistant, req: Request) -> Option<Response<Body>> {
    let table = &app.table;
    Some(match function {
        "GetChatHistoryFunction" => edge::run("GET /ai/chat-history", table, req, chat::history).await,
        "PostChatMessageFunction" => edge::run("POST /ai/chat-message", table, req, chat::add).await,
        "DeleteChatHistoryFunction" => edge::run("DELETE /ai/chat-history", table, req, chat::clear).await,
        "AiInsightFunction" => {
            let model = app.llm.as_deref();
            edge::run("POST /ai/insight", table, req, |s, ctx| insight::insight_with(s, ctx, model)).await
        }
        "GetMonthlyReportFunction" => edge::run("GET /ai/monthly-report/{month}", table, req, report::get).await,
        "GetDetectedBillsFunction" => edge::run("GET /bills/detected", table, req, bills::get_detected).await,
        "SaveDetectedBillsFunction" => edge::run("POST /bills/detected", table, req, bills::save_detected).await,
        "GetBillPreferencesFunction" => edge::run("GET /bills/preferences", table, req, bills::get_preferences).await,
        "PutBillPreferencesFunction" => edge::run("PUT /bills/preferences", table, req, bills::put_preferences).await,
        "PostBillPreferencesFunction" => edge::run("POST /bills/preferences", table, req, bills::post_preferences).await,
        "PutBillPreferenceFunction" => edge::run("PUT /bills/preferences/{billId}", table, req, bills::put_preference).await,
        _ => return None,
    })
}
