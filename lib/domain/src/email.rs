//! Emails become keys (`GSI1PK`, `EMAIL#{email}`), so they are normalised once:
//! trimmed and lower-cased. They are confidential: logs use [`Email::masked`].

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid email address")]
pub struct EmailError;

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, EmailError> {
        let e = s.trim().to_lowercase();
        let (local, domain) = e.split_once('@').ok_or(EmailError)?;
        let ok = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && e.len() <= 254
            && !e.chars().any(|c| c.is_whitespace() || c.is_control() || c == '#');
        ok.then_some(Email(e)).ok_or(EmailError)
    }
    /// An address a client gives us to register or to change to: [`Email::parse`]'s
    /// rules, and the local part starts with an ASCII letter or digit, as the
    /// identity provider requires (Cognito refuses `+5@example.com`). `parse`
    /// stays lenient so that what is already stored always reads back.
    pub fn parse_new(s: &str) -> Result<Self, EmailError> {
        let e = Self::parse(s)?;
        e.0.starts_with(|c: char| c.is_ascii_alphanumeric()).then_some(e).ok_or(EmailError)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// `j***@example.com`: what logs may show.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.split_once('@').unwrap_or(("", ""));
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

impl TryFrom<String> for Email {
    type Error = EmailError;
    fn try_from(s: String) -> Result<Self, EmailError> {
        Email::parse(&s)
    }
}
impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}
impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
/// Debug is masked so an email cannot reach a log through `{:?}`.
impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        let e = Email::parse("  John.Doe@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "john.doe@example.com");
        assert_eq!(e.masked(), "j***@example.com");
        assert!(!format!("{e:?}").contains("john.doe"));
        assert!(Email::parse("nope").is_err());
        assert!(Email::parse("a@b").is_err());
        assert!(Email::parse("a#x@b.com").is_err());
        assert!(Email::parse("+5@example.dev").is_ok(), "what is stored reads back");
        for bad in ["+5@example.dev", ".a@example.dev", "%x@example.dev", "_x@example.dev"] {
            assert!(Email::parse_new(bad).is_err(), "{bad}");
        }
        assert!(Email::parse_new(" 5+x@Example.dev").is_ok());
    }
}
