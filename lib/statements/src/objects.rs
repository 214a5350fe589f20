//! The statements bucket: presigned uploads under the caller's own prefix
//! (`statements/{sub}/{uuid}.pdf`) and reads of the caller's own objects.
//! The bucket (template.yaml `StatementBucket`) is encrypted with the app's
//! KMS key, blocks public access, and deletes every upload after
//! [`EXPIRE_AFTER_DAYS`] days; locally [`create_bucket`] sets the same up on
//! moto's S3 through the same SDK calls.

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};
use expenzez_domain::ids::UserId;
use std::time::Duration;

/// Every upload's key starts with this, then the user's id.
pub const PREFIX: &str = "statements/";
/// The content type the presigned URL is signed for.
pub const CONTENT_TYPE: &str = "application/pdf";
/// Largest statement we read.
pub const MAX_BYTES: u64 = crate::pdf::MAX_PDF_BYTES as u64;
/// How long an upload URL works.
pub const UPLOAD_URL_TTL: Duration = Duration::from_secs(10 * 60);
/// Uploads are deleted by the bucket's lifecycle rule after this many days.
pub const EXPIRE_AFTER_DAYS: i32 = 3;

/// The bucket and its client.
#[derive(Clone)]
pub struct Objects {
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("no such object")]
    NotFound,
    #[error("the object is larger than {MAX_BYTES} bytes")]
    TooLarge,
    #[error("S3: {0}")]
    S3(String),
}

/// An S3 client from the environment; path-style addressing when an endpoint
/// is configured (`AWS_ENDPOINT_URL_S3`, moto locally), and request checksums
/// only where S3 requires them, so a presigned PUT carries no checksum of
/// a body it has not seen.
pub async fn client() -> aws_sdk_s3::Client {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    client_from(&sdk)
}

pub fn client_from(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let local = std::env::var("AWS_ENDPOINT_URL_S3").is_ok_and(|v| !v.trim().is_empty());
    let conf = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(local)
        .request_checksum_calculation(aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// A new upload key of `user`'s.
pub fn new_key(user: &UserId) -> String {
    format!("{PREFIX}{user}/{}.pdf", uuid::Uuid::new_v4())
}

/// `key` when it is one of `user`'s upload keys exactly as [`new_key`] makes
/// them; anything else (another user's key, another shape) is `None`.
pub fn own_key(user: &UserId, key: &str) -> Option<String> {
    let rest = key.strip_prefix(PREFIX)?.strip_prefix(user.as_str())?.strip_prefix('/')?;
    let id = rest.strip_suffix(".pdf")?;
    let parsed = uuid::Uuid::parse_str(id).ok()?;
    (parsed.hyphenated().to_string() == id).then(|| key.to_string())
}

fn s3_error<E: std::error::Error + 'static>(e: aws_sdk_s3::error::SdkError<E>) -> ObjectError {
    ObjectError::S3(aws_sdk_s3::error::DisplayErrorContext(&e).to_string())
}

impl Objects {
    /// A presigned PUT for `key`, signed for the PDF content type (and for
    /// `length` bytes exactly when the app says how large its file is).
    pub async fn upload_url(&self, key: &str, length: Option<u64>) -> Result<String, ObjectError> {
        let mut put = self.s3.put_object().bucket(&self.bucket).key(key).content_type(CONTENT_TYPE);
        if let Some(n) = length {
            put = put.content_length(n as i64);
        }
        let config = PresigningConfig::expires_in(UPLOAD_URL_TTL).map_err(|e| ObjectError::S3(e.to_string()))?;
        let presigned = put.presigned(config).await.map_err(s3_error)?;
        Ok(presigned.uri().to_string())
    }

    /// The object's bytes, refused unread when larger than [`MAX_BYTES`].
    pub async fn read(&self, key: &str) -> Result<Vec<u8>, ObjectError> {
        let out = match self.s3.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(o) => o,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Err(ObjectError::NotFound),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => return Err(ObjectError::NotFound),
            Err(e) => return Err(s3_error(e)),
        };
        if out.content_length().is_some_and(|n| n < 0 || n as u64 > MAX_BYTES) {
            return Err(ObjectError::TooLarge);
        }
        let bytes = out.body.collect().await.map_err(|e| ObjectError::S3(e.to_string()))?.into_bytes();
        if bytes.len() as u64 > MAX_BYTES {
            return Err(ObjectError::TooLarge);
        }
        Ok(bytes.to_vec())
    }
}

