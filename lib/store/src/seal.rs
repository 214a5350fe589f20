//! Restricted attributes on their way into and out of DynamoDB (SPEC §5
//! "Field encryption"). An entity's restricted attributes
//! ([`Entity::RESTRICTED_FIELDS`](expenzez_domain::entities::Entity::RESTRICTED_FIELDS))
//! are replaced by a Binary ciphertext bound to the item's `PK`, `SK` and the
//! attribute name before a write, and opened again after a read. Without a
//! cipher a write of such an attribute is refused, and every raw item that is
//! sent is checked once more ([`refuse_plaintext`]), so no path writes one in
//! plaintext.

use crate::error::StoreError;
use crate::item::{key_of, Item};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use expenzez_crypto::{CryptoError, FieldCipher, FieldContext};
use expenzez_domain::entities::RESTRICTED_ATTRIBUTES;
use zeroize::Zeroize;

/// Encrypts each of `restricted` present in `item`; refuses without a cipher.
pub(crate) async fn seal(cipher: Option<&FieldCipher>, restricted: &[&'static str], item: &mut Item) -> Result<(), StoreError> {
    for &attribute in restricted {
        match item.get(attribute) {
            None | Some(AttributeValue::Null(_)) => continue,
            Some(AttributeValue::S(_)) => {}
            Some(_) => return Err(StoreError::Invalid(format!("restricted attribute {attribute} is not a string"))),
        }
        let cipher = cipher.ok_or(StoreError::Unencrypted { attribute })?;
        let key = key_of(item).ok_or_else(|| StoreError::Invalid("an item without PK and SK".into()))?;
        let Some(AttributeValue::S(mut plain)) = item.remove(attribute) else { continue };
        let sealed = cipher.encrypt_str(FieldContext::new(&key.pk, &key.sk, attribute), &plain).await;
        plain.zeroize();
        item.insert(attribute.to_string(), AttributeValue::B(Blob::new(sealed?)));
    }
    Ok(())
}

/// Refuses an item holding any of `restricted` in a form other than a
/// ciphertext (Binary). For paths that cannot encrypt.
pub(crate) fn refuse_plaintext(restricted: &[&'static str], item: &Item) -> Result<(), StoreError> {
    for &attribute in restricted {
        match item.get(attribute) {
            None | Some(AttributeValue::Null(_)) | Some(AttributeValue::B(_)) => {}
            Some(_) => return Err(StoreError::Unencrypted { attribute }),
        }
    }
    Ok(())
}

/// The last check on any raw item before it is sent: no attribute of the
/// table-wide restricted list in plaintext, whatever the entity.
pub(crate) fn check_raw(item: &Item) -> Result<(), StoreError> {
    refuse_plaintext(RESTRICTED_ATTRIBUTES, item)
}

/// Decrypts each of `restricted` present in `item` back into a String.
pub(crate) async fn open(cipher: Option<&FieldCipher>, restricted: &[&'static str], item: &mut Item) -> Result<(), StoreError> {
    for &attribute in restricted {
        match item.get(attribute) {
            None | Some(AttributeValue::Null(_)) => continue,
            Some(AttributeValue::B(_)) => {}
            // Restricted data stored in plaintext was not written by us.
            Some(_) => return Err(not_opened(item, attribute, CryptoError::Malformed("restricted attribute is not a ciphertext"))),
        }
        let cipher = cipher.ok_or(StoreError::CipherMissing { attribute })?;
        let Some(key) = key_of(item) else {
            // A projection without the key cannot be authenticated.
            return Err(StoreError::Invalid(format!("restricted attribute {attribute} read without PK and SK")));
        };
        let plain = match item.get(attribute) {
            Some(AttributeValue::B(blob)) => cipher.decrypt_string(FieldContext::new(&key.pk, &key.sk, attribute), blob.as_ref()).await,
            _ => continue,
        };
        let plain = plain.map_err(|e| not_opened(item, attribute, e))?;
        item.insert(attribute.to_string(), AttributeValue::S(plain));
    }
    Ok(())
}

/// Logs a value that does not open (where, never what) and returns its error.
fn not_opened(item: &Item, attribute: &str, e: CryptoError) -> StoreError {
    if e.is_integrity() {
        let (pk, sk) = key_of(item).map(|k| (k.pk, k.sk)).unwrap_or_default();
        tracing::error!(pk = %pk, sk = %sk, attribute, error = %e, "restricted attribute failed integrity check");
    }
    StoreError::Crypto(e)
}

/// For paths that cannot decrypt: refuses an item holding a restricted value.
pub(crate) fn refuse_sealed(restricted: &[&'static str], item: &Item) -> Result<(), StoreError> {
    for &attribute in restricted {
        match item.get(attribute) {
            None | Some(AttributeValue::Null(_)) => {}
            Some(AttributeValue::B(_)) => return Err(StoreError::CipherMissing { attribute }),
            Some(_) => return Err(not_opened(item, attribute, CryptoError::Malformed("restricted attribute is not a ciphertext"))),
        }
    }
    Ok(())
}

/// Drops the restricted attributes (reads that need only the masks).
pub(crate) fn redact(restricted: &[&'static str], item: &mut Item) {
    for attribute in restricted {
        item.remove(*attribute);
    }
}
