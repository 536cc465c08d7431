//! Persistence behind one [`Store`]: sqlx on SQLite (the embedded default) and
//! PostgreSQL (production), with the same migrations and the same queries on both.
//! The rows of the runtime and of the capabilities live here: employees and their
//! state snapshots, the inbox, the outbox, approvals, mail, chat, calendars, tasks,
//! escalations and the built-in CRM. What employees remember (episodes, facts, knowledge, procedures) is
//! [`crate::memory`]'s, on the same Store.
//!
//! Writes on the hot path (accepting events, recording what an employee did with them)
//! go through the [`StoreWriter`], which commits many of them in one transaction (group
//! commit). Every query takes the tenant and filters by it. Nothing here knows about
//! actors.

mod a2a;
mod access;
mod approvals;
mod backlog;
mod batch;
mod calendar;
mod calls;
mod chat;
mod cluster;
mod config;
mod connections;
mod crm;
mod dead_letters;
mod documents;
mod employees;
mod escalations;
pub(crate) mod inbox;
mod llm;
mod locks;
mod mail;
mod meetings;
mod outbox;
mod recruiting;
mod recruiting_forget;
mod reviews;
pub(crate) mod rows;
mod sweep;
mod tasks;
mod triage;
mod work_counts;
mod workflows;
mod writer;

pub use a2a::{A2aDelivery, A2aTaskFilter, A2aTaskRow, Appended};
pub use access::{NewAudit, StoredSession, StoredToken};
pub(crate) use batch::hex;
pub use calls::A2aCall;
pub use chat::ChatMessage;
pub use cluster::{Lease, LeaseCounts, MemberRow, StoreMode};
pub use config::{SqliteSync, StoreConfig};
pub use connections::{FlowTaken, StoredConnection, StoredFlow};
pub use crm::{AccountFilter, ActivityFilter, DealFilter, Page, Point};
pub use dead_letters::DeadLetter;
pub use documents::{Document, DocumentFilter, NewDocument};
pub(crate) use employees::parse_status;
pub use escalations::Decided;
pub(crate) use inbox::insert_event;
pub use locks::BookingGuard;
pub use mail::{Folder, MailCursor};
pub use meetings::NotesTaken;
pub use outbox::OutboxRecord;
pub use recruiting::CandidateFilter;
pub use recruiting_forget::CandidatesGone;
pub use reviews::ReviewKey;
pub use sweep::Swept;
pub use tasks::TaskUpdate;
pub use triage::TriageFilter;
pub use work_counts::WorkCounts;
pub use workflows::StoredRun;
pub use writer::{Accepted, Completion, OnCommit, StoreWriter, WriteError};

/// Microseconds since the Unix epoch, as stored.
pub(crate) fn to_micros(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_micros()
}

/// A stored time back to a `DateTime`.
pub(crate) fn from_micros(us: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(us).unwrap_or_default()
}

use crate::model::EmployeeProfile;
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
    /// The write was not taken: it would not fit, or an earlier write it depends on
    /// failed.
    #[error("write refused: {0}")]
    Refused(String),
    /// Stored data could not be read back.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The employee's lease moved to another node (its epoch is no longer the one the
    /// write was made under): nothing of it was stored, and this node stops it.
    #[error("{} owned by another node now (the lease moved on); nothing they did here was stored", .0.iter().map(|e| format!("employee {e}")).collect::<Vec<_>>().join(", "))]
    Fenced(Vec<crate::model::EmployeeId>),
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
    pub(crate) mem: std::sync::Arc<crate::memory::vectors::Memory>,
}

/// Runs `$body` with `$p` bound to the read or write pool of whichever backend the store
/// uses. The body is the same SQL for both: queries use `$N` placeholders, which SQLite
/// and PostgreSQL both accept.
macro_rules! with_pool {
    ($store:expr, $which:ident, |$p:ident| $body:expr) => {
        match &$store.backend {
            $crate::store::Backend::Sqlite { $which: $p, .. } => $body,
            $crate::store::Backend::Postgres($p) => $body,
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
                // An in-process connection does not go away: no ping before each use.
                .test_before_acquire(false)
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
    pub fn with_embedder(mut self, embedder: std::sync::Arc<dyn crate::memory::Embedder>) -> Store {
        self.mem = std::sync::Arc::new(crate::memory::vectors::Memory::new(embedder));
        self
    }

    /// The embedder memories are embedded with.
    pub fn embedder(&self) -> &std::sync::Arc<dyn crate::memory::Embedder> {
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
}
