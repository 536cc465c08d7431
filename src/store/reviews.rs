//! Performance reviews: one row per employee and period, its figures as JSON; the
//! manager's notes kept apart so a review computed again keeps them. Also the episodes
//! of a period, oldest first, that reviews are computed from.

use crate::model::{EmployeeId, Episode, Review, ReviewNote, TenantId};
use crate::store::rows::{EpisodeRow, parse_id};
use crate::store::{Store, StoreError, from_micros, to_micros, with_pool};
use chrono::{DateTime, Utc};

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    figures: String,
    notes: String,
    created_at: i64,
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("a review's figures: {e}"))
}

impl Row {
    fn into_review(self) -> Result<Review, StoreError> {
        let mut r: Review = serde_json::from_str(&self.figures).map_err(corrupt)?;
        r.id = self.id;
        r.notes = serde_json::from_str(&self.notes).map_err(corrupt)?;
        r.created_at = from_micros(self.created_at);
        Ok(r)
    }
}

impl Store {
    /// Stores `r` as its employee's review of its period, replacing an earlier one of
    /// the same period (whose id and notes it keeps). Answers the review as stored.
    pub async fn save_review(&self, tenant: &TenantId, r: &Review) -> Result<Review, StoreError> {
        let mut figures = r.clone();
        figures.notes.clear();
        let figures = serde_json::to_string(&figures).map_err(corrupt)?;
        let row: Row = with_pool!(self, write, |pool| {
            sqlx::query_as(
                "INSERT INTO reviews (tenant, id, employee_id, period, figures, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (tenant, employee_id, period) DO UPDATE SET figures = excluded.figures, created_at = excluded.created_at \
                 RETURNING id, figures, notes, created_at",
            )
            .bind(tenant.as_str())
            .bind(&r.id)
            .bind(r.employee_id.to_string())
            .bind(&r.period)
            .bind(&figures)
            .bind(to_micros(r.created_at))
            .fetch_one(pool)
            .await
        })?;
        row.into_review()
    }

    /// The employees hired before `hired_before`, not offboarded, with no review of
    /// `period` yet: who the monthly run still owes one (after a node was down on the
    /// 1st, or stopped midway), in hiring order.
    pub async fn unreviewed(
        &self,
        tenant: &TenantId,
        period: &str,
        hired_before: DateTime<Utc>,
    ) -> Result<Vec<EmployeeId>, StoreError> {
        let rows: Vec<String> = with_pool!(self, read, |pool| {
            sqlx::query_scalar(
                "SELECT e.id FROM employees e WHERE e.tenant = $1 AND e.status <> 'offboarded' \
                 AND e.created_at < $2 AND NOT EXISTS (SELECT 1 FROM reviews r \
                 WHERE r.tenant = e.tenant AND r.employee_id = e.id AND r.period = $3) \
                 ORDER BY e.created_at, e.id",
            )
            .bind(tenant.as_str())
            .bind(to_micros(hired_before))
            .bind(period)
            .fetch_all(pool)
            .await
        })?;
        rows.iter().map(|r| parse_id(r)).collect()
    }

    /// An employee's reviews, newest first.
    pub async fn reviews(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
        limit: i64,
    ) -> Result<Vec<Review>, StoreError> {
        let rows: Vec<Row> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT id, figures, notes, created_at FROM reviews \
                 WHERE tenant = $1 AND employee_id = $2 ORDER BY period DESC, created_at DESC LIMIT $3",
            )
            .bind(tenant.as_str())
            .bind(employee.to_string())
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(Row::into_review).collect()
    }

    /// One review, by its id or by the Message-ID of the mail that sent it.
    pub async fn review(
        &self,
        tenant: &TenantId,
        by: ReviewKey<'_>,
    ) -> Result<Option<Review>, StoreError> {
        let (column, value) = match by {
            ReviewKey::Id(id) => ("id", id),
            ReviewKey::Mail(m) => ("mail_id", m),
        };
        let sql = format!(
            "SELECT id, figures, notes, created_at FROM reviews WHERE tenant = $1 AND {column} = $2"
        );
        let row: Option<Row> = with_pool!(self, read, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(tenant.as_str())
                .bind(value)
                .fetch_optional(pool)
                .await
        })?;
        row.map(Row::into_review).transpose()
    }

    /// Remembers the mail a review was sent in (a reply to it adds a note).
    pub async fn set_review_mail(
        &self,
        tenant: &TenantId,
        id: &str,
        mail_id: &str,
    ) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            sqlx::query("UPDATE reviews SET mail_id = $3 WHERE tenant = $1 AND id = $2")
                .bind(tenant.as_str())
                .bind(id)
                .bind(mail_id)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// Adds the manager's note to a review; answers the review, or None when there is
    /// no such review.
    pub async fn add_review_note(
        &self,
        tenant: &TenantId,
        id: &str,
        note: &ReviewNote,
    ) -> Result<Option<Review>, StoreError> {
        let Some(mut review) = self.review(tenant, ReviewKey::Id(id)).await? else {
            return Ok(None);
        };
        // Appended in SQL, not rewritten from what was read: two notes at once both stay.
        let one = serde_json::to_string(&[note]).map_err(corrupt)?;
        let sql = match self.kind() == crate::store::StoreKind::Postgres {
            true => {
                "UPDATE reviews SET notes = (notes::jsonb || $3::jsonb)::text WHERE tenant = $1 AND id = $2"
            }
            false => {
                "UPDATE reviews SET notes = json_insert(notes, '$[#]', json_extract($3, '$[0]')) WHERE tenant = $1 AND id = $2"
            }
        };
        with_pool!(self, write, |pool| {
            sqlx::query(sql)
                .bind(tenant.as_str())
                .bind(id)
                .bind(&one)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        review.notes.push(note.clone());
        Ok(Some(review))
    }

    /// An employee's episodes in `[from, to)`, oldest first.
    pub async fn episodes_between(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Episode>, StoreError> {
        let rows: Vec<EpisodeRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT id, employee_id, kind, event_id, cause_id, channel, summary, payload, at FROM episodes \
                 WHERE tenant = $1 AND employee_id = $2 AND at >= $3 AND at < $4 ORDER BY at, seq",
            )
            .bind(tenant.as_str())
            .bind(employee.to_string())
            .bind(to_micros(from))
            .bind(to_micros(to))
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(|r| r.into_episode(tenant)).collect()
    }
}

impl Store {
    /// An employee's newest `limit` metric readings (`metric` events) before `before`.
    pub async fn metric_readings_before(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Episode>, StoreError> {
        let rows: Vec<EpisodeRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT id, employee_id, kind, event_id, cause_id, channel, summary, payload, at FROM episodes \
                 WHERE tenant = $1 AND employee_id = $2 AND kind = 'event' AND summary = 'metric' AND at < $3 \
                 ORDER BY at DESC LIMIT $4",
            )
            .bind(tenant.as_str())
            .bind(employee.to_string())
            .bind(to_micros(before))
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(|r| r.into_episode(tenant)).collect()
    }
}

/// How a review is looked up.
#[derive(Debug, Clone, Copy)]
pub enum ReviewKey<'a> {
    /// By its id.
    Id(&'a str),
    /// By the Message-ID of the mail that sent it.
    Mail(&'a str),
}
