//! The employee page (`GET /ui/employees/{id}`) and what can be done there: approve or
//! reject (with a reason) an action waiting for a human, seeing the exact mail or
//! action that would go out; decide an escalation; give feedback (praise or a
//! correction). Each form posts back here through the node's own methods.

use super::pages::frame;
use super::team::{goal_bars, phase_name, status_in_words};
use super::{Visitor, back_to, refused, render};
use crate::api::{ApiError, ApiState};
use crate::model::{ApprovalId, ApprovalStatus, EmployeeId, EpisodeId, EscalationStatus, Verdict};
use crate::node::{DecideError, EscalationError};
use crate::store::{DocumentFilter, Page};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// How many of each list the page shows.
const SHOWN: i64 = 25;
/// How many of an employee's approvals are read to find its latest decided ones.
const DECIDED_READ: i64 = 1000;

fn no_employee(key: &str) -> Response {
    refused(StatusCode::NOT_FOUND, &format!("No employee {key:?}."))
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "the dashboard could not read what a page shows");
    ApiError::Unavailable("the store is unavailable; nothing was changed; retry shortly".into())
        .into_response()
}

/// The page's query: the episode whose cause chain to show.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct PageQuery {
    why: Option<String>,
}

/// The employee page.
pub(super) async fn page(
    State(s): State<ApiState>,
    v: Visitor,
    Path(key): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    match employee_page(&s, &v, &key, q).await {
        Ok(r) | Err(r) => r,
    }
}

async fn employee_page(
    s: &ApiState,
    v: &Visitor,
    key: &str,
    q: PageQuery,
) -> Result<Response, Response> {
    let id: EmployeeId = s.node.resolve(key).ok_or_else(|| no_employee(key))?;
    let node = &s.node;
    let profile = node
        .employee(id)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| no_employee(key))?;
    let live = super::live::url(s, Some((id, &profile.chat_handle))).await;
    // Its own account (the employee answers for itself).
    let runtime = match node.employee_runtime(id).await {
        Ok(r) => r,
        Err(e) => {
            return Err(refused(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("{} cannot be reached now: {e}", profile.name),
            ));
        }
    };
    // The queue lists oldest first: the pending ones by themselves (however many were
    // decided before them), the decided ones newest first.
    let pending = node
        .approvals(Some(id), Some(ApprovalStatus::Pending), SHOWN)
        .await
        .map_err(unavailable)?;
    let mut decided: Vec<_> = node
        .approvals(Some(id), None, DECIDED_READ)
        .await
        .map_err(unavailable)?
        .into_iter()
        .filter(|a| a.status != ApprovalStatus::Pending)
        .collect();
    decided.reverse();
    decided.truncate(SHOWN as usize);
    let escalations = node
        .escalations(Some(id), None, SHOWN)
        .await
        .map_err(unavailable)?;
    let (open_cases, closed_cases): (Vec<_>, Vec<_>) = escalations
        .into_iter()
        .partition(|e| e.status == EscalationStatus::Pending);
    let actions = node.actions(id, SHOWN).await.map_err(unavailable)?;
    let actions: Vec<_> = actions
        .into_iter()
        .map(|r| {
            minijinja::context! {
                id => r.entry.action_id,
                kind => r.entry.kind,
                params => minijinja::value::Serde(&r.entry.params),
                status => r.status.as_str(),
            }
        })
        .collect();
    let episodes = node.episodes(id, SHOWN, None).await.map_err(unavailable)?;
    let episodes: Vec<_> = episodes.into_iter().map(|(_, e)| e).collect();
    let why = match q.why.as_deref().map(str::parse::<EpisodeId>) {
        Some(Ok(ep)) => node.why(id, ep).await.unwrap_or_default(),
        _ => Vec::new(),
    };
    let documents = node
        .documents(
            &DocumentFilter {
                employee: Some(id.to_string()),
                ..Default::default()
            },
            Page {
                limit: SHOWN,
                offset: 0,
            },
        )
        .await
        .unwrap_or_default();
    let reviews = node.reviews(id, 5).await.unwrap_or_default();
    let connections = node.connections(id).await.unwrap_or_default();
    let providers: Vec<&String> = node.oauth().config().providers.keys().collect();
    let here = format!("/ui/employees/{}", profile.chat_handle);
    let html = render(
        "employee.html",
        minijinja::context! {
            here,
            profile => minijinja::value::Serde(&profile),
            status => status_in_words(&runtime),
            phase => phase_name(&runtime),
            runtime => minijinja::value::Serde(&runtime),
            goals => minijinja::value::Serde(goal_bars(&runtime)),
            pending => minijinja::value::Serde(&pending),
            decided => minijinja::value::Serde(&decided),
            open_cases => minijinja::value::Serde(&open_cases),
            closed_cases => minijinja::value::Serde(&closed_cases),
            actions,
            episodes => minijinja::value::Serde(&episodes),
            why => minijinja::value::Serde(&why),
            documents => minijinja::value::Serde(&documents),
            reviews => minijinja::value::Serde(&reviews),
            connections => minijinja::value::Serde(&connections),
            providers => minijinja::value::Serde(&providers),
            ..frame(v, &live),
        },
    );
    Ok(html.into_response())
}

/// An approval's form.
#[derive(serde::Deserialize)]
pub(super) struct DecisionForm {
    csrf: String,
    #[serde(default)]
    reason: String,
    back: Option<String>,
}

