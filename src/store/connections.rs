//! Employees' OAuth connections: the flows waiting for a person's consent (by the hash
//! of their `state`, each taken once) and the connections made, with their tokens
//! sealed by [`crate::connections`] before they get here. Nothing here sees a token in
//! clear.

use super::{Store, StoreError, from_micros, to_micros, with_pool};
use chrono::{DateTime, Utc};

/// A started flow, waiting for the person's consent.
#[derive(Debug, Clone)]
pub struct StoredFlow {
    /// SHA-256 of the state, hex.
    pub state_hash: String,
    /// The tenant of the employee.
    pub tenant: String,
    /// The employee connecting.
    pub employee_id: String,
    /// The provider's name in `[oauth.providers]`.
    pub provider: String,
    /// The sealed PKCE verifier; empty without PKCE.
    pub verifier: String,
    /// The callback URL sent with the authorization request.
    pub redirect_uri: String,
    /// When it was started.
    pub created_at: DateTime<Utc>,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// What taking a flow by its state found.
#[derive(Debug, Clone)]
pub enum FlowTaken {
    /// The flow, now used.
    Taken(StoredFlow),
    /// It was taken before.
    Used,
    /// No flow has that state.
    Unknown,
}

/// A connection as stored (tokens sealed).
#[derive(Debug, Clone)]
pub struct StoredConnection {
    /// The tenant of the employee.
    pub tenant: String,
    /// The employee.
    pub employee_id: String,
    /// The provider's name in `[oauth.providers]`.
    pub provider: String,
    /// The account's id at the provider (Slack's team id, HubSpot's hub id).
    pub account_id: String,
    /// The account's name (Slack's workspace, HubSpot's portal domain).
    pub account_name: String,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// The sealed access token.
    pub access_token: String,
    /// The sealed refresh token; empty when the provider gave none.
    pub refresh_token: String,
    /// When the access token expires, if it does.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was connected.
    pub connected_at: DateTime<Utc>,
    /// When its tokens were last refreshed.
    pub refreshed_at: Option<DateTime<Utc>>,
    /// `connected`, or `reconnect` when the provider refused a refresh.
    pub status: String,
    /// Why it needs connecting again.
    pub problem: String,
}

type FlowRow = (String, String, String, String, String, String, i64, i64);
const FLOW_COLUMNS: &str =
    "state_hash, tenant, employee_id, provider, verifier, redirect_uri, created_at, expires_at";

fn flow_of(r: FlowRow) -> StoredFlow {
    StoredFlow {
        state_hash: r.0,
        tenant: r.1,
        employee_id: r.2,
        provider: r.3,
        verifier: r.4,
        redirect_uri: r.5,
        created_at: from_micros(r.6),
        expires_at: from_micros(r.7),
    }
}

type ConnectionRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<i64>,
    i64,
    Option<i64>,
    String,
    String,
);
const CONNECTION_COLUMNS: &str = "tenant, employee_id, provider, account_id, account_name, scopes, \
     access_token, refresh_token, expires_at, connected_at, refreshed_at, status, problem";

fn connection_of(r: ConnectionRow) -> StoredConnection {
    StoredConnection {
        tenant: r.0,
        employee_id: r.1,
        provider: r.2,
        account_id: r.3,
        account_name: r.4,
        scopes: r.5.split_whitespace().map(str::to_string).collect(),
        access_token: r.6,
        refresh_token: r.7,
        expires_at: r.8.map(from_micros),
        connected_at: from_micros(r.9),
        refreshed_at: r.10.map(from_micros),
        status: r.11,
        problem: r.12,
    }
}

