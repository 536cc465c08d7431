//! The A2A 1.0 face: agent cards (public) and, for each agent — every employee at
//! `/a2a/{handle}`, the front desk at `/a2a/desk` — both protocol bindings at the same
//! URL: JSON-RPC (`POST /a2a/{agent}`) and HTTP+JSON (`/a2a/{agent}/message:send`,
//! `/a2a/{agent}/tasks/{id}`, ...), served by the A2A project's routers over
//! [`service::Agents`]. In front of them: the bearer token of the API (no token or a
//! wrong one: `401` with the protocol's error shape, never data) and, on HTTP+JSON, the
//! `A2A-Version` check the routers make only on JSON-RPC (a missing header means 0.3:
//! `VersionNotSupportedError`).

mod service;

use super::ApiState;
use a2a::errordetails::{PROTOCOL_DOMAIN, TypedDetail};
use a2a::{A2AError, error_code, error_reason};
use axum::extract::{Path, Request, State};
use axum::http::header::{HOST, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use std::collections::HashMap;
use std::sync::Arc;
use tower::ServiceExt;

/// The header the guard sets to the agent a request addresses (any sent is replaced).
pub(crate) const AGENT_HEADER: &str = "x-empla-a2a-agent";

/// The A2A routes: cards and both bindings of every agent.
pub(super) fn routes(state: &ApiState) -> Router<ApiState> {
    let agents = Arc::new(service::Agents {
        node: state.node.clone(),
    });
    // The routers serve one agent at their root: a request for `/a2a/{agent}/...` is
    // passed on as `/...` (their handlers take no `{agent}`), the agent named in a
    // header by the guard.
    let bindings = a2a_server::jsonrpc::jsonrpc_router(agents.clone())
        .merge(a2a_server::rest::rest_router(agents));
    let pass = move |req: Request| {
        let bindings = bindings.clone();
        async move { pass_on(bindings, req).await }
    };
    let protected = Router::new()
        .route("/a2a/{agent}", any(pass.clone()))
        .route("/a2a/{agent}/{*rest}", any(pass))
        .route_layer(middleware::from_fn_with_state(state.clone(), guard));
    Router::new()
        .route("/.well-known/agent-card.json", get(desk_card))
        .route("/a2a/{agent}/.well-known/agent-card.json", get(agent_card))
        .merge(protected)
}

/// Hands a request under `/a2a/{agent}` to the bindings at their root, as a new
/// request (the outer route's path parameters stay behind).
async fn pass_on(bindings: Router, req: Request) -> Response {
    let path = req.uri().path();
    let inner = path
        .strip_prefix("/a2a/")
        .and_then(|r| r.find('/').map(|i| r[i..].to_string()))
        .unwrap_or_else(|| "/".to_string());
    let uri = match req.uri().query() {
        Some(q) => format!("{inner}?{q}"),
        None => inner,
    };
    let (parts, body) = req.into_parts();
    let delete = parts.method == Method::DELETE;
    let mut inner = Request::new(body);
    *inner.method_mut() = parts.method;
    *inner.version_mut() = parts.version;
    *inner.headers_mut() = parts.headers;
    match uri.parse() {
        Ok(u) => *inner.uri_mut() = u,
        Err(_) => return rest_error(A2AError::invalid_request("the path is not a valid URI")),
    }
    let resp = match bindings.oneshot(inner).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    // DeleteTaskPushNotificationConfig answers `google.protobuf.Empty`, which is `{}`
    // in JSON; the HTTP+JSON router sends an empty body, which clients cannot parse.
    let empty = resp.headers().get(axum::http::header::CONTENT_LENGTH)
        == Some(&HeaderValue::from_static("0"));
    if delete && resp.status() == StatusCode::OK && empty {
        return Json(serde_json::json!({})).into_response();
    }
    resp
}

/// The absolute URL agents reach this node at: `node.public_url`, else the request's
/// Host.
pub(crate) fn base_url(public_url: &str, headers: &HeaderMap) -> String {
    if !public_url.is_empty() {
        return public_url.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && !h.contains(['/', ' ', '@']))
        .unwrap_or("localhost");
    format!("http://{host}")
}

async fn desk_card(State(s): State<ApiState>, headers: HeaderMap) -> Response {
    card(&s, crate::a2a::DESK, &headers).await
}

async fn agent_card(
    State(s): State<ApiState>,
    Path(agent): Path<String>,
    headers: HeaderMap,
) -> Response {
    card(&s, &agent, &headers).await
}

async fn card(s: &ApiState, agent: &str, headers: &HeaderMap) -> Response {
    let base = base_url(&s.node.a2a_config().public_url, headers);
    match s.node.a2a_card(agent, &base).await {
        Ok(Some(card)) => Json(card).into_response(),
        Ok(None) => super::ApiError::NotFound(format!(
            "no agent `{agent}` on this node; the front desk's card at /.well-known/agent-card.json lists the employees"
        ))
        .into_response(),
        Err(e) => super::ApiError::from(e).into_response(),
    }
}

/// The agent a path under `/a2a/{agent}` addresses.
fn agent_in(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/a2a/")?;
    let agent = rest.split('/').next()?;
    (!agent.is_empty()).then_some(agent)
}

/// Whether a request is a JSON-RPC call (a POST to the agent's URL itself).
fn is_jsonrpc(method: &Method, path: &str) -> bool {
    method == Method::POST && path.trim_end_matches('/').matches('/').count() == 2
}

/// Token check, version check (HTTP+JSON), and the agent named for the handler.
async fn guard(State(s): State<ApiState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let jsonrpc = is_jsonrpc(req.method(), &path);
    let principal = req
        .extensions()
        .get::<super::auth::Principal>()
        .filter(|p| &p.tenant == s.node.tenant());
    let Some(p) = principal else {
        metrics::counter!("empla_a2a_unauthenticated_total").increment(1);
        return unauthenticated(jsonrpc);
    };
    if let Err(why) = super::auth::permits(p, req.method(), &path, super::auth::Face::A2a) {
        return forbidden(jsonrpc, &why);
    }
    if !jsonrpc {
        let version = req
            .headers()
            .get("a2a-version")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("0.3")
            .trim()
            .to_string();
        let major = version
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok());
        if major != Some(1) {
            return rest_error(A2AError::version_not_supported(&version));
        }
    }
    let Some(agent) = agent_in(&path).and_then(|a| HeaderValue::from_str(a).ok()) else {
        return rest_error(A2AError::invalid_request("no agent in the path"));
    };
    req.headers_mut().insert(AGENT_HEADER, agent);
    next.run(req).await
}