/// Approves an action waiting for a human.
pub(super) async fn approve(
    State(s): State<ApiState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(f): Form<DecisionForm>,
) -> Response {
    decide_approval(s, v, id, true, f).await
}

/// Rejects an action waiting for a human, with a reason.
pub(super) async fn reject(
    State(s): State<ApiState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(f): Form<DecisionForm>,
) -> Response {
    if f.reason.trim().is_empty() {
        return refused(
            StatusCode::BAD_REQUEST,
            "Say why it is rejected: the employee learns from the reason.",
        );
    }
    decide_approval(s, v, id, false, f).await
}

async fn decide_approval(
    s: ApiState,
    v: Visitor,
    id: String,
    approved: bool,
    f: DecisionForm,
) -> Response {
    if let Some(r) = v.refuse_write(&f.csrf) {
        return r;
    }
    let Ok(approval) = id.parse::<ApprovalId>() else {
        return refused(StatusCode::NOT_FOUND, "No such approval.");
    };
    let reason = Some(f.reason.trim().to_string()).filter(|r| !r.is_empty());
    match s
        .node
        .decide(approval, approved, &v.who.actor, reason)
        .await
    {
        Ok(_) => back_to(f.back.as_deref()),
        Err(DecideError::NotFound) => refused(StatusCode::NOT_FOUND, "No such approval."),
        Err(e @ DecideError::AlreadyDecided(..)) => refused(
            StatusCode::CONFLICT,
            &format!("{e}; a decision cannot be changed."),
        ),
        Err(DecideError::Store(e)) => ApiError::from(e).into_response(),
    }
}

/// An escalation's form.
#[derive(serde::Deserialize)]
pub(super) struct VerdictForm {
    csrf: String,
    decision: String,
    #[serde(default)]
    reason: String,
    back: Option<String>,
}

/// Decides an escalation.
pub(super) async fn decide(
    State(s): State<ApiState>,
    v: Visitor,
    Path(id): Path<String>,
    Form(f): Form<VerdictForm>,
) -> Response {
    if let Some(r) = v.refuse_write(&f.csrf) {
        return r;
    }
    let Some(verdict) = Verdict::parse(&f.decision) else {
        return refused(
            StatusCode::BAD_REQUEST,
            "The decision must be approve or reject.",
        );
    };
    let reason = Some(f.reason.trim()).filter(|r| !r.is_empty());
    match s
        .node
        .decide_escalation(&id, verdict, reason, &v.who.actor)
        .await
    {
        Ok(_) => back_to(f.back.as_deref()),
        Err(EscalationError::NotFound) => refused(StatusCode::NOT_FOUND, "No such escalation."),
        Err(e @ EscalationError::AlreadyDecided(..)) => refused(
            StatusCode::CONFLICT,
            &format!("{e}; a human's decision is not changed."),
        ),
        Err(EscalationError::Store(e)) => ApiError::from(e).into_response(),
    }
}

/// The feedback box's form.
#[derive(serde::Deserialize)]
pub(super) struct FeedbackForm {
    csrf: String,
    /// `praise` or `correction`.
    kind: String,
    text: String,
}

/// Gives the employee feedback on its latest work: praise rates it well, a correction
/// is kept in words.
pub(super) async fn feedback(
    State(s): State<ApiState>,
    v: Visitor,
    Path(key): Path<String>,
    Form(f): Form<FeedbackForm>,
) -> Response {
    if let Some(r) = v.refuse_write(&f.csrf) {
        return r;
    }
    let Some(id) = s.node.resolve(&key) else {
        return no_employee(&key);
    };
    let text = f.text.trim().to_string();
    let (rating, correction, text) = match f.kind.as_str() {
        "praise" => (Some(1.0), None, Some(text).filter(|t| !t.is_empty())),
        "correction" if !text.is_empty() => (None, Some(text), None),
        "correction" => {
            return refused(
                StatusCode::BAD_REQUEST,
                "Write the correction, e.g. \"too formal\".",
            );
        }
        _ => {
            return refused(
                StatusCode::BAD_REQUEST,
                "Feedback is praise or a correction.",
            );
        }
    };
    match s.node.feedback(id, rating, correction, text).await {
        Ok(_) => back_to(Some(&format!("/ui/employees/{key}"))),
        Err(e) => refused(
            StatusCode::BAD_REQUEST,
            &format!("The feedback was not taken: {e}"),
        ),
    }
}

/// The connect form: which provider.
#[derive(serde::Deserialize)]
pub(super) struct ConnectForm {
    csrf: String,
    provider: String,
}

/// Starts connecting the employee's account at a provider: the browser is sent on to
/// the provider to consent, and comes back to `/oauth/callback`.
pub(super) async fn connect(
    State(s): State<ApiState>,
    v: Visitor,
    Path(key): Path<String>,
    headers: axum::http::HeaderMap,
    Form(f): Form<ConnectForm>,
) -> Response {
    if let Some(r) = v.refuse_write(&f.csrf) {
        return r;
    }
    let Some(id) = s.node.resolve(&key) else {
        return no_employee(&key);
    };
    let base = crate::api::a2a::base_url("", &headers);
    match s.node.connect(id, &f.provider, &base).await {
        Ok(started) => axum::response::Redirect::to(&started.authorize_url).into_response(),
        Err(e) => refused(
            StatusCode::BAD_REQUEST,
            &format!("The connection could not be started: {e}"),
        ),
    }
}
