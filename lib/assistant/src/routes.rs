//! Every assistant and bills function, named once: template resource, method, path,
//! handler (see `expenzez_api::routes!`). The Lambda binaries each serve one;
//! the local API server dispatches them all.

use crate::llm::Bedrock;
use crate::{bills, chat, insight, report};
use expenzez_api::stores::Metered;
use expenzez_domain::Timestamp;
use expenzez_store::Capacity;
use expenzez_store::Table;
use std::sync::Arc;

/// What the assistant's handlers run on, built once per cold start.
#[derive(Debug, Clone)]
pub struct Assistant {
    pub table: Table,
    /// The language model of `POST /ai/insight`, when one is configured.
    pub llm: Option<Arc<Bedrock>>,
}

impl Assistant {
    /// The deterministic engine alone (no language model).
    pub fn new(table: Table) -> Self {
        Self { table, llm: None }
    }
}

/// `POST /ai/insight` runs on the whole state (its table and its model);
/// capacity and time are the table's.
impl Metered for Assistant {
    fn metered(&self) -> Self {
        Self { table: self.table.metered(), llm: self.llm.clone() }
    }
    fn consumed(&self) -> Capacity {
        self.table.consumed()
    }
    fn now(&self) -> Timestamp {
        self.table.now()
    }
}

expenzez_api::routes! {
    state(app: &Assistant);
    GetChatHistoryFunction: GET "/ai/chat-history" => chat::history(&app.table),
    PostChatMessageFunction: POST "/ai/chat-message" => chat::add(&app.table),
    DeleteChatHistoryFunction: DELETE "/ai/chat-history" => chat::clear(&app.table),
    AiInsightFunction: POST "/ai/insight" => insight::insight_on(app),
    GetMonthlyReportFunction: GET "/ai/monthly-report/{month}" => report::get(&app.table),
    GetDetectedBillsFunction: GET "/bills/detected" => bills::get_detected(&app.table),
    SaveDetectedBillsFunction: POST "/bills/detected" => bills::save_detected(&app.table),
    GetBillPreferencesFunction: GET "/bills/preferences" => bills::get_preferences(&app.table),
    PutBillPreferencesFunction: PUT "/bills/preferences" => bills::put_preferences(&app.table),
    PostBillPreferencesFunction: POST "/bills/preferences" => bills::post_preferences(&app.table),
    PutBillPreferenceFunction: PUT "/bills/preferences/{billId}" => bills::put_preference(&app.table),
}
