//! The CRM over HTTP: accounts, contacts and deals (list, create, read, change,
//! delete), the activities logged against them, and CSV imports.

use super::params::{FromParams, Params, QueryString};
use super::wire::{
    AccountsQuery, ActivitiesQuery, ContactsQuery, DealsQuery, ImportQuery, Imported, Items,
};
use super::{ApiError, ApiState, JsonBody};
use crate::capabilities::crm::health::{AccountHealth, MetricValues};
use crate::capabilities::crm::import::{ImportError, ImportKind, import};
use crate::capabilities::crm::{
    Account, AccountPatch, Activity, Contact, ContactPatch, CrmError, Deal, DealPatch, NewAccount,
    NewActivity, NewContact, NewDeal,
};
use crate::store::{AccountFilter, ActivityFilter, DealFilter, Page};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/crm/accounts", get(accounts).post(create_account))
        .route(
            "/crm/accounts/{id}",
            get(account).patch(update_account).delete(delete_account),
        )
        .route("/crm/contacts", get(contacts).post(create_contact))
        .route(
            "/crm/contacts/{id}",
            get(contact).patch(update_contact).delete(delete_contact),
        )
        .route("/crm/deals", get(deals).post(create_deal))
        .route(
            "/crm/deals/{id}",
            get(deal).patch(update_deal).delete(delete_deal),
        )
        .route("/crm/activities", get(activities).post(log_activity))
        .route("/crm/import", post(import_csv))
        .route("/crm/accounts/{id}/metrics", post(account_metrics))
}

impl From<CrmError> for ApiError {
    fn from(e: CrmError) -> Self {
        match e {
            e @ CrmError::Invalid(_) => ApiError::BadRequest(e.to_string()),
            CrmError::NotFound(m) => ApiError::NotFound(m),
            CrmError::Conflict(m) => ApiError::Conflict(m),
            CrmError::Store(e) => e.into(),
            CrmError::Service(m) => {
                tracing::warn!(error = %m, "the CRM failed");
                ApiError::Unavailable(format!("{m}; nothing was changed; retry shortly"))
            }
        }
    }
}

fn page(p: &Params) -> Result<(Option<i64>, Option<i64>), ApiError> {
    Ok((p.whole("limit", 1, 1000)?, p.at_least("offset", 0)?))
}

fn to_page(limit: Option<i64>, offset: Option<i64>) -> Page {
    Page {
        limit: limit.unwrap_or(100),
        offset: offset.unwrap_or(0),
    }
}

impl FromParams for AccountsQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["owner", "limit", "offset"])?;
        let (limit, offset) = page(p)?;
        Ok(Self {
            owner: p.text("owner"),
            limit,
            offset,
        })
    }
}

impl FromParams for ContactsQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["account", "limit", "offset"])?;
        let (limit, offset) = page(p)?;
        Ok(Self {
            account: p.text("account"),
            limit,
            offset,
        })
    }
}

impl FromParams for DealsQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["stage", "owner", "account", "limit", "offset"])?;
        let (limit, offset) = page(p)?;
        Ok(Self {
            stage: p.text("stage"),
            owner: p.text("owner"),
            account: p.text("account"),
            limit,
            offset,
        })
    }
}

impl FromParams for ActivitiesQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["account", "contact", "deal", "limit", "offset"])?;
        let (limit, offset) = page(p)?;
        let q = Self {
            account: p.text("account"),
            contact: p.text("contact"),
            deal: p.text("deal"),
            limit,
            offset,
        };
        if q.account.is_none() && q.contact.is_none() && q.deal.is_none() {
            return Err(ApiError::BadRequest(
                "say whose activities: `?account=ID`, `?contact=ID` or `?deal=ID`".into(),
            ));
        }
        Ok(q)
    }
}

impl FromParams for ImportQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["kind"])?;
        Ok(Self {
            kind: p.required(
                "kind",
                "query parameter `kind` is required: `accounts`, `contacts` or `deals`",
            )?,
        })
    }
}

/// An owner filter as an employee id.
fn owner(s: &ApiState, who: Option<String>) -> Result<Option<String>, ApiError> {
    who.map(|w| s.node.crm().employee("owner", &w).map_err(ApiError::from))
        .transpose()
}

/// Accounts, newest first.
#[utoipa::path(get, path = "/api/v1/crm/accounts", params(AccountsQuery), responses((status = 200, body = Object), (status = 400, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn accounts(
    State(s): State<ApiState>,
    QueryString(q): QueryString<AccountsQuery>,
) -> Result<Json<Items<Account>>, ApiError> {
    let f = AccountFilter {
        owner: owner(&s, q.owner)?,
        ..Default::default()
    };
    let items = s
        .node
        .crm()
        .driver()
        .accounts(&f, to_page(q.limit, q.offset))
        .await?;
    Ok(Json(Items { items }))
}

