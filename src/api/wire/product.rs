//! The product backlog: the query of its list and the answer of filing a request.
//! Requests travel as the backlog's own types
//! ([`FeatureRequest`](crate::capabilities::product::FeatureRequest),
//! [`NewRequest`](crate::capabilities::product::NewRequest), ...).

use crate::capabilities::product::FeatureRequest;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Query of `GET /api/v1/product/requests`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestsQuery {
    /// In this status: `new`, `planned`, `in_progress`, `shipped` or `declined`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(pattern = "^(new|planned|in_progress|shipped|declined)$")]
    pub status: Option<String>,
    /// Of this CRM account (id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Come by this channel: `mail`, `chat`, `task` or `api`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(pattern = "^(mail|chat|task|api|usage)$")]
    pub source: Option<String>,
    /// At most this many (1 to 1000; default 100).
    #[param(minimum = 1, maximum = 1000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Skip this many.
    #[param(minimum = 0)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
}

/// Answer of `POST /api/v1/product/requests`: whether the request went in as a new
/// one (201) or as a vote for an open request it repeats (200), what the requester is
/// told, and the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FiledRequest {
    /// `new` or `vote`.
    pub filed: String,
    /// What happened, in words for the requester.
    pub message: String,
    /// The request filed or voted for.
    pub request: FeatureRequest,
}
