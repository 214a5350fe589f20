//! `GET /profile`, `PUT /profile`: the app's flat view of the seed's UserProfile.

use crate::edge::{if_match, Reply};
use crate::error::{ApiError, FieldError};
use crate::request::Ctx;
use crate::stores::ProfileStore;
use expenzez_domain::entities::UserProfile;
use expenzez_domain::{time, Currency, Email, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub postcode: Option<String>,
    pub country: Option<String>,
    pub birthdate: Option<String>,
    pub occupation: Option<String>,
    pub company: Option<String>,
    pub gender: Option<String>,
    pub created_at: Timestamp,
    pub preferred_currency: String,
    /// No subscriptions yet: every account is on the free tier.
    pub is_premium: bool,
}

impl From<&UserProfile> for ProfileView {
    fn from(p: &UserProfile) -> Self {
        Self {
            first_name: p.first_name.clone(),
            last_name: p.last_name.clone(),
            name: p.name.clone(),
            email: p.email.to_string(),
            phone: p.phone.clone(),
            address: p.address.clone(),
            city: p.city.clone(),
            postcode: p.postcode.clone(),
            country: p.country.clone(),
            birthdate: p.birthdate.clone(),
            occupation: p.occupation.clone(),
            company: p.company.clone(),
            gender: p.gender.clone(),
            created_at: p.created_at,
            preferred_currency: p.preferences.currency.to_string(),
            is_premium: false,
        }
    }
}

#[derive(Serialize)]
struct ProfileBody<'a> {
    profile: &'a ProfileView,
}

pub async fn get<S: ProfileStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?;
    let found = store.profile(user).await?.ok_or(ApiError::NotFound)?;
    Ok(Reply::ok(&ProfileBody { profile: &ProfileView::from(&found.value) })?.etag(found.version))
}

/// Any subset of the view's fields. Absent or `null` leaves a field as it
/// is; `""` clears an optional one.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileUpdate {
    /// The display name (the seed's `name`).
    pub name: Option<String>,
    /// Read-only: accepted so the app can send back what it read, then ignored.
    pub created_at: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub postcode: Option<String>,
    pub country: Option<String>,
    pub birthdate: Option<String>,
    pub occupation: Option<String>,
    pub company: Option<String>,
    pub gender: Option<String>,
    pub preferred_currency: Option<String>,
    /// Read-only, like `createdAt`.
    pub is_premium: Option<bool>,
}

fn text(errors: &mut Vec<FieldError>, field: &str, v: &Option<String>, max: usize, ok: impl Fn(char) -> bool) -> Option<Option<String>> {
    let v = v.as_ref()?;
    let t = v.trim();
    if t.is_empty() {
        return Some(None);
    }
    if t.chars().count() > max {
        errors.push(FieldError::new(field, format!("must be at most {max} characters")));
    } else if !t.chars().all(|c| ok(c) && !c.is_control()) {
        errors.push(FieldError::new(field, "contains characters that are not allowed"));
    }
    Some(Some(t.to_string()))
}

