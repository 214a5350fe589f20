//! Exact money.
//!
//! Amounts are integer **minor units** (pence for GBP) in an `i64`, stored as a
//! DynamoDB Number holding that exact integer under the seed's field names
//! (`amount`, `balance.current`, `limit`, ...). serde_dynamo reads any
//! non-integer Number through `f64`, so a decimal string would not survive a
//! round trip exactly; integers always do. The HTTP edge converts to and from
//! the app's decimal amounts with [`Money::from_decimal`] / [`Money::to_decimal`].
//! Arithmetic is checked: an overflow is an error, never a wrap.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Neg;

/// Minor-unit exponent for every currency we hold (GBP, EUR, USD...).
pub const MINOR_UNIT_SCALE: u32 = 2;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount has more than {MINOR_UNIT_SCALE} decimal places")]
    TooPrecise,
    #[error("amount is out of range")]
    OutOfRange,
    #[error("currency must be a three-letter ISO 4217 code")]
    BadCurrency,
}

/// An amount in minor units. Signed: negative is money out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(i64);

/// Largest magnitude accepted from outside (10^13 minor units, £100bn), far
/// inside `i64` so that sums of millions of amounts cannot overflow.
pub const MAX_ABS_MINOR: i64 = 10_000_000_000_000;

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_minor(minor: i64) -> Self {
        Money(minor)
    }
    pub const fn minor(self) -> i64 {
        self.0
    }
    /// From the app's or a provider's decimal amount (`-12.34`), exactly.
    pub fn from_decimal(d: Decimal) -> Result<Self, MoneyError> {
        use rust_decimal::prelude::ToPrimitive;
        if d.normalize().scale() > MINOR_UNIT_SCALE {
            return Err(MoneyError::TooPrecise);
        }
        let minor = d.checked_mul(Decimal::from(10i64.pow(MINOR_UNIT_SCALE))).and_then(|m| m.to_i64()).ok_or(MoneyError::OutOfRange)?;
        if minor.abs() > MAX_ABS_MINOR {
            return Err(MoneyError::OutOfRange);
        }
        Ok(Money(minor))
    }
    pub fn parse(s: &str) -> Result<Self, MoneyError> {
        let s = s.trim();
        let d = if s.contains(['e', 'E']) { Decimal::from_scientific(s) } else { s.parse() };
        let d = d.map_err(|_| MoneyError::OutOfRange)?;
        Self::from_decimal(d)
    }
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, MINOR_UNIT_SCALE)
    }
    pub fn checked_add(self, o: Money) -> Option<Money> {
        self.0.checked_add(o.0).map(Money)
    }
    pub fn checked_sub(self, o: Money) -> Option<Money> {
        self.0.checked_sub(o.0).map(Money)
    }
    pub fn abs(self) -> Money {
        Money(self.0.saturating_abs())
    }
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(self.0.saturating_neg())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_decimal())
    }
}

/// Sums exactly; `None` on overflow.
pub fn checked_sum<I: IntoIterator<Item = Money>>(items: I) -> Option<Money> {
    items.into_iter().try_fold(Money::ZERO, Money::checked_add)
}

/// ISO 4217 code, upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

/// Active ISO 4217 currency codes (sorted, for binary search).
pub const ISO_4217: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF", "BMD", "BND", "BOB",
    "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP",
    "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF",
    "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK",
    "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN",
    "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF",
    "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND",
    "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VED", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF",
    "XPF", "YER", "ZAR", "ZMW", "ZWG",
];

impl Currency {
    /// An active ISO 4217 code, any case (`gbp` is `GBP`); `XYZ` is refused.
    pub fn new(s: &str) -> Result<Self, MoneyError> {
        let up = s.trim().to_ascii_uppercase();
        if ISO_4217.binary_search(&up.as_str()).is_ok() {
            Ok(Currency(up))
        } else {
            Err(MoneyError::BadCurrency)
        }
    }
    pub fn gbp() -> Self {
        Currency("GBP".into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(s: String) -> Result<Self, MoneyError> {
        Currency::new(&s)
    }
}
impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.0
    }
}
impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    #[test]
    fn decimal_conversions() {
        assert_eq!(Money::parse("-12.34").unwrap().minor(), -1234);
        assert_eq!(Money::parse("12.3").unwrap().minor(), 1230);
        assert_eq!(Money::parse("12.300").unwrap().minor(), 1230);
        assert_eq!(Money::parse("0.1").unwrap().checked_add(Money::parse("0.2").unwrap()), Some(Money::parse("0.3").unwrap()));
        assert_eq!(Money::parse("1.234"), Err(MoneyError::TooPrecise));
        assert_eq!(Money::parse("1e20"), Err(MoneyError::OutOfRange));
        assert_eq!(Money::from_minor(-1234).to_decimal(), Decimal::from_str("-12.34").unwrap());
    }

    proptest! {
        #[test]
        fn decimal_round_trip(minor in -MAX_ABS_MINOR..=MAX_ABS_MINOR) {
            let m = Money::from_minor(minor);
            prop_assert_eq!(Money::from_decimal(m.to_decimal()).unwrap(), m);
            prop_assert_eq!(Money::parse(&m.to_string()).unwrap(), m);
        }

        #[test]
        fn sums_are_exact_and_order_free(xs in proptest::collection::vec(-MAX_ABS_MINOR..=MAX_ABS_MINOR, 0..200)) {
            let money: Vec<Money> = xs.iter().copied().map(Money::from_minor).collect();
            let forward = checked_sum(money.iter().copied()).unwrap();
            let backward = checked_sum(money.iter().rev().copied()).unwrap();
            prop_assert_eq!(forward, backward);
            let dec: Decimal = money.iter().map(|m| m.to_decimal()).sum();
            prop_assert_eq!(forward.to_decimal(), dec);
            prop_assert_eq!(forward.minor() as i128, xs.iter().map(|&x| x as i128).sum::<i128>());
        }

        #[test]
        fn add_then_sub_is_identity(a in -MAX_ABS_MINOR..=MAX_ABS_MINOR, b in -MAX_ABS_MINOR..=MAX_ABS_MINOR) {
            let (a, b) = (Money::from_minor(a), Money::from_minor(b));
            prop_assert_eq!(a.checked_add(b).unwrap().checked_sub(b).unwrap(), a);
        }
    }
}
