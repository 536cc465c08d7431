//! What each employee got done since a time, counted from what the store holds: mail
//! sent, meetings held, accounts researched, tasks finished. For the dashboard's team
//! view, one query per count for the whole tenant.

use super::{Store, StoreError, to_micros, with_pool};
use crate::model::{EmployeeId, TenantId};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// One employee's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct WorkCounts {
    /// Mails sent and replies (`email.send`, `email.reply`) done.
    pub emails_sent: u64,
    /// Meetings in its calendar that ended (not cancelled, not focus time).
    pub meetings_held: u64,
    /// Companies researched (`research.company` done).
    pub accounts_researched: u64,
    /// Tasks finished.
    pub tasks_done: u64,
}

impl Store {
    /// Each employee's counts from `since` to `now`; employees with none are absent.
    /// Meetings are counted by calendar owner address, given as `addresses` (address →
    /// employee).
    pub async fn work_counts(
        &self,
        tenant: &TenantId,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
        addresses: &HashMap<String, EmployeeId>,
    ) -> Result<HashMap<EmployeeId, WorkCounts>, StoreError> {
        let (from, to) = (to_micros(since), to_micros(now));
        let actions: Vec<(String, String, i64)> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT employee_id, kind, COUNT(*) FROM outbox WHERE tenant = $1 AND status = 'done' \
                 AND done_at >= $2 AND kind IN ('email.send', 'email.reply', 'research.company') \
                 GROUP BY employee_id, kind",
            )
            .bind(tenant.as_str())
            .bind(from)
            .fetch_all(pool)
            .await
        })?;
        let tasks: Vec<(String, i64)> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT employee_id, COUNT(*) FROM tasks WHERE tenant = $1 AND status = 'done' \
                 AND updated_at >= $2 GROUP BY employee_id",
            )
            .bind(tenant.as_str())
            .bind(from)
            .fetch_all(pool)
            .await
        })?;
        let meetings: Vec<(String, i64)> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT owner, COUNT(*) FROM calendar_events WHERE tenant = $1 AND status = 'confirmed' \
                 AND NOT focus AND ends_at >= $2 AND ends_at <= $3 GROUP BY owner",
            )
            .bind(tenant.as_str())
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await
        })?;
        let mut out: HashMap<EmployeeId, WorkCounts> = HashMap::new();
        let id = |s: &str| s.parse::<EmployeeId>().ok();
        for (e, kind, n) in actions {
            if let Some(e) = id(&e) {
                let c = out.entry(e).or_default();
                match kind.as_str() {
                    "research.company" => c.accounts_researched += n as u64,
                    _ => c.emails_sent += n as u64,
                }
            }
        }
        for (e, n) in tasks {
            if let Some(e) = id(&e) {
                out.entry(e).or_default().tasks_done += n as u64;
            }
        }
        for (owner, n) in meetings {
            if let Some(e) = addresses.get(&owner.to_ascii_lowercase()) {
                out.entry(*e).or_default().meetings_held += n as u64;
            }
        }
        Ok(out)
    }
}
