//! A document's text is Markdown (what its template renders, what `format=md` serves);
//! PDF and DOCX are both set from the same blocks read from it here: headings,
//! paragraphs with bold and italic, bullet lists, tables, and a rule (`---`) as a page
//! break, which makes each slide of a deck its own page.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// A run of text with its emphasis.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Span {
    /// The text.
    pub text: String,
    /// Set in bold.
    pub bold: bool,
    /// Set in italic.
    pub italic: bool,
}

/// One block of a document.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A heading, level 1 to 6.
    Heading(u8, Vec<Span>),
    /// A paragraph.
    Paragraph(Vec<Span>),
    /// A bullet list, one item per entry.
    List(Vec<Vec<Span>>),
    /// A table: its header row, then its rows; `right` marks right-aligned columns
    /// (figures).
    Table {
        /// The header cells.
        header: Vec<Vec<Span>>,
        /// The body rows.
        rows: Vec<Vec<Vec<Span>>>,
        /// Per column: right-aligned.
        right: Vec<bool>,
    },
    /// A new page.
    PageBreak,
}

/// The plain text of `spans`.
pub fn plain(spans: &[Span]) -> String {
    spans.iter().map(|s| s.text.as_str()).collect()
}

/// A table being read: header, rows, right-aligned columns.
type TableParts = (Vec<Vec<Span>>, Vec<Vec<Vec<Span>>>, Vec<bool>);

/// The blocks of Markdown `text`. Anything else Markdown can say (links, code, quotes)
/// is kept as its text.
pub fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut spans: Vec<Span> = Vec::new();
    let (mut bold, mut italic) = (0u32, 0u32);
    let mut heading: Option<u8> = None;
    let mut list: Option<Vec<Vec<Span>>> = None;
    let mut table: Option<TableParts> = None;
    let mut row: Vec<Vec<Span>> = Vec::new();
    for event in Parser::new_ext(text, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => heading = Some(level as u8),
            Event::End(TagEnd::Heading(_)) => {
                out.push(Block::Heading(
                    heading.take().unwrap_or(1),
                    take(&mut spans),
                ));
            }
            Event::Start(Tag::Strong) => bold += 1,
            Event::End(TagEnd::Strong) => bold = bold.saturating_sub(1),
            Event::Start(Tag::Emphasis) => italic += 1,
            Event::End(TagEnd::Emphasis) => italic = italic.saturating_sub(1),
            Event::Start(Tag::List(_)) => list = Some(Vec::new()),
            Event::End(TagEnd::List(_)) => {
                if let Some(items) = list.take() {
                    out.push(Block::List(items));
                }
            }
            Event::End(TagEnd::Item) => {
                let item = take(&mut spans);
                if let Some(items) = list.as_mut() {
                    items.push(item);
                }
            }
            // A paragraph inside a list item belongs to the item.
            Event::End(TagEnd::Paragraph) if list.is_none() => {
                out.push(Block::Paragraph(take(&mut spans)));
            }
            Event::Start(Tag::Table(align)) => {
                let right = align
                    .iter()
                    .map(|a| *a == pulldown_cmark::Alignment::Right)
                    .collect();
                table = Some((Vec::new(), Vec::new(), right));
            }
            Event::End(TagEnd::TableHead) => {
                if let Some(t) = table.as_mut() {
                    t.0 = take(&mut row);
                }
            }
            Event::End(TagEnd::TableRow) => {
                if let Some(t) = table.as_mut() {
                    t.1.push(take(&mut row));
                }
            }
            Event::End(TagEnd::TableCell) => row.push(take(&mut spans)),
            Event::End(TagEnd::Table) => {
                if let Some((header, rows, right)) = table.take() {
                    out.push(Block::Table {
                        header,
                        rows,
                        right,
                    });
                }
            }
            Event::Rule => out.push(Block::PageBreak),
            Event::Text(t) | Event::Code(t) => spans.push(Span {
                text: t.to_string(),
                bold: bold > 0,
                italic: italic > 0,
            }),
            // A line ended with a backslash starts a new line: outside lists and
            // tables, a paragraph of its own.
            Event::HardBreak if list.is_none() && table.is_none() => {
                out.push(Block::Paragraph(take(&mut spans)));
            }
            Event::SoftBreak | Event::HardBreak => spans.push(Span {
                text: " ".into(),
                ..Default::default()
            }),
            _ => {}
        }
    }
    if !spans.is_empty() {
        out.push(Block::Paragraph(spans));
    }
    out
}

fn take<T>(v: &mut Vec<T>) -> Vec<T> {
    std::mem::take(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_the_blocks_both_writers_set() {
        let b = blocks(
            "# Proposal for Acme\n\nPrepared for **Sarah Chen**, *Acme*.\n\n- one\n- two\n\n| Item | Amount |\n|---|---:|\n| Seats | $19,200.00 |\n\n---\n\n## Next\n",
        );
        assert_eq!(
            plain(match &b[0] {
                Block::Heading(1, s) => s,
                other => panic!("{other:?}"),
            }),
            "Proposal for Acme"
        );
        let Block::Paragraph(p) = &b[1] else { panic!() };
        assert!(p.iter().any(|s| s.bold && s.text == "Sarah Chen"));
        assert!(p.iter().any(|s| s.italic && s.text == "Acme"));
        assert_eq!(
            b[2],
            Block::List(vec![
                vec![Span {
                    text: "one".into(),
                    ..Default::default()
                }],
                vec![Span {
                    text: "two".into(),
                    ..Default::default()
                }]
            ])
        );
        let Block::Table {
            header,
            rows,
            right,
        } = &b[3]
        else {
            panic!("{:?}", b[3])
        };
        assert_eq!(plain(&header[1]), "Amount");
        assert_eq!(plain(&rows[0][1]), "$19,200.00");
        assert_eq!(right, &vec![false, true]);
        assert_eq!(b[4], Block::PageBreak);
        assert!(matches!(&b[5], Block::Heading(2, _)));
    }
}
