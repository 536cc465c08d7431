//! The [`Store`]: connection pools, migrations and the queries of the foundation —
//! employees, the directory loaded at start, state snapshots, the inbox, episodes and
//! cron subscriptions.

use super::rows::{EpisodeRow, EventRow, parse_id, parse_json};
use super::to_micros;
use crate::config::{SqliteSync, StoreConfig};
use crate::model::{EmployeeId, EmployeeProfile, EmployeeStatus, Episode, Event, TenantId};
use futures::TryStreamExt;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or refused the operation.
    #[error("store unavailable: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("store migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A unique value is taken; the field names which.
    #[error("`{field}` is already taken")]
    Conflict {
        /// The field whose value is taken, e.g. `email`.
        field: &'static str,
    },
    /// The embedding provider failed.
    #[error("cannot embed: {0}")]
    Embedder(String),
    /// Stored data could not be read back.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The store URL is not usable.
    #[error("store URL {url:?} is not usable: {reason}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// Why it cannot be used.
        reason: String,
    },
}

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

#[derive(Clone)]
pub(crate) enum Backend {
    /// SQLite allows one writer at a time: writes go through a single connection, reads
    /// through a pool.
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    Postgres(PgPool),
}

/// The node's database: one handle, cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) backend: Backend,
    /// The embedder memories and queries are embedded with, and the vector index.
    pub(crate) mem: std::sync::Arc<super::vectors::Memory>,
}

/// Runs `$body` with `$p` bound to the read or write pool of whichever backend the store
/// uses. The body is the same SQL for both: queries use `$N` placeholders, which SQLite
/// and PostgreSQL both accept.
macro_rules! with_pool {
    ($store:expr, $which:ident, |$p:ident| $body:expr) => {
        match &$store.backend {
            $crate::memory::store::Backend::Sqlite { $which: $p, .. } => $body,
            $crate::memory::store::Backend::Postgres($p) => $body,
        }
    };
}
pub(crate) use with_pool;

/// A new employee to store: its profile, the config file it came from (demo employees
/// are hired once per file), and its cron subscriptions (name, 6-field expression).
#[derive(Debug, Clone)]
pub struct NewHire {
    /// The profile.
    pub profile: EmployeeProfile,
    /// Config key (file name) for employees hired from config.
    pub config_key: Option<String>,
    /// Cron subscriptions.
    pub schedules: Vec<(String, String)>,
}

/// One employee's entry in the node directory, as loaded at start.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DirectoryRow {
    /// Employee id.
    pub id: String,
    /// Email address.
    pub email: String,
    /// Chat handle.
    pub chat_handle: String,
    /// Employment status name.
    pub status: String,
}

