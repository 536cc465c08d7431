//! The EmployeeSupervisor: one per active employee. It starts the EmployeeActor,
//! restarts it with backoff when it fails (the new one reloads from the store), and
//! gives up — marking the employee failed — when it fails too often. When the employee
//! stops on purpose (passivated, offboarded, shut down) the supervisor stops with it.
//!
//! Nothing poisons an employee: the event it was handling when it crashed (or whose
//! record could not be stored) is counted, and one that fails it
//! `runtime.max_event_attempts` times is set aside — marked in the inbox, with an
//! episode saying so — so the employee goes on with the rest of its inbox. Operators
//! list, retry and drop what was set aside.

use super::employee::{EmployeeActor, EmployeeArgs, EmployeeMsg, Handling, Preloaded};
use crate::actors::registry::Run;
use crate::actors::runtime::Runtime;
use crate::actors::supervision::{RestartDecision, RestartTracker, StopReason};
use crate::model::{EmployeeId, Episode, EpisodeId, EpisodeKind, EventId};
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// Messages to an EmployeeSupervisor.
pub enum SupervisorMsg {
    /// Start a new EmployeeActor after a failure.
    Restart,
}

/// Start-up arguments.
pub(crate) struct SupervisorArgs {
    pub(crate) rt: Arc<Runtime>,
    pub(crate) id: EmployeeId,
    pub(crate) preloaded: Option<Preloaded>,
}

/// The EmployeeSupervisor.
pub(crate) struct EmployeeSupervisor;

/// Its state.
pub(crate) struct SupervisorState {
    rt: Arc<Runtime>,
    id: EmployeeId,
    employee: Option<ActorRef<EmployeeMsg>>,
    restarts: RestartTracker,
    handling: Arc<Handling>,
    /// Crashes while handling each event, since it was last set aside or the tree
    /// started.
    strikes: HashMap<EventId, u32>,
}

impl Actor for EmployeeSupervisor {
    type Msg = SupervisorMsg;
    type State = SupervisorState;
    type Arguments = SupervisorArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<SupervisorMsg>,
        args: SupervisorArgs,
    ) -> Result<SupervisorState, ActorProcessingErr> {
        let SupervisorArgs { rt, id, preloaded } = args;
        let handling = Arc::new(Handling::default());
        let emp_args = EmployeeArgs {
            rt: rt.clone(),
            id,
            preloaded,
            handling: handling.clone(),
        };
        // Boxed: the spawn future holds the employee's start-up arguments and state;
        // inline, it would be moved through every enclosing future.
        let (employee, _) = Box::pin(Actor::spawn_linked(
            None,
            EmployeeActor,
            emp_args,
            myself.get_cell(),
        ))
        .await?;
        let restarts = RestartTracker::new(&rt.config);
        Ok(SupervisorState {
            rt,
            id,
            employee: Some(employee),
            restarts,
            handling,
            strikes: HashMap::new(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<SupervisorMsg>,
        msg: SupervisorMsg,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            SupervisorMsg::Restart => {
                let args = EmployeeArgs {
                    rt: state.rt.clone(),
                    id: state.id,
                    preloaded: None,
                    handling: state.handling.clone(),
                };
                // Boxed: inline, this rare restart's spawn future would be part of the
                // supervisor's message loop, allocated for its whole life.
                match Box::pin(Actor::spawn_linked(
                    None,
                    EmployeeActor,
                    args,
                    myself.get_cell(),
                ))
                .await
                {
                    Ok((employee, _)) => state.employee = Some(employee),
                    Err(e) => on_failure(&myself, state, &e.to_string()),
                }
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<SupervisorMsg>,
        evt: SupervisionEvent,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        match evt {
            SupervisionEvent::ActorFailed(_, err) => {
                state.employee = None;
                let err = err.to_string();
                if let Some(event) = state.handling.take() {
                    // Boxed, like every rare path: the loop future stays small.
                    Box::pin(strike(state, event, &err)).await;
                }
                on_failure(&myself, state, &err);
            }
            SupervisionEvent::ActorTerminated(_, _, reason) => {
                state.employee = None;
                let reason = StopReason::parse(reason.as_deref()).unwrap_or(StopReason::Shutdown);
                myself.stop(reason.reason());
            }
            _ => {}
        }
        Ok(())
    }
}

/// Counts a crash against the event being handled; at the limit the event is set aside
/// (with an episode saying so) and the employee's restart count starts afresh, since it
/// no longer stands in its way.
async fn strike(state: &mut SupervisorState, event: EventId, err: &str) {
    let n = state.strikes.entry(event).or_default();
    *n += 1;
    let attempts = *n;
    if attempts < state.rt.config.max_event_attempts {
        return;
    }
    let rt = &state.rt;
    let reason = format!("it failed the employee {attempts} times; the last time: {err}");
    let stored = async {
        let Some((e, _)) = rt.store.event(&rt.tenant, event).await? else {
            return Ok(false);
        };
        // The episode first, with an id of its own for this event, so setting the event
        // aside again after a crash in between records it once.
        let episode = Episode {
            id: EpisodeId(uuid::Uuid::new_v5(
                &uuid::Uuid::NAMESPACE_OID,
                format!("set-aside:{event}").as_bytes(),
            )),
            tenant: rt.tenant.clone(),
            employee_id: state.id,
            kind: EpisodeKind::Decision,
            event_id: Some(event),
            cause_id: None,
            channel: Some(e.source.clone()),
            summary: format!("set aside: {}", e.kind),
            payload: serde_json::json!({
                "set_aside": e.kind,
                "attempts": attempts,
                "reason": reason,
                "how": "list with `empla dead-letters`, then retry or drop it",
            }),
            at: chrono::Utc::now(),
        };
        rt.store.record_episodes(vec![episode]).await?;
        rt.store
            .set_aside(&rt.tenant, state.id, event, attempts, &reason)
            .await
    }
    .await;
    match stored {
        Ok(_) => {
            tracing::error!(employee = %state.id, %event, attempts, error = %err, "an event kept failing its employee; set aside (see `empla dead-letters`), the employee goes on");
            metrics::counter!("empla_events_set_aside_total").increment(1);
            state.strikes.remove(&event);
            state.restarts = RestartTracker::new(&rt.config);
        }
        Err(e) => {
            tracing::error!(employee = %state.id, %event, error = %e, "an event kept failing its employee but could not be set aside");
        }
    }
}

fn on_failure(myself: &ActorRef<SupervisorMsg>, state: &mut SupervisorState, err: &str) {
    metrics::counter!("empla_actor_restarts_total", "actor" => "employee").increment(1);
    match state.restarts.on_failure(Instant::now()) {
        RestartDecision::RestartAfter(delay) => {
            tracing::warn!(employee = %state.id, error = %err, ?delay, "employee actor failed; restarting");
            state.rt.directory.set_run(state.id, Run::Restarting);
            myself.send_after(delay, || SupervisorMsg::Restart);
        }
        RestartDecision::GiveUp => {
            tracing::error!(employee = %state.id, error = %err, "employee failed too often; marked failed, not restarted");
            metrics::counter!("empla_employee_failures_total").increment(1);
            state.rt.directory.set_run(state.id, Run::Failed);
            myself.stop(StopReason::Failed.reason());
        }
    }
}
