//! The executive's mail as their assistant triaged it: one row per assistant and
//! message, written once (triaging a message again changes nothing), listed most
//! pressing first. Also who reads whose mail (`employees.reads_for`), so intake can
//! hand a message to an executive's assistant.

use super::rows::parse_id;
use super::{Store, StoreError, from_micros, to_micros, with_pool};
use crate::model::{EmployeeId, Priority, TenantId, TriageLabel, TriagedMail};
use chrono::{DateTime, Utc};

#[derive(sqlx::FromRow)]
struct Row {
    employee_id: String,
    message_id: String,
    executive: String,
    sender: String,
    subject: String,
    received_at: i64,
    label: String,
    priority: String,
    summary: String,
    reason: String,
    triaged_at: i64,
    notified_at: Option<i64>,
}

impl Row {
    fn into_triaged(self) -> Result<TriagedMail, StoreError> {
        Ok(TriagedMail {
            employee_id: parse_id(&self.employee_id)?,
            label: TriageLabel::parse(&self.label)
                .ok_or_else(|| StoreError::Corrupt(format!("triage label {:?}", self.label)))?,
            priority: Priority::parse(&self.priority).ok_or_else(|| {
                StoreError::Corrupt(format!("triage priority {:?}", self.priority))
            })?,
            message_id: self.message_id,
            executive: self.executive,
            from: self.sender,
            subject: self.subject,
            received_at: from_micros(self.received_at),
            summary: self.summary,
            reason: self.reason,
            triaged_at: from_micros(self.triaged_at),
            notified_at: self.notified_at.map(from_micros),
        })
    }
}

const COLUMNS: &str = "employee_id, message_id, executive, sender, subject, received_at, label, \
                       priority, summary, reason, triaged_at, notified_at";

/// Which triaged messages to list.
#[derive(Debug, Clone, Default)]
pub struct TriageFilter {
    /// Only those with this label.
    pub label: Option<TriageLabel>,
    /// Only those that arrived at or after this.
    pub since: Option<DateTime<Utc>>,
    /// At most this many.
    pub limit: i64,
}

impl Store {
    /// The employees that read `address`'s mail for its owner (not offboarded).
    pub async fn delegates(
        &self,
        tenant: &TenantId,
        address: &str,
    ) -> Result<Vec<EmployeeId>, StoreError> {
        let rows: Vec<(String,)> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT id FROM employees WHERE tenant = $1 AND reads_for = $2 AND status <> 'offboarded' ORDER BY id",
            )
            .bind(tenant.as_str())
            .bind(address.to_ascii_lowercase())
            .fetch_all(pool)
            .await
        })?;
        rows.iter().map(|(id,)| parse_id(id)).collect()
    }

    /// Whether `address`'s inbox holds the message `message_id` (mail Bcc'd to an
    /// executive is theirs though no header names them).
    pub async fn in_inbox(
        &self,
        tenant: &TenantId,
        address: &str,
        message_id: &str,
    ) -> Result<bool, StoreError> {
        let row: Option<(i64,)> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT b.mail_seq FROM mailbox b JOIN mail m ON m.tenant = b.tenant AND m.seq = b.mail_seq \
                 WHERE b.tenant = $1 AND b.address = $2 AND b.folder = 'inbox' AND m.message_id = $3 LIMIT 1",
            )
            .bind(tenant.as_str())
            .bind(address.to_ascii_lowercase())
            .bind(message_id)
            .fetch_optional(pool)
            .await
        })?;
        Ok(row.is_some())
    }

    /// Keeps `t` unless its message was triaged by that assistant before; answers the
    /// row as stored (the earlier one, if there was one).
    pub async fn save_triaged(
        &self,
        tenant: &TenantId,
        t: &TriagedMail,
    ) -> Result<TriagedMail, StoreError> {
        with_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO triaged_mail (tenant, employee_id, message_id, executive, sender, subject, \
                 received_at, label, priority, rank, summary, reason, triaged_at, notified_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL) ON CONFLICT DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(t.employee_id.to_string())
            .bind(&t.message_id)
            .bind(&t.executive)
            .bind(&t.from)
            .bind(&t.subject)
            .bind(to_micros(t.received_at))
            .bind(t.label.as_str())
            .bind(t.priority.as_str())
            .bind(t.rank())
            .bind(&t.summary)
            .bind(&t.reason)
            .bind(to_micros(t.triaged_at))
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        self.triaged_one(tenant, t.employee_id, &t.message_id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("a triaged message vanished as it was kept".into()))
    }

    /// One message as `employee` triaged it, if it did.
    pub async fn triaged_one(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
        message_id: &str,
    ) -> Result<Option<TriagedMail>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM triaged_mail WHERE tenant = $1 AND employee_id = $2 AND message_id = $3"
        );
        let row: Option<Row> = with_pool!(self, read, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(tenant.as_str())
                .bind(employee.to_string())
                .bind(message_id)
                .fetch_optional(pool)
                .await
        })?;
        row.map(Row::into_triaged).transpose()
    }

    /// What `employee` triaged, most pressing first (urgent, then by priority), oldest
    /// first within each.
    pub async fn triaged(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
        f: &TriageFilter,
    ) -> Result<Vec<TriagedMail>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM triaged_mail WHERE tenant = $1 AND employee_id = $2 \
             AND ($3 = '' OR label = $3) AND received_at >= $4 \
             ORDER BY rank, received_at, message_id LIMIT $5"
        );
        let rows: Vec<Row> = with_pool!(self, read, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(tenant.as_str())
                .bind(employee.to_string())
                .bind(f.label.map_or("", TriageLabel::as_str))
                .bind(f.since.map_or(i64::MIN, to_micros))
                .bind(f.limit)
                .fetch_all(pool)
                .await
        })?;
        rows.into_iter().map(Row::into_triaged).collect()
    }

    /// Records that an urgent message was put in front of the executive.
    pub async fn set_triage_notified(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
        message_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            sqlx::query(
                "UPDATE triaged_mail SET notified_at = $4 \
                 WHERE tenant = $1 AND employee_id = $2 AND message_id = $3 AND notified_at IS NULL",
            )
            .bind(tenant.as_str())
            .bind(employee.to_string())
            .bind(message_id)
            .bind(to_micros(at))
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }
}
