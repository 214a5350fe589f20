//! Every assistant and bills function, named once: template resource, method, path,
//! handler (see `expenzez_api::routes!`). The Lambda binaries each serve one;
//! the local API server dispatches them all.

use crate::{bills, chat, insight, report};
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
    GetDetectedBillsFunction: GET "/bills/detected" => bills::get_detected(&app.table),
    SaveDetectedBillsFunction: POST "/bills/detected" => bills::save_detected(&app.table),
    GetBillPreferencesFunction: GET "/bills/preferences" => bills::get_preferences(&app.table),
    PutBillPreferencesFunction: PUT "/bills/preferences" => bills::put_preferences(&app.table),
    PostBillPreferencesFunction: POST "/bills/preferences" => bills::post_preferences(&app.table),
    PutBillPreferenceFunction: PUT "/bills/preferences/{billId}" => bills::put_preference(&app.table),
}
