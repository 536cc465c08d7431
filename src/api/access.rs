//! Who may use the node, on the API: tenants (`/api/v1/tenants`, the node admin's),
//! the caller's own tenant (`/api/v1/tenant`), its tokens (`/api/v1/tokens`) and its
//! audit trail (`/api/v1/audit`) — the last three for the tenant's admins.

use super::auth::{Principal, digest};
use super::params::{FromParams, Params, QueryString, time_bound};
use super::tenancy::AuditNote;
use super::wire::{
    AuditPage, AuditQuery, Items, NewTenantBody, NewTokenBody, TenantCreated, TenantPatch,
    TokenCreated,
};
use super::{ApiError, ApiState, JsonBody};
use crate::model::{Role, Tenant, TenantStatus, TokenInfo};
use crate::node::TenantError;
use crate::store::StoreError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/tenants", get(list_tenants).post(create_tenant))
        .route("/tenants/{id}", get(show_tenant).delete(delete_tenant))
        .route("/tenants/{id}/suspend", post(suspend_tenant))
        .route("/tenants/{id}/resume", post(resume_tenant))
        .route("/tenant", get(own_tenant).patch(rename_tenant))
        .route("/tokens", get(list_tokens).post(create_token))
        .route("/tokens/{id}", axum::routing::delete(revoke_token))
        .route("/audit", get(audit))
}

impl From<TenantError> for ApiError {
    fn from(e: TenantError) -> Self {
        match e {
            TenantError::Invalid(m) => ApiError::BadRequest(m),
            e @ TenantError::Taken(_) => ApiError::Conflict(e.to_string()),
            e @ TenantError::NotFound(_) => ApiError::NotFound(e.to_string()),
            TenantError::Refused(m) => ApiError::Conflict(m),
            TenantError::Store(e) => e.into(),
            TenantError::Start(e) => {
                tracing::error!(error = %e, "a tenant's node did not start");
                ApiError::Unavailable(format!(
                    "the tenant was stored but its employees could not be started ({e}); see the node's log"
                ))
            }
        }
    }
}

/// Creates a tenant with its first admin token (named `admin`), shown once. Node admin only.
#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", request_body = NewTenantBody,
    responses((status = 201, body = TenantCreated),
              (status = 400, body = super::wire::ErrorBody),
              (status = 409, description = "The id is taken, or this node cannot serve more tenants", body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(super) async fn create_tenant(
    State(s): State<ApiState>,
    Extension(p): Extension<Principal>,
    JsonBody(body): JsonBody<NewTenantBody>,
) -> Result<Response, ApiError> {
    let (info, secret) = super::auth::new_token(
        &crate::model::TenantId::new(body.id.clone()),
        "admin",
        Role::Admin,
        &p.actor,
    );
    let tenant = s
        .tenants
        .create(
            &body.id,
            &body.name,
            body.domain.as_deref(),
            &info,
            &digest(&secret),
        )
        .await?;
    let note = AuditNote(format!("tenant={}", tenant.id));
    Ok((
        StatusCode::CREATED,
        Extension(note),
        Json(TenantCreated {
            tenant,
            token: secret,
        }),
    )
        .into_response())
}

/// Every tenant the node serves or keeps. Node admin only.
#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants",
    responses((status = 200, body = inline(Items<Tenant>)), super::error::Guarded))]
pub(super) async fn list_tenants(
    State(s): State<ApiState>,
) -> Result<Json<Items<Tenant>>, ApiError> {
    Ok(Json(Items {
        items: s.tenants.list().await?,
    }))
}

/// One tenant. Node admin only.
#[utoipa::path(get, path = "/api/v1/tenants/{id}", tag = "tenants", params(("id" = String, Path)),
    responses((status = 200, body = Tenant), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(super) async fn show_tenant(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Tenant>, ApiError> {
    Ok(Json(s.tenants.get(&id).await?))
}

/// Suspends a tenant: its employees stop, its tokens and sessions are refused, its data
/// stays. Node admin only; not the node's own tenant.
#[utoipa::path(post, path = "/api/v1/tenants/{id}/suspend", tag = "tenants", params(("id" = String, Path)),
    responses((status = 200, body = Tenant),
              (status = 404, body = super::wire::ErrorBody), (status = 409, body = super::wire::ErrorBody), super::error::Guarded))]
pub(super) async fn suspend_tenant(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Tenant>, ApiError> {
    let t = s.tenants.set_status(&id, TenantStatus::Suspended).await?;
    s.auth.forget_checked();
    Ok(Json(t))
}

/// Resumes a suspended tenant. Node admin only.
#[utoipa::path(post, path = "/api/v1/tenants/{id}/resume", tag = "tenants", params(("id" = String, Path)),
    responses((status = 200, body = Tenant),
              (status = 404, body = super::wire::ErrorBody), (status = 409, body = super::wire::ErrorBody), super::error::Guarded))]
