//! PDF, set with genpdf in DejaVu Sans: A4, headings, paragraphs, bullet lists, framed
//! tables with figures right-aligned, and a page per slide after each page break.

use super::markup::{Block, Span};
use genpdf::elements::{
    Break, FrameCellDecorator, PageBreak, Paragraph, TableLayout, UnorderedList,
};
use genpdf::fonts::{Builtin, FontData, FontFamily};
use genpdf::style::Style;
use genpdf::{Alignment, Element};
use std::path::Path;

/// The fonts PDFs are set in, loaded once and shared by every render: the PDF standard
/// Helvetica (not embedded: a proposal is a few kilobytes), measured with Liberation
/// Sans, whose metrics are Helvetica's, for text within the standard fonts' character
/// set (WinAnsi: Latin-1 and the usual typographic marks); DejaVu Sans, embedded, for
/// any other text.
#[derive(Clone)]
pub struct Fonts {
    standard: Option<FontFamily<FontData>>,
    unicode: Result<FontFamily<FontData>, String>,
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Fonts(standard: {}, unicode: {})",
            self.standard.is_some(),
            self.unicode.is_ok()
        )
    }
}

/// DejaVu Sans's files: regular, bold, italic, bold italic.
const DEJAVU: [&str; 4] = [
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique.ttf",
];

fn dejavu(dir: &Path) -> Result<FontFamily<FontData>, String> {
    let face = |name: &str| {
        let path = dir.join(name);
        let bytes = std::fs::read(&path)
            .map_err(|e| format!("the font {} cannot be read ({e})", path.display()))?;
        FontData::new(bytes, None)
            .map_err(|e| format!("the font {} is not usable: {e}", path.display()))
    };
    Ok(FontFamily {
        regular: face(DEJAVU[0])?,
        bold: face(DEJAVU[1])?,
        italic: face(DEJAVU[2])?,
        bold_italic: face(DEJAVU[3])?,
    })
}

impl Fonts {
    /// DejaVu Sans from `unicode_dir` and Liberation Sans from `standard_dir`; either
    /// may be missing, not both.
    pub fn load(unicode_dir: &Path, standard_dir: &Path) -> Result<Fonts, String> {
        let unicode = dejavu(unicode_dir).map_err(|e| {
            format!(
                "{e}: text outside Latin-1 cannot be set; install DejaVu Sans (Debian: `apt-get install fonts-dejavu-core`) or point `[documents] font_dir` at a directory holding {}",
                DEJAVU.join(", ")
            )
        });
        // LiberationSans-Regular.ttf, -Bold, -Italic, -BoldItalic.
        let standard =
            genpdf::fonts::from_files(standard_dir, "LiberationSans", Some(Builtin::Helvetica))
                .ok();
        match (&standard, &unicode) {
            (None, Err(e)) => Err(format!(
                "{e}; and Liberation Sans, which Latin-1 documents are measured with, is missing too (Debian: `apt-get install fonts-liberation2`, or `[documents] standard_font_dir`)"
            )),
            _ => Ok(Fonts { standard, unicode }),
        }
    }

    /// The fonts for a document whose text is `text`: the standard ones when every
    /// character is theirs.
    fn for_text<'a>(
        &self,
        mut text: impl Iterator<Item = &'a str>,
    ) -> Result<&FontFamily<FontData>, String> {
        match &self.standard {
            Some(s) if text.all(|t| t.chars().all(win_ansi)) => Ok(s),
            _ => self.unicode.as_ref().map_err(Clone::clone),
        }
    }
}

/// Whether the PDF standard fonts (WinAnsiEncoding) can show `c`.
fn win_ansi(c: char) -> bool {
    matches!(c, ' '..='~' | '\u{a0}'..='\u{ff}') || "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ".contains(c)
}

