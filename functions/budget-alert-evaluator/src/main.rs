//! Budget alerts from the data (BudgetAlertEvaluatorFunction in template.yaml):
//! each batch of the table's stream (TRANSACTION changes only, by the event
//! source's filter) is evaluated against the users' budgets; new alerts go to
//! the notification queue (`NOTIFICATION_QUEUE_URL`, when set).

use aws_lambda_events::event::dynamodb::Event;
use expenzez_budgets::{stream, NotificationQueue};
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Tracing, typed config, the DynamoDB and SQS clients, once per cold start.
    let table = expenzez_api::config::init().await?;
    let queue = NotificationQueue::from_env().await;
    let (table, queue) = (&table, queue.as_ref());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, Error>(stream::handle(table, queue, event.payload).await)
    }))
    .await
}
