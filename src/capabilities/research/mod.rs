//! Research (seed 2.6): finding people, companies and facts outside the company. Its
//! action kinds are declared here so plans can name them and `empla config check` can
//! check them; until its drivers land, the node records them `unsupported`.

use super::registry::ActionKind;

/// The research action kinds, declared ahead of their drivers.
pub(crate) fn kinds() -> Vec<ActionKind> {
    vec![
        ActionKind::without_driver(
            "research.search_profiles",
            "Searches for profiles matching a role.",
            false,
        ),
        ActionKind::without_driver(
            "research.company",
            "Looks up what is known about a company.",
            false,
        ),
    ]
}