/// Creates an account; answers it as stored.
#[utoipa::path(post, path = "/api/v1/crm/accounts", request_body = NewAccount, responses((status = 201, body = Account), (status = 400, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn create_account(
    State(s): State<ApiState>,
    JsonBody(a): JsonBody<NewAccount>,
) -> Result<(StatusCode, Json<Account>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.node.crm().create_account(a).await?),
    ))
}

fn missing(what: &str, id: &str) -> ApiError {
    ApiError::NotFound(format!("no {what} with id {id:?}"))
}

/// One account.
#[utoipa::path(get, path = "/api/v1/crm/accounts/{id}", params(("id" = String, Path)), responses((status = 200, body = Account), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn account(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Account>, ApiError> {
    let a = s.node.crm().driver().account(&id).await?;
    a.map(Json).ok_or_else(|| missing("account", &id))
}

/// Changes an account's fields (`null` clears one).
#[utoipa::path(patch, path = "/api/v1/crm/accounts/{id}", params(("id" = String, Path)), request_body = AccountPatch, responses((status = 200, body = Account), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn update_account(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    JsonBody(p): JsonBody<AccountPatch>,
) -> Result<Json<Account>, ApiError> {
    Ok(Json(s.node.crm().update_account(&id, p).await?))
}

/// Deletes an account; its contacts, deals and activities stay, unlinked.
#[utoipa::path(delete, path = "/api/v1/crm/accounts/{id}", params(("id" = String, Path)), responses((status = 204), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn delete_account(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    match s.node.crm().driver().delete_account(&id).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(missing("account", &id)),
    }
}

/// Contacts, newest first.
#[utoipa::path(get, path = "/api/v1/crm/contacts", params(ContactsQuery), responses((status = 200, body = Object), (status = 400, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn contacts(
    State(s): State<ApiState>,
    QueryString(q): QueryString<ContactsQuery>,
) -> Result<Json<Items<Contact>>, ApiError> {
    let items = s
        .node
        .crm()
        .driver()
        .contacts(q.account.as_deref(), to_page(q.limit, q.offset))
        .await?;
    Ok(Json(Items { items }))
}

/// Creates a contact; an email another contact has is a 409 naming that contact.
#[utoipa::path(post, path = "/api/v1/crm/contacts", request_body = NewContact, responses((status = 201, body = Contact), (status = 400, body = super::wire::ErrorBody), (status = 409, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn create_contact(
    State(s): State<ApiState>,
    JsonBody(c): JsonBody<NewContact>,
) -> Result<(StatusCode, Json<Contact>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.node.crm().create_contact(c).await?),
    ))
}

/// One contact.
#[utoipa::path(get, path = "/api/v1/crm/contacts/{id}", params(("id" = String, Path)), responses((status = 200, body = Contact), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn contact(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Contact>, ApiError> {
    let c = s.node.crm().driver().contact(&id).await?;
    c.map(Json).ok_or_else(|| missing("contact", &id))
}

/// Changes a contact's fields (`null` clears one).
#[utoipa::path(patch, path = "/api/v1/crm/contacts/{id}", params(("id" = String, Path)), request_body = ContactPatch, responses((status = 200, body = Contact), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), (status = 409, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn update_contact(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    JsonBody(p): JsonBody<ContactPatch>,
) -> Result<Json<Contact>, ApiError> {
    Ok(Json(s.node.crm().update_contact(&id, p).await?))
}

/// Deletes a contact; its activities stay, unlinked.
#[utoipa::path(delete, path = "/api/v1/crm/contacts/{id}", params(("id" = String, Path)), responses((status = 204), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn delete_contact(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    match s.node.crm().driver().delete_contact(&id).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(missing("contact", &id)),
    }
}

/// Deals, newest first.
#[utoipa::path(get, path = "/api/v1/crm/deals", params(DealsQuery), responses((status = 200, body = Object), (status = 400, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn deals(
    State(s): State<ApiState>,
    QueryString(q): QueryString<DealsQuery>,
) -> Result<Json<Items<Deal>>, ApiError> {
    let crm = s.node.crm();
    if let Some(stage) = &q.stage
        && !crm.pipeline().contains(stage)
    {
        return Err(ApiError::BadRequest(format!(
            "query parameter `stage`: {stage:?} is not a stage of the pipeline; use one of {}",
            crm.pipeline().join(", ")
        )));
    }
    let f = DealFilter {
        stage: q.stage,
        owner: owner(&s, q.owner)?,
        account: q.account,
        open: false,
    };
    let items = crm.driver().deals(&f, to_page(q.limit, q.offset)).await?;
    Ok(Json(Items { items }))
}