pub(super) async fn resume_tenant(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Tenant>, ApiError> {
    let t = s.tenants.set_status(&id, TenantStatus::Active).await?;
    s.auth.forget_checked();
    Ok(Json(t))
}

/// Deletes a tenant: its employees stop and every row of it is removed (the audit trail
/// stays). Node admin only; not the node's own tenant.
#[utoipa::path(delete, path = "/api/v1/tenants/{id}", tag = "tenants", params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"),
              (status = 404, body = super::wire::ErrorBody), (status = 409, body = super::wire::ErrorBody), super::error::Guarded))]
pub(super) async fn delete_tenant(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.tenants.delete(&id).await?;
    s.auth.forget_checked();
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's tenant. Admins only.
#[utoipa::path(get, path = "/api/v1/tenant", tag = "tenants",
    responses((status = 200, body = Tenant), super::error::Guarded))]
pub(super) async fn own_tenant(State(s): State<ApiState>) -> Result<Json<Tenant>, ApiError> {
    Ok(Json(s.tenants.get(s.node.tenant().as_str()).await?))
}

/// Renames the caller's tenant. Admins only.
#[utoipa::path(patch, path = "/api/v1/tenant", tag = "tenants", request_body = TenantPatch,
    responses((status = 200, body = Tenant), (status = 400, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(super) async fn rename_tenant(
    State(s): State<ApiState>,
    JsonBody(body): JsonBody<TenantPatch>,
) -> Result<Json<Tenant>, ApiError> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::BadRequest(
            "`name` must be 1 to 200 characters: the company's name".into(),
        ));
    }
    let id = s.node.tenant().as_str();
    s.node.store().rename_tenant(id, name).await?;
    Ok(Json(s.tenants.get(id).await?))
}

/// Creates a token of the caller's tenant; its secret is in the answer only. Admins only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewTokenBody,
    responses((status = 201, body = TokenCreated), (status = 400, body = super::wire::ErrorBody), (status = 409, description = "A live token has the name", body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(super) async fn create_token(
    State(s): State<ApiState>,
    Extension(p): Extension<Principal>,
    JsonBody(body): JsonBody<NewTokenBody>,
) -> Result<Response, ApiError> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(
            "`name` must be 1 to 100 characters without control characters: who or what holds the token (e.g. \"ci\", \"alex\")".into(),
        ));
    }
    let (info, token) = s
        .auth
        .issue(s.node.tenant(), name, body.role, &p.actor)
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => ApiError::Conflict(format!(
                "a live token is named {name:?} already; pick another name or revoke that one"
            )),
            e => e.into(),
        })?;
    let note = AuditNote(format!(
        "token={} name={} role={}",
        info.id, info.name, info.role
    ));
    Ok((
        StatusCode::CREATED,
        Extension(note),
        Json(TokenCreated { token, info }),
    )
        .into_response())
}

/// The tenant's tokens (never their secrets), live ones first. Admins only.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses((status = 200, body = inline(Items<TokenInfo>)), super::error::Guarded))]
pub(super) async fn list_tokens(
    State(s): State<ApiState>,
) -> Result<Json<Items<TokenInfo>>, ApiError> {
    Ok(Json(Items {
        items: s.node.store().tokens(s.node.tenant().as_str()).await?,
    }))
}

/// Revokes a token of the tenant: refused from now on. Admins only.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = String, Path)),
    responses((status = 200, body = TokenInfo), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(super) async fn revoke_token(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<TokenInfo>, ApiError> {
    s.auth
        .revoke(s.node.tenant(), &id)
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no token `{id}` in this tenant; `empla token list` shows them"
            ))
        })
}

impl FromParams for AuditQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["since", "actor", "after", "limit"])?;
        Ok(Self {
            since: p.text("since"),
            actor: p.text("actor"),
            after: p.at_least("after", 0)?,
            limit: p.whole("limit", 1, 1000)?,
        })
    }
}

/// The tenant's audit trail: every write, who made it, when, through which face;
/// oldest first. Admins only.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = super::wire::ErrorBody), super::error::Guarded))]
pub(super) async fn audit(
    State(s): State<ApiState>,
    QueryString(q): QueryString<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let since = time_bound("since", q.since.as_deref())?;
    let limit = q.limit.unwrap_or(100);
    let entries = s
        .node
        .store()
        .audit_trail(
            s.node.tenant().as_str(),
            since,
            q.actor.as_deref().filter(|a| !a.is_empty()),
            q.after.unwrap_or(0),
            limit,
        )
        .await?;
    let next = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    Ok(Json(AuditPage { entries, next }))
}
