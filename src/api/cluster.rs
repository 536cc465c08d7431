//! The cluster on the API: `GET /api/v1/cluster`, calls between nodes authenticated by
//! the cluster's secret, and the forwarding of calls that need the live employee to the
//! node that owns it.
//!
//! Events are not forwarded: any node stores them in the shared inbox and wakes the
//! owner. What else names an employee (`/api/v1/employees/{id}/...`: its status, chat,
//! working memory, phase, restart...) is answered by the owner, relayed by whichever
//! node was asked. A forwarded call is never forwarded again: if ownership moved on
//! meanwhile, the call is answered 503 and the caller tries again.

use super::{ApiError, ApiState};
use crate::cluster::{FORWARDED_HEADER, SECRET_HEADER};
use crate::node::{ClusterView, OwnerError};
use axum::Json;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub(super) fn routes() -> axum::Router<ApiState> {
    axum::Router::new().route("/cluster", get(status))
}

/// The cluster's nodes (alive or not, with the employees each owns) and its leases.
#[utoipa::path(get, path = "/api/v1/cluster", tag = "cluster",
    responses((status = 200, description = "The cluster's nodes and leases (a node alone: `enabled` false)", body = ClusterView),
              (status = 503, description = "The store could not be read", body = super::wire::ErrorBody), super::error::Guarded))]
pub(super) async fn status(State(s): State<ApiState>) -> Result<Json<ClusterView>, ApiError> {
    Ok(Json(s.node.cluster_status().await?))
}

/// Marks a call another node of the cluster made (authenticated by the secret).
#[derive(Clone, Copy)]
pub(super) struct FromPeer;

/// A call carrying the cluster's secret header: let through as another node's when the
/// secret matches, refused and logged when it does not (or this node is in no cluster).
pub(super) fn check_peer(
    s: &ApiState,
    given: &HeaderValue,
    req: &mut Request,
) -> Result<(), Box<Response>> {
    let matches = s
        .node
        .cluster()
        .is_some_and(|c| given.to_str().is_ok_and(|g| c.secret_matches(g)));
    if !matches {
        let from = req
            .headers()
            .get(FORWARDED_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("an unnamed caller")
            .to_string();
        tracing::warn!(from = %from, path = %req.uri().path(), "refused a call between nodes: wrong cluster secret (or this node is in no cluster)");
        metrics::counter!("empla_cluster_refused_calls_total").increment(1);
        return Err(Box::new(ApiError::Unauthorized.into_response()));
    }
    req.extensions_mut().insert(FromPeer);
    Ok(())
}

/// Sends a call about an employee another node owns to that node, and its answer back.
pub(super) async fn forward(State(s): State<ApiState>, req: Request, next: Next) -> Response {
    let Some(c) = s.node.cluster().cloned() else {
        return next.run(req).await;
    };
    if req.extensions().get::<FromPeer>().is_some() {
        return next.run(req).await;
    }
    let Some(id) = employee_named(req.uri().path(), req.method()).and_then(|k| s.node.resolve(k))
    else {
        return next.run(req).await;
    };
    let (owner, address) = match s.node.owner_elsewhere(id).await {
        Ok(None) => return next.run(req).await,
        Ok(Some(o)) => o,
        Err(OwnerError::Moving) => {
            let mut r = ApiError::Unavailable(OwnerError::Moving.to_string()).into_response();
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
            return r;
        }
        Err(OwnerError::Store(e)) => return ApiError::from(e).into_response(),
    };
    let limit = req
        .extensions()
        .get::<super::BodyLimit>()
        .map_or(usize::MAX, |l| l.0);
    let uri = req
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| req.uri().clone(), |o| o.0.clone());
    let url = format!(
        "{}{}",
        address.trim_end_matches('/'),
        uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(e) => {
            return ApiError::BadRequest(format!("the body could not be read: {e}"))
                .into_response();
        }
    };
    let mut call = c.http().request(parts.method, &url).body(body);
    if let Some(p) = parts.extensions.get::<super::auth::Principal>() {
        call = call.header(
            super::tenancy::PRINCIPAL_HEADER,
            super::tenancy::principal_header(p),
        );
    }
    for (k, v) in parts.headers.iter().filter(|(k, _)| passed_on(k)) {
        call = call.header(k, v);
    }
    let started = std::time::Instant::now();
    let answer = call
        .header(SECRET_HEADER, c.secret())
        .header(FORWARDED_HEADER, &*c.node_id)
        .send()
        .await;
    metrics::histogram!("empla_cluster_forward_seconds").record(started.elapsed().as_secs_f64());
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(owner = %owner, error = %e, "the employee's node could not be reached");
            return ApiError::Unavailable(format!(
                "the node that runs this employee ({owner}) could not be reached; try again shortly"
            ))
            .into_response();
        }
    };
    let status = answer.status();
    let mut headers = HeaderMap::new();
    for (k, v) in answer.headers().iter().filter(|(k, _)| passed_on(k)) {
        headers.insert(k.clone(), v.clone());
    }
    match answer.bytes().await {
        Ok(bytes) => {
            let mut r = (status, bytes).into_response();
            r.headers_mut().extend(headers);
            r
        }
        Err(e) => ApiError::Unavailable(format!(
            "the answer of the node that runs this employee ({owner}) was cut short: {e}; try again"
        ))
        .into_response(),
    }
}

/// Headers a relayed call or answer keeps: not those of one hop (connection, length,
/// host) nor the caller's credentials (the secret stands for them).
fn passed_on(name: &header::HeaderName) -> bool {
    !matches!(
        name.as_str(),
        "host"
            | "authorization"
            | "connection"
            | "content-length"
            | "transfer-encoding"
            | "keep-alive"
            | "upgrade"
            | "te"
            | "trailer"
            | "proxy-authorization"
            | SECRET_HEADER
            | FORWARDED_HEADER
            | super::tenancy::PRINCIPAL_HEADER
    )
}

/// The employee a call is about (`/employees/{key}/...`), unless the call is one any
/// node answers: hiring and listing, and events (stored in the shared inbox wherever
/// they arrive).
fn employee_named<'a>(path: &'a str, method: &Method) -> Option<&'a str> {
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    let mut parts = path.trim_start_matches('/').split('/');
    if parts.next()? != "employees" {
        return None;
    }
    let key = parts.next().filter(|k| !k.is_empty())?;
    match parts.next() {
        Some("events") if method == Method::POST => None,
        _ => Some(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_about_one_employee_are_told_from_those_any_node_answers() {
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(employee_named("/employees/abc/status", &get), Some("abc"));
        assert_eq!(
            employee_named("/api/v1/employees/a@x.com/chat", &post),
            Some("a@x.com")
        );
        assert_eq!(employee_named("/employees/abc", &get), Some("abc"));
        assert_eq!(employee_named("/employees/abc/events", &post), None);
        assert_eq!(employee_named("/employees", &post), None);
        assert_eq!(employee_named("/employees/", &get), None);
        assert_eq!(employee_named("/approvals", &get), None);
    }

    #[test]
    fn credentials_and_hop_headers_are_not_relayed() {
        assert!(!passed_on(&header::AUTHORIZATION));
        assert!(!passed_on(&header::HOST));
        assert!(!passed_on(&header::HeaderName::from_static(SECRET_HEADER)));
        assert!(passed_on(&header::CONTENT_TYPE));
        assert!(passed_on(&header::HeaderName::from_static(
            "idempotency-key"
        )));
    }
}
