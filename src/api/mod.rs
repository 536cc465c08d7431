//! The HTTP control plane (axum): JSON, bearer-token auth on everything but `/healthz`,
//! `/metrics`, Slack's signed `/slack/events/{employee}` and the OAuth callback
//! `/oauth/callback` (whose one-time `state` is its proof), and an OpenAPI document
//! generated from the handlers.
//!
//! The app is one [`router`]; tests drive it directly or through a real listener, and
//! [`serve`] runs it with the limits of `[api]` ([`ApiConfig`]): header-read and request
//! timeouts, a bound on open connections and on body size. The shapes it reads and
//! answers are the [`wire`] types, which the `empla` CLI uses too.

mod a2a;
mod access;
mod approvals;
pub mod auth;
mod calendar;
mod cluster;
mod config;
mod connections;
mod crm;
mod documents;
mod employees;
mod error;
mod escalations;
mod interaction;
mod llm;
mod mcp;
mod meetings;
mod memory;
mod params;
mod product;
mod recruiting;
mod reviews;
mod server;
mod slack;
mod supervision;
mod tenancy;
mod triage;
mod ui;
pub mod wire;
mod workflows;

pub use config::ApiConfig;
pub use error::ApiError;
#[cfg(unix)]
pub use server::raise_open_file_limit;
pub use server::{OpenFileLimit, serve};
pub use tenancy::FACE_HEADER;

use crate::node::Node;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use std::time::Duration;
use utoipa::OpenApi;

/// What every handler can reach.
#[derive(Clone)]
pub struct ApiState {
    /// The node of the tenant the request is for.
    pub node: Arc<Node>,
    /// Tokens, sessions and roles.
    pub auth: Arc<auth::Auth>,
    /// Every tenant's node.
    pub tenants: Arc<crate::node::Tenants>,
    /// Prometheus exporter handle.
    pub metrics: PrometheusHandle,
}

impl ApiState {
    /// The state of a node serving its own tenant only, whose node admin sends `token`
    /// (tests and benchmarks; `empla node` starts every stored tenant).
    pub async fn single(
        node: Arc<Node>,
        token: &str,
        metrics: PrometheusHandle,
    ) -> Result<ApiState, crate::node::TenantError> {
        let tenants = crate::node::Tenants::alone(node.clone()).await?;
        let auth = Arc::new(auth::Auth::new(
            node.store().clone(),
            node.tenant().clone(),
            token.into(),
            Duration::from_secs(8 * 3600),
        ));
        Ok(ApiState {
            node,
            auth,
            tenants,
            metrics,
        })
    }
}

