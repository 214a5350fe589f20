//! A bare SDK Lambda: the SDK's configuration and a DynamoDB client built at
//! start, one GetItem per invocation (the profile `get-profile` reads), no
//! code of ours. What a function doing the same work without the project costs.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let client = aws_sdk_dynamodb::Client::new(&aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await);
    let table = std::env::var("TABLE_NAME")?;
    let (client, table) = (&client, &table);
    lambda_runtime::run(service_fn(move |e: LambdaEvent<serde_json::Value>| async move {
        let sub = e.payload["requestContext"]["authorizer"]["jwt"]["claims"]["sub"].as_str().unwrap_or_default().to_string();
        let out = client
            .get_item()
            .table_name(table)
            .key("PK", AttributeValue::S(format!("USER#{sub}")))
            .key("SK", AttributeValue::S("PROFILE".into()))
            .send()
            .await?;
        let found = out.item.is_some();
        Ok::<_, Error>(serde_json::json!({ "statusCode": if found { 200 } else { 404 }, "body": "{}" }))
    }))
    .await
}
