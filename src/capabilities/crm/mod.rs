//! The CRM (seed 2.8): accounts, contacts, deals and the activities logged against
//! them. Its action kinds are declared here so plans can name them and `empla config
//! check` can check them; until its drivers land, the node records them `unsupported`.

use super::registry::ActionKind;

/// The crm action kinds, declared ahead of their drivers.
pub(crate) fn kinds() -> Vec<ActionKind> {
    vec![
        ActionKind::without_driver(
            "crm.find_leads",
            "Finds leads in a segment for outreach.",
            false,
        ),
        ActionKind::without_driver(
            "crm.review_pipeline",
            "Reviews the pipeline for a period: coverage, stale deals, next steps.",
            false,
        ),
        ActionKind::without_driver("crm.log_issue", "Logs an issue against an account.", true),
        ActionKind::without_driver(
            "crm.detractors",
            "Lists the accounts whose recent feedback is negative.",
            false,
        ),
        ActionKind::without_driver(
            "crm.accounts_below",
            "Lists the accounts below a threshold on a metric.",
            false,
        ),
        ActionKind::without_driver(
            "crm.update",
            "Updates a record: an account, contact or deal.",
            true,
        ),
    ]
}
