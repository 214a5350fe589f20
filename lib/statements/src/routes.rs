//! Every statement route: its template resource, method and path, and the
//! handler it runs; the state they share ([`Statements`]).

use crate::handlers;
use crate::objects::{self, Objects};
use expenzez_api::edge;
use expenzez_api::stores::Metered;
use expenzez_domain::Timestamp;
use expenzez_store::{Capacity, Table};
use lambda_http::{Body, Request, Response};

/// (template resource, method, path). A test checks this against template.yaml and the OpenAPI document.
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("StatementUploadUrlFunction", "POST", "/transactions/statement-upload-url"),
    ("ParseStatementFunction", "POST", "/transactions/parse-statement"),
    ("ImportStatementFunction", "POST", "/transactions/import-statement"),
    ("ListStatementsFunction", "GET", "/transactions/statements"),
];

/// Runs the handler of template resource `function`; `None` if there is none.
pub async fn dispatch(function: &str, s: &Statements, req: Request) -> Option<Response<Body>> {
    Some(match function {
        "StatementUploadUrlFunction" => edge::run("POST /transactions/statement-upload-url", s, req, handlers::upload_url).await,
        "ParseStatementFunction" => edge::run("POST /transactions/parse-statement", s, req, handlers::parse).await,
        "ImportStatementFunction" => edge::run("POST /transactions/import-statement", s, req, handlers::import).await,
        "ListStatementsFunction" => edge::run("GET /transactions/statements", s, req, handlers::list).await,
        _ => return None,
    })
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
