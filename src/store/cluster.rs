//! The cluster's rows (PostgreSQL only): the database's mode, the members and their
//! heartbeats, employees' leases with their fencing epochs, the singleton leases of
//! work done once cluster-wide, and wake-ups sent to owners with `pg_notify`.
//!
//! Every time here is the database's (`now()`), never a node's: nodes whose clocks
//! disagree still agree on who is alive and whose lease has run out.

use super::rows::parse_id;
use super::{Backend, Store, StoreError};
use crate::model::{EmployeeId, TenantId};
use std::time::Duration;

/// The lease of one employee, as its owner holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Tenant.
    pub tenant: TenantId,
    /// The employee.
    pub employee: EmployeeId,
    /// The fencing token: grows at each change of owner.
    pub epoch: i64,
}

/// One member of the cluster as the store sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    /// Its id.
    pub id: String,
    /// Its advertised internal URL.
    pub address: String,
    /// Its version.
    pub version: String,
    /// Heartbeat within the lease time and not stopped.
    pub alive: bool,
    /// Leases it holds.
    pub employees: i64,
    /// When it started (microseconds since the epoch).
    pub started_at: i64,
    /// Its last heartbeat (microseconds since the epoch).
    pub heartbeat_at: i64,
    /// When it stopped gracefully, if it did (microseconds since the epoch).
    pub stopped_at: Option<i64>,
}

/// How the leases stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeaseCounts {
    /// Leases (one per hired employee).
    pub total: i64,
    /// Held by a live node.
    pub held: i64,
    /// Released, or run out: waiting for a node to claim them.
    pub orphaned: i64,
}

/// Which kind of node used the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    /// One node alone.
    Single,
    /// Nodes of a cluster.
    Cluster,
}

impl StoreMode {
    fn as_str(self) -> &'static str {
        match self {
            StoreMode::Single => "single",
            StoreMode::Cluster => "cluster",
        }
    }
}

fn millis(d: Duration) -> i64 {
    d.as_millis().min(i64::MAX as u128) as i64
}

impl Store {
    fn pg(&self) -> Result<&sqlx::PgPool, StoreError> {
        match &self.backend {
            Backend::Postgres(p) => Ok(p),
            Backend::Sqlite { .. } => Err(StoreError::Refused(
                "a cluster needs the PostgreSQL store; the SQLite file belongs to one node".into(),
            )),
        }
    }

    /// Records that a node of `mode` uses this database, or refuses when nodes of the
    /// other mode did. Answers the cluster's id (made at its first start). On SQLite
    /// there is no mode to keep: one node only ever opens the file.
    pub async fn claim_mode(&self, mode: StoreMode) -> Result<String, StoreError> {
        let Backend::Postgres(pool) = &self.backend else {
            return Ok(String::new());
        };
        let fresh = uuid::Uuid::new_v4().simple().to_string();
        sqlx::query(
            "INSERT INTO store_mode (mode, cluster_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(mode.as_str())
        .bind(&fresh)
        .execute(pool)
        .await?;
        let (found, id): (String, String) =
            sqlx::query_as("SELECT mode, cluster_id FROM store_mode")
                .fetch_one(pool)
                .await?;
        if found != mode.as_str() {
            return Err(StoreError::Refused(match mode {
                StoreMode::Single => "this database is used by a cluster of nodes; start this node with `[cluster] enabled = true` (and the cluster's secret), or give it a database of its own".into(),
                StoreMode::Cluster => "this database is used by a single node without a cluster; give the cluster a database of its own, or stop that node and set `[cluster] enabled = false` on this one".into(),
            }));
        }
        Ok(id)
    }

    /// Registers node `id` (again, after a restart) as started now.
    pub async fn register_member(
        &self,
        id: &str,
        address: &str,
        version: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cluster_nodes (id, address, version) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET address = excluded.address, version = excluded.version, \
             started_at = now(), heartbeat_at = now(), stopped_at = NULL",
        )
        .bind(id)
        .bind(address)
        .bind(version)
        .execute(self.pg()?)
        .await?;
        Ok(())
    }

