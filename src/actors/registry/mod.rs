//! The Registry: the node's directory of every hired employee (id, email and chat handle
//! → entry) and the parent of every active employee tree.
//!
//! Employees are virtual actors. The directory keeps a small [`Slot`] for every hired
//! employee; the actor tree exists only while the employee is active. Anything addressed
//! to an idle employee activates it: the slot turns `Activating`, the tree is spawned
//! with its state loaded from the store, and whatever arrived meanwhile is handed over.
//! Passivation is the reverse handshake, so no event slips between the two.

use super::employee::{EmployeeMsg, Preloaded};
use super::employee_supervisor::{EmployeeSupervisor, SupervisorArgs};
use super::runtime::Runtime;
use crate::capabilities::{Perceive, PerceiveError};
use crate::model::{EmployeeId, EmployeeStatus, Event};
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::oneshot;

mod directory;

pub use directory::RuntimeState;
pub(crate) use directory::{Activation, Backlog, Directory, Run};

/// Why an employee could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum ReachError {
    /// No such employee.
    #[error("no employee with that id")]
    NotFound,
    /// The employee has been offboarded.
    #[error("the employee has been offboarded")]
    Offboarded,
    /// The employee crashed too often and is not running.
    #[error("the employee has failed and is not running; see the node log")]
    Failed,
    /// The employee's tree could not be started.
    #[error("the employee could not be started: {0}")]
    Unavailable(String),
    /// Another node of the cluster owns the employee.
    #[error("the employee runs on another node of the cluster; try again")]
    Elsewhere,
}

/// Hands `event` (already stored) to its employee, activating it if idle. Never fails:
/// an event that cannot be handed over now stays in the store and is replayed.
pub(crate) fn deliver(rt: &Arc<Runtime>, event: Event) {
    let id = event.employee;
    if let Some(c) = rt.cluster.as_ref().filter(|c| !c.owns(id)) {
        c.wake_owner_with(event);
        return;
    }
    let Some(mut slot) = rt.directory.slots.get_mut(&id) else {
        return;
    };
    if slot.status == EmployeeStatus::Offboarded {
        return;
    }
    let capacity = rt.config.mailbox_capacity;
    match &mut slot.run {
        Run::Live(live) => {
            if live.backlog.queued.fetch_add(1, Ordering::AcqRel) < capacity {
                if live
                    .actor
                    .send_message(EmployeeMsg::Perceive(Box::new(event)))
                    .is_err()
                {
                    live.backlog.handled_one();
                }
            } else {
                // Full: the event stays in the store; the first overflow asks the
                // employee to catch up from there once its mailbox is worked through.
                live.backlog.handled_one();
                if !live.backlog.overflowed.swap(true, Ordering::AcqRel) {
                    metrics::counter!("empla_mailbox_overflows_total").increment(1);
                    let _ = live.actor.send_message(EmployeeMsg::CatchUp);
                }
            }
        }
        Run::Activating(a) if a.queued.len() < capacity => a.queued.push(event),
        Run::Activating(a) => a.overflowed = true,
        Run::Passivating(_, queued) if queued.len() < capacity => queued.push(event),
        Run::Passivating(live, _) => live.backlog.overflowed.store(true, Ordering::Release),
        Run::Restarting | Run::Failed => {}
        Run::Idle => {
            slot.run = Run::Activating(Box::new(Activation {
                queued: vec![event],
                overflowed: false,
                waiters: Vec::new(),
            }));
            drop(slot);
            tokio::spawn(activate(rt.clone(), id));
        }
    }
}

/// Marks an idle employee as activating; false if it is not idle.
pub(crate) fn begin_activation(rt: &Arc<Runtime>, id: EmployeeId) -> Result<bool, ReachError> {
    if !rt.owns(id) {
        return Err(ReachError::Elsewhere);
    }
    let mut slot = rt
        .directory
        .slots
        .get_mut(&id)
        .ok_or(ReachError::NotFound)?;
    if slot.status == EmployeeStatus::Offboarded {
        return Err(ReachError::Offboarded);
    }
    if !matches!(slot.run, Run::Idle) {
        return Ok(false);
    }
    slot.run = Run::Activating(Box::default());
    Ok(true)
}

