//! The product backlog (seed 4.3): the feature requests customers and colleagues make
//! by mail, chat, task or API, kept in the store with who asked, the CRM account they
//! belong to, their votes, RICE inputs and score, and their status. A request that says
//! the same thing as an open one (by the built-in embedder's similarity) becomes a vote
//! for it rather than a second entry, and the requester hears which.
//!
//! The PM's actions live in [`actions`]: `product.file_request` files (or votes) and
//! `product.acknowledge` tells the requester in the channel the request came by;
//! `documents.collect` gathers the period's requests and feature usage into an insights
//! report, `product.roadmap` ranks the backlog by RICE into a roadmap document saying
//! what moved and why, and `product.tell_movers` tells those whose requests moved;
//! `product.interviews` offers chosen customers interview times and
//! `product.synthesis` writes what their answers say. This
//! module never sends anything itself; sending is the actions' and goes through the
//! outbox like every other action.

pub(crate) mod actions;
mod backlog;
pub(crate) mod insights;
mod records;
mod research;
mod roadmap;
pub(crate) mod usage;

pub use backlog::{Filed, Filing, file, similarity};
pub use records::{
    FeatureRequest, NewRequest, RequestPatch, RequestStatus, RequestsFilter, Source,
};

use crate::model::FieldError;
use crate::store::StoreError;

/// Why a backlog operation could not be done.
#[derive(Debug, thiserror::Error)]
pub enum ProductError {
    /// The input is wrong; each problem names its field.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// No such request.
    #[error("{0}")]
    NotFound(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ProductError> for super::CapabilityError {
    fn from(e: ProductError) -> Self {
        match e {
            ProductError::Store(e) => e.into(),
            e => super::CapabilityError::Invalid(e.to_string()),
        }
    }
}

/// The product action kinds.
pub(crate) fn kinds() -> Vec<super::registry::ActionKind> {
    actions::kinds()
}
