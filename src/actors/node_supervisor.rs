//! The NodeSupervisor: the root of the actor tree. It runs the Registry and the
//! Scheduler and restarts either with backoff when it fails, giving up (and stopping the
//! node's tree) past the restart limit.

use super::registry::{self, Registry};
use super::runtime::Runtime;
use super::scheduler::Scheduler;
use super::supervision::{RestartDecision, RestartTracker};
use ractor::{Actor, ActorCell, ActorProcessingErr, ActorRef, SupervisionEvent};
use std::sync::Arc;
use std::time::Instant;

/// Messages to the NodeSupervisor.
pub enum NodeMsg {
    /// Restart a failed Registry.
    RestartRegistry,
    /// Restart a failed Scheduler.
    RestartScheduler,
}

/// The root supervisor: runs the Registry and the Scheduler and restarts them.
pub(crate) struct NodeSupervisor;

/// Its state.
pub(crate) struct NodeSupervisorState {
    rt: Arc<Runtime>,
    registry: ActorCell,
    scheduler: ActorCell,
    restarts: RestartTracker,
}

impl Actor for NodeSupervisor {
    type Msg = NodeMsg;
    type State = NodeSupervisorState;
    type Arguments = Arc<Runtime>;

    async fn pre_start(
        &self,
        myself: ActorRef<NodeMsg>,
        rt: Arc<Runtime>,
    ) -> Result<NodeSupervisorState, ActorProcessingErr> {
        let (registry, _) =
            Actor::spawn_linked(None, Registry, rt.clone(), myself.get_cell()).await?;
        let (scheduler, _) =
            Actor::spawn_linked(None, Scheduler, rt.clone(), myself.get_cell()).await?;
        let restarts = RestartTracker::new(&rt.config);
        Ok(NodeSupervisorState {
            rt,
            registry: registry.get_cell(),
            scheduler: scheduler.get_cell(),
            restarts,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<NodeMsg>,
        msg: NodeMsg,
        state: &mut NodeSupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            NodeMsg::RestartRegistry => {
                state.registry =
                    Actor::spawn_linked(None, Registry, state.rt.clone(), myself.get_cell())
                        .await?
                        .0
                        .get_cell();
                // Employees lost with the old registry are woken if they have work.
                for id in state
                    .rt
                    .store
                    .employees_with_pending(&state.rt.tenant)
                    .await?
                {
                    registry::wake(&state.rt, id);
                }
            }
            NodeMsg::RestartScheduler => {
                state.scheduler =
                    Actor::spawn_linked(None, Scheduler, state.rt.clone(), myself.get_cell())
                        .await?
                        .0
                        .get_cell();
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<NodeMsg>,
        evt: SupervisionEvent,
        state: &mut NodeSupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        let SupervisionEvent::ActorFailed(cell, err) = evt else {
            return Ok(());
        };
        let (name, msg): (&'static str, fn() -> NodeMsg) =
            if cell.get_id() == state.registry.get_id() {
                ("registry", || NodeMsg::RestartRegistry)
            } else if cell.get_id() == state.scheduler.get_id() {
                ("scheduler", || NodeMsg::RestartScheduler)
            } else {
                return Ok(());
            };
        metrics::counter!("empla_actor_restarts_total", "actor" => name).increment(1);
        match state.restarts.on_failure(Instant::now()) {
            RestartDecision::RestartAfter(delay) => {
                tracing::error!(actor = name, error = %err, ?delay, "node actor failed; restarting");
                myself.send_after(delay, msg);
                Ok(())
            }
            RestartDecision::GiveUp => Err(format!("{name} failed too often: {err}").into()),
        }
    }
}
