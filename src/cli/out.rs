//! What the commands print: lines and tables on standard output.
//!
//! Every command writes through here (the `outln!` macro), never with `println!`: when
//! the reader goes away (`empla list | head -1`), a write fails with [`StdoutClosed`]
//! instead of panicking, and `main` ends quietly on it, as `git` and `kubectl` do.

use std::io::Write;

/// Standard output was closed by its reader; nothing more can be printed.
#[derive(Debug, thiserror::Error)]
#[error("standard output was closed")]
pub struct StdoutClosed;

/// Why a write to standard output failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OutError {
    /// The reader went away.
    #[error(transparent)]
    Closed(#[from] StdoutClosed),
    /// Anything else (a full disk behind a redirection).
    #[error("cannot write to standard output: {0}")]
    Io(std::io::Error),
}

impl From<std::io::Error> for OutError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            OutError::Closed(StdoutClosed)
        } else {
            OutError::Io(e)
        }
    }
}

/// Whether `e` says only that standard output was closed (`main` ends quietly then).
pub fn is_stdout_closed(e: &anyhow::Error) -> bool {
    e.chain()
        .any(|c| c.is::<StdoutClosed>() || matches!(c.downcast_ref(), Some(OutError::Closed(_))))
}

/// Writes one line to standard output.
pub(crate) fn line(args: std::fmt::Arguments<'_>) -> Result<(), OutError> {
    let mut out = std::io::stdout().lock();
    out.write_fmt(args)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Writes `bytes` as they are to standard output.
pub(crate) fn bytes(bytes: &[u8]) -> Result<(), OutError> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()?;
    Ok(())
}

/// Rows under a header, each column as wide as its widest cell (the last unpadded).
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut text = String::new();
        for (i, cell) in row.iter().enumerate().take(columns) {
            if i + 1 == columns {
                text.push_str(cell);
            } else {
                let pad = widths[i] - cell.chars().count();
                text.push_str(cell);
                text.push_str(&" ".repeat(pad + 2));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out.pop();
    out
}

/// `text` on one line, at most `max` characters (an ellipsis when cut).
pub(crate) fn one_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_pads_each_column_to_its_widest_cell() {
        let t = table(
            &["HANDLE", "NAME", "ROLE"],
            &[
                vec!["jordan.lee".into(), "Jordan Lee".into(), "sales_ae".into()],
                vec!["al".into(), "Al".into(), "ea".into()],
            ],
        );
        assert_eq!(
            t,
            "HANDLE      NAME        ROLE\n\
             jordan.lee  Jordan Lee  sales_ae\n\
             al          Al          ea"
        );
    }

    #[test]
    fn a_long_text_is_cut_on_one_line() {
        assert_eq!(one_line("a\n b  c", 10), "a b c");
        assert_eq!(one_line("abcdefghijkl", 6), "abcde…");
    }

    #[test]
    fn a_broken_pipe_is_stdout_closed_and_other_errors_are_not() {
        let closed: OutError = std::io::Error::from(std::io::ErrorKind::BrokenPipe).into();
        assert!(is_stdout_closed(&anyhow::Error::from(closed)));
        let full: OutError = std::io::Error::from(std::io::ErrorKind::StorageFull).into();
        assert!(!is_stdout_closed(&anyhow::Error::from(full)));
        // A broken connection to the node is an error like any other.
        let net = anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(!is_stdout_closed(&net));
    }
}
