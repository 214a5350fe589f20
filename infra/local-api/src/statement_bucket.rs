//! The statements bucket, locally: created in moto's S3 (`AWS_ENDPOINT_URL_S3`)
//! as template.yaml's `StatementBucket` is (default encryption with a key of
//! the local KMS, public access blocked, the lifecycle rule deleting uploads),
//! through the same aws-sdk-s3 calls ([`expenzez_statements::objects::create_bucket`]).

use expenzez_statements::objects::{client_from, create_bucket, Objects};

/// Creates the bucket `name` and its KMS key; the handle the routes use.
pub async fn create(name: &str) -> anyhow::Result<Objects> {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let kms = aws_sdk_kms::Client::new(&sdk);
    let key = kms.create_key().description("expenzez local statements key").send().await?;
    let key_id = key.key_metadata().map(|m| m.arn().unwrap_or(m.key_id()).to_string()).ok_or_else(|| anyhow::anyhow!("no key id"))?;
    let s3 = client_from(&sdk);
    create_bucket(&s3, name, &key_id).await?;
    Ok(Objects { s3, bucket: name.to_string() })
}

/// A handle on `name` without creating the bucket (servers whose tests never upload).
pub async fn handle(name: &str) -> Objects {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    Objects { s3: client_from(&sdk), bucket: name.to_string() }
}