/// The OpenAPI document of the API.
#[derive(OpenApi)]
#[openapi(
    info(title = "empla", description = "Control plane of an empla node: hire employees, send them events, read what they did."),
    paths(
        employees::list,
        employees::hire,
        employees::show,
        employees::offboard,
        employees::post_event,
        employees::episodes,
        employees::status,
        employees::set_phase,
        employees::feedback,
        employees::observe,
        employees::actions,
        supervision::restart,
        supervision::list,
        supervision::retry,
        supervision::drop_one,
        approvals::list,
        approvals::approve,
        approvals::reject,
        escalations::list,
        escalations::decide,
        memory::search,
        memory::facts,
        memory::why,
        memory::publish,
        memory::forget,
        memory::procedures,
        memory::consolidate,
        memory::working,
        interaction::send_mail,
        interaction::inbox,
        interaction::chat,
        interaction::chat_history,
        interaction::assign,
        interaction::list_tasks,
        interaction::show_task,
        calendar::calendar,
        calendar::employee_calendar,
        calendar::book,
        calendar::slots,
        crm::accounts,
        crm::create_account,
        crm::account,
        crm::update_account,
        crm::delete_account,
        crm::contacts,
        crm::create_contact,
        crm::contact,
        crm::update_contact,
        crm::delete_contact,
        crm::deals,
        crm::create_deal,
        crm::deal,
        crm::update_deal,
        crm::delete_deal,
        crm::activities,
        crm::log_activity,
        crm::import_csv,
        crm::account_metrics,
        recruiting::requisitions,
        recruiting::create_requisition,
        recruiting::requisition,
        recruiting::update_requisition,
        recruiting::candidates,
        recruiting::create_candidate,
        recruiting::candidate,
        recruiting::move_candidate,
        documents::documents,
        documents::document,
        documents::content,
        reviews::run,
        reviews::list,
        reviews::show,
        reviews::note,
        triage::list,
        llm::usage,
        product::list,
        product::add,
        product::show,
        product::update,
        meetings::post_transcript,
        meetings::notes,
        workflows::list_workflows,
        workflows::start_run,
        workflows::list_runs,
        workflows::show_run,
        cluster::status,
        workflows::list_teams,
        workflows::show_team,
        workflows::standup,
        access::create_tenant,
        access::list_tenants,
        access::show_tenant,
        access::suspend_tenant,
        access::resume_tenant,
        access::delete_tenant,
        access::own_tenant,
        access::rename_tenant,
        access::create_token,
        access::list_tokens,
        access::revoke_token,
        access::audit,
        connections::connect,
        connections::list,
        connections::disconnect,
    ),
    components(schemas(
        crate::lifecycle::HireRequest,
        crate::model::Review,
        crate::model::TriagedMail,
        crate::model::TriageLabel,
        wire::ReviewBody,
        wire::NoteBody,
        crate::model::EmployeeProfile,
        crate::model::NewEvent,
        crate::model::Episode,
        wire::EmployeeView,
        wire::EpisodePage,
        wire::EventAccepted,
        wire::PhaseBody,
        wire::FeedbackBody,
        wire::ObservationBody,
        wire::ActionView,
        wire::DecisionBody,
        wire::VerdictBody,
        crate::model::Escalation,
        crate::model::EscalationStatus,
        crate::model::Verdict,
        crate::model::Approval,
        crate::model::ApprovalStatus,
        crate::actors::EmployeeRuntime,
        crate::actors::IntentionView,
        crate::actors::GoalView,
        crate::actors::AgreementView,
        crate::actors::DayCounts,
        crate::bdi::Phase,
        wire::ErrorBody,
        wire::ErrorDetail,
        wire::PublishBody,
        wire::ForgetBody,
        wire::ConsolidateBody,
        crate::memory::Consolidated,
        crate::memory::Procedure,
        crate::memory::WorkingMemory,
        crate::memory::Entry,
        crate::memory::Retrieval,
        crate::memory::Forgotten,
        crate::memory::Item,
        crate::memory::Source,
        crate::memory::Fact,
        crate::memory::Visibility,
        crate::memory::Published,
        crate::model::OutgoingMail,
        crate::model::NewTask,
        crate::model::Task,
        crate::model::TaskStatus,
        crate::model::Priority,
        crate::store::ChatMessage,
        wire::MailSent,
        wire::InboxItem,
        wire::ChatBody,
        wire::ChatReply,
        wire::ChatPending,
        wire::TaskAssigned,
        crate::model::SlotRequest,
        crate::model::CalendarEvent,
        crate::model::EventStatus,
        crate::model::NewMeeting,
        crate::node::Booked,
        crate::node::Moved,
        crate::node::Slots,
        crate::capabilities::calendar::slots::Slot,
        crate::capabilities::crm::Account,
        crate::capabilities::product::FeatureRequest,
        crate::capabilities::product::NewRequest,
        crate::capabilities::product::RequestPatch,
        crate::capabilities::product::RequestStatus,
        crate::capabilities::product::Source,
        wire::FiledRequest,
        crate::store::Document,
        crate::capabilities::crm::NewAccount,
        crate::capabilities::crm::AccountPatch,
        crate::capabilities::crm::Contact,
        crate::capabilities::crm::NewContact,
        crate::capabilities::crm::ContactPatch,
        crate::capabilities::crm::Deal,
        crate::capabilities::crm::NewDeal,
        crate::capabilities::crm::DealPatch,
        crate::capabilities::crm::Activity,
        crate::capabilities::crm::NewActivity,
        wire::Imported,
        crate::capabilities::crm::health::MetricValues,
        crate::capabilities::crm::health::MetricValue,
        crate::capabilities::crm::health::AccountHealth,
        crate::capabilities::recruiting::Requisition,
        crate::capabilities::recruiting::Requirement,
        crate::capabilities::recruiting::NewRequisition,
        crate::capabilities::recruiting::RequisitionPatch,
        crate::capabilities::recruiting::Candidate,
        crate::capabilities::recruiting::CandidateRecord,
        crate::capabilities::recruiting::NewCandidate,
        crate::capabilities::recruiting::StageMove,
        crate::capabilities::recruiting::StageChange,
        crate::capabilities::recruiting::Screening,
        crate::capabilities::recruiting::Evidence,
        crate::capabilities::recruiting::Interview,
        crate::capabilities::recruiting::Feedback,
        crate::capabilities::meetings::TranscriptBody,
        crate::capabilities::meetings::TranscriptTaken,
        crate::capabilities::meetings::MeetingRecord,
        crate::capabilities::meetings::Note,
        crate::capabilities::meetings::Decision,
        crate::capabilities::meetings::ActionItem,
        crate::config::workflows::Workflow,
        crate::config::workflows::WorkflowStepSpec,
        crate::model::WorkflowRun,
        crate::model::RunStep,
        crate::model::RunStatus,
        crate::model::StepStatus,
        crate::model::RunProgress,
        wire::StartRunBody,
        wire::StandupBody,
        crate::node::TeamView,
        crate::node::TeamGoalProgress,
        crate::node::Contribution,
        crate::node::StandupUpdate,
        crate::node::ClusterView,
        crate::node::ClusterMember,
        crate::node::LeaseSummary,
        crate::model::Role,
        crate::model::Tenant,
        crate::model::TenantStatus,
        crate::model::TokenInfo,
        crate::model::AuditEntry,
        wire::NewTenantBody,
        wire::TenantCreated,
        wire::TenantPatch,
        wire::NewTokenBody,
        wire::TokenCreated,
        wire::AuditPage,
        crate::connections::ConnectBody,
        crate::connections::ConnectionList,
        crate::connections::ConnectionView,
        crate::connections::Started,
    )),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// The whole API, with `config`'s body limit and request timeout: each request handed to
