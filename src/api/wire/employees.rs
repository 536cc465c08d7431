//! `/api/v1/employees`: a profile with its runtime state, pages of episodes, the
//! outbox, and the bodies of phase, feedback and observations.

use crate::actors::RuntimeState;
use crate::model::{EmployeeProfile, Episode, EventId};
use serde::{Deserialize, Serialize};
use utoipa::openapi::{Ref, RefOr, Schema};
use utoipa::{IntoParams, PartialSchema, ToSchema};

/// An employee's profile with its runtime state: the profile's fields and `runtime`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmployeeView {
    /// The profile, its fields at the top level.
    #[serde(flatten)]
    pub profile: EmployeeProfile,
    /// idle, active, failed, ...
    pub runtime: RuntimeState,
}

// Written out rather than derived: a derived schema says "all of the profile (which
// allows no other field) and `runtime`", which no answer can match. This one is the
// profile's object with `runtime` among its fields.
impl utoipa::PartialSchema for EmployeeView {
    fn schema() -> RefOr<Schema> {
        let mut object = match EmployeeProfile::schema() {
            RefOr::T(Schema::Object(object)) => object,
            _ => unreachable!("a derived struct schema is an inline object"),
        };
        let mut runtime = Ref::from_schema_name(RuntimeState::name());
        runtime.description = "idle, active, failed, ...".into();
        object.properties.insert("runtime".into(), runtime.into());
        object.required.push("runtime".into());
        object.description = Some(
            "An employee's profile with its runtime state: the profile's fields and `runtime`."
                .into(),
        );
        RefOr::T(Schema::Object(object))
    }
}

impl ToSchema for EmployeeView {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((RuntimeState::name().into(), RuntimeState::schema()));
        <EmployeeProfile as ToSchema>::schemas(schemas);
    }
}

/// Query of `GET /api/v1/employees`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EmployeesQuery {
    /// 1..=1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Employees to skip, ≥ 0.
    #[param(minimum = 0)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
}

/// A page of episodes, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EpisodePage {
    /// Newest first.
    pub items: Vec<Episode>,
    /// Pass as `before` to get the next (older) page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
}

/// Query of `GET /api/v1/employees/{id}/episodes`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EpisodesQuery {
    /// 1..=1000, default 50.
    #[param(minimum = 1, maximum = 1000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// `next_before` of the previous page.
    #[param(minimum = 1)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
}

/// Body of `PUT /api/v1/employees/{id}/phase`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhaseBody {
    /// shadow, assisted or autonomous.
    pub phase: String,
}

/// Body of `POST /api/v1/employees/{id}/feedback`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackBody {
    /// 0 (bad) to 1 (good), for the latest action.
    #[serde(default)]
    pub rating: Option<f64>,
    /// A correction in words, e.g. "too formal" or "too long".
    #[serde(default)]
    pub correction: Option<String>,
    /// Praise, a correction or a suggestion in words, e.g. "great job" or "next time,
    /// mention the discount"; read as a chat message would be.
    #[serde(default)]
    pub text: Option<String>,
}

/// Body of `POST /api/v1/employees/{id}/observations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservationBody {
    /// The event the mentor acted on.
    pub event_id: EventId,
    /// The action kind the mentor took, e.g. `email.send`.
    pub action: String,
}

/// One outbox entry as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ActionView {
    /// The action's number within the employee.
    pub id: u64,
    /// `capability.operation`.
    pub kind: String,
    /// Its parameters.
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    /// pending, done, failed or unsupported.
    pub status: String,
    /// What the capability returned.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
}

/// Query of `GET /api/v1/employees/{id}/actions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActionsQuery {
    /// 1..=1000, default 50.
    #[param(minimum = 1, maximum = 1000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}
