//! Reading a CV: the text of a PDF (pdf-extract, which reads fonts, encodings and
//! ToUnicode maps) or of a DOCX (a zip of XML: each paragraph of `word/document.xml` a
//! line). A file that is neither, is damaged, or holds no text (a scanned image) is an
//! error saying which, so the candidate can be asked for another. Parsing is blocking
//! and CPU-bound: [`read`] runs it off the async threads, and a parser that panics on a
//! strange file answers an error rather than taking the employee down.

use std::io::Read;
use std::path::Path;

/// The largest CV read, in bytes (a CV is a few pages).
const MAX_BYTES: u64 = 10 << 20;

/// What kind of file a CV is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CvFormat {
    /// PDF.
    Pdf,
    /// Word (Office Open XML).
    Docx,
}

impl CvFormat {
    /// The format of an attachment by its MIME type or file name; `None` for others.
    pub fn of(content_type: &str, name: &str) -> Option<CvFormat> {
        let ct = content_type.to_ascii_lowercase();
        let name = name.to_ascii_lowercase();
        if ct == "application/pdf" || name.ends_with(".pdf") {
            Some(CvFormat::Pdf)
        } else if ct == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            || name.ends_with(".docx")
        {
            Some(CvFormat::Docx)
        } else {
            None
        }
    }
}

/// Why a CV could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CvError {
    /// The file is gone or too large.
    #[error("the file could not be read: {0}")]
    File(String),
    /// The file is damaged or not what its name says.
    #[error("it could not be opened as a {kind}: {reason}")]
    Damaged {
        /// `PDF` or `DOCX`.
        kind: &'static str,
        /// What the parser said.
        reason: String,
    },
    /// It opened but holds no text (a scan, an image).
    #[error("it holds no text that can be read (is it a scanned image?)")]
    NoText,
}

/// The text of the CV at `path`.
pub async fn read(path: &Path, format: CvFormat) -> Result<String, CvError> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || read_blocking(&path, format))
        .await
        .unwrap_or_else(|_| {
            Err(CvError::Damaged {
                kind: kind(format),
                reason: "the reader gave up on it".into(),
            })
        })
}

fn kind(format: CvFormat) -> &'static str {
    match format {
        CvFormat::Pdf => "PDF",
        CvFormat::Docx => "DOCX",
    }
}

fn read_blocking(path: &Path, format: CvFormat) -> Result<String, CvError> {
    let size = std::fs::metadata(path)
        .map_err(|e| CvError::File(e.to_string()))?
        .len();
    if size > MAX_BYTES {
        return Err(CvError::File(format!(
            "it is {} MB; a CV of at most {} MB is read",
            size >> 20,
            MAX_BYTES >> 20
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| CvError::File(e.to_string()))?;
    let text = match format {
        CvFormat::Pdf => pdf_text(&bytes)?,
        CvFormat::Docx => docx_text(&bytes)?,
    };
    let text = tidy(&text);
    if text.chars().filter(|c| c.is_alphanumeric()).count() < 20 {
        return Err(CvError::NoText);
    }
    Ok(text)
}

/// The text of a PDF. The reader may panic on a malformed file; that is a damaged
/// file too.
pub fn pdf_text(bytes: &[u8]) -> Result<String, CvError> {
    let damaged = |reason: String| CvError::Damaged {
        kind: "PDF",
        reason,
    };
    std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(bytes))
        .map_err(|_| damaged("its structure could not be followed".into()))?
        .map_err(|e| damaged(e.to_string()))
}

/// The text of a DOCX: each paragraph a line, tabs and breaks kept.
pub fn docx_text(bytes: &[u8]) -> Result<String, CvError> {
    let damaged = |reason: String| CvError::Damaged {
        kind: "DOCX",
        reason,
    };
    let mut zip =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| damaged(e.to_string()))?;
    let mut xml = String::new();
    zip.by_name("word/document.xml")
        .map_err(|e| damaged(format!("word/document.xml: {e}")))?
        .take(MAX_BYTES * 4)
        .read_to_string(&mut xml)
        .map_err(|e| damaged(format!("word/document.xml: {e}")))?;
    let doc = roxmltree::Document::parse(&xml).map_err(|e| damaged(e.to_string()))?;
    let mut out = String::new();
    for p in doc.descendants().filter(|n| {
        n.has_tag_name((
            "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
            "p",
        ))
    }) {
        for n in p.descendants() {
            match n.tag_name().name() {
                "t" => out.push_str(n.text().unwrap_or("")),
                "tab" => out.push('\t'),
                "br" | "cr" => out.push('\n'),
                _ => {}
            }
        }
        out.push('\n');
    }
    Ok(out)
}

/// Lines trimmed at the end, runs of blank lines made one.
fn tidy(text: &str) -> String {
    let mut out = String::new();
    let mut blank = true;
    for line in text.lines().map(str::trim_end) {
        if line.trim().is_empty() {
            if !blank {
                out.push('\n');
            }
            blank = true;
            continue;
        }
        out.push_str(line);
        out.push('\n');
        blank = false;
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_known_by_type_or_name() {
        assert_eq!(CvFormat::of("application/pdf", "x"), Some(CvFormat::Pdf));
        assert_eq!(
            CvFormat::of("application/octet-stream", "Ada CV.DOCX"),
            Some(CvFormat::Docx)
        );
        assert_eq!(CvFormat::of("image/png", "cv.png"), None);
    }

    #[test]
    fn a_damaged_docx_says_so() {
        let e = docx_text(b"not a zip").unwrap_err();
        assert!(matches!(e, CvError::Damaged { kind: "DOCX", .. }), "{e}");
    }

    #[test]
    fn a_damaged_pdf_says_so() {
        let e = pdf_text(b"%PDF-1.4 nothing").unwrap_err();
        assert!(matches!(e, CvError::Damaged { kind: "PDF", .. }), "{e}");
    }

    #[test]
    fn blank_runs_collapse() {
        assert_eq!(tidy("\n\na  \n\n\n b\n\n"), "a\n\n b");
    }
}