/// the app of its caller's tenant (see [`tenancy`]).
pub fn router(state: ApiState, config: &ApiConfig) -> Router {
    let house = Arc::new(tenancy::House::new(state, config.clone()));
    Router::new().fallback(tenancy::dispatch).with_state(house)
}

/// One tenant's app: the API, the A2A face, MCP, health and metrics, over `state.node`.
fn tenant_app(state: ApiState, config: &ApiConfig) -> Router {
    let api = Router::new()
        .route("/openapi.json", get(openapi))
        .merge(employees::routes())
        .merge(supervision::routes())
        .merge(approvals::routes())
        .merge(escalations::routes())
        .merge(memory::routes())
        .merge(interaction::routes())
        .merge(calendar::routes())
        .merge(crm::routes())
        .merge(recruiting::routes())
        .merge(documents::routes())
        .merge(reviews::routes())
        .merge(triage::routes())
        .merge(llm::routes())
        .merge(product::routes())
        .merge(meetings::routes())
        .merge(workflows::routes())
        .merge(cluster::routes())
        .merge(access::routes())
        .merge(connections::routes())
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            tenancy::audit,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            cluster::forward,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            tenancy::require,
        ));
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .merge(slack::routes())
        .merge(connections::callback_routes())
        .merge(a2a::routes(&state))
        .merge(ui::routes(&state))
        .nest("/api/v1", api)
        .fallback(|| async { ApiError::NotFound("no such route; see /api/v1/openapi.json".into()) })
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(Extension(BodyLimit(config.max_body_bytes)))
        .layer(middleware::from_fn_with_state(
            config.request_timeout,
            within_request_timeout,
        ))
        .with_state(state.clone());
    // MCP answers through the API above, in process, with the caller's own token.
    let mut hosts = config.mcp_allowed_hosts.clone();
    hosts.extend(mcp::host_of(&state.node.a2a_config().public_url));
    let mcp = mcp::service(app.clone(), &hosts, config.max_body_bytes);
    let mcp = Router::new()
        .nest_service("/mcp", mcp)
        .layer(middleware::from_fn_with_state(state, tenancy::require));
    app.merge(mcp)
}

/// The body limit in force, for the message of a refused body.
#[derive(Clone, Copy)]
struct BodyLimit(usize);

/// Answers `503 timeout` when a request (reading its body and the handler's work) takes
/// longer than `limit`; the handler is dropped where it stands.
async fn within_request_timeout(
    State(limit): State<Duration>,
    req: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::TimedOut(format!(
            "the request took longer than {} (`api.request_timeout`) and was abandoned; \
             it may or may not have taken effect: retry, with the same idempotency key \
             where the call takes one",
            humantime::format_duration(limit)
        ))
        .into_response(),
    }
}

async fn healthz() -> impl IntoResponse {
    axum::Json(wire::Health {
        status: "ok".into(),
    })
}

async fn metrics(State(s): State<ApiState>) -> impl IntoResponse {
    s.node.record_gauges().await;
    s.metrics.run_upkeep();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        s.metrics.render(),
    )
}

async fn openapi() -> impl IntoResponse {
    axum::Json(ApiDoc::openapi())
}

