//! Employees' OAuth connections over HTTP: `/api/v1/employees/{id}/connections`
//! (start one, list them, end one) and the public `GET /oauth/callback` the provider
//! sends the person back to. The callback carries no bearer token: its `state` is the
//! proof, taken once, and it names the tenant the connection is stored under. It
//! answers small HTML pages for a person in a browser; no token ever appears in one.

use super::employees::{reach_error, resolve};
use super::{ApiError, ApiState, JsonBody};
use crate::connections::{ConnectBody, ConnectionError, ConnectionList, Started};
use crate::node::ConnectError;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use std::collections::HashMap;

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/employees/{id}/connections", get(list).post(connect))
        .route("/employees/{id}/connections/{provider}", delete(disconnect))
}

/// The public callback route, outside `/api/v1`.
pub(super) fn callback_routes() -> Router<ApiState> {
    Router::new().route(crate::connections::config::CALLBACK_PATH, get(callback))
}

impl From<ConnectError> for ApiError {
    fn from(e: ConnectError) -> Self {
        match e {
            ConnectError::Reach(r) => reach_error(r),
            ConnectError::Connection(c) => c.into(),
        }
    }
}

impl From<ConnectionError> for ApiError {
    fn from(e: ConnectionError) -> Self {
        match e {
            ConnectionError::Store(s) => s.into(),
            e @ (ConnectionError::Key(_) | ConnectionError::NoClientSecret { .. }) => {
                ApiError::Unavailable(e.to_string())
            }
            e @ ConnectionError::Open(_) => ApiError::Conflict(e.to_string()),
            e @ ConnectionError::UnknownProvider(..) => ApiError::BadRequest(e.to_string()),
            e @ ConnectionError::NotConnected(_) => ApiError::NotFound(e.to_string()),
            e @ ConnectionError::Provider { .. } => ApiError::Unavailable(e.to_string()),
            e => ApiError::BadRequest(e.to_string()),
        }
    }
}

/// Starts connecting the employee to a provider: 201 with the URL to open in a browser,
/// where the person consents; the provider then sends them back to `/oauth/callback`.
#[utoipa::path(post, path = "/api/v1/employees/{id}/connections", params(("id" = String, Path)), request_body = ConnectBody,
    responses((status = 201, body = Started), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), (status = 409, description = "The employee was offboarded", body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn connect(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    JsonBody(b): JsonBody<ConnectBody>,
) -> Result<(StatusCode, Json<Started>), ApiError> {
    let id = resolve(&s, &key)?;
    let base = super::a2a::base_url("", &headers);
    let started = s.node.connect(id, &b.provider, &base).await?;
    Ok((StatusCode::CREATED, Json(started)))
}

/// The employee's connections: provider, account, scopes, status and times; never a
/// token.
#[utoipa::path(get, path = "/api/v1/employees/{id}/connections", params(("id" = String, Path)),
    responses((status = 200, body = ConnectionList), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn list(
    State(s): State<ApiState>,
    Path(key): Path<String>,
) -> Result<Json<ConnectionList>, ApiError> {
    let id = resolve(&s, &key)?;
    Ok(Json(ConnectionList {
        items: s.node.connections(id).await?,
    }))
}

/// Revokes the employee's connection at the provider (best effort) and forgets it.
#[utoipa::path(delete, path = "/api/v1/employees/{id}/connections/{provider}", params(("id" = String, Path), ("provider" = String, Path)),
    responses((status = 204, description = "Revoked at the provider and forgotten"), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn disconnect(
    State(s): State<ApiState>,
    Path((key, provider)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = resolve(&s, &key)?;
    s.node.disconnect(id, &provider).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Escapes text for HTML.
fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let body = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body><h1>{t}</h1><p>{x}</p></body></html>\n",
        t = escape(title),
        x = escape(text)
    );
    (
        status,
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Html(body),
    )
        .into_response()
}

/// Where the provider sends the person back: the state checked and taken, the code
/// exchanged, the connection stored; a page says what was connected or why not.
async fn callback(State(s): State<ApiState>, Query(q): Query<HashMap<String, String>>) -> Response {
    let refused =
        |e: ConnectionError| page(StatusCode::BAD_REQUEST, "Not connected", &e.to_string());
    let Some(state) = q.get("state").filter(|v| !v.is_empty()) else {
        return refused(ConnectionError::UnknownState);
    };
    // The flow is read where it is (the store is shared) and finished by its tenant.
    let flow = match s.node.take_oauth_flow(state).await {
        Ok(f) => f,
        Err(ConnectionError::Store(e)) => {
            tracing::error!(error = %e, "store error at the OAuth callback");
            return page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Not connected",
                "the node's store is unavailable; start the connection again shortly",
            );
        }
        Err(e) => return refused(e),
    };
    if let Some(error) = q.get("error") {
        if error == "access_denied" {
            return page(
                StatusCode::OK,
                "Not connected",
                &ConnectionError::Denied.to_string(),
            );
        }
        let said = q
            .get("error_description")
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        return page(
            StatusCode::BAD_REQUEST,
            "Not connected",
            &format!("the provider answered `{error}`{said}; start the connection again"),
        );
    }
    let Some(code) = q.get("code").filter(|c| !c.is_empty()) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Not connected",
            "the provider sent no code; start the connection again",
        );
    };
    // The employee must still work for a tenant served here: an offboarding that ran
    // while the person was consenting revoked everything there was then.
    let Some(node) = s
        .tenants
        .node(&crate::model::TenantId::new(flow.tenant.clone()))
    else {
        return page(
            StatusCode::CONFLICT,
            "Not connected",
            "the employee's company is not served by this node now; nothing was connected",
        );
    };
    let employed = match flow.employee_id.parse() {
        Ok(id) => node.employee(id).await.ok().flatten(),
        Err(_) => None,
    }
    .is_some_and(|p| p.status != crate::model::EmployeeStatus::Offboarded);
    if !employed {
        return page(
            StatusCode::CONFLICT,
            "Not connected",
            "the employee has left (offboarded) since the connection was started; nothing was connected",
        );
    }
    match node.finish_connection(&flow, code).await {
        Ok(done) => {
            let who = match done.employee_id.parse() {
                Ok(id) => node.employee(id).await.ok().flatten().map(|p| p.name),
                Err(_) => None,
            }
            .unwrap_or_else(|| done.employee_id.clone());
            let account = if done.view.account_name.is_empty() {
                String::new()
            } else {
                format!(" ({})", done.view.account_name)
            };
            page(
                StatusCode::OK,
                "Connected",
                &format!(
                    "{who} is now connected to {}{account}. You can close this page.",
                    done.view.provider
                ),
            )
        }
        Err(ConnectionError::Store(e)) => {
            tracing::error!(error = %e, "store error at the OAuth callback");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Not connected",
                "the node's store is unavailable; start the connection again shortly",
            )
        }
        Err(e @ ConnectionError::Provider { .. }) => {
            page(StatusCode::BAD_GATEWAY, "Not connected", &e.to_string())
        }
        Err(e) => refused(e),
    }
}
