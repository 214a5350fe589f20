//! Every budget and alert HTTP function: its template resource, route and
//! handler. The Lambda binaries each run one; the local API server runs them all.

use crate::handlers::{alerts, budgets, preferences};
use expenzez_api::edge;
use expenzez_store::Table;
use lambda_http::{Body, Request, Response};

/// (template resource, method, path). A test checks this against template.yaml and the OpenAPI document.
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GetBudgetPreferencesFunction", "GET", "/profile/budget-preferences"),
    ("PutBudgetPreferencesFunction", "PUT", "/profile/budget-preferences"),
    ("ListBudgetsFunction", "GET", "/budgets"),
    ("DeleteBudgetFunction", "DELETE", "/budgets/{id}"),
    ("GetBudgetAlertsFunction", "GET", "/budgets/alerts"),
    ("ListPendingAlertsFunction", "GET", "/alerts/pending"),
    ("AcknowledgeAlertFunction", "POST", "/alerts/{id}/acknowledge"),
    ("DismissAlertFunction", "POST", "/alerts/{id}/dismiss"),
    ("GetAlertPreferencesFunction", "GET", "/alerts/preferences"),
    ("PutAlertPreferencesFunction", "PUT", "/alerts/preferences"),
];

/// Runs the handler of template resource `function`; `None` if there is none.
pub async fn dispatch(function: &str, table: &Table, req: Request) -> Option<Response<Body>> {
    Some(match function {
        "GetBudgetPreferencesFunction" => edge::run("GET /profile/budget-preferences", table, req, preferences::get).await,
        "PutBudgetPreferencesFunction" => edge::run("PUT /profile/budget-preferences", table, req, preferences::put).await,
        "ListBudgetsFunction" => edge::run("GET /budgets", table, req, budgets::list).await,
        "DeleteBudgetFunction" => edge::run("DELETE /budgets/{id}", table, req, budgets::delete).await,
        "GetBudgetAlertsFunction" => edge::run("GET /budgets/alerts", table, req, budgets::warnings).await,
        "ListPendingAlertsFunction" => edge::run("GET /alerts/pending", table, req, alerts::pending).await,
        "AcknowledgeAlertFunction" => edge::run("POST /alerts/{id}/acknowledge", table, req, alerts::acknowledge).await,
        "DismissAlertFunction" => edge::run("POST /alerts/{id}/dismiss", table, req, alerts::dismiss).await,
        "GetAlertPreferencesFunction" => edge::run("GET /alerts/preferences", table, req, alerts::get_preferences).await,
        "PutAlertPreferencesFunction" => edge::run("PUT /alerts/preferences", table, req, alerts::put_preferences).await,
        _ => return None,
    })
}
