//! [`Node`]: the library API that the HTTP API, the CLI and tests drive — hiring,
//! events, status, approvals, mail, chat, tasks, calendars, memory. It starts the actor
//! tree (the NodeSupervisor at its root) and is, besides [`crate::actors`], the one
//! place that holds actor refs.

mod a2a;
mod calendar;
mod chat;
mod chores;
mod cluster;
mod connections;
mod crm;
mod dashboard;
mod documents;
mod errors;
mod escalations;
mod forget;
mod hiring;
mod llm;
mod mail;
mod meetings;
mod memory;
mod onboarding;
mod options;
mod product;
mod recruiting;
mod reviews;
mod slack;
mod standups;
mod supervision;
mod tasks;
mod teams;
mod tenants;
mod triage;
mod workflows;

pub use crate::capabilities::calendar::{Booked, CalendarError, Moved, Slots};
pub use crate::capabilities::chat::{SlackAnswer, SlackError};
pub use crate::lifecycle::approvals::DecideError;
pub use crate::lifecycle::escalations::EscalationError;
pub use a2a::RouteError;
pub use chat::ChatAnswer;
pub use cluster::{ClusterMember, ClusterView, LeaseSummary, OwnerError};
pub use connections::ConnectError;
pub use errors::{HireError, HumanError, NodeError, SubmitError};
pub use meetings::MeetingError;
pub use memory::{MemoryError, Publish};
pub use options::NodeOptions;
pub use reviews::ReviewError;
pub use standups::{STANDUP, StandupError, StandupUpdate};
pub use supervision::DeadLetterError;
pub use teams::{Contribution, TeamGoalProgress, TeamView};
pub use tenants::{TenantError, Tenants};
pub use workflows::RunError;

use crate::actors::employee::FaultTarget;
use crate::actors::employee::{EmployeeMsg, EmployeeRuntime};
use crate::actors::node_supervisor::{NodeMsg, NodeSupervisor};
use crate::actors::registry::{self, ReachError, RegistryMsg, RuntimeState};
use crate::actors::runtime::{Runtime, Tools};
use crate::actors::supervision::StopReason;
use crate::capabilities::{self, ActionRegistry};
use crate::config::{RoleTemplate, normalize_cron};
use crate::model::{EmployeeId, EmployeeProfile, EmployeeStatus, Episode, NewEvent, TenantId};
use crate::store::{Accepted, Store, StoreError, StoreWriter, parse_status};
use chrono::Utc;
use ractor::{Actor, ActorRef};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// A running node.
pub struct Node {
    pub(super) rt: Arc<Runtime>,
    supervisor: ActorRef<NodeMsg>,
    pub(super) roles: BTreeMap<String, RoleTemplate>,
    /// Each role's schedules as (name, 6-field cron), parsed once at start.
    pub(super) schedules: BTreeMap<String, Vec<(String, String)>>,
    pub(super) company_domain: String,
    pub(super) hiring: tokio::sync::Mutex<()>,
    writer_task: tokio::task::JoinHandle<()>,
    /// The once-only work (upkeep, reviews, syncs, push, workflows, stand-ups): run by a
    /// node alone, or by the node of a cluster holding its lease.
    chores: Arc<chores::Chores>,
    /// Inbound sources (the IMAP bridge) and the cluster's loops, stopped first at
    /// shutdown.
    bridges: Vec<tokio::task::JoinHandle<()>>,
    /// Whether the node opened the store (and so closes it at shutdown).
    owns_store: bool,
    /// Failed employees whose backlog `/metrics` shows.
    failed_shown: tokio::sync::Mutex<Vec<EmployeeId>>,
    /// `[a2a]`, with `node.public_url`.
    pub(super) a2a: crate::a2a::A2aConfig,
    /// The workflows runs may be started of.
    workflows: std::sync::RwLock<Arc<BTreeMap<String, crate::config::workflows::Workflow>>>,
    /// The nodes of the other tenants this process serves: addresses and handles are
    /// unique across them all.
    neighbours: std::sync::RwLock<Vec<std::sync::Weak<Node>>>,
    /// Employees' OAuth connections to outside accounts.
    pub(super) connections: Arc<crate::connections::Connections>,
}