/// `401`, with `WWW-Authenticate: Bearer` and the binding's error shape.
fn unauthenticated(jsonrpc: bool) -> Response {
    let mut resp = refusal(
        jsonrpc,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
        "authentication required: send an API token of the agent's tenant as `Authorization: Bearer <token>`",
    );
    resp.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"empla\""),
    );
    resp
}

/// `403`: the token's role may not do this (a viewer sending a message).
fn forbidden(jsonrpc: bool, why: &str) -> Response {
    refusal(jsonrpc, StatusCode::FORBIDDEN, "PERMISSION_DENIED", why)
}

/// A refusal in the binding's error shape.
fn refusal(jsonrpc: bool, status: StatusCode, reason: &str, message: &str) -> Response {
    let info = TypedDetail::error_info(reason, PROTOCOL_DOMAIN, None);
    let body = if jsonrpc {
        serde_json::json!({
            "jsonrpc": "2.0",
            "id": null,
            "error": {"code": error_code::INVALID_REQUEST, "message": message, "data": [info]},
        })
    } else {
        serde_json::json!({
            "error": {"code": status.as_u16(), "status": reason, "message": message, "details": [info]},
        })
    };
    (status, Json(body)).into_response()
}

/// An error in the HTTP+JSON binding's shape: the status of the error's code and a
/// `google.rpc.Status` body whose details hold a `google.rpc.ErrorInfo`.
fn rest_error(err: A2AError) -> Response {
    let status =
        StatusCode::from_u16(err.http_status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let grpc = match err.code {
        error_code::TASK_NOT_FOUND => "NOT_FOUND",
        error_code::INTERNAL_ERROR => "INTERNAL",
        error_code::INVALID_PARAMS | error_code::INVALID_REQUEST | error_code::PARSE_ERROR => {
            "INVALID_ARGUMENT"
        }
        _ => "FAILED_PRECONDITION",
    };
    let metadata = HashMap::from([("timestamp".to_string(), chrono::Utc::now().to_rfc3339())]);
    let info = TypedDetail::error_info(error_reason(err.code), PROTOCOL_DOMAIN, Some(metadata));
    let body = serde_json::json!({
        "error": {"code": status.as_u16(), "status": grpc, "message": err.message, "details": [info]},
    });
    let mut resp = (status, Json(body)).into_response();
    resp.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_and_the_binding_are_read_from_the_path() {
        assert_eq!(agent_in("/a2a/jordan.lee"), Some("jordan.lee"));
        assert_eq!(agent_in("/a2a/desk/tasks/1"), Some("desk"));
        assert_eq!(agent_in("/api/v1/x"), None);
        assert!(is_jsonrpc(&Method::POST, "/a2a/jordan.lee"));
        assert!(!is_jsonrpc(&Method::POST, "/a2a/jordan.lee/message:send"));
        assert!(!is_jsonrpc(&Method::GET, "/a2a/jordan.lee"));
    }

    #[test]
    fn urls_come_from_public_url_else_the_host() {
        let mut h = HeaderMap::new();
        h.insert(HOST, HeaderValue::from_static("127.0.0.1:7700"));
        assert_eq!(base_url("", &h), "http://127.0.0.1:7700");
        assert_eq!(
            base_url("https://empla.example.com/", &h),
            "https://empla.example.com"
        );
        h.insert(HOST, HeaderValue::from_static("evil/x"));
        assert_eq!(base_url("", &h), "http://localhost");
    }
}
