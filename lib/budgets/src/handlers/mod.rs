//! The budget and alert routes (APP-CONTRACT "Budgets and alerts").

pub mod alerts;
pub mod budgets;
pub mod preferences;

use expenzez_api::ApiError;

/// Attempts of a read-modify-write before it answers 409.
pub(crate) const MAX_ATTEMPTS: u32 = 5;

pub(crate) fn conflict() -> ApiError {
    ApiError::Conflict { code: "VERSION_CONFLICT", message: "Your budgets are being changed elsewhere; retry.".into() }
}

/// A percentage (a ratio, not money) as an exact JSON number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percent(pub rust_decimal::Decimal);

impl serde::Serialize for Percent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let raw = serde_json::value::RawValue::from_string(self.0.normalize().to_string()).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}
