//! Every budget and alert HTTP function, named once: template resource,
//! method, path, handler (see `expenzez_api::routes!`).

use crate::handlers::{alerts, budgets, preferences};
use expenzez_store::Table;

expenzez_api::routes! {
    state(table: &Table);
    GetBudgetPreferencesFunction: GET "/profile/budget-preferences" => preferences::get(table),
    PutBudgetPreferencesFunction: PUT "/profile/budget-preferences" => preferences::put(table),
    ListBudgetsFunction: GET "/budgets" => budgets::list(table),
    DeleteBudgetFunction: DELETE "/budgets/{id}" => budgets::delete(table),
    GetBudgetAlertsFunction: GET "/budgets/alerts" => budgets::warnings(table),
    ListPendingAlertsFunction: GET "/alerts/pending" => alerts::pending(table),
    AcknowledgeAlertFunction: POST "/alerts/{id}/acknowledge" => alerts::acknowledge(table),
    DismissAlertFunction: POST "/alerts/{id}/dismiss" => alerts::dismiss(table),
    GetAlertPreferencesFunction: GET "/alerts/preferences" => alerts::get_preferences(table),
    PutAlertPreferencesFunction: PUT "/alerts/preferences" => alerts::put_preferences(table),
}
