//! The text of a statement PDF, with where it sits on the page.
//!
//! pdf-extract decodes the fonts and runs the content streams; instead of its
//! plain-text output (which loses the columns) we keep every glyph's position
//! and group the glyphs into [`Line`]s (glyphs on one baseline) made of
//! [`Cell`]s (runs of text separated by a gap wider than a few spaces), which
//! the parser assigns to the columns of a statement's table by position.
//! Positions are layout geometry (points), never money.

use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};

/// A run of text on one line, from `x0` to `x1` (points from the page's left edge).
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub x0: f64,
    pub x1: f64,
    pub text: String,
}

impl Cell {
    pub fn center(&self) -> f64 {
        (self.x0 + self.x1) / 2.0
    }
}

/// One line of a page (top to bottom), its cells left to right.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// 1-based page number.
    pub page: u32,
    /// Baseline, points from the page's bottom edge.
    pub y: f64,
    /// The largest text size on the line (points).
    pub size: f64,
    pub cells: Vec<Cell>,
}

impl Line {
    /// The line's text, cells separated by two spaces.
    pub fn text(&self) -> String {
        self.cells.iter().map(|c| c.text.as_str()).collect::<Vec<_>>().join("  ")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("the file is not a PDF")]
    NotPdf,
    #[error("the PDF could not be read")]
    Unreadable,
    #[error("the PDF is encrypted")]
    Encrypted,
}

#[derive(Debug, Clone)]
struct Glyph {
    x0: f64,
    x1: f64,
    y: f64,
    size: f64,
    text: String,
}

#[derive(Default)]
struct Collector {
    page: u32,
    glyphs: Vec<Glyph>,
    pages: Vec<(u32, Vec<Glyph>)>,
}

impl OutputDev for Collector {
    fn begin_page(&mut self, page_num: u32, _media_box: &MediaBox, _art_box: Option<(f64, f64, f64, f64)>) -> Result<(), OutputError> {
        self.page = page_num;
        self.glyphs.clear();
        Ok(())
    }
    fn end_page(&mut self) -> Result<(), OutputError> {
        let glyphs = std::mem::take(&mut self.glyphs);
        self.pages.push((self.page, glyphs));
        Ok(())
    }
    fn output_character(&mut self, trm: &Transform, width: f64, _spacing: f64, font_size: f64, ch: &str) -> Result<(), OutputError> {
        // The text rendering matrix without the font size: scale it by the size.
        let sx = (trm.m11 * trm.m11 + trm.m12 * trm.m12).sqrt();
        let sy = (trm.m21 * trm.m21 + trm.m22 * trm.m22).sqrt();
        let size = (font_size * sy).abs().max(0.1);
        let x0 = trm.m31;
        let x1 = x0 + width * font_size * sx;
        if x0.is_finite() && x1.is_finite() && trm.m32.is_finite() {
            self.glyphs.push(Glyph { x0, x1, y: trm.m32, size, text: ch.to_string() });
        }
        Ok(())
    }
    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

/// Largest PDF we read (statements are a few hundred KB).
pub const MAX_PDF_BYTES: usize = 10 * 1024 * 1024;
/// Most pages we read.
pub const MAX_PAGES: usize = 100;

/// The lines of every page of `bytes`, top to bottom. pdf-extract panics on
/// some malformed files: a panic is caught here and is [`PdfError::Unreadable`].
pub fn lines(bytes: &[u8]) -> Result<Vec<Line>, PdfError> {
    if !bytes.starts_with(b"%PDF-") {
        return Err(PdfError::NotPdf);
    }
    if bytes.len() > MAX_PDF_BYTES {
        return Err(PdfError::Unreadable);
    }
    let run = || -> Result<Vec<(u32, Vec<Glyph>)>, PdfError> {
        let doc = lopdf::Document::load_mem(bytes).map_err(|_| PdfError::Unreadable)?;
        if doc.is_encrypted() {
            return Err(PdfError::Encrypted);
        }
        if doc.get_pages().len() > MAX_PAGES {
            return Err(PdfError::Unreadable);
        }
        let mut c = Collector::default();
        pdf_extract::output_doc(&doc, &mut c).map_err(|_| PdfError::Unreadable)?;
        Ok(c.pages)
    };
    let pages = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).map_err(|_| PdfError::Unreadable)??;
    Ok(pages.into_iter().flat_map(|(page, glyphs)| group(page, glyphs)).collect())
}

/// Glyphs into lines (one baseline, within a third of the text size) and lines into cells.
fn group(page: u32, mut glyphs: Vec<Glyph>) -> Vec<Line> {
    glyphs.sort_by(|a, b| b.y.total_cmp(&a.y).then(a.x0.total_cmp(&b.x0)));
    let mut rows: Vec<(f64, Vec<Glyph>)> = Vec::new();
    for g in glyphs {
        match rows.last_mut() {
            Some((y, row)) if (*y - g.y).abs() <= g.size * 0.35 => row.push(g),
            _ => rows.push((g.y, vec![g])),
        }
    }
    rows.into_iter()
        .filter_map(|(y, mut row)| {
            row.sort_by(|a, b| a.x0.total_cmp(&b.x0));
            let mut cells: Vec<Cell> = Vec::new();
            let mut last: Option<&Glyph> = None;
            for g in &row {
                let gap = last.map(|l| g.x0 - l.x1);
                match (cells.last_mut(), gap) {
                    (Some(c), Some(gap)) if gap <= g.size * 1.2 => {
                        if gap > g.size * 0.15 && !c.text.ends_with(' ') && g.text != " " {
                            c.text.push(' ');
                        }
                        c.text.push_str(&g.text);
                        c.x1 = c.x1.max(g.x1);
                    }
                    _ => cells.push(Cell { x0: g.x0, x1: g.x1, text: g.text.clone() }),
                }
                last = Some(g);
            }
            let cells: Vec<Cell> = cells
                .into_iter()
                .map(|c| Cell { text: c.text.split_whitespace().collect::<Vec<_>>().join(" "), ..c })
                .filter(|c| !c.text.is_empty())
                .collect();
            let size = row.iter().map(|g| g.size).fold(0.0, f64::max);
            (!cells.is_empty()).then_some(Line { page, y, size, cells })
        })
        .collect()
}