    /// Node `id` is alive; true unless its row is gone.
    pub async fn heartbeat(&self, id: &str) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE cluster_nodes SET heartbeat_at = now(), stopped_at = NULL WHERE id = $1",
        )
        .bind(id)
        .execute(self.pg()?)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Node `id` stopped gracefully.
    pub async fn member_stopped(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE cluster_nodes SET stopped_at = now() WHERE id = $1")
            .bind(id)
            .execute(self.pg()?)
            .await?;
        Ok(())
    }

    /// The members, each with whether it is alive and how many leases it holds.
    pub async fn members(&self, ttl: Duration) -> Result<Vec<MemberRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT n.id, n.address, n.version, \
             (n.stopped_at IS NULL AND n.heartbeat_at > now() - $1 * interval '1 millisecond') AS alive, \
             (SELECT count(*) FROM leases l WHERE l.owner = n.id AND l.expires_at > now()) AS employees, \
             (extract(epoch FROM n.started_at) * 1000000)::bigint AS started_at, \
             (extract(epoch FROM n.heartbeat_at) * 1000000)::bigint AS heartbeat_at, \
             (extract(epoch FROM n.stopped_at) * 1000000)::bigint AS stopped_at \
             FROM cluster_nodes n ORDER BY n.id",
        )
        .bind(millis(ttl))
        .fetch_all(self.pg()?)
        .await?)
    }

    /// How the leases stand.
    pub async fn lease_counts(&self) -> Result<LeaseCounts, StoreError> {
        let (total, held): (i64, i64) = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE owner IS NOT NULL AND expires_at > now()) FROM leases",
        )
        .fetch_one(self.pg()?)
        .await?;
        Ok(LeaseCounts {
            total,
            held,
            orphaned: total - held,
        })
    }

    /// Renews every lease `node` holds, in one statement (in key order, as commits lock
    /// them, so the two never deadlock); answers them all. A lease another node claimed
    /// is not among them.
    pub async fn renew_leases(&self, node: &str, ttl: Duration) -> Result<Vec<Lease>, StoreError> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "WITH mine AS (SELECT tenant, employee_id FROM leases WHERE owner = $1 \
               ORDER BY tenant, employee_id FOR UPDATE) \
             UPDATE leases l SET expires_at = now() + $2 * interval '1 millisecond' FROM mine \
             WHERE l.tenant = mine.tenant AND l.employee_id = mine.employee_id \
             RETURNING l.tenant, l.employee_id, l.epoch",
        )
        .bind(node)
        .bind(millis(ttl))
        .fetch_all(self.pg()?)
        .await?;
        leases(rows)
    }

    /// Claims up to `limit` leases that were released or ran out, for `node`: each
    /// epoch grows, fencing off whoever held it before.
    pub async fn claim_orphans(
        &self,
        node: &str,
        ttl: Duration,
        limit: i64,
    ) -> Result<Vec<Lease>, StoreError> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "WITH orphan AS (SELECT tenant, employee_id FROM leases \
               WHERE owner IS NULL OR expires_at < now() \
               ORDER BY tenant, employee_id LIMIT $3 FOR UPDATE SKIP LOCKED) \
             UPDATE leases l SET owner = $1, epoch = l.epoch + 1, \
               expires_at = now() + $2 * interval '1 millisecond' FROM orphan \
             WHERE l.tenant = orphan.tenant AND l.employee_id = orphan.employee_id \
             RETURNING l.tenant, l.employee_id, l.epoch",
        )
        .bind(node)
        .bind(millis(ttl))
        .bind(limit)
        .fetch_all(self.pg()?)
        .await?;
        leases(rows)
    }

    /// What share of the leases each live node should hold, and how many `node` holds:
    /// (share, mine, orphaned).
    pub async fn lease_share(
        &self,
        node: &str,
        ttl: Duration,
    ) -> Result<(i64, i64, i64), StoreError> {
        let (total, alive, mine, orphaned): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM leases), \
             (SELECT count(*) FROM cluster_nodes WHERE stopped_at IS NULL \
               AND heartbeat_at > now() - $2 * interval '1 millisecond'), \
             (SELECT count(*) FROM leases WHERE owner = $1), \
             (SELECT count(*) FROM leases WHERE owner IS NULL OR expires_at < now())",
        )
        .bind(node)
        .bind(millis(ttl))
        .fetch_one(self.pg()?)
        .await?;
        let share = (total + alive.max(1) - 1) / alive.max(1);
        Ok((share, mine, orphaned))
    }

    /// How soon the first lease held by another node runs out (none when no other node
    /// holds one): a node that died is claimed from as soon as its leases run out.
    pub async fn next_expiry_elsewhere(&self, node: &str) -> Result<Option<Duration>, StoreError> {
        let ms: Option<f64> = sqlx::query_scalar(
            "SELECT (EXTRACT(EPOCH FROM min(expires_at) - now()) * 1000)::float8 FROM leases \
             WHERE owner IS NOT NULL AND owner <> $1 AND expires_at > now()",
        )
        .bind(node)
        .fetch_one(self.pg()?)
        .await?;
        Ok(ms.map(|ms| Duration::from_secs_f64(ms.max(0.0) / 1000.0)))
    }

    /// Gives up `node`'s leases of `employees` (all of them with None): they are free
    /// for any node to claim at once.
    pub async fn release_leases(
        &self,
        node: &str,
        employees: Option<&[EmployeeId]>,
    ) -> Result<u64, StoreError> {
        // Locked in key order, as commits and renewals lock them.
        let q = match employees {
            None => sqlx::query(
                "WITH mine AS (SELECT tenant, employee_id FROM leases WHERE owner = $1 \
                   ORDER BY tenant, employee_id FOR UPDATE) \
                 UPDATE leases l SET owner = NULL, expires_at = now() FROM mine \
                 WHERE l.tenant = mine.tenant AND l.employee_id = mine.employee_id",
            )
            .bind(node),
            Some(ids) => sqlx::query(
                "WITH mine AS (SELECT tenant, employee_id FROM leases \
                   WHERE owner = $1 AND employee_id = ANY($2) \
                   ORDER BY tenant, employee_id FOR UPDATE) \
                 UPDATE leases l SET owner = NULL, expires_at = now() FROM mine \
                 WHERE l.tenant = mine.tenant AND l.employee_id = mine.employee_id",
            )
            .bind(node)
            .bind(ids.iter().map(|i| i.to_string()).collect::<Vec<_>>()),
        };
        Ok(q.execute(self.pg()?).await?.rows_affected())
    }

    /// Gives a newly hired employee a lease on the least-loaded live node (ties broken
    /// at random); answers that node, or none when no node is alive (the lease is then
    /// an orphan, claimed at the next round).
    pub async fn assign_lease(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
        ttl: Duration,
    ) -> Result<Option<String>, StoreError> {
        let pool = self.pg()?;
        let owner: Option<(String,)> = sqlx::query_as(
            "INSERT INTO leases (tenant, employee_id, owner, epoch, expires_at) \
             SELECT $1, $2, n.id, 1, now() + $3 * interval '1 millisecond' \
             FROM cluster_nodes n LEFT JOIN leases l ON l.owner = n.id \
             WHERE n.stopped_at IS NULL AND n.heartbeat_at > now() - $3 * interval '1 millisecond' \
             GROUP BY n.id ORDER BY count(l.employee_id), random() LIMIT 1 \
             ON CONFLICT DO NOTHING RETURNING owner",
        )
        .bind(tenant.as_str())
        .bind(employee.to_string())
        .bind(millis(ttl))
        .fetch_optional(pool)
        .await?;
        if owner.is_none() {
            sqlx::query(
                "INSERT INTO leases (tenant, employee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(employee.to_string())
            .execute(pool)
            .await?;
        }
        Ok(owner.map(|(o,)| o))
    }

    /// Gives every hired employee without a lease one (free to claim): employees hired
    /// by a node without a cluster, before this database became a cluster's.
    pub async fn lease_the_unleased(&self) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "INSERT INTO leases (tenant, employee_id) \
             SELECT e.tenant, e.id FROM employees e WHERE e.status <> 'offboarded' \
             AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.tenant = e.tenant AND l.employee_id = e.id) \
             ON CONFLICT DO NOTHING",
        )
        .execute(self.pg()?)
        .await?
        .rows_affected())
    }

    /// Drops an offboarded employee's lease.
    pub async fn drop_lease(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM leases WHERE tenant = $1 AND employee_id = $2")
            .bind(tenant.as_str())
            .bind(employee.to_string())
            .execute(self.pg()?)
            .await?;
        Ok(())
    }

    /// `node`'s lease of `employee`, if it holds one (unexpired).
    pub async fn lease_held(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
        node: &str,
    ) -> Result<Option<Lease>, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT epoch FROM leases WHERE tenant = $1 AND employee_id = $2 AND owner = $3 \
             AND expires_at > now()",
        )
        .bind(tenant.as_str())
        .bind(employee.to_string())
        .bind(node)
        .fetch_optional(self.pg()?)
        .await?;
        Ok(row.map(|(epoch,)| Lease {
            tenant: tenant.clone(),
            employee,
            epoch,
        }))
    }

    /// Who holds `employee`'s lease now (a live, unexpired one), and its address.
    pub async fn owner_of(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
    ) -> Result<Option<(String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT n.id, n.address FROM leases l JOIN cluster_nodes n ON n.id = l.owner \
             WHERE l.tenant = $1 AND l.employee_id = $2 AND l.expires_at > now()",
        )
        .bind(tenant.as_str())
        .bind(employee.to_string())
        .fetch_optional(self.pg()?)
        .await?)
    }

    /// Holds (claims or renews) the singleton lease `name` for `node`; its epoch if
    /// `node` holds it now.
    pub async fn hold_singleton(
        &self,
        name: &str,
        node: &str,
        ttl: Duration,
    ) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO cluster_singletons (name, owner, epoch, expires_at) \
             VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond') \
             ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, \
               epoch = CASE WHEN cluster_singletons.owner IS DISTINCT FROM excluded.owner \
                 THEN cluster_singletons.epoch + 1 ELSE cluster_singletons.epoch END, \
               expires_at = excluded.expires_at \
             WHERE cluster_singletons.owner = excluded.owner OR cluster_singletons.owner IS NULL \
               OR cluster_singletons.expires_at < now() \
             RETURNING epoch",
        )
        .bind(name)
        .bind(node)
        .bind(millis(ttl))
        .fetch_optional(self.pg()?)
        .await?;
        Ok(row.map(|(e,)| e))
    }

    /// Gives up singleton `name` if `node` holds it.
    pub async fn release_singleton(&self, name: &str, node: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE cluster_singletons SET owner = NULL, expires_at = now() WHERE name = $1 AND owner = $2",
        )
        .bind(name)
        .bind(node)
        .execute(self.pg()?)
        .await?;
        Ok(())
    }

    /// Tells the owners of `items` (employee, payload) with one notification each on
    /// their node's channel (`prefix` and the node's id).
    pub async fn notify_owners(
        &self,
        tenant: &TenantId,
        prefix: &str,
        items: &[(EmployeeId, String)],
    ) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = items.iter().map(|(e, _)| e.to_string()).collect();
        let payloads: Vec<&str> = items.iter().map(|(_, p)| p.as_str()).collect();
        sqlx::query(
            "SELECT pg_notify($2 || l.owner, w.payload) \
             FROM unnest($3::text[], $4::text[]) AS w(employee_id, payload) \
             JOIN leases l ON l.tenant = $1 AND l.employee_id = w.employee_id \
             WHERE l.owner IS NOT NULL",
        )
        .bind(tenant.as_str())
        .bind(prefix)
        .bind(ids)
        .bind(payloads)
        .execute(self.pg()?)
        .await?;
        Ok(())
    }

    /// A connection of its own listening on `channels`.
    pub async fn listener(
        &self,
        channels: &[&str],
    ) -> Result<sqlx::postgres::PgListener, StoreError> {
        let mut l = sqlx::postgres::PgListener::connect_with(self.pg()?).await?;
        l.listen_all(channels.iter().copied()).await?;
        Ok(l)
    }

    /// Sends `payload` on `channel`.
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(self.pg()?)
            .await?;
        Ok(())
    }

    /// Employees of `node` with events older than `older` still unprocessed (their wake
    /// was missed).
    pub async fn owned_with_stale_events(
        &self,
        node: &str,
        older: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<EmployeeId>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT i.employee_id FROM leases l JOIN inbox i \
             ON i.tenant = l.tenant AND i.employee_id = l.employee_id \
             WHERE l.owner = $1 AND i.processed_at IS NULL AND i.set_aside_at IS NULL \
             AND i.received_at < $2",
        )
        .bind(node)
        .bind(super::to_micros(older))
        .fetch_all(self.pg()?)
        .await?;
        rows.iter().map(|(id,)| parse_id(id)).collect()
    }

    /// The last tick of `cron` fanned out, if any.
    pub async fn last_tick(
        &self,
        tenant: &TenantId,
        cron: &str,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, StoreError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT last_at FROM cron_ticks WHERE tenant = $1 AND cron = $2")
                .bind(tenant.as_str())
                .bind(cron)
                .fetch_optional(self.pg()?)
                .await?;
        Ok(row.map(|(t,)| super::from_micros(t)))
    }

    /// Records that `cron`'s tick `at` was fanned out.
    pub async fn record_tick(
        &self,
        tenant: &TenantId,
        cron: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cron_ticks (tenant, cron, last_at) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant, cron) DO UPDATE SET last_at = GREATEST(cron_ticks.last_at, excluded.last_at)",
        )
        .bind(tenant.as_str())
        .bind(cron)
        .bind(super::to_micros(at))
        .execute(self.pg()?)
        .await?;
        Ok(())
    }
}

fn leases(rows: Vec<(String, String, i64)>) -> Result<Vec<Lease>, StoreError> {
    rows.into_iter()
        .map(|(t, e, epoch)| {
            Ok(Lease {
                tenant: TenantId::new(t),
                employee: parse_id(&e)?,
                epoch,
            })
        })
        .collect()
}