/// A JSON body whose rejections become [`ApiError`]s naming what was wrong.
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        use axum::extract::rejection::JsonRejection;
        let limit = req.extensions().get::<BodyLimit>().copied();
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .is_some_and(|m| {
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::BadRequest(
                "send the body as JSON with `Content-Type: application/json`".into(),
            ));
        }
        let bytes = match axum::body::Bytes::from_request(req, state).await {
            Ok(b) => b,
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ApiError::TooLarge(match limit {
                    Some(BodyLimit(n)) => format!(
                        "request body is larger than {n} bytes (`api.max_body_bytes`); send less"
                    ),
                    None => "request body is too large; send less".into(),
                }));
            }
            Err(e) => {
                return Err(ApiError::BadRequest(format!(
                    "the request body could not be read: {}",
                    e.body_text()
                )));
            }
        };
        if let Some(field) = nul_field(&bytes) {
            return Err(ApiError::BadRequest(format!(
                "`{field}` contains a NUL character (\\u0000), which the store cannot keep as text; remove it"
            )));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => Ok(JsonBody(v)),
            Err(e @ JsonRejection::JsonSyntaxError(_)) => Err(ApiError::BadRequest(format!(
                "malformed JSON: {}",
                e.body_text()
            ))),
            Err(e) => Err(ApiError::BadRequest(e.body_text())),
        }
    }
}

/// Where in a JSON body a NUL character is, as a dotted path (`payload.text`), if
/// anywhere. Cheap for the usual body: only one holding the text `u0000` is parsed.
fn nul_field(body: &[u8]) -> Option<String> {
    if !body.windows(5).any(|w| w == b"u0000") {
        return None;
    }
    fn find(v: &serde_json::Value, path: &mut Vec<String>) -> bool {
        match v {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(a) => a.iter().enumerate().any(|(i, x)| {
                path.push(format!("[{i}]"));
                let hit = find(x, path);
                if !hit {
                    path.pop();
                }
                hit
            }),
            serde_json::Value::Object(o) => o.iter().any(|(k, x)| {
                path.push(k.clone());
                let hit = k.contains('\0') || find(x, path);
                if !hit {
                    path.pop();
                }
                hit
            }),
            _ => false,
        }
    }
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let mut path = Vec::new();
    find(&v, &mut path).then(|| {
        path.iter().fold(String::new(), |mut acc, p| {
            if !acc.is_empty() && !p.starts_with('[') {
                acc.push('.');
            }
            acc.push_str(p);
            acc
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names of the parameters the OpenAPI document gives `method path`.
    fn parameters(doc: &serde_json::Value, path: &str, method: &str) -> Vec<String> {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path} has no parameters"))
            .iter()
            .map(|p| {
                format!(
                    "{} in {}",
                    p["name"].as_str().unwrap(),
                    p["in"].as_str().unwrap()
                )
            })
            .collect()
    }

    #[test]
    fn the_openapi_document_lists_the_query_parameters_of_the_wire_types() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let q = |names: &[&str]| {
            names
                .iter()
                .map(|n| format!("{n} in query"))
                .collect::<Vec<_>>()
        };
        let with_id = |names: &[&str]| {
            let mut v = vec!["id in path".to_string()];
            v.extend(q(names));
            v
        };
        assert_eq!(
            parameters(&doc, "/api/v1/employees", "get"),
            q(&["limit", "offset"])
        );
        assert_eq!(
            parameters(&doc, "/api/v1/employees/{id}/episodes", "get"),
            with_id(&["limit", "before"])
        );
        assert_eq!(
            parameters(&doc, "/api/v1/employees/{id}/memory/search", "get"),
            with_id(&["q", "from", "to", "with", "mode", "limit", "offset"])
        );
        assert_eq!(
            parameters(&doc, "/api/v1/approvals", "get"),
            q(&["employee", "status", "limit"])
        );
        assert_eq!(
            parameters(&doc, "/api/v1/employees/{id}/tasks", "get"),
            with_id(&["open", "limit"])
        );
        let inbox = &doc["paths"]["/api/v1/mail/inbox"]["get"]["parameters"][0];
        assert_eq!(
            (inbox["name"].as_str(), inbox["required"].as_bool()),
            (Some("address"), Some(true))
        );
        for schema in [
            "EventAccepted",
            "ErrorBody",
            "EmployeeView",
            "EpisodePage",
            "ChatReply",
        ] {
            assert!(
                doc["components"]["schemas"][schema].is_object(),
                "{schema} is not in the document"
            );
        }
    }
}
