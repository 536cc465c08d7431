//! The EmployeeActor: owns one employee's state and handles one message at a time.
//!
//! Each event it perceives becomes an `event` episode, recorded together with the event
//! marked processed and the employee's state snapshot (one transaction, through its
//! MemoryActor and the group committer). When anything in its tree is restarted, it
//! resynchronises from the store — state snapshot plus unprocessed events — so a crash
//! loses nothing and does nothing twice.
//!
//! Every event runs one reasoning cycle of the employee's [`Mind`](crate::bdi::Mind) (see
//! [`super::reasoning`]); so does the employee's own cadence (`reflection_interval`).
//! The cycle's decisions are recorded in the same transaction as the event: episodes
//! caused by the event's episode, approvals queued, actions put in the outbox. Actions
//! run only after that commit, through the CapabilityActor.

mod a2a;
mod capability;
pub(crate) mod forget;
mod language;
mod memory;
mod moved;
pub(crate) mod reasoning;
pub(crate) mod snapshot;
pub(crate) mod tasks;
mod withdrawn;

pub use a2a::A2aMsg;
pub use capability::CapabilityMsg;
pub use memory::MemoryMsg;
pub use reasoning::{AgreementView, DayCounts, GoalView, IntentionView};
pub use snapshot::{EmployeeRuntime, Snapshot};
pub(crate) use snapshot::{decode_snapshot, status_of};

use crate::actors::registry::Backlog;
use crate::actors::runtime::Runtime;
use crate::actors::supervision::{RestartDecision, RestartTracker, StopReason};
use crate::bdi::Input;
use crate::memory::WorkingMemory;
use crate::model::{
    EmployeeId, EmployeeProfile, Episode, EpisodeId, EpisodeKind, Event, EventId, OutboxEntry,
};
use crate::store::Completion;
use a2a::A2aActor;
use capability::CapabilityActor;
use chrono::{DateTime, Utc};
use memory::MemoryActor;
use ractor::{Actor, ActorCell, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};
use reasoning::{Brain, Cause};
use serde::{Deserialize, Serialize};
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which actor of an employee's tree a drill targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultTarget {
    /// The EmployeeActor itself.
    Employee,
    /// Its MemoryActor.
    Memory,
    /// Its CapabilityActor.
    Capability,
    /// Its A2aActor.
    A2a,
}

/// The panic message of a supervision drill.
pub(crate) const DRILL_PANIC: &str = "supervision drill: panicking on purpose";

/// Unprocessed events loaded per page when replaying.
pub(crate) const REPLAY_PAGE: i64 = 1000;
/// How many recently handled event ids are remembered to drop a second delivery.
const RECENT: usize = 256;

/// Messages to an EmployeeActor.
pub enum EmployeeMsg {
    /// A stored event to perceive.
    Perceive(Box<Event>),
    /// Events were left in the store because the mailbox was full: handle them from there.
    CatchUp,
    /// Marks where a replay read the store: deliveries queued before it were in what it
    /// read, so they are skipped.
    ReplayBarrier(u64),
    /// Report runtime status.
    Status(RpcReplyPort<EmployeeRuntime>),
    /// Show working memory.
    Working(RpcReplyPort<WorkingMemory>),
    /// Keep a recall's results in working memory: the query and the texts found.
    Retrieved(String, Vec<String>),
    /// Reason without an event if the last cycle is older than `reflection_interval`.
    Reflect,
    /// Passivate if idle for `idle_after` with nothing pending.
    IdleCheck {
        /// Idle time after which to passivate.
        idle_after: Duration,
    },
    /// Second half of passivation (see the Registry).
    FinishPassivation,
    /// Stop for good (offboarding) or for shutdown, after committing what was done.
    Stop(StopReason, RpcReplyPort<()>),
    /// Restart a child that failed, then resynchronise from the store.
    RestartChild(FaultTarget),
    /// Load the state the store holds again and replay what it has not seen processed
    /// (an operator's restart of a running employee).
    Reload,
    /// What a cycle decided is committed: run its actions.
    Committed(Vec<OutboxEntry>),
    /// What the employee did with an event (or on its own cadence) could not be
    /// stored: it fails, and resumes from what the store holds.
    CommitFailed {
        /// The event it handled, if any.
        event: Option<EventId>,
        /// Why.
        error: String,
    },
    /// Its lease moved to another node of the cluster (its commits were fenced, or a
    /// renewal did not return it): stop at once, storing and doing nothing more here.
    Moved,
    /// Panic on purpose in this actor or a child (supervision drill).
    InjectFault(FaultTarget),
    /// Forget a person in its state (with the actions cancelled with their records) and
    /// persist it; answers how many entries went, or none when it cannot now.
    Forget(
        Arc<crate::model::Forgetting>,
        std::collections::BTreeSet<u64>,
        RpcReplyPort<Option<usize>>,
    ),
}