impl Node {
    /// Opens the store, loads the directory, starts the actor tree, replays every
    /// unprocessed event and hires the demo employees not hired yet.
    pub async fn start(opts: NodeOptions) -> Result<Node, NodeError> {
        let embedder =
            crate::memory::embed::from_config(&opts.memory).map_err(NodeError::Memory)?;
        let store = Store::connect(&opts.store_url, &opts.store)
            .await?
            .with_embedder(embedder);
        let mut node = Self::start_with_store(store, opts).await?;
        node.owns_store = true;
        Ok(node)
    }

    /// As [`Node::start`], on a store already opened (left open at shutdown).
    pub async fn start_with_store(store: Store, opts: NodeOptions) -> Result<Node, NodeError> {
        let cluster = cluster::join(&store, &opts).await?;
        let (writer, writer_task) = StoreWriter::start(store.clone(), &opts.store);
        // The tools of the MCP servers are actions, listed now, all servers at once (so
        // start-up waits at most one server's timeout); a server that does not answer
        // is tried again at each call of one of its tools.
        let mcp = crate::mcp::McpClients::new(&opts.mcp, &|k| std::env::var(k).ok())
            .map_err(NodeError::Mcp)?;
        let builtin = ActionRegistry::builtin().with_mcp_servers(mcp.names());
        let mut actions = builtin.clone();
        let clients = &mcp;
        let listed = futures::future::join_all(
            clients
                .names()
                .map(|server| async move { (server, clients.tools(server).await) }),
        )
        .await;
        for (server, tools) in listed {
            match tools {
                Ok(tools) => {
                    for k in capabilities::mcp::kinds(server, &tools, mcp.trusts_read_only(server))
                    {
                        actions.add(k);
                    }
                }
                Err(e) => {
                    tracing::error!(server, error = %e, "the MCP server's tools could not be listed; each call of one will try it again")
                }
            }
        }
        let mut playbooks = BTreeMap::new();
        for (id, role) in &opts.roles {
            let mut book = role
                .playbook(opts.runtime.max_intentions)
                .map_err(|errors| NodeError::Playbook {
                    role: id.clone(),
                    errors: errors
                        .iter()
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join("; "),
                })?;
            // A plan naming an action nobody declared would only ever be `unsupported`:
            // the node refuses it, as `empla config check` does.
            let file = if role.file.is_empty() {
                format!("role `{id}`")
            } else {
                role.file.clone()
            };
            let errors: Vec<String> = role
                .check_actions(&file, &builtin)
                .iter()
                .map(|e| e.to_string())
                .collect();
            if !errors.is_empty() {
                return Err(NodeError::Playbook {
                    role: id.clone(),
                    errors: errors.join("; "),
                });
            }
            // Roles may share a kind of their own; the first declaration serves all.
            actions = actions.with_custom(&role.actions).0;
            book.reads = actions
                .kinds()
                .filter(|k| !k.side_effect)
                .map(|k| k.kind.clone())
                .collect();
            playbooks.insert(id.clone(), Arc::new(book));
        }
        let triage = opts
            .roles
            .iter()
            .map(|(id, role)| (id.clone(), role.triage.clone()))
            .collect();
        let tools = Tools {
            domain: opts.company_domain.clone(),
            mail: capabilities::email::Mail::from_config(
                &opts.mail,
                &opts.data_dir,
                &store,
                triage,
            )
            .map_err(NodeError::Mail)?,
            chat: capabilities::chat::Chat::from_config(&opts.chat, &opts.data_dir, &store)
                .map_err(NodeError::Chat)?,
            calendar: capabilities::calendar::Calendars::from_config(
                &opts.calendar,
                &opts.data_dir,
                &store,
            )
            .map_err(NodeError::Calendar)?,
            crm: capabilities::crm::Crm::new(&opts.crm, &opts.tenant, &store, |k| {
                std::env::var(k).ok()
            })
            .map_err(NodeError::Crm)?,
            documents: capabilities::documents::Documents::new(
                &opts.documents,
                opts.templates_dir.as_deref(),
            )
            .map_err(NodeError::Documents)?,
            research: capabilities::research::Research::new(&opts.research)
                .map_err(NodeError::Documents)?,
            actions,
            teams: opts.teams.clone(),
            llm: Arc::new(
                crate::llm::Llm::from_config(
                    &opts.llm,
                    &|k| std::env::var(k).ok(),
                    Some((store.clone(), opts.tenant.clone())),
                )
                .map_err(|e| NodeError::Llm(e.to_string()))?,
            ),
            mcp,
            a2a: Arc::new(crate::a2a::Ledger::new(store.clone(), opts.tenant.clone())),
            agents: Arc::new(
                crate::a2a::client::Agents::new(&opts.a2a, &|k| std::env::var(k).ok())
                    .map_err(NodeError::A2aAgents)?,
            ),
            cluster,
        };
        let rt = Runtime::new(
            opts.tenant.clone(),
            store,
            writer,
            opts.runtime.clone(),
            opts.memory.working_memory_tokens,
            playbooks,
            tools,
        );
        let mut bad = None;
        let loaded = rt
            .store
            .for_each_directory_row(&rt.tenant, |row| {
                match (row.id.parse(), parse_status(&row.status)) {
                    (Ok(id), Ok(status)) => {
                        rt.directory
                            .insert(id, &row.email, &row.chat_handle, status)
                    }
                    _ => bad = Some(row.id),
                }
            })
            .await?;
        if let Some(id) = bad {
            return Err(StoreError::Corrupt(format!(
                "employee row {id:?} has a malformed id or status"
            ))
            .into());
        }
        if rt.cluster.is_some() {
            cluster::first_claim(&rt).await?;
        }
        let (supervisor, _) = Actor::spawn(None, NodeSupervisor, rt.clone())
            .await
            .map_err(|e| NodeError::Spawn(e.to_string()))?;
        let chores = Arc::new(chores::Chores::new(opts.memory.clone(), opts.a2a.clone()));
        // Mail is watched by each employee's owner; Slack hands each event to one node.
        let mut bridges: Vec<_> = capabilities::email::bridge::start(rt.hands.clone())
            .into_iter()
            .collect();
        bridges.extend(capabilities::chat::intake::start(&rt.hands));
        if rt.cluster.is_some() {
            bridges.extend(cluster::start(rt.clone(), chores.clone()));
        }
        let connections = Arc::new(
            crate::connections::Connections::new(&opts.oauth, rt.store.clone(), &|k| {
                std::env::var(k).ok()
            })
            .map_err(NodeError::Connections)?,
        );
        if !opts.oauth.providers.is_empty() {
            let here = rt.cluster.as_ref().map(|c| c.node_id.to_string());
            bridges.push(tokio::spawn(
                connections.clone().run_refresh(rt.tenant.to_string(), here),
            ));
        }
        let node = Node {
            rt,
            supervisor,
            schedules: role_schedules(&opts.roles)?,
            roles: opts.roles,
            company_domain: opts.company_domain,
            hiring: tokio::sync::Mutex::new(()),
            writer_task,
            chores,
            bridges,
            owns_store: false,
            failed_shown: Default::default(),
            a2a: opts.a2a.clone(),
            workflows: Default::default(),
            neighbours: Default::default(),
            connections,
        };
        let mut pending = node
            .rt
            .store
            .employees_with_pending(&node.rt.tenant)
            .await?;
        // Actions committed to the outbox but not run before the last stop run now.
        pending.extend(
            node.rt
                .store
                .employees_with_pending_actions(&node.rt.tenant)
                .await?,
        );
        pending.sort();
        pending.dedup();
        // In a cluster, each node replays the employees it holds.
        pending.retain(|id| node.rt.owns(*id));
        for id in &pending {
            registry::wake(&node.rt, *id);
        }
        tracing::info!(
            employees = loaded,
            replaying = pending.len(),
            "node started"
        );
        // In a cluster, one node hires the demo employees and imports their book.
        let demo_here = match &node.rt.cluster {
            None => true,
            Some(c) => node
                .rt
                .store
                .hold_singleton("demo", &c.node_id, Duration::from_secs(300))
                .await?
                .is_some(),
        };
        if demo_here {
            node.hire_demo_employees(&opts.demo_employees).await?;
        }
        if let Some(dir) = opts.demo_crm.as_ref().filter(|_| demo_here) {
            let n = node.load_demo_crm(dir).await.map_err(NodeError::DemoCrm)?;
            if n > 0 {
                tracing::info!(records = n, dir = %dir.display(), "demo book of business imported");
            }
            let n = node
                .load_demo_requisitions(dir)
                .await
                .map_err(NodeError::DemoRequisitions)?;
            if n > 0 {
                tracing::info!(requisitions = n, dir = %dir.display(), "demo requisitions opened");
            }
        }
        // Workflow runs go on where they stood; stand-ups start once the demo employees
        // are hired, so a missed one includes them. In a cluster, the node holding the
        // once-only work's lease starts them.
        if node.rt.cluster.is_none() {
            node.chores.start(&node.rt);
        }
        Ok(node)
    }

