use crate::item::Item;
use expenzez_domain::keys::{self, Index};

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
    pub fn project(mut self, attrs: &[&str]) -> Self {
        self.projection = Some(attrs.iter().map(|a| a.to_string()).collect());
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
