//! Documents (seed 2.7): reports, collections and running documents an employee writes.
//! Its action kinds are declared here so plans can name them and `empla config check`
//! can check them; until its drivers land, the node records them `unsupported`.

use super::registry::ActionKind;

/// The documents action kinds, declared ahead of their drivers.
pub(crate) fn kinds() -> Vec<ActionKind> {
    vec![
        ActionKind::without_driver(
            "documents.status_report",
            "Writes a status report for a scope.",
            true,
        ),
        ActionKind::without_driver(
            "documents.collect",
            "Collects what sources say over a period into one document.",
            true,
        ),
        ActionKind::without_driver(
            "documents.append",
            "Appends an entry to a running document.",
            true,
        ),
    ]
}
