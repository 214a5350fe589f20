//! The statement parser: pure code from a PDF's positioned lines
//! ([`crate::pdf::Line`]) to a [`ParsedStatement`], or a [`ParseError`] that
//! says why not. It never guesses: a statement is read only when its bank's
//! layout is recognised, every row of its table is read, and the running
//! balance the statement prints agrees with the amounts read.
//!
//! # The layouts
//!
//! Each layout ([`LAYOUTS`]) is recognised by its bank's legal name printed
//! above the transactions table on page 1, and by the titles of that table's
//! columns (every page repeats them). Column titles are matched whole
//! (case-insensitive); a cell belongs to the column whose title is nearest
//! to it horizontally, so credits and debits printed in separate columns are
//! told apart by where they are printed, never by guessing from the text.
//!
//! | bank | name printed | columns | row dates | balance lines |
//! |---|---|---|---|---|
//! | Barclays | `Barclays Bank UK PLC` | Date, Description, Money out, Money in, Balance | `3 Aug` (no year), printed on a day's first row only | `Start balance`, `Balance brought/carried forward`, `End balance` |
//! | HSBC | `HSBC UK Bank plc` | Date, Payment type and details, Paid out, Paid in, Balance | `03 Aug 25`; a long payment's details run over two lines, the amount on the last | `BALANCE BROUGHT/CARRIED FORWARD` |
//! | Lloyds | `Lloyds Bank plc` | Date, Description, Type, Money In (£), Money Out (£), Balance (£) (in before out) | `03 Aug 25` | none: every row prints its balance |
//! | Monzo | `Monzo Bank Limited` | Date, Description, (GBP) Amount, (GBP) Balance | `03/08/2025`; one signed amount column | none: every row prints its balance |
//! | Nationwide | `Nationwide Building Society` | Date, Description, £Out, £In, £Balance | `03 Aug` (no year) | `Balance from previous statement`, `Closing balance` |
//!
//! The account identifier is the number printed after `Account number` (or
//! `Account No`), returned masked (`****5678`); the period is the two dates
//! after the layout's period label (`Statement period`, `Your statement`,
//! `Period`); a first date without a year takes the second's. A row date
//! without a year takes the year that puts it in the statement period.
//!
//! Inside the table: a line with a date (or, in Barclays' layout, an amount
//! under an earlier date) is a transaction; a line of description text only
//! continues the transaction above (or precedes the amount on the next
//! line); a balance line is a checkpoint of the running balance; any other
//! line ends the table on that page (footers). A line with an amount that is
//! none of these is an error ([`ParseError::BadRow`]), as is a balance that
//! disagrees with the amounts read ([`ParseError::DoesNotReconcile`]).

use crate::pdf::{Cell, Line};
use chrono::{Datelike, NaiveDate};
use expenzez_domain::{mask, Money};

/// A column of a statement's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Date,
    Description,
    /// A payment-type code (Lloyds' `DEB`, `FPI`...): kept apart from the description.
    Type,
    Out,
    In,
    /// One signed amount column (negative is money out).
    Amount,
    Balance,
}

/// One bank's statement layout.
#[derive(Debug)]
pub struct Layout {
    pub bank: &'static str,
    /// Lower-case text one of which is printed above the table on page 1.
    markers: &'static [&'static str],
    /// Column titles (lower case) in print order.
    columns: &'static [(Col, &'static str)],
    /// Labels before the statement period (lower case).
    period_labels: &'static [&'static str],
    /// Descriptions of balance lines (lower case).
    balance_lines: &'static [&'static str],
    /// Rows without a date belong to the date above (a day's date printed once).
    date_carries: bool,
    /// Where a transaction printed over several lines has its amount.
    wrap: Wrap,
}

/// How a transaction's description runs over several lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrap {
    /// The amount is on the first line; the lines below it continue the description.
    FirstLine,
    /// The description's lines come first; the amount is on the last.
    LastLine,
}

