//! The directory of every hired employee: a small [`Slot`] each (id, email and chat
//! handle → where its actor tree is in its life), the handshakes that move a slot
//! between idle, activating, live and passivating, and the counts `/metrics` shows.

use super::super::employee::EmployeeMsg;
use crate::model::{EmployeeId, EmployeeStatus, Event};
use dashmap::DashMap;
use ractor::{ActorRef, ActorStatus};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::sync::oneshot;

/// Where an employee's actor tree is in its life.
pub(crate) enum Run {
    /// No actors; state is in the store.
    Idle,
    /// The tree is being spawned; events and callers wait here.
    Activating(Box<Activation>),
    /// The tree runs.
    Live(Live),
    /// The employee is persisting to stop; events wait here and cancel the stop.
    Passivating(Live, Vec<Event>),
    /// The EmployeeActor crashed and waits for its restart; events stay in the store.
    Restarting,
    /// The employee crashed too often; it is not restarted until the node restarts.
    Failed,
}

/// What waits for an employee's tree to come up.
#[derive(Default)]
pub(crate) struct Activation {
    pub(crate) queued: Vec<Event>,
    /// More events arrived than the mailbox holds; they are in the store only.
    pub(crate) overflowed: bool,
    pub(crate) waiters: Vec<oneshot::Sender<ActorRef<EmployeeMsg>>>,
}

/// An active employee: its EmployeeActor and the backlog of its mailbox.
#[derive(Clone)]
pub(crate) struct Live {
    pub(crate) actor: ActorRef<EmployeeMsg>,
    pub(crate) backlog: Arc<Backlog>,
}

/// Keeps an employee's mailbox bounded. Events are durable in the inbox, so the mailbox
/// only has to carry them while it is short: past `runtime.mailbox_capacity` undelivered
/// events, further ones are left in the store and the employee is told (once) to catch
/// up from there when it has worked through its mailbox.
#[derive(Default)]
pub(crate) struct Backlog {
    pub(super) queued: AtomicUsize,
    pub(super) overflowed: AtomicBool,
}

impl Backlog {
    /// One delivered event was taken from the mailbox.
    pub(crate) fn handled_one(&self) {
        self.queued.fetch_sub(1, Ordering::AcqRel);
    }

    /// Whether events were left in the store since the last call.
    pub(crate) fn take_overflow(&self) -> bool {
        self.overflowed.swap(false, Ordering::AcqRel)
    }
}

/// What an employee taking over its slot is handed.
pub(crate) struct Handover {
    /// Events that waited in the slot, oldest first.
    pub(crate) events: Vec<Event>,
    /// Some events were left in the store only: replay after handling these.
    pub(crate) catch_up: bool,
}

/// The directory's entry for one employee.
pub(crate) struct Slot {
    pub(crate) status: EmployeeStatus,
    pub(crate) run: Run,
}

/// A snapshot of one employee's runtime state, for status and metrics.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RuntimeState {
    /// No actors running; activated by the next event or call.
    Idle,
    /// Being spawned.
    Activating,
    /// Running.
    Active,
    /// Persisting before stopping.
    Passivating,
    /// Waiting to be restarted after a crash.
    Restarting,
    /// Crashed too often; needs attention.
    Failed,
}

impl RuntimeState {
    /// Name as shown in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Activating => "activating",
            Self::Active => "active",
            Self::Passivating => "passivating",
            Self::Restarting => "restarting",
            Self::Failed => "failed",
        }
    }
}

/// How many employees are in each employment status and runtime state.
pub(crate) struct DirectoryCounts {
    pub(crate) by_status: Vec<(EmployeeStatus, u64)>,
    pub(crate) by_runtime: Vec<(RuntimeState, u64)>,
}

/// The directory: every hired employee by id, routed ones also by email and handle.
#[derive(Default)]
pub(crate) struct Directory {
    pub(super) slots: DashMap<EmployeeId, Slot>,
    by_email: DashMap<Box<str>, EmployeeId>,
    by_handle: DashMap<Box<str>, EmployeeId>,
}

impl Directory {
    /// Adds an employee. Offboarded employees are kept by id but not routed.
    pub(crate) fn insert(&self, id: EmployeeId, email: &str, handle: &str, status: EmployeeStatus) {
        if status != EmployeeStatus::Offboarded {
            self.by_email
                .insert(email.to_ascii_lowercase().into_boxed_str(), id);
            self.by_handle
                .insert(handle.to_ascii_lowercase().into_boxed_str(), id);
        }
        self.slots.insert(
            id,
            Slot {
                status,
                run: Run::Idle,
            },
        );
    }

