//! The pipeline's records as the API takes and answers them: requisitions with their
//! requirements, candidates with their screening, the stages a candidate moved
//! through, interviews and feedback, and the shapes that create and change them.
//!
//! `hiring_manager` is a mail address (`Name <address>` or a bare one); `panel` is a
//! team id (`hiring-panel`, resolved as `team:hiring-panel`); `recruiter` is the
//! employee (id) who handles a candidate and writes to them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The stages a candidate moves through, in order; `declined` and `withdrawn` end it.
pub const STAGES: &[&str] = &[
    "sourced",
    "contacted",
    "applied",
    "screened",
    "interview",
    "offer",
    "hired",
    "declined",
    "withdrawn",
];

/// Where a candidate came from.
pub const SOURCES: &[&str] = &["application", "sourcing", "referral"];

/// What a member of the panel may recommend.
pub const RECOMMENDATIONS: &[&str] = &["strong_yes", "yes", "no", "strong_no"];

/// One thing a requisition asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// What is asked for, short: `Rust`, `PostgreSQL`, `distributed systems`.
    pub text: String,
    /// How much it counts in the screening score (default 1).
    #[serde(default = "one")]
    pub weight: f64,
    /// A candidate without it is declined whatever the score.
    #[serde(default)]
    pub must_have: bool,
    /// Words in a CV that show it (default: the requirement's own text).
    #[serde(default)]
    pub keywords: Vec<String>,
}

fn one() -> f64 {
    1.0
}

/// An open (or closed) position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Requisition {
    /// Its id.
    pub id: String,
    /// Job title.
    pub title: String,
    /// What it asks for.
    pub requirements: Vec<Requirement>,
    /// Who hires: a mail address.
    pub hiring_manager: String,
    /// The team that interviews (id), e.g. `hiring-panel`.
    pub panel: Option<String>,
    /// The screening score (0..1) a candidate needs for an interview.
    pub pass_score: f64,
    /// `open` or `closed`.
    pub status: String,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// `POST /api/v1/recruiting/requisitions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequisition {
    /// Job title.
    pub title: String,
    /// What it asks for (at least one).
    pub requirements: Vec<Requirement>,
    /// Who hires: a mail address.
    pub hiring_manager: String,
    /// The team that interviews (id); default `hiring-panel` when that team exists.
    #[serde(default)]
    pub panel: Option<String>,
    /// The screening score (0..1) a candidate needs for an interview (default 0.6).
    #[serde(default)]
    pub pass_score: Option<f64>,
}

/// `PATCH /api/v1/recruiting/requisitions/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequisitionPatch {
    /// `open` or `closed`.
    #[serde(default)]
    pub status: Option<String>,
    /// New title.
    #[serde(default)]
    pub title: Option<String>,
    /// New requirements.
    #[serde(default)]
    pub requirements: Option<Vec<Requirement>>,
    /// New passing score.
    #[serde(default)]
    pub pass_score: Option<f64>,
}

/// One requirement found in a CV, with the line that shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Evidence {
    /// The requirement.
    pub requirement: String,
    /// The CV's line that shows it.
    pub evidence: String,
}

/// A CV read against a requisition: the score and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Screening {
    /// Weight of the requirements found over the weight of all, 0..1.
    pub score: f64,
    /// The requirements found, each with its evidence.
    pub found: Vec<Evidence>,
    /// The requirements not found.
    pub missing: Vec<String>,
    /// Those of them that are must-haves.
    pub missing_must_haves: Vec<String>,
    /// `interview` or `decline`.
    pub decision: String,
    /// The explanation in a sentence or two.
    pub summary: String,
}

/// A person in the pipeline of one requisition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Candidate {
    /// Its id.
    pub id: String,
    /// Full name.
    pub name: String,
    /// Mail address.
    pub email: String,
    /// The requisition (id).
    pub requisition: String,
    /// `application`, `sourcing` or `referral`.
    pub source: String,
    /// Where they are: one of [`STAGES`].
    pub stage: String,
    /// The screening score, once screened.
    pub score: Option<f64>,
    /// The screening, once screened.
    pub screening: Option<Screening>,
    /// Where their CV is kept.
    pub cv_path: Option<String>,
    /// The text read from their CV.
    pub cv_text: Option<String>,
    /// The employee (id) who handles them.
    pub recruiter: Option<String>,
    /// The Message-ID of the mail their thread hangs on.
    pub thread: Option<String>,
    /// When they entered the pipeline.
    pub created_at: DateTime<Utc>,
    /// When their record last changed.
    pub updated_at: DateTime<Utc>,
}

/// `POST /api/v1/recruiting/candidates`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCandidate {
    /// Full name.
    pub name: String,
    /// Mail address.
    pub email: String,
    /// The requisition (id).
    pub requisition: String,
    /// `application`, `sourcing` or `referral` (default `referral`).
    #[serde(default)]
    pub source: Option<String>,
    /// The employee (id or handle) who handles them.
    #[serde(default)]
    pub recruiter: Option<String>,
}

/// `POST /api/v1/recruiting/candidates/{id}/stage` (or `PATCH` the candidate).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageMove {
    /// The stage to move to: one of `sourced`, `contacted`, `applied`, `screened`,
    /// `interview`, `offer`, `hired`, `declined`, `withdrawn`.
    pub stage: String,
    /// Why, in a sentence the candidate may read.
    #[serde(default)]
    pub reason: Option<String>,
}

/// One move of a candidate from a stage to the next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StageChange {
    /// The stage left (none on entering the pipeline).
    pub from: Option<String>,
    /// The stage entered.
    pub to: String,
    /// Why.
    pub reason: String,
    /// Who moved them: an employee id, `api` or `mail`.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// An interview: offered times (a proposal) until one is booked (a calendar event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Interview {
    /// Its id.
    pub id: String,
    /// The candidate (id).
    pub candidate: String,
    /// When it starts, once booked.
    pub starts_at: Option<DateTime<Utc>>,
    /// The calendar event, once booked.
    pub calendar_event: Option<String>,
    /// The times offered (the proposal's Message-ID).
    pub proposal: Option<String>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

/// What a member of the panel said of a candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Feedback {
    /// Its id.
    pub id: String,
    /// The candidate (id).
    pub candidate: String,
    /// Who said it: a mail address.
    pub author: String,
    /// What they said.
    pub text: String,
    /// One of `strong_yes`, `yes`, `no`, `strong_no`.
    pub recommendation: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A candidate with everything recorded of them: `GET /api/v1/recruiting/candidates/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CandidateRecord {
    /// The candidate.
    #[serde(flatten)]
    pub candidate: Candidate,
    /// Every stage they moved through, oldest first.
    pub history: Vec<StageChange>,
    /// Their interviews.
    pub interviews: Vec<Interview>,
    /// The panel's feedback.
    pub feedback: Vec<Feedback>,
}
