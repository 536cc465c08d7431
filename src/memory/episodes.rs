//! Episodic memory read back: an employee's episodes, newest first, and how many.

use crate::model::{EmployeeId, Episode, TenantId};
use crate::store::rows::EpisodeRow;
use crate::store::{Store, StoreError, with_pool};

impl Store {
    // ---- episodes ----

    /// An employee's episodes, newest first, at most `limit`, older than `before_seq`
    /// when given. Returns each with its sequence number for paging.
    pub async fn episodes(
        &self,
        tenant: &TenantId,
        id: EmployeeId,
        limit: i64,
        before_seq: Option<i64>,
    ) -> Result<Vec<(i64, Episode)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            seq: i64,
            #[sqlx(flatten)]
            episode: EpisodeRow,
        }
        let rows: Vec<Row> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT seq, id, employee_id, kind, event_id, cause_id, channel, summary, payload, at FROM episodes \
                 WHERE tenant = $1 AND employee_id = $2 AND seq < $3 ORDER BY seq DESC LIMIT $4",
            )
            .bind(tenant.as_str())
            .bind(id.to_string())
            .bind(before_seq.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter()
            .map(|r| Ok((r.seq, r.episode.into_episode(tenant)?)))
            .collect()
    }

    /// Number of episodes of `kind` an employee has.
    pub async fn count_episodes(
        &self,
        tenant: &TenantId,
        id: EmployeeId,
        kind: &str,
    ) -> Result<i64, StoreError> {
        let (n,): (i64,) = with_pool!(self, read, |pool| {
            sqlx::query_as("SELECT COUNT(*) FROM episodes WHERE tenant = $1 AND employee_id = $2 AND kind = $3")
                .bind(tenant.as_str())
                .bind(id.to_string())
                .bind(kind)
                .fetch_one(pool)
                .await
        })?;
        Ok(n)
    }
}
