//! The one category taxonomy (APP-CONTRACT "Categories"): the names the app
//! shows and sends, what each is also called (the demo data's `eating_out`,
//! a bank's `Auto & Transport`, the app's own `Transport`), and how a bank
//! provider's classification maps into it. Every writer (manual entry, edits,
//! imports, bank sync, demo data) and every reader of an old item goes
//! through [`canonical`], so a category is stored, indexed (GSI3), summed and
//! filtered under one name.

use crate::keys::Category;

/// A category of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AppCategory {
    FoodAndDining,
    Groceries,
    Transportation,
    Shopping,
    Entertainment,
    BillsAndUtilities,
    HealthAndFitness,
    Travel,
    Education,
    PersonalCare,
    Home,
    GiftsAndDonations,
    /// Money in (salary, refunds, interest): the app recognises it by such words.
    Income,
    Other,
}

use AppCategory::*;

impl AppCategory {
    pub const ALL: [AppCategory; 14] = [
        FoodAndDining,
        Groceries,
        Transportation,
        Shopping,
        Entertainment,
        BillsAndUtilities,
        HealthAndFitness,
        Travel,
        Education,
        PersonalCare,
        Home,
        GiftsAndDonations,
        Income,
        Other,
    ];

    /// The stored name: the app's own.
    pub const fn name(self) -> &'static str {
        match self {
            FoodAndDining => "Food & Dining",
            Groceries => "Groceries",
            Transportation => "Transportation",
            Shopping => "Shopping",
            Entertainment => "Entertainment",
            BillsAndUtilities => "Bills & Utilities",
            HealthAndFitness => "Health & Fitness",
            Travel => "Travel",
            Education => "Education",
            PersonalCare => "Personal Care",
            Home => "Home",
            GiftsAndDonations => "Gifts & Donations",
            Income => "Income",
            Other => "Other",
        }
    }

    /// Other names of the category, in [`fold`]ed form (the name itself is
    /// matched too): the app's alternatives, the old demo data's snake_case
    /// names, TrueLayer's classifications and common bank CSV labels.
    const fn aliases(self) -> &'static [&'static str] {
        match self {
            FoodAndDining => &[
                "food",
                "dining",
                "eating out",
                "food and drink",
                "restaurants",
                "restaurant",
                "coffee shops",
                "fast food",
                "takeaway",
                "delivery",
                "alcohol and bars",
                "bars",
                "catering",
            ],
            Groceries => &["grocery", "supermarket", "supermarkets"],
            Transportation => &[
                "transport",
                "auto and transport",
                "public transport",
                "travel and transport",
                "taxi",
                "fuel",
                "gas and fuel",
                "parking",
                "car",
                "auto",
            ],
            Shopping => &["clothing", "electronics", "general merchandise", "shops", "retail"],
            Entertainment => &["leisure", "games", "movies", "music", "arts", "gambling", "sport", "hobbies"],
            BillsAndUtilities => &[
                "bills",
                "utilities",
                "utility",
                "bill payment",
                "bills and payments",
                "mobile phone",
                "phone",
                "internet",
                "television",
                "council tax",
                "insurance",
                "pension and insurances",
                "rent",
                "mortgage",
            ],
            HealthAndFitness => &["healthcare", "health", "fitness", "gym", "medical", "pharmacy", "health and wellbeing"],
            Travel => &["holiday", "holidays", "hotel", "hotels", "flights", "air travel", "vacation"],
            Education => &["tuition", "school", "books and supplies"],
            PersonalCare => &["personal services", "hair", "beauty", "spa and massage"],
            Home => &["household", "home improvement", "furnishings", "garden", "home services", "housing"],
            GiftsAndDonations => &["gifts", "gift", "donations", "donation", "charity", "charities"],
            Income => {
                &["salary", "wages", "paycheck", "payroll", "refund", "refunds", "interest", "dividend", "dividends", "bonus", "earnings"]
            }
            Other => &[
                "uncategorized",
                "uncategorised",
                "unknown",
                "misc",
                "miscellaneous",
                "general",
                "transfer",
                "transfers",
                "cash",
                "atm",
                "fees and charges",
                "fees",
                "business services",
                "investments",
                "taxes",
                "kids",
                "pets",
            ],
        }
    }

    /// The category a name stands for, compared as the app compares them
    /// (case-insensitively) and through the aliases; `None` when unknown.
    pub fn from_name(s: &str) -> Option<Self> {
        let f = fold(s);
        if f.is_empty() {
            return None;
        }
        Self::ALL.into_iter().find(|c| fold(c.name()) == f || c.aliases().contains(&f.as_str()))
    }

    /// As the key-safe [`Category`] stored on a transaction.
    pub fn category(self) -> Category {
        Category::new(self.name()).expect("the app's names are valid categories")
    }

    /// TrueLayer's classification of a transaction: `transaction_classification`
    /// (e.g. `["Food & Dining", "Groceries"]`, the more specific last) wins;
    /// else its `transaction_category` (`BILL_PAYMENT`, `INTEREST`, ...);
    /// `None` when neither says more than "a purchase".
    pub fn from_truelayer(classification: &[String], transaction_category: &str) -> Option<Self> {
        let top = classification.first().and_then(|c| Self::from_name(c));
        let sub = classification.get(1).and_then(|c| Self::from_name(c));
        // The class names the category; its sub-class only where that is a
        // category of the app's own ("Groceries" under "Food & Dining").
        let by_class = if sub == Some(Groceries) { sub } else { top.or(sub) };
        by_class.or(match transaction_category.trim().to_ascii_uppercase().as_str() {
            "BILL_PAYMENT" | "DIRECT_DEBIT" | "STANDING_ORDER" => Some(BillsAndUtilities),
            "INTEREST" | "DIVIDEND" | "CASHBACK" => Some(Income),
            "ATM" | "CASH" | "TRANSFER" | "FEE_CHARGE" | "CHEQUE" | "CORRECTION" => Some(Other),
            _ => None,
        })
    }
}

