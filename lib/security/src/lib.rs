//! The app lock and devices (APP-CONTRACT "App lock (PIN) and devices"):
//! a 5-digit PIN per device, stored only as an argon2id hash ([`pin`]), its
//! attempts counted atomically in DynamoDB with growing lockouts
//! ([`lockout`]), the devices a user signed in on (fingerprints kept only as
//! keyed hashes), and the lock preferences ([`handlers`]).

pub mod handlers;
pub mod lockout;
pub mod pin;
pub mod routes;
pub mod store;
