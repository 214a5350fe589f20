pub mod config;
pub mod imports;
pub mod profile;
pub mod summary;
pub mod tools;
pub mod transactions;
