//! This node in its cluster: joining (the store's mode, the node's id, waiting out a
//! previous run of itself), and the loops that keep its leases true — heartbeats and
//! bulk renewals, claims of orphaned employees up to a fair share, handing employees
//! back when another node joins, the once-only work under the `chores` lease, wake-ups
//! sent to and heard from the other nodes (`LISTEN/NOTIFY`, with a poll of the inbox as
//! the fallback) — and leaving at shutdown, releasing everything at once.

use super::chores::Chores;
use super::{NodeError, NodeOptions};
use crate::actors::employee::EmployeeMsg;
use crate::actors::registry;
use crate::actors::runtime::Runtime;
use crate::cluster::Cluster;
use crate::model::{EmployeeId, EventId};
use crate::store::{Store, StoreKind, StoreMode};
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

mod peers;
mod view;

pub(super) use peers::{forget_on_peers, remote_status};
pub use view::{ClusterMember, ClusterView, LeaseSummary, OwnerError};

/// The singleton lease of the once-only work.
const CHORES: &str = "chores";
/// Most employees handed back in one round when another node should take a share.
const HAND_BACK_STEP: usize = 64;
/// The longest wake-up payload sent whole (PostgreSQL allows 8000 bytes).
const NOTIFY_PAYLOAD_MAX: usize = 7900;
/// Employees adopted at once that are simply started rather than looked up first.
const FEW: usize = 8;
/// The file a generated node id is kept in, under the data directory.
const NODE_ID_FILE: &str = "node-id";

/// This node's version, as the other nodes see it.
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Joins the cluster `opts` names; a node alone records that it uses the store alone.
pub(super) async fn join(
    store: &Store,
    opts: &NodeOptions,
) -> Result<Option<Arc<Cluster>>, NodeError> {
    let cfg = &opts.cluster;
    let refused = |e: crate::store::StoreError| match e {
        crate::store::StoreError::Refused(why) => NodeError::Cluster(why),
        e => NodeError::Cluster(e.to_string()),
    };
    if !cfg.enabled {
        store.claim_mode(StoreMode::Single).await.map_err(refused)?;
        return Ok(None);
    }
    if store.kind() != StoreKind::Postgres {
        return Err(NodeError::Cluster(
            "a cluster needs the PostgreSQL store its nodes share; set `store.url` to a postgres:// URL".into(),
        ));
    }
    let secret = std::env::var(&cfg.secret_env).unwrap_or_default();
    if secret.len() < 16 {
        return Err(NodeError::Cluster(format!(
            "the cluster's secret is missing or shorter than 16 characters: put the secret every node shares in the environment variable {} (`cluster.secret_env`)",
            cfg.secret_env
        )));
    }
    if cfg.advertise.is_empty() {
        return Err(NodeError::Cluster(
            "no address for the other nodes to reach this one: set `cluster.advertise` (e.g. \"http://10.0.0.5:7700\")".into(),
        ));
    }
    let cluster_id = store
        .claim_mode(StoreMode::Cluster)
        .await
        .map_err(refused)?;
    let node_id = node_id(&cfg.node_id, &opts.data_dir)?;
    wait_out_previous_run(store, &node_id, cfg.lease_ttl).await?;
    // What a previous run of this node held is free for any node to claim (the claim
    // fences that run, should it still be about).
    store.release_leases(&node_id, None).await?;
    store
        .register_member(&node_id, &cfg.advertise, VERSION)
        .await?;
    tracing::info!(node = %node_id, address = %cfg.advertise, "joined the cluster");
    Ok(Some(Arc::new(Cluster::new(
        cfg.clone(),
        node_id,
        secret,
        cluster_id,
    ))))
}

