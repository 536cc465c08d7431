//! Locks held through the store, so that what two nodes of one cluster do for the same
//! tenant takes turns: today, calendar bookings ([`Store::booking_lock`]). A booking
//! holds the lock from reading calendars to writing its events, so two bookings — on
//! one node or on two — never take the same free time.
//!
//! On PostgreSQL the lock is a session advisory lock on a connection of its own, held
//! by the [`BookingGuard`]: a node that dies drops its connection, and the server frees
//! the lock with it. On SQLite (one node only) it is an in-process mutex per database
//! file and tenant. Nothing here knows what a booking is beyond its name.

use super::{Backend, Store, StoreError};
use crate::model::TenantId;
use sqlx::Postgres;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgAdvisoryLock, PgAdvisoryLockKey};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

/// How long a booking waits for another one of its tenant to finish before it gives up,
/// booking nothing: longer than any booking takes, short enough that a stuck holder
/// does not hold every booking of the tenant up for good.
pub(crate) const BOOKING_LOCK_WAIT: Duration = Duration::from_secs(60);

/// The name the booking lock's key is derived from, with the schema and the tenant.
const BOOKING: &str = "empla calendar booking";

/// The SQLite booking locks of this process: one per database file and tenant.
type SqliteLocks = Mutex<HashMap<(PathBuf, TenantId), Arc<tokio::sync::Mutex<()>>>>;
static SQLITE_LOCKS: LazyLock<SqliteLocks> = LazyLock::new(Default::default);

/// The booking lock of one tenant, held until dropped.
///
/// On PostgreSQL it holds one pooled connection for as long as it lives, and so does
/// every booking waiting for it: callers queue their own bookings first (one waiting
/// per node), so that waiting bookings cannot take the connections the holder needs
/// to write its events.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct BookingGuard {
    held: Held,
}

enum Held {
    /// The session holding the advisory lock, `None` once released.
    Postgres {
        lock: PgAdvisoryLock,
        conn: Option<PoolConnection<Postgres>>,
    },
    Sqlite {
        _turn: tokio::sync::OwnedMutexGuard<()>,
    },
}

impl Store {
    /// Takes the calendar booking lock of `tenant`, waiting (at most a minute) while
    /// another booking of the tenant, on any node of the cluster, holds it. Errors when
    /// the store cannot be reached or the wait is over; the booking then fails, having
    /// booked nothing.
    pub async fn booking_lock(&self, tenant: &TenantId) -> Result<BookingGuard, StoreError> {
        let held = match &self.backend {
            Backend::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                // Advisory locks span the database: the schema keeps two deployments
                // sharing one database apart.
                let key: i64 = sqlx::query_scalar(
                    "SELECT hashtextextended($1 || ':' || coalesce(current_schema(), '') || ':' || $2, 0)",
                )
                .bind(BOOKING)
                .bind(tenant.as_str())
                .fetch_one(&mut *conn)
                .await?;
                let lock = PgAdvisoryLock::with_key(PgAdvisoryLockKey::BigInt(key));
                let failed =
                    match tokio::time::timeout(BOOKING_LOCK_WAIT, lock.acquire(&mut conn)).await {
                        Ok(Ok(held)) => {
                            // Released by the guard's drop, not by this one's.
                            held.leak();
                            None
                        }
                        Ok(Err(e)) => Some(StoreError::Database(e)),
                        Err(_) => Some(waited_too_long(tenant)),
                    };
                if let Some(e) = failed {
                    // The session may still be waiting for the lock, or hold it: it
                    // never goes back to the pool. Closed, it ends; the server releases
                    // a lock it still gets as soon as it finds the client gone.
                    drop(conn.detach());
                    return Err(e);
                }
                Held::Postgres {
                    lock,
                    conn: Some(conn),
                }
            }
            Backend::Sqlite { write, .. } => {
                let file = write.connect_options().get_filename().to_path_buf();
                let mutex = SQLITE_LOCKS
                    .lock()
                    .expect("the SQLite booking locks are never left poisoned: no code panics holding them")
                    .entry((file, tenant.clone()))
                    .or_default()
                    .clone();
                let waited = tokio::time::timeout(BOOKING_LOCK_WAIT, mutex.lock_owned()).await;
                Held::Sqlite {
                    _turn: waited.map_err(|_| waited_too_long(tenant))?,
                }
            }
        };
        Ok(BookingGuard { held })
    }
}

fn waited_too_long(tenant: &TenantId) -> StoreError {
    StoreError::Refused(format!(
        "waited {}s for the calendar booking lock of tenant {:?}, which another booking still holds; nothing was booked: try again later (if it keeps happening, look for a node stuck mid-booking)",
        BOOKING_LOCK_WAIT.as_secs(),
        tenant.as_str()
    ))
}

impl BookingGuard {
    /// The PostgreSQL advisory lock key (as in `pg_locks`: `classid` the high 32 bits,
    /// `objid` the low 32 bits), to find who holds or waits for it; `None` on SQLite.
    pub fn advisory_key(&self) -> Option<i64> {
        match &self.held {
            Held::Postgres { lock, .. } => lock.key().as_bigint(),
            Held::Sqlite { .. } => None,
        }
    }
}

impl Drop for BookingGuard {
    /// Unlocks, then gives the connection back to the pool; a connection that could not
    /// be unlocked is closed instead, so no pooled session keeps the lock.
    fn drop(&mut self) {
        let Held::Postgres { lock, conn } = &mut self.held else {
            return;
        };
        let Some(mut conn) = conn.take() else { return };
        let lock = lock.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    match lock.force_release(&mut conn).await {
                        Ok((_, true)) => drop(conn),
                        outcome => {
                            let error = match outcome {
                                Err(e) => e.to_string(),
                                Ok(_) => "the session did not hold it".into(),
                            };
                            tracing::warn!(%error, "could not release the calendar booking lock; closing its connection, which releases it");
                            if let Err(e) = conn.close().await {
                                tracing::warn!(error = %e, "closing the connection of the calendar booking lock failed; the server releases the lock when it notices");
                            }
                        }
                    }
                });
            }
            // No runtime left to unlock on: closing the socket ends the session, and the
            // server releases the lock with it.
            Err(_) => drop(conn.detach()),
        }
    }
}