impl Store {
    /// Connects to `url` (`sqlite://PATH` or `postgres://...`) and runs the migrations.
    pub async fn connect(url: &str, cfg: &StoreConfig) -> Result<Store, StoreError> {
        let backend = if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::BadUrl {
                    url: url.into(),
                    reason: e.to_string(),
                })?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(match cfg.sqlite_synchronous {
                    SqliteSync::Full => SqliteSynchronous::Full,
                    SqliteSync::Normal => SqliteSynchronous::Normal,
                })
                .busy_timeout(Duration::from_secs(10))
                .pragma("cache_size", "-16000")
                // Statement journals (ON CONFLICT inside a transaction) stay in memory.
                .pragma("temp_store", "memory")
                // Checkpoint less often: pages written many times are copied once.
                .pragma("wal_autocheckpoint", "8000");
            if let Some(dir) = opts.get_filename().parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::BadUrl {
                    url: url.into(),
                    reason: format!("cannot create directory {}: {e}", dir.display()),
                })?;
            }
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                // The single writer keeps the hot index pages cached (64 MiB).
                .connect_with(opts.clone().pragma("cache_size", "-65536"))
                .await?;
            sqlx::migrate!("migrations/sqlite").run(&write).await?;
            let read = SqlitePoolOptions::new()
                .max_connections(cfg.max_connections.max(1))
                .connect_with(opts.read_only(true))
                .await?;
            Backend::Sqlite { read, write }
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl {
                url: url.into(),
                reason: e.to_string(),
            })?;
            Self::postgres_backend(opts, cfg).await?
        } else {
            return Err(StoreError::BadUrl {
                url: url.into(),
                reason: "use sqlite://PATH or postgres://...".into(),
            });
        };
        Ok(Store {
            backend,
            mem: Default::default(),
        })
    }

    /// This store with `embedder` for memories and queries (the built-in one otherwise).
    /// Set it before anything is written: vectors of different embedders do not mix.
    pub fn with_embedder(mut self, embedder: std::sync::Arc<dyn super::Embedder>) -> Store {
        self.mem = std::sync::Arc::new(super::vectors::Memory::new(embedder));
        self
    }

    /// The embedder memories are embedded with.
    pub fn embedder(&self) -> &std::sync::Arc<dyn super::Embedder> {
        &self.mem.embedder
    }

    /// Connects to PostgreSQL with explicit options (e.g. a test schema as search path).
    pub async fn connect_postgres(
        opts: PgConnectOptions,
        cfg: &StoreConfig,
    ) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Self::postgres_backend(opts, cfg).await?,
            mem: Default::default(),
        })
    }

    async fn postgres_backend(
        opts: PgConnectOptions,
        cfg: &StoreConfig,
    ) -> Result<Backend, StoreError> {
        // Every group committer holds a connection while it commits; reads need some too.
        let wanted = cfg.max_connections.max(cfg.writers as u32 + 2);
        // Memory's graph walks are estimated expensive but run in a millisecond; JIT
        // compiling them would take tens.
        let opts = opts.options([("jit", "off")]);
        let pool = PgPoolOptions::new()
            .max_connections(wanted)
            .connect_with(opts)
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(Backend::Postgres(pool))
    }

    /// Which database this is.
    pub fn kind(&self) -> StoreKind {
        match self.backend {
            Backend::Sqlite { .. } => StoreKind::Sqlite,
            Backend::Postgres(_) => StoreKind::Postgres,
        }
    }

    /// Closes every connection.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Backend::Postgres(p) => p.close().await,
        }
    }

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
                    "INSERT INTO employees (tenant, id, name, email, chat_handle, role, status, profile, config_key, created_at, updated_at) ",
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
                        .push_bind(at);
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

    /// Replaces an employee's stored profile (and its status column).
    pub async fn update_profile(&self, p: &EmployeeProfile) -> Result<(), StoreError> {
        let profile = serde_json::to_string(p).expect("a profile serialises");
        let now = to_micros(chrono::Utc::now());
        with_pool!(self, write, |pool| {
            sqlx::query("UPDATE employees SET profile = $1, status = $2, updated_at = $3 WHERE tenant = $4 AND id = $5")
                .bind(profile)
                .bind(p.status.as_str())
                .bind(now)
                .bind(p.tenant.as_str())
                .bind(p.id.to_string())
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

    // ---- inbox ----

    /// An employee's unprocessed events, oldest first, at most `limit`.
    pub async fn pending_events(
        &self,
        tenant: &TenantId,
        id: EmployeeId,
        limit: i64,
    ) -> Result<Vec<Event>, StoreError> {
        let rows: Vec<EventRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT id, employee_id, kind, source, payload, idempotency_key, received_at FROM inbox \
                 WHERE tenant = $1 AND employee_id = $2 AND processed_at IS NULL ORDER BY seq LIMIT $3",
            )
            .bind(tenant.as_str())
            .bind(id.to_string())
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(|r| r.into_event(tenant)).collect()
    }

    /// Employees with at least one unprocessed event.
    pub async fn employees_with_pending(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<EmployeeId>, StoreError> {
        let rows: Vec<(String,)> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT DISTINCT employee_id FROM inbox WHERE tenant = $1 AND processed_at IS NULL",
            )
            .bind(tenant.as_str())
            .fetch_all(pool)
            .await
        })?;
        rows.iter().map(|(id,)| parse_id(id)).collect()
    }

    /// One event by id, with whether it has been processed.
    pub async fn event(
        &self,
        tenant: &TenantId,
        id: crate::model::EventId,
    ) -> Result<Option<(Event, bool)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            processed_at: Option<i64>,
            #[sqlx(flatten)]
            event: EventRow,
        }
        let row: Option<Row> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT id, employee_id, kind, source, payload, idempotency_key, received_at, processed_at \
                 FROM inbox WHERE tenant = $1 AND id = $2",
            )
            .bind(tenant.as_str())
            .bind(id.to_string())
            .fetch_optional(pool)
            .await
        })?;
        row.map(|r| Ok((r.event.into_event(tenant)?, r.processed_at.is_some())))
            .transpose()
    }

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
