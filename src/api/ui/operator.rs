//! The operator's pages: events set aside after crashing their employee (retry or
//! drop), the node's and the cluster's health, language-model use against its budgets
//! (`GET /ui/operator`); and the tenant's audit trail, for admins only
//! (`GET /ui/audit`).

use super::pages::frame;
use super::{Visitor, back_to, refused, render};
use crate::api::{ApiError, ApiState};
use crate::model::{EmployeeStatus, EventId, Role};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Dead letters shown per employee.
const DEAD_LETTERS_SHOWN: i64 = 20;
/// Audit entries per page.
const AUDIT_PAGE: i64 = 100;

/// The operator page.
pub(super) async fn page(State(s): State<ApiState>, v: Visitor) -> Response {
    let live = super::live::url(&s, None).await;
    let node = &s.node;
    let team = match node.team_status().await {
        Ok(t) => t,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let mut dead = Vec::new();
    for (p, _) in &team {
        if p.status == EmployeeStatus::Offboarded {
            continue;
        }
        if let Ok(letters) = node.dead_letters(p.id, DEAD_LETTERS_SHOWN).await {
            for d in letters {
                dead.push(minijinja::context! {
                    employee => p.chat_handle.as_str(),
                    name => p.name.as_str(),
                    event_id => d.event.id.to_string(),
                    kind => d.event.kind,
                    attempts => d.attempts,
                    reason => d.reason,
                    set_aside_at => d.set_aside_at.to_rfc3339(),
                });
            }
        }
    }
    let mut states = std::collections::BTreeMap::<String, usize>::new();
    for (_, r) in &team {
        *states
            .entry(format!("{:?}", r.state).to_lowercase())
            .or_default() += 1;
    }
    let cluster = match node.cluster_status().await {
        Ok(c) => c,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let day = crate::llm::day_of(chrono::Utc::now());
    let usage = match node.llm_usage(None, day).await {
        Ok(u) => u,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let names: std::collections::HashMap<_, _> =
        team.iter().map(|(p, _)| (p.id, p.name.as_str())).collect();
    let usage: Vec<_> = usage
        .iter()
        .map(|u| {
            minijinja::context! {
                employee => names.get(&u.employee).copied().unwrap_or("(offboarded)"),
                provider => u.provider.as_str(),
                model => u.model.as_str(),
                calls => u.calls,
                tokens => u.total_tokens,
                cost => format!("{:.4}", u.cost_usd),
            }
        })
        .collect();
    let cfg = node.llm().config();
    render(
        "operator.html",
        minijinja::context! {
            dead,
            states => minijinja::value::Serde(&states),
            employees => team.len(),
            cluster => minijinja::value::Serde(&cluster),
            usage,
            day => day.to_string(),
            models => node.llm().describe(),
            token_budget => cfg.daily_token_budget,
            cost_budget => cfg.daily_cost_usd,
            ..frame(&v, &live),
        },
    )
    .into_response()
}

/// A dead letter's form.
#[derive(serde::Deserialize)]
pub(super) struct DeadLetterForm {
    csrf: String,
}

/// Retries an event set aside.
pub(super) async fn retry(
    State(s): State<ApiState>,
    v: Visitor,
    Path((key, event)): Path<(String, String)>,
    Form(f): Form<DeadLetterForm>,
) -> Response {
    dead_letter(s, v, key, event, f, true).await
}

/// Drops an event set aside.
pub(super) async fn drop_one(
    State(s): State<ApiState>,
    v: Visitor,
    Path((key, event)): Path<(String, String)>,
    Form(f): Form<DeadLetterForm>,
) -> Response {
    dead_letter(s, v, key, event, f, false).await
}

async fn dead_letter(
    s: ApiState,
    v: Visitor,
    key: String,
    event: String,
    f: DeadLetterForm,
    retry: bool,
) -> Response {
    if let Some(r) = v.refuse_write(&f.csrf) {
        return r;
    }
    let (Some(id), Ok(event)) = (s.node.resolve(&key), event.parse::<EventId>()) else {
        return refused(StatusCode::NOT_FOUND, "No such employee or event.");
    };
    let done = if retry {
        s.node.retry_dead_letter(id, event).await
    } else {
        s.node.drop_dead_letter(id, event).await
    };
    match done {
        Ok(()) => back_to(Some("/ui/operator")),
        Err(e) => crate::api::supervision::dead_letter_error(e).into_response(),
    }
}

/// The audit page's query.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct AuditQuery {
    actor: Option<String>,
    after: Option<i64>,
}

/// The tenant's audit trail, oldest first from `after`; admins only.
pub(super) async fn audit(
    State(s): State<ApiState>,
    v: Visitor,
    Query(q): Query<AuditQuery>,
) -> Response {
    if v.who.role != Role::Admin {
        return refused(
            StatusCode::FORBIDDEN,
            "Only an admin of the tenant reads the audit trail.",
        );
    }
    let actor = q.actor.as_deref().filter(|a| !a.is_empty());
    let entries = match s
        .node
        .store()
        .audit_trail(
            v.who.tenant.as_str(),
            None,
            actor,
            q.after.unwrap_or(0),
            AUDIT_PAGE,
        )
        .await
    {
        Ok(e) => e,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let next = (entries.len() as i64 == AUDIT_PAGE)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    render(
        "audit.html",
        minijinja::context! {
            entries => minijinja::value::Serde(&entries),
            filter_actor => actor,
            next,
            ..frame(&v, ""),
        },
    )
    .into_response()
}
