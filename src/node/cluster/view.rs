//! The cluster as the API shows it (`GET /api/v1/cluster`: its nodes and leases), and
//! where a call about an employee must go: to this node or to the one that owns it.

use crate::cluster::Cluster;
use crate::model::EmployeeId;
use std::sync::Arc;

/// The cluster as `GET /api/v1/cluster` shows it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ClusterView {
    /// Whether this node is in a cluster (a node alone shows no members).
    pub enabled: bool,
    /// This node's id in the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Every node that ever joined, alive or not.
    pub nodes: Vec<ClusterMember>,
    /// How the leases stand.
    pub leases: LeaseSummary,
}

/// One node of the cluster.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ClusterMember {
    /// Its id.
    pub id: String,
    /// The URL the other nodes reach it at.
    pub address: String,
    /// Whether it heartbeats (within the lease time) and has not stopped.
    pub alive: bool,
    /// How many employees it owns (unexpired leases).
    pub employees: i64,
    /// Its version.
    pub version: String,
    /// When it started.
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Its last heartbeat.
    pub heartbeat_at: chrono::DateTime<chrono::Utc>,
    /// When it stopped gracefully, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Whether this is the node answering.
    pub this_node: bool,
    /// Whether it does the cluster's once-only work (known for the node answering).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs_chores: Option<bool>,
}

/// How the leases stand.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct LeaseSummary {
    /// One per hired employee.
    pub total: i64,
    /// Held by a live node.
    pub held: i64,
    /// Released or run out, waiting for a node to claim them.
    pub orphaned: i64,
}

impl crate::node::Node {
    /// This node's part of a cluster, if it is in one.
    pub fn cluster(&self) -> Option<&Arc<Cluster>> {
        self.rt.cluster.as_ref()
    }

    /// The cluster's members and leases.
    pub async fn cluster_status(&self) -> Result<ClusterView, crate::store::StoreError> {
        let Some(c) = &self.rt.cluster else {
            return Ok(ClusterView {
                enabled: false,
                node: None,
                nodes: Vec::new(),
                leases: LeaseSummary::default(),
            });
        };
        let members = self.rt.store.members(c.lease_ttl()).await?;
        let counts = self.rt.store.lease_counts().await?;
        let at = crate::store::from_micros;
        Ok(ClusterView {
            enabled: true,
            node: Some(c.node_id.to_string()),
            nodes: members
                .into_iter()
                .map(|m| {
                    let this_node = *m.id == *c.node_id;
                    ClusterMember {
                        this_node,
                        runs_chores: this_node.then(|| c.runs_chores()),
                        id: m.id,
                        address: m.address,
                        alive: m.alive,
                        employees: m.employees,
                        version: m.version,
                        started_at: at(m.started_at),
                        heartbeat_at: at(m.heartbeat_at),
                        stopped_at: m.stopped_at.map(at),
                    }
                })
                .collect(),
            leases: LeaseSummary {
                total: counts.total,
                held: counts.held,
                orphaned: counts.orphaned,
            },
        })
    }

    /// Where a call about `employee` must go: none when this node owns it (or is not in
    /// a cluster), else the owner's id and address; an error when nobody holds it now
    /// (it is moving between nodes).
    pub async fn owner_elsewhere(
        &self,
        employee: EmployeeId,
    ) -> Result<Option<(String, String)>, OwnerError> {
        let Some(c) = &self.rt.cluster else {
            return Ok(None);
        };
        if c.owns(employee) {
            return Ok(None);
        }
        match self.rt.store.owner_of(&self.rt.tenant, employee).await {
            Ok(Some((id, _))) if *id == *c.node_id => Ok(None),
            Ok(Some(owner)) => Ok(Some(owner)),
            Ok(None) => Err(OwnerError::Moving),
            Err(e) => Err(OwnerError::Store(e)),
        }
    }
}

/// Why a call cannot be routed to an employee's owner.
#[derive(Debug, thiserror::Error)]
pub enum OwnerError {
    /// No node holds the employee now.
    #[error("the employee is moving between nodes of the cluster; try again in a few seconds")]
    Moving,
    /// The store could not say.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}
