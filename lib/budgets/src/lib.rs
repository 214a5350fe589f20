//! Budgets and budget alerts (seed §UserBudget, §BudgetAlert): the app's
//! budget routes, the alert evaluator fed by the table's DynamoDB Stream, and
//! the daily period rollover. Periods are local months (Europe/London);
//! spending comes from the monthly SUMMARY items, never a scan of transactions.

pub mod anomaly;
pub mod evaluate;
pub mod handlers;
pub mod model;
pub mod period;
pub mod rollover;
pub mod routes;
pub mod spend;
pub mod store;
pub mod stream;

pub use evaluate::{evaluate, NotificationQueue};
pub use period::MonthPeriod;
pub use store::BudgetStore;
