//! PDF bank statements: the app uploads a statement straight to S3 through a
//! presigned URL (`POST /transactions/statement-upload-url`), we read and parse
//! it (`POST /transactions/parse-statement`), the user reviews the rows, and
//! they are imported like a CSV file's (`POST /transactions/import-statement`),
//! the statement recorded (`GET /transactions/statements`).
//!
//! - [`pdf`]: the PDF's text with positions (pdf-extract).
//! - [`parser`]: pure code from those lines to a statement, per bank layout.
//! - [`sample`]: statement PDFs in each layout (tests and `make dev`).
//! - [`objects`]: the statements bucket (presigned uploads, reads of one's own keys).
//! - [`handlers`], [`routes`]: the four routes and their state ([`Statements`]).

pub mod handlers;
pub mod objects;
pub mod parser;
pub mod pdf;
pub mod routes;
pub mod sample;

pub use routes::Statements;

/// Reads a statement PDF: its lines, then the parser.
pub fn parse_pdf(bytes: &[u8]) -> Result<parser::ParsedStatement, ReadError> {
    let lines = pdf::lines(bytes)?;
    Ok(parser::parse(&lines)?)
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Pdf(#[from] pdf::PdfError),
    #[error(transparent)]
    Parse(#[from] parser::ParseError),
}
