//! Sample statement PDFs in each layout the parser reads ([`crate::parser::LAYOUTS`]),
//! written with lopdf: the parser's tests, the end-to-end tests and `make dev`
//! use them. Text is set in Courier (every glyph 0.6 em wide), so right-aligned
//! amounts are placed exactly.

use chrono::{Datelike, NaiveDate};
use expenzez_domain::Money;
use lopdf::content::{Content, Operation};
use lopdf::{dictionary, Document, Object, StringFormat};

/// A piece of text on a page: `x` is its left edge, or its right edge when `right`.
#[derive(Debug, Clone)]
pub struct Text {
    pub x: f32,
    pub y: f32,
    pub size: f32,
    pub text: String,
    pub right: bool,
}

pub fn left(x: f32, y: f32, text: impl Into<String>) -> Text {
    Text { x, y, size: 9.0, text: text.into(), right: false }
}

pub fn right(x: f32, y: f32, text: impl Into<String>) -> Text {
    Text { x, y, size: 9.0, text: text.into(), right: true }
}

/// Windows-1252 bytes for the text (the font's encoding); `£` is 0xA3.
fn encode(s: &str) -> Vec<u8> {
    s.chars().map(|c| if (c as u32) < 256 { c as u32 as u8 } else { b'?' }).collect()
}

/// A PDF with one A4 page per entry of `pages`.
pub fn pdf(pages: &[Vec<Text>]) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Courier",
        "Encoding" => "WinAnsiEncoding",
    });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut kids: Vec<Object> = Vec::new();
    for page in pages {
        let mut ops = Vec::new();
        for t in page {
            let width = 0.6 * t.size * t.text.chars().count() as f32;
            let x = if t.right { t.x - width } else { t.x };
            ops.push(Operation::new("BT", vec![]));
            ops.push(Operation::new("Tf", vec!["F1".into(), t.size.into()]));
            ops.push(Operation::new("Td", vec![x.into(), t.y.into()]));
            ops.push(Operation::new("Tj", vec![Object::String(encode(&t.text), StringFormat::Literal)]));
            ops.push(Operation::new("ET", vec![]));
        }
        let content = Content { operations: ops }.encode().expect("content encodes");
        let content_id = doc.add_object(lopdf::Stream::new(dictionary! {}, content));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
            "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        });
        kids.push(page_id.into());
    }
    let count = kids.len() as i64;
    doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("a PDF in memory saves");
    out
}

/// The banks whose layouts [`statement`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bank {
    Barclays,
    Hsbc,
    Lloyds,
    Monzo,
    Nationwide,
}

/// One transaction of a sample statement.
#[derive(Debug, Clone)]
pub struct Row {
    pub date: NaiveDate,
    pub description: String,
    /// Signed pence: negative is money out.
    pub amount: i64,
    /// A second line of description (printed below, or above the amount for HSBC).
    pub detail: Option<String>,
}

pub fn row(date: NaiveDate, description: &str, amount: i64) -> Row {
    Row { date, description: description.into(), amount, detail: None }
}

/// What a sample statement holds.
#[derive(Debug, Clone)]
pub struct Sample {
    pub bank: Bank,
    pub account_number: String,
    pub sort_code: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// Pence.
    pub opening: i64,
    pub rows: Vec<Row>,
    pub rows_per_page: usize,
}

/// `1,234.56` (no sign).
pub fn money(minor: i64) -> String {
    let d = Money::from_minor(minor.abs()).to_decimal();
    let s = format!("{d:.2}");
    let (int, cents) = s.split_once('.').unwrap_or((&s, "00"));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{grouped}.{cents}")
}

fn mon(d: NaiveDate) -> &'static str {
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][d.month0() as usize]
}

fn long(d: NaiveDate) -> String {
    let m = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        [d.month0() as usize];
    format!("{} {m} {}", d.day(), d.year())
}