/// The comparable form of a category name: lower case, `&` as `and`, any
/// other run of punctuation, underscores or spaces as one space
/// (`"Eating_Out"`, `"eating out"`; `"Food & Dining"`, `"food and dining"`).
pub fn fold(s: &str) -> String {
    let spaced = s.to_lowercase().replace('&', " and ");
    spaced.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// The canonical category of any name: the app's name for a known one
/// (aliases included), else `Other`. What every stored category is.
pub fn canonical(s: &str) -> AppCategory {
    AppCategory::from_name(s).unwrap_or(Other)
}

/// The canonical [`Category`] of an existing one (an old item's category).
pub fn upgrade(c: &Category) -> Category {
    canonical(c.as_str()).category()
}

/// A category field naming none of the app's categories.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of the app's categories ({}), compared case-insensitively", accepted_names())]
pub struct UnknownCategory;

/// The stored category for a name a person sent (manual entry, an edit, a
/// filter): the app's name for it, or [`UnknownCategory`].
pub fn parse(s: &str) -> Result<Category, UnknownCategory> {
    AppCategory::from_name(s).map(AppCategory::category).ok_or(UnknownCategory)
}

/// What a category field accepts, for error messages.
pub fn accepted_names() -> String {
    AppCategory::ALL.iter().map(|c| c.name()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_their_own_canonical_form() {
        for c in AppCategory::ALL {
            assert_eq!(AppCategory::from_name(c.name()), Some(c));
            assert_eq!(AppCategory::from_name(&c.name().to_uppercase()), Some(c));
            assert_eq!(c.category().as_str(), c.name());
        }
    }

    #[test]
    fn aliases_fold_into_one_name() {
        for s in ["transport", "Transport", "TRANSPORTATION", "Transportation", "Auto & Transport", "auto_and_transport"] {
            assert_eq!(canonical(s), Transportation, "{s}");
        }
        assert_eq!(canonical("eating_out"), FoodAndDining);
        assert_eq!(canonical("Eating out"), FoodAndDining);
        assert_eq!(canonical("food & dining"), FoodAndDining);
        assert_eq!(canonical("Bills and Utilities"), BillsAndUtilities);
        assert_eq!(canonical("utilities"), BillsAndUtilities);
        assert_eq!(canonical("Healthcare"), HealthAndFitness);
        assert_eq!(canonical("groceries"), Groceries);
        assert_eq!(canonical("Something new"), Other);
        assert_eq!(canonical(""), Other);
    }

    #[test]
    fn no_alias_names_two_categories() {
        let mut seen = std::collections::BTreeMap::new();
        for c in AppCategory::ALL {
            for a in c.aliases().iter().copied().chain([fold(c.name()).leak() as &str]) {
                assert_eq!(fold(a), a, "alias {a} is not in folded form");
                if let Some(other) = seen.insert(a, c) {
                    panic!("{a} names both {other:?} and {c:?}");
                }
            }
        }
    }

    #[test]
    fn truelayer_classifications() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(AppCategory::from_truelayer(&v(&["Food & Dining", "Groceries"]), "PURCHASE"), Some(Groceries));
        assert_eq!(AppCategory::from_truelayer(&v(&["Food & Dining", "Restaurants"]), "PURCHASE"), Some(FoodAndDining));
        assert_eq!(AppCategory::from_truelayer(&v(&["Auto & Transport", "Public transport"]), "PURCHASE"), Some(Transportation));
        assert_eq!(AppCategory::from_truelayer(&v(&["Bills and Utilities", "Mobile Phone"]), "DIRECT_DEBIT"), Some(BillsAndUtilities));
        assert_eq!(AppCategory::from_truelayer(&v(&["Entertainment", "Games"]), "PURCHASE"), Some(Entertainment));
        assert_eq!(AppCategory::from_truelayer(&[], "INTEREST"), Some(Income));
        assert_eq!(AppCategory::from_truelayer(&[], "STANDING_ORDER"), Some(BillsAndUtilities));
        assert_eq!(AppCategory::from_truelayer(&[], "PURCHASE"), None);
    }
}
