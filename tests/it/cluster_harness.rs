//! A cluster for one test: `empla node` processes on loopback sharing a fresh schema of
//! the test PostgreSQL database, each with its own data directory and captured log;
//! signals to stop, pause and kill them; and the shared database read directly, to
//! check the inbox, the episodes and the leases as they are stored.

use super::common::{NodeLog, NodeProcess, TOKEN, eventually, http, start_binary_logged};
use serde_json::{Value, json};
use sqlx::postgres::PgConnectOptions;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The secret the test cluster's nodes share.
pub const SECRET: &str = "cluster-secret-0123456789";

/// One node of the cluster while it runs.
pub struct Member {
    pub process: NodeProcess,
    pub log: NodeLog,
}

/// A test's cluster: its schema, its nodes (None while one is down) and their data
/// directories, kept across restarts.
pub struct TestCluster {
    pub db: sqlx::PgPool,
    schema: String,
    admin_url: String,
    store_url: String,
    config: PathBuf,
    env: Vec<(String, String)>,
    dirs: Vec<tempfile::TempDir>,
    pub nodes: Vec<Option<Member>>,
}

impl TestCluster {
    /// `n` nodes (`n0`, `n1`...) on a fresh schema with the node file `config` and the
    /// extra environment `env`; started one after the other. None without PostgreSQL.
    pub async fn start(n: usize, config: &Path, env: &[(&str, String)]) -> Option<TestCluster> {
        let admin_url = super::postgres_server::database()?;
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect(&admin_url)
            .await
            .expect("the test PostgreSQL database is reachable");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let opts = PgConnectOptions::from_str(&admin_url)
            .unwrap()
            .options([("search_path", schema.as_str())]);
        let db = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect_with(opts)
            .await
            .unwrap();
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        let store_url = format!("{admin_url}{sep}options=-c%20search_path%3D{schema}");
        let mut cluster = TestCluster {
            db,
            schema,
            admin_url,
            store_url,
            config: config.to_path_buf(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            dirs: (0..n).map(|_| tempfile::tempdir().unwrap()).collect(),
            nodes: (0..n).map(|_| None).collect(),
        };
        for i in 0..n {
            cluster.start_node(i);
        }
        Some(cluster)
    }

    /// The shipped config.
    pub fn shipped() -> PathBuf {
        super::common::repo().join("config/empla.toml")
    }

    /// Starts node `i` (again: same id, same data directory).
    pub fn start_node(&mut self, i: usize) {
        assert!(self.nodes[i].is_none(), "node n{i} runs already");
        let mut env: Vec<(&str, String)> = vec![
            ("EMPLA_STORE_URL", self.store_url.clone()),
            ("EMPLA_CLUSTER__ENABLED", "true".into()),
            ("EMPLA_CLUSTER__NODE_ID", format!("n{i}")),
            ("EMPLA_CLUSTER_SECRET", SECRET.into()),
            ("EMPLA_NODE__HIRE_DEMO_EMPLOYEES", "false".into()),
            // Three nodes of every test running at once stay within the server's
            // connections.
            ("EMPLA_STORE__MAX_CONNECTIONS", "6".into()),
            ("EMPLA_STORE__WRITERS", "2".into()),
        ];
        env.extend(self.env.iter().map(|(k, v)| (k.as_str(), v.clone())));
        let (process, log) =
            start_binary_logged(&self.config, self.dirs[i].path(), Some(TOKEN), &env, "warn");
        self.nodes[i] = Some(Member { process, log });
    }

    /// Adds a node (the next id) and starts it; its index.
    pub fn add_node(&mut self) -> usize {
        self.dirs.push(tempfile::tempdir().unwrap());
        self.nodes.push(None);
        let i = self.nodes.len() - 1;
        self.start_node(i);
        i
    }

    /// Node `i`, which must be running.
    pub fn node(&self, i: usize) -> &NodeProcess {
        &self.nodes[i].as_ref().expect("the node runs").process
    }

    /// The running nodes' indexes.
    pub fn running(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|i| self.nodes[*i].is_some())
            .collect()
    }

    /// Sends `signal` to node `i`'s process.
    pub fn signal(&self, i: usize, signal: libc::c_int) {
        let pid = self.node(i).child.id() as libc::pid_t;
        // SAFETY: kill(2) on a child process this test started and has not reaped.
        let r = unsafe { libc::kill(pid, signal) };
        assert_eq!(r, 0, "signal {signal} sent to node n{i}");
    }

    /// SIGKILLs node `i` and reaps it; its data directory stays.
    pub fn kill(&mut self, i: usize) {
        let mut member = self.nodes[i].take().expect("the node runs");
        member.process.child.kill().unwrap();
        member.process.child.wait().unwrap();
    }

    /// What node `i` logged so far.
    pub fn log(&self, i: usize) -> Vec<String> {
        self.nodes[i]
            .as_ref()
            .expect("the node runs")
            .log
            .lock()
            .unwrap()
            .clone()
    }

    /// `GET /api/v1/cluster` on node `i`.
    pub async fn status(&self, i: usize) -> Value {
        self.node(i).get_json("/api/v1/cluster").await
    }

