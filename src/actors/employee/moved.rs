//! An employee whose lease moved to another node of the cluster: it stops here at once,
//! storing and doing nothing more (its new owner resumes it from the store).

use super::{EmployeeMsg, EmployeeState};
use crate::actors::supervision::StopReason;
use ractor::ActorRef;

/// Stops the employee after its commit was fenced or a renewal did not return its lease.
pub(super) fn stop_here(myself: &ActorRef<EmployeeMsg>, state: &EmployeeState) {
    if let Some(c) = &state.rt.cluster
        && c.drop_lease(state.id)
    {
        // Found by its commit being fenced, before a renewal said so.
        tracing::warn!(employee = %state.id, "lease lost to another node: its commit was fenced (this node was cut off or paused past its lease)");
        metrics::counter!("empla_cluster_leases_lost_total").increment(1);
    }
    tracing::warn!(employee = %state.id, "lease moved to another node: stopping here without storing or doing anything more");
    metrics::counter!("empla_cluster_employees_stopped_total", "why" => "moved").increment(1);
    state
        .rt
        .directory
        .set_run(state.id, crate::actors::registry::Run::Idle);
    myself.stop(StopReason::Moved.reason());
}
