//! Notifications (APP-CONTRACT.md "Notifications"): the app's routes over the
//! seed's `NotificationToken`, `NotificationPreferences` and
//! `NotificationHistory` ([`routes`]), and the notifier, which consumes the
//! notification queue ([`queue`]) and delivers through Expo's push service
//! ([`expo`]) as the user's preferences allow ([`prefs`], [`notifier`]).

pub mod deliver;
pub mod expo;
pub mod handlers;
pub mod notifier;
pub mod prefs;
pub mod queue;
pub mod receipts;
pub mod routes;

pub use notifier::{consume, Notifier, NotifierSettings};
pub use routes::{dispatch, Notify, ROUTES};