/// What activation loaded, so the tree can start without touching the store.
pub(crate) struct Preloaded {
    /// The profile.
    pub profile: EmployeeProfile,
    /// The last state snapshot, if any.
    pub snapshot: Option<Vec<u8>>,
    /// The first page of unprocessed events.
    pub pending: Vec<Event>,
}

/// Start-up arguments.
pub(crate) struct EmployeeArgs {
    pub(crate) rt: Arc<Runtime>,
    pub(crate) id: EmployeeId,
    pub(crate) preloaded: Option<Preloaded>,
    /// Where the employee says which event it is handling, so its supervisor knows
    /// what a crash was handling.
    pub(crate) handling: Arc<Handling>,
}

/// The event an employee is handling (or whose record failed), read by its supervisor
/// when it crashes: an event that crashes it again and again is set aside.
#[derive(Debug, Default)]
pub(crate) struct Handling(std::sync::Mutex<Option<EventId>>);

impl Handling {
    fn set(&self, event: Option<EventId>) {
        if let Ok(mut h) = self.0.lock() {
            *h = event;
        }
    }

    /// The event handled when the employee stopped, taken.
    pub(crate) fn take(&self) -> Option<EventId> {
        self.0.lock().ok().and_then(|mut h| h.take())
    }
}

/// The EmployeeActor.
pub(crate) struct EmployeeActor;

/// The EmployeeActor's state.
pub(crate) struct EmployeeState {
    rt: Arc<Runtime>,
    id: EmployeeId,
    /// The event being handled, for the supervisor to read after a crash.
    handling: Arc<Handling>,
    profile: EmployeeProfile,
    snapshot: Snapshot,
    brain: Brain,
    memory: ActorRef<MemoryMsg>,
    capability: ActorRef<CapabilityMsg>,
    a2a: ActorRef<A2aMsg>,
    restarts: RestartTracker,
    backlog: Arc<Backlog>,
    recent: VecDeque<EventId>,
    /// Working memory: what conditions see as `memory` (not persisted).
    working: WorkingMemory,
    /// Events the last replay read from the store. A delivery of one of them can reach
    /// the mailbox after the replay handled it (delivery follows the commit by however
    /// long the submitter takes), so they are remembered until the next replay.
    replayed: HashSet<EventId>,
    last_activity: Instant,
    /// A child is down: events are left in the store and replayed after the restart.
    suspended: bool,
    /// Events from the first page of pending, handled in post_start.
    startup: Vec<Event>,
    /// Replay from the store after the start-up events (more were pending than handed over).
    catch_up: bool,
    /// Replays started so far; names each replay's barrier.
    replays: u64,
    /// While set, mailbox deliveries are skipped until this replay's barrier arrives.
    skip_until: Option<u64>,
}