    /// The value of `series` in node `i`'s metrics: with labels (`name{k="v"}`) that
    /// series, without them the sum of every series of the name; 0 when absent.
    pub async fn metric(&self, i: usize, series: &str) -> f64 {
        let text = http()
            .get(self.node(i).url("/metrics"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        metric_in(&text, series)
    }

    /// How many unexpired leases each node holds, from the database.
    pub async fn owners(&self) -> BTreeMap<String, i64> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT owner, count(*) FROM leases WHERE owner IS NOT NULL AND expires_at > now() GROUP BY owner",
        )
        .fetch_all(&self.db)
        .await
        .unwrap();
        rows.into_iter().collect()
    }

    /// The owner of `employee`'s unexpired lease, if any.
    pub async fn owner_of(&self, employee: &str) -> Option<String> {
        sqlx::query_scalar("SELECT owner FROM leases WHERE employee_id = $1 AND expires_at > now()")
            .bind(employee)
            .fetch_optional(&self.db)
            .await
            .unwrap()
            .flatten()
    }

    /// Hires `n` employees of `role`, round-robin through the running nodes; their ids
    /// in hiring order.
    pub async fn hire(&self, role: &str, names: &[String]) -> Vec<String> {
        use futures::StreamExt;
        let running = self.running();
        futures::stream::iter(names.iter().enumerate())
            .map(|(k, name)| {
                let node = self.node(running[k % running.len()]);
                async move {
                    let (status, p) = node
                        .post_json("/api/v1/employees", json!({"role": role, "name": name}))
                        .await;
                    assert_eq!(status, 201, "{name} hired: {p}");
                    p["id"].as_str().unwrap().to_string()
                }
            })
            .buffered(8)
            .collect()
            .await
    }

    /// Posts `body` as an event for `employee` through node `i`: its id when accepted
    /// (202), else what the node answered (or why it could not be reached).
    pub async fn post_event(
        &self,
        i: usize,
        employee: &str,
        body: &Value,
    ) -> Result<String, String> {
        let node = self.node(i);
        let r = http()
            .post(node.url(&format!("/api/v1/employees/{employee}/events")))
            .bearer_auth(TOKEN)
            .json(body)
            .send()
            .await
            .map_err(|e| format!("n{i} not reached: {e}"))?;
        let status = r.status();
        let v: Value = r.json().await.unwrap_or_default();
        match v["event_id"].as_str() {
            Some(id) if status == 202 => Ok(id.to_string()),
            _ => Err(format!("n{i} answered {status}: {v}")),
        }
    }

    /// Waits until every event in `ids` is processed, then checks each was processed
    /// exactly once: marked processed in the inbox, with one `event` episode.
    pub async fn processed_once(&self, ids: &[String], secs: u64) {
        let ids = ids.to_vec();
        eventually(secs, &format!("{} events processed", ids.len()), || async {
            let done: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM inbox WHERE id = ANY($1) AND processed_at IS NOT NULL",
            )
            .bind(&ids)
            .fetch_one(&self.db)
            .await
            .unwrap();
            (done == ids.len() as i64).then_some(())
        })
        .await;
        let episodes: Vec<(String, i64)> = sqlx::query_as(
            "SELECT event_id, count(*) FROM episodes WHERE kind = 'event' AND event_id = ANY($1) GROUP BY event_id",
        )
        .bind(&ids)
        .fetch_all(&self.db)
        .await
        .unwrap();
        assert_eq!(episodes.len(), ids.len(), "one `event` episode per event");
        assert!(
            episodes.iter().all(|(_, n)| *n == 1),
            "no event has two episodes: {:?}",
            episodes.iter().filter(|(_, n)| *n != 1).collect::<Vec<_>>()
        );
    }

    /// Waits until `alive` nodes are alive and every lease is held by one of them, as
    /// node `i` tells.
    pub async fn settled(&self, i: usize, alive: usize, secs: u64) -> Value {
        eventually(secs, "every lease held by a live node", || async {
            let s = self.status(i).await;
            let nodes = s["nodes"].as_array().unwrap();
            let live = nodes.iter().filter(|n| n["alive"] == true).count();
            let held_by_dead = nodes
                .iter()
                .any(|n| n["alive"] == false && n["employees"] != 0);
            (live == alive
                && !held_by_dead
                && s["leases"]["orphaned"] == 0
                && s["leases"]["held"] == s["leases"]["total"])
                .then_some(s)
        })
        .await
    }
}

/// The value of `series` in a Prometheus text exposition (see [`TestCluster::metric`]).
pub fn metric_in(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .filter(|(name, _)| {
            if series.contains('{') {
                *name == series
            } else {
                *name == series
                    || name
                        .strip_prefix(series)
                        .is_some_and(|r| r.starts_with('{'))
            }
        })
        .map(|(_, v)| v.parse::<f64>().unwrap_or(0.0))
        .sum()
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        for member in self.nodes.iter_mut().filter_map(Option::take) {
            drop(member.process); // killed and reaped
        }
        let (url, schema) = (self.admin_url.clone(), self.schema.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(admin) = sqlx::PgPool::connect(&url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP SCHEMA IF EXISTS {schema} CASCADE"
                    )))
                    .execute(&admin)
                    .await;
                    admin.close().await;
                }
            });
        })
        .join();
    }
}
