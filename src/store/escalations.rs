//! Escalations in the store. Raising one is idempotent (keyed by the action that raised
//! it, so a retried `escalate` finds the same case); deciding one is stored in the same
//! transaction as the `escalation.decided` event that tells its employee, and happens
//! once — except that a human may overrule a decision taken by precedent.

use super::insert_event;
use super::rows::{parse_id, parse_json};
use super::{Store, StoreError, with_pool};
use super::{from_micros, to_micros};
use crate::model::{EmployeeId, Escalation, EscalationStatus, Event, TenantId, Verdict};
use chrono::{DateTime, Utc};

#[derive(sqlx::FromRow)]
struct EscalationRow {
    id: String,
    employee_id: String,
    case_key: String,
    message: String,
    recommendation: String,
    context: String,
    manager: String,
    intention: Option<i64>,
    status: String,
    decision: Option<String>,
    reason: Option<String>,
    decided_by: Option<String>,
    precedent: Option<String>,
    created_at: i64,
    decided_at: Option<i64>,
}

impl EscalationRow {
    fn into_escalation(self) -> Result<Escalation, StoreError> {
        Ok(Escalation {
            status: EscalationStatus::parse(&self.status).ok_or_else(|| {
                StoreError::Corrupt(format!("escalation status {:?}", self.status))
            })?,
            decision: match self.decision.as_deref() {
                Some(d) => Some(
                    Verdict::parse(d)
                        .ok_or_else(|| StoreError::Corrupt(format!("escalation decision {d:?}")))?,
                ),
                None => None,
            },
            id: self.id,
            employee_id: parse_id(&self.employee_id)?,
            case: self.case_key,
            message: self.message,
            recommendation: self.recommendation,
            context: parse_json(&self.context)?,
            manager: self.manager,
            reason: self.reason,
            decided_by: self.decided_by,
            precedent: self.precedent,
            intention: self.intention.map(|i| i as u64),
            created_at: from_micros(self.created_at),
            decided_at: self.decided_at.map(from_micros),
        })
    }
}

macro_rules! select_escalations {
    ($rest:literal) => {
        concat!(
            "SELECT id, employee_id, case_key, message, recommendation, context, manager, \
             intention, status, decision, reason, decided_by, precedent, created_at, decided_at \
             FROM escalations ",
            $rest
        )
    };
}

/// A decision to store.
#[derive(Debug, Clone)]
pub struct Decided<'a> {
    /// The verdict.
    pub decision: Verdict,
    /// Why.
    pub reason: Option<&'a str>,
    /// Who: an address, an employee id, or `precedent`.
    pub by: &'a str,
    /// The escalation whose decision is followed, when by precedent.
    pub precedent: Option<&'a str>,
    /// When.
    pub at: DateTime<Utc>,
}

impl Store {
    /// Stores a new escalation; answers false (and changes nothing) when one with that
    /// id exists.
    pub async fn raise_escalation(
        &self,
        tenant: &TenantId,
        e: &Escalation,
    ) -> Result<bool, StoreError> {
        let context = e.context.to_string();
        let n = with_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO escalations (tenant, id, employee_id, case_key, message, recommendation, \
                 context, manager, intention, status, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10) ON CONFLICT DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(&e.id)
            .bind(e.employee_id.to_string())
            .bind(&e.case)
            .bind(&e.message)
            .bind(&e.recommendation)
            .bind(&context)
            .bind(&e.manager)
            .bind(e.intention.map(|i| i as i64))
            .bind(to_micros(e.created_at))
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// One escalation.
    pub async fn escalation(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<Escalation>, StoreError> {
        let row: Option<EscalationRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(select_escalations!("WHERE tenant = $1 AND id = $2"))
                .bind(tenant.as_str())
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        row.map(EscalationRow::into_escalation).transpose()
    }

    /// The escalation a human manager was asked about in the message `mail_id`.
    pub async fn escalation_by_mail(
        &self,
        tenant: &TenantId,
        mail_id: &str,
    ) -> Result<Option<Escalation>, StoreError> {
        let row: Option<EscalationRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(select_escalations!("WHERE tenant = $1 AND mail_id = $2"))
                .bind(tenant.as_str())
                .bind(mail_id)
                .fetch_optional(pool)
                .await
        })?;
        row.map(EscalationRow::into_escalation).transpose()
    }

    /// Records the Message-ID of the mail that asked the manager.
    pub async fn set_escalation_mail(
        &self,
        tenant: &TenantId,
        id: &str,
        mail_id: &str,
    ) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            sqlx::query("UPDATE escalations SET mail_id = $1 WHERE tenant = $2 AND id = $3")
                .bind(mail_id)
                .bind(tenant.as_str())
                .bind(id)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// The latest case of `case` for `employee` that a human decided: the precedent.
    pub async fn precedent(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
        case: &str,
    ) -> Result<Option<Escalation>, StoreError> {
        let row: Option<EscalationRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(select_escalations!(
                "WHERE tenant = $1 AND employee_id = $2 AND case_key = $3 AND status = 'decided' \
                 AND decided_by <> 'precedent' ORDER BY decided_at DESC LIMIT 1"
            ))
            .bind(tenant.as_str())
            .bind(employee.to_string())
            .bind(case)
            .fetch_optional(pool)
            .await
        })?;
        row.map(EscalationRow::into_escalation).transpose()
    }

    /// Decides a pending escalation (or overrules one decided by precedent, when `by`
    /// is not the precedent) and stores `event` with it. Answers false when it was not
    /// open to this decision.
    pub async fn decide_escalation(
        &self,
        tenant: &TenantId,
        id: &str,
        d: &Decided<'_>,
        event: &Event,
    ) -> Result<bool, StoreError> {
        let decided = with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(
                "UPDATE escalations SET status = 'decided', decision = $1, reason = $2, \
                 decided_by = $3, precedent = $4, decided_at = $5 \
                 WHERE tenant = $6 AND id = $7 \
                 AND (status = 'pending' OR (decided_by = 'precedent' AND $3 <> 'precedent'))",
            )
            .bind(d.decision.as_str())
            .bind(d.reason)
            .bind(d.by)
            .bind(d.precedent)
            .bind(to_micros(d.at))
            .bind(tenant.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                insert_event!(event).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(n == 1)
        })?;
        Ok(decided)
    }

    /// Escalations, newest first, optionally of one employee and one status.
    pub async fn escalations(
        &self,
        tenant: &TenantId,
        employee: Option<EmployeeId>,
        status: Option<EscalationStatus>,
        limit: i64,
    ) -> Result<Vec<Escalation>, StoreError> {
        let rows: Vec<EscalationRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(select_escalations!(
                "WHERE tenant = $1 AND ($2 = '' OR employee_id = $2) AND ($3 = '' OR status = $3) \
                 ORDER BY created_at DESC, id LIMIT $4"
            ))
            .bind(tenant.as_str())
            .bind(employee.map(|e| e.to_string()).unwrap_or_default())
            .bind(status.map(|s| s.as_str()).unwrap_or(""))
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter()
            .map(EscalationRow::into_escalation)
            .collect()
    }
}
