//! The EmployeeSupervisor: one per active employee. It starts the EmployeeActor,
//! restarts it with backoff when it fails (the new one reloads from the store), and
//! gives up — marking the employee failed — when it fails too often. When the employee
//! stops on purpose (passivated, offboarded, shut down) the supervisor stops with it.

use super::employee::{EmployeeActor, EmployeeArgs, EmployeeMsg, Preloaded};
use crate::actors::registry::Run;
use crate::actors::runtime::Runtime;
use crate::actors::supervision::{RestartDecision, RestartTracker, StopReason};
use crate::model::EmployeeId;
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
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
        let emp_args = EmployeeArgs {
            rt: rt.clone(),
            id,
            preloaded,
        };
        let (employee, _) =
            Actor::spawn_linked(None, EmployeeActor, emp_args, myself.get_cell()).await?;
        let restarts = RestartTracker::new(&rt.config);
        Ok(SupervisorState {
            rt,
            id,
            employee: Some(employee),
            restarts,
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
                };
                match Actor::spawn_linked(None, EmployeeActor, args, myself.get_cell()).await {
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
                on_failure(&myself, state, &err.to_string());
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