impl Actor for EmployeeActor {
    type Msg = EmployeeMsg;
    type State = EmployeeState;
    type Arguments = EmployeeArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<EmployeeMsg>,
        args: EmployeeArgs,
    ) -> Result<EmployeeState, ActorProcessingErr> {
        let EmployeeArgs {
            rt,
            id,
            preloaded,
            handling,
        } = args;
        let cell = myself.get_cell();
        let (memory, _) = Actor::spawn_linked(
            None,
            MemoryActor,
            (rt.writer.clone(), myself.clone()),
            cell.clone(),
        )
        .await?;
        let (capability, _) =
            Actor::spawn_linked(None, CapabilityActor, (rt.clone(), id), cell.clone()).await?;
        let (a2a, _) = Actor::spawn_linked(None, A2aActor, (), cell).await?;
        let backlog = Arc::new(Backlog::default());
        let mut catch_up = false;
        let (profile, snapshot, startup) = match preloaded {
            Some(p) => (p.profile, p.snapshot, p.pending),
            None => {
                // A restart: become the routed actor first, then read the store, so every
                // event is either in what we read or delivered to us afterwards.
                let handover = rt.directory.claim_live(id, &myself, &backlog);
                catch_up = handover.catch_up;
                // If what it did last could not be stored, its writes are taken again
                // from here; everything queued before is settled before reading.
                rt.writer.resume(id).await;
                rt.writer.flush_employee(id).await;
                let (profile, snapshot) = rt
                    .store
                    .employee_with_state(&rt.tenant, id)
                    .await?
                    .ok_or_else(|| format!("employee {id} is not in the store"))?;
                let pending = rt.store.pending_events(&rt.tenant, id, REPLAY_PAGE).await?;
                (profile, snapshot, pending)
            }
        };
        let snapshot = decode_snapshot(snapshot.as_deref(), &profile);
        let restarts = RestartTracker::new(&rt.config);
        let brain = Brain::new(&profile, rt.playbook(&profile.role), &rt.hands.llm);
        Ok(EmployeeState {
            working: WorkingMemory::new(rt.working_tokens),
            rt,
            id,
            handling,
            profile,
            snapshot,
            brain,
            memory,
            capability,
            a2a,
            restarts,
            backlog,
            recent: VecDeque::new(),
            replayed: HashSet::new(),
            last_activity: Instant::now(),
            suspended: false,
            startup,
            catch_up,
            replays: 0,
            skip_until: None,
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<EmployeeMsg>,
        state: &mut EmployeeState,
    ) -> Result<(), ActorProcessingErr> {
        let handover = state
            .rt
            .directory
            .claim_live(state.id, &myself, &state.backlog);
        resume_outbox(state).await?;
        state.rt.hands.chat.transport.show_activity(
            &state.profile.chat_handle,
            crate::capabilities::chat::Activity::Active,
        );
        let startup = std::mem::take(&mut state.startup);
        let full_page = startup.len() as i64 >= REPLAY_PAGE;
        for event in startup.into_iter().chain(handover.events) {
            perceive(state, event).await;
        }
        if full_page || handover.catch_up || state.catch_up {
            state.catch_up = false;
            replay(&myself, state).await?;
        }
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<EmployeeMsg>,
        msg: EmployeeMsg,
        state: &mut EmployeeState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            EmployeeMsg::Perceive(event) => {
                state.backlog.handled_one();
                if state.skip_until.is_none() {
                    perceive(state, *event).await
                }
            }
            EmployeeMsg::ReplayBarrier(n) => {
                if state.skip_until == Some(n) {
                    state.skip_until = None;
                }
            }
            EmployeeMsg::Status(reply) => {
                let mut s = status(state);
                s.language = state.rt.hands.llm.status(state.id).await;
                let _ = reply.send(s);
            }
            EmployeeMsg::Working(reply) => {
                let _ = reply.send(state.working.clone());
            }
            EmployeeMsg::Retrieved(query, items) => state.working.retrieved(&query, items),
            EmployeeMsg::Reflect => {
                let interval = chrono::Duration::from_std(state.rt.config.reflection_interval)
                    .unwrap_or(chrono::TimeDelta::MAX);
                let now = Utc::now();
                let due = state
                    .snapshot
                    .last_cycle_at
                    .is_none_or(|t| now - t >= interval)
                    || state.snapshot.wake_at.is_some_and(|t| t <= now);
                if due && !state.suspended {
                    reflect(state, now).await;
                }
            }
            EmployeeMsg::IdleCheck { idle_after } => {
                if !state.suspended
                    && state.last_activity.elapsed() >= idle_after
                    && state.rt.directory.begin_passivation(state.id, &myself)
                {
                    myself.send_message(EmployeeMsg::FinishPassivation)?;
                }
            }
            EmployeeMsg::Committed(actions) => {
                state.capability.send_message(CapabilityMsg::Run(actions))?;
            }
            EmployeeMsg::CommitFailed { event, error } => {
                state.handling.set(event);
                metrics::counter!("empla_commit_failures_total").increment(1);
                return Err(format!(
                    "what employee {} did with {} could not be stored ({error}); it resumes from the store",
                    state.id,
                    event.map_or("its own cadence".into(), |e| format!("event {e}"))
                )
                .into());
            }
            EmployeeMsg::InjectFault(target) => match target {
                FaultTarget::Employee => panic!("{DRILL_PANIC}"),
                FaultTarget::Memory => state.memory.send_message(MemoryMsg::InjectFault)?,
                FaultTarget::Capability => {
                    state.capability.send_message(CapabilityMsg::InjectFault)?
                }
                FaultTarget::A2a => state.a2a.send_message(A2aMsg::InjectFault)?,
            },
            // Rare and heavy (store reads, replays, spawning children): boxed, so the
            // message loop's future, allocated for the actor's whole life, stays small.
            rare => Box::pin(handle_rare(myself, rare, state)).await?,
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<EmployeeMsg>,
        evt: SupervisionEvent,
        state: &mut EmployeeState,
    ) -> Result<(), ActorProcessingErr> {
        let SupervisionEvent::ActorFailed(cell, err) = evt else {
            return Ok(());
        };
        let Some(which) = child_kind(state, &cell) else {
            return Ok(());
        };
        metrics::counter!("empla_actor_restarts_total", "actor" => child_name(which)).increment(1);
        state.suspended = true;
        match state.restarts.on_failure(Instant::now()) {
            RestartDecision::RestartAfter(delay) => {
                tracing::warn!(employee = %state.id, child = child_name(which), error = %err, ?delay, "child failed; restarting");
                myself.send_after(delay, move || EmployeeMsg::RestartChild(which));
                Ok(())
            }
            RestartDecision::GiveUp => {
                Err(format!("{} actor failed too often: {err}", child_name(which)).into())
            }
        }
    }
}

/// The messages an employee gets rarely, whose handling awaits much: replays, flushes,
/// restarting a child, reloading from the store.
async fn handle_rare(
    myself: ActorRef<EmployeeMsg>,
    msg: EmployeeMsg,
    state: &mut EmployeeState,
) -> Result<(), ActorProcessingErr> {
    match msg {
        EmployeeMsg::CatchUp => {
            if state.backlog.take_overflow() {
                replay(&myself, state).await?;
            }
        }
        EmployeeMsg::FinishPassivation => {
            // Everything routed before begin_passivation has been handled (mailbox
            // order); commit it, then either stop or take what arrived meanwhile.
            ractor::call!(state.memory, MemoryMsg::Flush)?;
            match state.rt.directory.end_passivation(state.id) {
                Ok(()) => {
                    tracing::debug!(employee = %state.id, "passivated");
                    state.rt.hands.chat.transport.show_activity(
                        &state.profile.chat_handle,
                        crate::capabilities::chat::Activity::Away,
                    );
                    myself.stop(StopReason::Passivated.reason());
                }
                Err(arrived) => {
                    for event in arrived {
                        perceive(state, event).await;
                    }
                    if state.backlog.take_overflow() {
                        replay(&myself, state).await?;
                    }
                }
            }
        }
        EmployeeMsg::Moved => moved::stop_here(&myself, state),
        EmployeeMsg::Stop(reason, reply) => {
            ractor::call!(state.memory, MemoryMsg::Flush)?;
            myself.stop(reason.reason());
            let _ = reply.send(());
        }
        EmployeeMsg::RestartChild(which) => {
            let cell = myself.get_cell();
            match which {
                FaultTarget::Memory => {
                    state.memory = Actor::spawn_linked(
                        None,
                        MemoryActor,
                        (state.rt.writer.clone(), myself.clone()),
                        cell,
                    )
                    .await?
                    .0;
                }
                FaultTarget::Capability => {
                    state.capability = Actor::spawn_linked(
                        None,
                        CapabilityActor,
                        (state.rt.clone(), state.id),
                        cell,
                    )
                    .await?
                    .0
                }
                FaultTarget::A2a => {
                    state.a2a = Actor::spawn_linked(None, A2aActor, (), cell).await?.0
                }
                FaultTarget::Employee => {}
            }
            resync(&myself, state).await?;
            if which == FaultTarget::Capability {
                // What the failed CapabilityActor had not finished is still pending.
                resume_outbox(state).await?;
            }
        }
        EmployeeMsg::Reload => {
            resync(&myself, state).await?;
            resume_outbox(state).await?;
        }
        EmployeeMsg::Forget(who, cancelled, reply) => {
            let _ = reply.send(forget::forget(state, &who, &cancelled).await);
        }
        _ => unreachable!("handled in EmployeeActor::handle"),
    }
    Ok(())
}

fn child_kind(state: &EmployeeState, cell: &ActorCell) -> Option<FaultTarget> {
    let id = cell.get_id();
    if id == state.memory.get_id() {
        Some(FaultTarget::Memory)
    } else if id == state.capability.get_id() {
        Some(FaultTarget::Capability)
    } else if id == state.a2a.get_id() {
        Some(FaultTarget::A2a)
    } else {
        None
    }
}

fn child_name(which: FaultTarget) -> &'static str {
    match which {
        FaultTarget::Employee => "employee",
        FaultTarget::Memory => "memory",
        FaultTarget::Capability => "capability",
        FaultTarget::A2a => "a2a",
    }
}

