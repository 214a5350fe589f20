//! Every assistant function, named once: template resource, method, path,
//! handler (see `expenzez_api::routes!`). The Lambda binaries each serve one;
//! the local API server dispatches them all.

use crate::{chat, insight, report};
use expenzez_store::Table;

/// What the assistant's handlers run on, built once per cold start.
#[derive(Debug, Clone)]
pub struct Assistant {
    pub table: Table,
}

expenzez_api::routes! {
    state(app: &Assistant);
    GetChatHistoryFunction: GET "/ai/chat-history" => chat::history(&app.table),
    PostChatMessageFunction: POST "/ai/chat-message" => chat::add(&app.table),
    DeleteChatHistoryFunction: DELETE "/ai/chat-history" => chat::clear(&app.table),
    AiInsightFunction: POST "/ai/insight" => insight::insight(&app.table),
    GetMonthlyReportFunction: GET "/ai/monthly-report/{month}" => report::get(&app.table),
}