pub const LAYOUTS: &[Layout] = &[
    Layout {
        bank: "Barclays",
        markers: &["barclays bank uk plc"],
        columns: &[
            (Col::Date, "date"),
            (Col::Description, "description"),
            (Col::Out, "money out"),
            (Col::In, "money in"),
            (Col::Balance, "balance"),
        ],
        period_labels: &["statement period"],
        balance_lines: &["start balance", "balance brought forward", "balance carried forward", "end balance"],
        date_carries: true,
        wrap: Wrap::FirstLine,
    },
    Layout {
        bank: "HSBC",
        markers: &["hsbc uk bank plc"],
        columns: &[
            (Col::Date, "date"),
            (Col::Description, "payment type and details"),
            (Col::Out, "paid out"),
            (Col::In, "paid in"),
            (Col::Balance, "balance"),
        ],
        period_labels: &["your statement"],
        balance_lines: &["balance brought forward", "balance carried forward"],
        date_carries: true,
        wrap: Wrap::LastLine,
    },
    Layout {
        bank: "Lloyds",
        markers: &["lloyds bank plc"],
        columns: &[
            (Col::Date, "date"),
            (Col::Description, "description"),
            (Col::Type, "type"),
            (Col::In, "money in (£)"),
            (Col::Out, "money out (£)"),
            (Col::Balance, "balance (£)"),
        ],
        period_labels: &["statement period"],
        balance_lines: &[],
        date_carries: false,
        wrap: Wrap::FirstLine,
    },
    Layout {
        bank: "Monzo",
        markers: &["monzo bank limited"],
        columns: &[(Col::Date, "date"), (Col::Description, "description"), (Col::Amount, "(gbp) amount"), (Col::Balance, "(gbp) balance")],
        period_labels: &["statement period"],
        balance_lines: &[],
        date_carries: false,
        wrap: Wrap::FirstLine,
    },
    Layout {
        bank: "Nationwide",
        markers: &["nationwide building society"],
        columns: &[
            (Col::Date, "date"),
            (Col::Description, "description"),
            (Col::Out, "£out"),
            (Col::In, "£in"),
            (Col::Balance, "£balance"),
        ],
        period_labels: &["period"],
        balance_lines: &["balance from previous statement", "closing balance"],
        date_carries: false,
        wrap: Wrap::FirstLine,
    },
];

/// One transaction as printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRow {
    pub date: NaiveDate,
    pub description: String,
    /// Signed: negative is money out.
    pub amount: Money,
    /// The balance printed on the row, if any.
    pub balance: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedStatement {
    pub bank: &'static str,
    /// Masked (`****5678`).
    pub account_identifier: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// The balance before the first row, when printed or implied by a row's balance.
    pub opening_balance: Option<Money>,
    /// The balance after the last row, when printed.
    pub closing_balance: Option<Money>,
    pub rows: Vec<ParsedRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("this is not a statement layout we recognise (we read Barclays, HSBC, Lloyds, Monzo and Nationwide statements)")]
    Unrecognised,
    #[error("this {bank} statement's layout is not one we know (its transactions table was not found)")]
    UnknownLayout { bank: &'static str },
    #[error("the {bank} statement's {what} was not found")]
    Missing { bank: &'static str, what: &'static str },
    #[error("line {line} of page {page} could not be read: {reason}")]
    BadRow { page: u32, line: usize, reason: &'static str },
    #[error("the balance printed on page {page} ({printed}) does not match the transactions read ({computed})")]
    DoesNotReconcile { page: u32, printed: String, computed: String },
    #[error("the statement lists no transactions")]
    NoTransactions,
}

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// The header line's columns: (column, x-range of its title).
fn header_of(layout: &Layout, line: &Line) -> Option<Vec<(Col, f64, f64)>> {
    let cells: Vec<String> = line.cells.iter().map(|c| norm(&c.text)).collect();
    layout
        .columns
        .iter()
        .map(|(col, title)| cells.iter().position(|c| c == title).map(|i| (*col, line.cells[i].x0, line.cells[i].x1)))
        .collect()
}

/// Reads a statement from its lines.
pub fn parse(lines: &[Line]) -> Result<ParsedStatement, ParseError> {
    let first_page = lines.first().map(|l| l.page).unwrap_or(1);
    let page1: Vec<&Line> = lines.iter().filter(|l| l.page == first_page).collect();
    let mut named = None;
    for layout in LAYOUTS {
        let header_at = page1.iter().position(|l| header_of(layout, l).is_some());
        let preamble = &page1[..header_at.unwrap_or(page1.len())];
        let has_marker = preamble.iter().any(|l| {
            let t = norm(&l.text());
            layout.markers.iter().any(|m| t.contains(m))
        });
        match (has_marker, header_at) {
            (true, Some(_)) => return read(layout, lines, preamble),
            (true, None) => named = named.or(Some(layout.bank)),
            _ => {}
        }
    }
    Err(named.map(|bank| ParseError::UnknownLayout { bank }).unwrap_or(ParseError::Unrecognised))
}

/// A date as printed: day, month and maybe a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Printed {
    day: u32,
    month: u32,
    year: Option<i32>,
}

