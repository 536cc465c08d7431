//! The durable inbox: events waiting for their employee, read back for replay.

use super::rows::{EventRow, parse_id};
use super::{Store, StoreError, with_pool};
use crate::model::{EmployeeId, Event, TenantId};

pub(crate) const INSERT_EVENT: &str = "INSERT INTO inbox (tenant, id, employee_id, kind, source, payload, idempotency_key, received_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING";

/// Binds an event to [`INSERT_EVENT`].
macro_rules! insert_event {
    ($e:expr) => {
        sqlx::query($crate::store::inbox::INSERT_EVENT)
            .bind($e.tenant.as_str())
            .bind($e.id.to_string())
            .bind($e.employee.to_string())
            .bind($e.kind.as_str())
            .bind($e.source.as_str())
            .bind($e.payload.to_string())
            .bind($e.idempotency_key.as_deref())
            .bind($crate::store::to_micros($e.received_at))
    };
}
pub(crate) use insert_event;

/// Runs a conditional UPDATE and, only if it changed a row, stores `event` for the
/// employee, in one transaction. Answers whether the row was changed.
macro_rules! update_and_tell {
    ($store:expr, $event:expr, $update:expr) => {
        with_pool!($store, write, |pool| {
            let mut tx = pool.begin().await?;
            let updated = $update.execute(&mut *tx).await?.rows_affected();
            if updated == 1 {
                insert_event!($event).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(updated == 1)
        })
    };
}
pub(crate) use update_and_tell;

impl Store {
    // ---- inbox ----

    /// An employee's unprocessed events, oldest first, at most `limit`.
    pub async fn pending_events(
        &self,
        tenant: &TenantId,
        id: EmployeeId,
        limit: i64,
    ) -> Result<Vec<Event>, StoreError> {
        let rows: Vec<EventRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT id, employee_id, kind, source, payload, idempotency_key, received_at FROM inbox \
                 WHERE tenant = $1 AND employee_id = $2 AND processed_at IS NULL ORDER BY seq LIMIT $3",
            )
            .bind(tenant.as_str())
            .bind(id.to_string())
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(|r| r.into_event(tenant)).collect()
    }

    /// Employees with at least one unprocessed event.
    pub async fn employees_with_pending(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<EmployeeId>, StoreError> {
        let rows: Vec<(String,)> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT DISTINCT employee_id FROM inbox WHERE tenant = $1 AND processed_at IS NULL",
            )
            .bind(tenant.as_str())
            .fetch_all(pool)
            .await
        })?;
        rows.iter().map(|(id,)| parse_id(id)).collect()
    }

    /// One event by id, with whether it has been processed.
    pub async fn event(
        &self,
        tenant: &TenantId,
        id: crate::model::EventId,
    ) -> Result<Option<(Event, bool)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            processed_at: Option<i64>,
            #[sqlx(flatten)]
            event: EventRow,
        }
        let row: Option<Row> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT id, employee_id, kind, source, payload, idempotency_key, received_at, processed_at \
                 FROM inbox WHERE tenant = $1 AND id = $2",
            )
            .bind(tenant.as_str())
            .bind(id.to_string())
            .fetch_optional(pool)
            .await
        })?;
        row.map(|r| Ok((r.event.into_event(tenant)?, r.processed_at.is_some())))
            .transpose()
    }
}
