//! DOCX, written with docx-rs: headings in Word's own heading styles (so a reader's
//! outline and table of contents work), paragraphs with bold and italic, bullet items,
//! tables with figures right-aligned, and page breaks.

use super::markup::{Block, Span};
use docx_rs::{
    AlignmentType, BreakType, Docx, Paragraph, Run, Style, StyleType, Table, TableCell, TableRow,
};

/// `blocks` as a DOCX file.
pub fn render(blocks: &[Block]) -> Result<Vec<u8>, String> {
    let mut doc = Docx::new();
    for (level, size) in [(1, 40), (2, 28), (3, 24)] {
        doc = doc.add_style(
            Style::new(format!("Heading{level}"), StyleType::Paragraph)
                .name(format!("Heading {level}"))
                .bold()
                .size(size),
        );
    }
    let mut break_before = false;
    for block in blocks {
        let first = std::mem::take(&mut break_before);
        doc = match block {
            Block::Heading(level, spans) => doc.add_paragraph(
                paragraph(spans)
                    .style(&format!("Heading{}", (*level).clamp(1, 3)))
                    .page_break_before(first),
            ),
            Block::Paragraph(spans) => doc.add_paragraph(paragraph(spans).page_break_before(first)),
            Block::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    let bullet = Run::new().add_text("• ");
                    doc = doc.add_paragraph(
                        Paragraph::new()
                            .add_run(bullet)
                            .add_run_list(item)
                            .page_break_before(first && i == 0),
                    );
                }
                doc
            }
            Block::Table {
                header,
                rows,
                right,
            } => {
                if first {
                    doc = doc.add_paragraph(
                        Paragraph::new().add_run(Run::new().add_break(BreakType::Page)),
                    );
                }
                let row = |cells: &[Vec<Span>], bold: bool| {
                    TableRow::new(
                        (0..header.len())
                            .map(|i| {
                                let spans = cells.get(i).map_or(&[][..], |c| c);
                                let mut p = paragraph(spans);
                                if bold {
                                    p = p.bold();
                                }
                                if right.get(i).copied().unwrap_or(false) {
                                    p = p.align(AlignmentType::Right);
                                }
                                TableCell::new().add_paragraph(p)
                            })
                            .collect(),
                    )
                };
                let mut table_rows = vec![row(header, true)];
                table_rows.extend(rows.iter().map(|r| row(r, false)));
                doc.add_table(Table::new(table_rows))
            }
            Block::PageBreak => {
                break_before = true;
                doc
            }
        };
    }
    let mut out = std::io::Cursor::new(Vec::new());
    doc.build()
        .pack(&mut out)
        .map_err(|e| format!("the DOCX could not be written: {e}"))?;
    Ok(out.into_inner())
}

trait Runs {
    fn add_run_list(self, spans: &[Span]) -> Self;
}

impl Runs for Paragraph {
    fn add_run_list(mut self, spans: &[Span]) -> Self {
        for s in spans {
            let mut run = Run::new().add_text(s.text.clone());
            if s.bold {
                run = run.bold();
            }
            if s.italic {
                run = run.italic();
            }
            self = self.add_run(run);
        }
        self
    }
}

fn paragraph(spans: &[Span]) -> Paragraph {
    Paragraph::new().add_run_list(spans)
}
