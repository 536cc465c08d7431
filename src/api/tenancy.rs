//! One node, many tenants: every request is told who sent it (a bearer token, a
//! dashboard session, or another node of the cluster) and handed to the app of that
//! principal's tenant, whose node reads and writes only that tenant's rows. Requests
//! without a principal (health, metrics, agent cards, Slack's signed events, the login
//! page) go to the tenant whose employee they name, else to the node's own tenant.
//!
//! Inside each tenant's app, [`require`] refuses what the principal's role may not do,
//! and [`audit`] records every write.

use super::auth::{Checked, Face, Principal, SESSION_COOKIE, UiSession, permits};
use super::{ApiConfig, ApiError, ApiState};
use crate::model::{Role, TenantId};
use crate::node::Node;
use crate::store::NewAudit;
use axum::Router;
use axum::extract::{MatchedPath, RawPathParams, Request, State};
use axum::http::Method;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use dashmap::DashMap;
use std::sync::Arc;
use tower::ServiceExt;

/// The header the CLI names itself in, for the audit trail.
pub const FACE_HEADER: &str = "x-empla-face";
/// The header a node forwarding a call names its caller in (trusted only with the
/// cluster secret): tenant, role, actor and token id, tab-separated.
pub(crate) const PRINCIPAL_HEADER: &str = "x-empla-principal";

/// What a handler adds to its answer for the audit trail: what it created (e.g.
/// `tenant=acme`), beyond the ids in the path.
#[derive(Debug, Clone)]
pub(super) struct AuditNote(pub String);

/// Each tenant's app, built once per tenant node.
pub(super) struct House {
    state: ApiState,
    config: ApiConfig,
    apps: DashMap<String, (Arc<Node>, Router)>,
}

impl House {
    pub(super) fn new(state: ApiState, config: ApiConfig) -> Self {
        Self {
            state,
            config,
            apps: DashMap::new(),
        }
    }

    /// The app of the tenant `node` serves.
    fn app(&self, node: Arc<Node>) -> Router {
        let key = node.tenant().to_string();
        if let Some(a) = self.apps.get(&key).filter(|a| Arc::ptr_eq(&a.0, &node)) {
            return a.1.clone();
        }
        let state = ApiState {
            node: node.clone(),
            ..self.state.clone()
        };
        let app = super::tenant_app(state, &self.config);
        self.apps.insert(key, (node, app.clone()));
        app
    }
}

/// The face a request came through.
fn face_of(req: &Request) -> Face {
    let path = req.uri().path();
    if path.starts_with("/a2a/") || path == "/a2a" {
        Face::A2a
    } else if path.starts_with("/ui/") || path == "/ui" {
        Face::Ui
    } else if req
        .headers()
        .get(FACE_HEADER)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cli"))
    {
        Face::Cli
    } else {
        Face::Api
    }
}

