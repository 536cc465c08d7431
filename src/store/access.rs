//! Tenants, API tokens (hashed), dashboard sessions (hashed) and the append-only audit
//! trail.

use super::{Store, StoreError, from_micros, to_micros, with_pool};
use crate::model::{AuditEntry, Role, Tenant, TenantStatus, TokenInfo};
use chrono::{DateTime, Utc};

/// Inserts `$token` by `$hash` in transaction `$tx`, on either backend.
macro_rules! insert_token {
    ($tx:expr, $token:expr, $hash:expr) => {
        sqlx::query(
            "INSERT INTO api_tokens (id, tenant, name, role, hash, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind($token.id.as_str())
        .bind($token.tenant.as_str())
        .bind($token.name.as_str())
        .bind($token.role.as_str())
        .bind($hash)
        .bind($token.created_by.as_str())
        .bind(to_micros($token.created_at))
        .execute(&mut *$tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                StoreError::Conflict { field: "name" }
            }
            _ => StoreError::Database(e),
        })
    };
}

/// A token found by its secret's hash.
#[derive(Debug, Clone)]
pub struct StoredToken {
    /// What is listed about it.
    pub info: TokenInfo,
    /// Its tenant's status.
    pub tenant_status: TenantStatus,
}

/// A dashboard session found by its cookie's hash.
#[derive(Debug, Clone)]
pub struct StoredSession {
    /// The tenant it acts for.
    pub tenant: String,
    /// The token logged in with (empty: the node admin's).
    pub token_id: String,
    /// The role of that token.
    pub role: Role,
    /// The token's name.
    pub actor: String,
    /// The session's CSRF token, sent back with every form.
    pub csrf: String,
    /// When it ends.
    pub expires_at: DateTime<Utc>,
}

/// One write to record.
#[derive(Debug, Clone)]
pub struct NewAudit {
    /// The tenant it was done in.
    pub tenant: String,
    /// The token's name.
    pub actor: String,
    /// The token's id (empty for the node admin's).
    pub token_id: String,
    /// The token's role.
    pub role: Role,
    /// `api`, `cli`, `ui`, `mcp` or `a2a`.
    pub face: &'static str,
    /// Method and route.
    pub action: String,
    /// The ids named.
    pub target: String,
    /// The answer's status.
    pub status: u16,
}

type TenantRow = (String, String, String, String, i64);
/// A token with its tenant's status.
type TokenStatusRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    String,
);
type AuditRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    i32,
);
type TokenRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);
const TOKEN_COLUMNS: &str =
    "id, tenant, name, role, created_by, created_at, last_used_at, revoked_at";

fn tenant_of(row: TenantRow, node_tenant: &str) -> Result<Tenant, StoreError> {
    let (id, name, domain, status, created) = row;
    let status = match status.as_str() {
        "active" => TenantStatus::Active,
        "suspended" => TenantStatus::Suspended,
        other => return Err(StoreError::Corrupt(format!("tenant status {other:?}"))),
    };
    Ok(Tenant {
        node_tenant: id == node_tenant,
        id,
        name,
        domain,
        status,
        created_at: from_micros(created),
    })
}

fn role_of(s: &str) -> Result<Role, StoreError> {
    Role::parse(s).ok_or_else(|| StoreError::Corrupt(format!("token role {s:?}")))
}

fn token_of(row: TokenRow) -> Result<TokenInfo, StoreError> {
    let (id, tenant, name, role, created_by, created, used, revoked) = row;
    Ok(TokenInfo {
        role: role_of(&role)?,
        id,
        tenant,
        name,
        created_by,
        created_at: from_micros(created),
        last_used_at: used.map(from_micros),
        revoked_at: revoked.map(from_micros),
    })
}