/// The statement as its bank would print it (our plausible rendering of each layout).
pub fn statement(s: &Sample) -> Vec<u8> {
    let mut pages: Vec<Vec<Text>> = Vec::new();
    let chunks: Vec<&[Row]> = s.rows.chunks(s.rows_per_page.max(1)).collect();
    let total = chunks.len();
    let mut balance = s.opening;
    for (n, chunk) in chunks.iter().enumerate() {
        let mut p = Vec::new();
        let first = n == 0;
        let last = n + 1 == total;
        let mut y = 800.0;
        // Page heading: the bank's name on every page, the details on the first.
        let (name, period) = match s.bank {
            Bank::Barclays => ("Barclays Bank UK PLC", format!("Statement period {} - {}", long(s.start), long(s.end))),
            Bank::Hsbc => (
                "HSBC UK Bank plc",
                format!(
                    "Your Statement {:02} {} to {:02} {} {}",
                    s.start.day(),
                    long(s.start).split(' ').nth(1).unwrap_or(""),
                    s.end.day(),
                    long(s.end).split(' ').nth(1).unwrap_or(""),
                    s.end.year()
                ),
            ),
            Bank::Lloyds => ("Lloyds Bank plc", format!("Statement period {} to {}", long(s.start), long(s.end))),
            Bank::Monzo => {
                ("Monzo Bank Limited", format!("Statement period: {} - {}", s.start.format("%d/%m/%Y"), s.end.format("%d/%m/%Y")))
            }
            Bank::Nationwide => ("Nationwide Building Society", format!("Period {} to {}", long(s.start), long(s.end))),
        };
        p.push(left(40.0, y, name));
        y -= 14.0;
        if first {
            p.push(left(40.0, y, "Mr J Smith"));
            y -= 14.0;
            p.push(left(40.0, y, format!("Sort code {}    Account number {}", s.sort_code, s.account_number)));
            y -= 14.0;
            p.push(left(40.0, y, period));
            y -= 14.0;
        }
        y -= 10.0;
        // The table's header and its columns: (x, right-aligned?) per column.
        let (titles, xs): (Vec<&str>, Vec<(f32, bool)>) = match s.bank {
            Bank::Barclays => (
                vec!["Date", "Description", "Money out", "Money in", "Balance"],
                vec![(40.0, false), (100.0, false), (400.0, true), (470.0, true), (550.0, true)],
            ),
            Bank::Hsbc => (
                vec!["Date", "Payment type and details", "Paid out", "Paid in", "Balance"],
                vec![(40.0, false), (100.0, false), (400.0, true), (470.0, true), (550.0, true)],
            ),
            Bank::Lloyds => (
                vec!["Date", "Description", "Type", "Money In (£)", "Money Out (£)", "Balance (£)"],
                vec![(40.0, false), (100.0, false), (290.0, false), (400.0, true), (490.0, true), (575.0, true)],
            ),
            Bank::Monzo => (
                vec!["Date", "Description", "(GBP) Amount", "(GBP) Balance"],
                vec![(40.0, false), (110.0, false), (460.0, true), (560.0, true)],
            ),
            Bank::Nationwide => (
                vec!["Date", "Description", "£Out", "£In", "£Balance"],
                vec![(40.0, false), (100.0, false), (400.0, true), (470.0, true), (550.0, true)],
            ),
        };
        for (t, (x, r)) in titles.iter().zip(&xs) {
            p.push(if *r { right(*x, y, *t) } else { left(*x, y, *t) });
        }
        y -= 14.0;
        let bal_x = xs.last().map(|x| x.0).unwrap_or(550.0);
        let desc_x = xs[1].0;
        // Opening balance line.
        let opening_label = match (s.bank, first) {
            (Bank::Barclays, true) => Some("Start balance"),
            (Bank::Barclays, false) => Some("Balance brought forward"),
            (Bank::Hsbc, _) => Some("BALANCE BROUGHT FORWARD"),
            (Bank::Nationwide, true) => Some("Balance from previous statement"),
            _ => None,
        };
        if let Some(label) = opening_label {
            p.push(left(desc_x, y, label));
            p.push(right(bal_x, y, money(balance) + if balance < 0 { " D" } else { "" }));
            y -= 14.0;
        }
        let mut prev_date: Option<NaiveDate> = None;
        for (i, r) in chunk.iter().enumerate() {
            balance += r.amount;
            let same_day_next = chunk.get(i + 1).is_some_and(|n| n.date == r.date);
            let date_text = match s.bank {
                Bank::Barclays => (prev_date != Some(r.date)).then(|| format!("{} {}", r.date.day(), mon(r.date))),
                Bank::Hsbc => {
                    (prev_date != Some(r.date)).then(|| format!("{:02} {} {:02}", r.date.day(), mon(r.date), r.date.year() % 100))
                }
                Bank::Lloyds => Some(format!("{:02} {} {:02}", r.date.day(), mon(r.date), r.date.year() % 100)),
                Bank::Monzo => Some(r.date.format("%d/%m/%Y").to_string()),
                Bank::Nationwide => Some(format!("{:02} {}", r.date.day(), mon(r.date))),
            };
            prev_date = Some(r.date);
            // HSBC: the details first, the amount on the last line.
            if let (Bank::Hsbc, Some(detail)) = (s.bank, &r.detail) {
                if let Some(d) = &date_text {
                    p.push(left(40.0, y, d.clone()));
                }
                p.push(left(desc_x, y, r.description.clone()));
                y -= 11.0;
                p.push(left(desc_x, y, detail.clone()));
            } else {
                if let Some(d) = &date_text {
                    p.push(left(40.0, y, d.clone()));
                }
                p.push(left(desc_x, y, r.description.clone()));
            }
            let amount = money(r.amount);
            match s.bank {
                Bank::Monzo => p.push(right(xs[2].0, y, if r.amount < 0 { format!("-{amount}") } else { amount })),
                Bank::Lloyds => {
                    p.push(left(xs[2].0, y, if r.amount < 0 { "DEB" } else { "FPI" }));
                    p.push(right(if r.amount < 0 { xs[4].0 } else { xs[3].0 }, y, amount));
                }
                _ => p.push(right(if r.amount < 0 { xs[2].0 } else { xs[3].0 }, y, amount)),
            }
            // Barclays and HSBC print the balance at the end of a day; the others on every row.
            let daily = matches!(s.bank, Bank::Barclays | Bank::Hsbc);
            if !daily || !same_day_next {
                p.push(right(bal_x, y, money(balance) + if balance < 0 { " D" } else { "" }));
            }
            if let (false, Some(detail)) = (s.bank == Bank::Hsbc, &r.detail) {
                y -= 11.0;
                p.push(left(desc_x, y, detail.clone()));
            }
            y -= 14.0;
        }
        let closing_label = match (s.bank, last) {
            (Bank::Barclays, true) => Some("End balance"),
            (Bank::Barclays | Bank::Hsbc, false) => Some("Balance carried forward"),
            (Bank::Hsbc, true) => Some("BALANCE CARRIED FORWARD"),
            (Bank::Nationwide, true) => Some("Closing balance"),
            _ => None,
        };
        if let Some(label) = closing_label {
            p.push(left(desc_x, y, label));
            p.push(right(bal_x, y, money(balance) + if balance < 0 { " D" } else { "" }));
        }
        p.push(left(40.0, 40.0, format!("Page {} of {}", n + 1, total)));
        p.push(left(40.0, 28.0, format!("{name} is authorised by the Prudential Regulation Authority.")));
        pages.push(p);
    }
    pdf(&pages)
}
