//! Calls to the other nodes of the cluster on behalf of this one: an employee's status
//! from its owner, and forgetting a person in the employees the others run.

use crate::actors::registry;
use crate::actors::runtime::Runtime;
use crate::model::EmployeeId;

/// An employee's own account of itself from the node that owns it (another node of the
/// cluster), asked over the API with the cluster's secret.
pub(crate) async fn remote_status(
    rt: &Runtime,
    id: EmployeeId,
) -> Result<crate::actors::EmployeeRuntime, registry::ReachError> {
    use registry::ReachError;
    let c = rt.cluster.as_ref().ok_or(ReachError::Elsewhere)?;
    let (owner, address) = match rt.store.owner_of(&rt.tenant, id).await {
        Ok(Some(o)) if *o.0 != *c.node_id => o,
        Ok(_) => return Err(ReachError::Elsewhere),
        Err(e) => return Err(ReachError::Unavailable(e.to_string())),
    };
    let unreachable = |e: reqwest::Error| {
        ReachError::Unavailable(format!("its node ({owner}) did not answer: {e}"))
    };
    c.http()
        .get(format!(
            "{}/api/v1/employees/{id}/status",
            address.trim_end_matches('/')
        ))
        .header(crate::cluster::SECRET_HEADER, c.secret())
        .header(crate::cluster::FORWARDED_HEADER, &*c.node_id)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(unreachable)?
        .json()
        .await
        .map_err(unreachable)
}

/// Asks every other live node to forget `person` in the employees it runs; answers how
/// many entries of their state went. A node that cannot be asked fails the whole
/// request (the person must not stay remembered there): the caller tries again.
pub(crate) async fn forget_on_peers(
    rt: &Runtime,
    person: &str,
) -> Result<u64, crate::node::MemoryError> {
    let Some(c) = &rt.cluster else {
        return Ok(0);
    };
    let peers: Vec<_> = rt
        .store
        .members(c.lease_ttl())
        .await?
        .into_iter()
        .filter(|m| m.alive && *m.id != *c.node_id)
        .collect();
    let mut state = 0;
    for peer in peers {
        let answer = c
            .http()
            .post(format!(
                "{}/api/v1/memory/forget",
                peer.address.trim_end_matches('/')
            ))
            .header(crate::cluster::SECRET_HEADER, c.secret())
            .header(crate::cluster::FORWARDED_HEADER, &*c.node_id)
            .json(&serde_json::json!({ "person": person }))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status);
        let forgotten: crate::memory::Forgotten = match answer {
            Ok(a) => a.json().await.map_err(|e| peer_failed(&peer.id, e))?,
            Err(e) => return Err(peer_failed(&peer.id, e)),
        };
        state += forgotten.state;
    }
    Ok(state)
}

fn peer_failed(peer: &str, e: reqwest::Error) -> crate::node::MemoryError {
    crate::node::MemoryError::Unavailable(format!(
        "node {peer} of the cluster could not forget in the employees it runs ({e}); what this node holds is gone — forget again to finish"
    ))
}
