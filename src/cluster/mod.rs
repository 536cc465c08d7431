//! A node's place in a cluster: nodes sharing one PostgreSQL store, each employee owned
//! by exactly one live node through a lease (owner, epoch, expiry) that the owner renews
//! in bulk. [`Cluster`] is what the runtime asks on its hot paths — does this node own
//! that employee, under which epoch must its commits be fenced, may it still act for
//! it — answered from memory. The loops that keep it true (heartbeats, renewals,
//! claims, wake-ups) run in [`crate::node`]; the rows are in `store/cluster.rs`.
//!
//! It never decides ownership on its own: the store does, with the database's clock.

mod config;

pub use config::ClusterConfig;
pub(crate) use config::node_id_ok;

use crate::model::{EmployeeId, Event};
use crate::store::Lease;
use dashmap::DashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The header calls between nodes carry the cluster's secret in.
pub const SECRET_HEADER: &str = "x-empla-cluster-secret";
/// The header naming the node that forwarded a call.
pub const FORWARDED_HEADER: &str = "x-empla-forwarded-by";

/// A wake-up for an employee another node owns.
pub(crate) enum Wake {
    /// An event stored for it.
    Event(Box<Event>),
    /// Look at its inbox.
    Look(EmployeeId),
}

/// The fencing token of one employee's commits: they succeed only while `node` still
/// holds its lease under `epoch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    /// The node making the commit.
    pub node: Arc<str>,
    /// The lease's epoch when the node took it.
    pub epoch: i64,
}

/// This node's part of the cluster.
pub struct Cluster {
    /// `[cluster]`.
    pub config: ClusterConfig,
    /// This node's id.
    pub node_id: Arc<str>,
    /// The secret nodes share.
    secret: Arc<str>,
    /// The cluster's own id (its notification channels are named after it).
    cluster_id: String,
    /// The employees this node holds a lease of, with the lease's epoch.
    held: DashMap<EmployeeId, i64>,
    /// Until when every lease held is known to be valid: the start of the last renewal
    /// that succeeded plus the lease time, less a margin for the database's clock.
    valid_until: Mutex<Option<Instant>>,
    /// Whether this node does the cluster's once-only work now.
    chores: AtomicBool,
    /// Wake-ups for employees other nodes own, sent on in batches by the node.
    wakes: tokio::sync::mpsc::UnboundedSender<Wake>,
    wakes_rx: Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<Wake>>>,
    /// Calls to the other nodes.
    http: reqwest::Client,
}

impl Cluster {
    /// This node's part of cluster `cluster_id`.
    pub fn new(
        config: ClusterConfig,
        node_id: String,
        secret: String,
        cluster_id: String,
    ) -> Cluster {
        let (wakes, wakes_rx) = tokio::sync::mpsc::unbounded_channel();
        // A library user may not have picked rustls's provider; calls to other nodes
        // need one (a no-op when the binary already did).
        crate::telemetry::install_crypto_provider();
        Cluster {
            config,
            node_id: node_id.into(),
            secret: secret.into(),
            cluster_id,
            held: DashMap::new(),
            valid_until: Mutex::new(None),
            chores: AtomicBool::new(false),
            wakes,
            wakes_rx: Mutex::new(Some(wakes_rx)),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
        }
    }

    /// The client calls to the other nodes go through.
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Asks the owner of `event`'s employee (another node) to handle it (stored
    /// already).
    pub fn wake_owner_with(&self, event: Event) {
        let _ = self.wakes.send(Wake::Event(Box::new(event)));
    }

    /// Asks the owner of `employee` (another node) to look at its inbox.
    pub fn wake_owner(&self, employee: EmployeeId) {
        let _ = self.wakes.send(Wake::Look(employee));
    }

