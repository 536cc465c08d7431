//! Memory: `/api/v1/employees/{id}/memory/...` (search, facts, why) and
//! `/api/v1/knowledge` (publish to shared knowledge).

use super::employees::resolve;
use super::params::{FromParams, Params, QueryString, time_bound};
use super::wire::{
    ConsolidateBody, FactsQuery, ForgetBody, Items, ProceduresQuery, PublishBody, RecallQuery,
};
use super::{ApiError, ApiState, JsonBody};
use crate::memory::{
    Consolidated, Fact, Forgotten, Item, Mode, Procedure, Published, Recall, Visibility,
};
use crate::model::{Episode, EpisodeId};
use crate::node::{MemoryError, Publish};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;

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

/// Items to skip: at most this many.
const MAX_OFFSET: i64 = 10_000;

impl FromParams for RecallQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["q", "from", "to", "with", "mode", "limit", "offset"])?;
        Ok(Self {
            q: p.text("q"),
            from: p.text("from"),
            to: p.text("to"),
            with: p.text("with"),
            mode: p.text("mode"),
            limit: p.whole("limit", 1, 200)?,
            offset: p.whole("offset", 0, MAX_OFFSET)?,
        })
    }
}

impl FromParams for FactsQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["subject", "depth", "limit", "offset"])?;
        Ok(Self {
            subject: p.text("subject"),
            depth: p.whole("depth", 1, 6)?,
            limit: p.whole("limit", 1, 1000)?,
            offset: p.whole("offset", 0, MAX_OFFSET)?,
        })
    }
}

impl FromParams for ProceduresQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["task"])?;
        Ok(Self {
            task: p.text("task"),
        })
    }
}

/// Recall: what the employee remembers about `q`, best first.
#[utoipa::path(get, path = "/api/v1/employees/{id}/memory/search", params(("id" = String, Path), RecallQuery),
    responses((status = 200, body = Object), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn search(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    QueryString(q): QueryString<RecallQuery>,
) -> Result<Json<Items<Item>>, ApiError> {
    let id = resolve(&s, &key)?;
    let mode = match q.mode.as_deref() {
        None | Some("") => Mode::Hybrid,
        Some(m) => Mode::parse(m).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "query parameter `mode` must be text, vector or hybrid, got {m:?}"
            ))
        })?,
    };
    let from = time_bound("from", q.from.as_deref())?;
    let to = time_bound("to", q.to.as_deref())?;
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        return Err(ApiError::BadRequest(
            "query parameters `from` and `to` give an empty range: `from` must be before `to`"
                .into(),
        ));
    }
    let text = q.q.unwrap_or_default();
    if mode == Mode::Vector && text.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "query parameter `q` is needed with mode=vector: the situation to find similar memories to".into(),
        ));
    }
    let r = Recall {
        q: text,
        from,
        to,
        with: q.with.filter(|w| !w.trim().is_empty()),
        mode,
        limit: q.limit.unwrap_or(20) as usize,
        offset: q.offset.unwrap_or(0) as usize,
    };
    let items = s.node.recall(id, &r).await.map_err(memory_error)?;
    Ok(Json(Items { items }))
}

/// The facts the employee knows about `subject` (and within `depth` hops of it).
#[utoipa::path(get, path = "/api/v1/employees/{id}/memory/facts", params(("id" = String, Path), FactsQuery),
    responses((status = 200, body = Object), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn facts(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    QueryString(q): QueryString<FactsQuery>,
) -> Result<Json<Items<Fact>>, ApiError> {
    let id = resolve(&s, &key)?;
    let items = s
        .node
        .facts(
            id,
            q.subject.as_deref(),
            q.depth.unwrap_or(1) as usize,
            q.limit.unwrap_or(100) as usize,
            q.offset.unwrap_or(0) as usize,
        )
        .await
        .map_err(memory_error)?;
    Ok(Json(Items { items }))
}

/// "Why did I do this?": the episode, then what caused it, back to the first event.
#[utoipa::path(get, path = "/api/v1/employees/{id}/memory/why/{episode}", params(("id" = String, Path), ("episode" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = super::wire::ErrorBody), (status = 400, description = "the id is not one this node makes", body = super::wire::ErrorBody), super::error::Guarded))]
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

/// Publish a document to shared knowledge: chunked, embedded, searchable by everyone
/// it is visible to, its plain statements added to the knowledge graph.
#[utoipa::path(post, path = "/api/v1/knowledge", request_body = PublishBody,
    responses((status = 201, body = Published), (status = 400, body = super::wire::ErrorBody), (status = 404, description = "no such employee", body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
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

/// The right to be forgotten: removes every copy the node holds of the person — every
/// episode naming or involving them (and the events they recorded), every fact about
/// them and knowledge chunk naming them, their mail (with its attachment files), chat
/// messages, tasks, the actions and approvals for them (pending ones never run), what
/// employees' state holds of them, their CRM contacts — and redacts the mentions of them
/// in records of others. Answers the count per kind.
#[utoipa::path(post, path = "/api/v1/memory/forget", request_body = ForgetBody,
    responses((status = 200, body = Forgotten), (status = 400, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn forget(
    State(s): State<ApiState>,
    peer: Option<axum::Extension<super::cluster::FromPeer>>,
    JsonBody(b): JsonBody<ForgetBody>,
) -> Result<Json<Forgotten>, ApiError> {
    // Asked by another node of the cluster: its employees here forget too, and only
    // they (the asking node has asked every other).
    let f = match peer {
        Some(_) => s.node.forget_here(&b.person).await,
        None => s.node.forget(&b.person).await,
    };
    Ok(Json(f.map_err(memory_error)?))
}

/// Procedural memory: how each workflow has fared for each kind of task, best first.
#[utoipa::path(get, path = "/api/v1/employees/{id}/memory/procedures", params(("id" = String, Path), ProceduresQuery),
    responses((status = 200, body = Object), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn procedures(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    QueryString(q): QueryString<ProceduresQuery>,
) -> Result<Json<Items<Procedure>>, ApiError> {
    let id = resolve(&s, &key)?;
    let items = s
        .node
        .procedures(id, q.task.as_deref())
        .await
        .map_err(memory_error)?;
    Ok(Json(Items { items }))
}

/// Consolidates a day of the employee's memory now: summary, repeated facts, procedural
/// statistics. Running it again changes nothing.
#[utoipa::path(post, path = "/api/v1/employees/{id}/memory/consolidate", params(("id" = String, Path)),
    request_body(content = ConsolidateBody, description = "optional"),
    responses((status = 200, body = Consolidated), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
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
    responses((status = 200, body = crate::memory::WorkingMemory), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn working(
    State(s): State<ApiState>,
    Path(key): Path<String>,
) -> Result<Json<crate::memory::WorkingMemory>, ApiError> {
    let id = resolve(&s, &key)?;
    Ok(Json(s.node.working_memory(id).await.map_err(memory_error)?))
}
