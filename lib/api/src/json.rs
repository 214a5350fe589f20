//! Exact money in JSON. The app sends and reads amounts as JSON numbers
//! (`-12.34`); we read them from their text and write them as text, so no
//! amount ever passes through a float.

use expenzez_domain::Money;
use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

/// A money amount in a request body: a JSON number with at most two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonMoney(pub Money);

impl<'de> Deserialize<'de> for JsonMoney {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        let text = raw.get();
        if !text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            return Err(D::Error::custom("must be a number"));
        }
        Money::parse(text).map(JsonMoney).map_err(|e| D::Error::custom(format!("must be an amount with at most 2 decimal places ({e})")))
    }
}

/// Writes a money amount as an exact JSON number (`-12.34`).
pub fn money<S: Serializer>(m: &Money, s: S) -> Result<S::Ok, S::Error> {
    let raw = RawValue::from_string(m.to_decimal().to_string()).map_err(serde::ser::Error::custom)?;
    raw.serialize(s)
}

/// A money amount in a response body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Amount(pub Money);

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        money(&self.0, s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct In {
        amount: JsonMoney,
    }

    #[test]
    fn reads_exactly() {
        let v: In = serde_json::from_str(r#"{"amount": -12.34}"#).unwrap();
        assert_eq!(v.amount.0.minor(), -1234);
        let v: In = serde_json::from_str(r#"{"amount": 1e3}"#).unwrap();
        assert_eq!(v.amount.0.minor(), 100_000);
        assert!(serde_json::from_str::<In>(r#"{"amount": 0.30000000000000004}"#).is_err());
        assert!(serde_json::from_str::<In>(r#"{"amount": 1.234}"#).is_err());
        assert!(serde_json::from_str::<In>(r#"{"amount": "12.34"}"#).is_err());
    }

    #[test]
    fn writes_exactly() {
        #[derive(Serialize)]
        struct Out {
            a: Amount,
        }
        let s = serde_json::to_string(&Out { a: Amount(Money::from_minor(-1234)) }).unwrap();
        assert_eq!(s, r#"{"a":-12.34}"#);
        assert_eq!(serde_json::to_string(&Amount(Money::from_minor(100))).unwrap(), "1.00");
    }
}
