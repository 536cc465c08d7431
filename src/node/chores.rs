//! The node's once-only work: what must run once however many nodes there are — memory
//! upkeep and backfill, monthly reviews, calendar and status sync, A2A push
//! notifications and follow-up of A2A sends, workflow checks, stand-ups, and the
//! scheduler's fan-out of cron ticks (gated in the scheduler itself). A node alone does
//! it all from its start; in a cluster, the node holding the `chores` lease does, and
//! another takes it over when that node dies.

use crate::actors::runtime::Runtime;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

/// The running once-only work of a node.
pub(super) struct Chores {
    memory: crate::memory::MemoryConfig,
    a2a: crate::a2a::A2aConfig,
    running: Mutex<Vec<JoinHandle<()>>>,
}

impl Chores {
    pub(super) fn new(memory: crate::memory::MemoryConfig, a2a: crate::a2a::A2aConfig) -> Self {
        Chores {
            memory,
            a2a,
            running: Mutex::new(Vec::new()),
        }
    }

    /// Starts every chore (again), unless they run.
    pub(super) fn start(&self, rt: &Arc<Runtime>) {
        let mut running = self.running.lock().expect("chores lock");
        if !running.is_empty() {
            return;
        }
        let upkeep = super::memory::upkeep(
            rt.store.clone(),
            rt.tenant.clone(),
            self.memory.clone(),
            rt.hands.mail.intake.attachments_dir.clone(),
        );
        let backfill = super::memory::embed_backfill(rt.store.clone(), rt.tenant.clone());
        let reviews = super::reviews::monthly(rt.hands.clone());
        running.push(tokio::spawn(async move {
            futures::future::join3(upkeep, backfill, reviews).await;
        }));
        running.extend(crate::capabilities::calendar::sync::start(rt.hands.clone()));
        running.push(tokio::spawn(crate::a2a::push::run(
            rt.hands.a2a.clone(),
            self.a2a.clone(),
        )));
        running.push(tokio::spawn(crate::capabilities::agents::follow::run(
            rt.hands.clone(),
        )));
        running.push(tokio::spawn(crate::lifecycle::workflows::run(
            rt.hands.clone(),
            super::WORKFLOW_ROUND,
        )));
        running.push(tokio::spawn(super::standups::run(rt.clone())));
    }

    /// Stops every chore (this node no longer does the once-only work, or it stops).
    pub(super) fn stop(&self) {
        for task in self.running.lock().expect("chores lock").drain(..) {
            task.abort();
        }
    }
}
