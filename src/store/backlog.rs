//! The product backlog's rows: feature requests and their votes, tenant on every row.
//! A request is written whole (the backlog applies a patch to the record it read); a
//! request or vote filed under a key is stored once, so filing again after a crash finds
//! what was filed. Lists are newest first.

use crate::capabilities::product::{FeatureRequest, RequestStatus, RequestsFilter, Source};
use crate::model::TenantId;
use crate::store::crm::{Conditions, Page};
use crate::store::{Store, StoreError, from_micros, to_micros, with_pool};
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

const COLUMNS: &str = "id, title, description, requester, account, votes, reach, impact, confidence, effort, \
     score, status, source, roadmap_rank, roadmap_status, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    title: String,
    description: String,
    requester: Option<String>,
    account: Option<String>,
    votes: i64,
    reach: Option<f64>,
    impact: Option<f64>,
    confidence: Option<f64>,
    effort: Option<f64>,
    score: Option<f64>,
    status: String,
    source: String,
    roadmap_rank: Option<i64>,
    roadmap_status: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl Row {
    fn into_request(self, voters: Vec<String>) -> Result<FeatureRequest, StoreError> {
        let status = |s: &str| {
            RequestStatus::parse(s).ok_or_else(|| {
                StoreError::Corrupt(format!("feature request {}: unknown status {s:?}", self.id))
            })
        };
        Ok(FeatureRequest {
            status: status(&self.status)?,
            roadmap_status: self.roadmap_status.as_deref().map(status).transpose()?,
            source: Source::parse(&self.source).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "feature request {}: unknown source {:?}",
                    self.id, self.source
                ))
            })?,
            id: self.id,
            title: self.title,
            description: self.description,
            requester: self.requester,
            account: self.account,
            votes: self.votes,
            voters,
            reach: self.reach,
            impact: self.impact,
            confidence: self.confidence,
            effort: self.effort,
            score: self.score,
            roadmap_rank: self.roadmap_rank,
            created_at: from_micros(self.created_at),
            updated_at: from_micros(self.updated_at),
        })
    }
}