/// The status an employee reports.
fn status(state: &EmployeeState) -> EmployeeRuntime {
    status_of(&state.profile, &state.snapshot)
}

/// Hands the actions left pending in the outbox (by a crash or a failed
/// CapabilityActor) to the CapabilityActor again. The snapshot lists them, so an
/// employee with none does not read the store.
async fn resume_outbox(state: &mut EmployeeState) -> Result<(), ActorProcessingErr> {
    if state.snapshot.outbox.is_empty() {
        return Ok(());
    }
    let pending = state
        .rt
        .store
        .pending_actions(&state.rt.tenant, state.id)
        .await?;
    if !pending.is_empty() {
        state
            .capability
            .send_message(CapabilityMsg::Resume(pending))?;
    }
    Ok(())
}

/// Sends what a cycle decided to the MemoryActor (one transaction with the event, if
/// any), then its actions to the CapabilityActor, which runs them once that is committed.
fn commit(state: &mut EmployeeState, event_id: Option<EventId>, rec: reasoning::Recorded) {
    let actions = rec.actions.clone();
    state.working.observe(&rec.episodes);
    state.snapshot.wake_at = next_due(state);
    let completion = Completion {
        tenant: state.rt.tenant.clone(),
        employee: state.id,
        event_id,
        episodes: rec.episodes,
        snapshot: Some(rmp_serde::to_vec(&state.snapshot).expect("a snapshot serialises")),
        wake_at: state.snapshot.wake_at,
        approvals: rec.approvals,
        actions: rec.actions,
        fence: state.rt.fence(state.id),
    };
    if state
        .memory
        .send_message(MemoryMsg::Record(Box::new(completion), actions))
        .is_ok()
        && event_id.is_some()
    {
        metrics::counter!("empla_events_processed_total").increment(1);
    }
}

