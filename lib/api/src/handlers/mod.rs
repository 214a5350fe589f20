pub mod config;
pub mod profile;
pub mod summary;
pub mod transactions;
