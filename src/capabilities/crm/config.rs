//! `[crm]`: which CRM employees work in — the built-in one in the node's store (the
//! embedded default) — and the stages a deal moves through.

use super::records::DEFAULT_PIPELINE;
use crate::config::ConfigError;
use serde::{Deserialize, Serialize};

/// Which driver keeps the CRM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrmDriverKind {
    /// In the node's store (SQLite or PostgreSQL). The default.
    Builtin,
    /// A HubSpot portal, through its CRM v3 API.
    Hubspot,
}

/// `[crm]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CrmConfig {
    /// `builtin` or `hubspot`.
    pub driver: CrmDriverKind,
    /// With `hubspot`: the environment variable holding the private app's token.
    pub token_env: String,
    /// With `hubspot`: the API's base URL (a test double or a proxy may stand in).
    pub base_url: String,
    /// With `hubspot`: each stage's id in the portal's deal pipeline.
    pub stage_ids: std::collections::BTreeMap<String, String>,
    /// The stages of the deal pipeline, in order; a deal is closed in a stage whose
    /// name starts with `closed` (`closed_won`, `closed_lost`).
    pub pipeline: Vec<String>,
    /// `[crm.health]`: how account health is scored.
    pub health: super::health::HealthConfig,
    /// The role that looks after customers: a new customer's account (a deal won with
    /// an account that had no plan) is handed to the employee of this role with the
    /// fewest customers. Empty: accounts stay with whoever owns them.
    pub customer_role: String,
}

impl Default for CrmConfig {
    fn default() -> Self {
        Self {
            driver: CrmDriverKind::Builtin,
            token_env: "HUBSPOT_TOKEN".into(),
            base_url: "https://api.hubapi.com".into(),
            stage_ids: [
                ("prospecting", "appointmentscheduled"),
                ("discovery", "qualifiedtobuy"),
                ("demo", "presentationscheduled"),
                ("proposal", "decisionmakerboughtin"),
                ("negotiation", "contractsent"),
                ("closed_won", "closedwon"),
                ("closed_lost", "closedlost"),
            ]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
            pipeline: DEFAULT_PIPELINE.iter().map(|s| s.to_string()).collect(),
            health: Default::default(),
            customer_role: "csm".into(),
        }
    }
}

impl CrmConfig {
    pub(crate) fn validate(&self, file: &str, e: &mut Vec<ConfigError>) {
        let mut seen = std::collections::BTreeSet::new();
        for s in &self.pipeline {
            if s.is_empty()
                || !s
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                e.push(ConfigError::new(
                    file,
                    "crm.pipeline",
                    format!(
                        "stage {s:?} must be lower-case letters, digits and `_`, e.g. \"discovery\""
                    ),
                ));
            }
            if !seen.insert(s) {
                e.push(ConfigError::new(
                    file,
                    "crm.pipeline",
                    format!("stage {s:?} is listed twice"),
                ));
            }
        }
        for needed in ["closed_won", "closed_lost"] {
            if !self.pipeline.iter().any(|s| s == needed) {
                e.push(ConfigError::new(
                    file,
                    "crm.pipeline",
                    format!("must include {needed:?}: won and lost deals are counted by it"),
                ));
            }
        }
        if self.driver == CrmDriverKind::Hubspot {
            let url = self.base_url.trim();
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                e.push(ConfigError::new(
                    file,
                    "crm.base_url",
                    format!("must be an http(s) URL, e.g. \"https://api.hubapi.com\", got {url:?}"),
                ));
            }
            if self.token_env.trim().is_empty() {
                e.push(ConfigError::new(file, "crm.token_env", "is needed with driver = \"hubspot\": the environment variable holding the private app's token, e.g. \"HUBSPOT_TOKEN\""));
            }
            for s in &self.pipeline {
                if !self.stage_ids.contains_key(s) {
                    e.push(ConfigError::new(file, "crm.stage_ids", format!("has no id for stage {s:?}: give the id of that stage in the portal's pipeline")));
                }
            }
        }
        let h = &self.health;
        for (key, w) in [
            ("usage", h.usage),
            ("engagement", h.engagement),
            ("support", h.support),
            ("nps", h.nps),
        ] {
            if !(0.0..=1.0).contains(&w) {
                e.push(ConfigError::new(
                    file,
                    format!("crm.health.{key}"),
                    "must be a weight from 0 to 1",
                ));
            }
        }
        if h.usage + h.engagement + h.support + h.nps <= 0.0 {
            e.push(ConfigError::new(
                file,
                "crm.health",
                "at least one weight must be above 0",
            ));
        }
        if !(0.0..=100.0).contains(&h.critical_below)
            || !(h.critical_below..=100.0).contains(&h.at_risk_below)
        {
            e.push(ConfigError::new(
                file,
                "crm.health",
                "`critical_below` and `at_risk_below` are scores from 0 to 100, critical below at risk",
            ));
        }
        if self
            .pipeline
            .first()
            .is_some_and(|s| s.starts_with("closed"))
        {
            e.push(ConfigError::new(
                file,
                "crm.pipeline",
                "must start with an open stage (new deals start there), e.g. \"prospecting\"",
            ));
        }
    }
}
