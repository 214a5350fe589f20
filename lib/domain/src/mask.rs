//! Masked companions of restricted bank details (SPEC §5 "Field encryption").
//!
//! The restricted values are stored encrypted; these masks are stored in
//! plaintext beside them so that listing accounts needs no decryption (and no
//! KMS call). A mask never shows more than the bank itself prints on a
//! statement: the last four digits of an account number, the last two of a
//! sort code, an IBAN's country and check digits plus its last four.
//! Input too short to mask safely is masked completely.

/// `12345678` → `****5678`.
pub fn account_number(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    if digits.len() <= 4 {
        return "****".into();
    }
    let tail: String = digits[digits.len() - 4..].iter().collect();
    format!("****{tail}")
}

/// `20-00-00` (or `200000`) → `**-**-00`.
pub fn sort_code(code: &str) -> String {
    let digits: Vec<char> = code.chars().filter(char::is_ascii_digit).collect();
    if digits.len() != 6 || code.chars().any(|c| !(c.is_ascii_digit() || c == '-' || c == ' ')) {
        return "**-**-**".into();
    }
    format!("**-**-{}{}", digits[4], digits[5])
}

/// `GB33 BUKB 2020 1555 5555 55` → `GB33****5555`.
pub fn iban(iban: &str) -> String {
    let compact: Vec<char> = iban.chars().filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_uppercase()).collect();
    // The shortest IBANs (Norway) have 15 characters; anything under 12 would
    // show most of itself.
    if compact.len() < 12 || !compact.iter().all(char::is_ascii_alphanumeric) {
        return "****".into();
    }
    let head: String = compact[..4].iter().collect();
    let tail: String = compact[compact.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shapes() {
        assert_eq!(account_number("12345678"), "****5678");
        assert_eq!(account_number("1234 5678"), "****5678");
        assert_eq!(account_number("1234"), "****");
        assert_eq!(account_number(""), "****");
        assert_eq!(sort_code("20-00-00"), "**-**-00");
        assert_eq!(sort_code("200042"), "**-**-42");
        assert_eq!(sort_code("20 00 42"), "**-**-42");
        assert_eq!(sort_code("20-00"), "**-**-**");
        assert_eq!(sort_code("ab-cd-ef"), "**-**-**");
        assert_eq!(iban("GB33BUKB20201555555555"), "GB33****5555");
        assert_eq!(iban("gb33 bukb 2020 1555 5555 55"), "GB33****5555");
        assert_eq!(iban("GB33"), "****");
        assert_eq!(iban("GB33-BUKB-2020-1555"), "****");
    }

    proptest! {
        /// A mask never reveals more than its four (two) trailing characters
        /// of the number, and never the whole number.
        #[test]
        fn masks_reveal_little(n in "[0-9]{5,34}") {
            let m = account_number(&n);
            prop_assert_eq!(m.len(), 8);
            prop_assert!(!m.contains(&n));
            prop_assert!(n.ends_with(&m[4..]));
        }

        #[test]
        fn iban_masks_keep_country_and_tail(i in "[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}") {
            let m = iban(&i);
            prop_assert_eq!(m.len(), 12);
            prop_assert!(i.starts_with(&m[..4]) && i.ends_with(&m[8..]));
            prop_assert!(!m.contains(&i[4..i.len() - 4]));
        }
    }
}