impl Store {
    /// Stores a started flow; flows that ended a day ago or more are cleared away.
    pub async fn insert_flow(&self, f: &StoredFlow) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM oauth_flows WHERE expires_at < $1")
                .bind(to_micros(f.created_at - chrono::Duration::days(1)))
                .execute(&mut *tx)
                .await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO oauth_flows ({FLOW_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            )))
            .bind(&f.state_hash)
            .bind(&f.tenant)
            .bind(&f.employee_id)
            .bind(&f.provider)
            .bind(&f.verifier)
            .bind(&f.redirect_uri)
            .bind(to_micros(f.created_at))
            .bind(to_micros(f.expires_at))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }

    /// Takes the flow whose state hashes to `state_hash`, once: any tenant's (the state
    /// is the proof of whose it is).
    pub async fn take_flow(
        &self,
        state_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<FlowTaken, StoreError> {
        let taken: Option<FlowRow> = with_pool!(self, write, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE oauth_flows SET used_at = $2 WHERE state_hash = $1 AND used_at IS NULL \
                 RETURNING {FLOW_COLUMNS}"
            )))
            .bind(state_hash)
            .bind(to_micros(now))
            .fetch_optional(pool)
            .await
        })?;
        if let Some(r) = taken {
            return Ok(FlowTaken::Taken(flow_of(r)));
        }
        let known: Option<(String,)> = with_pool!(self, write, |pool| {
            sqlx::query_as("SELECT state_hash FROM oauth_flows WHERE state_hash = $1")
                .bind(state_hash)
                .fetch_optional(pool)
                .await
        })?;
        Ok(if known.is_some() {
            FlowTaken::Used
        } else {
            FlowTaken::Unknown
        })
    }

    /// Stores a connection, replacing the employee's earlier one to the same provider.
    pub async fn upsert_connection(&self, c: &StoredConnection) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO connections ({CONNECTION_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                 ON CONFLICT (tenant, employee_id, provider) DO UPDATE SET \
                 account_id = excluded.account_id, account_name = excluded.account_name, \
                 scopes = excluded.scopes, access_token = excluded.access_token, \
                 refresh_token = excluded.refresh_token, expires_at = excluded.expires_at, \
                 connected_at = excluded.connected_at, refreshed_at = excluded.refreshed_at, \
                 status = excluded.status, problem = excluded.problem"
            )))
            .bind(&c.tenant)
            .bind(&c.employee_id)
            .bind(&c.provider)
            .bind(&c.account_id)
            .bind(&c.account_name)
            .bind(c.scopes.join(" "))
            .bind(&c.access_token)
            .bind(&c.refresh_token)
            .bind(c.expires_at.map(to_micros))
            .bind(to_micros(c.connected_at))
            .bind(c.refreshed_at.map(to_micros))
            .bind(&c.status)
            .bind(&c.problem)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// An employee's connections, by provider.
    pub async fn connections(
        &self,
        tenant: &str,
        employee_id: &str,
    ) -> Result<Vec<StoredConnection>, StoreError> {
        let rows: Vec<ConnectionRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {CONNECTION_COLUMNS} FROM connections \
                 WHERE tenant = $1 AND employee_id = $2 ORDER BY provider"
            )))
            .bind(tenant)
            .bind(employee_id)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows.into_iter().map(connection_of).collect())
    }

    /// One connection, read from the writer (fresh after a refresh).
    pub async fn connection(
        &self,
        tenant: &str,
        employee_id: &str,
        provider: &str,
    ) -> Result<Option<StoredConnection>, StoreError> {
        let row: Option<ConnectionRow> = with_pool!(self, write, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {CONNECTION_COLUMNS} FROM connections \
                 WHERE tenant = $1 AND employee_id = $2 AND provider = $3"
            )))
            .bind(tenant)
            .bind(employee_id)
            .bind(provider)
            .fetch_optional(pool)
            .await
        })?;
        Ok(row.map(connection_of))
    }

    /// The tenant's connected connections with a refresh token whose access token
    /// expires before `before`.
    pub async fn connections_expiring(
        &self,
        tenant: &str,
        before: DateTime<Utc>,
    ) -> Result<Vec<StoredConnection>, StoreError> {
        let rows: Vec<ConnectionRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {CONNECTION_COLUMNS} FROM connections \
                 WHERE tenant = $1 AND status = 'connected' AND refresh_token <> '' \
                 AND expires_at IS NOT NULL AND expires_at < $2 ORDER BY expires_at"
            )))
            .bind(tenant)
            .bind(to_micros(before))
            .fetch_all(pool)
            .await
        })?;
        Ok(rows.into_iter().map(connection_of).collect())
    }

    /// Marks a connection as needing to be connected again, saying why.
    pub async fn mark_reconnect(
        &self,
        tenant: &str,
        employee_id: &str,
        provider: &str,
        problem: &str,
    ) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            sqlx::query(
                "UPDATE connections SET status = 'reconnect', problem = $4 \
                 WHERE tenant = $1 AND employee_id = $2 AND provider = $3",
            )
            .bind(tenant)
            .bind(employee_id)
            .bind(provider)
            .bind(problem)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Forgets a connection; whether there was one.
    pub async fn delete_connection(
        &self,
        tenant: &str,
        employee_id: &str,
        provider: &str,
    ) -> Result<bool, StoreError> {
        let n = with_pool!(self, write, |pool| {
            sqlx::query(
                "DELETE FROM connections WHERE tenant = $1 AND employee_id = $2 AND provider = $3",
            )
            .bind(tenant)
            .bind(employee_id)
            .bind(provider)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n > 0)
    }
}