/// The employee's own cadence: a cycle without an event. Recorded only if it decided
/// something.
async fn reflect(state: &mut EmployeeState, now: DateTime<Utc>) {
    let cause = Cause {
        tenant: state.rt.tenant.clone(),
        employee: state.id,
        event: None,
    };
    let mut rec = reasoning::Recorded::default();
    reasoning::think(
        &state.brain,
        &mut state.snapshot,
        &state.working,
        Input::Tick,
        &cause,
        now,
        &mut rec,
    );
    state.snapshot.last_cycle_at = Some(now);
    if !rec.episodes.is_empty() || next_due(state) != state.snapshot.wake_at {
        commit(state, None, rec);
    }
}

fn next_due(state: &EmployeeState) -> Option<DateTime<Utc>> {
    state
        .snapshot
        .mind
        .as_ref()
        .and_then(|m| m.next_due(&state.brain.playbook, Utc::now()))
}

/// Perceives one event: records its episode, marks it processed and persists the state.
async fn perceive(state: &mut EmployeeState, event: Event) {
    if state.suspended || state.recent.contains(&event.id) || state.replayed.contains(&event.id) {
        return;
    }
    if state.recent.len() == RECENT {
        state.recent.pop_front();
    }
    state.recent.push_back(event.id);
    state.handling.set(Some(event.id));
    let now = Utc::now();
    let delay = (now - event.received_at).to_std().unwrap_or_default();
    metrics::histogram!("empla_mailbox_delay_seconds").record(delay.as_secs_f64());
    state.last_activity = Instant::now();
    state.snapshot.events_handled += 1;
    state.snapshot.last_event_at = Some(now);
    state.snapshot.last_cycle_at = Some(now);
    let input = reasoning::input_for(&event, &mut state.snapshot);
    let episode_id = EpisodeId::new();
    let cause = Cause {
        tenant: event.tenant.clone(),
        employee: state.id,
        event: Some((event.id, episode_id)),
    };
    let mut rec = reasoning::Recorded::default();
    rec.episodes.push(Episode {
        id: episode_id,
        tenant: event.tenant,
        employee_id: state.id,
        kind: EpisodeKind::Event,
        event_id: Some(event.id),
        cause_id: None,
        channel: Some(event.source),
        summary: event.kind,
        payload: event.payload,
        at: now,
    });
    reasoning::think(
        &state.brain,
        &mut state.snapshot,
        &state.working,
        input,
        &cause,
        now,
        &mut rec,
    );
    state.snapshot.today.events += 1;
    commit(state, Some(event.id), rec);
    state.handling.set(None);
}

