//! Test-only failure injection. With the `failpoints` feature (which only the tests
//! turn on), a failpoint named `name` fails whatever passes it carrying the marker
//! `[failpoint:name]` (in a mail's subject, say), so a test can make one real message
//! fail one real step against real servers. Without the feature every failpoint passes
//! and compiles to nothing.

/// Fails when `text` carries the marker of failpoint `name` and failpoints are built in.
#[inline(always)]
pub fn hit(name: &str, text: &str) -> Result<(), String> {
    #[cfg(feature = "failpoints")]
    if text.contains(&format!("[failpoint:{name}]")) {
        return Err(format!("failpoint {name} hit"));
    }
    let _ = (name, text);
    Ok(())
}
