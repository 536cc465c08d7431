//! The tenants a node serves. The node's own tenant (`node.tenant`) is the node started
//! first; each other active tenant gets a node of its own in the same process, on the
//! same store, every row stamped with its id, so one tenant's calls can never reach
//! another's data. Addresses and chat handles are unique across all of them.

use super::{Node, NodeError, NodeOptions};
use crate::model::{Tenant, TenantId, TenantStatus, TokenInfo};
use crate::store::{Store, StoreError};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// What went wrong managing tenants.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// The input is not usable; the message says what to send.
    #[error("{0}")]
    Invalid(String),
    /// The id is taken.
    #[error("tenant `{0}` exists already; pick another id")]
    Taken(String),
    /// No such tenant.
    #[error("no tenant `{0}`")]
    NotFound(String),
    /// Not possible in this state; the message says why.
    #[error("{0}")]
    Refused(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The tenant's node could not start.
    #[error("the tenant's employees could not be started: {0}")]
    Start(#[from] NodeError),
}

/// The tenants' nodes.
pub struct Tenants {
    primary: Arc<Node>,
    store: Store,
    /// What the other tenants' nodes start with; none: this node serves its own tenant
    /// only (tests, benchmarks).
    base: Option<NodeOptions>,
    /// The other active tenants' nodes.
    others: RwLock<BTreeMap<String, Arc<Node>>>,
    /// Creations, suspensions and deletions, one at a time.
    changing: tokio::sync::Mutex<()>,
}

impl Tenants {
    /// Starts a node for each active tenant besides the node's own (`primary`, started
    /// with `base`); the others start from `base` with their own id and domain and no
    /// demo employees.
    pub async fn start(primary: Arc<Node>, base: NodeOptions) -> Result<Arc<Tenants>, TenantError> {
        let tenants = Self::new(primary, Some(base)).await?;
        let active: Vec<Tenant> = tenants
            .list()
            .await?
            .into_iter()
            .filter(|t| !t.node_tenant && t.status == TenantStatus::Active)
            .collect();
        if let (false, Some(why)) = (active.is_empty(), tenants.unservable()) {
            tracing::warn!(
                tenants = active.len(),
                "{why}: the other tenants' employees are not started"
            );
            return Ok(tenants);
        }
        for t in active {
            let node = tenants.start_node(&t).await?;
            tenants.write().insert(t.id.clone(), node);
        }
        tenants.introduce();
        Ok(tenants)
    }

    /// The tenants of a node serving its own tenant only: no others are started and
    /// none can be created (tests and benchmarks).
    pub async fn alone(primary: Arc<Node>) -> Result<Arc<Tenants>, TenantError> {
        Self::new(primary, None).await
    }

    /// The node's own tenant, stored if it is not yet, and no others started.
    async fn new(
        primary: Arc<Node>,
        base: Option<NodeOptions>,
    ) -> Result<Arc<Tenants>, TenantError> {
        let store = primary.store().clone();
        let own = primary.tenant().to_string();
        store.ensure_tenant(&own, &own).await?;
        Ok(Arc::new(Tenants {
            primary,
            store,
            base,
            others: RwLock::new(BTreeMap::new()),
            changing: tokio::sync::Mutex::new(()),
        }))
    }

    /// Why other tenants cannot be served here, if they cannot.
    fn unservable(&self) -> Option<&'static str> {
        match &self.base {
            None => Some("this node was started to serve its own tenant only"),
            Some(b) if b.cluster.enabled => Some(
                "this node is in a cluster, which serves the node's own tenant only for now; run the tenant on a node of its own",
            ),
            Some(_) => None,
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<Node>>> {
        self.others.write().unwrap_or_else(|p| p.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Node>>> {
        self.others.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The node's own tenant's node.
    pub fn primary(&self) -> &Arc<Node> {
        &self.primary
    }

    /// The node serving `tenant`, if it is active.
    pub fn node(&self, tenant: &TenantId) -> Option<Arc<Node>> {
        if tenant == self.primary.tenant() {
            return Some(self.primary.clone());
        }
        self.read().get(tenant.as_str()).cloned()
    }

    /// Every active tenant's node, the node's own first.
    pub fn nodes(&self) -> Vec<Arc<Node>> {
        let mut all = vec![self.primary.clone()];
        all.extend(self.read().values().cloned());
        all
    }

    /// The node of the tenant whose employee `key` (id, address or handle) names.
    pub fn node_of_employee(&self, key: &str) -> Option<Arc<Node>> {
        self.nodes().into_iter().find(|n| n.resolve(key).is_some())
    }

    /// Every tenant.
    pub async fn list(&self) -> Result<Vec<Tenant>, TenantError> {
        Ok(self.store.tenants(self.primary.tenant().as_str()).await?)
    }

    /// One tenant.
    pub async fn get(&self, id: &str) -> Result<Tenant, TenantError> {
        self.store
            .tenant_row(id, self.primary.tenant().as_str())
            .await?
            .ok_or_else(|| TenantError::NotFound(id.to_string()))
    }

    /// Creates tenant `id` named `name` (its employees' addresses at `domain`, or the
    /// node's company domain), with its first admin token (`token`, stored as `hash`),
    /// and starts serving it.
    pub async fn create(
        &self,
        id: &str,
        name: &str,
        domain: Option<&str>,
        token: &TokenInfo,
        hash: &str,
    ) -> Result<Tenant, TenantError> {
        check_id(id)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(TenantError::Invalid(
                "`name` must be 1 to 200 characters: the company's name".into(),
            ));
        }
        let domain = domain
            .map(str::trim)
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !domain.is_empty() {
            check_domain(&domain)?;
        }
        if let Some(why) = self.unservable() {
            return Err(TenantError::Refused(why.into()));
        }
        let _one = self.changing.lock().await;
        let tenant = Tenant {
            id: id.to_string(),
            name: name.to_string(),
            domain,
            status: TenantStatus::Active,
            created_at: chrono::Utc::now(),
            node_tenant: false,
        };
        self.store
            .create_tenant(&tenant, token, hash)
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => TenantError::Taken(id.to_string()),
                e => TenantError::Store(e),
            })?;
        let node = self.start_node(&tenant).await?;
        self.write().insert(tenant.id.clone(), node);
        self.introduce();
        tracing::info!(tenant = %tenant.id, "tenant created");
        Ok(tenant)
    }

    /// Suspends (`Suspended`: its employees stop, its tokens and sessions are refused,
    /// its data stays) or resumes (`Active`) a tenant other than the node's own.
    pub async fn set_status(&self, id: &str, status: TenantStatus) -> Result<Tenant, TenantError> {
        let tenant = self.get(id).await?;
        if tenant.node_tenant {
            return Err(TenantError::Refused(format!(
                "`{id}` is the node's own tenant (`node.tenant`); it is served as long as the node runs"
            )));
        }
        if status == TenantStatus::Active
            && let Some(why) = self.unservable()
        {
            return Err(TenantError::Refused(why.into()));
        }
        let _one = self.changing.lock().await;
        self.store.set_tenant_status(id, status).await?;
        match status {
            TenantStatus::Suspended => self.stop_node(id).await,
            TenantStatus::Active => {
                if self.read().get(id).is_none() {
                    let node = self.start_node(&tenant).await?;
                    self.write().insert(id.to_string(), node);
                    self.introduce();
                }
            }
        }
        tracing::info!(tenant = %id, status = status.as_str(), "tenant status changed");
        self.get(id).await
    }

    /// Deletes a tenant other than the node's own: stops its employees and removes
    /// every row stamped with it (the audit trail stays).
    pub async fn delete(&self, id: &str) -> Result<(), TenantError> {
        let tenant = self.get(id).await?;
        if tenant.node_tenant {
            return Err(TenantError::Refused(format!(
                "`{id}` is the node's own tenant (`node.tenant`); it cannot be deleted"
            )));
        }
        let _one = self.changing.lock().await;
        self.store
            .set_tenant_status(id, TenantStatus::Suspended)
            .await?;
        self.stop_node(id).await;
        if !self.store.delete_tenant(id).await? {
            return Err(TenantError::NotFound(id.to_string()));
        }
        tracing::info!(tenant = %id, "tenant deleted");
        Ok(())
    }

    /// Stops the other tenants' nodes (the node's own is stopped by its owner).
    pub async fn shutdown(&self) {
        let others: Vec<Arc<Node>> = std::mem::take(&mut *self.write()).into_values().collect();
        futures::future::join_all(others.iter().map(|n| n.shutdown())).await;
    }

    async fn stop_node(&self, id: &str) {
        let node = self.write().remove(id);
        if let Some(node) = node {
            node.shutdown().await;
        }
        self.introduce();
    }

    async fn start_node(&self, t: &Tenant) -> Result<Arc<Node>, TenantError> {
        let Some(mut opts) = self.base.clone() else {
            return Err(TenantError::Refused(
                "this node was started to serve its own tenant only".into(),
            ));
        };
        opts.tenant = TenantId::new(t.id.clone());
        if !t.domain.is_empty() {
            opts.company_domain = t.domain.clone();
        }
        // The demo, and the teams and workflows of the config files, are the node's
        // own tenant's: their members are its people.
        opts.demo_employees.clear();
        opts.demo_crm = None;
        opts.teams.clear();
        Ok(Arc::new(
            Node::start_with_store(self.store.clone(), opts).await?,
        ))
    }

    /// Tells every node of the others, so hires keep addresses unique across tenants.
    fn introduce(&self) {
        let all = self.nodes();
        for n in &all {
            n.set_neighbours(
                all.iter()
                    .filter(|m| !Arc::ptr_eq(m, n))
                    .map(Arc::downgrade)
                    .collect(),
            );
        }
    }
}

/// A tenant id: 1 to 40 lowercase letters, digits and `-`, starting with a letter.
fn check_id(id: &str) -> Result<(), TenantError> {
    let ok = (1..=40).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(TenantError::Invalid(format!(
            "`id` {id:?} is not a tenant id: use 1 to 40 lowercase letters, digits and `-`, starting with a letter (e.g. \"acme\")"
        )))
    }
}

/// A mail domain: dot-separated labels of letters, digits and `-`.
fn check_domain(domain: &str) -> Result<(), TenantError> {
    let labels: Vec<&str> = domain.split('.').collect();
    let ok = labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(())
    } else {
        Err(TenantError::Invalid(format!(
            "`domain` {domain:?} is not a mail domain: send one like \"acme.example\" (no `@`, no spaces)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_and_domains_are_checked() {
        for ok in ["acme", "a", "acme-eu-2"] {
            assert!(check_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Acme", "1acme", "acme corp", "acme_eu", &"a".repeat(41)] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
        for ok in ["acme.example", "mail.acme-corp.io"] {
            assert!(check_domain(ok).is_ok(), "{ok}");
        }
        for bad in [
            "acme",
            "a@b.c",
            "acme..example",
            "-acme.example",
            "acme .example",
        ] {
            assert!(check_domain(bad).is_err(), "{bad}");
        }
    }
}
