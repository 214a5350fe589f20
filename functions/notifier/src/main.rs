//! The notifier (NotifierFunction in template.yaml): each message of the
//! notification queue is one request to notify a user; answers partial batch
//! failures (quiet hours, push service unavailable).

use aws_lambda_events::event::sqs::SqsEvent;
use expenzez_notify::{consume, Notifier};
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Tracing, the table, the push client and the queue, once per cold start.
    let notifier = Notifier::from_env().await?;
    let notifier = &notifier;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<SqsEvent>| async move { Ok::<_, Error>(consume(notifier, event.payload).await) },
    ))
    .await
}
