//! Recruiting (seed 4.4): the candidate pipeline the Recruiter works — requisitions
//! with weighted requirements, candidates per requisition with their CV and an
//! explained screening, the stages each moved through, interviews and the panel's
//! feedback. [`Pipeline`] is what the API, the CLI and the actions use: it checks what
//! it is given (every problem at once, each naming its field) before anything is
//! stored, and a candidate moved to another stage is told by their recruiter — the
//! move hands the recruiter a `recruiting.stage_changed` event, and the mail goes out
//! through its outbox like every other action.
//!
//! Nothing here sends anything itself.

pub mod actions;
pub mod cv;
mod interviews;
mod measure;
mod records;
pub mod screen;
mod sourcing;

pub use records::{
    Candidate, CandidateRecord, Evidence, Feedback, Interview, NewCandidate, NewRequisition,
    RECOMMENDATIONS, Requirement, Requisition, RequisitionPatch, SOURCES, STAGES, Screening,
    StageChange, StageMove,
};

use super::Hands;
use crate::model::{EmployeeId, Event, FieldError, NewEvent, bare_address, is_address};
use crate::store::{CandidateFilter, Page, StoreError};
use chrono::Utc;
use serde_json::json;

/// The screening score a candidate needs for an interview when a requisition names none.
pub const DEFAULT_PASS_SCORE: f64 = 0.6;

/// The team that interviews when a requisition names none and the node has it.
pub const DEFAULT_PANEL: &str = "hiring-panel";

