//! Shared test setup: stores on SQLite and PostgreSQL, node options, profiles, the
//! real binary, and polling helpers.

use empla::config::{Config, RoleTemplate, RuntimeConfig, StoreConfig};
use empla::lifecycle::{HireRequest, build_profile};
use empla::model::{EmployeeId, EmployeeProfile, TenantId};
use empla::node::NodeOptions;
use empla::store::Store;
use sqlx::postgres::PgConnectOptions;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped configuration.
pub fn shipped() -> Config {
    Config::load(&repo().join("config/empla.toml"), &[]).expect("shipped config is valid")
}

pub fn roles() -> BTreeMap<String, RoleTemplate> {
    shipped().roles
}

/// A store under test and what keeps it alive.
pub struct TestStore {
    pub store: Store,
    /// How to reach the same database outside the store (to set a test up).
    pub admin: Admin,
    _dir: Option<tempfile::TempDir>,
}

/// The database under a [`TestStore`], reached directly.
pub enum Admin {
    /// The SQLite URL.
    Sqlite(String),
    /// The PostgreSQL URL and the test's schema.
    Postgres(String, String),
}

impl TestStore {
    /// Runs `sql` (one statement) on the test's database, as an administrator would.
    pub async fn exec(&self, sql: &str) {
        self.try_exec(sql).await.unwrap();
    }

    /// As [`TestStore::exec`]: whether the database took it, else what it said.
    pub async fn try_exec(&self, sql: &str) -> Result<(), String> {
        let q = sqlx::AssertSqlSafe(sql.to_string());
        let done = match &self.admin {
            Admin::Sqlite(url) => {
                let pool = sqlx::SqlitePool::connect(url).await.unwrap();
                let r = sqlx::query(q).execute(&pool).await.map(|_| ());
                pool.close().await;
                r
            }
            Admin::Postgres(url, schema) => {
                let opts = PgConnectOptions::from_str(url)
                    .unwrap()
                    .options([("search_path", schema.as_str())]);
                let pool = sqlx::PgPool::connect_with(opts).await.unwrap();
                let r = sqlx::query(q).execute(&pool).await.map(|_| ());
                pool.close().await;
                r
            }
        };
        done.map_err(|e| e.to_string())
    }

    /// Whether it is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.admin, Admin::Postgres(..))
    }
}

pub async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = Store::connect(&url, &StoreConfig::default()).await.unwrap();
    TestStore {
        store,
        admin: Admin::Sqlite(url),
        _dir: Some(dir),
    }
}

/// A fresh schema on the test PostgreSQL server, or None when there is none (see
/// [`super::postgres_server`]: the run's end counts what did not run).
pub async fn postgres() -> Option<TestStore> {
    let url = super::postgres_server::database()?;
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&url)
        .await
        .expect("the test PostgreSQL database is reachable");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let opts = PgConnectOptions::from_str(&url)
        .unwrap()
        .options([("search_path", schema.as_str())]);
    let store = Store::connect_postgres(opts, &StoreConfig::default())
        .await
        .unwrap();
    Some(TestStore {
        store,
        admin: Admin::Postgres(url, schema),
        _dir: None,
    })
}

/// Runs a test body, given the whole [`TestStore`], on SQLite and, when configured, on
/// PostgreSQL.
#[macro_export]
macro_rules! on_every_test_store {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let s = $crate::common::sqlite().await;
                super::$name(&s).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(s) = $crate::common::postgres().await else { return };
                super::$name(&s).await;
            })*
        }
    };
}

/// Runs a test body on SQLite and, when configured, on PostgreSQL.
#[macro_export]
macro_rules! on_every_store {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let s = $crate::common::sqlite().await;
                super::$name(s.store.clone()).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(s) = $crate::common::postgres().await else { return };
                super::$name(s.store.clone()).await;
            })*
        }
    };
}

pub fn fast_runtime() -> RuntimeConfig {
    RuntimeConfig {
        restart_backoff_initial: Duration::from_millis(10),
        restart_backoff_max: Duration::from_millis(100),
        ..RuntimeConfig::default()
    }
}