    /// The tenant this node serves.
    pub fn tenant(&self) -> &TenantId {
        &self.rt.tenant
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.rt.store
    }

    /// Role templates by id.
    pub fn roles(&self) -> &BTreeMap<String, RoleTemplate> {
        &self.roles
    }

    /// Finds an employee by id, email address or chat handle.
    pub fn resolve(&self, key: &str) -> Option<EmployeeId> {
        self.rt.directory.resolve(key)
    }

    /// Tells this tenant's node of the other tenants' nodes in the process.
    pub fn set_neighbours(&self, others: Vec<std::sync::Weak<Node>>) {
        *self.neighbours.write().unwrap_or_else(|p| p.into_inner()) = others;
    }

    /// Whether another tenant's employee has `address` or its local part as handle.
    pub(super) fn address_taken_elsewhere(&self, address: &str) -> bool {
        let handle = address.split('@').next().unwrap_or_default();
        self.neighbours
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter_map(std::sync::Weak::upgrade)
            .any(|n| {
                n.rt.directory.email_taken(address) || n.rt.directory.resolve(handle).is_some()
            })
    }

    /// Number of hired employees (including offboarded ones).
    pub fn hired(&self) -> usize {
        self.rt.directory.len()
    }

    /// One employee's profile.
    pub async fn employee(&self, id: EmployeeId) -> Result<Option<EmployeeProfile>, StoreError> {
        self.rt.store.employee(&self.rt.tenant, id).await
    }

