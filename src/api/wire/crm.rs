//! The CRM: the queries of its lists and the answer of an import. Records travel as
//! the CRM's own types ([`Account`](crate::capabilities::crm::Account),
//! [`NewAccount`](crate::capabilities::crm::NewAccount), ...).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Query of `GET /api/v1/crm/accounts`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountsQuery {
    /// Owned by this employee (id or handle).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// At most this many (1 to 1000; default 100).
    #[param(minimum = 1, maximum = 1000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Skip this many.
    #[param(minimum = 0)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
}

/// Query of `GET /api/v1/crm/contacts`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactsQuery {
    /// Of this account (id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// At most this many (1 to 1000; default 100).
    #[param(minimum = 1, maximum = 1000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Skip this many.
    #[param(minimum = 0)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
}

/// Query of `GET /api/v1/crm/deals`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DealsQuery {
    /// In this stage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// Owned by this employee (id or handle).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Of this account (id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// At most this many (1 to 1000; default 100).
    #[param(minimum = 1, maximum = 1000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Skip this many.
    #[param(minimum = 0)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
}

/// Query of `GET /api/v1/crm/activities`: one of `account`, `contact`, `deal`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivitiesQuery {
    /// Of this account (id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Of this contact (id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// Of this deal (id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deal: Option<String>,
    /// At most this many (1 to 1000; default 100).
    #[param(minimum = 1, maximum = 1000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Skip this many.
    #[param(minimum = 0)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
}

/// Query of `POST /api/v1/crm/import`.
#[derive(Debug, Clone, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `accounts`, `contacts` or `deals`.
    #[param(pattern = "^(accounts|contacts|deals)$")]
    pub kind: String,
}

/// Answer of `POST /api/v1/crm/import`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Imported {
    /// What was imported.
    pub kind: String,
    /// How many records were stored.
    pub imported: usize,
}

/// Query of `GET /api/v1/documents`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentsQuery {
    /// Written by this employee (id or handle).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employee: Option<String>,
    /// About this CRM account (id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Of this kind: `proposal`, `qbr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// At most this many (1 to 1000; default 100).
    #[param(minimum = 1, maximum = 1000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Skip this many.
    #[param(minimum = 0)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
}

/// Query of `GET /api/v1/documents/{id}/content`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContentQuery {
    /// `pdf` (the default: as it was sent), `docx` or `md`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(pattern = "^(pdf|docx|md)$")]
    pub format: Option<String>,
}
