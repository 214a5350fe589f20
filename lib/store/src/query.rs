use crate::item::Item;
use expenzez_domain::entities::RESTRICTED_ATTRIBUTES;
use expenzez_domain::keys::{self, Index};
use serde::de::DeserializeOwned;

/// A condition on the sort key (of the table or of the index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    Equals(String),
    BeginsWith(String),
    /// Inclusive on both ends.
    Between(String, String),
    LessOrEqual(String),
    GreaterOrEqual(String),
}

/// One Query on the table or a GSI. The cursor is bound to `owner` and to
/// this query's shape ([`Query::fingerprint`]).
#[derive(Debug, Clone)]
pub struct Query {
    pub index: Option<Index>,
    pub pk: String,
    pub sk: Option<SortKey>,
    pub descending: bool,
    pub limit: Option<u32>,
    pub projection: Option<Vec<String>>,
    pub consistent: bool,
    pub cursor: Option<String>,
    pub owner: String,
}

impl Query {
    /// Largest page DynamoDB is asked for in one call.
    pub const MAX_LIMIT: u32 = 1000;

    /// A query on the table's own key. `owner` is who may continue it with a cursor.
    pub fn table(owner: impl Into<String>, pk: impl Into<String>) -> Self {
        Self {
            index: None,
            pk: pk.into(),
            sk: None,
            descending: false,
            limit: None,
            projection: None,
            consistent: false,
            cursor: None,
            owner: owner.into(),
        }
    }
    pub fn index(owner: impl Into<String>, index: Index, pk: impl Into<String>) -> Self {
        Self { index: Some(index), ..Self::table(owner, pk) }
    }
    pub fn sort_key(mut self, sk: SortKey) -> Self {
        self.sk = Some(sk);
        self
    }
    pub fn begins_with(self, prefix: impl Into<String>) -> Self {
        self.sort_key(SortKey::BeginsWith(prefix.into()))
    }
    pub fn between(self, lo: impl Into<String>, hi: impl Into<String>) -> Self {
        self.sort_key(SortKey::Between(lo.into(), hi.into()))
    }
    pub fn descending(mut self) -> Self {
        self.descending = true;
        self
    }
    pub fn limit(mut self, n: u32) -> Self {
        self.limit = Some(n.clamp(1, Self::MAX_LIMIT));
        self
    }
    /// Reads only the attributes `T` reads: the serde names of its fields
    /// (`rename` and `rename_all` applied), so the projection cannot drift
    /// from the row it is read into. With a restricted attribute among them,
    /// also `PK` and `SK`, which its decryption is bound to.
    ///
    /// # Panics
    /// If `T` is not a struct with named fields (e.g. it `flatten`s): a
    /// programming error that any test running the query finds.
    pub fn project_as<T: DeserializeOwned>(mut self) -> Self {
        let fields = serde_aux::serde_introspection::serde_introspect::<T>();
        assert!(!fields.is_empty(), "project_as::<{}>: not a struct with named fields", std::any::type_name::<T>());
        let mut attrs: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
        if fields.iter().any(|f| RESTRICTED_ATTRIBUTES.contains(f)) {
            for k in [keys::PK, keys::SK] {
                if !fields.contains(&k) {
                    attrs.push(k.to_string());
                }
            }
        }
        self.projection = Some(attrs);
        self
    }
    pub fn consistent(mut self) -> Self {
        self.consistent = true;
        self
    }
    pub fn after(mut self, cursor: Option<String>) -> Self {
        self.cursor = cursor;
        self
    }

    /// What a cursor is bound to: everything that shapes the result, except
    /// the page size and the cursor itself.
    pub fn fingerprint(&self) -> String {
        let index = self.index.map(Index::name).unwrap_or("table");
        let sk = match &self.sk {
            None => String::new(),
            Some(SortKey::Equals(v)) => format!("eq:{v}"),
            Some(SortKey::BeginsWith(v)) => format!("bw:{v}"),
            Some(SortKey::Between(a, b)) => format!("bt:{a}\u{0}{b}"),
            Some(SortKey::LessOrEqual(v)) => format!("le:{v}"),
            Some(SortKey::GreaterOrEqual(v)) => format!("ge:{v}"),
        };
        let dir = if self.descending { "desc" } else { "asc" };
        let proj = self.projection.as_ref().map(|p| p.join(",")).unwrap_or_default();
        format!("{index}\u{0}{}\u{0}{sk}\u{0}{dir}\u{0}{proj}", self.pk)
    }

    pub(crate) fn key_attributes(&self) -> (&'static str, &'static str) {
        match self.index {
            None => (keys::PK, keys::SK),
            Some(i) => i.attributes(),
        }
    }
}

/// One page of results, and the sealed cursor for the next page if any.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next: self.next }
    }
}

pub(crate) type RawPage = Page<Item>;

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[test]
    fn a_projection_is_the_serde_names_of_its_row() {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code)]
        struct Row {
            device_id: String,
            #[serde(rename = "GSI1SK")]
            due: String,
            last_seen_at: Option<i64>,
            #[serde(default)]
            lock_count: u32,
        }
        let q = Query::table("u", "USER#u").project_as::<Row>();
        assert_eq!(q.projection.unwrap(), ["deviceId", "GSI1SK", "lastSeenAt", "lockCount"]);
    }

    #[test]
    fn a_restricted_attribute_brings_the_key_its_decryption_is_bound_to() {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code)]
        struct Numbers {
            account_number: String,
            iban_masked: String,
        }
        assert!(RESTRICTED_ATTRIBUTES.contains(&"accountNumber"));
        let q = Query::table("u", "USER#u").project_as::<Numbers>();
        assert_eq!(q.projection.unwrap(), ["accountNumber", "ibanMasked", keys::PK, keys::SK]);
    }

    #[test]
    #[should_panic(expected = "not a struct with named fields")]
    fn a_row_without_named_fields_is_refused() {
        let _ = Query::table("u", "USER#u").project_as::<std::collections::HashMap<String, String>>();
    }
}