    /// Employees in hiring order.
    pub async fn employees(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<EmployeeProfile>, StoreError> {
        self.rt
            .store
            .employees(&self.rt.tenant, limit, offset)
            .await
    }

    /// The runtime state of an employee (idle, active, failed, ...).
    pub fn runtime_state(&self, id: EmployeeId) -> Option<RuntimeState> {
        self.rt.directory.runtime_state(id)
    }

    /// Offboards an employee: stops its actors, marks it offboarded, stops routing its
    /// addresses and cron ticks. Its memory is kept.
    pub async fn offboard(&self, id: EmployeeId) -> Result<EmployeeProfile, ReachError> {
        let mut profile = self
            .rt
            .store
            .employee(&self.rt.tenant, id)
            .await
            .map_err(|e| ReachError::Unavailable(e.to_string()))?
            .ok_or(ReachError::NotFound)?;
        if profile.status == EmployeeStatus::Offboarded {
            return Ok(profile);
        }
        profile.status = EmployeeStatus::Offboarded;
        let store_err = |e: StoreError| ReachError::Unavailable(e.to_string());
        self.rt
            .store
            .update_profile(&profile)
            .await
            .map_err(store_err)?;
        self.rt
            .store
            .remove_subscriptions(&self.rt.tenant, id)
            .await
            .map_err(store_err)?;
        if let Some(actor) = self
            .rt
            .directory
            .offboard(id, &profile.email, &profile.chat_handle)
        {
            let _ = ractor::call_t!(actor, EmployeeMsg::Stop, 5000, StopReason::Offboarded);
        }
        self.revoke_connections(id).await;
        if let Some(c) = &self.rt.cluster {
            c.drop_lease(id);
            self.rt
                .store
                .drop_lease(&self.rt.tenant, id)
                .await
                .map_err(store_err)?;
            cluster::announce(&self.rt, "offboarded", id).await;
        }
        Ok(profile)
    }

    /// Accepts an event for an employee: validated, committed to the durable inbox, then
    /// delivered. Returns once it is stored. The same idempotency key is accepted once.
    pub async fn submit_event(
        &self,
        id: EmployeeId,
        new: NewEvent,
    ) -> Result<Accepted, SubmitError> {
        let errors = new.validate();
        if !errors.is_empty() {
            return Err(SubmitError::Invalid(errors));
        }
        self.accept(id, chat::addressed(new)).await
    }

    /// Stores and delivers an event without validating its kind: the node's own
    /// `empla.*` events come through here.
    pub(super) async fn accept(
        &self,
        id: EmployeeId,
        new: NewEvent,
    ) -> Result<Accepted, SubmitError> {
        Ok(registry::accept(&self.rt, id, new).await?)
    }

    /// An employee's episodes, newest first.
    pub async fn episodes(
        &self,
        id: EmployeeId,
        limit: i64,
        before_seq: Option<i64>,
    ) -> Result<Vec<(i64, Episode)>, StoreError> {
        self.rt
            .store
            .episodes(&self.rt.tenant, id, limit, before_seq)
            .await
    }

    /// An active employee's own account of itself; activates it if idle. In a cluster,
    /// asked of the node that owns it.
    pub async fn employee_runtime(&self, id: EmployeeId) -> Result<EmployeeRuntime, ReachError> {
        match self.employee_runtime_here(id).await {
            Err(ReachError::Elsewhere) => cluster::remote_status(&self.rt, id).await,
            r => r,
        }
    }

    /// As [`Node::employee_runtime`], from this node only (`Elsewhere` when another node
    /// of the cluster owns the employee).
    pub async fn employee_runtime_here(
        &self,
        id: EmployeeId,
    ) -> Result<EmployeeRuntime, ReachError> {
        // The actor found may be passivating and stop before it answers; then the next
        // attempt activates it afresh.
        let mut last = None;
        for _ in 0..3 {
            let actor = match registry::live_actor(&self.rt, id).await {
                Ok(a) => a,
                Err(ReachError::Failed) => return self.failed_status(id).await,
                Err(e) => return Err(e),
            };
            match ractor::call_t!(actor, EmployeeMsg::Status, 10_000) {
                Ok(status) => return Ok(status),
                Err(e) => last = Some(e.to_string()),
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Err(ReachError::Unavailable(last.unwrap_or_default()))
    }

    /// Activates an idle employee (no event needed) and returns once it runs.
    pub async fn activate(&self, id: EmployeeId) -> Result<(), ReachError> {
        registry::live_actor(&self.rt, id).await.map(|_| ())
    }

    /// Activates a hired, idle employee from a profile already in hand, without reading
    /// the store (its inbox is taken as empty). For bulk warm-up and benchmarks of the
    /// actor tree itself.
    pub async fn activate_with_profile(&self, profile: EmployeeProfile) -> Result<(), ReachError> {
        let id = profile.id;
        if !registry::begin_activation(&self.rt, id)? {
            return Ok(());
        }
        let pre = crate::actors::employee::Preloaded {
            profile,
            snapshot: None,
            pending: Vec::new(),
        };
        registry::spawn_tree(&self.rt, id, Some(pre))
            .await
            .map_err(ReachError::Unavailable)
    }

    /// Makes one actor of an employee's tree panic on purpose (a supervision drill).
    pub async fn inject_fault(
        &self,
        id: EmployeeId,
        target: FaultTarget,
    ) -> Result<(), ReachError> {
        let actor = registry::live_actor(&self.rt, id).await?;
        actor
            .send_message(EmployeeMsg::InjectFault(target))
            .map_err(|e| ReachError::Unavailable(e.to_string()))
    }

    /// Fires a cron expression now, as the Scheduler does on a tick. Returns how many
    /// employees it was fanned out to.
    pub async fn fire_cron(
        &self,
        cron: &str,
        at: chrono::DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        crate::actors::scheduler::fan_out(&self.rt, cron, at).await
    }

    /// Asks every active employee to passivate if idle (the Registry does this on its
    /// own every `passivation_sweep_every`).
    pub fn sweep_idle(&self) {
        if let Some(cell) = self.rt.registry_cell() {
            let _ = cell.send_message(RegistryMsg::Sweep);
        }
    }

    /// Sets the Prometheus gauges that are counted from the directory, and each failed
    /// employee's backlog.
    pub async fn record_gauges(&self) {
        self.record_failed_backlogs().await;
        let counts = self.rt.directory.counts();
        for (status, n) in counts.by_status {
            metrics::gauge!("empla_employees", "status" => status.as_str()).set(n as f64);
        }
        for (state, n) in counts.by_runtime {
            metrics::gauge!("empla_employees_runtime", "state" => state.as_str()).set(n as f64);
        }
    }

    /// Stops gracefully within the configured deadline: every employee commits what it
    /// did and stops, the store writer drains, the store closes. Unprocessed events stay
    /// in the inbox and are replayed by the next start.
    pub async fn shutdown(&self) {
        let deadline = self.rt.config.shutdown_timeout;
        for b in &self.bridges {
            b.abort();
        }
        self.chores.stop();
        let stop_all = async {
            let actors = self.rt.directory.live_actors();
            futures::future::join_all(actors.iter().map(|a| async move {
                ractor::call_t!(a, EmployeeMsg::Stop, 5000, StopReason::Shutdown)
            }))
            .await;
            self.rt.writer.flush().await;
        };
        if tokio::time::timeout(deadline, stop_all).await.is_err() {
            tracing::warn!(
                ?deadline,
                "shutdown deadline passed; stopping the rest abruptly"
            );
        }
        let _ = self
            .supervisor
            .stop_and_wait(StopReason::Shutdown.reason(), Some(Duration::from_secs(5)))
            .await;
        self.rt.writer.flush().await;
        cluster::leave(&self.rt).await;
        self.writer_task.abort();
        self.chores.stop();
        if self.owns_store {
            self.rt.store.close().await;
        }
    }
}

/// How often running workflow runs are looked at (ended tasks, stuck steps).
const WORKFLOW_ROUND: Duration = Duration::from_secs(1);

/// Every role's schedules in the scheduler's 6-field form.
fn role_schedules(
    roles: &BTreeMap<String, RoleTemplate>,
) -> Result<BTreeMap<String, Vec<(String, String)>>, NodeError> {
    roles
        .iter()
        .map(|(id, role)| {
            let crons = role
                .schedules
                .iter()
                .map(|s| Ok((s.name.clone(), normalize_cron(&s.cron)?)))
                .collect::<Result<Vec<_>, String>>()
                .map_err(|m| NodeError::Role {
                    role: id.clone(),
                    error: m,
                })?;
            Ok((id.clone(), crons))
        })
        .collect()
}
