//! Daily budget period rollover (BudgetRolloverFunction in template.yaml):
//! only the budgets whose period ended are read, from the sparse due index.

use expenzez_budgets::rollover;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Tracing, typed config and the DynamoDB client, once per cold start.
    let table = expenzez_api::config::init().await?;
    let table = &table;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| async move {
        let report = rollover::run(table).await?;
        Ok::<_, Error>(serde_json::to_value(report)?)
    }))
    .await
}