    /// Number of hired employees.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether an email address is taken.
    pub(crate) fn email_taken(&self, email: &str) -> bool {
        self.by_email
            .contains_key(email.to_ascii_lowercase().as_str())
    }

    /// Finds an employee by id, email address or chat handle.
    pub(crate) fn resolve(&self, key: &str) -> Option<EmployeeId> {
        if let Ok(id) = key.parse::<EmployeeId>() {
            return self.slots.contains_key(&id).then_some(id);
        }
        let key = key.to_ascii_lowercase();
        if key.contains('@') {
            self.by_email.get(key.as_str()).map(|e| *e)
        } else {
            self.by_handle.get(key.as_str()).map(|e| *e)
        }
    }

    /// The employment status of an employee.
    pub(crate) fn status(&self, id: EmployeeId) -> Option<EmployeeStatus> {
        self.slots.get(&id).map(|s| s.status)
    }

    /// Marks an employee offboarded and stops routing its addresses. Returns its live
    /// actor, if any, so the caller can stop it.
    pub(crate) fn offboard(
        &self,
        id: EmployeeId,
        email: &str,
        handle: &str,
    ) -> Option<ActorRef<EmployeeMsg>> {
        self.by_email.remove(email.to_ascii_lowercase().as_str());
        self.by_handle.remove(handle.to_ascii_lowercase().as_str());
        let mut slot = self.slots.get_mut(&id)?;
        slot.status = EmployeeStatus::Offboarded;
        match std::mem::replace(&mut slot.run, Run::Idle) {
            Run::Live(l) | Run::Passivating(l, _) => Some(l.actor),
            _ => None,
        }
    }

    /// The runtime state of an employee.
    pub(crate) fn runtime_state(&self, id: EmployeeId) -> Option<RuntimeState> {
        self.slots.get(&id).map(|s| run_state(&s.run))
    }

    /// Counts employees by employment status and by runtime state.
    pub(crate) fn counts(&self) -> DirectoryCounts {
        let mut by_status = [0u64; 4];
        let mut by_run = [0u64; 6];
        for slot in self.slots.iter() {
            by_status[EmployeeStatus::ALL
                .iter()
                .position(|s| *s == slot.status)
                .unwrap_or(0)] += 1;
            by_run[run_state(&slot.run) as usize] += 1;
        }
        let runs = [
            RuntimeState::Idle,
            RuntimeState::Activating,
            RuntimeState::Active,
            RuntimeState::Passivating,
            RuntimeState::Restarting,
            RuntimeState::Failed,
        ];
        DirectoryCounts {
            by_status: EmployeeStatus::ALL.iter().copied().zip(by_status).collect(),
            by_runtime: runs.iter().copied().zip(by_run).collect(),
        }
    }

    /// Employees that crashed too often and are not running.
    pub(crate) fn failed(&self) -> Vec<EmployeeId> {
        self.slots
            .iter()
            .filter(|s| matches!(s.run, Run::Failed))
            .map(|s| *s.key())
            .collect()
    }

    /// Makes a failed employee activatable again; false when it is not failed.
    pub(crate) fn unfail(&self, id: EmployeeId) -> bool {
        match self.slots.get_mut(&id) {
            Some(mut slot) if matches!(slot.run, Run::Failed) => {
                slot.run = Run::Idle;
                true
            }
            _ => false,
        }
    }

    /// Live employees' actors (for the idle sweep and shutdown).
    pub(crate) fn live_actors(&self) -> Vec<ActorRef<EmployeeMsg>> {
        self.slots
            .iter()
            .filter_map(|s| {
                if let Run::Live(l) = &s.run {
                    Some(l.actor.clone())
                } else {
                    None
                }
            })
            .collect()
    }

    /// The live actor of `id`, if its tree runs.
    pub(crate) fn live(&self, id: EmployeeId) -> Option<ActorRef<EmployeeMsg>> {
        match &self.slots.get(&id)?.run {
            Run::Live(l) | Run::Passivating(l, _) => Some(l.actor.clone()),
            _ => None,
        }
    }

