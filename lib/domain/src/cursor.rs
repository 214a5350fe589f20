//! Opaque pagination cursors (the app's `startKey` / `nextKey`).
//!
//! A cursor carries DynamoDB's `LastEvaluatedKey` (all key attributes are
//! strings in this table) and an HMAC-SHA256 tag over it, the owner (the user
//! it was issued to) and a fingerprint of the query. A cursor that was edited,
//! issued to another user or for another query does not open.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::fmt;

type HmacSha256 = Hmac<Sha256>;

/// Longest cursor we accept; a real one is a few hundred characters.
pub const MAX_CURSOR_LEN: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error("the pagination key is malformed")]
    Malformed,
    #[error("the pagination key is not valid for this request")]
    Forged,
}

/// The secret that signs cursors. Debug never shows it.
#[derive(Clone)]
pub struct CursorKey(Vec<u8>);

impl CursorKey {
    /// At least 32 bytes of secret.
    pub fn new(secret: impl Into<Vec<u8>>) -> Option<Self> {
        let s = secret.into();
        (s.len() >= 32).then_some(CursorKey(s))
    }
    fn mac(&self, owner: &str, query: &str, payload: &str) -> HmacSha256 {
        let mut m = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        for part in ["expenzez-cursor-v1", owner, query, payload] {
            m.update(&(part.len() as u64).to_be_bytes());
            m.update(part.as_bytes());
        }
        m
    }
}

impl fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CursorKey(<redacted>)")
    }
}

/// What a cursor is bound to.
#[derive(Debug, Clone, Copy)]
pub struct CursorScope<'a> {
    /// Who may use it: the user id, or a fixed name for system queries.
    pub owner: &'a str,
    /// A canonical description of the query (index, key condition, direction, filters).
    pub query: &'a str,
}

/// A position in a query: the `LastEvaluatedKey`'s string attributes.
pub type Position = BTreeMap<String, String>;

pub fn seal(key: &CursorKey, scope: CursorScope<'_>, position: &Position) -> String {
    let json = serde_json::to_vec(position).expect("a string map serialises");
    let payload = B64.encode(json);
    let tag = key.mac(scope.owner, scope.query, &payload).finalize().into_bytes();
    format!("{payload}.{}", B64.encode(tag))
}

/// A keyed digest (HMAC-SHA256 under the same secret, bound to `scope`) of a
/// value that is stored only to be compared, never read back, such as a
/// device fingerprint: equal inputs give equal digests, and without the
/// secret the stored digest says nothing about the input. Base64url.
pub fn digest(key: &CursorKey, scope: CursorScope<'_>, value: &str) -> String {
    B64.encode(key.mac(scope.owner, scope.query, value).finalize().into_bytes())
}

pub fn open(key: &CursorKey, scope: CursorScope<'_>, token: &str) -> Result<Position, CursorError> {
    if token.len() > MAX_CURSOR_LEN {
        return Err(CursorError::Malformed);
    }
    let (payload, tag) = token.split_once('.').ok_or(CursorError::Malformed)?;
    let tag = B64.decode(tag).map_err(|_| CursorError::Malformed)?;
    key.mac(scope.owner, scope.query, payload).verify_slice(&tag).map_err(|_| CursorError::Forged)?;
    let json = B64.decode(payload).map_err(|_| CursorError::Malformed)?;
    serde_json::from_slice(&json).map_err(|_| CursorError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key() -> CursorKey {
        CursorKey::new(vec![7u8; 32]).unwrap()
    }
    const ME: CursorScope = CursorScope { owner: "u1", query: "GSI2|USER#u1|desc" };

    proptest! {
        #[test]
        fn round_trips(pos in proptest::collection::btree_map("[A-Z0-9]{1,8}", ".{0,60}", 0..5)) {
            let t = seal(&key(), ME, &pos);
            prop_assert_eq!(open(&key(), ME, &t).unwrap(), pos);
        }

        #[test]
        fn any_edit_is_rejected(i in 0usize..200, c in "[A-Za-z0-9_.-]") {
            let pos = Position::from([("PK".into(), "USER#u1".into()), ("SK".into(), "TRANSACTION#t9".into())]);
            let t = seal(&key(), ME, &pos);
            let i = i % t.len();
            let mut edited = t.clone();
            edited.replace_range(i..i + 1, &c);
            prop_assume!(edited != t);
            prop_assert!(open(&key(), ME, &edited).is_err());
        }
    }

    #[test]
    fn digests_are_keyed_and_scoped() {
        let d = digest(&key(), ME, "fingerprint");
        assert_eq!(d, digest(&key(), ME, "fingerprint"));
        assert_ne!(d, digest(&key(), ME, "fingerprint2"));
        assert_ne!(d, digest(&key(), CursorScope { owner: "u2", ..ME }, "fingerprint"));
        assert_ne!(d, digest(&CursorKey::new(vec![8u8; 32]).unwrap(), ME, "fingerprint"));
        assert!(!d.contains("fingerprint"));
    }

    #[test]
    fn bound_to_owner_and_query() {
        let pos = Position::from([("PK".into(), "USER#u1".into())]);
        let t = seal(&key(), ME, &pos);
        assert_eq!(open(&key(), CursorScope { owner: "u2", ..ME }, &t), Err(CursorError::Forged));
        assert_eq!(open(&key(), CursorScope { query: "GSI3|USER#u1|desc", ..ME }, &t), Err(CursorError::Forged));
        let other = CursorKey::new(vec![8u8; 32]).unwrap();
        assert_eq!(open(&other, ME, &t), Err(CursorError::Forged));
        assert_eq!(open(&key(), ME, "garbage"), Err(CursorError::Malformed));
    }
}
