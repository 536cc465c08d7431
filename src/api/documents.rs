//! Documents over HTTP: the list (`?employee=`, `?account=`, `?kind=`), one document's
//! record, and its content as PDF, DOCX or Markdown.

use super::params::{FromParams, Params, QueryString};
use super::wire::{ContentQuery, DocumentsQuery, Items};
use super::{ApiError, ApiState};
use crate::capabilities::documents::{Document, DocumentError, DocumentFilter, Format, file_name};
use crate::store::Page;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/documents", get(documents))
        .route("/documents/{id}", get(document))
        .route("/documents/{id}/content", get(content))
}

impl From<DocumentError> for ApiError {
    fn from(e: DocumentError) -> Self {
        match e {
            DocumentError::Invalid(m) => ApiError::BadRequest(m),
            DocumentError::Setup(m) => {
                tracing::warn!(error = %m, "a document could not be set");
                ApiError::Unavailable(m)
            }
            DocumentError::Store(e) => e.into(),
        }
    }
}

impl FromParams for DocumentsQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["employee", "account", "kind", "limit", "offset"])?;
        Ok(Self {
            employee: p.text("employee"),
            account: p.text("account"),
            kind: p.text("kind"),
            limit: p.whole("limit", 1, 1000)?,
            offset: p.at_least("offset", 0)?,
        })
    }
}

impl FromParams for ContentQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["format"])?;
        Ok(Self {
            format: p.text("format"),
        })
    }
}

/// Documents, newest first.
#[utoipa::path(get, path = "/api/v1/documents", params(DocumentsQuery), responses((status = 200, body = Object), (status = 400, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn documents(
    State(s): State<ApiState>,
    QueryString(q): QueryString<DocumentsQuery>,
) -> Result<Json<Items<Document>>, ApiError> {
    let employee = q
        .employee
        .map(|w| {
            s.node
                .crm()
                .employee("employee", &w)
                .map_err(ApiError::from)
        })
        .transpose()?;
    let f = DocumentFilter {
        employee,
        account: q.account,
        kind: q.kind,
    };
    let page = Page {
        limit: q.limit.unwrap_or(100),
        offset: q.offset.unwrap_or(0),
    };
    Ok(Json(Items {
        items: s.node.documents(&f, page).await?,
    }))
}

fn missing(id: &str) -> ApiError {
    ApiError::NotFound(format!("no document with id {id:?}"))
}

/// One document's record.
#[utoipa::path(get, path = "/api/v1/documents/{id}", params(("id" = String, Path)), responses((status = 200, body = Document), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn document(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Document>, ApiError> {
    s.node
        .document(&id)
        .await?
        .map(Json)
        .ok_or_else(|| missing(&id))
}

/// A document's content: `?format=pdf` (the default, as it was sent), `docx` or `md`.
#[utoipa::path(get, path = "/api/v1/documents/{id}/content", params(("id" = String, Path), ContentQuery), responses((status = 200, description = "The document in the format asked for", content((Vec<u8> = "application/pdf"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"), (String = "text/markdown"))), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn content(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    QueryString(q): QueryString<ContentQuery>,
) -> Result<Response, ApiError> {
    let asked = q.format.as_deref().unwrap_or("pdf");
    let format = Format::parse(asked).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "`format` must be `pdf`, `docx` or `md`, got {asked:?}"
        ))
    })?;
    let doc = s.node.document(&id).await?.ok_or_else(|| missing(&id))?;
    let bytes = s
        .node
        .document_content(&id, format)
        .await?
        .ok_or_else(|| missing(&id))?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        file_name(&doc.title, format).replace('"', "")
    );
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
