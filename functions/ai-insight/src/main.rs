//! `POST /ai/insight` (AiInsightFunction in template.yaml).

use expenzez_api::edge;
use expenzez_assistant::insight;
use lambda_http::{service_fn, Error, Request};
use std::convert::Infallible;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Tracing, typed config and the DynamoDB client, once per cold start.
    let table = expenzez_api::config::init().await?;
    // Bedrock when BEDROCK_MODEL_ID is set; else the deterministic engine alone.
    let model = expenzez_assistant::llm::Bedrock::from_env().await;
    let (table, model) = (&table, model.as_ref());
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<_, Infallible>(edge::run("POST /ai/insight", table, req, |s, ctx| insight::insight_with(s, ctx, model)).await)
    }))
    .await
}