fn month_of(s: &str) -> Option<u32> {
    const MONTHS: [&str; 12] =
        ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];
    let s = s.trim_end_matches(['.', ',']).to_lowercase();
    if s.len() < 3 {
        return None;
    }
    MONTHS.iter().position(|m| m.starts_with(&s) || (s == "sept" && *m == "september")).map(|i| i as u32 + 1)
}

fn year_of(s: &str) -> Option<i32> {
    let s = s.trim_end_matches([',', '.']);
    match s.len() {
        4 if s.chars().all(|c| c.is_ascii_digit()) => s.parse().ok(),
        2 if s.chars().all(|c| c.is_ascii_digit()) => s.parse::<i32>().ok().map(|y| 2000 + y),
        _ => None,
    }
}

fn day_of(s: &str) -> Option<u32> {
    (s.len() <= 2 && !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
        .filter(|d| (1..=31).contains(d))
}

/// `03/08/2025`, `03/08/25`.
fn slashed(s: &str) -> Option<Printed> {
    let parts: Vec<&str> = s.split('/').collect();
    let [d, m, y] = parts.as_slice() else { return None };
    let month = day_of(m).filter(|m| *m <= 12)?;
    Some(Printed { day: day_of(d)?, month, year: Some(year_of(y)?) })
}

/// Every date in `text`, in order: `1 August 2025`, `1 Aug`, `03 Aug 25`, `01/08/2025`.
fn dates_in(text: &str) -> Vec<Printed> {
    let tokens: Vec<&str> = text.split(|c: char| c.is_whitespace() || c == ',').filter(|t| !t.is_empty()).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if let Some(p) = slashed(tokens[i]) {
            out.push(p);
            i += 1;
            continue;
        }
        if let (Some(day), Some(month)) = (day_of(tokens[i]), tokens.get(i + 1).and_then(|t| month_of(t))) {
            let year = tokens.get(i + 2).and_then(|t| year_of(t));
            out.push(Printed { day, month, year });
            i += if year.is_some() { 3 } else { 2 };
            continue;
        }
        i += 1;
    }
    out
}

/// The text is exactly one date.
fn row_date(text: &str) -> Option<Printed> {
    let tokens = text.split_whitespace().count();
    let dates = dates_in(text);
    match dates.as_slice() {
        [d] if tokens
            == if d.year.is_some() && !text.contains('/') {
                3
            } else if text.contains('/') {
                1
            } else {
                2
            } =>
        {
            Some(*d)
        }
        _ => None,
    }
}

/// A printed date in the statement's period: without a year, the year that
/// puts it inside the period (a month's slack either side).
fn resolve(p: Printed, start: NaiveDate, end: NaiveDate) -> Option<NaiveDate> {
    if let Some(y) = p.year {
        return NaiveDate::from_ymd_opt(y, p.month, p.day);
    }
    let (lo, hi) = (start - chrono::Duration::days(31), end + chrono::Duration::days(31));
    (start.year()..=end.year()).filter_map(|y| NaiveDate::from_ymd_opt(y, p.month, p.day)).find(|d| *d >= lo && *d <= hi)
}

/// An amount as printed: `1,234.56`, `-12.50`, `12.50-`, `£12.50`, `(12.50)`,
/// with an optional `CR` / `DR` / `D` / `OD` after it. Always two decimals.
pub fn amount(text: &str) -> Option<Money> {
    let mut s = text.trim().replace('£', "");
    let mut negative = false;
    for (suffix, neg) in
        [(" CR", false), ("CR", false), (" DR", true), ("DR", true), (" OD", true), ("OD", true), (" D", true), ("D", true)]
    {
        if let Some(rest) = s.strip_suffix(suffix) {
            s = rest.trim().to_string();
            negative = neg;
            break;
        }
    }
    if let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        s = inner.to_string();
        negative = !negative;
    }
    if let Some(rest) = s.strip_prefix('-').or_else(|| s.strip_suffix('-')) {
        s = rest.to_string();
        negative = !negative;
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest.to_string();
    }
    let (int, cents) = s.split_once('.')?;
    if cents.len() != 2 || !cents.chars().all(|c| c.is_ascii_digit()) || int.is_empty() {
        return None;
    }
    let groups: Vec<&str> = int.split(',').collect();
    let grouped = groups.len() == 1 || (groups[0].len() <= 3 && !groups[0].is_empty() && groups[1..].iter().all(|g| g.len() == 3));
    if !grouped || !groups.iter().all(|g| g.chars().all(|c| c.is_ascii_digit())) {
        return None;
    }
    let m = Money::parse(&format!("{}.{cents}", groups.concat())).ok()?;
    Some(if negative { -m } else { m })
}