/// The configured node id, or the one kept in the data directory (made at first start).
fn node_id(configured: &str, data_dir: &Path) -> Result<String, NodeError> {
    if !configured.is_empty() {
        return Ok(configured.to_string());
    }
    let path = data_dir.join(NODE_ID_FILE);
    if let Ok(id) = std::fs::read_to_string(&path) {
        let id = id.trim().to_string();
        if crate::cluster::node_id_ok(&id) {
            return Ok(id);
        }
        return Err(NodeError::Cluster(format!(
            "{} holds {id:?}, which is not a node id (letters, digits, - and _); fix or delete it",
            path.display()
        )));
    }
    let id = format!("node-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    std::fs::create_dir_all(data_dir)
        .and_then(|()| std::fs::write(&path, &id))
        .map_err(|e| {
            NodeError::Cluster(format!(
                "cannot keep the generated node id in {}: {e}; set `cluster.node_id`",
                path.display()
            ))
        })?;
    Ok(id)
}

/// A run of this node that was killed still looks alive until its heartbeat is a lease
/// time old; its employees are safe to take only then.
async fn wait_out_previous_run(store: &Store, id: &str, ttl: Duration) -> Result<(), NodeError> {
    let deadline = Instant::now() + ttl * 2;
    let mut said = false;
    loop {
        let members = store.members(ttl).await?;
        if !members.iter().any(|m| m.id == id && m.alive) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(NodeError::Cluster(format!(
                "node id {id:?} is in use by a live node; give this node another `cluster.node_id`"
            )));
        }
        if !said {
            tracing::warn!(
                node = id,
                "a node with this id heartbeats still (a previous run?); waiting for its lease to lapse"
            );
            said = true;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The first claim at start, before anything is replayed: this node's fair share of the
/// employees nobody holds.
pub(super) async fn first_claim(rt: &Arc<Runtime>) -> Result<(), NodeError> {
    let c = cluster(rt);
    let started = Instant::now();
    let leases = rt.store.renew_leases(&c.node_id, c.lease_ttl()).await?;
    c.renewed(started, &leases);
    let (share, mine, _) = rt.store.lease_share(&c.node_id, c.lease_ttl()).await?;
    let claimed = rt
        .store
        .claim_orphans(&c.node_id, c.lease_ttl(), share - mine)
        .await?;
    c.take(&claimed);
    metrics::counter!("empla_cluster_leases_claimed_total").increment(claimed.len() as u64);
    Ok(())
}

fn cluster(rt: &Runtime) -> Arc<Cluster> {
    rt.cluster
        .clone()
        .expect("the cluster loops run only on a node in a cluster")
}

/// Starts the loops of a node in a cluster.
pub(super) fn start(rt: Arc<Runtime>, chores: Arc<Chores>) -> Vec<JoinHandle<()>> {
    let claim_now = Arc::new(Notify::new());
    vec![
        tokio::spawn(rounds(rt.clone(), chores, claim_now.clone())),
        tokio::spawn(listen(rt.clone(), claim_now)),
        tokio::spawn(send_wakes(rt.clone())),
        tokio::spawn(relay_a2a(rt)),
    ]
}

/// Every `heartbeat_every`: heartbeat, renewal, the once-only work, handing back and
/// missed wake-ups; four times as often (and whenever a node releases employees): a
/// claim of orphans, so a dead node's employees move soon after its leases run out.
async fn rounds(rt: Arc<Runtime>, chores: Arc<Chores>, claim_now: Arc<Notify>) {
    let c = cluster(&rt);
    let every = c.config.heartbeat_every;
    let quick = (every / 4).max(Duration::from_millis(50));
    let mut last_full: Option<Instant> = None;
    loop {
        if last_full.is_none_or(|t| t.elapsed() >= every) {
            last_full = Some(Instant::now());
            full_round(&rt, &c, &chores).await;
        }
        claim(&rt, &c).await;
        // Sooner when another node's leases are about to run out (it may have died):
        // its employees are claimed a moment after they do.
        let wait = match rt.store.next_expiry_elsewhere(&c.node_id).await {
            Ok(Some(d)) if d < quick => d + Duration::from_millis(5),
            _ => quick,
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = claim_now.notified() => {}
        }
    }
}

async fn full_round(rt: &Arc<Runtime>, c: &Arc<Cluster>, chores: &Chores) {
    if let Err(e) = rt.store.heartbeat(&c.node_id).await {
        tracing::warn!(error = %e, "heartbeat not stored; trying again at the next round");
    }
    renew(rt, c).await;
    match rt
        .store
        .hold_singleton(CHORES, &c.node_id, c.lease_ttl())
        .await
    {
        Ok(Some(_)) => {
            if c.set_chores(true) {
                tracing::info!(node = %c.node_id, "this node does the cluster's once-only work now");
                chores.start(rt);
                let rt = rt.clone();
                tokio::spawn(async move {
                    match crate::actors::scheduler::catch_up(&rt).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(
                            ticks = n,
                            "fired the cron ticks missed while no node did the once-only work"
                        ),
                        Err(e) => {
                            tracing::error!(error = %e, "missed cron ticks could not be fired")
                        }
                    }
                });
            }
            if let Err(e) = rt.store.lease_the_unleased().await {
                tracing::warn!(error = %e, "employees without a lease could not be given one");
            }
        }
        Ok(None) => {
            if c.set_chores(false) {
                tracing::warn!(node = %c.node_id, "another node does the once-only work now");
                chores.stop();
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "the once-only work's lease could not be renewed");
            if c.overdue() && c.set_chores(false) {
                chores.stop();
            }
        }
    }
    hand_back(rt, c).await;
    missed_wakes(rt, c).await;
    metrics::gauge!("empla_cluster_leases_held").set(c.held_count() as f64);
}

/// Renews every lease held; stops the employees whose lease another node took.
async fn renew(rt: &Arc<Runtime>, c: &Arc<Cluster>) {
    let started = Instant::now();
    match rt.store.renew_leases(&c.node_id, c.lease_ttl()).await {
        Ok(leases) => {
            let (lost, new) = c.renewed(started, &leases);
            if !lost.is_empty() {
                tracing::warn!(
                    employees = lost.len(),
                    "leases lost to another node (this node was cut off or paused past its lease); stopping those employees here"
                );
                metrics::counter!("empla_cluster_leases_lost_total").increment(lost.len() as u64);
                for id in lost {
                    stop_moved(rt, id);
                }
            }
            adopt(rt, &new).await;
        }
        Err(e) => {
            tracing::warn!(error = %e, "leases not renewed; trying again at the next round");
            if c.overdue() {
                let all = c.lapse();
                tracing::error!(
                    employees = all.len(),
                    "leases not renewed within the lease time: this node acts for nobody until the store answers again"
                );
                metrics::counter!("empla_cluster_leases_lost_total").increment(all.len() as u64);
                for id in all {
                    stop_moved(rt, id);
                }
            }
        }
    }
}

/// Stops `id`'s tree here, if it runs, without storing anything more.
fn stop_moved(rt: &Runtime, id: EmployeeId) {
    if let Some(actor) = rt.directory.live(id) {
        let _ = actor.send_message(EmployeeMsg::Moved);
    }
}

/// Claims orphaned employees up to this node's fair share.
async fn claim(rt: &Arc<Runtime>, c: &Arc<Cluster>) {
    let (share, mine, orphaned) = match rt.store.lease_share(&c.node_id, c.lease_ttl()).await {
        Ok(s) => s,
        Err(e) => {
            tracing::debug!(error = %e, "lease counts not read");
            return;
        }
    };
    if orphaned == 0 || mine >= share {
        return;
    }
    match rt
        .store
        .claim_orphans(&c.node_id, c.lease_ttl(), share - mine)
        .await
    {
        Ok(leases) if !leases.is_empty() => {
            let new = c.take(&leases);
            tracing::info!(employees = new.len(), "claimed employees no live node held");
            metrics::counter!("empla_cluster_leases_claimed_total").increment(new.len() as u64);
            adopt(rt, &new).await;
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "orphaned employees could not be claimed"),
    }
}

/// Takes up employees that became this node's: those with work waiting (events, actions
/// to run, a due wake-up) start now, the others on their next event.
async fn adopt(rt: &Arc<Runtime>, ids: &[EmployeeId]) {
    if ids.is_empty() {
        return;
    }
    for id in ids {
        if rt.directory.status(*id).is_none() {
            registry::learn(rt, *id).await;
        }
    }
    if ids.len() <= FEW {
        // A new hire, or one woken for an event: start each (it replays what waits).
        for id in ids {
            registry::wake(rt, *id);
        }
        return;
    }
    let waiting = async {
        let mut w: HashSet<EmployeeId> = rt
            .store
            .employees_with_pending(&rt.tenant)
            .await?
            .into_iter()
            .collect();
        w.extend(rt.store.employees_with_pending_actions(&rt.tenant).await?);
        w.extend(
            rt.store
                .due_employees(&rt.tenant, chrono::Utc::now(), 100_000)
                .await?,
        );
        Ok::<_, crate::store::StoreError>(w)
    }
    .await;
    match waiting {
        Ok(w) => {
            for id in ids.iter().filter(|id| w.contains(id)) {
                registry::wake(rt, *id);
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "which adopted employees have work waiting could not be read; starting them all");
            for id in ids {
                registry::wake(rt, *id);
            }
        }
    }
}

/// When this node holds more than its share (another node joined or came back), it
/// hands idle employees back for the others to claim, a step at a time.
async fn hand_back(rt: &Arc<Runtime>, c: &Arc<Cluster>) {
    let Ok((share, mine, _)) = rt.store.lease_share(&c.node_id, c.lease_ttl()).await else {
        return;
    };
    let excess = (mine - share - 1).max(0) as usize;
    if excess == 0 {
        return;
    }
    let step = excess.min(HAND_BACK_STEP);
    let held = c.held();
    let give: Vec<EmployeeId> = held
        .iter()
        .copied()
        .filter(|id| rt.directory.is_idle(*id))
        .take(step)
        .collect();
    if give.len() < step {
        // Too few are passivated: those idle for a round passivate now, to be handed
        // back at the next.
        let idle_after = c.config.heartbeat_every;
        for actor in held
            .iter()
            .filter_map(|id| rt.directory.live(*id))
            .take(step - give.len())
        {
            let _ = actor.send_message(EmployeeMsg::IdleCheck { idle_after });
        }
    }
    if give.is_empty() {
        return;
    }
    for id in &give {
        c.drop_lease(*id);
        // Woken between the look and the drop: its commits are fenced now; stop it.
        stop_moved(rt, *id);
    }
    match rt.store.release_leases(&c.node_id, Some(&give)).await {
        Ok(n) => {
            tracing::info!(
                employees = n,
                "handed employees back for another node to take"
            );
            metrics::counter!("empla_cluster_leases_released_total").increment(n);
            let _ = rt.store.notify(&c.broadcast_channel(), "released").await;
        }
        Err(e) => {
            tracing::warn!(error = %e, "employees could not be handed back; they come back to this node at the next renewal")
        }
    }
}

/// Employees of this node with events waiting longer than two rounds: their wake-up was
/// missed (a notification lost while the listener reconnected); they look now.
async fn missed_wakes(rt: &Arc<Runtime>, c: &Arc<Cluster>) {
    let older = chrono::Utc::now()
        - chrono::Duration::from_std(c.config.heartbeat_every * 2).unwrap_or_default();
    let Ok(stale) = rt.store.owned_with_stale_events(&c.node_id, older).await else {
        return;
    };
    for id in stale.into_iter().filter(|id| c.owns(*id)) {
        if rt.directory.is_idle(id) {
            registry::wake(rt, id);
        } else {
            rt.directory.nudge(id);
        }
    }
}

/// Hears this node's wake-ups and the cluster's news.
async fn listen(rt: Arc<Runtime>, claim_now: Arc<Notify>) {
    let c = cluster(&rt);
    let mine = c.channel_of(&c.node_id);
    let all = c.broadcast_channel();
    loop {
        let mut listener = match rt.store.listener(&[&mine, &all]).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for wake-ups; the inbox is polled meanwhile");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        learn_missed(&rt).await;
        loop {
            match listener.recv().await {
                Ok(n) if n.channel() == mine => woken(&rt, &c, n.payload()).await,
                Ok(n) => heard(&rt, n.payload(), &claim_now).await,
                Err(e) => {
                    tracing::warn!(error = %e, "the wake-up listener lost its connection; reconnecting");
                    break;
                }
            }
        }
    }
}

/// Learns the hires and offboardings announced while this node was not listening (before
/// its first `LISTEN`, after the directory was loaded, or while the listener reconnected):
/// without it, an employee hired through another node then stays unknown here, and calls
/// naming it are answered 404.
async fn learn_missed(rt: &Runtime) {
    let mut hired = Vec::new();
    let mut offboarded = Vec::new();
    let read = rt
        .store
        .for_each_directory_row(&rt.tenant, |row| {
            let Ok(id) = row.id.parse::<EmployeeId>() else {
                return;
            };
            let known = rt.directory.status(id);
            if known.is_none() {
                hired.push(id);
            } else if row.status == "offboarded"
                && known != Some(crate::model::EmployeeStatus::Offboarded)
            {
                offboarded.push((id, row.email, row.chat_handle));
            }
        })
        .await;
    if let Err(e) = read {
        tracing::warn!(error = %e, "the employees hired meanwhile could not be read; they are learnt on the next announcement");
        return;
    }
    for id in hired {
        registry::learn(rt, id).await;
    }
    for (id, email, handle) in offboarded {
        rt.directory.offboard(id, &email, &handle);
    }
}

/// Another node stored an event for an employee of this node: the event (JSON), or
/// `employee event-id`, or `employee` alone (look at its inbox).
async fn woken(rt: &Arc<Runtime>, c: &Arc<Cluster>, payload: &str) {
    if payload.starts_with('{') {
        match serde_json::from_str::<crate::model::Event>(payload) {
            Ok(event) if c.owns(event.employee) => registry::deliver(rt, event),
            Ok(event) => adopt_woken(rt, c, event.employee).await,
            Err(e) => {
                tracing::warn!(error = %e, "a wake-up could not be read; the inbox poll finds its event")
            }
        }
        return;
    }
    let mut parts = payload.split(' ');
    let Some(Ok(id)) = parts.next().map(str::parse::<EmployeeId>) else {
        return;
    };
    let event = parts.next().and_then(|e| e.parse::<EventId>().ok());
    if !c.owns(id) {
        adopt_woken(rt, c, id).await;
        return;
    }
    match event {
        Some(e) => match rt.store.event(&rt.tenant, e).await {
            Ok(Some((event, false))) => registry::deliver(rt, event),
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(error = %err, "a woken event could not be read; the employee looks at its inbox instead");
                if !rt.directory.nudge(id) {
                    registry::wake(rt, id);
                }
            }
        },
        None if rt.directory.is_idle(id) => registry::wake(rt, id),
        None => {
            rt.directory.nudge(id);
        }
    }
}

/// A wake-up for an employee this node does not know it owns: hired through another
/// node and given to this one a moment ago. Adopting it replays what waits.
async fn adopt_woken(rt: &Arc<Runtime>, c: &Arc<Cluster>, id: EmployeeId) {
    if let Ok(Some(lease)) = rt.store.lease_held(&rt.tenant, id, &c.node_id).await {
        let new = c.take(&[lease]);
        adopt(rt, &new).await;
    }
}

/// News every node hears: `hired ID`, `offboarded ID`, `released`, `a2a TASK`.
async fn heard(rt: &Arc<Runtime>, payload: &str, claim_now: &Notify) {
    let (what, arg) = payload.split_once(' ').unwrap_or((payload, ""));
    match what {
        "released" => claim_now.notify_one(),
        "hired" | "offboarded" => {
            if let Ok(id) = arg.parse::<EmployeeId>() {
                match rt.store.employee(&rt.tenant, id).await {
                    Ok(Some(p)) if p.status == crate::model::EmployeeStatus::Offboarded => {
                        rt.directory.offboard(id, &p.email, &p.chat_handle);
                    }
                    Ok(Some(_)) if rt.directory.status(id).is_none() => {
                        registry::learn(rt, id).await;
                    }
                    _ => {}
                }
                // A hire may bring a schedule no employee had: this node's scheduler
                // runs it too, should this node do (or come to do) the once-only work.
                if what == "hired"
                    && let Some(s) = rt.scheduler()
                    && let Ok(crons) = rt.store.subscribed_crons(&rt.tenant).await
                {
                    let _ = s.send_message(crate::actors::scheduler::SchedulerMsg::Ensure(crons));
                }
            }
        }
        "a2a" => rt.hands.a2a.announce(arg),
        _ => {}
    }
}

/// Sends the wake-ups for employees other nodes own, many per statement.
async fn send_wakes(rt: Arc<Runtime>) {
    let c = cluster(&rt);
    let Some(mut rx) = c.take_wakes() else {
        return;
    };
    let prefix = c.channel_prefix();
    let mut batch = Vec::new();
    while rx.recv_many(&mut batch, 512).await > 0 {
        let items: Vec<(EmployeeId, String)> = batch.drain(..).map(wake_payload).collect();
        if let Err(e) = rt.store.notify_owners(&rt.tenant, &prefix, &items).await {
            tracing::warn!(error = %e, events = items.len(), "wake-ups not sent; the owners find the events when they poll their inbox");
        }
    }
}

/// What a wake-up says on the owner's channel: the event itself when it fits in a
/// notification (so the owner need not read it back), else its id; or only the
/// employee, to look at its inbox.
fn wake_payload(w: crate::cluster::Wake) -> (EmployeeId, String) {
    use crate::cluster::Wake;
    match w {
        Wake::Look(e) => (e, e.to_string()),
        Wake::Event(ev) => {
            let payload = serde_json::to_string(&ev)
                .ok()
                .filter(|j| j.len() <= NOTIFY_PAYLOAD_MAX)
                .unwrap_or_else(|| format!("{} {}", ev.employee, ev.id));
            (ev.employee, payload)
        }
    }
}

/// Tells the other nodes of every A2A task this node changed, so their subscribers
/// hear it at once.
async fn relay_a2a(rt: Arc<Runtime>) {
    let c = cluster(&rt);
    let channel = c.broadcast_channel();
    let mut changes = rt.hands.a2a.local_changes();
    loop {
        match changes.recv().await {
            Ok(task) => {
                let _ = rt.store.notify(&channel, &format!("a2a {task}")).await;
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Tells the other nodes of a hire or an offboarding (their directories follow).
pub(super) async fn announce(rt: &Runtime, what: &str, id: EmployeeId) {
    if let Some(c) = &rt.cluster
        && let Err(e) = rt
            .store
            .notify(&c.broadcast_channel(), &format!("{what} {id}"))
            .await
    {
        tracing::warn!(error = %e, "the other nodes were not told of a {what} employee; they learn of it on first use");
    }
}

/// Leaves the cluster at shutdown, after every employee stopped and its writes are
/// stored: every lease and the once-only work are released for the others to take at
/// once.
pub(super) async fn leave(rt: &Runtime) {
    let Some(c) = &rt.cluster else {
        return;
    };
    c.lapse();
    c.set_chores(false);
    let left = async {
        rt.store.release_singleton(CHORES, &c.node_id).await?;
        let n = rt.store.release_leases(&c.node_id, None).await?;
        rt.store.member_stopped(&c.node_id).await?;
        rt.store.notify(&c.broadcast_channel(), "released").await?;
        Ok::<_, crate::store::StoreError>(n)
    }
    .await;
    match left {
        Ok(n) => tracing::info!(employees = n, "left the cluster; employees handed over"),
        Err(e) => {
            tracing::warn!(error = %e, "could not release the leases; the other nodes take the employees once they run out")
        }
    }
}