fn bearer(req: &Request) -> Option<&str> {
    req.headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// The value of cookie `name`.
pub(crate) fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The principal a forwarding node named, as it sent it.
fn principal_from_peer(v: &str) -> Option<Principal> {
    let mut f = v.split('\t');
    let tenant = TenantId::new(f.next()?);
    let role = Role::parse(f.next()?)?;
    let actor = f.next()?.to_string();
    let token_id = f.next().unwrap_or_default().to_string();
    Some(Principal {
        node_admin: token_id.is_empty(),
        tenant,
        role,
        actor,
        token_id,
    })
}

/// What [`PRINCIPAL_HEADER`] carries for `p`.
pub(crate) fn principal_header(p: &Principal) -> String {
    format!("{}\t{}\t{}\t{}", p.tenant, p.role, p.actor, p.token_id)
}

/// Finds who sent `req` and hands it to their tenant's app.
pub(super) async fn dispatch(State(house): State<Arc<House>>, mut req: Request) -> Response {
    let s = &house.state;
    let face = face_of(&req);
    req.extensions_mut().insert(face);
    if let Some(secret) = req.headers().get(crate::cluster::SECRET_HEADER).cloned() {
        if let Err(refused) = super::cluster::check_peer(s, &secret, &mut req) {
            return *refused;
        }
        let p = req
            .headers()
            .get(PRINCIPAL_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(principal_from_peer)
            .unwrap_or_else(|| s.auth.node_admin());
        req.extensions_mut().insert(p);
    } else if face == Face::Ui {
        if let Some(c) = cookie(req.headers(), SESSION_COOKIE).map(str::to_string) {
            match s.auth.session(&c).await {
                Ok(Some((p, session))) => {
                    req.extensions_mut().insert(p);
                    req.extensions_mut().insert::<UiSession>(session);
                }
                Ok(None) => {}
                Err(e) => return ApiError::from(e).into_response(),
            }
        }
    } else if let Some(token) = bearer(&req).map(str::to_string) {
        match s.auth.check(&token).await {
            Ok(Checked::Valid(p)) => {
                req.extensions_mut().insert(p);
            }
            Ok(Checked::Suspended(t)) => {
                return ApiError::Forbidden(format!(
                    "tenant `{t}` is suspended: its tokens are refused until the node admin resumes it"
                ))
                .into_response();
            }
            Ok(Checked::Unknown) => {}
            Err(e) => return ApiError::from(e).into_response(),
        }
    }
    let node = match req.extensions().get::<Principal>() {
        Some(p) => match s.tenants.node(&p.tenant) {
            Some(n) => n,
            None => {
                return ApiError::Forbidden(format!(
                    "tenant `{}` is not served now (suspended or deleted)",
                    p.tenant
                ))
                .into_response();
            }
        },
        None => named_employee(req.uri().path())
            .and_then(|k| s.tenants.node_of_employee(k))
            .unwrap_or_else(|| s.tenants.primary().clone()),
    };
    match house.app(node).oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

/// The employee a request without a principal names: `/a2a/{agent}/...` (the public
/// agent cards) or `/slack/events/{employee}`.
fn named_employee(path: &str) -> Option<&str> {
    let rest = path
        .strip_prefix("/a2a/")
        .or_else(|| path.strip_prefix("/slack/events/"))?;
    rest.split('/').next().filter(|k| !k.is_empty())
}

/// Refuses a request without a principal (401), of another tenant (404), or that its
/// role may not make (403). A request that did not come through [`dispatch`] (MCP's
/// calls into the API) is checked by its own bearer token here.
pub(super) async fn require(State(s): State<ApiState>, mut req: Request, next: Next) -> Response {
    let face = req.extensions().get::<Face>().copied().unwrap_or(Face::Api);
    let principal = match req.extensions().get::<Principal>() {
        Some(p) => Some(p.clone()),
        None => match bearer(&req) {
            Some(t) => match s.auth.check(t).await {
                Ok(Checked::Valid(p)) => {
                    req.extensions_mut().insert(p.clone());
                    Some(p)
                }
                Ok(_) => None,
                Err(e) => return ApiError::from(e).into_response(),
            },
            None => None,
        },
    };
    let Some(p) = principal else {
        return ApiError::Unauthorized.into_response();
    };
    if &p.tenant != s.node.tenant() {
        return ApiError::NotFound("no such route or resource for this token's tenant".into())
            .into_response();
    }
    // Under `/api/v1` the path is the nested one; the rules speak of the whole path.
    let path = req
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map_or_else(|| req.uri().path().to_string(), |o| o.path().to_string());
    if let Err(why) = permits(&p, req.method(), &path, face) {
        // A refused write is recorded too: who tried what.
        if is_write(req.method()) {
            let action = format!("{} {path}", req.method());
            record(&s, &p, face, action, String::new(), 403).await;
        }
        return ApiError::Forbidden(why).into_response();
    }
    next.run(req).await
}

/// Records a write (any method but GET, HEAD and OPTIONS) in the tenant's audit trail,
/// with the route, the ids it named and the answer's status. Events posted to an
/// employee are its work, kept in its inbox, and not recorded here.
pub(super) async fn audit(
    State(s): State<ApiState>,
    route: MatchedPath,
    params: RawPathParams,
    req: Request,
    next: Next,
) -> Response {
    let principal = req.extensions().get::<Principal>().cloned();
    let (Some(p), true) = (principal, is_write(req.method())) else {
        return next.run(req).await;
    };
    if route.as_str() == "/api/v1/employees/{id}/events" {
        return next.run(req).await;
    }
    let face = req.extensions().get::<Face>().copied().unwrap_or(Face::Api);
    let action = format!("{} {}", req.method(), route.as_str());
    let mut target = params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ");
    let response = next.run(req).await;
    if let Some(AuditNote(note)) = response.extensions().get::<AuditNote>() {
        if !target.is_empty() {
            target.push(' ');
        }
        target.push_str(note);
    }
    record(&s, &p, face, action, target, response.status().as_u16()).await;
    response
}

/// Whether a request changes something (anything but GET, HEAD and OPTIONS).
fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Appends one write of `p`'s to its tenant's audit trail.
async fn record(
    s: &ApiState,
    p: &Principal,
    face: Face,
    action: String,
    target: String,
    status: u16,
) {
    let entry = NewAudit {
        tenant: p.tenant.to_string(),
        actor: p.actor.clone(),
        token_id: p.token_id.clone(),
        role: p.role,
        face: face.as_str(),
        action,
        target,
        status,
    };
    if let Err(e) = s.node.store().audit(&entry).await {
        tracing::error!(error = %e, action = %entry.action, actor = %entry.actor, "a write could not be recorded in the audit trail");
    }
}