/// Creates `bucket` as template.yaml's `StatementBucket` is: default
/// encryption with the KMS key `kms_key`, public access blocked, uploads
/// deleted after [`EXPIRE_AFTER_DAYS`] days. For the local stack and tests.
pub async fn create_bucket(s3: &aws_sdk_s3::Client, bucket: &str, kms_key: &str) -> Result<(), ObjectError> {
    let location = aws_sdk_s3::types::CreateBucketConfiguration::builder()
        .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
            s3.config().region().map(|r| r.as_ref()).unwrap_or("eu-west-2"),
        ))
        .build();
    s3.create_bucket().bucket(bucket).create_bucket_configuration(location).send().await.map_err(s3_error)?;
    let by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::AwsKms)
        .kms_master_key_id(kms_key)
        .build()
        .map_err(|e| ObjectError::S3(e.to_string()))?;
    let rule = ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(by_default).bucket_key_enabled(true).build();
    let encryption = ServerSideEncryptionConfiguration::builder().rules(rule).build().map_err(|e| ObjectError::S3(e.to_string()))?;
    s3.put_bucket_encryption().bucket(bucket).server_side_encryption_configuration(encryption).send().await.map_err(s3_error)?;
    let block = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .block_public_policy(true)
        .ignore_public_acls(true)
        .restrict_public_buckets(true)
        .build();
    s3.put_public_access_block().bucket(bucket).public_access_block_configuration(block).send().await.map_err(s3_error)?;
    let rule = LifecycleRule::builder()
        .id("delete-uploaded-statements")
        .filter(LifecycleRuleFilter::builder().prefix(PREFIX).build())
        .status(ExpirationStatus::Enabled)
        .expiration(LifecycleExpiration::builder().days(EXPIRE_AFTER_DAYS).build())
        .build()
        .map_err(|e| ObjectError::S3(e.to_string()))?;
    let lifecycle = BucketLifecycleConfiguration::builder().rules(rule).build().map_err(|e| ObjectError::S3(e.to_string()))?;
    s3.put_bucket_lifecycle_configuration().bucket(bucket).lifecycle_configuration(lifecycle).send().await.map_err(s3_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_callers_own_keys() {
        let u = UserId::new("11111111-2222-4333-8444-555555555555").unwrap();
        let other = UserId::new("99999999-2222-4333-8444-555555555555").unwrap();
        let k = new_key(&u);
        assert_eq!(own_key(&u, &k).as_deref(), Some(k.as_str()));
        assert_eq!(own_key(&other, &k), None);
        for bad in [
            "statements/11111111-2222-4333-8444-555555555555/../99999999-2222-4333-8444-555555555555/x.pdf",
            "statements/11111111-2222-4333-8444-555555555555/notauuid.pdf",
            "statements/11111111-2222-4333-8444-555555555555/6F9619FF-8B86-D011-B42D-00C04FC964FF.pdf",
            "statements/11111111-2222-4333-8444-555555555555x/6f9619ff-8b86-d011-b42d-00c04fc964ff.pdf",
            "/statements/11111111-2222-4333-8444-555555555555/6f9619ff-8b86-d011-b42d-00c04fc964ff.pdf",
            "statements/11111111-2222-4333-8444-555555555555/6f9619ff-8b86-d011-b42d-00c04fc964ff.pdf.exe",
        ] {
            assert_eq!(own_key(&u, bad), None, "{bad}");
        }
    }
}