/// Why the pipeline refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum RecruitingError {
    /// The request is wrong; each problem names its field.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// No such record.
    #[error("{0}")]
    NotFound(String),
    /// It clashes with a stored record (the candidate is in that requisition already).
    #[error("{0}")]
    Conflict(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RecruitingError {
    fn field(field: &str, message: impl Into<String>) -> Self {
        RecruitingError::Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<RecruitingError> for super::CapabilityError {
    fn from(e: RecruitingError) -> Self {
        match e {
            RecruitingError::Store(e) => e.into(),
            e => super::CapabilityError::Invalid(e.to_string()),
        }
    }
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The pipeline as the node's faces and actions use it.
pub struct Pipeline<'a> {
    hands: &'a Hands,
}

impl<'a> Pipeline<'a> {
    /// The pipeline of `hands`' store.
    pub fn of(hands: &'a Hands) -> Self {
        Pipeline { hands }
    }

    /// Checks requirements, naming each problem under `field`.
    fn check_requirements(field: &str, reqs: &[Requirement], errors: &mut Vec<FieldError>) {
        if reqs.is_empty() {
            errors.push(FieldError::new(
                field,
                "must name at least one requirement, e.g. [{\"text\": \"Rust\", \"must_have\": true}]",
            ));
        }
        for (i, r) in reqs.iter().enumerate() {
            if r.text.trim().is_empty() {
                errors.push(FieldError::new(
                    format!("{field}[{i}].text"),
                    "is empty; say what is asked for, e.g. \"PostgreSQL\"",
                ));
            }
            if !(r.weight > 0.0 && r.weight <= 10.0) {
                errors.push(FieldError::new(
                    format!("{field}[{i}].weight"),
                    format!("must be above 0 and at most 10, got {}", r.weight),
                ));
            }
            if r.keywords.iter().any(|k| k.trim().is_empty()) {
                errors.push(FieldError::new(
                    format!("{field}[{i}].keywords"),
                    "holds an empty keyword; remove it",
                ));
            }
        }
    }

    fn check_pass_score(v: f64, errors: &mut Vec<FieldError>) {
        if !(0.0..=1.0).contains(&v) {
            errors.push(FieldError::new(
                "pass_score",
                format!("must be between 0 and 1, got {v}"),
            ));
        }
    }

    /// Opens a requisition; answers it as stored.
    pub async fn create_requisition(
        &self,
        n: NewRequisition,
    ) -> Result<Requisition, RecruitingError> {
        let mut errors = Vec::new();
        if n.title.trim().is_empty() {
            errors.push(FieldError::new(
                "title",
                "is empty; give the job title, e.g. \"Senior Backend Engineer\"",
            ));
        }
        Self::check_requirements("requirements", &n.requirements, &mut errors);
        if !is_address(bare_address(&n.hiring_manager)) {
            errors.push(FieldError::new(
                "hiring_manager",
                format!(
                    "must be a mail address (`Name <address>` or `address`), got {:?}",
                    n.hiring_manager
                ),
            ));
        }
        let pass_score = n.pass_score.unwrap_or(DEFAULT_PASS_SCORE);
        Self::check_pass_score(pass_score, &mut errors);
        let panel = match n.panel.as_deref().map(str::trim) {
            Some(p) => {
                let id = p.strip_prefix(crate::config::teams::PREFIX).unwrap_or(p);
                if !self.hands.teams.contains_key(id) {
                    errors.push(FieldError::new(
                        "panel",
                        format!(
                            "no team {id:?} on this node; add config/teams/{id}.toml or name one of: {}",
                            self.hands.teams.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    ));
                }
                Some(id.to_string())
            }
            None => self
                .hands
                .teams
                .contains_key(DEFAULT_PANEL)
                .then(|| DEFAULT_PANEL.to_string()),
        };
        if !errors.is_empty() {
            return Err(RecruitingError::Invalid(errors));
        }
        let now = Utc::now();
        let r = Requisition {
            id: new_id(),
            title: n.title.trim().to_string(),
            requirements: n.requirements,
            hiring_manager: n.hiring_manager.trim().to_string(),
            panel,
            pass_score,
            status: "open".into(),
            opened_at: now,
            closed_at: None,
            updated_at: now,
        };
        self.hands
            .store
            .insert_requisition(&self.hands.tenant, &r)
            .await?;
        Ok(r)
    }

    /// Changes a requisition (closing it stamps `closed_at`).
    pub async fn update_requisition(
        &self,
        id: &str,
        p: RequisitionPatch,
    ) -> Result<Requisition, RecruitingError> {
        let mut r = self.requisition(id).await?;
        let mut errors = Vec::new();
        if let Some(s) = &p.status {
            if s != "open" && s != "closed" {
                errors.push(FieldError::new(
                    "status",
                    format!("must be `open` or `closed`, got {s:?}"),
                ));
            } else if *s != r.status {
                r.closed_at = (s == "closed").then(Utc::now);
                r.status = s.clone();
            }
        }
        if let Some(t) = p.title {
            if t.trim().is_empty() {
                errors.push(FieldError::new("title", "is empty; give the job title"));
            }
            r.title = t.trim().to_string();
        }
        if let Some(reqs) = p.requirements {
            Self::check_requirements("requirements", &reqs, &mut errors);
            r.requirements = reqs;
        }
        if let Some(v) = p.pass_score {
            Self::check_pass_score(v, &mut errors);
            r.pass_score = v;
        }
        if !errors.is_empty() {
            return Err(RecruitingError::Invalid(errors));
        }
        r.updated_at = Utc::now();
        self.hands
            .store
            .update_requisition(&self.hands.tenant, &r)
            .await?;
        Ok(r)
    }

    /// One requisition, or why not.
    pub async fn requisition(&self, id: &str) -> Result<Requisition, RecruitingError> {
        self.hands
            .store
            .requisition(&self.hands.tenant, id)
            .await?
            .ok_or_else(|| RecruitingError::NotFound(format!("no requisition with id {id:?}")))
    }

    /// Requisitions (with `status`), newest first.
    pub async fn requisitions(
        &self,
        status: Option<&str>,
        page: Page,
    ) -> Result<Vec<Requisition>, RecruitingError> {
        if let Some(s) = status
            && s != "open"
            && s != "closed"
        {
            return Err(RecruitingError::field(
                "status",
                format!("must be `open` or `closed`, got {s:?}"),
            ));
        }
        Ok(self
            .hands
            .store
            .requisitions(&self.hands.tenant, status, page)
            .await?)
    }

    /// Adds a candidate to an open requisition, in stage `applied` (an application),
    /// `sourced` (sourcing) or `screened`-less `applied` (a referral).
    pub async fn create_candidate(
        &self,
        n: NewCandidate,
        by: &str,
    ) -> Result<Candidate, RecruitingError> {
        let mut errors = Vec::new();
        if n.name.trim().is_empty() {
            errors.push(FieldError::new(
                "name",
                "is empty; give the candidate's name",
            ));
        }
        let email = bare_address(n.email.trim()).to_string();
        if !is_address(&email) {
            errors.push(FieldError::new(
                "email",
                format!("must be a mail address, got {:?}", n.email),
            ));
        }
        let source = n.source.unwrap_or_else(|| "referral".into());
        if !SOURCES.contains(&source.as_str()) {
            errors.push(FieldError::new(
                "source",
                format!("must be one of {}, got {source:?}", SOURCES.join(", ")),
            ));
        }
        let recruiter = match n.recruiter.as_deref().map(str::trim) {
            Some(w) => match self.hands.employees.resolve(w) {
                Some(id) => Some(id.to_string()),
                None => {
                    errors.push(FieldError::new(
                        "recruiter",
                        format!("no employee {w:?} here; name one by id or handle"),
                    ));
                    None
                }
            },
            None => None,
        };
        match self
            .hands
            .store
            .requisition(&self.hands.tenant, &n.requisition)
            .await?
        {
            Some(r) if r.status == "open" => {}
            Some(_) => errors.push(FieldError::new(
                "requisition",
                format!("{:?} is closed; reopen it or name an open one", n.requisition),
            )),
            None => errors.push(FieldError::new(
                "requisition",
                format!(
                    "no requisition with id {:?}; `GET /api/v1/recruiting/requisitions?status=open` lists the open ones",
                    n.requisition
                ),
            )),
        }
        if !errors.is_empty() {
            return Err(RecruitingError::Invalid(errors));
        }
        let stage = if source == "sourcing" {
            "sourced"
        } else {
            "applied"
        };
        let now = Utc::now();
        let c = Candidate {
            id: new_id(),
            name: n.name.trim().to_string(),
            email,
            requisition: n.requisition,
            source: source.clone(),
            stage: stage.into(),
            score: None,
            screening: None,
            cv_path: None,
            cv_text: None,
            recruiter,
            thread: None,
            created_at: now,
            updated_at: now,
        };
        self.enter(c, by, &format!("entered the pipeline by {source}"))
            .await?
            .map_err(|existing| {
                RecruitingError::Conflict(format!(
                    "{} is a candidate for that requisition already (candidate {})",
                    existing.email, existing.id
                ))
            })
    }

    /// Stores a candidate with the first line of its history; answers the stored one
    /// when the requisition has that address already.
    pub(crate) async fn enter(
        &self,
        c: Candidate,
        by: &str,
        reason: &str,
    ) -> Result<Result<Candidate, Candidate>, RecruitingError> {
        let entered = StageChange {
            from: None,
            to: c.stage.clone(),
            reason: reason.into(),
            by: by.into(),
            at: c.created_at,
        };
        Ok(
            match self
                .hands
                .store
                .insert_candidate(&self.hands.tenant, &c, &entered)
                .await?
            {
                Ok(()) => Ok(c),
                Err(existing) => Err(existing),
            },
        )
    }

    /// One candidate, or why not.
    pub async fn candidate(&self, id: &str) -> Result<Candidate, RecruitingError> {
        self.hands
            .store
            .candidate(&self.hands.tenant, id)
            .await?
            .ok_or_else(|| RecruitingError::NotFound(format!("no candidate with id {id:?}")))
    }

    /// A candidate with their history, interviews and feedback.
    pub async fn record(&self, id: &str) -> Result<CandidateRecord, RecruitingError> {
        let candidate = self.candidate(id).await?;
        let (store, t) = (&self.hands.store, &self.hands.tenant);
        Ok(CandidateRecord {
            history: store.stage_history(t, id).await?,
            interviews: store.interviews(t, id).await?,
            feedback: store.feedback(t, id).await?,
            candidate,
        })
    }

    /// Candidates, newest first.
    pub async fn candidates(
        &self,
        f: &CandidateFilter,
        page: Page,
    ) -> Result<Vec<Candidate>, RecruitingError> {
        if let Some(s) = &f.stage
            && !STAGES.contains(&s.as_str())
        {
            return Err(RecruitingError::field(
                "stage",
                format!("{s:?} is not a stage; use one of {}", STAGES.join(", ")),
            ));
        }
        if let Some(s) = &f.source
            && !SOURCES.contains(&s.as_str())
        {
            return Err(RecruitingError::field(
                "source",
                format!("{s:?} is not a source; use one of {}", SOURCES.join(", ")),
            ));
        }
        Ok(self
            .hands
            .store
            .candidates(&self.hands.tenant, f, page)
            .await?)
    }

    /// Moves a candidate to another stage, records why and by whom, and hands their
    /// recruiter a `recruiting.stage_changed` event (the recruiter tells the candidate).
    /// Moving to the stage they are in changes nothing.
    pub async fn move_stage(
        &self,
        id: &str,
        m: StageMove,
        by: &str,
    ) -> Result<Candidate, RecruitingError> {
        if !STAGES.contains(&m.stage.as_str()) {
            return Err(RecruitingError::field(
                "stage",
                format!(
                    "{:?} is not a stage; use one of {}",
                    m.stage,
                    STAGES.join(", ")
                ),
            ));
        }
        let mut c = self.candidate(id).await?;
        if c.stage == m.stage {
            return Ok(c);
        }
        let reason = m
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .unwrap_or("moved on")
            .to_string();
        let change = StageChange {
            from: Some(c.stage.clone()),
            to: m.stage.clone(),
            reason: reason.clone(),
            by: by.into(),
            at: Utc::now(),
        };
        c.stage = m.stage;
        c.updated_at = change.at;
        // The recruiter's event is stored with the move: a move is never untold.
        let told = self.telling(&c, &change).await?;
        if let Some(e) = &told {
            self.hands.employees.wake(e.employee);
        }
        self.hands
            .store
            .update_candidate(
                &self.hands.tenant,
                &c,
                std::slice::from_ref(&change),
                told.as_ref(),
            )
            .await?;
        if let Some(e) = told {
            self.hands.employees.deliver(e);
        }
        Ok(c)
    }

    /// The event that tells the candidate's recruiter of a stage change (so it writes
    /// to them); none when they have no recruiter here.
    async fn telling(
        &self,
        c: &Candidate,
        change: &StageChange,
    ) -> Result<Option<Event>, RecruitingError> {
        let Some(to) = c
            .recruiter
            .as_deref()
            .and_then(|r| r.parse::<EmployeeId>().ok())
            .filter(|id| !self.hands.employees.offboarded(*id))
        else {
            return Ok(None);
        };
        let title = self
            .hands
            .store
            .requisition(&self.hands.tenant, &c.requisition)
            .await?
            .map(|r| r.title)
            .unwrap_or_default();
        let new = NewEvent {
            kind: "recruiting.stage_changed".into(),
            source: "recruiting".into(),
            payload: json!({
                "candidate": c.id, "name": c.name, "email": c.email,
                "first_name": c.name.split_whitespace().next(),
                "thread": c.thread, "requisition": c.requisition, "title": title,
                "from": change.from, "stage": change.to, "reason": change.reason, "by": change.by,
            }),
            idempotency_key: Some(format!(
                "stage:{}:{}:{}",
                c.id,
                change.to,
                change.at.timestamp_micros()
            )),
        };
        Ok(Some(Event::accept(
            self.hands.tenant.clone(),
            to,
            new,
            change.at,
        )))
    }
}
