//! The parser on statement PDFs written in each bank's layout (lopdf), read
//! back through pdf-extract: the rows expected, and the refusals.

use chrono::NaiveDate;
use expenzez_domain::Money;
use expenzez_statements::parser::{ParseError, ParsedStatement};
use expenzez_statements::pdf::PdfError;
use expenzez_statements::sample::{self, left, right, row, Bank, Row, Sample};
use expenzez_statements::{parse_pdf, ReadError};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn sample(bank: Bank, start: NaiveDate, end: NaiveDate, opening: i64, rows: Vec<Row>, per_page: usize) -> Sample {
    Sample { bank, account_number: "31926819".into(), sort_code: "20-32-06".into(), start, end, opening, rows, rows_per_page: per_page }
}

/// (date, description, pence) of each parsed row.
fn got(p: &ParsedStatement) -> Vec<(NaiveDate, String, i64)> {
    p.rows.iter().map(|r| (r.date, r.description.clone(), r.amount.minor())).collect()
}

fn want(rows: &[Row]) -> Vec<(NaiveDate, String, i64)> {
    rows.iter()
        .map(|r| {
            let text = match &r.detail {
                Some(detail) => format!("{} {detail}", r.description),
                None => r.description.clone(),
            };
            (r.date, text, r.amount)
        })
        .collect()
}

fn read(s: &Sample) -> ParsedStatement {
    parse_pdf(&sample::statement(s)).unwrap_or_else(|e| panic!("{:?}: {e}", s.bank))
}

#[test]
fn barclays_multi_page_separate_columns_dates_without_a_year_across_new_year() {
    let rows = vec![
        row(d(2025, 12, 16), "CARD PAYMENT TO TESCO STORES 3297", -4_523),
        row(d(2025, 12, 16), "DIRECT DEBIT TO BRITISH GAS", -6_200),
        row(d(2025, 12, 19), "SALARY ACME LTD", 245_000),
        Row { detail: Some("ON 20 DEC".into()), ..row(d(2025, 12, 22), "CARD PAYMENT TO AMAZON.CO.UK", -1_999) },
        row(d(2025, 12, 28), "TRANSFER FROM J SMITH", 5_000),
        row(d(2025, 12, 31), "CARD PAYMENT TO PRET A MANGER", -675),
        row(d(2026, 1, 2), "CARD PAYMENT TO TFL TRAVEL CH", -280),
        row(d(2026, 1, 2), "CARD PAYMENT TO TFL TRAVEL CH", -280),
        row(d(2026, 1, 9), "STANDING ORDER TO LANDLORD", -95_000),
        row(d(2026, 1, 12), "REFUND FROM AMAZON.CO.UK", 1_999),
    ];
    let s = sample(Bank::Barclays, d(2025, 12, 15), d(2026, 1, 14), 123_456, rows.clone(), 4);
    let p = read(&s);
    assert_eq!((p.bank, p.account_identifier.as_str()), ("Barclays", "****6819"));
    assert_eq!((p.period_start, p.period_end), (d(2025, 12, 15), d(2026, 1, 14)));
    assert_eq!(got(&p), want(&rows));
    assert_eq!(p.opening_balance, Some(Money::from_minor(123_456)));
    let closing = 123_456 + rows.iter().map(|r| r.amount).sum::<i64>();
    assert_eq!(p.closing_balance, Some(Money::from_minor(closing)));
    // The explicit figures of two rows: a debit and a credit, each from its own column.
    assert_eq!(got(&p)[0], (d(2025, 12, 16), "CARD PAYMENT TO TESCO STORES 3297".to_string(), -4_523));
    assert_eq!(got(&p)[2], (d(2025, 12, 19), "SALARY ACME LTD".to_string(), 245_000));
}

#[test]
fn hsbc_details_over_two_lines_amount_on_the_last() {
    let rows = vec![
        Row { detail: Some("EDF ENERGY REF 99812".into()), ..row(d(2025, 8, 1), "DD", -7_450) },
        row(d(2025, 8, 1), "VIS SAINSBURYS S/MKTS", -3_212),
        Row { detail: Some("ACME LTD SALARY".into()), ..row(d(2025, 8, 4), "CR", 210_000) },
        row(d(2025, 8, 7), "))) COSTA COFFEE", -395),
        row(d(2025, 8, 30), "VIS NETFLIX.COM", -1_099),
    ];
    let s = sample(Bank::Hsbc, d(2025, 8, 1), d(2025, 8, 31), 50_000, rows.clone(), 3);
    let p = read(&s);
    assert_eq!(p.bank, "HSBC");
    assert_eq!((p.period_start, p.period_end), (d(2025, 8, 1), d(2025, 8, 31)));
    assert_eq!(got(&p), want(&rows));
    assert_eq!(got(&p)[0], (d(2025, 8, 1), "DD EDF ENERGY REF 99812".to_string(), -7_450));
}

#[test]
fn lloyds_money_in_before_money_out() {
    let rows = vec![
        row(d(2025, 9, 2), "TESCO STORES 2231", -1_842),
        row(d(2025, 9, 5), "HMRC TAX REFUND", 32_010),
        row(d(2025, 9, 5), "SHELL 4421", -6_000),
        row(d(2025, 9, 29), "VIRGIN MEDIA", -4_500),
    ];
    let s = sample(Bank::Lloyds, d(2025, 9, 1), d(2025, 9, 30), 10_000, rows.clone(), 25);
    let p = read(&s);
    assert_eq!((p.bank, p.account_identifier.as_str()), ("Lloyds", "****6819"));
    assert_eq!(got(&p), want(&rows));
    assert_eq!(p.opening_balance, Some(Money::from_minor(10_000)));
}

