//! The dashboard's live stream (`GET /ui/live`, server-sent events): a `change` event
//! whenever what the open page shows has changed, wherever the change was made (the
//! CLI, the API, another browser, another node of the cluster). The page then fetches
//! itself again (htmx `hx-trigger="sse:change"`).
//!
//! The stream polls a cheap marker from the store — the latest approvals and their
//! status, the open escalations, and for an employee page its latest actions and
//! episode — and says `change` when it moves. It ends with the session, and after a
//! while in any case (the browser reconnects), so a node shutting down never waits
//! long for it.

use super::Visitor;
use crate::api::ApiState;
use crate::model::{ApprovalStatus, EmployeeId, EscalationStatus};
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use std::convert::Infallible;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;

/// How often the marker is read.
const POLL: Duration = Duration::from_millis(1000);
/// How long one stream lasts before the browser is asked to reconnect.
const LIFETIME: Duration = Duration::from_secs(300);
/// How many of the latest approvals, cases and actions the marker covers.
const WATCHED: i64 = 50;

/// The stream's query: the employee whose page is open, if any, and the marker the
/// page was rendered at.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct LiveQuery {
    employee: Option<String>,
    since: Option<u64>,
}

/// The live stream's address for a page about to be rendered (of `employee`, if an
/// employee page): it carries the marker read now, before the page's data, so a change
/// made while the page loads is still announced.
pub(super) async fn url(s: &ApiState, employee: Option<(EmployeeId, &str)>) -> String {
    let since = marker(s, employee.map(|e| e.0)).await;
    match employee {
        Some((_, handle)) => format!("/ui/live?employee={handle}&since={since}"),
        None => format!("/ui/live?since={since}"),
    }
}

/// A digest of what a page shows that changes when something is decided or done.
async fn marker(s: &ApiState, employee: Option<EmployeeId>) -> u64 {
    let node = &s.node;
    let mut h = DefaultHasher::new();
    // The pending queue, straight from the store (a decision takes one out, a new one
    // comes in); not the node's view, which works out each mail's recipients.
    if let Ok(list) = node
        .store()
        .approvals(node.tenant(), None, Some(ApprovalStatus::Pending), WATCHED)
        .await
    {
        for a in list {
            a.id.to_string().hash(&mut h);
        }
    }
    if let Ok(list) = node
        .escalations(None, Some(EscalationStatus::Pending), WATCHED)
        .await
    {
        for e in list {
            e.id.hash(&mut h);
        }
    }
    if let Some(id) = employee {
        if let Ok(list) = node.actions(id, WATCHED).await {
            for r in list {
                (r.entry.action_id, r.status.as_str()).hash(&mut h);
            }
        }
        if let Ok(list) = node.episodes(id, 1, None).await {
            for (seq, _) in list {
                seq.hash(&mut h);
            }
        }
    }
    h.finish()
}

/// The live stream of the open page.
pub(super) async fn stream(
    State(s): State<ApiState>,
    v: Visitor,
    Query(q): Query<LiveQuery>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let employee = q.employee.as_deref().and_then(|k| s.node.resolve(k));
    let ends = v.session.expires_at;
    let started = tokio::time::Instant::now();
    let first = match q.since {
        Some(m) => m,
        None => marker(&s, employee).await,
    };
    let events = futures::stream::unfold((s, first, true), move |(s, last, opening)| async move {
        if opening {
            let hello = Event::default()
                .event("ready")
                .retry(Duration::from_secs(1))
                .data("watching");
            return Some((Ok(hello), (s, last, false)));
        }
        loop {
            tokio::time::sleep(POLL).await;
            if started.elapsed() >= LIFETIME || chrono::Utc::now() >= ends {
                return None;
            }
            let now = marker(&s, employee).await;
            if now != last {
                let change = Event::default().event("change").data("changed");
                return Some((Ok(change), (s, now, false)));
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}