/// Activates an idle employee so it replays its unprocessed events.
pub(crate) fn wake(rt: &Arc<Runtime>, id: EmployeeId) {
    if let Some(c) = rt.cluster.as_ref().filter(|c| !c.owns(id)) {
        c.wake_owner(id);
        return;
    }
    let Some(mut slot) = rt.directory.slots.get_mut(&id) else {
        return;
    };
    if slot.status != EmployeeStatus::Offboarded && matches!(slot.run, Run::Idle) {
        slot.run = Run::Activating(Box::default());
        drop(slot);
        tokio::spawn(activate(rt.clone(), id));
    }
}

/// The live actor of an employee, activating it if idle.
pub(crate) async fn live_actor(
    rt: &Arc<Runtime>,
    id: EmployeeId,
) -> Result<ActorRef<EmployeeMsg>, ReachError> {
    if !rt.owns(id) {
        return Err(ReachError::Elsewhere);
    }
    let rx = {
        let Some(mut slot) = rt.directory.slots.get_mut(&id) else {
            return Err(ReachError::NotFound);
        };
        if slot.status == EmployeeStatus::Offboarded {
            return Err(ReachError::Offboarded);
        }
        let (tx, rx) = oneshot::channel();
        match &mut slot.run {
            Run::Live(l) | Run::Passivating(l, _) => return Ok(l.actor.clone()),
            Run::Failed => return Err(ReachError::Failed),
            Run::Activating(a) => a.waiters.push(tx),
            Run::Restarting => {
                return Err(ReachError::Unavailable(
                    "it is restarting after a crash; try again shortly".into(),
                ));
            }
            Run::Idle => {
                slot.run = Run::Activating(Box::new(Activation {
                    queued: Vec::new(),
                    overflowed: false,
                    waiters: vec![tx],
                }));
                drop(slot);
                tokio::spawn(activate(rt.clone(), id));
            }
        }
        rx
    };
    rx.await
        .map_err(|_| ReachError::Unavailable("activation failed; see the node log".into()))
}

/// Wakes the employees that must reason on their own by now (a wait's deadline, a
/// message's SLA, a calendar trigger), active or passivated.
async fn wake_due(rt: &Arc<Runtime>) {
    let due = match rt
        .store
        .due_employees(&rt.tenant, chrono::Utc::now(), 1000)
        .await
    {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "could not read which employees are due; retrying at the next sweep");
            return;
        }
    };
    for id in due {
        let rt = rt.clone();
        tokio::spawn(async move {
            if let Ok(actor) = live_actor(&rt, id).await {
                let _ = actor.send_message(EmployeeMsg::Reflect);
            }
        });
    }
}

