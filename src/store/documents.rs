//! Documents employees write: each version a row with its Markdown and its PDF, newest
//! first in lists; a version written by an action is written once however often the
//! action runs.

use super::crm::{Conditions, Page};
use crate::model::{EmployeeId, TenantId};
use crate::store::{Store, StoreError, from_micros, to_micros, with_pool};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value as Json;
use sqlx::AssertSqlSafe;

/// A document to store.
#[derive(Debug, Clone)]
pub struct NewDocument {
    /// `proposal`, `qbr`, `report`.
    pub kind: String,
    /// Title.
    pub title: String,
    /// The document across its versions: a new one with the same series is its next
    /// version.
    pub series: String,
    /// Who wrote it.
    pub employee: EmployeeId,
    /// The CRM account it is about.
    pub account: Option<String>,
    /// The deal it is for.
    pub deal: Option<String>,
    /// The contact it was written for.
    pub contact: Option<String>,
    /// The action that wrote it.
    pub action_key: Option<String>,
    /// Its text.
    pub markdown: String,
    /// Its PDF.
    pub pdf: Vec<u8>,
    /// Its figures (a quote's lines and totals).
    pub facts: Json,
}

/// A stored document's record (its content is read apart).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Document {
    /// Id.
    pub id: String,
    /// `proposal`, `qbr`, `report`.
    pub kind: String,
    /// Title.
    pub title: String,
    /// The document across its versions.
    pub series: String,
    /// 1 for the first version of its series.
    pub version: i64,
    /// The employee who wrote it.
    pub employee: String,
    /// The CRM account it is about.
    pub account: Option<String>,
    /// The deal it is for.
    pub deal: Option<String>,
    /// The contact it was written for.
    pub contact: Option<String>,
    /// Its figures, e.g. a quote's lines and total.
    #[schema(value_type = Object)]
    pub facts: Json,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

/// Which documents to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DocumentFilter {
    /// Written by this employee (id).
    pub employee: Option<String>,
    /// About this account (id).
    pub account: Option<String>,
    /// Of this kind.
    pub kind: Option<String>,
}

const COLUMNS: &str =
    "id, kind, title, series, version, employee, account, deal, contact, facts, created_at";

type Row = (
    String,
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    i64,
);

/// A [`Row`] and the document's Markdown.
type RowWithText = (
    String,
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    i64,
    String,
);

fn document(r: Row) -> Result<Document, StoreError> {
    Ok(Document {
        id: r.0,
        kind: r.1,
        title: r.2,
        series: r.3,
        version: r.4,
        employee: r.5,
        account: r.6,
        deal: r.7,
        contact: r.8,
        facts: serde_json::from_str(&r.9)
            .map_err(|e| StoreError::Corrupt(format!("a document's facts: {e}")))?,
        created_at: from_micros(r.10),
    })
}

impl Store {
    /// Stores `d` as the next version of its series, or answers the version its action
    /// already wrote.
    pub async fn put_document(
        &self,
        tenant: &TenantId,
        d: &NewDocument,
    ) -> Result<Document, StoreError> {
        if let Some(key) = &d.action_key
            && let Some(done) = self.document_where(tenant, "action_key", key).await?
        {
            return Ok(done);
        }
        let id = uuid::Uuid::now_v7().to_string();
        let facts = d.facts.to_string();
        let now = Utc::now();
        let version = with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let (last,): (Option<i64>,) = sqlx::query_as(
                "SELECT MAX(version) FROM documents WHERE tenant = $1 AND series = $2",
            )
            .bind(tenant.as_str())
            .bind(&d.series)
            .fetch_one(&mut *tx)
            .await?;
            let version = last.unwrap_or(0) + 1;
            sqlx::query(
                "INSERT INTO documents (tenant, id, kind, title, series, version, employee, account, deal, \
                 contact, action_key, markdown, pdf, facts, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            )
            .bind(tenant.as_str())
            .bind(&id)
            .bind(&d.kind)
            .bind(&d.title)
            .bind(&d.series)
            .bind(version)
            .bind(d.employee.to_string())
            .bind(d.account.as_deref())
            .bind(d.deal.as_deref())
            .bind(d.contact.as_deref())
            .bind(d.action_key.as_deref())
            .bind(&d.markdown)
            .bind(&d.pdf)
            .bind(&facts)
            .bind(to_micros(now))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(version)
        })?;
        Ok(Document {
            id,
            kind: d.kind.clone(),
            title: d.title.clone(),
            series: d.series.clone(),
            version,
            employee: d.employee.to_string(),
            account: d.account.clone(),
            deal: d.deal.clone(),
            contact: d.contact.clone(),
            facts: d.facts.clone(),
            created_at: from_micros(to_micros(now)),
        })
    }

    /// The document whose `column` (its `id`, or the `action_key` that wrote it) is
    /// `value`.
    async fn document_where(
        &self,
        tenant: &TenantId,
        column: &'static str,
        value: &str,
    ) -> Result<Option<Document>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM documents WHERE tenant = $1 AND {column} = $2");
        let row: Option<Row> = with_pool!(self, read, |pool| {
            sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(tenant.as_str())
                .bind(value)
                .fetch_optional(pool)
                .await
        })?;
        row.map(document).transpose()
    }

    /// One document's record.
    pub async fn document(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<Document>, StoreError> {
        self.document_where(tenant, "id", id).await
    }

    /// One document's Markdown and PDF.
    pub async fn document_content(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        Ok(with_pool!(self, read, |pool| {
            sqlx::query_as("SELECT markdown, pdf FROM documents WHERE tenant = $1 AND id = $2")
                .bind(tenant.as_str())
                .bind(id)
                .fetch_optional(pool)
                .await
        })?)
    }

    /// The newest version of a series: its record and Markdown.
    pub async fn latest_in_series(
        &self,
        tenant: &TenantId,
        series: &str,
    ) -> Result<Option<(Document, String)>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS}, markdown FROM documents WHERE tenant = $1 AND series = $2 \
             ORDER BY version DESC LIMIT 1"
        );
        let found: Option<RowWithText> = with_pool!(self, read, |pool| {
            sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(tenant.as_str())
                .bind(series)
                .fetch_optional(pool)
                .await
        })?;
        found
            .map(|r| {
                let markdown = r.11.clone();
                document((r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10))
                    .map(|d| (d, markdown))
            })
            .transpose()
    }

    /// Documents, newest first.
    pub async fn documents(
        &self,
        tenant: &TenantId,
        f: &DocumentFilter,
        page: Page,
    ) -> Result<Vec<Document>, StoreError> {
        let c = Conditions::new()
            .eq("employee", f.employee.as_deref())
            .eq("account", f.account.as_deref())
            .eq("kind", f.kind.as_deref());
        let sql = format!(
            "SELECT {COLUMNS} FROM documents WHERE {} ORDER BY created_at DESC, id DESC {}",
            c.sql,
            c.page()
        );
        let rows: Vec<Row> = with_pool!(self, read, |pool| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(tenant.as_str());
            for t in &c.texts {
                q = q.bind(t);
            }
            q.bind(page.limit).bind(page.offset).fetch_all(pool).await
        })?;
        rows.into_iter().map(document).collect()
    }
}