/// Creates a deal (in the pipeline's first stage unless `stage` says otherwise).
#[utoipa::path(post, path = "/api/v1/crm/deals", request_body = NewDeal, responses((status = 201, body = Deal), (status = 400, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn create_deal(
    State(s): State<ApiState>,
    JsonBody(d): JsonBody<NewDeal>,
) -> Result<(StatusCode, Json<Deal>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.node.crm().create_deal(d).await?),
    ))
}

/// One deal.
#[utoipa::path(get, path = "/api/v1/crm/deals/{id}", params(("id" = String, Path)), responses((status = 200, body = Deal), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn deal(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Deal>, ApiError> {
    let d = s.node.crm().driver().deal(&id).await?;
    d.map(Json).ok_or_else(|| missing("deal", &id))
}

/// Changes a deal's fields (`null` clears one); moving it to a closed stage stamps
/// `closed_at`.
#[utoipa::path(patch, path = "/api/v1/crm/deals/{id}", params(("id" = String, Path)), request_body = DealPatch, responses((status = 200, body = Deal), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn update_deal(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    JsonBody(p): JsonBody<DealPatch>,
) -> Result<Json<Deal>, ApiError> {
    Ok(Json(s.node.crm().update_deal(&id, p).await?))
}

/// Deletes a deal; its activities stay, unlinked.
#[utoipa::path(delete, path = "/api/v1/crm/deals/{id}", params(("id" = String, Path)), responses((status = 204), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn delete_deal(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    match s.node.crm().delete_deal(&id).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(missing("deal", &id)),
    }
}

/// Activities of an account, contact or deal, newest first.
#[utoipa::path(get, path = "/api/v1/crm/activities", params(ActivitiesQuery), responses((status = 200, body = Object), (status = 400, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn activities(
    State(s): State<ApiState>,
    QueryString(q): QueryString<ActivitiesQuery>,
) -> Result<Json<Items<Activity>>, ApiError> {
    let f = ActivityFilter {
        account: q.account,
        contact: q.contact,
        deal: q.deal,
    };
    let items = s
        .node
        .crm()
        .driver()
        .activities(&f, to_page(q.limit, q.offset))
        .await?;
    Ok(Json(Items { items }))
}

/// Logs an activity (a call note, a meeting, an issue, ...) against an account,
/// contact or deal.
#[utoipa::path(post, path = "/api/v1/crm/activities", request_body = NewActivity, responses((status = 201, body = Activity), (status = 400, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn log_activity(
    State(s): State<ApiState>,
    JsonBody(mut a): JsonBody<NewActivity>,
) -> Result<(StatusCode, Json<Activity>), ApiError> {
    a.key = None;
    let logged = s.node.crm().log_activity(a, "api").await?;
    let logged =
        logged.ok_or_else(|| ApiError::Conflict("that activity is logged already".into()))?;
    Ok((StatusCode::CREATED, Json(logged)))
}

/// Imports a CSV file (`Content-Type: text/csv`, a header row naming the columns):
/// every row is checked first, and a file with any bad row imports nothing; the 400
/// names each bad row's line, column and what is wrong.
#[utoipa::path(post, path = "/api/v1/crm/import", params(ImportQuery), request_body(content = String, content_type = "text/csv"), responses((status = 201, body = Imported), (status = 400, body = super::wire::ErrorBody), (status = 409, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn import_csv(
    State(s): State<ApiState>,
    QueryString(q): QueryString<ImportQuery>,
    headers: HeaderMap,
    body: String,
) -> Result<(StatusCode, Json<Imported>), ApiError> {
    let kind = ImportKind::parse(&q.kind).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "query parameter `kind`: {:?} is not `accounts`, `contacts` or `deals`",
            q.kind
        ))
    })?;
    let csv = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("text/csv"));
    if !csv {
        return Err(ApiError::BadRequest(
            "send the file as CSV with `Content-Type: text/csv`".into(),
        ));
    }
    let imported = match import(&s.node.crm(), kind, &body).await {
        Ok(n) => n,
        Err(e @ ImportError::Rows(_)) => return Err(ApiError::BadRequest(e.to_string())),
        Err(ImportError::Crm(e)) => return Err(e.into()),
    };
    Ok((
        StatusCode::CREATED,
        Json(Imported {
            kind: kind.name().into(),
            imported,
        }),
    ))
}

/// Stores an account's metric values (usage, engagement, NPS, adoption; idempotent on
/// metric, feature and time), computes its health again, and tells its owner when it is
/// at risk.
#[utoipa::path(post, path = "/api/v1/crm/accounts/{id}/metrics", params(("id" = String, Path)), request_body = MetricValues, responses((status = 200, body = AccountHealth), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn account_metrics(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    JsonBody(values): JsonBody<MetricValues>,
) -> Result<Json<AccountHealth>, ApiError> {
    Ok(Json(s.node.crm().record_metrics(&id, values).await?))
}