    /// Whether `id` has no actor tree now.
    pub(crate) fn is_idle(&self, id: EmployeeId) -> bool {
        self.slots
            .get(&id)
            .is_some_and(|s| matches!(s.run, Run::Idle))
    }

    /// Asks a live employee whose mailbox is empty to look at its inbox in the store
    /// (a wake-up meant for it was missed); answers whether it was asked.
    pub(crate) fn nudge(&self, id: EmployeeId) -> bool {
        let Some(slot) = self.slots.get(&id) else {
            return false;
        };
        match &slot.run {
            Run::Live(l) if l.backlog.queued.load(Ordering::Acquire) == 0 => {
                l.backlog.overflowed.store(true, Ordering::Release);
                l.actor.send_message(EmployeeMsg::CatchUp).is_ok()
            }
            _ => false,
        }
    }

    /// Sets the runtime state of a slot.
    pub(crate) fn set_run(&self, id: EmployeeId, run: Run) {
        if let Some(mut slot) = self.slots.get_mut(&id) {
            slot.run = run;
        }
    }

    /// Makes `actor` the live actor of `id`, handing it whatever waited for it.
    pub(crate) fn claim_live(
        &self,
        id: EmployeeId,
        actor: &ActorRef<EmployeeMsg>,
        backlog: &Arc<Backlog>,
    ) -> Handover {
        let mut handover = Handover {
            events: Vec::new(),
            catch_up: false,
        };
        let Some(mut slot) = self.slots.get_mut(&id) else {
            return handover;
        };
        if slot.status == EmployeeStatus::Offboarded {
            return handover;
        }
        let live = Live {
            actor: actor.clone(),
            backlog: backlog.clone(),
        };
        match std::mem::replace(&mut slot.run, Run::Live(live)) {
            Run::Activating(a) => {
                for w in a.waiters {
                    let _ = w.send(actor.clone());
                }
                handover.events = a.queued;
                handover.catch_up = a.overflowed;
            }
            Run::Passivating(old, queued) => {
                handover.events = queued;
                handover.catch_up = old.backlog.take_overflow();
            }
            _ => {}
        }
        handover
    }

    /// First half of passivation: from now on events for `id` wait in the slot.
    /// Returns false when the slot is not this actor's live slot.
    pub(crate) fn begin_passivation(&self, id: EmployeeId, actor: &ActorRef<EmployeeMsg>) -> bool {
        let Some(mut slot) = self.slots.get_mut(&id) else {
            return false;
        };
        match &slot.run {
            Run::Live(l) if l.actor.get_id() == actor.get_id() => {
                slot.run = Run::Passivating(l.clone(), Vec::new());
                true
            }
            _ => false,
        }
    }

    /// Second half: if nothing arrived, the employee is idle (Ok); otherwise passivation
    /// is cancelled and what arrived is returned to be handled (Err).
    pub(crate) fn end_passivation(&self, id: EmployeeId) -> Result<(), Vec<Event>> {
        let Some(mut slot) = self.slots.get_mut(&id) else {
            return Ok(());
        };
        match std::mem::replace(&mut slot.run, Run::Idle) {
            Run::Passivating(l, queued) if !queued.is_empty() => {
                slot.run = Run::Live(l);
                Err(queued)
            }
            Run::Passivating(..) => Ok(()),
            other => {
                // Offboarded or otherwise changed meanwhile: leave it as it is.
                slot.run = other;
                Ok(())
            }
        }
    }

    /// After an unexpected loss of employee trees: every slot whose actor is dead
    /// becomes idle again. Returns the ids reset.
    pub(crate) fn reset_dead(&self) -> Vec<EmployeeId> {
        let mut reset = Vec::new();
        for mut slot in self.slots.iter_mut() {
            let dead = match &slot.run {
                Run::Live(l) | Run::Passivating(l, _) => {
                    l.actor.get_status() == ActorStatus::Stopped
                }
                _ => false,
            };
            if dead {
                slot.run = Run::Idle;
                reset.push(*slot.key());
            }
        }
        reset
    }
}

fn run_state(run: &Run) -> RuntimeState {
    match run {
        Run::Idle => RuntimeState::Idle,
        Run::Activating(_) => RuntimeState::Activating,
        Run::Live(_) => RuntimeState::Active,
        Run::Passivating(..) => RuntimeState::Passivating,
        Run::Restarting => RuntimeState::Restarting,
        Run::Failed => RuntimeState::Failed,
    }
}
