//! Who may use a node: tenants, the roles of their API tokens, and the audit trail.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything an operator may, plus the tenant's settings and tokens.
    Admin,
    /// Hire and offboard, change phases, approve and reject, decide escalations: every
    /// write about employees and their work.
    Operator,
    /// Reads only.
    Viewer,
    /// Another agent: the A2A and MCP faces only.
    Agent,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Operator, Role::Viewer, Role::Agent];

    /// The role's name as written in requests and rows.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Viewer => "viewer",
            Role::Agent => "agent",
        }
    }

    /// A role from its name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether the role may change employees and their work (not only read).
    pub fn may_write(self) -> bool {
        matches!(self, Role::Admin | Role::Operator)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a tenant's tokens and employees work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TenantStatus {
    /// Serving.
    Active,
    /// Its employees stopped and its tokens refused, its data kept.
    Suspended,
}

impl TenantStatus {
    /// The status's name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Active => "active",
            TenantStatus::Suspended => "suspended",
        }
    }
}

/// A company served by the node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Tenant {
    /// Its id: lowercase letters, digits and `-`, as stamped on its rows.
    pub id: String,
    /// Its name, for people.
    pub name: String,
    /// The domain of its employees' addresses; empty: the node's company domain.
    pub domain: String,
    /// Whether it is served.
    pub status: TenantStatus,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Whether this is the node's own tenant (`node.tenant`), whose admin is the node
    /// admin; it cannot be suspended or deleted.
    pub node_tenant: bool,
}

/// An API token as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TokenInfo {
    /// The token's id, for revoking it.
    pub id: String,
    /// The tenant it acts for.
    pub tenant: String,
    /// Its name (who or what holds it), unique among the tenant's live tokens.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it was last used, to the minute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked; a revoked token is refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One write, as the audit trail keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    /// Its place in the trail (increasing).
    pub seq: i64,
    /// When it was done.
    pub at: DateTime<Utc>,
    /// Who: the token's name (`node-admin` for the node's own token).
    pub actor: String,
    /// The token's id (empty for the node's own token).
    pub token_id: String,
    /// The token's role.
    pub role: Role,
    /// Through which face: `api`, `cli`, `ui`, `mcp` or `a2a`.
    pub face: String,
    /// What: the method and route, e.g. `POST /api/v1/approvals/{id}/approve`.
    pub action: String,
    /// The ids the request named, e.g. `id=0193…`.
    pub target: String,
    /// The HTTP status it was answered with.
    pub status: u16,
}
