//! Signing in to the dashboard with an API token, and out.
//!
//! `GET /ui/login` shows a form posting `token` and a hidden `csrf` field whose value
//! is also in a cookie of its own (double submit): a form posted from elsewhere lacks
//! the cookie's value. A valid token opens a session: the `empla_session` cookie
//! (HttpOnly, SameSite=Strict, Path=/ui, Max-Age of the session, Secure when the node's
//! public URL is https). Failed attempts are counted per client address; past the limit
//! the client waits (429 with Retry-After). The token itself is never kept or shown.

use super::{Visitor, refused, render};
use crate::api::ApiState;
use crate::api::auth::{Checked, SESSION_COOKIE, constant_time_eq, secret};
use crate::api::tenancy::cookie;
use crate::model::Role;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use std::net::SocketAddr;

/// The cookie holding the login form's CSRF value.
const LOGIN_CSRF_COOKIE: &str = "empla_login_csrf";
/// How long a login form may wait before it is sent.
const LOGIN_FORM_SECS: i64 = 15 * 60;

/// The login form's fields.
#[derive(serde::Deserialize)]
pub(super) struct LoginForm {
    token: String,
    csrf: String,
}

/// The logout form's fields.
#[derive(serde::Deserialize)]
pub(super) struct LogoutForm {
    csrf: String,
}

fn secure(s: &ApiState) -> &'static str {
    if s.node.a2a_config().public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    }
}

fn set_cookie(value: &str) -> (header::HeaderName, HeaderValue) {
    (
        header::SET_COOKIE,
        HeaderValue::from_str(value).expect("cookie values are hex"),
    )
}

/// The login page, with a fresh CSRF value in its form and in a cookie.
pub(super) async fn form(State(s): State<ApiState>) -> Response {
    login_page(&s, StatusCode::OK, None)
}

fn login_page(s: &ApiState, status: StatusCode, error: Option<&str>) -> Response {
    let csrf = secret("");
    let cookie = format!(
        "{LOGIN_CSRF_COOKIE}={csrf}; HttpOnly; SameSite=Strict; Path=/ui; Max-Age={LOGIN_FORM_SECS}{}",
        secure(s)
    );
    (
        status,
        [set_cookie(&cookie)],
        render("login.html", minijinja::context! { csrf, error }),
    )
        .into_response()
}

/// Checks the token and opens a session.
pub(super) async fn submit(
    State(s): State<ApiState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let client = peer.map_or_else(|| "unknown".to_string(), |p| p.0.0.ip().to_string());
    if let Some(wait) = s.auth.login_wait(&client) {
        let secs = wait.as_secs().max(1);
        let mut r = refused(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("Too many failed sign-ins from this address. Try again in {secs} seconds."),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return r;
    }
    let sent = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if sent.is_empty() || !constant_time_eq(sent.as_bytes(), f.csrf.as_bytes()) {
        return login_page(
            &s,
            StatusCode::FORBIDDEN,
            Some("The form had expired or was not sent from this page. Please sign in again."),
        );
    }
    let principal = match s.auth.check(f.token.trim()).await {
        Ok(Checked::Valid(p)) => p,
        Ok(Checked::Suspended(t)) => {
            return login_page(
                &s,
                StatusCode::FORBIDDEN,
                Some(&format!(
                    "Tenant {t} is suspended; its tokens are refused until the node admin resumes it."
                )),
            );
        }
        Ok(Checked::Unknown) => {
            s.auth.login_failed(&client);
            return login_page(
                &s,
                StatusCode::UNAUTHORIZED,
                Some("That token is not valid."),
            );
        }
        Err(e) => return crate::api::ApiError::from(e).into_response(),
    };
    if principal.role == Role::Agent {
        return login_page(
            &s,
            StatusCode::FORBIDDEN,
            Some(
                "An agent token speaks A2A and MCP only; sign in with an operator, viewer or admin token.",
            ),
        );
    }
    let (value, session) = match s.auth.open_session(&principal).await {
        Ok(x) => x,
        Err(e) => return crate::api::ApiError::from(e).into_response(),
    };
    let max_age = (session.expires_at - chrono::Utc::now())
        .num_seconds()
        .max(0);
    let session_cookie = format!(
        "{SESSION_COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/ui; Max-Age={max_age}{}",
        secure(&s)
    );
    let spent = format!(
        "{LOGIN_CSRF_COOKIE}=; HttpOnly; SameSite=Strict; Path=/ui; Max-Age=0{}",
        secure(&s)
    );
    let mut r = Redirect::to("/ui/").into_response();
    r.headers_mut()
        .append(header::SET_COOKIE, set_cookie(&session_cookie).1);
    r.headers_mut()
        .append(header::SET_COOKIE, set_cookie(&spent).1);
    r
}

/// Ends the session and forgets its cookie.
pub(super) async fn logout(
    State(s): State<ApiState>,
    v: Visitor,
    headers: HeaderMap,
    Form(f): Form<LogoutForm>,
) -> Response {
    if !constant_time_eq(f.csrf.as_bytes(), v.session.csrf.as_bytes()) {
        return refused(
            StatusCode::FORBIDDEN,
            "The form was not sent from this session's page. Reload the page and try again.",
        );
    }
    if let Some(c) = cookie(&headers, SESSION_COOKIE)
        && let Err(e) = s.auth.close_session(c).await
    {
        return crate::api::ApiError::from(e).into_response();
    }
    let gone = format!(
        "{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/ui; Max-Age=0{}",
        secure(&s)
    );
    ([set_cookie(&gone)], Redirect::to("/ui/login")).into_response()
}
