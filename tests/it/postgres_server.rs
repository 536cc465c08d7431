//! The PostgreSQL server the store tests run on: the database `EMPLA_TEST_POSTGRES_URL`
//! names when it is set; otherwise the server at the default address (127.0.0.1:5432,
//! user `postgres`) when one answers, in a database of this run's own that is dropped
//! when the run ends. With neither, the store tests run on SQLite only, and the run
//! ends by saying how many did not run on PostgreSQL and how to run them.

use sqlx::postgres::PgPoolOptions;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Where a PostgreSQL server is looked for when no URL is given.
const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432";

/// The database the store tests use, once looked up.
static DATABASE: OnceLock<Result<String, String>> = OnceLock::new();
/// The database this run created (to drop at the end).
static CREATED: OnceLock<String> = OnceLock::new();
/// Store tests that did not run on PostgreSQL.
static SKIPPED: AtomicUsize = AtomicUsize::new(0);

/// The URL of the database for the store tests, or None when there is no server (the
/// test is counted, and the run's end says so).
pub fn database() -> Option<String> {
    let found = DATABASE.get_or_init(|| {
        // SAFETY: `at_exit` is an `extern "C" fn()` that neither unwinds nor returns
        // early; registering it once is all `atexit` asks.
        unsafe { libc::atexit(at_exit) };
        match std::env::var("EMPLA_TEST_POSTGRES_URL") {
            Ok(url) => Ok(url),
            // A thread of its own: this runs inside a test's runtime.
            Err(_) => std::thread::spawn(own_database).join().unwrap(),
        }
    });
    match found {
        Ok(url) => Some(url.clone()),
        Err(_) => {
            SKIPPED.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Creates this run's database on the default server, or says why it cannot.
fn own_database() -> Result<String, String> {
    runtime().block_on(async {
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(3))
            .connect(&format!("{DEFAULT_SERVER}/postgres"))
            .await
            .map_err(|e| e.to_string())?;
        let name = format!(
            "empla_test_{}_{}",
            std::process::id(),
            chrono::Utc::now().timestamp_micros()
        );
        let created = sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await;
        admin.close().await;
        created.map_err(|e| e.to_string())?;
        let _ = CREATED.set(name.clone());
        Ok(format!("{DEFAULT_SERVER}/{name}"))
    })
}

/// At the end of the run: drops the database it created, or says what did not run.
extern "C" fn at_exit() {
    if let Some(name) = CREATED.get() {
        let dropped = runtime().block_on(async {
            let admin = PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(3))
                .connect(&format!("{DEFAULT_SERVER}/postgres"))
                .await?;
            let r = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&admin)
            .await;
            admin.close().await;
            r.map(|_| ())
        });
        if let Err(e) = dropped {
            eprintln!("the test database {name} could not be dropped: {e}");
        }
    }
    let skipped = SKIPPED.load(Ordering::Relaxed);
    if let Some(Err(why)) = DATABASE.get()
        && skipped > 0
    {
        eprintln!(
            "\n{skipped} store tests did NOT run on PostgreSQL (they ran on SQLite only): \
             no PostgreSQL answered at {DEFAULT_SERVER} ({why}). To run them, start \
             PostgreSQL there (user `postgres`, trust auth) or set EMPLA_TEST_POSTGRES_URL \
             to a database the tests may create schemas in, e.g. \
             EMPLA_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo test\n"
        );
    }
}
