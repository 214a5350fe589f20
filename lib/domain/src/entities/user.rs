use super::Entity;
use crate::email::Email;
use crate::ids::UserId;
use crate::keys::{gsi1_email, IndexKey, ItemKey};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    Light,
    Dark,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    Suspended,
    Pending,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KycStatus {
    Pending,
    Approved,
    Rejected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Ios,
    Android,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationSwitches {
    pub transactions: bool,
    pub budgets: bool,
    pub security: bool,
    pub marketing: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivacySettings {
    pub share_analytics: bool,
    pub biometric_enabled: bool,
    pub pin_enabled: bool,
}

/// The seed's example record omits `privacy`, `language` and `timezone`, so they are optional.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserPreferences {
    pub theme: Theme,
    pub currency: crate::Currency,
    pub notifications: NotificationSwitches,
    pub privacy: Option<PrivacySettings>,
    pub language: Option<String>,
    pub timezone: Option<String>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Kyc {
    pub status: KycStatus,
    pub submitted_at: Option<Timestamp>,
    pub reviewed_at: Option<Timestamp>,
    pub documents: Option<Vec<String>>,
}

/// Seed §User Profile, plus the app's personal details (APP-CONTRACT "Profile"),
/// all optional and confidential (never logged).
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserProfile {
    pub user_id: UserId,
    pub email: Email,
    pub name: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
    pub preferences: UserPreferences,
    pub status: UserStatus,
    pub email_verified: bool,
    pub phone_verified: Option<bool>,
    pub kyc: Option<Kyc>,
    pub platform: Option<Platform>,
    pub app_version: Option<String>,
    pub device_id: Option<String>,
    // The app's personal details.
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub postcode: Option<String>,
    pub country: Option<String>,
    /// `YYYY-MM-DD` ([`crate::time::parse_birthdate`]).
    pub birthdate: Option<String>,
    pub occupation: Option<String>,
    pub company: Option<String>,
    /// As the app's Sign-in-with-Apple profile step sends it (free text).
    pub gender: Option<String>,
}

impl UserProfile {
    /// A new, active, email-verified account with the app's default
    /// preferences (light theme, GBP, every notification but marketing,
    /// privacy switches off, English, Europe/London) and no personal details.
    pub fn new_account(user_id: UserId, email: Email, name: String, at: Timestamp) -> Self {
        Self {
            user_id,
            email,
            name,
            created_at: at,
            updated_at: at,
            last_login_at: None,
            preferences: UserPreferences {
                theme: Theme::Light,
                currency: crate::Currency::gbp(),
                notifications: NotificationSwitches { transactions: true, budgets: true, security: true, marketing: false },
                privacy: Some(PrivacySettings { share_analytics: false, biometric_enabled: false, pin_enabled: false }),
                language: Some("en".into()),
                timezone: Some("Europe/London".into()),
            },
            status: UserStatus::Active,
            email_verified: true,
            phone_verified: None,
            kyc: None,
            platform: None,
            app_version: None,
            device_id: None,
            first_name: None,
            last_name: None,
            phone: None,
            address: None,
            city: None,
            postcode: None,
            country: None,
            birthdate: None,
            occupation: None,
            company: None,
            gender: None,
        }
    }
}

impl Entity for UserProfile {
    const ENTITY_TYPE: &'static str = "USER_PROFILE";
    fn item_key(&self) -> ItemKey {
        ItemKey::Profile(self.user_id.clone())
    }
    fn index_keys(&self) -> Vec<IndexKey> {
        vec![gsi1_email(&self.email)]
    }
}

/// New item: makes an email unique (conditional put on `EMAIL#{email}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailClaim {
    pub email: Email,
    pub user_id: UserId,
    pub claimed_at: Timestamp,
}

impl Entity for EmailClaim {
    const ENTITY_TYPE: &'static str = "EMAIL_CLAIM";
    fn item_key(&self) -> ItemKey {
        ItemKey::EmailClaim(self.email.clone())
    }
}
