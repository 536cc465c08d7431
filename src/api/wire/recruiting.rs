//! The candidate pipeline: the queries of its lists. Records travel as the pipeline's
//! own types ([`Requisition`](crate::capabilities::recruiting::Requisition),
//! [`Candidate`](crate::capabilities::recruiting::Candidate), ...).

use serde::Serialize;
use utoipa::IntoParams;

/// Query of `GET /api/v1/recruiting/requisitions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequisitionsQuery {
    /// `open` or `closed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// At most this many (1 to 1000; default 100).
    #[param(minimum = 1, maximum = 1000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Skip this many.
    #[param(minimum = 0)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
}

/// Query of `GET /api/v1/recruiting/candidates`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CandidatesQuery {
    /// For this requisition (id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requisition: Option<String>,
    /// In this stage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// From this source: `application`, `sourcing` or `referral`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// With this mail address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// At most this many (1 to 1000; default 100).
    #[param(minimum = 1, maximum = 1000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Skip this many.
    #[param(minimum = 0)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
}
