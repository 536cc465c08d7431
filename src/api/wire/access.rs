//! Tenants, tokens and the audit trail: `/api/v1/tenants`, `/api/v1/tenant`,
//! `/api/v1/tokens`, `/api/v1/audit`.

use crate::model::{AuditEntry, Role, Tenant, TokenInfo};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Body of `POST /api/v1/tenants`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenantBody {
    /// Its id: 1 to 40 lowercase letters, digits and `-`, starting with a letter.
    pub id: String,
    /// The company's name.
    pub name: String,
    /// The domain of its employees' addresses; default: the node's company domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

/// Answer of `POST /api/v1/tenants`: the tenant and its first admin token, shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TenantCreated {
    /// The new tenant.
    pub tenant: Tenant,
    /// The secret of its first admin token (named `admin`); it is not kept and cannot
    /// be shown again.
    pub token: String,
}

/// Body of `PATCH /api/v1/tenant`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantPatch {
    /// The company's name.
    pub name: String,
}

/// Body of `POST /api/v1/tokens`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    /// Who or what will hold it (1 to 100 characters), unique among live tokens.
    pub name: String,
    /// What it may do: admin, operator, viewer or agent.
    pub role: Role,
}

/// Answer of `POST /api/v1/tokens`: the token's secret, shown once, and its listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TokenCreated {
    /// The secret to send as `Authorization: Bearer <token>`; it is not kept and cannot
    /// be shown again.
    pub token: String,
    /// The token as listed.
    pub info: TokenInfo,
}

/// Query of `GET /api/v1/audit`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only entries from this time on: RFC 3339 or a date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Only this actor's: a token's name or id (`node-admin` for the node's own token).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Only entries after this one (the `next` of a previous page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<i64>,
    /// 1..=1000, default 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// Answer of `GET /api/v1/audit`: entries oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    /// The entries.
    pub entries: Vec<AuditEntry>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}