fn account_in(lines: &[&Line]) -> Option<String> {
    for l in lines {
        let t = l.text();
        let lower = t.to_lowercase();
        for label in ["account number", "account no"] {
            if let Some(at) = lower.find(label) {
                let rest = &t[at + label.len()..];
                let digits: String = rest
                    .trim_start_matches(|c: char| c == '.' || c == ':' || c.is_whitespace())
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == ' ')
                    .filter(char::is_ascii_digit)
                    .collect();
                if digits.len() >= 6 {
                    return Some(mask::account_number(&digits));
                }
            }
        }
    }
    None
}

fn period_in(layout: &Layout, lines: &[&Line]) -> Option<(NaiveDate, NaiveDate)> {
    for l in lines {
        let t = l.text();
        let lower = t.to_lowercase();
        for label in layout.period_labels {
            let Some(at) = lower.find(label) else { continue };
            let dates = dates_in(&t[at + label.len()..]);
            let [a, b, ..] = dates.as_slice() else { continue };
            let end = NaiveDate::from_ymd_opt(b.year?, b.month, b.day)?;
            let start_year = a.year.unwrap_or(if a.month > b.month { end.year() - 1 } else { end.year() });
            let start = NaiveDate::from_ymd_opt(start_year, a.month, a.day)?;
            if start <= end && (end - start).num_days() <= 400 {
                return Some((start, end));
            }
        }
    }
    None
}

/// The cells of a line by column: each cell goes to the column whose title is
/// nearest (zero when the cell's centre lies under the title).
fn by_column<'a>(header: &[(Col, f64, f64)], cells: &'a [Cell]) -> Vec<(Col, &'a Cell)> {
    cells
        .iter()
        .map(|c| {
            let x = c.center();
            let d = |(_, x0, x1): &(Col, f64, f64)| {
                if x < *x0 {
                    x0 - x
                } else if x > *x1 {
                    x - x1
                } else {
                    0.0
                }
            };
            let best = header.iter().min_by(|a, b| d(a).total_cmp(&d(b))).map(|h| h.0).unwrap_or(Col::Description);
            (best, c)
        })
        .collect()
}

struct Pending {
    date: Option<NaiveDate>,
    description: String,
    page: u32,
    line: usize,
}