/// `blocks` as a PDF titled `title`.
pub fn render(fonts: &Fonts, title: &str, blocks: &[Block]) -> Result<Vec<u8>, String> {
    let texts = std::iter::once(title).chain(blocks.iter().flat_map(block_texts));
    let mut doc = genpdf::Document::new(fonts.for_text(texts)?.clone());
    doc.set_title(title);
    // No ICC profile or XMP metadata: they would add more than half a megabyte.
    doc.set_minimal_conformance();
    doc.set_font_size(10);
    doc.set_line_spacing(1.25);
    let mut page = genpdf::SimplePageDecorator::new();
    page.set_margins(18);
    doc.set_page_decorator(page);
    for block in blocks {
        match block {
            Block::Heading(level, spans) => {
                let size = match level {
                    1 => 20,
                    2 => 14,
                    _ => 12,
                };
                doc.push(Break::new(0.5));
                doc.push(paragraph(spans).styled(Style::new().bold().with_font_size(size)));
                doc.push(Break::new(0.3));
            }
            Block::Paragraph(spans) => {
                doc.push(paragraph(spans));
                doc.push(Break::new(0.5));
            }
            Block::List(items) => {
                let mut list = UnorderedList::new();
                for item in items {
                    list.push(paragraph(item));
                }
                doc.push(list);
                doc.push(Break::new(0.5));
            }
            Block::Table {
                header,
                rows,
                right,
            } => {
                doc.push(table(header, rows, right)?);
                doc.push(Break::new(0.5));
            }
            Block::PageBreak => doc.push(PageBreak::new()),
        }
    }
    let mut out = Vec::new();
    doc.render(&mut out)
        .map_err(|e| format!("the PDF could not be set: {e}"))?;
    Ok(out)
}

/// Every piece of text in `b`.
fn block_texts(b: &Block) -> Vec<&str> {
    fn spans(s: &[Span]) -> impl Iterator<Item = &str> {
        s.iter().map(|x| x.text.as_str())
    }
    match b {
        Block::Heading(_, s) | Block::Paragraph(s) => spans(s).collect(),
        Block::List(items) => items.iter().flat_map(|i| spans(i)).collect(),
        Block::Table { header, rows, .. } => header
            .iter()
            .chain(rows.iter().flatten())
            .flat_map(|c| spans(c))
            .collect(),
        Block::PageBreak => Vec::new(),
    }
}

fn paragraph(spans: &[Span]) -> Paragraph {
    let mut p = Paragraph::default();
    for s in spans {
        let mut style = Style::new();
        if s.bold {
            style = style.bold();
        }
        if s.italic {
            style = style.italic();
        }
        p.push_styled(s.text.clone(), style);
    }
    p
}

fn table(
    header: &[Vec<Span>],
    rows: &[Vec<Vec<Span>>],
    right: &[bool],
) -> Result<TableLayout, String> {
    let columns = header.len().max(1);
    // The first column (what) gets the room; figures get a share each.
    let weights = (0..columns).map(|i| if i == 0 { 3 } else { 2 }).collect();
    let mut t = TableLayout::new(weights);
    t.set_cell_decorator(FrameCellDecorator::new(true, true, false));
    let cell = |spans: &[Span], i: usize, bold: bool| {
        let mut p = paragraph(spans);
        if right.get(i).copied().unwrap_or(false) {
            p.set_alignment(Alignment::Right);
        }
        let style = if bold {
            Style::new().bold()
        } else {
            Style::new()
        };
        p.styled(style).padded(1)
    };
    let mut r = t.row();
    for (i, h) in header.iter().enumerate() {
        r.push_element(cell(h, i, true));
    }
    r.push()
        .map_err(|e| format!("a table header could not be set: {e}"))?;
    for row in rows {
        let mut r = t.row();
        for i in 0..columns {
            r.push_element(cell(row.get(i).map_or(&[][..], |c| c), i, false));
        }
        r.push()
            .map_err(|e| format!("a table row could not be set: {e}"))?;
    }
    Ok(t)
}