#[test]
fn monzo_one_signed_amount_column() {
    let rows = vec![
        row(d(2025, 10, 1), "Pret A Manger", -450),
        row(d(2025, 10, 3), "Transfer from Savings Pot", 20_000),
        row(d(2025, 10, 3), "Uber", -1_234),
    ];
    let s = sample(Bank::Monzo, d(2025, 10, 1), d(2025, 10, 31), 0, rows.clone(), 25);
    let p = read(&s);
    assert_eq!(p.bank, "Monzo");
    assert_eq!((p.period_start, p.period_end), (d(2025, 10, 1), d(2025, 10, 31)));
    assert_eq!(got(&p), want(&rows));
}

#[test]
fn nationwide_overdrawn_balances_and_dates_without_a_year() {
    let rows = vec![
        row(d(2025, 11, 3), "Contactless Payment LIDL GB", -2_575),
        row(d(2025, 11, 10), "Bank credit J SMITH", 4_000),
        row(d(2025, 11, 20), "Direct debit COUNCIL TAX", -15_100),
    ];
    let s = sample(Bank::Nationwide, d(2025, 11, 1), d(2025, 11, 30), 1_000, rows.clone(), 25);
    let p = read(&s);
    assert_eq!(p.bank, "Nationwide");
    assert_eq!(got(&p), want(&rows));
    assert_eq!(p.closing_balance, Some(Money::from_minor(1_000 - 2_575 + 4_000 - 15_100)));
}

fn page(lines: Vec<sample::Text>) -> Vec<u8> {
    sample::pdf(&[lines])
}

#[test]
fn refusals_are_specific_never_a_guess() {
    // Not a PDF at all.
    assert!(matches!(parse_pdf(b"Date,Description,Amount\n"), Err(ReadError::Pdf(PdfError::NotPdf))));
    // A PDF that cannot be read.
    assert!(matches!(parse_pdf(b"%PDF-1.5\n%garbage"), Err(ReadError::Pdf(PdfError::Unreadable))));
    // A PDF of no bank we know.
    let letter = page(vec![left(40.0, 800.0, "Dear customer,"), left(40.0, 780.0, "Date  Description  Amount")]);
    assert!(matches!(parse_pdf(&letter), Err(ReadError::Parse(ParseError::Unrecognised))));
    // A bank we know, a table we do not.
    let changed = page(vec![
        left(40.0, 800.0, "Barclays Bank UK PLC"),
        left(40.0, 780.0, "Account number 31926819"),
        left(40.0, 760.0, "Statement period 1 August 2025 - 31 August 2025"),
        left(40.0, 740.0, "When"),
        left(100.0, 740.0, "What"),
        right(400.0, 740.0, "How much"),
    ]);
    assert!(matches!(parse_pdf(&changed), Err(ReadError::Parse(ParseError::UnknownLayout { bank: "Barclays" }))));
    // A balance that disagrees with the amounts read.
    let wrong = page(vec![
        left(40.0, 800.0, "Monzo Bank Limited"),
        left(40.0, 780.0, "Account number: 31926819"),
        left(40.0, 760.0, "Statement period: 01/08/2025 - 31/08/2025"),
        left(40.0, 740.0, "Date"),
        left(110.0, 740.0, "Description"),
        right(460.0, 740.0, "(GBP) Amount"),
        right(560.0, 740.0, "(GBP) Balance"),
        left(40.0, 726.0, "02/08/2025"),
        left(110.0, 726.0, "Tesco"),
        right(460.0, 726.0, "-10.00"),
        right(560.0, 726.0, "90.00"),
        left(40.0, 712.0, "03/08/2025"),
        left(110.0, 712.0, "Boots"),
        right(460.0, 712.0, "-5.00"),
        right(560.0, 712.0, "80.00"),
    ]);
    assert!(matches!(parse_pdf(&wrong), Err(ReadError::Parse(ParseError::DoesNotReconcile { .. }))), "{:?}", parse_pdf(&wrong));
    // An amount that is not one.
    let bad = page(vec![
        left(40.0, 800.0, "Monzo Bank Limited"),
        left(40.0, 780.0, "Account number: 31926819"),
        left(40.0, 760.0, "Statement period: 01/08/2025 - 31/08/2025"),
        left(40.0, 740.0, "Date"),
        left(110.0, 740.0, "Description"),
        right(460.0, 740.0, "(GBP) Amount"),
        right(560.0, 740.0, "(GBP) Balance"),
        left(40.0, 726.0, "02/08/2025"),
        left(110.0, 726.0, "Tesco"),
        right(460.0, 726.0, "-10.5"),
    ]);
    assert!(matches!(parse_pdf(&bad), Err(ReadError::Parse(ParseError::BadRow { page: 1, .. }))), "{:?}", parse_pdf(&bad));
}

#[test]
fn amounts_are_read_exactly() {
    use expenzez_statements::parser::amount;
    let m = |s: &str| amount(s).map(|m| m.minor());
    assert_eq!(m("1,234.56"), Some(123_456));
    assert_eq!(m("-12.50"), Some(-1_250));
    assert_eq!(m("12.50-"), Some(-1_250));
    assert_eq!(m("£0.01"), Some(1));
    assert_eq!(m("(3.00)"), Some(-300));
    assert_eq!(m("45.00 D"), Some(-4_500));
    assert_eq!(m("45.00CR"), Some(4_500));
    assert_eq!(m("1,23.00"), None);
    assert_eq!(m("12.5"), None);
    assert_eq!(m("2025"), None);
    assert_eq!(m("0.1e3"), None);
}
