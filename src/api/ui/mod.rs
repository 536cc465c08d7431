//! The dashboard at `/ui/`: pages rendered on the server (minijinja, escaped), made
//! live with htmx and server-sent events. htmx and its SSE extension are served from
//! memory (`static/`), so the pages work offline; every page carries its data in its
//! HTML.
//!
//! A page is shown only to a dashboard session (see [`login`]); a form is accepted
//! only with the session's CSRF token; what a viewer may not do is neither shown nor
//! accepted. Every change goes through the node's own methods, the same the JSON API
//! calls, and is recorded in the audit trail by [`super::tenancy::audit`]. It never
//! shows a token or a session's secret.

mod employee;
mod live;
mod login;
mod operator;
mod pages;
mod team;

use super::ApiState;
use super::auth::{Principal, UiSession};
use crate::model::Role;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

pub(super) use pages::render;

/// The dashboard's routes.
pub(super) fn routes(state: &ApiState) -> Router<ApiState> {
    let writes = Router::new()
        .route("/ui/logout", post(login::logout))
        .route("/ui/approvals/{id}/approve", post(employee::approve))
        .route("/ui/approvals/{id}/reject", post(employee::reject))
        .route("/ui/escalations/{id}/decide", post(employee::decide))
        .route("/ui/employees/{id}/feedback", post(employee::feedback))
        .route("/ui/employees/{id}/connect", post(employee::connect))
        .route(
            "/ui/employees/{id}/dead-letters/{event_id}/retry",
            post(operator::retry),
        )
        .route(
            "/ui/employees/{id}/dead-letters/{event_id}/drop",
            post(operator::drop_one),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            super::tenancy::audit,
        ));
    Router::new()
        .route("/ui", get(|| async { Redirect::to("/ui/") }))
        .route("/ui/", get(team::page))
        .route("/ui/login", get(login::form).post(login::submit))
        .route("/ui/employees/{id}", get(employee::page))
        .route("/ui/operator", get(operator::page))
        .route("/ui/audit", get(operator::audit))
        .route("/ui/live", get(live::stream))
        .route("/ui/static/{file}", get(asset))
        .merge(writes)
}

/// Someone signed in to the dashboard: who, and their session.
pub(super) struct Visitor {
    /// Who opened the session.
    pub(super) who: Principal,
    /// The session (its CSRF token).
    pub(super) session: UiSession,
}

impl Visitor {
    /// Whether the visitor may change things (approve, decide, retry, give feedback).
    pub(super) fn may_write(&self) -> bool {
        self.who.role.may_write()
    }

    /// The refusal (403) of a change the visitor may not make, or of a form whose `csrf`
    /// is not the session's; none when the change may go ahead.
    pub(super) fn refuse_write(&self, csrf: &str) -> Option<Response> {
        if !super::auth::constant_time_eq(csrf.as_bytes(), self.session.csrf.as_bytes()) {
            return Some(refused(
                StatusCode::FORBIDDEN,
                "The form was not sent from this session's page (its CSRF token is missing or wrong). Reload the page and try again.",
            ));
        }
        if !self.may_write() {
            return Some(refused(
                StatusCode::FORBIDDEN,
                &format!(
                    "A {} token may only look. Sign in with an operator or admin token to change anything.",
                    self.who.role
                ),
            ));
        }
        None
    }
}

impl FromRequestParts<ApiState> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &ApiState) -> Result<Self, Response> {
        let who = parts.extensions.get::<Principal>().cloned();
        let session = parts.extensions.get::<UiSession>().cloned();
        let (Some(who), Some(session)) = (who, session) else {
            return Err(Redirect::to("/ui/login").into_response());
        };
        if &who.tenant != s.node.tenant() {
            return Err(refused(
                StatusCode::NOT_FOUND,
                "No such page for this session's tenant.",
            ));
        }
        if who.role == Role::Agent {
            return Err(refused(
                StatusCode::FORBIDDEN,
                "An agent token speaks A2A and MCP only; sign in with an operator, viewer or admin token.",
            ));
        }
        Ok(Visitor { who, session })
    }
}

/// A short page saying why something was refused, with `status`.
pub(super) fn refused(status: StatusCode, why: &str) -> Response {
    let html = render(
        "refused.html",
        minijinja::context! { title => status.canonical_reason().unwrap_or("Refused"), why },
    );
    (status, html).into_response()
}

/// Where to go back to after a form: a dashboard path the form named, else the team.
pub(super) fn back_to(back: Option<&str>) -> Response {
    let to = back
        .filter(|b| b.starts_with("/ui/") && b.bytes().all(|c| (0x21..0x7f).contains(&c)))
        .unwrap_or("/ui/");
    Redirect::to(to).into_response()
}

/// The vendored scripts, the style sheet and the licences, from memory.
async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (body, kind): (&'static [u8], &str) = match file.as_str() {
        "htmx.min.js" => (include_bytes!("static/htmx.min.js"), "text/javascript"),
        "sse.min.js" => (include_bytes!("static/sse.min.js"), "text/javascript"),
        "style.css" => (include_bytes!("static/style.css"), "text/css"),
        "LICENSES.txt" => (
            include_bytes!("static/LICENSES.txt"),
            "text/plain; charset=utf-8",
        ),
        _ => return refused(StatusCode::NOT_FOUND, "No such file."),
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_str(kind).expect("a valid media type"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body,
    )
        .into_response()
}