impl ProfileUpdate {
    /// Checks every field, then applies them to `p` (nothing is applied if any is invalid).
    pub fn apply(&self, p: &mut UserProfile, today: chrono::NaiveDate) -> Result<(), ApiError> {
        let mut errors = Vec::new();
        let any = |_: char| true;
        let name_chars = |c: char| c.is_alphabetic() || " '-.".contains(c);
        let display_name = text(&mut errors, "name", &self.name, 100, any);
        let first_name = text(&mut errors, "firstName", &self.first_name, 100, name_chars);
        let last_name = text(&mut errors, "lastName", &self.last_name, 100, name_chars);
        let phone = text(&mut errors, "phone", &self.phone, 20, |c| c.is_ascii_digit() || "+ ()-".contains(c));
        let address = text(&mut errors, "address", &self.address, 200, any);
        let city = text(&mut errors, "city", &self.city, 100, any);
        let postcode = text(&mut errors, "postcode", &self.postcode, 10, |c| c.is_ascii_alphanumeric() || c == ' ');
        let country = text(&mut errors, "country", &self.country, 56, any);
        let occupation = text(&mut errors, "occupation", &self.occupation, 100, any);
        let company = text(&mut errors, "company", &self.company, 100, any);
        let gender = text(&mut errors, "gender", &self.gender, 30, any);
        let birthdate = match self.birthdate.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(b) => match time::parse_birthdate(b, today) {
                Ok(d) => Some(Some(time::format_date(d))),
                Err(e) => {
                    errors.push(FieldError::new("birthdate", e.to_string()));
                    None
                }
            },
        };
        let currency = match &self.preferred_currency {
            Some(c) => match Currency::new(c) {
                Ok(c) => Some(c),
                Err(_) => {
                    errors.push(FieldError::new("preferredCurrency", "must be a three-letter ISO 4217 code"));
                    None
                }
            },
            None => None,
        };
        let email = match self.email.as_deref().map(Email::parse_new) {
            Some(Ok(e)) => Some(e),
            Some(Err(_)) => {
                errors.push(FieldError::new("email", "is not a valid email address"));
                None
            }
            None => None,
        };
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let set = |slot: &mut Option<String>, v: Option<Option<String>>| {
            if let Some(v) = v {
                *slot = v;
            }
        };
        set(&mut p.first_name, first_name);
        set(&mut p.last_name, last_name);
        set(&mut p.phone, phone);
        set(&mut p.address, address);
        set(&mut p.city, city);
        set(&mut p.postcode, postcode);
        set(&mut p.country, country);
        set(&mut p.birthdate, birthdate);
        set(&mut p.occupation, occupation);
        set(&mut p.company, company);
        set(&mut p.gender, gender);
        if let Some(c) = currency {
            p.preferences.currency = c;
        }
        if let Some(e) = email {
            p.email = e;
        }
        // The seed's display name: as given, else it follows the personal names.
        match display_name {
            Some(Some(n)) => p.name = n,
            _ => {
                if let (Some(f), Some(l)) = (&p.first_name, &p.last_name) {
                    p.name = format!("{f} {l}");
                }
            }
        }
        Ok(())
    }
}

pub async fn put<S: ProfileStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let update: ProfileUpdate = ctx.json()?;
    let expected = if_match(&ctx);
    // Read-modify-write on the version read; a concurrent writer makes us re-read.
    let mut tries = expenzez_store::Retry::new(5);
    while tries.next().await {
        let current = store.profile(&user).await?.ok_or(ApiError::NotFound)?;
        if let Some(e) = expected {
            if e != Some(current.version) {
                return Err(ApiError::PreconditionFailed);
            }
        }
        let mut p = current.value.clone();
        update.apply(&mut p, store.now().date())?;
        p.updated_at = store.now();
        let email_changed = p.email != current.value.email;
        // A new email moves its uniqueness claim (and the GSI1 key) in the same transaction.
        let saved = if email_changed { store.move_email(&current, &p).await } else { store.save_profile(&p, current.version).await };
        match saved {
            Ok(v) => {
                if email_changed {
                    // A security event: the account's owner hears of it on their devices.
                    crate::notices::send(crate::notices::email_changed(&user, v, store.now())).await;
                }
                return Ok(Reply::ok(&ProfileBody { profile: &ProfileView::from(&p) })?.etag(v));
            }
            Err(e) if e.is_conflict() => {
                if p.email != current.value.email {
                    if let Some(owner) = store.email_owner(&p.email).await? {
                        if owner != user {
                            return Err(ApiError::Conflict { code: "EMAIL_TAKEN", message: "Another account uses this email.".into() });
                        }
                    }
                }
                if expected.is_some() {
                    return Err(ApiError::PreconditionFailed);
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Conflict { code: "VERSION_CONFLICT", message: "The profile is being changed elsewhere; retry.".into() })
}
