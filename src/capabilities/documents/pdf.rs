//! PDF, set with genpdf in DejaVu Sans: A4, headings, paragraphs, bullet lists, framed
//! tables with figures right-aligned, and a page per slide after each page break.

use super::markup::{Block, Span};
use genpdf::elements::{
    Break, FrameCellDecorator, PageBreak, Paragraph, TableLayout, UnorderedList,
};
use genpdf::fonts::{FontData, FontFamily};
use genpdf::style::Style;
use genpdf::{Alignment, Element};
use std::path::Path;

/// The four faces of DejaVu Sans, loaded once and shared by every render.
#[derive(Clone)]
pub struct Fonts(FontFamily<FontData>);

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fonts(DejaVu Sans)")
    }
}

/// The files of DejaVu Sans, regular, bold, italic, bold italic.
const FACES: [&str; 4] = [
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique.ttf",
];

impl Fonts {
    /// DejaVu Sans from `dir`.
    pub fn load(dir: &Path) -> Result<Fonts, String> {
        let face = |name: &str| {
            let path = dir.join(name);
            let bytes = std::fs::read(&path).map_err(|e| {
                format!(
                    "the font {} cannot be read ({e}); install DejaVu Sans (Debian: `apt-get install fonts-dejavu-core`) or point `[documents] font_dir` at a directory holding {}",
                    path.display(),
                    FACES.join(", ")
                )
            })?;
            FontData::new(bytes, None)
                .map_err(|e| format!("the font {} is not usable: {e}", path.display()))
        };
        Ok(Fonts(FontFamily {
            regular: face(FACES[0])?,
            bold: face(FACES[1])?,
            italic: face(FACES[2])?,
            bold_italic: face(FACES[3])?,
        }))
    }
}

/// `blocks` as a PDF titled `title`.
pub fn render(fonts: &Fonts, title: &str, blocks: &[Block]) -> Result<Vec<u8>, String> {
    let mut doc = genpdf::Document::new(fonts.0.clone());
    doc.set_title(title);
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
