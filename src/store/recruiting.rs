//! The Recruiter's candidate pipeline: requisitions, candidates, the stages each moved
//! through, interviews and feedback, tenant on every row. Records are written whole
//! (the pipeline merges a change into the record it read); a candidate enters with the
//! first line of its stage history in one transaction, and each later move writes the
//! record and its line together. Lists are newest first; a candidate's history,
//! interviews and feedback oldest first.

use super::crm::{Conditions, Page};
use crate::capabilities::recruiting::{
    Candidate, Feedback, Interview, Requisition, Screening, StageChange,
};
use crate::model::{Event, TenantId};
use crate::store::{Store, StoreError, from_micros, to_micros, with_pool};
use sqlx::AssertSqlSafe;

/// Writes one line of a candidate's history inside the transaction `tx` (a macro: the
/// same SQL on either backend's transaction type).
macro_rules! insert_change {
    ($tx:expr, $tenant:expr, $candidate:expr, $seq:expr, $change:expr) => {
        sqlx::query(
            "INSERT INTO recruiting_stages (tenant, candidate, seq, from_stage, to_stage, reason, moved_by, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind($tenant.as_str())
        .bind($candidate)
        .bind($seq)
        .bind($change.from.as_deref())
        .bind($change.to.as_str())
        .bind($change.reason.as_str())
        .bind($change.by.as_str())
        .bind(to_micros($change.at))
        .execute(&mut *$tx)
        .await
    };
}

/// Which candidates to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CandidateFilter {
    /// For this requisition (id).
    pub requisition: Option<String>,
    /// In this stage.
    pub stage: Option<String>,
    /// From this source.
    pub source: Option<String>,
    /// With this address (without case).
    pub email: Option<String>,
}

const REQUISITION_COLUMNS: &str = "id, title, requirements, hiring_manager, panel, pass_score, status, opened_at, closed_at, updated_at";
const CANDIDATE_COLUMNS: &str = "id, name, email, requisition, source, stage, score, screening, cv_path, cv_text, recruiter, thread, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct RequisitionRow {
    id: String,
    title: String,
    requirements: String,
    hiring_manager: String,
    panel: Option<String>,
    pass_score: f64,
    status: String,
    opened_at: i64,
    closed_at: Option<i64>,
    updated_at: i64,
}

