//! What the dashboard reads of a whole team at once: every employee's status as its
//! last stored snapshot has it. Reading never activates an employee (a team view of a
//! thousand employees must not start a thousand actor trees), and the store is shared by
//! the nodes of a cluster, so employees owned by other nodes are shown too.

use super::Node;
use crate::actors::RuntimeState;
use crate::actors::employee::{EmployeeRuntime, decode_snapshot, status_of};
use crate::model::EmployeeId;
use crate::model::{EmployeeProfile, EmployeeStatus};
use crate::store::{StoreError, WorkCounts};
use std::collections::HashMap;

/// How many employees are read per query.
const PAGE: i64 = 500;

impl Node {
    /// Every employee still employed, in hiring order, with its status as last stored
    /// (the snapshot is written with every event handled, so a running employee's is at
    /// most one event old). `state` is the runtime state this node knows of.
    pub async fn team_status(&self) -> Result<Vec<(EmployeeProfile, EmployeeRuntime)>, StoreError> {
        let mut team = Vec::new();
        let mut offset = 0;
        loop {
            let page = self
                .rt
                .store
                .employees_with_state(&self.rt.tenant, PAGE, offset)
                .await?;
            let n = page.len() as i64;
            for (profile, snapshot) in page {
                if profile.status == EmployeeStatus::Offboarded {
                    continue;
                }
                let snapshot = decode_snapshot(snapshot.as_deref(), &profile);
                let mut status = status_of(&profile, &snapshot);
                status.state = self.runtime_state(profile.id).unwrap_or(RuntimeState::Idle);
                team.push((profile, status));
            }
            if n < PAGE {
                return Ok(team);
            }
            offset += n;
        }
    }

    /// What each of `team` got done today (UTC): mail sent, meetings held, accounts
    /// researched, tasks finished, counted in the store in one query per count.
    pub async fn work_today(
        &self,
        team: &[(EmployeeProfile, EmployeeRuntime)],
    ) -> Result<HashMap<EmployeeId, WorkCounts>, StoreError> {
        let now = chrono::Utc::now();
        let midnight = now
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc();
        let addresses = team
            .iter()
            .map(|(p, _)| (p.email.to_ascii_lowercase(), p.id))
            .collect();
        self.rt
            .store
            .work_counts(&self.rt.tenant, midnight, now, &addresses)
            .await
    }
}