impl Store {
    /// Stores a new request with its requester's vote (when there is a requester),
    /// filed under `key`. When something was filed under `key` already, answers that.
    pub async fn insert_feature_request(
        &self,
        tenant: &TenantId,
        r: &FeatureRequest,
        key: &str,
    ) -> Result<FeatureRequest, StoreError> {
        let voter = r.voters.first().cloned();
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(
                "INSERT INTO product_requests (tenant, id, title, description, requester, account, votes, \
                 reach, impact, confidence, effort, score, status, source, filed_key, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
                 ON CONFLICT (tenant, filed_key) DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(&r.id)
            .bind(&r.title)
            .bind(&r.description)
            .bind(r.requester.as_deref())
            .bind(r.account.as_deref())
            .bind(i64::from(voter.is_some()))
            .bind(r.reach)
            .bind(r.impact)
            .bind(r.confidence)
            .bind(r.effort)
            .bind(r.score)
            .bind(r.status.as_str())
            .bind(r.source.as_str())
            .bind(key)
            .bind(to_micros(r.created_at))
            .bind(to_micros(r.updated_at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1
                && let Some(v) = &voter
            {
                sqlx::query(
                    "INSERT INTO product_votes (tenant, request_id, voter, source, filed_key, at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(tenant.as_str())
                .bind(&r.id)
                .bind(v)
                .bind(r.source.as_str())
                .bind(key)
                .bind(to_micros(r.created_at))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        })?;
        self.feature_request_filed(tenant, key)
            .await?
            .map(|(r, _)| r)
            .ok_or_else(|| {
                StoreError::Corrupt(format!("feature request filed as {key:?} vanished"))
            })
    }

    /// Adds `voter`'s vote for a request, cast under `key`. False when they had voted
    /// for it already (then nothing changes).
    pub async fn add_feature_vote(
        &self,
        tenant: &TenantId,
        request: &str,
        voter: &str,
        source: Source,
        key: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let added = with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(
                "INSERT INTO product_votes (tenant, request_id, voter, source, filed_key, at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant, request_id, voter) DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(request)
            .bind(voter)
            .bind(source.as_str())
            .bind(key)
            .bind(to_micros(at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                sqlx::query(
                    "UPDATE product_requests SET votes = votes + 1, updated_at = $3 WHERE tenant = $1 AND id = $2",
                )
                .bind(tenant.as_str())
                .bind(request)
                .bind(to_micros(at))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(n == 1)
        })?;
        Ok(added)
    }

    /// One request.
    pub async fn feature_request(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<FeatureRequest>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM product_requests WHERE tenant = $1 AND id = $2");
        let row: Option<Row> = with_pool!(self, read, |pool| {
            sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(tenant.as_str())
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        match row {
            Some(r) => Ok(Some(self.with_voters(tenant, r).await?)),
            None => Ok(None),
        }
    }

    /// The request filed, or voted for, under `key`, and whether it was filed new
    /// under it (rather than voted for).
    pub async fn feature_request_filed(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<(FeatureRequest, bool)>, StoreError> {
        let found: Option<(String, i64)> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT id, CAST(1 AS BIGINT) AS fresh FROM product_requests WHERE tenant = $1 AND filed_key = $2 \
                 UNION ALL SELECT request_id, CAST(0 AS BIGINT) AS fresh FROM product_votes WHERE tenant = $1 AND filed_key = $2 \
                 ORDER BY fresh DESC LIMIT 1",
            )
            .bind(tenant.as_str())
            .bind(key)
            .fetch_optional(pool)
            .await
        })?;
        match found {
            Some((id, new)) => Ok(self
                .feature_request(tenant, &id)
                .await?
                .map(|r| (r, new == 1))),
            None => Ok(None),
        }
    }

    /// Requests, newest first.
    pub async fn feature_requests(
        &self,
        tenant: &TenantId,
        f: &RequestsFilter,
        page: Page,
    ) -> Result<Vec<FeatureRequest>, StoreError> {
        let c = Conditions::new()
            .eq("status", f.status.map(RequestStatus::as_str))
            .eq("account", f.account.as_deref())
            .eq("source", f.source.map(Source::as_str));
        let sql = format!(
            "SELECT {COLUMNS} FROM product_requests WHERE {} ORDER BY created_at DESC, id DESC {}",
            c.sql,
            c.page()
        );
        let rows: Vec<Row> = with_pool!(self, read, |pool| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(tenant.as_str());
            for t in &c.texts {
                q = q.bind(t.as_str());
            }
            q.bind(page.limit).bind(page.offset).fetch_all(pool).await
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(self.with_voters(tenant, r).await?);
        }
        Ok(out)
    }

    /// Writes a request's title, RICE inputs and score, status and roadmap place over
    /// the stored one; false when there is none.
    pub async fn update_feature_request(
        &self,
        tenant: &TenantId,
        r: &FeatureRequest,
    ) -> Result<bool, StoreError> {
        let n = with_pool!(self, write, |pool| {
            sqlx::query(
                "UPDATE product_requests SET title = $3, reach = $4, impact = $5, confidence = $6, effort = $7, \
                 score = $8, status = $9, roadmap_rank = $10, roadmap_status = $11, updated_at = $12 \
                 WHERE tenant = $1 AND id = $2",
            )
            .bind(tenant.as_str())
            .bind(&r.id)
            .bind(&r.title)
            .bind(r.reach)
            .bind(r.impact)
            .bind(r.confidence)
            .bind(r.effort)
            .bind(r.score)
            .bind(r.status.as_str())
            .bind(r.roadmap_rank)
            .bind(r.roadmap_status.map(RequestStatus::as_str))
            .bind(to_micros(r.updated_at))
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    async fn with_voters(&self, tenant: &TenantId, r: Row) -> Result<FeatureRequest, StoreError> {
        let voters: Vec<String> = with_pool!(self, read, |pool| {
            sqlx::query_scalar(
                "SELECT voter FROM product_votes WHERE tenant = $1 AND request_id = $2 ORDER BY at, voter",
            )
            .bind(tenant.as_str())
            .bind(&r.id)
            .fetch_all(pool)
            .await
        })?;
        r.into_request(voters)
    }
}

impl Store {
    /// Votes cast since `since`, per request id.
    pub async fn feature_votes_since(
        &self,
        tenant: &TenantId,
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT request_id, COUNT(*) FROM product_votes WHERE tenant = $1 AND at >= $2 \
                 GROUP BY request_id ORDER BY request_id",
            )
            .bind(tenant.as_str())
            .bind(to_micros(since))
            .fetch_all(pool)
            .await
        })?)
    }

    /// Every account's per-feature metric values measured since `since`, oldest
    /// first: (account, point).
    pub async fn feature_metrics_since(
        &self,
        tenant: &TenantId,
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, crate::store::Point)>, StoreError> {
        let rows: Vec<(String, String, String, i64, f64)> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT account, metric, feature, at, value FROM crm_account_metrics \
                 WHERE tenant = $1 AND feature <> '' AND at >= $2 ORDER BY at, account, metric, feature",
            )
            .bind(tenant.as_str())
            .bind(to_micros(since))
            .fetch_all(pool)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(account, metric, feature, at, value)| {
                (
                    account,
                    crate::store::Point {
                        metric,
                        feature,
                        at: from_micros(at),
                        value,
                    },
                )
            })
            .collect())
    }
}

impl Store {
    /// Forgets a person in the backlog: they are no longer named as a request's
    /// requester, and their votes count on without their address or handle. Answers how
    /// many requests and votes were changed.
    pub async fn forget_requester(
        &self,
        tenant: &TenantId,
        person: &str,
    ) -> Result<u64, StoreError> {
        let key = crate::model::bare_address(person).trim().to_lowercase();
        if key.is_empty() {
            return Ok(0);
        }
        let n = with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            // As filed: `Name <address>`, the address, or a handle.
            let requests = sqlx::query(
                "UPDATE product_requests SET requester = NULL WHERE tenant = $1 \
                 AND (lower(requester) = $2 OR lower(requester) LIKE '%<' || $2 || '>')",
            )
            .bind(tenant.as_str())
            .bind(&key)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let votes = sqlx::query(
                "UPDATE product_votes SET voter = 'forgotten:' || COALESCE(filed_key, request_id) \
                 WHERE tenant = $1 AND voter = $2",
            )
            .bind(tenant.as_str())
            .bind(&key)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok::<_, sqlx::Error>(requests + votes)
        })?;
        Ok(n)
    }
}

impl Store {
    /// An account's value of a feature's metric last measured before `at`.
    pub async fn feature_metric_before(
        &self,
        tenant: &TenantId,
        account: &str,
        point: &crate::store::Point,
    ) -> Result<Option<f64>, StoreError> {
        Ok(with_pool!(self, read, |pool| {
            sqlx::query_scalar(
                "SELECT value FROM crm_account_metrics WHERE tenant = $1 AND account = $2 \
                 AND metric = $3 AND feature = $4 AND at < $5 ORDER BY at DESC LIMIT 1",
            )
            .bind(tenant.as_str())
            .bind(account)
            .bind(&point.metric)
            .bind(&point.feature)
            .bind(to_micros(point.at))
            .fetch_optional(pool)
            .await
        })?)
    }
}