/// Handles every unprocessed event in the store, page by page.
async fn replay(
    myself: &ActorRef<EmployeeMsg>,
    state: &mut EmployeeState,
) -> Result<(), ActorProcessingErr> {
    // Every delivery already in the mailbox was committed before the read below, so the
    // read holds it (or it was handled before): skip them up to this barrier.
    state.replays += 1;
    state.skip_until = Some(state.replays);
    myself.send_message(EmployeeMsg::ReplayBarrier(state.replays))?;
    state.replayed = HashSet::new();
    loop {
        // What was handed to the MemoryActor must be committed before the next page is
        // read, or it would be read again.
        ractor::call!(state.memory, MemoryMsg::Flush)?;
        let page = state
            .rt
            .store
            .pending_events(&state.rt.tenant, state.id, REPLAY_PAGE)
            .await?;
        let more = page.len() as i64 >= REPLAY_PAGE;
        let before = state.snapshot.events_handled;
        for event in page {
            let id = event.id;
            perceive(state, event).await;
            state.replayed.insert(id);
        }
        if !more || state.snapshot.events_handled == before {
            return Ok(());
        }
    }
}

/// After a child restart: reload the state the store holds and replay what it has not
/// seen processed. Work lost with the failed child is redone from there, once.
async fn resync(
    myself: &ActorRef<EmployeeMsg>,
    state: &mut EmployeeState,
) -> Result<(), ActorProcessingErr> {
    state.rt.writer.flush().await;
    let snapshot = state.rt.store.snapshot(&state.rt.tenant, state.id).await?;
    state.snapshot = decode_snapshot(snapshot.as_deref(), &state.profile);
    state.recent.clear();
    state.suspended = false;
    replay(myself, state).await
}