impl RequisitionRow {
    fn into_requisition(self) -> Result<Requisition, StoreError> {
        Ok(Requisition {
            requirements: serde_json::from_str(&self.requirements).map_err(|e| {
                StoreError::Corrupt(format!("requisition {} requirements: {e}", self.id))
            })?,
            id: self.id,
            title: self.title,
            hiring_manager: self.hiring_manager,
            panel: self.panel,
            pass_score: self.pass_score,
            status: self.status,
            opened_at: from_micros(self.opened_at),
            closed_at: self.closed_at.map(from_micros),
            updated_at: from_micros(self.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct CandidateRow {
    id: String,
    name: String,
    email: String,
    requisition: String,
    source: String,
    stage: String,
    score: Option<f64>,
    screening: Option<String>,
    cv_path: Option<String>,
    cv_text: Option<String>,
    recruiter: Option<String>,
    thread: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl CandidateRow {
    fn into_candidate(self) -> Result<Candidate, StoreError> {
        let screening: Option<Screening> = match self.screening.as_deref() {
            Some(s) => Some(serde_json::from_str(s).map_err(|e| {
                StoreError::Corrupt(format!("candidate {} screening: {e}", self.id))
            })?),
            None => None,
        };
        Ok(Candidate {
            id: self.id,
            name: self.name,
            email: self.email,
            requisition: self.requisition,
            source: self.source,
            stage: self.stage,
            score: self.score,
            screening,
            cv_path: self.cv_path,
            cv_text: self.cv_text,
            recruiter: self.recruiter,
            thread: self.thread,
            created_at: from_micros(self.created_at),
            updated_at: from_micros(self.updated_at),
        })
    }
}

fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("pipeline records serialise to JSON")
}

impl Store {
    /// Stores a new requisition.
    pub async fn insert_requisition(
        &self,
        tenant: &TenantId,
        r: &Requisition,
    ) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO recruiting_requisitions (tenant, id, title, requirements, hiring_manager, panel, pass_score, \
                 status, opened_at, closed_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(tenant.as_str())
            .bind(&r.id)
            .bind(&r.title)
            .bind(json_text(&r.requirements))
            .bind(&r.hiring_manager)
            .bind(r.panel.as_deref())
            .bind(r.pass_score)
            .bind(&r.status)
            .bind(to_micros(r.opened_at))
            .bind(r.closed_at.map(to_micros))
            .bind(to_micros(r.updated_at))
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Writes a requisition over the stored one; false when there is none.
    pub async fn update_requisition(
        &self,
        tenant: &TenantId,
        r: &Requisition,
    ) -> Result<bool, StoreError> {
        let n = with_pool!(self, write, |pool| {
            sqlx::query(
                "UPDATE recruiting_requisitions SET title = $3, requirements = $4, hiring_manager = $5, panel = $6, \
                 pass_score = $7, status = $8, closed_at = $9, updated_at = $10 WHERE tenant = $1 AND id = $2",
            )
            .bind(tenant.as_str())
            .bind(&r.id)
            .bind(&r.title)
            .bind(json_text(&r.requirements))
            .bind(&r.hiring_manager)
            .bind(r.panel.as_deref())
            .bind(r.pass_score)
            .bind(&r.status)
            .bind(r.closed_at.map(to_micros))
            .bind(to_micros(r.updated_at))
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// One requisition.
    pub async fn requisition(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<Requisition>, StoreError> {
        let sql = format!(
            "SELECT {REQUISITION_COLUMNS} FROM recruiting_requisitions WHERE tenant = $1 AND id = $2"
        );
        let row: Option<RequisitionRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(tenant.as_str())
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        row.map(RequisitionRow::into_requisition).transpose()
    }

    /// Requisitions (with `status`, when given), newest first.
    pub async fn requisitions(
        &self,
        tenant: &TenantId,
        status: Option<&str>,
        page: Page,
    ) -> Result<Vec<Requisition>, StoreError> {
        let c = Conditions::new().eq("status", status);
        let sql = format!(
            "SELECT {REQUISITION_COLUMNS} FROM recruiting_requisitions WHERE {} ORDER BY opened_at DESC, id DESC {}",
            c.sql,
            c.page()
        );
        let rows: Vec<RequisitionRow> = with_pool!(self, read, |pool| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(tenant.as_str());
            for t in &c.texts {
                q = q.bind(t.as_str());
            }
            q.bind(page.limit).bind(page.offset).fetch_all(pool).await
        })?;
        rows.into_iter()
            .map(RequisitionRow::into_requisition)
            .collect()
    }

    /// Stores a new candidate with the first line of its history. When the requisition
    /// has a candidate with that address already, stores nothing and answers that one.
    pub async fn insert_candidate(
        &self,
        tenant: &TenantId,
        c: &Candidate,
        entered: &StageChange,
    ) -> Result<Result<(), Candidate>, StoreError> {
        let inserted = with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(
                "INSERT INTO recruiting_candidates (tenant, id, name, email, email_key, requisition, source, stage, score, \
                 screening, cv_path, cv_text, recruiter, thread, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(&c.id)
            .bind(&c.name)
            .bind(&c.email)
            .bind(c.email.to_lowercase())
            .bind(&c.requisition)
            .bind(&c.source)
            .bind(&c.stage)
            .bind(c.score)
            .bind(c.screening.as_ref().map(json_text))
            .bind(c.cv_path.as_deref())
            .bind(c.cv_text.as_deref())
            .bind(c.recruiter.as_deref())
            .bind(c.thread.as_deref())
            .bind(to_micros(c.created_at))
            .bind(to_micros(c.updated_at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                insert_change!(tx, tenant, &c.id, 1_i64, entered)?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(n == 1)
        })?;
        if inserted {
            return Ok(Ok(()));
        }
        let f = CandidateFilter {
            requisition: Some(c.requisition.clone()),
            email: Some(c.email.clone()),
            ..Default::default()
        };
        let existing = self.candidates(tenant, &f, Page::FIRST).await?;
        existing.into_iter().next().map(Err).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "candidate {} was neither stored nor found taken",
                c.id
            ))
        })
    }

    /// Writes a candidate over the stored one, and the next lines of its history
    /// (`changes`, in order) and the event that tells their recruiter (`told`) in the
    /// same transaction; false when there is none.
    pub async fn update_candidate(
        &self,
        tenant: &TenantId,
        c: &Candidate,
        changes: &[StageChange],
        told: Option<&Event>,
    ) -> Result<bool, StoreError> {
        let updated = with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(
                "UPDATE recruiting_candidates SET name = $3, stage = $4, score = $5, screening = $6, cv_path = $7, \
                 cv_text = $8, recruiter = $9, thread = $10, updated_at = $11 WHERE tenant = $1 AND id = $2",
            )
            .bind(tenant.as_str())
            .bind(&c.id)
            .bind(&c.name)
            .bind(&c.stage)
            .bind(c.score)
            .bind(c.screening.as_ref().map(json_text))
            .bind(c.cv_path.as_deref())
            .bind(c.cv_text.as_deref())
            .bind(c.recruiter.as_deref())
            .bind(c.thread.as_deref())
            .bind(to_micros(c.updated_at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 && !changes.is_empty() {
                let last: i64 = sqlx::query_scalar(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM recruiting_stages WHERE tenant = $1 AND candidate = $2",
                )
                .bind(tenant.as_str())
                .bind(&c.id)
                .fetch_one(&mut *tx)
                .await?;
                for (i, change) in changes.iter().enumerate() {
                    insert_change!(tx, tenant, &c.id, last + i as i64, change)?;
                }
            }
            if let (1, Some(event)) = (n, told) {
                crate::store::insert_event!(event).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(n == 1)
        })?;
        Ok(updated)
    }

    /// One candidate.
    pub async fn candidate(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<Candidate>, StoreError> {
        let sql = format!(
            "SELECT {CANDIDATE_COLUMNS} FROM recruiting_candidates WHERE tenant = $1 AND id = $2"
        );
        let row: Option<CandidateRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(tenant.as_str())
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        row.map(CandidateRow::into_candidate).transpose()
    }

    /// Candidates, newest first.
    pub async fn candidates(
        &self,
        tenant: &TenantId,
        f: &CandidateFilter,
        page: Page,
    ) -> Result<Vec<Candidate>, StoreError> {
        let email = f.email.as_ref().map(|e| e.to_lowercase());
        let c = Conditions::new()
            .eq("requisition", f.requisition.as_deref())
            .eq("stage", f.stage.as_deref())
            .eq("source", f.source.as_deref())
            .eq("email_key", email.as_deref());
        let sql = format!(
            "SELECT {CANDIDATE_COLUMNS} FROM recruiting_candidates WHERE {} ORDER BY created_at DESC, id DESC {}",
            c.sql,
            c.page()
        );
        let rows: Vec<CandidateRow> = with_pool!(self, read, |pool| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(tenant.as_str());
            for t in &c.texts {
                q = q.bind(t.as_str());
            }
            q.bind(page.limit).bind(page.offset).fetch_all(pool).await
        })?;
        rows.into_iter().map(CandidateRow::into_candidate).collect()
    }

    /// A candidate's stage history, oldest first.
    pub async fn stage_history(
        &self,
        tenant: &TenantId,
        candidate: &str,
    ) -> Result<Vec<StageChange>, StoreError> {
        let rows: Vec<(Option<String>, String, String, String, i64)> =
            with_pool!(self, read, |pool| {
                sqlx::query_as(
                    "SELECT from_stage, to_stage, reason, moved_by, at FROM recruiting_stages \
                     WHERE tenant = $1 AND candidate = $2 ORDER BY seq",
                )
                .bind(tenant.as_str())
                .bind(candidate)
                .fetch_all(pool)
                .await
            })?;
        Ok(rows
            .into_iter()
            .map(|(from, to, reason, by, at)| StageChange {
                from,
                to,
                reason,
                by,
                at: from_micros(at),
            })
            .collect())
    }

    /// Records an interview (offered or booked).
    pub async fn insert_interview(
        &self,
        tenant: &TenantId,
        i: &Interview,
    ) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO recruiting_interviews (tenant, id, candidate, starts_at, calendar_event, proposal, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(&i.id)
            .bind(&i.candidate)
            .bind(i.starts_at.map(to_micros))
            .bind(i.calendar_event.as_deref())
            .bind(i.proposal.as_deref())
            .bind(to_micros(i.created_at))
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// A candidate's interviews, oldest first.
    pub async fn interviews(
        &self,
        tenant: &TenantId,
        candidate: &str,
    ) -> Result<Vec<Interview>, StoreError> {
        type Row = (
            String,
            String,
            Option<i64>,
            Option<String>,
            Option<String>,
            i64,
        );
        let rows: Vec<Row> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT id, candidate, starts_at, calendar_event, proposal, created_at FROM recruiting_interviews \
                 WHERE tenant = $1 AND candidate = $2 ORDER BY created_at, id",
            )
            .bind(tenant.as_str())
            .bind(candidate)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(
                |(id, candidate, starts_at, calendar_event, proposal, created_at)| Interview {
                    id,
                    candidate,
                    starts_at: starts_at.map(from_micros),
                    calendar_event,
                    proposal,
                    created_at: from_micros(created_at),
                },
            )
            .collect())
    }

    /// Records feedback; with a key already recorded, stores nothing and answers false.
    pub async fn insert_feedback(
        &self,
        tenant: &TenantId,
        f: &Feedback,
        key: Option<&str>,
    ) -> Result<bool, StoreError> {
        let n = with_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO recruiting_feedback (tenant, id, candidate, author, text, recommendation, key, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(&f.id)
            .bind(&f.candidate)
            .bind(&f.author)
            .bind(&f.text)
            .bind(&f.recommendation)
            .bind(key)
            .bind(to_micros(f.at))
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// A candidate's feedback, oldest first.
    pub async fn feedback(
        &self,
        tenant: &TenantId,
        candidate: &str,
    ) -> Result<Vec<Feedback>, StoreError> {
        let rows: Vec<(String, String, String, String, String, i64)> = with_pool!(
            self,
            read,
            |pool| {
                sqlx::query_as(
                    "SELECT id, candidate, author, text, recommendation, at FROM recruiting_feedback \
                     WHERE tenant = $1 AND candidate = $2 ORDER BY at, id",
                )
                .bind(tenant.as_str())
                .bind(candidate)
                .fetch_all(pool)
                .await
            }
        )?;
        Ok(rows
            .into_iter()
            .map(
                |(id, candidate, author, text, recommendation, at)| Feedback {
                    id,
                    candidate,
                    author,
                    text,
                    recommendation,
                    at: from_micros(at),
                },
            )
            .collect())
    }
}
