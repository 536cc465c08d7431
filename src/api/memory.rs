//! Memory: `/api/v1/employees/{id}/memory/...` (search, facts, why) and
//! `/api/v1/knowledge` (publish to shared knowledge).

use super::employees::{Items, int_param, only_params, resolve};
use super::{ApiError, ApiState, JsonBody};
use crate::memory::{
    Consolidated, Fact, Forgotten, Item, Mode, Procedure, Published, Recall, Visibility,
};
use crate::model::{Episode, EpisodeId};
use crate::node::{MemoryError, Publish};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use std::collections::HashMap;
use utoipa::ToSchema;

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/employees/{id}/memory/search", get(search))
        .route("/employees/{id}/memory/facts", get(facts))
        .route("/employees/{id}/memory/why/{episode}", get(why))
        .route("/employees/{id}/memory/procedures", get(procedures))
        .route("/employees/{id}/memory/working", get(working))
        .route("/employees/{id}/memory/consolidate", post(consolidate))
        .route("/knowledge", post(publish))
        .route("/memory/forget", post(forget))
}

fn memory_error(e: MemoryError) -> ApiError {
    match e {
        MemoryError::NotFound => ApiError::NotFound("no such employee".into()),
        MemoryError::Invalid(m) => ApiError::BadRequest(m),
        MemoryError::Store(e) => e.into(),
        MemoryError::Unavailable(m) => ApiError::Unavailable(m),
    }
}

/// A time bound: RFC 3339 (`2026-11-01T09:00:00Z`) or a date (`2026-11-01`, the start
/// of that day in UTC; as `to`, the end of it).
pub(super) fn time_param(
    q: &HashMap<String, String>,
    name: &str,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(v) = q.get(name) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        let d = if name == "to" {
            d.succ_opt().unwrap_or(d)
        } else {
            d
        };
        return Ok(Some(
            d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc(),
        ));
    }
    Err(ApiError::BadRequest(format!(
        "query parameter `{name}` must be a time such as 2026-11-01T09:00:00Z or a date such as 2026-11-01, got {v:?}"
    )))
}

fn offset_param(q: &HashMap<String, String>) -> Result<usize, ApiError> {
    match q.get("offset") {
        None => Ok(0),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= 10_000)
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "query parameter `offset` must be a whole number from 0 to 10000, got {v:?}"
                ))
            }),
    }
}

/// Recall: what the employee remembers about `q`, best first.
#[utoipa::path(get, path = "/api/v1/employees/{id}/memory/search", params(
    ("id" = String, Path),
    ("q" = Option<String>, Query, description = "what to look for; without it, the other filters list episodes newest first"),
    ("from" = Option<String>, Query, description = "RFC 3339 time or date: only memories at or after it"),
    ("to" = Option<String>, Query, description = "RFC 3339 time or date (inclusive day): only memories before it"),
    ("with" = Option<String>, Query, description = "a participant's name or address: only episodes involving them"),
    ("mode" = Option<String>, Query, description = "text, vector or hybrid (default)"),
    ("limit" = Option<i64>, Query, description = "1..=200, default 20"),
    ("offset" = Option<i64>, Query, description = "items to skip, 0..=10000")),
    responses((status = 200, body = Object), (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub(crate) async fn search(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Items<Item>>, ApiError> {
    only_params(&q, &["q", "from", "to", "with", "mode", "limit", "offset"])?;
    let id = resolve(&s, &key)?;
    let mode = match q.get("mode").map(String::as_str) {
        None | Some("") => Mode::Hybrid,
        Some(m) => Mode::parse(m).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "query parameter `mode` must be text, vector or hybrid, got {m:?}"
            ))
        })?,
    };
    let (from, to) = (time_param(&q, "from")?, time_param(&q, "to")?);
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        return Err(ApiError::BadRequest(
            "query parameters `from` and `to` give an empty range: `from` must be before `to`"
                .into(),
        ));
    }
    let text = q.get("q").cloned().unwrap_or_default();
    if mode == Mode::Vector && text.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "query parameter `q` is needed with mode=vector: the situation to find similar memories to".into(),
        ));
    }
    let r = Recall {
        q: text,
        from,
        to,
        with: q.get("with").cloned().filter(|w| !w.trim().is_empty()),
        mode,
        limit: int_param(&q, "limit", 20, 200)? as usize,
        offset: offset_param(&q)?,
    };
    let items = s.node.recall(id, &r).await.map_err(memory_error)?;
    Ok(Json(Items { items }))
}

/// The facts the employee knows about `subject` (and within `depth` hops of it).
#[utoipa::path(get, path = "/api/v1/employees/{id}/memory/facts", params(
    ("id" = String, Path),
    ("subject" = Option<String>, Query, description = "a name; without it, every fact the employee may see, newest first"),
    ("depth" = Option<i64>, Query, description = "hops from the subject, 1..=6, default 1"),
    ("limit" = Option<i64>, Query, description = "1..=1000, default 100"),
    ("offset" = Option<i64>, Query, description = "items to skip, 0..=10000")),
    responses((status = 200, body = Object), (status = 400, body = super::error::ErrorBody)))]
