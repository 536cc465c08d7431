//! What every actor of a node shares: the tenant, the store and its group-commit writer,
//! the directory, the runtime settings, the node's hands (its capabilities), and the
//! cells of the long-lived actors.

use super::config::RuntimeConfig;
use super::registry::Directory;
use super::registry::Port;
use super::scheduler::SchedulerMsg;
use crate::bdi::Playbook;
use crate::capabilities::{ActionRegistry, Hands, calendar, chat, email};
use crate::model::TenantId;
use crate::store::{Store, StoreWriter};
use ractor::{ActorCell, ActorRef};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// The outbox keys of the actions claimed to run in this node: an action is claimed
/// from before its batch starts until its outcome is stored, so no two runs of it
/// overlap.
#[derive(Default)]
pub(crate) struct Claims(dashmap::DashSet<String>);

impl Claims {
    /// Claims each entry; answers those not claimed already, in order.
    pub(crate) fn claim(
        &self,
        entries: Vec<crate::model::OutboxEntry>,
    ) -> Vec<crate::model::OutboxEntry> {
        entries
            .into_iter()
            .filter(|e| self.0.insert(e.key.clone()))
            .collect()
    }

    /// Releases the claim on `key`.
    pub(crate) fn release(&self, key: &str) {
        self.0.remove(key);
    }
}

/// The capabilities a node is started with (the port to its employees is added by the
/// runtime).
pub(crate) struct Tools {
    /// Domain of employees' addresses.
    pub(crate) domain: String,
    /// Mail.
    pub(crate) mail: email::Mail,
    /// Chat.
    pub(crate) chat: chat::Chat,
    /// Calendars.
    pub(crate) calendar: calendar::Calendars,
    /// The CRM.
    pub(crate) crm: crate::capabilities::crm::Crm,
    /// Documents.
    pub(crate) documents: crate::capabilities::documents::Documents,
    /// Research.
    pub(crate) research: crate::capabilities::research::Research,
    /// Every action kind.
    pub(crate) actions: ActionRegistry,
    pub(crate) teams: crate::capabilities::teams::Teams,
    /// Language models.
    pub(crate) llm: Arc<crate::llm::Llm>,
    /// The MCP servers whose tools are actions.
    pub(crate) mcp: crate::mcp::McpClients,
    /// The A2A tasks agents opened with the node's employees.
    pub(crate) a2a: Arc<crate::a2a::Ledger>,
    /// The outside A2A agents employees call.
    pub(crate) agents: Arc<crate::a2a::client::Agents>,
    /// The node's part in a cluster, if it is in one.
    pub(crate) cluster: Option<Arc<crate::cluster::Cluster>>,
}

/// Shared by all actors of one node.
pub(crate) struct Runtime {
    pub(crate) tenant: TenantId,
    pub(crate) store: Store,
    pub(crate) writer: StoreWriter,
    pub(crate) directory: Directory,
    pub(crate) config: RuntimeConfig,
    /// Token budget of each employee's working memory.
    pub(crate) working_tokens: usize,
    /// The node's capabilities, and the port through which they reach employees.
    pub(crate) hands: Arc<Hands>,
    /// The actions claimed to run in this node now.
    pub(crate) claims: Claims,
    /// Each role's compiled playbook, shared by its employees.
    playbooks: BTreeMap<String, Arc<Playbook>>,
    /// For employees whose role is no longer configured.
    no_playbook: Arc<Playbook>,
    registry: RwLock<Option<ActorCell>>,
    scheduler: RwLock<Option<ActorRef<SchedulerMsg>>>,
    /// This node's part of a cluster, if it is in one.
    pub(crate) cluster: Option<Arc<crate::cluster::Cluster>>,
}

impl Runtime {
    pub(crate) fn new(
        tenant: TenantId,
        store: Store,
        writer: StoreWriter,
        config: RuntimeConfig,
        working_tokens: usize,
        playbooks: BTreeMap<String, Arc<Playbook>>,
        tools: Tools,
    ) -> Arc<Self> {
        let no_playbook = Playbook::compile(&Default::default(), &[], config.max_intentions)
            .expect("an empty playbook compiles");
        Arc::new_cyclic(|me| Self {
            hands: Arc::new(Hands {
                tenant: tenant.clone(),
                store: store.clone(),
                domain: tools.domain,
                employees: Arc::new(Port(me.clone())),
                mail: tools.mail,
                chat: tools.chat,
                calendar: tools.calendar,
                crm: tools.crm,
                documents: tools.documents,
                research: tools.research,
                actions: tools.actions,
                teams: std::sync::Arc::new(tools.teams),
                llm: tools.llm,
                mcp: tools.mcp,
                a2a: tools.a2a,
                agents: tools.agents,
            }),
            tenant,
            store,
            writer,
            directory: Directory::default(),
            config,
            working_tokens,
            claims: Claims::default(),
            playbooks,
            no_playbook: Arc::new(no_playbook),
            registry: RwLock::new(None),
            scheduler: RwLock::new(None),
            cluster: tools.cluster,
        })
    }

    /// Whether this node owns `employee` (always, outside a cluster).
    pub(crate) fn owns(&self, employee: crate::model::EmployeeId) -> bool {
        self.cluster.as_ref().is_none_or(|c| c.owns(employee))
    }

    /// The fence of `employee`'s commits, in a cluster.
    pub(crate) fn fence(
        &self,
        employee: crate::model::EmployeeId,
    ) -> Option<crate::cluster::Fence> {
        self.cluster.as_ref().map(|c| c.fence(employee))
    }

    /// Whether this node does the once-only work (always, outside a cluster).
    pub(crate) fn runs_chores(&self) -> bool {
        self.cluster.as_ref().is_none_or(|c| c.runs_chores())
    }

    /// The playbook of `role` (an empty one if the role is no longer configured).
    pub(crate) fn playbook(&self, role: &str) -> Arc<Playbook> {
        self.playbooks
            .get(role)
            .unwrap_or(&self.no_playbook)
            .clone()
    }

    /// The Registry's cell: parent of every employee tree.
    pub(crate) fn registry_cell(&self) -> Option<ActorCell> {
        self.registry.read().ok().and_then(|r| r.clone())
    }

    pub(crate) fn set_registry_cell(&self, cell: ActorCell) {
        if let Ok(mut r) = self.registry.write() {
            *r = Some(cell);
        }
    }

    /// The Scheduler, while it runs.
    pub(crate) fn scheduler(&self) -> Option<ActorRef<SchedulerMsg>> {
        self.scheduler.read().ok().and_then(|r| r.clone())
    }

    pub(crate) fn set_scheduler(&self, s: ActorRef<SchedulerMsg>) {
        if let Ok(mut r) = self.scheduler.write() {
            *r = Some(s);
        }
    }
}
