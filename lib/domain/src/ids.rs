//! Newtype ids. An id becomes part of a key (`USER#{id}`), so it is validated
//! once, at construction: non-empty, at most 128 characters, printable ASCII
//! without `#` (the key separator) or whitespace.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a string is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} is empty")]
    Empty { kind: &'static str },
    #[error("{kind} is longer than {max} characters")]
    TooLong { kind: &'static str, max: usize },
    #[error("{kind} contains a character that is not allowed")]
    BadCharacter { kind: &'static str },
}

pub const MAX_ID_LEN: usize = 128;

pub(crate) fn check_id(kind: &'static str, s: &str) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if s.len() > MAX_ID_LEN {
        return Err(IdError::TooLong { kind, max: MAX_ID_LEN });
    }
    if !s.bytes().all(|b| b.is_ascii_graphic() && b != b'#') {
        return Err(IdError::BadCharacter { kind });
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn new(s: impl Into<String>) -> Result<Self, IdError> {
                let s = s.into();
                check_id(stringify!($name), &s)?;
                Ok(Self(s))
            }
            /// A fresh random (UUID v4) id.
            pub fn random() -> Self {
                Self(uuid::Uuid::new_v4().to_string())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::new(s)
            }
        }
        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::new(s)
            }
        }
    };
}

id_type!(/// A user: Cognito's `sub`.
    UserId);
id_type!(/// A bank connection (TrueLayer credentials id).
    ConnectionId);
id_type!(/// A bank account (provider account id).
    AccountId);
id_type!(/// A transaction; deterministic for synced ones, see [`TransactionId::deterministic`].
    TransactionId);
id_type!(/// A chat message.
    MessageId);
id_type!(/// A device that registered a push token.
    DeviceId);
id_type!(/// A notification history entry.
    NotificationId);
id_type!(/// A notification request's key: a digest of its producer's `requestId`
    /// ([`crate::entities::NotificationDelivery::request_key`]).
    NotificationRequestKey);
id_type!(/// Expo's id of a push ticket, under which its receipt is read.
    PushReceiptId);
id_type!(/// A budget.
    BudgetId);
id_type!(/// A budget alert.
    AlertId);
id_type!(/// A client-chosen `Idempotency-Key`.
    IdempotencyKey);
id_type!(/// A system setting name.
    SettingName);
id_type!(/// An imported bank statement (a hash of its content).
    StatementId);
id_type!(/// A recurring bill: the slug of its normalised merchant (`netflix`,
    /// `octopus-energy`), so the same bill found on the server and on the phone
    /// is one id.
    BillId);

/// Namespace for deterministic transaction ids (UUID v5).
const TRANSACTION_NAMESPACE: uuid::Uuid = uuid::uuid!("5b0e3f0c-8a51-4c36-9a52-3c1a0d9e7f21");

impl TransactionId {
    /// The same (provider, account, provider's stable id) always gives the same
    /// id, so a re-sync writes the same item instead of a duplicate (SPEC §3).
    pub fn deterministic(provider: &str, account: &AccountId, stable_id: &str) -> Self {
        // Length-prefixed parts: ("a#b", "c") and ("a", "b#c") cannot collide.
        let mut name = Vec::new();
        for part in [provider, account.as_str(), stable_id] {
            name.extend_from_slice(&(part.len() as u64).to_be_bytes());
            name.extend_from_slice(part.as_bytes());
        }
        Self(uuid::Uuid::new_v5(&TRANSACTION_NAMESPACE, &name).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_separator_and_blank() {
        assert!(UserId::new("a#b").is_err());
        assert!(UserId::new("").is_err());
        assert!(UserId::new("a b").is_err());
        assert!(UserId::new("x".repeat(129)).is_err());
        assert!(UserId::new("550e8400-e29b-41d4-a716-446655440000").is_ok());
    }

    #[test]
    fn deterministic_transaction_ids() {
        let acc = AccountId::new("acc-1").unwrap();
        let a = TransactionId::deterministic("truelayer", &acc, "p-1");
        let b = TransactionId::deterministic("truelayer", &acc, "p-1");
        let c = TransactionId::deterministic("truelayer", &acc, "p-2");
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn serde_validates() {
        assert!(serde_json::from_str::<UserId>("\"ok\"").is_ok());
        assert!(serde_json::from_str::<UserId>("\"a#b\"").is_err());
    }
}
