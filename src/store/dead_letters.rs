//! Events set aside (dead letters): an event that crashed its employee again and again
//! is marked processed and set aside, so replay passes it and the employee goes on.
//! An operator lists them, retries one (it is pending again and handed over) or drops
//! it (it stays stored, as handled, and is no longer listed).

use super::rows::EventRow;
use super::{Store, StoreError, from_micros, to_micros, with_pool};
use crate::model::{EmployeeId, Event, EventId, TenantId};
use chrono::{DateTime, Utc};

/// An event set aside.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// The event, as it was accepted.
    pub event: Event,
    /// How many times it failed the employee.
    pub attempts: u32,
    /// Why it was set aside.
    pub reason: String,
    /// When.
    pub set_aside_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct DeadLetterRow {
    id: String,
    employee_id: String,
    kind: String,
    source: String,
    payload: String,
    idempotency_key: Option<String>,
    received_at: i64,
    attempts: i64,
    set_aside_reason: Option<String>,
    set_aside_at: i64,
}

impl Store {
    /// Sets event `id` of `employee` aside after `attempts` failures, saying why.
    /// Answers false when it was no longer pending.
    pub async fn set_aside(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
        id: EventId,
        attempts: u32,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let now = to_micros(Utc::now());
        let n = with_pool!(self, write, |pool| {
            sqlx::query(
                "UPDATE inbox SET processed_at = $1, set_aside_at = $1, set_aside_reason = $2, attempts = $3, dropped_at = NULL \
                 WHERE tenant = $4 AND employee_id = $5 AND id = $6 AND processed_at IS NULL",
            )
            .bind(now)
            .bind(reason)
            .bind(i64::from(attempts))
            .bind(tenant.as_str())
            .bind(employee.to_string())
            .bind(id.to_string())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// The employee's events set aside and not dropped, oldest first, at most `limit`.
    pub async fn dead_letters(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
        limit: i64,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        let rows: Vec<DeadLetterRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT id, employee_id, kind, source, payload, idempotency_key, received_at, attempts, set_aside_reason, set_aside_at \
                 FROM inbox WHERE tenant = $1 AND employee_id = $2 AND set_aside_at IS NOT NULL AND dropped_at IS NULL \
                 ORDER BY seq LIMIT $3",
            )
            .bind(tenant.as_str())
            .bind(employee.to_string())
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter()
            .map(|r| {
                let event = EventRow {
                    id: r.id,
                    employee_id: r.employee_id,
                    kind: r.kind,
                    source: r.source,
                    payload: r.payload,
                    idempotency_key: r.idempotency_key,
                    received_at: r.received_at,
                }
                .into_event(tenant)?;
                Ok(DeadLetter {
                    event,
                    attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
                    reason: r.set_aside_reason.unwrap_or_default(),
                    set_aside_at: from_micros(r.set_aside_at),
                })
            })
            .collect()
    }

    /// Makes a set-aside event pending again; answers it (to be handed over), or none
    /// when no such event is set aside.
    pub async fn retry_dead_letter(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
        id: EventId,
    ) -> Result<Option<Event>, StoreError> {
        let n = with_pool!(self, write, |pool| {
            sqlx::query(
                "UPDATE inbox SET processed_at = NULL, set_aside_at = NULL, set_aside_reason = NULL \
                 WHERE tenant = $1 AND employee_id = $2 AND id = $3 AND set_aside_at IS NOT NULL AND dropped_at IS NULL",
            )
            .bind(tenant.as_str())
            .bind(employee.to_string())
            .bind(id.to_string())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        if n == 0 {
            return Ok(None);
        }
        Ok(self.event(tenant, id).await?.map(|(e, _)| e))
    }

    /// Drops a set-aside event: it stays stored, as handled, and is no longer listed.
    /// Answers false when no such event is set aside.
    pub async fn drop_dead_letter(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
        id: EventId,
    ) -> Result<bool, StoreError> {
        let now = to_micros(Utc::now());
        let n = with_pool!(self, write, |pool| {
            sqlx::query(
                "UPDATE inbox SET dropped_at = $1 \
                 WHERE tenant = $2 AND employee_id = $3 AND id = $4 AND set_aside_at IS NOT NULL AND dropped_at IS NULL",
            )
            .bind(now)
            .bind(tenant.as_str())
            .bind(employee.to_string())
            .bind(id.to_string())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// How many events wait for the employee (unprocessed, not set aside).
    pub async fn backlog(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
    ) -> Result<u64, StoreError> {
        let (n,): (i64,) = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT COUNT(*) FROM inbox WHERE tenant = $1 AND employee_id = $2 AND processed_at IS NULL",
            )
            .bind(tenant.as_str())
            .bind(employee.to_string())
            .fetch_one(pool)
            .await
        })?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