    /// The wake-ups to send on (taken once, by the node's notifier).
    pub(crate) fn take_wakes(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Wake>> {
        self.wakes_rx.lock().expect("wakes lock").take()
    }

    /// Whether `given` is the cluster's secret (compared in constant time).
    pub fn secret_matches(&self, given: &str) -> bool {
        let (a, b) = (given.as_bytes(), self.secret.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// The secret, for calls to other nodes.
    pub(crate) fn secret(&self) -> &str {
        &self.secret
    }

    /// The channel the node `node` hears wake-ups on.
    pub(crate) fn channel_of(&self, node: &str) -> String {
        format!("{}{node}", self.channel_prefix())
    }

    /// What every node's channel starts with.
    pub(crate) fn channel_prefix(&self) -> String {
        format!(
            "empla_{}_",
            &self.cluster_id[..self.cluster_id.len().min(12)]
        )
    }

    /// The channel every node hears (hires, releases, A2A task changes).
    pub(crate) fn broadcast_channel(&self) -> String {
        format!(
            "empla_{}",
            &self.cluster_id[..self.cluster_id.len().min(12)]
        )
    }

    /// Whether this node owns `employee` (routing: deliver here or wake the owner).
    pub fn owns(&self, employee: EmployeeId) -> bool {
        self.held.contains_key(&employee)
    }

    /// Whether this node may act for `employee` now: it owns it and its leases are
    /// known to be valid still. A node paused past its lease answers false until a
    /// renewal confirms what it holds.
    pub fn may_act(&self, employee: EmployeeId) -> bool {
        self.owns(employee)
            && self
                .valid_until
                .lock()
                .expect("lease clock lock")
                .is_some_and(|t| Instant::now() < t)
    }

    /// The fence `employee`'s commits are made under; an employee this node does not own
    /// gets one that never matches, so nothing of it is stored.
    pub fn fence(&self, employee: EmployeeId) -> Fence {
        Fence {
            node: self.node_id.clone(),
            epoch: self.held.get(&employee).map_or(-1, |e| *e),
        }
    }

    /// The employees held now.
    pub fn held(&self) -> Vec<EmployeeId> {
        self.held.iter().map(|e| *e.key()).collect()
    }

    /// How many employees are held.
    pub fn held_count(&self) -> usize {
        self.held.len()
    }

    /// Takes `leases` (claimed or assigned); answers those not held before.
    pub(crate) fn take(&self, leases: &[Lease]) -> Vec<EmployeeId> {
        leases
            .iter()
            .filter(|l| self.held.insert(l.employee, l.epoch) != Some(l.epoch))
            .map(|l| l.employee)
            .collect()
    }

    /// A renewal that started at `started` answered `renewed`: the leases held are valid
    /// for another lease time; answers those held before and lost since (another node
    /// claimed them), and those new (assigned to this node meanwhile).
    pub(crate) fn renewed(
        &self,
        started: Instant,
        renewed: &[Lease],
    ) -> (Vec<EmployeeId>, Vec<EmployeeId>) {
        let now: std::collections::HashMap<EmployeeId, i64> =
            renewed.iter().map(|l| (l.employee, l.epoch)).collect();
        let lost: Vec<EmployeeId> = self
            .held
            .iter()
            .filter(|e| now.get(e.key()) != Some(e.value()))
            .map(|e| *e.key())
            .collect();
        for id in &lost {
            self.held.remove(id);
        }
        let new = self.take(renewed);
        // A tenth of the lease time is left for the database's clock running ahead of
        // this node's and the renewal's own round trip.
        let ttl = self.config.lease_ttl;
        *self.valid_until.lock().expect("lease clock lock") = Some(started + ttl - ttl / 10);
        (lost, new)
    }

    /// `employee` is no longer held (released, fenced, or offboarded).
    pub(crate) fn drop_lease(&self, employee: EmployeeId) -> bool {
        self.held.remove(&employee).is_some()
    }

    /// No lease can be counted on any more (renewals failed past the lease time).
    pub(crate) fn lapse(&self) -> Vec<EmployeeId> {
        let all = self.held();
        self.held.clear();
        all
    }

    /// Whether the leases are overdue for renewal: the last renewal is older than the
    /// lease time allows.
    pub(crate) fn overdue(&self) -> bool {
        self.valid_until
            .lock()
            .expect("lease clock lock")
            .is_some_and(|t| Instant::now() >= t)
    }

    /// Whether this node does the cluster's once-only work now.
    pub fn runs_chores(&self) -> bool {
        self.chores.load(Ordering::Acquire) && !self.overdue()
    }

    /// Sets whether this node does the once-only work; answers whether it changed.
    pub(crate) fn set_chores(&self, on: bool) -> bool {
        self.chores.swap(on, Ordering::AcqRel) != on
    }

    /// The lease time.
    pub fn lease_ttl(&self) -> Duration {
        self.config.lease_ttl
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TenantId;

    fn lease(e: EmployeeId, epoch: i64) -> Lease {
        Lease {
            tenant: TenantId::new("t"),
            employee: e,
            epoch,
        }
    }

    fn cluster() -> Cluster {
        Cluster::new(
            ClusterConfig::default(),
            "n1".into(),
            "s3cret".into(),
            "0123456789abcdef".into(),
        )
    }

    #[test]
    fn a_lease_claimed_elsewhere_is_lost_and_its_fence_never_matches_again() {
        let c = cluster();
        let (a, b) = (EmployeeId::new(), EmployeeId::new());
        assert_eq!(c.take(&[lease(a, 3), lease(b, 1)]).len(), 2);
        assert_eq!(c.fence(a).epoch, 3);
        assert!(!c.may_act(a), "no renewal has confirmed the leases yet");
        // `a` was claimed by another node (its epoch moved on); `b` is still ours.
        let (lost, new) = c.renewed(Instant::now(), &[lease(b, 1)]);
        assert_eq!(lost, vec![a]);
        assert!(new.is_empty());
        assert!(!c.owns(a) && c.owns(b));
        assert!(c.may_act(b));
        assert_eq!(c.fence(a).epoch, -1);
    }

    #[test]
    fn a_renewal_older_than_the_lease_time_stops_all_acting() {
        let c = cluster();
        let a = EmployeeId::new();
        let long_ago = Instant::now() - Duration::from_secs(60);
        c.renewed(long_ago, &[lease(a, 1)]);
        assert!(c.owns(a));
        assert!(
            !c.may_act(a),
            "a node paused past its lease acts for nobody"
        );
        assert!(c.overdue());
    }

    #[test]
    fn the_secret_is_compared_whole() {
        let c = cluster();
        assert!(c.secret_matches("s3cret"));
        assert!(!c.secret_matches("s3cre"));
        assert!(!c.secret_matches(""));
        assert_eq!(c.channel_of("n2"), "empla_0123456789ab_n2");
    }
}