impl Store {
    /// Stores the node's own tenant if it is not yet stored (at every start).
    pub async fn ensure_tenant(&self, id: &str, name: &str) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO tenants (id, name, domain, status, created_at) VALUES ($1, $2, '', 'active', $3) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(id)
            .bind(name)
            .bind(to_micros(Utc::now()))
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Stores a new tenant and its first admin token (by hash) in one transaction;
    /// `Conflict { field: "id" }` when the id is taken.
    pub async fn create_tenant(
        &self,
        tenant: &Tenant,
        token: &TokenInfo,
        hash: &str,
    ) -> Result<(), StoreError> {
        let taken = |e: sqlx::Error| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                StoreError::Conflict { field: "id" }
            }
            _ => StoreError::Database(e),
        };
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO tenants (id, name, domain, status, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&tenant.id)
            .bind(&tenant.name)
            .bind(&tenant.domain)
            .bind(tenant.status.as_str())
            .bind(to_micros(tenant.created_at))
            .execute(&mut *tx)
            .await
            .map_err(taken)?;
            insert_token!(tx, token, hash)?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }

    /// Every tenant, by id.
    pub async fn tenants(&self, node_tenant: &str) -> Result<Vec<Tenant>, StoreError> {
        let rows: Vec<TenantRow> = with_pool!(self, read, |pool| {
            sqlx::query_as("SELECT id, name, domain, status, created_at FROM tenants ORDER BY id")
                .fetch_all(pool)
                .await
        })?;
        rows.into_iter()
            .map(|r| tenant_of(r, node_tenant))
            .collect()
    }

    /// One tenant.
    pub async fn tenant_row(
        &self,
        id: &str,
        node_tenant: &str,
    ) -> Result<Option<Tenant>, StoreError> {
        let row: Option<TenantRow> = with_pool!(self, read, |pool| {
            sqlx::query_as("SELECT id, name, domain, status, created_at FROM tenants WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        row.map(|r| tenant_of(r, node_tenant)).transpose()
    }

    /// Sets a tenant's status; whether it exists.
    pub async fn set_tenant_status(
        &self,
        id: &str,
        status: TenantStatus,
    ) -> Result<bool, StoreError> {
        let done = with_pool!(self, write, |pool| {
            sqlx::query("UPDATE tenants SET status = $2 WHERE id = $1")
                .bind(id)
                .bind(status.as_str())
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(done > 0)
    }

    /// Renames a tenant; whether it exists.
    pub async fn rename_tenant(&self, id: &str, name: &str) -> Result<bool, StoreError> {
        let done = with_pool!(self, write, |pool| {
            sqlx::query("UPDATE tenants SET name = $2 WHERE id = $1")
                .bind(id)
                .bind(name)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(done > 0)
    }

    /// Deletes a tenant and every row stamped with it, in one transaction; the audit
    /// trail stays. Whether it existed.
    pub async fn delete_tenant(&self, id: &str) -> Result<bool, StoreError> {
        with_pool!(self, write, |pool| {
            let tables: Vec<(String,)> = match self.kind() {
                super::StoreKind::Sqlite => {
                    sqlx::query_as(
                        "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                         WHERE m.type = 'table' AND p.name = 'tenant' ORDER BY m.name",
                    )
                    .fetch_all(pool)
                    .await?
                }
                super::StoreKind::Postgres => {
                    sqlx::query_as(
                        "SELECT c.table_name::text FROM information_schema.columns c \
                         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
                         WHERE c.column_name = 'tenant' AND c.table_schema = current_schema() \
                         AND t.table_type = 'BASE TABLE' ORDER BY c.table_name",
                    )
                    .fetch_all(pool)
                    .await?
                }
            };
            let mut tx = pool.begin().await?;
            for (table,) in tables.iter().filter(|(t,)| t != "audit") {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {table} WHERE tenant = $1"
                )))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            let gone = sqlx::query("DELETE FROM tenants WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                > 0;
            tx.commit().await?;
            Ok::<_, StoreError>(gone)
        })
    }

    /// Stores a new token by its secret's hash; `Conflict { field: "name" }` when a
    /// live token of the tenant has the name.
    pub async fn create_token(&self, token: &TokenInfo, hash: &str) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            insert_token!(tx, token, hash)?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }

    /// The live token whose secret hashes to `hash`, with its tenant's status.
    pub async fn token_by_hash(&self, hash: &str) -> Result<Option<StoredToken>, StoreError> {
        let row: Option<TokenStatusRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                    "SELECT k.id, k.tenant, k.name, k.role, k.created_by, k.created_at, k.last_used_at, k.revoked_at, t.status \
                     FROM api_tokens k JOIN tenants t ON t.id = k.tenant \
                     WHERE k.hash = $1 AND k.revoked_at IS NULL",
                )
                .bind(hash)
                .fetch_optional(pool)
                .await
        })?;
        let Some((id, tenant, name, role, by, at, used, revoked, status)) = row else {
            return Ok(None);
        };
        Ok(Some(StoredToken {
            info: token_of((id, tenant, name, role, by, at, used, revoked))?,
            tenant_status: if status == "active" {
                TenantStatus::Active
            } else {
                TenantStatus::Suspended
            },
        }))
    }

    /// A tenant's tokens, live ones first, each by name.
    pub async fn tokens(&self, tenant: &str) -> Result<Vec<TokenInfo>, StoreError> {
        let rows: Vec<TokenRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE tenant = $1 \
                 ORDER BY revoked_at IS NOT NULL, name, created_at"
            )))
            .bind(tenant)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(token_of).collect()
    }

    /// Revokes a tenant's token; the token as it is now, if it exists.
    pub async fn revoke_token(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<TokenInfo>, StoreError> {
        let row: Option<TokenRow> = with_pool!(self, write, |pool| {
            sqlx::query("UPDATE api_tokens SET revoked_at = $3 WHERE tenant = $1 AND id = $2 AND revoked_at IS NULL")
                .bind(tenant)
                .bind(id)
                .bind(to_micros(Utc::now()))
                .execute(pool)
                .await?;
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE tenant = $1 AND id = $2"
            )))
            .bind(tenant)
            .bind(id)
            .fetch_optional(pool)
            .await
        })?;
        row.map(token_of).transpose()
    }

    /// Records a token's use at `at`.
    pub async fn touch_token(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                .bind(id)
                .bind(to_micros(at))
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// Stores a dashboard session by its cookie's hash, and drops expired ones.
    pub async fn open_session(&self, hash: &str, s: &StoredSession) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            sqlx::query("DELETE FROM ui_sessions WHERE expires_at < $1")
                .bind(to_micros(Utc::now()))
                .execute(pool)
                .await?;
            sqlx::query(
                "INSERT INTO ui_sessions (hash, tenant, token_id, role, actor, csrf, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(hash)
            .bind(&s.tenant)
            .bind(&s.token_id)
            .bind(s.role.as_str())
            .bind(&s.actor)
            .bind(&s.csrf)
            .bind(to_micros(s.expires_at))
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// The unexpired session whose cookie hashes to `hash`, while its token is live.
    pub async fn session(&self, hash: &str) -> Result<Option<StoredSession>, StoreError> {
        let row: Option<(String, String, String, String, String, i64)> = with_pool!(
            self,
            read,
            |pool| {
                sqlx::query_as(
                    "SELECT s.tenant, s.token_id, s.role, s.actor, s.csrf, s.expires_at FROM ui_sessions s \
                     JOIN tenants t ON t.id = s.tenant AND t.status = 'active' \
                     WHERE s.hash = $1 AND s.expires_at > $2 AND (s.token_id = '' OR EXISTS \
                     (SELECT 1 FROM api_tokens k WHERE k.id = s.token_id AND k.revoked_at IS NULL))",
                )
                .bind(hash)
                .bind(to_micros(Utc::now()))
                .fetch_optional(pool)
                .await
            }
        )?;
        row.map(|(tenant, token_id, role, actor, csrf, exp)| {
            Ok(StoredSession {
                role: role_of(&role)?,
                tenant,
                token_id,
                actor,
                csrf,
                expires_at: from_micros(exp),
            })
        })
        .transpose()
    }

    /// Ends a session.
    pub async fn close_session(&self, hash: &str) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            sqlx::query("DELETE FROM ui_sessions WHERE hash = $1")
                .bind(hash)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// Appends to the audit trail.
    pub async fn audit(&self, e: &NewAudit) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO audit (tenant, at, actor, token_id, role, face, action, target, status) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&e.tenant)
            .bind(to_micros(Utc::now()))
            .bind(&e.actor)
            .bind(&e.token_id)
            .bind(e.role.as_str())
            .bind(e.face)
            .bind(&e.action)
            .bind(&e.target)
            .bind(i32::from(e.status))
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// A tenant's audit trail from `since`, of one actor (token name or id) or all,
    /// oldest first, at most `limit` entries after `after` (a `seq`).
    pub async fn audit_trail(
        &self,
        tenant: &str,
        since: Option<DateTime<Utc>>,
        actor: Option<&str>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows: Vec<AuditRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                    "SELECT seq, at, actor, token_id, role, face, action, target, status FROM audit \
                     WHERE tenant = $1 AND at >= $2 AND ($3 = '' OR actor = $3 OR token_id = $3) AND seq > $4 \
                     ORDER BY seq LIMIT $5",
                )
                .bind(tenant)
                .bind(since.map(to_micros).unwrap_or(0))
                .bind(actor.unwrap_or(""))
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await
        })?;
        rows.into_iter()
            .map(
                |(seq, at, actor, token_id, role, face, action, target, status)| {
                    Ok(AuditEntry {
                        seq,
                        at: from_micros(at),
                        actor,
                        token_id,
                        role: role_of(&role)?,
                        face,
                        action,
                        target,
                        status: status as u16,
                    })
                },
            )
            .collect()
    }
}
