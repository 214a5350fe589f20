//! The PIN itself: a 5-digit secret that exists in plaintext only in memory,
//! for the length of one request. It is parsed without ever being echoed
//! (a wrong shape never puts the value into an error message), its `Debug`
//! is redacted, it is wiped on drop, and what is stored is an argon2id hash.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;
use zeroize::Zeroizing;

/// Digits in a PIN (the app's lock screen).
pub const PIN_LEN: usize = 5;

/// A PIN as the app sent it: exactly [`PIN_LEN`] ASCII digits.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(Zeroizing<String>);

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

/// What is wrong with a PIN (the messages never contain it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    #[error("must be a string of 5 digits")]
    Shape,
    #[error("is too easy to guess (a repeated digit or a sequence); choose another")]
    Obvious,
}

impl Pin {
    pub fn parse(s: &str) -> Result<Pin, PinError> {
        if s.len() == PIN_LEN && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Pin(Zeroizing::new(s.to_string())))
        } else {
            Err(PinError::Shape)
        }
    }

    /// Refuses the PINs anyone would try first.
    pub fn check_not_obvious(&self) -> Result<(), PinError> {
        if is_obvious(self.digits()) {
            Err(PinError::Obvious)
        } else {
            Ok(())
        }
    }

    fn digits(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// Same PIN (for "the new PIN must differ"); constant time.
    pub fn same_as(&self, other: &Pin) -> bool {
        self.digits().iter().zip(other.digits()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

/// A repeated digit (00000, 11111, ...), an ascending or descending run
/// (01234, 12345, ..., 98765, 54321, 43210), two alternating digits (12121,
/// 90909), a step-2 run (13579, 02468, 97531, 86420), or a palindrome built on a
/// run (12321, 98789).
pub fn is_obvious(d: &[u8]) -> bool {
    let steps: Vec<i16> = d.windows(2).map(|w| w[1] as i16 - w[0] as i16).collect();
    let constant_step = steps.windows(2).all(|w| w[0] == w[1]) && matches!(steps.first(), Some(-2..=2));
    let alternating = d.iter().enumerate().all(|(i, c)| *c == d[i % 2]);
    let run_palindrome =
        d.len() == PIN_LEN && d[0] == d[4] && d[1] == d[3] && matches!(steps.first(), Some(-1 | 1)) && steps[0] == steps[1];
    constant_step || alternating || run_palindrome
}

impl<'de> Deserialize<'de> for Pin {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Pin, D::Error> {
        struct V;
        // Every method that would carry the value into serde's message is
        // overridden to answer with the same fixed text.
        impl Visitor<'_> for V {
            type Value = Pin;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string of 5 digits")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Pin, E> {
                Pin::parse(s).map_err(|e| E::custom(e))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Pin, E> {
                Err(E::custom(PinError::Shape))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Pin, E> {
                Err(E::custom(PinError::Shape))
            }
            fn visit_u128<E: de::Error>(self, _: u128) -> Result<Pin, E> {
                Err(E::custom(PinError::Shape))
            }
            fn visit_i128<E: de::Error>(self, _: i128) -> Result<Pin, E> {
                Err(E::custom(PinError::Shape))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Pin, E> {
                Err(E::custom(PinError::Shape))
            }
            fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Pin, E> {
                Err(E::custom(PinError::Shape))
            }
            fn visit_char<E: de::Error>(self, _: char) -> Result<Pin, E> {
                Err(E::custom(PinError::Shape))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Pin, E> {
                Err(E::custom(PinError::Shape))
            }
        }
        d.deserialize_any(V)
    }
}

/// The argon2id cost of new hashes: 19 MiB, 2 passes, 1 lane (OWASP's
/// first argon2id configuration). `benches/pin_hash.rs` measures it.
pub const M_COST_KIB: u32 = 19 * 1024;
pub const T_COST: u32 = 2;
pub const P_COST: u32 = 1;

/// Hashes and verifies PINs. New hashes use the current parameters; a stored
/// hash records its own (PHC string), so it verifies after they are raised,
/// and [`PinHasher::needs_rehash`] says when to replace it.
#[derive(Debug, Clone)]
pub struct PinHasher {
    params: Params,
}

impl Default for PinHasher {
    fn default() -> Self {
        Self::new(M_COST_KIB, T_COST, P_COST).expect("valid argon2 parameters")
    }
}

/// A PHC string that is not an argon2id hash we can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the stored PIN hash is unreadable")]
pub struct BadHash;

impl PinHasher {
    pub fn new(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Option<Self> {
        Params::new(m_cost_kib, t_cost, p_cost, None).ok().map(|params| Self { params })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A new PHC string: `$argon2id$v=19$m=...,t=...,p=...$<salt>$<hash>`,
    /// with 16 random bytes of salt from the OS.
    pub fn hash(&self, pin: &Pin) -> String {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        self.argon2().hash_password(pin.digits(), &salt).expect("argon2id with valid parameters").to_string()
    }

    /// Whether `pin` matches `phc`, with the parameters `phc` records; the
    /// comparison is constant-time (argon2's verifier).
    pub fn verify(&self, pin: &Pin, phc: &str) -> Result<bool, BadHash> {
        let parsed = PasswordHash::new(phc).map_err(|_| BadHash)?;
        if parsed.algorithm != Algorithm::Argon2id.ident() {
            return Err(BadHash);
        }
        match Argon2::default().verify_password(pin.digits(), &parsed) {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::Password) => Ok(false),
            Err(_) => Err(BadHash),
        }
    }

    /// A stored hash made with other (older) parameters.
    pub fn needs_rehash(&self, phc: &str) -> bool {
        match PasswordHash::new(phc).ok().and_then(|h| Params::try_from(&h).ok()) {
            Some(p) => (p.m_cost(), p.t_cost(), p.p_cost()) != (self.params.m_cost(), self.params.t_cost(), self.params.p_cost()),
            None => true,
        }
    }

    /// (memory KiB, passes, lanes) of new hashes.
    pub fn parameters(&self) -> (u32, u32, u32) {
        (self.params.m_cost(), self.params.t_cost(), self.params.p_cost())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(s: &str) -> Pin {
        Pin::parse(s).unwrap()
    }

    #[test]
    fn shape() {
        assert!(Pin::parse("48213").is_ok());
        for bad in ["", "1234", "123456", "12a45", " 1234", "１２３４５", "-1234"] {
            assert_eq!(Pin::parse(bad), Err(PinError::Shape), "{bad}");
        }
    }

    #[test]
    fn obvious_pins_are_refused_and_others_pass() {
        for p in [
            "00000", "11111", "99999", "12345", "01234", "56789", "54321", "98765", "43210", "13579", "97531", "02468", "12121", "90909",
            "12321", "98789",
        ] {
            assert_eq!(pin(p).check_not_obvious(), Err(PinError::Obvious), "{p}");
        }
        for p in ["48213", "70592", "36917", "10293", "55123", "13570"] {
            assert_eq!(pin(p).check_not_obvious(), Ok(()), "{p}");
        }
    }

    #[test]
    fn parse_errors_never_echo_the_value() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct B {
            pin: Pin,
        }
        for body in [r#"{"pin": 48213}"#, r#"{"pin": "4821"}"#, r#"{"pin": 48213.5}"#, r#"{"pin": "48x13"}"#, r#"{"pin": true}"#] {
            let e = serde_json::from_str::<B>(body).unwrap_err().to_string();
            assert!(!e.contains("4821") && !e.contains("48x13"), "{e}");
            assert!(e.contains("5 digits"), "{e}");
        }
        let b: B = serde_json::from_str(r#"{"pin": "48213"}"#).unwrap();
        assert_eq!(format!("{b:?}"), "B { pin: Pin(<redacted>) }");
    }

    #[test]
    fn hash_records_parameters_and_salt_and_verifies() {
        let h = PinHasher::new(1024, 1, 1).unwrap();
        let a = h.hash(&pin("48213"));
        let b = h.hash(&pin("48213"));
        assert!(a.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        assert!(!a.contains("48213"));
        assert_eq!(h.verify(&pin("48213"), &a), Ok(true));
        assert_eq!(h.verify(&pin("48214"), &a), Ok(false));
        assert_eq!(h.verify(&pin("48213"), "not a hash"), Err(BadHash));
        // Raised parameters: the old hash still verifies and asks to be replaced.
        let stronger = PinHasher::new(2048, 2, 1).unwrap();
        assert_eq!(stronger.verify(&pin("48213"), &a), Ok(true));
        assert!(stronger.needs_rehash(&a));
        assert!(!h.needs_rehash(&a));
        assert_eq!(PinHasher::default().parameters(), (M_COST_KIB, T_COST, P_COST));
    }

    #[test]
    fn same_as() {
        assert!(pin("48213").same_as(&pin("48213")));
        assert!(!pin("48213").same_as(&pin("48214")));
    }
}
