//! Account time series: usage, engagement, NPS, adoption (per feature or not).

use crate::model::TenantId;
use crate::store::{Store, StoreError, from_micros, to_micros, with_pool};
use chrono::{DateTime, Utc};

/// One value of an account's metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The metric, e.g. `usage`.
    pub metric: String,
    /// The feature it is about; empty for the whole account.
    pub feature: String,
    /// When it was measured.
    pub at: DateTime<Utc>,
    /// The value.
    pub value: f64,
}

impl Store {
    /// Stores an account's points in one transaction; a point already stored for the
    /// same metric, feature and time is replaced.
    pub async fn put_account_metrics(
        &self,
        tenant: &TenantId,
        account: &str,
        points: &[Point],
    ) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            for p in points {
                sqlx::query(
                    "INSERT INTO crm_account_metrics (tenant, account, metric, feature, at, value) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (tenant, account, metric, feature, at) DO UPDATE SET value = excluded.value",
                )
                .bind(tenant.as_str())
                .bind(account)
                .bind(&p.metric)
                .bind(&p.feature)
                .bind(to_micros(p.at))
                .bind(p.value)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    /// The last `n` values of an account's metric (for the whole account), oldest first.
    pub async fn account_series(
        &self,
        tenant: &TenantId,
        account: &str,
        metric: &str,
        n: i64,
    ) -> Result<Vec<(DateTime<Utc>, f64)>, StoreError> {
        let rows: Vec<(i64, f64)> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT at, value FROM crm_account_metrics WHERE tenant = $1 AND account = $2 AND metric = $3 \
                 AND feature = '' ORDER BY at DESC LIMIT $4",
            )
            .bind(tenant.as_str())
            .bind(account)
            .bind(metric)
            .bind(n)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows
            .into_iter()
            .rev()
            .map(|(at, v)| (from_micros(at), v))
            .collect())
    }

    /// The latest value of `metric` (for the whole account) of each account that has
    /// one: (account id, value).
    pub async fn latest_account_metric(
        &self,
        tenant: &TenantId,
        metric: &str,
    ) -> Result<Vec<(String, f64)>, StoreError> {
        let rows: Vec<(String, f64)> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT m.account, m.value FROM crm_account_metrics m \
                 WHERE m.tenant = $1 AND m.metric = $2 AND m.feature = '' AND m.at = \
                 (SELECT max(at) FROM crm_account_metrics l WHERE l.tenant = m.tenant AND l.account = m.account \
                  AND l.metric = m.metric AND l.feature = '')",
            )
            .bind(tenant.as_str())
            .bind(metric)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }
}