pub fn options(tenant: &str) -> NodeOptions {
    NodeOptions {
        tenant: TenantId::new(tenant),
        company_domain: "example.com".into(),
        store_url: String::new(),
        store: StoreConfig::default(),
        runtime: fast_runtime(),
        memory: Default::default(),
        calendar: Default::default(),
        mail: Default::default(),
        chat: Default::default(),
        crm: Default::default(),
        documents: Default::default(),
        research: Default::default(),
        a2a: Default::default(),
        llm: Default::default(),
        mcp: Default::default(),
        templates_dir: None,
        demo_crm: None,
        data_dir: std::env::temp_dir(),
        roles: roles(),
        demo_employees: Vec::new(),
        teams: shipped().teams,
        cluster: Default::default(),
        oauth: Default::default(),
    }
}

pub fn profile(tenant: &str, role: &str, name: &str, email: &str) -> EmployeeProfile {
    let roles = roles();
    build_profile(
        &roles[role],
        &HireRequest::new(role, name),
        &TenantId::new(tenant),
        EmployeeId::new(),
        email.into(),
        chrono::Utc::now(),
    )
    .unwrap()
}

/// Northwind Analytics (software, 420 people, hiring sales reps) and its contact Ana
/// Torres: a prospect that fits the Sales AE's ideal customer profile.
pub async fn northwind(node: &empla::node::Node) {
    let crm = node.crm();
    let northwind = crm
        .create_account(empla::capabilities::crm::NewAccount {
            name: "Northwind Analytics".into(),
            industry: Some("software".into()),
            employees: Some(420),
            signals: vec!["Hiring 12 sales reps".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    crm.create_contact(empla::capabilities::crm::NewContact {
        name: "Ana Torres".into(),
        email: "ana.torres@northwind.example".into(),
        account: Some(northwind.id),
        ..Default::default()
    })
    .await
    .unwrap();
}

/// Polls `f` until it returns Some, for at most `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An HTTP client (with the process's TLS provider installed, as `main` does).
/// Built once: a client loads the system's root certificates when it is made.
pub fn http() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            empla::telemetry::install_crypto_provider();
            reqwest::Client::new()
        })
        .clone()
}

/// A running `empla node` process.
pub struct NodeProcess {
    pub child: std::process::Child,
    pub base: String,
    pub token: String,
}

pub const TOKEN: &str = "test-token-0123456789abcdef";

/// Starts the real binary on `data_dir` and a free port, with the shipped config and
/// the API token given in `EMPLA_API_TOKEN`.
pub fn start_binary(data_dir: &Path) -> NodeProcess {
    start_binary_with_token(data_dir, Some(TOKEN))
}

/// As [`start_binary`]; with no token the node generates one into its data dir.
pub fn start_binary_with_token(data_dir: &Path, token: Option<&str>) -> NodeProcess {
    start_binary_with(data_dir, token, &[])
}

/// As [`start_binary_with_token`], with environment overrides (`EMPLA_*`).
pub fn start_binary_with(
    data_dir: &Path,
    token: Option<&str>,
    env: &[(&str, String)],
) -> NodeProcess {
    start_binary_from(&repo().join("config/empla.toml"), data_dir, token, env)
}

/// As [`start_binary_with`], with the node file `config` (a copy of the shipped
/// config with a test's own plans, say).
pub fn start_binary_from(
    config: &Path,
    data_dir: &Path,
    token: Option<&str>,
    env: &[(&str, String)],
) -> NodeProcess {
    spawn_node(config, data_dir, token, env, None)
}

/// What a node wrote to its log (stderr), line by line, as it runs.
pub type NodeLog = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// As [`start_binary_from`], with the node's log (at `rust_log`) kept in the answer
/// instead of passed through, for a test to read what the node said.
pub fn start_binary_logged(
    config: &Path,
    data_dir: &Path,
    token: Option<&str>,
    env: &[(&str, String)],
    rust_log: &str,
) -> (NodeProcess, NodeLog) {
    let log = NodeLog::default();
    let node = spawn_node(config, data_dir, token, env, Some((rust_log, log.clone())));
    (node, log)
}

