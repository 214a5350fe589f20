//! Every statement route, named once: template resource, method, path, handler
//! (see `expenzez_api::routes!`); the state they share ([`Statements`]).

use crate::handlers;
use crate::objects::{self, Objects};
use expenzez_api::stores::Metered;
use expenzez_domain::Timestamp;
use expenzez_store::{Capacity, Table};

expenzez_api::routes! {
    state(s: &Statements);
    StatementUploadUrlFunction: POST "/transactions/statement-upload-url" => handlers::upload_url(s),
    ParseStatementFunction: POST "/transactions/parse-statement" => handlers::parse(s),
    ImportStatementFunction: POST "/transactions/import-statement" => handlers::import(s),
    ListStatementsFunction: GET "/transactions/statements" => handlers::list(s),
}

/// Name of the variable holding the statements bucket's name.
pub const BUCKET_VAR: &str = "STATEMENT_BUCKET";

/// What the statement handlers share, built once per instance.
#[derive(Clone)]
pub struct Statements {
    pub table: Table,
    pub objects: Objects,
}

impl Statements {
    /// For the functions' `main`: tracing, the table, the S3 client and
    /// `STATEMENT_BUCKET`.
    pub async fn from_env() -> Result<Self, lambda_http::Error> {
        let table = expenzez_api::config::init().await?;
        let bucket = std::env::var(BUCKET_VAR).ok().filter(|b| !b.trim().is_empty()).ok_or("STATEMENT_BUCKET is not set")?;
        Ok(Self { table, objects: Objects { s3: objects::client().await, bucket } })
    }
}

impl Metered for Statements {
    fn metered(&self) -> Self {
        Self { table: self.table.metered(), objects: self.objects.clone() }
    }
    fn consumed(&self) -> Capacity {
        self.table.consumed()
    }
    fn now(&self) -> Timestamp {
        self.table.now()
    }
}
