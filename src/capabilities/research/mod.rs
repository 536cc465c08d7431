//! Research (seed 2.7): reading the web for what is happening at an account.
//! `research.fetch` reads a page (robots.txt obeyed, HTML and plain text only, within
//! `[research]`'s size, time and redirect limits) and keeps what it says about an
//! account's funding, hiring and news as facts in semantic memory, each with the page
//! as its source. `research.search` asks a SearXNG instance (its JSON API) when one is
//! configured; with none it searches the CRM, shared knowledge and the employee's
//! memory, and says so.
//!
//! `research.company` gathers what is known about a company: its CRM record, people and
//! deals, the facts remembered about it (with their sources), and — with a provider —
//! the web's latest. `research.search_profiles` (the recruiter's sourcing) is
//! recruiting's: [`crate::capabilities::recruiting`].

mod actions;
pub mod config;
pub mod fetch;
pub mod learn;
pub mod search;

pub use config::ResearchConfig;

use super::registry::ActionKind;
use std::sync::Arc;

/// Why research could not be done.
#[derive(Debug, thiserror::Error)]
pub enum ResearchError {
    /// What was asked for is unusable (not a web address, a private address).
    #[error("{0}")]
    Invalid(String),
    /// The site said no, or the page is not something research reads (robots.txt,
    /// content type, size, redirects).
    #[error("{0}")]
    Refused(String),
    /// The site or the search provider could not be reached or failed.
    #[error("{0}")]
    Unreachable(String),
}

impl From<ResearchError> for super::CapabilityError {
    fn from(e: ResearchError) -> Self {
        match e {
            ResearchError::Unreachable(m) => super::CapabilityError::Service(m),
            e => super::CapabilityError::Invalid(e.to_string()),
        }
    }
}

/// The node's research: the page reader and the search provider.
#[derive(Clone)]
pub struct Research {
    reader: Arc<fetch::Reader>,
}

impl Research {
    /// Research with `cfg`'s provider and limits.
    pub fn new(cfg: &ResearchConfig) -> Result<Research, String> {
        Ok(Research {
            reader: Arc::new(fetch::Reader::new(cfg)?),
        })
    }

    /// The page reader.
    pub fn reader(&self) -> &fetch::Reader {
        &self.reader
    }
}

/// The research action kinds.
pub(crate) fn kinds() -> Vec<ActionKind> {
    actions::kinds()
}