fn read(layout: &'static Layout, lines: &[Line], preamble: &[&Line]) -> Result<ParsedStatement, ParseError> {
    let bank = layout.bank;
    let account_identifier = account_in(preamble).ok_or(ParseError::Missing { bank, what: "account number" })?;
    let (start, end) = period_in(layout, preamble).ok_or(ParseError::Missing { bank, what: "statement period" })?;
    let mut rows: Vec<ParsedRow> = Vec::new();
    let mut opening: Option<Money> = None;
    let mut running: Option<Money> = None;
    let mut date: Option<NaiveDate> = None;
    let mut pending: Option<Pending> = None;
    let mut header: Option<Vec<(Col, f64, f64)>> = None;
    let mut page = 0;
    let mut line_no = 0;
    let mut rows_on_page = 0usize;
    let mut prev_y: Option<f64> = None;
    let check = |running: &mut Option<Money>,
                 opening: &mut Option<Money>,
                 rows: &[ParsedRow],
                 printed: Money,
                 page: u32|
     -> Result<(), ParseError> {
        match *running {
            None => {
                let sum = rows.iter().try_fold(Money::ZERO, |acc, r| acc.checked_add(r.amount)).ok_or(ParseError::NoTransactions)?;
                *opening = printed.checked_sub(sum);
                *running = Some(printed);
                Ok(())
            }
            Some(r) if r == printed => Ok(()),
            Some(r) => {
                Err(ParseError::DoesNotReconcile { page, printed: printed.to_decimal().to_string(), computed: r.to_decimal().to_string() })
            }
        }
    };
    for l in lines {
        if l.page != page {
            if let Some(p) = pending.take() {
                return Err(ParseError::BadRow { page: p.page, line: p.line, reason: "a transaction without an amount" });
            }
            page = l.page;
            line_no = 0;
            header = None;
            rows_on_page = 0;
        }
        line_no += 1;
        let Some(h) = &header else {
            header = header_of(layout, l);
            prev_y = header.as_ref().map(|_| l.y);
            continue;
        };
        let bad = |reason| ParseError::BadRow { page, line: line_no, reason };
        let cells = by_column(h, &l.cells);
        let mut description = Vec::new();
        let (mut date_text, mut out, mut inn, mut signed, mut balance) = (None, None, None, None, None);
        for (col, cell) in &cells {
            let slot = match col {
                Col::Description => {
                    description.push(cell.text.as_str());
                    continue;
                }
                Col::Type => continue,
                Col::Date => &mut date_text,
                Col::Out => &mut out,
                Col::In => &mut inn,
                Col::Amount => &mut signed,
                Col::Balance => &mut balance,
            };
            if slot.replace(cell.text.as_str()).is_some() {
                return Err(bad("two values in one column"));
            }
        }
        let description = description.join(" ");
        let money = |t: Option<&str>| t.map(|t| amount(t).ok_or(bad("an amount that is not a number with two decimals"))).transpose();
        let (out, inn, signed, balance) = (money(out)?, money(inn)?, money(signed)?, money(balance)?);
        let has_amount = out.is_some() || inn.is_some() || signed.is_some();
        let text = norm(&description);
        if !has_amount && layout.balance_lines.iter().any(|b| text == *b) {
            if pending.is_some() {
                return Err(bad("a transaction without an amount"));
            }
            if let Some(b) = balance {
                check(&mut running, &mut opening, &rows, b, page)?;
            }
            prev_y = Some(l.y);
            continue;
        }
        let printed_date = match date_text {
            Some(t) => match row_date(t) {
                Some(p) => Some(resolve(p, start, end).ok_or(bad("a date outside the statement period"))?),
                None if has_amount => return Err(bad("a date that is not one")),
                None => {
                    // A footer that starts in the date column: the table ends on this page.
                    header = None;
                    continue;
                }
            },
            None => None,
        };
        if !has_amount {
            if balance.is_some() {
                return Err(bad("a balance without an amount"));
            }
            // Text continues a transaction only right below the line before it.
            let adjacent = prev_y.is_some_and(|py| py - l.y <= l.size.max(1.0) * 2.0);
            if description.is_empty() || !adjacent {
                if let Some(p) = pending.take() {
                    return Err(ParseError::BadRow { page: p.page, line: p.line, reason: "a transaction without an amount" });
                }
                header = None;
                continue;
            }
            match layout.wrap {
                Wrap::FirstLine => match rows.last_mut() {
                    Some(last) if printed_date.is_none() && rows_on_page > 0 => {
                        last.description = format!("{} {description}", last.description);
                    }
                    _ if printed_date.is_some() => return Err(bad("a transaction without an amount")),
                    _ => {
                        header = None;
                        continue;
                    }
                },
                Wrap::LastLine => match pending.as_mut() {
                    Some(_) if printed_date.is_some() => return Err(bad("a transaction without an amount")),
                    Some(p) => p.description = format!("{} {description}", p.description),
                    None => pending = Some(Pending { date: printed_date, description, page, line: line_no }),
                },
            }
            prev_y = Some(l.y);
            continue;
        }
        let amount = match (out, inn, signed) {
            (Some(o), None, None) => -o.abs(),
            (None, Some(i), None) => i.abs(),
            (None, None, Some(s)) => s,
            _ => return Err(bad("amounts in both the out and in columns")),
        };
        if amount.is_zero() {
            return Err(bad("a zero amount"));
        }
        let mut description = description;
        let mut row_date = printed_date;
        if let Some(p) = pending.take() {
            if printed_date.is_some() {
                return Err(ParseError::BadRow { page: p.page, line: p.line, reason: "a transaction without an amount" });
            }
            description = format!("{} {description}", p.description).trim().to_string();
            row_date = p.date;
        }
        let row_date = match row_date {
            Some(d) => d,
            None if layout.date_carries => date.ok_or(bad("a transaction before any date"))?,
            None => return Err(bad("a transaction without a date")),
        };
        date = Some(row_date);
        if description.is_empty() {
            return Err(bad("a transaction without a description"));
        }
        rows.push(ParsedRow { date: row_date, description, amount, balance });
        rows_on_page += 1;
        prev_y = Some(l.y);
        if let Some(r) = running.as_mut() {
            *r = r.checked_add(amount).ok_or(bad("an amount out of range"))?;
        }
        if let Some(b) = balance {
            check(&mut running, &mut opening, &rows, b, page)?;
        }
    }
    if let Some(p) = pending {
        return Err(ParseError::BadRow { page: p.page, line: p.line, reason: "a transaction without an amount" });
    }
    if rows.is_empty() {
        return Err(ParseError::NoTransactions);
    }
    Ok(ParsedStatement {
        bank,
        account_identifier,
        period_start: start,
        period_end: end,
        opening_balance: opening,
        closing_balance: running,
        rows,
    })
}