fn spawn_node(
    config: &Path,
    data_dir: &Path,
    token: Option<&str>,
    env: &[(&str, String)],
    logged: Option<(&str, NodeLog)>,
) -> NodeProcess {
    use std::io::BufRead;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_empla"));
    cmd.args(["node", "--config"])
        .arg(config)
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("EMPLA_API_TOKEN");
    if let Some(t) = token {
        cmd.env("EMPLA_API_TOKEN", t);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let (rust_log, stderr) = match &logged {
        Some((level, _)) => (*level, std::process::Stdio::piped()),
        None => ("warn", std::process::Stdio::inherit()),
    };
    let mut child = cmd
        .env("RUST_LOG", rust_log)
        .stdout(std::process::Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("the empla binary starts");
    if let Some((_, log)) = logged {
        let stderr = child.stderr.take().expect("stderr is piped");
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                log.lock().expect("log lock").push(line);
            }
        });
    }
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let base = loop {
        let line = lines.next().expect("node printed its address").unwrap();
        if let Some(addr) = line.strip_prefix("empla node listening on ") {
            break addr.trim().to_string();
        }
    };
    // Keep draining stdout so the node never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let token = match token {
        Some(t) => t.to_string(),
        None => std::fs::read_to_string(data_dir.join("api-token"))
            .expect("the node wrote its generated token")
            .trim()
            .to_string(),
    };
    NodeProcess { child, base, token }
}

impl NodeProcess {
    pub fn client(&self) -> reqwest::Client {
        http()
    }

    /// GETs `path` with the node's token and returns the JSON answer.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        http()
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// POSTs `body` to `path` with the node's token: the status and the JSON answer
    /// (null when there is none).
    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let r = http()
            .post(self.url(path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or_default())
    }

    /// GETs `path` with the node's token: the JSON answer if it is a 200, else none.
    pub async fn get_ok(&self, path: &str) -> Option<serde_json::Value> {
        let r = http()
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        (r.status() == 200).then_some(())?;
        r.json().await.ok()
    }

    /// `employee`'s outbox actions of `kind` with `status`, once there are `n` of them
    /// (waiting up to `secs`).
    pub async fn actions_when(
        &self,
        employee: &str,
        kind: &str,
        status: &str,
        n: usize,
        secs: u64,
    ) -> Vec<serde_json::Value> {
        eventually(secs, &format!("{n} {kind} actions {status}"), || async {
            let actions = self
                .get_json(&format!("/api/v1/employees/{employee}/actions?limit=100"))
                .await;
            let found: Vec<_> = actions["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["kind"] == kind && a["status"] == status)
                .cloned()
                .collect();
            (found.len() >= n).then_some(found)
        })
        .await
    }

    /// Runs the `empla` CLI against this node.
    pub fn run_cli(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_empla"))
            .args(args)
            .args(["--node", &self.base])
            .env("EMPLA_API_TOKEN", &self.token)
            .output()
            .unwrap()
    }

    /// A stored document's PDF, as the API serves it, read as text with `pdftotext`.
    pub async fn document_text(&self, document: &str) -> String {
        let pdf = http()
            .get(self.url(&format!("/api/v1/documents/{document}/content")))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        crate::documents::pdf_text(&pdf)
    }

    /// Sets `who`'s onboarding phase through the API.
    pub async fn set_phase(&self, who: &str, phase: &str) {
        let r = http()
            .put(self.url(&format!("/api/v1/employees/{who}/phase")))
            .bearer_auth(&self.token)
            .json(&serde_json::json!({"phase": phase}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202, "setting {who}'s phase to {phase}");
    }

    /// Runs the `empla` CLI against this node, expecting success; returns its output.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = self.run_cli(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops with SIGTERM (graceful), waits, and checks the node exited cleanly.
    pub fn terminate(mut self) {
        let _ = std::process::Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "a SIGTERM'd node shuts down cleanly, got {status}"
        );
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
