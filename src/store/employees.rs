//! Employees in the store: hiring, profiles, the directory loaded at start, state
//! snapshots and cron subscriptions.

use super::rows::{parse_id, parse_json};
use super::to_micros;
use super::{Backend, DirectoryRow, NewHire, Store, StoreError, with_pool};
use crate::model::{EmployeeId, EmployeeProfile, EmployeeStatus, TenantId};
use futures::TryStreamExt;

impl Store {
    // ---- employees ----

    /// Stores new employees with their cron subscriptions, all or nothing. A taken
    /// email, handle or config key is a conflict and stores nothing.
    pub async fn insert_employees(&self, hires: &[NewHire]) -> Result<(), StoreError> {
        if hires.is_empty() {
            return Ok(());
        }
        let rows: Vec<_> = hires
            .iter()
            .map(|h| {
                let profile = serde_json::to_string(&h.profile).expect("a profile serialises");
                (&h.profile, h.config_key.clone(), profile)
            })
            .collect();
        let subs: Vec<(String, String, String, String)> = hires
            .iter()
            .flat_map(|h| {
                h.schedules.iter().map(|(name, cron)| {
                    (
                        h.profile.tenant.as_str().to_owned(),
                        h.profile.id.to_string(),
                        name.clone(),
                        cron.clone(),
                    )
                })
            })
            .collect();
        // An async block, so `?` inside stops here and the conflict can be told apart.
        let result: Result<(), sqlx::Error> = async { with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            for chunk in rows.chunks(500) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO employees (tenant, id, name, email, chat_handle, role, status, profile, config_key, created_at, updated_at, reads_for) ",
                );
                qb.push_values(chunk, |mut b, (p, key, profile)| {
                    let at = to_micros(p.created_at);
                    b.push_bind(p.tenant.as_str().to_owned())
                        .push_bind(p.id.to_string())
                        .push_bind(p.name.clone())
                        .push_bind(p.email.clone())
                        .push_bind(p.chat_handle.clone())
                        .push_bind(p.role.clone())
                        .push_bind(p.status.as_str())
                        .push_bind(profile.clone())
                        .push_bind(key.clone())
                        .push_bind(at)
                        .push_bind(at)
                        .push_bind(p.reads_mail_of());
                });
                qb.build().execute(&mut *tx).await?;
            }
            for chunk in subs.chunks(1000) {
                let mut qb = sqlx::QueryBuilder::new("INSERT INTO cron_subscriptions (tenant, employee_id, name, cron) ");
                qb.push_values(chunk, |mut b, (tenant, id, name, cron)| {
                    b.push_bind(tenant.clone()).push_bind(id.clone()).push_bind(name.clone()).push_bind(cron.clone());
                });
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await
        }) }
        .await;
        result.map_err(conflict_or_db)
    }

    /// Replaces an employee's stored profile (and its status and `reads_for` columns).
    pub async fn update_profile(&self, p: &EmployeeProfile) -> Result<(), StoreError> {
        let profile = serde_json::to_string(p).expect("a profile serialises");
        let now = to_micros(chrono::Utc::now());
        with_pool!(self, write, |pool| {
            sqlx::query("UPDATE employees SET profile = $1, status = $2, updated_at = $3, reads_for = $6 WHERE tenant = $4 AND id = $5")
                .bind(profile)
                .bind(p.status.as_str())
                .bind(now)
                .bind(p.tenant.as_str())
                .bind(p.id.to_string())
                .bind(p.reads_mail_of())
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// One employee's profile.
    pub async fn employee(
        &self,
        tenant: &TenantId,
        id: EmployeeId,
    ) -> Result<Option<EmployeeProfile>, StoreError> {
        let row: Option<(String,)> = with_pool!(self, read, |pool| {
            sqlx::query_as("SELECT profile FROM employees WHERE tenant = $1 AND id = $2")
                .bind(tenant.as_str())
                .bind(id.to_string())
                .fetch_optional(pool)
                .await
        })?;
        row.map(|(p,)| parse_json(&p)).transpose()
    }

    /// One employee's profile and last state snapshot, read together for activation.
    pub async fn employee_with_state(
        &self,
        tenant: &TenantId,
        id: EmployeeId,
    ) -> Result<Option<(EmployeeProfile, Option<Vec<u8>>)>, StoreError> {
        let row: Option<(String, Option<Vec<u8>>)> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT e.profile, s.snapshot FROM employees e \
                 LEFT JOIN employee_state s ON s.tenant = e.tenant AND s.employee_id = e.id \
                 WHERE e.tenant = $1 AND e.id = $2",
            )
            .bind(tenant.as_str())
            .bind(id.to_string())
            .fetch_optional(pool)
            .await
        })?;
        row.map(|(p, s)| Ok((parse_json(&p)?, s))).transpose()
    }

    /// Employees in hiring order, `limit` of them after `offset`.
    pub async fn employees(
        &self,
        tenant: &TenantId,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<EmployeeProfile>, StoreError> {
        let rows: Vec<(String,)> = with_pool!(self, read, |pool| {
            sqlx::query_as("SELECT profile FROM employees WHERE tenant = $1 ORDER BY created_at, id LIMIT $2 OFFSET $3")
                .bind(tenant.as_str())
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await
        })?;
        rows.into_iter().map(|(p,)| parse_json(&p)).collect()
    }

    /// As [`Store::employees`], each with its stored state snapshot (none before its
    /// first event): a team's status in one query per page.
    pub async fn employees_with_state(
        &self,
        tenant: &TenantId,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<(EmployeeProfile, Option<Vec<u8>>)>, StoreError> {
        let rows: Vec<(String, Option<Vec<u8>>)> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT e.profile, s.snapshot FROM employees e \
                 LEFT JOIN employee_state s ON s.tenant = e.tenant AND s.employee_id = e.id \
                 WHERE e.tenant = $1 ORDER BY e.created_at, e.id LIMIT $2 OFFSET $3",
            )
            .bind(tenant.as_str())
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter()
            .map(|(p, s)| Ok((parse_json(&p)?, s)))
            .collect()
    }

    /// Refreshes the query planner's statistics (SQLite's `PRAGMA optimize`, PostgreSQL's
    /// `ANALYZE`): after a bulk load, and nightly, so full-text and similarity lookups
    /// keep their index plans as memory grows.
    pub async fn analyze(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite { write, .. } => {
                sqlx::query("PRAGMA optimize").execute(write).await?;
            }
            Backend::Postgres(pool) => {
                sqlx::query("ANALYZE").execute(pool).await?;
            }
        }
        Ok(())
    }

    /// Every employee's id, in hiring order.
    pub async fn employee_ids(&self, tenant: &TenantId) -> Result<Vec<EmployeeId>, StoreError> {
        let rows: Vec<String> = with_pool!(self, read, |pool| {
            sqlx::query_scalar("SELECT id FROM employees WHERE tenant = $1 ORDER BY created_at, id")
                .bind(tenant.as_str())
                .fetch_all(pool)
                .await
        })?;
        rows.iter().map(|r| parse_id(r)).collect()
    }

    /// Ids of employees hired from config files, by config key.
    pub async fn config_keys(&self, tenant: &TenantId) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT config_key FROM employees WHERE tenant = $1 AND config_key IS NOT NULL",
            )
            .bind(tenant.as_str())
            .fetch_all(pool)
            .await
        })?;
        Ok(rows.into_iter().map(|(k,)| k).collect())
    }

    /// Streams every employee's directory entry to `f`, without holding them all.
    pub async fn for_each_directory_row(
        &self,
        tenant: &TenantId,
        mut f: impl FnMut(DirectoryRow) + Send,
    ) -> Result<u64, StoreError> {
        let mut n = 0;
        with_pool!(self, read, |pool| {
            let mut rows = sqlx::query_as::<_, DirectoryRow>(
                "SELECT id, email, chat_handle, status FROM employees WHERE tenant = $1",
            )
            .bind(tenant.as_str())
            .fetch(pool);
            while let Some(row) = rows.try_next().await? {
                f(row);
                n += 1;
            }
        });
        Ok(n)
    }

    // ---- runtime state ----

    /// The last state snapshot of an employee.
    pub async fn snapshot(
        &self,
        tenant: &TenantId,
        id: EmployeeId,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let row: Option<(Vec<u8>,)> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT snapshot FROM employee_state WHERE tenant = $1 AND employee_id = $2",
            )
            .bind(tenant.as_str())
            .bind(id.to_string())
            .fetch_optional(pool)
            .await
        })?;
        Ok(row.map(|(s,)| s))
    }

    /// Replaces the state snapshot of an employee that is not running (forgetting a
    /// person in it); answers whether it had one.
    pub async fn replace_snapshot(
        &self,
        tenant: &TenantId,
        id: EmployeeId,
        snapshot: &[u8],
    ) -> Result<bool, StoreError> {
        let n = with_pool!(self, write, |pool| {
            sqlx::query(
                "UPDATE employee_state SET snapshot = $3, updated_at = $4 \
                 WHERE tenant = $1 AND employee_id = $2",
            )
            .bind(tenant.as_str())
            .bind(id.to_string())
            .bind(snapshot)
            .bind(to_micros(chrono::Utc::now()))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    // ---- wake-ups ----

    /// Employees that must reason on their own by `now` (a wait's deadline, a
    /// message's SLA, a calendar trigger), at most `limit`.
    pub async fn due_employees(
        &self,
        tenant: &TenantId,
        now: chrono::DateTime<chrono::Utc>,
        limit: i64,
    ) -> Result<Vec<EmployeeId>, StoreError> {
        let rows: Vec<(String,)> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT s.employee_id FROM employee_state s \
                 JOIN employees e ON e.tenant = s.tenant AND e.id = s.employee_id \
                 WHERE s.tenant = $1 AND s.wake_at IS NOT NULL AND s.wake_at <= $2 AND e.status <> 'offboarded' \
                 ORDER BY s.wake_at LIMIT $3",
            )
            .bind(tenant.as_str())
            .bind(to_micros(now))
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        rows.iter().map(|(id,)| parse_id(id)).collect()
    }

    // ---- cron subscriptions ----

    /// Replaces an employee's cron subscriptions with `subs` (name, 6-field cron).
    pub async fn replace_subscriptions(
        &self,
        tenant: &TenantId,
        id: EmployeeId,
        subs: &[(String, String)],
    ) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM cron_subscriptions WHERE tenant = $1 AND employee_id = $2")
                .bind(tenant.as_str())
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
            for (name, cron) in subs {
                sqlx::query("INSERT INTO cron_subscriptions (tenant, employee_id, name, cron) VALUES ($1, $2, $3, $4)")
                    .bind(tenant.as_str())
                    .bind(id.to_string())
                    .bind(name)
                    .bind(cron)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    /// The distinct cron expressions anyone subscribes to.
    pub async fn subscribed_crons(&self, tenant: &TenantId) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = with_pool!(self, read, |pool| {
            sqlx::query_as("SELECT DISTINCT cron FROM cron_subscriptions WHERE tenant = $1")
                .bind(tenant.as_str())
                .fetch_all(pool)
                .await
        })?;
        Ok(rows.into_iter().map(|(c,)| c).collect())
    }

    /// Who subscribes to `cron`, with the schedule name each gave it.
    pub async fn subscribers(
        &self,
        tenant: &TenantId,
        cron: &str,
    ) -> Result<Vec<(EmployeeId, String)>, StoreError> {
        let rows: Vec<(String, String)> = with_pool!(self, read, |pool| {
            sqlx::query_as("SELECT employee_id, name FROM cron_subscriptions WHERE tenant = $1 AND cron = $2 ORDER BY employee_id, name")
                .bind(tenant.as_str())
                .bind(cron)
                .fetch_all(pool)
                .await
        })?;
        rows.into_iter()
            .map(|(id, name)| Ok((parse_id(&id)?, name)))
            .collect()
    }

    /// Removes every cron subscription of an employee.
    pub async fn remove_subscriptions(
        &self,
        tenant: &TenantId,
        id: EmployeeId,
    ) -> Result<(), StoreError> {
        self.replace_subscriptions(tenant, id, &[]).await
    }
}

/// Parses a stored status name.
pub(crate) fn parse_status(s: &str) -> Result<EmployeeStatus, StoreError> {
    EmployeeStatus::parse(s)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown employee status {s:?}")))
}

fn conflict_or_db(e: sqlx::Error) -> StoreError {
    if let Some(db) = e.as_database_error()
        && db.is_unique_violation()
    {
        let text = format!("{} {}", db.message(), db.constraint().unwrap_or_default());
        let field = if text.contains("email") {
            "email"
        } else if text.contains("handle") {
            "chat_handle"
        } else if text.contains("config_key") {
            "config_key"
        } else {
            "id"
        };
        return StoreError::Conflict { field };
    }
    StoreError::Database(e)
}
