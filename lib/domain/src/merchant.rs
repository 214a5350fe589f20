//! Merchant names as people mean them: "TESCO STORES 2345 LONDON GB" and
//! "Tesco Stores" are the same shop. Used to find a transaction's similar ones
//! and to pick a category for an imported row from its words.

/// Words that say nothing about who was paid: legal forms, places, card
/// network noise. Dropped when comparing names.
const NOISE: &[&str] = &[
    "ltd",
    "limited",
    "plc",
    "llp",
    "inc",
    "co",
    "uk",
    "gb",
    "gbr",
    "london",
    "www",
    "com",
    "card",
    "payment",
    "pmt",
    "purchase",
    "pos",
    "contactless",
    "visa",
    "debit",
    "mastercard",
    "the",
];

/// The comparable form of a merchant name: lower case, letters and digits
/// only, words with digits (store numbers, references, dates) and
/// [`NOISE`] words dropped. Empty when nothing meaningful is left.
pub fn normalise(name: &str) -> String {
    let lower = name.to_lowercase();
    let words = lower
        // "tesco.com" and "amzn*mktp" are split into their words.
        .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '&')
        .map(|w| w.trim_matches(|c| c == '\'' || c == '&'))
        .filter(|w| !w.is_empty() && !w.chars().any(|c| c.is_ascii_digit()) && !NOISE.contains(w));
    words.collect::<Vec<_>>().join(" ")
}

/// Whether two merchant names name the same merchant (their normal forms are
/// equal and not empty).
pub fn same(a: &str, b: &str) -> bool {
    let a = normalise(a);
    !a.is_empty() && a == normalise(b)
}

use crate::category::AppCategory::{self, *};

/// Keyword rules: the first rule with a word found in the text names the
/// category (the app's category names, APP-CONTRACT "Categories"). Income
/// first, so "salary from tesco" is income, not groceries.
const RULES: &[(AppCategory, &[&str])] = &[
    (Income, &["salary", "payroll", "wages", "refund", "interest paid", "dividend", "hmrc tax refund", "bacs credit"]),
    (
        Groceries,
        &["tesco", "sainsbury", "asda", "morrisons", "aldi", "lidl", "waitrose", "co-op", "coop", "ocado", "iceland", "m&s food", "grocer"],
    ),
    (
        FoodAndDining,
        &[
            "restaurant",
            "cafe",
            "coffee",
            "starbucks",
            "costa",
            "pret",
            "greggs",
            "mcdonald",
            "kfc",
            "nando",
            "deliveroo",
            "just eat",
            "uber eats",
            "pizza",
            "burger",
            "pub",
            "bar ",
            "takeaway",
        ],
    ),
    (
        Transportation,
        &[
            "tfl",
            "uber",
            "trainline",
            "national rail",
            "bus",
            "taxi",
            "petrol",
            "shell",
            "esso",
            "bp ",
            "parking",
            "ringgo",
            "rail",
            "fuel",
        ],
    ),
    (
        BillsAndUtilities,
        &[
            "british gas",
            "edf",
            "octopus energy",
            "e.on",
            "eon",
            "thames water",
            "council tax",
            "vodafone",
            "ee ",
            "o2",
            "three",
            "bt ",
            "virgin media",
            "sky",
            "electric",
            "energy",
            "broadband",
            "insurance",
            "rent",
            "mortgage",
        ],
    ),
    (Entertainment, &["netflix", "spotify", "disney", "cinema", "odeon", "vue", "steam", "playstation", "xbox", "ticketmaster"]),
    (Shopping, &["amazon", "amzn", "ebay", "argos", "john lewis", "primark", "asos", "ikea", "currys", "next ", "zara", "h&m"]),
    (HealthAndFitness, &["pharmacy", "boots", "superdrug", "gym", "puregym", "dentist", "nhs", "doctor", "optician", "fitness"]),
    (Travel, &["airline", "easyjet", "ryanair", "british airways", "hotel", "airbnb", "booking.com", "expedia"]),
    (Education, &["university", "school", "tuition", "course", "udemy", "books"]),
    (PersonalCare, &["barber", "hair", "salon", "spa", "beauty"]),
    (Home, &["b&q", "wickes", "homebase", "dunelm", "screwfix", "furniture"]),
    (GiftsAndDonations, &["donation", "charity", "oxfam", "justgiving", "gift"]),
];

/// The category the keyword rules give `text` (a description or merchant),
/// or `None` when no rule matches.
pub fn keyword_category(text: &str) -> Option<AppCategory> {
    // Padded with spaces so rules ending in a space ("bp ") also match at the end.
    let hay = format!(" {} ", text.to_lowercase());
    RULES.iter().find(|(_, words)| words.iter().any(|w| contains_word(&hay, w))).map(|(c, _)| *c)
}

/// `word` occurs in `hay` at the start of a word ("pub" is not found in "republic").
fn contains_word(hay: &str, word: &str) -> bool {
    hay.match_indices(word).any(|(i, _)| !hay[..i].chars().next_back().is_some_and(char::is_alphanumeric))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_forms() {
        assert_eq!(normalise("TESCO STORES 2345 LONDON GB"), "tesco stores");
        assert_eq!(normalise("Tesco Stores"), "tesco stores");
        assert_eq!(normalise("  AMAZON.CO.UK*MK1234 "), "amazon");
        assert_eq!(normalise("Amazon"), "amazon");
        assert_eq!(normalise("Marks & Spencer PLC"), "marks spencer");
        assert_eq!(normalise("1234 5678"), "");
        assert!(same("Pret A Manger 123", "PRET A MANGER"));
        assert!(!same("Pret", "Greggs"));
        assert!(!same("123", "456"), "nothing meaningful left is never the same");
    }

    #[test]
    fn keyword_rules() {
        assert_eq!(keyword_category("TESCO STORES 2345"), Some(Groceries));
        assert_eq!(keyword_category("Salary ACME Ltd"), Some(Income));
        assert_eq!(keyword_category("TFL TRAVEL CH"), Some(Transportation));
        assert_eq!(keyword_category("NETFLIX.COM"), Some(Entertainment));
        assert_eq!(keyword_category("BP"), Some(Transportation));
        assert_eq!(keyword_category("Zzz unknown"), None);
        // Word starts only: "stop" does not contain the rule "pub"/"tesco" etc.
        assert_eq!(keyword_category("republic"), None);
    }
}
