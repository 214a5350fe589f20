//! Monthly report precomputation (MonthlyReportsFunction in template.yaml):
//! on the 1st, last month's report cached for each user active in it, read
//! from the sparse index of monthly summaries. A run with failures answers an
//! error, so Lambda retries it; the retry redoes only what is not cached.

use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Tracing, typed config and the DynamoDB client, once per cold start.
    let table = expenzez_api::config::init().await?;
    let table = &table;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| async move {
        let run = expenzez_assistant::jobs::monthly_reports(table).await?;
        if run.failed > 0 {
            return Err(Error::from(format!("{} of {} monthly reports failed", run.failed, run.active)));
        }
        Ok(serde_json::to_value(run)?)
    }))
    .await
}