pub(crate) async fn facts(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Items<Fact>>, ApiError> {
    only_params(&q, &["subject", "depth", "limit", "offset"])?;
    let id = resolve(&s, &key)?;
    let depth = int_param(&q, "depth", 1, 6)? as usize;
    let limit = int_param(&q, "limit", 100, 1000)? as usize;
    let items = s
        .node
        .facts(
            id,
            q.get("subject").map(String::as_str),
            depth,
            limit,
            offset_param(&q)?,
        )
        .await
        .map_err(memory_error)?;
    Ok(Json(Items { items }))
}

/// "Why did I do this?": the episode, then what caused it, back to the first event.
#[utoipa::path(get, path = "/api/v1/employees/{id}/memory/why/{episode}", params(("id" = String, Path), ("episode" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = super::error::ErrorBody)))]
pub(crate) async fn why(
    State(s): State<ApiState>,
    Path((key, episode)): Path<(String, String)>,
) -> Result<Json<Items<Episode>>, ApiError> {
    let id = resolve(&s, &key)?;
    let episode: EpisodeId = episode
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("`{episode}` is not an episode id (a UUID)")))?;
    let items = s.node.why(id, episode).await.map_err(memory_error)?;
    if items.is_empty() {
        return Err(ApiError::NotFound(format!(
            "employee {key} has no episode {episode}"
        )));
    }
    Ok(Json(Items { items }))
}

/// A document to publish.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PublishBody {
    /// Title.
    title: String,
    /// The text, Markdown or plain.
    text: String,
    /// Where it comes from (a path, a URL); publishing again from the same source
    /// replaces the earlier version.
    #[serde(default)]
    source: Option<String>,
    /// private, team or company (default).
    #[serde(default)]
    visibility: Option<Visibility>,
    /// The publishing employee (id or chat handle); needed for private and team.
    #[serde(default)]
    employee: Option<String>,
}

/// Publish a document to shared knowledge: chunked, embedded, searchable by everyone
/// it is visible to, its plain statements added to the knowledge graph.
#[utoipa::path(post, path = "/api/v1/knowledge", request_body = PublishBody,
    responses((status = 201, body = Published), (status = 400, body = super::error::ErrorBody)))]
pub(crate) async fn publish(
    State(s): State<ApiState>,
    JsonBody(b): JsonBody<PublishBody>,
) -> Result<(StatusCode, Json<Published>), ApiError> {
    if b.title.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "`title` is empty; give the document a title".into(),
        ));
    }
    let employee = b.employee.as_deref().map(|k| resolve(&s, k)).transpose()?;
    let p = Publish {
        title: b.title,
        text: b.text,
        source: b.source,
        visibility: b.visibility.unwrap_or(Visibility::Company),
        employee,
    };
    let published = s.node.publish(p).await.map_err(memory_error)?;
    Ok((StatusCode::CREATED, Json(published)))
}

/// Whom to forget.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ForgetBody {
    /// A full name, an address, or `Name <address>`.
    person: String,
}

/// The right to be forgotten: removes every episode naming or involving the person
/// (and the events they recorded), every fact about them and every knowledge chunk
/// naming them, for every employee of the tenant.
#[utoipa::path(post, path = "/api/v1/memory/forget", request_body = ForgetBody,
    responses((status = 200, body = Forgotten), (status = 400, body = super::error::ErrorBody)))]
pub(crate) async fn forget(
    State(s): State<ApiState>,
    JsonBody(b): JsonBody<ForgetBody>,
) -> Result<Json<Forgotten>, ApiError> {
    Ok(Json(s.node.forget(&b.person).await.map_err(memory_error)?))
}

/// Procedural memory: how each workflow has fared for each kind of task, best first.
#[utoipa::path(get, path = "/api/v1/employees/{id}/memory/procedures", params(
    ("id" = String, Path), ("task" = Option<String>, Query, description = "only this kind of task (the event that starts it)")),
    responses((status = 200, body = Object)))]
pub(crate) async fn procedures(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Items<Procedure>>, ApiError> {
    only_params(&q, &["task"])?;
    let id = resolve(&s, &key)?;
    let items = s
        .node
        .procedures(id, q.get("task").map(String::as_str))
        .await
        .map_err(memory_error)?;
    Ok(Json(Items { items }))
}

/// Which day to consolidate.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConsolidateBody {
    /// The day, e.g. 2026-11-30 (UTC); yesterday by default.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    day: Option<NaiveDate>,
}

/// Consolidates a day of the employee's memory now: summary, repeated facts, procedural
/// statistics. Running it again changes nothing.
#[utoipa::path(post, path = "/api/v1/employees/{id}/memory/consolidate", params(("id" = String, Path)),
    request_body(content = ConsolidateBody, description = "optional"),
    responses((status = 200, body = Consolidated), (status = 400, body = super::error::ErrorBody)))]
pub(crate) async fn consolidate(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Consolidated>, ApiError> {
    let id = resolve(&s, &key)?;
    let b: ConsolidateBody = if body.iter().all(u8::is_ascii_whitespace) {
        ConsolidateBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::BadRequest(format!(
                "malformed body: {e}; send {{\"day\": \"2026-11-30\"}} or nothing"
            ))
        })?
    };
    let day = b
        .day
        .unwrap_or_else(|| (Utc::now() - chrono::Duration::days(1)).date_naive());
    Ok(Json(
        s.node.consolidate(id, day).await.map_err(memory_error)?,
    ))
}

/// Working memory: the employee's active tasks, latest interactions and recent recalls,
/// within its token budget (`memory.working_memory_tokens`).
#[utoipa::path(get, path = "/api/v1/employees/{id}/memory/working", params(("id" = String, Path)),
    responses((status = 200, body = crate::memory::WorkingMemory), (status = 404, body = super::error::ErrorBody)))]
pub(crate) async fn working(
    State(s): State<ApiState>,
    Path(key): Path<String>,
) -> Result<Json<crate::memory::WorkingMemory>, ApiError> {
    let id = resolve(&s, &key)?;
    Ok(Json(s.node.working_memory(id).await.map_err(memory_error)?))
}