/// Loads an employee and spawns its tree under the Registry.
async fn activate(rt: Arc<Runtime>, id: EmployeeId) {
    let started = std::time::Instant::now();
    if rt.writer.resume(id).await {
        // What it did last could not be stored: settle what was queued before reading.
        rt.writer.flush().await;
    }
    let loaded = async {
        let (profile, snapshot) = rt
            .store
            .employee_with_state(&rt.tenant, id)
            .await?
            .ok_or_else(|| {
                crate::store::StoreError::Corrupt(format!(
                    "employee {id} is in the directory but not the store"
                ))
            })?;
        let pending = rt
            .store
            .pending_events(&rt.tenant, id, super::employee::REPLAY_PAGE)
            .await?;
        Ok::<_, crate::store::StoreError>(Preloaded {
            profile,
            snapshot,
            pending,
        })
    }
    .await;
    let result = match loaded {
        Ok(pre) => spawn_tree(&rt, id, Some(pre)).await,
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = result {
        tracing::error!(employee = %id, error = %e, "activation failed; events stay in the inbox");
        // Dropping the waiters tells callers it failed.
        rt.directory.set_run(id, Run::Idle);
    } else {
        metrics::histogram!("empla_activation_seconds").record(started.elapsed().as_secs_f64());
    }
}

/// Spawns an employee tree (EmployeeSupervisor → EmployeeActor → children) under the
/// Registry. With `preloaded`, no store access is needed to start.
pub(crate) async fn spawn_tree(
    rt: &Arc<Runtime>,
    id: EmployeeId,
    preloaded: Option<Preloaded>,
) -> Result<(), String> {
    let parent = rt.registry_cell().ok_or("the registry is not running")?;
    let args = SupervisorArgs {
        rt: rt.clone(),
        id,
        preloaded,
    };
    Actor::spawn_linked(None, EmployeeSupervisor, args, parent)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Messages to the Registry.
pub enum RegistryMsg {
    /// Ask every active employee whether it has been idle long enough to passivate.
    Sweep,
    /// Ask every active employee to reason on its own if its last cycle is old enough.
    Reflect,
}

/// The Registry actor: parent of employee trees and keeper of the idle sweep.
pub(crate) struct Registry;

/// The Registry's state.
pub(crate) struct RegistryState {
    rt: Arc<Runtime>,
}

impl Actor for Registry {
    type Msg = RegistryMsg;
    type State = RegistryState;
    type Arguments = Arc<Runtime>;

    async fn pre_start(
        &self,
        myself: ActorRef<RegistryMsg>,
        rt: Arc<Runtime>,
    ) -> Result<RegistryState, ActorProcessingErr> {
        rt.set_registry_cell(myself.get_cell());
        // A restarted registry has lost the trees of its previous life.
        let reset = rt.directory.reset_dead();
        if !reset.is_empty() {
            tracing::warn!(
                employees = reset.len(),
                "registry restarted; employee trees will be re-activated on demand"
            );
        }
        myself.send_interval(rt.config.passivation_sweep_every, || RegistryMsg::Sweep);
        // Checked twice per interval, so no employee waits much past its own.
        myself.send_interval(rt.config.reflection_interval / 2, || RegistryMsg::Reflect);
        Ok(RegistryState { rt })
    }

    async fn handle(
        &self,
        _myself: ActorRef<RegistryMsg>,
        msg: RegistryMsg,
        state: &mut RegistryState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            RegistryMsg::Sweep => {
                let idle_after = state.rt.config.idle_passivate_after;
                for actor in state.rt.directory.live_actors() {
                    let _ = actor.send_message(EmployeeMsg::IdleCheck { idle_after });
                }
                wake_due(&state.rt).await;
            }
            RegistryMsg::Reflect => {
                for actor in state.rt.directory.live_actors() {
                    let _ = actor.send_message(EmployeeMsg::Reflect);
                }
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _myself: ActorRef<RegistryMsg>,
        evt: SupervisionEvent,
        state: &mut RegistryState,
    ) -> Result<(), ActorProcessingErr> {
        if let SupervisionEvent::ActorFailed(_, err) = evt {
            // An EmployeeSupervisor itself failed: unexpected. Make its employee
            // activatable again and replay what it left pending.
            tracing::error!(error = %err, "an employee supervisor failed");
            metrics::counter!("empla_actor_restarts_total", "actor" => "employee_supervisor")
                .increment(1);
            for id in state.rt.directory.reset_dead() {
                if let Ok(pending) = state.rt.store.pending_events(&state.rt.tenant, id, 1).await
                    && !pending.is_empty()
                {
                    wake(&state.rt, id);
                }
            }
        }
        Ok(())
    }
}

/// Stores an event for an employee in the durable inbox, then hands it over. The same
/// idempotency key is accepted once.
pub(crate) async fn accept(
    rt: &Arc<Runtime>,
    id: EmployeeId,
    new: crate::model::NewEvent,
) -> Result<crate::store::Accepted, PerceiveError> {
    let status = match rt.directory.status(id) {
        // Hired through another node of the cluster a moment ago, perhaps.
        None if rt.cluster.is_some() => learn(rt, id).await,
        s => s,
    };
    match status {
        None => return Err(PerceiveError::NotFound),
        Some(EmployeeStatus::Offboarded) => return Err(PerceiveError::Offboarded),
        Some(_) => {}
    }
    let new = with_intent(rt, id, new).await;
    let event = Event::accept(rt.tenant.clone(), id, new, chrono::Utc::now());
    // An idle employee starts waking while its event is being stored: the tree comes up
    // during the commit, and the event is handed to it once stored.
    if rt.owns(id) {
        wake(rt, id);
    }
    let accepted = rt.writer.accept(event.clone()).await?;
    if !accepted.duplicate {
        metrics::counter!("empla_events_accepted_total").increment(1);
        deliver(rt, event);
    }
    Ok(accepted)
}

/// Adds an employee the directory does not know yet (hired through another node) from
/// the store; its status, if it is hired.
pub(crate) async fn learn(rt: &Runtime, id: EmployeeId) -> Option<EmployeeStatus> {
    let profile = rt.store.employee(&rt.tenant, id).await.ok()??;
    rt.directory
        .insert(id, &profile.email, &profile.chat_handle, profile.status);
    Some(profile.status)
}

/// A chat message with the intent the employee's role gives its words (see
/// [`Triage::classify_words`](crate::capabilities::email::Triage::classify_words)),
/// as mail has from triage; other events as they are.
async fn with_intent(
    rt: &Runtime,
    id: EmployeeId,
    mut new: crate::model::NewEvent,
) -> crate::model::NewEvent {
    if new.kind != crate::model::kinds::CHAT || new.payload.get("intent").is_some() {
        return new;
    }
    let Some(text) = new.payload["text"].as_str() else {
        return new;
    };
    // Without the profile the message goes in unstamped rather than not at all.
    let role = match rt.store.employee(&rt.tenant, id).await {
        Ok(Some(p)) => p.role,
        _ => return new,
    };
    if let Some(t) = rt.hands.mail.triage(&role).classify_words(text)
        && let Some(p) = new.payload.as_object_mut()
    {
        p.insert("intent".into(), serde_json::json!(t.intent));
        p.insert("priority".into(), serde_json::json!(t.priority));
    }
    new
}

/// The runtime's side of the capabilities' [`Perceive`] port.
pub(crate) struct Port(pub(crate) std::sync::Weak<Runtime>);

#[async_trait::async_trait]
impl Perceive for Port {
    fn resolve(&self, key: &str) -> Option<EmployeeId> {
        self.0.upgrade()?.directory.resolve(key)
    }

    fn offboarded(&self, employee: EmployeeId) -> bool {
        self.0.upgrade().is_none_or(|rt| {
            rt.directory
                .status(employee)
                .is_none_or(|s| s == EmployeeStatus::Offboarded)
        })
    }

    fn here(&self, employee: EmployeeId) -> bool {
        self.0.upgrade().is_some_and(|rt| rt.owns(employee))
    }

    async fn perceive(
        &self,
        employee: EmployeeId,
        event: crate::model::NewEvent,
    ) -> Result<crate::store::Accepted, PerceiveError> {
        let rt = self
            .0
            .upgrade()
            .ok_or(PerceiveError::Write(crate::store::WriteError::Closed))?;
        accept(&rt, employee, event).await
    }

    fn wake(&self, employee: EmployeeId) {
        if let Some(rt) = self.0.upgrade() {
            wake(&rt, employee);
        }
    }

    fn deliver(&self, event: Event) {
        if let Some(rt) = self.0.upgrade() {
            deliver(&rt, event);
        }
    }

    async fn answered(&self, reply: &crate::model::MailMessage) -> bool {
        match self.0.upgrade() {
            Some(rt) => {
                crate::lifecycle::escalations::decide_by_reply(&rt.hands, reply).await
                    || crate::lifecycle::review_mail::note_by_reply(&rt.hands, reply).await
            }
            None => false,
        }
    }
}
